"""The example of docs/pynn.md, also run by tests/pynn/test_pynn_s2.py on pyNN.brian2 and
pyNN.s2:  PYTHONPATH=python python3 tests/pynn/example_pynn.py [s2|brian2]"""
import sys


def single_neurons(sim, duration=100.0):
    """One IF_curr_exp neuron driven by a SpikeSourceArray through a strong excitatory
    synapse, and one driven by a DC current (i_offset). Returns each neuron's spike times."""
    sim.setup(timestep=0.1, min_delay=0.1)
    cell = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
                tau_refrac=0.0, tau_syn_E=5.0, tau_syn_I=5.0)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 20.0, 22.0, 60.0]),
                         label="input")
    syn = sim.Population(1, sim.IF_curr_exp(**cell), label="syn")
    dc = sim.Population(1, sim.IF_curr_exp(i_offset=0.5, **cell), label="dc")
    sim.Projection(src, syn, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=3.0, delay=1.0), receptor_type="excitatory")
    syn.record(["spikes", "v"])
    dc.record("spikes")
    sim.run(duration)
    out = {p.label: [float(t) for t in p.get_data().segments[0].spiketrains[0].magnitude]
           for p in (syn, dc)}
    sim.end()
    return out


def poisson_network(sim, duration=1000.0, n=100, rate=40.0, p=0.5, weight=0.1, seed=5):
    """n Poisson sources -> n IF_curr_exp, FixedProbabilityConnector. Returns the output
    population's mean rate (Hz) and the input's."""
    sim.setup(timestep=0.1, min_delay=0.1, **({"seed": seed} if sim.__name__ == "pyNN.s2" else {}))
    rng = sim.NumpyRNG(seed=seed)
    src = sim.Population(n, sim.SpikeSourcePoisson(rate=rate), label="poisson")
    exc = sim.Population(n, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    sim.Projection(src, exc, sim.FixedProbabilityConnector(p, rng=rng),
                   sim.StaticSynapse(weight=weight, delay=1.0), receptor_type="excitatory")
    src.record("spikes")
    exc.record("spikes")
    sim.run(duration)
    rates = []
    for pop in (exc, src):
        trains = pop.get_data().segments[0].spiketrains
        rates.append(sum(len(st) for st in trains) / (pop.size * duration / 1000.0))
    sim.end()
    return rates[0], rates[1]


if __name__ == "__main__":
    import importlib
    sim = importlib.import_module("pyNN." + (sys.argv[1] if len(sys.argv) > 1 else "s2"))
    print("single neurons:", single_neurons(sim))
    print("poisson network (output Hz, input Hz):", poisson_network(sim))
