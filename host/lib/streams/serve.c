/*
 * The fan-out server (s2/serve.h, docs/stream.md "Serving applications") of s2ctl stream
 * --serve and s2ctl replay --serve, and of any program that has a live stream. It listens on a Unix
 * socket or a TCP port with an evconnlistener in the stream's own event loop, and gives each
 * connected client the live stream as framed StreamMessages (proto/pb/stream.proto): a u32
 * little-endian length, then the message.
 *
 * Each message is encoded once into a scratch frame and copied into the output buffer of every
 * client's bufferevent, which libevent writes as the socket takes it (partial writes
 * included), so nothing here ever blocks. A client's queue is that output buffer plus its
 * kernel socket buffer, which is shrunk to queue_bytes when that is smaller: a message that
 * would take the output buffer over queue_bytes is dropped for that client alone and counted,
 * and before the next message that fits (or as soon as its buffer empties) the client gets a
 * Drops message with its totals. Hello (on connecting) and Summary (at the end) are never
 * dropped. SIGPIPE is ignored while the server is open: a client that went away shows as
 * EPIPE on a write, and the client is closed and its line printed.
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "s2/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "s2/error.h"
#include "s2/live.h"
#include "s2pb/stream.pb-c.h"

#define SERVE_VERSION 1u            /* StreamMessage.Hello.version */
#define SERVE_MAX_FRAME (16u << 20) /* largest message a client must accept */
#define SERVE_MAX_CLIENTS 64u       /* connected at once; more are refused */
#define SERVE_FLUSH_MS 2000         /* s2_serve_finish waits at most this for clients */
#define SERVE_LOOP_SLICE_US 20000   /* event loop slice while s2_serve_finish waits */
#define SERVE_SMALL_FRAME 256u      /* Drops and Summary frames fit in this */

struct serve_client {
	struct s2_serve *sv;
	struct serve_client *prev, *next;
	struct bufferevent *bev;
	unsigned id;   /* 1, 2, ... in order of connection */
	char peer[64]; /* "pid 1234" (Unix socket) or "127.0.0.1:5678" */
	uint64_t sent_msgs, sent_spikes, sent_bytes;
	uint64_t drop_msgs, drop_spikes;
	bool owe_drops; /* dropped something since the last Drops it was sent */
	bool closing;   /* Summary queued: close once the output buffer is empty */
};

struct s2_serve {
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *accept_retry; /* re-enables the listener after an accept error */
	char *unix_path;            /* the socket file we made, unlinked on close */
	dev_t unix_dev;
	ino_t unix_ino;
	size_t queue_bytes;
	uint8_t *hello; /* Hello frame, sent to every client first */
	size_t hello_len;
	uint8_t *frame; /* scratch: the frame being sent */
	size_t frame_cap;
	uint32_t *cols; /* scratch: pop, neuron, step columns of a Spikes message */
	size_t cols_cap;
	struct serve_client *clients;
	unsigned n_clients, next_id;
	bool finished;
	struct sigaction old_pipe; /* SIGPIPE action before s2_serve_open */
	uint64_t frames_dropped_nomem;
	s2_serve_log log; /* lines for a person (NULL: none) */
	void *log_arg;
};

/* A line for a person, to the log callback (formatted without its final newline). */
__attribute__((format(printf, 2, 3))) static void say(const struct s2_serve *sv, const char *fmt,
                                                      ...)
{
	if (!sv->log)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = 0;
	sv->log(sv->log_arg, line);
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *ctx);
static void accept_error_cb(struct evconnlistener *lis, void *ctx);
static void accept_retry_cb(evutil_socket_t fd, short what, void *ctx);
static void client_read_cb(struct bufferevent *bev, void *ctx);
static void client_write_cb(struct bufferevent *bev, void *ctx);
static void client_event_cb(struct bufferevent *bev, short what, void *ctx);

static const char *const counter_names[S2_LIVE_COUNTERS] = {
        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Encode m as a frame into sv->frame (grown as needed). Frame length, or 0 if out of memory
 * or over SERVE_MAX_FRAME. */
static size_t encode_frame(struct s2_serve *sv, const S2pb__StreamMessage *m)
{
	size_t n = s2pb__stream_message__get_packed_size(m);
	if (n > SERVE_MAX_FRAME)
		return 0;
	if (n + 4 > sv->frame_cap) {
		size_t cap = sv->frame_cap ? sv->frame_cap : 1024;
		while (cap < n + 4)
			cap *= 2;
		uint8_t *f = realloc(sv->frame, cap);
		if (!f)
			return 0;
		sv->frame = f;
		sv->frame_cap = cap;
	}
	put_le32(sv->frame, (uint32_t)n);
	s2pb__stream_message__pack(m, sv->frame + 4);
	return n + 4;
}

/* A small frame (Drops, Summary) into out[SERVE_SMALL_FRAME]; its length. */
static size_t encode_small(const S2pb__StreamMessage *m, uint8_t *out)
{
	size_t n = s2pb__stream_message__get_packed_size(m);
	if (n + 4 > SERVE_SMALL_FRAME)
		return 0; /* cannot happen: at most 16 varints of 10 bytes */
	put_le32(out, (uint32_t)n);
	s2pb__stream_message__pack(m, out + 4);
	return n + 4;
}

static size_t queued(const struct serve_client *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Append a frame to the client's output buffer, whatever its length; false if libevent could
 * not allocate. */
static bool client_put(struct serve_client *c, const uint8_t *frame, size_t len, uint64_t spikes)
{
	if (bufferevent_write(c->bev, frame, len) < 0)
		return false;
	c->sent_msgs++;
	c->sent_spikes += spikes;
	c->sent_bytes += len;
	return true;
}

static size_t drops_frame(const struct serve_client *c, uint8_t *out)
{
	S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
	S2pb__StreamMessage__Drops d = S2PB__STREAM_MESSAGE__DROPS__INIT;
	d.messages = c->drop_msgs;
	d.spikes = c->drop_spikes;
	m.msg_case = S2PB__STREAM_MESSAGE__MSG_DROPS;
	m.drops = &d;
	return encode_small(&m, out);
}

static void client_drop(struct serve_client *c, uint64_t spikes)
{
	c->drop_msgs++;
	c->drop_spikes += spikes;
	c->owe_drops = true;
}

/* Queue one frame for c if it fits in the client's queue, preceded by the Drops it is owed;
 * otherwise count it as dropped for c. */
static void client_offer(struct serve_client *c, const uint8_t *frame, size_t len, uint64_t spikes)
{
	if (c->closing)
		return;
	uint8_t dframe[SERVE_SMALL_FRAME];
	size_t dlen = c->owe_drops ? drops_frame(c, dframe) : 0;
	if (queued(c) + dlen + len > c->sv->queue_bytes) {
		client_drop(c, spikes);
		return;
	}
	if (dlen) {
		if (!client_put(c, dframe, dlen, 0)) {
			client_drop(c, spikes);
			return;
		}
		c->owe_drops = false;
	}
	if (!client_put(c, frame, len, spikes))
		client_drop(c, spikes);
}

/* Offer sv->frame[0..len) to every client; len 0 (could not encode): a drop for each. */
static void broadcast(struct s2_serve *sv, size_t len, uint64_t spikes)
{
	if (!len)
		sv->frames_dropped_nomem++;
	for (struct serve_client *c = sv->clients; c; c = c->next) {
		if (!len) {
			if (!c->closing)
				client_drop(c, spikes);
			continue;
		}
		client_offer(c, sv->frame, len, spikes);
	}
}

/* The client's closing line on stderr, then its connection and memory freed. */
static void client_end(struct serve_client *c, const char *how)
{
	struct s2_serve *sv = c->sv;
	say(sv,
	    "client %u (%s): sent %llu messages, %llu spikes, %llu bytes; "
	    "dropped %llu messages, %llu spikes; %s\n",
	    c->id, c->peer, (unsigned long long)c->sent_msgs, (unsigned long long)c->sent_spikes,
	    (unsigned long long)c->sent_bytes, (unsigned long long)c->drop_msgs,
	    (unsigned long long)c->drop_spikes, how);
	if (c->prev)
		c->prev->next = c->next;
	else
		sv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sv->n_clients--;
	bufferevent_free(c->bev);
	free(c);
}

/* "pid N" of a Unix socket peer, "ADDR:PORT" of a TCP one. */
static void peer_name(evutil_socket_t fd, const struct sockaddr *sa, char *out, size_t cap)
{
	if (sa->sa_family == AF_UNIX) {
		struct ucred cr;
		socklen_t l = sizeof cr;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l))
			snprintf(out, cap, "pid %ld", (long)cr.pid);
		else
			snprintf(out, cap, "unix peer");
		return;
	}
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		port = ntohs(in->sin_port);
		snprintf(out, cap, "%s:%u", a, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, "[%s]:%u", a, port);
	} else {
		snprintf(out, cap, "peer");
	}
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *ctx)
{
	(void)lis;
	(void)socklen;
	struct s2_serve *sv = ctx;
	char peer[64];
	peer_name(fd, sa, peer, sizeof peer);
	if (sv->finished || sv->n_clients >= SERVE_MAX_CLIENTS) {
		if (sv->finished)
			say(sv, "client (%s) refused: the stream has ended\n", peer);
		else
			say(sv, "client (%s) refused: %u clients already connected\n", peer,
			    SERVE_MAX_CLIENTS);
		evutil_closesocket(fd);
		return;
	}
	/* The kernel's socket buffer is part of the client's queue: keep it no bigger than
	 * queue_bytes, so a slow client's backlog stays bounded where the server can see it. */
	int sndbuf = 0;
	socklen_t l = sizeof sndbuf;
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &l) && sndbuf > 0 &&
	    sv->queue_bytes < (size_t)sndbuf) {
		int want = (int)sv->queue_bytes;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
	}
	if (sa->sa_family != AF_UNIX) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	struct serve_client *c = calloc(1, sizeof *c);
	struct bufferevent *bev =
	        c ? bufferevent_socket_new(sv->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev) {
		say(sv, "client (%s) refused: out of memory\n", peer);
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->sv = sv;
	c->bev = bev;
	c->id = ++sv->next_id;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	c->next = sv->clients;
	if (sv->clients)
		sv->clients->prev = c;
	sv->clients = c;
	sv->n_clients++;
	bufferevent_setcb(bev, client_read_cb, client_write_cb, client_event_cb, c);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) < 0 ||
	    !client_put(c, sv->hello, sv->hello_len, 0)) {
		client_end(c, "closed: could not start (out of memory)");
		return;
	}
	say(sv, "client %u (%s) connected\n", c->id, c->peer);
}

/* EMFILE and the like: the pending connection stays in the backlog, so the listener would
 * fire again at once; pause it for a second instead of spinning. */
static void accept_error_cb(struct evconnlistener *lis, void *ctx)
{
	struct s2_serve *sv = ctx;
	say(sv, "accepting a client: %s (trying again in 1 s)\n",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(lis);
	struct timeval tv = {1, 0};
	evtimer_add(sv->accept_retry, &tv);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	struct s2_serve *sv = ctx;
	if (!sv->finished)
		evconnlistener_enable(sv->lis);
}

/* Clients only read: whatever they send is discarded. */
static void client_read_cb(struct bufferevent *bev, void *ctx)
{
	(void)ctx;
	struct evbuffer *in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The output buffer is empty: the Drops the client is owed, or, after the Summary, close. */
static void client_write_cb(struct bufferevent *bev, void *ctx)
{
	(void)bev;
	struct serve_client *c = ctx;
	if (c->closing) {
		client_end(c, "flushed");
		return;
	}
	if (c->owe_drops) {
		uint8_t dframe[SERVE_SMALL_FRAME];
		size_t dlen = drops_frame(c, dframe);
		if (dlen && client_put(c, dframe, dlen, 0))
			c->owe_drops = false;
	}
}

static void client_event_cb(struct bufferevent *bev, short what, void *ctx)
{
	struct serve_client *c = ctx;
	char how[160];
	if (what & BEV_EVENT_ERROR) {
		snprintf(how, sizeof how, "disconnected (%s)",
		         evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		client_end(c, how);
	} else if (what & BEV_EVENT_EOF) {
		/* The client closed its side. It may only have shut down writing and still read:
		 * keep it until a write fails (EPIPE) or the stream ends. */
		bufferevent_disable(bev, EV_READ);
	}
}

/* Make the Hello frame of a plan. 0 or S2_E_NOMEM. */
static int make_hello(struct s2_serve *sv, const struct s2_plan *plan)
{
	S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
	S2pb__StreamMessage__Hello h = S2PB__STREAM_MESSAGE__HELLO__INIT;
	char **labels = calloc(plan->n_pops ? plan->n_pops : 1, sizeof *labels);
	if (!labels)
		return S2_E_NOMEM;
	for (unsigned i = 0; i < plan->n_pops; i++)
		labels[i] = plan->pops[i].label;
	h.version = SERVE_VERSION;
	h.n_populations = plan->n_pops;
	h.populations = labels;
	h.timestep_ms = plan->dt_ms;
	h.n_counters = S2_LIVE_COUNTERS;
	h.counters = (char **)counter_names;
	m.msg_case = S2PB__STREAM_MESSAGE__MSG_HELLO;
	m.hello = &h;
	size_t len = encode_frame(sv, &m);
	free(labels);
	if (!len || !(sv->hello = malloc(len)))
		return S2_E_NOMEM;
	memcpy(sv->hello, sv->frame, len);
	sv->hello_len = len;
	return 0;
}

/* A Unix socket file at path that no server answers on: remove it. Otherwise say why not. */
static int remove_stale(const char *path, const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s", strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket: not replacing it", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	int e = errno;
	close(fd);
	if (!rc) {
		snprintf(err, errlen, "another server is listening on %s", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot tell whether it is in use (%s)", path,
		         strerror(e));
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "removing the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_unix(struct s2_serve *sv, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (!*path || strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path must be 1 to %zu bytes",
		         sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (remove_stale(path, &sun, err, errlen) < 0)
		return -1;
	sv->lis = evconnlistener_new_bind(sv->base, accept_cb, sv,
	                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	                                  (struct sockaddr *)&sun, sizeof sun);
	if (!sv->lis) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (!(sv->unix_path = strdup(path)) || lstat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         sv->unix_path ? strerror(errno) : "out of memory");
		return -1;
	}
	sv->unix_dev = st.st_dev;
	sv->unix_ino = st.st_ino;
	say(sv, "serving on unix:%s\n", path);
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* spec: "ADDR:PORT", "[ADDR6]:PORT", "localhost:PORT" or "PORT" (127.0.0.1); addresses are
 * numeric, never looked up. */
static int parse_tcp(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
                     size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	const char *port = colon ? colon + 1 : spec;
	size_t hl = colon ? (size_t)(colon - spec) : 0;
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || *port == '-' || *port == '+') {
		snprintf(err, errlen, "'%s': expected ADDR:PORT with a port 0..65535", spec);
		return -1;
	}
	if (hl >= sizeof host) {
		snprintf(err, errlen, "'%s': address too long", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (!hl || !strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)p);
			*sslen = sizeof *in6;
			return 0;
		}
	} else if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*sslen = sizeof *in;
		return 0;
	}
	snprintf(err, errlen,
	         "'%s': the address must be numeric (127.0.0.1, [::1]) or localhost; names are "
	         "not looked up",
	         spec);
	return -1;
}

static int listen_tcp(struct s2_serve *sv, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_tcp(spec, &ss, &sslen, err, errlen) < 0)
		return -1;
	if (!is_loopback(&ss))
		/* Given explicitly, so allowed; but there is no authentication on the stream. */
		say(sv,
		    "warning: serving on %s, not a loopback address: anyone who "
		    "can reach it can read the stream\n",
		    spec);
	sv->lis = evconnlistener_new_bind(sv->base, accept_cb, sv,
	                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	                                          LEV_OPT_REUSEABLE,
	                                  16, (struct sockaddr *)&ss, (int)sslen);
	if (!sv->lis) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
		return -1;
	}
	struct sockaddr_storage bound = {.ss_family = AF_UNSPEC};
	socklen_t bl = sizeof bound;
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned bport = 0;
	if (!getsockname(evconnlistener_get_fd(sv->lis), (struct sockaddr *)&bound, &bl)) {
		if (bound.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&bound;
			inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
			bport = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&bound;
			inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
			bport = ntohs(in6->sin6_port);
		}
	}
	if (bound.ss_family == AF_INET6)
		say(sv, "serving on tcp:[%s]:%u\n", a, bport);
	else
		say(sv, "serving on tcp:%s:%u\n", a, bport);
	return 0;
}

struct s2_serve *s2_serve_open(struct event_base *base, const char *spec,
                               const struct s2_plan *plan, size_t queue_bytes, s2_serve_log log,
                               void *log_arg, char *err, size_t errlen)
{
	if (!queue_bytes) {
		snprintf(err, errlen, "the client queue must hold at least 1 byte");
		return NULL;
	}
	struct s2_serve *sv = calloc(1, sizeof *sv);
	if (!sv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sv->base = base;
	sv->log = log;
	sv->log_arg = log_arg;
	sv->queue_bytes = queue_bytes;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &sv->old_pipe);
	if (make_hello(sv, plan) < 0 ||
	    !(sv->accept_retry = evtimer_new(base, accept_retry_cb, sv))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int rc;
	if (!strncmp(spec, "unix:", 5))
		rc = listen_unix(sv, spec + 5, err, errlen);
	else if (!strncmp(spec, "tcp:", 4))
		rc = listen_tcp(sv, spec + 4, err, errlen);
	else {
		snprintf(err, errlen, "expected unix:PATH or tcp:127.0.0.1:PORT");
		rc = -1;
	}
	if (rc < 0)
		goto fail;
	evconnlistener_set_error_cb(sv->lis, accept_error_cb);
	return sv;
fail:
	s2_serve_close(sv);
	return NULL;
}

void s2_serve_spikes(struct s2_serve *sv, const struct s2_spike *s, size_t n)
{
	if (sv->finished || !sv->clients || !n)
		return;
	size_t len = 0;
	if (n <= SIZE_MAX / 3 / sizeof *sv->cols) {
		if (3 * n > sv->cols_cap) {
			uint32_t *cols = realloc(sv->cols, 3 * n * sizeof *cols);
			if (cols) {
				sv->cols = cols;
				sv->cols_cap = 3 * n;
			}
		}
		if (3 * n <= sv->cols_cap) {
			S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
			S2pb__StreamMessage__Spikes sp = S2PB__STREAM_MESSAGE__SPIKES__INIT;
			sp.n_pop = sp.n_neuron = sp.n_step = n;
			sp.pop = sv->cols;
			sp.neuron = sv->cols + n;
			sp.step = sv->cols + 2 * n;
			for (size_t i = 0; i < n; i++) {
				sp.pop[i] = s[i].pop;
				sp.neuron[i] = s[i].neuron;
				sp.step[i] = s[i].step;
			}
			m.msg_case = S2PB__STREAM_MESSAGE__MSG_SPIKES;
			m.spikes = &sp;
			len = encode_frame(sv, &m);
		}
	}
	broadcast(sv, len, n);
}

void s2_serve_energy(struct s2_serve *sv, const struct s2_energy_sample *e)
{
	if (sv->finished || !sv->clients)
		return;
	S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
	S2pb__StreamMessage__Energy en = S2PB__STREAM_MESSAGE__ENERGY__INIT;
	uint64_t counters[S2_LIVE_COUNTERS];
	memcpy(counters, e->counters, sizeof counters);
	en.board = e->board;
	en.chip = e->chip;
	en.step = e->step;
	en.time_us = e->time_us;
	en.n_counters = S2_LIVE_COUNTERS;
	en.counters = counters;
	m.msg_case = S2PB__STREAM_MESSAGE__MSG_ENERGY;
	m.energy = &en;
	broadcast(sv, encode_frame(sv, &m), 0);
}

void s2_serve_event(struct s2_serve *sv, const struct s2_run_event *ev)
{
	if (sv->finished || !sv->clients)
		return;
	S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
	S2pb__StreamMessage__Event e = S2PB__STREAM_MESSAGE__EVENT__INIT;
	e.board = ev->board;
	e.event = ev->event == S2_LIVE_STARTED ? "started"
	          : ev->event == S2_LIVE_DONE  ? "done"
	                                       : "stopped";
	e.step = ev->step;
	e.time_us = ev->time_us;
	m.msg_case = S2PB__STREAM_MESSAGE__MSG_EVENT;
	m.event = &e;
	broadcast(sv, encode_frame(sv, &m), 0);
}

void s2_serve_finish(struct s2_serve *sv, const struct s2_stream_stats *st)
{
	if (sv->finished)
		return;
	sv->finished = true;
	if (sv->lis)
		evconnlistener_disable(sv->lis);
	evtimer_del(sv->accept_retry);
	if (sv->frames_dropped_nomem)
		say(sv,
		    "%llu messages could not be encoded (out of memory): "
		    "counted as dropped for every client\n",
		    (unsigned long long)sv->frames_dropped_nomem);
	/* The Summary goes to every client whatever its queue: it is the last message. */
	struct serve_client *next;
	for (struct serve_client *c = sv->clients; c; c = next) {
		next = c->next;
		S2pb__StreamMessage m = S2PB__STREAM_MESSAGE__INIT;
		S2pb__StreamMessage__Summary su = S2PB__STREAM_MESSAGE__SUMMARY__INIT;
		S2pb__StreamMessage__Drops d = S2PB__STREAM_MESSAGE__DROPS__INIT;
		su.packets = st->packets;
		su.bytes = st->bytes;
		su.spikes = st->spikes;
		su.energy_samples = st->energy_samples;
		su.events = st->events;
		su.lost = st->lost;
		su.late = st->late;
		su.duplicates = st->duplicates;
		su.stale = st->stale;
		su.bad = st->bad;
		su.foreign = st->foreign;
		su.unknown_source = st->unknown_source;
		su.board_dropped = st->board_dropped;
		su.rx_errors = st->rx_errors;
		su.sent_messages = c->sent_msgs;
		su.sent_spikes = c->sent_spikes;
		d.messages = c->drop_msgs;
		d.spikes = c->drop_spikes;
		su.drops = &d;
		m.msg_case = S2PB__STREAM_MESSAGE__MSG_SUMMARY;
		m.summary = &su;
		uint8_t frame[SERVE_SMALL_FRAME];
		size_t len = encode_small(&m, frame);
		c->owe_drops = false;
		if (!len || !client_put(c, frame, len, 0)) {
			client_end(c, "closed: could not queue its summary (out of memory)");
			continue;
		}
		c->closing = true;
	}
	/* Wait, bounded, while libevent writes the queues out; client_write_cb closes each
	 * client as its queue empties. */
	double deadline = now_s() + SERVE_FLUSH_MS / 1000.0;
	while (sv->clients && now_s() < deadline) {
		struct timeval tv = {0, SERVE_LOOP_SLICE_US};
		event_base_loopexit(sv->base, &tv);
		event_base_dispatch(sv->base);
	}
	for (struct serve_client *c = sv->clients; c; c = next) {
		char how[128];
		next = c->next;
		snprintf(how, sizeof how, "not flushed: %zu bytes still queued after %d ms, closed",
		         queued(c), SERVE_FLUSH_MS);
		client_end(c, how);
	}
}

void s2_serve_close(struct s2_serve *sv)
{
	if (!sv)
		return;
	while (sv->clients)
		client_end(sv->clients, "closed before the end of the stream");
	if (sv->lis)
		evconnlistener_free(sv->lis);
	if (sv->accept_retry)
		event_free(sv->accept_retry);
	if (sv->unix_path) {
		/* Only our own socket file: another server may have replaced it since. */
		struct stat st;
		if (!lstat(sv->unix_path, &st) && st.st_dev == sv->unix_dev &&
		    st.st_ino == sv->unix_ino)
			unlink(sv->unix_path);
		free(sv->unix_path);
	}
	sigaction(SIGPIPE, &sv->old_pipe, NULL);
	free(sv->hello);
	free(sv->frame);
	free(sv->cols);
	free(sv);
}
