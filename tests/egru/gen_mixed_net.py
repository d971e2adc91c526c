#!/usr/bin/python3
"""A random network with every event-layer type, for the engine's bit-exactness check:
tokens -> a dense *event* layer (graded events above thr, 150 units: two PEs) -> an EGRU
layer -> a dense read-out. Weights are random on the exporter's 8-bit grid, so the check is
of the arithmetic alone (no trained model).   gen_mixed_net.py OUT.json [SEED]
"""
import json
import sys

import numpy as np

out, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
rng = np.random.default_rng(seed)
V, D, H, T, SH = 20, 150, 40, 60, 5
f32 = lambda x: [float(np.float32(v)) for v in x]  # noqa: E731
tokens = rng.integers(0, V, T)


def proj(pre, post, n_in, n_out, rec, dens, sd):
    w = rng.normal(0, sd, (n_in, n_out)) * (rng.random((n_in, n_out)) < dens)
    q = np.clip(np.round(w * 2 ** SH), -127, 127)
    i, j = np.nonzero(q)
    return {"label": "%s->%s:%s" % (pre, post, rec), "pre": pre, "post": post, "receptor": rec,
            "delay": 1.0, "connector": {"type": "from_list", "pre": i.tolist(), "post": j.tolist(),
                                        "weight": [float(x) * 2.0 ** -SH for x in q[i, j]]}}


pops = [{"label": "tokens", "size": V, "model": "spike_source_array",
         "spike_times": [[float(p) for p in range(T) if tokens[p] == v] for v in range(V)]},
        {"label": "hid", "size": D, "model": "dense",
         "params": {"bias": f32(rng.normal(0, 0.3, D)), "thr": 0.1, "shift": SH, "start_step": 1}},
        {"label": "egru1", "size": H, "model": "egru",
         "params": {"thr": f32(rng.uniform(0.05, 0.4, H)), "b_u": f32(rng.normal(0, .5, H)),
                    "b_r": f32(rng.normal(0, .5, H)), "b_cx": f32(rng.normal(0, .5, H)),
                    "b_ch": f32(rng.normal(0, .5, H)), "shift_u": SH, "shift_r": SH,
                    "shift_cx": SH, "shift_ch": SH, "start_step": 2}},
        {"label": "out", "size": V, "model": "dense",
         "params": {"bias": f32(rng.normal(0, .5, V)), "shift": SH, "start_step": 3}}]
projs = [proj("tokens", "hid", V, D, "input", 0.3, 1.5)]
projs += [proj("hid", "egru1", D, H, g, 0.1, 1.0) for g in ("u", "r", "cx")]
projs += [proj("egru1", "egru1", H, H, g, 0.1, 1.0) for g in ("u", "r", "ch")]
projs += [proj("egru1", "out", H, V, "input", 0.5, 1.0)]
net = {"format": 1, "name": "mixed", "timestep_ms": 1.0, "run_ms": float(T + 3), "seed": seed,
       "populations": pops, "projections": projs,
       "recordings": [{"population": "out", "variable": "a"},
                      {"population": "hid", "variable": "a"},
                      {"population": "hid", "variable": "spikes"},
                      {"population": "egru1", "variable": "spikes"}]}
with open(out, "w") as f:
    json.dump(net, f)
