#!/usr/bin/env python3
"""pyNN.s2 single neurons against pyNN.brian2 at timesteps other than 0.1 ms (docs/pynn.md).

Per timestep (0.05 and 0.25 ms), the same script on both simulators: IF_curr_exp under DC
and under spikes (delay 1 ms), IF_cond_exp under DC and under excitatory + inhibitory
spikes, Izhikevich under DC. Pass: the same number of spikes, each within one timestep after
shifting Brian2's by +dt (docs/engine.md, A1; tau_refrac 0, so A2 does not enter), and the
recorded v within a tolerance per model (printed). Also: a timestep the engine cannot run is
refused at setup() naming it, and a delay beyond 64 timesteps at Projection().
Brian2 integrates with 'exact' where it applies and RK4 otherwise (A8), as test_pynn_s2.
Needs S2CTL, S2EMU, S2_FIRMWARE; exit 77 without pyNN or Brian2.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_pynn_s2 as base  # noqa: E402  (exit 77 without pyNN/Brian2; registers pyNN.s2)

ref, s2 = base.ref, base.s2
FAILS = []

CURR = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
            tau_refrac=0.0, tau_syn_E=5.0, tau_syn_I=5.0)
COND = dict(CURR, e_rev_E=0.0, e_rev_I=-75.0)
V_TOL = {"curr_syn": 1e-3, "cond_syn": 0.01, "izk_dc": 0.01}


def check(ok, what):
    print("%s %s" % ("PASS" if ok else "FAIL", what))
    if not ok:
        FAILS.append(what.split(":")[0])


def single(sim, dt, duration=100.0):
    """Single neurons at timestep dt; returns spike times per neuron and v traces."""
    sim.setup(timestep=dt, min_delay=dt)
    src = sim.Population(1, sim.SpikeSourceArray(
        spike_times=[5.0, 20.0, 22.0, 28.0, 29.5, 31.0, 60.0, 61.0, 85.0]), label="input")
    inh = sim.Population(1, sim.SpikeSourceArray(spike_times=[21.0, 59.0, 70.0]),
                         label="inh_input")
    pops = {
        "curr_dc": sim.Population(1, sim.IF_curr_exp(i_offset=0.5, **CURR)),
        "curr_syn": sim.Population(1, sim.IF_curr_exp(**CURR)),
        "cond_dc": sim.Population(1, sim.IF_cond_exp(i_offset=0.5, **COND)),
        "cond_syn": sim.Population(1, sim.IF_cond_exp(**COND)),
        "izk_dc": sim.Population(1, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0,
                                                   i_offset=0.01)),
    }
    sim.Projection(src, pops["curr_syn"], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.0, delay=1.0), receptor_type="excitatory")
    sim.Projection(inh, pops["curr_syn"], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=-1.0, delay=1.0), receptor_type="inhibitory")
    sim.Projection(src, pops["cond_syn"], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.03, delay=1.0), receptor_type="excitatory")
    sim.Projection(inh, pops["cond_syn"], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.05, delay=1.0), receptor_type="inhibitory")
    for name, p in pops.items():
        p.record("spikes")
        if name in V_TOL:
            p.record("v")
    sim.run(duration)
    out = {}
    for name, p in pops.items():
        seg = p.get_data().segments[0]
        out[name] = [round(float(t), 6) for t in seg.spiketrains[0].magnitude]
        if name in V_TOL:
            out[name + "_v"] = [float(x) for x in seg.filter(name="v")[0].magnitude[:, 0]]
    sim.end()
    return out


def compare(a, b, dt, label):
    for name in (k for k in a if not k.endswith("_v")):
        r = [round(t + dt, 6) for t in a[name]]  # A1
        s = b[name]
        dmax = max((abs(x - y) for x, y in zip(r, s)), default=0.0)
        ok = len(r) == len(s) and len(r) > 0 and dmax <= dt + 1e-6
        check(ok, "%s %s: brian2 (+dt) %d spikes, s2 %d, max |diff| %.4f ms (tolerance %g)"
              % (label, name, len(r), len(s), dmax, dt))
    for name in (k for k in a if k.endswith("_v")):
        x, y = a[name], b[name]
        d = max((abs(p - q) for p, q in zip(x, y)), default=float("inf"))
        tol = V_TOL[name[:-2]]
        check(len(x) == len(y) and d <= tol, "%s %s: %d/%d samples, max |v diff| %.2g mV "
              "(tolerance %g)" % (label, name, len(x), len(y), d, tol))


def timesteps():
    for dt in (0.05, 0.25):
        compare(single(ref, dt), single(s2, dt), dt, "dt %g ms" % dt)


def refusals():
    for dt in (0.005, 0.0125, 20.0):
        try:
            s2.setup(timestep=dt)
            check(False, "setup(timestep=%g) refused: it was accepted" % dt)
        except s2.NotSupportedError as e:
            check("timestep %g" % dt in str(e), "setup(timestep=%g) refused: %s" % (dt, e))
    s2.setup(timestep=0.01, min_delay=0.01)
    a = s2.Population(1, s2.SpikeSourceArray(spike_times=[1.0]))
    b = s2.Population(1, s2.IF_curr_exp(), label="target")
    try:
        s2.Projection(a, b, s2.OneToOneConnector(), s2.StaticSynapse(weight=1.0, delay=1.0))
        check(False, "delay 1 ms at timestep 0.01 ms refused: it was accepted")
    except pyNN_errors().ConnectionError as e:
        check("delay 1 ms onto target" in str(e), "delay of 100 timesteps refused: %s" % e)
    s2.end()


def pyNN_errors():
    import pyNN.errors
    return pyNN.errors


if __name__ == "__main__":
    base.brian2_integrator()
    refusals()
    timesteps()
    print("test_pynn_models: %s" % ("FAIL: " + "; ".join(FAILS) if FAILS else "PASS"))
    sys.exit(1 if FAILS else 0)
