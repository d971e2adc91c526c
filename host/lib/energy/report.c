/*
 * The energy report (s2/energy_report.h, docs/energy.md): what a run cost, from its energy
 * record (s2ctl run --energy FILE): joules per phase, board, chip and PE, static and dynamic,
 * per synaptic event, spike, simulated second and inference; NeuroBench-style activity
 * metrics; operational CO2e with the facility overhead apart and the grid intensity's source
 * named; embodied carbon by the SCI rule; water. Every number says whether it is measured or
 * modelled, and by which model version. Renderers: JSON (docs/schemas/s2ctl-energy.schema.json),
 * text, OpenMetrics, CSV of the raw samples and of power over time; `s2ctl energy report` and
 * `s2ctl plot` print what this computes.
 */
#include "s2/energy_report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "energy_baseline_internal.h"
#include "energy_grid_internal.h"
#include "jsonw_internal.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/results.h"
#include "s2/version.h"
#include "s2_git.h"
#include "sha256_internal.h"

#define CHIPS_PER_BOARD 48
#define MAX_BOARDS 720

#define MAX_METRICS S2_ENERGY_REPORT_METRICS

/* err (may be NULL) gets the message; returns code, for `return rfail(...)`. */
__attribute__((format(printf, 4, 5))) static int rfail(char *err, size_t errlen, int code,
                                                       const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A whole text file of at most max bytes, NUL-terminated (malloc'd); NULL with the reason in
 * ferr ("path: reason"). */
static char *read_text(const char *path, size_t max, size_t *len, char *ferr, size_t ferrlen)
{
	uint8_t *buf;
	if (s2_file_read_all(path, max, &buf, len, ferr, ferrlen) < 0)
		return NULL;
	buf[*len] = 0; /* s2_file_read_all leaves a byte beyond the data */
	return (char *)buf;
}

/* One chip's samples, in time order. */
struct chip_series {
	unsigned board, chip;
	struct s2_energy_point *p;
	size_t n, cap;
};

struct phase {
	char name[16];
	double s;      /* seconds the energy is integrated over */
	double host_s; /* as the host measured it */
	double static_j, dynamic_j;
	const char *kind;     /* measured or modelled */
	int64_t t0_us, t1_us; /* the host's CLOCK_MONOTONIC */
	bool have_cpu, have_rapl;
	double cpu_s, rapl_j;  /* s2ctl's CPU time; RAPL package energy (record 2) */
	double host_j;         /* the host's energy in the phase (0 when excluded) */
	const char *host_kind; /* measured, estimated or excluded */
};

/* The host's and a board's clocks at the run's start and end (record 2's run events). */
struct board_clock {
	bool have_start, have_end, from_samples;
	int64_t off_start_us, off_end_us; /* host CLOCK_MONOTONIC - board clock */
	uint64_t n_start, n_end;          /* packets the least was taken over */
};

/* Provenance strings of a record 2 (NULL: null or not recorded). */
static const char *const prov_keys[] = {"s2_version",     "git_commit", "host",          "image",
                                        "image_sha256",   "network",    "network_crc32", "machine",
                                        "machine_sha256", "results",    "results_sha256"};
#define N_PROV (sizeof prov_keys / sizeof prov_keys[0])
static const char *const fw_keys[] = {"path", "sha256", "version", "image_crc32"};
#define N_FW (sizeof fw_keys / sizeof fw_keys[0])

struct energy_report {
	char *partial; /* NULL: the record is of a complete run; else why it is not */
	struct s2_energy_model m;
	char *path;
	const char *image;
	double dt_ms;
	uint64_t steps;
	unsigned machine_boards, n_boards, boards[MAX_BOARDS];
	uint64_t pes; /* application PEs, all boards */
	uint64_t board_pe[MAX_BOARDS];
	struct chip_series *cs;
	size_t n_cs;
	struct phase ph[8];
	unsigned n_ph;
	uint64_t run_inc_total[S2_LIVE_COUNTERS];
	double part_j[S2_EP_COUNT];
	double board_dyn_j[MAX_BOARDS], board_static_w;
	bool measured;
	uint64_t stream_lost, stream_bad;
	unsigned record_version; /* 1 or 2 */
	uint64_t energy_every;
	bool have_utc;
	int64_t utc_minus_mono_us;           /* CLOCK_REALTIME - CLOCK_MONOTONIC, microseconds */
	struct board_clock bclk[MAX_BOARDS]; /* by index in boards[] */
	char *prov[N_PROV], *fw[N_FW];
	bool have_fw;
	uint64_t fw_booted, fw_boards;
	uint32_t serial[MAX_BOARDS];
	char *bversion[MAX_BOARDS];
	bool have_serial[MAX_BOARDS];
	double host_w_core;
};

static int fail(char *err, size_t errlen, const char *path, const char *what)
{
	return rfail(err, errlen, S2_E_FORMAT, "%s: %s", path, what);
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static struct chip_series *series_of(struct energy_report *r, unsigned board, unsigned chip)
{
	for (size_t i = 0; i < r->n_cs; i++)
		if (r->cs[i].board == board && r->cs[i].chip == chip)
			return &r->cs[i];
	struct chip_series *q = realloc(r->cs, (r->n_cs + 1) * sizeof *q);
	if (!q)
		return NULL;
	r->cs = q;
	q = &r->cs[r->n_cs++];
	memset(q, 0, sizeof *q);
	q->board = board;
	q->chip = chip;
	return q;
}

static int cmp_point(const void *a, const void *b)
{
	const struct s2_energy_point *x = a, *y = b;
	return x->time_us < y->time_us   ? -1
	       : x->time_us > y->time_us ? 1
	                                 : (x->step > y->step) - (x->step < y->step);
}

/* A format-2 record ends with "crc32", the CRC-32 of every byte before the comma that
 * precedes it (record.c). 0 if it holds; else an error naming the file and why. */
static int check_seal(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
	const char *k = NULL;
	for (const char *p = buf; (p = strstr(p, "\"crc32\":\"")) != NULL; p++)
		k = p; /* the last one: the seal */
	if (!k)
		return fail(err, errlen, path,
		            "no \"crc32\" at its end: cut short, or not written by s2");
	const char *comma = k;
	while (comma > buf && comma[-1] != ',')
		comma--;
	char want[9] = {0};
	memcpy(want, k + 9, k + 17 <= buf + len ? 8 : 0);
	char got[16];
	snprintf(got, sizeof got, "%08x",
	         (unsigned)s2_crc32(0, buf, comma > buf ? (size_t)(comma - 1 - buf) : 0));
	if (comma == buf || strcmp(want, got)) {
		char why[160];
		snprintf(why, sizeof why,
		         "damaged: its content (bytes 0-%zu) has CRC-32 %s, its \"crc32\" says %s",
		         comma > buf ? (size_t)(comma - 1 - buf) : 0, got,
		         want[0] ? want : "nothing");
		return fail(err, errlen, path, why);
	}
	return 0;
}

/* Read the record; 0 or an S2_E_ code with err set. */
static int load(struct energy_report *r, const char *path, char *err, size_t errlen)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	char rerr[512];
	if (s2_file_read_all(path, (size_t)1 << 32, &raw, &rawlen, rerr, sizeof rerr) < 0)
		return rfail(err, errlen, S2_E_IO, "%s", rerr);
	char *text = realloc(raw, rawlen + 1);
	if (!text) {
		free(raw);
		return rfail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	text[rawlen] = 0;
	/* One JSON object and nothing after it but white space. */
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = tok ? json_tokener_parse_ex(tok, text, (int)rawlen + 1) : NULL;
	size_t end = tok && root ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	while (root && end < rawlen &&
	       (text[end] == ' ' || text[end] == '\n' || text[end] == '\t' || text[end] == '\r' ||
	        text[end] == 0))
		end++;
	if (root && end < rawlen) {
		json_object_put(root);
		root = NULL;
	}
	if (!root) {
		free(text);
		return fail(err, errlen, path, "not readable JSON (cut short or damaged?)");
	}
	struct json_object *fmt = NULL;
	if (json_object_object_get_ex(root, "format", &fmt) &&
	    json_object_is_type(fmt, json_type_string) &&
	    !strcmp(json_object_get_string(fmt), "s2-energy-record-2")) {
		int sealed = check_seal(path, text, rawlen, err, errlen);
		if (sealed) {
			free(text);
			json_object_put(root);
			return sealed;
		}
	}
	free(text);
	int ec = 0;
	struct json_object *v, *a;
	if (!(v = get(root, "format", json_type_string)) ||
	    (strcmp(json_object_get_string(v), "s2-energy-record-1") &&
	     strcmp(json_object_get_string(v), "s2-energy-record-2"))) {
		ec = fail(err, errlen, path,
		          "not an energy record (format s2-energy-record-1 or s2-energy-record-2)");
		goto out;
	}
	r->record_version = strcmp(json_object_get_string(v), "s2-energy-record-1") ? 2 : 1;
	r->energy_every =
	        (v = get(root, "energy_every", json_type_int)) && json_object_get_int64(v) > 0
	                ? (uint64_t)json_object_get_int64(v)
	                : 0;
	r->image = (v = get(root, "image", json_type_string)) ? strdup(json_object_get_string(v))
	                                                      : NULL;
	if (!(v = get(root, "timestep_ms", json_type_double)) &&
	    !(v = get(root, "timestep_ms", json_type_int))) {
		ec = fail(err, errlen, path, "timestep_ms missing");
		goto out;
	}
	r->dt_ms = json_object_get_double(v);
	r->steps = (v = get(root, "steps", json_type_int)) ? (uint64_t)json_object_get_int64(v) : 0;
	if ((v = get(root, "complete", json_type_boolean)) && !json_object_get_boolean(v)) {
		struct json_object *w = get(root, "partial", json_type_string);
		r->partial = strdup(w ? json_object_get_string(w) : "the run did not complete");
	}
	r->machine_boards = (v = get(root, "machine_boards", json_type_int))
	                            ? (unsigned)json_object_get_int(v)
	                            : 0;
	if (!(r->dt_ms > 0) || !r->steps || !r->machine_boards) {
		ec = fail(err, errlen, path,
		          "timestep_ms, steps and machine_boards must be positive");
		goto out;
	}
	if (!(a = get(root, "boards", json_type_array)) || !json_object_array_length(a) ||
	    json_object_array_length(a) > MAX_BOARDS) {
		ec = fail(err, errlen, path, "boards: a list of 1 to 720 boards");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *b = json_object_array_get_idx(a, i);
		if (!(v = get(b, "board", json_type_int)) || json_object_get_int(v) < 0 ||
		    json_object_get_int(v) >= MAX_BOARDS) {
			ec = fail(err, errlen, path, "boards[]: board missing or out of range");
			goto out;
		}
		r->boards[r->n_boards++] = (unsigned)json_object_get_int(v);
		if ((v = get(b, "serial", json_type_int)) && json_object_get_int64(v) >= 0) {
			r->serial[r->n_boards - 1] = (uint32_t)json_object_get_int64(v);
			r->have_serial[r->n_boards - 1] = true;
		}
		if ((v = get(b, "version", json_type_string)))
			r->bversion[r->n_boards - 1] = strdup(json_object_get_string(v));
		if ((v = get(b, "pes", json_type_int)) && json_object_get_int64(v) > 0) {
			r->board_pe[r->n_boards - 1] = (uint64_t)json_object_get_int64(v);
			r->pes += r->board_pe[r->n_boards - 1];
		}
	}
	if ((a = get(root, "phases", json_type_array)))
		for (size_t i = 0; i < json_object_array_length(a) && r->n_ph < 8; i++) {
			struct json_object *p = json_object_array_get_idx(a, i), *n, *t0, *t1;
			if (!(n = get(p, "name", json_type_string)) ||
			    !(t0 = get(p, "start_us", json_type_int)) ||
			    !(t1 = get(p, "end_us", json_type_int)) ||
			    json_object_get_int64(t1) < json_object_get_int64(t0)) {
				ec = fail(err, errlen, path, "phases[]: name, start_us <= end_us");
				goto out;
			}
			struct phase *ph = &r->ph[r->n_ph++];
			snprintf(ph->name, sizeof ph->name, "%s", json_object_get_string(n));
			ph->host_s =
			        (double)(json_object_get_int64(t1) - json_object_get_int64(t0)) *
			        1e-6;
			ph->s = ph->host_s;
			ph->t0_us = json_object_get_int64(t0);
			ph->t1_us = json_object_get_int64(t1);
			struct json_object *x;
			if ((x = get(p, "cpu_us", json_type_int)) &&
			    json_object_get_int64(x) >= 0) {
				ph->have_cpu = true;
				ph->cpu_s = (double)json_object_get_int64(x) * 1e-6;
			}
			if ((x = get(p, "rapl_uj", json_type_int)) &&
			    json_object_get_int64(x) >= 0) {
				ph->have_rapl = true;
				ph->rapl_j = (double)json_object_get_int64(x) * 1e-6;
			}
		}
	if ((v = get(root, "host_clock", json_type_object))) {
		struct json_object *u = get(v, "utc_us", json_type_int),
		                   *m = get(v, "mono_us", json_type_int);
		if (u && m) {
			r->have_utc = true;
			r->utc_minus_mono_us = json_object_get_int64(u) - json_object_get_int64(m);
		}
	}
	if ((v = get(root, "provenance", json_type_object)))
		for (size_t k = 0; k < N_PROV; k++) {
			struct json_object *x = get(v, prov_keys[k], json_type_string);
			r->prov[k] = x ? strdup(json_object_get_string(x)) : NULL;
		}
	if ((v = get(root, "firmware", json_type_object))) {
		r->have_fw = true;
		for (size_t k = 0; k < N_FW; k++) {
			struct json_object *x = get(v, fw_keys[k], json_type_string);
			r->fw[k] = x ? strdup(json_object_get_string(x)) : NULL;
		}
		struct json_object *x;
		r->fw_booted = (x = get(v, "booted_boards", json_type_int))
		                       ? (uint64_t)json_object_get_int64(x)
		                       : 0;
		r->fw_boards = (x = get(v, "boards", json_type_int))
		                       ? (uint64_t)json_object_get_int64(x)
		                       : 0;
	}
	/* Clock offsets: the least (host arrival - board time) over the samples near the start
	 * and the end (record 2), else the start and end events alone. */
	if ((a = get(root, "clock_offsets", json_type_array)))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i), *b, *t0, *t1, *n0,
			                   *n1;
			if (!(b = get(e, "board", json_type_int)) ||
			    !(t0 = get(e, "start_us", json_type_int)) ||
			    !(t1 = get(e, "end_us", json_type_int)))
				continue;
			n0 = get(e, "samples_start", json_type_int);
			n1 = get(e, "samples_end", json_type_int);
			for (unsigned k = 0; k < r->n_boards; k++)
				if (r->boards[k] == (unsigned)json_object_get_int(b)) {
					struct board_clock *bc = &r->bclk[k];
					bc->have_start = bc->have_end = bc->from_samples = true;
					bc->off_start_us = json_object_get_int64(t0);
					bc->off_end_us = json_object_get_int64(t1);
					bc->n_start = n0 ? (uint64_t)json_object_get_int64(n0) : 0;
					bc->n_end = n1 ? (uint64_t)json_object_get_int64(n1) : 0;
				}
		}
	if ((a = get(root, "events", json_type_array)))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i), *b, *ev, *t, *h;
			if (!(b = get(e, "board", json_type_int)) ||
			    !(ev = get(e, "event", json_type_string)) ||
			    !(t = get(e, "time_us", json_type_int)) ||
			    !(h = get(e, "host_us", json_type_int)))
				continue;
			for (unsigned k = 0; k < r->n_boards; k++) {
				if (r->boards[k] != (unsigned)json_object_get_int(b) ||
				    r->bclk[k].from_samples)
					continue;
				int64_t off = json_object_get_int64(h) - json_object_get_int64(t);
				struct board_clock *bc = &r->bclk[k];
				if (!strcmp(json_object_get_string(ev), "started")) {
					if (!bc->have_start) {
						bc->have_start = true;
						bc->off_start_us = off;
					}
				} else {
					bc->have_end = true; /* the last end event */
					bc->off_end_us = off;
				}
			}
		}
	if ((v = get(root, "stream", json_type_object))) {
		struct json_object *x;
		r->stream_lost = (x = get(v, "lost", json_type_int))
		                         ? (uint64_t)json_object_get_int64(x)
		                         : 0;
		r->stream_bad =
		        (x = get(v, "bad", json_type_int)) ? (uint64_t)json_object_get_int64(x) : 0;
	}
	if (!(a = get(root, "samples", json_type_array))) {
		ec = fail(err, errlen, path, "samples missing");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_array) ||
		    json_object_array_length(s) != 4 + S2_LIVE_COUNTERS) {
			char what[96];
			snprintf(what, sizeof what, "samples[%zu]: not %u numbers", i,
			         4 + S2_LIVE_COUNTERS);
			ec = fail(err, errlen, path, what);
			goto out;
		}
		uint64_t f[4 + S2_LIVE_COUNTERS];
		for (unsigned k = 0; k < 4 + S2_LIVE_COUNTERS; k++) {
			struct json_object *e = json_object_array_get_idx(s, k);
			if (!json_object_is_type(e, json_type_int) ||
			    json_object_get_int64(e) < 0) {
				char what[96];
				snprintf(what, sizeof what, "samples[%zu][%u]: not a count", i, k);
				ec = fail(err, errlen, path, what);
				goto out;
			}
			f[k] = json_object_get_uint64(e);
		}
		struct chip_series *cs = series_of(r, (unsigned)f[0], (unsigned)f[1]);
		if (!cs) {
			ec = rfail(err, errlen, S2_E_NOMEM, "out of memory");
			goto out;
		}
		if (cs->n == cs->cap) {
			size_t cap = cs->cap ? 2 * cs->cap : 64;
			struct s2_energy_point *q = realloc(cs->p, cap * sizeof *q);
			if (!q) {
				ec = rfail(err, errlen, S2_E_NOMEM, "out of memory");
				goto out;
			}
			cs->p = q;
			cs->cap = cap;
		}
		struct s2_energy_point *pt = &cs->p[cs->n++];
		pt->step = (uint32_t)f[2];
		pt->time_us = f[3];
		memcpy(pt->c, f + 4, sizeof pt->c);
	}
	for (size_t i = 0; i < r->n_cs; i++)
		qsort(r->cs[i].p, r->cs[i].n, sizeof *r->cs[i].p, cmp_point);
out:
	json_object_put(root);
	return ec;
}

static struct phase *phase(struct energy_report *r, const char *name)
{
	for (unsigned i = 0; i < r->n_ph; i++)
		if (!strcmp(r->ph[i].name, name))
			return &r->ph[i];
	return NULL;
}

static bool is_board_used(const struct energy_report *r, unsigned b)
{
	for (unsigned i = 0; i < r->n_boards; i++)
		if (r->boards[i] == b)
			return true;
	return false;
}

/* The energy: per phase static (a rate times the duration) and dynamic (counters). */
static void compute(struct energy_report *r)
{
	r->board_static_w = CHIPS_PER_BOARD * r->m.chip_idle_w + r->m.board_other_w;
	double static_w = r->board_static_w * r->n_boards;
	struct phase *run = phase(r, "run"), *ld = phase(r, "load");
	if (run) /* the machine runs in biological real time; the emulator's wall time is not it */
		run->s = (double)r->steps * r->dt_ms * 1e-3;
	/* application PEs at the model's level while the application is loaded */
	double pe_w = (double)r->pes * s2_energy_pe_active_w(&r->m);
	for (unsigned i = 0; i < r->n_ph; i++) {
		bool app = !strcmp(r->ph[i].name, "load") || !strcmp(r->ph[i].name, "run");
		r->ph[i].static_j = (static_w + (app ? pe_w : 0)) * r->ph[i].s;
		r->ph[i].kind = "modelled";
	}
	for (size_t i = 0; i < r->n_cs; i++) {
		const struct chip_series *cs = &r->cs[i];
		if (!cs->n || !is_board_used(r, cs->board))
			continue;
		/* load: what the counters hold at the first sample (the run's start): the expansion
		 */
		uint64_t first[S2_LIVE_COUNTERS];
		memcpy(first, cs->p[0].c, sizeof first);
		if (ld)
			ld->dynamic_j += s2_energy_dynamic_j(&r->m, first, NULL);
		uint64_t inc[S2_LIVE_COUNTERS];
		s2_energy_increase(&r->m, cs->p, 0, cs->n - 1, inc);
		double parts[S2_EP_COUNT];
		double j = s2_energy_dynamic_j(&r->m, inc, parts);
		if (inc[S2_LC_ENERGY_UJ]) { /* the board measured it: that, not the model */
			j = (double)inc[S2_LC_ENERGY_UJ] * 1e-6;
			r->measured = true;
		}
		for (unsigned k = 0; k < S2_EP_COUNT; k++)
			r->part_j[k] += parts[k];
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			r->run_inc_total[k] += inc[k];
		if (run)
			run->dynamic_j += j;
		if (cs->board < MAX_BOARDS)
			r->board_dyn_j[cs->board] += j;
	}
	if (run && r->measured)
		run->kind = "measured";
	/* The host: RAPL where it was read, else CPU time x W per core; never a silent zero. */
	for (unsigned i = 0; i < r->n_ph; i++) {
		struct phase *ph = &r->ph[i];
		if (ph->have_rapl) {
			ph->host_j = ph->rapl_j;
			ph->host_kind = "measured";
		} else if (ph->have_cpu) {
			ph->host_j = ph->cpu_s * r->m.host_w_per_core;
			ph->host_kind = "estimated";
		} else {
			ph->host_j = 0;
			ph->host_kind = "excluded";
		}
	}
}

static uint64_t board_pes(const struct energy_report *r, int b)
{
	if (b < 0)
		return r->pes;
	for (unsigned i = 0; i < r->n_boards; i++)
		if (r->boards[i] == (unsigned)b)
			return r->board_pe[i];
	return 0;
}

/* Power of board b (all boards if b < 0) over sample windows: (start step, end step, W). */
struct pw {
	uint32_t s0, s1;
	double w;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static size_t power_series(const struct energy_report *r, int b, struct pw *out, size_t cap)
{
	/* windows: the distinct steps at which samples exist, over the chips of the board */
	uint32_t *steps = NULL;
	size_t n = 0, capn = 0;
	for (size_t i = 0; i < r->n_cs; i++) {
		if (b >= 0 && r->cs[i].board != (unsigned)b)
			continue;
		for (size_t k = 0; k < r->cs[i].n; k++) {
			if (n == capn) {
				capn = capn ? 2 * capn : 256;
				uint32_t *q = realloc(steps, capn * sizeof *q);
				if (!q) {
					free(steps);
					return 0;
				}
				steps = q;
			}
			steps[n++] = r->cs[i].p[k].step;
		}
	}
	if (n > 1)
		qsort(steps, n, sizeof *steps, cmp_u32);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!m || steps[m - 1] != steps[i])
			steps[m++] = steps[i];
	/* Each chip's consecutive samples give the counters' increase over one window
	 * [steps[w], steps[w + 1]): one pass over the samples, windows found by bisection. */
	double *win_j = calloc(m ? m : 1, sizeof *win_j);
	if (!win_j) {
		free(steps);
		return 0;
	}
	for (size_t i = 0; i < r->n_cs; i++) {
		const struct chip_series *cs = &r->cs[i];
		if ((b >= 0 && cs->board != (unsigned)b) || !is_board_used(r, cs->board))
			continue;
		for (size_t k = 0; k + 1 < cs->n; k++) {
			uint32_t s0 = cs->p[k].step, s1 = cs->p[k + 1].step;
			const uint32_t *at =
			        m ? bsearch(&s0, steps, m, sizeof *steps, cmp_u32) : NULL;
			size_t w = at ? (size_t)(at - steps) : m;
			if (s1 <= s0 || w + 1 >= m || steps[w + 1] != s1)
				continue;
			uint64_t inc[S2_LIVE_COUNTERS];
			s2_energy_increase(&r->m, cs->p, k, k + 1, inc);
			win_j[w] += inc[S2_LC_ENERGY_UJ] ? (double)inc[S2_LC_ENERGY_UJ] * 1e-6
			                                 : s2_energy_dynamic_j(&r->m, inc, NULL);
		}
	}
	size_t got = 0;
	double static_w = r->board_static_w * (b >= 0 ? 1 : r->n_boards) +
	                  (double)board_pes(r, b) * s2_energy_pe_active_w(&r->m);
	for (size_t w = 0; w + 1 < m && got < cap; w++) {
		double secs = (double)(steps[w + 1] - steps[w]) * r->dt_ms * 1e-3;
		out[got++] = (struct pw){steps[w], steps[w + 1],
		                         static_w + (secs > 0 ? win_j[w] / secs : 0)};
	}
	free(win_j);
	free(steps);
	return got;
}

/* NeuroBench's activation sparsity: the share of neuron updates without a spike (spikes of
 * spike-array sources, which are not updated, can push it below 0: clamped). */
static double sparsity(uint64_t spikes, uint64_t updates)
{
	if (!updates)
		return 0;
	double s = 1.0 - (double)spikes / (double)updates;
	return s < 0 ? 0 : s;
}

static const char *const part_names[S2_EP_COUNT] = {"neuron_updates", "synaptic_events",
                                                    "spikes_sent",    "packets_in",
                                                    "packets_routed", "dma_bytes"};

static double total_static(const struct energy_report *r)
{
	double j = 0;
	for (unsigned i = 0; i < r->n_ph; i++)
		j += r->ph[i].static_j;
	return j;
}

static double total_dynamic(const struct energy_report *r)
{
	double j = 0;
	for (unsigned i = 0; i < r->n_ph; i++)
		j += r->ph[i].dynamic_j;
	return j;
}

static double total_seconds(const struct energy_report *r)
{
	double s = 0;
	for (unsigned i = 0; i < r->n_ph; i++)
		s += r->ph[i].s;
	return s;
}

static void report_release(struct energy_report *r)
{
	free(r->partial);
	r->partial = NULL;
	for (size_t k = 0; k < N_PROV; k++) {
		free(r->prov[k]);
		r->prov[k] = NULL;
	}
	for (size_t k = 0; k < N_FW; k++) {
		free(r->fw[k]);
		r->fw[k] = NULL;
	}
	for (unsigned i = 0; i < MAX_BOARDS; i++) {
		free(r->bversion[i]);
		r->bversion[i] = NULL;
	}
	for (size_t i = 0; i < r->n_cs; i++)
		free(r->cs[i].p);
	free(r->cs);
	free((char *)r->image);
	free(r->path);
	r->path = NULL;
	r->cs = NULL;
	r->n_cs = 0;
	r->image = NULL;
}

static int write_csv(const struct energy_report *r, const char *dir, char *err, size_t errlen)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/samples.csv", dir);
	FILE *f = fopen(p, "w");
	if (!f) {
		snprintf(err, errlen, "%.400s: %s", p, strerror(errno));
		return S2_E_IO;
	}
	fprintf(f, "board,chip,step,time_us");
	static const char *const cn[S2_LIVE_COUNTERS] = {
	        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};
	for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
		fprintf(f, ",%s", cn[k]);
	fputc('\n', f);
	for (size_t i = 0; i < r->n_cs; i++)
		for (size_t k = 0; k < r->cs[i].n; k++) {
			const struct s2_energy_point *q = &r->cs[i].p[k];
			fprintf(f, "%u,%u,%u,%llu", r->cs[i].board, r->cs[i].chip, q->step,
			        (unsigned long long)q->time_us);
			for (unsigned c = 0; c < S2_LIVE_COUNTERS; c++)
				fprintf(f, ",%llu", (unsigned long long)q->c[c]);
			fputc('\n', f);
		}
	if (ferror(f) | fclose(f)) {
		snprintf(err, errlen, "%.400s: %s", p, strerror(errno));
		return S2_E_IO;
	}
	snprintf(p, sizeof p, "%s/power.csv", dir);
	if (!(f = fopen(p, "w"))) {
		snprintf(err, errlen, "%.400s: %s", p, strerror(errno));
		return S2_E_IO;
	}
	fprintf(f, "board,step_from,step_to,t_ms_from,t_ms_to,watts,kind\n");
	struct pw *pw = calloc(4096, sizeof *pw);
	for (unsigned i = 0; pw && i < r->n_boards; i++) {
		size_t n = power_series(r, (int)r->boards[i], pw, 4096);
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%u,%u,%u,%.6g,%.6g,%.6g,%s\n", r->boards[i], pw[k].s0, pw[k].s1,
			        pw[k].s0 * r->dt_ms, pw[k].s1 * r->dt_ms, pw[k].w,
			        r->measured ? "measured" : "modelled");
	}
	free(pw);
	if (ferror(f) | fclose(f)) {
		snprintf(err, errlen, "%.400s: %s", p, strerror(errno));
		return S2_E_IO;
	}
	return 0;
}
/* Everything the report's totals say, computed once (for the report and for energy bench). */
struct figs {
	double e_static, e_dyn, e_total, secs, bio_s, run_j, run_s, run_dyn, chip_run_j, peak_w;
	uint64_t syn, spk, upd;
	unsigned chips_used;
	double host_j;        /* phases not excluded, plus compile when given */
	unsigned host_n[3];   /* phases measured, estimated, excluded */
	double compile_cpu_s; /* given, or < 0 */
	const char *kind;     /* the boards' figures: measured or modelled */
};

static void figures(struct energy_report *r, double compile_cpu_s, struct figs *f)
{
	memset(f, 0, sizeof *f);
	struct phase *run = phase(r, "run");
	f->e_static = total_static(r);
	f->e_dyn = total_dynamic(r);
	f->e_total = f->e_static + f->e_dyn;
	f->secs = total_seconds(r);
	f->bio_s = (double)r->steps * r->dt_ms * 1e-3;
	f->run_j = run ? run->static_j + run->dynamic_j : 0;
	f->syn = r->run_inc_total[S2_LC_SYNAPTIC_EVENTS];
	f->spk = r->run_inc_total[S2_LC_SPIKES_SENT];
	f->upd = r->run_inc_total[S2_LC_NEURON_UPDATES];
	/* Per inference at two boundaries: the boards (every chip powered, the board's other
	 * parts) and the chips in use alone (their idle power, the PEs' level, the run's dynamic
	 * energy): the like-for-like comparison with an accelerator's own energy counter. */
	for (size_t i = 0; i < r->n_cs; i++)
		f->chips_used += r->cs[i].n && is_board_used(r, r->cs[i].board);
	f->run_s = run ? run->s : 0;
	f->run_dyn = run ? run->dynamic_j : 0;
	f->chip_run_j = f->run_dyn + (f->chips_used * r->m.chip_idle_w +
	                              (double)r->pes * s2_energy_pe_active_w(&r->m)) *
	                                     f->run_s;
	struct pw *all = malloc(4096 * sizeof *all);
	size_t n_all = all ? power_series(r, -1, all, 4096) : 0;
	for (size_t k = 0; k < n_all; k++)
		f->peak_w = fmax(f->peak_w, all[k].w);
	free(all);
	for (unsigned i = 0; i < r->n_ph; i++) {
		const char *k = r->ph[i].host_kind;
		f->host_n[!strcmp(k, "measured") ? 0 : !strcmp(k, "estimated") ? 1 : 2]++;
		f->host_j += r->ph[i].host_j;
	}
	f->compile_cpu_s = compile_cpu_s;
	if (compile_cpu_s >= 0)
		f->host_j += compile_cpu_s * r->m.host_w_per_core;
	f->kind = r->measured ? "measured" : "modelled";
}

/* The host's method over the phases: measured, estimated, excluded, or mixed. */
static const char *host_kind(const struct figs *f)
{
	unsigned kinds = (f->host_n[0] > 0) + (f->host_n[1] > 0) + (f->host_n[2] > 0);
	if (kinds > 1)
		return "mixed";
	return f->host_n[0] ? "measured" : f->host_n[1] ? "estimated" : "excluded";
}

/* UTC of a host CLOCK_MONOTONIC time of the record: microseconds since the epoch. */
static int64_t utc_us(const struct energy_report *r, int64_t mono_us)
{
	return mono_us + r->utc_minus_mono_us;
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ of microseconds since the epoch. */
static void utc_str(int64_t us, char out[40])
{
	int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	char buf[32];
	eg_utc_string(s, buf);
	snprintf(out, 40, "%.19s.%03uZ", buf, (unsigned)((us - s * 1000000) / 1000));
}

/* --- the boundary: which power domains the figures cover, and how ------------------------ */

struct domain {
	const char *name, *method, *basis;
};

enum { N_DOMAINS = 11 };

static void boundary(const struct energy_report *r, const struct figs *f, bool have_pue,
                     struct domain d[N_DOMAINS])
{
	const char *chip = r->measured ? "measured" : "modelled";
	const char *hk = host_kind(f);
	d[0] = (struct domain){"pe_cores", chip,
	                       r->measured ? "the board's energy counter of each chip (energy_uj)"
	                                   : "PE cycles per counted item x J per cycle, and the "
	                                     "application PEs' static power at their level"};
	d[1] = (struct domain){"sram", chip,
	                       r->measured ? "inside each chip's measured energy"
	                                   : "inside the chip's idle and busy power (chip_idle_w, "
	                                     "chip_busy_w); not separated from the PEs"};
	d[2] = (struct domain){"router_noc", chip,
	                       r->measured
	                               ? "inside each chip's measured energy"
	                               : "j_packet_routed x packets through each chip's router"};
	d[3] = (struct domain){"dram", "modelled",
	                       "j_dma_byte x DMA bytes: traffic only; DRAM background (refresh, "
	                       "idle) power is in no constant"};
	d[4] = (struct domain){"chip_io", chip,
	                       r->measured ? "inside each chip's measured energy"
	                                   : "inside chip_idle_w and chip_busy_w; link traffic is "
	                                     "not counted apart"};
	d[5] = (struct domain){"board_regulators_controller", "modelled",
	                       "board_other_w: SpiNNaker1 board idle power less its 48 chips; no "
	                       "SpiNNaker2 figure published"};
	d[6] = (struct domain){
	        "host_cpu", hk,
	        !strcmp(hk, "measured")    ? "RAPL package domains through powercap, per phase"
	        : !strcmp(hk, "estimated") ? "s2ctl's CPU time (getrusage) x host_w_per_core; the "
	                                     "emulator's CPU time is the emulated machine's, not "
	                                     "the host's share"
	        : !strcmp(hk, "mixed")     ? "per phase: see host.phases[].method"
	                                   : "not recorded (energy record format 1)"};
	d[7] = (struct domain){"host_memory", "excluded",
	                       f->host_n[0] ? "RAPL package domains only: no DRAM domain read"
	                                    : "no memory power figure: the CPU-time estimate "
	                                      "covers cores only"};
	d[8] = (struct domain){"network_switch", "excluded",
	                       "no switch power figure: the link between host and boards is "
	                       "outside"};
	d[9] = (struct domain){"facility", have_pue ? "estimated" : "excluded",
	                       have_pue ? "IT energy x (PUE - 1), the PUE given (carbon section)"
	                                : "no PUE given (--pue)"};
	d[10] = (struct domain){"host_compile", f->compile_cpu_s >= 0 ? "estimated" : "excluded",
	                        f->compile_cpu_s >= 0
	                                ? "--compile-cpu-s x host_w_per_core"
	                                : "s2ctl compile ran as its own process: give "
	                                  "--compile-cpu-s to include it"};
}

/* --- sampling metadata of each series ----------------------------------------------------- */

struct series_meta {
	const char *series, *source, *period, *lsb, *wrap, *uncertainty;
	unsigned counter_bits;
};

enum { N_SERIES = 6 };

static void sampling(const struct energy_report *r, const struct figs *f,
                     struct series_meta s[N_SERIES], char period[128])
{
	if (r->energy_every)
		snprintf(period, 128, "%llu steps (%.6g s of biological time), and at run events",
		         (unsigned long long)r->energy_every,
		         (double)r->energy_every * r->dt_ms * 1e-3);
	else
		snprintf(period, 128, "not recorded");
	s[0] = (struct series_meta){
	        "chip_activity_counters",
	        "the boards' energy stream (protocol 4.17, kind 2)",
	        period,
	        "1 count",
	        "unwrapped sample to sample, one wrap at most between two samples",
	        "exact counts; a lost sample is covered by the next (stream.lost)",
	        r->m.counter_bits};
	s[1] = (struct series_meta){"chip_energy_uj",
	                            r->measured ? "the board's energy meter" : "not measured (0)",
	                            period,
	                            "1 uJ",
	                            "as the activity counters",
	                            r->measured ? "the board's meter's; s2 states none"
	                                        : "none: no data",
	                            64};
	s[2] = (struct series_meta){"modelled_energy",
	                            "the counters' increase x the model's constants",
	                            period,
	                            "the model's unit energies",
	                            "n/a",
	                            "not quantified: constants partly assumptions (docs/energy.md)",
	                            0};
	s[3] = (struct series_meta){"phase_times",
	                            "the host's CLOCK_MONOTONIC",
	                            "phase boundaries",
	                            "1 us",
	                            "none (64 bits)",
	                            "the host's scheduling, about a millisecond",
	                            64};
	s[4] = (struct series_meta){
	        "host_energy",
	        f->host_n[0] ? "RAPL intel-rapl:N/energy_uj through powercap"
	                     : "s2ctl's CPU time (getrusage RUSAGE_SELF, user + system)",
	        "phase boundaries",
	        f->host_n[0] ? "1 uJ" : "1 us of CPU time",
	        f->host_n[0] ? "unwrapped at max_energy_range_uj, one wrap at most per phase"
	                     : "none (64 bits)",
	        f->host_n[0] ? "RAPL's own model, a few per cent"
	                     : "the per-core figure is a TDP share: an upper-end average, "
	                       "uncertain by a factor of about 2; the kernel accounts CPU time "
	                       "to about a scheduler tick",
	        64};
	s[5] = (struct series_meta){
	        "board_clock",
	        "time_us of the boards' run events (the board's clock)",
	        "the run's start and end",
	        "1 us",
	        "none (64 bits)",
	        "the offset includes the event packet's delay (up to a step plus the network)",
	        64};
}

/* --- correctness: the run's task metric beside its energy --------------------------------- */

#define MAX_RATES 64

struct rate_row {
	char label[64];
	double expected, tol, measured;
	uint64_t spikes;
	bool ok;
};

struct correctness {
	struct {
		char name[48];
		double value;
	} metric[MAX_METRICS];
	unsigned n_metric;
	struct rate_row rate[MAX_RATES];
	unsigned n_rate;
	const char *results;
	bool ok;
};
/* --expect-rates FILE against the results: lines "POPULATION RATE_HZ TOLERANCE_HZ". */
static int check_rates(const char *file, const char *results, const char *want_sha,
                       struct correctness *k, char *err, size_t errlen)
{
	size_t len;
	char ferr[512];
	char *t = read_text(file, 1 << 20, &len, ferr, sizeof ferr);
	if (!t)
		return rfail(err, errlen, S2_E_IO, "--expect-rates %s", ferr);
	int ec = 0;
	unsigned line = 0;
	for (char *p = t, *e; *p && !ec; p = e ? e + 1 : p + strlen(p)) {
		e = strchr(p, '\n');
		if (e)
			*e = 0;
		line++;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = 0;
		char label[64], r1[64], r2[64], extra[2];
		int got = sscanf(p, " %63s %63s %63s %1s", label, r1, r2, extra);
		if (got <= 0)
			continue;
		char *x1, *x2;
		double rate = got >= 2 ? strtod(r1, &x1) : NAN,
		       tol = got >= 3 ? strtod(r2, &x2) : NAN;
		if (got != 3 || *x1 || *x2 || !(rate >= 0 && rate < 1e6) ||
		    !(tol >= 0 && tol < 1e6))
			ec = rfail(err, errlen, S2_E_FORMAT,
			           "--expect-rates %s: line %u: not 'POPULATION RATE_HZ "
			           "TOLERANCE_HZ' with rates in 0..1e6",
			           file, line);
		else if (k->n_rate == MAX_RATES)
			ec = rfail(err, errlen, S2_E_FORMAT,
			           "--expect-rates %s: more than %d populations", file, MAX_RATES);
		else {
			struct rate_row *q = &k->rate[k->n_rate++];
			snprintf(q->label, sizeof q->label, "%s", label);
			q->expected = rate;
			q->tol = tol;
		}
	}
	free(t);
	if (ec)
		return ec;
	if (!k->n_rate)
		return rfail(err, errlen, S2_E_FORMAT, "--expect-rates %s: no populations", file);
	if (!results)
		return rfail(err, errlen, S2_E_INVAL,
		             "--expect-rates needs the run's results: give --results FILE (the "
		             "record names none)");
	char hex[65];
	if (want_sha && s2_sha256_file(results, hex) == 0 && strcmp(hex, want_sha))
		return rfail(err, errlen, S2_E_FORMAT,
		             "--results %s: not the results of this run (its SHA-256 differs "
		             "from the record's results_sha256)",
		             results);
	char rerr[512];
	struct s2_results *res = s2_results_read(results, 0, NULL, rerr, sizeof rerr);
	if (!res)
		return rfail(err, errlen, S2_E_FORMAT, "--results %s", rerr);
	double secs = (double)res->steps * res->dt_ms * 1e-3;
	k->ok = true;
	k->results = results;
	for (unsigned i = 0; i < k->n_rate && !ec; i++) {
		struct rate_row *q = &k->rate[i];
		const struct s2_results_pop *pop = NULL;
		for (uint32_t p = 0; p < res->n_pops && !pop; p++)
			if (!strcmp(res->pops[p].label, q->label))
				pop = &res->pops[p];
		if (!pop) {
			ec = rfail(err, errlen, S2_E_FORMAT,
			           "--expect-rates %s: population '%s' is not in %s", file,
			           q->label, results);
			break;
		}
		q->spikes = pop->n_spikes;
		q->measured = pop->size && secs > 0
		                      ? (double)pop->n_spikes / ((double)pop->size * secs)
		                      : 0;
		q->ok = fabs(q->measured - q->expected) <= q->tol;
		k->ok &= q->ok;
	}
	s2_results_free(res);
	return ec;
}

/* --- carbon and water --------------------------------------------------------------------- */

struct carbon {
	bool have_pue, have_grid, have_embodied, have_market, have_wue, have_water;
	double pue, grid, embodied_kg, lifetime_y, market, wue, water;
	const char *dataset, *zone, *year, *scope, *market_source, *wue_source, *water_source;
	const char *hourly_path;
	struct eg_hourly hourly;
};

struct hour_row {
	int64_t hour;
	double kwh, g_per_kwh, g;
};

/* Add kwh spread evenly over [u0, u1] (UTC microseconds, exact) to the hour rows. */
static int spread(struct hour_row **rows, size_t *n, int64_t u0, int64_t u1, double kwh)
{
	const int64_t H = 3600 * (int64_t)1000000;
	int64_t h0 = (u0 >= 0 ? u0 / H : (u0 - H + 1) / H) * H,
	        h1 = (u1 >= 0 ? u1 / H : (u1 - H + 1) / H) * H;
	if (h1 - h0 > H * 24 * 366)
		return -1; /* a phase longer than a year: not a run's */
	for (int64_t h = h0; h <= h1; h += H) {
		int64_t a = u0 > h ? u0 : h, b = u1 < h + H ? u1 : h + H;
		double share = u1 > u0 ? (double)(b - a) / (double)(u1 - u0) : 1.0;
		if (b <= a && u1 > u0)
			continue;
		size_t i = 0;
		while (i < *n && (*rows)[i].hour != h / 1000000)
			i++;
		if (i == *n) {
			struct hour_row *q = realloc(*rows, (*n + 1) * sizeof *q);
			if (!q)
				return -1;
			*rows = q;
			q[(*n)++] = (struct hour_row){h / 1000000, 0, 0, 0};
		}
		(*rows)[i].kwh += kwh * share;
	}
	return 0;
}

static int cmp_hour(const void *a, const void *b)
{
	const struct hour_row *x = a, *y = b;
	return (x->hour > y->hour) - (x->hour < y->hour);
}

/*
 * The run's energy hour by hour: each phase's energy (boards and host) spread evenly over its
 * UTC window, compile's (given as CPU time, with no window) in the first phase's hour; times
 * the hour's intensity and the PUE. 0, or an S2_E_ code with err set (an hour without
 * intensity is named).
 */
static int hourly(const struct energy_report *r, const struct figs *f, const struct carbon *cb,
                  struct hour_row **rows, size_t *n, double *total_g, char *err, size_t errlen)
{
	*rows = NULL;
	*n = 0;
	*total_g = 0;
	if (!r->have_utc)
		return rfail(err, errlen, S2_E_FORMAT,
		             "--grid-hourly: %s has no UTC times (energy record format 1): "
		             "record the run again",
		             r->path);
	for (unsigned i = 0; i < r->n_ph; i++) {
		const struct phase *ph = &r->ph[i];
		double kwh = (ph->static_j + ph->dynamic_j + ph->host_j) / 3.6e6;
		if (spread(rows, n, utc_us(r, ph->t0_us), utc_us(r, ph->t1_us), kwh) < 0)
			return rfail(err, errlen, S2_E_NOMEM,
			             "--grid-hourly: phase %s: cannot spread", ph->name);
	}
	if (f->compile_cpu_s >= 0 && r->n_ph) {
		int64_t u = utc_us(r, r->ph[0].t0_us);
		if (spread(rows, n, u, u, f->compile_cpu_s * r->m.host_w_per_core / 3.6e6) < 0)
			return rfail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	if (*n > 1)
		qsort(*rows, *n, sizeof **rows, cmp_hour);
	for (size_t i = 0; i < *n; i++) {
		const struct eg_hour *h = eg_find(&cb->hourly, (*rows)[i].hour);
		if (!h) {
			char when[32];
			eg_utc_string((*rows)[i].hour, when);
			free(*rows);
			*rows = NULL;
			return rfail(err, errlen, S2_E_FORMAT,
			             "--grid-hourly %s: no intensity for the hour from %s, which "
			             "the run spans",
			             cb->hourly_path, when);
		}
		(*rows)[i].g_per_kwh = h->g_per_kwh;
		(*rows)[i].g = (*rows)[i].kwh * cb->pue * h->g_per_kwh;
		*total_g += (*rows)[i].g;
	}
	return 0;
}

/* --- clock offsets ------------------------------------------------------------------------ */

static bool clock_ok(const struct energy_report *r, double tol_us, bool *any)
{
	bool ok = true;
	*any = false;
	for (unsigned i = 0; i < r->n_boards; i++) {
		const struct board_clock *b = &r->bclk[i];
		if (!b->have_start || !b->have_end)
			continue;
		*any = true;
		ok &= (double)llabs(b->off_end_us - b->off_start_us) <= tol_us;
	}
	return ok;
}

static const char *const clock_method =
        "host CLOCK_MONOTONIC when s2ctl took a packet less the board's time stamp in it, the "
        "least over the board's energy samples in the first and last tenth of the run (record "
        "format 2; else the run's start and end events): s2 can read no board clock directly. "
        "Each value includes the packet's delay (up to a step plus the network), so it bounds "
        "the offset from above; the difference between end and start (drift) is checked "
        "against the tolerance";

/* The firmware's hash applies to what the boards run only if this run booted them with it. */
static const char *firmware_basis(const struct energy_report *r, char *buf, size_t len)
{
	if (!r->have_fw)
		return "not recorded (energy record format 1)";
	if (r->fw_booted && r->fw_booted == r->fw_boards)
		return "this run booted every board with this file";
	const char *fv = r->fw[2];
	unsigned same = 0, known = 0;
	for (unsigned i = 0; i < r->n_boards; i++)
		if (r->bversion[i]) {
			known++;
			same += fv && strstr(r->bversion[i], fv) != NULL;
		}
	snprintf(buf, len,
	         "%llu of %llu boards booted by this run; of the rest, %u of %u report this file's "
	         "version: the hash is the file's, the boards' image is identified by version "
	         "only",
	         (unsigned long long)r->fw_booted, (unsigned long long)r->fw_boards, same, known);
	return buf;
}

/* --- the report --------------------------------------------------------------------------- */

struct rep_in {
	struct carbon cb;
	struct correctness k;
	struct eb_set bl;
	double inferences, requests, training_j, clock_tol_us, compile_cpu_s;
	const char *training_src;
	bool have_k;
};

static void json_opt_str(struct json *j, const char *key, const char *v)
{
	if (v)
		s2_json_str(j, key, v);
	else
		s2_json_null(j, key);
}

/* What both renderers derive from the figures and the carbon inputs. */
struct derived {
	double per_inf_board, per_inf_chip; /* J per inference (0 without inferences) */
	double it_kwh;                      /* the boards' and the host's energy, kWh */
	double facility_kwh;                /* the facility's overhead on it (PUE - 1) */
	double op_g, emb_g; /* operational and embodied CO2e, g; NaN when not given */
};

static struct derived derive(const struct energy_report *r, const struct figs *f,
                             const struct rep_in *in)
{
	const struct carbon *cb = &in->cb;
	struct derived d = {0};
	if (in->inferences > 0) {
		d.per_inf_board = f->run_j / in->inferences;
		d.per_inf_chip = f->chip_run_j / in->inferences;
	}
	d.it_kwh = (f->e_total + f->host_j) / 3.6e6;
	d.facility_kwh = d.it_kwh * (cb->pue - 1);
	d.op_g = cb->have_grid ? d.it_kwh * cb->pue * cb->grid : NAN;
	d.emb_g = cb->have_embodied ? cb->embodied_kg * 1000 * r->n_boards *
	                                      (f->secs / (cb->lifetime_y * 365.25 * 86400))
	                            : NAN;
	return d;
}

static void report_json(FILE *out, const struct energy_report *r, const struct figs *f,
                        const struct rep_in *in, const struct hour_row *hr, size_t n_hr,
                        double hourly_g)
{
	const struct carbon *cb = &in->cb;
	const struct eb_set *bl = &in->bl;
	const char *kind = f->kind, *path = r->path;
	const struct derived dv = derive(r, f, in);
	struct json j;
	s2_json_begin(&j, out);
	s2_json_obj(&j, NULL);
	s2_json_str(&j, "format", "s2-energy-report-2");
	s2_json_str(&j, "record", path);
	s2_json_str(&j, "record_format",
	            r->record_version == 2 ? "s2-energy-record-2" : "s2-energy-record-1");
	s2_json_str(&j, "partial", r->partial);
	s2_json_str(&j, "image", r->image);
	s2_json_str(&j, "kind", kind);
	s2_json_obj(&j, "model");
	s2_json_str(&j, "version", r->m.version);
	s2_json_str(&j, "performance_level", r->m.pl == S2_PL_HIGH ? "high" : "low");
	s2_json_num(&j, "j_per_cycle", s2_energy_j_per_cycle(&r->m, r->m.pl));
	s2_json_num(&j, "chip_idle_w", r->m.chip_idle_w);
	s2_json_num(&j, "board_other_w", r->m.board_other_w);
	s2_json_num(&j, "pe_active_w", s2_energy_pe_active_w(&r->m));
	s2_json_num(&j, "host_w_per_core", r->m.host_w_per_core);
	s2_json_str(&j, "host_w_per_core_source",
	            r->m.host_w_per_core == S2_ENERGY_HOST_W_PER_CORE ? S2_ENERGY_HOST_W_SOURCE
	                                                              : "given (--model)");
	s2_json_end_obj(&j);
	/* provenance: what made the record, and what made this report */
	s2_json_obj(&j, "provenance");
	for (size_t k = 0; k < N_PROV; k++)
		json_opt_str(&j, prov_keys[k], r->prov[k]);
	s2_json_str(&j, "report_s2_version", s2_version());
	s2_json_str(&j, "report_git_commit", S2_GIT_COMMIT);
	s2_json_end_obj(&j);
	if (r->have_fw) {
		char buf[256];
		s2_json_obj(&j, "firmware");
		for (size_t k = 0; k < N_FW; k++)
			json_opt_str(&j, fw_keys[k], r->fw[k]);
		s2_json_uint(&j, "booted_boards", r->fw_booted);
		s2_json_uint(&j, "boards", r->fw_boards);
		s2_json_str(&j, "hash_basis", firmware_basis(r, buf, sizeof buf));
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "firmware");
	}
	bool any_clock, cok = clock_ok(r, in->clock_tol_us, &any_clock);
	s2_json_obj(&j, "clock");
	s2_json_str(&j, "method", clock_method);
	s2_json_num(&j, "tolerance_us", in->clock_tol_us);
	s2_json_arr(&j, "boards");
	for (unsigned i = 0; i < r->n_boards; i++) {
		const struct board_clock *b = &r->bclk[i];
		if (!b->have_start || !b->have_end)
			continue;
		s2_json_obj(&j, NULL);
		s2_json_uint(&j, "board", r->boards[i]);
		s2_json_int(&j, "offset_start_us", b->off_start_us);
		s2_json_int(&j, "offset_end_us", b->off_end_us);
		s2_json_int(&j, "drift_us", b->off_end_us - b->off_start_us);
		s2_json_str(&j, "from", b->from_samples ? "samples" : "events");
		s2_json_uint(&j, "packets_start", b->from_samples ? b->n_start : 1);
		s2_json_uint(&j, "packets_end", b->from_samples ? b->n_end : 1);
		s2_json_flag(&j, "within_tolerance",
		             (double)llabs(b->off_end_us - b->off_start_us) <= in->clock_tol_us);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	if (any_clock)
		s2_json_flag(&j, "ok", cok);
	else
		s2_json_null(&j, "ok");
	s2_json_end_obj(&j);
	struct domain d[N_DOMAINS];
	boundary(r, f, cb->have_pue, d);
	s2_json_arr(&j, "boundary");
	for (unsigned i = 0; i < N_DOMAINS; i++) {
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "domain", d[i].name);
		s2_json_str(&j, "method", d[i].method);
		s2_json_str(&j, "basis", d[i].basis);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	struct series_meta sm[N_SERIES];
	char period[128];
	sampling(r, f, sm, period);
	s2_json_arr(&j, "sampling");
	for (unsigned i = 0; i < N_SERIES; i++) {
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "series", sm[i].series);
		s2_json_str(&j, "source", sm[i].source);
		s2_json_str(&j, "period", sm[i].period);
		if (sm[i].counter_bits)
			s2_json_uint(&j, "counter_bits", sm[i].counter_bits);
		else
			s2_json_null(&j, "counter_bits");
		s2_json_str(&j, "lsb", sm[i].lsb);
		s2_json_str(&j, "wrap", sm[i].wrap);
		s2_json_str(&j, "uncertainty", sm[i].uncertainty);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	s2_json_num(&j, "seconds", f->secs);
	s2_json_num(&j, "biological_seconds", f->bio_s);
	s2_json_arr(&j, "phases");
	for (unsigned p = 0; p < r->n_ph; p++) {
		const struct phase *ph = &r->ph[p];
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "name", ph->name);
		s2_json_num(&j, "seconds", ph->s);
		s2_json_num(&j, "host_seconds", ph->host_s);
		s2_json_num(&j, "static_j", ph->static_j);
		s2_json_num(&j, "dynamic_j", ph->dynamic_j);
		s2_json_num(&j, "energy_j", ph->static_j + ph->dynamic_j);
		s2_json_str(&j, "kind", ph->kind);
		if (r->have_utc) {
			char u[40];
			utc_str(utc_us(r, ph->t0_us), u);
			s2_json_str(&j, "start_utc", u);
			utc_str(utc_us(r, ph->t1_us), u);
			s2_json_str(&j, "end_utc", u);
		} else {
			s2_json_null(&j, "start_utc");
			s2_json_null(&j, "end_utc");
		}
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	s2_json_obj(&j, "total");
	s2_json_num(&j, "energy_j", f->e_total);
	s2_json_num(&j, "static_j", f->e_static);
	s2_json_num(&j, "dynamic_j", f->e_dyn);
	s2_json_num(&j, "mean_w", f->secs > 0 ? f->e_total / f->secs : 0);
	s2_json_num(&j, "peak_w", f->peak_w);
	s2_json_str(&j, "kind", kind);
	s2_json_end_obj(&j);
	/* the host's share */
	s2_json_obj(&j, "host");
	s2_json_str(&j, "kind", host_kind(f));
	bool host_none = !strcmp(host_kind(f), "excluded") && f->compile_cpu_s < 0;
	if (host_none) /* nothing recorded: null, never a silent zero */
		s2_json_null(&j, "energy_j");
	else
		s2_json_num(&j, "energy_j", f->host_j);
	s2_json_num(&j, "w_per_core", r->m.host_w_per_core);
	s2_json_arr(&j, "phases");
	if (f->compile_cpu_s >= 0) {
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "name", "compile");
		s2_json_num(&j, "cpu_s", f->compile_cpu_s);
		s2_json_num(&j, "energy_j", f->compile_cpu_s * r->m.host_w_per_core);
		s2_json_str(&j, "kind", "estimated");
		s2_json_str(&j, "method", "--compile-cpu-s x host_w_per_core");
		s2_json_end_obj(&j);
	}
	for (unsigned p = 0; p < r->n_ph; p++) {
		const struct phase *ph = &r->ph[p];
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "name", ph->name);
		if (ph->have_cpu)
			s2_json_num(&j, "cpu_s", ph->cpu_s);
		else
			s2_json_null(&j, "cpu_s");
		if (strcmp(ph->host_kind, "excluded"))
			s2_json_num(&j, "energy_j", ph->host_j);
		else
			s2_json_null(&j, "energy_j");
		s2_json_str(&j, "kind", ph->host_kind);
		s2_json_str(&j, "method",
		            !strcmp(ph->host_kind, "measured") ? "RAPL package domains (powercap)"
		            : !strcmp(ph->host_kind, "estimated")
		                    ? "s2ctl's CPU time x host_w_per_core"
		                    : "not recorded (record format 1)");
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	s2_json_end_obj(&j);
	s2_json_obj(&j, "run");
	s2_json_num(&j, "energy_j", f->run_j);
	s2_json_num(&j, "dynamic_j", f->run_dyn);
	s2_json_obj(&j, "dynamic_parts_j");
	for (unsigned k = 0; k < S2_EP_COUNT; k++)
		s2_json_num(&j, part_names[k], r->part_j[k]);
	s2_json_end_obj(&j);
	s2_json_num(&j, "per_synaptic_event_j", f->syn ? f->run_j / (double)f->syn : 0);
	s2_json_num(&j, "per_spike_j", f->spk ? f->run_j / (double)f->spk : 0);
	s2_json_num(&j, "per_simulated_second_j", f->bio_s > 0 ? f->run_j / f->bio_s : 0);
	if (in->inferences > 0)
		s2_json_num(&j, "per_inference_j", f->run_j / in->inferences);
	else
		s2_json_null(&j, "per_inference_j");
	s2_json_end_obj(&j);
	/* correctness in the same run */
	if (in->have_k) {
		const struct correctness *k = &in->k;
		s2_json_obj(&j, "correctness");
		s2_json_arr(&j, "metrics");
		for (unsigned i = 0; i < k->n_metric; i++) {
			s2_json_obj(&j, NULL);
			s2_json_str(&j, "name", k->metric[i].name);
			s2_json_num(&j, "value", k->metric[i].value);
			s2_json_str(&j, "source", "given (--metric)");
			s2_json_end_obj(&j);
		}
		s2_json_end_arr(&j);
		if (k->n_rate) {
			s2_json_obj(&j, "rates");
			s2_json_str(&j, "results", k->results);
			s2_json_arr(&j, "populations");
			for (unsigned i = 0; i < k->n_rate; i++) {
				s2_json_obj(&j, NULL);
				s2_json_str(&j, "population", k->rate[i].label);
				s2_json_num(&j, "expected_hz", k->rate[i].expected);
				s2_json_num(&j, "tolerance_hz", k->rate[i].tol);
				s2_json_num(&j, "measured_hz", k->rate[i].measured);
				s2_json_uint(&j, "spikes", k->rate[i].spikes);
				s2_json_flag(&j, "ok", k->rate[i].ok);
				s2_json_end_obj(&j);
			}
			s2_json_end_arr(&j);
			s2_json_flag(&j, "ok", k->ok);
			s2_json_end_obj(&j);
		} else {
			s2_json_null(&j, "rates");
		}
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "correctness");
	}
	s2_json_arr(&j, "boards");
	for (unsigned i = 0; i < r->n_boards; i++) {
		unsigned b = r->boards[i];
		s2_json_obj(&j, NULL);
		s2_json_uint(&j, "board", b);
		if (r->have_serial[i])
			s2_json_uint(&j, "serial", r->serial[i]);
		else
			s2_json_null(&j, "serial");
		json_opt_str(&j, "firmware_version", r->bversion[i]);
		s2_json_num(&j, "static_j", f->e_static / r->n_boards);
		s2_json_num(&j, "run_dynamic_j", r->board_dyn_j[b]);
		s2_json_arr(&j, "chips");
		for (size_t k = 0; k < r->n_cs; k++) {
			if (r->cs[k].board != b || !r->cs[k].n)
				continue;
			uint64_t inc[S2_LIVE_COUNTERS];
			s2_energy_increase(&r->m, r->cs[k].p, 0, r->cs[k].n - 1, inc);
			s2_json_obj(&j, NULL);
			s2_json_uint(&j, "chip", r->cs[k].chip);
			s2_json_num(&j, "run_dynamic_j", s2_energy_dynamic_j(&r->m, inc, NULL));
			s2_json_uint(&j, "synaptic_events", inc[S2_LC_SYNAPTIC_EVENTS]);
			s2_json_num(&j, "pe_steps", (double)inc[S2_LC_PE_STEPS]);
			s2_json_end_obj(&j);
		}
		s2_json_end_arr(&j);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	s2_json_obj(&j, "activity");
	s2_json_uint(&j, "synaptic_operations", f->syn);
	s2_json_uint(&j, "spikes", f->spk);
	s2_json_uint(&j, "neuron_updates", f->upd);
	s2_json_num(&j, "activation_sparsity", sparsity(f->spk, f->upd));
	s2_json_uint(&j, "packets_routed", r->run_inc_total[S2_LC_PACKETS_ROUTED]);
	s2_json_uint(&j, "dma_bytes", r->run_inc_total[S2_LC_DMA_BYTES]);
	s2_json_end_obj(&j);
	s2_json_obj(&j, "carbon");
	s2_json_num(&j, "it_energy_kwh", dv.it_kwh);
	s2_json_obj(&j, "it_energy_parts_kwh");
	s2_json_num(&j, "boards", f->e_total / 3.6e6);
	if (host_none)
		s2_json_null(&j, "host");
	else
		s2_json_num(&j, "host", f->host_j / 3.6e6);
	s2_json_end_obj(&j);
	s2_json_num(&j, "pue", cb->pue);
	s2_json_str(&j, "pue_kind",
	            cb->have_pue ? "given" : "assumed 1.0: no facility overhead given");
	s2_json_num(&j, "facility_overhead_kwh", dv.facility_kwh);
	if (cb->have_grid) {
		s2_json_obj(&j, "grid");
		s2_json_num(&j, "intensity_g_per_kwh", cb->grid);
		s2_json_str(&j, "dataset", cb->dataset);
		s2_json_str(&j, "zone", cb->zone);
		s2_json_str(&j, "year", cb->year);
		json_opt_str(&j, "scope", cb->scope);
		s2_json_end_obj(&j);
		s2_json_num(&j, "operational_g", dv.op_g);
	} else {
		s2_json_null(&j, "grid");
		s2_json_null(&j, "operational_g");
	}
	if (cb->hourly_path) {
		s2_json_obj(&j, "hourly");
		s2_json_str(&j, "file", cb->hourly_path);
		s2_json_str(&j, "dataset", cb->hourly.dataset);
		s2_json_str(&j, "zone", cb->hourly.zone);
		s2_json_str(&j, "year", cb->hourly.year);
		s2_json_str(&j, "scope", cb->hourly.scope);
		s2_json_str(
		        &j, "method",
		        "each phase's energy (boards and host) spread evenly over its UTC window, "
		        "x PUE x the hour's intensity");
		s2_json_arr(&j, "hours");
		for (size_t i = 0; i < n_hr; i++) {
			char h[32];
			eg_utc_string(hr[i].hour, h);
			s2_json_obj(&j, NULL);
			s2_json_str(&j, "hour_utc", h);
			s2_json_num(&j, "kwh", hr[i].kwh);
			s2_json_num(&j, "g_per_kwh", hr[i].g_per_kwh);
			s2_json_num(&j, "g", hr[i].g);
			s2_json_end_obj(&j);
		}
		s2_json_end_arr(&j);
		s2_json_num(&j, "operational_g", hourly_g);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "hourly");
	}
	if (cb->have_market) {
		s2_json_obj(&j, "market_based");
		s2_json_num(&j, "intensity_g_per_kwh", cb->market);
		s2_json_str(&j, "source", cb->market_source);
		s2_json_num(&j, "operational_g", dv.it_kwh * cb->pue * cb->market);
		s2_json_str(&j, "note",
		            "shown apart: never subtracted from the location-based figure");
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "market_based");
	}
	if (cb->have_embodied) {
		s2_json_obj(&j, "embodied");
		s2_json_num(&j, "kg_per_board", cb->embodied_kg);
		s2_json_num(&j, "lifetime_years", cb->lifetime_y);
		s2_json_uint(&j, "boards_held", r->n_boards);
		s2_json_num(&j, "seconds_held", f->secs);
		s2_json_num(&j, "g", dv.emb_g);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "embodied");
	}
	if (cb->have_grid && cb->have_embodied)
		s2_json_num(&j, "sci_g", dv.op_g + dv.emb_g);
	else
		s2_json_null(&j, "sci_g");
	s2_json_end_obj(&j);
	s2_json_obj(&j, "water");
	if (cb->have_wue) {
		s2_json_obj(&j, "onsite");
		s2_json_num(&j, "wue_l_per_kwh", cb->wue);
		s2_json_str(&j, "source", cb->wue_source);
		s2_json_num(&j, "litres", dv.it_kwh * cb->wue);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "onsite");
	}
	if (cb->have_water) {
		s2_json_obj(&j, "offsite");
		s2_json_num(&j, "l_per_kwh", cb->water);
		s2_json_str(&j, "source", cb->water_source);
		s2_json_num(&j, "litres", dv.it_kwh * cb->pue * cb->water);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "offsite");
	}
	if (cb->have_wue || cb->have_water)
		s2_json_num(&j, "litres",
		            (cb->have_wue ? dv.it_kwh * cb->wue : 0) +
		                    (cb->have_water ? dv.it_kwh * cb->pue * cb->water : 0));
	else
		s2_json_null(&j, "litres");
	s2_json_end_obj(&j);
	s2_json_obj(&j, "stream");
	s2_json_uint(&j, "lost", r->stream_lost);
	s2_json_uint(&j, "bad", r->stream_bad);
	s2_json_end_obj(&j);
	if (in->inferences > 0) {
		s2_json_obj(&j, "per_inference");
		s2_json_num(&j, "inferences", in->inferences);
		s2_json_num(&j, "boards_j", dv.per_inf_board);
		s2_json_num(&j, "chips_in_use_j", dv.per_inf_chip);
		s2_json_uint(&j, "chips_in_use", f->chips_used);
		s2_json_str(&j, "kind", kind);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "per_inference");
	}
	s2_json_arr(&j, "baselines");
	for (unsigned i = 0; i < bl->n; i++) {
		const struct eb_row *b = &bl->row[i];
		s2_json_obj(&j, NULL);
		s2_json_str(&j, "platform", b->platform);
		s2_json_num(&j, "per_inference_j", b->per_inference_j);
		s2_json_str(&j, "kind", b->kind);
		s2_json_str(&j, "basis", b->basis);
		s2_json_str(&j, "boundary", b->boundary);
		if (b->latency_s >= 0)
			s2_json_num(&j, "latency_s", b->latency_s);
		else
			s2_json_null(&j, "latency_s");
		s2_json_num(&j, "ratio_to_s2_chips",
		            dv.per_inf_chip > 0 ? b->per_inference_j / dv.per_inf_chip : 0);
		s2_json_num(&j, "ratio_to_s2_boards",
		            dv.per_inf_board > 0 ? b->per_inference_j / dv.per_inf_board : 0);
		s2_json_end_obj(&j);
	}
	s2_json_end_arr(&j);
	if (in->training_j >= 0 || in->requests > 0) {
		s2_json_obj(&j, "lifecycle");
		if (in->training_j >= 0) {
			s2_json_num(&j, "training_j", in->training_j);
			s2_json_str(&j, "training_source", in->training_src);
		} else {
			s2_json_null(&j, "training_j");
		}
		s2_json_num(&j, "requests", in->requests);
		s2_json_num(&j, "s2_chips_j",
		            (in->training_j > 0 ? in->training_j : 0) +
		                    in->requests * dv.per_inf_chip);
		s2_json_arr(&j, "baselines");
		for (unsigned i = 0; i < bl->n; i++) {
			const struct eb_row *b = &bl->row[i];
			double saved = b->per_inference_j - dv.per_inf_chip;
			s2_json_obj(&j, NULL);
			s2_json_str(&j, "platform", b->platform);
			s2_json_num(&j, "j",
			            (in->training_j > 0 ? in->training_j : 0) +
			                    in->requests * b->per_inference_j);
			if (saved > 0 && in->training_j >= 0)
				s2_json_num(&j, "payback_requests", ceil(in->training_j / saved));
			else
				s2_json_null(&j, "payback_requests");
			s2_json_end_obj(&j);
		}
		s2_json_end_arr(&j);
		s2_json_end_obj(&j);
	} else {
		s2_json_null(&j, "lifecycle");
	}
	s2_json_end_obj(&j);
	s2_json_finish(&j);
}

static void report_text(FILE *out, const struct energy_report *r, const struct figs *f,
                        const struct rep_in *in, const struct hour_row *hr, size_t n_hr,
                        double hourly_g)
{
	const struct carbon *cb = &in->cb;
	const struct eb_set *bl = &in->bl;
	const char *kind = f->kind, *path = r->path;
	const struct derived dv = derive(r, f, in);
	fprintf(out, "energy of %s (%s: %s, model %s, PEs at the %s level)\n",
	        r->image ? r->image : path, path, kind, r->m.version,
	        r->m.pl == S2_PL_HIGH ? "high" : "low");
	if (r->partial)
		fprintf(out,
		        "PARTIAL RUN: %s; every figure below is of a run that did not complete\n",
		        r->partial);
	if (r->record_version >= 2) {
		const char *const *p = (const char *const *)r->prov;
		fprintf(out,
		        "provenance: s2 %s, commit %s, host %s; image sha256 %.16s..., network %s "
		        "(crc32 %s), machine %s sha256 %.16s...\n",
		        p[0] ? p[0] : "?", p[1] ? p[1] : "?", p[2] ? p[2] : "?",
		        p[4] ? p[4] : "(unreadable)", p[5] ? p[5] : "?", p[6] ? p[6] : "?",
		        p[7] ? p[7] : "(not known)", p[8] ? p[8] : "(unreadable)");
		char buf[256];
		if (r->have_fw)
			fprintf(out, "firmware: %s, sha256 %.16s..., image crc32 %s (%s)\n",
			        r->fw[2] ? r->fw[2] : "(no identity)",
			        r->fw[1] ? r->fw[1] : "(unreadable)", r->fw[3] ? r->fw[3] : "?",
			        firmware_basis(r, buf, sizeof buf));
		fprintf(out, "boards:");
		for (unsigned i = 0; i < r->n_boards; i++)
			if (r->have_serial[i])
				fprintf(out, " %u (serial %u, %s);", r->boards[i], r->serial[i],
				        r->bversion[i] ? r->bversion[i] : "?");
			else
				fprintf(out, " %u (no identity);", r->boards[i]);
		fprintf(out, "\n");
	} else {
		fprintf(out, "provenance: not recorded (energy record format 1)\n");
	}
	bool any_clock, cok = clock_ok(r, in->clock_tol_us, &any_clock);
	for (unsigned i = 0; i < r->n_boards; i++) {
		const struct board_clock *b = &r->bclk[i];
		if (b->have_start && b->have_end)
			fprintf(out,
			        "clock: board %u: host - board %lld us at the start, %lld us at "
			        "the "
			        "end "
			        "(drift %lld us, tolerance %.0f us%s)\n",
			        r->boards[i], (long long)b->off_start_us, (long long)b->off_end_us,
			        (long long)(b->off_end_us - b->off_start_us), in->clock_tol_us,
			        (double)llabs(b->off_end_us - b->off_start_us) <= in->clock_tol_us
			                ? ""
			                : ": OUT OF TOLERANCE");
	}
	if (!any_clock)
		fprintf(out, "clock: no offset recorded (needs record format 2 with run events)\n");
	else if (!cok)
		fprintf(out,
		        "warning: a board's clock offset moved more than the tolerance during the "
		        "run: times on the boards' clock and the host's do not line up\n");
	fprintf(out, "  %-8s %10s %12s %12s %12s  %-24s %s\n", "phase", "seconds", "static J",
	        "dynamic J", "total J", "start (UTC)", "host");
	for (unsigned p = 0; p < r->n_ph; p++) {
		const struct phase *ph = &r->ph[p];
		char u[40] = "-", hj[48];
		if (r->have_utc)
			utc_str(utc_us(r, ph->t0_us), u);
		if (strcmp(ph->host_kind, "excluded"))
			snprintf(hj, sizeof hj, "%.4g J %s", ph->host_j, ph->host_kind);
		else
			snprintf(hj, sizeof hj, "excluded");
		fprintf(out, "  %-8s %10.3f %12.4g %12.4g %12.4g  %-24s %s%s\n", ph->name, ph->s,
		        ph->static_j, ph->dynamic_j, ph->static_j + ph->dynamic_j, u, hj,
		        !strcmp(ph->name, "run")
		                ? "  (biological time: the machine runs in real time)"
		                : "");
	}
	fprintf(out, "  %-8s %10.3f %12.4g %12.4g %12.4g   mean %.3g W, peak %.3g W\n", "total",
	        f->secs, f->e_static, f->e_dyn, f->e_total, f->secs > 0 ? f->e_total / f->secs : 0,
	        f->peak_w);
	if (!strcmp(host_kind(f), "excluded") && f->compile_cpu_s < 0)
		fprintf(out, "host: excluded, not recorded (energy record format 1");
	else
		fprintf(out, "host: %.4g J %s (%.3g W per busy core", f->host_j, host_kind(f),
		        r->m.host_w_per_core);
	if (f->compile_cpu_s >= 0)
		fprintf(out, "; compile %.3g s of CPU", f->compile_cpu_s);
	else
		fprintf(out, "; compile excluded: give --compile-cpu-s");
	fprintf(out, ")\n");
	fprintf(out,
	        "run: %.4g J for %.3g s of biological time (%.4g J per simulated second); "
	        "%.3g J per synaptic event, %.3g J per spike",
	        f->run_j, f->bio_s, f->bio_s > 0 ? f->run_j / f->bio_s : 0,
	        f->syn ? f->run_j / (double)f->syn : 0, f->spk ? f->run_j / (double)f->spk : 0);
	if (in->inferences > 0)
		fprintf(out, ", %.4g J per inference", f->run_j / in->inferences);
	fprintf(out, "\n  dynamic:");
	for (unsigned k = 0; k < S2_EP_COUNT; k++)
		fprintf(out, " %s %.3g J%s", part_names[k], r->part_j[k],
		        k + 1 < S2_EP_COUNT ? "," : "\n");
	fprintf(out,
	        "activity: %llu synaptic operations, %llu spikes, %llu neuron updates, activation "
	        "sparsity %.4f\n",
	        (unsigned long long)f->syn, (unsigned long long)f->spk, (unsigned long long)f->upd,
	        sparsity(f->spk, f->upd));
	if (in->have_k) {
		const struct correctness *k = &in->k;
		fprintf(out, "correctness:");
		for (unsigned i = 0; i < k->n_metric; i++)
			fprintf(out, " %s %.6g (given);", k->metric[i].name, k->metric[i].value);
		for (unsigned i = 0; i < k->n_rate; i++)
			fprintf(out, " %s %.4g Hz (expected %.4g +- %.4g: %s);", k->rate[i].label,
			        k->rate[i].measured, k->rate[i].expected, k->rate[i].tol,
			        k->rate[i].ok ? "ok" : "OUT");
		fprintf(out, "\n");
	}
	fprintf(out, "boards:");
	for (unsigned i = 0; i < r->n_boards; i++)
		fprintf(out, " %u: static %.4g J + run dynamic %.4g J;", r->boards[i],
		        f->e_static / r->n_boards, r->board_dyn_j[r->boards[i]]);
	struct domain d[N_DOMAINS];
	boundary(r, f, cb->have_pue, d);
	fprintf(out, "\nboundary:");
	for (unsigned i = 0; i < N_DOMAINS; i++)
		fprintf(out, " %s %s%s", d[i].name, d[i].method, i + 1 < N_DOMAINS ? "," : "\n");
	char host_kwh[48];
	if (!strcmp(host_kind(f), "excluded") && f->compile_cpu_s < 0)
		snprintf(host_kwh, sizeof host_kwh, "excluded");
	else
		snprintf(host_kwh, sizeof host_kwh, "%.4g", f->host_j / 3.6e6);
	fprintf(out,
	        "carbon: IT energy %.4g kWh (boards %.4g, host %s); PUE %.2f (%s): facility "
	        "overhead %.4g kWh\n",
	        dv.it_kwh, f->e_total / 3.6e6, host_kwh, cb->pue,
	        cb->have_pue ? "given" : "assumed: none given", dv.facility_kwh);
	if (cb->have_grid)
		fprintf(out,
		        "  operational %.4g g CO2e (annual average %.4g g/kWh: %s, %s, %s%s%s)\n",
		        dv.op_g, cb->grid, cb->dataset, cb->zone, cb->year, cb->scope ? ", " : "",
		        cb->scope ? cb->scope : "");
	else if (!cb->hourly_path)
		fprintf(out,
		        "  operational: not computed (give --grid-intensity with its dataset, zone "
		        "and year, or --grid-hourly)\n");
	if (cb->hourly_path) {
		fprintf(out, "  operational, hour by hour %.4g g CO2e (%s, %s, %s, %s):", hourly_g,
		        cb->hourly.dataset, cb->hourly.zone, cb->hourly.year, cb->hourly.scope);
		for (size_t i = 0; i < n_hr; i++) {
			char h[32];
			eg_utc_string(hr[i].hour, h);
			fprintf(out, " %s %.4g kWh x %.4g g/kWh;", h, hr[i].kwh, hr[i].g_per_kwh);
		}
		fprintf(out, "\n");
	}
	if (cb->have_market)
		fprintf(out,
		        "  market-based %.4g g CO2e (%.4g g/kWh: %s; shown apart, never "
		        "subtracted)\n",
		        dv.it_kwh * cb->pue * cb->market, cb->market, cb->market_source);
	if (cb->have_embodied)
		fprintf(out,
		        "  embodied %.4g g CO2e (%.4g kg per board, %u boards held %.3f s of a "
		        "%.3g-year life)\n",
		        dv.emb_g, cb->embodied_kg, r->n_boards, f->secs, cb->lifetime_y);
	else
		fprintf(out, "  embodied: not computed (give --embodied-kg per board)\n");
	if (cb->have_grid && cb->have_embodied)
		fprintf(out, "  SCI total %.4g g CO2e\n", dv.op_g + dv.emb_g);
	if (cb->have_wue || cb->have_water) {
		fprintf(out, "water:");
		if (cb->have_wue)
			fprintf(out, " on site %.4g L (WUE %.4g L/kWh: %s);", dv.it_kwh * cb->wue,
			        cb->wue, cb->wue_source);
		if (cb->have_water)
			fprintf(out, " off site %.4g L (%.4g L/kWh of electricity: %s);",
			        dv.it_kwh * cb->pue * cb->water, cb->water, cb->water_source);
		fprintf(out, "\n");
	}
	if (r->stream_lost || r->stream_bad)
		fprintf(out,
		        "warning: the energy stream lost %llu packets (%llu bad): samples are "
		        "missing, the counters still cover the gaps\n",
		        (unsigned long long)r->stream_lost, (unsigned long long)r->stream_bad);
	if (in->inferences > 0 && (bl->n || in->training_j >= 0 || in->requests > 0)) {
		fprintf(out,
		        "per %s (%s): s2 %.4g J at the %u chips in use, %.4g J at the boards\n",
		        bl->inference[0] ? bl->inference : "inference", kind, dv.per_inf_chip,
		        f->chips_used, dv.per_inf_board);
		for (unsigned i = 0; i < bl->n; i++) {
			const struct eb_row *b = &bl->row[i];
			fprintf(out,
			        "  %-34s %10.4g J  %-9s boundary %-14s  %.3gx s2 (chips), %.3gx s2 "
			        "(boards)\n    basis: %s\n",
			        b->platform, b->per_inference_j, b->kind, b->boundary,
			        dv.per_inf_chip > 0 ? b->per_inference_j / dv.per_inf_chip : 0,
			        dv.per_inf_board > 0 ? b->per_inference_j / dv.per_inf_board : 0,
			        b->basis);
		}
	}
	if (in->training_j >= 0 || in->requests > 0) {
		fprintf(out, "lifecycle:");
		if (in->training_j >= 0)
			fprintf(out, " training %.4g J (%s);", in->training_j, in->training_src);
		else
			fprintf(out, " no training energy given;");
		fprintf(out, " %.4g requests: s2 %.4g J", in->requests,
		        (in->training_j > 0 ? in->training_j : 0) + in->requests * dv.per_inf_chip);
		for (unsigned i = 0; i < bl->n; i++)
			fprintf(out, ", %s %.4g J", bl->row[i].platform,
			        (in->training_j > 0 ? in->training_j : 0) +
			                in->requests * bl->row[i].per_inference_j);
		fprintf(out, "\n");
		for (unsigned i = 0; in->training_j >= 0 && i < bl->n; i++) {
			double saved = bl->row[i].per_inference_j - dv.per_inf_chip;
			if (saved > 0)
				fprintf(out,
				        "  against %s: serving on s2 saves %.4g J per %s and pays "
				        "back "
				        "the training energy after %.4g requests\n",
				        bl->row[i].platform, saved, bl->inference,
				        ceil(in->training_j / saved));
			else
				fprintf(out,
				        "  against %s: s2 saves nothing per %s, it never pays "
				        "back\n",
				        bl->row[i].platform, bl->inference);
		}
	}
}

static void report_openmetrics(FILE *out, const struct energy_report *r, const struct figs *f)
{
	const char *run_name = r->image ? r->image : r->path;
	fprintf(out,
	        "# TYPE s2_energy_joules counter\n# UNIT s2_energy_joules joules\n"
	        "# HELP s2_energy_joules Energy of a run, by board and phase (%s, %s).\n",
	        f->kind, r->m.version);
	for (unsigned i = 0; i < r->n_boards; i++)
		for (unsigned p = 0; p < r->n_ph; p++) {
			double dj = !strcmp(r->ph[p].name, "run")
			                    ? r->board_dyn_j[r->boards[i]]
			                    : r->ph[p].dynamic_j / r->n_boards;
			fprintf(out,
			        "s2_energy_joules_total{run=\"%s\",board=\"%u\",phase=\"%s\","
			        "kind=\"%s\"} %.9g\n",
			        run_name, r->boards[i], r->ph[p].name, r->ph[p].kind,
			        r->ph[p].static_j / r->n_boards + dj);
		}
	for (unsigned p = 0; p < r->n_ph; p++)
		if (strcmp(r->ph[p].host_kind, "excluded"))
			fprintf(out,
			        "s2_energy_joules_total{run=\"%s\",board=\"host\",phase=\"%s\","
			        "kind=\"%s\"} %.9g\n",
			        run_name, r->ph[p].name, r->ph[p].host_kind, r->ph[p].host_j);
	fprintf(out,
	        "# TYPE s2_synaptic_events counter\n"
	        "s2_synaptic_events_total{run=\"%s\"} %llu\n"
	        "# TYPE s2_spikes counter\ns2_spikes_total{run=\"%s\"} %llu\n# EOF\n",
	        run_name, (unsigned long long)f->syn, run_name, (unsigned long long)f->spk);
}

/* --- the public report ------------------------------------------------------------------- */

struct s2_energy_report {
	struct energy_report r;
	struct rep_in in;
	struct figs f;
	struct hour_row *hr;
	size_t n_hr;
	double hourly_g;
	char *own[16]; /* copies of the caller's strings the report points to */
	unsigned n_own;
};

/* A copy of s owned by the report (NULL stays NULL); false if memory ran out. */
static bool keep(struct s2_energy_report *rep, const char **s)
{
	if (!*s)
		return true;
	if (rep->n_own == sizeof rep->own / sizeof rep->own[0])
		return false;
	char *c = strdup(*s);
	if (!c)
		return false;
	rep->own[rep->n_own++] = c;
	*s = c;
	return true;
}

/* Read a model file into m; 0 or an S2_E_ code. */
static int read_model(const char *path, struct s2_energy_model *m, char *err, size_t errlen)
{
	char merr[512];
	int rc = s2_energy_model_load(m, path, merr, sizeof merr);
	if (rc < 0)
		return rfail(err, errlen,
		             rc == S2_E_NOMEM ? rc
		             : rc == S2_E_IO  ? rc
		                              : S2_E_FORMAT,
		             "--model %s", merr);
	return 0;
}

/* A value given with its flag must lie in lo..hi; 0 or S2_E_INVAL naming the option. */
static int in_range(bool have, double v, const char *opt, double lo, double hi, char *err,
                    size_t errlen)
{
	if (have && !(v >= lo && v <= hi))
		return rfail(err, errlen, S2_E_INVAL, "%s: %g is not a number in %g..%g", opt, v,
		             lo, hi);
	return 0;
}

/* The options checked and taken over into rep->in, then every input file read: 0 or an
 * S2_E_ code. The checks are s2ctl energy report's, for callers that are not s2ctl. */
static int report_inputs(struct s2_energy_report *rep, const struct s2_energy_report_opts *o,
                         char *err, size_t errlen)
{
	struct rep_in *in = &rep->in;
	struct carbon *cb = &in->cb;
	cb->pue = 1.0;
	cb->lifetime_y = 5;
	in->training_j = -1;
	in->compile_cpu_s = -1;
	in->clock_tol_us = 5000;
	in->training_src = "given (--training-j)";
	int rc;
	const struct {
		bool have;
		double v;
		const char *opt;
		double lo, hi;
	} range[] = {
	        {o->have_pue, o->pue, "--pue", 1.0, 5.0},
	        {o->have_grid, o->grid_g_per_kwh, "--grid-intensity", 0, 5000},
	        {o->have_market, o->market_g_per_kwh, "--market-intensity", 0, 5000},
	        {o->have_wue, o->wue_l_per_kwh, "--wue", 0, 100},
	        {o->have_water, o->water_l_per_kwh, "--water-intensity", 0, 1000},
	        {o->have_embodied, o->embodied_kg, "--embodied-kg", 0, 1e6},
	        {o->lifetime_years != 0, o->lifetime_years, "--lifetime-years", 0.1, 100},
	        {o->samples != 0, o->samples, "--samples", 1, 1e15},
	        {o->requests != 0, o->requests, "--requests", 1, 1e18},
	        {o->have_training_j, o->training_j, "--training-j", 0, 1e18},
	        {o->have_clock_tolerance, o->clock_tolerance_us, "--clock-tolerance-us", 0, 1e9},
	        {o->have_compile_cpu, o->compile_cpu_s, "--compile-cpu-s", 0, 1e7},
	};
	for (unsigned i = 0; i < sizeof range / sizeof range[0]; i++)
		if ((rc = in_range(range[i].have, range[i].v, range[i].opt, range[i].lo,
		                   range[i].hi, err, errlen)))
			return rc;
	if (o->have_grid && (!o->grid_dataset || !o->grid_zone || !o->grid_year))
		return rfail(err, errlen, S2_E_INVAL,
		             "--grid-intensity needs --grid-dataset, --grid-zone and "
		             "--grid-year: a CO2e figure names its source");
	if (o->have_market && !o->market_source)
		return rfail(err, errlen, S2_E_INVAL,
		             "--market-intensity needs --market-source (the contract or "
		             "certificate it comes from)");
	if (o->have_wue && !o->wue_source)
		return rfail(err, errlen, S2_E_INVAL,
		             "--wue needs --wue-source: where it comes from");
	if (o->have_water && !o->water_source)
		return rfail(err, errlen, S2_E_INVAL,
		             "--water-intensity needs --water-source: where it comes from");
	if (o->n_metrics > MAX_METRICS)
		return rfail(err, errlen, S2_E_INVAL, "--metric: more than %d", MAX_METRICS);
	for (unsigned i = 0; i < o->n_metrics; i++) {
		const char *nm = o->metrics[i].name;
		size_t n = nm ? strlen(nm) : 0;
		bool name_ok = n > 0 && n < sizeof in->k.metric[0].name;
		for (size_t c = 0; name_ok && c < n; c++)
			name_ok = (nm[c] >= 'a' && nm[c] <= 'z') ||
			          (nm[c] >= 'A' && nm[c] <= 'Z') ||
			          (nm[c] >= '0' && nm[c] <= '9') || nm[c] == '_' || nm[c] == '-' ||
			          nm[c] == '.';
		if (!name_ok || !isfinite(o->metrics[i].value))
			return rfail(
			        err, errlen, S2_E_INVAL,
			        "--metric: '%s' is not NAME=VALUE (a name of letters, digits, _-. "
			        "and a number)",
			        nm ? nm : "");
		memcpy(in->k.metric[i].name, nm, n + 1);
		in->k.metric[i].value = o->metrics[i].value;
	}
	in->k.n_metric = o->n_metrics;
	in->have_k = o->n_metrics || o->expect_rates_path;
	static const char *const orphan[][2] = {{"--results", "--expect-rates"},
	                                        {"--grid-scope", "--grid-intensity"},
	                                        {"--market-source", "--market-intensity"},
	                                        {"--wue-source", "--wue"},
	                                        {"--water-source", "--water-intensity"}};
	const bool given[] = {o->results_path, o->grid_scope, o->market_source, o->wue_source,
	                      o->water_source};
	const bool base[] = {o->expect_rates_path, o->have_grid, o->have_market, o->have_wue,
	                     o->have_water};
	for (unsigned i = 0; i < sizeof given / sizeof given[0]; i++)
		if (given[i] && !base[i])
			return rfail(err, errlen, S2_E_INVAL, "%s applies only with %s",
			             orphan[i][0], orphan[i][1]);
	if ((o->baseline_path || o->requests || o->have_training_j || o->training_csv) &&
	    !o->samples)
		return rfail(err, errlen, S2_E_INVAL,
		             "--baseline, --requests and the training energy compare energy per "
		             "inference: give --samples N (inferences in the run)");
	if (o->have_training_j && o->training_csv)
		return rfail(err, errlen, S2_E_INVAL,
		             "give --training-j or --training-csv, not both");
	cb->have_pue = o->have_pue;
	if (o->have_pue)
		cb->pue = o->pue;
	cb->have_grid = o->have_grid;
	cb->grid = o->grid_g_per_kwh;
	cb->dataset = o->grid_dataset;
	cb->zone = o->grid_zone;
	cb->year = o->grid_year;
	cb->scope = o->grid_scope;
	cb->have_market = o->have_market;
	cb->market = o->market_g_per_kwh;
	cb->market_source = o->market_source;
	cb->have_wue = o->have_wue;
	cb->wue = o->wue_l_per_kwh;
	cb->wue_source = o->wue_source;
	cb->have_water = o->have_water;
	cb->water = o->water_l_per_kwh;
	cb->water_source = o->water_source;
	cb->have_embodied = o->have_embodied;
	cb->embodied_kg = o->embodied_kg;
	if (o->lifetime_years)
		cb->lifetime_y = o->lifetime_years;
	in->inferences = o->samples;
	in->requests = o->requests;
	if (o->have_training_j)
		in->training_j = o->training_j;
	if (o->have_clock_tolerance)
		in->clock_tol_us = o->clock_tolerance_us;
	if (o->have_compile_cpu)
		in->compile_cpu_s = o->compile_cpu_s;
	if (!keep(rep, &cb->dataset) || !keep(rep, &cb->zone) || !keep(rep, &cb->year) ||
	    !keep(rep, &cb->scope) || !keep(rep, &cb->market_source) ||
	    !keep(rep, &cb->wue_source) || !keep(rep, &cb->water_source))
		return rfail(err, errlen, S2_E_NOMEM, "out of memory");
	char berr[512];
	if (o->baseline_path && (rc = eb_load(&in->bl, o->baseline_path, berr, sizeof berr)) < 0)
		return rfail(err, errlen, rc == S2_E_NOMEM ? rc : S2_E_FORMAT, "--baseline %s",
		             berr);
	if (o->training_csv && (rc = eb_training_csv(o->training_csv, &in->training_j,
	                                             &in->training_src, berr, sizeof berr)) < 0)
		return rfail(err, errlen, rc == S2_E_NOMEM ? rc : S2_E_FORMAT, "--training-csv %s",
		             berr);
	if (o->grid_hourly_path) {
		size_t len;
		char ferr[512];
		char *text = read_text(o->grid_hourly_path, 64 << 20, &len, ferr, sizeof ferr);
		if (!text)
			return rfail(err, errlen, S2_E_IO, "--grid-hourly %s", ferr);
		char gerr[256];
		rc = eg_parse(text, len, &cb->hourly, gerr, sizeof gerr);
		free(text);
		if (rc < 0)
			return rfail(err, errlen, S2_E_FORMAT, "--grid-hourly %s: %s",
			             o->grid_hourly_path, gerr);
		cb->hourly_path = o->grid_hourly_path;
		if (!keep(rep, &cb->hourly_path))
			return rfail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	return 0;
}

int s2_energy_report_open(const char *path, const struct s2_energy_report_opts *o,
                          struct s2_energy_report **out, char *err, size_t errlen)
{
	static const struct s2_energy_report_opts none;
	*out = NULL;
	if (!o)
		o = &none;
	if (!path)
		return rfail(err, errlen, S2_E_INVAL, "no energy record given");
	struct s2_energy_report *rep = calloc(1, sizeof *rep);
	if (!rep)
		return rfail(err, errlen, S2_E_NOMEM, "out of memory");
	struct energy_report *r = &rep->r;
	int rc = report_inputs(rep, o, err, errlen);
	if (rc)
		goto fail;
	if (o->model)
		r->m = *o->model;
	else
		s2_energy_model_default(&r->m);
	if (o->model_path && (rc = read_model(o->model_path, &r->m, err, errlen)))
		goto fail;
	if (!(r->path = strdup(path))) {
		rc = rfail(err, errlen, S2_E_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = load(r, path, err, errlen)))
		goto fail;
	if (r->partial && !o->allow_partial) {
		rc = rfail(err, errlen, S2_E_STATE,
		           "%s: record of a partial run (%s): its energy is of a run that did "
		           "not complete (report it anyway with --allow-partial)",
		           path, r->partial);
		goto fail;
	}
	compute(r);
	if (o->expect_rates_path) {
		const char *res = o->results_path ? o->results_path : r->prov[9];
		if ((rc = check_rates(o->expect_rates_path, res, r->prov[10], &rep->in.k, err,
		                      errlen)))
			goto fail;
		if (!keep(rep, &rep->in.k.results)) {
			rc = rfail(err, errlen, S2_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	figures(r, rep->in.compile_cpu_s, &rep->f);
	if (rep->in.cb.hourly_path && (rc = hourly(r, &rep->f, &rep->in.cb, &rep->hr, &rep->n_hr,
	                                           &rep->hourly_g, err, errlen)))
		goto fail;
	*out = rep;
	return 0;
fail:
	s2_energy_report_free(rep);
	return rc;
}

void s2_energy_report_free(struct s2_energy_report *rep)
{
	if (!rep)
		return;
	report_release(&rep->r);
	eg_free(&rep->in.cb.hourly);
	free(rep->hr);
	for (unsigned i = 0; i < rep->n_own; i++)
		free(rep->own[i]);
	free(rep);
}

const char *s2_energy_report_partial(const struct s2_energy_report *rep)
{
	return rep->r.partial;
}

static int file_status(FILE *f)
{
	return ferror(f) ? S2_E_IO : 0;
}

int s2_energy_report_json(const struct s2_energy_report *rep, FILE *f)
{
	report_json(f, &rep->r, &rep->f, &rep->in, rep->hr, rep->n_hr, rep->hourly_g);
	return file_status(f);
}

int s2_energy_report_text(const struct s2_energy_report *rep, FILE *f)
{
	report_text(f, &rep->r, &rep->f, &rep->in, rep->hr, rep->n_hr, rep->hourly_g);
	return file_status(f);
}

int s2_energy_report_openmetrics(const struct s2_energy_report *rep, FILE *f)
{
	report_openmetrics(f, &rep->r, &rep->f);
	return file_status(f);
}

int s2_energy_report_csv(const struct s2_energy_report *rep, const char *dir, char *err,
                         size_t errlen)
{
	char e[512];
	int rc = write_csv(&rep->r, dir, e, sizeof e);
	if (rc < 0)
		rfail(err, errlen, rc, "%s", e);
	return rc;
}

unsigned s2_energy_report_boards(const struct s2_energy_report *rep, const unsigned **boards)
{
	*boards = rep->r.boards;
	return rep->r.n_boards;
}

size_t s2_energy_report_chips(const struct s2_energy_report *rep, struct s2_energy_chip **out)
{
	const struct energy_report *r = &rep->r;
	*out = NULL;
	if (!r->n_cs || !(*out = calloc(r->n_cs, sizeof **out)))
		return 0;
	size_t n = 0;
	for (size_t k = 0; k < r->n_cs; k++) {
		const struct chip_series *cs = &r->cs[k];
		if (!cs->n || !is_board_used(r, cs->board))
			continue;
		uint64_t inc[S2_LIVE_COUNTERS];
		s2_energy_increase(&r->m, cs->p, 0, cs->n - 1, inc);
		(*out)[n++] =
		        (struct s2_energy_chip){cs->board, cs->chip, inc[S2_LC_SYNAPTIC_EVENTS],
		                                s2_energy_dynamic_j(&r->m, inc, NULL)};
	}
	return n;
}

size_t s2_energy_report_power(const struct s2_energy_report *rep, int board,
                              struct s2_energy_power *out, size_t cap)
{
	struct pw *pw = cap ? malloc(cap * sizeof *pw) : NULL;
	if (!pw)
		return 0;
	size_t n = power_series(&rep->r, board, pw, cap);
	for (size_t k = 0; k < n; k++)
		out[k] = (struct s2_energy_power){pw[k].s0, pw[k].s1, pw[k].w};
	free(pw);
	return n;
}

static double host_s_of(const struct energy_report *r, const char *name)
{
	for (unsigned i = 0; i < r->n_ph; i++)
		if (!strcmp(r->ph[i].name, name))
			return r->ph[i].host_s;
	return 0;
}

void s2_energy_report_figures(const struct s2_energy_report *rep, struct s2_energy_figures *f)
{
	const struct energy_report *r = &rep->r;
	const struct figs *g = &rep->f;
	memset(f, 0, sizeof *f);
	f->energy_j = g->e_total;
	f->static_j = g->e_static;
	f->dynamic_j = g->e_dyn;
	f->run_j = g->run_j;
	f->run_dynamic_j = g->run_dyn;
	f->host_j = g->host_j;
	f->per_synaptic_event_j = g->syn ? g->run_j / (double)g->syn : 0;
	f->synaptic_events = g->syn;
	f->spikes = g->spk;
	f->neuron_updates = g->upd;
	f->peak_w = g->peak_w;
	f->boot_s = host_s_of(r, "boot");
	f->load_s = host_s_of(r, "load");
	f->run_host_s = host_s_of(r, "run");
	f->readout_s = host_s_of(r, "readout");
	f->dt_ms = r->dt_ms;
	f->steps = r->steps;
	f->measured = r->measured;
	f->booted_boards = r->fw_booted;
	snprintf(f->model_version, sizeof f->model_version, "%s", r->m.version);
}
