#!/bin/sh
# Build the 8-rack machine model (5.25 million PEs) and print build time and peak memory.
#   bench/machine_model.sh [RACKS]     uses build/host-release (built by tools/setup.sh)
set -eu
cd "$(dirname "$0")/.."
B=build/host-release
[ -x "$B/bench/bench_machine" ] || cmake --build --preset host-release --target bench_machine
"$B/bench/bench_machine" "${1:-8}"
