#!/bin/sh
# Run a bare-metal s2 firmware image (built with the cm4f-qemu preset) on QEMU's MPS2 AN386
# board (Cortex-M4, RAM at 0x00000000 like a PE's SRAM). The firmware's console reaches this
# script's stdout through ARM semihosting, and its exit status (s2_port_exit, low 8 bits) is
# this script's exit status. ctest runs every QEMU test through here.
#   usage: cmake/qemu-run.sh IMAGE.elf [extra qemu-system-arm options]
#   env:   S2_QEMU  the qemu-system-arm binary (default: from PATH)
# -serial null and -monitor none keep QEMU off the terminal, so parallel runs cannot leave
# it in raw mode; the image never reads input.
set -eu
if [ $# -lt 1 ]; then
	echo "usage: $0 IMAGE.elf [qemu options]" >&2
	exit 2
fi
image=$1
shift
exec "${S2_QEMU:-qemu-system-arm}" -M mps2-an386 -cpu cortex-m4 -nographic \
	-serial null -monitor none -semihosting-config enable=on,target=native \
	-kernel "$image" "$@" </dev/null
