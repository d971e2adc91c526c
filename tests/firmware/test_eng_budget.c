/*
 * The engine's real-time budget (firmware/engine, docs/engine.md "Real-time budget"): each
 * step's cost, modelled from the PE data's figures (neurons x cyc_update + synaptic events x
 * cyc_event / 10 + packets x cyc_packet) or measured with the port's cycle counter
 * (s2_eng_hal.cycles: the tick and the packets received since the last one), against the
 * budget in the PE data; steps over it counted, the costliest kept in thousandths; nothing
 * counted without a budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "eng_fake.h"
#include "engine.h"

static uint32_t clock_now, clock_step; /* the fake cycle counter: + clock_step per reading */

static uint32_t cycles(void *ctx)
{
	(void)ctx;
	return clock_now += clock_step;
}
static const struct s2_eng_hal modelled = {NULL,           fake_dram_none,   fake_dram_write_none,
                                           fake_send_none, fake_record_none, NULL};
static const struct s2_eng_hal measured = {NULL,           fake_dram_none,   fake_dram_write_none,
                                           fake_send_none, fake_record_none, cycles};

/* n LIF neurons below threshold, with the budget's header fields. */
static size_t blob(uint8_t *b, uint16_t n, uint32_t budget, uint32_t cyc_update,
                   uint16_t cyc_event_x10, uint16_t cyc_packet)
{
	memset(b, 0, 512);
	struct s2_pedata h = fake_pedata(S2_MODEL_LIF_CURR_EXP, n);
	h.budget = budget;
	h.cyc_update = cyc_update;
	h.cyc_event_x10 = cyc_event_x10;
	h.cyc_packet = cyc_packet;
	uint32_t off = fake_header(b, &h, 1), plen = S2_PE_PARAMS * 4;
	fake_sect(b, 0, S2_SECT_PARAMS, off, plen);
	const float lif[S2_PE_PARAMS] = {-65, -65, -50, 10, 0.25f, 0, 5, 5, 0};
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		fake_putf(b + off + 4 * j, lif[j]);
	return off + plen;
}

static struct s2_eng e; /* large: not on the stack */
static uint8_t b[512];

static void ticks(unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		s2_eng_tick(&e);
}

static void packets(unsigned n)
{
	static const uint32_t payload[4];
	for (unsigned k = 0; k < n; k++)
		s2_eng_receive(&e, 0x9999, payload); /* no key-table entry: counted, unknown */
}

static void modelled_within_and_over(void **state)
{
	(void)state;
	/* 4 neurons x 200 = 800 of 1000 cycles: within, 0.8 of the budget */
	assert_int_equal(s2_eng_init(&e, b, blob(b, 4, 1000, 200, 271, 50), &modelled), 0);
	ticks(10);
	assert_int_equal(e.c.steps_over, 0);
	assert_int_equal(e.c.worst_permille, 800);
	/* a step that receives 5 packets (no synaptic events): 800 + 250 = 1050, over */
	packets(5);
	ticks(1);
	assert_int_equal(e.c.packets_unknown, 5);
	assert_int_equal(e.c.steps_over, 1);
	assert_int_equal(e.c.worst_permille, 1050);
	/* the packets count once: the next steps are within again */
	ticks(3);
	assert_int_equal(e.c.steps_over, 1);
	assert_int_equal(e.c.worst_permille, 1050);
	/* 4 x 300 = 1200 every step: each one over */
	assert_int_equal(s2_eng_init(&e, b, blob(b, 4, 1000, 300, 271, 376), &modelled), 0);
	ticks(7);
	assert_int_equal(e.c.steps_over, 7);
	assert_int_equal(e.c.worst_permille, 1200);
}

static void no_budget_counts_nothing(void **state)
{
	(void)state;
	assert_int_equal(s2_eng_init(&e, b, blob(b, 4, 0, 1000000, 0, 0), &modelled), 0);
	ticks(5);
	assert_int_equal(e.c.steps, 5);
	assert_int_equal(e.c.steps_over, 0);
	assert_int_equal(e.c.worst_permille, 0);
}

static void measured_cycles_replace_the_model(void **state)
{
	(void)state;
	/* The model would say 4 x 100000 cycles, far over; the counter says 400 per tick. */
	clock_now = 0xFFFFFF00u; /* it wraps during the test */
	clock_step = 400;
	assert_int_equal(s2_eng_init(&e, b, blob(b, 4, 1000, 100000, 271, 376), &measured), 0);
	ticks(6);
	assert_int_equal(e.c.steps_over, 0);
	assert_int_equal(e.c.worst_permille, 400);
	/* Two packets received between ticks add their measured 400 each: 1200, over. */
	packets(2);
	ticks(1);
	assert_int_equal(e.c.steps_over, 1);
	assert_int_equal(e.c.worst_permille, 1200);
	ticks(2); /* counted once */
	assert_int_equal(e.c.steps_over, 1);
	assert_int_equal(e.c.steps, 9);
}

/* A step far over a tiny budget is kept whole, not saturated at 32 bits: 128 neurons x 4e6
 * cycles against 10 cycles is 5.12e10 thousandths of the budget. */
static void worst_step_beyond_32_bits(void **state)
{
	(void)state;
	assert_int_equal(s2_eng_init(&e, b, blob(b, 128, 10, 4000000, 0, 0), &modelled), 0);
	ticks(2);
	assert_int_equal(e.c.steps_over, 2);
	assert_true(e.c.worst_permille == 51200000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(modelled_within_and_over),
	        cmocka_unit_test(no_budget_counts_nothing),
	        cmocka_unit_test(measured_cycles_replace_the_model),
	        cmocka_unit_test(worst_step_beyond_32_bits),
	};
	return s2t_run_cmocka("eng_budget", NULL, 0, tests, sizeof tests / sizeof tests[0]) ? 1 : 0;
}
