/*
 * Networks: the reference workloads validate, binary -> JSON -> binary is lossless, and each
 * kind of bad input gives its own error naming the item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "s2/error.h"
#include "cmocka_runner.h"
#include "s2/network.h"

static const char *GOOD =
        "{\"format\": 1, \"name\": \"t\", \"timestep_ms\": 0.1, \"run_ms\": 100, \"seed\": 7,\n"
        " \"populations\": [\n"
        "  {\"label\": \"in\", \"size\": 10, \"model\": \"spike_source_poisson\",\n"
        "   \"params\": {\"rate_hz\": 20}},\n"
        "  {\"label\": \"arr\", \"size\": 2, \"model\": \"spike_source_array\",\n"
        "   \"spike_times\": [[1, 2.5], []]},\n"
        "  {\"label\": \"E\", \"size\": 100, \"model\": \"lif_curr_exp\",\n"
        "   \"params\": {\"tau_m_ms\": 10, \"v_thresh_mv\": {\"dist\": \"uniform\", \"low\": -55,"
        " \"high\": -50}},\n"
        "   \"initial\": {\"v_mv\": {\"dist\": \"normal\", \"mean\": -60, \"sd\": 2}}}\n"
        " ],\n"
        " \"projections\": [\n"
        "  {\"pre\": \"in\", \"post\": \"E\", \"post_slice\": [0, 10],\n"
        "   \"connector\": {\"type\": \"one_to_one\"}, \"weight\": 0.5, \"delay\": 1},\n"
        "  {\"pre\": \"E\", \"post\": \"E\", \"connector\": {\"type\": \"fixed_probability\","
        " \"p\": 0.1},\n"
        "   \"weight\": {\"dist\": \"normal_clipped\", \"mean\": 0.1, \"sd\": 0.01, \"low\": 0,"
        " \"high\": 1},\n"
        "   \"delay\": {\"dist\": \"uniform\", \"low\": 0.1, \"high\": 2},"
        " \"receptor\": \"inhibitory\"},\n"
        "  {\"pre\": \"arr\", \"post\": \"E\", \"connector\": {\"type\": \"from_list\","
        " \"pre\": [0, 1], \"post\": [5, 99], \"weight\": [0.1, 0.2]}, \"delay\": 0.1}\n"
        " ],\n"
        " \"recordings\": [{\"population\": \"E\", \"variable\": \"v_mv\", \"neurons\": [0, 1],"
        " \"interval_ms\": 1}]\n"
        "}\n";

static void t_good(void **state)
{
	(void)state;
	char err[512] = "";
	struct s2_net *n = s2_net_from_json(GOOD, strlen(GOOD), err, sizeof err);
	if (!n)
		fail_msg("%s", err);
	assert_int_equal(s2_net_populations(n), 3);
	assert_int_equal(s2_net_projections(n), 3);
	assert_int_equal(s2_net_neurons(n), 112);
	assert_true(s2_net_proj_synapses(n, 0) == 10);
	assert_true(s2_net_proj_synapses(n, 1) == 0.1 * 100 * 100);
	assert_true(s2_net_proj_synapses(n, 2) == 2);
	assert_string_equal(s2_net_pop_model(n, 2), "lif_curr_exp");
	s2_net_free(n);
}

/* binary -> JSON -> binary gives the same bytes, for every example and the hand-written one. */
static void roundtrip(struct s2_net *n)
{
	uint8_t *a, *b;
	size_t al, bl, jl;
	char *json, err[512];
	assert_int_equal(s2_net_encode(n, &a, &al), 0);
	assert_int_equal(s2_net_to_json(n, &json, &jl), 0);
	struct s2_net *r = s2_net_from_json(json, jl, err, sizeof err);
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(s2_net_encode(r, &b, &bl), 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	struct s2_net *d = s2_net_decode(a, al, err, sizeof err);
	assert_non_null(d);
	s2_net_free(d);
	free(a);
	free(b);
	free(json);
	s2_net_free(r);
}

static void t_roundtrip(void **state)
{
	(void)state;
	char err[512];
	struct s2_net *n = s2_net_from_json(GOOD, strlen(GOOD), err, sizeof err);
	assert_non_null(n);
	roundtrip(n);
	s2_net_free(n);
	for (const char *const *e = s2_net_example_names(); *e; e++) {
		double scale = strstr(*e, "synthetic") ? 0.01 : 0.05;
		n = s2_net_example(*e, scale, err, sizeof err);
		if (!n)
			fail_msg("%s: %s", *e, err);
		roundtrip(n);
		s2_net_free(n);
	}
}

static void t_examples_full(void **state)
{
	(void)state;
	char err[512];
	struct s2_net *n = s2_net_example("microcircuit", 1, err, sizeof err);
	assert_non_null(n);
	assert_int_equal(s2_net_neurons(n), 77169); /* the drive is the neurons' own input */
	double syn = 0;
	for (unsigned j = 0; j < s2_net_projections(n); j++)
		syn += s2_net_proj_synapses(n, j);
	assert_true(syn > 2.9e8 && syn < 3.1e8); /* about 3.0e8 (brief) */
	s2_net_free(n);
	n = s2_net_example("synfire", 1, err, sizeof err);
	assert_int_equal(s2_net_populations(n), 201);
	assert_int_equal(s2_net_neurons(n), 201 * 10000);
	s2_net_free(n);
	assert_null(s2_net_example("nope", 1, err, sizeof err));
	assert_non_null(strstr(err, "'nope' is unknown"));
	assert_null(s2_net_example("brunel", 0, err, sizeof err));
}

/* Replace the first occurrence of `from` in `base` by `to`, parse, expect failure with
 * `want`. */
static void expect_bad_in(const char *base, const char *from, const char *to, const char *want)
{
	const char *at = strstr(base, from);
	if (!at)
		fail_msg("test text '%s' not found", from);
	size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
	char *text = malloc(n), err[512] = "";
	snprintf(text, n, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	struct s2_net *net = s2_net_from_json(text, strlen(text), err, sizeof err);
	if (net)
		fail_msg("accepted: %s -> %s", from, to);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	free(text);
}

static void expect_bad(const char *from, const char *to, const char *want)
{
	expect_bad_in(GOOD, from, to, want);
}

static void t_bad(void **state)
{
	(void)state;
	expect_bad("\"lif_curr_exp\"", "\"lif_foo\"",
	           "populations[2] (E): model 'lif_foo' is unknown");
	expect_bad("\"tau_m_ms\": 10", "\"tau_m_ms\": -3",
	           "populations[2] (E): tau_m_ms: -3 is "
	           "outside");
	expect_bad("\"tau_m_ms\": 10", "\"tau_x\": 10",
	           "parameter 'tau_x' is not one of model lif_curr_exp");
	expect_bad("\"post\": \"E\", \"post_slice\"", "\"post\": \"X\", \"post_slice\"",
	           "projections[0] (unlabelled, in -> X): post population 'X' does not exist");
	expect_bad("\"population\": \"E\"", "\"population\": \"Q\"",
	           "recordings[0] (Q): population 'Q' does not exist");
	expect_bad("[0, 10]", "[0, 200]", "post_slice [0, 200) is not a slice of 100 neurons");
	expect_bad("\"p\": 0.1", "\"p\": 1.5", "fixed_probability p 1.5 is not 0-1");
	expect_bad("\"label\": \"arr\"", "\"label\": \"in\"",
	           "populations[1] (in): label is already used by populations[0]");
	expect_bad("\"seed\": 7", "\"seed\": 7, \"colour\": 1", "network: unknown key 'colour'");
	expect_bad("\"size\": 100", "\"size\": \"100\"", "populations[2].size: expected a whole");
	expect_bad("\"weight\": 0.5", "\"weight\": -0.5", "weight: -0.5 is outside 0 to 1000");
	expect_bad("\"delay\": 1}", "\"delay\": 0.01}", "delay: 0.01 is outside 0.1 to 6.4");
	expect_bad("\"one_to_one\"", "\"two_to_two\"", "connector 'two_to_two' is unknown");
	expect_bad("[5, 99]", "[5, 100]", "from_list[1]: 1 -> 100 is outside 2 x 100");
	expect_bad("\"format\": 1", "\"format\": 2", "format: version 2 is not supported");
	expect_bad("\"spike_times\": [[1, 2.5], []]", "\"spike_times\": [[3, 2.5], []]",
	           "spike_times[0][1]: 2.5 is negative or out of order");
	expect_bad("\"post\": \"E\", \"post_slice\"", "\"post\": \"in\", \"post_slice\"",
	           "is a spike_source_poisson and takes no synapses");
	expect_bad("\"dist\": \"normal\"", "\"dist\": \"cauchy\"",
	           "distribution 'cauchy' is unknown");
	expect_bad("\"seed\": 7,", "\"seed\": 7,,", "JSON syntax error at line 1");
	expect_bad("\"variable\": \"v_mv\"", "\"variable\": \"gsyn\"",
	           "variable 'gsyn' is not 'spikes' or a state variable of lif_curr_exp");
	expect_bad("\"variable\": \"v_mv\"", "\"variable\": \"isyn_e_na\"",
	           "variable 'isyn_e_na' cannot be recorded yet (the engine records spikes and "
	           "v_mv)");
}

/* The conductance-based LIF and Izhikevich models: accepted with their parameters and state,
 * a bad parameter refused naming the model and the reason. */
static const char *MODELS_NET =
        "{\"format\": 1, \"name\": \"m\", \"timestep_ms\": 0.1, \"run_ms\": 50, \"seed\": 3,\n"
        " \"populations\": [\n"
        "  {\"label\": \"in\", \"size\": 4, \"model\": \"spike_source_poisson\"},\n"
        "  {\"label\": \"C\", \"size\": 20, \"model\": \"lif_cond_exp\",\n"
        "   \"params\": {\"e_rev_e_mv\": 0, \"e_rev_i_mv\": -80, \"v_thresh_mv\": -52},\n"
        "   \"initial\": {\"v_mv\": -60, \"gsyn_e_us\": 0.01}},\n"
        "  {\"label\": \"Z\", \"size\": 10, \"model\": \"izhikevich\",\n"
        "   \"params\": {\"a\": 0.02, \"b\": 0.2, \"c_mv\": -65, \"d\": 8, \"i_offset_na\": "
        "0.01},\n"
        "   \"initial\": {\"v_mv\": -70, \"u\": -14}}\n"
        " ],\n"
        " \"projections\": [\n"
        "  {\"pre\": \"in\", \"post\": \"C\", \"connector\": {\"type\": \"all_to_all\"},"
        " \"weight\": 0.004},\n"
        "  {\"pre\": \"C\", \"post\": \"Z\", \"connector\": {\"type\": \"from_list\","
        " \"pre\": [0, 1], \"post\": [0, 1], \"weight\": [5, 3]}, \"receptor\": \"inhibitory\"}\n"
        " ],\n"
        " \"recordings\": [{\"population\": \"Z\", \"variable\": \"v_mv\"},"
        " {\"population\": \"C\", \"variable\": \"v_mv\"}]\n"
        "}\n";

static void expect_models_bad(const char *from, const char *to, const char *want)
{
	expect_bad_in(MODELS_NET, from, to, want);
}

static void t_models(void **state)
{
	(void)state;
	char err[512] = "";
	struct s2_net *n = s2_net_from_json(MODELS_NET, strlen(MODELS_NET), err, sizeof err);
	if (!n)
		fail_msg("%s", err);
	assert_string_equal(s2_net_pop_model(n, 1), "lif_cond_exp");
	assert_string_equal(s2_net_pop_model(n, 2), "izhikevich");
	assert_true(s2_net_proj_synapses(n, 0) == 80);
	s2_net_free(n);
	expect_models_bad("\"b\": 0.2", "\"b\": 2000", "populations[2] (Z): b: 2000 is outside");
	expect_models_bad("\"c_mv\": -65", "\"v_reset_mv\": -65",
	                  "parameter 'v_reset_mv' is not one of model izhikevich");
	expect_models_bad("\"u\": -14", "\"w\": -14",
	                  "state variable 'w' is not one of model izhikevich");
	expect_models_bad("\"e_rev_i_mv\": -80", "\"e_rev_i_mv\": -8000",
	                  "populations[1] (C): e_rev_i_mv: -8000 is outside");
	expect_models_bad("\"v_thresh_mv\": -52", "\"v_thresh_mv\": -70",
	                  "populations[1] (C): v_reset_mv -65 is not below v_thresh_mv -70");
	expect_models_bad("\"gsyn_e_us\": 0.01", "\"isyn_e_na\": 0.01",
	                  "state variable 'isyn_e_na' is not one of model lif_cond_exp");
	expect_models_bad("\"variable\": \"v_mv\"}, {", "\"variable\": \"u\"}, {",
	                  "recordings[0] (Z): variable 'u' cannot be recorded yet (the engine "
	                  "records spikes and v_mv)");
	expect_models_bad("[5, 3]", "[5, 1003]",
	                  "from_list[1]: weight 1003 mV is outside 0 to 1000");
	expect_models_bad("\"weight\": 0.004", "\"weight\": -0.004",
	                  "weight: -0.004 is outside 0 to 1000");
}

static void t_binary_bad(void **state)
{
	(void)state;
	char err[256] = "";
	const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	assert_null(s2_net_decode(junk, sizeof junk, err, sizeof err));
	assert_non_null(strstr(err, "not a valid protobuf Network"));
	assert_null(s2_net_decode(NULL, 0, err, sizeof err)); /* empty: format 0 */
	assert_non_null(strstr(err, "format: version 0"));
	/* a field this format does not have: refused, since JSON could not carry it */
	struct s2_net *n = s2_net_example("brunel", 0.001, err, sizeof err);
	uint8_t *b;
	size_t bl;
	assert_int_equal(s2_net_encode(n, &b, &bl), 0);
	uint8_t *x = malloc(bl + 2);
	memcpy(x, b, bl);
	x[bl] = 0x60; /* field 12, varint */
	x[bl + 1] = 0;
	assert_null(s2_net_decode(x, bl + 2, err, sizeof err));
	assert_non_null(strstr(err, "Network: field 12 is not part of format 1"));
	free(x);
	free(b);
	s2_net_free(n);
}

static void t_files(void **state)
{
	(void)state;
	char err[512], dir[512], path[1024], jpath[1024];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2net"));
	snprintf(path, sizeof path, "%s/n.pb", dir);
	snprintf(jpath, sizeof jpath, "%s/n.json", dir);
	struct s2_net *n = s2_net_example("brunel", 0.01, err, sizeof err);
	assert_int_equal(s2_net_save_file(n, path, false, err, sizeof err), 0);
	assert_int_equal(s2_net_save_file(n, jpath, true, err, sizeof err), 0);
	struct s2_net *a = s2_net_load_file(path, err, sizeof err),
	              *b = s2_net_load_file(jpath, err, sizeof err);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(s2_net_neurons(a), s2_net_neurons(b));
	assert_null(s2_net_load_file("/nonexistent/x.pb", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/x.pb: "));
	s2_net_free(a);
	s2_net_free(b);
	s2_net_free(n);
	unlink(path);
	unlink(jpath);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_good),          cmocka_unit_test(t_roundtrip),
	        cmocka_unit_test(t_examples_full), cmocka_unit_test(t_bad),
	        cmocka_unit_test(t_models),        cmocka_unit_test(t_binary_bad),
	        cmocka_unit_test(t_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
