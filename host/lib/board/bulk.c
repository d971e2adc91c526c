/*
 * Bulk transfers (bulk.h, protocol section 4.16). A write is BULK_BEGIN, a window of
 * BULK_DATA datagrams paced by the board's BULK_SACKs, and BULK_END; a read is BULK_READ,
 * the board's stream of BULK_DATA paced by our SACKs, and BULK_END. Loss is detected the
 * way TCP's RACK does it: a block is lost when a block sent after it has been acknowledged;
 * a stall (no progress for a timeout derived from the conn's RTT estimate) is resolved by a
 * BULK_POLL request (writes) or a timeout SACK (reads), with exponential back-off.
 */
#include "s2/bulk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>
#include <zlib.h>

#include "s2/crc32.h"
#include "s2/auth.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/msg.h"

#define SACK_EVERY 16u /* a reader acknowledges at least every this many new blocks */

struct bulk {
	struct s2_op *op;
	struct s2_conn *conn;
	struct s2_client *client;
	struct s2_bulk_stats *st;
	struct s2_bulk_stats dummy;
	struct s2_bulk_opts o;
	bool write;
	uint16_t chip;
	uint8_t pe;
	uint8_t space;
	uint32_t addr;
	uint32_t region;
	const uint8_t *src; /* writes */
	uint8_t *dst;       /* reads */
	size_t len;
	uint32_t crc;                   /* of the region: ours (writes), the board's (reads) */
	bool keyed;                     /* authenticated client: the region is bound by its hash */
	uint8_t hash[S2_AUTH_HASH_LEN]; /* BLAKE2b-256: ours (writes), the board's (reads) */
	crypto_generichash_state hs;    /* writes: absorbs blocks as they are first sent */
	uint32_t hashed;                /* writes: blocks absorbed */
	uint32_t n;                     /* blocks */
	uint8_t *have;                  /* [n] writes: acknowledged; reads: received */
	uint32_t *serial;               /* [n] writes: send serial of the last send, 0 never sent */
	uint8_t *queued;                /* [n] writes: on the retransmit queue */
	uint8_t *resent;                /* [n] writes: sent more than once (its ack is ambiguous) */
	uint32_t *retx;                 /* [n] writes: retransmit queue */
	uint32_t n_retx;
	uint32_t next_new; /* writes: next block never sent */
	uint32_t in_flight;
	uint32_t next_serial;
	uint32_t cum;   /* blocks < cum are all have */
	uint32_t count; /* blocks have */
	uint32_t hi;    /* reads: highest block received + 1 */
	uint32_t since_sack;
	uint32_t bad_seen;
	bool started;  /* writes: BEGIN acknowledged; reads: READ answered */
	bool ending;   /* END sent */
	bool polling;  /* a POLL in flight */
	bool over;     /* finished: freed when no request of it is in flight */
	unsigned reqs; /* requests in flight (BEGIN/READ, POLL, END) */
	uint32_t poll_serial;
	unsigned stalls;
	struct event *timer;
	z_stream zs; /* writes with compression: one deflate state, reset per block */
	bool zs_ok;
	uint32_t incompressible; /* blocks in a row that did not shrink */
};

static uint32_t next_region_id = 1;

void s2_bulk_defaults(struct s2_bulk_opts *o)
{
	o->block_size = S2_BULK_BLOCK_MAX;
	o->window = 256;
	o->compress = true;
	o->max_stalls = 10;
}

__attribute__((format(printf, 3, 4))) static void fail(struct bulk *b, int status, const char *fmt,
                                                       ...)
{
	if (b->op->status != 0)
		return;
	b->op->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->op->what, sizeof b->op->what, fmt, ap);
	va_end(ap);
}

static size_t block_len(const struct bulk *b, uint32_t i)
{
	size_t off = (size_t)i * b->o.block_size;
	return b->len - off < b->o.block_size ? b->len - off : b->o.block_size;
}

static void progress(struct bulk *b, size_t n)
{
	b->op->done += n;
	if (b->op->progress)
		b->op->progress(b->op->progress_arg);
}

static void listen_cb(void *arg, const struct s2_header *h, const uint8_t *p, size_t len);

static void release(struct bulk *b)
{
	if (b->zs_ok)
		deflateEnd(&b->zs);
	b->op->outstanding--;
	s2_client_release(b->client);
	event_free(b->timer);
	free(b->have);
	free(b->serial);
	free(b->queued);
	free(b->resent);
	free(b->retx);
	free(b);
}

/* The op is over (ok or not): stop listening; b is freed now or when its last request
 * completes (see req_done), so callers must not touch b after finish(). */
static void finish(struct bulk *b)
{
	if (b->over)
		return;
	b->over = true;
	s2_conn_unlisten(b->conn, listen_cb, b);
	evtimer_del(b->timer);
	if (b->op->status == 0)
		b->st->regions++;
	if (b->reqs == 0)
		release(b);
}

/* Account for a completed request of b; true if b is over (and perhaps freed). */
static bool req_done(struct bulk *b)
{
	b->reqs--;
	if (!b->over)
		return false;
	if (b->reqs == 0)
		release(b);
	return true;
}

static int request(struct bulk *b, uint8_t type, const void *body, size_t len, s2_reply_cb cb)
{
	int rc = s2_conn_request(b->conn, type, b->chip, b->pe, body, len, cb, b);
	if (rc == 0)
		b->reqs++;
	return rc;
}

/* Stall timeout: the conn's RTO (smoothed RTT + 4 variance, bounded), backed off. */
static void arm_timer(struct bulk *b)
{
	const struct s2_conn_stats *cs = s2_conn_stats(b->conn);
	uint64_t us = cs->rto_us;
	us <<= b->stalls < 6 ? b->stalls : 6;
	if (us > 1000000u)
		us = 1000000u;
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
	                     .tv_usec = (suseconds_t)(us % 1000000u)};
	evtimer_add(b->timer, &tv);
}

static void end_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct bulk *b = arg;
	if (req_done(b))
		return;
	if (status < 0)
		fail(b, status, "BULK_END of chip %u region at 0x%08x%s", b->chip, b->addr,
		     status == S2_E_CRC    ? " (region CRC)"
		     : status == S2_E_AUTH ? " (region hash: blocks not from this session)"
		                           : "");
	finish(b);
}

static void send_end(struct bulk *b)
{
	if (b->ending)
		return;
	b->ending = true;
	evtimer_del(b->timer);
	uint8_t body[8 + S2_AUTH_HASH_LEN];
	int n = s2_msg_bulk_region_encode(body, sizeof body, b->region);
	if (n > 0 && b->write && b->keyed) {
		/* Protocol 2.3: an authenticated region is bound by its hash. Every block was
		 * sent (and absorbed, in order) before the board acknowledged them all. */
		crypto_generichash_final(&b->hs, b->hash, S2_AUTH_HASH_LEN);
		memcpy(body + n, b->hash, S2_AUTH_HASH_LEN);
		n += (int)S2_AUTH_HASH_LEN;
	}
	if (request(b, S2_MSG_BULK_END, body, (size_t)n, end_cb) < 0) {
		fail(b, S2_E_NOMEM, "BULK_END");
		finish(b);
	}
}

/* --- write ------------------------------------------------------------------------------- */

static void send_block(struct bulk *b, uint32_t i)
{
	size_t off = (size_t)i * b->o.block_size, n = block_len(b, i);
	uint8_t z[S2_BULK_BLOCK_MAX + 64], body[S2_MAX_PAYLOAD];
	if (b->keyed && i == b->hashed) {
		/* First sends go in block order: the hash costs no pass of its own. */
		crypto_generichash_update(&b->hs, b->src + off, n);
		b->hashed++;
	}
	struct s2_msg_bulk_data d = {.region = b->region,
	                             .block = i,
	                             .raw_len = (uint16_t)n,
	                             .raw_crc = s2_crc32(0, b->src + off, n),
	                             .data = b->src + off,
	                             .len = (uint16_t)n};
	if (!b->zs_ok && b->o.compress)
		b->zs_ok = deflateInit(&b->zs, Z_BEST_SPEED) == Z_OK;
	if (b->zs_ok && (b->incompressible < 8 || i % 16 == 0) && deflateReset(&b->zs) == Z_OK) {
		/* One complete zlib stream per block; kept only if it is shorter. */
		b->zs.next_in = (Bytef *)(uintptr_t)(b->src + off);
		b->zs.avail_in = (uInt)n;
		b->zs.next_out = z;
		b->zs.avail_out = (uInt)n;
		if (deflate(&b->zs, Z_FINISH) == Z_STREAM_END && b->zs.total_out < n) {
			d.flags = S2_BULK_F_ZLIB;
			d.data = z;
			d.len = (uint16_t)b->zs.total_out;
			b->incompressible = 0;
			b->st->compressed++;
		} else {
			b->incompressible++;
		}
	}
	int blen = s2_msg_bulk_data_encode(body, sizeof body, &d);
	if (blen < 0 ||
	    s2_conn_send(b->conn, S2_MSG_BULK_DATA, b->chip, b->pe, body, (size_t)blen) < 0) {
		fail(b, blen < 0 ? blen : S2_E_IO, "BULK_DATA block %u", i);
		return;
	}
	if (b->serial[i] == 0) {
		b->in_flight++;
	} else {
		b->st->retransmits++;
		b->resent[i] = 1;
	}
	b->serial[i] = ++b->next_serial;
	b->st->blocks_sent++;
	b->st->bytes_data += S2_HEADER_LEN + (uint64_t)blen;
}

static void pump_write(struct bulk *b)
{
	if (!b->started || b->ending || b->op->status < 0)
		return;
	while (b->n_retx) {
		uint32_t i = b->retx[--b->n_retx];
		b->queued[i] = 0;
		if (!b->have[i])
			send_block(b, i);
	}
	while (b->next_new < b->n && b->in_flight < b->o.window)
		send_block(b, b->next_new++);
	if (b->count == b->n)
		send_end(b);
}

static void queue_retx(struct bulk *b, uint32_t i)
{
	if (!b->have[i] && !b->queued[i] && b->serial[i]) {
		b->queued[i] = 1;
		b->retx[b->n_retx++] = i;
	}
}

static void ack(struct bulk *b, uint32_t i, uint32_t *max_serial)
{
	if (b->have[i])
		return;
	b->have[i] = 1;
	b->count++;
	b->st->blocks++;
	if (b->serial[i])
		b->in_flight--;
	/* Karn: the ack of a block sent twice may be for either send, so it dates nothing. */
	if (!b->resent[i] && b->serial[i] > *max_serial)
		*max_serial = b->serial[i];
	progress(b, block_len(b, i));
}

/* A SACK from the board. lost_before: blocks sent before this serial and not acknowledged
 * are lost (the serial when a POLL was sent), or 0. */
static void on_sack(struct bulk *b, const struct s2_msg_bulk_sack *s, uint32_t lost_before)
{
	if (s->cum > b->n)
		return; /* not ours to believe */
	uint32_t before = b->count, max_serial = 0;
	for (uint32_t i = b->cum; i < s->cum; i++)
		ack(b, i, &max_serial);
	if (s->cum > b->cum)
		b->cum = s->cum;
	uint32_t span = 8u * s->bm_len;
	for (uint32_t k = 0; k < span && s->cum + 1 + k < b->n; k++)
		if (s2_bitmap_get(s->bitmap, k))
			ack(b, s->cum + 1 + k, &max_serial);
	while (b->cum < b->n && b->have[b->cum])
		b->cum++;
	if (s->bad > b->bad_seen) {
		b->st->bad_blocks += s->bad - b->bad_seen;
		b->bad_seen = s->bad;
	}
	/* Lost: unacknowledged blocks sent well before one that arrived (RACK, RFC 8985, with
	 * a reordering allowance in blocks instead of time: a quarter of the window in flight),
	 * or anything sent before a poll. */
	uint32_t reo = b->in_flight / 4 > 3 ? b->in_flight / 4 : 3;
	uint32_t limit = max_serial > reo ? max_serial - reo : 0;
	if (lost_before > limit)
		limit = lost_before;
	uint32_t end = b->cum + 1 + span < b->n ? b->cum + 1 + span : b->n;
	if (lost_before)
		end = b->next_new; /* a poll answers for everything sent */
	for (uint32_t i = b->cum; i < end && limit; i++)
		if (b->serial[i] && b->serial[i] < limit)
			queue_retx(b, i);
	if (b->count > before)
		b->stalls = 0;
	if (!b->ending)
		arm_timer(b); /* the board answers: not a stall */
	pump_write(b);
}

static void poll_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct bulk *b = arg;
	b->polling = false;
	if (req_done(b))
		return;
	struct s2_msg_bulk_sack s;
	if (status == 0)
		status = s2_msg_bulk_sack_decode(p, len, &s);
	if (status == 0 && s.region != b->region)
		status = S2_E_FORMAT;
	if (status < 0) {
		fail(b, status, "BULK_POLL of chip %u", b->chip);
		if (!b->ending)
			finish(b);
		return;
	}
	b->st->sacks++;
	b->st->bytes_sack += S2_HEADER_LEN + len;
	if (b->ending)
		return;
	on_sack(b, &s, b->poll_serial);
	if (b->op->status < 0 && !b->ending) {
		finish(b);
		return;
	}
	if (!b->ending)
		arm_timer(b);
}

static void write_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bulk *b = arg;
	if (b->ending || b->polling)
		return;
	if (++b->stalls > b->o.max_stalls) {
		fail(b, S2_E_TIMEOUT, "bulk write to chip %u: no progress", b->chip);
		finish(b);
		return;
	}
	b->st->timeouts++;
	uint8_t body[8];
	int n = s2_msg_bulk_region_encode(body, sizeof body, b->region);
	b->polling = true;
	b->poll_serial = b->next_serial + 1;
	if (request(b, S2_MSG_BULK_POLL, body, (size_t)n, poll_cb) < 0) {
		fail(b, S2_E_NOMEM, "BULK_POLL");
		finish(b);
	}
}

static void begin_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct bulk *b = arg;
	if (req_done(b))
		return;
	if (status < 0) {
		fail(b, status, "BULK_BEGIN of chip %u at 0x%08x", b->chip, b->addr);
		finish(b);
		return;
	}
	b->started = true;
	arm_timer(b);
	pump_write(b);
	if (b->op->status < 0 && !b->ending)
		finish(b);
}

/* --- read -------------------------------------------------------------------------------- */

static void send_sack(struct bulk *b, uint16_t flags)
{
	struct s2_msg_bulk_sack s = {.region = b->region, .cum = b->cum, .flags = flags};
	uint32_t span = b->hi > b->cum + 1 ? b->hi - b->cum - 1 : 0;
	if (span > 8u * S2_BULK_SACK_BITMAP_MAX)
		span = 8u * S2_BULK_SACK_BITMAP_MAX;
	s.bm_len = (uint16_t)((span + 7) / 8);
	for (uint32_t k = 0; k < span; k++)
		if (b->have[b->cum + 1 + k])
			s2_bitmap_set(s.bitmap, k, true);
	uint8_t body[S2_MAX_PAYLOAD];
	int n = s2_msg_bulk_sack_encode(body, sizeof body, &s);
	if (n < 0 || s2_conn_send(b->conn, S2_MSG_BULK_SACK, b->chip, b->pe, body, (size_t)n) < 0)
		return; /* lost like any datagram; the stall timer recovers */
	b->since_sack = 0;
	b->st->sacks++;
	b->st->bytes_sack += S2_HEADER_LEN + (uint64_t)n;
}

static void read_check_done(struct bulk *b)
{
	if (!b->started || b->count != b->n || b->ending)
		return;
	send_sack(b, 0); /* tells the board it may stop */
	/* Authenticated, the region's hash replaces its CRC (the board sends crc 0). */
	if (!b->keyed && s2_crc32(0, b->dst, b->len) != b->crc)
		fail(b, S2_E_CRC, "bulk read of chip %u at 0x%08x: region CRC", b->chip, b->addr);
	if (b->keyed) {
		uint8_t got[S2_AUTH_HASH_LEN];
		crypto_generichash(got, sizeof got, b->dst, b->len, NULL, 0);
		if (sodium_memcmp(got, b->hash, sizeof got) != 0)
			fail(b, S2_E_AUTH,
			     "bulk read of chip %u at 0x%08x: region hash (blocks "
			     "not from the board)",
			     b->chip, b->addr);
	}
	send_end(b);
}

static void on_data(struct bulk *b, const struct s2_msg_bulk_data *d, size_t dgram_len)
{
	b->st->blocks_sent++;
	b->st->bytes_data += dgram_len;
	if (d->block >= b->n || d->raw_len != block_len(b, d->block)) {
		b->st->bad_blocks++;
		return;
	}
	/* Anything of the region arriving shows the path is not stalled: a reader busy with
	 * duplicates must not time out and ask for even more of them. */
	b->stalls = 0;
	arm_timer(b);
	if (b->have[d->block]) {
		b->st->duplicates++;
		return;
	}
	uint8_t raw[S2_BULK_BLOCK_MAX];
	const uint8_t *src = d->data;
	if (d->flags & S2_BULK_F_ZLIB) {
		uLongf rn = sizeof raw;
		if (uncompress(raw, &rn, d->data, d->len) != Z_OK || rn != d->raw_len) {
			b->st->bad_blocks++;
			return;
		}
		src = raw;
		b->st->compressed++;
	}
	if (s2_crc32(0, src, d->raw_len) != d->raw_crc) {
		b->st->bad_blocks++;
		return;
	}
	memcpy(b->dst + (size_t)d->block * b->o.block_size, src, d->raw_len);
	b->have[d->block] = 1;
	b->count++;
	b->st->blocks++;
	b->since_sack++;
	bool gap = d->block > b->hi; /* blocks between hi and this one are missing */
	if (d->block + 1 > b->hi)
		b->hi = d->block + 1;
	while (b->cum < b->n && b->have[b->cum])
		b->cum++;
	progress(b, d->raw_len);
	if (b->count == b->n)
		read_check_done(b);
	else if (gap || b->since_sack >= SACK_EVERY)
		send_sack(b, 0);
}

static void read_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bulk *b = arg;
	if (b->ending)
		return;
	if (++b->stalls > b->o.max_stalls) {
		fail(b, S2_E_TIMEOUT, "bulk read of chip %u: no progress", b->chip);
		send_end(b); /* let the board forget the region */
		return;
	}
	b->st->timeouts++;
	send_sack(b, S2_BULK_SACK_F_TIMEOUT);
	arm_timer(b);
}

static void read_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct bulk *b = arg;
	if (req_done(b))
		return;
	struct s2_msg_bulk_read_rep r;
	/* Authenticated, the reply ends with the region's BLAKE2b-256 (docs/security.md). */
	size_t hl = b->keyed ? S2_AUTH_HASH_LEN : 0;
	if (status == 0 && len < hl)
		status = S2_E_SHORT;
	if (status == 0)
		status = s2_msg_bulk_read_rep_decode(p, len - hl, &r);
	if (status == 0 && hl)
		memcpy(b->hash, p + len - hl, hl);
	if (status == 0 && (r.region != b->region || r.len != b->len || r.n_blocks != b->n))
		status = S2_E_FORMAT;
	if (status < 0) {
		fail(b, status, "BULK_READ of chip %u at 0x%08x", b->chip, b->addr);
		finish(b);
		return;
	}
	b->crc = r.crc;
	b->started = true;
	read_check_done(b);
}

/* --- common ------------------------------------------------------------------------------ */

static void listen_cb(void *arg, const struct s2_header *h, const uint8_t *p, size_t len)
{
	struct bulk *b = arg;
	if (b->ending || h->chip != b->chip)
		return;
	if (b->write && h->type == S2_MSG_BULK_SACK) {
		struct s2_msg_bulk_sack s;
		if (s2_msg_bulk_sack_decode(p, len, &s) < 0 || s.region != b->region)
			return;
		b->st->sacks++;
		b->st->bytes_sack += S2_HEADER_LEN + len;
		on_sack(b, &s, 0);
		if (b->op->status < 0 && !b->ending)
			finish(b);
	} else if (!b->write && h->type == S2_MSG_BULK_DATA) {
		struct s2_msg_bulk_data d;
		if (s2_msg_bulk_data_decode(p, len, &d) < 0 || d.region != b->region)
			return;
		on_data(b, &d, S2_HEADER_LEN + len);
	}
}

static int start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space, uint32_t addr,
                 const uint8_t *src, uint8_t *dst, size_t len, const struct s2_bulk_opts *o,
                 struct s2_bulk_stats *st, struct s2_op *op)
{
	if (len < 1 || len > S2_BULK_LEN_MAX || (uint64_t)addr + len > 0x100000000ull ||
	    space > S2_MEM_SRAM)
		return S2_E_RANGE;
	struct bulk *b = calloc(1, sizeof *b);
	if (!b)
		return S2_E_NOMEM;
	if (o) {
		b->o = *o;
	} else {
		/* As patient as the client's requests (--attempts): a stall is resolved by a
		 * round trip that may be lost like a request's (docs/faults.md, "Loss"). */
		s2_bulk_defaults(&b->o);
		b->o.max_stalls = s2_client_opts(s2_conn_client(conn))->max_attempts + 2;
	}
	if (b->o.block_size < S2_BULK_BLOCK_MIN || b->o.block_size > S2_BULK_BLOCK_MAX ||
	    b->o.window < 1 || b->o.window > S2_BULK_WINDOW_MAX) {
		free(b);
		return S2_E_RANGE;
	}
	b->op = op;
	b->conn = conn;
	b->client = s2_conn_client(conn);
	b->st = st ? st : &b->dummy;
	b->write = src != NULL;
	b->chip = chip;
	b->pe = pe;
	b->space = space;
	b->addr = addr;
	b->region = next_region_id++;
	b->src = src;
	b->dst = dst;
	b->len = len;
	b->n = (uint32_t)((len + b->o.block_size - 1) / b->o.block_size);
	b->have = calloc(b->n, 1);
	if (b->write) {
		b->serial = calloc(b->n, sizeof *b->serial);
		b->queued = calloc(b->n, 1);
		b->resent = calloc(b->n, 1);
		b->retx = calloc(b->n, sizeof *b->retx);
	}
	b->timer = evtimer_new(s2_client_base(b->client), b->write ? write_timer_cb : read_timer_cb,
	                       b);
	uint8_t body[32];
	int n;
	b->keyed = s2_client_key(b->client) != NULL;
	if (b->write) {
		b->crc = s2_crc32(0, src, len);
		if (b->keyed)
			crypto_generichash_init(&b->hs, NULL, 0, S2_AUTH_HASH_LEN);
		struct s2_msg_bulk_begin m = {.region = b->region,
		                              .space = space,
		                              .addr = addr,
		                              .len = (uint32_t)len,
		                              .crc = b->crc,
		                              .block_size = b->o.block_size};
		n = s2_msg_bulk_begin_encode(body, sizeof body, &m);
	} else {
		struct s2_msg_bulk_read m = {.region = b->region,
		                             .space = space,
		                             .flags = b->o.compress ? S2_BULK_F_ZLIB : 0,
		                             .addr = addr,
		                             .len = (uint32_t)len,
		                             .block_size = b->o.block_size,
		                             .window = (uint16_t)b->o.window};
		n = s2_msg_bulk_read_encode(body, sizeof body, &m);
	}
	int rc = S2_E_NOMEM;
	if (!b->have || (b->write && (!b->serial || !b->queued || !b->resent || !b->retx)) ||
	    !b->timer || s2_conn_listen(conn, listen_cb, b) < 0)
		goto err_free;
	rc = request(b, b->write ? S2_MSG_BULK_BEGIN : S2_MSG_BULK_READ, body, (size_t)n,
	             b->write ? begin_cb : read_cb);
	if (rc < 0)
		goto err_listen;
	s2_client_hold(b->client);
	op->outstanding++;
	op->total += len;
	b->st->bytes_raw += len;
	if (!b->write)
		arm_timer(b);
	return 0;

err_listen:
	s2_conn_unlisten(conn, listen_cb, b);
err_free:
	if (b->timer)
		event_free(b->timer);
	free(b->have);
	free(b->serial);
	free(b->queued);
	free(b->resent);
	free(b->retx);
	free(b);
	return rc;
}

int s2_bulk_write_start_ex(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                           uint32_t addr, const void *data, size_t len,
                           const struct s2_bulk_opts *o, struct s2_bulk_stats *st, struct s2_op *op)
{
	if (!data)
		return S2_E_INVAL;
	return start(conn, chip, pe, space, addr, data, NULL, len, o, st, op);
}

int s2_bulk_read_start_ex(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                          uint32_t addr, void *out, size_t len, const struct s2_bulk_opts *o,
                          struct s2_bulk_stats *st, struct s2_op *op)
{
	if (!out)
		return S2_E_INVAL;
	return start(conn, chip, pe, space, addr, NULL, out, len, o, st, op);
}

int s2_bulk_write_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                        uint32_t addr, const void *data, size_t len, struct s2_op *op)
{
	return s2_bulk_write_start_ex(conn, chip, pe, space, addr, data, len, NULL, NULL, op);
}

int s2_bulk_read_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                       uint32_t addr, void *out, size_t len, struct s2_op *op)
{
	return s2_bulk_read_start_ex(conn, chip, pe, space, addr, out, len, NULL, NULL, op);
}
