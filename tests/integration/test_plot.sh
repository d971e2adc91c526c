#!/bin/bash
# s2ctl plot (docs/cli/plot.md): the Vogels-Abbott network run on a 4-board s2emu with
# --energy; the raster has exactly one mark per recorded spike in range (against the CSV of
# s2ctl results), thinned honestly above --max-points; the rates plot a line per population,
# the power plot a line per board, the heatmap a cell per chip of the boards used (also for a
# 4-board record, with a dead chip); every SVG is well-formed XML; bad input gives a clear
# error, exit 3 and no output file; energy report --svg still draws.
# Needs S2CTL, S2EMU, S2_FIRMWARE, jq, python3.
. "$(dirname "$0")/lib.sh"

# svgq FILE PYTHON-EXPRESSION: parse FILE (must be well-formed SVG) and print the expression,
# evaluated with r = the root, q(xpath) = findall with the SVG namespace, ms(d) = marks in a
# path's d.
svgq() {
	python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.tag == "{http://www.w3.org/2000/svg}svg", r.tag
NS = {"s": "http://www.w3.org/2000/svg"}
q = lambda x: r.findall(x, NS)
ms = lambda d: d.count("M")
print(eval(sys.argv[2]))
PY
}
# is GOT WANT
is() { [ "$1" = "$2" ] || { echo "    got '$1', want '$2'"; return 1; }; }

emu_start four --boards 4 --dead-chip 2:17
M="$WORK/four.pb"
"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
"$S2CTL" compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img" --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --duration 1000 -o "$WORK/va.s2res" \
	--energy "$WORK/va.energy" --quiet
check "Vogels-Abbott run with --energy exits 0" test $? -eq 0
"$S2CTL" results "$WORK/va.s2res" --json >"$WORK/va.json"
"$S2CTL" results "$WORK/va.s2res" --csv "$WORK/csv" >/dev/null
total=$(jq '[.populations[].spikes] | add' "$WORK/va.json")
check "the run recorded spikes" test "${total:-0}" -gt 0

# spikes_in POP FROM TO [STRIDE]: spikes of the CSV with FROM <= t <= TO (neuron % STRIDE == 0)
spikes_in() {
	python3 - "$WORK/csv/$1_spikes.csv" "$2" "$3" "${4:-1}" <<'PY'
import csv, sys
lo, hi, k = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(sum(1 for row in csv.DictReader(open(sys.argv[1]))
          if lo - 1e-6 <= float(row["time_ms"]) <= hi + 1e-6 and int(row["neuron"]) % k == 0))
PY
}

# 1. Raster: every spike, one mark each, per population and in total.
"$S2CTL" plot raster "$WORK/va.s2res" -o "$WORK/r.svg" --max-points 0 --quiet
check "plot raster exits 0" test $? -eq 0
check "raster: one mark per recorded spike ($total)" \
	is "$(svgq "$WORK/r.svg" 'sum(ms(p.get("d")) for p in q(".//s:path[@class=\"spikes\"]"))')" "$total"
for p in E I; do
	n=$(jq ".populations[] | select(.label == \"$p\") | .spikes" "$WORK/va.json")
	check "raster: population $p has its $n spikes in its own panel" \
		is "$(svgq "$WORK/r.svg" "ms(q('.//s:path[@data-population=\"$p\"]')[0].get('d'))")" "$n"
done
check "raster: the populations are labelled" \
	is "$(svgq "$WORK/r.svg" 'sorted(t.text for t in q(".//s:text") if t.text in ("E", "I"))')" "['E', 'I']"

# 2. A time range and one population: the spikes of the CSV in [200, 450] ms.
"$S2CTL" plot raster "$WORK/va.s2res" -o "$WORK/r2.svg" --population I --from 200 --to 450 --quiet
check "raster --population I --from 200 --to 450: I's spikes in range only" \
	is "$(svgq "$WORK/r2.svg" 'sum(ms(p.get("d")) for p in q(".//s:path[@class=\"spikes\"]"))')" \
	"$(spikes_in I 200 450)"
check "raster --population I: one panel" \
	is "$(svgq "$WORK/r2.svg" 'len(q(".//s:path[@class=\"spikes\"]"))')" 1

# 3. Thinning: at most --max-points marks, every spike of every k-th neuron, and it says so.
"$S2CTL" plot raster "$WORK/va.s2res" -o "$WORK/r3.svg" --max-points 3000 --quiet
k=$(svgq "$WORK/r3.svg" 'q(".//s:g[@class=\"raster\"]")[0].get("data-stride")')
marks=$(svgq "$WORK/r3.svg" 'sum(ms(p.get("d")) for p in q(".//s:path[@class=\"spikes\"]"))')
check "thinned raster: at most 3000 marks (stride $k)" test "$marks" -le 3000 -a "$k" -gt 1
check "thinned raster: exactly the spikes of every ${k}th neuron" \
	is "$marks" $(($(spikes_in E 0 1000 "$k") + $(spikes_in I 0 1000 "$k")))
check "thinned raster: says it is thinned" \
	is "$(svgq "$WORK/r3.svg" 'len(q(".//s:text[@class=\"thinned\"]"))')" 1

# 4. Rates: one line per population, a legend entry each.
"$S2CTL" plot rates "$WORK/va.s2res" -o "$WORK/rt.svg" --bin 20
check "plot rates exits 0" test $? -eq 0
check "rates: one line per population (E, I)" \
	is "$(svgq "$WORK/rt.svg" '[g.get("data-population") for g in q(".//s:g[@class=\"population\"]") if g.findall("s:polyline[@class=\"rate\"]", NS)]')" "['E', 'I']"
check "rates: 50 bins of 20 ms per line" \
	is "$(svgq "$WORK/rt.svg" 'set(len(p.get("points").split()) for p in q(".//s:polyline[@class=\"rate\"]"))')" "{50}"

# 5. Power: a line per board of the run, the energy report's computation.
nb=$(jq '.boards | length' "$WORK/va.energy")
"$S2CTL" plot power "$WORK/va.energy" -o "$WORK/p.svg"
check "plot power exits 0" test $? -eq 0
check "power: one line per board of the run ($nb)" \
	is "$(svgq "$WORK/p.svg" 'len([p for p in q(".//s:polyline") if "board" in (p.get("class") or "")])')" "$nb"

# 6. Heatmap: a cell per chip of the boards used, synaptic events and energy.
for what in synaptic_events energy; do
	"$S2CTL" plot heatmap "$WORK/va.energy" --machine "$M" --what $what -o "$WORK/h_$what.svg"
	check "plot heatmap --what $what exits 0" test $? -eq 0
	check "heatmap $what: 48 cells per board used" \
		is "$(svgq "$WORK/h_$what.svg" 'len(q(".//s:rect[@class=\"cell\"]"))')" $((48 * nb))
	check "heatmap $what: some chip has activity, with a colour scale" \
		is "$(svgq "$WORK/h_$what.svg" 'any(float(c.find("s:title", NS).text.split(": ")[1]) > 0 for c in q(".//s:rect[@class=\"cell\"]") if c.find("s:title", NS).text.split(": ")[1][0].isdigit()) and len(q(".//s:rect[@class=\"scale\"]")) == 1')" True
done
S2_MACHINE="$M" "$S2CTL" plot heatmap "$WORK/va.energy" -o "$WORK/h_env.svg"
check "heatmap: the machine from \$S2_MACHINE" test -s "$WORK/h_env.svg"

# 7. A record of all 4 boards: 4 power lines, 192 cells, boards side by side, the dead chip
#    (its global chip coordinates in the cell's title).
python3 - "$WORK/va.energy" "$WORK/four.energy" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
steps = sorted({s[2] for s in r["samples"]})
r["boards"] = [{"board": b, "chips_used": 48, "pes": 10} for b in range(4)]
r["samples"] = [[b, c, st, 1000 * st, st * (b + 1), st * (c + 1) * (b + 1), 0, 0, 0, 0, st, 0]
                for b in range(4) for c in range(48) if (b, c) != (2, 17) for st in steps]
r.pop("crc32", None)  # sealed again as s2ctl seals a record (docs/files.md)
import zlib
body = json.dumps(r, separators=(",", ":"))[:-1]
open(sys.argv[2], "w").write(body + ',"crc32":"%08x"}\n' % zlib.crc32(body.encode()))
PY
"$S2CTL" plot power "$WORK/four.energy" -o "$WORK/p4.svg"
check "4-board record: 4 power lines" \
	is "$(svgq "$WORK/p4.svg" 'len([p for p in q(".//s:polyline") if "board" in (p.get("class") or "")])')" 4
"$S2CTL" boot --machine "$M" --write-machine "$WORK/found.pb" --quiet >/dev/null # chip 2:17 dead
"$S2CTL" plot heatmap "$WORK/four.energy" --machine "$WORK/found.pb" -o "$WORK/h4.svg"
check "4-board record: 192 cells in 4 board groups" \
	is "$(svgq "$WORK/h4.svg" '(len(q(".//s:rect[@class=\"cell\"]")), len(q(".//s:g[@class=\"board\"]")))')" "(192, 4)"
check "4-board record: board 2 chip 17 is shown dead" \
	is "$(svgq "$WORK/h4.svg" '[c.find("s:title", NS).text for c in q(".//s:g[@data-board=\"2\"]/s:rect[@data-chip=\"17\"]")]')" \
	"['board 2 chip 17 (1,8): dead']"

# 8. Bad input: a clear error naming the file, exit 3 (2 for the command line), no output.
bad() { # WANT-CODE GREP OUT ARGS...: exit code, message, no OUT (nor OUT.tmp) left
	local want=$1 msg=$2 out=$3
	shift 3
	"$S2CTL" plot "$@" 2>"$WORK/bad.err"
	local rc=$?
	[ $rc -eq "$want" ] || { echo "    exit $rc, want $want"; cat "$WORK/bad.err"; return 1; }
	grep -q -- "$msg" "$WORK/bad.err" || { echo "    message:"; cat "$WORK/bad.err"; return 1; }
	[ ! -e "$out" ] && [ ! -e "$out.tmp" ] || { echo "    $out was written"; return 1; }
}
check "missing results file: exit 3, named, no output" \
	bad 3 "$WORK/none.s2res: No such file" "$WORK/x1.svg" raster "$WORK/none.s2res" -o "$WORK/x1.svg"
check "an energy record is not a results file" \
	bad 3 "va.energy: not an s2 results file" "$WORK/x2.svg" rates "$WORK/va.energy" -o "$WORK/x2.svg"
check "a results file is not an energy record" \
	bad 3 "va.s2res: not readable JSON" "$WORK/x3.svg" power "$WORK/va.s2res" -o "$WORK/x3.svg"
head -c 100 "$WORK/va.s2res" >"$WORK/trunc.s2res"
check "a truncated results file" \
	bad 3 "trunc.s2res: .*damaged\|trunc.s2res: truncated" "$WORK/x4.svg" raster "$WORK/trunc.s2res" -o "$WORK/x4.svg"
check "an unknown population is named" \
	bad 2 "population X: not in" "$WORK/x5.svg" raster "$WORK/va.s2res" --population X -o "$WORK/x5.svg"
check "heatmap without a machine" \
	bad 2 "no machine description" "$WORK/x6.svg" heatmap "$WORK/va.energy" -o "$WORK/x6.svg"
check "no -o" bad 2 "-o FILE.svg" "$WORK/x7.svg" raster "$WORK/va.s2res"
check "unwritable output: exit 1, no file" \
	bad 1 "$WORK/nodir/x.svg" "$WORK/nodir/x.svg" raster "$WORK/va.s2res" -o "$WORK/nodir/x.svg"

# 9. energy report --svg is drawn by the same code and still works.
"$S2CTL" energy report "$WORK/va.energy" --svg "$WORK/e.svg" >/dev/null
check "energy report --svg: a power line per board" \
	is "$(svgq "$WORK/e.svg" 'len(q(".//s:polyline[@class]"))')" "$nb"

finish
