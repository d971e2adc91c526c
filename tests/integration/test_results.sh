#!/bin/bash
# Results files through s2ctl results and plot (docs/cli/results.md, docs/files.md): a complete
# run reads; a partial run is refused (exit 5, the board and step named) unless
# --allow-partial, which marks every output; a damaged or cut file is refused naming the part.
# Runs offline: s2fw-run makes the results, python3 rewrites them as a partial run.
. "$(dirname "$0")/lib.sh"

"$S2CTL" machine generate --boards 1 -o "$WORK/m.pb" --quiet
"$S2CTL" net example vogels_abbott --scale 0.02 -o "$WORK/va.pb" --quiet
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/m.pb" -o "$WORK/va.s2img" --quiet
"$S2FW_RUN" image "$WORK/va.s2img" --duration 100 -o "$WORK/va.s2res" >/dev/null

# expect CODE TEXT OUT CMD...: exit code CODE and TEXT on stderr
expect() {
	local code=$1 text=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" = "$code" ] || { echo "    exit $rc, want $code: $(cat "$WORK/err")"; return 1; }
	[ -z "$text" ] || grep -qF -- "$text" "$WORK/err" || { echo "    stderr: $(cat "$WORK/err")"; return 1; }
}

"$S2CTL" results "$WORK/va.s2res" --json >"$WORK/c.json"
check "complete run: complete, board 0 at the last step" \
	jq_is "$WORK/c.json" '[.complete, .boards[0].status, .boards[0].last_step]' '[true,"complete",1000]'

# The same file as a partial run: board 0 stopped answering at step 400 (CRCs recomputed).
python3 - "$WORK/va.s2res" "$WORK/partial.s2res" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
_, ver, kind, n, _, tlen, _ = struct.unpack_from("<HH4sIQII", b, 4)
secs, t, o = [], 32, 32 + tlen
for _ in range(n):
    ln, _, nl = struct.unpack_from("<QIB", b, t)
    secs.append([b[t + 13:t + 13 + nl], b[o:o + ln]])
    t += 13 + nl
    o += ln
run = bytearray(secs[0][1])
struct.pack_into("<I", run, 20, 0)
secs[0][1] = bytes(run)
why = b"no answer at run"
secs[1][1] = struct.pack("<IIIH", 0, 2, 400, len(why)) + why
table = b"".join(struct.pack("<QIB", len(d), zlib.crc32(d), len(nm)) + nm for nm, d in secs)
total = 32 + len(table) + sum(len(d) for _, d in secs)
head = b"S2FC" + struct.pack("<HH4sIQI", 1, ver, kind, n, total, len(table))
head += struct.pack("<I", zlib.crc32(head + table))
open(sys.argv[2], "wb").write(head + table + b"".join(d for _, d in secs))
PY
check "partial run: refused with exit 5, board and step named" \
	expect 5 "partial.s2res: partial run (board 0 stopped answering at step 400 of 1000: no answer at run)" \
	"$S2CTL" results "$WORK/partial.s2res"
check "partial run: --allow-partial reads it" \
	expect 0 "" "$S2CTL" results "$WORK/partial.s2res" --allow-partial --csv "$WORK/csv"
check "partial run: the summary says PARTIAL RUN" grep -q "PARTIAL RUN: board 0 stopped answering" "$WORK/out"
check "partial run: a PARTIAL file in the CSV directory" grep -q "partial run: board 0" "$WORK/csv/PARTIAL"
check "partial run: each CSV starts with a partial-run comment" \
	sh -c "head -1 '$WORK/csv/E_spikes.csv' | grep -q '^# partial run: board 0'"
"$S2CTL" results "$WORK/partial.s2res" --allow-partial --json >"$WORK/p.json"
check "partial run: JSON complete false, the board's status and step" \
	jq_is "$WORK/p.json" '[.complete, .boards[0].status, .boards[0].last_step, .boards[0].reason]' \
	'[false,"no answer",400,"no answer at run"]'
check "partial run: plot refuses it with exit 5" \
	expect 5 "partial run" "$S2CTL" plot raster "$WORK/partial.s2res" -o "$WORK/p.svg"
check "partial run: plot --allow-partial draws it and says so" \
	expect 0 "partial run, plotted as far as it went" \
	"$S2CTL" plot raster "$WORK/partial.s2res" -o "$WORK/p.svg" --allow-partial

# Damage: a flipped bit in the last section (budget), a cut, a results file of format 1.
cp "$WORK/va.s2res" "$WORK/flip.s2res"
size=$(wc -c <"$WORK/va.s2res")
printf '\001' | dd of="$WORK/flip.s2res" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
check "a flipped bit: exit 3, the section named" \
	expect 3 "flip.s2res: section 'budget' fails its checksum" \
	"$S2CTL" results "$WORK/flip.s2res"
head -c $((size - 7)) "$WORK/va.s2res" >"$WORK/cut.s2res"
check "a cut file: exit 3, both lengths" \
	expect 3 "cut.s2res: truncated: header says $size bytes, file has $((size - 7))" \
	"$S2CTL" results "$WORK/cut.s2res"
printf 'S2RS\001\000\000\000' >"$WORK/old.s2res"
check "format 1: refused, saying why" expect 3 "old.s2res: results format 1" \
	"$S2CTL" results "$WORK/old.s2res"
finish
