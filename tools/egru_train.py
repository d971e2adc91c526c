#!/usr/bin/python3
"""Train, export and check the event-based EGRU models of s2 (docs/egru.md).

    /usr/bin/python3 tools/egru_train.py train --task charlm|digits --out DIR [--hidden 128]
        [--layers 3] [--sparsity 0.9] [--iters N | --minutes M] [--seed S]
    /usr/bin/python3 tools/egru_train.py export --model M.npz (--tokens N | --text FILE |
        --samples N) --out net.json
    /usr/bin/python3 tools/egru_train.py compare --model M.npz [--tokens N | --samples N]
    /usr/bin/python3 tools/egru_train.py baseline --model M.npz [--tokens N]

train: on this CPU (2 threads). The schedule is by iteration: dense training to 15 %, gradual
magnitude pruning (cubic) to the target sparsity by 55 %, fine-tuning to 75 %, then
quantisation-aware fine-tuning (fake-quant 8-bit weights with the exporter's shifts, Q0.7
event values, straight-through) to the end; finally every weight is snapped to its quantised
value, so the saved float model's weights are exactly the exported ones. --minutes calibrates
the iteration count from the first iterations' speed (printed; --iters makes a run
reproducible: given --seed and --iters everything is deterministic on one machine).
Writes DIR/TASK.npz (sparse arrays, compressed) and DIR/TASK.json (metadata).

export: charlm: the first N characters of the held-out text (or a file's text) as one network;
digits: the first N test digits, each its own copy of the layers (the cell state cannot be
reset inside a network), side by side in one network of 8 + L + 1 steps.

baseline: CPU time / energy and dense vs. effective MACs per token of the float model
(python/s2_egru/energy.py).

compare: the float model (plain, and with the engine's quantisation on) and ref_numpy (the
bit-exact model of the engine, run on the exported network) on the same input.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import torch  # noqa: E402

from s2_egru import data, export, model as M, ref_numpy  # noqa: E402
from s2_egru.data import bits_per_char  # noqa: E402

torch.set_num_threads(2)

PHASES = {"dense": 0.15, "prune_end": 0.55, "qat": 0.75}


def log(*a):
    print(*a, flush=True)


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def sparsity_at(frac, target):
    if frac < PHASES["dense"]:
        return 0.0
    if frac >= PHASES["prune_end"]:
        return target
    p = (frac - PHASES["dense"]) / (PHASES["prune_end"] - PHASES["dense"])
    return target * (1.0 - (1.0 - p) ** 3)



def activity(counts, hidden):
    """Per layer: the fraction of unit-steps without an event (activity sparsity)."""
    return [float(1.0 - np.sum(c) / (len(c) * hidden)) for c in counts]


# ------------------------------------------------------------------------------------------
# training

def train_loop(net, batches, iters, lr, target_sparsity, step_fn, eval_fn, log_every):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, iters) / iters)) * 0.9 + 0.1)
    t0 = time.time()
    cur_sparsity = 0.0
    for i in range(iters):
        frac = i / iters
        s = sparsity_at(frac, target_sparsity)
        if s > cur_sparsity + 1e-9 and (i % 10 == 0 or frac >= PHASES["prune_end"]):
            net.prune(s)
            cur_sparsity = s
        if frac >= PHASES["qat"] and not net.quant:
            net.set_quant(True)
            log("iter %d: quantisation-aware fine-tuning on" % i)
        net.train()
        loss, extra = step_fn(next(batches))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        net.apply_masks()
        sched.step()
        if i % log_every == 0 or i == iters - 1:
            log("iter %5d/%d  %6.1fs  loss %.4f  %s  weight sparsity %.3f%s"
                % (i, iters, time.time() - t0, float(loss), extra, net.weight_sparsity(),
                   "  quant" if net.quant else ""))
    return time.time() - t0


def charlm_batches(corpus, batch, seq, seed):
    """Contiguous streams (truncated BPTT): batch streams over the training text, chunks of
    seq characters; the state carries over between chunks and resets at the wrap."""
    ids = corpus.train
    n = (len(ids) - 1) // batch
    rng = np.random.RandomState(seed)
    while True:
        off = rng.randint(0, n)
        starts = (np.arange(batch) * n + off) % (len(ids) - seq - 1)
        pos = 0
        while pos + seq + 1 <= n:
            idx = starts[:, None] + pos + np.arange(seq + 1)[None, :]
            chunk = ids[idx % (len(ids) - 1)]
            yield chunk, pos == 0
            pos += seq


def train_charlm(args):
    corpus = data.Corpus()
    V = len(corpus.vocab)
    hp = {"hidden": args.hidden, "layers": args.layers, "gamma": args.gamma,
          "width": args.width, "thr_init": args.thr_init, "init_gain": args.init_gain}
    net = M.build("charlm", vocab_size=V, **hp)
    state = {"s": None}

    def step(b):
        chunk, reset = b
        if reset:
            state["s"] = None
        x = net.one_hot(chunk[:, :-1].T)
        y = torch.as_tensor(chunk[:, 1:].T)
        out, st, ev = net.forward_seq(x, state["s"])
        state["s"] = [(c.detach(), yy.detach()) for c, yy in st]
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, V), y.reshape(-1))
        act = torch.stack([e.mean() for e in ev])
        total = loss + args.act_reg * act.sum()
        return total, "bpc %.3f  act %s" % (float(loss) / math.log(2),
                                            " ".join("%.3f" % float(a) for a in act))

    iters = args.iters
    batches = charlm_batches(corpus, args.batch, args.seq, args.seed)
    if not iters:
        t = time.time()
        for _ in range(3):
            loss, _ = step(next(batches))
            loss.backward()
        per = (time.time() - t) / 3
        iters = max(20, int(args.minutes * 60 / per))
        log("calibrated: %.2f s per iteration -> --iters %d for %.1f minutes (pass --iters %d "
            "to reproduce)" % (per, iters, args.minutes, iters))
        seed_all(args.seed)
        net = M.build("charlm", vocab_size=V, **hp)
        batches = charlm_batches(corpus, args.batch, args.seq, args.seed)
        state["s"] = None
    secs = train_loop(net, batches, iters, args.lr, args.sparsity, step, None,
                      max(1, iters // 30))
    lost = net.snap_to_grid()
    net.eval()
    metrics = evaluate_charlm(net, corpus)
    metrics.update({"train_seconds": round(secs, 1), "iters": iters,
                    "weights_lost_at_snap": lost})
    return net, hp, metrics, {"vocab": corpus.vocab}


def evaluate_charlm(net, corpus, n=None):
    held = corpus.held_out if n is None else corpus.held_out[:n]
    res = {}
    for q in (False, True):
        net.set_quant(q)
        r = net.run_tokens(held)
        key = "quant" if q else "float"
        res["bpc_%s" % key] = bits_per_char(r["out"][:-1], held[1:])
        res["activity_sparsity_%s" % key] = activity(r["counts"], net.hidden_size)
    net.set_quant(False)
    res["weight_sparsity"] = net.weight_sparsity()
    log("held-out (%d chars): bits per character %.4f float, %.4f with the engine's "
        "quantisation; activity sparsity per layer %s; weight sparsity %.3f"
        % (len(held), res["bpc_float"], res["bpc_quant"],
           " ".join("%.3f" % a for a in res["activity_sparsity_float"]),
           res["weight_sparsity"]))
    return res


def digits_batches(x, y, batch, seed):
    rng = np.random.RandomState(seed)
    while True:
        perm = rng.permutation(len(y))
        for k in range(0, len(y) - batch + 1, batch):
            i = perm[k:k + batch]
            yield x[i], y[i]


def train_digits(args):
    xtr, ytr, xte, yte = data.digits()
    hp = {"hidden": args.hidden, "layers": args.layers, "gamma": args.gamma,
          "width": args.width, "thr_init": args.thr_init, "init_gain": args.init_gain}
    net = M.build("digits", **hp)

    def step(b):
        xb, yb = b
        x = torch.as_tensor(xb).permute(1, 0, 2)
        out, _, ev = net.forward_seq(x)
        loss = torch.nn.functional.cross_entropy(out[-1], torch.as_tensor(yb))
        act = torch.stack([e.mean() for e in ev])
        acc = float((out[-1].argmax(1) == torch.as_tensor(yb)).float().mean())
        return loss + args.act_reg * act.sum(), "acc %.3f  act %s" % (
            acc, " ".join("%.3f" % float(a) for a in act))

    iters = args.iters
    if not iters:
        b = digits_batches(xtr, ytr, args.batch, args.seed)
        t = time.time()
        for _ in range(3):
            loss, _ = step(next(b))
            loss.backward()
        per = (time.time() - t) / 3
        iters = max(20, int(args.minutes * 60 / per))
        log("calibrated: %.3f s per iteration -> --iters %d (pass --iters %d to reproduce)"
            % (per, iters, iters))
        seed_all(args.seed)
        net = M.build("digits", **hp)
    secs = train_loop(net, digits_batches(xtr, ytr, args.batch, args.seed), iters, args.lr,
                      args.sparsity, step, None, max(1, iters // 30))
    lost = net.snap_to_grid()
    net.eval()
    metrics = evaluate_digits(net, xte, yte)
    metrics.update({"train_seconds": round(secs, 1), "iters": iters,
                    "weights_lost_at_snap": lost})
    return net, hp, metrics, {}


def evaluate_digits(net, xte, yte):
    res = {}
    for q in (False, True):
        net.set_quant(q)
        with torch.no_grad():
            out, _, ev = net.forward_seq(torch.as_tensor(xte).permute(1, 0, 2))
        key = "quant" if q else "float"
        res["test_accuracy_%s" % key] = float((out[-1].argmax(1).numpy() == yte).mean())
        res["activity_sparsity_%s" % key] = [float(1 - e.mean()) for e in ev]
    net.set_quant(False)
    res["weight_sparsity"] = net.weight_sparsity()
    log("test (%d digits): accuracy %.4f float, %.4f with the engine's quantisation; activity "
        "sparsity per layer %s; weight sparsity %.3f"
        % (len(yte), res["test_accuracy_float"], res["test_accuracy_quant"],
           " ".join("%.3f" % a for a in res["activity_sparsity_float"]),
           res["weight_sparsity"]))
    return res


def cmd_train(args):
    seed_all(args.seed)
    if args.hidden is None:
        args.hidden = 128 if args.task == "charlm" else 64
    if args.layers is None:
        args.layers = 3 if args.task == "charlm" else 1
    if args.batch is None:
        args.batch = 32 if args.task == "charlm" else 64
    if not args.iters and not args.minutes:
        args.minutes = 4.0
    os.makedirs(args.out, exist_ok=True)
    fn = train_charlm if args.task == "charlm" else train_digits
    net, hp, metrics, extra = fn(args)
    base = os.path.join(args.out, args.task)
    np.savez_compressed(base + ".npz", **net.to_arrays())
    meta = {"task": args.task, "hyperparameters": hp, "seed": args.seed,
            "training": {"iters": metrics["iters"], "lr": args.lr, "batch": args.batch,
                         "seq": args.seq if args.task == "charlm" else 8,
                         "sparsity": args.sparsity, "act_reg": args.act_reg,
                         "phases": PHASES},
            "metrics": metrics, "torch": torch.__version__, "numpy": np.__version__,
            "command": "tools/egru_train.py train --task %s --out %s --hidden %d --layers %d "
                       "--sparsity %g --iters %d --seed %d --batch %d --lr %g --act-reg %g"
                       % (args.task, args.out, args.hidden, args.layers, args.sparsity,
                          metrics["iters"], args.seed, args.batch, args.lr, args.act_reg)}
    meta.update(extra)
    with open(base + ".json", "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    log("wrote %s.npz (%d bytes) and %s.json" % (base, os.path.getsize(base + ".npz"), base))


# ------------------------------------------------------------------------------------------
# export / compare

def _charlm_tokens(net, meta, args):
    corpus = data.Corpus(vocab=meta["vocab"])
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            return corpus.encode(f.read()), corpus
    n = args.tokens or 500
    if n > len(corpus.held_out):
        raise SystemExit("--tokens %d: the held-out text has %d characters"
                         % (n, len(corpus.held_out)))
    return corpus.held_out[:n], corpus


def cmd_export(args):
    net, meta = M.load(args.model)
    if meta["task"] == "charlm":
        toks, _ = _charlm_tokens(net, meta, args)
        netd, summary = export.charlm_network(export.model_arrays(net), toks, net.vocab_size)
    else:
        _, _, xte, _ = data.digits()
        n = args.samples or args.tokens or 10
        netd, summary = export.digits_network(export.model_arrays(net), xte[:n])
    export.write_json(netd, args.out)
    log("wrote %s: %d populations, %d projections, %d synapses, run %g ms; logits in rows "
        "%d..%d of the read-out's results" % (args.out, len(netd["populations"]),
                                              len(netd["projections"]), summary["synapses"],
                                              netd["run_ms"], summary["first_row"],
                                              summary["last_row"]))


def cmd_compare(args):
    net, meta = M.load(args.model)
    L = net.n_layers
    if meta["task"] == "charlm":
        toks, corpus = _charlm_tokens(net, meta, args)
        T = len(toks)
        netd, _ = export.charlm_network(export.model_arrays(net), toks, net.vocab_size)
        t = time.time()
        ref = ref_numpy.run(netd)
        tr = time.time() - t
        lq = export.logits_from_results(ref["a"]["out"], T, L)
        log("ref_numpy: %d tokens in %.1f s" % (T, tr))
        for q in (False, True):
            net.set_quant(q)
            r = net.run_tokens(toks)
            lf = r["out"]
            agree = float((lf.argmax(1) == lq.argmax(1)).mean())
            same = float(np.mean(lf == lq))
            log("float model%s vs ref_numpy: top-1 agreement %.4f (%d of %d tokens), "
                "bits per character %.4f float vs %.4f fixed point (%.2f %%), logits "
                "bit-identical %.4f, max |diff| %.3g"
                % (" (engine quantisation)" if q else "", agree,
                   int(round(agree * T)), T, bits_per_char(lf[:-1], toks[1:]),
                   bits_per_char(lq[:-1], toks[1:]),
                   100 * (bits_per_char(lq[:-1], toks[1:]) / bits_per_char(lf[:-1], toks[1:])
                          - 1), same, float(np.abs(lf - lq).max())))
            for l in range(L):
                ev_f = r["events"][l] > 0
                ev_q = ref["fired"]["egru%d" % (l + 1)][l + 1:l + 1 + T]
                log("  egru%d: events float %d, fixed %d, differing unit-steps %d; activity "
                    "sparsity %.3f" % (l + 1, ev_f.sum(), ev_q.sum(), (ev_f != ev_q).sum(),
                                       1 - ev_q.mean()))
        net.set_quant(False)
    else:
        _, _, xte, yte = data.digits()
        n = args.samples or args.tokens or len(yte)
        netd, _ = export.digits_network(export.model_arrays(net), xte[:n], report=False)
        ref = ref_numpy.run(netd)
        pq = export.digits_from_results([ref["a"]["out_%d" % k] for k in range(n)], L)
        for q in (False, True):
            net.set_quant(q)
            pf, _ = net.classify(xte[:n])
            log("float model%s: accuracy %.4f; ref_numpy (fixed point) %.4f; agreement %.4f "
                "(%d digits)" % (" (engine quantisation)" if q else "",
                                 float((pf == yte[:n]).mean()), float((pq == yte[:n]).mean()),
                                 float((pf == pq).mean()), n))
        net.set_quant(False)


def cmd_baseline(args):
    from s2_egru import energy
    net, meta = M.load(args.model)
    if meta["task"] != "charlm":
        raise SystemExit("baseline: a charlm model")
    toks, _ = _charlm_tokens(net, meta, args)
    m = energy.mac_counts(net, toks)
    b = energy.cpu_baseline(net, toks)
    log("MACs per token: dense %d, effective %.0f (%.1fx fewer); events per token per layer %s"
        % (m["dense_macs_per_token"], m["effective_macs_per_token"], m["ratio"],
           " ".join("%.1f" % e for e in m["events_per_token"])))
    log("CPU, batch 1, %d threads: %.1f us wall, %.1f us CPU per token over %d tokens; energy "
        "%.3g J per token, %s%s" % (b["threads"], 1e6 * b["wall_s_per_token"],
                                   1e6 * b["cpu_s_per_token"], b["tokens"],
                                   b["energy_j_per_token"], b["energy_label"],
                                   "; GPU: %s" % b["gpu"] if "gpu" in b else "; no GPU"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--task", choices=("charlm", "digits"), required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--hidden", type=int)
    t.add_argument("--layers", type=int)
    t.add_argument("--sparsity", type=float, default=0.9)
    t.add_argument("--minutes", type=float)
    t.add_argument("--iters", type=int)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--batch", type=int)
    t.add_argument("--seq", type=int, default=100)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--act-reg", type=float, default=0.0)
    t.add_argument("--gamma", type=float, default=0.5)
    t.add_argument("--width", type=float, default=1.0)
    t.add_argument("--thr-init", type=float, default=-2.0)
    t.add_argument("--init-gain", type=float, default=2.0)
    for name in ("export", "compare", "baseline"):
        e = sub.add_parser(name)
        e.add_argument("--model", required=True)
        e.add_argument("--tokens", type=int)
        e.add_argument("--text")
        e.add_argument("--samples", type=int)
        if name == "export":
            e.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    {"train": cmd_train, "export": cmd_export, "compare": cmd_compare,
     "baseline": cmd_baseline}[args.cmd](args)


if __name__ == "__main__":
    main()
