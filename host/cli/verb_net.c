/*
 * s2ctl net: convert network descriptions between the binary and the JSON text form,
 * generate the reference workloads, and summarise a network (docs/cli/net.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "s2/network.h"

struct net_opts {
	const char *out, *to, *scale;
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
	default:
		return -1;
	}
}

static const struct option NET_OPTS[] = {
        {"output", required_argument, 0, 'o'},
        {"to", required_argument, 0, 256},
        {"scale", required_argument, 0, 257},
        {0, 0, 0, 0},
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

static int summary(const struct cli *c, const struct s2_net *n, const char *file)
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
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c->quiet) {
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

int verb_net(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "convert"))
		return net_convert(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "example"))
		return net_example(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return net_show(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(cli_usage("net"), stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "s2ctl net: say convert, example or show (see --help)\n%s",
	        cli_usage("net"));
	return EXIT_USAGE;
}
