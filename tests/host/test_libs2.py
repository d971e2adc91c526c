#!/usr/bin/env python3
"""python/libs2.py (the ctypes binding of libs2's high-level API, docs/api.md) against a real
s2emu: structure layouts checked against the library, a session, a network compiled in memory
from its JSON form, deploy, a run with live spikes and energy samples, results as NumPy arrays
(equal to the live spikes); the same network built in memory (libs2.Network, s2/netbuild.h)
runs to the same spikes; and errors: a machine file that does not parse, a network that
does not parse, a builder call naming a population that does not exist or giving an array
of the wrong length, a board killed mid-run (PartialRun with partial results). Needs S2EMU,
S2_FIRMWARE and libs2.so (S2_LIB or beside S2CTL); exit 77 without NumPy."""
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
try:
    import numpy as np
except ImportError:
    print("test_libs2: skipped, no NumPy")
    sys.exit(77)
import libs2  # noqa: E402
import s2check  # noqa: E402

check = s2check.Checks("{mark} - {what}", ok="ok  ")


def emulator(d, name, fault=None):
    m = os.path.join(d, name + ".pb")
    ready = os.path.join(d, name + ".ready")
    args = [os.environ["S2EMU"], "--boards", "1", "--write-machine", m, "--ready-file", ready]
    if fault:
        args += ["--fault-at", fault]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(ready):
            break
        time.sleep(0.05)
    return m, p


def example_json():
    """The Vogels-Abbott example at 400 neurons in its JSON form (s2ctl net example)."""
    return subprocess.run([os.environ["S2CTL"], "net", "example", "vogels_abbott", "--scale",
                           "0.1"], capture_output=True, text=True, check=True).stdout


RICH = {
    "format": 1, "name": "rich", "timestep_ms": 0.1, "run_ms": 100.0, "seed": 3,
    "populations": [
        {"label": "in", "size": 3, "model": "spike_source_array",
         "spike_times": [[1.0, 2.5], [], [7.0]]},
        {"label": "poi", "size": 5, "model": "spike_source_poisson",
         "params": {"rate_hz": [1.0, 2.0, 3.0, 4.0, 5.0]}, "rate_hint_hz": 3.0},
        {"label": "E", "size": 4, "model": "lif_curr_exp",
         "params": {"tau_m_ms": [10.0, 11.0, 12.0, 13.0],
                    "v_thresh_mv": {"dist": "uniform", "low": -55.0, "high": -50.0}},
         "initial": {"v_mv": {"dist": "normal", "mean": -60.0, "sd": 2.0}},
         "max_per_pe": 2}],
    "projections": [
        {"pre": "in", "post": "E", "pre_slice": [0, 2], "post_slice": [1, 3],
         "connector": {"type": "one_to_one"}, "weight": 0.5, "delay": 1.0},
        {"label": "EE", "pre": "E", "post": "E", "receptor": "inhibitory",
         "connector": {"type": "fixed_probability", "p": 0.5, "allow_self": False},
         "weight": {"dist": "normal_clipped", "mean": 0.1, "sd": 0.01, "low": 0.0,
                    "high": 1.0},
         "delay": {"dist": "uniform", "low": 0.1, "high": 2.0}},
        {"pre": "in", "post": "E", "connector": {"type": "from_list", "pre": [0, 2],
                                                 "post": [3, 1], "weight": [0.1, 0.2],
                                                 "delay": [0.5, 0.7]}},
        {"pre": "poi", "post": "E", "connector": {"type": "fixed_number_pre", "n": 2,
                                                  "with_replacement": True},
         "weight": 0.2, "delay": 1.0,
         "synapse": {"rule": "stdp", "weight_dependence": "multiplicative", "w_min": 0.0,
                     "w_max": 0.5, "tau_plus_ms": 20.0, "tau_minus_ms": 25.0,
                     "a_plus": 0.01, "a_minus": 0.012, "dendritic_delay_fraction": 1.0}}],
    "recordings": [{"population": "E", "variable": "v_mv", "neurons": [0, 3]},
                   {"population": "E", "variable": "spikes"}],
    "current_sources": [{"population": "E", "kind": "step", "neurons": [2],
                         "times_ms": [5.0, 10.0], "amplitudes_na": [0.5, 0.0]},
                        {"population": "E", "kind": "dc", "amplitude_na": 0.3,
                         "start_ms": 10.0, "stop_ms": 50.0}]}


def same_net(lib):
    """Network.from_description of a description using every part of the format gives the
    network, byte for byte, that the JSON reader gives for the same description as text."""
    def encoded(net):
        buf, n = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
        assert lib.s2_net_encode(net, ctypes.byref(buf), ctypes.byref(n)) == 0
        out = ctypes.string_at(buf, n.value)
        ctypes.CDLL(None).free(buf)
        lib.s2_net_free(net)
        return out
    text = json.dumps(RICH).encode()
    err = ctypes.create_string_buffer(1024)
    a = lib.s2_net_from_json(text, len(text), err, 1024)
    check(bool(a), "the rich description reads as JSON: %s" % err.value.decode())
    with libs2.Network.from_description(RICH) as nb:
        b = nb._finish()
    ea, eb = encoded(a), encoded(b)
    check(ea == eb, "built in memory == read from JSON, byte for byte (%d bytes: %d "
          "populations, %d projections, STDP, lists, slices, distributions, current "
          "sources)" % (len(ea), len(RICH["populations"]), len(RICH["projections"])))
    try:
        libs2.Network.from_description(dict(RICH, extra=1))
        check(False, "a key the builder does not know raises Unknown")
    except libs2.Unknown as ex:
        check("'extra'" in str(ex), "a key the builder does not know: %s" % ex)


def main():
    fw = os.environ["S2_FIRMWARE"]
    lib = libs2.load()
    check(bool(lib.s2_version()), "libs2 %s loaded from %s, layouts match"
          % (lib.s2_version().decode(), lib._name))
    d = tempfile.mkdtemp(prefix="test_libs2.")
    bad = os.path.join(d, "bad.pb")
    with open(bad, "w") as f:
        f.write("not a machine\n")
    try:
        libs2.Session(bad)
        check(False, "a machine file that does not parse is refused")
    except libs2.Error as e:
        check(e.code < 0 and "bad.pb" in str(e), "a machine file that does not parse: %s" % e)
    m, emu = emulator(d, "ok")
    try:
        with libs2.Session(m, purpose="test_libs2") as s:
            try:
                s.compile_json('{"format": 1, "populations": [')
                check(False, "a network that does not parse is refused")
            except libs2.Error as e:
                check(e.code == -14, "a network that does not parse: %s" % e)
            plan = s.compile_json(example_json())
            pops = plan.populations
            check(len(pops) >= 2, "compiled in memory: populations %s" % pops)
            live = []
            energy = []
            with s.deploy(plan, firmware=fw, duration_ms=200.0) as dep:
                res = dep.run(duration_ms=200.0, energy_every=100,
                              on_spikes=lambda a: live.append(a),
                              on_energy=lambda e: energy.append(e.step))
                st = dep.stats
            check(res.complete and res.steps == 2000, "run complete, %d steps" % res.steps)
            rec = sum(len(p.spikes) for p in res.populations if p.spikes is not None)
            lv = np.concatenate(live) if live else np.zeros((0, 3), dtype=np.uint32)
            check(rec > 0 and len(lv) == rec and st.stream.lost == 0,
                  "live spikes %d == recorded %d, %d stream packets lost"
                  % (len(lv), rec, st.stream.lost))
            same = True
            for i, p in enumerate(res.populations):
                if p.spikes is None:
                    continue
                a = lv[lv[:, 0] == i][:, [1, 2]]
                same &= sorted(map(tuple, a.tolist())) == sorted(map(tuple, p.spikes.tolist()))
            check(same, "the live spikes are the recorded ones (neuron, step)")
            check(len(energy) > 0, "%d energy samples" % len(energy))
            # The same network built in memory, from the JSON form's structure as Python
            # objects (the per-neuron values as NumPy arrays): the same spikes.
            desc = json.loads(example_json())
            for p in desc["populations"]:
                for key in ("params", "initial"):
                    for k, v in p.get(key, {}).items():
                        if isinstance(v, list):
                            p[key][k] = np.asarray(v)
            with libs2.Network.from_description(desc) as nb:
                plan = s.compile(nb)
            with s.deploy(plan, firmware=fw, duration_ms=200.0) as dep:
                res2 = dep.run(duration_ms=200.0)
            same = [(a.label, None if a.spikes is None else a.spikes.tolist()) for a in
                    res.populations] == [(a.label, None if a.spikes is None else
                                          a.spikes.tolist()) for a in res2.populations]
            check(same and res2.complete, "built in memory: the same %d spikes" % rec)
            same_net(lib)
            with libs2.Network("t", 0.1, 100.0, 1) as nb:
                e = nb.population("E", "lif_curr_exp", 4)
                for what, f, code, words in (
                        ("a population that does not exist",
                         lambda: nb.param(7, "tau_m_ms", 10.0), -15,
                         "population 7 does not exist"),
                        ("a projection to a population that does not exist",
                         lambda: nb.projection(e, 3), -15, "population 3 does not exist"),
                        ("an array of the wrong length",
                         lambda: nb.param(e, "tau_m_ms", np.array([10.0, 11.0, 12.0])), -10,
                         "3 values of 'tau_m_ms' given, 1 or 4 needed"),
                        ("spike times of a wrong number of neurons",
                         lambda: nb.spike_times(e, [[1.0]]), -10, "of 1 neurons given"),
                        ("an unknown parameter",
                         lambda: nb.param(e, "tau_x", 1.0), -15, "'tau_x' is not one of")):
                    try:
                        f()
                        check(False, "builder: %s is refused" % what)
                    except libs2.Error as ex:
                        check(ex.code == code and words in str(ex),
                              "builder: %s: %s (%d)" % (what, ex, ex.code))
                nb.projection(e, e)
                try:
                    s.compile(nb)
                    check(False, "builder: a projection without a connector is refused")
                except libs2.Error as ex:
                    check(ex.code == -14 and "no connector" in str(ex),
                          "builder: compiled without a connector: %s" % ex)
    finally:
        emu.kill()
        emu.wait()
    m, emu = emulator(d, "dies", "run:kill:100")
    try:
        with libs2.Session(m) as s:
            plan = s.compile_json(example_json())
            with s.deploy(plan, firmware=fw, duration_ms=200.0, stall_s=5) as dep:
                try:
                    dep.run(duration_ms=200.0, stall_s=5)
                    check(False, "a board killed mid-run raises PartialRun")
                except libs2.PartialRun as e:
                    r = e.results
                    check(e.code == -13 and r is not None and not r.complete and
                          r.boards[0]["status"] == "no answer",
                          "a board killed mid-run: PartialRun (%s), results partial: %s"
                          % (e, r.partial if r else None))
    finally:
        emu.kill()
        emu.wait()
    subprocess.run(["rm", "-rf", d])
    print("%d failed" % len(check.failed))
    return check.status()


if __name__ == "__main__":
    sys.exit(main())
