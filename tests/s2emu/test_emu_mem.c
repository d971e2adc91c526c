/*
 * The emulator's sparse memory (tools/s2emu/emu_mem.c): pages made on write, reads of untouched
 * memory as zero, the chunked pages past the first EMU_ARENA_AFTER, and the PE areas of
 * emu_mem_reserve (one host mapping that the page tables take their pages from), checked
 * against a flat copy of what was written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "emu_mem.h"
#include "s2/error.h"

#define SPACE (64u << 20)

/* Write a pattern at addr through the page tables, into the flat copy as well. */
static void put(struct emu_mem *m, uint8_t *flat, uint64_t addr, size_t len, unsigned seed)
{
	uint8_t *b = malloc(len);
	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 131u + i * 7u);
	assert_int_equal(emu_mem_write(m, addr, b, len), 0);
	memcpy(flat + addr, b, len);
	free(b);
}

static void same(const struct emu_mem *m, const uint8_t *flat, uint64_t addr, size_t len)
{
	uint8_t *b = malloc(len);
	assert_non_null(b);
	assert_int_equal(emu_mem_read(m, addr, b, len), 0);
	assert_memory_equal(b, flat + addr, len);
	free(b);
}

static void pages_and_chunks(void **state)
{
	(void)state;
	struct emu_mem m;
	uint8_t *flat = calloc(1, SPACE);
	assert_non_null(flat);
	emu_mem_init(&m, SPACE);
	/* More pages than are made one by one: the rest come from chunks. */
	for (unsigned k = 0; k < EMU_ARENA_AFTER + 200; k++)
		put(&m, flat, (uint64_t)k * 3 * EMU_PAGE_SIZE + k, 100 + k, k);
	put(&m, flat, 5 * EMU_PAGE_SIZE - 10, 20, 99); /* across a page boundary */
	same(&m, flat, 0, 4u << 20);
	const uint8_t *p = emu_mem_peek(&m, 3 * EMU_PAGE_SIZE + 1, 10);
	assert_non_null(p);
	assert_memory_equal(p, flat + 3 * EMU_PAGE_SIZE + 1, 10);
	assert_null(emu_mem_peek(&m, 5 * EMU_PAGE_SIZE - 10, 20)); /* two pages */
	assert_null(emu_mem_peek(&m, 2 * EMU_PAGE_SIZE, 4));       /* never written */
	assert_int_equal(emu_mem_read(&m, SPACE - 2, flat, 4), S2_E_RANGE);
	emu_mem_clear(&m);
	uint8_t z[16], zero[16] = {0};
	assert_int_equal(emu_mem_read(&m, 3 * EMU_PAGE_SIZE, z, sizeof z), 0);
	assert_memory_equal(z, zero, sizeof z);
	emu_mem_clear(&m);
	free(flat);
}

static void reserved_areas(void **state)
{
	(void)state;
	struct emu_mem m;
	uint8_t *flat = calloc(1, SPACE);
	assert_non_null(flat);
	emu_mem_init(&m, SPACE);
	uint64_t lo = 0, hi = 0, lo2 = 0, hi2 = 0;
	/* Whole pages only: [1 MiB + 4 KiB, 9 MiB) of [1 MiB + 1, 9 MiB + 100). */
	uint8_t *a = emu_mem_reserve(&m, (1u << 20) + 1, 8u << 20, &lo, &hi);
	assert_non_null(a);
	assert_int_equal(lo, (1u << 20) + EMU_PAGE_SIZE);
	assert_int_equal(hi, 9u << 20);
	/* Written through the page tables, read through the mapping, and back. */
	for (unsigned k = 0; k < 300; k++)
		put(&m, flat, lo + (uint64_t)k * 5000, 3000, k);
	assert_memory_equal(a, flat + lo, (size_t)(hi - lo));
	same(&m, flat, lo - 100, (size_t)(hi - lo) + 200);
	assert_ptr_equal(emu_mem_peek(&m, lo + 5000, 8), a + 5000);
	emu_mem_hugepages(a, (size_t)(hi - lo)); /* a hint: changes nothing visible */
	same(&m, flat, lo, (size_t)(hi - lo));
	/* The same area again: the same mapping; an overlapping one, or one over pages that
	 * exist already: none. */
	assert_ptr_equal(emu_mem_reserve(&m, lo, hi - lo, &lo2, &hi2), a);
	assert_null(emu_mem_reserve(&m, hi - EMU_PAGE_SIZE, 1u << 20, &lo2, &hi2));
	put(&m, flat, 20u << 20, 10, 1);
	assert_null(emu_mem_reserve(&m, 20u << 20, 1u << 20, &lo2, &hi2));
	assert_null(emu_mem_reserve(&m, 30u << 20, 100, &lo2, &hi2)); /* no whole page */
	assert_non_null(emu_mem_reserve(&m, 40u << 20, 1u << 20, &lo2, &hi2));
	same(&m, flat, 0, SPACE);
	emu_mem_clear(&m); /* unmaps (ASan and the leak check see the rest) */
	assert_null(emu_mem_peek(&m, lo + 5000, 8));
	assert_non_null(emu_mem_reserve(&m, lo, hi - lo, &lo2, &hi2));
	emu_mem_clear(&m);
	free(flat);
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(pages_and_chunks),
	        cmocka_unit_test(reserved_areas),
	};
	return s2t_run_cmocka("emu_mem", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
