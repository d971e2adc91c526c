#!/usr/bin/env python3
"""Write the HDF5 seeds of fuzz_nir.c (corpus/nir/*.nir) and fuzz_npy.c (corpus/npy).

NIR files in the layout nir/serialization.py writes with h5py (vlen UTF-8 strings, edges as
an (N, 2) string array, float32 arrays, scalar ints), small enough for the replay driver
(64 KiB): Affine -> LIF; Conv2d -> SumPool2d -> Flatten -> Delay -> Threshold; a nested
graph with a CubaLI; a metadata group and a bool field. The .tree seeds are the same trees as
the reader process sends them (nir_tree_encode of each .nir file, made with a throwaway
program); libhdf5_segv_h5hg_read.nir and libhdf5_loop.nir are fuzzer finds on which libhdf5
1.10.8 segfaults and loops (kept as regression seeds for the reader process). The .npy seeds
are NumPy-written arrays, including a Fortran-order and a big-endian one (refused).
Needs numpy and h5py (Debian: /usr/bin/python3). Run from anywhere.
"""
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NIR = os.path.join(HERE, "corpus", "nir")
NPY = os.path.join(HERE, "corpus", "npy")
S = h5py.string_dtype()


def f32(x):
    return np.asarray(x, dtype=np.float32)


def node(g, name, typ, **fields):
    n = g.create_group(name)
    n.create_dataset("type", data=typ, dtype=S)
    for k, v in fields.items():
        n.create_dataset(k, data=v)
    return n


def graph(g, build, edges):
    g.create_dataset("type", data="NIRGraph", dtype=S)
    build(g.create_group("nodes"))
    g.create_dataset("edges", data=np.array(edges, dtype=object), dtype=S)


def nir_file(name, build, edges, extra=None):
    with h5py.File(os.path.join(NIR, name), "w", libver="latest") as f:
        f.create_dataset("version", data="1.0.4", dtype=S)
        t = f.create_group("node")
        graph(t, build, edges)
        if extra:
            extra(t)


def affine_lif(n):
    node(n, "in", "Input", shape=np.array([3]))
    node(n, "fc", "Affine", weight=f32([[1, -1, 0], [0.5, 0, 2]]), bias=f32([0.1, 0.2]))
    node(n, "lif", "LIF", tau=f32([0.01, 0.02]), r=f32([1, 1]), v_leak=f32([0, 0]),
         v_threshold=f32([1, 1]))


def conv_pool(n):
    node(n, "in", "Input", shape=np.array([1, 3, 3]))
    node(n, "conv", "Conv2d", weight=f32(np.ones((1, 1, 2, 2))), stride=1, padding=0,
         dilation=1, groups=1, bias=f32([0]))
    node(n, "pool", "SumPool2d", kernel_size=np.array([2, 2]), stride=np.array([1, 1]),
         padding=np.array([0, 0]))
    node(n, "fl", "Flatten", start_dim=0, end_dim=-1)
    node(n, "d", "Delay", delay=f32([0.002]))
    node(n, "th", "Threshold", threshold=f32([0.5]))


def nested(n):
    node(n, "in", "Input", shape=np.array([2]))

    def inner(m):
        node(m, "input", "Input", shape=np.array([2]))
        node(m, "li", "CubaLI", tau_syn=f32([0.005, 0.005]), tau_mem=f32([0.02, 0.02]),
             r=f32([1, 1]), v_leak=f32([0, 0]), w_in=f32([1, 1]))
        node(m, "output", "Output", shape=np.array([2]))

    graph(n.create_group("sub"), inner, [("input", "li"), ("li", "output")])
    node(n, "sc", "Scale", scale=f32([2, -1]))


def metadata_bool(n):
    node(n, "in", "Input", shape=np.array([2]))
    lif = node(n, "lif", "LIF", tau=f32([0.01, 0.01]), r=f32([1, 1]), v_leak=f32([0, 0]),
               v_threshold=np.array([True, True]))
    lif.create_group("metadata").create_dataset("b", data=np.array([True]))


def metadata(t):
    md = t.create_group("metadata")
    md.create_dataset("flag", data=True)
    md.create_dataset("desc", data="x" * 5000, dtype=S)


def main():
    os.makedirs(NIR, exist_ok=True)
    os.makedirs(NPY, exist_ok=True)
    nir_file("affine_lif.nir", affine_lif, [("in", "fc"), ("fc", "lif")])
    nir_file("conv_pool.nir", conv_pool,
             [("in", "conv"), ("conv", "pool"), ("pool", "fl"), ("fl", "d"), ("d", "th")])
    nir_file("nested.nir", nested, [("in", "sc"), ("sc", "sub")])
    nir_file("metadata_bool.nir", metadata_bool, [("in", "lif")], metadata)
    np.save(os.path.join(NPY, "u1_2d.npy"), (np.arange(12).reshape(3, 4) % 3 == 0).astype(np.uint8))
    np.save(os.path.join(NPY, "b1_3d.npy"), np.eye(4, dtype=bool).reshape(2, 2, 4))
    np.save(os.path.join(NPY, "f4.npy"), np.linspace(0, 1, 5, dtype=np.float32))
    np.save(os.path.join(NPY, "i8_scalar.npy"), np.int64(7))
    np.save(os.path.join(NPY, "f8_fortran.npy"), np.asfortranarray(np.ones((2, 3))))
    np.save(os.path.join(NPY, "i2_be.npy"), np.arange(3, dtype=">i2"))


if __name__ == "__main__":
    main()
