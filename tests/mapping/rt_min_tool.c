/*
 * Test driver for s2_rt_minimise (tests/mapping/test_rt_min.py): reads router tables from
 * stdin and writes each compressed twice, with the plain published algorithm
 * (S2_RT_MIN_OC_ONLY) and as `--router-target min` does, plus the time taken.
 *
 * Input, per table: a line "T n", then n lines "key mask in route" (hexadecimal key, mask
 * and route word 0, in the decimal link 0-5 or 6 for a local PE). Output, per table:
 * "OC n", n lines "key mask route", "MIN n", n lines, "US oc_microseconds min_microseconds".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2/mapper.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int run(const struct s2_rt_entry *e, const uint8_t *in, size_t n, unsigned flags,
               const char *tag, struct s2_rt_entry *work, double *us)
{
	static const unsigned opp[6] = {3, 4, 5, 0, 1, 2};
	memcpy(work, e, n * sizeof *work);
	double t0 = now_us();
	long m = s2_rt_minimise(work, in, n, opp, flags);
	*us = now_us() - t0;
	if (m < 0) {
		fprintf(stderr, "s2_rt_minimise failed: %ld\n", m);
		return 1;
	}
	printf("%s %ld\n", tag, m);
	for (long i = 0; i < m; i++)
		printf("%x %x %x\n", work[i].key, work[i].mask, work[i].route.w[0]);
	return 0;
}

int main(void)
{
	size_t n;
	while (scanf(" T %zu", &n) == 1) {
		struct s2_rt_entry *e = calloc(n ? n : 1, sizeof *e);
		struct s2_rt_entry *w = calloc(n ? n : 1, sizeof *w);
		uint8_t *in = calloc(n ? n : 1, 1);
		if (!e || !w || !in)
			return 1;
		for (size_t i = 0; i < n; i++) {
			unsigned k, m, l, r;
			if (scanf("%x %x %u %x", &k, &m, &l, &r) != 4 || l > 6) {
				fprintf(stderr, "bad entry %zu\n", i);
				return 1;
			}
			e[i].key = k;
			e[i].mask = m;
			e[i].route.w[0] = r;
			in[i] = (uint8_t)l;
		}
		double us_oc, us_min;
		if (run(e, in, n, S2_RT_MIN_OC_ONLY, "OC", w, &us_oc) ||
		    run(e, in, n, 0, "MIN", w, &us_min))
			return 1;
		printf("US %.1f %.1f\n", us_oc, us_min);
		free(e);
		free(w);
		free(in);
	}
	return 0;
}
