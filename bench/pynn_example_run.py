#!/usr/bin/env python3
"""Run one PyNN example unchanged and summarise what it simulated (bench/pynn_examples.sh).

    pynn_example_run.py OUT.json EXAMPLE.py SIMULATOR [example arguments...]

The example runs as `python3 EXAMPLE.py SIMULATOR ...` would run it (runpy, sys.argv as
given, in the current directory). Before it runs, every Population and Projection that PyNN
creates is noted (common.Population/Projection.__init__), and the simulator module's end()
is wrapped: before it ends, the run's summary is written to OUT.json: per population with
recorded spikes the mean rate (Hz) and the first spike times of its first neurons; per
population with recorded v its mean and the first recorded neuron's trace (at most 20,000
samples); per projection with a plastic synapse type its weights (mean, min, max, count);
per static projection of at most 1e6 pre x post pairs its number of connections. Written at every
end() call (the last one counts) and, if the example never calls end(), at exit.
"""
import atexit
import importlib
import json
import os
import runpy
import sys
import warnings

warnings.filterwarnings("ignore")


def brian2_rk4(brian2):
    """PYNN_BRIAN2_RK4=1, a setting of the reference only (docs/engine.md, A8): Brian2's
    default integrator falls back to forward Euler for the non-linear models (IF_cond_exp,
    Izhikevich, HH), itself off by more than a step; use 'exact' where it applies and RK4
    otherwise, as tests/pynn/test_pynn_s2.py does. The example script is unchanged."""
    base = importlib.import_module("pyNN.brian2.cells").BaseNeuronGroup
    orig = base.__init__

    def init(self, n, equations, threshold, reset=-20 * brian2.mV, refractory=0 * brian2.ms,
             method=None, **parameters):
        orig(self, n, equations, threshold, reset=reset, refractory=refractory,
             method=method or ("exact", "rk4"), **parameters)
    base.__init__ = init


def main():
    out, script, simname = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.argv = [script] + sys.argv[3:]
    if simname == "s2":
        import pyNN_s2  # noqa: F401  registers pyNN.s2
    if simname == "brian2":
        import logging
        import brian2
        brian2.prefs.codegen.target = "numpy"
        logging.getLogger("brian2").setLevel(logging.ERROR)
        if os.environ.get("PYNN_BRIAN2_RK4"):
            brian2_rk4(brian2)
    from pyNN import common
    pops, prjs = [], []
    p_init, j_init = common.Population.__init__, common.Projection.__init__

    def pop_init(self, *a, **k):
        p_init(self, *a, **k)
        pops.append(self)

    def prj_init(self, *a, **k):
        j_init(self, *a, **k)
        prjs.append(self)
    common.Population.__init__ = pop_init
    common.Projection.__init__ = prj_init
    sim = importlib.import_module("pyNN." + simname)
    state = {"written": False}

    def summarise():
        res = {"populations": {}, "projections": {}}
        for k, p in enumerate(pops):
            try:
                if "spikes" not in p.recorder.recorded or not p.recorder.recorded["spikes"]:
                    continue
                seg = p.get_data("spikes").segments[-1]
                trains = seg.spiketrains
                t = float(sim.get_current_time())
                n = sum(len(st) for st in trains)
                label = "%d:%s" % (k, p.label)
                res["populations"][label] = {
                    "neurons": len(trains), "spikes": n,
                    "rate_hz": n / (len(trains) * t / 1000.0) if trains and t > 0 else 0.0,
                    "first": [[round(float(x), 4) for x in st.magnitude[:5]]
                              for st in trains[:3]]}
            except Exception as e:  # noqa: BLE001  the summary must not fail the run
                res["populations"]["%d:%s" % (k, p.label)] = {"error": str(e)[:200]}
        for k, p in enumerate(pops):
            try:
                if "v" not in p.recorder.recorded or not p.recorder.recorded["v"]:
                    continue
                sigs = [a for a in p.get_data("v").segments[-1].analogsignals
                        if a.name == "v"]
                if not sigs:
                    continue
                v = sigs[0].magnitude[:, 0]
                step = max(1, -(-len(v) // 20000))  # at most 20,000 samples kept
                res.setdefault("v", {})["%d:%s" % (k, p.label)] = {
                    "samples": len(v), "every": step, "mean": float(v.mean()),
                    "v0": [round(float(x), 5) for x in v[::step]]}
            except Exception as e:  # noqa: BLE001
                res.setdefault("v", {})["%d:%s" % (k, p.label)] = {"error": str(e)[:200]}
        for k, j in enumerate(prjs):
            st = j.synapse_type
            if type(st).__name__ == "StaticSynapse":
                # connection counts of the smaller projections (the host computes them)
                if j.pre.size * j.post.size <= 10 ** 6:
                    try:
                        res.setdefault("static", {})["%d:%s" % (k, j.label)] = {
                            "count": int(j.size())}
                    except Exception as e:  # noqa: BLE001
                        res.setdefault("static", {})["%d:%s" % (k, j.label)] = {
                            "error": str(e)[:200]}
                continue
            try:
                w = [x for x in j.get("weight", format="list", with_address=False)]
                if w:
                    res["projections"]["%d:%s" % (k, j.label)] = {
                        "synapse": type(st).__name__, "count": len(w),
                        "mean": sum(w) / len(w), "min": min(w), "max": max(w)}
            except Exception as e:  # noqa: BLE001
                res["projections"]["%d:%s" % (k, j.label)] = {"error": str(e)[:200]}
        with open(out, "w") as f:
            json.dump(res, f, indent=1)
        state["written"] = True

    orig_end = sim.end

    def end(*a, **k):
        try:
            summarise()
        finally:
            return orig_end(*a, **k)
    sim.end = end
    atexit.register(lambda: None if state["written"] else summarise())
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
