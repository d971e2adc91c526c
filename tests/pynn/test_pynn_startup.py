#!/usr/bin/env python3
"""pyNN.s2's deferred imports (python/pyNN_s2/_deferred.py, docs/pynn.md "Start-up and
overhead"), each part in fresh interpreters:

 - `import pyNN.s2` does not import neo (neo.core, neo.io, neo.rawio), quantities,
   scipy.signal (scipy.stats), pyNN.descriptions (jinja2) nor scipy.sparse.csgraph
   (scipy.sparse.linalg, scipy.linalg), and the finder that PYTHONPATH=python loads at
   start-up does not import importlib.abc;
 - a script that builds, records, runs and counts spikes (what bench/pynn_va.py does) still
   has not imported them;
 - each of them, when used, is the module it is without pyNN.s2 (the same names as with
   S2_PYNN_EAGER_IMPORTS=1, the deferral switched off); importing a submodule first
   (`from neo.io import PickleIO`, scipy.sparse.csgraph._laplacian, quantities.units.time)
   runs the package first and loads nothing twice; an attribute set before the module ran
   (descriptions.DEFAULT_TEMPLATE_ENGINE) is kept;
 - the same PyNN script (get_spike_counts, get_data with spikes and v, describe(),
   write_data and neo.io reading it back) prints the same with the deferral as with
   S2_PYNN_EAGER_IMPORTS=1.
Needs S2CTL, S2EMU, S2_FIRMWARE for the runs; exit 77 without pyNN.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.abspath(os.path.join(HERE, "..", "..", "python"))
PY = sys.executable
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import s2check  # noqa: E402
try:
    import pyNN  # noqa: F401
    import neo  # noqa: F401
except ImportError as e:
    print("pynn_startup: skipped (%s)" % e)
    sys.exit(77)

DEFERRED = ["neo", "pyNN.descriptions", "quantities", "scipy.signal", "scipy.sparse.csgraph"]
# What the deferred modules would bring in (none of it may be imported by `import pyNN.s2`).
HEAVY = ("neo", "quantities", "jinja2", "scipy.signal", "scipy.stats", "pyNN.descriptions",
         "scipy.sparse.csgraph", "scipy.sparse.linalg", "scipy.linalg")

check = s2check.Checks("{mark} - {what}")


def run(code, eager=False, pythonpath=False):
    """Run code in a fresh python3 (pyNN_s2 importable); its stdout as JSON (last line)."""
    env = dict(os.environ)
    env.pop("S2_PYNN_EAGER_IMPORTS", None)
    env.pop("PYTHONPATH", None)
    if eager:
        env["S2_PYNN_EAGER_IMPORTS"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = PYDIR
    pre = "import sys, json\nsys.path.insert(0, %r)\n" % PYDIR
    p = subprocess.run([PY, "-c", pre + code], env=env, capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        print(p.stdout + p.stderr)
        raise SystemExit("pynn_startup: FAIL - a child python3 failed (above)")
    return json.loads(p.stdout.strip().splitlines()[-1])


def heavy(mods):
    return sorted(m for m in mods if any(m == h or m.startswith(h + ".") for h in HEAVY))


# 1. `import pyNN.s2` (as the tests do, and through the finder) imports none of it.
LOADED = '''
import types
d = sys.modules["pyNN.s2"]._deferred
print(json.dumps({"real": [m for m, v in sys.modules.items()
                           if isinstance(v, types.ModuleType) and type(v) is types.ModuleType],
                  "pending": d.pending(), "disabled": d.disabled()}))
'''
r = run("import pyNN_s2\n" + LOADED)
check(heavy(r["real"]) == [], "import pyNN_s2 imports none of %s (imported: %s)"
      % (", ".join(HEAVY), heavy(r["real"]) or "none"))
check(r["pending"] == DEFERRED and r["disabled"] is None, "deferred: %s (deferring %s)"
      % (r["pending"], r["disabled"] or "works here"))
r = run("import pyNN.s2\n" + LOADED, pythonpath=True)
check(heavy(r["real"]) == [] and r["pending"] == DEFERRED,
      "import pyNN.s2 (PYTHONPATH=python, the finder) imports none of it either")
base = run("print(json.dumps('importlib.abc' in sys.modules))")
with_finder = run("print(json.dumps('importlib.abc' in sys.modules))", pythonpath=True)
check(with_finder == base, "the finder loaded at start-up imports no importlib.abc "
      "(imported: %s; without PYTHONPATH: %s)" % (with_finder, base))
r = run("import pyNN_s2\n" + LOADED, eager=True)
check(r["pending"] == [] and "neo.io" in r["real"] and "scipy.sparse.csgraph" in r["real"],
      "S2_PYNN_EAGER_IMPORTS=1: nothing deferred")

# 2. Each deferred module, used, is the module it is without pyNN.s2.
NAMES = '''
import importlib, types
import pyNN_s2
out = {}
for name in %r:
    m = importlib.import_module(name)
    names = sorted(dir(m))
    out[name] = [names, type(m) is types.ModuleType, sys.modules[name] is m]
import scipy.sparse
out["scipy.sparse"] = [sorted(dir(scipy.sparse)), True, scipy.sparse.csgraph is
                       sys.modules["scipy.sparse.csgraph"]]
print(json.dumps(out))
''' % (DEFERRED,)
deferred, eager = run(NAMES), run(NAMES, eager=True)
for name in DEFERRED + ["scipy.sparse"]:
    names, plain, same = deferred[name]
    check(names == eager[name][0] and plain and same,
          "%s used: the %d names it has without pyNN.s2, an ordinary module, the one in "
          "sys.modules" % (name, len(eager[name][0])))

r = run('''
import pyNN_s2
from neo.io import PickleIO
import neo, neo.io.baseio
print(json.dumps([neo.PickleIO is PickleIO, sys.modules["neo.io"] is neo.io,
                  neo.io.baseio.Block is neo.Block, neo.core.Block is neo.Block]))
''')
check(r == [True] * 4, "from neo.io import PickleIO first: neo runs first, nothing twice "
      "(neo.PickleIO, neo.io, Block the same objects) %s" % r)
r = run('''
import pyNN_s2
import scipy.sparse.csgraph._laplacian as L
import scipy.sparse.csgraph as C
import numpy as np
g = C.laplacian(np.array([[0., 1.], [1., 0.]]))
print(json.dumps([C.laplacian is L.laplacian, sys.modules["scipy.sparse.csgraph._laplacian"]
                  is L, g.tolist()]))
''')
check(r == [True, True, [[1.0, -1.0], [-1.0, 1.0]]],
      "import scipy.sparse.csgraph._laplacian first: csgraph runs first, nothing twice %s" % r)
r = run('''
import pyNN_s2
import quantities.units.time as T
import quantities as pq
print(json.dumps([pq.ms is T.ms, float((3 * pq.s).rescale(pq.ms).magnitude)]))
''')
check(r == [True, 3000.0], "import quantities.units.time first: quantities runs first %s" % r)
r = run('''
import pyNN_s2
from pyNN import descriptions
descriptions.DEFAULT_TEMPLATE_ENGINE = "string"
print(json.dumps([descriptions.DEFAULT_TEMPLATE_ENGINE,
                  descriptions.get_default_template_engine().__name__]))
''')
check(r == ["string", "StringTemplateEngine"],
      "an attribute set before pyNN.descriptions ran is kept %s" % r)

r = run('''
import os, tempfile
import pyNN_s2
d = tempfile.mkdtemp()
with open(os.path.join(d, "s2_bad_mod.py"), "w") as f:
    f.write("x = 1\\nraise ImportError('bad on purpose')\\n")
sys.path.insert(0, d)
installed = sys.modules["pyNN.s2"]._deferred.defer("s2_bad_mod")
import s2_bad_mod
try:
    s2_bad_mod.x
    got = "no error"
except ImportError as e:
    got = str(e)
print(json.dumps([installed, got, "s2_bad_mod" in sys.modules]))
''')
check(r == [True, "bad on purpose", False], "a deferred module whose code fails raises its "
      "error when used and leaves sys.modules as a failed import does %s" % r)

# pyNN_s2's Recorder.__init__ (the start in ms, no quantities) against PyNN's own.
r = run('''
import pyNN_s2
import pyNN.s2 as sim
from pyNN import recording
sim.setup(timestep=0.1)
p = sim.Population(2, sim.IF_curr_exp(), label="p")
ours = p.recorder
theirs = object.__new__(type(ours))
recording.Recorder.__init__(theirs, p)
keys = sorted(set(vars(theirs)) - {"_s2_start_ms", "_s2_start_q"})
same = [k for k in keys if k in ("cache", "recorded") or getattr(ours, k) == getattr(theirs, k)]
print(json.dumps([keys, same, type(ours.cache).__name__, type(ours.recorded).__name__,
                  str(ours._recording_start_time), str(theirs._recording_start_time)]))
''')
check(r[0] == r[1] and r[2:4] == ["DataCache", "defaultdict"] and r[4] == r[5] == "0.0 ms",
      "pyNN.s2's Recorder is made as PyNN's (%s; start %s)" % (", ".join(r[0]), r[4]))

# 3. A script's results are the same with and without the deferral.
SCRIPT = '''
import hashlib, os, tempfile, types
import numpy as np
import pyNN_s2
import pyNN.s2 as sim
d = sys.modules["pyNN.s2"]._deferred
sim.setup(timestep=0.1, seed=3)
src = sim.Population(3, sim.SpikeSourceArray(spike_times=[5.0, 15.0, 25.0]), label="src")
cells = sim.Population(4, sim.IF_curr_exp(tau_m=10.0, v_thresh=-55.0, tau_refrac=2.0),
                       label="cells")
cells.initialize(v=-60.0)
sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.5, delay=1.0))
cells.record(["spikes", "v"])
sim.run(50.0)
counts = cells.get_spike_counts()
out = {"counts": sorted((int(k), int(v)) for k, v in counts.items()),
       "pending_after_run": d.pending()}
seg = cells.get_data().segments[0]
out["spikes"] = [[round(float(t), 4) for t in st.magnitude] for st in seg.spiketrains]
out["t_start"] = [str(st.t_start) for st in seg.spiketrains]
v = seg.filter(name="v")[0]
out["v"] = [str(v.units), str(v.sampling_period), list(v.shape),
            round(float(np.asarray(v.magnitude).sum()), 3)]
out["describe"] = hashlib.sha1(cells.describe().encode()).hexdigest()
path = os.path.join(tempfile.mkdtemp(), "cells.pkl")
cells.write_data(path)
import neo.io
blk = neo.io.PickleIO(path).read_block()
out["read_back"] = [[round(float(t), 4) for t in st.magnitude]
                    for st in blk.segments[0].spiketrains] == out["spikes"]
sim.end()
print(json.dumps(out))
'''
deferred, eager = run(SCRIPT), run(SCRIPT, eager=True)
check(deferred["pending_after_run"] == DEFERRED,
      "setup, populations, projection, record, run, get_spike_counts: still deferred: %s"
      % deferred["pending_after_run"])
check(sum(n for _, n in deferred["counts"]) > 0, "the script's cells spiked: %s"
      % deferred["counts"])
for key in ("counts", "spikes", "t_start", "v", "describe", "read_back"):
    check(deferred[key] == eager[key],
          "%s the same with and without the deferral: %s" % (key, str(deferred[key])[:70]))
check(deferred["read_back"] is True, "write_data, then neo.io.PickleIO reads the same spikes")

print("pynn_startup: %d failed" % len(check.failed))
sys.exit(check.status())
