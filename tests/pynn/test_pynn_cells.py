#!/usr/bin/env python3
"""pyNN.s2 against pyNN.brian2: long delays, gsyn recording, HH_cond_exp (docs/pynn.md).

- delays: at timestep 0.01 ms, delays of 1 to 256 timesteps (0.01-2.56 ms, beyond the 64 a
  PE of 128 neurons holds) from a SpikeSourceArray onto Izhikevich neurons (weights are
  voltage jumps, so a neuron fires in the step after the input acts) and onto a population of
  40 IF_curr_exp spread over PEs of at most 32 neurons: every spike time identical to
  pyNN.brian2's after the +dt shift (docs/engine.md, A1; for the delays that are multiples
  of 0.1 ms: pyNN.brian2 0.10.1 delays spikes in steps of Brian2's default clock, 0.1 ms,
  whatever the timestep), and equal to input + delay + 2 dt
  (Izhikevich) as the engine's convention gives. A delay of 257 timesteps is refused at
  Projection() naming the population.
Brian2 integrates with 'exact' where it applies and RK4 otherwise (A8), as test_pynn_s2.
Needs S2CTL, S2EMU, S2_FIRMWARE; exit 77 without pyNN or Brian2.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_pynn_s2 as base  # noqa: E402  (exit 77 without pyNN/Brian2; registers pyNN.s2)
import pyNN.errors  # noqa: E402

ref, s2 = base.ref, base.s2
FAILS = []

CURR = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
            tau_refrac=0.0, tau_syn_E=0.5, tau_syn_I=0.5)
DELAYS = [0.01, 0.5, 0.64, 0.65, 1.0, 1.28, 1.29, 2.0, 2.56]
INPUT = [5.0, 12.0, 12.5]


def check(ok, what):
    print("%s %s" % ("PASS" if ok else "FAIL", what))
    if not ok:
        FAILS.append(what.split(":")[0])


def spikes_of(pop):
    seg = pop.get_data().segments[0]
    return [[round(float(t), 6) for t in st.magnitude] for st in seg.spiketrains]


def delays(sim, duration=20.0):
    """One Izhikevich neuron per delay; 40 IF_curr_exp through a 2 ms delay."""
    sim.setup(timestep=0.01, min_delay=0.01)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=INPUT), label="input")
    izk = sim.Population(len(DELAYS), sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0),
                         label="izk")
    for i, d in enumerate(DELAYS):
        sim.Projection(src, izk[i:i + 1], sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=200.0, delay=d), receptor_type="excitatory")
    lif = sim.Population(40, sim.IF_curr_exp(**CURR), label="lif")
    sim.Projection(src, lif, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=20.0, delay=2.0), receptor_type="excitatory")
    izk.record("spikes")
    lif.record("spikes")
    sim.run(duration)
    out = {"izk": spikes_of(izk), "lif": spikes_of(lif)}
    sim.end()
    return out


def delay_tests():
    a, b = delays(ref), delays(s2)
    dt = 0.01
    # pyNN.brian2 0.10.1 delays spikes in whole steps of Brian2's default clock (0.1 ms),
    # whatever the timestep: only the delays that are multiples of 0.1 ms compare.
    keep = [i for i, d in enumerate(DELAYS) if abs(d * 10 - round(d * 10)) < 1e-9]
    for name, sel in (("izk", keep), ("lif", range(40))):
        r = [[round(t + dt, 6) for t in a[name][i]] for i in sel]  # A1
        s = [b[name][i] for i in sel]
        n = sum(len(tr) for tr in r)
        check(r == s and n > 0, "delays %s: brian2 (+dt) and s2 identical "
              "(%d spikes in %d neurons)%s" % (name, n, len(r), "" if r == s else
                                              ": brian2 %s, s2 %s" % (r[:3], s[:3])))
    want = [[round(t + d + 2 * dt, 6) for t in INPUT] for d in DELAYS]
    check(b["izk"] == want, "delays: Izhikevich spikes at input + delay + 2 dt for delays "
          "%s ms: %s" % (DELAYS, "yes" if b["izk"] == want else b["izk"]))
    s2.setup(timestep=0.01, min_delay=0.01)
    a_ = s2.Population(1, s2.SpikeSourceArray(spike_times=[1.0]))
    t_ = s2.Population(1, s2.IF_curr_exp(), label="target")
    try:
        s2.Projection(a_, t_, s2.OneToOneConnector(), s2.StaticSynapse(weight=1.0, delay=2.57))
        check(False, "delay of 257 timesteps refused: it was accepted")
    except pyNN.errors.ConnectionError as e:
        check("delay 2.57 ms onto target" in str(e), "delay of 257 timesteps refused: %s" % e)
    s2.end()


if __name__ == "__main__":
    delay_tests()
    print("test_pynn_cells: %s" % ("FAIL: " + "; ".join(FAILS) if FAILS else "PASS"))
    sys.exit(1 if FAILS else 0)
