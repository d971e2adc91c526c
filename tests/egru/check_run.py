#!/usr/bin/python3
"""Check an s2 run of an exported EGRU network against the references (docs/egru.md).

    check_run.py MODEL.npz|- NET.json RESULTS_DIR [--qemu-dump DIR] [--min-agree 0.99]
                 [--bpc-tol 0.02] [--same-as OTHER_RESULTS_DIR]

RESULTS_DIR holds `s2ctl results --npy` output. Checks, each printed as ok/FAIL:
  - the read-out values of every step equal, bit for bit, those of ref_numpy (an independent
    NumPy model of the engine's fixed-point arithmetic, written from docs/egru.md), and every
    EGRU layer's events equal the reference's;
  - (not with MODEL "-", a network without a trained model) against the float PyTorch model (no quantisation): per-token top-1 agreement >= --min-agree,
    bits per character within --bpc-tol (relative) -- charlm; accuracy and agreement -- digits;
  - with --qemu-dump: the read-out PE's recording made by the Cortex-M4F build under QEMU
    (output.bin of fw_engine_run) equals s2emu's read-out values;
  - with --same-as: a second run (another mapping) gave bit-identical values and events.
Prints 'N passed, M failed' last; exit status 1 on any failure.
"""
import argparse
import glob
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

from s2_egru import export, ref_numpy  # noqa: E402
from s2_egru.data import bits_per_char  # noqa: E402
from s2_egru import model as M  # noqa: E402
import s2check  # noqa: E402

checks = s2check.Checks("{mark} - {what}{detail}", ok="ok  ")
check = checks.named


def read_output_bin(path):
    """fw_engine_run's output.bin: header, spike recording, voltage recording (f32)."""
    with open(path, "rb") as f:
        b = f.read()
    magic, steps, sb, vb = struct.unpack_from("<4I", b, 0)
    if magic != 0x554F3253:
        raise ValueError("%s: not an output.bin" % path)
    v = np.frombuffer(b, dtype="<f4", count=vb // 4, offset=16 + sb)
    return steps, v


def dense_pes(dump):
    """The dump's PE directories whose PE data holds a dense layer (model 6)."""
    out = []
    for d in sorted(glob.glob(os.path.join(dump, "pe*"))):
        with open(os.path.join(d, "pedata.bin"), "rb") as f:
            head = f.read(12)
        model, n = struct.unpack_from("<HH", head, 6)
        if model == 6:
            out.append((d, n))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("net")
    ap.add_argument("results")
    ap.add_argument("--qemu-dump")
    ap.add_argument("--same-as")
    ap.add_argument("--min-agree", type=float, default=0.99)
    ap.add_argument("--bpc-tol", type=float, default=0.02)
    a = ap.parse_args()
    with open(a.net) as f:
        netd = json.load(f)
    if a.model != "-":
        net, meta = M.load(a.model)
        L = net.n_layers
    ref = ref_numpy.run(netd)
    reads = [p["label"] for p in netd["populations"] if p["model"] == "dense"]
    layers = [p["label"] for p in netd["populations"] if p["model"] == "egru"]
    got = {}
    for lab in reads:
        v = np.load(os.path.join(a.results, lab + "_v.npy"))
        got[lab] = v
        r = np.asarray(ref["a"][lab], dtype=np.float32)
        same = v.shape == r.shape and np.array_equal(v.view(np.uint32), r.view(np.uint32))
        check("%s: %s values, every step, bit-identical to ref_numpy" % (lab, "x".join(map(str, v.shape))),
              same, "" if same else "max |diff| %.3g" % float(np.abs(v - r).max()))
    for lab in layers + [r for r in reads if any(p["pre"] == r for p in netd["projections"])]:
        path = os.path.join(a.results, lab + "_spikes.npy")
        if not os.path.exists(path):
            continue
        sp = np.load(path)  # (n, 2): neuron, time in ms (the end of the step)
        fired = np.asarray(ref["fired"][lab])
        dt = netd["timestep_ms"]
        raster = np.zeros_like(fired, dtype=bool)
        for i, t in sp:
            raster[int(round(t / dt)) - 1, int(i)] = True
        ok = np.array_equal(raster, fired)
        check("%s: %d events, the same unit-steps as ref_numpy" % (lab, int(fired.sum())), ok,
              "" if ok else "%d differ" % int((raster != fired).sum()))
    if a.model == "-":
        pass
    elif meta["task"] == "charlm":
        # The token sequence: the spike source's spikes, by time.
        src = netd["populations"][0]
        ev = sorted((t, i) for i, tr in enumerate(src["spike_times"]) for t in tr)
        toks = np.array([i for _, i in ev], dtype=np.int64)
        T = len(toks)
        lq = export.logits_from_results(got["out"], T, L)
        net.set_quant(False)
        lf = net.run_tokens(toks)["out"]
        agree = float((lf.argmax(1) == lq.argmax(1)).mean())
        bf, bq = bits_per_char(lf[:-1], toks[1:]), bits_per_char(lq[:-1], toks[1:])
        check("top-1 agreement with the float PyTorch model over %d tokens: %.4f (>= %.2f)"
              % (T, agree, a.min_agree), agree >= a.min_agree)
        check("bits per character: float %.4f, s2 %.4f (%+.2f %%, within %.0f %%)"
              % (bf, bq, 100 * (bq / bf - 1), 100 * a.bpc_tol), abs(bq / bf - 1) <= a.bpc_tol)
    else:
        from s2_egru import data
        _, _, xte, yte = data.digits()
        n = len(reads)
        pq = export.digits_from_results([got["out_%d" % k] for k in range(n)], L)
        net.set_quant(False)
        pf, _ = net.classify(xte[:n])
        acc_q, acc_f = float((pq == yte[:n]).mean()), float((pf == yte[:n]).mean())
        agree = float((pq == pf).mean())
        check("digits (%d): accuracy s2 %.4f, float %.4f; agreement %.4f (>= %.2f)"
              % (n, acc_q, acc_f, agree, a.min_agree), agree >= a.min_agree)
    if a.qemu_dump:
        pes = dense_pes(a.qemu_dump)
        for d, n in pes:
            steps, v = read_output_bin(os.path.join(d, "qemu", "output.bin"))
            v = v.reshape(steps, -1)
            cands = [lab for lab in reads if got[lab].shape == v.shape]
            ok = any(np.array_equal(got[lab].view(np.uint32), v.view(np.uint32)) for lab in cands)
            check("%s: the Cortex-M4F build under QEMU recorded the read-out values s2emu did "
                  "(%dx%d)" % (os.path.basename(d), steps, v.shape[1]), ok)
        check("the dump holds the read-out PEs", len(pes) > 0)
    if a.same_as:
        for lab in reads:
            o = np.load(os.path.join(a.same_as, lab + "_v.npy"))
            check("%s: the other mapping's values bit-identical" % lab,
                  np.array_equal(o.view(np.uint32), got[lab].view(np.uint32)))
        for lab in layers:
            p1, p2 = (os.path.join(x, lab + "_spikes.npy") for x in (a.results, a.same_as))
            if os.path.exists(p1):
                e1, e2 = (np.load(x) for x in (p1, p2))  # (neuron, time): order by both
                e1, e2 = (e[np.lexsort((e[:, 0], e[:, 1]))] for e in (e1, e2))
                check("%s: the other mapping's events identical" % lab, np.array_equal(e1, e2))
    print("%d passed, %d failed" % (checks.passed, len(checks.failed)))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
