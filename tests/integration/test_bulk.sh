#!/bin/bash
# Bulk data in and out (protocol section 4.16): 8 MiB to the farthest chip and back,
# byte-exact, clean and under 10% loss, duplication and reordering; DRAM of 4 boards in
# parallel from one event loop; SRAM of a PE; a block with a bad CRC and a region with a bad
# CRC are rejected. Every step is bounded by timeout(1).
. "$(dirname "$0")/lib.sh"
BENCH=${BENCH_BULK:-$(dirname "$S2CTL")/../bench/bench_bulk}

head -c 8388608 /dev/urandom >"$WORK/data.bin"

emu_start clean --boards 4
"$S2CTL" boot --machine "$WORK/clean.pb" --quiet
FAR=$("$S2CTL" machine show "$WORK/clean.pb" --json | jq '.farthest_chip')
M="$WORK/clean.pb"
timeout 60 "$S2CTL" mem write --bulk --machine "$M" --board 0 --chip "$FAR" 0x100000 \
	--file "$WORK/data.bin" --json >"$WORK/w.json"
check "bulk write of 8 MiB to far chip $FAR exits 0" test $? -eq 0
timeout 60 "$S2CTL" mem read --bulk --machine "$M" --board 0 --chip "$FAR" 0x100000 8388608 \
	-o "$WORK/back.bin" --json >"$WORK/r.json"
check "bulk read-back exits 0" test $? -eq 0
check "read-back is byte-exact" cmp -s "$WORK/data.bin" "$WORK/back.bin"
check "efficiency >= 95% without loss (payload / all s2 datagram bytes)" \
	jq -e '.bytes / .wire_bytes >= 0.95' "$WORK/w.json"
"$S2CTL" mem read --machine "$M" --board 0 --chip "$FAR" 0x100000 4096 -o "$WORK/head.bin"
check "the request/reply path sees the same bytes" cmp -s "$WORK/head.bin" <(head -c 4096 "$WORK/data.bin")
head -c 100000 /dev/urandom >"$WORK/sram.bin"
timeout 30 "$S2CTL" mem write --bulk --machine "$M" --board 0 --chip 3 --pe 7 --sram 0x10 \
	--file "$WORK/sram.bin" --quiet &&
	timeout 30 "$S2CTL" mem read --bulk --machine "$M" --board 0 --chip 3 --pe 7 --sram 0x10 \
		100000 -o "$WORK/sram.back"
check "bulk to and from the SRAM of PE 7" cmp -s "$WORK/sram.bin" "$WORK/sram.back"
timeout 30 "$S2CTL" mem write --bulk --machine "$M" --board 0 --chip 3 --pe 7 --sram 0x1fff0 \
	--file "$WORK/sram.bin" 2>"$WORK/range.err"
check "bulk write past the end of SRAM: refused (exit 1)" test $? -eq 1

if [ -x "$BENCH" ]; then
	timeout 120 "$BENCH" "$M" 4 8 "$FAR" random >"$WORK/par.txt"
	check "8 MiB to 4 boards in parallel and back, byte-exact" test $? -eq 0
	grep total "$WORK/par.txt"
	timeout 30 "$BENCH" "$M" probe "$FAR" >"$WORK/probe.txt"
	check "bad block CRC rejected, missing block and bad region CRC refused at END" test $? -eq 0
	cat "$WORK/probe.txt"
else
	check "bench_bulk is built ($BENCH)" false
fi

emu_start lossy --boards 1 --loss 0.1 --dup 0.1 --reorder 0.1 --seed 11
"$S2CTL" boot --machine "$WORK/lossy.pb" --quiet
M="$WORK/lossy.pb"
timeout 90 "$S2CTL" mem write --bulk --machine "$M" --board 0 --chip "$FAR" 0x100000 \
	--file "$WORK/data.bin" --json >"$WORK/lw.json"
check "bulk write under 10% loss+dup+reorder exits 0" test $? -eq 0
timeout 90 "$S2CTL" mem read --bulk --machine "$M" --board 0 --chip "$FAR" 0x100000 8388608 \
	-o "$WORK/lback.bin" --json >"$WORK/lr.json"
check "bulk read under faults exits 0" test $? -eq 0
check "read-back under faults is byte-exact" cmp -s "$WORK/data.bin" "$WORK/lback.bin"
check "retransmissions were needed and counted" jq -e '.bulk_retransmits > 0' "$WORK/lw.json"
cat "$WORK/lw.json" "$WORK/lr.json"
emu_ctl lossy stats >"$WORK/stats.json"
check "the emulator really dropped, duplicated and reordered" \
	jq_is "$WORK/stats.json" '[.boards[0].dropped_loss > 100, .boards[0].duplicated > 100, .boards[0].reordered > 100]' '[true,true,true]'

finish
