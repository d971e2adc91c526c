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
#include "eng_fake.h"
#include "engine.h"

#define MAXS 256
static uint32_t sent[MAXS], n_sent, now;

static void send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx, (void)key, (void)payload;
	if (n_sent < MAXS)
		sent[n_sent++] = now;
}
static const struct s2_eng_hal hal = {NULL, fake_dram_none,   fake_dram_write_none,
                                      send, fake_record_none, NULL};

static const float lif_p[S2_PE_PARAMS] = {-65, -65, -50, 10, 0.25f, 0, 5, 5, 0};

/* One neuron (LIF, i_offset, tau_m) or a spike-array source with spikes at steps[], with the
 * header fields h; an optional STATE section (v0 not NULL: initial v, the rest 0). */
static size_t blob_h(uint8_t *b, const struct s2_pedata *h, float i_offset, float tau_m,
                     const uint32_t *steps, unsigned n_steps, const float *v0)
{
	memset(b, 0, 512);
	unsigned ns = 1 + (n_steps > 0) + (v0 != NULL), k = 0;
	uint32_t off = fake_header(b, h, ns), plen = S2_PE_PARAMS * 4;
	fake_sect(b, k++, S2_SECT_PARAMS, off, plen);
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		fake_putf(b + off + 4 * j, h->model != S2_MODEL_LIF_CURR_EXP ? 0.0f
		                           : j == 3                          ? tau_m
		                           : j == 8                          ? i_offset
		                                                             : lif_p[j]);
	off += plen;
	if (v0) {
		fake_sect(b, k++, S2_SECT_STATE, off, S2_PE_STATE * 4);
		fake_putf(b + off, *v0);
		off += S2_PE_STATE * 4;
	}
	if (n_steps) {
		fake_sect(b, k++, S2_SECT_SPIKES, off, 8 * n_steps);
		for (unsigned i = 0; i < n_steps; i++)
			s2_st32(b + off + 8 * i, steps[i]);
		off += 8 * n_steps;
	}
	return off;
}

static size_t blob(uint8_t *b, uint16_t model, uint16_t n, float i_offset, float tau_m,
                   const uint32_t *steps, unsigned n_steps)
{
	struct s2_pedata h = fake_pedata(model, n);
	return blob_h(b, &h, i_offset, tau_m, steps, n_steps, NULL);
}

/* blob() of a LIF neuron with a STATE section (initial v, the other state 0) after PARAMS. */
static size_t blob_v0(uint8_t *b, float i_offset, float v0)
{
	struct s2_pedata h = fake_pedata(S2_MODEL_LIF_CURR_EXP, 1);
	return blob_h(b, &h, i_offset, 10.0f, NULL, 0, &v0);
}

/* A LIF neuron at rest with a background Poisson input of rate (Hz) and weight (nA). */
static size_t blob_bg(uint8_t *b, float rate, float weight)
{
	struct s2_pedata h = fake_pedata(S2_MODEL_LIF_CURR_EXP, 1);
	h.bg_rate_hz = rate;
	h.bg_weight = weight;
	return blob_h(b, &h, 0.0f, 10.0f, NULL, 0, NULL);
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
	struct s2_pedata h = fake_pedata(S2_MODEL_ADEX_COND_EXP, 1);
	uint32_t off = fake_header(b, &h, 3), plen = S2_PE_PARAMS * 4;
	uint32_t p2 = off + plen, st = p2 + S2_PE_PARAMS2 * 4;
	fake_sect(b, 0, S2_SECT_PARAMS, off, plen);
	fake_sect(b, 1, S2_SECT_PARAMS2, p2, S2_PE_PARAMS2 * 4);
	fake_sect(b, 2, S2_SECT_STATE, st, S2_PE_STATE * 4);
	fake_putf(b + st, -70.6f); /* v -70.6 mV, g 0 */
	const float p[S2_PE_PARAMS] = {-70.6f, -70.6f, -50.4f, 9.3667f, 0.281f, 0.1f,
	                               5,      5,      1.0f,   0,       -80,    -40};
	for (unsigned j = 0; j < S2_PE_PARAMS; j++)
		fake_putf(b + off + 4 * j, p[j]);
	const float q[4] = {4.0f, b_na, 2.0f, 144.0f};
	for (unsigned j = 0; j < 4; j++)
		fake_putf(b + p2 + 4 * j, q[j]);
	return st + S2_PE_STATE * 4;
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
	size_t lc = blob_bg(c, 30000.0f, 0.01f);     /* 3 inputs per 0.1 ms step */
	start(c, lc);
	ticks(300);
	uint64_t want = e.c.bg_inputs;
	float v = e.state[0][0];
	assert_true(want > 600 && want < 1200);
	for (unsigned k = 0; k < 2; k++) {
		size_t la = blob_bg(a, from[k], 0.01f);
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
