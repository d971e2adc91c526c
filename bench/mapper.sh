#!/bin/sh
# Mapper benchmarks (docs/bench.md): wall time per stage and peak memory for the full-scale
# cortical microcircuit, the synfire chain 200 x 10,000, a network filling one 90-board rack
# and one filling 8 racks (5.25 million PEs). Uses build/host-release.
#   bench/mapper.sh [--no-image] [CASE...]   cases: microcircuit synfire rack racks8
set -eu
cd "$(dirname "$0")/.."
B=build/host-release
cmake --build --preset host-release --target bench_mapper >/dev/null
img=1
if [ "${1:-}" = "--no-image" ]; then img=0; shift; fi
cases=${*:-microcircuit synfire rack racks8}
out=$(mktemp -d "${TMPDIR:-/tmp}/s2bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
for c in $cases; do
	case $c in
	microcircuit) set -- microcircuit 1 boards:1 ;;
	synfire) set -- synfire 1 boards:4 ;;
	rack) set -- synthetic_rack 1 rack ;;
	racks8) set -- synthetic_8racks 1 racks:8 ;;
	*) echo "mapper.sh: unknown case $c" >&2; exit 2 ;;
	esac
	echo "== $c"
	if [ $img = 1 ]; then
		"$B/bench/bench_mapper" "$@" "$out/$c.s2img"
		ls -l "$out/$c.s2img" | awk '{print "image:     " $5 " bytes"}'
		rm -f "$out/$c.s2img"
	else
		"$B/bench/bench_mapper" "$@"
	fi
done
