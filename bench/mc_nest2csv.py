#!/usr/bin/env python3
"""Convert the spike files of a NEST microcircuit run (the INM-6 PyNEST model's data
directory: `population_nodeids.dat` and the ASCII spike recorders' `spike_recorder-*.dat`)
into what bench/mc_stats.py reads: OUT_DIR/<population>_spikes.csv (a header line, then
"neuron,time_ms" with the neuron's index in its population, 0-based) and SIZES_JSON
({"populations": [{"label", "size"}], "steps", "dt_ms"}).

Every spike of every recorder file is assigned to the population whose node-id range holds its
sender; a sender outside every range, a malformed line, or a file whose header is not NEST's
ASCII recorder format is an error naming the file and line. The run's end (T_END_MS) is given,
as the files cannot tell it (a silent last stretch writes nothing).

usage: mc_nest2csv.py DATA_DIR OUT_DIR SIZES_JSON T_END_MS [--dt 0.1]
       [--populations L23E,L23I,L4E,L4I,L5E,L5I,L6E,L6I]
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

POPS = "L23E,L23I,L4E,L4I,L5E,L5I,L6E,L6I"


def read_ranges(path):
    ranges = []
    with open(path) as f:
        for k, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                a, b = int(parts[0]), int(parts[1])
            except (ValueError, IndexError):
                sys.exit(f"mc_nest2csv: {path}:{k}: expected two node ids, got {line.strip()!r}")
            if b < a:
                sys.exit(f"mc_nest2csv: {path}:{k}: last node id {b} below first {a}")
            ranges.append((a, b))
    return ranges


def read_spikes(path):
    """(senders, times) of one NEST ASCII spike recorder file."""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n", 3)
    if len(lines) < 3 or not lines[0].startswith("# NEST version") or \
            lines[2].split() != ["sender", "time_ms"]:
        sys.exit(f"mc_nest2csv: {path}: not a NEST ASCII spike recorder file with columns "
                 "'sender time_ms' (header: " + repr("\n".join(lines[:3])[:120]) + ")")
    body = lines[3] if len(lines) > 3 else ""
    try:
        d = np.array(body.split(), dtype=float)
    except ValueError as e:
        sys.exit(f"mc_nest2csv: {path}: a value is not a number ({e})")
    if len(d) % 2:
        sys.exit(f"mc_nest2csv: {path}: {len(d)} values, not pairs of sender and time")
    d = d.reshape(-1, 2)
    s = d[:, 0]
    if len(s) and (np.any(s != np.floor(s)) or s.min() < 1):
        bad = int(np.flatnonzero((s != np.floor(s)) | (s < 1))[0])
        sys.exit(f"mc_nest2csv: {path}: spike {bad + 1}: sender {s[bad]!r} is not a node id")
    return s.astype(np.int64), d[:, 1]


def main():
    ap = argparse.ArgumentParser(prog="mc_nest2csv.py",
                                 description=__doc__.split("\n\n")[0].replace("\n", " "))
    ap.add_argument("data", metavar="DATA_DIR", help="the NEST run's data directory")
    ap.add_argument("out", metavar="OUT_DIR", help="<population>_spikes.csv are written here")
    ap.add_argument("sizes_out", metavar="SIZES_JSON")
    ap.add_argument("t_end", metavar="T_END_MS", type=float, help="the run's end, ms")
    ap.add_argument("--dt", type=float, default=0.1, help="the timestep, ms (default 0.1)")
    ap.add_argument("--populations", default=POPS,
                    help=f"the populations in node-id order (default {POPS})")
    a = ap.parse_args()
    data, out, sizes_out, t_end, dt = a.data, a.out, a.sizes_out, a.t_end, a.dt
    pops = a.populations.split(",")
    ranges = read_ranges(os.path.join(data, "population_nodeids.dat"))
    if len(ranges) != len(pops):
        sys.exit(f"mc_nest2csv: {data}/population_nodeids.dat: {len(ranges)} populations, "
                 f"expected {len(pops)} ({','.join(pops)})")
    files = sorted(glob.glob(os.path.join(data, "spike_recorder-*.dat")))
    if not files:
        sys.exit(f"mc_nest2csv: {data}: no spike_recorder-*.dat files")
    senders, times = [], []
    for fn in files:
        s, t = read_spikes(fn)
        senders.append(s)
        times.append(t)
    s = np.concatenate(senders)
    t = np.concatenate(times)
    if len(t) and (t.min() < 0 or t.max() > t_end):
        sys.exit(f"mc_nest2csv: spike times {t.min():g}-{t.max():g} ms outside the run "
                 f"0-{t_end:g} ms")
    pop_of = np.full(len(s), -1)
    for k, (a, b) in enumerate(ranges):
        pop_of[(s >= a) & (s <= b)] = k
    if np.any(pop_of < 0):
        bad = int(np.flatnonzero(pop_of < 0)[0])
        sys.exit(f"mc_nest2csv: sender {s[bad]} (time {t[bad]:g} ms) is in no population's "
                 "node-id range")
    os.makedirs(out, exist_ok=True)
    for k, (p, (a, b)) in enumerate(zip(pops, ranges)):
        keep = pop_of == k
        n, tt = s[keep] - a, t[keep]
        order = np.lexsort((n, tt))
        with open(os.path.join(out, f"{p}_spikes.csv"), "w") as f:
            f.write("neuron,time_ms\n")
            if len(order):
                np.savetxt(f, np.column_stack((n[order], tt[order])), fmt=["%d", "%.4f"],
                           delimiter=",")
    info = {"populations": [{"label": p, "size": b - a + 1} for p, (a, b) in zip(pops, ranges)],
            "steps": int(round(t_end / dt)), "dt_ms": dt, "spikes": int(len(t)),
            "source": os.path.abspath(data)}
    with open(sizes_out, "w") as f:
        json.dump(info, f, indent=1)
    span = f" at {t.min():g}-{t.max():g} ms" if len(t) else ""
    print(f"mc_nest2csv: {len(t)} spikes{span} from {len(files)} files, "
          + ", ".join(f"{p} {b - a + 1}" for p, (a, b) in zip(pops, ranges)))


if __name__ == "__main__":
    main()
