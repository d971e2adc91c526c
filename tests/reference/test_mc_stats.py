#!/usr/bin/env python3
"""The microcircuit statistics of bench/mc_stats.py on spike trains whose answer is known:
the CV of Poisson and gamma trains, the synchrony of independent and of identical trains,
the 3 ms bins, the population standard deviation of the CV, and the bias of a one-second
window that the comparison with the published 60 s values corrects for (docs/engine.md).
Prints one line per check and 'N passed, N failed'; exit status 1 on any failure."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
import mc_stats as ms  # noqa: E402
import s2check  # noqa: E402

checks = s2check.Checks("{mark}: {what} {detail}", detail="{}")
check = checks.named


def trains(k_neurons, rate, cv, t1, rng):
    n, t = [], []
    for i in range(k_neurons):
        s = ms.gamma_train(rate, cv, 0.0, t1, rng)
        n.append(np.full(len(s), i))
        t.append(s)
    return np.concatenate(n), np.concatenate(t)


rng = np.random.default_rng(7)

# CV: std / mean with the population standard deviation, per neuron, threshold on spikes.
n = np.array([0, 0, 0, 1, 1])
t = np.array([0.0, 1.0, 4.0, 0.0, 5.0])
c = ms.cv_per_neuron(n, t, 3)
check("CV of intervals 1 and 3 ms is 0.5 (population s.d.), neuron 1 (2 spikes) left out",
      len(c) == 1 and abs(c[0] - 0.5) < 1e-12, f"{c}")
c = ms.cv_per_neuron(n[::-1].copy(), t[::-1].copy(), 2)
check("spike order does not matter; 2 spikes give a CV of 0", len(c) == 2 and c[1] == 0.0,
      f"{c}")

# Poisson (CV 1) and gamma shape 4 (CV 0.5) over 60 s, the NetPyNE rule (> 10 spikes).
n, t = trains(300, 8.0, 1.0, 60000.0, rng)
cv = ms.cv_per_neuron(n, t, ms.NETPYNE_MIN_SPIKES).mean()
check("Poisson trains, 8 Hz, 60 s: mean CV 1 within 0.02", abs(cv - 1) < 0.02, f"{cv:.4f}")
n, t = trains(300, 8.0, 0.5, 60000.0, rng)
cv = ms.cv_per_neuron(n, t, ms.NETPYNE_MIN_SPIKES).mean()
check("gamma trains of CV 0.5: mean CV 0.5 within 0.02", abs(cv - 0.5) < 0.02, f"{cv:.4f}")

# Synchrony: variance over mean of the count in 3 ms bins.
check("bins are 3 ms: counts [2, 1] give 0.25 / 1.5",
      abs(ms.synchrony(np.array([0.5, 2.9, 3.5]), 0.0, 6.0) - 0.25 / 1.5) < 1e-12)
check("a partial last bin is dropped",
      abs(ms.synchrony(np.array([0.5, 2.9, 3.5, 6.5]), 0.0, 7.0) - 0.25 / 1.5) < 1e-12)
n, t = trains(1000, 5.0, 1.0, 20000.0, rng)
s = ms.synchrony(t, 0.0, 20000.0)
check("1000 independent Poisson trains: synchrony 1 within 0.05", abs(s - 1) < 0.05, f"{s:.4f}")
one = ms.gamma_train(50.0, 1.0, 0.0, 20000.0, rng)
s = ms.synchrony(np.tile(one, 10), 0.0, 20000.0)
check("10 identical Poisson trains: synchrony 10 within 0.5", abs(s - 10) < 0.5, f"{s:.3f}")

# Samples of 1000 neurons, silent neurons included: 2000 neurons of which the first 1000
# fire one identical Poisson train and the rest never fire. A sample of 1000 holds about
# 500 firing neurons, whose summed count is 500 x that of one train: synchrony about 500 (a
# sample of firing neurons only would read 1000). A population of at most 1000 is taken whole.
one = ms.gamma_train(20.0, 1.0, 0.0, 20000.0, rng)
n = np.repeat(np.arange(1000), len(one))
t = np.tile(one, 1000)
ss = ms.synchrony_samples(n, t, 2000, 0.0, 20000.0, rng)
check("identical trains in half of 2000 neurons: 20 samples, synchrony 500 within 5 %",
      len(ss) == ms.SYNC_SAMPLES and abs(ss.mean() / (500 * ms.synchrony(one, 0.0, 20000.0))
                                         - 1) < 0.05, f"{ss.mean():.1f}")
ss = ms.synchrony_samples(n, t, 1000, 0.0, 20000.0, rng)
check("a population of 1000 is one sample of all its neurons",
      len(ss) == 1 and abs(ss[0] - ms.synchrony(t, 0.0, 20000.0)) < 1e-9, f"{ss}")
n, t = trains(3000, 5.0, 1.0, 20000.0, rng)
ss = ms.synchrony_samples(n, t, 3000, 0.0, 20000.0, rng)
check("3000 independent Poisson trains: mean over samples 1 within 0.05",
      abs(ss.mean() - 1) < 0.05, f"{ss.mean():.4f}")

# Pairwise spike-count correlations (2 ms bins, 250 neurons, as the NEST reference data):
# 400 neurons each firing a private Poisson train of 120 Hz and one shared train of 40 Hz have
# a count correlation of 40 / 160 = 0.25 (Poisson counts: covariance and variances equal to the
# means; 4000 shared spikes leave an error of about 0.004); independent trains 0; silent
# neurons give no coefficient and are left out.
shared = ms.gamma_train(40.0, 1.0, 0.0, 100000.0, rng)
n, t = [], []
for i in range(400):
    s_ = np.unique(np.round(np.concatenate([shared, ms.gamma_train(120.0, 1.0, 0.0, 100000.0,
                                                                   rng)]), 1))
    n.append(np.full(len(s_), i))
    t.append(s_)
n, t = np.concatenate(n), np.concatenate(t)
cc = ms.pairwise_cc(n, t, 450, 0.0, 100000.0, rng)
check("shared 40 Hz of 160 Hz in 400 of 450 neurons: 250 drawn, CC 0.25 within 0.01, "
      "silent pairs out", abs(cc.mean() - 0.25) < 0.01 and len(cc) < 250 * 249 // 2,
      f"{cc.mean():.4f} ({len(cc)} pairs)")
n, t = trains(300, 5.0, 1.0, 100000.0, rng)
cc = ms.pairwise_cc(n, t, 300, 0.0, 100000.0, rng)
check("independent Poisson trains: mean CC 0 within 0.001, 250 x 249 / 2 pairs",
      abs(cc.mean()) < 0.001 and len(cc) == 250 * 249 // 2, f"{cc.mean():.5f}")

# The one-second window: Poisson neurons at 8 Hz with at least 5 spikes show a CV well
# below 1; the correction reproduces what the window shows of a known process.
rates = rng.uniform(4, 12, 2000)
w = ms.window_cv(rates, 1.0, 100.0, 1100.0, 5, rng, trials=1)
check("a 1 s window shows Poisson neurons (4-12 Hz, >= 5 spikes) with a CV below 0.85",
      w < 0.85, f"{w:.3f}")
n, t = [], []
for i, r in enumerate(rates):
    s_ = ms.gamma_train(r, 1.0, 100.0, 1100.0, rng)
    n.append(np.full(len(s_), i))
    t.append(s_)
direct = ms.cv_per_neuron(np.concatenate(n), np.concatenate(t), 5).mean()
check("window_cv equals the same measurement on such trains within 0.03",
      abs(direct - w) < 0.03, f"{direct:.3f} vs {w:.3f}")

# The published values are the paper's (Romaro et al. 2021 Tables A.1, A.3, A.5, 100 %).
check("published tables as printed", ms.NETPYNE_CV[0] == 0.938 and ms.NETPYNE_SYNC[4] == 4.4
      and ms.NETPYNE_RATE[7] == 7.60 and ms.NEST_RATE[2] == 4.414)
# Shimoura et al. 2018 Fig. 2D/2C as bench/mc_read_rescience.py reads their article/fig2.pdf.
check("Brian 2 figure values as read", ms.RESCIENCE_SYNC[0] == 4.515
      and ms.RESCIENCE_SYNC[4] == 7.265 and ms.RESCIENCE_CV[5] == 0.802
      and len(ms.RESCIENCE_SYNC) == len(ms.RESCIENCE_CV) == len(ms.RESCIENCE_RATE) == 8)

# A results file whose spike recording lost bytes is refused, naming the population; NEST's
# and mc_ref's sizes files (no clipped counters) and a complete s2 run are measured.
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

with tempfile.TemporaryDirectory() as d:
    for p in ms.POPS:
        with open(f"{d}/{p}_spikes.csv", "w") as f:
            f.write("neuron,time_ms\n" + "".join(f"{i % 10},{150 + i * 7.3:.1f}\n"
                                                for i in range(100)))
    pops = [{"label": p, "size": 10, "clipped": {"recording_bytes_lost": 0}} for p in ms.POPS]
    res = {"dt_ms": 0.1, "steps": 12000, "populations": pops}
    stats = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "mc_stats.py")

    def run_on(info):
        with open(f"{d}/r.json", "w") as f:
            json.dump(info, f)
        return subprocess.run([sys.executable, stats, d, f"{d}/r.json"], capture_output=True,
                              text=True)

    r = run_on(res)
    check("a complete run is measured", r.returncode == 0, r.stderr.strip()[-200:])
    pops[4]["clipped"]["recording_bytes_lost"] = 4096
    r = run_on(res)
    check("recording bytes lost: refused, naming the population and the bytes",
          r.returncode != 0 and "L5E 4096" in r.stderr and "incomplete" in r.stderr,
          r.stderr.strip()[-200:])
    check("recording_lost() on a NEST sizes file (no counters) is empty",
          ms.recording_lost({"populations": [{"label": "L23E", "size": 3}]}) == [])

print(f"{checks.passed} passed, {len(checks.failed)} failed")
sys.exit(checks.status())
