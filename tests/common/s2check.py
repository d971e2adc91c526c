"""The check helper of the Python tests: each check prints one line, passed or failed, and is
counted; a test ends with its own summary line and exits with status(), 1 if any check failed.
Every check runs (a failed one does not stop the test), so one run names all that fail.

A test sets how its lines look, as it always printed them:

    sys.path.insert(0, os.path.join(HERE, "..", "common"))
    import s2check
    check = s2check.Checks("{mark} - {what}{detail}")  # "ok - x", "FAIL - y: why"
    check(ok, "what is checked", "detail")             # or check.named("what", ok, "detail")
    ...
    print("%d passed, %d failed" % (check.passed, len(check.failed)))
    sys.exit(check.status())
"""


class Checks:
    """Counts checks and prints a line for each.

    line:   the format of a line: {mark} (`ok`, or FAIL), {what} (the check's name),
            {detail} (the detail as detail_fmt makes it; empty without a detail)
    ok:     the mark of a passed check (a failed one: FAIL)
    detail: the format of a non-empty detail, {} the detail
    """

    def __init__(self, line="{mark} - {what}{detail}", ok="ok", detail=": {}"):
        self.line, self.ok, self.detail = line, ok, detail
        self.passed = 0
        self.failed = []  # the names (what) of the failed checks, in order

    def __call__(self, ok, what, detail=""):
        """One check: ok, true if it passed; what, its name; detail, what was found.
        @return bool(ok)"""
        ok = bool(ok)
        print(self.line.format(mark=self.ok if ok else "FAIL", what=what,
                               detail=self.detail.format(detail) if detail else ""))
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        return ok

    def named(self, what, ok, detail=""):
        """The same, name first (for the tests that call check(name, ok, detail))."""
        return self(ok, what, detail)

    def status(self):
        """The test's exit status: 1 if a check failed, else 0."""
        return 1 if self.failed else 0
