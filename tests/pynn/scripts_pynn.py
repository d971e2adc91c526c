"""PyNN scripts run unchanged on pyNN.brian2 and pyNN.s2 by tests/pynn/test_pynn_s2.py and
bench/pynn_compare.py (docs/pynn.md): single IF_cond_exp and Izhikevich neurons, the
Vogels-Abbott benchmark (CUBA and COBA) and a synfire chain.

    PYTHONPATH=python python3 tests/pynn/scripts_pynn.py [s2|brian2]
"""
import sys

import numpy as np
from pyNN.parameters import Sequence


def _is_s2(sim):
    return sim.__name__ in ("pyNN.s2", "pyNN_s2")


def _setup(sim, seed=None, dt=0.1):
    sim.setup(timestep=dt, min_delay=dt, **({"seed": seed} if _is_s2(sim) and seed else {}))


def _trains(pop):
    return [[round(float(t), 6) for t in st.magnitude]
            for st in pop.get_data().segments[0].spiketrains]


def single_cond_izk(sim, segments=(100.0,)):
    """Single neurons: IF_cond_exp under DC (i_offset) and under excitatory + inhibitory
    spikes; Izhikevich (regular spiking, d = 8) under DC and under spikes (voltage jumps, the
    excitatory ones through an ArrayConnector).
    Runs for each duration in `segments` in turn. Returns each neuron's spike times, and the
    v traces of cond_syn and izk_dc (as 'cond_syn_v', 'izk_dc_v')."""
    _setup(sim)
    cond = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
                tau_refrac=0.0, tau_syn_E=5.0, tau_syn_I=5.0, e_rev_E=0.0, e_rev_I=-75.0)
    izk = dict(a=0.02, b=0.2, c=-65.0, d=8.0)
    src = sim.Population(1, sim.SpikeSourceArray(
        spike_times=[5.0, 20.0, 22.0, 28.0, 29.5, 31.0, 60.0, 61.0, 85.0]), label="input")
    inh = sim.Population(1, sim.SpikeSourceArray(spike_times=[21.0, 59.0, 70.0]),
                         label="inh_input")
    pops = {
        "cond_dc": sim.Population(1, sim.IF_cond_exp(i_offset=0.5, **cond)),
        "cond_syn": sim.Population(1, sim.IF_cond_exp(**cond)),
        "izk_dc": sim.Population(1, sim.Izhikevich(i_offset=0.01, **izk)),
        "izk_syn": sim.Population(1, sim.Izhikevich(**izk)),
    }
    for name in ("cond_syn", "izk_syn"):
        cb = name == "cond_syn"
        # ArrayConnector (pyNN.s2: a from_list) for the Izhikevich neuron's input
        conn = sim.OneToOneConnector() if cb else sim.ArrayConnector(np.array([[True]]))
        sim.Projection(src, pops[name], conn,
                       sim.StaticSynapse(weight=0.03 if cb else 25.0, delay=1.0),
                       receptor_type="excitatory")
        sim.Projection(inh, pops[name], sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=0.05 if cb else -10.0, delay=1.0),
                       receptor_type="inhibitory")
    for p in pops.values():
        p.record("spikes")
    pops["cond_syn"].record("v")
    pops["izk_dc"].record("v")
    for t in segments:
        sim.run(t)
    out = {name: _trains(p)[0] for name, p in pops.items()}
    for name in ("cond_syn", "izk_dc"):
        sig = pops[name].get_data().segments[0].analogsignals[0]
        out[name + "_v"] = [float(x) for x in sig.magnitude.ravel()]
    sim.end()
    return out


# Vogels & Abbott (2005), as PyNN's examples/VAbenchmarks.py and Brette et al. (2007),
# benchmarks 1 (COBA) and 2 (CUBA): 80 % E / 20 % I, p = 0.02 at 4000 neurons; tau_m 20 ms,
# cm 0.2 nF, threshold -50 mV, reset -60 mV, refractory 5 ms, tau_syn 5 / 10 ms.
# CUBA: rest -49 mV (above threshold: self-sustained without input), weights 0.27 / 4.5 nS
# turned into currents at v = -60 mV (0.0162 / -0.09 nA). COBA: rest -60 mV, conductances
# 4 / 51 nS, reversal 0 / -80 mV; at this scale and delay its activity does not sustain
# itself, so 100 Poisson sources (20 Hz, p = 0.1, 0.01 uS) drive it throughout.
# Delays one timestep; initial v uniform in [-60, -50] mV. Scaled to n neurons keeping each
# neuron's number of inputs: p = 0.02 * 4000 / n. E and I are views of one population (one
# Brian2 NeuronGroup: its integrator analysis is the slow part of building it).
def vogels_abbott(sim, benchmark="CUBA", n=4000, duration=1000.0, seed=1):
    """Returns (mean E rate, mean I rate) in Hz."""
    _setup(sim, seed=seed)
    rng = sim.NumpyRNG(seed=seed)
    n_exc = int(0.8 * n)
    p = min(1.0, 0.02 * 4000 / n)
    cell = dict(tau_m=20.0, cm=0.2, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
                tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0)
    if benchmark == "COBA":
        celltype = sim.IF_cond_exp(v_rest=-60.0, e_rev_E=0.0, e_rev_I=-80.0, **cell)
        w_exc, w_inh = 4e-3, 51e-3  # uS
    else:
        celltype = sim.IF_curr_exp(v_rest=-49.0, **cell)
        w_exc, w_inh = 0.27e-3 * 60.0, -4.5e-3 * 20.0  # nA
    cells = sim.Population(n, celltype, label="cells")
    cells.initialize(v=sim.RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
    exc, inh = cells[:n_exc], cells[n_exc:]
    conn = sim.FixedProbabilityConnector(p, allow_self_connections=False, rng=rng)
    dt = sim.get_time_step()
    for pre, w, rec in ((exc, w_exc, "excitatory"), (inh, w_inh, "inhibitory")):
        sim.Projection(pre, cells, conn, sim.StaticSynapse(weight=w, delay=dt),
                       receptor_type=rec)
    if benchmark == "COBA":
        ext = sim.Population(100, sim.SpikeSourcePoisson(rate=20.0), label="ext")
        sim.Projection(ext, cells, sim.FixedProbabilityConnector(0.1, rng=rng),
                       sim.StaticSynapse(weight=0.01, delay=dt), receptor_type="excitatory")
    cells.record("spikes")
    sim.run(duration)
    trains = cells.get_data().segments[0].spiketrains
    counts = [len(st) for st in trains]
    sim.end()
    return (sum(counts[:n_exc]) / (n_exc * duration / 1000.0),
            sum(counts[n_exc:]) / ((n - n_exc) * duration / 1000.0))


def synfire(sim, groups=10, size=100, p=0.5, weight=0.1, duration=60.0, seed=2):
    """A synfire chain: `groups` groups of `size` IF_curr_exp neurons (views of one
    population), each group projecting to the next with FixedProbabilityConnector(p), delay
    2 ms; group 0 gets the same from a pulse of `size` spike-array sources, one spike each,
    spread over 10-12 ms. Returns per group (spike count, first spike time, last spike time)."""
    _setup(sim, seed=seed)
    rng = sim.NumpyRNG(seed=seed)
    cell = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0,
                tau_refrac=5.0, tau_syn_E=1.0, tau_syn_I=5.0)
    times = [Sequence([round(10.0 + 2.0 * k / size, 1)]) for k in range(size)]
    pulse = sim.Population(size, sim.SpikeSourceArray(spike_times=times), label="pulse")
    chain = sim.Population(groups * size, sim.IF_curr_exp(**cell), label="chain")
    views = [chain[g * size:(g + 1) * size] for g in range(groups)]
    conn = sim.FixedProbabilityConnector(p, rng=rng)
    syn = sim.StaticSynapse(weight=weight, delay=2.0)
    for pre, post in zip([pulse] + views[:-1], views):
        sim.Projection(pre, post, conn, syn, receptor_type="excitatory")
    chain.record("spikes")
    sim.run(duration)
    trains = _trains(chain)
    sim.end()
    out = []
    for g in range(groups):
        ts = [t for tr in trains[g * size:(g + 1) * size] for t in tr]
        out.append((len(ts), min(ts) if ts else None, max(ts) if ts else None))
    return out


if __name__ == "__main__":
    import importlib
    sim = importlib.import_module("pyNN." + (sys.argv[1] if len(sys.argv) > 1 else "s2"))
    print("single cond/izk:", single_cond_izk(sim))
    print("VA CUBA 1000 (E Hz, I Hz):", vogels_abbott(sim, "CUBA", n=1000))
    print("synfire:", synfire(sim))
