#!/bin/bash
# The free membrane under high-rate Poisson input against Campbell's theorem, on the engine
# built for Cortex-M4F under QEMU and built for the host (the build s2emu runs): 128 LIF
# neurons of the microcircuit (C 250 pF, tau_m 10 ms, tau_syn 0.5 ms) with the threshold out
# of reach, each driven by background Poisson input at 12.8 kHz (K_ext 1,600 x 8 Hz) of
# 87.81 pA, for 1 s; 20 of them recorded (the runner's 1 MiB output). Both builds must write
# the same bytes, and mean and variance must match tests/reference/campbell.py.
# Needs: S2FW_RUN, ENGINE_EMU, ENGINE_ELF, QEMU_RUN (as engine_identity.sh).
set -u
W=$(mktemp -d "${TMPDIR:-/tmp}/s2camp.XXXXXX")
trap 'rm -rf "$W"' EXIT
[ -f "$ENGINE_ELF" ] || { echo "missing $ENGINE_ELF: build the cm4f-qemu preset first"; exit 1; }
PY=python3
$PY -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W/qemu" "$W/host"
"$S2FW_RUN" --model lif_curr_exp --n 128 --param cm=0.25 --param tau_m=10 \
	--param tau_syn_E=0.5 --param v_thresh=1000 --v0 -65 --bg 12800:0.08781 \
	--record-v "$(seq -s, 0 19)" --seed 3 --duration 1000 --write-dir "$W/qemu" || exit 1
cp "$W/qemu/pedata.bin" "$W/qemu/input.bin" "$W/host/"
(cd "$W/host" && "$ENGINE_EMU") || { echo "FAIL - host run"; exit 1; }
(cd "$W/qemu" && timeout 250 sh "$QEMU_RUN" "$ENGINE_ELF") || { echo "FAIL - QEMU run"; exit 1; }
cmp -s "$W/qemu/output.bin" "$W/host/output.bin" || { echo "FAIL - QEMU and host outputs differ"; exit 1; }
echo "ok   - QEMU and host outputs identical ($(stat -c %s "$W/host/output.bin") bytes)"
for b in qemu host; do
	echo "== $b"
	$PY "$HERE/reference/campbell.py" "$W/$b/output.bin" --format s2fw --rate 12800 \
		--weight 0.08781 || { echo "FAIL - $b: Campbell"; exit 1; }
done
