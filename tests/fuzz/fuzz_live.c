/*
 * Fuzz target for the live-stream decoders (proto live.h) and the stream receiver (host
 * stream.h): any bytes must be accepted or rejected, never read out of bounds, and what is
 * accepted must be what an encoder writes. The first input byte picks what the rest is:
 *
 *   0  a STREAM_DATA body: s2_live_open, then every record with s2_live_next; each record
 *      read must re-encode (s2_live_spike/energy/run) to exactly its bytes;
 *   1  a STREAM_START body, 2 an INJECT body, 3 an INJECT reply: an accepted body must
 *      re-encode to exactly the input;
 *   4  whole datagrams (each a u16 length, then the bytes) fed in turn to one stream;
 *   5  STREAM_DATA bodies wrapped into valid packets, fed in turn to one stream: each chunk is
 *      kind u8 (bit 0: type STREAM_DATA, else the byte is the type; bit 1: a reply), seq u32,
 *      board u16, body length u16, body. The harness computes the CRC, so the fuzzer gets
 *      past it to the body checks, the sequence numbering and the delivery.
 *
 * Seeds: corpus/live (gen_live_corpus.py writes them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/live.h"
#include "s2/packet.h"
#include "s2/stream.h"
#include "s2/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[S2_MAX_DATAGRAM + 64];

static void same(int n, const uint8_t *p, size_t len)
{
	if (n < 0 || (size_t)n != len || memcmp(out, p, len) != 0)
		abort();
}

static void body(const uint8_t *p, size_t len)
{
	struct s2_live_rd r;
	uint32_t id, dropped;
	uint64_t first_us;
	if (s2_live_open(&r, p, len, &id, &dropped, &first_us) < 0)
		return;
	struct s2_live_rec rec;
	size_t at = r.pos;
	int rc;
	while ((rc = s2_live_next(&r, &rec)) > 0) {
		if (r.pos <= at || r.pos > len)
			abort();
		struct s2_live_wr w;
		static uint8_t buf[1 << 17];
		s2_live_begin(&w, buf, sizeof buf, id, dropped);
		switch (rec.kind) {
		case S2_LIVE_SPIKES:
			if (rec.neurons < p || rec.neurons + 2 * (size_t)rec.n > p + r.pos)
				abort();
			for (unsigned i = 0; i < rec.n; i++)
				if (s2_live_spike(&w, rec.step, rec.chip, rec.pe,
				                  s2_ld16(rec.neurons + 2 * i)) < 0)
					abort();
			break;
		case S2_LIVE_ENERGY:
			if (s2_live_energy(&w, rec.step, rec.chip, rec.time_us, rec.counters) < 0)
				abort();
			break;
		case S2_LIVE_RUN:
			if (s2_live_run(&w, rec.step, rec.event, rec.time_us) < 0)
				abort();
			break;
		default:
			abort(); /* s2_live_next accepted a kind it does not know */
		}
		if (w.pos - S2_LIVE_DATA_HDR != r.pos - at ||
		    memcmp(buf + S2_LIVE_DATA_HDR, p + at, r.pos - at) != 0)
			abort();
		at = r.pos;
	}
	if (rc == 0 && r.pos != len)
		abort();
}

/* The receiver's callbacks check what they are given and count it. */
struct seen {
	uint64_t spikes, energy, events;
};

static void on_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct seen *z = ctx;
	if (!n || n > S2_MAX_PAYLOAD / 2)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i].pop > 3)
			abort();
	z->spikes += n;
}

static void on_energy(void *ctx, const struct s2_energy_sample *e)
{
	(void)e;
	((struct seen *)ctx)->energy++;
}

static void on_event(void *ctx, const struct s2_run_event *ev)
{
	if (ev->event < S2_LIVE_STARTED || ev->event > S2_LIVE_STOPPED)
		abort();
	((struct seen *)ctx)->events++;
}

static void feed(const uint8_t *p, size_t len, bool wrap)
{
	struct seen z = {0};
	struct s2_stream_callbacks cb = {on_spikes, on_energy, on_event, &z};
	struct s2_stream *s = s2_stream_new(0, &cb);
	if (!s)
		return;
	/* sources on two boards, as an image would give them; other PEs are unknown */
	for (uint8_t pe = 1; pe < 5; pe++) {
		s2_stream_add_source(s, 0, 0, pe, pe % 4, 100u * pe);
		s2_stream_add_source(s, 1, 7, pe, 3, 0);
	}
	uint64_t fed = 0, delivered = 0;
	size_t i = 0;
	while (i < len) {
		const uint8_t *d;
		size_t n;
		if (!wrap) {
			if (len - i < 2)
				break;
			n = s2_ld16(p + i);
			i += 2;
			n = n < len - i ? n : len - i;
			d = p + i;
		} else {
			if (len - i < 9)
				break;
			uint8_t kind = p[i];
			struct s2_header h = {.type = (kind & 1) ? S2_MSG_STREAM_DATA : kind,
			                      .flags = (kind & 2) ? S2_F_REPLY : 0,
			                      .seq = s2_ld32(p + i + 1),
			                      .board = s2_ld16(p + i + 5),
			                      .chip = S2_ADDR_ANY,
			                      .pe = S2_PE_MONITOR};
			size_t bl = s2_ld16(p + i + 7);
			i += 9;
			bl = bl < len - i ? bl : len - i;
			bl = bl < S2_MAX_PAYLOAD ? bl : S2_MAX_PAYLOAD;
			int dl = s2_packet_encode(out, sizeof out, &h, p + i, bl);
			if (dl < 0)
				abort();
			d = out;
			n = bl;
			i += bl;
			if (s2_stream_feed(s, d, (size_t)dl) > 0)
				delivered++;
			fed++;
			continue;
		}
		if (s2_stream_feed(s, d, n) > 0)
			delivered++;
		fed++;
		i += n;
	}
	const struct s2_stream_stats *st = s2_stream_stats(s);
	if (st->packets != delivered || st->packets > fed ||
	    st->packets + st->duplicates + st->stale + st->bad + st->foreign > fed ||
	    st->spikes != z.spikes || st->energy_samples != z.energy || st->events != z.events)
		abort();
	s2_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	switch (data[0] % 6) {
	case 0:
		body(p, len);
		break;
	case 1: {
		static struct s2_msg_stream_start m;
		if (!s2_msg_stream_start_decode(p, len, &m))
			same(s2_msg_stream_start_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 2: {
		static struct s2_msg_inject m;
		if (!s2_msg_inject_decode(p, len, &m))
			same(s2_msg_inject_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 3: {
		struct s2_msg_inject_reply m;
		if (!s2_msg_inject_reply_decode(p, len, &m))
			same(s2_msg_inject_reply_encode(out, sizeof out, &m), p, len);
		break;
	}
	case 4:
		feed(p, len, false);
		break;
	case 5:
		feed(p, len, true);
		break;
	}
	return 0;
}
