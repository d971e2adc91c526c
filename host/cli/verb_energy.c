/*
 * s2ctl energy report (docs/energy.md, docs/cli/energy.md): what a run cost, from the energy
 * record of `s2ctl run --energy FILE`: joules per phase, board, chip and PE, static and
 * dynamic, per synaptic event, spike, simulated second and inference; NeuroBench-style
 * activity metrics; operational CO2e with the facility overhead apart and the grid
 * intensity's source named; embodied carbon by the SCI rule. Every number says whether it is
 * measured or modelled, and by which model version. Text, JSON
 * (docs/schemas/s2ctl-energy.schema.json), CSV of the raw samples and of power over time, an SVG
 * plot, or OpenMetrics text.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "energy_baseline.h"
#include "energy_report.h"
#include "s2/energy.h"
#include "s2/error.h"
#include "svg.h"

#define CHIPS_PER_BOARD 48
#define MAX_BOARDS 720

struct eopts {
	const char *model, *pue, *grid, *grid_dataset, *grid_zone, *grid_year, *embodied, *lifetime,
	        *samples, *csv, *svg, *baseline, *training_j, *training_csv, *requests;
	bool openmetrics;
};

static int energy_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct eopts *o = ctx;
	const char **slot[] = {&o->model,      &o->pue,          &o->grid,     &o->grid_dataset,
	                       &o->grid_zone,  &o->grid_year,    &o->embodied, &o->lifetime,
	                       &o->samples,    &o->csv,          &o->svg,      &o->baseline,
	                       &o->training_j, &o->training_csv, &o->requests};
	if (id >= 256 && id < 256 + (int)(sizeof slot / sizeof slot[0])) {
		*slot[id - 256] = arg;
		return 0;
	}
	if (id == 300) {
		o->openmetrics = true;
		return 0;
	}
	return -1;
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
	const char *kind; /* measured or modelled */
};

struct energy_report {
	struct s2_energy_model m;
	const char *path, *image;
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
};

static int fail(const struct cli *c, const char *path, const char *what)
{
	return cli_error(c, EXIT_INPUT, "%s: %s", path, what);
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

/* Read the record; 0 or an exit code (the error printed). */
static int load(const struct cli *c, struct energy_report *r, const char *path)
{
	struct json_object *root = json_object_from_file(path);
	if (!root)
		return fail(c, path, "not readable JSON");
	int ec = 0;
	struct json_object *v, *a;
	if (!(v = get(root, "format", json_type_string)) ||
	    strcmp(json_object_get_string(v), "s2-energy-record-1")) {
		ec = fail(c, path, "not an energy record (format s2-energy-record-1)");
		goto out;
	}
	r->path = path;
	r->image = (v = get(root, "image", json_type_string)) ? strdup(json_object_get_string(v))
	                                                      : NULL;
	if (!(v = get(root, "timestep_ms", json_type_double)) &&
	    !(v = get(root, "timestep_ms", json_type_int))) {
		ec = fail(c, path, "timestep_ms missing");
		goto out;
	}
	r->dt_ms = json_object_get_double(v);
	r->steps = (v = get(root, "steps", json_type_int)) ? (uint64_t)json_object_get_int64(v) : 0;
	r->machine_boards = (v = get(root, "machine_boards", json_type_int))
	                            ? (unsigned)json_object_get_int(v)
	                            : 0;
	if (!(r->dt_ms > 0) || !r->steps || !r->machine_boards) {
		ec = fail(c, path, "timestep_ms, steps and machine_boards must be positive");
		goto out;
	}
	if (!(a = get(root, "boards", json_type_array)) || !json_object_array_length(a) ||
	    json_object_array_length(a) > MAX_BOARDS) {
		ec = fail(c, path, "boards: a list of 1 to 720 boards");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *b = json_object_array_get_idx(a, i);
		if (!(v = get(b, "board", json_type_int)) || json_object_get_int(v) < 0 ||
		    json_object_get_int(v) >= MAX_BOARDS) {
			ec = fail(c, path, "boards[]: board missing or out of range");
			goto out;
		}
		r->boards[r->n_boards++] = (unsigned)json_object_get_int(v);
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
				ec = fail(c, path, "phases[]: name, start_us <= end_us");
				goto out;
			}
			struct phase *ph = &r->ph[r->n_ph++];
			snprintf(ph->name, sizeof ph->name, "%s", json_object_get_string(n));
			ph->host_s =
			        (double)(json_object_get_int64(t1) - json_object_get_int64(t0)) *
			        1e-6;
			ph->s = ph->host_s;
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
		ec = fail(c, path, "samples missing");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_array) ||
		    json_object_array_length(s) != 4 + S2_LIVE_COUNTERS) {
			char what[96];
			snprintf(what, sizeof what, "samples[%zu]: not %u numbers", i,
			         4 + S2_LIVE_COUNTERS);
			ec = fail(c, path, what);
			goto out;
		}
		uint64_t f[4 + S2_LIVE_COUNTERS];
		for (unsigned k = 0; k < 4 + S2_LIVE_COUNTERS; k++) {
			struct json_object *e = json_object_array_get_idx(s, k);
			if (!json_object_is_type(e, json_type_int) ||
			    json_object_get_int64(e) < 0) {
				char what[96];
				snprintf(what, sizeof what, "samples[%zu][%u]: not a count", i, k);
				ec = fail(c, path, what);
				goto out;
			}
			f[k] = json_object_get_uint64(e);
		}
		struct chip_series *cs = series_of(r, (unsigned)f[0], (unsigned)f[1]);
		if (!cs) {
			ec = cli_error(c, EXIT_FAIL, "out of memory");
			goto out;
		}
		if (cs->n == cs->cap) {
			size_t cap = cs->cap ? 2 * cs->cap : 64;
			struct s2_energy_point *q = realloc(cs->p, cap * sizeof *q);
			if (!q) {
				ec = cli_error(c, EXIT_FAIL, "out of memory");
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

struct carbon {
	bool have_pue, have_grid, have_embodied;
	double pue, grid, embodied_kg, lifetime_y;
	const char *dataset, *zone, *year;
};

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

int energy_report_power_svg(const struct energy_report *r, const char *path, char *err,
                            size_t errlen)
{
	enum { W = 800, H = 420, L = 80, R = 150, T = 40, B = 56, SHOWN = 10 };
	struct pw *pw[SHOWN] = {0};
	size_t n[SHOWN] = {0};
	double ymax = 0, xmax = (double)r->steps * r->dt_ms;
	unsigned shown = r->n_boards < SHOWN ? r->n_boards : SHOWN;
	int rc = 0;
	for (unsigned i = 0; i < shown; i++) {
		pw[i] = calloc(4096, sizeof *pw[i]);
		if (!pw[i]) {
			snprintf(err, errlen, "%.400s: out of memory", path);
			rc = S2_E_NOMEM;
			goto free_series;
		}
		n[i] = power_series(r, (int)r->boards[i], pw[i], 4096);
		for (size_t k = 0; k < n[i]; k++)
			ymax = fmax(ymax, pw[i][k].w);
	}
	ymax *= 1.05;
	double ystep = svg_round_up(&ymax, 5);
	struct svg s;
	if ((rc = svg_open(&s, path, W, H, err, errlen)) < 0)
		goto free_series;
	svg_text(&s, L, 22, "start", "font-size=\"15\"", "Power per board during the run (%s, %s)",
	         r->measured ? "measured" : "modelled", r->m.version);
	struct svg_axes ax = {L, T, W - L - R, H - T - B, 0, xmax > 0 ? xmax : 1, 0, ymax};
	svg_draw_axes(&s, &ax, svg_nice_step(ax.xmax, 6), ystep, true, "biological time (ms)",
	              "power (W)");
	for (unsigned i = 0; i < shown; i++) {
		char cls[32], label[32];
		snprintf(cls, sizeof cls, "board board-%u", r->boards[i]);
		svg_polyline_begin(&s, svg_colour(i), cls);
		for (size_t k = 0; k < n[i]; k++) {
			double y = svg_y(&ax, pw[i][k].w);
			svg_polyline_point(&s, svg_x(&ax, pw[i][k].s0 * r->dt_ms), y);
			svg_polyline_point(&s, svg_x(&ax, pw[i][k].s1 * r->dt_ms), y);
		}
		svg_polyline_end(&s);
		snprintf(label, sizeof label, "board %u", r->boards[i]);
		svg_legend(&s, W - R + 14, T + 16.0 * (i + 1), svg_colour(i), label);
	}
	if (r->n_boards > shown)
		svg_text(&s, W - R + 14, T + 16.0 * (shown + 1), "start", NULL, "(%u more boards)",
		         r->n_boards - shown);
	rc = svg_close(&s, err, errlen);
free_series:
	for (unsigned i = 0; i < shown; i++)
		free(pw[i]);
	return rc;
}

static void report_release(struct energy_report *r)
{
	for (size_t i = 0; i < r->n_cs; i++)
		free(r->cs[i].p);
	free(r->cs);
	free((char *)r->image);
	r->cs = NULL;
	r->n_cs = 0;
	r->image = NULL;
}

struct energy_report *energy_report_open(const struct cli *c, const char *path, int *exit_code)
{
	struct energy_report *r = calloc(1, sizeof *r);
	if (!r) {
		*exit_code = cli_error(c, EXIT_FAIL, "out of memory");
		return NULL;
	}
	s2_energy_model_default(&r->m);
	int ec = load(c, r, path);
	if (ec) {
		*exit_code = ec;
		energy_report_free(r);
		return NULL;
	}
	compute(r);
	return r;
}

void energy_report_free(struct energy_report *r)
{
	if (!r)
		return;
	report_release(r);
	free(r);
}

unsigned energy_report_boards(const struct energy_report *r, const unsigned **boards)
{
	*boards = r->boards;
	return r->n_boards;
}

size_t energy_report_chips(const struct energy_report *r, struct energy_chip **out)
{
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
		(*out)[n++] = (struct energy_chip){cs->board, cs->chip, inc[S2_LC_SYNAPTIC_EVENTS],
		                                   s2_energy_dynamic_j(&r->m, inc, NULL)};
	}
	return n;
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

static double parse_pos(const struct cli *c, const char *opt, const char *arg, double lo, double hi,
                        bool *ok)
{
	char *end;
	double v = strtod(arg, &end);
	if (*end || !(v >= lo && v <= hi)) {
		cli_error(c, EXIT_USAGE, "%s: '%s' is not a number in %g..%g", opt, arg, lo, hi);
		*ok = false;
	}
	return v;
}

int verb_energy(int argc, char **argv)
{
	static const struct option extra[] = {{"model", required_argument, 0, 256},
	                                      {"pue", required_argument, 0, 257},
	                                      {"grid-intensity", required_argument, 0, 258},
	                                      {"grid-dataset", required_argument, 0, 259},
	                                      {"grid-zone", required_argument, 0, 260},
	                                      {"grid-year", required_argument, 0, 261},
	                                      {"embodied-kg", required_argument, 0, 262},
	                                      {"lifetime-years", required_argument, 0, 263},
	                                      {"samples", required_argument, 0, 264},
	                                      {"csv", required_argument, 0, 265},
	                                      {"svg", required_argument, 0, 266},
	                                      {"baseline", required_argument, 0, 267},
	                                      {"training-j", required_argument, 0, 268},
	                                      {"training-csv", required_argument, 0, 269},
	                                      {"requests", required_argument, 0, 270},
	                                      {"openmetrics", no_argument, 0, 300},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct eopts o = {0};
	int pos = cli_parse(&c, "energy", argc, argv, extra, energy_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 2 != argc || strcmp(argv[pos], "report"))
		return cli_error(&c, EXIT_USAGE, "usage: s2ctl energy report RECORD (see --help)");
	const char *path = argv[pos + 1];
	struct carbon cb = {.pue = 1.0, .lifetime_y = 5};
	bool ok = true;
	if (o.pue) {
		cb.pue = parse_pos(&c, "--pue", o.pue, 1.0, 5.0, &ok);
		cb.have_pue = true;
	}
	if (o.grid) {
		cb.grid = parse_pos(&c, "--grid-intensity", o.grid, 0, 5000, &ok);
		cb.have_grid = true;
		if (ok && (!o.grid_dataset || !o.grid_zone || !o.grid_year))
			return cli_error(&c, EXIT_USAGE,
			                 "--grid-intensity needs --grid-dataset, --grid-zone and "
			                 "--grid-year: a CO2e figure names its source");
		cb.dataset = o.grid_dataset;
		cb.zone = o.grid_zone;
		cb.year = o.grid_year;
	}
	if (o.embodied) {
		cb.embodied_kg = parse_pos(&c, "--embodied-kg", o.embodied, 0, 1e6, &ok);
		cb.have_embodied = true;
	}
	if (o.lifetime)
		cb.lifetime_y = parse_pos(&c, "--lifetime-years", o.lifetime, 0.1, 100, &ok);
	double inferences = 0;
	if (o.samples)
		inferences = parse_pos(&c, "--samples", o.samples, 1, 1e15, &ok);
	double requests = 0, training_j = -1;
	const char *training_src = "given (--training-j)";
	if (o.requests)
		requests = parse_pos(&c, "--requests", o.requests, 1, 1e18, &ok);
	if (o.training_j)
		training_j = parse_pos(&c, "--training-j", o.training_j, 0, 1e18, &ok);
	if (!ok)
		return EXIT_USAGE;
	if ((o.baseline || o.requests || o.training_j || o.training_csv) && !o.samples)
		return cli_error(
		        &c, EXIT_USAGE,
		        "--baseline, --requests and the training energy compare energy per "
		        "inference: give --samples N (inferences in the run)");
	if (o.training_j && o.training_csv)
		return cli_error(&c, EXIT_USAGE, "give --training-j or --training-csv, not both");
	static struct eb_set bl;
	memset(&bl, 0, sizeof bl);
	char berr[512];
	if (o.baseline && eb_load(&bl, o.baseline, berr, sizeof berr) < 0)
		return cli_error(&c, EXIT_INPUT, "--baseline %s", berr);
	if (o.training_csv &&
	    eb_training_csv(o.training_csv, &training_j, &training_src, berr, sizeof berr) < 0)
		return cli_error(&c, EXIT_INPUT, "--training-csv %s", berr);
	static struct energy_report r;
	memset(&r, 0, sizeof r);
	s2_energy_model_default(&r.m);
	if (o.model) {
		size_t len;
		char *text = (char *)cli_read_file(o.model, 1 << 20, &len);
		if (!text)
			return cli_error(&c, EXIT_INPUT, "--model %s: %s", o.model,
			                 strerror(errno));
		char *t = realloc(text, len + 1);
		if (!t) {
			free(text);
			return cli_error(&c, EXIT_FAIL, "out of memory");
		}
		t[len] = 0;
		char err[256];
		int rc = s2_energy_model_parse(&r.m, t, err, sizeof err);
		free(t);
		if (rc < 0)
			return cli_error(&c, EXIT_INPUT, "--model %s: %s", o.model, err);
	}
	int ec = load(&c, &r, path);
	if (ec)
		goto out;
	compute(&r);
	struct phase *run = phase(&r, "run");
	double e_static = total_static(&r), e_dyn = total_dynamic(&r), e_total = e_static + e_dyn;
	double secs = total_seconds(&r), bio_s = (double)r.steps * r.dt_ms * 1e-3;
	double run_j = run ? run->static_j + run->dynamic_j : 0;
	uint64_t syn = r.run_inc_total[S2_LC_SYNAPTIC_EVENTS],
	         spk = r.run_inc_total[S2_LC_SPIKES_SENT];
	/* Per inference at two boundaries: the boards (every chip powered, the board's other
	 * parts) and the chips in use alone (their idle power, the PEs' level, the run's dynamic
	 * energy): the like-for-like comparison with an accelerator's own energy counter. */
	unsigned chips_used = 0;
	for (size_t i = 0; i < r.n_cs; i++)
		chips_used += r.cs[i].n && is_board_used(&r, r.cs[i].board);
	double run_s = run ? run->s : 0, run_dyn = run ? run->dynamic_j : 0;
	double chip_run_j = run_dyn + (chips_used * r.m.chip_idle_w +
	                               (double)r.pes * s2_energy_pe_active_w(&r.m)) *
	                                      run_s;
	double per_inf_board = inferences > 0 ? run_j / inferences : 0,
	       per_inf_chip = inferences > 0 ? chip_run_j / inferences : 0;
	uint64_t upd = r.run_inc_total[S2_LC_NEURON_UPDATES];
	static struct pw all[4096];
	size_t n_all = power_series(&r, -1, all, 4096);
	double peak_w = 0;
	for (size_t k = 0; k < n_all; k++)
		peak_w = fmax(peak_w, all[k].w);
	double it_kwh = e_total / 3.6e6;
	double facility_kwh = it_kwh * (cb.pue - 1);
	double op_g = cb.have_grid ? it_kwh * cb.pue * cb.grid : NAN;
	double emb_g = cb.have_embodied ? cb.embodied_kg * 1000 * r.n_boards *
	                                          (secs / (cb.lifetime_y * 365.25 * 86400))
	                                : NAN;
	const char *kind = r.measured ? "measured" : "modelled";
	char err[512];
	if (o.csv && write_csv(&r, o.csv, err, sizeof err) < 0) {
		ec = cli_error(&c, EXIT_FAIL, "--csv: %s", err);
		goto out;
	}
	if (o.svg && energy_report_power_svg(&r, o.svg, err, sizeof err) < 0) {
		ec = cli_error(&c, EXIT_FAIL, "--svg: %s", err);
		goto out;
	}
	if (o.openmetrics) {
		printf("# TYPE s2_energy_joules counter\n# UNIT s2_energy_joules joules\n"
		       "# HELP s2_energy_joules Energy of a run, by board and phase (%s, %s).\n",
		       kind, r.m.version);
		for (unsigned i = 0; i < r.n_boards; i++)
			for (unsigned p = 0; p < r.n_ph; p++) {
				double dj = !strcmp(r.ph[p].name, "run")
				                    ? r.board_dyn_j[r.boards[i]]
				                    : r.ph[p].dynamic_j / r.n_boards;
				printf("s2_energy_joules_total{run=\"%s\",board=\"%u\",phase=\"%"
				       "s\","
				       "kind=\"%s\"} %.9g\n",
				       r.image ? r.image : path, r.boards[i], r.ph[p].name,
				       r.ph[p].kind, r.ph[p].static_j / r.n_boards + dj);
			}
		printf("# TYPE s2_synaptic_events counter\n"
		       "s2_synaptic_events_total{run=\"%s\"} %llu\n"
		       "# TYPE s2_spikes counter\ns2_spikes_total{run=\"%s\"} %llu\n# EOF\n",
		       r.image ? r.image : path, (unsigned long long)syn, r.image ? r.image : path,
		       (unsigned long long)spk);
		goto out;
	}
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "format", "s2-energy-report-1");
		json_str(&j, "record", path);
		json_str(&j, "image", r.image);
		json_str(&j, "kind", kind);
		json_obj(&j, "model");
		json_str(&j, "version", r.m.version);
		json_str(&j, "performance_level", r.m.pl == S2_PL_HIGH ? "high" : "low");
		json_num(&j, "j_per_cycle", s2_energy_j_per_cycle(&r.m, r.m.pl));
		json_num(&j, "chip_idle_w", r.m.chip_idle_w);
		json_num(&j, "board_other_w", r.m.board_other_w);
		json_num(&j, "pe_active_w", s2_energy_pe_active_w(&r.m));
		json_end_obj(&j);
		json_num(&j, "seconds", secs);
		json_num(&j, "biological_seconds", bio_s);
		json_arr(&j, "phases");
		for (unsigned p = 0; p < r.n_ph; p++) {
			json_obj(&j, NULL);
			json_str(&j, "name", r.ph[p].name);
			json_num(&j, "seconds", r.ph[p].s);
			json_num(&j, "host_seconds", r.ph[p].host_s);
			json_num(&j, "static_j", r.ph[p].static_j);
			json_num(&j, "dynamic_j", r.ph[p].dynamic_j);
			json_num(&j, "energy_j", r.ph[p].static_j + r.ph[p].dynamic_j);
			json_str(&j, "kind", r.ph[p].kind);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_obj(&j, "total");
		json_num(&j, "energy_j", e_total);
		json_num(&j, "static_j", e_static);
		json_num(&j, "dynamic_j", e_dyn);
		json_num(&j, "mean_w", secs > 0 ? e_total / secs : 0);
		json_num(&j, "peak_w", peak_w);
		json_str(&j, "kind", kind);
		json_end_obj(&j);
		json_obj(&j, "run");
		json_num(&j, "energy_j", run_j);
		json_num(&j, "dynamic_j", run ? run->dynamic_j : 0);
		json_obj(&j, "dynamic_parts_j");
		for (unsigned k = 0; k < S2_EP_COUNT; k++)
			json_num(&j, part_names[k], r.part_j[k]);
		json_end_obj(&j);
		json_num(&j, "per_synaptic_event_j", syn ? run_j / (double)syn : 0);
		json_num(&j, "per_spike_j", spk ? run_j / (double)spk : 0);
		json_num(&j, "per_simulated_second_j", bio_s > 0 ? run_j / bio_s : 0);
		if (inferences > 0)
			json_num(&j, "per_inference_j", run_j / inferences);
		else
			json_null(&j, "per_inference_j");
		json_end_obj(&j);
		json_arr(&j, "boards");
		for (unsigned i = 0; i < r.n_boards; i++) {
			unsigned b = r.boards[i];
			double bs = e_static / r.n_boards;
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_num(&j, "static_j", bs);
			json_num(&j, "run_dynamic_j", r.board_dyn_j[b]);
			json_arr(&j, "chips");
			for (size_t k = 0; k < r.n_cs; k++) {
				if (r.cs[k].board != b || !r.cs[k].n)
					continue;
				uint64_t inc[S2_LIVE_COUNTERS];
				s2_energy_increase(&r.m, r.cs[k].p, 0, r.cs[k].n - 1, inc);
				json_obj(&j, NULL);
				json_uint(&j, "chip", r.cs[k].chip);
				json_num(&j, "run_dynamic_j", s2_energy_dynamic_j(&r.m, inc, NULL));
				json_uint(&j, "synaptic_events", inc[S2_LC_SYNAPTIC_EVENTS]);
				json_num(&j, "pe_steps", (double)inc[S2_LC_PE_STEPS]);
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_obj(&j, "activity");
		json_uint(&j, "synaptic_operations", syn);
		json_uint(&j, "spikes", spk);
		json_uint(&j, "neuron_updates", upd);
		json_num(&j, "activation_sparsity", sparsity(spk, upd));
		json_uint(&j, "packets_routed", r.run_inc_total[S2_LC_PACKETS_ROUTED]);
		json_uint(&j, "dma_bytes", r.run_inc_total[S2_LC_DMA_BYTES]);
		json_end_obj(&j);
		json_obj(&j, "carbon");
		json_num(&j, "it_energy_kwh", it_kwh);
		json_num(&j, "pue", cb.pue);
		json_str(&j, "pue_kind",
		         cb.have_pue ? "given" : "assumed 1.0: no facility overhead given");
		json_num(&j, "facility_overhead_kwh", facility_kwh);
		if (cb.have_grid) {
			json_obj(&j, "grid");
			json_num(&j, "intensity_g_per_kwh", cb.grid);
			json_str(&j, "dataset", cb.dataset);
			json_str(&j, "zone", cb.zone);
			json_str(&j, "year", cb.year);
			json_end_obj(&j);
			json_num(&j, "operational_g", op_g);
		} else {
			json_null(&j, "grid");
			json_null(&j, "operational_g");
		}
		if (cb.have_embodied) {
			json_obj(&j, "embodied");
			json_num(&j, "kg_per_board", cb.embodied_kg);
			json_num(&j, "lifetime_years", cb.lifetime_y);
			json_uint(&j, "boards_held", r.n_boards);
			json_num(&j, "seconds_held", secs);
			json_num(&j, "g", emb_g);
			json_end_obj(&j);
		} else {
			json_null(&j, "embodied");
		}
		if (cb.have_grid && cb.have_embodied)
			json_num(&j, "sci_g", op_g + emb_g);
		else
			json_null(&j, "sci_g");
		json_end_obj(&j);
		json_obj(&j, "stream");
		json_uint(&j, "lost", r.stream_lost);
		json_uint(&j, "bad", r.stream_bad);
		json_end_obj(&j);
		if (inferences > 0) {
			json_obj(&j, "per_inference");
			json_num(&j, "inferences", inferences);
			json_num(&j, "boards_j", per_inf_board);
			json_num(&j, "chips_in_use_j", per_inf_chip);
			json_uint(&j, "chips_in_use", chips_used);
			json_str(&j, "kind", kind);
			json_end_obj(&j);
		} else {
			json_null(&j, "per_inference");
		}
		json_arr(&j, "baselines");
		for (unsigned i = 0; i < bl.n; i++) {
			const struct eb_row *b = &bl.row[i];
			json_obj(&j, NULL);
			json_str(&j, "platform", b->platform);
			json_num(&j, "per_inference_j", b->per_inference_j);
			json_str(&j, "kind", b->kind);
			json_str(&j, "basis", b->basis);
			json_str(&j, "boundary", b->boundary);
			if (b->latency_s >= 0)
				json_num(&j, "latency_s", b->latency_s);
			else
				json_null(&j, "latency_s");
			json_num(&j, "ratio_to_s2_chips",
			         per_inf_chip > 0 ? b->per_inference_j / per_inf_chip : 0);
			json_num(&j, "ratio_to_s2_boards",
			         per_inf_board > 0 ? b->per_inference_j / per_inf_board : 0);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		if (training_j >= 0 || requests > 0) {
			json_obj(&j, "lifecycle");
			if (training_j >= 0) {
				json_num(&j, "training_j", training_j);
				json_str(&j, "training_source", training_src);
			} else {
				json_null(&j, "training_j");
			}
			json_num(&j, "requests", requests);
			json_num(&j, "s2_chips_j",
			         (training_j > 0 ? training_j : 0) + requests * per_inf_chip);
			json_arr(&j, "baselines");
			for (unsigned i = 0; i < bl.n; i++) {
				const struct eb_row *b = &bl.row[i];
				double saved = b->per_inference_j - per_inf_chip;
				json_obj(&j, NULL);
				json_str(&j, "platform", b->platform);
				json_num(&j, "j",
				         (training_j > 0 ? training_j : 0) +
				                 requests * b->per_inference_j);
				if (saved > 0 && training_j >= 0)
					json_num(&j, "payback_requests", ceil(training_j / saved));
				else
					json_null(&j, "payback_requests");
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_end_obj(&j);
		} else {
			json_null(&j, "lifecycle");
		}
		json_end_obj(&j);
		json_finish(&j);
		goto out;
	}
	printf("energy of %s (%s: %s, model %s, PEs at the %s level)\n", r.image ? r.image : path,
	       path, kind, r.m.version, r.m.pl == S2_PL_HIGH ? "high" : "low");
	printf("  %-8s %10s %12s %12s %12s\n", "phase", "seconds", "static J", "dynamic J",
	       "total J");
	for (unsigned p = 0; p < r.n_ph; p++)
		printf("  %-8s %10.3f %12.4g %12.4g %12.4g%s\n", r.ph[p].name, r.ph[p].s,
		       r.ph[p].static_j, r.ph[p].dynamic_j, r.ph[p].static_j + r.ph[p].dynamic_j,
		       !strcmp(r.ph[p].name, "run")
		               ? "  (biological time: the machine runs in real time)"
		               : "");
	printf("  %-8s %10.3f %12.4g %12.4g %12.4g   mean %.3g W, peak %.3g W\n", "total", secs,
	       e_static, e_dyn, e_total, secs > 0 ? e_total / secs : 0, peak_w);
	printf("run: %.4g J for %.3g s of biological time (%.4g J per simulated second); "
	       "%.3g J per synaptic event, %.3g J per spike",
	       run_j, bio_s, bio_s > 0 ? run_j / bio_s : 0, syn ? run_j / (double)syn : 0,
	       spk ? run_j / (double)spk : 0);
	if (inferences > 0)
		printf(", %.4g J per inference", run_j / inferences);
	printf("\n  dynamic:");
	for (unsigned k = 0; k < S2_EP_COUNT; k++)
		printf(" %s %.3g J%s", part_names[k], r.part_j[k],
		       k + 1 < S2_EP_COUNT ? "," : "\n");
	printf("activity: %llu synaptic operations, %llu spikes, %llu neuron updates, activation "
	       "sparsity %.4f\n",
	       (unsigned long long)syn, (unsigned long long)spk, (unsigned long long)upd,
	       sparsity(spk, upd));
	printf("boards:");
	for (unsigned i = 0; i < r.n_boards; i++)
		printf(" %u: static %.4g J + run dynamic %.4g J;", r.boards[i],
		       e_static / r.n_boards, r.board_dyn_j[r.boards[i]]);
	printf("\ncarbon: IT energy %.4g kWh; PUE %.2f (%s): facility overhead %.4g kWh\n", it_kwh,
	       cb.pue, cb.have_pue ? "given" : "assumed: none given", facility_kwh);
	if (cb.have_grid)
		printf("  operational %.4g g CO2e (grid %.4g g/kWh: %s, %s, %s)\n", op_g, cb.grid,
		       cb.dataset, cb.zone, cb.year);
	else
		printf("  operational: not computed (give --grid-intensity with its dataset, zone "
		       "and "
		       "year)\n");
	if (cb.have_embodied)
		printf("  embodied %.4g g CO2e (%.4g kg per board, %u boards held %.3f s of a "
		       "%.3g-year "
		       "life)\n",
		       emb_g, cb.embodied_kg, r.n_boards, secs, cb.lifetime_y);
	else
		printf("  embodied: not computed (give --embodied-kg per board)\n");
	if (cb.have_grid && cb.have_embodied)
		printf("  SCI total %.4g g CO2e\n", op_g + emb_g);
	if (r.stream_lost || r.stream_bad)
		printf("warning: the energy stream lost %llu packets (%llu bad): samples are "
		       "missing, "
		       "the counters still cover the gaps\n",
		       (unsigned long long)r.stream_lost, (unsigned long long)r.stream_bad);
	if (inferences > 0 && (bl.n || training_j >= 0 || requests > 0)) {
		printf("per %s (%s): s2 %.4g J at the %u chips in use, %.4g J at the boards\n",
		       bl.inference[0] ? bl.inference : "inference", kind, per_inf_chip, chips_used,
		       per_inf_board);
		for (unsigned i = 0; i < bl.n; i++) {
			const struct eb_row *b = &bl.row[i];
			printf("  %-34s %10.4g J  %-9s boundary %-14s  %.3gx s2 (chips), %.3gx s2 "
			       "(boards)\n    basis: %s\n",
			       b->platform, b->per_inference_j, b->kind, b->boundary,
			       per_inf_chip > 0 ? b->per_inference_j / per_inf_chip : 0,
			       per_inf_board > 0 ? b->per_inference_j / per_inf_board : 0,
			       b->basis);
		}
	}
	if (training_j >= 0 || requests > 0) {
		printf("lifecycle:");
		if (training_j >= 0)
			printf(" training %.4g J (%s);", training_j, training_src);
		else
			printf(" no training energy given;");
		printf(" %.4g requests: s2 %.4g J", requests,
		       (training_j > 0 ? training_j : 0) + requests * per_inf_chip);
		for (unsigned i = 0; i < bl.n; i++)
			printf(", %s %.4g J", bl.row[i].platform,
			       (training_j > 0 ? training_j : 0) +
			               requests * bl.row[i].per_inference_j);
		printf("\n");
		for (unsigned i = 0; training_j >= 0 && i < bl.n; i++) {
			double saved = bl.row[i].per_inference_j - per_inf_chip;
			if (saved > 0)
				printf("  against %s: serving on s2 saves %.4g J per %s and pays "
				       "back the "
				       "training energy after %.4g requests\n",
				       bl.row[i].platform, saved, bl.inference,
				       ceil(training_j / saved));
			else
				printf("  against %s: s2 saves nothing per %s, it never pays "
				       "back\n",
				       bl.row[i].platform, bl.inference);
		}
	}
out:
	report_release(&r);
	return ec;
}
