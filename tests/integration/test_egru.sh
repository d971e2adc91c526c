#!/bin/bash
# Event-based layers end to end (docs/egru.md): the cached EGRU character model of tests/egru,
# exported for 200 held-out characters, compiled, run on s2emu; the read-out's values of every
# step and every layer's events against ref_numpy (bit for bit) and the float PyTorch model
# (top-1 agreement, bits per character); the same network mapped one unit per PE (layers over
# PEs and chips) gives the same bits; every PE re-run alone by the Cortex-M4F build under QEMU
# gives the output of the host build, and the read-out's recording equals s2emu's; the digits
# classifier likewise; live, the tokens injected by egru_live while the board runs give the same
# predictions and bits; bad input is refused with the item named and nothing written.
# Needs: S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, EGRU_LIVE, jq; EGRU_PYTHON (python3 with numpy and torch),
# ENGINE_EMU and ENGINE_ELF and QEMU_RUN for the QEMU part. Exit 77 without torch.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=${EGRU_PYTHON:-/usr/bin/python3}
"$PY" -c 'import numpy, torch' 2>/dev/null || { echo "skip: $PY has no numpy/torch"; exit 77; }
export PYTHONPATH="$SRC/python${PYTHONPATH:+:$PYTHONPATH}"
TRAIN="$SRC/tools/egru_train.py"
CHECK="$SRC/tests/egru/check_run.py"
MODEL="$SRC/tests/egru/charlm.npz"
DIGITS="$SRC/tests/egru/digits.npz"
cd "$WORK" || exit 1

emu_start m --boards 1
"$S2CTL" boot --machine m.pb --quiet || { echo "boot failed"; exit 1; }

# run NET.json NAME [compile options]: convert, compile, run, results as NumPy in NAME.out/
run_net() {
	local net=$1 name=$2
	shift 2
	"$S2CTL" net convert "$net" -o "$name.pb" --quiet &&
		"$S2CTL" compile "$name.pb" --machine m.pb -o "$name.s2img" --quiet "$@" &&
		"$S2CTL" run "$name.s2img" --machine m.pb -o "$name.s2res" --quiet \
			--json >"$name.run.json" 2>"$name.run.err" &&
		"$S2CTL" results "$name.s2res" --npy "$name.out" --quiet
}

check "export the cached char model for 200 held-out characters" \
	"$PY" "$TRAIN" export --model "$MODEL" --tokens 200 --out lm.json
check "compile and run it on s2emu" run_net lm.json lm
check "nothing clipped, dropped or lost" jq_is lm.run.json \
	'[.inputs_clipped, .packets_dropped, .recording_bytes_lost]' '[0,0,0]'
"$S2FW_RUN" image lm.s2img -o local.s2res --dump dump >/dev/null
check "the engine's own expectation (s2fw-run image) gives the same results file" \
	cmp -s local.s2res lm.s2res

# The same network with one unit per PE: the layers spread over PEs and chips.
jq '(.populations[] | select(.model == "egru" or .model == "dense")) += {"max_per_pe": 1}' \
	lm.json >lm1.json
check "mapped one unit per PE" run_net lm1.json lm1
chips=$("$S2CTL" compile lm1.pb --machine m.pb -o lm1b.s2img --json | jq '.chips')
check "which spreads the layers over more than one chip ($chips)" [ "${chips:-0}" -gt 1 ]

# Each PE alone on the host build and on the Cortex-M4F build under QEMU.
qemu_ok=0
qemu_bad=0
if [ -f "${ENGINE_ELF:-}" ] && [ -x "${ENGINE_EMU:-}" ]; then
	for d in dump/pe*; do
		mkdir -p "$d/host" "$d/qemu"
		cp "$d/pedata.bin" "$d/input.bin" "$d/host/"
		cp "$d/pedata.bin" "$d/input.bin" "$d/qemu/"
		(cd "$d/host" && "$ENGINE_EMU") >/dev/null &&
			(cd "$d/qemu" && timeout 120 sh "$QEMU_RUN" "$ENGINE_ELF") >/dev/null &&
			cmp -s "$d/host/output.bin" "$d/qemu/output.bin" && qemu_ok=$((qemu_ok + 1)) ||
			qemu_bad=$((qemu_bad + 1))
	done
	check "every PE ($qemu_ok) gives byte-identical output on the host and under QEMU" \
		[ "$qemu_bad" -eq 0 -a "$qemu_ok" -gt 0 ]
else
	echo "FAIL - the QEMU build (ENGINE_ELF, ENGINE_EMU) is missing"
	FAILS=$((FAILS + 1))
fi
check "against ref_numpy, the float model, QEMU and the one-unit-per-PE mapping" \
	"$PY" "$CHECK" "$MODEL" lm.json lm.out --qemu-dump dump --same-as lm1.out

# Every layer type, the dense event layer included (random weights on the 8-bit grid).
"$PY" "$SRC/tests/egru/gen_mixed_net.py" mixed.json 3
check "a network with a dense event layer: compile and run" run_net mixed.json mixed
check "its values and events against ref_numpy" "$PY" "$CHECK" - mixed.json mixed.out

# Live: the same tokens injected by a host application while the board runs (one step per
# millisecond), the argmax read-out's predictions streamed back.
jq '(.populations[] | select(.model == "dense") | .params.argmax) = 1 |
    (.populations[] | select(.model == "spike_source_array") | .spike_times) |= map([])' \
	lm.json >live.json
"$PY" -c 'import json, sys; n = json.load(open(sys.argv[1])); t = n["populations"][0]
print(" ".join(str(i) for _, i in sorted((s, i) for i, tr in enumerate(t["spike_times"]) for s in tr)))' \
	lm.json >ids.txt
check "deploy the live network" sh -c "'$S2CTL' net convert live.json -o live.pb --quiet &&
	'$S2CTL' compile live.pb --machine m.pb -o live.s2img --quiet &&
	'$S2CTL' deploy live.s2img --machine m.pb --quiet"
timeout 120 "$EGRU_LIVE" m.pb live.s2img tokens out 0 100 <ids.txt >pred.txt 2>live.err &
LIVE=$!
sleep 0.5
check "run it in real time" "$S2CTL" run live.s2img --machine m.pb --deployed --realtime \
	-o live.s2res --quiet
wait $LIVE
check "every token injected in time, every prediction streamed ($(tail -n 1 live.err))" \
	grep -q "200 tokens injected (200 accepted, 0 late, 0 INJECTs refused), 200 predictions received; stream lost 0, bad 0$" live.err
"$S2CTL" results live.s2res --npy live.out --quiet
check "the live predictions are the argmax of the offline logits, the live logits the offline bits" \
	"$PY" -c '
import sys, numpy as np
off, live = np.load("lm.out/out_v.npy"), np.load("live.out/out_v.npy")
L = sum(1 for p in __import__("json").load(open("lm.json"))["populations"] if p["model"] == "egru")
pred = dict(tuple(map(int, l.split())) for l in open("pred.txt"))
ok = all(pred.get(s) == int(np.argmax(off[s])) for s in range(L + 1, L + 201))
sys.exit(0 if ok and np.array_equal(off.view(np.uint32), live.view(np.uint32)) else 1)'

check "export 20 test digits (one instance of the classifier each)" \
	"$PY" "$TRAIN" export --model "$DIGITS" --samples 20 --out dg.json
check "compile and run the digits" run_net dg.json dg
check "digits against ref_numpy and the float model" \
	"$PY" "$CHECK" "$DIGITS" dg.json dg.out --min-agree 0.95

# Bad input: a clear error naming the item, a non-zero exit, no output.
# refuse NAME PATTERN JQ_EDIT [compile]: edit lm.json; convert (or compile) must fail naming it
refuse() {
	local name=$1 pat=$2 edit=$3 stage=${4:-convert} rc=0
	rm -f "bad_$name.pb" "bad_$name.s2img"
	jq "$edit" lm.json >"bad_$name.json"
	if [ "$stage" = compile ]; then
		"$S2CTL" net convert "bad_$name.json" -o "bad_$name.pb" --quiet || return 1
		"$S2CTL" compile "bad_$name.pb" --machine m.pb -o "bad_$name.s2img" 2>"bad_$name.err"
		rc=$?
		[ ! -e "bad_$name.s2img" ] || { echo "    an image was written"; return 1; }
	else
		"$S2CTL" net convert "bad_$name.json" -o "bad_$name.pb" 2>"bad_$name.err"
		rc=$?
		[ ! -e "bad_$name.pb" ] || { echo "    a network was written"; return 1; }
	fi
	[ "$rc" -ne 0 ] || { echo "    exit 0"; return 1; }
	grep -q -- "$pat" "bad_$name.err" || { echo "    message:"; cat "bad_$name.err"; return 1; }
}
check "a threshold out of range" refuse thr "thr: 1.5 is outside" \
	'(.populations[] | select(.label == "egru1") | .params.thr) = 1.5'
check "a scale out of range" refuse shift "shift_u: 30 is outside" \
	'(.populations[] | select(.label == "egru2") | .params.shift_u) = 30'
check "a scale that is not whole" refuse shift_frac "shift_r must be one whole number" \
	'(.populations[] | select(.label == "egru1") | .params.shift_r) = 2.5'
check "mismatched shapes: an entry beyond the next layer" refuse shape \
	"projections\[[0-9]*\] (egru1->egru2:u): from_list\[0\]: .* is outside" \
	'(.projections[] | select(.label == "egru1->egru2:u") | .connector.post[0]) = 100000'
check "a gate that the layer does not have" refuse gate "receptor must be u, r, cx or ch" \
	'(.projections[] | select(.label == "egru1->egru2:u") | .receptor) = "input"'
check "a delay of two steps" refuse delay "event layers take exactly one timestep" \
	'(.projections[] | select(.label == "egru1->egru2:u") | .delay) = 2'
check "a weight that is not on the layer's grid" refuse grid \
	"projection egru1->egru2:u: from_list\[0\]: weight .* is not a whole multiple of 2^-" \
	'(.projections[] | select(.label == "egru1->egru2:u") | .connector.weight[0]) += 1e-9' compile
check "weights whose sums exceed the 24-bit accumulator" refuse acc \
	"beyond the 24-bit accumulator" \
	'(.populations[] | select(.label == "egru2") | .params.shift_u) = 0 |
	 (.projections[] | select(.label == "egru2->egru2:u") | .connector.weight) |= map(0) |
	 (.projections[] | select(.label == "egru1->egru2:u") | .connector) |=
	     {type: "from_list", pre: [range(300) | . % 160], post: [range(300) | 0],
	      weight: [range(300) | 127]}' compile
"$S2CTL" machine generate --boards 1 --dram-kib 16 -o small.pb --quiet
rm -f small.s2img
"$S2CTL" compile lm.pb --machine small.pb -o small.s2img 2>small.err
rc=$?
check "a layer whose weights do not fit the memory its PEs have (16 KiB DRAM per chip)" \
	sh -c "[ $rc -ne 0 ] && [ ! -e small.s2img ] && grep -q 'population egru1: one neuron needs .* DRAM' small.err"
rm -f tok.json
"$PY" "$TRAIN" export --model "$MODEL" --text /dev/stdin --out tok.json 2>tok.err <<<"abc€"
rc=$?
check "a token outside the vocabulary (exit $rc, nothing written)" \
	sh -c "[ $rc -ne 0 ] && [ ! -e tok.json ] && grep -q 'not in the vocabulary' tok.err"
finish
