/*
 * What the engine's unit tests (tests/firmware/test_eng_*.c) share: the parts of a HAL that a
 * test has no use for (no synaptic rows in DRAM, packets and recordings dropped), and PE data
 * built through proto's own header writer (s2_pedata_header_encode) and a section table, so
 * that the layout of pedata.h is written in one place.
 */
#ifndef S2_TESTS_ENG_FAKE_H
#define S2_TESTS_ENG_FAKE_H

#include <stdint.h>
#include <string.h>

#include "s2/error.h"
#include "s2/pedata.h"
#include "s2/wire.h"

static inline int fake_dram_none(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx, (void)addr, (void)dst, (void)len;
	return S2_E_RANGE; /* no rows in these tests */
}

static inline int fake_dram_write_none(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx, (void)addr, (void)src, (void)len;
	return S2_E_RANGE;
}

static inline void fake_send_none(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx, (void)key, (void)payload;
}

static inline void fake_record_none(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx, (void)s, (void)d, (void)len;
}

static inline void fake_putf(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	s2_st32(p, u);
}

/* The header fields of every test blob: n neurons of model, dt 0.1 ms, keys from 0x100, weight
 * units 0.001 nA; the caller sets more before writing it with fake_header. */
static inline struct s2_pedata fake_pedata(uint16_t model, uint16_t n)
{
	return (struct s2_pedata){.model = model,
	                          .n_neurons = n,
	                          .dt_us = 100,
	                          .key_base = 0x100,
	                          .w_scale_e = 0.001f,
	                          .w_scale_i = 0.001f};
}

/* Write h as the header of blob b with n_sect sections; returns where the first section's
 * data may start (after the section table). */
static inline uint32_t fake_header(uint8_t *b, const struct s2_pedata *h, unsigned n_sect)
{
	s2_pedata_header_encode(b, h, n_sect);
	return S2_PEDATA_HDR_LEN + S2_PEDATA_SECT_LEN * n_sect;
}

/* Entry k of b's section table: type, at offset off of the blob, len bytes. */
static inline void fake_sect(uint8_t *b, unsigned k, uint16_t type, uint32_t off, uint32_t len)
{
	uint8_t *e = b + S2_PEDATA_HDR_LEN + S2_PEDATA_SECT_LEN * k;
	s2_st16(e, type);
	s2_st16(e + 2, 0);
	s2_st32(e + 4, off);
	s2_st32(e + 8, len);
}

#endif
