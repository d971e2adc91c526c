/* Opening the boards of a machine description for a verb (session.h). */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2/error.h"
#include "s2/key.h"
#include "s2/machine.h"

int session_key(struct session *s)
{
	struct cli *c = s->c;
	const char *path = c->key_path ? c->key_path : getenv("S2_KEY_FILE");
	if (!path || !*path)
		path = cli_job_key(c); /* inside a SLURM job: the job's key */
	if (!path || !*path)
		return 0;
	struct s2_key k;
	char err[512];
	int rc = s2_key_load(path, &k, err, sizeof err);
	if (rc < 0)
		return cli_error(c, EXIT_INPUT, "key: %s", err);
	rc = s2_client_set_key(s->client, &k);
	memset(&k, 0, sizeof k);
	if (rc < 0)
		return cli_error(c, EXIT_FAIL, "key: libsodium could not start");
	return 0;
}

int session_open(struct session *s, struct cli *c, bool eth, bool bmp)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->m = cli_load_machine(c);
	if (!s->m)
		return c->machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
	s->n = s2_machine_boards(s->m);
	s->sel = calloc(s->n, sizeof *s->sel);
	s->eth = calloc(s->n, sizeof *s->eth);
	s->bmp = calloc(s->n, sizeof *s->bmp);
	s->client = s2_client_new(NULL);
	if (!s->sel || !s->eth || !s->bmp || !s->client)
		return cli_error(c, EXIT_FAIL, "out of memory");
	if (cli_select_boards(c, s->n, s->sel) < 0)
		return EXIT_USAGE;
	int ec = session_key(s);
	if (ec)
		return ec;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(s->m, b, &ep);
		uint16_t wire = cli_job_wire_board(c, s->m, b); /* b, or a job's site board */
		if (eth && !(s->eth[b] = s2_conn_open(s->client, ep.host, ep.eth_port, wire)))
			return cli_error(c, EXIT_INPUT, "board %u: cannot open %s:%u: %s", b,
			                 ep.host, ep.eth_port, strerror(errno));
		if (bmp && !(s->bmp[b] = s2_conn_open(s->client, ep.host, ep.bmp_port, wire)))
			return cli_error(c, EXIT_INPUT, "board %u: cannot open %s:%u: %s", b,
			                 ep.host, ep.bmp_port, strerror(errno));
	}
	return 0;
}

/* The endpoints of the selected boards: conns[k], board[k]. Returns k. */
static unsigned lease_conns(const struct session *s, struct s2_conn **conns, unsigned *board)
{
	unsigned k = 0;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		if (s->eth[b]) {
			board[k] = b;
			conns[k++] = s->eth[b];
		}
		if (s->bmp[b]) {
			board[k] = b;
			conns[k++] = s->bmp[b];
		}
	}
	return k;
}

void session_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap)
{
	if (!rep->held) {
		snprintf(out, cap, "free");
		return;
	}
	time_t until = time(NULL) + (time_t)((rep->remaining_ms + 999) / 1000);
	struct tm tm;
	gmtime_r(&until, &tm);
	snprintf(out, cap, "held by %s until %02d:%02d:%02d UTC (%.1f s left)", rep->holder,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, rep->remaining_ms / 1000.0);
}

static void release_all(struct session *s)
{
	if (!s->token)
		return;
	s2_lease_keeper_free(s->keeper);
	s->keeper = NULL;
	unsigned cap = 2 * s->n + 1, *board = calloc(cap, sizeof *board);
	struct s2_conn **conns = calloc(cap, sizeof *conns);
	struct s2_op *ops = calloc(cap, sizeof *ops);
	if (board && conns && ops) {
		unsigned k = lease_conns(s, conns, board);
		for (unsigned i = 0; i < k; i++) {
			s2_op_init(&ops[i], NULL, NULL);
			if (!s2_conn_unresponsive(conns[i]))
				(void)s2_lease_release_start(conns[i], s->token, NULL, &ops[i]);
		}
		s2_client_wait(s->client);
	}
	free(board);
	free(conns);
	free(ops);
	s->token = 0;
}

int session_lease(struct session *s)
{
	struct cli *c = s->c;
	unsigned cap = 2 * s->n + 1, *board = calloc(cap, sizeof *board);
	struct s2_conn **conns = calloc(cap, sizeof *conns);
	struct s2_op *ops = calloc(cap, sizeof *ops);
	struct s2_msg_lease_rep *rep = calloc(cap, sizeof *rep);
	int ec = EXIT_OK;
	if (!board || !conns || !ops || !rep) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	unsigned k = lease_conns(s, conns, board);
	/* S2_LEASE_TTL_MS: another time to live (tests, or an operator's policy). */
	uint32_t ttl = S2_LEASE_TTL_DEFAULT;
	const char *e = getenv("S2_LEASE_TTL_MS");
	if (e) {
		char *end;
		unsigned long v = strtoul(e, &end, 10);
		if (*end || v < 300 || v > S2_LEASE_TTL_MAX) {
			ec = cli_error(c, EXIT_USAGE, "S2_LEASE_TTL_MS: '%s' is not 300..%u ms", e,
			               S2_LEASE_TTL_MAX);
			goto out;
		}
		ttl = (uint32_t)v;
	}
	s->token = s2_lease_token_new();
	s2_lease_holder_default(s->holder, sizeof s->holder, c->verb);
	if (c->force) {
		/* Say whose lease is taken before taking it: the operator's log of --force. */
		for (unsigned i = 0; i < k; i++) {
			s2_op_init(&ops[i], NULL, NULL);
			(void)s2_lease_status_start(conns[i], &rep[i], &ops[i]);
		}
		s2_client_wait(s->client);
		for (unsigned i = 0; i < k; i++)
			if (!ops[i].status && rep[i].held) {
				char t[160];
				session_lease_text(&rep[i], t, sizeof t);
				fprintf(stderr,
				        "s2ctl %s: --force: board %u (%s) was %s; taking it over "
				        "(logged by the board)\n",
				        c->verb, board[i], s2_conn_peer(conns[i]), t);
			}
	}
	for (unsigned i = 0; i < k; i++) {
		s2_op_init(&ops[i], NULL, NULL);
		int rc = s2_lease_acquire_start(conns[i], s->token, s->holder, ttl, c->force,
		                                &rep[i], &ops[i]);
		if (rc < 0)
			ops[i].status = rc;
	}
	s2_client_wait(s->client);
	for (unsigned i = 0; i < k; i++) {
		if (!ops[i].status)
			continue;
		if (ops[i].status == S2_E_BUSY) {
			char t[160];
			session_lease_text(&rep[i], t, sizeof t);
			cli_error(c, EXIT_BUSY,
			          "board %u (%s): busy: %s; nothing was changed (--force takes it "
			          "over, logged)",
			          board[i], s2_conn_peer(conns[i]), t);
			ec = EXIT_BUSY;
		} else {
			cli_error(c, cli_exit_for(ops[i].status),
			          "board %u (%s): cannot take its lease: %s", board[i],
			          s2_conn_peer(conns[i]), s2_strerror(ops[i].status));
			if (!ec)
				ec = cli_exit_for(ops[i].status);
		}
	}
	if (ec) {
		/* Give back what was taken, and only that (a release of another's lease would
		 * be refused, and counted against us on that board). */
		for (unsigned i = 0; i < k; i++) {
			bool took = !ops[i].status;
			s2_op_init(&ops[i], NULL, NULL);
			if (took)
				(void)s2_lease_release_start(conns[i], s->token, NULL, &ops[i]);
		}
		s2_client_wait(s->client);
		s->token = 0;
		goto out;
	}
	s->keeper = s2_lease_keeper_new(s->client, conns, k, s->token, s->holder, ttl);
	if (!s->keeper) {
		release_all(s);
		ec = cli_error(c, EXIT_FAIL, "out of memory");
	}
out:
	free(board);
	free(conns);
	free(ops);
	free(rep);
	return ec;
}

void session_lease_status(struct session *s, struct s2_msg_lease_rep *rep, int *status)
{
	struct s2_op *ops = calloc(s->n + 1, sizeof *ops);
	for (unsigned b = 0; b < s->n; b++) {
		status[b] = S2_E_NOMEM;
		memset(&rep[b], 0, sizeof rep[b]);
		struct s2_conn *conn = s->eth[b] ? s->eth[b] : s->bmp[b];
		if (!ops || !s->sel[b] || !conn)
			continue;
		s2_op_init(&ops[b], NULL, NULL);
		if (s2_lease_status_start(conn, &rep[b], &ops[b]) < 0)
			ops[b].status = S2_E_NOMEM;
	}
	if (ops)
		s2_client_wait(s->client);
	for (unsigned b = 0; ops && b < s->n; b++)
		if (s->sel[b])
			status[b] = ops[b].status;
	free(ops);
}

void session_close(struct session *s)
{
	if (s->client)
		release_all(s);
	s2_client_free(s->client);
	free(s->sel);
	free(s->eth);
	free(s->bmp);
	s2_machine_free(s->m);
}

int session_board(struct session *s, const char *arg, unsigned *board)
{
	unsigned long v;
	if (cli_uint(s->c, "--board", arg, s->n ? s->n - 1 : 0, &v) < 0)
		return -1;
	*board = (unsigned)v;
	return 0;
}
