/*
 * Building networks in memory (s2/netbuild.h): a network built call by call is the same
 * network, byte for byte, as its JSON text read by the JSON reader; every call refuses bad
 * input (a population or projection that does not exist, arrays of the wrong length, names
 * the format does not have) with its code and a message naming the item, and changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s2/error.h"
#include "s2/netbuild.h"
#include "s2/network.h"

/* The network of test_network.c's GOOD, plus a current source. */
static const char *GOOD =
        "{\"format\": 1, \"name\": \"t\", \"timestep_ms\": 0.1, \"run_ms\": 100, \"seed\": 7,\n"
        " \"populations\": [\n"
        "  {\"label\": \"in\", \"size\": 10, \"model\": \"spike_source_poisson\",\n"
        "   \"params\": {\"rate_hz\": 20}, \"rate_hint_hz\": 20, \"max_per_pe\": 5},\n"
        "  {\"label\": \"arr\", \"size\": 2, \"model\": \"spike_source_array\",\n"
        "   \"spike_times\": [[1, 2.5], []]},\n"
        "  {\"label\": \"E\", \"size\": 4, \"model\": \"lif_curr_exp\",\n"
        "   \"params\": {\"tau_m_ms\": [10, 11, 12, 13], \"v_thresh_mv\": {\"dist\": "
        "\"uniform\", \"low\": -55, \"high\": -50}},\n"
        "   \"initial\": {\"v_mv\": {\"dist\": \"normal\", \"mean\": -60, \"sd\": 2}}}\n"
        " ],\n"
        " \"projections\": [\n"
        "  {\"pre\": \"in\", \"post\": \"E\", \"pre_slice\": [0, 4],\n"
        "   \"connector\": {\"type\": \"one_to_one\"}, \"weight\": 0.5, \"delay\": 1},\n"
        "  {\"label\": \"EE\", \"pre\": \"E\", \"post\": \"E\", \"connector\": {\"type\": "
        "\"fixed_probability\", \"p\": 0.1, \"allow_self\": true},\n"
        "   \"weight\": {\"dist\": \"normal_clipped\", \"mean\": 0.1, \"sd\": 0.01, \"low\": 0,"
        " \"high\": 1},\n"
        "   \"delay\": {\"dist\": \"uniform\", \"low\": 0.1, \"high\": 2},"
        " \"receptor\": \"inhibitory\"},\n"
        "  {\"pre\": \"arr\", \"post\": \"E\", \"connector\": {\"type\": \"from_list\","
        " \"pre\": [0, 1], \"post\": [3, 2], \"weight\": [0.1, 0.2]}, \"delay\": 0.1},\n"
        "  {\"pre\": \"in\", \"post\": \"E\", \"connector\": {\"type\": \"fixed_total\", \"n\": 7,"
        " \"with_replacement\": true}, \"weight\": 0.2, \"delay\": 0.2,\n"
        "   \"synapse\": {\"rule\": \"stdp\", \"weight_dependence\": \"additive\", \"w_min\": 0,"
        " \"w_max\": 0.5, \"tau_plus_ms\": 20, \"tau_minus_ms\": 20, \"a_plus\": 0.01,"
        " \"a_minus\": 0.012, \"dendritic_delay_fraction\": 0}}\n"
        " ],\n"
        " \"recordings\": [{\"population\": \"E\", \"variable\": \"v_mv\", \"neurons\": [0, 1],"
        " \"interval_ms\": 1}, {\"population\": \"E\", \"variable\": \"spikes\"}],\n"
        " \"current_sources\": [{\"population\": \"E\", \"kind\": \"step\", \"neurons\": [2],"
        " \"times_ms\": [5, 10], \"amplitudes_na\": [0.5, 0]}]\n"
        "}\n";

#define OK(call)                                                               \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ < 0)                                                   \
			fail_msg("%s: %s (%s)", #call, err, s2_strerror(rc_)); \
	} while (0)

/* GOOD, built call by call. */
static struct s2_netb *build_good(void)
{
	char err[512] = "";
	struct s2_netb *b = s2_netb_new("t", 0.1, 100, 7);
	assert_non_null(b);
	int in = s2_netb_population(b, "in", "spike_source_poisson", 10, err, sizeof err);
	int arr = s2_netb_population(b, "arr", "spike_source_array", 2, err, sizeof err);
	int e = s2_netb_population(b, "E", "lif_curr_exp", 4, err, sizeof err);
	assert_int_equal(in, 0);
	assert_int_equal(arr, 1);
	assert_int_equal(e, 2);
	double rate = 20, tau[] = {10, 11, 12, 13}, times[] = {1, 2.5};
	uint32_t counts[] = {2, 0};
	OK(s2_netb_pop_param(b, in, "rate_hz", false, &rate, 1, err, sizeof err));
	OK(s2_netb_pop_set(b, in, "rate_hint_hz", 20, err, sizeof err));
	OK(s2_netb_pop_set(b, in, "max_per_pe", 5, err, sizeof err));
	OK(s2_netb_pop_spike_times(b, arr, counts, 2, times, 2, err, sizeof err));
	OK(s2_netb_pop_param(b, e, "tau_m_ms", false, tau, 4, err, sizeof err));
	struct s2_netb_dist th = {.kind = S2_NETB_UNIFORM, .low = -55, .high = -50};
	OK(s2_netb_pop_param_random(b, e, "v_thresh_mv", false, &th, err, sizeof err));
	struct s2_netb_dist v0 = {.kind = S2_NETB_NORMAL, .mean = -60, .sd = 2};
	OK(s2_netb_pop_param_random(b, e, "v_mv", true, &v0, err, sizeof err));

	double w = 0.5, d = 1;
	int j = s2_netb_projection(b, in, e, "excitatory", NULL, err, sizeof err);
	assert_int_equal(j, 0);
	OK(s2_netb_proj_slice(b, j, false, 0, 4, err, sizeof err));
	OK(s2_netb_proj_connector(b, j, "one_to_one", err, sizeof err));
	OK(s2_netb_proj_value(b, j, "weight", &w, 1, err, sizeof err));
	OK(s2_netb_proj_value(b, j, "delay", &d, 1, err, sizeof err));

	j = s2_netb_projection(b, e, e, "inhibitory", "EE", err, sizeof err);
	assert_int_equal(j, 1);
	OK(s2_netb_proj_connector(b, j, "fixed_probability", err, sizeof err));
	OK(s2_netb_proj_connector_set(b, j, "p", 0.1, err, sizeof err));
	OK(s2_netb_proj_connector_set(b, j, "allow_self", 1, err, sizeof err));
	struct s2_netb_dist wd = {
	        .kind = S2_NETB_NORMAL_CLIPPED, .mean = 0.1, .sd = 0.01, .low = 0, .high = 1};
	struct s2_netb_dist dd = {.kind = S2_NETB_UNIFORM, .low = 0.1, .high = 2};
	OK(s2_netb_proj_value_random(b, j, "weight", &wd, err, sizeof err));
	OK(s2_netb_proj_value_random(b, j, "delay", &dd, err, sizeof err));

	j = s2_netb_projection(b, arr, e, "excitatory", NULL, err, sizeof err);
	uint32_t pre[] = {0, 1}, post[] = {3, 2};
	double lw[] = {0.1, 0.2}, ld = 0.1;
	OK(s2_netb_proj_connector(b, j, "from_list", err, sizeof err));
	OK(s2_netb_proj_list(b, j, pre, post, lw, NULL, 2, err, sizeof err));
	OK(s2_netb_proj_value(b, j, "delay", &ld, 1, err, sizeof err));

	j = s2_netb_projection(b, in, e, "excitatory", NULL, err, sizeof err);
	double w2 = 0.2;
	OK(s2_netb_proj_connector(b, j, "fixed_total", err, sizeof err));
	OK(s2_netb_proj_connector_set(b, j, "n", 7, err, sizeof err));
	OK(s2_netb_proj_connector_set(b, j, "with_replacement", 1, err, sizeof err));
	OK(s2_netb_proj_value(b, j, "weight", &w2, 1, err, sizeof err));
	OK(s2_netb_proj_value(b, j, "delay", &w2, 1, err, sizeof err));
	OK(s2_netb_proj_synapse(b, j, "stdp", err, sizeof err));
	OK(s2_netb_proj_synapse_str(b, j, "weight_dependence", "additive", err, sizeof err));
	static const struct {
		const char *k;
		double v;
	} syn[] = {{"w_min", 0},
	           {"w_max", 0.5},
	           {"tau_plus_ms", 20},
	           {"tau_minus_ms", 20},
	           {"a_plus", 0.01},
	           {"a_minus", 0.012},
	           {"dendritic_delay_fraction", 0}};
	for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++)
		OK(s2_netb_proj_synapse_set(b, j, syn[i].k, syn[i].v, err, sizeof err));

	uint32_t rec[] = {0, 1}, two = 2;
	OK(s2_netb_record(b, e, "v_mv", rec, 2, 1, err, sizeof err));
	OK(s2_netb_record(b, e, "spikes", NULL, 0, 0, err, sizeof err));
	int cs = s2_netb_csource(b, e, "step", &two, 1, err, sizeof err);
	assert_int_equal(cs, 0);
	double st[] = {5, 10}, sa[] = {0.5, 0};
	OK(s2_netb_csource_array(b, cs, "times_ms", st, 2, err, sizeof err));
	OK(s2_netb_csource_array(b, cs, "amplitudes_na", sa, 2, err, sizeof err));
	return b;
}

/* The binary encoding of a network (malloc'd). */
static uint8_t *encode(const struct s2_net *n, size_t *len)
{
	uint8_t *buf = NULL;
	assert_int_equal(s2_net_encode(n, &buf, len), 0);
	return buf;
}

static void assert_same(const struct s2_net *a, const struct s2_net *b)
{
	size_t la, lb;
	uint8_t *ea = encode(a, &la), *eb = encode(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ea, eb, la);
	free(ea);
	free(eb);
}

static void t_same_as_json(void **state)
{
	(void)state;
	char err[512] = "";
	struct s2_net *j = s2_net_from_json(GOOD, strlen(GOOD), err, sizeof err);
	if (!j)
		fail_msg("%s", err);
	struct s2_netb *b = build_good();
	struct s2_net *n = NULL;
	OK(s2_netb_finish(b, &n, err, sizeof err));
	assert_same(n, j);
	/* the builder goes on: finished again, the same; a later change does not touch n */
	struct s2_net *n2 = NULL;
	OK(s2_netb_finish(b, &n2, err, sizeof err));
	assert_same(n2, j);
	double tau = 20;
	OK(s2_netb_pop_param(b, 2, "tau_m_ms", false, &tau, 1, err, sizeof err));
	s2_netb_set_run_ms(b, 50);
	struct s2_net *n3 = NULL;
	OK(s2_netb_finish(b, &n3, err, sizeof err));
	assert_true(s2_net_run_ms(n3) == 50);
	assert_true(s2_net_run_ms(n) == 100);
	size_t l3, lj;
	uint8_t *e3 = encode(n3, &l3), *ej = encode(j, &lj);
	assert_true(l3 != lj || memcmp(e3, ej, lj) != 0);
	free(e3);
	free(ej);
	s2_net_free(n3);
	s2_netb_free(b); /* networks stay valid without their builder */
	assert_same(n, j);
	s2_net_free(n);
	s2_net_free(n2);
	s2_net_free(j);
}

#define REFUSE(code, call, words)                                                     \
	do {                                                                          \
		err[0] = 0;                                                           \
		int rc_ = (call);                                                     \
		if (rc_ != (code))                                                    \
			fail_msg("%s: %d (%s), not %s", #call, rc_, err, #code);      \
		if (!strstr(err, (words)))                                            \
			fail_msg("%s: message '%s' lacks '%s'", #call, err, (words)); \
	} while (0)

static void t_errors(void **state)
{
	(void)state;
	char err[512];
	struct s2_netb *b = build_good();
	double one = 1, three[] = {1, 2, 3};
	uint32_t c3[] = {1, 1, 1}, c2[] = {1, 1}, idx[] = {0};
	struct s2_netb_dist bad = {.kind = (enum s2_netb_dist_kind)9};
	/* bad population, projection and current source references */
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param(b, 3, "tau_m_ms", false, &one, 1, err, sizeof err),
	       "population 3 does not exist");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param(b, -1, "tau_m_ms", false, &one, 1, err, sizeof err),
	       "population -1 does not exist");
	REFUSE(S2_E_NOTFOUND, s2_netb_projection(b, 0, 7, "excitatory", NULL, err, sizeof err),
	       "population 7 does not exist (3 populations built)");
	REFUSE(S2_E_NOTFOUND, s2_netb_record(b, 9, "spikes", NULL, 0, 0, err, sizeof err),
	       "population 9");
	REFUSE(S2_E_NOTFOUND, s2_netb_csource(b, 5, "dc", NULL, 0, err, sizeof err),
	       "population 5");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_connector(b, 4, "one_to_one", err, sizeof err),
	       "projection 4 does not exist");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_value(b, 4, "weight", &one, 1, err, sizeof err),
	       "projection 4");
	REFUSE(S2_E_NOTFOUND, s2_netb_csource_set(b, 1, "amplitude_na", 1, err, sizeof err),
	       "current source 1 does not exist");
	/* wrong sizes */
	REFUSE(S2_E_INVAL, s2_netb_pop_param(b, 2, "tau_m_ms", false, three, 3, err, sizeof err),
	       "population 'E' (4 neurons): 3 values of 'tau_m_ms' given, 1 or 4 needed");
	REFUSE(S2_E_INVAL, s2_netb_pop_param(b, 2, "tau_m_ms", false, NULL, 1, err, sizeof err),
	       "0 values");
	REFUSE(S2_E_INVAL, s2_netb_pop_spike_times(b, 1, c3, 3, three, 3, err, sizeof err),
	       "spike times of 3 neurons given, 2 needed");
	REFUSE(S2_E_INVAL, s2_netb_pop_spike_times(b, 1, c2, 2, three, 3, err, sizeof err),
	       "add up to 2 times, 3 given");
	REFUSE(S2_E_INVAL, s2_netb_proj_value(b, 0, "weight", three, 3, err, sizeof err),
	       "3 values of 'weight' given, 1 needed");
	REFUSE(S2_E_INVAL, s2_netb_proj_list(b, 2, NULL, idx, NULL, NULL, 1, err, sizeof err),
	       "NULL pre list");
	REFUSE(S2_E_NOMEM,
	       s2_netb_proj_list(b, 2, idx, idx, NULL, NULL, SIZE_MAX / 2, err, sizeof err),
	       "out of memory"); /* a length whose size overflows: refused before a copy */
	REFUSE(S2_E_INVAL, s2_netb_record(b, 2, "spikes", NULL, 2, 0, err, sizeof err),
	       "NULL list of 2 neurons");
	REFUSE(S2_E_INVAL, s2_netb_population(b, "Z", "lif_curr_exp", 0, err, sizeof err),
	       "size 0");
	/* names the format does not have */
	REFUSE(S2_E_NOTFOUND, s2_netb_population(b, "Z", "hh", 3, err, sizeof err),
	       "model 'hh' is unknown (known: lif_curr_exp");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param(b, 2, "tau_x", false, &one, 1, err, sizeof err),
	       "parameter 'tau_x' is not one of model lif_curr_exp (cm_nf, tau_m_ms");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param(b, 2, "tau_m_ms", true, &one, 1, err, sizeof err),
	       "state variable 'tau_m_ms'");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param(b, 0, "v_mv", true, &one, 1, err, sizeof err),
	       "(none)");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_param_random(b, 2, "v_mv", true, &bad, err, sizeof err),
	       "distribution kind 9");
	REFUSE(S2_E_NOTFOUND, s2_netb_projection(b, 0, 2, "gaba", NULL, err, sizeof err),
	       "receptor 'gaba' is unknown");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_connector_set(b, 0, "p", 0.5, err, sizeof err),
	       "projection in->E: connector one_to_one has no field 'p'");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_value(b, 0, "speed", &one, 1, err, sizeof err),
	       "'speed' is not a value of a projection");
	REFUSE(S2_E_NOTFOUND, s2_netb_pop_set(b, 0, "rate", 1, err, sizeof err),
	       "population 'in': no number 'rate'");
	REFUSE(S2_E_RANGE, s2_netb_pop_set(b, 0, "max_per_pe", 0.5, err, sizeof err),
	       "max_per_pe 0.5 is not a whole number");
	REFUSE(S2_E_NOTFOUND, s2_netb_csource_set(b, 0, "volume", 1, err, sizeof err),
	       "no number 'volume'");
	REFUSE(S2_E_NOTFOUND, s2_netb_csource_array(b, 0, "volumes", three, 3, err, sizeof err),
	       "no array 'volumes'");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_synapse_set(b, 3, "tau", 1, err, sizeof err),
	       "synapse stdp has no number 'tau'");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_synapse_str(b, 3, "rule2", "x", err, sizeof err),
	       "has no name 'rule2'");
	REFUSE(S2_E_STATE, s2_netb_proj_synapse_set(b, 0, "w_max", 1, err, sizeof err),
	       "no synapse rule yet");
	/* state */
	REFUSE(S2_E_STATE, s2_netb_proj_connector(b, 1, "all_to_all", err, sizeof err),
	       "projection E->E: it has a connector already (fixed_probability)");
	REFUSE(S2_E_STATE, s2_netb_proj_slice(b, 0, false, 0, 2, err, sizeof err),
	       "its pre slice is given already");
	REFUSE(S2_E_STATE, s2_netb_proj_list(b, 0, idx, idx, NULL, NULL, 1, err, sizeof err),
	       "its connector is not from_list");
	REFUSE(S2_E_RANGE, s2_netb_proj_connector_set(b, 3, "n", 2.5, err, sizeof err),
	       "n 2.5 is not a whole number");
	REFUSE(S2_E_RANGE, s2_netb_proj_connector_set(b, 3, "n", -1, err, sizeof err),
	       "n -1 is not a whole number");
	REFUSE(S2_E_RANGE,
	       s2_netb_proj_connector_set(b, 3, "n", 9007199254740994.0, err, sizeof err),
	       "n 9.0072e+15 is not a whole number from 0 to 9007199254740992");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_connector_set(b, 3, "allow_self", 1, err, sizeof err),
	       "connector fixed_total has no field 'allow_self'");
	REFUSE(S2_E_NOTFOUND, s2_netb_proj_connector_set(b, 3, NULL, 1, err, sizeof err),
	       "has no field '(null)'");
	REFUSE(S2_E_NOTFOUND, s2_netb_csource_set(b, 0, NULL, 1, err, sizeof err),
	       "no number '(null)'");
	/* none of it changed the network */
	struct s2_net *n = NULL, *j = s2_net_from_json(GOOD, strlen(GOOD), err, sizeof err);
	assert_non_null(j);
	OK(s2_netb_finish(b, &n, err, sizeof err));
	assert_same(n, j);
	s2_net_free(n);
	s2_net_free(j);
	/* NULL builder and out */
	REFUSE(S2_E_INVAL, s2_netb_pop_param(NULL, 0, "x", false, &one, 1, err, sizeof err),
	       "NULL builder");
	REFUSE(S2_E_INVAL, s2_netb_proj_connector(NULL, 0, "one_to_one", err, sizeof err),
	       "NULL builder");
	REFUSE(S2_E_INVAL, s2_netb_population(NULL, "a", "lif_curr_exp", 1, err, sizeof err),
	       "NULL builder");
	REFUSE(S2_E_INVAL, s2_netb_finish(b, NULL, err, sizeof err), "NULL out");
	s2_netb_free(b);
	s2_netb_free(NULL);
}

/* What only the whole network shows is refused by s2_netb_finish, as for a file. */
static void t_finish_errors(void **state)
{
	(void)state;
	char err[512];
	struct s2_net *n = (struct s2_net *)&n;
	struct s2_netb *b = s2_netb_new("x", 0.1, 100, 1);
	int a = s2_netb_population(b, "A", "lif_curr_exp", 5, err, sizeof err);
	int j = s2_netb_projection(b, a, a, "excitatory", NULL, err, sizeof err);
	assert_true(a == 0 && j == 0);
	REFUSE(S2_E_FORMAT, s2_netb_finish(b, &n, err, sizeof err), "A -> A): no connector");
	assert_null(n);
	OK(s2_netb_proj_connector(b, j, "all_to_all", err, sizeof err));
	double w = 0.1, d = 0.1, big = 1e9;
	OK(s2_netb_proj_value(b, j, "weight", &w, 1, err, sizeof err));
	OK(s2_netb_proj_value(b, j, "delay", &d, 1, err, sizeof err));
	OK(s2_netb_finish(b, &n, err, sizeof err));
	s2_net_free(n);
	OK(s2_netb_pop_param(b, a, "tau_m_ms", false, &big, 1, err, sizeof err));
	REFUSE(S2_E_FORMAT, s2_netb_finish(b, &n, err, sizeof err), "tau_m_ms");
	d = 0.1;
	OK(s2_netb_pop_param(b, a, "tau_m_ms", false, &d, 1, err, sizeof err));
	OK(s2_netb_proj_slice(b, j, true, 2, 9, err, sizeof err)); /* beyond 5 neurons */
	REFUSE(S2_E_FORMAT, s2_netb_finish(b, &n, err, sizeof err), "slice");
	s2_netb_free(b);
	b = s2_netb_new("x", 0.1, 100, 1);
	a = s2_netb_population(b, "A", "lif_curr_exp", 5, err, sizeof err);
	OK(s2_netb_population(b, "A", "lif_curr_exp", 5, err, sizeof err));
	REFUSE(S2_E_FORMAT, s2_netb_finish(b, &n, err, sizeof err), "A");
	s2_netb_free(b);
	b = s2_netb_new("x", 0.1, 100, 1);
	a = s2_netb_population(b, "A", "lif_curr_exp", 5, err, sizeof err);
	OK(s2_netb_record(b, a, "volume", NULL, 0, 0, err, sizeof err));
	REFUSE(S2_E_FORMAT, s2_netb_finish(b, &n, err, sizeof err), "volume");
	s2_netb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_same_as_json),
	        cmocka_unit_test(t_errors),
	        cmocka_unit_test(t_finish_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
