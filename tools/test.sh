#!/bin/sh
# s2 tests: run every test of every preset with ctest (host unit tests, the same under
# ASan/UBSan, a short libFuzzer run, and the firmware tests under qemu-system-arm).
# Run tools/setup.sh first. Exit status is non-zero if any test failed.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
status=0
for p in host-debug host-asan fuzz cm4f-qemu; do
	echo "== ctest --preset $p"
	ctest --preset "$p" -j "$jobs" || status=1
done
echo "== the installed library: tools/check_install.sh"
sh tools/check_install.sh || status=1
if [ $status -eq 0 ]; then
	echo "all test presets passed"
else
	echo "some tests FAILED"
fi
exit $status
