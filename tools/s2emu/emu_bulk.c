/*
 * Bulk data in and out of chip memory on an emulated board (emu_bulk.h, protocol section
 * 4.16). Regions are keyed by the host's address and its region id; up to EMU_BULK_REGIONS
 * are open per board, the least recently used is forgotten first. Every block is checked
 * (length, zlib, CRC-32) at the Ethernet chip and travels the boot tree to its chip, so it
 * costs that chip's hop count in mesh_hops.
 */
#include "emu_bulk.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "emu.h"
#include "s2/auth.h"
#include "s2/blake2b.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/msg.h"

#define EMU_BULK_REGIONS 64u
#define SACK_EVERY 16u

struct region {
	bool used, write, ended;
	int result; /* of BULK_END, once ended */
	uint32_t id;
	struct sockaddr_storage from;
	socklen_t fromlen;
	int fd;
	uint16_t chip;
	uint8_t pe, space;
	uint32_t addr, len, crc;
	bool authed; /* opened by an authenticated request: BULK_END must carry the hash */
	uint16_t bs, window;
	bool zlib;
	uint32_t n, cum, count, hi, since, bad;
	uint32_t next_new, in_flight, next_serial;
	uint8_t *have;    /* [n] write: received; read: acknowledged */
	uint32_t *serial; /* [n] read: send serial, 0 never sent */
	uint8_t *resent;  /* [n] read: sent more than once (its ack is ambiguous) */
	uint8_t *buf;     /* read: the region as read at BULK_READ */
	z_stream zs;      /* read with zlib: one deflate state, reset per block */
	bool zs_ok;
	uint32_t incompressible; /* blocks in a row that did not shrink */
	uint64_t used_at;
};

struct emu_bulk {
	struct region r[EMU_BULK_REGIONS];
	uint64_t clock;
	struct sockaddr_storage last_from;
	socklen_t last_fromlen;
	int last_fd;
};

static void region_free(struct region *r)
{
	if (r->zs_ok)
		deflateEnd(&r->zs);
	r->zs_ok = false;
	free(r->have);
	free(r->serial);
	free(r->resent);
	r->resent = NULL;
	free(r->buf);
	r->have = NULL;
	r->serial = NULL;
	r->buf = NULL;
}

void emu_bulk_reset(struct emu_board *b)
{
	if (!b->bulk)
		return;
	for (unsigned i = 0; i < EMU_BULK_REGIONS; i++)
		region_free(&b->bulk->r[i]);
	free(b->bulk);
	b->bulk = NULL;
}

static struct region *find(struct emu_board *b, uint32_t id, const struct sockaddr_storage *from,
                           socklen_t fromlen)
{
	if (!b->bulk)
		return NULL;
	for (unsigned i = 0; i < EMU_BULK_REGIONS; i++) {
		struct region *r = &b->bulk->r[i];
		if (r->used && r->id == id && r->fromlen == fromlen &&
		    memcmp(&r->from, from, fromlen) == 0) {
			r->used_at = ++b->bulk->clock;
			return r;
		}
	}
	return NULL;
}

/* A slot for a new region: a free one, else the least recently used. */
static struct region *slot(struct emu_board *b)
{
	struct region *best = &b->bulk->r[0];
	for (unsigned i = 0; i < EMU_BULK_REGIONS; i++) {
		struct region *r = &b->bulk->r[i];
		if (!r->used)
			return r;
		if (r->used_at < best->used_at)
			best = r;
	}
	region_free(best);
	return best;
}

/* The memory a region lives in, and the offset of its first byte there. */
static int region_mem(struct emu_board *b, uint16_t chip, uint8_t space, uint8_t pe, uint32_t addr,
                      uint32_t len, struct emu_mem **m, uint64_t *base)
{
	if (b->state != S2_BOARD_BOOTED)
		return S2_E_STATE;
	unsigned c = chip == S2_ADDR_ANY ? b->eth_chip : chip;
	if (c >= b->n_chips)
		return S2_E_RANGE;
	if (!((b->chips_alive >> c) & 1u))
		return S2_E_DEAD;
	struct emu_chip *ch = &b->chips[c];
	if (space == S2_MEM_DRAM) {
		if ((uint64_t)addr + len > ch->dram.size)
			return S2_E_RANGE;
		*m = &ch->dram;
		*base = addr;
		return 0;
	}
	if (pe >= ch->mon.cfg.pes || (uint64_t)addr + len > ch->mon.cfg.sram_per_pe)
		return S2_E_RANGE;
	if (!s2_bitmap_get(ch->mon.cfg.pe_alive, pe))
		return S2_E_DEAD;
	*m = &ch->sram;
	*base = (uint64_t)pe * ch->mon.cfg.sram_per_pe + addr;
	return 0;
}

static unsigned hops(struct emu_board *b, uint16_t chip)
{
	return b->chips[chip == S2_ADDR_ANY ? b->eth_chip : chip].hops;
}

static uint32_t block_len(const struct region *r, uint32_t i)
{
	uint32_t off = i * r->bs;
	return r->len - off < r->bs ? r->len - off : r->bs;
}

static void region_send(struct emu_board *b, struct region *r, uint8_t type, const uint8_t *body,
                        size_t len)
{
	struct s2_header h = {.type = type, .board = b->index, .chip = r->chip, .pe = r->pe};
	uint8_t dgram[S2_MAX_DATAGRAM];
	int n = s2_packet_encode(dgram, sizeof dgram, &h, body, len);
	if (n > 0)
		emu_net_send(b, r->fd, &r->from, r->fromlen, dgram, (size_t)n);
}

static int sack_body(const struct region *r, uint8_t *out, size_t cap)
{
	struct s2_msg_bulk_sack s = {.region = r->id, .cum = r->cum, .bad = r->bad};
	uint32_t span = r->hi > r->cum + 1 ? r->hi - r->cum - 1 : 0;
	if (span > 8u * S2_BULK_SACK_BITMAP_MAX)
		span = 8u * S2_BULK_SACK_BITMAP_MAX;
	s.bm_len = (uint16_t)((span + 7) / 8);
	for (uint32_t k = 0; k < span; k++)
		if (r->have[r->cum + 1 + k])
			s2_bitmap_set(s.bitmap, k, true);
	return s2_msg_bulk_sack_encode(out, cap, &s);
}

static void send_sack(struct emu_board *b, struct region *r)
{
	uint8_t body[S2_MAX_PAYLOAD];
	int n = sack_body(r, body, sizeof body);
	if (n > 0)
		region_send(b, r, S2_MSG_BULK_SACK, body, (size_t)n);
	r->since = 0;
}

/* --- data in ----------------------------------------------------------------------------- */

static void on_data(struct emu_board *b, struct region *r, const struct s2_msg_bulk_data *d)
{
	if (d->block >= r->n || d->raw_len != block_len(r, d->block)) {
		r->bad++;
		send_sack(b, r);
		return;
	}
	if (r->have[d->block])
		return; /* a duplicate; lost SACKs are recovered by the host's BULK_POLL */
	uint8_t raw[S2_BULK_BLOCK_MAX];
	const uint8_t *src = d->data;
	if (d->flags & S2_BULK_F_ZLIB) {
		uLongf rn = sizeof raw;
		if (uncompress(raw, &rn, d->data, d->len) != Z_OK || rn != d->raw_len) {
			r->bad++;
			send_sack(b, r);
			return;
		}
		src = raw;
	}
	if (s2_crc32(0, src, d->raw_len) != d->raw_crc) {
		r->bad++;
		send_sack(b, r);
		return;
	}
	struct emu_mem *m = NULL;
	uint64_t base = 0;
	if (region_mem(b, r->chip, r->space, r->pe, r->addr, r->len, &m, &base) < 0 ||
	    emu_mem_write(m, base + (uint64_t)d->block * r->bs, src, d->raw_len) < 0) {
		r->bad++;
		return;
	}
	b->st.mesh_hops += hops(b, r->chip);
	r->have[d->block] = 1;
	r->count++;
	r->since++;
	bool gap = d->block > r->hi;
	if (d->block + 1 > r->hi)
		r->hi = d->block + 1;
	while (r->cum < r->n && r->have[r->cum])
		r->cum++;
	if (gap || r->since >= SACK_EVERY || r->count == r->n)
		send_sack(b, r);
}

/* A new region from the last BULK_BEGIN / BULK_READ sender (replacing one of the same id). */
static struct region *open_region(struct emu_board *b, uint32_t id, const struct s2_header *h,
                                  uint8_t space, uint32_t addr, uint32_t len, uint16_t bs)
{
	struct emu_bulk *k = b->bulk;
	struct region *r = find(b, id, &k->last_from, k->last_fromlen);
	if (r)
		region_free(r);
	else
		r = slot(b);
	memset(r, 0, sizeof *r);
	r->used = true;
	r->used_at = ++k->clock;
	r->id = id;
	memcpy(&r->from, &k->last_from, k->last_fromlen);
	r->fromlen = k->last_fromlen;
	r->fd = k->last_fd;
	r->chip = h->chip;
	r->pe = h->pe;
	r->space = space;
	r->addr = addr;
	r->len = len;
	r->bs = bs;
	r->n = (len + bs - 1) / bs;
	r->have = calloc(r->n, 1);
	if (!r->have) {
		r->used = false;
		return NULL;
	}
	return r;
}

static int do_begin(struct emu_board *b, const struct s2_header *h, const uint8_t *p)
{
	struct s2_msg_bulk_begin m;
	int rc = s2_msg_bulk_begin_decode(p, h->payload_len, &m);
	struct emu_mem *mem = NULL;
	uint64_t base = 0;
	if (rc == 0)
		rc = region_mem(b, h->chip, m.space, h->pe, m.addr, m.len, &mem, &base);
	if (rc < 0)
		return rc;
	struct region *r = open_region(b, m.region, h, m.space, m.addr, m.len, m.block_size);
	if (!r)
		return S2_E_NOMEM;
	r->write = true;
	r->crc = m.crc;
	r->authed = b->req_auth;
	return 0;
}

static int do_end_write(struct emu_board *b, struct region *r, const uint8_t *hash)
{
	if (r->count != r->n)
		return S2_E_STATE;
	if (r->authed && !hash)
		return S2_E_AUTH; /* an authenticated region is checked by its hash */
	struct emu_mem *m = NULL;
	uint64_t base = 0;
	int rc = region_mem(b, r->chip, r->space, r->pe, r->addr, r->len, &m, &base);
	if (rc < 0)
		return rc;
	/* The chip computes the CRC of what its memory now holds or, for an authenticated region,
	 * its BLAKE2b-256 instead: blocks may have come from anyone who knew the region, so only
	 * the hash binds them to the session that opened it (and the CRC adds nothing to it). */
	uint8_t buf[4096];
	uint32_t crc = 0;
	struct s2_blake2b hs;
	(void)s2_blake2b_init(&hs, S2_AUTH_HASH_LEN, NULL, 0);
	for (uint32_t off = 0; off < r->len; off += sizeof buf) {
		uint32_t n = r->len - off < sizeof buf ? r->len - off : (uint32_t)sizeof buf;
		emu_mem_read(m, base + off, buf, n);
		if (hash)
			s2_blake2b_update(&hs, buf, n);
		else
			crc = s2_crc32(crc, buf, n);
	}
	if (!hash && crc != r->crc)
		return S2_E_CRC;
	if (hash) {
		uint8_t got[S2_AUTH_HASH_LEN];
		s2_blake2b_final(&hs, got);
		uint8_t d = 0;
		for (unsigned i = 0; i < S2_AUTH_HASH_LEN; i++)
			d |= (uint8_t)(got[i] ^ hash[i]);
		if (d)
			return S2_E_AUTH;
	}
	return 0;
}

/* --- data out ---------------------------------------------------------------------------- */

static void send_block(struct emu_board *b, struct region *r, uint32_t i)
{
	uint32_t n = block_len(r, i);
	const uint8_t *src = r->buf + (size_t)i * r->bs;
	uint8_t z[S2_BULK_BLOCK_MAX + 64], body[S2_MAX_PAYLOAD];
	struct s2_msg_bulk_data d = {.region = r->id,
	                             .block = i,
	                             .raw_len = (uint16_t)n,
	                             .raw_crc = s2_crc32(0, src, n),
	                             .data = src,
	                             .len = (uint16_t)n};
	if (r->zlib && !r->zs_ok)
		r->zs_ok = deflateInit(&r->zs, Z_BEST_SPEED) == Z_OK;
	if (r->zs_ok && (r->incompressible < 8 || i % 16 == 0) && deflateReset(&r->zs) == Z_OK) {
		r->zs.next_in = (Bytef *)(uintptr_t)src;
		r->zs.avail_in = n;
		r->zs.next_out = z;
		r->zs.avail_out = n;
		if (deflate(&r->zs, Z_FINISH) == Z_STREAM_END && r->zs.total_out < n) {
			d.flags = S2_BULK_F_ZLIB;
			d.data = z;
			d.len = (uint16_t)r->zs.total_out;
			r->incompressible = 0;
		} else {
			r->incompressible++;
		}
	}
	int blen = s2_msg_bulk_data_encode(body, sizeof body, &d);
	if (blen < 0)
		return;
	b->st.mesh_hops += hops(b, r->chip);
	if (r->serial[i] == 0)
		r->in_flight++;
	else
		r->resent[i] = 1;
	r->serial[i] = ++r->next_serial;
	region_send(b, r, S2_MSG_BULK_DATA, body, (size_t)blen);
}

static void pump_read(struct emu_board *b, struct region *r)
{
	while (r->next_new < r->n && r->in_flight < r->window)
		send_block(b, r, r->next_new++);
}

static void ack(struct region *r, uint32_t i, uint32_t *max_serial)
{
	if (r->have[i])
		return;
	r->have[i] = 1;
	r->count++;
	if (r->serial[i]) {
		r->in_flight--;
		if (!r->resent[i] && r->serial[i] > *max_serial) /* Karn */
			*max_serial = r->serial[i];
	}
}

/* The host's SACK of a read: forget what arrived, resend what is lost, send more. */
static void on_host_sack(struct emu_board *b, struct region *r, const struct s2_msg_bulk_sack *s)
{
	if (s->cum > r->n)
		return;
	uint32_t max_serial = 0;
	for (uint32_t i = r->cum; i < s->cum; i++)
		ack(r, i, &max_serial);
	if (s->cum > r->cum)
		r->cum = s->cum;
	uint32_t span = 8u * s->bm_len;
	for (uint32_t k = 0; k < span && s->cum + 1 + k < r->n; k++)
		if (s2_bitmap_get(s->bitmap, k))
			ack(r, s->cum + 1 + k, &max_serial);
	while (r->cum < r->n && r->have[r->cum])
		r->cum++;
	/* A timeout SACK (the host saw nothing for a while) resends the oldest unacknowledged
	 * blocks only, like a TCP retransmission timeout: RACK finds the rest once they arrive. */
	bool all = s->flags & S2_BULK_SACK_F_TIMEOUT;
	uint32_t end = r->cum + 1 + span < r->n ? r->cum + 1 + span : r->n;
	if (all)
		end = r->cum + SACK_EVERY < r->next_new ? r->cum + SACK_EVERY : r->next_new;
	/* RACK with a reordering allowance of a quarter of the blocks in flight (as the host). */
	uint32_t reo = r->in_flight / 4 > 3 ? r->in_flight / 4 : 3;
	uint32_t limit = all ? r->next_serial + 1 : (max_serial > reo ? max_serial - reo : 0);
	uint32_t resend[S2_BULK_WINDOW_MAX];
	unsigned nr = 0;
	for (uint32_t i = r->cum; i < end && nr < S2_BULK_WINDOW_MAX; i++)
		if (!r->have[i] && r->serial[i] && r->serial[i] < limit)
			resend[nr++] = i;
	for (unsigned i = 0; i < nr; i++)
		send_block(b, r, resend[i]);
	pump_read(b, r);
}

static int do_read(struct emu_board *b, const struct s2_header *h, const uint8_t *p, uint8_t *out,
                   size_t cap)
{
	struct s2_msg_bulk_read m;
	int rc = s2_msg_bulk_read_decode(p, h->payload_len, &m);
	struct emu_mem *mem = NULL;
	uint64_t base = 0;
	if (rc == 0)
		rc = region_mem(b, h->chip, m.space, h->pe, m.addr, m.len, &mem, &base);
	if (rc < 0)
		return rc;
	struct region *r = open_region(b, m.region, h, m.space, m.addr, m.len, m.block_size);
	if (!r)
		return S2_E_NOMEM;
	r->serial = calloc(r->n, sizeof *r->serial);
	r->resent = calloc(r->n, 1);
	r->buf = malloc(m.len);
	if (!r->serial || !r->resent || !r->buf) {
		region_free(r);
		r->used = false;
		return S2_E_NOMEM;
	}
	emu_mem_read(mem, base, r->buf, m.len);
	/* Authenticated, the hash below replaces the CRC: crc 0 (docs/security.md). */
	r->crc = b->req_auth ? 0 : s2_crc32(0, r->buf, m.len);
	r->window = m.window;
	r->zlib = m.flags & S2_BULK_F_ZLIB;
	struct s2_msg_bulk_read_rep rep = {
	        .region = r->id, .len = r->len, .crc = r->crc, .n_blocks = r->n};
	rc = s2_msg_bulk_read_rep_encode(out, cap, &rep);
	if (rc >= 0 && b->req_auth) {
		/* Authenticated: the region's BLAKE2b-256 too, so the host can tell the board's
		 * blocks from forged ones (docs/security.md). */
		if ((size_t)rc + S2_AUTH_HASH_LEN > cap)
			return S2_E_NOSPACE;
		(void)s2_blake2b(out + rc, S2_AUTH_HASH_LEN, NULL, 0, r->buf, m.len);
		rc += (int)S2_AUTH_HASH_LEN;
	}
	pump_read(b, r); /* the stream may overtake the reply: the host knows the geometry */
	return rc;
}

/* --- dispatch ---------------------------------------------------------------------------- */

bool emu_bulk_datagram(struct emu_board *b, int fd, const struct s2_header *h, const uint8_t *p,
                       const struct sockaddr_storage *from, socklen_t fromlen)
{
	switch (h->type) {
	case S2_MSG_BULK_BEGIN:
	case S2_MSG_BULK_READ:
	case S2_MSG_BULK_POLL:
	case S2_MSG_BULK_END:
		if (!b->bulk && !(b->bulk = calloc(1, sizeof *b->bulk)))
			return false;
		memcpy(&b->bulk->last_from, from, fromlen);
		b->bulk->last_fromlen = fromlen;
		b->bulk->last_fd = fd;
		return false;
	case S2_MSG_BULK_DATA: {
		struct s2_msg_bulk_data d;
		struct region *r;
		if (s2_msg_bulk_data_decode(p, h->payload_len, &d) < 0) {
			b->st.rx_bad++;
			return true;
		}
		r = find(b, d.region, from, fromlen);
		if (!r || !r->write || r->ended || r->chip != h->chip) {
			b->st.rx_bad++;
			return true;
		}
		on_data(b, r, &d);
		return true;
	}
	case S2_MSG_BULK_SACK: {
		struct s2_msg_bulk_sack s;
		struct region *r;
		if (s2_msg_bulk_sack_decode(p, h->payload_len, &s) < 0 ||
		    !(r = find(b, s.region, from, fromlen)) || r->write || r->ended) {
			b->st.rx_bad++;
			return true;
		}
		on_host_sack(b, r, &s);
		return true;
	}
	default:
		return false;
	}
}

int emu_bulk_request(struct emu_board *b, const struct s2_header *h, const uint8_t *p, uint8_t *out,
                     size_t cap)
{
	if (b->state != S2_BOARD_BOOTED)
		return S2_E_STATE;
	if (!b->bulk)
		return h->type == S2_MSG_BULK_BEGIN || h->type == S2_MSG_BULK_READ ? S2_E_NOMEM
		                                                                   : S2_E_NOTFOUND;
	if (h->type == S2_MSG_BULK_BEGIN)
		return do_begin(b, h, p);
	if (h->type == S2_MSG_BULK_READ)
		return do_read(b, h, p, out, cap);
	uint32_t id;
	const uint8_t *hash = NULL;
	int rc = h->type == S2_MSG_BULK_END ? s2_auth_bulk_end_decode(p, h->payload_len, &id, &hash)
	                                    : s2_msg_bulk_region_decode(p, h->payload_len, &id);
	if (rc < 0)
		return rc;
	/* Regions belong to the sender: the socket of the host's transport. */
	struct region *r = find(b, id, &b->bulk->last_from, b->bulk->last_fromlen);
	if (!r)
		return S2_E_NOTFOUND;
	if (h->type == S2_MSG_BULK_POLL) {
		if (!r->write || r->ended)
			return S2_E_STATE;
		return sack_body(r, out, cap);
	}
	/* BULK_END: the command and its answer travel to the chip and back. */
	if (r->ended)
		return r->result;
	b->st.mesh_hops += 2u * hops(b, r->chip);
	r->result = r->write ? do_end_write(b, r, hash) : 0;
	if (r->result == S2_E_STATE)
		return r->result; /* blocks missing: the region stays open */
	r->ended = true;
	region_free(r);
	return r->result;
}
