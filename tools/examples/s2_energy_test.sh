#!/bin/sh
# Run the energy report example (tools/examples/installed/s2_energy.c) on the record of a
# Vogels-Abbott run on a 1-board s2emu: its JSON must be byte for byte what `s2ctl energy
# report --json` prints for the same record and options (one library renders both), its
# figures must be non-zero, and a damaged record must be refused with exit 1.
#   S2CTL=... S2EMU=... S2_FIRMWARE=... sh tools/examples/s2_energy_test.sh S2_ENERGY
set -eu
app=$1
w=$(mktemp -d "${TMPDIR:-/tmp}/s2energy.XXXXXX")
trap 'kill $emu 2>/dev/null; wait 2>/dev/null; rm -rf "$w"' EXIT
"$S2EMU" --boards 1 --write-machine "$w/m.pb" --ready-file "$w/ready" 2>/dev/null &
emu=$!
for _ in $(seq 200); do [ -f "$w/ready" ] && break; sleep 0.05; done
"$S2CTL" net example vogels_abbott --scale 0.1 -o "$w/va.pb" --quiet
"$S2CTL" compile "$w/va.pb" --machine "$w/m.pb" -o "$w/va.s2img" --quiet
"$S2CTL" run "$w/va.s2img" --machine "$w/m.pb" -o "$w/va.s2res" --energy "$w/va.energy" --quiet
"$app" "$w/va.energy" 1.3 "$w/app.json" >"$w/out.txt"
cat "$w/out.txt"
"$S2CTL" energy report "$w/va.energy" --pue 1.3 --json >"$w/s2ctl.json"
cmp "$w/app.json" "$w/s2ctl.json" || {
	echo "s2_energy_test: the application's JSON differs from s2ctl energy report's" >&2
	exit 1
}
grep -q "^modelled, model s2-energy-model-2: " "$w/out.txt"
if grep -q " 0 synaptic events" "$w/out.txt"; then
	echo "s2_energy_test: no synaptic events" >&2
	exit 1
fi
sed 's/"steps":/"stepz":/' "$w/va.energy" >"$w/bad.energy"
rc=0
"$app" "$w/bad.energy" 2>"$w/bad.err" || rc=$?
[ $rc -eq 1 ] && grep -q "bad.energy: damaged" "$w/bad.err" || {
	echo "s2_energy_test: a damaged record gave exit $rc:" >&2
	cat "$w/bad.err" >&2
	exit 1
}
echo "s2_energy_test: ok (the report's JSON as s2ctl prints it; a damaged record refused)"
