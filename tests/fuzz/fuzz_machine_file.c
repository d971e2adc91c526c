/*
 * Fuzz target for machine description files (s2_machine_decode_file, docs/machine.md): any
 * bytes are accepted or refused with a message naming the file; an accepted description
 * encodes to a file that decodes again and encodes to the same bytes. Inputs starting with
 * 0x01 are the protobuf content, wrapped by the harness (fuzz_wrap.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_wrap.h"
#include "s2/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void name(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len)
{
	(void)sec;
	(void)n;
	snprintf(buf, len, "part %u", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *owned;
	size_t len;
	const uint8_t *file =
	        fuzz_file(data, size, S2_SFILE_KIND('M', 'A', 'C', 'H'), 1, name, &len, &owned);
	if (!file)
		return 0;
	char err[512];
	err[0] = 0;
	struct s2_machine *m = s2_machine_decode_file(file, len, "m.pb", err, sizeof err);
	free(owned);
	if (!m) {
		if (strncmp(err, "m.pb: ", 6) != 0)
			abort();
		return 0;
	}
	uint8_t *a, *b;
	size_t al, bl;
	if (s2_machine_encode_file(m, &a, &al) < 0)
		abort();
	struct s2_machine *r = s2_machine_decode_file(a, al, "m2.pb", err, sizeof err);
	if (!r)
		abort(); /* what we write, we read */
	if (s2_machine_encode_file(r, &b, &bl) < 0 || al != bl || memcmp(a, b, al) != 0)
		abort();
	free(a);
	free(b);
	s2_machine_free(r);
	s2_machine_free(m);
	return 0;
}
