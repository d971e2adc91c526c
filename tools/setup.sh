#!/bin/sh
# s2 set-up: install every dependency from Debian's packages (as root, or with sudo), then
# configure and build every preset of CMakePresets.json. Safe to run again.
#   tools/setup.sh              install + build all presets
#   S2_SKIP_APT=1 tools/setup.sh  build only (dependencies already present)
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format
  libevent-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libpcap-dev libcmocka-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm
  libmetis-dev libdeflate-dev libjson-c-dev jq procps python3-pynn python3-brian python3-jsonschema
  protobuf-compiler python3-protobuf tshark libhdf5-dev python3-h5py python3-numpy
  python3-torch python3-sklearn libsodium-dev slurm-wlm munge prometheus"

if [ "${S2_SKIP_APT:-0}" != 1 ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	echo "== installing packages"
	# tshark's wireshark-common asks whether non-root users may capture: answer no, unasked.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		$SUDO debconf-set-selections
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi

PRESETS="host-debug host-asan host-release fuzz cm4f cm4f-qemu"
for p in $PRESETS; do
	echo "== configure + build: $p"
	cmake --preset "$p" >/dev/null
	cmake --build --preset "$p"
done
echo "== firmware sizes (text/data/bss, CODE region and its free bytes)"
cat build/cm4f/firmware/sizes.txt 2>/dev/null || true
echo "set-up done: presets $PRESETS built"
