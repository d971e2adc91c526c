#!/bin/bash
# The authenticated control plane (docs/security.md, docs/protocol.md 2.3 and 4.19): a machine
# whose boards hold a key refuses, and counts on every board, every verb that changes or
# reads a board from a process without the key or with another job's key; a replayed valid
# datagram, a forged tag and a forgotten session are dropped and counted; the key's holder
# runs a network with the spikes of an unauthenticated run; key files that others may read,
# missing ones and wrong ones are refused clearly. Needs S2CTL, S2EMU, S2_FIRMWARE, jq, python3.
. "$(dirname "$0")/lib.sh"
PROBE="$(dirname "$0")/auth_probe.py"
K="$WORK/machine.key"

# Key files.
"$S2CTL" key init "$K" --quiet
check "key init exits 0" test $? -eq 0
check "key init writes mode 0600" test "$(stat -c %a "$K")" = 600
"$S2CTL" key init "$K" 2>"$WORK/again.err"
check "key init refuses to overwrite a key (exit 2)" test $? -eq 2
check "... and says why" grep -q "exists" "$WORK/again.err"

# A reference run without keys, on a machine without keys.
"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
emu_start plain --boards 2
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/plain.pb" -o "$WORK/va.s2img" --quiet
"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/plain.pb" -o "$WORK/plain.s2res" --quiet
check "a run on a machine without keys, without a key: exit 0" test $? -eq 0
"$S2CTL" results "$WORK/plain.s2res" --csv "$WORK/plain" --quiet

# The same machine with a key on every board.
emu_start keyed --boards 2 --key-file "$K"
M="$WORK/keyed.pb"
stats() { emu_ctl keyed stats >"$WORK/stats.json"; }
auth_sum() { stats; jq "[.boards[].$1]|add" "$WORK/stats.json"; }
every_board() { stats; jq -e "[.boards[].$1]|all(. >= $2)" "$WORK/stats.json" >/dev/null; }

# Without the key: each verb refused with exit 7, nothing changed.
refused() { # refused WHAT COMMAND...: exit 7 and a message naming authentication
	local what=$1
	shift
	"$@" 2>"$WORK/refused.err" >/dev/null
	local rc=$?
	check "no key: $what refused with exit 7 (got $rc)" test $rc -eq 7
}
refused "boot" "$S2CTL" boot --machine "$M"
refused "power off" "$S2CTL" power off --machine "$M"
"$S2CTL" flash pack "$S2_FIRMWARE" --version auth-test -o "$WORK/fw.s2flash" --quiet
refused "flash" "$S2CTL" flash "$WORK/fw.s2flash" --machine "$M"
check "... the message says authentication" grep -qi "authentication" "$WORK/refused.err"
"$S2CTL" boot --machine "$M" --key "$K" --quiet
check "with the key: boot exits 0" test $? -eq 0
refused "mem read" "$S2CTL" mem read --machine "$M" --board 1 --chip 3 0x1000 8
refused "mem write" "$S2CTL" mem write --machine "$M" --board 1 --chip 3 0x1000 --hex 00ff
refused "signal" "$S2CTL" signal stop --machine "$M" --board 1 --chip 3 --pes 1-4
refused "run (load and run)" "$S2CTL" run "$WORK/va.s2img" --machine "$M" -o "$WORK/x.s2res"
check "... and wrote no results" test ! -e "$WORK/x.s2res"
refused "deploy (load)" "$S2CTL" deploy "$WORK/va.s2img" --machine "$M"
refused "stream (redirection)" "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --max-seconds 1
refused "inject" "$S2CTL" inject "$WORK/va.s2img" --machine "$M" --population E --neurons 1
check "refusals counted on every board" every_board auth_unauth 3

# The key's holder runs the network: the spikes of the run without keys.
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --key "$K" -o "$WORK/keyed.s2res" --quiet
check "with the key: run exits 0" test $? -eq 0
"$S2CTL" results "$WORK/keyed.s2res" --csv "$WORK/keyed" --quiet
check "authenticated run: spikes identical to the run without keys" diff -rq "$WORK/plain" "$WORK/keyed"
# A live stream set up with the key: its packets are tagged, and the keyed receiver (which
# drops untagged ones) gets every spike that was recorded.
"$S2CTL" deploy "$WORK/va.s2img" --machine "$M" --key "$K" --quiet
timeout 120 "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --key "$K" --ready-file "$WORK/s.ready" \
	--max-seconds 100 >"$WORK/s.out" 2>"$WORK/s.err" &
SP=$!
for _ in $(seq 100); do [ -f "$WORK/s.ready" ] && break; sleep 0.1; done
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --key "$K" --deployed -o "$WORK/ks.s2res" --quiet
check "with the key: deploy, then run --deployed, exits 0" test $? -eq 0
wait $SP
st=$?
stream_ok() { [ "$st" -eq 0 ] && grep -qE "lost 0, late [0-9]+, duplicates 0, stale 0, bad 0" "$WORK/s.err"; }
check "authenticated stream: exits 0 (got $st) with nothing lost or bad" stream_ok
stream_ok || sed 's/^/    stream: /' "$WORK/s.err"
live=$(grep -vc '^#' "$WORK/s.out")
rec=$(tail -q -n +2 "$WORK/keyed/E_spikes.csv" "$WORK/keyed/I_spikes.csv" | wc -l)
check "authenticated stream: every recorded spike arrived tagged ($live live, $rec recorded)" \
	test "$live" -eq "$rec"
# A long-lived session the board forgets (33 newer sessions in between) starts a new one
# when told S2_E_STALE: the stream's STREAM_STOP at the end still succeeds.
"$S2CTL" deploy "$WORK/va.s2img" --machine "$M" --key "$K" --quiet
rm -f "$WORK/s.ready"
timeout 120 "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --key "$K" --ready-file "$WORK/s.ready" \
	--max-seconds 100 >"$WORK/s2.out" 2>"$WORK/s2.err" &
SP=$!
for _ in $(seq 100); do [ -f "$WORK/s.ready" ] && break; sleep 0.1; done
EP0=$("$S2CTL" machine show "$M" --json | jq -r '.endpoints[0] | "\(.host) \(.eth_port)"')
stats
r0=$(jq '.boards[0].auth_replayed' "$WORK/stats.json")
python3 "$PROBE" $EP0 0 "$K" stale >/dev/null
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --key "$K" --deployed -o "$WORK/ks2.s2res" --quiet
wait $SP
src=$?
stats
r1=$(jq '.boards[0].auth_replayed' "$WORK/stats.json")
check "a stream whose session the board forgot ends normally (exit $src)" test $src -eq 0
check "... nothing lost" grep -qE "lost 0, late [0-9]+, duplicates 0, stale 0, bad 0" "$WORK/s2.err"
check "... its STREAM_STOP was told S2_E_STALE and sent again (board 0 refusals $r0 -> $r1)" \
	test "$r1" -ge $((r0 + 2))
check "... with every spike" test "$(grep -vc '^#' "$WORK/s2.out")" -eq "$rec"
S2_KEY_FILE="$K" "$S2CTL" mem write --machine "$M" --board 1 --chip 3 0x1000 --hex 0123 --quiet
check "S2_KEY_FILE works as --key" test $? -eq 0

# Job keys: granted on board 1 only; refused on board 0 (another job's key), and for flash.
J="$WORK/job.key"
"$S2CTL" key grant "$J" --key "$K" --machine "$M" --boards 1 --quiet
check "key grant exits 0" test $? -eq 0
check "the job key is mode 0600" test "$(stat -c %a "$J")" = 600
"$S2CTL" mem write --machine "$M" --key "$J" --board 1 --chip 3 0x1000 --hex 4567 --quiet
check "job key on its board: mem write exits 0" test $? -eq 0
"$S2CTL" mem read --machine "$M" --key "$J" --board 1 --chip 3 0x1000 2 >"$WORK/jr.txt"
check "job key on its board: mem read reads what it wrote" grep -qi "45 67" "$WORK/jr.txt"
before=$(auth_sum auth_unknown_key)
refused() { # with the job key this time
	local what=$1
	shift
	"$@" --key "$J" 2>"$WORK/refused.err" >/dev/null
	local rc=$?
	check "another job's key: $what refused with exit 7 (got $rc)" test $rc -eq 7
}
refused "mem read" "$S2CTL" mem read --machine "$M" --board 0 --chip 3 0x1000 8
refused "mem write" "$S2CTL" mem write --machine "$M" --board 0 --chip 3 0x1000 --hex 00ff
refused "signal" "$S2CTL" signal stop --machine "$M" --board 0 --chip 3 --pes 1-4
refused "boot" "$S2CTL" boot --machine "$M" --boards 0
refused "power off" "$S2CTL" power off --machine "$M" --boards 0
refused "run (the network is on board 0)" "$S2CTL" run "$WORK/va.s2img" --machine "$M" -o "$WORK/y.s2res"
refused "stream" "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --max-seconds 1
refused "inject" "$S2CTL" inject "$WORK/va.s2img" --machine "$M" --population E --neurons 1
refused "deploy (load)" "$S2CTL" deploy "$WORK/va.s2img" --machine "$M"
refused "flash (board 0)" "$S2CTL" flash "$WORK/fw.s2flash" --machine "$M" --boards 0
after=$(auth_sum auth_unknown_key)
check "another job's key: refusals counted ($before -> $after)" test "$after" -ge $((before + 10))
"$S2CTL" flash "$WORK/fw.s2flash" --machine "$M" --key "$J" --boards 1 2>"$WORK/jf.err" >/dev/null
check "job key: flash refused with exit 7" test $? -eq 7
stats
check "job key: flash counted as forbidden on its board" \
	jq -e '.boards[1].auth_forbidden >= 1' "$WORK/stats.json" >/dev/null
"$S2CTL" flash "$WORK/fw.s2flash" --machine "$M" --key "$K" --boards 1 --quiet
check "machine key: flash exits 0" test $? -eq 0
"$S2CTL" key revoke "$J" --key "$K" --machine "$M" --boards 1 --quiet
check "key revoke exits 0" test $? -eq 0
"$S2CTL" mem read --machine "$M" --key "$J" --board 1 --chip 3 0x1000 2 2>/dev/null >/dev/null
check "a revoked job key is refused (exit 7)" test $? -eq 7

# Replay, forgery and forgotten sessions, with datagrams made by Python's hashlib.
EP=$("$S2CTL" machine show "$M" --json | jq -r '.endpoints[1] | "\(.host) \(.eth_port)"')
python3 "$PROBE" $EP 1 "$K" replay >"$WORK/replay.json"
check "a valid datagram is answered with an authentic reply" \
	jq_is "$WORK/replay.json" '.first_answered_authentic' 'true'
check "the same datagram replayed from another socket is dropped" \
	jq_is "$WORK/replay.json" '.replay_answered' 'false'
python3 "$PROBE" $EP 1 "$K" forge >"$WORK/forge.json"
check "a forged tag is dropped" jq_is "$WORK/forge.json" '.forged_answered' 'false'
python3 "$PROBE" $EP 1 "$K" stale >"$WORK/stale.json"
check "a session older than the forgotten ones: not acted on, answered S2_E_STALE (-20)" \
	jq_is "$WORK/stale.json" '.stale_status' '-20'
check "... in a reply authenticated with the key" jq_is "$WORK/stale.json" '.stale_reply_authentic' 'true'
python3 "$PROBE" $EP 1 "$K" bulk >"$WORK/bulk.json"
check "bulk: blocks that match the CRC but not the region's hash: S2_E_AUTH (-18)" \
	jq_is "$WORK/bulk.json" '.crc_matches_hash_not' '-18'
check "bulk: an authenticated region ended without its hash: S2_E_AUTH" \
	jq_is "$WORK/bulk.json" '.no_hash' '-18'
check "bulk: the genuine blocks with their hash: accepted" jq_is "$WORK/bulk.json" '.genuine' '0'
stats
check "board 1 counted the replays (2) and the forgery" \
	jq -e '.boards[1].auth_replayed >= 2 and .boards[1].auth_bad_tag >= 1' "$WORK/stats.json" >/dev/null
"$S2CTL" key list --machine "$M" --key "$K" --json >"$WORK/list.json"
check "key list shows the guard's counters per board" \
	jq -e '.boards[1].guard.replayed >= 2 and (.boards[0].keys|length) == 1' "$WORK/list.json" >/dev/null

# Rotation: the new key works, the old one is refused, the file holds the new one.
cp "$K" "$WORK/old.key"
"$S2CTL" key rotate "$K" --machine "$M" --quiet
check "key rotate exits 0" test $? -eq 0
check "the rotated key file is still 0600" test "$(stat -c %a "$K")" = 600
"$S2CTL" mem read --machine "$M" --key "$K" --board 1 --chip 3 0x1000 2 >/dev/null
check "the new machine key works" test $? -eq 0
"$S2CTL" mem read --machine "$M" --key "$WORK/old.key" --board 1 --chip 3 0x1000 2 2>/dev/null
check "the old machine key is refused (exit 7)" test $? -eq 7

# Bad key files: a clear error naming the file and the reason, exit 3.
chmod 644 "$WORK/old.key"
"$S2CTL" info --machine "$M" --key "$WORK/old.key" 2>"$WORK/ww.err" >/dev/null
check "a key file others may read: exit 3" test $? -eq 3
check "... naming the file and its mode" grep -q "old.key: mode 0644" "$WORK/ww.err"
"$S2CTL" info --machine "$M" --key "$WORK/none.key" 2>"$WORK/none.err" >/dev/null
check "a missing key file: exit 3" test $? -eq 3
check "... naming it" grep -q "none.key: No such file" "$WORK/none.err"
"$S2CTL" info --machine "$M" --key "$WORK" 2>"$WORK/dir.err" >/dev/null
check "a key path that is not a file: exit 3" test $? -eq 3
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
	# A key file the user may not read (root reads anything: run as nobody). Its directory
	# must be one nobody can reach: a new one under TMPDIR if nobody can enter that, else
	# under /tmp; removed on exit whatever happens.
	T=${TMPDIR:-/tmp}
	runuser -u nobody -- test -x "$T" 2>/dev/null || T=/tmp
	D=$(mktemp -d "$T/s2key.XXXXXX")
	trap 'rm -rf "$D"; cleanup' EXIT
	chmod 755 "$D"
	cp "$K" "$D/other.key"
	chmod 600 "$D/other.key"
	cp "$M" "$D/m.pb"
	chmod 644 "$D/m.pb"
	runuser -u nobody -- "$S2CTL" info --machine "$D/m.pb" --key "$D/other.key" 2>"$WORK/unread.err" >/dev/null
	check "a key file the user cannot read: exit 3" test $? -eq 3
	check "... naming it and why" grep -q "other.key: Permission denied" "$WORK/unread.err"
	grep -q "other.key: Permission denied" "$WORK/unread.err" || sed 's/^/    /' "$WORK/unread.err"
	rm -rf "$D"
fi
printf 'not a key' >"$WORK/junk.key"
chmod 600 "$WORK/junk.key"
"$S2CTL" info --machine "$M" --key "$WORK/junk.key" 2>"$WORK/junk.err" >/dev/null
check "a file that is not a key: exit 3" test $? -eq 3
"$S2EMU" --key-file "$WORK/old.key" --boards 1 2>"$WORK/emuk.err"
check "s2emu refuses a key file others may read (exit 2)" test $? -eq 2
check "... naming it" grep -q "old.key: mode 0644" "$WORK/emuk.err"

finish
