#!/bin/bash
# Boot benchmark: boot time of 1, 4 and 90 emulated boards (the 90-board rack served by two
# s2emu processes, 45 boards each), emulator memory, and DRAM write/read throughput per
# board over loopback (to the Ethernet chip and to the farthest chip).
#   bench/boot.sh [BUILD_DIR] [MIB]     default build/host-release, 64 MiB per transfer
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
MIB=${2:-64}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$S2_FIRMWARE"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench: needs jq" >&2; exit 1; }
W=$(mktemp -d)
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
trap 'stop; rm -rf "$W"' EXIT

now() { date +%s.%N; }
wait_ready() { for _ in $(seq 600); do [ -f "$1" ] && return 0; sleep 0.05; done; echo "s2emu did not start" >&2; exit 1; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

boot_one() { # NAME: boot $W/NAME.pb, print a line
	local t0 t1
	t0=$(now)
	"$S2CTL" boot --machine "$W/$1.pb" --json >"$W/$1.boot.json"
	t1=$(now)
	jq -r --arg wall "$(awk "BEGIN { print $t1 - $t0 }")" \
		'"boot \(.boards|length) board(s): \(.seconds*10000|floor/10) ms in s2ctl (image+flood \(.boot_seconds*10000|floor/10) ms, survey \(.survey_seconds*10000|floor/10) ms), \($wall|tonumber*1000|floor) ms wall with process start; chips \(.chips_alive)/\(.chips_expected), PEs \(.pes_alive)/\(.pes_expected)"' \
		"$W/$1.boot.json"
}

echo "== boot ($(nproc) cores, $(uname -m))"
for n in 1 4; do
	"$S2EMU" --boards $n --write-machine "$W/b$n.pb" --ready-file "$W/b$n.ready" 2>/dev/null &
	PIDS+=($!)
	wait_ready "$W/b$n.ready"
	boot_one b$n
	echo "   s2emu peak RSS after boot: $(hwm_mib "${PIDS[-1]}") MiB"
done
EMU1=${PIDS[0]}

# The rack: one description, two processes, on 180 consecutive ports from a random base; a
# base whose ports are partly taken (by other tests running at the same time) is retried.
rack_up=0
for _try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	"$S2CTL" machine generate --rack --base-port $port -o "$W/rack.pb" --quiet
	rm -f "$W/r0.ready" "$W/r1.ready"
	"$S2EMU" --machine "$W/rack.pb" --serve 0-44 --ready-file "$W/r0.ready" 2>/dev/null &
	PIDS+=($!)
	"$S2EMU" --machine "$W/rack.pb" --serve 45-89 --ready-file "$W/r1.ready" 2>/dev/null &
	PIDS+=($!)
	for _ in $(seq 400); do
		[ -f "$W/r0.ready" ] && [ -f "$W/r1.ready" ] && { rack_up=1; break; }
		kill -0 "${PIDS[-1]}" 2>/dev/null && kill -0 "${PIDS[-2]}" 2>/dev/null || break
		sleep 0.05
	done
	[ $rack_up = 1 ] && break
	kill "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null || true
	wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null || true
	unset 'PIDS[-1]' 'PIDS[-1]'
done
[ $rack_up = 1 ] || { echo "s2emu did not start (rack, 5 port ranges tried)" >&2; exit 1; }
boot_one rack
echo "   s2emu peak RSS after boot: $(hwm_mib "${PIDS[-2]}") + $(hwm_mib "${PIDS[-1]}") MiB"
kill "${PIDS[-1]}" "${PIDS[-2]}"
unset 'PIDS[-1]' 'PIDS[-1]'

echo "== DRAM throughput, one board, $MIB MiB per transfer"
head -c $((MIB << 20)) /dev/urandom >"$W/data.bin"
far=$("$S2CTL" machine show "$W/b1.pb" --json | jq '.farthest_chip')
hops=$("$S2CTL" machine show "$W/b1.pb" --json | jq '.farthest_hops')
for chip in 0 "$far"; do
	"$S2CTL" mem write --machine "$W/b1.pb" --board 0 --chip "$chip" 0x10000000 --file "$W/data.bin" --json >"$W/w.json"
	"$S2CTL" mem read --machine "$W/b1.pb" --board 0 --chip "$chip" 0x10000000 $((MIB << 20)) -o "$W/back.bin" --json >"$W/r.json"
	cmp -s "$W/data.bin" "$W/back.bin" && same=byte-exact || same=DIFFERENT
	label="chip $chip"
	[ "$chip" = "$far" ] && label="chip $chip ($hops hops)"
	jq -rs --arg l "$label" --arg s "$same" \
		'"\($l): write \(.[0].mib_per_s*10|floor/10) MiB/s, read \(.[1].mib_per_s*10|floor/10) MiB/s, \(.[0].datagrams_sent + .[1].datagrams_sent) datagrams, \(.[0].retransmits + .[1].retransmits) retransmits, read-back \($s)"' \
		"$W/w.json" "$W/r.json"
done
echo "   s2emu peak RSS after $MIB MiB x 2 chips: $(hwm_mib "$EMU1") MiB"
