#!/usr/bin/env python3
"""Read the per-population statistics of the Brian 2 reimplementation of the microcircuit
(Shimoura et al. 2018, ReScience 4(1):2, "[Re] The cell-type specific cortical
microcircuit", Fig. 2) off the vector drawing of its figure, for bench/mc_stats.py
(RESCIENCE_*).

The figure: article/fig2.pdf (= code/figures/fig2.pdf) of the public repository
ReScience-Archives/ShimouraR-KamijiNL-PenaRFO-CordeiroVL-CeballosCC-RomaroC-RoqueAC-2017
(commit 58fee02), drawn by the repository's code/figures.py (createfig2) from one full-scale
60 s run (netRun.py protocol 0: Poisson background, K_ext per layer at 8 Hz, g = 4). Its right
column has three horizontal panels, one row per population (L23e at the top): B the firing
rates of 1000 random neurons per population (box plot; the mean a white triangle), C their
mean CV of the inter-spike intervals (bars), D the synchrony (bars): the variance over the
mean of the spike count of those 1000 neurons in 3 ms bins from 498 ms to 60 s.

The PDF is drawn by cairo: every bar is a filled rectangle `x y w h re B` in an XObject, every
axis tick a stroked segment followed by its label `(text)Tj` in the page's stream. The reader
decompresses the streams (FlateDecode only), takes each row of numeric ticks (same y, at least
three, x beyond COLUMN_X) as an axis, fits position against value, and reads each bar's right
end and each triangle's apex on the axis below it, rows ordered from the top. Nothing is
estimated by eye: the values are as exact as the drawing (about 0.1 pt, 0.004 in synchrony).

usage: mc_read_rescience.py FIG2.pdf [--json OUT]
"""
import argparse
import json
import re
import sys
import zlib

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
COLUMN_X = 300.0  # the right column (the raster plot's time axis lies left of it)
NUM = r"-?\d+(?:\.\d+)?"
TICK = re.compile(rf"({NUM}) ({NUM}) m ({NUM}) ({NUM}) l S Q\s*0 0 0 rg BT\s*(?:{NUM} ){{6}}Tm"
                  rf"\s*/\S+ 1 Tf\s*\(([^)]*)\)Tj")
BAR = re.compile(rf"({NUM}) ({NUM}) ({NUM}) rg /\w+ gs.*?({NUM}) ({NUM}) ({NUM}) ({NUM}) re B",
                 re.S)
TRIANGLE = re.compile(rf"1 1 1 rg /\w+ gs.*?({NUM}) ({NUM}) m ({NUM}) ({NUM}) l ({NUM}) ({NUM}) "
                      r"l h", re.S)


def streams(pdf):
    """The decompressed content of every FlateDecode stream of the PDF bytes."""
    out = []
    for m in re.finditer(rb"\d+ 0 obj\s*<<(.*?)>>\s*stream\r?\n", pdf, re.S):
        if b"/FlateDecode" not in m.group(1) and b"/Filter" in m.group(1):
            continue
        end = pdf.find(b"endstream", m.end())
        try:
            out.append(zlib.decompress(pdf[m.end():end]).decode("latin1"))
        except zlib.error:
            continue
    return out


def axes(texts):
    """The numeric x axes: {y: (offset, scale)} with value = (x - offset) / scale, from rows
    of vertical ticks with numeric labels (at least three per row, right of COLUMN_X)."""
    rows = {}
    for s in texts:
        for m in TICK.finditer(s):
            x0, y0, x1, y1, label = m.groups()
            if x0 != x1 or y0 == y1 or float(x0) < COLUMN_X:
                continue
            try:
                v = float(label)
            except ValueError:
                continue
            rows.setdefault(float(y0), []).append((float(x0), v))
    out = {}
    for y, ticks in rows.items():
        if len(ticks) < 3:
            continue
        n = len(ticks)
        mx = sum(t[1] for t in ticks) / n
        mp = sum(t[0] for t in ticks) / n
        scale = sum((t[1] - mx) * (t[0] - mp) for t in ticks) / sum((t[1] - mx) ** 2
                                                                    for t in ticks)
        worst = max(abs(t[0] - (mp + (t[1] - mx) * scale)) for t in ticks)
        if worst > 0.05:
            raise ValueError(f"ticks at y {y} are not evenly spaced (off by {worst:.3f} pt)")
        out[y] = (mp - mx * scale, scale)
    return out


def axis_below(ax, y):
    """The axis whose tick row is the first one below (more negative than) y."""
    below = [a for a in ax if a < y]
    if not below:
        raise ValueError(f"no axis below y {y}")
    return max(below)


def read(texts):
    """{"rate": [...], "cv": [...], "synchrony": [...]} in the order of POPS, from the
    decompressed streams of the figure."""
    ax = axes(texts)
    if len(ax) != 3:
        raise ValueError(f"{len(ax)} numeric axes in the right column, not the figure's 3")
    panels = {a: [] for a in ax}
    for s in texts:
        for m in BAR.finditer(s):
            x, y, w, h = (float(g) for g in m.groups()[3:])
            if x < COLUMN_X or w <= 0:
                continue
            a = axis_below(ax, y)
            panels[a].append((y + h / 2, (x + w - ax[a][0]) / ax[a][1], "bar"))
        for m in TRIANGLE.finditer(s):
            p = [float(g) for g in m.groups()]
            if p[0] < COLUMN_X:
                continue
            a = axis_below(ax, p[1])
            panels[a].append(((p[1] + p[3]) / 2, (p[0] - ax[a][0]) / ax[a][1], "mean"))
    out = {}
    for name, a in zip(["rate", "cv", "synchrony"], sorted(ax, reverse=True)):
        kind = "mean" if name == "rate" else "bar"
        vals = sorted((v for v in panels[a] if v[2] == kind), key=lambda v: -v[0])
        if len(vals) != len(POPS):
            raise ValueError(f"{name}: {len(vals)} {kind}s above the axis at y {a}, not "
                             f"{len(POPS)}")
        out[name] = [round(v[1], 4) for v in vals]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pdf")
    ap.add_argument("--json")
    a = ap.parse_args()
    try:
        r = read(streams(open(a.pdf, "rb").read()))
    except (OSError, ValueError) as e:
        sys.exit(f"mc_read_rescience: {a.pdf}: {e}")
    print(f"{'pop':5} {'rate (Hz)':>9} {'CV':>6} {'synchrony':>9}")
    for k, p in enumerate(POPS):
        print(f"{p:5} {r['rate'][k]:9.3f} {r['cv'][k]:6.3f} {r['synchrony'][k]:9.3f}")
    if a.json:
        json.dump(dict(r, populations=POPS), open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
