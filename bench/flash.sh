#!/bin/bash
# Flash benchmark: write a 1 MiB flash image (incompressible, and compressible) to 1 and to
# 16 emulated boards (flash files in a temporary directory), with read-back verification
# and the commit; print time and effective throughput.
#   bench/flash.sh [BUILD_DIR] [KIB]     default build/host-release, 1024 KiB
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
KIB=${2:-1024}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
MON=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$MON"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT

extra=$((KIB * 1024 - 64 - $(stat -c %s "$MON")))
head -c "$extra" /dev/urandom >"$W/random.bin"
# Compressible: repeated text, like firmware tables and strings.
yes "s2 neuron engine lookup table 0123456789abcdef" | head -c "$extra" >"$W/text.bin"
"$S2CTL" flash pack "$MON" --version bench-random --extra "$W/random.bin" -o "$W/random.s2fi" --quiet
"$S2CTL" flash pack "$MON" --version bench-text --extra "$W/text.bin" -o "$W/text.s2fi" --quiet

echo "== flash, $KIB KiB image ($(nproc) cores); time includes read-back and commit"
for n in 1 16; do
	mkdir -p "$W/f$n"
	"$S2EMU" --boards $n --flash-dir "$W/f$n" --write-machine "$W/m$n.pb" --ready-file "$W/r$n" 2>/dev/null &
	PIDS+=($!)
	for _ in $(seq 200); do [ -f "$W/r$n" ] && break; sleep 0.05; done
	for kind in random text; do
		"$S2CTL" flash "$W/$kind.s2fi" --machine "$W/m$n.pb" --json >"$W/out.json"
		jq -r --arg n $n --arg k $kind '"\($n) board(s), \($k): \(.seconds*1000|floor) ms, \(.mib_per_s*10|floor/10) MiB/s of image in total (\(.mib_per_s/($n|tonumber)*10|floor/10) MiB/s per board); \(.blocks) blocks, \(.wire_bytes) bytes on the wire per board; retransmits \([.boards[].transport.retransmits]|add); \([.boards[]|select(.ok)]|length)/\($n) boards ok"' "$W/out.json"
	done
	kill "${PIDS[-1]}"
done
