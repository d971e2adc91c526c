/*
 * Time-resolved grid carbon intensity for the energy report (docs/energy.md "Carbon, hour by
 * hour"): an hourly CSV of a zone's intensity, multiplied hour by hour with the energy the run
 * spent in that hour.
 */
#ifndef S2_ENERGY_GRID_INTERNAL_H
#define S2_ENERGY_GRID_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct eg_hour {
	int64_t hour; /**< seconds since 1970-01-01T00:00Z, a whole hour */
	double g_per_kwh;
};

struct eg_hourly {
	struct eg_hour *h; /**< strictly increasing hours (gaps allowed) */
	size_t n;
	/** What the intensities are, from the file's "# key: value" lines */
	char dataset[128], zone[64], year[16], scope[64];
};

/**
 * Parse an hourly intensity CSV: comment lines `# dataset: NAME`, `# zone: ZONE`,
 * `# year: YEAR` and `# scope: SCOPE` (all four required; other `#` lines ignored) naming what
 * the numbers are, a header line naming the columns `hour_utc` and `g_per_kwh` (other columns
 * ignored), then one row per hour: `YYYY-MM-DDTHH:00:00Z` (or `...THH:00Z`), and the intensity
 * in g CO2e per kWh (0..5000). Hours must increase strictly. Trusts nothing in text[0..len).
 * @return 0, or S2_E_FORMAT / S2_E_RANGE with err naming the line and the field (out is then
 * empty).
 */
int eg_parse(const char *text, size_t len, struct eg_hourly *out, char *err, size_t errlen);
void eg_free(struct eg_hourly *g);

/** The intensity of the hour holding time t (seconds since the epoch), or NULL. */
const struct eg_hour *eg_find(const struct eg_hourly *g, int64_t t);

/** Seconds since the epoch of a UTC civil date and time (proleptic Gregorian). */
int64_t eg_utc_seconds(int y, int mo, int d, int h, int mi, int s);
/** A time (seconds since the epoch) as YYYY-MM-DDTHH:MM:SSZ into out (21 bytes). */
void eg_utc_string(int64_t t, char out[32]);

#endif
