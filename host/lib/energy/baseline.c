/* Baseline rows and training energy for the energy report (energy_baseline.h). */
#include "energy_baseline_internal.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s2/error.h"

static int copy_str(struct json_object *o, const char *key, char *dst, size_t cap, bool need,
                    unsigned i, char *err, size_t errlen)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (!need)
			return 0;
		snprintf(err, errlen, "rows[%u]: %s missing", i, key);
		return S2_E_FORMAT;
	}
	if (!json_object_is_type(v, json_type_string) || strlen(json_object_get_string(v)) >= cap) {
		snprintf(err, errlen, "rows[%u]: %s is not a string of at most %zu bytes", i, key,
		         cap - 1);
		return S2_E_FORMAT;
	}
	strcpy(dst, json_object_get_string(v));
	return 0;
}

static int get_num(struct json_object *o, const char *key, double *x, bool need, unsigned i,
                   char *err, size_t errlen)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!need)
			return 0;
		snprintf(err, errlen, "rows[%u]: %s missing", i, key);
		return S2_E_FORMAT;
	}
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "rows[%u]: %s is not a number", i, key);
		return S2_E_FORMAT;
	}
	*x = json_object_get_double(v);
	if (!isfinite(*x) || *x < 0) {
		snprintf(err, errlen, "rows[%u]: %s %g is not a finite number >= 0", i, key, *x);
		return S2_E_RANGE;
	}
	return 0;
}

int eb_load(struct eb_set *s, const char *path, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	struct json_object *root = json_object_from_file(path), *v, *rows;
	int rc = 0;
	if (!root) {
		snprintf(err, errlen, "%.300s: not a JSON file (%s)", path,
		         json_util_get_last_err());
		return S2_E_FORMAT;
	}
	if (!json_object_object_get_ex(root, "format", &v) ||
	    strcmp(json_object_get_string(v), "s2-baselines-1")) {
		snprintf(err, errlen, "%.300s: format is not s2-baselines-1", path);
		rc = S2_E_VERSION;
		goto out;
	}
	if (json_object_object_get_ex(root, "inference", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(s->inference, sizeof s->inference, "%s", json_object_get_string(v));
	else
		snprintf(s->inference, sizeof s->inference, "inference");
	if (!json_object_object_get_ex(root, "rows", &rows) ||
	    !json_object_is_type(rows, json_type_array) || json_object_array_length(rows) == 0 ||
	    json_object_array_length(rows) > EB_MAX_ROWS) {
		snprintf(err, errlen, "%.300s: rows is not a list of 1-%u rows", path, EB_MAX_ROWS);
		rc = S2_E_FORMAT;
		goto out;
	}
	for (unsigned i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *o = json_object_array_get_idx(rows, i);
		struct eb_row *r = &s->row[i];
		r->latency_s = -1;
		r->accuracy = NAN;
		if (!json_object_is_type(o, json_type_object)) {
			snprintf(err, errlen, "rows[%u]: not an object", i);
			rc = S2_E_FORMAT;
			goto out;
		}
		if ((rc = copy_str(o, "platform", r->platform, sizeof r->platform, true, i, err,
		                   errlen)) < 0 ||
		    (rc = copy_str(o, "kind", r->kind, sizeof r->kind, true, i, err, errlen)) < 0 ||
		    (rc = copy_str(o, "basis", r->basis, sizeof r->basis, true, i, err, errlen)) <
		            0 ||
		    (rc = copy_str(o, "boundary", r->boundary, sizeof r->boundary, true, i, err,
		                   errlen)) < 0 ||
		    (rc = copy_str(o, "accuracy_name", r->accuracy_name, sizeof r->accuracy_name,
		                   false, i, err, errlen)) < 0 ||
		    (rc = get_num(o, "per_inference_j", &r->per_inference_j, true, i, err,
		                  errlen)) < 0 ||
		    (rc = get_num(o, "latency_s", &r->latency_s, false, i, err, errlen)) < 0 ||
		    (rc = get_num(o, "accuracy", &r->accuracy, false, i, err, errlen)) < 0)
			goto out;
		if (strcmp(r->kind, "measured") && strcmp(r->kind, "modelled") &&
		    strcmp(r->kind, "estimated")) {
			snprintf(err, errlen,
			         "rows[%u]: kind '%.20s' is not measured, modelled or estimated", i,
			         r->kind);
			rc = S2_E_RANGE;
			goto out;
		}
		s->n++;
	}
out:
	if (rc < 0 && strncmp(err, path, strlen(path))) {
		char tmp[512];
		snprintf(tmp, sizeof tmp, "%.200s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	json_object_put(root);
	return rc;
}

/* Split one CSV line in place into fields (double quotes group, no escapes inside). */
static unsigned csv_split(char *line, char **f, unsigned max)
{
	unsigned n = 0;
	char *p = line;
	while (n < max) {
		bool q = *p == '"';
		if (q)
			p++;
		f[n++] = p;
		while (*p && (q ? *p != '"' : *p != ',' && *p != '\n' && *p != '\r'))
			p++;
		if (q && *p == '"')
			*p++ = 0;
		if (*p != ',') {
			*p = 0;
			break;
		}
		*p++ = 0;
	}
	return n;
}

int eb_training_csv(const char *path, double *joules, const char **source, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		return S2_E_IO;
	}
	char head[8192], line[8192], *hf[256], *lf[256];
	int rc = 0;
	if (!fgets(head, sizeof head, f)) {
		snprintf(err, errlen, "%.300s: empty", path);
		rc = S2_E_FORMAT;
		goto out;
	}
	unsigned nh = csv_split(head, hf, 256);
	int cc = -1;
	bool zeus_col[256] = {false}, zeus = false;
	for (unsigned i = 0; i < nh; i++) {
		size_t l = strlen(hf[i]);
		if (!strcmp(hf[i], "energy_consumed"))
			cc = (int)i;
		if (l > 7 && !strcmp(hf[i] + l - 7, "_energy") && strcmp(hf[i], "cpu_energy") &&
		    strcmp(hf[i], "gpu_energy") && strcmp(hf[i], "ram_energy"))
			zeus = zeus_col[i] = true;
	}
	if (cc < 0 && !zeus) {
		snprintf(err, errlen,
		         "%.300s: neither a CodeCarbon CSV (column energy_consumed) nor a Zeus CSV "
		         "(columns *_energy)",
		         path);
		rc = S2_E_FORMAT;
		goto out;
	}
	*source = cc >= 0 ? "CodeCarbon CSV (energy_consumed, kWh)" : "Zeus CSV (*_energy, J)";
	double sum = 0;
	unsigned row = 0;
	while (fgets(line, sizeof line, f)) {
		row++;
		if (line[0] == '\n' || line[0] == '\r' || !line[0])
			continue;
		unsigned n = csv_split(line, lf, 256);
		for (unsigned i = 0; i < n && i < nh; i++) {
			if ((int)i != cc && !(cc < 0 && zeus_col[i]))
				continue;
			char *end;
			double x = strtod(lf[i], &end);
			if (end == lf[i] || *end || !isfinite(x) || x < 0) {
				snprintf(err, errlen,
				         "%.300s: row %u: %s '%.40s' is not a number >= 0", path,
				         row, hf[i], lf[i]);
				rc = S2_E_FORMAT;
				goto out;
			}
			sum += cc >= 0 ? x * 3.6e6 : x;
		}
	}
	*joules = sum;
out:
	fclose(f);
	return rc;
}
