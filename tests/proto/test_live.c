/*
 * Live streams (protocol 4.17): the STREAM_START / INJECT codecs, the STREAM_DATA record
 * builder and reader, and the host's stream receiver (s2_stream_feed): delivery, and the
 * counting of lost, late, duplicated, malformed and foreign packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/packet.h"
#include "s2/stream.h"
#include "s2/wire.h"

static void stream_start_round_trip(void **state)
{
	(void)state;
	static struct s2_msg_stream_start m, d;
	memset(&m, 0, sizeof m);
	m.id = 7;
	m.flags = S2_LIVE_F_SPIKES | S2_LIVE_F_ENERGY;
	m.energy_period = 100;
	m.port = 4242;
	m.n_chips = 3;
	m.live[2][0] = 0x06;  /* PEs 1 and 2 of chip 2 */
	m.live[0][18] = 0x80; /* PE 151 of chip 0 */
	uint8_t b[S2_MAX_PAYLOAD];
	int n = s2_msg_stream_start_encode(b, sizeof b, &m);
	assert_int_equal(n, S2_LIVE_START_HDR + 3 * S2_PE_BITMAP_LEN);
	assert_int_equal(s2_msg_stream_start_decode(b, (size_t)n, &d), 0);
	assert_int_equal(d.id, 7);
	assert_int_equal(d.energy_period, 100);
	assert_int_equal(d.port, 4242);
	assert_int_equal(d.n_chips, 3);
	assert_memory_equal(d.live, m.live, 3 * S2_PE_BITMAP_LEN);
	/* refusals: id 0, energy without a period, unknown flags, a PE past 159, bytes */
	uint8_t c[S2_MAX_PAYLOAD];
	memcpy(c, b, (size_t)n);
	s2_st32(c, 0);
	assert_int_equal(s2_msg_stream_start_decode(c, (size_t)n, &d), S2_E_RANGE);
	memcpy(c, b, (size_t)n);
	s2_st32(c + 8, 0);
	assert_int_equal(s2_msg_stream_start_decode(c, (size_t)n, &d), S2_E_RANGE);
	memcpy(c, b, (size_t)n);
	s2_st32(c + 4, 0x4);
	assert_int_equal(s2_msg_stream_start_decode(c, (size_t)n, &d), S2_E_RANGE);
	memcpy(c, b, (size_t)n);
	c[S2_LIVE_START_HDR + 19] = 1;
	assert_int_equal(s2_msg_stream_start_decode(c, (size_t)n, &d), S2_E_RESERVED);
	assert_int_equal(s2_msg_stream_start_decode(b, (size_t)n - 1, &d), S2_E_SHORT);
	assert_int_equal(s2_msg_stream_start_decode(b, 10, &d), S2_E_SHORT);
	memcpy(c, b, (size_t)n);
	c[n] = 0;
	assert_int_equal(s2_msg_stream_start_decode(c, (size_t)n + 1, &d), S2_E_LENGTH);
	m.n_chips = S2_LIVE_MAX_CHIPS + 1;
	assert_int_equal(s2_msg_stream_start_encode(b, sizeof b, &m), S2_E_RANGE);
}

static void inject_round_trip(void **state)
{
	(void)state;
	static struct s2_msg_inject m, d;
	m.step = 50;
	m.n = 2;
	m.e[0] = (struct s2_inject_entry){3, 100, 7};
	m.e[1] = (struct s2_inject_entry){47, 1, 151};
	uint8_t b[S2_MAX_PAYLOAD];
	int n = s2_msg_inject_encode(b, sizeof b, &m);
	assert_int_equal(n, S2_INJECT_HDR + 2 * S2_INJECT_ENTRY);
	assert_int_equal(s2_msg_inject_decode(b, (size_t)n, &d), 0);
	assert_int_equal(d.step, 50);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.e[1].chip, 47);
	assert_int_equal(d.e[1].neuron, 1);
	assert_int_equal(d.e[1].pe, 151);
	b[n - 1] = 1; /* reserved */
	assert_int_equal(s2_msg_inject_decode(b, (size_t)n, &d), S2_E_RESERVED);
	assert_int_equal(s2_msg_inject_decode(b, (size_t)n - 6, &d), S2_E_SHORT);
	m.n = 0;
	assert_int_equal(s2_msg_inject_encode(b, sizeof b, &m), S2_E_RANGE);
	m.n = S2_INJECT_MAX;
	assert_int_equal(s2_msg_inject_encode(b, sizeof b, &m),
	                 (int)(S2_INJECT_HDR + S2_INJECT_MAX * S2_INJECT_ENTRY));
	s2_st16(b + 4, S2_INJECT_MAX + 1);
	assert_int_equal(s2_msg_inject_decode(b, sizeof b, &d), S2_E_RANGE);
	struct s2_msg_inject_reply r = {5, 2}, rd;
	assert_int_equal(s2_msg_inject_reply_encode(b, 4, &r), 4);
	assert_int_equal(s2_msg_inject_reply_decode(b, 4, &rd), 0);
	assert_int_equal(rd.late, 2);
	s2_st16(b + 2, 6); /* late > accepted */
	assert_int_equal(s2_msg_inject_reply_decode(b, 4, &rd), S2_E_RANGE);
}

static void records_build_and_read(void **state)
{
	(void)state;
	uint8_t body[S2_MAX_PAYLOAD];
	struct s2_live_wr w;
	s2_live_begin(&w, body, sizeof body, 9, 4);
	s2_live_time(&w, 123456789);
	assert_false(s2_live_any(&w));
	assert_int_equal(s2_live_spike(&w, 10, 2, 5, 17), 0);
	assert_int_equal(s2_live_spike(&w, 10, 2, 5, 18), 0); /* same record */
	assert_int_equal(s2_live_spike(&w, 10, 2, 6, 1), 0);  /* new PE: new record */
	uint64_t k[S2_LIVE_COUNTERS] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(s2_live_energy(&w, 10, 2, 99, k), 0);
	assert_int_equal(s2_live_run(&w, 11, S2_LIVE_DONE, 100), 0);
	assert_true(s2_live_any(&w));
	struct s2_live_rd r;
	uint32_t id, dropped;
	uint64_t t;
	assert_int_equal(s2_live_open(&r, body, w.pos, &id, &dropped, &t), 0);
	assert_int_equal(id, 9);
	assert_int_equal(dropped, 4);
	assert_int_equal(t, 123456789);
	struct s2_live_rec rec;
	assert_int_equal(s2_live_next(&r, &rec), 1);
	assert_int_equal(rec.kind, S2_LIVE_SPIKES);
	assert_int_equal(rec.n, 2);
	assert_int_equal(s2_ld16(rec.neurons + 2), 18);
	assert_int_equal(s2_live_next(&r, &rec), 1);
	assert_int_equal(rec.pe, 6);
	assert_int_equal(s2_live_next(&r, &rec), 1);
	assert_int_equal(rec.kind, S2_LIVE_ENERGY);
	assert_int_equal(rec.counters[7], 8);
	assert_int_equal(s2_live_next(&r, &rec), 1);
	assert_int_equal(rec.event, S2_LIVE_DONE);
	assert_int_equal(s2_live_next(&r, &rec), 0);
	/* a full packet refuses more, and the reader sees exactly what fitted */
	s2_live_begin(&w, body, sizeof body, 9, 0);
	unsigned fitted = 0;
	while (s2_live_spike(&w, 1, 0, 1, (uint16_t)fitted) == 0)
		fitted++;
	assert_int_equal(fitted, (S2_MAX_PAYLOAD - S2_LIVE_DATA_HDR - 4 - 8) / 2);
	assert_int_equal(s2_live_energy(&w, 1, 0, 0, k), S2_E_NOSPACE);
	/* damaged records */
	s2_live_begin(&w, body, sizeof body, 9, 0);
	s2_live_spike(&w, 1, 0, 1, 2);
	body[S2_LIVE_DATA_HDR] = 9; /* unknown kind */
	assert_int_equal(s2_live_open(&r, body, w.pos, &id, &dropped, &t), 0);
	assert_int_equal(s2_live_next(&r, &rec), S2_E_TYPE);
	body[S2_LIVE_DATA_HDR] = S2_LIVE_SPIKES;
	assert_int_equal(s2_live_open(&r, body, w.pos - 1, &id, &dropped, &t), 0);
	assert_int_equal(s2_live_next(&r, &rec), S2_E_SHORT);
	s2_st16(body + S2_LIVE_DATA_HDR + 2, 9); /* odd spike body */
	assert_int_equal(s2_live_open(&r, body, S2_LIVE_DATA_HDR + 4 + 9, &id, &dropped, &t), 0);
	assert_int_equal(s2_live_next(&r, &rec), S2_E_LENGTH);
	assert_int_equal(s2_live_open(&r, body, 7, &id, &dropped, &t), S2_E_SHORT);
}

/* A STREAM_DATA datagram of board 1, seq, with one spike of (chip 0, PE 3) neuron n. */
static size_t packet(uint8_t *out, uint32_t id, uint32_t seq, uint16_t n)
{
	uint8_t body[64];
	struct s2_live_wr w;
	s2_live_begin(&w, body, sizeof body, id, 0);
	s2_live_spike(&w, seq, 0, 3, n);
	struct s2_header h = {
	        .type = S2_MSG_STREAM_DATA, .seq = seq, .board = 1, .chip = 0xFFFF, .pe = 0xFF};
	int len = s2_packet_encode(out, S2_MAX_DATAGRAM, &h, body, w.pos);
	assert_true(len > 0);
	return (size_t)len;
}

struct got {
	unsigned n;
	struct s2_spike last;
};

static void got_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct got *g = ctx;
	g->n += (unsigned)n;
	g->last = s[n - 1];
}

static void stream_counts_every_packet(void **state)
{
	(void)state;
	struct got g = {0};
	struct s2_stream_callbacks cb = {got_spikes, NULL, NULL, &g};
	struct s2_stream *s = s2_stream_new(5, &cb);
	assert_non_null(s);
	assert_int_equal(s2_stream_add_source(s, 1, 0, 3, 2, 1000), 0);
	uint8_t d[S2_MAX_DATAGRAM];
	size_t n = packet(d, 5, 0, 7);
	assert_int_equal(s2_stream_feed(s, d, n), 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.last.pop, 2);
	assert_int_equal(g.last.neuron, 1007);
	assert_int_equal(g.last.step, 0);
	n = packet(d, 5, 3, 1); /* 1 and 2 missing */
	assert_int_equal(s2_stream_feed(s, d, n), 1);
	const struct s2_stream_stats *st = s2_stream_stats(s);
	assert_int_equal(st->lost, 2);
	n = packet(d, 5, 2, 1); /* late: fills a gap */
	assert_int_equal(s2_stream_feed(s, d, n), 1);
	assert_int_equal(st->lost, 1);
	assert_int_equal(st->late, 1);
	assert_int_equal(s2_stream_feed(s, d, n), 0); /* again: a duplicate */
	assert_int_equal(st->duplicates, 1);
	n = packet(d, 5, 3, 1);
	assert_int_equal(s2_stream_feed(s, d, n), 0);
	assert_int_equal(st->duplicates, 2);
	n = packet(d, 5, 100, 1); /* a long gap: 96 lost; the window restarts */
	assert_int_equal(s2_stream_feed(s, d, n), 1);
	assert_int_equal(st->lost, 97);
	n = packet(d, 5, 1, 1); /* too old to tell from a duplicate: stale, not delivered */
	assert_int_equal(s2_stream_feed(s, d, n), 0);
	assert_int_equal(st->stale, 1);
	assert_int_equal(st->duplicates, 2);
	n = packet(d, 6, 101, 1); /* another stream */
	assert_int_equal(s2_stream_feed(s, d, n), 0);
	assert_int_equal(st->foreign, 1);
	n = packet(d, 5, 101, 1);
	d[n - 1] ^= 1; /* damaged: the CRC fails */
	assert_true(s2_stream_feed(s, d, n) < 0);
	assert_int_equal(st->bad, 1);
	assert_int_equal(s2_stream_feed(s, d, 10), S2_E_SHORT);
	assert_int_equal(st->bad, 2);
	assert_int_equal(st->packets, 4);
	assert_int_equal(st->spikes, 4);
	assert_int_equal(g.n, 4);
	s2_stream_free(s);
	/* a PE nobody mapped: its spikes are counted, not delivered */
	struct got g2 = {0};
	cb.ctx = &g2;
	s = s2_stream_new(0, &cb); /* id 0: adopts the first id */
	n = packet(d, 77, 0, 1);
	assert_int_equal(s2_stream_feed(s, d, n), 1);
	assert_int_equal(g2.n, 0);
	assert_int_equal(s2_stream_stats(s)->unknown_source, 1);
	n = packet(d, 78, 1, 1);
	assert_int_equal(s2_stream_feed(s, d, n), 0);
	assert_int_equal(s2_stream_stats(s)->foreign, 1);
	s2_stream_free(s);
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(stream_start_round_trip),
	        cmocka_unit_test(inject_round_trip),
	        cmocka_unit_test(records_build_and_read),
	        cmocka_unit_test(stream_counts_every_packet),
	};
	return s2t_run_cmocka("live", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
