/*
 * bench_mapper: generate a reference workload, map it onto a standard machine and print the
 * wall time of every stage and the process's peak resident memory (docs/bench.md).
 *   bench_mapper NETWORK SCALE MACHINE [IMAGE]
 * NETWORK: an example name (s2ctl net example); MACHINE: "boards:N", "rack" or "racks:R".
 * With IMAGE, the image is written there too (and timed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "s2/image.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_mapper NETWORK SCALE MACHINE [IMAGE]\n");
		return 2;
	}
	double scale = strtod(argv[2], NULL);
	struct s2_machine *m = NULL;
	if (!strncmp(argv[3], "boards:", 7))
		m = s2_machine_new_boards((unsigned)strtoul(argv[3] + 7, NULL, 10), "127.0.0.1", 0);
	else if (!strcmp(argv[3], "rack"))
		m = s2_machine_new_racks(1, "127.0.0.1", 0);
	else if (!strncmp(argv[3], "racks:", 6))
		m = s2_machine_new_racks((unsigned)strtoul(argv[3] + 6, NULL, 10), "127.0.0.1", 0);
	if (!m) {
		fprintf(stderr, "bench_mapper: bad machine '%s'\n", argv[3]);
		return 2;
	}
	char err[512];
	double t0 = now_s();
	struct s2_net *n = s2_net_example(argv[1], scale, err, sizeof err);
	double t1 = now_s();
	if (!n) {
		fprintf(stderr, "bench_mapper: %s\n", err);
		return 1;
	}
	struct s2_mapping *mp = s2_map_new(n, m, NULL);
	if (!mp || s2_map_run(mp, err, sizeof err) < 0) {
		fprintf(stderr, "bench_mapper: %s\n", mp ? err : "out of memory");
		return 1;
	}
	const struct s2_map_report *r = s2_map_report(mp);
	double img = 0;
	if (argc > 4) {
		double t2 = now_s();
		if (s2_image_write(mp, argv[4], err, sizeof err) < 0) {
			fprintf(stderr, "bench_mapper: %s\n", err);
			return 1;
		}
		img = now_s() - t2;
	}
	static const char *names[] = {"",      "partition", "place", "keys",
	                              "route", "tables",    "verify"};
	printf("network:   %s x %g: %u populations, %llu neurons, %u projections\n", argv[1], scale,
	       s2_net_populations(n), (unsigned long long)s2_net_neurons(n), s2_net_projections(n));
	printf("machine:   %s, %llu PEs\n", s2_machine_name(m),
	       (unsigned long long)s2_machine_total_pes(m));
	printf("generate:  %8.3f s\n", t1 - t0);
	double total = 0;
	for (int s = 1; s <= 6; s++) {
		printf("%-10s %8.3f s\n", names[s], r->seconds[s]);
		total += r->seconds[s];
	}
	if (argc > 4)
		printf("image:     %8.3f s\n", img);
	printf("total:     %8.3f s (mapping%s)\n", total + img, argc > 4 ? " and image" : "");
	printf("result:    %llu PEs on %u chips, %u boards; %llu routes; entries %llu -> %llu "
	       "(max/chip %u -> %u, %u chips compressed)\n",
	       (unsigned long long)r->parts, r->chips, r->boards, (unsigned long long)r->routes,
	       (unsigned long long)r->entries_before, (unsigned long long)r->entries_after,
	       r->max_entries_before, r->max_entries_after, r->chips_compressed);
	printf("keys:      %llu used, span %llu (mode %u); busiest link %.3g packets/step; %.4g "
	       "synaptic events/step\n",
	       (unsigned long long)r->keys_used, (unsigned long long)r->key_span, r->key_mode,
	       r->busiest_link_load, r->synaptic_events_per_step);
	printf("peak RSS:  %ld MiB\n", peak_rss_mib());
	s2_map_free(mp);
	s2_net_free(n);
	s2_machine_free(m);
	return 0;
}
