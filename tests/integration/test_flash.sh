#!/bin/bash
# Flash: power cuts at every step of flashing never leave a board without a bootable image;
# bad images are refused and change nothing; a failing new image falls back to the old one.
. "$(dirname "$0")/lib.sh"

pack() { "$S2CTL" flash pack "$S2_FIRMWARE" --quiet "$@"; }
head -c 20000 /dev/urandom >"$WORK/extra.bin"
pack --version v1 -o "$WORK/v1.s2fi"
pack --version v2 --extra "$WORK/extra.bin" -o "$WORK/v2.s2fi"
check "pack makes flash images" test -s "$WORK/v2.s2fi"
# Files that cannot be read are refused naming the file and the reason (exit 3).
refused() { # WHAT WANT COMMAND...: exit 3 and stderr WANT
	"${@:3}" 2>"$WORK/r.err" >/dev/null
	local rc=$?
	check "$1: refused with exit 3 (got $rc): $(cat "$WORK/r.err")" \
		test $rc -eq 3 -a "$(cat "$WORK/r.err")" = "$2"
}
head -c 140000 /dev/zero >"$WORK/big.bin"
refused "pack: no monitor" "s2ctl flash: $WORK/none.bin: No such file or directory" \
	"$S2CTL" flash pack "$WORK/none.bin" --version x -o "$WORK/x.s2fi"
refused "pack: a monitor larger than SRAM" \
	"s2ctl flash: $WORK/big.bin: larger than a PE's 128 KiB SRAM" \
	"$S2CTL" flash pack "$WORK/big.bin" --version x -o "$WORK/x.s2fi"
refused "pack: no --extra file" "s2ctl flash: $WORK/none.bin: No such file or directory" \
	"$S2CTL" flash pack "$S2_FIRMWARE" --extra "$WORK/none.bin" --version x -o "$WORK/x.s2fi"
check "pack: nothing written when refused" test ! -e "$WORK/x.s2fi"

# status NAME: the flash status JSON of board 0 of emulator NAME
status() { "$S2CTL" flash --status --machine "$WORK/$1.pb" --json; }
booted_version() { # NAME
	status "$1" | jq -r '.boards[0].flash as $f | if $f.booted_slot == null then "none" else $f.slots[$f.booted_slot].version end'
}

# A board with v1 in flash, booted from it: the starting point of every cut below.
mkdir -p "$WORK/base"
emu_start base --boards 1 --flash-dir "$WORK/base"
"$S2CTL" flash "$WORK/v1.s2fi" --machine "$WORK/base.pb" --quiet
check "first flash exits 0" test $? -eq 0
"$S2CTL" reset --machine "$WORK/base.pb" --quiet
check "after a power cycle the board runs v1 from flash" test "$(booted_version base)" = v1
"$S2CTL" info --machine "$WORK/base.pb" --json >"$WORK/info.json"
check "booted from flash: 48 chips answer" jq_is "$WORK/info.json" '.chips_alive' '48'

# Bad images are refused before anything is written, and leave both slots as they were.
status base >"$WORK/before.json"
head -c 10000 "$WORK/v2.s2fi" >"$WORK/trunc.s2fi"
cp "$WORK/v2.s2fi" "$WORK/corrupt.s2fi"
printf '\xff' | dd of="$WORK/corrupt.s2fi" bs=1 seek=5000 conv=notrunc status=none
pack --version other --board-type 7 -o "$WORK/other.s2fi"
for bad in trunc corrupt other; do
	"$S2CTL" flash "$WORK/$bad.s2fi" --machine "$WORK/base.pb" 2>"$WORK/$bad.err"
	rc=$?
	check "$bad image refused with exit 3 (got $rc)" test $rc -eq 3
	check "$bad image: the error names the image" grep -q "$bad.s2fi" "$WORK/$bad.err"
	status base >"$WORK/after.json"
	check "$bad image: both slots untouched" cmp -s "$WORK/before.json" "$WORK/after.json"
done
check "wrong board type is named" grep -q "board type 7" "$WORK/other.err"
head -c 5000000 /dev/zero >"$WORK/huge.s2fi"
refused "flash: no image" "s2ctl flash: image $WORK/none.s2fi: No such file or directory" \
	"$S2CTL" flash "$WORK/none.s2fi" --machine "$WORK/base.pb"
refused "flash: an image larger than a slot" \
	"s2ctl flash: image $WORK/huge.s2fi: larger than a flash slot (4 MiB)" \
	"$S2CTL" flash "$WORK/huge.s2fi" --machine "$WORK/base.pb"
status base >"$WORK/after.json"
check "unread images: both slots untouched" cmp -s "$WORK/before.json" "$WORK/after.json"
"$S2CTL" power off --machine "$WORK/base.pb" --quiet
"$S2CTL" flash "$WORK/v2.s2fi" --machine "$WORK/base.pb" 2>"$WORK/off.err"
check "a powered-off board is refused (exit 1)" test $? -eq 1
check "the error says why" grep -q "S2_E_STATE\|state" "$WORK/off.err"
"$S2CTL" power on --machine "$WORK/base.pb" --quiet
kill "${EMU_PIDS[-1]}"
wait "${EMU_PIDS[-1]}" 2>/dev/null

# How many flash writes a v2 flash takes, counted on a copy.
writes=$(( $(stat -c %s "$WORK/v2.s2fi") / 1384 + 4 ))

# Power cuts: after n writes (clean cut, or the n+1th write torn half-way).
cuts=0
for n in $(seq 0 "$writes"); do
	for mode in "" ":torn"; do
		[ -n "$mode" ] && [ $((n % 3)) -ne 1 ] && continue
		cuts=$((cuts + 1))
		d="$WORK/cut$n$mode"
		cp -r "$WORK/base" "$d"
		emu_start "c$n" --flash-dir "$d" --power-cut-after "$n$mode"
		pid=${EMU_PIDS[-1]}
		"$S2CTL" flash "$WORK/v2.s2fi" --machine "$WORK/c$n.pb" --quiet 2>/dev/null &
		fp=$!
		# Either the power fails (the emulator dies) or the flash completes.
		while kill -0 "$pid" 2>/dev/null && kill -0 "$fp" 2>/dev/null; do sleep 0.02; done
		kill "$fp" 2>/dev/null
		wait "$fp" 2>/dev/null
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# Power back on: the board must boot v1 or v2, never nothing.
		emu_start "r$n" --flash-dir "$d"
		v=$(booted_version "r$n")
		check "cut after $n writes$mode: boots a complete image ($v)" \
			test "$v" = v1 -o "$v" = v2
		"$S2CTL" flash "$WORK/v2.s2fi" --machine "$WORK/r$n.pb" --quiet
		check "cut after $n writes$mode: flashing again completes" test $? -eq 0
		"$S2CTL" reset --machine "$WORK/r$n.pb" --quiet
		check "cut after $n writes$mode: then v2 runs" test "$(booted_version "r$n")" = v2
		kill "${EMU_PIDS[-1]}"
		wait "${EMU_PIDS[-1]}" 2>/dev/null
	done
done
echo "    $cuts power cuts tried"

# A new image that fails to boot: the board falls back to the previous one.
cp -r "$WORK/base" "$WORK/fb"
emu_start fb --flash-dir "$WORK/fb" --boot-fail-version v2
"$S2CTL" flash "$WORK/v2.s2fi" --machine "$WORK/fb.pb" --quiet
"$S2CTL" reset --machine "$WORK/fb.pb" --quiet
check "a new image that fails to boot falls back to v1" test "$(booted_version fb)" = v1
check "the failed slot is marked bad" \
	jq_is <(status fb) '[.boards[0].flash.slots[].state]|sort' '["bad","good"]'

finish
