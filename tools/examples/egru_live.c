/*
 * Live inference with libs2 (docs/egru.md "Live"): token ids read from standard input as they
 * come are injected into the token population TOKENS, token p at step FIRST + p; the spikes of
 * the read-out OUT (a dense layer with argmax: one spike per step, its neuron the predicted
 * token) are printed as they arrive, one line "STEP TOKEN" each. The boards run meanwhile; an
 * injection that arrives after its step is counted as late (the token then acts a step later
 * than the model expects), and the summary says so.
 *
 *   egru_live MACHINE IMAGE TOKENS OUT [FIRST_STEP [MAX_SECONDS]] < ids
 *
 * Start it after `s2ctl deploy IMAGE` and before `s2ctl run IMAGE --deployed`; it ends when
 * every board has finished (or after MAX_SECONDS, default 60).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "live_setup.h"
#include "s2/error.h"
#include "s2/key.h"

struct live {
	struct s2_conn **eth; /* [machine boards] */
	uint32_t out_pop, n_tokens, first;
	struct live_where *tok_at; /* [n_tokens] */
	struct live_sent sent;
	uint32_t next; /* position of the next token read */
	uint64_t predictions;
	struct live_run run;
	bool eof;
	int failed;
	char pending[32]; /* a number cut by a read */
	size_t n_pending;
};

static void inject(struct live *l, unsigned long id)
{
	if (id >= l->n_tokens) {
		fprintf(stderr,
		        "egru_live: token %lu at position %u: outside the vocabulary (%u)\n", id,
		        l->next, l->n_tokens);
		l->failed = S2_E_RANGE;
		return;
	}
	struct live_inj *k = live_inj_new(&l->sent);
	if (!k) {
		l->failed = S2_E_NOMEM;
		return;
	}
	const struct live_where *w = &l->tok_at[id];
	k->msg.step = l->first + l->next++;
	k->msg.n = 1;
	k->msg.e[0] = (struct s2_inject_entry){w->chip, w->idx, w->pe};
	int rc = s2_inject_start(l->eth[w->board], &k->msg, k->reply, &k->len, &k->op);
	if (rc < 0 && !l->failed)
		l->failed = rc;
}

/* Standard input: whitespace-separated token ids, injected as they are read. */
static void on_stdin(evutil_socket_t fd, short what, void *ctx)
{
	(void)what;
	struct live *l = ctx;
	char buf[4096];
	ssize_t n = read((int)fd, buf, sizeof buf);
	if (n <= 0) {
		l->eof = true;
		n = 0;
	}
	for (ssize_t i = 0; i <= n && !l->failed; i++) {
		bool digit = i < n && buf[i] >= '0' && buf[i] <= '9';
		if (digit && l->n_pending + 1 < sizeof l->pending) {
			l->pending[l->n_pending++] = buf[i];
		} else if (digit) {
			fprintf(stderr, "egru_live: a token id of more than %zu digits\n",
			        sizeof l->pending - 1);
			l->failed = S2_E_RANGE;
		} else if (l->n_pending && (i < n || l->eof)) {
			l->pending[l->n_pending] = 0;
			inject(l, strtoul(l->pending, NULL, 10));
			l->n_pending = 0;
		} else if (i < n && buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t' &&
		           buf[i] != '\r') {
			fprintf(stderr, "egru_live: '%c' at position %u is not a token id\n",
			        buf[i], l->next);
			l->failed = S2_E_FORMAT;
		}
	}
}

static void on_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct live *l = ctx;
	for (size_t i = 0; i < n; i++)
		if (s[i].pop == l->out_pop) {
			printf("%u %u\n", s[i].step, s[i].neuron);
			l->predictions++;
		}
	fflush(stdout);
}

static void on_event(void *ctx, const struct s2_run_event *ev)
{
	struct live *l = ctx;
	live_run_event(&l->run, ev);
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 7) {
		fprintf(stderr,
		        "usage: egru_live MACHINE IMAGE TOKENS OUT [FIRST_STEP [MAX_SECONDS]] "
		        "< token ids\n");
		return 2;
	}
	char err[512];
	struct s2_machine *mach = s2_machine_load_file(argv[1], err, sizeof err);
	struct s2_plan *plan = mach ? s2_plan_load(argv[2], err, sizeof err) : NULL;
	if (!mach || !plan) {
		fprintf(stderr, "egru_live: %s\n", err);
		return 3;
	}
	int tok = live_pop_index(plan, argv[3]), out = live_pop_index(plan, argv[4]);
	if (tok < 0 || out < 0) {
		fprintf(stderr, "egru_live: population %s: not in %s\n",
		        tok < 0 ? argv[3] : argv[4], argv[2]);
		return 3;
	}
	struct live l = {.out_pop = (uint32_t)out,
	                 .n_tokens = plan->pops[tok].size,
	                 .first = argc > 5 ? (uint32_t)atoi(argv[5]) : 0};
	int max_s = argc > 6 ? atoi(argv[6]) : 60;
	unsigned n_boards = s2_machine_boards(mach);
	l.eth = calloc(n_boards, sizeof *l.eth);
	l.tok_at = calloc(l.n_tokens, sizeof *l.tok_at);
	struct s2_client *client = s2_client_new(NULL);
	struct s2_stream_callbacks cb = {on_spikes, NULL, on_event, &l};
	struct s2_stream *st = s2_stream_new((uint32_t)time(NULL) | 1u, &cb);
	if (!l.eth || !l.tok_at || !client || !st) {
		fprintf(stderr, "egru_live: out of memory\n");
		return 1;
	}
	char kerr[512];
	if (s2_client_key_from_env(client, kerr, sizeof kerr) < 0) { /* docs/security.md */
		fprintf(stderr, "egru_live: S2_KEY_FILE: %s\n", kerr);
		return 1;
	}
	s2_stream_set_key(st, s2_client_key(client));
	uint16_t port;
	if (s2_stream_listen(st, s2_client_base(client), "127.0.0.1", 0, &port) < 0) {
		fprintf(stderr, "egru_live: cannot open the stream's socket\n");
		return 1;
	}
	/* Per board: where the token neurons are, and a stream of the read-out's PEs. */
	if (live_subscribe("egru_live", client, st, port, plan, mach, (uint32_t)tok, l.tok_at,
	                   l.out_pop, l.eth) < 0)
		return 1;
	fprintf(stderr, "egru_live: listening on port %u\n", port);
	/* A pipe or terminal is read as tokens come; a regular file (which epoll cannot watch)
	 * is read whole now. */
	struct stat sb;
	struct event *in = NULL;
	if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
		while (!l.eof && !l.failed)
			on_stdin(STDIN_FILENO, EV_READ, &l);
	} else {
		in = event_new(s2_client_base(client), STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin,
		               &l);
		if (!in || event_add(in, NULL) < 0) {
			fprintf(stderr, "egru_live: cannot watch standard input\n");
			return 1;
		}
	}
	time_t t0 = time(NULL);
	while (!(l.run.finished && !l.run.running) && time(NULL) - t0 < max_s && !l.failed) {
		struct timeval tv = {0, 20000};
		if (l.eof && in) {
			event_free(in);
			in = NULL;
		}
		event_base_loopexit(s2_client_base(client), &tv);
		event_base_dispatch(s2_client_base(client));
	}
	if (in)
		event_free(in);
	s2_client_wait(client); /* the last injections' replies */
	unsigned accepted, late, refused;
	live_tally(l.sent.v, l.sent.n, &accepted, &late, &refused);
	const struct s2_stream_stats *ss = s2_stream_stats(st);
	fprintf(stderr,
	        "egru_live: %u tokens injected (%u accepted, %u late, %u INJECTs refused), %llu "
	        "predictions received; stream lost %llu, bad %llu%s\n",
	        l.next, accepted, late, refused, (unsigned long long)l.predictions,
	        (unsigned long long)ss->lost, (unsigned long long)ss->bad,
	        l.run.finished ? "" : "; the run did not finish");
	int rc = l.failed || refused || late || ss->lost || !l.run.finished ? 1 : 0;
	s2_stream_free(st);
	s2_client_free(client);
	free(l.sent.v);
	free(l.eth);
	free(l.tok_at);
	s2_plan_free(plan);
	s2_machine_free(mach);
	return rc;
}
