#!/usr/bin/env python3
"""pyNN.s2: current sources and initial values changed between run()s (docs/pynn.md,
"Continuing a run"), against the analytic membrane response.

The reference is NumPy's exact integration of the LIF membrane (IF_curr_exp without
synaptic input: v relaxes to v_rest + R I with time constant tau_m, R = tau_m / cm) under
the current each step carries, stepped as the engine's conventions have it (a source's
times rounded to steps; the current of step k acts over [k dt, (k+1) dt); a spike in step k
at (k+1) dt, v reset to v_reset). It is not pyNN.s2's output, and it is what pyNN.brian2 gives
for a source set before the run (test_pynn_models: v within 3e-5 mV).

 - run(100); a DCSource's amplitude and stop, a StepCurrentSource's points (new ones after
   100 ms), an ACSource's amplitude and frequency changed, a new DCSource injected; run(100):
   v of each neuron over 200 ms against the reference;
 - a NoisyCurrentSource's mean changed between runs: the mean of v over 20 neurons before
   and after against v_rest + R mean;
 - initialize(v=...) between runs: a neuron set to a new value, one set to the value it was
   loaded with (-65 mV, its default), one to a value while it fires under DC, and one
   population not touched: v and spike times against the reference; the recorded v at t = 0
   stays the value the run began with.
Needs S2CTL, S2EMU, S2_FIRMWARE; exit 77 without pyNN.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import s2check  # noqa: E402
try:
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import pyNN  # noqa: F401
except ImportError as e:
    print("test_pynn_between: skipped, %s" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as sim  # noqa: E402

check = s2check.Checks("{mark} {what}", ok="PASS")
DT = 0.1
CELL = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=0.0, tau_refrac=0.0,
            tau_syn_E=5.0, tau_syn_I=5.0)


def lif(current, v0=-65.0, cell=CELL, sets=None):
    """v samples (v0, then the end of each step) and spike times of a LIF neuron under the
    per-step current (nA); sets: {step: v} sets v at the start of that step."""
    a = np.exp(-DT / cell["tau_m"])
    r = cell["tau_m"] / cell["cm"]
    v, out, spikes = v0, [v0], []
    for k, i in enumerate(current):
        if sets and k in sets:
            v = sets[k]
        vinf = cell["v_rest"] + r * i
        v = vinf + (v - vinf) * a
        if v >= cell["v_thresh"]:
            spikes.append(round((k + 1) * DT, 6))
            v = cell["v_reset"]
        out.append(v)
    return np.array(out), spikes


def steps(t):
    return int(round(t / DT))


def dc(n, amp, start, stop, frm=0, to=None):
    """Per-step DC current on steps [frm, to)."""
    c = np.zeros(n)
    k = np.arange(n)
    on = (k >= steps(start)) & (k < steps(stop)) & (k >= frm) & (k < (to or n))
    c[on] = amp
    return c


def sources():
    sim.setup(timestep=DT, min_delay=DT, seed=3)
    pop = sim.Population(5, sim.IF_curr_exp(**CELL), label="cells")
    pop.record("v")
    d = sim.DCSource(amplitude=0.3, start=20.0, stop=180.0)
    d.inject_into(pop[0:1])
    st = sim.StepCurrentSource(times=[10.0, 60.0], amplitudes=[0.2, 0.4])
    st.inject_into(pop[1:2])
    ac = sim.ACSource(amplitude=0.2, offset=0.1, frequency=40.0, phase=30.0, start=5.0,
                      stop=1e12)
    ac.inject_into(pop[2:3])
    pop[4:5].inject(sim.DCSource(amplitude=0.1, start=0.0, stop=150.0))  # not changed
    sim.run(100.0)
    d.amplitude = 0.6  # and stop earlier
    d.stop = 150.0
    st.set_parameters(times=[10.0, 60.0, 120.0, 160.0], amplitudes=[0.2, 0.4, -0.3, 0.5])
    ac.set_parameters(amplitude=0.4, frequency=25.0)
    new = sim.DCSource(amplitude=0.5, start=120.0, stop=170.0)
    new.inject_into(pop[3:4])
    sim.run(100.0)
    v = pop.get_data().segments[0].analogsignals[0].magnitude
    resumed = sim.simulator.state.steps_before
    sim.end()

    n, h = 2000, 1000
    k = np.arange(n)
    ref = [
        dc(n, 0.3, 20, 180, to=h) + dc(n, 0.6, 20, 150, frm=h),
        np.select([k >= steps(160), k >= steps(120), k >= steps(60), k >= steps(10)],
                  [0.5, -0.3, 0.4, 0.2], 0.0),
        np.where(k >= steps(5), 0.1 + np.where(k < h, 0.2, 0.4) * np.sin(
            2 * np.pi * np.where(k < h, 40.0, 25.0) * (k - steps(5)) * DT * 1e-3 +
            np.pi * 30.0 / 180.0), 0.0),
        dc(n, 0.5, 120, 170),
        dc(n, 0.1, 0, 150),
    ]
    names = ["DC 0.3 -> 0.6 nA, stop 180 -> 150 ms", "step source, points at 120 and 160 ms "
             "added", "AC 0.2 nA 40 Hz -> 0.4 nA 25 Hz", "a DC source injected between runs",
             "a DC source not changed"]
    check(resumed == 1000, "the second run continued the machine from step %s" % resumed)
    for j, (cur, name) in enumerate(zip(ref, names)):
        want, _ = lif(cur)
        got = v[:, j]
        dv = np.max(np.abs(got - want)) if len(got) == len(want) else np.inf
        after = np.max(np.abs(want[h + 1:] - lif(np.r_[cur[:h], np.full(n - h, cur[h - 1])])[0][
            h + 1:]))
        check(dv < 1e-3 and (j == 4 or after > 0.5),
              "%s: v over 200 ms against the analytic response, max |diff| %.2g mV (the "
              "change moves v by up to %.1f mV)" % (name, dv, after))


def noise():
    sim.setup(timestep=DT, min_delay=DT, seed=4)
    pop = sim.Population(20, sim.IF_curr_exp(**CELL), label="noisy")
    pop.record("v")
    ns = sim.NoisyCurrentSource(mean=0.1, stdev=0.2, dt=1.0, start=0.0, stop=1e12)
    ns.inject_into(pop)
    sim.run(200.0)
    ns.set_parameters(mean=0.4)
    sim.run(200.0)
    v = pop.get_data().segments[0].analogsignals[0].magnitude
    sim.end()
    r = CELL["tau_m"] / CELL["cm"]
    m1, m2 = v[steps(60):steps(200)].mean(), v[steps(260):steps(400)].mean()
    e1, e2 = -65.0 + r * 0.1, -65.0 + r * 0.4
    # s.e. of a window mean over 20 neurons: about 1.8 mV / sqrt(20 x 7 time constants)
    check(abs(m1 - e1) < 1.0 and abs(m2 - e2) < 1.0,
          "noisy source, mean 0.1 -> 0.4 nA at 200 ms: mean v %.2f / %.2f mV, analytic "
          "%.2f / %.2f" % (m1, m2, e1, e2))


def initialize():
    sim.setup(timestep=DT, min_delay=DT)
    pop = sim.Population(3, sim.IF_curr_exp(**dict(CELL, v_thresh=-50.0)), label="init")
    pop.set(i_offset=[0.3, 0.3, 0.5])
    other = sim.Population(1, sim.IF_curr_exp(**dict(CELL, i_offset=0.2)), label="other")
    for p in (pop, other):
        p.record(["v", "spikes"])
    sim.run(50.0)
    # a new value; the value it was loaded with (its default); a value while it fires
    # (PyNN 0.10.1's PopulationView has no initialize(): one array for the population)
    pop.initialize(v=np.array([-75.0, -65.0, -58.0]))
    sim.run(50.0)
    vs = pop.get_data().segments[0].analogsignals[0].magnitude
    sp = [[round(float(t), 6) for t in st] for st in pop.get_data().segments[0].spiketrains]
    vo = other.get_data().segments[0].analogsignals[0].magnitude[:, 0]
    resumed = sim.simulator.state.steps_before
    sim.end()
    cell = dict(CELL, v_thresh=-50.0)
    h = 500
    check(resumed == 500, "initialize() between runs: the second run continued from step %s"
          % resumed)
    for j, (i, v1, what) in enumerate(((0.3, -75.0, "v set to -75 mV"),
                                       (0.3, -65.0, "v set to -65 mV, its loaded value"),
                                       (0.5, -58.0, "v set to -58 mV while firing"))):
        want, wsp = lif(np.full(1000, i), cell=cell, sets={h: v1})
        dv = np.max(np.abs(vs[:, j] - want))
        moved = abs(lif(np.full(1000, i), cell=cell)[0][h + 1] - want[h + 1])
        check(dv < 1e-3 and sp[j] == wsp and moved > 1.0 and vs[0, j] == -65.0,
              "%s at 50 ms: v max |diff| %.2g mV from the analytic response (the change "
              "moves v by %.1f mV), spikes %s (analytic %s), v(0) %.1f"
              % (what, dv, moved, sp[j], wsp, vs[0, j]))
    want, _ = lif(np.full(1000, 0.2), cell=CELL)
    check(np.max(np.abs(vo - want)) < 1e-3,
          "a population not initialize()d goes on: max |diff| %.2g mV"
          % np.max(np.abs(vo - want)))


if __name__ == "__main__":
    sources()
    noise()
    initialize()
    print("test_pynn_between: %s"
          % ("FAIL: " + "; ".join(check.failed) if check.failed else "PASS"))
    sys.exit(check.status())
