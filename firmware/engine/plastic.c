/* Plastic synapses (plastic.h, docs/engine.md "Plasticity"). */
#include "plastic.h"
#include "engine.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

#define Q30 1073741824.0f /* 2^30: a weight of w_max */
#define Q16 65536.0f      /* a trace of 1 */
#define IDX_COUNT_BITS 11u
#define HDR_STDP 3u /* T_last, P (Q16.16), mark */
#define HDR_TM 2u   /* m_last, u (Q2.30); then per synapse: word, x, y (Q2.30) */

static float ldf(const uint8_t *p)
{
	uint32_t u = s2_ld32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static int rd(struct s2_eng *e, uint32_t addr, void *dst, uint32_t len)
{
	e->c.dma_bytes += len;
	return e->hal.dram_read(e->hal.ctx, addr, dst, len);
}

static int wr(struct s2_eng *e, uint32_t addr, const void *src, uint32_t len)
{
	e->c.dma_bytes += len;
	return e->hal.dram_write(e->hal.ctx, addr, src, len);
}

static bool finite(float x)
{
	return x == x && x < 1e30f && x > -1e30f;
}

/* Q16.16 of a trace, saturating (counted). */
static uint32_t q16(struct s2_eng *e, float x)
{
	if (x >= 65535.0f) {
		e->pl.c.clipped++;
		return 0xFFFF0000u;
	}
	return (uint32_t)(x * Q16 + 0.5f);
}

static uint32_t q30(float x)
{
	return (uint32_t)(x * Q30 + 0.5f);
}

static bool stdp_like(unsigned kind)
{
	return kind == S2_PL_STDP_ADD || kind == S2_PL_STDP_MULT || kind == S2_PL_VOGELS;
}

static int rule_check(struct s2_eng *e, struct s2_pl_rule *u)
{
	const float *p = u->p;
	for (unsigned i = 0; i < 8; i++)
		if (!finite(p[i]))
			return S2_E_RANGE;
	float dt = e->dt_ms;
	switch (u->kind) {
	case S2_PL_STDP_ADD:
	case S2_PL_STDP_MULT:
		if (!(p[0] >= 0 && p[1] > 0 && p[0] <= p[1] && p[2] > 0 && p[3] > 0 && p[4] >= 0 &&
		      p[5] >= 0))
			return S2_E_RANGE;
		u->ndt_plus = -dt / p[2];
		u->ndt_minus = -dt / p[3];
		u->c_pot = p[4];
		u->c_dep = p[5];
		u->c_pre = 0;
		u->reach = 14.0f * p[3] / dt;
		break;
	case S2_PL_VOGELS:
		if (!(p[0] >= 0 && p[1] > 0 && p[0] <= p[1] && p[2] > 0 && p[3] >= 0 && p[4] >= 0))
			return S2_E_RANGE;
		u->ndt_plus = u->ndt_minus = -dt / p[2];
		u->c_pot = u->c_dep = p[3] / p[1];
		/* alpha = 2 rho tau (rho in Hz, tau in ms), Vogels et al. 2011 */
		u->c_pre = -(p[3] / p[1]) * (2.0f * p[4] * p[2] * 0.001f);
		u->reach = 14.0f * p[2] / dt;
		break;
	case S2_PL_TM:
		if (!(p[0] > 0 && p[0] <= 1 && p[1] > 0 && p[2] >= 0))
			return S2_E_RANGE;
		if (!(p[3] >= 0 || p[3] == -1.0f))
			return S2_E_RANGE; /* tau_psc: >= 0, or -1: the post neuron's tau_syn */
		break;
	default:
		return S2_E_RANGE;
	}
	if (stdp_like(u->kind)) {
		u->wmin = p[0] / p[1];
		for (unsigned k = 0; k < 2; k++) {
			float ws = k ? e->pd.w_scale_i : e->pd.w_scale_e;
			u->k_units[k] = ws > 0 ? p[1] / Q30 / ws : 0;
			/* w_max over a weight unit that overflows float: 0 x inf would be NaN,
			 * and its conversion to units undefined */
			if (!finite(u->k_units[k]))
				return S2_E_RANGE;
		}
	}
	return 0;
}

/* The time constant of the post-synaptic current of synapse word x for Tsodyks-Markram (NEST's
 * tau_psc): the rule's, or (-1) the post neuron's tau_syn of the word's receptor for models
 * with exponential or alpha synapses, 0 (two states) for delta synapses. */
static float tau_psc(const struct s2_eng *e, const struct s2_pl_rule *u, uint32_t x)
{
	if (u->p[3] >= 0)
		return u->p[3];
	switch (e->model) {
	case S2_MODEL_LIF_CURR_EXP:
	case S2_MODEL_LIF_COND_EXP:
	case S2_MODEL_LIF_CURR_ALPHA:
	case S2_MODEL_LIF_COND_ALPHA:
	case S2_MODEL_ADEX_COND_EXP:
		return e->params[x & 0xFFu][6u + ((x >> 8) & 1u)]; /* tau_syn_E, tau_syn_I */
	default:
		return 0;
	}
}

/* Rewrite the rows of table entry t for rule u (plastic.h). */
static int convert(struct s2_eng *e, struct s2_eng_entry *t, struct s2_pl_rule *u, uint32_t *next,
                   uint32_t end)
{
	bool sl = stdp_like(u->kind);
	uint32_t hdr = sl ? HDR_STDP : HDR_TM, per = sl ? 2u : 3u;
	/* Pass 1: sizes and the common delay. */
	uint64_t words = 0;
	int delay = -1;
	for (uint32_t r = 0; r < t->n_rows; r++) {
		uint32_t iw;
		int rc = rd(e, t->index + r * 4u, &iw, 4);
		if (rc < 0)
			return rc;
		uint32_t n = iw & ((1u << IDX_COUNT_BITS) - 1u);
		if (n > S2_PE_ROW_MAX || n > S2_PE_PLASTIC_ROW_MAX || hdr + per * n > S2_PE_ROW_MAX)
			return S2_E_NOSPACE;
		if (n && (rc = rd(e, t->data + (iw >> IDX_COUNT_BITS) * 4u, e->row, n * 4u)) < 0)
			return rc;
		for (uint32_t i = 0; i < n; i++) {
			int d = (int)((e->row[i] >> 9) & 63u) + 1;
			if (delay < 0)
				delay = d;
			else if (d != delay && sl)
				return S2_E_RANGE; /* STDP and Vogels entries: one delay */
		}
		words += hdr + per * n;
	}
	u->delay = (uint16_t)(delay < 0 ? 1 : delay);
	if (u->flags & S2_PL_F_DENDRITIC) {
		u->q = 1;
		u->h = (uint16_t)(u->delay + 1u);
	} else {
		u->q = u->delay;
		u->h = 0;
	}
	uint64_t need = ((uint64_t)t->n_rows + words) * 4u;
	if (need > end - *next || (words >> (32 - IDX_COUNT_BITS)) != 0)
		return S2_E_NOSPACE;
	uint32_t index = *next, data = *next + t->n_rows * 4u, off = 0;
	*next += (uint32_t)need;
	/* Pass 2: each row in the plastic layout, built in place in e->row from its end. */
	for (uint32_t r = 0; r < t->n_rows; r++) {
		uint32_t iw;
		int rc = rd(e, t->index + r * 4u, &iw, 4);
		if (rc < 0)
			return rc;
		uint32_t n = iw & ((1u << IDX_COUNT_BITS) - 1u);
		if (n && (rc = rd(e, t->data + (iw >> IDX_COUNT_BITS) * 4u, e->row, n * 4u)) < 0)
			return rc;
		uint32_t m = hdr + per * n;
		for (uint32_t i = n; i-- > 0;) {
			uint32_t x = e->row[i];
			if (sl) {
				/* the initial weight, in units of w_max / 32768 (pedata.h) */
				float w = (float)(x >> 16) * (1.0f / (float)S2_PL_WORD_ONE);
				if (w < u->wmin || w > 1.0f) {
					w = w < u->wmin ? u->wmin : 1.0f;
					e->pl.c.clipped++;
				}
				e->row[hdr + 2u * i + 1u] = q30(w);
				e->row[hdr + 2u * i] = x;
			} else {
				float tp = tau_psc(e, u, x);
				if (tp > 0 && tp - u->p[1] < 1e-4f * u->p[1] &&
				    u->p[1] - tp < 1e-4f * u->p[1])
					return S2_E_RANGE; /* tau_psc = tau_rec: singular propagator
					                    */
				e->row[hdr + 3u * i] = x;
				e->row[hdr + 3u * i + 1u] = 1u << 30; /* x = 1 */
				e->row[hdr + 3u * i + 2u] = 0;        /* y = 0 */
			}
		}
		e->row[0] = S2_PL_NONE;
		e->row[1] = 0; /* STDP: P; TM: u = 0 (PyNN's initial value) */
		if (sl)
			e->row[2] = 0;
		uint32_t niw = off << IDX_COUNT_BITS | m;
		if ((rc = wr(e, data + off * 4u, e->row, m * 4u)) < 0 ||
		    (rc = wr(e, index + r * 4u, &niw, 4)) < 0)
			return rc;
		off += m;
	}
	t->index = index;
	t->data = data;
	return 0;
}

int s2_plastic_init(struct s2_eng *e, uint32_t *next, uint32_t end)
{
	struct s2_plastic *pl = &e->pl;
	const uint8_t *s = e->pd.sect[S2_SECT_PLASTIC];
	uint32_t len = e->pd.sect_len[S2_SECT_PLASTIC];
	pl->n = 0;
	if (!s || !len)
		return 0;
	switch (e->model) {
	case S2_MODEL_EGRU:
	case S2_MODEL_DENSE:
	case S2_MODEL_POISSON:
	case S2_MODEL_SPIKE_ARRAY:
		return S2_E_RANGE; /* no ring of synaptic input */
	default:
		break;
	}
	for (unsigned i = 0; i < S2_PE_MAX_NEURONS; i++)
		pl->lost[i] = S2_PL_NONE;
	for (uint32_t o = 0; o < len; o += S2_PE_PLASTIC_LEN) {
		const uint8_t *p = s + o;
		struct s2_pl_rule *u = &pl->r[pl->n];
		memset(u, 0, sizeof *u);
		u->kind = p[0];
		u->flags = p[1];
		u->entry = s2_ld16(p + 2);
		if (s2_ld32(p + 4) != 0 || s2_ld32(p + 40) != 0 || s2_ld32(p + 44) != 0 ||
		    (u->flags & ~S2_PL_F_DENDRITIC))
			return S2_E_RESERVED;
		for (unsigned k = 0; k < 8; k++)
			u->p[k] = ldf(p + 8 + 4 * k);
		int rc = rule_check(e, u);
		if (rc < 0)
			return rc;
		if (u->entry >= e->n_table || e->table[u->entry].plastic)
			return S2_E_RANGE;
		if ((rc = convert(e, &e->table[u->entry], u, next, end)) < 0)
			return rc;
		e->table[u->entry].plastic = (uint8_t)(++pl->n);
	}
	if (end - *next < 48u)
		return S2_E_NOSPACE;
	pl->cnt_addr = *next;
	*next += 48u;
	return s2_plastic_flush(e); /* the counters' first copy */
}

/* The weight units a Q2.30 weight gives on receptor rec, added to the ring slot of step t. */
static void deliver(struct s2_eng *e, const struct s2_pl_rule *u, uint32_t x, uint32_t wq,
                    uint32_t t)
{
	unsigned rec = (x >> 8) & 1u, j = x & 0xFFu;
	float f = (float)wq * u->k_units[rec] + 0.5f;
	uint32_t units;
	if (f >= 65535.5f) {
		units = 65535u;
		e->pl.c.clipped++;
	} else {
		units = (uint32_t)f;
		e->pl.c.zero += units == 0 && wq != 0;
	}
	uint16_t *slot = &e->ring[t & 63u][rec][j];
	uint32_t sum = (uint32_t)*slot + units;
	if (sum > 0xFFFFu) {
		sum = 0xFFFFu;
		e->c.ring_saturated++;
	}
	*slot = (uint16_t)sum;
}

static float clampw(const struct s2_pl_rule *u, float w)
{
	return w < u->wmin ? u->wmin : w > 1.0f ? 1.0f : w;
}

/* Potentiation of weight w by the post spikes of neuron j seen at the synapse in
 * [from, to), given the pre trace P at synapse step t_last (none: no pre trace yet). */
static float potentiate(struct s2_eng *e, const struct s2_pl_rule *u, unsigned j, float w,
                        uint32_t t_last, float P, uint32_t from, uint32_t to)
{
	struct s2_plastic *pl = &e->pl;
	if (t_last == S2_PL_NONE || from >= to)
		return w;
	uint32_t kept = pl->hn[j] < S2_PL_HIST ? pl->hn[j] : S2_PL_HIST;
	if (pl->lost[j] != S2_PL_NONE && pl->lost[j] + u->h >= from)
		pl->c.hist_lost++;
	for (uint32_t c = kept; c-- > 0;) { /* oldest first */
		uint32_t s = pl->hist[j][(pl->hn[j] - 1u - c) % S2_PL_HIST] + u->h;
		if (s < from || s >= to)
			continue;
		float ppos = P * s2f_exp((float)(s - t_last) * u->ndt_plus);
		if (u->kind == S2_PL_STDP_MULT)
			w = w + (1.0f - w) * (u->c_pot * ppos);
		else
			w = w + u->c_pot * ppos;
		w = clampw(u, w);
		pl->c.updates++;
	}
	return w;
}

/* The post trace of neuron j at synapse step T (spikes seen before T, each 1, decaying). */
static float post_trace(struct s2_eng *e, const struct s2_pl_rule *u, unsigned j, uint32_t T)
{
	struct s2_plastic *pl = &e->pl;
	uint32_t kept = pl->hn[j] < S2_PL_HIST ? pl->hn[j] : S2_PL_HIST;
	float m = 0;
	for (uint32_t c = 0; c < kept; c++) { /* newest first */
		uint32_t s = pl->hist[j][(pl->hn[j] - 1u - c) % S2_PL_HIST] + u->h;
		if (s >= T)
			continue;
		if ((float)(T - s) > u->reach)
			break;
		m = m + s2f_exp((float)(T - s) * u->ndt_minus);
	}
	uint32_t l = pl->lost[j];
	if (l != S2_PL_NONE && l + u->h < T && (float)(T - l - u->h) <= u->reach)
		pl->c.hist_lost++;
	return m;
}

/* A pre event of an STDP or Vogels row (words in e->row, at DRAM address at) reaching its
 * synapses in step T: the post spikes seen since the row's mark, then the pre event. */
static void stdp_row(struct s2_eng *e, const struct s2_pl_rule *u, uint32_t at, uint32_t n,
                     uint32_t T)
{
	uint32_t *row = e->row;
	uint32_t t_last = row[0], mark = row[2];
	float P = (float)row[1] * (1.0f / Q16);
	uint32_t ns = (n - HDR_STDP) / 2u;
	for (uint32_t i = 0; i < ns; i++) {
		uint32_t x = row[HDR_STDP + 2u * i];
		unsigned j = x & 0xFFu;
		float w = (float)row[HDR_STDP + 2u * i + 1u] * (1.0f / Q30);
		w = potentiate(e, u, j, w, t_last, P, mark, T);
		float m = post_trace(e, u, j, T);
		if (u->kind == S2_PL_STDP_MULT)
			w = w - (w - u->wmin) * (u->c_dep * m);
		else if (u->kind == S2_PL_VOGELS)
			w = w + (u->c_dep * m + u->c_pre);
		else
			w = w - u->c_dep * m;
		w = clampw(u, w);
		uint32_t wq = q30(w);
		row[HDR_STDP + 2u * i + 1u] = wq;
		deliver(e, u, x, wq, T - u->q + u->delay);
		e->pl.c.updates++;
	}
	P = t_last == S2_PL_NONE ? 1.0f : P * s2f_exp((float)(T - t_last) * u->ndt_plus) + 1.0f;
	row[0] = T;
	row[1] = q16(e, P);
	row[2] = T;
	e->c.synaptic_events += ns;
	(void)wr(e, at, row, n * 4u);
}

/* Tsodyks-Markram (NEST's tsodyks_synapse, with tau_psc), per synapse: u is the row's (it
 * depends on the pre spikes only), x and y each synapse's (y decays with the post neuron's
 * tau_psc). The state is propagated from the row's last spike to step m, then the spike
 * releases u x, which multiplies the synapse's weight. */
static void tm_row(struct s2_eng *e, const struct s2_pl_rule *u, uint32_t at, uint32_t n,
                   uint32_t m)
{
	uint32_t *row = e->row;
	float U = u->p[0], trec = u->p[1], tfac = u->p[2];
	float uu = (float)row[1] * (1.0f / Q30), h = 0, pzz = 1, tp_last = -1, pyy = 0, pxy = 0;
	bool first = row[0] == S2_PL_NONE;
	if (!first) {
		h = (float)(m - row[0]) * e->dt_ms;
		pzz = s2f_exp(-h / trec);
		uu = uu * (tfac > 0 ? s2f_exp(-h / tfac) : 0.0f);
	}
	uu = uu + U * (1.0f - uu);
	uint32_t ns = (n - HDR_TM) / 3u;
	for (uint32_t i = 0; i < ns; i++) {
		uint32_t *q = row + HDR_TM + 3u * i, w = q[0];
		float x = (float)q[1] * (1.0f / Q30), y = (float)q[2] * (1.0f / Q30);
		if (!first) {
			float tp = tau_psc(e, u, w);
			if (tp != tp_last) {
				pyy = tp > 0 ? s2f_exp(-h / tp) : 0.0f;
				pxy = tp > 0 ? ((pzz - 1.0f) * trec - (pyy - 1.0f) * tp) /
				                       (tp - trec)
				             : 1.0f - pzz;
				tp_last = tp;
			}
			float z = 1.0f - x - y;
			x = x + pxy * y + (1.0f - pzz) * z;
			y = y * pyy;
		}
		float rel = uu * x;
		x = x - rel;
		y = y + rel;
		float f = (float)(w >> 16) * rel + 0.5f;
		uint32_t units = (uint32_t)f;
		e->pl.c.zero += units == 0 && (w >> 16) != 0;
		uint16_t *slot =
		        &e->ring[(m + ((w >> 9) & 63u) + 1u) & 63u][(w >> 8) & 1u][w & 0xFFu];
		uint32_t sum = (uint32_t)*slot + units;
		if (sum > 0xFFFFu) {
			sum = 0xFFFFu;
			e->c.ring_saturated++;
		}
		*slot = (uint16_t)sum;
		q[1] = q30(x < 0 ? 0 : x);
		q[2] = q30(y < 0 ? 0 : y);
	}
	e->c.synaptic_events += ns;
	e->pl.c.updates++;
	row[0] = m;
	row[1] = q30(uu);
	(void)wr(e, at, row, n * 4u);
}

void s2_plastic_row(struct s2_eng *e, unsigned k, uint32_t r, uint32_t at, uint32_t n,
                    uint32_t base)
{
	const struct s2_pl_rule *u = &e->pl.r[e->table[k].plastic - 1u];
	if (u->kind == S2_PL_TM) {
		if (n >= HDR_TM)
			tm_row(e, u, at, n, base);
		return;
	}
	if (n < HDR_STDP)
		return;
	uint32_t T = base + u->q;
	if (T == e->t) { /* reaches its synapses in the coming step: now */
		stdp_row(e, u, at, n, T);
		return;
	}
	unsigned s = T & 63u;
	if (e->pl.npend[s] == S2_PL_PEND) { /* counted: applied early, as if at step T */
		e->pl.c.queue_full++;
		stdp_row(e, u, at, n, T);
		return;
	}
	e->pl.pend[s][e->pl.npend[s]++] = k | r << 8;
}

void s2_plastic_tick(struct s2_eng *e)
{
	unsigned s = e->t & 63u, np = e->pl.npend[s];
	for (unsigned i = 0; i < np; i++) {
		uint32_t ev = e->pl.pend[s][i], k = ev & 0xFFu, r = ev >> 8, iw, n;
		const struct s2_eng_entry *t = &e->table[k];
		if (rd(e, t->index + r * 4u, &iw, 4) < 0)
			continue;
		n = iw & ((1u << IDX_COUNT_BITS) - 1u);
		uint32_t at = t->data + (iw >> IDX_COUNT_BITS) * 4u;
		if (n < HDR_STDP || n > S2_PE_ROW_MAX || rd(e, at, e->row, n * 4u) < 0)
			continue;
		stdp_row(e, &e->pl.r[t->plastic - 1u], at, n, e->t);
	}
	e->pl.npend[s] = 0;
}

void s2_plastic_post(struct s2_eng *e, unsigned i)
{
	struct s2_plastic *pl = &e->pl;
	uint32_t *h = &pl->hist[i][pl->hn[i] % S2_PL_HIST];
	if (pl->hn[i] >= S2_PL_HIST)
		pl->lost[i] = *h;
	*h = e->t;
	pl->hn[i]++;
}

int s2_plastic_flush(struct s2_eng *e)
{
	for (unsigned k = 0; k < e->n_table; k++) {
		const struct s2_eng_entry *t = &e->table[k];
		if (!t->plastic)
			continue;
		const struct s2_pl_rule *u = &e->pl.r[t->plastic - 1u];
		if (!stdp_like(u->kind))
			continue;
		for (uint32_t r = 0; r < t->n_rows; r++) {
			uint32_t iw, n;
			int rc = rd(e, t->index + r * 4u, &iw, 4);
			if (rc < 0)
				return rc;
			n = iw & ((1u << IDX_COUNT_BITS) - 1u);
			uint32_t at = t->data + (iw >> IDX_COUNT_BITS) * 4u;
			if (n < HDR_STDP || n > S2_PE_ROW_MAX)
				continue;
			if ((rc = rd(e, at, e->row, n * 4u)) < 0)
				return rc;
			uint32_t *row = e->row, F = e->t;
			if (row[0] == S2_PL_NONE || row[2] >= F)
				continue;
			float P = (float)row[1] * (1.0f / Q16);
			for (uint32_t i = 0; i < (n - HDR_STDP) / 2u; i++) {
				uint32_t x = row[HDR_STDP + 2u * i];
				float w = (float)row[HDR_STDP + 2u * i + 1u] * (1.0f / Q30);
				w = potentiate(e, u, x & 0xFFu, w, row[0], P, row[2], F);
				row[HDR_STDP + 2u * i + 1u] = q30(w);
			}
			row[2] = F;
			if ((rc = wr(e, at, row, n * 4u)) < 0)
				return rc;
		}
	}
	uint8_t c[48] = {0};
	s2_st32(c, 0x43503253u); /* 'S2PC' */
	const uint64_t *v = &e->pl.c.updates;
	for (unsigned i = 0; i < 5; i++)
		s2_st64(c + 8 + 8 * i, v[i]);
	return wr(e, e->pl.cnt_addr, c, sizeof c);
}

int s2_plastic_row_decode(const struct s2_pl_rule *u, float w_scale_e, float w_scale_i,
                          const uint32_t *w, uint32_t n,
                          void (*out)(void *ctx, uint32_t word, float weight), void *ctx)
{
	if (u->kind == S2_PL_TM) {
		if (n < HDR_TM || (n - HDR_TM) % 3u)
			return -1;
		for (uint32_t i = HDR_TM; i < n; i += 3)
			out(ctx, w[i],
			    (float)(w[i] >> 16) * (((w[i] >> 8) & 1u) ? w_scale_i : w_scale_e));
		return (int)((n - HDR_TM) / 3u);
	}
	if (n < HDR_STDP || (n - HDR_STDP) % 2u)
		return -1;
	for (uint32_t i = HDR_STDP; i < n; i += 2)
		out(ctx, w[i], (float)w[i + 1] * (1.0f / Q30) * u->p[1]);
	return (int)((n - HDR_STDP) / 2u);
}
