#!/bin/bash
# s2emu at scale (issue 24): the full-scale cortical microcircuit on s2emu at 1 and 2 step
# threads (--threads), wall seconds per biological second and the speed-up; the results must be
# the same file for both. Beside it, Vogels-Abbott (CUBA, 4000 neurons, 1 s) as one PyNN script
# on pyNN.s2 (s2emu) and on pyNN.brian2, wall per biological second as a ratio; and the memory
# of emulated PEs, idle (a 90-board rack, booted, nothing loaded) and loaded (the microcircuit).
#   bench/emu_scale.sh [BUILD_DIR] [DURATION_MS] [SCALE]
# default build/host-release 100 1.0. The microcircuit takes minutes per biological second on
# one core: DURATION_MS of it is run and the wall scaled to 1 s (said so in the output). The
# network is deployed first (timed apart), then run; with perf installed, the emulator's CPU
# time during the run is printed too (task-clock: on a shared host, less sensitive to the
# load than the wall).
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
DUR=${2:-100}
SCALE=${3:-1.0}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
W=$(mktemp -d)
EMU=
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
echo "== $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)," \
	"$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# emu NAME ARGS...: start s2emu, wait until ready; EMU is its pid.
emu() {
	local name=$1
	shift
	"$S2EMU" --write-machine "$W/$name.pb" --ready-file "$W/$name.ready" \
		--control-file "$W/$name.ctl" --announce none "$@" 2>"$W/$name.log" &
	EMU=$!
	for _ in $(seq 600); do [ -f "$W/$name.ready" ] && return 0; sleep 0.05; done
	echo "s2emu did not start"; cat "$W/$name.log"; exit 1
}
emu_stop() {
	"$S2EMU" ctl "$W/$1.ctl" quit >/dev/null || true
	wait "$EMU" 2>/dev/null || true
	EMU=
}
rss_kib() { awk "/$2/ {print \$2}" "/proc/$1/status"; }

# Idle: a rack of 90 boards, booted, nothing loaded.
emu rack --boards 90
base=$(rss_kib "$EMU" VmRSS)
"$S2CTL" boot --machine "$W/rack.pb" --quiet >/dev/null
idle=$(rss_kib "$EMU" VmRSS)
pes=$((90 * 48 * 152))
echo "idle: 90 boards, $pes PEs booted: RSS $((idle / 1024)) MiB ($((base / 1024)) MiB before boot);" \
	"$(awk -v r="$idle" -v n="$pes" 'BEGIN {printf "%.0f", r * 1024 / n}') bytes per emulated PE"
emu_stop rack

# The microcircuit at 1 and 2 threads.
"$S2CTL" net example microcircuit --scale "$SCALE" -o "$W/mc.pb" --json >"$W/net.json"
declare -A WALL
for t in 1 2; do
	emu "mc$t" --boards 1 --threads "$t"
	before=$(rss_kib "$EMU" VmRSS)
	[ "$t" = 1 ] && "$S2CTL" compile "$W/mc.pb" --machine "$W/mc$t.pb" -o "$W/mc.s2img" \
		--json >"$W/c.json"
	"$S2CTL" deploy "$W/mc.s2img" --machine "$W/mc$t.pb" --duration "$DUR" --json >"$W/d$t.json"
	PERF=
	if command -v perf >/dev/null; then
		perf stat -e task-clock -x, -p "$EMU" -o "$W/cpu$t" 2>/dev/null &
		PERF=$!
		sleep 0.2
	fi
	"$S2CTL" run "$W/mc.s2img" --deployed --machine "$W/mc$t.pb" --duration "$DUR" \
		-o "$W/mc$t.s2res" --json >"$W/r$t.json"
	cpu=
	if [ -n "$PERF" ]; then
		kill -INT "$PERF"
		wait "$PERF" 2>/dev/null || true
		cpu=$(awk -F, '/task-clock/ {print $1 / 1000}' "$W/cpu$t")
	fi
	hwm=$(rss_kib "$EMU" VmHWM)
	WALL[$t]=$(jq -r .run_seconds "$W/r$t.json")
	jq -r --arg t "$t" --arg d "$DUR" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
		--arg dep "$(jq .seconds "$W/d$t.json")" '
		"microcircuit, \($t) thread(s): \($d) ms in \(.run_seconds*1000|floor/1000) s wall " +
		"= \(.run_seconds*1000/($d|tonumber)|floor) s per biological second (scaled from " +
		"\($d) ms); deploy \($dep|tonumber|floor) s; \(.spikes) spikes, " +
		"\(.synaptic_events) synaptic events, dropped \(.packets_dropped); load \($load)"' \
		"$W/r$t.json"
	[ -n "$cpu" ] && awk -v c="$cpu" -v d="$DUR" -v t="$t" 'BEGIN {printf "microcircuit, %s " \
		"thread(s): s2emu CPU time (perf task-clock) %.2f s = %.0f CPU-s per biological " \
		"second\n", t, c, c * 1000 / d}'
	if [ "$t" = 1 ]; then
		loaded=$(jq .pes "$W/c.json")
		echo "loaded: $loaded PEs ($(jq -r '"\(.neurons) neurons, \(.synapses|floor) synapses"' \
			"$W/net.json")): peak RSS $((hwm / 1024)) MiB," \
			"$(((hwm - before) * 1024 / loaded)) bytes per loaded PE (its engine state and its rows in DRAM)"
	fi
	emu_stop "mc$t"
done
echo "microcircuit: speed-up 2 threads / 1 thread:" \
	"$(awk -v a="${WALL[1]}" -v b="${WALL[2]}" 'BEGIN {printf "%.2f", a / b}')"
if cmp -s "$W/mc1.s2res" "$W/mc2.s2res"; then
	echo "microcircuit: results of 1 and 2 threads identical (byte for byte)"
else
	echo "microcircuit: results of 1 and 2 threads DIFFER"
	exit 1
fi

# Vogels-Abbott: one PyNN script, pyNN.s2 on s2emu against pyNN.brian2.
S2CTL=$S2CTL S2EMU=$S2EMU /usr/bin/python3 - "$PWD" <<'PY'
import os, sys, time
root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "tests", "pynn"))
sys.argv = sys.argv[:1]
import test_pynn_s2 as t
walls = {}
for name, sim in (("pyNN.brian2", t.ref), ("pyNN.s2 (s2emu)", t.s2)):
    t.brian2.seed(1)
    t0 = time.time()
    e, i = t.sc.vogels_abbott(sim, "CUBA", n=4000, duration=1000.0, seed=1)
    walls[name] = time.time() - t0
    print("Vogels-Abbott CUBA 4000 neurons, 1 s: %s %.1f s wall per biological second "
          "(whole script: build, run, read back); rates E %.2f Hz, I %.2f Hz"
          % (name, walls[name], e, i), flush=True)
print("Vogels-Abbott: s2emu / brian2 wall ratio %.2f"
      % (walls["pyNN.s2 (s2emu)"] / walls["pyNN.brian2"]))
PY
