#!/bin/sh
# The NIR example of README.md and docs/nir.md (run by the test example_nir): a small
# convolutional spiking network in a .nir file (written here by the project's fixture script;
# yours comes from snnTorch, Norse, Sinabs, Rockpool or Lava) and an input raster, imported,
# compiled and run on a local one-board s2emu, the spikes and read-out voltages back as NumPy.
#   tools/examples/nir_example.sh [WORKDIR]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build/host-debug}
export S2_FIRMWARE=${S2_FIRMWARE:-$ROOT/build/cm4f/firmware/monitor/s2_monitor.bin}
W=${1:-$(mktemp -d "${TMPDIR:-/tmp}/s2nir.XXXXXX")}
mkdir -p "$W" && cd "$W"
"$B/tools/s2emu" --boards 1 --write-machine m.pb --ready-file ready 2>emu.log &
EMU=$!
trap 'kill $EMU 2>/dev/null' EXIT
/usr/bin/python3 "$ROOT/tools/gen_nir_fixtures.py" fixtures >/dev/null
timeout 10 sh -c 'until [ -f ready ]; do sleep 0.1; done'

"$B/host/s2ctl" net import-nir fixtures/conv.nir --input input=fixtures/conv.input.npy \
	--dt 0.001 --reset subtract --integrator exact -o conv.pb
"$B/host/s2ctl" compile conv.pb --machine m.pb -o conv.s2img --quiet
"$B/host/s2ctl" run conv.s2img --machine m.pb -o conv.s2res
"$B/host/s2ctl" results conv.s2res --npy out
ls out
