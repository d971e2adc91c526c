/*
 * Board requests whose replies are decoded into the caller's memory (host/lib/board: survey,
 * scrub, simple requests, APP_STATUS; board_internal.h) against a scripted board on
 * loopback: what each request's outcome is, which failures fail the operation and how they
 * are named, and how far progress counts. The board answers per message type and chip:
 * CHIP_INFO of chip 0 well, of chip 1 "dead" (an answer, not a failure of the survey), of
 * chip 2 with another chip's number; SCRUB of chip 1 with a cut reply; BOARD_STATUS with 200
 * bytes; DISCOVER with an error status; APP_STATUS well; nothing at all to chip 9 (a silent
 * chip: the transport's give-up after max_attempts sends).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "s2test.h"
#include "cmocka_runner.h"
#include "s2/app.h"
#include "s2/board.h"
#include "s2/error.h"
#include "s2/msg.h"
#include "s2/packet.h"
#include "s2/transport.h"

static int fd = -1;
static uint16_t port;
static atomic_bool quit;
static pthread_t th;
static atomic_uint silent_rx; /* requests to the silent chip 9 that reached the board */

/* The reply body for request h (into body, its length returned), or an error status. */
static size_t script(const struct s2_header *h, uint8_t *body, size_t cap, int *status)
{
	*status = 0;
	int n = 0;
	switch (h->type) {
	case S2_MSG_CHIP_INFO:
		if (h->chip == 1) {
			*status = S2_E_DEAD;
			return 0;
		}
		n = s2_msg_chip_info_encode(
		        body, cap,
		        &(struct s2_msg_chip_info){.chip = h->chip == 2 ? 5 : h->chip, .pes = 152});
		break;
	case S2_MSG_SCRUB:
		n = s2_msg_scrub_rep_encode(body, cap,
		                            &(struct s2_msg_scrub_rep){.state = 2, .pes = 152});
		if (h->chip == 1)
			n = 3; /* cut */
		break;
	case S2_MSG_BOARD_STATUS:
		memset(body, 0xab, 200);
		n = 200;
		break;
	case S2_MSG_DISCOVER:
		*status = S2_E_STATE;
		return 0;
	case S2_MSG_APP_STATUS:
		n = s2_msg_app_status_encode(
		        body, cap, &(struct s2_msg_app_status){.state = S2_APP_DONE, .pes = 7});
		break;
	default:
		*status = S2_E_TYPE;
		return 0;
	}
	assert_true(n > 0);
	return (size_t)n;
}

static void *board(void *arg)
{
	(void)arg;
	uint8_t in[S2_MAX_DATAGRAM], out[S2_MAX_DATAGRAM], body[S2_MAX_PAYLOAD];
	while (!atomic_load(&quit)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
		struct s2_header h;
		const uint8_t *payload;
		if (n <= 0 || s2_packet_decode(in, (size_t)n, &h, &payload) < 0)
			continue;
		if (h.chip == 9) {
			atomic_fetch_add(&silent_rx, 1);
			continue;
		}
		int status;
		size_t len = script(&h, body, sizeof body, &status);
		h.flags = S2_F_REPLY;
		if (status) {
			h.flags |= S2_F_ERROR;
			len = (size_t)s2_msg_status_encode(body, sizeof body, status);
		}
		int m = s2_packet_encode(out, sizeof out, &h, body, len);
		if (m > 0)
			sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	port = ntohs(a.sin_port);
	atomic_store(&quit, false);
	return pthread_create(&th, NULL, board, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	atomic_store(&quit, true);
	pthread_join(th, NULL);
	close(fd);
	return 0;
}

static struct s2_client *c;
static struct s2_conn *conn;

static void open_conn(void)
{
	c = s2_client_new(NULL);
	assert_non_null(c);
	conn = s2_conn_open(c, "127.0.0.1", port, 0);
	assert_non_null(conn);
}

/* A dead chip is an answer; a reply about another chip fails the survey, naming the chip. */
static void survey(void **state)
{
	(void)state;
	open_conn();
	struct s2_msg_chip_info info[64];
	int st[64];
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_survey_start(conn, 0x3, info, st, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), 0);
	assert_int_equal(st[0], 0);
	assert_int_equal(info[0].pes, 152);
	assert_int_equal(st[1], S2_E_DEAD);
	assert_true(op.done == 2 && op.total == 2 && op.outstanding == 0);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_survey_start(conn, 0x7, info, st, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), S2_E_FORMAT);
	assert_string_equal(op.what, "CHIP_INFO of chip 2");
	assert_int_equal(st[2], S2_E_FORMAT);
	assert_true(op.done == 3 && op.total == 3); /* every chip answered */
	s2_client_free(c);
}

/* A cut scrub reply fails the op, naming the chip; the others are decoded. */
static void scrub(void **state)
{
	(void)state;
	open_conn();
	struct s2_msg_scrub_rep rep[64];
	int st[64];
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_scrub_start(conn, 0x3, S2_SCRUB_STATUS, rep, st, &op), 0);
	assert_true(s2_op_wait(c, &op) < 0);
	assert_string_equal(op.what, "SCRUB of chip 1");
	assert_int_equal(st[0], 0);
	assert_int_equal(rep[0].pes, 152);
	assert_true(st[1] < 0);
	s2_client_free(c);
}

/* Simple requests: the reply copied with its length; one longer than the room fails as
 * "TYPE reply" (S2_E_LENGTH), an error status as "TYPE" with its code; only answered
 * requests advance; APP_STATUS decoded. */
static void simple_and_status(void **state)
{
	(void)state;
	open_conn();
	uint8_t buf[256];
	size_t got = 0;
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_simple_start(conn, S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR,
	                                 NULL, 0, buf, sizeof buf, &got, &op),
	                 0);
	assert_int_equal(s2_op_wait(c, &op), 0);
	assert_int_equal(got, 200);
	assert_int_equal(buf[199], 0xab);
	assert_true(op.done == 1 && op.total == 1);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_simple_start(conn, S2_MSG_BOARD_STATUS, S2_ADDR_ANY, S2_PE_MONITOR,
	                                 NULL, 0, buf, 16, &got, &op),
	                 0);
	assert_int_equal(s2_op_wait(c, &op), S2_E_LENGTH);
	assert_string_equal(op.what, "BOARD_STATUS reply");
	assert_true(op.done == 0 && op.total == 1);
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_simple_start(conn, S2_MSG_DISCOVER, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0,
	                                 NULL, 0, NULL, &op),
	                 0);
	assert_int_equal(s2_op_wait(c, &op), S2_E_STATE);
	assert_string_equal(op.what, "DISCOVER");
	struct s2_msg_app_status as;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_app_status_start(conn, &as, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), 0);
	assert_int_equal(as.state, S2_APP_DONE);
	assert_int_equal(as.pes, 7);
	assert_true(op.total == 0 && op.outstanding == 0); /* not an item of progress */
	s2_client_free(c);
}

/* A chip that never answers: given up after exactly max_attempts sends (min_patience_us 0),
 * failing the op as a timeout; the conn's counters and summary name the request, the chip
 * and the sends. max_attempts is clamped to 1..S2_ATTEMPTS_MAX. */
static void give_up(void **state)
{
	(void)state;
	struct s2_transport_opts o;
	s2_transport_defaults(&o);
	assert_int_equal(o.max_attempts, 8);
	o.max_attempts = 0;
	c = s2_client_new(&o);
	assert_int_equal(s2_client_opts(c)->max_attempts, 1);
	s2_client_free(c);
	o.max_attempts = S2_ATTEMPTS_MAX + 1;
	c = s2_client_new(&o);
	assert_int_equal(s2_client_opts(c)->max_attempts, S2_ATTEMPTS_MAX);
	s2_client_free(c);

	o.max_attempts = 6;
	o.min_patience_us = 0;
	o.rto_initial_us = 2000;
	o.rto_min_us = 1000;
	o.rto_max_us = 4000;
	c = s2_client_new(&o);
	assert_non_null(c);
	conn = s2_conn_open(c, "127.0.0.1", port, 0);
	assert_non_null(conn);
	char sum[512];
	s2_conn_summary(conn, sum, sizeof sum);
	assert_null(strstr(sum, "gave up"));
	atomic_store(&silent_rx, 0);
	struct s2_msg_chip_info info[64];
	int st[64];
	struct s2_op op;
	s2_op_init(&op, NULL, NULL);
	assert_int_equal(s2_survey_start(conn, 1ull << 9, info, st, &op), 0);
	assert_int_equal(s2_op_wait(c, &op), S2_E_TIMEOUT);
	assert_int_equal(st[9], S2_E_TIMEOUT);
	assert_int_equal(atomic_load(&silent_rx), 6);
	const struct s2_conn_stats *cs = s2_conn_stats(conn);
	assert_int_equal(cs->sent, 6);
	assert_int_equal(cs->failed, 1);
	assert_int_equal(cs->gaveup_sends, 6);
	assert_int_equal(cs->gaveup_chip, 9);
	assert_int_equal(cs->gaveup_type, S2_MSG_CHIP_INFO);
	assert_true(s2_conn_unresponsive(conn));
	s2_conn_summary(conn, sum, sizeof sum);
	assert_non_null(strstr(sum, "; gave up on CHIP_INFO to chip 9 after 6 sends in "));
	s2_client_free(c);
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(survey),
	        cmocka_unit_test(scrub),
	        cmocka_unit_test(simple_and_status),
	        cmocka_unit_test(give_up),
	};
	return _cmocka_run_group_tests("board", t, sizeof t / sizeof t[0], setup, teardown) ? 1 : 0;
}
