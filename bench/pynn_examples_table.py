#!/usr/bin/env python3
"""The table of bench/pynn_examples.sh, as docs/pynn.md ("PyNN's examples") shows it.

    pynn_examples_table.py OUT_DIR EXAMPLES_DIR "NOT_COUNTED NAMES"

Reads what bench/pynn_examples.sh left in OUT_DIR (run.txt: commit, command, start and end
with the load average; per example and simulator NAME.SIM/status: exit code, wall seconds,
1-min load average at start and end, start time; NAME.SIM/summary.json from
bench/pynn_example_run.py; NAME.SIM/out.txt) and prints, in Markdown, where the run came
from, how many of the counted examples run on each simulator, and per example: the outcome
on each, the wall times and their ratio, and where both completed the mean rates, first spike
times, plastic weights, the recorded v of the first recorded neuron (max and mean |diff|) and
the static projections' connection counts. Only figures of OUT_DIR are printed: paste the
output into the docs unchanged.
"""
import json
import os
import sys


def load(out, n, s):
    """(exit code, wall s, summary or None, error line, load at start) of NAME on SIM."""
    d = os.path.join(out, "%s.%s" % (n, s))
    if not os.path.exists(os.path.join(d, "status")):
        return 99, 0.0, None, "not run", None
    f = open(os.path.join(d, "status")).read().split()
    rc, secs = int(f[0]), float(f[1])
    ld = float(f[2]) if len(f) > 2 else None
    summ = None
    p = os.path.join(d, "summary.json")
    if os.path.exists(p):
        summ = json.load(open(p))
    err = ""
    if rc != 0:
        lines = [ln for ln in open(os.path.join(d, "out.txt"), errors="replace").read()
                 .splitlines() if ln.strip()]
        err = lines[-1].strip() if lines else "no output"
        err = err if len(err) <= 160 else err[:157] + "..."
    return rc, secs, summ, err, ld


def short(k):
    return k.split(":", 1)[1] or k


def compare(a, b):
    """The comparison cells of two completed runs' summaries."""
    rates, firsts, ws, vs, cs = [], [], [], [], []
    for k, v in a["populations"].items():
        w = b["populations"].get(k)
        if w and "rate_hz" in v and "rate_hz" in w:
            rates.append("%s: %.2f / %.2f" % (short(k), v["rate_hz"], w["rate_hz"]))
            if v["first"] and w["first"]:
                firsts.append("%s / %s" % (v["first"][0][:3], w["first"][0][:3]))
    for k, v in a["projections"].items():
        w = b["projections"].get(k)
        if w and "mean" in v and "mean" in w:
            ws.append("%.4g / %.4g" % (v["mean"], w["mean"]))
    for k, v in a.get("v", {}).items():
        w = b.get("v", {}).get(k)
        if w and "v0" in v and "v0" in w:
            if len(v["v0"]) != len(w["v0"]):
                vs.append("%s: %d / %d samples" % (short(k), v["samples"], w["samples"]))
                continue
            d = [abs(x - y) for x, y in zip(v["v0"], w["v0"])]
            vs.append("%s: %.3g / %.3g" % (short(k), max(d), sum(d) / len(d)))
    for k, v in a.get("static", {}).items():
        w = b.get("static", {}).get(k)
        if w and "count" in v and "count" in w:
            cs.append("%d / %d" % (v["count"], w["count"]))
    return ("; ".join(rates[:3]), "; ".join(firsts[:2]), "; ".join(ws[:2]),
            "; ".join(vs[:2]), ", ".join(cs[:6]) + (" ..." if len(cs) > 6 else ""))


def status(r):
    if r[0] == 0:
        return "runs (%.0f s)" % r[1]
    if r[0] == 99:
        return "not run"
    if r[0] == 124:
        return "timed out (%.0f s)" % r[1]
    return "fails (%.0f s): %s" % (r[1], r[3].replace("|", "/"))


def run_info(out):
    """The lines of run.txt: commits, commands, starts and ends (one set per invocation)."""
    p = os.path.join(out, "run.txt")
    info = {"commit": [], "command": [], "start": [], "end": []}
    if os.path.exists(p):
        for ln in open(p).read().splitlines():
            k, _, v = ln.partition(" ")
            info.setdefault(k, []).append(v)
    return info


def main():
    out, ex, skip = sys.argv[1], sys.argv[2], sys.argv[3].split()
    names = sorted((os.path.basename(f)[:-3] for f in os.listdir(ex) if f.endswith(".py")),
                   key=str.lower)
    info = run_info(out)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = {(n, s): load(out, n, s) for n in names for s in ("s2", "brian2")}
    counted = [n for n in names if n not in skip]
    ok = {s: sum(res[n, s][0] == 0 for n in counted) for s in ("s2", "brian2")}
    wall = {s: sum(res[n, s][1] for n in names) for s in ("s2", "brian2")}
    loads = [r[4] for r in res.values() if r[4] is not None]

    ends = info["end"] + [None] * (len(info["start"]) - len(info["end"]))
    print("Run: %s; commit %s; `%s`." % (
        " + ".join("%s to %s" % (a.split(" load")[0], b.split(" load")[0] if b else
                                 "(no end recorded: interrupted, or still running)")
                   for a, b in zip(info["start"], ends)) or "(no run.txt)",
        ", ".join(sorted(set(info["commit"]))) or "unknown",
        "`, `".join(c.replace(out, "DIR").replace(src + os.sep, "")
                    for c in info["command"])))
    print("Load average (1, 5, 15 min) at start %s, at end %s; 1-min load at each example's "
          "start %s. Wall time of all examples: pyNN.s2 %.0f s, pyNN.brian2 %.0f s." % (
              "; ".join(a.split("load ")[-1] for a in info["start"]) or "?",
              "; ".join(b.split("load ")[-1] for b in info["end"]) or "?",
              "%.1f-%.1f" % (min(loads), max(loads)) if loads else "?",
              wall["s2"], wall["brian2"]))
    print("\n**Run unchanged: pyNN.s2 %d of %d, pyNN.brian2 %d of %d** (not counted: %s)."
          % (ok["s2"], len(counted), ok["brian2"], len(counted), ", ".join(skip)))
    print("\n| example | pyNN.s2 | pyNN.brian2 | wall brian2 / s2 | rate s2 / brian2 (Hz) "
          "| first spikes (neuron 0) s2 / brian2 (ms) | plastic weights mean s2 / brian2 "
          "| v of the first recorded neuron: max / mean \\|diff\\| (mV) "
          "| connections s2 / brian2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in names:
        a, b = res[n, "s2"], res[n, "brian2"]
        cells = ("",) * 5
        if a[2] and b[2] and a[0] == 0 and b[0] == 0:  # both completed
            cells = compare(a[2], b[2])
        ratio = ""
        if a[0] == 0 and b[0] in (0, 124) and a[1] > 0:
            ratio = "%s%.0f" % (">" if b[0] == 124 else "", b[1] / a[1])
        print("| %s%s | %s | %s | %s | %s |" % (
            n, "" if n not in skip else " (not counted)", status(a), status(b), ratio,
            " | ".join(c.replace("|", "/") for c in cells)))


if __name__ == "__main__":
    main()
