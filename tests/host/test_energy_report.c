/*
 * libs2's energy report (s2/energy_report.h) on energy records of known energy, written here:
 * a model of round numbers (1 pJ per cycle, 10 cycles per synaptic event, 25 W per board)
 * and 1200 synaptic events across a 32-bit counter wrap give 1.2e-8 J dynamic and 10 J
 * static, computed by hand; the renderers' output parses and carries the figures; and every
 * error: a record that is missing, not JSON, not an energy record, damaged (its seal), of a
 * partial run (refused unless allowed), options out of range or missing what they need, a
 * model line that does not parse, expected rates without results. A failed open gives no
 * report.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cmocka_runner.h"
#include "s2/crc32.h"
#include "s2/energy.h"
#include "s2/energy_report.h"
#include "s2/error.h"

static char dir[200];

static const char model_text[] = "chip_idle_w = 0.5\n"
                                 "chip_busy_w = 0.500152\n"
                                 "mhz_high = 1\n"
                                 "volts_low = 0.8\n"
                                 "board_other_w = 1\n"
                                 "cycles_neuron_update = 0\n"
                                 "cycles_synaptic_event = 10\n"
                                 "cycles_spike_sent = 0\n"
                                 "cycles_packet_in = 0\n"
                                 "j_packet_routed = 0\n"
                                 "j_dma_byte = 0\n"
                                 "counter_bits = 32\n";

/* A format-1 record: one board, chip 0, samples at steps 0, 25, 50, 100 with synaptic-event
 * counts across a 32-bit wrap (1200 events); phases boot 0.2 s, run, readout 0.1 s; complete
 * or not. Returns its path (static buffer per name). */
static const char *write_record(const char *name, bool complete)
{
	static char path[4][260];
	static unsigned k;
	char *p = path[k++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	static const unsigned long long syn[4] = {4294966796ull, 4294967196ull, 300, 700};
	static const unsigned steps[4] = {0, 25, 50, 100};
	fprintf(f,
	        "{\"format\": \"s2-energy-record-1\", \"image\": \"synthetic\", \"timestep_ms\": "
	        "1.0,"
	        " \"steps\": 100, \"energy_every\": 25, \"machine_boards\": 4,%s"
	        " \"boards\": [{\"board\": 0, \"chips_used\": 1, \"pes\": 2}],"
	        " \"phases\": [{\"name\": \"boot\", \"start_us\": 1000000, \"end_us\": 1200000},"
	        " {\"name\": \"run\", \"start_us\": 1200000, \"end_us\": 1900000},"
	        " {\"name\": \"readout\", \"start_us\": 1900000, \"end_us\": 2000000}],"
	        " \"events\": [], \"stream\": {\"lost\": 0, \"bad\": 0}, \"samples\": [",
	        complete ? ""
	                 : " \"complete\": false, \"partial\": \"board 0 stopped at step 50\",");
	for (unsigned i = 0; i < 4; i++)
		fprintf(f, "%s[0, 0, %u, %u, 0, %llu, 0, 0, 0, 0, 0, 0]", i ? ", " : "", steps[i],
		        1200000 + 1000 * steps[i], syn[i]);
	fprintf(f, "]}\n");
	assert_int_equal(fclose(f), 0);
	return p;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[4][260];
	static unsigned k;
	char *p = path[k++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return p;
}

static struct s2_energy_model round_model(void)
{
	struct s2_energy_model m;
	s2_energy_model_default(&m);
	char err[256];
	assert_int_equal(s2_energy_model_parse(&m, model_text, err, sizeof err), 0);
	return m;
}

static bool close_to(double got, double want)
{
	return fabs(got - want) <= 1e-9 * fmax(fabs(want), 1e-30);
}

static void known_joules(void **state)
{
	(void)state;
	struct s2_energy_model m = round_model();
	struct s2_energy_report_opts o = {.model = &m};
	struct s2_energy_report *r = NULL;
	char err[512];
	assert_int_equal(
	        s2_energy_report_open(write_record("wrap.json", true), &o, &r, err, sizeof err), 0);
	assert_non_null(r);
	assert_null(s2_energy_report_partial(r));
	struct s2_energy_figures f;
	s2_energy_report_figures(r, &f);
	assert_int_equal(f.synaptic_events, 1200);
	assert_true(close_to(f.run_dynamic_j, 1.2e-8));
	assert_true(close_to(f.static_j, 10)); /* 25 W x (0.2 + 0.1 biological + 0.1) s */
	assert_true(close_to(f.per_synaptic_event_j, f.run_j / 1200));
	assert_false(f.measured);
	assert_int_equal(f.steps, 100);
	assert_string_equal(f.model_version, "s2-energy-model-2+custom");
	const unsigned *boards;
	assert_int_equal(s2_energy_report_boards(r, &boards), 1);
	assert_int_equal(boards[0], 0);
	struct s2_energy_chip *chips = NULL;
	assert_int_equal(s2_energy_report_chips(r, &chips), 1);
	assert_int_equal(chips[0].synaptic_events, 1200);
	assert_true(close_to(chips[0].run_dynamic_j, 1.2e-8));
	free(chips);
	/* three windows (0-25, 25-50, 50-100): 25 W each plus the window's events */
	struct s2_energy_power pw[8];
	assert_int_equal(s2_energy_report_power(r, 0, pw, 8), 3);
	assert_int_equal(pw[2].step_from, 50);
	assert_int_equal(pw[2].step_to, 100);
	assert_true(close_to(pw[2].watts, 25 + 400 * 10e-12 / 0.05));
	assert_int_equal(s2_energy_report_power(r, 0, pw, 2), 2); /* cut at cap */
	s2_energy_report_free(r);
}

static void renderers(void **state)
{
	(void)state;
	struct s2_energy_model m = round_model();
	struct s2_energy_metric metric = {"accuracy", 0.93};
	struct s2_energy_report_opts o = {.model = &m,
	                                  .have_pue = true,
	                                  .pue = 1.5,
	                                  .have_grid = true,
	                                  .grid_g_per_kwh = 400,
	                                  .grid_dataset = "test",
	                                  .grid_zone = "XX",
	                                  .grid_year = "2026",
	                                  .metrics = &metric,
	                                  .n_metrics = 1};
	struct s2_energy_report *r = NULL;
	char err[512];
	assert_int_equal(
	        s2_energy_report_open(write_record("render.json", true), &o, &r, err, sizeof err),
	        0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(s2_energy_report_json(r, f), 0);
	fclose(f);
	struct json_object *root = json_tokener_parse(buf), *v, *w;
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "format", &v));
	assert_string_equal(json_object_get_string(v), "s2-energy-report-2");
	assert_true(json_object_object_get_ex(root, "run", &v));
	assert_true(json_object_object_get_ex(v, "dynamic_j", &w));
	assert_true(close_to(json_object_get_double(w), 1.2e-8));
	assert_true(json_object_object_get_ex(root, "carbon", &v));
	assert_true(json_object_object_get_ex(v, "pue", &w));
	assert_true(close_to(json_object_get_double(w), 1.5));
	assert_non_null(strstr(buf, "\"accuracy\""));
	json_object_put(root);
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(s2_energy_report_text(r, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "energy of synthetic"));
	assert_non_null(strstr(buf, "1200 synaptic operations"));
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(s2_energy_report_openmetrics(r, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "s2_synaptic_events_total{run=\"synthetic\"} 1200"));
	assert_non_null(strstr(buf, "# EOF\n"));
	free(buf);
	assert_int_equal(s2_energy_report_csv(r, dir, err, sizeof err), 0);
	char p[260];
	snprintf(p, sizeof p, "%s/power.csv", dir);
	assert_int_equal(access(p, R_OK), 0);
	assert_int_equal(s2_energy_report_csv(r, "/nonexistent/dir", err, sizeof err), S2_E_IO);
	assert_non_null(strstr(err, "/nonexistent/dir/samples.csv"));
	s2_energy_report_free(r);
}

/* Open must fail with code and a message containing want; *out NULL. */
static void refused(const char *path, const struct s2_energy_report_opts *o, int code,
                    const char *want)
{
	struct s2_energy_report *r = (struct s2_energy_report *)&r;
	char err[1024] = "";
	int rc = s2_energy_report_open(path, o, &r, err, sizeof err);
	if (rc != code || !strstr(err, want))
		fail_msg("%s: got %d '%s', want %d '%s'", path, rc, err, code, want);
	assert_null(r);
}

static void bad_records(void **state)
{
	(void)state;
	char missing[260];
	snprintf(missing, sizeof missing, "%s/none.json", dir);
	refused(missing, NULL, S2_E_IO, "none.json");
	refused(write_file("notjson.json", "{\"format\": "), NULL, S2_E_FORMAT,
	        "not readable JSON");
	refused(write_file("other.json", "{\"format\": \"something\"}"), NULL, S2_E_FORMAT,
	        "not an energy record");
	refused(write_file("nodt.json", "{\"format\": \"s2-energy-record-1\"}"), NULL, S2_E_FORMAT,
	        "timestep_ms missing");
	/* a format-2 record whose seal does not hold */
	const char body[] = "{\"format\":\"s2-energy-record-2\",\"timestep_ms\":1";
	char text[256];
	snprintf(text, sizeof text, "%s,\"crc32\":\"%08x\"}", body,
	         (unsigned)s2_crc32(0, body, sizeof body - 1) ^ 1u);
	refused(write_file("seal.json", text), NULL, S2_E_FORMAT, "damaged");
	refused(NULL, NULL, S2_E_INVAL, "no energy record");
}

static void partial_run(void **state)
{
	(void)state;
	const char *p = write_record("partial.json", false);
	refused(p, NULL, S2_E_STATE, "record of a partial run (board 0 stopped at step 50)");
	struct s2_energy_report_opts o = {.allow_partial = true};
	struct s2_energy_report *r = NULL;
	char err[512];
	assert_int_equal(s2_energy_report_open(p, &o, &r, err, sizeof err), 0);
	assert_string_equal(s2_energy_report_partial(r), "board 0 stopped at step 50");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(s2_energy_report_text(r, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "PARTIAL RUN: board 0 stopped at step 50"));
	free(buf);
	s2_energy_report_free(r);
}

static void bad_options(void **state)
{
	(void)state;
	const char *p = write_record("opts.json", true);
	struct s2_energy_report_opts o = {.have_pue = true, .pue = 9};
	refused(p, &o, S2_E_INVAL, "--pue: 9 is not a number in 1..5");
	o = (struct s2_energy_report_opts){.have_grid = true, .grid_g_per_kwh = 300};
	refused(p, &o, S2_E_INVAL, "needs --grid-dataset");
	o = (struct s2_energy_report_opts){.have_wue = true, .wue_l_per_kwh = 1};
	refused(p, &o, S2_E_INVAL, "--wue needs --wue-source");
	o = (struct s2_energy_report_opts){.grid_scope = "direct"};
	refused(p, &o, S2_E_INVAL, "--grid-scope applies only with --grid-intensity");
	o = (struct s2_energy_report_opts){.requests = 10};
	refused(p, &o, S2_E_INVAL, "give --samples N");
	struct s2_energy_metric bad = {"a b", 1};
	o = (struct s2_energy_report_opts){.metrics = &bad, .n_metrics = 1};
	refused(p, &o, S2_E_INVAL, "--metric: 'a b'");
	o = (struct s2_energy_report_opts){.model_path =
	                                           write_file("bad.model", "chip_idle_w = x\n")};
	refused(p, &o, S2_E_FORMAT, "--model ");
	/* expected rates: the record names no results file, and none is given */
	o = (struct s2_energy_report_opts){.expect_rates_path = write_file("rates.txt", "E 1 1\n")};
	refused(p, &o, S2_E_INVAL, "--expect-rates needs the run's results");
	o = (struct s2_energy_report_opts){.expect_rates_path = write_file("rates2.txt", "E x\n"),
	                                   .results_path = "r.s2res"};
	refused(p, &o, S2_E_FORMAT, "line 1: not 'POPULATION RATE_HZ TOLERANCE_HZ'");
	/* hourly carbon needs the record's UTC times (format 1 has none) */
	o = (struct s2_energy_report_opts){
	        .grid_hourly_path =
	                write_file("hourly.csv", "# dataset: t\n# zone: Z\n# year: 2026\n"
	                                         "# scope: direct\nhour_utc,g_per_kwh\n"
	                                         "2026-03-01T09:00:00Z,300\n")};
	refused(p, &o, S2_E_FORMAT, "has no UTC times");
	o = (struct s2_energy_report_opts){.samples = 10, .baseline_path = "/nonexistent.json"};
	refused(p, &o, S2_E_FORMAT, "--baseline ");
}

int main(void)
{
	if (!s2t_mkdtemp(dir, sizeof dir, "s2erep")) { /* removed at exit with s2t_tmpdir() */
		fprintf(stderr, "test_energy_report: no temporary directory\n");
		return 1;
	}
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(known_joules), cmocka_unit_test(renderers),
	        cmocka_unit_test(bad_records),  cmocka_unit_test(partial_run),
	        cmocka_unit_test(bad_options),
	};
	return s2t_run_cmocka("energy_report", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
