/* The neuron and synapse engine (engine.h, docs/engine.md). */
#include "engine.h"
#include "adex.h"
#include "hh.h"
#include "lif_sfa.h"
#include "lif_alpha.h"
#include "model_params.h"
#include "rk4.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

/* Parameter indices (docs/pedata.md). */
enum {
	LIF_V_REST,
	LIF_V_RESET,
	LIF_V_THRESH,
	LIF_TAU_M,
	LIF_CM,
	LIF_TAU_REFRAC,
	LIF_TAU_SYN_E,
	LIF_TAU_SYN_I,
	LIF_I_OFFSET,
	LIF_E_REV_E,
	LIF_E_REV_I,
};
enum { IZK_A, IZK_B, IZK_C, IZK_D, IZK_I_OFFSET };
enum {
	NIR_A_I,
	NIR_G_I,
	NIR_A_V,
	NIR_B_V,
	NIR_G_V,
	NIR_BIAS,
	NIR_THRESH,
	NIR_RESET,
	NIR_SUBTRACT,
	NIR_SPIKING
};
enum { POI_RATE, POI_START, POI_DURATION };
enum {
	EG_THR,
	EG_B_U,
	EG_B_R,
	EG_B_CX,
	EG_B_CH,
	EG_SHIFT_U, /* then r, cx, ch: the gate order of the event word */
	EG_WBITS = EG_SHIFT_U + S2_EV_GATES,
	EG_START,
};
enum { DN_BIAS, DN_THR, DN_SHIFT, DN_WBITS, DN_START, DN_ARGMAX };
/* State indices. */
enum { ST_V, ST_SYN_E, ST_SYN_I, ST_REFRAC };
enum { ST_IZK_V = 0, ST_IZK_U = 1 };
enum { ST_NIR_V = 0, ST_NIR_I = 1 };
/* Derived constants. */
enum { K_DECAY_M, K_DECAY_E, K_DECAY_I, K_REFRAC_STEPS, K_P21E, K_P21I, K_AVG_E, K_AVG_I };

static float ldf(const uint8_t *p)
{
	uint32_t u = s2_ld32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* Neuron i's value j of a section of `cols` f32 per neuron (a row per neuron, or one row that
 * every neuron shares: docs/pedata.md). */
static const uint8_t *row_at(const uint8_t *sect, uint32_t len, unsigned cols, unsigned i,
                             unsigned j)
{
	return sect + 4u * ((len == cols * 4u ? 0 : i) * cols + j);
}

/* The parameters of every neuron from a PARAMS section. */
static void load_params(struct s2_eng *e, const struct s2_pedata *pd)
{
	for (unsigned i = 0; i < e->n; i++)
		for (unsigned j = 0; j < S2_PE_PARAMS; j++)
			e->params[i][j] =
			        ldf(row_at(pd->sect[S2_SECT_PARAMS], pd->sect_len[S2_SECT_PARAMS],
			                   S2_PE_PARAMS, i, j));
}

void s2_eng_params2(const struct s2_pedata *pd, unsigned i, float *out)
{
	for (unsigned j = 0; j < S2_PE_PARAMS2; j++)
		out[j] = ldf(row_at(pd->sect[S2_SECT_PARAMS2], pd->sect_len[S2_SECT_PARAMS2],
		                    S2_PE_PARAMS2, i, j));
}

static int dram_write(struct s2_eng *e, uint32_t addr, const void *src, uint32_t len)
{
	e->c.dma_bytes += len;
	return e->hal.dram_write(e->hal.ctx, addr, src, len);
}

static int dram_read(struct s2_eng *e, uint32_t addr, void *dst, uint32_t len)
{
	e->c.dma_bytes += len;
	return e->hal.dram_read(e->hal.ctx, addr, dst, len);
}

/* --- DRAM rows: explicit and expanded ------------------------------------------------------ */

struct alloc {
	uint32_t next, end;
};

static int table_add(struct s2_eng *e, uint32_t key_lo, uint32_t n_keys, unsigned part_bits,
                     unsigned per_part, uint32_t index, uint32_t data, uint32_t n_rows)
{
	if (e->n_table == S2_PE_MAX_TABLE)
		return S2_E_NOSPACE;
	e->table[e->n_table] = (struct s2_eng_entry){key_lo,
	                                             n_keys,
	                                             index,
	                                             data,
	                                             n_rows,
	                                             (uint16_t)per_part,
	                                             (uint8_t)part_bits,
	                                             0,
	                                             (uint16_t)e->n_table,
	                                             0};
	e->n_table++;
	return 0;
}

/*
 * Rows are stored compactly: an index of one word per row, (offset in words << 11) | count,
 * and the rows' synaptic words one after the other in a data area. Two DMA reads per packet
 * (index word, row), no padding.
 */
#define IDX_COUNT_BITS 11u
#define IDX_OFF_MAX (1u << (32 - IDX_COUNT_BITS))

/* Add a row of n words to an index being built: *off is the running offset. */
static int index_row(struct s2_eng *e, uint32_t index, uint32_t r, uint32_t n, uint32_t *off)
{
	if (n > S2_PE_ROW_MAX || *off + n >= IDX_OFF_MAX)
		return S2_E_NOSPACE;
	uint32_t w = *off << IDX_COUNT_BITS | n;
	*off += n;
	return dram_write(e, index + r * 4u, &w, 4);
}

static int reserve(struct alloc *a, uint32_t n_rows, uint32_t stride, uint32_t *base)
{
	uint64_t bytes = (uint64_t)n_rows * stride * 4u;
	if (bytes > a->end - a->next)
		return S2_E_NOSPACE;
	*base = a->next;
	a->next += (uint32_t)bytes;
	return 0;
}

/*
 * Generated rows in one pass: the index is reserved first, then each row is written as soon
 * as it is drawn, one after the other from the first free DRAM word (the data area), and
 * the data area is committed when the last row is in. Nothing else allocates meanwhile.
 */
static int rows_begin(struct alloc *a, uint32_t n_pre, uint32_t *index, uint32_t *data)
{
	int rc = reserve(a, n_pre, 1, index);
	*data = a->next;
	return rc;
}

static int row_put(struct s2_eng *e, const struct alloc *a, uint32_t index, uint32_t data,
                   uint32_t r, const uint32_t *w, uint32_t n, uint32_t *off)
{
	uint32_t at = *off;
	if (((uint64_t)at + n) * 4u > a->end - data)
		return S2_E_NOSPACE;
	int rc = index_row(e, index, r, n, off);
	return rc < 0 || !n ? rc : dram_write(e, data + at * 4u, w, n * 4u);
}

/* Commit the data area (at least one word, so that every run has its own address). */
static int rows_end(struct alloc *a, uint32_t data, uint32_t off)
{
	uint32_t words = off ? off : 1;
	if ((uint64_t)words * 4u > a->end - data)
		return S2_E_NOSPACE;
	a->next = data + words * 4u;
	return 0;
}

static int load_explicit(struct s2_eng *e, struct alloc *a)
{
	const uint8_t *p = e->pd.sect[S2_SECT_ROWS];
	uint32_t left = e->pd.sect_len[S2_SECT_ROWS];
	while (left) {
		if (left < S2_PE_ROWS_HDR)
			return S2_E_LENGTH;
		uint32_t key_lo = s2_ld32(p), n_keys = s2_ld32(p + 4), n_rows = s2_ld32(p + 12),
		         stride = s2_ld32(p + 16);
		unsigned part_bits = p[8], per_part = s2_ld16(p + 10);
		if (p[9] != 0)
			return S2_E_RESERVED;
		p += S2_PE_ROWS_HDR;
		left -= S2_PE_ROWS_HDR;
		if (stride < 1 || stride > S2_PE_ROW_MAX + 1 || n_rows < 1 || n_keys < 1 ||
		    part_bits > 31 || per_part < 1 || per_part > (1u << part_bits) ||
		    (uint64_t)key_lo + n_keys > (1ull << 32) || n_rows > 65536 ||
		    (uint64_t)n_rows * stride * 4u > left)
			return S2_E_RANGE;
		uint32_t index, data, off = 0, total = 0;
		for (uint32_t r = 0; r < n_rows; r++) {
			uint32_t count = s2_ld32(p + (size_t)r * stride * 4u);
			if (count > stride - 1)
				return S2_E_RANGE;
			total += count;
		}
		int rc = reserve(a, n_rows, 1, &index);
		if (rc < 0 || (rc = reserve(a, total ? total : 1, 1, &data)) < 0)
			return rc;
		for (uint32_t r = 0; r < n_rows; r++) {
			const uint8_t *row = p + (size_t)r * stride * 4u;
			uint32_t count = s2_ld32(row), at = off;
			for (uint32_t i = 0; i < count; i++) {
				uint32_t w = s2_ld32(row + 4 * (i + 1));
				if (s2_syn_neuron(w) >= e->n || s2_syn_delay(w) > e->max_delay)
					return S2_E_RANGE;
				e->row[i] = w;
			}
			if ((rc = index_row(e, index, r, count, &off)) < 0 ||
			    (count && (rc = dram_write(e, data + at * 4u, e->row, count * 4u)) < 0))
				return rc;
		}
		p += (size_t)n_rows * stride * 4u;
		left -= n_rows * stride * 4u;
		if ((rc = table_add(e, key_lo, n_keys, part_bits, per_part, index, data, n_rows)) <
		    0)
			return rc;
	}
	return 0;
}

static float draw(struct s2f_rng *r, unsigned dist, float a, float b, float least)
{
	switch (dist) {
	case S2_DIST_UNIFORM:
		return a + (b - a) * s2f_rng_uniform(r);
	case S2_DIST_NORMAL:
		return a + b * s2f_rng_normal(r);
	case S2_DIST_NORMAL_POS:
		/* Redrawn below the least value (NEST's redraw); a mean far below it gives up
		 * after 64 draws and keeps the last (then clamped and counted). */
		for (unsigned k = 0; k < 64; k++) {
			float x = a + b * s2f_rng_normal(r);
			if (x >= least)
				return x;
			if (k == 63)
				return x;
		}
		return a;
	default:
		return a;
	}
}

/*
 * One synapse's word: weight and delay drawn from the descriptor's distributions. Values the
 * word cannot hold are clamped and, when count is set (the synapse is kept), counted.
 */
static uint32_t make_word(struct s2_eng *e, const struct s2_pe_expand *x, struct s2f_rng *r,
                          unsigned post, bool count)
{
	float w = draw(r, x->w_dist, x->w_a, x->w_b, 1e-30f);
	float d = draw(r, x->d_dist, x->d_a, x->d_b, x->flags & S2_EXP_F_DELAY_HALF ? 0.5f : 1.0f);
	unsigned wi = w <= 0 ? 0 : w >= 65535.0f ? 65535u : (unsigned)(w + 0.5f);
	float dmax = (float)e->max_delay;
	unsigned di = d < 0.5f ? 1u : d >= dmax ? e->max_delay : (unsigned)(d + 0.5f);
	if (count) {
		e->c.weights_zero += wi == 0 && w != 0; /* rounded or clipped to 0 */
		e->c.weights_clipped += w > 65535.5f;
		e->c.delays_clamped += d < 0.5f || d >= dmax + 0.5f;
	}
	return s2_syn_word(post, x->receptor, di, wi);
}

static bool self_skip(const struct s2_pe_expand *x, uint32_t pre_g, uint32_t post_g)
{
	return (x->flags & S2_EXP_F_SAME_POP) && !(x->flags & S2_EXP_F_ALLOW_SELF) &&
	       pre_g == post_g;
}

/*
 * Generate row r (pre neuron pre_lo + r) of a row-wise connector into e->row[1..]; returns
 * the count (at most S2_PE_ROW_MAX; more is an error reported as UINT32_MAX).
 */
static uint32_t gen_row(struct s2_eng *e, const struct s2_pe_expand *x, uint32_t r)
{
	uint32_t pre_g = x->pre_lo + r, n = 0, n_post = e->n;
	struct s2f_rng rng;
	/* Slices: only pre neurons of the pre slice have synapses, only to post neurons of the
	 * post slice, [jlo, jhi) of this PE's. Connectors count in slice-local indices. */
	if (pre_g < x->pre_s_lo || pre_g - x->pre_s_lo >= x->pre_s_n)
		return 0;
	uint32_t s_hi = x->post_s_lo + x->post_s_n;
	uint32_t jlo = x->post_s_lo > x->post_lo ? x->post_s_lo - x->post_lo : 0;
	uint32_t jhi = s_hi < x->post_lo            ? 0
	               : s_hi - x->post_lo < n_post ? s_hi - x->post_lo
	                                            : n_post;
	if (jlo >= jhi)
		return 0;
	switch (x->connector) {
	case S2_CONN_ALL_TO_ALL:
		s2f_rng_seed(&rng, s2f_hash2(x->seed, s2f_hash2(pre_g, x->post_lo)));
		for (uint32_t j = jlo; j < jhi; j++)
			if (!self_skip(x, pre_g, x->post_lo + j))
				e->row[1 + n++] = make_word(e, x, &rng, j, true);
		break;
	case S2_CONN_ONE_TO_ONE: {
		s2f_rng_seed(&rng, s2f_hash2(x->seed, pre_g));
		uint32_t post_g = x->post_s_lo + (pre_g - x->pre_s_lo);
		if (post_g >= x->post_lo + jlo && post_g < x->post_lo + jhi)
			e->row[1 + n++] = make_word(e, x, &rng, post_g - x->post_lo, true);
		break;
	}
	case S2_CONN_FIXED_PROB: {
		/* Pairs are independent: this PE's part of the row has its own stream; targets
		 * by geometric skips, so the cost is the synapses made, not the posts scanned. */
		s2f_rng_seed(&rng, s2f_hash2(x->seed, s2f_hash2(pre_g, x->post_lo)));
		if (x->p <= 0)
			break;
		/* log(1 - p); for p below 2^-24, where 1 - p rounds to 1, its first term -p
		 * (the log would be 0 and the skip -inf, converted undefined) */
		float lq = x->p >= 1 ? 0 : 1.0f - x->p < 1.0f ? s2f_log(1.0f - x->p) : -x->p;
		uint32_t j = jlo;
		for (;;) {
			if (x->p < 1) {
				float u = 1.0f - s2f_rng_uniform(&rng); /* (0, 1] */
				float skip = s2f_log(u) / lq;
				if (!(skip < (float)(jhi - j))) /* and NaN: never converted */
					break;
				j += (uint32_t)skip;
			}
			if (j >= jhi)
				break;
			if (!self_skip(x, pre_g, x->post_lo + j)) {
				if (n == S2_PE_ROW_MAX)
					return UINT32_MAX;
				e->row[1 + n++] = make_word(e, x, &rng, j, true);
			}
			j++;
		}
		break;
	}
	case S2_CONN_FIXED_NUMBER_POST: {
		/* The same choice on every PE holding part of the post slice: seeded by the pre
		 * neuron only, selection sampling over the post slice (without the pre neuron
		 * itself when self-connections are not allowed: n others, as PyNN). Weights and
		 * delays come from a second stream, so drawing them does not change the choice. */
		s2f_rng_seed(&rng, s2f_hash2(x->seed, pre_g));
		struct s2f_rng wrng;
		s2f_rng_seed(&wrng, s2f_hash2(x->seed ^ 0x9E3779B9u, s2f_hash2(pre_g, x->post_lo)));
		bool excl = (x->flags & S2_EXP_F_SAME_POP) && !(x->flags & S2_EXP_F_ALLOW_SELF) &&
		            pre_g >= x->post_s_lo && pre_g - x->post_s_lo < x->post_s_n;
		uint32_t total = x->post_s_n - excl,
		         draws = x->flags & S2_EXP_F_REPLACE ? x->n : total;
		uint32_t need = x->n;
		for (uint32_t c = 0; c < draws && total && need; c++) {
			uint32_t k; /* the candidate: an index among the total */
			if (x->flags & S2_EXP_F_REPLACE) {
				k = s2f_rng_below(&rng, total);
			} else { /* selection sampling: candidate c taken with need / left */
				if (s2f_rng_below(&rng, total - c) >= need)
					continue;
				need--;
				k = c;
			}
			uint32_t j = x->post_s_lo + k;
			j += excl && j >= pre_g;
			if (j >= x->post_lo + jlo && j < x->post_lo + jhi) {
				if (n == S2_PE_ROW_MAX)
					return UINT32_MAX;
				e->row[1 + n++] = make_word(e, x, &wrng, j - x->post_lo, true);
			}
		}
		break;
	}
	default:
		break;
	}
	return n;
}

static int expand_rowwise(struct s2_eng *e, const struct s2_pe_expand *x, struct alloc *a)
{
	uint32_t index = 0, data = 0, off = 0;
	int rc = rows_begin(a, x->n_pre, &index, &data);
	for (uint32_t r = 0; rc == 0 && r < x->n_pre; r++) {
		uint32_t n = gen_row(e, x, r);
		rc = n == UINT32_MAX ? S2_E_NOSPACE
		                     : row_put(e, a, index, data, r, e->row + 1, n, &off);
	}
	if (rc < 0 || (rc = rows_end(a, data, off)) < 0)
		return rc;
	return table_add(e, x->key_lo, x->n_keys, x->part_bits, x->per_part, index, data, x->n_pre);
}

/* Binomial(n, p) by inversion (means up to 60) or by halving n (larger means): exact. */
static uint32_t binomial(struct s2f_rng *r, uint32_t n, float p)
{
	if (n == 0 || p <= 0)
		return 0;
	if (p >= 1)
		return n;
	if ((float)n * p > 60.0f)
		return binomial(r, n / 2, p) + binomial(r, n - n / 2, p);
	float q = 1.0f - p, pk = s2f_exp((float)n * s2f_log(q)), cdf = pk, u = s2f_rng_uniform(r);
	uint32_t k = 0;
	while (u > cdf && k < n) {
		pk *= (float)(n - k) / (float)(k + 1) * (p / q);
		cdf += pk;
		k++;
		if (pk <= 0)
			break;
	}
	return k;
}

/*
 * Fixed total number with multapses, row by row: row r of the run gets Binomial(left,
 * 1/rows left) of the synapses not yet placed (a multinomial split, exact), each to a
 * uniform post neuron. One pass, no scratch memory, cost linear in the synapses.
 */
static int expand_fixed_total(struct s2_eng *e, const struct s2_pe_expand *x, struct alloc *a)
{
	uint32_t index = 0, data = 0, off = 0;
	int rc = rows_begin(a, x->n_pre, &index, &data);
	if (rc < 0)
		return rc;
	struct s2f_rng rng;
	s2f_rng_seed(&rng, s2f_hash2(x->seed, s2f_hash2(x->pre_lo, x->post_lo)));
	/* The rows of the pre slice share the synapses; targets are this PE's posts of the post
	 * slice, [jlo, jhi). */
	uint32_t s_hi = x->post_s_lo + x->post_s_n;
	uint32_t jlo = x->post_s_lo > x->post_lo ? x->post_s_lo - x->post_lo : 0;
	uint32_t jhi = s_hi < x->post_lo ? 0 : s_hi - x->post_lo < e->n ? s_hi - x->post_lo : e->n;
	uint32_t rows_left = 0;
	for (uint32_t r = 0; r < x->n_pre; r++)
		rows_left +=
		        x->pre_lo + r >= x->pre_s_lo && x->pre_lo + r - x->pre_s_lo < x->pre_s_n;
	uint32_t left = jlo < jhi ? x->n : 0;
	for (uint32_t r = 0; r < x->n_pre; r++) {
		uint32_t pre_g = x->pre_lo + r, n = 0;
		if (pre_g >= x->pre_s_lo && pre_g - x->pre_s_lo < x->pre_s_n && left) {
			uint32_t k = rows_left == 1 ? left
			                            : binomial(&rng, left, 1.0f / (float)rows_left);
			left -= k;
			for (uint32_t s = 0; s < k; s++) {
				uint32_t post = jlo + s2f_rng_below(&rng, jhi - jlo);
				bool skip = self_skip(x, pre_g, x->post_lo + post);
				uint32_t w = make_word(e, x, &rng, post, !skip);
				if (skip)
					continue;
				if (n == S2_PE_ROW_MAX)
					return S2_E_NOSPACE;
				e->row[n++] = w;
			}
		}
		if (pre_g >= x->pre_s_lo && pre_g - x->pre_s_lo < x->pre_s_n)
			rows_left--;
		if ((rc = row_put(e, a, index, data, r, e->row, n, &off)) < 0)
			return rc;
	}
	if ((rc = rows_end(a, data, off)) < 0)
		return rc;
	return table_add(e, x->key_lo, x->n_keys, x->part_bits, x->per_part, index, data, x->n_pre);
}

/*
 * Column-wise connectors (fixed number pre): synapses are drawn per post neuron, so rows
 * fill out of order. Pass 1 counts per row in a DRAM scratch area,
 * pass 2 draws the same synapses again and places them.
 */
struct colgen {
	/* rng chooses the pre neurons; wrng draws the weights and delays, so that both passes
	 * choose the same synapses whatever the distributions draw */
	struct s2f_rng rng, wrng;
	uint32_t post, k, need, scan; /* iteration state */
};

/* Next synapse: sets *pre (slice-relative) and *post; false when done. */
static bool col_next(struct s2_eng *e, const struct s2_pe_expand *x, struct colgen *g,
                     uint32_t *pre, uint32_t *post)
{
	/* Each post neuron of the post slice draws n pre neurons of the whole pre slice. */
	for (;;) {
		if (g->post >= e->n)
			return false;
		uint32_t post_g = x->post_lo + g->post;
		if (post_g < x->post_s_lo || post_g - x->post_s_lo >= x->post_s_n) {
			g->post++; /* not in the post slice: no synapses */
			continue;
		}
		if (g->k == 0 && g->scan == 0) {
			s2f_rng_seed(&g->rng, s2f_hash2(x->seed, post_g));
			s2f_rng_seed(&g->wrng, s2f_hash2(x->seed ^ 0x9E3779B9u, post_g));
			g->need = x->n;
		}
		/* Without the post neuron itself among the candidates when self-connections are
		 * not allowed (n others, as PyNN). */
		bool excl = (x->flags & S2_EXP_F_SAME_POP) && !(x->flags & S2_EXP_F_ALLOW_SELF) &&
		            post_g >= x->pre_s_lo && post_g - x->pre_s_lo < x->pre_s_n;
		uint32_t total = x->pre_s_n - excl, i = UINT32_MAX;
		if (x->flags & S2_EXP_F_REPLACE) {
			if (g->k < x->n && total) {
				g->k++;
				i = x->pre_s_lo + s2f_rng_below(&g->rng, total);
				i += excl && i >= post_g;
			}
		} else {
			while (g->need && g->scan < total) {
				uint32_t s = g->scan++;
				if (s2f_rng_below(&g->rng, total - s) < g->need) {
					g->need--;
					i = x->pre_s_lo + s;
					i += excl && i >= post_g;
					break;
				}
			}
		}
		if (i == UINT32_MAX) {
			g->post++;
			g->k = g->scan = 0;
			continue;
		}
		if (i < x->pre_lo || i >= x->pre_lo + x->n_pre || self_skip(x, i, post_g))
			continue;
		*pre = i - x->pre_lo;
		*post = g->post;
		return true;
	}
}

static void col_start(struct colgen *g)
{
	memset(g, 0, sizeof *g); /* col_next seeds per post neuron */
}

static int expand_colwise(struct s2_eng *e, const struct s2_pe_expand *x, struct alloc *a)
{
	/* Scratch: one u32 counter per row, at the end of the free DRAM. */
	uint64_t scratch_bytes = (uint64_t)x->n_pre * 4u;
	if (scratch_bytes > a->end - a->next)
		return S2_E_NOSPACE;
	uint32_t scratch = a->end - (uint32_t)scratch_bytes;
	memset(e->row, 0, sizeof e->row);
	for (uint32_t i = 0; i < x->n_pre; i += S2_PE_ROW_MAX) {
		uint32_t k = x->n_pre - i < S2_PE_ROW_MAX ? x->n_pre - i : S2_PE_ROW_MAX;
		int rc = dram_write(e, scratch + i * 4u, e->row, k * 4u);
		if (rc < 0)
			return rc;
	}
	struct colgen g;
	uint32_t pre, post, max = 0, cnt;
	col_start(&g);
	while (col_next(e, x, &g, &pre, &post)) {
		int rc = dram_read(e, scratch + pre * 4u, &cnt, 4);
		cnt++;
		if (rc < 0 || (rc = dram_write(e, scratch + pre * 4u, &cnt, 4)) < 0)
			return rc;
		if (cnt > max)
			max = cnt;
	}
	if (max > S2_PE_ROW_MAX)
		return S2_E_NOSPACE;
	/* The index from the counts (count 0 for now: pass 2 counts up again), then the data. */
	struct alloc below = {a->next, scratch};
	uint32_t index, data, off = 0;
	int rc = reserve(&below, x->n_pre, 1, &index);
	for (uint32_t r = 0; rc == 0 && r < x->n_pre; r++) {
		uint32_t n, w;
		if ((rc = dram_read(e, scratch + r * 4u, &n, 4)) < 0)
			break;
		if (off + n >= IDX_OFF_MAX)
			return S2_E_NOSPACE;
		w = off << IDX_COUNT_BITS;
		off += n;
		rc = dram_write(e, index + r * 4u, &w, 4);
	}
	if (rc < 0 || (rc = reserve(&below, off ? off : 1, 1, &data)) < 0)
		return rc;
	col_start(&g);
	while (col_next(e, x, &g, &pre, &post)) {
		uint32_t iw, wd = make_word(e, x, &g.wrng, post, true);
		if ((rc = dram_read(e, index + pre * 4u, &iw, 4)) < 0)
			return rc;
		uint32_t at =
		        data + ((iw >> IDX_COUNT_BITS) + (iw & ((1u << IDX_COUNT_BITS) - 1u))) * 4u;
		iw++;
		if ((rc = dram_write(e, at, &wd, 4)) < 0 ||
		    (rc = dram_write(e, index + pre * 4u, &iw, 4)) < 0)
			return rc;
	}
	a->next = below.next;
	return table_add(e, x->key_lo, x->n_keys, x->part_bits, x->per_part, index, data, x->n_pre);
}

/* --- start-up ------------------------------------------------------------------------------ */

/* Sort the key table by key_lo (insertion sort: stable, at most 256 entries) and note the
 * running maximum of the ranges' ends, so a lookup can stop early. */
static void sort_table(struct s2_eng *e)
{
	for (unsigned i = 1; i < e->n_table; i++) {
		struct s2_eng_entry t = e->table[i];
		unsigned j = i;
		while (j > 0 && e->table[j - 1].key_lo > t.key_lo) {
			e->table[j] = e->table[j - 1];
			j--;
		}
		e->table[j] = t;
	}
	uint64_t m = 0;
	for (unsigned i = 0; i < e->n_table; i++) {
		uint64_t end = (uint64_t)e->table[i].key_lo + e->table[i].n_keys;
		m = end > m ? end : m;
		e->table[i].max_end = m;
	}
}

static float p21(float dt, float tau_m, float tau_s, float cm, float em, float es)
{
	float d = tau_s - tau_m;
	if (d < 1e-4f * tau_m && d > -1e-4f * tau_m)
		return dt / cm * em; /* the limit tau_s -> tau_m */
	return tau_m * tau_s / (cm * d) * (es - em);
}

/* 2^-n, exactly, for n <= 126. */
static float pow2_neg(unsigned n)
{
	uint32_t u = (uint32_t)(127u - n) << 23;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static bool whole(float x, float lo, float hi)
{
	return x >= lo && x <= hi && (float)(int32_t)x == x;
}

/* The event layers' parameters (docs/egru.md); every neuron of a PE has the same weight bits,
 * which set the accumulator bound. */
static bool event_params_ok(struct s2_eng *e, const float *p)
{
	unsigned wb_slot = e->model == S2_MODEL_EGRU ? EG_WBITS : DN_WBITS;
	float wb = p[wb_slot];
	if (!(wb == 8.0f || wb == 16.0f) || wb != e->params[0][wb_slot])
		return false;
	e->ev_lim = wb == 8.0f ? (1 << 23) - 1 : INT32_MAX;
	if (e->model == S2_MODEL_EGRU) {
		for (unsigned g = 0; g < S2_EV_GATES; g++)
			if (!whole(p[EG_SHIFT_U + g], 0, 24))
				return false;
		return p[EG_THR] > 0 && p[EG_THR] < 1 && whole(p[EG_START], 0, 1e9f);
	}
	return whole(p[DN_SHIFT], 0, 24) && p[DN_THR] >= 0 && whole(p[DN_START], 0, 1e9f) &&
	       whole(p[DN_ARGMAX], 0, 1) && p[DN_ARGMAX] == e->params[0][DN_ARGMAX];
}

static void derive(struct s2_eng *e)
{
	float dt = e->dt_ms;
	for (unsigned i = 0; i < e->n; i++) {
		float *p = e->params[i], *k = e->k[i];
		switch (e->model) {
		case S2_MODEL_LIF_CURR_EXP:
		case S2_MODEL_LIF_COND_EXP:
			k[K_DECAY_M] = s2f_exp(-dt / p[LIF_TAU_M]);
			k[K_DECAY_E] = s2f_exp(-dt / p[LIF_TAU_SYN_E]);
			k[K_DECAY_I] = s2f_exp(-dt / p[LIF_TAU_SYN_I]);
			k[K_REFRAC_STEPS] = (float)(int)(p[LIF_TAU_REFRAC] / dt + 0.5f);
			/* Exact propagators of an exponentially decaying current into v over a step
			 * (Rotter & Diesmann 1999): v gains I(t) * P21 by the end of the step. */
			k[K_P21E] = p21(dt, p[LIF_TAU_M], p[LIF_TAU_SYN_E], p[LIF_CM], k[K_DECAY_M],
			                k[K_DECAY_E]);
			k[K_P21I] = p21(dt, p[LIF_TAU_M], p[LIF_TAU_SYN_I], p[LIF_CM], k[K_DECAY_M],
			                k[K_DECAY_I]);
			/* Mean over a step of a decaying conductance, per unit at the step's start.
			 */
			k[K_AVG_E] = p[LIF_TAU_SYN_E] / dt * (1.0f - k[K_DECAY_E]);
			k[K_AVG_I] = p[LIF_TAU_SYN_I] / dt * (1.0f - k[K_DECAY_I]);
			break;
		case S2_MODEL_EGRU:
			/* An accumulator counts weight units x event units: 2^-shift x 2^-7. */
			for (unsigned g = 0; g < S2_EV_GATES; g++)
				k[g] = pow2_neg((unsigned)p[EG_SHIFT_U + g] + 7u);
			break;
		case S2_MODEL_DENSE:
			k[0] = pow2_neg((unsigned)p[DN_SHIFT] + 7u);
			break;
		default:
			break;
		}
	}
}

static bool params_ok(struct s2_eng *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i];
		for (unsigned j = 0; j < S2_PE_PARAMS; j++)
			if (!(p[j] == p[j]) || p[j] > 1e30f || p[j] < -1e30f)
				return false;
		switch (e->model) {
		case S2_MODEL_LIF_CURR_EXP:
		case S2_MODEL_LIF_COND_EXP:
		case S2_MODEL_LIF_CURR_ALPHA:
		case S2_MODEL_LIF_COND_ALPHA:
		case S2_MODEL_LIF_CURR_DELTA:
		case S2_MODEL_ADEX_COND_EXP:
		case S2_MODEL_LIF_COND_SFA:
			/* the refractory period becomes whole steps, held in a float: at most
			 * 2^24 steps (beyond, the conversion to int would be undefined) */
			if (!(p[LIF_TAU_M] > 0 && p[LIF_CM] > 0 && p[LIF_TAU_SYN_E] > 0 &&
			      p[LIF_TAU_SYN_I] > 0 && p[LIF_TAU_REFRAC] >= 0 &&
			      p[LIF_TAU_REFRAC] / e->dt_ms + 0.5f < S2_ENG_REFRAC_MAX))
				return false;
			break;
		case S2_MODEL_HH_COND_EXP: /* hh.c */
			if (!s2_hh_params_ok(p))
				return false;
			break;
		case S2_MODEL_NIR:
			if (!(p[NIR_A_I] >= 0 && p[NIR_A_I] <= 1 && p[NIR_A_V] >= 0 &&
			      p[NIR_A_V] <= 1))
				return false;
			break;
		case S2_MODEL_POISSON:
			if (!(p[POI_RATE] >= 0 && p[POI_START] >= 0 && p[POI_DURATION] >= 0))
				return false;
			break;
		case S2_MODEL_EGRU:
		case S2_MODEL_DENSE:
			if (!event_params_ok(e, p))
				return false;
			break;
		default:
			break;
		}
	}
	return true;
}

/* The background input's Poisson CDF at 0..bg_top, each term and partial sum computed as
 * the sequential search of bg_count computes them (the same floats): the search then costs a
 * comparison per step instead of a division. Every term before bg_top is > 0. */
static void bg_table(struct s2_eng *e)
{
	float p = e->bg_p0, cdf = p;
	unsigned k = 0;
	e->bg_cdf[0] = cdf;
	while (p > 0 && k + 1 < S2_ENG_BG_CDF) {
		k++;
		p = p * e->bg_lam / (float)k;
		cdf += p;
		e->bg_cdf[k] = cdf;
	}
	e->bg_top = k;
	e->bg_top_p = p;
}

/* The background input's constants and CDF table: Poisson(lam) as the sum of bg_chunks
 * Poisson(lam / chunks) of mean at most 16: exact, and exp(-mean) stays far from float
 * underflow. */
static void bg_setup(struct s2_eng *e)
{
	float lam = e->pd.bg_rate_hz * e->dt_ms * 0.001f;
	e->bg_chunks = (unsigned)(lam / 16.0f) + 1u;
	e->bg_lam = lam / (float)e->bg_chunks;
	e->bg_p0 = s2f_exp(-e->bg_lam);
	e->bg_w = e->pd.bg_weight;
	bg_table(e);
}

/* The input ring's shape for this PE's neuron count (pedata.h s2_pe_max_delay). */
static void ring_geometry(struct s2_eng *e)
{
	unsigned stride = s2_pe_ring_stride(e->n), b = 0;
	while ((1u << b) < stride)
		b++;
	e->stride_bits = (uint8_t)b;
	e->ring_shift = (uint8_t)(b + 1u);
	e->max_delay = (uint16_t)s2_pe_max_delay(e->n);
	e->ring_mask = e->max_delay - 1u;
}

/* The accumulator of synaptic word x (pedata.h) for a spike sent in step base. */
static inline uint32_t ring_index(const struct s2_eng *e, uint32_t base, uint32_t x)
{
	return ((base + ((x >> 8) & 0xFFu) + 1u) & e->ring_mask) << e->ring_shift |
	       (x >> 7 & 1u) << e->stride_bits | (x & 0x7Fu);
}

/* Izhikevich: the derivatives of (v, u) for the input cur (i_offset x 1000) and a, b. */
struct izk {
	double cur, a, b;
};

static void izk_deriv(const void *ctx, const double *x, double *d)
{
	const struct izk *p = ctx;
	double v = x[0], u = x[1];
	d[0] = 0.04 * v * v + 5.0 * v + 140.0 - u + p->cur;
	d[1] = p->a * (p->b * v - u);
}

/* The models that take current sources (csource.h): the LIFs, AdEx, Izhikevich,
 * HH and the adapting LIF. */
static bool csrc_model(unsigned model)
{
	return model == S2_MODEL_LIF_CURR_EXP || model == S2_MODEL_LIF_COND_EXP ||
	       model == S2_MODEL_IZHIKEVICH || s2_lif2_model(model) ||
	       model == S2_MODEL_ADEX_COND_EXP || model == S2_MODEL_HH_COND_EXP ||
	       model == S2_MODEL_LIF_COND_SFA;
}

int s2_eng_init(struct s2_eng *e, const uint8_t *pedata, size_t len, const struct s2_eng_hal *hal)
{
	memset(e, 0, sizeof *e);
	e->hal = *hal;
	int rc = s2_pedata_decode(pedata, len, &e->pd);
	if (rc < 0)
		return rc;
	e->n = e->pd.n_neurons;
	e->model = e->pd.model;
	ring_geometry(e);
	e->dt_ms = (float)e->pd.dt_us / 1000.0f;
	load_params(e, &e->pd);
	if (!params_ok(e))
		return S2_E_RANGE;
	if (e->pd.sect[S2_SECT_STATE])
		for (unsigned i = 0; i < e->n; i++)
			for (unsigned j = 0; j < S2_PE_STATE; j++)
				e->state[i][j] = ldf(row_at(e->pd.sect[S2_SECT_STATE],
				                            e->pd.sect_len[S2_SECT_STATE],
				                            S2_PE_STATE, i, j));
	for (unsigned i = 0; i < e->pd.n_record_v; i++)
		e->record_v[i] = s2_ld16(e->pd.sect[S2_SECT_RECORD_V] + 2 * i);
	for (unsigned i = 0; i < e->n; i++) {
		e->izk[i][0] = e->state[i][ST_IZK_V];
		e->izk[i][1] = e->state[i][ST_IZK_U];
	}
	derive(e);
	if (s2_lif2_model(e->model))
		s2_lif2_derive(e); /* lif_alpha.c */
	if (e->model == S2_MODEL_ADEX_COND_EXP) {
		if (!s2_adex_params_ok(&e->pd, e->n))
			return S2_E_RANGE;
		s2_adex_derive(e); /* adex.c */
	}
	if (e->model == S2_MODEL_HH_COND_EXP)
		s2_hh_derive(e);                 /* hh.c */
	if (e->model == S2_MODEL_LIF_COND_SFA) { /* lif_sfa.c: g_s, g_r start at 0 */
		if (!s2_sfa_params_ok(&e->pd, (const float(*)[S2_PE_PARAMS])e->params, e->n))
			return S2_E_RANGE;
		for (unsigned i = 0; i < e->n; i++)
			e->izk[i][0] = e->izk[i][1] = 0;
		s2_sfa_params(e);
	}
	if (e->pd.sect[S2_SECT_CSOURCE]) { /* current sources: LIF and Izhikevich neurons */
		if (!csrc_model(e->model))
			return S2_E_RANGE;
		unsigned slot = e->model == S2_MODEL_IZHIKEVICH ? IZK_I_OFFSET : LIF_I_OFFSET;
		rc = s2_csrc_init(&e->cs, e->pd.sect[S2_SECT_CSOURCE],
		                  e->pd.sect_len[S2_SECT_CSOURCE], e->n,
		                  (const float(*)[S2_PE_PARAMS])e->params, slot, e->pd.seed);
		if (rc < 0)
			return rc;
	}
	if (e->pd.bg_rate_hz > 0)
		bg_setup(e);
	s2f_rng_seed(&e->rng, e->pd.seed);
	struct alloc a = {e->pd.dram_base, e->pd.dram_base + e->pd.dram_size};
	if (a.end < a.next)
		return S2_E_RANGE;
	if ((rc = load_explicit(e, &a)) < 0)
		return rc;
	for (unsigned i = 0; i < s2_pedata_n_expand(&e->pd); i++) {
		struct s2_pe_expand x;
		if ((rc = s2_pedata_expand_decode(&e->pd, i, &x)) < 0)
			return rc;
		if (x.connector == S2_CONN_FIXED_TOTAL)
			rc = expand_fixed_total(e, &x, &a);
		else if (x.connector == S2_CONN_FIXED_NUMBER_PRE)
			rc = expand_colwise(e, &x, &a);
		else
			rc = expand_rowwise(e, &x, &a);
		if (rc < 0)
			return rc;
	}
	if ((rc = s2_plastic_init(e, &a.next, a.end)) < 0) /* plastic.c */
		return rc;
	sort_table(e);
	return 0;
}

static bool sect_same(const struct s2_pedata *a, const struct s2_pedata *b, unsigned t)
{
	return a->sect_len[t] == b->sect_len[t] &&
	       (!a->sect_len[t] || !memcmp(a->sect[t], b->sect[t], a->sect_len[t]));
}

/* The first entry (of `size` bytes, step u32 first) of a sorted section at or after step t. */
static uint32_t first_at(const uint8_t *p, uint32_t len, uint32_t size, uint32_t t)
{
	uint32_t i = 0, n = len / size;
	while (i < n && s2_ld32(p + size * i) < t)
		i++;
	return i;
}

int s2_eng_update(struct s2_eng *e, const uint8_t *pedata, size_t len)
{
	struct s2_pedata pd;
	int rc = s2_pedata_decode(pedata, len, &pd);
	if (rc < 0)
		return rc;
	const struct s2_pedata *o = &e->pd;
	if (pd.model != o->model || pd.n_neurons != o->n_neurons ||
	    pd.n_record_v != o->n_record_v || pd.flags != o->flags || pd.dt_us != o->dt_us ||
	    pd.key_base != o->key_base || pd.seed != o->seed || pd.w_scale_e != o->w_scale_e ||
	    pd.w_scale_i != o->w_scale_i || pd.dram_base != o->dram_base ||
	    pd.dram_size != o->dram_size || !sect_same(&pd, o, S2_SECT_RECORD_V) ||
	    !sect_same(&pd, o, S2_SECT_ROWS) || !sect_same(&pd, o, S2_SECT_EXPAND) ||
	    !sect_same(&pd, o, S2_SECT_SLICES) || !sect_same(&pd, o, S2_SECT_PLASTIC))
		return S2_E_STATE;
	/* Parameters: the new ones, checked; the old ones back if they are refused. */
	load_params(e, &pd);
	if (!params_ok(e) ||
	    (e->model == S2_MODEL_ADEX_COND_EXP && !s2_adex_params_ok(&pd, e->n)) ||
	    (e->model == S2_MODEL_LIF_COND_SFA &&
	     !s2_sfa_params_ok(&pd, (const float(*)[S2_PE_PARAMS])e->params, e->n))) {
		load_params(e, o);
		return S2_E_RANGE;
	}
	/* Current sources: indexed again in the new data (the old data is freed after an
	 * update) with the new i_offsets as their base. DC, AC and noise depend on the step
	 * alone and a step source applies its points up to the current step at the next tick,
	 * so the new sources act from the next step as if the run had had them all along. */
	unsigned cslot = e->model == S2_MODEL_IZHIKEVICH ? IZK_I_OFFSET : LIF_I_OFFSET;
	if (pd.sect[S2_SECT_CSOURCE] || e->cs.n) {
		rc = pd.sect[S2_SECT_CSOURCE] && !csrc_model(e->model)
		             ? S2_E_RANGE
		             : s2_csrc_init(&e->cs, pd.sect[S2_SECT_CSOURCE],
		                            pd.sect_len[S2_SECT_CSOURCE], e->n,
		                            (const float(*)[S2_PE_PARAMS])e->params, cslot,
		                            pd.seed);
		if (rc < 0) {
			load_params(e, o);
			(void)s2_csrc_init(&e->cs, o->sect[S2_SECT_CSOURCE],
			                   o->sect_len[S2_SECT_CSOURCE], e->n,
			                   (const float(*)[S2_PE_PARAMS])e->params, cslot, o->seed);
			return rc;
		}
	}
	/* Initial values changed between runs (PyNN's initialize()): each state value whose
	 * initial value differs from the one loaded before is set to it now; the others go on.
	 */
	if (pd.sect[S2_SECT_STATE])
		for (unsigned i = 0; i < e->n; i++)
			for (unsigned j = 0; j < S2_PE_STATE; j++) {
				uint32_t nw = s2_ld32(row_at(pd.sect[S2_SECT_STATE],
				                             pd.sect_len[S2_SECT_STATE],
				                             S2_PE_STATE, i, j));
				uint32_t old = o->sect[S2_SECT_STATE]
				                       ? s2_ld32(row_at(o->sect[S2_SECT_STATE],
				                                        o->sect_len[S2_SECT_STATE],
				                                        S2_PE_STATE, i, j))
				                       : 0u;
				if (nw == old)
					continue;
				memcpy(&e->state[i][j], &nw, 4);
				if (e->model == S2_MODEL_IZHIKEVICH && j < 2)
					e->izk[i][j] = e->state[i][j]; /* ST_IZK_V, ST_IZK_U */
			}
	e->pd = pd;
	derive(e);
	if (s2_lif2_model(e->model)) /* the models' own constants; their state is kept */
		s2_lif2_params(e);
	else if (e->model == S2_MODEL_ADEX_COND_EXP)
		s2_adex_params(e);
	else if (e->model == S2_MODEL_HH_COND_EXP)
		s2_hh_params(e);
	else if (e->model == S2_MODEL_LIF_COND_SFA)
		s2_sfa_params(e);
	e->bg_lam = e->bg_p0 = e->bg_w = 0;
	e->bg_chunks = 0;
	if (e->pd.bg_rate_hz > 0) /* as s2_eng_init, the CDF table too (a new rate) */
		bg_setup(e);
	e->spike_next = first_at(pd.sect[S2_SECT_SPIKES], pd.sect_len[S2_SECT_SPIKES], 8u, e->t);
	/* DC steps set a parameter (i_offset): replay those of the steps already computed onto
	 * the new parameters, as if the run had had them from the start. */
	unsigned slot = e->model == S2_MODEL_IZHIKEVICH ? IZK_I_OFFSET : LIF_I_OFFSET;
	const uint8_t *c = pd.sect[S2_SECT_CURRENT];
	uint32_t nc = pd.sect_len[S2_SECT_CURRENT] / 12u;
	for (e->current_next = 0; e->current_next < nc && s2_ld32(c + 12u * e->current_next) < e->t;
	     e->current_next++) {
		unsigned i = s2_ld16(c + 12u * e->current_next + 4);
		if (i < e->n)
			e->params[i][slot] = ldf(c + 12u * e->current_next + 8);
	}
	return 0;
}

/* --- events -------------------------------------------------------------------------------- */

/* An event layer's row: weight x event value into the accumulators of the step after the
 * sender's (docs/egru.md). The bound is the mapper's guarantee; a sum beyond it is clipped and
 * counted, never wrapped. */
__attribute__((noinline)) static void event_row(struct s2_eng *e, uint32_t base, unsigned n,
                                                const uint32_t *payload)
{
	int32_t(*acc)[S2_PE_MAX_NEURONS] = e->acc[(base + 1u) & 1u];
	int64_t val = payload ? (int64_t)(int32_t)*payload : S2_EV_ONE, lim = e->ev_lim;
	uint32_t sat = 0;
	for (const uint32_t *w = e->row, *end = e->row + n; w < end; w++) {
		uint32_t x = *w;
		int32_t *a = &acc[(x >> 8) & 3u][x & 0xFFu];
		int64_t s = (int64_t)*a + (int64_t)(int16_t)(uint16_t)(x >> 16) * val;
		if (s > lim || s < -lim) {
			s = s > 0 ? lim : -lim;
			sat++;
		}
		*a = (int32_t)s;
	}
	e->c.synaptic_events += n;
	e->c.ring_saturated += sat;
}

/* One past the last key-table entry with key_lo <= key; the entries that may hold key are
 * that one and those before it while their max_end is above key. */
static unsigned table_upper(const struct s2_eng *e, uint32_t key)
{
	unsigned lo = 0, hi = e->n_table;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (e->table[mid].key_lo <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void s2_eng_prefetch(const struct s2_eng *e, const uint32_t *keys, unsigned n)
{
	const void *(*peek)(void *, uint32_t, uint32_t) = e->dram_peek;
	if (!peek)
		return;
	/* Two passes, so that the memory accesses of one pass overlap: the rows' index words,
	 * then (their values known) the rows. */
	uint32_t at[S2_ENG_PREFETCH], data[S2_ENG_PREFETCH];
	unsigned m = 0;
	for (unsigned i = 0; i < n && i < S2_ENG_PREFETCH; i++) {
		for (unsigned k = table_upper(e, keys[i]);
		     k-- > 0 && e->table[k].max_end > keys[i];) {
			const struct s2_eng_entry *t = &e->table[k];
			uint32_t r;
			if (!s2_pe_source_row(t->key_lo, t->n_keys, t->part_bits, t->per_part,
			                      keys[i], &r) ||
			    r >= t->n_rows)
				continue;
			const void *p = peek(e->hal.ctx, t->index + r * 4u, 4);
			if (p) {
				__builtin_prefetch(p, 0, 0);
				at[m] = t->index + r * 4u;
				data[m++] = t->data;
			}
			break; /* one row per key is hint enough */
		}
	}
	for (unsigned j = 0; j < m; j++) {
		const uint8_t *p = peek(e->hal.ctx, at[j], 4);
		if (!p)
			continue;
		uint32_t iw = s2_ld32(p), len = (iw & ((1u << IDX_COUNT_BITS) - 1u)) * 4u;
		uint32_t row = data[j] + (iw >> IDX_COUNT_BITS) * 4u;
		const uint8_t *q = len ? peek(e->hal.ctx, row, len) : NULL;
		if (q) /* (a row across a page boundary of the host is left out: rare) */
			for (uintptr_t c = (uintptr_t)q & ~(uintptr_t)63; c < (uintptr_t)q + len;
			     c += 64)
				__builtin_prefetch((const void *)c, 0, 0);
	}
}

void s2_eng_prefetch_ring(const struct s2_eng *e, const uint32_t *keys, unsigned n)
{
	const void *(*peek)(void *, uint32_t, uint32_t) = e->dram_peek;
	if (!peek || e->model == S2_MODEL_EGRU || e->model == S2_MODEL_DENSE)
		return;
	uint32_t base = e->t - 1u;
	for (unsigned i = 0; i < n && i < S2_ENG_PREFETCH; i++) {
		for (unsigned k = table_upper(e, keys[i]);
		     k-- > 0 && e->table[k].max_end > keys[i];) {
			const struct s2_eng_entry *t = &e->table[k];
			uint32_t r;
			if (!s2_pe_source_row(t->key_lo, t->n_keys, t->part_bits, t->per_part,
			                      keys[i], &r) ||
			    r >= t->n_rows)
				continue;
			if (t->plastic) /* other words than synaptic ones (plastic.h) */
				break;
			const uint8_t *p = peek(e->hal.ctx, t->index + r * 4u, 4);
			uint32_t iw = p ? s2_ld32(p) : 0, len = iw & ((1u << IDX_COUNT_BITS) - 1u);
			const uint8_t *w =
			        len ? peek(e->hal.ctx, t->data + (iw >> IDX_COUNT_BITS) * 4u,
			                   len * 4u)
			            : NULL;
			for (uint32_t j = 0; w && j < len; j++) {
				uint32_t x = s2_ld32(w + 4u * j);
				__builtin_prefetch(&e->ring[ring_index(e, base, x)], 1);
			}
			break;
		}
	}
}

void s2_eng_receive(struct s2_eng *e, uint32_t key, const uint32_t *payload)
{
	uint32_t t0 = e->hal.cycles ? e->hal.cycles(e->hal.ctx) : 0; /* the budget, measured */
	e->c.packets_in++;
	bool matched = false;
	uint32_t base = e->t - 1u; /* the sender's timestep */
	/* The last entry with key_lo <= key, then back while an earlier range may reach key. */
	for (unsigned k = table_upper(e, key); k-- > 0 && e->table[k].max_end > key;) {
		const struct s2_eng_entry *t = &e->table[k];
		uint32_t r;
		if (!s2_pe_source_row(t->key_lo, t->n_keys, t->part_bits, t->per_part, key, &r) ||
		    r >= t->n_rows)
			continue;
		matched = true;
		uint32_t iw, n;
		if (dram_read(e, t->index + r * 4u, &iw, 4) < 0)
			continue;
		n = iw & ((1u << IDX_COUNT_BITS) - 1u);
		if (n == 0 || n > S2_PE_ROW_MAX ||
		    dram_read(e, t->data + (iw >> IDX_COUNT_BITS) * 4u, e->row, n * 4u) < 0)
			continue;
		if (t->plastic) { /* plastic.c */
			s2_plastic_row(e, k, r, t->data + (iw >> IDX_COUNT_BITS) * 4u, n, base);
			continue;
		}
		if (e->model == S2_MODEL_EGRU || e->model == S2_MODEL_DENSE) {
			event_row(e, base, n, payload);
			continue;
		}
		/* The inner loop: one synaptic word per iteration. */
		const uint32_t *w = e->row, *end = e->row + n;
		uint32_t sat = 0;
		for (; w < end; w++) {
			uint32_t x = *w;
			uint16_t *slot = &e->ring[ring_index(e, base, x)];
			uint32_t s = (uint32_t)*slot + (x >> 16);
			if (s > 0xFFFFu) {
				s = 0xFFFFu;
				sat++;
			}
			*slot = (uint16_t)s;
		}
		e->c.synaptic_events += n;
		e->c.ring_saturated += sat;
	}
	if (!matched)
		e->c.packets_unknown++;
	if (e->hal.cycles)
		e->bud_busy += e->hal.cycles(e->hal.ctx) - t0;
}

/* A Poisson count of mean bg_chunks x bg_lam: per chunk, inversion by sequential search
 * (one uniform; about bg_lam + 1 comparisons) of the CDF that bg_table summed once, then,
 * past its end (rare), summed on as bg_table would have. */
static uint32_t bg_count(struct s2_eng *e)
{
	uint32_t total = 0;
	for (unsigned c = 0; c < e->bg_chunks; c++) {
		float u = s2f_rng_uniform(&e->rng);
		/* The CDF never decreases, so the first k with u <= cdf[k] is the number of
		 * entries below u: counted without branches over the first four (the count is
		 * random; a branch per entry would be mispredicted on most neurons). */
		unsigned lim = e->bg_top < 4u ? e->bg_top : 4u;
		uint32_t k = 0;
		for (unsigned j = 0; j < lim; j++)
			k += u > e->bg_cdf[j];
		if (k == lim)
			while (k < e->bg_top && u > e->bg_cdf[k])
				k++;
		if (k == e->bg_top) {
			float p = e->bg_top_p, cdf = e->bg_cdf[k];
			while (u > cdf && p > 0) {
				k++;
				p = p * e->bg_lam / (float)k;
				cdf += p;
			}
		}
		total += k;
	}
	return total;
}

static void spike(struct s2_eng *e, unsigned i, uint8_t *bits)
{
	bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	e->c.spikes_sent++;
	if (e->pl.n)
		s2_plastic_post(e, i);
	e->hal.send(e->hal.ctx, e->pd.key_base + i, NULL);
}

/* An event of an event layer: value x > 0 in units of 2^-7, capped at S2_EV_MAX (counted). */
static void event(struct s2_eng *e, unsigned i, uint8_t *bits, float x)
{
	int32_t q = (int32_t)(x * 128.0f + 0.5f);
	if (q > S2_EV_MAX) {
		q = S2_EV_MAX;
		e->c.ring_saturated++;
	}
	uint32_t payload = (uint32_t)q;
	bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	e->c.spikes_sent++;
	e->hal.send(e->hal.ctx, e->pd.key_base + i, &payload);
}

static float sigmoid(float a)
{
	return 1.0f / (1.0f + s2f_exp(-a));
}

/* One step of an EGRU or dense layer (docs/egru.md: the order of every operation). */
static void event_tick(struct s2_eng *e, uint8_t *bits)
{
	int32_t(*acc)[S2_PE_MAX_NEURONS] = e->acc[e->t & 1u];
	bool send = !(e->pd.flags & S2_PD_F_NO_TARGETS);
	bool argmax = e->model == S2_MODEL_DENSE && e->params[0][DN_ARGMAX] != 0.0f;
	int best = -1;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i], *k = e->k[i];
		float *s = e->state[i];
		if ((float)e->t < p[e->model == S2_MODEL_EGRU ? EG_START : DN_START])
			continue; /* before its first input can arrive: idle */
		if (e->model == S2_MODEL_EGRU) {
			float au = (float)acc[0][i] * k[0] + p[EG_B_U];
			float ar = (float)acc[1][i] * k[1] + p[EG_B_R];
			float ax = (float)acc[2][i] * k[2] + p[EG_B_CX];
			float ah = (float)acc[3][i] * k[3] + p[EG_B_CH];
			float u = sigmoid(au), r = sigmoid(ar);
			float z = 2.0f * sigmoid(2.0f * (ax + r * ah)) - 1.0f;
			float keep = u * s[0], take = (1.0f - u) * z;
			float c = keep + take;
			if (c > p[EG_THR]) {
				event(e, i, bits, c);
				c = c - p[EG_THR];
			}
			s[0] = c;
		} else {
			float a = (float)acc[0][i] * k[0] + p[DN_BIAS];
			if (argmax) {
				if (best < 0 || a > e->state[best][0])
					best = (int)i; /* ties: the lowest index */
			} else if (send && a > p[DN_THR]) {
				event(e, i, bits, a);
			}
			s[0] = a;
		}
		e->c.neuron_updates++;
	}
	if (best >= 0) /* the winner's spike: a token id, live on the stream (docs/egru.md) */
		spike(e, (unsigned)best, bits);
	for (unsigned g = 0; g < S2_EV_GATES; g++)
		memset(acc[g], 0, e->n * sizeof acc[g][0]);
}

static void apply_currents(struct s2_eng *e)
{
	const uint8_t *p = e->pd.sect[S2_SECT_CURRENT];
	uint32_t n = e->pd.sect_len[S2_SECT_CURRENT] / 12u;
	unsigned slot = e->model == S2_MODEL_IZHIKEVICH ? IZK_I_OFFSET : LIF_I_OFFSET;
	while (e->current_next < n) {
		const uint8_t *c = p + 12u * e->current_next;
		if (s2_ld32(c) > e->t)
			break;
		unsigned i = s2_ld16(c + 4);
		if (i < e->n) /* with current sources, the value they add to */
			*(e->cs.n ? &e->cs.base[i] : &e->params[i][slot]) = ldf(c + 8);
		e->current_next++;
	}
}

int s2_eng_inject(struct s2_eng *e, unsigned i)
{
	if (e->model != S2_MODEL_POISSON && e->model != S2_MODEL_SPIKE_ARRAY)
		return S2_E_STATE;
	if (i >= e->n)
		return S2_E_RANGE;
	e->inject[i >> 3] |= (uint8_t)(1u << (i & 7));
	e->n_inject++;
	return 0;
}

/*
 * The step's cost against the real-time budget (docs/engine.md): measured busy cycles with
 * hal.cycles, else modelled from the PE data's costs (the same figures the mapper placed the
 * neurons by), so that every build counts the same.
 */
static void budget_step(struct s2_eng *e, uint32_t t0)
{
	float cost;
	if (e->hal.cycles) {
		cost = (float)(e->bud_busy + (e->hal.cycles(e->hal.ctx) - t0));
		e->bud_busy = 0;
	} else {
		uint32_t ev = (uint32_t)(e->c.synaptic_events - e->bud_ev),
		         pk = (uint32_t)(e->c.packets_in - e->bud_pk);
		cost = (float)e->n * (float)e->pd.cyc_update +
		       (float)ev * ((float)e->pd.cyc_event_x10 * 0.1f) +
		       (float)pk * (float)e->pd.cyc_packet;
	}
	e->bud_ev = e->c.synaptic_events;
	e->bud_pk = e->c.packets_in;
	float budget = (float)e->pd.budget;
	e->c.steps_over += cost > budget;
	float pm = cost * 1000.0f / budget;
	/* to 64 bits in two 32-bit halves (a float-to-u64 conversion is a library call on the
	 * M4F): nothing saturates below 2^64 thousandths; a float holds 24 bits of it anyway */
	uint32_t hi = pm < 1.8e19f ? (uint32_t)(pm * (1.0f / 4294967296.0f)) : UINT32_MAX;
	uint32_t lo = pm < 1.8e19f ? (uint32_t)(pm - (float)hi * 4294967296.0f) : UINT32_MAX;
	uint64_t w = (uint64_t)hi << 32 | lo;
	if (w > e->c.worst_permille)
		e->c.worst_permille = w;
}

void s2_eng_tick(struct s2_eng *e)
{
	uint32_t t0 = e->hal.cycles ? e->hal.cycles(e->hal.ctx) : 0;
	uint8_t bits[S2_PE_MAX_NEURONS / 8] = {0};
	uint16_t *in_e = &e->ring[(e->t & e->ring_mask) << e->ring_shift],
	         *in_i = in_e + (1u << e->stride_bits);
	float we = e->pd.w_scale_e, wi = e->pd.w_scale_i, dt = e->dt_ms;
	if (e->pl.n) /* axonal STDP: the pre spikes that reach their synapses now */
		s2_plastic_tick(e);
	if (e->pd.sect[S2_SECT_CURRENT])
		apply_currents(e);
	if (e->cs.n)
		s2_csrc_step(&e->cs, e->t, dt, e->n, e->params,
		             e->model == S2_MODEL_IZHIKEVICH ? IZK_I_OFFSET : LIF_I_OFFSET);
	switch (e->model) {
	case S2_MODEL_LIF_CURR_EXP:
	case S2_MODEL_LIF_COND_EXP:
		for (unsigned i = 0; i < e->n; i++) {
			float *p = e->params[i], *s = e->state[i], *k = e->k[i];
			float v = s[ST_V];
			if (s[ST_REFRAC] > 0) {
				s[ST_REFRAC] -= 1.0f;
				v = p[LIF_V_RESET];
			} else if (e->model == S2_MODEL_LIF_CURR_EXP) {
				/* Exact: the bias is constant, the synaptic currents decay over the
				 * step with their own time constants. */
				float r_m = p[LIF_TAU_M] / p[LIF_CM];
				float v_inf = p[LIF_V_REST] + p[LIF_I_OFFSET] * r_m;
				v = v_inf + (v - v_inf) * k[K_DECAY_M] + s[ST_SYN_E] * k[K_P21E] -
				    s[ST_SYN_I] * k[K_P21I];
			} else {
				/* Exponential Euler with each conductance at its mean over the
				 * step. */
				float ge = s[ST_SYN_E] * k[K_AVG_E], gi = s[ST_SYN_I] * k[K_AVG_I];
				float g_l = p[LIF_CM] / p[LIF_TAU_M];
				float g = g_l + ge + gi;
				float v_inf = (g_l * p[LIF_V_REST] + ge * p[LIF_E_REV_E] +
				               gi * p[LIF_E_REV_I] + p[LIF_I_OFFSET]) /
				              g;
				v = v_inf + (v - v_inf) * s2f_exp(-dt * g / p[LIF_CM]);
			}
			if (v >= p[LIF_V_THRESH] && s[ST_REFRAC] <= 0) {
				v = p[LIF_V_RESET];
				s[ST_REFRAC] = k[K_REFRAC_STEPS];
				spike(e, i, bits);
			}
			s[ST_V] = v;
			/* Decay, then this step's input: it acts from the end of the step. The
			 * background Poisson input arrives like a spike of this step. */
			float bg = 0;
			if (e->bg_chunks) {
				uint32_t nb = bg_count(e);
				e->c.bg_inputs += nb;
				bg = (float)nb * e->bg_w;
			}
			s[ST_SYN_E] = s[ST_SYN_E] * k[K_DECAY_E] + (float)in_e[i] * we + bg;
			s[ST_SYN_I] = s[ST_SYN_I] * k[K_DECAY_I] + (float)in_i[i] * wi;
		}
		e->c.neuron_updates += e->n;
		break;
	case S2_MODEL_LIF_CURR_ALPHA:
	case S2_MODEL_LIF_COND_ALPHA:
	case S2_MODEL_LIF_CURR_DELTA:
	case S2_MODEL_ADEX_COND_EXP:
	case S2_MODEL_HH_COND_EXP:
	case S2_MODEL_LIF_COND_SFA: { /* lif_alpha.c, adex.c, hh.c, lif_sfa.c */
		uint8_t fire[S2_PE_MAX_NEURONS / 8] = {0};
		if (e->model == S2_MODEL_ADEX_COND_EXP)
			s2_adex_tick(e, in_e, in_i, fire);
		else if (e->model == S2_MODEL_LIF_COND_SFA)
			s2_sfa_tick(e, in_e, in_i, fire);
		else if (e->model == S2_MODEL_HH_COND_EXP)
			s2_hh_tick(e, in_e, in_i, fire);
		else
			s2_lif2_tick(e, in_e, in_i, fire);
		for (unsigned i = 0; i < e->n; i++)
			if ((fire[i >> 3] >> (i & 7)) & 1u)
				spike(e, i, bits);
		break;
	}
	case S2_MODEL_IZHIKEVICH:
		for (unsigned i = 0; i < e->n; i++) {
			/* In double precision: the model's fast upswing amplifies float rounding
			 * into whole-step spike shifts (the reference check). Cortex-M4F computes
			 * doubles in software, IEEE-exact like the host, so the builds still agree.
			 */
			float *p = e->params[i], *s = e->state[i];
			struct izk c = {(double)p[IZK_I_OFFSET] * 1000.0, p[IZK_A], p[IZK_B]};
			double x[2] = {e->izk[i][0], e->izk[i][1]};
			s2_rk4_step(izk_deriv, &c, x, 2, dt);
			double v = x[0], u = x[1];
			if (v >= 30.0) {
				v = p[IZK_C];
				u += p[IZK_D];
				spike(e, i, bits);
			}
			/* Delta synapses, at the end of the step: a weight unit is w_scale mV. */
			v += (double)in_e[i] * we - (double)in_i[i] * wi;
			e->izk[i][0] = v;
			e->izk[i][1] = u;
			s[ST_IZK_V] = (float)v;
			s[ST_IZK_U] = (float)u;
		}
		e->c.neuron_updates += e->n;
		break;
	case S2_MODEL_NIR:
		/* The generic discrete neuron of NIR graphs (docs/nir.md): the host computed
		 * the coefficients for its timestep and integrator; this step's input acts in
		 * this step. Each operation rounds to float (the reference does the same). */
		for (unsigned i = 0; i < e->n; i++) {
			const float *p = e->params[i];
			float *s = e->state[i];
			float ex = (float)in_e[i] * we, ix = (float)in_i[i] * wi;
			float x = ex - ix;
			x = x + p[NIR_BIAS];
			float ai = p[NIR_A_I] * s[ST_NIR_I], gi = p[NIR_G_I] * x;
			float cur = ai + gi;
			float av = p[NIR_A_V] * s[ST_NIR_V], gv = p[NIR_G_V] * cur;
			float v = av + p[NIR_B_V];
			v = v + gv;
			if (p[NIR_SPIKING] != 0.0f && v > p[NIR_THRESH]) {
				v = p[NIR_SUBTRACT] != 0.0f ? v - p[NIR_THRESH] : p[NIR_RESET];
				spike(e, i, bits);
			}
			s[ST_NIR_V] = v;
			s[ST_NIR_I] = cur;
		}
		e->c.neuron_updates += e->n;
		break;
	case S2_MODEL_POISSON: {
		float t_ms = (float)e->t * dt;
		for (unsigned i = 0; i < e->n; i++) {
			const float *p = e->params[i];
			bool on = t_ms >= p[POI_START] &&
			          (p[POI_DURATION] <= 0 || t_ms < p[POI_START] + p[POI_DURATION]);
			if (on && s2f_rng_uniform(&e->rng) < p[POI_RATE] * dt * 0.001f)
				spike(e, i, bits);
		}
		e->c.neuron_updates += e->n; /* a draw per source neuron per step */
		break;
	}
	case S2_MODEL_EGRU:
	case S2_MODEL_DENSE:
		event_tick(e, bits);
		break;
	case S2_MODEL_SPIKE_ARRAY: {
		const uint8_t *sp = e->pd.sect[S2_SECT_SPIKES];
		uint32_t n = e->pd.sect_len[S2_SECT_SPIKES] / 8u;
		while (e->spike_next < n) {
			const uint8_t *x = sp + 8u * e->spike_next;
			uint32_t step = s2_ld32(x);
			if (step > e->t)
				break;
			unsigned i = s2_ld16(x + 4);
			if (step == e->t && i < e->n && !(bits[i >> 3] & (1u << (i & 7))))
				spike(e, i, bits);
			e->spike_next++;
		}
		break;
	}
	default:
		break;
	}
	if (e->n_inject) { /* spikes injected by the host for this step (sources only) */
		for (unsigned i = 0; i < e->n; i++)
			if ((e->inject[i >> 3] >> (i & 7)) & 1u &&
			    !((bits[i >> 3] >> (i & 7)) & 1u))
				spike(e, i, bits);
		memset(e->inject, 0, sizeof e->inject);
		e->n_inject = 0;
	}
	if (e->model != S2_MODEL_EGRU && e->model != S2_MODEL_DENSE) {
		memset(in_e, 0, e->n * sizeof *in_e);
		memset(in_i, 0, e->n * sizeof *in_i);
	}
	if (e->pd.flags & 1u)
		e->hal.record(e->hal.ctx, 0, bits, (e->n + 7u) / 8u);
	if (e->pd.n_record_v) {
		for (unsigned r = 0; r < e->pd.n_record_v; r++) { /* pedata.h RECORD_V */
			unsigned i = s2_rec_neuron(e->record_v[r]), x = s2_rec_var(e->record_v[r]);
			e->vbuf[r] = x < S2_PE_STATE ? e->state[i][x]
			                             : (float)e->izk[i][x - S2_PE_STATE];
		}
		e->hal.record(e->hal.ctx, 1, e->vbuf, e->pd.n_record_v * 4u);
	}
	if (e->pd.budget)
		budget_step(e, t0);
	e->c.steps++;
	e->t++;
}
