/*
 * The engine's expansion draws normal_clipped delays as the network description says
 * (firmware/engine/engine.c, make_word): redrawn below one timestep, or below half of one with
 * S2_EXP_F_DELAY_HALF (the INM-6 microcircuit model's rule since 2022, `min=nest.resolution -
 * 0.5 * nest.resolution`), then rounded to whole steps. 100,000 synapses of the microcircuit's
 * inhibitory delays (0.75 ms, s.d. 0.375 ms, at 0.1 ms: 7.5 and 3.75 steps) expanded on one
 * PE; the share of each number of steps is compared with the normal law truncated at the
 * bound (within 5 standard errors), and no synapse has a delay below one step.
 */
#include <math.h>
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

#define N_POST 100u
#define N_PRE 1000u
#define DRAM_BASE 0x1000u
#define MAX_D 64u

static unsigned hist[MAX_D + 2];
static uint64_t n_syn;

/* The index (one word per pre neuron) comes first; every later write is synaptic words. */
static int dram_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx;
	if (addr < DRAM_BASE + 4u * N_PRE)
		return 0;
	const uint8_t *p = src;
	for (uint32_t i = 0; i + 4 <= len; i += 4) {
		unsigned d = s2_syn_delay(s2_ld32(p + i));
		hist[d <= MAX_D ? d : MAX_D + 1]++;
		n_syn++;
	}
	return 0;
}
static const struct s2_eng_hal hal = {NULL,           fake_dram_none,   dram_write,
                                      fake_send_none, fake_record_none, NULL};

/* N_POST LIF neurons and one all-to-all descriptor from N_PRE sources: weights 1 unit, delays
 * normal_clipped (mean, sd in steps) with the given flags. */
static size_t blob(uint8_t *b, float mean, float sd, uint8_t flags)
{
	memset(b, 0, 512);
	struct s2_pedata h = fake_pedata(S2_MODEL_LIF_CURR_EXP, N_POST);
	h.seed = 7;
	h.dram_base = DRAM_BASE;
	h.dram_size = 16u << 20;
	uint32_t off = fake_header(b, &h, 2), plen = S2_PE_PARAMS * 4;
	fake_sect(b, 0, S2_SECT_PARAMS, off, plen);
	const float lif[S2_PE_PARAMS] = {-65, -65, -50, 10, 0.25f, 0, 0.5f, 0.5f, 0};
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		fake_putf(b + off + 4 * j, lif[j]);
	fake_sect(b, 1, S2_SECT_EXPAND, off + plen, S2_PE_EXPAND_LEN);
	struct s2_pe_expand x = {.connector = S2_CONN_ALL_TO_ALL,
	                         .receptor = 1,
	                         .flags = flags,
	                         .w_dist = S2_DIST_CONST,
	                         .d_dist = S2_DIST_NORMAL_POS,
	                         .key_lo = 0x10000,
	                         .n_keys = 1024,
	                         .pre_lo = 0,
	                         .n_pre = N_PRE,
	                         .pre_total = N_PRE,
	                         .post_lo = 0,
	                         .post_total = N_POST,
	                         .w_a = 1,
	                         .d_a = mean,
	                         .d_b = sd,
	                         .seed = 12345,
	                         .part_bits = 10,
	                         .per_part = N_PRE};
	s2_pedata_expand_encode(b + off + plen, &x);
	return off + plen + S2_PE_EXPAND_LEN;
}

static double phi(double z)
{
	return 0.5 * erfc(-z / sqrt(2));
}

static struct s2_eng e; /* large: not on the stack */

/* Expand; compare the share of 1..4 steps with the normal law redrawn below `least` steps
 * and rounded. */
static void check_law(float mean, float sd, uint8_t flags, double least)
{
	static uint8_t b[512];
	memset(hist, 0, sizeof hist);
	n_syn = 0;
	size_t len = blob(b, mean, sd, flags);
	assert_int_equal(s2_eng_init(&e, b, len, &hal), 0);
	assert_int_equal(n_syn, (uint64_t)N_PRE * N_POST);
	assert_int_equal(hist[0], 0);
	double kept = 1 - phi((least - mean) / sd);
	for (unsigned k = 1; k <= 4; k++) {
		double lo = k == 1 ? least : k - 0.5, hi = k + 0.5;
		double want = (phi((hi - mean) / sd) - phi((lo - mean) / sd)) / kept;
		double got = (double)hist[k] / (double)n_syn;
		double se = sqrt(want * (1 - want) / (double)n_syn);
		if (fabs(got - want) > 5 * se)
			fail_msg("flags %u: %u steps: %.5f of the synapses, the law %.5f (s.e. "
			         "%.5f)",
			         flags, k, got, want, se);
	}
}

static void delays_redrawn_below_one_step(void **state)
{
	(void)state;
	/* one step: 1.39 % of the synapses at one step (draws in [1, 1.5)) */
	check_law(7.5f, 3.75f, 0, 1.0);
}

static void delays_redrawn_below_half_a_step(void **state)
{
	(void)state;
	/* half a step: 2.46 % at one step (draws in [0.5, 1.5)), as NEST's model */
	check_law(7.5f, 3.75f, S2_EXP_F_DELAY_HALF, 0.5);
}

static void unknown_flag_refused(void **state)
{
	(void)state;
	static uint8_t b[512];
	size_t len = blob(b, 7.5f, 3.75f, 0x10);
	assert_int_equal(s2_eng_init(&e, b, len, &hal), S2_E_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(delays_redrawn_below_one_step),
	        cmocka_unit_test(delays_redrawn_below_half_a_step),
	        cmocka_unit_test(unknown_flag_refused),
	};
	return s2t_run_cmocka("eng_expand", NULL, 0, tests, sizeof tests / sizeof tests[0]) ? 1 : 0;
}
