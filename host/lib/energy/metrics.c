/*
 * OpenMetrics export of a live stream's energy counters (s2/metrics.h, docs/energy.md): an
 * HTTP endpoint /metrics in the stream's event loop (libevent's evhttp), with joules per
 * board, chip and phase computed by the energy model from the latest samples, and the raw
 * activity counters; inside a SLURM job every series also carries the job, user and account.
 */
#include "s2/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "s2/alloc.h"
#include "s2/energy.h"

enum { PH_LOAD, PH_RUN, PH_IDLE, PH_COUNT };
static const char *const phase_name[PH_COUNT] = {"load", "run", "idle"};

/* One chip: its last sample and the joules and counters accumulated per phase. */
struct chip {
	unsigned board, chip;
	bool have;
	uint64_t last[S2_LIVE_COUNTERS];
	double dyn_j[PH_COUNT];
	uint64_t count[S2_LIVE_COUNTERS];
	bool measured;
};

struct board {
	unsigned phase;
	double static_j[PH_COUNT];
	double since; /* CLOCK_MONOTONIC seconds of the last static accounting */
};

struct s2_metrics {
	struct evhttp *http;
	struct s2_energy_model model;
	char run[256];
	char job[64], user[64], account[64]; /* a SLURM job's labels (docs/cluster.md) */
	bool in_job;
	struct chip *chips;
	size_t n_chips;
	struct board boards[720];
	unsigned n_boards;
	double t0;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct board *board_of(struct s2_metrics *m, unsigned b)
{
	if (b >= sizeof m->boards / sizeof m->boards[0])
		return NULL;
	while (m->n_boards <= b) {
		m->boards[m->n_boards].since = mono();
		m->boards[m->n_boards++].phase = PH_LOAD;
	}
	return &m->boards[b];
}

/* Static energy of every board up to now, into its current phase. */
static void account_static(struct s2_metrics *m)
{
	double now = mono(), w = 48 * m->model.chip_idle_w + m->model.board_other_w;
	for (unsigned b = 0; b < m->n_boards; b++) {
		m->boards[b].static_j[m->boards[b].phase] += w * (now - m->boards[b].since);
		m->boards[b].since = now;
	}
}

static void escape(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add_printf(out, "\\n");
		else
			evbuffer_add(out, s, 1);
	}
}

/* The labels every series starts with: run, and inside a SLURM job, job, user and account. */
static void labels(struct evbuffer *out, const struct s2_metrics *m)
{
	escape(out, m->run);
	if (!m->in_job)
		return;
	evbuffer_add_printf(out, "\",job=\"");
	escape(out, m->job);
	evbuffer_add_printf(out, "\",user=\"");
	escape(out, m->user);
	evbuffer_add_printf(out, "\",account=\"");
	escape(out, m->account);
}

static void serve(struct evhttp_request *req, void *arg)
{
	struct s2_metrics *m = arg;
	account_static(m);
	struct evbuffer *out = evbuffer_new();
	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evbuffer_add_printf(out,
	                    "# TYPE s2_energy_joules counter\n# UNIT s2_energy_joules joules\n"
	                    "# HELP s2_energy_joules Energy by board, chip and phase (%s).\n",
	                    m->model.version);
	for (unsigned b = 0; b < m->n_boards; b++)
		for (unsigned p = 0; p < PH_COUNT; p++) {
			evbuffer_add_printf(out, "s2_energy_joules_total{run=\"");
			labels(out, m);
			evbuffer_add_printf(
			        out,
			        "\",board=\"%u\",chip=\"all\",part=\"static\",phase=\"%s\","
			        "kind=\"modelled\"} %.9g\n",
			        b, phase_name[p], m->boards[b].static_j[p]);
		}
	for (size_t i = 0; i < m->n_chips; i++)
		for (unsigned p = 0; p < PH_COUNT; p++) {
			const struct chip *c = &m->chips[i];
			evbuffer_add_printf(out, "s2_energy_joules_total{run=\"");
			labels(out, m);
			evbuffer_add_printf(
			        out,
			        "\",board=\"%u\",chip=\"%u\",part=\"dynamic\",phase=\"%s\","
			        "kind=\"%s\"} %.9g\n",
			        c->board, c->chip, phase_name[p],
			        c->measured ? "measured" : "modelled", c->dyn_j[p]);
		}
	static const char *const names[S2_LIVE_COUNTERS] = {
	        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};
	for (unsigned k = 0; k + 1 < S2_LIVE_COUNTERS; k++) {
		evbuffer_add_printf(out, "# TYPE s2_%s counter\n", names[k]);
		for (size_t i = 0; i < m->n_chips; i++) {
			evbuffer_add_printf(out, "s2_%s_total{run=\"", names[k]);
			labels(out, m);
			evbuffer_add_printf(out, "\",board=\"%u\",chip=\"%u\"} %llu\n",
			                    m->chips[i].board, m->chips[i].chip,
			                    (unsigned long long)m->chips[i].last[k]);
		}
	}
	evbuffer_add_printf(out, "# EOF\n");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/openmetrics-text; version=1.0.0; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

struct s2_metrics *s2_metrics_open(struct event_base *base, const char *spec, const char *run,
                                   void (*log)(void *arg, const char *line), void *log_arg,
                                   char *err, size_t errlen)
{
	char host[128];
	unsigned port;
	if (sscanf(spec, "tcp:%127[^:]:%u", host, &port) != 2 || port > 65535) {
		snprintf(err, errlen, "'%s' is not tcp:ADDR:PORT", spec);
		return NULL;
	}
	struct s2_metrics *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s2_energy_model_default(&m->model);
	snprintf(m->run, sizeof m->run, "%s", run);
	struct s2_alloc *a = malloc(sizeof *a);
	char aerr[256];
	if (a && s2_alloc_from_env(a, aerr, sizeof aerr) == 1) {
		snprintf(m->job, sizeof m->job, "%s", a->job);
		snprintf(m->user, sizeof m->user, "%s", a->user);
		snprintf(m->account, sizeof m->account, "%s", a->account);
		/* all three, as the labels are all or none */
		m->in_job = m->job[0] && m->user[0] && m->account[0];
	}
	free(a);
	m->t0 = mono();
	struct evhttp_bound_socket *h = NULL;
	if (!(m->http = evhttp_new(base)) ||
	    !(h = evhttp_bind_socket_with_handle(m->http, host, (uint16_t)port))) {
		snprintf(err, errlen, "cannot listen on %s:%u", host, port);
		s2_metrics_close(m);
		return NULL;
	}
	evhttp_set_cb(m->http, "/metrics", serve, m);
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof ss;
	if (getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET && log) {
		char line[256];
		snprintf(line, sizeof line, "OpenMetrics on http://%s:%u/metrics", host,
		         ntohs(((struct sockaddr_in *)&ss)->sin_port));
		log(log_arg, line);
	}
	return m;
}

void s2_metrics_energy(struct s2_metrics *m, const struct s2_energy_sample *e)
{
	struct board *b = board_of(m, e->board);
	if (!b)
		return;
	struct chip *c = NULL;
	for (size_t i = 0; i < m->n_chips && !c; i++)
		if (m->chips[i].board == e->board && m->chips[i].chip == e->chip)
			c = &m->chips[i];
	if (!c) {
		struct chip *q = realloc(m->chips, (m->n_chips + 1) * sizeof *q);
		if (!q)
			return;
		m->chips = q;
		c = &m->chips[m->n_chips++];
		memset(c, 0, sizeof *c);
		c->board = e->board;
		c->chip = e->chip;
	}
	uint64_t inc[S2_LIVE_COUNTERS];
	for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
		inc[k] =
		        c->have ? s2_energy_delta(c->last[k], e->counters[k], m->model.counter_bits)
		                : e->counters[k];
	double j = s2_energy_dynamic_j(&m->model, inc, NULL);
	if (inc[S2_LC_ENERGY_UJ]) {
		j = (double)inc[S2_LC_ENERGY_UJ] * 1e-6;
		c->measured = true;
	}
	c->dyn_j[b->phase] += j;
	memcpy(c->last, e->counters, sizeof c->last);
	c->have = true;
}

void s2_metrics_event(struct s2_metrics *m, const struct s2_run_event *ev)
{
	struct board *b = board_of(m, ev->board);
	if (!b)
		return;
	account_static(m);
	b->phase = ev->event == S2_LIVE_STARTED ? PH_RUN : PH_IDLE;
}

void s2_metrics_close(struct s2_metrics *m)
{
	if (!m)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m->chips);
	free(m);
}
