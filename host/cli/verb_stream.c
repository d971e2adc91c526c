/*
 * s2ctl stream and inject (docs/cli/stream.md): receive a running network's live spikes,
 * energy counter samples and run events, print them as text or JSON lines (or serve them to
 * applications, s2/serve.h); inject spikes into source populations.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "s2/plan.h"
#include "s2/app.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/live.h"
#include "s2/stream.h"
#include "s2/subscribe.h"
#include "s2/metrics.h"
#include "s2/serve.h"
#include "stream_out.h"
#include "session.h"

struct stream_opts {
	const char *pops[64];
	unsigned n_pops;
	const char *energy, *listen, *serve, *ready, *max_s, *queue, *metrics;
	bool no_spikes, follow, count_only;
};

static int stream_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct stream_opts *o = ctx;
	switch (id) {
	case 256:
		if (o->n_pops == 64)
			return -1;
		o->pops[o->n_pops++] = arg;
		return 0;
	case 257:
		o->energy = arg;
		return 0;
	case 258:
		o->no_spikes = true;
		return 0;
	case 259:
		o->listen = arg;
		return 0;
	case 260:
		o->serve = arg;
		return 0;
	case 261:
		o->ready = arg;
		return 0;
	case 262:
		o->follow = true;
		return 0;
	case 263:
		o->max_s = arg;
		return 0;
	case 264:
		o->count_only = true;
		return 0;
	case 265:
		o->queue = arg;
		return 0;
	case 266:
		o->metrics = arg;
		return 0;
	default:
		return -1;
	}
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int verb_stream(int argc, char **argv)
{
	static const struct option extra[] = {{"population", required_argument, 0, 256},
	                                      {"energy-every", required_argument, 0, 257},
	                                      {"no-spikes", no_argument, 0, 258},
	                                      {"listen", required_argument, 0, 259},
	                                      {"serve", required_argument, 0, 260},
	                                      {"ready-file", required_argument, 0, 261},
	                                      {"follow", no_argument, 0, 262},
	                                      {"max-seconds", required_argument, 0, 263},
	                                      {"count-only", no_argument, 0, 264},
	                                      {"client-queue", required_argument, 0, 265},
	                                      {"metrics", required_argument, 0, 266},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct stream_opts o = {0};
	int pos = cli_parse(&c, "stream", argc, argv, extra, stream_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc)
		return cli_error(&c, EXIT_USAGE, "stream takes one IMAGE (see --help)");
	unsigned long energy = 0, max_s = 0, queue = 4u << 20;
	if (o.energy && cli_uint(&c, "--energy-every", o.energy, 1000000, &energy) < 0)
		return EXIT_USAGE;
	if (o.energy && !energy)
		return cli_error(&c, EXIT_USAGE, "--energy-every: at least 1 step");
	if (o.max_s && cli_uint(&c, "--max-seconds", o.max_s, 86400 * 365, &max_s) < 0)
		return EXIT_USAGE;
	if (o.queue && cli_uint(&c, "--client-queue", o.queue, 1ul << 32, &queue) < 0)
		return EXIT_USAGE;
	if (o.no_spikes && !energy)
		return cli_error(&c, EXIT_USAGE,
		                 "--no-spikes needs --energy-every: nothing to stream");
	char err[512];
	struct s2_plan *plan = s2_plan_load(argv[pos], err, sizeof err);
	if (!plan)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	for (unsigned i = 0; i < o.n_pops; i++) {
		bool found = false;
		for (unsigned p = 0; p < plan->n_pops && !found; p++)
			found = !strcmp(plan->pops[p].label, o.pops[i]);
		if (!found) {
			s2_plan_free(plan);
			return cli_error(&c, EXIT_INPUT, "--population %s: not in %s", o.pops[i],
			                 argv[pos]);
		}
	}
	struct session s;
	int ec = session_open(&s, &c, true, false);
	if (ec) {
		session_close(&s);
		s2_plan_free(plan);
		return ec;
	}
	struct sx x = {.c = &c, .plan = plan, .count_only = o.count_only, .out = stdout};
	x.boards_total = s.n;
	x.state = calloc(s.n ? s.n : 1, 1);
	uint32_t id = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 12;
	id = id ? id : 1;
	struct s2_stream_callbacks cb = {sx_spikes, sx_energy, sx_event, &x};
	struct s2_stream *st = s2_stream_new(id, &cb);
	struct event_base *base = s2_client_base(s.client);
	if (st)
		s2_stream_set_key(st, s2_client_key(s.client)); /* docs/security.md */
	if (st && cli_job_stream_map(&c, s.m, st) < 0) {
		s2_stream_free(st);
		st = NULL;
	}
	uint16_t port = 0;
	int rc;
	double t0 = sx_now();
	if (!x.state || !st) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	if ((rc = s2_stream_listen(st, base, o.listen ? o.listen : "127.0.0.1", 0, &port)) < 0) {
		ec = cli_error(&c, EXIT_USAGE, "--listen %s: %s", o.listen ? o.listen : "127.0.0.1",
		               s2_strerror(rc));
		goto out;
	}
	if (o.metrics && !(x.metrics = s2_metrics_open(base, o.metrics, argv[pos], cli_serve_log,
	                                               (void *)"s2ctl stream", err, sizeof err))) {
		ec = cli_error(&c, EXIT_USAGE, "--metrics %s: %s", o.metrics, err);
		goto out;
	}
	if (o.serve && !(x.serve = s2_serve_open(base, o.serve, plan, (size_t)queue, cli_serve_log,
	                                         (void *)"s2ctl stream", err, sizeof err))) {
		ec = cli_error(&c, EXIT_USAGE, "--serve %s: %s", o.serve, err);
		goto out;
	}
	/* Subscribe every board of the image: its live PEs, its chips' counters. */
	unsigned boards = 0;
	bool sent = false;
	uint32_t flags = (o.no_spikes ? 0 : S2_LIVE_F_SPIKES) | (energy ? S2_LIVE_F_ENERGY : 0);
	rc = s2_stream_subscribe(s.ls, st, plan, o.pops, o.n_pops, flags, (uint32_t)energy, port,
	                         &boards, &sent, err, sizeof err);
	if (rc < 0) {
		ec = cli_error(
		        &c, !sent ? (rc == S2_E_RANGE ? EXIT_INPUT : EXIT_FAIL) : cli_exit_for(rc),
		        "%s", err);
		if (!sent)
			goto out;
		goto stop;
	}
	if (!c.quiet)
		fprintf(stderr,
		        "s2ctl stream: %u board(s) streaming to 127.0.0.1:%u (stream %08x)\n",
		        boards, port, id);
	if (o.ready) {
		FILE *f = fopen(o.ready, "w");
		if (f) {
			fprintf(f, "%u\n", port);
			fclose(f);
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = sx_now();
	/* Liveness: a stream only listens, so it asks each board for APP_STATUS once a second; a
	 * board that stops answering (the transport's retries, at least 3 s) ends the stream
	 * with an error naming it, instead of a wait without end (libs2's stream watch). */
	struct s2_stream_watch *watch = s2_stream_watch_new(s.ls, plan);
	if (!watch) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto stop;
	}
	/* Until every board finished (and 200 ms more for packets overtaken on the way), or
	 * --max-seconds, or a signal. */
	while (!interrupted) {
		struct timeval tv = {0, 50000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		fflush(x.out);
		if (!o.follow && boards && x.boards_finished >= boards && !x.boards_running &&
		    sx_now() - x.t_last_finish > 0.2)
			break;
		if (max_s && sx_now() - t0 > (double)max_s) {
			if (!o.follow)
				ec = EXIT_TIMEOUT;
			break;
		}
		if ((rc = s2_stream_watch_poll(watch, err, sizeof err)) < 0) {
			ec = cli_error(&c, cli_exit_for(rc), "%s", err);
			break;
		}
	}
	s2_stream_watch_free(watch);
stop:
	/* Unsubscribe (best effort: a board that is gone forgets its streams anyway). */
	s2_stream_unsubscribe(s.ls, plan, id);
	if (x.serve)
		s2_serve_finish(x.serve, s2_stream_stats(st));
	if (!c.quiet)
		sx_summary(&c, s2_stream_stats(st), sx_now() - t0, c.json ? stdout : stderr);
	if (ec == EXIT_TIMEOUT)
		cli_error(&c, ec, "--max-seconds %lu passed before every board finished", max_s);
	else if (!ec && s2_stream_stats(st)->lost + s2_stream_stats(st)->board_dropped)
		fprintf(stderr,
		        "s2ctl stream: %llu packets lost, %llu records dropped by boards "
		        "(counted above)\n",
		        (unsigned long long)s2_stream_stats(st)->lost,
		        (unsigned long long)s2_stream_stats(st)->board_dropped);
out:
	s2_metrics_close(x.metrics);
	if (x.serve)
		s2_serve_close(x.serve);
	s2_stream_free(st);
	free(x.state);
	session_close(&s);
	s2_plan_free(plan);
	return ec;
}

/* --- inject ------------------------------------------------------------------------------- */

struct inject_opts {
	const char *pop, *neurons, *step;
};

static int inject_opt(struct cli *c, int id, const char *arg, void *ctx)
{
	(void)c;
	struct inject_opts *o = ctx;
	if (id == 256)
		o->pop = arg;
	else if (id == 257)
		o->neurons = arg;
	else if (id == 258)
		o->step = arg;
	else
		return -1;
	return 0;
}

/* Where neuron of population pop lives: board, chip, pe and index there. */
static bool locate(const struct s2_plan *p, uint32_t pop, uint32_t neuron, unsigned *board,
                   uint16_t *chip, uint8_t *pe, uint16_t *idx)
{
	for (unsigned i = 0; i < p->n_boards; i++) {
		const struct s2_plan_board *pb = &p->boards[i];
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				const struct s2_plan_pe_info *in = &pb->info[ch][q];
				if (in->pop == pop && neuron >= in->lo && neuron < in->lo + in->n) {
					*board = pb->board;
					*chip = pb->chips[ch].chip;
					*pe = pb->chips[ch].pes[q].pe;
					*idx = (uint16_t)(neuron - in->lo);
					return true;
				}
			}
	}
	return false;
}

int verb_inject(int argc, char **argv)
{
	static const struct option extra[] = {{"population", required_argument, 0, 256},
	                                      {"neurons", required_argument, 0, 257},
	                                      {"step", required_argument, 0, 258},
	                                      {0, 0, 0, 0}};
	struct cli c;
	struct inject_opts o = {0};
	int pos = cli_parse(&c, "inject", argc, argv, extra, inject_opt, &o);
	if (pos < 0)
		return pos == -2 ? EXIT_OK : EXIT_USAGE;
	if (pos + 1 != argc || !o.pop || !o.neurons)
		return cli_error(
		        &c, EXIT_USAGE,
		        "inject takes IMAGE --population LABEL --neurons LIST (see --help)");
	unsigned long step = S2_INJECT_NEXT;
	if (o.step && cli_uint(&c, "--step", o.step, S2_INJECT_NEXT - 1, &step) < 0)
		return EXIT_USAGE;
	char err[512];
	struct s2_plan *plan = s2_plan_load(argv[pos], err, sizeof err);
	if (!plan)
		return cli_error(&c, EXIT_INPUT, "%s", err);
	uint32_t pop = UINT32_MAX;
	for (unsigned p = 0; p < plan->n_pops; p++)
		if (!strcmp(plan->pops[p].label, o.pop))
			pop = p;
	struct session s;
	memset(&s, 0, sizeof s);
	struct s2_msg_inject *msgs = NULL;
	int ec = 0;
	if (pop == UINT32_MAX) {
		ec = cli_error(&c, EXIT_INPUT, "--population %s: not in %s", o.pop, argv[pos]);
		goto out;
	}
	if ((ec = session_open(&s, &c, true, false)))
		goto out;
	msgs = calloc(s.n ? s.n : 1, sizeof *msgs);
	if (!msgs) {
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	/* Every neuron is checked before anything is sent: all or nothing. */
	const char *q = o.neurons;
	unsigned total = 0;
	while (*q) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(q, &end, 10);
		if (end == q || errno || (*end && *end != ',') || n >= plan->pops[pop].size) {
			ec = cli_error(&c, EXIT_USAGE,
			               "--neurons: '%s' is not a list of neurons 0..%u of %s",
			               o.neurons, plan->pops[pop].size - 1, o.pop);
			goto out;
		}
		unsigned board;
		uint16_t chip, idx;
		uint8_t pe;
		if (!locate(plan, pop, (uint32_t)n, &board, &chip, &pe, &idx) || board >= s.n ||
		    !s.sel[board]) {
			ec = cli_error(&c, EXIT_INPUT,
			               "%s neuron %lu: not placed on a selected board", o.pop, n);
			goto out;
		}
		struct s2_msg_inject *m = &msgs[board];
		if (m->n == S2_INJECT_MAX) {
			ec = cli_error(&c, EXIT_USAGE, "--neurons: more than %u on one board",
			               S2_INJECT_MAX);
			goto out;
		}
		m->step = (uint32_t)step;
		m->e[m->n++] = (struct s2_inject_entry){chip, idx, pe};
		total++;
		q = *end ? end + 1 : end;
	}
	struct s2_op *ops = calloc(s.n, sizeof *ops);
	uint8_t(*replies)[4] = calloc(s.n, 4);
	size_t *rlen = calloc(s.n, sizeof *rlen);
	if (!ops || !replies || !rlen) {
		free(ops);
		free(replies);
		free(rlen);
		ec = cli_error(&c, EXIT_FAIL, "out of memory");
		goto out;
	}
	for (unsigned b = 0; b < s.n; b++)
		if (msgs[b].n) {
			s2_op_init(&ops[b], NULL, NULL);
			s2_inject_start(s.eth[b], &msgs[b], replies[b], &rlen[b], &ops[b]);
		}
	s2_client_wait(s.client);
	unsigned late = 0, accepted = 0;
	for (unsigned b = 0; b < s.n; b++) {
		if (!msgs[b].n)
			continue;
		struct s2_msg_inject_reply r = {0};
		int rc = ops[b].status ? ops[b].status
		                       : s2_msg_inject_reply_decode(replies[b], rlen[b], &r);
		if (rc < 0) {
			ec = cli_error(&c, cli_exit_for(rc), "board %u: INJECT: %s", b,
			               s2_strerror(rc));
			continue;
		}
		accepted += r.accepted;
		late += r.late;
	}
	free(ops);
	free(replies);
	free(rlen);
	if (c.json)
		printf("{\"injected\":%u,\"accepted\":%u,\"late\":%u}\n", total, accepted, late);
	else if (!c.quiet)
		printf("injected %u spikes into %s (%u accepted, %u after their step: at the next "
		       "one)\n",
		       total, o.pop, accepted, late);
out:
	free(msgs);
	if (s.client)
		session_close(&s);
	s2_plan_free(plan);
	return ec;
}
