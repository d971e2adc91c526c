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

int emu_mem_zero(struct emu_mem *m, uint64_t addr, uint64_t len)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	slot *dir = get(&m->dir);
	while (len && dir) {
		uint64_t pg = addr >> EMU_PAGE_BITS;
		size_t off = (size_t)(addr & (EMU_PAGE_SIZE - 1));
		uint64_t n = EMU_PAGE_SIZE - off < len ? EMU_PAGE_SIZE - off : len;
		slot *l2 = get(&dir[pg / L2_ENTRIES]);
		if (!l2 && !off) { /* a whole absent table: nothing to clear up to its end */
			uint64_t to_end = (uint64_t)(L2_ENTRIES - pg % L2_ENTRIES) << EMU_PAGE_BITS;
			n = to_end < len ? to_end : len;
		} else if (l2) {
			slot *s = &l2[pg % L2_ENTRIES];
			uint8_t *p = get(s);
			if (p && n == EMU_PAGE_SIZE) {
				free(atomic_exchange_explicit(s, NULL, memory_order_acq_rel));
				atomic_fetch_sub_explicit(&m->pages, 1, memory_order_relaxed);
			} else if (p) {
				memset(p + off, 0, (size_t)n);
			}
		}
		addr += n;
		len -= n;
	}
	return 0;
}

int emu_mem_find_nonzero(const struct emu_mem *m, uint64_t addr, uint64_t len, uint64_t *at)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	slot *dir = get((slot *)&m->dir);
	uint64_t done = 0;
	while (done < len && dir) {
		uint64_t a = addr + done, pg = a >> EMU_PAGE_BITS;
		size_t off = (size_t)(a & (EMU_PAGE_SIZE - 1));
		uint64_t n = EMU_PAGE_SIZE - off < len - done ? EMU_PAGE_SIZE - off : len - done;
		slot *l2 = get(&dir[pg / L2_ENTRIES]);
		if (!l2) {
			uint64_t to_end =
			        ((uint64_t)(L2_ENTRIES - pg % L2_ENTRIES) << EMU_PAGE_BITS) - off;
			n = to_end < len - done ? to_end : len - done;
		} else {
			const uint8_t *p = get(&l2[pg % L2_ENTRIES]);
			for (size_t i = 0; p && i < n; i++)
				if (p[off + i]) {
					*at = done + i;
					return 1;
				}
		}
		done += n;
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
