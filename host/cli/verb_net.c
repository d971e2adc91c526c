/*
 * s2ctl net: convert network descriptions between the binary and the JSON text form,
 * generate the reference workloads, and summarise a network (docs/cli/net.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "s2/network.h"
#include "s2/nir.h"

#define NIR_MAX_INPUTS 64

struct net_opts {
	const char *out, *to, *scale;
	const char *dt, *reset, *integrator, *steps, *seed;
	struct s2_nir_input inputs[NIR_MAX_INPUTS];
	unsigned n_inputs;
	bool too_many_inputs;
};

static int net_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct net_opts *o = ctx;
	switch (id) {
	case 'o':
		o->out = arg;
		return 0;
	case 256:
		o->to = arg;
		return 0;
	case 257:
		o->scale = arg;
		return 0;
	case 258:
		o->dt = arg;
		return 0;
	case 259:
		o->reset = arg;
		return 0;
	case 260:
		o->integrator = arg;
		return 0;
	case 261:
		if (o->n_inputs == NIR_MAX_INPUTS) {
			o->too_many_inputs = true;
			return 0;
		}
		o->inputs[o->n_inputs].node = arg; /* split at '=' by the verb */
		o->inputs[o->n_inputs++].path = NULL;
		return 0;
	case 262:
		o->steps = arg;
		return 0;
	case 263:
		o->seed = arg;
		return 0;
	default:
		return -1;
	}
}

static const struct option NET_OPTS[] = {
        {"output", required_argument, 0, 'o'}, {"to", required_argument, 0, 256},
        {"scale", required_argument, 0, 257},  {"dt", required_argument, 0, 258},
        {"reset", required_argument, 0, 259},  {"integrator", required_argument, 0, 260},
        {"input", required_argument, 0, 261},  {"steps", required_argument, 0, 262},
        {"seed", required_argument, 0, 263},   {0, 0, 0, 0},
};

/* Output form: --to json|pb, else by the name (".json" is JSON). -1 after an error. */
static int out_json(const struct cli *c, const struct net_opts *o)
{
	if (o->to) {
		if (!strcmp(o->to, "json"))
			return 1;
		if (!strcmp(o->to, "pb"))
			return 0;
		cli_error(c, EXIT_USAGE, "--to: say json or pb, not '%s'", o->to);
		return -1;
	}
	size_t l = strlen(o->out);
	return l >= 5 && !strcmp(o->out + l - 5, ".json");
}

/* No -o: the JSON text form on stdout (and no summary). */
static int to_stdout(const struct cli *c, const struct s2_net *n)
{
	char *text;
	size_t len;
	if (s2_net_to_json(n, &text, &len) < 0)
		return cli_error(c, EXIT_FAIL, "out of memory");
	bool ok = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0;
	free(text);
	return ok ? EXIT_OK : cli_error(c, EXIT_FAIL, "writing to stdout failed");
}

static int summary_nir(const struct cli *c, const struct s2_net *n, const char *file,
                       const char *from, const struct s2_nir_report *r);

static int summary(const struct cli *c, const struct s2_net *n, const char *file)
{
	return summary_nir(c, n, file, NULL, NULL);
}

static int summary_nir(const struct cli *c, const struct s2_net *n, const char *file,
                       const char *from, const struct s2_nir_report *r)
{
	double syn = 0;
	for (unsigned j = 0; j < s2_net_projections(n); j++)
		syn += s2_net_proj_synapses(n, j);
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		if (file)
			json_str(&j, "file", file);
		json_str(&j, "name", s2_net_name(n));
		json_num(&j, "timestep_ms", s2_net_timestep_ms(n));
		json_num(&j, "run_ms", s2_net_run_ms(n));
		json_uint(&j, "seed", s2_net_seed(n));
		json_uint(&j, "populations", s2_net_populations(n));
		json_uint(&j, "neurons", s2_net_neurons(n));
		json_uint(&j, "projections", s2_net_projections(n));
		json_num(&j, "synapses", syn);
		json_uint(&j, "recordings", s2_net_recordings(n));
		if (r) {
			json_obj(&j, "nir");
			json_str(&j, "from", from);
			json_uint(&j, "steps", r->steps);
			json_arr(&j, "populations");
			for (unsigned i = 0; i < r->n_pops; i++) {
				json_obj(&j, NULL);
				json_str(&j, "label", r->pops[i].label);
				json_str(&j, "node_type", r->pops[i].type);
				json_uint(&j, "size", r->pops[i].size);
				json_str(&j, "model", s2_net_pop_model(n, i));
				json_flag(&j, "spiking", r->pops[i].spiking);
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_arr(&j, "projections");
			for (unsigned i = 0; i < r->n_projs; i++) {
				json_obj(&j, NULL);
				json_str(&j, "label", r->projs[i].label);
				json_str(&j, "pre", r->projs[i].pre);
				json_str(&j, "post", r->projs[i].post);
				json_str(&j, "receptor",
				         r->projs[i].inhibitory ? "inhibitory" : "excitatory");
				json_uint(&j, "synapses", r->projs[i].synapses);
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_arr(&j, "folded");
			for (unsigned i = 0; i < r->n_folded; i++) {
				json_obj(&j, NULL);
				json_str(&j, "name", r->folded[i].name);
				json_str(&j, "node_type", r->folded[i].type);
				json_end_obj(&j);
			}
			json_end_arr(&j);
			json_end_obj(&j);
		}
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
		if (r) {
			printf("%s: %u populations, %u projections, %llu synapses, %llu steps\n",
			       from, r->n_pops, r->n_projs, (unsigned long long)r->synapses,
			       (unsigned long long)r->steps);
			for (unsigned i = 0; i < r->n_pops; i++)
				printf("  population %-24s %-9s %8u  %s%s\n", r->pops[i].label,
				       r->pops[i].type, r->pops[i].size, s2_net_pop_model(n, i),
				       !strcmp(r->pops[i].type, "Input") ? ""
				       : r->pops[i].spiking              ? " (spikes recorded)"
				                                         : " (v recorded)");
			for (unsigned i = 0; i < r->n_projs; i++)
				printf("  projection %-32s %10llu synapses\n", r->projs[i].label,
				       (unsigned long long)r->projs[i].synapses);
			if (r->n_folded) {
				printf("  folded into projections:");
				for (unsigned i = 0; i < r->n_folded; i++)
					printf("%s %s (%s)", i ? "," : "", r->folded[i].name,
					       r->folded[i].type);
				printf("\n");
			}
		}
		printf("%s%snetwork %s: %u populations, %llu neurons, %u projections, %.4g "
		       "synapses, %u recordings; dt %g ms, run %g ms, seed %llu\n",
		       file ? file : "", file ? ": " : "", s2_net_name(n), s2_net_populations(n),
		       (unsigned long long)s2_net_neurons(n), s2_net_projections(n), syn,
		       s2_net_recordings(n), s2_net_timestep_ms(n), s2_net_run_ms(n),
		       (unsigned long long)s2_net_seed(n));
	}
	return EXIT_OK;
}

static int net_convert(int argc, char **argv)
{
	struct cli c;
	struct net_opts o = {0};
	int pos = cli_parse(&c, "net", argc, argv, NET_OPTS, net_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "convert needs exactly one input FILE");
	int json = o.out ? out_json(&c, &o) : 1;
	if (json < 0)
		return EXIT_USAGE;
	if (!o.out && o.to && strcmp(o.to, "json"))
		return cli_error(&c, EXIT_USAGE, "binary output needs -o FILE");
	char err[512];
	struct s2_net *n = s2_net_load_file(argv[pos], err, sizeof err);
	if (!n)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	if (!o.out) {
		int code = to_stdout(&c, n);
		s2_net_free(n);
		return code;
	}
	int rc = s2_net_save_file(n, o.out, json, err, sizeof err);
	if (rc < 0) {
		s2_net_free(n);
		return cli_error(&c, EXIT_FAIL, "%s", err);
	}
	summary(&c, n, o.out);
	s2_net_free(n);
	return EXIT_OK;
}

static int net_example(int argc, char **argv)
{
	struct cli c;
	struct net_opts o = {.scale = "1"};
	int pos = cli_parse(&c, "net", argc, argv, NET_OPTS, net_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "example needs exactly one NAME");
	int json = o.out ? out_json(&c, &o) : 1;
	if (json < 0)
		return EXIT_USAGE;
	if (!o.out && o.to && strcmp(o.to, "json"))
		return cli_error(&c, EXIT_USAGE, "binary output needs -o FILE");
	char *end;
	double scale = strtod(o.scale, &end);
	if (*end || end == o.scale || !(scale > 0 && scale <= 100))
		return cli_error(&c, EXIT_USAGE, "--scale: '%s' is not a number in (0, 100]",
		                 o.scale);
	char err[512];
	struct s2_net *n = s2_net_example(argv[pos], scale, err, sizeof err);
	if (!n)
		return cli_error(&c, EXIT_USAGE, "%s", err);
	if (!o.out) {
		int code = to_stdout(&c, n);
		s2_net_free(n);
		return code;
	}
	int rc = s2_net_save_file(n, o.out, json, err, sizeof err);
	if (rc < 0) {
		s2_net_free(n);
		return cli_error(&c, EXIT_FAIL, "%s", err);
	}
	summary(&c, n, o.out);
	s2_net_free(n);
	return EXIT_OK;
}

static int net_show(int argc, char **argv)
{
	struct cli c;
	int pos = cli_parse(&c, "net", argc, argv, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "show needs exactly one FILE");
	char err[512];
	struct s2_net *n = s2_net_load_file(argv[pos], err, sizeof err);
	if (!n)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	summary(&c, n, argv[pos]);
	s2_net_free(n);
	return EXIT_OK;
}

/* The neuron models and the real-time cost the mapper budgets for each (docs/mapping.md). */
static int net_models(int argc, char **argv)
{
	struct cli c;
	int pos = cli_parse(&c, "net", argc, argv, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos != argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	const char *name;
	double cu, ce;
	struct json j;
	if (c.json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_num(&j, "cycles_per_packet", s2_net_packet_cycles());
		json_arr(&j, "models");
	} else {
		printf("%-24s %14s %14s   (Cortex-M4F cycles, measured: bench/engine.sh)\n",
		       "model", "per update", "per syn. event");
	}
	for (unsigned i = 0; s2_net_model_cost(i, &name, &cu, &ce) == 0; i++) {
		if (c.json) {
			json_obj(&j, NULL);
			json_str(&j, "model", name);
			json_num(&j, "cycles_per_update", cu);
			json_num(&j, "cycles_per_event", ce);
			json_end_obj(&j);
		} else {
			printf("%-24s %14.1f %14.1f\n", name, cu, ce);
		}
	}
	if (c.json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	} else {
		printf("%-24s %14.1f per packet received\n", "(any)", s2_net_packet_cycles());
	}
	return EXIT_OK;
}

#ifdef S2CTL_NIR_EXEC
/* s2ctl itself does not link the NIR importer (libhdf5: its start-up would cost every verb);
 * `net import-nir` is run by s2ctl-nir beside it: this s2ctl built with the importer. */
static int net_import_nir(int argc, char **argv)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
	char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
	if (!slash) {
		fprintf(stderr,
		        "s2ctl net: import-nir: cannot find s2ctl-nir (no /proc/self/exe)\n");
		return EXIT_FAIL;
	}
	strcpy(slash + 1, "s2ctl-nir");
	char **args = calloc((size_t)argc + 3, sizeof *args);
	if (!args)
		return EXIT_FAIL;
	args[0] = exe;
	args[1] = "net";
	for (int k = 0; k < argc; k++)
		args[k + 2] = argv[k];
	fflush(NULL);
	execv(exe, args);
	fprintf(stderr, "s2ctl net: import-nir: cannot run %s: %s\n", exe, strerror(errno));
	free(args);
	return EXIT_FAIL;
}
#else
static int net_import_nir(int argc, char **argv)
{
	struct cli c;
	struct net_opts o = {0};
	int pos = cli_parse(&c, "net", argc, argv, NET_OPTS, net_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "import-nir needs exactly one FILE.nir");
	if (!o.out)
		return cli_error(&c, EXIT_USAGE, "import-nir needs -o NET");
	if (o.too_many_inputs)
		return cli_error(&c, EXIT_USAGE, "--input: at most %d", NIR_MAX_INPUTS);
	int json = out_json(&c, &o);
	if (json < 0)
		return EXIT_USAGE;
	struct s2_nir_opts no = {0};
	if (o.dt) {
		char *end;
		no.dt = strtod(o.dt, &end);
		if (*end || end == o.dt || !(no.dt >= 1e-5 && no.dt <= 0.01))
			return cli_error(&c, EXIT_USAGE,
			                 "--dt: '%s' is not a number of seconds in 1e-5..0.01",
			                 o.dt);
	}
	if (o.reset) {
		if (!strcmp(o.reset, "zero"))
			no.reset_zero = true;
		else if (strcmp(o.reset, "subtract"))
			return cli_error(&c, EXIT_USAGE, "--reset: say subtract or zero, not '%s'",
			                 o.reset);
	}
	if (o.integrator) {
		if (!strcmp(o.integrator, "euler"))
			no.euler = true;
		else if (strcmp(o.integrator, "exact"))
			return cli_error(&c, EXIT_USAGE,
			                 "--integrator: say exact or euler, not '%s'",
			                 o.integrator);
	}
	unsigned long v;
	if (o.steps) {
		if (cli_uint(&c, "--steps", o.steps, 100000000, &v) < 0)
			return EXIT_USAGE;
		if (!v)
			return cli_error(&c, EXIT_USAGE, "--steps: must be at least 1");
		no.steps = v;
	}
	if (o.seed) {
		if (cli_uint(&c, "--seed", o.seed, 0xffffffffUL, &v) < 0)
			return EXIT_USAGE;
		no.seed = v;
		no.seed_set = true;
	}
	char spec[NIR_MAX_INPUTS][512];
	for (unsigned i = 0; i < o.n_inputs; i++) {
		const char *a = o.inputs[i].node;
		const char *eq = strchr(a, '=');
		if (!eq || eq == a || !eq[1] || strlen(a) >= sizeof spec[i])
			return cli_error(&c, EXIT_USAGE, "--input: say NODE=FILE.npy, not '%s'", a);
		memcpy(spec[i], a, strlen(a) + 1);
		spec[i][eq - a] = 0;
		o.inputs[i].node = spec[i];
		o.inputs[i].path = spec[i] + (eq - a) + 1;
	}
	no.inputs = o.inputs;
	no.n_inputs = o.n_inputs;
	char err[768];
	struct s2_nir_report rep;
	struct s2_net *n = s2_net_import_nir(argv[pos], &no, &rep, err, sizeof err);
	if (!n)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	int rc = s2_net_save_file(n, o.out, json, err, sizeof err);
	if (rc < 0) {
		s2_nir_report_free(&rep);
		s2_net_free(n);
		return cli_error(&c, EXIT_FAIL, "%s", err);
	}
	summary_nir(&c, n, o.out, argv[pos], &rep);
	s2_nir_report_free(&rep);
	s2_net_free(n);
	return EXIT_OK;
}

#endif

int verb_net(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "import-nir"))
		return net_import_nir(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "convert"))
		return net_convert(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "example"))
		return net_example(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return net_show(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "models"))
		return net_models(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(cli_usage("net"), stdout);
		return EXIT_OK;
	}
	fprintf(stderr,
	        "s2ctl net: say convert, example, show, models or import-nir (see --help)\n%s",
	        cli_usage("net"));
	return EXIT_USAGE;
}
