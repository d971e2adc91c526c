#!/bin/bash
# Compile, deploy and run networks on a 4-board s2emu: the results must equal the engine's
# own expectation (s2fw-run image: every PE in one process, ideal delivery) byte for byte,
# also under 10% loss, duplication and reordering; a board that dies during a run gives a
# clear error in bounded time and the results of the others are kept.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
"$S2CTL" net example synfire --scale 0.01 -o "$WORK/syn.pb" --quiet
"$S2CTL" net example synfire --scale 0.02 -o "$WORK/syn2.pb" --quiet
check "example networks written" test -s "$WORK/va.pb" -a -s "$WORK/syn.pb"

emu_start four --boards 4
for net in va syn; do
	"$S2CTL" compile "$WORK/$net.pb" --machine "$WORK/four.pb" -o "$WORK/$net.s2img" --quiet
	check "compile $net" test -s "$WORK/$net.s2img"
	"$S2FW_RUN" image "$WORK/$net.s2img" --duration 200 -o "$WORK/$net.local" >/dev/null
	"$S2CTL" run "$WORK/$net.s2img" --machine "$WORK/four.pb" --duration 200 \
		-o "$WORK/$net.s2res" --json >"$WORK/$net.json"
	check "run $net exits 0" test $? -eq 0
	check "run $net: results equal the engine's own run, byte for byte" \
		cmp -s "$WORK/$net.s2res" "$WORK/$net.local"
	check "run $net: nothing dropped or lost" \
		jq_is "$WORK/$net.json" '[.packets_dropped, .recording_bytes_lost]' '[0,0]'
done
# Router tables compressed to the minimum (ordered, overlapping entries: the emulator's
# routers match in table order): the same results.
for net in va syn; do
	"$S2CTL" compile "$WORK/$net.pb" --machine "$WORK/four.pb" -o "$WORK/$net.min.s2img" \
		--router-target min --json >"$WORK/$net.minc.json"
	check "compile $net --router-target min: no more entries" \
		jq_is "$WORK/$net.minc.json" '.entries_after <= .entries_before' 'true'
	"$S2CTL" run "$WORK/$net.min.s2img" --machine "$WORK/four.pb" --duration 200 \
		-o "$WORK/$net.min.s2res" --quiet
	check "run $net with minimal tables: results equal the engine's own run" \
		cmp -s "$WORK/$net.min.s2res" "$WORK/$net.local"
done
check "VA spikes in both populations" \
	jq_is "$WORK/va.json" '[.populations[] | .spikes > 0]' '[true,true]'
check "synfire: the chain carries activity" \
	jq_is "$WORK/syn.json" '[.synaptic_events > 0, .spikes > 100]' '[true,true]'
# A board with no PE of the network whose routers carry its packets: 8 chips of one-spike
# sources (one per PE) project at random onto 24 chips of neurons, all on board 0; some of the
# multicast trees are shortest through board 1, which gets router tables and no PE. It takes
# part in the run (it was refused with "wrong state" before router tables counted as an
# application): complete, nothing dropped, the engine's own results.
jq -n '{format: 1, name: "routeonly", timestep_ms: 0.1, run_ms: 20, seed: 3,
	populations: [{label: "X", size: 1208, model: "spike_source_array", max_per_pe: 1,
			spike_times: [range(1208) | [1]]},
		{label: "F", size: 3624, model: "lif_curr_exp", max_per_pe: 1,
			params: {v_rest_mv: -65, v_reset_mv: -65}}],
	projections: [{label: "X->F", pre: "X", post: "F", receptor: "excitatory",
		connector: {type: "fixed_probability", p: 0.01}, weight: 0.5, delay: 1.0}],
	recordings: [{population: "F", variable: "spikes"}]}' >"$WORK/ro.json"
"$S2CTL" net convert "$WORK/ro.json" -o "$WORK/ro.pb" --to pb >/dev/null
"$S2CTL" compile "$WORK/ro.pb" --machine "$WORK/four.pb" -o "$WORK/ro.s2img" --json >"$WORK/ro.c.json"
check "routes only: the network's PEs are on one board" jq_is "$WORK/ro.c.json" '.boards' '1'
"$S2CTL" run "$WORK/ro.s2img" --machine "$WORK/four.pb" -o "$WORK/ro.s2res" --json \
	>"$WORK/ro.out.json" 2>"$WORK/ro.err"
check "routes only: board 1 (router tables, no PE) runs with board 0: exit 0" test $? -eq 0
sed 's/^/    /' "$WORK/ro.err" | head -3
check "... both complete, spikes delivered, nothing dropped" jq_is "$WORK/ro.out.json" \
	'[.complete, [.boards[] | [.board, .status]], .synaptic_events > 0, .packets_dropped]' \
	'[true,[[0,"complete"],[1,"complete"]],true,0]'
"$S2FW_RUN" image "$WORK/ro.s2img" -o "$WORK/ro.local" >/dev/null
check "... and the results equal the engine's own run" cmp -s "$WORK/ro.s2res" "$WORK/ro.local"
# A run in parts: the boards pause after each part, its recordings are read back, and the
# next part continues from where it stopped. Whatever the parts, the results are those of one
# run, byte for byte: --part-ms 30 gives 7 parts of 200 ms.
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --duration 200 --part-ms 30 \
	-o "$WORK/va.parts.s2res" --json >"$WORK/va.parts.json"
check "--part-ms 30: 7 parts, complete" jq_is "$WORK/va.parts.json" '[.parts, .complete]' '[7,true]'
check "... the results equal the engine's own run in one, byte for byte" \
	cmp -s "$WORK/va.parts.s2res" "$WORK/va.local"
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --part-ms 0 -o "$WORK/p0.s2res" \
	2>"$WORK/p0.err"
check "--part-ms 0 refused: exit 2, naming the option, nothing written" sh -c \
	"test $? -eq 2 && grep -q \"^s2ctl run: --part-ms: '0' is not a time in ms\" '$WORK/p0.err' && test ! -e '$WORK/p0.s2res'"
# (A run that does not fit its recordings goes in parts by itself: test_fidelity.sh.)
# Running twice: what `s2ctl deploy` loaded runs once from t = 0. A second `run --deployed`
# would go on from the PEs' state, its recordings after the first run's in regions sized for
# one: it is refused, saying why, and writes nothing. Deployed again, it runs from t = 0.
"$S2CTL" deploy "$WORK/va.s2img" --machine "$WORK/four.pb" --duration 200 --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --deployed --duration 200 \
	-o "$WORK/d1.s2res" --quiet
check "deploy, run --deployed: results equal the engine's own run" \
	cmp -s "$WORK/d1.s2res" "$WORK/va.local"
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --deployed --duration 200 \
	-o "$WORK/d2.s2res" 2>"$WORK/d2.err"
rc=$?
check "run --deployed a second time: refused (exit $rc)" test $rc -ne 0
check "... saying that it already ran and to deploy it again" \
	grep -q "already ran since it was deployed.*s2ctl deploy it again" "$WORK/d2.err"
grep -q "already ran" "$WORK/d2.err" || sed 's/^/    /' "$WORK/d2.err"
check "... and writing no results" test ! -e "$WORK/d2.s2res"
"$S2CTL" deploy "$WORK/va.s2img" --machine "$WORK/four.pb" --duration 200 --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --deployed --duration 200 \
	-o "$WORK/d3.s2res" --quiet
check "deployed again, it runs from t = 0: the same results" \
	cmp -s "$WORK/d3.s2res" "$WORK/va.local"
"$S2CTL" results "$WORK/va.s2res" --csv "$WORK/csv" --npy "$WORK/npy" --quiet
check "results convert to CSV and .npy" \
	test -s "$WORK/csv/E_spikes.csv" -a -s "$WORK/npy/E_spikes.npy"
check ".npy header is NumPy's" sh -c "head -c 6 '$WORK/npy/E_spikes.npy' | grep -q NUMPY"

# The same runs through a lossy network.
emu_start lossy --boards 4 --loss 0.1 --dup 0.1 --reorder 0.1 --seed 3
for net in va syn; do
	"$S2CTL" compile "$WORK/$net.pb" --machine "$WORK/lossy.pb" -o "$WORK/$net.l.s2img" --quiet
	"$S2CTL" run "$WORK/$net.l.s2img" --machine "$WORK/lossy.pb" --duration 200 \
		-o "$WORK/$net.l.s2res" --quiet
	check "run $net under 10% loss+dup+reorder exits 0" test $? -eq 0
	check "run $net under loss: the same results" cmp -s "$WORK/$net.l.s2res" "$WORK/$net.local"
done

# A bad image changes nothing and says why.
head -c 2000 "$WORK/va.s2img" >"$WORK/bad.s2img"
"$S2CTL" run "$WORK/bad.s2img" --machine "$WORK/four.pb" 2>"$WORK/bad.err"
check "truncated image refused with exit 3" test $? -eq 3
check "the error names the image" grep -q "bad.s2img" "$WORK/bad.err"

# A board that dies during a run: the run of a network spread over two boards.
# Board 0 keeps chips 0 and 1 (302 application PEs), board 1 its first row: a 401-PE
# synfire chain must use both, linked through board 0 chip 0's west link.
emu_start pair --boards 2 $(for c in $(seq 2 47); do printf -- '--dead-chip 0:%s ' "$c"; done) \
	$(for c in $(seq 8 47); do printf -- '--dead-chip 1:%s ' "$c"; done)
"$S2CTL" boot --machine "$WORK/pair.pb" --write-machine "$WORK/pair-found.pb" --quiet
"$S2CTL" compile "$WORK/syn2.pb" --machine "$WORK/pair-found.pb" -o "$WORK/pair.s2img" --json >"$WORK/pair-c.json"
check "the network spans both boards" jq_is "$WORK/pair-c.json" '.boards' '2'
( sleep 1; "$S2EMU" ctl "$WORK/pair.ctl" mute 1 >/dev/null ) &
start=$(date +%s)
"$S2CTL" run "$WORK/pair.s2img" --machine "$WORK/pair-found.pb" --duration 100000 \
	-o "$WORK/pair.s2res" --quiet 2>"$WORK/pair.err"
rc=$?
took=$(($(date +%s) - start))
check "dead board: exit 4 (timeout), got $rc" test $rc -eq 4
check "dead board: bounded time (${took}s)" test "$took" -le 60
check "dead board: the error names board 1" grep -q "board 1" "$WORK/pair.err"
check "the results of the other board are kept" test -s "$WORK/pair.s2res"
"$S2CTL" results "$WORK/pair.s2res" >/dev/null 2>"$WORK/pres.err"
check "they read as a partial run: exit 5, board 1 named as the cause" \
	sh -c "test $? -eq 5 && grep -q 'pair.s2res: partial run (board 1 stopped answering at step' '$WORK/pres.err'"
"$S2CTL" results "$WORK/pair.s2res" --allow-partial --json >"$WORK/pres.json"
check "--allow-partial: board 1 no answer, board 0 stopped after it" jq_is "$WORK/pres.json" \
	'[.complete, ([.boards[]|[.board,.status]]|sort)]' '[false,[[0,"stopped"],[1,"no answer"]]]'
finish
