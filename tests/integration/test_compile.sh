#!/bin/bash
# s2ctl net and compile end to end: examples, JSON <-> binary conversion, compiling to an
# image (deterministic, report in JSON), and bad inputs: each gives its own error, exit code 3
# and no output file. No emulator needed.
. "$(dirname "$0")/lib.sh"

"$S2CTL" machine generate --boards 2 -o "$WORK/m2.pb" >/dev/null
"$S2CTL" machine generate --boards 1 -o "$WORK/m1.pb" >/dev/null

"$S2CTL" net example microcircuit --scale 0.05 -o "$WORK/mc.pb" --quiet
check "example microcircuit exits 0" test $? -eq 0
"$S2CTL" net convert "$WORK/mc.pb" -o "$WORK/mc.json" --quiet
"$S2CTL" net convert "$WORK/mc.json" -o "$WORK/mc2.pb" --quiet
check "binary -> JSON -> binary is lossless" cmp -s "$WORK/mc.pb" "$WORK/mc2.pb"
"$S2CTL" net show "$WORK/mc.json" --json >"$WORK/show.json"
check "net show: 8 populations" jq_is "$WORK/show.json" '.populations' '8'

"$S2CTL" compile "$WORK/mc.json" --machine "$WORK/m2.pb" -o "$WORK/a.s2img" --json >"$WORK/rep.json"
check "compile exits 0" test $? -eq 0
check "report names the PEs and tables" jq_is "$WORK/rep.json" '(.pes > 0) and (.entries_after <= .entries_before)' 'true'
"$S2CTL" compile "$WORK/mc.pb" --machine "$WORK/m2.pb" -o "$WORK/b.s2img" --quiet
check "same input, same image bytes" cmp -s "$WORK/a.s2img" "$WORK/b.s2img"
"$S2CTL" compile "$WORK/mc.pb" --machine "$WORK/m2.pb" -o "$WORK/c.s2img" --router-target 20 --json >"$WORK/repc.json"
check "compressed to a small target" jq_is "$WORK/repc.json" '(.chips_compressed > 0) and (.max_entries_after <= 20)' 'true'

# bad_input NAME EXPECTED-MESSAGE COMPILE-ARGS...: exit 3, that message, no image.
bad_input() {
	local name=$1 want=$2
	shift 2
	rm -f "$WORK/out.s2img"
	"$S2CTL" compile "$@" -o "$WORK/out.s2img" 2>"$WORK/err.txt"
	local rc=$?
	check "$name: exit 3" test $rc -eq 3
	check "$name: says '$want'" grep -q -- "$want" "$WORK/err.txt"
	check "$name: no image written" test ! -e "$WORK/out.s2img"
	ls "$WORK"/out.s2img.tmp* >/dev/null 2>&1 && check "$name: no temporary left" false
	return 0
}
mkjson() { sed "$1" "$WORK/mc.json" >"$WORK/$2"; }
mkjson 's/"model": "lif_curr_exp"/"model": "hh_cond"/' unknown_model.json
bad_input "unknown model" "model 'hh_cond' is unknown" "$WORK/unknown_model.json" --machine "$WORK/m2.pb"
mkjson '0,/"tau_m_ms": 10/s//"tau_m_ms": -1/' bad_param.json
bad_input "parameter out of range" "tau_m_ms: -1 is outside" "$WORK/bad_param.json" --machine "$WORK/m2.pb"
mkjson '0,/"post": "L23E"/s//"post": "L99"/' missing_pop.json
bad_input "missing population" "post population 'L99' does not exist" "$WORK/missing_pop.json" --machine "$WORK/m2.pb"
"$S2CTL" net example synthetic_board --scale 1.5 -o "$WORK/big.pb" --quiet
bad_input "network too large" "network too large for machine" "$WORK/big.pb" --machine "$WORK/m1.pb"
bad_input "tables cannot fit" "cannot fit" "$WORK/mc.pb" --machine "$WORK/m2.pb" --router-target 3
printf 'not a network' >"$WORK/junk.pb"
bad_input "corrupt network" "junk.pb: not an s2 network" "$WORK/junk.pb" --machine "$WORK/m2.pb"
cp "$WORK/big.pb" "$WORK/flip.pb"
printf '\377' | dd of="$WORK/flip.pb" bs=1 seek=$(($(wc -c <"$WORK/big.pb") - 100)) conv=notrunc 2>/dev/null
bad_input "damaged network: the part is named" "flip.pb: section '" "$WORK/flip.pb" --machine "$WORK/m2.pb"
head -c 200 "$WORK/big.pb" >"$WORK/short.pb"
bad_input "truncated network" "short.pb: truncated: header says" "$WORK/short.pb" --machine "$WORK/m2.pb"

# NIR import (docs/nir.md): committed NIR-layout files import and compile; bad files and
# inputs exit 3 with the node and the reason and write nothing.
NIRS="$(cd "$(dirname "$0")/../fuzz/corpus/nir" && pwd)"
for f in affine_lif conv_pool nested; do
	"$S2CTL" net import-nir "$NIRS/$f.nir" -o "$WORK/$f.pb" --quiet
	check "import-nir $f exits 0" test $? -eq 0
	"$S2CTL" compile "$WORK/$f.pb" --machine "$WORK/m1.pb" -o "$WORK/$f.s2img" --quiet
	check "imported $f compiles" test $? -eq 0
done
"$S2CTL" net show "$WORK/conv_pool.pb" --json >"$WORK/cp.json"
check "conv_pool: 2x2 conv + 2x2 sum pool over 3x3 = 9 synapses" jq_is "$WORK/cp.json" '.synapses' '9'
bad_nir() {
	local name=$1 want=$2
	shift 2
	rm -f "$WORK/nir_out.pb"
	"$S2CTL" net import-nir "$@" -o "$WORK/nir_out.pb" 2>"$WORK/err.txt"
	local rc=$?
	check "import-nir $name: exit 3" test $rc -eq 3
	check "import-nir $name: says '$want'" grep -q -- "$want" "$WORK/err.txt"
	check "import-nir $name: nothing written" test ! -e "$WORK/nir_out.pb"
}
bad_nir "bool field" "node 'lif' (LIF): field 'v_threshold' is not numeric" "$NIRS/metadata_bool.nir"
bad_nir "libhdf5 crash" "libhdf5 crashed reading it" "$NIRS/libhdf5_segv_h5hg_read.nir"
bad_nir "not HDF5" "not an HDF5 file" "$WORK/junk.pb"
NPYS="$(cd "$(dirname "$0")/../fuzz/corpus/npy" && pwd)"
bad_nir "big-endian input" "big-endian" "$NIRS/affine_lif.nir" --input "in=$NPYS/i2_be.npy"
bad_nir "Fortran-order input" "Fortran order" "$NIRS/affine_lif.nir" \
	--input "in=$NPYS/f8_fortran.npy"
bad_nir "unknown input node" "no top-level Input node 'lif'" "$NIRS/affine_lif.nir" \
	--input "lif=$NPYS/i2_be.npy"

finish
