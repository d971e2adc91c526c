/*
 * Writing board flash (flash.h). One flash is a chain of steps on the board controller's
 * conn: STATUS -> BEGIN -> all DATA -> all READ (compare) -> COMMIT -> STATUS.
 */
#include "s2/flash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/packet.h"

#define DATA_HDR 12u                         /* FLASH_DATA fields before the data */
#define DATA_MAX (S2_MAX_PAYLOAD - DATA_HDR) /* most data bytes in one FLASH_DATA */
#define CHUNK 16384u                         /* raw bytes tried per compressed block */

struct block {
	uint32_t offset, crc;
	uint16_t raw_len, len;
	uint8_t flags;
	uint8_t *data; /* compressed bytes, or NULL: stored (the image's own bytes) */
};

struct s2_flash_plan {
	const uint8_t *image;
	size_t len;
	uint32_t crc;
	struct s2_flashimg fi;
	struct block *blocks;
	size_t n, cap, wire;
};

const char *s2_flash_state_name(unsigned state)
{
	static const char *const names[] = {"empty", "writing", "valid", "trying", "good", "bad"};
	return state < sizeof names / sizeof names[0] ? names[state] : "?";
}

static int add_block(struct s2_flash_plan *p, struct block b)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct block *nb = realloc(p->blocks, cap * sizeof *nb);
		if (!nb)
			return S2_E_NOMEM;
		p->blocks = nb;
		p->cap = cap;
	}
	p->blocks[p->n++] = b;
	p->wire += DATA_HDR + b.len;
	return 0;
}

/* Stored blocks for image[off, off + n). */
static int add_stored(struct s2_flash_plan *p, size_t off, size_t n)
{
	for (size_t o = off; o < off + n; o += DATA_MAX) {
		size_t k = off + n - o < DATA_MAX ? off + n - o : DATA_MAX;
		struct block b = {.offset = (uint32_t)o,
		                  .crc = s2_crc32(0, p->image + o, k),
		                  .raw_len = (uint16_t)k,
		                  .len = (uint16_t)k};
		int rc = add_block(p, b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Cover image[off, off + n) with blocks: compressed where it fits one datagram and saves
 * at least a tenth, else smaller compressed pieces, else stored. */
static int plan_range(struct s2_flash_plan *p, size_t off, size_t n)
{
	static uint8_t z[CHUNK + CHUNK / 8 + 64];
	uLongf zl = sizeof z;
	if (compress2(z, &zl, p->image + off, n, 6) != Z_OK)
		return S2_E_NOMEM;
	if (zl > n - n / 10)
		return add_stored(p, off, n); /* does not compress */
	if (zl <= DATA_MAX) {
		struct block b = {.offset = (uint32_t)off,
		                  .crc = s2_crc32(0, p->image + off, n),
		                  .raw_len = (uint16_t)n,
		                  .len = (uint16_t)zl,
		                  .flags = S2_FLASH_F_ZLIB,
		                  .data = malloc(zl)};
		if (!b.data)
			return S2_E_NOMEM;
		memcpy(b.data, z, zl);
		int rc = add_block(p, b);
		if (rc < 0)
			free(b.data);
		return rc;
	}
	/* Compresses, but not into one datagram: halves. */
	int rc = plan_range(p, off, n / 2);
	return rc < 0 ? rc : plan_range(p, off + n / 2, n - n / 2);
}

struct s2_flash_plan *s2_flash_plan_new(const uint8_t *image, size_t len, int *err)
{
	struct s2_flash_plan *p = calloc(1, sizeof *p);
	if (!p) {
		*err = S2_E_NOMEM;
		return NULL;
	}
	p->image = image;
	p->len = len;
	*err = s2_flashimg_decode(image, len, &p->fi);
	if (*err < 0)
		goto fail;
	p->crc = s2_crc32(0, image, len);
	for (size_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		if ((*err = plan_range(p, off, n)) < 0)
			goto fail;
	}
	return p;
fail:
	s2_flash_plan_free(p);
	return NULL;
}

void s2_flash_plan_free(struct s2_flash_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->blocks[i].data);
	free(p->blocks);
	free(p);
}

const struct s2_flashimg *s2_flash_plan_image(const struct s2_flash_plan *p)
{
	return &p->fi;
}

size_t s2_flash_plan_blocks(const struct s2_flash_plan *p)
{
	return p->n;
}

size_t s2_flash_plan_wire_bytes(const struct s2_flash_plan *p)
{
	return p->wire;
}

/* --- one board ----------------------------------------------------------------------------- */

struct flash {
	struct s2_conn *conn;
	const struct s2_flash_plan *plan;
	struct s2_op *op;
	struct s2_flash_result *out;
	size_t acked, reads;
	uint8_t slot;
};

struct flash_req {
	struct flash *f;
	size_t index; /* block, or read offset */
};

__attribute__((format(printf, 3, 4))) static void fail(struct flash *f, int status, const char *fmt,
                                                       ...)
{
	if (f->op->status != 0)
		return;
	f->op->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->op->what, sizeof f->op->what, fmt, ap);
	va_end(ap);
}

static void advance(struct flash *f, uint64_t n)
{
	f->op->done += n;
	if (f->op->progress)
		f->op->progress(f->op->progress_arg);
}

/* Send one request of the chain; on failure the flash ends here. */
static bool send(struct flash *f, uint8_t type, const void *body, size_t len, s2_reply_cb cb,
                 void *arg, const char *what)
{
	f->op->outstanding++;
	if (s2_conn_request(f->conn, type, S2_ADDR_ANY, S2_PE_MONITOR, body, len, cb, arg) < 0) {
		f->op->outstanding--;
		fail(f, S2_E_NOMEM, "%s", what);
		return false;
	}
	return true;
}

static void end(struct flash *f)
{
	free(f);
}

static void status_after_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                            size_t len)
{
	(void)h;
	struct flash *f = arg;
	f->op->outstanding--;
	int rc = status < 0 ? status : s2_msg_flash_status_decode(p, len, &f->out->after);
	if (rc < 0)
		fail(f, rc, "FLASH_STATUS after commit");
	end(f);
}

static void commit_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                      size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct flash *f = arg;
	f->op->outstanding--;
	if (status < 0) {
		fail(f, status, "FLASH_COMMIT of slot %u", f->slot);
		end(f);
		return;
	}
	if (!send(f, S2_MSG_FLASH_STATUS, NULL, 0, status_after_cb, f, "FLASH_STATUS"))
		end(f);
}

static void read_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct flash_req *r = arg;
	struct flash *f = r->f;
	const struct s2_flash_plan *plan = f->plan;
	size_t off = r->index,
	       want = plan->len - off < S2_FLASH_READ_MAX ? plan->len - off : S2_FLASH_READ_MAX;
	free(r);
	f->op->outstanding--;
	if (status < 0)
		fail(f, status, "FLASH_READ at offset %zu", off);
	else if (len != want || memcmp(p, plan->image + off, want) != 0)
		fail(f, S2_E_CRC, "read-back at offset %zu differs from the image", off);
	else
		advance(f, want);
	if (++f->acked < f->reads)
		return;
	if (f->op->status < 0) {
		end(f);
		return;
	}
	uint8_t body[16];
	struct s2_msg_flash_commit c = {
	        .slot = f->slot, .length = (uint32_t)plan->len, .crc = plan->crc};
	int n = s2_msg_flash_commit_encode(body, sizeof body, &c);
	if (n < 0 || !send(f, S2_MSG_FLASH_COMMIT, body, (size_t)n, commit_cb, f, "FLASH_COMMIT"))
		end(f);
}

static void start_reads(struct flash *f)
{
	f->acked = 0;
	f->reads = (f->plan->len + S2_FLASH_READ_MAX - 1) / S2_FLASH_READ_MAX;
	for (size_t off = 0; off < f->plan->len; off += S2_FLASH_READ_MAX) {
		uint8_t body[16];
		size_t k = f->plan->len - off < S2_FLASH_READ_MAX ? f->plan->len - off
		                                                  : S2_FLASH_READ_MAX;
		struct s2_msg_flash_read m = {
		        .slot = f->slot, .offset = (uint32_t)off, .len = (uint16_t)k};
		int n = s2_msg_flash_read_encode(body, sizeof body, &m);
		struct flash_req *r = malloc(sizeof *r);
		if (r)
			*r = (struct flash_req){f, off};
		if (!r || n < 0 ||
		    !send(f, S2_MSG_FLASH_READ, body, (size_t)n, read_cb, r, "FLASH_READ")) {
			free(r);
			fail(f, S2_E_NOMEM, "FLASH_READ");
			/* Requests already sent complete and count down; the last one ends f. */
			f->reads = (off / S2_FLASH_READ_MAX);
			if (f->acked == f->reads)
				end(f);
			return;
		}
	}
}

static void data_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct flash_req *r = arg;
	struct flash *f = r->f;
	const struct block *b = &f->plan->blocks[r->index];
	free(r);
	f->op->outstanding--;
	if (status < 0)
		fail(f, status, "FLASH_DATA at offset %u", b->offset);
	else
		advance(f, b->raw_len);
	if (++f->acked < f->plan->n)
		return;
	if (f->op->status < 0)
		end(f);
	else
		start_reads(f);
}

static void begin_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct flash *f = arg;
	const struct s2_flash_plan *plan = f->plan;
	f->op->outstanding--;
	if (status < 0) {
		fail(f, status, "FLASH_BEGIN of slot %u", f->slot);
		end(f);
		return;
	}
	f->acked = 0;
	static uint8_t body[S2_MAX_PAYLOAD];
	for (size_t i = 0; i < plan->n; i++) {
		const struct block *b = &plan->blocks[i];
		struct s2_msg_flash_data d = {.slot = f->slot,
		                              .flags = b->flags,
		                              .raw_len = b->raw_len,
		                              .offset = b->offset,
		                              .raw_crc = b->crc,
		                              .data = b->data ? b->data : plan->image + b->offset,
		                              .len = b->len};
		int n = s2_msg_flash_data_encode(body, sizeof body, &d);
		struct flash_req *r = malloc(sizeof *r);
		if (r)
			*r = (struct flash_req){f, i};
		if (!r || n < 0 ||
		    !send(f, S2_MSG_FLASH_DATA, body, (size_t)n, data_cb, r, "FLASH_DATA")) {
			free(r);
			fail(f, n < 0 ? n : S2_E_NOMEM, "FLASH_DATA block %zu", i);
			/* Blocks not sent count as done so the chain still ends. */
			f->acked += plan->n - i;
			if (f->acked == plan->n)
				end(f);
			return;
		}
	}
}

static void status_before_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                             size_t len)
{
	(void)h;
	struct flash *f = arg;
	const struct s2_flash_plan *plan = f->plan;
	struct s2_msg_flash_status *st = &f->out->before;
	f->op->outstanding--;
	int rc = status < 0 ? status : s2_msg_flash_status_decode(p, len, st);
	if (rc < 0) {
		fail(f, rc, "FLASH_STATUS");
		end(f);
		return;
	}
	if (st->board_type != plan->fi.board_type) {
		fail(f, S2_E_FORMAT, "image is for board type %u, the board is type %u",
		     plan->fi.board_type, st->board_type);
		end(f);
		return;
	}
	if (plan->len > st->slot_size) {
		fail(f, S2_E_RANGE, "image of %zu bytes does not fit a %u-byte slot", plan->len,
		     st->slot_size);
		end(f);
		return;
	}
	/* Write the slot the board does not run; if it runs none, the one that is not the
	 * newest bootable image, so that image stays as the fallback. */
	int keep = st->booted_slot != S2_FLASH_NO_SLOT ? st->booted_slot : -1;
	for (unsigned s = 0; keep < 0 && s < S2_FLASH_SLOTS; s++) {
		unsigned o = 1 - s;
		uint8_t a = st->slot[s].state;
		bool ok = a == S2_FLASH_VALID || a == S2_FLASH_GOOD || a == S2_FLASH_TRYING;
		uint8_t b = st->slot[o].state;
		bool ok_o = b == S2_FLASH_VALID || b == S2_FLASH_GOOD || b == S2_FLASH_TRYING;
		if (ok && (!ok_o || st->slot[s].seq > st->slot[o].seq))
			keep = (int)s;
	}
	f->slot = keep == 0 ? 1 : 0;
	f->out->slot = f->slot;
	uint8_t body[64];
	struct s2_msg_flash_begin m = {
	        .slot = f->slot, .length = (uint32_t)plan->len, .crc = plan->crc};
	snprintf(m.version, sizeof m.version, "%s", plan->fi.version);
	int n = s2_msg_flash_begin_encode(body, sizeof body, &m);
	if (n < 0 || !send(f, S2_MSG_FLASH_BEGIN, body, (size_t)n, begin_cb, f, "FLASH_BEGIN"))
		end(f);
}

int s2_flash_start(struct s2_conn *bmp, const struct s2_flash_plan *plan, struct s2_op *op,
                   struct s2_flash_result *out)
{
	struct flash *f = calloc(1, sizeof *f);
	if (!f)
		return S2_E_NOMEM;
	*f = (struct flash){.conn = bmp, .plan = plan, .op = op, .out = out};
	memset(out, 0, sizeof *out);
	op->total = 2u * plan->len;
	if (!send(f, S2_MSG_FLASH_STATUS, NULL, 0, status_before_cb, f, "FLASH_STATUS")) {
		free(f);
		return S2_E_NOMEM;
	}
	return 0;
}

struct status_req {
	struct s2_op *op;
	struct s2_msg_flash_status *st;
};

static void status_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                      size_t len)
{
	(void)h;
	struct status_req *r = arg;
	r->op->outstanding--;
	int rc = status < 0 ? status : s2_msg_flash_status_decode(p, len, r->st);
	if (rc < 0 && r->op->status == 0) {
		r->op->status = rc;
		snprintf(r->op->what, sizeof r->op->what, "FLASH_STATUS");
	}
	free(r);
}

int s2_flash_status_start(struct s2_conn *bmp, struct s2_msg_flash_status *st, struct s2_op *op)
{
	struct status_req *r = malloc(sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	*r = (struct status_req){op, st};
	op->outstanding++;
	int rc = s2_conn_request(bmp, S2_MSG_FLASH_STATUS, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0,
	                         status_cb, r);
	if (rc < 0) {
		op->outstanding--;
		free(r);
	}
	return rc;
}
