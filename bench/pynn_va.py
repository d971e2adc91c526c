#!/usr/bin/env python3
"""The Vogels-Abbott CUBA network (4,000 IF_curr_exp neurons, p = 0.02) for 1 s of
biological time, as a plain pyNN.s2 script: bench/pynn_overhead.sh times it as a whole
process. $S2_MACHINE: the machine to run on (default: pyNN.s2 starts an s2emu); $VA_JSON_DIR:
also write the network's JSON there (setup(workdir=...)), for the bare s2ctl run of the same
network; $VA_TIMES: append one line of where the script's time went to this file (seconds
since the interpreter started: the script's start, import done, network built, run done,
counts done, end done; then pyNN.s2's own parts of run(): describe, compile, deploy, run,
results); $VA_N: the number of neurons (default 4000). Prints the mean excitatory and
inhibitory rates (from get_spike_counts)."""
import os
import time

stamps = [time.perf_counter()]
import pyNN.s2 as sim  # noqa: E402

stamps.append(time.perf_counter())
n, duration, seed = int(os.environ.get("VA_N", 4000)), 1000.0, 1
extra = {}
if os.environ.get("S2_MACHINE"):
    extra["machine"] = os.environ["S2_MACHINE"]
if os.environ.get("VA_JSON_DIR"):
    extra["workdir"] = os.environ["VA_JSON_DIR"]
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
    sim.Projection(pre, cells, conn, sim.StaticSynapse(weight=w, delay=0.1), receptor_type=rec)
cells.record("spikes")
stamps.append(time.perf_counter())
sim.run(duration)
stamps.append(time.perf_counter())
# Spike counts per neuron (PyNN's get_spike_counts): iterating get_data()'s 4,000 neo
# SpikeTrains instead costs several seconds of neo/quantities on any backend.
sc = cells.get_spike_counts()
counts = [sc[i] for i in cells.all_cells]
stamps.append(time.perf_counter())
parts = dict(sim.simulator.state.timings)
sim.end()
stamps.append(time.perf_counter())
print("E %.2f Hz, I %.2f Hz" % (sum(counts[:n_exc]) / (n_exc * duration / 1000.0),
                                sum(counts[n_exc:]) / ((n - n_exc) * duration / 1000.0)))
if os.environ.get("VA_TIMES"):
    # perf_counter is CLOCK_MONOTONIC: the interpreter's start from /proc (clock ticks since
    # boot) on the same clock
    with open("/proc/self/stat") as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open(os.environ["VA_TIMES"], "a") as f:
        f.write(" ".join("%.4f" % (t - start) for t in stamps) + " " +
                " ".join("%.4f" % parts.get(k, 0.0)
                         for k in ("describe", "compile", "deploy", "run", "results")) + "\n")
