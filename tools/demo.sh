#!/bin/bash
# The main job on the emulator: start a 4-board s2emu (one chip dead), boot it with s2ctl,
# look at it, write and read chip memory; then compile a spiking network for the machine, deploy
# it, stream its spikes live while it runs, collect its recordings, and say what the run cost.
# Needs tools/setup.sh first.
#   tools/demo.sh [BUILD_DIR]      default build/host-debug
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-debug}
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
export S2_FIRMWARE=${S2_FIRMWARE:-build/cm4f/firmware/monitor/s2_monitor.bin}
for f in "$S2CTL" "$S2EMU" "$S2_FIRMWARE"; do
	[ -e "$f" ] || { echo "demo: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

run() { echo; echo "\$ $*"; "$@"; }

echo "\$ s2emu --boards 4 --write-machine m.pb --dead-chip 2:17 &"
"$S2EMU" --boards 4 --write-machine "$W/m.pb" --ready-file "$W/ready" --dead-chip 2:17 &
EMU=$!
for _ in $(seq 100); do [ -f "$W/ready" ] && break; sleep 0.05; done
cd "$W"
run "$OLDPWD/$S2CTL" machine show m.pb
run "$OLDPWD/$S2CTL" discover --machine m.pb --wait 0
run "$OLDPWD/$S2CTL" boot --machine m.pb --image "$OLDPWD/$S2_FIRMWARE" --write-machine found.pb
run "$OLDPWD/$S2CTL" info --machine found.pb
run "$OLDPWD/$S2CTL" mem write --machine m.pb --board 1 --chip 27 0x1000 --hex 0123456789abcdef
run "$OLDPWD/$S2CTL" mem read --machine m.pb --board 1 --chip 27 0x1000 8
run "$OLDPWD/$S2CTL" ps --machine m.pb --board 0 --chip 5
run "$OLDPWD/$S2CTL" iobuf --machine m.pb --board 0 --chip 5
run "$OLDPWD/$S2CTL" net example vogels_abbott -o va.pb
run "$OLDPWD/$S2CTL" compile va.pb --machine found.pb -o va.s2img
run "$OLDPWD/$S2CTL" deploy va.s2img --machine found.pb --duration 500
echo
echo "\$ s2ctl stream va.s2img --machine found.pb --energy-every 1000 > live.txt &"
"$OLDPWD/$S2CTL" stream va.s2img --machine found.pb --energy-every 1000 --ready-file sready \
	--max-seconds 60 >live.txt 2>stream.err &
SPID=$!
for _ in $(seq 100); do [ -f sready ] && break; sleep 0.05; done
run "$OLDPWD/$S2CTL" run va.s2img --machine found.pb --deployed --duration 500 -o va.s2res \
	--energy va.energy
wait $SPID || true
echo
echo "\$ head -4 live.txt; grep -c '^[0-9]' live.txt    # spikes received live, as they happened"
head -4 live.txt
grep -c '^[0-9]' live.txt
cat stream.err
run "$OLDPWD/$S2CTL" results va.s2res
run "$OLDPWD/$S2CTL" energy report va.energy
