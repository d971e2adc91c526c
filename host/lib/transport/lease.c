/*
 * Board leases from the host (s2/lease.h): LEASE requests, the refusal explained with the
 * holder's name, and the keeper that renews a session's leases on the event loop.
 */
#define _GNU_SOURCE /* getrandom, gethostname */
#include "s2/lease.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "s2/error.h"

uint64_t s2_lease_token_new(void)
{
	uint64_t t = 0;
	if (getrandom(&t, sizeof t, 0) != (ssize_t)sizeof t) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		t = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
	}
	return t ? t : 1;
}

void s2_lease_holder_default(char *out, size_t cap, const char *verb)
{
	char host[64] = "?";
	(void)gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	char *dot = strchr(host, '.');
	if (dot)
		*dot = 0;
	const struct passwd *pw = getpwuid(getuid());
	char buf[160];
	snprintf(buf, sizeof buf, "%s@%s pid %ld %s", pw ? pw->pw_name : "?", host, (long)getpid(),
	         verb ? verb : "");
	size_t n = 0, lim = cap ? cap - 1 : 0;
	if (lim > S2_LEASE_HOLDER_LEN)
		lim = S2_LEASE_HOLDER_LEN;
	for (const char *s = buf; *s && n < lim; s++) /* printable ASCII only (protocol 4.1) */
		out[n++] = (*s >= 0x20 && *s <= 0x7E) ? *s : '?';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	if (cap)
		out[n] = 0;
}

struct lease_req {
	struct s2_conn *conn;
	struct s2_op *op;
	struct s2_msg_lease_rep *rep;
	uint8_t op_code;
	bool explained; /* a STATUS after a refusal */
};

static int send_lease(struct lease_req *r, const struct s2_msg_lease_req *q);

static void fail(struct s2_op *op, int status, const char *what)
{
	if (op->status)
		return;
	op->status = status;
	snprintf(op->what, sizeof op->what, "%s", what);
}

static void lease_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	struct lease_req *r = arg;
	struct s2_op *op = r->op;
	op->outstanding--;
	struct s2_msg_lease_rep rep;
	if (status == 0 && s2_msg_lease_rep_decode(p, len, &rep) < 0)
		status = S2_E_FORMAT;
	if (status == 0 && r->rep)
		*r->rep = rep;
	if (r->explained) {
		/* The STATUS that explains a refusal: the op stays failed with S2_E_BUSY. */
		free(r);
		return;
	}
	if (status == S2_E_BUSY && r->rep) {
		fail(op, status, r->op_code == S2_LEASE_ACQUIRE ? "LEASE (acquire)" : "LEASE");
		struct s2_msg_lease_req q = {.op = S2_LEASE_STATUS};
		r->explained = true;
		if (send_lease(r, &q) == 0)
			return;
	} else if (status < 0) {
		fail(op, status, "LEASE");
	} else {
		op->done++;
	}
	free(r);
}

static int send_lease(struct lease_req *r, const struct s2_msg_lease_req *q)
{
	uint8_t body[64];
	int n = s2_msg_lease_req_encode(body, sizeof body, q);
	if (n < 0)
		return n;
	int rc = s2_conn_request(r->conn, S2_MSG_LEASE, S2_ADDR_ANY, S2_PE_MONITOR, body, (size_t)n,
	                         lease_cb, r);
	if (rc == 0)
		r->op->outstanding++;
	return rc;
}

static int lease_start(struct s2_conn *conn, const struct s2_msg_lease_req *q,
                       struct s2_msg_lease_rep *rep, struct s2_op *op)
{
	struct lease_req *r = calloc(1, sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	*r = (struct lease_req){.conn = conn, .op = op, .rep = rep, .op_code = q->op};
	int rc = send_lease(r, q);
	if (rc < 0) {
		free(r);
		return rc;
	}
	op->total++;
	return 0;
}

static void copy_holder(char *dst, const char *src)
{
	size_t n = 0;
	while (src && src[n] && n < S2_LEASE_HOLDER_LEN) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
}

int s2_lease_acquire_start(struct s2_conn *conn, uint64_t token, const char *holder,
                           uint32_t ttl_ms, bool force, struct s2_msg_lease_rep *rep,
                           struct s2_op *op)
{
	if (!token || !ttl_ms || ttl_ms > S2_LEASE_TTL_MAX)
		return S2_E_RANGE;
	struct s2_msg_lease_req q = {.op = S2_LEASE_ACQUIRE,
	                             .flags = force ? S2_LEASE_F_FORCE : 0,
	                             .ttl_ms = ttl_ms,
	                             .token = token};
	copy_holder(q.holder, holder);
	return lease_start(conn, &q, rep, op);
}

int s2_lease_release_start(struct s2_conn *conn, uint64_t token, struct s2_msg_lease_rep *rep,
                           struct s2_op *op)
{
	if (!token)
		return S2_E_RANGE;
	struct s2_msg_lease_req q = {.op = S2_LEASE_RELEASE, .token = token};
	return lease_start(conn, &q, rep, op);
}

int s2_lease_status_start(struct s2_conn *conn, struct s2_msg_lease_rep *rep, struct s2_op *op)
{
	struct s2_msg_lease_req q = {.op = S2_LEASE_STATUS};
	return lease_start(conn, &q, rep, op);
}

/* What renewals in flight report to: outlives the keeper until the last one completes. */
struct kcore {
	uint64_t failures;
	unsigned in_flight;
	bool orphan; /* the keeper was freed */
};

struct s2_lease_keeper {
	struct event *ev;
	struct s2_conn **conns;
	unsigned n;
	uint64_t token;
	uint32_t ttl_ms;
	char holder[S2_LEASE_HOLDER_LEN + 1];
	struct kcore *core;
};

static void renew_cb(void *arg, int status, const struct s2_header *h, const uint8_t *p, size_t len)
{
	(void)h;
	(void)p;
	(void)len;
	struct kcore *core = arg;
	core->in_flight--;
	if (status < 0)
		core->failures++;
	if (core->orphan && !core->in_flight)
		free(core);
}

static void keeper_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct s2_lease_keeper *k = arg;
	struct s2_msg_lease_req q = {.op = S2_LEASE_ACQUIRE,
	                             .flags = S2_LEASE_F_RENEW,
	                             .ttl_ms = k->ttl_ms,
	                             .token = k->token};
	memcpy(q.holder, k->holder, sizeof q.holder);
	uint8_t body[64];
	int n = s2_msg_lease_req_encode(body, sizeof body, &q);
	for (unsigned i = 0; n > 0 && i < k->n; i++) {
		if (s2_conn_unresponsive(k->conns[i]))
			continue; /* a dead board: its request would only wait out its timeout */
		if (s2_conn_request(k->conns[i], S2_MSG_LEASE, S2_ADDR_ANY, S2_PE_MONITOR, body,
		                    (size_t)n, renew_cb, k->core) < 0)
			k->core->failures++;
		else
			k->core->in_flight++;
	}
}

struct s2_lease_keeper *s2_lease_keeper_new(struct s2_client *c, struct s2_conn *const *conns,
                                            unsigned n, uint64_t token, const char *holder,
                                            uint32_t ttl_ms)
{
	struct s2_lease_keeper *k = calloc(1, sizeof *k);
	if (!k)
		return NULL;
	k->conns = calloc(n ? n : 1, sizeof *k->conns);
	k->core = calloc(1, sizeof *k->core);
	k->ev = event_new(s2_client_base(c), -1, EV_PERSIST, keeper_tick, k);
	if (!k->conns || !k->core || !k->ev) {
		s2_lease_keeper_free(k);
		return NULL;
	}
	memcpy(k->conns, conns, n * sizeof *conns);
	k->n = n;
	k->token = token;
	k->ttl_ms = ttl_ms;
	copy_holder(k->holder, holder);
	uint32_t every = ttl_ms / 3 ? ttl_ms / 3 : 1;
	struct timeval tv = {every / 1000, (every % 1000) * 1000};
	event_add(k->ev, &tv);
	return k;
}

uint64_t s2_lease_keeper_failures(const struct s2_lease_keeper *k)
{
	return k && k->core ? k->core->failures : 0;
}

void s2_lease_keeper_free(struct s2_lease_keeper *k)
{
	if (!k)
		return;
	if (k->ev)
		event_free(k->ev);
	if (k->core) {
		if (k->core->in_flight)
			k->core->orphan = true;
		else
			free(k->core);
	}
	free(k->conns);
	free(k);
}
