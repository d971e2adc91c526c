#!/bin/bash
# Energy accounting (docs/energy.md): synthetic counter records of known energy (a counter
# that wraps, samples missing, a board that measures its energy) give the known joules; a run
# on s2emu with more activity reports more dynamic energy; every report validates against
# docs/schemas/s2ctl-energy.schema.json; bad input gets a clear error and a non-zero exit.
# Needs S2CTL, S2EMU, S2_FIRMWARE, jq, python3 with jsonschema.
. "$(dirname "$0")/lib.sh"
SCHEMA="$(dirname "$0")/../../docs/schemas/s2ctl-energy.schema.json"

valid() { # REPORT.json: validates against the schema
	python3 - "$SCHEMA" "$1" <<'PY'
import json, sys
import jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
}
close() { # GOT WANT: equal to 1e-9 relative
	python3 -c "import sys; g, w = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(g - w) <= 1e-9 * max(abs(w), 1e-30) else 1)" "$1" "$2" ||
		{ echo "    got $1, want $2"; return 1; }
}

# A model with round numbers: 1 pJ per cycle, 10 cycles per synaptic event, nothing else
# dynamic; 25 W per board (48 chips x 0.5 W + 1 W); 32-bit counters.
cat >"$WORK/model.txt" <<'M'
# test model
chip_idle_w = 0.5
chip_busy_w = 0.500152   # 0.000152 W over 152 PEs at 1 MHz: 1e-12 J per cycle
mhz_high = 1
volts_low = 0.8      # the same voltage as the high level: application PEs add no static power
board_other_w = 1
cycles_neuron_update = 0
cycles_synaptic_event = 10
cycles_spike_sent = 0
cycles_packet_in = 0
j_packet_routed = 0
j_dma_byte = 0
counter_bits = 32
M

# record NAME SYN... [UJ...]: one board, chip 0, samples at steps 0, 25, 50, 100 with these
# synaptic-event counts (and measured microjoules); phases boot 0.2 s, run, readout 0.1 s.
record() {
	python3 - "$WORK/$1.json" "$2" "${3:-}" <<'PY'
import json, sys
syn = [int(x) for x in sys.argv[2].split(",")]
uj = [int(x) for x in sys.argv[3].split(",")] if sys.argv[3] else [0] * len(syn)
steps = [0, 25, 50, 100][-len(syn):] if len(syn) < 4 else [0, 25, 50, 100]
if len(syn) == 2:
    steps = [0, 100]
rec = {"format": "s2-energy-record-1", "image": "synthetic", "timestep_ms": 1.0, "steps": 100,
       "energy_every": 25, "machine_boards": 4,
       "boards": [{"board": 0, "chips_used": 1, "pes": 2}],
       "phases": [{"name": "boot", "start_us": 1000000, "end_us": 1200000},
                  {"name": "run", "start_us": 1200000, "end_us": 1900000},
                  {"name": "readout", "start_us": 1900000, "end_us": 2000000}],
       "events": [], "stream": {"packets": 4, "lost": 0, "late": 0, "duplicates": 0, "stale": 0,
                                "bad": 0, "board_dropped": 0},
       "sample_fields": [],
       "samples": [[0, 0, st, 1200000 + 1000 * st, 0, s, 0, 0, 0, 0, 0, u]
                   for st, s, u in zip(steps, syn, uj)]}
json.dump(rec, open(sys.argv[1], "w"))
PY
}

# 1. Known joules: 1200 synaptic events across a 32-bit wrap, with and without the samples
#    in between; static 25 W x (0.2 + 0.1 biological + 0.1) s = 10 J.
record wrap 4294966796,4294967196,300,700
record gaps 4294966796,700
for r in wrap gaps; do
	"$S2CTL" energy report "$WORK/$r.json" --model "$WORK/model.txt" --json >"$WORK/$r.rep.json"
	check "report $r exits 0" test $? -eq 0
	check "$r: run dynamic energy = 1200 events x 10 cycles x 1 pJ" \
		close "$(jq .run.dynamic_j "$WORK/$r.rep.json")" 1.2e-8
	check "$r: synaptic operations 1200 across the wrap" \
		jq_is "$WORK/$r.rep.json" .activity.synaptic_operations 1200
	check "$r: static energy 25 W x 0.4 s" close "$(jq .total.static_j "$WORK/$r.rep.json")" 10
	check "$r: modelled, model version named" \
		jq_is "$WORK/$r.rep.json" '[.kind, .model.version]' '["modelled","s2-energy-model-1+custom"]'
	check "$r: report validates against the schema" valid "$WORK/$r.rep.json"
done
"$S2CTL" energy report "$WORK/wrap.json" --json >"$WORK/default.rep.json"
check "default model: an application PE adds 0.24 W / 152 x ((0.8 / 0.5)^2 - 1) at the high level" \
	close "$(jq .model.pe_active_w "$WORK/default.rep.json")" "$(python3 -c "print(0.24 / 152 * (2.56 - 1))")"
check "missing samples change nothing" \
	test "$(jq -c .run "$WORK/wrap.rep.json")" = "$(jq -c .run "$WORK/gaps.rep.json")"
# A board that measures: 2,000,000 uJ over the run is used instead of the model.
record meas 0,100,200,300 0,500000,1500000,2000000
"$S2CTL" energy report "$WORK/meas.json" --model "$WORK/model.txt" --json >"$WORK/meas.rep.json"
check "measured energy is used and tagged measured" \
	sh -c "jq -e '.run.dynamic_j == 2 and .kind == \"measured\"' '$WORK/meas.rep.json' >/dev/null"
# Carbon: IT energy x PUE x intensity, the overhead apart, embodied by the SCI rule.
"$S2CTL" energy report "$WORK/wrap.json" --model "$WORK/model.txt" --json --pue 1.5 \
	--grid-intensity 400 --grid-dataset "test set" --grid-zone XX --grid-year 2026 \
	--embodied-kg 100 --lifetime-years 4 >"$WORK/co2.json"
e_kwh=$(jq .carbon.it_energy_kwh "$WORK/co2.json")
check "operational CO2e = kWh x PUE x g/kWh" \
	close "$(jq .carbon.operational_g "$WORK/co2.json")" "$(python3 -c "print($e_kwh * 1.5 * 400)")"
check "facility overhead = kWh x (PUE - 1)" \
	close "$(jq .carbon.facility_overhead_kwh "$WORK/co2.json")" "$(python3 -c "print($e_kwh * 0.5)")"
check "embodied = 100 kg x 1 board x 0.4 s / 4 years" \
	close "$(jq .carbon.embodied.g "$WORK/co2.json")" "$(python3 -c "print(1e5 * 0.4 / (4 * 365.25 * 86400))")"
check "the grid intensity's dataset, zone and year are in the report" \
	jq_is "$WORK/co2.json" '[.carbon.grid.dataset, .carbon.grid.zone, .carbon.grid.year]' '["test set","XX","2026"]'
check "carbon report validates" valid "$WORK/co2.json"

# 2. Bad input: a clear error, a non-zero exit.
echo '{"format": "something else"}' >"$WORK/bad.json"
"$S2CTL" energy report "$WORK/bad.json" 2>"$WORK/bad.err"
check "not a record: exit 3, named" sh -c "test $? -eq 3 && grep -q 'bad.json: not an energy record' '$WORK/bad.err'"
"$S2CTL" energy report "$WORK/wrap.json" --grid-intensity 300 2>"$WORK/bad2.err"
check "an intensity without its source is refused" sh -c "test $? -eq 2 && grep -q 'names its source' '$WORK/bad2.err'"
echo "chip_idle_W = 1" >"$WORK/badmodel.txt"
"$S2CTL" energy report "$WORK/wrap.json" --model "$WORK/badmodel.txt" 2>"$WORK/bad3.err"
check "a bad model line is named" grep -q "line 1: not 'name = value'" "$WORK/bad3.err"

# 3. On s2emu: a network driven at 10 Hz and at 80 Hz; more activity, more dynamic energy.
emu_start four --boards 4
for rate in 10 80; do
	cat >"$WORK/p$rate.json" <<JSON
{"format": 1, "name": "drive$rate", "timestep_ms": 1.0, "run_ms": 200, "seed": 3,
 "populations": [
   {"label": "drive", "size": 200, "model": "spike_source_poisson", "params": {"rate_hz": $rate}},
   {"label": "cells", "size": 200, "model": "lif_curr_exp"}],
 "projections": [
   {"pre": "drive", "post": "cells", "connector": {"type": "fixed_probability", "p": 0.2},
    "weight": 0.2, "delay": 1}],
 "recordings": [{"population": "cells", "variable": "spikes"}]}
JSON
	"$S2CTL" net convert "$WORK/p$rate.json" -o "$WORK/p$rate.pb" --quiet
	"$S2CTL" compile "$WORK/p$rate.pb" --machine "$WORK/four.pb" -o "$WORK/p$rate.s2img" --quiet
	"$S2CTL" run "$WORK/p$rate.s2img" --machine "$WORK/four.pb" -o "$WORK/p$rate.s2res" \
		--energy "$WORK/p$rate.energy" --energy-every 20 --quiet
	check "run at $rate Hz with --energy exits 0" test $? -eq 0
	"$S2CTL" energy report "$WORK/p$rate.energy" --json >"$WORK/p$rate.rep.json"
	check "$rate Hz: report validates" valid "$WORK/p$rate.rep.json"
	check "$rate Hz: phases boot, load, run, readout" \
		jq_is "$WORK/p$rate.rep.json" '[.phases[].name]' '["boot","load","run","readout"]'
	check "$rate Hz: the emulator's figures are modelled" jq_is "$WORK/p$rate.rep.json" .kind '"modelled"'
done
check "more activity, more synaptic operations" \
	python3 -c "import json; a, b = (json.load(open('$WORK/p%d.rep.json' % r)) for r in (10, 80)); exit(0 if b['activity']['synaptic_operations'] > 4 * a['activity']['synaptic_operations'] else 1)"
check "more activity, more dynamic energy in the run" \
	python3 -c "import json; a, b = (json.load(open('$WORK/p%d.rep.json' % r)) for r in (10, 80)); exit(0 if b['run']['dynamic_j'] > a['run']['dynamic_j'] else 1)"
"$S2CTL" energy report "$WORK/p80.energy" --svg "$WORK/p80.svg" --csv "$WORK" >"$WORK/p80.txt"
check "text report names the model and the kind" grep -q "modelled, model s2-energy-model-1" "$WORK/p80.txt"
check "the SVG plot is well-formed XML with a line per board" \
	python3 -c "import xml.etree.ElementTree as E; t = E.parse('$WORK/p80.svg'); exit(0 if t.getroot().findall('{http://www.w3.org/2000/svg}polyline') else 1)"
check "CSV of the raw samples and of power" \
	sh -c "head -1 '$WORK/samples.csv' | grep -q '^board,chip,step,time_us,neuron_updates' && test \$(wc -l <'$WORK/power.csv') -gt 5"
"$S2CTL" energy report "$WORK/p80.energy" --openmetrics >"$WORK/p80.om"
check "OpenMetrics text: joules counters with board and phase labels, and # EOF" \
	sh -c "grep -q '^s2_energy_joules_total{run=.*board=\"0\",phase=\"run\",kind=\"modelled\"} ' '$WORK/p80.om' && tail -1 '$WORK/p80.om' | grep -qx '# EOF'"

# 4. Live export: s2ctl stream --metrics serves OpenMetrics text while (and after) it runs.
port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$S2CTL" deploy "$WORK/p80.s2img" --machine "$WORK/four.pb" --quiet
rm -f "$WORK/m.ready"
timeout 60 "$S2CTL" stream "$WORK/p80.s2img" --machine "$WORK/four.pb" --no-spikes --energy-every 50 \
	--count-only --follow --metrics "tcp:127.0.0.1:$port" --ready-file "$WORK/m.ready" \
	2>"$WORK/m.err" &
mpid=$!
for _ in $(seq 100); do [ -f "$WORK/m.ready" ] && break; sleep 0.1; done
"$S2CTL" run "$WORK/p80.s2img" --machine "$WORK/four.pb" --deployed -o "$WORK/m.s2res" --json \
	>"$WORK/m.run.json"
sleep 0.5
python3 -c "import sys, urllib.request as u; sys.stdout.write(u.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read().decode())" \
	>"$WORK/metrics.txt"
kill -INT $mpid
wait $mpid
check "the metrics endpoint answers in OpenMetrics text, ending in # EOF" \
	sh -c "grep -q '^# TYPE s2_energy_joules counter' '$WORK/metrics.txt' && tail -1 '$WORK/metrics.txt' | grep -qx '# EOF'"
check "dynamic joules of the run phase, per chip, modelled" \
	grep -q 'part="dynamic",phase="run",kind="modelled"} [0-9]' "$WORK/metrics.txt"
check "static joules per board and phase" grep -q 'chip="all",part="static",phase="run"' "$WORK/metrics.txt"
syn=$(grep '^s2_synaptic_events_total' "$WORK/metrics.txt" | awk '{ s += $2 } END { print s }')
check "the exported synaptic events equal the run's" test "$syn" = "$(jq .synaptic_events "$WORK/m.run.json")"

finish
