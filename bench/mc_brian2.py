#!/usr/bin/env python3
"""The cortical microcircuit in Brian2, built as `s2ctl net example microcircuit --scale S`
builds it (mapping/src/net_examples.c: the NEST example's construction, in-degrees scaled
with the scale and compensated by weights / sqrt(scale) and a DC), as an independent
reference for s2's rates at the same scale. Prints the rate of each population after the
100 ms transient, and writes CSV_DIR/<pop>_spikes.csv like `s2ctl results --csv` so that
bench/mc_stats.py reads both.

usage: /usr/bin/python3 bench/mc_brian2.py SCALE DURATION_MS CSV_DIR [SEED]
"""
import json
import os
import sys

import numpy as np
from brian2 import (Hz, Network, NeuronGroup, PoissonInput, SpikeMonitor, Synapses,
                    defaultclock, ms, mV, pA, pF, prefs, seed)  # noqa: F401 (pF: equations)

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948.0])
P = np.array([[0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0., 0.0076, 0.],
              [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0., 0.0042, 0.],
              [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.],
              [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0., 0.1057, 0.],
              [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.],
              [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.],
              [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
              [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
KEXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100.0])
RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
V0M = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0S = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]


def psc_per_psp(cm, tm, ts):
    sub = 1.0 / (ts - tm)
    pre = tm * ts / cm / (ts - tm)
    frac = (tm / ts) ** sub
    return 1.0 / (pre * (frac ** tm - frac ** ts))


def main():
    scale, dur, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    sd = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    prefs.codegen.target = "numpy"
    seed(sd)
    rng = np.random.default_rng(sd)
    defaultclock.dt = 0.1 * ms
    ks = min(scale, 1.0)
    psc = 0.15 * psc_per_psp(250.0, 10.0, 0.5)  # pA
    K = np.log(1 - P) / np.log((N[:, None] * N[None, :] - 1) / (N[:, None] * N[None, :]))
    n = np.maximum(np.round(N * scale), 1).astype(int)
    eqs = """dv/dt = (-65*mV - v) / (10*ms) + (Ie - Ii + Idc) / (250*pF) : volt (unless refractory)
             dIe/dt = -Ie / (0.5*ms) : amp
             dIi/dt = -Ii / (0.5*ms) : amp
             Idc : amp"""
    groups, mons, objs = [], [], []
    for t in range(8):
        # NEST's iaf_psc_exp (and s2) hold V at reset for t_ref / dt = 20 steps after the
        # spike's step; Brian2 holds it while timestep(t - lastspike) < timestep(refractory),
        # 19 steps for 2 ms: 2.1 ms gives NEST's 20.
        g = NeuronGroup(n[t], eqs, threshold="v >= -50*mV", reset="v = -65*mV",
                        refractory=2.1 * ms, method="exact", name=POPS[t])
        g.v = (V0M[t] + V0S[t] * rng.standard_normal(n[t])) * mV
        w = np.array([(-4 if s % 2 else (2 if (t == 0 and s == 2) else 1)) * psc
                      for s in range(8)])
        mean = psc * KEXT[t] * 8 + np.sum(w * K[t] / N[t] * RATES)
        g.Idc = 0.001 * 0.5 * (1 - np.sqrt(ks)) * mean * pA
        pi = PoissonInput(g, "Ie", N=int(round(KEXT[t] * ks)), rate=8 * Hz,
                          weight=psc / np.sqrt(ks) * pA)
        groups.append(g)
        objs.append(pi)
        mons.append(SpikeMonitor(g))
    for t in range(8):
        for s in range(8):
            if P[t, s] == 0:
                continue
            inh = s % 2 == 1
            k = int(round(K[t, s] * (n[t] / N[t]) * ks))
            wm = (4 if inh else (2 if (t == 0 and s == 2) else 1)) * psc / np.sqrt(ks)
            dm = 0.75 if inh else 1.5
            syn = Synapses(groups[s], groups[t], "w : amp",
                           on_pre=("Ii_post += w" if inh else "Ie_post += w"))
            i = rng.integers(0, n[s], k)
            j = rng.integers(0, n[t], k)
            syn.connect(i=i, j=j)
            ww = wm + 0.1 * wm * rng.standard_normal(k)
            while np.any(ww <= 0):
                bad = ww <= 0
                ww[bad] = wm + 0.1 * wm * rng.standard_normal(bad.sum())
            dd = dm + 0.5 * dm * rng.standard_normal(k)
            while np.any(dd < 0.1):
                bad = dd < 0.1
                dd[bad] = dm + 0.5 * dm * rng.standard_normal(bad.sum())
            syn.w = ww * pA
            syn.delay = np.round(dd / 0.1) * 0.1 * ms
            objs.append(syn)
    net = Network(groups, mons, objs)
    net.run(dur * ms)
    os.makedirs(out, exist_ok=True)
    sizes = {"dt_ms": 0.1, "steps": int(round(dur / 0.1)), "populations": []}
    for t in range(8):
        ii = np.asarray(mons[t].i)
        tt = np.asarray(mons[t].t / ms)
        with open(f"{out}/{POPS[t]}_spikes.csv", "w") as f:
            f.write("neuron,time_ms\n")
            for a, b in zip(ii, tt):
                f.write(f"{a},{b:.4f}\n")
        sizes["populations"].append({"label": POPS[t], "size": int(n[t])})
        keep = tt >= 100
        print(f"{POPS[t]:5} {keep.sum() / n[t] / ((dur - 100) / 1000):7.3f} Hz")
    json.dump(sizes, open(f"{out}/sizes.json", "w"))


if __name__ == "__main__":
    main()
