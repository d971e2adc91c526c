/*
 * Host tests of the proto wire core: the shared cases (also run on Cortex-M4F under QEMU),
 * plus host-only checks against zlib's crc32() and the golden vector file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "cmocka_runner.h"
#include "s2/crc32.h"
#include "s2test.h"

static const char *golden_path;

static void t_crc_matches_zlib(void **state)
{
	(void)state;
	static unsigned char buf[70000];
	unsigned s = 12345;
	for (size_t i = 0; i < sizeof buf; i++) {
		s = s * 1103515245u + 12345u;
		buf[i] = (unsigned char)(s >> 16);
	}
	/* Every length to 300 at every alignment to 8, then long and split runs. */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			assert_int_equal(s2_crc32(0, buf + off, len),
			                 crc32(0L, buf + off, (uInt)len));
	assert_int_equal(s2_crc32(0, buf, sizeof buf), crc32(0L, buf, sizeof buf));
	uint32_t c = s2_crc32(0, buf, 777);
	c = s2_crc32(c, buf + 777, sizeof buf - 777);
	assert_int_equal(c, crc32(0L, buf, sizeof buf));
	/* Continuing a zlib CRC with ours and the other way round. */
	assert_int_equal(s2_crc32((uint32_t)crc32(0L, buf, 1000), buf + 1000, 5000),
	                 crc32(0L, buf, 6000));
}

struct collect {
	char *text;
	size_t len, cap;
};

static void collect_line(const char *line, void *ctx)
{
	struct collect *c = ctx;
	size_t n = strlen(line);
	if (c->len + n + 2 > c->cap) {
		c->cap = (c->len + n + 2) * 2;
		c->text = realloc(c->text, c->cap);
		assert_non_null(c->text);
	}
	memcpy(c->text + c->len, line, n);
	c->len += n;
	c->text[c->len++] = '\n';
	c->text[c->len] = 0;
}

static void t_vectors_match_golden(void **state)
{
	(void)state;
	struct collect got = {0};
	s2_proto_vectors(collect_line, &got);

	FILE *f = fopen(golden_path, "rb");
	if (!f)
		fail_msg("cannot open golden file %s", golden_path);
	static char want[1 << 16];
	size_t n = fread(want, 1, sizeof want - 1, f);
	want[n] = 0;
	/* The golden CRC lines themselves are checked against zlib, independently of s2. */
	size_t dlen;
	const uint8_t *data = s2_proto_vector_data(&dlen);
	unsigned checked = 0;
	for (char *line = strtok(want, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned off, len, crc;
		if (sscanf(line, "crc off=%u len=%u 0x%x", &off, &len, &crc) != 3)
			continue;
		assert_true(off + len <= dlen);
		assert_int_equal(crc, crc32(0L, data + off, len));
		checked++;
	}
	assert_true(checked >= 200);
	fseek(f, 0, SEEK_SET);
	n = fread(want, 1, sizeof want - 1, f);
	fclose(f);
	want[n] = 0;
	if (got.len != n || memcmp(got.text, want, n) != 0) {
		fprintf(stderr, "vectors differ from %s; got:\n%s", golden_path, got.text);
		free(got.text);
		fail();
	}
	free(got.text);
}

int main(int argc, char **argv)
{
	/* With --dump, print the vectors (how proto_vectors.golden is made and reviewed). */
	if (argc == 2 && strcmp(argv[1], "--dump") == 0) {
		struct collect got = {0};
		s2_proto_vectors(collect_line, &got);
		fputs(got.text, stdout);
		free(got.text);
		return 0;
	}
	golden_path = argc > 1 ? argv[1] : "proto_vectors.golden";
	const struct CMUnitTest extra[] = {
	        cmocka_unit_test(t_crc_matches_zlib),
	        cmocka_unit_test(t_vectors_match_golden),
	};
	int failed = s2t_run_cmocka("proto", s2_proto_cases, s2_proto_ncases, extra,
	                            sizeof extra / sizeof extra[0]);
	failed += s2t_run_cmocka("msg", s2_msg_cases, s2_msg_ncases, NULL, 0);
	return failed ? 1 : 0;
}
