#!/bin/bash
# pyNN.s2 overhead (issue 21): the Vogels-Abbott script of 1 s biological time
# (bench/pynn_va.py) as a whole process, against a bare `s2ctl run` of the same network's
# image as a whole process, both on one running 1-board s2emu (booted by a warm-up run).
# Prints the median of REPEAT runs of each and their ratio (goal: at most 1.5), then where
# the script's time goes (medians): python3's start, `import pyNN.s2`, building the network,
# pyNN.s2's run() by part, the counts, end(); and what any PyNN backend pays before its
# first line unless it defers imports as pyNN.s2 does (python3 + `import pyNN.common`: neo,
# quantities, scipy, jinja2) beside the bare run. Python's bytecode is cached, as by default.
#   bench/pynn_overhead.sh [BUILD_DIR] [REPEAT] [N]     default build/host-release 3 4000
# (N, the network's neurons, is for the ctest smoke run: pynn_overhead_smoke)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
REPEAT=${2:-3}
export VA_N=${3:-4000}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PY=/usr/bin/python3
export S2CTL=$B/host/s2ctl S2EMU=$B/tools/s2emu S2_LIB=$B/dist/libs2.so
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
$PY -c 'import pyNN' 2>/dev/null || { echo "pynn_overhead: skipped, no pyNN for $PY"; exit 77; }
W=$(mktemp -d)
# Python caches the bytecode of what it imports (__pycache__) unless told not to: every run
# after a user's first reads it. Some environments (CI runners, sandboxes) set
# PYTHONDONTWRITEBYTECODE, and a source tree or an install may not be writable: here every
# python3 caches in $W (compiled once, by the warm-up run below), as by default.
bytecode="cached in a temporary directory, as by default"
[ -n "${PYTHONDONTWRITEBYTECODE:-}" ] && bytecode="$bytecode (PYTHONDONTWRITEBYTECODE of this environment unset)"
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=$W/pycache
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
"$S2EMU" --boards 1 --write-machine "$W/m.pb" --ready-file "$W/ready" 2>/dev/null &
EMU=$!
for _ in $(seq 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
export S2_MACHINE=$W/m.pb
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # FILE COMMAND...: append the command's wall time to FILE, its CPU time to FILE.cpu
	local f=$1 TIMEFORMAT='%3R %3U %3S'
	shift
	{ time "$@" 2>&3; } 3>&2 2>"$W/t"
	awk '{print $1}' "$W/t" >>"$W/$f"
	awk '{print $2 + $3}' "$W/t" >>"$W/$f.cpu"
}

# Warm-up (boots the board; compiles the bytecode) and the network's JSON for the bare run.
VA_JSON_DIR=$W/json $PY bench/pynn_va.py >"$W/warm.txt"
$PY -c 'import pyNN.common'
"$S2CTL" net convert "$W/json/network.json" -o "$W/va.pb" --quiet
"$S2CTL" compile "$W/va.pb" --machine "$W/m.pb" -o "$W/va.s2img" --quiet

for _ in $(seq "$REPEAT"); do
	VA_TIMES=$W/times timed py.s $PY bench/pynn_va.py >"$W/py.txt"
	timed ctl.s "$S2CTL" run "$W/va.s2img" --machine "$W/m.pb" --duration 1000 -o "$W/r.s2res" --quiet
	timed start.s $PY -c pass
	timed imp.s $PY -c "import pyNN.s2"
	timed common.s $PY -c "import pyNN.common"
done
py=$(median <"$W/py.s")
ctl=$(median <"$W/ctl.s")
col() { awk -v c="$1" '{print $c}' "$W/times" | median; }
echo "pyNN.s2 Vogels-Abbott ($VA_N neurons, 1 s biological), whole process: ${py} s ($(cat "$W/py.txt"))"
echo "bare s2ctl run of the same image, whole process:                 ${ctl} s"
echo "ratio pyNN.s2 / s2ctl run: $(echo "scale=2; $py / $ctl" | bc) (goal <= 1.5; median of $REPEAT; load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "CPU time (user + system; medians) of the pyNN.s2 script $(median <"$W/py.s.cpu") s, of s2ctl run $(median <"$W/ctl.s.cpu") s (s2emu's, the same for both, not counted)"
echo "the script, from the interpreter's start (s; medians): first line $(col 1), pyNN.s2 imported $(col 2), network built $(col 3), run() done $(col 4), counts $(col 5), end() $(col 6)"
echo "  pyNN.s2's run(): describe $(col 7), compile $(col 8), deploy $(col 9), run and read back $(col 10), results $(col 11)"
echo "separately (whole processes): python3 -c pass $(median <"$W/start.s") s; python3 -c 'import pyNN.s2' $(median <"$W/imp.s") s"
common=$(median <"$W/common.s")
echo "what any PyNN backend pays before its first line unless it defers imports as pyNN.s2 does (docs/pynn.md): python3 -c 'import pyNN.common' (neo, quantities, scipy, jinja2) ${common} s = $(echo "scale=2; $common / $ctl" | bc)x s2ctl run"
echo "python3 bytecode: $bytecode"
