/*
 * s2ctl energy report and s2ctl energy bench (docs/energy.md, docs/cli/energy.md): the
 * command line of libs2's energy report (s2/energy_report.h, host/lib/energy/report.c, which
 * reads the record of `s2ctl run --energy FILE` and renders it as text, JSON, OpenMetrics or
 * CSV), the SVG plot of power per board, and energy bench, N runs of one image and the spread
 * of their figures. energy jobs is in verb_job.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "s2/energy.h"
#include "s2/energy_report.h"
#include "s2/error.h"

#define MAX_METRICS S2_ENERGY_REPORT_METRICS

struct eopts {
	const char *model, *pue, *grid, *grid_dataset, *grid_zone, *grid_year, *embodied, *lifetime,
	        *samples, *csv, *svg, *baseline, *training_j, *training_csv, *requests,
	        *grid_hourly, *grid_scope, *market, *market_source, *wue, *wue_source, *water,
	        *water_source, *clock_tol, *compile_cpu, *results, *expect_rates, *trials, *out,
	        *energy_every;
	const char *metric[MAX_METRICS];
	unsigned n_metric;
	bool openmetrics;
	bool allow_partial;
};

static int energy_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct eopts *o = ctx;
	const char **slot[] = {
	        &o->model,       &o->pue,          &o->grid,          &o->grid_dataset,
	        &o->grid_zone,   &o->grid_year,    &o->embodied,      &o->lifetime,
	        &o->samples,     &o->csv,          &o->svg,           &o->baseline,
	        &o->training_j,  &o->training_csv, &o->requests,      &o->grid_hourly,
	        &o->grid_scope,  &o->market,       &o->market_source, &o->wue,
	        &o->wue_source,  &o->water,        &o->water_source,  &o->clock_tol,
	        &o->compile_cpu, &o->results,      &o->expect_rates,  &o->trials,
	        &o->out,         &o->energy_every};
	if (id >= 256 && id < 256 + (int)(sizeof slot / sizeof slot[0])) {
		*slot[id - 256] = arg;
		return 0;
	}
	if (id == 'o') {
		o->out = arg;
		return 0;
	}
	if (id == 300) {
		o->openmetrics = true;
		return 0;
	}
	if (id == 302) {
		o->allow_partial = true;
		return 0;
	}
	if (id == 301) {
		if (o->n_metric == MAX_METRICS)
			return -1;
		o->metric[o->n_metric++] = arg;
		return 0;
	}
	return -1;
}

static double parse_pos(const struct cli *c, const char *opt, const char *arg, double lo, double hi,
                        bool *ok)
{
	char *end;
	double v = strtod(arg, &end);
	if (end == arg || *end || !(v >= lo && v <= hi)) {
		cli_error(c, EXIT_USAGE, "%s: '%s' is not a number in %g..%g", opt, arg, lo, hi);
		*ok = false;
	}
	return v;
}

/* Read a --model file into m; 0 or an exit code. */
static int read_model(const struct cli *c, const char *path, struct s2_energy_model *m)
{
	char err[512];
	int rc = s2_energy_model_load(m, path, err, sizeof err);
	if (rc < 0)
		return cli_error(c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT, "--model %s", err);
	return 0;
}

/* Exit code of an s2_energy_report_open error (docs/cli/energy.md). */
static int report_exit(int rc)
{
	switch (rc) {
	case S2_E_INVAL:
		return EXIT_USAGE;
	case S2_E_STATE:
		return EXIT_PARTIAL;
	case S2_E_IO:
	case S2_E_FORMAT:
		return EXIT_INPUT;
	default:
		return EXIT_FAIL;
	}
}

/* --metric NAME=VALUE: a task metric the user measured (accuracy, loss, ...). */
static int parse_metric(const struct cli *c, const char *arg, struct s2_energy_metric *k,
                        char name[48])
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;
	bool name_ok = n > 0 && n < 48;
	for (size_t i = 0; name_ok && i < n; i++)
		name_ok = (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
		          (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_' || arg[i] == '-' ||
		          arg[i] == '.';
	char *end = NULL;
	double v = eq ? strtod(eq + 1, &end) : NAN;
	if (!name_ok || !end || end == eq + 1 || *end || !isfinite(v))
		return cli_error(c, EXIT_USAGE,
		                 "--metric: '%s' is not NAME=VALUE (a name of letters, digits, _-. "
		                 "and a number)",
		                 arg);
	memcpy(name, arg, n);
	name[n] = 0;
	k->name = name;
	k->value = v;
	return 0;
}

/* The report's options from the command line: every value parsed and every usage error
 * reported here, in the order s2ctl always reported them; 0 or EXIT_USAGE. */
struct rep_args {
	struct s2_energy_report_opts ro;
	struct s2_energy_metric metric[MAX_METRICS];
	char metric_name[MAX_METRICS][48];
};

static int report_inputs(const struct cli *c, const struct eopts *o, struct rep_args *a)
{
	struct s2_energy_report_opts *ro = &a->ro;
	memset(a, 0, sizeof *a);
	bool ok = true;
	if (o->pue) {
		ro->pue = parse_pos(c, "--pue", o->pue, 1.0, 5.0, &ok);
		ro->have_pue = true;
	}
	if (o->grid) {
		ro->grid_g_per_kwh = parse_pos(c, "--grid-intensity", o->grid, 0, 5000, &ok);
		ro->have_grid = true;
	}
	if (ok && o->grid && (!o->grid_dataset || !o->grid_zone || !o->grid_year))
		return cli_error(c, EXIT_USAGE,
		                 "--grid-intensity needs --grid-dataset, --grid-zone and "
		                 "--grid-year: a CO2e figure names its source");
	ro->grid_dataset = o->grid_dataset;
	ro->grid_zone = o->grid_zone;
	ro->grid_year = o->grid_year;
	ro->grid_scope = o->grid_scope;
	if (o->market) {
		ro->market_g_per_kwh = parse_pos(c, "--market-intensity", o->market, 0, 5000, &ok);
		ro->have_market = true;
		if (ok && !o->market_source)
			return cli_error(
			        c, EXIT_USAGE,
			        "--market-intensity needs --market-source (the contract or "
			        "certificate it comes from)");
	}
	ro->market_source = o->market_source;
	if (o->wue) {
		ro->wue_l_per_kwh = parse_pos(c, "--wue", o->wue, 0, 100, &ok);
		ro->have_wue = true;
		if (ok && !o->wue_source)
			return cli_error(c, EXIT_USAGE,
			                 "--wue needs --wue-source: where it comes from");
	}
	ro->wue_source = o->wue_source;
	if (o->water) {
		ro->water_l_per_kwh = parse_pos(c, "--water-intensity", o->water, 0, 1000, &ok);
		ro->have_water = true;
		if (ok && !o->water_source)
			return cli_error(
			        c, EXIT_USAGE,
			        "--water-intensity needs --water-source: where it comes from");
	}
	ro->water_source = o->water_source;
	if (o->embodied) {
		ro->embodied_kg = parse_pos(c, "--embodied-kg", o->embodied, 0, 1e6, &ok);
		ro->have_embodied = true;
	}
	if (o->lifetime)
		ro->lifetime_years = parse_pos(c, "--lifetime-years", o->lifetime, 0.1, 100, &ok);
	if (o->samples)
		ro->samples = parse_pos(c, "--samples", o->samples, 1, 1e15, &ok);
	if (o->requests)
		ro->requests = parse_pos(c, "--requests", o->requests, 1, 1e18, &ok);
	if (o->training_j) {
		ro->training_j = parse_pos(c, "--training-j", o->training_j, 0, 1e18, &ok);
		ro->have_training_j = true;
	}
	if (o->clock_tol) {
		ro->clock_tolerance_us =
		        parse_pos(c, "--clock-tolerance-us", o->clock_tol, 0, 1e9, &ok);
		ro->have_clock_tolerance = true;
	}
	if (o->compile_cpu) {
		ro->compile_cpu_s = parse_pos(c, "--compile-cpu-s", o->compile_cpu, 0, 1e7, &ok);
		ro->have_compile_cpu = true;
	}
	for (unsigned i = 0; ok && i < o->n_metric; i++)
		if (parse_metric(c, o->metric[i], &a->metric[i], a->metric_name[i]))
			return EXIT_USAGE;
	if (!ok)
		return EXIT_USAGE;
	ro->metrics = a->metric;
	ro->n_metrics = o->n_metric;
	/* An option that qualifies another is an error without it, not ignored. */
	static const char *const orphan[][2] = {{"--results", "--expect-rates"},
	                                        {"--grid-scope", "--grid-intensity"},
	                                        {"--market-source", "--market-intensity"},
	                                        {"--wue-source", "--wue"},
	                                        {"--water-source", "--water-intensity"}};
	const char *given[] = {o->results, o->grid_scope, o->market_source, o->wue_source,
	                       o->water_source};
	const char *base[] = {o->expect_rates, o->grid, o->market, o->wue, o->water};
	for (unsigned i = 0; i < sizeof given / sizeof given[0]; i++)
		if (given[i] && !base[i])
			return cli_error(c, EXIT_USAGE, "%s applies only with %s", orphan[i][0],
			                 orphan[i][1]);
	if ((o->baseline || o->requests || o->training_j || o->training_csv) && !o->samples)
		return cli_error(
		        c, EXIT_USAGE,
		        "--baseline, --requests and the training energy compare energy per "
		        "inference: give --samples N (inferences in the run)");
	if (o->training_j && o->training_csv)
		return cli_error(c, EXIT_USAGE, "give --training-j or --training-csv, not both");
	ro->baseline_path = o->baseline;
	ro->training_csv = o->training_csv;
	ro->grid_hourly_path = o->grid_hourly;
	ro->model_path = o->model;
	ro->allow_partial = o->allow_partial;
	ro->expect_rates_path = o->expect_rates;
	ro->results_path = o->results;
	return 0;
}

static int report(struct cli *c, const struct eopts *o, const char *path)
{
	struct rep_args a;
	int ec = report_inputs(c, o, &a);
	if (ec)
		return ec;
	struct s2_energy_report *r;
	char err[1024];
	int rc = s2_energy_report_open(path, &a.ro, &r, err, sizeof err);
	if (rc < 0)
		return cli_error(c, report_exit(rc), "%s", err);
	if (o->csv && s2_energy_report_csv(r, o->csv, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "--csv: %s", err);
		goto out;
	}
	if (o->svg && cli_energy_power_svg(r, o->svg, err, sizeof err) < 0) {
		ec = cli_error(c, EXIT_FAIL, "--svg: %s", err);
		goto out;
	}
	if (o->openmetrics)
		s2_energy_report_openmetrics(r, stdout);
	else if (c->json)
		s2_energy_report_json(r, stdout);
	else
		s2_energy_report_text(r, stdout);
out:
	s2_energy_report_free(r);
	return ec;
}

/* --- energy bench: N runs of one image, their spread -------------------------------------- */

#define BENCH_SPREAD_PCT 5.0

enum {
	BF_ENERGY,
	BF_RUN,
	BF_RUN_DYN,
	BF_HOST,
	BF_PER_SYN,
	BF_BOOT_S,
	BF_LOAD_S,
	BF_RUN_HOST_S,
	BF_READOUT_S,
	BF_SYN,
	BF_SPIKES,
	BF_COUNT
};
static const char *const bench_names[BF_COUNT] = {"energy_j",
                                                  "run_energy_j",
                                                  "run_dynamic_j",
                                                  "host_energy_j",
                                                  "per_synaptic_event_j",
                                                  "boot_seconds",
                                                  "load_seconds",
                                                  "run_host_seconds",
                                                  "readout_seconds",
                                                  "synaptic_operations",
                                                  "spikes"};

struct stat_row {
	double mean, sd, se, spread_pct;
	bool flagged;
	unsigned n;
};

static void stats(const double *v, const bool *use, unsigned n, struct stat_row *s)
{
	memset(s, 0, sizeof *s);
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		if (use[i]) {
			sum += v[i];
			s->n++;
		}
	if (!s->n)
		return;
	s->mean = sum / s->n;
	double ss = 0;
	for (unsigned i = 0; i < n; i++)
		if (use[i])
			ss += (v[i] - s->mean) * (v[i] - s->mean);
	s->sd = s->n > 1 ? sqrt(ss / (s->n - 1)) : 0;
	s->se = s->n > 1 ? s->sd / sqrt((double)s->n) : 0;
	s->spread_pct = s->mean != 0 ? 100 * s->sd / fabs(s->mean) : 0;
	s->flagged = s->spread_pct > BENCH_SPREAD_PCT;
}

/* Run s2ctl run IMAGE --energy REC -o RES (this program, as a child); its exit status. */
static int run_trial(const struct cli *c, const char *image, const char *rec, const char *res,
                     const char *every)
{
	char *args[16];
	unsigned n = 0;
	args[n++] = "s2ctl";
	args[n++] = "run";
	args[n++] = (char *)image;
	if (c->machine_path) {
		args[n++] = "--machine";
		args[n++] = (char *)c->machine_path;
	}
	args[n++] = "-o";
	args[n++] = (char *)res;
	args[n++] = "--energy";
	args[n++] = (char *)rec;
	args[n++] = "--energy-every";
	args[n++] = (char *)(every ? every : "100");
	args[n++] = "--quiet";
	args[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int bench(struct cli *c, const struct eopts *o, const char *image)
{
	bool ok = true;
	if (!o->trials)
		return cli_error(c, EXIT_USAGE, "energy bench: give --trials N (1..1000)");
	double tn = parse_pos(c, "--trials", o->trials, 1, 1000, &ok);
	if (!ok || tn != floor(tn))
		return ok ? cli_error(c, EXIT_USAGE, "--trials: '%s' is not a whole number 1..1000",
		                      o->trials)
		          : EXIT_USAGE;
	unsigned n = (unsigned)tn;
	if (o->energy_every) {
		double e = parse_pos(c, "--energy-every", o->energy_every, 1, 1e6, &ok);
		if (!ok || e != floor(e))
			return ok ? cli_error(c, EXIT_USAGE,
			                      "--energy-every: '%s' is not a whole number of steps",
			                      o->energy_every)
			          : EXIT_USAGE;
	}
	struct s2_energy_model m;
	s2_energy_model_default(&m);
	int ec;
	if (o->model && (ec = read_model(c, o->model, &m)))
		return ec;
	const char *dir = o->out ? o->out : "energy-bench";
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return cli_error(c, EXIT_FAIL, "--out %s: %s", dir, strerror(errno));
	double(*v)[BF_COUNT] = calloc(n, sizeof *v);
	bool *cold = calloc(n, sizeof *cold), *all = calloc(n, sizeof *all),
	     *warm = calloc(n, sizeof *warm);
	char(*recs)[4096] = calloc(n, sizeof *recs);
	if (!v || !cold || !all || !warm || !recs) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	for (unsigned t = 0; t < n; t++) {
		char res[4200];
		snprintf(recs[t], sizeof recs[t], "%.4000s/trial-%u.energy", dir, t + 1);
		snprintf(res, sizeof res, "%.4000s/trial-%u.s2res", dir, t + 1);
		if (!c->quiet && !c->json)
			fprintf(stderr, "energy bench: trial %u of %u\n", t + 1, n);
		int rc = run_trial(c, image, recs[t], res, o->energy_every);
		if (rc != 0) {
			ec = cli_error(
			        c, EXIT_FAIL,
			        "trial %u: s2ctl run %s exited with %d: no figures (its error "
			        "is above)",
			        t + 1, image, rc);
			goto out;
		}
		struct s2_energy_report_opts ro = {.model = &m, .allow_partial = true};
		struct s2_energy_report *r;
		char err[1024];
		int rrc = s2_energy_report_open(recs[t], &ro, &r, err, sizeof err);
		if (rrc < 0) {
			ec = cli_error(c, report_exit(rrc), "%s", err);
			goto out;
		}
		struct s2_energy_figures f;
		s2_energy_report_figures(r, &f);
		s2_energy_report_free(r);
		cold[t] = f.booted_boards > 0;
		all[t] = true;
		warm[t] = !cold[t];
		double *x = v[t];
		x[BF_ENERGY] = f.energy_j;
		x[BF_RUN] = f.run_j;
		x[BF_RUN_DYN] = f.run_dynamic_j;
		x[BF_HOST] = f.host_j;
		x[BF_PER_SYN] = f.per_synaptic_event_j;
		x[BF_BOOT_S] = f.boot_s;
		x[BF_LOAD_S] = f.load_s;
		x[BF_RUN_HOST_S] = f.run_host_s;
		x[BF_READOUT_S] = f.readout_s;
		x[BF_SYN] = (double)f.synaptic_events;
		x[BF_SPIKES] = (double)f.spikes;
	}
	struct stat_row st_all[BF_COUNT], st_warm[BF_COUNT];
	double col[1000];
	unsigned n_warm = 0;
	for (unsigned t = 0; t < n; t++)
		n_warm += warm[t];
	for (unsigned k = 0; k < BF_COUNT; k++) {
		for (unsigned t = 0; t < n; t++)
			col[t] = v[t][k];
		stats(col, all, n, &st_all[k]);
		stats(col, warm, n, &st_warm[k]);
	}
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "format", "s2-energy-bench-1");
		json_str(&j, "image", image);
		json_str(&j, "model", m.version);
		json_uint(&j, "trials", n);
		json_num(&j, "spread_limit_pct", BENCH_SPREAD_PCT);
		json_str(&j, "spread", "sample standard deviation / |mean|, per cent");
		json_arr(&j, "runs");
		for (unsigned t = 0; t < n; t++) {
			json_obj(&j, NULL);
			json_uint(&j, "trial", t + 1);
			json_str(&j, "record", recs[t]);
			json_str(&j, "start", cold[t] ? "cold" : "warm");
			json_obj(&j, "figures");
			for (unsigned k = 0; k < BF_COUNT; k++)
				json_num(&j, bench_names[k], v[t][k]);
			json_end_obj(&j);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		for (unsigned g = 0; g < 2; g++) {
			const struct stat_row *s = g ? st_warm : st_all;
			if (g && n_warm < 2) {
				json_null(&j, "warm");
				continue;
			}
			json_obj(&j, g ? "warm" : "all");
			json_uint(&j, "trials", g ? n_warm : n);
			for (unsigned k = 0; k < BF_COUNT; k++) {
				json_obj(&j, bench_names[k]);
				json_num(&j, "mean", s[k].mean);
				json_num(&j, "standard_error", s[k].se);
				json_num(&j, "sd", s[k].sd);
				json_num(&j, "spread_pct", s[k].spread_pct);
				json_flag(&j, "flagged", s[k].flagged);
				json_end_obj(&j);
			}
			json_end_obj(&j);
		}
		json_end_obj(&j);
		json_finish(&j);
	} else {
		printf("energy bench of %s: %u trials (%u cold, %u warm), model %s; records in "
		       "%s\n",
		       image, n, n - n_warm, n_warm, m.version, dir);
		printf("  %-22s %13s %13s %9s   %13s %9s\n", "figure", "mean (all)", "std. error",
		       "spread", "mean (warm)", "spread");
		for (unsigned k = 0; k < BF_COUNT; k++) {
			printf("  %-22s %13.6g %13.3g %8.2f%%%s", bench_names[k], st_all[k].mean,
			       st_all[k].se, st_all[k].spread_pct, st_all[k].flagged ? "!" : " ");
			if (n_warm >= 2)
				printf("  %13.6g %8.2f%%%s", st_warm[k].mean, st_warm[k].spread_pct,
				       st_warm[k].flagged ? "!" : " ");
			printf("\n");
		}
		printf("  (! spread, the standard deviation over the mean, above %.0f %%)\n",
		       BENCH_SPREAD_PCT);
	}
	ec = 0;
out:
	free(v);
	free(cold);
	free(all);
	free(warm);
	free(recs);
	return ec;
}

int verb_energy(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "jobs"))
		return cli_energy_jobs(argc - 1, argv + 1);
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
	                                      {"grid-hourly", required_argument, 0, 271},
	                                      {"grid-scope", required_argument, 0, 272},
	                                      {"market-intensity", required_argument, 0, 273},
	                                      {"market-source", required_argument, 0, 274},
	                                      {"wue", required_argument, 0, 275},
	                                      {"wue-source", required_argument, 0, 276},
	                                      {"water-intensity", required_argument, 0, 277},
	                                      {"water-source", required_argument, 0, 278},
	                                      {"clock-tolerance-us", required_argument, 0, 279},
	                                      {"compile-cpu-s", required_argument, 0, 280},
	                                      {"results", required_argument, 0, 281},
	                                      {"expect-rates", required_argument, 0, 282},
	                                      {"trials", required_argument, 0, 283},
	                                      {"out", required_argument, 0, 284},
	                                      {"energy-every", required_argument, 0, 285},
	                                      {"openmetrics", no_argument, 0, 300},
	                                      {"metric", required_argument, 0, 301},
	                                      {"allow-partial", no_argument, 0, 302},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct eopts o = {0};
	int pos = cli_parse(&c, "energy", argc, argv, extra, energy_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 2 == argc && !strcmp(argv[pos], "bench"))
		return bench(&c, &o, argv[pos + 1]);
	if (pos + 2 != argc || strcmp(argv[pos], "report"))
		return cli_error(&c, EXIT_USAGE,
		                 "usage: s2ctl energy report RECORD, or s2ctl energy bench IMAGE "
		                 "--trials N (see --help)");
	if (o.trials || o.out || o.energy_every)
		return cli_error(&c, EXIT_USAGE,
		                 "--trials, --out and --energy-every are energy bench's options");
	return report(&c, &o, argv[pos + 1]);
}
