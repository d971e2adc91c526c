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
		jq_is "$WORK/$r.rep.json" '[.kind, .model.version]' '["modelled","s2-energy-model-2+custom"]'
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

# 1b. Record format 2 (s2-energy-record-2, synthetic, known values): the host's CPU time per
#     phase, UTC times, clock offsets. Phases as in 1 (boot 0.2 s, run 0.7 s host time, readout
#     0.1 s); the host clock puts monotonic 1.5 s at 2026-03-01T10:00:00Z, so the run phase
#     crosses the hour: 3/7 of it before 10:00, 4/7 after. CPU time: boot 0.1 s, run 0.2 s,
#     readout 0.05 s. Board clock offset: 100 us at the start, 100 + DRIFT us at the end.
# reseal FILE: a record edited by hand (jq), sealed again as s2ctl seals it (docs/energy.md)
reseal() {
	python3 - "$1" <<'PYS'
import json, sys, zlib
rec = json.load(open(sys.argv[1]))
rec.pop("crc32", None)
body = json.dumps(rec, separators=(",", ":"))[:-1]
open(sys.argv[1], "w").write(body + ',"crc32":"%08x"}\n' % zlib.crc32(body.encode()))
PYS
}

record2() { # NAME DRIFT_US
	python3 - "$WORK/$1.json" "$2" <<'PY2'
import json, sys, calendar
drift = int(sys.argv[2])
utc10 = calendar.timegm((2026, 3, 1, 10, 0, 0)) * 1000000
rec = {"format": "s2-energy-record-2", "image": "synthetic", "timestep_ms": 1.0, "steps": 100,
       "energy_every": 25, "machine_boards": 4,
       "boards": [{"board": 0, "chips_used": 1, "pes": 2, "serial": 77, "version": "test fw 1"}],
       "provenance": {"s2_version": "0.1.0", "git_commit": "abc", "host": "h", "image": "synthetic",
                      "image_sha256": "0" * 64, "network": "n", "network_crc32": "00000000",
                      "machine": None, "machine_sha256": None, "results": None,
                      "results_sha256": None},
       "firmware": {"path": "fw.bin", "sha256": "1" * 64, "version": "test fw 1", "protocol": 1,
                    "image_crc32": "12345678", "booted_boards": 1, "boards": 1},
       "host_clock": {"utc_us": utc10, "mono_us": 1500000},
       "phases": [{"name": "boot", "start_us": 1000000, "end_us": 1200000, "cpu_us": 100000, "rapl_uj": None},
                  {"name": "run", "start_us": 1200000, "end_us": 1900000, "cpu_us": 200000, "rapl_uj": None},
                  {"name": "readout", "start_us": 1900000, "end_us": 2000000, "cpu_us": 50000, "rapl_uj": None}],
       "events": [{"board": 0, "event": "started", "step": 0, "time_us": 1200000, "host_us": 1200100},
                  {"board": 0, "event": "done", "step": 100, "time_us": 1900000, "host_us": 1900100 + drift}],
       "stream": {"packets": 4, "lost": 0, "late": 0, "duplicates": 0, "stale": 0, "bad": 0,
                  "board_dropped": 0},
       "sample_fields": [],
       "samples": [[0, 0, st, 1200000 + 1000 * st, 0, s, 0, 0, 0, 0, 0, 0]
                   for st, s in zip([0, 25, 50, 100], [4294966796, 4294967196, 300, 700])]}
# sealed as s2ctl seals it: the CRC-32 of every byte before ',"crc32"' (docs/energy.md)
import zlib
body = json.dumps(rec, separators=(",", ":"))[:-1]
open(sys.argv[1], "w").write(body + ',"crc32":"%08x"}\n' % zlib.crc32(body.encode()))
PY2
}
record2 r2 300
record2 r2drift 20000
# A damaged or cut record is refused, naming the file and the reason.
sed 's/"steps":100/"steps":101/' "$WORK/r2.json" >"$WORK/r2bad.json"
"$S2CTL" energy report "$WORK/r2bad.json" >/dev/null 2>"$WORK/r2bad.err"
check "a record with one changed byte is refused (exit 3)" test $? -eq 3
check "... naming the file and its damage" grep -q "r2bad.json: damaged: its content" "$WORK/r2bad.err"
head -c 300 "$WORK/r2.json" >"$WORK/r2cut.json"
"$S2CTL" energy report "$WORK/r2cut.json" >/dev/null 2>"$WORK/r2cut.err"
check "a cut record is refused (exit 3)" test $? -eq 3
# Many mutants: 300 single-bit flips anywhere in the record and 60 cuts, every one refused.
python3 - "$WORK/r2.json" "$WORK/mut" <<'PY3'
import os, random, sys
data = open(sys.argv[1], "rb").read()
os.makedirs(sys.argv[2], exist_ok=True)
rng = random.Random(7)
for i in range(300):
    b = bytearray(data)
    k = rng.randrange(len(b) * 8)
    b[k // 8] ^= 1 << (k % 8)
    open(os.path.join(sys.argv[2], "flip%03d.energy" % i), "wb").write(b)
for i in range(60):
    open(os.path.join(sys.argv[2], "cut%03d.energy" % i), "wb").write(data[:rng.randrange(len(data))])
PY3
accepted=0
for f in "$WORK"/mut/*.energy; do
	if "$S2CTL" energy report "$f" >/dev/null 2>"$WORK/mut.err" || ! grep -q "$(basename "$f")" "$WORK/mut.err"; then
		accepted=$((accepted + 1))
		echo "    accepted, or refused without naming the file: $f"
	fi
done
check "360 damaged or cut records: all refused, each naming its file" test $accepted -eq 0
"$S2CTL" energy report "$WORK/r2.json" --model "$WORK/model.txt" --json >"$WORK/r2.rep.json"
check "record 2: report exits 0" test $? -eq 0
check "record 2: report validates" valid "$WORK/r2.rep.json"
check "record 2: boards' energy as record 1's (1200 events, 10 J static)" \
	sh -c "jq -e '.run.dynamic_j > 1.19e-8 and .run.dynamic_j < 1.21e-8 and .total.static_j == 10' '$WORK/r2.rep.json' >/dev/null"
check "host: CPU time x 3.9 W per core, estimated: (0.1 + 0.2 + 0.05) s x 3.9 W" \
	close "$(jq .host.energy_j "$WORK/r2.rep.json")" 1.365
check "host: labelled estimated, per phase" \
	jq_is "$WORK/r2.rep.json" '[.host.kind, [.host.phases[].kind]]' '["estimated",["estimated","estimated","estimated"]]'
check "host_cpu domain estimated, host_compile excluded without --compile-cpu-s" \
	jq_is "$WORK/r2.rep.json" '[.boundary[] | select(.domain == "host_cpu" or .domain == "host_compile") | .method]' '["estimated","excluded"]'
check "UTC of each phase from the host clock" \
	jq_is "$WORK/r2.rep.json" '[.phases[0].start_utc, .phases[1].end_utc]' '["2026-03-01T09:59:59.500Z","2026-03-01T10:00:00.400Z"]'
check "provenance and firmware carried through" \
	jq_is "$WORK/r2.rep.json" '[.provenance.git_commit, .firmware.version, .boards[0].serial, .firmware.hash_basis]' \
	'["abc","test fw 1",77,"this run booted every board with this file"]'
check "clock offset within tolerance: drift 300 us of 5000" \
	jq_is "$WORK/r2.rep.json" '[.clock.ok, .clock.boards[0].offset_start_us, .clock.boards[0].drift_us]' '[true,100,300]'
"$S2CTL" energy report "$WORK/r2drift.json" --model "$WORK/model.txt" --json >"$WORK/r2drift.rep.json"
check "clock offset out of tolerance flagged: drift 20000 us" \
	jq_is "$WORK/r2drift.rep.json" '[.clock.ok, .clock.boards[0].within_tolerance]' '[false,false]'
"$S2CTL" energy report "$WORK/r2drift.json" --model "$WORK/model.txt" >"$WORK/r2drift.txt"
check "text report says the offset is out of tolerance" grep -q "OUT OF TOLERANCE" "$WORK/r2drift.txt"
"$S2CTL" energy report "$WORK/r2drift.json" --model "$WORK/model.txt" --clock-tolerance-us 30000 --json >"$WORK/r2tol.rep.json"
check "a wider --clock-tolerance-us accepts it" jq_is "$WORK/r2tol.rep.json" .clock.ok true
# RAPL where the record has it: measured, used instead of the CPU-time estimate, phase by phase.
jq '.phases[0].rapl_uj = 2500000 | .phases[1].rapl_uj = 4000000' "$WORK/r2.json" >"$WORK/r2r.json"
reseal "$WORK/r2r.json"
"$S2CTL" energy report "$WORK/r2r.json" --model "$WORK/model.txt" --json >"$WORK/r2r.rep.json"
check "RAPL measured where recorded (2.5 J + 4 J), the estimate elsewhere (0.05 s x 3.9 W)" \
	jq_is "$WORK/r2r.rep.json" '[.host.kind, [.host.phases[].kind], .host.energy_j, (.boundary[] | select(.domain == "host_cpu") | .method)]' \
	'["mixed",["measured","measured","estimated"],6.695,"mixed"]'
# The least offset over the samples near the start and the end (clock_offsets) comes before
# the events: here the events agree (drift 300 us) but the samples drift 9000 us.
jq '.clock_offsets = [{"board": 0, "start_us": 40, "end_us": 9040, "samples_start": 3, "samples_end": 2, "window_us": 70000}]' \
	"$WORK/r2.json" >"$WORK/r2s.json"
reseal "$WORK/r2s.json"
"$S2CTL" energy report "$WORK/r2s.json" --model "$WORK/model.txt" --json >"$WORK/r2s.rep.json"
check "clock offsets from the samples first: drift 9000 us flagged" \
	jq_is "$WORK/r2s.rep.json" '[.clock.boards[0].from, .clock.boards[0].packets_start, .clock.boards[0].drift_us, .clock.ok]' '["samples",3,9000,false]'
# Record 1 has no host data: the host is excluded, its energy null, never a zero.
check "record 1: host excluded, energies null, not zero" \
	jq_is "$WORK/wrap.rep.json" '[.host.kind, .host.energy_j, [.host.phases[].energy_j], .carbon.it_energy_parts_kwh.host, (.boundary[] | select(.domain == "host_cpu") | .method)]' \
	'["excluded",null,[null,null,null],null,"excluded"]'
check "record 1: no provenance, no clock offset" \
	jq_is "$WORK/wrap.rep.json" '[.record_format, .provenance.git_commit, .firmware, .clock.ok]' '["s2-energy-record-1",null,null,null]'
# Hourly carbon across 10:00 UTC, by hand: hour 9 holds boot (5 J static + 0.39 J host) and 3/7
# of the run (2.5 J static + 1.2e-8 J dynamic + 0.78 J host), hour 10 the other 4/7 and readout
# (2.5 J + 0.195 J); 300 g/kWh before, 500 after; PUE 1.5.
cat >"$WORK/hourly.csv" <<'CSV'
# dataset: test hourly
# zone: YY
# year: 2026
# scope: direct
hour_utc,g_per_kwh,note
2026-03-01T08:00:00Z,100,x
2026-03-01T09:00:00Z,300,x
2026-03-01T10:00:00Z,500,x
2026-03-01T11:00Z,700,x
CSV
"$S2CTL" energy report "$WORK/r2.json" --model "$WORK/model.txt" --json --pue 1.5 \
	--grid-hourly "$WORK/hourly.csv" --grid-dataset "test annual" --grid-zone XX --grid-year 2026 \
	--grid-scope direct --grid-intensity 400 --market-intensity 50 --market-source "test PPA" \
	--wue 1.8 --wue-source "test site" --water-intensity 3.1 --water-source "test grid mix" \
	--metric accuracy=0.93 >"$WORK/hourly.rep.json"
check "hourly report validates" valid "$WORK/hourly.rep.json"
check "hourly carbon = the hand-computed sum over the two hours" \
	close "$(jq .carbon.hourly.operational_g "$WORK/hourly.rep.json")" \
	"$(python3 -c "r = 2.5 + 1.2e-8 + 0.78; print(1.5 * ((5 + 0.39 + 3 / 7 * r) * 300 + (4 / 7 * r + 2.5 + 0.195) * 500) / 3.6e6)")"
check "the hourly figures name the CSV's dataset, zone, year and scope; the annual its own" \
	jq_is "$WORK/hourly.rep.json" '[.carbon.hourly.dataset, .carbon.hourly.zone, .carbon.hourly.scope, .carbon.grid.dataset]' '["test hourly","YY","direct","test annual"]'
check "the run's two hours, in order" \
	jq_is "$WORK/hourly.rep.json" '[.carbon.hourly.hours[].hour_utc]' '["2026-03-01T09:00:00Z","2026-03-01T10:00:00Z"]'
e_kwh=$(jq .carbon.it_energy_kwh "$WORK/hourly.rep.json")
check "IT energy = boards + host: (10 + 1.2e-8 + 1.365) J" close "$e_kwh" "$(python3 -c "print((10 + 1.2e-8 + 1.365) / 3.6e6)")"
check "the annual-average figure beside it, unchanged" \
	close "$(jq .carbon.operational_g "$WORK/hourly.rep.json")" "$(python3 -c "print($e_kwh * 1.5 * 400)")"
check "market-based apart, never subtracted" \
	close "$(jq .carbon.market_based.operational_g "$WORK/hourly.rep.json")" "$(python3 -c "print($e_kwh * 1.5 * 50)")"
check "water on site = IT kWh x WUE" close "$(jq .water.onsite.litres "$WORK/hourly.rep.json")" "$(python3 -c "print($e_kwh * 1.8)")"
check "water off site = IT kWh x PUE x L/kWh" close "$(jq .water.offsite.litres "$WORK/hourly.rep.json")" "$(python3 -c "print($e_kwh * 1.5 * 3.1)")"
check "the facility is estimated when a PUE is given" \
	jq_is "$WORK/hourly.rep.json" '.boundary[] | select(.domain == "facility") | .method' '"estimated"'
check "a given task metric beside the energy" \
	jq_is "$WORK/hourly.rep.json" '.correctness.metrics' '[{"name":"accuracy","value":0.93,"source":"given (--metric)"}]'
"$S2CTL" energy report "$WORK/r2.json" --model "$WORK/model.txt" --json --compile-cpu-s 2 >"$WORK/cc.rep.json"
check "--compile-cpu-s: compile's host energy estimated, 2 s x 3.9 W" \
	jq_is "$WORK/cc.rep.json" '[.host.phases[0].name, .host.phases[0].energy_j, .host.energy_j]' '["compile",7.8,9.165]'
# Bad input: an error naming the field, a non-zero exit, no report (stdout and --csv empty).
head='# dataset: d\n# zone: z\n# year: 2026\n# scope: direct\n'
printf "$head"'hour_utc,g_per_kwh\n2026-03-01T09:00:00Z,300\n2026-03-01T09:30:00Z,500\n' >"$WORK/badhour.csv"
printf "$head"'hour_utc,g_per_kwh\n2026-03-01T10:00:00Z,300\n2026-03-01T09:00:00Z,500\n' >"$WORK/nonmono.csv"
printf "$head"'hour_utc,g_per_kwh\n2026-03-01T09:00:00Z,lots\n' >"$WORK/badg.csv"
printf "$head"'hour_utc,g_per_kwh\n2026-03-01T10:00:00Z,300\n' >"$WORK/short.csv"
grep -v scope "$WORK/hourly.csv" >"$WORK/noscope.csv"
bad_input() { # DESCRIPTION PATTERN ARGS...: exit != 0, the pattern on stderr, no output, no CSV
	local what=$1 pat=$2
	shift 2
	rm -rf "$WORK/nocsv" && mkdir "$WORK/nocsv"
	"$S2CTL" energy report "$WORK/r2.json" --model "$WORK/model.txt" --json --csv "$WORK/nocsv" "$@" \
		>"$WORK/bad.out" 2>"$WORK/bad.err"
	local rc=$? ok=1
	[ "$rc" -ne 0 ] && grep -q -- "$pat" "$WORK/bad.err" && [ ! -s "$WORK/bad.out" ] &&
		[ -z "$(ls "$WORK/nocsv")" ] && ok=0
	check "$what" test "$ok" -eq 0 || { echo "    exit $rc:"; cat "$WORK/bad.err"; }
}
bad_input "hourly CSV: not a whole hour, line named" "badhour.csv: line 7: hour_utc" --grid-hourly "$WORK/badhour.csv"
bad_input "hourly CSV: hours not increasing" "nonmono.csv: line 7: hour_utc .* must increase" --grid-hourly "$WORK/nonmono.csv"
bad_input "hourly CSV: intensity not a number" "badg.csv: line 6: g_per_kwh" --grid-hourly "$WORK/badg.csv"
bad_input "hourly CSV: an hour of the run missing" "no intensity for the hour from 2026-03-01T09:00:00Z" --grid-hourly "$WORK/short.csv"
bad_input "hourly CSV that does not name its scope" "no '# scope: ...' line" --grid-hourly "$WORK/noscope.csv"
bad_input "a PUE below 1" "--pue: '0.9' is not a number in 1..5" --pue 0.9
bad_input "a WUE below 0" "--wue: '-1' is not a number in 0..100" --wue -1 --wue-source s
bad_input "a WUE without its source" "--wue needs --wue-source" --wue 1
bad_input "a malformed --metric" "--metric: 'accuracy' is not NAME=VALUE" --metric accuracy
bad_input "a qualifier without its option" "--water-source applies only with --water-intensity" --water-source x
check "record 1 has no UTC times: --grid-hourly refused" \
	sh -c "! '$S2CTL' energy report '$WORK/wrap.json' --grid-hourly '$WORK/hourly.csv' 2>'$WORK/h1.err' >/dev/null && grep -q 'no UTC times' '$WORK/h1.err'"
"$S2CTL" energy bench "$WORK/none.s2img" --trials 0 >"$WORK/bad.out" 2>"$WORK/bad.err"
check "a trial count of 0: error naming --trials, exit 2, no runs" \
	sh -c "test $? -eq 2 && grep -q -- \"--trials: '0'\" '$WORK/bad.err' && test ! -e energy-bench"

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
 "recordings": [{"population": "cells", "variable": "spikes"},
                {"population": "drive", "variable": "spikes"}]}
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
# RAPL through powercap: a fake tree ($S2_POWERCAP) whose package counter a loop advances by
# at most 0.1 J every 10 ms (10 W) and wraps at 30 J (max_energy_range_uj), starting 0.2 J
# before the wrap: every phase is measured, the run (paced to real time, 0.2 s) spent some of
# it, and no phase reads the wrap as a huge figure.
mkdir -p "$WORK/powercap/intel-rapl:0" "$WORK/powercap/intel-rapl:0:0"
echo 30000000 >"$WORK/powercap/intel-rapl:0/max_energy_range_uj"
echo 29800000 >"$WORK/powercap/intel-rapl:0/energy_uj"
echo 999 >"$WORK/powercap/intel-rapl:0:0/energy_uj" # a sub-zone: not read
(v=29800000; while :; do v=$(((v + 100000) % 30000000)); echo $v >"$WORK/powercap/intel-rapl:0/energy_uj.t" &&
	mv "$WORK/powercap/intel-rapl:0/energy_uj.t" "$WORK/powercap/intel-rapl:0/energy_uj"; sleep 0.01; done) &
rapl_pid=$!
S2_POWERCAP="$WORK/powercap" "$S2CTL" run "$WORK/p10.s2img" --machine "$WORK/four.pb" -o "$WORK/rapl.s2res" \
	--energy "$WORK/rapl.energy" --energy-every 20 --realtime --quiet
kill $rapl_pid; wait $rapl_pid 2>/dev/null
"$S2CTL" energy report "$WORK/rapl.energy" --json >"$WORK/rapl.rep.json"
check "RAPL through powercap: every phase measured, package domain only" \
	jq -e '.host.kind == "measured" and ([.host.phases[].kind] | unique) == ["measured"] and (.host.phases[] | select(.name == "run") | .energy_j) > 0' "$WORK/rapl.rep.json"
check "RAPL: the counter's wrap unwrapped (no phase above 10 W x 2 x its seconds + 0.3 J)" \
	python3 -c "
import json; r = json.load(open('$WORK/rapl.rep.json')); hs = {p['name']: p['host_seconds'] for p in r['phases']}
ok = all(0 <= p['energy_j'] <= 10.0 * hs[p['name']] * 2 + 0.3 for p in r['host']['phases'])
print([(p['name'], p['energy_j'], hs[p['name']]) for p in r['host']['phases']]); exit(0 if ok else 1)"
sha() { sha256sum "$1" | cut -d' ' -f1; }
check "provenance: SHA-256 of image, machine, results and firmware as sha256sum computes them" \
	jq_is "$WORK/p80.rep.json" '[.provenance.image_sha256, .provenance.machine_sha256, .provenance.results_sha256, .firmware.sha256]' \
	"[\"$(sha "$WORK/p80.s2img")\",\"$(sha "$WORK/four.pb")\",\"$(sha "$WORK/p80.s2res")\",\"$(sha "$S2_FIRMWARE")\"]"
check "provenance: s2 version, commit, network, firmware identity, board serial" \
	jq -e '.provenance.s2_version != null and (.provenance.git_commit | length) > 6 and .provenance.network == "drive80" and (.firmware.version | startswith("s2-monitor")) and .boards[0].serial != null' "$WORK/p80.rep.json"
check "s2emu run: the host's share estimated from CPU time, every phase with UTC times" \
	jq -e '.host.kind == "estimated" and .host.energy_j > 0 and ([.phases[].start_utc | select(. == null)] | length) == 0' "$WORK/p80.rep.json"
check "s2emu shares the host's clock: the measured offset is the packets' delay, 0 to 1 s" \
	jq -e '(.clock.boards | length) == 1 and .clock.boards[0].from == "samples" and .clock.boards[0].offset_start_us >= 0 and .clock.boards[0].offset_start_us < 1000000 and .clock.boards[0].offset_end_us >= 0' "$WORK/p80.rep.json"
# Correctness in the same run: the drive's Poisson rate (80 Hz, its parameter) within 8 Hz
# (5 standard deviations of 200 neurons over 0.2 s); an absurd expectation for the cells fails.
printf '# population rate tolerance\ndrive 80 8\ncells 1000 1\n' >"$WORK/rates.txt"
"$S2CTL" energy report "$WORK/p80.energy" --expect-rates "$WORK/rates.txt" --json >"$WORK/rates.rep.json"
check "expected rates: drive near 80 Hz ok, cells at 1000 Hz not, the run not ok" \
	jq_is "$WORK/rates.rep.json" '[[.correctness.rates.populations[].ok], .correctness.rates.ok]' '[[true,false],false]'
check "rates report validates" valid "$WORK/rates.rep.json"
"$S2CTL" energy report "$WORK/p80.energy" --expect-rates "$WORK/rates.txt" --results "$WORK/p10.s2res" \
	>/dev/null 2>"$WORK/wrongres.err"
check "results of another run are refused (their SHA-256 differs from the record's)" \
	sh -c "test $? -eq 3 && grep -q 'not the results of this run' '$WORK/wrongres.err'"
printf 'nobody 1 1\n' >"$WORK/rates2.txt"
"$S2CTL" energy report "$WORK/p80.energy" --expect-rates "$WORK/rates2.txt" >/dev/null 2>"$WORK/nopop.err"
check "an expected population that is not in the results is named" grep -q "population 'nobody' is not in" "$WORK/nopop.err"
# Repeatability: two trials of the 10 Hz network; identical counters, so no spread in them.
"$S2CTL" energy bench "$WORK/p10.s2img" --machine "$WORK/four.pb" --trials 2 --out "$WORK/bench" \
	--energy-every 50 --json >"$WORK/bench.json" 2>/dev/null
check "energy bench: 2 trials exit 0" test $? -eq 0
check "energy bench validates" python3 - "$(dirname "$SCHEMA")/s2ctl-energy-bench.schema.json" "$WORK/bench.json" <<'PY3'
import json, sys
import jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY3
check "energy bench: the same synaptic operations in both trials (spread 0), the run's energy too" \
	jq -e '(.runs | length) == 2 and .all.synaptic_operations.spread_pct == 0 and .all.run_energy_j.flagged == false and .all.synaptic_operations.mean == .runs[0].figures.synaptic_operations' "$WORK/bench.json"
check "energy bench: a record per trial" test -s "$WORK/bench/trial-2.energy"
"$S2CTL" energy report "$WORK/p80.energy" --svg "$WORK/p80.svg" --csv "$WORK" >"$WORK/p80.txt"
check "text report names the model and the kind" grep -q "modelled, model s2-energy-model-2" "$WORK/p80.txt"
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
