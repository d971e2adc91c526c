#!/bin/bash
# The real-time budget (docs/mapping.md, docs/engine.md "Real-time budget"): the mapper puts
# no more neurons on a PE than its clock updates in one timestep, by the measured cost per
# model (s2ctl net models); a population of which one neuron is too slow is refused, naming
# it and the numbers, unless --allow-slow; run on s2emu, the engine counts the steps whose
# modelled cycles exceed the budget, per population, in s2ctl run / results (text, JSON and
# the results file), and a LIF network counts none.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

"$S2CTL" net models --json >"$WORK/models.json"
check "net models: hh_cond_exp costs more than a 0.1 ms step at 300 MHz (30000 cycles)" \
	jq -e '.models[] | select(.model == "hh_cond_exp") | .cycles_per_update > 30000' \
	"$WORK/models.json"
check "net models: lif_curr_exp fits 128 per step" \
	jq -e '.models[] | select(.model == "lif_curr_exp") | .cycles_per_update * 128 < 30000' \
	"$WORK/models.json"

net() { # DT_MS: HH, Izhikevich and LIF populations driven by Poisson sources
	cat <<JSON
{"format": 1, "name": "budget", "timestep_ms": $1, "run_ms": 10, "seed": 3,
 "populations": [
   {"label": "drive", "size": 20, "model": "spike_source_poisson", "params": {"rate_hz": 50}},
   {"label": "hh", "size": 3, "model": "hh_cond_exp", "params": {"i_offset_na": 0.5}},
   {"label": "izk", "size": 20, "model": "izhikevich", "params": {"i_offset_na": 0.01}},
   {"label": "lif", "size": 300, "model": "lif_curr_exp", "params": {"i_offset_na": 1.0}}],
 "projections": [
   {"pre": "drive", "post": "hh", "connector": {"type": "all_to_all"}, "weight": 0.01,
    "delay": 1.0},
   {"pre": "drive", "post": "lif", "connector": {"type": "all_to_all"}, "weight": 0.1,
    "delay": 1.0}],
 "recordings": [{"population": "hh", "variable": "spikes"},
                {"population": "lif", "variable": "spikes"}]}
JSON
}
net 0.1 >"$WORK/b01.json"
net 1.0 >"$WORK/b1.json"
sed 's/"size": 3, "model": "hh_cond_exp"/"size": 1, "model": "lif_cond_exp"/' "$WORK/b1.json" \
	>"$WORK/nohh1.json"
emu_start one --boards 1
"$S2CTL" machine generate --boards 1 --pe-mhz 150 -o "$WORK/slow.pb" --quiet

# Refused: the population, its model, the cycles, the budget and the way out are named.
"$S2CTL" compile "$WORK/b01.json" --machine "$WORK/one.pb" -o "$WORK/b01.s2img" \
	2>"$WORK/refuse.err"
rc=$?
check "HH at 0.1 ms: refused, exit 3, no image" test $rc -eq 3 -a ! -e "$WORK/b01.s2img"
check "the refusal names the population, the cycles, the budget and --allow-slow" \
	grep -q "population hh: one hh_cond_exp neuron takes 47[0-9]* cycles per step.*more than the 30000 a PE has per 0.1 ms step at 300 MHz.*--allow-slow, to run 15.7 times slower" \
	"$WORK/refuse.err" || cat "$WORK/refuse.err"
"$S2CTL" compile "$WORK/b1.json" --machine "$WORK/one.pb" -o "$WORK/b1.s2img" 2>"$WORK/r1.err"
check "HH at 1 ms (300000 cycles): still refused, 1.6 times too slow" \
	grep -q "more than the 300000 a PE has per 1 ms step at 300 MHz.*1.6 times slower" \
	"$WORK/r1.err" || cat "$WORK/r1.err"

# Neurons per PE from the budget: Izhikevich (5314 cycles) 5 per PE at 0.1 ms and 300 MHz,
# 2 at 150 MHz, all 20 on one PE at 1 ms; LIF stays at 128.
"$S2CTL" compile "$WORK/nohh1.json" --machine "$WORK/one.pb" -o "$WORK/n1.s2img" --json \
	>"$WORK/n1.json"
check "1 ms, no HH: real time, 1 + 1 + 1 + 3 PEs (20 Izhikevich on one PE, LIF 128 per PE)" \
	jq -e '.pes == 6 and .budget.real_time and .budget.cycles_per_step == 300000' \
	"$WORK/n1.json"
sed 's/"timestep_ms": 1.0/"timestep_ms": 0.1/' "$WORK/nohh1.json" >"$WORK/nohh01.json"
"$S2CTL" compile "$WORK/nohh01.json" --machine "$WORK/one.pb" -o "$WORK/n01.s2img" --json \
	>"$WORK/n01.json"
check "0.1 ms: Izhikevich 5 per PE (4 PEs), LIF 128 per PE (3): 9 PEs" \
	jq -e '.pes == 9 and .budget.cycles_per_step == 30000' "$WORK/n01.json"
"$S2CTL" compile "$WORK/nohh01.json" --machine "$WORK/slow.pb" -o "$WORK/slow.s2img" \
	--json >"$WORK/slow.json"
check "at 150 MHz (--pe-mhz 150): Izhikevich 2 per PE (10 PEs): 15 PEs" \
	jq -e '.pes == 15 and .budget.cycles_per_step == 15000' "$WORK/slow.json"

# The partition never depends on run_ms (pyNN.s2 compiles for Projection.get() with run_ms
# = dt, then runs with the real length, and the machine must draw the same synapses): 40
# spike arrays of one spike each into 128 LIF neurons. Charged over a run of 0.1 ms they
# would fire at 10 kHz and put 8 events per neuron per step (107 LIF per PE, 2 PEs).
arr() { # RUN_MS
	jq -n --argjson run "$1" '{format: 1, name: "arr", timestep_ms: 0.1, run_ms: $run, seed: 5,
  populations: [{label: "src", size: 40, model: "spike_source_array",
                 spike_times: [range(40) | [5 + 10 * .]]},
                {label: "post", size: 128, model: "lif_curr_exp"}],
  projections: [{pre: "src", post: "post", connector: {type: "fixed_probability", p: 0.2},
                 weight: 1.0, delay: 1.0}]}'
}
for r in 0.1 400; do
	arr $r >"$WORK/arr$r.json"
	"$S2CTL" compile "$WORK/arr$r.json" --machine "$WORK/one.pb" -o "$WORK/arr$r.s2img" \
		--json >"$WORK/arr$r.out"
done
check "spike arrays: the same partition for run_ms 0.1 and 400 (1 + 1 PEs)" \
	jq -e --slurpfile o "$WORK/arr400.out" '.pes == 2 and .pes == $o[0].pes' "$WORK/arr0.1.out"

# Allowed slower than real time: one HH neuron per PE, the slow-down reported.
"$S2CTL" compile "$WORK/b01.json" --machine "$WORK/one.pb" -o "$WORK/b01.s2img" \
	--allow-slow --json >"$WORK/slow01.json"
check "--allow-slow: compiled, not real time, 15.7x, set by hh" \
	jq -e '.budget.real_time == false and (.budget.slowdown * 10 | round) == 157 and
	       .budget.slowest_population == "hh"' "$WORK/slow01.json"
"$S2CTL" compile "$WORK/b01.json" --machine "$WORK/one.pb" -o "$WORK/b01t.s2img" \
	--allow-slow >"$WORK/slow01.txt"
check "--allow-slow text: says it is not real time and by how much" \
	grep -q "real time: NO, 15.7 times slower than real time" "$WORK/slow01.txt"

# Run on s2emu: the engine's modelled cost counts every step of each HH PE, none of LIF's.
"$S2CTL" run "$WORK/b01.s2img" --machine "$WORK/one.pb" -o "$WORK/b01.s2res" --json \
	>"$WORK/run.json" 2>"$WORK/run.err"
check "run exits 0 and completes" jq -e '.complete' "$WORK/run.json"
check "run JSON: not real time, slow-down about 15.7" \
	jq -e '.real_time == false and .slowdown > 15.5 and .slowdown < 16' "$WORK/run.json"
check "run JSON: hh over budget in each of its 3 PEs' 100 steps" \
	jq -e '.populations[] | select(.label == "hh") | .budget.steps_over == 300' \
	"$WORK/run.json"
check "run JSON: lif, izk and the source within the budget" \
	jq -e '[.populations[] | select(.label != "hh") | .budget.steps_over] == [0, 0, 0] and
	       ([.populations[] | select(.label == "lif") | .budget.worst_step][0] < 1)' \
	"$WORK/run.json"
check "run --json warns on stderr that it was not real time" grep -q "NOT REAL TIME" "$WORK/run.err"
"$S2CTL" results "$WORK/b01.s2res" >"$WORK/res.txt"
check "s2ctl results: the file keeps the counters (text)" \
	grep -q "hh .*OVER BUDGET: 300 PE-steps exceeded the real-time budget" "$WORK/res.txt"
check "s2ctl results: says the run was not real time" grep -q "NOT REAL TIME" "$WORK/res.txt"
"$S2CTL" results "$WORK/b01.s2res" --json >"$WORK/res.json"
check "s2ctl results --json: real_time false, hh 300 steps over" \
	jq -e '.real_time == false and
	       (.populations[] | select(.label == "hh") | .budget.steps_over) == 300' \
	"$WORK/res.json"
"$S2FW_RUN" image "$WORK/b01.s2img" -o "$WORK/b01.local" >/dev/null
check "s2fw-run's results equal the emulator's, byte for byte (the same counters)" \
	cmp -s "$WORK/b01.s2res" "$WORK/b01.local"

# A LIF network: real time, nothing counted.
"$S2CTL" net example vogels_abbott --scale 0.25 -o "$WORK/va.pb" --quiet
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/one.pb" -o "$WORK/va.s2img" --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/one.pb" -o "$WORK/va.s2res" --duration 50ms \
	--json >"$WORK/va.json"
check "LIF (Vogels-Abbott): real time, no step over budget" \
	jq -e '.real_time == true and .slowdown < 1 and
	       ([.populations[].budget.steps_over] | add) == 0' "$WORK/va.json"
"$S2CTL" results "$WORK/va.s2res" >"$WORK/va.txt"
check "LIF: s2ctl results prints no budget warning" bash -c "! grep -q 'NOT REAL TIME\|OVER BUDGET' '$WORK/va.txt'"

finish
