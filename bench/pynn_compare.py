#!/usr/bin/env python3
"""pyNN.s2 against pyNN.brian2 at full size (docs/pynn.md): the Vogels-Abbott benchmark with
4000 neurons (CUBA and COBA) for 1 s of biological time, over seeds, and the synfire chain;
prints the mean rates and their differences. The same scripts as tests/pynn/test_pynn_s2.py
(tests/pynn/scripts_pynn.py), which runs them at 1000 neurons.

    S2CTL=build/host-debug/host/s2ctl S2EMU=build/host-debug/tools/s2emu \\
    S2_FIRMWARE=build/cm4f/firmware/monitor/s2_monitor.bin \\
        /usr/bin/python3 bench/pynn_compare.py [--n 4000] [--duration 1000] [--seeds 4]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pynn"))
sys.argv, _argv = sys.argv[:1], sys.argv[1:]
import test_pynn_s2 as t  # noqa: E402  (Brian2 set up as in the test: RK4, batched connect)

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=4000)
ap.add_argument("--duration", type=float, default=1000.0)
ap.add_argument("--seeds", type=int, default=4)
a = ap.parse_args(_argv)
for bench in ("CUBA", "COBA"):
    res = {}
    for name, sim in (("brian2", t.ref), ("s2", t.s2)):
        rs, t0 = [], time.time()
        for k in range(1, a.seeds + 1):
            t.brian2.seed(k)
            rs.append(t.sc.vogels_abbott(sim, bench, n=a.n, duration=a.duration, seed=k))
        res[name] = (sum(r[0] for r in rs) / len(rs), sum(r[1] for r in rs) / len(rs))
        print("%s %s %d neurons %g ms: per seed (E, I) Hz %s; %.1f s" % (
            bench, name, a.n, a.duration, ", ".join("(%.2f, %.2f)" % r for r in rs),
            time.time() - t0), flush=True)
    print("%s mean over %d seeds: E brian2 %.2f Hz, s2 %.2f Hz (%.1f %%); I brian2 %.2f Hz, "
          "s2 %.2f Hz (%.1f %%)" % (bench, a.seeds, res["brian2"][0], res["s2"][0],
                                    100 * t.rel(res["s2"][0], res["brian2"][0]),
                                    res["brian2"][1], res["s2"][1],
                                    100 * t.rel(res["s2"][1], res["brian2"][1])), flush=True)
t.test_synfire()
