#!/usr/bin/env python3
"""bench/mc_read_rescience.py on a PDF drawn as cairo draws Shimoura et al. 2018's Fig. 2
(compressed streams: tick rows with their labels in the page's stream, one bar or marker per
XObject), with known values: the three axes, each panel's rows from the top, the box-plot boxes
of the rate panel ignored, the raster's axis on the left ignored; a missing bar and uneven ticks
are refused. Prints one line per check and 'N passed, N failed'; exit status 1 on any failure."""
import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import mc_read_rescience as rr  # noqa: E402

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'ok' if ok else 'FAIL'}: {name} {detail}")
    if ok:
        passed += 1
    else:
        failed += 1


def tick_row(y, x0, step, labels, last_off=0.0):
    out = ""
    for i, lab in enumerate(labels):
        x = x0 + i * step + (last_off if i == len(labels) - 1 else 0.0)
        out += (f"0 0 0 RG q 1 0 0 1 0 720 cm\n{x:.3f} {y} m {x:.3f} {y - 3.5} l S Q\n"
                f"0 0 0 rg BT\n10 0 0 10 {x - 3:.3f} 500.1 Tm\n/f-0-0 1 Tf\n({lab})Tj\nET\n")
    return out


def bar(x0, y, w, colour="0 0 1"):
    return (f"q\n{colour} rg /a0 gs\n0 0 0 RG 1 w\n0 J\n0 j\n[] 0.0 d\n10 M q 1 0 0 1 0 720 cm\n"
            f"{x0} {y} {w:.3f} -18.5 re B Q\nQ\n")


def triangle(x, yc):
    return (f"q\n1 1 1 rg /a0 gs\n0 0 0 RG 1 w\n0 J\n0 j\n[] 0.0 d\n10 M q 1 0 0 1 0 720 cm\n"
            f"{x:.3f} {yc + 3} m {x - 3:.3f} {yc - 3} l {x + 3:.3f} {yc - 3} l h\n"
            f"{x:.3f} {yc + 3} m B Q\nQ\n")


def pdf(parts):
    out = b"%PDF-1.5\n"
    for i, s in enumerate(parts):
        z = zlib.compress(s.encode("latin1"))
        out += (f"{i + 1} 0 obj\n<< /Length {len(z)}\n   /Filter /FlateDecode\n>>\n"
                "stream\n").encode() + z + b"\nendstream\nendobj\n"
    return out


RATE = [0.9, 3.0, 4.4, 6.0, 7.5, 8.8, 1.1, 7.7]
CV = [0.93, 0.92, 0.89, 0.87, 0.85, 0.80, 0.91, 0.82]
SYNC = [4.5, 3.2, 4.7, 2.5, 7.3, 1.6, 1.7, 1.3]
X0 = 308.973


def figure(drop_sync_bar=False, uneven=False):
    # page: the raster's time axis (left), then the rate, CV and synchrony axes from the top
    page = tick_row(-678.0, 37.8, 54.4, ["59.6", "59.7", "59.8"])
    page += tick_row(-205.238, 318.871, 33.15, ["0", "5", "10", "15"],
                     0.4 if uneven else 0.0)
    page += tick_row(-441.641, X0, 44.3635, ["0.0", "0.2", "0.4", "0.6"])
    page += tick_row(-678.039, X0, 2 * 28.539, ["0", "2", "4", "6"])
    parts = [page]
    for k in range(8):
        yc = -25.3 - 24 * k
        parts.append(bar(318.871 + 6.63 * (RATE[k] - 0.3), yc + 6, 6.63 * 0.6, "0.4 0.7 1"))
        parts.append(triangle(318.871 + 6.63 * RATE[k], yc))
        parts.append(bar(X0, -255.5 - 23.12 * k, 221.8175 * CV[k]))
        if not (drop_sync_bar and k == 5):
            parts.append(bar(X0, -491.9 - 23.12 * k, 28.539 * SYNC[k], "1 0.6 0.6"))
    return pdf(parts)


r = rr.read(rr.streams(figure()))
check("rates: the mean markers, not the boxes, rows from the top",
      max(abs(a - b) for a, b in zip(r["rate"], RATE)) < 0.002, f"{r['rate']}")
check("CVs: bar ends on the 0.2-per-44.36-pt axis",
      max(abs(a - b) for a, b in zip(r["cv"], CV)) < 0.001, f"{r['cv']}")
check("synchrony: bar ends on the 2-per-57.08-pt axis",
      max(abs(a - b) for a, b in zip(r["synchrony"], SYNC)) < 0.001, f"{r['synchrony']}")
for name, kw, what in [("a missing synchrony bar", {"drop_sync_bar": True}, "synchrony: 7"),
                       ("unevenly spaced ticks", {"uneven": True}, "not evenly spaced")]:
    try:
        rr.read(rr.streams(figure(**kw)))
        check(f"{name} is refused", False, "read without an error")
    except ValueError as e:
        check(f"{name} is refused", what in str(e), f"({e})")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
