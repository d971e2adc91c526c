#!/usr/bin/python3
"""Checks of the Python side of the EGRU layers, without the C side (docs/egru.md).

    /usr/bin/python3 tests/egru/test_egru_py.py

Exit code 0 when every check passes; the last line is 'N passed, M failed'.
"""
import json
import math
import os
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import torch  # noqa: E402

from s2_egru import data, export, model as M, ref_numpy as R  # noqa: E402
import s2check  # noqa: E402

torch.set_num_threads(2)
N_CHARS = 500
checks = s2check.Checks("{mark} {what}{detail}", ok="ok  ")
check = checks.named


def case(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001 -- a crash is a failed check, the rest still run
        checks(False, "%s raised:" % fn.__name__)
        traceback.print_exc(file=sys.stdout)


def bpc(logits, targets):
    lg = np.asarray(logits, dtype=np.float64)
    lg = lg - lg.max(1, keepdims=True)
    lp = lg - np.log(np.exp(lg).sum(1, keepdims=True))
    return float(-lp[np.arange(len(targets)), targets].mean() / math.log(2))


# --------------------------------------------------------------------------------------------

def test_quantisation():
    rng = np.random.RandomState(3)
    ok = True
    for scale in (1e-6, 0.003, 0.4, 0.99, 5.0, 100.0, 127.0):
        w = rng.standard_normal(1000)
        w = (w / np.abs(w).max() * scale).astype(np.float32)  # max |w| is scale
        s = export.choose_shift(float(np.abs(w).max()))
        ok &= np.abs(w).max() * 2.0 ** s <= 127 and (s == 24 or
                                                      np.abs(w).max() * 2.0 ** (s + 1) > 127)
        q = export.quantise(w, s)
        back = export.dequantise(q, s)
        # written as doubles (JSON repr) and read back: the same doubles, the same w_q
        again = np.array(json.loads(json.dumps([float(x) for x in back])))
        ok &= bool(np.all(again == back))
        ok &= bool(np.all(again * 2.0 ** s == q))
        ok &= bool(np.all(np.abs(q) <= 127))
        ok &= bool(np.all(np.abs(back - w) <= 2.0 ** -s / 2 + 1e-30))
    check("quantisation round-trip: shift is the largest that fits, w_q 2^-shift exact "
          "through JSON, error <= half a step", ok)
    f = rng.standard_normal(1000).astype(np.float32)
    rt = np.array(json.loads(json.dumps([float(x) for x in f])), dtype=np.float64)
    check("float32 biases / thr written as doubles read back to the same float32",
          bool(np.all(rt.astype(np.float32) == f) and np.all(rt == f.astype(np.float64))))
    check("choose_shift(0) is 24 and a max of 127 is shift 0",
          export.choose_shift(0.0) == 24 and export.choose_shift(127.0) == 0 and
          export.choose_shift(0.5) == 7 and export.choose_shift(0.5000001) == 7 and
          export.choose_shift(127.0 / 128 + 1e-9) == 6)


def test_exp():
    F = np.float32
    hand = [
        (0.0, F(1.0)),                     # n = 0, r = 0: p = 1 exactly
        (-0.0, F(1.0)),
        (88.5, F(np.inf)), (100.0, F(np.inf)),
        (-87.5, F(0.0)), (-1000.0, F(0.0)),
        (1.0, np.array([0x402DF854], dtype=np.uint32).view(np.float32)[0]),  # e in float32
        # x = ln2_hi exactly: t = 0.99999..., n = 1, r = -n*ln2_lo = -1.4286068e-6f,
        # p = 1 + r (to float) = 0.99999857, times 2 = 1.9999971
        (0.693145751953125, F(2.0) * (F(1.0) + F(-1.42860682030941723212e-6))),
    ]
    bad = []
    for x, want in hand:
        got = R.s2f_exp(F(x))
        if not (got == want or (np.isnan(got) and np.isnan(want))):
            bad.append("exp(%r) = %r, expected %r" % (x, float(got), float(want)))
    check("s2f_exp hand-computed values (0, -0, 1, ln2_hi, the +inf and 0 ends)", not bad,
          "; ".join(bad))
    check("s2f_exp(NaN) is NaN", bool(np.isnan(R.s2f_exp(F(np.nan)))))
    x = np.concatenate([np.linspace(-87, 88, 200001, dtype=np.float32),
                        np.random.RandomState(1).uniform(-5, 5, 100000).astype(np.float32)])
    got = R.s2f_exp(x).astype(np.float64)
    want = np.array([math.exp(float(v)) for v in x[::50]])
    rel = np.abs(got[::50] - want) / want
    rel_all = np.abs(got - np.exp(x.astype(np.float64))) / np.exp(x.astype(np.float64))
    check("s2f_exp within 2e-7 relative of math.exp over -87..88",
          float(max(rel.max(), rel_all.max())) <= 2e-7,
          "max relative error %.3g over %d points" % (max(rel.max(), rel_all.max()), x.size))
    s = R.sigma(np.array([0.0, 100.0, -100.0], dtype=F))
    t = R.tanh(np.array([0.0], dtype=F))
    check("sigma(0) = 0.5, sigma(100) = 1, sigma(-100) = 0, tanh(0) = 0",
          s[0] == F(0.5) and s[1] == F(1.0) and s[2] == F(0.0) and t[0] == F(0.0))
    q = R.event_q(np.array([0.5, 0.99, 0.999, 1.5, 2.5, 0.00390625, 0.0038], dtype=F))
    check("y_q = min(255, (int)(c 128 + 0.5))", list(q) == [64, 127, 128, 192, 255, 1, 0],
          str(q))


def _cached(task):
    path = os.path.join(HERE, task + ".npz")
    net, meta = M.load(path)
    return net, meta


def test_charlm():
    net, meta = _cached("charlm")
    check("cached char LM: hidden > 128 (split across PEs), 2-3 layers",
          net.hidden_size > 128 and 2 <= net.n_layers <= 3,
          "hidden %d, %d layers" % (net.hidden_size, net.n_layers))
    size = os.path.getsize(os.path.join(HERE, "charlm.npz"))
    check("cached char LM file below 1 MB", size < 1 << 20, "%d bytes" % size)
    sp = net.weight_sparsity()
    check("cached char LM weight sparsity ~90 %", 0.85 <= sp <= 0.97, "%.3f" % sp)
    corpus = data.Corpus(vocab=meta["vocab"])
    toks = corpus.held_out[:N_CHARS]
    netd, summary = export.charlm_network(export.model_arrays(net), toks, net.vocab_size,
                                          report=False)
    check("export reports the weights quantised to 0 (the saved model is on the grid: none)",
          summary["dropped_total"] == 0, "dropped %d" % summary["dropped_total"])
    L, T = net.n_layers, len(toks)
    check("run_ms = T + L + 1, delays one step, start_step l / L+1",
          netd["run_ms"] == T + L + 1 and all(p["delay"] == 1.0 for p in netd["projections"])
          and [p["params"]["start_step"] for p in netd["populations"][1:]] ==
          list(range(1, L + 2)))
    t0 = time.time()
    ref = R.run(json.loads(json.dumps(netd)))
    secs = time.time() - t0
    lq = export.logits_from_results(ref["a"]["out"], T, L)
    rows = ref["a"]["out"]
    check("read-out idle (0) before its start_step", bool(np.all(rows[:L + 1] == 0)))
    for q in (False, True):
        net.set_quant(q)
        r = net.run_tokens(toks)
        lf = r["out"]
        agree = float((lf.argmax(1) == lq.argmax(1)).mean())
        bf, bq = bpc(lf[:-1], toks[1:]), bpc(lq[:-1], toks[1:])
        tag = "float model with the engine's quantisation" if q else "float model"
        print("     %s: top-1 agreement %.4f, BPC float %.4f, fixed point %.4f (%+.2f %%), "
              "logits bit-identical %.4f" % (tag, agree, bf, bq, 100 * (bq / bf - 1),
                                             float(np.mean(lf == lq))))
        check("ref_numpy vs %s over %d held-out chars: top-1 agreement >= 99 %%" % (tag, T),
              agree >= 0.99, "%.4f" % agree)
        check("ref_numpy vs %s: bits per character within 2 %%" % tag,
              abs(bq / bf - 1) <= 0.02, "%.4f vs %.4f" % (bf, bq))
        for l in range(L):
            ev_q = ref["fired"]["egru%d" % (l + 1)]
            check("%s: egru%d idle before step %d" % (tag, l + 1, l + 1),
                  not ev_q[:l + 1].any())
            if q:
                diff = int(((r["events"][l] > 0) != ev_q[l + 1:l + 1 + T]).sum())
                print("     egru%d: %d events, %d unit-steps differ, activity sparsity %.3f"
                      % (l + 1, int(ev_q.sum()), diff, 1 - ev_q[l + 1:l + 1 + T].mean()))
    net.set_quant(False)
    check("ref_numpy runs %d tokens quickly" % T, secs < 30, "%.1f s" % secs)
    a = export.charlm_network(export.model_arrays(net), toks, net.vocab_size, report=False)[0]
    check("export is deterministic", json.dumps(a) == json.dumps(netd))


def test_digits():
    net, meta = _cached("digits")
    size = os.path.getsize(os.path.join(HERE, "digits.npz"))
    check("cached digits model file below 1 MB", size < 1 << 20, "%d bytes" % size)
    _, _, xte, yte = data.digits()
    n = len(yte)
    netd, _ = export.digits_network(export.model_arrays(net), xte[:n], report=False)
    ref = R.run(netd)
    pq = export.digits_from_results([ref["a"]["out_%d" % k] for k in range(n)], net.n_layers)
    pf, _ = net.classify(xte[:n])
    acc_f, acc_q = float((pf == yte).mean()), float((pq == yte).mean())
    agree = float((pf == pq).mean())
    print("     digits: accuracy float %.4f, fixed point %.4f, agreement %.4f (%d test digits)"
          % (acc_f, acc_q, agree, n))
    check("digits: fixed-point accuracy within 1 point of the float model",
          abs(acc_f - acc_q) <= 0.01, "%.4f vs %.4f" % (acc_f, acc_q))
    check("digits: accuracy above 80 %", acc_q > 0.8, "%.4f" % acc_q)


def _small_arrays(V=5, H=4, L=2, seed=0):
    rng = np.random.RandomState(seed)
    layers = []
    n_in = V
    for _ in range(L):
        layers.append({"W": rng.uniform(-1, 1, (n_in, 3 * H)).astype(np.float32),
                       "V": rng.uniform(-1, 1, (H, 3 * H)).astype(np.float32),
                       "b_u": np.zeros(H, np.float32), "b_r": np.zeros(H, np.float32),
                       "b_cx": np.zeros(H, np.float32), "b_ch": np.zeros(H, np.float32),
                       "thr": np.full(H, 0.3, np.float32)})
        n_in = H
    return {"layers": layers, "readout": {"W": rng.uniform(-1, 1, (H, V)).astype(np.float32),
                                          "bias": np.zeros(V, np.float32)}}


def _raises(name, fn, *words):
    try:
        fn()
    except export.ExportError as e:
        msg = str(e)
        check("export refuses %s" % name, all(w in msg for w in words), msg)
        return
    except Exception as e:  # noqa: BLE001
        check("export refuses %s" % name, False, "raised %r, not ExportError" % e)
        return
    check("export refuses %s" % name, False, "no error")


def test_export_errors():
    V = 5
    a = _small_arrays(V)
    net, s = export.charlm_network(a, [0, 1, 2, 4], V, report=False)
    check("the small test network exports", s["synapses"] > 0)
    _raises("a token outside the vocabulary",
            lambda: export.charlm_network(a, [0, 1, 5, 2], V, report=False),
            "tokens[2]", "5", "vocabulary")
    _raises("a negative token", lambda: export.charlm_network(a, [-1], V, report=False),
            "tokens[0]")
    b = _small_arrays(V)
    b["layers"][1]["W"] = b["layers"][1]["W"][:3]
    _raises("mismatched shapes between layers",
            lambda: export.charlm_network(b, [0], V, report=False), "layer 2", "W", "shape")
    b = _small_arrays(V)
    b["readout"]["W"] = b["readout"]["W"][:, :4]
    _raises("a read-out that does not match the vocabulary",
            lambda: export.charlm_network(b, [0], V, report=False), "read-out")
    for bad in (0.0, 1.0, -0.2, 1.5, float("nan")):
        b = _small_arrays(V)
        b["layers"][0]["thr"][2] = bad
        _raises("thr %r" % bad, lambda: export.charlm_network(b, [0], V, report=False),
                "layer 1", "thr", "unit 2")
    b = _small_arrays(V)
    b["layers"][0]["W"][1, 3] = 200.0
    _raises("a weight above 127 (no shift fits 8 bits)",
            lambda: export.charlm_network(b, [0], V, report=False), "egru1", "u", "8-bit")
    b = _small_arrays(V)
    _raises("a weight that does not fit the chosen bits (forced shift)",
            lambda: export.charlm_network(b, [0], V, report=False,
                                          shifts=[{"u": 9}, {}, {}]),
            "tokens->egru1:u", "does not fit")
    # accumulator bound: 600 inputs of |w_q| 127 into one unit: 600 * 127 * 128 > 2^23 - 1
    H = 4
    big = {"layers": [{"W": np.full((600, 3 * H), 0.99, np.float32),
                       "V": np.zeros((H, 3 * H), np.float32),
                       "b_u": np.zeros(H, np.float32), "b_r": np.zeros(H, np.float32),
                       "b_cx": np.zeros(H, np.float32), "b_ch": np.zeros(H, np.float32),
                       "thr": np.full(H, 0.5, np.float32)}],
           "readout": {"W": np.full((H, 600), 0.5, np.float32),
                       "bias": np.zeros(600, np.float32)}}
    _raises("a layer over the accumulator bound",
            lambda: export.charlm_network(big, [0], 600, report=False),
            "egru1", "accumulator")
    # weights that quantise to zero are dropped and counted, not lost in silence
    b = _small_arrays(V)
    b["layers"][0]["W"][0, 0] = 1e-5
    _, s = export.charlm_network(b, [0], V, report=False)
    check("weights quantised to 0 are counted", s["dropped"]["tokens->egru1:u"] == 1,
          str(s["dropped"]))
    _raises("results with too few steps",
            lambda: export.logits_from_results(np.zeros((5, V), np.float32), 4, 2), "steps")
    r = export.logits_from_results(np.arange(7 * V, dtype=np.float32).reshape(7, V), 4, 2)
    check("logits are rows L+1 .. L+T", r.shape == (4, V) and r[0, 0] == 3 * V)
    # ref_numpy refuses a weight that is not on the grid of its post population's shift
    net2 = json.loads(json.dumps(net))
    net2["projections"][0]["connector"]["weight"][0] += 2.0 ** -30
    try:
        R.run(net2)
        check("ref_numpy refuses an off-grid weight", False, "no error")
    except R.RefError as e:
        check("ref_numpy refuses an off-grid weight", "entry 0" in str(e), str(e))


def main():
    for fn in (test_quantisation, test_exp, test_export_errors, test_charlm, test_digits):
        case(fn)
    print("%d passed, %d failed" % (checks.passed, len(checks.failed)))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
