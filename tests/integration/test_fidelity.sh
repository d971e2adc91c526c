#!/bin/bash
# Model fidelity on s2emu (docs/engine.md): the free membrane under background Poisson input
# at 12.8 kHz against Campbell's theorem; every clipping counter counts, per population, in
# `s2ctl run` (human and --json) and in the results file (input slot, weights rounded to
# zero or above the maximum, delays clamped, recording space); a network the engine cannot hold
# is refused with the population named; a Poisson source above one spike per step is refused.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq, python3 with numpy.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=python3
$PY -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
emu_start one --boards 1

# 1. Campbell: 128 free neurons (threshold out of reach), every voltage recorded, 1 s.
jq -n '{format: 1, name: "campbell", timestep_ms: 0.1, run_ms: 1000, seed: 9,
  populations: [{label: "free", size: 128, model: "lif_curr_exp",
    params: {cm_nf: 0.25, tau_m_ms: 10, tau_syn_e_ms: 0.5, tau_syn_i_ms: 0.5,
             v_thresh_mv: 1000, bg_rate_hz: 12800, bg_weight_na: 0.08781}}],
  recordings: [{population: "free", variable: "v_mv"}]}' >"$WORK/camp.json"
"$S2CTL" compile "$WORK/camp.json" --machine "$WORK/one.pb" -o "$WORK/camp.s2img" --quiet
"$S2CTL" run "$WORK/camp.s2img" --machine "$WORK/one.pb" -o "$WORK/camp.s2res" --quiet
check "campbell network runs" test $? -eq 0
"$S2CTL" results "$WORK/camp.s2res" --npy "$WORK/camp" --quiet
$PY "$HERE/reference/campbell.py" "$WORK/camp/free_v.npy" --rate 12800 --weight 0.08781 \
	>"$WORK/camp.out"
check "s2emu: mean and variance of the free membrane as Campbell's theorem" test $? -eq 0
cat "$WORK/camp.out"
"$S2FW_RUN" image "$WORK/camp.s2img" -o "$WORK/camp.local" >/dev/null
check "and the emulator's results equal the engine's own, byte for byte" \
	cmp -s "$WORK/camp.s2res" "$WORK/camp.local"

# 2. A network built to clip: 300 sources spiking together into one neuron (45 input
#    additions clipped), weights drawn from a normal around 0 (about half round to zero),
#    delays from a normal beyond 1-64 steps (most clamped), and an unrecorded population.
#    The sources' hint keeps their one-step burst out of the real-time budget (charged as
#    1,000 Hz, a spike each in the first ms, it would put 63 "drawn" neurons on a PE, whose
#    fewer neurons keep a longer delay range, docs/engine.md): 100 on one PE, 1-64 steps.
jq -n '{format: 1, name: "clip", timestep_ms: 0.1, run_ms: 5, seed: 1,
  populations: [{label: "src", size: 300, model: "spike_source_array", rate_hint_hz: 10,
                 spike_times: [range(300) | [1.0]]},
                {label: "sat", size: 1, model: "lif_curr_exp"},
                {label: "drawn", size: 100, model: "lif_curr_exp"},
                {label: "quiet", size: 10, model: "lif_curr_exp"}],
  projections: [{pre: "src", post: "sat", connector: {type: "all_to_all"}, weight: 1.0},
                {pre: "src", post: "drawn", connector: {type: "fixed_probability", p: 0.5},
                 weight: {dist: "normal", mean: 0.0, sd: 0.1},
                 delay: {dist: "normal", mean: 3.2, sd: 6}},
                {pre: "src", post: "quiet", connector: {type: "fixed_probability", p: 0.1},
                 weight: 0.01}],
  recordings: [{population: "sat", variable: "spikes"}, {population: "drawn",
                variable: "spikes"}]}' >"$WORK/clip.json"
"$S2CTL" compile "$WORK/clip.json" --machine "$WORK/one.pb" -o "$WORK/clip.s2img" --quiet
"$S2CTL" run "$WORK/clip.s2img" --machine "$WORK/one.pb" -o "$WORK/clip.s2res" --json \
	>"$WORK/clip.out" 2>"$WORK/clip.err"
check "run exits 0" test $? -eq 0
pop() { jq -e ".populations[] | select(.label == \"$1\") | $2" "$WORK/clip.out" >/dev/null; }
check "inputs_clipped counted for sat (45), none elsewhere" pop sat '.clipped.inputs_clipped == 45'
check "weights rounded to zero counted for drawn (about half of about 15,000)" \
	pop drawn '.clipped.weights_zero > 6000 and .clipped.weights_zero < 9000'
jq -c '.populations[] | select(.label == "drawn") | .clipped' "$WORK/clip.out"
check "delays clamped counted for drawn (most of them)" \
	pop drawn '.clipped.delays_clamped > 7000'
check "nothing clipped for quiet" pop quiet '[.clipped | .. | numbers] | add == 0'
check "quiet: spikes not recorded (null), not 0" pop quiet '.spikes_recorded == false and .spikes == null'
check "run warns about the drawn synapses" grep -q "synapses drawn on the PEs had a weight" "$WORK/clip.err"
"$S2CTL" run "$WORK/clip.s2img" --machine "$WORK/one.pb" -o "$WORK/clip2.s2res" >"$WORK/clip.txt" 2>/dev/null
check "human report: CLIPPED lines per population" grep -q "sat .*CLIPPED: inputs_clipped 45" "$WORK/clip.txt"
check "human report: 'spikes not recorded'" grep -q "quiet .*spikes not recorded" "$WORK/clip.txt"
"$S2CTL" results "$WORK/clip.s2res" --json >"$WORK/clip.res.json"
check "results file keeps the counters" jq -e '[.populations[] | .clipped.inputs_clipped] == [0, 45, 0, 0]' "$WORK/clip.res.json"
"$S2FW_RUN" image "$WORK/clip.s2img" -o "$WORK/clip.local" >/dev/null
check "the engine's own run counts the same, byte for byte" cmp -s "$WORK/clip.s2res" "$WORK/clip.local"

# Weights above 65535 units cannot come from a mapped network (the unit is chosen above the
# largest weight); the engine still counts them: its own harness, 3 x 4 synapses of 100 nA in
# units of 1 pA.
"$S2FW_RUN" --n 4 --connect all_to_all:n_pre=3:w=100:d=1:seed=1 --duration 1 --json \
	>"$WORK/wmax.json"
check "weights_clipped counted by the engine (12)" jq -e '.counters.weights_clipped == 12' "$WORK/wmax.json"

# Recording space: a chip holding 151 application PEs gives each one 1,331,200 bytes per
# stream (docs/protocol.md, s2_app_area). 128 voltages are 512 bytes a step, so after the
# 96-byte header 2,599 steps fit. Run in one part (--part-ms 270), 2,700 steps lose the last
# 101 (51,712 bytes), counted for the recorded population only, in the run's report and the
# results, and the steps that were not delivered read as NaN. Without --part-ms the run goes
# in two parts and loses nothing.
jq -n '{format: 1, name: "reclost", timestep_ms: 0.1, run_ms: 270, seed: 1,
  populations: [{label: "rec", size: 128, model: "lif_curr_exp"},
                {label: "fill", size: 19200, model: "spike_source_array",
                 spike_times: [range(19200) | []]}],
  recordings: [{population: "rec", variable: "v_mv"}]}' >"$WORK/rl.json"
"$S2CTL" compile "$WORK/rl.json" --machine "$WORK/one.pb" -o "$WORK/rl.s2img" >"$WORK/rl.cout"
check "the recording network fills one chip (151 PEs)" grep -q "151 PEs on 1 chips" "$WORK/rl.cout"
"$S2CTL" run "$WORK/rl.s2img" --machine "$WORK/one.pb" -o "$WORK/rl.parts.s2res" --json \
	>"$WORK/rl.parts.out"
check "the recordings do not fit: two parts, nothing lost" jq -e \
	'[.parts, .complete, .recording_bytes_lost] == [2, true, 0]' "$WORK/rl.parts.out"
"$S2FW_RUN" image "$WORK/rl.s2img" -o "$WORK/rl.local" >/dev/null
check "... every step's voltages, equal to the engine's own run" \
	cmp -s "$WORK/rl.parts.s2res" "$WORK/rl.local"
"$S2CTL" run "$WORK/rl.s2img" --machine "$WORK/one.pb" -o "$WORK/rl.s2res" --json \
	--part-ms 270 >"$WORK/rl.out" 2>"$WORK/rl.err"
check "run --part-ms 270 exits 0" test $? -eq 0
check "recording_bytes_lost 51712 in total" jq -e '.recording_bytes_lost == 51712' "$WORK/rl.out"
check "counted for rec, not for fill" jq -e \
	'[.populations[] | .clipped.recording_bytes_lost] == [51712, 0]' "$WORK/rl.out"
check "run warns about the lost bytes" grep -q "51712 recording bytes lost" "$WORK/rl.err"
"$S2CTL" results "$WORK/rl.s2res" >"$WORK/rl.txt"
check "results: CLIPPED line for rec" grep -q "rec .*CLIPPED: recording_bytes_lost 51712" "$WORK/rl.txt"
# The same with rec's spikes recorded too: spikes were lost, so there is no rate to give (a
# rate over the whole run would be too low and look right).
jq '.recordings += [{population: "rec", variable: "spikes"}]
    | .populations[0].params = {i_offset_na: 2}' "$WORK/rl.json" >"$WORK/rl2.json"
"$S2CTL" compile "$WORK/rl2.json" --machine "$WORK/one.pb" -o "$WORK/rl2.s2img" --quiet
"$S2CTL" run "$WORK/rl2.s2img" --machine "$WORK/one.pb" -o "$WORK/rl2.s2res" --json \
	--part-ms 270 >"$WORK/rl2.out" 2>/dev/null
check "spikes and voltages lost: rec has spikes but no rate" jq -e \
	'.populations[0] | .clipped.recording_bytes_lost > 0 and .spikes > 0 and .rate_hz == null' \
	"$WORK/rl2.out"
"$S2CTL" results "$WORK/rl2.s2res" >"$WORK/rl2.txt"
check "results: rec says recording incomplete, no rate" \
	grep -q "rec .*spikes (recording incomplete: no rate)" "$WORK/rl2.txt"
"$S2CTL" results "$WORK/rl.s2res" --npy "$WORK/rlnpy" --quiet
check "results: 2,599 steps of voltage, the 101 lost ones NaN" $PY -c "
import numpy as np, sys
v = np.load(sys.argv[1])
sys.exit(not (v.shape == (2700, 128) and not np.isnan(v[:2599]).any()
              and np.isnan(v[2599:]).all()))" "$WORK/rlnpy/rec_v.npy"

# The synfire example carries its pulse packet through all 200 groups (2 ms per group).
"$S2CTL" net example synfire --scale 0.01 -o "$WORK/syn.pb" --quiet
"$S2CTL" compile "$WORK/syn.pb" --machine "$WORK/one.pb" -o "$WORK/syn.s2img" --quiet
"$S2CTL" run "$WORK/syn.s2img" --machine "$WORK/one.pb" --duration 600 -o "$WORK/syn.s2res" \
	--json >"$WORK/syn.json"
check "synfire: the first, middle and last group each fire most of their 100 neurons" jq -e \
	'[.populations[] | select(.spikes_recorded) | .spikes > 60] == [true, true, true]' \
	"$WORK/syn.json"
"$S2CTL" results "$WORK/syn.s2res" --csv "$WORK/syncsv" --quiet
first() { awk -F, 'NR == 2 { print int($2) }' "$WORK/syncsv/$1_spikes.csv"; }
check "synfire: the packet reaches group 100 after 200 ms and group 199 after 400 ms" \
	test "$(first chain000)" -lt 20 -a "$(first chain100)" -ge 200 -a "$(first chain199)" -ge 400
check "synfire: no spike file for the unrecorded groups" test ! -e "$WORK/syncsv/chain050_spikes.csv"

# 3. Refused, naming the population: weights that round to zero units, sources above one
#    spike per step.
jq '.projections[2].weight = 0.000001 | .projections += [{pre: "src", post: "quiet",
  connector: {type: "fixed_probability", p: 0.1}, weight: 100}]' "$WORK/clip.json" >"$WORK/zero.json"
"$S2CTL" compile "$WORK/zero.json" --machine "$WORK/one.pb" -o "$WORK/zero.s2img" --quiet \
	2>"$WORK/zero.err"
check "a weight rounding to zero is refused (exit != 0)" test $? -ne 0
check "naming the population" grep -q "into population quiet: the weights cannot be represented" "$WORK/zero.err"
jq -n '{format: 1, name: "fast", timestep_ms: 0.1, run_ms: 5,
  populations: [{label: "drive", size: 1, model: "spike_source_poisson", params: {rate_hz: 16000}}]}' \
	>"$WORK/fast.json"
"$S2CTL" net convert "$WORK/fast.json" -o "$WORK/fast.pb" 2>"$WORK/fast.err"
check "a 16 kHz source at 0.1 ms is refused" test $? -ne 0
check "naming the population and the rate" grep -q "populations\[0\] (drive): rate_hz 16000" "$WORK/fast.err"
finish
