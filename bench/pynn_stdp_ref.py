"""NumPy reference for PyNN 0.10.1's simple_STDP example (docs/pynn.md "PyNN's examples"):
the final weights of its 60 synapses from the published additive STDP rule (all-to-all
traces, pre before post at equal times, axonal delay as pyNN.brian2), given the post spike
times the simulator recorded, against the weights the example printed.
  python3 bench/pynn_stdp_ref.py OUTPUT [DT_MS] [STAMP_SHIFT_MS]
OUTPUT: the example's standard output; STAMP_SHIFT_MS: what to subtract from the printed
post spike times to get the start of the spike's step (s2: DT; Brian2: 0)."""
import re
import sys

import numpy as np

out = open(sys.argv[1]).read()
post = [float(x) for x in re.search(r"Post-synaptic spike times: \[([^\]]*)\]", out).group(1).split()]
fw = np.array([float(x) for x in re.search(r"Final weights: \[([^\]]*)\]", out, re.S).group(1).split()])
dt = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
shift = float(sys.argv[3]) if len(sys.argv) > 3 else dt   # s2 stamps the end of the step
n, period, delta_t, delay = 60, 100.0, 1.0, 3.0
t_stop = 10 * period + n * delta_t
p = dict(w_min=0.0, w_max=1e-7, tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012)


def ref(pre, post, w):
    ev = sorted([(t, 0) for t in pre] + [(t, 1) for t in post])
    P = M = last = 0.0
    for t, k in ev:
        P *= np.exp(-(t - last) / p["tau_plus"])
        M *= np.exp(-(t - last) / p["tau_minus"])
        last = t
        if k == 0:
            w -= p["w_max"] * p["A_minus"] * M
            P += 1
        else:
            w += p["w_max"] * p["A_plus"] * P
            M += 1
        w = min(max(w, p["w_min"]), p["w_max"])
    return w


tp = np.round(np.array(post) - shift, 6)
r = []
for j in range(n):
    pre = np.arange(period + (j - n // 2) * delta_t, t_stop, period)
    r.append(ref(list(np.round(pre / dt) * dt + delay), list(tp), 5e-8))
r = np.array(r)
print("max |s2 - numpy| %.3g of w_max (%d weights, dw %.3g..%.3g)" % (np.max(np.abs(fw - r)) / 1e-7, n, (r - 5e-8).min(), (r - 5e-8).max()))
