/*
 * Fuzz target for results files (s2_results_decode, docs/cli/results.md): any bytes are accepted
 * or refused with a message naming the file, never read out of bounds; what is accepted keeps
 * every spike inside its population and run, and a partial run is refused unless allowed.
 * Inputs starting with 0x01 are section contents wrapped by the harness (fuzz_wrap.h) as a
 * file of the current format (4), 0x03 the same as format 3, 0x02 as format 2; the sections
 * after the populations are named "clipping", "plastic" and "budget".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_wrap.h"
#include "s2/results.h"
#include "s2/error.h"
#include "s2/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char label[256];
static uint64_t n_pops; /* from the "run" section */

static void name(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len)
{
	if (i == 0) {
		n_pops = n >= 16 ? s2_ld32(sec + 12) : 0;
		snprintf(buf, len, "run");
	} else if (i >= 2 + 2 * n_pops) {
		snprintf(buf, len, "%s",
		         i == 2 + 2 * n_pops   ? "clipping"
		         : i == 3 + 2 * n_pops ? "plastic"
		                               : "budget");
	} else if (i == 1) {
		snprintf(buf, len, "boards");
	} else if (i % 2 == 0) { /* spikes: the label is at its start */
		size_t ll = n >= 2 ? s2_ld16(sec) : 0;
		if (ll > n - 2 || ll > 200)
			ll = 0;
		memcpy(label, sec + 2, ll);
		label[ll] = 0;
		snprintf(buf, len, "population %.200s spikes", label);
	} else {
		snprintf(buf, len, "population %.200s voltages", label);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *owned;
	size_t len;
	uint16_t version = 4;
	uint8_t *v2 = NULL;
	if (size && (data[0] == 0x02 || data[0] == 0x03)) { /* formats 2, 3: wrapped like 0x01 */
		if (!(v2 = malloc(size)))
			return 0;
		memcpy(v2, data, size);
		version = data[0];
		v2[0] = 0x01;
		data = v2;
	}
	const uint8_t *file = fuzz_file(data, size, S2_SFILE_KIND('R', 'S', 'L', 'T'), version,
	                                name, &len, &owned);
	free(v2);
	if (!file)
		return 0;
	char err[1024];
	int rc;
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned flags = pass ? S2_RESULTS_ALLOW_PARTIAL : 0;
		err[0] = 0;
		struct s2_results *r =
		        s2_results_decode(file, len, "r.s2res", flags, &rc, err, sizeof err);
		if (!r) {
			if (strncmp(err, "r.s2res: ", 9) != 0 || rc >= 0)
				abort();
			continue;
		}
		if (!r->complete && !(flags & S2_RESULTS_ALLOW_PARTIAL))
			abort(); /* a partial run never reads as complete */
		for (unsigned p = 0; p < r->n_pops; p++)
			for (uint64_t i = 0; i < r->pops[p].n_spikes; i++)
				if (r->pops[p].spikes[i].neuron >= r->pops[p].size ||
				    r->pops[p].spikes[i].step >= r->steps)
					abort();
		char why[300];
		s2_results_partial_why(r, why, sizeof why);
		s2_results_free(r);
	}
	free(owned);
	return 0;
}
