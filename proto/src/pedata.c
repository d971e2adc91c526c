/* PE data blobs (pedata.h, docs/pedata.md). */
#include "s2/pedata.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

static float ldf(const uint8_t *p)
{
	uint32_t u = s2_ld32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static void stf(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	s2_st32(p, u);
}

static bool known_model(unsigned m)
{
	return m == S2_MODEL_LIF_CURR_EXP || m == S2_MODEL_LIF_COND_EXP ||
	       m == S2_MODEL_IZHIKEVICH || m == S2_MODEL_NIR || m == S2_MODEL_EGRU ||
	       m == S2_MODEL_DENSE || m == S2_MODEL_POISSON || m == S2_MODEL_SPIKE_ARRAY ||
	       m == S2_MODEL_LIF_CURR_ALPHA || m == S2_MODEL_LIF_COND_ALPHA ||
	       m == S2_MODEL_LIF_CURR_DELTA || m == S2_MODEL_ADEX_COND_EXP ||
	       m == S2_MODEL_HH_COND_EXP || m == S2_MODEL_LIF_COND_SFA;
}

void s2_pedata_header_encode(uint8_t *out, const struct s2_pedata *pd, unsigned n_sect)
{
	memset(out, 0, S2_PEDATA_HDR_LEN);
	s2_st32(out, S2_PEDATA_MAGIC);
	s2_st16(out + 4, S2_PEDATA_VERSION);
	s2_st16(out + 6, pd->model);
	s2_st16(out + 8, pd->n_neurons);
	s2_st16(out + 10, pd->n_record_v);
	s2_st32(out + 12, pd->dt_us);
	s2_st32(out + 16, pd->key_base);
	s2_st32(out + 20, pd->seed);
	stf(out + 24, pd->w_scale_e);
	stf(out + 28, pd->w_scale_i);
	s2_st32(out + 32, pd->dram_base);
	s2_st32(out + 36, pd->dram_size);
	s2_st16(out + 40, (uint16_t)n_sect);
	s2_st16(out + 42, pd->flags);
	stf(out + 44, pd->bg_rate_hz);
	stf(out + 48, pd->bg_weight);
	s2_st32(out + 52, pd->budget);
	s2_st32(out + 56, pd->cyc_update);
	s2_st16(out + 60, pd->cyc_event_x10);
	s2_st16(out + 62, pd->cyc_packet);
}

int s2_pedata_decode(const uint8_t *buf, size_t len, struct s2_pedata *pd)
{
	memset(pd, 0, sizeof *pd);
	if (len < S2_PEDATA_HDR_LEN)
		return S2_E_SHORT;
	if (s2_ld32(buf) != S2_PEDATA_MAGIC)
		return S2_E_MAGIC;
	if (s2_ld16(buf + 4) != S2_PEDATA_VERSION)
		return S2_E_VERSION;
	pd->model = s2_ld16(buf + 6);
	pd->n_neurons = s2_ld16(buf + 8);
	pd->n_record_v = s2_ld16(buf + 10);
	pd->dt_us = s2_ld32(buf + 12);
	pd->key_base = s2_ld32(buf + 16);
	pd->seed = s2_ld32(buf + 20);
	pd->w_scale_e = ldf(buf + 24);
	pd->w_scale_i = ldf(buf + 28);
	pd->dram_base = s2_ld32(buf + 32);
	pd->dram_size = s2_ld32(buf + 36);
	unsigned n_sect = s2_ld16(buf + 40);
	pd->flags = s2_ld16(buf + 42);
	pd->bg_rate_hz = ldf(buf + 44);
	pd->bg_weight = ldf(buf + 48);
	pd->budget = s2_ld32(buf + 52);
	pd->cyc_update = s2_ld32(buf + 56);
	pd->cyc_event_x10 = s2_ld16(buf + 60);
	pd->cyc_packet = s2_ld16(buf + 62);
	if (!known_model(pd->model) || pd->n_neurons < 1 || pd->n_neurons > S2_PE_MAX_NEURONS ||
	    pd->n_record_v > S2_PE_MAX_RECORD_V || pd->dt_us < S2_PE_DT_US_MIN ||
	    pd->dt_us > S2_PE_DT_US_MAX || pd->key_base > UINT32_MAX - pd->n_neurons ||
	    (pd->flags & ~(S2_PD_F_RECORD_SPIKES | S2_PD_F_NO_TARGETS)) != 0 ||
	    !(pd->w_scale_e >= 0) || !(pd->w_scale_i >= 0) ||
	    !(pd->bg_rate_hz >= 0 && pd->bg_rate_hz <= 1e7f) ||
	    !(pd->bg_weight >= 0 && pd->bg_weight <= 1e6f) ||
	    (pd->bg_rate_hz > 0 && pd->model != S2_MODEL_LIF_CURR_EXP &&
	     pd->model != S2_MODEL_LIF_COND_EXP))
		return S2_E_RANGE;
	if (n_sect > S2_SECT__MAX || len - S2_PEDATA_HDR_LEN < (size_t)n_sect * S2_PEDATA_SECT_LEN)
		return S2_E_LENGTH;
	size_t data_start = S2_PEDATA_HDR_LEN + (size_t)n_sect * S2_PEDATA_SECT_LEN;
	for (unsigned i = 0; i < n_sect; i++) {
		const uint8_t *e = buf + S2_PEDATA_HDR_LEN + i * S2_PEDATA_SECT_LEN;
		unsigned type = s2_ld16(e);
		uint32_t off = s2_ld32(e + 4), n = s2_ld32(e + 8);
		if (s2_ld16(e + 2) != 0)
			return S2_E_RESERVED;
		if (type < 1 || type > S2_SECT__MAX || pd->sect[type])
			return S2_E_FORMAT;
		if (off < data_start || off > len || n > len - off)
			return S2_E_LENGTH;
		pd->sect[type] = buf + off;
		pd->sect_len[type] = n;
	}
	/* Fixed sizes. */
	/* PARAMS and STATE: a row per neuron, or one row that every neuron shares */
	if ((pd->sect_len[S2_SECT_PARAMS] != (uint32_t)pd->n_neurons * S2_PE_PARAMS * 4u &&
	     pd->sect_len[S2_SECT_PARAMS] != S2_PE_PARAMS * 4u) ||
	    (pd->sect[S2_SECT_STATE] &&
	     pd->sect_len[S2_SECT_STATE] != (uint32_t)pd->n_neurons * S2_PE_STATE * 4u &&
	     pd->sect_len[S2_SECT_STATE] != S2_PE_STATE * 4u) ||
	    pd->sect_len[S2_SECT_RECORD_V] != pd->n_record_v * 2u ||
	    pd->sect_len[S2_SECT_EXPAND] % S2_PE_EXPAND_LEN != 0 ||
	    pd->sect_len[S2_SECT_PLASTIC] % S2_PE_PLASTIC_LEN != 0 ||
	    pd->sect_len[S2_SECT_PLASTIC] > S2_PE_MAX_PLASTIC * S2_PE_PLASTIC_LEN ||
	    pd->sect_len[S2_SECT_SPIKES] % 8u != 0 || pd->sect_len[S2_SECT_CURRENT] % 12u != 0 ||
	    (pd->sect[S2_SECT_CSOURCE] && pd->sect_len[S2_SECT_CSOURCE] < S2_PE_CSRC_HDR) ||
	    (pd->sect[S2_SECT_PARAMS2] &&
	     pd->sect_len[S2_SECT_PARAMS2] != (uint32_t)pd->n_neurons * S2_PE_PARAMS2 * 4u &&
	     pd->sect_len[S2_SECT_PARAMS2] != S2_PE_PARAMS2 * 4u) ||
	    ((pd->model == S2_MODEL_ADEX_COND_EXP || pd->model == S2_MODEL_HH_COND_EXP ||
	      pd->model == S2_MODEL_LIF_COND_SFA) != (pd->sect[S2_SECT_PARAMS2] != NULL)) ||
	    (pd->sect[S2_SECT_SLICES] &&
	     pd->sect_len[S2_SECT_SLICES] !=
	             pd->sect_len[S2_SECT_EXPAND] / S2_PE_EXPAND_LEN * S2_PE_SLICE_LEN))
		return S2_E_LENGTH;
	for (unsigned i = 0; i < pd->n_record_v; i++) {
		uint16_t x = s2_ld16(pd->sect[S2_SECT_RECORD_V] + 2 * i);
		if (s2_rec_neuron(x) >= pd->n_neurons || (x & 0x0F00u) ||
		    s2_rec_var(x) >= S2_REC_VARS)
			return S2_E_RANGE;
	}
	return 0;
}

int s2_pedata_expand_decode(const struct s2_pedata *pd, unsigned i, struct s2_pe_expand *x)
{
	if (i >= s2_pedata_n_expand(pd))
		return S2_E_RANGE;
	const uint8_t *p = pd->sect[S2_SECT_EXPAND] + i * S2_PE_EXPAND_LEN;
	x->connector = p[0];
	x->receptor = p[1];
	x->flags = p[2];
	x->w_dist = p[3] & 0x0F;
	x->d_dist = p[3] >> 4;
	x->key_lo = s2_ld32(p + 4);
	x->n_keys = s2_ld32(p + 8);
	x->pre_lo = s2_ld32(p + 12);
	x->n_pre = s2_ld32(p + 16);
	x->pre_total = s2_ld32(p + 20);
	x->post_lo = s2_ld32(p + 24);
	x->post_total = s2_ld32(p + 28);
	x->n = s2_ld32(p + 32);
	x->p = ldf(p + 36);
	x->w_a = ldf(p + 40);
	x->w_b = ldf(p + 44);
	x->d_a = ldf(p + 48);
	x->d_b = ldf(p + 52);
	x->seed = s2_ld32(p + 56);
	x->part_bits = p[60];
	x->per_part = s2_ld16(p + 62);
	if (p[61] != 0)
		return S2_E_RESERVED;
	if (x->connector < S2_CONN_ALL_TO_ALL || x->connector > S2_CONN_FIXED_TOTAL ||
	    x->receptor > 1 || (x->flags & ~15u) || x->w_dist > S2_DIST_NORMAL_POS ||
	    x->d_dist > S2_DIST_NORMAL_POS || x->n_pre < 1 || x->n_pre > 65536 ||
	    x->pre_total > S2_PE_MAX_POP || x->post_total > S2_PE_MAX_POP || x->n > S2_PE_MAX_POP ||
	    x->n_keys < 1 || x->part_bits > 31 || x->per_part < 1 ||
	    (x->per_part > (1u << x->part_bits)) ||
	    (uint64_t)x->key_lo + x->n_keys > (1ull << 32) || x->pre_total < x->n_pre ||
	    x->pre_lo > x->pre_total - x->n_pre || x->post_total < pd->n_neurons ||
	    x->post_lo > x->post_total - pd->n_neurons || !(x->p >= 0 && x->p <= 1) ||
	    !(x->w_a == x->w_a) || !(x->w_b == x->w_b) || !(x->d_a >= 0 && x->d_a <= 1e6f) ||
	    !(x->d_b >= 0 && x->d_b <= 1e6f))
		return S2_E_RANGE;
	/* Every neuron of the run must have a key in the range. */
	uint32_t parts = (x->n_pre + x->per_part - 1u) / x->per_part;
	if (((uint64_t)(parts - 1u) << x->part_bits) + (x->n_pre - (parts - 1u) * x->per_part) >
	    x->n_keys)
		return S2_E_RANGE;
	x->pre_s_lo = 0;
	x->pre_s_n = x->pre_total;
	x->post_s_lo = 0;
	x->post_s_n = x->post_total;
	if (pd->sect[S2_SECT_SLICES]) {
		const uint8_t *q = pd->sect[S2_SECT_SLICES] + i * S2_PE_SLICE_LEN;
		x->pre_s_lo = s2_ld32(q);
		x->pre_s_n = s2_ld32(q + 4);
		x->post_s_lo = s2_ld32(q + 8);
		x->post_s_n = s2_ld32(q + 12);
		if (x->pre_s_n < 1 || x->pre_s_lo > x->pre_total ||
		    x->pre_s_n > x->pre_total - x->pre_s_lo || x->post_s_n < 1 ||
		    x->post_s_lo > x->post_total || x->post_s_n > x->post_total - x->post_s_lo)
			return S2_E_RANGE;
	}
	return 0;
}

void s2_pedata_slice_encode(uint8_t *out, const struct s2_pe_expand *x)
{
	s2_st32(out, x->pre_s_lo);
	s2_st32(out + 4, x->pre_s_n);
	s2_st32(out + 8, x->post_s_lo);
	s2_st32(out + 12, x->post_s_n);
}

void s2_pedata_expand_encode(uint8_t *out, const struct s2_pe_expand *x)
{
	memset(out, 0, S2_PE_EXPAND_LEN);
	out[0] = x->connector;
	out[1] = x->receptor;
	out[2] = x->flags;
	out[3] = (uint8_t)(x->w_dist | x->d_dist << 4);
	s2_st32(out + 4, x->key_lo);
	s2_st32(out + 8, x->n_keys);
	s2_st32(out + 12, x->pre_lo);
	s2_st32(out + 16, x->n_pre);
	s2_st32(out + 20, x->pre_total);
	s2_st32(out + 24, x->post_lo);
	s2_st32(out + 28, x->post_total);
	s2_st32(out + 32, x->n);
	stf(out + 36, x->p);
	stf(out + 40, x->w_a);
	stf(out + 44, x->w_b);
	stf(out + 48, x->d_a);
	stf(out + 52, x->d_b);
	s2_st32(out + 56, x->seed);
	out[60] = x->part_bits;
	s2_st16(out + 62, x->per_part);
}
