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


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    s2_model = "lif_curr_exp"
    translations = build_translations(*_LIF)
    s2_state = {'v': 'v_mv', 'isyn_exc': 'isyn_e_na', 'isyn_inh': 'isyn_i_na'}


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    s2_model = "lif_cond_exp"
    translations = build_translations(*_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    s2_model = "lif_curr_alpha"
    translations = build_translations(*_LIF)
    s2_state = {'v': 'v_mv', 'isyn_exc': 'isyn_e_na', 'isyn_inh': 'isyn_i_na'}


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    s2_model = "lif_cond_alpha"
    translations = build_translations(*_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    s2_model = "lif_curr_delta"
    translations = build_translations(*[t for t in _LIF if not t[0].startswith("tau_syn")])
    s2_state = {'v': 'v_mv'}


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    s2_model = "adex_cond_exp"
    translations = build_translations(
        *_LIF, ('e_rev_E', 'e_rev_e_mv'), ('e_rev_I', 'e_rev_i_mv'), ('v_spike', 'v_spike_mv'),
        ('a', 'a_ns'), ('b', 'b_na'), ('delta_T', 'delta_t_mv'), ('tau_w', 'tau_w_ms'))
    s2_state = {'v': 'v_mv', 'gsyn_exc': 'gsyn_e_us', 'gsyn_inh': 'gsyn_i_us'}
    s2_state_zero = {'w'}  # starts at 0 on the PEs; another initial w is refused


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
