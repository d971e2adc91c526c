#!/bin/bash
# Engine benchmark: ARM instructions per synaptic event (Cortex-M4F build under QEMU with
# -icount, SysTick calibrated against a loop of known length) and synaptic events per second
# on one host core (emulator build), the cost of a neuron update of each model (instructions
# under QEMU, ns on the host), plus the Vogels-Abbott network on the host build.
#   bench/engine.sh [HOST_BUILD]   needs build/cm4f-qemu and HOST_BUILD (default
#                                  build/host-release), both made by tools/setup.sh
set -eu
cd "$(dirname "$0")/.."
ELF=build/cm4f-qemu/firmware/engine/fw_engine_bench.elf
HB=${1:-build/host-release}
EMU=$HB/firmware/engine/fw_engine_bench_emu
RUN=$HB/tools/s2fw-run
for f in "$ELF" "$EMU" "$RUN"; do
	[ -e "$f" ] || { echo "bench: $f is missing: run tools/setup.sh first" >&2; exit 1; }
done
q=$(sh cmake/qemu-run.sh "$ELF" -icount shift=0)
h=$("$EMU")
echo "== Cortex-M4F build under qemu-system-arm -icount shift=0 (1 instruction = 1 ns)"
echo "$q" | awk '
	BEGIN { split("lif_curr_exp lif_cond_exp izhikevich nir egru dense lif_curr_alpha lif_cond_alpha lif_curr_delta poisson spike_array adex_cond_exp hh_cond_exp lif_cond_exp_gsfa_grr", nm, " "); for (i in nm) name[i] = nm[i] }
	/^calibration/ { per_tick = $3 / $5; printf "calibration: %d instructions = %d SysTick ticks (%.1f per tick)\n", $3, $5, per_tick }
	/^L / { L[$2] = $8; ev[$2] = $6; p = $4 }
	/^E / { E[$2] = $8; eev[$2] = $6 }
	/^U / { units = $3 * $5; uticks = $9 }
	/^S / { S[$3] = $11; Sn[$3] = $5 * $7; Ssteps[$3] = $7; Ssp[$3] = $9 }
	END {
		printf "EGRU rows: %.1f instructions per event-layer MAC (rows of 16..256 words, 8-bit weights x payload)\n", (E[256] - E[16]) * per_tick / (eev[256] - eev[16])
		printf "EGRU units: %.1f instructions per unit update (4 gates, 3 exps, event test, accumulator clear)\n", uticks * per_tick / units
		slope = (L[256] - L[16]) * per_tick / (ev[256] - ev[16])
		printf "inner loop: %.1f instructions per synaptic event (rows of 16..256 synapses)\n", slope
		printf "per packet: %.0f instructions of key lookup and row DMA (rows of 0)\n", L[0] * per_tick / p
		printf "rows of 16: %.1f instructions per synaptic event, all included\n", L[16] * per_tick / ev[16]
		printf "rows of 256: %.1f instructions per synaptic event, all included\n", L[256] * per_tick / ev[256]
		for (m = 1; m <= 14; m++) if (m in S)
			printf "model %s: %.1f instructions per neuron update (128 neurons, %d steps of 0.1 ms, %d spikes)\n", name[m], S[m] * per_tick / Sn[m], Ssteps[m], Ssp[m]
	}'
echo "== host build (one core, $(uname -m))"
echo "$h" | awk '
	BEGIN { split("lif_curr_exp lif_cond_exp izhikevich nir egru dense lif_curr_alpha lif_cond_alpha lif_curr_delta poisson spike_array adex_cond_exp hh_cond_exp lif_cond_exp_gsfa_grr", nm, " "); for (i in nm) name[i] = nm[i] }
	/^L / { L[$2] = $8; ev[$2] = $6 }
	/^S / { S[$3] = $11; Sn[$3] = $5 * $7 }
	/^E / { E[$2] = $8; eev[$2] = $6 }
	END {
		printf "EGRU rows: %.0f million event-layer MACs per second\n", (eev[256] - eev[16]) / (E[256] - E[16]) * 1000
		printf "inner loop: %.0f million synaptic events per second\n", (ev[256] - ev[16]) / (L[256] - L[16]) * 1000
		printf "rows of 16, all included: %.0f million synaptic events per second\n", ev[16] / L[16] * 1000
		for (m = 1; m <= 14; m++) if (m in S)
			printf "model %s: %.1f ns per neuron update\n", name[m], S[m] / Sn[m]
	}'
"$RUN" va --json | jq -r '"Vogels-Abbott (4000 cells, 33 PEs, 1 s): \(.synaptic_events) synaptic events + 40 million neuron updates in \(.run_s) s on one core: \((.synaptic_events / .run_s / 1e6 * 10 | floor) / 10) million synaptic events per second with everything else included; rates exc \(.rate_exc) Hz, inh \(.rate_inh) Hz"'
