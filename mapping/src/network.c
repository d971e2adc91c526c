/*
 * s2 networks (mapping/include/s2/network.h, docs/network.md): decoding and validation of
 * the binary form, encoding, files, queries, and the arena the JSON reader and the example
 * generators build messages in. Validation is the single gate: binary input is unpacked and
 * checked here; JSON and generated networks are packed, unpacked and checked here too.
 */
#include "s2/network.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_internal.h"
#include "s2/pedata.h"
#include "s2/error.h"
#include "s2/fileio.h"

#define NET_FILE_KIND S2_SFILE_KIND('N', 'E', 'T', 'W')
#define NET_FILE_VERSION 1u

void net_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- arena ---------------------------------------------------------------------------- */

struct net_chunk {
	struct net_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *net_arena_alloc(struct net_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct net_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);
		c = malloc(sizeof *c + cap);
		if (!c) {
			a->failed = true;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *net_arena_strdup(struct net_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = net_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void net_arena_free(struct net_arena *a)
{
	while (a->head) {
		struct net_chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}

S2pb__Value *net_value_const(struct net_arena *a, double v)
{
	S2pb__Value *x = net_arena_alloc(a, sizeof *x);
	if (!x)
		return NULL;
	s2pb__value__init(x);
	x->kind_case = S2PB__VALUE__KIND_CONSTANT;
	x->constant = v;
	return x;
}

S2pb__Value *net_value_dist(struct net_arena *a, S2pb__Distribution__Kind kind, double p1,
                            double p2, double low, double high)
{
	S2pb__Value *x = net_arena_alloc(a, sizeof *x);
	S2pb__Distribution *d = net_arena_alloc(a, sizeof *d);
	if (!x || !d)
		return NULL;
	s2pb__value__init(x);
	s2pb__distribution__init(d);
	d->kind = kind;
	if (kind == S2PB__DISTRIBUTION__KIND__UNIFORM) {
		d->low = p1;
		d->high = p2;
	} else {
		d->mean = p1;
		d->sd = p2;
		d->low = low;
		d->high = high;
	}
	x->kind_case = S2PB__VALUE__KIND_RANDOM;
	x->random = d;
	return x;
}

/* ---- validation ----------------------------------------------------------------------- */

struct check {
	char *err;
	size_t errlen;
	double dt;
};

/* A Value of an item: present, finite, in [min, max]; arrays only when n_array != 0 and then
 * of exactly n_array values. */
static int check_value(struct check *k, const char *item, const char *what, const S2pb__Value *v,
                       double min, double max, uint64_t n_array, const char *array_of)
{
	if (!v || v->kind_case == S2PB__VALUE__KIND__NOT_SET) {
		net_seterr(k->err, k->errlen, "%s: %s: missing value", item, what);
		return S2_E_FORMAT;
	}
	switch (v->kind_case) {
	case S2PB__VALUE__KIND_CONSTANT:
		if (!isfinite(v->constant) || v->constant < min || v->constant > max) {
			net_seterr(k->err, k->errlen, "%s: %s: %g is outside %g to %g", item, what,
			           v->constant, min, max);
			return S2_E_RANGE;
		}
		return 0;
	case S2PB__VALUE__KIND_ARRAY:
		if (!n_array) {
			net_seterr(k->err, k->errlen,
			           "%s: %s: an array of values is only allowed %s", item, what,
			           array_of);
			return S2_E_FORMAT;
		}
		if (!v->array || v->array->n_values != n_array) {
			net_seterr(k->err, k->errlen, "%s: %s: %zu values given, %llu needed (%s)",
			           item, what, v->array ? v->array->n_values : 0,
			           (unsigned long long)n_array, array_of);
			return S2_E_FORMAT;
		}
		for (size_t i = 0; i < n_array; i++) {
			double x = v->array->values[i];
			if (!isfinite(x) || x < min || x > max) {
				net_seterr(k->err, k->errlen, "%s: %s[%zu]: %g is outside %g to %g",
				           item, what, i, x, min, max);
				return S2_E_RANGE;
			}
		}
		return 0;
	case S2PB__VALUE__KIND_RANDOM: {
		const S2pb__Distribution *d = v->random;
		bool ok = d && isfinite(d->low) && isfinite(d->high) && isfinite(d->mean) &&
		          isfinite(d->sd) && d->sd >= 0;
		if (!ok) {
			net_seterr(k->err, k->errlen,
			           "%s: %s: distribution with a non-finite or "
			           "negative parameter",
			           item, what);
			return S2_E_RANGE;
		}
		switch (d->kind) {
		case S2PB__DISTRIBUTION__KIND__UNIFORM:
		case S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED:
			ok = d->low <= d->high && d->low >= min && d->high <= max;
			if (!ok) {
				net_seterr(k->err, k->errlen,
				           "%s: %s: bounds %g to %g are not an interval within %g "
				           "to %g",
				           item, what, d->low, d->high, min, max);
				return S2_E_RANGE;
			}
			if (d->kind == S2PB__DISTRIBUTION__KIND__UNIFORM)
				return 0;
			break; /* the mean must be in range too */
		case S2PB__DISTRIBUTION__KIND__NORMAL:
		case S2PB__DISTRIBUTION__KIND__EXPONENTIAL:
			break;
		default:
			net_seterr(k->err, k->errlen, "%s: %s: distribution kind %d is unknown",
			           item, what, (int)d->kind);
			return S2_E_FORMAT;
		}
		if (d->mean < min || d->mean > max) {
			net_seterr(k->err, k->errlen, "%s: %s: mean %g is outside %g to %g", item,
			           what, d->mean, min, max);
			return S2_E_RANGE;
		}
		return 0;
	}
	default:
		net_seterr(k->err, k->errlen, "%s: %s: unknown value kind", item, what);
		return S2_E_FORMAT;
	}
}

static int cmp_label(const void *a, const void *b, void *ctx)
{
	S2pb__Population **p = ctx;
	return strcmp(p[*(const uint32_t *)a]->label, p[*(const uint32_t *)b]->label);
}

/* qsort_r is not C11; a small merge sort of population indices by label. */
static void sort_labels(uint32_t *idx, uint32_t *tmp, size_t n, S2pb__Population **pops)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_labels(idx, tmp, h, pops);
	sort_labels(idx + h, tmp, n - h, pops);
	size_t i = 0, j = h, o = 0;
	while (i < h && j < n)
		tmp[o++] = cmp_label(&idx[j], &idx[i], pops) < 0 ? idx[j++] : idx[i++];
	while (i < h)
		tmp[o++] = idx[i++];
	while (j < n)
		tmp[o++] = idx[j++];
	memcpy(idx, tmp, n * sizeof *idx);
}

static long find_pop(const uint32_t *sorted, size_t n, S2pb__Population **pops, const char *label)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(pops[sorted[mid]]->label, label);
		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int check_population(struct check *k, struct s2_net *n, unsigned i)
{
	const S2pb__Population *p = n->pb->populations[i];
	char item[160];
	snprintf(item, sizeof item, "populations[%u] (%.100s)", i, p->label);
	if (!p->label[0]) {
		net_seterr(k->err, k->errlen, "%s: label must not be empty", item);
		return S2_E_FORMAT;
	}
	if (p->size == 0 || p->size > NET_MAX_POP_SIZE) {
		net_seterr(k->err, k->errlen, "%s: size %u is not 1-%u", item, p->size,
		           NET_MAX_POP_SIZE);
		return S2_E_RANGE;
	}
	const struct net_model *m = net_model_find(p->model);
	if (!m) {
		net_seterr(k->err, k->errlen, "%s: model '%.60s' is unknown (known: %s)", item,
		           p->model, net_model_names());
		return S2_E_NOTFOUND;
	}
	n->model[i] = m;
	for (int pass = 0; pass < 2; pass++) {
		bool state = pass == 1;
		size_t np = state ? p->n_initial : p->n_params;
		S2pb__Param **ps = state ? p->initial : p->params;
		for (size_t j = 0; j < np; j++) {
			int idx = net_model_param(m, ps[j]->name, state);
			if (idx < 0) {
				net_seterr(k->err, k->errlen,
				           "%s: %s '%.60s' is not one of model %s", item,
				           state ? "state variable" : "parameter", ps[j]->name,
				           m->name);
				return S2_E_NOTFOUND;
			}
			for (size_t q = 0; q < j; q++)
				if (!strcmp(ps[q]->name, ps[j]->name)) {
					net_seterr(k->err, k->errlen, "%s: '%.60s' is given twice",
					           item, ps[j]->name);
					return S2_E_FORMAT;
				}
			const struct net_param_def *d = state ? &m->state[idx] : &m->params[idx];
			int rc = check_value(k, item, d->name, ps[j]->value, d->min, d->max,
			                     p->size, "with one value per neuron");
			if (rc < 0)
				return rc;
		}
	}
	/* Event layers: the scales, weight bits and start step are one whole number per
	 * population (they set the fixed-point format of the whole layer, docs/egru.md). */
	for (size_t j = 0; m->event_layer && j < p->n_params; j++) {
		const char *pn = p->params[j]->name;
		const S2pb__Value *v = p->params[j]->value;
		if (strncmp(pn, "shift", 5) && strcmp(pn, "weight_bits") &&
		    strcmp(pn, "start_step") && strcmp(pn, "argmax"))
			continue;
		if (v->kind_case != S2PB__VALUE__KIND_CONSTANT ||
		    v->constant != floor(v->constant) ||
		    (!strcmp(pn, "weight_bits") && v->constant != 8 && v->constant != 16)) {
			net_seterr(k->err, k->errlen,
			           "%s: %s must be one whole number for the population%s", item, pn,
			           strcmp(pn, "weight_bits") ? "" : " (8 or 16)");
			return S2_E_RANGE;
		}
	}
	/* A spike source sends at most one spike per step: a Poisson source whose rate x dt
	 * exceeds one cannot be represented (it would be cut to one spike per step, losing mean
	 * and variance, in silence). Drive above that rate belongs in the target population's
	 * bg_rate_hz. Distributions: their upper bound (unbounded ones: mean + 5 s.d.). */
	if (m->id == MODEL_POISSON) {
		for (size_t j = 0; j < p->n_params; j++) {
			if (strcmp(p->params[j]->name, "rate_hz"))
				continue;
			const S2pb__Value *v = p->params[j]->value;
			double hi = 0;
			if (v->kind_case == S2PB__VALUE__KIND_CONSTANT)
				hi = v->constant;
			else if (v->kind_case == S2PB__VALUE__KIND_ARRAY)
				for (size_t q = 0; q < v->array->n_values; q++)
					hi = fmax(hi, v->array->values[q]);
			else if (v->kind_case == S2PB__VALUE__KIND_RANDOM) {
				const S2pb__Distribution *d = v->random;
				hi = d->kind == S2PB__DISTRIBUTION__KIND__UNIFORM ||
				                     d->kind ==
				                             S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED
				             ? d->high
				             : d->mean + 5 * d->sd;
			}
			if (hi * k->dt * 1e-3 > 1) {
				net_seterr(
				        k->err, k->errlen,
				        "%s: rate_hz %g is %.3g spikes per timestep of %g ms; a "
				        "spike source sends at most one per step, so its rate "
				        "cannot exceed %g Hz (for a Poisson input at a higher rate "
				        "give the target population bg_rate_hz and bg_weight_na, "
				        "docs/engine.md)",
				        item, hi, hi * k->dt * 1e-3, k->dt, 1e3 / k->dt);
				return S2_E_RANGE;
			}
		}
	}
	/* The background Poisson input is one rate and one weight per population (the engine
	 * holds it per PE, docs/engine.md). */
	for (size_t j = 0; j < p->n_params; j++) {
		const char *pn = p->params[j]->name;
		if (strncmp(pn, "bg_", 3))
			continue;
		if (p->params[j]->value->kind_case != S2PB__VALUE__KIND_CONSTANT) {
			net_seterr(k->err, k->errlen,
			           "%s: %s must be one number for the population (the background "
			           "input is per population)",
			           item, pn);
			return S2_E_RANGE;
		}
	}
	/* v_reset below v_thresh, where both are constants. */
	if (m->id == MODEL_LIF_CURR_EXP || m->id == MODEL_LIF_COND_EXP ||
	    m->id == MODEL_LIF_CURR_ALPHA || m->id == MODEL_LIF_COND_ALPHA ||
	    m->id == MODEL_LIF_CURR_DELTA || m->id == MODEL_ADEX_COND_EXP ||
	    m->id == MODEL_LIF_COND_SFA) {
		double reset = m->params[net_model_param(m, "v_reset_mv", false)].def,
		       thresh = m->params[net_model_param(m, "v_thresh_mv", false)].def;
		for (size_t j = 0; j < p->n_params; j++) {
			const S2pb__Value *v = p->params[j]->value;
			if (v->kind_case != S2PB__VALUE__KIND_CONSTANT)
				continue;
			if (!strcmp(p->params[j]->name, "v_reset_mv"))
				reset = v->constant;
			if (!strcmp(p->params[j]->name, "v_thresh_mv"))
				thresh = v->constant;
		}
		if (reset >= thresh) {
			net_seterr(k->err, k->errlen,
			           "%s: v_reset_mv %g is not below v_thresh_mv %g", item, reset,
			           thresh);
			return S2_E_RANGE;
		}
	}
	if (p->n_spike_times && m->id != MODEL_SPIKE_ARRAY) {
		net_seterr(k->err, k->errlen, "%s: spike_times are only for spike_source_array",
		           item);
		return S2_E_FORMAT;
	}
	if (m->id == MODEL_SPIKE_ARRAY && p->n_spike_times != p->size) {
		net_seterr(k->err, k->errlen, "%s: %zu spike trains for %u neurons", item,
		           p->n_spike_times, p->size);
		return S2_E_FORMAT;
	}
	for (size_t j = 0; j < p->n_spike_times; j++) {
		const S2pb__SpikeTrain *t = p->spike_times[j];
		for (size_t s = 0; s < t->n_times_ms; s++) {
			double x = t->times_ms[s];
			if (!isfinite(x) || x < 0 || (s && x < t->times_ms[s - 1])) {
				net_seterr(
				        k->err, k->errlen,
				        "%s: spike_times[%zu][%zu]: %g is negative or out of order",
				        item, j, s, x);
				return S2_E_RANGE;
			}
		}
	}
	if (!isfinite(p->rate_hint_hz) || p->rate_hint_hz < 0 || p->rate_hint_hz > 1e6) {
		net_seterr(k->err, k->errlen, "%s: rate_hint_hz %g is outside 0 to 1e6", item,
		           p->rate_hint_hz);
		return S2_E_RANGE;
	}
	n->neurons += p->size;
	return 0;
}

static int check_slice(struct check *k, const char *item, const char *what, const S2pb__Slice *s,
                       uint32_t size, uint32_t *lo, uint32_t *hi)
{
	*lo = 0;
	*hi = size;
	if (!s)
		return 0;
	if (s->start >= s->stop || s->stop > size) {
		net_seterr(k->err, k->errlen, "%s: %s [%u, %u) is not a slice of %u neurons", item,
		           what, s->start, s->stop, size);
		return S2_E_RANGE;
	}
	*lo = s->start;
	*hi = s->stop;
	return 0;
}

/* A plastic synapse rule (docs/network.md "Plastic synapses"): every parameter in range, a
 * constant delay and an initial weight within the bounds, a post population with synapses. */
static int check_synapse(struct check *k, struct s2_net *n, const char *item,
                         const S2pb__Projection *p)
{
	const S2pb__Synapse *s = p->synapse;
	const char *r = s->rule;
	bool stat = !r[0] || !strcmp(r, "static");
	bool stdp = !strcmp(r, "stdp"), vog = !strcmp(r, "vogels2011"),
	     tm = !strcmp(r, "tsodyks_markram");
	if (!stat && !stdp && !vog && !tm) {
		net_seterr(k->err, k->errlen,
		           "%s: synapse rule '%.60s' is unknown (known: static, stdp, vogels2011, "
		           "tsodyks_markram)",
		           item, r);
		return S2_E_NOTFOUND;
	}
	/* A parameter of another rule is refused, not carried along unused (the network's JSON
	 * form writes only the rule's own: it would not read back the same). */
	const struct {
		const char *name;
		double v;
		bool ok;
	} own[] = {{"w_min", s->w_min, stdp || vog},
	           {"w_max", s->w_max, stdp || vog},
	           {"dendritic_delay_fraction", s->dendritic_delay_fraction, stdp || vog},
	           {"tau_plus_ms", s->tau_plus_ms, stdp},
	           {"tau_minus_ms", s->tau_minus_ms, stdp},
	           {"a_plus", s->a_plus, stdp},
	           {"a_minus", s->a_minus, stdp},
	           {"tau_ms", s->tau_ms, vog},
	           {"eta", s->eta, vog},
	           {"rho_hz", s->rho_hz, vog},
	           {"u", s->u, tm},
	           {"tau_rec_ms", s->tau_rec_ms, tm},
	           {"tau_facil_ms", s->tau_facil_ms, tm}};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (!own[i].ok && own[i].v != 0) {
			net_seterr(k->err, k->errlen, "%s: synapse %s: %s is not a parameter of it",
			           item, stat ? "static" : r, own[i].name);
			return S2_E_RANGE;
		}
	if (!stdp && s->weight_dependence && s->weight_dependence[0]) {
		net_seterr(k->err, k->errlen,
		           "%s: synapse %s: weight_dependence is a parameter of stdp only", item,
		           stat ? "static" : r);
		return S2_E_RANGE;
	}
	if (stat)
		return 0;
	const char *bad = NULL, *why = NULL;
	double v = 0;
#define REQ(cond, name, val, reason)   \
	do {                           \
		if (!bad && !(cond)) { \
			bad = name;    \
			v = val;       \
			why = reason;  \
		}                      \
	} while (0)
	if (stdp || vog) {
		REQ(isfinite(s->w_min) && s->w_min >= 0, "w_min", s->w_min, "must be >= 0");
		REQ(isfinite(s->w_max) && s->w_max > 0, "w_max", s->w_max, "must be > 0");
		if (!bad && s->w_min > s->w_max) {
			net_seterr(k->err, k->errlen, "%s: synapse %s: w_min %g is above w_max %g",
			           item, r, s->w_min, s->w_max);
			return S2_E_RANGE;
		}
		REQ(s->dendritic_delay_fraction == 0 || s->dendritic_delay_fraction == 1,
		    "dendritic_delay_fraction", s->dendritic_delay_fraction,
		    "must be 0 (axonal) or 1 (dendritic)");
	}
	if (stdp) {
		bool mult = !strcmp(s->weight_dependence, "multiplicative");
		if (!mult && strcmp(s->weight_dependence, "additive")) {
			net_seterr(k->err, k->errlen,
			           "%s: synapse: weight_dependence '%.60s' is unknown (additive, "
			           "multiplicative)",
			           item, s->weight_dependence);
			return S2_E_RANGE;
		}
		REQ(isfinite(s->tau_plus_ms) && s->tau_plus_ms > 0, "tau_plus_ms", s->tau_plus_ms,
		    "must be > 0");
		REQ(isfinite(s->tau_minus_ms) && s->tau_minus_ms > 0, "tau_minus_ms",
		    s->tau_minus_ms, "must be > 0");
		REQ(isfinite(s->a_plus) && s->a_plus >= 0, "a_plus", s->a_plus, "must be >= 0");
		REQ(isfinite(s->a_minus) && s->a_minus >= 0, "a_minus", s->a_minus, "must be >= 0");
	}
	if (vog) {
		REQ(isfinite(s->tau_ms) && s->tau_ms > 0, "tau_ms", s->tau_ms, "must be > 0");
		REQ(isfinite(s->eta) && s->eta >= 0, "eta", s->eta, "must be >= 0");
		REQ(isfinite(s->rho_hz) && s->rho_hz >= 0, "rho_hz", s->rho_hz, "must be >= 0");
	}
	if (tm) {
		REQ(isfinite(s->u) && s->u > 0 && s->u <= 1, "u", s->u, "must be in (0, 1]");
		REQ(isfinite(s->tau_rec_ms) && s->tau_rec_ms > 0, "tau_rec_ms", s->tau_rec_ms,
		    "must be > 0");
		REQ(isfinite(s->tau_facil_ms) && s->tau_facil_ms >= 0, "tau_facil_ms",
		    s->tau_facil_ms, "must be >= 0");
	}
#undef REQ
	if (bad) {
		net_seterr(k->err, k->errlen, "%s: synapse %s: %s %g %s", item, r, bad, v, why);
		return S2_E_RANGE;
	}
	if (p->receptor > S2PB__PROJECTION__RECEPTOR__INHIBITORY) {
		net_seterr(k->err, k->errlen,
		           "%s: synapse %s: only on the excitatory or inhibitory "
		           "receptor of a spiking neuron",
		           item, r);
		return S2_E_RANGE;
	}
	if (stdp || vog) {
		const S2pb__FromList *fl =
		        p->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST ? p->from_list
		                                                                   : NULL;
		bool const_d = fl && fl->n_delay ? true
		                                 : !p->delay || p->delay->kind_case ==
		                                                        S2PB__VALUE__KIND_CONSTANT;
		for (size_t i = 1; fl && i < fl->n_delay; i++)
			const_d = const_d && fl->delay[i] == fl->delay[0];
		if (!const_d) {
			net_seterr(
			        k->err, k->errlen,
			        "%s: synapse %s: the delay must be one constant (the engine keeps "
			        "one delay per plastic projection)",
			        item, r);
			return S2_E_RANGE;
		}
		double d0 = fl && fl->n_delay ? fl->delay[0]
		            : p->delay        ? p->delay->constant
		                              : k->dt;
		if (d0 > k->dt * S2_PE_MAX_DELAY * (1 + 1e-9)) {
			net_seterr(
			        k->err, k->errlen,
			        "%s: synapse %s: delay %g ms is beyond %u timesteps (%g ms), the "
			        "longest a plastic synapse's pre events wait (docs/engine.md)",
			        item, r, d0, S2_PE_MAX_DELAY, k->dt * S2_PE_MAX_DELAY);
			return S2_E_RANGE;
		}
		double lo = s->w_min * (1 - 1e-9), hi = s->w_max * (1 + 1e-9);
		for (size_t i = 0; fl && i < fl->n_weight; i++)
			if (!(fabs(fl->weight[i]) >= lo && fabs(fl->weight[i]) <= hi)) {
				net_seterr(
				        k->err, k->errlen,
				        "%s: synapse %s: weight %g of entry %zu is outside [w_min, "
				        "w_max] = [%g, %g]",
				        item, r, fl->weight[i], i, s->w_min, s->w_max);
				return S2_E_RANGE;
			}
		if (!(fl && fl->n_weight) && p->weight &&
		    p->weight->kind_case == S2PB__VALUE__KIND_CONSTANT &&
		    !(fabs(p->weight->constant) >= lo && fabs(p->weight->constant) <= hi)) {
			net_seterr(k->err, k->errlen,
			           "%s: synapse %s: weight %g is outside [w_min, w_max] = [%g, %g]",
			           item, r, p->weight->constant, s->w_min, s->w_max);
			return S2_E_RANGE;
		}
	}
	(void)n;
	return 0;
}

static int check_projection(struct check *k, struct s2_net *n, unsigned j, const uint32_t *sorted)
{
	S2pb__Network *pb = n->pb;
	const S2pb__Projection *p = pb->projections[j];
	char item[200];
	/* an unlabelled projection is named by its populations */
	if (p->label[0])
		snprintf(item, sizeof item, "projections[%u] (%.60s)", j, p->label);
	else
		snprintf(item, sizeof item, "projections[%u] (unlabelled, %.60s -> %.60s)", j,
		         p->pre, p->post);
	long pre = find_pop(sorted, pb->n_populations, pb->populations, p->pre);
	long post = find_pop(sorted, pb->n_populations, pb->populations, p->post);
	if (pre < 0 || post < 0) {
		net_seterr(k->err, k->errlen, "%s: %s population '%.60s' does not exist", item,
		           pre < 0 ? "pre" : "post", pre < 0 ? p->pre : p->post);
		return S2_E_NOTFOUND;
	}
	n->pre[j] = (uint32_t)pre;
	n->post[j] = (uint32_t)post;
	if (!n->model[post]->has_synapses) {
		net_seterr(k->err, k->errlen,
		           "%s: post population '%.60s' is a %s and takes no "
		           "synapses",
		           item, p->post, n->model[post]->name);
		return S2_E_INVAL;
	}
	int rc = check_slice(k, item, "pre_slice", p->pre_slice, pb->populations[pre]->size,
	                     &n->pre_lo[j], &n->pre_hi[j]);
	if (rc == 0)
		rc = check_slice(k, item, "post_slice", p->post_slice, pb->populations[post]->size,
		                 &n->post_lo[j], &n->post_hi[j]);
	if (rc < 0)
		return rc;
	uint64_t npre = n->pre_hi[j] - n->pre_lo[j], npost = n->post_hi[j] - n->post_lo[j];
	uint64_t list = 0;
	/* Event layers (docs/egru.md): gates, signed listed weights, one-step delays; their
	 * graded events go to event layers only (a spiking neuron would drop the value). */
	bool ev = n->model[post]->event_layer;
	bool gate = p->receptor >= S2PB__PROJECTION__RECEPTOR__GATE_U &&
	            p->receptor <= S2PB__PROJECTION__RECEPTOR__GATE_CH;
	if (ev && !(n->model[post]->id == MODEL_EGRU
	                    ? gate
	                    : p->receptor == S2PB__PROJECTION__RECEPTOR__INPUT)) {
		net_seterr(k->err, k->errlen,
		           "%s: post population '%.60s' is %s: receptor must be %s", item, p->post,
		           n->model[post]->name,
		           n->model[post]->id == MODEL_EGRU ? "u, r, cx or ch" : "input");
		return S2_E_RANGE;
	}
	if (!ev && p->receptor > S2PB__PROJECTION__RECEPTOR__INHIBITORY &&
	    p->receptor <= S2PB__PROJECTION__RECEPTOR__INPUT) {
		net_seterr(k->err, k->errlen,
		           "%s: receptor %s is for event layers (egru, dense), not %s", item,
		           net_receptor_name(p->receptor), n->model[post]->name);
		return S2_E_RANGE;
	}
	if (n->model[pre]->event_layer && !ev) {
		net_seterr(k->err, k->errlen,
		           "%s: pre population '%.60s' sends graded events (%s): post must be an "
		           "event layer (egru, dense), not %s",
		           item, p->pre, n->model[pre]->name, n->model[post]->name);
		return S2_E_RANGE;
	}
	if (ev && p->connector_case != S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
		net_seterr(k->err, k->errlen,
		           "%s: projections into %s take from_list (the sparse weights)", item,
		           n->model[post]->name);
		return S2_E_FORMAT;
	}
	double wlo = ev ? -1e6 : 0, whi = ev ? 1e6 : 1e3;
	switch (p->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		if (p->connector_case == S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE && npre != npost) {
			net_seterr(k->err, k->errlen,
			           "%s: one_to_one needs equal sizes, pre has %llu and post %llu",
			           item, (unsigned long long)npre, (unsigned long long)npost);
			return S2_E_RANGE;
		}
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY: {
		double pr = p->fixed_probability->p;
		if (!isfinite(pr) || pr < 0 || pr > 1) {
			net_seterr(k->err, k->errlen, "%s: fixed_probability p %g is not 0-1", item,
			           pr);
			return S2_E_RANGE;
		}
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
		bool is_pre = p->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE;
		const S2pb__FixedNumber *f = is_pre ? p->fixed_number_pre : p->fixed_number_post;
		uint64_t avail = is_pre ? npre : npost;
		if (!f->with_replacement && f->n > avail) {
			net_seterr(k->err, k->errlen,
			           "%s: %s n %u is more than the %llu neurons there are (without "
			           "replacement)",
			           item, is_pre ? "fixed_number_pre" : "fixed_number_post", f->n,
			           (unsigned long long)avail);
			return S2_E_RANGE;
		}
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		if (!p->fixed_total->with_replacement && p->fixed_total->n > npre * npost) {
			net_seterr(k->err, k->errlen,
			           "%s: fixed_total n %llu is more than the %llu pairs there are",
			           item, (unsigned long long)p->fixed_total->n,
			           (unsigned long long)(npre * npost));
			return S2_E_RANGE;
		}
		break;
	case S2PB__PROJECTION__CONNECTOR_FROM_LIST: {
		const S2pb__FromList *l = p->from_list;
		list = l->n_pre;
		if (l->n_post != list || (l->n_weight && l->n_weight != list) ||
		    (l->n_delay && l->n_delay != list)) {
			net_seterr(k->err, k->errlen,
			           "%s: from_list has %zu pre, %zu post, %zu weights, %zu delays "
			           "(all must match, weights and delays may be empty)",
			           item, l->n_pre, l->n_post, l->n_weight, l->n_delay);
			return S2_E_FORMAT;
		}
		for (size_t i = 0; i < list; i++) {
			if (l->pre[i] >= npre || l->post[i] >= npost) {
				net_seterr(k->err, k->errlen,
				           "%s: from_list[%zu]: %u -> %u is outside %llu x %llu",
				           item, i, l->pre[i], l->post[i], (unsigned long long)npre,
				           (unsigned long long)npost);
				return S2_E_RANGE;
			}
			if (l->n_weight &&
			    (!isfinite(l->weight[i]) || l->weight[i] < wlo || l->weight[i] > whi)) {
				net_seterr(
				        k->err, k->errlen,
				        "%s: from_list[%zu]: weight %g %s is outside %g to %g",
				        item, i, l->weight[i],
				        n->model[post]->id == MODEL_LIF_COND_EXP ||
				                        n->model[post]->id ==
				                                MODEL_LIF_COND_ALPHA ||
				                        n->model[post]->id == MODEL_ADEX_COND_EXP ||
				                        n->model[post]->id == MODEL_HH_COND_EXP ||
				                        n->model[post]->id == MODEL_LIF_COND_SFA
				                ? "uS"
				        : n->model[post]->id == MODEL_IZHIKEVICH ||
				                        n->model[post]->id == MODEL_LIF_CURR_DELTA
				                ? "mV"
				        : ev ? "(w_q x 2^-shift)"
				             : "nA",
				        wlo, whi);
				return S2_E_RANGE;
			}
			if (ev && l->n_delay && fabs(l->delay[i] - k->dt) > 1e-9 * k->dt) {
				net_seterr(k->err, k->errlen,
				           "%s: from_list[%zu]: delay %g ms: event layers take "
				           "exactly "
				           "one timestep (%g ms)",
				           item, i, l->delay[i], k->dt);
				return S2_E_RANGE;
			}
			if (l->n_delay && (!isfinite(l->delay[i]) || l->delay[i] < k->dt ||
			                   l->delay[i] > k->dt * NET_MAX_DELAY_STEPS)) {
				net_seterr(k->err, k->errlen,
				           "%s: from_list[%zu]: delay %g ms is outside %g to %g",
				           item, i, l->delay[i], k->dt,
				           k->dt * NET_MAX_DELAY_STEPS);
				return S2_E_RANGE;
			}
		}
		break;
	}
	default:
		net_seterr(k->err, k->errlen, "%s: no connector", item);
		return S2_E_FORMAT;
	}
	bool listed_w = list && p->from_list->n_weight, listed_d = list && p->from_list->n_delay;
	if (!listed_w) {
		rc = check_value(k, item, "weight", p->weight, wlo, whi, list,
		                 "with from_list (one per entry)");
		if (rc < 0)
			return rc;
	}
	if (!listed_d && p->delay) {
		/* a normal_clipped delay may be redrawn below half a step (NEST's rule: draws in
		 * [0.5, 1.5) steps round to one step); every other delay is at least one step */
		bool nc = p->delay->kind_case == S2PB__VALUE__KIND_RANDOM &&
		          p->delay->random->kind == S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED;
		rc = check_value(k, item, "delay", p->delay, nc ? 0.5 * k->dt : k->dt,
		                 k->dt * NET_MAX_DELAY_STEPS, list,
		                 "with from_list (one per entry)");
		if (rc < 0)
			return rc;
	}
	if (ev && !listed_d && p->delay &&
	    !(p->delay->kind_case == S2PB__VALUE__KIND_CONSTANT &&
	      fabs(p->delay->constant - k->dt) <= 1e-9 * k->dt)) {
		net_seterr(k->err, k->errlen,
		           "%s: delay: event layers take exactly one timestep (%g ms)", item,
		           k->dt);
		return S2_E_RANGE;
	}
	if (p->receptor < S2PB__PROJECTION__RECEPTOR__EXCITATORY ||
	    p->receptor > S2PB__PROJECTION__RECEPTOR__INPUT) {
		net_seterr(k->err, k->errlen, "%s: receptor %d is unknown", item, (int)p->receptor);
		return S2_E_FORMAT;
	}
	if (p->synapse && (rc = check_synapse(k, n, item, p)) < 0)
		return rc;
	return 0;
}

static int check_recording(struct check *k, struct s2_net *n, unsigned i, const uint32_t *sorted)
{
	S2pb__Network *pb = n->pb;
	const S2pb__Recording *r = pb->recordings[i];
	char item[160];
	snprintf(item, sizeof item, "recordings[%u] (%.60s)", i, r->population);
	long p = find_pop(sorted, pb->n_populations, pb->populations, r->population);
	if (p < 0) {
		net_seterr(k->err, k->errlen, "%s: population '%.60s' does not exist", item,
		           r->population);
		return S2_E_NOTFOUND;
	}
	const struct net_model *m = n->model[p];
	if (strcmp(r->variable, "spikes") && net_model_param(m, r->variable, true) < 0 &&
	    net_model_record_var(m, r->variable) < 0) {
		net_seterr(k->err, k->errlen,
		           "%s: variable '%.60s' is not 'spikes' or a state variable of %s", item,
		           r->variable, m->name);
		return S2_E_NOTFOUND;
	}
	if (strcmp(r->variable, "spikes") && net_model_record_var(m, r->variable) < 0) {
		net_seterr(k->err, k->errlen,
		           "%s: variable '%.60s' cannot be recorded (the engine records spikes "
		           "and the state variables of neuron models)",
		           item, r->variable);
		return S2_E_RANGE;
	}
	for (size_t j = 0; j < r->n_neurons; j++)
		if (r->neurons[j] >= pb->populations[p]->size) {
			net_seterr(k->err, k->errlen, "%s: neurons[%zu]: %u is not a neuron of %u",
			           item, j, r->neurons[j], pb->populations[p]->size);
			return S2_E_RANGE;
		}
	if (!isfinite(r->interval_ms) || r->interval_ms < 0) {
		net_seterr(k->err, k->errlen, "%s: interval_ms %g is negative", item,
		           r->interval_ms);
		return S2_E_RANGE;
	}
	return 0;
}

/* A current source (PyNN's DC, step, AC, noisy): into neurons that take a current. */
static int check_csource(struct check *k, struct s2_net *n, unsigned i, const uint32_t *sorted)
{
	S2pb__Network *pb = n->pb;
	const S2pb__CurrentSource *c = pb->current_sources[i];
	char item[160];
	snprintf(item, sizeof item, "current_sources[%u] (%.20s into %.60s)", i,
	         c->kind ? c->kind : "", c->population);
	long p = find_pop(sorted, pb->n_populations, pb->populations, c->population);
	if (p < 0) {
		net_seterr(k->err, k->errlen, "%s: population '%.60s' does not exist", item,
		           c->population);
		return S2_E_NOTFOUND;
	}
	const struct net_model *m = n->model[p];
	if (m->id != MODEL_LIF_CURR_EXP && m->id != MODEL_LIF_COND_EXP &&
	    m->id != MODEL_IZHIKEVICH && m->id != MODEL_LIF_CURR_ALPHA &&
	    m->id != MODEL_LIF_COND_ALPHA && m->id != MODEL_LIF_CURR_DELTA &&
	    m->id != MODEL_ADEX_COND_EXP && m->id != MODEL_HH_COND_EXP &&
	    m->id != MODEL_LIF_COND_SFA) {
		net_seterr(k->err, k->errlen,
		           "%s: a %s population takes no current (the lif_* models and "
		           "izhikevich do)",
		           item, m->name);
		return S2_E_RANGE;
	}
	for (size_t j = 0; j < c->n_neurons; j++)
		if (c->neurons[j] >= pb->populations[p]->size) {
			net_seterr(k->err, k->errlen, "%s: neurons[%zu]: %u is not a neuron of %u",
			           item, j, c->neurons[j], pb->populations[p]->size);
			return S2_E_RANGE;
		}
	const char *kinds[] = {"dc", "step", "ac", "noisy"};
	bool known = false;
	for (unsigned q = 0; q < 4; q++)
		known |= c->kind && !strcmp(c->kind, kinds[q]);
	if (!known) {
		net_seterr(k->err, k->errlen, "%s: kind must be dc, step, ac or noisy", item);
		return S2_E_FORMAT;
	}
	double v[] = {c->amplitude_na, c->start_ms, c->stop_ms,  c->offset_na,  c->frequency_hz,
	              c->phase_deg,    c->mean_na,  c->stdev_na, c->interval_ms};
	for (unsigned q = 0; q < sizeof v / sizeof v[0]; q++)
		if (!isfinite(v[q]) || fabs(v[q]) > 1e30) {
			net_seterr(k->err, k->errlen, "%s: a value is not a finite number", item);
			return S2_E_RANGE;
		}
	if (c->start_ms < 0 || c->stop_ms < 0 || (c->stop_ms > 0 && c->stop_ms < c->start_ms)) {
		net_seterr(k->err, k->errlen, "%s: start_ms %g, stop_ms %g: not 0 <= start <= stop",
		           item, c->start_ms, c->stop_ms);
		return S2_E_RANGE;
	}
	if (c->stdev_na < 0 || c->interval_ms < 0) {
		net_seterr(k->err, k->errlen, "%s: stdev_na %g and interval_ms %g must be >= 0",
		           item, c->stdev_na, c->interval_ms);
		return S2_E_RANGE;
	}
	if (c->n_times_ms != c->n_amplitudes_na || c->n_times_ms > 65535) {
		net_seterr(
		        k->err, k->errlen,
		        "%s: %zu times_ms and %zu amplitudes_na (the same number, at most 65535)",
		        item, c->n_times_ms, c->n_amplitudes_na);
		return S2_E_RANGE;
	}
	for (size_t j = 0; j < c->n_times_ms; j++)
		if (!isfinite(c->times_ms[j]) || c->times_ms[j] < 0 ||
		    (j && c->times_ms[j] <= c->times_ms[j - 1]) || !isfinite(c->amplitudes_na[j]) ||
		    fabs(c->amplitudes_na[j]) > 1e30) {
			net_seterr(
			        k->err, k->errlen,
			        "%s: times_ms[%zu] %g: times are increasing and >= 0, amplitudes "
			        "finite",
			        item, j, c->times_ms[j]);
			return S2_E_RANGE;
		}
	return 0;
}

static int validate(struct s2_net *n, char *err, size_t errlen)
{
	S2pb__Network *pb = n->pb;
	struct check k = {.err = err, .errlen = errlen, .dt = pb->timestep_ms};
	if (pb->format != S2_NET_FORMAT) {
		net_seterr(err, errlen, "format: version %u is not supported (this is %u)",
		           pb->format, S2_NET_FORMAT);
		return S2_E_VERSION;
	}
	if (!isfinite(pb->timestep_ms) || pb->timestep_ms < 0.01 || pb->timestep_ms > 10) {
		net_seterr(err, errlen, "timestep_ms: %g is outside 0.01 to 10", pb->timestep_ms);
		return S2_E_RANGE;
	}
	if (!isfinite(pb->run_ms) || pb->run_ms <= 0 || pb->run_ms / pb->timestep_ms > 4e9) {
		net_seterr(err, errlen, "run_ms: %g is not above 0 and below 4e9 timesteps",
		           pb->run_ms);
		return S2_E_RANGE;
	}
	if (pb->n_populations == 0 || pb->n_populations > (1u << 24)) {
		net_seterr(err, errlen, "populations: %zu populations is not 1-%u",
		           pb->n_populations, 1u << 24);
		return S2_E_RANGE;
	}
	if (pb->n_projections > (1u << 26)) {
		net_seterr(err, errlen, "projections: more than %u", 1u << 26);
		return S2_E_RANGE;
	}
	size_t np = pb->n_populations, nj = pb->n_projections;
	n->model = calloc(np, sizeof *n->model);
	uint32_t *sorted = malloc(np * sizeof *sorted), *tmp = malloc(np * sizeof *tmp);
	n->pre = malloc((nj + 1) * sizeof(uint32_t) * 6);
	if (!n->model || !sorted || !tmp || !n->pre) {
		free(sorted);
		free(tmp);
		net_seterr(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	n->post = n->pre + (nj + 1);
	n->pre_lo = n->post + (nj + 1);
	n->pre_hi = n->pre_lo + (nj + 1);
	n->post_lo = n->pre_hi + (nj + 1);
	n->post_hi = n->post_lo + (nj + 1);
	int rc = 0;
	for (unsigned i = 0; i < np && rc == 0; i++)
		rc = check_population(&k, n, i);
	for (unsigned i = 0; i < np; i++)
		sorted[i] = i;
	if (rc == 0) {
		sort_labels(sorted, tmp, np, pb->populations);
		for (size_t i = 1; i < np; i++)
			if (!strcmp(pb->populations[sorted[i]]->label,
			            pb->populations[sorted[i - 1]]->label)) {
				unsigned a = sorted[i - 1] < sorted[i] ? sorted[i - 1] : sorted[i];
				unsigned b = sorted[i - 1] < sorted[i] ? sorted[i] : sorted[i - 1];
				net_seterr(err, errlen,
				           "populations[%u] (%.60s): label is already used by "
				           "populations[%u]",
				           b, pb->populations[b]->label, a);
				rc = S2_E_FORMAT;
				break;
			}
	}
	for (unsigned j = 0; j < nj && rc == 0; j++)
		rc = check_projection(&k, n, j, sorted);
	for (unsigned i = 0; i < pb->n_recordings && rc == 0; i++)
		rc = check_recording(&k, n, i, sorted);
	for (unsigned i = 0; i < pb->n_current_sources && rc == 0; i++)
		rc = check_csource(&k, n, i, sorted);
	free(sorted);
	free(tmp);
	return rc;
}

/* ---- construction, encoding, files ----------------------------------------------------- */

void s2_net_free(struct s2_net *n)
{
	if (!n)
		return;
	if (n->pb)
		s2pb__network__free_unpacked(n->pb, NULL);
	free(n->model);
	free(n->pre);
	free(n);
}

/* Fields this version does not know are refused, not carried along: the JSON form could not
 * carry them, and a newer writer says so with a newer format number. Generic over the schema
 * (protobuf-c descriptors); depth is bounded by the schema, which has no recursion. */
static const char *unknown_field(const ProtobufCMessage *m, uint32_t *tag)
{
	if (m->n_unknown_fields) {
		*tag = m->unknown_fields[0].tag;
		return m->descriptor->short_name;
	}
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned f = 0; f < d->n_fields; f++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[f];
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		const char *base = (const char *)m;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + fd->quantifier_offset);
			ProtobufCMessage *const *v =
			        *(ProtobufCMessage *const *const *)(base + fd->offset);
			for (size_t i = 0; i < n; i++) {
				const char *u = unknown_field(v[i], tag);
				if (u)
					return u;
			}
		} else {
			if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
			    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
				continue;
			const ProtobufCMessage *v = *(ProtobufCMessage *const *)(base + fd->offset);
			const char *u = v ? unknown_field(v, tag) : NULL;
			if (u)
				return u;
		}
	}
	return NULL;
}

struct s2_net *s2_net_decode(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	S2pb__Network *pb = s2pb__network__unpack(NULL, len, buf);
	if (!pb) {
		net_seterr(err, errlen, "not a valid protobuf Network message (%zu bytes)", len);
		return NULL;
	}
	uint32_t tag = 0;
	const char *where = unknown_field(&pb->base, &tag);
	if (where) {
		net_seterr(err, errlen, "%s: field %u is not part of format %u", where, tag,
		           S2_NET_FORMAT);
		s2pb__network__free_unpacked(pb, NULL);
		return NULL;
	}
	struct s2_net *n = calloc(1, sizeof *n);
	if (!n) {
		s2pb__network__free_unpacked(pb, NULL);
		net_seterr(err, errlen, "out of memory");
		return NULL;
	}
	n->pb = pb;
	if (validate(n, err, errlen) < 0) {
		s2_net_free(n);
		return NULL;
	}
	return n;
}

struct s2_net *net_from_built(const S2pb__Network *built, char *err, size_t errlen)
{
	size_t len = s2pb__network__get_packed_size(built);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		net_seterr(err, errlen, "out of memory");
		return NULL;
	}
	s2pb__network__pack(built, buf);
	struct s2_net *n = s2_net_decode(buf, len, err, errlen);
	free(buf);
	return n;
}

int s2_net_encode(const struct s2_net *n, uint8_t **out, size_t *len)
{
	size_t l = s2pb__network__get_packed_size(n->pb);
	uint8_t *buf = malloc(l ? l : 1);
	if (!buf)
		return S2_E_NOMEM;
	*len = s2pb__network__pack(n->pb, buf);
	*out = buf;
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		net_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			if (cap >= S2_NET_FILE_MAX) {
				net_seterr(err, errlen, "%s: larger than %u MiB", path,
				           S2_NET_FILE_MAX >> 20);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, cap + 1);
			if (!nb) {
				net_seterr(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				net_seterr(err, errlen, "%s: read error", path);
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

struct s2_net *s2_net_decode_file(const uint8_t *buf, size_t len, const char *name, char *err,
                                  size_t errlen)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	char why[512];
	struct s2_net *n = NULL;
	struct s2_sfile f;
	if (i < len && buf[i] == '{') {
		n = s2_net_from_json((const char *)buf, len, why, sizeof why);
	} else if (!s2_sfile_is(buf, len)) {
		snprintf(why, sizeof why,
		         "not an s2 network (JSON starts with '{'; the binary form with an S2FC "
		         "header: a bare protobuf from an older s2 must be converted again)");
	} else if (s2_file_check(buf, len, NET_FILE_KIND, NET_FILE_VERSION, name, &f, err, errlen) <
	           0) {
		return NULL;
	} else {
		n = s2_net_decode(f.content, (size_t)f.content_len, why, sizeof why);
	}
	if (!n)
		net_seterr(err, errlen, "%s: %s", name, why);
	return n;
}

struct s2_net *s2_net_load_file(const char *path, char *err, size_t errlen)
{
	size_t len;
	uint8_t *buf = read_file(path, &len, err, errlen);
	if (!buf)
		return NULL;
	struct s2_net *n = s2_net_decode_file(buf, len, path, err, errlen);
	free(buf);
	return n;
}

/* Section names of the binary file: the top-level fields of Network. */
static void net_part(uint32_t field, unsigned nth, char *name, size_t n)
{
	if (field == 6)
		snprintf(name, n, "population %u", nth);
	else if (field == 7)
		snprintf(name, n, "projection %u", nth);
	else if (field == 8)
		snprintf(name, n, "recordings");
	else
		snprintf(name, n, "network");
}

int s2_net_encode_file(const struct s2_net *n, uint8_t **out, size_t *len)
{
	uint8_t *pb;
	size_t pl;
	int rc = s2_net_encode(n, &pb, &pl);
	if (rc < 0)
		return rc;
	struct s2_file_w *w = s2_file_w_new(NET_FILE_KIND, NET_FILE_VERSION);
	rc = w ? s2_file_w_protobuf(w, pb, pl, net_part) : S2_E_NOMEM;
	if (rc == 0)
		rc = s2_file_w_finish(w, out, len);
	s2_file_w_free(w);
	free(pb);
	return rc;
}

int s2_net_save_file(const struct s2_net *n, const char *path, bool json, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = json ? s2_net_to_json(n, (char **)&buf, &len) : s2_net_encode_file(n, &buf, &len);
	if (rc < 0) {
		net_seterr(err, errlen, "%s: out of memory encoding the network", path);
		return rc;
	}
	rc = s2_file_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* ---- queries -------------------------------------------------------------------------- */

const char *s2_net_name(const struct s2_net *n)
{
	return n->pb->name;
}

double s2_net_timestep_ms(const struct s2_net *n)
{
	return n->pb->timestep_ms;
}

double s2_net_run_ms(const struct s2_net *n)
{
	return n->pb->run_ms;
}

uint64_t s2_net_seed(const struct s2_net *n)
{
	return n->pb->seed;
}

unsigned s2_net_populations(const struct s2_net *n)
{
	return (unsigned)n->pb->n_populations;
}

unsigned s2_net_projections(const struct s2_net *n)
{
	return (unsigned)n->pb->n_projections;
}

unsigned s2_net_recordings(const struct s2_net *n)
{
	return (unsigned)n->pb->n_recordings;
}

uint64_t s2_net_neurons(const struct s2_net *n)
{
	return n->neurons;
}

const char *s2_net_pop_label(const struct s2_net *n, unsigned p)
{
	return p < n->pb->n_populations ? n->pb->populations[p]->label : "";
}

uint32_t s2_net_pop_size(const struct s2_net *n, unsigned p)
{
	return p < n->pb->n_populations ? n->pb->populations[p]->size : 0;
}

const char *s2_net_pop_model(const struct s2_net *n, unsigned p)
{
	return p < n->pb->n_populations ? n->model[p]->name : "";
}

double s2_net_proj_synapses(const struct s2_net *n, unsigned j)
{
	if (j >= n->pb->n_projections)
		return 0;
	const S2pb__Projection *p = n->pb->projections[j];
	double npre = n->pre_hi[j] - n->pre_lo[j], npost = n->post_hi[j] - n->post_lo[j];
	bool self = n->pre[j] == n->post[j];
	switch (p->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		return self && !p->all_to_all->allow_self ? npre * (npost - 1) : npre * npost;
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		return npre;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		return p->fixed_probability->p * npre * npost;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
		return (double)p->fixed_number_pre->n * npost;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST:
		return (double)p->fixed_number_post->n * npre;
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		return (double)p->fixed_total->n;
	case S2PB__PROJECTION__CONNECTOR_FROM_LIST:
		return (double)p->from_list->n_pre;
	default:
		return 0;
	}
}
