#!/bin/bash
# Boot and survey: 1 board and 4 boards, with and without injected dead chips, PEs and links.
. "$(dirname "$0")/lib.sh"

# One board.
emu_start one --boards 1
"$S2CTL" boot --machine "$WORK/one.pb" --json >"$WORK/boot1.json"
check "boot 1 board exits 0" test $? -eq 0
check "boot 1 board: 48 chips, 7296 PEs alive" \
	jq_is "$WORK/boot1.json" '[.chips_alive,.chips_expected,.pes_alive,.pes_expected]' '[48,48,7296,7296]'
check "boot 1 board: every link alive" jq_is "$WORK/boot1.json" '.links_alive == .links_expected' 'true'
"$S2CTL" info --machine "$WORK/one.pb" --json >"$WORK/info1.json"
check "info 1 board: 48 chips x 152 PEs" \
	jq_is "$WORK/info1.json" '[.boards[0].chips_alive,.boards[0].pes_per_chip,.boards[0].pes_alive]' '[48,152,7296]'
check "info names the monitor firmware" jq_is "$WORK/info1.json" '.boards[0].monitor|startswith("s2-monitor")' 'true'

# Four boards, in one process.
emu_start four --boards 4
"$S2CTL" boot --machine "$WORK/four.pb" --json >"$WORK/boot4.json"
check "boot 4 boards exits 0" test $? -eq 0
"$S2CTL" info --machine "$WORK/four.pb" --json >"$WORK/info4.json"
check "info 4 boards: 48 chips x 152 PEs each" \
	jq_is "$WORK/info4.json" '[.boards[]|[.chips_alive,.pes_per_chip,.pes_alive]]' '[[48,152,7296],[48,152,7296],[48,152,7296],[48,152,7296]]'
check "4 boards: links between boards alive too" jq_is "$WORK/boot4.json" '.links_alive == .links_expected' 'true'

# Injected faults: exactly these come back.
emu_start faulty --boards 2 --dead-chip 0:5 --dead-pe 0:7:3 --dead-pe 1:40:151 --dead-link 1:20:1
"$S2CTL" boot --machine "$WORK/faulty.pb" --json --write-machine "$WORK/found.pb" >"$WORK/bootf.json"
check "boot with faults exits 0" test $? -eq 0
check "dead chip reported" jq_is "$WORK/bootf.json" '[.boards[]|.dead_chips]' '[[5],[]]'
check "dead PEs reported" jq_is "$WORK/bootf.json" '[.boards[]|.dead_pes]' '[[[7,3]],[[40,151]]]'
check "dead link reported from both ends, nothing else" \
	jq_is "$WORK/bootf.json" '[.boards[0].dead_links, (.boards[1].dead_links|length), (.boards[1].dead_links|any(. == [20,1]))]' '[[],2,true]'
check "counts: 47+48 chips, 2 PEs down" \
	jq_is "$WORK/bootf.json" '[.chips_alive,.chips_expected,.pes_expected-.pes_alive]' '[95,96,154]'
"$S2CTL" machine show "$WORK/found.pb" --json >"$WORK/found.json"
check "written description marks the dead" \
	jq_is "$WORK/found.json" '[.dead_chips,.dead_pes,.dead_links]' '[1,2,1]'
"$S2CTL" boot --machine "$WORK/found.pb" --json >"$WORK/bootf2.json"
check "booting against the written description expects exactly what is there" \
	jq_is "$WORK/bootf2.json" '[.chips_alive == .chips_expected, .pes_alive == .pes_expected, .links_alive == .links_expected]' '[true,true,true]'

# A bad image changes nothing.
head -c 600 "$S2_FIRMWARE" >"$WORK/short.bin"
emu_start fresh --boards 1
"$S2CTL" boot --machine "$WORK/fresh.pb" --image "$WORK/short.bin" 2>"$WORK/bad.err"
check "truncated image refused with exit 3" test $? -eq 3
check "error names the image" grep -q "short.bin" "$WORK/bad.err"
"$S2CTL" discover --machine "$WORK/fresh.pb" --wait 0 --json >"$WORK/disc.json"
check "board still unbooted after a refused image" jq_is "$WORK/disc.json" '[.boards[].state]' '["unbooted"]'

finish
