"""An independent bit-exact NumPy model of the engine's EGRU / dense arithmetic, written from
docs/egru.md alone (not from the firmware source, not from model.py).

It reads an s2 network description (the JSON form, as exported) and runs it step by step:
spike_source_array populations, `egru` and `dense` populations, from_list projections with
delay one timestep. Integer accumulators of w_q * y_q per unit and gate, float32
pre-activations, s2f_exp operation by operation in np.float32 (no fused multiply-add: numpy
rounds every operation), the gate order of the spec, y_q = min(255, (int)(c * 128 + 0.5)),
the thr reset, start_step idle.

    res = run(network_dict_or_path)
    res["a"]["out"]        (steps, size) float32: the recorded read-out, every step
    res["events"]["egru1"] (steps, size) int32: y_q of the events (0: none)
    res["fired"]["egru1"]  (steps, size) bool
"""
import json
import math

import numpy as np

F = np.float32
LOG2E = F(1.44269504088896341)
LN2_HI = F(0.693145751953125)
LN2_LO = F(1.42860682030941723212e-6)
# 1.0f / 5040.0f etc.: a correctly rounded single-precision quotient
TAYLOR = [F(1.0) / F(5040.0), F(1.0) / F(720.0), F(1.0) / F(120.0), F(1.0) / F(24.0),
          F(1.0) / F(6.0), F(0.5), F(1.0), F(1.0)]
QMAX = {8: 127, 16: 32767}
EV_MAX = 255  # the largest event value (S2_EV_MAX)
ACC_LIMIT = {8: (1 << 23) - 1, 16: (1 << 31) - 1}
GATE_SHIFT = {"u": "shift_u", "r": "shift_r", "cx": "shift_cx", "ch": "shift_ch"}
EGRU_DEFAULTS = {"thr": 0.5, "b_u": 0.0, "b_r": 0.0, "b_cx": 0.0, "b_ch": 0.0, "shift_u": 7,
                 "shift_r": 7, "shift_cx": 7, "shift_ch": 7, "weight_bits": 8,
                 "start_step": 0}
DENSE_DEFAULTS = {"bias": 0.0, "thr": 0.0, "shift": 7, "weight_bits": 8, "start_step": 0}


class RefError(ValueError):
    pass


def s2f_exp(x):
    """The engine's exp, every operation in single precision (docs/egru.md)."""
    x = np.asarray(x, dtype=F)
    scalar = x.ndim == 0
    x = np.atleast_1d(x)
    out = np.empty_like(x)
    nan = np.isnan(x)
    hi = x > F(88.0)
    lo = x < F(-87.0)
    mid = ~(nan | hi | lo)
    out[nan] = x[nan]
    out[hi] = F(np.inf)
    out[lo] = F(0.0)
    xm = x[mid]
    t = xm * LOG2E
    tt = np.where(t < F(0), t - F(0.5), t + F(0.5))
    n = np.trunc(tt).astype(np.int32)             # (int) truncates toward zero
    nf = n.astype(F)
    r = (xm - nf * LN2_HI) - nf * LN2_LO
    p = np.full_like(r, TAYLOR[0])
    for c in TAYLOR[1:]:
        p = p * r + c                              # two roundings, no FMA
    n1 = np.where(n < 0, -((-n) // 2), n // 2)    # C division truncates toward zero
    n2 = n - n1
    p = p * np.ldexp(F(1.0), n1).astype(F)
    p = p * np.ldexp(F(1.0), n2).astype(F)
    out[mid] = p
    return out[0] if scalar else out


def sigma(a):
    return F(1.0) / (F(1.0) + s2f_exp(-np.asarray(a, dtype=F)))


def tanh(a):
    return F(2.0) * sigma(F(2.0) * np.asarray(a, dtype=F)) - F(1.0)


def event_q(v):
    """y_q = min(255, (int)(v * 128.0f + 0.5f)), C truncation toward zero (docs/egru.md: an
    unsigned 8-bit value in units of 2^-7; EGRU values stay below 128.5, dense ones cap)."""
    t = np.asarray(v, dtype=F) * F(128.0) + F(0.5)
    return np.minimum(np.trunc(t), EV_MAX).astype(np.int64)


def _param(pop, name, defaults):
    params = pop.get("params", {})
    v = params.get(name, defaults[name])
    if isinstance(v, dict):
        raise RefError("population %s: %s is a distribution; only numbers and arrays are "
                       "modelled" % (pop["label"], name))
    a = np.asarray(v, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(pop["size"], float(a))
    if a.shape != (pop["size"],):
        raise RefError("population %s: %s has %d values for %d neurons"
                       % (pop["label"], name, a.size, pop["size"]))
    return a


def _scalar_whole(pop, name, defaults):
    a = _param(pop, name, defaults)
    if not np.all(a == a[0]) or a[0] != math.floor(a[0]):
        raise RefError("population %s: %s must be one whole number" % (pop["label"], name))
    return int(a[0])


class _Layer:
    def __init__(self, pop):
        self.label, self.size, self.model = pop["label"], int(pop["size"]), pop["model"]
        d = EGRU_DEFAULTS if self.model == "egru" else DENSE_DEFAULTS
        self.bits = _scalar_whole(pop, "weight_bits", d)
        if self.bits not in QMAX:
            raise RefError("population %s: weight_bits %d is not 8 or 16"
                           % (self.label, self.bits))
        self.start = _param(pop, "start_step", d).astype(np.int64)
        self.thr = _param(pop, "thr", d).astype(F)
        if self.model == "egru":
            self.gates = ("u", "r", "cx", "ch")
            self.shift = {g: _scalar_whole(pop, GATE_SHIFT[g], d) for g in self.gates}
            self.b = {"u": _param(pop, "b_u", d).astype(F), "r": _param(pop, "b_r", d).astype(F),
                      "cx": _param(pop, "b_cx", d).astype(F),
                      "ch": _param(pop, "b_ch", d).astype(F)}
            self.state = np.zeros(self.size, dtype=F)            # c
        else:
            self.gates = ("input",)
            self.shift = {"input": _scalar_whole(pop, "shift", d)}
            self.b = {"input": _param(pop, "bias", d).astype(F)}
            self.state = np.zeros(self.size, dtype=F)            # a
        for g, s in self.shift.items():
            if not 0 <= s <= 24:
                raise RefError("population %s: shift for %s is %d, outside 0..24"
                               % (self.label, g, s))
        self.scale = {g: F(2.0 ** -(s + 7)) for g, s in self.shift.items()}
        self.inputs = {g: [] for g in self.gates}    # (pre label, int64 matrix pre x post)
        self.has_targets = False


def load(network):
    if isinstance(network, str):
        with open(network) as f:
            network = json.load(f)
    return network


def build(network):
    net = load(network)
    dt = float(net.get("timestep_ms", 0.1))
    steps = int(round(float(net["run_ms"]) / dt))
    sources, layers = {}, {}
    for pop in net["populations"]:
        m = pop["model"]
        if m == "spike_source_array":
            ev = np.zeros((steps, int(pop["size"])), dtype=bool)
            for i, times in enumerate(pop.get("spike_times", [])):
                for t in times:
                    s = int(math.floor(float(t) / dt + 0.5))   # llround for t >= 0
                    if 0 <= s < steps:
                        ev[s, i] = True
            sources[pop["label"]] = ev
        elif m in ("egru", "dense"):
            layers[pop["label"]] = _Layer(pop)
        else:
            raise RefError("population %s: model %s is not modelled here" % (pop["label"], m))
    for k, pr in enumerate(net.get("projections", [])):
        name = "projections[%d] (%s)" % (k, pr.get("label", "%s->%s" % (pr["pre"], pr["post"])))
        post = layers.get(pr["post"])
        if post is None:
            raise RefError("%s: post %s is not an egru / dense population" % (name, pr["post"]))
        rec = pr.get("receptor", "excitatory")
        if rec not in post.gates:
            raise RefError("%s: receptor %s is not a gate of %s (%s)"
                           % (name, rec, post.model, ", ".join(post.gates)))
        delay = float(pr.get("delay", dt))
        if abs(delay - dt) > 1e-9 * dt:
            raise RefError("%s: delay %r is not one timestep" % (name, delay))
        c = pr["connector"]
        if c.get("type") != "from_list":
            raise RefError("%s: connector %s (only from_list feeds egru / dense)"
                           % (name, c.get("type")))
        if pr["pre"] in sources:
            n_pre = sources[pr["pre"]].shape[1]
        elif pr["pre"] in layers:
            n_pre = layers[pr["pre"]].size
            layers[pr["pre"]].has_targets = True
        else:
            raise RefError("%s: pre %s does not exist" % (name, pr["pre"]))
        if pr.get("pre_slice") or pr.get("post_slice"):
            raise RefError("%s: slices are not modelled here" % name)
        pre_i = np.asarray(c["pre"], dtype=np.int64)
        post_i = np.asarray(c["post"], dtype=np.int64)
        w = c.get("weight", pr.get("weight", 0.0))
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(pre_i.shape, float(w))
        sh = post.shift[rec]
        wq = w * 2.0 ** sh
        wq_i = np.rint(wq)
        bad = np.flatnonzero((wq_i != wq) | (np.abs(wq_i) > QMAX[post.bits]))
        if bad.size:
            raise RefError("%s: entry %d weight %r is not w_q 2^-%d with %d-bit w_q"
                           % (name, bad[0], float(w[bad[0]]), sh, post.bits))
        M = np.zeros((n_pre, post.size), dtype=np.int64)
        np.add.at(M, (pre_i, post_i), wq_i.astype(np.int64))
        post.inputs[rec].append((pr["pre"], M))
    for lay in layers.values():
        for g in lay.gates:
            tot = np.zeros(lay.size, dtype=np.int64)
            for _, M in lay.inputs[g]:
                tot += np.abs(M).sum(0)
            if tot.size and int(tot.max()) * 128 > ACC_LIMIT[lay.bits]:
                raise RefError("population %s gate %s unit %d: sum |w_q| * 128 = %d exceeds "
                               "the accumulator bound" % (lay.label, g, int(tot.argmax()),
                                                          int(tot.max()) * 128))
    return net, steps, sources, layers


def run(network):
    """Run the network; returns {"steps", "a": {dense label: (steps, n) float32}, "c": {egru
    label: (steps, n) float32}, "events": {label: (steps, n) int32 y_q}, "fired": {label:
    (steps, n) bool}, "clipped": {label: count}}."""
    net, steps, sources, layers = build(network)
    # event values of the previous step per source label: (indices, y_q)
    prev = {}
    ev_out = {lab: np.zeros((steps, l.size), dtype=np.int32) for lab, l in layers.items()}
    fired = {lab: np.zeros((steps, l.size), dtype=bool) for lab, l in layers.items()}
    rec = {lab: np.zeros((steps, l.size), dtype=F) for lab, l in layers.items()}
    clipped = {lab: 0 for lab in layers}
    for s in range(steps):
        cur = {}
        for lab, ev in sources.items():
            idx = np.flatnonzero(ev[s])
            cur[lab] = (idx, np.full(idx.size, 128, dtype=np.int64))   # no payload: 1.0
        for lab, l in layers.items():
            idle = s < l.start
            acc = {}
            for g in l.gates:
                a = np.zeros(l.size, dtype=np.int64)
                for pre, M in l.inputs[g]:
                    idx, yq = prev.get(pre, (None, None))
                    if idx is not None and idx.size:
                        a += yq @ M[idx]
                acc[g] = a
            pre_act = {g: acc[g].astype(F) * l.scale[g] + l.b[g] for g in l.gates}
            yq = np.zeros(l.size, dtype=np.int64)
            fire = np.zeros(l.size, dtype=bool)
            if l.model == "egru":
                u = sigma(pre_act["u"])
                r = sigma(pre_act["r"])
                z = tanh(pre_act["cx"] + r * pre_act["ch"])
                c = u * l.state + (F(1.0) - u) * z
                fire = c > l.thr
                q = event_q(c)
                clipped[lab] += int((fire & (np.trunc(c * F(128.0) + F(0.5)) > EV_MAX)).sum())
                yq = np.where(fire, q, 0)
                c = np.where(fire, c - l.thr, c).astype(F)
                if idle.any():
                    c = np.where(idle, l.state, c)
                    fire = fire & ~idle
                    yq = np.where(idle, 0, yq)
                l.state = c
            else:
                a = pre_act["input"]
                if l.has_targets:
                    fire = a > l.thr
                    yq = np.where(fire, event_q(a), 0)
                if idle.any():
                    a = np.where(idle, l.state, a).astype(F)
                    fire = fire & ~idle
                    yq = np.where(idle, 0, yq)
                l.state = a
            rec[lab][s] = l.state
            fired[lab][s] = fire
            ev_out[lab][s] = yq
            idx = np.flatnonzero(fire)
            cur[lab] = (idx, yq[idx])
        prev = cur
    out = {"steps": steps, "a": {}, "c": {}, "events": ev_out, "fired": fired,
           "clipped": clipped}
    for lab, l in layers.items():
        (out["c"] if l.model == "egru" else out["a"])[lab] = rec[lab]
    return out
