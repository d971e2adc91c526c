/*
 * PE data for the firmware engine (proto/include/s2/pedata.h, docs/pedata.md), one blob per
 * part of a mapping: neuron parameters and initial state evaluated per neuron, the sources as
 * runs of consecutive source parts (one key-table entry per run and projection), expansion
 * descriptors with seeds for statistical connectors, explicit rows for lists, recording and
 * spike times. Called by the image writer (image.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"
#include "s2/error.h"
#include "s2/pedata.h"
#include "s2/wire.h"

/* Engine parameter slots of the network models' parameters (docs/pedata.md). */
static int param_slot(unsigned model, const char *name)
{
	static const char *const lif[] = {"v_rest_mv",    "v_reset_mv",   "v_thresh_mv",
	                                  "tau_m_ms",     "cm_nf",        "tau_refrac_ms",
	                                  "tau_syn_e_ms", "tau_syn_i_ms", "i_offset_na",
	                                  "e_rev_e_mv",   "e_rev_i_mv"};
	static const char *const poi[] = {"rate_hz", "start_ms", "duration_ms"};
	static const char *const izk[] = {"a", "b", "c_mv", "d", "i_offset_na"};
	/* slots 12-15: the PARAMS2 section */
	static const char *const adex[] = {
	        "v_rest_mv",   "v_reset_mv",    "v_thresh_mv",  "tau_m_ms",
	        "cm_nf",       "tau_refrac_ms", "tau_syn_e_ms", "tau_syn_i_ms",
	        "i_offset_na", "e_rev_e_mv",    "e_rev_i_mv",   "v_spike_mv",
	        "a_ns",        "b_na",          "delta_t_mv",   "tau_w_ms"};
	/* HH (firmware/engine/hh.h): e_rev_k_mv in PARAMS2 slot 0 */
	static const char *const hh[] = {
	        "e_rev_leak_mv", "v_offset_mv",  "gbar_na_us",   "gbar_k_us",   "cm_nf",
	        "g_leak_us",     "tau_syn_e_ms", "tau_syn_i_ms", "i_offset_na", "e_rev_e_mv",
	        "e_rev_i_mv",    "e_rev_na_mv",  "e_rev_k_mv"};
	/* IF_cond_exp_gsfa_grr (firmware/engine/lif_sfa.h): slots 12-16 in PARAMS2 */
	static const char *const sfa[] = {
	        "v_rest_mv",     "v_reset_mv",   "v_thresh_mv",  "tau_m_ms",    "cm_nf",
	        "tau_refrac_ms", "tau_syn_e_ms", "tau_syn_i_ms", "i_offset_na", "e_rev_e_mv",
	        "e_rev_i_mv",    "tau_sfa_ms",   "e_rev_sfa_mv", "q_sfa_ns",    "tau_rr_ms",
	        "e_rev_rr_mv",   "q_rr_ns"};
	static const char *const nir[] = {"a_i",      "g_i",     "a_v",
	                                  "b_v",      "g_v",     "bias",
	                                  "v_thresh", "v_reset", "reset_subtract",
	                                  "spiking"};
	/* the engine's order (firmware/engine/engine.c) */
	static const char *const egru[] = {"thr",      "b_u",         "b_r",       "b_cx",
	                                   "b_ch",     "shift_u",     "shift_r",   "shift_cx",
	                                   "shift_ch", "weight_bits", "start_step"};
	static const char *const dense[] = {"bias",        "thr",        "shift",
	                                    "weight_bits", "start_step", "argmax"};
	const char *const *t = model == MODEL_POISSON         ? poi
	                       : model == MODEL_IZHIKEVICH    ? izk
	                       : model == MODEL_NIR_NEURON    ? nir
	                       : model == MODEL_EGRU          ? egru
	                       : model == MODEL_DENSE         ? dense
	                       : model == MODEL_ADEX_COND_EXP ? adex
	                       : model == MODEL_HH_COND_EXP   ? hh
	                       : model == MODEL_LIF_COND_SFA  ? sfa
	                                                      : lif;
	unsigned n = model == MODEL_POISSON          ? 3
	             : model == MODEL_IZHIKEVICH     ? 5
	             : model == MODEL_NIR_NEURON     ? 10
	             : model == MODEL_LIF_COND_EXP   ? 11
	             : model == MODEL_LIF_COND_ALPHA ? 11
	             : model == MODEL_ADEX_COND_EXP  ? 16
	             : model == MODEL_HH_COND_EXP    ? 13
	             : model == MODEL_LIF_COND_SFA   ? 17
	             : model == MODEL_EGRU           ? 11
	             : model == MODEL_DENSE          ? 6
	                                             : 9;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(t[i], name))
			return (int)i;
	return -1;
}

/* Engine state slots: LIF (v, I_e or g_e, I_i or g_i, refractory), Izhikevich (v, u). */
static int state_slot(unsigned model, const char *name)
{
	if (!strcmp(name, "v_mv") || !strcmp(name, "v") || !strcmp(name, "c") || !strcmp(name, "a"))
		return 0;
	if (model == MODEL_IZHIKEVICH)
		return strcmp(name, "u") ? -1 : 1;
	if (model == MODEL_NIR_NEURON)
		return strcmp(name, "i") ? -1 : 1;
	if (!strcmp(name, "isyn_e_na") || !strcmp(name, "gsyn_e_us"))
		return 1;
	if (!strcmp(name, "isyn_i_na") || !strcmp(name, "gsyn_i_us"))
		return 2;
	return -1;
}

/* splitmix64 from the network seed and an item: the same input gives the same values. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
	*s = mix(*s);
	return (double)(*s >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
	double u = unif(s), v = unif(s);
	return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* Value of v for neuron i (index into the population) with a per-item stream. */
static double value_at(const S2pb__Value *v, double def, uint32_t i, uint64_t seed)
{
	if (!v)
		return def;
	switch (v->kind_case) {
	case S2PB__VALUE__KIND_CONSTANT:
		return v->constant;
	case S2PB__VALUE__KIND_ARRAY:
		return i < v->array->n_values ? v->array->values[i] : def;
	case S2PB__VALUE__KIND_RANDOM: {
		const S2pb__Distribution *d = v->random;
		uint64_t s = mix(seed ^ ((uint64_t)i * 0xd1b54a32d192ed03ull));
		switch (d->kind) {
		case S2PB__DISTRIBUTION__KIND__UNIFORM:
			return d->low + (d->high - d->low) * unif(&s);
		case S2PB__DISTRIBUTION__KIND__NORMAL:
			return d->mean + d->sd * normal(&s);
		case S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED:
			for (int k = 0; k < 1000; k++) {
				double x = d->mean + d->sd * normal(&s);
				if (x >= d->low && x <= d->high)
					return x;
			}
			return d->mean < d->low ? d->low : d->mean > d->high ? d->high : d->mean;
		case S2PB__DISTRIBUTION__KIND__EXPONENTIAL:
			return -d->mean * log(1.0 - unif(&s));
		default:
			return def;
		}
	}
	default:
		return def;
	}
}

static const S2pb__Value *find(S2pb__Param **ps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i]->name, name))
			return ps[i]->value;
	return NULL;
}

/* The largest |value| a weight can take (for the engine's weight unit). */
static double max_abs(const S2pb__Value *v)
{
	if (!v)
		return 0;
	switch (v->kind_case) {
	case S2PB__VALUE__KIND_CONSTANT:
		return fabs(v->constant);
	case S2PB__VALUE__KIND_ARRAY: {
		double m = 0;
		for (size_t i = 0; i < v->array->n_values; i++)
			m = fmax(m, fabs(v->array->values[i]));
		return m;
	}
	case S2PB__VALUE__KIND_RANDOM: {
		const S2pb__Distribution *d = v->random;
		switch (d->kind) {
		case S2PB__DISTRIBUTION__KIND__UNIFORM:
			return fmax(fabs(d->low), fabs(d->high));
		case S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED:
			return fmax(fabs(d->low), fabs(d->high));
		default:
			return fabs(d->mean) + 4 * d->sd;
		}
	}
	default:
		return 0;
	}
}

/*
 * A distribution of the engine (weights in units, delays in steps). The engine redraws a
 * normal_clipped value below the least value it holds (a weight of 0, a delay of one step or
 * half of one)
 * and clamps values above the most it holds (most, in the item's unit); *lost is the part of
 * the distribution where that differs from the description's bounds (0 for constants,
 * uniform and plain normal values, which the engine clamps and counts), or 1 for a constant
 * that rounds to zero units.
 */
static int dist_of(const S2pb__Value *v, double def, double scale, double least, double most,
                   uint8_t *kind, float *a, float *b, double *lost)
{
	*b = 0;
	*lost = 0;
	if (!v || v->kind_case == S2PB__VALUE__KIND_CONSTANT) {
		double c = fabs(v ? v->constant : def);
		*kind = S2_DIST_CONST;
		*a = (float)(c / scale);
		*lost = c > 0 && c / scale < 0.5 ? 1 : 0;
		return 0;
	}
	if (v->kind_case != S2PB__VALUE__KIND_RANDOM)
		return -1;
	const S2pb__Distribution *d = v->random;
	switch (d->kind) {
	case S2PB__DISTRIBUTION__KIND__UNIFORM:
		*kind = S2_DIST_UNIFORM;
		*a = (float)(d->low / scale);
		*b = (float)(d->high / scale);
		return 0;
	case S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED:
		if (d->sd > 0) {
			/* normal mass between the description's and the engine's bounds */
			double z_lo = (d->low - d->mean) / d->sd,
			       z_least = (least - d->mean) / d->sd;
			double z_hi = (fmin(d->high, most) - d->mean) / d->sd;
			*lost = fabs(0.5 * erfc(-z_lo / sqrt(2)) - 0.5 * erfc(-z_least / sqrt(2))) +
			        (d->high > most ? 0.5 * erfc(z_hi / sqrt(2)) : 0);
		}
		*kind = S2_DIST_NORMAL_POS;
		*a = (float)(d->mean / scale);
		*b = (float)(d->sd / scale);
		return 0;
	case S2PB__DISTRIBUTION__KIND__NORMAL:
		*kind = S2_DIST_NORMAL;
		*a = (float)(d->mean / scale);
		*b = (float)(d->sd / scale);
		return 0;
	default:
		return -1;
	}
}

struct blob {
	struct map_buf buf;
	unsigned n_sect;
	uint8_t table[S2_SECT__MAX][S2_PEDATA_SECT_LEN];
	size_t start;
};

static uint8_t *grow(struct blob *b, size_t n)
{
	return map_buf_grow(&b->buf, n);
}

static void u32(struct blob *b, uint32_t v)
{
	uint8_t *p = grow(b, 4);
	if (p)
		s2_st32(p, v);
}

static void st_f32(uint8_t *p, double d)
{
	float f = (float)d;
	uint32_t v;
	memcpy(&v, &f, 4);
	s2_st32(p, v);
}

static void begin(struct blob *b, unsigned type)
{
	s2_st16(b->table[b->n_sect], (uint16_t)type);
	b->start = b->buf.n;
}

static void end(struct blob *b)
{
	s2_st32(b->table[b->n_sect] + 4, (uint32_t)b->start);
	s2_st32(b->table[b->n_sect] + 8, (uint32_t)(b->buf.n - b->start));
	b->n_sect++;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return S2_E_RANGE;
}

/* Synapses of projection j one post neuron can have, at most or (statistical connectors) at
 * the mean plus five standard deviations. */
static double in_degree_bound(const struct s2_net *net, uint32_t j)
{
	const S2pb__Projection *pj = net->pb->projections[j];
	double npre = net->pre_hi[j] - net->pre_lo[j], npost = net->post_hi[j] - net->post_lo[j];
	double m;
	switch (pj->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		return 1;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
		return pj->fixed_number_pre->n;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		m = npre * pj->fixed_probability->p;
		return fmin(npre, m + 5 * sqrt(m * (1 - pj->fixed_probability->p)) + 1);
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST:
		m = npost > 0 ? npre * pj->fixed_number_post->n / npost : 0;
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		m = npost > 0 ? (double)pj->fixed_total->n / npost : 0;
		break;
	default: /* all_to_all */
		return npre;
	}
	return m + 5 * sqrt(m) + 1; /* with replacement the count may exceed npre */
}

/* A plastic rule that changes weights (stdp, vogels2011; docs/network.md). */
static bool learns(const S2pb__Projection *pj)
{
	return pj->synapse &&
	       (!strcmp(pj->synapse->rule, "stdp") || !strcmp(pj->synapse->rule, "vogels2011"));
}

/* The unit of the weight field of a projection's synaptic words: the receptor's unit, or for
 * a learning rule w_max / 32768 (the engine keeps such weights in its own fixed point,
 * plastic.h, and delivers them in the receptor's unit). */
static double word_scale(const S2pb__Projection *pj, double receptor_unit)
{
	return learns(pj) ? pj->synapse->w_max / S2_PL_WORD_ONE : receptor_unit;
}

/* The largest |weight| the projection's synapses can reach: a plastic one's grow to w_max. */
static double proj_wmax(const S2pb__Projection *pj)
{
	double m = max_abs(pj->weight);
	return learns(pj) ? fmax(m, pj->synapse->w_max) : m;
}

/*
 * The weight unit of every population and receptor (docs/engine.md), once, before the image
 * is written in threads. A synapse holds a 16-bit weight and a neuron sums a step's input in a
 * 16-bit slot, so the unit trades resolution against headroom: at least wmax / 4000 (the
 * resolution), raised until the largest input one neuron can get in one step, B, fits in
 * 65535 units, but never above wmax / 256 (so weights keep 8 bits at least; a larger
 * synchronous input clips, counted). B sums over the projections into the neuron the weight
 * times the in-degree bound above, exactly per neuron for lists. For nir_neuron populations
 * B is never capped (their inputs are lists: exact) so nothing clips (docs/nir.md).
 */
int image_weight_units(struct s2_mapping *mp)
{
	const struct s2_net *net = mp->net;
	uint32_t np = (uint32_t)net->pb->n_populations;
	free(mp->wunit);
	mp->wunit = calloc(2 * (size_t)np + 1, sizeof *mp->wunit);
	if (!mp->wunit)
		return S2_E_NOMEM;
	for (uint32_t pop = 0; pop < np; pop++) {
		double wmax[2] = {0, 0}, bound[2] = {0, 0};
		bool lists = false;
		for (uint32_t ij = mp->in_first[pop]; ij < mp->in_first[pop + 1]; ij++) {
			const S2pb__Projection *pj = net->pb->projections[mp->in_proj[ij]];
			unsigned r = pj->receptor == S2PB__PROJECTION__RECEPTOR__INHIBITORY;
			double m = proj_wmax(pj);
			if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
				lists = true;
				for (size_t i = 0; i < pj->from_list->n_weight; i++)
					m = fmax(m, fabs(pj->from_list->weight[i]));
			}
			wmax[r] = fmax(wmax[r], m);
		}
		uint32_t n = net->pb->populations[pop]->size;
		double *sum = lists ? calloc(2 * (size_t)n, sizeof *sum) : NULL;
		if (lists && !sum)
			return S2_E_NOMEM;
		for (uint32_t ij = mp->in_first[pop]; ij < mp->in_first[pop + 1]; ij++) {
			uint32_t j = mp->in_proj[ij];
			const S2pb__Projection *pj = net->pb->projections[j];
			unsigned r = pj->receptor == S2PB__PROJECTION__RECEPTOR__INHIBITORY;
			if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
				const S2pb__FromList *fl = pj->from_list;
				for (size_t k = 0; k < fl->n_post; k++)
					sum[r * (size_t)n + net->post_lo[j] + fl->post[k]] +=
					        fl->n_weight ? fabs(fl->weight[k]) : proj_wmax(pj);
			} else if (sum) {
				double w = proj_wmax(pj) * in_degree_bound(net, j);
				for (uint32_t i = net->post_lo[j]; i < net->post_hi[j]; i++)
					sum[r * (size_t)n + i] += w;
			} else {
				/* all neurons alike (slices ignored: an upper bound) */
				bound[r] += proj_wmax(pj) * in_degree_bound(net, j);
			}
		}
		for (unsigned r = 0; r < 2; r++) {
			for (uint32_t i = 0; sum && i < n; i++)
				bound[r] = fmax(bound[r], sum[r * (size_t)n + i]);
			double u = wmax[r] > 0 ? wmax[r] / 4000.0 : 1e-3;
			if (wmax[r] > 0) {
				double need = bound[r] / 65535.0;
				if (net->model[pop]->id != MODEL_NIR_NEURON)
					need = fmin(need, wmax[r] / 256.0);
				u = fmax(u, need);
			}
			mp->wunit[2 * (size_t)pop + r] = u;
		}
		free(sum);
	}
	return 0;
}

/* The PLASTIC entry (pedata.h) of a projection with a plastic rule into population pop, for
 * key-table entry `entry`; false for a static projection. */
static bool plastic_entry(const S2pb__Projection *pj, unsigned entry, uint8_t *out)
{
	const S2pb__Synapse *sy = pj->synapse;
	if (!sy)
		return false;
	float p[8] = {0};
	unsigned kind, flags = 0;
	if (!strcmp(sy->rule, "stdp")) {
		kind = !strcmp(sy->weight_dependence, "multiplicative") ? S2_PL_STDP_MULT
		                                                        : S2_PL_STDP_ADD;
		p[0] = (float)sy->w_min;
		p[1] = (float)sy->w_max;
		p[2] = (float)sy->tau_plus_ms;
		p[3] = (float)sy->tau_minus_ms;
		p[4] = (float)sy->a_plus;
		p[5] = (float)sy->a_minus;
		flags = sy->dendritic_delay_fraction == 1 ? S2_PL_F_DENDRITIC : 0;
	} else if (!strcmp(sy->rule, "vogels2011")) {
		kind = S2_PL_VOGELS;
		p[0] = (float)sy->w_min;
		p[1] = (float)sy->w_max;
		p[2] = (float)sy->tau_ms;
		p[3] = (float)sy->eta;
		p[4] = (float)sy->rho_hz;
		flags = sy->dendritic_delay_fraction == 1 ? S2_PL_F_DENDRITIC : 0;
	} else if (!strcmp(sy->rule, "tsodyks_markram")) {
		kind = S2_PL_TM;
		p[0] = (float)sy->u;
		p[1] = (float)sy->tau_rec_ms;
		p[2] = (float)sy->tau_facil_ms;
		/* the post-synaptic current's time constant (NEST's tau_psc): each post neuron's
		 * tau_syn of the receptor (the engine reads it; 0 for delta synapses) */
		p[3] = -1.0f;
	} else {
		return false;
	}
	memset(out, 0, S2_PE_PLASTIC_LEN);
	out[0] = (uint8_t)kind;
	out[1] = (uint8_t)flags;
	s2_st16(out + 2, (uint16_t)entry);
	for (unsigned k = 0; k < 8; k++)
		memcpy(out + 8 + 4 * k, &p[k], 4);
	return true;
}

/*
 * The fixed-point format of an event layer's PE (docs/egru.md): a weight w of the description
 * must be w_q * 2^-shift exactly, |w_q| within the weight bits; per unit and gate the sum of
 * |w_q| times the largest event value (S2_EV_MAX) must fit the accumulator, so no sum of a
 * step can overflow.
 */
struct ev_fmt {
	double unit[S2_EV_GATES]; /* 2^-shift per gate */
	long wmax;                /* 127 or 32767 */
	double acc_max;           /* 2^23 - 1 or 2^31 - 1 */
	double sum[S2_EV_GATES][S2_PE_MAX_NEURONS];
	const char *pop;
};

static double const_param(const struct net_model *md, const S2pb__Population *pop, const char *name)
{
	const S2pb__Value *v = find(pop->params, pop->n_params, name);
	int k = net_model_param(md, name, false);
	return v ? v->constant : md->params[k].def; /* constants: checked by network.c */
}

static void ev_begin(struct ev_fmt *f, const struct net_model *md, const S2pb__Population *pop)
{
	static const char *const gates[] = {"shift_u", "shift_r", "shift_cx", "shift_ch"};
	for (unsigned g = 0; g < S2_EV_GATES; g++)
		f->unit[g] = ldexp(
		        1.0, -(int)const_param(md, pop, md->id == MODEL_EGRU ? gates[g] : "shift"));
	bool wide = const_param(md, pop, "weight_bits") == 16;
	f->wmax = wide ? 32767 : 127;
	f->acc_max = wide ? 2147483647.0 : 8388607.0;
	f->pop = pop->label;
}

static int ev_word(struct ev_fmt *f, const S2pb__Projection *pj, const char *label, size_t i,
                   double w, uint32_t neuron, uint32_t *word, char *err, size_t errlen)
{
	unsigned g = pj->receptor == S2PB__PROJECTION__RECEPTOR__INPUT
	                     ? 0
	                     : (unsigned)(pj->receptor - S2PB__PROJECTION__RECEPTOR__GATE_U);
	double q = w / f->unit[g];
	if (q != floor(q) || fabs(q) > (double)f->wmax)
		return fail(
		        err, errlen,
		        "projection %s: from_list[%zu]: weight %.17g is not a whole multiple of "
		        "2^-%d within %ld of it (population %s, %d-bit weights)",
		        label, i, w, -ilogb(f->unit[g]), f->wmax, f->pop, f->wmax == 127 ? 8 : 16);
	f->sum[g][neuron] += fabs(q) * S2_EV_MAX;
	if (f->sum[g][neuron] > f->acc_max)
		return fail(
		        err, errlen,
		        "population %s: unit %u, gate %s: the weights into it could sum to %.0f, "
		        "beyond the %s-bit accumulator (%.0f); lower the weights or use "
		        "more shift",
		        f->pop, neuron, net_receptor_name(pj->receptor), f->sum[g][neuron],
		        f->wmax == 127 ? "24" : "32", f->acc_max);
	*word = s2_ev_word(neuron, g, (int)q);
	return 0;
}

static uint32_t csrc_step(double t_ms, double dt)
{
	double s = floor(t_ms / dt + 0.5);
	return s >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)s;
}

/* The CSOURCE section of part pt: each current source of its population that feeds one of
 * its neurons, as a descriptor with the neurons' mask; step times rounded to steps (of
 * several times in one step the last amplitude counts, as pyNN.brian2 does). */
static int put_csources(struct blob *b, const struct s2_net *net, const struct part *pt, double dt,
                        char *err, size_t errlen)
{
	const S2pb__Network *pb = net->pb;
	const char *label = pb->populations[pt->pop]->label;
	unsigned used = 0;
	for (size_t i = 0; i < pb->n_current_sources; i++) {
		const S2pb__CurrentSource *c = pb->current_sources[i];
		if (strcmp(c->population, label))
			continue;
		uint8_t mask[16] = {0};
		bool any = false;
		for (uint32_t k = 0; k < pt->n; k++) {
			bool in = c->n_neurons == 0;
			for (size_t q = 0; !in && q < c->n_neurons; q++)
				in = c->neurons[q] == pt->lo + k;
			if (in) {
				mask[k >> 3] |= (uint8_t)(1u << (k & 7));
				any = true;
			}
		}
		if (!any)
			continue;
		if (used == 0)
			begin(b, S2_SECT_CSOURCE);
		if (++used > S2_PE_MAX_CSRC)
			return fail(
			        err, errlen,
			        "population %s: more than %u current sources feed the neurons of "
			        "one PE",
			        label, S2_PE_MAX_CSRC);
		unsigned kind = !strcmp(c->kind, "dc")     ? S2_CSRC_DC
		                : !strcmp(c->kind, "step") ? S2_CSRC_STEP
		                : !strcmp(c->kind, "ac")   ? S2_CSRC_AC
		                                           : S2_CSRC_NOISY;
		double p[4] = {0};
		if (kind == S2_CSRC_DC) {
			p[0] = c->amplitude_na;
		} else if (kind == S2_CSRC_AC) {
			p[0] = c->amplitude_na;
			p[1] = c->offset_na;
			p[2] = c->frequency_hz;
			p[3] = c->phase_deg;
		} else if (kind == S2_CSRC_NOISY) {
			double iv = c->interval_ms > dt ? c->interval_ms : dt;
			p[0] = c->mean_na;
			p[1] = c->stdev_na;
			p[2] = floor(iv / dt + 0.5);
		}
		/* step points: one per step, the last of each step */
		uint32_t n_pts = 0;
		for (size_t q = 0; kind == S2_CSRC_STEP && q < c->n_times_ms; q++)
			n_pts += q + 1 == c->n_times_ms ||
			         csrc_step(c->times_ms[q], dt) != csrc_step(c->times_ms[q + 1], dt);
		uint8_t *h = grow(b, S2_PE_CSRC_HDR);
		if (!h)
			return S2_E_NOMEM;
		memset(h, 0, S2_PE_CSRC_HDR);
		h[0] = (uint8_t)kind;
		s2_st16(h + 2, (uint16_t)n_pts);
		uint32_t start = kind == S2_CSRC_STEP ? 0 : csrc_step(c->start_ms, dt);
		uint32_t stop = kind == S2_CSRC_STEP || c->stop_ms <= 0 ? 0xFFFFFFFFu
		                                                        : csrc_step(c->stop_ms, dt);
		s2_st32(h + 4, start);
		s2_st32(h + 8, stop < start ? start : stop);
		memcpy(h + 12, mask, sizeof mask);
		for (unsigned k = 0; k < 4; k++)
			st_f32(h + 28 + 4 * k, p[k]);
		for (size_t q = 0; kind == S2_CSRC_STEP && q < c->n_times_ms; q++) {
			if (q + 1 < c->n_times_ms &&
			    csrc_step(c->times_ms[q], dt) == csrc_step(c->times_ms[q + 1], dt))
				continue;
			u32(b, csrc_step(c->times_ms[q], dt));
			uint8_t *a = grow(b, 4);
			if (!a)
				return S2_E_NOMEM;
			st_f32(a, c->amplitudes_na[q]);
		}
	}
	if (used)
		end(b);
	return 0;
}

struct run {
	uint32_t pop, key_lo, n_keys, pre_lo, n_pre;
	uint8_t kbits;
	uint32_t per_part;
};

/* A population's share of the PE records, the same on each of its PEs: looked up once by
 * image_prep_new (name lookups and row templates), read by every thread. */
struct pop_prep {
	unsigned model; /* S2_MODEL_... */
	bool state_sect, rec_spikes, no_targets, argmax_split;
	uint8_t prow[S2_PE_PARAMS * 4], srow[S2_PE_STATE * 4]; /* encoded template rows */
	double prow_d[S2_PE_PARAMS + S2_PE_PARAMS2], srow_d[S2_PE_STATE]; /* PARAMS2: AdEx */
	unsigned pvar[NET_MAX_PARAMS], svar[4], n_pvar, n_svar;
	int pslot[NET_MAX_PARAMS], sslot[4];
	const S2pb__Value *pval[NET_MAX_PARAMS], *sval[4];
	uint64_t pseed[NET_MAX_PARAMS], sseed[4]; /* per-neuron value streams */
	float bg_r, bg_w;
	uint32_t budget, cyc_update; /* the real-time budget (pedata.h header) */
	uint16_t cyc_event_x10, cyc_packet;
	uint32_t *vrec_of; /* recordings of state variables of this population, indices */
	size_t n_vrec_of;
};

/* A projection's weight and delay distributions in the post population's units. */
struct proj_prep {
	uint8_t w_dist, d_dist;
	float w_a, w_b, d_a, d_b;
	double wlost, dlost;
	bool bad;    /* a kind the engine's expansion does not take */
	bool d_half; /* normal_clipped delays redrawn below half a step (S2_EXP_F_DELAY_HALF) */
};

struct image_prep {
	struct pop_prep *pop;
	struct proj_prep *proj;
	size_t n_pop;
};

struct image_scratch {
	struct run *runs;
	size_t n_runs, cap;
	struct blob b, rows, exp, slc;
};

void image_prep_free(struct image_prep *ip)
{
	if (!ip)
		return;
	for (size_t p = 0; p < ip->n_pop; p++)
		free(ip->pop[p].vrec_of);
	free(ip->pop);
	free(ip->proj);
	free(ip);
}

static unsigned engine_model(unsigned id)
{
	return id == MODEL_LIF_CURR_EXP     ? S2_MODEL_LIF_CURR_EXP
	       : id == MODEL_LIF_COND_EXP   ? S2_MODEL_LIF_COND_EXP
	       : id == MODEL_IZHIKEVICH     ? S2_MODEL_IZHIKEVICH
	       : id == MODEL_LIF_CURR_ALPHA ? S2_MODEL_LIF_CURR_ALPHA
	       : id == MODEL_LIF_COND_ALPHA ? S2_MODEL_LIF_COND_ALPHA
	       : id == MODEL_LIF_CURR_DELTA ? S2_MODEL_LIF_CURR_DELTA
	       : id == MODEL_ADEX_COND_EXP  ? S2_MODEL_ADEX_COND_EXP
	       : id == MODEL_HH_COND_EXP    ? S2_MODEL_HH_COND_EXP
	       : id == MODEL_LIF_COND_SFA   ? S2_MODEL_LIF_COND_SFA
	       : id == MODEL_NIR_NEURON     ? S2_MODEL_NIR
	       : id == MODEL_EGRU           ? S2_MODEL_EGRU
	       : id == MODEL_DENSE          ? S2_MODEL_DENSE
	       : id == MODEL_POISSON        ? S2_MODEL_POISSON
	                                    : S2_MODEL_SPIKE_ARRAY;
}

struct image_prep *image_prep_new(struct s2_mapping *mp, uint64_t seed_base)
{
	const struct s2_net *net = mp->net;
	const S2pb__Network *pb = net->pb;
	if (image_weight_units(mp) < 0)
		return NULL;
	struct image_prep *ip = calloc(1, sizeof *ip);
	if (!ip)
		return NULL;
	ip->pop = calloc(pb->n_populations + 1, sizeof *ip->pop);
	ip->proj = calloc(pb->n_projections + 1, sizeof *ip->proj);
	if (!ip->pop || !ip->proj) {
		image_prep_free(ip);
		return NULL;
	}
	ip->n_pop = pb->n_populations;
	double dt = pb->timestep_ms;
	for (size_t p = 0; p < pb->n_populations; p++) {
		struct pop_prep *pp = &ip->pop[p];
		const S2pb__Population *pop = pb->populations[p];
		const struct net_model *md = net->model[p];
		unsigned model = engine_model(md->id);
		pp->model = model;
		pp->state_sect =
		        model == S2_MODEL_LIF_CURR_EXP || model == S2_MODEL_LIF_COND_EXP ||
		        model == S2_MODEL_IZHIKEVICH || model == S2_MODEL_NIR || md->event_layer ||
		        model == S2_MODEL_LIF_CURR_ALPHA || model == S2_MODEL_LIF_COND_ALPHA ||
		        model == S2_MODEL_LIF_CURR_DELTA || model == S2_MODEL_ADEX_COND_EXP ||
		        model == S2_MODEL_HH_COND_EXP || model == S2_MODEL_LIF_COND_SFA;
		pp->argmax_split = md->id == MODEL_DENSE && const_param(md, pop, "argmax") != 0 &&
		                   mp->pops[p].count > 1;
		pp->no_targets = mp->out_first[p] == mp->out_first[p + 1];
		/* the budget the engine counts overruns against, and the model's measured costs
		 * for its modelled count (docs/engine.md "Real-time budget") */
		pp->budget = (uint32_t)(mp->rep.budget_cycles + 0.5);
		pp->cyc_update = (uint32_t)(md->cycles_update + 0.5);
		pp->cyc_event_x10 = (uint16_t)(md->cycles_event * 10 + 0.5);
		pp->cyc_packet = (uint16_t)(NET_CYCLES_PACKET + 0.5);
		for (unsigned k = 0; k < md->n_params; k++) {
			pp->pslot[k] = param_slot(md->id, md->params[k].name);
			pp->pval[k] = find(pop->params, pop->n_params, md->params[k].name);
			pp->pseed[k] = mix(seed_base ^ ((uint64_t)p << 40) ^ k);
		}
		for (unsigned k = 0; k < md->n_state; k++) {
			pp->sslot[k] = state_slot(md->id, md->state[k].name);
			pp->sval[k] = find(pop->initial, pop->n_initial, md->state[k].name);
			pp->sseed[k] = mix(seed_base ^ ((uint64_t)p << 40) ^ (100u + k));
		}
		/* Row templates: defaults and constants set once, only arrays and random values
		 * evaluated per neuron. */
		double *prow = pp->prow_d, *srow = pp->srow_d;
		if (model == S2_MODEL_LIF_CURR_EXP || model == S2_MODEL_LIF_CURR_ALPHA ||
		    model == S2_MODEL_LIF_CURR_DELTA) {
			static const double lif_def[] = {-65, -65, -50, 20, 1, 0.1, 5, 5, 0};
			memcpy(prow, lif_def, sizeof lif_def);
		} else if (model == S2_MODEL_ADEX_COND_EXP) {
			static const double adex_def[] = {-70.6, -70.6,  -50.4, 9.3667, 0.281, 0.1,
			                                  5,     5,      0,     0,      -80,   -40,
			                                  4,     0.0805, 2,     144};
			memcpy(prow, adex_def, sizeof adex_def);
		} else if (model == S2_MODEL_LIF_COND_EXP || model == S2_MODEL_LIF_COND_ALPHA) {
			static const double cond_def[] = {-65, -65, -50, 20, 1,  0.1,
			                                  5,   5,   0,   0,  -70};
			memcpy(prow, cond_def, sizeof cond_def);
		} else if (model == S2_MODEL_IZHIKEVICH) {
			static const double izk_def[] = {0.02, 0.2, -65, 2, 0};
			memcpy(prow, izk_def, sizeof izk_def);
		}
		for (unsigned k = 0; k < md->n_params; k++) {
			if (pp->pslot[k] < 0)
				continue;
			if (!pp->pval[k] || pp->pval[k]->kind_case == S2PB__VALUE__KIND_CONSTANT)
				prow[pp->pslot[k]] = value_at(pp->pval[k], md->params[k].def, 0, 0);
			else
				pp->pvar[pp->n_pvar++] = k;
		}
		for (unsigned k = 0; k < md->n_state; k++) {
			if (pp->sslot[k] < 0)
				continue;
			if (!pp->sval[k] || pp->sval[k]->kind_case == S2PB__VALUE__KIND_CONSTANT)
				srow[pp->sslot[k]] = value_at(pp->sval[k], md->state[k].def, 0, 0);
			else
				pp->svar[pp->n_svar++] = k;
		}
		double v[S2_PE_PARAMS];
		memcpy(v, prow, sizeof v);
		if (model == S2_MODEL_POISSON && v[2] > 1e9)
			v[2] = 0; /* "for ever" */
		for (unsigned k = 0; k < S2_PE_PARAMS; k++)
			st_f32(pp->prow + 4 * k, v[k]);
		for (unsigned k = 0; k < S2_PE_STATE; k++)
			st_f32(pp->srow + 4 * k, srow[k]);
		if (model == S2_MODEL_LIF_CURR_EXP || model == S2_MODEL_LIF_COND_EXP) {
			pp->bg_r = (float)const_param(md, pop, "bg_rate_hz");
			pp->bg_w = (float)const_param(
			        md, pop,
			        model == S2_MODEL_LIF_CURR_EXP ? "bg_weight_na" : "bg_weight_us");
		}
		/* recordings of this population */
		for (size_t r = 0; r < pb->n_recordings; r++) {
			const S2pb__Recording *rec = pb->recordings[r];
			if (strcmp(rec->population, pop->label))
				continue;
			if (!strcmp(rec->variable, "spikes")) {
				pp->rec_spikes = true;
				continue;
			}
			bool is_v = !strcmp(rec->variable, "v") ||
			            net_model_record_var(md, rec->variable) >= 0;
			if (!is_v)
				continue; /* refused by the network checks (network.c) */
			if (!pp->vrec_of &&
			    !(pp->vrec_of = calloc(pb->n_recordings, sizeof *pp->vrec_of))) {
				image_prep_free(ip);
				return NULL;
			}
			pp->vrec_of[pp->n_vrec_of++] = (uint32_t)r;
		}
	}
	for (size_t j = 0; j < pb->n_projections; j++) {
		const S2pb__Projection *pj = pb->projections[j];
		struct proj_prep *pr = &ip->proj[j];
		unsigned rcp = pj->receptor == S2PB__PROJECTION__RECEPTOR__INHIBITORY;
		double scale = word_scale(pj, mp->wunit[2 * (size_t)net->post[j] + rcp]);
		/* The engine redraws normal_clipped delays below one step, or below half of one
		 * (NEST's microcircuit since 2022: draws in [0.5, 1.5) steps make one step): the
		 * nearer to the description's lower bound. */
		const S2pb__Value *dv = pj->delay;
		pr->d_half = dv && dv->kind_case == S2PB__VALUE__KIND_RANDOM &&
		             dv->random->kind == S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED &&
		             dv->random->low < 0.75 * dt;
		pr->bad = dist_of(pj->weight, 0, scale, 0, 65535 * scale, &pr->w_dist, &pr->w_a,
		                  &pr->w_b, &pr->wlost) < 0 ||
		          dist_of(pj->delay, dt, dt, pr->d_half ? 0.5 * dt : dt,
		                  s2_pe_max_delay(mp->pops[net->post[j]].per_part) * dt,
		                  &pr->d_dist, &pr->d_a, &pr->d_b, &pr->dlost) < 0;
	}
	return ip;
}

struct image_scratch *image_scratch_new(void)
{
	return calloc(1, sizeof(struct image_scratch));
}

void image_scratch_free(struct image_scratch *sc)
{
	if (!sc)
		return;
	free(sc->runs);
	free(sc->b.buf.p);
	free(sc->rows.buf.p);
	free(sc->exp.buf.p);
	free(sc->slc.buf.p);
	free(sc);
}

/* Runs of consecutive source parts of one population from the sorted sources src. */
static int find_runs(const struct s2_mapping *mp, struct image_scratch *sc, const uint64_t *src,
                     long nsrc)
{
	if ((size_t)nsrc + 1 > sc->cap) {
		struct run *r = realloc(sc->runs, ((size_t)nsrc + 1) * sizeof *r);
		if (!r)
			return S2_E_NOMEM;
		sc->runs = r;
		sc->cap = (size_t)nsrc + 1;
	}
	size_t n_runs = 0;
	for (long k = 0; k < nsrc;) {
		uint64_t s0 = (uint32_t)src[k];
		const struct part *a = &mp->parts[s0];
		long e = k + 1;
		uint32_t n = a->n;
		while (e < nsrc) {
			const struct part *c = &mp->parts[(uint32_t)src[e]];
			const struct part *pv = &mp->parts[(uint32_t)src[e - 1]];
			if (c->pop != a->pop || c->kbits != a->kbits ||
			    (uint32_t)src[e] != (uint32_t)src[e - 1] + 1 ||
			    c->key != pv->key + (1u << pv->kbits) ||
			    pv->n != mp->pops[a->pop].per_part)
				break;
			n += c->n;
			e++;
		}
		/* A run of one part (perhaps a short last one with a smaller key block) has
		 * that part's size per part. */
		uint32_t per = e - k == 1 ? a->n : mp->pops[a->pop].per_part;
		sc->runs[n_runs++] = (struct run){
		        a->pop, a->key, (uint32_t)(e - k) << a->kbits, a->lo, n, a->kbits, per};
		k = e;
	}
	sc->n_runs = n_runs;
	return 0;
}

int image_put_pedata(struct s2_mapping *mp, const struct image_prep *ip, struct image_scratch *scr,
                     uint64_t q, const uint64_t *src, long nsrc, bool src_new,
                     uint64_t *const *fixed_total_share, uint64_t seed_base, struct map_buf *out,
                     char *err, size_t errlen)
{
	const struct s2_net *net = mp->net;
	const struct part *pt = &mp->parts[q];
	const S2pb__Population *pop = net->pb->populations[pt->pop];
	const struct net_model *md = net->model[pt->pop];
	const struct pop_prep *pp = &ip->pop[pt->pop];
	double dt = net->pb->timestep_ms;
	unsigned model = pp->model;
	/* The engine's timestep is a whole number of microseconds (docs/engine.md). */
	double dt_us = floor(dt * 1000.0 + 0.5);
	if (fabs(dt * 1000.0 - dt_us) > 1e-6 * dt_us || dt_us < S2_PE_DT_US_MIN ||
	    dt_us > S2_PE_DT_US_MAX)
		return fail(err, errlen,
		            "timestep %g ms: the engine runs a whole number of microseconds from "
		            "%g to %g ms",
		            dt, S2_PE_DT_US_MIN / 1000.0, S2_PE_DT_US_MAX / 1000.0);
	if (pt->n > S2_PE_MAX_NEURONS)
		return fail(err, errlen, "population %s: %u neurons on one PE, the engine takes %u",
		            pop->label, pt->n, S2_PE_MAX_NEURONS);
	int rc = 0;
	/* Runs of consecutive source parts of one population: the same as for the previous
	 * part when its sources were. */
	if (src_new && (rc = find_runs(mp, scr, src, nsrc)) < 0)
		return rc;
	const struct run *runs = scr->runs;
	size_t n_runs = scr->n_runs;
	/* Weight units per receptor (image_weight_units). */
	double scale[2] = {mp->wunit[2 * (size_t)pt->pop], mp->wunit[2 * (size_t)pt->pop + 1]};
	/* Event layers (docs/egru.md): per gate the weight unit 2^-shift, the weight bits, and
	 * per unit and gate the sum of |w_q| (the accumulator bound). */
	struct ev_fmt evf;
	if (md->event_layer) {
		memset(&evf, 0, sizeof evf);
		ev_begin(&evf, md, pop);
	}
	if (pp->argmax_split)
		return fail(err, errlen,
		            "population %s: argmax needs the whole layer on one PE (its %u units "
		            "are on %u PEs; at most %u per PE)",
		            pop->label, pop->size, mp->pops[pt->pop].count, S2_PE_MAX_NEURONS);

	struct blob *b = &scr->b;
	b->buf.n = 0;
	b->buf.failed = false;
	b->n_sect = 0;
	/* Parameters and initial state: the population's template row, per neuron only when
	 * an array or random value makes the rows differ; one row otherwise, which the engine
	 * gives every neuron (docs/pedata.md). */
	uint32_t prows = pp->n_pvar ? pt->n : 1, srows = pp->n_svar ? pt->n : 1;
	begin(b, S2_SECT_PARAMS);
	uint8_t *ppr = grow(b, (size_t)prows * S2_PE_PARAMS * 4);
	if (ppr && !pp->n_pvar)
		memcpy(ppr, pp->prow, sizeof pp->prow);
	for (uint32_t i = 0; ppr && pp->n_pvar && i < prows; i++) {
		double v[S2_PE_PARAMS + S2_PE_PARAMS2];
		memcpy(v, pp->prow_d, sizeof v);
		for (unsigned x = 0; x < pp->n_pvar; x++) {
			unsigned k = pp->pvar[x];
			v[pp->pslot[k]] =
			        value_at(pp->pval[k], md->params[k].def, pt->lo + i, pp->pseed[k]);
		}
		if (model == S2_MODEL_POISSON && v[2] > 1e9)
			v[2] = 0; /* "for ever" */
		for (unsigned k = 0; k < S2_PE_PARAMS; k++, ppr += 4)
			st_f32(ppr, v[k]);
	}
	end(b);
	if (model == S2_MODEL_ADEX_COND_EXP || model == S2_MODEL_HH_COND_EXP ||
	    model == S2_MODEL_LIF_COND_SFA) { /* the parameters beyond 12: PARAMS2 */
		begin(b, S2_SECT_PARAMS2);
		uint8_t *p2 = grow(b, (size_t)prows * S2_PE_PARAMS2 * 4);
		for (uint32_t i = 0; p2 && i < prows; i++) {
			double v[S2_PE_PARAMS + S2_PE_PARAMS2];
			memcpy(v, pp->prow_d, sizeof v);
			for (unsigned x = 0; x < pp->n_pvar; x++) {
				unsigned k = pp->pvar[x];
				v[pp->pslot[k]] = value_at(pp->pval[k], md->params[k].def,
				                           pt->lo + i, pp->pseed[k]);
			}
			for (unsigned k = 0; k < S2_PE_PARAMS2; k++, p2 += 4)
				st_f32(p2, v[S2_PE_PARAMS + k]);
		}
		end(b);
	}
	if (pp->state_sect) {
		begin(b, S2_SECT_STATE);
		uint8_t *sp = grow(b, (size_t)srows * S2_PE_STATE * 4);
		if (sp && !pp->n_svar)
			memcpy(sp, pp->srow, sizeof pp->srow);
		for (uint32_t i = 0; sp && pp->n_svar && i < srows; i++) {
			double v[S2_PE_STATE];
			memcpy(v, pp->srow_d, sizeof v);
			for (unsigned x = 0; x < pp->n_svar; x++) {
				unsigned k = pp->svar[x];
				v[pp->sslot[k]] = value_at(pp->sval[k], md->state[k].def,
				                           pt->lo + i, pp->sseed[k]);
			}
			for (unsigned k = 0; k < S2_PE_STATE; k++, sp += 4)
				st_f32(sp, v[k]);
		}
		end(b);
	}
	/* Recording. */
	bool rec_spikes = pp->rec_spikes;
	/* per neuron a bit per recorded variable (pedata.h RECORD_V): a neuron and variable
	 * named by several recordings once */
	uint8_t vsel[S2_PE_MAX_NEURONS];
	uint16_t vrec[S2_PE_MAX_RECORD_V];
	unsigned n_vrec = 0;
	if (pp->n_vrec_of)
		memset(vsel, 0, pt->n);
	for (size_t x = 0; x < pp->n_vrec_of; x++) {
		const S2pb__Recording *rec = net->pb->recordings[pp->vrec_of[x]];
		int var = strcmp(rec->variable, "v") ? net_model_record_var(md, rec->variable) : 0;
		uint8_t bit = (uint8_t)(1u << (var < 0 ? 0 : var));
		if (rec->n_neurons == 0) {
			for (uint32_t i = 0; i < pt->n; i++)
				vsel[i] |= bit;
			continue;
		}
		for (size_t k = 0; k < rec->n_neurons; k++)
			if (rec->neurons[k] >= pt->lo && rec->neurons[k] - pt->lo < pt->n)
				vsel[rec->neurons[k] - pt->lo] |= bit;
	}
	for (uint32_t i = 0; pp->n_vrec_of && i < pt->n; i++)
		for (unsigned var = 0; var < S2_REC_VARS; var++)
			if (vsel[i] >> var & 1u) {
				if (n_vrec == S2_PE_MAX_RECORD_V) {
					rc = fail(err, errlen,
					          "population %s: more than %u values recorded per "
					          "PE "
					          "(record fewer variables)",
					          pop->label, S2_PE_MAX_RECORD_V);
					goto out;
				}
				vrec[n_vrec++] = (uint16_t)(i | var << S2_REC_VAR_SHIFT);
			}
	if (n_vrec) {
		begin(b, S2_SECT_RECORD_V);
		for (unsigned i = 0; i < n_vrec; i++) {
			uint8_t *p = grow(b, 2);
			if (p)
				s2_st16(p, vrec[i]);
		}
		end(b);
	}
	/* Spike arrays. */
	if (model == S2_MODEL_SPIKE_ARRAY && pop->n_spike_times) {
		begin(b, S2_SECT_SPIKES);
		/* sorted by step: merge the neurons' (sorted) trains */
		size_t total = 0;
		for (uint32_t i = 0; i < pt->n; i++)
			total += pop->spike_times[pt->lo + i]->n_times_ms;
		uint64_t *ev = malloc((total + 1) * sizeof *ev);
		if (!ev) {
			rc = S2_E_NOMEM;
			goto out;
		}
		size_t m = 0;
		for (uint32_t i = 0; i < pt->n; i++) {
			const S2pb__SpikeTrain *t = pop->spike_times[pt->lo + i];
			for (size_t k = 0; k < t->n_times_ms; k++)
				ev[m++] = (uint64_t)llround(t->times_ms[k] / dt) << 16 | i;
		}
		/* step << 16 | neuron: unique keys, so the order is the same with any sort (trains
		 * drawn on the host are long: an insertion sort was quadratic in them) */
		qsort(ev, m, sizeof *ev, s2_map_cmp_u64);
		for (size_t x = 0; x < m; x++) {
			u32(b, (uint32_t)(ev[x] >> 16));
			u32(b, (uint32_t)(ev[x] & 0xFFFF));
		}
		free(ev);
		end(b);
	}
	/* Current sources into this PE's neurons (pedata.h CSOURCE, docs/engine.md). */
	if ((rc = put_csources(b, net, pt, dt, err, errlen)) < 0)
		goto out;
	/* Sources: explicit rows and expansion descriptors, per run and projection. */
	struct blob *rows = &scr->rows, *exp = &scr->exp, *slc = &scr->slc;
	rows->buf.n = exp->buf.n = slc->buf.n = 0;
	rows->buf.failed = exp->buf.failed = slc->buf.failed = false;
	bool sliced = false;
	unsigned entries = 0, n_expl = 0, n_expd = 0, n_pl = 0;
	struct {
		bool expl;
		unsigned ord;
		uint8_t d[S2_PE_PLASTIC_LEN];
	} pl[S2_PE_MAX_PLASTIC];
	for (size_t r = 0; r < n_runs; r++) {
		const struct run *ru = &runs[r];
		for (uint32_t ij = mp->in_first[pt->pop]; ij < mp->in_first[pt->pop + 1]; ij++) {
			uint32_t j = mp->in_proj[ij];
			const S2pb__Projection *pj = net->pb->projections[j];
			if (net->pre[j] != ru->pop)
				continue;
			const char *label = pj->label && pj->label[0] ? pj->label : "(unnamed)";
			/* The projection's slices: connectors count within them. */
			uint32_t sa = net->pre_lo[j], san = net->pre_hi[j] - net->pre_lo[j];
			uint32_t sc = net->post_lo[j], scn = net->post_hi[j] - net->post_lo[j];
			unsigned rcp = pj->receptor == S2PB__PROJECTION__RECEPTOR__INHIBITORY;
			if (++entries > S2_PE_MAX_TABLE) {
				rc = fail(err, errlen,
				          "population %s: a PE hears from more than %u runs of "
				          "sources",
				          pop->label, S2_PE_MAX_TABLE);
				goto out;
			}
			bool expl = pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST;
			if (pj->synapse && pj->synapse->rule[0] &&
			    strcmp(pj->synapse->rule, "static")) {
				if (n_pl == S2_PE_MAX_PLASTIC) {
					rc = fail(err, errlen,
					          "population %s: a PE hears from more than %u "
					          "runs of "
					          "sources through plastic synapses",
					          pop->label, S2_PE_MAX_PLASTIC);
					goto out;
				}
				pl[n_pl].expl = expl;
				pl[n_pl].ord = expl ? n_expl : n_expd;
				if (plastic_entry(pj, 0, pl[n_pl].d))
					n_pl++;
			}
			n_expl += expl;
			n_expd += !expl;
			if (expl) {
				/* Rows: one per pre neuron of the run, synapses to this part. */
				const S2pb__FromList *l = pj->from_list;
				uint32_t longest = 0;
				uint32_t *cnt = calloc(ru->n_pre + 1, sizeof *cnt);
				if (!cnt) {
					rc = S2_E_NOMEM;
					goto out;
				}
				for (size_t i = 0; i < l->n_pre; i++)
					if ((sa + l->pre[i]) >= ru->pre_lo &&
					    (sa + l->pre[i]) < ru->pre_lo + ru->n_pre &&
					    (sc + l->post[i]) >= pt->lo &&
					    (sc + l->post[i]) < pt->lo + pt->n)
						longest =
						        ++cnt[(sa + l->pre[i]) - ru->pre_lo] >
						                        longest
						                ? cnt[(sa + l->pre[i]) - ru->pre_lo]
						                : longest;
				if (longest > S2_PE_ROW_MAX) {
					free(cnt);
					rc = fail(err, errlen,
					          "projection %s: a row of %u synapses, the "
					          "engine takes %u",
					          label, longest, S2_PE_ROW_MAX);
					goto out;
				}
				uint32_t stride = longest + 1;
				u32(rows, ru->key_lo);
				u32(rows, ru->n_keys);
				u32(rows, (uint32_t)ru->kbits | ru->per_part << 16);
				u32(rows, ru->n_pre);
				u32(rows, stride);
				size_t base = rows->buf.n;
				if (!grow(rows, (size_t)ru->n_pre * stride * 4)) {
					free(cnt);
					rc = S2_E_NOMEM;
					goto out;
				}
				memset(cnt, 0, (ru->n_pre + 1) * sizeof *cnt);
				for (size_t i = 0; i < l->n_pre; i++) {
					if (!((sa + l->pre[i]) >= ru->pre_lo &&
					      (sa + l->pre[i]) < ru->pre_lo + ru->n_pre &&
					      (sc + l->post[i]) >= pt->lo &&
					      (sc + l->post[i]) < pt->lo + pt->n))
						continue;
					uint32_t row = (sa + l->pre[i]) - ru->pre_lo;
					double w = l->n_weight ? l->weight[i]
					                       : value_at(pj->weight, 0,
					                                  (uint32_t)i, 0);
					double d = l->n_delay ? l->delay[i]
					                      : value_at(pj->delay, dt, (uint32_t)i,
					                                 0);
					long steps = lround(d / dt);
					if (steps < 1 || steps > (long)s2_pe_max_delay(pt->n)) {
						free(cnt);
						rc = fail(err, errlen,
						          "projection %s: delay %g ms is not 1-%u "
						          "timesteps (a PE of %u neurons)",
						          label, d, s2_pe_max_delay(pt->n), pt->n);
						goto out;
					}
					uint8_t *rp = rows->buf.p + base + (size_t)row * stride * 4;
					uint32_t word = 0;
					if (md->event_layer) {
						if ((rc = ev_word(&evf, pj, label, i, w,
						                  (sc + l->post[i]) - pt->lo, &word,
						                  err, errlen)) < 0) {
							free(cnt);
							goto out;
						}
					} else {
						long wu = lround(fabs(w) /
						                 word_scale(pj, scale[rcp]));
						if (wu == 0 && w != 0) {
							free(cnt);
							rc = fail(
							        err, errlen,
							        "projection %s into population %s: "
							        "the weights cannot be "
							        "represented: "
							        "weight %g of entry %zu rounds to "
							        "zero "
							        "weight units (unit %g)",
							        label, pop->label, w, i,
							        scale[rcp]);
							goto out;
						}
						word = s2_syn_word(
						        (sc + l->post[i]) - pt->lo, rcp,
						        (unsigned)steps,
						        (unsigned)(wu > 65535 ? 65535 : wu));
					}
					s2_st32(rp + 4 * ++cnt[row], word);
					s2_st32(rp, cnt[row]);
				}
				free(cnt);
				continue;
			}
			struct s2_pe_expand x = {.receptor = (uint8_t)rcp,
			                         .key_lo = ru->key_lo,
			                         .n_keys = ru->n_keys,
			                         .part_bits = ru->kbits,
			                         .per_part = (uint16_t)ru->per_part,
			                         .pre_lo = ru->pre_lo,
			                         .n_pre = ru->n_pre,
			                         .pre_total = net->pb->populations[ru->pop]->size,
			                         .post_lo = pt->lo,
			                         .post_total = pop->size,
			                         .pre_s_lo = sa,
			                         .pre_s_n = san,
			                         .post_s_lo = sc,
			                         .post_s_n = scn};
			sliced |= sa != 0 || san != x.pre_total || sc != 0 || scn != x.post_total;
			bool self = net->pre[j] == pt->pop;
			x.flags = self ? S2_EXP_F_SAME_POP : 0;
			switch (pj->connector_case) {
			case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
				x.connector = S2_CONN_ALL_TO_ALL;
				x.flags |= pj->all_to_all->allow_self ? S2_EXP_F_ALLOW_SELF : 0;
				break;
			case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
				x.connector = S2_CONN_ONE_TO_ONE;
				x.flags |= S2_EXP_F_ALLOW_SELF;
				break;
			case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
				x.connector = S2_CONN_FIXED_PROB;
				x.p = (float)pj->fixed_probability->p;
				x.flags |=
				        pj->fixed_probability->allow_self ? S2_EXP_F_ALLOW_SELF : 0;
				break;
			case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
				x.connector = S2_CONN_FIXED_NUMBER_PRE;
				x.n = pj->fixed_number_pre->n;
				x.flags |=
				        (pj->fixed_number_pre->allow_self ? S2_EXP_F_ALLOW_SELF
				                                          : 0) |
				        (pj->fixed_number_pre->with_replacement ? S2_EXP_F_REPLACE
				                                                : 0);
				break;
			case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST:
				x.connector = S2_CONN_FIXED_NUMBER_POST;
				x.n = pj->fixed_number_post->n;
				x.flags |=
				        (pj->fixed_number_post->allow_self ? S2_EXP_F_ALLOW_SELF
				                                           : 0) |
				        (pj->fixed_number_post->with_replacement ? S2_EXP_F_REPLACE
				                                                 : 0);
				break;
			case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL: {
				/* This part's share, split over the runs of the pre population by
				 * their sizes (largest remainder, ties to the earlier run). */
				uint64_t share =
				        fixed_total_share && fixed_total_share[j]
				                ? fixed_total_share[j][q - mp->pops[pt->pop].first]
				                : 0;
				uint64_t given = 0, mine = 0;
				double best_frac = -1;
				size_t best = 0;
				for (size_t r2 = 0; r2 < n_runs; r2++) {
					if (runs[r2].pop != ru->pop)
						continue;
					/* the run's neurons inside the pre slice */
					uint32_t lo = runs[r2].pre_lo > sa ? runs[r2].pre_lo : sa;
					uint32_t hi = runs[r2].pre_lo + runs[r2].n_pre < sa + san
					                      ? runs[r2].pre_lo + runs[r2].n_pre
					                      : sa + san;
					double ex = lo < hi ? (double)share * (hi - lo) / san : 0;
					uint64_t fl = (uint64_t)floor(ex);
					given += fl;
					if (r2 == r)
						mine = fl;
					if (ex - floor(ex) > best_frac) {
						best_frac = ex - floor(ex);
						best = r2;
					}
				}
				/* The runs of this PE cover the whole pre slice (all its parts
				 * project here); the remainder goes to one run. */
				if (best == r)
					mine += share - given;
				x.connector = S2_CONN_FIXED_TOTAL;
				x.n = (uint32_t)mine;
				x.flags |= S2_EXP_F_REPLACE;
				break;
			}
			default:
				rc = fail(err, errlen, "projection %s: connector not supported",
				          label);
				goto out;
			}
			const struct proj_prep *pr = &ip->proj[j];
			double wlost = pr->wlost, dlost = pr->dlost;
			x.w_dist = pr->w_dist;
			x.w_a = pr->w_a;
			x.w_b = pr->w_b;
			x.d_dist = pr->d_dist;
			x.d_a = pr->d_a;
			x.d_b = pr->d_b;
			x.flags |= pr->d_half ? S2_EXP_F_DELAY_HALF : 0;
			if (pr->bad) {
				rc = fail(err, errlen,
				          "projection %s: weights or delays of that kind are "
				          "not supported by the engine's expansion",
				          label);
				goto out;
			}
			/* Values the engine cannot hold: refused, with the size of the error
			 * (docs/engine.md, "Nothing clipped in silence"). */
			if (wlost > 1e-6 || dlost > 1e-6) {
				rc = fail(
				        err, errlen,
				        "projection %s into population %s: %s cannot be "
				        "represented: %s %.3g (weight unit %g, delays 1-%u steps "
				        "of %g ms)",
				        label, pop->label,
				        wlost > 1e-6 ? "the weights" : "the delays",
				        (wlost > 1e-6 ? wlost : dlost) >= 1
				                ? "the value rounds to zero weight units; fraction"
				                : "the fraction of the distribution the engine "
				                  "would "
				                  "clip elsewhere than the description is",
				        wlost > 1e-6 ? wlost : dlost, scale[rcp],
				        s2_pe_max_delay(pt->n), dt);
				goto out;
			}
			/* dist_of takes |const|: delays are positive, fine */
			if (x.d_dist == S2_DIST_CONST &&
			    (x.d_a < 0.5f || x.d_a > s2_pe_max_delay(pt->n) + 0.49f)) {
				rc = fail(err, errlen,
				          "projection %s: delay %g ms is not 1-%u timesteps", label,
				          x.d_a * dt, s2_pe_max_delay(pt->n));
				goto out;
			}
			/* fixed number post: every post PE must draw the same lists. */
			uint64_t sd = mix(seed_base ^ (0x5EEDull << 32) ^ ((uint64_t)j << 16) ^
			                  (x.connector == S2_CONN_FIXED_NUMBER_POST ? 0 : q + 1));
			x.seed = (uint32_t)(sd ^ (sd >> 32));
			uint8_t *p = grow(exp, S2_PE_EXPAND_LEN);
			if (p)
				s2_pedata_expand_encode(p, &x);
			if ((p = grow(slc, S2_PE_SLICE_LEN)))
				s2_pedata_slice_encode(p, &x);
		}
	}
	if (rows->buf.n) {
		begin(b, S2_SECT_ROWS);
		uint8_t *p = grow(b, rows->buf.n);
		if (p)
			memcpy(p, rows->buf.p, rows->buf.n);
		end(b);
	}
	if (exp->buf.n) {
		begin(b, S2_SECT_EXPAND);
		uint8_t *p = grow(b, exp->buf.n);
		if (p)
			memcpy(p, exp->buf.p, exp->buf.n);
		end(b);
	}
	if (exp->buf.n && sliced) { /* only when a projection is sliced: others' bytes unchanged */
		begin(b, S2_SECT_SLICES);
		uint8_t *p = grow(b, slc->buf.n);
		if (p)
			memcpy(p, slc->buf.p, slc->buf.n);
		end(b);
	}
	if (n_pl) { /* entries: the explicit rows first, then the descriptors (s2_eng_init) */
		begin(b, S2_SECT_PLASTIC);
		for (unsigned i = 0; i < n_pl; i++) {
			uint8_t *p = grow(b, S2_PE_PLASTIC_LEN);
			if (p) {
				memcpy(p, pl[i].d, S2_PE_PLASTIC_LEN);
				s2_st16(p + 2,
				        (uint16_t)(pl[i].expl ? pl[i].ord : n_expl + pl[i].ord));
			}
		}
		end(b);
	}
	if (rows->buf.failed || exp->buf.failed || slc->buf.failed || b->buf.failed) {
		rc = S2_E_NOMEM;
		goto out;
	}
	/* Header and section table in front. */
	size_t head = S2_PEDATA_HDR_LEN + (size_t)b->n_sect * S2_PEDATA_SECT_LEN;
	uint8_t *o = map_buf_grow(out, head + b->buf.n);
	if (!o) {
		rc = S2_E_NOMEM;
		goto out;
	}
	uint64_t ps = mix(seed_base ^ (0xB0Bull << 40) ^ q);
	struct s2_pedata h = {
	        .model = (uint16_t)model,
	        .n_neurons = (uint16_t)pt->n,
	        .n_record_v = (uint16_t)n_vrec,
	        .dt_us = (uint32_t)dt_us,
	        .key_base = pt->key,
	        .seed = (uint32_t)(ps ^ (ps >> 32)),
	        .w_scale_e = (float)scale[0],
	        .w_scale_i = (float)scale[1],
	        /* dram_base/dram_size: set by the loader */
	        /* bit 1: no projection leaves the population, its spikes have nowhere to go (the
	         * port does not send them; a live stream still sees them) */
	        .flags = (uint16_t)((rec_spikes ? S2_PD_F_RECORD_SPIKES : 0) |
	                            (pp->no_targets ? S2_PD_F_NO_TARGETS : 0)),
	        .budget = pp->budget,
	        .cyc_update = pp->cyc_update,
	        .cyc_event_x10 = pp->cyc_event_x10,
	        .cyc_packet = pp->cyc_packet,
	};
	if (model == S2_MODEL_LIF_CURR_EXP || model == S2_MODEL_LIF_COND_EXP) {
		h.bg_rate_hz = pp->bg_r;
		h.bg_weight = pp->bg_w;
	}
	s2_pedata_header_encode(o, &h, b->n_sect);
	for (unsigned i = 0; i < b->n_sect; i++) {
		uint8_t *e = o + S2_PEDATA_HDR_LEN + i * S2_PEDATA_SECT_LEN;
		memcpy(e, b->table[i], S2_PEDATA_SECT_LEN);
		s2_st32(e + 4, s2_ld32(e + 4) + (uint32_t)head);
	}
	memcpy(o + head, b->buf.p, b->buf.n);
out:
	return rc;
}
