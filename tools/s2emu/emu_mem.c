/* Sparse, page-on-write memory for emulated DRAM and SRAM (emu_mem.h). */
#include "emu_mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "s2/error.h"

#define L2_ENTRIES (1u << EMU_L2_BITS)

typedef _Atomic(void *) slot;

/* Pages carved from chunks or lying in a mapping of emu_mem_reserve: their slots hold the
 * pointer with bit 0 set (pages are 4 KiB aligned), so that clearing frees the chunks and
 * unmaps the mappings, not the pages one by one. */
#define ARENA_TAG ((uintptr_t)1)

struct emu_arena {
	pthread_mutex_t mu;
	uint8_t *chunk; /* the chunk pages are taken from */
	uint32_t used;  /* bytes of it taken */
	void **chunks;  /* every chunk, to free */
	uint32_t n_chunks, cap_chunks;
	/* The mappings of emu_mem_reserve: the pages of [lo, hi) are made there. */
	struct emu_map {
		uint8_t *p;
		uint64_t lo, hi;
		void *raw; /* the mapping, p rounded up in it */
		size_t raw_len;
	} * maps;
	uint32_t n_maps, cap_maps;
	_Atomic uint32_t n_maps_pub; /* n_maps: whether page_make must look */
};

static void *untag(void *p)
{
	return (void *)((uintptr_t)p & ~ARENA_TAG);
}

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

static void arena_free(struct emu_arena *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->n_chunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
	for (uint32_t i = 0; i < a->n_maps; i++)
		munmap(a->maps[i].raw, a->maps[i].raw_len);
	free(a->maps);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* The space's arena, made on first use (NULL: out of memory). */
static struct emu_arena *arena_of(struct emu_mem *m)
{
	struct emu_arena *a = get(&m->arena);
	if (a)
		return a;
	if (!(a = calloc(1, sizeof *a)))
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	void *expect = NULL;
	if (atomic_compare_exchange_strong_explicit(&m->arena, &expect, a, memory_order_acq_rel,
	                                            memory_order_acquire))
		return a;
	arena_free(a);
	return expect;
}

/* A zeroed page from the arena, tagged (NULL: out of memory). */
static void *arena_page(struct emu_mem *m)
{
	struct emu_arena *a = arena_of(m);
	if (!a)
		return NULL;
	uint8_t *p = NULL;
	pthread_mutex_lock(&a->mu);
	if (!a->chunk || a->used == EMU_ARENA_CHUNK) {
		void *c = NULL;
		if (a->n_chunks == a->cap_chunks) {
			uint32_t cap = a->cap_chunks ? 2 * a->cap_chunks : 16;
			void **v = realloc(a->chunks, cap * sizeof *v);
			if (!v)
				goto out;
			a->chunks = v;
			a->cap_chunks = cap;
		}
		if (posix_memalign(&c, EMU_ARENA_CHUNK, EMU_ARENA_CHUNK) != 0)
			goto out;
		madvise(c, EMU_ARENA_CHUNK, MADV_HUGEPAGE); /* a hint: may be refused */
		a->chunks[a->n_chunks++] = c;
		a->chunk = c;
		a->used = 0;
	}
	p = a->chunk + a->used;
	a->used += EMU_PAGE_SIZE;
out:
	pthread_mutex_unlock(&a->mu);
	if (!p)
		return NULL;
	memset(p, 0, EMU_PAGE_SIZE);
	return (void *)((uintptr_t)p | ARENA_TAG);
}

void emu_mem_clear(struct emu_mem *m)
{
	slot *dir = get(&m->dir);
	if (dir) {
		for (uint32_t t = 0; t < m->n_top; t++) {
			slot *l2 = get(&dir[t]);
			if (!l2)
				continue;
			for (uint32_t i = 0; i < L2_ENTRIES; i++) {
				void *p = get(&l2[i]);
				if (!((uintptr_t)p & ARENA_TAG))
					free(p);
			}
			free(l2);
		}
		free(dir);
	}
	arena_free(get(&m->arena));
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
	return l2 ? untag(get(&l2[pg % L2_ENTRIES])) : NULL;
}

/* The page in *s, or a new zeroed one put there (unless another thread's won). */
static uint8_t *page_make(struct emu_mem *m, slot *s, uint64_t pg)
{
	void *p = get(s);
	if (p)
		return untag(p);
	/* In an area of emu_mem_reserve: its page (it may hold what a PE wrote there). */
	struct emu_arena *a = get(&m->arena);
	if (a && atomic_load_explicit(&a->n_maps_pub, memory_order_acquire)) {
		uint64_t addr = pg << EMU_PAGE_BITS;
		void *q = NULL;
		pthread_mutex_lock(&a->mu);
		for (uint32_t i = 0; i < a->n_maps && !q; i++)
			if (addr >= a->maps[i].lo && addr < a->maps[i].hi)
				q = (void *)((uintptr_t)(a->maps[i].p + (addr - a->maps[i].lo)) |
				             ARENA_TAG);
		pthread_mutex_unlock(&a->mu);
		if (q) {
			void *expect = NULL;
			if (atomic_compare_exchange_strong_explicit(
			            s, &expect, q, memory_order_acq_rel, memory_order_acquire))
				return untag(q);
			return untag(expect);
		}
	}
	bool from_arena = atomic_load_explicit(&m->pages, memory_order_relaxed) >= EMU_ARENA_AFTER;
	void *q = from_arena ? arena_page(m) : calloc(1, EMU_PAGE_SIZE);
	if (!q)
		return NULL;
	void *expect = NULL;
	if (atomic_compare_exchange_strong_explicit(s, &expect, q, memory_order_acq_rel,
	                                            memory_order_acquire)) {
		atomic_fetch_add_explicit(&m->pages, 1, memory_order_relaxed);
		return untag(q);
	}
	if (!from_arena)
		free(q); /* (an arena page stays unused in its chunk) */
	return untag(expect);
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
	return page_make(m, &l2[pg % L2_ENTRIES], pg);
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

uint8_t *emu_mem_reserve(struct emu_mem *m, uint64_t addr, uint64_t len, uint64_t *lo, uint64_t *hi)
{
	uint64_t a0 = (addr + EMU_PAGE_SIZE - 1) & ~(uint64_t)(EMU_PAGE_SIZE - 1);
	uint64_t a1 =
	        (addr + len > m->size ? m->size : addr + len) & ~(uint64_t)(EMU_PAGE_SIZE - 1);
	if (addr >= m->size || a1 <= a0)
		return NULL;
	struct emu_arena *ar = arena_of(m);
	if (!ar)
		return NULL;
	uint8_t *p = NULL;
	pthread_mutex_lock(&ar->mu);
	/* The same area again (the same application reloaded): its mapping, whose pages are
	 * the space's there. Overlapping another: none. */
	for (uint32_t i = 0; i < ar->n_maps; i++) {
		const struct emu_map *q = &ar->maps[i];
		if (q->lo == a0 && q->hi == a1)
			p = q->p;
		else if (q->lo < a1 && a0 < q->hi)
			goto out;
	}
	if (p)
		goto found;
	for (uint64_t pg = a0 >> EMU_PAGE_BITS; pg < a1 >> EMU_PAGE_BITS; pg++)
		if (page_ro(m, pg))
			goto out; /* memory of its own there already */
	if (ar->n_maps == ar->cap_maps) {
		uint32_t cap = ar->cap_maps ? 2 * ar->cap_maps : 16;
		struct emu_map *v = realloc(ar->maps, cap * sizeof *v);
		if (!v)
			goto out;
		ar->maps = v;
		ar->cap_maps = cap;
	}
	/* Starting on a 2 MiB boundary, so that the area's first whole megabytes can become
	 * huge pages (emu_mem_hugepages). */
	size_t n = (size_t)(a1 - a0) + EMU_ARENA_CHUNK;
	uint8_t *raw = mmap(NULL, n, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		goto out;
	p = (uint8_t *)(((uintptr_t)raw + EMU_ARENA_CHUNK - 1) & ~(uintptr_t)(EMU_ARENA_CHUNK - 1));
	ar->maps[ar->n_maps++] = (struct emu_map){p, a0, a1, raw, n};
	atomic_store_explicit(&ar->n_maps_pub, ar->n_maps, memory_order_release);
found:
	*lo = a0;
	*hi = a1;
out:
	pthread_mutex_unlock(&ar->mu);
	return p;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif

void emu_mem_hugepages(const uint8_t *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + EMU_ARENA_CHUNK - 1) & ~(uintptr_t)(EMU_ARENA_CHUNK - 1);
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)(EMU_ARENA_CHUNK - 1);
	if (b > a && madvise((void *)a, b - a, MADV_HUGEPAGE) == 0)
		madvise((void *)a, b - a, MADV_COLLAPSE);
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

/* The mappings of emu_mem_reserve hold bytes a PE wrote without a page slot: the scrub must
 * clear and check them too. Each overlap of [addr, addr+len) with a mapping, under its lock. */
typedef int (*map_fn)(uint8_t *p, uint64_t space_addr, uint64_t n, void *ctx);

static int each_map(const struct emu_mem *m, uint64_t addr, uint64_t len, map_fn fn, void *ctx)
{
	struct emu_arena *a = get((slot *)&m->arena);
	if (!a || !atomic_load_explicit(&a->n_maps_pub, memory_order_acquire))
		return 0;
	int rc = 0;
	pthread_mutex_lock(&a->mu);
	for (uint32_t i = 0; i < a->n_maps && rc == 0; i++) {
		const struct emu_map *q = &a->maps[i];
		uint64_t x0 = q->lo > addr ? q->lo : addr;
		uint64_t x1 = q->hi < addr + len ? q->hi : addr + len;
		if (x0 < x1)
			rc = fn(q->p + (x0 - q->lo), x0, x1 - x0, ctx);
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static int map_zero(uint8_t *p, uint64_t space_addr, uint64_t n, void *ctx)
{
	(void)space_addr;
	(void)ctx;
	/* Whole host pages are dropped (a private anonymous mapping reads zero after), the
	 * edges cleared. */
	uintptr_t lo = ((uintptr_t)p + EMU_PAGE_SIZE - 1) & ~(uintptr_t)(EMU_PAGE_SIZE - 1);
	uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(EMU_PAGE_SIZE - 1);
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0) {
		memset(p, 0, lo - (uintptr_t)p);
		memset((void *)hi, 0, (uintptr_t)p + n - hi);
	} else {
		memset(p, 0, (size_t)n);
	}
	return 0;
}

int emu_mem_zero(struct emu_mem *m, uint64_t addr, uint64_t len)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	uint64_t a0 = addr, n0 = len;
	/* Pages stay (emu_mem_peek promises that until emu_mem_clear): only those that exist are
	 * cleared; absent ones read as zero already. */
	slot *dir = get(&m->dir);
	while (len && dir) {
		uint64_t pg = addr >> EMU_PAGE_BITS;
		size_t off = (size_t)(addr & (EMU_PAGE_SIZE - 1));
		uint64_t n = EMU_PAGE_SIZE - off < len ? EMU_PAGE_SIZE - off : len;
		slot *l2 = get(&dir[pg / L2_ENTRIES]);
		if (!l2) { /* an absent table: nothing to clear up to its end */
			uint64_t to_end =
			        ((uint64_t)(L2_ENTRIES - pg % L2_ENTRIES) << EMU_PAGE_BITS) - off;
			n = to_end < len ? to_end : len;
		} else {
			uint8_t *p = untag(get(&l2[pg % L2_ENTRIES]));
			if (p)
				memset(p + off, 0, (size_t)n);
		}
		addr += n;
		len -= n;
	}
	return each_map(m, a0, n0, map_zero, NULL);
}

struct find_ctx {
	uint64_t base, best; /* best: offset from base of the first non-zero byte, or UINT64_MAX */
};

static const uint8_t zero_page[EMU_PAGE_SIZE];

/* Offset of the first non-zero byte of p[0..n), or n: a page at a time with memcmp. */
static uint64_t first_nonzero(const uint8_t *p, uint64_t n)
{
	uint64_t i = 0;
	while (i < n) {
		size_t k = n - i < EMU_PAGE_SIZE ? (size_t)(n - i) : EMU_PAGE_SIZE;
		if (memcmp(p + i, zero_page, k) != 0)
			for (size_t j = 0; j < k; j++)
				if (p[i + j])
					return i + j;
		i += k;
	}
	return n;
}

static int map_find(uint8_t *p, uint64_t space_addr, uint64_t n, void *ctx)
{
	struct find_ctx *f = ctx;
	uint64_t i = first_nonzero(p, n);
	if (i < n && space_addr - f->base + i < f->best)
		f->best = space_addr - f->base + i;
	return 0;
}

int emu_mem_find_nonzero(const struct emu_mem *m, uint64_t addr, uint64_t len, uint64_t *at)
{
	if (addr > m->size || len > m->size - addr)
		return S2_E_RANGE;
	struct find_ctx f = {addr, UINT64_MAX};
	(void)each_map(m, addr, len, map_find, &f);
	slot *dir = get((slot *)&m->dir);
	uint64_t done = 0;
	while (done < len && done < f.best && dir) {
		uint64_t a = addr + done, pg = a >> EMU_PAGE_BITS;
		size_t off = (size_t)(a & (EMU_PAGE_SIZE - 1));
		uint64_t n = EMU_PAGE_SIZE - off < len - done ? EMU_PAGE_SIZE - off : len - done;
		slot *l2 = get(&dir[pg / L2_ENTRIES]);
		if (!l2) {
			uint64_t to_end =
			        ((uint64_t)(L2_ENTRIES - pg % L2_ENTRIES) << EMU_PAGE_BITS) - off;
			n = to_end < len - done ? to_end : len - done;
		} else {
			const uint8_t *p = untag(get(&l2[pg % L2_ENTRIES]));
			uint64_t i = p ? first_nonzero(p + off, n) : n;
			if (i < n && done + i < f.best)
				f.best = done + i;
		}
		done += n;
	}
	if (f.best == UINT64_MAX)
		return 0;
	*at = f.best;
	return 1;
}

uint64_t emu_mem_footprint(const struct emu_mem *m)
{
	uint64_t pages = atomic_load(&m->pages);
	struct emu_arena *a = get((slot *)&m->arena);
	uint64_t bytes = 0;
	if (a) { /* whole chunks: with huge pages a chunk is resident once touched */
		pthread_mutex_lock(&a->mu);
		uint64_t carved = (uint64_t)(a->n_chunks ? a->n_chunks - 1 : 0) * EMU_ARENA_CHUNK /
		                          EMU_PAGE_SIZE +
		                  a->used / EMU_PAGE_SIZE;
		bytes += (uint64_t)a->n_chunks * EMU_ARENA_CHUNK;
		pthread_mutex_unlock(&a->mu);
		pages = pages > carved ? pages - carved : 0;
	}
	bytes += pages * EMU_PAGE_SIZE;
	if (get((slot *)&m->dir))
		bytes += (uint64_t)m->n_top * sizeof(slot) +
		         (uint64_t)atomic_load(&m->n_l2) * L2_ENTRIES * sizeof(slot);
	return bytes;
}
