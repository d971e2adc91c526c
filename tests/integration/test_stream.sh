#!/bin/bash
# Live streams (docs/stream.md) on a 4-board s2emu: the spikes streamed live equal the spikes
# recorded in DRAM; energy samples add up to the run's counters; injected spikes make the
# right neurons spike at the right step; under 10% loss, duplication and reordering every
# lost and duplicated packet is counted and what arrives is right; garbage sent to the
# stream's port is counted as bad and changes nothing.
# Needs S2CTL, S2EMU, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

# stream_start NAME IMAGE MACHINE ARGS...: s2ctl stream in the background, output in
# $WORK/NAME.out (stdout) and $WORK/NAME.err; waits (bounded) until it is subscribed.
STREAM_PIDS=()
stream_start() {
	local name=$1 image=$2 machine=$3
	shift 3
	rm -f "$WORK/$name.ready"
	timeout 120 "$S2CTL" stream "$image" --machine "$machine" --ready-file "$WORK/$name.ready" \
		--max-seconds 100 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	STREAM_PIDS+=($!)
	for _ in $(seq 100); do
		[ -f "$WORK/$name.ready" ] && return 0
		sleep 0.1
	done
	echo "s2ctl stream $name did not subscribe:"; cat "$WORK/$name.err"
	exit 1
}
stream_wait() { wait "${STREAM_PIDS[-1]}"; }

# Spike lines of a text stream as "POPULATION NEURON TIME_MS" (time = end of the step), sorted.
live_spikes() { # FILE DT
	awk -v dt="$2" '!/^#/ && NF == 3 { printf "%s %s %.4f\n", $2, $3, ($1 + 1) * dt }' "$1" | sort
}
# The same from a results CSV directory.
rec_spikes() { # DIR POP...
	local d=$1
	shift
	for p in "$@"; do
		tail -n +2 "$d/${p}_spikes.csv" | awk -F, -v p="$p" '{ printf "%s %s %.4f\n", p, $1, $2 }'
	done | sort
}

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
emu_start four --boards 4
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/four.pb" -o "$WORK/va.s2img" --quiet
check "compile VA" test -s "$WORK/va.s2img"
"$S2CTL" deploy "$WORK/va.s2img" --machine "$WORK/four.pb" --duration 200 --quiet
check "deploy VA" test $? -eq 0

# 1. Live equals recorded, text and JSON streams at once; energy every 100 steps.
stream_start va "$WORK/va.s2img" "$WORK/four.pb" --energy-every 100
stream_start vaj "$WORK/va.s2img" "$WORK/four.pb" --json --no-spikes --energy-every 500
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --deployed --duration 200 \
	-o "$WORK/va.s2res" --json >"$WORK/va.json"
check "run VA exits 0" test $? -eq 0
wait "${STREAM_PIDS[@]}"
check "stream exits 0 when the run is done" grep -q "lost 0, late 0, duplicates 0, stale 0, bad 0" "$WORK/va.err"
"$S2CTL" results "$WORK/va.s2res" --csv "$WORK/csv" --quiet
live_spikes "$WORK/va.out" 0.1 >"$WORK/live.txt"
rec_spikes "$WORK/csv" E I >"$WORK/rec.txt"
check "spikes were recorded" test "$(wc -l <"$WORK/rec.txt")" -gt 1000
check "live spikes equal the spikes recorded in DRAM" cmp -s "$WORK/live.txt" "$WORK/rec.txt"
check "run events: started, then done at step 2000" \
	sh -c "grep '^# event' '$WORK/va.out' | tail -2 | awk '{print \$5, \$7}' | tr '\n' ' ' | grep -qx 'started 0 done 2000 '"
# Energy: every chip with PEs, every 100 steps; the last samples add up to the run's counters.
n_energy=$(grep -c '^# energy' "$WORK/va.out")
# fields: # energy board B chip C step S time_us T neuron_updates N synaptic_events E ...
chips=$(grep '^# energy' "$WORK/va.out" | awk '{print $6}' | sort -u | wc -l)
check "energy samples: 20 per chip, plus one at the start and one at the end" \
	test "$n_energy" -eq $((22 * chips))
last_syn=$(grep '^# energy' "$WORK/va.out" | awk '$8 == 1999 { s += $14 } END { print s }')
check "energy counters at the last step add up to the run's synaptic events" \
	test "$last_syn" = "$(jq .synaptic_events "$WORK/va.json")"
check "counters are monotonic" sh -c "grep '^# energy' '$WORK/va.out' | awk '
	{ k = \$6; if (\$14 < last[k]) bad = 1; last[k] = \$14 } END { exit bad }'"
check "JSON stream: energy lines and a clean summary" \
	sh -c "grep -c '\"type\":\"energy\"' '$WORK/vaj.out' | grep -qx $((6 * chips)) &&
	       tail -1 '$WORK/vaj.out' | jq -e '.type == \"summary\" and .lost == 0 and .spikes == 0' >/dev/null"

# 2. Injection: spikes into a spike-source population at a chosen step.
cat >"$WORK/inj.json" <<'JSON'
{"format": 1, "name": "inject", "timestep_ms": 1.0, "run_ms": 100, "seed": 1,
 "populations": [
   {"label": "in", "size": 10, "model": "spike_source_array",
    "spike_times": [[], [], [], [], [], [], [], [], [], []]},
   {"label": "out", "size": 10, "model": "lif_curr_exp", "params": {"tau_refrac_ms": 5}}],
 "projections": [
   {"pre": "in", "post": "out", "connector": {"type": "one_to_one"}, "weight": 5, "delay": 2}],
 "recordings": [{"population": "in", "variable": "spikes"},
                {"population": "out", "variable": "spikes"}]}
JSON
"$S2CTL" net convert "$WORK/inj.json" -o "$WORK/inj.pb" --quiet
"$S2CTL" compile "$WORK/inj.pb" --machine "$WORK/four.pb" -o "$WORK/inj.s2img" --quiet
"$S2CTL" deploy "$WORK/inj.s2img" --machine "$WORK/four.pb" --quiet
"$S2CTL" inject "$WORK/inj.s2img" --machine "$WORK/four.pb" --population in --neurons 3,7 \
	--step 50 --json >"$WORK/inj1.json"
check "inject: 2 accepted, none late" jq_is "$WORK/inj1.json" '[.accepted, .late]' '[2,0]'
"$S2CTL" inject "$WORK/inj.s2img" --machine "$WORK/four.pb" --population out --neurons 1 \
	--quiet 2>"$WORK/inj_bad.err"
check "inject into a neuron population is refused, clearly" \
	grep -q "INJECT: .*state" "$WORK/inj_bad.err"
"$S2CTL" inject "$WORK/inj.s2img" --machine "$WORK/four.pb" --population in --neurons 3,10 \
	--quiet 2>"$WORK/inj_bad2.err"
check "inject: a neuron out of range is refused before anything is sent" \
	grep -q "neurons 0..9 of in" "$WORK/inj_bad2.err"
stream_start inj "$WORK/inj.s2img" "$WORK/four.pb"
"$S2CTL" run "$WORK/inj.s2img" --machine "$WORK/four.pb" --deployed -o "$WORK/inj.s2res" --quiet
wait "${STREAM_PIDS[@]}"
"$S2CTL" results "$WORK/inj.s2res" --csv "$WORK/icsv" --quiet
check "injected neurons 3 and 7 spike at step 50 (51 ms), and only they" \
	sh -c "tail -n +2 '$WORK/icsv/in_spikes.csv' | sort | tr '\n' ' ' | grep -qx '3,51.0000 7,51.0000 '"
check "their targets spike after the delay, and only they" \
	sh -c "tail -n +2 '$WORK/icsv/out_spikes.csv' | cut -d, -f1 | sort -u | tr '\n' ' ' | grep -qx '3 7 '"
check "the live stream shows the injected spikes at step 50" \
	sh -c "grep -v '^#' '$WORK/inj.out' | grep '^50 in ' | sort | tr '\n' ' ' | grep -qx '50 in 3 50 in 7 '"
"$S2CTL" inject "$WORK/inj.s2img" --machine "$WORK/four.pb" --population in --neurons 1 \
	--step 10 --json >"$WORK/inj_late.json"
check "an injection after its step is accepted as late" \
	jq_is "$WORK/inj_late.json" '[.accepted, .late]' '[1,1]'

# 3. A lossy network: every lost and duplicated stream packet is counted; what arrives is right.
emu_start lossy --boards 4 --loss 0.1 --dup 0.1 --reorder 0.1 --seed 5
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/lossy.pb" -o "$WORK/val.s2img" --quiet
"$S2CTL" deploy "$WORK/val.s2img" --machine "$WORK/lossy.pb" --duration 200 --quiet
stream_start lossy "$WORK/val.s2img" "$WORK/lossy.pb" --json --energy-every 100
port=$(cat "$WORK/lossy.ready")
# garbage and a truncated packet at the stream's port: counted as bad, nothing else happens
printf 'not an s2 packet' >/dev/udp/127.0.0.1/"$port"
printf 'S2NP\x01\x52' >/dev/udp/127.0.0.1/"$port"
"$S2CTL" run "$WORK/val.s2img" --machine "$WORK/lossy.pb" --deployed --duration 200 \
	-o "$WORK/val.s2res" --quiet
check "lossy run exits 0" test $? -eq 0
wait "${STREAM_PIDS[@]}"
"$S2CTL" results "$WORK/val.s2res" --csv "$WORK/lcsv" --quiet
tail -1 "$WORK/lossy.out" >"$WORK/lossy_summary.json"
check "lost packets are counted" jq -e '.lost > 0' "$WORK/lossy_summary.json" >/dev/null
check "duplicated packets are counted" jq -e '.duplicates > 0' "$WORK/lossy_summary.json" >/dev/null
check "reordered packets are taken late, not lost" jq -e '.late > 0' "$WORK/lossy_summary.json" >/dev/null
check "the two bad datagrams are counted" jq -e '.bad == 2' "$WORK/lossy_summary.json" >/dev/null
grep '"type":"spike"' "$WORK/lossy.out" |
	jq -r '"\(.population) \(.neuron) \((.step + 1) * 0.1 * 10000 | round / 10000)"' |
	awk '{ printf "%s %s %.4f\n", $1, $2, $3 }' | sort >"$WORK/llive.txt"
rec_spikes "$WORK/lcsv" E I >"$WORK/lrec.txt"
check "every spike that arrived was recorded (no duplicate, none invented)" \
	test -z "$(comm -23 "$WORK/llive.txt" "$WORK/lrec.txt")"
check "most spikes arrived" test "$(wc -l <"$WORK/llive.txt")" -gt $(($(wc -l <"$WORK/lrec.txt") / 2))

# 4. The closed-loop example: the host reads OUT's spikes live and injects IN's spikes.
if [ -n "${CLOSED_LOOP:-}" ]; then
	cat >"$WORK/cl.json" <<'JSON'
{"format": 1, "name": "loop", "timestep_ms": 1.0, "run_ms": 300, "seed": 1,
 "populations": [
   {"label": "in", "size": 4, "model": "spike_source_array", "spike_times": [[1.0], [], [], [5.0]]},
   {"label": "out", "size": 4, "model": "lif_curr_exp", "params": {"tau_refrac_ms": 2}}],
 "projections": [
   {"pre": "in", "post": "out", "connector": {"type": "one_to_one"}, "weight": 5, "delay": 1}],
 "recordings": [{"population": "in", "variable": "spikes"},
                {"population": "out", "variable": "spikes"}]}
JSON
	"$S2CTL" net convert "$WORK/cl.json" -o "$WORK/cl.pb" --quiet
	"$S2CTL" compile "$WORK/cl.pb" --machine "$WORK/four.pb" -o "$WORK/cl.s2img" --quiet
	"$S2CTL" deploy "$WORK/cl.s2img" --machine "$WORK/four.pb" --quiet
	timeout 60 "$CLOSED_LOOP" "$WORK/four.pb" "$WORK/cl.s2img" out in 5 50 >"$WORK/cl.out" 2>&1 &
	clp=$!
	for _ in $(seq 100); do grep -q listening "$WORK/cl.out" && break; sleep 0.1; done
	"$S2CTL" run "$WORK/cl.s2img" --machine "$WORK/four.pb" --deployed --realtime \
		-o "$WORK/cl.s2res" --quiet 2>/dev/null
	wait $clp
	check "closed loop exits 0" test $? -eq 0
	cat "$WORK/cl.out"
	"$S2CTL" results "$WORK/cl.s2res" --csv "$WORK/clcsv" --quiet
	in_spikes=$(($(wc -l <"$WORK/clcsv/in_spikes.csv") - 1))
	accepted=$(sed -n 's/.*(\([0-9]*\) accepted.*/\1/p' "$WORK/cl.out")
	check "the loop kept the network going (more than 20 input spikes)" test "$in_spikes" -gt 20
	# injections for steps past the run's 300 (outputs at step 295 or later) never happen
	after=$(tail -n +2 "$WORK/clcsv/out_spikes.csv" | awk -F, '$2 >= 296' | wc -l)
	echo "    input spikes $in_spikes, injections accepted $accepted, $after past the end"
	check "every input spike is a seed or an accepted injection, at its step" \
		test "$in_spikes" -eq $((2 + accepted - after))
fi

finish
