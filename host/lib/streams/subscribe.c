/*
 * Listening to a network that runs on a session's boards (s2/subscribe.h): STREAM_START to
 * every board of a plan with the plan's live PEs, APP_STATUS probes while the stream runs,
 * STREAM_STOP at the end. Everything on the session's event loop; nothing here blocks beyond
 * the transport's bounded retries.
 */
#include "s2/subscribe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2/app.h"
#include "s2/board.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/transport.h"

#define WATCH_MISSES 2     /* probes timed out in a row that end the stream */
#define WATCH_PERIOD_S 1.0 /* between probes of a board */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Is board b of the session selected and open? */
static bool usable(struct s2_session *s, unsigned b)
{
	return b < s2_session_boards(s) && s2_session_selection(s)[b] && s2_session_eth(s)[b];
}

int s2_stream_subscribe(struct s2_session *s, struct s2_stream *st, const struct s2_plan *plan,
                        const char *const *pops, unsigned n_pops, uint32_t flags,
                        uint32_t energy_every, uint16_t port, unsigned *boards, bool *sent,
                        char *err, size_t errlen)
{
	unsigned n = s2_session_boards(s);
	struct s2_conn **eth = s2_session_eth(s);
	*boards = 0;
	*sent = false;
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	struct s2_msg_stream_start *m = malloc(sizeof *m);
	int rc = 0;
	if (!ops || !m) {
		snprintf(err, errlen, "out of memory");
		rc = S2_E_NOMEM;
		goto out;
	}
	for (unsigned i = 0; i < plan->n_boards; i++) {
		const struct s2_plan_board *pb = &plan->boards[i];
		if (!usable(s, pb->board))
			continue;
		s2_stream_start_msg(st, flags, energy_every, port, m);
		unsigned bad_chip = 0;
		rc = s2_stream_add_plan_sources(st, plan, pb, pops, n_pops, m, &bad_chip);
		if (rc == S2_E_RANGE) {
			snprintf(err, errlen,
			         "board %u chip %u: beyond the %u chips a stream subscribes",
			         pb->board, bad_chip, S2_LIVE_MAX_CHIPS);
			goto out;
		}
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		s2_op_init(&ops[pb->board], NULL, NULL);
		s2_stream_start_start(eth[pb->board], m, &ops[pb->board]);
		*sent = true;
		(*boards)++;
	}
	s2_client_wait(s2_session_client(s));
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		if (usable(s, b) && ops[b].status) {
			char line[300];
			s2_conn_summary(eth[b], line, sizeof line);
			snprintf(err, errlen, "board %u: STREAM_START: %s (%s)", b,
			         s2_strerror(ops[b].status), line);
			rc = ops[b].status;
			goto out;
		}
	}
out:
	if (rc < 0 && *sent) /* requests in flight own their ops: let them finish */
		s2_client_wait(s2_session_client(s));
	free(m);
	free(ops);
	return rc;
}

void s2_stream_unsubscribe(struct s2_session *s, const struct s2_plan *plan, uint32_t id)
{
	unsigned n = s2_session_boards(s);
	struct s2_op *ops = calloc(n ? n : 1, sizeof *ops);
	if (!ops)
		return;
	for (unsigned i = 0; i < plan->n_boards; i++) {
		unsigned b = plan->boards[i].board;
		if (usable(s, b)) {
			s2_op_init(&ops[b], NULL, NULL);
			s2_stream_stop_start(s2_session_eth(s)[b], id, &ops[b]);
		}
	}
	s2_client_wait(s2_session_client(s));
	free(ops);
}

struct s2_stream_watch {
	struct s2_session *s;
	const struct s2_plan *plan;
	struct s2_op *ops;
	struct s2_msg_app_status *probe;
	unsigned *misses;
	bool *probed; /* a probe was sent, not yet judged */
	double t_probe;
};

struct s2_stream_watch *s2_stream_watch_new(struct s2_session *s, const struct s2_plan *plan)
{
	unsigned n = s2_session_boards(s);
	struct s2_stream_watch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->s = s;
	w->plan = plan;
	w->ops = calloc(n ? n : 1, sizeof *w->ops);
	w->probe = calloc(n ? n : 1, sizeof *w->probe);
	w->misses = calloc(n ? n : 1, sizeof *w->misses);
	w->probed = calloc(n ? n : 1, sizeof *w->probed);
	if (!w->ops || !w->probe || !w->misses || !w->probed) {
		s2_stream_watch_free(w);
		return NULL;
	}
	for (unsigned i = 0; i < plan->n_boards; i++)
		if (plan->boards[i].board < n)
			s2_op_init(&w->ops[plan->boards[i].board], NULL, NULL);
	w->t_probe = now_s();
	return w;
}

int s2_stream_watch_poll(struct s2_stream_watch *w, char *err, size_t errlen)
{
	struct s2_conn **eth = s2_session_eth(w->s);
	/* A probe that times out (the transport's bound, at least 3 s) counts a miss;
	 * WATCH_MISSES in a row end the stream (a board starved for a few seconds by a busy
	 * host is not dead); an error reply ends it at once. */
	for (unsigned i = 0; i < w->plan->n_boards; i++) {
		unsigned b = w->plan->boards[i].board;
		if (!usable(w->s, b) || w->ops[b].outstanding || !w->probed[b])
			continue;
		w->probed[b] = false; /* this probe's outcome, taken once */
		if (!w->ops[b].status) {
			w->misses[b] = 0;
			continue;
		}
		if (w->ops[b].status == S2_E_TIMEOUT && ++w->misses[b] < WATCH_MISSES) {
			s2_conn_reset_responsive(eth[b]);
			s2_op_init(&w->ops[b], NULL, NULL); /* probe again at the next second */
			continue;
		}
		char line[300];
		s2_conn_summary(eth[b], line, sizeof line);
		snprintf(err, errlen,
		         "board %u stopped answering while streaming (APP_STATUS: %s%s) (%s)", b,
		         s2_strerror(w->ops[b].status),
		         w->ops[b].status == S2_E_TIMEOUT ? ", two probes in a row" : "", line);
		return w->ops[b].status;
	}
	if (now_s() - w->t_probe >= WATCH_PERIOD_S) {
		w->t_probe = now_s();
		for (unsigned i = 0; i < w->plan->n_boards; i++) {
			unsigned b = w->plan->boards[i].board;
			if (!usable(w->s, b) || w->ops[b].outstanding)
				continue;
			s2_op_init(&w->ops[b], NULL, NULL);
			w->probed[b] = true;
			if (s2_app_status_start(eth[b], &w->probe[b], &w->ops[b]) < 0)
				w->ops[b].status = S2_E_NOMEM;
		}
	}
	return 0;
}

void s2_stream_watch_free(struct s2_stream_watch *w)
{
	if (!w)
		return;
	/* A probe still in flight writes its reply into probe[] and owns its op. */
	s2_client_wait(s2_session_client(w->s));
	free(w->ops);
	free(w->probe);
	free(w->misses);
	free(w->probed);
	free(w);
}
