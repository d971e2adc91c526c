/*
 * Verbs that address one chip of one board: ps (PE states), iobuf (logs), mem (read and
 * write SRAM and DRAM), signal (start, stop, reset PEs).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "s2/bulk.h"
#include "s2/error.h"
#include "s2/machine.h"
#include "session.h"

/* Options shared by the chip verbs. */
struct chip_opts {
	const char *board, *chip, *pe, *pes, *file, *hex, *out;
	bool sram, bulk;
};

enum { O_BOARD = 256, O_CHIP, O_PE, O_PES, O_FILE, O_HEX, O_OUT, O_SRAM, O_BULK };

static const struct option chip_options[] = {
        {"board", required_argument, 0, O_BOARD}, {"chip", required_argument, 0, O_CHIP},
        {"pe", required_argument, 0, O_PE},       {"pes", required_argument, 0, O_PES},
        {"file", required_argument, 0, O_FILE},   {"hex", required_argument, 0, O_HEX},
        {"output", required_argument, 0, O_OUT},  {"sram", no_argument, 0, O_SRAM},
        {"bulk", no_argument, 0, O_BULK},         {0, 0, 0, 0},
};

static int chip_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct chip_opts *o = ctx;
	switch (id) {
	case O_BOARD:
		o->board = arg;
		break;
	case O_CHIP:
		o->chip = arg;
		break;
	case O_PE:
		o->pe = arg;
		break;
	case O_PES:
		o->pes = arg;
		break;
	case O_FILE:
		o->file = arg;
		break;
	case O_HEX:
		o->hex = arg;
		break;
	case 'o':
	case O_OUT:
		o->out = arg;
		break;
	case O_SRAM:
		o->sram = true;
		break;
	case O_BULK:
		o->bulk = true;
		break;
	default:
		return -1;
	}
	return 0;
}

/* Target of a chip verb. */
struct target {
	struct session s;
	unsigned board, chip;
	uint8_t pe;
	struct s2_conn *conn;
};

/* Open the one board named by --board, and resolve --chip and --pe. */
static int target_open(struct target *t, struct cli *c, const struct chip_opts *o, bool pe_ok)
{
	memset(t, 0, sizeof *t);
	if (!o->board)
		return cli_error(c, EXIT_USAGE, "--board B is required (see --help)");
	c->boards_spec = o->board;
	int ec = session_open(&t->s, c, true, false);
	if (ec)
		return ec;
	if (session_board(&t->s, o->board, &t->board) < 0)
		return EXIT_USAGE;
	unsigned long v;
	unsigned chips = s2_machine_chips_per_board(t->s.m);
	t->chip = s2_machine_eth_chip(t->s.m);
	if (o->chip) {
		if (cli_uint(c, "--chip", o->chip, chips - 1, &v) < 0)
			return EXIT_USAGE;
		t->chip = (unsigned)v;
	}
	t->pe = S2_PE_MONITOR;
	if (o->pe && strcmp(o->pe, "monitor") != 0) {
		if (!pe_ok)
			return cli_error(c, EXIT_USAGE, "--pe does not apply here");
		if (cli_uint(c, "--pe", o->pe, s2_machine_pes_per_chip(t->s.m) - 1, &v) < 0)
			return EXIT_USAGE;
		t->pe = (uint8_t)v;
	}
	t->conn = t->s.eth[t->board];
	return 0;
}

static int op_result(struct target *t, const struct s2_op *op)
{
	if (!op->status)
		return EXIT_OK;
	char line[300];
	cli_conn_summary(t->conn, line, sizeof line);
	return cli_error(t->s.c, cli_exit_for(op->status), "board %u chip %u: %s: %s (%s)",
	                 t->board, t->chip, op->what, s2_strerror(op->status), line);
}

static const char *const state_names[] = {"dead", "idle", "running", "stopped", "monitor"};

int verb_ps(int argc, char **argv)
{
	struct cli c;
	struct chip_opts o = {0};
	int pos = cli_parse(&c, "ps", argc, argv, chip_options, chip_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	struct target t;
	int ec = target_open(&t, &c, &o, false);
	if (ec) {
		session_close(&t.s);
		return ec;
	}
	uint8_t body[S2_MAX_PAYLOAD];
	size_t blen = 0;
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	int rc = s2_simple_start(t.conn, S2_MSG_CORE_STATES, (uint16_t)t.chip, S2_PE_MONITOR, NULL,
	                         0, body, sizeof body, &blen, &op);
	if (rc < 0)
		op.status = rc;
	s2_op_wait(t.s.client, &op);
	struct s2_msg_core_states cs;
	if (!op.status && (rc = s2_msg_core_states_decode(body, blen, &cs)) < 0) {
		op.status = rc;
		snprintf(op.what, sizeof op.what, "CORE_STATES reply");
	}
	/* Who holds the board: ps shows it beside the PEs' states. */
	struct s2_msg_lease_rep *lr = calloc(t.s.n, sizeof *lr);
	int *ls = calloc(t.s.n, sizeof *ls);
	if (lr && ls)
		session_lease_status(&t.s, lr, ls);
	if ((ec = op_result(&t, &op)) == EXIT_OK) {
		unsigned count[5] = {0};
		struct json j;
		if (c.json) {
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_uint(&j, "board", t.board);
			json_uint(&j, "chip", t.chip);
			json_arr(&j, "pes");
		}
		for (unsigned p = 0; p < cs.n; p++) {
			count[cs.state[p]]++;
			if (c.json)
				json_str(&j, NULL, state_names[cs.state[p]]);
			else
				printf("%3u %-8s%s", p, state_names[cs.state[p]],
				       p % 8 == 7 ? "\n" : " ");
		}
		if (c.json) {
			json_end_arr(&j);
			json_obj(&j, "count");
			for (unsigned k = 0; k < 5; k++)
				json_uint(&j, state_names[k], count[k]);
			json_end_obj(&j);
			if (lr && ls && ls[t.board] == 0) {
				json_obj(&j, "lease");
				json_flag(&j, "held", lr[t.board].held);
				json_str(&j, "holder",
				         lr[t.board].held ? lr[t.board].holder : NULL);
				json_num(&j, "remaining_s", lr[t.board].remaining_ms / 1000.0);
				json_end_obj(&j);
			}
			json_end_obj(&j);
			json_finish(&j);
		} else {
			printf("%s%u PEs: %u idle, %u running, %u stopped, %u dead, %u monitor\n",
			       cs.n % 8 ? "\n" : "", cs.n, count[1], count[2], count[3], count[0],
			       count[4]);
			if (lr && ls && ls[t.board] == 0) {
				char lt[160];
				session_lease_text(&lr[t.board], lt, sizeof lt);
				printf("board %u: lease %s\n", t.board, lt);
			}
		}
	}
	free(lr);
	free(ls);
	session_close(&t.s);
	return ec;
}

int verb_iobuf(int argc, char **argv)
{
	struct cli c;
	struct chip_opts o = {0};
	int pos = cli_parse(&c, "iobuf", argc, argv, chip_options, chip_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	struct target t;
	int ec = target_open(&t, &c, &o, true);
	if (ec) {
		session_close(&t.s);
		return ec;
	}
	/* Read from the oldest byte still held to the newest, a block at a time. */
	size_t cap = 4096, used = 0;
	char *text = malloc(cap);
	uint32_t offset = 0, total = 0;
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	for (int guard = 0; text && guard < 1024; guard++) {
		uint8_t req[16], body[S2_MAX_PAYLOAD];
		size_t blen = 0;
		struct s2_msg_iobuf_req q = {.offset = offset, .max_len = S2_IOBUF_XFER_MAX};
		int n = s2_msg_iobuf_req_encode(req, sizeof req, &q);
		int rc = s2_simple_start(t.conn, S2_MSG_IOBUF, (uint16_t)t.chip, t.pe, req,
		                         (size_t)n, body, sizeof body, &blen, &op);
		if (rc < 0 || s2_op_wait(t.s.client, &op) < 0) {
			if (rc < 0)
				op.status = rc;
			break;
		}
		struct s2_msg_iobuf_rep rep;
		if ((rc = s2_msg_iobuf_rep_decode(body, blen, &rep)) < 0) {
			op.status = rc;
			snprintf(op.what, sizeof op.what, "IOBUF reply");
			break;
		}
		total = rep.total;
		if (rep.len == 0)
			break;
		if (used + rep.len + 1 > cap) {
			char *more = realloc(text, cap *= 2);
			if (!more)
				break;
			text = more;
		}
		memcpy(text + used, rep.data, rep.len);
		used += rep.len;
		offset = rep.offset + rep.len;
	}
	if (!text)
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
	else if ((ec = op_result(&t, &op)) == EXIT_OK) {
		text[used] = 0;
		if (c.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_uint(&j, "board", t.board);
			json_uint(&j, "chip", t.chip);
			if (t.pe == S2_PE_MONITOR)
				json_str(&j, "pe", "monitor");
			else
				json_uint(&j, "pe", t.pe);
			json_uint(&j, "total_bytes", total);
			json_uint(&j, "lost_bytes", total - used);
			json_str(&j, "text", text);
			json_end_obj(&j);
			json_finish(&j);
		} else {
			fwrite(text, 1, used, stdout);
			if (total > used)
				fprintf(stderr, "s2ctl iobuf: %u older bytes were overwritten\n",
				        (unsigned)(total - used));
		}
	}
	free(text);
	session_close(&t.s);
	return ec;
}

static int parse_hex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s);
	if (n == 0 || n % 2)
		return -1;
	*out = malloc(n / 2);
	if (!*out)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1])) {
			free(*out);
			return -1;
		}
		(*out)[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

int verb_mem(int argc, char **argv)
{
	struct cli c;
	struct chip_opts o = {0};
	if (argc < 2 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
		if (argc >= 2 && !strcmp(argv[1], "--help")) {
			fputs(cli_usage("mem"), stdout);
			return EXIT_OK;
		}
		fputs(cli_usage("mem"), stderr);
		return EXIT_USAGE;
	}
	bool wr = !strcmp(argv[1], "write");
	int pos = cli_parse(&c, "mem", argc - 1, argv + 1, chip_options, chip_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	char **args = argv + 1 + pos;
	int nargs = argc - 1 - pos;
	if (nargs != (wr ? 1 : 2))
		return cli_error(&c, EXIT_USAGE, "mem %s takes %s (see --help)", argv[1],
		                 wr ? "ADDR" : "ADDR LEN");
	unsigned long addr, len = 0;
	if (cli_uint(&c, "ADDR", args[0], 0xFFFFFFFFul, &addr) < 0 ||
	    (!wr && cli_uint(&c, "LEN", args[1], 1ul << 30, &len) < 0))
		return EXIT_USAGE;
	uint8_t *data = NULL;
	size_t dlen = 0;
	if (wr) {
		if (!!o.file == !!o.hex)
			return cli_error(&c, EXIT_USAGE, "mem write needs one of --file or --hex");
		if (o.hex && parse_hex(o.hex, &data, &dlen) < 0)
			return cli_error(&c, EXIT_USAGE,
			                 "--hex: '%s' is not an even number of hex digits", o.hex);
		if (o.file) {
			FILE *f = fopen(o.file, "rb");
			if (!f)
				return cli_error(&c, EXIT_INPUT, "%s: %s", o.file, strerror(errno));
			fseek(f, 0, SEEK_END);
			long sz = ftell(f);
			fseek(f, 0, SEEK_SET);
			data = sz > 0 ? malloc((size_t)sz) : NULL;
			dlen = data ? fread(data, 1, (size_t)sz, f) : 0;
			fclose(f);
			if (!data || dlen != (size_t)sz) {
				free(data);
				return cli_error(&c, EXIT_INPUT,
				                 "%s: cannot read (empty or unreadable)", o.file);
			}
		}
		len = dlen;
	} else {
		data = malloc(len ? len : 1);
		if (!data)
			return cli_error(&c, EXIT_FAIL, "out of memory");
	}
	struct target t;
	int ec = target_open(&t, &c, &o, true);
	if (!ec && o.sram && t.pe == S2_PE_MONITOR)
		ec = cli_error(&c, EXIT_USAGE, "--sram needs --pe P");
	if (!ec && wr)
		ec = session_lease(&t.s); /* writes change the board: take its lease */
	if (ec) {
		free(data);
		session_close(&t.s);
		return ec;
	}
	uint8_t space = o.sram ? S2_MEM_SRAM : S2_MEM_DRAM;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	struct s2_bulk_stats bs = {0};
	int rc;
	if (o.bulk) /* streamed, windowed, SACKed, zlib blocks (protocol section 4.16) */
		rc = wr ? s2_bulk_write_start_ex(t.conn, (uint16_t)t.chip, t.pe, space,
		                                 (uint32_t)addr, data, len, NULL, &bs, &op)
		        : s2_bulk_read_start_ex(t.conn, (uint16_t)t.chip, t.pe, space,
		                                (uint32_t)addr, data, len, NULL, &bs, &op);
	else
		rc = wr ? s2_mem_write_start(t.conn, (uint16_t)t.chip, t.pe, space, (uint32_t)addr,
		                             data, len, &op)
		        : s2_mem_read_start(t.conn, (uint16_t)t.chip, t.pe, space, (uint32_t)addr,
		                            data, len, &op);
	if (rc < 0)
		op.status = rc;
	s2_op_wait(t.s.client, &op);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	const struct s2_conn_stats *cs = s2_conn_stats(t.conn);
	if ((ec = op_result(&t, &op)) == EXIT_OK) {
		if (c.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_uint(&j, "board", t.board);
			json_uint(&j, "chip", t.chip);
			json_str(&j, "space", o.sram ? "sram" : "dram");
			json_uint(&j, "addr", addr);
			json_uint(&j, "bytes", len);
			json_num(&j, "seconds", secs);
			json_num(&j, "mib_per_s", secs > 0 ? (double)len / (1 << 20) / secs : 0);
			json_uint(&j, "datagrams_sent", cs->sent);
			json_uint(&j, "retransmits", cs->retransmits);
			json_uint(&j, "duplicates", cs->duplicates);
			json_uint(&j, "wire_bytes", cs->tx_bytes + cs->rx_bytes);
			if (o.bulk) {
				json_uint(&j, "bulk_blocks_sent", bs.blocks_sent);
				json_uint(&j, "bulk_retransmits", bs.retransmits);
				json_uint(&j, "bulk_bad_blocks", bs.bad_blocks);
				json_uint(&j, "bulk_sacks", bs.sacks);
				json_uint(&j, "bulk_timeouts", bs.timeouts);
				json_uint(&j, "bulk_compressed", bs.compressed);
			}
			if (!wr && !o.out) {
				char *hex = malloc(2 * len + 1);
				for (size_t i = 0; hex && i < len; i++)
					sprintf(hex + 2 * i, "%02x", data[i]);
				if (hex) {
					hex[2 * len] = 0;
					json_str(&j, "hex", hex);
				}
				free(hex);
			}
			json_end_obj(&j);
			json_finish(&j);
		}
		if (!wr && o.out) {
			FILE *f = fopen(o.out, "wb");
			if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
				ec = cli_error(&c, EXIT_INPUT, "%s: cannot write: %s", o.out,
				               strerror(errno));
		} else if (!wr && !c.json) {
			for (size_t i = 0; i < len; i += 16) {
				printf("%08lx ", addr + i);
				for (size_t k = i; k < i + 16 && k < len; k++)
					printf(" %02x", data[k]);
				printf("\n");
			}
		} else if (wr && !c.json && !c.quiet) {
			printf("wrote %lu bytes at 0x%08lx in %.3f s (%lu retransmits)\n", len,
			       addr, secs, (unsigned long)cs->retransmits);
		}
	}
	free(data);
	session_close(&t.s);
	return ec;
}

int verb_signal(int argc, char **argv)
{
	struct cli c;
	struct chip_opts o = {0};
	static const char *const sigs[] = {"start", "stop", "reset"};
	int sig = 0;
	for (int k = 0; argc >= 2 && k < 3; k++)
		if (!strcmp(argv[1], sigs[k]))
			sig = k + 1;
	if (!sig) {
		bool help = argc >= 2 && !strcmp(argv[1], "--help");
		fputs(cli_usage("signal"), help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	int pos = cli_parse(&c, "signal", argc - 1, argv + 1, chip_options, chip_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (!o.pes)
		return cli_error(&c, EXIT_USAGE, "--pes LIST is required (e.g. 1-151)");
	struct target t;
	int ec = target_open(&t, &c, &o, false);
	if (!ec)
		ec = session_lease(&t.s);
	if (ec) {
		session_close(&t.s);
		return ec;
	}
	struct s2_msg_signal s;
	memset(&s, 0, sizeof s);
	s.signal = (uint8_t)sig;
	/* --pes uses the --boards list syntax, bounded by the PEs of a chip. */
	unsigned pes = s2_machine_pes_per_chip(t.s.m);
	bool *sel = calloc(pes, sizeof *sel);
	c.boards_spec = o.pes;
	if (!sel || cli_select_boards(&c, pes, sel) < 0) {
		free(sel);
		session_close(&t.s);
		return EXIT_USAGE;
	}
	for (unsigned p = 0; p < pes; p++)
		s2_bitmap_set(s.pes, p, sel[p]);
	free(sel);
	uint8_t req[32], body[8];
	size_t blen = 0;
	int n = s2_msg_signal_encode(req, sizeof req, &s);
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	int rc = s2_simple_start(t.conn, S2_MSG_SIGNAL, (uint16_t)t.chip, S2_PE_MONITOR, req,
	                         (size_t)n, body, sizeof body, &blen, &op);
	if (rc < 0)
		op.status = rc;
	s2_op_wait(t.s.client, &op);
	if (!op.status && blen != 2) {
		op.status = S2_E_LENGTH;
		snprintf(op.what, sizeof op.what, "SIGNAL reply");
	}
	if ((ec = op_result(&t, &op)) == EXIT_OK) {
		unsigned changed = body[0] | body[1] << 8;
		if (c.json) {
			struct json j;
			json_begin(&j, stdout);
			json_obj(&j, NULL);
			json_str(&j, "signal", sigs[sig - 1]);
			json_uint(&j, "changed", changed);
			json_end_obj(&j);
			json_finish(&j);
		} else if (!c.quiet) {
			printf("%s: %u PEs changed state\n", sigs[sig - 1], changed);
		}
	}
	session_close(&t.s);
	return ec;
}
