"""The reference EGRU of s2 in PyTorch (float32), following docs/egru.md exactly.

    a_u = W_u x + V_u y(t-1) + b_u          u = sigma(a_u)
    a_r = W_r x + V_r y(t-1) + b_r          r = sigma(a_r)
    a_x = W_c x + b_cx
    a_h = V_c y(t-1) + b_ch                 z = tanh(a_x + r * a_h)
    c   = u * c(t-1) + (1 - u) * z
    event when c > thr:  y(t) = c, then c = c - thr      (else y(t) = 0)

thr = sigmoid(thr_param) per unit, so 0 < thr < 1. The Heaviside step of the event has a
triangular pseudo-derivative for training. Every weight matrix has a pruning mask.

Two optional fake-quantisations (model.quant = True) make the float model compute what the
engine computes, for quantisation-aware fine-tuning: weights w -> round(w 2^s) 2^-s with the
per-layer-and-gate shift s of the exporter (straight-through gradient), and event values
y -> min(255, int(y 128 + 0.5)) / 128 (units of 2^-7, straight-through). With both on, every product
sum is exact in float32 (the accumulator bound), so the float model differs from the engine
only in sigma/tanh (torch's vs. s2f_exp) -- within an ulp.

Layout: W has shape (n_in, 3H) with the gate blocks [u | r | c] along the columns, V has
shape (H, 3H); an input event of unit i adds row i.
"""
import math

import numpy as np
import torch
import torch.nn as nn

GATES = ("u", "r", "c")
WEIGHT_BITS = 8
MAX_SHIFT = 24


def _mk_mm(a, b):
    """a @ b through oneDNN (Debian's torch links the slow reference BLAS)."""
    return torch._C._nn.mkldnn_linear(a.contiguous().to_mkldnn(),
                                      b.t().contiguous().to_mkldnn(), None).to_dense()


class _MM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _mk_mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = _mk_mm(g, b.t()) if ctx.needs_input_grad[0] else None
        gb = _mk_mm(a.t(), g) if ctx.needs_input_grad[1] else None
        return ga, gb


_HAVE_MKLDNN = (hasattr(torch._C, "_nn") and hasattr(torch._C._nn, "mkldnn_linear")
                and torch.backends.mkldnn.is_available())


def matmul(a, b):
    """2-D a @ b, float32. In quantised mode every sum is exact, so the order of the
    additions (which differs between BLAS and oneDNN) does not matter there."""
    if _HAVE_MKLDNN:
        return _MM.apply(a, b)
    return a @ b


def choose_shift(max_abs, bits=WEIGHT_BITS):
    """The largest integer shift in 0..24 with max_abs * 2^shift <= 2^(bits-1) - 1.

    Returns None if even shift 0 does not fit (a weight above 127)."""
    qmax = (1 << (bits - 1)) - 1
    max_abs = float(max_abs)
    for s in range(MAX_SHIFT, -1, -1):
        if max_abs * 2.0 ** s <= qmax:
            return s
    return None


class _Spike(torch.autograd.Function):
    """Heaviside H(v) with the triangular pseudo-derivative gamma * max(0, 1 - |v| / width)."""

    @staticmethod
    def forward(ctx, v, gamma, width):
        ctx.save_for_backward(v)
        ctx.gamma, ctx.width = gamma, width
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        d = ctx.gamma * torch.clamp(1.0 - v.abs() / ctx.width, min=0.0)
        return g * d, None, None


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def q07(c):
    """Event value as the engine sends it: min(255, int(c * 128 + 0.5)) / 128 (c > 0),
    straight-through gradient. c * 128 is exact, + 0.5 rounds in float32 as on the M4F."""
    v = torch.clamp(torch.floor(c * 128.0 + 0.5), max=255.0) / 128.0
    return c + (v - c).detach()


def fake_quant(w, shift):
    return _RoundSTE.apply(w * (2.0 ** shift)) * (2.0 ** -shift)


class EGRULayer(nn.Module):
    def __init__(self, n_in, hidden, gamma=0.5, width=1.0, thr_init=-1.0, init_gain=2.0,
                 w_init=None):
        super().__init__()
        self.n_in, self.hidden = n_in, hidden
        self.gamma, self.width = gamma, width
        # larger than PyTorch's GRU default (1/sqrt(H)): the inputs are sparse events, and
        # the cell state has to reach thr for any event (and gradient through it) to occur
        kw = w_init if w_init is not None else init_gain / math.sqrt(n_in)
        kv = init_gain / math.sqrt(hidden)
        self.W = nn.Parameter(torch.empty(n_in, 3 * hidden).uniform_(-kw, kw))
        self.V = nn.Parameter(torch.empty(hidden, 3 * hidden).uniform_(-kv, kv))
        self.b_u = nn.Parameter(torch.zeros(hidden))
        self.b_r = nn.Parameter(torch.zeros(hidden))
        self.b_cx = nn.Parameter(torch.zeros(hidden))
        self.b_ch = nn.Parameter(torch.zeros(hidden))
        self.thr_param = nn.Parameter(torch.full((hidden,), float(thr_init)))
        self.register_buffer("mask_W", torch.ones_like(self.W))
        self.register_buffer("mask_V", torch.ones_like(self.V))
        self.quant = False

    def thr(self):
        return torch.sigmoid(self.thr_param)

    def shifts(self):
        """Per-gate shifts as the exporter chooses them: u and r accumulate W x and V y in one
        accumulator (one shift for both), cx is W_c alone, ch is V_c alone."""
        H = self.hidden
        W = (self.W * self.mask_W).detach().abs()
        V = (self.V * self.mask_V).detach().abs()
        out = {}
        for g, sl in (("u", slice(0, H)), ("r", slice(H, 2 * H))):
            m = max(float(W[:, sl].max()), float(V[:, sl].max()))
            out[g] = choose_shift(m)
        out["cx"] = choose_shift(float(W[:, 2 * H:].max()))
        out["ch"] = choose_shift(float(V[:, 2 * H:].max()))
        return out

    def weights(self):
        """The effective (masked, and with quant fake-quantised) W and V."""
        W = self.W * self.mask_W
        V = self.V * self.mask_V
        if self.quant:
            H = self.hidden
            s = self.shifts()
            W = torch.cat([fake_quant(W[:, :H], s["u"]), fake_quant(W[:, H:2 * H], s["r"]),
                           fake_quant(W[:, 2 * H:], s["cx"])], dim=1)
            V = torch.cat([fake_quant(V[:, :H], s["u"]), fake_quant(V[:, H:2 * H], s["r"]),
                           fake_quant(V[:, 2 * H:], s["ch"])], dim=1)
        return W, V

    def forward(self, xw, state=None):
        """xw: (T, B, 3H) the input projection x @ W for the whole sequence (precomputed,
        it does not depend on the recurrence). Returns events y (T, B, H), the final state
        (c, y) and the per-step event indicators."""
        T, B, _ = xw.shape
        H = self.hidden
        _, V = self.weights()
        if state is None:
            c = xw.new_zeros(B, H)
            y = xw.new_zeros(B, H)
        else:
            c, y = state
        thr = self.thr()
        ys, es = [], []
        xs = [torch.split(xt, H, dim=1) for xt in xw.unbind(0)]
        for t in range(T):
            h_u, h_r, h_c = torch.split(matmul(y, V), H, dim=1)
            x_u, x_r, x_c = xs[t]
            a_u = (x_u + h_u) + self.b_u
            a_r = (x_r + h_r) + self.b_r
            a_x = x_c + self.b_cx
            a_h = h_c + self.b_ch
            u = torch.sigmoid(a_u)
            r = torch.sigmoid(a_r)
            z = torch.tanh(a_x + r * a_h)
            c = u * c + (1.0 - u) * z
            e = _Spike.apply(c - thr, self.gamma, self.width)
            y = (q07(c) if self.quant else c) * e
            c = c - thr * e
            ys.append(y)
            es.append(e)
        return torch.stack(ys), (c, y), torch.stack(es)


class Dense(nn.Module):
    """The read-out a = W x + b (W of shape (n_in, n_out))."""

    def __init__(self, n_in, n_out):
        super().__init__()
        k = 1.0 / math.sqrt(n_in)
        self.W = nn.Parameter(torch.empty(n_in, n_out).uniform_(-k, k))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.register_buffer("mask_W", torch.ones_like(self.W))
        self.quant = False

    def shift(self):
        return choose_shift(float((self.W * self.mask_W).detach().abs().max()))

    def weight(self):
        W = self.W * self.mask_W
        if self.quant:
            W = fake_quant(W, self.shift())
        return W

    def forward(self, x):
        sh = x.shape
        return matmul(x.reshape(-1, sh[-1]), self.weight()).reshape(*sh[:-1], -1) + self.bias


class EventNet(nn.Module):
    """Stack of EGRU layers and a dense read-out of the last layer's events."""

    task = None

    def __init__(self, n_in, hidden, layers, n_out, gamma=0.5, width=1.0, thr_init=-1.0,
                 init_gain=2.0, first_w_init=None):
        super().__init__()
        self.n_in, self.hidden_size, self.n_layers, self.n_out = n_in, hidden, layers, n_out
        self.layers = nn.ModuleList(
            [EGRULayer(n_in if l == 0 else hidden, hidden, gamma, width, thr_init, init_gain,
                       first_w_init if l == 0 else None)
             for l in range(layers)])
        self.readout = Dense(hidden, n_out)

    def set_quant(self, on):
        for l in self.layers:
            l.quant = on
        self.readout.quant = on

    @property
    def quant(self):
        return self.readout.quant

    def matrices(self):
        """(name, parameter, mask) of every weight matrix (pruning works on these)."""
        out = []
        for i, l in enumerate(self.layers):
            out.append(("layers.%d.W" % i, l.W, l.mask_W))
            out.append(("layers.%d.V" % i, l.V, l.mask_V))
        out.append(("readout.W", self.readout.W, self.readout.mask_W))
        return out

    def forward_seq(self, x, state=None):
        """x: (T, B, n_in) input events (0/1 spikes). Returns read-out (T, B, n_out), the new
        state (a list of (c, y) per layer) and the per-layer event indicators."""
        inp = x
        new_state, events, values = [], [], []
        for i, l in enumerate(self.layers):
            W, _ = l.weights()
            T, B, n = inp.shape
            xw = matmul(inp.reshape(T * B, n), W).reshape(T, B, -1)
            inp, st, e = l(xw, None if state is None else state[i])
            new_state.append(st)
            events.append(e)
            values.append(inp)
        self.last_values = values
        return self.readout(inp), new_state, events

    # --- pruning --------------------------------------------------------------------------
    @torch.no_grad()
    def prune(self, sparsity):
        """Magnitude pruning of every weight matrix to the given fraction of zeros (per
        matrix; entries already pruned stay pruned)."""
        for _, p, m in self.matrices():
            w = (p * m).abs().flatten()
            k = int(round(sparsity * w.numel()))
            if k <= 0:
                continue
            thr = torch.kthvalue(w, k).values
            keep = (w > thr).to(m.dtype)
            # ties at the threshold: keep exactly numel - k entries
            m.copy_(keep.view_as(m))
            p.mul_(m)

    @torch.no_grad()
    def apply_masks(self):
        for _, p, m in self.matrices():
            p.mul_(m)

    @torch.no_grad()
    def snap_to_grid(self):
        """Replace every weight by its quantised value w_q 2^-shift (exact in float32), so the
        saved float model is exactly what is exported. Returns the number of nonzero weights
        that became zero."""
        lost = 0
        for l in self.layers:
            q = l.quant
            l.quant = True
            W, V = l.weights()
            l.quant = q
            lost += int(((l.W * l.mask_W != 0) & (W == 0)).sum() +
                        ((l.V * l.mask_V != 0) & (V == 0)).sum())
            l.W.copy_(W)
            l.V.copy_(V)
            l.mask_W.copy_((W != 0).to(l.mask_W.dtype))
            l.mask_V.copy_((V != 0).to(l.mask_V.dtype))
        r = self.readout
        q = r.quant
        r.quant = True
        W = r.weight()
        r.quant = q
        lost += int(((r.W * r.mask_W != 0) & (W == 0)).sum())
        r.W.copy_(W)
        r.mask_W.copy_((W != 0).to(r.mask_W.dtype))
        return lost

    def weight_sparsity(self):
        tot = nz = 0
        for _, p, m in self.matrices():
            tot += p.numel()
            nz += int(((p * m) != 0).sum())
        return 1.0 - nz / tot

    # --- step-by-step evaluation ----------------------------------------------------------
    @torch.no_grad()
    def run(self, x):
        """Run one sequence x (T, n_in) step by step from zero state (as the engine does).
        Returns dict: out (T, n_out) float32 read-out per step, events: list per layer of
        (T, H) event values (0 where no event), counts: list per layer of events per step."""
        out, _, ev = self.forward_seq(torch.as_tensor(x, dtype=torch.float32)[:, None, :])
        vals = [v[:, 0, :].numpy().copy() for v in self.last_values]
        self.last_values = None
        return {"out": out[:, 0, :].numpy().copy(), "events": vals,
                "counts": [e[:, 0, :].sum(1).numpy() for e in ev]}

    # --- saving ---------------------------------------------------------------------------
    def to_arrays(self):
        """Sparse-friendly arrays for a compressed .npz: each matrix as flat indices of its
        nonzeros (delta-coded uint32) and float32 values; vectors as float32."""
        a = {}
        for name, p, m in self.matrices():
            w = (p * m).detach().numpy().astype(np.float32)
            flat = w.flatten()
            idx = np.flatnonzero(flat)
            a[name + ".shape"] = np.array(w.shape, dtype=np.int64)
            a[name + ".idx_delta"] = np.diff(idx, prepend=0).astype(np.uint32)
            a[name + ".val"] = flat[idx]
        for i, l in enumerate(self.layers):
            for b in ("b_u", "b_r", "b_cx", "b_ch", "thr_param"):
                a["layers.%d.%s" % (i, b)] = getattr(l, b).detach().numpy().astype(np.float32)
        a["readout.bias"] = self.readout.bias.detach().numpy().astype(np.float32)
        return a

    @torch.no_grad()
    def load_arrays(self, a):
        for name, p, m in self.matrices():
            shape = tuple(int(s) for s in a[name + ".shape"])
            if shape != tuple(p.shape):
                raise ValueError("%s: shape %s in the file, model has %s"
                                 % (name, shape, tuple(p.shape)))
            idx = np.cumsum(a[name + ".idx_delta"].astype(np.int64))
            flat = np.zeros(int(np.prod(shape)), dtype=np.float32)
            flat[idx] = a[name + ".val"]
            w = torch.from_numpy(flat.reshape(shape))
            p.copy_(w)
            m.copy_((w != 0).to(m.dtype))
        for i, l in enumerate(self.layers):
            for b in ("b_u", "b_r", "b_cx", "b_ch", "thr_param"):
                getattr(l, b).copy_(torch.from_numpy(a["layers.%d.%s" % (i, b)]))
        self.readout.bias.copy_(torch.from_numpy(a["readout.bias"]))


class CharLM(EventNet):
    """One-hot token input -> EGRU layers -> dense logits over the vocabulary (reading the
    last layer's events y)."""

    task = "charlm"

    def __init__(self, vocab_size, hidden=128, layers=3, **kw):
        kw.setdefault("first_w_init", 1.0)  # one-hot input: a row is the token's embedding
        super().__init__(vocab_size, hidden, layers, vocab_size, **kw)
        self.vocab_size = vocab_size

    def one_hot(self, tokens):
        t = torch.as_tensor(np.asarray(tokens), dtype=torch.int64)
        return torch.nn.functional.one_hot(t, self.vocab_size).to(torch.float32)

    def run_tokens(self, tokens):
        """Step-by-step over a token sequence from zero state: per-step logits (T, V), event
        values per layer and event counts per layer (activity sparsity)."""
        return self.run(self.one_hot(tokens))


class DigitsClassifier(EventNet):
    """sklearn digits fed row by row: 8 steps of 8 binary pixel events (value 1.0); the class
    is argmax of the read-out at the last row."""

    task = "digits"

    def __init__(self, hidden=64, layers=1, n_classes=10, **kw):
        super().__init__(8, hidden, layers, n_classes, **kw)

    def classify(self, images):
        """images (N, 8, 8) binary -> (N,) predicted classes, (N, 10) last-row read-out."""
        with torch.no_grad():
            x = torch.as_tensor(images, dtype=torch.float32).permute(1, 0, 2)
            out, _, _ = self.forward_seq(x)
            logits = out[-1].numpy()
        return logits.argmax(1), logits


def build(task, **hp):
    kw = {k: hp[k] for k in ("gamma", "width", "thr_init", "init_gain") if k in hp}
    if task == "charlm":
        return CharLM(hp["vocab_size"], hp["hidden"], hp["layers"], **kw)
    if task == "digits":
        return DigitsClassifier(hp["hidden"], hp["layers"], **kw)
    raise ValueError("task %r is not charlm or digits" % task)


def load(npz_path):
    """A saved model: the .npz and its .json metadata next to it (same stem)."""
    import json
    import os
    meta_path = os.path.splitext(npz_path)[0] + ".json"
    with open(meta_path) as f:
        meta = json.load(f)
    hp = dict(meta["hyperparameters"])
    if meta["task"] == "charlm":
        hp["vocab_size"] = len(meta["vocab"])
    m = build(meta["task"], **hp)
    with np.load(npz_path) as a:
        m.load_arrays(dict(a))
    m.eval()
    return m, meta
