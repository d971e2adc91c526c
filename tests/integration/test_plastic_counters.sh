#!/bin/bash
# Plasticity's counters (docs/engine.md "Plasticity", "Nothing clipped in silence") reach
# `s2ctl run` (--json and text) and the results file, per population: a post neuron firing
# every few steps between two spikes of its STDP pre neuron (tau_minus 200 ms, so the
# trace stays far above 2^-20) loses post spikes from its 16-spike history (hist_lost);
# the same network with the post neuron quiet counts nothing; an STDP weight of 2e-5 nA into
# a population whose weight unit a 20 nA projection sets (3e-4 nA) is delivered as 0 units
# (zero). Each is reported per cause (plastic_causes), and their sum as plastic.
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
zero_net() {
	jq -n '{format: 1, name: "plz", timestep_ms: 0.1, run_ms: 100, seed: 1,
  populations: [{label: "pre", size: 1, model: "spike_source_array", spike_times: [[1.0, 90.0]]},
                {label: "silent", size: 1, model: "spike_source_array", spike_times: [[]]},
                {label: "post2", size: 1, model: "lif_curr_exp", params: {tau_refrac_ms: 1.0}}],
  projections: [{pre: "pre", post: "post2", connector: {type: "one_to_one"}, weight: 0.00002,
                 delay: 1.0,
                 synapse: {rule: "stdp", weight_dependence: "additive", w_min: 0, w_max: 0.02,
                           tau_plus_ms: 20, tau_minus_ms: 200, a_plus: 0.01, a_minus: 0.012}},
                {pre: "silent", post: "post2", connector: {type: "one_to_one"}, weight: 20.0,
                 delay: 1.0}],
  recordings: [{population: "post2", variable: "spikes"}]}'
}
for k in fire quiet zero; do
	case $k in fire) net 5 ;; quiet) net 0 ;; zero) zero_net ;; esac >"$WORK/$k.json"
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
check "quiet: every cause 0" jq_is "$WORK/quiet.out" \
	'[.populations[].clipped.plastic_causes[]] | unique' '[0]'
# per cause: all of post's are post spikes gone from the history; all of post2's zero units
check "fire: post's causes: hist_lost only, summing to plastic" pl fire.out post \
	'.clipped | .plastic_causes.hist_lost == .plastic and
	 .plastic_causes.zero + .plastic_causes.clipped + .plastic_causes.queue_full == 0'
check "zero: post2's causes: zero 2 (two pre spikes) only" jq_is "$WORK/zero.out" \
	'.populations[] | select(.label == "post2") | .clipped.plastic_causes' \
	'{"zero":2,"clipped":0,"hist_lost":0,"queue_full":0}'
check "zero: plastic is their sum" pl zero.out post2 '.clipped.plastic == 2'
for k in fire zero; do
	jq -c '[.populations[].clipped.plastic_causes]' "$WORK/$k.out" >"$WORK/$k.pc"
	check "$k: the results file keeps the causes" \
		jq_is "$WORK/$k.res.json" '[.populations[].clipped.plastic_causes]' "$(cat "$WORK/$k.pc")"
done
check "fire: run's warning names the cause" grep -q "plasticity counted .*(hist_lost [1-9]" \
	"$WORK/fire.err"
check "zero: run's warning names the cause" grep -q "plasticity counted 2 .*(zero 2:" "$WORK/zero.err"

"$S2CTL" run "$WORK/fire.s2img" --machine "$WORK/one.pb" -o "$WORK/fire2.s2res" >"$WORK/fire.txt" 2>/dev/null
check "human report: CLIPPED line for post, per cause" \
	grep -q "post .*CLIPPED: plastic hist_lost [1-9][0-9]* (synapse updates that needed" "$WORK/fire.txt"
"$S2CTL" results "$WORK/zero.s2res" >"$WORK/zero.txt"
check "results' report: CLIPPED line for post2, per cause" \
	grep -q "post2 .*CLIPPED: plastic zero 2 (delivered weights above 0 rounded" "$WORK/zero.txt"
for k in fire zero; do
	"$S2FW_RUN" image "$WORK/$k.s2img" -o "$WORK/$k.local" >/dev/null
	check "$k: the engine's own run counts the same, byte for byte" \
		cmp -s "$WORK/$k.s2res" "$WORK/$k.local"
done
finish
