#!/bin/bash
# SCRUB (docs/protocol.md 4.20, docs/cli/scrub.md): a tenant's pattern in SRAM and DRAM and a
# loaded application are gone after s2ctl scrub, which reports every byte of every chip zeroed
# and verified (the total checked against the machine description); scrub is refused while another session
# holds the lease and without the key on a keyed machine, and then changes nothing; an
# unbooted board is refused clearly. Needs S2CTL, S2EMU, S2_FIRMWARE, jq.
. "$(dirname "$0")/lib.sh"

# pattern FILE: 4 KiB of non-zero bytes
head -c 4096 /dev/urandom | tr '\000' '\001' >"$WORK/pat.bin"
# put M ARGS...: write the pattern at 4 places: DRAM start and end of chip 0, DRAM of chip 47,
# SRAM of PE 7 of chip 5 and the end of PE 151's SRAM of chip 47.
put() {
	local m=$1
	shift
	"$S2CTL" mem write --machine "$m" --board 0 --chip 0 0 --file "$WORK/pat.bin" --quiet "$@" &&
		"$S2CTL" mem write --machine "$m" --board 0 --chip 0 0x7ffff000 --file "$WORK/pat.bin" --quiet "$@" &&
		"$S2CTL" mem write --machine "$m" --board 0 --chip 47 0x40000000 --file "$WORK/pat.bin" --quiet "$@" &&
		"$S2CTL" mem write --machine "$m" --board 0 --chip 5 --pe 7 --sram 0x100 --file "$WORK/pat.bin" --quiet "$@" &&
		"$S2CTL" mem write --machine "$m" --board 0 --chip 47 --pe 151 --sram 0x1f000 --file "$WORK/pat.bin" --quiet "$@"
}
# got M ARGS...: the 4 places read back, concatenated, into $WORK/got.bin
got() {
	local m=$1
	shift
	: >"$WORK/got.bin"
	for a in "--chip 0 0" "--chip 0 0x7ffff000" "--chip 47 0x40000000" \
		"--chip 5 --pe 7 --sram 0x100" "--chip 47 --pe 151 --sram 0x1f000"; do
		# shellcheck disable=SC2086
		"$S2CTL" mem read --machine "$m" --board 0 $a 4096 -o "$WORK/one.bin" "$@" || return 1
		cat "$WORK/one.bin" >>"$WORK/got.bin"
	done
}
is_pattern() { got "$@" && for _ in 1 2 3 4 5; do cat "$WORK/pat.bin"; done | cmp -s - "$WORK/got.bin"; }
is_zero() { got "$@" && head -c 20480 /dev/zero | cmp -s - "$WORK/got.bin"; }

emu_start one --boards 1
M="$WORK/one.pb"
"$S2CTL" scrub --machine "$M" 2>"$WORK/unbooted.err"
check "scrub of an unbooted board: exit 1 (got $?)" test $? -eq 1
check "... saying it is not booted" grep -q "not booted" "$WORK/unbooted.err"
"$S2CTL" boot --machine "$M" --quiet
put "$M"
check "the pattern is in SRAM and DRAM" is_pattern "$M"

# A loaded application on the board too.
"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
"$S2CTL" compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img" --quiet
"$S2CTL" deploy "$WORK/va.s2img" --machine "$M" --quiet
check "deploy exits 0" test $? -eq 0

# While another session holds the lease: refused, nothing changed.
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --deployed --duration 8000 -o "$WORK/long.s2res" \
	--quiet 2>"$WORK/long.err" &
L=$!
held=1
for _ in $(seq 100); do
	"$S2CTL" info --machine "$M" --json 2>/dev/null | jq -e '.boards[0].lease.held' >/dev/null &&
		{ held=0; break; }
	sleep 0.05
done
check "a long run holds the lease" test $held -eq 0
"$S2CTL" scrub --machine "$M" 2>"$WORK/busy.err"
check "scrub under another session's lease: exit 6 (got $?)" test $? -eq 6
check "... the pattern is still there" is_pattern "$M"
wait $L

t0=$(date +%s.%N)
"$S2CTL" scrub --machine "$M" --json >"$WORK/scrub.json"
rc=$?
t1=$(date +%s.%N)
check "scrub exits 0 (got $rc)" test $rc -eq 0
echo "    scrub of 1 board (48 chips) took $(echo "$t1 - $t0" | bc) s wall, load: $(cut -d' ' -f1-3 /proc/loadavg)"
# The total, from the machine description s2emu wrote: every chip's DRAM and the SRAM of its
# PEs but the monitor's (no PE is dead here).
"$S2CTL" machine show "$M" --json >"$WORK/machine.json"
want=$(jq '.chips_per_board * (.dram_bytes + (.pes_per_chip - 1) * .sram_per_pe)' "$WORK/machine.json")
check "bytes verified = bytes zeroed = total from the machine description ($want)" \
	jq_is "$WORK/scrub.json" '.boards[0] | [.ok, .chips, .bytes_zeroed, .bytes_verified]' \
	"[true,48,$want,$want]"
check "the pattern reads back as zeros" is_zero "$M"
"$S2CTL" ps --machine "$M" --board 0 --chip 5 --json >"$WORK/ps.json"
check "no PE of chip 5 is running or stopped after the scrub" \
	jq_is "$WORK/ps.json" '[.. | strings | select(. == "running" or . == "stopped")] | length' 0
"$S2CTL" iobuf --machine "$M" --board 0 --chip 47 --pe monitor >"$WORK/iobuf.txt"
check "the monitor logged the verified scrub" grep -q "scrub done, verified" "$WORK/iobuf.txt"

# A DRAM cell that does not clear (s2emu fault stuck-dram): the scrub fails, names the chip
# and the address, and exits 1; the other chips are done.
emu_ctl one stuck-dram 0:3:100 >/dev/null
"$S2CTL" scrub --machine "$M" --json >"$WORK/bad.json" 2>"$WORK/bad.err"
check "scrub with a stuck DRAM byte: exit 1 (got $?)" test $? -eq 1
check "... naming chip 3 and DRAM 0x00000064" \
	grep -q "board 0: NOT scrubbed: chip 3: verification failed: 1 failures, first at DRAM 0x00000064" "$WORK/bad.err"
check "... and reported not ok, with fewer bytes verified than zeroed" \
	jq_is "$WORK/bad.json" '.boards[0] | [.ok, .bytes_zeroed == .bytes_total, .bytes_verified < .bytes_total]' '[false,true,true]'

# A keyed machine: refused without the key (nothing changed), done with it.
K="$WORK/machine.key"
"$S2CTL" key init "$K" --quiet
emu_start keyed --boards 1 --key-file "$K"
MK="$WORK/keyed.pb"
"$S2CTL" boot --machine "$MK" --key "$K" --quiet
put "$MK" --key "$K"
"$S2CTL" scrub --machine "$MK" 2>"$WORK/auth.err"
check "scrub without the key: exit 7 (got $?)" test $? -eq 7
check "... the pattern is still there" is_pattern "$MK" --key "$K"
"$S2CTL" scrub --machine "$MK" --key "$K" --quiet
check "scrub with the key: exit 0" test $? -eq 0
check "... the pattern reads back as zeros" is_zero "$MK" --key "$K"
finish
