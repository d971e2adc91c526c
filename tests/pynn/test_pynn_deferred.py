#!/usr/bin/env python3
"""The deferred imports of pyNN.s2 (python/pyNN_s2/_deferred.py) on modules made for the test
in a temporary directory, each case in a fresh python3 (no PyNN needed; pynn_startup checks
the real modules):

 - `import m` of a deferred module does not run its code; its first attribute does, once, in
   the same object, which then is a plain module (also from another thread at the same time,
   and through dir() and `from m import x`); an attribute set before it ran is kept;
 - a submodule imported first runs its package first, nothing twice;
 - a module whose code fails raises its error where it is used and leaves sys.modules as a
   failed import does; an AttributeError of its code comes as an ImportError naming it;
 - defer() refuses, leaving the usual import, a module imported already, one not found, with
   S2_PYNN_EAGER_IMPORTS=1, and when deferring fails in any way (then the module is imported
   as usual);
 - the self-test run at import passes in this Python, and fails where attribute lookups do
   not load a deferred module (then nothing is deferred).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFERRED_PY = os.path.join(HERE, "..", "..", "python", "pyNN_s2", "_deferred.py")
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import s2check  # noqa: E402

check = s2check.Checks("{mark} - {what}")

FILES = {
    "plain.py": "import sys\nsys.s2_log.append('plain')\nZ = 4\nW = 1\n",
    "pk/__init__.py": "import sys\nsys.s2_log.append('pk')\nfrom . import sub as _sub\n"
                      "VALUE = 1\n",
    "pk/sub.py": "import sys\nsys.s2_log.append('pk.sub')\nX = 2\n",
    "pk/other.py": "import sys\nsys.s2_log.append('pk.other')\nY = 3\n",
    "bad.py": "import sys\nsys.s2_log.append('bad')\nx = 1\n"
              "raise ImportError('bad on purpose')\n",
    "attrerr.py": "import sys\nsys.s2_log.append('attrerr')\nimport math\nmath.no_such_name\n",
}
# Each child: _deferred.py loaded by its path as module d (not DEFERRED: the real modules are
# pynn_startup's), the modules above importable, sys.s2_log the order their code ran in.
PRE = """import importlib.util, json, sys, threading, types
sys.s2_log = []
sys.path.insert(0, %r)
spec = importlib.util.spec_from_file_location("s2_deferred_under_test", %r)
d = importlib.util.module_from_spec(spec)
src = open(%r).read()
assert src.count("for _name in DEFERRED:") == 1, "_deferred.py: its last loop changed"
src = src.replace("for _name in DEFERRED:", "for _name in ():")
exec(compile(src, spec.origin, "exec"), d.__dict__)
"""


def run(tmp, code, eager=False):
    env = dict(os.environ)
    env.pop("S2_PYNN_EAGER_IMPORTS", None)
    if eager:
        env["S2_PYNN_EAGER_IMPORTS"] = "1"
    p = subprocess.run([sys.executable, "-c", PRE % (tmp, DEFERRED_PY, DEFERRED_PY) + code],
                       env=env, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or not p.stdout.strip():
        print(p.stdout + p.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


with tempfile.TemporaryDirectory() as tmp:
    for path, text in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(tmp, path)), exist_ok=True)
        with open(os.path.join(tmp, path), "w") as f:
            f.write(text)

    r = run(tmp, """
ok = [d.disabled(), d._self_test(), d.defer("plain"), d.pending()]
import plain
ok += [list(sys.s2_log), type(plain).__name__]
plain.W = 7  # set before it runs: kept
z = plain.Z
ok += [z, plain.W, list(sys.s2_log), type(plain) is types.ModuleType, sys.modules["plain"] is plain,
       d.pending()]
from plain import Z
ok += [Z, list(sys.s2_log), d._ParentFirst.instance in sys.meta_path]
print(json.dumps(ok))
""")
    check(r == [None, True, True, ["plain"], [], "_Deferred", 4, 7, ["plain"], True, True, [], 4,
                ["plain"], False],
          "import m: not run; m.Z: run once in the same object, a plain module, an attribute "
          "set before kept, nothing pending, the finder gone %s" % r)

    r = run(tmp, """
d.defer("plain")
import plain
got = []
go = threading.Barrier(8)
def use():
    go.wait()
    got.append(plain.Z)
ts = [threading.Thread(target=use) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps([got, sys.s2_log]))
""")
    check(r == [[4] * 8, ["plain"]], "8 threads at once: each gets m.Z, the code runs once %s"
          % r)

    r = run(tmp, """
d.defer("plain")
import plain
names = dir(plain)
print(json.dumps(["Z" in names, sys.s2_log]))
""")
    check(r == [True, ["plain"]], "dir(m) runs it %s" % r)

    r = run(tmp, """
d.defer("pk")
from pk.sub import X
import pk
print(json.dumps([X, pk.VALUE, sys.s2_log, pk.sub is sys.modules["pk.sub"], pk._sub is pk.sub]))
""")
    check(r == [2, 1, ["pk", "pk.sub"], True, True],
          "from pk.sub import X first: the package runs first, nothing twice %s" % r)
    r = run(tmp, """
d.defer("pk")
import pk.other
print(json.dumps([pk.other.Y, sys.s2_log, d.pending()]))
""")
    check(r == [3, ["pk", "pk.sub", "pk.other"], []],
          "import pk.other (not imported by pk): pk, then pk.other %s" % r)

    r = run(tmp, """
out = [d.defer("bad")]
import bad
try:
    bad.x
    out.append("no error")
except ImportError as e:
    out.append(str(e))
out.append("bad" in sys.modules)
try:
    import bad
    out.append("no error")
except ImportError as e:
    out.append(str(e))
print(json.dumps(out + [sys.s2_log]))
""")
    check(r == [True, "bad on purpose", False, "bad on purpose", ["bad", "bad"]],
          "a module whose code fails: its error where used, not left in sys.modules, "
          "imported again as usual %s" % r)
    r = run(tmp, """
d.defer("attrerr")
import attrerr
try:
    out = ["hasattr", hasattr(attrerr, "anything")]
except ImportError as e:
    out = [type(e).__name__, "attrerr" in str(e), type(e.__cause__).__name__,
           "no_such_name" in str(e)]
print(json.dumps(out))
""")
    check(r == ["ImportError", True, "AttributeError", True],
          "an AttributeError of the module's code: an ImportError naming the module, not "
          "hasattr() False %s" % r)

    r = run(tmp, """
import json as j
out = [d.defer("json"), d.defer("s2_no_such_module"), d.defer("s2_no_such.sub"), d.pending()]
print(json.dumps(out))
""")
    check(r == [False, False, False, []], "defer(): False for a module imported already or "
          "not found %s" % r)
    r = run(tmp, """
print(json.dumps([d.defer("plain"), d.disabled(), d.pending(), "plain" in sys.modules]))
""", eager=True)
    check(r == [False, "S2_PYNN_EAGER_IMPORTS is set", [], False],
          "S2_PYNN_EAGER_IMPORTS=1: nothing deferred %s" % r)

    r = run(tmp, """
real = importlib.util.module_from_spec
def broken(spec):
    raise RuntimeError("module_from_spec broken on purpose")
importlib.util.module_from_spec = broken
installed = d.defer("plain")
importlib.util.module_from_spec = real
class Raising:
    def find_spec(self, *a):
        raise RuntimeError("finder broken on purpose")
sys.meta_path.insert(0, Raising())
installed2 = d.defer("pk")
sys.meta_path.pop(0)
import plain, pk
print(json.dumps([installed, installed2, d.pending(), sys.s2_log, plain.Z, pk.VALUE,
                  type(plain) is types.ModuleType]))
""")
    check(r == [False, False, [], ["plain", "pk", "pk.sub"], 4, 1, True],
          "deferring that fails (module_from_spec, a finder raising): False, the usual "
          "import %s" % r)

    r = run(tmp, """
out = [d._self_test(), d.pending(), "_s2_deferred_self_test" in sys.modules,
       d._ParentFirst.instance in sys.meta_path]
d._Deferred.__getattr__ = lambda self, attr: None  # lookups no longer load the module
out.append(d._self_test())
print(json.dumps(out))
""")
    check(r == [True, [], False, False, False], "the self-test passes here and leaves nothing "
          "behind; it fails where a lookup does not load the module %s" % r)
    r = run(tmp, """
d._disabled = "broken on purpose"
print(json.dumps([d.defer("plain"), d.disabled(), d.pending()]))
""")
    check(r == [False, "broken on purpose", []], "self-test failed: nothing deferred %s" % r)

print("pynn_deferred: %d passed, %d failed" % (check.passed, len(check.failed)))
sys.exit(check.status())
