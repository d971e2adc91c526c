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
