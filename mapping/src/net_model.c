/*
 * The neuron models the network format knows (docs/network.md): parameter and state names
 * with units in the name, defaults (PyNN's), allowed ranges, and the per-PE limits the
 * partitioner works with: memory, and the real-time budget's cycles per neuron update and
 * per synaptic event, measured on 2026-12-07 with bench/engine.sh (the Cortex-M4F build under
 * qemu-system-arm -icount, instructions taken as cycles; tests/mapping/budget_table.py checks
 * them against a fresh measurement). The firmware engine implements the same models.
 */
#include <stddef.h>
#include <string.h>

#include "net_internal.h"
#include "s2/error.h"
#include "s2/network.h"

#define BIG 1e12

static const struct net_model MODELS[MODEL__COUNT] =
        {
                {
                        .name = "lif_curr_exp",
                        .id = MODEL_LIF_CURR_EXP,
                        .n_params = 11,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 5.0, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 5.0, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                        {"bg_rate_hz", 0.0, 0.0, 1e7},
                                        {"bg_weight_na", 0.0, 0.0, 1e3},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"isyn_e_na", 0.0, -1e6, 1e6},
                                        {"isyn_i_na", 0.0, -1e6, 1e6},
                                },
                        .max_per_pe = 128,     /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 63.4, /* bench/engine.sh "model lif_curr_exp" */
                        .cycles_event = 27.1,  /* "inner loop" */
                        .sram_fixed = 16,      /* v, isyn_e, isyn_i, refractory count */
                        .has_synapses = true,
                },
                {
                        .name = "spike_source_poisson",
                        .id = MODEL_POISSON,
                        .n_params = 3,
                        .params =
                                {
                                        {"rate_hz", 1.0, 0.0, 1e6},
                                        {"start_ms", 0.0, 0.0, BIG},
                                        {"duration_ms", 1e10, 0.0, BIG},
                                },
                        .max_per_pe = 128,     /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 49.3, /* bench/engine.sh "model poisson" */
                        .cycles_event = 0,
                        .sram_fixed = 8, /* time to next spike, rate in ticks */
                },
                {
                        .name = "spike_source_array",
                        .id = MODEL_SPIKE_ARRAY,
                        .max_per_pe = 128,    /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 3.0, /* bench/engine.sh "model spike_array" */
                        .cycles_event = 0,
                        .sram_fixed = 8, /* spike count, read index */
                },
                {
                        .name = "lif_cond_exp",
                        .id = MODEL_LIF_COND_EXP,
                        .n_params = 13,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 5.0, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 5.0, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                        {"e_rev_e_mv", 0.0, -1e3, 1e3},
                                        {"e_rev_i_mv", -70.0, -1e3, 1e3},
                                        {"bg_rate_hz", 0.0, 0.0, 1e7},
                                        {"bg_weight_us", 0.0, 0.0, 1e6},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"gsyn_e_us", 0.0, 0.0, 1e6},
                                        {"gsyn_i_us", 0.0, 0.0, 1e6},
                                },
                        .max_per_pe = 128,      /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 113.0, /* bench/engine.sh "model lif_cond_exp" */
                        .cycles_event = 27.1,   /* "inner loop" */
                        .sram_fixed = 16,       /* v, g_e, g_i, refractory count */
                        .has_synapses = true,
                },
                {
                        .name = "izhikevich",
                        .id = MODEL_IZHIKEVICH,
                        .n_params = 5,
                        .params =
                                {
                                        {"a", 0.02, -1e3, 1e3},
                                        {"b", 0.2, -1e3, 1e3},
                                        {"c_mv", -65.0, -1e3, 1e3},
                                        {"d", 2.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                },
                        .n_state = 2,
                        .state =
                                {
                                        {"v_mv", -70.0, -1e3, 1e3},
                                        {"u", -14.0, -1e6, 1e6},
                                },
                        .max_per_pe = 128,       /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 5313.6, /* bench/engine.sh "model izhikevich" */
                        .cycles_event = 27.1,    /* "inner loop" */
                        .sram_fixed = 16,        /* v, u (as doubles) */
                        .has_synapses = true,
                },
                {
                        /* The generic discrete neuron NIR graphs are imported as (docs/nir.md):
                         * dimensionless coefficients computed by the importer. */
                        .name = "nir_neuron",
                        .id = MODEL_NIR_NEURON,
                        .n_params = 10,
                        .params =
                                {
                                        {"a_i", 0.0, 0.0, 1.0},
                                        {"g_i", 1.0, -1e9, 1e9},
                                        {"a_v", 1.0, 0.0, 1.0},
                                        {"b_v", 0.0, -1e9, 1e9},
                                        {"g_v", 1.0, -1e9, 1e9},
                                        {"bias", 0.0, -1e9, 1e9},
                                        {"v_thresh", 1.0, -1e9, 1e9},
                                        {"v_reset", 0.0, -1e9, 1e9},
                                        {"reset_subtract", 0.0, 0.0, 1.0},
                                        {"spiking", 1.0, 0.0, 1.0},
                                },
                        .n_state = 2,
                        .state =
                                {
                                        {"v", 0.0, -1e9, 1e9},
                                        {"i", 0.0, -1e9, 1e9},
                                },
                        .max_per_pe = 128,     /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 51.2, /* bench/engine.sh "model nir" */
                        .cycles_event = 27.1,  /* "inner loop" */
                        .sram_fixed = 8,       /* v, i */
                        .has_synapses = true,
                },
                {
                        /* Event-based GRU unit (docs/egru.md): weights w_q * 2^-shift per gate. */
                        .name = "egru",
                        .id = MODEL_EGRU,
                        .n_params = 11,
                        .params =
                                {
                                        {"thr", 0.5, 1e-6, 0.999999},
                                        {"b_u", 0.0, -1e6, 1e6},
                                        {"b_r", 0.0, -1e6, 1e6},
                                        {"b_cx", 0.0, -1e6, 1e6},
                                        {"b_ch", 0.0, -1e6, 1e6},
                                        {"shift_u", 7.0, 0.0, 24.0},
                                        {"shift_r", 7.0, 0.0, 24.0},
                                        {"shift_cx", 7.0, 0.0, 24.0},
                                        {"shift_ch", 7.0, 0.0, 24.0},
                                        {"weight_bits", 8.0, 8.0, 16.0},
                                        {"start_step", 0.0, 0.0, 1e9},
                                },
                        .n_state = 1,
                        .state = {{"c", 0.0, -1e6, 1e6}},
                        .max_per_pe = 128,      /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 239.1, /* bench/engine.sh "EGRU units" */
                        .cycles_event = 31.1,   /* "EGRU rows" */
                        .sram_fixed = 36,       /* c, four 32-bit accumulators x 2 steps */
                        .has_synapses = true,
                        .event_layer = true,
                },
                {
                        /* Dense layer over events: a read-out, or graded events above thr. */
                        .name = "dense",
                        .id = MODEL_DENSE,
                        .n_params = 6,
                        .params =
                                {
                                        {"bias", 0.0, -1e6, 1e6},
                                        {"thr", 0.0, 0.0, 1e6},
                                        {"shift", 7.0, 0.0, 24.0},
                                        {"weight_bits", 8.0, 8.0, 16.0},
                                        {"start_step", 0.0, 0.0, 1e9},
                                        {"argmax", 0.0, 0.0, 1.0},
                                },
                        .n_state = 1,
                        .state = {{"a", 0.0, -1e6, 1e6}},
                        .max_per_pe = 128,     /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 84.1, /* bench/engine.sh "model dense" */
                        .cycles_event = 31.1,  /* "EGRU rows" */
                        .sram_fixed = 36,
                        .has_synapses = true,
                        .event_layer = true,
                },
                {
                        .name = "lif_curr_alpha",
                        .id = MODEL_LIF_CURR_ALPHA,
                        .n_params = 9,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 0.5, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 0.5, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"isyn_e_na", 0.0, -1e6, 1e6},
                                        {"isyn_i_na", 0.0, -1e6, 1e6},
                                },
                        .max_per_pe = 128,      /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 143.5, /* bench/engine.sh "model lif_curr_alpha" */
                        .cycles_event = 27.1,   /* "inner loop" */
                        .sram_fixed = 32,       /* v, I and y per receptor, refractory count */
                        .has_synapses = true,
                },
                {
                        .name = "lif_cond_alpha",
                        .id = MODEL_LIF_COND_ALPHA,
                        .n_params = 11,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 0.3, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 0.5, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                        {"e_rev_e_mv", 0.0, -1e3, 1e3},
                                        {"e_rev_i_mv", -70.0, -1e3, 1e3},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"gsyn_e_us", 0.0, 0.0, 1e6},
                                        {"gsyn_i_us", 0.0, 0.0, 1e6},
                                },
                        .max_per_pe = 128,      /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 189.9, /* bench/engine.sh "model lif_cond_alpha" */
                        .cycles_event = 27.1,   /* "inner loop" */
                        .sram_fixed = 32,       /* v, g and y per receptor, refractory count */
                        .has_synapses = true,
                },
                {
                        .name = "lif_curr_delta",
                        .id = MODEL_LIF_CURR_DELTA,
                        .n_params = 7,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                },
                        .n_state = 1,
                        .state = {{"v_mv", -65.0, -1e3, 1e3}},
                        .max_per_pe = 128,     /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 84.1, /* bench/engine.sh "model lif_curr_delta" */
                        .cycles_event = 27.1,  /* "inner loop" */
                        .sram_fixed = 16,      /* v, refractory count */
                        .has_synapses = true,
                },
                {
                        /* Adaptive exponential LIF (PyNN EIF_cond_exp_isfa_ista; PyNN's
                         * defaults and units: a in nS, b in nA). */
                        .name = "adex_cond_exp",
                        .id = MODEL_ADEX_COND_EXP,
                        .n_params = 16,
                        .params =
                                {
                                        {"cm_nf", 0.281, 1e-6, 1e3},
                                        {"tau_m_ms", 9.3667, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 5.0, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 5.0, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -70.6, -1e3, 1e3},
                                        {"v_reset_mv", -70.6, -1e3, 1e3},
                                        {"v_thresh_mv", -50.4, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                        {"e_rev_e_mv", 0.0, -1e3, 1e3},
                                        {"e_rev_i_mv", -80.0, -1e3, 1e3},
                                        {"v_spike_mv", -40.0, -1e3, 1e3},
                                        {"a_ns", 4.0, -1e6, 1e6},
                                        {"b_na", 0.0805, -1e3, 1e3},
                                        {"delta_t_mv", 2.0, 1e-3, 1e3},
                                        {"tau_w_ms", 144.0, 1e-3, 1e6},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -70.6, -1e3, 1e3},
                                        {"gsyn_e_us", 0.0, 0.0, 1e6},
                                        {"gsyn_i_us", 0.0, 0.0, 1e6},
                                },
                        .max_per_pe = 128,        /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 12764.7, /* bench/engine.sh "model adex_cond_exp" */
                        .cycles_event = 27.1,     /* "inner loop" */
                        .sram_fixed = 24,         /* v, w (double), g_e, g_i, refractory count */
                        .has_synapses = true,
                },
                {
                        /* PyNN's HH_cond_exp (Traub & Miles; firmware/engine/hh.c) */
                        .name = "hh_cond_exp",
                        .id = MODEL_HH_COND_EXP,
                        .n_params = 13,
                        .params =
                                {
                                        {"gbar_na_us", 20.0, 0.0, 1e6},
                                        {"gbar_k_us", 6.0, 0.0, 1e6},
                                        {"g_leak_us", 0.01, 0.0, 1e6},
                                        {"cm_nf", 0.2, 1e-6, 1e3},
                                        {"v_offset_mv", -63.0, -1e3, 1e3},
                                        {"e_rev_na_mv", 50.0, -1e3, 1e3},
                                        {"e_rev_k_mv", -90.0, -1e3, 1e3},
                                        {"e_rev_leak_mv", -65.0, -1e3, 1e3},
                                        {"e_rev_e_mv", 0.0, -1e3, 1e3},
                                        {"e_rev_i_mv", -80.0, -1e3, 1e3},
                                        {"tau_syn_e_ms", 0.2, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 2.0, 1e-3, 1e4},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"gsyn_e_us", 0.0, 0.0, 1e6},
                                        {"gsyn_i_us", 0.0, 0.0, 1e6},
                                },
                        .max_per_pe = 128,         /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 471732.6, /* bench/engine.sh "model hh_cond_exp" */
                        .cycles_event = 27.1,      /* "inner loop" */
                        .sram_fixed = 48,          /* v, m, h, n (double), g_e, g_i */
                        .has_synapses = true,
                },
                {
                        /* PyNN's IF_cond_exp_gsfa_grr (firmware/engine/lif_sfa.c) */
                        .name = "lif_cond_exp_gsfa_grr",
                        .id = MODEL_LIF_COND_SFA,
                        .n_params = 17,
                        .params =
                                {
                                        {"cm_nf", 1.0, 1e-6, 1e3},
                                        {"tau_m_ms", 20.0, 1e-3, 1e4},
                                        {"tau_syn_e_ms", 5.0, 1e-3, 1e4},
                                        {"tau_syn_i_ms", 5.0, 1e-3, 1e4},
                                        {"tau_refrac_ms", 0.1, 0.0, 1e4},
                                        {"v_rest_mv", -65.0, -1e3, 1e3},
                                        {"v_reset_mv", -65.0, -1e3, 1e3},
                                        {"v_thresh_mv", -50.0, -1e3, 1e3},
                                        {"i_offset_na", 0.0, -1e3, 1e3},
                                        {"e_rev_e_mv", 0.0, -1e3, 1e3},
                                        {"e_rev_i_mv", -70.0, -1e3, 1e3},
                                        {"tau_sfa_ms", 100.0, 1e-3, 1e6},
                                        {"e_rev_sfa_mv", -75.0, -1e3, 1e3},
                                        {"q_sfa_ns", 15.0, 0.0, 1e6},
                                        {"tau_rr_ms", 2.0, 1e-3, 1e6},
                                        {"e_rev_rr_mv", -75.0, -1e3, 1e3},
                                        {"q_rr_ns", 3000.0, 0.0, 1e6},
                                },
                        .n_state = 3,
                        .state =
                                {
                                        {"v_mv", -65.0, -1e3, 1e3},
                                        {"gsyn_e_us", 0.0, 0.0, 1e6},
                                        {"gsyn_i_us", 0.0, 0.0, 1e6},
                                },
                        .max_per_pe = 128,      /* S2_PE_MAX_NEURONS of the engine */
                        .cycles_update = 199.2, /* bench/engine.sh "model lif_cond_exp_gsfa_grr" */
                        .cycles_event = 27.1,   /* "inner loop" */
                        .sram_fixed = 32,       /* v, g_e, g_i, refractory; g_s, g_r (double) */
                        .has_synapses = true,
                },
};

const struct net_model *net_model_find(const char *name)
{
	for (unsigned i = 0; i < MODEL__COUNT; i++)
		if (name && !strcmp(MODELS[i].name, name))
			return &MODELS[i];
	return NULL;
}

int s2_net_model_cost(unsigned i, const char **name, double *cycles_update, double *cycles_event)
{
	if (i >= MODEL__COUNT)
		return S2_E_RANGE;
	*name = MODELS[i].name;
	*cycles_update = MODELS[i].cycles_update;
	*cycles_event = MODELS[i].cycles_event;
	return 0;
}

double s2_net_packet_cycles(void)
{
	return NET_CYCLES_PACKET;
}

const struct net_model *net_model_get(unsigned id)
{
	return id < MODEL__COUNT ? &MODELS[id] : NULL;
}

int net_model_param(const struct net_model *m, const char *name, bool state)
{
	unsigned n = state ? m->n_state : m->n_params;
	const struct net_param_def *d = state ? m->state : m->params;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return (int)i;
	return -1;
}

int net_model_record_var(const struct net_model *m, const char *var)
{
	if (m->event_layer)
		return strcmp(var, m->state[0].name) ? -1 : 0;
	if (m->id == MODEL_ADEX_COND_EXP && !strcmp(var, "w_na"))
		return 4; /* the engine's double slot 0 (adex.h) */
	if (m->id == MODEL_LIF_COND_SFA && !strcmp(var, "g_s_ns"))
		return 4; /* double slots 0 and 1 (lif_sfa.h) */
	if (m->id == MODEL_LIF_COND_SFA && !strcmp(var, "g_r_ns"))
		return 5;
	int k = net_model_param(m, var, true);
	if (k < 0 || !m->has_synapses)
		return -1;
	/* The STATE slots of docs/pedata.md: v first, then the model's own order. */
	return k;
}

const char *net_model_names(void)
{
	return "lif_curr_exp, spike_source_poisson, spike_source_array, lif_cond_exp, izhikevich, "
	       "nir_neuron, lif_curr_alpha, lif_cond_alpha, lif_curr_delta, adex_cond_exp, "
	       "hh_cond_exp, lif_cond_exp_gsfa_grr";
}

/* Receptor names of the JSON form, in the order of the protobuf enum (network.proto). */
static const char *const RECEPTORS[] = {"excitatory", "inhibitory", "u", "r", "cx", "ch", "input"};

const char *net_receptor_name(int r)
{
	return r >= 0 && r < (int)(sizeof RECEPTORS / sizeof *RECEPTORS) ? RECEPTORS[r] : "?";
}

int net_receptor_find(const char *name)
{
	for (unsigned i = 0; i < sizeof RECEPTORS / sizeof *RECEPTORS; i++)
		if (!strcmp(RECEPTORS[i], name))
			return (int)i;
	return -1;
}

double *net_synapse_num(S2pb__Synapse *s, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {{"w_min", offsetof(S2pb__Synapse, w_min)},
	            {"w_max", offsetof(S2pb__Synapse, w_max)},
	            {"tau_plus_ms", offsetof(S2pb__Synapse, tau_plus_ms)},
	            {"tau_minus_ms", offsetof(S2pb__Synapse, tau_minus_ms)},
	            {"a_plus", offsetof(S2pb__Synapse, a_plus)},
	            {"a_minus", offsetof(S2pb__Synapse, a_minus)},
	            {"dendritic_delay_fraction", offsetof(S2pb__Synapse, dendritic_delay_fraction)},
	            {"u", offsetof(S2pb__Synapse, u)},
	            {"tau_rec_ms", offsetof(S2pb__Synapse, tau_rec_ms)},
	            {"tau_facil_ms", offsetof(S2pb__Synapse, tau_facil_ms)},
	            {"tau_ms", offsetof(S2pb__Synapse, tau_ms)},
	            {"eta", offsetof(S2pb__Synapse, eta)},
	            {"rho_hz", offsetof(S2pb__Synapse, rho_hz)}};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (!strcmp(key, nums[i].key))
			return (double *)((char *)s + nums[i].off);
	return NULL;
}
