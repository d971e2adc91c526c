"""Connections known on the host (docs/pynn.md, "Reading connections back").

The PEs expand statistical connectors deterministically from the seeds the mapper gives
them, so the host computes the same synapses by compiling the network exactly as run()
does and starting every PE of the image with the host build of the same engine source:
`s2fw-run connections IMAGE -o FILE` (tools/s2fw-run/connections.c). The file lists every
key-table entry of every PE in the order the engine made it and the synapses of each; this
module assigns the entries to the script's projections and keeps the result until the
network changes.
"""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

from . import simulator
from .simulator import libs2

MAGIC = 0x4E433253
_ENTRY = np.dtype([("pe", "<u4"), ("post_pop", "<u4"), ("pre_pop", "<u4"), ("key_lo", "<u4"),
                   ("kind", "u1"), ("connector", "u1"), ("receptor", "u1"), ("pad", "u1"),
                   ("first", "<u4"), ("count", "<u4"), ("pad2", "<u4")])
_CONN = np.dtype([("pre", "<u4"), ("post", "<u4"), ("weight", "<f4"), ("delay", "<u2"),
                  ("receptor", "u1"), ("pad", "u1")])
# s2 connector of a projection description -> enum s2_pe_connector (0: explicit rows)
_KIND = {"all_to_all": 1, "one_to_one": 2, "fixed_probability": 3, "fixed_number_post": 4,
         "fixed_number_pre": 5, "fixed_total": 6, "from_list": 0}


def s2fw_run():
    """The s2fw-run program: $S2FW_RUN, else beside $S2CTL's build, else the source tree's
    build/host-debug, else on PATH (beside s2ctl)."""
    p = os.environ.get("S2FW_RUN")
    if p:
        return p
    cands = []
    if os.environ.get("S2CTL"):
        b = os.path.dirname(os.path.dirname(os.path.abspath(os.environ["S2CTL"])))
        cands.append(os.path.join(b, "tools", "s2fw-run"))
    cands.append(os.path.join(simulator._ROOT, "build", "host-debug", "tools", "s2fw-run"))
    s2ctl = shutil.which("s2ctl")
    if s2ctl:
        cands.append(os.path.join(os.path.dirname(os.path.realpath(s2ctl)), "s2fw-run"))
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    return shutil.which("s2fw-run") or cands[0]


def read_file(path):
    """(dt_ms, entries, connections) of a `s2fw-run connections` file; checks its bounds."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 32:
        raise simulator.S2RunError("pyNN.s2: %s: shorter than its header" % path)
    magic, version, n_ent, _n_pops = np.frombuffer(buf, "<u4", 4)
    n_conn = int(np.frombuffer(buf, "<u8", 1, 16)[0])
    dt = float(np.frombuffer(buf, "<f8", 1, 24)[0])
    if magic != MAGIC or version != 1:
        raise simulator.S2RunError("pyNN.s2: %s: not a connections file (version 1)" % path)
    need = 32 + int(n_ent) * _ENTRY.itemsize + n_conn * _CONN.itemsize
    if len(buf) != need:
        raise simulator.S2RunError("pyNN.s2: %s: %d bytes, its header says %d"
                                   % (path, len(buf), need))
    ent = np.frombuffer(buf, _ENTRY, int(n_ent), 32)
    con = np.frombuffer(buf, _CONN, n_conn, 32 + int(n_ent) * _ENTRY.itemsize)
    if np.any(ent["first"].astype(np.uint64) + ent["count"] > n_conn):
        raise simulator.S2RunError("pyNN.s2: %s: an entry beyond the connections" % path)
    return dt, ent, con


def _assign(state, ent, con, dt):
    """Per projection (in state.projections order) its synapses: a structured array with
    pre and post (indices in the projection's pre and post, which may be views), weight
    (PyNN units and sign) and delay (ms), in the order the PEs hold them."""
    pops = {p._s2_label: k for k, p in enumerate(state.populations)}
    # the network's projections: one or more per script projection (its owner)
    owner = [j for j, prj in enumerate(state.projections) for _ in prj._s2_descriptions()]
    descs = [d for prj in state.projections for d in prj._s2_descriptions()]
    ends = [(pops[d["pre"]], pops[d["post"]]) for d in descs]
    parts = [[] for _ in descs]
    # Entries of one PE and one source run are made in projection order, explicit rows
    # first (image_put_pedata, s2_eng_init): the k-th such entry of a kind is the k-th
    # projection of that kind from the run's population into the PE's.
    order = np.lexsort((np.arange(len(ent)), ent["key_lo"], ent["pe"]))
    k = 0
    while k < len(order):
        e0 = ent[order[k]]
        group = []
        while k < len(order) and ent[order[k]]["pe"] == e0["pe"] and \
                ent[order[k]]["key_lo"] == e0["key_lo"]:
            group.append(ent[order[k]])
            k += 1
        cands = [j for j, (a, b) in enumerate(ends)
                 if a == e0["pre_pop"] and b == e0["post_pop"]]
        expl = [j for j in cands if descs[j]["connector"]["type"] == "from_list"]
        stat = [j for j in cands if descs[j]["connector"]["type"] != "from_list"]
        ge = [g for g in group if g["kind"] == 0]
        gs = [g for g in group if g["kind"] == 1]
        if len(ge) != len(expl) or len(gs) != len(stat):
            raise simulator.S2RunError(
                "pyNN.s2: the compiled image does not match the script's projections "
                "(PE %d: %d/%d explicit, %d/%d expanded)"
                % (e0["pe"], len(ge), len(expl), len(gs), len(stat)))
        for j, g in list(zip(expl, ge)) + list(zip(stat, gs)):
            if g["kind"] == 1 and (g["connector"] != _KIND[descs[j]["connector"]["type"]] or
                                   g["receptor"] != (descs[j]["receptor"] == "inhibitory")):
                raise simulator.S2RunError(
                    "pyNN.s2: the compiled image does not match projection %s"
                    % state.projections[owner[j]].label)
            parts[j].append(con[g["first"]:g["first"] + g["count"]])
    out = []
    for j, prj in enumerate(state.projections):
        mine = [c for i, o in enumerate(owner) if o == j for c in parts[i]]
        c = np.concatenate(mine) if mine else np.zeros(0, _CONN)
        d = prj._s2_description()
        pre_lo = d.get("pre_slice", [0])[0]
        post_lo = d.get("post_slice", [0])[0]
        post = prj.post.grandparent if hasattr(prj.post, "grandparent") else prj.post
        inh = d["receptor"] == "inhibitory"
        sign = -1.0 if inh and not post.celltype.conductance_based else 1.0
        a = np.zeros(len(c), [("pre", "i8"), ("post", "i8"), ("weight", "f8"),
                              ("delay", "f8")])
        a["pre"] = c["pre"].astype(np.int64) - pre_lo
        a["post"] = c["post"].astype(np.int64) - post_lo
        a["weight"] = sign * c["weight"].astype(np.float64)
        a["delay"] = c["delay"] * float(dt)
        # PyNN lists connections by post neuron, then pre neuron (the other backends)
        out.append(a[np.lexsort((a["pre"], a["post"]))])
    return out


def _plastic(state):
    return any("synapse" in prj._s2_description() for prj in state.projections)


def connections_of(prj):
    """The synapses of Projection prj on the machine (see _assign); computed once per
    network: compile, then `s2fw-run connections`. With plastic synapses and a network that
    has run, the weights the machine learned: its plastic rows read back from chip DRAM
    (libs2 s2_deployment_read_dram) and decoded by the same tool (docs/pynn.md)."""
    state = simulator.state
    net = state.network_json(state.dt)
    key = json.dumps({"network": {k: v for k, v in net.items() if k != "run_ms"},
                      "machine": state.machine}, sort_keys=True)
    cache = getattr(state, "_s2_connections", None)
    if cache is None or cache[0] != key:
        cache = (key,) + _compute(state, net)
        state._s2_connections = cache
    out = cache[1]
    dep = getattr(state, "_deployment", None)
    if dep is not None and state.t > 0 and cache[2] and _plastic(state):
        learned = getattr(state, "_s2_learned", None)
        if learned is None or learned[0] != (key, state.t):
            learned = ((key, state.t), _learned(state, dep, cache[3], cache[2]))
            state._s2_learned = learned
        out = learned[1]
    return out[state.projections.index(prj)]


def _run_tool(state, cmd):
    """Runs one s2 program; its failure is an S2RunError naming it and what it said. Returns
    its standard output."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=state._env())
    if r.returncode != 0:
        raise simulator.S2RunError("pyNN.s2: %s failed (exit %d): %s"
                                   % (" ".join(cmd[:2]), r.returncode,
                                      (r.stderr or r.stdout).strip()))
    return r.stdout


def _compute(state, net):
    wd = tempfile.mkdtemp(prefix="pynn_s2_conn.")
    try:
        jpath = os.path.join(wd, "network.json")
        with open(jpath, "w") as f:
            json.dump(net, f)
        s2ctl = simulator._find_tool("S2CTL", os.path.join("host", "s2ctl"))
        machine = state.machine or state._start_emulator()
        pb, img, cn = (os.path.join(wd, x) for x in ("network.pb", "network.s2img", "conn.bin"))
        _run_tool(state, [s2ctl, "net", "convert", jpath, "-o", pb, "--quiet"])
        _run_tool(state, [s2ctl, "compile", pb, "--machine", machine, "-o", img, "--quiet"] +
                  (["--allow-slow"] if state.allow_slow else []))
        tool = s2fw_run()
        if not os.access(tool, os.X_OK):
            raise simulator.S2RunError("pyNN.s2: s2fw-run not found at %s (set S2FW_RUN)"
                                       % tool)
        ar = os.path.join(wd, "areas.txt")
        _run_tool(state, [tool, "connections", img, "-o", cn, "-a", ar])
        dt, ent, con = read_file(cn)
        with open(ar) as f:
            areas = [tuple(int(x) for x in line.split()) for line in f if line.strip()]
        with open(img, "rb") as f:
            image = f.read()
        return _assign(state, ent, con, dt), areas, image
    finally:
        shutil.rmtree(wd, ignore_errors=True)


_PLASTIC_LOSSES = {
    "zero": "deliveries of a plastic weight above 0 rounded to 0 units of the receptor's "
            "weight unit (w_max far below the largest weight onto the population)",
    "clipped": "plastic weights or traces clipped at their fixed-point maximum",
    "hist_lost": "synapse updates missed a post spike that had left the 16-spike history",
    "queue_full": "axonal pre spikes applied early: their step's queue of 32 was full",
}


def _warn_plastic(state, out):
    """Warn about what the machine's plasticity counted (docs/engine.md, Plasticity): when a
    count first appears, then each time it has doubled (a script reading the weights every
    millisecond gets a few warnings, not one per read)."""
    import warnings
    f = out.split()
    if len(f) >= 11 and f[0] == "plastic":
        c = {f[k]: int(f[k + 1]) for k in range(1, 11, 2)}
        seen = state.__dict__.setdefault("_s2_plastic_warned", {})
        for k, why in _PLASTIC_LOSSES.items():
            if c.get(k) and c[k] >= 2 * seen.get(k, 0) and c[k] != seen.get(k):
                seen[k] = c[k]
                warnings.warn("pyNN.s2: %d %s" % (c[k], why), RuntimeWarning, stacklevel=5)


def _learned(state, dep, image, areas):
    """The synapses with the weights the machine holds now: every plastic PE's rows read
    from chip DRAM ((pe, board, chip, addr, len) of `s2fw-run connections -a`), then the
    image's connections with those rows (`-d`)."""
    wd = tempfile.mkdtemp(prefix="pynn_s2_learned.")
    try:
        img, cn = os.path.join(wd, "network.s2img"), os.path.join(wd, "conn.bin")
        with open(img, "wb") as f:
            f.write(image)
        for pe, board, chip, addr, n in areas:
            try:
                data = dep.read_dram(board, chip, addr, n)
            except libs2.Error as e:
                raise simulator.S2RunError("pyNN.s2: reading the learned weights: %s" % e) \
                    from None
            with open(os.path.join(wd, "pe%d.bin" % pe), "wb") as f:
                f.write(data)
        out = _run_tool(state, [s2fw_run(), "connections", img, "-o", cn, "-d", wd])
        _warn_plastic(state, out)
        dt, ent, con = read_file(cn)
        return _assign(state, ent, con, dt)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
