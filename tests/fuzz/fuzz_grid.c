/*
 * Fuzz target for the hourly grid-intensity CSV of `s2ctl energy report --grid-hourly`
 * (host/lib/energy/energy_grid.c): any bytes are parsed; a rejection must say why and leave
 * nothing, an accepted file must hold strictly increasing whole hours with intensities in range and
 * name its dataset, zone, year and scope, and every hour must be found by eg_find.
 */
#include <stdint.h>
#include <stdlib.h>

#include "energy_grid_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eg_hourly g;
	char err[256];
	err[0] = 0;
	if (eg_parse((const char *)data, size, &g, err, sizeof err) < 0) {
		if (!err[0] || g.h || g.n)
			abort();
		return 0;
	}
	if (!g.n || !g.dataset[0] || !g.zone[0] || !g.year[0] || !g.scope[0])
		abort();
	for (size_t i = 0; i < g.n; i++) {
		if (g.h[i].hour % 3600 || !(g.h[i].g_per_kwh >= 0 && g.h[i].g_per_kwh <= 5000) ||
		    (i && g.h[i].hour <= g.h[i - 1].hour))
			abort();
		if (eg_find(&g, g.h[i].hour + 1800) != &g.h[i])
			abort();
		char s[32];
		eg_utc_string(g.h[i].hour, s);
	}
	eg_free(&g);
	return 0;
}
