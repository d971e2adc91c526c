#!/bin/bash
# The cortical microcircuit (Potjans & Diesmann 2014) on a 4-board s2emu: compile, run, and
# print per population the rate after the 100 ms transient, the irregularity (CV ISI) and the
# synchrony beside the published full-scale values (NEST example, Romaro et al. 2021), with
# the sources' definitions (bench/mc_stats.py).
#   bench/microcircuit.sh [BUILD_DIR] [SCALE] [DURATION_MS] [OUT_DIR] [SEED]
#   default build/host-release 1 1100 (a temporary directory) and the example's seed; SEED
#   sets the network's seed (another realisation of its connections and initial voltages).
# Full scale takes minutes of wall time per biological second. A PE of 128 neurons records
# 8.3 s of spikes; `s2ctl run` runs a longer run in parts (docs/cli/run.md), and mc_stats
# refuses results with recording bytes lost (docs/engine.md).
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
SCALE=${2:-1}
DUR=${3:-1100}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
RM=
if [ -n "${4:-}" ]; then W=$4; mkdir -p "$W"; else W=$(mktemp -d); RM=$W; fi
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null; [ -z "$RM" ] || rm -rf "$RM"' EXIT
"$S2EMU" --boards 4 --write-machine "$W/m.pb" --ready-file "$W/ready" 2>"$W/emu.err" &
EMU=$!
for _ in $(seq 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
if [ -n "${5:-}" ]; then
	"$S2CTL" net example microcircuit --scale "$SCALE" --to json -o "$W/net0.json" --quiet
	jq ".seed = $5" "$W/net0.json" >"$W/net.json"
	"$S2CTL" net convert "$W/net.json" -o "$W/net.pb" --to pb
else
	"$S2CTL" net example microcircuit --scale "$SCALE" -o "$W/net.pb" --quiet
fi
"$S2CTL" compile "$W/net.pb" --machine "$W/m.pb" -o "$W/net.s2img" --quiet
t0=$(date +%s)
"$S2CTL" run "$W/net.s2img" --machine "$W/m.pb" --duration "$DUR" -o "$W/r.s2res" --json >"$W/run.json"
t1=$(date +%s)
echo "microcircuit scale $SCALE, $DUR ms: deploy+run $((t1 - t0)) s wall"
jq -r '"run \(.run_seconds) s; \(.synaptic_events) synaptic events; clipped \(.inputs_clipped); dropped \(.packets_dropped); recording bytes lost \(.recording_bytes_lost)"' "$W/run.json"
# The real-time budget as the engine counted it (docs/engine.md "Real-time budget").
jq -r '"real time: \(.real_time); \(.steps) steps in \(.parts) part(s); PE-steps over the budget: \([.populations[].budget.steps_over] | add); the costliest step: \(.slowdown) times the budget"' "$W/run.json"
"$S2CTL" results "$W/r.s2res" --json >"$W/results.json"
rm -rf "$W/csv"
"$S2CTL" results "$W/r.s2res" --csv "$W/csv" --quiet
PY=python3
$PY -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
$PY bench/mc_stats.py "$W/csv" "$W/results.json" --t0 100 --json "$W/stats.json"
# Longer runs: the synchrony of each further second and of the whole run after 100 ms.
if [ "$DUR" -ge 2100 ]; then
	E=$(seq -s, 100 1000 "$DUR")
	$PY bench/mc_stats.py "$W/csv" "$W/results.json" --windows "$E" --json "$W/windows.json"
fi
