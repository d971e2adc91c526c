#!/bin/bash
# Helpers for the integration tests: start s2emu on loopback with ports chosen by the system,
# wait for it (bounded), run s2ctl, check JSON with jq, and clean up whatever happens.
# Needs: S2CTL, S2EMU (paths), S2_FIRMWARE (monitor image), jq.
set -u
WORK=$(mktemp -d "${TMPDIR:-/tmp}/s2it.XXXXXX")
EMU_PIDS=()
FAILS=0
PASSES=0

cleanup() {
	for p in "${EMU_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# emu_start NAME ARGS...: start s2emu writing $WORK/NAME.pb, control file $WORK/NAME.ctl
emu_start() {
	local name=$1
	shift
	rm -f "$WORK/$name.ready"
	"$S2EMU" --write-machine "$WORK/$name.pb" --control-file "$WORK/$name.ctl" \
		--ready-file "$WORK/$name.ready" "$@" 2>"$WORK/$name.log" &
	EMU_PIDS+=($!)
	for _ in $(seq 100); do
		[ -f "$WORK/$name.ready" ] && return 0
		sleep 0.1
	done
	echo "s2emu $name did not start:"; cat "$WORK/$name.log"
	exit 1
}

emu_ctl() { "$S2EMU" ctl "$WORK/$1.ctl" "${@:2}"; }

# check DESCRIPTION COMMAND...: run, count pass/fail
check() {
	local what=$1
	shift
	if "$@"; then
		PASSES=$((PASSES + 1))
		echo "ok   - $what"
	else
		FAILS=$((FAILS + 1))
		echo "FAIL - $what"
	fi
}

# jq_is FILE FILTER EXPECTED
jq_is() {
	local got
	got=$(jq -c "$2" "$1" 2>&1)
	if [ "$got" != "$3" ]; then
		echo "    $2 on $1: got $got, want $3"
		return 1
	fi
}

finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}
