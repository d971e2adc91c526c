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

#include "plan.h"
#include "s2/board.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/stream.h"

struct where {
	uint16_t board, chip, idx;
	uint8_t pe;
};

/* One INJECT in flight: its op and reply buffer stay put until the reply came. */
struct inj {
	struct s2_op op;
	uint8_t reply[4];
	size_t len;
};

struct loop {
	struct plan *plan;
	struct s2_conn **eth; /* [machine boards] */
	unsigned n_boards;    /* in the machine */
	uint32_t out_pop, in_pop, in_size, delay;
	struct where *in_at;       /* [in_size]: where each input neuron lives */
	struct s2_msg_inject *msg; /* [machine boards]: injections being gathered */
	struct inj **sent;         /* every INJECT sent, with its op and reply (freed at the end) */
	size_t n_sent, cap_sent;
	uint64_t received, injected;
	unsigned running, finished;
	int failed; /* first error */
};

static void send_board(struct loop *l, unsigned b)
{
	if (!l->msg[b].n)
		return;
	if (l->n_sent == l->cap_sent) {
		size_t cap = l->cap_sent ? 2 * l->cap_sent : 1024;
		struct inj **q = realloc(l->sent, cap * sizeof *q);
		if (!q) {
			l->failed = S2_E_NOMEM;
			return;
		}
		l->sent = q;
		l->cap_sent = cap;
	}
	struct inj *k = calloc(1, sizeof *k);
	if (!k) {
		l->failed = S2_E_NOMEM;
		return;
	}
	l->sent[l->n_sent++] = k;
	s2_op_init(&k->op, NULL, NULL);
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
		const struct where *w = &l->in_at[s[i].neuron % l->in_size];
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
	if (ev->event == S2_LIVE_STARTED)
		l->running++;
	else if (l->running) {
		l->running--;
		l->finished++;
	}
}

static int pop_index(const struct plan *p, const char *label)
{
	for (unsigned i = 0; i < p->n_pops; i++)
		if (!strcmp(p->pops[i].label, label))
			return (int)i;
	return -1;
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
	struct plan *plan = mach ? plan_load(argv[2], err, sizeof err) : NULL;
	if (!mach || !plan) {
		fprintf(stderr, "closed_loop: %s\n", err);
		return 3;
	}
	int out = pop_index(plan, argv[3]), in = pop_index(plan, argv[4]);
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
	uint16_t port;
	if (s2_stream_listen(st, s2_client_base(client), "127.0.0.1", 0, &port) < 0) {
		fprintf(stderr, "closed_loop: cannot open the stream's socket\n");
		return 1;
	}
	/* Per board of the image: where the input neurons are, which PEs hold the output, and a
	 * stream of those PEs' spikes. */
	struct s2_op *start = calloc(plan->n_boards + 1, sizeof *start);
	for (unsigned i = 0; start && i < plan->n_boards; i++) {
		const struct plan_board *pb = &plan->boards[i];
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(mach, pb->board, &ep);
		l.eth[pb->board] = s2_conn_open(client, ep.host, ep.eth_port, (uint16_t)pb->board);
		static struct s2_msg_stream_start m;
		s2_stream_start_msg(st, S2_LIVE_F_SPIKES, 0, port, &m);
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				const struct plan_pe_info *pi = &pb->info[ch][q];
				uint16_t chip = pb->chips[ch].chip;
				uint8_t pe = pb->chips[ch].pes[q].pe;
				if (pi->pop == l.in_pop)
					for (uint32_t k = 0; k < pi->n; k++)
						l.in_at[pi->lo + k] = (struct where){
						        (uint16_t)pb->board, chip, (uint16_t)k, pe};
				if (pi->pop != l.out_pop || chip >= S2_LIVE_MAX_CHIPS)
					continue;
				m.live[chip][pe / 8] |= (uint8_t)(1u << (pe % 8));
				if (m.n_chips <= chip)
					m.n_chips = (uint16_t)(chip + 1);
				s2_stream_add_source(st, (uint16_t)pb->board, chip, pe, pi->pop,
				                     pi->lo);
			}
		s2_op_init(&start[i], NULL, NULL);
		if (!l.eth[pb->board] ||
		    s2_stream_start_start(l.eth[pb->board], &m, &start[i]) < 0) {
			fprintf(stderr, "closed_loop: board %u: cannot subscribe\n", pb->board);
			return 1;
		}
	}
	s2_client_wait(client);
	for (unsigned i = 0; i < plan->n_boards; i++)
		if (start[i].status) {
			fprintf(stderr, "closed_loop: board %u: STREAM_START: %s\n",
			        plan->boards[i].board, s2_strerror(start[i].status));
			return 1;
		}
	printf("closed_loop: listening on port %u\n", port);
	fflush(stdout);
	/* Until every board that started has finished (or MAX_SECONDS). */
	time_t t0 = time(NULL);
	while (!(l.finished && !l.running) && time(NULL) - t0 < max_s && !l.failed) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(s2_client_base(client), &tv);
		event_base_dispatch(s2_client_base(client));
	}
	s2_client_wait(client); /* the last injections' replies */
	unsigned accepted = 0, late = 0, refused = 0;
	for (size_t k = 0; k < l.n_sent; k++) {
		struct s2_msg_inject_reply r;
		if (l.sent[k]->op.status ||
		    s2_msg_inject_reply_decode(l.sent[k]->reply, l.sent[k]->len, &r) < 0)
			refused++;
		else {
			accepted += r.accepted;
			late += r.late;
		}
		free(l.sent[k]);
	}
	const struct s2_stream_stats *ss = s2_stream_stats(st);
	printf("closed_loop: received %llu spikes of %s, injected %llu into %s (%u accepted, %u "
	       "late, %u INJECTs refused); stream lost %llu, bad %llu\n",
	       (unsigned long long)l.received, argv[3], (unsigned long long)l.injected, argv[4],
	       accepted, late, refused, (unsigned long long)ss->lost, (unsigned long long)ss->bad);
	int rc = l.failed || refused || !l.finished ? 1 : 0;
	s2_stream_free(st);
	s2_client_free(client);
	free(start);
	free(l.sent);
	free(l.eth);
	free(l.msg);
	free(l.in_at);
	plan_free(plan);
	s2_machine_free(mach);
	return rc;
}
