/* Hourly grid carbon intensity (energy_grid.h). */
#include "energy_grid_internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t eg_utc_seconds(int y, int mo, int d, int h, int mi, int s)
{
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

void eg_utc_string(int64_t t, char out[32])
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, sec = t - days * 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999; /* outside what an hourly CSV can name */
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)(m % 100), (int)(d % 100),
	         (int)(sec / 3600 % 100), (int)(sec / 60 % 60), (int)(sec % 60));
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* A whole hour "YYYY-MM-DDTHH:00:00Z" or "YYYY-MM-DDTHH:00Z"; false if it is not one. */
static bool parse_hour(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, sec = 0, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || s[n]) {
		n = 0;
		sec = 0;
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &n) != 5 || s[n])
			return false;
	}
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h < 0 || h > 23 || mi != 0 || sec != 0)
		return false;
	*t = eg_utc_seconds(y, mo, d, h, 0, 0);
	return true;
}

/* Split a line into at most max comma-separated fields (trimmed, in place). */
static unsigned split(char *line, char **f, unsigned max)
{
	unsigned n = 0;
	for (char *p = line; n < max;) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		char *e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = 0;
		f[n++] = p;
		if (!c)
			break;
		p = c + 1;
	}
	return n;
}

int eg_parse(const char *text, size_t len, struct eg_hourly *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	int col_hour = -1, col_g = -1;
	size_t cap = 0, line = 0;
	for (size_t pos = 0; pos < len;) {
		size_t e = pos;
		while (e < len && text[e] != '\n')
			e++;
		char buf[1024];
		line++;
		if (e - pos >= sizeof buf) {
			snprintf(err, errlen, "line %zu: longer than %zu characters", line,
			         sizeof buf - 1);
			rc = S2_E_FORMAT;
			goto fail;
		}
		memcpy(buf, text + pos, e - pos);
		buf[e - pos] = 0;
		pos = e + 1;
		if (buf[0] == '#') {
			static const char *const keys[] = {"dataset", "zone", "year", "scope"};
			char *slot[] = {out->dataset, out->zone, out->year, out->scope};
			size_t cap_of[] = {sizeof out->dataset, sizeof out->zone, sizeof out->year,
			                   sizeof out->scope};
			char *p = buf + 1;
			while (*p == ' ')
				p++;
			for (unsigned k = 0; k < 4; k++) {
				size_t kl = strlen(keys[k]);
				if (strncmp(p, keys[k], kl) || p[kl] != ':')
					continue;
				char *v = p + kl + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				char *e2 = v + strlen(v);
				while (e2 > v &&
				       (e2[-1] == ' ' || e2[-1] == '\r' || e2[-1] == '\t'))
					*--e2 = 0;
				if (!*v || strlen(v) >= cap_of[k]) {
					snprintf(err, errlen,
					         "line %zu: %s: empty or longer than %zu", line,
					         keys[k], cap_of[k] - 1);
					rc = S2_E_FORMAT;
					goto fail;
				}
				memcpy(slot[k], v, strlen(v) + 1);
			}
			continue;
		}
		char *f[32];
		unsigned nf = split(buf, f, 32);
		if (nf == 1 && !f[0][0])
			continue; /* blank line */
		if (col_hour < 0) {
			for (unsigned k = 0; k < nf; k++) {
				if (!strcmp(f[k], "hour_utc"))
					col_hour = (int)k;
				else if (!strcmp(f[k], "g_per_kwh"))
					col_g = (int)k;
			}
			if (col_hour < 0 || col_g < 0) {
				snprintf(err, errlen,
				         "line %zu: the header must name the columns hour_utc and "
				         "g_per_kwh",
				         line);
				rc = S2_E_FORMAT;
				goto fail;
			}
			continue;
		}
		if ((int)nf <= col_hour || (int)nf <= col_g) {
			snprintf(err, errlen,
			         "line %zu: %u fields, fewer than the header's columns", line, nf);
			rc = S2_E_FORMAT;
			goto fail;
		}
		int64_t t;
		if (!parse_hour(f[col_hour], &t)) {
			snprintf(err, errlen,
			         "line %zu: hour_utc '%.40s' is not a whole UTC hour "
			         "(YYYY-MM-DDTHH:00:00Z)",
			         line, f[col_hour]);
			rc = S2_E_FORMAT;
			goto fail;
		}
		char *end;
		double g = strtod(f[col_g], &end);
		if (end == f[col_g] || *end || !(g >= 0 && g <= 5000)) {
			snprintf(err, errlen,
			         "line %zu: g_per_kwh '%.40s' is not a number in 0..5000", line,
			         f[col_g]);
			rc = S2_E_RANGE;
			goto fail;
		}
		if (out->n && t <= out->h[out->n - 1].hour) {
			snprintf(err, errlen,
			         "line %zu: hour_utc %.40s does not come after the line before's: "
			         "the "
			         "hours must increase",
			         line, f[col_hour]);
			rc = S2_E_FORMAT;
			goto fail;
		}
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			struct eg_hour *q = realloc(out->h, cap * sizeof *q);
			if (!q) {
				snprintf(err, errlen, "out of memory");
				rc = S2_E_NOMEM;
				goto fail;
			}
			out->h = q;
		}
		out->h[out->n++] = (struct eg_hour){t, g};
	}
	if (col_hour < 0) {
		snprintf(err, errlen, "no header line (hour_utc,g_per_kwh)");
		rc = S2_E_FORMAT;
		goto fail;
	}
	if (!out->n) {
		snprintf(err, errlen, "no hours after the header");
		rc = S2_E_FORMAT;
		goto fail;
	}
	static const char *const need[] = {"dataset", "zone", "year", "scope"};
	const char *have[] = {out->dataset, out->zone, out->year, out->scope};
	for (unsigned k = 0; k < 4; k++)
		if (!have[k][0]) {
			snprintf(err, errlen,
			         "no '# %s: ...' line: the file must name its dataset, zone, year "
			         "and "
			         "scope",
			         need[k]);
			rc = S2_E_FORMAT;
			goto fail;
		}
	return 0;
fail:
	eg_free(out);
	return rc;
}

void eg_free(struct eg_hourly *g)
{
	free(g->h);
	memset(g, 0, sizeof *g);
}

const struct eg_hour *eg_find(const struct eg_hourly *g, int64_t t)
{
	int64_t hour = t >= 0 ? t / 3600 * 3600 : (t - 3599) / 3600 * 3600;
	size_t lo = 0, hi = g->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->h[mid].hour < hour)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->n && g->h[lo].hour == hour ? &g->h[lo] : NULL;
}
