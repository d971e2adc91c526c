#!/usr/bin/env python3
"""Compare the recorded signals of a PyNN example run on pyNN.s2 and on pyNN.brian2 (docs/pynn.md,
"PyNN's examples"): the Neo files the example wrote itself (Results/<date>/*.pkl, from
bench/pynn_examples.sh's OUT/NAME.s2 and OUT/NAME.brian2), per population and signal the max
|s2 - brian2| over the whole trace, and the spike counts with the largest spike-time difference
after shifting Brian2's by +dt (docs/engine.md, A1).

    /usr/bin/python3 bench/pynn_example_v.py OUT/NAME.s2 OUT/NAME.brian2
"""
import glob
import os
import pickle
import re
import sys

import numpy as np


def blocks(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "Results", "*", "*.pkl"))):
        key = re.sub(r"_(s2|brian2)(_np\d+)?_[0-9-]+\.pkl$", "", os.path.basename(f))
        with open(f, "rb") as fh:
            out[key] = pickle.load(fh)
    return out


def main():
    a, b = blocks(sys.argv[1]), blocks(sys.argv[2])
    for key in sorted(set(a) & set(b)):
        for sa, sb in zip(a[key].segments, b[key].segments):
            for x in sa.analogsignals:
                y = [s for s in sb.analogsignals if s.name == x.name]
                if not y:
                    continue
                y = y[0]
                n = min(len(x), len(y))
                xa, ya = np.asarray(x.magnitude)[:n], np.asarray(y.magnitude)[:n]
                d = np.abs(xa - ya)
                print("%s %s: %d samples x %d channels (s2 %d, brian2 %d), max |diff| %.3g %s "
                      "(at t = %.2f ms)" % (key, x.name, n, xa.shape[1], len(x), len(y),
                                          np.nanmax(d), x.units.dimensionality,
                                          float(x.times[int(np.nanargmax(d)) // xa.shape[1]])))
            dt = float(sa.analogsignals[0].sampling_period) if sa.analogsignals else 0.1
            if sa.spiketrains and sb.spiketrains:
                ns = [len(s) for s in sa.spiketrains]
                nb = [len(s) for s in sb.spiketrains]
                dmax = max((float(np.max(np.abs(np.asarray(s) - np.asarray(r) - dt)))
                            for s, r in zip(sa.spiketrains, sb.spiketrains)
                            if len(s) == len(r) and len(s)), default=0.0)
                print("%s spikes: s2 %d, brian2 %d (per neuron equal: %s), max |t_s2 - "
                      "(t_brian2 + dt)| %.3g ms where counts agree"
                      % (key, sum(ns), sum(nb), ns == nb, dmax))


if __name__ == "__main__":
    main()
