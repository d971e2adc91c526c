#!/usr/bin/env python3
"""Expected rates of `s2ctl net example vogels_abbott`, from NumPy, for
`s2ctl energy report --expect-rates` (docs/energy.md "Correctness in the same run").

    python3 bench/va_rates_numpy.py [--seeds N] [--out FILE]

The network written from its parameters (mapping/src/net_examples.c, vogels_abbott at scale
1), not from s2's code: 3200 E and 800 I lif_curr_exp cells, cm 0.2 nF, tau_m 20 ms,
tau_syn_e 5 ms, tau_syn_i 10 ms, refractory 5 ms, v_rest -49, v_reset -60, v_thresh -50 mV,
v_init uniform(-60, -50); four fixed-probability projections p = 0.02, weight 0.0054 nA from E
and -0.09 nA from I, delay 0.1 ms; dt 0.1 ms, 1 s. Exact integration of the membrane and of
exponential synaptic currents per step (the current decays, then the step's arrivals are
added; the membrane integrates the current at the start of the step). The network is
chaotic: single runs differ from seed to seed on any simulator, so the script prints the mean
and the standard deviation of each population's rate over seeds, and writes an expectation
file with the mean and a tolerance of max(3 standard deviations, 10 % of the mean).
"""
import argparse
import sys

import numpy as np


def run(seed, n_e=3200, n_i=800, dt=0.1, t_ms=1000.0):
    rng = np.random.default_rng(seed)
    n = n_e + n_i
    cm, tau_m, tau_e, tau_i, t_ref = 0.2, 20.0, 5.0, 10.0, 5.0
    v_rest, v_reset, v_th = -49.0, -60.0, -50.0
    w_e, w_i, p = 0.0054, -0.09, 0.02
    conn = rng.random((n, n)) < p          # conn[pre, post]
    np.fill_diagonal(conn, False)          # no autapses (PyNN's default)
    w = np.where(conn, 0.0, 0.0).astype(np.float64)
    w[:n_e][conn[:n_e]] = w_e
    w[n_e:][conn[n_e:]] = w_i
    v = rng.uniform(-60.0, -50.0, n)
    i_e = np.zeros(n)
    i_i = np.zeros(n)
    refr = np.zeros(n)
    pm, pe, pi = np.exp(-dt / tau_m), np.exp(-dt / tau_e), np.exp(-dt / tau_i)
    r = tau_m / cm                         # MOhm: mV per nA
    counts = np.zeros(n, dtype=np.int64)
    fired = np.zeros(n, dtype=bool)
    for _ in range(int(round(t_ms / dt))):
        # the membrane over the step with the current at its start (exact for a constant I)
        i_tot = i_e + i_i
        v_new = v_rest + r * i_tot + (v - v_rest - r * i_tot) * pm
        v = np.where(refr > 0, v, v_new)
        refr = np.maximum(refr - dt, 0.0)
        fired = (v >= v_th) & (refr <= 0)
        v[fired] = v_reset
        refr[fired] = t_ref
        counts += fired
        # synaptic currents decay; this step's spikes arrive after one step (delay 0.1 ms)
        i_e *= pe
        i_i *= pi
        if fired.any():
            src = np.flatnonzero(fired)
            e_src, i_src = src[src < n_e], src[src >= n_e]
            if e_src.size:
                i_e += w[e_src].sum(axis=0)
            if i_src.size:
                i_i += w[i_src].sum(axis=0)
    secs = t_ms / 1000.0
    return counts[:n_e].sum() / (n_e * secs), counts[n_e:].sum() / (n_i * secs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rates = np.array([run(s) for s in range(a.seeds)])
    mean, sd = rates.mean(axis=0), rates.std(axis=0, ddof=1) if a.seeds > 1 else np.zeros(2)
    for k, name in enumerate(("E", "I")):
        print("%s: %.3f Hz mean over %d seeds (sd %.3f; per seed %s)"
              % (name, mean[k], a.seeds, sd[k], ", ".join("%.3f" % x for x in rates[:, k])))
    if a.out:
        with open(a.out, "w") as f:
            f.write("# expected rates of net example vogels_abbott: NumPy (bench/va_rates_numpy.py),"
                    " %d seeds; tolerance max(3 sd, 10 %%)\n" % a.seeds)
            for k, name in enumerate(("E", "I")):
                f.write("%s %.4f %.4f\n" % (name, mean[k], max(3 * sd[k], 0.1 * mean[k])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
