#!/bin/bash
# Bulk transfer benchmark (docs/protocol.md section 4.16): write MIB MiB to the farthest chip
# of 1 and of 4 emulated boards in parallel (one s2emu process, one libs2 event loop), read it
# back, check every byte; random (incompressible) and compressible data, zlib on and off.
# Prints throughput per board and in total, and protocol efficiency = payload bytes / every
# byte of every datagram in both directions (s2 headers included, UDP/IP headers excluded).
#   bench/bulk.sh [BUILD_DIR] [MIB]     default build/host-release, 64 MiB per board
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
MIB=${2:-64}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
BENCH=$B/bench/bench_bulk
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$BENCH" "$S2_FIRMWARE"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench: needs jq" >&2; exit 1; }
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

"$S2EMU" --boards 4 --write-machine "$W/m.pb" --ready-file "$W/ready" 2>"$W/emu.log" &
PID=$!
for _ in $(seq 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
[ -f "$W/ready" ] || { echo "s2emu did not start" >&2; cat "$W/emu.log"; exit 1; }
"$S2CTL" boot --machine "$W/m.pb" --quiet
FAR=$("$S2CTL" machine show "$W/m.pb" --json | jq '.farthest_chip')
echo "== bulk: $MIB MiB per board to chip $FAR ($(nproc) cores, $(uname -m), $(basename "$B"))"
rc=0
for boards in 1 4; do
	for data in random compressible; do
		for z in zlib nozlib; do
			echo "-- $boards board(s), $data data, $z"
			"$BENCH" "$W/m.pb" "$boards" "$MIB" "$FAR" "$data" "$z" || rc=1
		done
	done
done
exit $rc
