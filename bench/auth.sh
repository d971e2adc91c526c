#!/bin/bash
# What authentication costs (docs/security.md, docs/bench.md "Authentication"):
#  1. bulk loading throughput with and without a key: MIB MiB of random data written to the
#     farthest chip of one board and read back (bench_bulk, zlib off), REPS runs of each,
#     alternated, on an s2emu without a key and one with --key-file; medians and their ratio;
#  2. the board's cost per datagram on the Cortex-M4F build: instructions of s2_guard_check
#     (tag, key, replay window) and s2_guard_seal (the reply's tag) per body size, under
#     qemu-system-arm -icount shift=0 (1 instruction = 1 ns), SysTick calibrated.
#   bench/auth.sh [HOST_BUILD] [MIB] [REPS]   default build/host-release 16 5
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
MIB=${2:-16}
REPS=${3:-5}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
BENCH=$B/bench/bench_bulk
ELF=build/cm4f-qemu/firmware/monitor/fw_guard_bench.elf
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$BENCH" "$S2_FIRMWARE"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench: needs jq" >&2; exit 1; }
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT

start() { # start NAME ARGS...
	"$S2EMU" --boards 1 --write-machine "$W/$1.pb" --ready-file "$W/$1.ready" --announce none \
		"${@:2}" 2>"$W/$1.log" &
	PIDS+=($!)
	for _ in $(seq 200); do [ -f "$W/$1.ready" ] && return 0; sleep 0.05; done
	echo "s2emu did not start" >&2
	cat "$W/$1.log" >&2
	exit 1
}
"$S2CTL" key init "$W/m.key" --quiet
start plain
start keyed --key-file "$W/m.key"
"$S2CTL" boot --machine "$W/plain.pb" --quiet
"$S2CTL" boot --machine "$W/keyed.pb" --key "$W/m.key" --quiet
FAR=$("$S2CTL" machine show "$W/plain.pb" --json | jq '.farthest_chip')
echo "== bulk, 1 board, $MIB MiB random data to chip $FAR, zlib off, $REPS runs each ($(nproc) cores, $(basename "$B"))"
run() { # run NAME [KEYFILE]: prints "write_MiBps read_MiBps"
	S2_KEY_FILE=${2:-} "$BENCH" "$W/$1.pb" 1 "$MIB" "$FAR" random nozlib >"$W/out" || {
		cat "$W/out" >&2
		exit 1
	}
	grep -q "byte-exact" "$W/out" || { cat "$W/out" >&2; exit 1; }
	awk '/total/ { gsub(/=/, ""); for (i = 1; i <= NF; i++) if ($i == "MiB/s") r[n++] = $(i - 1) }
	     END { print r[0], r[1] }' "$W/out"
}
: >"$W/plain.txt"
: >"$W/keyed.txt"
for _ in $(seq "$REPS"); do
	run plain >>"$W/plain.txt"
	run keyed "$W/m.key" >>"$W/keyed.txt"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pw=$(cut -d' ' -f1 "$W/plain.txt" | median)
pr=$(cut -d' ' -f2 "$W/plain.txt" | median)
kw=$(cut -d' ' -f1 "$W/keyed.txt" | median)
kr=$(cut -d' ' -f2 "$W/keyed.txt" | median)
echo "runs without a key (write read, MiB/s): $(tr '\n' ';' <"$W/plain.txt")"
echo "runs with a key    (write read, MiB/s): $(tr '\n' ';' <"$W/keyed.txt")"
awk -v pw="$pw" -v pr="$pr" -v kw="$kw" -v kr="$kr" 'BEGIN {
	printf "write: %.1f MiB/s without a key, %.1f MiB/s with one: ratio %.3f\n", pw, kw, kw / pw
	printf "read:  %.1f MiB/s without a key, %.1f MiB/s with one: ratio %.3f\n", pr, kr, kr / pr }'

if [ -e "$ELF" ]; then
	echo "== the board's guard, Cortex-M4F build under qemu-system-arm -icount shift=0"
	sh cmake/qemu-run.sh "$ELF" -icount shift=0 | awk '
		/^calibration/ { per_tick = $3 / $5 }
		/^guard state/ { printf "guard state: %d bytes of RAM (8 keys x 16 sessions)\n", $4 }
		/^G / { n = $4; printf "body %4d bytes (datagram %4d): check %6.0f instructions, seal %6.0f instructions\n", $2, 40 + $2 + 16, $6 * per_tick / n, $8 * per_tick / n }'
else
	echo "(no $ELF: build the cm4f-qemu preset for the per-datagram figures)"
fi
