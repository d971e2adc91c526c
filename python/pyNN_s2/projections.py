"""Projections of pyNN.s2: a connector the PEs can expand travels as an s2 connector
descriptor (expanded on the machine); every other connector, and any connector whose weight
or delay is an expression of distance (PyNN's strings and callables), is expanded here on the
host by PyNN's own connector code (Connector.connect -> _convergent_connect) and travels as
an explicit list (docs/pynn.md, "Space, positions and distance"). Either way the host
computes the connections the machine holds with the engine's own expansion code when the
script asks for them (connections.py)."""
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
# Expanded on the PEs from a descriptor (docs/network.md), when their n, self-connection
# rule, weight and delay allow it.
_ON_PES = (connectors.OneToOneConnector, connectors.AllToAllConnector,
           connectors.FixedProbabilityConnector, connectors.FixedNumberPreConnector,
           connectors.FixedNumberPostConnector, connectors.FixedTotalNumberConnector)
# Explicit lists as they are.
_AS_LIST = (connectors.FromListConnector, connectors.ArrayConnector)


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
        why = self._s2_host_reason(c, w, d, same)
        if why:
            conn = self._s2_expand_on_host(why, sign)
            if not len(conn["pre"]):  # nothing connected: no values to take from the list
                d_["weight"], d_["delay"] = 0.0, float(simulator.state.dt)
                del conn["weight"], conn["delay"]
        elif t is connectors.OneToOneConnector:
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
        dls = np.concatenate([np.asarray([d_["delay"]] if isinstance(d_.get("delay"), float)
                                         else [], float),
                              np.asarray(conn.get("delay", []), float).ravel()])
        for dl in dls[~((dls / dt >= 0.5) & (dls / dt < MAX_DELAY_STEPS + 0.5))][:1]:
            raise errors.ConnectionError(
                "pyNN.s2: %s: delay %g ms onto %s: the engine holds delays of 1-%d "
                "timesteps (%g-%g ms at timestep %g ms)"
                % (self._s2_name(), dl, post.label, MAX_DELAY_STEPS, dt,
                   MAX_DELAY_STEPS * dt, dt))
        d_["receptor"] = self.receptor_type
        self._s2_parts = None
        if type(self.synapse_type) is not StaticSynapse:
            parts = self._s2_split_delays(d_)
            for part in parts:
                part["synapse"] = self._plastic(part, post)
            if len(parts) > 1:
                self._s2_parts = parts
                return parts[0]
        return d_

    def _s2_split_delays(self, d_):
        """A learning projection expanded on the host with several delays (PyNN's
        stdp_network: delay '0.1+0.001*d'): the engine keeps one delay per plastic
        projection, so it travels as one network projection per delay in whole timesteps,
        each holding the synapses of that delay (what the PEs would hold: delays are whole
        timesteps). Else [d_]."""
        conn = d_["connector"]
        dl = conn.get("delay")
        if conn["type"] != "from_list" or dl is None or not hasattr(dl, "dtype") or \
                self.synapse_type.s2_synapse()["rule"] == "tsodyks_markram":
            return [d_]
        dt = simulator.state.dt
        steps = np.floor(np.asarray(dl, float) / dt + 0.5).astype(np.int64)
        if len(np.unique(steps)) <= 1:
            return [d_]
        parts = []
        for k in np.unique(steps):
            m = steps == k
            part = dict(d_)
            part["connector"] = {"type": "from_list", "pre": conn["pre"][m],
                                 "post": conn["post"][m]}
            if "weight" in conn:
                part["connector"]["weight"] = conn["weight"][m]
            part["delay"] = float(k * dt)
            parts.append(part)
        return parts

    def _s2_descriptions(self):
        """The network projections this projection travels as (one, or one per delay:
        _s2_split_delays)."""
        return self._s2_parts or [self._s2]

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

    # -- connectors expanded on the host ---------------------------------------------------
    def _s2_name(self):
        return "projection '%s'" % (self.label or "%s->%s" % (self.pre.label, self.post.label))

    @staticmethod
    def _s2_host_reason(c, w, d, same):
        """Why connector c (with weight w and delay d) is expanded on the host, or None when
        the PEs expand it (or it is an explicit list already). The PEs have no positions and
        cannot run Python expressions, so distance rules and expressions of distance (or of
        indices) are expanded here; so are rules the PE expansion lacks (a random n,
        allow_self_connections='NoMutual', connectors other than the six it has)."""
        t = type(c)
        if t in _AS_LIST:
            return None
        for name, v in (("weight", w), ("delay", d)):
            if callable(_base(v)):
                return "its %s is an expression (%s)" % (name, getattr(
                    _base(v), "__name__", type(_base(v)).__name__))
        if t not in _ON_PES:
            return "the PEs have no %s" % t.__name__
        if same and getattr(c, "allow_self_connections", True) == "NoMutual":
            return "allow_self_connections='NoMutual'"
        if hasattr(c, "n") and not isinstance(c.n, (int, np.integer)):
            return "its n is random"
        return None

    def _s2_expand_on_host(self, why, sign):
        """Expand the connector with PyNN's own code (the connector's rng, PyNN's Space and
        positions, weights and delays evaluated as PyNN evaluates them) into a from_list.
        Anything the expansion or its values cannot be: ConnectionError naming the
        projection and the reason."""
        c = self._connector
        self._s2_rows = []
        if isinstance(c, connectors.DistanceDependentProbabilityConnector):
            self._s2_check_probability(c)
        try:
            c.connect(self)
        except (errors.ConnectionError, NotSupportedError) as e:
            raise type(e)("pyNN.s2: %s (%s, expanded on the host: %s): %s"
                          % (self._s2_name(), type(c).__name__, why, e)) from None
        except NotImplementedError as e:
            raise NotSupportedError("pyNN.s2: %s: %s cannot be expanded (%s)"
                                    % (self._s2_name(), type(c).__name__, str(e) or
                                       "PyNN does not implement its connect()")) from None
        except Exception as e:
            raise errors.ConnectionError(
                "pyNN.s2: %s: expanding %s on the host (%s) failed: %s: %s"
                % (self._s2_name(), type(c).__name__, why, type(e).__name__, e)) from None
        rows, self._s2_rows = self._s2_rows, None
        if rows:
            pre = np.concatenate([r[0] for r in rows])
            post = np.concatenate([r[1] for r in rows])
            w = np.concatenate([r[2] for r in rows]) * sign
            dl = np.concatenate([r[3] for r in rows])
        else:
            pre = post = np.zeros(0, np.int64)
            w = dl = np.zeros(0)
        for name, v in (("weight", w), ("delay", dl)):
            bad = ~np.isfinite(v)
            if np.any(bad):
                k = int(np.nonzero(bad)[0][0])
                raise errors.ConnectionError(
                    "pyNN.s2: %s: %d of its %d %ss are not finite numbers (the first: pre %d "
                    "-> post %d, %s = %r)" % (self._s2_name(), int(bad.sum()), len(v), name,
                                             pre[k], post[k], name, float(v[k] * (
                                                 sign if name == "weight" else 1))))
        if np.any(w < 0):
            k = int(np.nonzero(w < 0)[0][0])
            post_pop = getattr(self.post, "grandparent", self.post)
            raise errors.ConnectionError(
                "pyNN.s2: %s: weight %g (pre %d -> post %d) onto %s (%s): %s" % (
                    self._s2_name(), w[k] * sign, pre[k], post[k], post_pop.label,
                    self.receptor_type, "conductances (uS) are positive on both receptors"
                    if post_pop.celltype.conductance_based else
                    "excitatory weights are positive, inhibitory ones negative"))
        # arrays: handed to libs2's network builder as they are (simulator._compile)
        return {"type": "from_list", "pre": pre, "post": post, "weight": w, "delay": dl}

    def _s2_check_probability(self, c):
        """A distance expression of a probability must give numbers (NaN connects nothing in
        PyNN's comparison, silently): refused naming the projection."""
        try:
            p = c.distance_function(c._generate_distance_map(self))
            p = np.asarray(p.evaluate(simplify=False) if hasattr(p, "evaluate") else p,
                           dtype=float)
        except Exception as e:
            raise errors.ConnectionError(
                "pyNN.s2: %s: the distance expression %r of its "
                "DistanceDependentProbabilityConnector cannot be evaluated: %s: %s"
                % (self._s2_name(), c.d_expression, type(e).__name__, e)) from None
        if np.any(np.isnan(p)):
            raise errors.ConnectionError(
                "pyNN.s2: %s: the distance expression %r gives NaN for %d of the %d pairs "
                "(a probability must be a number)"
                % (self._s2_name(), c.d_expression, int(np.isnan(p).sum()), p.size))

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            **connection_parameters):
        """Called by PyNN's connectors (host expansion): pre indices of the projection's pre
        onto one post index, with native weight and delay (scalars or one per pre)."""
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        if pre.size == 0:
            return
        n = pre.size

        def col(name, default):
            v = connection_parameters.get(name, default)
            v = np.asarray(v.evaluate() if hasattr(v, "evaluate") else v, dtype=float)
            return np.broadcast_to(v.ravel() if v.size != 1 else v.reshape(()), (n,)).copy()

        self._s2_rows.append((pre, np.full(n, int(postsynaptic_index), np.int64),
                              col("weight", np.nan), col("delay", simulator.state.min_delay)))

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
