"""Projections of pyNN.s2: the connector travels as an s2 connector descriptor (expanded on
the machine); the host computes the same connections with the engine's own expansion code
when the script asks for them (connections.py)."""
import numpy as np
from pyNN import common, errors, connectors
from pyNN.space import Space
from pyNN.random import RandomDistribution
from . import simulator
from .simulator import NotSupportedError
from .standardmodels import StaticSynapse, STDPMechanism, TsodyksMarkramSynapse

# The longest delay (synaptic word, pedata.h S2_PE_MAX_DELAY_WORD); beyond 64 steps the
# mapper puts fewer neurons on a PE (docs/engine.md, "Delays").
MAX_DELAY_STEPS = 256

_DISTS = {"uniform", "normal", "normal_clipped", "exponential"}
_CONNECTORS = ("OneToOneConnector", "AllToAllConnector", "FixedProbabilityConnector",
               "FixedNumberPreConnector", "FixedNumberPostConnector",
               "FixedTotalNumberConnector", "FromListConnector", "ArrayConnector")


def _base(v):
    """The value inside a LazyArray (or the value)."""
    return getattr(v, "base_value", v)


def _dist(rd, sign, what):
    name = rd.name
    p = dict(rd.parameters)
    if name not in _DISTS:
        raise NotSupportedError(
            "pyNN.s2: RandomDistribution '%s' for %s is not supported (supported: %s)"
            % (name, what, ", ".join(sorted(_DISTS))))
    if name == "uniform":
        lo, hi = sorted((sign * p["low"], sign * p["high"]))
        return {"dist": "uniform", "low": lo, "high": hi}
    if name == "normal":
        return {"dist": "normal", "mean": sign * p["mu"], "sd": p["sigma"]}
    if name == "normal_clipped":
        lo, hi = sorted((sign * p["low"], sign * p["high"]))
        return {"dist": "normal_clipped", "mean": sign * p["mu"], "sd": p["sigma"],
                "low": lo, "high": hi}
    if sign < 0:
        raise NotSupportedError("pyNN.s2: a negative exponential %s" % what)
    return {"dist": "exponential", "mean": p["beta"]}


def _value(v, sign, what):
    v = _base(v)
    if isinstance(v, RandomDistribution):
        return _dist(v, sign, what)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(sign * v)
    raise NotSupportedError(
        "pyNN.s2: %s of type %s is not supported (a number or a RandomDistribution; per-"
        "connection values only with FromListConnector)" % (what, type(v).__name__))


def _where(p):
    """(parent population, [start, stop) or None) of a Population or a contiguous view."""
    if isinstance(p, common.Assembly):
        raise NotSupportedError("pyNN.s2: projections from/to an Assembly")
    if isinstance(p, common.PopulationView):
        gp = p.grandparent
        idx = np.asarray(p.index_in_grandparent(np.arange(p.size))).ravel()
        if idx.size == 0 or np.any(np.diff(idx) != 1):
            raise NotSupportedError(
                "pyNN.s2: a PopulationView must be a contiguous ascending slice of its "
                "population")
        return gp, [int(idx[0]), int(idx[-1]) + 1]
    return p, None


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        for end in (presynaptic_population, postsynaptic_population):
            if isinstance(end, common.Assembly):
                raise NotSupportedError(
                    "pyNN.s2: a Projection from or to an Assembly (%s); make one Projection "
                    "per population of it" % end.label)
        post = postsynaptic_population
        post = getattr(post, "grandparent", post)
        if not getattr(getattr(post, "celltype", None), "s2_state", None):
            raise errors.ConnectionError(
                "pyNN.s2: the post population %s takes no synapses (a spike source)"
                % getattr(post, "label", post))
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if type(self.synapse_type) not in (StaticSynapse, STDPMechanism, TsodyksMarkramSynapse):
            raise NotSupportedError(
                "pyNN.s2: synapse type %s is not supported (pyNN.s2 has StaticSynapse, "
                "STDPMechanism, TsodyksMarkramSynapse)" % type(self.synapse_type).__name__)
        if self.receptor_type not in ("excitatory", "inhibitory"):
            raise NotSupportedError(
                "pyNN.s2: receptor_type '%s'" % self.receptor_type)
        self._s2 = self._describe()  # fail now, not at run()
        simulator.state.projections.append(self)

    def _describe(self):
        pre, pre_slice = _where(self.pre)
        post, post_slice = _where(self.post)
        if not getattr(post.celltype, "s2_state", None):
            raise errors.ConnectionError("pyNN.s2: post population %s takes no synapses"
                                         % post.label)
        inh = self.receptor_type == "inhibitory"
        # PyNN's current-based (and Izhikevich's voltage-jump) inhibitory weights are
        # negative; s2's are positive on the inhibitory receptor. Conductances are positive
        # on both receptors.
        sign = -1.0 if inh and not post.celltype.conductance_based else 1.0
        ps = self.synapse_type.native_parameters
        w, d = ps["weight"], ps["delay"]
        c = self._connector
        same = pre is post
        d_ = {"pre": pre._s2_label, "post": post._s2_label}
        if pre_slice:
            d_["pre_slice"] = pre_slice
        if post_slice:
            d_["post_slice"] = post_slice

        def allow(cn):
            a = getattr(cn, "allow_self_connections", True)
            if a == "NoMutual":
                raise NotSupportedError("pyNN.s2: allow_self_connections='NoMutual'")
            return bool(a) if same else True

        def n_of(cn):
            if not isinstance(cn.n, (int, np.integer)):
                raise NotSupportedError("pyNN.s2: %s with a random n"
                                                 % type(cn).__name__)
            return int(cn.n)

        t = type(c)
        if t is connectors.OneToOneConnector:
            conn = {"type": "one_to_one"}
        elif t is connectors.AllToAllConnector:
            conn = {"type": "all_to_all", "allow_self": allow(c)}
        elif t is connectors.FixedProbabilityConnector:
            conn = {"type": "fixed_probability", "p": c.p_connect, "allow_self": allow(c)}
        elif t is connectors.FixedNumberPreConnector:
            conn = {"type": "fixed_number_pre", "n": n_of(c), "allow_self": allow(c),
                    "with_replacement": bool(c.with_replacement)}
        elif t is connectors.FixedNumberPostConnector:
            conn = {"type": "fixed_number_post", "n": n_of(c), "allow_self": allow(c),
                    "with_replacement": bool(c.with_replacement)}
        elif t is connectors.FixedTotalNumberConnector:
            if same and not allow(c):
                raise NotSupportedError(
                    "pyNN.s2: FixedTotalNumberConnector with allow_self_connections=False")
            conn = {"type": "fixed_total", "n": n_of(c),
                    "with_replacement": bool(c.with_replacement)}
        elif t is connectors.FromListConnector:
            cl = np.asarray(c.conn_list, dtype=float).reshape(len(c.conn_list), -1)
            conn = {"type": "from_list", "pre": [int(x) for x in cl[:, 0]],
                    "post": [int(x) for x in cl[:, 1]]}
            for k, name in enumerate(c.column_names):
                if name not in ("weight", "delay"):
                    raise NotSupportedError("pyNN.s2: FromListConnector column '%s'"
                                                     % name)
                col = cl[:, 2 + k]
                if name == "weight":
                    conn["weight"] = [float(abs(x)) if inh else float(x) for x in col]
                else:
                    conn["delay"] = [float(x) for x in col]
        elif t is connectors.ArrayConnector:
            a = np.asarray(c.array, dtype=bool)
            if a.shape != (self.pre.size, self.post.size):
                raise errors.ConnectionError(
                    "pyNN.s2: ArrayConnector array of shape %s for %d x %d neurons"
                    % (a.shape, self.pre.size, self.post.size))
            pi, qi = np.nonzero(a)
            conn = {"type": "from_list", "pre": [int(x) for x in pi],
                    "post": [int(x) for x in qi]}
        else:
            raise NotSupportedError(
                "pyNN.s2: connector %s is not supported (supported: %s)"
                % (t.__name__, ", ".join(_CONNECTORS)))
        d_["connector"] = conn
        if "weight" not in conn:
            d_["weight"] = _value(w, sign, "weight")
            if isinstance(d_["weight"], float) and d_["weight"] < 0:
                raise errors.ConnectionError(
                    "pyNN.s2: weight %g onto %s (%s, %s): %s" % (
                        _base(w), post.label, type(post.celltype).__name__, self.receptor_type,
                        "conductances (uS) are positive on both receptors"
                        if post.celltype.conductance_based else
                        "excitatory weights are positive, inhibitory ones negative"))
        if "delay" not in conn:
            d_["delay"] = _value(d, 1.0, "delay")
        dt = simulator.state.dt
        for dl in ([d_["delay"]] if isinstance(d_.get("delay"), float) else []) + \
                list(conn.get("delay", [])):
            if not 0.5 <= dl / dt < MAX_DELAY_STEPS + 0.5:
                raise errors.ConnectionError(
                    "pyNN.s2: delay %g ms onto %s: the engine holds delays of 1-%d "
                    "timesteps (%g-%g ms at timestep %g ms)"
                    % (dl, post.label, MAX_DELAY_STEPS, dt, MAX_DELAY_STEPS * dt, dt))
        d_["receptor"] = self.receptor_type
        if type(self.synapse_type) is not StaticSynapse:
            d_["synapse"] = self._plastic(d_, post)
        return d_

    def _plastic(self, d_, post):
        """The "synapse" object of a plastic projection (docs/network.md), checked: one
        constant delay and |weight| within [w_min, w_max] for the learning rules."""
        syn = self.synapse_type.s2_synapse()
        name = self.label or "%s->%s" % (self.pre.label, post.label)
        if syn["rule"] == "tsodyks_markram":
            return syn
        delays = [d_["delay"]] if "delay" in d_ else d_["connector"].get("delay", [])
        if not all(isinstance(x, float) for x in delays) or len(set(delays)) > 1:
            raise errors.ConnectionError(
                "pyNN.s2: projection %s: a plastic projection takes one constant delay "
                "(the engine keeps one delay per plastic projection)" % name)
        ws = [d_["weight"]] if "weight" in d_ else d_["connector"].get("weight", [])
        for w in ws:
            if isinstance(w, float) and not (syn["w_min"] * (1 - 1e-9) <= abs(w) <=
                                             syn["w_max"] * (1 + 1e-9)):
                raise errors.ConnectionError(
                    "pyNN.s2: projection %s: weight %g is outside the weight dependence's "
                    "[w_min, w_max] = [%g, %g] (bounds of |weight|)"
                    % (name, w, syn["w_min"], syn["w_max"]))
        return syn

    def _s2_description(self):
        return self._s2

    # -- connections, computed on the host as the PEs draw them (connections.py) ---------
    def _s2_conns(self):
        from .connections import connections_of
        return connections_of(self)

    def __len__(self):
        return len(self._s2_conns())

    def __getitem__(self, i):
        c = self._s2_conns()[i]
        return Connection(int(c["pre"]), int(c["post"]), weight=float(c["weight"]),
                          delay=float(c["delay"]))

    @property
    def connections(self):
        """The synapses on the machine, as Connection objects (presynaptic_index,
        postsynaptic_index, weight, delay), by post neuron then pre neuron."""
        return [self[i] for i in range(len(self))]

    def _get_attributes_as_list(self, names):
        c = self._s2_conns()
        cols = []
        for name in names:
            key = {"presynaptic_index": "pre", "postsynaptic_index": "post"}.get(name, name)
            if key not in ("pre", "post", "weight", "delay"):
                raise NotSupportedError("pyNN.s2: Projection attribute '%s'" % name)
            cols.append(c[key].astype(int) if key in ("pre", "post") else c[key])
        return [tuple(x) for x in zip(*[col.tolist() for col in cols])]

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        c = self._s2_conns()
        idx = (c["pre"], c["post"])
        out = []
        for name in names:
            key = name[:-1] if name.endswith("s") else name
            if key not in ("weight", "delay"):
                raise NotSupportedError("pyNN.s2: Projection attribute '%s'" % name)
            v = c[key]
            if multiple_synapses in ("last", "first"):
                a = np.full((self.pre.size, self.post.size), np.nan)
                if multiple_synapses == "last":
                    a[idx] = v
                else:
                    a[c["pre"][::-1], c["post"][::-1]] = v[::-1]
            else:  # multapses: sum, min or max over the pair's synapses
                ufunc, init = {"sum": (np.add, 0.0), "min": (np.minimum, np.inf),
                               "max": (np.maximum, -np.inf)}[multiple_synapses]
                a = np.full((self.pre.size, self.post.size), init)
                ufunc.at(a, idx, v)
                present = np.zeros(a.shape, bool)
                present[idx] = True
                a[~present] = np.nan
            out.append(a)
        return out

    def set(self, **attributes):
        raise NotSupportedError("pyNN.s2: Projection.set")


class Connection(common.Connection):
    """One synapse as the machine holds it (weight rounded to the PE's weight unit, delay
    to whole timesteps)."""

    def __init__(self, pre, post, **attributes):
        self.presynaptic_index = pre
        self.postsynaptic_index = post
        for name, value in attributes.items():
            setattr(self, name, value)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)
