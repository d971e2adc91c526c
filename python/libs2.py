"""libs2 from Python: the s2 host library's high-level C API (s2/session.h, s2/compile.h,
s2/run.h, s2/results.h; docs/api.md) through ctypes, in-process.

    import libs2
    with libs2.Session(machine="machine.pb") as s:
        plan = s.compile_json(network_json_text)        # or libs2.Plan.load("net.s2img")
        with s.deploy(plan, firmware=fw) as d:           # boot what is missing, load
            res = d.run(on_spikes=lambda spikes: ...)   # live spikes, energy samples
        for pop in res.populations:
            print(pop.label, pop.spikes)                 # NumPy arrays

The shared library is found by $S2_LIB (a path to libs2.so), then beside $S2CTL in its build
directory (BUILD/dist/libs2.so), then in this source tree's build/host-debug (or
host-release), then in the installation this module belongs to (PREFIX/LIBDIR/libs2.so.0 above
it), then where the system's loader finds libs2.so.0. Every structure laid out here is checked
against the library's own sizes (s2_abi_sizeof) when it is loaded.

Errors: every failing call raises Error (or a subclass) with the library's S2_E_ code and its
message; a run that did not complete on every board still returns its results, marked
partial (Results.complete is False, Results.partial says why) -- Deployment.run raises
PartialRun carrying them unless allow_partial.
"""
import ctypes
import ctypes.util
import os

__all__ = ["Error", "PartialRun", "Session", "Plan", "Deployment", "Results", "load"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.abspath(os.path.join(_HERE, ".."))

u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
c_bool, c_double, c_char_p, c_void_p, c_int = (ctypes.c_bool, ctypes.c_double, ctypes.c_char_p,
                                               ctypes.c_void_p, ctypes.c_int)
ERRLEN = 1024
S2_E_STATE = -16
S2_E_TIMEOUT = -13
LIVE_COUNTERS = 8
RES_CLIPS = 5
CLIP_NAMES = ("input", "weight_zero", "weight_max", "delay", "recording_lost")


class Error(RuntimeError):
    """A libs2 call failed: code is its S2_E_ code (s2/error.h), str() its message."""

    def __init__(self, code, message):
        RuntimeError.__init__(self, message)
        self.code = code


class PartialRun(Error):
    """The run did not complete on every board; results holds what was recorded, marked
    partial (docs/results.md)."""

    def __init__(self, code, message, results):
        Error.__init__(self, code, message)
        self.results = results


# ---- structures (the public headers' layouts) ---------------------------------------------

class Spike(ctypes.Structure):
    _fields_ = [("pop", u32), ("neuron", u32), ("step", u32)]


class EnergySample(ctypes.Structure):
    _fields_ = [("board", u16), ("chip", u16), ("step", u32), ("time_us", u64),
                ("counters", u64 * LIVE_COUNTERS)]


class RunEvent(ctypes.Structure):
    _fields_ = [("board", u16), ("event", u16), ("step", u32), ("time_us", u64)]


class BulkStats(ctypes.Structure):
    _fields_ = [(n, u64) for n in ("regions", "blocks", "blocks_sent", "retransmits",
                                   "duplicates", "bad_blocks", "sacks", "timeouts", "bytes_raw",
                                   "bytes_data", "bytes_sack", "compressed")]


class StreamStats(ctypes.Structure):
    _fields_ = [(n, u64) for n in ("packets", "bytes", "spikes", "energy_samples", "events",
                                   "lost", "late", "duplicates", "stale", "bad", "foreign",
                                   "unknown_source", "board_dropped", "rx_errors", "auth_bad")]


class RunStats(ctypes.Structure):
    _fields_ = [("deploy_s", c_double), ("run_s", c_double), ("collect_s", c_double),
                ("booted", ctypes.c_uint), ("bytes", u64), ("load", BulkStats),
                ("rec", BulkStats), ("steps", u32), ("synaptic_events", u64),
                ("spikes_sent", u64), ("packets_dropped", u64), ("packets_unrouted", u64),
                ("inputs_clipped", u64), ("recording_lost", u64), ("stream", StreamStats),
                ("steps_before", u64)]


PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, c_char_p, u64, u64)
PHASE = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_bool)
SPIKES = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(Spike), ctypes.c_size_t)
ENERGY = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(EnergySample))
EVENT = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(RunEvent))
LOG = ctypes.CFUNCTYPE(None, c_void_p, c_char_p)
RESOLVE = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_char_p,
                           ctypes.c_size_t)


class RunCallbacks(ctypes.Structure):
    _fields_ = [("progress", PROGRESS), ("phase", PHASE), ("spikes", SPIKES),
                ("energy", ENERGY), ("event", EVENT), ("arg", c_void_p)]


class SessionOpts(ctypes.Structure):
    _fields_ = [("machine_path", c_char_p), ("machine", c_void_p), ("allocation", c_char_p),
                ("resolve", RESOLVE), ("resolve_arg", c_void_p), ("ignore_job", c_bool),
                ("wire_boards", ctypes.POINTER(u16)), ("boards", c_char_p),
                ("key_path", c_char_p), ("eth", c_bool), ("bmp", c_bool),
                ("purpose", c_char_p), ("log", LOG), ("log_arg", c_void_p)]


class DeployOpts(ctypes.Structure):
    _fields_ = [("duration_ms", c_double), ("stall_s", c_double), ("firmware", c_char_p),
                ("cb", ctypes.POINTER(RunCallbacks))]


class RunOpts(ctypes.Structure):
    _fields_ = [("duration_ms", c_double), ("stall_s", c_double), ("realtime", c_bool),
                ("live_pops", ctypes.POINTER(c_bool)), ("energy_every", u32),
                ("cb", ctypes.POINTER(RunCallbacks)), ("resume", c_bool)]


class ResultsSpike(ctypes.Structure):
    _fields_ = [("neuron", u32), ("step", u32)]


class ResultsPop(ctypes.Structure):
    _fields_ = [("clip", u64 * RES_CLIPS), ("spikes_recorded", c_bool), ("label", c_char_p),
                ("size", u32), ("n_spikes", u64), ("spikes", ctypes.POINTER(ResultsSpike)),
                ("n_vrec", u32), ("vrec", ctypes.POINTER(u32)),
                ("v", ctypes.POINTER(ctypes.c_float))]


class ResultsBoard(ctypes.Structure):
    _fields_ = [("board", u32), ("status", c_int), ("last_step", u32),
                ("reason", ctypes.c_char * 200)]


class CResults(ctypes.Structure):
    _fields_ = [("has_clips", c_bool), ("dt_ms", c_double), ("steps", u32), ("n_pops", u32),
                ("pops", ctypes.POINTER(ResultsPop)), ("n_boards", u32),
                ("boards", ctypes.POINTER(ResultsBoard)), ("complete", c_bool)]


class PlanPop(ctypes.Structure):
    _fields_ = [("label", c_char_p), ("size", u32)]


class CPlan(ctypes.Structure):
    _fields_ = [("dt_ms", c_double), ("run_ms", c_double), ("pops", ctypes.POINTER(PlanPop)),
                ("n_pops", ctypes.c_uint), ("boards", c_void_p), ("n_boards", ctypes.c_uint),
                ("pes", u64), ("raw_bytes", u64), ("network", c_char_p),
                ("network_crc32", u32), ("owned", c_void_p)]


_ABI = {"s2_session_opts": SessionOpts, "s2_run_callbacks": RunCallbacks,
        "s2_deploy_opts": DeployOpts, "s2_run_opts": RunOpts, "s2_run_stats": RunStats,
        "s2_bulk_stats": BulkStats, "s2_stream_stats": StreamStats, "s2_spike": Spike,
        "s2_energy_sample": EnergySample, "s2_run_event": RunEvent, "s2_results": CResults,
        "s2_results_pop": ResultsPop, "s2_results_board": ResultsBoard,
        "s2_results_spike": ResultsSpike, "s2_plan": CPlan, "s2_plan_pop": PlanPop}

_lib = None


def _candidates():
    if os.environ.get("S2_LIB"):
        yield os.environ["S2_LIB"]
    if os.environ.get("S2CTL"):
        b = os.path.dirname(os.path.dirname(os.path.abspath(os.environ["S2CTL"])))
        yield os.path.join(b, "dist", "libs2.so")
    yield os.path.join(_ROOT, "build", "host-debug", "dist", "libs2.so")
    yield os.path.join(_ROOT, "build", "host-release", "dist", "libs2.so")
    # installed: PREFIX/LIBDIR/libs2.so.0 above PREFIX/LIBDIR/pythonX.Y/dist-packages/libs2.py
    import glob
    d = _HERE
    while d != os.path.dirname(d):
        for c in [os.path.join(d, "libs2.so.0")] + sorted(glob.glob(os.path.join(d, "*",
                                                                             "libs2.so.0"))):
            if os.path.exists(c):
                yield c
        d = os.path.dirname(d)
    found = ctypes.util.find_library("s2")
    yield found or "libs2.so.0"


def _sig(f, res, *args):
    f.restype = res
    f.argtypes = list(args)


def load():
    """The loaded libs2 (ctypes.CDLL), its functions typed and its layouts checked."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    lib = None
    for c in _candidates():
        if os.path.sep in c and not os.path.exists(c):
            tried.append(c + " (missing)")
            continue
        try:
            lib = ctypes.CDLL(c)
            break
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    if lib is None:
        raise Error(-15, "libs2: the shared library was not found: " + "; ".join(tried) +
                    " (set S2_LIB to libs2.so)")
    P = ctypes.POINTER
    _sig(lib.s2_strerror, c_char_p, c_int)
    _sig(lib.s2_abi_sizeof, ctypes.c_size_t, c_char_p)
    _sig(lib.s2_version, c_char_p)
    for name, cls in _ABI.items():
        want = lib.s2_abi_sizeof(name.encode())
        if want != ctypes.sizeof(cls):
            raise Error(-10, "libs2: struct %s is %d bytes in %s but %d here: this binding "
                        "does not match the library" % (name, want, lib._name,
                                                        ctypes.sizeof(cls)))
    _sig(lib.s2_session_open, c_int, P(SessionOpts), P(c_void_p), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_session_close, None, c_void_p)
    _sig(lib.s2_session_machine, c_void_p, c_void_p)
    _sig(lib.s2_session_boards, ctypes.c_uint, c_void_p)
    _sig(lib.s2_compile_json, c_int, c_char_p, ctypes.c_size_t, c_void_p, c_void_p,
         P(P(CPlan)), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_plan_load, P(CPlan), c_char_p, c_char_p, ctypes.c_size_t)
    _sig(lib.s2_plan_free, None, P(CPlan))
    _sig(lib.s2_deployment_new, c_int, c_void_p, P(CPlan), c_bool, P(c_void_p), c_char_p,
         ctypes.c_size_t)
    _sig(lib.s2_deployment_plan, P(CPlan), c_void_p)
    _sig(lib.s2_deploy, c_int, c_void_p, P(DeployOpts), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_deployment_check_loaded, c_int, c_void_p, c_double, c_char_p, ctypes.c_size_t)
    _sig(lib.s2_deployment_update, c_int, c_void_p, P(CPlan), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_run, c_int, c_void_p, P(RunOpts), P(P(CResults)), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_deployment_stats, P(RunStats), c_void_p)
    _sig(lib.s2_deployment_read_dram, c_int, c_void_p, ctypes.c_uint, ctypes.c_uint16,
         ctypes.c_uint32, c_void_p, ctypes.c_size_t, c_char_p, ctypes.c_size_t)
    _sig(lib.s2_deployment_free, None, c_void_p)
    _sig(lib.s2_results_free, None, P(CResults))
    _sig(lib.s2_results_read, P(CResults), c_char_p, ctypes.c_uint, P(c_int), c_char_p,
         ctypes.c_size_t)
    _sig(lib.s2_results_write, c_int, P(CResults), c_char_p, c_char_p, ctypes.c_size_t)
    _sig(lib.s2_results_partial_why, None, P(CResults), c_char_p, ctypes.c_size_t)
    _sig(lib.s2_results_status_name, c_char_p, c_int)
    _lib = lib
    return lib


def _b(s):
    return None if s is None else (s if isinstance(s, bytes) else os.fsencode(s))


def strerror(code):
    return load().s2_strerror(code).decode()


class Session:
    """A machine's boards opened for this process (s2_session_open): a machine description
    file; boards "0,2-5" or None for all; a key file (docs/security.md) or None."""

    def __init__(self, machine, boards=None, key=None, purpose="python"):
        lib = load()
        self._log = []
        self._log_cb = LOG(lambda arg, msg: self._log.append(msg.decode(errors="replace")))
        o = SessionOpts(machine_path=_b(machine), boards=_b(boards), key_path=_b(key),
                        eth=True, purpose=_b(purpose), log=self._log_cb)
        self._s = c_void_p()
        err = ctypes.create_string_buffer(ERRLEN)
        rc = lib.s2_session_open(ctypes.byref(o), ctypes.byref(self._s), err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))
        self.machine_path = machine

    @property
    def messages(self):
        """What the library said for a person (forced lease takeovers, refusals)."""
        return list(self._log)

    @property
    def boards(self):
        return load().s2_session_boards(self._s)

    def compile_json(self, text):
        """Map a network (its JSON form, docs/network.md) onto this session's machine, in
        memory: a Plan (s2_compile_json)."""
        lib = load()
        t = text.encode() if isinstance(text, str) else text
        out = ctypes.POINTER(CPlan)()
        err = ctypes.create_string_buffer(ERRLEN)
        rc = lib.s2_compile_json(t, len(t), lib.s2_session_machine(self._s), None,
                                 ctypes.byref(out), err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))
        return Plan(out)

    def deploy(self, plan, firmware=None, duration_ms=0.0, stall_s=0.0, force=False,
               on_progress=None):
        """Take the plan's boards (lease), boot what is not booted (with firmware), load:
        a Deployment (the plan is given to it)."""
        d = Deployment(self, plan, force)
        try:
            d.deploy(firmware=firmware, duration_ms=duration_ms, stall_s=stall_s,
                     on_progress=on_progress)
        except BaseException:
            d.close()
            raise
        return d

    def close(self):
        if self._s:
            load().s2_session_close(self._s)
            self._s = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Plan:
    """A load plan (s2/plan.h): an image checked and laid out per board."""

    def __init__(self, ptr):
        self._p = ptr

    @classmethod
    def load(cls, path):
        err = ctypes.create_string_buffer(ERRLEN)
        p = load().s2_plan_load(_b(path), err, ERRLEN)
        if not p:
            raise Error(-14, err.value.decode(errors="replace"))
        return cls(p)

    @property
    def populations(self):
        p = self._p.contents
        return [(p.pops[i].label.decode(), p.pops[i].size) for i in range(p.n_pops)]

    @property
    def dt_ms(self):
        return self._p.contents.dt_ms

    def _take(self):
        p, self._p = self._p, None
        if not p:
            raise Error(-10, "libs2: this plan was given to a deployment already")
        return p

    def __del__(self):
        if getattr(self, "_p", None):
            load().s2_plan_free(self._p)
            self._p = None


class Deployment:
    """A plan on a session's boards (s2_deployment_new: the plan's boards leased)."""

    def __init__(self, session, plan, force=False):
        lib = load()
        self.session = session
        self._d = c_void_p()
        err = ctypes.create_string_buffer(ERRLEN)
        rc = lib.s2_deployment_new(session._s, plan._take(), force, ctypes.byref(self._d),
                                   err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))

    def _callbacks(self, on_progress=None, on_spikes=None, on_energy=None, on_event=None):
        # The ctypes trampolines live as long as the call that uses them (kept on self).
        cb = RunCallbacks()
        keep = []
        if on_progress:
            f = PROGRESS(lambda a, what, done, total: on_progress(what.decode(), done, total))
            cb.progress = f
            keep.append(f)
        if on_spikes:
            import numpy as np

            def spikes(a, s, n):
                arr = np.ctypeslib.as_array(ctypes.cast(s, ctypes.POINTER(u32)), (n * 3,))
                on_spikes(arr.reshape(n, 3).copy())  # columns: pop, neuron, step
            f = SPIKES(spikes)
            cb.spikes = f
            keep.append(f)
        if on_energy:
            f = ENERGY(lambda a, e: on_energy(e.contents))
            cb.energy = f
            keep.append(f)
        if on_event:
            f = EVENT(lambda a, ev: on_event(ev.contents))
            cb.event = f
            keep.append(f)
        self._keep = keep
        return cb

    def deploy(self, firmware=None, duration_ms=0.0, stall_s=0.0, on_progress=None):
        cb = self._callbacks(on_progress=on_progress)
        o = DeployOpts(duration_ms=duration_ms, stall_s=stall_s, firmware=_b(firmware),
                       cb=ctypes.pointer(cb))
        err = ctypes.create_string_buffer(ERRLEN)
        rc = load().s2_deploy(self._d, ctypes.byref(o), err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))

    def run(self, duration_ms=0.0, realtime=False, stall_s=0.0, live_pops=None,
            energy_every=0, on_progress=None, on_spikes=None, on_energy=None, on_event=None,
            allow_partial=False, resume=False):
        """Run every board, read the recordings back: Results. on_spikes gets (n, 3) uint32
        arrays (population, neuron, step) as they arrive; on_energy each EnergySample. A run
        that did not complete raises PartialRun (with its results) unless allow_partial;
        one with no results at all raises Error. resume: continue from where the previous
        completed run stopped (s2_run_opts.resume): the results hold this run's steps,
        numbered from 0 at its start."""
        cb = self._callbacks(on_progress, on_spikes, on_energy, on_event)
        lp = None
        if live_pops is not None:
            lp = (c_bool * max(1, len(live_pops)))(*[bool(x) for x in live_pops])
        o = RunOpts(duration_ms=duration_ms, stall_s=stall_s, realtime=realtime,
                    live_pops=ctypes.cast(lp, ctypes.POINTER(c_bool)) if lp else None,
                    energy_every=energy_every, cb=ctypes.pointer(cb), resume=resume)
        out = ctypes.POINTER(CResults)()
        err = ctypes.create_string_buffer(ERRLEN)
        rc = load().s2_run(self._d, ctypes.byref(o), ctypes.byref(out), err, ERRLEN)
        msg = err.value.decode(errors="replace")
        res = Results(out) if out else None
        if res is None:
            raise Error(rc, msg or strerror(rc))
        self.error = (rc, msg) if rc < 0 else None
        if not res.complete and not allow_partial:
            raise PartialRun(rc, msg, res)
        return res

    def update(self, plan):
        """Between runs: give the loaded network the PE data of plan (the same network
        compiled with other parameters, spike times, rates or currents); the PEs keep their
        state and the next run(resume=True) continues with it (s2_deployment_update). The
        plan is taken. Raises Error naming what cannot change."""
        err = ctypes.create_string_buffer(ERRLEN)
        rc = load().s2_deployment_update(self._d, plan._take(), err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))

    def read_dram(self, board, chip, addr, n):
        """n bytes of chip DRAM at addr of chip `chip` of board `board` (its number in the
        machine), between runs (s2_deployment_read_dram): e.g. the rows of plastic synapses."""
        buf = ctypes.create_string_buffer(max(int(n), 1))
        err = ctypes.create_string_buffer(ERRLEN)
        rc = load().s2_deployment_read_dram(self._d, int(board), int(chip), int(addr), buf,
                                            int(n), err, ERRLEN)
        if rc < 0:
            raise Error(rc, err.value.decode(errors="replace"))
        return buf.raw[:int(n)]

    @property
    def stats(self):
        """Counters of the deployment and run (RunStats, a copy)."""
        s = RunStats()
        ctypes.memmove(ctypes.byref(s), load().s2_deployment_stats(self._d), ctypes.sizeof(s))
        return s

    def close(self):
        if self._d:
            load().s2_deployment_free(self._d)
            self._d = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Population:
    """One population's results as NumPy arrays: spikes (n, 2) uint32 (neuron, step) or None
    if not recorded, v (steps, n_vrec) float32 and vrec (the recorded neurons), clipped."""

    def __init__(self, label, size, spikes, vrec, v, clipped):
        self.label, self.size, self.spikes, self.vrec, self.v = label, size, spikes, vrec, v
        self.clipped = clipped


class Results:
    """Run results (s2/results.h), copied into NumPy arrays; the C results are freed."""

    def __init__(self, ptr):
        import numpy as np
        lib = load()
        r = ptr.contents
        self.dt_ms, self.steps, self.complete = r.dt_ms, r.steps, bool(r.complete)
        self.has_clips = bool(r.has_clips)
        self.boards = []
        for i in range(r.n_boards):
            b = r.boards[i]
            self.boards.append({"board": b.board,
                                "status": lib.s2_results_status_name(b.status).decode(),
                                "last_step": b.last_step,
                                "reason": b.reason.decode(errors="replace")})
        self.partial = None
        if not self.complete:
            why = ctypes.create_string_buffer(400)
            lib.s2_results_partial_why(ptr, why, 400)
            self.partial = why.value.decode(errors="replace")
        self.populations = []
        for p in range(r.n_pops):
            q = r.pops[p]
            spikes = None
            if q.spikes_recorded:
                if q.n_spikes:
                    spikes = np.ctypeslib.as_array(ctypes.cast(q.spikes, ctypes.POINTER(u32)),
                                                   (q.n_spikes * 2,)).reshape(-1, 2).copy()
                else:
                    spikes = np.zeros((0, 2), dtype=np.uint32)
            vrec = v = None
            if q.n_vrec:
                vrec = np.ctypeslib.as_array(q.vrec, (q.n_vrec,)).copy()
                v = np.ctypeslib.as_array(q.v, (r.steps * q.n_vrec,)).reshape(
                    r.steps, q.n_vrec).copy()
            clipped = dict(zip(CLIP_NAMES, list(q.clip)))
            self.populations.append(Population(q.label.decode(), q.size, spikes, vrec, v,
                                               clipped))
        lib.s2_results_free(ptr)

    def population(self, label):
        for p in self.populations:
            if p.label == label:
                return p
        raise KeyError(label)

    @classmethod
    def read(cls, path, allow_partial=False):
        """Read a results file (.s2res, docs/results.md)."""
        lib = load()
        rc = c_int(0)
        err = ctypes.create_string_buffer(ERRLEN)
        p = lib.s2_results_read(_b(path), 1 if allow_partial else 0, ctypes.byref(rc), err,
                                ERRLEN)
        if not p:
            cls_ = PartialRun if rc.value == S2_E_STATE else Error
            if cls_ is PartialRun:
                raise PartialRun(rc.value, err.value.decode(errors="replace"), None)
            raise Error(rc.value, err.value.decode(errors="replace"))
        return cls(p)
