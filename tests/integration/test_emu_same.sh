#!/bin/bash
# The emulator's speed-ups change no result (issue 24): a fixed image of the cortical
# microcircuit at scale 0.1 (tests/emu/microcircuit_0.1.s2img, compiled before the hot paths of
# the engine and of s2emu were reworked; fixed so that mapper changes do not move it) run for
# 200 ms gives the spikes recorded then — the SHA-256 of its spike CSVs below — on the engine's
# own run (s2fw-run) and on s2emu at 1 and 2 step threads.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

IMG=$(dirname "$0")/../emu/microcircuit_0.1.s2img
# the spikes in order of step, then neuron (s2_results_sort, 2026-12-07); the same lines as
# the hash before, c3cefa30..., of the PE-by-PE order, sorted
WANT=9ee6a53c2b5c9fc05f009b0a0aa945e62bcd6a460a0308ba424f3b52514947ff
spikes_sha() {
	rm -rf "$WORK/csv"
	"$S2CTL" results "$1" --csv "$WORK/csv" --quiet &&
		cat "$WORK/csv"/*_spikes.csv | sha256sum | cut -d' ' -f1
}
"$S2FW_RUN" image "$IMG" --duration 200 -o "$WORK/fw.s2res" >/dev/null
check "s2fw-run: the spikes of before" test "$(spikes_sha "$WORK/fw.s2res")" = "$WANT"
check "the network is active (thousands of spikes)" \
	test "$(cat "$WORK/csv"/*_spikes.csv | wc -l)" -gt 3000
for n in 1 2; do
	emu_start "t$n" --boards 1 --threads "$n"
	"$S2CTL" run "$IMG" --machine "$WORK/t$n.pb" --duration 200 -o "$WORK/t$n.s2res" \
		--json >"$WORK/t$n.json"
	check "s2emu, $n thread(s): run exits 0" test $? -eq 0
	check "s2emu, $n thread(s): nothing dropped" jq_is "$WORK/t$n.json" '.packets_dropped' '0'
	check "s2emu, $n thread(s): the spikes of before" \
		test "$(spikes_sha "$WORK/t$n.s2res")" = "$WANT"
	check "s2emu, $n thread(s): the same results file as s2fw-run" \
		cmp -s "$WORK/t$n.s2res" "$WORK/fw.s2res"
done
finish
