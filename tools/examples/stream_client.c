/*
 * stream_client: an example application of `s2ctl stream --serve` (docs/stream.md, "Serving
 * applications"). It connects to the server, reads the framed StreamMessages of
 * proto/pb/stream.proto (u32 little-endian length, then the message) and prints them the way
 * `s2ctl stream` prints its text: spikes as "STEP POPULATION NEURON" lines, energy samples and
 * run events as '#' lines; then the Summary. It checks what it trusts: a frame over 16 MiB, a
 * message that does not decode, a Spikes message with columns of different lengths or a
 * connection that ends before the Summary are errors (exit 1).
 *
 *   stream_client [--slow-ms N] [--count] unix:PATH | tcp:HOST:PORT
 *
 * --slow-ms N sleeps N ms after each message (a slow client, to see the server drop for it);
 * --count prints only the totals.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "s2pb/stream.pb-c.h"

#define MAX_FRAME (16u << 20) /* the schema's limit: a longer frame is an error */

struct totals {
	uint64_t messages, spikes, energy, events;
	uint64_t drop_msgs, drop_spikes; /* the latest Drops (or the Summary's) */
};

static void usage(void)
{
	fprintf(stderr, "usage: stream_client [--slow-ms N] [--count] unix:PATH | tcp:HOST:PORT\n");
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "stream_client: unix:%s: path longer than %zu bytes\n", path,
		        sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fprintf(stderr, "stream_client: connecting to unix:%s: %s\n", path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	size_t hl = colon ? (size_t)(colon - hostport) : 0;
	if (!colon || !hl || hl >= sizeof host || !colon[1]) {
		fprintf(stderr, "stream_client: tcp:%s: expected tcp:HOST:PORT\n", hostport);
		return -1;
	}
	memcpy(host, hostport, hl);
	host[hl] = 0;
	if (host[0] == '[' && host[hl - 1] == ']') { /* [::1] */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		fprintf(stderr, "stream_client: tcp:%s: %s\n", hostport, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "stream_client: connecting to tcp:%s: %s\n", hostport,
		        strerror(err ? err : errno));
	return fd;
}

/* Read exactly n bytes: 1, 0 at end of stream before the first byte, -1 on error (printed). */
static int read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "stream_client: reading: %s\n", strerror(errno));
			return -1;
		}
		if (r == 0) {
			if (!got)
				return 0;
			fprintf(stderr, "stream_client: connection closed inside a frame\n");
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void print_summary(const S2pb__StreamMessage__Summary *s)
{
	const S2pb__StreamMessage__Drops *d = s->drops;
	printf("# summary packets %llu bytes %llu spikes %llu energy_samples %llu events %llu "
	       "lost %llu late %llu duplicates %llu stale %llu bad %llu foreign %llu "
	       "unknown_source %llu "
	       "board_dropped %llu rx_errors %llu sent_messages %llu sent_spikes %llu "
	       "dropped_messages %llu dropped_spikes %llu\n",
	       (unsigned long long)s->packets, (unsigned long long)s->bytes,
	       (unsigned long long)s->spikes, (unsigned long long)s->energy_samples,
	       (unsigned long long)s->events, (unsigned long long)s->lost,
	       (unsigned long long)s->late, (unsigned long long)s->duplicates,
	       (unsigned long long)s->stale, (unsigned long long)s->bad,
	       (unsigned long long)s->foreign, (unsigned long long)s->unknown_source,
	       (unsigned long long)s->board_dropped, (unsigned long long)s->rx_errors,
	       (unsigned long long)s->sent_messages, (unsigned long long)s->sent_spikes,
	       (unsigned long long)(d ? d->messages : 0), (unsigned long long)(d ? d->spikes : 0));
}

/* Print one message (count_only: just count it). 1 after the Summary, 0 to go on, -1 if it
 * breaks the schema's rules. */
static int handle(const S2pb__StreamMessage *m, S2pb__StreamMessage **hello, struct totals *t,
                  bool count_only)
{
	const S2pb__StreamMessage__Hello *h = *hello ? (*hello)->hello : NULL;
	if (!h && m->msg_case != S2PB__STREAM_MESSAGE__MSG_HELLO) {
		fprintf(stderr, "stream_client: message %llu came before the Hello\n",
		        (unsigned long long)t->messages);
		return -1;
	}
	switch (m->msg_case) {
	case S2PB__STREAM_MESSAGE__MSG_HELLO:
		if (h) {
			fprintf(stderr, "stream_client: a second Hello (message %llu)\n",
			        (unsigned long long)t->messages);
			return -1;
		}
		*hello = (S2pb__StreamMessage *)m; /* kept: the caller does not free it */
		if (!count_only)
			printf("# hello version %u timestep_ms %g populations %zu\n",
			       m->hello->version, m->hello->timestep_ms, m->hello->n_populations);
		fflush(stdout); /* connected: visible at once, even in a file */
		return 0;
	case S2PB__STREAM_MESSAGE__MSG_SPIKES: {
		const S2pb__StreamMessage__Spikes *s = m->spikes;
		if (s->n_neuron != s->n_pop || s->n_step != s->n_pop) {
			fprintf(stderr,
			        "stream_client: message %llu: Spikes columns of %zu, %zu and %zu "
			        "entries\n",
			        (unsigned long long)t->messages, s->n_pop, s->n_neuron, s->n_step);
			return -1;
		}
		t->spikes += s->n_pop;
		if (!count_only)
			for (size_t i = 0; i < s->n_pop; i++)
				printf("%u %s %u\n", s->step[i],
				       s->pop[i] < h->n_populations ? h->populations[s->pop[i]]
				                                    : "?",
				       s->neuron[i]);
		return 0;
	}
	case S2PB__STREAM_MESSAGE__MSG_ENERGY: {
		const S2pb__StreamMessage__Energy *e = m->energy;
		t->energy++;
		if (count_only)
			return 0;
		printf("# energy board %u chip %u step %u time_us %llu", e->board, e->chip, e->step,
		       (unsigned long long)e->time_us);
		for (size_t k = 0; k < e->n_counters; k++)
			if (k < h->n_counters)
				printf(" %s %llu", h->counters[k],
				       (unsigned long long)e->counters[k]);
			else
				printf(" counter%zu %llu", k, (unsigned long long)e->counters[k]);
		putchar('\n');
		return 0;
	}
	case S2PB__STREAM_MESSAGE__MSG_EVENT:
		t->events++;
		if (!count_only)
			printf("# event board %u %s step %u time_us %llu\n", m->event->board,
			       m->event->event, m->event->step,
			       (unsigned long long)m->event->time_us);
		return 0;
	case S2PB__STREAM_MESSAGE__MSG_DROPS:
		t->drop_msgs = m->drops->messages;
		t->drop_spikes = m->drops->spikes;
		if (!count_only)
			printf("# drops messages %llu spikes %llu\n",
			       (unsigned long long)m->drops->messages,
			       (unsigned long long)m->drops->spikes);
		return 0;
	case S2PB__STREAM_MESSAGE__MSG_SUMMARY:
		if (m->summary->drops) {
			t->drop_msgs = m->summary->drops->messages;
			t->drop_spikes = m->summary->drops->spikes;
		}
		print_summary(m->summary);
		if (m->summary->sent_spikes != t->spikes)
			fprintf(stderr,
			        "stream_client: the server says it sent %llu spikes, %llu "
			        "arrived\n",
			        (unsigned long long)m->summary->sent_spikes,
			        (unsigned long long)t->spikes);
		return m->summary->sent_spikes == t->spikes ? 1 : -1;
	default:
		fprintf(stderr, "stream_client: message %llu: no known field set\n",
		        (unsigned long long)t->messages);
		return -1;
	}
}

int main(int argc, char **argv)
{
	unsigned slow_ms = 0;
	bool count_only = false;
	const char *addr = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--slow-ms") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || end == argv[i] || v > 60000) {
				fprintf(stderr, "stream_client: --slow-ms: 0..60000, not '%s'\n",
				        argv[i]);
				return 2;
			}
			slow_ms = (unsigned)v;
		} else if (!strcmp(argv[i], "--count")) {
			count_only = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return 0;
		} else if (!addr && argv[i][0] != '-') {
			addr = argv[i];
		} else {
			usage();
			return 2;
		}
	}
	if (!addr) {
		usage();
		return 2;
	}
	int fd = !strncmp(addr, "unix:", 5)  ? connect_unix(addr + 5)
	         : !strncmp(addr, "tcp:", 4) ? connect_tcp(addr + 4)
	                                     : (usage(), -2);
	if (fd < 0)
		return fd == -2 ? 2 : 1;

	struct totals t = {0};
	S2pb__StreamMessage *hello = NULL;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = -1;
	for (;;) {
		uint8_t hdr[4];
		int r = read_full(fd, hdr, 4);
		if (r == 0)
			fprintf(stderr, "stream_client: %s closed the stream before its Summary\n",
			        addr);
		if (r <= 0)
			break;
		uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
		               (uint32_t)hdr[3] << 24;
		if (len > MAX_FRAME) {
			fprintf(stderr,
			        "stream_client: message %llu: frame of %u bytes, over the %u-byte "
			        "limit\n",
			        (unsigned long long)t.messages, len, MAX_FRAME);
			break;
		}
		if (len > cap) {
			uint8_t *nb = realloc(buf, len);
			if (!nb) {
				fprintf(stderr,
				        "stream_client: out of memory for a %u-byte frame\n", len);
				break;
			}
			buf = nb;
			cap = len;
		}
		r = len ? read_full(fd, buf, len) : 1;
		if (r == 0)
			fprintf(stderr, "stream_client: connection closed inside a frame\n");
		if (r <= 0)
			break;
		S2pb__StreamMessage *m = s2pb__stream_message__unpack(NULL, len, buf);
		if (!m) {
			fprintf(stderr,
			        "stream_client: message %llu (%u bytes): not a StreamMessage\n",
			        (unsigned long long)t.messages, len);
			break;
		}
		int h = handle(m, &hello, &t, count_only);
		t.messages++;
		if (m != hello)
			s2pb__stream_message__free_unpacked(m, NULL);
		if (h) {
			rc = h > 0 ? 0 : -1;
			break;
		}
		if (slow_ms)
			sleep_ms(slow_ms);
	}
	if (count_only)
		printf("# totals messages %llu spikes %llu energy %llu events %llu "
		       "dropped_messages %llu dropped_spikes %llu\n",
		       (unsigned long long)t.messages, (unsigned long long)t.spikes,
		       (unsigned long long)t.energy, (unsigned long long)t.events,
		       (unsigned long long)t.drop_msgs, (unsigned long long)t.drop_spikes);
	if (hello)
		s2pb__stream_message__free_unpacked(hello, NULL);
	free(buf);
	close(fd);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "stream_client: writing the output: %s\n", strerror(errno));
		rc = -1;
	}
	return rc < 0 ? 1 : 0;
}
