"""State of the pyNN.s2 backend: the network being built, and running it with s2ctl/s2emu."""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings

import numpy as np
from pyNN import common, errors

name = "s2"

_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class NotSupportedError(NotImplementedError):
    """Raised for a PyNN feature pyNN.s2 does not (yet) support; the message names it."""


class S2RunError(RuntimeError):
    """An s2 tool (s2ctl, s2emu) failed; the message has its command and error output."""


class S2PartialResultError(S2RunError):
    """The run did not complete on every board (s2ctl results exit 5, docs/results.md); read
    what it recorded with setup(..., allow_partial=True)."""


EXIT_PARTIAL = 5  # s2ctl: the results record a partial run


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


def _find_tool(env, rel):
    p = os.environ.get(env)
    if p:
        return p
    if env == "S2EMU" and os.environ.get("S2CTL"):
        # next to S2CTL in the same build dir: BUILD/host/s2ctl -> BUILD/tools/s2emu
        b = os.path.dirname(os.path.dirname(os.path.abspath(os.environ["S2CTL"])))
        cand = os.path.join(b, "tools", "s2emu")
        if os.access(cand, os.X_OK):
            return cand
    cand = os.path.join(_ROOT, "build", "host-debug", rel)
    if os.access(cand, os.X_OK):
        return cand
    # An installed s2 (docs/install.md): the programs on PATH, s2emu beside s2ctl.
    name = os.path.basename(rel)
    if env == "S2EMU":
        s2ctl = shutil.which("s2ctl")
        if s2ctl:
            beside = os.path.join(os.path.dirname(os.path.realpath(s2ctl)), "s2emu")
            if os.access(beside, os.X_OK):
                return beside
    return shutil.which(name) or cand


class State(common.control.BaseState):
    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.machine = None
        self.seed = 1
        self.workdir = None
        self.keep_files = False
        self.emu = None
        self.emu_dir = None
        self.verbose = False
        self.allow_partial = False
        self.partial = None  # after run(): None, or why the results are partial
        self.clear()

    # -- bookkeeping -------------------------------------------------------------------
    def clear(self):
        self.recorders = set([])
        self.populations = []
        self.projections = []
        self.id_counter = 0
        self.segment_counter = -1
        self.results = {}  # label -> dict(spikes=(n,2) array, v=(steps,n) array, v_neurons)
        self.reset()

    def reset(self):
        self.running = False
        self.t = 0
        self.t_start = 0
        self.segment_counter += 1
        self.results = {}
        self._run_signature = None

    # -- tools --------------------------------------------------------------------------
    def _env(self):
        env = dict(os.environ)
        fw = os.path.join(_ROOT, "build", "cm4f", "firmware", "monitor", "s2_monitor.bin")
        if os.path.exists(fw):  # else s2ctl's own default (an installed one: PREFIX/share/s2)
            env.setdefault("S2_FIRMWARE", fw)
        return env

    def _run_tool(self, args, ok=(0,)):
        r = subprocess.run(args, capture_output=True, text=True, env=self._env(), check=False)
        if self.verbose:
            print("$", " ".join(args), "\n", r.stdout, r.stderr)
        if r.returncode not in ok:
            cls = S2PartialResultError if r.returncode == EXIT_PARTIAL else S2RunError
            raise cls(
                "pyNN.s2: %s failed (exit %d): %s" % (" ".join(args), r.returncode,
                                                      (r.stderr or r.stdout).strip()))
        return r.stdout

    def s2ctl(self):
        return _find_tool("S2CTL", os.path.join("host", "s2ctl"))

    @staticmethod
    def _warn_losses(summary):
        """What the run lost or clipped is said, never hidden (s2ctl run's counters)."""
        said = {"packets_dropped": "packets were dropped",
                "recording_bytes_lost": "recording bytes were lost",
                "inputs_clipped": "synaptic inputs were clipped at a neuron's 16-bit per-step "
                                  "maximum (docs/engine.md)",
                "synapses_clipped": "synapses drawn on the PEs had a weight or delay the "
                                    "engine cannot hold (docs/engine.md)"}
        for key, what in said.items():
            n = summary.get(key, 0)
            if n:
                warnings.warn("pyNN.s2: %d %s: the results are not exactly what the network "
                              "says" % (n, what), RuntimeWarning, stacklevel=4)

    def _start_emulator(self):
        if self.emu is not None and self.emu.poll() is None:
            return self.emu_machine
        exe = _find_tool("S2EMU", os.path.join("tools", "s2emu"))
        if not os.access(exe, os.X_OK):
            raise S2RunError("pyNN.s2: s2emu not found at %s (set S2EMU)" % exe)
        self.emu_dir = tempfile.mkdtemp(prefix="pynn_s2_emu.")
        m = os.path.join(self.emu_dir, "machine.pb")
        ready = os.path.join(self.emu_dir, "ready")
        self._emu_log = open(os.path.join(self.emu_dir, "s2emu.log"), "w")
        self.emu = subprocess.Popen([exe, "--boards", "1", "--write-machine", m,
                                     "--ready-file", ready], stdout=self._emu_log,
                                    stderr=subprocess.STDOUT, env=self._env())
        for _ in range(200):
            if os.path.exists(ready):
                break
            if self.emu.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(ready):
            self.stop_emulator()
            raise S2RunError("pyNN.s2: s2emu did not start (%s)" % exe)
        self.emu_machine = m
        return m

    def stop_emulator(self):
        if self.emu is not None:
            if self.emu.poll() is None:
                self.emu.send_signal(signal.SIGTERM)
                try:
                    self.emu.wait(5)
                except subprocess.TimeoutExpired:
                    self.emu.kill()
                    self.emu.wait()
            self.emu = None
            self._emu_log.close()
        if self.emu_dir and not self.keep_files:
            shutil.rmtree(self.emu_dir, ignore_errors=True)
        self.emu_dir = None

    # -- running ----------------------------------------------------------------------
    def network_json(self, run_ms):
        net = {"format": 1, "name": "pynn", "timestep_ms": self.dt, "run_ms": run_ms,
               "seed": int(self.seed), "populations": [], "projections": [],
               "recordings": []}
        for p in self.populations:
            net["populations"].append(p._s2_description())
            net["recordings"].extend(p._s2_recordings())
        for prj in self.projections:
            net["projections"].append(prj._s2_description())
        for cs in getattr(self, "current_sources", []):  # electrodes.py
            if cs._targets:
                net.setdefault("current_sources", []).extend(cs._s2_description())
        return net

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def _signature(self):
        """What determines the simulation apart from its length: the network description
        (populations, parameters, initial values, projections, recordings, timestep, seed)
        and the machine. A continued run() must find it unchanged."""
        net = self.network_json(0.0)
        del net["run_ms"]
        return {"network": json.loads(json.dumps(net, sort_keys=True)),
                "machine": self.machine}

    def _what_changed(self, old, new):
        if old["machine"] != new["machine"]:
            return "the machine"
        a, b = old["network"], new["network"]
        for key in ("timestep_ms", "seed"):
            if a.get(key) != b.get(key):
                return key
        for key, what in (("populations", "population"), ("projections", "projection"),
                          ("recordings", "recording")):
            x, y = a.get(key, []), b.get(key, []),
            if len(x) != len(y):
                return "the number of %ss (%d -> %d)" % (what, len(x), len(y))
            for i, (u, v) in enumerate(zip(x, y)):
                if u != v:
                    lab = u.get("label") or u.get("population") or u.get("post") or i
                    names = {q._s2_label: q.label for q in self.populations}
                    lab = "'%s'" % names.get(lab, lab)
                    keys = sorted(k for k in set(u) | set(v) if u.get(k) != v.get(k))
                    return "%s %s (%s)" % (what, lab, ", ".join(keys))
        return "the network"

    def run_until(self, tstop):
        simtime = tstop - self.t
        if simtime <= 0:
            return
        if not self.populations:
            self.t = tstop
            self.running = True
            self._run_signature = self._signature()
            return
        # Continuation: the engine is deterministic, so run(a); run(b) is run from t = 0 to
        # a + b again; the recorder returns what belongs to the current segment.
        sig = self._signature()
        if self.t > 0:
            prev = getattr(self, "_run_signature", None)
            if prev is not None and prev != sig:
                raise NotSupportedError(
                    "pyNN.s2: cannot continue the run: %s changed since the previous run() "
                    "(a continued run() re-simulates from t = 0, so the network, parameters, "
                    "initial values and recordings must stay as they were; call reset() "
                    "before changing them)" % self._what_changed(prev, sig))
        simtime = tstop
        wd = self.workdir or tempfile.mkdtemp(prefix="pynn_s2.")
        os.makedirs(wd, exist_ok=True)
        net = self.network_json(simtime)
        jpath = os.path.join(wd, "network.json")
        with open(jpath, "w") as f:
            json.dump(net, f, indent=1)
        s2ctl = self.s2ctl()
        if not os.access(s2ctl, os.X_OK):
            raise S2RunError("pyNN.s2: s2ctl not found at %s (set S2CTL)" % s2ctl)
        machine = self.machine or self._start_emulator()
        pb = os.path.join(wd, "network.pb")
        img = os.path.join(wd, "network.s2img")
        res = os.path.join(wd, "network.s2res")
        npy = os.path.join(wd, "npy")
        self._run_tool([s2ctl, "net", "convert", jpath, "-o", pb, "--quiet"])
        self._run_tool([s2ctl, "compile", pb, "--machine", machine, "-o", img, "--quiet"])
        run = [s2ctl, "run", img, "--machine", machine, "--duration", repr(float(simtime)),
               "-o", res, "--json"]
        if self.allow_partial and os.path.exists(res):
            os.unlink(res)
        try:
            out = self._run_tool(run)
            self._warn_losses(json.loads(out))
        except S2RunError as e:
            # A run that failed part-way may still have written what it recorded, marked
            # partial: read it only when asked to.
            if not (self.allow_partial and os.path.exists(res)):
                raise
            warnings.warn("pyNN.s2: %s" % e, RuntimeWarning, stacklevel=3)
        results = [s2ctl, "results", res, "--npy", npy, "--quiet"]
        if self.allow_partial:
            results.append("--allow-partial")
        self._run_tool(results)
        self.partial = None
        marker = os.path.join(npy, "PARTIAL")
        if os.path.exists(marker):
            with open(marker) as f:
                self.partial = f.read().strip()
            warnings.warn("pyNN.s2: %s: the recorded data stop where the run stopped"
                          % self.partial, RuntimeWarning, stacklevel=3)
        self.results = {}
        for p in self.populations:
            r = {}
            sp = os.path.join(npy, "%s_spikes.npy" % p._s2_label)
            if os.path.exists(sp):
                r["spikes"] = np.load(sp).reshape(-1, 2)
            vp = os.path.join(npy, "%s_v.npy" % p._s2_label)
            if os.path.exists(vp):
                r["v"] = np.load(vp)
            self.results[p._s2_label] = r
        if not self.workdir and not self.keep_files:
            shutil.rmtree(wd, ignore_errors=True)
        self.t = tstop
        self.running = True
        self._run_signature = sig


state = State()

# An emulator started by run() does not outlive the script, even without end().
atexit.register(state.stop_emulator)
