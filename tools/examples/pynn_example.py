"""The PyNN example of README.md and docs/pynn.md (run by the test example_pynn):
a Poisson-driven excitatory/inhibitory network, written for any PyNN backend
(current-based inhibitory weights are negative, as PyNN has them).

    PYTHONPATH=python /usr/bin/python3 tools/examples/pynn_example.py
"""
import pyNN.s2 as sim  # the one line that differs from pyNN.nest, pyNN.brian2, ...

sim.setup(timestep=0.1)
noise = sim.Population(200, sim.SpikeSourcePoisson(rate=20.0), label="noise")
exc = sim.Population(200, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
inh = sim.Population(50, sim.IF_curr_exp(tau_refrac=2.0), label="inh")
exc.initialize(v=sim.RandomDistribution("uniform", (-65.0, -55.0)))
sim.Projection(noise, exc, sim.FixedProbabilityConnector(0.1),
               sim.StaticSynapse(weight=0.5, delay=1.0))
sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.2),
               sim.StaticSynapse(weight=0.3, delay=1.0))
sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.2),
               sim.StaticSynapse(weight=-0.6, delay=1.0), receptor_type="inhibitory")
exc.record(["spikes", "v"])
inh.record("spikes")

sim.run(1000.0)  # compiles the network, runs it on a local s2emu, reads the results back

for pop in (exc, inh):
    block = pop.get_data()  # a Neo block: spike trains (and v for exc)
    n = sum(len(st) for st in block.segments[0].spiketrains)
    print("%s: %d spikes, %.1f Hz" % (pop.label, n, n / pop.size))
v = exc.get_data().segments[0].filter(name="v")[0]
print("exc v: %d samples of %d neurons, %.1f to %.1f mV" % (v.shape[0], v.shape[1],
                                                             v.magnitude.min(), v.magnitude.max()))
sim.end()
