/*
 * s2ctl scrub: every chip's monitor of the selected boards stops its application PEs and
 * zeroes their SRAM and the chip's DRAM, then reads it all back (protocol 4.20). The chips
 * work in parallel; s2ctl starts them, polls their progress and waits at most --timeout.
 * Exit 0 only if every chip of every board reports every byte zeroed and verified.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "s2/board.h"
#include "s2/error.h"
#include "session.h"

enum { O_TIMEOUT = 256 };

static const struct option scrub_options[] = {
        {"timeout", required_argument, 0, O_TIMEOUT},
        {0, 0, 0, 0},
};

static int scrub_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	unsigned long *timeout = ctx;
	if (id != O_TIMEOUT)
		return -1;
	return cli_uint(c, "--timeout", arg, 86400, timeout) < 0 ? -1 : 0;
}

struct board_scrub {
	struct s2_op op;
	int status;     /* 0, or why the board failed (a negative code) */
	char what[120]; /* the step or chip that failed */
	uint64_t chips; /* alive chips, being scrubbed */
	struct s2_msg_scrub_rep rep[64];
	int chip_status[64];
	uint8_t st_body[16];
	size_t st_len;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void board_fail(struct board_scrub *r, int rc, const char *what)
{
	if (r->status)
		return;
	r->status = rc;
	snprintf(r->what, sizeof r->what, "%s", what);
}

/* One round of SCRUB (start or status) to every scrubbing chip of every board. */
static void round_all(struct session *s, struct board_scrub *bs, uint8_t op)
{
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b] || bs[b].status)
			continue;
		uint64_t todo = 0;
		for (unsigned c = 0; c < 64; c++)
			if (((bs[b].chips >> c) & 1u) &&
			    (op == S2_SCRUB_START || bs[b].rep[c].state == S2_SCRUB_RUNNING))
				todo |= 1ull << c;
		if (!todo)
			continue;
		s2_op_init(&bs[b].op, NULL, NULL);
		int rc = s2_scrub_start(s->eth[b], todo, op, bs[b].rep, bs[b].chip_status,
		                        &bs[b].op);
		if (rc < 0)
			bs[b].op.status = rc;
	}
	s2_client_wait(s->client);
	for (unsigned b = 0; b < s->n; b++)
		if (s->sel[b] && !bs[b].status && bs[b].op.status)
			board_fail(&bs[b], bs[b].op.status, bs[b].op.what);
}

/* Chips still running on a board. */
static unsigned running(const struct board_scrub *r)
{
	unsigned n = 0;
	for (unsigned c = 0; c < 64; c++)
		n += ((r->chips >> c) & 1u) && r->rep[c].state == S2_SCRUB_RUNNING;
	return n;
}

static int scrub_run(struct cli *c, unsigned long timeout_s)
{
	struct session s;
	int ec = session_open(&s, c, true, false);
	if (!ec)
		ec = session_lease(&s);
	struct board_scrub *bs = ec ? NULL : calloc(s.n, sizeof *bs);
	if (ec || !bs) {
		session_close(&s);
		return ec ? ec : cli_error(c, EXIT_FAIL, "out of memory");
	}
	double t0 = now_s();
	/* Which chips are alive (and the board booted: the scrub runs in its monitors). */
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&bs[b].op, NULL, NULL);
		int rc = s2_simple_start(s.eth[b], S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR,
		                         NULL, 0, bs[b].st_body, sizeof bs[b].st_body,
		                         &bs[b].st_len, &bs[b].op);
		if (rc < 0)
			bs[b].op.status = rc;
	}
	s2_client_wait(s.client);
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		struct s2_msg_board_status st;
		int rc = bs[b].op.status
		                 ? bs[b].op.status
		                 : s2_msg_board_status_decode(bs[b].st_body, bs[b].st_len, &st);
		if (rc)
			board_fail(&bs[b], rc, "BOARD_STATUS");
		else if (st.state != S2_BOARD_BOOTED)
			board_fail(
			        &bs[b], S2_E_STATE,
			        "board not booted: the scrub runs in the chips' monitors (boot it "
			        "first)");
		else
			bs[b].chips = st.chips_alive;
	}
	round_all(&s, bs, S2_SCRUB_START);
	/* Poll until no chip runs, within the bound. */
	double deadline = t0 + (double)timeout_s;
	for (;;) {
		unsigned left = 0;
		for (unsigned b = 0; b < s.n; b++)
			if (s.sel[b] && !bs[b].status)
				left += running(&bs[b]);
		if (!left)
			break;
		if (now_s() > deadline) {
			for (unsigned b = 0; b < s.n; b++)
				if (s.sel[b] && !bs[b].status && running(&bs[b]))
					board_fail(
					        &bs[b], S2_E_TIMEOUT,
					        "scrub still running at --timeout (not verified)");
			break;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		round_all(&s, bs, S2_SCRUB_STATUS);
	}
	double secs = now_s() - t0;
	/* Outcome per board: done only if every chip is done and verified every byte. */
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_num(&j, "seconds", secs);
		json_arr(&j, "boards");
	}
	unsigned ok = 0, bad = 0;
	int worst = 0;
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		struct board_scrub *r = &bs[b];
		uint64_t total = 0, zeroed = 0, verified = 0;
		unsigned chips = 0;
		for (unsigned ch = 0; ch < 64; ch++) {
			if (!((r->chips >> ch) & 1u))
				continue;
			const struct s2_msg_scrub_rep *p = &r->rep[ch];
			chips++;
			total += p->bytes_total;
			zeroed += p->bytes_zeroed;
			verified += p->bytes_verified;
			if (!r->status && p->state != S2_SCRUB_DONE) {
				char where[48], what[120];
				if (p->fail_space == S2_MEM_DRAM)
					snprintf(where, sizeof where, "DRAM 0x%08x",
					         (unsigned)p->fail_addr);
				else
					snprintf(where, sizeof where, "SRAM of PE %u, 0x%08x",
					         (unsigned)p->fail_pe, (unsigned)p->fail_addr);
				snprintf(what, sizeof what,
				         "chip %u: verification failed: %u failures, first at %s",
				         ch, (unsigned)p->failures, where);
				board_fail(r, S2_E_STATE, what);
			}
		}
		if (!r->status && verified != total)
			board_fail(r, S2_E_STATE, "bytes verified fall short of the total");
		if (r->status) {
			bad++;
			worst = r->status;
			fprintf(stderr, "s2ctl scrub: board %u: NOT scrubbed: %s (%s)\n", b,
			        r->what, s2_strerror(r->status));
		} else {
			ok++;
		}
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", r->status == 0);
			if (r->status) {
				json_str(&j, "error", s2_errname(r->status));
				json_str(&j, "what", r->what);
			}
			json_uint(&j, "chips", chips);
			json_uint(&j, "bytes_total", total);
			json_uint(&j, "bytes_zeroed", zeroed);
			json_uint(&j, "bytes_verified", verified);
			json_end_obj(&j);
		} else if (!r->status && !c->quiet) {
			printf("board %u: scrubbed %u chips: %llu bytes zeroed and verified "
			       "(SRAM of every application PE, all DRAM) in %.3f s\n",
			       b, chips, (unsigned long long)verified, secs);
		}
	}
	if (c->json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	}
	ec = bad == 0              ? EXIT_OK
	     : ok                  ? EXIT_PARTIAL
	     : worst == S2_E_STATE ? EXIT_FAIL
	                           : cli_exit_for(worst);
	free(bs);
	session_close(&s);
	return ec;
}

int verb_scrub(int argc, char **argv)
{
	struct cli c;
	unsigned long timeout_s = 600;
	int pos = cli_parse(&c, "scrub", argc, argv, scrub_options, scrub_opt, &timeout_s);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	if (!timeout_s)
		return cli_error(&c, EXIT_USAGE, "--timeout must be at least 1 s");
	return scrub_run(&c, timeout_s);
}
