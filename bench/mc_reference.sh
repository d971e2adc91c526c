#!/bin/bash
# The cortical microcircuit in bench/mc_ref.c, the independent C model of the published
# equations (NEST's construction and neuron; docs/engine.md, "The cortical microcircuit"), at
# any scale including full scale (about 3 GB of memory and 20-60 s of one core per biological
# second there), then bench/mc_stats.py on its spikes as on s2's (with windows of 1 s when the
# run is longer than 2.1 s).
#   bench/mc_reference.sh SCALE DURATION_MS OUT_DIR [SEED] [--half-step-delays] [--intfire-pd | --intfire-refractory | --netpyne-ext-weights]
# (the options after SEED are passed to mc_ref, see bench/mc_ref.c)
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: bench/mc_reference.sh SCALE DURATION_MS OUT_DIR [SEED] [--half-step-delays] [--intfire-pd | --intfire-refractory | --netpyne-ext-weights]" >&2; exit 2; }
SCALE=$1 DUR=$2 W=$3 SEED=${4:-1} OPT=${*:5}
mkdir -p "$W"
cc -O2 -o "$W/mc_ref" bench/mc_ref.c -lm
t0=$(date +%s)
# shellcheck disable=SC2086
"$W/mc_ref" $OPT "$SCALE" "$DUR" "$W" "$SEED" 2>"$W/mc_ref.log"
t1=$(date +%s)
tail -1 "$W/mc_ref.log"
echo "mc_ref scale $SCALE, $DUR ms, seed $SEED ${OPT}: $((t1 - t0)) s wall"
PY=python3
$PY -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
$PY bench/mc_stats.py "$W" "$W/sizes.json" --t0 100 --json "$W/stats.json"
if [ "${DUR%.*}" -ge 2100 ]; then
	E=$(seq -s, 100 1000 "${DUR%.*}")
	$PY bench/mc_stats.py "$W" "$W/sizes.json" --windows "$E" --json "$W/windows.json"
fi
