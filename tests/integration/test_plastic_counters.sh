#!/bin/bash
# Plasticity's counters (docs/engine.md "Plasticity", "Nothing clipped in silence") reach
# `s2ctl run` (--json and text) and the results file, per population: a post neuron firing
# every few steps between two spikes of its STDP pre neuron (tau_minus 200 ms, so the
# trace stays far above 2^-20) loses post spikes from its 16-spike history (hist_lost);
# the same network with the post neuron quiet counts nothing.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"
emu_start one --boards 1

net() { # $1: the post neuron's i_offset (nA)
	jq -n --argjson io "$1" '{format: 1, name: "plc", timestep_ms: 0.1, run_ms: 100, seed: 1,
  populations: [{label: "pre", size: 1, model: "spike_source_array", spike_times: [[1.0, 90.0]]},
                {label: "post", size: 1, model: "lif_curr_exp",
                 params: {i_offset_na: $io, tau_refrac_ms: 1.0}}],
  projections: [{pre: "pre", post: "post", connector: {type: "one_to_one"}, weight: 0.01,
                 delay: 1.0,
                 synapse: {rule: "stdp", weight_dependence: "additive", w_min: 0, w_max: 0.02,
                           tau_plus_ms: 20, tau_minus_ms: 200, a_plus: 0.01, a_minus: 0.012}}],
  recordings: [{population: "post", variable: "spikes"}]}'
}
for k in fire quiet; do
	if [ $k = fire ]; then net 5; else net 0; fi >"$WORK/$k.json"
	"$S2CTL" compile "$WORK/$k.json" --machine "$WORK/one.pb" -o "$WORK/$k.s2img" --quiet
	check "$k: compiles" test $? -eq 0
	"$S2CTL" run "$WORK/$k.s2img" --machine "$WORK/one.pb" -o "$WORK/$k.s2res" --json \
		>"$WORK/$k.out" 2>"$WORK/$k.err"
	check "$k: runs" test $? -eq 0
	jq -c '.populations[] | {label: .label, spikes: .spikes, clipped: .clipped}' "$WORK/$k.out"
	"$S2CTL" results "$WORK/$k.s2res" --json >"$WORK/$k.res.json"
	check "$k: results file readable" test $? -eq 0
done
pl() { jq -e ".populations[] | select(.label == \"$2\") | $3" "$WORK/$1" >/dev/null; }
check "fire: post spiked more than 16 times between the pre spikes" pl fire.out post '.spikes > 20'
check "fire: plastic counted for post (run --json)" pl fire.out post '.clipped.plastic > 0'
check "fire: nothing for pre" pl fire.out pre '.clipped.plastic == 0'
jq -c '[.populations[].clipped.plastic]' "$WORK/fire.out" >"$WORK/fire.pl"
check "fire: the results file keeps it" \
	jq_is "$WORK/fire.res.json" '[.populations[].clipped.plastic]' "$(cat "$WORK/fire.pl")"
check "fire: run warns" grep -q "plasticity" "$WORK/fire.err"
check "quiet: post silent" pl quiet.out post '.spikes == 0'
check "quiet: plastic 0 everywhere" jq_is "$WORK/quiet.out" '[.populations[].clipped.plastic]' '[0,0]'

"$S2CTL" run "$WORK/fire.s2img" --machine "$WORK/one.pb" -o "$WORK/fire2.s2res" >"$WORK/fire.txt" 2>/dev/null
check "human report: CLIPPED line for post" grep -q "post .*CLIPPED: plastic [1-9]" "$WORK/fire.txt"
"$S2FW_RUN" image "$WORK/fire.s2img" -o "$WORK/fire.local" >/dev/null
check "the engine's own run counts the same, byte for byte" cmp -s "$WORK/fire.s2res" "$WORK/fire.local"
finish
