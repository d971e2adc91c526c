#!/bin/bash
# Pause and resume cost (issue 23): ten consecutive run(100) of the Vogels-Abbott script in
# pyNN.s2 against one run(1000) (bench/pynn_resume.py), on one running 1-board s2emu. Prints
# the medians and their ratio (goal: about 1), and checks both give the same spikes.
#   bench/pynn_resume.sh [BUILD_DIR] [REPEAT] [N] [PARTS] [PART_MS]
#   default build/host-release 3 4000 10 100
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
REPEAT=${2:-3}
N=${3:-4000}
PARTS=${4:-10}
PART_MS=${5:-100}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PY=/usr/bin/python3
export S2CTL=$B/host/s2ctl S2EMU=$B/tools/s2emu
[ -f "$B/dist/libs2.so" ] && export S2_LIB=$B/dist/libs2.so
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
$PY -c 'import pyNN' 2>/dev/null || { echo "pynn_resume: skipped, no pyNN for $PY"; exit 77; }
W=$(mktemp -d)
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
"$S2EMU" --boards 1 --write-machine "$W/m.pb" --ready-file "$W/ready" 2>/dev/null &
EMU=$!
for _ in $(seq 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
export S2_MACHINE=$W/m.pb
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY bench/pynn_resume.py "$N" "$REPEAT" "$PARTS" "$PART_MS"
