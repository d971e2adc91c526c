/*
 * The reference examples against their published definitions, and values the engine cannot
 * hold refused by name.
 *
 * t_microcircuit checks `s2ctl net example microcircuit` (scale 1) against Potjans & Diesmann
 * 2014 (Cereb. Cortex 24:785, Tables 4-5) as the NEST example implements it
 * (pynest/examples/Potjans_2014/network_params.py): the tables are copied here from the paper,
 * not from the generator, and the derived values (synapse counts, the PSC of a 0.15 mV PSP)
 * are computed here from the equations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "net_internal.h"
#include "cmocka_runner.h"
#include "s2/error.h"
#include "s2/image.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"

/* Table 5 of the paper: populations, sizes, external in-degrees, connection probabilities
 * [target][source]. */
static const char *const POP[8] = {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"};
static const double N[8] = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948};
static const double KEXT[8] = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100};
static const double C[8][8] = {{0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0., 0.0076, 0.},
                               {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0., 0.0042, 0.},
                               {0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.},
                               {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0., 0.1057, 0.},
                               {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.},
                               {0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.},
                               {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
                               {0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443}};
/* The NEST example's "optimized" initial voltages (mean, s.d., mV). */
static const double V0M[8] = {-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43};
static const double V0S[8] = {5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48};

static const S2pb__Value *param(const S2pb__Population *p, const char *name, bool state)
{
	size_t n = state ? p->n_initial : p->n_params;
	S2pb__Param **ps = state ? p->initial : p->params;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i]->name, name))
			return ps[i]->value;
	return NULL;
}

static double cparam(const S2pb__Population *p, const char *name)
{
	const S2pb__Value *v = param(p, name, false);
	if (!v || v->kind_case != S2PB__VALUE__KIND_CONSTANT)
		fail_msg("%s: %s is not a constant", p->label, name);
	return v->constant;
}

static void near(double got, double want, double rel, const char *what, const char *who)
{
	if (!(fabs(got - want) <= rel * fabs(want)))
		fail_msg("%s %s: %g, published %g", who, what, got, want);
}

/* Peak of the PSP of a current-based LIF neuron (C pF, tau ms) to a 1 pA exponential current,
 * by a fine search over the analytic response. */
static double psp_per_pa(double cm, double tau_m, double tau_s)
{
	double best = 0;
	for (double t = 0; t < 10 * tau_s + 5; t += 1e-4) {
		double v = 1 / cm * tau_m * tau_s / (tau_m - tau_s) *
		           (exp(-t / tau_m) - exp(-t / tau_s));
		best = v > best ? v : best;
	}
	return best;
}

static void t_microcircuit(void **state)
{
	(void)state;
	char err[512];
	struct s2_net *n = s2_net_example("microcircuit", 1, err, sizeof err);
	assert_non_null(n);
	const S2pb__Network *pb = n->pb;
	assert_true(fabs(pb->timestep_ms - 0.1) < 1e-12);
	assert_int_equal(pb->n_populations, 8);
	double w = 0.15 / psp_per_pa(250, 10, 0.5) / 1000; /* nA of a 0.15 mV PSP: 87.8 pA */
	near(w, 0.0878, 0.001, "PSC of a 0.15 mV PSP", "paper");
	for (int i = 0; i < 8; i++) {
		const S2pb__Population *p = pb->populations[i];
		assert_string_equal(p->label, POP[i]);
		assert_string_equal(p->model, "lif_curr_exp");
		assert_int_equal(p->size, (uint32_t)N[i]);
		/* Table 4: C 250 pF, tau_m 10 ms, tau_syn 0.5 ms, t_ref 2 ms, E_L = V_reset -65 mV,
		 * threshold -50 mV; no DC at full scale */
		near(cparam(p, "cm_nf"), 0.25, 1e-12, "C", POP[i]);
		near(cparam(p, "tau_m_ms"), 10, 1e-12, "tau_m", POP[i]);
		near(cparam(p, "tau_syn_e_ms"), 0.5, 1e-12, "tau_syn_e", POP[i]);
		near(cparam(p, "tau_syn_i_ms"), 0.5, 1e-12, "tau_syn_i", POP[i]);
		near(cparam(p, "tau_refrac_ms"), 2, 1e-12, "t_ref", POP[i]);
		near(cparam(p, "v_rest_mv"), -65, 1e-12, "E_L", POP[i]);
		near(cparam(p, "v_reset_mv"), -65, 1e-12, "V_reset", POP[i]);
		near(cparam(p, "v_thresh_mv"), -50, 1e-12, "threshold", POP[i]);
		const S2pb__Value *dc = param(p, "i_offset_na", false);
		assert_true(!dc || dc->constant == 0);
		/* the drive: K_ext independent 8 Hz trains of the excitatory PSC */
		near(cparam(p, "bg_rate_hz"), 8 * KEXT[i], 1e-12, "external rate", POP[i]);
		near(cparam(p, "bg_weight_na"), w, 2e-4, "external weight", POP[i]);
		const S2pb__Value *v0 = param(p, "v_mv", true);
		assert_non_null(v0);
		assert_int_equal(v0->kind_case, S2PB__VALUE__KIND_RANDOM);
		assert_int_equal(v0->random->kind, S2PB__DISTRIBUTION__KIND__NORMAL);
		near(v0->random->mean, V0M[i], 1e-12, "initial V mean", POP[i]);
		near(v0->random->sd, V0S[i], 1e-12, "initial V s.d.", POP[i]);
	}
	/* every non-zero probability is one projection, and nothing else */
	unsigned want = 0;
	for (int t = 0; t < 8; t++)
		for (int s = 0; s < 8; s++)
			want += C[t][s] > 0;
	assert_int_equal(pb->n_projections, want);
	for (size_t j = 0; j < pb->n_projections; j++) {
		const S2pb__Projection *pj = pb->projections[j];
		int s = -1, t = -1;
		for (int i = 0; i < 8; i++) {
			s = strcmp(pj->pre, POP[i]) ? s : i;
			t = strcmp(pj->post, POP[i]) ? t : i;
		}
		assert_true(s >= 0 && t >= 0 && C[t][s] > 0);
		bool inh = s % 2;
		/* synapse counts: K = log(1 - C) / log(1 - 1 / (N_pre N_post)), multapses */
		double k = log(1 - C[t][s]) / log(1 - 1 / (N[s] * N[t]));
		assert_int_equal(pj->connector_case, S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL);
		assert_true(pj->fixed_total->with_replacement);
		if (fabs((double)pj->fixed_total->n - k) > 0.5)
			fail_msg("%s: %llu synapses, published %.1f", pj->label,
			         (unsigned long long)pj->fixed_total->n, k);
		assert_int_equal(pj->receptor, inh ? S2PB__PROJECTION__RECEPTOR__INHIBITORY
		                                   : S2PB__PROJECTION__RECEPTOR__EXCITATORY);
		/* weights: 0.15 mV PSPs, g = -4, L4E -> L2/3E doubled, relative s.d. 0.1, redrawn
		 * at 0 */
		double wm = inh ? 4 * w : (t == 0 && s == 2 ? 2 * w : w);
		const S2pb__Distribution *wd = pj->weight->random;
		assert_int_equal(pj->weight->kind_case, S2PB__VALUE__KIND_RANDOM);
		assert_int_equal(wd->kind, S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED);
		near(wd->mean, wm, 2e-4, "weight", pj->label);
		near(wd->sd, 0.1 * wm, 2e-4, "weight s.d.", pj->label);
		assert_true(wd->low == 0 && wd->high >= wm + 9 * wd->sd);
		/* delays: 1.5 ms (excitatory) and 0.75 ms (inhibitory), relative s.d. 0.5, redrawn
		 * below half a step (0.05 ms) and rounded to the 0.1 ms grid, as the INM-6 PyNEST
		 * model (network.py: min = resolution - 0.5 resolution) */
		double dm = inh ? 0.75 : 1.5;
		const S2pb__Distribution *dd = pj->delay->random;
		assert_int_equal(dd->kind, S2PB__DISTRIBUTION__KIND__NORMAL_CLIPPED);
		near(dd->mean, dm, 1e-12, "delay", pj->label);
		near(dd->sd, 0.5 * dm, 1e-12, "delay s.d.", pj->label);
		near(dd->low, 0.05, 1e-12, "least delay", pj->label);
	}
	s2_net_free(n);
}

/* The generator's tables are the paper's (the DC compensation of scaled runs uses them). */
static void t_microcircuit_tables(void **state)
{
	(void)state;
	for (int t = 0; t < 8; t++) {
		near(S2_MC_N[t], N[t], 0, "N", POP[t]);
		near(S2_MC_K_EXT[t], KEXT[t], 0, "K_ext", POP[t]);
		for (int s = 0; s < 8; s++)
			assert_true(S2_MC_P[t][s] == C[t][s]);
	}
	near(s2_mc_psc_per_psp(250, 10, 0.5), 1 / psp_per_pa(250, 10, 0.5), 1e-4, "PSC/PSP", "");
}

/* Map a network written as JSON onto one board and write its image: 0 or the error. */
static int map_json(const char *json, char *err, size_t errlen)
{
	struct s2_net *n = s2_net_from_json(json, strlen(json), err, errlen);
	if (!n)
		return S2_E_FORMAT;
	struct s2_machine *m = s2_machine_new_boards(1, "h", 0);
	struct s2_map_config cfg = {0};
	struct s2_mapping *mp = s2_map_new(n, m, &cfg);
	char path[1024];
	int fd = s2t_mkstemp(path, sizeof path, "s2_examples_");
	assert_true(fd >= 0);
	close(fd);
	int rc = s2_map_run(mp, err, errlen);
	if (rc == 0)
		rc = s2_image_write(mp, path, err, errlen);
	unlink(path);
	s2_map_free(mp);
	s2_machine_free(m);
	s2_net_free(n);
	return rc;
}

#define NET_HEAD                                                                              \
	"{\"format\": 1, \"name\": \"t\", \"timestep_ms\": 0.1, \"run_ms\": 10, \"seed\": 1," \
	" \"populations\": [{\"label\": \"src\", \"size\": 10, \"model\": "                   \
	"\"spike_source_poisson\", \"params\": {\"rate_hz\": %s}},"                           \
	" {\"label\": \"Tgt\", \"size\": 10, \"model\": \"lif_curr_exp\"}],"                  \
	" \"projections\": [{\"pre\": \"src\", \"post\": \"Tgt\", \"connector\": {\"type\": " \
	"\"fixed_probability\", \"p\": 0.5}, \"weight\": %s, \"delay\": %s},"                 \
	" {\"pre\": \"src\", \"post\": \"Tgt\", \"connector\": {\"type\": \"one_to_one\"}, "  \
	"\"weight\": %s}]}"

static int try_net(const char *rate, const char *w, const char *d, const char *w2, char *err,
                   size_t errlen)
{
	char json[2048];
	snprintf(json, sizeof json, NET_HEAD, rate, w, d, w2);
	return map_json(json, err, errlen);
}

static void expect_refused(int rc, const char *err, const char *want1, const char *want2)
{
	if (rc == 0)
		fail_msg("accepted; expected an error naming '%s'", want1);
	if (!strstr(err, want1) || !strstr(err, want2))
		fail_msg("error '%s' does not name '%s' and '%s'", err, want1, want2);
}

static void t_refused(void **state)
{
	(void)state;
	char err[512] = "";
	/* representable: mapped */
	assert_int_equal(try_net("20", "0.5", "1", "0.5", err, sizeof err), 0);
	/* a source above one spike per step */
	expect_refused(try_net("12000", "0.5", "1", "0.5", err, sizeof err), err,
	               "populations[0] (src)", "rate_hz 12000");
	/* a weight that rounds to zero units beside a large one into the same receptor */
	expect_refused(try_net("20", "0.00001", "1", "200", err, sizeof err), err, "Tgt",
	               "weights cannot be represented");
	/* a normal_clipped delay clipped where the engine does not (low 0.5 ms, high 0.6 ms) */
	expect_refused(
	        try_net("20", "0.5",
	                "{\"dist\": \"normal_clipped\", \"mean\": 0.55, \"sd\": 0.3, \"low\": "
	                "0.5, \"high\": 0.6}",
	                "0.5", err, sizeof err),
	        err, "Tgt", "delays cannot be represented");
	/* a constant delay beyond the synaptic word's 256 steps: refused, naming both
	 * populations */
	expect_refused(try_net("20", "0.5", "30", "0.5", err, sizeof err), err, "src -> Tgt",
	               "delay: 30 is outside 0.1 to 25.6");
	/* 100 steps: mapped, on PEs of at most 64 neurons (pedata.h s2_pe_max_delay) */
	assert_int_equal(try_net("20", "0.5", "10", "0.5", err, sizeof err), 0);
	/* normal_clipped weights clipped where the engine does not (0.4 to 0.6 nA) */
	expect_refused(try_net("20",
	                       "{\"dist\": \"normal_clipped\", \"mean\": 0.5, \"sd\": 0.3, "
	                       "\"low\": 0.4, \"high\": 0.6}",
	                       "1", "0.5", err, sizeof err),
	               err, "into population Tgt", "weights cannot be represented");
	/* the same clipped at the engine's own bounds: mapped */
	assert_int_equal(try_net("20", "0.5",
	                         "{\"dist\": \"normal_clipped\", \"mean\": 1.5, \"sd\": 0.75, "
	                         "\"low\": 0.1, \"high\": 6.4}",
	                         "0.5", err, sizeof err),
	                 0);
	/* redrawn below half a step (NEST's microcircuit, 0.75 ms inhibitory delays): mapped,
	 * the engine redrawing below half a step too */
	assert_int_equal(try_net("20", "0.5",
	                         "{\"dist\": \"normal_clipped\", \"mean\": 0.75, \"sd\": "
	                         "0.375, \"low\": 0.05, \"high\": 6.4}",
	                         "0.5", err, sizeof err),
	                 0);
	/* between the engine's two bounds (0.08 ms): 0.45 % redrawn elsewhere, refused */
	expect_refused(try_net("20", "0.5",
	                       "{\"dist\": \"normal_clipped\", \"mean\": 0.75, \"sd\": 0.375, "
	                       "\"low\": 0.08, \"high\": 6.4}",
	                       "0.5", err, sizeof err),
	               err, "Tgt", "delays cannot be represented");
	/* a list weight that rounds to zero units beside a large one */
	const char *lst = "{\"format\": 1, \"name\": \"t\", \"timestep_ms\": 0.1, \"run_ms\": 10,"
	                  " \"populations\": [{\"label\": \"a\", \"size\": 2, \"model\": "
	                  "\"spike_source_array\", \"spike_times\": [[1], [2]]}, {\"label\": "
	                  "\"Lst\", \"size\": 2, \"model\": "
	                  "\"lif_curr_exp\"}], \"projections\": [{\"pre\": \"a\", \"post\": "
	                  "\"Lst\", \"connector\": {\"type\": \"from_list\", \"pre\": [0, 1], "
	                  "\"post\": [0, 1], \"weight\": [100, 0.000001]}}]}";
	expect_refused(map_json(lst, err, sizeof err), err, "into population Lst",
	               "entry 1 rounds to zero");
	/* a background input given per neuron: refused (one rate per population) */
	const char *bg = "{\"format\": 1, \"name\": \"t\", \"timestep_ms\": 0.1, \"run_ms\": 10,"
	                 " \"populations\": [{\"label\": \"E\", \"size\": 2, \"model\": "
	                 "\"lif_curr_exp\", \"params\": {\"bg_rate_hz\": [1, 2]}}]}";
	expect_refused(map_json(bg, err, sizeof err), err, "populations[0] (E)", "bg_rate_hz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_microcircuit),
	        cmocka_unit_test(t_microcircuit_tables),
	        cmocka_unit_test(t_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
