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
