#!/bin/bash
# Serving a live stream to applications (s2ctl stream --serve, docs/stream.md "Serving
# applications") on a 4-board s2emu. One server on a Unix socket (over a stale socket file,
# which it must replace) with a small client queue, one on a loopback TCP port, and a plain
# s2ctl stream as the reference, all subscribed to the same run. Two fast clients (C, and
# Python when protoc and python3-protobuf are there) must print exactly the reference's spike
# lines; a slow C client must lose messages, be told how many (Drops, Summary), get the
# Summary, and its spikes plus the dropped ones must be the stream's total; the server's
# per-client line on stderr must say the same. A second server on the same socket and a bad
# --serve are refused before anything is subscribed.
# Needs S2CTL, S2EMU, S2_FIRMWARE, STREAM_CLIENT, python3, pgrep; STREAM_CLIENT_PY if built.
# KEEP_WORK=DIR keeps a copy of the work files (outputs, server logs) for a look afterwards.
. "$(dirname "$0")/lib.sh"

QUEUE=4096 # bytes per client: the slow client overflows it, the fast ones keep up
SLOW_MS=5  # the slow client's pause after each message (about 1600 messages come)

PIDS=()
declare -A PID CPID # by name: what we started, the client process under it
cleanup_serve() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	cleanup
}
trap cleanup_serve EXIT

# stream_start NAME ARGS...: s2ctl stream of the VA image in the background, stdout in
# $WORK/NAME.out, stderr in $WORK/NAME.err; waits (bounded) until it is subscribed.
stream_start() {
	local name=$1
	shift
	rm -f "$WORK/$name.ready"
	timeout 120 "$S2CTL" stream "$WORK/va.s2img" --machine "$WORK/four.pb" \
		--ready-file "$WORK/$name.ready" --max-seconds 100 "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	PID[$name]=$!
	for _ in $(seq 100); do
		[ -f "$WORK/$name.ready" ] && return 0
		kill -0 "${PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "s2ctl stream $name did not subscribe:"; cat "$WORK/$name.err"
	exit 1
}

# client_start NAME PROGRAM ARGS...: a stream client in the background; waits (bounded) until
# it printed the Hello line (so it is connected before the run starts).
client_start() {
	local name=$1
	shift
	timeout 60 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	PID[$name]=$!
	for _ in $(seq 200); do
		if grep -q '^# hello' "$WORK/$name.out" 2>/dev/null; then
			CPID[$name]=$(pgrep -P "${PID[$name]}") # the client under timeout
			return 0
		fi
		kill -0 "${PID[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "client $name did not connect:"; cat "$WORK/$name.err"
	exit 1
}

spike_lines() { grep -v '^#' "$1" | sort; }
# field FILE KEY: the value after KEY on the file's "# summary" line
field() { awk -v k="$2" '/^# summary/ { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
emu_start four --boards 4
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/four.pb" -o "$WORK/va.s2img" --quiet
"$S2CTL" deploy "$WORK/va.s2img" --machine "$WORK/four.pb" --duration 200 --quiet
check "deploy VA" test $? -eq 0

# A stale socket file where the server will listen: bound once, nobody listening.
python3 -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$WORK/s.sock"
check "a stale socket file is there" test -S "$WORK/s.sock"

stream_start ref --energy-every 100
stream_start srv --energy-every 100 --serve "unix:$WORK/s.sock" --client-queue "$QUEUE"
stream_start tcp --energy-every 100 --serve tcp:127.0.0.1:0
check "the Unix server replaced the stale socket" grep -q "serving on unix:$WORK/s.sock" "$WORK/srv.err"
port=$(sed -n 's/.*serving on tcp:127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/tcp.err")
check "the TCP server printed the port it bound ($port)" test -n "$port" -a "${port:-0}" -gt 0

timeout 20 "$S2CTL" stream "$WORK/va.s2img" --machine "$WORK/four.pb" \
	--serve "unix:$WORK/s.sock" >/dev/null 2>"$WORK/second.err"
check "a second server on the same socket: exit 2" test $? -eq 2
check "... saying another server listens there" grep -q "another server is listening" "$WORK/second.err"
timeout 20 "$S2CTL" stream "$WORK/va.s2img" --machine "$WORK/four.pb" \
	--serve "udp:1234" >/dev/null 2>"$WORK/bad.err"
check "--serve udp:1234 refused with exit 2" test $? -eq 2
check "... naming the option and the forms" grep -q -- "--serve udp:1234: expected unix:PATH" "$WORK/bad.err"

client_start c "$STREAM_CLIENT" "unix:$WORK/s.sock"
client_start slow "$STREAM_CLIENT" --slow-ms "$SLOW_MS" "unix:$WORK/s.sock"
client_start t "$STREAM_CLIENT" "tcp:127.0.0.1:$port"
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c "import google.protobuf" 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -n "${STREAM_CLIENT_PY:-}" ] && [ -f "$STREAM_CLIENT_PY" ] && [ -n "$PY" ]; then
	client_start py "$PY" "$STREAM_CLIENT_PY" "unix:$WORK/s.sock"
else
	echo "skip - Python client: needs protoc at build time and python3-protobuf" \
		"(apt-get install protobuf-compiler python3-protobuf)"
	PY=""
fi

"$S2CTL" run "$WORK/va.s2img" --machine "$WORK/four.pb" --deployed --duration 200 \
	-o "$WORK/va.s2res" --quiet
check "run VA exits 0" test $? -eq 0
for s in ref srv tcp; do
	wait "${PID[$s]}"
	check "s2ctl stream $s exits 0" test $? -eq 0
done
clients="c slow t${PY:+ py}"
for c in $clients; do
	wait "${PID[$c]}"
	rc=$?
	check "client $c exits 0 (got $rc)" test $rc -eq 0
	[ $rc -eq 0 ] || cat "$WORK/$c.err"
done
check "the Unix socket file is removed at the end" test ! -e "$WORK/s.sock"

total=$(spike_lines "$WORK/ref.out" | wc -l)
check "the reference has spikes ($total)" test "$total" -gt 1000
spike_lines "$WORK/ref.out" >"$WORK/ref.spikes"
for c in c t${PY:+ py}; do
	spike_lines "$WORK/$c.out" >"$WORK/$c.spikes"
	check "client $c: the same spike lines as s2ctl stream" cmp -s "$WORK/$c.spikes" "$WORK/ref.spikes"
	check "client $c: nothing dropped" test "$(field "$WORK/$c.out" dropped_messages)" = 0
	check "client $c: the same energy and event lines" \
		cmp -s <(grep '^# \(energy\|event\)' "$WORK/$c.out" | sort) \
		<(grep '^# \(energy\|event\)' "$WORK/ref.out" | sort)
done

# The slow client: it lost messages, knows how many, and what it got is right.
sent=$(field "$WORK/slow.out" sent_spikes)
dmsg=$(field "$WORK/slow.out" dropped_messages)
dsp=$(field "$WORK/slow.out" dropped_spikes)
check "slow client: got the Summary" test -n "$sent" -a -n "$dmsg" -a -n "$dsp"
sent=${sent:-0} dmsg=${dmsg:-0} dsp=${dsp:-0}
check "slow client: the server dropped messages for it ($dmsg, $dsp spikes)" test "$dmsg" -gt 0 -a "$dsp" -gt 0
# Drops come when the client has room again, which may be only after the end (the Summary
# then tells): totals that grow and never pass the Summary's.
check "slow client: its Drops messages count up to the Summary's totals" awk -v m="$dmsg" -v s="$dsp" '
	/^# drops/ { if ($4 < pm || $6 < ps || $4 > m || $6 > s) bad = 1; pm = $4; ps = $6; n++ }
	END { print "    Drops messages: " n + 0; exit bad }' "$WORK/slow.out"
check "slow client: spikes printed = spikes sent ($sent)" test "$(spike_lines "$WORK/slow.out" | wc -l)" -eq "$sent"
check "slow client: sent + dropped = the total ($sent + $dsp = $total)" test $((sent + dsp)) -eq "$total"
# All clients connected before the run, so all were offered the same messages.
fast_msgs=$(field "$WORK/c.out" sent_messages)
slow_msgs=$(field "$WORK/slow.out" sent_messages)
ndrops=$(grep -c '^# drops' "$WORK/slow.out")
check "slow client: messages got - Drops + dropped = the fast client's ($slow_msgs - $ndrops + $dmsg = ${fast_msgs:-?})" \
	test $((${slow_msgs:-0} - ndrops + dmsg)) -eq "${fast_msgs:-0}"
check "slow client: the summary's stream total is the same" test "$(field "$WORK/slow.out" spikes)" = "$total"
check "slow client: every spike it printed is in the reference" \
	test -z "$(spike_lines "$WORK/slow.out" | comm -23 - "$WORK/ref.spikes")"
line=$(grep "client [0-9]* (pid ${CPID[slow]}):" "$WORK/srv.err")
check "server's line for the slow client says the same" \
	grep -q "sent [0-9]* messages, $sent spikes, [0-9]* bytes; dropped $dmsg messages, $dsp spikes; flushed" <<<"$line"
[ -n "$line" ] && echo "    $line"
check "server's line for the fast C client: nothing dropped" \
	grep -q "(pid ${CPID[c]}): sent [0-9]* messages, $total spikes, .*dropped 0 messages, 0 spikes; flushed" "$WORK/srv.err"
for c in c slow${PY:+ py}; do
	check "server: one closing line for client $c" \
		test "$(grep -c "(pid ${CPID[$c]}): sent .*; dropped " "$WORK/srv.err")" -eq 1
done
check "no sanitizer report from any process" \
	test -z "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.err "$WORK"/*.log 2>/dev/null)"
[ -n "${KEEP_WORK:-}" ] && cp -r "$WORK" "$KEEP_WORK"
finish
