#!/bin/bash
# Reliability: boot and a 1 MiB DRAM write + read-back to the farthest chip under 10% loss,
# duplication and reordering; a board that stops answering; power and reset; chip commands.
. "$(dirname "$0")/lib.sh"

head -c 1048576 /dev/urandom >"$WORK/data.bin"

emu_start lossy --boards 1 --loss 0.1 --dup 0.1 --reorder 0.1 --seed 7
"$S2CTL" boot --machine "$WORK/lossy.pb" --json >"$WORK/boot.json"
check "boot under 10% loss+dup+reorder exits 0" test $? -eq 0
check "all 48 chips booted despite faults" jq_is "$WORK/boot.json" '.chips_alive' '48'
FAR=$("$S2CTL" machine show "$WORK/lossy.pb" --json | jq '.farthest_chip')
"$S2CTL" mem write --machine "$WORK/lossy.pb" --board 0 --chip "$FAR" 0x100000 --file "$WORK/data.bin" --quiet
check "1 MiB write to far chip $FAR exits 0" test $? -eq 0
"$S2CTL" mem read --machine "$WORK/lossy.pb" --board 0 --chip "$FAR" 0x100000 1048576 -o "$WORK/back.bin"
check "1 MiB read-back exits 0" test $? -eq 0
check "read-back is byte-exact" cmp -s "$WORK/data.bin" "$WORK/back.bin"
emu_ctl lossy stats >"$WORK/stats.json"
check "the emulator really dropped, duplicated and reordered" \
	jq_is "$WORK/stats.json" '[.boards[0].dropped_loss > 100, .boards[0].duplicated > 100, .boards[0].reordered > 100, .boards[0].dup_requests > 0]' '[true,true,true,true]'

# A board that stops answering: clear error in bounded time, the other board carries on.
emu_start pair --boards 2
"$S2CTL" boot --machine "$WORK/pair.pb" --quiet
emu_ctl pair mute 1 >/dev/null
start=$(date +%s)
"$S2CTL" info --machine "$WORK/pair.pb" --json >"$WORK/mute.json" 2>"$WORK/mute.err"
rc=$?
took=$(($(date +%s) - start))
check "muted board: exit 5 (partial)" test $rc -eq 5
check "muted board: answered within 15 s (took ${took}s)" test "$took" -le 15
check "muted board reported as timed out, the other fine" \
	jq_is "$WORK/mute.json" '[.boards[]|[.board,.ok,.error]]' '[[0,true,null],[1,false,"S2_E_TIMEOUT"]]'
check "error names the board" grep -q "board 1" "$WORK/mute.err"
emu_ctl pair unmute 1 >/dev/null

# Power and reset through the board controller.
"$S2CTL" power status --machine "$WORK/pair.pb" --json >"$WORK/pw.json"
check "power status: both on" jq_is "$WORK/pw.json" '[.boards[].power]' '["on","on"]'
"$S2CTL" reset --machine "$WORK/pair.pb" --boards 1 --quiet
check "reset exits 0" test $? -eq 0
"$S2CTL" discover --machine "$WORK/pair.pb" --wait 0 --json >"$WORK/d.json"
check "after reset: board 1 unbooted, board 0 still booted" \
	jq_is "$WORK/d.json" '[.boards[]|[.board,.state]]|sort' '[[0,"booted"],[1,"unbooted"]]'
"$S2CTL" power off --machine "$WORK/pair.pb" --boards 1 --quiet
"$S2CTL" power status --machine "$WORK/pair.pb" --boards 1 --json >"$WORK/pw2.json"
check "power off: board 1 off" jq_is "$WORK/pw2.json" '[.boards[].power]' '["off"]'
"$S2CTL" power on --machine "$WORK/pair.pb" --boards 1 --quiet
"$S2CTL" boot --machine "$WORK/pair.pb" --boards 1 --json >"$WORK/b2.json"
check "powered on again and booted" jq_is "$WORK/b2.json" '.chips_alive' '48'

# Chip commands: ps, signal, SRAM, iobuf, bad addresses.
M="$WORK/pair.pb"
"$S2CTL" signal start --machine "$M" --board 0 --chip 3 --pes 1-10 --quiet
"$S2CTL" ps --machine "$M" --board 0 --chip 3 --json >"$WORK/ps.json"
check "signal start: 10 PEs running, monitor on PE 0" \
	jq_is "$WORK/ps.json" '[.count.running, .count.monitor, .count.idle, .pes[0]]' '[10,1,141,"monitor"]'
"$S2CTL" mem write --machine "$M" --board 0 --chip 3 --pe 9 --sram 0x100 --hex deadbeef --quiet
"$S2CTL" mem read --machine "$M" --board 0 --chip 3 --pe 9 --sram 0x100 4 --json >"$WORK/sr.json"
check "SRAM write + read of PE 9" jq_is "$WORK/sr.json" '.hex' '"deadbeef"'
"$S2CTL" mem read --machine "$M" --board 0 --chip 3 --pe 9 --sram 0x1fffe 4 2>"$WORK/range.err"
check "read past the end of SRAM: exit 1" test $? -eq 1
check "... naming the reason" grep -q "out of range" "$WORK/range.err"
"$S2CTL" iobuf --machine "$M" --board 0 --chip 3 --pe 5 >"$WORK/io.txt"
check "iobuf of PE 5 shows the start" grep -q "monitor: start" "$WORK/io.txt"
"$S2CTL" iobuf --machine "$M" --board 0 --chip 3 >"$WORK/iom.txt"
check "monitor iobuf shows its banner" grep -q "s2-monitor" "$WORK/iom.txt"
"$S2CTL" ps --machine "$M" --board 7 2>/dev/null
check "a board the machine does not have: usage error" test $? -eq 2

finish
