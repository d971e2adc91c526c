#!/bin/sh
# Run the high-level API example (tools/examples/installed/s2_app.c) on a 1-board s2emu: a
# Vogels-Abbott network (400 neurons) for 200 ms. It must complete, report live spikes equal
# in number to the recorded ones, energy samples, and no stream packet lost.
#   S2CTL=... S2EMU=... S2_FIRMWARE=... sh tools/examples/s2_app_test.sh S2_APP
set -eu
app=$1
w=$(mktemp -d "${TMPDIR:-/tmp}/s2app.XXXXXX")
trap 'kill $emu 2>/dev/null; wait 2>/dev/null; rm -rf "$w"' EXIT
"$S2EMU" --boards 1 --write-machine "$w/m.pb" --ready-file "$w/ready" 2>/dev/null &
emu=$!
for _ in $(seq 200); do [ -f "$w/ready" ] && break; sleep 0.05; done
"$S2CTL" net example vogels_abbott --scale 0.1 -o "$w/va.pb" --quiet
"$S2CTL" compile "$w/va.pb" --machine "$w/m.pb" -o "$w/va.s2img" --quiet
"$app" "$w/m.pb" "$w/va.s2img" 200 "$S2_FIRMWARE" >"$w/out.txt"
cat "$w/out.txt"
grep -q "^complete: 2000 steps" "$w/out.txt"
live=$(sed -n 's/^live: \([0-9]*\) spikes.*/\1/p' "$w/out.txt")
rec=$(awk '/neurons/ {n += $4} END {print n}' "$w/out.txt")
[ "$live" -gt 0 ] && [ "$live" -eq "$rec" ] || {
	echo "s2_app_test: $live live spikes, $rec recorded" >&2
	exit 1
}
grep -q "energy samples (0 stream packets lost)" "$w/out.txt"
grep -q "^first energy sample" "$w/out.txt"
echo "s2_app_test: ok ($live spikes live and recorded)"
