/* Sparse, page-on-write memory for emulated DRAM and SRAM (emu_mem.h). */
#include "emu_mem.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"

#define L2_ENTRIES (1u << EMU_L2_BITS)

typedef _Atomic(void *) slot;

void emu_mem_init(struct emu_mem *m, uint64_t size)
{
	memset(m, 0, sizeof *m);
	m->size = size;
	uint64_t pages = (size + EMU_PAGE_SIZE - 1) >> EMU_PAGE_BITS;
	m->n_top = (uint32_t)((pages + L2_ENTRIES - 1) / L2_ENTRIES);
}

static void *get(slot *s)
{
	return atomic_load_explicit(s, memory_order_acquire);
}

void emu_mem_clear(struct emu_mem *m)
{
	slot *dir = get(&m->dir);
	if (dir) {
		for (uint32_t t = 0; t < m->n_top; t++) {
			slot *l2 = get(&dir[t]);
			if (!l2)
				continue;
			for (uint32_t i = 0; i < L2_ENTRIES; i++)
				free(get(&l2[i]));
			free(l2);
		}
		free(dir);
	}
	emu_mem_init(m, m->size);
}

/* The block in *s, or a new zeroed one of n bytes put there (unless another thread's won). */
static void *get_or_make(slot *s, size_t n, bool *made)
{
	void *p = get(s);
	if (p)
		return p;
	void *q = calloc(1, n);
	if (!q)
		return NULL;
	void *expect = NULL;
	if (atomic_compare_exchange_strong_explicit(s, &expect, q, memory_order_acq_rel,
	                                            memory_order_acquire)) {
		*made = true;
		return q;
	}
	free(q);
	return expect;
}

static const uint8_t *page_ro(const struct emu_mem *m, uint64_t pg)
{
	slot *dir = get((slot *)&m->dir);
	slot *l2 = dir ? get(&dir[pg / L2_ENTRIES]) : NULL;
	return l2 ? get(&l2[pg % L2_ENTRIES]) : NULL;
}

static uint8_t *page_rw(struct emu_mem *m, uint64_t pg)
{
	bool made = false;
	slot *dir = get_or_make(&m->dir, (size_t)m->n_top * sizeof(slot), &made);
	if (!dir)
		return NULL;
	made = false;
	slot *l2 = get_or_make(&dir[pg / L2_ENTRIES], L2_ENTRIES * sizeof(slot), &made);
	if (!l2)
		return NULL;
	if (made)
		atomic_fetch_add_explicit(&m->n_l2, 1, memory_order_relaxed);
	made = false;
	uint8_t *p = get_or_make(&l2[pg % L2_ENTRIES], EMU_PAGE_SIZE, &made);
	if (made)
		atomic_fetch_add_explicit(&m->pages, 1, memory_order_relaxed);
	return p;
}

int emu_mem_read(const struct emu_mem *m, uint64_t addr, void *dst, size_t len)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	uint8_t *out = dst;
	while (len) {
		uint64_t pg = addr >> EMU_PAGE_BITS;
		size_t off = (size_t)(addr & (EMU_PAGE_SIZE - 1));
		size_t n = EMU_PAGE_SIZE - off < len ? EMU_PAGE_SIZE - off : len;
		const uint8_t *p = page_ro(m, pg);
		if (p)
			memcpy(out, p + off, n);
		else
			memset(out, 0, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

const void *emu_mem_peek(const struct emu_mem *m, uint64_t addr, size_t len)
{
	size_t off = (size_t)(addr & (EMU_PAGE_SIZE - 1));
	if (addr >= m->size || !len || len > EMU_PAGE_SIZE - off)
		return NULL;
	const uint8_t *p = page_ro(m, addr >> EMU_PAGE_BITS);
	return p ? p + off : NULL;
}

int emu_mem_write(struct emu_mem *m, uint64_t addr, const void *src, size_t len)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	const uint8_t *in = src;
	while (len) {
		uint64_t pg = addr >> EMU_PAGE_BITS;
		size_t off = (size_t)(addr & (EMU_PAGE_SIZE - 1));
		size_t n = EMU_PAGE_SIZE - off < len ? EMU_PAGE_SIZE - off : len;
		uint8_t *p = page_rw(m, pg);
		if (!p)
			return S2_E_NOMEM;
		memcpy(p + off, in, n);
		in += n;
		addr += n;
		len -= n;
	}
	return 0;
}

uint64_t emu_mem_footprint(const struct emu_mem *m)
{
	uint64_t bytes = atomic_load(&m->pages) * EMU_PAGE_SIZE;
	if (get((slot *)&m->dir))
		bytes += (uint64_t)m->n_top * sizeof(slot) +
		         (uint64_t)atomic_load(&m->n_l2) * L2_ENTRIES * sizeof(slot);
	return bytes;
}
