#!/bin/sh
# Mapper benchmarks (docs/bench.md, docs/mapping.md): for the full-scale cortical microcircuit,
# the synfire chain 200 x 10,000, a network filling one 90-board rack and one filling 8 racks
# (5.25 million PEs): mapping and image time (wall, and the image's CPU time over all its
# threads), image size, peak memory, router hops per spike (mean, worst), the busiest link,
# router entries per chip before and after compression (total and max, as compiled and with
# --router-target min), each beside the same figures from the previous release of s2 (commit
# 583c921, or S2_OLD_REV: 26cff90 is the release before issue 25's work, whose example
# networks differ; built from git in a temporary directory), with ratios; the load average
# before each case (the host is shared: wall times depend on it, CPU times much less).
#
# Placement: this release's default keeps the better (fewer hops per spike) of population
# order and the traffic order; both are measured beside it. The previous release placed in
# population order, so its hops are this release's --place order hops (26cff90 did not
# report them); its busiest link must equal --place order's. The image's bytes must not depend on the number of threads: the image is
# built with 1 and 2 threads and the SHA-256 of both printed.
#
# With RIG_ROUTING_TABLES=DIR (a checkout of github.com/project-rig/rig_routing_tables) the
# published C implementation of ordered covering (its desktop tool) compresses the same tables
# and is timed beside s2_rt_minimise (bench_rtmin).
#
#   bench/mapper.sh [--no-image] [--no-old] [CASE...]   cases: microcircuit synfire rack racks8
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=build/host-release
OLD_REV=${S2_OLD_REV:-583c921}
cmake --preset host-release >/dev/null
cmake --build --preset host-release --target bench_mapper bench_rtmin >/dev/null
img=1
old=1
while [ $# -gt 0 ]; do
	case $1 in
	--no-image) img=0; shift ;;
	--no-old) old=0; shift ;;
	*) break ;;
	esac
done
cases=${*:-microcircuit synfire rack racks8}
out=$(mktemp -d "${TMPDIR:-/tmp}/s2bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

# the previous release, built once per revision and kept for later runs
OLDB=
if [ $old = 1 ]; then
	OLDT=${TMPDIR:-/tmp}/s2-mapper-bench-$OLD_REV
	if [ ! -x "$OLDT/$B/bench/bench_mapper" ]; then
		echo "building the previous release ($OLD_REV) in $OLDT ..."
		rm -rf "$OLDT"
		mkdir -p "$OLDT"
		git archive "$OLD_REV" | tar -x -C "$OLDT"
		(cd "$OLDT" && cmake --preset host-release >/dev/null &&
			cmake --build --preset host-release -j2 --target bench_mapper >/dev/null)
	fi
	OLDB=$OLDT/$B/bench/bench_mapper
fi

# the published ordered covering, if its sources are given
PEER=
if [ -n "${RIG_ROUTING_TABLES:-}" ]; then
	mkdir -p "$out/rig"
	if cc -O2 -std=gnu99 -I "$RIG_ROUTING_TABLES/include" -o "$out/rig/ordered_covering" \
		"$RIG_ROUTING_TABLES/desktop/ordered_covering.c" 2>"$out/rig/cc.log"; then
		PEER=$out/rig/ordered_covering
	else
		echo "mapper.sh: cannot build $RIG_ROUTING_TABLES/desktop/ordered_covering.c" >&2
	fi
fi

# field extraction from bench_mapper's output
stage_sum() { awk '/^(partition|place|keys|route|tables|verify) /{s+=$2} END{printf "%.3f", s}' "$1"; }
field() { # file key
	case $2 in
	image) awk '/^image:/{print $2}' "$1" ;;
	imgcpu) sed -n 's/^image:.*(CPU \([0-9.]*\) s.*/\1/p' "$1" ;;
	placed) sed -n 's/^placement: *\([a-z]*\) .*/\1/p' "$1" ;;
	rss) awk '/^peak RSS:/{print $3}' "$1" ;;
	hmean) awk '/^hops:/{print $3}' "$1" ;;
	hworst) awk '/^hops:/{gsub(",","",$7); print $7}' "$1" ;;
	busy) awk '/^keys:/{for(i=1;i<=NF;i++) if($i=="link") print $(i+1)}' "$1" ;;
	before) sed -n 's/.*entries \([0-9]*\) -> \([0-9]*\) (max\/chip \([0-9]*\) -> \([0-9]*\).*/\1/p' "$1" ;;
	after) sed -n 's/.*entries \([0-9]*\) -> \([0-9]*\) (max\/chip \([0-9]*\) -> \([0-9]*\).*/\2/p' "$1" ;;
	maxb) sed -n 's/.*entries \([0-9]*\) -> \([0-9]*\) (max\/chip \([0-9]*\) -> \([0-9]*\).*/\3/p' "$1" ;;
	maxa) sed -n 's/.*entries \([0-9]*\) -> \([0-9]*\) (max\/chip \([0-9]*\) -> \([0-9]*\).*/\4/p' "$1" ;;
	esac
}
row() { # label new old
	if [ -n "$3" ] && [ "$3" != "-" ]; then
		awk -v l="$1" -v n="$2" -v o="$3" 'BEGIN{
			r = (o + 0 != 0) ? sprintf("%.3f", n / o) : "-";
			printf "  %-38s %14s %14s %8s\n", l, n, o, r}'
	else
		printf "  %-38s %14s %14s %8s\n" "$1" "$2" "-" "-"
	fi
}

for c in $cases; do
	case $c in
	microcircuit) set -- microcircuit 1 boards:1 ;;
	synfire) set -- synfire 1 boards:4 ;;
	rack) set -- synthetic_rack 1 rack ;;
	racks8) set -- synthetic_8racks 1 racks:8 ;;
	*) echo "mapper.sh: unknown case $c" >&2; exit 2 ;;
	esac
	echo "== $c ($1 x $2 on $3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	im=
	[ $img = 1 ] && im=$out/$c.s2img
	# this release: as compiled (with the image, 2 threads), compressed to the minimum, both
	# placements forced; the image again with 1 thread for the SHA-256 comparison
	"$B/bench/bench_mapper" "$@" $im --threads 2 --dump-tables "$out/$c.tab" >"$out/new.txt"
	if [ -n "$im" ]; then
		ls -l "$im" | awk '{print $5}' >"$out/new.size"
		sha2=$(sha256sum "$im" | cut -c1-16)
		"$B/bench/bench_mapper" "$@" "$im" --threads 1 --no-verify --zlib-peer >"$out/t1.txt"
		sha1=$(sha256sum "$im" | cut -c1-16)
		rm -f "$im"
	fi
	"$B/bench/bench_mapper" "$@" --min >"$out/min.txt"
	"$B/bench/bench_mapper" "$@" --fine-place >"$out/fine.txt"
	"$B/bench/bench_mapper" "$@" --order-place >"$out/order.txt"
	if [ -n "$OLDB" ]; then
		"$OLDB" "$@" $im >"$out/old.txt"
		[ -n "$im" ] && ls -l "$im" | awk '{print $5}' >"$out/old.size" && rm -f "$im"
		if [ "$(field "$out/old.txt" busy)" != "$(field "$out/order.txt" busy)" ]; then
			echo "  WARNING: --place order differs from the previous release's placement" \
				"(busiest link differs)"
		fi
	else
		: >"$out/old.txt"
	fi
	O=$out/old.txt
	get_old() { if [ -s "$O" ]; then field "$O" "$1"; else echo -; fi; }
	printf "  %-38s %14s %14s %8s\n" "" "this release" "previous" "ratio"
	row "mapping time (s)" "$(stage_sum "$out/new.txt")" \
		"$([ -s "$O" ] && stage_sum "$O" || echo -)"
	if [ $img = 1 ]; then
		row "image time (s, wall, 2 threads)" "$(field "$out/new.txt" image)" \
			"$(get_old image)"
		row "image CPU time (s, all threads)" "$(field "$out/new.txt" imgcpu)" "-"
		row "image time (s, wall, 1 thread)" "$(field "$out/t1.txt" image)" "-"
		row "image size (bytes)" "$(cat "$out/new.size")" \
			"$([ -s "$out/old.size" ] && cat "$out/old.size" || echo -)"
		# the peer: the same blobs compressed by zlib (bench_mapper --zlib-peer)
		awk '/^zlib peer: [0-9]* blobs/{s=$(NF-5)} /^zlib peer: level/{printf "  %-38s %14s %14s %8s (zlib %s s CPU)\n", "image blobs, s2 / zlib level " $4, s, $5, $NF, $8}' "$out/t1.txt"
		if [ "$sha1" = "$sha2" ]; then same=yes; else same=NO; fi
		printf "  %-38s %s (1 and 2 threads: %s)\n" "image SHA-256, same bytes" "$same" "$sha2"
	fi
	row "peak RSS (MiB)" "$(field "$out/new.txt" rss)" "$(get_old rss)"
	printf "  %-38s %14s\n" "placement kept by default" "$(field "$out/new.txt" placed)"
	row "hops per spike, mean" "$(field "$out/new.txt" hmean)" "$(field "$out/order.txt" hmean)"
	row "hops per spike, worst" "$(field "$out/new.txt" hworst)" \
		"$(field "$out/order.txt" hworst)"
	row "busiest link (packets/step)" "$(field "$out/new.txt" busy)" "$(get_old busy)"
	row "hops per spike, mean, --place traffic" "$(field "$out/fine.txt" hmean)" \
		"$(field "$out/order.txt" hmean)"
	row "hops per spike, worst, --place traffic" "$(field "$out/fine.txt" hworst)" \
		"$(field "$out/order.txt" hworst)"
	row "busiest link, --place traffic" "$(field "$out/fine.txt" busy)" "$(get_old busy)"
	row "entries before, total" "$(field "$out/new.txt" before)" "$(get_old before)"
	row "entries before, max per chip" "$(field "$out/new.txt" maxb)" "$(get_old maxb)"
	row "entries after, total" "$(field "$out/new.txt" after)" "$(get_old after)"
	row "entries after, max per chip" "$(field "$out/new.txt" maxa)" "$(get_old maxa)"
	row "entries after min (prev.: as compiled)" "$(field "$out/min.txt" after)" \
		"$(get_old after)"
	row "  max per chip" "$(field "$out/min.txt" maxa)" "$(get_old maxa)"
	row "tables stage, min (prev.: as compiled)" \
		"$(awk '/^tables /{print $2}' "$out/min.txt")" \
		"$([ -s "$O" ] && awk '/^tables /{print $2}' "$O" || echo -)"
	# the same tables through s2_rt_minimise and, if given, the published ordered covering
	"$B/bench/bench_rtmin" "$out/$c.tab" >"$out/rt.txt"
	sed 's/^/  s2_rt_minimise: /' "$out/rt.txt"
	if [ -n "$PEER" ]; then
		t0=$(date +%s.%N)
		"$PEER" "$out/$c.tab" "$out/$c.rig" >"$out/peer.txt"
		t1=$(date +%s.%N)
		awk -v t0="$t0" -v t1="$t1" '{s+=$NF; n++} END {
			printf "  published ordered covering (rig_routing_tables, no default routes): " \
			       "%d tables, %d entries in %.3f s (wall, with its file I/O)\n", n, s, t1-t0}' \
			"$out/peer.txt"
		nd=$(awk '/^oc no-dflt:/{print $3}' "$out/rt.txt")
		tn=$(awk '/^oc no-dflt:/{print $6}' "$out/rt.txt")
		mn=$(awk '/^min:/{print $2}' "$out/rt.txt")
		awk -v nd="$nd" -v mn="$mn" -v tn="$tn" -v t0="$t0" -v t1="$t1" '{s+=$NF} END {
			printf "  ratio s2/published: entries %.3f (ordered covering alone), %.3f (min); " \
			       "time %.3f (ordered covering alone)\n", nd/s, mn/s, tn/(t1-t0)}' "$out/peer.txt"
	fi
done
