#!/bin/bash
# NIR import end to end: the fixtures of tools/gen_nir_fixtures.py are imported with
# `s2ctl net import-nir` (with their input rasters), compiled, run on a loopback s2emu, and
# compared with tests/nir/nir_ref.py, a numpy reference of the NIR equations under the
# discretisation of the NIR contract: the spikes of every population must be identical, the v
# of the read-outs (LI, I, CubaLI) within 1e-5. Both integrators, both reset modes and
# dt = 0.1 ms are run on some fixtures. Broken files must be refused (exit != 0, the node
# named, no output written). `nir_ref.py netdiff` also checks the imported network itself
# (parameters as float32, synapses before quantisation): when spikes differ it tells whether
# the importer (netdiff fails too) or the engine is at fault.
# Needs S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, jq; numpy and h5py (else exit 77).
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# numpy and h5py are Debian's (python3-numpy, python3-h5py): the system interpreter, unless
# NIR_PYTHON names another.
PY=${NIR_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
	echo "SKIP: $PY lacks numpy or h5py"
	exit 77
fi
REF="$SRC/tests/nir/nir_ref.py"
FX="$WORK/fixtures"
"$PY" "$SRC/tools/gen_nir_fixtures.py" "$FX"
check "fixtures generated" test -s "$FX/conv.nir" -a -s "$FX/conv.input.npy"

emu_start one --boards 1

# checkr DESCRIPTION COMMAND...: as check, and return the command's status.
checkr() {
	local what=$1
	shift
	if "$@"; then
		check "$what" true
	else
		check "$what" false
		return 1
	fi
}

# case NAME FIXTURE [import options]: import, compile, run, compare with the reference.
case_run() {
	local name=$1 fx=$2
	shift 2
	local in="input=$FX/$fx.input.npy"
	if ! "$S2CTL" net import-nir "$FX/$fx.nir" -o "$WORK/$name.pb" --input "$in" "$@" \
		>"$WORK/$name.imp" 2>&1; then
		check "$name: import-nir $*" false
		sed 's/^/    /' "$WORK/$name.imp"
		return
	fi
	# The imported network itself: populations, nir_neuron parameters (float32) and composed
	# synapses as the reference computes them.
	"$S2CTL" net convert "$WORK/$name.pb" --to json -o "$WORK/$name.net.json" >/dev/null
	checkr "$name: the imported network equals the reference's (nir_ref.py netdiff)" \
		"$PY" "$REF" netdiff "$FX/$fx.nir" "$WORK/$name.net.json" "$@"
	"$S2CTL" compile "$WORK/$name.pb" --machine "$WORK/one.pb" -o "$WORK/$name.s2img" \
		--quiet 2>"$WORK/$name.cerr"
	if ! checkr "$name: compiles" test -s "$WORK/$name.s2img"; then
		sed 's/^/    /' "$WORK/$name.cerr"
		return
	fi
	"$S2CTL" run "$WORK/$name.s2img" --machine "$WORK/one.pb" -o "$WORK/$name.s2res" \
		--quiet 2>"$WORK/$name.rerr"
	if ! checkr "$name: runs on s2emu" test -s "$WORK/$name.s2res"; then
		sed 's/^/    /' "$WORK/$name.rerr"
		return
	fi
	"$PY" "$REF" run "$FX/$fx.nir" --input "$in" "$@" -o "$WORK/$name.ref.json"
	if ! checkr "$name: the same spikes as nir_ref.py (and read-out v within 1e-5)" \
		"$PY" "$REF" compare "$WORK/$name.ref.json" "$WORK/$name.s2res"; then
		# With an equal network (the netdiff check above) the difference is the engine's,
		# or the quantisation's; the margin printed shows how close a decision came.
		echo "    (see the netdiff check above: importer if it failed, else engine)"
	fi
}

for fx in lif_layer two_lif conv recurrent nested readouts conv_groups; do
	case_run "$fx" "$fx"
done
# The engine's own run (s2fw-run, one process) gives the same results file.
"$S2FW_RUN" image "$WORK/conv.s2img" -o "$WORK/conv.local" >/dev/null 2>&1
check "conv: s2emu's results equal s2fw-run's, byte for byte" \
	cmp -s "$WORK/conv.s2res" "$WORK/conv.local"

case_run lif_euler_zero lif_layer --integrator euler --reset zero
case_run two_lif_euler two_lif --integrator euler
case_run two_lif_zero two_lif --reset zero
case_run conv_euler_zero conv --integrator euler --reset zero
case_run lif_dt01 lif_dt01 --dt 0.0001
case_run conv_groups_zero conv_groups --reset zero
# The older form (input_type/output_type groups on every node, LIF without v_reset) imports too.
case_run two_lif_legacy two_lif_legacy

# Broken files: refused, the node named, nothing written.
for bad in $(jq -r '.broken | keys[]' "$FX/fixtures.json"); do
	node=$(jq -r ".broken.$bad" "$FX/fixtures.json")
	rm -f "$WORK/$bad.pb"
	"$S2CTL" net import-nir "$FX/$bad.nir" -o "$WORK/$bad.pb" 2>"$WORK/$bad.err" >/dev/null
	rc=$?
	check "$bad: refused (exit $rc)" test "$rc" -ne 0
	checkr "$bad: the error names node '$node'" grep -q "'$node'" "$WORK/$bad.err" ||
		sed 's/^/    /' "$WORK/$bad.err"
	check "$bad: no output file" test ! -e "$WORK/$bad.pb"
done

finish
