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
	char dir[] = "/tmp/s2imgXXXXXX", a[64], b[64], err[512];
	assert_non_null(mkdtemp(dir));
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
	char dir[] = "/tmp/s2imgXXXXXX", a[64], b[64], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.s2img", dir);
	snprintf(b, sizeof b, "%s/b.s2img", dir);
	const char *names[] = {"microcircuit", "synthetic_board"};
	const double scales[] = {0.3, 0.1};
	const unsigned threads[] = {2, 1, 3, 7};
	for (int i = 0; i < 2; i++) {
		char e2[512];
		struct s2_net *n = s2_net_example(names[i], scales[i], e2, sizeof e2);
		struct s2_machine *m = s2_machine_new_boards(1, "h", 0);
		size_t al = 0;
		uint8_t *ab = NULL;
		for (int t = 0; t < 4; t++) {
			struct s2_map_config cfg = {.image_threads = threads[t],
			                            .router_min = i == 1};
			struct s2_mapping *mp = s2_map_new(n, m, &cfg);
			assert_int_equal(s2_map_run(mp, err, sizeof err), 0);
			assert_true(s2_map_report(mp)->chips > 1);
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

static void t_corrupt(void **state)
{
	(void)state;
	char path[] = "/tmp/s2imgcXXXXXX", err[512];
	int fd = mkstemp(path);
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
	        cmocka_unit_test(t_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
