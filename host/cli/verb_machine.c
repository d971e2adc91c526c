/*
 * s2ctl machine: make a description of a standard shape, or summarise one (docs/cli.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "s2/error.h"
#include "s2/machine.h"

struct gen_opts {
	bool rack;
	const char *racks, *host, *base_port, *out, *dram_kib, *pe_mhz;
};

static int gen_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct gen_opts *o = ctx;
	switch (id) {
	case 256:
		o->rack = true;
		break;
	case 257:
		o->racks = arg;
		break;
	case 258:
		o->host = arg;
		break;
	case 260:
		o->dram_kib = arg;
		break;
	case 261:
		o->pe_mhz = arg;
		break;
	case 259:
		o->base_port = arg;
		break;
	case 'o':
		o->out = arg;
		break;
	default:
		return -1;
	}
	return 0;
}

static int machine_generate(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"rack", no_argument, 0, 256},           {"racks", required_argument, 0, 257},
	        {"host", required_argument, 0, 258},     {"base-port", required_argument, 0, 259},
	        {"dram-kib", required_argument, 0, 260}, {"pe-mhz", required_argument, 0, 261},
	        {"output", required_argument, 0, 'o'},   {0, 0, 0, 0},
	};
	struct cli c;
	struct gen_opts o = {.host = "127.0.0.1", .base_port = "0"};
	int pos = cli_parse(&c, "machine", argc, argv, extra, gen_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	if (!o.out)
		return cli_error(&c, EXIT_USAGE, "generate needs -o FILE");
	int shapes = (c.boards_spec != NULL) + o.rack + (o.racks != NULL);
	if (shapes != 1)
		return cli_error(&c, EXIT_USAGE,
		                 "give exactly one of --boards N, --rack, --racks R");
	unsigned long port, n = 0;
	if (cli_uint(&c, "--base-port", o.base_port, 65535, &port) < 0)
		return EXIT_USAGE;
	if (c.boards_spec && cli_uint(&c, "--boards", c.boards_spec, S2_MACHINE_MAX_BOARDS, &n) < 0)
		return EXIT_USAGE;
	if (o.racks && cli_uint(&c, "--racks", o.racks, 64, &n) < 0)
		return EXIT_USAGE;
	if (n == 0 && !o.rack)
		return cli_error(&c, EXIT_USAGE, "%s: must be at least 1",
		                 c.boards_spec ? "--boards" : "--racks");
	if (strlen(o.host) >= S2_MACHINE_HOST_MAX)
		return cli_error(&c, EXIT_USAGE, "--host: longer than %d bytes",
		                 S2_MACHINE_HOST_MAX - 1);
	struct s2_machine *m =
	        c.boards_spec
	                ? s2_machine_new_boards((unsigned)n, o.host, (uint16_t)port)
	                : s2_machine_new_racks(o.rack ? 1u : (unsigned)n, o.host, (uint16_t)port);
	if (!m)
		return cli_error(&c, EXIT_FAIL, "cannot make that machine (out of memory?)");
	if (o.dram_kib) {
		unsigned long kib = 0;
		if (cli_uint(&c, "--dram-kib", o.dram_kib, 1ul << 26, &kib) < 0) {
			s2_machine_free(m);
			return EXIT_USAGE;
		}
		if (kib == 0) {
			s2_machine_free(m);
			return cli_error(&c, EXIT_USAGE, "--dram-kib: must be at least 1");
		}
		s2_machine_set_dram(m, (uint64_t)kib << 10);
	}
	if (o.pe_mhz) { /* the clock the mapper's real-time budget assumes (docs/mapping.md) */
		unsigned long mhz = 0;
		if (cli_uint(&c, "--pe-mhz", o.pe_mhz, 10000, &mhz) < 0 || mhz == 0) {
			s2_machine_free(m);
			return mhz ? EXIT_USAGE
			           : cli_error(&c, EXIT_USAGE, "--pe-mhz: must be 1 to 10000");
		}
		s2_machine_set_pe_mhz(m, (uint32_t)mhz);
	}
	unsigned boards = s2_machine_boards(m);
	if (port && port + 2ul * boards - 1 > 65535) {
		s2_machine_free(m);
		return cli_error(&c, EXIT_USAGE, "--base-port %lu: %u boards need ports up to %lu",
		                 port, boards, port + 2ul * boards - 1);
	}
	char err[512];
	int rc = s2_machine_save_file(m, o.out, err, sizeof err);
	if (rc < 0) {
		s2_machine_free(m);
		/* S2_E_INVAL: the description is refused (a bad --host): a bad command line */
		return cli_error(&c, rc == S2_E_INVAL ? EXIT_USAGE : EXIT_FAIL, "%s", err);
	}
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "file", o.out);
		json_uint(&j, "boards", boards);
		json_uint(&j, "chips", s2_machine_total_chips(m));
		json_uint(&j, "pes", s2_machine_total_pes(m));
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		printf("%s: %u boards, %llu chips, %llu PEs\n", o.out, boards,
		       (unsigned long long)s2_machine_total_chips(m),
		       (unsigned long long)s2_machine_total_pes(m));
	}
	s2_machine_free(m);
	return EXIT_OK;
}

/* The chip of board 0 farthest (in hops) from board 0's Ethernet chip: the lowest index of
 * those at the largest distance. Tests use it as "a far chip". */
static unsigned farthest_chip(const struct s2_machine *m, unsigned *hops)
{
	unsigned eth = s2_machine_eth_chip(m), best = eth, bh = 0;
	for (unsigned c = 0; c < s2_machine_chips_per_board(m); c++) {
		unsigned h = s2_machine_hops(m, 0, eth, 0, c);
		if (h > bh) {
			bh = h;
			best = c;
		}
	}
	*hops = bh;
	return best;
}

static int machine_show(int argc, char **argv)
{
	struct cli c;
	int pos = cli_parse(&c, "machine", argc, argv, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	const char *path = pos < argc ? argv[pos] : c.machine_path;
	if (!path)
		return cli_error(&c, EXIT_USAGE, "show needs FILE");
	if (pos + 1 < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos + 1]);
	char err[512];
	struct s2_machine *m = s2_machine_load_file(path, err, sizeof err);
	if (!m)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	struct s2_chip_resources r;
	s2_machine_chip_resources(m, &r);
	unsigned far_hops, far = farthest_chip(m, &far_hops);
	unsigned boards = s2_machine_boards(m);
	if (c.json) {
		struct json j;
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "name", s2_machine_name(m));
		json_uint(&j, "boards", boards);
		json_uint(&j, "racks", s2_machine_racks(m));
		json_uint(&j, "chips_per_board", s2_machine_chips_per_board(m));
		json_uint(&j, "board_width", s2_machine_board_width(m));
		json_uint(&j, "board_height", s2_machine_board_height(m));
		json_uint(&j, "width", s2_machine_width(m));
		json_uint(&j, "height", s2_machine_height(m));
		json_flag(&j, "wrap", s2_machine_wraps(m));
		json_uint(&j, "eth_chip", s2_machine_eth_chip(m));
		json_uint(&j, "pes_per_chip", r.pes);
		json_uint(&j, "sram_per_pe", r.sram_per_pe);
		json_uint(&j, "dram_bytes", r.dram_bytes);
		json_uint(&j, "router_entries", r.router_entries);
		json_uint(&j, "chips", s2_machine_total_chips(m));
		json_uint(&j, "pes", s2_machine_total_pes(m));
		json_uint(&j, "dead_chips", s2_machine_count_dead_chips(m));
		json_uint(&j, "dead_pes", s2_machine_count_dead_pes(m));
		json_uint(&j, "dead_links", s2_machine_count_dead_links(m));
		json_uint(&j, "farthest_chip", far);
		json_uint(&j, "farthest_hops", far_hops);
		json_arr(&j, "endpoints");
		for (unsigned b = 0; b < boards; b++) {
			struct s2_board_endpoint ep;
			s2_machine_board_endpoint(m, b, &ep);
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_uint(&j, "rack", s2_machine_board_rack(m, b));
			json_str(&j, "host", ep.host);
			json_uint(&j, "eth_port", ep.eth_port);
			json_uint(&j, "bmp_port", ep.bmp_port);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	} else {
		printf("machine %s: %u boards in %u racks, %u x %u chips per board%s\n",
		       s2_machine_name(m), boards, s2_machine_racks(m), s2_machine_board_width(m),
		       s2_machine_board_height(m), s2_machine_wraps(m) ? ", torus" : "");
		printf("  chip grid %u x %u: %llu chips, %llu PEs (%u per chip)\n",
		       s2_machine_width(m), s2_machine_height(m),
		       (unsigned long long)s2_machine_total_chips(m),
		       (unsigned long long)s2_machine_total_pes(m), r.pes);
		printf("  per chip: %u KiB SRAM per PE, %llu MiB DRAM, %u router entries\n",
		       r.sram_per_pe / 1024, (unsigned long long)(r.dram_bytes >> 20),
		       r.router_entries);
		printf("  dead: %u chips, %u PEs, %u links\n", s2_machine_count_dead_chips(m),
		       s2_machine_count_dead_pes(m), s2_machine_count_dead_links(m));
		for (unsigned b = 0; b < boards && b < 8; b++) {
			struct s2_board_endpoint ep;
			s2_machine_board_endpoint(m, b, &ep);
			printf("  board %u: %s eth %u bmp %u\n", b, ep.host, ep.eth_port,
			       ep.bmp_port);
		}
		if (boards > 8)
			printf("  ... %u more boards (--json lists all)\n", boards - 8);
	}
	s2_machine_free(m);
	return EXIT_OK;
}

int verb_machine(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "generate"))
		return machine_generate(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return machine_show(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "slurm"))
		return cli_machine_slurm(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(cli_usage("machine"), stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "s2ctl machine: say generate, show or slurm (see --help)\n%s",
	        cli_usage("machine"));
	return EXIT_USAGE;
}
