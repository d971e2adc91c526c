#!/usr/bin/env python3
"""Statistics of a microcircuit run (docs/engine.md, "The cortical microcircuit") beside the
published full-scale values, with the definitions of the source that published them.

Sources (full scale, Poisson external input):
- rates: the NEST example (pynest/examples/Potjans_2014, network_params.py,
  'full_mean_rates', Hz) and NetPyNE (Romaro et al. 2021, Neural Comput 33(7):1993,
  Table A.1, 100 %, 60 s).
- irregularity: Romaro et al. 2021 Table A.3 (100 %): per neuron with more than 10 spikes in
  the window the coefficient of variation of its inter-spike intervals, std / mean with the
  population standard deviation (NetPyNE analysis 'isicv'), averaged over the neurons of the
  population; about 1000 neurons per population, 60 s. The 10-trial row gives the spread over
  neurons (± 0.10-0.15).
- synchrony: Romaro et al. 2021 Table A.5 (100 %): the variance over the mean of the
  population spike count histogram (Potjans & Diesmann 2014's measure), 3 ms bins, about
  1000 neurons per population, 60 s. Which neurons is not published: here 1000 drawn at
  random, silent ones included, the mean of SYNC_SAMPLES such samples.
- synchrony and irregularity, Brian 2: Shimoura et al. 2018 (ReScience 4(1):2, "[Re] The
  cell-type specific cortical microcircuit", Fig. 2C, D; NEST's construction in Brian 2, one
  network, 60 s): the same synchrony (np.var / np.mean of the spike count of 1000 random
  neurons per population, silent ones included, 3 ms bins from 498 ms to 60 s; one sample) and
  the mean CV of those neurons with at least 3 spikes (np.std / np.mean), read off the
  figure's vector drawing by bench/mc_read_rescience.py (RESCIENCE_*).
- pairwise correlation: NEST's full-scale reference data (INM-6/microcircuit-PD14-model,
  900 s, ten networks): spike-count correlation coefficients of the pairs of 250 random
  neurons in 2 ms bins (`pairwise_cc`); their means read off its figure (NEST_REF_CC).

A CV measured in a window of about one second is biased low: intervals longer than the window
cannot be seen, and a neuron needs several spikes in it to count at all, which favours the
faster, more regular neurons. So the CV is also compared with the published value as the same
window sees it: gamma renewal trains (a stationary process whose CV is the published one) at
each s2 neuron's own rate in the window, measured exactly as s2's trains are
(`window_cv`). Synchrony over a shorter window is measured as published (3 ms bins, 1000
neurons); --windows gives it for each window between the edges and for the whole span.

usage: mc_stats.py CSV_DIR SIZES_JSON [--t0 100] [--t1 END] [--min-spikes 5] [--json OUT]
       mc_stats.py CSV_DIR SIZES_JSON --windows 100,1100,2100,3100 [--json OUT]
CSV_DIR: `s2ctl results FILE --csv DIR`; SIZES_JSON: `s2ctl results FILE --json`.
"""
import json
import sys

import numpy as np

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
NEST_RATE = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829]
NETPYNE_RATE = [0.90, 2.80, 4.39, 5.70, 6.80, 8.22, 1.14, 7.60]
NETPYNE_CV = [0.938, 0.916, 0.891, 0.873, 0.847, 0.809, 0.924, 0.819]
NETPYNE_CV_SD = [0.146, 0.106, 0.107, 0.101, 0.107, 0.118, 0.142, 0.125]
NETPYNE_SYNC = [2.9, 1.8, 3.0, 1.7, 4.4, 1.1, 1.2, 1.0]
# NEST's full-scale mean pairwise spike-count correlation (2 ms bins, 250 neurons, 900 s, ten
# realisations; INM-6/microcircuit-PD14-model reference data), read off its figure by
# bench/mc_digitize_cc.py to about 0.0005; L5E's is a lower bound (its curve leaves the plot).
NEST_REF_CC = [0.0038, 0.0042, 0.0047, 0.0022, 0.0097, 0.0018, -0.0007, 0.0007]
# Shimoura et al. 2018, Fig. 2 (bench/mc_read_rescience.py on its article/fig2.pdf; to 0.004
# in synchrony, 0.001 in CV and rate): Brian 2, full scale, one network, 60 s, 1000 neurons.
RESCIENCE_SYNC = [4.515, 3.248, 4.681, 2.518, 7.265, 1.641, 1.699, 1.309]
RESCIENCE_CV = [0.935, 0.919, 0.892, 0.874, 0.845, 0.802, 0.914, 0.819]
RESCIENCE_RATE = [0.965, 3.085, 4.429, 5.976, 7.508, 8.776, 1.124, 7.672]
SYNC_BIN_MS = 3.0
SUBSAMPLE = 1000
CC_SUBSAMPLE = 250  # the NEST reference data's pairwise statistics (see pairwise_cc)
CC_BIN_MS = 2.0
SYNC_SAMPLES = 20  # samples of SUBSAMPLE neurons averaged (one sample alone varies by ~10 %)
NETPYNE_MIN_SPIKES = 11  # "len(spks) > 10"


def cv_per_neuron(n, t, min_spikes):
    """CV (std / mean, population std) of the inter-spike intervals of every neuron with at
    least min_spikes spikes; n, t: neuron ids and spike times (ms), any order."""
    order = np.lexsort((t, n))
    n, t = n[order], t[order]
    ids, first, counts = np.unique(n, return_index=True, return_counts=True)
    out = []
    for f, c in zip(first, counts):
        if c >= min_spikes:
            isi = np.diff(t[f:f + c])
            out.append(isi.std() / isi.mean())
    return np.array(out)


def synchrony(t, t0, t1, bin_ms=SYNC_BIN_MS):
    """Variance over mean of the spike count histogram of the spike times t (ms) in bins of
    bin_ms from t0 to t1 (a partial last bin is dropped)."""
    edges = t0 + bin_ms * np.arange(int((t1 - t0) / bin_ms + 1e-9) + 1)
    h, _ = np.histogram(t, bins=edges)
    return float(h.var() / h.mean()) if h.mean() > 0 else float("nan")


def synchrony_samples(n, t, size, t0, t1, rng, samples=SYNC_SAMPLES, k=SUBSAMPLE):
    """Synchrony (as `synchrony`) of `samples` random samples of k neurons (all neurons of the
    population when it has no more than k, then one sample), neurons that did not fire
    included; n, t: neuron ids (0..size-1) and spike times (ms) in [t0, t1)."""
    if size <= k:
        return np.array([synchrony(t, t0, t1)])
    out = []
    for _ in range(samples):
        sub = np.zeros(size, bool)
        sub[rng.choice(size, k, replace=False)] = True
        out.append(synchrony(t[sub[n]], t0, t1))
    return np.array(out)


def pairwise_cc(n, t, size, t0, t1, rng, k=CC_SUBSAMPLE, bin_ms=CC_BIN_MS):
    """Pairwise spike-count correlation coefficients as the NEST reference data of the
    microcircuit compute them (INM-6/microcircuit-PD14-model, PyNEST/reference_data,
    helpers.pairwise_spike_count_correlations; Dasbach et al. 2021): k neurons drawn at random
    without replacement, their spike counts in bins of bin_ms from t0 to t1, the Pearson
    correlation coefficient of every pair; pairs with a neuron that never fired (no
    coefficient) are left out."""
    sel = rng.choice(size, min(k, size), replace=False)
    row = np.full(size, -1)
    row[sel] = np.arange(len(sel))
    nb = int((t1 - t0) / bin_ms + 1e-9)
    keep = (row[n] >= 0) & (t >= t0) & (t < t0 + nb * bin_ms)
    idx = row[n[keep]] * nb + ((t[keep] - t0) // bin_ms).astype(int)
    counts = np.bincount(idx, minlength=len(sel) * nb).reshape(len(sel), nb)
    counts = counts[counts.std(axis=1) > 0]
    if len(counts) < 2:
        return np.empty(0)
    c = np.corrcoef(counts)
    return c[np.triu_indices(len(counts), 1)]


def gamma_train(rate_hz, cv, t0, t1, rng):
    """A stationary gamma renewal train (ms) of this rate and CV in [t0, t1): started 20 mean
    intervals (at least 2 s) before t0 so that the window sees the stationary process."""
    if rate_hz <= 0:
        return np.empty(0)
    k = 1.0 / cv ** 2
    mean_isi = 1000.0 / rate_hz
    lead = max(20 * mean_isi, 2000.0)
    n = int((t1 - t0 + lead) / mean_isi * 1.5) + 20
    s = t0 - lead + np.cumsum(rng.gamma(k, mean_isi / k, n))
    while s[-1] < t1:
        s = np.concatenate([s, s[-1] + np.cumsum(rng.gamma(k, mean_isi / k, n))])
    return s[(s >= t0) & (s < t1)]


def window_cv(rates_hz, cv, t0, t1, min_spikes, rng, trials=3):
    """The mean CV that the window [t0, t1) and the threshold min_spikes show of neurons
    firing as gamma processes of this CV at these rates (one train per rate, trials times)."""
    vals = []
    for _ in range(trials):
        for r in rates_hz:
            s = gamma_train(r, cv, t0, t1, rng)
            if len(s) >= min_spikes:
                isi = np.diff(s)
                vals.append(isi.std() / isi.mean())
    return float(np.mean(vals)) if vals else float("nan")


def recording_lost(info):
    """(population, bytes) of each population of an s2 results file (s2ctl results --json)
    whose spike recording lost bytes: its CSV then ends early. NEST's and mc_ref's sizes files
    have no such field."""
    return [(p["label"], p["clipped"]["recording_bytes_lost"]) for p in info["populations"]
            if p.get("clipped", {}).get("recording_bytes_lost", 0) > 0]


def population(csv_dir, p, size, t0, t1):
    with open(f"{csv_dir}/{p}_spikes.csv") as f:
        f.readline()
        rows = f.read()
    d = np.array(rows.replace(",", " ").split(), dtype=float).reshape(-1, 2)
    n, t = d[:, 0].astype(int), d[:, 1]
    keep = (t >= t0) & (t < t1)
    return n[keep], t[keep]


def main():
    args = sys.argv[1:]
    opt = {"--t0": "100", "--t1": None, "--json": None, "--min-spikes": "5", "--windows": None}
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
    lost = recording_lost(info)
    if lost:
        sys.exit("mc_stats: the spike recording is incomplete (recording bytes lost: "
                 + ", ".join(f"{p} {b}" for p, b in lost)
                 + "): each PE's recording region filled before the run ended, so rates, CVs "
                 "and synchrony over the run would be wrong; run shorter (docs/engine.md)")
    size = {p["label"]: p["size"] for p in info["populations"]}
    t_end = info["steps"] * info["dt_ms"]
    t0 = float(opt["--t0"])
    t1 = float(opt["--t1"]) if opt["--t1"] else t_end
    ms = int(opt["--min-spikes"])
    rng = np.random.default_rng(1)
    if opt["--windows"]:
        return windows(csv_dir, size, [float(x) for x in opt["--windows"].split(",")],
                       opt["--json"], rng)
    out = []
    print(f"window {t0:g}-{t1:g} ms; rates: NEST example and NetPyNE (Romaro et al. 2021 "
          f"Table A.1); CV: neurons with >= {ms} spikes, NetPyNE Table A.3 (60 s) and as "
          f"this window sees it; synchrony: {SUBSAMPLE} neurons (mean of {SYNC_SAMPLES} "
          f"samples), {SYNC_BIN_MS:g} ms bins, NetPyNE Table A.5 and Brian 2 (Shimoura et al. "
          "2018 Fig. 2D, 60 s); CC: mean pairwise "
          f"spike-count correlation of {CC_SUBSAMPLE} neurons in {CC_BIN_MS:g} ms bins "
          "(NEST: its full-scale reference data, 900 s)")
    print(f"{'pop':5} {'rate':>6} {'NEST':>6} {'ratio':>5} {'NetPyNE':>7} | {'CV':>5} "
          f"{'cells':>5} {'pub':>5} {'pub@win':>7} {'ratio':>5} | {'sync':>5} {'sd':>4} "
          f"{'pub':>4} {'ratio':>5} {'Brian2':>6} {'ratio':>5} | {'CC':>7} {'NEST':>7}")
    for k, p in enumerate(POPS):
        n, t = population(csv_dir, p, size[p], t0, t1)
        dur_s = (t1 - t0) / 1000
        rate = len(t) / size[p] / dur_s
        cvs = cv_per_neuron(n, t, ms)
        cv = float(cvs.mean()) if len(cvs) else float("nan")
        counts = np.bincount(n, minlength=size[p])
        pub_win = window_cv(counts / dur_s, NETPYNE_CV[k], t0, t1, ms, rng)
        sub = rng.choice(size[p], min(SUBSAMPLE, size[p]), replace=False)
        lit = cv_per_neuron(n[np.isin(n, sub)], t[np.isin(n, sub)], NETPYNE_MIN_SPIKES)
        ss = synchrony_samples(n, t, size[p], t0, t1, rng)
        sync, sync_sd = float(ss.mean()), float(ss.std())
        cc = pairwise_cc(n, t, size[p], t0, t1, rng)
        r = {"population": p, "rate_hz": rate, "nest_hz": NEST_RATE[k],
             "netpyne_hz": NETPYNE_RATE[k], "rate_ratio": rate / NEST_RATE[k],
             "cv_isi": cv, "cv_neurons": int(len(cvs)), "cv_published": NETPYNE_CV[k],
             "cv_published_sd": NETPYNE_CV_SD[k], "cv_published_in_window": pub_win,
             "cv_ratio": cv / pub_win if pub_win > 0 else float("nan"),
             "cv_netpyne_rule": float(lit.mean()) if len(lit) else None,
             "cv_netpyne_rule_neurons": int(len(lit)),
             "synchrony": sync, "synchrony_sample_sd": sync_sd,
             "synchrony_samples": int(len(ss)), "synchrony_published": NETPYNE_SYNC[k],
             "synchrony_ratio": sync / NETPYNE_SYNC[k],
             "synchrony_rescience": RESCIENCE_SYNC[k],
             "synchrony_rescience_ratio": sync / RESCIENCE_SYNC[k],
             "cc_mean": float(cc.mean()) if len(cc) else None, "cc_pairs": int(len(cc)),
             "cc_nest_reference": NEST_REF_CC[k]}
        out.append(r)
        print(f"{p:5} {rate:6.3f} {NEST_RATE[k]:6.3f} {rate / NEST_RATE[k]:5.2f} "
              f"{NETPYNE_RATE[k]:7.2f} | {cv:5.3f} {len(cvs):5d} {NETPYNE_CV[k]:5.3f} "
              f"{pub_win:7.3f} {r['cv_ratio']:5.2f} | {sync:5.2f} {sync_sd:4.2f} "
              f"{NETPYNE_SYNC[k]:4.1f} {sync / NETPYNE_SYNC[k]:5.2f} "
              f"{RESCIENCE_SYNC[k]:6.2f} {sync / RESCIENCE_SYNC[k]:5.2f} | "
              f"{cc.mean() if len(cc) else float('nan'):7.4f} {NEST_REF_CC[k]:7.4f}")
    if opt["--json"]:
        json.dump({"t0_ms": t0, "t1_ms": t1, "min_spikes": ms, "populations": out},
                  open(opt["--json"], "w"), indent=1)


def windows(csv_dir, size, edges, json_out, rng):
    """Rate and synchrony (mean of SYNC_SAMPLES samples of SUBSAMPLE neurons) in each window
    between consecutive edges (ms) and over the whole span from the first to the last."""
    spans = list(zip(edges[:-1], edges[1:]))
    if len(spans) > 1:
        spans.append((edges[0], edges[-1]))
    names = [f"{a:g}-{b:g}" for a, b in spans]
    print(f"synchrony by window ({SUBSAMPLE} neurons, mean of {SYNC_SAMPLES} samples, "
          f"{SYNC_BIN_MS:g} ms bins); NetPyNE Table A.5 and Brian 2 (Shimoura et al. 2018 "
          "Fig. 2D), both 60 s, last")
    print(f"{'pop':5} " + " ".join(f"{x:>15}" for x in names) + f" {'NetPyNE':>7} {'Brian2':>6}")
    out = []
    for k, p in enumerate(POPS):
        n_all, t_all = population(csv_dir, p, size[p], edges[0], edges[-1])
        row = {"population": p, "windows": []}
        cells = []
        for (a, b), name in zip(spans, names):
            keep = (t_all >= a) & (t_all < b)
            n, t = n_all[keep], t_all[keep]
            ss = synchrony_samples(n, t, size[p], a, b, rng)
            rate = len(t) / size[p] / ((b - a) / 1000)
            row["windows"].append({"t0_ms": a, "t1_ms": b, "rate_hz": rate,
                                   "synchrony": float(ss.mean()),
                                   "synchrony_sample_sd": float(ss.std())})
            cells.append(f"{ss.mean():6.2f}±{ss.std():4.2f} {rate:4.1f}")
        row["synchrony_published"] = NETPYNE_SYNC[k]
        row["synchrony_rescience"] = RESCIENCE_SYNC[k]
        out.append(row)
        print(f"{p:5} " + " ".join(f"{c:>15}" for c in cells) + f" {NETPYNE_SYNC[k]:7.1f} "
              f"{RESCIENCE_SYNC[k]:6.2f}")
    print("(each cell: synchrony ± s.d. over samples, then the rate in Hz)")
    if json_out:
        json.dump({"windows": names, "populations": out}, open(json_out, "w"), indent=1)


if __name__ == "__main__":
    main()
