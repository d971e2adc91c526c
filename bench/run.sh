#!/bin/bash
# Deploy-and-run benchmark: compile a network for a 4-board s2emu, deploy it and run it for
# 1 s of biological time; print deploy time, loader throughput and bytes on the wire,
# run time per biological second, recording read-back, and per-population rates.
#   bench/run.sh [BUILD_DIR] [NETWORK] [SCALE]   default build/host-release microcircuit 0.25
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
NET=${2:-microcircuit}
SCALE=${3:-0.25}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
W=$(mktemp -d)
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
"$S2EMU" --boards 4 --write-machine "$W/m.pb" --ready-file "$W/ready" 2>/dev/null &
EMU=$!
for _ in $(seq 200); do [ -f "$W/ready" ] && break; sleep 0.05; done
"$S2CTL" net example "$NET" --scale "$SCALE" -o "$W/net.pb" --quiet
"$S2CTL" compile "$W/net.pb" --machine "$W/m.pb" -o "$W/net.s2img" --json >"$W/c.json"
jq -r '"== \(.network) (scale '"$SCALE"'): \(.pes) PEs on \(.chips) chips of \(.boards) board(s); image \(.image)"' "$W/c.json"
"$S2CTL" run "$W/net.s2img" --machine "$W/m.pb" --duration 1000 -o "$W/r.s2res" --json >"$W/r.json"
jq -r '
	"deploy: \(.deploy_seconds*1000|floor) ms (boot check, loading, on-PE expansion); tables+PE data \(.load_bytes) bytes, \(.load_wire_bytes) on the wire (\((.load_bytes/.load_wire_bytes*100|floor)) % as compressed)",
	"run: 1 s of biological time in \(.run_seconds*1000|floor/1000) s; \(.synaptic_events) synaptic events (\(.synaptic_events/.run_seconds/1e6|floor) M/s), \(.spikes) spikes; dropped \(.packets_dropped), recording bytes lost \(.recording_bytes_lost)",
	"recordings: \(.recording_bytes) bytes in \(.collect_seconds*1000|floor) ms, \(.recording_wire_bytes) on the wire",
	(.populations[] | select(.spikes > 0) | "  \(.label): \(.rate_hz*100|floor/100) Hz")' "$W/r.json"
echo "s2emu peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$EMU/status)"
