#!/usr/bin/env python3
"""Single-neuron agreement of the firmware engine (s2fw-run, host build) with PyNN + Brian2.

    python3 tests/reference/ref_single.py [PATH/TO/s2fw-run] [-v]

The s2fw-run binary is taken from the argument, else from the environment variable S2FW_RUN,
else build/host-release/tools/s2fw-run. Every scenario runs in PyNN 0.10 with the Brian2
backend (numpy code generation, dt = 0.1 ms) and in s2fw-run; the spike times must agree:
the same number of spikes and each pair within one timestep (0.1 ms, plus 1e-6 ms for the
decimal printing). A table per scenario is printed; the exit code is 1 if any scenario fails.

Conventions aligned (each is a difference of convention between PyNN/Brian2 and the engine,
not of the neuron dynamics; the numbers are in docs/engine.md):

 A1 Spike time stamps. Brian2's SpikeMonitor (and so PyNN's get_data) stamps a spike with
    the time at the START of the timestep in which the threshold was crossed (t = n*dt);
    s2fw-run prints the END of that step ((n+1)*dt). The reference times are shifted by +dt
    before comparing.
 A2 Refractory period. Brian2 holds v for timestep(t - lastspike) < round(tau_refrac/dt),
    i.e. round(tau_refrac/dt) - 1 integration steps after the spike step; the engine holds v
    for round(tau_refrac/dt) steps (as NEST does). Measured from each simulator's own spike
    stamp (A1) both are tau_refrac, so the engine gets tau_refrac - dt. Without this every
    inter-spike interval is one step longer in the engine (the raw numbers are in the
    "unaligned refractory" check below, which must show that difference).
 A3 Spike sources. A SpikeSourceArray spike at T is emitted in the step n = T/dt like a
    neuron spike, and with delay D reaches the target's synaptic variable at the end of
    step n + D/dt, so it acts on v from the step starting at T + D + dt. The engine adds a
    step's input at the end of the step (as NEST does): s2fw-run's --input T:SRC with delay
    D also acts from the step starting at T + D + dt. No shift.
 A4 DC sources. PyNN's DCSource(start=T) is switched on by a Brian2 network operation at
    when='start' of the step with t = T, so it acts on the step starting at T, as s2fw-run's
    --current T:... does: no shift. Stops are steps back to 0 (or to the remaining sum).
 A5 Izhikevich current. PyNN's Brian2 Izhikevich divides i_offset (nA) by 1 pF, so 0.01 nA
    is I = 10 in Izhikevich's units (mV/ms); the engine does the same (i_offset in nA).
 A6 Inhibitory current-based weights are negative in PyNN (ii += w, i_syn = ie + ii), and
    positive on the inhibitory receptor in s2fw-run: the engine gets |w|.
 A7 The initial state is PyNN's default (v = v_rest for LIF; v = -70, u = -14 for
    Izhikevich, whatever b is), which is also s2fw-run's default.
"""

import importlib
import json
import math
import os
import subprocess
import sys
import time

# The Debian packages python3-pynn and python3-brian live in the system interpreter; a
# python3 from elsewhere on PATH (pyenv, venv) may not see them: run under /usr/bin/python3.
try:
    import numpy  # noqa: F401
    import pyNN  # noqa: F401
    import brian2  # noqa: F401
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import warnings

warnings.filterwarnings("ignore")
import logging  # noqa: E402

logging.getLogger("brian2").setLevel(logging.ERROR)
logging.getLogger("PyNN").setLevel(logging.ERROR)
from brian2 import prefs  # noqa: E402

prefs.codegen.target = "numpy"
import brian2  # noqa: E402
import pyNN.brian2 as sim  # noqa: E402

DT = 0.1
TOL = DT + 1e-6  # one timestep; 1e-6 ms for s2fw-run's %.4f and float sums

# PyNN names -> s2fw-run model, parameter names are the same (PyNN's).
LIF_CURR = dict(v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_m=10.0, cm=0.25,
                tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=5.0)
LIF_COND = dict(LIF_CURR, e_rev_E=0.0, e_rev_I=-70.0)


def dc(*steps):
    """[(start, stop, amplitude nA)], stop None = to the end."""
    return list(steps)


def scenarios():
    s = []
    # IF_curr_exp under DC steps: rheobase is (v_thresh - v_rest) * cm / tau_m = 0.375 nA.
    for amp in (0.376, 0.38, 0.4, 0.5, 0.75, 1.0, 2.0):
        s.append(dict(name=f"curr_exp DC {amp} nA", model="lif_curr_exp", cell=LIF_CURR,
                      dc=dc((10.0, 160.0, amp)), duration=200.0))
    s.append(dict(name="curr_exp DC 0.374 nA (sub-threshold)", model="lif_curr_exp",
                  cell=LIF_CURR, dc=dc((10.0, None, 0.374)), duration=200.0))
    s.append(dict(name="curr_exp DC steps 0.5/1.2/0.6 nA, refrac 5", model="lif_curr_exp",
                  cell=dict(LIF_CURR, tau_refrac=5.0, v_reset=-70.0, tau_m=20.0, cm=0.5),
                  dc=dc((5.0, 60.0, 0.5), (60.0, 120.0, 1.2), (120.0, 180.0, 0.6)),
                  duration=200.0))
    s.append(dict(name="curr_exp DC 1.0 nA, refrac 0.1", model="lif_curr_exp",
                  cell=dict(LIF_CURR, tau_refrac=0.1), dc=dc((0.0, None, 1.0)),
                  duration=100.0))
    # IF_curr_exp driven by spike trains through exc and inh synapses.
    exc = [5.0, 10.0, 12.0, 14.0, 15.0, 16.0, 30.0, 30.5, 31.0, 31.5, 32.0, 60.0, 61.0, 62.0]
    inh = [31.0, 61.5, 62.5]
    s.append(dict(name="curr_exp spikes exc+inh, delay 1.0", model="lif_curr_exp",
                  cell=LIF_CURR, duration=100.0,
                  inputs=[(exc, 2.0, 1.0, "exc"), (inh, 1.5, 1.0, "inh")]))
    s.append(dict(name="curr_exp spikes exc+inh, delay 0.1 + DC 0.3", model="lif_curr_exp",
                  cell=dict(LIF_CURR, tau_syn_E=2.0, tau_syn_I=8.0), duration=100.0,
                  dc=dc((0.0, None, 0.3)),
                  inputs=[([t + 0.3 for t in exc], 1.2, 0.1, "exc"),
                          (sorted([t + 3.0 for t in inh] + [40.0, 80.0]), 1.0, 0.1, "inh")]))
    # IF_cond_exp under DC and under spikes.
    for amp in (0.4, 1.0):
        s.append(dict(name=f"cond_exp DC {amp} nA", model="lif_cond_exp", cell=LIF_COND,
                      dc=dc((10.0, 160.0, amp)), duration=200.0))
    s.append(dict(name="cond_exp spikes exc+inh, delay 1.0", model="lif_cond_exp",
                  cell=LIF_COND, duration=100.0,
                  inputs=[(exc, 0.05, 1.0, "exc"), (inh, 0.1, 1.0, "inh")]))
    s.append(dict(name="cond_exp spikes exc+inh + DC 0.3, delay 0.5", model="lif_cond_exp",
                  cell=dict(LIF_COND, tau_syn_E=3.0, tau_syn_I=10.0), duration=100.0,
                  dc=dc((0.0, None, 0.3)),
                  inputs=[(exc, 0.02, 0.5, "exc"), (inh, 0.05, 0.5, "inh")]))
    # Izhikevich under DC steps (i_offset in nA: 0.01 nA = I 10), Izhikevich (2003) classes.
    izh = {"regular spiking": (0.02, 0.2, -65.0, 8.0),
           "intrinsically bursting": (0.02, 0.2, -55.0, 4.0),
           "chattering": (0.02, 0.2, -50.0, 2.0),
           "fast spiking": (0.1, 0.2, -65.0, 2.0),
           "low-threshold spiking": (0.02, 0.25, -65.0, 2.0)}
    for name, (a, b, c, d) in izh.items():
        s.append(dict(name=f"izhikevich {name} DC 0.01 nA", model="izhikevich",
                      cell=dict(a=a, b=b, c=c, d=d), dc=dc((5.0, 150.0, 0.01)),
                      duration=200.0))
    s.append(dict(name="izhikevich regular spiking DC 0.004/0.015 nA", model="izhikevich",
                  cell=dict(a=0.02, b=0.2, c=-65.0, d=8.0),
                  dc=dc((10.0, 100.0, 0.004), (100.0, 200.0, 0.015)), duration=200.0))
    return s


CELLTYPES = {"lif_curr_exp": "IF_curr_exp", "lif_cond_exp": "IF_cond_exp",
             "izhikevich": "Izhikevich"}


def run_reference(scens, method=("exact", "rk4")):
    """All scenarios in one PyNN network. Scenarios of one model and one tau_refrac (Brian2
    needs it homogeneous) share a population, a cell each with its own parameters, DC
    sources and spike sources: Brian2's integrator analysis runs once per population."""
    if method is not None:
        # A8: Brian2's default choice ('exact', 'euler', 'heun') falls back to forward Euler
        # for IF_cond_exp and Izhikevich (not linear). Use 'exact' where it applies, else RK4.
        base = importlib.import_module("pyNN.brian2.cells").BaseNeuronGroup
        orig = base.__init__
        chosen = method

        def init(self, n, equations, threshold, reset=-20 * brian2.mV,
                 refractory=0 * brian2.ms, method=None, **parameters):
            orig(self, n, equations, threshold, reset=reset, refractory=refractory,
                 method=method or chosen, **parameters)
        base.__init__ = init
    sim.setup(timestep=DT, min_delay=DT)
    groups = {}
    for k, sc in enumerate(scens):
        # PyNN's Brian2 Izhikevich takes c and d of the first cell for all (reset code):
        # a population per Izhikevich scenario.
        key = k if sc["model"] == "izhikevich" else sc["cell"].get("tau_refrac")
        groups.setdefault((sc["model"], key), []).append(k)
    where = {}
    pops = []
    for (model, _), ks in groups.items():
        names = list(scens[ks[0]]["cell"])
        params = {nm: [scens[k]["cell"][nm] for k in ks] for nm in names}
        if "tau_refrac" in params:
            params["tau_refrac"] = params["tau_refrac"][0]
        p = sim.Population(len(ks), getattr(sim, CELLTYPES[model])(**params))
        for j, k in enumerate(ks):
            where[k] = (p, j)
            sc = scens[k]
            for start, stop, amp in sc.get("dc", []):
                kw = dict(amplitude=amp, start=start)
                if stop is not None:
                    kw["stop"] = stop
                sim.DCSource(**kw).inject_into(p[j:j + 1])
            for times, w, d, rec in sc.get("inputs", []):
                src = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
                # A6: current-based inhibitory weights are negative in PyNN.
                wp = -w if (rec == "inh" and model == "lif_curr_exp") else w
                sim.Projection(src, p, sim.FromListConnector([(0, j, wp, d)]),
                               sim.StaticSynapse(weight=wp, delay=d),
                               receptor_type="excitatory" if rec == "exc" else "inhibitory")
        p.record("spikes")
        pops.append(p)
    sim.run(max(sc["duration"] for sc in scens))
    trains = {id(p): p.get_data().segments[0].spiketrains for p in pops}
    out = []
    for k, sc in enumerate(scens):
        p, j = where[k]
        st = trains[id(p)][j]
        # A1: start-of-step stamps -> end-of-step stamps.
        out.append([round(float(t) + DT, 6) for t in st.magnitude if float(t) < sc["duration"]])
    sim.end()
    if method is not None:
        base.__init__ = orig
    return out


def s2_args(sc, refrac_shift=True):
    a = ["--model", sc["model"], "--n", "1", "--dt", str(DT), "--duration", str(sc["duration"]),
         "--json"]
    cell = dict(sc["cell"])
    if "tau_refrac" in cell and refrac_shift:
        cell["tau_refrac"] = max(cell["tau_refrac"] - DT, 0.0)  # A2
    for k, v in cell.items():
        a += ["--param", f"{k}={v!r}"]
    # A4: the DC steps as absolute i_offset values at each change time.
    edges = sorted({t for st, sp, _ in sc.get("dc", []) for t in (st, sp) if t is not None})
    for t in edges:
        tot = sum(amp for st, sp, amp in sc.get("dc", []) if st <= t and (sp is None or t < sp))
        a += ["--current", f"{t!r}:0:{tot!r}"]
    for k, (times, w, d, rec) in enumerate(sc.get("inputs", [])):
        a += ["--syn", f"{k}:0:{abs(w)!r}:{d!r}:{rec}"]  # A6
        for t in times:
            a += ["--input", f"{round(t, 6)!r}:{k}"]  # A3
    return a


def run_s2(exe, sc, refrac_shift=True):
    r = subprocess.run([exe] + s2_args(sc, refrac_shift), capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        raise RuntimeError(f"s2fw-run failed ({r.returncode}): {r.stderr.strip()}")
    return sorted(t for n, t in json.loads(r.stdout)["spikes"] if n == 0)


# Differences in the engine's numerics, not conventions (reported; docs/engine.md, "Known
# differences"). These scenarios are expected to differ until the engine is changed: they
# are printed with their tables, do not fail the run while they still differ, and FAIL it
# once they agree (so the list is kept honest). Every other scenario must agree.
KNOWN = {}
REASONS = {}


def compare(ref, s2):
    if len(ref) != len(s2):
        return False, math.inf
    dmax = max((abs(a - b) for a, b in zip(ref, s2)), default=0.0)
    return dmax <= TOL, dmax


def table(name, ref, s2, ok, dmax):
    print(f"== {name}: {'PASS' if ok else 'FAIL'}  reference {len(ref)} spikes, s2 {len(s2)}, "
          f"max |diff| {dmax:.4f} ms")
    print(f"   {'#':>3} {'reference':>10} {'s2':>10} {'diff':>8}")
    for i in range(max(len(ref), len(s2))):
        r = f"{ref[i]:10.4f}" if i < len(ref) else f"{'-':>10}"
        s = f"{s2[i]:10.4f}" if i < len(s2) else f"{'-':>10}"
        d = f"{s2[i] - ref[i]:+8.4f}" if i < len(ref) and i < len(s2) else f"{'':>8}"
        print(f"   {i:3d} {r} {s} {d}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    exe = args[0] if args else os.environ.get("S2FW_RUN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "host-release",
        "tools", "s2fw-run")
    if not os.access(exe, os.X_OK):
        print(f"ref_single: s2fw-run not found at {exe} (argument or S2FW_RUN)")
        return 2
    t0 = time.time()
    scens = scenarios()
    # --brian-default: Brian2's own integrator choice (forward Euler for IF_cond_exp and
    # Izhikevich), for information; the test uses A8.
    ref = run_reference(scens, None if "--brian-default" in sys.argv else ("exact", "rk4"))
    t1 = time.time()
    n_ok = 0
    n_known = 0
    worst = 0.0
    exact = total = 0
    for sc, r in zip(scens, ref):
        s = run_s2(exe, sc)
        ok, dmax = compare(r, s)
        # A scenario without spikes in the reference would let anything pass but a spurious
        # s2 spike; the sub-threshold one is meant so, the others must spike.
        if not r and "sub-threshold" not in sc["name"]:
            ok = False
            print(f"!! {sc['name']}: the reference has no spikes (scenario broken)")
        known = KNOWN.get(sc["name"])
        table(sc["name"], r, s, ok, dmax)
        if known:
            print(f"   known difference {known}: {REASONS[known]}: "
                  f"{'still differs (expected)' if not ok else 'AGREES NOW: remove it from KNOWN'}")
            n_known += not ok
            ok = not ok
        n_ok += ok
        if ok and not known:
            worst = max(worst, dmax)
            total += len(r)
            exact += sum(abs(a - b) < 1e-6 for a, b in zip(r, s))
    # The refractory convention (A2) is a real difference: without the alignment the
    # engine's ISIs are one step longer. Check that it is still so, so that A2 cannot hide
    # a change in either simulator.
    probe = scens[5]  # curr_exp DC 1.0 nA
    assert probe["name"] == "curr_exp DC 1.0 nA"
    r = ref[5]
    s = run_s2(exe, probe, refrac_shift=False)
    isi_r = [b - a for a, b in zip(r, r[1:])]
    isi_s = [b - a for a, b in zip(s, s[1:])]
    a2 = len(r) == len(s) or len(isi_s) > 0
    a2 = a2 and all(abs((y - x) - DT) < 1e-6 for x, y in zip(isi_r, isi_s[:len(isi_r)]))
    print(f"== unaligned refractory ({probe['name']}, tau_refrac 2 ms on both sides): "
          f"{'PASS' if a2 else 'FAIL'}  reference ISIs {sorted(set(round(x, 4) for x in isi_r))}"
          f" s2 ISIs {sorted(set(round(x, 4) for x in isi_s))} (expected s2 = reference + dt)")
    n_ok += a2
    n = len(scens) + 1
    print(f"ref_single: {n_ok - n_known}/{n} checks agree, {n_known} known differences "
          f"(KNOWN) still differ; {exact}/{total} spikes of the agreeing "
          f"scenarios identical, max |diff| {worst:.4f} ms; reference {t1 - t0:.1f} s, "
          f"total {time.time() - t0:.1f} s")
    print(f"{n_ok - n_known} passed, {n - n_ok} failed, {n_known} skipped")
    return 0 if n_ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
