#!/usr/bin/python3
"""Hand-computed cases for tests/nir/nir_ref.py (its own sanity check, no s2 binaries).

    /usr/bin/python3 tests/nir/test_nir_ref.py

Each case is a tiny NIR file written with tools/gen_nir_fixtures.py's node helpers, with time
constants chosen so that the per-step retention is exactly 1/2 (tau = dt / ln 2 for the exact
integrator, tau = 2 dt for Euler) and the expected spikes and voltages worked out by hand in
the docstrings below. Exits 1 on a mismatch, 77 without numpy or h5py.
"""

import math
import os
import sys
import tempfile

try:
    import h5py  # noqa: F401
    import numpy as np
except ImportError:
    print("SKIP: numpy or h5py missing")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import gen_nir_fixtures as g  # noqa: E402
import nir_ref  # noqa: E402

DT = 0.001
HALF = DT / math.log(2)  # exp(-dt/tau) = 1/2
FAILS = []


def run(name, nodes, edges, raster, **kw):
    d = tempfile.mkdtemp()
    path = os.path.join(d, name + ".nir")
    g.write_nir(path, g.n_graph(nodes, edges))
    np.save(os.path.join(d, "in.npy"), raster.astype(np.uint8))
    return nir_ref.simulate(path, ["input=" + os.path.join(d, "in.npy")], DT,
                            kw.get("reset", "subtract"), kw.get("integrator", "exact"),
                            kw.get("steps"))


def expect(what, got, want):
    ok = (np.allclose(got, want, rtol=0, atol=1e-6) if isinstance(want, np.ndarray)
          else got == want)
    print(("ok   - " if ok else "FAIL - ") + what + ("" if ok else f": got {got}, want {want}"))
    if not ok:
        FAILS.append(what)


def steps_of(out, pop):
    return [s[1] for s in out["populations"][pop]["spikes"]]


def lif1(tau=HALF, r=2.0, vth=1.0):
    return g.n_lif([tau], [r], [0.0], [vth])


def main():
    on = np.ones((10, 1))
    lin = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    base = {"input": g.n_input((1,)), "fc": g.n_affine([[0.6]], [0.0]), "lif": lif1(),
            "output": g.n_output((1,))}
    # An input spike in every step 0..9, weight 0.6, a_v = 1/2, g_v = 1: v = 0 in step 0
    # (delivery takes a step), 0.6, 0.9, 1.05 > 1: a spike in step 3; after it v = 0.05
    # (subtract) or 0 (zero): 0.625 / 0.6, 0.9125 / 0.9, 1.056 / 1.05: steps 6 and 9.
    for reset in ("subtract", "zero"):
        out = run("lif", base, lin, on, reset=reset, steps=12)
        expect(f"LIF exact, reset {reset}: spikes in steps 3, 6, 9", steps_of(out, "lif"),
               [3, 6, 9])
    # Euler with tau = 2 dt: a_v = 1 - dt/tau = 1/2, g_v = dt/tau * r = 1: the same.
    b2 = dict(base, lif=lif1(tau=2 * DT))
    out = run("lif_euler", b2, lin, on, integrator="euler", steps=12)
    expect("LIF Euler (tau = 2 dt): spikes in steps 3, 6, 9", steps_of(out, "lif"), [3, 6, 9])
    # The same with the exact integrator and tau = 2 dt: a_v = e^-0.5 = 0.6065, g_v = 0.787,
    # g_v x = 0.472: v = 0.472, 0.758, 0.932, 1.037 -> a spike in step 4, v = 0.037, then
    # 0.494, 0.772, 0.940, 1.042 -> step 8.
    out = run("lif_exact2", b2, lin, np.ones((12, 1)), steps=9)
    expect("LIF exact (tau = 2 dt): spikes in steps 4, 8", steps_of(out, "lif"), [4, 8])
    # A Delay of 2 ms before the Affine: 3 steps of delivery instead of 1.
    b3 = dict(base, delay=g.n_delay([0.002]))
    out = run("delay", b3, [("input", "delay"), ("delay", "fc")] + lin[1:], on, steps=12)
    expect("Delay 2 ms: spikes in steps 5, 8, 11", steps_of(out, "lif"), [5, 8, 11])
    # Excitatory 0.6 and inhibitory 0.3 every step: x = 0.3, v -> 0.6 < 1: no spike; and the
    # two receptors' units: w_e = 0.6/4000, w_i = 0.3/4000.
    b4 = {"input": g.n_input((2,)), "fc": g.n_affine([[0.6, -0.3]], [0.0]), "lif": lif1(),
          "output": g.n_output((1,))}
    out = run("inh", b4, lin, np.ones((10, 2)), steps=12)
    expect("excitatory 0.6 and inhibitory 0.3: no spike", steps_of(out, "lif"), [])
    p = out["populations"]["lif"]
    expect("w_e = 0.6/4000, w_i = 0.3/4000 (float32)", (p["w_e"], p["w_i"]),
           (float(np.float32(0.6 / 4000)), float(np.float32(0.3 / 4000))))
    # A bias alone into an IF (r dt = 1): v = 0.3 per step from step 0: 0.3, 0.6, 0.9, 1.2 ->
    # a spike in step 3, v = 0.2 (subtract), 0.5, 0.8, 1.1 -> step 6.
    b5 = {"input": g.n_input((1,)), "fc": g.n_affine([[0.5]], [0.3]),
          "lif": g.n_if([1000.0], [1.0]), "output": g.n_output((1,))}
    out = run("bias", b5, lin, np.zeros((8, 1)), steps=8)
    expect("a bias of 0.3 into an IF: spikes in steps 3, 6", steps_of(out, "lif"), [3, 6])
    # CubaLI, retention 1/2 for i and v, w_in = 2, r = 1: one spike in step 0, weight 1:
    # step 1: i = 0.5 * 2 * 1 = 1, v = 0.5; step 2: i = 0.5, v = 0.25 + 0.25 = 0.5;
    # step 3: i = 0.25, v = 0.375; step 4: i = 0.125, v = 0.25.
    b6 = {"input": g.n_input((1,)), "fc": g.n_affine([[1.0]], [0.0]),
          "lif": {"type": "CubaLI", "tau_syn": np.float32([HALF]),
                  "tau_mem": np.float32([HALF]), "r": np.float32([1.0]),
                  "v_leak": np.float32([0.0]), "w_in": np.float32([2.0])},
          "output": g.n_output((1,))}
    ras = np.zeros((6, 1))
    ras[0] = 1
    out = run("cubali", b6, lin, ras)
    expect("CubaLI read-out v", np.asarray(out["populations"]["lif"]["v"])[:5, 0],
           np.array([0.0, 0.5, 0.5, 0.375, 0.25]))
    # Two parallel paths into the same neuron (0.4 direct, 0.2 via a Scale of 0.5): summed
    # into one synapse of 0.5: v = 0.5, 0.75, 0.875, ... -> 1: no spike.
    b7 = {"input": g.n_input((1,)), "fc": g.n_affine([[0.4]], [0.0]),
          "sc": g.n_scale([0.5]), "fc2": g.n_linear([[0.2]]), "lif": lif1(r=2.0),
          "output": g.n_output((1,))}
    e7 = [("input", "fc"), ("input", "fc2"), ("fc2", "sc"), ("fc", "lif"), ("sc", "lif"),
          ("lif", "output")]
    out = run("parallel", b7, e7, np.ones((20, 1)))
    expect("parallel paths summed (0.4 + 0.1 = 0.5): no spike", steps_of(out, "lif"), [])
    # A neuron exciting itself: a bias of 0.45 (g_v = 1, a_v = 1/2: fixed point 0.9) never
    # fires alone; one input spike in step 0 (weight 0.5) gives v = 0.225 + 0.45 + 0.5 > 1 in
    # step 1; after it v = 0.175 -> 0.54, 0.72, ...: no more spikes without the loop. With a
    # self-synapse of 0.6 (arriving the next step) v = 0.0875 + 0.45 + 0.6 = 1.14 in step 2,
    # and so in every step after. (Units: w_e = 0.6/4000, 0.5 is 3333 units = 0.49995.)
    b8 = {"input": g.n_input((1,)), "fc": g.n_affine([[0.5]], [0.45]),
          "rec": g.n_linear([[0.6]]), "lif": lif1(r=2.0), "output": g.n_output((1,))}
    e8 = [("input", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")]
    ras = np.zeros((8, 1))
    ras[0] = 1
    out = run("self", b8, e8, ras)
    expect("a self-exciting neuron: spikes in steps 1..7", steps_of(out, "lif"),
           list(range(1, 8)))
    out = run("noself", b8, [e for e in e8 if "rec" not in e], ras)
    expect("the same without the loop: a spike in step 1 only", steps_of(out, "lif"), [1])
    # The dense maps of Conv2d (padding 1, stride 1 and 2) and SumPool2d against numpy's
    # sliding windows.
    rng = np.random.default_rng(0)
    x = rng.random((2, 7, 7))
    w = rng.normal(size=(3, 2, 3, 3))
    for stride in (1, 2):
        m, shape = nir_ref.conv_matrix(w, (2, 7, 7), stride, 1, 1, 1)
        win = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (1, 1), (1, 1))),
                                                       (3, 3), axis=(1, 2))[:, ::stride, ::stride]
        want = np.einsum("cyxij,ocij->oyx", win, w)
        expect(f"Conv2d k3 pad 1 stride {stride} as a matrix", (m @ x.ravel()).reshape(shape),
               want)
    m, shape = nir_ref.pool_matrix((2, 7, 7), 2, 2, 0, False)
    want = x[:, :6, :6].reshape(2, 3, 2, 3, 2).sum(axis=(2, 4))
    expect("SumPool2d 2 as a matrix", (m @ x.ravel()).reshape(shape), want)
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
