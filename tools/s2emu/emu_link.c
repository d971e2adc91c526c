/* Board-to-board links between s2emu processes (emu_link.h, docs/s2emu.md). */
#include "emu_link.h"

#include <event2/event.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "s2/error.h"
#include "s2/machine.h"
#include "s2/wire.h"

#define LINK_MAGIC 0x4B4C3253u /* "S2LK" */
#define LINK_HDR 28u
#define LINK_PKT 24u
#define LINK_DGRAM 32768u
#define PER_DGRAM ((LINK_DGRAM - LINK_HDR) / LINK_PKT)
#define HELLO_RETRY_US 20000u
#define ABSENT_US 3000000u /* a board that never answers is served by nobody */
#define POLL_US 2000u
#define NACK_US 50000u

enum { LK_HELLO = 1, LK_STATUS, LK_BATCH, LK_NACK };
enum { OWN_UNKNOWN = -1, OWN_ABSENT = -2, OWN_SELF = -3 };

struct saved {
	uint32_t step;
	uint16_t round;
	uint16_t len;
	uint8_t *d;
};

struct peer {
	uint16_t first, last;
	struct sockaddr_storage addr;
	socklen_t alen;
	bool has_app, ready, part;
	uint64_t status_us;
	struct emu_link_pkt *out; /* the current round's packets for this peer */
	size_t n_out, cap_out;
	bool out_any; /* -- unused: the any flag is process-wide */
	struct saved *sv;
	size_t n_sv, cap_sv;
	/* Counters (per link: this process to that one and back). */
	uint64_t pkts_out, pkts_in, lost, dgrams_out, dgrams_in, resent, nacks_sent, rounds;
	uint64_t wait_us, wait_max_us;
};

struct rpart {
	uint16_t peer;
	uint32_t step;
	uint16_t round, part, n_parts, n;
	bool any;
	uint64_t t_us;
	struct emu_link_pkt *p;
};

static struct {
	struct emu *e;
	int fd;
	struct event *ev;
	bool active;
	unsigned total;
	int16_t *owner; /* [total] */
	struct peer *peers;
	unsigned n_peers;
	/* Discovery and start. */
	bool disc_done, starting;
	unsigned disc_board;
	uint64_t disc_t0, disc_sent, start_t0, last_poll;
	/* The exchange. */
	bool sent_any; /* this process sent a packet in the current round */
	struct rpart *rp;
	size_t n_rp, cap_rp;
	struct emu_link_pkt *in;
	size_t n_in, cap_in;
	uint32_t w_step;
	unsigned w_round;
	uint64_t w_t0, w_nack;
	bool w_valid;
	/* The link model. */
	double loss;
	uint64_t rng;
	void (*kick)(void);
} L = {.fd = -1};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double rand01(void)
{
	uint64_t z = (L.rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

void emu_link_set_loss(double p, uint64_t seed)
{
	L.loss = p;
	L.rng = seed ^ 0x6C696E6B6C6F7373ull;
}

void emu_link_set_kick(void (*kick)(void))
{
	L.kick = kick;
}

bool emu_link_active(const struct emu *e)
{
	(void)e;
	return L.active;
}

bool emu_link_is(const uint8_t *d, size_t len)
{
	return len >= 8 && s2_ld32(d) == LINK_MAGIC;
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *sa, socklen_t *len)
{
	char ps[8];
	snprintf(ps, sizeof ps, "%u", (unsigned)port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
		return S2_E_INVAL;
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	*len = (socklen_t)ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void read_cb(evutil_socket_t fd, short what, void *arg);

int emu_link_open(struct emu *e, const char *host)
{
	L.e = e;
	L.total = s2_machine_boards(e->machine);
	if (e->n_boards >= L.total)
		return 0; /* the whole machine: nothing leaves */
	L.owner = malloc(L.total * sizeof *L.owner);
	if (!L.owner)
		return S2_E_NOMEM;
	for (unsigned b = 0; b < L.total; b++)
		L.owner[b] = b >= e->first && b < e->first + e->n_boards ? OWN_SELF : OWN_UNKNOWN;
	struct sockaddr_storage sa;
	socklen_t len;
	if (resolve(host, 0, &sa, &len) < 0) {
		fprintf(stderr, "s2emu: link socket: cannot resolve %s\n", host);
		return S2_E_INVAL;
	}
	L.fd = socket(sa.ss_family, SOCK_DGRAM, 0);
	int big = 8 << 20;
	if (L.fd < 0 || bind(L.fd, (struct sockaddr *)&sa, len) < 0) {
		fprintf(stderr, "s2emu: link socket on %s: cannot bind\n", host);
		return S2_E_IO;
	}
	(void)setsockopt(L.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	(void)setsockopt(L.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	evutil_make_socket_nonblocking(L.fd);
	L.ev = event_new(e->base, L.fd, EV_READ | EV_PERSIST, read_cb, NULL);
	if (!L.ev || event_add(L.ev, NULL) < 0)
		return S2_E_NOMEM;
	L.active = true;
	return 0;
}

static void send_to(const struct sockaddr_storage *to, socklen_t tolen, const uint8_t *d,
                    size_t len)
{
	(void)sendto(L.fd, d, len, 0, (const struct sockaddr *)to, tolen);
}

static void hdr(uint8_t *d, unsigned type)
{
	memset(d, 0, LINK_HDR);
	s2_st32(d, LINK_MAGIC);
	d[4] = (uint8_t)type;
	s2_st16(d + 6, (uint16_t)L.e->first);
	s2_st16(d + 8, (uint16_t)(L.e->first + L.e->n_boards - 1));
}

/* --- start: who else is there, and are they ready ----------------------------------------- */

/* Our status: [has an application, ready to start (every application board armed or
 * running)]. */
static void status(bool *has_app, bool *ready)
{
	bool any = false, waiting = false;
	for (unsigned i = 0; i < L.e->n_boards; i++) {
		uint8_t s = L.e->boards[i].app.state;
		bool app = s == S2_APP_LOADING || s == S2_APP_LOADED || s == S2_APP_ARMED ||
		           s == S2_APP_RUNNING || s == S2_APP_DONE;
		any |= app;
		waiting |= s == S2_APP_LOADING || s == S2_APP_LOADED || s == S2_APP_DONE;
	}
	*has_app = any;
	*ready = any && !waiting;
}

static void send_hello(const struct sockaddr_storage *to, socklen_t tolen)
{
	uint8_t d[LINK_HDR];
	hdr(d, LK_HELLO);
	send_to(to, tolen, d, sizeof d);
}

static int find_peer(unsigned first)
{
	for (unsigned i = 0; i < L.n_peers; i++)
		if (L.peers[i].first == first)
			return (int)i;
	return -1;
}

static void on_status(const struct sockaddr_storage *from, socklen_t fromlen, const uint8_t *d)
{
	unsigned first = s2_ld16(d + 6), last = s2_ld16(d + 8);
	if (last < first || last >= L.total)
		return;
	int k = find_peer(first);
	if (k < 0) {
		for (unsigned b = first; b <= last; b++)
			if (L.owner[b] != OWN_UNKNOWN && L.owner[b] != OWN_ABSENT)
				return; /* overlaps what we know: ignore */
		struct peer *np = realloc(L.peers, (L.n_peers + 1) * sizeof *np);
		if (!np)
			return;
		L.peers = np;
		/* Keep the peers in machine order: batches are taken in that order. */
		unsigned at = 0;
		while (at < L.n_peers && L.peers[at].first < first)
			at++;
		memmove(&L.peers[at + 1], &L.peers[at], (L.n_peers - at) * sizeof *np);
		memset(&L.peers[at], 0, sizeof *np);
		L.n_peers++;
		L.peers[at].first = (uint16_t)first;
		L.peers[at].last = (uint16_t)last;
		for (unsigned b = 0; b < L.total; b++)
			if (L.owner[b] >= (int)at)
				L.owner[b]++;
		for (unsigned b = first; b <= last; b++)
			L.owner[b] = (int16_t)at;
		k = (int)at;
	}
	struct peer *p = &L.peers[k];
	memcpy(&p->addr, from, fromlen);
	p->alen = fromlen;
	p->has_app = d[5] & 1;
	p->ready = (d[5] >> 1) & 1;
	p->status_us = now_us();
}

static void discover(uint64_t now)
{
	while (!L.disc_done) {
		unsigned u = 0;
		while (u < L.total && L.owner[u] != OWN_UNKNOWN)
			u++;
		if (u == L.total) {
			L.disc_done = true;
			break;
		}
		if (u != L.disc_board || !L.disc_t0) {
			L.disc_board = u;
			L.disc_t0 = now;
			L.disc_sent = 0;
		}
		if (now - L.disc_t0 > ABSENT_US) {
			fprintf(stderr,
			        "s2emu: board %u does not answer: served by no emulator (its links "
			        "drop packets, counted)\n",
			        u);
			L.owner[u] = OWN_ABSENT;
			continue;
		}
		if (!L.disc_sent || now - L.disc_sent > HELLO_RETRY_US) {
			struct s2_board_endpoint ep;
			struct sockaddr_storage sa;
			socklen_t len;
			s2_machine_board_endpoint(L.e->machine, u, &ep);
			if (resolve(ep.host, ep.eth_port, &sa, &len) == 0)
				send_hello(&sa, len);
			L.disc_sent = now;
		}
		break;
	}
}

bool emu_link_start_ok(struct emu *e)
{
	(void)e;
	if (!L.active)
		return true;
	uint64_t now = now_us();
	if (!L.disc_done) {
		discover(now);
		if (!L.disc_done)
			return false;
	}
	if (!L.starting) {
		L.starting = true;
		L.start_t0 = now;
		L.last_poll = 0;
	}
	bool all = true;
	for (unsigned i = 0; i < L.n_peers; i++) {
		struct peer *p = &L.peers[i];
		if (p->status_us < L.start_t0 || (p->has_app && !p->ready))
			all = false;
	}
	if (!all) {
		if (now - L.last_poll > POLL_US) {
			for (unsigned i = 0; i < L.n_peers; i++)
				send_hello(&L.peers[i].addr, L.peers[i].alen);
			L.last_poll = now;
		}
		return false;
	}
	for (unsigned i = 0; i < L.n_peers; i++)
		L.peers[i].part = L.peers[i].has_app;
	L.starting = false;
	L.w_valid = false;
	return true;
}

/* --- the exchange --------------------------------------------------------------------------- */

int emu_link_out(struct emu *e, const struct emu_board *src, unsigned board, unsigned chip,
                 unsigned in, uint32_t key, const uint32_t *payload, uint64_t ord)
{
	(void)e;
	(void)src;
	if (!L.active || board >= L.total || L.owner[board] < 0)
		return S2_E_DEAD;
	struct peer *p = &L.peers[L.owner[board]];
	if (!p->part)
		return S2_E_STATE; /* no application there: as a board that is not running */
	if (L.loss > 0 && rand01() < L.loss) {
		p->lost++;
		return S2_E_TIMEOUT;
	}
	if (p->n_out == p->cap_out) {
		size_t cap = p->cap_out ? 2 * p->cap_out : 256;
		struct emu_link_pkt *q = realloc(p->out, cap * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		p->out = q;
		p->cap_out = cap;
	}
	p->out[p->n_out++] = (struct emu_link_pkt){(uint16_t)board,
	                                           (uint8_t)chip,
	                                           (uint8_t)in,
	                                           payload != NULL,
	                                           key,
	                                           payload ? *payload : 0,
	                                           ord};
	p->pkts_out++;
	L.sent_any = true;
	return 0;
}

static int save(struct peer *p, uint32_t step, unsigned round, const uint8_t *d, size_t len)
{
	/* Keep the datagrams of this step and the one before, for a peer that asks again. */
	size_t k = 0;
	for (size_t i = 0; i < p->n_sv; i++) {
		if (p->sv[i].step + 1 < step)
			free(p->sv[i].d);
		else
			p->sv[k++] = p->sv[i];
	}
	p->n_sv = k;
	if (p->n_sv == p->cap_sv) {
		size_t cap = p->cap_sv ? 2 * p->cap_sv : 16;
		struct saved *q = realloc(p->sv, cap * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		p->sv = q;
		p->cap_sv = cap;
	}
	uint8_t *c = malloc(len);
	if (!c)
		return S2_E_NOMEM;
	memcpy(c, d, len);
	p->sv[p->n_sv++] = (struct saved){step, (uint16_t)round, (uint16_t)len, c};
	return 0;
}

void emu_link_send_round(struct emu *e, uint32_t step, unsigned round)
{
	(void)e;
	static uint8_t d[LINK_DGRAM];
	for (unsigned i = 0; i < L.n_peers; i++) {
		struct peer *p = &L.peers[i];
		if (!p->part)
			continue;
		size_t n_parts = p->n_out ? (p->n_out + PER_DGRAM - 1) / PER_DGRAM : 1;
		for (size_t part = 0; part < n_parts; part++) {
			size_t a = part * PER_DGRAM,
			       n = p->n_out - a < PER_DGRAM ? p->n_out - a : PER_DGRAM;
			if (!p->n_out)
				n = 0;
			hdr(d, LK_BATCH);
			d[5] = L.sent_any;
			s2_st32(d + 12, step);
			s2_st16(d + 16, (uint16_t)round);
			s2_st16(d + 18, (uint16_t)part);
			s2_st16(d + 20, (uint16_t)n_parts);
			s2_st16(d + 22, (uint16_t)n);
			for (size_t j = 0; j < n; j++) {
				const struct emu_link_pkt *q = &p->out[a + j];
				uint8_t *w = d + LINK_HDR + j * LINK_PKT;
				s2_st16(w, q->board);
				w[2] = q->chip;
				w[3] = q->in;
				w[4] = q->has_payload;
				w[5] = w[6] = w[7] = 0;
				s2_st32(w + 8, q->key);
				s2_st32(w + 12, q->payload);
				s2_st64(w + 16, q->ord);
			}
			size_t len = LINK_HDR + n * LINK_PKT;
			send_to(&p->addr, p->alen, d, len);
			(void)save(p, step, round, d, len);
			p->dgrams_out++;
		}
		p->n_out = 0;
		p->rounds++;
	}
}

static bool after(uint32_t s1, unsigned r1, uint32_t s0, unsigned r0)
{
	return s1 > s0 || (s1 == s0 && r1 >= r0);
}

static void on_batch(const uint8_t *d, size_t len)
{
	int k = find_peer(s2_ld16(d + 6));
	if (k < 0 || len < LINK_HDR)
		return;
	uint32_t step = s2_ld32(d + 12);
	uint16_t round = s2_ld16(d + 16), part = s2_ld16(d + 18), n_parts = s2_ld16(d + 20),
	         n = s2_ld16(d + 22);
	if (len != LINK_HDR + (size_t)n * LINK_PKT || part >= n_parts)
		return;
	if (L.w_valid && !after(step, round, L.w_step, L.w_round))
		return; /* an old round (a repeat) */
	for (size_t i = 0; i < L.n_rp; i++)
		if (L.rp[i].peer == k && L.rp[i].step == step && L.rp[i].round == round &&
		    L.rp[i].part == part)
			return; /* a repeat */
	if (L.n_rp == L.cap_rp) {
		size_t cap = L.cap_rp ? 2 * L.cap_rp : 64;
		struct rpart *q = realloc(L.rp, cap * sizeof *q);
		if (!q)
			return;
		L.rp = q;
		L.cap_rp = cap;
	}
	struct emu_link_pkt *p = malloc((n ? n : 1) * sizeof *p);
	if (!p)
		return;
	for (unsigned j = 0; j < n; j++) {
		const uint8_t *w = d + LINK_HDR + j * LINK_PKT;
		p[j] = (struct emu_link_pkt){s2_ld16(w),     w[2],           w[3],
		                             w[4] & 1,       s2_ld32(w + 8), s2_ld32(w + 12),
		                             s2_ld64(w + 16)};
	}
	L.rp[L.n_rp++] =
	        (struct rpart){(uint16_t)k, step, round, part, n_parts, n, d[5] & 1, now_us(), p};
	L.peers[k].dgrams_in++;
	if (L.kick)
		L.kick();
}

static void on_nack(const uint8_t *d)
{
	int k = find_peer(s2_ld16(d + 6));
	if (k < 0)
		return;
	struct peer *p = &L.peers[k];
	uint32_t step = s2_ld32(d + 12);
	uint16_t round = s2_ld16(d + 16);
	for (size_t i = 0; i < p->n_sv; i++)
		if (p->sv[i].step == step && p->sv[i].round == round) {
			send_to(&p->addr, p->alen, p->sv[i].d, p->sv[i].len);
			p->resent++;
		}
}

int emu_link_recv_round(struct emu *e, uint32_t step, unsigned round,
                        const struct emu_link_pkt **pkts, size_t *n, bool *any)
{
	(void)e;
	uint64_t now = now_us();
	if (!L.w_valid || L.w_step != step || L.w_round != round) {
		L.w_valid = true;
		L.w_step = step;
		L.w_round = round;
		L.w_t0 = L.w_nack = now;
	}
	bool complete = true, got_any = L.sent_any;
	size_t total = 0;
	for (unsigned i = 0; i < L.n_peers; i++) {
		if (!L.peers[i].part)
			continue;
		unsigned have = 0, need = 0;
		for (size_t j = 0; j < L.n_rp; j++) {
			const struct rpart *r = &L.rp[j];
			if (r->peer == i && r->step == step && r->round == round) {
				have++;
				need = r->n_parts;
				total += r->n;
				got_any |= r->any;
			}
		}
		if (!need || have < need) {
			complete = false;
			if (now - L.w_nack > NACK_US) {
				uint8_t d[LINK_HDR];
				hdr(d, LK_NACK);
				s2_st32(d + 12, step);
				s2_st16(d + 16, (uint16_t)round);
				send_to(&L.peers[i].addr, L.peers[i].alen, d, sizeof d);
				L.peers[i].nacks_sent++;
			}
		}
	}
	if (!complete) {
		if (now - L.w_nack > NACK_US)
			L.w_nack = now;
		return 0;
	}
	if (total > L.cap_in) {
		struct emu_link_pkt *q = realloc(L.in, total * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		L.in = q;
		L.cap_in = total;
	}
	L.n_in = 0;
	for (unsigned i = 0; i < L.n_peers; i++) {
		if (!L.peers[i].part)
			continue;
		uint64_t last = L.w_t0;
		for (uint16_t part = 0;; part++) {
			size_t j = 0;
			while (j < L.n_rp && !(L.rp[j].peer == i && L.rp[j].step == step &&
			                       L.rp[j].round == round && L.rp[j].part == part))
				j++;
			if (j == L.n_rp)
				break;
			struct rpart *r = &L.rp[j];
			if (r->n)
				memcpy(L.in + L.n_in, r->p, r->n * sizeof *r->p);
			L.n_in += r->n;
			L.peers[i].pkts_in += r->n;
			if (r->t_us > last)
				last = r->t_us;
			free(r->p);
			L.rp[j] = L.rp[--L.n_rp];
		}
		uint64_t w = last - L.w_t0;
		L.peers[i].wait_us += w;
		if (w > L.peers[i].wait_max_us)
			L.peers[i].wait_max_us = w;
	}
	/* Drop what is older than this round (repeats). */
	for (size_t j = 0; j < L.n_rp;) {
		if (!after(L.rp[j].step, L.rp[j].round, step, round)) {
			free(L.rp[j].p);
			L.rp[j] = L.rp[--L.n_rp];
		} else {
			j++;
		}
	}
	L.sent_any = false;
	*pkts = L.in;
	*n = L.n_in;
	*any = got_any;
	return 1;
}

/* --- input ---------------------------------------------------------------------------------- */

void emu_link_input(struct emu *e, int fd, const struct sockaddr_storage *from, socklen_t fromlen,
                    const uint8_t *d, size_t len)
{
	(void)e;
	(void)fd;
	if (!L.active || len < LINK_HDR)
		return;
	switch (d[4]) {
	case LK_HELLO: {
		uint8_t r[LINK_HDR];
		bool has_app, ready;
		status(&has_app, &ready);
		hdr(r, LK_STATUS);
		r[5] = (uint8_t)(has_app | ready << 1);
		send_to(from, fromlen, r, sizeof r);
		break;
	}
	case LK_STATUS:
		on_status(from, fromlen, d);
		break;
	case LK_BATCH:
		on_batch(d, len);
		break;
	case LK_NACK:
		on_nack(d);
		break;
	default:
		break;
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	static uint8_t buf[LINK_DGRAM + 1];
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (emu_link_is(buf, (size_t)n))
			emu_link_input(L.e, fd, &from, fromlen, buf, (size_t)n);
	}
}

size_t emu_link_format_stats(char *out, size_t cap)
{
	size_t n = 0;
	n += (size_t)snprintf(out + n, cap - n, "[");
	for (unsigned i = 0; i < L.n_peers && n < cap; i++) {
		const struct peer *p = &L.peers[i];
		n += (size_t)snprintf(
		        out + n, cap - n,
		        "%s{\"boards\":\"%u-%u\",\"application\":%s,\"packets_out\":%" PRIu64
		        ",\"packets_in\":%" PRIu64 ",\"lost\":%" PRIu64
		        ",\"datagrams_out\":%" PRIu64 ",\"datagrams_in\":%" PRIu64
		        ",\"resent\":%" PRIu64 ",\"asked_again\":%" PRIu64 ",\"rounds\":%" PRIu64
		        ",\"wait_us\":%" PRIu64 ",\"wait_max_us\":%" PRIu64 "}",
		        i ? "," : "", p->first, p->last, p->part ? "true" : "false", p->pkts_out,
		        p->pkts_in, p->lost, p->dgrams_out, p->dgrams_in, p->resent, p->nacks_sent,
		        p->rounds, p->wait_us, p->wait_max_us);
	}
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "]");
	return n < cap ? n : cap - 1;
}

void emu_link_shutdown(void)
{
	if (L.ev)
		event_free(L.ev);
	if (L.fd >= 0)
		close(L.fd);
	for (unsigned i = 0; i < L.n_peers; i++) {
		free(L.peers[i].out);
		for (size_t k = 0; k < L.peers[i].n_sv; k++)
			free(L.peers[i].sv[k].d);
		free(L.peers[i].sv);
	}
	for (size_t j = 0; j < L.n_rp; j++)
		free(L.rp[j].p);
	free(L.rp);
	free(L.in);
	free(L.peers);
	free(L.owner);
	memset(&L, 0, sizeof L);
	L.fd = -1;
}
