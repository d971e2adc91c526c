/*
 * s2fw-run: run one application PE of the firmware engine (host build) from a description
 * on the command line, or write the PE data and input files that fw_engine_run (the QEMU
 * build) reads. For single-neuron experiments, reference comparisons and the bit-identity
 * test (docs/engine.md).
 *
 *   s2fw-run --model lif_curr_exp --n 1 --param tau_m=10 --current 10:0:1.5 --duration 100
 *   s2fw-run ... --syn 0:0:0.5:1.0:exc --input 5.0:0   (external source 0 spikes at 5 ms)
 *   s2fw-run ... --connect fixed_prob:p=0.1:n_pre=200:w=0.3:d=1:seed=7 --input 1:c17
 *     (--connect fields: p, n, n_pre, w, w_sd (normal), d (ms), d_hi (uniform d..d_hi), d_sd
 *     (normal redrawn below one step), d_half=1 (redrawn below half a step instead), seed,
 *     inh, replace)
 *   s2fw-run ... --write-dir DIR      (pedata.bin + input.bin for fw_engine_run)
 * Output (stdout): one line per spike "spike T_MS NEURON", then with --record-v one line per
 * step "v T_MS V0 V1 ...", then "counters ..."; --json prints one JSON object instead.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pdbuild.h"
#include "s2/error.h"
#include "s2/pedata.h"
#include "s2/wire.h"

#define SRC_KEY 0x10000000u /* external sources: key SRC_KEY + index */
#define EXP_KEY 0x20000000u /* the source slice of --connect */
#define DRAM_BASE (1u << 20)
#define DRAM_SIZE (11u << 20)
#define MAX_EVENTS 65536

struct syn {
	unsigned src, dst, receptor;
	double w, delay_ms;
};
struct event {
	double t_ms;
	unsigned a;
	double v;
};

static struct {
	unsigned model, n, seed;
	double dt_ms, duration_ms;
	double params[S2_PE_PARAMS];
	bool param_set[S2_PE_PARAMS];
	double init_v, init_u;
	bool init_v_set;
	struct event inputs[MAX_EVENTS], currents[MAX_EVENTS], spikes[MAX_EVENTS];
	unsigned n_inputs, n_currents, n_spikes;
	struct syn syns[MAX_EVENTS];
	unsigned n_syns;
	struct s2_pe_expand expand[4];
	unsigned n_expand;
	unsigned record_v[S2_PE_MAX_RECORD_V], n_record_v;
	const char *write_dir;
	bool json;
	double bg_rate, bg_w;       /* background Poisson input (--bg) */
	unsigned pl_kind, pl_flags; /* --plastic: a rule for the --syn rows (0: none) */
	float pl_p[8];
} O = {.model = S2_MODEL_LIF_CURR_EXP, .n = 1, .seed = 1, .dt_ms = 0.1, .duration_ms = 100};

static const struct model_info {
	const char *name;
	unsigned model;
	const char *params[S2_PE_PARAMS];
	double defaults[S2_PE_PARAMS];
	double v0;
} models[] = {
        /* PyNN's defaults for IF_curr_exp, IF_cond_exp, Izhikevich. */
        {"lif_curr_exp",
         S2_MODEL_LIF_CURR_EXP,
         {"v_rest", "v_reset", "v_thresh", "tau_m", "cm", "tau_refrac", "tau_syn_E", "tau_syn_I",
          "i_offset"},
         {-65, -65, -50, 20, 1, 0.1, 5, 5, 0},
         -65},
        {"lif_cond_exp",
         S2_MODEL_LIF_COND_EXP,
         {"v_rest", "v_reset", "v_thresh", "tau_m", "cm", "tau_refrac", "tau_syn_E", "tau_syn_I",
          "i_offset", "e_rev_E", "e_rev_I"},
         {-65, -65, -50, 20, 1, 0.1, 5, 5, 0, 0, -70},
         -65},
        {"izhikevich",
         S2_MODEL_IZHIKEVICH,
         {"a", "b", "c", "d", "i_offset"},
         {0.02, 0.2, -65, 2, 0},
         -70},
        {"lif_curr_delta",
         S2_MODEL_LIF_CURR_DELTA,
         {"v_rest", "v_reset", "v_thresh", "tau_m", "cm", "tau_refrac", "tau_syn_E", "tau_syn_I",
          "i_offset"},
         {-65, -65, -50, 20, 1, 0.1, 5, 5, 0},
         -65},
        /* PyNN's HH_cond_exp (firmware/engine/hh.h; e_rev_K -90 mV in PARAMS2) */
        {"hh_cond_exp",
         S2_MODEL_HH_COND_EXP,
         {"e_rev_leak", "v_offset", "gbar_Na", "gbar_K", "cm", "g_leak", "tau_syn_E", "tau_syn_I",
          "i_offset", "e_rev_E", "e_rev_I", "e_rev_Na"},
         {-65, -63, 20, 6, 0.2, 0.01, 0.2, 2, 0, 0, -80, 50},
         -65},
        /* PyNN's IF_cond_exp_gsfa_grr (firmware/engine/lif_sfa.h; PARAMS2 at PyNN's
         * defaults: e_rev_sfa -75 mV, q_sfa 15 nS, tau_rr 2 ms, e_rev_rr -75 mV, q_rr 3000 nS) */
        {"lif_cond_exp_gsfa_grr",
         S2_MODEL_LIF_COND_SFA,
         {"v_rest", "v_reset", "v_thresh", "tau_m", "cm", "tau_refrac", "tau_syn_E", "tau_syn_I",
          "i_offset", "e_rev_E", "e_rev_I", "tau_sfa"},
         {-65, -65, -50, 20, 1, 0.1, 5, 5, 0, 0, -70, 100},
         -65},
        {"poisson", S2_MODEL_POISSON, {"rate", "start", "duration"}, {1, 0, 0}, 0},
        {"spike_array", S2_MODEL_SPIKE_ARRAY, {0}, {0}, 0},
};

static const struct model_info *model_info(void)
{
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		if (models[i].model == O.model)
			return &models[i];
	return &models[0];
}

__attribute__((format(printf, 1, 2))) static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("s2fw-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		die("%s: '%s' is not a number", what, s);
	return v;
}

/* Split "a:b:c" in place into up to n fields; returns the count. */
static unsigned fields(char *s, char **f, unsigned n)
{
	unsigned k = 0;
	while (k < n) {
		f[k++] = s;
		char *c = strchr(s, ':');
		if (!c)
			break;
		*c = 0;
		s = c + 1;
	}
	return k;
}

static void opt_param(char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq)
		die("--param: '%s' is not NAME=VALUE", arg);
	*eq = 0;
	const struct model_info *m = model_info();
	for (unsigned i = 0; i < S2_PE_PARAMS && m->params[i]; i++)
		if (!strcmp(m->params[i], arg)) {
			O.params[i] = num(eq + 1, arg);
			O.param_set[i] = true;
			return;
		}
	die("--param: model %s has no parameter '%s'", m->name, arg);
}

/* --plastic KIND:NAME=V:...: the rule of the --syn rows (pedata.h, PLASTIC). */
static void opt_plastic(char *arg)
{
	static const char *const kinds[] = {"", "stdp_add", "stdp_mult", "tm", "vogels"};
	static const char *const names[5][6] = {
	        {0},
	        {"w_min", "w_max", "tau_plus", "tau_minus", "A_plus", "A_minus"},
	        {"w_min", "w_max", "tau_plus", "tau_minus", "A_plus", "A_minus"},
	        {"U", "tau_rec", "tau_facil", "tau_psc"},
	        {"w_min", "w_max", "tau", "eta", "rho"}};
	static const float defaults[5][6] = {{0},
	                                     {0, 1, 20, 20, 0.01f, 0.01f},
	                                     {0, 1, 20, 20, 0.01f, 0.01f},
	                                     {0.5f, 100, 0, 0},
	                                     {0, 1, 20, 1e-10f, 3}};
	char *tok = strtok(arg, ":");
	O.pl_kind = 0;
	for (unsigned k = 1; k < 5 && tok; k++)
		if (!strcmp(tok, kinds[k]))
			O.pl_kind = k;
	if (!O.pl_kind)
		die("--plastic: stdp_add, stdp_mult, tm or vogels");
	memcpy(O.pl_p, defaults[O.pl_kind], sizeof defaults[0]);
	while ((tok = strtok(NULL, ":"))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			die("--plastic: '%s' is not NAME=VALUE", tok);
		*eq = 0;
		if (!strcmp(tok, "dendritic")) {
			O.pl_flags = num(eq + 1, tok) != 0 ? S2_PL_F_DENDRITIC : 0;
			continue;
		}
		unsigned i = 0;
		while (i < 6 && names[O.pl_kind][i] && strcmp(names[O.pl_kind][i], tok))
			i++;
		if (i == 6 || !names[O.pl_kind][i])
			die("--plastic: rule %s has no parameter '%s'", kinds[O.pl_kind], tok);
		O.pl_p[i] = (float)num(eq + 1, tok);
	}
}

static void opt_connect(char *arg)
{
	if (O.n_expand == sizeof O.expand / sizeof O.expand[0])
		die("--connect: at most 4");
	struct s2_pe_expand *x = &O.expand[O.n_expand];
	memset(x, 0, sizeof *x);
	static const char *const conns[] = {"",           "all_to_all",        "one_to_one",
	                                    "fixed_prob", "fixed_number_post", "fixed_number_pre",
	                                    "fixed_total"};
	char *f[16];
	unsigned k = fields(arg, f, 16);
	for (unsigned c = 1; c < 7; c++)
		if (!strcmp(f[0], conns[c]))
			x->connector = (uint8_t)c;
	if (!x->connector)
		die("--connect: unknown connector '%s'", f[0]);
	x->key_lo = EXP_KEY + ((uint32_t)O.n_expand << 16);
	x->n_keys = 1u << 16;
	x->part_bits = 16;
	x->n_pre = 100;
	x->w_a = 1;
	x->d_a = 1;
	x->seed = 1;
	for (unsigned i = 1; i < k; i++) {
		char *eq = strchr(f[i], '=');
		if (!eq)
			die("--connect: '%s' is not NAME=VALUE", f[i]);
		*eq = 0;
		double v = num(eq + 1, f[i]);
		if (!strcmp(f[i], "p"))
			x->p = (float)v;
		else if (!strcmp(f[i], "n"))
			x->n = (uint32_t)v;
		else if (!strcmp(f[i], "n_pre"))
			x->n_pre = (uint32_t)v;
		else if (!strcmp(f[i], "w"))
			x->w_a = (float)v;
		else if (!strcmp(f[i], "w_sd")) {
			x->w_b = (float)v;
			x->w_dist = S2_DIST_NORMAL;
		} else if (!strcmp(f[i], "d"))
			x->d_a = (float)v;
		else if (!strcmp(f[i], "d_hi")) {
			x->d_b = (float)v;
			x->d_dist = S2_DIST_UNIFORM;
		} else if (!strcmp(f[i], "d_sd")) { /* normal, redrawn below one step */
			x->d_b = (float)v;
			x->d_dist = S2_DIST_NORMAL_POS;
		} else if (!strcmp(f[i], "d_half")) /* ... or below half a step */
			x->flags = (uint8_t)(v != 0 ? x->flags | S2_EXP_F_DELAY_HALF
			                            : x->flags & ~S2_EXP_F_DELAY_HALF);
		else if (!strcmp(f[i], "seed"))
			x->seed = (uint32_t)v;
		else if (!strcmp(f[i], "inh"))
			x->receptor = v != 0;
		else if (!strcmp(f[i], "replace"))
			x->flags = (uint8_t)(v != 0 ? x->flags | S2_EXP_F_REPLACE
			                            : x->flags & ~S2_EXP_F_REPLACE);
		else
			die("--connect: unknown field '%s'", f[i]);
	}
	if (x->n_pre < 1 || x->n_pre > 65535)
		die("--connect: n_pre 1..65535");
	x->pre_total = x->n_pre;
	x->per_part = (uint16_t)x->n_pre;
	O.n_expand++;
}

static void parse(int argc, char **argv)
{
	enum {
		O_MODEL = 256,
		O_N,
		O_DT,
		O_DUR,
		O_PARAM,
		O_CUR,
		O_IN,
		O_SYN,
		O_CONN,
		O_REC,
		O_SEED,
		O_WRITE,
		O_JSON,
		O_V0,
		O_SPIKE,
		O_BG,
		O_PLASTIC
	};
	static const struct option opts[] = {{"model", required_argument, 0, O_MODEL},
	                                     {"n", required_argument, 0, O_N},
	                                     {"dt", required_argument, 0, O_DT},
	                                     {"duration", required_argument, 0, O_DUR},
	                                     {"param", required_argument, 0, O_PARAM},
	                                     {"current", required_argument, 0, O_CUR},
	                                     {"input", required_argument, 0, O_IN},
	                                     {"syn", required_argument, 0, O_SYN},
	                                     {"connect", required_argument, 0, O_CONN},
	                                     {"record-v", required_argument, 0, O_REC},
	                                     {"seed", required_argument, 0, O_SEED},
	                                     {"write-dir", required_argument, 0, O_WRITE},
	                                     {"json", no_argument, 0, O_JSON},
	                                     {"v0", required_argument, 0, O_V0},
	                                     {"spike", required_argument, 0, O_SPIKE},
	                                     {"bg", required_argument, 0, O_BG},
	                                     {"plastic", required_argument, 0, O_PLASTIC},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	/* The model first: parameter names depend on it. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--model")) {
			bool found = false;
			for (size_t k = 0; k < sizeof models / sizeof models[0]; k++)
				if (!strcmp(models[k].name, argv[i + 1])) {
					O.model = models[k].model;
					found = true;
				}
			if (!found)
				die("--model: unknown model '%s'", argv[i + 1]);
		}
	int c;
	char *f[6];
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_MODEL:
			break;
		case O_N:
			O.n = (unsigned)num(optarg, "--n");
			if (O.n < 1 || O.n > S2_PE_MAX_NEURONS)
				die("--n: 1..%u neurons on one PE", S2_PE_MAX_NEURONS);
			break;
		case O_DT:
			O.dt_ms = num(optarg, "--dt");
			if (!(O.dt_ms * 1000.0 >= S2_PE_DT_US_MIN &&
			      O.dt_ms * 1000.0 <= S2_PE_DT_US_MAX) ||
			    fabs(O.dt_ms * 1000.0 - floor(O.dt_ms * 1000.0 + 0.5)) > 1e-6)
				die("--dt: whole microseconds from 0.01 to 10 ms");
			break;
		case O_DUR:
			O.duration_ms = num(optarg, "--duration");
			break;
		case O_PARAM:
			opt_param(optarg);
			break;
		case O_V0:
			O.init_v = num(optarg, "--v0");
			O.init_v_set = true;
			break;
		case O_CUR:
			if (fields(optarg, f, 3) != 3 || O.n_currents == MAX_EVENTS)
				die("--current: T_MS:NEURON:NA");
			O.currents[O.n_currents++] =
			        (struct event){num(f[0], "time"), (unsigned)num(f[1], "neuron"),
			                       num(f[2], "current")};
			break;
		case O_IN:
			if (fields(optarg, f, 2) != 2 || O.n_inputs == MAX_EVENTS)
				die("--input: T_MS:SOURCE");
			/* "c17": neuron 17 of the --connect source slice. */
			O.inputs[O.n_inputs++] = (struct event){
			        num(f[0], "time"),
			        f[1][0] == 'c' ? 0x10000u + (unsigned)num(f[1] + 1, "source")
			                       : (unsigned)num(f[1], "source"),
			        0};
			break;
		case O_SPIKE:
			if (fields(optarg, f, 2) != 2 || O.n_spikes == MAX_EVENTS)
				die("--spike: T_MS:NEURON");
			O.spikes[O.n_spikes++] =
			        (struct event){num(f[0], "time"), (unsigned)num(f[1], "neuron"), 0};
			break;
		case O_SYN:
			if (fields(optarg, f, 5) != 5 || O.n_syns == MAX_EVENTS)
				die("--syn: SOURCE:NEURON:WEIGHT:DELAY_MS:exc|inh");
			O.syns[O.n_syns++] = (struct syn){
			        (unsigned)num(f[0], "source"), (unsigned)num(f[1], "neuron"),
			        !strcmp(f[4], "inh"), num(f[2], "weight"), num(f[3], "delay")};
			break;
		case O_CONN:
			opt_connect(optarg);
			break;
		case O_PLASTIC:
			opt_plastic(optarg);
			break;
		case O_BG:
			if (fields(optarg, f, 2) != 2)
				die("--bg: RATE_HZ:WEIGHT");
			O.bg_rate = num(f[0], "--bg rate");
			O.bg_w = num(f[1], "--bg weight");
			if (!(O.bg_rate >= 0 && O.bg_rate <= 1e7 && O.bg_w >= 0 && O.bg_w <= 1e3))
				die("--bg: rate 0-1e7 Hz, weight 0-1000");
			break;
		case O_REC: {
			char *s = optarg, *tok;
			while ((tok = strtok(s, ",")) && O.n_record_v < S2_PE_MAX_RECORD_V) {
				O.record_v[O.n_record_v++] = (unsigned)num(tok, "--record-v");
				s = NULL;
			}
			break;
		}
		case O_SEED:
			O.seed = (unsigned)num(optarg, "--seed");
			break;
		case O_WRITE:
			O.write_dir = optarg;
			break;
		case O_JSON:
			O.json = true;
			break;
		case 'h':
			puts("usage: s2fw-run [--model M] [--n N] [--dt MS] [--duration MS]\n"
			     "  [--param NAME=V]... [--v0 MV] [--current T:NEURON:NA]...\n"
			     "  [--syn SRC:NEURON:W:DELAY_MS:exc|inh]... [--input T:SRC]...\n"
			     "  [--spike T:NEURON]... (spike_array) [--connect CONN:k=v:...]...\n"
			     "  [--record-v I,J,...] [--seed N] [--write-dir DIR] [--json]\n"
			     "  [--bg RATE_HZ:WEIGHT] (LIF: background Poisson input per neuron)\n"
			     "  [--plastic stdp_add|stdp_mult|tm|vogels:NAME=V:...] (the --syn "
			     "rows;\n"
			     "   dendritic=1: dendritic delay; prints the learned weights)\n"
			     "models: lif_curr_exp lif_cond_exp lif_curr_delta izhikevich "
			     "hh_cond_exp\n"
			     "        lif_cond_exp_gsfa_grr poisson spike_array\n"
			     "       s2fw-run image IMAGE ... (docs/engine.md)\n"
			     "       s2fw-run connections IMAGE -o FILE (the synapses the PEs "
			     "make)");
			exit(0);
		default:
			die("unknown option (see --help)");
		}
	}
	for (unsigned i = 0; i < O.n_record_v; i++)
		if (O.record_v[i] >= O.n)
			die("--record-v: neuron %u does not exist", O.record_v[i]);
}

static unsigned to_step(double t_ms)
{
	return (unsigned)floor(t_ms / O.dt_ms + 0.5);
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

/* Weight units: the largest |weight| of a receptor maps to 60000. */
static double w_scale(unsigned receptor)
{
	double m = 0;
	for (unsigned i = 0; i < O.n_syns; i++)
		if (O.syns[i].receptor == receptor && fabs(O.syns[i].w) > m)
			m = fabs(O.syns[i].w);
	if (O.pl_kind && O.pl_kind != S2_PL_TM && O.pl_p[1] > m) /* weights grow up to w_max */
		for (unsigned i = 0; i < O.n_syns; i++)
			if (O.syns[i].receptor == receptor)
				m = O.pl_p[1];
	return m > 0 ? m / 4000.0 : 1.0 / 1000.0; /* headroom: 16 coincident maximal inputs */
}

static uint8_t *build(size_t *len)
{
	const struct model_info *mi = model_info();
	struct pdb b;
	double we = w_scale(0), wi = w_scale(1);
	/* The --connect weights are in weight units of the receptor's scale. */
	for (unsigned i = 0; i < O.n_expand; i++) {
		struct s2_pe_expand *x = &O.expand[i];
		double sc = x->receptor ? wi : we;
		x->w_a = (float)(x->w_a / sc);
		x->w_b = (float)(x->w_b / sc);
		x->d_a = (float)(x->d_a / O.dt_ms);
		x->d_b = (float)(x->d_b / O.dt_ms);
		x->post_total = O.n;
	}
	pdb_init(&b, O.model, O.n, (unsigned)floor(O.dt_ms * 1000.0 + 0.5), 0x00000100u, O.seed,
	         (float)we, (float)wi, DRAM_BASE, DRAM_SIZE);
	if (O.bg_rate > 0) {
		b.h.bg_rate_hz = (float)O.bg_rate;
		b.h.bg_weight = (float)O.bg_w;
	}
	pdb_begin(&b, S2_SECT_PARAMS);
	for (unsigned i = 0; i < O.n; i++)
		for (unsigned j = 0; j < S2_PE_PARAMS; j++)
			pdb_f32(&b, (float)(O.param_set[j] ? O.params[j] : mi->defaults[j]));
	pdb_end(&b);
	if (O.model == S2_MODEL_HH_COND_EXP || O.model == S2_MODEL_LIF_COND_SFA) { /* shared */
		static const float hh2[S2_PE_PARAMS2] = {-90.0f};                  /* e_rev_K */
		static const float sfa2[S2_PE_PARAMS2] = {-75.0f, 15.0f, 2.0f, -75.0f, 3000.0f};
		pdb_begin(&b, S2_SECT_PARAMS2);
		for (unsigned j = 0; j < S2_PE_PARAMS2; j++)
			pdb_f32(&b, O.model == S2_MODEL_HH_COND_EXP ? hh2[j] : sfa2[j]);
		pdb_end(&b);
	}
	pdb_begin(&b, S2_SECT_STATE);
	for (unsigned i = 0; i < O.n; i++) {
		double v0 = O.init_v_set ? O.init_v : mi->v0;
		double u0 = O.model == S2_MODEL_IZHIKEVICH ? -14.0 : 0; /* PyNN's default u */
		pdb_f32(&b, (float)v0);
		pdb_f32(&b, (float)u0);
		pdb_f32(&b, 0);
		pdb_f32(&b, 0);
	}
	pdb_end(&b);
	if (O.n_record_v) {
		pdb_set_record_v(&b, O.n_record_v);
		pdb_begin(&b, S2_SECT_RECORD_V);
		for (unsigned i = 0; i < O.n_record_v; i++)
			s2_st16(pdb_grow(&b, 2), (uint16_t)O.record_v[i]);
		pdb_end(&b);
	}
	if (O.n_syns) {
		/* One row per external source 0..max, stride = longest row + 1. */
		unsigned n_src = 0, longest = 0;
		for (unsigned i = 0; i < O.n_syns; i++)
			if (O.syns[i].src + 1 > n_src)
				n_src = O.syns[i].src + 1;
		if (n_src > 256)
			die("--syn: external sources 0..255");
		for (unsigned r = 0; r < n_src; r++) {
			unsigned k = 0;
			for (unsigned i = 0; i < O.n_syns; i++)
				k += O.syns[i].src == r;
			if (k > longest)
				longest = k;
		}
		pdb_begin(&b, S2_SECT_ROWS);
		pdb_u32(&b, SRC_KEY);
		pdb_u32(&b, 256);             /* keys SRC_KEY + 0..255 */
		pdb_u32(&b, 8u | 256u << 16); /* part_bits 8, per_part 256: one part */
		pdb_u32(&b, n_src);
		pdb_u32(&b, longest + 1);
		for (unsigned r = 0; r < n_src; r++) {
			uint8_t *row = pdb_grow(&b, (longest + 1) * 4u);
			unsigned k = 0;
			for (unsigned i = 0; i < O.n_syns; i++) {
				const struct syn *y = &O.syns[i];
				if (y->src != r)
					continue;
				if (y->dst >= O.n)
					die("--syn: neuron %u does not exist", y->dst);
				unsigned d = to_step(y->delay_ms);
				if (d < 1 || d > s2_pe_max_delay(O.n))
					die("--syn: delay %g ms is not 1..%u timesteps (%u "
					    "neurons)",
					    y->delay_ms, s2_pe_max_delay(O.n), O.n);
				double sc = y->receptor ? wi : we;
				if (O.pl_kind && O.pl_kind != S2_PL_TM) /* pedata.h */
					sc = O.pl_p[1] / S2_PL_WORD_ONE;
				unsigned w = (unsigned)floor(fabs(y->w) / sc + 0.5);
				s2_st32(row + 4 * ++k, s2_syn_word(y->dst, y->receptor, d, w));
			}
			s2_st32(row, k);
		}
		pdb_end(&b);
	}
	if (O.pl_kind && O.n_syns) { /* the --syn rows are key-table entry 0 */
		pdb_begin(&b, S2_SECT_PLASTIC);
		uint8_t *p = pdb_grow(&b, S2_PE_PLASTIC_LEN);
		memset(p, 0, S2_PE_PLASTIC_LEN);
		p[0] = (uint8_t)O.pl_kind;
		p[1] = (uint8_t)O.pl_flags;
		for (unsigned k = 0; k < 8; k++)
			memcpy(p + 8 + 4 * k, &O.pl_p[k], 4);
		pdb_end(&b);
	}
	if (O.n_expand) {
		pdb_begin(&b, S2_SECT_EXPAND);
		for (unsigned i = 0; i < O.n_expand; i++)
			s2_pedata_expand_encode(pdb_grow(&b, S2_PE_EXPAND_LEN), &O.expand[i]);
		pdb_end(&b);
	}
	if (O.n_spikes) {
		qsort(O.spikes, O.n_spikes, sizeof O.spikes[0], cmp_event);
		pdb_begin(&b, S2_SECT_SPIKES);
		for (unsigned i = 0; i < O.n_spikes; i++) {
			uint8_t *p = pdb_grow(&b, 8);
			s2_st32(p, to_step(O.spikes[i].t_ms));
			s2_st16(p + 4, (uint16_t)O.spikes[i].a);
		}
		pdb_end(&b);
	}
	if (O.n_currents) {
		qsort(O.currents, O.n_currents, sizeof O.currents[0], cmp_event);
		pdb_begin(&b, S2_SECT_CURRENT);
		for (unsigned i = 0; i < O.n_currents; i++) {
			uint8_t *p = pdb_grow(&b, 12);
			s2_st32(p, to_step(O.currents[i].t_ms));
			s2_st16(p + 4, (uint16_t)O.currents[i].a);
			float a = (float)O.currents[i].v;
			memcpy(p + 8, &a, 4);
		}
		pdb_end(&b);
	}
	return pdb_finish(&b, len);
}

/* input.bin: the external spikes as (step, key), sorted. */
static uint8_t *build_input(unsigned steps, size_t *len)
{
	qsort(O.inputs, O.n_inputs, sizeof O.inputs[0], cmp_event);
	uint8_t *in = malloc(12 + 8u * O.n_inputs);
	if (!in)
		die("out of memory");
	s2_st32(in, 0x4E493253u);
	s2_st32(in + 4, steps);
	s2_st32(in + 8, O.n_inputs);
	for (unsigned i = 0; i < O.n_inputs; i++) {
		unsigned a = O.inputs[i].a;
		uint32_t key = a >= 0x10000 ? EXP_KEY + (a - 0x10000) : SRC_KEY + a;
		s2_st32(in + 12 + 8 * i, to_step(O.inputs[i].t_ms));
		s2_st32(in + 16 + 8 * i, key);
	}
	*len = 12 + 8u * O.n_inputs;
	return in;
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die("%s: cannot write: %s", path, strerror(errno));
}

/* --- running on the host -------------------------------------------------------------- */

int va_main(int argc, char **argv);          /* va.c */
int image_main(int argc, char **argv);       /* image_run.c */
int connections_main(int argc, char **argv); /* connections.c */

static uint8_t *dram;
static uint8_t *rec[2];
static size_t rec_len[2], rec_cap[2];

static int h_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx;
	if (addr < DRAM_BASE || len > DRAM_BASE + DRAM_SIZE - addr)
		return S2_E_RANGE;
	memcpy(dst, dram + (addr - DRAM_BASE), len);
	return 0;
}

static int h_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx;
	if (addr < DRAM_BASE || len > DRAM_BASE + DRAM_SIZE - addr)
		return S2_E_RANGE;
	memcpy(dram + (addr - DRAM_BASE), src, len);
	return 0;
}

static void h_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	(void)key;
	(void)payload;
}

static void h_record(void *ctx, unsigned s, const void *data, uint32_t len)
{
	(void)ctx;
	if (rec_len[s] + len > rec_cap[s]) {
		rec_cap[s] = (rec_len[s] + len) * 2;
		rec[s] = realloc(rec[s], rec_cap[s]);
		if (!rec[s])
			die("out of memory");
	}
	memcpy(rec[s] + rec_len[s], data, len);
	rec_len[s] += len;
}

struct wctx {
	uint32_t row;
	bool *first;
};

static void weight_out(void *ctx, uint32_t word, float w)
{
	struct wctx *x = ctx;
	if (O.json)
		printf("%s[%u,%u,%.9g]", *x->first ? "" : ",", x->row, s2_syn_neuron(word),
		       (double)w);
	else
		printf("weight %u %u %.9g\n", x->row, s2_syn_neuron(word), (double)w);
	*x->first = false;
}

/* The learned weights of the --syn rows (entry 0), by source and neuron, and the
 * plasticity counters. */
static void print_weights(struct s2_eng *e)
{
	bool first = true;
	if (O.json)
		printf("\"weights\":[");
	for (unsigned k = 0; k < e->n_table; k++) {
		const struct s2_eng_entry *t = &e->table[k];
		if (!t->plastic)
			continue;
		for (uint32_t r = 0; r < t->n_rows; r++) {
			uint32_t iw;
			if (h_read(NULL, t->index + r * 4u, &iw, 4) < 0)
				die("plasticity: a row out of DRAM");
			uint32_t n = iw & 0x7FFu;
			if (n > S2_PE_ROW_MAX ||
			    h_read(NULL, t->data + (iw >> 11) * 4u, e->row, n * 4u))
				die("plasticity: a row out of DRAM");
			struct wctx x = {r, &first};
			if (s2_plastic_row_decode(&e->pl.r[t->plastic - 1u], e->pd.w_scale_e,
			                          e->pd.w_scale_i, e->row, n, weight_out, &x) < 0)
				die("plasticity: a malformed row");
		}
	}
	const struct s2_pl_counters *c = &e->pl.c;
	printf(O.json ? "],\"plastic\":{\"updates\":%llu,\"zero\":%llu,\"clipped\":%llu,"
	                "\"hist_lost\":%llu,\"queue_full\":%llu},"
	              : "plastic updates %llu zero %llu clipped %llu hist_lost %llu queue_full "
	                "%llu\n",
	       (unsigned long long)c->updates, (unsigned long long)c->zero,
	       (unsigned long long)c->clipped, (unsigned long long)c->hist_lost,
	       (unsigned long long)c->queue_full);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "va"))
		return va_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "image"))
		return image_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "connections"))
		return connections_main(argc - 1, argv + 1);
	parse(argc, argv);
	unsigned steps = to_step(O.duration_ms);
	size_t plen, ilen;
	uint8_t *pd = build(&plen);
	uint8_t *in = build_input(steps, &ilen);
	if (O.write_dir) {
		write_file(O.write_dir, "pedata.bin", pd, plen);
		write_file(O.write_dir, "input.bin", in, ilen);
		free(pd);
		free(in);
		return 0;
	}
	static struct s2_eng e;
	dram = calloc(1, DRAM_SIZE);
	if (!dram)
		die("out of memory");
	const struct s2_eng_hal hal = {NULL, h_read, h_write, h_send, h_record, NULL};
	int rc = s2_eng_init(&e, pd, plen, &hal);
	if (rc < 0)
		die("the engine refused the PE data: %s", s2_strerror(rc));
	unsigned next = 0;
	for (unsigned t = 0; t < steps; t++) {
		s2_eng_tick(&e);
		while (next < O.n_inputs && s2_ld32(in + 12 + 8 * next) <= t) {
			if (s2_ld32(in + 12 + 8 * next) == t)
				s2_eng_receive(&e, s2_ld32(in + 16 + 8 * next), NULL);
			next++;
		}
	}
	unsigned bpr = (O.n + 7) / 8;
	if (O.json)
		printf("{\"dt\":%g,\"steps\":%u,\"spikes\":[", O.dt_ms, steps);
	bool first = true;
	for (unsigned t = 0; t < steps && (t + 1) * bpr <= rec_len[0]; t++)
		for (unsigned i = 0; i < O.n; i++)
			if (rec[0][t * bpr + i / 8] >> (i % 8) & 1u) {
				/* A spike in step t happens at the end of the step: t+1 steps. */
				double tm = (t + 1) * O.dt_ms;
				if (O.json)
					printf("%s[%u,%.4f]", first ? "" : ",", i, tm);
				else
					printf("spike %.4f %u\n", tm, i);
				first = false;
			}
	if (O.json)
		printf("],\"v\":[");
	for (unsigned t = 0; O.n_record_v && t < steps; t++) {
		if ((t + 1) * O.n_record_v * 4u > rec_len[1])
			break;
		const float *v = (const float *)(rec[1] + t * O.n_record_v * 4u);
		if (O.json) {
			printf("%s[", t ? "," : "");
			for (unsigned k = 0; k < O.n_record_v; k++)
				printf("%s%.6g", k ? "," : "", v[k]);
			printf("]");
		} else {
			printf("v %.4f", (t + 1) * O.dt_ms);
			for (unsigned k = 0; k < O.n_record_v; k++)
				printf(" %.6g", v[k]);
			printf("\n");
		}
	}
	if (e.pl.n) {
		rc = s2_plastic_flush(&e);
		if (rc < 0)
			die("plasticity: %s", s2_strerror(rc));
		if (O.json)
			printf("],");
		print_weights(&e);
	}
	const struct s2_eng_counters *c = &e.c;
	static const char *const names[] = {"steps",        "neuron_updates",  "synaptic_events",
	                                    "spikes_sent",  "packets_in",      "packets_unknown",
	                                    "dma_bytes",    "ring_saturated",  "bg_inputs",
	                                    "weights_zero", "weights_clipped", "delays_clamped",
	                                    "steps_over",   "worst_permille"};
	_Static_assert(sizeof names / sizeof names[0] == sizeof *c / sizeof(uint64_t),
	               "a name per counter");
	const uint64_t *cv = &c->steps;
	printf(O.json ? (e.pl.n ? "\"counters\":{" : "],\"counters\":{") : "counters");
	for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++)
		printf(O.json ? "%s\"%s\":%llu" : "%s%s %llu", O.json && k ? "," : " ", names[k],
		       (unsigned long long)cv[k]);
	printf(O.json ? "}}\n" : "\n");
	free(pd);
	free(in);
	free(dram);
	free(rec[0]);
	free(rec[1]);
	return 0;
}
