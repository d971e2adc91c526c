/*
 * Fuzz target for the .npy reader used by `s2ctl net import-nir --input`: any bytes are
 * parsed; a rejection must say why and leave no array, an accepted array must hold exactly
 * the product of its dimensions.
 */
#include <stdint.h>
#include <stdlib.h>

#include "nir_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npy_array a;
	char err[256];
	err[0] = 0;
	if (npy_parse(data, size, &a, err, sizeof err) < 0) {
		if (!err[0] || a.v)
			abort();
		return 0;
	}
	size_t n = 1;
	for (unsigned i = 0; i < a.rank; i++)
		n *= (size_t)a.dims[i];
	if (n != a.n)
		abort();
	volatile double s = 0;
	for (size_t i = 0; i < a.n; i++)
		s += a.v[i];
	(void)s;
	npy_free(&a);
	return 0;
}
