/*
 * Fuzz target for network descriptions (docs/network.md): bytes starting with '{' go to the
 * JSON reader, anything else to the binary decoder. Every rejection must say why; every
 * accepted network must encode, write JSON, read that JSON back and encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	err[0] = 0;
	struct s2_net *n = size && data[0] == '{'
	                           ? s2_net_from_json((const char *)data, size, err, sizeof err)
	                           : s2_net_decode(data, size, err, sizeof err);
	if (!n) {
		if (!err[0])
			abort();
		return 0;
	}
	for (unsigned p = 0; p < s2_net_populations(n); p++)
		(void)s2_net_pop_size(n, p);
	for (unsigned j = 0; j < s2_net_projections(n); j++)
		(void)s2_net_proj_synapses(n, j);
	uint8_t *a, *b;
	size_t al, bl, jl;
	char *json;
	if (s2_net_encode(n, &a, &al) < 0 || s2_net_to_json(n, &json, &jl) < 0)
		abort();
	struct s2_net *r = s2_net_from_json(json, jl, err, sizeof err);
	if (!r)
		abort(); /* what we write, we read */
	if (s2_net_encode(r, &b, &bl) < 0 || al != bl || memcmp(a, b, al) != 0)
		abort();
	free(a);
	free(b);
	free(json);
	s2_net_free(r);
	s2_net_free(n);
	return 0;
}
