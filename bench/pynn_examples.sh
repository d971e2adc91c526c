#!/bin/bash
# PyNN 0.10.1's own examples, unchanged, on pyNN.s2 and on pyNN.brian2 (docs/pynn.md,
# "PyNN's examples"). Prints which run on each, and the comparison table of docs/pynn.md
# (bench/pynn_examples_table.py: the run's commit, command, wall times and load; per example
# the outcome on each, mean rates, first spike times, final weights of plastic projections,
# v differences, connection counts, from bench/pynn_example_run.py's summaries).
#
#   bench/pynn_examples.sh [BUILD_DIR] [OUT_DIR]      (default build/host-release, /tmp/pynn_ex)
#
# The examples are not part of the repository: they are taken from the PyNN source at tag
# 0.10.1 into $PYNN_EXAMPLES (default /tmp/pynn-0.10.1-examples) if not there, from a git
# clone of NeuralEnsemble/PyNN named by $PYNN_GIT (a git dir), or by `git clone` if the
# network allows. Each run has a time limit ($EX_TIMEOUT, default 600 s; per simulator
# $EX_TIMEOUT_S2, $EX_TIMEOUT_BRIAN2 if set: docs/pynn.md's run used 600 and 1200).
# $SIMS (default "s2 brian2") chooses the simulators run (both in one invocation: each
# example on pyNN.s2, then on pyNN.brian2); results already in OUT_DIR are kept and tabled
# (so SIMS=s2 re-runs pyNN.s2 against an earlier pyNN.brian2 run; SIMS=none only tables);
# $ONLY (names, space-separated) runs only those examples (two invocations with disjoint
# ONLY lists may share OUT_DIR and run at once). Needs
# /usr/bin/python3 with pyNN 0.10 and Brian2 (Debian python3-pynn python3-brian).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build/host-release}
OUT=${2:-/tmp/pynn_ex}
EX=${PYNN_EXAMPLES:-/tmp/pynn-0.10.1-examples}
TMO=${EX_TIMEOUT:-600}
# Per simulator, if set: EX_TIMEOUT_S2, EX_TIMEOUT_BRIAN2 (else EX_TIMEOUT).
PY=/usr/bin/python3
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

if [ ! -f "$EX/VAbenchmarks.py" ]; then
	mkdir -p "$EX"
	if [ -n "${PYNN_GIT:-}" ]; then
		git --git-dir="$PYNN_GIT" archive 0.10.1 examples | tar -x -C "$EX" --strip-components=1
	else
		tmp=$(mktemp -d)
		git clone -q --depth 1 --branch 0.10.1 https://github.com/NeuralEnsemble/PyNN "$tmp/p" &&
			cp -r "$tmp/p/examples/." "$EX/"
		rm -rf "$tmp"
	fi
fi
[ -f "$EX/VAbenchmarks.py" ] || { echo "no PyNN 0.10.1 examples in $EX (set PYNN_GIT)"; exit 2; }
$PY -c 'import pyNN, brian2' 2>/dev/null || { echo "needs pyNN and Brian2 in $PY"; exit 2; }

export PYTHONPATH="$SRC/python:$SRC/bench${PYTHONPATH:+:$PYTHONPATH}"
export S2CTL=${S2CTL:-$BUILD/host/s2ctl} S2EMU=${S2EMU:-$BUILD/tools/s2emu}
export S2FW_RUN=${S2FW_RUN:-$BUILD/tools/s2fw-run}
export S2_FIRMWARE=${S2_FIRMWARE:-$SRC/build/cm4f/firmware/monitor/s2_monitor.bin}
mkdir -p "$OUT"
# What the run was: commit, command, start (the table cites these; appended per invocation).
if [ "${SIMS:-s2 brian2}" != none ]; then
	rev=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$SRC" diff --quiet HEAD 2>/dev/null || rev="$rev (with local changes)"
	tmos="EX_TIMEOUT=$TMO EX_TIMEOUT_S2=${EX_TIMEOUT_S2:-$TMO}"
	tmos="$tmos EX_TIMEOUT_BRIAN2=${EX_TIMEOUT_BRIAN2:-$TMO}"
	{
		echo "commit $rev"
		echo "command ${PYNN_BRIAN2_RK4:+PYNN_BRIAN2_RK4=$PYNN_BRIAN2_RK4 }SIMS=\"${SIMS:-s2 brian2}\"" \
			"$tmos${ONLY:+ ONLY=\"$ONLY\"}" \
			"bench/pynn_examples.sh $BUILD $OUT"
		echo "start $(date -u '+%Y-%m-%d %H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)"
	} >>"$OUT/run.txt"
fi

# Arguments some examples need besides the simulator (their own defaults otherwise).
args_of() {
	case $1 in
	VAbenchmarks) echo "CUBA" ;;
	*) echo "" ;;
	esac
}

# The examples that need something pyNN.s2 and Brian2 cannot have at all (NEURON-only
# models, NineML, CSA, MPI): listed, not counted in the 22.
not_counted=" nineml_brunel nineml_neuron nrn_artificial_cell simpleRandomNetwork_csa"
not_counted="$not_counted distrib_example stochastic_deterministic_comparison stochastic_synapses"
not_counted="$not_counted stochastic_tsodyksmarkram multiquantal_synapses "

for f in "$EX"/*.py; do
	name=$(basename "$f" .py)
	case " ${ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	for sim in ${SIMS:-s2 brian2}; do
		[ "$sim" = none ] && continue # SIMS=none: only the table
		d="$OUT/$name.$sim"
		rm -rf "$d"
		mkdir -p "$d"
		cp -r "$EX"/. "$d/" 2>/dev/null
		tv=EX_TIMEOUT_$(echo "$sim" | tr '[:lower:]' '[:upper:]')
		tmo=${!tv:-$TMO}
		l0=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(date +%s.%N)
		(cd "$d" && timeout "$tmo" $PY "$SRC/bench/pynn_example_run.py" "$d/summary.json" \
			"$name.py" "$sim" $(args_of "$name") >"$d/out.txt" 2>&1)
		rc=$?
		t1=$(date +%s.%N)
		# exit code, wall seconds, 1-min load average at start and end, start time (UTC)
		echo "$rc $(echo "$t1 - $t0" | bc) $l0 $(cut -d' ' -f1 /proc/loadavg)" \
			"$(date -u -d @"${t0%.*}" +%H:%M:%S)" >"$d/status"
		echo "$name $sim exit $rc ($(echo "$t1 - $t0" | bc | cut -c1-6) s)"
	done
done
if [ "${SIMS:-s2 brian2}" != none ]; then
	echo "end $(date -u '+%Y-%m-%d %H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/run.txt"
fi

# The table docs/pynn.md shows, from OUT_DIR alone (bench/pynn_examples_table.py).
echo
$PY "$SRC/bench/pynn_examples_table.py" "$OUT" "$EX" "$not_counted"
