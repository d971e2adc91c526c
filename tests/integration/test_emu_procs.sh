#!/bin/bash
# Several s2emu processes as one machine (docs/s2emu.md "Several processes, one machine"): a
# network whose projections cross boards, run on one s2emu of 4 boards and on two s2emu
# processes of 2 boards each (--serve 0-1, --serve 2-3 of the same machine description), gives
# the same results file, byte for byte, with packets crossing between the processes both ways;
# with loss injected on the inter-process link (--link-loss), every loss is counted per link
# and reported in the run's packets_dropped, never silent.
# Dead chips and PEs keep the machine small: board 0 keeps its first column (chips 0-40, 906
# PEs), linked to board 2's Ethernet chip below it; boards 1 and 3 keep one PE of their
# Ethernet chip, board 2 its Ethernet chip (151 PEs). The Vogels-Abbott network at 4 neurons
# per PE (1000 PEs) must use both halves. Needs S2CTL, S2EMU, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

DA=$(for c in $(seq 1 47); do
	case $c in 8 | 16 | 24 | 32 | 40) ;; *) printf -- '--dead-chip 0:%s ' "$c" ;; esac
done
for c in $(seq 1 47); do printf -- '--dead-chip 1:%s ' "$c"; done
for p in $(seq 2 151); do printf -- '--dead-pe 1:0:%s ' "$p"; done)
DB=$(for b in 2 3; do for c in $(seq 1 47); do printf -- '--dead-chip %s:%s ' "$b" "$c"; done; done
for p in $(seq 2 151); do printf -- '--dead-pe 3:0:%s ' "$p"; done)
"$S2CTL" net example vogels_abbott -o "$WORK/va.json" --quiet
jq '.populations |= map(. + {max_per_pe: 4})' "$WORK/va.json" >"$WORK/va2.json"

# emu_quit NAME INDEX: stop emulator NAME (EMU_PIDS[INDEX]) and wait until it is gone (its
# ports are reused).
emu_quit() {
	emu_ctl "$1" quit >/dev/null
	for _ in $(seq 100); do
		kill -0 "${EMU_PIDS[$2]}" 2>/dev/null || return 0
		sleep 0.05
	done
}

# The reference: one process, four boards.
# shellcheck disable=SC2086
emu_start one --boards 4 $DA $DB
"$S2CTL" boot --machine "$WORK/one.pb" --write-machine "$WORK/found.pb" --quiet
"$S2CTL" compile "$WORK/va2.json" --machine "$WORK/found.pb" -o "$WORK/va.s2img" \
	--json >"$WORK/c.json"
check "the network spans boards 0 and 2" jq_is "$WORK/c.json" '.boards' '2'
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/found.pb" --duration 30 \
	-o "$WORK/one.s2res" --json >"$WORK/one.json"
check "one process: run exits 0" test $? -eq 0
check "one process: spikes, nothing dropped" \
	jq_is "$WORK/one.json" '[.spikes > 100, .packets_dropped]' '[true,0]'
emu_quit one 0

# Two processes on the same description (the same ports), two boards each.
# shellcheck disable=SC2086
emu_start a --machine "$WORK/one.pb" --serve 0-1 $DA
# shellcheck disable=SC2086
emu_start b --machine "$WORK/one.pb" --serve 2-3 $DB
"$S2CTL" boot --machine "$WORK/one.pb" --write-machine "$WORK/found2.pb" --quiet
check "two processes: the same machine is found" cmp -s "$WORK/found.pb" "$WORK/found2.pb"
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/found.pb" --duration 30 \
	-o "$WORK/two.s2res" --json >"$WORK/two.json"
check "two processes: run exits 0" test $? -eq 0
check "two processes: the same results file as one, byte for byte" \
	cmp -s "$WORK/one.s2res" "$WORK/two.s2res"
emu_ctl a stats >"$WORK/a.json"
emu_ctl b stats >"$WORK/b.json"
check "packets crossed from a to b" jq_is "$WORK/a.json" '[.links[0].packets_out > 0]' '[true]'
check "packets crossed from b to a" jq_is "$WORK/b.json" '[.links[0].packets_out > 0]' '[true]'
check "what a sent, b received" \
	test "$(jq .links[0].packets_out "$WORK/a.json")" = "$(jq .links[0].packets_in "$WORK/b.json")"
check "no loss on the link" jq_is "$WORK/a.json" '[.links[0].lost]' '[0]'
emu_quit a 1
emu_quit b 2

# Loss on the link between the processes: counted per link, reported by the run.
# shellcheck disable=SC2086
emu_start la --machine "$WORK/one.pb" --serve 0-1 --link-loss 0.2 --seed 7 $DA
# shellcheck disable=SC2086
emu_start lb --machine "$WORK/one.pb" --serve 2-3 --link-loss 0.2 --seed 8 $DB
"$S2CTL" boot --machine "$WORK/one.pb" --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/found.pb" --duration 30 \
	-o "$WORK/lossy.s2res" --json >"$WORK/lossy.json"
check "lossy link: the run completes" test -s "$WORK/lossy.s2res"
emu_ctl la stats >"$WORK/la.json"
emu_ctl lb stats >"$WORK/lb.json"
lost=$(($(jq .links[0].lost "$WORK/la.json") + $(jq .links[0].lost "$WORK/lb.json")))
check "lossy link: losses counted per link ($lost)" test "$lost" -gt 0
check "lossy link: the run reports every loss in packets_dropped" \
	jq_is "$WORK/lossy.json" '.packets_dropped' "$lost"
"$S2EMU" --link-loss 2 2>"$WORK/bad.err"
check "--link-loss 2 refused with exit 2" test $? -eq 2
check "the error names the option" grep -q -- "--link-loss" "$WORK/bad.err"
finish
