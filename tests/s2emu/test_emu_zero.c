/*
 * s2emu's sparse memory (tools/s2emu/emu_mem.c): emu_mem_zero frees whole pages and clears
 * partial ones, emu_mem_find_nonzero finds the first non-zero byte across present pages,
 * absent pages and absent tables. The scrub (protocol 4.20) relies on both in s2emu.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_mem.h"
#include "s2/error.h"

#define MIB (1u << 20)

static void t_zero_and_find(void **state)
{
	(void)state;
	struct emu_mem m;
	emu_mem_init(&m, 64ull * MIB);
	uint64_t at = 0;
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 0); /* nothing allocated */
	const uint8_t ff[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	assert_int_equal(emu_mem_write(&m, 10, ff, 1), 0);
	assert_int_equal(emu_mem_write(&m, 4090, ff, 12), 0); /* across a page boundary */
	assert_int_equal(emu_mem_write(&m, 5ull * MIB + 5000, ff, 3), 0); /* another table */
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 1);
	assert_int_equal(at, 10);
	assert_int_equal(emu_mem_find_nonzero(&m, 11, 5000, &at), 1);
	assert_int_equal(at, 4090 - 11);
	/* From an unaligned address in a table with no pages before the byte. */
	assert_int_equal(emu_mem_find_nonzero(&m, 4ull * MIB + 100, 2 * MIB, &at), 1);
	assert_int_equal(at, MIB + 5000 - 100);
	/* A range that ends just before a byte reads as zero. */
	assert_int_equal(emu_mem_find_nonzero(&m, 11, 4090 - 11, &at), 0);

	/* Partial zeroing keeps the rest of the page. */
	assert_int_equal(emu_mem_zero(&m, 4095, 2), 0);
	uint8_t got[12];
	assert_int_equal(emu_mem_read(&m, 4090, got, sizeof got), 0);
	const uint8_t want[12] = {1, 2, 3, 4, 5, 0, 0, 8, 9, 10, 11, 12};
	assert_memory_equal(got, want, sizeof got);
	assert_int_equal(emu_mem_find_nonzero(&m, 4095, 2, &at), 0);

	/* Zeroing everything clears every page (they stay: emu_mem_peek's promise). */
	assert_true(m.pages == 3);
	assert_int_equal(emu_mem_zero(&m, 0, m.size), 0);
	assert_true(m.pages == 3);
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 0);
	assert_int_equal(emu_mem_read(&m, 4090, got, sizeof got), 0);
	for (unsigned i = 0; i < sizeof got; i++)
		assert_int_equal(got[i], 0);
	/* The space stays usable. */
	assert_int_equal(emu_mem_write(&m, 64ull * MIB - 1, ff, 1), 0);
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 1);
	assert_int_equal(at, 64ull * MIB - 1);

	/* Out of range. */
	assert_int_equal(emu_mem_zero(&m, 64ull * MIB - 1, 2), S2_E_RANGE);
	assert_int_equal(emu_mem_find_nonzero(&m, 64ull * MIB + 1, 0, &at), S2_E_RANGE);
	emu_mem_clear(&m);
}

/* A PE's area mapped by emu_mem_reserve holds bytes written straight into the mapping, with
 * no page slot: the scrub must find and clear them too. */
static void t_reserved_area(void **state)
{
	(void)state;
	struct emu_mem m;
	emu_mem_init(&m, 64ull * MIB);
	uint64_t lo = 0, hi = 0, at = 0;
	uint8_t *p = emu_mem_reserve(&m, 8ull * MIB, 4ull * MIB, &lo, &hi);
	assert_non_null(p);
	assert_true(lo == 8ull * MIB && hi == 12ull * MIB);
	p[3 * MIB + 7] = 0x42; /* as a PE writes its rows */
	p[100] = 0x43;
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 1);
	assert_true(at == 8ull * MIB + 100);
	assert_int_equal(emu_mem_find_nonzero(&m, 8ull * MIB + 101, 4 * MIB - 101, &at), 1);
	assert_true(at == 3 * MIB + 7 - 101);
	/* Zero part of it (unaligned edges), then all of it. */
	assert_int_equal(emu_mem_zero(&m, 8ull * MIB + 50, 100), 0);
	assert_int_equal(p[100], 0);
	assert_int_equal(p[3 * MIB + 7], 0x42);
	assert_int_equal(emu_mem_zero(&m, 0, m.size), 0);
	assert_int_equal(emu_mem_find_nonzero(&m, 0, m.size, &at), 0);
	assert_int_equal(p[3 * MIB + 7], 0);
	emu_mem_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(t_zero_and_find),
	                                   cmocka_unit_test(t_reserved_area)};
	return cmocka_run_group_tests_name("emu_zero", tests, NULL, NULL);
}
