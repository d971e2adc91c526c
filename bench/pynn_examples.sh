#!/bin/bash
# PyNN 0.10.1's own examples, unchanged, on pyNN.s2 and on pyNN.brian2 (docs/pynn.md,
# "PyNN's examples"). Prints which run on each, and a comparison table (mean rates, first
# spike times, final weights of plastic projections) from bench/pynn_example_run.py.
#
#   bench/pynn_examples.sh [BUILD_DIR] [OUT_DIR]      (default build/host-release, /tmp/pynn_ex)
#
# The examples are not part of the repository: they are taken from the PyNN source at tag
# 0.10.1 into $PYNN_EXAMPLES (default /tmp/pynn-0.10.1-examples) if not there, from a git
# clone of NeuralEnsemble/PyNN named by $PYNN_GIT (a git dir), or by `git clone` if the
# network allows. Each run has a time limit ($EX_TIMEOUT, default 600 s). $SIMS (default
# "s2 brian2") chooses the simulators run; results already in OUT_DIR are kept and tabled
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
	{
		echo "commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
		echo "command SIMS=\"${SIMS:-s2 brian2}\" EX_TIMEOUT=$TMO EX_TIMEOUT_S2=${EX_TIMEOUT_S2:-$TMO} EX_TIMEOUT_BRIAN2=${EX_TIMEOUT_BRIAN2:-$TMO}${ONLY:+ ONLY=\"$ONLY\"} bench/pynn_examples.sh $BUILD $OUT"
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
not_counted=" nineml_brunel nineml_neuron nrn_artificial_cell simpleRandomNetwork_csa distrib_example stochastic_deterministic_comparison stochastic_synapses stochastic_tsodyksmarkram multiquantal_synapses "

for f in "$EX"/*.py; do
	name=$(basename "$f" .py)
	case " ${ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
	for sim in ${SIMS:-s2 brian2}; do
		[ "$sim" = none ] && continue # SIMS=none: only the table
		d="$OUT/$name.$sim"
		rm -rf "$d"
		mkdir -p "$d"
		cp -r "$EX"/. "$d/" 2>/dev/null
		tv=EX_TIMEOUT_$(echo "$sim" | tr a-z A-Z)
		tmo=${!tv:-$TMO}
		l0=$(cut -d' ' -f1 /proc/loadavg)
		t0=$(date +%s.%N)
		(cd "$d" && timeout "$tmo" $PY "$SRC/bench/pynn_example_run.py" "$d/summary.json" \
			"$name.py" "$sim" $(args_of "$name") >"$d/out.txt" 2>&1)
		rc=$?
		t1=$(date +%s.%N)
		# exit code, wall seconds, 1-min load average at start and end, start time (UTC)
		echo "$rc $(echo "$t1 - $t0" | bc) $l0 $(cut -d' ' -f1 /proc/loadavg) $(date -u -d @"${t0%.*}" +%H:%M:%S)" >"$d/status"
		echo "$name $sim exit $rc ($(echo "$t1 - $t0" | bc | cut -c1-6) s)"
	done
done
[ "${SIMS:-s2 brian2}" != none ] && echo "end $(date -u '+%Y-%m-%d %H:%M:%S') load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/run.txt"

$PY - "$OUT" "$EX" "$not_counted" <<'PYEOF'
import json, os, sys
out, ex, skip = sys.argv[1], sys.argv[2], sys.argv[3].split()
names = sorted(os.path.basename(f)[:-3] for f in os.listdir(ex) if f.endswith(".py"))
def load(n, s):
    d = os.path.join(out, "%s.%s" % (n, s))
    if not os.path.exists(os.path.join(d, "status")):
        return 99, 0.0, None, "not run"
    rc, secs = open(os.path.join(d, "status")).read().split()[:2]
    summ = None
    p = os.path.join(d, "summary.json")
    if os.path.exists(p):
        summ = json.load(open(p))
    err = ""
    if rc != "0":
        lines = [l for l in open(os.path.join(d, "out.txt")).read().splitlines() if l.strip()]
        err = lines[-1][:110] if lines else "no output"
    return int(rc), float(secs), summ, err
rows, ok_s2, ok_br, counted = [], 0, 0, 0
print("\n| example | pyNN.s2 | pyNN.brian2 | population: rate s2 / brian2 (Hz) | first spikes (neuron 0) s2 / brian2 | plastic weights mean s2 / brian2 | v of the first recorded neuron: max / mean abs diff (mV) | connections s2 / brian2 |")
print("|---|---|---|---|---|---|---|---|")
for n in names:
    a, b = load(n, "s2"), load(n, "brian2")
    c = n not in skip
    counted += c
    ok_s2 += c and a[0] == 0
    ok_br += c and b[0] == 0
    rates, firsts, ws, vs, cs = [], [], [], [], []
    if a[2] and b[2] and a[0] == 0 and b[0] == 0:  # both completed
        for k, v in a[2]["populations"].items():
            w = b[2]["populations"].get(k)
            if w and "rate_hz" in v and "rate_hz" in w:
                rates.append("%s: %.2f / %.2f" % (k.split(":", 1)[1] or k, v["rate_hz"], w["rate_hz"]))
                if v["first"] and w["first"]:
                    firsts.append("%s / %s" % (v["first"][0][:3], w["first"][0][:3]))
        for k, v in a[2]["projections"].items():
            w = b[2]["projections"].get(k)
            if w and "mean" in v and "mean" in w:
                ws.append("%.4g / %.4g" % (v["mean"], w["mean"]))
        for k, v in a[2].get("v", {}).items():
            w = b[2].get("v", {}).get(k)
            if w and "v0" in v and "v0" in w:
                if len(v["v0"]) != len(w["v0"]):
                    vs.append("%s: %d / %d samples" % (k.split(":", 1)[1] or k,
                                                      v["samples"], w["samples"]))
                    continue
                d = [abs(x - y) for x, y in zip(v["v0"], w["v0"])]
                vs.append("%s: %.3g / %.3g" % (k.split(":", 1)[1] or k, max(d),
                                               sum(d) / len(d)))
        for k, v in a[2].get("static", {}).items():
            w = b[2].get("static", {}).get(k)
            if w and "count" in v and "count" in w:
                cs.append("%d / %d" % (v["count"], w["count"]))
    st = lambda r: ("runs (%.0f s)" % r[1]) if r[0] == 0 else \
        ("timed out (%.0f s)" % r[1]) if r[0] == 124 else ("fails: %s" % r[3].replace("|", "/"))
    print("| %s%s | %s | %s | %s | %s | %s | %s | %s |" % (
          n, "" if c else " (not counted)", st(a), st(b), "; ".join(rates[:3]),
          "; ".join(firsts[:2]), "; ".join(ws[:2]), "; ".join(vs[:2]),
          ", ".join(cs[:6]) + (" ..." if len(cs) > 6 else "")))
print("\nrun unchanged: pyNN.s2 %d of %d, pyNN.brian2 %d of %d (not counted: %s)"
      % (ok_s2, counted, ok_br, counted, ", ".join(skip)))
PYEOF
