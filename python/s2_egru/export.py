"""Trained EGRU model -> s2 network description (JSON form of docs/network.md), quantised the
way the engine computes (docs/egru.md); and engine results -> per-position logits.

Weights: per layer and gate the shift is the largest integer in 0..24 with
max|w| * 2^shift <= 127 (8-bit weights); w_q = round(w 2^shift) (round half to even, as
numpy.rint) and the weight written is w_q * 2^-shift, exact in double. The gates u and r each
sum W x and V y in one accumulator, so their shift covers both matrices; cx is W_c alone, ch
is V_c alone; the read-out has one shift. Entries that quantise to 0 are dropped, counted and
reported. Biases and thr are float32 values written as doubles.

Timing (docs/egru.md): token p is a spike of neuron token[p] of the spike_source_array
'tokens' at p ms (timestep 1 ms); every projection has delay 1 ms; EGRU layer l has
start_step l, the read-out L + 1; run_ms = T + L + 1; the logits of position p are the
read-out's row p + L + 1.
"""
import json

import numpy as np

WEIGHT_BITS = 8
QMAX = {8: 127, 16: 32767}
ACC_LIMIT = {8: (1 << 23) - 1, 16: (1 << 31) - 1}
EVENT_Q_MAX = 128  # |y_q| <= 128 (a token spike is 128)
MAX_SHIFT = 24


class ExportError(ValueError):
    """Bad input to the exporter; the message names the item."""


def choose_shift(max_abs, bits=WEIGHT_BITS, what="weights"):
    qmax = QMAX[bits]
    if not np.isfinite(max_abs):
        raise ExportError("%s: a weight is not finite" % what)
    for s in range(MAX_SHIFT, -1, -1):
        if max_abs * 2.0 ** s <= qmax:
            return s
    raise ExportError("%s: max |w| %r does not fit %d-bit weights even with shift 0 "
                      "(|w_q| <= %d)" % (what, float(max_abs), bits, qmax))


def quantise(w, shift, bits=WEIGHT_BITS, what="weights"):
    """w (float array) -> integer w_q (int64) with w ~ w_q 2^-shift; refuses a value that does
    not fit the bits, naming the entry."""
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        bad = np.argwhere(~np.isfinite(w))[0]
        raise ExportError("%s[%s]: weight is not finite" % (what, ",".join(map(str, bad))))
    q = np.rint(w * 2.0 ** shift)
    over = np.abs(q) > QMAX[bits]
    if over.any():
        i = tuple(np.argwhere(over)[0])
        raise ExportError("%s[%s]: weight %r with shift %d is w_q %d, which does not fit "
                          "%d-bit weights (|w_q| <= %d)"
                          % (what, ",".join(map(str, i)), float(w[i]), shift, int(q[i]), bits,
                             QMAX[bits]))
    return q.astype(np.int64)


def dequantise(q, shift):
    """The exact double of w_q 2^-shift."""
    return np.asarray(q, dtype=np.float64) * 2.0 ** -shift


def f32_list(v):
    return [float(np.float32(x)) for x in np.asarray(v, dtype=np.float32).ravel()]


# --------------------------------------------------------------------------------------------
# The arrays of a model

def model_arrays(model):
    """A plain description of a trained model (numpy float32): {'layers': [{W, V, b_u, b_r,
    b_cx, b_ch, thr}], 'readout': {W, bias}}. W is (n_in, 3H) with the gate blocks [u|r|c],
    V is (H, 3H); thr = sigmoid(thr_param) as the float model computes it."""
    import torch
    layers = []
    with torch.no_grad():
        for l in model.layers:
            layers.append({
                "W": (l.W * l.mask_W).numpy().astype(np.float32),
                "V": (l.V * l.mask_V).numpy().astype(np.float32),
                "b_u": l.b_u.numpy().astype(np.float32),
                "b_r": l.b_r.numpy().astype(np.float32),
                "b_cx": l.b_cx.numpy().astype(np.float32),
                "b_ch": l.b_ch.numpy().astype(np.float32),
                "thr": l.thr().numpy().astype(np.float32)})
        ro = {"W": (model.readout.W * model.readout.mask_W).numpy().astype(np.float32),
              "bias": model.readout.bias.numpy().astype(np.float32)}
    return {"layers": layers, "readout": ro}


def check_arrays(arrays, n_in):
    """Shapes between layers and thr range; raises ExportError naming the item."""
    layers = arrays.get("layers")
    if not layers:
        raise ExportError("model: no EGRU layers")
    prev = n_in
    for i, l in enumerate(layers):
        name = "layer %d (egru%d)" % (i + 1, i + 1)
        for k in ("W", "V", "b_u", "b_r", "b_cx", "b_ch", "thr"):
            if k not in l:
                raise ExportError("%s: %s missing" % (name, k))
        W, V = np.asarray(l["W"]), np.asarray(l["V"])
        if V.ndim != 2 or V.shape[1] != 3 * V.shape[0]:
            raise ExportError("%s: V has shape %s, expected (H, 3H)" % (name, V.shape))
        H = V.shape[0]
        if W.shape != (prev, 3 * H):
            raise ExportError("%s: W has shape %s, expected (%d, %d) (%s inputs, %d units "
                              "x 3 gates)" % (name, W.shape, prev,
                                              3 * H, "token" if i == 0 else "layer %d" % i, H))
        for k in ("b_u", "b_r", "b_cx", "b_ch", "thr"):
            if np.asarray(l[k]).shape != (H,):
                raise ExportError("%s: %s has shape %s, expected (%d,)"
                                  % (name, k, np.asarray(l[k]).shape, H))
            if k != "thr" and not np.all(np.isfinite(np.asarray(l[k], dtype=np.float32))):
                raise ExportError("%s: %s is not finite" % (name, k))
        thr = np.asarray(l["thr"], dtype=np.float32)
        bad = np.flatnonzero(~((thr > 0) & (thr < 1)))
        if bad.size:
            raise ExportError("%s: thr of unit %d is %r, outside (0, 1) exclusive"
                              % (name, bad[0], float(thr[bad[0]])))
        prev = H
    ro = arrays.get("readout")
    if ro is None:
        raise ExportError("model: no read-out")
    W = np.asarray(ro["W"])
    if W.ndim != 2 or W.shape[0] != prev:
        raise ExportError("read-out: W has shape %s, expected (%d, n_out) (layer %d has %d "
                          "units)" % (W.shape, prev, len(layers), prev))
    if np.asarray(ro["bias"]).shape != (W.shape[1],):
        raise ExportError("read-out: bias has shape %s, expected (%d,)"
                          % (np.asarray(ro["bias"]).shape, W.shape[1]))


def quantise_arrays(arrays, bits=WEIGHT_BITS, shifts=None):
    """Per layer and gate shifts and integer weights; checks the accumulator bound.

    shifts: optional [{u, r, cx, ch}, ..., {out}] to force shifts (then a weight that does not
    fit is refused). Returns a dict: layers [{shift: {u, r, cx, ch}, Wq: {u, r, c}, Vq: {u, r,
    c}}], readout {shift, Wq}, dropped {name: count}, dropped_total."""
    out = {"layers": [], "dropped": {}, "bits": bits}
    L = len(arrays["layers"])
    for i, l in enumerate(arrays["layers"]):
        name = "egru%d" % (i + 1)
        W = np.asarray(l["W"], dtype=np.float32).astype(np.float64)
        V = np.asarray(l["V"], dtype=np.float32).astype(np.float64)
        H = V.shape[0]
        Wg = {"u": W[:, :H], "r": W[:, H:2 * H], "c": W[:, 2 * H:]}
        Vg = {"u": V[:, :H], "r": V[:, H:2 * H], "c": V[:, 2 * H:]}
        forced = shifts[i] if shifts else None
        sh = {}
        for g, mats in (("u", (Wg["u"], Vg["u"])), ("r", (Wg["r"], Vg["r"])),
                        ("cx", (Wg["c"],)), ("ch", (Vg["c"],))):
            if forced and g in forced:
                sh[g] = int(forced[g])
            else:
                sh[g] = choose_shift(max(float(np.abs(m).max()) if m.size else 0.0
                                         for m in mats), bits, "%s gate %s" % (name, g))
        pre_in = "tokens" if i == 0 else "egru%d" % i
        Wq, Vq = {}, {}
        for g, sg in (("u", "u"), ("r", "r"), ("c", "cx")):
            what = "%s->%s:%s" % (pre_in, name, sg)
            Wq[g] = quantise(Wg[g], sh[sg], bits, what)
            out["dropped"][what] = int(((Wg[g] != 0) & (Wq[g] == 0)).sum())
        for g, sg in (("u", "u"), ("r", "r"), ("c", "ch")):
            what = "%s->%s:%s" % (name, name, sg)
            Vq[g] = quantise(Vg[g], sh[sg], bits, what)
            out["dropped"][what] = int(((Vg[g] != 0) & (Vq[g] == 0)).sum())
        # accumulator bound per unit and gate: sum |w_q| * 128 over everything into the gate
        for g, sums in (("u", np.abs(Wq["u"]).sum(0) + np.abs(Vq["u"]).sum(0)),
                        ("r", np.abs(Wq["r"]).sum(0) + np.abs(Vq["r"]).sum(0)),
                        ("cx", np.abs(Wq["c"]).sum(0)), ("ch", np.abs(Vq["c"]).sum(0))):
            worst = int(np.argmax(sums))
            if int(sums[worst]) * EVENT_Q_MAX > ACC_LIMIT[bits]:
                raise ExportError("%s gate %s unit %d: sum |w_q| * 128 = %d exceeds the "
                                  "%d-bit accumulator bound %d"
                                  % (name, g, worst, int(sums[worst]) * EVENT_Q_MAX,
                                     24 if bits == 8 else 32, ACC_LIMIT[bits]))
        out["layers"].append({"shift": sh, "Wq": Wq, "Vq": Vq})
    ro = arrays["readout"]
    W = np.asarray(ro["W"], dtype=np.float32).astype(np.float64)
    forced = shifts[L] if shifts and len(shifts) > L else None
    s = int(forced["out"]) if forced and "out" in forced else choose_shift(
        float(np.abs(W).max()), bits, "out")
    what = "egru%d->out:input" % L
    Wq = quantise(W, s, bits, what)
    out["dropped"][what] = int(((W != 0) & (Wq == 0)).sum())
    sums = np.abs(Wq).sum(0)
    worst = int(np.argmax(sums))
    if int(sums[worst]) * EVENT_Q_MAX > ACC_LIMIT[bits]:
        raise ExportError("out unit %d: sum |w_q| * 128 = %d exceeds the accumulator bound %d"
                          % (worst, int(sums[worst]) * EVENT_Q_MAX, ACC_LIMIT[bits]))
    out["readout"] = {"shift": s, "Wq": Wq}
    out["dropped_total"] = int(sum(out["dropped"].values()))
    return out


def _from_list(pre, post, Wq, shift, receptor, pre_slice=None):
    """Projection with a from_list connector of the nonzero entries of Wq (pre x post)."""
    rows, cols = np.nonzero(Wq)
    w = dequantise(Wq[rows, cols], shift)
    return {"label": "%s->%s:%s" % (pre, post, receptor), "pre": pre, "post": post,
            "connector": {"type": "from_list", "pre": [int(r) for r in rows],
                          "post": [int(c) for c in cols], "weight": [float(x) for x in w]},
            "delay": 1.0, "receptor": receptor}


def _instance(arrays, q, inputs_label, suffix, pops, projs, recs):
    """Populations and projections of one copy of the layers, fed by inputs_label."""
    L = len(arrays["layers"])
    bits = q["bits"]
    for i, (l, ql) in enumerate(zip(arrays["layers"], q["layers"])):
        lab = "egru%d%s" % (i + 1, suffix)
        H = np.asarray(l["V"]).shape[0]
        sh = ql["shift"]
        pops.append({"label": lab, "size": int(H), "model": "egru", "params": {
            "thr": f32_list(l["thr"]), "b_u": f32_list(l["b_u"]), "b_r": f32_list(l["b_r"]),
            "b_cx": f32_list(l["b_cx"]), "b_ch": f32_list(l["b_ch"]),
            "shift_u": sh["u"], "shift_r": sh["r"], "shift_cx": sh["cx"],
            "shift_ch": sh["ch"], "weight_bits": bits, "start_step": i + 1}})
        pre = inputs_label if i == 0 else "egru%d%s" % (i, suffix)
        for g, rec in (("u", "u"), ("r", "r"), ("c", "cx")):
            projs.append(_from_list(pre, lab, ql["Wq"][g], sh[rec], rec))
        for g, rec in (("u", "u"), ("r", "r"), ("c", "ch")):
            projs.append(_from_list(lab, lab, ql["Vq"][g], sh[rec], rec))
        recs.append({"population": lab, "variable": "spikes"})
    ro, qro = arrays["readout"], q["readout"]
    out = "out%s" % suffix
    pops.append({"label": out, "size": int(np.asarray(ro["W"]).shape[1]), "model": "dense",
                 "params": {"bias": f32_list(ro["bias"]), "shift": qro["shift"],
                            "weight_bits": bits, "start_step": L + 1}})
    projs.append(_from_list("egru%d%s" % (L, suffix), out, qro["Wq"], qro["shift"], "input"))
    recs.insert(0, {"population": out, "variable": "a"})


def _summary(q, T, L, report):
    s = {"shifts": [ql["shift"] for ql in q["layers"]] + [{"out": q["readout"]["shift"]}],
         "dropped": q["dropped"], "dropped_total": q["dropped_total"],
         "synapses": int(sum(int((ql["Wq"][g] != 0).sum() + (ql["Vq"][g] != 0).sum())
                             for ql in q["layers"] for g in "urc")
                         + int((q["readout"]["Wq"] != 0).sum())),
         "steps": T + L + 1, "first_row": L + 1, "last_row": L + T}
    if report:
        print("export: %d synapses, %d weights quantised to 0 and dropped%s"
              % (s["synapses"], s["dropped_total"],
                 "" if not s["dropped_total"] else " (" + ", ".join(
                     "%s %d" % kv for kv in q["dropped"].items() if kv[1]) + ")"))
    return s


def charlm_network(arrays, tokens, vocab_size, name="egru_charlm", seed=1, bits=WEIGHT_BITS,
                   shifts=None, report=True):
    """The s2 network (a dict, the JSON form) of a char LM over a token sequence.

    Returns (network, summary)."""
    tokens = list(tokens)
    if not tokens:
        raise ExportError("tokens: the sequence is empty")
    for p, t in enumerate(tokens):
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t < vocab_size:
            raise ExportError("tokens[%d]: id %r is outside the vocabulary (0..%d)"
                              % (p, t, vocab_size - 1))
    check_arrays(arrays, vocab_size)
    if np.asarray(arrays["readout"]["W"]).shape[1] != vocab_size:
        raise ExportError("read-out: %d outputs, the vocabulary has %d"
                          % (np.asarray(arrays["readout"]["W"]).shape[1], vocab_size))
    q = quantise_arrays(arrays, bits, shifts)
    L = len(arrays["layers"])
    T = len(tokens)
    times = [[] for _ in range(vocab_size)]
    for p, t in enumerate(tokens):
        times[int(t)].append(float(p))
    pops = [{"label": "tokens", "size": int(vocab_size), "model": "spike_source_array",
             "spike_times": times}]
    projs, recs = [], []
    _instance(arrays, q, "tokens", "", pops, projs, recs)
    net = {"format": 1, "name": name, "timestep_ms": 1.0, "run_ms": float(T + L + 1),
           "seed": int(seed), "populations": pops, "projections": projs, "recordings": recs}
    return net, _summary(q, T, L, report)


def digits_network(arrays, images, name="egru_digits", seed=1, bits=WEIGHT_BITS, report=True):
    """Digits: the cell state cannot be reset inside a network, so each sample is its own copy
    of the layers (populations px_k, egru1_k, ..., out_k, k = 0..N-1) in one network, all run
    side by side for 8 + L + 1 steps. Row r of sample k is spikes of px_k at r ms (neuron j for
    pixel j set). The class of sample k is argmax of out_k's row 7 + L + 1."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ExportError("images: shape %s, expected (N, 8, 8)" % (images.shape,))
    bad = np.argwhere((images != 0) & (images != 1))
    if bad.size:
        raise ExportError("images[%s]: pixel %r is not a binary event (0 or 1)"
                          % (",".join(map(str, bad[0])), float(images[tuple(bad[0])])))
    check_arrays(arrays, 8)
    q = quantise_arrays(arrays, bits)
    L = len(arrays["layers"])
    pops, projs, recs = [], [], []
    for k, img in enumerate(images):
        px = "px_%d" % k
        pops.append({"label": px, "size": 8, "model": "spike_source_array",
                     "spike_times": [[float(r) for r in range(8) if img[r, j]]
                                     for j in range(8)]})
        _instance(arrays, q, px, "_%d" % k, pops, projs, recs)
    net = {"format": 1, "name": name, "timestep_ms": 1.0, "run_ms": float(8 + L + 1),
           "seed": int(seed), "populations": pops, "projections": projs, "recordings": recs}
    return net, _summary(q, 8, L, report)


def write_json(net, path):
    with open(path, "w") as f:
        json.dump(net, f, separators=(",", ":"))
        f.write("\n")


def charlm_export(model, tokens, path=None, **kw):
    net, summary = charlm_network(model_arrays(model), tokens, model.vocab_size, **kw)
    if path:
        write_json(net, path)
    return net, summary


# --------------------------------------------------------------------------------------------
# Results -> logits

def logits_from_results(results, T, L):
    """The per-position logits (T, V) from the read-out's recorded `a`: an array or the path of
    s2ctl results --npy's `out_v.npy` (shape (steps, V) float32); rows L+1 .. L+T."""
    a = np.load(results) if isinstance(results, str) else np.asarray(results)
    if a.ndim != 2:
        raise ExportError("results: shape %s, expected (steps, V)" % (a.shape,))
    if a.shape[0] < T + L + 1:
        raise ExportError("results: %d steps, a network of %d tokens and %d layers runs %d"
                          % (a.shape[0], T, L, T + L + 1))
    return a[L + 1:L + 1 + T]


def digits_from_results(outs, L):
    """outs: list of (steps, 10) read-out arrays (out_k) -> predicted classes."""
    return np.array([int(np.argmax(np.asarray(a)[7 + L + 1])) for a in outs])
