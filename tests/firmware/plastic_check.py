#!/usr/bin/env python3
"""Plastic synapses of the engine against independent references (docs/engine.md, Plasticity).

Each scenario is one PE written by s2fw-run (--write-dir: pedata.bin, input.bin), run by the
host build of fw_engine_run (ENGINE_EMU) and by the Cortex-M4F build under QEMU (ENGINE_ELF
through QEMU_RUN): both must write byte-identical output.bin and weights.bin, and the learned
weights (or, for Tsodyks-Markram, the voltage jumps) must match a reference computed here
from the published rules, never from s2 output:

- STDP window (SpikePairRule, additive and multiplicative, axonal and dendritic delays): one
  pre and one post spike per synapse at intervals -50..+50 ms; the closed forms
  w_max A+ exp(-dt/tau+) / -w_max A- exp(dt/tau-) (additive), (w_max - w) A+ exp(-dt/tau+) /
  -(w - w_min) A- exp(dt/tau-) (multiplicative).
- STDP and Vogels 2011 with spike trains: an event-driven NumPy model of all-to-all traces
  (pre before post at equal times, bounds after every event, as pyNN.brian2's equations).
- Tsodyks-Markram: the jumps of v of a delta-synapse neuron along spike trains against the
  three-state model of Tsodyks, Uziel and Markram (2000), integrated between spikes with the
  matrix exponential of its linear system.

Env: S2FW_RUN, ENGINE_EMU, ENGINE_ELF, QEMU_RUN (as engine_identity). Exit 0 when all pass.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

S2FW_RUN = os.environ["S2FW_RUN"]
ENGINE_EMU = os.environ["ENGINE_EMU"]
ENGINE_ELF = os.environ.get("ENGINE_ELF", "")
QEMU_RUN = os.environ.get("QEMU_RUN", "")
DT = 0.1
FAILS = []


def run_pe(name, args):
    """Both builds on the PE that args describe; returns (output.bin, weights.bin bytes)."""
    w = tempfile.mkdtemp(prefix="s2pl.")
    try:
        q, h = os.path.join(w, "qemu"), os.path.join(w, "host")
        os.makedirs(q)
        os.makedirs(h)
        subprocess.run([S2FW_RUN] + args + ["--write-dir", q], check=True)
        for f in ("pedata.bin", "input.bin"):
            shutil.copy(os.path.join(q, f), h)
        subprocess.run([ENGINE_EMU], cwd=h, check=True)
        subprocess.run(["timeout", "300", "sh", QEMU_RUN, ENGINE_ELF], cwd=q, check=True,
                       stdout=subprocess.DEVNULL)
        out = {}
        for f in ("output.bin", "weights.bin"):
            a = open(os.path.join(h, f), "rb").read() if os.path.exists(os.path.join(h, f)) else b""
            b = open(os.path.join(q, f), "rb").read() if os.path.exists(os.path.join(q, f)) else b""
            if a != b:
                FAILS.append("%s: %s differs between QEMU and the host build" % (name, f))
            out[f] = a
        return out["output.bin"], out["weights.bin"]
    finally:
        shutil.rmtree(w, ignore_errors=True)


def weights(wb):
    """{(row, neuron): weight} and the plasticity counters of a weights.bin."""
    magic, n = struct.unpack_from("<II", wb)
    assert magic == 0x54573253, "not a weights.bin"
    counters = struct.unpack_from("<5Q", wb, 8)
    out = {}
    for k in range(n):
        _e, row, word, wt = struct.unpack_from("<IIIf", wb, 48 + 16 * k)
        out[(row, word & 0xFF)] = wt
    return out, dict(zip(("updates", "zero", "clipped", "hist_lost", "queue_full"), counters))


def voltages(ob, n_rec):
    """The recorded voltages of output.bin, steps x n_rec."""
    _m, steps, sb, vb = struct.unpack_from("<IIII", ob)
    return np.frombuffer(ob, "<f4", vb // 4, 16 + sb).reshape(steps, n_rec)


def check(name, got, ref, tol):
    err = float(np.max(np.abs(np.asarray(got) - np.asarray(ref)))) if len(ref) else 0.0
    ok = err <= tol and len(got) == len(ref)
    print("%s - %s: %d values, max |s2 - reference| %.3g (tolerance %.3g)"
          % ("ok  " if ok else "FAIL", name, len(ref), err, tol))
    if not ok:
        FAILS.append(name)


# --- STDP: the reference -------------------------------------------------------------------

def stdp_ref(kind, pre, post, w0, p):
    """One synapse: pre and post spike times at the synapse (ms); all-to-all traces, each
    event decaying both traces to its time; pre before post at equal times."""
    ev = sorted([(t, 0) for t in pre] + [(t, 1) for t in post])
    w, P, M, last = w0, 0.0, 0.0, 0.0
    wmin, wmax = p["w_min"], p["w_max"]
    for t, kind_ev in ev:
        if kind in ("add", "mult"):
            P *= np.exp(-(t - last) / p["tau_plus"])
            M *= np.exp(-(t - last) / p["tau_minus"])
        else:
            P *= np.exp(-(t - last) / p["tau"])
            M *= np.exp(-(t - last) / p["tau"])
        last = t
        if kind_ev == 0:  # pre: depression by the post trace, then the pre trace grows
            if kind == "add":
                w -= wmax * p["A_minus"] * M
            elif kind == "mult":
                w -= (w - wmin) * p["A_minus"] * M
            else:
                w += p["eta"] * (M - 2 * p["rho"] * p["tau"] / 1000.0)
            P += 1.0
        else:  # post: potentiation by the pre trace, then the post trace grows
            if kind == "add":
                w += wmax * p["A_plus"] * P
            elif kind == "mult":
                w += (wmax - w) * p["A_plus"] * P
            else:
                w += p["eta"] * P
            M += 1.0
        w = min(max(w, wmin), wmax)
    return w


def rule_args(kind, p, dendritic):
    name = {"add": "stdp_add", "mult": "stdp_mult", "vogels": "vogels"}[kind]
    keys = ["w_min", "w_max"] + (["tau", "eta", "rho"] if kind == "vogels" else
                                 ["tau_plus", "tau_minus", "A_plus", "A_minus"])
    return ["--plastic", ":".join([name] + ["%s=%r" % (k, p[k]) for k in keys] +
                                  ["dendritic=%d" % dendritic])]


def forced_post(j, t):
    """Post neuron j spikes in the step starting at t (ms): a 100 nA pulse for one step."""
    return ["--current", "%g:%d:100" % (t, j), "--current", "%g:%d:0" % (t + DT, j)]


def window(kind, dendritic, d_ms=1.0):
    p = dict(w_min=0.0, w_max=0.01, tau_plus=20.0, tau_minus=15.0, A_plus=0.01,
             A_minus=0.012)
    w0 = 0.005
    deltas = np.arange(-50, 51, 5.0)
    args = ["--model", "lif_curr_exp", "--n", str(len(deltas)), "--param", "cm=0.25",
            "--param", "tau_m=10", "--duration", "250"] + rule_args(kind, p, dendritic)
    t_pre = 100.0
    for j, dl in enumerate(deltas):
        # axonal: the pre spike reaches the synapse at t_pre + d, the post spike at t_post;
        # dendritic: the pre spike at t_pre, the post spike at t_post + d
        t_post = t_pre + dl + (d_ms if not dendritic else -d_ms)
        args += ["--syn", "%d:%d:%r:%r:exc" % (j, j, w0, d_ms), "--input", "%g:%d" % (t_pre, j)]
        args += forced_post(j, t_post)
    ob, wb = run_pe("window_%s_%s" % (kind, "dend" if dendritic else "axon"), args)
    got, cnt = weights(wb)
    if kind == "add":
        ref = [w0 + (p["w_max"] * p["A_plus"] * np.exp(-dl / p["tau_plus"]) if dl >= 0 else
                     -p["w_max"] * p["A_minus"] * np.exp(dl / p["tau_minus"])) for dl in deltas]
    else:
        ref = [w0 + ((p["w_max"] - w0) * p["A_plus"] * np.exp(-dl / p["tau_plus"]) if dl >= 0
                     else -(w0 - p["w_min"]) * p["A_minus"] * np.exp(dl / p["tau_minus"]))
               for dl in deltas]
    g = [got[(j, j)] for j in range(len(deltas))]
    check("STDP window, %s, %s delay (-50..+50 ms, closed form; dw from %.2e to %.2e)"
          % ({"add": "additive", "mult": "multiplicative"}[kind],
             "dendritic" if dendritic else "axonal", min(np.subtract(ref, w0)),
             max(np.subtract(ref, w0))), g, ref, 2e-6 * p["w_max"])
    if any(cnt[k] for k in ("zero", "clipped", "hist_lost", "queue_full")):
        FAILS.append("window %s: counters %s" % (kind, cnt))
    return deltas, np.subtract(g, w0)


def trains(kind, dendritic=0, d_ms=2.0):
    """Several synapses, each with its own pre and post trains (interactions, bounds)."""
    rng = np.random.default_rng(7 + len(kind))
    if kind == "vogels":
        p = dict(w_min=0.0, w_max=0.02, tau=20.0, eta=0.0005, rho=10.0)
    else:
        p = dict(w_min=0.001, w_max=0.01, tau_plus=16.8, tau_minus=33.7, A_plus=0.05,
                 A_minus=0.04)
    n = 12
    dur = 600.0
    args = ["--model", "lif_curr_exp", "--n", str(n), "--param", "cm=0.25", "--param",
            "tau_m=10", "--duration", "%g" % (dur + 10)] + rule_args(kind, p, dendritic)
    pre_syn, post_syn, w0s = [], [], []
    for j in range(n):
        # an initial weight the synaptic word holds exactly (units of w_max / 32768,
        # pedata.h S2_PL_WORD_ONE)
        w0 = round(float(rng.uniform(0.3, 0.9)) * 32768) * p["w_max"] / 32768
        w0s.append(w0)
        pre = np.unique(np.round(np.sort(rng.uniform(5, dur - 20, rng.integers(3, 15))), 1))
        post = np.round(np.sort(rng.uniform(5, dur - 20, rng.integers(3, 15))), 1)
        # forced post spikes at least 1 ms apart (beyond the refractory step)
        post = post[np.concatenate([[True], np.diff(post) >= 1.0])]
        args += ["--syn", "%d:%d:%r:%r:exc" % (j, j, w0, d_ms)]
        for t in pre:
            args += ["--input", "%g:%d" % (t, j)]
        for t in post:
            args += forced_post(j, t)
        if dendritic:
            pre_syn.append(list(pre))
            post_syn.append(list(post + d_ms))
        else:
            pre_syn.append(list(pre + d_ms))
            post_syn.append(list(post))
    ob, wb = run_pe("trains_%s" % kind, args)
    got, cnt = weights(wb)
    ref = [stdp_ref(kind, pre_syn[j], post_syn[j], w0s[j], p) for j in range(n)]
    g = [got[(j, j)] for j in range(n)]
    label = {"add": "STDP additive", "mult": "STDP multiplicative",
             "vogels": "Vogels 2011"}[kind]
    check("%s, %d synapses with trains of 3-14 pre and post spikes (all-to-all traces, "
          "bounds [%g, %g])" % (label, n, p["w_min"], p["w_max"]), g, ref, 2e-6 * p["w_max"])
    if any(cnt[k] for k in ("zero", "clipped", "hist_lost", "queue_full")):
        FAILS.append("trains %s: counters %s" % (kind, cnt))


# --- Tsodyks-Markram -----------------------------------------------------------------------

def tm_ref(times, U, tau_rec, tau_facil, tau_psc):
    """Release u x at each spike: Tsodyks, Uziel & Markram (2000), three states x (recovered),
    y (active), z (inactive), dx/dt = z/tau_rec, dy/dt = -y/tau_psc, dz/dt = y/tau_psc -
    z/tau_rec, du/dt = -u/tau_facil; at a spike u += U (1 - u), then y += u x, x -= u x.
    Between spikes by the matrix exponential of the linear system (scipy-free: eigen)."""
    x, y, z, u = 1.0, 0.0, 0.0, 0.0
    last = None
    out = []
    for t in times:
        if last is not None:
            h = t - last
            if tau_psc > 0:
                A = np.array([[0, 0, 1 / tau_rec], [0, -1 / tau_psc, 0],
                              [0, 1 / tau_psc, -1 / tau_rec]])
                ev, V = np.linalg.eig(A * h)
                E = (V @ np.diag(np.exp(ev)) @ np.linalg.inv(V)).real
                x, y, z = E @ np.array([x, y, z])
            else:  # y becomes inactive at once: z recovers exponentially
                z = z + y
                y = 0.0
                zn = z * np.exp(-h / tau_rec)
                x = x + (z - zn)
                z = zn
            u = u * (np.exp(-h / tau_facil) if tau_facil > 0 else 0.0)
        u = u + U * (1 - u)
        r = u * x
        x -= r
        if tau_psc > 0:
            y += r
        else:
            z += r
        out.append(r)
        last = t
    return np.array(out)


def tm(name, U, tau_rec, tau_facil, tau_psc, times, w=1.0):
    args = ["--model", "lif_curr_delta", "--n", "1", "--param", "v_rest=0", "--param",
            "v_reset=0", "--param", "v_thresh=1e6", "--param", "tau_m=1e9", "--v0", "0",
            "--record-v", "0", "--duration", "%g" % (max(times) + 5),
            "--syn", "0:0:%r:1:exc" % w,
            "--plastic", "tm:U=%r:tau_rec=%r:tau_facil=%r:tau_psc=%r" % (
                U, tau_rec, tau_facil, tau_psc)]
    for t in times:
        args += ["--input", "%g:0" % t]
    ob, wb = run_pe("tm_" + name, args)
    v = voltages(ob, 1)[:, 0].astype(np.float64)
    jumps = np.diff(np.concatenate([[0.0], v]))
    jumps = jumps[np.abs(jumps) > 1e-6]
    ref = w * tm_ref(times, U, tau_rec, tau_facil, tau_psc)
    # the ring holds whole weight units (w / 4000 here): half a unit, plus float v
    check("Tsodyks-Markram %s (U %g, tau_rec %g, tau_facil %g, tau_psc %g; %d spikes, "
          "release %.3f..%.3f)" % (name, U, tau_rec, tau_facil, tau_psc, len(times),
                                   ref.min() / w, ref.max() / w),
          jumps, ref, w / 8000.0 + 2e-5)


def main():
    if not (ENGINE_ELF and os.path.exists(ENGINE_ELF)):
        print("missing %s: build the cm4f-qemu preset first" % ENGINE_ELF)
        return 1
    for kind in ("add", "mult"):
        for dend in (0, 1):
            deltas, dw = window(kind, dend)
            if kind == "add" and not dend:
                print("     window (axonal, additive): " +
                      " ".join("%+g:%+.3g" % (a, b) for a, b in zip(deltas[::2], dw[::2])))
    trains("add")
    trains("mult", dendritic=1)
    trains("vogels")
    regular = list(np.arange(10.0, 410.0, 25.0))
    tm("depressing_regular", 0.5, 100.0, 0.0, 0.0, regular)
    tm("facilitating_regular", 0.1, 100.0, 500.0, 0.0, regular)
    tm("tau_psc_irregular", 0.3, 200.0, 100.0, 5.0,
       [10.0, 12.0, 15.5, 40.0, 41.0, 90.0, 250.0, 251.5, 253.0, 400.0])
    print("%s" % ("all passed" if not FAILS else "FAILED: " + "; ".join(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
