#!/bin/sh
# Mapper benchmarks (docs/bench.md): for the full-scale cortical microcircuit, the synfire chain
# 200 x 10,000, a network filling one 90-board rack and one filling 8 racks (5.25 million PEs):
# mapping and image time, peak memory, router hops per spike (mean, worst), the busiest link,
# router entries per chip before and after compression (total and max, as compiled and with
# --router-target min), each beside the same figures from the previous release of s2 (commit
# 26cff90, built from git in a temporary directory), with ratios. This release places as the
# previous one by default (boards filled in population order: the same spikes); its fine
# placement (s2ctl compile --place traffic) is measured beside it: the previous release's hops
# are those of this release's default placement, whose busiest link must equal the old
# binary's.
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
OLD_REV=${S2_OLD_REV:-26cff90}
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
			printf "  %-34s %14s %14s %8s\n", l, n, o, r}'
	else
		printf "  %-34s %14s %14s %8s\n" "$1" "$2" "-" "-"
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
	echo "== $c ($1 x $2 on $3)"
	im=
	[ $img = 1 ] && im=$out/$c.s2img
	# this release: as compiled (with the image), compressed to the minimum, old placement
	"$B/bench/bench_mapper" "$@" $im --dump-tables "$out/$c.tab" >"$out/new.txt"
	[ -n "$im" ] && ls -l "$im" | awk '{print $5}' >"$out/new.size" && rm -f "$im"
	"$B/bench/bench_mapper" "$@" --min >"$out/min.txt"
	"$B/bench/bench_mapper" "$@" --fine-place >"$out/fine.txt"
	if [ -n "$OLDB" ]; then
		"$OLDB" "$@" $im >"$out/old.txt"
		[ -n "$im" ] && ls -l "$im" | awk '{print $5}' >"$out/old.size" && rm -f "$im"
		if [ "$(field "$out/old.txt" busy)" != "$(field "$out/new.txt" busy)" ]; then
			echo "  WARNING: the default placement differs from the previous release's" \
				"(busiest link differs)"
		fi
	else
		: >"$out/old.txt"
	fi
	O=$out/old.txt
	get_old() { if [ -s "$O" ]; then field "$O" "$1"; else echo -; fi; }
	printf "  %-34s %14s %14s %8s\n" "" "this release" "previous" "ratio"
	row "mapping time (s)" "$(stage_sum "$out/new.txt")" \
		"$([ -s "$O" ] && stage_sum "$O" || echo -)"
	if [ $img = 1 ]; then
		row "image time (s)" "$(field "$out/new.txt" image)" "$(get_old image)"
		row "image size (bytes)" "$(cat "$out/new.size")" \
			"$([ -s "$out/old.size" ] && cat "$out/old.size" || echo -)"
	fi
	row "peak RSS (MiB)" "$(field "$out/new.txt" rss)" "$(get_old rss)"
	row "hops per spike, mean" "$(field "$out/new.txt" hmean)" "$(field "$out/new.txt" hmean)"
	row "hops per spike, worst" "$(field "$out/new.txt" hworst)" \
		"$(field "$out/new.txt" hworst)"
	row "busiest link (packets/step)" "$(field "$out/new.txt" busy)" "$(get_old busy)"
	row "hops per spike, mean, --place traffic" "$(field "$out/fine.txt" hmean)" \
		"$(field "$out/new.txt" hmean)"
	row "hops per spike, worst, --place traffic" "$(field "$out/fine.txt" hworst)" \
		"$(field "$out/new.txt" hworst)"
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
