#!/usr/bin/env python3
"""bench/mc_nest2csv.py on NEST ASCII spike recorder files written here with known contents:
each spike lands in its population with the right index and time, the sizes JSON is what
bench/mc_stats.py reads (and mc_stats reads the result back), and bad input (a sender outside
every population, a file that is not NEST's format, a spike past the run's end) is refused
naming the item, with a non-zero exit and nothing written.
Prints one line per check and 'N passed, N failed'; exit status 1 on any failure."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "bench")
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import mc_stats as ms  # noqa: E402
import s2check  # noqa: E402

checks = s2check.Checks("{mark}: {what} {detail}", detail="{}")
check = checks.named


HEADER = "# NEST version: 3.10.0\n# RecordingBackendASCII version: 2\nsender\ttime_ms\n"


def write(path, rows, header=HEADER):
    with open(path, "w") as f:
        f.write(header)
        for s, t in rows:
            f.write(f"{s}\t{t:.3f}\n")


def run(data, out, t_end, pops="A,B"):
    sizes = os.path.join(out, "sizes.json")
    p = subprocess.run([sys.executable, os.path.join(BENCH, "mc_nest2csv.py"), data,
                        os.path.join(out, "csv"), sizes, str(t_end), "--populations", pops],
                       capture_output=True, text=True)
    return p, sizes


with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    # Two populations: A = node ids 1-3, B = 4-8 (recorders would follow, ids 9 and 10).
    with open(os.path.join(data, "population_nodeids.dat"), "w") as f:
        f.write("1 3\n4 8\n")
    # Two threads' files per recorder, spikes out of order as threads write them.
    write(os.path.join(data, "spike_recorder-09-0.dat"), [(3, 12.5), (1, 0.1), (1, 7.0)])
    write(os.path.join(data, "spike_recorder-09-1.dat"), [(2, 99.9)])
    write(os.path.join(data, "spike_recorder-10-0.dat"), [(8, 50.0), (4, 50.0)])
    write(os.path.join(data, "spike_recorder-10-1.dat"), [])
    out = os.path.join(tmp, "ok")
    p, sizes = run(data, out, 100.0)
    check("converts", p.returncode == 0, p.stderr.strip())
    if p.returncode == 0:
        a = open(os.path.join(out, "csv", "A_spikes.csv")).read().split("\n")
        b = open(os.path.join(out, "csv", "B_spikes.csv")).read().split("\n")
        check("A: index within the population, sorted by time",
              a[:5] == ["neuron,time_ms", "0,0.1000", "0,7.0000", "2,12.5000", "1,99.9000"],
              repr(a[:5]))
        check("B: node ids 4 and 8 are neurons 0 and 4",
              b[:3] == ["neuron,time_ms", "0,50.0000", "4,50.0000"], repr(b[:3]))
        info = json.load(open(sizes))
        check("sizes JSON", [(x["label"], x["size"]) for x in info["populations"]] ==
              [("A", 3), ("B", 5)] and info["steps"] == 1000 and info["dt_ms"] == 0.1
              and info["spikes"] == 6, repr(info))
        n, t = ms.population(os.path.join(out, "csv"), "A", 3, 0.0, 100.0)
        check("mc_stats reads it back", list(n) == [0, 0, 2, 1] and
              np.allclose(t, [0.1, 7.0, 12.5, 99.9]), f"{list(n)} {list(t)}")

    # Bad input: refused naming the item, nothing written.
    write(os.path.join(data, "spike_recorder-10-1.dat"), [(11, 3.0)])
    bad = os.path.join(tmp, "bad1")
    p, _ = run(data, bad, 100.0)
    check("a sender in no population is refused",
          p.returncode != 0 and "sender 11" in p.stderr and not os.path.exists(bad), p.stderr.strip())
    write(os.path.join(data, "spike_recorder-10-1.dat"), [])
    bad = os.path.join(tmp, "bad2")
    p, _ = run(data, bad, 50.0)
    check("a spike past the run's end is refused",
          p.returncode != 0 and "outside the run" in p.stderr and not os.path.exists(bad),
          p.stderr.strip())
    write(os.path.join(data, "spike_recorder-10-1.dat"), [(5, 1.0)], header="sender time\n")
    bad = os.path.join(tmp, "bad3")
    p, _ = run(data, bad, 100.0)
    check("a file not in NEST's ASCII format is refused naming it",
          p.returncode != 0 and "spike_recorder-10-1.dat" in p.stderr and not os.path.exists(bad),
          p.stderr.strip())
    write(os.path.join(data, "spike_recorder-10-1.dat"), [])
    bad = os.path.join(tmp, "bad4")
    p, _ = run(data, bad, 100.0, pops="A,B,C")
    check("a population count that does not match is refused",
          p.returncode != 0 and "2 populations" in p.stderr and not os.path.exists(bad),
          p.stderr.strip())

print(f"{checks.passed} passed, {len(checks.failed)} failed")
sys.exit(checks.status())
