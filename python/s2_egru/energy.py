"""CPU baseline of the float EGRU model in PyTorch at batch 1: time and energy per token, and
dense vs. effective multiply-accumulates per token.

Energy: measured from RAPL (/sys/class/powercap/intel-rapl:N/energy_uj, package domains)
where readable, labelled "measured (RAPL)"; otherwise estimated as CPU time x
CPU_WATTS_PER_CORE, labelled "estimated". GPU (NVML, pynvml) only if importable and a GPU is
present; otherwise the result has no "gpu" entry.
"""
import glob
import os
import time

import numpy as np
import torch

# Per-core power for the estimate: one definition, S2_ENERGY_HOST_W_PER_CORE in the host's
# energy model header (host/include/s2/energy.h), which s2ctl energy report uses for the host's
# share too: AMD EPYC 9755 (Zen 5, the CPU family this machine reports), TDP 500 W over 128
# cores = 3.9 W per core. A TDP share is an upper-end average for a fully loaded socket, not a
# measurement of this workload; it ignores memory, uncore idle power and the host's PSU.
_ENERGY_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "host",
                         "include", "s2", "energy.h")


def _host_constant():
    import re
    try:
        text = open(_ENERGY_H).read()
    except OSError as e:
        raise RuntimeError("the per-core power is defined in %s, which is not readable: %s"
                           % (_ENERGY_H, e))
    m = re.search(r"#define S2_ENERGY_HOST_W_PER_CORE ([0-9.]+)", text)
    if not m:
        raise RuntimeError("%s: no S2_ENERGY_HOST_W_PER_CORE" % _ENERGY_H)
    return float(m.group(1))


CPU_WATTS_PER_CORE = _host_constant()
CPU_WATTS_SOURCE = "AMD EPYC 9755 TDP 500 W / 128 cores (AMD product specifications)"


def _rapl_domains():
    out = []
    for d in sorted(glob.glob("/sys/class/powercap/intel-rapl:*")):
        if os.path.basename(d).count(":") != 1:   # package domains only, not sub-zones
            continue
        f = os.path.join(d, "energy_uj")
        try:
            with open(f) as fh:
                int(fh.read())
        except (OSError, ValueError):
            continue
        rng = None
        try:
            with open(os.path.join(d, "max_energy_range_uj")) as fh:
                rng = int(fh.read())
        except (OSError, ValueError):
            pass
        out.append((f, rng))
    return out


def _rapl_read(domains):
    vals = []
    for f, _ in domains:
        with open(f) as fh:
            vals.append(int(fh.read()))
    return vals


def _gpu_info():
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() < 1:
            return None
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(h)
        return {"name": name if isinstance(name, str) else name.decode(),
                "power_w_now": pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0,
                "note": "NVML present; the float model here runs on the CPU"}
    except Exception:  # noqa: BLE001 -- no usable GPU: absent
        return None


@torch.no_grad()
def cpu_baseline(model, tokens, warmup=20, n=None):
    """Step-by-step inference at batch 1 over tokens (>= 200 timed after warm-up)."""
    tokens = np.asarray(tokens)
    n = len(tokens) - warmup if n is None else n
    if n < 200 or warmup + n > len(tokens):
        raise ValueError("cpu_baseline: need >= 200 timed tokens after %d warm-up tokens, "
                         "have %d" % (warmup, len(tokens)))
    model.eval()
    x = model.one_hot(tokens)[:, None, None, :]   # (T, 1 step, batch 1, V)
    state = None
    for t in range(warmup):
        _, state, _ = model.forward_seq(x[t], state)
    domains = _rapl_domains()
    e0 = _rapl_read(domains) if domains else None
    c0, t0 = time.process_time(), time.perf_counter()
    for t in range(warmup, warmup + n):
        _, state, _ = model.forward_seq(x[t], state)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    res = {"tokens": n, "threads": torch.get_num_threads(), "wall_s_per_token": wall / n,
           "cpu_s_per_token": cpu / n}
    if domains:
        e1 = _rapl_read(domains)
        tot = 0
        for (f, rng), a, b in zip(domains, e0, e1):
            d = b - a
            if d < 0 and rng:
                d += rng
            tot += d
        res["energy_j_per_token"] = tot * 1e-6 / n
        res["energy_label"] = "measured (RAPL, package, whole machine)"
    else:
        res["energy_j_per_token"] = cpu / n * CPU_WATTS_PER_CORE
        res["energy_label"] = ("estimated (CPU time x %.1f W per core: %s)"
                               % (CPU_WATTS_PER_CORE, CPU_WATTS_SOURCE))
    g = _gpu_info()
    if g:
        res["gpu"] = g
    return res


def mac_counts(model, tokens):
    """Dense and effective MACs per token for the float model on tokens.

    dense: every weight-matrix entry used per token (all W and V of every layer and the
    read-out, as a dense GRU computes; the token's one-hot input counted as the full W).
    effective: the nonzeros of the token's row of W_1, plus for every event the nonzeros of the
    rows it touches (its row of V for the recurrence and its row of the next layer's W or of
    the read-out)."""
    tokens = np.asarray(tokens)
    r = model.run_tokens(tokens)
    dense = 0
    nnz_rows = []
    for l in model.layers:
        W = (l.W * l.mask_W).detach().numpy()
        V = (l.V * l.mask_V).detach().numpy()
        dense += W.size + V.size
        nnz_rows.append(((W != 0).sum(1), (V != 0).sum(1)))
    Wo = (model.readout.W * model.readout.mask_W).detach().numpy()
    dense += Wo.size
    ro_rows = (Wo != 0).sum(1)
    eff = float(nnz_rows[0][0][tokens].sum())
    for i in range(len(model.layers)):
        ev = r["events"][i] > 0                      # (T, H)
        nxt = nnz_rows[i + 1][0] if i + 1 < len(model.layers) else ro_rows
        eff += float((ev * (nnz_rows[i][1] + nxt)[None, :]).sum())
    T = len(tokens)
    return {"dense_macs_per_token": int(dense), "effective_macs_per_token": eff / T,
            "ratio": dense / (eff / T),
            "events_per_token": [float((e > 0).sum() / T) for e in r["events"]]}
