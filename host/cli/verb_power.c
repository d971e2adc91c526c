/*
 * Verbs for whole boards: discover (who is out there), power on/off/status and reset,
 * through the board controllers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

#include "cli.h"
#include "s2/error.h"
#include "s2/machine.h"
#include "session.h"

/* --- power and reset ---------------------------------------------------------------------- */

static int power_run(struct cli *c, int action /* -1: status */)
{
	struct session s;
	int ec = session_open(&s, c, false, true);
	if (!ec && action >= 0)
		ec = session_lease(&s);
	if (ec) {
		session_close(&s);
		return ec;
	}
	struct s2_op *ops = calloc(s.n, sizeof *ops);
	uint8_t(*bodies)[64] = calloc(s.n, sizeof *bodies);
	size_t *blen = calloc(s.n, sizeof *blen);
	if (!ops || !bodies || !blen) {
		ec = cli_error(c, EXIT_FAIL, "out of memory");
		goto out;
	}
	uint8_t act = (uint8_t)action;
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&ops[b], NULL, NULL);
		int rc = action < 0 ? s2_simple_start(s.bmp[b], S2_MSG_BMP_INFO, S2_ADDR_ANY,
		                                      S2_PE_MONITOR, NULL, 0, bodies[b],
		                                      sizeof bodies[b], &blen[b], &ops[b])
		                    : s2_simple_start(s.bmp[b], S2_MSG_BMP_POWER, S2_ADDR_ANY,
		                                      S2_PE_MONITOR, &act, 1, bodies[b],
		                                      sizeof bodies[b], &blen[b], &ops[b]);
		if (rc < 0)
			ops[b].status = rc;
	}
	s2_client_wait(s.client);
	static const char *const names[] = {"off", "on", "reset"};
	struct json j;
	if (c->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_arr(&j, "boards");
	}
	unsigned ok = 0, bad = 0;
	int worst = 0;
	for (unsigned b = 0; b < s.n; b++) {
		if (!s.sel[b])
			continue;
		struct s2_msg_bmp_info bi;
		int rc = ops[b].status;
		if (!rc && action < 0)
			rc = s2_msg_bmp_info_decode(bodies[b], blen[b], &bi);
		if (rc) {
			bad++;
			worst = rc;
			char line[300];
			cli_conn_summary(s.bmp[b], line, sizeof line);
			fprintf(stderr, "s2ctl %s: board %u: %s (%s)\n", c->verb, b,
			        s2_strerror(rc), line);
		} else {
			ok++;
		}
		if (c->json) {
			json_obj(&j, NULL);
			json_uint(&j, "board", b);
			json_flag(&j, "ok", rc == 0);
			if (rc)
				json_str(&j, "error", s2_errname(rc));
			else if (action < 0) {
				json_str(&j, "power", bi.power ? "on" : "off");
				json_uint(&j, "serial", bi.serial);
				json_str(&j, "version", bi.version);
			} else {
				json_str(&j, "done", names[action]);
			}
			json_end_obj(&j);
		} else if (!rc && !c->quiet) {
			if (action < 0)
				printf("board %u: power %s, serial 0x%08x, %s\n", b,
				       bi.power ? "on" : "off", (unsigned)bi.serial, bi.version);
			else
				printf("board %u: %s\n", b, names[action]);
		}
	}
	if (c->json) {
		json_end_arr(&j);
		json_end_obj(&j);
		json_finish(&j);
	}
	ec = bad == 0 ? EXIT_OK : ok ? EXIT_PARTIAL : cli_exit_for(worst);
out:
	free(ops);
	free(bodies);
	free(blen);
	session_close(&s);
	return ec;
}

int verb_power(int argc, char **argv)
{
	static const char *const words[] = {"off", "on", "status"};
	int action = -2;
	for (int k = 0; argc >= 2 && k < 3; k++)
		if (!strcmp(argv[1], words[k]))
			action = k == 2 ? -1 : k;
	if (action == -2) {
		bool help = argc >= 2 && !strcmp(argv[1], "--help");
		fputs(cli_usage("power"), help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	struct cli c;
	int pos = cli_parse(&c, "power", argc - 1, argv + 1, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc - 1)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[1 + pos]);
	return power_run(&c, action);
}

int verb_reset(int argc, char **argv)
{
	struct cli c;
	int pos = cli_parse(&c, "reset", argc, argv, NULL, NULL, NULL);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	return power_run(&c, S2_POWER_RESET);
}

/* --- discover ----------------------------------------------------------------------------- */

struct found {
	struct s2_msg_board_id id;
	char from[80];
	bool seen;
};

struct discover {
	struct cli *c;
	struct found *boards; /* by board index, or appended for unknown boards */
	unsigned n, cap;
	struct event_base *base;
	int fd;
	uint64_t bad;
};

static struct found *slot_for(struct discover *d, const struct s2_msg_board_id *id,
                              const char *from)
{
	for (unsigned i = 0; i < d->n; i++)
		if (d->boards[i].seen && d->boards[i].id.serial == id->serial &&
		    !strcmp(d->boards[i].from, from))
			return &d->boards[i];
	if (d->n == d->cap) {
		unsigned cap = d->cap ? 2 * d->cap : 16;
		struct found *more = realloc(d->boards, cap * sizeof *more);
		if (!more)
			return NULL;
		d->boards = more;
		d->cap = cap;
	}
	struct found *f = &d->boards[d->n++];
	memset(f, 0, sizeof *f);
	return f;
}

static void note(struct discover *d, const struct s2_msg_board_id *id, const char *from)
{
	struct found *f = slot_for(d, id, from);
	if (!f)
		return;
	f->id = *id;
	f->seen = true;
	snprintf(f->from, sizeof f->from, "%s", from);
}

static void listen_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct discover *d = arg;
	for (;;) {
		uint8_t buf[S2_MAX_DATAGRAM + 1];
		struct sockaddr_storage sa;
		socklen_t salen = sizeof sa;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&sa, &salen);
		if (n < 0)
			return;
		struct s2_header h;
		const uint8_t *p;
		struct s2_msg_board_id id;
		if (s2_packet_decode(buf, (size_t)n, &h, &p) < 0 || h.type != S2_MSG_ANNOUNCE ||
		    s2_msg_board_id_decode(p, h.payload_len, &id) < 0) {
			d->bad++;
			continue;
		}
		char host[64], from[80];
		evutil_inet_ntop(sa.ss_family,
		                 sa.ss_family == AF_INET6
		                         ? (void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
		                         : (void *)&((struct sockaddr_in *)&sa)->sin_addr,
		                 host, sizeof host);
		snprintf(from, sizeof from, "%s:%u", host,
		         ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
		                                        : ((struct sockaddr_in *)&sa)->sin_port));
		note(d, &id, from);
	}
}

struct discover_opts {
	const char *listen;
	const char *wait;
};

static int discover_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct discover_opts *o = ctx;
	if (id == 256)
		o->listen = arg;
	else if (id == 257)
		o->wait = arg;
	else
		return -1;
	return 0;
}

static const char *const state_name[] = {"unbooted", "booting", "booted"};

int verb_discover(int argc, char **argv)
{
	static const struct option extra[] = {
	        {"listen", required_argument, 0, 256},
	        {"wait", required_argument, 0, 257},
	        {0, 0, 0, 0},
	};
	struct cli c;
	struct discover_opts o = {"127.0.0.1:17893", "2"};
	int pos = cli_parse(&c, "discover", argc, argv, extra, discover_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos < argc)
		return cli_error(&c, EXIT_USAGE, "unexpected argument '%s'", argv[pos]);
	char *end;
	double wait = strtod(o.wait, &end);
	if (*end || !(wait >= 0 && wait <= 3600))
		return cli_error(&c, EXIT_USAGE, "--wait: '%s' is not 0..3600 seconds", o.wait);

	struct discover d = {.c = &c, .fd = -1};
	struct session s = {0};
	int ec = 0;
	bool have_machine = c.machine_path || getenv("S2_MACHINE");
	if (have_machine) {
		ec = session_open(&s, &c, true, false);
		if (ec) {
			session_close(&s);
			return ec;
		}
		d.base = s2_client_base(s.client);
	} else {
		d.base = event_base_new();
	}
	struct sockaddr_storage la;
	int lalen = sizeof la;
	if (evutil_parse_sockaddr_port(o.listen, (struct sockaddr *)&la, &lalen) < 0) {
		ec = cli_error(&c, EXIT_USAGE, "--listen: '%s' is not ADDR:PORT", o.listen);
		goto out;
	}
	d.fd = socket(la.ss_family, SOCK_DGRAM, 0);
	if (d.fd < 0 || bind(d.fd, (struct sockaddr *)&la, (socklen_t)lalen) < 0) {
		ec = cli_error(&c, EXIT_INPUT, "cannot listen on %s: %s", o.listen,
		               strerror(errno));
		goto out;
	}
	evutil_make_socket_nonblocking(d.fd);
	struct event *ev = event_new(d.base, d.fd, EV_READ | EV_PERSIST, listen_cb, &d);
	event_add(ev, NULL);

	/* Ask the boards we know of; their replies count like announcements. */
	struct s2_op *ops = have_machine ? calloc(s.n, sizeof *ops) : NULL;
	uint8_t(*bodies)[64] = have_machine ? calloc(s.n, sizeof *bodies) : NULL;
	size_t *blen = have_machine ? calloc(s.n, sizeof *blen) : NULL;
	for (unsigned b = 0; have_machine && ops && bodies && blen && b < s.n; b++) {
		if (!s.sel[b])
			continue;
		s2_op_init(&ops[b], NULL, NULL);
		if (s2_simple_start(s.eth[b], S2_MSG_DISCOVER, S2_ADDR_ANY, S2_PE_MONITOR, NULL, 0,
		                    bodies[b], sizeof bodies[b], &blen[b], &ops[b]) < 0)
			ops[b].status = S2_E_NOMEM;
	}
	struct timeval tv = {.tv_sec = (time_t)wait,
	                     .tv_usec = (suseconds_t)((wait - (double)(time_t)wait) * 1e6)};
	event_base_loopexit(d.base, &tv);
	event_base_dispatch(d.base);
	if (have_machine)
		s2_client_wait(s.client); /* whatever is still in flight finishes or times out */
	unsigned unanswered = 0;
	for (unsigned b = 0; have_machine && ops && b < s.n; b++) {
		if (!s.sel[b])
			continue;
		struct s2_msg_board_id id;
		if (ops[b].status || s2_msg_board_id_decode(bodies[b], blen[b], &id) < 0) {
			unanswered++;
			fprintf(stderr, "s2ctl discover: board %u (%s) did not answer: %s\n", b,
			        s2_conn_peer(s.eth[b]),
			        s2_strerror(ops[b].status ? ops[b].status : S2_E_FORMAT));
			continue;
		}
		note(&d, &id, s2_conn_peer(s.eth[b]));
	}
	event_free(ev);
	free(ops);
	free(bodies);
	free(blen);

	struct json j;
	if (c.json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_arr(&j, "boards");
	}
	for (unsigned i = 0; i < d.n; i++) {
		const struct found *f = &d.boards[i];
		if (c.json) {
			json_obj(&j, NULL);
			if (f->id.board != S2_ADDR_ANY)
				json_uint(&j, "board", f->id.board);
			json_str(&j, "endpoint", f->from);
			json_str(&j, "state", state_name[f->id.state]);
			json_uint(&j, "serial", f->id.serial);
			json_uint(&j, "chips", f->id.chips);
			json_uint(&j, "pes_per_chip", f->id.pes_per_chip);
			json_str(&j, "version", f->id.version);
			json_end_obj(&j);
		} else {
			printf("board %u at %s: %s, serial 0x%08x, %u chips x %u PEs, %s\n",
			       (unsigned)f->id.board, f->from, state_name[f->id.state],
			       (unsigned)f->id.serial, f->id.chips, f->id.pes_per_chip,
			       f->id.version);
		}
	}
	if (c.json) {
		json_end_arr(&j);
		json_uint(&j, "bad_datagrams", d.bad);
		json_end_obj(&j);
		json_finish(&j);
	} else if (!c.quiet) {
		printf("%u board(s) found%s\n", d.n,
		       d.bad ? " (some datagrams were malformed)" : "");
	}
	ec = unanswered ? EXIT_PARTIAL : EXIT_OK;
	if (unanswered && !d.n)
		ec = EXIT_TIMEOUT;
out:
	if (d.fd >= 0)
		evutil_closesocket(d.fd);
	free(d.boards);
	if (have_machine)
		session_close(&s);
	else
		event_base_free(d.base);
	return ec;
}
