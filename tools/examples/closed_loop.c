/*
 * A closed loop through a running network, with libs2 (docs/stream.md): every spike of
 * population OUT makes neuron (i mod size of IN) of the spike-source population IN spike
 * DELAY steps later. The host is part of the loop: it reads the output spikes live and
 * injects the input spikes, while the boards run.
 *
 *   closed_loop MACHINE IMAGE OUT IN [DELAY_STEPS [MAX_SECONDS]]
 *
 * Start it after `s2ctl deploy IMAGE` and before `s2ctl run IMAGE --deployed`; it ends when
 * every board has finished, and prints what it received, injected and what the boards said.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "live_setup.h"
#include "s2/error.h"
#include "s2/key.h"

struct loop {
	struct s2_plan *plan;
	struct s2_conn **eth; /* [machine boards] */
	unsigned n_boards;    /* in the machine */
	uint32_t out_pop, in_pop, in_size, delay;
	struct live_where *in_at;  /* [in_size]: where each input neuron lives */
	struct s2_msg_inject *msg; /* [machine boards]: injections being gathered */
	struct live_sent sent;     /* every INJECT sent, with its op and reply (freed at the end) */
	uint64_t received, injected;
	struct live_run run;
	int failed; /* first error */
};

static void send_board(struct loop *l, unsigned b)
{
	if (!l->msg[b].n)
		return;
	struct live_inj *k = live_inj_new(&l->sent);
	if (!k) {
		l->failed = S2_E_NOMEM;
		return;
	}
	int rc = s2_inject_start(l->eth[b], &l->msg[b], k->reply, &k->len, &k->op);
	if (rc < 0 && !l->failed)
		l->failed = rc;
	l->injected += l->msg[b].n;
	l->msg[b].n = 0;
}

static void on_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct loop *l = ctx;
	for (size_t i = 0; i < n; i++) {
		if (s[i].pop != l->out_pop)
			continue;
		l->received++;
		const struct live_where *w = &l->in_at[s[i].neuron % l->in_size];
		struct s2_msg_inject *m = &l->msg[w->board];
		uint32_t step = s[i].step + l->delay;
		if (m->n && (m->step != step || m->n == S2_INJECT_MAX))
			send_board(l, w->board);
		m->step = step;
		m->e[m->n++] = (struct s2_inject_entry){w->chip, w->idx, w->pe};
	}
	for (unsigned b = 0; b < l->n_boards; b++) /* what this packet asked for goes now */
		send_board(l, b);
}

static void on_event(void *ctx, const struct s2_run_event *ev)
{
	struct loop *l = ctx;
	live_run_event(&l->run, ev);
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 7) {
		fprintf(stderr,
		        "usage: closed_loop MACHINE IMAGE OUT IN [DELAY_STEPS [MAX_SECONDS]]\n");
		return 2;
	}
	char err[512];
	struct s2_machine *mach = s2_machine_load_file(argv[1], err, sizeof err);
	struct s2_plan *plan = mach ? s2_plan_load(argv[2], err, sizeof err) : NULL;
	if (!mach || !plan) {
		fprintf(stderr, "closed_loop: %s\n", err);
		return 3;
	}
	int out = live_pop_index(plan, argv[3]), in = live_pop_index(plan, argv[4]);
	if (out < 0 || in < 0) {
		fprintf(stderr, "closed_loop: population %s: not in %s\n",
		        out < 0 ? argv[3] : argv[4], argv[2]);
		return 3;
	}
	struct loop l = {.plan = plan,
	                 .out_pop = (uint32_t)out,
	                 .in_pop = (uint32_t)in,
	                 .in_size = plan->pops[in].size,
	                 .delay = argc > 5 ? (uint32_t)atoi(argv[5]) : 2};
	int max_s = argc > 6 ? atoi(argv[6]) : 60;
	l.n_boards = s2_machine_boards(mach);
	l.eth = calloc(l.n_boards, sizeof *l.eth);
	l.msg = calloc(l.n_boards, sizeof *l.msg);
	l.in_at = calloc(l.in_size, sizeof *l.in_at);
	struct s2_client *client = s2_client_new(NULL);
	struct s2_stream_callbacks cb = {on_spikes, NULL, on_event, &l};
	struct s2_stream *st = s2_stream_new((uint32_t)time(NULL) | 1u, &cb);
	if (!l.eth || !l.msg || !l.in_at || !client || !st) {
		fprintf(stderr, "closed_loop: out of memory\n");
		return 1;
	}
	char kerr[512];
	if (s2_client_key_from_env(client, kerr, sizeof kerr) < 0) { /* docs/security.md */
		fprintf(stderr, "closed_loop: S2_KEY_FILE: %s\n", kerr);
		return 1;
	}
	s2_stream_set_key(st, s2_client_key(client));
	uint16_t port;
	if (s2_stream_listen(st, s2_client_base(client), "127.0.0.1", 0, &port) < 0) {
		fprintf(stderr, "closed_loop: cannot open the stream's socket\n");
		return 1;
	}
	/* Per board of the image: where the input neurons are, and a stream of the output's PEs. */
	if (live_subscribe("closed_loop", client, st, port, plan, mach, l.in_pop, l.in_at,
	                   l.out_pop, l.eth) < 0)
		return 1;
	printf("closed_loop: listening on port %u\n", port);
	fflush(stdout);
	/* Until every board that started has finished (or MAX_SECONDS). */
	time_t t0 = time(NULL);
	while (!(l.run.finished && !l.run.running) && time(NULL) - t0 < max_s && !l.failed) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(s2_client_base(client), &tv);
		event_base_dispatch(s2_client_base(client));
	}
	s2_client_wait(client); /* the last injections' replies */
	unsigned accepted, late, refused;
	live_tally(l.sent.v, l.sent.n, &accepted, &late, &refused);
	const struct s2_stream_stats *ss = s2_stream_stats(st);
	printf("closed_loop: received %llu spikes of %s, injected %llu into %s (%u accepted, %u "
	       "late, %u INJECTs refused); stream lost %llu, bad %llu\n",
	       (unsigned long long)l.received, argv[3], (unsigned long long)l.injected, argv[4],
	       accepted, late, refused, (unsigned long long)ss->lost, (unsigned long long)ss->bad);
	int rc = l.failed || refused || !l.run.finished ? 1 : 0;
	s2_stream_free(st);
	s2_client_free(client);
	free(l.sent.v);
	free(l.eth);
	free(l.msg);
	free(l.in_at);
	s2_plan_free(plan);
	s2_machine_free(mach);
	return rc;
}
