#!/bin/bash
# s2ctl capture and replay: capture a 4-board s2emu's traffic on loopback while two s2ctl
# streams (text and JSON) print a Vogels-Abbott run live; replaying the capture must print
# exactly what each printed, with the same counters, also after converting the capture to
# every other link layer replay reads. A truncated capture, damaged frames and files that
# are not captures give clear errors naming the file and record, counted skips, no crash.
# Needs root or CAP_NET_RAW (else it says why and exits 77: skipped), S2CTL, S2EMU,
# S2_FIRMWARE, jq, python3.
. "$(dirname "$0")/lib.sh"

# Capability CAP_NET_RAW is bit 13 of the effective set.
capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
if [ -z "$capeff" ] || [ $(((0x$capeff >> 13) & 1)) -eq 0 ]; then
	echo "SKIP: s2ctl capture needs root or CAP_NET_RAW, which this test does not have" \
		"(uid $(id -u), CapEff ${capeff:-unknown})"
	exit 77
fi

# wait_file FILE SECONDS, wait_pid PID SECONDS: bounded waits.
wait_file() { timeout "$2" bash -c "until [ -f '$1' ]; do sleep 0.05; done"; }
wait_pid() { timeout "$2" tail --pid="$1" -f /dev/null; }
# The summary line of a stream's stderr without its seconds (the only field that differs).
summary() { grep '^stream: ' "$1" | sed 's/ ([0-9.]* s)//'; }

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
emu_start four --boards 4
M="$WORK/four.pb"
"$S2CTL" compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img" --quiet
"$S2CTL" deploy "$WORK/va.s2img" --machine "$M" --quiet
check "deploy VA" test $? -eq 0

# --- capture while two streams print the run live --------------------------------------
"$S2CTL" capture -o "$WORK/cap.pcap" --interface lo --machine "$M" --duration 120 \
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
"$S2CTL" stream "$WORK/va.s2img" --machine "$M" --energy-every 100 --max-seconds 60 \
	--ready-file "$WORK/a.ready" >"$WORK/live.txt" 2>"$WORK/a.err" &
SA=$!
"$S2CTL" stream "$WORK/va.s2img" --machine "$M" --energy-every 100 --max-seconds 60 --json \
	--ready-file "$WORK/b.ready" >"$WORK/live.json" 2>"$WORK/b.err" &
SB=$!
EMU_PIDS+=("$SA" "$SB")
check "both streams subscribed" wait_file "$WORK/a.ready" 30
wait_file "$WORK/b.ready" 30
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --duration 200 -o "$WORK/va.s2res" --quiet
check "run exits 0" test $? -eq 0
check "the streams end after the run" wait_pid "$SA" 60
wait_pid "$SB" 60
wait "$SA"
check "text stream exits 0" test $? -eq 0
wait "$SB"
check "JSON stream exits 0" test $? -eq 0
kill -INT "$CAP"
check "capture stops on SIGINT" wait_pid "$CAP" 30
wait "$CAP"
check "capture exits 0" test $? -eq 0
check "capture file written, no temporary left" \
	test -s "$WORK/cap.pcap" -a ! -e "$WORK/cap.pcap.tmp"
check "capture: packets captured, none dropped" \
	jq_is "$WORK/cap.json" '[.packets > 1000, .kernel_dropped, .interface_dropped]' '[true,0,0]'
check "live text: spikes, energy and event lines" \
	test "$(grep -c '^[0-9]* [EI] ' "$WORK/live.txt")" -gt 1000 -a \
	"$(grep -c '^# energy ' "$WORK/live.txt")" -ge 20 -a \
	"$(grep -c '^# event ' "$WORK/live.txt")" -ge 2
check "live streams lost nothing" \
	grep -q 'lost 0, late 0, duplicates 0, stale 0, bad 0' "$WORK/a.err"
IDA=$(sed -n 's/.*(stream \([0-9a-f]*\)).*/\1/p' "$WORK/a.err")
IDB=$(sed -n 's/.*(stream \([0-9a-f]*\)).*/\1/p' "$WORK/b.err")
check "stream ids printed" test -n "$IDA" -a -n "$IDB"

# --- replay: the same output -----------------------------------------------------------
"$S2CTL" replay "$WORK/cap.pcap" "$WORK/va.s2img" --stream-id "$IDA" \
	>"$WORK/rep.txt" 2>"$WORK/rep.err"
check "replay exits 0" test $? -eq 0
check "replayed text equals the live text byte for byte" cmp "$WORK/live.txt" "$WORK/rep.txt"
check "same stream counters" test "$(summary "$WORK/a.err")" = "$(summary "$WORK/rep.err")"
check "the other stream's packets are counted, not fed" \
	grep -q 'replay: .*cap.pcap (Ethernet): [0-9]* records: [1-9][0-9]* stream packets, [1-9][0-9]* of other streams' \
	"$WORK/rep.err"

"$S2CTL" replay "$WORK/cap.pcap" "$WORK/va.s2img" --stream-id "$IDB" --json \
	>"$WORK/rep.json" 2>"$WORK/repj.err"
check "replay --json exits 0" test $? -eq 0
grep -v '"type":"summary"' "$WORK/live.json" >"$WORK/live.lines"
grep -v '"type":"summary"\|"type":"replay"' "$WORK/rep.json" >"$WORK/rep.lines"
check "replayed JSON lines equal the live ones" cmp "$WORK/live.lines" "$WORK/rep.lines"
check "same JSON summary but for seconds" test \
	"$(jq -c 'select(.type=="summary") | del(.seconds)' "$WORK/live.json")" = \
	"$(jq -c 'select(.type=="summary") | del(.seconds)' "$WORK/rep.json")"
jq -c 'select(.type=="replay")' "$WORK/rep.json" >"$WORK/rep.counts"
check "replay counters: every record accounted for" jq_is "$WORK/rep.counts" \
	'.records == .stream_packets + .other_streams + .other_udp + .other_protocols + .fragments + .truncated + .malformed and .malformed == 0' \
	'true'

"$S2CTL" replay "$WORK/cap.pcap" "$WORK/va.s2img" --count-only >"$WORK/co.out" 2>"$WORK/co.err"
check "--count-only: summary only" test $? -eq 0 -a ! -s "$WORK/co.out"
check "--count-only: counts every spike" grep -q "^stream: $(grep -c '^[0-9]' "$WORK/live.txt") spikes" "$WORK/co.err"

# --- the same capture through every other link layer ------------------------------------
python3 - "$WORK/cap.pcap" "$WORK" <<'EOF'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic, = struct.unpack("<I", data[:4])
assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
recs, off = [], 24
while off < len(data):
    ts, tu, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    recs.append((ts, tu, orig, data[off + 16:off + 16 + incl]))
    off += 16 + incl
assert struct.unpack("<I", data[20:24])[0] == 1  # Ethernet
def write(name, linktype, wrap):
    with open(f"{out}/{name}.pcap", "wb") as f:
        f.write(data[:20] + struct.pack("<I", linktype))
        for ts, tu, orig, fr in recs:
            assert fr[12:14] == b"\x08\x00"
            body = wrap(fr[14:])
            f.write(struct.pack("<IIII", ts, tu, len(body), len(body) + orig - len(fr)) + body)
write("null", 0, lambda ip: struct.pack("<I", 2) + ip)
write("loop", 108, lambda ip: struct.pack(">I", 2) + ip)
write("sll", 113, lambda ip: struct.pack(">HHH8sH", 0, 772, 6, bytes(8), 0x0800) + ip)
write("sll2", 276, lambda ip: struct.pack(">HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, bytes(8)) + ip)
write("raw", 101, lambda ip: ip)
write("vlan", 1, lambda ip: bytes(12) + b"\x81\x00\x00\x07\x08\x00" + ip)
# Damaged frames: record 5 has an IPv4 total length past the frame, record 6 a UDP length
# past the IP packet, record 7 is cut to 30 bytes by a snap length, record 8 is an IPv4
# header length of 16 bytes; everything else unchanged.
with open(f"{out}/damaged.pcap", "wb") as f:
    f.write(data[:24])
    for i, (ts, tu, orig, fr) in enumerate(recs, 1):
        fr = bytearray(fr)
        if i == 5:
            fr[16:18] = struct.pack(">H", 9000)
        if i == 6:
            ihl = (fr[14] & 15) * 4
            fr[14 + ihl + 4:14 + ihl + 6] = struct.pack(">H", 9000)
        if i == 7:
            fr = fr[:30]
        if i == 8:
            fr[14] = 0x44
        f.write(struct.pack("<IIII", ts, tu, len(fr), orig) + fr)
# Truncated copies: cut inside the data of the record at two thirds of the file, and inside
# the header of the one after it (a cut between two records would be a valid, shorter file).
ends, off = [], 24
for ts, tu, orig, fr in recs:
    off += 16 + len(fr)
    ends.append(off)
k = len(ends) * 2 // 3
open(f"{out}/trunc.pcap", "wb").write(data[:ends[k - 1] + 16 + 20])
open(f"{out}/trunc_hdr.pcap", "wb").write(data[:ends[k] + 7])
open(f"{out}/trunc.record", "w").write(f"{k + 1} {k + 2}\n")
EOF
check "capture converted to other link layers" test -s "$WORK/sll2.pcap"
for l in null loop sll sll2 raw vlan; do
	"$S2CTL" replay "$WORK/$l.pcap" "$WORK/va.s2img" --stream-id "$IDA" \
		>"$WORK/rep.$l" 2>"$WORK/rep.$l.err"
	check "replay of the $l link layer: the same text" cmp "$WORK/live.txt" "$WORK/rep.$l"
done

# --- damaged input ------------------------------------------------------------------------
"$S2CTL" replay "$WORK/damaged.pcap" "$WORK/va.s2img" --stream-id "$IDA" --json \
	>"$WORK/dmg.json" 2>"$WORK/dmg.err"
check "damaged frames: skipped, exit 0" test $? -eq 0
check "damaged frames: named by record" grep -q 'damaged.pcap: record 5: IPv4 total length beyond the frame' "$WORK/dmg.err"
check "damaged frames: the snapped one named" grep -q 'record 7: IPv4 header cut short: the capture kept only 30 of' "$WORK/dmg.err"
jq -c 'select(.type=="replay")' "$WORK/dmg.json" >"$WORK/dmg.counts"
check "damaged frames: counted" jq_is "$WORK/dmg.counts" '[.truncated, .malformed]' '[1,3]'

read -r rec_data rec_hdr <"$WORK/trunc.record"
for t in trunc trunc_hdr; do
	"$S2CTL" replay "$WORK/$t.pcap" "$WORK/va.s2img" --stream-id "$IDA" \
		>"$WORK/$t.out" 2>"$WORK/$t.err"
	check "$t: exit 3" test $? -eq 3
	check "$t: what was read is printed, a prefix of the live text" \
		cmp -s "$WORK/$t.out" <(head -c "$(stat -c %s "$WORK/$t.out")" "$WORK/live.txt")
	check "$t: counters printed" grep -q "^replay: .*$t.pcap" "$WORK/$t.err"
done
check "cut in a record's data: the error names the file and the record" \
	grep -q "s2ctl replay: .*trunc.pcap: record $rec_data: truncated dump file" "$WORK/trunc.err"
check "cut in a record's header: the error names the file and the record" \
	grep -q "s2ctl replay: .*trunc_hdr.pcap: record $rec_hdr: truncated dump file" \
	"$WORK/trunc_hdr.err"

# The checksum record beside the capture (docs/files.md): damage and cuts anywhere, even
# between two records, are found before replaying.
check "capture writes a checksum record beside the pcap" test -s "$WORK/cap.pcap.s2sum"
cp "$WORK/cap.pcap" "$WORK/flip.pcap"
cp "$WORK/cap.pcap.s2sum" "$WORK/flip.pcap.s2sum"
printf '\377' | dd of="$WORK/flip.pcap" bs=1 seek=100 conv=notrunc 2>/dev/null
"$S2CTL" replay "$WORK/flip.pcap" "$WORK/va.s2img" >"$WORK/flip.out" 2>"$WORK/flip.err"
check "a flipped byte under a checksum record: exit 3, nothing printed" \
	test $? -eq 3 -a ! -s "$WORK/flip.out"
check "a flipped byte: the byte range named" \
	grep -q "flip.pcap: bytes 0-[0-9]* fail their checksum (.*flip.pcap.s2sum)" "$WORK/flip.err"
head -c $(($(wc -c <"$WORK/cap.pcap") / 2)) "$WORK/cap.pcap" >"$WORK/half.pcap"
cp "$WORK/cap.pcap.s2sum" "$WORK/half.pcap.s2sum"
"$S2CTL" replay "$WORK/half.pcap" "$WORK/va.s2img" >/dev/null 2>"$WORK/half.err"
check "a cut capture under a checksum record: exit 3, both lengths" \
	sh -c "test $? -eq 3 && grep -q 'half.pcap: truncated: .*half.pcap.s2sum says [0-9]* bytes, file has' '$WORK/half.err'"
check "a capture without a record: replayed, said to be unchecked" \
	grep -q "sll.pcap: no checksum record (.*): not checked for damage" "$WORK/rep.sll.err"

head -c 4096 /dev/urandom >"$WORK/garbage.pcap"
for f in garbage.pcap empty.pcap header.pcap; do
	case $f in
	empty.pcap) : >"$WORK/$f" ;;
	header.pcap) head -c 20 "$WORK/cap.pcap" >"$WORK/$f" ;;
	esac
	"$S2CTL" replay "$WORK/$f" "$WORK/va.s2img" >"$WORK/$f.out" 2>"$WORK/$f.err"
	rc=$?
	check "$f: exit 3 (got $rc), nothing printed" test $rc -eq 3 -a ! -s "$WORK/$f.out"
	check "$f: the error names the file" grep -q "s2ctl replay: .*$f: not a readable pcap" "$WORK/$f.err"
done
"$S2CTL" replay "$WORK/cap.pcap" "$WORK/nothere.s2img" >/dev/null 2>"$WORK/noimg.err"
check "a missing image: exit 3, named" \
	sh -c "test $? -eq 3 && grep -q nothere.s2img '$WORK/noimg.err'"

# --- capture's limits and errors ---------------------------------------------------------
"$S2CTL" capture -o "$WORK/ten.pcap" --interface lo --machine "$M" --packets 10 --duration 60 \
	--ready-file "$WORK/ten.ready" --json >"$WORK/ten.json" 2>"$WORK/ten.err" &
TEN=$!
EMU_PIDS+=("$TEN")
wait_file "$WORK/ten.ready" 20
"$S2CTL" info --machine "$M" >/dev/null 2>&1
check "capture --packets 10 stops by itself" wait_pid "$TEN" 30
check "capture --packets 10: ten packets" jq_is "$WORK/ten.json" '.packets' '10'
"$S2CTL" replay "$WORK/ten.pcap" "$WORK/va.s2img" --json >"$WORK/ten.rep" 2>/dev/null
check "replay of it: ten records of other UDP traffic" \
	jq_is <(jq -c 'select(.type=="replay")' "$WORK/ten.rep") '[.records, .other_udp]' '[10,10]'
timeout 30 "$S2CTL" capture -o "$WORK/quiet.pcap" --interface lo --machine "$M" --duration 1 --quiet
check "capture --duration 1: an empty, valid capture" test $? -eq 0 -a -s "$WORK/quiet.pcap"
timeout 30 "$S2CTL" capture -o "$WORK/no/such/dir.pcap" --interface lo --machine "$M" \
	--duration 1 2>"$WORK/nodir.err"
check "capture into a missing directory: non-zero exit, no file" \
	sh -c "test $? -ne 0 && test ! -e '$WORK/no/such/dir.pcap'"
check "... naming the file" grep -q "no/such/dir.pcap" "$WORK/nodir.err"
timeout 30 "$S2CTL" capture -o "$WORK/x.pcap" --interface nosuchif0 --machine "$M" \
	--duration 1 2>"$WORK/noif.err"
check "capture on a missing interface: exit 2, named" \
	sh -c "test $? -eq 2 && grep -q 'nosuchif0' '$WORK/noif.err' && test ! -e '$WORK/x.pcap'"
finish
