#!/bin/bash
# The Wireshark dissector tools/wireshark/s2.lua against real traffic: capture a 4-board
# s2emu on loopback while s2ctl boots it, runs Vogels-Abbott (bulk loads, APP_* messages) and
# streams the run live; then tshark with the dissector must decode every captured packet as
# s2 without a Lua error or a malformed body, show every message type that went by, match
# each reply to its request by seq, show the APP_STATUS states, and decode the STREAM_DATA
# records into exactly the spikes and energy samples s2ctl stream printed.
# Needs root or CAP_NET_RAW and tshark (else it says why and exits 77: skipped), S2CTL, S2EMU,
# S2_FIRMWARE, jq, python3. S2_DISSECTOR_KEEP=DIR keeps the capture and tshark's outputs.
. "$(dirname "$0")/lib.sh"
LUA=${S2_DISSECTOR_LUA:-"$(cd "$(dirname "$0")/../.." && pwd)/tools/wireshark/s2.lua"}

if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: tshark is not installed (apt-get install tshark)"
	exit 77
fi
capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
if [ -z "$capeff" ] || [ $(((0x$capeff >> 13) & 1)) -eq 0 ]; then
	echo "SKIP: s2ctl capture needs root or CAP_NET_RAW, which this test does not have" \
		"(uid $(id -u), CapEff ${capeff:-unknown})"
	exit 77
fi

wait_file() { timeout "$2" bash -c "until [ -f '$1' ]; do sleep 0.05; done"; }
wait_pid() { timeout "$2" tail --pid="$1" -f /dev/null; }
# ts ARGS...: tshark with the dissector on the capture, bounded; stderr to $WORK/ts.err (appended).
ts() { timeout 120 tshark -n -r "$WORK/cap.pcap" -X lua_script:"$LUA" "$@" 2>>"$WORK/ts.err"; }

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
emu_start four --boards 4
M="$WORK/four.pb"
"$S2CTL" compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img" --quiet
check "compile VA" test -s "$WORK/va.s2img"

# --- capture: boot, stream, run -----------------------------------------------------------
"$S2CTL" capture -o "$WORK/cap.pcap" --interface lo --machine "$M" --duration 150 \
	--ready-file "$WORK/cap.ready" --json >"$WORK/cap.json" 2>"$WORK/cap.err" &
CAP=$!
EMU_PIDS+=("$CAP")
if ! wait_file "$WORK/cap.ready" 20; then
	if grep -q "needs root or the CAP_NET_RAW" "$WORK/cap.err"; then
		echo "SKIP: $(cat "$WORK/cap.err")"
		exit 77
	fi
	echo "s2ctl capture did not start:"
	cat "$WORK/cap.err"
	exit 1
fi
timeout 60 "$S2CTL" boot --machine "$M" --quiet
check "boot exits 0" test $? -eq 0
timeout 120 "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --energy-every 100 --max-seconds 90 \
	--ready-file "$WORK/s.ready" >"$WORK/live.txt" 2>"$WORK/s.err" &
SP=$!
EMU_PIDS+=("$SP")
check "stream subscribed" wait_file "$WORK/s.ready" 30
timeout 120 "$S2CTL" run "$WORK/va.s2img" --machine "$M" --duration 200 -o "$WORK/va.s2res" --quiet
check "run exits 0" test $? -eq 0
check "the stream ends after the run" wait_pid "$SP" 60
wait "$SP"
check "stream exits 0" test $? -eq 0
check "stream lost nothing" grep -q 'lost 0, late 0, duplicates 0, stale 0, bad 0' "$WORK/s.err"
SID=$(sed -n 's/.*(stream \([0-9a-f]*\)).*/\1/p' "$WORK/s.err")
check "stream id printed" test -n "$SID"
timeout 30 "$S2CTL" ps --machine "$M" --board 0 --chip 0 >/dev/null 2>&1 # CORE_STATES
kill -INT "$CAP"
check "capture stops on SIGINT" wait_pid "$CAP" 30
wait "$CAP"
check "capture exits 0, nothing dropped" \
	jq_is "$WORK/cap.json" '[.packets > 1000, .kernel_dropped, .interface_dropped]' '[true,0,0]'

# --- decode -------------------------------------------------------------------------------
: >"$WORK/ts.err"
ts -T fields -E separator=/t -e frame.number -e udp.srcport -e udp.dstport -e s2.type \
	-e s2.flags.reply -e s2.flags.error -e s2.seq -e s2.board -e s2.chip -e s2.pe \
	-e s2.status -e s2.response_to -e _ws.col.Info >"$WORK/hdr.tsv"
check "tshark decodes the capture" test $? -eq 0 -a -s "$WORK/hdr.tsv"
ts -V >"$WORK/verbose.txt"
check "tshark -V exits 0" test $? -eq 0
if [ -n "${S2_DISSECTOR_KEEP:-}" ]; then
	mkdir -p "$S2_DISSECTOR_KEEP" && cp "$WORK"/cap.pcap "$WORK"/*.tsv "$WORK"/*.txt \
		"$WORK"/ts.err "$S2_DISSECTOR_KEEP"/
fi
# A Lua error does not change tshark's exit status: look for one in every output.
check "no Lua error, no malformed packet (stdout and stderr)" \
	sh -c "! grep -E -l 'Lua: |\\[Lua Error|Lua Error|lua_script|Malformed Packet|Dissector bug' \
	'$WORK/ts.err' '$WORK/hdr.tsv' '$WORK/verbose.txt'"
check "no expert error or warning item" \
	test "$(ts -Y '_ws.expert.severity >= warning || _ws.malformed || _ws.lua' | wc -l)" -eq 0
n_udp=$(timeout 60 tshark -n -r "$WORK/cap.pcap" -Y udp 2>/dev/null | wc -l)
n_s2=$(ts -Y s2 | wc -l)
echo "    $n_udp UDP packets, $n_s2 decoded as s2"
check "every UDP packet of the capture is s2" test "$n_udp" -gt 1000 -a "$n_s2" -eq "$n_udp"
check "CRC-32 checked and good on every packet" \
	test "$(ts -Y 's2.crc.status == "good"' | wc -l)" -eq "$n_udp"

# Message type names (the Info column starts with the name).
cut -f13 "$WORK/hdr.tsv" | awk '{print $1}' | sort -u >"$WORK/names.txt"
for t in BOOT_START BOOT_DATA BOOT_END CHIP_INFO BULK_BEGIN BULK_DATA BULK_SACK BULK_END \
	ROUTER_LOAD APP_LOAD APP_RUN APP_STATUS STREAM_START STREAM_DATA CORE_STATES; do
	check "message type $t decoded" grep -qx "$t" "$WORK/names.txt"
done
check "no unknown type" sh -c "! grep -q '^type' '$WORK/names.txt'"

# Replies: every one but the unsolicited kinds matches a request with the same seq, type and
# address, in the frame s2.response_to names.
python3 - "$WORK/hdr.tsv" >"$WORK/replies.txt" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    rows[int(f[0])] = f
replies = [r for r in rows.values() if r[4] in ("1", "True")]
matched = bad = 0
for r in replies:
    if not r[11]:
        bad += 1; print("unmatched reply", r); continue
    q = rows[int(r[11])]
    same = q[3] == r[3] and q[6] == r[6] and q[7:10] == r[7:10] and q[4] in ("0", "False") \
        and q[1] == r[2] and q[2] == r[1]
    if same: matched += 1
    else: bad += 1; print("mismatch", q, r)
print("replies", len(replies), "matched", matched, "bad", bad)
EOF
tail -1 "$WORK/replies.txt" | sed 's/^/    /'
check "every reply matches its request (seq, type, board, chip, pe, ports)" \
	sh -c "tail -1 '$WORK/replies.txt' | awk '\$2 > 100 && \$2 == \$4 && \$6 == 0 {ok=1} END {exit !ok}'"

# APP_STATUS replies: the states the run went through, ending in done with 2000 steps.
ts -Y 's2.type == 0x23 && s2.flags.reply == 1 && s2.flags.error == 0' -T fields \
	-e s2.app.state -e s2.app.steps_done -e s2.app.n_steps >"$WORK/status.tsv"
check "APP_STATUS replies decoded" test -s "$WORK/status.tsv"
check "APP_STATUS: a board done with 2000 of 2000 steps (state 4)" \
	grep -qP '^4\t2000\t2000$' "$WORK/status.tsv"
check "APP_STATUS: the state is always one of 0..6" \
	sh -c "cut -f1 '$WORK/status.tsv' | grep -qvx '[0-6]' && exit 1 || exit 0"
check "Verbose tree names the state" grep -q 'State: done (4)' "$WORK/verbose.txt"

# --- STREAM_DATA: the records are what s2ctl stream printed ---------------------------------
ts -Y "s2.type == 0x52 && s2.stream.id == 0x$SID" -T fields -E separator=/t -E occurrence=a \
	-E aggregator=';' -e s2.board -e s2.seq -e s2.stream.rec.kind \
	-e s2.stream.spike.step -e s2.stream.spike.chip -e s2.stream.spike.pe \
	-e s2.stream.spike.count -e s2.stream.spike.neuron >"$WORK/spikes.tsv"
ts -Y "s2.type == 0x52 && s2.stream.id == 0x$SID && s2.stream.rec.kind == 2" -T fields \
	-E separator=/t -E occurrence=a -E aggregator=';' -e s2.board -e s2.stream.energy.chip \
	-e s2.stream.energy.step -e s2.stream.energy.time_us \
	-e s2.stream.energy.neuron_updates -e s2.stream.energy.synaptic_events \
	-e s2.stream.energy.spikes_sent -e s2.stream.energy.packets_in \
	-e s2.stream.energy.packets_routed -e s2.stream.energy.dma_bytes \
	-e s2.stream.energy.pe_steps -e s2.stream.energy.energy_uj >"$WORK/energy.tsv"
check "STREAM_DATA packets of the stream decoded" test "$(wc -l <"$WORK/spikes.tsv")" -gt 50
python3 - "$WORK/spikes.tsv" "$WORK/energy.tsv" "$WORK/live.txt" <<'EOF'
import collections, sys
spk_tsv, en_tsv, live = sys.argv[1:4]
# what s2ctl stream printed: "STEP POP NEURON", "# energy board B chip C step S time_us T k v..."
printed = collections.defaultdict(set)
energy_printed = set()
for line in open(live):
    w = line.split()
    if w[0] == "#":
        if w[1] == "energy":
            energy_printed.add(tuple(w[3:6:2] + w[7::2]))
        continue
    printed[int(w[0])].add((w[1], int(w[2])))
# decoded records: per PE (board, chip, pe) a list of (step, [neuron...])
recs = collections.defaultdict(list)
nspikes = 0
fail = []
for line in open(spk_tsv):
    f = line.rstrip("\n").split("\t")
    if len(f) < 8 or not f[3]:
        continue
    board = int(f[0])
    steps, chips, pes, counts = (list(map(int, f[i].split(";"))) for i in (3, 4, 5, 6))
    neurons = list(map(int, f[7].split(";")))
    if sum(counts) != len(neurons):
        fail.append("neuron count mismatch in seq %s" % f[1])
    k = 0
    for s, c, p, n in zip(steps, chips, pes, counts):
        ids = neurons[k:k + n]; k += n
        if ids != sorted(set(ids)):
            fail.append("neurons not ascending: %r" % ids)
        recs[(board, c, p)].append((s, ids))
        nspikes += n
total_printed = sum(len(v) for v in printed.values())
print("decoded %d spikes in %d PEs; printed %d" % (nspikes, len(recs), total_printed))
if nspikes != total_printed:
    fail.append("spike totals differ")
# Each PE holds one slice of one population: population neuron = offset + PE neuron. Find the
# (population, offset) that maps every decoded record of the PE onto printed spikes.
mapped = collections.defaultdict(set)
for pe, rl in recs.items():
    s0, ids0 = rl[0]
    cands = {(pop, g - ids0[0]) for pop, g in printed[s0]}
    cands = {c for c in cands if all((c[0], c[1] + i) in printed[s] for s, ids in rl for i in ids)}
    if len(cands) != 1:
        fail.append("PE %r: %d candidate slices" % (pe, len(cands)))
        continue
    pop, off = cands.pop()
    for s, ids in rl:
        for i in ids:
            mapped[s].add((pop, off + i))
if mapped != printed:
    fail.append("decoded spikes differ from the printed ones")
# energy: board, chip, step, time_us and the 8 counters, exactly as printed
energy_dec = set()
for line in open(en_tsv):
    f = line.rstrip("\n").split("\t")
    cols = [c.split(";") for c in f[1:]]
    for j in range(len(cols[0])):
        energy_dec.add(tuple([f[0]] + [c[j] for c in cols]))
print("decoded %d energy samples; printed %d" % (len(energy_dec), len(energy_printed)))
if not energy_printed or energy_dec != energy_printed:
    fail.append("energy samples differ")
for x in fail[:10]:
    print("  ", x)
sys.exit(1 if fail else 0)
EOF
check "STREAM_DATA: decoded spikes (step, PE, neuron ids) and energy samples equal the stream's" \
	test $? -eq 0
check "STREAM_START decoded with its PE bitmaps summarised" \
	grep -q 'PE bitmaps: [0-9]* chips, [1-9][0-9]* PEs' "$WORK/verbose.txt"
check "run events decoded" grep -q 'event started, step 0' "$WORK/verbose.txt"

finish
