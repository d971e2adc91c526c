/*
 * s2ctl plot (docs/cli/plot.md): pictures of a run as SVG files, drawn with svg.c: a spike
 * raster and population rates from a results file of `s2ctl run`, power per board and a
 * per-chip heatmap of activity or modelled energy from an energy record of `s2ctl run
 * --energy` (computed by libs2, s2/energy_report.h). Every file is written
 * atomically: nothing is left behind when the input is bad.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "s2/energy_report.h"
#include "s2/results.h"
#include "s2/error.h"
#include "s2/machine.h"
#include "svg.h"

#define MAX_SELECT 64
#define DEFAULT_MAX_POINTS 20000

struct popts {
	const char *out, *from, *to, *max_points, *bin, *what;
	const char *pops[MAX_SELECT];
	unsigned n_pops;
	bool too_many_pops;
	bool allow_partial;
};

static int plot_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct popts *o = ctx;
	switch (id) {
	case 'o':
		o->out = arg;
		return 0;
	case 256:
		if (o->n_pops == MAX_SELECT)
			o->too_many_pops = true;
		else
			o->pops[o->n_pops++] = arg;
		return 0;
	case 257:
		o->from = arg;
		return 0;
	case 258:
		o->to = arg;
		return 0;
	case 259:
		o->max_points = arg;
		return 0;
	case 260:
		o->bin = arg;
		return 0;
	case 261:
		o->what = arg;
		return 0;
	case 262:
		o->allow_partial = true;
		return 0;
	}
	return -1;
}

static int parse_ms(const struct cli *c, const char *opt, const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0) || !isfinite(v))
		return cli_error(c, EXIT_USAGE, "%s: '%s' is not a time in ms (>= 0)", opt, arg);
	*out = v;
	return 0;
}

/* What raster and rates share: the results, the chosen populations and the time range. */
struct spikes_view {
	struct s2_results *r;
	const char *path;
	bool sel[4096]; /* by population index; populations past 4096 are never shown */
	unsigned n_sel;
	double from, to; /* ms, inclusive */
};

static bool in_range(const struct spikes_view *v, const struct s2_results_spike *s)
{
	double t = (s->step + 1.0) * v->r->dt_ms;
	return t >= v->from - 1e-9 && t <= v->to + 1e-9;
}

/* Read the results and apply --population, --from, --to; 0 or an exit code (printed). */
static int view_open(const struct cli *c, const struct popts *o, const char *path,
                     struct spikes_view *v)
{
	char err[512];
	memset(v, 0, sizeof *v);
	v->path = path;
	int rc;
	if (!(v->r = s2_results_read(path, o->allow_partial ? S2_RESULTS_ALLOW_PARTIAL : 0, &rc,
	                             err, sizeof err)))
		return cli_error(c, rc == S2_E_STATE ? EXIT_PARTIAL : EXIT_INPUT, "%s", err);
	if (!v->r->complete && !c->quiet)
		fprintf(stderr, "s2ctl plot: %s: partial run, plotted as far as it went\n", path);
	if (!v->r->n_pops)
		return cli_error(c, EXIT_INPUT, "%s: no populations recorded", path);
	v->to = v->r->steps * v->r->dt_ms;
	if ((o->from && parse_ms(c, "--from", o->from, &v->from)) ||
	    (o->to && parse_ms(c, "--to", o->to, &v->to)))
		return EXIT_USAGE;
	if (!(v->to > v->from))
		return cli_error(c, EXIT_USAGE, "--from %g must be before --to %g", v->from, v->to);
	for (unsigned i = 0; i < o->n_pops; i++) {
		unsigned k = 0;
		while (k < v->r->n_pops && strcmp(v->r->pops[k].label, o->pops[i]))
			k++;
		if (k == v->r->n_pops || k >= 4096) {
			char names[512] = "";
			for (unsigned j = 0; j < v->r->n_pops && strlen(names) < 400; j++)
				snprintf(names + strlen(names), sizeof names - strlen(names),
				         "%s%s", j ? ", " : "", v->r->pops[j].label);
			return cli_error(c, EXIT_USAGE, "--population %s: not in %s (it has: %s)",
			                 o->pops[i], path, names);
		}
		v->sel[k] = true;
	}
	for (unsigned k = 0; k < v->r->n_pops && k < 4096; k++) {
		if (!o->n_pops)
			v->sel[k] = true;
		v->n_sel += v->sel[k];
	}
	return 0;
}

/* Thinning for --max-points: the smallest neuron stride k (neurons with neuron % k == 0 are
 * shown, all their spikes) whose spikes in range number at most max (0: no limit). Counts per
 * neuron make each try O(neurons / k). */
static unsigned raster_stride(const struct spikes_view *v, uint64_t max, uint64_t *total,
                              uint64_t *shown)
{
	uint64_t **cnt = calloc(v->r->n_pops, sizeof *cnt);
	*total = 0;
	for (unsigned p = 0; p < v->r->n_pops; p++) {
		const struct s2_results_pop *q = &v->r->pops[p];
		if (!v->sel[p] || !cnt || !(cnt[p] = calloc(q->size + 1, sizeof **cnt)))
			continue;
		for (uint64_t i = 0; i < q->n_spikes; i++)
			if (q->spikes[i].neuron < q->size && in_range(v, &q->spikes[i])) {
				cnt[p][q->spikes[i].neuron]++;
				(*total)++;
			}
	}
	unsigned k = 1;
	for (;;) {
		uint64_t n = 0;
		for (unsigned p = 0; cnt && p < v->r->n_pops; p++)
			for (uint32_t i = 0; cnt[p] && i < v->r->pops[p].size; i += k)
				n += cnt[p][i];
		*shown = n;
		if (!max || n <= max || k >= 1u << 30)
			break;
		/* jump close to the answer, then step */
		uint64_t guess = (uint64_t)k * n / max;
		k = guess > k ? (unsigned)(guess < (1u << 30) ? guess : (1u << 30)) : k + 1;
	}
	for (unsigned p = 0; cnt && p < v->r->n_pops; p++)
		free(cnt[p]);
	free(cnt);
	return k;
}

static int plot_raster(const struct cli *c, const struct popts *o, const char *path)
{
	struct spikes_view v;
	int ec = view_open(c, o, path, &v);
	if (ec)
		goto free_results;
	unsigned long maxp = DEFAULT_MAX_POINTS;
	if (o->max_points && cli_uint(c, "--max-points", o->max_points, 1ul << 40, &maxp) < 0) {
		ec = EXIT_USAGE;
		goto free_results;
	}
	uint64_t total, shown;
	unsigned stride = raster_stride(&v, maxp, &total, &shown);

	enum { W = 900, L = 80, R = 150, T = 56, B = 56, GAP = 10 };
	double avail = 470 - GAP * (v.n_sel - 1.0);
	if (avail < 40.0 * v.n_sel)
		avail = 40.0 * v.n_sel;
	uint64_t neurons = 0;
	for (unsigned p = 0; p < v.r->n_pops; p++)
		if (v.sel[p])
			neurons += v.r->pops[p].size;
	/* panel heights follow population sizes, none thinner than a tenth of the whole */
	double wsum = 0;
	for (unsigned p = 0; p < v.r->n_pops; p++)
		if (v.sel[p])
			wsum += fmax(neurons ? (double)v.r->pops[p].size / neurons : 1, 0.1);
	int H = (int)(T + avail + GAP * (v.n_sel - 1.0) + B);
	char err[512];
	struct svg s;
	if (svg_open(&s, o->out, W, H, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "%s", err);
		goto free_results;
	}
	svg_text(&s, L, 22, "start", "font-size=\"15\"", "Spike raster of %s (%g to %g ms)", path,
	         v.from, v.to);
	if (stride > 1)
		svg_text(&s, L, 40, "start", "class=\"thinned\" fill=\"#a00\"",
		         "thinned to every %u%s neuron: %llu of %llu spikes shown (--max-points "
		         "%lu)",
		         stride,
		         stride == 2   ? "nd"
		         : stride == 3 ? "rd"
		                       : "th",
		         (unsigned long long)shown, (unsigned long long)total, maxp);
	else
		svg_text(&s, L, 40, "start", NULL, "%llu spikes, every spike shown",
		         (unsigned long long)total);
	fprintf(s.f, "<g class=\"raster\" data-stride=\"%u\" data-spikes=\"%llu\">\n", stride,
	        (unsigned long long)shown);
	double top = T, xstep = svg_nice_step(v.to - v.from, 8);
	unsigned drawn = 0;
	for (unsigned p = 0; p < v.r->n_pops; p++) {
		if (!v.sel[p])
			continue;
		const struct s2_results_pop *q = &v.r->pops[p];
		double h = avail * fmax(neurons ? (double)q->size / neurons : 1, 0.1) / wsum;
		struct svg_axes ax = {L, top, W - L - R, h, v.from, v.to, 0, q->size ? q->size : 1};
		bool last = ++drawn == v.n_sel;
		svg_draw_axes(&s, &ax, last ? xstep : 0, svg_nice_step(ax.ymax, h >= 120 ? 4 : 2),
		              false, last ? "time (ms)" : NULL, NULL);
		if (!last) /* x ticks without labels, to line the panels up */
			for (double t = ceil(v.from / xstep - 1e-9) * xstep; t <= v.to + 1e-9;
			     t += xstep)
				fprintf(s.f,
				        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				        "stroke=\"black\"/>\n",
				        svg_x(&ax, t), top + h, svg_x(&ax, t), top + h + 4);
		uint64_t n = 0;
		for (uint64_t i = 0; i < q->n_spikes; i++)
			n += q->spikes[i].neuron < q->size && q->spikes[i].neuron % stride == 0 &&
			     in_range(&v, &q->spikes[i]);
		fprintf(s.f, "<path class=\"spikes\" data-population=\"");
		svg_escape(s.f, q->label);
		fprintf(s.f,
		        "\" data-spikes=\"%llu\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
		        "d=\"",
		        (unsigned long long)n, svg_colour(p));
		for (uint64_t i = 0; i < q->n_spikes; i++) {
			const struct s2_results_spike *sp = &q->spikes[i];
			if (sp->neuron >= q->size || sp->neuron % stride || !in_range(&v, sp))
				continue;
			/* one mark per spike: a 1 px dash centred on its time */
			fprintf(s.f, "M%.1f %.1fh1",
			        svg_x(&ax, (sp->step + 1.0) * v.r->dt_ms) - 0.5,
			        svg_y(&ax, sp->neuron + 0.5));
		}
		fputs("\"/>\n", s.f);
		char fill[48];
		snprintf(fill, sizeof fill, "fill=\"%s\" font-weight=\"bold\"", svg_colour(p));
		svg_text(&s, W - R + 12, top + h / 2, "start", fill, "%s", q->label);
		svg_text(&s, W - R + 12, top + h / 2 + 15, "start", "font-size=\"11\"",
		         "%u neurons", q->size);
		top += h + GAP;
	}
	fputs("</g>\n", s.f);
	char tr[96];
	snprintf(tr, sizeof tr, "transform=\"rotate(-90 %d %.1f)\"", L - 50, T + avail / 2);
	svg_text(&s, L - 50, T + avail / 2, "middle", tr, "neuron");
	if (svg_close(&s, err, sizeof err) < 0)
		ec = cli_error(c, EXIT_FAIL, "%s", err);
	else if (!c->quiet)
		fprintf(stderr, "s2ctl plot: %s: %llu spikes of %u populations\n", o->out,
		        (unsigned long long)shown, v.n_sel);
free_results:
	s2_results_free(v.r);
	return ec;
}

static int plot_rates(const struct cli *c, const struct popts *o, const char *path)
{
	struct spikes_view v;
	double *cnt = NULL;
	int ec = view_open(c, o, path, &v);
	if (ec)
		goto free_results;
	double bin = 10;
	if (o->bin && parse_ms(c, "--bin", o->bin, &bin)) {
		ec = EXIT_USAGE;
		goto free_results;
	}
	if (!(bin > 0)) {
		ec = cli_error(c, EXIT_USAGE, "--bin: must be more than 0 ms");
		goto free_results;
	}
	if (bin < v.r->dt_ms)
		bin = v.r->dt_ms; /* a bin shorter than a step holds whole steps or nothing */
	size_t nb = (size_t)ceil((v.to - v.from) / bin - 1e-9);
	if (nb < 1)
		nb = 1;
	if (nb > 100000) {
		ec = cli_error(c, EXIT_USAGE, "--bin %g: more than 100000 bins over %g ms", bin,
		               v.to - v.from);
		goto free_results;
	}
	if (!(cnt = calloc(nb * v.r->n_pops, sizeof *cnt))) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto free_results;
	}
	double ymax = 0;
	for (unsigned p = 0; p < v.r->n_pops; p++) {
		const struct s2_results_pop *q = &v.r->pops[p];
		if (!v.sel[p])
			continue;
		for (uint64_t i = 0; i < q->n_spikes; i++) {
			if (!in_range(&v, &q->spikes[i]))
				continue;
			double t = (q->spikes[i].step + 1.0) * v.r->dt_ms;
			size_t b = (size_t)fmax(0, floor((t - v.from) / bin));
			cnt[p * nb + (b < nb ? b : nb - 1)]++;
		}
		for (size_t b = 0; b < nb; b++) {
			double len = fmin(bin, v.to - v.from - b * bin) * 1e-3;
			cnt[p * nb + b] =
			        q->size && len > 0 ? cnt[p * nb + b] / (q->size * len) : 0;
			ymax = fmax(ymax, cnt[p * nb + b]);
		}
	}
	enum { W = 900, H = 460, L = 80, R = 150, T = 56, B = 56 };
	char err[512];
	struct svg s;
	if (svg_open(&s, o->out, W, H, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "%s", err);
		goto free_results;
	}
	svg_text(&s, L, 22, "start", "font-size=\"15\"", "Population firing rates of %s", path);
	svg_text(&s, L, 40, "start", NULL, "mean over the population in %g ms bins", bin);
	ymax *= 1.05;
	double ystep = svg_round_up(&ymax, 5);
	struct svg_axes ax = {L, T, W - L - R, H - T - B, v.from, v.to, 0, ymax};
	svg_draw_axes(&s, &ax, svg_nice_step(v.to - v.from, 8), ystep, true, "time (ms)",
	              "rate (Hz)");
	unsigned row = 0;
	for (unsigned p = 0; p < v.r->n_pops; p++) {
		if (!v.sel[p])
			continue;
		fprintf(s.f, "<g class=\"population\" data-population=\"");
		svg_escape(s.f, v.r->pops[p].label);
		fputs("\">\n", s.f);
		svg_polyline_begin(&s, svg_colour(p), "rate");
		for (size_t b = 0; b < nb; b++) {
			double t0 = v.from + b * bin, t1 = fmin(v.to, t0 + bin);
			svg_polyline_point(&s, svg_x(&ax, (t0 + t1) / 2),
			                   svg_y(&ax, cnt[p * nb + b]));
		}
		svg_polyline_end(&s);
		fputs("</g>\n", s.f);
		if (row < 24)
			svg_legend(&s, W - R + 14, T + 16.0 * (row + 1), svg_colour(p),
			           v.r->pops[p].label);
		row++;
	}
	if (row > 24)
		svg_text(&s, W - R + 14, T + 16.0 * 25, "start", NULL, "(%u more)", row - 24);
	if (svg_close(&s, err, sizeof err) < 0)
		ec = cli_error(c, EXIT_FAIL, "%s", err);
free_results:
	free(cnt);
	s2_results_free(v.r);
	return ec;
}

/* The energy report of a record (libs2) with the default model; a partial run's is refused.
 * NULL after an error naming the file and the reason, with *exit_code set. */
static struct s2_energy_report *open_report(const struct cli *c, const char *path, int *exit_code)
{
	struct s2_energy_report_opts ro = {.allow_partial = true};
	struct s2_energy_report *r;
	char err[1024];
	int rc = s2_energy_report_open(path, &ro, &r, err, sizeof err);
	if (rc < 0) {
		*exit_code = cli_error(c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT, "%s", err);
		return NULL;
	}
	if (s2_energy_report_partial(r)) {
		*exit_code =
		        cli_error(c, EXIT_PARTIAL,
		                  "%s: record of a partial run (%s): not drawn as if it were "
		                  "complete (s2ctl energy report --allow-partial shows it, marked)",
		                  path, s2_energy_report_partial(r));
		s2_energy_report_free(r);
		return NULL;
	}
	return r;
}

int cli_energy_power_svg(const struct s2_energy_report *r, const char *path, char *err,
                         size_t errlen)
{
	enum { W = 800, H = 420, L = 80, R = 150, T = 40, B = 56, SHOWN = 10, CAP = 4096 };
	struct s2_energy_power *pw[SHOWN] = {0};
	size_t n[SHOWN] = {0};
	struct s2_energy_figures fig;
	s2_energy_report_figures(r, &fig);
	const unsigned *boards;
	unsigned nb = s2_energy_report_boards(r, &boards);
	double ymax = 0, xmax = (double)fig.steps * fig.dt_ms;
	unsigned shown = nb < SHOWN ? nb : SHOWN;
	int rc = 0;
	for (unsigned i = 0; i < shown; i++) {
		pw[i] = calloc(CAP, sizeof *pw[i]);
		if (!pw[i]) {
			snprintf(err, errlen, "%.400s: out of memory", path);
			rc = S2_E_NOMEM;
			goto free_series;
		}
		n[i] = s2_energy_report_power(r, (int)boards[i], pw[i], CAP);
		for (size_t k = 0; k < n[i]; k++)
			ymax = fmax(ymax, pw[i][k].watts);
	}
	ymax *= 1.05;
	double ystep = svg_round_up(&ymax, 5);
	struct svg s;
	if ((rc = svg_open(&s, path, W, H, err, errlen)) < 0)
		goto free_series;
	svg_text(&s, L, 22, "start", "font-size=\"15\"", "Power per board during the run (%s, %s)",
	         fig.measured ? "measured" : "modelled", fig.model_version);
	struct svg_axes ax = {L, T, W - L - R, H - T - B, 0, xmax > 0 ? xmax : 1, 0, ymax};
	svg_draw_axes(&s, &ax, svg_nice_step(ax.xmax, 6), ystep, true, "biological time (ms)",
	              "power (W)");
	for (unsigned i = 0; i < shown; i++) {
		char cls[32], label[32];
		snprintf(cls, sizeof cls, "board board-%u", boards[i]);
		svg_polyline_begin(&s, svg_colour(i), cls);
		for (size_t k = 0; k < n[i]; k++) {
			double y = svg_y(&ax, pw[i][k].watts);
			svg_polyline_point(&s, svg_x(&ax, pw[i][k].step_from * fig.dt_ms), y);
			svg_polyline_point(&s, svg_x(&ax, pw[i][k].step_to * fig.dt_ms), y);
		}
		svg_polyline_end(&s);
		snprintf(label, sizeof label, "board %u", boards[i]);
		svg_legend(&s, W - R + 14, T + 16.0 * (i + 1), svg_colour(i), label);
	}
	if (nb > shown)
		svg_text(&s, W - R + 14, T + 16.0 * (shown + 1), "start", NULL, "(%u more boards)",
		         nb - shown);
	rc = svg_close(&s, err, errlen);
free_series:
	for (unsigned i = 0; i < shown; i++)
		free(pw[i]);
	return rc;
}

static int plot_power(const struct cli *c, const struct popts *o, const char *path)
{
	int ec = 0;
	struct s2_energy_report *r = open_report(c, path, &ec);
	if (!r)
		return ec;
	char err[512];
	if (cli_energy_power_svg(r, o->out, err, sizeof err) < 0)
		ec = cli_error(c, EXIT_FAIL, "%s", err);
	s2_energy_report_free(r);
	return ec;
}

/* A viridis-like colour scale, f in 0..1. */
static void scale_colour(double f, char *out, size_t n)
{
	static const unsigned char stop[5][3] = {
	        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	double x = f * 4;
	unsigned i = x >= 4 ? 3 : (unsigned)x;
	double u = x - i;
	unsigned char rgb[3];
	for (unsigned k = 0; k < 3; k++)
		rgb[k] = (unsigned char)lround(stop[i][k] + u * (stop[i + 1][k] - stop[i][k]));
	snprintf(out, n, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static int plot_heatmap(const struct cli *c, const struct popts *o, const char *path)
{
	bool energy = false;
	if (o->what) {
		if (!strcmp(o->what, "energy"))
			energy = true;
		else if (strcmp(o->what, "synaptic_events"))
			return cli_error(c, EXIT_USAGE,
			                 "--what %s: synaptic_events or energy, not that", o->what);
	}
	int ec = 0;
	struct s2_energy_chip *chips = NULL;
	double *val = NULL;
	struct s2_machine *m = NULL;
	struct s2_energy_report *r = open_report(c, path, &ec);
	if (!r)
		return ec;
	if (!(m = cli_load_machine(c))) {
		ec = c->machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
		goto free_report;
	}
	const unsigned *boards;
	unsigned nb = s2_energy_report_boards(r, &boards);
	unsigned cpb = s2_machine_chips_per_board(m);
	for (unsigned i = 0; i < nb; i++)
		if (boards[i] >= s2_machine_boards(m)) {
			ec = cli_error(c, EXIT_INPUT,
			               "%s: board %u is not on the machine %s (%u boards): is it "
			               "the machine of the run?",
			               path, boards[i],
			               c->machine_path ? c->machine_path : getenv("S2_MACHINE"),
			               s2_machine_boards(m));
			goto free_report;
		}
	size_t nc = s2_energy_report_chips(r, &chips);
	if (!(val = calloc((size_t)nb * cpb, sizeof *val))) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto free_report;
	}
	/* NaN: no samples for the chip */
	for (size_t i = 0; i < (size_t)nb * cpb; i++)
		val[i] = NAN;
	double vmax = 0;
	for (size_t k = 0; k < nc; k++) {
		unsigned i = 0;
		while (i < nb && boards[i] != chips[k].board)
			i++;
		if (i == nb || chips[k].chip >= cpb) {
			ec = cli_error(c, EXIT_INPUT, "%s: board %u chip %u: not a chip of the run",
			               path, chips[k].board, chips[k].chip);
			goto free_report;
		}
		double x = energy ? chips[k].run_dynamic_j : (double)chips[k].synaptic_events;
		val[(size_t)i * cpb + chips[k].chip] = x;
		vmax = fmax(vmax, x);
	}
	/* each board's chips at their place on the chip grid, relative to the board's corner */
	unsigned bw = 0, bh = 0;
	unsigned *minx = calloc(nb, sizeof *minx), *miny = calloc(nb, sizeof *miny);
	if (!minx || !miny) {
		free(minx);
		free(miny);
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto free_report;
	}
	for (unsigned i = 0; i < nb; i++) {
		minx[i] = miny[i] = ~0u;
		unsigned maxx = 0, maxy = 0;
		for (unsigned ch = 0; ch < cpb; ch++) {
			unsigned x, y;
			s2_machine_chip_xy(m, boards[i], ch, &x, &y);
			minx[i] = x < minx[i] ? x : minx[i];
			miny[i] = y < miny[i] ? y : miny[i];
			maxx = x > maxx ? x : maxx;
			maxy = y > maxy ? y : maxy;
		}
		bw = maxx - minx[i] + 1 > bw ? maxx - minx[i] + 1 : bw;
		bh = maxy - miny[i] + 1 > bh ? maxy - miny[i] + 1 : bh;
	}
	unsigned per_row = nb < 4 ? nb : 4;
	double cell = nb <= 8 ? 26 : nb <= 24 ? 14 : 6;
	unsigned rows = (nb + per_row - 1) / per_row;
	double pw = bw * cell, ph = bh * cell, gap = 24;
	enum { L = 30, T = 66, LEG = 170 };
	double boards_w = per_row * pw + (per_row - 1) * gap;
	int W = (int)(L + boards_w + LEG);
	int H = (int)(T + rows * (ph + gap + 14) + 30);
	if (W < L + 400 + LEG)
		W = L + 400 + LEG;
	if (H < 360)
		H = 360;
	char err[512];
	struct svg s;
	if (svg_open(&s, o->out, W, H, err, sizeof err) < 0) {
		free(minx);
		free(miny);
		ec = cli_error(c, EXIT_FAIL, "%s", err);
		goto free_report;
	}
	const char *what =
	        energy ? "modelled dynamic energy of the run (J)" : "synaptic events of the run";
	svg_text(&s, L, 22, "start", "font-size=\"15\"", "Per chip: %s", what);
	svg_text(&s, L, 40, "start", NULL, "%s; chip grid of each board, chip (0,0) bottom left",
	         path);
	double vtop = vmax > 0 ? vmax : 1;
	for (unsigned i = 0; i < nb; i++) {
		double ox = L + (i % per_row) * (pw + gap),
		       oy = T + (i / per_row) * (ph + gap + 14);
		svg_text(&s, ox, oy - 6, "start", "font-weight=\"bold\"", "board %u", boards[i]);
		fprintf(s.f, "<g class=\"board\" data-board=\"%u\">\n", boards[i]);
		for (unsigned ch = 0; ch < cpb; ch++) {
			unsigned x, y;
			s2_machine_chip_xy(m, boards[i], ch, &x, &y);
			double cx = ox + (x - minx[i]) * cell,
			       cy = oy + ph - (y - miny[i] + 1) * cell;
			double v = val[(size_t)i * cpb + ch];
			bool dead = s2_machine_chip_dead(m, boards[i], ch);
			char col[16];
			if (dead)
				snprintf(col, sizeof col, "#555555");
			else if (isnan(v))
				snprintf(col, sizeof col, "#dddddd");
			else
				scale_colour(v / vtop, col, sizeof col);
			fprintf(s.f,
			        "<rect class=\"cell\" data-chip=\"%u\" x=\"%.1f\" y=\"%.1f\" "
			        "width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"white\" "
			        "stroke-width=\"%.1f\"><title>board %u chip %u (%u,%u): ",
			        ch, cx, cy, cell, cell, col, cell > 10 ? 1.0 : 0.3, boards[i], ch,
			        x, y);
			if (dead)
				fputs("dead", s.f);
			else if (isnan(v))
				fputs("no samples", s.f);
			else
				fprintf(s.f, "%.6g", v);
			fputs("</title></rect>\n", s.f);
			if (cell >= 20) { /* the chip's index, light on dark cells */
				char fill[96];
				snprintf(fill, sizeof fill,
				         "font-size=\"8\" fill=\"%s\" pointer-events=\"none\"",
				         !dead && !isnan(v) && v / vtop < 0.6 ? "white" : "#333");
				svg_text(&s, cx + cell / 2, cy + cell / 2 + 3, "middle", fill, "%u",
				         ch);
			}
		}
		fputs("</g>\n", s.f);
	}
	free(minx);
	free(miny);
	/* the colour scale: a vertical bar, 0 at the bottom, round ticks */
	double lx = L + fmax(boards_w, 400) + 40, ly = T, lh = 200;
	fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", s.f);
	for (int k = 0; k <= 8; k++) {
		char col[16];
		scale_colour(k / 8.0, col, sizeof col);
		fprintf(s.f, "<stop offset=\"%g\" stop-color=\"%s\"/>", k / 8.0, col);
	}
	fputs("</linearGradient></defs>\n", s.f);
	fprintf(s.f,
	        "<rect class=\"scale\" x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"%.1f\" "
	        "fill=\"url(#scale)\" stroke=\"black\" stroke-width=\"0.5\"/>\n",
	        lx, ly, lh);
	struct svg_axes sa = {lx + 16, ly, 0, lh, 0, 1, 0, vtop};
	double step = svg_nice_step(vtop, 5);
	for (double t = 0; t <= vtop * (1 + 1e-9); t += step) {
		double y = svg_y(&sa, t);
		fprintf(s.f,
		        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		        "stroke=\"black\"/>\n",
		        lx + 16, y, lx + 20, y);
		svg_text(&s, lx + 23, y + 4, "start", NULL, "%.7g", t);
	}
	svg_text(&s, lx, ly + lh + 20, "start", NULL, "%s", energy ? "joules" : "synaptic events");
	fprintf(s.f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#dddddd\"/>\n",
	        lx, ly + lh + 32);
	svg_text(&s, lx + 18, ly + lh + 42, "start", NULL, "no samples");
	fprintf(s.f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"#555555\"/>\n",
	        lx, ly + lh + 50);
	svg_text(&s, lx + 18, ly + lh + 60, "start", NULL, "dead chip");
	if (svg_close(&s, err, sizeof err) < 0)
		ec = cli_error(c, EXIT_FAIL, "%s", err);
free_report:
	free(val);
	free(chips);
	s2_machine_free(m);
	s2_energy_report_free(r);
	return ec;
}

int verb_plot(int argc, char **argv)
{
	static const struct option extra[] = {{"population", required_argument, 0, 256},
	                                      {"from", required_argument, 0, 257},
	                                      {"to", required_argument, 0, 258},
	                                      {"max-points", required_argument, 0, 259},
	                                      {"bin", required_argument, 0, 260},
	                                      {"what", required_argument, 0, 261},
	                                      {"allow-partial", no_argument, 0, 262},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct popts o = {0};
	int pos = cli_parse(&c, "plot", argc, argv, extra, plot_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 2 != argc)
		return cli_error(&c, EXIT_USAGE,
		                 "usage: s2ctl plot raster|rates|power|heatmap FILE -o OUT.svg "
		                 "(see --help)");
	if (!o.out)
		return cli_error(&c, EXIT_USAGE, "-o FILE.svg: where to write the picture");
	if (o.too_many_pops)
		return cli_error(&c, EXIT_USAGE, "--population: at most %d", MAX_SELECT);
	const char *kind = argv[pos], *in = argv[pos + 1];
	bool spikes = !strcmp(kind, "raster") || !strcmp(kind, "rates");
	if (!spikes && (o.n_pops || o.from || o.to))
		return cli_error(&c, EXIT_USAGE,
		                 "--population, --from and --to are for raster "
		                 "and rates");
	if (strcmp(kind, "raster") && o.max_points)
		return cli_error(&c, EXIT_USAGE, "--max-points is for raster");
	if (strcmp(kind, "rates") && o.bin)
		return cli_error(&c, EXIT_USAGE, "--bin is for rates");
	if (strcmp(kind, "heatmap") && o.what)
		return cli_error(&c, EXIT_USAGE, "--what is for heatmap");
	int ec;
	if (!strcmp(kind, "raster"))
		ec = plot_raster(&c, &o, in);
	else if (!strcmp(kind, "rates"))
		ec = plot_rates(&c, &o, in);
	else if (!strcmp(kind, "power"))
		ec = plot_power(&c, &o, in);
	else if (!strcmp(kind, "heatmap"))
		ec = plot_heatmap(&c, &o, in);
	else
		return cli_error(&c, EXIT_USAGE, "'%s': raster, rates, power or heatmap", kind);
	if (!ec && c.json) { /* docs/schemas/s2ctl-plot.schema.json */
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "plot", kind);
		json_str(&j, "input", in);
		json_str(&j, "file", o.out);
		json_end_obj(&j);
		json_finish(&j);
	}
	return ec;
}
