#!/bin/bash
# One firmware source, same results: for each scenario, the engine built for Cortex-M4F and
# run under qemu-system-arm, and the same engine built for the host, read the same PE data
# and input spikes and must write byte-identical output (spike recordings, voltages, counters).
# Needs: S2FW_RUN (tools/s2fw-run), ENGINE_EMU (fw_engine_run_emu), ENGINE_ELF (the QEMU
# build's fw_engine_run.elf), QEMU_RUN (cmake/qemu-run.sh).
set -u
W=$(mktemp -d "${TMPDIR:-/tmp}/s2eng.XXXXXX")
trap 'rm -rf "$W"' EXIT
[ -f "$ENGINE_ELF" ] || { echo "missing $ENGINE_ELF: build the cm4f-qemu preset first"; exit 1; }
pass=0
fail=0
run() { # NAME ARGS...: one scenario
	local name=$1 d="$W/$1"
	shift
	mkdir -p "$d/qemu" "$d/host"
	"$S2FW_RUN" "$@" --write-dir "$d/qemu" || { echo "FAIL - $name: s2fw-run"; fail=$((fail + 1)); return; }
	cp "$d/qemu/pedata.bin" "$d/qemu/input.bin" "$d/host/"
	(cd "$d/host" && "$ENGINE_EMU") || { echo "FAIL - $name: host run"; fail=$((fail + 1)); return; }
	(cd "$d/qemu" && timeout 120 sh "$QEMU_RUN" "$ENGINE_ELF") || { echo "FAIL - $name: QEMU run"; fail=$((fail + 1)); return; }
	if cmp -s "$d/qemu/output.bin" "$d/host/output.bin"; then
		local size ev sp
		size=$(stat -c %s "$d/host/output.bin")
		ev=$(od -An -tu8 -j $((size - 96)) -N8 "$d/host/output.bin" | tr -d ' ')
		sp=$(od -An -tu8 -j $((size - 88)) -N8 "$d/host/output.bin" | tr -d ' ')
		echo "ok   - $name ($size bytes identical; $sp spikes, $ev synaptic events)"
		pass=$((pass + 1))
	else
		echo "FAIL - $name: QEMU and host outputs differ"
		cmp "$d/qemu/output.bin" "$d/host/output.bin" | head -3
		fail=$((fail + 1))
	fi
}

run lif_curr_step --model lif_curr_exp --n 4 --param tau_m=10 --param cm=0.25 \
	--param tau_refrac=2 --current 10:0:1.0 --current 20:1:0.7 --current 30:2:2.5 \
	--current 60:0:0 --record-v 0,1,2,3 --duration 100
run lif_curr_syn --model lif_curr_exp --n 8 --dt 1 --syn 0:0:2.5:1:exc --syn 0:1:1.5:5:exc \
	--syn 1:0:1.0:2:inh --syn 1:7:3.0:64:exc --input 3:0 --input 4:0 --input 4:1 --input 9:0 \
	--input 9:1 --record-v 0,1,7 --duration 200
run lif_cond --model lif_cond_exp --n 3 --syn 0:0:0.02:1:exc --syn 0:1:0.05:2:exc \
	--syn 1:2:0.03:1:inh --input 5:0 --input 5.1:0 --input 5.2:0 --input 5.3:1 \
	--current 1:2:0.8 --record-v 0,1,2 --duration 50
run izhikevich --model izhikevich --n 3 --param a=0.02 --param b=0.25 --param c=-55 \
	--param d=0.05 --current 5:0:10 --current 5:1:4 --syn 0:2:8:1:exc --input 10:0 \
	--record-v 0,1,2 --duration 200
run poisson --model poisson --n 100 --param rate=40 --seed 42 --duration 500
run spike_array --model spike_array --n 5 --spike 1:0 --spike 1:3 --spike 2.5:4 --spike 9:0 \
	--duration 20
run expand_prob --model lif_curr_exp --n 128 \
	--connect fixed_prob:p=0.1:n_pre=2000:w=0.5:w_sd=0.2:d=1.5:d_hi=6:seed=11 \
	--input 1:c17 --input 1:c1999 --input 2:c3 --record-v 0,5 --duration 30
run expand_all --model lif_curr_exp --n 64 --connect all_to_all:n_pre=50:w=0.05:d=1:seed=2 \
	--connect one_to_one:n_pre=64:w=3:d=2:inh=1 --input 1:c10 --duration 20
run expand_number --model lif_curr_exp --n 100 \
	--connect fixed_number_post:n=30:n_pre=300:w=0.4:d=1:seed=5 \
	--connect fixed_number_pre:n=20:n_pre=400:w=0.3:d=2:seed=6 \
	--connect fixed_total:n=5000:n_pre=500:w=0.2:d=1:d_hi=10:seed=7:replace=1 \
	--input 1:c299 --duration 20
# normal_clipped delays (0.75 ms, s.d. 0.375 ms, the microcircuit's inhibitory ones) redrawn
# below one step and, as NEST's microcircuit model, below half a step (S2_EXP_F_DELAY_HALF);
# "c65553": source 17 of the second --connect
run expand_delay_half --model lif_curr_exp --n 100 \
	--connect all_to_all:n_pre=200:w=0.3:d=0.75:d_sd=0.375:seed=8 \
	--connect all_to_all:n_pre=200:w=0.3:d=0.75:d_sd=0.375:d_half=1:seed=8 \
	--input 1:c17 --input 1:c150 --input 2:c65553 --input 2:c65686 --record-v 0,5,99 --duration 20
# Delays beyond 64 steps (docs/engine.md, "Delays"): at 0.01 ms, 1-256 steps on a PE of 5
# neurons (its ring has 256 slots), explicit and drawn (uniform 0.5-2.56 ms).
run long_delay --model izhikevich --n 5 --dt 0.01 --syn 0:0:200:0.01:exc --syn 0:1:200:0.64:exc \
	--syn 0:2:200:0.65:exc --syn 0:3:200:2.0:exc --syn 0:4:200:2.56:exc --input 1:0 --input 3.33:0 \
	--connect fixed_prob:p=0.5:n_pre=40:w=5:d=0.5:d_hi=2.56:seed=3 --input 1:c7 --input 2:c30 \
	--record-v 0,3,4 --duration 8
# HH_cond_exp (hh.c): RK4 in double precision, 10 sub-steps per 0.1 ms step.
run hh_cond_exp --model hh_cond_exp --n 2 --current 1:0:0.2 --syn 0:1:0.05:1:exc --input 10:0 \
	--input 30:0 --input 31:0 --record-v 0,1 --duration 100
# IF_cond_exp_gsfa_grr (lif_sfa.c): adaptation and relative refractoriness, DC and spikes.
run lif_cond_sfa --model lif_cond_exp_gsfa_grr --n 2 --dt 0.01 --current 1:0:2.0 \
	--current 1:1:0.5 --syn 0:1:0.05:1:exc --input 10:0 --input 12:0 --input 14:0 --input 16:0 \
	--record-v 0,1 --duration 100
# Pause and resume (s2_eng_update): new parameters (tau_m 10 -> 15 ms, the DC steps as they
# were) taken at step 500 of 1000; both builds must agree, and the update must change the run.
resume_update() {
	local d="$W/resume_update" args=(--model lif_curr_exp --n 4 --param cm=0.25 --current 1:0:1.0
		--current 1:1:0.7 --current 30:2:2.5 --current 60:3:1.5 --record-v 0,1,2,3 --duration 100)
	mkdir -p "$d/a" "$d/b" "$d/qemu" "$d/host" "$d/none"
	"$S2FW_RUN" "${args[@]}" --param tau_m=10 --write-dir "$d/a" &&
		"$S2FW_RUN" "${args[@]}" --param tau_m=15 --write-dir "$d/b" ||
		{ echo "FAIL - resume_update: s2fw-run"; fail=$((fail + 1)); return; }
	printf '\364\001\000\000' >"$d/a/update.bin" # step 500, little-endian
	cat "$d/b/pedata.bin" >>"$d/a/update.bin"
	cp "$d/a/pedata.bin" "$d/a/input.bin" "$d/a/update.bin" "$d/qemu/"
	cp "$d/a/pedata.bin" "$d/a/input.bin" "$d/a/update.bin" "$d/host/"
	cp "$d/a/pedata.bin" "$d/a/input.bin" "$d/none/"
	(cd "$d/host" && "$ENGINE_EMU") && (cd "$d/none" && "$ENGINE_EMU") ||
		{ echo "FAIL - resume_update: host run"; fail=$((fail + 1)); return; }
	(cd "$d/qemu" && timeout 120 sh "$QEMU_RUN" "$ENGINE_ELF") ||
		{ echo "FAIL - resume_update: QEMU run"; fail=$((fail + 1)); return; }
	if cmp -s "$d/qemu/output.bin" "$d/host/output.bin" &&
		! cmp -s "$d/host/output.bin" "$d/none/output.bin" &&
		cmp -s <(head -c 16 "$d/host/output.bin") <(head -c 16 "$d/none/output.bin"); then
		echo "ok   - resume_update ($(stat -c %s "$d/host/output.bin") bytes identical; the update changed the run)"
		pass=$((pass + 1))
	else
		echo "FAIL - resume_update: QEMU and host differ, or the update changed nothing"
		fail=$((fail + 1))
	fi
}
resume_update
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
