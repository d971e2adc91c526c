/*
 * s2ctl compile: map a network onto a machine and write a deployable image, with the mapping
 * report in text or JSON (docs/cli/compile.md). Nothing is written unless every stage
 * succeeds.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "s2/error.h"
#include "s2/image.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"

struct compile_opts {
	const char *out, *target, *place;
	bool allow_slow;
};

static int compile_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct compile_opts *o = ctx;
	switch (id) {
	case 'o':
		o->out = arg;
		return 0;
	case 256:
		o->target = arg;
		return 0;
	case 257:
		o->place = arg;
		return 0;
	case 258:
		o->allow_slow = true;
		return 0;
	default:
		return -1;
	}
}

static void report(const struct cli *c, const struct s2_net *n, const struct s2_machine *m,
                   const struct s2_map_report *r, const char *out, double img_s)
{
	static const char *stage[] = {"",      "partition", "place", "keys",
	                              "route", "tables",    "verify"};
	static const char *mode[] = {"board/chip/PE blocks", "chip/PE blocks", "PE blocks"};
	if (c->json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "image", out);
		json_str(&j, "network", s2_net_name(n));
		json_str(&j, "machine", s2_machine_name(m));
		json_uint(&j, "pes", r->parts);
		json_uint(&j, "chips", r->chips);
		json_uint(&j, "boards", r->boards);
		json_uint(&j, "entries_before", r->entries_before);
		json_uint(&j, "entries_after", r->entries_after);
		json_uint(&j, "max_entries_before", r->max_entries_before);
		json_uint(&j, "max_entries_after", r->max_entries_after);
		json_uint(&j, "chips_compressed", r->chips_compressed);
		json_obj(&j, "busiest_link");
		json_uint(&j, "board", r->busiest_board);
		json_uint(&j, "chip", r->busiest_chip);
		json_str(&j, "link", s2_machine_link_name(m, r->busiest_link));
		json_num(&j, "packets_per_step", r->busiest_link_load);
		json_end_obj(&j);
		json_obj(&j, "hops_per_spike");
		json_num(&j, "mean", r->hops_mean);
		json_uint(&j, "max", r->hops_max);
		json_uint(&j, "longest_path", r->path_max);
		json_end_obj(&j);
		json_str(&j, "placement", r->placed_by_traffic ? "traffic" : "population");
		json_num(&j, "synaptic_events_per_step", r->synaptic_events_per_step);
		json_obj(&j, "budget");
		json_num(&j, "cycles_per_step", r->budget_cycles);
		json_flag(&j, "real_time", r->slowdown <= 1.0);
		json_num(&j, "slowdown", r->slowdown);
		if (r->slowdown > 1.0)
			json_str(&j, "slowest_population", s2_net_pop_label(n, r->slowest_pop));
		else
			json_null(&j, "slowest_population");
		json_end_obj(&j);
		json_uint(&j, "keys_used", r->keys_used);
		json_uint(&j, "key_span", r->key_span);
		json_str(&j, "key_mode", mode[r->key_mode % 3]);
		json_obj(&j, "seconds");
		for (int s = 1; s <= 6; s++)
			json_num(&j, stage[s], r->seconds[s]);
		json_num(&j, "image", img_s);
		json_end_obj(&j);
		json_end_obj(&j);
		json_finish(&j);
		return;
	}
	if (c->quiet)
		return;
	printf("%s: network %s on machine %s\n", out, s2_net_name(n), s2_machine_name(m));
	printf("  used: %llu PEs on %u chips, %u boards\n", (unsigned long long)r->parts, r->chips,
	       r->boards);
	printf("  router entries: %llu before compression, %llu after (fullest chip %u -> %u; "
	       "%u chips compressed)\n",
	       (unsigned long long)r->entries_before, (unsigned long long)r->entries_after,
	       r->max_entries_before, r->max_entries_after, r->chips_compressed);
	if (r->busiest_link_load > 0)
		printf("  busiest link: board %u chip %u link %s, %.4g packets per timestep\n",
		       r->busiest_board, r->busiest_chip, s2_machine_link_name(m, r->busiest_link),
		       r->busiest_link_load);
	else
		printf("  busiest link: none (no spikes leave their chip)\n");
	printf("  router hops per spike: mean %.3f, worst %u (longest path %u hops)\n",
	       r->hops_mean, r->hops_max, r->path_max);
	if (r->hops_mean_other >= 0)
		printf("  placement: %s order (the other: %.3f hops per spike)\n",
		       r->placed_by_traffic ? "traffic" : "population", r->hops_mean_other);
	else
		printf("  placement: %s order\n", r->placed_by_traffic ? "traffic" : "population");
	printf("  expected synaptic events per timestep: %.4g\n", r->synaptic_events_per_step);
	if (r->slowdown > 1.0)
		printf("  real time: NO, %.1f times slower than real time (allowed by "
		       "--allow-slow; "
		       "population %s: one neuron's step exceeds the %.0f cycles a PE has)\n",
		       r->slowdown, s2_net_pop_label(n, r->slowest_pop), r->budget_cycles);
	else
		printf("  real time: every PE's mean modelled step within its %.0f cycles "
		       "(bursts and packets: counted by the run)\n",
		       r->budget_cycles);
	printf("  keys: %llu used, %llu of 4294967296 taken (%s)\n",
	       (unsigned long long)r->keys_used, (unsigned long long)r->key_span,
	       mode[r->key_mode % 3]);
	printf("  time:");
	for (int s = 1; s <= 6; s++)
		printf(" %s %.3f s,", stage[s], r->seconds[s]);
	printf(" image %.3f s\n", img_s);
}

int verb_compile(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"output", required_argument, 0, 'o'},
	        {"router-target", required_argument, 0, 256},
	        {"place", required_argument, 0, 257},
	        {"allow-slow", no_argument, 0, 258},
	        {0, 0, 0, 0},
	};
	struct cli c;
	struct compile_opts o = {0};
	int pos = cli_parse(&c, "compile", argc, argv, extra, compile_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "compile needs exactly one network FILE");
	if (!o.out)
		return cli_error(&c, EXIT_USAGE, "compile needs -o IMAGE");
	unsigned long target = 0;
	bool tmin = o.target && !strcmp(o.target, "min");
	if (o.target && !tmin && cli_uint(&c, "--router-target", o.target, UINT32_MAX, &target) < 0)
		return EXIT_USAGE;
	if (o.target && !tmin && target == 0)
		return cli_error(&c, EXIT_USAGE, "--router-target: must be at least 1");
	if (o.place && strcmp(o.place, "order") && strcmp(o.place, "traffic") &&
	    strcmp(o.place, "auto"))
		return cli_error(&c, EXIT_USAGE, "--place: '%s' is not auto, order or traffic",
		                 o.place);
	char err[512];
	struct s2_net *n = s2_net_load_file(argv[pos], err, sizeof err);
	if (!n)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	struct s2_machine *m = cli_load_machine(&c);
	if (!m) {
		s2_net_free(n);
		return c.machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
	}
	struct s2_map_config cfg = {.router_target = (uint32_t)target,
	                            .router_min = tmin,
	                            .fine_place = o.place && !strcmp(o.place, "traffic"),
	                            .place_order = o.place && !strcmp(o.place, "order"),
	                            .allow_slow = o.allow_slow};
	struct s2_mapping *mp = s2_map_new(n, m, &cfg);
	int code = EXIT_OK;
	if (!mp) {
		code = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	int rc = s2_map_run(mp, err, sizeof err);
	if (rc < 0) {
		/* the network cannot be mapped onto this machine: bad input, nothing written */
		code = cli_error(&c, rc == S2_E_NOMEM ? EXIT_FAIL : EXIT_INPUT, "%s: %s", argv[pos],
		                 err);
		goto out;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = s2_image_write(mp, o.out, err, sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc < 0) {
		/* S2_E_RANGE: the network uses something the engine's PE data cannot express
		 * yet (bad input for this machine); anything else is a failure to write */
		code = cli_error(&c, rc == S2_E_RANGE ? EXIT_INPUT : EXIT_FAIL, "%s", err);
		goto out;
	}
	report(&c, n, m, s2_map_report(mp), o.out,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
out:
	s2_map_free(mp);
	s2_machine_free(m);
	s2_net_free(n);
	return code;
}
