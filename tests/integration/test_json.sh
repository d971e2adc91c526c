#!/bin/bash
# Every verb's --json output has a schema (docs/schemas/s2ctl-VERB.schema.json, JSON Schema
# draft 2020-12) and this test validates real output against it: on a 4-board s2emu it runs
# every verb that `s2ctl --help` lists (but man) with --json and validates what it prints;
# JSON-lines outputs (stream, replay: schemas marked "x-json-lines") line by line. A verb
# without a schema fails, as does a verb this test does not run; a deliberately wrong schema
# and drifted output must fail validation. capture and replay need root or CAP_NET_RAW:
# without, they are skipped with a message.
# Needs S2CTL, S2EMU, S2_FIRMWARE, jq, python3 with jsonschema.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$(cd "$(dirname "$0")/../../docs/schemas" && pwd)"

# validate SCHEMA FILE: FILE (one document, or JSON lines if the schema says x-json-lines)
# against SCHEMA; the first errors on stdout.
validate() {
	python3 - "$1" "$2" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
text = open(sys.argv[2]).read()
try:
    if schema.get("x-json-lines"):
        docs = [json.loads(l) for l in text.split("\n") if l]
    else:
        docs = [json.loads(text)]
except ValueError as e:
    print("    %s: not JSON: %s" % (sys.argv[2], e))
    sys.exit(1)
if not docs:
    print("    %s: empty" % sys.argv[2])
    sys.exit(1)
bad = 0
for i, d in enumerate(docs):
    for e in v.iter_errors(d):
        bad += 1
        if bad <= 3:
            print("    %s: document %d at /%s: %s" % (sys.argv[2], i + 1,
                  "/".join(map(str, e.absolute_path)), e.message[:300]))
sys.exit(1 if bad else 0)
PY
}

# The verbs of s2ctl --help (the indented lines under "verbs:"), but man.
VERBS=$("$S2CTL" --help | awk '/^verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } v && /^$/ { v = 0 }' |
	grep -vx man)
check "s2ctl --help lists verbs" test "$(echo "$VERBS" | wc -w)" -ge 20
for v in $VERBS; do
	check "$v: has docs/schemas/s2ctl-$v.schema.json" test -f "$SCHEMAS/s2ctl-$v.schema.json"
done
check "every schema is a valid draft 2020-12 schema" python3 -c "
import glob, json, sys, jsonschema
for f in glob.glob('$SCHEMAS/*.schema.json'):
    s = json.load(open(f))
    assert s['\$schema'] == 'https://json-schema.org/draft/2020-12/schema', f
    jsonschema.Draft202012Validator.check_schema(s)"

declare -A COVERED
# valid VERB FILE: FILE validates against VERB's schema; VERB counts as covered.
valid() {
	COVERED[$1]=1
	validate "$SCHEMAS/s2ctl-$1.schema.json" "$2"
}
# j NAME VERB ARGS...: s2ctl ARGS --json (bounded) exits 0 and its stdout ($WORK/NAME.json)
# validates against VERB's schema.
j() {
	local name=$1 verb=$2
	shift 2
	timeout 120 "$S2CTL" "$@" --json >"$WORK/$name.json" 2>"$WORK/$name.err"
	local rc=$?
	check "$name: s2ctl $* --json exits 0" test $rc -eq 0 || sed 's/^/    /' "$WORK/$name.err"
	check "$name: output validates against s2ctl-$verb.schema.json" valid "$verb" "$WORK/$name.json"
}

emu_start four --boards 4
M="$WORK/four.pb"

# --- the machine -----------------------------------------------------------------------
# (a port of its own: other emulators on this host announce to the default one)
port=$(python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
j discover discover discover --machine "$M" --wait 1 --listen "127.0.0.1:$port"
check "discover: the 4 boards of the machine" jq_is "$WORK/discover.json" '[.boards[].board] | sort' '[0,1,2,3]'
j boot boot boot --machine "$M"
j info info info --machine "$M"
j ps ps ps --machine "$M" --board 0 --chip 0
j iobuf_monitor iobuf iobuf --machine "$M" --board 0 --chip 0 --pe monitor
j iobuf_pe iobuf iobuf --machine "$M" --board 1 --chip 2 --pe 5
j mem_write mem mem write --machine "$M" --board 0 --chip 0 0x60000000 --hex 0011223344556677
j mem_read mem mem read --machine "$M" --board 0 --chip 0 0x60000000 8
check "mem read: the bytes written" jq_is "$WORK/mem_read.json" .hex '"0011223344556677"'
j mem_bulk mem mem read --machine "$M" --board 0 --chip 0 0x60000000 65536 --bulk \
	-o "$WORK/bulk.bin"
j mem_sram mem mem read --machine "$M" --board 0 --chip 0 --pe 3 --sram 0 16
j signal signal signal stop --machine "$M" --board 0 --chip 0 --pes 1-3
j power_status power power status --machine "$M"
j flash_status flash flash --status --machine "$M"
j machine_show machine machine show "$M"
j machine_generate machine machine generate --boards 2 -o "$WORK/m2.pb"

# --- networks: make, compile, deploy, run with a live stream, results, energy, plots -----
j net_example net net example vogels_abbott -o "$WORK/va.pb"
j net_show net net show "$WORK/va.pb"
j net_convert net net convert "$WORK/va.pb" -o "$WORK/va.json" --to json
j net_import_nir net net import-nir \
	"$(cd "$(dirname "$0")/../fuzz/corpus/nir" && pwd)/affine_lif.nir" -o "$WORK/nir.pb"
j compile compile compile "$WORK/va.pb" --machine "$M" -o "$WORK/va.s2img"
j deploy deploy deploy "$WORK/va.s2img" --machine "$M" --duration 200

# Capture the run's traffic too, where this test may (root or CAP_NET_RAW: bit 13).
capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
CAPTURE=0
if [ -n "$capeff" ] && [ $(((0x$capeff >> 13) & 1)) -eq 1 ]; then
	"$S2CTL" capture -o "$WORK/cap.pcap" --interface lo --machine "$M" --duration 120 \
		--ready-file "$WORK/cap.ready" --json >"$WORK/capture.json" 2>"$WORK/capture.err" &
	CAP=$!
	EMU_PIDS+=("$CAP")
	timeout 20 bash -c "until [ -f '$WORK/cap.ready' ]; do sleep 0.05; done" && CAPTURE=1 ||
		{ echo "s2ctl capture did not start:"; cat "$WORK/capture.err"; FAILS=$((FAILS + 1)); }
else
	echo "SKIP: capture and replay need root or CAP_NET_RAW (uid $(id -u), CapEff ${capeff:-unknown})"
fi

rm -f "$WORK/stream.ready"
timeout 120 "$S2CTL" stream "$WORK/va.s2img" --machine "$M" --json --energy-every 500 \
	--max-seconds 100 --ready-file "$WORK/stream.ready" >"$WORK/stream.json" 2>"$WORK/stream.err" &
SP=$!
EMU_PIDS+=("$SP")
timeout 20 bash -c "until [ -f '$WORK/stream.ready' ]; do sleep 0.05; done"
check "stream subscribed" test -f "$WORK/stream.ready"
j run run run "$WORK/va.s2img" --machine "$M" --deployed --duration 200 -o "$WORK/va.s2res" \
	--energy "$WORK/va.energy" --energy-every 100
wait "$SP"
check "stream --json exits 0 when the run is done" test $? -eq 0
check "stream: output validates line by line against s2ctl-stream.schema.json" \
	valid stream "$WORK/stream.json"
check "stream: spike, energy, event lines and one summary, last" \
	sh -c "jq -r .type '$WORK/stream.json' | sort -u | tr '\n' ' ' | grep -qx 'energy event spike summary ' &&
	       tail -1 '$WORK/stream.json' | jq -e '.type == \"summary\"' >/dev/null"

if [ "$CAPTURE" = 1 ]; then
	kill -INT "$CAP"
	timeout 30 tail --pid="$CAP" -f /dev/null
	wait "$CAP"
	check "capture --json exits 0" test $? -eq 0
	check "capture: output validates against s2ctl-capture.schema.json" \
		valid capture "$WORK/capture.json"
	ID=$(sed -n 's/.*(stream \([0-9a-f]*\)).*/\1/p' "$WORK/stream.err")
	j replay replay replay "$WORK/cap.pcap" "$WORK/va.s2img" --stream-id "$ID"
	check "replay: the stream's lines, its summary, then the replay counters" \
		sh -c "tail -1 '$WORK/replay.json' | jq -e '.type == \"replay\"' >/dev/null &&
		       test \$(grep -c '\"type\":\"spike\"' '$WORK/replay.json') = \$(grep -c '\"type\":\"spike\"' '$WORK/stream.json')"
fi

j results results results "$WORK/va.s2res"
j energy energy energy report "$WORK/va.energy"
j plot_raster plot plot raster "$WORK/va.s2res" -o "$WORK/raster.svg"
j plot_rates plot plot rates "$WORK/va.s2res" -o "$WORK/rates.svg"
j plot_power plot plot power "$WORK/va.energy" -o "$WORK/power.svg"
j plot_heatmap plot plot heatmap "$WORK/va.energy" --machine "$M" -o "$WORK/heatmap.svg"

# Injection into a spike source; its label has a quote and a backslash, which the JSON
# stream must escape.
cat >"$WORK/inj.json" <<'JSON'
{"format": 1, "name": "inject", "timestep_ms": 1.0, "run_ms": 100, "seed": 1,
 "populations": [
   {"label": "in \"q\\", "size": 10, "model": "spike_source_array",
    "spike_times": [[], [], [], [], [], [], [], [], [], []]},
   {"label": "out", "size": 10, "model": "lif_curr_exp", "params": {"tau_refrac_ms": 5}}],
 "projections": [
   {"pre": "in \"q\\", "post": "out", "connector": {"type": "one_to_one"}, "weight": 5,
    "delay": 2}],
 "recordings": [{"population": "in \"q\\", "variable": "spikes"},
                {"population": "out", "variable": "spikes"}]}
JSON
j net_convert_json net net convert "$WORK/inj.json" -o "$WORK/inj.pb"
j compile_inj compile compile "$WORK/inj.pb" --machine "$M" -o "$WORK/inj.s2img"
j deploy_inj deploy deploy "$WORK/inj.s2img" --machine "$M"
j inject inject inject "$WORK/inj.s2img" --machine "$M" --population 'in "q\' --neurons 3,7 --step 50
check "inject: 2 accepted, none late" jq_is "$WORK/inject.json" '[.accepted, .late]' '[2,0]'
rm -f "$WORK/si.ready"
timeout 120 "$S2CTL" stream "$WORK/inj.s2img" --machine "$M" --json --max-seconds 100 \
	--ready-file "$WORK/si.ready" >"$WORK/stream_inj.json" 2>"$WORK/stream_inj.err" &
SP=$!
EMU_PIDS+=("$SP")
timeout 20 bash -c "until [ -f '$WORK/si.ready' ]; do sleep 0.05; done"
j run_inj run run "$WORK/inj.s2img" --machine "$M" --deployed -o "$WORK/inj.s2res"
wait "$SP"
check "stream of the injected run validates (labels escaped)" valid stream "$WORK/stream_inj.json"
check "stream: the injected spikes, step 50, under their label" python3 -c "
import json, sys
spikes = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((d['population'], d['neuron']) for d in spikes if d['type'] == 'spike' and d['step'] == 50)
sys.exit(0 if got == [('in \"q\\\\', 3), ('in \"q\\\\', 7)] else 1)" "$WORK/stream_inj.json"
j results_inj results results "$WORK/inj.s2res"

# --- flash (a 1-board emulator with flash), power and reset --------------------------------
mkdir -p "$WORK/flash"
emu_start one --boards 1 --flash-dir "$WORK/flash"
j flash_pack flash flash pack "$S2_FIRMWARE" --version v1 -o "$WORK/v1.s2fi"
j flash_write flash flash "$WORK/v1.s2fi" --machine "$WORK/one.pb"
j flash_status_one flash flash --status --machine "$WORK/one.pb"
check "flash: v1 in a slot" jq_is "$WORK/flash_status_one.json" \
	'[.boards[0].flash.slots[].version] | index("v1") != null' true
j scrub scrub scrub --machine "$M" --boards 0-1
j power_off power power off --machine "$M" --boards 3
j power_status_off power power status --machine "$M" --boards 3
check "power status: board 3 off" jq_is "$WORK/power_status_off.json" '.boards[0].power' '"off"'
j power_on power power on --machine "$M" --boards 3
j reset reset reset --machine "$M"

# --- keys (a 1-board emulator holding a machine key) ----------------------------------------
j key_init key key init "$WORK/m.key"
emu_start keyed --boards 1 --key-file "$WORK/m.key"
j key_grant key key grant "$WORK/job.key" --key "$WORK/m.key" --machine "$WORK/keyed.pb"
j key_list key key list --key "$WORK/m.key" --machine "$WORK/keyed.pb"
check "key list: the machine key and the job key" jq_is "$WORK/key_list.json" \
	'[.boards[0].keys[].role]' '["machine","job"]'
j key_revoke key key revoke "$WORK/job.key" --key "$WORK/m.key" --machine "$WORK/keyed.pb"
j key_rotate key key rotate "$WORK/m.key" --machine "$WORK/keyed.pb"

# --- SLURM: a job's boards and its energy report (docs/cluster.md) -----------------------------
export S2_STATE_DIR=$WORK/state
"$S2CTL" job begin --machine "$WORK/keyed.pb" --job 5 --gres-idx 0 --user u --account a >/dev/null
SLURM_JOB_ID=5 j job_show job job show
"$S2CTL" job end --machine "$WORK/keyed.pb" --job 5 --model "$WORK/no.model" 2>"$WORK/model.err"
check "job end: a missing --model is refused (exit 3), naming it and why" \
	test $? -eq 3 -a "$(cat "$WORK/model.err")" = \
	"s2ctl job: --model $WORK/no.model: No such file or directory"
j job_end job job end --machine "$WORK/keyed.pb" --key "$WORK/m.key" --job 5
j energy_jobs energy-jobs energy jobs --machine "$WORK/keyed.pb"

# --- the schemas catch drift ---------------------------------------------------------------
jq '.properties.accepted.type = "string"' "$SCHEMAS/s2ctl-inject.schema.json" >"$WORK/wrong.schema.json"
validate "$WORK/wrong.schema.json" "$WORK/inject.json" >/dev/null
check "a deliberately wrong schema fails" test $? -ne 0
jq '.boards[0].extra = 1' "$WORK/info.json" >"$WORK/drift1.json"
validate "$SCHEMAS/s2ctl-info.schema.json" "$WORK/drift1.json" >/dev/null
check "an unknown field fails (additionalProperties: false)" test $? -ne 0
jq 'del(.synaptic_events)' "$WORK/run.json" >"$WORK/drift2.json"
validate "$SCHEMAS/s2ctl-run.schema.json" "$WORK/drift2.json" >/dev/null
check "a missing field fails (required)" test $? -ne 0
{ head -3 "$WORK/stream.json"; echo '{"type":"spike","step":1,"t_ms":0.1,"population":"E"}'; } >"$WORK/drift3.json"
validate "$SCHEMAS/s2ctl-stream.schema.json" "$WORK/drift3.json" >/dev/null
check "a bad line of a JSON-lines output fails" test $? -ne 0
printf '{"injected": 1,' >"$WORK/notjson.json"
validate "$SCHEMAS/s2ctl-inject.schema.json" "$WORK/notjson.json" >/dev/null
check "output that is not JSON fails" test $? -ne 0

# --- every verb was run and validated ------------------------------------------------------
for v in $VERBS; do
	if [ "$CAPTURE" = 0 ] && { [ "$v" = capture ] || [ "$v" = replay ]; }; then
		echo "skip - $v: needs root or CAP_NET_RAW"
		continue
	fi
	check "$v: its --json output was validated" test -n "${COVERED[$v]:-}"
done

finish
