/*
 * Images: written deterministically and atomically, checked on reading (header, manifest,
 * blob bounds, CRCs, inflation, chip and PE structure), corruption found and named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "map_internal.h"
#include "cmocka_runner.h"
#include "s2/error.h"
#include "s2/image.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static struct s2_mapping *mapped(struct s2_net **n, struct s2_machine **m, const char *name,
                                 double scale)
{
	char err[512];
	*n = s2_net_example(name, scale, err, sizeof err);
	*m = s2_machine_new_boards(1, "h", 0);
	struct s2_mapping *mp = s2_map_new(*n, *m, NULL);
	if (s2_map_run(mp, err, sizeof err) < 0)
		fail_msg("%s", err);
	return mp;
}

static void t_write_check(void **state)
{
	(void)state;
	char dir[512], a[1024], b[1024], err[512];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2img"));
	snprintf(a, sizeof a, "%s/a.s2img", dir);
	snprintf(b, sizeof b, "%s/b.s2img", dir);
	const char *names[] = {"microcircuit", "brunel", "synfire", "vogels_abbott"};
	for (int i = 0; i < 4; i++) {
		struct s2_net *n;
		struct s2_machine *m;
		struct s2_mapping *mp = mapped(&n, &m, names[i], 0.02);
		assert_int_equal(s2_image_write(mp, a, err, sizeof err), 0);
		s2_map_free(mp);
		/* a second mapping from scratch gives the same bytes */
		struct s2_mapping *mp2 = s2_map_new(n, m, NULL);
		assert_int_equal(s2_map_run(mp2, err, sizeof err), 0);
		assert_int_equal(s2_image_write(mp2, b, err, sizeof err), 0);
		size_t al, bl;
		uint8_t *ab = slurp(a, &al), *bb = slurp(b, &bl);
		assert_int_equal(al, bl);
		assert_memory_equal(ab, bb, al);
		struct s2_image_summary sum;
		if (s2_image_check(ab, al, &sum, err, sizeof err) < 0)
			fail_msg("%s: %s", names[i], err);
		assert_int_equal(sum.pes, s2_map_report(mp2)->parts);
		assert_int_equal(sum.router_entries, s2_map_report(mp2)->entries_after);
		free(ab);
		free(bb);
		s2_map_free(mp2);
		s2_machine_free(m);
		s2_net_free(n);
	}
	unlink(a);
	unlink(b);
	rmdir(dir);
}

/* The image's bytes do not depend on the number of threads building it (1, 2, 3 and 7, on
 * networks with several chips), nor on tables compressed to the minimum. */
static void t_threads(void **state)
{
	(void)state;
	char dir[512], a[1024], b[1024], err[512];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2img"));
	snprintf(a, sizeof a, "%s/a.s2img", dir);
	snprintf(b, sizeof b, "%s/b.s2img", dir);
	/* the last: more chips (288) than the writer's window of chips built ahead (256) */
	const char *names[] = {"microcircuit", "synthetic_board", "synthetic_board"};
	const double scales[] = {0.3, 0.1, 6};
	const unsigned boards[] = {1, 1, 7};
	const unsigned threads[] = {2, 1, 3, 7};
	for (int i = 0; i < 3; i++) {
		char e2[512];
		struct s2_net *n = s2_net_example(names[i], scales[i], e2, sizeof e2);
		struct s2_machine *m = s2_machine_new_boards(boards[i], "h", 0);
		size_t al = 0;
		uint8_t *ab = NULL;
		for (int t = 0; t < 4; t++) {
			struct s2_map_config cfg = {.image_threads = threads[t],
			                            .router_min = i == 1};
			struct s2_mapping *mp = s2_map_new(n, m, &cfg);
			assert_int_equal(s2_map_run(mp, err, sizeof err), 0);
			assert_true(s2_map_report(mp)->chips > (i == 2 ? 256u : 1u));
			assert_int_equal(s2_image_write(mp, t ? b : a, err, sizeof err), 0);
			s2_map_free(mp);
			if (t == 0) {
				ab = slurp(a, &al);
				continue;
			}
			size_t bl;
			uint8_t *bb = slurp(b, &bl);
			assert_int_equal(al, bl);
			assert_memory_equal(ab, bb, al);
			free(bb);
		}
		struct s2_image_summary sum;
		if (s2_image_check(ab, al, &sum, err, sizeof err) < 0)
			fail_msg("%s: %s", names[i], err);
		free(ab);
		s2_machine_free(m);
		s2_net_free(n);
	}
	unlink(a);
	unlink(b);
	rmdir(dir);
}

/* xorshift64*, for the encoder test's inputs */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* image_deflate: zlib's inflate gives back every input, whatever the spans say (distances
 * of 0, beyond the data seen, beyond the 32 KiB window, the record length, wrong ones),
 * on random bytes, repeated records with a few bytes changed, runs, and the edges (0 and 1
 * bytes, matches of 257-259 bytes, a match ending at the last byte); too small an output
 * buffer gives 0, never a partial stream. */
static void t_deflate(void **state)
{
	(void)state;
	uint64_t seed = 0x5EED5EEDull;
	size_t cap = 200000;
	uint8_t *in = malloc(cap), *out = malloc(image_deflate_bound(cap)), *back = malloc(cap + 1);
	struct image_span sp[64];
	for (int iter = 0; iter < 400; iter++) {
		size_t n = iter == 0 ? 0 : iter == 1 ? 1 : rnd(&seed) % (iter < 200 ? 2000 : cap);
		unsigned kind = (unsigned)(rnd(&seed) % 4);
		size_t rec = 1 + rnd(&seed) % 400;
		for (size_t i = 0; i < n; i++) {
			if (kind == 0 || i < rec) /* random bytes */
				in[i] = (uint8_t)rnd(&seed);
			else if (kind == 1) /* records repeating with a few changes */
				in[i] = rnd(&seed) % 23 ? in[i - rec] : (uint8_t)rnd(&seed);
			else if (kind == 2) /* runs */
				in[i] = rnd(&seed) % 300 ? in[i - 1] : (uint8_t)rnd(&seed);
			else /* exact repetition: long matches */
				in[i] = in[i - rec];
		}
		size_t nsp = (size_t)(rnd(&seed) % 64);
		uint32_t at = 0;
		for (size_t k = 0; k < nsp; k++) {
			at += (uint32_t)(n ? rnd(&seed) % (n / (nsp ? nsp : 1) + 1) : 0);
			uint64_t r = rnd(&seed) % 6;
			uint32_t dist = r == 0   ? 0
			                : r == 1 ? (uint32_t)rec
			                : r == 2 ? 32768 + (uint32_t)(rnd(&seed) % 3) - 1
			                : r == 3 ? (uint32_t)(rnd(&seed) % 70000)
			                         : 1 + (uint32_t)(rnd(&seed) % 300);
			sp[k] = (struct image_span){at, dist};
		}
		size_t zl = image_deflate(in, n, sp, nsp, out, image_deflate_bound(n), NULL);
		assert_true(zl > 0);
		assert_true(zl <= image_deflate_bound(n));
		uLongf bl = (uLongf)cap + 1;
		if (uncompress(back, &bl, out, zl) != Z_OK)
			fail_msg("iteration %d (%zu bytes, kind %u): not a zlib stream", iter, n,
			         kind);
		assert_int_equal(bl, n);
		assert_memory_equal(back, in, n);
		if (kind == 3 && n > 10000) { /* repetition at the span's distance is found */
			struct image_span one = {0, (uint32_t)rec};
			size_t z1 =
			        image_deflate(in, n, &one, 1, out, image_deflate_bound(n), NULL);
			assert_true(z1 > 0 && z1 < n / 20);
			bl = (uLongf)cap + 1;
			assert_int_equal(uncompress(back, &bl, out, z1), Z_OK);
			assert_int_equal(bl, n);
			assert_memory_equal(back, in, n);
			assert_int_equal(image_deflate(in, n, &one, 1, out, z1 - 1, NULL), 0);
		}
		/* an output buffer one byte short: 0 */
		assert_int_equal(image_deflate(in, n, sp, nsp, out, zl - 1, NULL), 0);
	}
	/* Huffman codes made for the block (BTYPE 2) where they are smaller than the fixed ones:
	 * two letters cost 1 and 2 bits; and literal counts growing as the Fibonacci numbers
	 * (24 symbols, 121392 bytes) would need codes of 23 bits: limited to 15, still read back.
	 */
	for (int t = 0; t < 2; t++) {
		size_t n = 0;
		if (t == 0) {
			for (; n < 20000; n++)
				in[n] = rnd(&seed) & 1 ? 'a' : 'b';
		} else {
			uint64_t f0 = 1, f1 = 1;
			for (unsigned sym = 0; sym < 24; sym++) {
				for (uint64_t k = 0; k < f0; k++)
					in[n++] = (uint8_t)(sym * 7);
				uint64_t f2 = f0 + f1;
				f0 = f1;
				f1 = f2;
			}
		}
		size_t zl = image_deflate(in, n, NULL, 0, out, image_deflate_bound(n), NULL);
		assert_true(zl > 0);
		assert_int_equal(out[2] >> 1 & 3, 2); /* BFINAL 1, BTYPE 10: dynamic codes */
		if (t == 0)
			assert_true(zl < n / 4); /* fixed codes: 8 bits a letter */
		uLongf bl = (uLongf)cap + 1;
		assert_int_equal(uncompress(back, &bl, out, zl), Z_OK);
		assert_int_equal(bl, n);
		assert_memory_equal(back, in, n);
	}
	free(in);
	free(out);
	free(back);
}

static void t_corrupt(void **state)
{
	(void)state;
	char path[1024], err[512];
	int fd = s2t_mkstemp(path, sizeof path, "s2imgc");
	assert_true(fd >= 0);
	close(fd);
	struct s2_net *n;
	struct s2_machine *m;
	struct s2_mapping *mp = mapped(&n, &m, "brunel", 0.01);
	assert_int_equal(s2_image_write(mp, path, err, sizeof err), 0);
	size_t len;
	uint8_t *img = slurp(path, &len);
	struct s2_image_summary sum;
	assert_int_equal(s2_image_check(img, len, &sum, err, sizeof err), 0);
	/* a flipped byte in the first blob: its CRC */
	img[40] ^= 0x55;
	assert_int_equal(s2_image_check(img, len, &sum, err, sizeof err), S2_E_CRC);
	assert_non_null(strstr(err, "blobs[0] (board 0 chip"));
	img[40] ^= 0x55;
	/* a flipped byte in the manifest */
	img[len - 3] ^= 1;
	assert_int_equal(s2_image_check(img, len, &sum, err, sizeof err), S2_E_CRC);
	assert_non_null(strstr(err, "manifest"));
	img[len - 3] ^= 1;
	/* truncated, bad magic, bad version */
	assert_int_equal(s2_image_check(img, len - 10, &sum, err, sizeof err), S2_E_SHORT);
	assert_non_null(strstr(err, "truncated: header says"));
	img[8] = 9;
	assert_int_equal(s2_image_check(img, len, &sum, err, sizeof err), S2_E_VERSION);
	img[0] = 'X';
	assert_int_equal(s2_image_check(img, len, &sum, err, sizeof err), S2_E_FORMAT);
	free(img);
	unlink(path);
	/* failure leaves no file: a directory that does not exist */
	assert_int_equal(s2_image_write(mp, "/nonexistent/dir/x.s2img", err, sizeof err), S2_E_IO);
	struct stat st;
	assert_int_not_equal(stat("/nonexistent/dir/x.s2img", &st), 0);
	s2_map_free(mp);
	/* and an unmapped mapping writes nothing */
	mp = s2_map_new(n, m, NULL);
	assert_int_equal(s2_image_write(mp, path, err, sizeof err), S2_E_STATE);
	assert_int_not_equal(stat(path, &st), 0);
	s2_map_free(mp);
	s2_machine_free(m);
	s2_net_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_write_check),
	        cmocka_unit_test(t_threads),
	        cmocka_unit_test(t_deflate),
	        cmocka_unit_test(t_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
