#!/usr/bin/env python3
"""pyNN.s2 space, positions and distance (docs/pynn.md, "Space, positions and distance").

Populations with PyNN structures (Grid2D, Line, RandomStructure), projections with PyNN's
Space (3D, one axis, periodic boundaries), DistanceDependentProbabilityConnector with string
and callable expressions, and weights and delays as expressions of distance on other
connectors. pyNN.s2 expands these on the host with PyNN's own connector code and sends them
as explicit lists. Checked against references that are not pyNN.s2's own output:
 - positions against NumPy's own grid/line formulas;
 - the connection count of "exp(-d/100)" against the sum over all pairs of p(d) computed
   with NumPy from those positions (within 5 s.d. of the Poisson-binomial law), and the
   distribution of the connected pairs' distances, bin by bin, against the same sums;
 - "d < 120" with periodic boundaries: exactly the pairs NumPy finds within 120 um with
   wrap-around distances;
 - the same connector with the same NumpyRNG seed built by pyNN.brian2 (when installed):
   the same set of connections;
 - weights and delays read back (Projection.get) against the expressions evaluated with
   NumPy at each pair's distance (weights to the PE's weight unit, delays to whole steps);
 - the machine: spike sources fire one at a time through a DistanceDependentProbability
   projection with distance-dependent delays; every post spike names a (pre, post, delay)
   the PEs hold; the set seen equals the set get() returns;
 - a learning projection (STDP) with delays as an expression of distance travels as one
   network projection per delay: get() against NumPy, and it runs;
 - bad expressions are refused with a ConnectionError naming the projection.
Needs S2CTL, S2EMU, S2_FIRMWARE, S2FW_RUN (ctest sets them); exit 77 without pyNN.
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
    from pyNN import errors
    from pyNN.parameters import Sequence
    from pyNN.space import Grid2D, Line, RandomStructure, Cuboid, Space
    from pyNN.random import NumpyRNG
except ImportError as e:
    print("test_pynn_space: skipped, %s" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as sim  # noqa: E402

check = s2check.Checks("{mark} {what}", ok="PASS")
DT = 0.1


def grid(n, dx, dy, x0=0.0, y0=0.0):
    """NumPy's own Grid2D (aspect ratio 1, sequential): k -> (x0 + dx (k // ny), y0 + dy
    (k % ny), 0)."""
    nx = int(round(n ** 0.5))
    ny = n // nx
    k = np.arange(n)
    return np.array([x0 + dx * (k // ny), y0 + dy * (k % ny), np.zeros(n)])


def dist(a, b, periodic=None):
    """Pairwise distances (pre x post) of positions a (3, n) and b (3, m)."""
    d2 = np.zeros((a.shape[1], b.shape[1]))
    for ax in range(3):
        diff = np.abs(a[ax][:, None] - b[ax][None, :])
        if periodic is not None and periodic[ax] is not None:
            span = periodic[ax][1] - periodic[ax][0]
            diff = np.minimum(diff, span - diff)
        d2 += diff ** 2
    return np.sqrt(d2)


def steps_ok(got, exact):
    """Delays held as whole timesteps: the nearest step to the exact value (an exact value
    on a half step, 0.25 ms at 0.1 ms, to either neighbour: the float sum decides)."""
    x = np.asarray(exact) / DT
    k = np.asarray(got) / DT
    near = np.abs(k - np.round(x)) < 1e-6
    tie = (np.abs(x - np.floor(x) - 0.5) < 1e-6) & (np.abs(k - x) < 0.5 + 1e-6)
    return bool(np.all(near | tie))


def pairs(prj):
    lst = np.array(prj.get([], format="list"), dtype=float)
    return lst.reshape(len(lst), -1)[:, :2].astype(int)


def statistics():
    sim.setup(timestep=DT, min_delay=DT, seed=5)
    pa, pb = grid(400, 50.0, 50.0), grid(400, 50.0, 50.0, 25.0, 25.0)
    a = sim.Population(400, sim.IF_curr_exp(), structure=Grid2D(dx=50.0, dy=50.0), label="a")
    b = sim.Population(400, sim.IF_curr_exp(), label="b",
                       structure=Grid2D(dx=50.0, dy=50.0, x0=25.0, y0=25.0))
    c = sim.Population(50, sim.IF_cond_exp(), structure=Line(dx=20.0, y=100.0), label="c")
    r = sim.Population(60, sim.IF_curr_exp(), label="r",
                       structure=RandomStructure(Cuboid(400, 300, 200), rng=NumpyRNG(4)))
    check(np.array_equal(a.positions, pa) and np.array_equal(b.positions, pb),
          "Grid2D positions are NumPy's grid (20 x 20, dx = dy = 50 um)")
    pc = np.array([20.0 * np.arange(50), np.full(50, 100.0), np.zeros(50)])
    check(np.array_equal(c.positions, pc), "Line positions (dx 20 um, y 100 um)")
    rp = r.positions
    check(np.all(np.abs(rp[0]) <= 200) and np.all(np.abs(rp[1]) <= 150) and
          np.all(np.abs(rp[2]) <= 100) and len(set(map(tuple, rp.T))) == 60,
          "RandomStructure positions inside the 400 x 300 x 200 cuboid, all different")

    # exp(-d/100) between two grids, 3D Euclidean space
    e1 = sim.Projection(a, b, sim.DistanceDependentProbabilityConnector("exp(-d/100)"),
                        sim.StaticSynapse(weight=0.1, delay=1.0), label="e1")
    D = dist(pa, pb)
    P = np.exp(-D / 100.0)
    got = pairs(e1)
    mean, sd = P.sum(), np.sqrt((P * (1 - P)).sum())
    check(abs(len(got) - mean) < 5 * sd,
          "exp(-d/100): %d connections, expected %.1f +- %.1f (sum of p(d) over pairs)"
          % (len(got), mean, sd))
    check(len(set(map(tuple, got))) == len(got), "exp(-d/100): no pair twice")
    dc = D[got[:, 0], got[:, 1]]
    edges = np.array([0, 40, 60, 80, 100, 150, 200, 300, 2000])
    obs = np.histogram(dc, edges)[0]
    bins = np.digitize(D.ravel(), edges) - 1
    exp_ = np.bincount(bins, weights=P.ravel(), minlength=len(edges))[:len(edges) - 1]
    var = np.bincount(bins, weights=(P * (1 - P)).ravel(), minlength=len(edges))[
        :len(edges) - 1]
    z = (obs - exp_) / np.sqrt(np.maximum(var, 1e-9))
    chi2 = float(np.sum(z ** 2))
    check(np.all(np.abs(z) < 5) and chi2 < 30,
          "exp(-d/100): distance distribution per bin %s observed %s expected %s "
          "(max |z| %.2f, chi2 %.1f on %d bins)"
          % (list(edges), obs.tolist(), np.round(exp_, 1).tolist(), np.abs(z).max(), chi2,
             len(obs)))

    # d < 120 with periodic boundaries in x and y (a 1000 x 1000 um torus): deterministic
    per = ((0, 1000), (0, 1000), None)
    e2 = sim.Projection(a, b, sim.DistanceDependentProbabilityConnector("d<120"),
                        sim.StaticSynapse(weight=0.1, delay=1.0),
                        space=Space(periodic_boundaries=per), label="e2")
    want = set(zip(*np.nonzero(dist(pa, pb, per) < 120)))
    want_flat = set(zip(*np.nonzero(dist(pa, pb) < 120)))
    got2 = set(map(tuple, pairs(e2)))
    check(got2 == want and len(want) > len(want_flat),
          "d<120 on a 1000 um torus: %d connections, NumPy's wrap-around pairs %d (%d "
          "without wrap-around), %d differ" % (len(got2), len(want), len(want_flat),
                                               len(got2 ^ want)))

    # a callable probability, on one axis; self-connections refused within a population
    e3 = sim.Projection(a, a, sim.DistanceDependentProbabilityConnector(
        lambda d: 0.5 * (d < 160), allow_self_connections=False),
        sim.StaticSynapse(weight=0.1, delay=1.0), space=Space(axes="x"), label="e3")
    Dx = dist(pa * np.array([[1], [0], [0]]), pa * np.array([[1], [0], [0]]))
    Px = 0.5 * (Dx < 160)
    np.fill_diagonal(Px, 0)
    got3 = pairs(e3)
    mean, sd = Px.sum(), np.sqrt((Px * (1 - Px)).sum())
    check(abs(len(got3) - mean) < 5 * sd and np.all(Dx[got3[:, 0], got3[:, 1]] < 160) and
          not np.any(got3[:, 0] == got3[:, 1]),
          "callable 0.5*(d<160) on axis x, no self: %d connections, expected %.0f +- %.0f, "
          "all within 160 um in x" % (len(got3), mean, sd))

    # weights and delays as expressions of distance on other connectors
    # (PyNN evaluates a weight string with Python's builtins only: no exp there)
    wexp = "0.05/(1+d/300)"
    # onto a population of its own, so that its weight unit is its own (docs/engine.md)
    b2 = sim.Population(400, sim.IF_curr_exp(), label="b2",
                        structure=Grid2D(dx=50.0, dy=50.0, x0=25.0, y0=25.0))
    f1 = sim.Projection(a, b2, sim.FixedProbabilityConnector(0.3), sim.StaticSynapse(
        weight=wexp, delay=lambda d: 0.1 + 0.002 * d), label="f1")
    lst = np.array(f1.get(["weight", "delay"], format="list"))
    i, j = lst[:, 0].astype(int), lst[:, 1].astype(int)
    w_ref = 0.05 / (1 + D[i, j] / 300.0)
    d_ref = np.round((0.1 + 0.002 * D[i, j]) / DT) * DT  # (ties either way: steps_ok)
    n_all = 400 * 400
    check(abs(len(lst) - 0.3 * n_all) < 5 * np.sqrt(0.3 * 0.7 * n_all) and
          np.max(np.abs(lst[:, 2] - w_ref)) <= 0.05 / 256 and
          steps_ok(lst[:, 3], 0.1 + 0.002 * D[i, j]),
          "fixed probability with weight '%s', delay lambda d: 0.1+0.002*d: %d synapses, "
          "weights max |diff| %.2g nA (of 0.05), delays max |diff| %.2g ms"
          % (wexp, len(lst), np.max(np.abs(lst[:, 2] - w_ref)),
             np.max(np.abs(lst[:, 3] - d_ref))))
    Dc = dist(pa, pc)
    f2 = sim.Projection(a, c, sim.AllToAllConnector(), sim.StaticSynapse(
        weight="0.002 + 0.01*(d < 300)", delay="0.1+0.001*d"), receptor_type="inhibitory",
        label="f2")
    arr_w, arr_d = f2.get(["weight", "delay"], format="array")
    check(np.max(np.abs(arr_w - (0.002 + 0.01 * (Dc < 300)))) <= 0.012 / 256 and
          steps_ok(arr_d, 0.1 + 0.001 * Dc),
          "all-to-all onto IF_cond_exp (inhibitory) with weight and delay strings: "
          "%d x %d array equal to NumPy's expressions (weights max |diff| %.2g of 0.012)"
          % (arr_w.shape + (np.max(np.abs(arr_w - (0.002 + 0.01 * (Dc < 300)))),)))
    f3 = sim.Projection(b, a, sim.OneToOneConnector(), sim.StaticSynapse(
        weight=lambda d: -0.1 * np.exp(-d / 50), delay=1.0), receptor_type="inhibitory",
        label="f3")
    lst = np.array(f3.get(["weight"], format="list"))
    Dd = np.diag(dist(pb, pa))
    check(len(lst) == 400 and np.max(np.abs(lst[:, 2] + 0.1 * np.exp(-Dd / 50))) <= 1e-4,
          "one-to-one onto IF_curr_exp (inhibitory, negative weight callable): 400 synapses, "
          "weights -0.1 exp(-d/50) to the weight unit")
    sim.end()


def against_brian2():
    """The same connector, positions and NumpyRNG seed on pyNN.brian2: same connections."""
    try:
        import pyNN.brian2 as b2
    except ImportError as e:
        print("SKIP against pyNN.brian2: %s" % e)
        return
    out = []
    for s in (sim, b2):
        s.setup(timestep=DT, min_delay=DT)
        x = s.Population(100, s.IF_curr_exp(), structure=Grid2D(dx=30.0, dy=30.0))
        y = s.Population(100, s.IF_curr_exp(), structure=Grid2D(dx=30.0, dy=30.0, x0=10.0))
        prj = s.Projection(x, y, s.DistanceDependentProbabilityConnector(
            "exp(-d**2/1e4)", rng=NumpyRNG(seed=77)),
            s.StaticSynapse(weight="0.02+0.0001*d", delay="0.1+0.01*d"))
        lst = np.array(prj.get(["weight", "delay"], format="list"))
        out.append(lst[np.lexsort((lst[:, 0], lst[:, 1]))])
        s.end()
    a, b = out
    same = a.shape == b.shape and np.array_equal(a[:, :2], b[:, :2])
    check(same and np.max(np.abs(a[:, 2] - b[:, 2])) <= b[:, 2].max() / 2000 and
          np.max(np.abs(a[:, 3] - b[:, 3])) < 1e-9,
          "same seed as pyNN.brian2: %d / %d connections, same pairs: %s, weights max "
          "|diff| %.2g, delays max |diff| %.2g" % (
              len(a), len(b), same, np.max(np.abs(a[:, 2] - b[:, 2])) if same else -1,
              np.max(np.abs(a[:, 3] - b[:, 3])) if same else -1))


N_PRE, GAP, T0 = 30, 10.0, 5.0


def on_the_machine():
    """Each pre source fires alone; one input fires a post neuron in the step it acts, so
    each post spike names a (pre, post, delay) the PEs hold (as test_pynn_connections)."""
    sim.setup(timestep=DT, min_delay=DT, seed=9)
    pre = sim.Population(N_PRE, sim.SpikeSourceArray(
        spike_times=[Sequence([T0 + GAP * i]) for i in range(N_PRE)]),
        structure=Line(dx=100.0), label="pre")
    cell = dict(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-64.0,
                tau_refrac=3 * DT, tau_syn_E=DT, tau_syn_I=DT)
    post = sim.Population(150, sim.IF_curr_exp(**cell), structure=Line(dx=20.0, y=50.0),
                          label="post")
    post.record("spikes")
    prj = sim.Projection(pre, post, sim.DistanceDependentProbabilityConnector(
        "exp(-d/400)"), sim.StaticSynapse(weight=20.0, delay="0.1+0.002*d"), label="machine")
    none = sim.Projection(pre, post, sim.DistanceDependentProbabilityConnector("d<0"),
                          sim.StaticSynapse(weight=20.0, delay=1.0), label="none")
    lst = np.array(prj.get(["delay"], format="list")).reshape(-1, 3)
    want = {(int(i), int(j), int(round(dl / DT))) for i, j, dl in lst}
    sim.run(T0 + GAP * N_PRE + 10.0)
    check(none.size() == 0, "a distance rule that connects nothing: 0 synapses, and it runs")
    seen = set()
    for j, st in enumerate(post.get_data().segments[0].spiketrains):
        for t in st.magnitude:
            k = int(round((t - T0) / DT))
            i, rest = divmod(k, int(round(GAP / DT)))
            seen.add((i, j, rest - 2))
    dls = sorted({w[2] for w in want})
    check(len(want) > 100 and seen == want and len(dls) > 10,
          "on s2emu: %d synapses from get() (delays %d-%d steps), %d (pre, post, delay) "
          "seen spiking, %d differ" % (len(want), dls[0], dls[-1], len(seen),
                                       len(seen ^ want)))
    sim.end()


def plastic_delays():
    """A learning projection with delays as an expression of distance (PyNN's stdp_network):
    one network projection per delay (the engine keeps one delay per plastic projection);
    get() gives every synapse with its own delay, and the network runs."""
    sim.setup(timestep=DT, min_delay=DT, seed=2)
    cells = sim.Population(100, sim.IF_cond_exp(), structure=Grid2D(dx=50.0, dy=50.0),
                           label="cells")
    src = sim.Population(20, sim.SpikeSourcePoisson(rate=200.0), label="src")
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                            A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.04),
        weight=0.01, delay="0.1+0.001*d")
    prj = sim.Projection(cells[:80], cells, sim.DistanceDependentProbabilityConnector(
        "exp(-d**2/1e4)"), stdp, label="stdp")
    sim.Projection(src, cells, sim.FixedNumberPostConnector(20),
                   sim.StaticSynapse(weight=0.3, delay=0.1))
    lst = np.array(prj.get(["weight", "delay"], format="list"))
    i, j = lst[:, 0].astype(int), lst[:, 1].astype(int)
    D = dist(cells.positions[:, :80], cells.positions)
    nparts = len(prj._s2_descriptions())
    ok = steps_ok(lst[:, 3], 0.1 + 0.001 * D[i, j]) and np.allclose(lst[:, 2], 0.01,
                                                                       atol=0.04 / 256)
    cells.record("spikes")
    sim.run(50.0)
    after = np.array(prj.get(["weight"], format="list"))
    n_sp = sum(len(st) for st in cells.get_data().segments[0].spiketrains)
    sim.end()
    check(ok and nparts >= 2 and len(after) == len(lst) and n_sp > 0 and
          np.any(np.abs(after[:, 2] - 0.01) > 1e-4),
          "STDP with delay '0.1+0.001*d': %d synapses in %d network projections (one per "
          "delay), get() delays equal NumPy's (to the step), weights 0.01; ran 50 ms (%d "
          "spikes), %d learned weights read back (%.4f .. %.4f)" % (
              len(lst), nparts, n_sp, len(after), after[:, 2].min(), after[:, 2].max()))


def bad_input():
    sim.setup(timestep=DT, min_delay=DT)
    a = sim.Population(25, sim.IF_curr_exp(), structure=Grid2D(dx=100.0, dy=100.0), label="A")
    b = sim.Population(25, sim.IF_cond_exp(), structure=Grid2D(dx=100.0, dy=100.0), label="B")
    cases = [
        ("negative excitatory weight expression", a, a,
         sim.AllToAllConnector(), dict(weight="-0.1*d", delay=1.0), "excitatory",
         "weight"),
        ("delay expression beyond 64 steps", a, b, sim.FixedProbabilityConnector(0.5),
         dict(weight=0.01, delay="0.1+0.1*d"), "excitatory", "delay"),
        ("NaN probability", a, b, sim.DistanceDependentProbabilityConnector(
            "abs((d-100)/(d-100))"), dict(weight=0.01, delay=1.0), "excitatory", "NaN"),
        ("NaN weight (PyNN's own check)", a, b, sim.AllToAllConnector(), dict(
            weight="0.01*(d-100)/(d-100)", delay=1.0), "excitatory", "Weights"),
        ("NaN delay", a, b, sim.AllToAllConnector(), dict(
            weight=0.01, delay="0.1+(d-100)/(d-100)"), "excitatory", "not finite"),
        ("weight expression that raises", a, b, sim.AllToAllConnector(), dict(
            weight=lambda d: d.no_such_thing, delay=1.0), "excitatory", "AttributeError"),
    ]
    for what, x, y, conn, syn, rec, word in cases:
        label = "bad: " + what
        try:
            sim.Projection(x, y, conn, sim.StaticSynapse(**syn), receptor_type=rec,
                           label=label)
            check(False, "%s: accepted" % what)
        except errors.ConnectionError as e:
            msg = str(e)
            check(label in msg and word in msg, "%s refused: %s" % (what, msg))
    sim.end()


if __name__ == "__main__":
    statistics()
    on_the_machine()
    plastic_delays()
    bad_input()
    against_brian2()
    print("test_pynn_space: %s"
          % ("FAIL: " + "; ".join(check.failed) if check.failed else "PASS"))
    sys.exit(check.status())
