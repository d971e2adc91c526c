/*
 * The JSON text form of networks (docs/network.md), through json-c. The reader builds the
 * protobuf message in an arena and hands it to the one validating path (net_from_built); the
 * writer walks a validated message. Field names are the schema's; connectors are an object
 * with a "type"; values are a number (constant), an array (one each) or an object with a
 * "dist" (random). Doubles are written in the shortest form that reads back exactly, so
 * binary -> JSON -> binary gives the same bytes.
 */
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "s2/error.h"
#include "s2/network.h"

#define JSON_DEPTH 32

struct rd {
	struct net_arena a;
	char *err;
	size_t errlen;
};

static const char *DIST_NAMES[] = {"uniform", "normal", "normal_clipped", "exponential"};

/* ---- reading -------------------------------------------------------------------------- */

static int type_err(struct rd *r, const char *path, const char *want)
{
	net_seterr(r->err, r->errlen, "%s: expected %s", path, want);
	return S2_E_FORMAT;
}

static int nomem(struct rd *r)
{
	net_seterr(r->err, r->errlen, "out of memory");
	return S2_E_NOMEM;
}

static int rd_num(struct rd *r, json_object *o, const char *path, double *out)
{
	if (!json_object_is_type(o, json_type_double) && !json_object_is_type(o, json_type_int))
		return type_err(r, path, "a number");
	*out = json_object_get_double(o);
	return 0;
}

static int rd_u64(struct rd *r, json_object *o, const char *path, uint64_t max, uint64_t *out)
{
	if (!json_object_is_type(o, json_type_int))
		return type_err(r, path, "a whole number");
	if (json_object_get_int64(o) < 0)
		return type_err(r, path, "a number >= 0");
	uint64_t v = json_object_get_uint64(o);
	if (v > max) {
		net_seterr(r->err, r->errlen, "%s: %llu is larger than %llu", path,
		           (unsigned long long)v, (unsigned long long)max);
		return S2_E_RANGE;
	}
	*out = v;
	return 0;
}

static int rd_u32(struct rd *r, json_object *o, const char *path, uint32_t *out)
{
	uint64_t v = 0;
	int rc = rd_u64(r, o, path, UINT32_MAX, &v);
	*out = (uint32_t)v;
	return rc;
}

static int rd_bool(struct rd *r, json_object *o, const char *path, protobuf_c_boolean *out)
{
	if (!json_object_is_type(o, json_type_boolean))
		return type_err(r, path, "true or false");
	*out = json_object_get_boolean(o);
	return 0;
}

static int rd_str(struct rd *r, json_object *o, const char *path, char **out)
{
	if (!json_object_is_type(o, json_type_string))
		return type_err(r, path, "a string");
	*out = net_arena_strdup(&r->a, json_object_get_string(o));
	return *out ? 0 : nomem(r);
}

static int unknown_key(struct rd *r, const char *path, const char *key)
{
	net_seterr(r->err, r->errlen, "%s: unknown key '%.60s'", path, key);
	return S2_E_FORMAT;
}

/* A JSON array of numbers into an arena array. */
static int rd_doubles(struct rd *r, json_object *o, const char *path, double **out, size_t *n)
{
	if (!json_object_is_type(o, json_type_array))
		return type_err(r, path, "an array of numbers");
	size_t len = json_object_array_length(o);
	double *v = net_arena_alloc(&r->a, (len ? len : 1) * sizeof *v);
	if (!v)
		return nomem(r);
	char p[256];
	for (size_t i = 0; i < len; i++) {
		snprintf(p, sizeof p, "%.200s[%zu]", path, i);
		int rc = rd_num(r, json_object_array_get_idx(o, i), p, &v[i]);
		if (rc < 0)
			return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

static int rd_u32s(struct rd *r, json_object *o, const char *path, uint32_t **out, size_t *n)
{
	if (!json_object_is_type(o, json_type_array))
		return type_err(r, path, "an array of whole numbers");
	size_t len = json_object_array_length(o);
	uint32_t *v = net_arena_alloc(&r->a, (len ? len : 1) * sizeof *v);
	if (!v)
		return nomem(r);
	char p[256];
	for (size_t i = 0; i < len; i++) {
		snprintf(p, sizeof p, "%.200s[%zu]", path, i);
		int rc = rd_u32(r, json_object_array_get_idx(o, i), p, &v[i]);
		if (rc < 0)
			return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

static int rd_value(struct rd *r, json_object *o, const char *path, S2pb__Value **out)
{
	S2pb__Value *v = net_arena_alloc(&r->a, sizeof *v);
	if (!v)
		return nomem(r);
	s2pb__value__init(v);
	*out = v;
	if (json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int)) {
		v->kind_case = S2PB__VALUE__KIND_CONSTANT;
		return rd_num(r, o, path, &v->constant);
	}
	if (json_object_is_type(o, json_type_array)) {
		S2pb__ValueArray *a = net_arena_alloc(&r->a, sizeof *a);
		if (!a)
			return nomem(r);
		s2pb__value_array__init(a);
		v->kind_case = S2PB__VALUE__KIND_ARRAY;
		v->array = a;
		return rd_doubles(r, o, path, &a->values, &a->n_values);
	}
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "a number, an array of numbers or {\"dist\": ...}");
	S2pb__Distribution *d = net_arena_alloc(&r->a, sizeof *d);
	if (!d)
		return nomem(r);
	s2pb__distribution__init(d);
	v->kind_case = S2PB__VALUE__KIND_RANDOM;
	v->random = d;
	bool have_dist = false;
	char p[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(p, sizeof p, "%.180s.%.60s", path, key);
		int rc = 0;
		if (!strcmp(key, "dist")) {
			const char *s = json_object_get_string(val);
			if (!json_object_is_type(val, json_type_string))
				return type_err(r, p, "a distribution name");
			unsigned k;
			for (k = 0; k < 4 && strcmp(DIST_NAMES[k], s); k++)
				;
			if (k == 4) {
				net_seterr(r->err, r->errlen,
				           "%s: distribution '%.60s' is unknown (known: uniform, "
				           "normal, "
				           "normal_clipped, exponential)",
				           p, s);
				return S2_E_NOTFOUND;
			}
			d->kind = (S2pb__Distribution__Kind)k;
			have_dist = true;
		} else if (!strcmp(key, "low")) {
			rc = rd_num(r, val, p, &d->low);
		} else if (!strcmp(key, "high")) {
			rc = rd_num(r, val, p, &d->high);
		} else if (!strcmp(key, "mean")) {
			rc = rd_num(r, val, p, &d->mean);
		} else if (!strcmp(key, "sd")) {
			rc = rd_num(r, val, p, &d->sd);
		} else {
			rc = unknown_key(r, path, key);
		}
		if (rc < 0)
			return rc;
	}
	if (!have_dist) {
		net_seterr(r->err, r->errlen, "%s: a random value needs \"dist\"", path);
		return S2_E_FORMAT;
	}
	return 0;
}

/* {"name": value, ...} into a Param list. */
static int rd_params(struct rd *r, json_object *o, const char *path, S2pb__Param ***out, size_t *n)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object of name: value");
	size_t len = (size_t)json_object_object_length(o), i = 0;
	S2pb__Param **ps = net_arena_alloc(&r->a, (len ? len : 1) * sizeof *ps);
	if (!ps)
		return nomem(r);
	char p[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(p, sizeof p, "%.180s.%.60s", path, key);
		S2pb__Param *q = net_arena_alloc(&r->a, sizeof *q);
		if (!q)
			return nomem(r);
		s2pb__param__init(q);
		q->name = net_arena_strdup(&r->a, key);
		if (!q->name)
			return nomem(r);
		int rc = rd_value(r, val, p, &q->value);
		if (rc < 0)
			return rc;
		ps[i++] = q;
	}
	*out = ps;
	*n = i;
	return 0;
}

static int rd_population(struct rd *r, json_object *o, const char *path, S2pb__Population **out)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object");
	S2pb__Population *p = net_arena_alloc(&r->a, sizeof *p);
	if (!p)
		return nomem(r);
	s2pb__population__init(p);
	*out = p;
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc;
		if (!strcmp(key, "label")) {
			rc = rd_str(r, val, q, &p->label);
		} else if (!strcmp(key, "size")) {
			rc = rd_u32(r, val, q, &p->size);
		} else if (!strcmp(key, "model")) {
			rc = rd_str(r, val, q, &p->model);
		} else if (!strcmp(key, "params")) {
			rc = rd_params(r, val, q, &p->params, &p->n_params);
		} else if (!strcmp(key, "initial")) {
			rc = rd_params(r, val, q, &p->initial, &p->n_initial);
		} else if (!strcmp(key, "rate_hint_hz")) {
			rc = rd_num(r, val, q, &p->rate_hint_hz);
		} else if (!strcmp(key, "max_per_pe")) {
			rc = rd_u32(r, val, q, &p->max_per_pe);
		} else if (!strcmp(key, "spike_times")) {
			if (!json_object_is_type(val, json_type_array))
				return type_err(r, q, "an array of arrays of times");
			size_t len = json_object_array_length(val);
			p->spike_times = net_arena_alloc(&r->a, (len ? len : 1) * sizeof(void *));
			if (!p->spike_times)
				return nomem(r);
			for (size_t i = 0; i < len; i++) {
				char qi[280];
				snprintf(qi, sizeof qi, "%.200s[%zu]", q, i);
				S2pb__SpikeTrain *t = net_arena_alloc(&r->a, sizeof *t);
				if (!t)
					return nomem(r);
				s2pb__spike_train__init(t);
				rc = rd_doubles(r, json_object_array_get_idx(val, i), qi,
				                &t->times_ms, &t->n_times_ms);
				if (rc < 0)
					return rc;
				p->spike_times[i] = t;
			}
			p->n_spike_times = len;
			rc = 0;
		} else {
			rc = unknown_key(r, path, key);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rd_slice(struct rd *r, json_object *o, const char *path, S2pb__Slice **out)
{
	if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 2)
		return type_err(r, path, "[start, stop]");
	S2pb__Slice *s = net_arena_alloc(&r->a, sizeof *s);
	if (!s)
		return nomem(r);
	s2pb__slice__init(s);
	*out = s;
	int rc = rd_u32(r, json_object_array_get_idx(o, 0), path, &s->start);
	return rc < 0 ? rc : rd_u32(r, json_object_array_get_idx(o, 1), path, &s->stop);
}

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

static int rd_connector(struct rd *r, json_object *o, const char *path, S2pb__Projection *p)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object with a \"type\"");
	json_object *t;
	if (!json_object_object_get_ex(o, "type", &t) || !json_object_is_type(t, json_type_string))
		return type_err(r, path, "a \"type\" naming the connector");
	const char *name = json_object_get_string(t);
	unsigned k;
	for (k = 0; k < N_CONN && !(CONN_NAMES[k] && !strcmp(CONN_NAMES[k], name)); k++)
		;
	if (k == N_CONN) {
		net_seterr(r->err, r->errlen,
		           "%s.type: connector '%.60s' is unknown (known: all_to_all, one_to_one, "
		           "fixed_probability, fixed_number_pre, fixed_number_post, fixed_total, "
		           "from_list)",
		           path, name);
		return S2_E_NOTFOUND;
	}
	p->connector_case = (S2pb__Projection__ConnectorCase)k;
	void *msg = NULL;
	switch (p->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		msg = p->all_to_all = net_arena_alloc(&r->a, sizeof *p->all_to_all);
		if (msg)
			s2pb__all_to_all__init(p->all_to_all);
		break;
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		msg = p->one_to_one = net_arena_alloc(&r->a, sizeof *p->one_to_one);
		if (msg)
			s2pb__one_to_one__init(p->one_to_one);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		msg = p->fixed_probability = net_arena_alloc(&r->a, sizeof *p->fixed_probability);
		if (msg)
			s2pb__fixed_probability__init(p->fixed_probability);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
		S2pb__FixedNumber *f = net_arena_alloc(&r->a, sizeof *f);
		if (f)
			s2pb__fixed_number__init(f);
		if (p->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE)
			p->fixed_number_pre = f;
		else
			p->fixed_number_post = f;
		msg = f;
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		msg = p->fixed_total = net_arena_alloc(&r->a, sizeof *p->fixed_total);
		if (msg)
			s2pb__fixed_total__init(p->fixed_total);
		break;
	case S2PB__PROJECTION__CONNECTOR_FROM_LIST:
		msg = p->from_list = net_arena_alloc(&r->a, sizeof *p->from_list);
		if (msg)
			s2pb__from_list__init(p->from_list);
		break;
	default:
		break;
	}
	if (!msg)
		return nomem(r);
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc = S2_E_FORMAT;
		bool known = true;
		if (!strcmp(key, "type"))
			continue;
		switch (p->connector_case) {
		case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
			if (!strcmp(key, "allow_self"))
				rc = rd_bool(r, val, q, &p->all_to_all->allow_self);
			else
				known = false;
			break;
		case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
			if (!strcmp(key, "p"))
				rc = rd_num(r, val, q, &p->fixed_probability->p);
			else if (!strcmp(key, "allow_self"))
				rc = rd_bool(r, val, q, &p->fixed_probability->allow_self);
			else
				known = false;
			break;
		case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
		case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
			S2pb__FixedNumber *f =
			        p->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE
			                ? p->fixed_number_pre
			                : p->fixed_number_post;
			if (!strcmp(key, "n"))
				rc = rd_u32(r, val, q, &f->n);
			else if (!strcmp(key, "allow_self"))
				rc = rd_bool(r, val, q, &f->allow_self);
			else if (!strcmp(key, "with_replacement"))
				rc = rd_bool(r, val, q, &f->with_replacement);
			else
				known = false;
			break;
		}
		case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
			if (!strcmp(key, "n"))
				rc = rd_u64(r, val, q, UINT64_MAX, &p->fixed_total->n);
			else if (!strcmp(key, "with_replacement"))
				rc = rd_bool(r, val, q, &p->fixed_total->with_replacement);
			else
				known = false;
			break;
		case S2PB__PROJECTION__CONNECTOR_FROM_LIST: {
			S2pb__FromList *l = p->from_list;
			if (!strcmp(key, "pre"))
				rc = rd_u32s(r, val, q, &l->pre, &l->n_pre);
			else if (!strcmp(key, "post"))
				rc = rd_u32s(r, val, q, &l->post, &l->n_post);
			else if (!strcmp(key, "weight"))
				rc = rd_doubles(r, val, q, &l->weight, &l->n_weight);
			else if (!strcmp(key, "delay"))
				rc = rd_doubles(r, val, q, &l->delay, &l->n_delay);
			else
				known = false;
			break;
		}
		default:
			known = false;
			break;
		}
		if (!known)
			return unknown_key(r, path, key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "synapse": a rule name ("static"), or an object with "rule" and its parameters
 * (docs/network.md "Plastic synapses"). */
static int rd_synapse(struct rd *r, json_object *o, const char *path, S2pb__Synapse **out)
{
	S2pb__Synapse *s = net_arena_alloc(&r->a, sizeof *s);
	if (!s)
		return nomem(r);
	s2pb__synapse__init(s);
	*out = s;
	if (json_object_is_type(o, json_type_string))
		return rd_str(r, o, path, &s->rule);
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "a rule name or an object with a \"rule\"");
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc = 1;
		if (!strcmp(key, "rule"))
			rc = rd_str(r, val, q, &s->rule);
		else if (!strcmp(key, "weight_dependence"))
			rc = rd_str(r, val, q, &s->weight_dependence);
		double *f = rc == 1 ? net_synapse_num(s, key) : NULL;
		if (f)
			rc = rd_num(r, val, q, f);
		if (rc == 1)
			rc = unknown_key(r, path, key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rd_projection(struct rd *r, json_object *o, const char *path, S2pb__Projection **out)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object");
	S2pb__Projection *p = net_arena_alloc(&r->a, sizeof *p);
	if (!p)
		return nomem(r);
	s2pb__projection__init(p);
	*out = p;
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc;
		if (!strcmp(key, "label")) {
			rc = rd_str(r, val, q, &p->label);
		} else if (!strcmp(key, "pre")) {
			rc = rd_str(r, val, q, &p->pre);
		} else if (!strcmp(key, "post")) {
			rc = rd_str(r, val, q, &p->post);
		} else if (!strcmp(key, "pre_slice")) {
			rc = rd_slice(r, val, q, &p->pre_slice);
		} else if (!strcmp(key, "post_slice")) {
			rc = rd_slice(r, val, q, &p->post_slice);
		} else if (!strcmp(key, "connector")) {
			rc = rd_connector(r, val, q, p);
		} else if (!strcmp(key, "weight")) {
			rc = rd_value(r, val, q, &p->weight);
		} else if (!strcmp(key, "delay")) {
			rc = rd_value(r, val, q, &p->delay);
		} else if (!strcmp(key, "receptor")) {
			int rcp = json_object_is_type(val, json_type_string)
			                  ? net_receptor_find(json_object_get_string(val))
			                  : -1;
			if (rcp < 0)
				return type_err(r, q,
				                "\"excitatory\", \"inhibitory\" or a gate of an "
				                "event layer (\"u\", \"r\", \"cx\", \"ch\", "
				                "\"input\")");
			p->receptor = (S2pb__Projection__Receptor)rcp;
			rc = 0;
		} else if (!strcmp(key, "synapse")) {
			rc = rd_synapse(r, val, q, &p->synapse);
		} else {
			rc = unknown_key(r, path, key);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rd_recording(struct rd *r, json_object *o, const char *path, S2pb__Recording **out)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object");
	S2pb__Recording *p = net_arena_alloc(&r->a, sizeof *p);
	if (!p)
		return nomem(r);
	s2pb__recording__init(p);
	*out = p;
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc;
		if (!strcmp(key, "population"))
			rc = rd_str(r, val, q, &p->population);
		else if (!strcmp(key, "variable"))
			rc = rd_str(r, val, q, &p->variable);
		else if (!strcmp(key, "neurons"))
			rc = rd_u32s(r, val, q, &p->neurons, &p->n_neurons);
		else if (!strcmp(key, "interval_ms"))
			rc = rd_num(r, val, q, &p->interval_ms);
		else
			rc = unknown_key(r, path, key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rd_csource(struct rd *r, json_object *o, const char *path, void *out)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, path, "an object");
	S2pb__CurrentSource *p = net_arena_alloc(&r->a, sizeof *p);
	if (!p)
		return nomem(r);
	s2pb__current_source__init(p);
	*(S2pb__CurrentSource **)out = p;
	char q[256];
	json_object_object_foreach(o, key, val)
	{
		snprintf(q, sizeof q, "%.180s.%.60s", path, key);
		int rc;
		struct {
			const char *name;
			double *at;
		} nums[] = {{"amplitude_na", &p->amplitude_na}, {"start_ms", &p->start_ms},
		            {"stop_ms", &p->stop_ms},           {"offset_na", &p->offset_na},
		            {"frequency_hz", &p->frequency_hz}, {"phase_deg", &p->phase_deg},
		            {"mean_na", &p->mean_na},           {"stdev_na", &p->stdev_na},
		            {"interval_ms", &p->interval_ms}};
		double *num = NULL;
		for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
			if (!strcmp(key, nums[k].name))
				num = nums[k].at;
		if (num)
			rc = rd_num(r, val, q, num);
		else if (!strcmp(key, "population"))
			rc = rd_str(r, val, q, &p->population);
		else if (!strcmp(key, "kind"))
			rc = rd_str(r, val, q, &p->kind);
		else if (!strcmp(key, "neurons"))
			rc = rd_u32s(r, val, q, &p->neurons, &p->n_neurons);
		else if (!strcmp(key, "times_ms"))
			rc = rd_doubles(r, val, q, &p->times_ms, &p->n_times_ms);
		else if (!strcmp(key, "amplitudes_na"))
			rc = rd_doubles(r, val, q, &p->amplitudes_na, &p->n_amplitudes_na);
		else
			rc = unknown_key(r, path, key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A JSON array of objects, each read by fn into a pointer array. */
static int rd_list(struct rd *r, json_object *o, const char *path,
                   int (*fn)(struct rd *, json_object *, const char *, void *), void ***out,
                   size_t *n)
{
	if (!json_object_is_type(o, json_type_array))
		return type_err(r, path, "an array");
	size_t len = json_object_array_length(o);
	void **v = net_arena_alloc(&r->a, (len ? len : 1) * sizeof *v);
	if (!v)
		return nomem(r);
	char p[256];
	for (size_t i = 0; i < len; i++) {
		snprintf(p, sizeof p, "%.200s[%zu]", path, i);
		int rc = fn(r, json_object_array_get_idx(o, i), p, &v[i]);
		if (rc < 0)
			return rc;
	}
	*out = v;
	*n = len;
	return 0;
}

static int rd_population_v(struct rd *r, json_object *o, const char *path, void *out)
{
	return rd_population(r, o, path, out);
}

static int rd_projection_v(struct rd *r, json_object *o, const char *path, void *out)
{
	return rd_projection(r, o, path, out);
}

static int rd_recording_v(struct rd *r, json_object *o, const char *path, void *out)
{
	return rd_recording(r, o, path, out);
}

static int rd_network(struct rd *r, json_object *o, S2pb__Network *n)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(r, "network", "an object");
	json_object_object_foreach(o, key, val)
	{
		int rc;
		if (!strcmp(key, "format"))
			rc = rd_u32(r, val, key, &n->format);
		else if (!strcmp(key, "name"))
			rc = rd_str(r, val, key, &n->name);
		else if (!strcmp(key, "timestep_ms"))
			rc = rd_num(r, val, key, &n->timestep_ms);
		else if (!strcmp(key, "run_ms"))
			rc = rd_num(r, val, key, &n->run_ms);
		else if (!strcmp(key, "seed"))
			rc = rd_u64(r, val, key, UINT64_MAX, &n->seed);
		else if (!strcmp(key, "populations"))
			rc = rd_list(r, val, key, rd_population_v, (void ***)&n->populations,
			             &n->n_populations);
		else if (!strcmp(key, "projections"))
			rc = rd_list(r, val, key, rd_projection_v, (void ***)&n->projections,
			             &n->n_projections);
		else if (!strcmp(key, "recordings"))
			rc = rd_list(r, val, key, rd_recording_v, (void ***)&n->recordings,
			             &n->n_recordings);
		else if (!strcmp(key, "current_sources"))
			rc = rd_list(r, val, key, rd_csource, (void ***)&n->current_sources,
			             &n->n_current_sources);
		else
			rc = unknown_key(r, "network", key);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct s2_net *s2_net_from_json(const char *text, size_t len, char *err, size_t errlen)
{
	if (len > INT_MAX) {
		net_seterr(err, errlen, "JSON text larger than 2 GiB");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		net_seterr(err, errlen, "out of memory");
		return NULL;
	}
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		int line = 1;
		for (size_t i = 0; i < off && i < len; i++)
			line += text[i] == '\n';
		net_seterr(err, errlen, "JSON syntax error at line %d (byte %zu): %s", line, off,
		           json_tokener_error_desc(
		                   jerr == json_tokener_success ? json_tokener_continue : jerr));
		json_object_put(root);
		return NULL;
	}
	for (size_t i = off; i < len; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r' &&
		    text[i] != 0) {
			net_seterr(err, errlen, "JSON: trailing bytes after the network (byte %zu)",
			           i);
			json_object_put(root);
			return NULL;
		}
	struct rd r = {.err = err, .errlen = errlen};
	S2pb__Network *n = net_arena_alloc(&r.a, sizeof *n);
	struct s2_net *net = NULL;
	if (!n) {
		nomem(&r);
		goto out;
	}
	s2pb__network__init(n);
	if (rd_network(&r, root, n) == 0)
		net = net_from_built(n, err, errlen);
out:
	json_object_put(root);
	net_arena_free(&r.a);
	return net;
}

/* ---- writing -------------------------------------------------------------------------- */

static json_object *wr_num(double d)
{
	char buf[40];
	/* "-0" would read back as the integer 0 and lose its sign: write it as a fraction. */
	if (d == 0 && signbit(d))
		return json_object_new_double_s(d, "-0.0");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return json_object_new_double_s(d, buf);
}

static json_object *wr_doubles(const double *v, size_t n)
{
	json_object *a = json_object_new_array_ext((int)n);
	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, wr_num(v[i]));
	return a;
}

static json_object *wr_u32s(const uint32_t *v, size_t n)
{
	json_object *a = json_object_new_array_ext((int)n);
	for (size_t i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	return a;
}

static json_object *wr_value(const S2pb__Value *v)
{
	switch (v->kind_case) {
	case S2PB__VALUE__KIND_CONSTANT:
		return wr_num(v->constant);
	case S2PB__VALUE__KIND_ARRAY:
		return wr_doubles(v->array->values, v->array->n_values);
	case S2PB__VALUE__KIND_RANDOM: {
		const S2pb__Distribution *d = v->random;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "dist", json_object_new_string(DIST_NAMES[d->kind]));
		/* Every field that is not zero, so that conversion loses nothing. */
		if (d->low != 0)
			json_object_object_add(o, "low", wr_num(d->low));
		if (d->high != 0)
			json_object_object_add(o, "high", wr_num(d->high));
		if (d->mean != 0)
			json_object_object_add(o, "mean", wr_num(d->mean));
		if (d->sd != 0)
			json_object_object_add(o, "sd", wr_num(d->sd));
		return o;
	}
	default:
		return json_object_new_null();
	}
}

static json_object *wr_params(S2pb__Param **ps, size_t n)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, ps[i]->name, wr_value(ps[i]->value));
	return o;
}

static json_object *wr_population(const S2pb__Population *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "label", json_object_new_string(p->label));
	json_object_object_add(o, "size", json_object_new_int64(p->size));
	json_object_object_add(o, "model", json_object_new_string(p->model));
	if (p->n_params)
		json_object_object_add(o, "params", wr_params(p->params, p->n_params));
	if (p->n_initial)
		json_object_object_add(o, "initial", wr_params(p->initial, p->n_initial));
	if (p->n_spike_times) {
		json_object *a = json_object_new_array_ext((int)p->n_spike_times);
		for (size_t i = 0; i < p->n_spike_times; i++)
			json_object_array_add(a, wr_doubles(p->spike_times[i]->times_ms,
			                                    p->spike_times[i]->n_times_ms));
		json_object_object_add(o, "spike_times", a);
	}
	if (p->rate_hint_hz != 0)
		json_object_object_add(o, "rate_hint_hz", wr_num(p->rate_hint_hz));
	if (p->max_per_pe)
		json_object_object_add(o, "max_per_pe", json_object_new_int64(p->max_per_pe));
	return o;
}

static json_object *wr_slice(const S2pb__Slice *s)
{
	json_object *a = json_object_new_array_ext(2);
	json_object_array_add(a, json_object_new_int64(s->start));
	json_object_array_add(a, json_object_new_int64(s->stop));
	return a;
}

static json_object *wr_connector(const S2pb__Projection *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(CONN_NAMES[p->connector_case]));
	switch (p->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		if (p->all_to_all->allow_self)
			json_object_object_add(o, "allow_self", json_object_new_boolean(1));
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		json_object_object_add(o, "p", wr_num(p->fixed_probability->p));
		if (p->fixed_probability->allow_self)
			json_object_object_add(o, "allow_self", json_object_new_boolean(1));
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST: {
		const S2pb__FixedNumber *f =
		        p->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE
		                ? p->fixed_number_pre
		                : p->fixed_number_post;
		json_object_object_add(o, "n", json_object_new_int64(f->n));
		if (f->allow_self)
			json_object_object_add(o, "allow_self", json_object_new_boolean(1));
		if (f->with_replacement)
			json_object_object_add(o, "with_replacement", json_object_new_boolean(1));
		break;
	}
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		json_object_object_add(o, "n", json_object_new_uint64(p->fixed_total->n));
		if (p->fixed_total->with_replacement)
			json_object_object_add(o, "with_replacement", json_object_new_boolean(1));
		break;
	case S2PB__PROJECTION__CONNECTOR_FROM_LIST: {
		const S2pb__FromList *l = p->from_list;
		json_object_object_add(o, "pre", wr_u32s(l->pre, l->n_pre));
		json_object_object_add(o, "post", wr_u32s(l->post, l->n_post));
		if (l->n_weight)
			json_object_object_add(o, "weight", wr_doubles(l->weight, l->n_weight));
		if (l->n_delay)
			json_object_object_add(o, "delay", wr_doubles(l->delay, l->n_delay));
		break;
	}
	default:
		break;
	}
	return o;
}

/* A rule name, or with a plastic rule an object with its parameters (the rule's only). */
static json_object *wr_synapse(const S2pb__Synapse *s)
{
	const char *r = s->rule;
	if (!strcmp(r, "stdp") || !strcmp(r, "vogels2011") || !strcmp(r, "tsodyks_markram")) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "rule", json_object_new_string(r));
		if (!strcmp(r, "stdp"))
			json_object_object_add(o, "weight_dependence",
			                       json_object_new_string(s->weight_dependence));
		if (strcmp(r, "tsodyks_markram")) {
			json_object_object_add(o, "w_min", wr_num(s->w_min));
			json_object_object_add(o, "w_max", wr_num(s->w_max));
		}
		if (!strcmp(r, "stdp")) {
			json_object_object_add(o, "tau_plus_ms", wr_num(s->tau_plus_ms));
			json_object_object_add(o, "tau_minus_ms", wr_num(s->tau_minus_ms));
			json_object_object_add(o, "a_plus", wr_num(s->a_plus));
			json_object_object_add(o, "a_minus", wr_num(s->a_minus));
		}
		if (!strcmp(r, "vogels2011")) {
			json_object_object_add(o, "tau_ms", wr_num(s->tau_ms));
			json_object_object_add(o, "eta", wr_num(s->eta));
			json_object_object_add(o, "rho_hz", wr_num(s->rho_hz));
		}
		if (strcmp(r, "tsodyks_markram")) {
			json_object_object_add(o, "dendritic_delay_fraction",
			                       wr_num(s->dendritic_delay_fraction));
		} else {
			json_object_object_add(o, "u", wr_num(s->u));
			json_object_object_add(o, "tau_rec_ms", wr_num(s->tau_rec_ms));
			json_object_object_add(o, "tau_facil_ms", wr_num(s->tau_facil_ms));
		}
		return o;
	}
	return json_object_new_string(r);
}

static json_object *wr_projection(const S2pb__Projection *p)
{
	json_object *o = json_object_new_object();
	if (p->label[0])
		json_object_object_add(o, "label", json_object_new_string(p->label));
	json_object_object_add(o, "pre", json_object_new_string(p->pre));
	json_object_object_add(o, "post", json_object_new_string(p->post));
	if (p->pre_slice)
		json_object_object_add(o, "pre_slice", wr_slice(p->pre_slice));
	if (p->post_slice)
		json_object_object_add(o, "post_slice", wr_slice(p->post_slice));
	json_object_object_add(o, "connector", wr_connector(p));
	if (p->weight)
		json_object_object_add(o, "weight", wr_value(p->weight));
	if (p->delay)
		json_object_object_add(o, "delay", wr_value(p->delay));
	json_object_object_add(o, "receptor",
	                       json_object_new_string(net_receptor_name(p->receptor)));
	if (p->synapse)
		json_object_object_add(o, "synapse", wr_synapse(p->synapse));
	return o;
}

static json_object *wr_recording(const S2pb__Recording *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "population", json_object_new_string(r->population));
	json_object_object_add(o, "variable", json_object_new_string(r->variable));
	if (r->n_neurons)
		json_object_object_add(o, "neurons", wr_u32s(r->neurons, r->n_neurons));
	if (r->interval_ms != 0)
		json_object_object_add(o, "interval_ms", wr_num(r->interval_ms));
	return o;
}

static json_object *wr_csource(const S2pb__CurrentSource *c)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "population", json_object_new_string(c->population));
	json_object_object_add(o, "kind", json_object_new_string(c->kind));
	if (c->n_neurons)
		json_object_object_add(o, "neurons", wr_u32s(c->neurons, c->n_neurons));
	const struct {
		const char *name;
		double v;
	} nums[] = {{"amplitude_na", c->amplitude_na}, {"start_ms", c->start_ms},
	            {"stop_ms", c->stop_ms},           {"offset_na", c->offset_na},
	            {"frequency_hz", c->frequency_hz}, {"phase_deg", c->phase_deg},
	            {"mean_na", c->mean_na},           {"stdev_na", c->stdev_na},
	            {"interval_ms", c->interval_ms}};
	for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
		if (nums[k].v != 0)
			json_object_object_add(o, nums[k].name, wr_num(nums[k].v));
	if (c->n_times_ms) {
		json_object *t = json_object_new_array_ext((int)c->n_times_ms),
		            *a = json_object_new_array_ext((int)c->n_times_ms);
		for (size_t k = 0; k < c->n_times_ms; k++) {
			json_object_array_add(t, wr_num(c->times_ms[k]));
			json_object_array_add(a, wr_num(c->amplitudes_na[k]));
		}
		json_object_object_add(o, "times_ms", t);
		json_object_object_add(o, "amplitudes_na", a);
	}
	return o;
}

int s2_net_to_json(const struct s2_net *net, char **out, size_t *len)
{
	const S2pb__Network *n = net->pb;
	json_object *o = json_object_new_object();
	if (!o)
		return S2_E_NOMEM;
	json_object_object_add(o, "format", json_object_new_int64(n->format));
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "timestep_ms", wr_num(n->timestep_ms));
	json_object_object_add(o, "run_ms", wr_num(n->run_ms));
	json_object_object_add(o, "seed", json_object_new_uint64(n->seed));
	json_object *a = json_object_new_array_ext((int)n->n_populations);
	for (size_t i = 0; i < n->n_populations; i++)
		json_object_array_add(a, wr_population(n->populations[i]));
	json_object_object_add(o, "populations", a);
	a = json_object_new_array_ext((int)n->n_projections);
	for (size_t i = 0; i < n->n_projections; i++)
		json_object_array_add(a, wr_projection(n->projections[i]));
	json_object_object_add(o, "projections", a);
	a = json_object_new_array_ext((int)n->n_recordings);
	for (size_t i = 0; i < n->n_recordings; i++)
		json_object_array_add(a, wr_recording(n->recordings[i]));
	json_object_object_add(o, "recordings", a);
	if (n->n_current_sources) {
		a = json_object_new_array_ext((int)n->n_current_sources);
		for (size_t i = 0; i < n->n_current_sources; i++)
			json_object_array_add(a, wr_csource(n->current_sources[i]));
		json_object_object_add(o, "current_sources", a);
	}
	size_t l;
	const char *s = json_object_to_json_string_length(
	        o,
	        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
	        &l);
	char *buf = s ? malloc(l + 2) : NULL;
	if (!buf) {
		json_object_put(o);
		return S2_E_NOMEM;
	}
	memcpy(buf, s, l);
	buf[l++] = '\n';
	buf[l] = 0;
	json_object_put(o);
	*out = buf;
	*len = l;
	return 0;
}
