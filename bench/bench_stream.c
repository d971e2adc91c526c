/*
 * Live-stream benchmark (docs/bench.md "Live streams"; protocol section 4.17,
 * host/lib/streams/stream.c): how many spikes per second libs2 takes from one UDP socket with zero
 * loss on one host core, what the decoder alone costs, and how long a spike of an emulated PE takes
 * to reach the host's callback.
 *
 *   bench_stream decode [--seconds S]
 *     s2_crc32, s2_packet_decode and s2_stream_feed over full STREAM_DATA datagrams on one
 *     core, no sockets: ns per packet, spikes per second.
 *   bench_stream throughput [--seconds S] [--rate SPIKES_PER_S | --search N] [--per-pe K]
 *                           [--burst B]
 *     a sender thread (one core) sends pre-built STREAM_DATA datagrams at the offered rate,
 *     B at a time (sendmmsg, default 32), over loopback UDP to a receiver thread (the other
 *     core) that runs s2_stream_listen on its own libevent loop with a callback counting spikes
 *     per population and summing neuron ids. Each datagram is full (1472 bytes) with records of
 *     1..2K-1 spikes (mean K, default 150) of successive PEs. A trial passes when the stream
 *     counted no loss and every spike, per-population count and neuron sum equals what was
 *     sent. --rate: one trial (exit 1 unless it passes). --search N: one unpaced trial, then N
 *     trials bisecting the offered rate for the highest that passes.
 *   bench_stream latency MACHINE IMAGE [--ready-file F] [--max-seconds S]
 *     subscribes to the spikes of every PE of IMAGE on the booted boards of MACHINE
 *     (STREAM_START), writes F when listening, and for every packet that delivers spikes
 *     takes CLOCK_MONOTONIC now minus the packet's time (when its oldest spike was made: the
 *     emulator's clock is this host's CLOCK_MONOTONIC) until every board's run is done; then
 *     prints median, 99th percentile and max. Exit 1 if nothing arrived or a packet was lost.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "s2/plan.h"
#include "s2/board.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/packet.h"
#include "s2/stream.h"
#include "s2/transport.h"
#include "s2/wire.h"

#define N_POPS 8u
#define N_CHIPS 48u
#define N_PES 152u
#define RING 256u /* distinct pre-built datagrams */
#define BATCH 32u /* most datagrams per sendmmsg (--burst) */
#define STREAM_ID 0x5EEDu
#define OFF_SEQ 8u   /* header seq */
#define OFF_CRC 20u  /* header CRC */
#define OFF_TIME 48u /* body: time of the oldest record (header 40 + id 4 + dropped 4) */
#define N_PATCH 12u  /* bytes patched per datagram: seq (4) and time (8) */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: time taken from this thread by other processes on a
 * shared core does not count. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_us(void)
{
	return now_ns() / 1000u;
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

/* --- samples (latencies, microseconds) ---------------------------------------------------- */

struct samples {
	uint32_t *v;
	size_t n, cap;
};

static void sample_add(struct samples *s, uint64_t us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint32_t *q = realloc(s->v, cap * sizeof *q);
		if (!q)
			return;
		s->v = q;
		s->cap = cap;
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts s; the q-quantile (nearest rank). */
static uint32_t quantile(struct samples *s, double q)
{
	if (!s->n)
		return 0;
	size_t k = (size_t)(q * (double)s->n);
	return s->v[k >= s->n ? s->n - 1 : k];
}

static void sample_sort(struct samples *s)
{
	qsort(s->v, s->n, sizeof *s->v, cmp_u32);
}

/* --- the ring of datagrams ------------------------------------------------------------------ */

/* Pre-built full STREAM_DATA datagrams (one board, seq 0 and time 0 in each), what each holds,
 * and the CRC of each. The sender patches seq and time into a datagram and fixes its CRC with
 * patch[]: the CRC is affine over GF(2), so for datagrams of one length the change of CRC is
 * the XOR of a per-byte table over the bytes changed (exact, checked against s2_packet_decode
 * at start). */
struct ring {
	uint8_t pkt[RING][S2_MAX_DATAGRAM];
	uint32_t crc0[RING];
	uint32_t spikes[RING];
	uint64_t sum[RING];
	uint32_t pop_spikes[RING][N_POPS];
	uint32_t patch[N_PATCH][256];
	size_t len;
	double spikes_per_pkt;
	unsigned records;
};

static uint32_t pop_of(unsigned chip, unsigned pe)
{
	return (chip * N_PES + pe) % N_POPS;
}

static uint32_t lo_of(unsigned chip, unsigned pe)
{
	return (chip * N_PES + pe) * 256u;
}

static unsigned patch_off(unsigned i)
{
	return i < 4 ? OFF_SEQ + i : OFF_TIME + (i - 4);
}

static uint32_t dgram_crc(const uint8_t *d, size_t len)
{
	uint8_t tmp[S2_MAX_DATAGRAM];
	memcpy(tmp, d, len);
	memset(tmp + OFF_CRC, 0, 4);
	return s2_crc32(0, tmp, len);
}

/* Spikes of many PEs per step: each live PE in turn makes 1..2*per_pe-1 spikes of distinct
 * neurons (ascending) in a step; datagrams are filled to the last byte. */
static int ring_build(struct ring *r, unsigned per_pe)
{
	uint32_t step = 0;
	unsigned chip = 0, pe = 0, records = 0;
	uint64_t total = 0;
	for (unsigned k = 0; k < RING; k++) {
		uint8_t body[S2_MAX_PAYLOAD];
		struct s2_live_wr w;
		s2_live_begin(&w, body, sizeof body, STREAM_ID, 0);
		s2_live_time(&w, 0);
		uint32_t last_step = 0;
		unsigned last_chip = 0, last_pe = 0;
		bool full = false, any = false;
		while (!full) {
			unsigned n = 1 + rnd(2 * per_pe - 1);
			unsigned neuron = rnd(8);
			for (unsigned i = 0; i < n && !full; i++) {
				if (s2_live_spike(&w, step, (uint16_t)chip, (uint8_t)pe,
				                  (uint16_t)neuron) < 0) {
					full = true;
					break;
				}
				r->spikes[k]++;
				r->sum[k] += lo_of(chip, pe) + neuron;
				r->pop_spikes[k][pop_of(chip, pe)]++;
				last_step = step, last_chip = chip, last_pe = pe, any = true;
				neuron += 1 + rnd(3);
			}
			if (full)
				break;
			records++;
			if (++pe == N_PES) {
				pe = 0;
				if (++chip == N_CHIPS) {
					chip = 0;
					step++;
				}
			}
		}
		/* A new record needs 14 bytes: fill what is left into the last one. */
		unsigned neuron = 0;
		while (any && s2_live_spike(&w, last_step, (uint16_t)last_chip, (uint8_t)last_pe,
		                            (uint16_t)neuron) == 0) {
			r->spikes[k]++;
			r->sum[k] += lo_of(last_chip, last_pe) + neuron;
			r->pop_spikes[k][pop_of(last_chip, last_pe)]++;
			neuron++;
		}
		struct s2_header h = {.type = S2_MSG_STREAM_DATA,
		                      .seq = 0,
		                      .board = 0,
		                      .chip = S2_ADDR_ANY,
		                      .pe = S2_PE_MONITOR};
		int n = s2_packet_encode(r->pkt[k], sizeof r->pkt[k], &h, body, w.pos);
		if (n < 0 || (k && (size_t)n != r->len))
			return -1;
		r->len = (size_t)n;
		r->crc0[k] = s2_ld32(r->pkt[k] + OFF_CRC);
		total += r->spikes[k];
	}
	r->spikes_per_pkt = (double)total / RING;
	r->records = records;
	/* The CRC's change per bit of the patched bytes, then per byte value. */
	uint8_t tmp[S2_MAX_DATAGRAM];
	for (unsigned i = 0; i < N_PATCH; i++) {
		uint32_t bit[8];
		for (unsigned b = 0; b < 8; b++) {
			memcpy(tmp, r->pkt[0], r->len);
			tmp[patch_off(i)] ^= (uint8_t)(1u << b);
			bit[b] = dgram_crc(tmp, r->len) ^ r->crc0[0];
		}
		for (unsigned v = 0; v < 256; v++) {
			uint32_t d = 0;
			for (unsigned b = 0; b < 8; b++)
				if ((v >> b) & 1u)
					d ^= bit[b];
			r->patch[i][v] = d;
		}
	}
	return 0;
}

/* Datagram k of the ring numbered seq with time t_us, CRC fixed. */
static uint8_t *ring_patch(struct ring *r, unsigned k, uint32_t seq, uint64_t t_us)
{
	uint8_t *p = r->pkt[k];
	uint8_t f[N_PATCH];
	s2_st32(f, seq);
	s2_st64(f + 4, t_us);
	uint32_t crc = r->crc0[k];
	for (unsigned i = 0; i < N_PATCH; i++)
		crc ^= r->patch[i][f[i]];
	memcpy(p + OFF_SEQ, f, 4);
	memcpy(p + OFF_TIME, f + 4, 8);
	s2_st32(p + OFF_CRC, crc);
	return p;
}

static int add_sources(struct s2_stream *st)
{
	for (unsigned c = 0; c < N_CHIPS; c++)
		for (unsigned p = 0; p < N_PES; p++)
			if (s2_stream_add_source(st, 0, (uint16_t)c, (uint8_t)p, pop_of(c, p),
			                         lo_of(c, p)) < 0)
				return -1;
	return 0;
}

/* --- what a subscriber does with spikes ------------------------------------------------------ */

struct tally {
	uint64_t spikes, sum;
	uint64_t pop[N_POPS];
};

struct rx {
	struct s2_stream *st;
	struct tally got;
	uint64_t last_packets; /* stats.packets when the last latency sample was taken */
	struct samples lat;
	unsigned boards_done;
	unsigned char *state; /* [n_state], per board: 0, 1 running, 2 done */
	unsigned n_state;
};

static void rx_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct rx *x = ctx;
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		x->got.pop[s[i].pop % N_POPS]++;
		sum += s[i].neuron;
	}
	x->got.sum += sum;
	x->got.spikes += n;
	uint64_t packets = s2_stream_stats(x->st)->packets;
	if (packets != x->last_packets) { /* first delivery of this packet */
		x->last_packets = packets;
		sample_add(&x->lat, now_us() - s2_stream_packet_time(x->st));
	}
}

static void rx_event(void *ctx, const struct s2_run_event *ev)
{
	struct rx *x = ctx;
	if (ev->board >= x->n_state)
		return;
	/* A load stops the application that was there before: that STOPPED is not this run's. */
	if (ev->event == S2_LIVE_STARTED) {
		x->state[ev->board] = 1;
	} else if (x->state[ev->board] == 1 &&
	           (ev->event == S2_LIVE_DONE || ev->event == S2_LIVE_STOPPED)) {
		x->state[ev->board] = 2;
		x->boards_done++;
	}
}

/* --- decode ------------------------------------------------------------------------------------
 */

static int run_decode(struct ring *r, double seconds)
{
	uint64_t iters = 0, t0 = cpu_ns(), t;
	volatile uint32_t sink = 0;
	do {
		for (unsigned k = 0; k < RING; k++)
			sink ^= s2_crc32(0, r->pkt[k], r->len);
		iters += RING;
	} while ((t = cpu_ns()) - t0 < (uint64_t)(seconds * 1e9 / 3));
	double crc_ns = (double)(t - t0) / (double)iters;

	struct s2_header h;
	const uint8_t *pl;
	iters = 0;
	t0 = cpu_ns();
	do {
		for (unsigned k = 0; k < RING; k++)
			if (s2_packet_decode(ring_patch(r, k, (uint32_t)(iters + k), 0), r->len, &h,
			                     &pl) < 0)
				return 1;
		iters += RING;
	} while ((t = cpu_ns()) - t0 < (uint64_t)(seconds * 1e9 / 3));
	double dec_ns = (double)(t - t0) / (double)iters;

	struct rx x = {0};
	struct s2_stream_callbacks cb = {rx_spikes, NULL, rx_event, &x};
	struct s2_stream *st = s2_stream_new(STREAM_ID, &cb);
	if (!st || add_sources(st) < 0)
		return 1;
	x.st = st;
	uint64_t want = 0;
	iters = 0;
	t0 = cpu_ns();
	do {
		for (unsigned k = 0; k < RING; k++) {
			s2_stream_feed(st, ring_patch(r, k, (uint32_t)(iters + k), 0), r->len);
			want += r->spikes[k];
		}
		iters += RING;
	} while ((t = cpu_ns()) - t0 < (uint64_t)(seconds * 1e9 / 3));
	double feed_ns = (double)(t - t0) / (double)iters;
	const struct s2_stream_stats *ss = s2_stream_stats(st);
	bool ok = ss->packets == iters && ss->lost == 0 && ss->bad == 0 && x.got.spikes == want;
	printf("decode (one core, no sockets; %zu-byte datagrams, %.1f spikes each; CPU time of "
	       "the thread):\n",
	       r->len, r->spikes_per_pkt);
	printf("  s2_crc32 over a datagram:  %7.0f ns  (%.0f MB/s)\n", crc_ns,
	       (double)r->len / crc_ns * 1e3);
	printf("  s2_packet_decode:          %7.0f ns  (header checks + CRC)\n", dec_ns);
	printf("  s2_stream_feed + callback: %7.0f ns  = %.1f M spikes/s, %.0f k packets/s%s\n",
	       feed_ns, r->spikes_per_pkt / feed_ns * 1e3, 1e6 / feed_ns,
	       ok ? "" : "  (FAILED: spikes missing)");
	s2_stream_free(st);
	free(x.lat.v);
	(void)sink;
	return ok ? 0 : 1;
}

/* --- throughput ----------------------------------------------------------------------------- */

struct trial {
	struct ring *r;
	double rate;    /* offered spikes/s; 0: as fast as the sender can */
	double seconds; /* sending time */
	unsigned burst; /* datagrams per sendmmsg, <= BATCH */
	int cpu_rx, cpu_tx;
	/* receiver -> main */
	_Atomic uint16_t port; /* 0 until listening */
	_Atomic int rx_failed;
	/* sender -> receiver */
	_Atomic bool tx_done;
	_Atomic uint64_t tx_packets;
	/* results */
	struct tally sent;
	double tx_s, tx_cpu, rx_cpu, rx_wall;
	uint64_t send_errors;
	int rx_on, tx_on;
	struct s2_stream_stats st;
	struct tally got;
	struct samples lat;
};

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set); /* the calling thread */
}

struct rx_loop {
	struct trial *t;
	struct event_base *base;
	struct s2_stream *st;
	struct rx *x;
	uint64_t last_packets, last_change_ns;
};

/* Every 2 ms: stop once the sender is done and everything sent arrived, or nothing more
 * arrived for 300 ms (the rest is lost). */
static void rx_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rx_loop *l = arg;
	uint64_t p = s2_stream_stats(l->st)->packets, t = now_ns();
	if (p != l->last_packets) {
		l->last_packets = p;
		l->last_change_ns = t;
	}
	if (!atomic_load(&l->t->tx_done))
		return;
	if (p >= atomic_load(&l->t->tx_packets) || t - l->last_change_ns > 300000000u)
		event_base_loopbreak(l->base);
}

static void *rx_main(void *arg)
{
	struct trial *t = arg;
	pin(t->cpu_rx);
	pthread_setname_np(pthread_self(), "stream-rx"); /* for perf report --comm */
	struct rx x = {0};
	struct s2_stream_callbacks cb = {rx_spikes, NULL, rx_event, &x};
	struct event_base *base = event_base_new();
	struct s2_stream *st = s2_stream_new(STREAM_ID, &cb);
	uint16_t port = 0;
	struct rx_loop l = {t, base, st, &x, 0, now_ns()};
	struct event *tick = base ? event_new(base, -1, EV_PERSIST, rx_tick, &l) : NULL;
	struct timeval tv = {0, 2000};
	if (!base || !st || !tick || add_sources(st) < 0 ||
	    s2_stream_listen(st, base, "127.0.0.1", 0, &port) < 0 || event_add(tick, &tv) < 0) {
		atomic_store(&t->rx_failed, 1);
		goto out;
	}
	x.st = st;
	double c0 = cpu_s(RUSAGE_THREAD);
	uint64_t w0 = now_ns();
	atomic_store(&t->port, port);
	event_base_dispatch(base);
	t->rx_cpu = cpu_s(RUSAGE_THREAD) - c0;
	t->rx_wall = (double)(now_ns() - w0) * 1e-9;
	t->rx_on = sched_getcpu();
	t->st = *s2_stream_stats(st);
	t->got = x.got;
	t->lat = x.lat;
out:
	if (tick)
		event_free(tick);
	s2_stream_free(st);
	if (base)
		event_base_free(base);
	return NULL;
}

static void *tx_main(void *arg)
{
	struct trial *t = arg;
	pin(t->cpu_tx);
	pthread_setname_np(pthread_self(), "stream-tx");
	struct ring *r = t->r;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atomic_load(&t->port))};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		if (fd >= 0)
			close(fd);
		atomic_store(&t->tx_done, true);
		return NULL;
	}
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	memset(msgs, 0, sizeof msgs);
	double pkt_rate = t->rate / r->spikes_per_pkt; /* per second */
	double c0 = cpu_s(RUSAGE_THREAD);
	uint64_t sent = 0, t0 = now_ns(), dur = (uint64_t)(t->seconds * 1e9), now;
	while ((now = now_ns()) - t0 < dur) {
		uint64_t n = t->burst;
		if (pkt_rate > 0) {
			/* Send in bursts and sleep in between, so the sender leaves its
			 * core to others when it can (the machine may be shared). */
			uint64_t due = (uint64_t)((double)(now - t0) * 1e-9 * pkt_rate);
			uint64_t next = sent + t->burst;
			double next_ns = (double)next / pkt_rate * 1e9;
			if (due < next && next_ns < (double)dur) {
				double wait_ns = next_ns - (double)(now - t0);
				struct timespec ts = {0, (long)(wait_ns > 2e6 ? 2e6 : wait_ns)};
				nanosleep(&ts, NULL);
				continue;
			}
			n = due > sent ? due - sent : 0;
			if (n > t->burst)
				n = t->burst;
			if (!n)
				continue;
		}
		uint64_t t_us = now / 1000u;
		for (unsigned i = 0; i < n; i++) {
			unsigned k = (unsigned)((sent + i) % RING);
			iov[i].iov_base = ring_patch(r, k, (uint32_t)(sent + i), t_us);
			iov[i].iov_len = r->len;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int m = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (m < 0) {
			t->send_errors++;
			continue;
		}
		for (int i = 0; i < m; i++) {
			unsigned k = (unsigned)((sent + (unsigned)i) % RING);
			t->sent.spikes += r->spikes[k];
			t->sent.sum += r->sum[k];
			for (unsigned p = 0; p < N_POPS; p++)
				t->sent.pop[p] += r->pop_spikes[k][p];
		}
		sent += (uint64_t)m;
		atomic_store(&t->tx_packets, sent);
	}
	t->tx_s = (double)(now_ns() - t0) * 1e-9;
	t->tx_cpu = cpu_s(RUSAGE_THREAD) - c0;
	t->tx_on = sched_getcpu();
	close(fd);
	atomic_store(&t->tx_done, true);
	return NULL;
}

/* One trial; true if it passed (nothing lost, every spike accounted for). */
static bool trial_run(struct trial *t)
{
	atomic_store(&t->port, 0);
	atomic_store(&t->rx_failed, 0);
	atomic_store(&t->tx_done, false);
	atomic_store(&t->tx_packets, 0);
	pthread_t rx, tx;
	if (pthread_create(&rx, NULL, rx_main, t))
		return false;
	while (!atomic_load(&t->port) && !atomic_load(&t->rx_failed))
		usleep(1000);
	if (atomic_load(&t->rx_failed)) {
		pthread_join(rx, NULL);
		return false;
	}
	if (pthread_create(&tx, NULL, tx_main, t)) {
		atomic_store(&t->tx_done, true);
		pthread_join(rx, NULL);
		return false;
	}
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);
	uint64_t pk = atomic_load(&t->tx_packets);
	bool same = t->got.spikes == t->sent.spikes && t->got.sum == t->sent.sum &&
	            !memcmp(t->got.pop, t->sent.pop, sizeof t->got.pop);
	return pk > 0 && t->st.lost == 0 && t->st.bad == 0 && t->st.packets == pk &&
	       t->st.spikes == t->sent.spikes && same;
}

static void trial_print(struct trial *t, bool ok)
{
	uint64_t pk = atomic_load(&t->tx_packets);
	double offered = (double)t->sent.spikes / t->tx_s;
	double delivered = (double)t->st.spikes / t->tx_s;
	double missing = pk ? (double)(pk - (t->st.packets < pk ? t->st.packets : pk)) : 0;
	sample_sort(&t->lat);
	printf("%9s %9.2f %9.2f %8.1f %8.0f %6.2f %% %7.1f %5.0f %% %5.0f %% %7u %7u  %s\n",
	       t->rate > 0 ? "" : "max", offered / 1e6, delivered / 1e6,
	       (double)t->st.packets / t->tx_s / 1e3, missing, pk ? missing / (double)pk * 100 : 0,
	       t->st.spikes ? t->rx_cpu / (double)t->st.spikes * 1e9 : 0, t->rx_cpu / t->tx_s * 100,
	       t->tx_cpu / t->tx_s * 100, quantile(&t->lat, 0.5), quantile(&t->lat, 0.99),
	       ok ? "zero loss" : "LOSS");
	if (!ok && t->st.packets == pk && t->st.lost == 0)
		printf("          (spikes, per-population counts or neuron sums differ from what "
		       "was sent)\n");
	fflush(stdout);
}

static void trial_reset(struct trial *t, double rate)
{
	free(t->lat.v);
	memset(&t->lat, 0, sizeof t->lat);
	memset(&t->sent, 0, sizeof t->sent);
	memset(&t->got, 0, sizeof t->got);
	memset(&t->st, 0, sizeof t->st);
	t->rate = rate;
	t->send_errors = 0;
	t->tx_cpu = t->rx_cpu = t->tx_s = 0;
}

static int run_throughput(struct ring *r, double seconds, double rate, unsigned search,
                          unsigned burst)
{
	cpu_set_t set;
	int cpus[2] = {-1, -1}, n = 0;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	struct trial t = {.r = r, .seconds = seconds, .burst = burst};
	if (n == 2) {
		t.cpu_rx = cpus[0];
		t.cpu_tx = cpus[1];
	} else {
		t.cpu_rx = t.cpu_tx = -1;
	}
	/* What libs2 gets when it asks for its receive buffer (stream.c: 16 MiB). */
	int fd = socket(AF_INET, SOCK_DGRAM, 0), want = 16 << 20, got = 0;
	socklen_t gl = sizeof got;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
	close(fd);
	printf("throughput over loopback UDP: %zu-byte datagrams, %.1f spikes each (%u records "
	       "in %u datagrams), %.1f s per trial, bursts of %u\n",
	       r->len, r->spikes_per_pkt, r->records, RING, seconds, burst);
	if (n == 2)
		printf("receiver (s2_stream_listen + libevent + callback) pinned to CPU %d, sender "
		       "pinned to CPU %d\n",
		       t.cpu_rx, t.cpu_tx);
	else
		printf("one CPU: receiver and sender share it (not pinned)\n");
	printf("receiver socket buffer: libs2 asks %d bytes, the kernel grants %d "
	       "(net.core.rmem_max caps it)\n",
	       want, got);
	printf("\n%9s %9s %9s %8s %8s %8s %7s %7s %7s %7s %7s\n", "", "offered", "delivered",
	       "packets", "lost", "lost", "rx CPU", "rx CPU", "tx CPU", "age p50", "age p99");
	printf("%9s %9s %9s %8s %8s %8s %7s %7s %7s %7s %7s\n", "", "M spk/s", "M spk/s", "k/s",
	       "packets", "", "ns/spk", "busy", "busy", "us", "us");
	int rc = 0;
	if (rate > 0 && !search) {
		trial_reset(&t, rate);
		bool ok = trial_run(&t);
		trial_print(&t, ok);
		rc = ok ? 0 : 1;
		printf("\nresult: %s at %.2f M spikes/s offered (receiver on CPU %d, sender on CPU "
		       "%d)\n",
		       ok ? "zero loss" : "LOSS", (double)t.sent.spikes / t.tx_s / 1e6, t.rx_on,
		       t.tx_on);
	} else {
		/* As fast as the sender goes, then bisect the offered rate. */
		trial_reset(&t, 0);
		bool ok = trial_run(&t);
		trial_print(&t, ok);
		double max_offered = (double)t.sent.spikes / t.tx_s;
		double best = 0, best_offered = 0, best_cpu = 0;
		int rx_on = t.rx_on, tx_on = t.tx_on;
		if (ok) {
			best = (double)t.st.spikes / t.tx_s;
			best_offered = max_offered;
			best_cpu = t.rx_cpu / (double)t.st.spikes * 1e9;
		} else {
			double lo = 0, hi = max_offered;
			double next = (double)t.st.spikes / t.tx_s * 0.9; /* first guess */
			if (next <= 0 || next >= hi)
				next = hi / 2;
			for (unsigned i = 0; i < search; i++) {
				trial_reset(&t, next);
				ok = trial_run(&t);
				trial_print(&t, ok);
				double offered = (double)t.sent.spikes / t.tx_s;
				if (ok) {
					lo = next;
					if (offered > best_offered) {
						best_offered = offered;
						best = (double)t.st.spikes / t.tx_s;
						best_cpu = t.rx_cpu / (double)t.st.spikes * 1e9;
						rx_on = t.rx_on;
						tx_on = t.tx_on;
					}
				} else {
					hi = next;
				}
				next = (lo + hi) / 2;
			}
		}
		printf("\nresult: highest zero-loss rate found: %.2f M spikes/s delivered (%.0f k "
		       "packets/s), receiver CPU %.1f ns per spike; sender's maximum %.2f M "
		       "spikes/s%s (receiver on CPU %d, sender on CPU %d)\n",
		       best / 1e6, best / r->spikes_per_pkt / 1e3, best_cpu, max_offered / 1e6,
		       ok && best_offered == max_offered ? ": sender-limited" : "", rx_on, tx_on);
	}
	printf("columns: offered = spikes sent / sending time; delivered = spikes taken by the "
	       "callback / sending time;\n  lost = datagrams sent but never delivered; rx CPU = "
	       "receiver thread's user+system time (getrusage) per spike\n  and per second of "
	       "sending (recv, decode, callback; loopback delivery runs on the sender's CPU);\n  "
	       "age = callback time - sender's timestamp in the datagram (queueing under load)\n");
	free(t.lat.v);
	return rc;
}

/* --- latency through s2emu -------------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static int run_latency(const char *machine, const char *image, const char *ready, double max_s)
{
	char err[512];
	struct s2_machine *m = s2_machine_load_file(machine, err, sizeof err);
	if (!m) {
		fprintf(stderr, "bench_stream: %s\n", err);
		return 2;
	}
	struct s2_plan *plan = s2_plan_load(image, err, sizeof err);
	if (!plan) {
		fprintf(stderr, "bench_stream: %s\n", err);
		s2_machine_free(m);
		return 2;
	}
	int rc = 1;
	unsigned nb = s2_machine_boards(m);
	struct s2_client *c = s2_client_new(NULL);
	char kerr[512];
	if (c && s2_client_key_from_env(c, kerr, sizeof kerr) < 0) { /* docs/security.md */
		fprintf(stderr, "bench_stream: S2_KEY_FILE: %s\n", kerr);
		return 2;
	}
	struct s2_conn **conn = calloc(nb, sizeof *conn);
	struct s2_op *ops = calloc(nb, sizeof *ops);
	static struct s2_msg_stream_start msg;
	struct rx x = {.state = calloc(nb ? nb : 1, 1), .n_state = nb};
	struct s2_stream_callbacks cb = {rx_spikes, NULL, rx_event, &x};
	uint32_t id = (uint32_t)getpid() << 8 | 0x5Bu;
	struct s2_stream *st = s2_stream_new(id, &cb);
	uint16_t port = 0;
	unsigned boards = 0, first_board = 0;
	if (!c || !conn || !ops || !st || !x.state) {
		fprintf(stderr, "bench_stream: out of memory\n");
		goto out;
	}
	x.st = st;
	if (s2_stream_listen(st, s2_client_base(c), "127.0.0.1", 0, &port) < 0) {
		fprintf(stderr, "bench_stream: cannot listen on 127.0.0.1\n");
		goto out;
	}
	for (unsigned i = 0; i < plan->n_boards; i++) {
		const struct s2_plan_board *pb = &plan->boards[i];
		if (pb->board >= nb)
			continue;
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(m, pb->board, &ep);
		conn[pb->board] = s2_conn_open(c, ep.host, ep.eth_port, (uint16_t)pb->board);
		if (!conn[pb->board]) {
			fprintf(stderr, "bench_stream: cannot reach board %u\n", pb->board);
			goto out;
		}
		s2_stream_start_msg(st, S2_LIVE_F_SPIKES, 0, port, &msg);
		unsigned bad_chip = 0;
		int arc = s2_stream_add_plan_sources(st, plan, pb, NULL, 0, &msg, &bad_chip);
		if (arc < 0) {
			fprintf(stderr, "bench_stream: board %u chip %u: %s\n", pb->board, bad_chip,
			        arc == S2_E_RANGE ? "beyond the chips a stream can mark live"
			                          : s2_strerror(arc));
			goto out;
		}
		s2_op_init(&ops[pb->board], NULL, NULL);
		s2_stream_start_start(conn[pb->board], &msg, &ops[pb->board]);
		if (!boards++)
			first_board = pb->board;
	}
	s2_client_wait(c);
	for (unsigned b = 0; b < nb; b++)
		if (conn[b] && ops[b].status) {
			fprintf(stderr, "bench_stream: board %u: STREAM_START: %s\n", b,
			        s2_strerror(ops[b].status));
			goto stop;
		}
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f) {
			fprintf(f, "%u\n", port);
			fclose(f);
		}
	}
	double t0 = (double)now_ns() * 1e-9, t_done = 0;
	while (!stop_flag) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(s2_client_base(c), &tv);
		event_base_dispatch(s2_client_base(c));
		double t = (double)now_ns() * 1e-9;
		if (boards && x.boards_done >= boards && !t_done)
			t_done = t;
		if (t_done && t - t_done > 0.2)
			break;
		if (t - t0 > max_s) {
			fprintf(stderr,
			        "bench_stream: --max-seconds %.0f passed before every board "
			        "finished\n",
			        max_s);
			break;
		}
	}
stop:
	for (unsigned b = 0; b < nb; b++)
		if (conn[b]) {
			s2_op_init(&ops[b], NULL, NULL);
			s2_stream_stop_start(conn[b], id, &ops[b]);
		}
	s2_client_wait(c);
	{
		const struct s2_stream_stats *ss = s2_stream_stats(st);
		sample_sort(&x.lat);
		printf("latency, spike made on an emulated PE -> libs2 callback (s2emu, board "
		       "%u%s, "
		       "%llu PEs streamed, dt %.3g ms, realtime):\n",
		       first_board, boards > 1 ? " and others" : "", (unsigned long long)plan->pes,
		       plan->dt_ms);
		printf("  packets %llu (with spikes: %zu), spikes %llu, lost %llu, late %llu, "
		       "duplicates %llu, bad %llu, dropped by the board %llu\n",
		       (unsigned long long)ss->packets, x.lat.n, (unsigned long long)ss->spikes,
		       (unsigned long long)ss->lost, (unsigned long long)ss->late,
		       (unsigned long long)ss->duplicates, (unsigned long long)ss->bad,
		       (unsigned long long)ss->board_dropped);
		if (x.lat.n)
			printf("  per packet, now - time of its oldest spike: median %u us, 99th "
			       "percentile %u us, max %u us, min %u us (%zu packets)\n",
			       quantile(&x.lat, 0.5), quantile(&x.lat, 0.99), x.lat.v[x.lat.n - 1],
			       x.lat.v[0], x.lat.n);
		printf("  includes: the rest of the step after the spike (the emulated board sends "
		       "at the end of each step,\n  or at once when a datagram is full: up to one "
		       "step's computation of every PE and the routing),\n  the encode and "
		       "CRC, sendto, the loopback UDP path, the wake-up of this process, recv, "
		       "CRC check,\n  decode and the callback. Not included: how far the "
		       "emulator runs behind wall-clock time.\n");
		rc = x.lat.n && !ss->lost && !ss->bad ? 0 : 1;
	}
out:
	s2_stream_free(st);
	free(x.lat.v);
	free(x.state);
	if (c)
		s2_client_free(c);
	free(conn);
	free(ops);
	s2_plan_free(plan);
	s2_machine_free(m);
	return rc;
}

/* --- main ---------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: bench_stream decode [--seconds S]\n"
	        "       bench_stream throughput [--seconds S] [--rate SPIKES_PER_S | --search N] "
	        "[--per-pe K] [--burst B]\n"
	        "       bench_stream latency MACHINE IMAGE [--ready-file F] [--max-seconds S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"seconds", required_argument, 0, 's'},
	                                     {"rate", required_argument, 0, 'r'},
	                                     {"search", required_argument, 0, 'n'},
	                                     {"per-pe", required_argument, 0, 'k'},
	                                     {"ready-file", required_argument, 0, 'f'},
	                                     {"max-seconds", required_argument, 0, 'm'},
	                                     {"burst", required_argument, 0, 'b'},
	                                     {0, 0, 0, 0}};
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	double seconds = 3, rate = 0, max_s = 600;
	unsigned search = 0, per_pe = 150, burst = BATCH;
	const char *ready = NULL;
	optind = 2;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'n':
			search = (unsigned)atoi(optarg);
			break;
		case 'k':
			per_pe = (unsigned)atoi(optarg);
			break;
		case 'f':
			ready = optarg;
			break;
		case 'm':
			max_s = atof(optarg);
			break;
		case 'b':
			burst = (unsigned)atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	if (!(seconds > 0) || per_pe < 1 || per_pe > 500 || burst < 1 || burst > BATCH)
		return usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(mode, "latency")) {
		if (argc - optind != 2)
			return usage();
		return run_latency(argv[optind], argv[optind + 1], ready, max_s);
	}
	if (optind != argc)
		return usage();
	struct ring *r = calloc(1, sizeof *r);
	if (!r || ring_build(r, per_pe) < 0) {
		fprintf(stderr, "bench_stream: cannot build the datagrams\n");
		free(r);
		return 1;
	}
	/* The patched CRCs must be exact. */
	for (unsigned k = 0; k < RING; k++) {
		struct s2_header h;
		const uint8_t *pl;
		uint32_t seq = k * 2654435761u;
		if (s2_packet_decode(ring_patch(r, k, seq, now_us() + k), r->len, &h, &pl) < 0 ||
		    h.seq != seq) {
			fprintf(stderr, "bench_stream: datagram %u: patched CRC wrong\n", k);
			free(r);
			return 1;
		}
	}
	int rc;
	if (!strcmp(mode, "decode"))
		rc = run_decode(r, seconds);
	else if (!strcmp(mode, "throughput"))
		rc = run_throughput(r, seconds, rate, search, burst);
	else
		rc = usage();
	free(r);
	return rc;
}
