"""Standard cell and synapse types of pyNN.s2: native names are the s2 network-format names."""
from pyNN.standardmodels import cells, synapses, build_translations
from .simulator import state


# PyNN's LIF parameters and their s2 names (units as PyNN's: ms, nF, mV, nA)
_LIF = (
    ('tau_m', 'tau_m_ms'),
    ('cm', 'cm_nf'),
    ('v_rest', 'v_rest_mv'),
    ('v_thresh', 'v_thresh_mv'),
    ('v_reset', 'v_reset_mv'),
    ('tau_refrac', 'tau_refrac_ms'),
    ('i_offset', 'i_offset_na'),
    ('tau_syn_E', 'tau_syn_e_ms'),
    ('tau_syn_I', 'tau_syn_i_ms'),
)


# The engine's recorded variables (pedata.h RECORD_V; s2 network variable, variable index):
# v, the synaptic currents (nA) or conductances (uS), Izhikevich's u, AdEx's w (nA).
_REC_CURR = {'v': ('v_mv', 0), 'isyn_exc': ('isyn_e_na', 1), 'isyn_inh': ('isyn_i_na', 2)}
_REC_COND = {'v': ('v_mv', 0), 'gsyn_exc': ('gsyn_e_us', 1), 'gsyn_inh': ('gsyn_i_us', 2)}


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    s2_model = "lif_curr_exp"
    translations = build_translations(*_LIF)
    s2_state = {'v': 'v_mv', 'isyn_exc': 'isyn_e_na', 'isyn_inh': 'isyn_i_na'}
    s2_record = _REC_CURR


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    s2_model = "lif_cond_exp"
    translations = build_translations(*_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    s2_record = _REC_COND


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    s2_model = "lif_curr_alpha"
    translations = build_translations(*_LIF)
    s2_state = {'v': 'v_mv', 'isyn_exc': 'isyn_e_na', 'isyn_inh': 'isyn_i_na'}
    s2_record = _REC_CURR


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    s2_model = "lif_cond_alpha"
    translations = build_translations(*_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    s2_record = _REC_COND


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    s2_model = "lif_curr_delta"
    translations = build_translations(*[t for t in _LIF if not t[0].startswith("tau_syn")])
    s2_state = {'v': 'v_mv'}
    s2_record = {'v': ('v_mv', 0)}


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    s2_model = "adex_cond_exp"
    translations = build_translations(
        *_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'), ('v_spike', 'v_spike_mv'),
        ('a', 'a_ns'), ('b', 'b_na'), ('delta_T', 'delta_t_mv'), ('tau_w', 'tau_w_ms'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    s2_record = _REC_COND
    s2_state_zero = {'w'}  # starts at 0 on the PEs; another initial w is refused
    s2_record = dict(_REC_COND, w=('w_na', 4))


class HH_cond_exp(cells.HH_cond_exp):
    __doc__ = cells.HH_cond_exp.__doc__
    s2_model = "hh_cond_exp"
    translations = build_translations(
        ('gbar_Na', 'gbar_na_us'), ('gbar_K', 'gbar_k_us'), ('g_leak', 'g_leak_us'),
        ('cm', 'cm_nf'), ('v_offset', 'v_offset_mv'), ('e_rev_Na', 'e_rev_na_mv'),
        ('e_rev_K', 'e_rev_k_mv'), ('e_rev_leak', 'e_rev_leak_mv'), ('e_rev_E', 'e_rev_e_mv'),
        ('e_rev_I', 'e_rev_i_mv'), ('tau_syn_E', 'tau_syn_e_ms'), ('tau_syn_I', 'tau_syn_i_ms'),
        ('i_offset', 'i_offset_na'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    # the gates start at PyNN's initial values on the PEs; other initial values are refused
    s2_state_fixed = {'m': 0.0, 'h': 1.0, 'n': 0.0}
    s2_record = _REC_COND


class IF_cond_exp_gsfa_grr(cells.IF_cond_exp_gsfa_grr):
    __doc__ = cells.IF_cond_exp_gsfa_grr.__doc__
    s2_model = "lif_cond_exp_gsfa_grr"
    translations = build_translations(
        *_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'), ('tau_sfa', 'tau_sfa_ms'),
        ('e_rev_sfa', 'e_rev_sfa_mv'), ('q_sfa', 'q_sfa_ns'), ('tau_rr', 'tau_rr_ms'),
        ('e_rev_rr', 'e_rev_rr_mv'), ('q_rr', 'q_rr_ns'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    s2_state_fixed = {'g_s': 0.0, 'g_r': 0.0}  # start at 0 on the PEs
    s2_record = dict(_REC_COND, g_s=('g_s_ns', 4), g_r=('g_r_ns', 5))


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    s2_model = "izhikevich"
    translations = build_translations(
        ('a', 'a'),
        ('b', 'b'),
        ('c', 'c_mv'),
        ('d', 'd'),
        ('i_offset', 'i_offset_na'),
    )
    s2_state = {'v': 'v_mv', 'u': 'u'}
    s2_record = {'v': ('v_mv', 0), 'u': ('u', 1)}


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    s2_model = "spike_source_poisson"
    translations = build_translations(
        ('rate', 'rate_hz'),
        ('start', 'start_ms'),
        ('duration', 'duration_ms'),
    )
    s2_state = {}


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    s2_model = "spike_source_array"
    translations = build_translations(
        ('spike_times', 'spike_times'),
    )
    s2_state = {}


# Renewal sources drawn on the host (docs/pynn.md, "Spike sources drawn on the host"): each
# neuron's train is drawn from its own seeded stream (the network's seed, the population,
# the neuron), in the PyNN parameters' units, and travels as a spike_source_array, so the
# PEs send exactly these spikes. The draw is deterministic and extends, never changes, as the
# run goes on (run(a); run(b) equals run(a + b)).

def _renewal_trains(p, n, seed, pop_index, horizon_ms, first_isi, isi):
    """One ascending train per neuron: spikes at start + sum of ISIs, before
    min(start + duration, horizon_ms). p: per-neuron arrays of PyNN parameters; isi(rng, k,
    i) draws k intervals (ms) of neuron i."""
    import numpy as np
    out = []
    for i in range(n):
        start, end = float(p["start"][i]), float(p["start"][i] + p["duration"][i])
        end = min(end, horizon_ms)
        rng = np.random.default_rng([int(seed), int(pop_index), i, 0x5C2])
        if not first_isi(i) or end <= start:
            out.append(np.zeros(0))
            continue
        t, parts = start, []
        while t < end:  # fixed chunks: the same stream whatever the horizon
            x = start + np.cumsum(isi(rng, 256, i)) if not parts else \
                parts[-1][-1] + np.cumsum(isi(rng, 256, i))
            parts.append(x)
            t = x[-1]
        tr = np.concatenate(parts)
        out.append(tr[tr < end])
    return out


def _check_source(kind, p, label, rules):
    """Refuse a host-drawn spike source's parameters, naming its population and the
    parameter: rules are (name, per-neuron truth, what it must be), then start and duration
    (0 or above, as every such source)."""
    from pyNN.errors import InvalidParameterValueError
    import numpy as np
    for name, ok, must in list(rules) + [("start", p["start"] >= 0, "0 or above"),
                                         ("duration", p["duration"] >= 0, "0 or above")]:
        if not np.all(ok):
            raise InvalidParameterValueError(
                "pyNN.s2: %s '%s': %s must be %s" % (kind, label, name, must))


class SpikeSourceGamma(cells.SpikeSourceGamma):
    __doc__ = cells.SpikeSourceGamma.__doc__ + """
    pyNN.s2: drawn on the host (intervals Gamma(alpha, 1/beta), a renewal process from
    `start`), sent as a spike array."""
    s2_model = "spike_source_array"
    translations = build_translations(
        ('alpha', 'alpha'),
        ('beta', 'beta'),
        ('start', 'start'),
        ('duration', 'duration'),
    )
    s2_state = {}

    @staticmethod
    def s2_check(p, label):
        _check_source("SpikeSourceGamma", p, label,
                      [("alpha", p["alpha"] > 0, "above 0"),
                       ("beta", p["beta"] >= 0, "0 or above")])

    @staticmethod
    def s2_draw(p, n, seed, pop_index, horizon_ms):
        return _renewal_trains(
            p, n, seed, pop_index, horizon_ms, lambda i: p["beta"][i] > 0,
            lambda rng, k, i: rng.gamma(p["alpha"][i], 1000.0 / p["beta"][i], k))


class SpikeSourcePoissonRefractory(cells.SpikeSourcePoissonRefractory):
    __doc__ = cells.SpikeSourcePoissonRefractory.__doc__ + """
    pyNN.s2: drawn on the host (intervals tau_refrac + an exponential of mean
    1000/rate - tau_refrac ms, so the rate counts the dead time, as NEST's
    poisson_generator_ps), sent as a spike array."""
    s2_model = "spike_source_array"
    translations = build_translations(
        ('rate', 'rate'),
        ('tau_refrac', 'tau_refrac'),
        ('start', 'start'),
        ('duration', 'duration'),
    )
    s2_state = {}

    @staticmethod
    def s2_check(p, label):
        _check_source("SpikeSourcePoissonRefractory", p, label,
                      [("rate", p["rate"] >= 0, "0 or above"),
                       ("tau_refrac", p["tau_refrac"] >= 0, "0 or above"),
                       ("rate", p["rate"] * p["tau_refrac"] < 1000.0,
                        "below 1000/tau_refrac Hz (the dead time alone allows no more)")])

    @staticmethod
    def s2_draw(p, n, seed, pop_index, horizon_ms):
        return _renewal_trains(
            p, n, seed, pop_index, horizon_ms, lambda i: p["rate"][i] > 0,
            lambda rng, k, i: p["tau_refrac"][i] + rng.exponential(
                1000.0 / p["rate"][i] - p["tau_refrac"][i], k))


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
    )

    def _get_minimum_delay(self):
        d = state.min_delay
        if d == 'auto':
            d = state.dt
        return d


# --- Plastic synapses (docs/pynn.md "Plastic synapses", docs/engine.md "Plasticity") -------
# Refused at creation, naming the class, the parameter and the reason (a ValueError).

def _check(owner, ps, rules):
    """rules: (name, predicate, what it must be); ps: the translated ParameterSpace or a dict
    of PyNN names."""
    from pyNN.errors import InvalidParameterValueError
    for name, ok, must in rules:
        v = ps[name]
        v = getattr(v, "base_value", v)
        if isinstance(v, (int, float)) and not ok(float(v)):
            raise InvalidParameterValueError(
                "pyNN.s2: %s: %s = %r: must be %s" % (owner, name, v, must))


def _scalar(owner, name, v):
    """One value per projection: the engine holds one rule per projection."""
    v = getattr(v, "base_value", v)
    if not isinstance(v, (int, float)):
        from .simulator import NotSupportedError
        raise NotSupportedError("pyNN.s2: %s: %s must be one number for the projection, not %s"
                                % (owner, name, type(v).__name__))
    return float(v)


def _params(obj):
    return {k: getattr(v, "base_value", v) for k, v in obj.parameter_space.items()}


class _WeightDependence:
    def __init__(self, w_min=0.0, w_max=1.0):
        super().__init__(w_min=w_min, w_max=w_max)
        p = _params(self)
        name = type(self).__name__
        _check(name, p, [("w_min", lambda x: x >= 0, ">= 0 (a bound of |weight|)"),
                         ("w_max", lambda x: x > 0, "> 0")])
        if isinstance(p["w_min"], (int, float)) and isinstance(p["w_max"], (int, float)) and \
                p["w_min"] > p["w_max"]:
            from pyNN.errors import InvalidParameterValueError
            raise InvalidParameterValueError(
                "pyNN.s2: %s: w_min = %r is above w_max = %r" % (name, p["w_min"], p["w_max"]))


class AdditiveWeightDependence(_WeightDependence, synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    s2_dependence = "additive"
    translations = build_translations(('w_max', 'w_max'), ('w_min', 'w_min'))


class MultiplicativeWeightDependence(_WeightDependence, synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    s2_dependence = "multiplicative"
    translations = build_translations(('w_max', 'w_max'), ('w_min', 'w_min'))


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    s2_rule = "stdp"
    translations = build_translations(
        ('tau_plus', 'tau_plus_ms'),
        ('tau_minus', 'tau_minus_ms'),
        ('A_plus', 'a_plus'),
        ('A_minus', 'a_minus'),
    )

    def __init__(self, tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.01):
        super().__init__(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus,
                         A_minus=A_minus)
        _check("SpikePairRule", _params(self),
               [("tau_plus", lambda x: x > 0, "> 0 ms"), ("tau_minus", lambda x: x > 0, "> 0 ms"),
                ("A_plus", lambda x: x >= 0, ">= 0"), ("A_minus", lambda x: x >= 0, ">= 0")])


class Vogels2011Rule(synapses.Vogels2011Rule):
    __doc__ = synapses.Vogels2011Rule.__doc__
    s2_rule = "vogels2011"
    translations = build_translations(('tau', 'tau_ms'), ('eta', 'eta'), ('rho', 'rho_hz'))

    def __init__(self, tau=20.0, eta=1e-10, rho=3.0):
        super().__init__(tau=tau, eta=eta, rho=rho)
        _check("Vogels2011Rule", _params(self),
               [("tau", lambda x: x > 0, "> 0 ms"), ("eta", lambda x: x >= 0, ">= 0"),
                ("rho", lambda x: x >= 0, ">= 0 Hz")])


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
        ('dendritic_delay_fraction', 'dendritic_delay_fraction'),
    )

    def __init__(self, timing_dependence=None, weight_dependence=None,
                 voltage_dependence=None, dendritic_delay_fraction=1.0, weight=0.0,
                 delay=None):
        from pyNN.errors import InvalidParameterValueError
        if not isinstance(timing_dependence, (SpikePairRule, Vogels2011Rule)):
            raise InvalidParameterValueError(
                "pyNN.s2: STDPMechanism: timing_dependence %s is not supported (pyNN.s2 has "
                "SpikePairRule, Vogels2011Rule)" % type(timing_dependence).__name__)
        if not isinstance(weight_dependence, (AdditiveWeightDependence,
                                              MultiplicativeWeightDependence)):
            raise InvalidParameterValueError(
                "pyNN.s2: STDPMechanism: weight_dependence %s is not supported (pyNN.s2 has "
                "AdditiveWeightDependence, MultiplicativeWeightDependence)"
                % type(weight_dependence).__name__)
        if isinstance(timing_dependence, Vogels2011Rule) and \
                not isinstance(weight_dependence, AdditiveWeightDependence):
            raise InvalidParameterValueError(
                "pyNN.s2: STDPMechanism: Vogels2011Rule takes AdditiveWeightDependence (its "
                "bounds), not %s" % type(weight_dependence).__name__)
        if voltage_dependence is not None:
            raise InvalidParameterValueError(
                "pyNN.s2: STDPMechanism: a voltage_dependence is not supported")
        if dendritic_delay_fraction not in (0, 1):
            raise InvalidParameterValueError(
                "pyNN.s2: STDPMechanism: dendritic_delay_fraction = %r: must be 0 (axonal, as "
                "pyNN.brian2) or 1 (dendritic, PyNN's default)" % (dendritic_delay_fraction,))
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         dendritic_delay_fraction, weight, delay)

    def _get_minimum_delay(self):
        d = state.min_delay
        if d == 'auto':
            d = state.dt
        return d

    def s2_synapse(self):
        """The network format's "synapse" object (docs/network.md)."""
        out = {"rule": self.timing_dependence.s2_rule}
        if out["rule"] == "stdp":
            out["weight_dependence"] = self.weight_dependence.s2_dependence
        for k, v in self.native_parameters.items():
            if k not in ("weight", "delay"):
                out[k] = _scalar(type(self).__name__, k, v)
        return out


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
        ('U', 'u'),
        ('tau_rec', 'tau_rec_ms'),
        ('tau_facil', 'tau_facil_ms'),
    )

    def __init__(self, **parameters):
        super().__init__(**parameters)
        _check("TsodyksMarkramSynapse", _params(self),
               [("U", lambda x: 0 < x <= 1, "in (0, 1]"),
                ("tau_rec", lambda x: x > 0, "> 0 ms"),
                ("tau_facil", lambda x: x >= 0, ">= 0 ms")])

    def _get_minimum_delay(self):
        d = state.min_delay
        if d == 'auto':
            d = state.dt
        return d

    def s2_synapse(self):
        out = {"rule": "tsodyks_markram"}
        for k, v in self.native_parameters.items():
            if k not in ("weight", "delay"):
                out[k] = _scalar(type(self).__name__, k, v)
        return out
