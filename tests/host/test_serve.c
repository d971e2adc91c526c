/*
 * libs2's fan-out server (s2/serve.h): a client on a Unix socket gets a Hello with the plan's
 * population labels, every Spikes message in order, an Event, and a Summary with the stream's
 * totals and what it was sent; a client that does not read with a small queue loses whole
 * messages, counted in its Drops and Summary, while another client gets everything; and the
 * errors of s2_serve_open(): a spec that is neither unix: nor tcp:, a queue of 0 bytes, a
 * socket path that cannot be made, a port that is taken. The frames are decoded with the
 * protobuf-c code of proto/pb/stream.proto, independently of the server's encoder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "cmocka_runner.h"
#include "s2/error.h"
#include "s2/plan.h"
#include "s2/serve.h"
#include "s2pb/stream.pb-c.h"

static char dir[200];
static char logbuf[4096];

static void log_cb(void *arg, const char *line)
{
	(void)arg;
	size_t n = strlen(logbuf);
	snprintf(logbuf + n, sizeof logbuf - n, "%s\n", line);
}

static struct s2_plan_pop pops[2] = {{.label = "E"}, {.label = "I"}};
static struct s2_plan plan = {.dt_ms = 0.1, .pops = pops, .n_pops = 2};

static int connect_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof sun.sun_path); /* a socket path must fit, whole */
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

/* Run the event loop briefly (the server accepts and writes in it). */
static void spin(struct event_base *base)
{
	for (int i = 0; i < 5; i++) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

/* Every frame the client can read until the server closes it; returns the count. */
static size_t read_frames(int fd, S2pb__StreamMessage **msg, size_t cap)
{
	uint8_t *buf = NULL;
	size_t len = 0, alloc = 0;
	for (;;) {
		if (len == alloc) {
			alloc = alloc ? 2 * alloc : 65536;
			buf = realloc(buf, alloc);
			assert_non_null(buf);
		}
		ssize_t got = read(fd, buf + len, alloc - len);
		assert_true(got >= 0);
		if (!got)
			break;
		len += (size_t)got;
	}
	size_t n = 0, at = 0;
	while (at + 4 <= len && n < cap) {
		uint32_t flen = (uint32_t)buf[at] | (uint32_t)buf[at + 1] << 8 |
		                (uint32_t)buf[at + 2] << 16 | (uint32_t)buf[at + 3] << 24;
		assert_true(at + 4 + flen <= len);
		msg[n] = s2pb__stream_message__unpack(NULL, flen, buf + at + 4);
		assert_non_null(msg[n]);
		n++;
		at += 4 + flen;
	}
	assert_int_equal(at, len); /* nothing but whole frames */
	free(buf);
	return n;
}

static void clients_get_the_stream(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	assert_non_null(base);
	char spec[300], path[260], err[512] = "";
	snprintf(path, sizeof path, "%s/s.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	logbuf[0] = 0;
	struct s2_serve *sv =
	        s2_serve_open(base, spec, &plan, 1 << 20, log_cb, NULL, err, sizeof err);
	if (!sv)
		fail_msg("s2_serve_open: %s", err);
	assert_non_null(strstr(logbuf, "serving on unix:"));
	int fast = connect_unix(path);
	spin(base);
	assert_non_null(strstr(logbuf, "client 1 ("));
	struct s2_spike sp[3] = {{0, 5, 1}, {1, 7, 2}, {0, 9, 3}};
	s2_serve_spikes(sv, sp, 3);
	s2_serve_spikes(sv, sp, 1);
	struct s2_run_event ev = {.board = 0, .event = S2_LIVE_DONE, .step = 3};
	s2_serve_event(sv, &ev);
	struct s2_stream_stats st = {.packets = 11, .spikes = 4};
	s2_serve_finish(sv, &st);
	S2pb__StreamMessage *m[16];
	size_t n = read_frames(fast, m, 16);
	assert_int_equal(n, 5); /* Hello, Spikes, Spikes, Event, Summary */
	assert_int_equal(m[0]->msg_case, S2PB__STREAM_MESSAGE__MSG_HELLO);
	assert_int_equal(m[0]->hello->n_populations, 2);
	assert_string_equal(m[0]->hello->populations[1], "I");
	assert_int_equal(m[1]->msg_case, S2PB__STREAM_MESSAGE__MSG_SPIKES);
	assert_int_equal(m[1]->spikes->n_neuron, 3);
	assert_int_equal(m[1]->spikes->pop[1], 1);
	assert_int_equal(m[1]->spikes->neuron[2], 9);
	assert_int_equal(m[1]->spikes->step[1], 2);
	assert_int_equal(m[2]->spikes->n_neuron, 1);
	assert_int_equal(m[3]->msg_case, S2PB__STREAM_MESSAGE__MSG_EVENT);
	assert_string_equal(m[3]->event->event, "done");
	assert_int_equal(m[4]->msg_case, S2PB__STREAM_MESSAGE__MSG_SUMMARY);
	assert_int_equal(m[4]->summary->packets, 11);
	assert_int_equal(m[4]->summary->sent_spikes, 4);
	assert_int_equal(m[4]->summary->drops->messages, 0);
	for (size_t i = 0; i < n; i++)
		s2pb__stream_message__free_unpacked(m[i], NULL);
	close(fast);
	assert_non_null(strstr(logbuf, "client 1 ("));
	assert_non_null(strstr(logbuf, "sent 5 messages, 4 spikes"));
	s2_serve_close(sv);
	assert_int_equal(access(path, F_OK), -1); /* its socket file is gone */
	event_base_free(base);
}

static void slow_client_loses_whole_messages(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char spec[300], path[260], err[512] = "";
	snprintf(path, sizeof path, "%s/slow.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", path);
	logbuf[0] = 0;
	/* 16 KiB per client: 200 messages of 200 spikes (about 1 KiB each) cannot all wait */
	struct s2_serve *sv =
	        s2_serve_open(base, spec, &plan, 16384, log_cb, NULL, err, sizeof err);
	assert_non_null(sv);
	int fd = connect_unix(path);
	spin(base);
	static struct s2_spike sp[200];
	for (unsigned i = 0; i < 200; i++)
		sp[i] = (struct s2_spike){i & 1, i, i};
	for (unsigned k = 0; k < 200; k++)
		s2_serve_spikes(sv, sp, 200); /* the loop does not run: nothing is written */
	struct s2_stream_stats st = {.spikes = 40000};
	s2_serve_finish(sv, &st);
	S2pb__StreamMessage *m[256];
	size_t n = read_frames(fd, m, 256);
	if (n < 3)
		fail_msg("%zu frames; log:\n%s", n, logbuf);
	const S2pb__StreamMessage *su = m[n - 1];
	assert_int_equal(su->msg_case, S2PB__STREAM_MESSAGE__MSG_SUMMARY);
	uint64_t got = 0, msgs = 0;
	for (size_t i = 0; i < n; i++)
		if (m[i]->msg_case == S2PB__STREAM_MESSAGE__MSG_SPIKES) {
			got += m[i]->spikes->n_neuron;
			msgs++;
			assert_int_equal(m[i]->spikes->n_neuron, 200); /* whole messages only */
		}
	/* every spike is either delivered or counted as dropped */
	assert_true(su->summary->drops->messages > 0);
	assert_true(got > 0);
	assert_int_equal(got + su->summary->drops->spikes, 40000);
	assert_int_equal(msgs + su->summary->drops->messages, 200);
	assert_int_equal(su->summary->sent_spikes, got);
	for (size_t i = 0; i < n; i++)
		s2pb__stream_message__free_unpacked(m[i], NULL);
	close(fd);
	s2_serve_close(sv);
	event_base_free(base);
}

static void open_errors(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char err[512] = "", spec[300];
	assert_null(s2_serve_open(base, "ftp:x", &plan, 4096, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "expected unix:PATH or tcp:127.0.0.1:PORT"));
	snprintf(spec, sizeof spec, "unix:%s/q.sock", dir);
	assert_null(s2_serve_open(base, spec, &plan, 0, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "at least 1 byte"));
	snprintf(spec, sizeof spec, "unix:%s/no/such/dir/s.sock", dir);
	err[0] = 0;
	assert_null(s2_serve_open(base, spec, &plan, 4096, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "no/such/dir"));
	/* a port taken by another server */
	logbuf[0] = 0;
	struct s2_serve *a =
	        s2_serve_open(base, "tcp:127.0.0.1:0", &plan, 4096, log_cb, NULL, err, sizeof err);
	assert_non_null(a);
	const char *at = strstr(logbuf, "serving on tcp:127.0.0.1:");
	assert_non_null(at);
	snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", (unsigned)atoi(at + 25));
	err[0] = 0;
	assert_null(s2_serve_open(base, spec, &plan, 4096, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "127.0.0.1"));
	s2_serve_close(a);
	s2_serve_close(NULL);
	event_base_free(base);
}

int main(void)
{
	/* removed at exit with s2t_tmpdir(); a socket's path holds 107 bytes, and the longest
	 * made here is the directory and "/slow.sock" */
	if (!s2t_mkdtemp(dir, sizeof dir, "s2serve") || strlen(dir) > 96) {
		fprintf(stderr, "test_serve: no temporary directory of at most 96 bytes (%s)\n",
		        dir);
		return 1;
	}
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(clients_get_the_stream),
	        cmocka_unit_test(slow_client_loses_whole_messages),
	        cmocka_unit_test(open_errors),
	};
	return s2t_run_cmocka("serve", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
