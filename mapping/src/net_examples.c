/*
 * Generators of the reference workloads of the brief (section 5) as networks: the cortical
 * microcircuit, Vogels-Abbott, Brunel, the synfire chain, and synthetic networks that fill
 * one board, one rack or eight racks of standard machines. Built as protobuf messages in an
 * arena and validated like any other input.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net_internal.h"
#include "s2/machine.h"
#include "s2/network.h"

struct gen {
	struct net_arena a;
	S2pb__Network *n;
	size_t pop_cap, proj_cap;
};

static const char *const NAMES[] = {
        "microcircuit",    "vogels_abbott",  "brunel",           "synfire",
        "synthetic_board", "synthetic_rack", "synthetic_8racks", NULL};

const char *const *s2_net_example_names(void)
{
	return NAMES;
}

static bool gen_init(struct gen *g, const char *name, double dt, double run, size_t pops,
                     size_t projs)
{
	memset(g, 0, sizeof *g);
	g->n = net_arena_alloc(&g->a, sizeof *g->n);
	if (!g->n)
		return false;
	s2pb__network__init(g->n);
	g->n->format = S2_NET_FORMAT;
	g->n->name = net_arena_strdup(&g->a, name);
	g->n->timestep_ms = dt;
	g->n->run_ms = run;
	g->n->seed = 1;
	g->pop_cap = pops;
	g->proj_cap = projs;
	g->n->populations = net_arena_alloc(&g->a, (pops + 1) * sizeof(void *));
	g->n->projections = net_arena_alloc(&g->a, (projs + 1) * sizeof(void *));
	g->n->recordings = net_arena_alloc(&g->a, (pops + 1) * sizeof(void *));
	return !g->a.failed;
}

static S2pb__Population *add_pop(struct gen *g, const char *label, uint32_t size, const char *model)
{
	if (g->n->n_populations >= g->pop_cap)
		return NULL;
	S2pb__Population *p = net_arena_alloc(&g->a, sizeof *p);
	if (!p)
		return NULL;
	s2pb__population__init(p);
	p->label = net_arena_strdup(&g->a, label);
	p->size = size ? size : 1;
	p->model = (char *)model;
	p->params = net_arena_alloc(&g->a, NET_MAX_PARAMS * sizeof(void *));
	p->initial = net_arena_alloc(&g->a, 4 * sizeof(void *));
	g->n->populations[g->n->n_populations++] = p;
	return g->a.failed ? NULL : p;
}

static void set_param(struct gen *g, S2pb__Population *p, bool state, const char *name,
                      S2pb__Value *v)
{
	S2pb__Param *q = net_arena_alloc(&g->a, sizeof *q);
	if (!q || !p)
		return;
	s2pb__param__init(q);
	q->name = (char *)name;
	q->value = v;
	if (state)
		p->initial[p->n_initial++] = q;
	else
		p->params[p->n_params++] = q;
}

static void lif(struct gen *g, S2pb__Population *p, double cm, double tau_m, double tau_se,
                double tau_si, double refrac, double rest, double reset, double thresh,
                double i_off)
{
	set_param(g, p, false, "cm_nf", net_value_const(&g->a, cm));
	set_param(g, p, false, "tau_m_ms", net_value_const(&g->a, tau_m));
	set_param(g, p, false, "tau_syn_e_ms", net_value_const(&g->a, tau_se));
	set_param(g, p, false, "tau_syn_i_ms", net_value_const(&g->a, tau_si));
	set_param(g, p, false, "tau_refrac_ms", net_value_const(&g->a, refrac));
	set_param(g, p, false, "v_rest_mv", net_value_const(&g->a, rest));
	set_param(g, p, false, "v_reset_mv", net_value_const(&g->a, reset));
	set_param(g, p, false, "v_thresh_mv", net_value_const(&g->a, thresh));
	if (i_off != 0)
		set_param(g, p, false, "i_offset_na", net_value_const(&g->a, i_off));
}

static S2pb__Population *poisson(struct gen *g, const char *label, uint32_t size, double rate)
{
	S2pb__Population *p = add_pop(g, label, size, "spike_source_poisson");
	set_param(g, p, false, "rate_hz", net_value_const(&g->a, rate));
	return p;
}

static S2pb__Projection *add_proj(struct gen *g, const char *pre, const char *post,
                                  S2pb__Projection__ConnectorCase conn, S2pb__Value *w,
                                  S2pb__Value *d, bool inh)
{
	if (g->n->n_projections >= g->proj_cap)
		return NULL;
	S2pb__Projection *p = net_arena_alloc(&g->a, sizeof *p);
	if (!p)
		return NULL;
	s2pb__projection__init(p);
	char label[160];
	snprintf(label, sizeof label, "%s->%s", pre, post);
	p->label = net_arena_strdup(&g->a, label);
	p->pre = net_arena_strdup(&g->a, pre);
	p->post = net_arena_strdup(&g->a, post);
	p->weight = w;
	p->delay = d;
	p->receptor = inh ? S2PB__PROJECTION__RECEPTOR__INHIBITORY
	                  : S2PB__PROJECTION__RECEPTOR__EXCITATORY;
	p->connector_case = conn;
	switch (conn) {
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		p->one_to_one = net_arena_alloc(&g->a, sizeof *p->one_to_one);
		if (p->one_to_one)
			s2pb__one_to_one__init(p->one_to_one);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		p->fixed_probability = net_arena_alloc(&g->a, sizeof *p->fixed_probability);
		if (p->fixed_probability)
			s2pb__fixed_probability__init(p->fixed_probability);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
		p->fixed_number_pre = net_arena_alloc(&g->a, sizeof *p->fixed_number_pre);
		if (p->fixed_number_pre)
			s2pb__fixed_number__init(p->fixed_number_pre);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		p->fixed_total = net_arena_alloc(&g->a, sizeof *p->fixed_total);
		if (p->fixed_total)
			s2pb__fixed_total__init(p->fixed_total);
		break;
	default:
		p->all_to_all = net_arena_alloc(&g->a, sizeof *p->all_to_all);
		if (p->all_to_all)
			s2pb__all_to_all__init(p->all_to_all);
		p->connector_case = S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL;
		break;
	}
	g->n->projections[g->n->n_projections++] = p;
	return g->a.failed ? NULL : p;
}

static void record(struct gen *g, const char *pop, const char *var)
{
	S2pb__Recording *r = net_arena_alloc(&g->a, sizeof *r);
	if (!r)
		return;
	s2pb__recording__init(r);
	r->population = (char *)pop;
	r->variable = (char *)var;
	g->n->recordings[g->n->n_recordings++] = r;
}

static uint32_t scaled(double n, double scale)
{
	double v = round(n * scale);
	return v < 1 ? 1 : (uint32_t)v;
}

/*
 * Potjans & Diesmann 2014 (brief section 5), as the NEST example (pynest/examples/Potjans_2014,
 * network_params.py and network.py of NEST 3) builds it: the published populations, K_ext,
 * connection probabilities turned into fixed total numbers of synapses (multapses and
 * autapses allowed), PSPs of 0.15 mV (L4E->L2/3E doubled, g = -4) with a relative s.d. of 0.1
 * redrawn at 0, delays 1.5 / 0.75 ms with a relative s.d. of 0.5 redrawn below half a step
 * and rounded to the grid (INM-6/microcircuit-PD14-model network.py, `min=nest.resolution -
 * 0.5 * nest.resolution` since 2022: draws in [0.05, 0.15) ms make 0.1 ms), the
 * "optimized" initial voltages per population, and the external drive as an independent
 * Poisson train of 8 Hz x K_ext per neuron (the engine's background input, docs/engine.md).
 * Below scale 1 the in-degrees scale too (K_scaling = N_scaling = scale), compensated as the
 * NEST example does (van Albada et al. 2015): weights / sqrt(K_scaling) and a DC current that
 * restores the mean input at the published full-scale rates (MC_RATES).
 */
const double S2_MC_N[8] = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948};
const double S2_MC_P[8][8] = {
        {0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0, 0.0076, 0},
        {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0, 0.0042, 0},
        {0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0},
        {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0, 0.1057, 0},
        {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0},
        {0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0},
        {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
        {0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443},
};
const double S2_MC_K_EXT[8] = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100};
/* Full-scale rates of the NEST example (network_params.py, 'full_mean_rates'), Hz. */
const double S2_MC_RATES[8] = {0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829};
static const double MC_V0_MEAN[8] = {-68.28, -63.16, -63.33, -63.45,
                                     -63.11, -61.66, -66.72, -61.43};
static const double MC_V0_SD[8] = {5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48};

double s2_mc_psc_per_psp(double cm_pf, double tau_m, double tau_s)
{
	/* PSC amplitude (pA) giving a 1 mV PSP peak (NEST example, helpers.py) */
	double sub = 1.0 / (tau_s - tau_m);
	double pre = tau_m * tau_s / cm_pf / (tau_s - tau_m);
	double frac = pow(tau_m / tau_s, sub);
	return 1.0 / (pre * (pow(frac, tau_m) - pow(frac, tau_s)));
}

double s2_mc_synapses(int t, int s)
{
	double pairs = S2_MC_N[s] * S2_MC_N[t];
	return S2_MC_P[t][s] > 0 ? log(1 - S2_MC_P[t][s]) / log((pairs - 1) / pairs) : 0;
}

static void microcircuit(struct gen *g, double scale)
{
	static const char *L[8] = {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"};
	const double dt = 0.1, tau_s = 0.5, bg = 8.0;
	const double psc = 0.15 * s2_mc_psc_per_psp(250, 10, tau_s) / 1000; /* nA */
	double ks = scale < 1 ? scale : 1, wf = 1 / sqrt(ks);
	uint32_t n[8];
	for (int t = 0; t < 8; t++) {
		n[t] = scaled(S2_MC_N[t], scale);
		S2pb__Population *p = add_pop(g, L[t], n[t], "lif_curr_exp");
		/* DC restoring the mean input lost by scaling the in-degrees (0 at scale 1) */
		double mean = psc * S2_MC_K_EXT[t] * bg;
		for (int s = 0; s < 8; s++) {
			double w = s % 2 ? -4 * psc : (t == 0 && s == 2 ? 2 * psc : psc);
			mean += w * s2_mc_synapses(t, s) / S2_MC_N[t] * S2_MC_RATES[s];
		}
		double dc = 0.001 * tau_s * (1 - sqrt(ks)) * mean;
		lif(g, p, 0.25, 10, tau_s, tau_s, 2, -65, -65, -50, dc);
		set_param(g, p, false, "bg_rate_hz",
		          net_value_const(&g->a, bg * round(S2_MC_K_EXT[t] * ks)));
		set_param(g, p, false, "bg_weight_na", net_value_const(&g->a, psc * wf));
		set_param(g, p, true, "v_mv",
		          net_value_dist(&g->a, S2PB__DISTRIBUTION__KIND__NORMAL, MC_V0_MEAN[t],
		                         MC_V0_SD[t], 0, 0));
		record(g, L[t], "spikes");
	}
	for (int t = 0; t < 8; t++)
		for (int s = 0; s < 8; s++) {
			if (S2_MC_P[t][s] == 0)
				continue;
			bool inh = s % 2 == 1;
			double wm = (inh ? 4 * psc : (t == 0 && s == 2 ? 2 * psc : psc)) * wf;
			double dm = inh ? 0.75 : 1.5;
			S2pb__Projection *p = add_proj(
			        g, L[s], L[t], S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL,
			        net_value_dist(&g->a, S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED, wm,
			                       0.1 * wm, 0, 2 * wm),
			        net_value_dist(&g->a, S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED, dm,
			                       0.5 * dm, 0.5 * dt, 64 * dt),
			        inh);
			if (p) {
				double k = s2_mc_synapses(t, s) * ((double)n[t] / S2_MC_N[t]) * ks;
				p->fixed_total->n = (uint64_t)llround(k);
				p->fixed_total->with_replacement = 1;
			}
		}
}

/* Vogels & Abbott 2005, current-based version (the PyNN VA benchmark, CUBA). */
static void vogels_abbott(struct gen *g, double scale)
{
	uint32_t ne = scaled(3200, scale), ni = scaled(800, scale);
	const char *pops[2] = {"E", "I"};
	uint32_t sizes[2] = {ne, ni};
	for (int i = 0; i < 2; i++) {
		S2pb__Population *p = add_pop(g, pops[i], sizes[i], "lif_curr_exp");
		lif(g, p, 0.2, 20, 5, 10, 5, -49, -60, -50, 0);
		set_param(g, p, true, "v_mv",
		          net_value_dist(&g->a, S2PB__DISTRIBUTION__KIND__UNIFORM, -60, -50, 0, 0));
		record(g, pops[i], "spikes");
	}
	for (int s = 0; s < 2; s++)
		for (int t = 0; t < 2; t++) {
			S2pb__Projection *p = add_proj(
			        g, pops[s], pops[t], S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY,
			        net_value_const(&g->a, s ? 0.0045 * 20 : 0.00027 * 20),
			        net_value_const(&g->a, 0.1), s == 1);
			if (p)
				p->fixed_probability->p = 0.02;
		}
}

/* Brunel 2000, model A: NE = 4 order, NI = order, CE = 0.1 NE, CI = 0.1 NI. */
static void brunel(struct gen *g, double scale)
{
	uint32_t order = scaled(2500, scale), ne = 4 * order, ni = order;
	uint32_t ce = ne / 10 ? ne / 10 : 1, ci = ni / 10 ? ni / 10 : 1;
	const double j = 0.05, gi = 5, eta = 2;            /* nA: a 0.1 mV PSP */
	double nu_thr = 20.0 / (0.1 * ce * 20.0) * 1000.0; /* Hz */
	const char *pops[2] = {"E", "I"};
	uint32_t sizes[2] = {ne, ni};
	/* The external drive: CE independent Poisson trains of eta x nu_thr per neuron, as one
	 * Poisson input of eta x nu_thr x CE (tens of kHz: the engine's background input; a
	 * spike source sends at most one spike per step). */
	for (int i = 0; i < 2; i++) {
		S2pb__Population *p = add_pop(g, pops[i], sizes[i], "lif_curr_exp");
		lif(g, p, 0.25, 20, 0.5, 0.5, 2, -70, -60, -50, 0);
		set_param(g, p, false, "bg_rate_hz", net_value_const(&g->a, eta * nu_thr * ce));
		set_param(g, p, false, "bg_weight_na", net_value_const(&g->a, j));
		record(g, pops[i], "spikes");
	}
	for (int s = 0; s < 2; s++)
		for (int t = 0; t < 2; t++) {
			S2pb__Projection *p = add_proj(g, pops[s], pops[t],
			                               S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE,
			                               net_value_const(&g->a, s ? gi * j : j),
			                               net_value_const(&g->a, 1.5), s == 1);
			if (p)
				p->fixed_number_pre->n = s ? ci : ce;
		}
}

/*
 * 200 populations in a one-to-one chain, carrying a pulse packet: a Poisson burst (500 Hz
 * for 2 ms from 10 ms) makes most neurons of the first group spike once; every synapse is
 * strong enough (12 nA, a PSP peak of about 20 mV against a 15 mV gap to threshold) that a
 * spike of neuron i of one group makes neuron i of the next spike 2-3 ms later, so the
 * packet reaches the last group. Spikes are recorded in the first, middle and last group.
 */
static void synfire(struct gen *g, double scale)
{
	uint32_t n = scaled(10000, scale);
	char label[32], prev[32];
	S2pb__Population *st = poisson(g, "stim", n, 500);
	set_param(g, st, false, "start_ms", net_value_const(&g->a, 10));
	set_param(g, st, false, "duration_ms", net_value_const(&g->a, 2));
	snprintf(prev, sizeof prev, "stim");
	for (int i = 0; i < 200; i++) {
		snprintf(label, sizeof label, "chain%03d", i);
		S2pb__Population *p = add_pop(g, label, n, "lif_curr_exp");
		lif(g, p, 0.25, 10, 0.5, 0.5, 2, -65, -65, -50, 0);
		add_proj(g, prev, label, S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE,
		         net_value_const(&g->a, 12.0), net_value_const(&g->a, 1.0), false);
		memcpy(prev, label, sizeof prev);
	}
	record(g, "chain000", "spikes");
	record(g, "chain100", "spikes");
	record(g, "chain199", "spikes");
}

/* Populations of one chip's worth of PEs each (all application PEs at the model's limit of
 * LIF neurons per PE), each connected to itself and to the next in a ring: fills `chips`
 * chips. */
static void synthetic(struct gen *g, double chips, double scale)
{
	const struct s2_machine_defaults *d = s2_machine_defaults();
	uint32_t per_pop = (d->pes - 1) * net_model_find("lif_curr_exp")->max_per_pe;
	uint32_t pops = scaled(chips, scale);
	for (uint32_t i = 0; i < pops; i++) {
		char label[32];
		snprintf(label, sizeof label, "p%u", i);
		S2pb__Population *p = add_pop(g, label, per_pop, "lif_curr_exp");
		lif(g, p, 0.25, 10, 1, 1, 2, -65, -65, -50, 0.3);
	}
	for (uint32_t i = 0; i < pops; i++) {
		char a[32], b[32];
		snprintf(a, sizeof a, "p%u", i);
		snprintf(b, sizeof b, "p%u", (i + 1) % pops);
		S2pb__Projection *p =
		        add_proj(g, a, a, S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY,
		                 net_value_const(&g->a, 0.01), net_value_const(&g->a, 1), false);
		if (p)
			p->fixed_probability->p = 0.002;
		if (pops > 1) {
			p = add_proj(g, a, b, S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY,
			             net_value_const(&g->a, 0.01), net_value_const(&g->a, 2),
			             false);
			if (p)
				p->fixed_probability->p = 0.002;
		}
	}
}

struct s2_net *s2_net_example(const char *name, double scale, char *err, size_t errlen)
{
	if (!(scale > 0 && scale <= 100)) {
		net_seterr(err, errlen, "scale %g is not in (0, 100]", scale);
		return NULL;
	}
	const struct s2_machine_defaults *d = s2_machine_defaults();
	double board = d->board_width * d->board_height,
	       rack = board * d->rack_width * d->rack_height;
	struct gen g;
	bool ok;
	if (!strcmp(name, "microcircuit")) {
		ok = gen_init(&g, name, 0.1, 1000, 8, 64);
		if (ok)
			microcircuit(&g, scale);
	} else if (!strcmp(name, "vogels_abbott")) {
		ok = gen_init(&g, name, 0.1, 1000, 2, 4);
		if (ok)
			vogels_abbott(&g, scale);
	} else if (!strcmp(name, "brunel")) {
		ok = gen_init(&g, name, 0.1, 1000, 2, 4);
		if (ok)
			brunel(&g, scale);
	} else if (!strcmp(name, "synfire")) {
		ok = gen_init(&g, name, 1.0, 1000, 201, 200);
		if (ok)
			synfire(&g, scale);
	} else if (!strncmp(name, "synthetic_", 10)) {
		double chips = !strcmp(name, "synthetic_board")    ? board
		               : !strcmp(name, "synthetic_rack")   ? rack
		               : !strcmp(name, "synthetic_8racks") ? 8 * rack
		                                                   : 0;
		if (chips == 0)
			goto unknown;
		size_t pops = scaled(chips, scale);
		ok = gen_init(&g, name, 1.0, 1000, pops, 2 * pops);
		if (ok)
			synthetic(&g, chips, scale);
	} else {
		goto unknown;
	}
	struct s2_net *n = NULL;
	if (!ok || g.a.failed)
		net_seterr(err, errlen, "%s: out of memory", name);
	else
		n = net_from_built(g.n, err, errlen);
	net_arena_free(&g.a);
	return n;
unknown:
	net_seterr(err, errlen,
	           "example '%.60s' is unknown (known: microcircuit, vogels_abbott, brunel, "
	           "synfire, synthetic_board, synthetic_rack, synthetic_8racks)",
	           name);
	return NULL;
}
