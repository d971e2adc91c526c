#!/usr/bin/env python3
"""Vogels-Abbott CUBA benchmark: the engine (s2fw-run va) against PyNN + Brian2.

    python3 tests/reference/ref_va.py [PATH/TO/s2fw-run] [--seeds N] [--duration MS] [--n N]

The network of PyNN's examples/VAbenchmarks.py, benchmark CUBA (Brette et al. 2007), written
from its parameters (the example is not shipped by Debian's python3-pynn): 4000 IF_curr_exp
cells, 80 % excitatory, all-to-all p = 0.02 (FixedProbabilityConnector, the four
projections e->e, e->i, i->e, i->i), v_rest (E_leak) -49, v_thresh -50, v_reset -60 mV,
tau_m 20 ms, cm 0.2 nF, tau_refrac 5 ms, tau_syn_E 5, tau_syn_I 10 ms,
w_exc = 1e-3 * 0.27 * (0 - -60) nA, w_inh = 1e-3 * 4.5 * (-80 - -60) nA (negative: PyNN's
current-based inhibition), delay 0.2 ms, dt 0.1 ms, v_init uniform(-60, -50), and 20
SpikeSourcePoisson cells at 100 Hz for the first 50 ms connected to all cells with p = 0.01
and w_exc. Run for 1 s; the mean rates of the excitatory and inhibitory cells (spikes per
cell per second) are compared with `s2fw-run va --json` (rate_exc, rate_inh).

The network is chaotic: single runs differ from seed to seed on both sides, so the rates are
averaged over N seeds (default 3) on each side; the seeds of the two sides are unrelated
(different generators). Pass: each mean rate of the engine within 10 % of the reference's.
"""

import json
import os
import subprocess
import sys
import time

try:
    import numpy  # noqa: F401
    import pyNN  # noqa: F401
    import brian2  # noqa: F401
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import warnings

warnings.filterwarnings("ignore")
import logging  # noqa: E402

logging.getLogger("brian2").setLevel(logging.ERROR)
logging.getLogger("PyNN").setLevel(logging.ERROR)
import numpy as np  # noqa: E402
from brian2 import prefs  # noqa: E402

prefs.codegen.target = "numpy"
import pyNN.brian2 as sim  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

TOL = 0.10


def reference(n, duration, seed):
    dt = 0.1
    sim.setup(timestep=dt, min_delay=0.1, max_delay=1.0)
    n_exc = int(round(n * 4 / 5))
    n_inh = n - n_exc
    cell = dict(cm=0.2, tau_m=20.0, tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0,
                v_rest=-49.0, v_reset=-60.0, v_thresh=-50.0, i_offset=0.0)
    v_mean = -60.0
    w_exc = 1e-3 * 0.27 * (0.0 - v_mean)
    w_inh = 1e-3 * 4.5 * (-80.0 - v_mean)
    rng = NumpyRNG(seed=seed)
    all_cells = sim.Population(n_exc + n_inh, sim.IF_curr_exp(**cell), label="All")
    exc_cells = all_cells[:n_exc]
    inh_cells = all_cells[n_exc:]
    all_cells.initialize(v=RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
    ext = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0), label="stim")
    conn = sim.FixedProbabilityConnector(0.02, rng=rng)
    ext_conn = sim.FixedProbabilityConnector(0.01, rng=rng)
    es = sim.StaticSynapse(weight=w_exc, delay=0.2)
    is_ = sim.StaticSynapse(weight=w_inh, delay=0.2)
    for pre, post, syn, rec in ((exc_cells, exc_cells, es, "excitatory"),
                                (exc_cells, inh_cells, es, "excitatory"),
                                (inh_cells, exc_cells, is_, "inhibitory"),
                                (inh_cells, inh_cells, is_, "inhibitory")):
        sim.Projection(pre, post, conn, syn, receptor_type=rec)
    sim.Projection(ext, all_cells, ext_conn, es, receptor_type="excitatory")
    all_cells.record("spikes")
    t0 = time.time()
    sim.run(duration)
    t1 = time.time()
    st = all_cells.get_data().segments[0].spiketrains
    counts = np.array([len(s) for s in st])
    sim.end()
    secs = duration / 1000.0
    return counts[:n_exc].sum() / n_exc / secs, counts[n_exc:].sum() / n_inh / secs, t1 - t0


def main():
    args, opts = [], {"--seeds": "3", "--duration": "1000", "--n": "4000"}
    av = sys.argv[1:]
    i = 0
    while i < len(av):
        if av[i] in opts and i + 1 < len(av):
            opts[av[i]] = av[i + 1]
            i += 2
        else:
            args.append(av[i])
            i += 1
    exe = args[0] if args else os.environ.get("S2FW_RUN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "host-release",
        "tools", "s2fw-run")
    if not os.access(exe, os.X_OK):
        print(f"ref_va: s2fw-run not found at {exe} (argument or S2FW_RUN)")
        return 2
    seeds = int(opts["--seeds"])
    duration = float(opts["--duration"])
    n = int(opts["--n"])
    t0 = time.time()
    ref, s2 = [], []
    print(f"Vogels-Abbott CUBA, {n} cells, {duration:g} ms, {seeds} seeds per side")
    print(f"{'seed':>5} {'ref exc':>8} {'ref inh':>8} {'s2 exc':>8} {'s2 inh':>8}  ref run s")
    for k in range(seeds):
        re, ri, rt = reference(n, duration, 1000 + k)
        r = subprocess.run([exe, "va", "--n", str(n), "--duration", f"{duration:g}",
                            "--seed", str(k + 1), "--json"], capture_output=True, text=True,
                           check=False)
        if r.returncode != 0:
            print(f"ref_va: s2fw-run va failed ({r.returncode}): {r.stderr.strip()}")
            return 1
        j = json.loads(r.stdout)
        ref.append((re, ri))
        s2.append((j["rate_exc"], j["rate_inh"]))
        print(f"{k:5d} {re:8.3f} {ri:8.3f} {j['rate_exc']:8.3f} {j['rate_inh']:8.3f}  "
              f"{rt:.1f}", flush=True)
    ref_m = np.mean(ref, axis=0)
    s2_m = np.mean(s2, axis=0)
    ok_all = True
    for i, name in enumerate(("exc", "inh")):
        rel = (s2_m[i] - ref_m[i]) / ref_m[i] if ref_m[i] > 0 else float("inf")
        ok = ref_m[i] > 0 and abs(rel) <= TOL
        ok_all &= ok
        print(f"rate_{name}: reference {ref_m[i]:.3f} Hz (sd {np.std([x[i] for x in ref]):.3f})"
              f", s2 {s2_m[i]:.3f} Hz (sd {np.std([x[i] for x in s2]):.3f}), "
              f"{rel * 100:+.1f} %: {'PASS' if ok else 'FAIL'} (tolerance 10 %)")
    print(f"ref_va: {time.time() - t0:.1f} s")
    print(f"{int(ok_all)} passed, {int(not ok_all)} failed")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
