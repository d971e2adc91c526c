#!/usr/bin/env python3
"""The mapper's real-time cost table (s2ctl net models, mapping/src/net_model.c) against a
fresh measurement: the engine benchmark built for Cortex-M4F (fw_engine_bench.elf) run under
qemu-system-arm -icount shift=0, with bench/engine.sh's arithmetic (SysTick ticks calibrated
against a loop of known length, instructions taken as cycles). Every model's cycles per
update, per synaptic event and per packet must agree within 1% (or 0.5 cycles): a change to
the engine that makes a model slower or faster fails here until the table is measured again.
Needs S2CTL, BENCH_ELF (build/cm4f-qemu/firmware/engine/fw_engine_bench.elf), QEMU_RUN."""
import json
import os
import subprocess
import sys

# S2_MODEL_ ids of the benchmark's "S model N" lines (proto/include/s2/pedata.h) -> the
# network's model names (s2ctl net models)
MODEL_IDS = {1: "lif_curr_exp", 2: "lif_cond_exp", 3: "izhikevich", 4: "nir_neuron",
             6: "dense", 7: "lif_curr_alpha", 8: "lif_cond_alpha", 9: "lif_curr_delta",
             10: "spike_source_poisson", 11: "spike_source_array", 12: "adex_cond_exp",
             13: "hh_cond_exp", 14: "lif_cond_exp_gsfa_grr"}
EGRU_EVENT_MODELS = ("egru", "dense")  # rows of the event layers: "EGRU rows"


def main():
    elf = os.environ["BENCH_ELF"]
    if not os.path.exists(elf):
        print(f"FAIL - missing {elf}: build the cm4f-qemu preset first")
        return 1
    out = subprocess.run(["sh", os.environ["QEMU_RUN"], elf, "-icount", "shift=0"],
                         capture_output=True, text=True, timeout=240, check=True).stdout
    per_tick, L, E, upd = None, {}, {}, {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "calibration":
            per_tick = int(f[2]) / int(f[4])
        elif f and f[0] in ("L", "E"):
            (L if f[0] == "L" else E)[int(f[1])] = (int(f[3]), int(f[5]), int(f[7]))
        elif f and f[0] == "U":
            upd["egru"] = int(f[8]) * 1.0 / (int(f[2]) * int(f[4]))
        elif f and f[0] == "S":
            upd[MODEL_IDS[int(f[2])]] = int(f[10]) / (int(f[4]) * int(f[6]))
    if per_tick is None or 0 not in L or 256 not in L or 256 not in E:
        print("FAIL - the benchmark's output is not complete:\n" + out)
        return 1
    measured = {m: c * per_tick for m, c in upd.items()}
    inner = (L[256][2] - L[16][2]) * per_tick / (L[256][1] - L[16][1])
    egru_row = (E[256][2] - E[16][2]) * per_tick / (E[256][1] - E[16][1])
    packet = L[0][2] * per_tick / L[0][0]
    table = json.loads(subprocess.run([os.environ["S2CTL"], "net", "models", "--json"],
                                      capture_output=True, text=True, check=True).stdout)
    fails = checks = 0

    def check(what, have, want):
        nonlocal fails, checks
        checks += 1
        ok = abs(have - want) <= max(0.01 * want, 0.5)
        print(f"{'ok' if ok else 'FAIL'} - {what}: table {have:.1f}, measured {want:.1f}")
        fails += not ok

    check("cycles per packet", table["cycles_per_packet"], packet)
    for m in table["models"]:
        name = m["model"]
        if name not in measured:
            print(f"FAIL - {name}: the benchmark does not measure it")
            fails += 1
            continue
        check(f"{name}: cycles per update", m["cycles_per_update"], measured[name])
        if m["cycles_per_event"]:
            check(f"{name}: cycles per synaptic event", m["cycles_per_event"],
                  egru_row if name in EGRU_EVENT_MODELS else inner)
    print(f"{checks - fails} of {checks} checks passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
