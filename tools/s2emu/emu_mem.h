/*
 * Sparse emulated memory: a byte space of any size up to 4 GiB whose 4 KiB pages are
 * allocated on first write. Untouched memory reads as zero and costs nothing, which is what
 * lets one host emulate a rack: 4,320 chips x 2 GiB DRAM + 152 x 128 KiB SRAM would be
 * 9 TB if allocated eagerly (brief, principle 1).
 */
#ifndef S2EMU_MEM_H
#define S2EMU_MEM_H

#include <stddef.h>
#include <stdint.h>

#define EMU_PAGE_BITS 12u
#define EMU_PAGE_SIZE (1u << EMU_PAGE_BITS)
#define EMU_L2_BITS 10u /* pages per second-level table: 4 MiB of space */

/*
 * The tables are published with atomic compare-and-swap, so threads may read and write one
 * space at once (the emulator expands PEs' synapses on worker threads while the event loop
 * serves the same chip); writes to the same bytes are the callers' to order. Clearing needs
 * exclusive use.
 */
struct emu_mem {
	uint64_t size;       /**< bytes addressable */
	_Atomic(void *) dir; /**< -> _Atomic(void *)[n_top] -> [L2] -> page, on demand */
	uint32_t n_top;
	_Atomic uint64_t pages; /**< pages materialised */
	_Atomic uint32_t n_l2;  /**< second-level tables materialised */
	_Atomic(void *) arena; /**< -> struct emu_arena: the pages past the first EMU_ARENA_AFTER */
};

/*
 * A space's first EMU_ARENA_AFTER pages are allocated one by one; the pages after them (a
 * chip's synaptic rows: tens of MiB per chip for a large network) are carved from 2 MiB
 * chunks that the kernel may back with huge pages (MADV_HUGEPAGE), so that reading rows all
 * over them costs fewer TLB misses. An idle or lightly used space never has a chunk.
 */
#define EMU_ARENA_AFTER 64u
#define EMU_ARENA_CHUNK (2u << 20)

/** Set up an empty space of size bytes. Allocates nothing. */
void emu_mem_init(struct emu_mem *m, uint64_t size);

/** Free every page. The space stays usable (and empty). */
void emu_mem_clear(struct emu_mem *m);

/** Copy out [addr, addr+len); untouched bytes read as 0. Range must be inside size. */
int emu_mem_read(const struct emu_mem *m, uint64_t addr, void *dst, size_t len);

/** Copy in; allocates pages as needed. 0, S2_E_RANGE, or S2_E_NOMEM. */
int emu_mem_write(struct emu_mem *m, uint64_t addr, const void *src, size_t len);

/** Zero [addr, addr+len): the pages that exist are cleared (absent ones read as zero), and
 * so are the bytes of emu_mem_reserve mappings there. Needs exclusive use of the space (no
 * PE running on it). 0 or S2_E_RANGE. */
int emu_mem_zero(struct emu_mem *m, uint64_t addr, uint64_t len);

/** 0 if [addr, addr+len) is all zero; 1 and *at = offset of the first non-zero byte if not;
 * S2_E_RANGE. Absent pages and tables are skipped without reading; emu_mem_reserve mappings
 * are read whole. */
int emu_mem_find_nonzero(const struct emu_mem *m, uint64_t addr, uint64_t len, uint64_t *at);

/** A pointer to [addr, addr+len) if those bytes lie in one page that exists (a hint for
 *  prefetching: the page stays until emu_mem_clear), else NULL. */
const void *emu_mem_peek(const struct emu_mem *m, uint64_t addr, size_t len);

/**
 * Back the whole pages of [addr, addr+len) with one contiguous, lazily zeroed host mapping
 * (a PE's own DRAM area, so that its rows are reached without the page tables). Only when
 * none of those pages exists yet. Returns the host address of the first whole page and sets
 * [*lo, *hi) to the space's addresses covered; NULL (nothing covered) if there is no whole
 * page, one exists already, or the mapping fails. Memory is still materialised only where
 * written; the mapping lives until emu_mem_clear.
 */
uint8_t *emu_mem_reserve(struct emu_mem *m, uint64_t addr, uint64_t len, uint64_t *lo,
                         uint64_t *hi);

/**
 * Ask the kernel to back the whole 2 MiB blocks of [p, p+len), host memory of an
 * emu_mem_reserve mapping that has been written throughout, with huge pages now (fewer TLB
 * misses when a PE reads its rows all over them). A hint: refused, nothing changes.
 */
void emu_mem_hugepages(const uint8_t *p, size_t len);

/** Bytes of host memory the space holds (pages and tables). */
uint64_t emu_mem_footprint(const struct emu_mem *m);

#endif
