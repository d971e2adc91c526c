#!/usr/bin/python3
"""The EGRU character language model on s2 and on this host's CPU, like for like (NeuroBench's
rule: the same model, the same inputs, accuracy beside every energy figure).

    bench/egru.sh [--build DIR] [--model M.npz | --train MINUTES] [--tokens N] [--max-per-pe N]

One table: platform | accuracy | energy per token (J) | method | latency per token | activity
sparsity | effective MACs per token; then `s2ctl energy report` with the CPU row as a baseline
(ratio) and the training energy over 10^6 requests (when s2 pays it back). s2's energy is
modelled (s2-energy-model-2, with the event layers' instruction counts measured under QEMU by
bench/engine.sh); the CPU's is measured by RAPL where the machine exposes it, else estimated
from CPU time and a documented per-core power; a GPU row only where NVML finds a GPU.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

from s2_egru import data, energy, export  # noqa: E402
from s2_egru.data import bits_per_char  # noqa: E402
from s2_egru import model as M  # noqa: E402

# Event-layer costs on Cortex-M4F, instructions (one per cycle), measured by bench/engine.sh
# under QEMU: an event-layer MAC (a word of a row), a packet (key lookup and row DMA), an EGRU
# unit update (4 gates, 3 exps, the event test).
CYCLES = {"cycles_synaptic_event": 30.1, "cycles_packet_in": 367, "cycles_neuron_update": 237.9}
MHZ = 300.0  # the PEs' high performance level (docs/energy.md)


def sh(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)



def pe_cycles(dump):
    """Modelled cycles per step of the busiest PE, from each PE's counters (s2fw-run --dump)."""
    worst, where = 0.0, ""
    for d in sorted(os.listdir(dump)):
        with open(os.path.join(dump, d, "counters.bin"), "rb") as f:
            c = struct.unpack("<8Q", f.read())
        steps, upd, syn, sent, pin = c[0], c[1], c[2], c[3], c[4]
        cyc = (syn * CYCLES["cycles_synaptic_event"] + pin * CYCLES["cycles_packet_in"] +
               upd * CYCLES["cycles_neuron_update"] + sent * 30) / max(steps, 1)
        if cyc > worst:
            worst, where = cyc, d
    return worst, where


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "host-release"))
    ap.add_argument("--model", default=os.path.join(ROOT, "tests", "egru", "charlm.npz"))
    ap.add_argument("--train", type=float, help="train a new model for this many minutes")
    ap.add_argument("--tokens", type=int, default=1000)
    ap.add_argument("--max-per-pe", type=int, default=40,
                    help="units per PE of the event layers: fewer spread each step's work so "
                         "that the busiest PE meets the timestep")
    a = ap.parse_args()
    s2ctl = os.path.join(a.build, "host", "s2ctl")
    s2emu = os.path.join(a.build, "tools", "s2emu")
    s2fw = os.path.join(a.build, "tools", "s2fw-run")
    eng = os.path.join(a.build, "firmware", "engine", "fw_engine_run_emu")
    fw = os.environ.get("S2_FIRMWARE",
                        os.path.join(ROOT, "build", "cm4f", "firmware", "monitor", "s2_monitor.bin"))
    for f in (s2ctl, s2emu, s2fw, eng, fw):
        if not os.path.exists(f):
            sys.exit("bench: %s is missing: run tools/setup.sh first" % f)
    os.environ["S2_FIRMWARE"] = fw
    w = tempfile.mkdtemp(prefix="s2egru.")
    emu = None
    try:
        model_path = a.model
        train_j = None
        if a.train:
            t0 = time.process_time()
            sh(sys.executable, os.path.join(ROOT, "tools", "egru_train.py"), "train", "--task",
               "charlm", "--out", w, "--minutes", a.train, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
            model_path = os.path.join(w, "charlm.npz")
        net, meta = M.load(model_path)
        tr = meta.get("metrics", {}).get("train_cpu_s") or meta.get("metrics", {}).get("train_seconds")
        if tr:
            train_j = tr * energy.CPU_WATTS_PER_CORE * (os.cpu_count() or 1)  # estimated: every core
        corpus = data.Corpus(vocab=meta["vocab"])
        toks = np.asarray(corpus.held_out[:a.tokens])
        T, L = len(toks), net.n_layers
        netd, summary = export.charlm_network(export.model_arrays(net), toks, net.vocab_size,
                                              report=False)
        for p in netd["populations"]:
            if p["model"] in ("egru", "dense"):
                p["max_per_pe"] = a.max_per_pe
        jpath = os.path.join(w, "lm.json")
        export.write_json(netd, jpath)

        # s2 on s2emu: compile, run with the energy stream, read back.
        emu = subprocess.Popen([s2emu, "--boards", "1", "--write-machine", os.path.join(w, "m.pb"),
                                "--ready-file", os.path.join(w, "ready")],
                               stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(os.path.join(w, "ready")):
                break
            time.sleep(0.05)
        mpb = os.path.join(w, "m.pb")
        sh(s2ctl, "net", "convert", jpath, "-o", os.path.join(w, "lm.pb"), "--quiet")
        comp = json.loads(sh(s2ctl, "compile", os.path.join(w, "lm.pb"), "--machine", mpb, "-o",
                             os.path.join(w, "lm.s2img"), "--json", capture_output=True).stdout)
        t0 = time.perf_counter()
        run = json.loads(sh(s2ctl, "run", os.path.join(w, "lm.s2img"), "--machine", mpb, "-o",
                            os.path.join(w, "lm.s2res"), "--energy", os.path.join(w, "lm.energy"),
                            "--json", capture_output=True).stdout)
        wall = time.perf_counter() - t0
        sh(s2ctl, "results", os.path.join(w, "lm.s2res"), "--npy", os.path.join(w, "out"), "--quiet")
        lq = export.logits_from_results(np.load(os.path.join(w, "out", "out_v.npy")), T, L)
        ev = [np.load(os.path.join(w, "out", "egru%d_spikes.npy" % (l + 1))) for l in range(L)]
        H = [p["size"] for p in netd["populations"] if p["model"] == "egru"]
        s2_sparsity = [1 - len(e) / (T * h) for e, h in zip(ev, H)]
        dump = os.path.join(w, "dump")
        sh(s2fw, "image", os.path.join(w, "lm.s2img"), "-o", os.path.join(w, "local.s2res"),
           "--dump", dump, stdout=subprocess.DEVNULL)
        worst, worst_pe = pe_cycles(dump)
        with open(os.path.join(w, "egru.model"), "w") as f:
            f.write("# event layers: instruction counts measured by bench/engine.sh under QEMU\n")
            for k, v in CYCLES.items():
                f.write("%s = %g\n" % (k, v))

        # The float model on this CPU, batch 1, the same tokens.
        net.set_quant(False)
        lf = net.run_tokens(toks)["out"]
        cpu = energy.cpu_baseline(net, toks)
        macs = energy.mac_counts(net, toks)
        f_sparsity = [1 - x / h for x, h in zip(macs["events_per_token"], H)]
        bf, bq = bits_per_char(lf[:-1], toks[1:]), bits_per_char(lq[:-1], toks[1:])
        acc_f = float((lf[:-1].argmax(1) == toks[1:]).mean())
        acc_q = float((lq[:-1].argmax(1) == toks[1:]).mean())
        agree = float((lf.argmax(1) == lq.argmax(1)).mean())

        bl = {"format": "s2-baselines-1", "inference": "token", "rows": [{
            "platform": "CPU: PyTorch %s float32, batch 1, %d thread(s)" % (
                M.torch.__version__ if hasattr(M, "torch") else "", cpu["threads"]),
            "per_inference_j": cpu["energy_j_per_token"],
            "kind": "measured" if cpu["energy_label"].startswith("measured") else "estimated",
            "basis": cpu["energy_label"], "boundary": "host CPU package" if cpu["energy_label"].startswith("measured") else "the host CPU cores used",
            "latency_s": cpu["wall_s_per_token"], "accuracy": bf, "accuracy_name": "bits per character"}]}
        blp = os.path.join(w, "baselines.json")
        with open(blp, "w") as f:
            json.dump(bl, f)
        rep_args = [s2ctl, "energy", "report", os.path.join(w, "lm.energy"), "--model",
                    os.path.join(w, "egru.model"), "--samples", T, "--baseline", blp,
                    "--requests", "1e6",
                    # the task metric of this run beside its energy (s2's, quantised)
                    "--metric", "bits_per_character=%.6g" % bq,
                    "--metric", "top1_accuracy=%.6g" % acc_q]
        if train_j:
            rep_args += ["--training-j", "%.6g" % train_j]
        rep = json.loads(sh(*rep_args, "--json", capture_output=True).stdout)
        pi = rep["per_inference"]
        dt_s = netd["timestep_ms"] * 1e-3

        print("EGRU character LM: %d layers x %s units, vocabulary %d, %.1f %% of weights pruned; "
              "%d held-out characters of the base-files licence texts" % (
                  L, "/".join(map(str, H)), net.vocab_size, 100 * net.weight_sparsity(), T))
        print("s2: %d PEs on %d chip(s); run %.2f s of wall time on s2emu for %d steps; %d synaptic "
              "events; clipped %d, dropped %d" % (comp["pes"], comp["chips"], wall, run["steps"],
                                                    run["synaptic_events"], run["inputs_clipped"],
                                                    run["packets_dropped"]))
        print("agreement s2 vs float: top-1 %.4f; bits per character float %.4f, s2 %.4f (%+.2f %%)"
              % (agree, bf, bq, 100 * (bq / bf - 1)))
        print()
        hdr = ("platform", "accuracy (BPC / top-1)", "energy/token J", "method",
               "latency/token", "activity sparsity", "effective MACs")
        rows = [
            ("s2 (s2emu, chips in use)", "%.3f / %.3f" % (bq, acc_q), "%.3g" % pi["chips_in_use_j"],
             "modelled (%s)" % rep["model"]["version"],
             "%g ms (%d steps of %g ms)" % ((L + 1) * dt_s * 1e3, L + 1, dt_s * 1e3),
             " ".join("%.3f" % s for s in s2_sparsity), "%.0f" % (run["synaptic_events"] / T)),
            ("s2 (s2emu, whole board)", "%.3f / %.3f" % (bq, acc_q), "%.3g" % pi["boards_j"],
             "modelled (%s)" % rep["model"]["version"], "same", "same", "same"),
            (bl["rows"][0]["platform"], "%.3f / %.3f" % (bf, acc_f),
             "%.3g" % cpu["energy_j_per_token"], cpu["energy_label"].split(" (")[0],
             "%.3g ms" % (cpu["wall_s_per_token"] * 1e3),
             " ".join("%.3f" % s for s in f_sparsity), "%.0f (dense %d)" % (
                 macs["effective_macs_per_token"], macs["dense_macs_per_token"])),
        ]
        if "gpu" in cpu:
            rows.append(("GPU: %s" % cpu["gpu"]["name"], "-", "not run", "NVML present", "-", "-", "-"))
        widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
        for r in [hdr] + rows:
            print(" | ".join(str(x).ljust(wd) for x, wd in zip(r, widths)))
        if "gpu" not in cpu:
            print("GPU: absent (no GPU on this machine: NVML found none), so no GPU figure")
        print()
        print("ratio CPU / s2: %.3gx (chips in use), %.3gx (whole board)" % (
            cpu["energy_j_per_token"] / pi["chips_in_use_j"], cpu["energy_j_per_token"] / pi["boards_j"]))
        print("the busiest PE (%s) needs %.0f modelled cycles per step: %.1f us at %g MHz, so a "
              "%g ms step %s" % (worst_pe, worst, worst / MHZ, MHZ, dt_s * 1e3,
                                "fits" if worst / MHZ <= dt_s * 1e6 else "does NOT fit"))
        print("s2's energy includes: the chips' PE work (counted: MACs, packets, unit updates), "
              "routing and DMA, static power of the chips in use (or the whole board) for the run's "
              "%d steps of %g ms; excludes: the host, the network link, the facility (PUE)" % (
                  run["steps"], dt_s * 1e3))
        print()
        sys.stdout.flush()
        sh(*[x for x in rep_args])
    finally:
        if emu:
            emu.terminate()
            emu.wait()
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
