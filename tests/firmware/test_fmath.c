/*
 * The engine's deterministic maths (firmware/engine/fmath.c): log and exp against libm, and
 * the ziggurat normal deviates against the standard normal distribution (moments, tail
 * fractions, Kolmogorov-Smirnov). Fixed seeds: a failure is a real departure, not bad luck
 * (each bound is at least 4 standard errors or the 1% KS critical value).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "fmath.h"

static void log_exp_match_libm(void **state)
{
	(void)state;
	double worst_log = 0, worst_exp = 0;
	for (float x = 1e-30f; x < 1e30f; x *= 1.0137f) {
		double want = log((double)x), got = s2f_log(x);
		double err = fabs(got - want) / fmax(fabs(want), 1e-3);
		worst_log = fmax(worst_log, err);
	}
	for (float x = -80.0f; x < 80.0f; x += 0.0371f) {
		double want = exp((double)x), got = s2f_exp(x);
		worst_exp = fmax(worst_exp, fabs(got - want) / want);
	}
	assert_true(worst_log < 4e-6);
	assert_true(worst_exp < 4e-6);
	assert_true(s2f_exp(-100.0f) == 0.0f);
	assert_true(isinf(s2f_log(0.0f)) && s2f_log(0.0f) < 0);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

static double phi(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

static void normal_is_standard_normal(void **state)
{
	(void)state;
	enum { N = 2000000 };
	float *v = malloc(N * sizeof *v);
	assert_non_null(v);
	struct s2f_rng r;
	s2f_rng_seed(&r, 12345u);
	double sum = 0, sum2 = 0, sum3 = 0, sum4 = 0;
	long beyond[5] = {0}, tail_hi = 0, tail_lo = 0;
	for (long i = 0; i < N; i++) {
		float x = s2f_rng_normal(&r);
		assert_true(isfinite(x));
		v[i] = x;
		double d = x;
		sum += d;
		sum2 += d * d;
		sum3 += d * d * d;
		sum4 += d * d * d * d;
		for (int k = 1; k <= 4; k++)
			beyond[k] += fabs(d) > k;
		tail_hi += d > 3.5;
		tail_lo += d < -3.5;
	}
	double mean = sum / N, var = sum2 / N - mean * mean;
	/* standard errors: mean 1/sqrt(N), variance sqrt(2/N), skew sqrt(6/N), kurtosis sqrt(24/N)
	 */
	assert_true(fabs(mean) < 4 / sqrt(N));
	assert_true(fabs(var - 1) < 4 * sqrt(2.0 / N));
	assert_true(fabs(sum3 / N) < 4 * sqrt(6.0 / N) + 0.001);
	assert_true(fabs(sum4 / N - 3) < 4 * sqrt(96.0 / N));
	for (int k = 1; k <= 4; k++) {
		double p = 2 * phi(-k), se = sqrt(N * p * (1 - p));
		assert_true(fabs(beyond[k] - N * p) < 4 * se + 1);
	}
	/* the tail beyond r = 3.4426 is drawn separately: both signs, the right mass */
	double pt = phi(-3.5), se = sqrt(N * pt);
	assert_true(fabs(tail_hi - N * pt) < 4 * se);
	assert_true(fabs(tail_lo - N * pt) < 4 * se);
	/* Kolmogorov-Smirnov over the whole sample: critical value 1.63/sqrt(N) at 1% */
	qsort(v, N, sizeof *v, cmp_float);
	double dmax = 0;
	for (long i = 0; i < N; i++) {
		double f = phi(v[i]);
		dmax = fmax(dmax, fmax(fabs(f - (double)i / N), fabs((double)(i + 1) / N - f)));
	}
	free(v);
	print_message("normal: mean %.2e, variance %.6f, KS D %.2e (1%% critical %.2e)\n", mean,
	              var, dmax, 1.63 / sqrt(N));
	assert_true(dmax < 1.63 / sqrt(N));
}

static void normal_streams_are_deterministic(void **state)
{
	(void)state;
	struct s2f_rng a, b;
	s2f_rng_seed(&a, 7u);
	s2f_rng_seed(&b, 7u);
	for (int i = 0; i < 100000; i++)
		assert_true(s2f_rng_normal(&a) == s2f_rng_normal(&b));
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(log_exp_match_libm),
	        cmocka_unit_test(normal_is_standard_normal),
	        cmocka_unit_test(normal_streams_are_deterministic),
	};
	return s2t_run_cmocka("fmath", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
