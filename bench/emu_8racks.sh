#!/bin/bash
# An 8-rack machine (720 boards) emulated by 8 s2emu processes on this host, one rack each,
# booted and running a network whose spikes cross racks: the boot time, each process's memory,
# the run, and the packets each process sent to and received from the others (issue 24).
#   bench/emu_8racks.sh [BUILD_DIR] [DURATION_MS] [BASE_PORT]
# default build/host-release 100 30000 (ports BASE..BASE+1439 must be free).
# The network is small (every loaded PE costs its engine state, about 200 KiB: the 5.25 M PEs
# of 8 full racks would need about 1 TB), so the compiler is given the same description with
# every chip dead but the first chip row of the first board row of each rack, and two PEs per
# chip: the 640 chips form a ring through all 8 racks (the torus wraps). On it, 640 Poisson
# sources (20 Hz, one per PE) drive 640 LIF neurons (one per PE), connected at random
# (p = 0.02): every spike goes to about 13 neurons anywhere in the machine.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build/host-release}
DUR=${2:-100}
PORT=${3:-30000}
case $B in /*) ;; *) B=$PWD/$B ;; esac
S2CTL=$B/host/s2ctl
S2EMU=$B/tools/s2emu
S2FW_RUN=$B/tools/s2fw-run
export S2_FIRMWARE=${S2_FIRMWARE:-$PWD/build/cm4f/firmware/monitor/s2_monitor.bin}
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
echo "== $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)," \
	"$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$S2CTL" machine generate --racks 8 --base-port "$PORT" -o "$W/m8.pb" >/dev/null
# The compiler's view: the ring of chips (see above).
# (Descriptions are protobuf in s2's checksummed container, docs/files.md: unwrapped for protoc,
# wrapped again as one section.)
s2fc() {
	python3 -c '
import struct, sys, zlib
b = sys.stdin.buffer.read()
if sys.argv[1] == "unwrap":
    assert b[:4] == b"S2FC", "not an s2 file"
    sys.stdout.buffer.write(b[32 + struct.unpack_from("<I", b, 24)[0]:])
else:
    t = struct.pack("<QIB", len(b), zlib.crc32(b), 7) + b"machine"
    h = b"S2FC" + struct.pack("<HH", 1, 1) + b"MACH" + struct.pack("<IQI", 1, 32 + len(t) + len(b), len(t))
    sys.stdout.buffer.write(h + struct.pack("<I", zlib.crc32(h + t)) + t + b)' "$1"
}
s2fc unwrap <"$W/m8.pb" | protoc -I proto/pb --decode=s2pb.Machine machine.proto >"$W/m8.txt"
awk 'BEGIN {
	for (b = 0; b < 720; b++) for (c = 0; c < 48; c++)
		if (b % 90 >= 10 || c >= 8) printf "dead_chips { board: %d chip: %d }\n", b, c
		else for (p = 3; p < 152; p++) printf "dead_pes { board: %d chip: %d pe: %d }\n", b, c, p
}' >>"$W/m8.txt"
protoc -I proto/pb --encode=s2pb.Machine machine.proto <"$W/m8.txt" | s2fc wrap >"$W/ring.pb"
cat >"$W/net.json" <<'JSON'
{"format": 1, "name": "ring8racks", "timestep_ms": 1.0, "run_ms": 100, "seed": 1,
 "populations": [
  {"label": "src", "size": 640, "model": "spike_source_poisson", "params": {"rate_hz": 20},
   "max_per_pe": 1},
  {"label": "ring", "size": 640, "model": "lif_curr_exp", "max_per_pe": 1,
   "params": {"cm_nf": 0.25, "tau_m_ms": 10, "tau_syn_e_ms": 1, "tau_syn_i_ms": 1,
              "tau_refrac_ms": 2, "v_rest_mv": -65, "v_reset_mv": -65, "v_thresh_mv": -50}}],
 "projections": [
  {"label": "src->ring", "pre": "src", "post": "ring", "connector": {"type": "one_to_one"},
   "weight": 2.0, "delay": 1, "receptor": "excitatory"},
  {"label": "ring->ring", "pre": "ring", "post": "ring",
   "connector": {"type": "fixed_probability", "p": 0.02}, "weight": 0.5, "delay": 1,
   "receptor": "excitatory"}],
 "recordings": [{"population": "ring", "variable": "spikes"}]}
JSON
# (METIS says "Incorrect tpwgts" on stdout for the many empty boards; the mapper goes on.)
"$S2CTL" compile "$W/net.json" --machine "$W/ring.pb" -o "$W/ring.s2img" --json 2>/dev/null |
	grep '^{' >"$W/c.json"
jq -r '"network: \(.pes) PEs on \(.chips) chips of \(.boards) boards; busiest link \(.busiest_link.packets_per_step|floor) packets per step"' "$W/c.json"

t0=$(date +%s.%N)
for r in $(seq 0 7); do
	"$S2EMU" --machine "$W/m8.pb" --serve $((90 * r))-$((90 * r + 89)) --announce none \
		--ready-file "$W/r$r.ready" --control-file "$W/r$r.ctl" 2>"$W/r$r.log" &
	PIDS+=($!)
done
for r in $(seq 0 7); do
	for _ in $(seq 600); do [ -f "$W/r$r.ready" ] && break; sleep 0.05; done
done
t1=$(date +%s.%N)
"$S2CTL" boot --machine "$W/m8.pb" --quiet >/dev/null
t2=$(date +%s.%N)
echo "8 processes up in $(echo "$t1 - $t0" | bc) s; 720 boards booted in $(echo "$t2 - $t1" | bc) s"
rss() { for p in "${PIDS[@]}"; do awk '/VmRSS/ {printf "%d ", $2/1024}' "/proc/$p/status"; done; }
echo "memory per process after boot (RSS MiB): $(rss)"
"$S2CTL" run "$W/ring.s2img" --machine "$W/ring.pb" --duration "$DUR" -o "$W/ring.s2res" \
	--json >"$W/r.json"
echo "memory per process after the run (RSS MiB): $(rss)"
jq -r '"run: \('"$DUR"') ms in \(.run_seconds*1000|floor/1000) s wall; \(.spikes) spikes, \(.synaptic_events) synaptic events, packets dropped \(.packets_dropped); deploy \(.deploy_seconds*10|floor/10) s"' "$W/r.json"
for r in $(seq 0 7); do
	"$S2EMU" ctl "$W/r$r.ctl" stats | jq -r --arg r "$r" '"rack \($r): packets to other racks \([.links[].packets_out]|add), from them \([.links[].packets_in]|add), lost \([.links[].lost]|add), exchange rounds \(.links[0].rounds), waiting \([.links[].wait_us]|max/1e6*1000|floor/1000) s"'
done
"$S2FW_RUN" image "$W/ring.s2img" --duration "$DUR" -o "$W/local.s2res" >/dev/null 2>&1 &&
	if cmp -s "$W/ring.s2res" "$W/local.s2res"; then
		echo "results equal the engine's own run (s2fw-run), byte for byte"
	else echo "results DIFFER from the engine's own run (s2fw-run)"; fi
