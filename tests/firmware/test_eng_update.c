/*
 * Pause and resume in the engine (firmware/engine, s2_eng_update): a run paused and given the
 * same PE data again goes on exactly as one that was never paused; new parameters act from
 * the step reached on; new spike times before it are skipped; a changed initial value is set
 * at once; anything else that differs, or a parameter out of range, is refused and changes
 * nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "engine.h"
#include "s2/error.h"
#include "s2/wire.h"

#define MAXS 256
static uint32_t sent[MAXS], n_sent, now;

static int dram_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx, (void)addr, (void)dst, (void)len;
	return S2_E_RANGE; /* no rows in these tests */
}
static int dram_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx, (void)addr, (void)src, (void)len;
	return S2_E_RANGE;
}
static void send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx, (void)key, (void)payload;
	if (n_sent < MAXS)
		sent[n_sent++] = now;
}
static void record(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx, (void)s, (void)d, (void)len;
}
static const struct s2_eng_hal hal = {NULL, dram_read, dram_write, send, record, NULL};

static void putf(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	s2_st32(p, u);
}

/* One neuron (LIF, i_offset, tau_m) or a spike-array source with spikes at steps[]. */
static size_t blob(uint8_t *b, uint16_t model, uint16_t n, float i_offset, float tau_m,
                   const uint32_t *steps, unsigned n_steps)
{
	memset(b, 0, 512);
	unsigned ns = n_steps ? 2 : 1;
	uint32_t off = 64 + 12 * ns, plen = S2_PE_PARAMS * 4;
	s2_st32(b, S2_PEDATA_MAGIC);
	s2_st16(b + 4, S2_PEDATA_VERSION);
	s2_st16(b + 6, model);
	s2_st16(b + 8, n);
	s2_st32(b + 12, 100);
	s2_st32(b + 16, 0x100);
	putf(b + 24, 0.001f);
	putf(b + 28, 0.001f);
	s2_st16(b + 40, (uint16_t)ns);
	s2_st16(b + 64, S2_SECT_PARAMS);
	s2_st32(b + 68, off);
	s2_st32(b + 72, plen);
	const float lif[S2_PE_PARAMS] = {-65, -65, -50, tau_m, 0.25f, 0, 5, 5, i_offset};
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		putf(b + off + 4 * j, model == S2_MODEL_LIF_CURR_EXP ? lif[j] : 0.0f);
	if (!n_steps)
		return off + plen;
	s2_st16(b + 76, S2_SECT_SPIKES);
	s2_st32(b + 80, off + plen);
	s2_st32(b + 84, 8 * n_steps);
	for (unsigned k = 0; k < n_steps; k++)
		s2_st32(b + off + plen + 8 * k, steps[k]);
	return off + plen + 8 * n_steps;
}

/* blob() of a LIF neuron with a STATE section (initial v, the other state 0) after PARAMS. */
static size_t blob_v0(uint8_t *b, float i_offset, float v0)
{
	size_t len = blob(b, S2_MODEL_LIF_CURR_EXP, 1, i_offset, 10.0f, NULL, 0);
	uint8_t params[S2_PE_PARAMS * 4];
	memcpy(params, b + 76, sizeof params);
	uint32_t off = 64 + 24;
	s2_st16(b + 40, 2);
	s2_st32(b + 68, off);
	memcpy(b + off, params, sizeof params);
	s2_st32(b + 76, S2_SECT_STATE); /* and the reserved u16 */
	s2_st32(b + 80, off + (uint32_t)sizeof params);
	s2_st32(b + 84, S2_PE_STATE * 4);
	memset(b + off + sizeof params, 0, S2_PE_STATE * 4);
	putf(b + off + sizeof params, v0);
	(void)len;
	return off + sizeof params + S2_PE_STATE * 4;
}

static struct s2_eng e; /* large: not on the stack */

static void ticks(unsigned n)
{
	for (unsigned k = 0; k < n; k++, now++)
		s2_eng_tick(&e);
}

static void start(const uint8_t *b, size_t len)
{
	n_sent = now = 0;
	assert_int_equal(s2_eng_init(&e, b, len, &hal), 0);
}

static void same_data_goes_on_as_unpaused(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	size_t la = blob(a, S2_MODEL_LIF_CURR_EXP, 1, 0.5f, 10.0f, NULL, 0);
	start(a, la);
	ticks(2000);
	uint32_t want[MAXS], n_want = n_sent;
	memcpy(want, sent, sizeof want);
	assert_true(n_want > 10);
	start(a, la);
	ticks(1000);
	memcpy(c, a, la); /* a copy: the engine reads the new one from now on */
	assert_int_equal(s2_eng_update(&e, c, la), 0);
	ticks(1000);
	assert_int_equal(n_sent, n_want);
	assert_memory_equal(sent, want, n_want * sizeof want[0]);
}

static void new_parameters_act_from_the_step_reached(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	size_t la = blob(a, S2_MODEL_LIF_CURR_EXP, 1, 0.5f, 10.0f, NULL, 0);
	start(a, la);
	ticks(2000);
	uint32_t want[MAXS], n_want = n_sent, before = 0;
	memcpy(want, sent, sizeof want);
	while (before < n_want && want[before] < 1000)
		before++;
	start(a, la);
	ticks(1000);
	size_t lc = blob(c, S2_MODEL_LIF_CURR_EXP, 1, 0.8f, 15.0f, NULL, 0);
	assert_int_equal(s2_eng_update(&e, c, lc), 0);
	ticks(1000);
	assert_memory_equal(sent, want, before * sizeof want[0]); /* the past is unchanged */
	assert_true(n_sent - before > 2 * (n_want - before));     /* more drive: many more */
}

static void what_cannot_change_is_refused(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	size_t la = blob(a, S2_MODEL_LIF_CURR_EXP, 1, 0.5f, 10.0f, NULL, 0);
	start(a, la);
	ticks(2000);
	uint32_t want[MAXS], n_want = n_sent;
	memcpy(want, sent, sizeof want);
	start(a, la);
	ticks(1000);
	size_t lc = blob(c, S2_MODEL_LIF_CURR_EXP, 2, 0.5f, 10.0f, NULL, 0); /* neurons */
	assert_int_equal(s2_eng_update(&e, c, lc), S2_E_STATE);
	lc = blob(c, S2_MODEL_LIF_COND_EXP, 1, 0.5f, 10.0f, NULL, 0); /* model */
	assert_int_equal(s2_eng_update(&e, c, lc), S2_E_STATE);
	lc = blob(c, S2_MODEL_LIF_CURR_EXP, 1, 0.5f, 10.0f, NULL, 0);
	s2_st32(c + 20, 7); /* seed */
	assert_int_equal(s2_eng_update(&e, c, lc), S2_E_STATE);
	lc = blob(c, S2_MODEL_LIF_CURR_EXP, 1, 0.9f, -1.0f, NULL, 0); /* tau_m out of range */
	assert_int_equal(s2_eng_update(&e, c, lc), S2_E_RANGE);
	assert_int_equal(s2_eng_update(&e, c, 40), S2_E_SHORT); /* not PE data */
	ticks(1000); /* nothing changed: as if never paused */
	assert_int_equal(n_sent, n_want);
	assert_memory_equal(sent, want, n_want * sizeof want[0]);
}

static void new_spike_times_before_the_step_are_skipped(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	static const uint32_t old[] = {10, 60}, nw[] = {20, 70, 71};
	size_t la = blob(a, S2_MODEL_SPIKE_ARRAY, 1, 0, 0, old, 2);
	start(a, la);
	ticks(50);
	size_t lc = blob(c, S2_MODEL_SPIKE_ARRAY, 1, 0, 0, nw, 3);
	assert_int_equal(s2_eng_update(&e, c, lc), 0);
	ticks(50);
	assert_int_equal(n_sent, 3); /* 10 before; 20 is past, 60 replaced; 70 and 71 */
	assert_int_equal(sent[0], 10);
	assert_int_equal(sent[1], 70);
	assert_int_equal(sent[2], 71);
}

/* One AdEx neuron (PyNN's defaults, i_offset 1 nA) with adaptation increment b (nA). */
static size_t adex_blob(uint8_t *b, float b_na)
{
	memset(b, 0, 512);
	uint32_t off = 64 + 12 * 3, plen = S2_PE_PARAMS * 4;
	s2_st32(b, S2_PEDATA_MAGIC);
	s2_st16(b + 4, S2_PEDATA_VERSION);
	s2_st16(b + 6, S2_MODEL_ADEX_COND_EXP);
	s2_st16(b + 8, 1);
	s2_st32(b + 12, 100);
	s2_st32(b + 16, 0x100);
	putf(b + 24, 0.001f);
	putf(b + 28, 0.001f);
	s2_st16(b + 40, 3);
	s2_st16(b + 64, S2_SECT_PARAMS);
	s2_st32(b + 68, off);
	s2_st32(b + 72, plen);
	s2_st16(b + 88, S2_SECT_STATE); /* v -70.6 mV, g 0 */
	s2_st32(b + 92, off + plen + S2_PE_PARAMS2 * 4);
	s2_st32(b + 96, S2_PE_STATE * 4);
	putf(b + off + plen + S2_PE_PARAMS2 * 4, -70.6f);
	s2_st16(b + 76, S2_SECT_PARAMS2);
	s2_st32(b + 80, off + plen);
	s2_st32(b + 84, S2_PE_PARAMS2 * 4);
	const float p[S2_PE_PARAMS] = {-70.6f, -70.6f, -50.4f, 9.3667f, 0.281f, 0.1f,
	                               5,      5,      1.0f,   0,       -80,    -40};
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		putf(b + off + 4 * j, p[j]);
	const float q[4] = {4.0f, b_na, 2.0f, 144.0f};
	for (unsigned j = 0; j < 4; j++)
		putf(b + off + plen + 4 * j, q[j]);
	return off + plen + (S2_PE_PARAMS2 + S2_PE_STATE) * 4;
}

/* AdEx's own constants (PARAMS2) follow new parameters too, and its w is kept: b changed
 * before the first step gives the run that had it from the start; changed at step 1000 it
 * leaves the first 1000 steps as they were and changes the rest. */
static void adex_parameters_change(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	uint32_t lo[MAXS], hi[MAXS], n_lo, n_hi;
	size_t la = adex_blob(a, 0.0f), lc = adex_blob(c, 0.5f);
	start(c, lc);
	ticks(2000);
	n_hi = n_sent;
	memcpy(hi, sent, sizeof hi);
	start(a, la);
	ticks(2000);
	n_lo = n_sent;
	memcpy(lo, sent, sizeof lo);
	print_message("AdEx spikes in 200 ms: b 0: %u, b 0.5 nA: %u\n", n_lo, n_hi);
	assert_true(n_lo > n_hi + 2 && n_hi > 2); /* adaptation slows it down */
	start(a, la);
	assert_int_equal(s2_eng_update(&e, c, lc), 0);
	ticks(2000);
	assert_int_equal(n_sent, n_hi);
	assert_memory_equal(sent, hi, n_hi * sizeof hi[0]);
	start(a, la);
	ticks(1000);
	assert_int_equal(s2_eng_update(&e, c, lc), 0);
	ticks(1000);
	unsigned before = 0;
	while (before < n_lo && lo[before] < 1000)
		before++;
	assert_memory_equal(sent, lo, before * sizeof lo[0]);
	assert_true(n_sent < n_lo);                           /* adapting from step 1000 on */
	memset(c + 64 + 12 * 3 + S2_PE_PARAMS * 4 + 8, 0, 4); /* delta_T 0: refused */
	assert_int_equal(s2_eng_update(&e, c, lc), S2_E_RANGE);
}

static void new_initial_values_are_set(void **state)
{
	(void)state;
	static uint8_t a[512], c[512], d[512];
	size_t la = blob_v0(a, 0.5f, -65.0f);
	start(a, la);
	ticks(1000);
	uint32_t want[MAXS], n_want = n_sent, before = 0;
	memcpy(want, sent, sizeof want);
	while (before < n_want && want[before] < 500)
		before++;
	assert_true(before > 1 && before < n_want);
	start(a, la);
	ticks(500);
	memcpy(c, a, la); /* the same initial value: the neuron goes on */
	assert_int_equal(s2_eng_update(&e, c, la), 0);
	float v = e.state[0][0];
	size_t ld = blob_v0(d, 0.5f, -80.0f); /* another: v is set to it now */
	assert_int_equal(s2_eng_update(&e, d, ld), 0);
	assert_true(e.state[0][0] == -80.0f && v != -80.0f);
	ticks(500);
	assert_memory_equal(sent, want, before * sizeof want[0]);    /* the past is unchanged */
	assert_true(n_sent > before && sent[before] > want[before]); /* next spike later */
}

/* A background rate changed between runs (PyNN's set()): from then on the input is drawn from
 * the new rate's Poisson distribution, as in a run that had it from the start (the same
 * random stream), not from the CDF table of the rate loaded first. */
static void new_background_rate_is_drawn_as_its_own(void **state)
{
	(void)state;
	static uint8_t a[512], c[512];
	static const float from[] = {0.0f, 2000.0f}; /* none, then 0.2 inputs per step */
	size_t lc = blob(c, S2_MODEL_LIF_CURR_EXP, 1, 0.0f, 10.0f, NULL, 0);
	putf(c + 44, 30000.0f); /* 3 inputs per 0.1 ms step */
	putf(c + 48, 0.01f);
	start(c, lc);
	ticks(300);
	uint64_t want = e.c.bg_inputs;
	float v = e.state[0][0];
	assert_true(want > 600 && want < 1200);
	for (unsigned k = 0; k < 2; k++) {
		size_t la = blob(a, S2_MODEL_LIF_CURR_EXP, 1, 0.0f, 10.0f, NULL, 0);
		putf(a + 44, from[k]);
		putf(a + 48, 0.01f);
		start(a, la);
		assert_int_equal(s2_eng_update(&e, c, lc), 0);
		ticks(300);
		assert_int_equal(e.c.bg_inputs, want);
		assert_true(e.state[0][0] == v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(same_data_goes_on_as_unpaused),
	        cmocka_unit_test(new_parameters_act_from_the_step_reached),
	        cmocka_unit_test(what_cannot_change_is_refused),
	        cmocka_unit_test(new_spike_times_before_the_step_are_skipped),
	        cmocka_unit_test(adex_parameters_change),
	        cmocka_unit_test(new_initial_values_are_set),
	        cmocka_unit_test(new_background_rate_is_drawn_as_its_own),
	};
	return s2t_run_cmocka("eng_update", NULL, 0, tests, sizeof tests / sizeof tests[0]) ? 1 : 0;
}
