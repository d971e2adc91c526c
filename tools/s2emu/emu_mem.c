/* Sparse, page-on-write memory for emulated DRAM and SRAM (emu_mem.h). */
#include "emu_mem.h"

#include <stdlib.h>
#include <string.h>

#include "s2/error.h"

#define L2_ENTRIES (1u << EMU_L2_BITS)

void emu_mem_init(struct emu_mem *m, uint64_t size)
{
	memset(m, 0, sizeof *m);
	m->size = size;
	uint64_t pages = (size + EMU_PAGE_SIZE - 1) >> EMU_PAGE_BITS;
	m->n_top = (uint32_t)((pages + L2_ENTRIES - 1) / L2_ENTRIES);
}

void emu_mem_clear(struct emu_mem *m)
{
	if (m->dir) {
		for (uint32_t t = 0; t < m->n_top; t++) {
			if (!m->dir[t])
				continue;
			for (uint32_t i = 0; i < L2_ENTRIES; i++)
				free(m->dir[t][i]);
			free(m->dir[t]);
		}
		free(m->dir);
	}
	emu_mem_init(m, m->size);
}

static const uint8_t *page_ro(const struct emu_mem *m, uint64_t pg)
{
	if (!m->dir)
		return NULL;
	uint8_t **l2 = m->dir[pg / L2_ENTRIES];
	return l2 ? l2[pg % L2_ENTRIES] : NULL;
}

static uint8_t *page_rw(struct emu_mem *m, uint64_t pg)
{
	if (!m->dir) {
		m->dir = calloc(m->n_top, sizeof *m->dir);
		if (!m->dir)
			return NULL;
	}
	uint8_t ***l2 = &m->dir[pg / L2_ENTRIES];
	if (!*l2) {
		*l2 = calloc(L2_ENTRIES, sizeof **l2);
		if (!*l2)
			return NULL;
	}
	uint8_t **p = &(*l2)[pg % L2_ENTRIES];
	if (!*p) {
		*p = calloc(1, EMU_PAGE_SIZE);
		if (!*p)
			return NULL;
		m->pages++;
	}
	return *p;
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

uint64_t emu_mem_footprint(const struct emu_mem *m)
{
	uint64_t bytes = m->pages * EMU_PAGE_SIZE;
	if (m->dir) {
		bytes += (uint64_t)m->n_top * sizeof *m->dir;
		for (uint32_t t = 0; t < m->n_top; t++)
			if (m->dir[t])
				bytes += L2_ENTRIES * sizeof **m->dir;
	}
	return bytes;
}
