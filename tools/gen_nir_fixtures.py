#!/usr/bin/python3
"""Write the NIR test fixtures of tests/integration/test_nir.sh.

    /usr/bin/python3 tools/gen_nir_fixtures.py OUTDIR

Writes, deterministically (fixed seeds), NIR 1.x HDF5 files exactly as nir.write of the nir
library 1.0.7 writes them (root dataset `version`, group `node` = the top NIRGraph; a node
group holds `type` and one dataset per field of the node's class, float32 parameter arrays,
`edges` as (N, 2) variable-length UTF-8 strings; no `input_type`/`output_type`, which nir.write
leaves out, except Flatten's `input_type` dataset, which it keeps; tests/nir/nir_schema.py
checks that), and for every fixture an input raster `NAME.input.npy` (uint8, T x input shape;
nonzero = a spike in step t):

  lif_layer  Input(20) -> Affine(20->10, bias) -> LIF(10) -> Output
  two_lif    Input(16) -> Linear(16->12) -> LIF(12) -> Affine(12->8) -> CubaLIF(8) -> Output
  conv       Input(2x8x8) -> Conv2d(2->4, k3, pad 1, bias) -> LIF(4x8x8) -> SumPool2d(2)
             -> Flatten -> Affine(64->16) -> LIF(16) -> Affine(16->4) -> LI(4) -> Output
  recurrent  Input(10) -> Affine(10->15) -> LIF(15), LIF -> Affine(15->15, bias) -> LIF
             (a cycle through the neuron) -> Output
  nested     Input(12) -> Delay(0..3 ms) -> Scale (with metadata) -> NIRGraph sub {Input
             -> Affine(12->6) -> LIF(6) -> Output} -> Linear(6->3) -> IF(3) -> Output
  readouts   Input(2x6x6) -> AvgPool2d(2) -> Flatten -> Affine(18->10, bias) -> Threshold(10),
             Threshold -> Linear(10->3) -> I(3) -> Output, Threshold -> Affine(10->3)
             -> CubaLI(3) -> Output (two outputs; the Threshold spikes, I and CubaLI give v)
  lif_dt01   lif_layer with r = 20 and 600 steps, for dt = 0.1 ms
  conv_groups  Input(2x9x9) -> Conv2d(groups 2, stride 2, pad 1) -> LIF(4x5x5)
             -> Conv2d('valid', dilation 2) -> CubaLIF(2x3x3, v_reset -0.2) -> Output
             (nir 1.0.7 types a Conv2d's input as weight.shape[1] channels whatever
             `groups` is, so its own type check refuses every grouped convolution:
             nir.read(..., type_check=False) reads this file)

and in the older form that earlier writers used and that s2 keeps importing (every node and
graph with `input_type`/`output_type` groups, LIF and IF without `v_reset`; nir 1.0.7 itself
refuses `input_type` on a Linear):

  two_lif_legacy  two_lif in that form

and the broken files the importer must refuse, naming the node:

  bad_edge   lif_layer with an edge from `lif` to the missing node `ghost`
  bad_shape  lif_layer whose LIF `lif` has parameters of 12 elements (its input has 10)
  bad_param  lif_layer whose LIF `lif` has a tau of 7 elements (r etc. of 10)
  bad_mismatch  lif_layer plus `lif` (10) -> Linear `lin2` (12 -> 3) -> LIF

The input name of every fixture is `input`; `fixtures.json` lists the fixtures and their T.
Only h5py and numpy are needed (not the nir package).
"""

import json
import os
import sys

import h5py
import numpy as np

NIR_VERSION = "1.0.7"  # the nir release whose nir.write this mirrors
F32 = np.float32


def f32(a):
    return np.asarray(a, dtype=F32)


def shape_arr(shape):
    return np.asarray(shape, dtype=np.int64)


# ---- node constructors: dicts of the datasets nir.write would store -------------------------
# Keys whose value is a dict become groups; strings become variable-length UTF-8 strings.


def n_input(shape):
    return {"type": "Input", "shape": shape_arr(shape)}


def n_output(shape):
    return {"type": "Output", "shape": shape_arr(shape)}


def n_affine(w, b):
    w = f32(w)
    return {"type": "Affine", "weight": w, "bias": f32(b)}


def n_linear(w):
    w = f32(w)
    return {"type": "Linear", "weight": w}


def n_scale(s):
    s = f32(s)
    return {"type": "Scale", "scale": s}


def n_delay(d):
    d = f32(d)
    return {"type": "Delay", "delay": d}


def n_lif(tau, r, v_leak, v_threshold, v_reset=None):
    tau = f32(tau)
    v_reset = np.zeros_like(tau) if v_reset is None else f32(v_reset)
    return {"type": "LIF", "tau": tau, "r": f32(r), "v_leak": f32(v_leak),
            "v_threshold": f32(v_threshold), "v_reset": v_reset}


def n_cubalif(tau_syn, tau_mem, r, v_leak, v_threshold, w_in, v_reset=None):
    tau_mem = f32(tau_mem)
    v_reset = np.zeros_like(tau_mem) if v_reset is None else f32(v_reset)
    return {"type": "CubaLIF", "tau_syn": f32(tau_syn), "tau_mem": tau_mem, "r": f32(r),
            "v_leak": f32(v_leak), "v_threshold": f32(v_threshold), "v_reset": v_reset,
            "w_in": f32(w_in)}


def n_li(tau, r, v_leak):
    tau = f32(tau)
    return {"type": "LI", "tau": tau, "r": f32(r), "v_leak": f32(v_leak)}


def n_if(r, v_threshold, v_reset=None):
    r = f32(r)
    v_reset = np.zeros_like(r) if v_reset is None else f32(v_reset)
    return {"type": "IF", "r": r, "v_threshold": f32(v_threshold), "v_reset": v_reset}


def n_conv2d(input_shape, w, b, stride=1, padding=1, dilation=1, groups=1):
    def pair(x):
        return shape_arr((x, x)) if np.isscalar(x) else shape_arr(x)
    return {"type": "Conv2d", "input_shape": shape_arr(input_shape), "weight": f32(w),
            "stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation),
            "groups": np.int64(groups), "bias": f32(b)}


def n_sumpool2d(k, stride, padding=0):
    return {"type": "SumPool2d", "kernel_size": shape_arr((k, k)),
            "stride": shape_arr((stride, stride)), "padding": shape_arr((padding, padding))}


def n_flatten(input_shape, start_dim=0, end_dim=-1):
    return {"type": "Flatten", "start_dim": np.int64(start_dim), "end_dim": np.int64(end_dim),
            "input_type": shape_arr(input_shape)}


def n_graph(nodes, edges):
    return {"type": "NIRGraph", "nodes": nodes, "edges": edges}


def io_shapes(node):
    """(input shape, output shape) of a node of these fixtures, as the older writers stored
    them (None where they stored none)."""
    t = node["type"]
    if t in ("Affine", "Linear"):
        return node["weight"].shape[1:], node["weight"].shape[:1]
    key = {"Scale": "scale", "Delay": "delay", "LIF": "tau", "CubaLIF": "tau_mem", "LI": "tau",
           "IF": "r", "Threshold": "threshold", "I": "r", "CubaLI": "tau_mem"}.get(t)
    return (node[key].shape, node[key].shape) if key else (None, None)


def legacy(node):
    """The older form of a node (and of the nodes of a graph): `input_type`/`output_type`
    groups everywhere, no `v_reset` on LIF and IF (zero, as nir reads it)."""
    node = dict(node)
    t = node["type"]
    if t == "NIRGraph":
        node["nodes"] = {k: legacy(v) for k, v in node["nodes"].items()}
        nodes = node["nodes"]
        node["input_type"] = {k: v["shape"] for k, v in nodes.items() if v["type"] == "Input"}
        node["output_type"] = {k: v["shape"] for k, v in nodes.items() if v["type"] == "Output"}
    elif t == "Input":
        node["input_type"] = {"input": node["shape"]}
    elif t == "Output":
        node["output_type"] = {"output": node["shape"]}
    else:
        i, o = io_shapes(node)
        if i is not None:
            node["input_type"] = {"input": shape_arr(i)}
            node["output_type"] = {"output": shape_arr(o)}
        if t in ("LIF", "IF") and not node["v_reset"].any():
            del node["v_reset"]
    return node


def write_group(group, node):
    for key, val in node.items():
        if key == "edges":
            e = np.array(val, dtype=object).reshape(-1, 2)
            group.create_dataset(key, data=e, dtype=h5py.string_dtype("utf-8"))
        elif isinstance(val, dict):
            write_group(group.create_group(key), val)
        elif isinstance(val, str):
            group.create_dataset(key, data=val, dtype=h5py.string_dtype())
        elif isinstance(val, np.ndarray):
            group.create_dataset(key, data=val, dtype=val.dtype)
        else:
            group.create_dataset(key, data=val)


def write_nir(path, graph):
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data=NIR_VERSION, dtype=h5py.string_dtype())
        write_group(f.create_group("node"), graph)


def raster(rng, T, shape, p):
    return (rng.random((T, *shape)) < p).astype(np.uint8)


# ---- the fixtures --------------------------------------------------------------------------


def lif_layer(rng, r=2.0, steps=150):
    n_in, n = 20, 10
    w = rng.normal(0.45, 0.5, (n, n_in))
    b = rng.uniform(0.0, 0.05, n)
    nodes = {
        "input": n_input((n_in,)),
        "fc": n_affine(w, b),
        "lif": n_lif(tau=rng.uniform(0.01, 0.03, n), r=np.full(n, r),
                     v_leak=np.zeros(n), v_threshold=np.full(n, 1.0)),
        "output": n_output((n,)),
    }
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    return n_graph(nodes, edges), raster(rng, steps, (n_in,), 0.12)


def two_lif(rng):
    n_in, n1, n2 = 16, 12, 8
    nodes = {
        "input": n_input((n_in,)),
        "lin": n_linear(rng.normal(0.5, 0.6, (n1, n_in))),
        "lif1": n_lif(tau=np.full(n1, 0.02), r=rng.uniform(1.5, 2.5, n1),
                      v_leak=np.full(n1, 0.1), v_threshold=np.full(n1, 1.0)),
        "fc2": n_affine(rng.normal(0.9, 1.0, (n2, n1)), rng.uniform(-0.02, 0.05, n2)),
        "cuba": n_cubalif(tau_syn=rng.uniform(0.004, 0.008, n2), tau_mem=np.full(n2, 0.02),
                          r=np.full(n2, 2.5), v_leak=np.zeros(n2),
                          v_threshold=np.full(n2, 1.0), w_in=np.full(n2, 1.5)),
        "output": n_output((n2,)),
    }
    edges = [("input", "lin"), ("lin", "lif1"), ("lif1", "fc2"), ("fc2", "cuba"),
             ("cuba", "output")]
    return n_graph(nodes, edges), raster(rng, 160, (n_in,), 0.15)


def conv(rng):
    cin, cout, hw = 2, 4, 8
    nh, no = 16, 4
    nodes = {
        "input": n_input((cin, hw, hw)),
        "conv": n_conv2d((hw, hw), rng.normal(0.35, 0.35, (cout, cin, 3, 3)),
                         rng.uniform(0.0, 0.03, cout), stride=1, padding=1),
        "lif_c": n_lif(tau=np.full((cout, hw, hw), 0.015), r=np.full((cout, hw, hw), 2.0),
                       v_leak=np.zeros((cout, hw, hw)), v_threshold=np.full((cout, hw, hw), 1.0)),
        "pool": n_sumpool2d(2, 2, 0),
        "flat": n_flatten((cout, hw // 2, hw // 2)),
        "fc1": n_affine(rng.normal(0.2, 0.3, (nh, cout * 16)), rng.uniform(0.0, 0.03, nh)),
        "lif_h": n_lif(tau=np.full(nh, 0.02), r=np.full(nh, 2.0), v_leak=np.zeros(nh),
                       v_threshold=np.full(nh, 1.0)),
        "fc_out": n_affine(rng.normal(0.6, 0.8, (no, nh)), rng.uniform(-0.05, 0.05, no)),
        "li": n_li(tau=np.full(no, 0.03), r=np.full(no, 1.0), v_leak=np.zeros(no)),
        "output": n_output((no,)),
    }
    edges = [("input", "conv"), ("conv", "lif_c"), ("lif_c", "pool"), ("pool", "flat"),
             ("flat", "fc1"), ("fc1", "lif_h"), ("lif_h", "fc_out"), ("fc_out", "li"),
             ("li", "output")]
    return n_graph(nodes, edges), raster(rng, 120, (cin, hw, hw), 0.1)


def recurrent(rng):
    n_in, n = 10, 15
    w_rec = rng.normal(0.0, 0.35, (n, n))
    np.fill_diagonal(w_rec, 0.0)
    nodes = {
        "input": n_input((n_in,)),
        "fc_in": n_affine(rng.normal(0.5, 0.5, (n, n_in)), np.zeros(n)),
        "lif_r": n_lif(tau=np.full(n, 0.02), r=np.full(n, 2.0), v_leak=np.zeros(n),
                       v_threshold=np.full(n, 1.0)),
        "rec": n_affine(w_rec, rng.uniform(-0.02, 0.04, n)),
        "output": n_output((n,)),
    }
    edges = [("input", "fc_in"), ("fc_in", "lif_r"), ("lif_r", "rec"), ("rec", "lif_r"),
             ("lif_r", "output")]
    return n_graph(nodes, edges), raster(rng, 150, (n_in,), 0.1)


def nested(rng):
    n_in, n, no = 12, 6, 3
    sub = n_graph({
        "input": n_input((n_in,)),
        "fc": n_affine(rng.normal(0.4, 0.5, (n, n_in)), rng.uniform(0.0, 0.04, n)),
        "lif": n_lif(tau=np.full(n, 0.02), r=np.full(n, 2.0), v_leak=np.zeros(n),
                     v_threshold=np.full(n, 1.0)),
        "output": n_output((n,)),
    }, [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    nodes = {
        "input": n_input((n_in,)),
        "delay": n_delay(rng.integers(0, 4, n_in) * 0.001),
        # metadata, which nir.write stores as a group when it is not empty: s2 ignores it
        "scale": dict(n_scale(rng.uniform(0.8, 1.6, n_in)),
                      metadata={"origin": "gen_nir_fixtures", "gain": F32(1.0)}),
        "sub": sub,
        "fc_o": n_linear(rng.normal(0.25, 0.3, (no, n))),
        "if": n_if(r=np.full(no, 1000.0), v_threshold=np.full(no, 1.0)),
        "output": n_output((no,)),
    }
    edges = [("input", "delay"), ("delay", "scale"), ("scale", "sub"), ("sub", "fc_o"),
             ("fc_o", "if"), ("if", "output")]
    return n_graph(nodes, edges), raster(rng, 150, (n_in,), 0.12)


def n_avgpool2d(k, stride, padding=0):
    return dict(n_sumpool2d(k, stride, padding), type="AvgPool2d")


def n_threshold(th):
    th = f32(th)
    return {"type": "Threshold", "threshold": th}


def n_i(r):
    r = f32(r)
    return {"type": "I", "r": r}


def n_cubali(tau_syn, tau_mem, r, v_leak, w_in):
    tau_mem = f32(tau_mem)
    return {"type": "CubaLI", "tau_syn": f32(tau_syn), "tau_mem": tau_mem, "r": f32(r),
            "v_leak": f32(v_leak), "w_in": f32(w_in)}


def readouts(rng):
    c, hw, n, no = 2, 6, 10, 3
    nodes = {
        "input": n_input((c, hw, hw)),
        "avg": n_avgpool2d(2, 2, 0),
        "flat": n_flatten((c, hw // 2, hw // 2)),
        "fc": n_affine(rng.normal(0.1, 0.5, (n, c * 9)), rng.uniform(-0.05, 0.05, n)),
        "thr": n_threshold(np.full(n, 0.6)),
        "lin_i": n_linear(rng.normal(0.2, 0.3, (no, n))),
        "integ": n_i(np.full(no, 100.0)),
        "fc_c": n_affine(rng.normal(0.1, 0.4, (no, n)), np.zeros(no)),
        "cli": n_cubali(np.full(no, 0.005), np.full(no, 0.02), np.full(no, 2.0),
                        np.full(no, 0.1), np.full(no, 1.2)),
        "out_i": n_output((no,)),
        "out_c": n_output((no,)),
    }
    edges = [("input", "avg"), ("avg", "flat"), ("flat", "fc"), ("fc", "thr"),
             ("thr", "lin_i"), ("lin_i", "integ"), ("integ", "out_i"), ("thr", "fc_c"),
             ("fc_c", "cli"), ("cli", "out_c")]
    return n_graph(nodes, edges), raster(rng, 120, (c, hw, hw), 0.12)


def conv_groups(rng):
    c, hw = 2, 9
    nodes = {
        "input": n_input((c, hw, hw)),
        "conv_a": n_conv2d((hw, hw), rng.normal(0.8, 0.4, (4, 1, 3, 3)),
                           rng.uniform(0.0, 0.05, 4), stride=2, padding=1, groups=2),
        "lif_a": n_lif(tau=np.full((4, 5, 5), 0.015), r=np.full((4, 5, 5), 2.0),
                       v_leak=np.zeros((4, 5, 5)), v_threshold=np.full((4, 5, 5), 1.0)),
        "conv_b": dict(n_conv2d((5, 5), rng.normal(1.3, 0.5, (2, 4, 2, 2)),
                                rng.uniform(-0.02, 0.02, 2), stride=1, dilation=2),
                       padding="valid"),
        "lif_b": n_cubalif(tau_syn=np.full((2, 3, 3), 0.005), tau_mem=np.full((2, 3, 3), 0.02),
                           r=np.full((2, 3, 3), 2.0), v_leak=np.zeros((2, 3, 3)),
                           v_threshold=np.full((2, 3, 3), 1.0), w_in=np.full((2, 3, 3), 1.0),
                           v_reset=np.full((2, 3, 3), -0.2)),
        "output": n_output((2, 3, 3)),
    }
    edges = [("input", "conv_a"), ("conv_a", "lif_a"), ("lif_a", "conv_b"), ("conv_b", "lif_b"),
             ("lif_b", "output")]
    return n_graph(nodes, edges), raster(rng, 150, (c, hw, hw), 0.12)


FIXTURES = [("lif_layer", lif_layer, 1), ("two_lif", two_lif, 2), ("conv", conv, 3),
            ("recurrent", recurrent, 4), ("nested", nested, 5), ("readouts", readouts, 6),
            ("conv_groups", conv_groups, 7),
            ("lif_dt01", lambda rng: lif_layer(rng, r=20.0, steps=600), 8)]
LEGACY = [("two_lif_legacy", two_lif, 2)]


def broken(outdir):
    """Broken variants of lif_layer; returns {name: node the error must name}."""
    out = {}
    g, _ = lif_layer(np.random.default_rng(1))
    g["edges"] = g["edges"] + [("lif", "ghost")]
    write_nir(os.path.join(outdir, "bad_edge.nir"), g)
    out["bad_edge"] = "ghost"

    g, _ = lif_layer(np.random.default_rng(1))
    n = 12
    g["nodes"]["lif"] = n_lif(np.full(n, 0.02), np.full(n, 2.0), np.zeros(n), np.ones(n))
    write_nir(os.path.join(outdir, "bad_shape.nir"), g)
    out["bad_shape"] = "lif"

    g, _ = lif_layer(np.random.default_rng(1))
    g["nodes"]["lif"]["tau"] = f32(np.full(7, 0.02))
    write_nir(os.path.join(outdir, "bad_param.nir"), g)
    out["bad_param"] = "lif"

    g, _ = lif_layer(np.random.default_rng(1))
    g["nodes"]["lin2"] = n_linear(np.full((3, 12), 0.5))
    g["nodes"]["lif2"] = n_lif(np.full(3, 0.02), np.full(3, 2.0), np.zeros(3), np.ones(3))
    g["edges"] = g["edges"] + [("lif", "lin2"), ("lin2", "lif2")]
    write_nir(os.path.join(outdir, "bad_mismatch.nir"), g)
    out["bad_mismatch"] = "lin2"
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    index = {"fixtures": {}, "broken": {}, "legacy": [n for n, _, _ in LEGACY]}
    for name, fn, seed in FIXTURES + LEGACY:
        graph, inp = fn(np.random.default_rng(seed))
        if name in index["legacy"]:
            graph = legacy(graph)
        write_nir(os.path.join(outdir, name + ".nir"), graph)
        np.save(os.path.join(outdir, name + ".input.npy"), inp)
        index["fixtures"][name] = {"input": "input", "steps": int(inp.shape[0]),
                                   "input_shape": list(inp.shape[1:])}
    index["broken"] = broken(outdir)
    with open(os.path.join(outdir, "fixtures.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
