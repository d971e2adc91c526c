#!/bin/bash
# Current sources and the alpha and delta LIF models in the engine (docs/engine.md): a network
# with every kind of source (DC, step, AC, noisy; several on one neuron, on parts of
# populations) into every model that takes them (lif_curr_exp, lif_cond_exp, izhikevich,
# lif_curr_alpha, lif_cond_alpha, lif_curr_delta, adex_cond_exp with per-neuron parameters)
# on s2emu through s2ctl gives the results of the engine's own local run (s2fw-run image), and
# every PE re-run alone by the Cortex-M4F build under QEMU gives byte for byte the output of
# the host build. Bad current sources are refused naming the item. (Agreement with pyNN.brian2:
# tests/pynn/test_pynn_models.py.)
# Needs: S2CTL, S2EMU, S2FW_RUN, S2_FIRMWARE, ENGINE_EMU, ENGINE_ELF, QEMU_RUN, jq.
. "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1

cat >net.json <<'JSON'
{"format": 1, "name": "csrc", "timestep_ms": 0.1, "run_ms": 200, "seed": 5,
 "populations": [
  {"label": "in", "size": 4, "model": "spike_source_array",
   "spike_times": [[10, 50], [20], [30, 31], [150]]},
  {"label": "curr", "size": 150, "model": "lif_curr_exp", "params": {"tau_refrac_ms": 2}},
  {"label": "cond", "size": 3, "model": "lif_cond_exp"},
  {"label": "izk", "size": 2, "model": "izhikevich"},
  {"label": "alpha", "size": 4, "model": "lif_curr_alpha", "params": {"tau_syn_i_ms": 1.5}},
  {"label": "calpha", "size": 3, "model": "lif_cond_alpha"},
  {"label": "delta", "size": 4, "model": "lif_curr_delta"},
  {"label": "adex", "size": 4, "model": "adex_cond_exp",
   "params": {"a_ns": [2, 4, 6, 8], "tau_refrac_ms": 1}}],
 "projections": [
  {"pre": "in", "post": "curr", "connector": {"type": "all_to_all"}, "weight": 0.5, "delay": 1},
  {"pre": "in", "post": "alpha", "connector": {"type": "all_to_all"}, "weight": 2, "delay": 1},
  {"pre": "in", "post": "alpha", "connector": {"type": "one_to_one"}, "weight": 1,
   "delay": 2, "receptor": "inhibitory"},
  {"pre": "in", "post": "calpha", "connector": {"type": "all_to_all"}, "weight": 0.05,
   "delay": 1},
  {"pre": "in", "post": "delta", "connector": {"type": "all_to_all"}, "weight": 9, "delay": 1},
  {"pre": "in", "post": "adex", "connector": {"type": "one_to_one"}, "weight": 0.05,
   "delay": 1.5},
  {"pre": "in", "post": "delta", "connector": {"type": "one_to_one"}, "weight": 3,
   "delay": 3, "receptor": "inhibitory"}],
 "recordings": [
  {"population": "curr", "variable": "spikes"}, {"population": "curr", "variable": "v_mv", "neurons": [0, 1, 2, 3, 5, 140, 149]},
  {"population": "cond", "variable": "v_mv"}, {"population": "izk", "variable": "spikes"},
  {"population": "izk", "variable": "v_mv"}, {"population": "alpha", "variable": "v_mv"},
  {"population": "calpha", "variable": "v_mv"}, {"population": "delta", "variable": "v_mv"},
  {"population": "alpha", "variable": "spikes"}, {"population": "delta", "variable": "spikes"},
  {"population": "adex", "variable": "v_mv"}, {"population": "adex", "variable": "spikes"}],
 "current_sources": [
  {"population": "curr", "kind": "dc", "amplitude_na": 0.3, "start_ms": 20, "stop_ms": 120},
  {"population": "curr", "kind": "step", "neurons": [0, 5, 140],
   "times_ms": [5, 60, 60.04, 130], "amplitudes_na": [0.2, 0.6, 0.5, 0.1]},
  {"population": "curr", "kind": "ac", "neurons": [1, 2, 3, 149], "amplitude_na": 0.4,
   "offset_na": 0.2, "frequency_hz": 37, "phase_deg": 45, "start_ms": 10, "stop_ms": 180},
  {"population": "curr", "kind": "noisy", "mean_na": 0.1, "stdev_na": 0.5, "interval_ms": 0.5,
   "start_ms": 0, "stop_ms": 150},
  {"population": "cond", "kind": "ac", "amplitude_na": 0.5, "frequency_hz": 10},
  {"population": "izk", "kind": "step", "times_ms": [50], "amplitudes_na": [0.01]},
  {"population": "izk", "kind": "noisy", "neurons": [1], "mean_na": 0.005, "stdev_na": 0.002},
  {"population": "alpha", "kind": "dc", "neurons": [2], "amplitude_na": 0.6},
  {"population": "calpha", "kind": "ac", "amplitude_na": 0.6, "frequency_hz": 25},
  {"population": "delta", "kind": "step", "times_ms": [40], "amplitudes_na": [0.5]},
  {"population": "adex", "kind": "dc", "amplitude_na": 0.8, "start_ms": 10}]}
JSON

emu_start m --boards 1
"$S2CTL" boot --machine m.pb --quiet || { echo "boot failed"; exit 1; }
check "convert and compile a network with current sources" \
	sh -c '"$S2CTL" net convert net.json -o net.pb --quiet &&
	       "$S2CTL" compile net.pb --machine m.pb -o net.s2img --quiet'
check "run it on s2emu" "$S2CTL" run net.s2img --machine m.pb -o net.s2res --quiet
"$S2FW_RUN" image net.s2img -o local.s2res --dump dump >/dev/null
check "the engine's local run (s2fw-run image) gives the same results file" \
	cmp -s local.s2res net.s2res
"$S2CTL" results net.s2res --npy out --quiet
n_sp=$(/usr/bin/python3 -c 'import numpy; print(sum(len(numpy.load("out/%s_spikes.npy" % p))
                                                for p in ("curr", "alpha", "delta", "adex")))')
check "the neurons spiked ($n_sp spikes)" test "${n_sp:-0}" -gt 10

qemu_ok=0
qemu_bad=0
for d in dump/pe*; do
	mkdir -p "$d/host" "$d/qemu"
	cp "$d/pedata.bin" "$d/input.bin" "$d/host/"
	cp "$d/pedata.bin" "$d/input.bin" "$d/qemu/"
	(cd "$d/host" && "$ENGINE_EMU") >/dev/null &&
		(cd "$d/qemu" && timeout 120 sh "$QEMU_RUN" "$ENGINE_ELF") >/dev/null &&
		cmp -s "$d/host/output.bin" "$d/qemu/output.bin" && qemu_ok=$((qemu_ok + 1)) ||
		qemu_bad=$((qemu_bad + 1))
done
check "every PE ($qemu_ok) gives byte-identical output on the host and under QEMU" \
	[ "$qemu_bad" -eq 0 -a "$qemu_ok" -ge 9 ]

# Bad input: the item named, nothing written.
bad() {
	jq "$1" net.json >bad.json
	rm -f bad.pb
	! "$S2CTL" net convert bad.json -o bad.pb --quiet 2>bad.err && [ ! -e bad.pb ] &&
		grep -q -- "$2" bad.err
}
check "a current source into a spike source is refused" \
	bad '.current_sources[0].population = "in"' 'current_sources\[0\] (dc into in)'
check "an unknown kind is refused" bad '.current_sources[1].kind = "sawtooth"' 'kind must be'
check "times out of order are refused" bad '.current_sources[1].times_ms = [5, 4, 6, 7]' \
	'times_ms\[1\]'
check "a negative stdev is refused" bad '.current_sources[3].stdev_na = -1' 'stdev_na -1'
finish
