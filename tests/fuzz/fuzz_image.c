/*
 * Fuzz target for network images (s2_image_check, docs/image.md): any bytes must be accepted
 * or rejected with a message, never read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "s2/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	err[0] = 0;
	struct s2_image_summary sum;
	if (s2_image_check(data, size, &sum, err, sizeof err) < 0 && !err[0])
		abort(); /* every rejection says why */
	return 0;
}
