/*
 * Fuzz target for the NIR importer (docs/nir.md): the bytes are an HDF5 file image, read
 * through libhdf5's in-memory driver into the bounded tree and imported. Every rejection
 * must say why; every accepted network must encode and read back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/network.h"
#include "s2/nir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[768];
	err[0] = 0;
	struct s2_nir_report rep;
	struct s2_net *n = s2_net_import_nir_image(data, size, NULL, &rep, err, sizeof err);
	if (!n) {
		if (!err[0])
			abort();
		return 0;
	}
	if (rep.n_pops != s2_net_populations(n))
		abort();
	uint8_t *a;
	size_t al;
	if (s2_net_encode(n, &a, &al) < 0)
		abort();
	struct s2_net *r = s2_net_decode(a, al, err, sizeof err);
	if (!r)
		abort(); /* what we build, we read */
	free(a);
	s2_net_free(r);
	s2_nir_report_free(&rep);
	s2_net_free(n);
	return 0;
}
