#!/bin/bash
# Boards allocated by SLURM (docs/cluster.md): munge, slurmctld and slurmd on loopback with
# their own configuration and state, an s2emu of 4 boards with a machine key, the shipped
# prolog and epilog (tools/slurm). Two jobs of two users and two accounts, each
# --gres=s2board:2, run Vogels-Abbott at the same time; each job's spikes are those of the
# network run alone on a 2-board machine; a third job waits for boards, then finds them
# scrubbed; a job sees only its boards, renumbered from 0, with its own key; each finished job
# has its energy report, and s2ctl energy jobs splits the machine's energy among jobs and
# idle exactly. Bad input: more boards than exist, a machine file naming boards outside the
# allocation, a job without boards.
# Needs root (slurmd runs jobs as their users) and Debian's slurm-wlm and munge: without
# them it says why and exits 77 (ctest SKIP_RETURN_CODE).
. "$(dirname "$0")/lib.sh"
jqt() { jq -e "$@" >/dev/null; } # a jq test, quiet
SRC=$(cd "$(dirname "$0")/../.." && pwd)

for p in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged /usr/bin/sbatch; do
	[ -x "$p" ] || { echo "SKIP: $p is not installed (slurm-wlm, munge)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: slurmd must run as root to start jobs as their users"; exit 77; }

chmod 755 "$WORK"
S=$WORK/slurm
mkdir -p "$S/munge" "$S/ctld" "$S/d" "$S/log" "$WORK/out"
chmod 711 "$S/munge"
chmod 1777 "$WORK/out"
export S2_STATE_DIR=$WORK/state
DAEMONS=()
stop_daemons() {
	for p in "${DAEMONS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${DAEMONS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	for u in "${MADE_USERS[@]}"; do userdel "$u" 2>/dev/null; done
	cleanup
}
MADE_USERS=()
trap stop_daemons EXIT

# Two users, if they can be made; else both jobs run as root under two accounts.
U1=root U2=root
if command -v useradd >/dev/null; then
	# names of this run only (tests may run at once), removed at the end
	for u in "s2a$$" "s2b$$"; do
		useradd --system --no-create-home --shell /usr/sbin/nologin "$u" 2>/dev/null &&
			MADE_USERS+=("$u")
	done
	[ ${#MADE_USERS[@]} -eq 2 ] && U1=s2a$$ U2=s2b$$
fi

# The machine: 4 boards, a machine key; the site's description is what s2emu wrote.
K=$WORK/machine.key
"$S2CTL" key init "$K" --quiet
emu_start site --boards 4 --key-file "$K"
M=$WORK/site.pb
chmod 644 "$M"
"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
chmod 644 "$WORK/va.pb"

# Reference: the same network alone on a 2-board machine without keys.
emu_start alone --boards 2
"$S2CTL" compile "$WORK/va.pb" --machine "$WORK/alone.pb" -o "$WORK/alone.s2img" --quiet &&
	"$S2CTL" run "$WORK/alone.s2img" --machine "$WORK/alone.pb" -o "$WORK/alone.s2res" --quiet &&
	"$S2CTL" results "$WORK/alone.s2res" --csv "$WORK/alone" --quiet
check "reference: Vogels-Abbott alone on a 2-board machine" test -s "$WORK/alone/E_spikes.csv"
PYNN=0
if /usr/bin/python3 -c 'import pyNN' 2>/dev/null; then
	PYNN=1
	/usr/bin/python3 "$SRC/tests/integration/slurm_pynn.py" "$WORK/alone.pb" >"$WORK/pynn_alone.json"
	check "reference: pyNN.s2 alone on a 2-board machine" test -s "$WORK/pynn_alone.json"
fi

# SLURM's configuration: s2ctl machine slurm gives the gres lines.
"$S2CTL" machine slurm "$M" --node s2node --dev-dir "$S/dev" --make-files >"$S/lines.txt"
check "machine slurm exits 0" test $? -eq 0
grep '^NodeName=' "$S/lines.txt" >"$S/gres.conf"
check "machine slurm: gres.conf line for 4 boards" \
	grep -q "Name=s2board File=$S/dev/s2board\[0-3\]" "$S/gres.conf"
check "machine slurm: GresTypes and the node's Gres" \
	bash -c "grep -q '^GresTypes=s2board' '$S/lines.txt' && grep -q 'Gres=s2board:4' '$S/lines.txt'"
check "machine slurm: the device files exist" test -f "$S/dev/s2board3"

ports=$(python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1",0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r PCTL PD <<<"$ports"
cat >"$S/s2.env" <<EOF
S2_MACHINE=$M
S2_MACHINE_KEY=$K
S2_STATE_DIR=$S2_STATE_DIR
S2CTL=$S2CTL
S2_FIRMWARE=$S2_FIRMWARE
EOF
for x in prolog epilog; do
	printf '#!/bin/sh\nS2_SLURM_ENV=%s exec sh %s "$@" 2>>%s\n' "$S/s2.env" \
		"$SRC/tools/slurm/s2-$x" "$S/log/$x.log" >"$S/$x.sh"
	chmod 755 "$S/$x.sh"
done
cat >"$S/slurm.conf" <<EOF
ClusterName=s2test
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PCTL
SlurmdPort=$PD
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/d
SlurmctldPidFile=$S/ctld.pid
SlurmdPidFile=$S/d.pid
SlurmctldLogFile=$S/log/ctld.log
SlurmdLogFile=$S/log/d.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
PrologFlags=Alloc
Prolog=$S/prolog.sh
Epilog=$S/epilog.sh
$(grep -E '^GresTypes=' "$S/lines.txt")
NodeName=s2node NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=8 Gres=s2board:4 State=UNKNOWN
PartitionName=s2 Nodes=s2node Default=YES MaxTime=10 State=UP
EOF
export SLURM_CONF=$S/slurm.conf
head -c 1024 /dev/urandom >"$S/munge/munge.key"
chmod 400 "$S/munge/munge.key"
/usr/sbin/munged --foreground --force --socket="$S/munge/munge.sock" \
	--key-file="$S/munge/munge.key" --pid-file="$S/munge/munged.pid" \
	--log-file="$S/munge/munged.log" --seed-file="$S/munge/seed" 2>"$S/log/munged.out" &
DAEMONS+=($!)
for _ in $(seq 50); do [ -S "$S/munge/munge.sock" ] && break; sleep 0.1; done
/usr/sbin/slurmctld -D -i >"$S/log/ctld.out" 2>&1 &
DAEMONS+=($!)
/usr/sbin/slurmd -D -N s2node >"$S/log/d.out" 2>&1 &
DAEMONS+=($!)
up=0
for _ in $(seq 150); do
	sinfo -h -o %t 2>/dev/null | grep -q idle && { up=1; break; }
	sleep 0.2
done
if [ $up -ne 1 ]; then
	echo "SKIP: slurmctld/slurmd did not come up here; their logs:"
	tail -n 5 "$S/log/ctld.log" "$S/log/d.log" 2>/dev/null | sed 's/^/    /'
	exit 77
fi
check "munge, slurmctld and slurmd are up (node idle with 4 s2board)" \
	bash -c "scontrol show node s2node | grep -q 'Gres=s2board:4'"

# Bad input: more boards than the machine has.
sbatch --gres=s2board:5 --wrap true >"$WORK/big.out" 2>&1
check "a job asking for 5 of 4 boards is refused (exit non-zero)" test $? -ne 0
check "... SLURM says why" grep -qi "not available\|Invalid generic resource" "$WORK/big.out"

# The jobs. A and B wait for each other (bounded), so they run Vogels-Abbott at once.
cat >"$WORK/job.sh" <<'EOF'
#!/bin/bash
# $1: name; runs inside the job: show the boards, run the network, try what it must not.
set -u
O=$OUT/$1
mkdir -p "$O"
"$S2CTL" job show --json >"$O/show.json"
echo $? >"$O/show.rc"
touch "$OUT/$1.started"
if [ "$1" != c ]; then
	for _ in $(seq 600); do [ -f "$OUT/a.started" ] && [ -f "$OUT/b.started" ] && break; sleep 0.1; done
	squeue -h -o "%i %T %r" >"$O/squeue.txt"
	# The other job's key: not this user's to read (or, both root, not on these boards).
	for k in "$S2_STATE_DIR"/jobs/*/job.key; do
		[ "$k" = "$S2_STATE_DIR/jobs/$SLURM_JOB_ID/job.key" ] && continue
		"$S2CTL" info --machine "$M" --key "$k" >/dev/null 2>"$O/otherkey.err"
		echo $? >"$O/otherkey.rc"
		break
	done
fi
"$S2CTL" info --machine "$M" --json >"$O/info.json"
echo $? >"$O/info.rc"
# A command to a board outside the job is refused before anything is sent.
"$S2CTL" mem read --machine "$M" --board 2 --chip 3 0x1000 2 >/dev/null 2>"$O/outside.err"
echo $? >"$O/outside.rc"
# A description of its own naming a board of another job (the first site board not its own).
mine=$(jq -c '[.boards[].site_board]' "$O/show.json")
other=$(jq -r --argjson mine "$mine" \
	'[.endpoints[] | select(.board as $b | $mine | index($b) | not)][0].eth_port' "$SITE_JSON")
"$S2CTL" machine generate --boards 1 --base-port "$other" -o "$O/foreign.pb" --quiet
"$S2CTL" mem read --machine "$O/foreign.pb" --board 0 --chip 3 0x1000 2 >/dev/null 2>"$O/foreign.err"
echo $? >"$O/foreign.rc"
if [ "$1" = c ]; then # the boards of an earlier job: scrubbed
	"$S2CTL" mem read --machine "$M" --board 0 --chip 3 0x2000 4 >"$O/scrub.txt" 2>&1
	echo $? >"$O/scrub.rc"
	if [ "$PYNN" = 1 ]; then # pyNN.s2, given the site's description, in the job
		/usr/bin/python3 "$SRC/tests/integration/slurm_pynn.py" "$M" >"$O/pynn.json" 2>"$O/pynn.err"
		echo $? >"$O/pynn.rc"
	fi
else # leave something for the next tenant to find, if the scrub failed
	"$S2CTL" mem write --machine "$M" --board 0 --chip 3 0x2000 --hex a5a5a5a5 --quiet
	echo $? >"$O/mark.rc"
	"$S2CTL" compile "$VA" --machine "$M" -o "$O/va.s2img" --quiet &&
		"$S2CTL" run "$O/va.s2img" --machine "$M" -o "$O/va.s2res" --quiet &&
		"$S2CTL" results "$O/va.s2res" --csv "$O/csv" --quiet
	echo $? >"$O/run.rc"
	# hold the boards until the harness has checked what it checks while a and b run
	for _ in $(seq 600); do [ -f "$OUT/release" ] && break; sleep 0.1; done
fi
EOF
chmod 755 "$WORK/job.sh"
"$S2CTL" machine show "$M" --json >"$WORK/site.json"
chmod 644 "$WORK/site.json"
export OUT=$WORK/out M VA=$WORK/va.pb SITE_JSON=$WORK/site.json SRC PYNN
JA=$(sbatch --parsable --uid="$U1" --account=alpha --gres=s2board:2 -J a -o "$OUT/a.log" \
	"$WORK/job.sh" a)
JB=$(sbatch --parsable --uid="$U2" --account=beta --gres=s2board:2 -J b -o "$OUT/b.log" \
	"$WORK/job.sh" b)
check "jobs a ($JA, $U1, alpha) and b ($JB, $U2, beta) submitted" test -n "$JA" -a -n "$JB"
for _ in $(seq 300); do
	[ -f "$OUT/a.started" ] && [ -f "$OUT/b.started" ] && break
	sleep 0.2
done
JC=$(sbatch --parsable --account=gamma --gres=s2board:2 -J c -o "$OUT/c.log" "$WORK/job.sh" c)
for _ in $(seq 50); do
	st=$(squeue -h -j "$JC" -o "%T %r")
	[[ "$st" == *Resources* ]] && break
	sleep 0.1
done
check "job c ($JC) waits for boards while a and b hold all four (state: $st)" \
	bash -c "[[ '$st' == PENDING* ]]"
check "a and b run at the same time" test -f "$OUT/a.started" -a -f "$OUT/b.started"
# From outside the jobs (as the harness, root): b's boards refuse a's key.
SLURM_JOB_ID=$JB "$S2CTL" mem read --machine "$M" --board 0 --chip 3 0x1000 2 \
	--key "$S2_STATE_DIR/jobs/$JA/job.key" >/dev/null 2>"$WORK/cross.err"
check "job b's boards refuse job a's key (exit 7)" test $? -eq 7
touch "$OUT/release" # a and b may end now (they hold their boards until here)
for _ in $(seq 900); do
	[ -z "$(squeue -h -o %i)" ] && break
	sleep 0.2
done
check "every job finished within the time allowed" test -z "$(squeue -h -o %i)"

for j in a b; do
	O=$OUT/$j
	check "job $j: s2ctl job show inside the job exits 0" grep -qx 0 "$O/show.rc"
	check "job $j: sees 2 boards, numbered 0 and 1" \
		jqt '[.boards[].board] == [0,1]' "$O/show.json"
	check "job $j: info over its 2 boards only" \
		jqt '(.boards | length) == 2' "$O/info.json"
	check "job $j: a board outside the job (--board 2) is refused (exit 2)" grep -qx 2 "$O/outside.rc"
	check "job $j: a machine file naming boards outside the job is refused (exit 3)" \
		grep -qx 3 "$O/foreign.rc"
	check "... naming the board and the job" grep -q "is not one of job" "$O/foreign.err"
	check "job $j: Vogels-Abbott ran (exit 0)" grep -qx 0 "$O/run.rc"
	check "job $j: spikes identical to the network run alone" diff -rq "$WORK/alone" "$O/csv"
	if [ "$U1" != root ]; then
		check "job $j: the other user's job key file is refused (exit 3, unreadable)" \
			bash -c "grep -qx 3 '$O/otherkey.rc' && grep -q 'Permission denied' '$O/otherkey.err'"
	else
		check "job $j: the other job's key is refused by its boards (exit 7)" grep -qx 7 "$O/otherkey.rc"
	fi
	check "job $j: it saw the other job running at once" \
		bash -c "grep -c RUNNING '$O/squeue.txt' | grep -qx 2"
done
sa=$(jq -r '[.boards[].site_board]|join(",")' "$OUT/a/show.json")
sb=$(jq -r '[.boards[].site_board]|join(",")' "$OUT/b/show.json")
check "a and b hold different site boards ($sa and $sb)" test "$sa" != "$sb"
check "job c: ran after a and b, on boards they had" grep -qx 0 "$OUT/c/show.rc"
check "job c: the board memory an earlier job wrote is scrubbed (zeros)" \
	grep -q "00 00 00 00" "$OUT/c/scrub.txt"
if [ "$PYNN" = 1 ]; then
	check "job c: pyNN.s2 runs on the job's boards with its key (exit 0)" grep -qx 0 "$OUT/c/pynn.rc" ||
		tail -n 3 "$OUT/c/pynn.err"
	check "job c: pyNN.s2's spikes are those of the run alone" cmp -s "$WORK/pynn_alone.json" "$OUT/c/pynn.json"
fi
check "prologs and epilogs logged no failure" bash -c "! grep -q 'failed' '$S/log/prolog.log' '$S/log/epilog.log'"
check "the epilog scrubbed (zeroed and verified on the boards) and revoked each job's key" \
	test "$(grep -c 'scrubbed in .* (zeroed and verified), power-cycled, key revoked (rc 0)' "$S/log/epilog.log")" -eq 3
sed -n 's/.*\(boards .* scrubbed in [0-9.]* s\).*/    epilog: \1/p' "$S/log/epilog.log"
check "job keys and allocations are gone" test -z "$(ls "$S2_STATE_DIR/jobs")"
"$S2CTL" key list --machine "$M" --key "$K" --json >"$WORK/keys.json"
check "only the machine key is left on every board" \
	jqt '[.boards[].keys | length] == [1,1,1,1]' "$WORK/keys.json"

# Energy per job: a report per job, tagged; the sum over the period splits the machine's
# energy exactly among jobs and idle.
for j in "$JA" "$JB" "$JC"; do
	check "job $j has its energy report" test -f "$S2_STATE_DIR/energy/$j.s2job"
done
"$S2CTL" energy jobs --machine "$M" --json >"$WORK/ej.json"
check "energy jobs exits 0" test $? -eq 0
check "energy jobs: the three jobs, with user and account" jqt --arg u1 "$U1" --arg u2 "$U2" \
	'[.jobs[] | "\(.user)/\(.account)"] | sort == (["\($u1)/alpha", "\($u2)/beta", "root/gamma"] | sort)' \
	"$WORK/ej.json"
check "energy jobs: jobs + unallocated idle = machine total (to 1e-9)" \
	jqt '((.jobs_j + .idle_j - .total_j) | fabs) <= 1e-9 * .total_j' "$WORK/ej.json"
check "energy jobs: the total is 4 boards x static power x the period + the jobs' dynamic" \
	jqt '(.boards * .board_static_w * (.to_s - .from_s)) as $s |
	  ([.jobs[] | .energy_j - .boards * $w * .seconds] | add) as $dyn |
	  ((.total_j - $s - $dyn) | fabs) <= 1e-6 * .total_j' --argjson w \
	"$(jq .board_static_w "$WORK/ej.json")" "$WORK/ej.json"
check "energy jobs: no board-second claimed by two jobs (a and b ran at once on other boards)" \
	jqt '.overlap_s == 0' "$WORK/ej.json"
check "energy jobs: per user and account, one group each" \
	jqt '(.groups | length) == 3' "$WORK/ej.json"
check "energy jobs: each job's share over its whole time equals its report" \
	jqt '[.jobs[] | ((.energy_j - .report_energy_j) | fabs) <= 1e-9 * .report_energy_j] | all' \
	"$WORK/ej.json"
"$S2CTL" energy jobs --machine "$M" --from "$(jq .from_s "$WORK/ej.json")" \
	--to "$(jq '.to_s + 10' "$WORK/ej.json")" --json >"$WORK/ej2.json"
check "energy jobs over a longer period: 10 s more of idle on 4 boards" \
	jqt --slurpfile a "$WORK/ej.json" \
	'((.idle_j - $a[0].idle_j - 40 * .board_static_w) | fabs) < 1e-6 * .idle_j' \
	"$WORK/ej2.json"

# A job without boards is told so.
JD=$(sbatch --parsable --account=alpha -o "$OUT/d.log" --wrap "$S2CTL info --machine $M")
for _ in $(seq 300); do [ -z "$(squeue -h -j "$JD" -o %i 2>/dev/null)" ] && break; sleep 0.2; done
check "a job without --gres=s2board is told it holds no boards" \
	grep -q "holds no s2 boards" "$OUT/d.log"

finish
