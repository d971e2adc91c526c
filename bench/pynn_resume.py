#!/usr/bin/env python3
"""Pause and resume cost (issue 23): the Vogels-Abbott CUBA network of bench/pynn_va.py in
pyNN.s2, run as ten consecutive run(100) and as one run(1000), REPEAT times each, alternating,
on the machine $S2_MACHINE (default: pyNN.s2 starts an s2emu). Times the run() calls (the
first one deploys the network in both cases) and checks that both give the same spikes.
  bench/pynn_resume.py [N] [REPEAT] [PARTS] [PART_MS]     default 4000 3 10 100"""
import os
import statistics
import sys
import time

import pyNN.s2 as sim

n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
parts = int(sys.argv[3]) if len(sys.argv) > 3 else 10
part_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 100.0
extra = {"machine": os.environ["S2_MACHINE"]} if os.environ.get("S2_MACHINE") else {}


def va(runs):
    """Build the network, run it for each of runs (ms) in turn: (wall s of the runs, spike
    count per neuron)."""
    seed = 1
    sim.setup(timestep=0.1, min_delay=0.1, seed=seed, **extra)
    rng = sim.NumpyRNG(seed=seed)
    n_exc = int(0.8 * n)
    cell = sim.IF_curr_exp(tau_m=20.0, cm=0.2, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
                           tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0, v_rest=-49.0)
    cells = sim.Population(n, cell, label="cells")
    cells.initialize(v=sim.RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
    conn = sim.FixedProbabilityConnector(0.02, allow_self_connections=False, rng=rng)
    for pre, w, rec in ((cells[:n_exc], 0.27e-3 * 60.0, "excitatory"),
                        (cells[n_exc:], -4.5e-3 * 20.0, "inhibitory")):
        sim.Projection(pre, cells, conn, sim.StaticSynapse(weight=w, delay=0.1),
                       receptor_type=rec)
    cells.record("spikes")
    t0 = time.perf_counter()
    for r in runs:
        sim.run(r)
    wall = time.perf_counter() - t0
    sc = cells.get_spike_counts()
    counts = [sc[i] for i in cells.all_cells]
    resumed = sim.simulator.state.steps_before
    sim.end()
    return wall, counts, resumed


va([part_ms])  # warm-up: boots the board
split, one = [], []
same = True
for _ in range(repeat):
    w1, c1, r1 = va([part_ms * parts])
    w2, c2, r2 = va([part_ms] * parts)
    one.append(w1)
    split.append(w2)
    same &= c1 == c2 and r1 == 0 and r2 == round(part_ms * (parts - 1) / 0.1)
    total = sum(c1)
dur = part_ms * parts
a, b = statistics.median(split), statistics.median(one)
print("pynn_resume: Vogels-Abbott %d neurons, %g ms: %d x run(%g) %.2f s, one run(%g) %.2f s "
      "(medians of %d), ratio %.2f; spikes %s (%d, %.2f Hz)"
      % (n, dur, parts, part_ms, a, dur, b, repeat, a / b,
         "identical" if same else "DIFFERENT", total, total / n / (dur / 1000.0)))
sys.exit(0 if same else 1)
