#!/bin/bash
# Live-stream benchmark (docs/bench.md "Live streams"): the decoder's speed on one core; the
# highest rate of spikes per second one subscriber (s2_stream_listen on one core) takes over
# loopback UDP with zero loss, found by bisecting the offered rate in trials of SECONDS; and the
# latency from an emulated PE's spike to the host callback, with a network running in real
# time on a 1-board s2emu (median, 99th percentile, max).
#   bench/stream.sh [BUILD_DIR] [SECONDS] [NETWORK] [SCALE]
#     default build/host-release, 4 s trials, vogels_abbott at scales 0.25 and 1 (SCALE may list
#     several) for 2 s of biological time each
#   bench/stream.sh BUILD_DIR smoke
#     ctest smoke: short runs at a low rate; fails only if a spike is lost (no timing checks)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
SECONDS_PER_TRIAL=${2:-4}
NET=${3:-vogels_abbott}
SCALE=${4:-0.25 1}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
BENCH=$B/bench/bench_stream
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$BENCH" "$S2_FIRMWARE"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
W=$(mktemp -d)
EMU=
SUB=
trap '[ -n "$SUB" ] && kill "$SUB" 2>/dev/null; [ -n "$EMU" ] && kill "$EMU" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

if [ "$SECONDS_PER_TRIAL" = smoke ]; then
	DECODE_S=0.3
	TRIAL=(--rate 2e6 --seconds 1)
	RUN_MS=300
	SCALE=0.25
else
	DECODE_S=3
	TRIAL=(--search 7 --seconds "$SECONDS_PER_TRIAL")
	RUN_MS=2000
fi

echo "== live streams ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -m), $(basename "$B"))"
"$BENCH" decode --seconds "$DECODE_S"
echo
"$BENCH" throughput "${TRIAL[@]}"
echo
if [ "$SECONDS_PER_TRIAL" != smoke ]; then
	# The host's part of the latency: one datagram every 100 us (a board sending once per
	# 0.1 ms step), its age when the callback has it.
	echo "-- host path alone: one datagram at a time, 10,000 per second"
	"$BENCH" throughput --rate 6.763e6 --burst 1 --seconds 2 | grep -E '^ +[0-9]'
	echo
fi

# Latency: subscribe, then run the network in real time (one step per dt of wall-clock time).
"$S2EMU" --boards 1 --write-machine "$W/m.pb" --ready-file "$W/emu.ready" 2>"$W/emu.log" &
EMU=$!
for _ in $(seq 200); do [ -f "$W/emu.ready" ] && break; sleep 0.05; done
[ -f "$W/emu.ready" ] || { echo "s2emu did not start" >&2; cat "$W/emu.log" >&2; exit 1; }
"$S2CTL" boot --machine "$W/m.pb" --quiet >/dev/null
rc=0
for sc in $SCALE; do
	"$S2CTL" net example "$NET" --scale "$sc" -o "$W/net.pb" --quiet
	"$S2CTL" compile "$W/net.pb" --machine "$W/m.pb" -o "$W/net.s2img" --quiet
	rm -f "$W/sub.ready"
	"$BENCH" latency "$W/m.pb" "$W/net.s2img" --ready-file "$W/sub.ready" --max-seconds 120 \
		>"$W/lat.txt" &
	SUB=$!
	for _ in $(seq 200); do [ -f "$W/sub.ready" ] && break; sleep 0.05; done
	[ -f "$W/sub.ready" ] || { echo "bench_stream latency did not subscribe" >&2; exit 1; }
	echo "-- $NET (scale $sc), $RUN_MS ms of biological time, s2ctl run --realtime"
	"$S2CTL" run "$W/net.s2img" --machine "$W/m.pb" --duration "$RUN_MS" --realtime \
		-o "$W/r.s2res" >"$W/run.txt" 2>"$W/run.err" || { cat "$W/run.err" >&2; exit 1; }
	head -1 "$W/run.txt"
	wait "$SUB" || rc=1
	SUB=
	cat "$W/lat.txt"
done
exit $rc
