#!/usr/bin/env python3
"""Statistics of a microcircuit run (docs/engine.md, "The cortical microcircuit"): per
population the mean rate after the transient, the irregularity (mean CV of inter-spike
intervals, neurons with at least 5 spikes) and the synchrony (variance over mean of the
population spike count in 3 ms bins, over at most 1000 neurons), as Potjans & Diesmann 2014
(Fig. 6-7) and van Albada et al. 2018 define them; beside the published full-scale rates of
the NEST example (pynest/examples/Potjans_2014, network_params.py, full_mean_rates).

usage: mc_stats.py CSV_DIR SIZES_JSON [--t0 100] [--t1 1100] [--json OUT]
CSV_DIR: `s2ctl results FILE --csv DIR`; SIZES_JSON: `s2ctl results FILE --json`.
"""
import json
import sys

import numpy as np

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
REF = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829]


def main():
    args = sys.argv[1:]
    opt = {"--t0": 100.0, "--t1": None, "--json": None}
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opt:
            opt[args[i]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    csv_dir, sizes = pos
    info = json.load(open(sizes))
    size = {p["label"]: p["size"] for p in info["populations"]}
    t_end = info["steps"] * info["dt_ms"]
    t0 = float(opt["--t0"])
    t1 = float(opt["--t1"]) if opt["--t1"] else t_end
    rng = np.random.default_rng(1)
    out = []
    print(f"window {t0:g}-{t1:g} ms")
    print(f"{'pop':5} {'rate Hz':>8} {'ref Hz':>7} {'ratio':>6} {'CV ISI':>7} {'sync':>6}")
    for p, ref in zip(POPS, REF):
        d = np.loadtxt(f"{csv_dir}/{p}_spikes.csv", delimiter=",", skiprows=1, ndmin=2)
        n, t = d[:, 0].astype(int), d[:, 1]
        keep = (t >= t0) & (t < t1)
        n, t = n[keep], t[keep]
        rate = len(t) / size[p] / ((t1 - t0) / 1000)
        order = np.lexsort((t, n))
        n, t = n[order], t[order]
        cvs = []
        for k in np.unique(n):
            tk = t[n == k]
            if len(tk) >= 5:
                isi = np.diff(tk)
                cvs.append(isi.std() / isi.mean())
        cv = float(np.mean(cvs)) if cvs else float("nan")
        sub = rng.choice(size[p], min(1000, size[p]), replace=False)
        ts = t[np.isin(n, sub)]
        h, _ = np.histogram(ts, bins=np.arange(t0, t1 + 1e-9, 3.0))
        sync = float(h.var() / h.mean()) if h.mean() > 0 else float("nan")
        print(f"{p:5} {rate:8.3f} {ref:7.3f} {rate / ref:6.2f} {cv:7.3f} {sync:6.2f}")
        out.append({"population": p, "rate_hz": rate, "ref_hz": ref, "ratio": rate / ref,
                    "cv_isi": cv, "synchrony": sync, "neurons_cv": len(cvs)})
    if opt["--json"]:
        json.dump({"t0_ms": t0, "t1_ms": t1, "populations": out}, open(opt["--json"], "w"),
                  indent=1)


if __name__ == "__main__":
    main()
