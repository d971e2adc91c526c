/*
 * Building a network in memory (s2/netbuild.h): the builder fills a protobuf message in an
 * arena, as the JSON reader does (net_json.c), and s2_netb_finish hands it to the one
 * validating path (net_from_built). Calls check what they can alone (indices, array lengths,
 * names) and change nothing when they fail; the rest is the validator's.
 */
#include "s2/netbuild.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "s2/error.h"

/* A growing array of message pointers, in the builder's arena. */
struct vec {
	void **v;
	size_t n, cap;
};

struct netb_pop {
	struct vec params, initial;
};

struct s2_netb {
	struct net_arena a;
	S2pb__Network net;
	struct vec pops, projs, recs, csrcs;
	struct netb_pop *pop; /* per population (realloc'd), its parameter lists */
	size_t pop_cap;
};

static const char *CONN_NAMES[] = {
        [S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL] = "all_to_all",
        [S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE] = "one_to_one",
        [S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY] = "fixed_probability",
        [S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE] = "fixed_number_pre",
        [S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST] = "fixed_number_post",
        [S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL] = "fixed_total",
        [S2PB__PROJECTION__CONNECTOR_FROM_LIST] = "from_list",
};
#define N_CONN (sizeof CONN_NAMES / sizeof CONN_NAMES[0])

static int nomem(char *err, size_t errlen)
{
	net_seterr(err, errlen, "out of memory");
	return S2_E_NOMEM;
}

/* Room for one more pointer in v (nothing changes when memory runs out). */
static int vec_reserve(struct s2_netb *b, struct vec *v)
{
	if (v->n < v->cap)
		return 0;
	size_t cap = v->cap ? 2 * v->cap : 8;
	void **nv = net_arena_alloc(&b->a, cap * sizeof *nv);
	if (!nv)
		return S2_E_NOMEM;
	if (v->n)
		memcpy(nv, v->v, v->n * sizeof *nv);
	v->v = nv;
	v->cap = cap;
	return 0;
}

/* A copy of count items of size bytes in the arena; NULL when memory runs out or the size
 * overflows. */
static void *copy(struct s2_netb *b, const void *src, size_t count, size_t size)
{
	if (count > SIZE_MAX / size / 2)
		return NULL;
	size_t n = count * size;
	void *p = net_arena_alloc(&b->a, n ? n : 1);
	if (p && n)
		memcpy(p, src, n);
	return p;
}

struct s2_netb *s2_netb_new(const char *name, double timestep_ms, double run_ms, uint64_t seed)
{
	struct s2_netb *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	s2pb__network__init(&b->net);
	b->net.format = S2_NET_FORMAT;
	b->net.name = net_arena_strdup(&b->a, name ? name : "network");
	if (!b->net.name) {
		free(b);
		return NULL;
	}
	b->net.timestep_ms = timestep_ms;
	b->net.run_ms = run_ms;
	b->net.seed = seed;
	return b;
}

void s2_netb_free(struct s2_netb *b)
{
	if (!b)
		return;
	net_arena_free(&b->a);
	free(b->pop);
	free(b);
}

void s2_netb_set_run_ms(struct s2_netb *b, double run_ms)
{
	if (b)
		b->net.run_ms = run_ms;
}

/* Population pop of b, or NULL with err set. */
static S2pb__Population *get_pop(const struct s2_netb *b, int pop, char *err, size_t errlen)
{
	if (!b) {
		net_seterr(err, errlen, "NULL builder");
		return NULL;
	}
	if (pop < 0 || (size_t)pop >= b->pops.n) {
		net_seterr(err, errlen, "population %d does not exist (%zu populations built)", pop,
		           b->pops.n);
		return NULL;
	}
	return b->pops.v[pop];
}

static S2pb__Projection *get_proj(const struct s2_netb *b, int proj, char *err, size_t errlen)
{
	if (!b) {
		net_seterr(err, errlen, "NULL builder");
		return NULL;
	}
	if (proj < 0 || (size_t)proj >= b->projs.n) {
		net_seterr(err, errlen, "projection %d does not exist (%zu projections built)",
		           proj, b->projs.n);
		return NULL;
	}
	return b->projs.v[proj];
}

static const char *proj_name(const S2pb__Projection *p, char *buf, size_t len)
{
	snprintf(buf, len, "projection %.60s->%.60s", p->pre, p->post);
	return buf;
}

int s2_netb_population(struct s2_netb *b, const char *label, const char *model, uint32_t size,
                       char *err, size_t errlen)
{
	if (!b || !label || !model) {
		net_seterr(err, errlen, "population: NULL %s",
		           !b       ? "builder"
		           : !label ? "label"
		                    : "model");
		return S2_E_INVAL;
	}
	if (size == 0) {
		net_seterr(err, errlen, "population '%.60s': size 0 (at least one neuron)", label);
		return S2_E_INVAL;
	}
	if (!net_model_find(model)) {
		net_seterr(err, errlen, "population '%.60s': model '%.60s' is unknown (known: %s)",
		           label, model, net_model_names());
		return S2_E_NOTFOUND;
	}
	if (b->pops.n >= (size_t)INT32_MAX)
		return nomem(err, errlen);
	if (b->pops.n == b->pop_cap) {
		size_t cap = b->pop_cap ? 2 * b->pop_cap : 8;
		struct netb_pop *np = realloc(b->pop, cap * sizeof *np);
		if (!np)
			return nomem(err, errlen);
		b->pop = np;
		b->pop_cap = cap;
	}
	S2pb__Population *p = net_arena_alloc(&b->a, sizeof *p);
	char *l = net_arena_strdup(&b->a, label), *m = net_arena_strdup(&b->a, model);
	if (!p || !l || !m || vec_reserve(b, &b->pops) < 0)
		return nomem(err, errlen);
	s2pb__population__init(p);
	p->label = l;
	p->model = m;
	p->size = size;
	memset(&b->pop[b->pops.n], 0, sizeof b->pop[0]);
	b->pops.v[b->pops.n] = p;
	return (int)b->pops.n++;
}

/* Set (or replace) the value of name in population pop's parameters or initial values. */
static int pop_set(struct s2_netb *b, int pop, const char *name, bool initial, S2pb__Value *v,
                   char *err, size_t errlen)
{
	struct vec *list = initial ? &b->pop[pop].initial : &b->pop[pop].params;
	S2pb__Population *p = b->pops.v[pop];
	for (size_t i = 0; i < list->n; i++) {
		S2pb__Param *q = list->v[i];
		if (!strcmp(q->name, name)) {
			q->value = v;
			return 0;
		}
	}
	S2pb__Param *q = net_arena_alloc(&b->a, sizeof *q);
	char *nm = net_arena_strdup(&b->a, name);
	if (!q || !nm || vec_reserve(b, list) < 0)
		return nomem(err, errlen);
	s2pb__param__init(q);
	q->name = nm;
	q->value = v;
	list->v[list->n++] = q;
	if (initial) {
		p->initial = (S2pb__Param **)list->v;
		p->n_initial = list->n;
	} else {
		p->params = (S2pb__Param **)list->v;
		p->n_params = list->n;
	}
	return 0;
}

/* Population pop and the check of name against its model; NULL with err set. */
static S2pb__Population *pop_param_check(struct s2_netb *b, int pop, const char *name, bool initial,
                                         int *rc, char *err, size_t errlen)
{
	S2pb__Population *p = get_pop(b, pop, err, errlen);
	*rc = b ? S2_E_NOTFOUND : S2_E_INVAL;
	if (!p)
		return NULL;
	*rc = S2_E_NOTFOUND;
	if (!name) {
		net_seterr(err, errlen, "population '%.60s': NULL parameter name", p->label);
		*rc = S2_E_INVAL;
		return NULL;
	}
	const struct net_model *m = net_model_find(p->model);
	if (net_model_param(m, name, initial) < 0) {
		char names[600] = "";
		size_t k = 0;
		unsigned np = initial ? m->n_state : m->n_params;
		for (unsigned i = 0; i < np && k < sizeof names; i++)
			k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
			                      (initial ? m->state : m->params)[i].name);
		net_seterr(err, errlen,
		           "population '%.60s': %s '%.60s' is not one of model %s (%s)", p->label,
		           initial ? "state variable" : "parameter", name, m->name,
		           np ? names : "none");
		return NULL;
	}
	return p;
}

int s2_netb_pop_param(struct s2_netb *b, int pop, const char *name, bool initial,
                      const double *values, size_t n, char *err, size_t errlen)
{
	int rc;
	S2pb__Population *p = pop_param_check(b, pop, name, initial, &rc, err, errlen);
	if (!p)
		return rc;
	if (!values || (n != 1 && n != p->size)) {
		net_seterr(err, errlen,
		           "population '%.60s' (%u neurons): %zu values of '%.60s' given, 1 or %u "
		           "needed",
		           p->label, p->size, values ? n : 0, name, p->size);
		return S2_E_INVAL;
	}
	S2pb__Value *v;
	if (n == 1) {
		v = net_value_const(&b->a, values[0]);
	} else {
		v = net_arena_alloc(&b->a, sizeof *v);
		S2pb__ValueArray *a = net_arena_alloc(&b->a, sizeof *a);
		double *d = copy(b, values, n, sizeof *values);
		if (!v || !a || !d)
			return nomem(err, errlen);
		s2pb__value__init(v);
		s2pb__value_array__init(a);
		a->values = d;
		a->n_values = n;
		v->kind_case = S2PB__VALUE__KIND_ARRAY;
		v->array = a;
	}
	if (!v)
		return nomem(err, errlen);
	return pop_set(b, pop, name, initial, v, err, errlen);
}

static S2pb__Value *dist_value(struct s2_netb *b, const struct s2_netb_dist *d)
{
	S2pb__Value *v = net_value_dist(&b->a, (S2pb__Distribution__Kind)d->kind, 0, 0, 0, 0);
	if (v) {
		v->random->low = d->low;
		v->random->high = d->high;
		v->random->mean = d->mean;
		v->random->sd = d->sd;
	}
	return v;
}

static int check_dist(const struct s2_netb_dist *d, const char *item, const char *name, char *err,
                      size_t errlen)
{
	if (!d) {
		net_seterr(err, errlen, "%s: NULL distribution for '%.60s'", item, name);
		return S2_E_INVAL;
	}
	if ((unsigned)d->kind > S2_NETB_EXPONENTIAL) {
		net_seterr(err, errlen, "%s: '%.60s': distribution kind %d is unknown", item, name,
		           (int)d->kind);
		return S2_E_NOTFOUND;
	}
	return 0;
}

int s2_netb_pop_param_random(struct s2_netb *b, int pop, const char *name, bool initial,
                             const struct s2_netb_dist *d, char *err, size_t errlen)
{
	int rc;
	S2pb__Population *p = pop_param_check(b, pop, name, initial, &rc, err, errlen);
	if (!p)
		return rc;
	char item[100];
	snprintf(item, sizeof item, "population '%.60s'", p->label);
	if ((rc = check_dist(d, item, name, err, errlen)) < 0)
		return rc;
	S2pb__Value *v = dist_value(b, d);
	if (!v)
		return nomem(err, errlen);
	return pop_set(b, pop, name, initial, v, err, errlen);
}

int s2_netb_pop_spike_times(struct s2_netb *b, int pop, const uint32_t *counts, size_t n_counts,
                            const double *times, size_t n_times, char *err, size_t errlen)
{
	S2pb__Population *p = get_pop(b, pop, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	if (!counts || n_counts != p->size) {
		net_seterr(err, errlen,
		           "population '%.60s' (%u neurons): spike times of %zu neurons given, "
		           "%u needed",
		           p->label, p->size, counts ? n_counts : 0, p->size);
		return S2_E_INVAL;
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < n_counts; i++)
		sum += counts[i];
	if (sum != n_times || (n_times && !times)) {
		net_seterr(err, errlen,
		           "population '%.60s': the spike counts add up to %llu times, %zu given",
		           p->label, (unsigned long long)sum, times ? n_times : 0);
		return S2_E_INVAL;
	}
	S2pb__SpikeTrain **tr = net_arena_alloc(&b->a, n_counts * sizeof *tr);
	S2pb__SpikeTrain *t = net_arena_alloc(&b->a, n_counts * sizeof *t);
	double *all = copy(b, times, n_times, sizeof *times);
	if (!tr || !t || !all)
		return nomem(err, errlen);
	for (size_t i = 0, at = 0; i < n_counts; at += counts[i], i++) {
		s2pb__spike_train__init(&t[i]);
		t[i].times_ms = all + at;
		t[i].n_times_ms = counts[i];
		tr[i] = &t[i];
	}
	p->spike_times = tr;
	p->n_spike_times = n_counts;
	return 0;
}

/* A whole number in [0, max] from a double, or S2_E_RANGE with err set. */
static int whole(double v, double max, const char *item, const char *field, uint64_t *out,
                 char *err, size_t errlen)
{
	if (!(v >= 0) || v > max || v != floor(v)) {
		net_seterr(err, errlen, "%s: %s %g is not a whole number from 0 to %.0f", item,
		           field, v, max);
		return S2_E_RANGE;
	}
	*out = (uint64_t)v;
	return 0;
}

/* One settable number of a message, for the s2_netb_*_set calls. */
struct num_field {
	const char *name;
	enum { F_DOUBLE, F_BOOL, F_U32, F_U53 } kind; /* F_U53: a whole number up to 2^53 */
	void *at; /* double, protobuf_c_boolean, uint32_t, uint64_t */
};

/* Set the field of t[0..n) named field to value (a bool: not 0; a whole number checked,
 * naming item). 0, S2_E_RANGE with err set, or S2_E_NOTFOUND with err unset (the caller
 * says what the fields are). */
static int set_num(const struct num_field *t, size_t n, const char *field, double value,
                   const char *item, char *err, size_t errlen)
{
	for (size_t k = 0; field && k < n; k++) {
		if (strcmp(field, t[k].name))
			continue;
		uint64_t w = 0;
		int rc = 0;
		switch (t[k].kind) {
		case F_DOUBLE:
			*(double *)t[k].at = value;
			break;
		case F_BOOL:
			*(protobuf_c_boolean *)t[k].at = value != 0;
			break;
		case F_U32:
			if ((rc = whole(value, UINT32_MAX, item, field, &w, err, errlen)) == 0)
				*(uint32_t *)t[k].at = (uint32_t)w;
			break;
		case F_U53: /* 2^53: the largest whole number every double below it holds exactly */
			if ((rc = whole(value, 9007199254740992.0, item, field, &w, err, errlen)) ==
			    0)
				*(uint64_t *)t[k].at = w;
			break;
		}
		return rc;
	}
	return S2_E_NOTFOUND;
}

int s2_netb_pop_set(struct s2_netb *b, int pop, const char *field, double value, char *err,
                    size_t errlen)
{
	S2pb__Population *p = get_pop(b, pop, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char item[100];
	snprintf(item, sizeof item, "population '%.60s'", p->label);
	const struct num_field t[] = {{"rate_hint_hz", F_DOUBLE, &p->rate_hint_hz},
	                              {"max_per_pe", F_U32, &p->max_per_pe}};
	int rc = set_num(t, sizeof t / sizeof t[0], field, value, item, err, errlen);
	if (rc == S2_E_NOTFOUND)
		net_seterr(err, errlen, "%s: no number '%.60s' (rate_hint_hz, max_per_pe)", item,
		           field ? field : "(null)");
	return rc;
}

int s2_netb_projection(struct s2_netb *b, int pre, int post, const char *receptor,
                       const char *label, char *err, size_t errlen)
{
	S2pb__Population *a = get_pop(b, pre, err, errlen);
	if (!a)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	S2pb__Population *z = get_pop(b, post, err, errlen);
	if (!z)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	if (!receptor) {
		net_seterr(err, errlen, "projection %.60s->%.60s: NULL receptor", a->label,
		           z->label);
		return S2_E_INVAL;
	}
	int r = net_receptor_find(receptor);
	if (r < 0) {
		net_seterr(err, errlen,
		           "projection %.60s->%.60s: receptor '%.60s' is unknown (known: "
		           "excitatory, inhibitory, u, r, cx, ch, input)",
		           a->label, z->label, receptor);
		return S2_E_NOTFOUND;
	}
	if (b->projs.n >= (size_t)INT32_MAX)
		return nomem(err, errlen);
	S2pb__Projection *p = net_arena_alloc(&b->a, sizeof *p);
	char *lb = label ? net_arena_strdup(&b->a, label) : NULL;
	if (!p || (label && !lb) || vec_reserve(b, &b->projs) < 0)
		return nomem(err, errlen);
	s2pb__projection__init(p);
	p->pre = a->label;
	p->post = z->label;
	if (lb)
		p->label = lb;
	p->receptor = (S2pb__Projection__Receptor)r;
	b->projs.v[b->projs.n] = p;
	return (int)b->projs.n++;
}

int s2_netb_proj_slice(struct s2_netb *b, int proj, bool post, uint32_t start, uint32_t stop,
                       char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char nm[140];
	S2pb__Slice **at = post ? &p->post_slice : &p->pre_slice;
	if (*at) {
		net_seterr(err, errlen, "%s: its %s slice is given already",
		           proj_name(p, nm, sizeof nm), post ? "post" : "pre");
		return S2_E_STATE;
	}
	S2pb__Slice *s = net_arena_alloc(&b->a, sizeof *s);
	if (!s)
		return nomem(err, errlen);
	s2pb__slice__init(s);
	s->start = start;
	s->stop = stop;
	*at = s;
	return 0;
}

int s2_netb_proj_connector(struct s2_netb *b, int proj, const char *type, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char nm[140];
	if (p->connector_case != S2PB__PROJECTION__CONNECTOR__NOT_SET) {
		net_seterr(err, errlen, "%s: it has a connector already (%s)",
		           proj_name(p, nm, sizeof nm), CONN_NAMES[p->connector_case]);
		return S2_E_STATE;
	}
	unsigned k;
	for (k = 0; k < N_CONN && !(type && CONN_NAMES[k] && !strcmp(CONN_NAMES[k], type)); k++)
		;
	if (k == N_CONN) {
		net_seterr(err, errlen,
		           "%s: connector '%.60s' is unknown (known: all_to_all, one_to_one, "
		           "fixed_probability, fixed_number_pre, fixed_number_post, fixed_total, "
		           "from_list)",
		           proj_name(p, nm, sizeof nm), type ? type : "(null)");
		return S2_E_NOTFOUND;
	}
	switch ((S2pb__Projection__ConnectorCase)k) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		if (!(p->all_to_all = net_arena_alloc(&b->a, sizeof *p->all_to_all)))
			return nomem(err, errlen);
		s2pb__all_to_all__init(p->all_to_all);
		break;
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		if (!(p->one_to_one = net_arena_alloc(&b->a, sizeof *p->one_to_one)))
			return nomem(err, errlen);
		s2pb__one_to_one__init(p->one_to_one);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		if (!(p->fixed_probability = net_arena_alloc(&b->a, sizeof *p->fixed_probability)))
			return nomem(err, errlen);
		s2pb__fixed_probability__init(p->fixed_probability);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
		S2pb__FixedNumber *f = net_arena_alloc(&b->a, sizeof *f);
		if (!f)
			return nomem(err, errlen);
		s2pb__fixed_number__init(f);
		if (k == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE)
			p->fixed_number_pre = f;
		else
			p->fixed_number_post = f;
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		if (!(p->fixed_total = net_arena_alloc(&b->a, sizeof *p->fixed_total)))
			return nomem(err, errlen);
		s2pb__fixed_total__init(p->fixed_total);
		break;
	case S2PB__PROJECTION__CONNECTOR_FROM_LIST:
		if (!(p->from_list = net_arena_alloc(&b->a, sizeof *p->from_list)))
			return nomem(err, errlen);
		s2pb__from_list__init(p->from_list);
		break;
	default:
		return S2_E_NOTFOUND;
	}
	p->connector_case = (S2pb__Projection__ConnectorCase)k;
	return 0;
}

int s2_netb_proj_connector_set(struct s2_netb *b, int proj, const char *field, double value,
                               char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char nm[140];
	proj_name(p, nm, sizeof nm);
	if (p->connector_case == S2PB__PROJECTION__CONNECTOR__NOT_SET) {
		net_seterr(err, errlen, "%s: no connector yet (s2_netb_proj_connector)", nm);
		return S2_E_STATE;
	}
	struct num_field t[3];
	size_t n = 0;
	switch (p->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		t[n++] = (struct num_field){"allow_self", F_BOOL, &p->all_to_all->allow_self};
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		t[n++] = (struct num_field){"p", F_DOUBLE, &p->fixed_probability->p};
		t[n++] =
		        (struct num_field){"allow_self", F_BOOL, &p->fixed_probability->allow_self};
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
		S2pb__FixedNumber *fx =
		        p->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE
		                ? p->fixed_number_pre
		                : p->fixed_number_post;
		t[n++] = (struct num_field){"n", F_U32, &fx->n};
		t[n++] = (struct num_field){"allow_self", F_BOOL, &fx->allow_self};
		t[n++] = (struct num_field){"with_replacement", F_BOOL, &fx->with_replacement};
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		t[n++] = (struct num_field){"n", F_U53, &p->fixed_total->n};
		t[n++] = (struct num_field){"with_replacement", F_BOOL,
		                            &p->fixed_total->with_replacement};
		break;
	default:
		break;
	}
	int rc = set_num(t, n, field, value, nm, err, errlen);
	if (rc != S2_E_NOTFOUND)
		return rc;
	net_seterr(err, errlen, "%s: connector %s has no field '%.60s'", nm,
	           CONN_NAMES[p->connector_case], field ? field : "(null)");
	return S2_E_NOTFOUND;
}

int s2_netb_proj_list(struct s2_netb *b, int proj, const uint32_t *pre, const uint32_t *post,
                      const double *weight, const double *delay, size_t n, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char nm[140];
	proj_name(p, nm, sizeof nm);
	if (p->connector_case != S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
		net_seterr(err, errlen, "%s: its connector is not from_list", nm);
		return S2_E_STATE;
	}
	if (n && (!pre || !post)) {
		net_seterr(err, errlen, "%s: NULL %s list of %zu connections", nm,
		           !pre ? "pre" : "post", n);
		return S2_E_INVAL;
	}
	uint32_t *a = copy(b, pre, n, sizeof *pre), *z = copy(b, post, n, sizeof *post);
	double *w = weight ? copy(b, weight, n, sizeof *weight) : NULL;
	double *d = delay ? copy(b, delay, n, sizeof *delay) : NULL;
	if (!a || !z || (weight && !w) || (delay && !d))
		return nomem(err, errlen);
	S2pb__FromList *l = p->from_list;
	l->pre = a;
	l->post = z;
	l->n_pre = l->n_post = n;
	l->weight = w;
	l->n_weight = w ? n : 0;
	l->delay = d;
	l->n_delay = d ? n : 0;
	return 0;
}

/* &p->weight or &p->delay for field, or NULL with err set. */
static S2pb__Value **proj_field(S2pb__Projection *p, const char *field, char *err, size_t errlen)
{
	if (field && !strcmp(field, "weight"))
		return &p->weight;
	if (field && !strcmp(field, "delay"))
		return &p->delay;
	char nm[140];
	net_seterr(err, errlen, "%s: '%.60s' is not a value of a projection (weight, delay)",
	           proj_name(p, nm, sizeof nm), field ? field : "(null)");
	return NULL;
}

int s2_netb_proj_value(struct s2_netb *b, int proj, const char *field, const double *values,
                       size_t n, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	S2pb__Value **at = proj_field(p, field, err, errlen);
	if (!at)
		return S2_E_NOTFOUND;
	if (!values || n != 1) {
		char nm[140];
		net_seterr(err, errlen,
		           "%s: %zu values of '%s' given, 1 needed (per-connection values: "
		           "from_list)",
		           proj_name(p, nm, sizeof nm), values ? n : 0, field);
		return S2_E_INVAL;
	}
	S2pb__Value *v = net_value_const(&b->a, values[0]);
	if (!v)
		return nomem(err, errlen);
	*at = v;
	return 0;
}

int s2_netb_proj_value_random(struct s2_netb *b, int proj, const char *field,
                              const struct s2_netb_dist *d, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	S2pb__Value **at = proj_field(p, field, err, errlen);
	if (!at)
		return S2_E_NOTFOUND;
	char nm[140];
	int rc = check_dist(d, proj_name(p, nm, sizeof nm), field, err, errlen);
	if (rc < 0)
		return rc;
	S2pb__Value *v = dist_value(b, d);
	if (!v)
		return nomem(err, errlen);
	*at = v;
	return 0;
}

int s2_netb_proj_synapse(struct s2_netb *b, int proj, const char *rule, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	if (!rule) {
		char nm[140];
		net_seterr(err, errlen, "%s: NULL synapse rule", proj_name(p, nm, sizeof nm));
		return S2_E_INVAL;
	}
	S2pb__Synapse *s = net_arena_alloc(&b->a, sizeof *s);
	char *r = net_arena_strdup(&b->a, rule);
	if (!s || !r)
		return nomem(err, errlen);
	s2pb__synapse__init(s);
	s->rule = r;
	p->synapse = s;
	return 0;
}

/* The synapse of projection proj, or NULL with err set and *rc. */
static S2pb__Synapse *get_syn(const struct s2_netb *b, int proj, int *rc, char *err, size_t errlen)
{
	S2pb__Projection *p = get_proj(b, proj, err, errlen);
	if (!p) {
		*rc = b ? S2_E_NOTFOUND : S2_E_INVAL;
		return NULL;
	}
	if (!p->synapse) {
		char nm[140];
		net_seterr(err, errlen, "%s: no synapse rule yet (s2_netb_proj_synapse)",
		           proj_name(p, nm, sizeof nm));
		*rc = S2_E_STATE;
	}
	return p->synapse;
}

int s2_netb_proj_synapse_set(struct s2_netb *b, int proj, const char *field, double value,
                             char *err, size_t errlen)
{
	int rc;
	S2pb__Synapse *s = get_syn(b, proj, &rc, err, errlen);
	if (!s)
		return rc;
	double *f = field ? net_synapse_num(s, field) : NULL;
	if (f) {
		*f = value;
		return 0;
	}
	char nm[140];
	net_seterr(err, errlen, "%s: synapse %.40s has no number '%.60s'",
	           proj_name(b->projs.v[proj], nm, sizeof nm), s->rule, field ? field : "(null)");
	return S2_E_NOTFOUND;
}

int s2_netb_proj_synapse_str(struct s2_netb *b, int proj, const char *field, const char *value,
                             char *err, size_t errlen)
{
	int rc;
	S2pb__Synapse *s = get_syn(b, proj, &rc, err, errlen);
	if (!s)
		return rc;
	char nm[140];
	proj_name(b->projs.v[proj], nm, sizeof nm);
	if (!field || strcmp(field, "weight_dependence")) {
		net_seterr(err, errlen, "%s: synapse %.40s has no name '%.60s' (weight_dependence)",
		           nm, s->rule, field ? field : "(null)");
		return S2_E_NOTFOUND;
	}
	if (!value) {
		net_seterr(err, errlen, "%s: NULL %s", nm, field);
		return S2_E_INVAL;
	}
	char *v = net_arena_strdup(&b->a, value);
	if (!v)
		return nomem(err, errlen);
	s->weight_dependence = v;
	return 0;
}

/* A copy of neurons[0..n) (n = 0: an empty list), or NULL with err set and *rc. */
static int neuron_list(struct s2_netb *b, const char *item, const uint32_t *neurons, size_t n,
                       uint32_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!n)
		return 0;
	if (!neurons) {
		net_seterr(err, errlen, "%s: NULL list of %zu neurons", item, n);
		return S2_E_INVAL;
	}
	if (!(*out = copy(b, neurons, n, sizeof *neurons)))
		return nomem(err, errlen);
	return 0;
}

int s2_netb_record(struct s2_netb *b, int pop, const char *variable, const uint32_t *neurons,
                   size_t n, double interval_ms, char *err, size_t errlen)
{
	S2pb__Population *p = get_pop(b, pop, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char item[100];
	snprintf(item, sizeof item, "recording of population '%.60s'", p->label);
	if (!variable) {
		net_seterr(err, errlen, "%s: NULL variable", item);
		return S2_E_INVAL;
	}
	uint32_t *nr;
	int rc = neuron_list(b, item, neurons, n, &nr, err, errlen);
	if (rc < 0)
		return rc;
	S2pb__Recording *r = net_arena_alloc(&b->a, sizeof *r);
	char *v = net_arena_strdup(&b->a, variable);
	if (!r || !v || vec_reserve(b, &b->recs) < 0)
		return nomem(err, errlen);
	s2pb__recording__init(r);
	r->population = p->label;
	r->variable = v;
	r->neurons = nr;
	r->n_neurons = nr ? n : 0;
	r->interval_ms = interval_ms;
	b->recs.v[b->recs.n++] = r;
	return 0;
}

int s2_netb_csource(struct s2_netb *b, int pop, const char *kind, const uint32_t *neurons, size_t n,
                    char *err, size_t errlen)
{
	S2pb__Population *p = get_pop(b, pop, err, errlen);
	if (!p)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	char item[100];
	snprintf(item, sizeof item, "current source into population '%.60s'", p->label);
	if (!kind) {
		net_seterr(err, errlen, "%s: NULL kind", item);
		return S2_E_INVAL;
	}
	if (b->csrcs.n >= (size_t)INT32_MAX)
		return nomem(err, errlen);
	uint32_t *nr;
	int rc = neuron_list(b, item, neurons, n, &nr, err, errlen);
	if (rc < 0)
		return rc;
	S2pb__CurrentSource *c = net_arena_alloc(&b->a, sizeof *c);
	char *k = net_arena_strdup(&b->a, kind);
	if (!c || !k || vec_reserve(b, &b->csrcs) < 0)
		return nomem(err, errlen);
	s2pb__current_source__init(c);
	c->population = p->label;
	c->kind = k;
	c->neurons = nr;
	c->n_neurons = nr ? n : 0;
	b->csrcs.v[b->csrcs.n] = c;
	return (int)b->csrcs.n++;
}

static S2pb__CurrentSource *get_cs(const struct s2_netb *b, int cs, char *err, size_t errlen)
{
	if (!b) {
		net_seterr(err, errlen, "NULL builder");
		return NULL;
	}
	if (cs < 0 || (size_t)cs >= b->csrcs.n) {
		net_seterr(err, errlen, "current source %d does not exist (%zu built)", cs,
		           b->csrcs.n);
		return NULL;
	}
	return b->csrcs.v[cs];
}

int s2_netb_csource_set(struct s2_netb *b, int cs, const char *field, double value, char *err,
                        size_t errlen)
{
	S2pb__CurrentSource *c = get_cs(b, cs, err, errlen);
	if (!c)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	const struct num_field t[] = {{"amplitude_na", F_DOUBLE, &c->amplitude_na},
	                              {"start_ms", F_DOUBLE, &c->start_ms},
	                              {"stop_ms", F_DOUBLE, &c->stop_ms},
	                              {"offset_na", F_DOUBLE, &c->offset_na},
	                              {"frequency_hz", F_DOUBLE, &c->frequency_hz},
	                              {"phase_deg", F_DOUBLE, &c->phase_deg},
	                              {"mean_na", F_DOUBLE, &c->mean_na},
	                              {"stdev_na", F_DOUBLE, &c->stdev_na},
	                              {"interval_ms", F_DOUBLE, &c->interval_ms}};
	if (set_num(t, sizeof t / sizeof t[0], field, value, NULL, err, errlen) == 0)
		return 0;
	net_seterr(err, errlen,
	           "current source %d (%.40s into '%.60s'): no number '%.60s' (amplitude_na, "
	           "start_ms, stop_ms, offset_na, frequency_hz, phase_deg, mean_na, stdev_na, "
	           "interval_ms)",
	           cs, c->kind, c->population, field ? field : "(null)");
	return S2_E_NOTFOUND;
}

int s2_netb_csource_array(struct s2_netb *b, int cs, const char *field, const double *values,
                          size_t n, char *err, size_t errlen)
{
	S2pb__CurrentSource *c = get_cs(b, cs, err, errlen);
	if (!c)
		return b ? S2_E_NOTFOUND : S2_E_INVAL;
	double **at = NULL;
	size_t *nat = NULL;
	if (field && !strcmp(field, "times_ms")) {
		at = &c->times_ms;
		nat = &c->n_times_ms;
	} else if (field && !strcmp(field, "amplitudes_na")) {
		at = &c->amplitudes_na;
		nat = &c->n_amplitudes_na;
	} else {
		net_seterr(err, errlen,
		           "current source %d (%.40s into '%.60s'): no array '%.60s' (times_ms, "
		           "amplitudes_na)",
		           cs, c->kind, c->population, field ? field : "(null)");
		return S2_E_NOTFOUND;
	}
	if (n && !values) {
		net_seterr(err, errlen, "current source %d: NULL %s of %zu values", cs, field, n);
		return S2_E_INVAL;
	}
	double *d = copy(b, values, n, sizeof *values);
	if (!d)
		return nomem(err, errlen);
	*at = n ? d : NULL;
	*nat = n;
	return 0;
}

int s2_netb_finish(const struct s2_netb *b, struct s2_net **out, char *err, size_t errlen)
{
	if (!out) {
		net_seterr(err, errlen, "network: NULL out");
		return S2_E_INVAL;
	}
	*out = NULL;
	if (!b) {
		net_seterr(err, errlen, "network: NULL builder");
		return S2_E_INVAL;
	}
	S2pb__Network n = b->net;
	n.populations = (S2pb__Population **)b->pops.v;
	n.n_populations = b->pops.n;
	n.projections = (S2pb__Projection **)b->projs.v;
	n.n_projections = b->projs.n;
	n.recordings = (S2pb__Recording **)b->recs.v;
	n.n_recordings = b->recs.n;
	n.current_sources = (S2pb__CurrentSource **)b->csrcs.v;
	n.n_current_sources = b->csrcs.n;
	char why[512];
	*out = net_from_built(&n, why, sizeof why);
	if (*out)
		return 0;
	net_seterr(err, errlen, "%s", why);
	return strstr(why, "out of memory") ? S2_E_NOMEM : S2_E_FORMAT;
}
