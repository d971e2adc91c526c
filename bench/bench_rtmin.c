/*
 * bench_rtmin: router tables compressed to the minimum by s2_rt_minimise, for comparison
 * with the published C implementation of ordered covering (rig_routing_tables' desktop
 * tool, run by bench/mapper.sh on the same file).
 *   bench_rtmin TABLES
 * TABLES: as bench_mapper --dump-tables writes them (rig_routing_tables' desktop format).
 * Prints the tables, entries before, entries after (as `--router-target min` compresses,
 * default routes included; with ordered covering only; and with ordered covering and no
 * default routes, as the published tool, which ignores sources) and the time of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2/mapper.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_rtmin TABLES\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static const unsigned opp[6] = {3, 4, 5, 0, 1, 2};
	uint8_t h[4];
	size_t tables = 0, before = 0, after_min = 0, after_oc = 0, max_before = 0, max_min = 0;
	size_t after_nd = 0;
	double t_min = 0, t_oc = 0, t_nd = 0;
	while (fread(h, 1, 4, f) == 4) {
		size_t n = h[2] | (size_t)h[3] << 8;
		struct s2_rt_entry *e = calloc(n + 1, sizeof *e), *w = calloc(n + 1, sizeof *w);
		uint8_t *in = calloc(n + 1, 1);
		if (!e || !w || !in)
			return 1;
		for (size_t i = 0; i < n; i++) {
			uint32_t v[4];
			if (fread(v, 4, 4, f) != 4) {
				fprintf(stderr, "bench_rtmin: %s: table %zu is cut short\n",
				        argv[1], tables);
				return 1;
			}
			e[i].key = v[0];
			e[i].mask = v[1];
			e[i].route.w[0] = v[3];
			in[i] = 6;
			for (unsigned l = 0; l < 7; l++)
				if (v[2] == 1u << l)
					in[i] = (uint8_t)l;
		}
		memcpy(w, e, n * sizeof *w);
		double t0 = now_s();
		long m = s2_rt_minimise(w, in, n, opp, 0);
		double t1 = now_s();
		memcpy(w, e, n * sizeof *w);
		long o = s2_rt_minimise(w, in, n, opp, S2_RT_MIN_OC_ONLY);
		double t2 = now_s();
		/* as the published tool sees the table: no sources, so no default routes */
		memset(in, 6, n);
		memcpy(w, e, n * sizeof *w);
		long p = s2_rt_minimise(w, in, n, opp, S2_RT_MIN_OC_ONLY);
		double t3 = now_s();
		if (m < 0 || o < 0 || p < 0) {
			fprintf(stderr, "bench_rtmin: out of memory\n");
			return 1;
		}
		tables++;
		before += n;
		after_min += (size_t)m;
		after_oc += (size_t)o;
		after_nd += (size_t)p;
		t_nd += t3 - t2;
		max_before = n > max_before ? n : max_before;
		max_min = (size_t)m > max_min ? (size_t)m : max_min;
		t_min += t1 - t0;
		t_oc += t2 - t1;
		free(e);
		free(w);
		free(in);
	}
	fclose(f);
	printf("tables:    %zu, entries %zu (max %zu)\n", tables, before, max_before);
	printf("min:       %zu entries (max %zu) in %.3f s\n", after_min, max_min, t_min);
	printf("oc only:   %zu entries in %.3f s\n", after_oc, t_oc);
	printf("oc no-dflt: %zu entries in %.3f s (ordered covering alone, no default routes)\n",
	       after_nd, t_nd);
	return 0;
}
