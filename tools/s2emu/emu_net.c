/*
 * UDP endpoints of emulated boards and the fault shaper. Every datagram, in and out,
 * passes the shaper: it may be dropped (loss), delivered twice (dup), held back so later
 * datagrams overtake it (reorder) or delayed; a muted board drops everything. Each such
 * event is counted in the board's emu_stats.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "emu.h"
#include "emu_link.h"

/* A datagram waiting for its (delayed) delivery or send. */
struct held {
	struct emu_board *b;
	int fd;
	bool inbound;
	struct event *ev;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint16_t len;
	uint8_t data[S2_MAX_DATAGRAM + 1];
};

/* splitmix64: small, fast, reproducible with --seed. */
static uint64_t rng_next(struct emu *e)
{
	uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double emu_rand01(struct emu *e)
{
	return (double)(rng_next(e) >> 11) * (1.0 / 9007199254740992.0);
}

static void deliver(struct emu_board *b, int fd, bool inbound, const struct sockaddr_storage *a,
                    socklen_t alen, const uint8_t *d, size_t len)
{
	if (inbound) {
		emu_board_handle(b, fd, a, alen, d, len);
	} else {
		b->st.tx++;
		(void)sendto(fd, d, len, 0, (const struct sockaddr *)a, alen);
	}
}

static void held_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct held *h = arg;
	deliver(h->b, h->fd, h->inbound, &h->addr, h->addrlen, h->data, h->len);
	event_free(h->ev);
	free(h);
}

static void hold(struct emu_board *b, int fd, bool inbound, const struct sockaddr_storage *a,
                 socklen_t alen, const uint8_t *d, size_t len, uint32_t us)
{
	struct held *h = malloc(sizeof *h);
	if (!h)
		return; /* out of memory: the datagram is lost, like any other loss */
	h->b = b;
	h->fd = fd;
	h->inbound = inbound;
	memcpy(&h->addr, a, alen);
	h->addrlen = alen;
	h->len = (uint16_t)len;
	memcpy(h->data, d, len);
	h->ev = evtimer_new(b->emu->base, held_cb, h);
	if (!h->ev) {
		free(h);
		return;
	}
	struct timeval tv = {.tv_sec = us / 1000000u, .tv_usec = us % 1000000u};
	evtimer_add(h->ev, &tv);
}

/* The shaper: both directions go through here. */
static void shape(struct emu_board *b, int fd, bool inbound, const struct sockaddr_storage *a,
                  socklen_t alen, const uint8_t *d, size_t len)
{
	struct emu *e = b->emu;
	const struct emu_faults *f = &e->faults;
	if (b->muted) {
		b->st.dropped_muted++;
		return;
	}
	if (f->loss > 0 && emu_rand01(e) < f->loss) {
		b->st.dropped_loss++;
		return;
	}
	unsigned copies = 1;
	if (f->dup > 0 && emu_rand01(e) < f->dup) {
		b->st.duplicated++;
		copies = 2;
	}
	for (unsigned i = 0; i < copies; i++) {
		uint32_t delay = f->delay_us;
		if (f->reorder > 0 && emu_rand01(e) < f->reorder) {
			b->st.reordered++;
			delay += 200 + (uint32_t)(emu_rand01(e) * 2000.0);
		}
		if (delay)
			hold(b, fd, inbound, a, alen, d, len, delay);
		else
			deliver(b, fd, inbound, a, alen, d, len);
	}
}

void emu_net_send(struct emu_board *b, int fd, const struct sockaddr_storage *to, socklen_t tolen,
                  const uint8_t *dgram, size_t len)
{
	shape(b, fd, false, to, tolen, dgram, len);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct emu_board *b = arg;
	uint8_t buf[S2_MAX_DATAGRAM + 1];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		if (emu_link_is(buf, (size_t)n)) { /* another emulator of the machine */
			emu_link_input(b->emu, fd, &from, fromlen, buf, (size_t)n);
			continue;
		}
		b->st.rx++;
		shape(b, fd, true, &from, fromlen, buf, (size_t)n);
	}
}

static int open_udp(struct emu *e, struct emu_board *b, const char *host, uint16_t port,
                    struct event **ev)
{
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
		fprintf(stderr, "s2emu: board %u: bad address %s\n", b->index, host);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "s2emu: board %u: cannot bind %s:%u: %s\n", b->index, host,
		        (unsigned)port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	int sz = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	*ev = event_new(e->base, fd, EV_READ | EV_PERSIST, read_cb, b);
	if (!*ev || event_add(*ev, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int emu_net_open(struct emu *e, struct emu_board *b, const char *host, uint16_t eth_port,
                 uint16_t bmp_port)
{
	b->eth_fd = open_udp(e, b, host, eth_port, &b->eth_ev);
	if (b->eth_fd < 0)
		return -1;
	b->bmp_fd = open_udp(e, b, host, bmp_port, &b->bmp_ev);
	if (b->bmp_fd < 0)
		return -1;
	return 0;
}
