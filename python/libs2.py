"""libs2 from Python: the s2 host library's high-level C API (s2/session.h, s2/netbuild.h,
s2/compile.h, s2/run.h, s2/results.h; docs/api.md) through ctypes, in-process.

    import libs2
    net = libs2.Network("net", timestep_ms=0.1, run_ms=1000)   # built in memory
    e = net.population("E", "lif_curr_exp", 100)
    net.param(e, "v_mv", numpy_array_of_100, initial=True)    # passed by pointer
    ...
    with libs2.Session(machine="machine.pb") as s:
        plan = s.compile(net)          # or s.compile_json(text), libs2.Plan.load("x.s2img")
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

__all__ = ["Error", "PartialRun", "Unknown", "Session", "Network", "Plan", "Deployment",
           "Results", "load"]

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
RES_PLASTICS = 4  # s2/results.h S2_RES_PLASTICS
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
                ("steps_before", u64), ("parts", u32)]


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
                ("transport", c_void_p),  # const struct s2_transport_opts *: NULL, defaults
                ("purpose", c_char_p), ("log", LOG), ("log_arg", c_void_p)]


class MapConfig(ctypes.Structure):  # s2_map_config (s2/mapper.h)
    _fields_ = [("router_target", u32), ("router_min", c_bool), ("image_threads", ctypes.c_uint),
                ("fine_place", c_bool), ("place_order", c_bool), ("no_verify", c_bool),
                ("key_bits", ctypes.c_uint), ("allow_slow", c_bool)]


class DeployOpts(ctypes.Structure):
    _fields_ = [("duration_ms", c_double), ("stall_s", c_double), ("firmware", c_char_p),
                ("cb", ctypes.POINTER(RunCallbacks))]


class RunOpts(ctypes.Structure):
    _fields_ = [("duration_ms", c_double), ("stall_s", c_double), ("realtime", c_bool),
                ("live_pops", ctypes.POINTER(c_bool)), ("energy_every", u32),
                ("cb", ctypes.POINTER(RunCallbacks)), ("resume", c_bool),
                ("part_ms", c_double)]


class ResultsSpike(ctypes.Structure):
    _fields_ = [("neuron", u32), ("step", u32)]


class ResultsPop(ctypes.Structure):
    _fields_ = [("clip", u64 * RES_CLIPS), ("spikes_recorded", c_bool), ("label", c_char_p),
                ("size", u32), ("n_spikes", u64), ("spikes", ctypes.POINTER(ResultsSpike)),
                ("n_vrec", u32), ("vrec", ctypes.POINTER(u32)),
                ("v", ctypes.POINTER(ctypes.c_float)), ("plastic", u64),
                ("plastic_cause", u64 * RES_PLASTICS), ("steps_over", u64),
                ("worst_permille", u64)]


class ResultsBoard(ctypes.Structure):
    _fields_ = [("board", u32), ("status", c_int), ("last_step", u32),
                ("reason", ctypes.c_char * 200)]


class CResults(ctypes.Structure):
    _fields_ = [("has_clips", c_bool), ("dt_ms", c_double), ("steps", u32), ("n_pops", u32),
                ("pops", ctypes.POINTER(ResultsPop)), ("n_boards", u32),
                ("boards", ctypes.POINTER(ResultsBoard)), ("complete", c_bool),
                ("has_plastic_causes", c_bool), ("has_budget", c_bool)]


class PlanPop(ctypes.Structure):
    _fields_ = [("label", c_char_p), ("size", u32)]


class CPlan(ctypes.Structure):
    _fields_ = [("dt_ms", c_double), ("run_ms", c_double), ("pops", ctypes.POINTER(PlanPop)),
                ("n_pops", ctypes.c_uint), ("boards", c_void_p), ("n_boards", ctypes.c_uint),
                ("pes", u64), ("raw_bytes", u64), ("network", c_char_p),
                ("network_crc32", u32), ("owned", c_void_p)]


class NetbDist(ctypes.Structure):
    _fields_ = [("kind", c_int), ("low", c_double), ("high", c_double), ("mean", c_double),
                ("sd", c_double)]


_ABI = {"s2_netb_dist": NetbDist, "s2_session_opts": SessionOpts, "s2_run_callbacks": RunCallbacks,
        "s2_deploy_opts": DeployOpts, "s2_run_opts": RunOpts, "s2_run_stats": RunStats,
        "s2_bulk_stats": BulkStats, "s2_stream_stats": StreamStats, "s2_spike": Spike,
        "s2_energy_sample": EnergySample, "s2_run_event": RunEvent, "s2_results": CResults,
        "s2_results_pop": ResultsPop, "s2_results_board": ResultsBoard,
        "s2_results_spike": ResultsSpike, "s2_plan": CPlan, "s2_plan_pop": PlanPop,
        "s2_map_config": MapConfig}

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


# ---- the library's functions: (result, argument types); ERR stands for the (char *err,
# size_t errlen) pair every failing call fills, passed by _call / _new ---------------------
ERR = object()
_P = ctypes.POINTER
size_t = ctypes.c_size_t
_FUNCS = {
    "s2_strerror": (c_char_p, c_int),
    "s2_abi_sizeof": (size_t, c_char_p),
    "s2_version": (c_char_p,),
    "s2_session_open": (c_int, _P(SessionOpts), _P(c_void_p), ERR),
    "s2_session_close": (None, c_void_p),
    "s2_session_machine": (c_void_p, c_void_p),
    "s2_session_boards": (ctypes.c_uint, c_void_p),
    "s2_compile": (c_int, c_void_p, c_void_p, c_void_p, _P(_P(CPlan)), ERR),
    "s2_compile_json": (c_int, c_char_p, size_t, c_void_p, c_void_p, _P(_P(CPlan)), ERR),
    "s2_plan_load": (_P(CPlan), c_char_p, ERR),
    "s2_plan_free": (None, _P(CPlan)),
    "s2_deployment_new": (c_int, c_void_p, _P(CPlan), c_bool, _P(c_void_p), ERR),
    "s2_deployment_plan": (_P(CPlan), c_void_p),
    "s2_deploy": (c_int, c_void_p, _P(DeployOpts), ERR),
    "s2_deployment_check_loaded": (c_int, c_void_p, c_double, ERR),
    "s2_deployment_update": (c_int, c_void_p, _P(CPlan), ERR),
    "s2_run": (c_int, c_void_p, _P(RunOpts), _P(_P(CResults)), ERR),
    "s2_deployment_stats": (_P(RunStats), c_void_p),
    "s2_deployment_read_dram": (c_int, c_void_p, ctypes.c_uint, ctypes.c_uint16, ctypes.c_uint32,
                                c_void_p, ctypes.c_size_t, ERR),
    "s2_deployment_free": (None, c_void_p),
    "s2_results_free": (None, _P(CResults)),
    "s2_results_read": (_P(CResults), c_char_p, ctypes.c_uint, _P(c_int), ERR),
    "s2_results_write": (c_int, _P(CResults), c_char_p, ERR),
    "s2_results_partial_why": (None, _P(CResults), c_char_p, size_t),
    "s2_results_status_name": (c_char_p, c_int),
    "s2_net_free": (None, c_void_p),
    "s2_net_from_json": (c_void_p, c_char_p, size_t, ERR),
    "s2_net_encode": (c_int, c_void_p, _P(_P(u8)), _P(size_t)),
    "s2_netb_new": (c_void_p, c_char_p, c_double, c_double, u64),
    "s2_netb_free": (None, c_void_p),
    "s2_netb_set_run_ms": (None, c_void_p, c_double),
    "s2_netb_population": (c_int, c_void_p, c_char_p, c_char_p, u32, ERR),
    "s2_netb_pop_param": (c_int, c_void_p, c_int, c_char_p, c_bool, _P(c_double), size_t,
                          ERR),
    "s2_netb_pop_param_random": (c_int, c_void_p, c_int, c_char_p, c_bool, _P(NetbDist), ERR),
    "s2_netb_pop_spike_times": (c_int, c_void_p, c_int, _P(u32), size_t, _P(c_double), size_t,
                                ERR),
    "s2_netb_pop_set": (c_int, c_void_p, c_int, c_char_p, c_double, ERR),
    "s2_netb_projection": (c_int, c_void_p, c_int, c_int, c_char_p, c_char_p, ERR),
    "s2_netb_proj_slice": (c_int, c_void_p, c_int, c_bool, u32, u32, ERR),
    "s2_netb_proj_connector": (c_int, c_void_p, c_int, c_char_p, ERR),
    "s2_netb_proj_connector_set": (c_int, c_void_p, c_int, c_char_p, c_double, ERR),
    "s2_netb_proj_list": (c_int, c_void_p, c_int, _P(u32), _P(u32), _P(c_double),
                          _P(c_double), size_t, ERR),
    "s2_netb_proj_value": (c_int, c_void_p, c_int, c_char_p, _P(c_double), size_t, ERR),
    "s2_netb_proj_value_random": (c_int, c_void_p, c_int, c_char_p, _P(NetbDist), ERR),
    "s2_netb_proj_synapse": (c_int, c_void_p, c_int, c_char_p, ERR),
    "s2_netb_proj_synapse_set": (c_int, c_void_p, c_int, c_char_p, c_double, ERR),
    "s2_netb_proj_synapse_str": (c_int, c_void_p, c_int, c_char_p, c_char_p, ERR),
    "s2_netb_record": (c_int, c_void_p, c_int, c_char_p, _P(u32), size_t, c_double, ERR),
    "s2_netb_csource": (c_int, c_void_p, c_int, c_char_p, _P(u32), size_t, ERR),
    "s2_netb_csource_set": (c_int, c_void_p, c_int, c_char_p, c_double, ERR),
    "s2_netb_csource_array": (c_int, c_void_p, c_int, c_char_p, _P(c_double), size_t, ERR),
    "s2_netb_finish": (c_int, c_void_p, _P(c_void_p), ERR),
}


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
    for name, (res, *args) in _FUNCS.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise Error(-15, "libs2: %s has no %s: this binding is newer than the library"
                        % (lib._name, name)) from None
        f.restype = res
        f.argtypes = [t for a in args for t in ((c_char_p, size_t) if a is ERR else (a,))]
    for name, cls in _ABI.items():
        want = lib.s2_abi_sizeof(name.encode())
        if want != ctypes.sizeof(cls):
            raise Error(-10, "libs2: struct %s is %d bytes in %s but %d here: this binding "
                        "does not match the library" % (name, want, lib._name,
                                                        ctypes.sizeof(cls)))
    _lib = lib
    return lib


def _map_config(allow_slow):
    """The mapper's configuration for s2_compile: None (the defaults) unless allow_slow."""
    return ctypes.byref(MapConfig(allow_slow=True)) if allow_slow else None


def _call(name, *args, error=Error):
    """Call the library's function name with args and an error buffer; raise error (with
    the S2_E_ code and the library's message) if it returns a negative code, else return
    what it returned."""
    err = ctypes.create_string_buffer(ERRLEN)
    rc = getattr(load(), name)(*args, err, ERRLEN)
    if isinstance(rc, int) and rc < 0:
        raise error(rc, err.value.decode(errors="replace") or strerror(rc))
    return rc


def _new(name, *args, code=-14):
    """Call a constructor that returns a pointer (NULL with err set on failure)."""
    err = ctypes.create_string_buffer(ERRLEN)
    p = getattr(load(), name)(*args, err, ERRLEN)
    if not p:
        raise Error(code, err.value.decode(errors="replace"))
    return p


def _b(s):
    return None if s is None else (s if isinstance(s, bytes) else os.fsencode(s))


def strerror(code):
    return load().s2_strerror(code).decode()


class _Handle:
    """An object owning one library handle (self._h), freed by close(), at the end of a
    with block, or when the object goes."""
    _free = None  # the library's function that frees the handle

    _h = None

    def close(self):
        h, self._h = self._h, None
        if h:
            getattr(load(), self._free)(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Session(_Handle):
    """A machine's boards opened for this process (s2_session_open): a machine description
    file; boards "0,2-5" or None for all; a key file (docs/security.md) or None."""
    _free = "s2_session_close"

    def __init__(self, machine, boards=None, key=None, purpose="python"):
        self._log = []
        self._log_cb = LOG(lambda arg, msg: self._log.append(msg.decode(errors="replace")))
        o = SessionOpts(machine_path=_b(machine), boards=_b(boards), key_path=_b(key),
                        eth=True, purpose=_b(purpose), log=self._log_cb)
        h = c_void_p()
        _call("s2_session_open", ctypes.byref(o), ctypes.byref(h))
        self._h = h.value
        self.machine_path = machine

    @property
    def _s(self):
        return self._h

    @property
    def messages(self):
        """What the library said for a person (forced lease takeovers, refusals)."""
        return list(self._log)

    @property
    def boards(self):
        return load().s2_session_boards(self._h)

    def compile(self, network, allow_slow=False):
        """Map a Network (built in memory) onto this session's machine, in memory: a Plan
        (s2_netb_finish, s2_compile). allow_slow: place a population of which one neuron is
        slower than real time one neuron per PE instead of refusing it (s2_map_config,
        docs/mapping.md "Real-time budget")."""
        net = network._finish()
        try:
            out = _P(CPlan)()
            _call("s2_compile", net, load().s2_session_machine(self._h), _map_config(allow_slow),
                  ctypes.byref(out))
        finally:
            load().s2_net_free(net)
        return Plan(out)

    def compile_json(self, text, allow_slow=False):
        """Map a network (its JSON form, docs/network.md) onto this session's machine, in
        memory: a Plan (s2_compile_json); allow_slow as for compile()."""
        t = text.encode() if isinstance(text, str) else text
        out = _P(CPlan)()
        _call("s2_compile_json", t, len(t), load().s2_session_machine(self._h),
              _map_config(allow_slow), ctypes.byref(out))
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


class Plan(_Handle):
    """A load plan (s2/plan.h): an image checked and laid out per board."""
    _free = "s2_plan_free"

    def __init__(self, ptr):
        self._h = ptr

    @classmethod
    def load(cls, path):
        return cls(_new("s2_plan_load", _b(path)))

    @property
    def populations(self):
        p = self._h.contents
        return [(p.pops[i].label.decode(), p.pops[i].size) for i in range(p.n_pops)]

    @property
    def dt_ms(self):
        return self._h.contents.dt_ms

    def _take(self):
        p, self._h = self._h, None
        if not p:
            raise Error(-10, "libs2: this plan was given to a deployment already")
        return p


class Deployment(_Handle):
    """A plan on a session's boards (s2_deployment_new: the plan's boards leased)."""
    _free = "s2_deployment_free"

    def __init__(self, session, plan, force=False):
        self.session = session
        h = c_void_p()
        _call("s2_deployment_new", session._h, plan._take(), force, ctypes.byref(h))
        self._h = h.value

    def _callbacks(self, on_progress=None, on_spikes=None, on_energy=None, on_event=None):
        # The ctypes trampolines live as long as the call that uses them (kept on self).
        cb = RunCallbacks()
        keep = []

        def spikes(a, s, n):
            import numpy as np
            arr = np.ctypeslib.as_array(ctypes.cast(s, _P(u32)), (n * 3,))
            on_spikes(arr.reshape(n, 3).copy())  # columns: pop, neuron, step
        for field, kind, user, f in (
                ("progress", PROGRESS, on_progress,
                 lambda a, what, done, total: on_progress(what.decode(), done, total)),
                ("spikes", SPIKES, on_spikes, spikes),
                ("energy", ENERGY, on_energy, lambda a, e: on_energy(e.contents)),
                ("event", EVENT, on_event, lambda a, ev: on_event(ev.contents))):
            if user:
                t = kind(f)
                setattr(cb, field, t)
                keep.append(t)
        self._keep = keep
        return cb

    def deploy(self, firmware=None, duration_ms=0.0, stall_s=0.0, on_progress=None):
        cb = self._callbacks(on_progress=on_progress)
        o = DeployOpts(duration_ms=duration_ms, stall_s=stall_s, firmware=_b(firmware),
                       cb=ctypes.pointer(cb))
        _call("s2_deploy", self._h, ctypes.byref(o))

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
                    live_pops=ctypes.cast(lp, _P(c_bool)) if lp else None,
                    energy_every=energy_every, cb=ctypes.pointer(cb), resume=resume)
        out = _P(CResults)()
        err = ctypes.create_string_buffer(ERRLEN)
        rc = load().s2_run(self._h, ctypes.byref(o), ctypes.byref(out), err, ERRLEN)
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
        _call("s2_deployment_update", self._h, plan._take())

    def read_dram(self, board, chip, addr, n):
        """n bytes of chip DRAM at addr of chip `chip` of board `board` (its number in the
        machine), between runs (s2_deployment_read_dram): e.g. the rows of plastic synapses."""
        buf = ctypes.create_string_buffer(max(int(n), 1))
        _call("s2_deployment_read_dram", self._h, int(board), int(chip), int(addr), buf, int(n))
        return buf.raw[:int(n)]

    @property
    def stats(self):
        """Counters of the deployment and run (RunStats, a copy)."""
        s = RunStats()
        ctypes.memmove(ctypes.byref(s), load().s2_deployment_stats(self._h), ctypes.sizeof(s))
        return s


class Population:
    """One population's results as NumPy arrays: spikes (n, 2) uint32 (neuron, step) or None
    if not recorded, v (steps, n_vrec) float32 and vrec (the recorded neurons), clipped, and
    budget: the real-time budget's {"steps_over", "worst_step"} (None when not known)."""

    def __init__(self, label, size, spikes, vrec, v, clipped, budget=None):
        self.label, self.size, self.spikes, self.vrec, self.v = label, size, spikes, vrec, v
        self.clipped, self.budget = clipped, budget


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
            budget = ({"steps_over": q.steps_over, "worst_step": q.worst_permille / 1000.0}
                      if r.has_budget else None)
            self.populations.append(Population(q.label.decode(), q.size, spikes, vrec, v,
                                               clipped, budget))
        # no PE-step over its real-time budget (docs/engine.md); None when not known
        self.real_time = (all(p.budget["steps_over"] == 0 for p in self.populations)
                          if r.has_budget else None)
        lib.s2_results_free(ptr)

    def population(self, label):
        for p in self.populations:
            if p.label == label:
                return p
        raise KeyError(label)

    @classmethod
    def read(cls, path, allow_partial=False):
        """Read a results file (.s2res, docs/results.md)."""
        rc = c_int(0)
        err = ctypes.create_string_buffer(ERRLEN)
        p = load().s2_results_read(_b(path), 1 if allow_partial else 0, ctypes.byref(rc), err,
                                   ERRLEN)
        if not p:
            msg = err.value.decode(errors="replace")
            if rc.value == S2_E_STATE:
                raise PartialRun(rc.value, msg, None)
            raise Error(rc.value, msg)
        return cls(p)


# ---- networks built in memory (s2/netbuild.h) ---------------------------------------------

DISTS = {"uniform": 0, "normal": 1, "normal_clipped": 2, "exponential": 3}


def _dist(d, what):
    """A distribution in the network format's form ({"dist": "normal", "mean": .., "sd": ..})
    as the library's structure."""
    keys = set(d) - {"dist", "low", "high", "mean", "sd"}
    if keys or d.get("dist") not in DISTS:
        raise Error(-15, "%s: %s is not a distribution (dist: %s; low, high, mean, sd)"
                    % (what, d, ", ".join(DISTS)))
    return NetbDist(kind=DISTS[d["dist"]], low=d.get("low", 0.0), high=d.get("high", 0.0),
                    mean=d.get("mean", 0.0), sd=d.get("sd", 0.0))


def _doubles(values):
    """values as a C-contiguous float64 NumPy array and a pointer to its data (the array
    must live as long as the pointer is used)."""
    import numpy as np
    a = np.ascontiguousarray(values, dtype=np.float64).ravel()
    return a, a.ctypes.data_as(_P(c_double))


def _u32s(values):
    import numpy as np
    a = np.asarray(values)
    if a.size and (a.min() < 0 or a.max() > 0xFFFFFFFF or
                   (a.dtype.kind == "f" and np.any(a != np.floor(a)))):
        raise Error(-8, "libs2: neuron indices must be whole numbers from 0 to 2^32-1")
    a = np.ascontiguousarray(a, dtype=np.uint32).ravel()
    return a, a.ctypes.data_as(_P(u32))


class Network(_Handle):
    """A network built in memory (s2/netbuild.h): no file, no text. Populations,
    projections and current sources are numbered from 0 in the order they are added; values
    are numbers, sequences or NumPy arrays (one per neuron, passed to the library by
    pointer and copied there) or distributions drawn on the machine ({"dist": "uniform",
    "low": .., "high": ..}, as in the JSON form). Every call raises Error naming the item on
    bad input (a population that does not exist, an array of the wrong length, an unknown
    name) and leaves the network as it was; what only the whole network shows is checked by
    Session.compile."""
    _free = "s2_netb_free"

    def __init__(self, name="network", timestep_ms=0.1, run_ms=1000.0, seed=1):
        h = load().s2_netb_new(_b(name), timestep_ms, run_ms, seed)
        if not h:
            raise Error(-11, "libs2: out of memory")
        self._h = h

    def set_run_ms(self, ms):
        """The run length of the network the next compile makes."""
        load().s2_netb_set_run_ms(self._h, ms)

    def population(self, label, model, size):
        return _call("s2_netb_population", self._h, _b(label), _b(model), size)

    def param(self, pop, name, value, initial=False):
        """A parameter (or, initial=True, the initial value of a state variable): one
        number, one per neuron, or a distribution (dict)."""
        if isinstance(value, dict):
            d = _dist(value, name)
            _call("s2_netb_pop_param_random", self._h, pop, _b(name), initial,
                  ctypes.byref(d))
            return
        a, p = _doubles(value)
        _call("s2_netb_pop_param", self._h, pop, _b(name), initial, p, a.size)

    def set(self, pop, name, value):
        """A number of a population: rate_hint_hz, max_per_pe."""
        _call("s2_netb_pop_set", self._h, pop, _b(name), float(value))

    def spike_times(self, pop, trains):
        """One sequence of times (ms, ascending) per neuron of a spike_source_array."""
        import numpy as np
        counts, pc = _u32s([len(t) for t in trains])
        flat = np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in trains]) \
            if len(trains) else np.zeros(0)
        times, pt = _doubles(flat)
        _call("s2_netb_pop_spike_times", self._h, pop, pc, counts.size, pt, times.size)

    def projection(self, pre, post, receptor="excitatory", label=None):
        return _call("s2_netb_projection", self._h, pre, post, _b(receptor), _b(label))

    def slice(self, proj, start, stop, post=False):
        _call("s2_netb_proj_slice", self._h, proj, post, start, stop)

    def connector(self, proj, type, **fields):
        """The connector (network-format type) and its scalar fields (p, n, allow_self,
        with_replacement)."""
        _call("s2_netb_proj_connector", self._h, proj, _b(type))
        for k, v in fields.items():
            _call("s2_netb_proj_connector_set", self._h, proj, _b(k), float(v))

    def connection_list(self, proj, pre, post, weight=None, delay=None):
        """A from_list connector's connections: pre and post indices, and per connection
        weights and delays (None: the projection's value)."""
        a, pa = _u32s(pre)
        z, pz = _u32s(post)
        if a.size != z.size:
            raise Error(-10, "libs2: connection list: %d pre and %d post indices"
                        % (a.size, z.size))
        keep = []
        ptrs = []
        for name, v in (("weight", weight), ("delay", delay)):
            if v is None:
                ptrs.append(None)
                continue
            arr, p = _doubles(v)
            if arr.size != a.size:
                raise Error(-10, "libs2: connection list: %d %ss for %d connections"
                            % (arr.size, name, a.size))
            keep.append(arr)
            ptrs.append(p)
        _call("s2_netb_proj_list", self._h, proj, pa, pz, ptrs[0], ptrs[1], a.size)

    def value(self, proj, field, value):
        """A projection's weight or delay: a number or a distribution (dict)."""
        if isinstance(value, dict):
            d = _dist(value, field)
            _call("s2_netb_proj_value_random", self._h, proj, _b(field), ctypes.byref(d))
            return
        a, p = _doubles(value)
        _call("s2_netb_proj_value", self._h, proj, _b(field), p, a.size)

    def synapse(self, proj, rule, **fields):
        """The synapse rule ("static", "stdp", "vogels2011", "tsodyks_markram") and its
        parameters by their network-format names (numbers; weight_dependence a name)."""
        _call("s2_netb_proj_synapse", self._h, proj, _b(rule))
        for k, v in fields.items():
            if isinstance(v, str):
                _call("s2_netb_proj_synapse_str", self._h, proj, _b(k), _b(v))
            else:
                _call("s2_netb_proj_synapse_set", self._h, proj, _b(k), float(v))

    def record(self, pop, variable, neurons=None, interval_ms=0.0):
        """Record variable of the neurons given (None or empty: all)."""
        a, p = _u32s(neurons if neurons is not None else [])
        _call("s2_netb_record", self._h, pop, _b(variable), p if a.size else None, a.size,
              interval_ms)

    def current_source(self, pop, kind, neurons=None, **fields):
        """A current source into the neurons given (None or empty: all); numbers and arrays
        (times_ms, amplitudes_na) by their network-format names."""
        a, p = _u32s(neurons if neurons is not None else [])
        cs = _call("s2_netb_csource", self._h, pop, _b(kind), p if a.size else None, a.size)
        for k, v in fields.items():
            if isinstance(v, (int, float)):
                _call("s2_netb_csource_set", self._h, cs, _b(k), float(v))
            else:
                arr, pv = _doubles(v)
                _call("s2_netb_csource_array", self._h, cs, _b(k), pv, arr.size)
        return cs

    def _finish(self):
        out = c_void_p()
        _call("s2_netb_finish", self._h, ctypes.byref(out))
        return out.value

    @classmethod
    def from_description(cls, net):
        """The network of a description in the JSON form's structure (docs/network.md) as
        Python objects -- dicts, lists, numbers, NumPy arrays -- built in memory: no text is
        written or parsed. A key the builder does not know raises Unknown naming it."""
        def known(d, what, keys):
            extra = [k for k in d if k not in keys]
            if extra:
                raise Unknown(-15, "libs2: %s: '%s' is not known to the network builder"
                              % (what, extra[0]))
        known(net, "network", ("format", "name", "timestep_ms", "run_ms", "seed",
                               "populations", "projections", "recordings",
                               "current_sources"))
        nb = cls(net.get("name", "network"), net["timestep_ms"], net["run_ms"],
                   int(net.get("seed", 0)))
        index = {}
        for i, p in enumerate(net.get("populations", [])):
            what = "populations[%d] (%s)" % (i, p.get("label"))
            known(p, what, ("label", "size", "model", "params", "initial", "spike_times",
                            "rate_hint_hz", "max_per_pe"))
            k = nb.population(p["label"], p["model"], p["size"])
            index[p["label"]] = k
            for initial, key in ((False, "params"), (True, "initial")):
                for name, v in p.get(key, {}).items():
                    nb.param(k, name, v, initial)
            if "spike_times" in p:
                nb.spike_times(k, p["spike_times"])
            for key in ("rate_hint_hz", "max_per_pe"):
                if key in p:
                    nb.set(k, key, p[key])

        def pop(label, what):
            if label not in index:
                raise Error(-15, "libs2: %s: population '%s' does not exist" % (what, label))
            return index[label]
        for i, j in enumerate(net.get("projections", [])):
            what = "projections[%d] (%s->%s)" % (i, j.get("pre"), j.get("post"))
            known(j, what, ("label", "pre", "post", "pre_slice", "post_slice", "connector",
                            "weight", "delay", "receptor", "synapse"))
            k = nb.projection(pop(j["pre"], what), pop(j["post"], what),
                                j.get("receptor", "excitatory"), j.get("label"))
            for key, post in (("pre_slice", False), ("post_slice", True)):
                if key in j:
                    nb.slice(k, j[key][0], j[key][1], post)
            c = dict(j["connector"]) if "connector" in j else None
            if c is not None:
                t = c.pop("type")
                if t == "from_list":
                    known(c, what + ".connector", ("pre", "post", "weight", "delay"))
                    nb.connector(k, t)
                    nb.connection_list(k, c["pre"], c["post"], c.get("weight"),
                                         c.get("delay"))
                else:
                    known(c, what + ".connector", ("p", "n", "allow_self", "with_replacement"))
                    nb.connector(k, t, **c)
            for key in ("weight", "delay"):
                if key in j:
                    nb.value(k, key, j[key])
            if "synapse" in j:
                syn = j["synapse"]
                if isinstance(syn, str):
                    nb.synapse(k, syn)
                else:
                    syn = dict(syn)
                    rule = syn.pop("rule")
                    known(syn, what + ".synapse", _SYNAPSE_FIELDS)
                    nb.synapse(k, rule, **syn)
        for i, r in enumerate(net.get("recordings", [])):
            what = "recordings[%d]" % i
            known(r, what, ("population", "variable", "neurons", "interval_ms"))
            nb.record(pop(r["population"], what), r["variable"], r.get("neurons"),
                        r.get("interval_ms", 0.0))
        for i, c in enumerate(net.get("current_sources", [])):
            what = "current_sources[%d]" % i
            c = dict(c)
            target = pop(c.pop("population"), what)
            kind = c.pop("kind")
            neurons = c.pop("neurons", None)
            known(c, what, ("amplitude_na", "start_ms", "stop_ms", "offset_na", "frequency_hz",
                            "phase_deg", "mean_na", "stdev_na", "interval_ms", "times_ms",
                            "amplitudes_na"))
            nb.current_source(target, kind, neurons, **c)
        return nb


_SYNAPSE_FIELDS = ("weight_dependence", "w_min", "w_max", "tau_plus_ms", "tau_minus_ms",
                   "a_plus", "a_minus", "dendritic_delay_fraction", "u", "tau_rec_ms",
                   "tau_facil_ms", "tau_ms", "eta", "rho_hz")


class Unknown(Error):
    """A network description holds something the in-memory builder does not know (a newer
    part of the format); Session.compile_json still takes it."""
