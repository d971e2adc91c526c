#!/bin/sh
# Man pages from the programs' own help text, so pages and --help cannot drift:
# s2ctl.1 and s2ctl-VERB.1 from `s2ctl man [VERB]` (the verb table behind --help), and
# s2emu.1 from `s2emu --help`.   tools/gen_man.sh S2CTL S2EMU OUTDIR
set -eu
s2ctl=$1 s2emu=$2 out=$3
mkdir -p "$out"
"$s2ctl" man >"$out/s2ctl.1"
for v in $("$s2ctl" --help | awk '/^verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { if (on) exit }'); do
	[ "$v" = man ] && continue
	"$s2ctl" man "$v" >"$out/s2ctl-$v.1"
done
{
	printf '.TH S2EMU 1 "" "s2" "s2 manual"\n.SH NAME\ns2emu \\- an emulated SpiNNaker2 machine on UDP\n.SH SYNOPSIS\n.nf\n'
	"$s2emu" --help | sed -n '1,2p' | sed 's/^usage: //; s/^       //; s/\\/\\e/g; s/-/\\-/g'
	printf '.fi\n.SH DESCRIPTION\n.nf\n'
	"$s2emu" --help | sed '1,3d' | sed 's/\\/\\e/g; s/-/\\-/g; s/^\./\\\&./'
	printf '.fi\n.SH SEE ALSO\n.BR s2ctl (1)\n'
} >"$out/s2emu.1"
echo "man pages: $(ls "$out" | wc -l) in $out"
