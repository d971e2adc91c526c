"""State of the pyNN.s2 backend: the network being built, and running it in this process
through libs2 (python/libs2.py: compile in memory, deploy, run, results as NumPy arrays) on a
machine given to setup() or an s2emu started here."""
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

try:
    import libs2
except ImportError:  # pyNN_s2 beside libs2.py (source tree python/, or dist-packages)
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import libs2

name = "s2"

_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class NotSupportedError(NotImplementedError):
    """Raised for a PyNN feature pyNN.s2 does not (yet) support; the message names it."""


class S2RunError(RuntimeError):
    """Compiling or running failed (libs2's error: the message names the item and the
    reason), or s2emu did not start."""


class S2PartialResultError(S2RunError):
    """The run did not complete on every board (docs/results.md); read what it recorded
    with setup(..., allow_partial=True)."""


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


def _jsonable(x):
    """x with its NumPy arrays and numbers as lists and Python numbers (for json)."""
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


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
        self._emu_log = None
        self.verbose = False
        self.allow_partial = False
        self.allow_slow = False
        self.partial = None  # after run(): None, or why the results are partial
        self._deployment = self._session = None  # the network loaded (libs2), kept by run()
        self._broken = None  # why the loaded network cannot continue
        self._sized_steps = 0
        self.steps_before = 0
        self._loss_seen = {}
        # Wall time (s) of the last run()'s parts, for bench/pynn_overhead.sh: describe,
        # compile, deploy (in s2_deploy), run (s2_run, the recordings read back included),
        # results (into self.results).
        self.timings = {}
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
        self._close_deployment()  # run() after reset() loads the network again, t = 0
        self.s2_horizon = 0.0  # sources drawn on the host: up to the run's end (run_until)
        self.running = False
        self.t = 0
        self.t_start = 0
        self.segment_counter += 1
        self.results = {}
        self._run_signature = None
        self._s2_plastic_warned = {}  # connections.py: plasticity counts already warned

    # -- tools --------------------------------------------------------------------------
    def _env(self):
        env = dict(os.environ)
        fw = os.path.join(_ROOT, "build", "cm4f", "firmware", "monitor", "s2_monitor.bin")
        if os.path.exists(fw):  # else s2ctl's own default (an installed one: PREFIX/share/s2)
            env.setdefault("S2_FIRMWARE", fw)
        return env

    def _firmware(self):
        """The monitor image for boards that are not booted: $S2_FIRMWARE, this source
        tree's Cortex-M4F build, or an installed one (PREFIX/share/s2)."""
        env = self._env()
        if env.get("S2_FIRMWARE"):
            return env["S2_FIRMWARE"]
        lib = getattr(libs2.load(), "_name", "") or ""
        d = os.path.dirname(os.path.realpath(lib)) if os.path.sep in lib else ""
        while d and d != os.path.dirname(d):
            cand = os.path.join(d, "share", "s2", "s2_monitor.bin")
            if os.path.exists(cand):
                return cand
            d = os.path.dirname(d)
        return None

    @staticmethod
    def _losses(st, res):
        """The run's counters by the names s2ctl run --json gives them."""
        syn = sum(p.clipped["weight_zero"] + p.clipped["weight_max"] + p.clipped["delay"]
                  for p in res.populations)
        return {"packets_dropped": st.packets_dropped,
                "recording_bytes_lost": st.recording_lost,
                "inputs_clipped": st.inputs_clipped, "synapses_clipped": syn}

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

    def spawn_emulator(self):
        """Start the local s2emu without waiting for it to be ready (setup() does, when no
        machine is given, so that it starts while the script builds its network); nothing
        if one is running. Returns False (and run() says why) if it cannot be started."""
        if self.emu is not None and self.emu.poll() is None:
            return True
        self._forget_emulator()  # one that ended: its files go
        exe = _find_tool("S2EMU", os.path.join("tools", "s2emu"))
        if not os.access(exe, os.X_OK):
            return False
        self.emu_dir = tempfile.mkdtemp(prefix="pynn_s2_emu.")
        self.emu_machine = os.path.join(self.emu_dir, "machine.pb")
        self._emu_ready = os.path.join(self.emu_dir, "ready")
        self._emu_log = open(os.path.join(self.emu_dir, "s2emu.log"), "w")
        self._emu_exe = exe
        try:
            self.emu = subprocess.Popen([exe, "--boards", "1", "--write-machine",
                                         self.emu_machine, "--ready-file", self._emu_ready],
                                        stdout=self._emu_log, stderr=subprocess.STDOUT,
                                        env=self._env())
        except OSError:
            self._forget_emulator()
            return False
        return True

    def _start_emulator(self):
        """The local s2emu's machine file, once it is ready (started now if setup() did
        not)."""
        if not self.spawn_emulator():
            exe = _find_tool("S2EMU", os.path.join("tools", "s2emu"))
            raise S2RunError("pyNN.s2: s2emu not found at %s (set S2EMU)" % exe)
        for _ in range(1000):
            if os.path.exists(self._emu_ready):
                return self.emu_machine
            if self.emu.poll() is not None:
                break
            time.sleep(0.01)
        exe = self._emu_exe
        self.stop_emulator()
        raise S2RunError("pyNN.s2: s2emu did not start (%s)" % exe)

    def _close_deployment(self):
        """Forget the network loaded on the machine (and the session holding its lease)."""
        d, sess = getattr(self, "_deployment", None), getattr(self, "_session", None)
        self._deployment = self._session = None
        self._broken = None
        if d is not None:
            d.close()
        if sess is not None:
            sess.close()

    def stop_emulator(self):
        self._close_deployment()
        if self.emu is not None and self.emu.poll() is None:
            self.emu.send_signal(signal.SIGTERM)
            try:
                self.emu.wait(5)
            except subprocess.TimeoutExpired:
                self.emu.kill()
                self.emu.wait()
        self._forget_emulator()

    def _forget_emulator(self):
        """The emulator's process (ended) and files are let go."""
        self.emu = None
        if self._emu_log is not None:
            self._emu_log.close()
            self._emu_log = None
        if self.emu_dir and not self.keep_files:
            shutil.rmtree(self.emu_dir, ignore_errors=True)
        self.emu_dir = None

    # -- running ----------------------------------------------------------------------
    def network_json(self, run_ms):
        """The network description as JSON-ready Python objects (lists, not arrays): the
        network's signature between runs, the copy in setup(workdir=...)."""
        return _jsonable(self.network_description(run_ms))

    def network_description(self, run_ms):
        """The network in the network format's structure (docs/network.md), per-neuron
        values and connection lists as NumPy arrays: what _compile gives libs2's builder."""
        net = {"format": 1, "name": "pynn", "timestep_ms": self.dt, "run_ms": run_ms,
               "seed": int(self.seed), "populations": [], "projections": [],
               "recordings": []}
        for p in self.populations:
            net["populations"].append(p._s2_description())
            net["recordings"].extend(p._s2_recordings())
        for prj in self.projections:  # one or more each (projections._s2_split_delays)
            net["projections"].extend(prj._s2_descriptions())
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

    # Recordings of a deployment are sized for at least this much biological time: a later
    # run() that continues for longer is run in parts of this length.
    SIZED_MS = 1000.0

    def run_until(self, tstop):
        simtime = tstop - self.t
        if simtime <= 0:
            return
        # Sources drawn on the host (standardmodels.py) are drawn up to here; a later run
        # extends their trains (a change of spike times, as update_spike_source_array's).
        self.s2_horizon = max(float(getattr(self, "s2_horizon", 0.0)), float(tstop))
        if not self.populations:
            self.t = tstop
            self.running = True
            self._run_signature = self._signature()
            return
        # Continuation: the machine keeps the network loaded and continues from where it
        # stopped (libs2 resume: neuron state, synaptic rings, random streams stay on the
        # PEs); nothing of the network may have changed since (else reset() first).
        sig = self._signature()
        resume = self.t > 0 and self._deployment is not None
        if self.t > 0:
            if getattr(self, "_broken", None):
                raise S2RunError("pyNN.s2: cannot continue: %s; call reset() to run again "
                                 "from t = 0" % self._broken)
            prev = getattr(self, "_run_signature", None)
            if prev is not None and prev != sig:
                if self._deployment is None or \
                        self._fixed_part(prev) != self._fixed_part(sig):
                    raise NotSupportedError(
                        "pyNN.s2: cannot continue the run: %s changed since the previous "
                        "run() (the network stays loaded on the machine and continues from "
                        "where it stopped; between runs only parameters, Poisson rates, "
                        "spike times, current sources and initial values (initialize()) may "
                        "change: call reset() before changing anything else)" % self._what_changed(self._fixed_part(prev),
                                                     self._fixed_part(sig)))
                self._update(simtime)
        steps_total = int(round(tstop / self.dt))
        steps_now = int(round(self.t / self.dt))
        if abs(steps_total * self.dt - tstop) > 1e-6 * max(1.0, tstop):
            raise NotSupportedError("pyNN.s2: run until %g ms: not a whole number of "
                                    "timesteps (%g ms)" % (tstop, self.dt))
        if not resume:
            # Nothing loaded yet (the first run, or earlier runs had no population): load
            # and run from t = 0 to tstop.
            self._close_deployment()
            self.results = {}
            self._deploy(tstop)
            steps_now, self.t = 0, 0.0
        left = steps_total - steps_now
        first = not resume
        while left > 0:
            part = left if first else min(left, self._sized_steps)
            self._run_part(part, resume=not first)
            first = False
            left -= part
            steps_now += part
            self.t = steps_now * self.dt
        self.t = tstop
        self.running = True
        self._run_signature = sig

    @staticmethod
    def _fixed_part(sig):
        """What cannot change between runs: the signature without the populations'
        parameters (rates included), spike times and initial values, and without the
        current sources."""
        net = dict(sig["network"])
        net.pop("current_sources", None)
        net["populations"] = [{k: v for k, v in q.items()
                               if k not in ("params", "spike_times", "initial")}
                              for q in net.get("populations", [])]
        return {"network": net, "machine": sig["machine"]}

    def _compile(self, net):
        """The network description net compiled in memory: built with libs2's network
        builder (s2/netbuild.h; arrays passed by pointer, no text); a description holding a
        part the builder does not know yet (libs2.Unknown) goes through its JSON form
        (s2_compile_json) instead. self.compiled_from says which ("memory" or "json")."""
        try:
            nb = libs2.Network.from_description(net)
        except libs2.Unknown:
            self.compiled_from = "json"
            return self._session.compile_json(json.dumps(_jsonable(net)),
                                              allow_slow=self.allow_slow)
        self.compiled_from = "memory"
        with nb:
            return self._session.compile(nb, allow_slow=self.allow_slow)

    def _update(self, simtime):
        """Write the changed parameters, rates, spike times, current sources and initial
        values into the loaded PEs (libs2 s2_deployment_update): the machine keeps its state
        and continues with them. The engine sets a state value whose initial value differs
        from the one loaded (PyNN's initialize() between runs): a value initialize()d to what
        was loaded already is first sent one float32 step away, then as given
        (populations.nudged)."""
        pending = [p for p in self.populations if getattr(p, "_s2_pending_init", None)]
        if pending:
            from .populations import nudged
            with nudged(pending):
                self._update_once(simtime)
        self._update_once(simtime)
        for p in pending:
            p._s2_pending_init.clear()

    def _update_once(self, simtime):
        net = self.network_description(simtime)
        try:
            plan = self._compile(net)
            self._deployment.update(plan)
        except libs2.Error as e:
            if "cannot change" in str(e) or "cannot update" in str(e):
                raise NotSupportedError("pyNN.s2: cannot continue the run: %s (call reset() "
                                        "before changing it)" % e) from None
            self._broken = "updating the loaded network failed (%s)" % e
            raise S2RunError("pyNN.s2: %s" % e) from None

    def _deploy(self, simtime):
        for p in self.populations:  # initial values: loaded as such (populations.py)
            getattr(p, "_s2_pending_init", set()).clear()
            p._s2_v0 = None
        t0 = time.perf_counter()
        net = self.network_description(simtime)
        self.timings = {"describe": time.perf_counter() - t0}
        machine = self.machine or self._start_emulator()
        if self.workdir:  # kept for inspection (setup(workdir=...)); the run does not read it
            os.makedirs(self.workdir, exist_ok=True)
            with open(os.path.join(self.workdir, "network.json"), "w") as f:
                json.dump(_jsonable(net), f, indent=1)
        sized = max(float(simtime), self.SIZED_MS)
        try:
            self._session = libs2.Session(machine, purpose="pyNN.s2")
            t0 = time.perf_counter()
            plan = self._compile(net)
            t1 = time.perf_counter()
            self._deployment = self._session.deploy(plan, firmware=self._firmware(),
                                                    duration_ms=sized)
            self.timings.update(compile=t1 - t0, deploy=time.perf_counter() - t1)
        except libs2.Error as e:
            self._close_deployment()
            slow = " (pyNN.s2: setup(..., allow_slow=True))" if "--allow-slow" in str(e) else ""
            raise S2RunError("pyNN.s2: %s%s" % (e, slow)) from None
        self._sized_steps = max(1, int(round(sized / self.dt)))

    def _run_part(self, steps, resume):
        """Run the loaded network for steps more steps (from where it stopped if resume) and
        append the recordings to self.results."""
        d = self._deployment
        start = int(round(self.t / self.dt)) if resume else 0
        try:
            t0 = time.perf_counter()
            try:
                res = d.run(duration_ms=steps * self.dt, allow_partial=True, resume=resume)
                self.timings["run"] = self.timings.get("run", 0.0) + time.perf_counter() - t0
            finally:
                st = d.stats
                self.steps_before = st.steps_before  # steps the machine ran before this part
        except libs2.Error as e:
            self._broken = "the previous run() failed (%s)" % e
            raise S2RunError("pyNN.s2: %s" % e) from None
        if d.error:
            self._broken = "the previous run() did not complete (%s)" % d.error[1]
            if not self.allow_partial or res.complete:
                raise S2PartialResultError("pyNN.s2: partial run: %s (%s)"
                                           % (res.partial or d.error[1], d.error[1]))
            warnings.warn("pyNN.s2: %s" % d.error[1], RuntimeWarning, stacklevel=4)
        # The boards' counters run on over resumed runs (the recording losses start afresh):
        # say what this part added.
        loss = self._losses(st, res)
        seen = self._loss_seen if resume else {}
        self._loss_seen = dict(loss)
        self._warn_losses({k: v - (seen.get(k, 0) if k != "recording_bytes_lost" else 0)
                           for k, v in loss.items()})
        self.partial = None
        if not res.complete:
            self._broken = "the previous run() did not complete (%s)" % res.partial
            self.partial = "partial run: %s" % res.partial
            warnings.warn("pyNN.s2: %s: the recorded data stop where the run stopped"
                          % self.partial, RuntimeWarning, stacklevel=4)
        t0 = time.perf_counter()
        for p in self.populations:
            r = self.results.setdefault(p._s2_label, {})
            try:
                q = res.population(p._s2_label)
            except KeyError:
                q = None
            if q is not None and q.spikes is not None:
                # neuron, and the time at the end of the spike's step (docs/results.md)
                sp = np.column_stack([q.spikes[:, 0].astype(np.float64),
                                      (q.spikes[:, 1] + 1.0 + start) * res.dt_ms])
                r["spikes"] = np.vstack([r["spikes"], sp]) if "spikes" in r else sp
            if q is not None and q.v is not None:
                # every recorded state variable: channels neuron | variable << 24 (results.h)
                r["v"] = np.vstack([r["v"], q.v]) if "v" in r else q.v
                r["vrec"] = q.vrec
        self.timings["results"] = self.timings.get("results", 0.0) + time.perf_counter() - t0


state = State()

# An emulator started by run() does not outlive the script, even without end().
atexit.register(state.stop_emulator)
