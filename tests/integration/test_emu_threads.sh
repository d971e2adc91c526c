#!/bin/bash
# s2emu's step threads (--threads N, docs/s2emu.md "Applications"): the same network run on the
# same machine with 1, 2 and 3 threads gives the same results file, byte for byte, and equals
# the engine's own run (s2fw-run). The networks span two boards (board 0 keeps chips 0-1,
# board 1 its first row: a 401-PE synfire chain must use both) and several chips of each.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

"$S2CTL" net example synfire --scale 0.02 -o "$WORK/syn.pb" --quiet
"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
DEAD=$(for c in $(seq 2 47); do printf -- '--dead-chip 0:%s ' "$c"; done
	for c in $(seq 8 47); do printf -- '--dead-chip 1:%s ' "$c"; done)
for n in 1 2 3; do
	# shellcheck disable=SC2086
	emu_start "t$n" --boards 2 --threads "$n" $DEAD
	"$S2CTL" boot --machine "$WORK/t$n.pb" --write-machine "$WORK/t$n-found.pb" --quiet
	for net in syn va; do
		"$S2CTL" compile "$WORK/$net.pb" --machine "$WORK/t$n-found.pb" \
			-o "$WORK/$net.$n.s2img" --json >"$WORK/$net.$n.c.json"
		"$S2CTL" run "$WORK/$net.$n.s2img" --machine "$WORK/t$n-found.pb" --duration 300 \
			-o "$WORK/$net.$n.s2res" --json >"$WORK/$net.$n.json"
		check "$net, $n threads: run exits 0" test $? -eq 0
		check "$net, $n threads: nothing dropped or lost" \
			jq_is "$WORK/$net.$n.json" '[.packets_dropped, .recording_bytes_lost]' '[0,0]'
	done
done
check "synfire spans both boards" jq_is "$WORK/syn.1.c.json" '.boards' '2'
check "synfire carries activity" jq_is "$WORK/syn.1.json" '[.spikes > 100]' '[true]'
for net in syn va; do
	"$S2FW_RUN" image "$WORK/$net.1.s2img" --duration 300 -o "$WORK/$net.local" >/dev/null
	check "$net: 1 thread equals the engine's own run" \
		cmp -s "$WORK/$net.1.s2res" "$WORK/$net.local"
	for n in 2 3; do
		check "$net: image for $n threads is the same" \
			cmp -s "$WORK/$net.1.s2img" "$WORK/$net.$n.s2img"
		check "$net: $n threads give the same results file as 1, byte for byte" \
			cmp -s "$WORK/$net.1.s2res" "$WORK/$net.$n.s2res"
	done
done
"$S2EMU" --threads 0 2>"$WORK/bad.err"
check "--threads 0 refused with exit 2" test $? -eq 2
check "the error names the option" grep -q -- "--threads" "$WORK/bad.err"
finish
