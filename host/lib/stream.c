/* Receiving live streams (stream.h, docs/stream.md). */
#include "s2/stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "s2/board.h"
#include "s2/auth.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/packet.h"
#include "s2/wire.h"

/* A source PE: key (board << 24 | chip << 8 | pe) -> population and first neuron. */
struct source {
	uint64_t key;
	uint32_t pop, lo;
};

/* Per board: the next seq expected and which of the 64 before it have arrived (bit i: seq
 * next - 1 - i). */
struct board_seq {
	bool started;
	uint32_t next;
	uint64_t seen;
};

struct s2_stream {
	uint32_t id;
	struct s2_stream_callbacks cb;
	struct source *src;
	size_t n_src, cap_src;
	bool sorted;
	struct board_seq *boards;
	size_t n_boards;
	uint32_t *board_dropped; /* last count each board reported */
	struct s2_stream_stats st;
	uint64_t packet_us; /* board time of the oldest record of the packet being delivered */
	struct s2_spike batch[S2_MAX_PAYLOAD / 2];
	int fd;
	struct event *ev;
	void (*tap)(void *ctx, const uint8_t *d, size_t n);
	void *tap_ctx;
	bool keyed;
	struct s2_key key;   /* with keyed: packets must carry its tag */
	uint16_t *board_map; /* s2_stream_map_boards: header board of source board i */
	unsigned n_map;
};

int s2_stream_map_boards(struct s2_stream *s, const uint16_t *wire, unsigned n)
{
	uint16_t *m = n ? malloc(n * sizeof *m) : NULL;
	if (n && !m)
		return S2_E_NOMEM;
	if (n)
		memcpy(m, wire, n * sizeof *m);
	free(s->board_map);
	s->board_map = m;
	s->n_map = n;
	return 0;
}

void s2_stream_set_key(struct s2_stream *s, const struct s2_key *k)
{
	s->keyed = k != NULL && sodium_init() >= 0;
	if (s->keyed)
		s->key = *k;
	else
		sodium_memzero(&s->key, sizeof s->key);
}

/* A tagged STREAM_DATA (protocol 2.3): the stream's key made it, and its counter is the
 * packet's number plus one. */
static bool stream_authentic(const struct s2_stream *s, const uint8_t *dgram, size_t len,
                             const struct s2_header *h, const uint8_t *p)
{
	struct s2_auth_trailer t;
	if (!(h->flags & S2_F_AUTH) || s2_auth_trailer_get(p, h->payload_len, &t) < 0 ||
	    t.key_id != s->key.id || t.counter != h->seq + 1u || !t.session)
		return false;
	uint8_t tag[S2_AUTH_TAG_LEN];
	crypto_generichash_blake2b_state st;
	crypto_generichash_blake2b_init(&st, s->key.secret, S2_AUTH_KEY_LEN, S2_AUTH_TAG_LEN);
	crypto_generichash_blake2b_update(&st, dgram, 20);
	crypto_generichash_blake2b_update(&st, dgram + S2_HEADER_LEN, len - S2_HEADER_LEN);
	crypto_generichash_blake2b_final(&st, tag, S2_AUTH_TAG_LEN);
	return sodium_memcmp(tag, h->auth_tag, S2_AUTH_TAG_LEN) == 0;
}

struct s2_stream *s2_stream_new(uint32_t id, const struct s2_stream_callbacks *cb)
{
	struct s2_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->id = id;
	if (cb)
		s->cb = *cb;
	s->fd = -1;
	return s;
}

void s2_stream_free(struct s2_stream *s)
{
	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	if (s->fd >= 0)
		close(s->fd);
	free(s->src);
	free(s->boards);
	free(s->board_dropped);
	free(s->board_map);
	sodium_memzero(&s->key, sizeof s->key);
	free(s);
}

static uint64_t src_key(uint16_t board, uint16_t chip, uint8_t pe)
{
	return (uint64_t)board << 24 | (uint64_t)chip << 8 | pe;
}

int s2_stream_add_source(struct s2_stream *s, uint16_t board, uint16_t chip, uint8_t pe,
                         uint32_t pop, uint32_t lo)
{
	if (s->n_src == s->cap_src) {
		size_t cap = s->cap_src ? 2 * s->cap_src : 256;
		struct source *q = realloc(s->src, cap * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		s->src = q;
		s->cap_src = cap;
	}
	s->src[s->n_src++] = (struct source){src_key(board, chip, pe), pop, lo};
	s->sorted = false;
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	const struct source *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static const struct source *find_src(const struct s2_stream *s, uint64_t key)
{
	size_t lo = 0, hi = s->n_src;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->src[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_src && s->src[lo].key == key ? &s->src[lo] : NULL;
}

static struct board_seq *board_of(struct s2_stream *s, uint16_t board)
{
	if (board >= s->n_boards) {
		size_t n = (size_t)board + 1;
		struct board_seq *q = realloc(s->boards, n * sizeof *q);
		uint32_t *d = realloc(s->board_dropped, n * sizeof *d);
		if (q)
			s->boards = q;
		if (d)
			s->board_dropped = d;
		if (!q || !d)
			return NULL;
		memset(q + s->n_boards, 0, (n - s->n_boards) * sizeof *q);
		memset(d + s->n_boards, 0, (n - s->n_boards) * sizeof *d);
		s->n_boards = n;
	}
	return &s->boards[board];
}

/* Number the packet: true to deliver it (new, or late filling a gap), false if a duplicate. */
static bool sequence(struct s2_stream *s, struct board_seq *b, uint32_t seq)
{
	if (!b->started) {
		b->started = true;
		s->st.lost += seq; /* the stream's packets from 0 that never came */
		b->next = seq + 1;
		b->seen = 1;
		return true;
	}
	if (seq >= b->next) {
		uint32_t gap = seq - b->next;
		s->st.lost += gap;
		/* the window moves by gap + 1; this packet is the new bit 0 */
		b->seen = gap + 1 >= 64 ? 1 : (b->seen << (gap + 1)) | 1;
		b->next = seq + 1;
		return true;
	}
	uint32_t back = b->next - 1 - seq; /* bit index */
	if (back >= 64) {
		s->st.stale++;
		return false;
	}
	if (!((b->seen >> back) & 1u)) {
		b->seen |= 1ull << back;
		s->st.late++;
		if (s->st.lost)
			s->st.lost--;
		return true;
	}
	s->st.duplicates++;
	return false;
}

int s2_stream_feed(struct s2_stream *s, const uint8_t *dgram, size_t len)
{
	struct s2_header h;
	const uint8_t *p;
	int rc = s2_packet_decode(dgram, len, &h, &p);
	if (rc < 0) {
		s->st.bad++;
		return rc;
	}
	if (h.type != S2_MSG_STREAM_DATA || (h.flags & S2_F_REPLY) || h.board == S2_ADDR_ANY) {
		s->st.foreign++;
		return 0;
	}
	if (s->keyed && !stream_authentic(s, dgram, len, &h, p)) {
		s->st.auth_bad++;
		return 0;
	}
	if (s->n_map) { /* after the tag check: the tag covers the header as sent */
		unsigned i = 0;
		while (i < s->n_map && s->board_map[i] != h.board)
			i++;
		if (i == s->n_map) {
			s->st.foreign++;
			return 0;
		}
		h.board = (uint16_t)i;
	}
	if (h.flags & S2_F_AUTH) {
		if (h.payload_len < S2_AUTH_TRAILER_LEN) {
			s->st.bad++;
			return S2_E_SHORT;
		}
		h.payload_len = (uint16_t)(h.payload_len - S2_AUTH_TRAILER_LEN);
	}
	struct s2_live_rd r;
	uint32_t id, dropped;
	uint64_t first_us;
	if ((rc = s2_live_open(&r, p, h.payload_len, &id, &dropped, &first_us)) < 0) {
		s->st.bad++;
		return rc;
	}
	if (!s->id)
		s->id = id; /* a stream made with id 0 takes the first it sees (replays) */
	if (id != s->id) {
		s->st.foreign++;
		return 0;
	}
	/* The whole body is checked before anything is delivered. */
	struct s2_live_rec rec;
	struct s2_live_rd check = r;
	while ((rc = s2_live_next(&check, &rec)) > 0) {
	}
	if (rc < 0) {
		s->st.bad++;
		return rc;
	}
	struct board_seq *b = board_of(s, h.board);
	if (!b)
		return S2_E_NOMEM;
	if (!sequence(s, b, h.seq))
		return 0;
	if (dropped > s->board_dropped[h.board]) {
		s->st.board_dropped += dropped - s->board_dropped[h.board];
		s->board_dropped[h.board] = dropped;
	}
	s->st.packets++;
	s->st.bytes += len;
	s->packet_us = first_us;
	if (!s->sorted) {
		if (s->n_src > 1)
			qsort(s->src, s->n_src, sizeof *s->src, cmp_src);
		s->sorted = true;
	}
	size_t n = 0;
	while (s2_live_next(&r, &rec) > 0) {
		switch (rec.kind) {
		case S2_LIVE_SPIKES: {
			const struct source *src = find_src(s, src_key(h.board, rec.chip, rec.pe));
			if (!src) {
				s->st.unknown_source += rec.n;
				break;
			}
			for (unsigned i = 0; i < rec.n; i++)
				s->batch[n++] = (struct s2_spike){
				        src->pop, src->lo + s2_ld16(rec.neurons + 2 * i), rec.step};
			break;
		}
		case S2_LIVE_ENERGY: {
			s->st.energy_samples++;
			struct s2_energy_sample e = {h.board, rec.chip, rec.step, rec.time_us, {0}};
			memcpy(e.counters, rec.counters, sizeof e.counters);
			if (s->cb.energy)
				s->cb.energy(s->cb.ctx, &e);
			break;
		}
		case S2_LIVE_RUN: {
			s->st.events++;
			struct s2_run_event ev = {h.board, rec.event, rec.step, rec.time_us};
			/* spikes before the event go first */
			if (n && s->cb.spikes)
				s->cb.spikes(s->cb.ctx, s->batch, n);
			s->st.spikes += n;
			n = 0;
			if (s->cb.event)
				s->cb.event(s->cb.ctx, &ev);
			break;
		}
		default:
			break;
		}
	}
	if (n && s->cb.spikes)
		s->cb.spikes(s->cb.ctx, s->batch, n);
	s->st.spikes += n;
	return 1;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct s2_stream *s = arg;
	uint8_t buf[S2_MAX_DATAGRAM + 1];
	for (int k = 0; k < 256; k++) { /* drain, but let other events in */
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				s->st.rx_errors++;
			return;
		}
		if (s->tap)
			s->tap(s->tap_ctx, buf, (size_t)n);
		s2_stream_feed(s, buf, (size_t)n);
	}
}

int s2_stream_listen(struct s2_stream *s, struct event_base *base, const char *addr, uint16_t port,
                     uint16_t *port_out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return S2_E_RANGE;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return S2_E_IO;
	/* Room for bursts: the stream is never retransmitted, so what overflows is lost. */
	int rcvbuf = 16 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	socklen_t al = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		close(fd);
		return S2_E_IO;
	}
	evutil_make_socket_nonblocking(fd);
	s->ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		close(fd);
		return S2_E_NOMEM;
	}
	s->fd = fd;
	*port_out = ntohs(a.sin_port);
	return 0;
}

uint64_t s2_stream_packet_time(const struct s2_stream *s)
{
	return s->packet_us;
}

const struct s2_stream_stats *s2_stream_stats(const struct s2_stream *s)
{
	return &s->st;
}

void s2_stream_start_msg(const struct s2_stream *s, uint32_t flags, uint32_t energy_period,
                         uint16_t port, struct s2_msg_stream_start *m)
{
	memset(m, 0, sizeof *m);
	m->id = s->id;
	m->flags = flags;
	m->energy_period = energy_period;
	m->port = port;
}

void s2_stream_set_tap(struct s2_stream *s, void (*tap)(void *ctx, const uint8_t *d, size_t n),
                       void *ctx)
{
	s->tap = tap;
	s->tap_ctx = ctx;
}

int s2_stream_start_start(struct s2_conn *eth, const struct s2_msg_stream_start *m,
                          struct s2_op *op)
{
	uint8_t body[S2_MAX_PAYLOAD];
	int len = s2_msg_stream_start_encode(body, sizeof body, m);
	if (len < 0)
		return len;
	return s2_simple_start(eth, S2_MSG_STREAM_START, S2_ADDR_ANY, S2_PE_MONITOR, body,
	                       (size_t)len, NULL, 0, NULL, op);
}

int s2_stream_stop_start(struct s2_conn *eth, uint32_t id, struct s2_op *op)
{
	uint8_t body[4];
	s2_st32(body, id);
	return s2_simple_start(eth, S2_MSG_STREAM_STOP, S2_ADDR_ANY, S2_PE_MONITOR, body, 4, NULL,
	                       0, NULL, op);
}

int s2_inject_start(struct s2_conn *eth, const struct s2_msg_inject *m, uint8_t reply_buf[4],
                    size_t *reply_len, struct s2_op *op)
{
	uint8_t body[S2_MAX_PAYLOAD];
	int len = s2_msg_inject_encode(body, sizeof body, m);
	if (len < 0)
		return len;
	return s2_simple_start(eth, S2_MSG_INJECT, S2_ADDR_ANY, S2_PE_MONITOR, body, (size_t)len,
	                       reply_buf, 4, reply_len, op);
}
