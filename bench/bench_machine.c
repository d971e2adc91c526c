/*
 * bench_machine: build the 8-rack machine model (720 boards, 34,560 chips, 5.25 million
 * PEs), encode it as a description, decode it again and walk every link of every chip;
 * print wall time of each step and the process's peak resident memory.
 *   bench_machine [RACKS]     (default 8)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "s2/machine.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	unsigned racks = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 8;
	long rss0 = peak_rss_kib();
	double t0 = now_s();
	struct s2_machine *m = s2_machine_new_racks(racks, "127.0.0.1", 0);
	double t1 = now_s();
	if (!m) {
		fprintf(stderr, "bench_machine: cannot build %u racks\n", racks);
		return 1;
	}
	long rss_model = peak_rss_kib();
	/* Some faults, so that encode and decode carry dead lists. */
	for (unsigned b = 0; b < s2_machine_boards(m); b += 7) {
		s2_machine_mark_chip_dead(m, b, 5);
		s2_machine_mark_pe_dead(m, b, 9, 17);
		s2_machine_mark_link_dead(m, b, 20, 1);
	}
	uint8_t *buf;
	size_t len;
	double t2 = now_s();
	if (s2_machine_encode(m, &buf, &len) < 0)
		return 1;
	double t3 = now_s();
	char err[256];
	struct s2_machine *d = s2_machine_decode(buf, len, err, sizeof err);
	double t4 = now_s();
	if (!d) {
		fprintf(stderr, "bench_machine: decode: %s\n", err);
		return 1;
	}
	/* Every link of every chip, and the hop distance from chip 0 to every chip. */
	unsigned long long links = 0, hop_sum = 0;
	unsigned chips = s2_machine_chips_per_board(d), max_hops = 0;
	for (unsigned b = 0; b < s2_machine_boards(d); b++)
		for (unsigned c = 0; c < chips; c++) {
			for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
				unsigned nb, nc;
				links += s2_machine_neighbour(d, b, c, l, &nb, &nc) &&
				         !s2_machine_link_dead(d, b, c, l);
			}
			unsigned h = s2_machine_hops(d, 0, 0, b, c);
			hop_sum += h;
			if (h > max_hops)
				max_hops = h;
		}
	double t5 = now_s();
	printf("machine:        %u racks, %u boards, %llu chips, %llu PEs\n", racks,
	       s2_machine_boards(d), (unsigned long long)s2_machine_total_chips(d),
	       (unsigned long long)s2_machine_total_pes(d));
	printf("build:          %.3f ms\n", (t1 - t0) * 1e3);
	printf("encode:         %.3f ms (%zu bytes)\n", (t3 - t2) * 1e3, len);
	printf("decode:         %.3f ms\n", (t4 - t3) * 1e3);
	printf("walk links:     %.3f ms (%llu working link ends, diameter from chip 0: %u hops, "
	       "mean %.2f)\n",
	       (t5 - t4) * 1e3, links, max_hops,
	       (double)hop_sum / (double)s2_machine_total_chips(d));
	printf("peak RSS:       %ld KiB at start, %ld KiB after build, %ld KiB at end\n", rss0,
	       rss_model, peak_rss_kib());
	printf("dead:           %u chips, %u PEs, %u links\n", s2_machine_count_dead_chips(d),
	       s2_machine_count_dead_pes(d), s2_machine_count_dead_links(d));
	free(buf);
	s2_machine_free(d);
	s2_machine_free(m);
	return 0;
}
