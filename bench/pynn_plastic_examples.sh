#!/bin/bash
# PyNN 0.10.1's simple_STDP example on pyNN.s2 (and pyNN.brian2 with SIMS="s2 brian2"), made
# runnable by two changes that it offers or that pyNN.brian2 needs: timestep 0.1 ms instead of
# 0.01 (its 3 ms delay is then 30 steps, within the engine's 64) and
# --dendritic-delay-fraction 0 (pyNN.brian2's only choice); then the 60 final weights of each
# against a NumPy model of the rule given that simulator's recorded post spikes
# (bench/pynn_stdp_ref.py). docs/pynn.md "PyNN's examples".
#   bench/pynn_plastic_examples.sh [BUILD_DIR] [OUT_DIR]   (default build/host-release, /tmp/pynn_pl)
# Examples from $PYNN_EXAMPLES (default /tmp/pynn-0.10.1-examples, as bench/pynn_examples.sh).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build/host-release}
OUT=${2:-/tmp/pynn_pl}
EX=${PYNN_EXAMPLES:-/tmp/pynn-0.10.1-examples}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
[ -f "$EX/simple_STDP.py" ] || { echo "no PyNN 0.10.1 examples in $EX (run bench/pynn_examples.sh once, or set PYNN_EXAMPLES)"; exit 2; }
export PYTHONPATH="$SRC/python${PYTHONPATH:+:$PYTHONPATH}"
export S2CTL=${S2CTL:-$BUILD/host/s2ctl} S2EMU=${S2EMU:-$BUILD/tools/s2emu}
export S2FW_RUN=${S2FW_RUN:-$BUILD/tools/s2fw-run}
export S2_FIRMWARE=${S2_FIRMWARE:-$SRC/build/cm4f/firmware/monitor/s2_monitor.bin}
mkdir -p "$OUT"
sed 's/sim.setup(timestep=0.01, min_delay=delay, max_delay=delay)/sim.setup(timestep=0.1, min_delay=delay, max_delay=delay)/' \
	"$EX/simple_STDP.py" >"$OUT/simple_STDP_dt01.py"
echo "== $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for sim in ${SIMS:-s2}; do
	t0=$(date +%s.%N)
	(cd "$OUT" && timeout "${EX_TIMEOUT:-1800}" /usr/bin/python3 simple_STDP_dt01.py "$sim" \
		--dendritic-delay-fraction 0 >"$sim.out" 2>"$sim.err")
	rc=$?
	t1=$(date +%s.%N)
	printf '%s: exit %d, %.1f s; ' "$sim" "$rc" "$(echo "$t1 - $t0" | bc)"
	[ "$rc" -eq 0 ] || { echo "failed: $(tail -1 "$OUT/$sim.err")"; continue; }
	shift_ms=0.1
	[ "$sim" = s2 ] || shift_ms=0
	/usr/bin/python3 "$SRC/bench/pynn_stdp_ref.py" "$OUT/$sim.out" 0.1 "$shift_ms"
	grep -m3 'RuntimeWarning: pyNN.s2' "$OUT/$sim.err" | sed 's/.*RuntimeWarning: /  warned: /'
done
