/**
 * @file wire.h
 * @brief Little-endian load/store and bounds-checked cursors (docs/protocol.md section 1).
 *
 * Every s2 wire format is fixed-width little-endian, encoded with shifts and masks (never
 * C bitfields or struct overlays), so the bytes are the same on x86-64 hosts, the emulator
 * and Cortex-M4F firmware. The cursors are what every message codec is written with: a
 * reader never reads past its end, a writer never writes past its end, and the first
 * failure sticks so a codec can check once at the end.
 */
#ifndef S2_WIRE_H
#define S2_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "s2/error.h"

static inline uint16_t s2_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t s2_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t s2_ld64(const uint8_t *p)
{
	return (uint64_t)s2_ld32(p) | (uint64_t)s2_ld32(p + 4) << 32;
}

static inline void s2_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void s2_st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void s2_st64(uint8_t *p, uint64_t v)
{
	s2_st32(p, (uint32_t)v);
	s2_st32(p + 4, (uint32_t)(v >> 32));
}

/** Read cursor over untrusted bytes. Trusts nothing but buf[0..len). */
struct s2_rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err; /**< 0, or the first error (S2_E_SHORT when a read ran past the end) */
};

/** Write cursor into a caller-owned buffer of cap bytes. */
struct s2_wr {
	uint8_t *buf;
	size_t cap;
	size_t pos;
	int err; /**< 0, or the first error (S2_E_NOSPACE when a write did not fit) */
};

static inline void s2_rd_init(struct s2_rd *r, const void *buf, size_t len)
{
	r->buf = (const uint8_t *)buf;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

static inline size_t s2_rd_left(const struct s2_rd *r)
{
	return r->err ? 0 : r->len - r->pos;
}

/**
 * Claim n bytes. Returns a pointer to them, or NULL (and sets S2_E_SHORT) if fewer than n
 * remain or an earlier read failed.
 */
static inline const uint8_t *s2_rd_take(struct s2_rd *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		r->err = S2_E_SHORT;
		return NULL;
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static inline uint8_t s2_rd_u8(struct s2_rd *r)
{
	const uint8_t *p = s2_rd_take(r, 1);
	return p ? p[0] : 0;
}

static inline uint16_t s2_rd_u16(struct s2_rd *r)
{
	const uint8_t *p = s2_rd_take(r, 2);
	return p ? s2_ld16(p) : 0;
}

static inline uint32_t s2_rd_u32(struct s2_rd *r)
{
	const uint8_t *p = s2_rd_take(r, 4);
	return p ? s2_ld32(p) : 0;
}

static inline uint64_t s2_rd_u64(struct s2_rd *r)
{
	const uint8_t *p = s2_rd_take(r, 8);
	return p ? s2_ld64(p) : 0;
}

/** Copy n bytes out; on failure dst is zeroed. */
static inline void s2_rd_bytes(struct s2_rd *r, void *dst, size_t n)
{
	const uint8_t *p = s2_rd_take(r, n);
	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

/** Record a decoding error found by the codec itself (first one wins). */
static inline void s2_rd_fail(struct s2_rd *r, int err)
{
	if (!r->err)
		r->err = err;
}

/**
 * Finish a decode that must consume everything: returns the sticky error, or S2_E_LENGTH
 * if bytes are left over.
 */
static inline int s2_rd_end(const struct s2_rd *r)
{
	if (r->err)
		return r->err;
	return r->pos == r->len ? 0 : S2_E_LENGTH;
}

static inline void s2_wr_init(struct s2_wr *w, void *buf, size_t cap)
{
	w->buf = (uint8_t *)buf;
	w->cap = cap;
	w->pos = 0;
	w->err = 0;
}

/** Claim n bytes of output space, or NULL (and S2_E_NOSPACE) if they do not fit. */
static inline uint8_t *s2_wr_take(struct s2_wr *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > w->cap - w->pos) {
		w->err = S2_E_NOSPACE;
		return NULL;
	}
	uint8_t *p = w->buf + w->pos;
	w->pos += n;
	return p;
}

static inline void s2_wr_u8(struct s2_wr *w, uint8_t v)
{
	uint8_t *p = s2_wr_take(w, 1);
	if (p)
		p[0] = v;
}

static inline void s2_wr_u16(struct s2_wr *w, uint16_t v)
{
	uint8_t *p = s2_wr_take(w, 2);
	if (p)
		s2_st16(p, v);
}

static inline void s2_wr_u32(struct s2_wr *w, uint32_t v)
{
	uint8_t *p = s2_wr_take(w, 4);
	if (p)
		s2_st32(p, v);
}

static inline void s2_wr_u64(struct s2_wr *w, uint64_t v)
{
	uint8_t *p = s2_wr_take(w, 8);
	if (p)
		s2_st64(p, v);
}

static inline void s2_wr_bytes(struct s2_wr *w, const void *src, size_t n)
{
	uint8_t *p = s2_wr_take(w, n);
	if (p && n)
		memcpy(p, src, n);
}

#endif
