#!/usr/bin/env python3
"""pyNN.s2 connections known on the host (docs/pynn.md, "Reading connections back").

Projection.size()/get()/save()/.connections compute the synapses with the host build of the
engine's own expansion (s2fw-run connections). Checked two ways, neither against the host
computation itself:
 - spike propagation on s2emu: 40 SpikeSourceArray neurons each fire alone (neuron i at
   5 + 10 i ms) into a post population through strong synapses (16-24 nA, tau_syn one
   step, threshold 1 mV above rest: one input fires the post neuron in the step it acts;
   refractory 3 steps, so a second synapse of a pair within 3 steps is not seen).
   Every post spike then names a (pre, post, delay) triple the machine really has; the set of
   triples seen must equal the set get() returns, for each statistical connector (fixed
   probability, fixed number pre with uniform delays, fixed number post with uniform
   weights, fixed total on views, all-to-all on a view, one-to-one), on post populations of
   two PEs each;
 - the connectors' statistics: fixed probability p within 5 s.d. of the binomial mean;
   fixed number pre / post exactly n per post / pre neuron, without duplicates, and without
   self-connections when they are not allowed (n others, as PyNN); fixed total exactly n,
   inside the views; all-to-all n (n - 1) without self; uniform weights inside [low, high]
   (to the weight unit) with their mean within 5 s.e.; delays whole timesteps inside the
   range; a FromListConnector read back as given (to the weight unit).
Also save() writes the list. Needs S2CTL, S2EMU, S2_FIRMWARE, S2FW_RUN (ctest sets them);
exit 77 without pyNN.
"""
import os
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
except ImportError as e:
    print("test_pynn_connections: skipped, %s" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as sim  # noqa: E402

check = s2check.Checks("{mark} {what}", ok="PASS")


N_PRE, GAP, T0 = 40, 10.0, 5.0
DT = 0.1


def propagation():
    sim.setup(timestep=DT, min_delay=DT, seed=11)
    pre = sim.Population(N_PRE, sim.SpikeSourceArray(
        spike_times=[Sequence([T0 + GAP * i]) for i in range(N_PRE)]), label="pre")
    # one input fires a post neuron in the step it acts (+5 mV there, threshold 1 mV above
    # rest); the refractory period (3 steps) outlasts the synaptic current (tau 1 step)
    cell = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-64.0,
                tau_refrac=3 * DT, tau_syn_E=DT, tau_syn_I=DT)
    U = sim.RandomDistribution("uniform", (0.1, 6.0))
    specs = [
        ("fixed_probability", sim.FixedProbabilityConnector(0.2), 20.0, 2.0, None, None),
        ("fixed_number_pre", sim.FixedNumberPreConnector(3), 20.0, U, None, None),
        ("fixed_number_post", sim.FixedNumberPostConnector(4),
         sim.RandomDistribution("uniform", (16.0, 24.0)), 1.5, None, None),
        ("fixed_total_views", sim.FixedTotalNumberConnector(60), 20.0, U,
         slice(5, 35), slice(20, 150)),
        ("all_to_all_view", sim.AllToAllConnector(), 20.0, 1.0, slice(3, 9), slice(100, 140)),
        ("one_to_one", sim.OneToOneConnector(), 20.0, U, None, slice(0, N_PRE)),
    ]
    posts, prjs = [], []
    for name, conn, w, d, ps, qs in specs:
        post = sim.Population(150, sim.IF_curr_exp(**cell), label=name)
        post.record("spikes")
        a = pre[ps] if ps else pre
        b = post[qs] if qs else post
        prjs.append(sim.Projection(a, b, conn, sim.StaticSynapse(weight=w, delay=d)))
        posts.append(post)
    got = [np.array(p.get(["delay"], format="list")).reshape(-1, 3) for p in prjs]
    sim.run(T0 + GAP * N_PRE + 10.0)
    for (name, conn, w, d, ps, qs), post, prj, lst in zip(specs, posts, prjs, got):
        pre_lo = ps.start if ps else 0
        post_lo = qs.start if qs else 0
        # a second synapse of the same pair acting within the refractory period is hidden
        delays = {}
        for i, j, dl in lst:
            delays.setdefault((int(i) + pre_lo, int(j) + post_lo), []).append(
                int(round(dl / DT)))
        want = set()
        for (i, j), ds in delays.items():
            last = None
            for dd in sorted(ds):
                if last is None or dd > last + 3:
                    want.add((i, j, dd))
                    last = dd
        seen = set()
        for j, st in enumerate(post.get_data().segments[0].spiketrains):
            for t in st.magnitude:
                # a spike at T on pre i with delay D steps acts from T + (D + 1) dt and
                # fires the post neuron in that step, stamped at its end (docs/engine.md)
                k = int(round((t - T0) / DT))
                i, rest = divmod(k, int(round(GAP / DT)))
                seen.add((i, j, rest - 2))
        check(len(want) > 0 and seen == want,
              "%s: %d synapses from get(), %d (pre, post, delay) seen spiking, %d differ"
              % (name, len(lst), len(seen), len(seen ^ want)))
    sim.end()


def statistics():
    sim.setup(timestep=DT, min_delay=DT, seed=3)
    a = sim.Population(300, sim.IF_curr_exp(), label="a")
    b = sim.Population(200, sim.IF_curr_exp(), label="b")
    c = sim.Population(250, sim.IF_cond_exp(), label="c")
    p = 0.1
    fp = sim.Projection(a, b, sim.FixedProbabilityConnector(p), sim.StaticSynapse(
        weight=sim.RandomDistribution("uniform", (0.1, 0.2)), delay=1.0))
    fpre = sim.Projection(a, a, sim.FixedNumberPreConnector(7, allow_self_connections=False),
                          sim.StaticSynapse(weight=-0.3, delay=sim.RandomDistribution(
                              "uniform", (0.5, 3.0))), receptor_type="inhibitory")
    fpost = sim.Projection(b, b, sim.FixedNumberPostConnector(
        5, allow_self_connections=False), sim.StaticSynapse(weight=0.05, delay=2.0))
    ftot = sim.Projection(a[10:20], c[5:50], sim.FixedTotalNumberConnector(100),
                          sim.StaticSynapse(weight=0.004, delay=2.0))
    ata = sim.Projection(c, c, sim.AllToAllConnector(allow_self_connections=False),
                         sim.StaticSynapse(weight=0.001, delay=0.3))
    fl = sim.Projection(b, c, sim.FromListConnector([(0, 1, 0.02, 1.0), (3, 4, 0.01, 2.0)]),
                        sim.StaticSynapse())

    n = fp.size()
    mean, sd = p * 300 * 200, (p * (1 - p) * 300 * 200) ** 0.5
    check(abs(n - mean) < 5 * sd, "fixed probability: %d synapses, expected %.0f +- %.0f"
          % (n, mean, sd))
    w = np.array(fp.get("weight", format="list", with_address=False))
    unit = 0.2 / 4000  # the weight unit is at most the largest weight / 4000 ... / 256
    check(w.min() >= 0.1 - 0.2 / 256 and w.max() <= 0.2 + 0.2 / 256,
          "fixed probability: uniform weights in [%.4f, %.4f]" % (w.min(), w.max()))
    check(abs(w.mean() - 0.15) < 5 * 0.1 / 12 ** 0.5 / len(w) ** 0.5 + unit,
          "fixed probability: mean weight %.5f (0.15)" % w.mean())

    lst = np.array(fpre.get(["weight", "delay"], format="list"))
    per_post = np.bincount(lst[:, 1].astype(int), minlength=300)
    pairs = set(map(tuple, lst[:, :2].astype(int)))
    check(set(per_post) == {7} and len(pairs) == len(lst) and
          not np.any(lst[:, 0] == lst[:, 1]),
          "fixed number pre, no self: 7 per post neuron (%s), %d duplicates, %d self"
          % (sorted(set(per_post)), len(lst) - len(pairs), np.sum(lst[:, 0] == lst[:, 1])))
    d = lst[:, 3]
    check(np.all(lst[:, 2] < 0) and np.allclose(lst[:, 2], -0.3, atol=0.3 / 256),
          "fixed number pre: inhibitory weights -0.3 (%.5f .. %.5f)"
          % (lst[:, 2].min(), lst[:, 2].max()))
    check(d.min() >= 0.5 - 1e-9 and d.max() <= 3.0 + 1e-9 and
          np.allclose(d / DT, np.round(d / DT)),
          "fixed number pre: delays whole steps in [0.5, 3.0] (%.1f .. %.1f)"
          % (d.min(), d.max()))

    lst = np.array(fpost.get([], format="list")).astype(int)
    per_pre = np.bincount(lst[:, 0], minlength=200)
    check(set(per_pre) == {5} and not np.any(lst[:, 0] == lst[:, 1]) and
          len(set(map(tuple, lst))) == len(lst),
          "fixed number post, no self, post on 2 PEs: 5 per pre neuron (%s)"
          % sorted(set(per_pre)))

    lst = np.array(ftot.get([], format="list")).astype(int)
    check(len(lst) == 100 and lst[:, 0].max() < 10 and lst[:, 1].max() < 45 and
          lst.min() >= 0, "fixed total on views: %d synapses inside 10 x 45" % len(lst))

    check(ata.size() == 250 * 249 and len(ata.connections) == 250 * 249,
          "all-to-all without self: %d synapses (%d)" % (ata.size(), 250 * 249))
    arr = ata.get("weight", format="array")
    check(np.all(np.isnan(np.diag(arr))) and np.nanmax(np.abs(arr - 0.001)) < 0.001 / 256,
          "all-to-all: array with NaN on the diagonal, weights 0.001")

    got = fl.get(["weight", "delay"], format="list")
    check(len(got) == 2 and [g[:2] for g in got] == [(0, 1), (3, 4)] and
          abs(got[0][2] - 0.02) < 0.02 / 256 and abs(got[1][2] - 0.01) < 0.02 / 256 and
          [g[3] for g in got] == [1.0, 2.0], "from list read back: %s" % (got,))

    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "fl.txt")
        fl.save(["weight", "delay"], path)
        rows = [ln.split() for ln in open(path) if not ln.startswith("#")]
        check(len(rows) == 2 and rows[1][:2] == ["3.0", "4.0"], "save(): %s" % rows)
    sim.end()


if __name__ == "__main__":
    propagation()
    statistics()
    print("test_pynn_connections: %s"
          % ("FAIL: " + "; ".join(check.failed) if check.failed else "PASS"))
    sys.exit(check.status())
