#!/usr/bin/env python3
"""pyNN.s2 against pyNN.brian2 on the example of docs/pynn.md (tests/pynn/example_pynn.py).

Needs S2CTL, S2EMU, S2_FIRMWARE (ctest sets them); exit 77 if pyNN or Brian2 is missing.
Compared:
 - single neurons (SpikeSourceArray -> strong excitatory synapse; DC i_offset): the same number
   of spikes, each within one timestep (0.1 ms + 1e-6). Brian2 stamps a spike with the start
   of its step, s2 with the end (docs/engine.md, A1): Brian2's times are shifted by +dt.
   tau_refrac is 0 so the refractory conventions (A2) do not enter.
 - 100 Poisson sources (40 Hz) -> 100 IF_curr_exp, FixedProbabilityConnector(0.5), 2 s: the
   mean output rate within 10 % of Brian2's (different random realisations of the Poisson
   trains and of the connectivity: the spread between seeds is a few per cent).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
try:
    import warnings
    warnings.filterwarnings("ignore")
    import pyNN  # noqa: F401
    import brian2
    import logging
    logging.getLogger("brian2").setLevel(logging.ERROR)
    brian2.prefs.codegen.target = "numpy"
    import pyNN.brian2 as ref
except ImportError as e:
    print("test_pynn_s2: skipped, %s" % e)
    sys.exit(77)
import pyNN_s2  # noqa: F401,E402  registers pyNN.s2
import pyNN.s2 as s2  # noqa: E402
import example_pynn as ex  # noqa: E402

DT = 0.1
TOL = DT + 1e-6


def main():
    fails = 0
    t0 = time.time()
    a = ex.single_neurons(ref)
    b = ex.single_neurons(s2)
    for name in a:
        r = [round(t + DT, 6) for t in a[name]]  # A1
        s = b[name]
        ok = len(r) == len(s) and len(r) > 0 and all(abs(x - y) <= TOL for x, y in zip(r, s))
        dmax = max((abs(x - y) for x, y in zip(r, s)), default=0.0)
        print("%s single neuron '%s': brian2 (+dt) %d spikes %s" % (
            "PASS" if ok else "FAIL", name, len(r), r))
        print("     s2 %d spikes %s; max |diff| %.4f ms (tolerance %.4f)" % (
            len(s), [round(x, 4) for x in s], dmax, TOL))
        fails += not ok
    dur = 2000.0
    ro, ri = ex.poisson_network(ref, duration=dur)
    so, si = ex.poisson_network(s2, duration=dur)
    rel = abs(so - ro) / ro if ro > 0 else float("inf")
    ok = rel <= 0.10 and ro > 1.0
    print("%s poisson network: output rate brian2 %.2f Hz, s2 %.2f Hz (%.1f %%, tolerance 10 %%);"
          " input rate brian2 %.2f Hz, s2 %.2f Hz" % ("PASS" if ok else "FAIL", ro, so,
                                                    100 * rel, ri, si))
    fails += not ok
    print("test_pynn_s2: %d failed, %.1f s" % (fails, time.time() - t0))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
