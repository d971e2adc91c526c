#!/bin/sh
# Install build/host-release into a temporary prefix, then build the example outside the tree
# (tools/examples/installed) against it three ways — pkg-config (shared), pkg-config --static,
# and CMake's find_package (s2::s2 and s2::s2_static) — and run every build. Called by
# tools/test.sh; exit status non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
src=$PWD/tools/examples/installed
work=$(mktemp -d "${TMPDIR:-/tmp}/s2install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install build/host-release --prefix "$prefix" >/dev/null
echo "installed: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"
libdir=$(find "$prefix" -name libs2.a -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Wextra -Werror "$src/s2_hello.c" -o "$work/hello_pc" $(pkg-config --cflags --libs s2)
LD_LIBRARY_PATH=$libdir "$work/hello_pc"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Wextra -Werror "$src/s2_hello.c" -o "$work/hello_pc_static" \
	$(pkg-config --cflags s2) "$libdir/libs2.a" $(pkg-config --libs-only-l --static s2 | sed 's/-ls2//')
"$work/hello_pc_static"
cmake -S "$src" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/build/s2_hello"
"$work/build/s2_hello_static"
echo "check_install: the example built against the installed libs2 with pkg-config and find_package, shared and static"
# The high-level API example (docs/api.md), built with pkg-config, run on the installed s2emu
# with an image the installed s2ctl compiled and the installed monitor image.
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Wextra -Werror "$src/s2_app.c" -o "$work/s2_app" $(pkg-config --cflags --libs s2)
[ -f "$prefix/share/s2/s2_monitor.bin" ] && LD_LIBRARY_PATH=$libdir S2CTL=$prefix/bin/s2ctl \
	S2EMU=$prefix/bin/s2emu S2_FIRMWARE=$prefix/share/s2/s2_monitor.bin \
	sh tools/examples/s2_app_test.sh "$work/s2_app"
# The PyNN backend, from the installed tree alone: its programs on PATH, its monitor image, and
# `import pyNN.s2` through the installed s2_pynn.pth (site.addsitedir reads .pth files as the
# interpreter does for its own dist-packages).
py=/usr/bin/python3
pydir=$(find "$prefix" -name s2_pynn.pth -printf '%h\n' | head -1)
if [ -x "$py" ] && "$py" -c "import pyNN" 2>/dev/null; then
	[ -n "$pydir" ] && [ -f "$prefix/share/s2/s2_monitor.bin" ] || {
		echo "check_install: pyNN.s2 or the monitor image not installed" >&2
		exit 1
	}
	[ -n "$(find "$pydir/pyNN_s2" -name 'simulator*.pyc' 2>/dev/null)" ] || {
		echo "check_install: pyNN.s2 installed without its bytecode" >&2
		exit 1
	}
	(cd "$work" && env -u PYTHONPATH -u S2CTL -u S2EMU -u S2_FIRMWARE PATH="$prefix/bin:$PATH" \
		"$py" -c "
import site; site.addsitedir('$pydir')
import pyNN.s2 as sim
assert sim.__file__.startswith('$prefix'), sim.__file__
import libs2
assert libs2.load()._name.startswith('$prefix'), libs2.load()._name
sim.setup(timestep=0.1)
p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0, tau_refrac=2.0))
p.record('spikes')
sim.run(50.0)
n = len(p.get_data().segments[0].spiketrains[0])
sim.end()
assert n > 0, 'no spikes'
print('check_install: pyNN.s2 from the installed tree ran a neuron on s2emu:', n, 'spikes')
")
else
	echo "check_install: pyNN not installed, the PyNN check skipped"
fi
