#!/usr/bin/env python3
"""pyNN.s2 single neurons against pyNN.brian2 at timesteps other than 0.1 ms (docs/pynn.md).

Per timestep (0.05 and 0.25 ms), the same script on both simulators: IF_curr_exp under DC
and under spikes (delay 1 ms), IF_cond_exp under DC and under excitatory + inhibitory
spikes, Izhikevich under DC. Pass: the same number of spikes, each within one timestep after
shifting Brian2's by +dt (docs/engine.md, A1; tau_refrac 0, so A2 does not enter), and the
recorded v within a tolerance per model (printed). Also: a timestep the engine cannot run is
refused at setup() naming it, and a delay beyond 256 timesteps at Projection().
Brian2 integrates with 'exact' where it applies and RK4 otherwise (A8), as test_pynn_s2.
Needs S2CTL, S2EMU, S2_FIRMWARE; exit 77 without pyNN or Brian2.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import test_pynn_s2 as base  # noqa: E402  (exit 77 without pyNN/Brian2; registers pyNN.s2)
import s2check  # noqa: E402

ref, s2 = base.ref, base.s2
check = s2check.Checks("{mark} {what}", ok="PASS")

CURR = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0,
            tau_refrac=0.0, tau_syn_E=5.0, tau_syn_I=5.0)
COND = dict(CURR, e_rev_E=0.0, e_rev_I=-75.0)
V_TOL = {"curr_syn": 1e-3, "cond_syn": 0.01, "izk_dc": 0.01}


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
        s2.Projection(a, b, s2.OneToOneConnector(), s2.StaticSynapse(weight=1.0, delay=3.0))
        check(False, "delay 3 ms at timestep 0.01 ms refused: it was accepted")
    except pyNN_errors().ConnectionError as e:
        check("delay 3 ms onto target" in str(e), "delay of 300 timesteps refused: %s" % e)
    s2.end()


def currents(sim, dt=0.1, duration=100.0):
    """Single neurons under each kind of current source; returns spike times and v."""
    sim.setup(timestep=dt, min_delay=dt)
    pops = {
        "dc": sim.Population(1, sim.IF_curr_exp(**CURR)),
        "step": sim.Population(1, sim.IF_curr_exp(**CURR)),
        "ac": sim.Population(1, sim.IF_cond_exp(**COND)),
        "sum": sim.Population(3, sim.IF_curr_exp(i_offset=0.1, **CURR)),
        "izk_step": sim.Population(1, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0)),
    }
    sim.DCSource(amplitude=0.5, start=20.0, stop=80.0).inject_into(pops["dc"])
    # 55.03 ms rounds to the step of 55.0 (pyNN.brian2 rounds the same way)
    pops["step"].inject(sim.StepCurrentSource(times=[10.0, 40.0, 55.03, 70.0],
                                              amplitudes=[0.4, 0.8, 0.2, 0.6]))
    pops["ac"].inject(sim.ACSource(amplitude=0.3, offset=0.4, frequency=50.0, phase=30.0,
                                   start=10.0, stop=90.0))
    # two sources summed, one into a view, one into a list of cells
    sim.DCSource(amplitude=0.2, start=5.0, stop=95.0).inject_into(pops["sum"][0:2])
    sim.ACSource(amplitude=0.2, offset=0.1, frequency=20.0, start=0.0,
                 stop=100.0).inject_into([pops["sum"][1], pops["sum"][2]])
    pops["izk_step"].inject(sim.StepCurrentSource(times=[20.0, 60.0],
                                                  amplitudes=[0.005, 0.015]))
    for p in pops.values():
        p.record(["spikes", "v"])
    sim.run(duration)
    out = {}
    for name, p in pops.items():
        seg = p.get_data().segments[0]
        v = seg.filter(name="v")[0].magnitude
        for k in range(p.size):
            key = name if p.size == 1 else "%s%d" % (name, k)
            out[key] = [round(float(t), 6) for t in seg.spiketrains[k].magnitude]
            out[key + "_v"] = [float(x) for x in v[:, k]]
    sim.end()
    return out


def noisy(sim, dt=0.1, duration=600.0, n=20):
    """n IF_curr_exp neurons (threshold out of reach) under one NoisyCurrentSource (mean
    0.2 nA, s.d. 0.3 nA, a new value every 1 ms, independent per neuron): mean and s.d. of v
    over 100-600 ms and all neurons."""
    import numpy as np
    sim.setup(timestep=dt, min_delay=dt)
    pop = sim.Population(n, sim.IF_curr_exp(**dict(CURR, v_thresh=0.0)))
    pop.inject(sim.NoisyCurrentSource(mean=0.2, stdev=0.3, dt=1.0, start=0.0,
                                      stop=duration))
    pop.record("v")
    sim.run(duration)
    v = pop.get_data().segments[0].filter(name="v")[0].magnitude
    v = v[int(round(100.0 / dt)):]
    # neurons must differ (independent noise per neuron)
    distinct = len(set(np.round(v[-1], 6)))
    sim.end()
    return float(v.mean()), float(v.std()), distinct


def current_sources():
    a, b = currents(ref), currents(s2)
    for name in (k for k in a if not k.endswith("_v")):
        r = [round(t + 0.1, 6) for t in a[name]]  # A1
        s = b[name]
        dmax = max((abs(x - y) for x, y in zip(r, s)), default=0.0)
        check(len(r) == len(s) and dmax <= 0.1 + 1e-6,
              "current %s: brian2 (+dt) %d spikes, s2 %d, max |diff| %.4f ms"
              % (name, len(r), len(s), dmax))
        x, y = a[name + "_v"], b[name + "_v"]
        d = max((abs(p - q) for p, q in zip(x, y)), default=float("inf"))
        check(len(x) == len(y) and d <= 0.01, "current %s v: %d/%d samples, max |v diff| %.2g "
              "mV (tolerance 0.01)" % (name, len(x), len(y), d))
    (ma, sa, da), (mb, sb, db) = noisy(ref), noisy(s2)
    check(abs(ma - mb) < 0.5 and abs(sa - sb) < 0.12 * sa and db == da == 20,
          "noisy current: v mean brian2 %.3f / s2 %.3f mV (tolerance 0.5), s.d. %.3f / %.3f mV "
          "(tolerance 12 %%), %d / %d distinct neurons" % (ma, mb, sa, sb, da, db))
    s2.setup()
    src = s2.Population(2, s2.SpikeSourcePoisson(rate=5.0), label="poisson_in")
    try:
        src.inject(s2.DCSource(amplitude=1.0))
        check(False, "current source on a spike source refused: it was accepted")
    except TypeError as e:
        check("DCSource" in str(e) and "poisson_in" in str(e),
              "current source on a spike source refused: %s" % e)
    s2.end()


def cell_types(sim, dt=0.1, duration=100.0):
    """IF_curr_alpha, IF_cond_alpha and IF_curr_delta under excitatory and inhibitory spikes
    and under DC. tau_syn_E = tau_syn_I for IF_curr_alpha: pyNN.brian2 0.10.1's inhibitory
    alpha current decays with tau_syn_E (its equations), the engine's with tau_syn_I."""
    sim.setup(timestep=dt, min_delay=dt)
    src = sim.Population(1, sim.SpikeSourceArray(
        spike_times=[5.0, 20.0, 22.0, 28.0, 29.5, 31.0, 60.0, 61.0, 85.0]), label="input")
    inh = sim.Population(1, sim.SpikeSourceArray(spike_times=[21.0, 59.0, 70.0]),
                         label="inh_input")
    ca = dict(CURR, tau_syn_E=2.0, tau_syn_I=2.0)
    da = {k: v for k, v in CURR.items() if not k.startswith("tau_syn")}
    pops = {
        "curr_alpha_syn": sim.Population(1, sim.IF_curr_alpha(**ca)),
        "curr_alpha_dc": sim.Population(1, sim.IF_curr_alpha(i_offset=0.5, **ca)),
        "cond_alpha_syn": sim.Population(1, sim.IF_cond_alpha(**dict(COND, tau_syn_E=1.5,
                                                                     tau_syn_I=3.0))),
        "curr_delta_syn": sim.Population(1, sim.IF_curr_delta(**da)),
        "curr_delta_dc": sim.Population(1, sim.IF_curr_delta(i_offset=0.45, **da)),
        # AdEx with PyNN's defaults; v_spike at pyNN.brian2's cut-off v_thresh + 5 delta_T
        "adex_dc": sim.Population(1, sim.EIF_cond_exp_isfa_ista(i_offset=0.8, v_spike=-40.4,
                                                                tau_refrac=0.0)),
        "adex_syn": sim.Population(1, sim.EIF_cond_exp_isfa_ista(i_offset=0.3, v_spike=-40.4,
                                                                 tau_refrac=0.0)),
    }
    w = {"curr_alpha_syn": (1.5, -1.0), "cond_alpha_syn": (0.03, 0.05),
         "curr_delta_syn": (6.0, -4.0), "adex_syn": (0.05, 0.05)}
    for name, (we, wi) in w.items():
        sim.Projection(src, pops[name], sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=we, delay=1.0), receptor_type="excitatory")
        sim.Projection(inh, pops[name], sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=wi, delay=1.0), receptor_type="inhibitory")
    for p in pops.values():
        p.record(["spikes", "v"])
    sim.run(duration)
    out = {}
    for name, p in pops.items():
        seg = p.get_data().segments[0]
        out[name] = [round(float(t), 6) for t in seg.spiketrains[0].magnitude]
        out[name + "_v"] = [float(x) for x in seg.filter(name="v")[0].magnitude[:, 0]]
    sim.end()
    return out


def adex_rk4():
    """pyNN.brian2 integrates EIF_cond_exp_isfa_ista with RK2 (its AdaptiveNeuronGroup); the
    reference uses RK4 (A8), as the engine does."""
    import importlib
    bc = importlib.import_module("pyNN.brian2.cells")
    orig = bc.BaseNeuronGroup.__init__

    def init(self, *a, **k):
        if k.get("method") == "rk2":
            k["method"] = "rk4"
        orig(self, *a, **k)
    bc.BaseNeuronGroup.__init__ = init


def models():
    a, b = cell_types(ref), cell_types(s2)
    for name in (k for k in a if not k.endswith("_v")):
        r = [round(t + 0.1, 6) for t in a[name]]  # A1
        s = b[name]
        dmax = max((abs(x - y) for x, y in zip(r, s)), default=0.0)
        check(len(r) == len(s) and len(r) > 0 and dmax <= 0.1 + 1e-6,
              "%s: brian2 (+dt) %d spikes, s2 %d, max |diff| %.4f ms"
              % (name, len(r), len(s), dmax))
        x, y = a[name + "_v"], b[name + "_v"]
        d = max((abs(p - q) for p, q in zip(x, y)), default=float("inf"))
        tol = 0.01
        check(len(x) == len(y) and d <= tol, "%s v: %d/%d samples, max |v diff| %.2g mV "
              "(tolerance %g)" % (name, len(x), len(y), d, tol))


def pyNN_errors():
    import pyNN.errors
    return pyNN.errors


if __name__ == "__main__":
    base.brian2_integrator()
    adex_rk4()
    refusals()
    models()
    current_sources()
    timesteps()
    fails = [w.split(":")[0] for w in check.failed]
    print("test_pynn_models: %s" % ("FAIL: " + "; ".join(fails) if fails else "PASS"))
    sys.exit(check.status())
