#!/bin/bash
# Fuzz bench: run each libFuzzer target of tests/fuzz for RUNS executions (default 10^7), one
# after another (-j1: the machine is shared), starting from a scratch copy of its committed
# seed corpus, and print per target: executions, seconds, executions per second, coverage
# (libFuzzer's cov: edges and ft: features at the end), corpus size and crashes. A target
# that crashes leaves its reproducer in the work directory, which is then kept and named.
#   bench/fuzz.sh [RUNS] [TARGET...]     default 10000000, the targets of the files in the
#                                        s2 container and every other reader (list below)
# Environment: S2_FUZZ_BUILD (default build/fuzz: cmake --preset fuzz), S2_FUZZ_MAX_SECONDS
# (a time cap per target, default none: the figure printed says how many ran).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-10000000}
[ $# -gt 0 ] && shift
TARGETS=${*:-sfile results machine_file netfile sumrec machine image network packet msg live capframe pedata npy nir}
B=${S2_FUZZ_BUILD:-build/fuzz}
case $B in /*) ;; *) B=$PWD/$B ;; esac
CAP=${S2_FUZZ_MAX_SECONDS:-0}
W=$(mktemp -d)
keep=0
trap '[ $keep = 1 ] || rm -rf "$W"' EXIT
list=""
for t in $TARGETS; do list="$list fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$B" -j1 --target $list >/dev/null

echo "== fuzz: $RUNS executions per target ($(nproc) cores, -j1), corpus from tests/fuzz/corpus"
printf '%-14s %12s %9s %10s %7s %7s %7s %8s\n' target executions seconds exec/s cov ft corpus crashes
total_crash=0
for t in $TARGETS; do
	d=$W/$t
	mkdir -p "$d/corpus" "$d/art"
	cp tests/fuzz/corpus/"$t"/* "$d/corpus/" 2>/dev/null || true
	t0=$(date +%s.%N)
	rc=0
	"$B/tests/fuzz/fuzz_$t" -runs="$RUNS" -max_total_time="$CAP" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$d/art/" "$d/corpus" >"$d/log" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$d/log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	crashes=$(find "$d/art" -type f | wc -l)
	[ "$rc" = 0 ] || [ "$crashes" -gt 0 ] || crashes="rc=$rc"
	[ "$crashes" = 0 ] || { keep=1; total_crash=1; }
	secs=$(echo "$t1 - $t0" | bc)
	printf '%-14s %12s %9.1f %10.0f %7s %7s %7s %8s\n' "$t" "${execs:-?}" "$secs" \
		"$(echo "${execs:-0} / $secs" | bc -l)" "${cov:-?}" "${ft:-?}" \
		"$(find "$d/corpus" -type f | wc -l)" "$crashes"
done
if [ $total_crash = 1 ]; then
	echo "crashes: reproducers and logs kept in $W (<target>/art, <target>/log)"
	exit 1
fi
