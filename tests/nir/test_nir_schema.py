#!/usr/bin/python3
"""The NIR fixtures against the nir 1.0.7 file schema (tests/nir/nir_schema.py, written from
the library's specification; CI cannot install the nir package).

    /usr/bin/python3 tests/nir/test_nir_schema.py

Every valid fixture of tools/gen_nir_fixtures.py must be exactly what nir.write writes
(--strict) and pass nir.read's type check (conv_groups: all but the grouped convolution,
which nir 1.0.7 cannot type); the broken ones and the older form must fail for the reason
nir.read gives; and the checker itself must catch what nir.read refuses (a field its class
does not take, a missing one, parameters of different shapes). Prints 'N passed, N failed';
exit 1 on a failure, 77 without numpy or h5py.
"""
import json
import os
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print("SKIP: numpy or h5py missing")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import gen_nir_fixtures as g  # noqa: E402
import nir_schema  # noqa: E402
import s2check  # noqa: E402

checks = s2check.Checks("{mark}: {what}{detail}", detail=" ({})")
check = checks.named


def verdict(path, **kw):
    try:
        nir_schema.check_file(path, **kw)
        return None
    except nir_schema.Bad as e:
        return str(e)


with tempfile.TemporaryDirectory() as d:
    sys.argv = ["gen_nir_fixtures.py", d]
    g.main()
    idx = json.load(open(os.path.join(d, "fixtures.json")))
    for name in idx["fixtures"]:
        if name in idx["legacy"]:
            continue
        p = os.path.join(d, name + ".nir")
        if name == "conv_groups":
            e = verdict(p, strict=True)
            check("conv_groups: refused by nir's type check only for its grouped Conv2d",
                  e is not None and "conv_a.input" in e and "grouped" in e, e)
            e = verdict(p, strict=True, allow_grouped=True)
        else:
            e = verdict(p, strict=True)
        check(f"{name}: exactly as nir.write writes it, and nir.read accepts it" +
              (" with type_check=False" if name == "conv_groups" else ""), e is None, e)
        with h5py.File(p) as f:
            check(f"{name}: version {f['version'][()].decode()}",
                  f["version"][()] == g.NIR_VERSION.encode())
    for name, node in idx["broken"].items():
        e = verdict(os.path.join(d, name + ".nir"))
        check(f"{name}: refused, naming '{node}'", e is not None and node in e, e)
    for name in idx["legacy"]:
        p = os.path.join(d, name + ".nir")
        e = verdict(p)
        check(f"{name}: the older form, which nir 1.0.7 refuses (input_type on a Linear)",
              e is not None and "Linear" in e and "input_type" in e, e)

    # The checker against what nir.read refuses or accepts, on small graphs.
    def graph(**over):
        nodes = {"input": g.n_input((4,)), "fc": g.n_affine(np.ones((3, 4)), np.zeros(3)),
                 "lin": g.n_linear(np.ones((3, 3))),
                 "lif": g.n_lif(np.full(3, 0.02), np.ones(3), np.zeros(3), np.ones(3)),
                 "output": g.n_output((3,))}
        for k, v in over.items():
            nodes[k] = v
        return g.n_graph(nodes, [("input", "fc"), ("fc", "lin"), ("lin", "lif"),
                                 ("lif", "output")])

    def case(name, graph_, want_ok, strict=False, contains=""):
        p = os.path.join(d, "case.nir")
        g.write_nir(p, graph_)
        e = verdict(p, strict=strict)
        check(name, (e is None) == want_ok and contains in (e or ""), e)

    case("a well-formed graph", graph(), True, strict=True)
    lin = dict(g.n_linear(np.ones((3, 3))), input_type={"input": g.shape_arr((3,))})
    case("input_type on a Linear: refused (not a field of nir's Linear)", graph(lin=lin), False,
         contains="'lin'")
    fc = dict(g.n_affine(np.ones((3, 4)), np.zeros(3)), input_type={"input": g.shape_arr((4,))})
    case("input_type on an Affine: read by nir, not what nir.write writes", graph(fc=fc), True)
    case("... and refused under --strict", graph(fc=fc), False, strict=True, contains="'fc'")
    lif = g.n_lif(np.full(3, 0.02), np.ones(3), np.zeros(3), np.ones(3))
    del lif["v_reset"]
    case("LIF without v_reset: read by nir (zero)", graph(lif=lif), True)
    lif = g.n_lif(np.full(3, 0.02), np.ones(3), np.zeros(3), np.ones(3))
    del lif["tau"]
    case("LIF without tau: refused", graph(lif=lif), False, contains="'lif'")
    lif = dict(g.n_lif(np.full(3, 0.02), np.ones(3), np.zeros(3), np.ones(3)), gain=g.f32([1]))
    case("an unknown field: refused", graph(lif=lif), False, contains="gain")
    lif = g.n_lif(np.full(2, 0.02), np.ones(3), np.zeros(3), np.ones(3))
    case("parameters of different shapes: refused", graph(lif=lif), False, contains="'lif'")
    case("a weight that does not fit its input: refused",
         graph(lin=g.n_linear(np.ones((3, 5)))), False, contains="lin.input")
    fc = dict(g.n_affine(np.ones((3, 4)), np.zeros(3)), metadata={"origin": "x"})
    case("metadata: read, and written by nir.write when not empty", graph(fc=fc), True,
         strict=True)

print(f"{checks.passed} passed, {len(checks.failed)} failed")
sys.exit(checks.status())
