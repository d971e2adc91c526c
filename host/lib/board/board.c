/*
 * Board operations (board.h): each one is a set of requests on one conn whose completions
 * count down op->outstanding and record the first error. Multi-step operations (boot)
 * chain their next step from the completion of the previous one.
 */
#include "s2/board.h"

#include <stdbool.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"

#include "board_internal.h"

void s2_op_init(struct s2_op *op, void (*progress)(void *arg), void *arg)
{
	memset(op, 0, sizeof *op);
	op->progress = progress;
	op->progress_arg = arg;
}

__attribute__((format(printf, 3, 4))) static void op_fail(struct s2_op *op, int status,
                                                          const char *fmt, ...)
{
	if (op->status != 0)
		return;
	op->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->what, sizeof op->what, fmt, ap);
	va_end(ap);
}

static void op_advance(struct s2_op *op, uint64_t n)
{
	op->done += n;
	if (op->progress)
		op->progress(op->progress_arg);
}

int s2_op_wait(struct s2_client *c, struct s2_op *op)
{
	int rc = s2_client_wait(c);
	if (rc < 0 && op->status == 0)
		op->status = rc;
	return op->status;
}

/* --- boot --------------------------------------------------------------------------------- */

struct boot {
	struct s2_op *op;
	struct s2_conn *conn;
	const uint8_t *image;
	size_t len;
	uint16_t block_size;
	uint32_t blocks, acked;
	struct s2_msg_board_status *out;
};

/* Per-request context: the boot and which block. */
struct boot_req {
	struct boot *b;
	uint32_t block;
};

static void boot_end_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                        size_t len)
{
	(void)h;
	struct boot *b = arg;
	b->op->outstanding--;
	if (status < 0) {
		op_fail(b->op, status, "BOOT_END");
	} else {
		struct s2_msg_board_status st;
		int rc = s2_msg_board_status_decode(p, len, &st);
		if (rc < 0)
			op_fail(b->op, rc, "BOOT_END reply");
		else if (b->out)
			*b->out = st;
	}
	free(b);
}

static void boot_data_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                         size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct boot_req *r = arg;
	struct boot *b = r->b;
	b->op->outstanding--;
	if (status < 0)
		op_fail(b->op, status, "BOOT_DATA block %u", r->block);
	else
		op_advance(b->op, r->block + 1 == b->blocks
		                          ? b->len - (size_t)r->block * b->block_size
		                          : b->block_size);
	free(r);
	if (++b->acked < b->blocks)
		return;
	if (b->op->status < 0) {
		free(b);
		return;
	}
	b->op->outstanding++;
	if (s2_conn_request(b->conn, S2_MSG_BOOT_END, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0,
	                    boot_end_cb, b) < 0) {
		b->op->outstanding--;
		op_fail(b->op, S2_E_NOMEM, "BOOT_END");
		free(b);
	}
}

static void boot_start_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p,
                          size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct boot *b = arg;
	b->op->outstanding--;
	if (status < 0) {
		op_fail(b->op, status, "BOOT_START");
		free(b);
		return;
	}
	uint8_t body[4 + S2_BOOT_BLOCK_MAX];
	for (uint32_t i = 0; i < b->blocks; i++) {
		size_t off = (size_t)i * b->block_size;
		size_t n = b->len - off < b->block_size ? b->len - off : b->block_size;
		struct s2_msg_boot_data d = {
		        .block = i, .data = b->image + off, .len = (uint16_t)n};
		int blen = s2_msg_boot_data_encode(body, sizeof body, &d);
		struct boot_req *r = malloc(sizeof *r);
		if (!r || blen < 0 ||
		    s2_conn_request(b->conn, S2_MSG_BOOT_DATA, S2_ADDR_ANY, S2_PE_MONITOR, body,
		                    (size_t)blen, boot_data_cb, r) < 0) {
			free(r);
			op_fail(b->op, S2_E_NOMEM, "BOOT_DATA block %u", i);
			b->acked += b->blocks - i; /* those are never sent */
			if (b->acked == b->blocks) /* none in flight either */
				free(b);
			return;
		}
		r->b = b;
		r->block = i;
		b->op->outstanding++;
	}
}

int s2_boot_start(struct s2_conn *conn, const uint8_t *image, size_t len, uint16_t block_size,
                  struct s2_op *op, struct s2_msg_board_status *status_out)
{
	if (len == 0 || block_size == 0 || block_size > S2_BOOT_BLOCK_MAX)
		return S2_E_RANGE;
	struct boot *b = calloc(1, sizeof *b);
	if (!b)
		return S2_E_NOMEM;
	b->op = op;
	b->conn = conn;
	b->image = image;
	b->len = len;
	b->block_size = block_size;
	b->blocks = (uint32_t)((len + block_size - 1) / block_size);
	b->out = status_out;
	op->total += len;
	struct s2_msg_boot_start s = {.image_len = (uint32_t)len,
	                              .image_crc = s2_crc32(0, image, len),
	                              .block_size = block_size};
	uint8_t body[16];
	int n = s2_msg_boot_start_encode(body, sizeof body, &s);
	op->outstanding++;
	int rc = s2_conn_request(conn, S2_MSG_BOOT_START, S2_ADDR_ANY, S2_PE_MONITOR, body,
	                         (size_t)n, boot_start_cb, b);
	if (rc < 0) {
		op->outstanding--;
		free(b);
	}
	return rc;
}

/* --- memory ------------------------------------------------------------------------------ */

struct mem_req {
	struct s2_op *op;
	uint8_t *dst; /* reads: where the reply goes */
	uint16_t len;
	uint32_t addr;
};

static void mem_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct mem_req *r = arg;
	r->op->outstanding--;
	if (status < 0) {
		op_fail(r->op, status, "memory at 0x%08x", r->addr);
	} else if (r->dst) {
		if (len != r->len)
			op_fail(r->op, S2_E_LENGTH, "MEM_READ reply at 0x%08x", r->addr);
		else
			memcpy(r->dst, p, len);
	}
	if (status >= 0)
		op_advance(r->op, r->len);
	free(r);
}

static int mem_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space, uint32_t addr,
                     const uint8_t *src, uint8_t *dst, size_t len, struct s2_op *op)
{
	if ((uint64_t)addr + len > 0x100000000ull)
		return S2_E_RANGE;
	op->total += len;
	for (size_t off = 0; off < len; off += S2_MEM_XFER_MAX) {
		uint16_t n = (uint16_t)(len - off < S2_MEM_XFER_MAX ? len - off : S2_MEM_XFER_MAX);
		struct mem_req *r = malloc(sizeof *r);
		if (!r)
			return S2_E_NOMEM;
		*r = (struct mem_req){.op = op,
		                      .dst = dst ? dst + off : NULL,
		                      .len = n,
		                      .addr = addr + (uint32_t)off};
		uint8_t body[16 + S2_MEM_XFER_MAX];
		int blen;
		if (src) {
			struct s2_msg_mem_write w = {
			        .space = space, .addr = r->addr, .data = src + off, .len = n};
			blen = s2_msg_mem_write_encode(body, sizeof body, &w);
		} else {
			struct s2_msg_mem_read q = {.space = space, .addr = r->addr, .len = n};
			blen = s2_msg_mem_read_encode(body, sizeof body, &q);
		}
		int rc = blen < 0 ? blen
		                  : s2_conn_request(conn, src ? S2_MSG_MEM_WRITE : S2_MSG_MEM_READ,
		                                    chip, pe, body, (size_t)blen, mem_cb, r);
		if (rc < 0) {
			free(r);
			return rc;
		}
		op->outstanding++;
	}
	return 0;
}

int s2_mem_write_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                       uint32_t addr, const void *data, size_t len, struct s2_op *op)
{
	return mem_start(conn, chip, pe, space, addr, data, NULL, len, op);
}

int s2_mem_read_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space, uint32_t addr,
                      void *out, size_t len, struct s2_op *op)
{
	return mem_start(conn, chip, pe, space, addr, NULL, out, len, op);
}

/* --- requests decoded into the caller's memory (board_internal.h) ------------------------ */

struct req {
	struct s2_op *op;
	struct s2_req_spec s; /* body and len are not used after sending */
};

static void req_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct req *r = arg;
	const struct s2_req_spec *s = &r->s;
	r->op->outstanding--;
	bool reply = false; /* a failure in the reply itself, not in its delivery */
	if (status >= 0) {
		reply = true;
		if (s->decode) {
			status = s->decode(p, len, s->out, s->chip);
		} else if (len > s->cap) {
			status = S2_E_LENGTH;
		} else {
			if (len)
				memcpy(s->out, p, len);
			if (s->out_len)
				*s->out_len = len;
		}
	}
	if (s->status)
		*s->status = status;
	if (status < 0 && status != s->answer) {
		if (s->per_chip)
			op_fail(r->op, status, "%s of chip %u", s2_msg_name(s->type), s->chip);
		else
			op_fail(r->op, status, "%s%s", s2_msg_name(s->type), reply ? " reply" : "");
	}
	if (s->counted && (status >= 0 || s->per_chip))
		op_advance(r->op, 1);
	free(r);
}

int s2_req_start(struct s2_conn *conn, const struct s2_req_spec *s, struct s2_op *op)
{
	struct req *r = malloc(sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	*r = (struct req){.op = op, .s = *s};
	r->s.body = NULL;
	int rc = s2_conn_request(conn, s->type, s->chip, s->pe, s->body, s->len, req_cb, r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	op->outstanding++;
	if (s->counted)
		op->total++;
	return 0;
}

/* --- survey, scrub and simple requests --------------------------------------------------- */

/* s: one request per chip in the mask, its reply to out_base + c * out_size. */
static int per_chip_start(struct s2_conn *conn, uint64_t chips, struct s2_req_spec s,
                          void *out_base, size_t out_size, int *chip_status, struct s2_op *op)
{
	s.per_chip = s.counted = true;
	for (unsigned c = 0; c < 64; c++) {
		if (!((chips >> c) & 1u))
			continue;
		s.chip = (uint16_t)c;
		s.out = (uint8_t *)out_base + c * out_size;
		s.status = &chip_status[c];
		int rc = s2_req_start(conn, &s, op);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int chip_info_decode(const uint8_t *p, size_t len, void *out, uint16_t chip)
{
	struct s2_msg_chip_info *info = out;
	int rc = s2_msg_chip_info_decode(p, len, info);
	return rc == 0 && info->chip != chip ? S2_E_FORMAT : rc;
}

int s2_survey_start(struct s2_conn *conn, uint64_t chips, struct s2_msg_chip_info *info,
                    int *chip_status, struct s2_op *op)
{
	/* A dead chip is an answer, not a failure of the survey; no answer at all is. */
	struct s2_req_spec s = {.type = S2_MSG_CHIP_INFO,
	                        .pe = S2_PE_MONITOR,
	                        .decode = chip_info_decode,
	                        .answer = S2_E_DEAD};
	return per_chip_start(conn, chips, s, info, sizeof *info, chip_status, op);
}

static int scrub_decode(const uint8_t *p, size_t len, void *out, uint16_t chip)
{
	(void)chip;
	return s2_msg_scrub_rep_decode(p, len, out);
}

int s2_scrub_start(struct s2_conn *conn, uint64_t chips, uint8_t scrub_op,
                   struct s2_msg_scrub_rep *rep, int *chip_status, struct s2_op *op)
{
	uint8_t body[4];
	struct s2_msg_scrub_req q = {.op = scrub_op};
	int n = s2_msg_scrub_req_encode(body, sizeof body, &q);
	if (n < 0)
		return n;
	struct s2_req_spec s = {.type = S2_MSG_SCRUB,
	                        .pe = S2_PE_MONITOR,
	                        .body = body,
	                        .len = (size_t)n,
	                        .decode = scrub_decode};
	return per_chip_start(conn, chips, s, rep, sizeof *rep, chip_status, op);
}

int s2_simple_start(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                    size_t len, void *reply, size_t cap, size_t *reply_len, struct s2_op *op)
{
	struct s2_req_spec s = {.type = type,
	                        .chip = chip,
	                        .pe = pe,
	                        .body = body,
	                        .len = len,
	                        .out = reply,
	                        .cap = cap,
	                        .out_len = reply_len,
	                        .counted = true};
	return s2_req_start(conn, &s, op);
}
