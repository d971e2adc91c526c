/*
 * bench_mapper: generate a reference workload, map it onto a standard machine and print the
 * wall time of every stage and the process's peak resident memory (docs/bench.md).
 *   bench_mapper NETWORK SCALE MACHINE [IMAGE] [--min] [--fine-place] [--threads N]
 * NETWORK: an example name (s2ctl net example); MACHINE: "boards:N", "rack" or "racks:R".
 * With IMAGE, the image is written there too (and timed). --min: router tables compressed
 * to the minimum (--router-target min); --fine-place: the traffic order always (s2ctl
 * compile --place traffic); --order-place: population order always (--place order, the
 * previous release's default); neither: the better of the two by router hops per spike;
 * --threads: image threads; --no-verify: stage 6 skipped;
 * --dump-tables FILE: every chip's table of two or more entries, as mapped (uncompressed
 * unless a table exceeded the router), in the file format of rig_routing_tables' desktop
 * tools (x u8, y u8, length u16, then key, mask, source, route u32 each; source: bit l for
 * the link packets arrive on, 1 << 6 for a local PE; routes that do not fit 26 bits, which
 * only route equality matters for, become distinct numbers with bit 31 set), for
 * bench_rtmin and the published ordered covering.
 * --zlib-peer (with IMAGE): every chip blob of the image written inflated again and
 * compressed with zlib's compress2 at levels 1 and 6 (the peer), sizes and CPU time printed
 * beside the image's, as ratios (docs/mapping.md "Image size").
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

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

/* CPU time of the process, all threads (user + system). */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static long peak_rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* Route classes that do not fit 26 bits, as distinct numbers (bit 31 set). */
struct rclass {
	struct s2_route *r;
	size_t n, cap;
};

static uint32_t route_word(struct rclass *rc, const struct s2_route *r)
{
	bool small = r->w[0] < (1u << 26);
	for (unsigned w = 1; w < S2_ROUTE_WORDS; w++)
		small &= r->w[w] == 0;
	if (small)
		return r->w[0];
	for (size_t i = 0; i < rc->n; i++)
		if (!memcmp(&rc->r[i], r, sizeof *r))
			return 0x80000000u | (uint32_t)i;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 256;
		rc->r = realloc(rc->r, rc->cap * sizeof *rc->r);
		if (!rc->r)
			exit(1);
	}
	rc->r[rc->n] = *r;
	return 0x80000000u | (uint32_t)rc->n++;
}

static void put_u32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f); /* the desktop tools read their host's byte order */
}

static int dump_tables(const struct s2_mapping *mp, const struct s2_machine *m, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	struct rclass rc = {0};
	size_t cap = 65536;
	struct s2_rt_entry *e = malloc(cap * sizeof *e);
	if (!e)
		return -1;
	unsigned cpb = s2_machine_chips_per_board(m);
	for (unsigned b = 0; b < s2_machine_boards(m); b++)
		for (unsigned c = 0; c < cpb; c++) {
			size_t n = s2_map_table(mp, b, c, e, cap);
			if (n < 2 || n > 65535 || s2_map_table_ordered(mp, b, c))
				continue;
			uint8_t h[4] = {(uint8_t)b, (uint8_t)c, (uint8_t)n, (uint8_t)(n >> 8)};
			fwrite(h, 1, 4, f);
			for (size_t i = 0; i < n; i++) {
				put_u32(f, e[i].key);
				put_u32(f, e[i].mask);
				put_u32(f, e[i].in < 7 ? 1u << e[i].in : 0);
				put_u32(f, route_word(&rc, &e[i].route));
			}
		}
	free(e);
	free(rc.r);
	return fclose(f) == 0 ? 0 : -1;
}

/* The zlib peer: the blobs of the image at path (back to back from byte 32 to the manifest,
 * docs/image.md) inflated and compressed again at zlib's levels 1 and 6. */
static int zlib_peer(const char *path, double img_cpu)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long fl = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = fl > 32 ? malloc((size_t)fl) : NULL;
	size_t len = b ? fread(b, 1, (size_t)fl, f) : 0;
	fclose(f);
	uint64_t mo = 0;
	for (int i = 0; i < 8 && len >= 24; i++)
		mo |= (uint64_t)b[16 + i] << (8 * i);
	if (!b || len != (size_t)fl || mo < 32 || mo > len) {
		free(b);
		return -1;
	}
	size_t cap = 1 << 20, blobs = 0;
	uint8_t *raw = malloc(cap), *z = malloc(compressBound(cap));
	uint64_t s2b = 0, zb[2] = {0, 0}, rawb = 0;
	double zc[2] = {0, 0};
	z_stream st;
	for (size_t off = 32; off < mo; blobs++) {
		memset(&st, 0, sizeof st);
		if (inflateInit(&st) != Z_OK)
			return -1;
		st.next_in = b + off;
		st.avail_in = (uInt)(mo - off);
		size_t rn = 0;
		int rc;
		do {
			if (rn == cap) {
				cap *= 2;
				raw = realloc(raw, cap);
				z = realloc(z, compressBound(cap));
			}
			st.next_out = raw + rn;
			st.avail_out = (uInt)(cap - rn);
			rc = inflate(&st, Z_NO_FLUSH);
			rn = cap - st.avail_out;
		} while (rc == Z_OK);
		size_t used = (size_t)(st.next_in - (b + off));
		inflateEnd(&st);
		if (rc != Z_STREAM_END)
			return -1;
		s2b += used;
		rawb += rn;
		off += used;
		for (int l = 0; l < 2; l++) {
			uLongf zl = compressBound(rn);
			double c0 = cpu_s();
			if (compress2(z, &zl, raw, rn, l ? 6 : 1) != Z_OK)
				return -1;
			zc[l] += cpu_s() - c0;
			zb[l] += zl;
		}
	}
	printf("zlib peer: %zu blobs, %llu bytes raw; this image's blobs %llu bytes, image CPU "
	       "%.3f s\n",
	       blobs, (unsigned long long)rawb, (unsigned long long)s2b, img_cpu);
	for (int l = 0; l < 2; l++)
		printf("zlib peer: level %d %llu bytes in %.3f s CPU (one thread); s2 / zlib: size "
		       "%.3f\n",
		       l ? 6 : 1, (unsigned long long)zb[l], zc[l], (double)s2b / (double)zb[l]);
	free(raw);
	free(z);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	struct s2_map_config cfg = {0};
	const char *image = NULL, *dump = NULL;
	bool peer = false;
	int na = 0;
	char *args[4];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--min"))
			cfg.router_min = true;
		else if (!strcmp(argv[i], "--fine-place"))
			cfg.fine_place = true;
		else if (!strcmp(argv[i], "--order-place"))
			cfg.place_order = true;
		else if (!strcmp(argv[i], "--no-verify"))
			cfg.no_verify = true;
		else if (!strcmp(argv[i], "--zlib-peer"))
			peer = true;
		else if (!strcmp(argv[i], "--dump-tables") && i + 1 < argc)
			dump = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			cfg.image_threads = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (na < 4)
			args[na++] = argv[i];
		else
			na = 5;
	}
	if (na < 3 || na > 4) {
		fprintf(stderr, "usage: bench_mapper NETWORK SCALE MACHINE [IMAGE] [--min] "
		                "[--fine-place|--order-place] [--threads N] [--no-verify] "
		                "[--dump-tables FILE] [--zlib-peer]\n");
		return 2;
	}
	if (na == 4)
		image = args[3];
	const char *net_name = args[0], *mach = args[2];
	double scale = strtod(args[1], NULL);
	struct s2_machine *m = NULL;
	if (!strncmp(mach, "boards:", 7))
		m = s2_machine_new_boards((unsigned)strtoul(mach + 7, NULL, 10), "127.0.0.1", 0);
	else if (!strcmp(mach, "rack"))
		m = s2_machine_new_racks(1, "127.0.0.1", 0);
	else if (!strncmp(mach, "racks:", 6))
		m = s2_machine_new_racks((unsigned)strtoul(mach + 6, NULL, 10), "127.0.0.1", 0);
	if (!m) {
		fprintf(stderr, "bench_mapper: bad machine '%s'\n", mach);
		return 2;
	}
	char err[512];
	double t0 = now_s();
	struct s2_net *n = s2_net_example(net_name, scale, err, sizeof err);
	double t1 = now_s();
	if (!n) {
		fprintf(stderr, "bench_mapper: %s\n", err);
		return 1;
	}
	struct s2_mapping *mp = s2_map_new(n, m, &cfg);
	if (!mp || s2_map_run(mp, err, sizeof err) < 0) {
		fprintf(stderr, "bench_mapper: %s\n", mp ? err : "out of memory");
		return 1;
	}
	const struct s2_map_report *r = s2_map_report(mp);
	double img = 0, img_cpu = 0;
	if (image) {
		double t2 = now_s(), c2 = cpu_s();
		if (s2_image_write(mp, image, err, sizeof err) < 0) {
			fprintf(stderr, "bench_mapper: %s\n", err);
			return 1;
		}
		img = now_s() - t2;
		img_cpu = cpu_s() - c2;
	}
	static const char *names[] = {"",      "partition", "place", "keys",
	                              "route", "tables",    "verify"};
	printf("network:   %s x %g: %u populations, %llu neurons, %u projections\n", net_name,
	       scale, s2_net_populations(n), (unsigned long long)s2_net_neurons(n),
	       s2_net_projections(n));
	printf("machine:   %s, %llu PEs\n", s2_machine_name(m),
	       (unsigned long long)s2_machine_total_pes(m));
	printf("generate:  %8.3f s\n", t1 - t0);
	double total = 0;
	for (int s = 1; s <= 6; s++) {
		printf("%-10s %8.3f s\n", names[s], r->seconds[s]);
		total += r->seconds[s];
	}
	if (image)
		printf("image:     %8.3f s (CPU %.3f s, all threads)\n", img, img_cpu);
	if (image && peer && zlib_peer(image, img_cpu) < 0) {
		fprintf(stderr, "bench_mapper: --zlib-peer: cannot read the blobs of %s\n", image);
		return 1;
	}
	printf("total:     %8.3f s (mapping%s)\n", total + img, image ? " and image" : "");
	printf("result:    %llu PEs on %u chips, %u boards; %llu routes; entries %llu -> %llu "
	       "(max/chip %u -> %u, %u chips compressed)\n",
	       (unsigned long long)r->parts, r->chips, r->boards, (unsigned long long)r->routes,
	       (unsigned long long)r->entries_before, (unsigned long long)r->entries_after,
	       r->max_entries_before, r->max_entries_after, r->chips_compressed);
	printf("keys:      %llu used, span %llu (mode %u); busiest link %.3g packets/step; %.4g "
	       "synaptic events/step\n",
	       (unsigned long long)r->keys_used, (unsigned long long)r->key_span, r->key_mode,
	       r->busiest_link_load, r->synaptic_events_per_step);
	printf("hops:      mean %.4f per spike, worst %u, longest path %u\n", r->hops_mean,
	       r->hops_max, r->path_max);
	if (r->hops_mean_other >= 0)
		printf("placement: %s order kept; the other gave %.4f hops per spike\n",
		       r->placed_by_traffic ? "traffic" : "population", r->hops_mean_other);
	else
		printf("placement: %s order\n", r->placed_by_traffic ? "traffic" : "population");
	printf("peak RSS:  %ld MiB\n", peak_rss_mib());
	if (dump && dump_tables(mp, m, dump) < 0) {
		fprintf(stderr, "bench_mapper: cannot write %s\n", dump);
		return 1;
	}
	s2_map_free(mp);
	s2_net_free(n);
	s2_machine_free(m);
	return 0;
}
