#!/usr/bin/env python3
"""pyNN.s2 plastic synapses (docs/pynn.md "Plastic synapses") on s2emu, checked against the
closed form of the STDP rule and against pyNN.brian2, never against s2 itself:

 - STDP pair protocol: n pre neurons (SpikeSourceArray) spike once at 100 ms into n post
   neurons through one-to-one STDPMechanism synapses (SpikePairRule, additive or
   multiplicative weight dependence, axonal or dendritic delay); a driver population makes
   each post neuron fire once at its own time, so that the pre-post intervals cover
   -40..+40 ms. The weights read back from the machine after run() (Projection.get, the rows
   read from chip DRAM) must give dw = w_max A+ exp(-dt/tau+) for dt >= 0 and
   -w_max A- exp(dt/tau-) for dt < 0 (additive; multiplicative (w_max - w) A+ ... /
   -(w - w_min) A- ...), dt from the post spike times the machine recorded;
 - the same additive axonal protocol on pyNN.brian2 (whose STDP is axonal only): the same
   post spike times (after Brian2's -dt stamp, A1) and the same weights;
 - continuing: run(100); get(); run(100) gives the weights of one run(200);
 - bad input refused at creation, naming the item: w_min > w_max, negative A_plus, tau_minus
   0, U > 1, Vogels2011Rule tau 0, a weight outside [w_min, w_max], a distributed delay; and
   s2ctl refuses a network file with w_min > w_max or a negative a_minus, naming them.
Needs S2CTL, S2EMU, S2_FIRMWARE, S2FW_RUN; exit 77 without pyNN/Brian2.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import s2check  # noqa: E402
try:
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    import pyNN  # noqa: F401
    from pyNN.parameters import Sequence
    from pyNN import errors
except ImportError as e:
    print("test_pynn_plastic: skipped, %s" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as sim  # noqa: E402

check = s2check.Checks("{mark} {what}", ok="PASS")
DT = 0.1
P = dict(tau_plus=20.0, tau_minus=15.0, A_plus=0.01, A_minus=0.012)
W_MAX, W0, D, T_PRE = 0.01, 0.005, 1.0, 100.0
DELTAS = np.arange(-40, 41, 10.0)


def pair(s, mult=False, dendritic=0.0, parts=(200.0,), vogels=None):
    """Weights after the protocol, and each post neuron's spike times as recorded."""
    s.setup(timestep=DT, min_delay=DT)
    n = len(DELTAS)
    # the wanted interval at the synapse: axonal t_post - (t_pre + d), dendritic
    # t_post + d - t_pre; the driver's spike (delay 1 ms) fires the post neuron in the step
    # its input arrives
    shift = D if not dendritic else -D
    drv_t = [Sequence([T_PRE + shift + dl - 1.0 - DT]) for dl in DELTAS]
    pre = s.Population(n, s.SpikeSourceArray(spike_times=[Sequence([T_PRE])] * n), label="pre")
    drv = s.Population(n, s.SpikeSourceArray(spike_times=drv_t), label="drv")
    post = s.Population(n, s.IF_curr_exp(tau_refrac=30.0), label="post")
    wd = (s.MultiplicativeWeightDependence if mult else s.AdditiveWeightDependence)(
        w_min=0.0, w_max=W_MAX)
    td = s.Vogels2011Rule(**vogels) if vogels else s.SpikePairRule(**P)
    stdp = s.STDPMechanism(timing_dependence=td, weight_dependence=wd,
                           weight=W0, delay=D, dendritic_delay_fraction=dendritic)
    prj = s.Projection(pre, post, s.OneToOneConnector(), stdp)
    s.Projection(drv, post, s.OneToOneConnector(), s.StaticSynapse(weight=5.0, delay=1.0))
    post.record("spikes")
    mid = None
    for k, t in enumerate(parts):
        s.run(t)
        if k + 1 < len(parts):
            mid = np.array(prj.get("weight", format="array")).diagonal().copy()
    w = np.array(prj.get("weight", format="array")).diagonal().copy()
    lst = prj.get("weight", format="list")
    sp = [list(st.magnitude) for st in post.get_data().segments[0].spiketrains]
    s.end()
    return w, sp, mid, lst


def closed_form(t_post, mult, dendritic):
    """dw of one pair from the published rule, t_post the spike's time in the step-start
    convention (ms)."""
    out = []
    for tp in t_post:
        dl = (tp + D - T_PRE) if dendritic else (tp - (T_PRE + D))
        if dl >= 0:
            out.append(((W_MAX - W0) if mult else W_MAX) * P["A_plus"] *
                       np.exp(-dl / P["tau_plus"]))
        else:
            out.append(-((W0 - 0.0) if mult else W_MAX) * P["A_minus"] *
                       np.exp(dl / P["tau_minus"]))
    return np.array(out)


def s2_window(mult, dendritic):
    w, sp, _, lst = pair(sim, mult, dendritic)
    one = all(len(x) == 1 for x in sp)
    check(one, "s2 %s %s: every post neuron fired once (%s)"
          % ("mult" if mult else "add", "dend" if dendritic else "axon", [len(x) for x in sp]))
    if not one:
        return None, None
    t_post = np.array([x[0] for x in sp]) - DT  # s2 stamps the end of the step (A1)
    ref = closed_form(t_post, mult, dendritic)
    err = np.max(np.abs((w - W0) - ref))
    intervals = [round(float(x), 1) for x in ((t_post + D - T_PRE) if dendritic
                                              else (t_post - T_PRE - D))]
    check(err <= 1e-6 * W_MAX and len(lst) == len(DELTAS),
          "STDP window on s2emu, %s, %s delay: intervals %s ms, dw %s, max |dw - closed form| "
          "%.2g (tolerance %.2g)" % ("multiplicative" if mult else "additive",
                                     "dendritic" if dendritic else "axonal", intervals,
                                     ["%.3g" % x for x in (w - W0)], err, 1e-6 * W_MAX))
    return w, sp


def vogels_window():
    """Vogels et al. 2011 on one pair: dw = eta (exp(-|dt|/tau) - 2 rho tau), either order."""
    vp = dict(tau=20.0, eta=1e-4, rho=5.0)
    w, sp, _, _ = pair(sim, vogels=vp)
    if not all(len(x) == 1 for x in sp):
        check(False, "Vogels: every post neuron fired once")
        return
    t_post = np.array([x[0] for x in sp]) - DT
    dl = t_post - (T_PRE + D)
    ref = vp["eta"] * (np.exp(-np.abs(dl) / vp["tau"]) - 2 * vp["rho"] * vp["tau"] / 1000.0)
    err = float(np.max(np.abs((w - W0) - ref)))
    check(err <= 1e-6 * W_MAX, "Vogels2011Rule pair on s2emu: dw %s against eta (exp(-|dt|/tau)"
          " - 2 rho tau): max |diff| %.2g" % (["%.3g" % x for x in (w - W0)], err))


def tm_train():
    """TsodyksMarkramSynapse onto IF_curr_delta (a weight is a jump of v): the jumps along a
    regular train against the recursion u_n = U + u_{n-1} (1 - U) e^(-T/tau_facil),
    x_n = 1 - (1 - x_{n-1} + u_{n-1} x_{n-1}) e^(-T/tau_rec) (two states: delta synapses)."""
    U, trec, tfac, w, T, n = 0.2, 150.0, 300.0, 2.0, 20.0, 10
    sim.setup(timestep=DT)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0 + T * k for k in range(n)]))
    post = sim.Population(1, sim.IF_curr_delta(tau_m=1e4, v_rest=0.0, v_reset=0.0,
                                                v_thresh=1000.0, tau_refrac=0.1),
                          initial_values={"v": 0.0})
    sim.Projection(src, post, sim.AllToAllConnector(),
                   sim.TsodyksMarkramSynapse(U=U, tau_rec=trec, tau_facil=tfac, weight=w,
                                             delay=1.0))
    post.record("v")
    sim.run(10.0 + T * n + 5)
    v = np.asarray(post.get_data().segments[0].filter(name="v")[0]).ravel()
    sim.end()
    jumps = np.diff(v)
    jumps = jumps[np.abs(jumps) > 1e-3]  # (the leak, tau_m 10 s, moves v by < 1e-4 per step)
    ref, u, x = [], 0.0, 1.0
    for k in range(n):
        if k:
            x = 1 - (1 - x + u * x) * np.exp(-T / trec)
            u = u * np.exp(-T / tfac)
        u = u + U * (1 - u)
        ref.append(w * u * x)
    ref = np.array(ref)
    ok = len(jumps) == n and np.max(np.abs(jumps - ref)) <= w / 8000 + 1e-4
    check(ok, "TsodyksMarkramSynapse on s2emu (U %g, tau_rec %g, tau_facil %g, %d spikes every "
          "%g ms): v jumps %s against the recursion %s" % (
              U, trec, tfac, n, T, ["%.4f" % j for j in jumps], ["%.4f" % r for r in ref]))


def main():
    try:
        import pyNN.brian2 as b2
    except ImportError as e:
        print("test_pynn_plastic: skipped, %s" % e)
        return 77
    w_add, sp_add = s2_window(False, 0.0)
    s2_window(True, 0.0)
    s2_window(False, 1.0)
    vogels_window()
    tm_train()
    # pyNN.brian2 (axonal delays only): the same protocol, the same numbers
    wb, spb, _, _ = pair(b2, False, 0.0)
    if w_add is not None:
        same_t = all(len(a) == len(b) and np.allclose(np.array(a) - DT, b, atol=1e-6)
                     for a, b in zip(sp_add, spb))
        check(same_t, "post spike times identical to pyNN.brian2's (after +dt)")
        err = float(np.max(np.abs(w_add - wb)))
        check(err <= 1e-6 * W_MAX, "weights against pyNN.brian2 (additive, axonal): max "
              "|s2 - brian2| %.2g (tolerance %.2g); brian2 dw %s"
              % (err, 1e-6 * W_MAX, ["%.3g" % x for x in (wb - W0)]))
    # continuing: run(100), get(), run(100) = run(200)
    w2, _, mid, _ = pair(sim, False, 0.0, parts=(100.0, 100.0))
    if w_add is not None:
        check(np.array_equal(w2, w_add) and mid is not None and not np.array_equal(mid, w2),
              "run(100); get(); run(100) gives run(200)'s weights exactly (mid-run weights "
              "differ: %d of %d changed since)" % (int(np.sum(mid != w2)), len(w2)))
    # bad input, refused at creation, naming the item
    sim.setup(timestep=DT)
    cases = [
        ("w_min", lambda: sim.AdditiveWeightDependence(w_min=0.2, w_max=0.1)),
        ("w_min", lambda: sim.MultiplicativeWeightDependence(w_min=-0.1, w_max=0.1)),
        ("A_plus", lambda: sim.SpikePairRule(A_plus=-0.01)),
        ("tau_minus", lambda: sim.SpikePairRule(tau_minus=0.0)),
        ("U", lambda: sim.TsodyksMarkramSynapse(U=1.5)),
        ("tau", lambda: sim.Vogels2011Rule(tau=0.0)),
        ("dendritic_delay_fraction", lambda: sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(),
            dendritic_delay_fraction=0.5)),
    ]
    for name, make in cases:
        try:
            make()
            check(False, "refused: %s" % name)
        except ValueError as e:
            check(name in str(e), "refused at creation naming %s: %s" % (name, e))
    a = sim.Population(2, sim.SpikeSourceArray(spike_times=[Sequence([1.0])] * 2))
    b = sim.Population(2, sim.IF_curr_exp())
    for name, syn in (
            ("weight", sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                                         weight_dependence=sim.AdditiveWeightDependence(
                                             w_min=0.0, w_max=0.1), weight=0.5, delay=1.0)),
            ("delay", sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                                        weight_dependence=sim.AdditiveWeightDependence(
                                            w_min=0.0, w_max=0.1), weight=0.05,
                                        delay=sim.RandomDistribution("uniform", (1.0, 2.0))))):
        try:
            sim.Projection(a, b, sim.AllToAllConnector(), syn)
            check(False, "Projection refused: %s" % name)
        except errors.ConnectionError as e:
            check(name in str(e), "Projection refused naming the %s: %s" % (name, e))
    sim.end()
    # s2ctl refuses a network file with bad plastic parameters, naming them
    s2ctl = os.environ["S2CTL"]
    base = {"format": 1, "name": "bad", "timestep_ms": 0.1, "run_ms": 10,
            "populations": [{"label": "a", "model": "spike_source_array", "size": 1,
                             "spike_times": [[1.0]]},
                            {"label": "b", "model": "lif_curr_exp", "size": 1}],
            "projections": [{"pre": "a", "post": "b", "connector": {"type": "all_to_all"},
                             "weight": 0.05, "delay": 1.0, "receptor": "excitatory",
                             "synapse": {"rule": "stdp", "weight_dependence": "additive",
                                         "w_min": 0.0, "w_max": 0.1, "tau_plus_ms": 20,
                                         "tau_minus_ms": 20, "a_plus": 0.01,
                                         "a_minus": 0.01}}]}
    with tempfile.TemporaryDirectory() as wd:
        for key, val in (("w_min", 0.5), ("a_minus", -0.01), ("tau_plus_ms", 0)):
            net = json.loads(json.dumps(base))
            net["projections"][0]["synapse"][key] = val
            pj = os.path.join(wd, "n.json")
            with open(pj, "w") as f:
                json.dump(net, f)
            r = subprocess.run([s2ctl, "net", "convert", pj, "-o", os.path.join(wd, "n.pb")],
                               capture_output=True, text=True)
            check(r.returncode != 0 and key in r.stderr,
                  "s2ctl net convert refuses %s = %g (exit %d): %s"
                  % (key, val, r.returncode, r.stderr.strip()))
        # and the good one converts, to JSON and back, with its rule
        pj = os.path.join(wd, "n.json")
        with open(pj, "w") as f:
            json.dump(base, f)
        r = subprocess.run([s2ctl, "net", "convert", pj, "-o", os.path.join(wd, "n.pb")],
                           capture_output=True, text=True)
        r2 = subprocess.run([s2ctl, "net", "convert", os.path.join(wd, "n.pb"), "-o",
                             os.path.join(wd, "m.json")], capture_output=True, text=True)
        back = json.load(open(os.path.join(wd, "m.json"))) if r2.returncode == 0 else {}
        syn = back.get("projections", [{}])[0].get("synapse", {})
        check(r.returncode == 0 and syn.get("rule") == "stdp" and syn.get("a_plus") == 0.01,
              "a plastic projection converts JSON -> binary -> JSON unchanged (%s)" % syn)
    print("%d failed" % len(check.failed))
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
