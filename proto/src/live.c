/* Live stream messages (live.h, protocol section 4.17): checking codecs and the record
 * builder and reader of STREAM_DATA. */
#include "s2/live.h"

#include <string.h>

#include "s2/error.h"
#include "s2/packet.h"
#include "s2/wire.h"

static int wr_done(const struct s2_wr *w)
{
	return w->err ? w->err : (int)w->pos;
}

static void rd_zero(struct s2_rd *r, size_t n)
{
	const uint8_t *p = s2_rd_take(r, n);
	for (size_t i = 0; p && i < n; i++)
		if (p[i])
			s2_rd_fail(r, S2_E_RESERVED);
}

int s2_msg_stream_start_encode(uint8_t *out, size_t cap, const struct s2_msg_stream_start *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	if (m->n_chips > S2_LIVE_MAX_CHIPS)
		return S2_E_RANGE;
	s2_wr_u32(&w, m->id);
	s2_wr_u32(&w, m->flags);
	s2_wr_u32(&w, m->energy_period);
	s2_wr_bytes(&w, m->addr, 4);
	s2_wr_u16(&w, m->port);
	s2_wr_u16(&w, m->n_chips);
	for (unsigned c = 0; c < m->n_chips; c++)
		s2_wr_bytes(&w, m->live[c], S2_PE_BITMAP_LEN);
	return wr_done(&w);
}

int s2_msg_stream_start_decode(const uint8_t *p, size_t len, struct s2_msg_stream_start *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->id = s2_rd_u32(&r);
	m->flags = s2_rd_u32(&r);
	m->energy_period = s2_rd_u32(&r);
	s2_rd_bytes(&r, m->addr, 4);
	m->port = s2_rd_u16(&r);
	m->n_chips = s2_rd_u16(&r);
	if (!r.err && (m->id == 0 || (m->flags & ~(S2_LIVE_F_SPIKES | S2_LIVE_F_ENERGY)) ||
	               ((m->flags & S2_LIVE_F_ENERGY) && m->energy_period == 0) ||
	               m->n_chips > S2_LIVE_MAX_CHIPS))
		s2_rd_fail(&r, S2_E_RANGE);
	for (unsigned c = 0; !r.err && c < m->n_chips; c++) {
		s2_rd_bytes(&r, m->live[c], S2_PE_BITMAP_LEN);
		/* bits past the largest chip's PEs are reserved */
		for (unsigned b = S2_MAX_CHIP_PES / 8 - 1; b < S2_PE_BITMAP_LEN; b++)
			if (b == S2_PE_BITMAP_LEN - 1 && m->live[c][b])
				s2_rd_fail(&r, S2_E_RESERVED);
	}
	return s2_rd_end(&r);
}

int s2_msg_inject_encode(uint8_t *out, size_t cap, const struct s2_msg_inject *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	if (m->n == 0 || m->n > S2_INJECT_MAX)
		return S2_E_RANGE;
	s2_wr_u32(&w, m->step);
	s2_wr_u16(&w, m->n);
	s2_wr_u16(&w, 0);
	for (unsigned i = 0; i < m->n; i++) {
		s2_wr_u16(&w, m->e[i].chip);
		s2_wr_u16(&w, m->e[i].neuron);
		s2_wr_u8(&w, m->e[i].pe);
		s2_wr_u8(&w, 0);
	}
	return wr_done(&w);
}

int s2_msg_inject_decode(const uint8_t *p, size_t len, struct s2_msg_inject *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->step = s2_rd_u32(&r);
	m->n = s2_rd_u16(&r);
	rd_zero(&r, 2);
	if (!r.err && (m->n == 0 || m->n > S2_INJECT_MAX))
		s2_rd_fail(&r, S2_E_RANGE);
	for (unsigned i = 0; !r.err && i < m->n; i++) {
		m->e[i].chip = s2_rd_u16(&r);
		m->e[i].neuron = s2_rd_u16(&r);
		m->e[i].pe = s2_rd_u8(&r);
		rd_zero(&r, 1);
	}
	return s2_rd_end(&r);
}

int s2_msg_inject_reply_encode(uint8_t *out, size_t cap, const struct s2_msg_inject_reply *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u16(&w, m->accepted);
	s2_wr_u16(&w, m->late);
	return wr_done(&w);
}

int s2_msg_inject_reply_decode(const uint8_t *p, size_t len, struct s2_msg_inject_reply *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->accepted = s2_rd_u16(&r);
	m->late = s2_rd_u16(&r);
	if (!r.err && m->late > m->accepted)
		s2_rd_fail(&r, S2_E_RANGE);
	return s2_rd_end(&r);
}

/* --- STREAM_DATA ------------------------------------------------------------------------ */

int s2_live_open(struct s2_live_rd *r, const uint8_t *p, size_t len, uint32_t *id,
                 uint32_t *dropped, uint64_t *first_us)
{
	r->p = p;
	r->len = len;
	r->pos = S2_LIVE_DATA_HDR;
	if (len < S2_LIVE_DATA_HDR)
		return S2_E_SHORT;
	*id = s2_ld32(p);
	*dropped = s2_ld32(p + 4);
	*first_us = s2_ld64(p + 8);
	return *id ? 0 : S2_E_RANGE;
}

int s2_live_next(struct s2_live_rd *r, struct s2_live_rec *rec)
{
	if (r->pos == r->len)
		return 0;
	if (r->len - r->pos < S2_LIVE_REC_HDR)
		return S2_E_SHORT;
	const uint8_t *h = r->p + r->pos;
	uint16_t n = s2_ld16(h + 2);
	if (h[1])
		return S2_E_RESERVED;
	if (n > r->len - r->pos - S2_LIVE_REC_HDR)
		return S2_E_SHORT;
	const uint8_t *b = h + S2_LIVE_REC_HDR;
	memset(rec, 0, sizeof *rec);
	rec->kind = h[0];
	switch (h[0]) {
	case S2_LIVE_SPIKES:
		if (n < S2_LIVE_SPIKES_HDR + 2 || (n - S2_LIVE_SPIKES_HDR) % 2)
			return S2_E_LENGTH;
		if (b[7])
			return S2_E_RESERVED;
		rec->step = s2_ld32(b);
		rec->chip = s2_ld16(b + 4);
		rec->pe = b[6];
		rec->n = (uint16_t)((n - S2_LIVE_SPIKES_HDR) / 2);
		rec->neurons = b + S2_LIVE_SPIKES_HDR;
		break;
	case S2_LIVE_ENERGY:
		if (n != S2_LIVE_ENERGY_LEN)
			return S2_E_LENGTH;
		if (s2_ld16(b + 6))
			return S2_E_RESERVED;
		rec->step = s2_ld32(b);
		rec->chip = s2_ld16(b + 4);
		rec->time_us = s2_ld64(b + 8);
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			rec->counters[k] = s2_ld64(b + 16 + 8 * k);
		break;
	case S2_LIVE_RUN:
		if (n != S2_LIVE_RUN_LEN)
			return S2_E_LENGTH;
		if (s2_ld16(b + 6))
			return S2_E_RESERVED;
		rec->step = s2_ld32(b);
		rec->event = s2_ld16(b + 4);
		rec->time_us = s2_ld64(b + 8);
		if (rec->event < S2_LIVE_STARTED || rec->event > S2_LIVE_STOPPED)
			return S2_E_RANGE;
		break;
	default:
		return S2_E_TYPE;
	}
	r->pos += S2_LIVE_REC_HDR + n;
	return 1;
}

void s2_live_begin(struct s2_live_wr *w, uint8_t *buf, size_t cap, uint32_t id, uint32_t dropped)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = S2_LIVE_DATA_HDR;
	w->open = 0;
	s2_st32(buf, id);
	s2_st32(buf + 4, dropped);
	s2_st64(buf + 8, 0);
}

void s2_live_time(struct s2_live_wr *w, uint64_t first_us)
{
	s2_st64(w->buf + 8, first_us);
}

/* Claim a record of body length n; NULL if it does not fit. */
static uint8_t *rec(struct s2_live_wr *w, uint8_t kind, size_t n)
{
	if (w->cap - w->pos < S2_LIVE_REC_HDR + n)
		return NULL;
	uint8_t *h = w->buf + w->pos;
	h[0] = kind;
	h[1] = 0;
	s2_st16(h + 2, (uint16_t)n);
	w->pos += S2_LIVE_REC_HDR + n;
	return h + S2_LIVE_REC_HDR;
}

int s2_live_spike(struct s2_live_wr *w, uint32_t step, uint16_t chip, uint8_t pe, uint16_t neuron)
{
	if (w->open && w->step == step && w->chip == chip && w->pe == pe) {
		uint8_t *h = w->buf + w->open;
		uint16_t n = s2_ld16(h + 2);
		if (w->cap - w->pos < 2 || n > 0xFFFF - 2)
			return S2_E_NOSPACE;
		s2_st16(w->buf + w->pos, neuron);
		w->pos += 2;
		s2_st16(h + 2, (uint16_t)(n + 2));
		return 0;
	}
	size_t at = w->pos;
	uint8_t *b = rec(w, S2_LIVE_SPIKES, S2_LIVE_SPIKES_HDR + 2);
	if (!b)
		return S2_E_NOSPACE;
	s2_st32(b, step);
	s2_st16(b + 4, chip);
	b[6] = pe;
	b[7] = 0;
	s2_st16(b + 8, neuron);
	w->open = at;
	w->step = step;
	w->chip = chip;
	w->pe = pe;
	return 0;
}

int s2_live_energy(struct s2_live_wr *w, uint32_t step, uint16_t chip, uint64_t time_us,
                   const uint64_t counters[S2_LIVE_COUNTERS])
{
	uint8_t *b = rec(w, S2_LIVE_ENERGY, S2_LIVE_ENERGY_LEN);
	if (!b)
		return S2_E_NOSPACE;
	w->open = 0;
	s2_st32(b, step);
	s2_st16(b + 4, chip);
	s2_st16(b + 6, 0);
	s2_st64(b + 8, time_us);
	for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
		s2_st64(b + 16 + 8 * k, counters[k]);
	return 0;
}

int s2_live_run(struct s2_live_wr *w, uint32_t step, uint16_t event, uint64_t time_us)
{
	uint8_t *b = rec(w, S2_LIVE_RUN, S2_LIVE_RUN_LEN);
	if (!b)
		return S2_E_NOSPACE;
	w->open = 0;
	s2_st32(b, step);
	s2_st16(b + 4, event);
	s2_st16(b + 6, 0);
	s2_st64(b + 8, time_us);
	return 0;
}
