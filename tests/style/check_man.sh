#!/bin/sh
# The man pages say what --help says: for s2ctl and every verb, every line of the help text
# stands in the generated page (roff escapes undone); s2emu.1 likewise.
#   check_man.sh S2CTL S2EMU
set -eu
s2ctl=$1 s2emu=$2
out=$(mktemp -d "${TMPDIR:-/tmp}/s2man.XXXXXX")
trap 'rm -rf "$out"' EXIT
sh "$(dirname "$0")/../../tools/gen_man.sh" "$s2ctl" "$s2emu" "$out" >/dev/null
unroff() { sed 's/\\-/-/g; s/\\e/\\/g; s/^\\&//' "$1"; }
bad=0 pages=0
for v in $("$s2ctl" --help | awk '/^verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { if (on) exit }'); do
	[ "$v" = man ] && continue
	page=$out/s2ctl-$v.1
	pages=$((pages + 1))
	[ -s "$page" ] || { echo "no man page for $v"; bad=1; continue; }
	grep -q "^\.TH S2CTL-$(echo "$v" | tr a-z A-Z) 1" "$page" || { echo "$v: bad .TH"; bad=1; }
	unroff "$page" >"$out/text"
	"$s2ctl" "$v" --help | sed 's/^usage: //; s/^       //' | while IFS= read -r line; do
		[ -z "$line" ] && continue
		grep -qF -- "$line" "$out/text" || { echo "$v: man page lacks: $line"; exit 1; }
	done || bad=1
done
unroff "$out/s2emu.1" >"$out/text"
"$s2emu" --help | sed '1,3d' | while IFS= read -r line; do
	[ -z "$line" ] && continue
	grep -qF -- "$line" "$out/text" || { echo "s2emu: man page lacks: $line"; exit 1; }
done || bad=1
echo "check_man: $pages verb pages, s2ctl.1 and s2emu.1 checked against --help"
exit $bad
