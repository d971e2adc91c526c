/*
 * Fuzz target for binary network files (s2_net_decode_file, docs/network.md): any bytes are
 * accepted or refused with a message naming the file; an accepted network encodes to a file
 * that decodes again. Inputs starting with 0x01 are the protobuf content, wrapped by the
 * harness (fuzz_wrap.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_wrap.h"
#include "s2/network.h"

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
	        fuzz_file(data, size, S2_SFILE_KIND('N', 'E', 'T', 'W'), 1, name, &len, &owned);
	if (!file)
		return 0;
	char err[1024];
	err[0] = 0;
	struct s2_net *n = s2_net_decode_file(file, len, "n.pb", err, sizeof err);
	free(owned);
	if (!n) {
		if (strncmp(err, "n.pb: ", 6) != 0)
			abort();
		return 0;
	}
	uint8_t *a;
	size_t al;
	if (s2_net_encode_file(n, &a, &al) < 0)
		abort();
	struct s2_net *r = s2_net_decode_file(a, al, "n2.pb", err, sizeof err);
	if (!r)
		abort(); /* what we write, we read */
	free(a);
	s2_net_free(r);
	s2_net_free(n);
	return 0;
}
