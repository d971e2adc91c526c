/* Shared set-up of the live example programs (live_setup.h). */
#include "live_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"

int live_subscribe(const char *prog, struct s2_client *client, struct s2_stream *st, uint16_t port,
                   const struct s2_plan *plan, const struct s2_machine *mach, uint32_t in_pop,
                   struct live_where *in_at, uint32_t out_pop, struct s2_conn **eth)
{
	struct s2_op *start = calloc(plan->n_boards + 1, sizeof *start);
	if (!start) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	int rc = 0;
	for (unsigned i = 0; i < plan->n_boards && rc == 0; i++) {
		const struct s2_plan_board *pb = &plan->boards[i];
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(mach, pb->board, &ep);
		eth[pb->board] = s2_conn_open(client, ep.host, ep.eth_port, (uint16_t)pb->board);
		static struct s2_msg_stream_start m; /* large: not on the stack */
		s2_stream_start_msg(st, S2_LIVE_F_SPIKES, 0, port, &m);
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				const struct s2_plan_pe_info *pi = &pb->info[ch][q];
				if (pi->pop == in_pop)
					for (uint32_t k = 0; k < pi->n; k++)
						in_at[pi->lo + k] = (struct live_where){
						        (uint16_t)pb->board, pb->chips[ch].chip,
						        (uint16_t)k, pb->chips[ch].pes[q].pe};
			}
		/* The output population's PEs as sources, each marked live; a chip the live map
		 * cannot name is refused, not skipped. */
		const char *out_label = plan->pops[out_pop].label;
		unsigned bad_chip = 0;
		int arc = s2_stream_add_plan_sources(st, plan, pb, &out_label, 1, &m, &bad_chip);
		if (arc < 0) {
			fprintf(stderr, "%s: board %u chip %u: %s\n", prog, pb->board, bad_chip,
			        arc == S2_E_RANGE ? "beyond the chips a stream can mark live"
			                          : s2_strerror(arc));
			rc = -1;
			break;
		}
		s2_op_init(&start[i], NULL, NULL);
		if (!eth[pb->board] || s2_stream_start_start(eth[pb->board], &m, &start[i]) < 0) {
			fprintf(stderr, "%s: board %u: cannot subscribe\n", prog, pb->board);
			rc = -1;
		}
	}
	s2_client_wait(client);
	for (unsigned i = 0; i < plan->n_boards && rc == 0; i++)
		if (start[i].status) {
			fprintf(stderr, "%s: board %u: STREAM_START: %s\n", prog,
			        plan->boards[i].board, s2_strerror(start[i].status));
			rc = -1;
		}
	free(start);
	return rc;
}

void live_tally(struct live_inj **sent, size_t n, unsigned *accepted, unsigned *late,
                unsigned *refused)
{
	*accepted = *late = *refused = 0;
	for (size_t k = 0; k < n; k++) {
		struct s2_msg_inject_reply r;
		if (sent[k]->op.status ||
		    s2_msg_inject_reply_decode(sent[k]->reply, sent[k]->len, &r) < 0)
			(*refused)++;
		else {
			*accepted += r.accepted;
			*late += r.late;
		}
		free(sent[k]);
	}
}

void live_run_event(struct live_run *r, const struct s2_run_event *ev)
{
	if (ev->event == S2_LIVE_STARTED)
		r->running++;
	else if (r->running) {
		r->running--;
		r->finished++;
	}
}

int live_pop_index(const struct s2_plan *plan, const char *label)
{
	for (unsigned i = 0; i < plan->n_pops; i++)
		if (!strcmp(plan->pops[i].label, label))
			return (int)i;
	return -1;
}

struct live_inj *live_inj_new(struct live_sent *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct live_inj **q = realloc(s->v, cap * sizeof *q);
		if (!q)
			return NULL;
		s->v = q;
		s->cap = cap;
	}
	struct live_inj *k = calloc(1, sizeof *k);
	if (!k)
		return NULL;
	s2_op_init(&k->op, NULL, NULL);
	s->v[s->n++] = k;
	return k;
}
