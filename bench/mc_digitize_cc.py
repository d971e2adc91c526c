#!/usr/bin/env python3
"""Read the mean pairwise spike-count correlation of each population off the NEST reference
figure of the full-scale microcircuit, for bench/mc_stats.py (NEST_REF_CC).

The figure: PyNEST/reference_data/figures/spike_ccs_distributions_T900s.png of the public
repository INM-6/microcircuit-PD14-model (commit cdc19fe3, "Added reference data for 15 min
measurement"; its params.py there: scaling_factor 1.0, ten network realisations, t_sim 900 s
after t_presim 500 ms, 250 neurons per population, 2 ms bins, correlation coefficients of
helpers.pairwise_spike_count_correlations). Its eight panels (2 columns x 4 rows) show the
distribution of the coefficients, one light grey curve (RGB 200, 200, 200) per realisation and
their mean dashed in black. For each pixel column of a panel the centre of the grey pixels
gives the curve's height above its lowest point; the mean is the height-weighted mean of the
column's coefficient. The panel frames and the axis ticks (-0.01, 0, 0.01) were located in
the image (frames at rows 7/197/390/582/775, columns 53/343/633; ticks at x = 125/197/270 and
415/488/561). L5E's curve leaves the plot at 0.02 at a third of its peak, so its mean is a
lower bound; the text in the panels adds a little noise (about 0.0005).

usage: /usr/bin/python3 bench/mc_digitize_cc.py FIGURE.png
"""
import sys

import numpy as np
from PIL import Image

NAMES = [["L23E", "L23I"], ["L4E", "L4I"], ["L5E", "L5I"], ["L6E", "L6I"]]
ROWS = [(8, 196), (200, 389), (393, 581), (585, 772)]          # inside the frames
COLS = [(54, 341, 197, 72.5), (345, 631, 488, 73.0)]           # x0, x1, x of 0, px per 0.01


def main():
    im = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
    if im.shape[:2] != (938, 639):
        sys.exit(f"{sys.argv[1]}: {im.shape[1]} x {im.shape[0]} pixels, not the 639 x 938 "
                 "of the figure this reads")
    g = im.mean(axis=2)
    grey = (g >= 196) & (g <= 204) & (im.max(axis=2) - im.min(axis=2) <= 3)
    for ri, (r0, r1) in enumerate(ROWS):
        for ci, (c0, c1, zero, px) in enumerate(COLS):
            xs, ys = [], []
            for c in range(c0 + 2, c1 - 1):
                yy = np.where(grey[r0 + 1:r1, c])[0]
                if len(yy) >= 3:
                    xs.append((c - zero) / px * 0.01)
                    ys.append(np.median(yy))
            xs, ys = np.array(xs), np.array(ys)
            h = ys.max() - ys
            edge = h[-3:].mean() / h.max()
            print(f"{NAMES[ri][ci]:5} mean CC {np.sum(xs * h) / np.sum(h):+.4f}  mode "
                  f"{xs[np.argmax(h)]:+.4f}  height at the right edge / peak {edge:.2f}")


if __name__ == "__main__":
    main()
