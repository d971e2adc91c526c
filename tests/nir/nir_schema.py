#!/usr/bin/python3
"""The NIR 1.0.x file schema as the nir library (1.0.7) writes and reads it, written here from
its specification (the node dataclasses and nir.write / nir.read), so that CI, which cannot
install nir, can check that a file is one the library would write and accept.

    /usr/bin/python3 tests/nir/nir_schema.py [--strict] FILE.nir...

A file is *readable* when nir.read (type_check=True) would accept it: root dataset `version`
and group `node`; every node group has `type` naming a known node and exactly the datasets
its class takes (every required one, no unknown one: nir passes them to the class as
keyword arguments, so `input_type` on a Linear is a TypeError); the parameters of a neuron
node have one shape; every edge names existing nodes; and the types along every edge agree,
inferred as nir does (Affine/Linear from the weight, Conv2d from input_shape and the weight,
pools and Flatten from what feeds them). It is *strict* (--strict) when it also holds exactly
what nir.write writes: every field of the class, no `input_type`/`output_type` (Flatten
keeps its `input_type` dataset), `metadata` only when not empty. Prints one line per file
('ok' or the first problem, naming the node); exit status 1 if any file fails.

nir 1.0.7 types a Conv2d's input as (weight.shape[1], *input_shape) whatever `groups` is, so
a grouped convolution (groups > 1) never passes its type check; this checker reports that
as nir would ('type mismatch'), and `--allow-grouped` accepts that one mismatch (nir.read
with type_check=False reads such a file).
"""
import sys

import h5py
import numpy as np

# type: (required fields, optional fields) of the class, as nir 1.0.7 declares them. The
# optional fields that nir.write writes anyway are those with a value (all but the types).
NEURON_PARAMS = {
    "LIF": (["tau", "r", "v_leak", "v_threshold"], ["v_reset"]),
    "CubaLIF": (["tau_syn", "tau_mem", "r", "v_leak", "v_threshold"], ["v_reset", "w_in"]),
    "LI": (["tau", "r", "v_leak"], []),
    "CubaLI": (["tau_syn", "tau_mem", "r", "v_leak"], ["w_in"]),
    "IF": (["r", "v_threshold"], ["v_reset"]),
    "I": (["r"], []),
}
TYPED = ["input_type", "output_type"]  # dataclass fields nir.write leaves out
FIELDS = {
    "Affine": (["weight", "bias"], TYPED),
    "Linear": (["weight"], []),
    "Scale": (["scale"], []),
    "Delay": (["delay"], TYPED),
    "Threshold": (["threshold"], TYPED),
    "Conv1d": (["input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"],
               TYPED),
    "Conv2d": (["input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"],
               []),
    "SumPool2d": (["kernel_size", "stride", "padding"], TYPED),
    "AvgPool2d": (["kernel_size", "stride", "padding"], []),
    "Flatten": ([], ["input_type", "start_dim", "end_dim", "output_type"]),
    "Input": (["shape"], ["input_type"]),  # nir.read replaces input_type by shape
    "Output": (["shape"], ["output_type"]),
    "NIRGraph": (["nodes", "edges"], TYPED),
}
for k, (req, opt) in NEURON_PARAMS.items():
    FIELDS[k] = (req, opt + TYPED)
# Written by nir.write besides the required ones (Flatten: its to_dict keeps input_type).
WRITTEN_OPTIONAL = {k: [f for f in opt if f not in TYPED] for k, (req, opt) in FIELDS.items()}
WRITTEN_OPTIONAL["Flatten"] = ["input_type", "start_dim", "end_dim"]


class Bad(Exception):
    pass


def text(v):
    v = v[()] if isinstance(v, h5py.Dataset) else v
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def conv_out(size, padding, dilation, kernel, stride):
    """nir.ir.utils.calculate_conv_output, per spatial dimension (a scalar kernel for all)."""
    size = np.atleast_1d(size)
    out = []
    for i in range(len(size)):
        def at(x):
            x = np.atleast_1d(x)
            return int(x[i] if len(x) > 1 else x[0])
        if isinstance(padding, str):
            p = 0 if padding == "valid" else None
        else:
            p = at(padding)
        if p is None:
            out.append(int(size[i]))
        else:
            out.append(int(np.floor((int(size[i]) + 2 * p - at(dilation) * (at(kernel) - 1) - 1)
                                    / at(stride) + 1)))
    return out


def value(g, k):
    v = g[k][()]
    return v.decode("utf8") if isinstance(v, bytes) else v


def node_types(name, g, typ):
    """(input type, output type) of a node as nir declares them; None where nir leaves the
    type to inference."""
    if typ == "Input" or typ == "Output":
        s = [int(x) for x in np.atleast_1d(g["shape"][()])]
        return s, s
    if typ in ("Affine", "Linear"):
        w = g["weight"].shape
        if len(w) < 2:
            raise Bad(f"node '{name}' ({typ}): the weight must be at least 2-D")
        return list(w[:-2]) + [w[-1]], list(w[:-2]) + [w[-2]]
    if typ in ("Scale", "Delay", "Threshold"):
        s = list(g[{"Scale": "scale", "Delay": "delay", "Threshold": "threshold"}[typ]].shape)
        return s, s
    if typ in NEURON_PARAMS:
        req, opt = NEURON_PARAMS[typ]
        shapes = {k: g[k].shape for k in req + opt if k in g}
        if len(set(shapes.values())) > 1:
            raise Bad(f"node '{name}' ({typ}): parameters of different shapes {shapes} "
                      "(nir: 'All parameters must have the same shape')")
        s = list(next(iter(shapes.values())))
        return s, s
    if typ == "Conv2d" or typ == "Conv1d":
        w = g["weight"].shape
        ins = [int(x) for x in np.atleast_1d(g["input_shape"][()])]
        pad = value(g, "padding")
        out = conv_out(ins, pad, g["dilation"][()], w[2], g["stride"][()])
        return [w[1]] + ins, [w[0]] + out
    return None, None  # pools, Flatten, nested graphs: inferred


def check_graph(path, g, where, allow_grouped, strict):
    nodes = g["nodes"]
    names = list(nodes.keys())
    edges = g["edges"][()]
    if edges.size and (edges.ndim != 2 or edges.shape[1] != 2):
        raise Bad(f"{where}edges: shape {edges.shape}, not (N, 2)")
    edges = [(text(a), text(b)) for a, b in edges.reshape(-1, 2)]
    for a, b in edges:
        for x in (a, b):
            if x not in names:
                raise Bad(f"{where}edge {a} -> {b}: no node '{x}'")
    types = {}
    for n in names:
        types[n] = check_node(path, nodes[n], where + n + ".", n, allow_grouped, strict)
    # Inference in edge order from the inputs, as nir.NIRGraph.infer_types: an undefined
    # input takes its predecessor's output; pools and Flatten compute their output.
    for _ in range(len(edges) + 1):
        changed = False
        for a, b in edges:
            out = types[a][1]
            tin, tout = types[b]
            if out is None:
                continue
            typ = text(nodes[b]["type"])
            if tin is None:
                tin = out
                changed = True
            elif list(tin) != list(out):
                grouped = typ == "Conv2d" and int(nodes[b]["groups"][()]) > 1
                if not (grouped and allow_grouped):
                    raise Bad(f"{where}type mismatch: {a}.output {list(out)} -> {b}.input "
                              f"{list(tin)}" + (" (nir 1.0.7 types a grouped Conv2d's input "
                                                "as weight.shape[1] channels)" if grouped
                                                else ""))
            if tout is None:
                h = nodes[b]
                if typ in ("SumPool2d", "AvgPool2d"):
                    sp = conv_out(tin[1:], h["padding"][()], 1, h["kernel_size"][()],
                                  h["stride"][()])
                    tout = [tin[0]] + sp
                elif typ == "Flatten":
                    s0 = int(h["start_dim"][()]) if "start_dim" in h else 1
                    s1 = int(h["end_dim"][()]) if "end_dim" in h else -1
                    dims = list(tin)
                    s1 = len(dims) + s1 if s1 < 0 else s1
                    tout = dims[:s0] + [int(np.prod(dims[s0:s1 + 1]))] + dims[s1 + 1:]
                elif typ == "NIRGraph":
                    tout = types[b][1]
                if tout is not None:
                    changed = True
            types[b] = (tin, tout)
        if not changed:
            break
    ins = [n for n in names if text(nodes[n]["type"]) == "Input"]
    outs = [n for n in names if text(nodes[n]["type"]) == "Output"]
    tin = types[ins[0]][0] if len(ins) == 1 else None
    tout = types[outs[0]][1] if len(outs) == 1 else None
    return tin, tout


def check_node(path, g, where, name, allow_grouped, strict):
    if not isinstance(g, h5py.Group) or "type" not in g:
        raise Bad(f"node '{name}': no 'type'")
    typ = text(g["type"])
    if typ not in FIELDS:
        raise Bad(f"node '{name}': unknown type {typ!r}")
    req, opt = FIELDS[typ]
    keys = set(g.keys()) - {"type"}
    meta = "metadata" in keys
    keys.discard("metadata")
    if meta and strict and len(g["metadata"].keys()) == 0:
        raise Bad(f"node '{name}' ({typ}): an empty 'metadata' group (nir.write leaves it out)")
    missing = [k for k in req if k not in keys]
    if missing:
        raise Bad(f"node '{name}' ({typ}): missing {missing}")
    unknown = sorted(keys - set(req) - set(opt))
    if unknown:
        raise Bad(f"node '{name}' ({typ}): {unknown} not fields of nir's {typ} (nir.read: "
                  "unexpected keyword argument)")
    if strict:
        want = set(req) | set(WRITTEN_OPTIONAL[typ])
        if keys != want:
            raise Bad(f"node '{name}' ({typ}): holds {sorted(keys)}, nir.write writes "
                      f"{sorted(want)}")
    if typ == "NIRGraph":
        return check_graph(path, g, where, allow_grouped, strict)
    return node_types(name, g, typ)


def check_file(path, strict=False, allow_grouped=False):
    with h5py.File(path, "r") as f:
        if "version" not in f or not text(f["version"]).startswith("1."):
            raise Bad("no NIR 1.x 'version' dataset")
        if "node" not in f:
            raise Bad("no 'node' group")
        if text(f["node"]["type"]) != "NIRGraph":
            raise Bad("the root node is not a NIRGraph")
        check_node(path, f["node"], "", "node", allow_grouped, strict)


def main():
    args = sys.argv[1:]
    strict = "--strict" in args
    grouped = "--allow-grouped" in args
    files = [a for a in args if not a.startswith("--")]
    bad = 0
    for p in files:
        try:
            check_file(p, strict, grouped)
            print(f"ok: {p}")
        except Bad as e:
            print(f"FAIL: {p}: {e}")
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
