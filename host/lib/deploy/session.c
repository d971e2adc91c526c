/*
 * Sessions (session.h): a machine's selected boards opened for one program, with the key
 * loaded and the lease taken and kept renewed. s2ctl's verbs, pyNN.s2 and host applications
 * open their boards through here; the high-level calls of run.h work on a session.
 */
#include "s2/session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2/alloc.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/machine.h"

struct s2_session {
	struct s2_machine *m;
	struct s2_client *client;
	unsigned n;           /* boards in the machine */
	bool *sel;            /* [n] selected */
	struct s2_conn **eth; /* [n] Ethernet endpoints of selected boards */
	struct s2_conn **bmp; /* [n] board controllers of selected boards */
	char *machine_path;
	uint16_t *wire; /* [n] board numbers on the wire; NULL: b itself */
	char purpose[64];
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	/* The lease (s2_session_lease), released by s2_session_close. */
	uint64_t token; /* 0: no lease taken */
	char holder[S2_LEASE_HOLDER_LEN + 1];
	struct s2_lease_keeper *keeper;
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

__attribute__((format(printf, 2, 3))) static void say(const struct s2_session *s, const char *fmt,
                                                      ...)
{
	if (!s->log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->log(s->log_arg, msg);
}

/* "0,2-5" or "all" into sel[n]. */
static int select_boards(const char *spec, unsigned n, bool *sel, char *err, size_t errlen)
{
	bool any = !spec || !strcmp(spec, "all");
	for (unsigned i = 0; i < n; i++)
		sel[i] = any;
	if (any)
		return 0;
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
		return fail(err, errlen, S2_E_INVAL, "--boards: the list is too long");
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v[2];
		char *dash = strchr(tok, '-');
		if (dash)
			*dash = 0;
		const char *part[2] = {tok, dash ? dash + 1 : tok};
		for (unsigned k = 0; k < 2; k++) {
			char *end;
			errno = 0;
			v[k] = strtoul(part[k], &end, 0);
			if (errno || end == part[k] || *end || *part[k] == '-' || v[k] >= n)
				return fail(err, errlen, S2_E_INVAL,
				            "--boards: '%s' is not a number in 0..%u", part[k],
				            n ? n - 1 : 0);
		}
		if (v[1] < v[0])
			return fail(err, errlen, S2_E_INVAL, "--boards: range %lu-%lu is backwards",
			            v[0], v[1]);
		for (unsigned long i = v[0]; i <= v[1]; i++)
			sel[i] = true;
	}
	return 0;
}

static int load_key(struct s2_session *s, const char *path, char *err, size_t errlen)
{
	if (!path || !*path)
		return 0;
	struct s2_key k;
	char why[400];
	int rc = s2_key_load(path, &k, why, sizeof why);
	if (rc < 0)
		return fail(err, errlen, rc, "key: %s", why);
	rc = s2_client_set_key(s->client, &k);
	memset(&k, 0, sizeof k);
	if (rc < 0)
		return fail(err, errlen, rc, "key: libsodium could not start");
	return 0;
}

int s2_session_open(const struct s2_session_opts *o, struct s2_session **out, char *err,
                    size_t errlen)
{
	*out = NULL;
	struct s2_machine *m = o->machine;
	const char *boards = o->boards;
	int rc;
	char why[400];
	if (!!o->machine_path + !!o->machine + !!o->allocation != 1) {
		s2_machine_free(m);
		return fail(err, errlen, S2_E_INVAL,
		            "no machine description: give --machine FILE or set S2_MACHINE");
	}
	if (o->machine_path && !(m = s2_machine_load_file(o->machine_path, why, sizeof why)))
		return fail(err, errlen, S2_E_FORMAT, "%s", why);
	/* Inside a SLURM job: its view, key and board numbers (alloc.h). */
	struct s2_alloc *job = NULL;
	const char *key_path = o->key_path;
	if (!o->ignore_job && !o->allocation) {
		if (!(job = malloc(sizeof *job))) {
			s2_machine_free(m);
			return fail(err, errlen, S2_E_NOMEM, "out of memory");
		}
		rc = s2_alloc_from_env(job, why, sizeof why);
		if (rc == 1) {
			struct s2_machine *v = s2_alloc_view(
			        job, m, o->machine_path ? o->machine_path : "the machine", why,
			        sizeof why);
			s2_machine_free(m);
			if (!(m = v)) {
				free(job);
				return fail(err, errlen, S2_E_AUTH, "%s", why);
			}
			if (!key_path && job->key[0])
				key_path = job->key;
		} else {
			free(job);
			job = NULL;
			if (rc < 0) {
				s2_machine_free(m);
				return fail(err, errlen, rc, "%s", why);
			}
		}
	}
	if (o->allocation) {
		if (!o->resolve)
			return fail(err, errlen, S2_E_INVAL,
			            "allocation %s: this program cannot resolve allocations",
			            o->allocation);
		const char *sel = NULL;
		rc = o->resolve(o->resolve_arg, o->allocation, &m, &sel, why, sizeof why);
		if (rc < 0)
			return fail(err, errlen, rc, "allocation %s: %s", o->allocation, why);
		if (sel && !boards)
			boards = sel;
	}
	struct s2_session *s = calloc(1, sizeof *s);
	if (!s) {
		s2_machine_free(m);
		free(job);
		return fail(err, errlen, S2_E_NOMEM, "out of memory");
	}
	s->m = m;
	s->n = s2_machine_boards(m);
	s->log = o->log;
	s->log_arg = o->log_arg;
	snprintf(s->purpose, sizeof s->purpose, "%s", o->purpose ? o->purpose : "libs2");
	s->sel = calloc(s->n + 1, sizeof *s->sel);
	s->eth = calloc(s->n + 1, sizeof *s->eth);
	s->bmp = calloc(s->n + 1, sizeof *s->bmp);
	s->client = s2_client_new(o->transport);
	if (!s->sel || !s->eth || !s->bmp || !s->client ||
	    (o->machine_path && !(s->machine_path = strdup(o->machine_path)))) {
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
		goto fail;
	}
	if (o->wire_boards || job) {
		if (!(s->wire = calloc(s->n + 1, sizeof *s->wire))) {
			rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
			goto fail;
		}
		for (unsigned b = 0; b < s->n; b++) {
			struct s2_board_endpoint ep;
			s2_machine_board_endpoint(s->m, b, &ep);
			s->wire[b] = o->wire_boards ? o->wire_boards[b]
			                            : (uint16_t)s2_alloc_wire_board(job, &ep, b);
		}
	}
	if ((rc = select_boards(boards, s->n, s->sel, err, errlen)) < 0 ||
	    (rc = load_key(s, key_path, err, errlen)) < 0)
		goto fail;
	for (unsigned b = 0; b < s->n; b++) {
		if (!s->sel[b])
			continue;
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(s->m, b, &ep);
		uint16_t wire = s->wire ? s->wire[b] : (uint16_t)b;
		if (o->eth && !(s->eth[b] = s2_conn_open(s->client, ep.host, ep.eth_port, wire))) {
			rc = fail(err, errlen, S2_E_IO, "board %u: cannot open %s:%u: %s", b,
			          ep.host, ep.eth_port, strerror(errno));
			goto fail;
		}
		if (o->bmp && !(s->bmp[b] = s2_conn_open(s->client, ep.host, ep.bmp_port, wire))) {
			rc = fail(err, errlen, S2_E_IO, "board %u: cannot open %s:%u: %s", b,
			          ep.host, ep.bmp_port, strerror(errno));
			goto fail;
		}
	}
	free(job);
	*out = s;
	return 0;
fail:
	free(job);
	s2_session_close(s);
	return rc;
}

/* The endpoints of the selected boards: conns[k], board[k]. Returns k. */
static unsigned lease_conns(const struct s2_session *s, struct s2_conn **conns, unsigned *board)
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

void s2_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap)
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

static void release_all(struct s2_session *s)
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

int s2_session_lease(struct s2_session *s, bool force, char *err, size_t errlen)
{
	release_all(s); /* a lease taken before (another selection) is given back first */
	unsigned cap = 2 * s->n + 1, *board = calloc(cap, sizeof *board);
	struct s2_conn **conns = calloc(cap, sizeof *conns);
	struct s2_op *ops = calloc(cap, sizeof *ops);
	struct s2_msg_lease_rep *rep = calloc(cap, sizeof *rep);
	int rc = 0;
	if (!board || !conns || !ops || !rep) {
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
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
			rc = fail(err, errlen, S2_E_INVAL,
			          "S2_LEASE_TTL_MS: '%s' is not 300..%u ms", e, S2_LEASE_TTL_MAX);
			goto out;
		}
		ttl = (uint32_t)v;
	}
	s->token = s2_lease_token_new();
	s2_lease_holder_default(s->holder, sizeof s->holder, s->purpose);
	if (force) {
		/* Say whose lease is taken before taking it: the operator's log of force. */
		for (unsigned i = 0; i < k; i++) {
			s2_op_init(&ops[i], NULL, NULL);
			(void)s2_lease_status_start(conns[i], &rep[i], &ops[i]);
		}
		s2_client_wait(s->client);
		for (unsigned i = 0; i < k; i++)
			if (!ops[i].status && rep[i].held) {
				char t[160];
				s2_lease_text(&rep[i], t, sizeof t);
				say(s,
				    "--force: board %u (%s) was %s; taking it over (logged by the "
				    "board)",
				    board[i], s2_conn_peer(conns[i]), t);
			}
	}
	for (unsigned i = 0; i < k; i++) {
		s2_op_init(&ops[i], NULL, NULL);
		int r = s2_lease_acquire_start(conns[i], s->token, s->holder, ttl, force, &rep[i],
		                               &ops[i]);
		if (r < 0)
			ops[i].status = r;
	}
	s2_client_wait(s->client);
	for (unsigned i = 0; i < k; i++) {
		if (!ops[i].status)
			continue;
		char msg[400];
		if (ops[i].status == S2_E_BUSY) {
			char t[160];
			s2_lease_text(&rep[i], t, sizeof t);
			snprintf(msg, sizeof msg,
			         "board %u (%s): busy: %s; nothing was changed (--force takes it "
			         "over, logged)",
			         board[i], s2_conn_peer(conns[i]), t);
		} else {
			snprintf(msg, sizeof msg, "board %u (%s): cannot take its lease: %s",
			         board[i], s2_conn_peer(conns[i]), s2_strerror(ops[i].status));
		}
		/* Every board's refusal is said; err and the code are the first (BUSY first). */
		say(s, "%s", msg);
		if (!rc || (ops[i].status == S2_E_BUSY && rc != S2_E_BUSY))
			rc = fail(err, errlen, ops[i].status, "%s", msg);
	}
	if (rc) {
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
		rc = fail(err, errlen, S2_E_NOMEM, "out of memory");
	}
out:
	free(board);
	free(conns);
	free(ops);
	free(rep);
	return rc;
}

void s2_session_lease_status(struct s2_session *s, struct s2_msg_lease_rep *rep, int *status)
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

void s2_session_close(struct s2_session *s)
{
	if (!s)
		return;
	if (s->client)
		release_all(s);
	s2_client_free(s->client);
	free(s->sel);
	free(s->eth);
	free(s->bmp);
	free(s->machine_path);
	free(s->wire);
	s2_machine_free(s->m);
	free(s);
}

struct s2_machine *s2_session_machine(const struct s2_session *s)
{
	return s->m;
}

struct s2_client *s2_session_client(const struct s2_session *s)
{
	return s->client;
}

unsigned s2_session_boards(const struct s2_session *s)
{
	return s->n;
}

bool *s2_session_selection(struct s2_session *s)
{
	return s->sel;
}

struct s2_conn **s2_session_eth(struct s2_session *s)
{
	return s->eth;
}

struct s2_conn **s2_session_bmp(struct s2_session *s)
{
	return s->bmp;
}

const uint16_t *s2_session_wire_boards(const struct s2_session *s)
{
	for (unsigned b = 0; s->wire && b < s->n; b++)
		if (s->wire[b] != b)
			return s->wire;
	return NULL;
}

const char *s2_session_machine_path(const struct s2_session *s)
{
	return s->machine_path;
}
