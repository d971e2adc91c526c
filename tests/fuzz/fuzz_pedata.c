/*
 * Fuzz target for PE data blobs: the decoder (pedata.h) and the engine's start-up on them
 * (explicit rows, expansion descriptors), then a few timesteps and packets. Nothing may read
 * or write out of bounds; DMA outside the PE's DRAM area must be refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "s2/pedata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRAM (1u << 20)
static uint8_t dram[DRAM];
static struct s2_eng eng;
static const uint32_t pl = 100; /* an event value (Q0.7) */

static int rd(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx;
	if (addr > DRAM || len > DRAM - addr)
		return -8;
	memcpy(dst, dram + addr, len);
	return 0;
}

static int wr(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx;
	if (addr > DRAM || len > DRAM - addr)
		return -8;
	memcpy(dram + addr, src, len);
	return 0;
}

static void snd(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	(void)key;
	(void)payload;
}

static void rec(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx;
	(void)s;
	(void)d;
	(void)len;
}

/* Bound the work of an input: expansion scans up to total x neurons per descriptor. */
static int too_slow(const uint8_t *data, size_t size)
{
	struct s2_pedata pd;
	if (s2_pedata_decode(data, size, &pd) < 0)
		return 0;
	double work = 0;
	for (unsigned i = 0; i < s2_pedata_n_expand(&pd); i++) {
		struct s2_pe_expand x;
		if (s2_pedata_expand_decode(&pd, i, &x) < 0)
			return 0;
		work += (double)x.n_pre * pd.n_neurons + (double)x.n +
		        (double)(x.pre_total + x.post_total) * (x.n_pre + pd.n_neurons);
	}
	return work > 5e6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The engine keeps pointers into the blob: give it an exact-size copy. */
	uint8_t *blob = malloc(size ? size : 1);
	if (!blob)
		return 0;
	memcpy(blob, data, size);
	if (!too_slow(blob, size)) {
		const struct s2_eng_hal hal = {NULL, rd, wr, snd, rec, NULL};
		if (s2_eng_init(&eng, blob, size, &hal) == 0) {
			for (unsigned t = 0; t < 8; t++) {
				s2_eng_tick(&eng);
				for (unsigned k = 0; k < eng.n_table; k++)
					s2_eng_receive(&eng, eng.table[k].key_lo + (t % 3),
					               (t & 4) ? &pl : NULL);
				s2_eng_receive(&eng, 0xFFFFFFFFu, NULL);
			}
		}
	}
	free(blob);
	return 0;
}
