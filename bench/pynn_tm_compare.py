#!/usr/bin/env python3
"""PyNN 0.10.1's tsodyksmarkram example against an equivalent Brian2 script (docs/pynn.md,
"PyNN's examples"): pyNN.brian2 0.10.1's TsodyksMarkramSynapse does not have PyNN's dynamics
(tau_rec and tau_facil unused, docs/engine.md "Plasticity"), so the reference is Brian2 with
the model PyNN documents, NEST's tsodyks_synapse (Tsodyks, Uziel & Markram 2000; tau_psc =
the post neuron's tau_syn_I), written here as Brian2 equations, IF_cond_exp as pyNN.brian2
writes it, integrated by RK4. The network is the example's: a spike source firing every
10 ms from 10 to 90 ms onto three populations of three IF_cond_exp neurons (e_rev_I -75 mV,
tau_syn_I 1.2, 6.7, 4.3 ms) through static, depressing (U 0.5, tau_rec 800) and facilitating
(U 0.04, tau_rec 100, tau_facil 1000) inhibitory synapses of 0.01 uS, delay 0.5 ms; 200 ms.
pyNN.s2 runs the example's own construction, recording v (its gsyn_inh recording is not in
this branch); the membrane potentials are compared.
  PYTHONPATH=python S2CTL=... python3 bench/pynn_tm_compare.py
"""
import sys
import warnings

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402

DT, T_END = 0.1, 200.0
TAU_I = [1.2, 6.7, 4.3]
SYN = {"static": None, "depressing": (0.5, 800.0, 0.0), "facilitating": (0.04, 100.0, 1000.0)}


def s2_run():
    import pyNN_s2  # noqa: F401
    import pyNN.s2 as sim
    sim.setup(timestep=DT)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(10, 100, 10)))
    types = {"static": sim.StaticSynapse(weight=0.01, delay=0.5),
             "depressing": sim.TsodyksMarkramSynapse(U=0.5, tau_rec=800.0, tau_facil=0.0,
                                                     weight=0.01, delay=0.5),
             "facilitating": sim.TsodyksMarkramSynapse(U=0.04, tau_rec=100.0,
                                                       tau_facil=1000.0, weight=0.01,
                                                       delay=0.5)}
    pops = {}
    for label in SYN:
        pops[label] = sim.Population(3, sim.IF_cond_exp(e_rev_I=-75, tau_syn_I=TAU_I),
                                     label=label)
        pops[label].record("v")
        sim.Projection(src, pops[label], sim.AllToAllConnector(), receptor_type="inhibitory",
                       synapse_type=types[label])
    sim.run(T_END)
    out = {k: np.asarray(p.get_data().segments[0].filter(name="v")[0]) for k, p in pops.items()}
    sim.end()
    return out


def brian2_run():
    import brian2 as b
    b.prefs.codegen.target = "numpy"
    b.defaultclock.dt = DT * b.ms
    eqs = """dv/dt = (g_L*(v_rest - v) + ge*(e_rev_E - v) + gi*(e_rev_I - v))/c_m : volt
             dge/dt = -ge/tau_syn_E : siemens
             dgi/dt = -gi/tau_syn_I : siemens
             tau_syn_I : second"""
    ns = dict(g_L=1.0 * b.nF / (20.0 * b.ms), v_rest=-65 * b.mV, e_rev_E=0 * b.mV,
              e_rev_I=-75 * b.mV, c_m=1.0 * b.nF, tau_syn_E=5 * b.ms)
    src = b.SpikeGeneratorGroup(1, [0] * 9, np.arange(10, 100, 10) * b.ms)
    groups, mons, syns = {}, {}, []
    for label, tm in SYN.items():
        g = b.NeuronGroup(3, eqs, threshold="v > -50*mV", reset="v = -65*mV",
                          refractory=0.1 * b.ms, method="rk4", namespace=ns)
        g.v = -65 * b.mV
        g.tau_syn_I = np.array(TAU_I) * b.ms
        if tm is None:
            s = b.Synapses(src, g, "w : siemens", on_pre="gi_post += w", delay=0.5 * b.ms)
        else:
            s = b.Synapses(src, g, """w : siemens
                                    U : 1
                                    tau_rec : second
                                    tau_facil : second
                                    u : 1
                                    x : 1
                                    y : 1
                                    tl : second""",
                           on_pre="""h = t - tl
                                     pzz = exp(-h/tau_rec)
                                     pyy = exp(-h/tau_syn_I_post)
                                     pxy = ((pzz - 1)*tau_rec - (pyy - 1)*tau_syn_I_post)/(tau_syn_I_post - tau_rec)
                                     zz = 1 - x - y
                                     u = u*int(tau_facil > 0*ms)*exp(-h/(tau_facil + int(tau_facil <= 0*ms)*ms))
                                     x = x + pxy*y + (1 - pzz)*zz
                                     y = y*pyy
                                     u = u + U*(1 - u)
                                     rel = u*x
                                     gi_post += w*rel
                                     x = x - rel
                                     y = y + rel
                                     tl = t""", delay=0.5 * b.ms)
        s.connect()
        s.w = 0.01 * b.uS
        if tm is not None:
            s.U, s.tau_rec, s.tau_facil = tm[0], tm[1] * b.ms, tm[2] * b.ms
            s.u, s.x, s.y, s.tl = 0.0, 1.0, 0.0, 0 * b.ms
        m = b.StateMonitor(g, "v", record=True)
        groups[label], mons[label] = g, m
        syns.append(s)
    net = b.Network(src, *groups.values(), *mons.values(), *syns)
    net.run(T_END * b.ms)
    # sample k at time k dt, as pyNN.s2's (the initial value first)
    return {k: np.asarray(m.v.T / b.mV) for k, m in mons.items()}


def main():
    s2 = s2_run()
    ref = brian2_run()
    worst = 0.0
    for label in SYN:
        a, r = s2[label], ref[label]
        n = min(len(a), len(r))
        d = np.abs(a[:n] - r[:n])
        worst = max(worst, float(d.max()))
        hyper = (r[:n].min(axis=0) - (-65.0))
        print("%-12s v max |s2 - Brian2| %.2e mV over %d steps x 3 neurons; deepest "
              "hyperpolarisation Brian2 %s mV, s2 %s mV"
              % (label, d.max(), n, np.round(hyper, 4).tolist(),
                 np.round(a[:n].min(axis=0) + 65.0, 4).tolist()))
    print("worst %.2e mV" % worst)
    return 0 if worst < 5e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
