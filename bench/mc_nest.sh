#!/bin/bash
# The cortical microcircuit in NEST itself: the INM-6 PyNEST model (INM-6/microcircuit-PD14-model,
# PyNEST/src/microcircuit) run in an EXISTING NEST installation (this script neither builds
# nor installs NEST), every neuron's spikes recorded, converted (bench/mc_nest2csv.py) and
# measured by bench/mc_stats.py exactly as s2's and mc_ref's spikes are; with S2 s2's spikes
# are measured over the same window and the two printed side by side with Table A.5 and the
# Brian 2 figure (docs/engine.md, "The cortical microcircuit"). S2 is either
#  - an s2 build directory (holding host/s2ctl and tools/s2emu): after NEST, s2 itself runs
#    the same scale for as long as NEST simulated (bench/microcircuit.sh BUILD SCALE END
#    OUT_DIR/s2 [S2_SEED]), the peer measured in the same run; or
#  - the OUT_DIR of an earlier bench/microcircuit.sh run (results.json and csv/): that stored
#    run is measured instead (it must be of the same scale and cover the window).
#   bench/mc_nest.sh NEST_PREFIX INM6_DIR SCALE SIM_MS OUT_DIR [PRESIM_MS] [S2]
# NEST_PREFIX: NEST's install prefix (its lib/python3*/site-packages holds `nest`), or "-" to
# use NEST_PYTHONPATH (or the Python path as it is). INM6_DIR: the model repository (its
# PyNEST/src/microcircuit) or that microcircuit package's parent directory. PRESIM_MS: the
# transient, simulated first and left out of the statistics (default 500, the model's).
# In the environment: THREADS (default 1: on the loaded 2-core machine one thread ran 4.5 times
# faster than two, whose OpenMP barriers wait on each other every 0.1 ms step), SEED (default
# 55, the model's rng_seed), DEADLINE (a date(1) time, e.g. "05:15": no further second of
# simulation is started that would end past it; the run then says so and is measured over
# what it simulated), SYNAPSE (static_synapse, or static_synapse_hpc: 8 bytes less per
# connection; at full scale NEST needs more than 14 GB with static_synapse), S2_SEED (the seed
# of s2's network when S2 is a build directory; default the example's).
# Exits 77 (skipped) when NEST or the model is not there.
set -eu
cd "$(dirname "$0")/.."
if [ $# -lt 5 ]; then
	echo "usage: bench/mc_nest.sh NEST_PREFIX INM6_DIR SCALE SIM_MS OUT_DIR [PRESIM_MS] [S2_BUILD_DIR | S2_RUN_DIR]" >&2
	exit 2
fi
PREFIX=$1 INM6=$2 SCALE=$3 SIM=$4 W=$5 PRESIM=${6:-500} S2DIR=${7:-}
THREADS=${THREADS:-1} SEED=${SEED:-55}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
S2BUILD=
if [ -n "$S2DIR" ] && [ -x "$S2DIR/host/s2ctl" ] && [ -x "$S2DIR/tools/s2emu" ]; then
	S2BUILD=$S2DIR
	S2DIR=$W/s2
elif [ -n "$S2DIR" ] && ! { [ -f "$S2DIR/results.json" ] && [ -d "$S2DIR/csv" ]; }; then
	echo "mc_nest: $S2DIR is neither an s2 build directory (host/s2ctl, tools/s2emu) nor a run of bench/microcircuit.sh (results.json, csv/)" >&2
	exit 2
fi
NPP=${NEST_PYTHONPATH:-}
if [ "$PREFIX" != "-" ]; then
	for d in "$PREFIX"/lib*/python3*/site-packages; do
		[ -d "$d/nest" ] && NPP=$d
	done
	[ -n "$NPP" ] || { echo "mc_nest: skipped, no NEST under $PREFIX (no lib*/python3*/site-packages/nest)"; exit 77; }
fi
if [ -d "$INM6/PyNEST/src/microcircuit" ]; then MPP=$INM6/PyNEST/src; elif [ -d "$INM6/microcircuit" ]; then MPP=$INM6; else
	echo "mc_nest: skipped, no INM-6 microcircuit model in $INM6 (neither PyNEST/src/microcircuit nor microcircuit/)"
	exit 77
fi
export PYTHONPATH="$NPP:$MPP${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$W/data"
if ! NESTVER=$("$PY" -c 'import nest; print("NESTVER", nest.__version__)' 2>"$W/import.err" | sed -n 's/^NESTVER //p') || [ -z "$NESTVER" ]; then
	echo "mc_nest: skipped, NEST cannot be imported by $PY with PYTHONPATH=$NPP: $(tail -1 "$W/import.err")"
	exit 77
fi
rm -f "$W"/data/spike_recorder-*.dat
DL=()
[ -z "${DEADLINE:-}" ] || DL=(--deadline "$(date -d "$DEADLINE" +%s)")
echo "NEST $NESTVER (PYTHONPATH $NPP), model $MPP/microcircuit: scale $SCALE, $PRESIM + $SIM ms, $THREADS threads, seed $SEED; load $(cut -d' ' -f1-3 /proc/loadavg)"
TIMEV=
[ -x /usr/bin/time ] && TIMEV="/usr/bin/time -v -o $W/time.txt"
# shellcheck disable=SC2086
$TIMEV "$PY" bench/mc_nest_run.py "$SCALE" "$PRESIM" "$SIM" "$W/data" --threads "$THREADS" --seed "$SEED" --synapse "${SYNAPSE:-static_synapse}" "${DL[@]}" >"$W/nest.log" 2>&1 || {
	echo "mc_nest: the NEST run failed (exit $?); its log, $W/nest.log, ends:" >&2
	tail -5 "$W/nest.log" >&2
	exit 1
}
tail -1 "$W/nest.log"
END=$(jq '.t_end_ms' "$W/data/run.json")
[ -z "$TIMEV" ] || grep -E "Maximum resident|Elapsed" "$W/time.txt" | sed 's/^\s*/  /'
"$PY" bench/mc_nest2csv.py "$W/data" "$W/csv" "$W/sizes.json" "$END"
"$PY" bench/mc_stats.py "$W/csv" "$W/sizes.json" --t0 "$PRESIM" --json "$W/stats.json"
IEND=${END%.*}
IPRE=${PRESIM%.*}
if [ "$((IEND - IPRE))" -ge 2000 ]; then
	E=$(seq -s, "$IPRE" 1000 "$IEND")
	"$PY" bench/mc_stats.py "$W/csv" "$W/sizes.json" --windows "$E" --json "$W/windows.json"
fi
[ -n "$S2DIR" ] || exit 0
if [ -n "$S2BUILD" ]; then
	# s2 now, the same scale for the same biological time as NEST simulated
	echo "s2: bench/microcircuit.sh $S2BUILD $SCALE ${END%.*} $S2DIR ${S2_SEED:-}; load $(cut -d' ' -f1-3 /proc/loadavg)"
	# shellcheck disable=SC2086
	bench/microcircuit.sh "$S2BUILD" "$SCALE" "${END%.*}" "$S2DIR" ${S2_SEED:-} >"$W/s2.log" 2>&1 || {
		echo "mc_nest: s2's run failed; its log, $W/s2.log, ends:" >&2
		tail -5 "$W/s2.log" >&2
		exit 1
	}
	sed -n '1,2p' "$W/s2.log"
fi
# s2 beside NEST over the window both cover (s2's run from bench/microcircuit.sh).
S2END=$(jq '.steps * .dt_ms' "$S2DIR/results.json")
if [ "$(jq -c '[.populations[].size]' "$S2DIR/results.json")" != "$(jq -c '[.populations[].size]' "$W/sizes.json")" ]; then
	echo "mc_nest: $S2DIR is s2's run of another scale (population sizes differ); not compared" >&2
	exit 1
fi
C1=$("$PY" -c "print(f'{min($S2END, $END):g}')")
C0=$PRESIM
echo "common window $C0-$C1 ms: NEST, then s2"
"$PY" bench/mc_stats.py "$W/csv" "$W/sizes.json" --t0 "$C0" --t1 "$C1" --json "$W/stats_common.json" >/dev/null
"$PY" bench/mc_stats.py "$S2DIR/csv" "$S2DIR/results.json" --t0 "$C0" --t1 "$C1" --json "$W/s2_stats_common.json" >/dev/null
"$PY" - "$W/stats_common.json" "$W/s2_stats_common.json" <<'EOF'
import json, sys


def r(x, y):
    return x / y if y else float("nan")  # a silent population (small scale, short run)


a = json.load(open(sys.argv[1]))["populations"]
b = json.load(open(sys.argv[2]))["populations"]
print(f"{'pop':5} {'rate NEST':>9} {'s2':>7} {'s2/NEST':>7} | {'sync NEST':>9} {'s2':>5} "
      f"{'s2/NEST':>7} {'A.5':>4} {'NEST/A.5':>8} {'s2/A.5':>6} {'Brian2':>6} {'NEST/Br':>7} "
      f"{'s2/Br':>5} | {'CV NEST':>7} {'s2':>5}")
for x, y in zip(a, b):
    p, q = x["synchrony_published"], x["synchrony_rescience"]
    print(f"{x['population']:5} {x['rate_hz']:9.3f} {y['rate_hz']:7.3f} "
          f"{r(y['rate_hz'], x['rate_hz']):7.2f} | {x['synchrony']:9.2f} "
          f"{y['synchrony']:5.2f} {r(y['synchrony'], x['synchrony']):7.2f} {p:4.1f} "
          f"{x['synchrony'] / p:8.2f} {y['synchrony'] / p:6.2f} {q:6.2f} "
          f"{x['synchrony'] / q:7.2f} {y['synchrony'] / q:5.2f} | {x['cv_isi']:7.3f} "
          f"{y['cv_isi']:5.3f}")
EOF
