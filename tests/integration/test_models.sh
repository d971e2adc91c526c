#!/bin/bash
# The conductance-based LIF and Izhikevich models of the network format (docs/network.md):
# a small network of each compiles, runs on a 1-board s2emu, spikes and records v, and the
# emulator's results equal the engine's own (s2fw-run) byte for byte.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/m.json" <<'JSON'
{"format": 1, "name": "models", "timestep_ms": 0.1, "run_ms": 200, "seed": 5,
 "populations": [
   {"label": "in", "size": 20, "model": "spike_source_poisson", "params": {"rate_hz": 50}},
   {"label": "cond", "size": 30, "model": "lif_cond_exp",
    "params": {"e_rev_i_mv": -75, "tau_refrac_ms": 2}, "initial": {"v_mv": -60}},
   {"label": "cond_dc", "size": 2, "model": "lif_cond_exp", "params": {"i_offset_na": 1.0}},
   {"label": "izk", "size": 30, "model": "izhikevich", "params": {"d": 8}},
   {"label": "izk_dc", "size": 2, "model": "izhikevich",
    "params": {"i_offset_na": 0.01, "c_mv": -50}, "initial": {"u": -10}}],
 "projections": [
   {"pre": "in", "post": "cond", "connector": {"type": "fixed_probability", "p": 0.5},
    "weight": 0.01, "delay": 1},
   {"pre": "cond", "post": "cond", "connector": {"type": "fixed_probability", "p": 0.2},
    "weight": 0.02, "delay": 1, "receptor": "inhibitory"},
   {"pre": "in", "post": "izk", "connector": {"type": "fixed_probability", "p": 0.5},
    "weight": 4, "delay": 1},
   {"pre": "izk", "post": "izk", "connector": {"type": "from_list", "pre": [0, 1],
    "post": [2, 3], "weight": [2, 3]}, "delay": 0.5, "receptor": "inhibitory"}],
 "recordings": [{"population": "cond", "variable": "spikes"},
                {"population": "cond", "variable": "v_mv", "neurons": [0, 1]},
                {"population": "cond_dc", "variable": "spikes"},
                {"population": "izk", "variable": "spikes"},
                {"population": "izk", "variable": "v_mv", "neurons": [0]},
                {"population": "izk_dc", "variable": "spikes"}]}
JSON
"$S2CTL" net convert "$WORK/m.json" -o "$WORK/m.pb" --quiet
check "the network converts" test -s "$WORK/m.pb"
emu_start one --boards 1
"$S2CTL" compile "$WORK/m.pb" --machine "$WORK/one.pb" -o "$WORK/m.s2img" --quiet
check "compile exits 0" test -s "$WORK/m.s2img"
"$S2CTL" run "$WORK/m.s2img" --machine "$WORK/one.pb" -o "$WORK/m.s2res" --quiet
check "run exits 0" test $? -eq 0
"$S2FW_RUN" image "$WORK/m.s2img" -o "$WORK/m.local" >/dev/null
check "the emulator's results equal the engine's own, byte for byte" \
	cmp -s "$WORK/m.s2res" "$WORK/m.local"
"$S2CTL" results "$WORK/m.s2res" --json >"$WORK/r.json"
for p in cond cond_dc izk izk_dc; do
	check "$p spikes" jq -e ".populations[] | select(.label == \"$p\") | .spikes > 0" \
		"$WORK/r.json"
done
check "v recorded: 2 traces of cond, 1 of izk" jq -e \
	'[.populations[] | select(.label == "cond" or .label == "izk") | .voltage_traces] == [2, 1]' \
	"$WORK/r.json"
# A bad parameter is refused, naming the population and the reason.
sed 's/"d": 8/"d": 8000/' "$WORK/m.json" >"$WORK/bad.json"
"$S2CTL" net convert "$WORK/bad.json" -o "$WORK/bad.pb" --quiet 2>"$WORK/bad.err"
check "izhikevich d 8000 refused" grep -q "populations\[3\] (izk): d: 8000 is outside" \
	"$WORK/bad.err"

# The weight unit leaves room for every input a neuron can get in a step, up to 256 full-weight
# spikes (docs/engine.md): 100 sources spiking together into one neuron fit; 300 clip, and run
# counts and says so.
for n in 100 300; do
	jq -n --argjson n "$n" '{format: 1, name: "clip", timestep_ms: 0.1, run_ms: 5, seed: 1,
	  populations: [{label: "src", size: $n, model: "spike_source_array",
	                 spike_times: [range($n) | [1.0]]},
	                {label: "post", size: 1, model: "lif_curr_exp"}],
	  projections: [{pre: "src", post: "post", connector: {type: "all_to_all"}, weight: 1.0}],
	  recordings: [{population: "post", variable: "spikes"}]}' >"$WORK/clip$n.json"
	"$S2CTL" compile "$WORK/clip$n.json" --machine "$WORK/one.pb" -o "$WORK/clip$n.s2img" --quiet
	"$S2CTL" run "$WORK/clip$n.s2img" --machine "$WORK/one.pb" -o "$WORK/clip$n.s2res" --json \
		>"$WORK/clip$n.out" 2>"$WORK/clip$n.err"
done
check "100 simultaneous inputs fit" jq -e '.inputs_clipped == 0 and .synaptic_events == 100' \
	"$WORK/clip100.out"
check "300 clip: 255 of 256 units each fit in 65535, 45 counted" \
	jq -e '.inputs_clipped == 45' "$WORK/clip300.out"
check "and run warns about them" grep -q "45 inputs were clipped" "$WORK/clip300.err"

finish
