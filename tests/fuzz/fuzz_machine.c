/*
 * Fuzz target for machine descriptions (s2_machine_decode, docs/machine.md): any bytes must
 * either be rejected with a message or give a machine that answers every query in range, and
 * that encodes and decodes back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	err[0] = 0;
	struct s2_machine *m = s2_machine_decode(data, size, err, sizeof err);
	if (!m) {
		if (!err[0])
			abort(); /* every rejection says why */
		return 0;
	}
	/* Bounded walk: the first boards' chips, every link, hops back to chip 0. */
	unsigned boards = s2_machine_boards(m), chips = s2_machine_chips_per_board(m);
	for (unsigned b = 0; b < boards && b < 4; b++)
		for (unsigned c = 0; c < chips && c < 64; c++) {
			unsigned x, y, b2, c2;
			s2_machine_chip_xy(m, b, c, &x, &y);
			if (!s2_machine_chip_at(m, x, y, &b2, &c2) || b2 != b || c2 != c)
				abort();
			for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
				unsigned nb, nc;
				if (s2_machine_neighbour(m, b, c, l, &nb, &nc) &&
				    (nb >= boards || nc >= chips))
					abort();
			}
			(void)s2_machine_hops(m, 0, 0, b, c);
			(void)s2_machine_link_dead(m, b, c, 0);
		}
	uint8_t *a, *b;
	size_t al, bl;
	if (s2_machine_encode(m, &a, &al) < 0)
		abort();
	struct s2_machine *r = s2_machine_decode(a, al, err, sizeof err);
	if (!r)
		abort(); /* what we write, we read */
	if (s2_machine_encode(r, &b, &bl) < 0 || al != bl || memcmp(a, b, al) != 0)
		abort();
	free(a);
	free(b);
	s2_machine_free(r);
	s2_machine_free(m);
	return 0;
}
