#!/bin/bash
# Projections between slices of populations (docs/network.md): compiled, expanded on the PEs
# of a 4-board s2emu and run, each connector connects exactly the slices it names: the
# neurons outside every post slice never spike, those inside do.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

spikes=$(python3 -c "print(', '.join(['[2.0]'] * 40))")
cat >"$WORK/sl.json" <<JSON
{"format": 1, "name": "slices", "timestep_ms": 1.0, "run_ms": 20, "seed": 7,
 "populations": [
   {"label": "in", "size": 40, "model": "spike_source_array", "spike_times": [$spikes]},
   {"label": "out", "size": 300, "model": "lif_curr_exp", "max_per_pe": 64,
    "params": {"tau_refrac_ms": 50}}],
 "projections": [
   {"pre": "in", "post": "out", "pre_slice": [10, 20], "post_slice": [150, 160],
    "connector": {"type": "one_to_one"}, "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [0, 2], "post_slice": [0, 5],
    "connector": {"type": "all_to_all"}, "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [30, 40], "post_slice": [60, 70],
    "connector": {"type": "fixed_number_pre", "n": 2}, "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [20, 30], "post_slice": [200, 210],
    "connector": {"type": "fixed_probability", "p": 1.0}, "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [2, 4], "post_slice": [250, 260],
    "connector": {"type": "fixed_number_post", "n": 10}, "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [4, 10], "post_slice": [100, 110],
    "connector": {"type": "fixed_total", "n": 200, "with_replacement": true},
    "weight": 5, "delay": 1},
   {"pre": "in", "post": "out", "pre_slice": [20, 22], "post_slice": [290, 295],
    "connector": {"type": "from_list", "pre": [0, 1], "post": [0, 4]}, "weight": 5,
    "delay": 1}],
 "recordings": [{"population": "out", "variable": "spikes"}]}
JSON
"$S2CTL" net convert "$WORK/sl.json" -o "$WORK/sl.pb" --quiet
check "the network with slices converts" test -s "$WORK/sl.pb"
emu_start four --boards 4
"$S2CTL" compile "$WORK/sl.pb" --machine "$WORK/four.pb" -o "$WORK/sl.s2img" --json >"$WORK/c.json"
check "compile with slices exits 0 (the engine takes them)" test -s "$WORK/sl.s2img"
check "out spans several PEs" jq -e '.pes >= 6' "$WORK/c.json"
"$S2CTL" run "$WORK/sl.s2img" --machine "$WORK/four.pb" -o "$WORK/sl.s2res" --quiet
check "run exits 0" test $? -eq 0
"$S2FW_RUN" image "$WORK/sl.s2img" -o "$WORK/sl.local" >/dev/null
check "the emulator's results equal the engine's own, byte for byte" \
	cmp -s "$WORK/sl.s2res" "$WORK/sl.local"
"$S2CTL" results "$WORK/sl.s2res" --csv "$WORK/csv" --quiet
tail -n +2 "$WORK/csv/out_spikes.csv" | cut -d, -f1 | sort -n | uniq >"$WORK/fired.txt"
expect() { seq "$1" "$2"; }
{ expect 0 4; expect 60 69; expect 100 109; expect 150 159; expect 200 209; expect 250 259
  echo 290; echo 294; } | sort -n >"$WORK/want.txt"
check "exactly the neurons the slices connect spike" cmp -s "$WORK/fired.txt" "$WORK/want.txt" ||
	diff "$WORK/fired.txt" "$WORK/want.txt" | head -20

finish
