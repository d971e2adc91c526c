/*
 * Network images (mapping/include/s2/image.h, docs/image.md): per-chip blobs holding the
 * chip's router table and the data of each of its application PEs (neuron parameters and
 * initial state as descriptors, the key-to-synaptic-row lookup, expansion descriptors for
 * statistical connectors with their seeds, explicit rows for lists, recording and spike
 * times), each zlib-compressed with a CRC-32, then the protobuf manifest, then the header
 * written last, all in a temporary file renamed into place.
 */
#include "s2/image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "map_internal.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/network.h"
#include "s2/wire.h"
#include "s2pb/image.pb-c.h"

#define CHIP_MAGIC 0x42433253u /* "S2CB" */
#define PE_MAGIC 0x45503253u   /* "S2PE" */
#define BLOB_VERSION 1u
#define CHIP_HDR 24u
#define RT_ENTRY 28u
#define PE_DIR 12u
#define PE_HDR 48u
#define SECT_LEN 12u
#define VALUE_LEN 24u
#define LOOKUP_LEN 28u
#define EXPAND_LEN 96u
#define BLOB_RAW_MAX (256u << 20)
#define MANIFEST_MAX (1u << 30)

enum sect { SECT_PARAMS = 1, SECT_STATE, SECT_LOOKUP, SECT_EXPAND, SECT_ROWS, SECT_RECORD,
            SECT_SPIKES, SECT__MAX = SECT_SPIKES };

enum vkind { V_CONST, V_ARRAY, V_UNIFORM, V_NORMAL, V_NORMAL_CLIPPED, V_EXPONENTIAL };

/* ---- a growable little-endian byte buffer --------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
	bool failed;
};

static uint8_t *grow(struct buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return NULL;
		}
		b->p = q;
		b->cap = cap;
	}
	uint8_t *r = b->p + b->n;
	memset(r, 0, n);
	b->n += n;
	return r;
}

static void put8(struct buf *b, uint8_t v)
{
	uint8_t *p = grow(b, 1);
	if (p)
		*p = v;
}

static void put16(struct buf *b, uint16_t v)
{
	uint8_t *p = grow(b, 2);
	if (p)
		s2_st16(p, v);
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t *p = grow(b, 4);
	if (p)
		s2_st32(p, v);
}

static void putf(struct buf *b, double d)
{
	float f = (float)d;
	uint32_t v;
	memcpy(&v, &f, 4);
	put32(b, v);
}

static void at32(struct buf *b, size_t off, uint32_t v)
{
	if (!b->failed)
		s2_st32(b->p + off, v);
}

/* splitmix64: seeds derived from the network seed and the item, never from the host's
 * random state, so that the same input gives the same image. */
static uint32_t seed_of(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t z = seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xbf58476d1ce4e5b9ull) ^
	             (c * 0x94d049bb133111ebull);
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)z ? (uint32_t)z : 1u;
}

/* ---- per-PE data ---------------------------------------------------------------------------- */

struct writer {
	struct s2_mapping *mp;
	uint64_t **fixed_total_share; /* per projection: per post part share (fixed_total) */
	uint64_t *src;                /* scratch: source parts of a post part */
	size_t src_cap;
};

/* A value descriptor (24 bytes); array values go to `arr`, at an offset within the section
 * that is patched when the section is laid out (arr_base). */
static void put_value(struct buf *b, struct buf *arr, const S2pb__Value *v, double def,
                      uint32_t lo, uint32_t n, uint32_t seed)
{
	if (!v) {
		put8(b, V_CONST);
		grow(b, 3);
		putf(b, def);
		putf(b, 0);
		putf(b, 0);
		putf(b, 0);
		put32(b, 0);
		return;
	}
	switch (v->kind_case) {
	case S2PB__VALUE__KIND_ARRAY:
		put8(b, V_ARRAY);
		grow(b, 3);
		put32(b, (uint32_t)arr->n); /* offset of the values in the array area */
		putf(b, 0);
		putf(b, 0);
		putf(b, 0);
		put32(b, n);
		for (uint32_t i = 0; i < n; i++)
			putf(arr, v->array->values[lo + i]);
		return;
	case S2PB__VALUE__KIND_RANDOM: {
		const S2pb__Distribution *d = v->random;
		static const uint8_t kinds[] = {V_UNIFORM, V_NORMAL, V_NORMAL_CLIPPED, V_EXPONENTIAL};
		put8(b, kinds[d->kind]);
		grow(b, 3);
		bool uni = d->kind == S2PB__DISTRIBUTION__KIND__UNIFORM;
		putf(b, uni ? d->low : d->mean);
		putf(b, uni ? d->high : d->sd);
		putf(b, d->low);
		putf(b, d->high);
		put32(b, seed);
		return;
	}
	default:
		put8(b, V_CONST);
		grow(b, 3);
		putf(b, v->constant);
		putf(b, 0);
		putf(b, 0);
		putf(b, 0);
		put32(b, 0);
		return;
	}
}

static const S2pb__Value *find_param(S2pb__Param **ps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i]->name, name))
			return ps[i]->value;
	return NULL;
}

/* Section of parameters or state: descriptors in model order, then the array area. */
static void put_values(struct buf *b, const struct s2_mapping *mp, const struct part *pt,
                       bool state, uint64_t part_index)
{
	const S2pb__Population *pop = mp->net->pb->populations[pt->pop];
	const struct net_model *md = mp->net->model[pt->pop];
	unsigned n = state ? md->n_state : md->n_params;
	struct buf arr = {0};
	size_t start = b->n;
	for (unsigned i = 0; i < n; i++) {
		const struct net_param_def *d = state ? &md->state[i] : &md->params[i];
		const S2pb__Value *v = state ? find_param(pop->initial, pop->n_initial, d->name)
		                             : find_param(pop->params, pop->n_params, d->name);
		put_value(b, &arr, v, d->def, pt->lo, pt->n,
		          seed_of(mp->net->pb->seed, pt->pop, (state ? 100u : 0u) + i, part_index));
	}
	/* array offsets are relative to the end of the descriptors */
	if (!b->failed)
		for (unsigned i = 0; i < n; i++)
			if (b->p[start + i * VALUE_LEN] == V_ARRAY) {
				size_t off = start + i * VALUE_LEN + 4;
				s2_st32(b->p + off, s2_ld32(b->p + off) + n * VALUE_LEN);
			}
	uint8_t *p = arr.n ? grow(b, arr.n) : NULL;
	if (p)
		memcpy(p, arr.p, arr.n);
	b->failed |= arr.failed;
	free(arr.p);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Source parts (sorted by key) whose spikes reach post part q, with the projection. */
static long sources_of(struct writer *w, uint64_t q)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	const struct part *pt = &mp->parts[q];
	size_t n = 0;
	for (size_t j = 0; j < net->pb->n_projections; j++) {
		if (net->post[j] != pt->pop)
			continue;
		uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
		uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n : net->post_hi[j];
		if (lo >= hi)
			continue;
		uint32_t pre = net->pre[j];
		const S2pb__Projection *pj = net->pb->projections[j];
		uint64_t a, b;
		if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE) {
			a = map_part_of(mp, pre, net->pre_lo[j] + (lo - net->post_lo[j]));
			b = map_part_of(mp, pre, net->pre_lo[j] + (hi - 1 - net->post_lo[j])) + 1;
		} else {
			a = map_part_of(mp, pre, net->pre_lo[j]);
			b = map_part_of(mp, pre, net->pre_hi[j] - 1) + 1;
		}
		for (uint64_t s = a; s < b; s++) {
			if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
				/* only sources with an entry to this part */
				const struct list_pairs *lp = &mp->lists[j];
				uint64_t want = s << 32 | (q - mp->pops[pt->pop].first);
				size_t L = 0, H = lp->n;
				while (L < H) {
					size_t mid = (L + H) / 2;
					if (lp->pair[mid] < want)
						L = mid + 1;
					else
						H = mid;
				}
				if (L >= lp->n || lp->pair[L] != want)
					continue;
			}
			if (n == w->src_cap) {
				size_t cap = w->src_cap ? w->src_cap * 2 : 1024;
				uint64_t *ns = realloc(w->src, cap * sizeof *ns);
				if (!ns)
					return S2_E_NOMEM;
				w->src = ns;
				w->src_cap = cap;
			}
			w->src[n++] = (uint64_t)mp->parts[s].key << 32 | (uint32_t)s;
		}
	}
	if (n > 1)
		qsort(w->src, n, sizeof *w->src, cmp_u64);
	size_t u = 0;
	for (size_t k = 0; k < n; k++)
		if (u == 0 || w->src[u - 1] != w->src[k])
			w->src[u++] = w->src[k];
	return (long)u;
}

static void put_dist(struct buf *b, const S2pb__Value *v, double def)
{
	/* kind u8 + 3 reserved, then a, b, low, high as f32 */
	if (!v || v->kind_case != S2PB__VALUE__KIND_RANDOM) {
		put8(b, V_CONST);
		grow(b, 3);
		putf(b, v && v->kind_case == S2PB__VALUE__KIND_CONSTANT ? v->constant : def);
		putf(b, 0);
		putf(b, 0);
		putf(b, 0);
		return;
	}
	const S2pb__Distribution *d = v->random;
	static const uint8_t kinds[] = {V_UNIFORM, V_NORMAL, V_NORMAL_CLIPPED, V_EXPONENTIAL};
	put8(b, kinds[d->kind]);
	grow(b, 3);
	bool uni = d->kind == S2PB__DISTRIBUTION__KIND__UNIFORM;
	putf(b, uni ? d->low : d->mean);
	putf(b, uni ? d->high : d->sd);
	putf(b, d->low);
	putf(b, d->high);
}

/* Shares of fixed_total projection j among the post parts of its slice: proportional to the
 * neurons each holds, largest remainders first (ties: lower part), summing to n exactly. */
static int fixed_total_shares(struct writer *w, size_t j)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	uint32_t post = net->post[j];
	const struct pop_map *pm = &mp->pops[post];
	uint64_t *share = calloc(pm->count + 1, sizeof *share);
	double *frac = calloc(pm->count + 1, sizeof *frac);
	if (!share || !frac) {
		free(share);
		free(frac);
		return S2_E_NOMEM;
	}
	uint64_t total = net->pb->projections[j]->fixed_total->n, given = 0;
	double slice = net->post_hi[j] - net->post_lo[j];
	for (uint32_t k = 0; k < pm->count; k++) {
		const struct part *pt = &mp->parts[pm->first + k];
		uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
		uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n : net->post_hi[j];
		if (lo >= hi)
			continue;
		double exact = (double)total * (hi - lo) / slice;
		share[k] = (uint64_t)floor(exact);
		frac[k] = exact - floor(exact);
		given += share[k];
	}
	while (given < total) {
		uint32_t best = 0;
		for (uint32_t k = 1; k < pm->count; k++)
			if (frac[k] > frac[best])
				best = k;
		share[best]++;
		frac[best] = -1;
		given++;
	}
	free(frac);
	w->fixed_total_share[j] = share;
	return 0;
}

static void put_expand(struct writer *w, struct buf *b, size_t j, uint64_t q, uint32_t rows_off,
                       uint32_t rows_len)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	const S2pb__Projection *pj = net->pb->projections[j];
	uint8_t conn = 0, flags = 0;
	uint64_t n = 0;
	float p = 0;
	bool self = net->pre[j] == net->post[j];
	switch (pj->connector_case) {
	case S2PB__PROJECTION__CONNECTOR_ALL_TO_ALL:
		conn = 1;
		flags |= pj->all_to_all->allow_self ? 1 : 0;
		break;
	case S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE:
		conn = 2;
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_PROBABILITY:
		conn = 3;
		p = (float)pj->fixed_probability->p;
		flags |= pj->fixed_probability->allow_self ? 1 : 0;
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_PRE:
		conn = 4;
		n = pj->fixed_number_pre->n;
		flags |= (pj->fixed_number_pre->allow_self ? 1 : 0) |
		         (pj->fixed_number_pre->with_replacement ? 4 : 0);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_NUMBER_POST:
		conn = 5;
		n = pj->fixed_number_post->n;
		flags |= (pj->fixed_number_post->allow_self ? 1 : 0) |
		         (pj->fixed_number_post->with_replacement ? 4 : 0);
		break;
	case S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL:
		conn = 6;
		n = w->fixed_total_share[j] ? w->fixed_total_share[j][q - mp->pops[net->post[j]].first]
		                            : 0;
		flags |= pj->fixed_total->with_replacement ? 4 : 0;
		break;
	default:
		conn = 7; /* from_list: rows */
		break;
	}
	flags |= self ? 2 : 0;
	size_t start = b->n;
	put8(b, conn);
	put8(b, (uint8_t)pj->receptor);
	put8(b, flags);
	put8(b, 0);
	put32(b, (uint32_t)j);
	put32(b, net->pre_lo[j]);
	put32(b, net->pre_hi[j]);
	put32(b, net->post_lo[j]);
	put32(b, net->post_hi[j]);
	put32(b, (uint32_t)n);
	put32(b, (uint32_t)(n >> 32));
	putf(b, p);
	put_dist(b, pj->weight, 0);
	put_dist(b, pj->delay, net->pb->timestep_ms);
	/* fixed_number_post is drawn per pre neuron over the whole post slice: every post PE
	 * must draw the same lists, so its seed is per projection, not per part */
	put32(b, seed_of(net->pb->seed, 1000 + j, conn == 5 ? 0 : q, 7));
	put32(b, rows_off);
	put32(b, rows_len);
	grow(b, EXPAND_LEN - (b->n - start));
}

/* Rows of from_list projection j for post part q: per pre neuron with entries, pre u32,
 * count u16, reserved u16, then count x (post local u16, delay steps u16, weight f32). */
static void put_rows(struct buf *b, const struct s2_mapping *mp, size_t j, uint64_t q)
{
	const struct s2_net *net = mp->net;
	const S2pb__FromList *l = net->pb->projections[j]->from_list;
	const struct part *pt = &mp->parts[q];
	double dt = net->pb->timestep_ms;
	double wdef = 0, ddef = dt;
	const S2pb__Projection *pj = net->pb->projections[j];
	if (pj->weight && pj->weight->kind_case == S2PB__VALUE__KIND_CONSTANT)
		wdef = pj->weight->constant;
	if (pj->delay && pj->delay->kind_case == S2PB__VALUE__KIND_CONSTANT)
		ddef = pj->delay->constant;
	/* entries of this part, ordered by pre then list order */
	size_t cnt = 0;
	for (size_t i = 0; i < l->n_pre; i++) {
		uint32_t post = net->post_lo[j] + l->post[i];
		cnt += post >= pt->lo && post < pt->lo + pt->n;
	}
	uint64_t *idx = malloc((cnt ? cnt : 1) * sizeof *idx);
	if (!idx) {
		b->failed = true;
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < l->n_pre; i++) {
		uint32_t post = net->post_lo[j] + l->post[i];
		if (post >= pt->lo && post < pt->lo + pt->n)
			idx[k++] = (uint64_t)(net->pre_lo[j] + l->pre[i]) << 32 | i;
	}
	if (cnt > 1)
		qsort(idx, cnt, sizeof *idx, cmp_u64);
	for (size_t i = 0; i < cnt;) {
		uint32_t pre = (uint32_t)(idx[i] >> 32);
		size_t e = i;
		while (e < cnt && (uint32_t)(idx[e] >> 32) == pre && e - i < 65535)
			e++;
		put32(b, pre);
		put16(b, (uint16_t)(e - i));
		put16(b, 0);
		for (; i < e; i++) {
			size_t li = (uint32_t)idx[i];
			double wv = l->n_weight ? l->weight[li]
			            : pj->weight && pj->weight->kind_case == S2PB__VALUE__KIND_ARRAY
			                    ? pj->weight->array->values[li]
			                    : wdef;
			double dv = l->n_delay ? l->delay[li]
			            : pj->delay && pj->delay->kind_case == S2PB__VALUE__KIND_ARRAY
			                    ? pj->delay->array->values[li]
			                    : ddef;
			long steps = lround(dv / dt);
			put16(b, (uint16_t)(net->post_lo[j] + l->post[li] - pt->lo));
			put16(b, (uint16_t)(steps < 1 ? 1 : steps > NET_MAX_DELAY_STEPS ? NET_MAX_DELAY_STEPS : steps));
			putf(b, wv);
		}
	}
	free(idx);
}

/* One PE's data: header, section table, sections (docs/image.md). */
static int put_pe(struct writer *w, struct buf *b, uint64_t q)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	const struct part *pt = &mp->parts[q];
	const S2pb__Population *pop = net->pb->populations[pt->pop];
	size_t base = b->n;
	uint8_t *h = grow(b, PE_HDR);
	if (!h)
		return S2_E_NOMEM;
	s2_st32(h, PE_MAGIC);
	s2_st16(h + 4, BLOB_VERSION);
	s2_st16(h + 6, (uint16_t)net->model[pt->pop]->id);
	s2_st32(h + 8, pt->pop);
	s2_st32(h + 12, pt->lo);
	s2_st32(h + 16, pt->n);
	s2_st32(h + 20, pt->key);
	s2_st32(h + 24, pt->kbits >= 32 ? 0 : ~((1u << pt->kbits) - 1u));
	{
		float dt = (float)net->pb->timestep_ms;
		uint32_t v;
		memcpy(&v, &dt, 4);
		s2_st32(h + 28, v);
	}
	s2_st32(h + 32, mp->pops[pt->pop].delay_slots);
	s2_st32(h + 36, seed_of(net->pb->seed, pt->pop, 999, q));
	s2_st16(h + 40, SECT__MAX);
	size_t table = b->n;
	if (!grow(b, SECT__MAX * SECT_LEN))
		return S2_E_NOMEM;
	long nsrc = sources_of(w, q);
	if (nsrc < 0)
		return S2_E_NOMEM;
	for (unsigned s = 1; s <= SECT__MAX; s++) {
		size_t start = b->n;
		switch (s) {
		case SECT_PARAMS:
			put_values(b, mp, pt, false, q);
			break;
		case SECT_STATE:
			put_values(b, mp, pt, true, q);
			break;
		case SECT_LOOKUP: {
			/* runs of source parts of one population with consecutive keys and parts:
			 * key_lo u32, keys u32, pre_pop u32, first neuron u32, per_part u32,
			 * part_bits u8, reserved u8, first projection u16 (index into the
			 * projections of this PE, in EXPAND order), projections u16, reserved u16 */
			for (long k = 0; k < nsrc;) {
				uint64_t s0 = (uint32_t)w->src[k];
				const struct part *a = &mp->parts[s0];
				long e = k + 1;
				while (e < nsrc) {
					const struct part *c = &mp->parts[(uint32_t)w->src[e]];
					const struct part *pv = &mp->parts[(uint32_t)w->src[e - 1]];
					if (c->pop != a->pop || c->kbits != a->kbits ||
					    (uint32_t)w->src[e] != (uint32_t)w->src[e - 1] + 1 ||
					    c->key != pv->key + (1u << pv->kbits))
						break;
					e++;
				}
				/* projections from a's population into this part, in order */
				uint16_t first = 0, cnt = 0, idx = 0;
				for (size_t j = 0; j < net->pb->n_projections; j++) {
					if (net->post[j] != pt->pop)
						continue;
					uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
					uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n
					                                               : net->post_hi[j];
					if (lo >= hi)
						continue;
					if (net->pre[j] == a->pop) {
						if (!cnt)
							first = idx;
						cnt++;
					}
					idx++;
				}
				put32(b, a->key);
				put32(b, (uint32_t)((uint64_t)(e - k) << a->kbits));
				put32(b, a->pop);
				put32(b, a->lo);
				put32(b, mp->pops[a->pop].per_part);
				put8(b, a->kbits);
				put8(b, 0);
				put16(b, first);
				put16(b, cnt);
				put16(b, 0);
				k = e;
			}
			break;
		}
		case SECT_EXPAND:
		case SECT_ROWS:
			break; /* written together below */
		case SECT_RECORD: {
			/* records: variable u16 (0xffff spikes, else state index), count u16
			 * (0xffff: all), interval in timesteps u32, then count x u16 local index */
			for (size_t r = 0; r < net->pb->n_recordings; r++) {
				const S2pb__Recording *rec = net->pb->recordings[r];
				if (strcmp(rec->population, pop->label))
					continue;
				int var = strcmp(rec->variable, "spikes")
				                  ? net_model_param(net->model[pt->pop], rec->variable,
				                                    true)
				                  : 0xffff;
				uint32_t iv = (uint32_t)lround(rec->interval_ms / net->pb->timestep_ms);
				size_t cnt = 0;
				for (size_t i = 0; i < rec->n_neurons; i++)
					cnt += rec->neurons[i] >= pt->lo && rec->neurons[i] < pt->lo + pt->n;
				if (rec->n_neurons && !cnt)
					continue;
				put16(b, (uint16_t)var);
				put16(b, rec->n_neurons ? (uint16_t)cnt : 0xffff);
				put32(b, iv ? iv : 1);
				for (size_t i = 0; i < rec->n_neurons; i++)
					if (rec->neurons[i] >= pt->lo && rec->neurons[i] < pt->lo + pt->n)
						put16(b, (uint16_t)(rec->neurons[i] - pt->lo));
			}
			break;
		}
		case SECT_SPIKES:
			/* per neuron: count u32, then count x timestep u32 */
			for (uint32_t i = 0; i < pt->n && pop->n_spike_times; i++) {
				const S2pb__SpikeTrain *t = pop->spike_times[pt->lo + i];
				put32(b, (uint32_t)t->n_times_ms);
				for (size_t k = 0; k < t->n_times_ms; k++)
					put32(b, (uint32_t)lround(t->times_ms[k] /
					                          net->pb->timestep_ms));
			}
			break;
		}
		if (s == SECT_EXPAND) {
			/* expansion descriptors first, rows after; the rows section is laid out
			 * here too so that descriptors can point into it */
			struct buf rows = {0};
			for (size_t j = 0; j < net->pb->n_projections; j++) {
				if (net->post[j] != pt->pop)
					continue;
				uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
				uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n
				                                               : net->post_hi[j];
				if (lo >= hi)
					continue;
				uint32_t roff = UINT32_MAX, rlen = 0;
				if (net->pb->projections[j]->connector_case ==
				    S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
					roff = (uint32_t)rows.n;
					put_rows(&rows, mp, j, q);
					rlen = (uint32_t)(rows.n - roff);
				}
				put_expand(w, b, j, q, roff, rlen);
			}
			size_t end = b->n;
			at32(b, table + (SECT_EXPAND - 1) * SECT_LEN, SECT_EXPAND);
			at32(b, table + (SECT_EXPAND - 1) * SECT_LEN + 4, (uint32_t)(start - base));
			at32(b, table + (SECT_EXPAND - 1) * SECT_LEN + 8, (uint32_t)(end - start));
			uint8_t *p = rows.n ? grow(b, rows.n) : NULL;
			if (p)
				memcpy(p, rows.p, rows.n);
			b->failed |= rows.failed;
			free(rows.p);
			at32(b, table + (SECT_ROWS - 1) * SECT_LEN, SECT_ROWS);
			at32(b, table + (SECT_ROWS - 1) * SECT_LEN + 4, (uint32_t)(end - base));
			at32(b, table + (SECT_ROWS - 1) * SECT_LEN + 8, (uint32_t)(b->n - end));
			continue;
		}
		if (s == SECT_ROWS)
			continue;
		at32(b, table + (s - 1) * SECT_LEN, s);
		at32(b, table + (s - 1) * SECT_LEN + 4, (uint32_t)(start - base));
		at32(b, table + (s - 1) * SECT_LEN + 8, (uint32_t)(b->n - start));
	}
	if (!b->failed)
		s2_st32(b->p + base + 44, (uint32_t)(b->n - base));
	return b->failed ? S2_E_NOMEM : 0;
}

/* ---- chip blobs and the file ---------------------------------------------------------------- */

static int chip_blob(struct writer *w, struct buf *b, uint32_t g, const uint64_t *parts,
                     uint32_t np)
{
	struct s2_mapping *mp = w->mp;
	const struct table *t = &mp->tables[g];
	b->n = 0;
	uint8_t *h = grow(b, CHIP_HDR);
	if (!h)
		return S2_E_NOMEM;
	s2_st32(h, CHIP_MAGIC);
	s2_st16(h + 4, BLOB_VERSION);
	s2_st16(h + 6, (uint16_t)np);
	s2_st32(h + 8, t->n);
	s2_st32(h + 12, g / mp->cpb);
	s2_st32(h + 16, g % mp->cpb);
	for (uint32_t i = 0; i < t->n; i++) {
		put32(b, t->e[i].key);
		put32(b, t->e[i].mask);
		for (unsigned k = 0; k < S2_ROUTE_WORDS; k++)
			put32(b, t->e[i].route.w[k]);
	}
	size_t dir = b->n;
	if (!grow(b, (size_t)np * PE_DIR))
		return S2_E_NOMEM;
	for (uint32_t k = 0; k < np; k++) {
		size_t off = b->n;
		int rc = put_pe(w, b, parts[k]);
		if (rc < 0)
			return rc;
		if (b->n - off > UINT32_MAX || b->n > BLOB_RAW_MAX)
			return S2_E_NOSPACE;
		s2_st16(b->p + dir + k * PE_DIR, mp->parts[parts[k]].pe);
		s2_st32(b->p + dir + k * PE_DIR + 4, (uint32_t)off);
		s2_st32(b->p + dir + k * PE_DIR + 8, (uint32_t)(b->n - off));
	}
	return b->failed ? S2_E_NOMEM : 0;
}

static bool wr(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

int s2_image_write(struct s2_mapping *mp, const char *path, char *err, size_t errlen)
{
	if (mp->stage < 5) {
		net_seterr(err, errlen, "%s: the mapping has not built its tables yet", path);
		return S2_E_STATE;
	}
	const struct s2_net *net = mp->net;
	const S2pb__Network *pb = net->pb;
	struct writer w = {.mp = mp};
	struct buf raw = {0};
	uint8_t *z = NULL;
	size_t zcap = 0;
	uint64_t *chip_first = calloc((size_t)mp->n_chips + 2, sizeof *chip_first);
	uint64_t *order = malloc((mp->n_parts + 1) * sizeof *order);
	S2pb__ImageBlob *blobs = NULL, **pblobs = NULL;
	S2pb__ImagePopulation *pops = calloc(pb->n_populations + 1, sizeof *pops);
	S2pb__ImagePopulation **ppops = calloc(pb->n_populations + 1, sizeof *ppops);
	S2pb__ImageRecording *recs = calloc(pb->n_recordings + 1, sizeof *recs);
	S2pb__ImageRecording **precs = calloc(pb->n_recordings + 1, sizeof *precs);
	w.fixed_total_share = calloc(pb->n_projections + 1, sizeof *w.fixed_total_share);
	char *tmp = malloc(strlen(path) + 32);
	FILE *f = NULL;
	int rc = S2_E_NOMEM;
	if (!chip_first || !order || !pops || !ppops || !recs || !precs || !w.fixed_total_share ||
	    !tmp)
		goto nomem;
	for (size_t j = 0; j < pb->n_projections; j++)
		if (pb->projections[j]->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL &&
		    fixed_total_shares(&w, j) < 0)
			goto nomem;
	/* parts per chip, in PE order */
	for (uint64_t i = 0; i < mp->n_parts; i++)
		chip_first[mp->parts[i].chip + 1]++;
	for (uint32_t g = 0; g < mp->n_chips; g++)
		chip_first[g + 1] += chip_first[g];
	for (uint64_t i = 0; i < mp->n_parts; i++)
		order[chip_first[mp->parts[i].chip]++] = (uint64_t)mp->parts[i].pe << 40 | i;
	for (uint32_t g = mp->n_chips; g > 0; g--)
		chip_first[g] = chip_first[g - 1];
	chip_first[0] = 0;
	uint32_t nblobs = 0;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		uint64_t n = chip_first[g + 1] - chip_first[g];
		if (n > 1)
			qsort(order + chip_first[g], n, sizeof *order, cmp_u64);
		for (uint64_t k = chip_first[g]; k < chip_first[g + 1]; k++)
			order[k] &= (1ull << 40) - 1;
		nblobs += n > 0 || mp->tables[g].n > 0;
	}
	blobs = calloc(nblobs + 1, sizeof *blobs);
	pblobs = calloc(nblobs + 1, sizeof *pblobs);
	if (!blobs || !pblobs)
		goto nomem;
	snprintf(tmp, strlen(path) + 32, "%s.tmp%ld", path, (long)getpid());
	f = fopen(tmp, "wb");
	if (!f) {
		net_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = S2_E_IO;
		goto out;
	}
	uint8_t hdr[S2_IMAGE_HDR_LEN] = {0};
	if (!wr(f, hdr, sizeof hdr))
		goto ioerr;
	uint64_t off = S2_IMAGE_HDR_LEN;
	uint32_t bi = 0;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		uint32_t np = (uint32_t)(chip_first[g + 1] - chip_first[g]);
		if (np == 0 && mp->tables[g].n == 0)
			continue;
		rc = chip_blob(&w, &raw, g, order + chip_first[g], np);
		if (rc < 0) {
			net_seterr(err, errlen, "chip (%u, %u): %s", g / mp->cpb, g % mp->cpb,
			           rc == S2_E_NOSPACE ? "its data exceed 256 MiB" : "out of memory");
			goto out;
		}
		uLongf zl = compressBound(raw.n);
		if (zl > zcap) {
			uint8_t *nz = realloc(z, zl);
			if (!nz)
				goto nomem;
			z = nz;
			zcap = zl;
		}
		if (compress2(z, &zl, raw.p, raw.n, Z_BEST_SPEED) != Z_OK)
			goto nomem;
		if (!wr(f, z, zl))
			goto ioerr;
		S2pb__ImageBlob *ib = &blobs[bi];
		s2pb__image_blob__init(ib);
		ib->board = g / mp->cpb;
		ib->chip = g % mp->cpb;
		ib->offset = off;
		ib->size = (uint32_t)zl;
		ib->raw_size = (uint32_t)raw.n;
		ib->crc32 = s2_crc32(0, z, zl);
		ib->raw_crc32 = s2_crc32(0, raw.p, raw.n);
		ib->pes = np;
		ib->router_entries = mp->tables[g].n;
		pblobs[bi] = ib;
		bi++;
		off += zl;
	}
	/* manifest */
	S2pb__Image im = S2PB__IMAGE__INIT;
	S2pb__ImageReport rep = S2PB__IMAGE_REPORT__INIT;
	const struct s2_map_report *r = &mp->rep;
	im.format = S2_IMAGE_VERSION;
	im.network = pb->name;
	{
		uint8_t *nb;
		size_t nl;
		if (s2_net_encode(net, &nb, &nl) < 0)
			goto nomem;
		im.network_crc32 = s2_crc32(0, nb, nl);
		free(nb);
	}
	im.machine = (char *)s2_machine_name(mp->m);
	im.machine_width = s2_machine_width(mp->m);
	im.machine_height = s2_machine_height(mp->m);
	im.machine_boards = s2_machine_boards(mp->m);
	im.timestep_ms = pb->timestep_ms;
	im.run_ms = pb->run_ms;
	im.seed = pb->seed;
	for (size_t p = 0; p < pb->n_populations; p++) {
		s2pb__image_population__init(&pops[p]);
		pops[p].label = pb->populations[p]->label;
		pops[p].model = pb->populations[p]->model;
		pops[p].size = pb->populations[p]->size;
		pops[p].parts = mp->pops[p].count;
		pops[p].per_pe = mp->pops[p].per_part;
		ppops[p] = &pops[p];
	}
	im.n_populations = pb->n_populations;
	im.populations = ppops;
	for (size_t k = 0; k < pb->n_recordings; k++) {
		s2pb__image_recording__init(&recs[k]);
		recs[k].population = pb->recordings[k]->population;
		recs[k].variable = pb->recordings[k]->variable;
		recs[k].neurons = (uint32_t)pb->recordings[k]->n_neurons;
		recs[k].interval_ms = pb->recordings[k]->interval_ms;
		precs[k] = &recs[k];
	}
	im.n_recordings = pb->n_recordings;
	im.recordings = precs;
	im.n_blobs = bi;
	im.blobs = pblobs;
	rep.pes = r->parts;
	rep.chips = r->chips;
	rep.boards = r->boards;
	rep.entries_before = r->entries_before;
	rep.entries_after = r->entries_after;
	rep.max_entries_before = r->max_entries_before;
	rep.max_entries_after = r->max_entries_after;
	rep.busiest_link_load = r->busiest_link_load;
	rep.busiest_board = r->busiest_board;
	rep.busiest_chip = r->busiest_chip;
	rep.busiest_link = r->busiest_link;
	rep.synaptic_events_per_step = r->synaptic_events_per_step;
	rep.keys_used = r->keys_used;
	rep.key_mode = r->key_mode;
	im.report = &rep;
	size_t ml = s2pb__image__get_packed_size(&im);
	uint8_t *man = malloc(ml ? ml : 1);
	if (!man)
		goto nomem;
	s2pb__image__pack(&im, man);
	bool ok = wr(f, man, ml);
	memcpy(hdr, S2_IMAGE_MAGIC, 8);
	s2_st32(hdr + 8, S2_IMAGE_VERSION);
	s2_st32(hdr + 12, (uint32_t)ml);
	s2_st64(hdr + 16, off);
	s2_st32(hdr + 24, s2_crc32(0, man, ml));
	free(man);
	if (!ok || fseek(f, 0, SEEK_SET) != 0 || !wr(f, hdr, sizeof hdr))
		goto ioerr;
	ok = fflush(f) == 0;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	f = NULL;
	if (!ok)
		goto ioerr;
	if (rename(tmp, path) != 0) {
		net_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = S2_E_IO;
		goto out;
	}
	rc = 0;
	goto done;
ioerr:
	net_seterr(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
	rc = S2_E_IO;
	goto out;
nomem:
	net_seterr(err, errlen, "%s: out of memory writing the image", path);
	rc = S2_E_NOMEM;
out:
	if (f)
		fclose(f);
	if (tmp)
		unlink(tmp);
done:
	if (w.fixed_total_share)
		for (size_t j = 0; j < pb->n_projections; j++)
			free(w.fixed_total_share[j]);
	free(w.fixed_total_share);
	free(w.src);
	free(raw.p);
	free(z);
	free(chip_first);
	free(order);
	free(blobs);
	free(pblobs);
	free(pops);
	free(ppops);
	free(recs);
	free(precs);
	free(tmp);
	return rc;
}

/* ---- checking an image ------------------------------------------------------------------------ */

static int bad(char *err, size_t errlen, int code, const char *what)
{
	net_seterr(err, errlen, "%s", what);
	return code;
}

/* Structure of an inflated chip blob. */
static int check_chip(const uint8_t *p, size_t n, const S2pb__ImageBlob *ib, size_t i, char *err,
                      size_t errlen)
{
	char what[160];
	if (n < CHIP_HDR || s2_ld32(p) != CHIP_MAGIC || s2_ld16(p + 4) != BLOB_VERSION) {
		snprintf(what, sizeof what, "blobs[%zu]: not a version %u chip blob", i,
		         BLOB_VERSION);
		return bad(err, errlen, S2_E_FORMAT, what);
	}
	uint32_t np = s2_ld16(p + 6), ne = s2_ld32(p + 8);
	if (s2_ld32(p + 12) != ib->board || s2_ld32(p + 16) != ib->chip || np != ib->pes ||
	    ne != ib->router_entries) {
		snprintf(what, sizeof what, "blobs[%zu]: header disagrees with the manifest", i);
		return bad(err, errlen, S2_E_FORMAT, what);
	}
	uint64_t need = CHIP_HDR + (uint64_t)ne * RT_ENTRY + (uint64_t)np * PE_DIR;
	if (need > n) {
		snprintf(what, sizeof what, "blobs[%zu]: %u entries and %u PEs do not fit %zu bytes",
		         i, ne, np, n);
		return bad(err, errlen, S2_E_LENGTH, what);
	}
	const uint8_t *dir = p + CHIP_HDR + (size_t)ne * RT_ENTRY;
	for (uint32_t k = 0; k < np; k++) {
		uint32_t off = s2_ld32(dir + k * PE_DIR + 4), len = s2_ld32(dir + k * PE_DIR + 8);
		if (off < need || len < PE_HDR + SECT__MAX * SECT_LEN || off > n || len > n - off ||
		    s2_ld32(p + off) != PE_MAGIC || s2_ld32(p + off + 44) != len) {
			snprintf(what, sizeof what, "blobs[%zu]: PE record %u is out of bounds or bad",
			         i, k);
			return bad(err, errlen, S2_E_FORMAT, what);
		}
		const uint8_t *pe = p + off;
		if (s2_ld16(pe + 40) != SECT__MAX) {
			snprintf(what, sizeof what, "blobs[%zu]: PE record %u: bad section count", i,
			         k);
			return bad(err, errlen, S2_E_FORMAT, what);
		}
		for (unsigned s = 0; s < SECT__MAX; s++) {
			const uint8_t *st = pe + PE_HDR + s * SECT_LEN;
			uint32_t so = s2_ld32(st + 4), sl = s2_ld32(st + 8);
			if (s2_ld32(st) != s + 1 || so < PE_HDR + SECT__MAX * SECT_LEN || so > len ||
			    sl > len - so) {
				snprintf(what, sizeof what,
				         "blobs[%zu]: PE record %u: section %u out of bounds", i, k,
				         s + 1);
				return bad(err, errlen, S2_E_FORMAT, what);
			}
		}
	}
	return 0;
}

int s2_image_check(const uint8_t *buf, size_t len, struct s2_image_summary *sum, char *err,
                   size_t errlen)
{
	char what[200];
	memset(sum, 0, sizeof *sum);
	if (len < S2_IMAGE_HDR_LEN || memcmp(buf, S2_IMAGE_MAGIC, 8))
		return bad(err, errlen, S2_E_FORMAT, "not an s2 image (no S2IMAGE header)");
	if (s2_ld32(buf + 8) != S2_IMAGE_VERSION) {
		snprintf(what, sizeof what, "image version %u is not supported (this is %u)",
		         s2_ld32(buf + 8), S2_IMAGE_VERSION);
		return bad(err, errlen, S2_E_VERSION, what);
	}
	uint32_t ml = s2_ld32(buf + 12);
	uint64_t mo = s2_ld64(buf + 16);
	if (ml > MANIFEST_MAX || mo < S2_IMAGE_HDR_LEN || mo > len || ml > len - mo)
		return bad(err, errlen, S2_E_LENGTH, "manifest: outside the file");
	if (s2_crc32(0, buf + mo, ml) != s2_ld32(buf + 24))
		return bad(err, errlen, S2_E_CRC, "manifest: CRC-32 mismatch");
	S2pb__Image *im = s2pb__image__unpack(NULL, ml, buf + mo);
	if (!im)
		return bad(err, errlen, S2_E_FORMAT, "manifest: not a valid protobuf Image");
	int rc = 0;
	uint8_t *raw = NULL;
	if (im->format != S2_IMAGE_VERSION) {
		rc = bad(err, errlen, S2_E_VERSION, "manifest: format version not supported");
		goto out;
	}
	sum->file_bytes = len;
	for (size_t i = 0; i < im->n_blobs; i++) {
		const S2pb__ImageBlob *ib = im->blobs[i];
		if (ib->offset < S2_IMAGE_HDR_LEN || ib->offset > mo || ib->size > mo - ib->offset ||
		    ib->raw_size > BLOB_RAW_MAX) {
			snprintf(what, sizeof what, "blobs[%zu] (board %u chip %u): out of bounds", i,
			         ib->board, ib->chip);
			rc = bad(err, errlen, S2_E_LENGTH, what);
			goto out;
		}
		if (s2_crc32(0, buf + ib->offset, ib->size) != ib->crc32) {
			snprintf(what, sizeof what, "blobs[%zu] (board %u chip %u): CRC-32 mismatch", i,
			         ib->board, ib->chip);
			rc = bad(err, errlen, S2_E_CRC, what);
			goto out;
		}
		free(raw);
		raw = malloc(ib->raw_size ? ib->raw_size : 1);
		if (!raw) {
			rc = bad(err, errlen, S2_E_NOMEM, "out of memory");
			goto out;
		}
		uLongf rl = ib->raw_size;
		if (uncompress(raw, &rl, buf + ib->offset, ib->size) != Z_OK || rl != ib->raw_size ||
		    s2_crc32(0, raw, rl) != ib->raw_crc32) {
			snprintf(what, sizeof what,
			         "blobs[%zu] (board %u chip %u): does not inflate to its %u bytes", i,
			         ib->board, ib->chip, ib->raw_size);
			rc = bad(err, errlen, S2_E_FORMAT, what);
			goto out;
		}
		rc = check_chip(raw, rl, ib, i, err, errlen);
		if (rc < 0)
			goto out;
		sum->blobs++;
		sum->chips++;
		sum->pes += ib->pes;
		sum->raw_bytes += rl;
		sum->router_entries += ib->router_entries;
	}
out:
	free(raw);
	s2pb__image__free_unpacked(im, NULL);
	return rc;
}
