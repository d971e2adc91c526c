#!/usr/bin/env python3
"""tests/common/s2check.py, the check helper of the Python tests: a test script whose checks
all pass exits 0; one with a failed check still runs its other checks, prints FAIL naming the
failed one (with its detail) and exits 1; lines look as the test sets them. Each script runs
in a child python3, as ctest runs a test."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = """import sys
sys.path.insert(0, %r)
import s2check
check = s2check.Checks(%s)
check(True, "first")
check.named("second", %s, "found 3")
check(True, "third")
print("%%d passed, %%d failed: %%s" %% (check.passed, len(check.failed), check.failed))
sys.exit(check.status())
"""


def run(second_ok, args=""):
    p = subprocess.run([sys.executable, "-c", SCRIPT % (HERE, args, second_ok)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


fails = 0


def expect(ok, what, got):
    global fails
    print("%s - %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        print(got)
        fails += 1


rc, out = run(True)
expect(rc == 0 and out == "ok - first\nok - second: found 3\nok - third\n3 passed, 0 failed: []\n",
       "all pass: exit 0, a line each", out)
rc, out = run(False)
expect(rc == 1 and out == "ok - first\nFAIL - second: found 3\nok - third\n"
       "2 passed, 1 failed: ['second']\n",
       "a failed check: exit 1, FAIL naming it with its detail, the rest still run", out)
rc, out = run(False, '"{mark}: {what}{detail}", ok="PASS", detail=" ({})"')
expect(rc == 1 and out.startswith("PASS: first\nFAIL: second (found 3)\nPASS: third\n"),
       "the line's format, the passed mark and the detail's format as the test sets them", out)
print("s2check: %d failed" % fails)
sys.exit(1 if fails else 0)
