#!/usr/bin/env python3
"""The free membrane of a current-based LIF neuron under Poisson input against Campbell's
theorem (docs/engine.md, "Background Poisson input").

A LIF neuron (C, tau_m) whose threshold is out of reach, with exponential synaptic currents
(tau_s), driven by Poisson input of rate r and weight w (a current jump of w nA per spike),
is shot noise: v(t) = v_rest + sum_k h(t - t_k) with the PSP kernel

    h(t) = w / C * tau_m tau_s / (tau_m - tau_s) * (exp(-t / tau_m) - exp(-t / tau_s)),

so by Campbell's theorem  E[v] = v_rest + r * int h = v_rest + r w tau_s tau_m / C  and
Var[v] = r * int h^2 = r (w / C)^2 (tau_m tau_s / (tau_m - tau_s))^2
         * (tau_m / 2 + tau_s / 2 - 2 tau_m tau_s / (tau_m + tau_s)).

The engine delivers Poisson counts on the timestep grid; the variance of that lattice process
is r dt sum_n h(n dt)^2, which differs from the integral by the Riemann sum's error (printed,
and allowed for in the tolerance). The sample statistics are compared with tolerances from the
sample size: the samples of a trace are correlated over about tau_m, so the standard errors
are those of T / (2 tau_m) (mean) and T / tau_m (variance) independent samples (T: recorded
neuron-time); pass within 4 of them.

usage: campbell.py FILE --rate HZ --weight NA [--cm NF] [--tau-m MS] [--tau-s MS]
                   [--v-rest MV] [--dt MS] [--skip MS] [--cols N] [--format f32|npy|s2fw]
FILE: the voltages, steps x neurons (raw little-endian f32 with --cols, a .npy file, or the
output.bin of fw_engine_run, format s2fw). Exit status 0 when both checks pass.
"""
import argparse
import struct
import sys

import numpy as np


def load(path, fmt, cols):
    raw = open(path, "rb").read()
    if fmt == "npy":
        return np.load(path)
    if fmt == "s2fw":  # 'S2OU', steps, spike bytes, v bytes, spikes, voltages, counters
        magic, steps, sb, vb = struct.unpack_from("<4I", raw, 0)
        if magic != 0x554F3253:
            sys.exit("not an fw_engine_run output.bin")
        v = np.frombuffer(raw, "<f4", vb // 4, 16 + sb)
        return v.reshape(steps, -1)
    return np.frombuffer(raw, "<f4").reshape(-1, cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--weight", type=float, required=True)
    ap.add_argument("--cm", type=float, default=0.25)
    ap.add_argument("--tau-m", type=float, default=10.0)
    ap.add_argument("--tau-s", type=float, default=0.5)
    ap.add_argument("--v-rest", type=float, default=-65.0)
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--skip", type=float, default=50.0, help="transient, ms")
    ap.add_argument("--cols", type=int, default=0)
    ap.add_argument("--format", default="npy")
    a = ap.parse_args()
    v = load(a.file, a.format, a.cols).astype(np.float64)
    v = v[int(round(a.skip / a.dt)):]
    steps, n = v.shape
    r = a.rate / 1000.0  # per ms
    tm, ts, c, w = a.tau_m, a.tau_s, a.cm, a.weight
    amp = w / c * tm * ts / (tm - ts)
    mean_th = a.v_rest + r * w * ts * tm / c
    var_th = r * amp**2 * (tm / 2 + ts / 2 - 2 * tm * ts / (tm + ts))
    t = np.arange(1, int(20 * tm / a.dt)) * a.dt
    h = amp * (np.exp(-t / tm) - np.exp(-t / ts))
    var_lat = r * a.dt * np.sum(h**2)
    mean = v.mean()
    var = v.var(axis=0).mean()
    t_total = steps * a.dt * n
    # a trace's autocorrelation is about exp(-|t| / tau_m): the sample mean has the variance
    # of T / (2 tau_m) independent samples, the sample variance that of T / tau_m
    n_eff = t_total / tm
    se_mean = np.sqrt(2 * var_th / n_eff)
    se_var = var_th * np.sqrt(2.0 / n_eff)
    tol_mean = 4 * se_mean
    tol_var = 4 * se_var + abs(var_lat - var_th)
    ok_m = abs(mean - mean_th) <= tol_mean
    ok_v = abs(var - var_th) <= tol_var
    print(f"{n} traces x {steps} steps ({t_total / 1000:.1f} s of membrane), rate {a.rate:g} Hz,"
          f" weight {w:g} nA")
    print(f"mean     {mean:9.4f} mV  Campbell {mean_th:9.4f}  diff {mean - mean_th:+.4f}"
          f"  tolerance {tol_mean:.4f}  {'ok' if ok_m else 'FAIL'}")
    print(f"variance {var:9.4f} mV2 Campbell {var_th:9.4f}  diff {100 * (var / var_th - 1):+.2f} %"
          f"  tolerance {100 * tol_var / var_th:.2f} % (lattice {var_lat:.4f})"
          f"  {'ok' if ok_v else 'FAIL'}")
    return 0 if ok_m and ok_v else 1


if __name__ == "__main__":
    sys.exit(main())
