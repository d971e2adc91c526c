#!/usr/bin/python3
"""A plain numpy reference of a NIR graph under s2's discretisation (the NIR contract).

    nir_ref.py run FILE.nir [--input NODE=FILE.npy]... [--dt S] [--reset subtract|zero]
                   [--integrator exact|euler] [--steps N] [-o OUT.json]
    nir_ref.py compare REF.json RESULTS.s2res [--vtol ABS]
    nir_ref.py netdiff FILE.nir NET.json [--dt S] [--reset ..] [--integrator ..]

`run` reads the .nir file with h5py (NIR 1.x layout), builds the populations (stateful nodes
and the top-level Inputs) and the synapses (the linear nodes between them composed, Delay
delays added, split by sign, quantised per population and receptor) and steps the graph in
float32 as the contract prescribes; it writes the spikes of every spiking population (neuron,
step) and the v of every non-spiking one (row per step, the value at the end of the step) as
JSON, with each population's threshold margin (the smallest |v - v_thresh| over the run, before
a reset: how close a spike decision came to flipping).

`compare` reads an s2ctl results file (docs/cli/results.md) and checks it against REF.json:
spikes identical per population, v within --vtol (default 1e-5 absolute, plus 1e-6 relative).
It prints the first difference of every population and exits 1 on any.

`netdiff` compares the network import-nir wrote (as JSON: s2ctl net convert NET --to json)
with the reference's: the populations, their nir_neuron parameters as float32, and the
synapses per (pre, post, receptor, delay) before quantisation. It tells an importer difference
from an engine one when `compare` fails.

The discretisation (written from the NIR node equations, not from s2's code):
  x = E[t]*w_e - I[t]*w_i + bias;  i = a_i*i + g_i*x;  v = a_v*v + b_v + g_v*i
  spike when spiking and v > v_thresh, then v -= v_thresh (subtract) or v = v_reset (zero);
  a synapse of d steps delivers a spike of step t in step t + d, d = 1 + round(delay / dt).
"""

import argparse
import json
import math
import struct
import sys
import zlib

import h5py
import numpy as np

F32 = np.float32
STATEFUL = {"LIF", "CubaLIF", "IF", "I", "LI", "CubaLI", "Threshold"}
LINEAR = {"Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten",
          "Delay", "Identity"}


class NirError(Exception):
    pass


# ---- reading ---------------------------------------------------------------------------------


def _val(ds):
    v = ds[()]
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return np.vectorize(lambda s: s.decode("utf-8") if isinstance(s, bytes) else s)(v)
    return v


def read_group(g):
    out = {}
    for k, item in g.items():
        out[k] = read_group(item) if isinstance(item, h5py.Group) else _val(item)
    return out


def flatten_graph(graph, prefix=""):
    """Nodes (dotted names) and edges of a graph with its nested graphs inlined: a nested
    graph's Input and Output nodes become identities; an edge to (from) the nested graph
    goes to its Inputs (from its Outputs)."""
    nodes, edges = {}, []
    sub_in, sub_out = {}, {}
    for name, node in graph["nodes"].items():
        full = prefix + name
        typ = node.get("type")
        if typ == "NIRGraph":
            n2, e2, _, _ = flatten_graph(node, full + ".")
            nodes.update(n2)
            edges.extend(e2)
            sub_in[name] = [full + "." + k for k, v in node["nodes"].items()
                            if v.get("type") == "Input"]
            sub_out[name] = [full + "." + k for k, v in node["nodes"].items()
                             if v.get("type") == "Output"]
        else:
            nodes[full] = dict(node)
            if prefix and typ in ("Input", "Output"):
                nodes[full]["type"] = "Identity"
                nodes[full]["_shape"] = tuple(int(s) for s in np.atleast_1d(node["shape"]))
    for a, b in np.asarray(graph["edges"]).reshape(-1, 2):
        srcs = sub_out.get(a, [prefix + a])
        dsts = sub_in.get(b, [prefix + b])
        for s in srcs:
            for d in dsts:
                edges.append((s, d))
    return nodes, edges, sub_in, sub_out


# ---- linear maps -----------------------------------------------------------------------------


def _pair(x, n=2):
    a = np.atleast_1d(np.asarray(x)).astype(np.int64)
    return tuple(int(a[0]) for _ in range(n)) if a.size == 1 else tuple(int(v) for v in a)


def conv_matrix(w, in_shape, stride, padding, dilation, groups):
    """Dense (out, in) matrix of an N-d convolution (N = 1 or 2) without bias."""
    w = np.asarray(w, dtype=np.float64)
    nd = w.ndim - 2
    cout, cin_g = w.shape[:2]
    k = w.shape[2:]
    cin = in_shape[0]
    sp = in_shape[1:]
    stride, dilation = _pair(stride, nd), _pair(dilation, nd)
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0,) * nd
        elif padding == "same":
            pad = tuple((dilation[j] * (k[j] - 1)) // 2 for j in range(nd))
        else:
            raise NirError(f"padding '{padding}'")
    else:
        pad = _pair(padding, nd)
    osp = tuple((sp[j] + 2 * pad[j] - dilation[j] * (k[j] - 1) - 1) // stride[j] + 1
                for j in range(nd))
    out_shape = (cout, *osp)
    m = np.zeros((int(np.prod(out_shape)), int(np.prod(in_shape))))
    in_idx = np.arange(int(np.prod(in_shape))).reshape(in_shape)
    out_idx = np.arange(int(np.prod(out_shape))).reshape(out_shape)
    cout_g = cout // groups
    for co in range(cout):
        g = co // cout_g
        for cig in range(cin_g):
            ci = g * cin_g + cig
            for kk in np.ndindex(*k):
                wv = w[(co, cig, *kk)]
                if wv == 0:
                    continue
                for op in np.ndindex(*osp):
                    ip = tuple(op[j] * stride[j] - pad[j] + kk[j] * dilation[j] for j in range(nd))
                    if all(0 <= ip[j] < sp[j] for j in range(nd)):
                        m[out_idx[(co, *op)], in_idx[(ci, *ip)]] += wv
    assert cin == cin_g * groups
    return m, out_shape


def pool_matrix(in_shape, kernel, stride, padding, avg):
    c, h, w = in_shape
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    m = np.zeros((c * oh * ow, c * h * w))
    for ch in range(c):
        for y in range(oh):
            for x in range(ow):
                for ky in range(kh):
                    for kx in range(kw):
                        iy, ix = y * sh - ph + ky, x * sw - pw + kx
                        if 0 <= iy < h and 0 <= ix < w:
                            m[(ch * oh + y) * ow + x, (ch * h + iy) * w + ix] += (
                                1.0 / (kh * kw) if avg else 1.0)
    return m, (c, oh, ow)


def stateful_shape(name, node):
    key = {"LIF": "tau", "CubaLIF": "tau_mem", "IF": "r", "I": "r", "LI": "tau",
           "CubaLI": "tau_mem", "Threshold": "threshold"}[node["type"]]
    shape = np.shape(node[key])
    n = int(np.prod(shape))
    for k, v in node.items():
        if k in ("type", "input_type", "output_type", "metadata"):
            continue
        if np.size(v) not in (1, n):
            raise NirError(f"node '{name}' ({node['type']}): {k} has {np.size(v)} elements, "
                           f"the node has {n}")
    return shape


def build(nodes, edges):
    """Shapes, linear matrices and biases of every node; raises NirError on a bad graph."""
    for a, b in edges:
        for x in (a, b):
            if x not in nodes:
                raise NirError(f"edge {a} -> {b}: no node '{x}'")
    preds = {k: [] for k in nodes}
    succs = {k: [] for k in nodes}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    info = {}  # name -> dict(out_shape, in_n, mat (None = identity), bias)
    for name, node in nodes.items():
        typ = node["type"]
        if typ in STATEFUL:
            s = stateful_shape(name, node)
            info[name] = {"in": int(np.prod(s)), "out_shape": s}
        elif typ == "Input":
            s = tuple(int(v) for v in np.atleast_1d(node["shape"]))
            info[name] = {"in": None, "out_shape": s}
        elif typ == "Output":
            s = tuple(int(v) for v in np.atleast_1d(node["shape"]))
            info[name] = {"in": int(np.prod(s)), "out_shape": s}
        elif typ in ("Affine", "Linear"):
            w = np.asarray(node["weight"], dtype=np.float64)
            info[name] = {"in": w.shape[1], "out_shape": (w.shape[0],), "mat": w}
            if typ == "Affine":
                info[name]["bias"] = np.asarray(node["bias"], dtype=np.float64).reshape(-1)
        elif typ == "Scale":
            s = np.asarray(node["scale"], dtype=np.float64).reshape(-1)
            info[name] = {"in": s.size, "out_shape": (s.size,), "mat": np.diag(s)}
        elif typ == "Delay":
            d = np.asarray(node["delay"], dtype=np.float64).reshape(-1)
            info[name] = {"in": d.size, "out_shape": np.shape(node["delay"]), "delay": d}
        elif typ == "Identity":
            s = node["_shape"]
            info[name] = {"in": int(np.prod(s)), "out_shape": s}
        elif typ in ("Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d"):
            info[name] = {"pending": True}
        else:
            raise NirError(f"node '{name}': unknown type '{typ}'")
    # Shapes that depend on the predecessors.
    for _ in range(len(nodes) + 1):
        for name, node in nodes.items():
            if not info[name].get("pending"):
                continue
            typ = node["type"]
            ins = [info[p]["out_shape"] for p in preds[name] if "out_shape" in info[p]]
            if typ == "Conv2d" and "input_shape" in node:
                in_shape = (np.shape(node["weight"])[1] * int(node["groups"]),
                            *_pair(node["input_shape"]))
            elif typ == "Conv1d" and "input_shape" in node:
                in_shape = (np.shape(node["weight"])[1] * int(node["groups"]),
                            int(np.atleast_1d(node["input_shape"])[0]))
            elif typ == "Flatten" and "input_type" in node and not isinstance(
                    node["input_type"], dict):
                in_shape = tuple(int(v) for v in np.atleast_1d(node["input_type"]))
            elif ins:
                in_shape = tuple(ins[0])
            else:
                continue
            if typ in ("Conv1d", "Conv2d"):
                m, out = conv_matrix(node["weight"], in_shape, node["stride"], node["padding"],
                                     node["dilation"], int(node["groups"]))
                b = np.repeat(np.asarray(node["bias"], dtype=np.float64).reshape(-1),
                              int(np.prod(out[1:])))
                info[name] = {"in": int(np.prod(in_shape)), "out_shape": out, "mat": m, "bias": b}
            elif typ in ("SumPool2d", "AvgPool2d"):
                m, out = pool_matrix(in_shape, node["kernel_size"], node["stride"],
                                     node["padding"], typ == "AvgPool2d")
                info[name] = {"in": int(np.prod(in_shape)), "out_shape": out, "mat": m}
            else:
                n = int(np.prod(in_shape))
                info[name] = {"in": n, "out_shape": (n,)}
    for name in nodes:
        if info[name].get("pending"):
            raise NirError(f"node '{name}' ({nodes[name]['type']}): input shape unknown")
    for a, b in edges:
        na, nb = int(np.prod(info[a]["out_shape"])), info[b]["in"]
        if nb is None:
            raise NirError(f"edge {a} -> {b}: node '{b}' (Input) takes no edges")
        if na != nb:
            raise NirError(f"edge {a} -> {b}: node '{a}' gives {na} elements, "
                           f"node '{b}' ({nodes[b]['type']}) takes {nb}")
    return info, preds, succs


# ---- the network -----------------------------------------------------------------------------


def coefficients(node, dt, reset, integrator):
    typ = node["type"]

    def arr(k, default=None):
        if k not in node:
            return default
        return np.asarray(node[k], dtype=np.float64).reshape(-1)

    z = 0.0
    if typ in ("LIF", "LI"):
        tau, r, vl = arr("tau"), arr("r"), arr("v_leak")
        if integrator == "exact":
            e = np.exp(-dt / tau)
            c = dict(a_i=z, g_i=1.0, a_v=e, b_v=(1 - e) * vl, g_v=(1 - e) * r)
        else:
            c = dict(a_i=z, g_i=1.0, a_v=1 - dt / tau, b_v=dt / tau * vl, g_v=dt / tau * r)
    elif typ in ("CubaLIF", "CubaLI"):
        ts, tm, r, vl = arr("tau_syn"), arr("tau_mem"), arr("r"), arr("v_leak")
        w_in = arr("w_in", np.ones(1))
        if integrator == "exact":
            es, em = np.exp(-dt / ts), np.exp(-dt / tm)
            c = dict(a_i=es, g_i=(1 - es) * w_in, a_v=em, b_v=(1 - em) * vl, g_v=(1 - em) * r)
        else:
            c = dict(a_i=1 - dt / ts, g_i=dt / ts * w_in, a_v=1 - dt / tm, b_v=dt / tm * vl,
                     g_v=dt / tm * r)
    elif typ in ("IF", "I"):
        c = dict(a_i=z, g_i=1.0, a_v=1.0, b_v=z, g_v=arr("r") * dt)
    elif typ == "Threshold":
        c = dict(a_i=z, g_i=1.0, a_v=z, b_v=z, g_v=1.0)
    c["spiking"] = 0 if typ in ("LI", "CubaLI", "I") else 1
    if typ == "Threshold":
        c.update(v_thresh=arr("threshold"), v_reset=z, reset_subtract=0)
    elif c["spiking"]:
        c.update(v_thresh=arr("v_threshold"), v_reset=arr("v_reset", np.zeros(1)),
                 reset_subtract=1 if reset == "subtract" else 0)
    else:
        c.update(v_thresh=1.0, v_reset=z, reset_subtract=0)
    return c


def compose(nodes, edges, info, succs, dt):
    """Synapses {(pre, post): {delay_steps: W (n_post, n_pre)}} and biases {post: b}."""
    pops = [n for n, v in nodes.items() if v["type"] in STATEFUL or v["type"] == "Input"]
    syn = {}
    bias = {p: np.zeros(int(np.prod(info[p]["out_shape"]))) for p in pops}

    def walk(node, delay_s, m, pre, path):
        # m: (n_out(node), n_pre) contribution at the output of `node`
        for nxt in succs[node]:
            typ = nodes[nxt]["type"]
            if typ in STATEFUL:
                if pre is None:
                    bias[nxt] += m[:, 0]
                else:
                    d = 1 + int(math.floor(delay_s / dt + 0.5))
                    key = (pre, nxt)
                    syn.setdefault(key, {})
                    syn[key][d] = syn[key].get(d, 0) + m
            elif typ == "Output":
                continue
            elif typ == "Input":
                raise NirError(f"edge {node} -> {nxt}: node '{nxt}' (Input) takes no edges")
            else:
                if nxt in path:
                    raise NirError(f"node '{nxt}' ({typ}): a cycle of linear nodes only")
                inf = info[nxt]
                if typ == "Delay":
                    for dv in np.unique(inf["delay"]):
                        mask = (inf["delay"] == dv).astype(np.float64)[:, None]
                        walk(nxt, delay_s + (0.0 if pre is None else dv), m * mask, pre,
                             path | {nxt})
                elif "mat" in inf:
                    walk(nxt, delay_s, inf["mat"] @ m, pre, path | {nxt})
                else:
                    walk(nxt, delay_s, m, pre, path | {nxt})

    for p in pops:
        n = int(np.prod(info[p]["out_shape"]))
        walk(p, 0.0, np.eye(n), p, frozenset())
    for name, inf in info.items():
        if "bias" in inf:
            walk(name, 0.0, inf["bias"][:, None], None, frozenset([name]))
    return pops, syn, bias


def quantise(pops, syn, nodes, info):
    """Per post population: w_e, w_i (float32) and integer unit matrices per projection."""
    q = {}
    for post in pops:
        if nodes[post]["type"] == "Input":
            continue
        n_post = int(np.prod(info[post]["out_shape"]))
        ws = {k: v for k, v in syn.items() if k[1] == post}
        scales = {}
        for sign in (1, -1):
            wmax, s = 0.0, np.zeros(n_post)
            for (pre, _), byd in ws.items():
                for d, m in byd.items():
                    a = np.where(sign * m > 0, np.abs(m), 0.0)
                    if a.size:
                        wmax = max(wmax, a.max())
                    s += a.sum(axis=1)
            smax = s.max() if s.size else 0.0
            w_r = max(wmax / 4000.0, smax / 65535.0) if wmax > 0 else 1e-3
            scales[sign] = w_r
        units = {}
        for (pre, _), byd in ws.items():
            for d, m in byd.items():
                ue = np.floor(np.where(m > 0, m, 0.0) / scales[1] + 0.5).astype(np.int64)
                ui = np.floor(np.where(m < 0, -m, 0.0) / scales[-1] + 0.5).astype(np.int64)
                units[(pre, d)] = (ue, ui)
        q[post] = (F32(scales[1]), F32(scales[-1]), units)
    return q


def load_inputs(specs, nodes, info):
    rasters = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        if name not in nodes or nodes[name]["type"] != "Input":
            raise NirError(f"--input {spec}: no Input node '{name}'")
        a = np.load(path)
        n = int(np.prod(info[name]["out_shape"]))
        rasters[name] = (a.reshape(a.shape[0], -1) != 0)
        if rasters[name].shape[1] != n:
            raise NirError(f"--input {spec}: {rasters[name].shape[1]} elements, "
                           f"node '{name}' has {n}")
    return rasters


def prepare(path, dt):
    with h5py.File(path, "r") as f:
        top = read_group(f["node"])
    nodes, edges, _, _ = flatten_graph(top)
    info, _, succs = build(nodes, edges)
    pops, syn, bias = compose(nodes, edges, info, succs, dt)
    return nodes, info, pops, syn, bias


def simulate(path, inputs, dt, reset, integrator, steps):
    nodes, info, pops, syn, bias = prepare(path, dt)
    q = quantise(pops, syn, nodes, info)
    rasters = load_inputs(inputs, nodes, info)
    if steps is None:
        steps = max([r.shape[0] for r in rasters.values()], default=100)
    maxd = max([d for byd in syn.values() for d in byd], default=1)
    R = maxd + 1
    st = {}
    for p in pops:
        n = int(np.prod(info[p]["out_shape"]))
        if nodes[p]["type"] == "Input":
            st[p] = {"n": n, "source": True}
            continue
        c = coefficients(nodes[p], dt, reset, integrator)
        s = {"n": n, "source": False, "spiking": c["spiking"]}
        for k in ("a_i", "g_i", "a_v", "b_v", "g_v", "v_thresh", "v_reset"):
            s[k] = np.broadcast_to(np.asarray(c[k], dtype=np.float64), (n,)).astype(F32)
        s["rs"] = c["reset_subtract"]
        s["bias"] = bias[p].astype(F32)
        s["i"] = np.zeros(n, F32)
        s["v"] = np.zeros(n, F32)
        s["E"] = np.zeros((R, n), np.int64)
        s["I"] = np.zeros((R, n), np.int64)
        s["spikes"] = []
        s["vrec"] = np.zeros((steps, n), F32)
        s["margin"] = math.inf
        st[p] = s
    for t in range(steps):
        fired = {}
        for p in pops:
            s = st[p]
            if s["source"]:
                r = rasters.get(p)
                fired[p] = (r[t] if r is not None and t < r.shape[0]
                            else np.zeros(s["n"], bool))
                continue
            w_e, w_i, _ = q[p]
            slot = t % R
            E = s["E"][slot].astype(F32)
            I = s["I"][slot].astype(F32)
            s["E"][slot] = 0
            s["I"][slot] = 0
            x = (E * w_e - I * w_i) + s["bias"]
            s["i"] = s["a_i"] * s["i"] + s["g_i"] * x
            v = (s["a_v"] * s["v"] + s["b_v"]) + s["g_v"] * s["i"]
            if s["spiking"]:
                spk = v > s["v_thresh"]
                s["margin"] = min(s["margin"], float(np.min(np.abs(v - s["v_thresh"]))))
                v = np.where(spk, (v - s["v_thresh"]) if s["rs"] else s["v_reset"], v).astype(F32)
                s["spikes"].extend((int(k), t) for k in np.nonzero(spk)[0])
            else:
                spk = np.zeros(s["n"], bool)
            s["v"] = v
            s["vrec"][t] = v
            fired[p] = spk
        for p in pops:
            if st[p]["source"]:
                continue
            for (pre, d), (ue, ui) in q[p][2].items():
                sp = fired[pre].astype(np.int64)
                st[p]["E"][(t + d) % R] += ue @ sp
                st[p]["I"][(t + d) % R] += ui @ sp
    out = {"steps": steps, "dt": dt, "reset": reset, "integrator": integrator,
           "populations": {}}
    for p in pops:
        s = st[p]
        if s["source"]:
            r = rasters.get(p)
            spk = [] if r is None else [(int(k), int(t)) for t, k in zip(*np.nonzero(r[:steps]))]
            out["populations"][p] = {"size": s["n"], "source": True, "spikes": spk}
            continue
        e = {"size": s["n"], "source": False, "spiking": bool(s["spiking"]),
             "w_e": float(q[p][0]), "w_i": float(q[p][1])}
        if s["spiking"]:
            e["spikes"] = sorted(s["spikes"], key=lambda x: (x[1], x[0]))
            e["margin"] = s["margin"]
        else:
            e["v"] = s["vrec"].tolist()
        out["populations"][p] = e
    return out


# ---- the imported network -------------------------------------------------------------------


def _values(v, n):
    if isinstance(v, dict):
        raise NirError(f"a distribution {v} where values were expected")
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))


def netdiff(path, net_json, dt, reset, integrator):
    """Compare an imported network (s2ctl net convert NET --to json) with the reference's:
    populations, their nir_neuron parameters (as float32) and the composed synapses. Prints
    every difference; returns their number."""
    nodes, info, pops, syn, bias = prepare(path, dt)
    with open(net_json) as f:
        net = json.load(f)
    bad = []
    got_pops = {p["label"]: p for p in net["populations"]}
    dt_ms = net.get("timestep_ms", dt * 1e3)
    for p in pops:
        n = int(np.prod(info[p]["out_shape"]))
        g = got_pops.get(p)
        if g is None:
            bad.append(f"population {p}: missing")
            continue
        if g["size"] != n:
            bad.append(f"population {p}: size {g['size']}, want {n}")
            continue
        if nodes[p]["type"] == "Input":
            continue
        c = coefficients(nodes[p], dt, reset, integrator)
        c["bias"] = bias[p]
        params = g.get("params", {})
        keys = ["a_i", "g_i", "a_v", "b_v", "g_v", "bias", "spiking"]
        if c["spiking"]:  # the threshold and reset of a read-out never act
            keys += ["v_thresh", "v_reset", "reset_subtract"]
        for k in keys:
            want = np.broadcast_to(np.asarray(c[k], dtype=np.float64), (n,)).astype(F32)
            have = _values(params.get(k, DEFAULTS[k]), n).astype(F32)
            if not np.array_equal(want, have):
                j = int(np.argmax(want != have))
                bad.append(f"population {p}: {k}[{j}] = {have[j]!r}, reference {want[j]!r} "
                           f"(float32; {int(np.sum(want != have))} of {n} differ, max |diff| "
                           f"{float(np.max(np.abs(want.astype(np.float64) - have))):.3g})")
    # Synapses: {(pre, post, receptor, delay_steps): {(i, j): weight}}
    have = {}
    for pr in net["projections"]:
        fl = pr.get("connector", {})
        if fl.get("type") != "from_list":
            bad.append(f"projection {pr['pre']} -> {pr['post']}: connector {fl.get('type')}")
            continue
        k = len(fl["pre"])
        w = _values(fl.get("weight", pr.get("weight", 0)), k)
        d = _values(fl.get("delay", pr.get("delay", dt_ms)), k)
        rec = pr.get("receptor", "excitatory")
        for a, b, wv, dv in zip(fl["pre"], fl["post"], w, d):
            key = (pr["pre"], pr["post"], rec, int(round(dv / dt_ms)))
            have.setdefault(key, {})
            have[key][(b, a)] = have[key].get((b, a), 0.0) + wv
    want = {}
    for (pre, post), byd in syn.items():
        for d, m in byd.items():
            for rec, sel in (("excitatory", m > 0), ("inhibitory", m < 0)):
                jj, ii = np.nonzero(sel)
                if len(jj):
                    want[(pre, post, rec, d)] = {(int(j), int(i)): abs(float(m[j, i]))
                                                 for j, i in zip(jj, ii)}
    for key in sorted(set(want) | set(have)):
        w, h = want.get(key, {}), have.get(key, {})
        name = f"synapses {key[0]} -> {key[1]} {key[2]} delay {key[3]} steps"
        if set(w) != set(h):
            extra, miss = set(h) - set(w), set(w) - set(h)
            bad.append(f"{name}: {len(h)} synapses, reference {len(w)} ({len(miss)} missing, "
                       f"{len(extra)} extra; e.g. {sorted(miss or extra)[:3]} as (post, pre))")
            continue
        worst = max((abs(h[x] - w[x]) / max(abs(w[x]), 1e-30) for x in w), default=0.0)
        if worst > 1e-9:
            bad.append(f"{name}: weights differ, max relative {worst:.3g}")
    print("\n".join("    " + s for s in bad) if bad else
          f"    network equals the reference: {len(pops)} populations, "
          f"{sum(len(v) for v in want.values())} synapses")
    return len(bad)


DEFAULTS = {"a_i": 0.0, "g_i": 1.0, "a_v": 1.0, "b_v": 0.0, "g_v": 1.0, "bias": 0.0,
            "v_thresh": 1.0, "v_reset": 0.0, "reset_subtract": 0, "spiking": 1}


# ---- results files ---------------------------------------------------------------------------


def read_s2file(path, kind):
    """Sections of an s2 file container (docs/files.md), each checked against its CRC-32."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 32 or b[:4] != b"S2FC":
        raise ValueError(f"{path}: not an s2 file")
    cver, ver, k, n, total, tlen, hcrc = struct.unpack_from("<HH4sIQII", b, 4)
    if cver != 1 or k != kind.encode() or total != len(b):
        raise ValueError(f"{path}: not a complete s2 {kind} file")
    if zlib.crc32(b[:28] + b[32:32 + tlen]) != hcrc:
        raise ValueError(f"{path}: header fails its checksum")
    secs, t, o = [], 32, 32 + tlen
    for _ in range(n):
        ln, crc, nl = struct.unpack_from("<QIB", b, t)
        name = b[t + 13:t + 13 + nl].decode()
        t += 13 + nl
        data = b[o:o + ln]
        o += ln
        if zlib.crc32(data) != crc:
            raise ValueError(f"{path}: section '{name}' fails its checksum")
        secs.append((name, data))
    return ver, secs


def read_s2res(path):
    ver, secs = read_s2file(path, "RSLT")
    # 3 added counters after the populations, 4 the real-time budget's (docs/cli/results.md)
    if ver not in (2, 3, 4):
        raise ValueError(f"{path}: results format {ver}, this reads 2 to 4")
    dt_ms, steps, n_pops, n_boards, flags = struct.unpack_from("<dIIII", secs[0][1], 0)
    if not flags & 1:
        raise ValueError(f"{path}: partial run")
    pops = {}
    for i in range(n_pops):
        b = secs[2 + 2 * i][1]
        (ll,) = struct.unpack_from("<H", b, 0)
        label = b[2:2 + ll].decode("utf-8")
        size, nsp = struct.unpack_from("<IQ", b, 2 + ll)
        sp = np.frombuffer(b, dtype="<u4", count=2 * nsp, offset=14 + ll).reshape(-1, 2)
        b = secs[3 + 2 * i][1]
        (nv,) = struct.unpack_from("<I", b, 0)
        vn = np.frombuffer(b, dtype="<u4", count=nv, offset=4)
        vv = np.frombuffer(b, dtype="<f4", count=steps * nv, offset=4 + 4 * nv).reshape(steps, nv)
        pops[label] = {"size": size, "spikes": sp, "vn": vn, "v": vv}
    return {"dt_ms": dt_ms, "steps": steps, "populations": pops}


def compare(ref_path, res_path, vtol):
    with open(ref_path) as f:
        ref = json.load(f)
    res = read_s2res(res_path)
    bad = 0
    lines = []
    for label, r in ref["populations"].items():
        got = res["populations"].get(label)
        if got is None:
            if r.get("source"):
                continue
            lines.append(f"{label}: missing from the results")
            bad += 1
            continue
        if "spikes" in r and (not r.get("source") or len(got["spikes"])):
            want = set(map(tuple, r["spikes"]))
            have = set(map(tuple, got["spikes"].tolist()))
            if want == have:
                lines.append(f"{label}: {len(want)} spikes identical"
                             + (f" (threshold margin {r['margin']:.3g})" if "margin" in r else ""))
            else:
                bad += 1
                first = min((s for s in want ^ have), key=lambda x: (x[1], x[0]))
                lines.append(f"{label}: spikes differ: reference {len(want)}, results "
                             f"{len(have)}, {len(want - have)} only in the reference, "
                             f"{len(have - want)} only in the results; first difference "
                             f"neuron {first[0]} step {first[1]} "
                             f"({'reference' if first in want else 'results'} only)")
        if "v" in r:
            want = np.asarray(r["v"], dtype=np.float32)
            vn = got["vn"]
            if len(vn) == 0:
                bad += 1
                lines.append(f"{label}: no v recorded")
                continue
            have = got["v"]
            w = want[: have.shape[0], vn]
            diff = np.abs(have.astype(np.float64) - w)
            lim = vtol + 1e-6 * np.abs(w)
            worst = float(diff.max()) if diff.size else 0.0
            if have.shape[0] != want.shape[0] or np.any(~(diff <= lim)):
                bad += 1
                st, nn = np.unravel_index(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)),
                                          diff.shape)
                lines.append(f"{label}: v differs: max |diff| {worst:.3g} at step {st} neuron "
                             f"{vn[nn]} (reference {w[st, nn]:.7g}, results {have[st, nn]:.7g}); "
                             f"steps {have.shape[0]} vs {want.shape[0]}")
            else:
                lines.append(f"{label}: v of {len(vn)} neurons x {have.shape[0]} steps within "
                             f"{vtol:g} (max |diff| {worst:.3g})")
    for label in res["populations"]:
        if label not in ref["populations"]:
            lines.append(f"{label}: in the results, not in the reference")
            bad += 1
    print("\n".join("    " + s for s in lines))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("nir")
    r.add_argument("--input", action="append", default=[])
    r.add_argument("--dt", type=float, default=0.001)
    r.add_argument("--reset", choices=["subtract", "zero"], default="subtract")
    r.add_argument("--integrator", choices=["exact", "euler"], default="exact")
    r.add_argument("--steps", type=int)
    r.add_argument("-o", "--output")
    r.add_argument("--summary", action="store_true", help="print spike counts per population")
    nd = sub.add_parser("netdiff")
    nd.add_argument("nir")
    nd.add_argument("net_json")
    nd.add_argument("--dt", type=float, default=0.001)
    nd.add_argument("--reset", choices=["subtract", "zero"], default="subtract")
    nd.add_argument("--integrator", choices=["exact", "euler"], default="exact")
    nd.add_argument("--steps", type=int, help="ignored (accepted like run)")
    c = sub.add_parser("compare")
    c.add_argument("ref")
    c.add_argument("results")
    c.add_argument("--vtol", type=float, default=1e-5)
    a = ap.parse_args()
    if a.cmd == "compare":
        sys.exit(1 if compare(a.ref, a.results, a.vtol) else 0)
    if a.cmd == "netdiff":
        sys.exit(1 if netdiff(a.nir, a.net_json, a.dt, a.reset, a.integrator) else 0)
    try:
        out = simulate(a.nir, a.input, a.dt, a.reset, a.integrator, a.steps)
    except NirError as e:
        sys.exit(f"nir_ref: {a.nir}: {e}")
    if a.output:
        with open(a.output, "w") as f:
            json.dump(out, f)
    if a.summary or not a.output:
        for p, e in out["populations"].items():
            if "spikes" in e:
                n_act = len({s[0] for s in e["spikes"]})
                extra = f", margin {e['margin']:.3g}" if "margin" in e else ""
                print(f"{p}: {e['size']} neurons, {len(e['spikes'])} spikes, {n_act} active, "
                      f"rate {len(e['spikes']) / e['size'] / out['steps']:.3f}/step{extra}")
            else:
                v = np.asarray(e["v"])
                print(f"{p}: {e['size']} read-outs, v in [{v.min():.3g}, {v.max():.3g}]")


if __name__ == "__main__":
    main()
