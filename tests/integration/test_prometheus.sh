#!/bin/bash
# The OpenMetrics exporter of s2ctl stream --metrics inside a SLURM job (docs/cluster.md):
# its series carry the job's id, user and account, and Debian's real Prometheus server
# (/usr/bin/prometheus, loopback, 1 s scrapes, storage in a temporary directory) scrapes
# them; the values read back through Prometheus's HTTP API equal those the exporter serves
# and the run's energy record (its own stream of the same counters). The job is made as the prolog makes it (s2ctl job
# begin, key grant) without SLURM's daemons: inside a job only SLURM_JOB_ID is needed.
# Needs S2CTL, S2EMU, S2_FIRMWARE, jq, curl or python3; without prometheus: exit 77.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/prometheus ] || { echo "SKIP: /usr/bin/prometheus is not installed"; exit 77; }
jqt() { jq -e "$@" >/dev/null; }
get() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"; }

K=$WORK/machine.key
"$S2CTL" key init "$K" --quiet
emu_start site --boards 2 --key-file "$K"
M=$WORK/site.pb
export S2_STATE_DIR=$WORK/state
# The job holds site board 1 only: its board 0, so packets say board 1 and streams are mapped.
B=$("$S2CTL" job begin --machine "$M" --job 4242 --gres-idx 1 --user alice --uid 0 \
	--account physics)
check "job begin: the job holds site board 1" test "$B" = "1"
"$S2CTL" key grant "$S2_STATE_DIR/jobs/4242/job.key" --key "$K" --machine "$M" --boards "$B" --quiet
export SLURM_JOB_ID=4242

"$S2CTL" net example vogels_abbott -o "$WORK/va.pb" --quiet
"$S2CTL" compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img" --quiet
"$S2CTL" deploy "$WORK/va.s2img" --machine "$M" --quiet
check "inside the job, with the job's key: deploy exits 0" test $? -eq 0
"$S2CTL" stream "$WORK/va.s2img" --machine "$M" --energy-every 100 --no-spikes --follow \
	--metrics tcp:127.0.0.1:0 --ready-file "$WORK/s.ready" >/dev/null 2>"$WORK/s.err" &
SP=$!
EMU_PIDS+=($SP)
for _ in $(seq 100); do [ -f "$WORK/s.ready" ] && break; sleep 0.1; done
MP=$(sed -n 's|.*OpenMetrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$WORK/s.err")
check "the exporter listens (port $MP)" test -n "$MP"
"$S2CTL" run "$WORK/va.s2img" --machine "$M" --deployed -o "$WORK/va.s2res" \
	--energy "$WORK/va.rec" --quiet
check "run --deployed --energy exits 0" test $? -eq 0
"$S2CTL" energy report "$WORK/va.rec" --json >"$WORK/rep.json"
recorded=$(jq '[.boards[].chips[].synaptic_events] | add' "$WORK/rep.json")

get "http://127.0.0.1:$MP/metrics" >"$WORK/direct.txt"
check "every series carries job, user and account" \
	bash -c "grep '^s2_' '$WORK/direct.txt' | grep -v 'job=\"4242\",user=\"alice\",account=\"physics\"' | wc -l | grep -qx 0"
direct=$(awk -F' ' '/^s2_synaptic_events_total\{/ {s += $NF} END {printf "%d", s}' "$WORK/direct.txt")
check "the exporter counted synaptic events ($direct)" test "$direct" -gt 0

PP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: s2
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$MP"]
EOF
/usr/bin/prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$WORK/prom" \
	--web.listen-address="127.0.0.1:$PP" >"$WORK/prom.log" 2>&1 &
EMU_PIDS+=($!)
Q='sum(s2_synaptic_events_total{job="4242",user="alice",account="physics"})'
URL="http://127.0.0.1:$PP/api/v1/query?query=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$Q")"
got=""
for _ in $(seq 150); do
	get "$URL" >"$WORK/q.json" 2>/dev/null &&
		got=$(jq -r '.data.result[0].value[1] // empty' "$WORK/q.json" 2>/dev/null)
	[ -n "$got" ] && break
	sleep 0.2
done
check "Prometheus scraped the exporter and answers by job, user and account ($got)" test -n "$got"
check "... the same synaptic events as the exporter serves" test "${got%.*}" = "$direct"
check "... and as the run's energy record counted ($recorded)" test "$direct" = "$recorded"
Q2='sum by (job, user, account) (s2_energy_joules_total{job="4242"})'
get "http://127.0.0.1:$PP/api/v1/query?query=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$Q2")" >"$WORK/q2.json"
check "joules summed per job, user and account through PromQL" \
	jqt '.data.result[0].metric == {"job":"4242","user":"alice","account":"physics"} and (.data.result[0].value[1] | tonumber) > 0' "$WORK/q2.json"
kill "$SP" 2>/dev/null
finish
