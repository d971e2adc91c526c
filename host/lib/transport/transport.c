/*
 * Reliable request/reply transport over UDP (transport.h). Each conn has a window of
 * in-flight requests, each with its own retransmission timer; replies are matched by
 * sequence number and checked against the request they answer. Timeouts follow RFC 6298
 * (smoothed RTT and variance, Karn's rule: no samples from retransmitted requests,
 * exponential back-off), so pacing adapts to the path instead of fixed sleeps.
 */
#include "s2/transport.h"

#include <errno.h>
#include <netdb.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <sodium.h>

#include "s2/auth.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/msg.h"

#define WINDOW_MAX 256u

struct req {
	struct s2_conn *conn;
	struct req *next; /* queue link */
	struct event *timer;
	s2_reply_cb cb;
	void *arg;
	uint64_t sent_at_us;
	uint64_t first_sent_us;
	uint32_t seq;
	uint32_t counter;  /* authenticated: the trailer's counter, echoed by the reply */
	uint64_t session;  /* ... and the session it was sent in */
	unsigned restarts; /* times re-sent in a new session (S2_E_STALE) */
	unsigned attempts;
	bool doomed; /* fail at the next timer run (conn unresponsive or closing) */
	uint8_t type;
	uint16_t chip;
	uint8_t pe;
	uint16_t dlen;
	uint8_t dgram[S2_MAX_DATAGRAM];
};

struct listener {
	s2_unsolicited_cb cb;
	void *arg;
};

struct s2_conn {
	struct s2_client *client;
	struct s2_conn *next;
	int fd;
	struct event *rd_ev;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[80];
	uint16_t board;
	uint32_t next_seq;
	struct req *inflight[WINDOW_MAX];
	unsigned n_inflight;
	struct req *q_head, *q_tail;
	size_t n_queued;
	bool unresponsive;
	uint64_t session; /* protocol 2.3: this conn's session id */
	uint32_t counter; /* last counter used */
	s2_unsolicited_cb ucb;
	void *uarg;
	struct listener *lis; /* s2_conn_listen */
	unsigned n_lis, cap_lis;
	struct s2_conn_stats st;
};

struct s2_client {
	struct event_base *base;
	struct s2_conn *conns;
	struct s2_transport_opts opts;
	size_t pending; /* over all conns: in flight + queued */
	bool keyed;
	struct s2_key key; /* with keyed: authenticate everything (s2_client_set_key) */
};

static void read_cb(evutil_socket_t fd, short what, void *arg);
static void timer_cb(evutil_socket_t fd, short what, void *arg);
struct req;
static int restart(struct s2_conn *conn, struct req *r);

/* The tag of protocol 2.3 with libsodium's BLAKE2b: header bytes 0-19, then the payload. */
static void auth_mac(const struct s2_key *k, const uint8_t *dgram, size_t len,
                     uint8_t tag[S2_AUTH_TAG_LEN])
{
	crypto_generichash_blake2b_state st;
	crypto_generichash_blake2b_init(&st, k->secret, S2_AUTH_KEY_LEN, S2_AUTH_TAG_LEN);
	crypto_generichash_blake2b_update(&st, dgram, 20);
	crypto_generichash_blake2b_update(&st, dgram + S2_HEADER_LEN, len - S2_HEADER_LEN);
	crypto_generichash_blake2b_final(&st, tag, S2_AUTH_TAG_LEN);
}

/* KEY ADD carries its secret wrapped for the datagram it travels in (protocol 4.19): only
 * here is the datagram's counter known. body is the request body with the plain secret. */
static void wrap_key_add(const struct s2_key *k, const struct s2_auth_trailer *t, uint8_t *body,
                         size_t len)
{
	if (len != S2_KEY_REQ_LEN || body[0] != S2_KEY_ADD)
		return;
	uint8_t msg[S2_AUTH_WRAP_MSG_LEN], ks[S2_AUTH_KEY_LEN];
	s2_auth_wrap_msg(t, msg);
	crypto_generichash_blake2b(ks, sizeof ks, msg, sizeof msg, k->secret, S2_AUTH_KEY_LEN);
	for (unsigned i = 0; i < S2_AUTH_KEY_LEN; i++)
		body[8 + i] ^= ks[i];
	sodium_memzero(ks, sizeof ks);
}

/* Encode a request (or a datagram that expects no reply) for conn: authenticated when the
 * client has a key and the type is not one bound to a session instead (bulk blocks and
 * SACKs, protocol 2.3). Returns the length or a negative code; *counter gets the counter. */
static int encode_for(struct s2_conn *conn, uint8_t *out, size_t cap, const struct s2_header *h,
                      const void *body, size_t len, uint32_t *counter)
{
	struct s2_client *c = conn->client;
	*counter = 0;
	if (h->flags & S2_F_AUTH) /* a re-encoding: the caller passes a plain header */
		return S2_E_INVAL;
	if (!c->keyed || h->type == S2_MSG_BULK_DATA || h->type == S2_MSG_BULK_SACK)
		return s2_packet_encode(out, cap, h, body, len);
	if (len > S2_AUTH_MAX_BODY)
		return S2_E_RANGE;
	struct s2_auth_trailer t = {
	        .key_id = c->key.id, .counter = ++conn->counter, .session = conn->session};
	uint8_t b[S2_MAX_PAYLOAD];
	if (len)
		memcpy(b, body, len);
	if (h->type == S2_MSG_KEY)
		wrap_key_add(&c->key, &t, b, len);
	int n = s2_auth_encode(out, cap, h, b, len, &t);
	sodium_memzero(b, len);
	if (n < 0)
		return n;
	uint8_t tag[S2_AUTH_TAG_LEN];
	auth_mac(&c->key, out, (size_t)n, tag);
	s2_packet_set_tag(out, (size_t)n, tag);
	*counter = t.counter;
	return n;
}

/* Is the reply h/payload to request r authentic (protocol 2.3)? On success *len is the body
 * length without the trailer. An unauthenticated S2_E_AUTH error reply is let through: the
 * board's answer to a request it could not authenticate (it cannot make a request succeed). */
static bool reply_authentic(const struct s2_conn *conn, const struct req *r, const uint8_t *dgram,
                            size_t dlen, const struct s2_header *h, const uint8_t *payload,
                            size_t *len)
{
	const struct s2_client *c = conn->client;
	if (!(h->flags & S2_F_AUTH)) {
		if (!c->keyed)
			return true;
		int status = 0;
		return (h->flags & S2_F_ERROR) &&
		       s2_msg_status_decode(payload, h->payload_len, &status) == 0 &&
		       status == S2_E_AUTH;
	}
	struct s2_auth_trailer t;
	if (!c->keyed || s2_auth_trailer_get(payload, h->payload_len, &t) < 0 ||
	    t.key_id != c->key.id || t.session != r->session || t.counter != r->counter)
		return false;
	uint8_t tag[S2_AUTH_TAG_LEN];
	auth_mac(&c->key, dgram, dlen, tag);
	if (sodium_memcmp(tag, h->auth_tag, S2_AUTH_TAG_LEN) != 0)
		return false;
	*len = h->payload_len - S2_AUTH_TRAILER_LEN;
	return true;
}

void s2_transport_defaults(struct s2_transport_opts *o)
{
	o->window = 32;
	o->max_attempts = 8;
	o->min_patience_us = 3000000;
	o->rto_initial_us = 100000;
	o->rto_min_us = 5000;
	o->rto_max_us = 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval tv_us(uint64_t us)
{
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
	                     .tv_usec = (suseconds_t)(us % 1000000u)};
	return tv;
}

struct s2_client *s2_client_new(const struct s2_transport_opts *opts)
{
	struct s2_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (opts)
		c->opts = *opts;
	else
		s2_transport_defaults(&c->opts);
	if (c->opts.window < 1)
		c->opts.window = 1;
	if (c->opts.window > WINDOW_MAX)
		c->opts.window = WINDOW_MAX;
	if (c->opts.max_attempts < 1)
		c->opts.max_attempts = 1;
	if (c->opts.max_attempts > S2_ATTEMPTS_MAX)
		c->opts.max_attempts = S2_ATTEMPTS_MAX;
	c->base = event_base_new();
	if (!c->base) {
		free(c);
		return NULL;
	}
	return c;
}

const struct s2_transport_opts *s2_client_opts(const struct s2_client *c)
{
	return &c->opts;
}

struct event_base *s2_client_base(struct s2_client *c)
{
	return c->base;
}

static void req_free(struct req *r)
{
	if (r->timer)
		event_free(r->timer);
	free(r);
}

/* Take r off the in-flight list (it must be there). */
static void inflight_remove(struct s2_conn *conn, struct req *r)
{
	for (unsigned i = 0; i < conn->n_inflight; i++) {
		if (conn->inflight[i] == r) {
			conn->inflight[i] = conn->inflight[--conn->n_inflight];
			return;
		}
	}
}

static void pump(struct s2_conn *conn);

/* Finish r: it is already off every list. Runs the callback, then frees r. */
static void complete(struct req *r, int status, const struct s2_header *h, const uint8_t *p,
                     size_t len)
{
	struct s2_conn *conn = r->conn;
	conn->client->pending--;
	if (h)
		conn->st.completed++;
	else
		conn->st.failed++;
	if (r->cb)
		r->cb(r->arg, status, h, p, len);
	req_free(r);
}

static void send_req(struct s2_conn *conn, struct req *r)
{
	r->attempts++;
	r->sent_at_us = now_us();
	if (r->attempts == 1)
		r->first_sent_us = r->sent_at_us;
	conn->st.sent++;
	if (r->attempts > 1)
		conn->st.retransmits++;
	conn->st.tx_bytes += r->dlen;
	/* A failed send is a lost datagram like any other: the timer retransmits it. */
	if (sendto(conn->fd, r->dgram, r->dlen, 0, (struct sockaddr *)&conn->peer, conn->peerlen) <
	    0)
		conn->st.send_errors++;
	/* Back off per request (RFC 6298 5.5, applied to this request only): one loss among
	 * many outstanding requests does not slow the others down. */
	uint64_t rto = (uint64_t)conn->st.rto_us << (r->attempts - 1 < 16 ? r->attempts - 1 : 16);
	if (rto > conn->client->opts.rto_max_us)
		rto = conn->client->opts.rto_max_us;
	struct timeval tv = tv_us((uint32_t)rto);
	evtimer_add(r->timer, &tv);
}

/* Move queued requests into the window; doom them at once if the board is unresponsive. */
static void pump(struct s2_conn *conn)
{
	while (conn->q_head && conn->n_inflight < conn->client->opts.window) {
		struct req *r = conn->q_head;
		conn->q_head = r->next;
		if (!conn->q_head)
			conn->q_tail = NULL;
		conn->n_queued--;
		r->next = NULL;
		conn->inflight[conn->n_inflight++] = r;
		if (conn->unresponsive) {
			static const struct timeval zero = {0, 0};
			r->doomed = true;
			evtimer_add(r->timer, &zero);
		} else {
			send_req(conn, r);
		}
	}
}

static uint32_t random_seq(void)
{
	uint32_t v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(&v, sizeof v, 1, f) != 1) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u ^
		    (uint32_t)getpid() << 16;
	}
	if (f)
		fclose(f);
	return v ? v : 1;
}

/* Protocol 2.3: the session's start in microseconds since the epoch, 12 random low bits. */
static uint64_t session_id(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return us << 12 | (random_seq() & 0xFFFu);
}

static void rtt_sample(struct s2_conn *conn, uint64_t rtt)
{
	struct s2_conn_stats *st = &conn->st;
	const struct s2_transport_opts *o = &conn->client->opts;
	if (rtt > UINT32_MAX / 2)
		rtt = UINT32_MAX / 2;
	if (st->srtt_us == 0) {
		st->srtt_us = (uint32_t)rtt ? (uint32_t)rtt : 1;
		st->rttvar_us = (uint32_t)rtt / 2;
	} else {
		uint32_t diff = st->srtt_us > rtt ? st->srtt_us - (uint32_t)rtt
		                                  : (uint32_t)rtt - st->srtt_us;
		st->rttvar_us = (3 * st->rttvar_us + diff) / 4;
		st->srtt_us = (7 * st->srtt_us + (uint32_t)rtt) / 8;
	}
	uint64_t rto = (uint64_t)st->srtt_us + 4u * (uint64_t)st->rttvar_us;
	if (rto < o->rto_min_us)
		rto = o->rto_min_us;
	if (rto > o->rto_max_us)
		rto = o->rto_max_us;
	st->rto_us = (uint32_t)rto;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct req *r = arg;
	struct s2_conn *conn = r->conn;
	if (!r->doomed) {
		conn->st.timeouts++;
		/* Give up after max_attempts sends, but not before min_patience_us: with a short
		 * measured RTT the back-off alone would give a busy board barely a second. */
		if (r->attempts < conn->client->opts.max_attempts ||
		    now_us() - r->first_sent_us < conn->client->opts.min_patience_us) {
			send_req(conn, r); /* with a doubled timeout */
			return;
		}
		conn->unresponsive = true;
		conn->st.gaveup_sends = r->attempts;
		conn->st.gaveup_ms = (uint32_t)((now_us() - r->first_sent_us) / 1000u);
		conn->st.gaveup_chip = r->chip;
		conn->st.gaveup_type = r->type;
	}
	inflight_remove(conn, r);
	complete(r, S2_E_TIMEOUT, NULL, NULL, 0);
	/* Everything else in flight to an unresponsive board fails now, not after its own
	 * full round of retries: a dead board costs one timeout, not one per request. */
	if (conn->unresponsive) {
		static const struct timeval zero = {0, 0};
		for (unsigned i = 0; i < conn->n_inflight; i++) {
			struct req *o = conn->inflight[i];
			if (!o->doomed) {
				o->doomed = true;
				evtimer_add(o->timer, &zero);
			}
		}
	}
	pump(conn);
}

static struct req *find_inflight(struct s2_conn *conn, uint32_t seq)
{
	for (unsigned i = 0; i < conn->n_inflight; i++)
		if (conn->inflight[i]->seq == seq)
			return conn->inflight[i];
	return NULL;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
                      const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen &&
	       evutil_sockaddr_cmp((const struct sockaddr *)a, (const struct sockaddr *)b, 1) == 0;
}

static void handle_datagram(struct s2_conn *conn, const uint8_t *buf, size_t n)
{
	struct s2_header h;
	const uint8_t *payload;
	int rc = s2_packet_decode(buf, n, &h, &payload);
	if (rc < 0) {
		conn->st.bad++;
		if (-rc < (int)(sizeof conn->st.bad_by_code / sizeof conn->st.bad_by_code[0]))
			conn->st.bad_by_code[-rc]++;
		return;
	}
	if (!(h.flags & S2_F_REPLY)) {
		conn->st.unsolicited++;
		if (conn->ucb)
			conn->ucb(conn->uarg, &h, payload, h.payload_len);
		/* By index: a listener may remove itself (or others) while called. */
		for (unsigned i = 0; i < conn->n_lis; i++) {
			struct listener l = conn->lis[i];
			l.cb(l.arg, &h, payload, h.payload_len);
			if (i < conn->n_lis &&
			    (conn->lis[i].cb != l.cb || conn->lis[i].arg != l.arg))
				i--; /* removed: the next one moved down into slot i */
		}
		return;
	}
	struct req *r = find_inflight(conn, h.seq);
	if (!r || r->doomed) {
		conn->st.duplicates++;
		return;
	}
	if (h.type != r->type || (h.chip != r->chip && r->chip != S2_ADDR_ANY) || h.pe != r->pe) {
		conn->st.mismatched++;
		return;
	}
	size_t len = h.payload_len;
	if (!reply_authentic(conn, r, buf, n, &h, payload, &len)) {
		conn->st.auth_bad++;
		return;
	}
	h.payload_len = (uint16_t)len; /* the body, without the trailer */
	conn->st.replies++;
	if (r->attempts == 1)
		rtt_sample(conn, now_us() - r->sent_at_us);
	inflight_remove(conn, r);
	int status = 0;
	if (h.flags & S2_F_ERROR) {
		if (s2_msg_status_decode(payload, len, &status) < 0)
			status = S2_E_FORMAT;
		len = 0;
	}
	if (status == S2_E_STALE && restart(conn, r) == 0)
		return; /* sent again in a new session: its reply completes it */
	complete(r, status, &h, payload, len);
	pump(conn);
}

/* The board forgot r's session (protocol 2.3): start a new one for the conn (once for all of
 * its requests of the old one) and send r again in it, as a new datagram (it was not acted
 * on). 0, or a negative code if r cannot be re-sent (then it fails with S2_E_STALE). */
static int restart(struct s2_conn *conn, struct req *r)
{
	if (!conn->client->keyed || r->restarts >= 3)
		return S2_E_STALE;
	if (r->session == conn->session) {
		conn->session = session_id();
		conn->counter = 0;
		conn->st.session_restarts++;
	}
	struct s2_header h;
	const uint8_t *p;
	if (s2_packet_decode(r->dgram, r->dlen, &h, &p) < 0 || h.payload_len < S2_AUTH_TRAILER_LEN)
		return S2_E_STALE;
	uint8_t body[S2_MAX_PAYLOAD];
	size_t len = h.payload_len - S2_AUTH_TRAILER_LEN;
	memcpy(body, p, len);
	if (h.type == S2_MSG_KEY && len == S2_KEY_REQ_LEN && body[0] == S2_KEY_ADD) {
		/* The secret travelled wrapped for the old datagram: unwrap it first. */
		struct s2_auth_trailer t;
		(void)s2_auth_trailer_get(p, h.payload_len, &t);
		wrap_key_add(&conn->client->key, &t, body, len);
	}
	h.flags = 0;
	memset(h.auth_tag, 0, sizeof h.auth_tag);
	int n = encode_for(conn, r->dgram, sizeof r->dgram, &h, body, len, &r->counter);
	sodium_memzero(body, sizeof body);
	if (n < 0)
		return n;
	r->dlen = (uint16_t)n;
	r->session = conn->session;
	r->restarts++;
	evtimer_del(r->timer);
	send_req(conn, r);
	return 0;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct s2_conn *conn = arg;
	uint8_t buf[S2_MAX_DATAGRAM + 1];
	/* Drain what is there, but yield after a batch so other boards get their turn. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (!same_addr(&from, fromlen, &conn->peer, conn->peerlen)) {
			conn->st.wrong_source++;
			continue;
		}
		conn->st.rx_bytes += (uint64_t)n;
		handle_datagram(conn, buf, (size_t)n);
	}
}

struct s2_conn *s2_conn_open(struct s2_client *c, const char *host, uint16_t port, uint16_t board)
{
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
		errno = EHOSTUNREACH;
		return NULL;
	}
	struct s2_conn *conn = calloc(1, sizeof *conn);
	if (!conn)
		goto err_ai;
	conn->fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (conn->fd < 0)
		goto err_conn;
	if (evutil_make_socket_nonblocking(conn->fd) < 0 ||
	    evutil_make_socket_closeonexec(conn->fd) < 0)
		goto err_fd;
	int sz = 4 << 20;
	(void)setsockopt(conn->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	memcpy(&conn->peer, ai->ai_addr, ai->ai_addrlen);
	conn->peerlen = (socklen_t)ai->ai_addrlen;
	snprintf(conn->peer_str, sizeof conn->peer_str, "%s:%u", host, (unsigned)port);
	conn->rd_ev = event_new(c->base, conn->fd, EV_READ | EV_PERSIST, read_cb, conn);
	if (!conn->rd_ev || event_add(conn->rd_ev, NULL) < 0)
		goto err_ev;
	conn->client = c;
	conn->board = board;
	/* A random first sequence number: a later process that gets the same UDP port must not
	 * match replies a board still holds for this one. */
	conn->next_seq = random_seq();
	conn->session = session_id();
	conn->st.rto_us = c->opts.rto_initial_us;
	conn->next = c->conns;
	c->conns = conn;
	freeaddrinfo(ai);
	return conn;

err_ev:
	if (conn->rd_ev)
		event_free(conn->rd_ev);
err_fd:
	close(conn->fd);
err_conn:
	free(conn);
err_ai:
	freeaddrinfo(ai);
	errno = errno ? errno : ENOMEM;
	return NULL;
}

int s2_conn_request(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                    size_t len, s2_reply_cb cb, void *arg)
{
	if (len > S2_MAX_PAYLOAD)
		return S2_E_RANGE;
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	r->timer = evtimer_new(conn->client->base, timer_cb, r);
	if (!r->timer) {
		free(r);
		return S2_E_NOMEM;
	}
	struct s2_header h = {.type = type,
	                      .seq = conn->next_seq++,
	                      .board = conn->board,
	                      .chip = chip,
	                      .pe = pe};
	if (conn->next_seq == 0)
		conn->next_seq = 1;
	int n = encode_for(conn, r->dgram, sizeof r->dgram, &h, body, len, &r->counter);
	if (n < 0) {
		req_free(r);
		return n;
	}
	r->session = conn->session;
	r->conn = conn;
	r->seq = h.seq;
	r->type = type;
	r->chip = chip;
	r->pe = pe;
	r->dlen = (uint16_t)n;
	r->cb = cb;
	r->arg = arg;
	if (conn->q_tail)
		conn->q_tail->next = r;
	else
		conn->q_head = r;
	conn->q_tail = r;
	conn->n_queued++;
	conn->st.requests++;
	conn->client->pending++;
	pump(conn);
	return 0;
}

int s2_client_wait(struct s2_client *c)
{
	while (c->pending > 0)
		if (event_base_loop(c->base, EVLOOP_ONCE) < 0)
			return S2_E_IO;
	return 0;
}

int s2_conn_send(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                 size_t len)
{
	if (len > S2_MAX_PAYLOAD)
		return S2_E_RANGE;
	uint8_t dgram[S2_MAX_DATAGRAM];
	struct s2_header h = {.type = type,
	                      .seq = conn->next_seq++,
	                      .board = conn->board,
	                      .chip = chip,
	                      .pe = pe};
	if (conn->next_seq == 0)
		conn->next_seq = 1;
	uint32_t counter;
	int n = encode_for(conn, dgram, sizeof dgram, &h, body, len, &counter);
	if (n < 0)
		return n;
	conn->st.sent++;
	conn->st.sent_noreply++;
	conn->st.tx_bytes += (uint64_t)n;
	if (sendto(conn->fd, dgram, (size_t)n, 0, (struct sockaddr *)&conn->peer, conn->peerlen) <
	    0)
		conn->st.send_errors++;
	return 0;
}

int s2_conn_listen(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg)
{
	if (conn->n_lis == conn->cap_lis) {
		unsigned cap = conn->cap_lis ? 2 * conn->cap_lis : 8;
		struct listener *l = realloc(conn->lis, cap * sizeof *l);
		if (!l)
			return S2_E_NOMEM;
		conn->lis = l;
		conn->cap_lis = cap;
	}
	conn->lis[conn->n_lis++] = (struct listener){cb, arg};
	return 0;
}

void s2_conn_unlisten(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg)
{
	for (unsigned i = 0; i < conn->n_lis; i++) {
		if (conn->lis[i].cb == cb && conn->lis[i].arg == arg) {
			memmove(&conn->lis[i], &conn->lis[i + 1],
			        (conn->n_lis - i - 1) * sizeof *conn->lis);
			conn->n_lis--;
			return;
		}
	}
}

void s2_client_hold(struct s2_client *c)
{
	c->pending++;
}

void s2_client_release(struct s2_client *c)
{
	c->pending--;
}

void s2_conn_on_unsolicited(struct s2_conn *conn, s2_unsolicited_cb cb, void *arg)
{
	conn->ucb = cb;
	conn->uarg = arg;
}

size_t s2_conn_pending(const struct s2_conn *conn)
{
	return conn->n_inflight + conn->n_queued;
}

bool s2_conn_unresponsive(const struct s2_conn *conn)
{
	return conn->unresponsive;
}

void s2_conn_reset_responsive(struct s2_conn *conn)
{
	conn->unresponsive = false;
	conn->st.rto_us = conn->client->opts.rto_initial_us;
}

const struct s2_conn_stats *s2_conn_stats(const struct s2_conn *conn)
{
	return &conn->st;
}

uint16_t s2_conn_board(const struct s2_conn *conn)
{
	return conn->board;
}

struct s2_client *s2_conn_client(const struct s2_conn *conn)
{
	return conn->client;
}

const char *s2_conn_peer(const struct s2_conn *conn)
{
	return conn->peer_str;
}

void s2_conn_summary(const struct s2_conn *conn, char *out, size_t cap)
{
	const struct s2_conn_stats *s = s2_conn_stats(conn);
	int n = snprintf(out, cap,
	                 "%s: %" PRIu64 " requests, %" PRIu64 " sent, %" PRIu64
	                 " retransmitted, %" PRIu64 " timeouts, %" PRIu64
	                 " duplicate replies, %" PRIu64 " bad datagrams, srtt %u us",
	                 s2_conn_peer(conn), s->requests, s->sent, s->retransmits, s->timeouts,
	                 s->duplicates, s->bad, s->srtt_us);
	/* Which request the board left unanswered, and how hard we tried (--attempts). */
	if (s->gaveup_sends && n >= 0 && (size_t)n < cap) {
		char chip[16] = "";
		if (s->gaveup_chip != S2_ADDR_ANY)
			snprintf(chip, sizeof chip, " to chip %u", s->gaveup_chip);
		snprintf(out + n, cap - (size_t)n, "; gave up on %s%s after %u sends in %u.%u s",
		         s2_msg_name(s->gaveup_type), chip, s->gaveup_sends, s->gaveup_ms / 1000u,
		         s->gaveup_ms % 1000u / 100u);
	}
}

static void conn_free(struct s2_conn *conn)
{
	/* Fail what is left, so every callback runs exactly once. */
	while (conn->n_inflight) {
		struct req *r = conn->inflight[--conn->n_inflight];
		complete(r, S2_E_IO, NULL, NULL, 0);
	}
	while (conn->q_head) {
		struct req *r = conn->q_head;
		conn->q_head = r->next;
		complete(r, S2_E_IO, NULL, NULL, 0);
	}
	event_free(conn->rd_ev);
	close(conn->fd);
	free(conn->lis);
	free(conn);
}

void s2_client_free(struct s2_client *c)
{
	if (!c)
		return;
	while (c->conns) {
		struct s2_conn *conn = c->conns;
		c->conns = conn->next;
		conn_free(conn);
	}
	event_base_free(c->base);
	sodium_memzero(&c->key, sizeof c->key);
	free(c);
}

int s2_client_set_key(struct s2_client *c, const struct s2_key *k)
{
	if (k && sodium_init() < 0)
		return S2_E_IO;
	c->keyed = k != NULL;
	if (k)
		c->key = *k;
	else
		sodium_memzero(&c->key, sizeof c->key);
	return 0;
}

const struct s2_key *s2_client_key(const struct s2_client *c)
{
	return c->keyed ? &c->key : NULL;
}
