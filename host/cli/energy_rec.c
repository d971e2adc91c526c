/* Recording a run's energy counters and phases (energy_rec.h). */
#include "energy_rec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "s2/energy.h"
#include "s2/error.h"
#include "s2/key.h"
#include "s2/stream.h"

struct sample {
	uint16_t board, chip;
	uint32_t step;
	uint64_t time_us;
	uint64_t c[S2_LIVE_COUNTERS];
};

struct phase {
	char name[16];
	uint64_t t0, t1; /* microseconds */
};

struct erec {
	struct session *s;
	const struct plan *plan;
	struct s2_stream *st;
	uint32_t id, every;
	struct sample *smp;
	size_t n_smp, cap_smp;
	struct s2_run_event *ev;
	size_t n_ev, cap_ev;
	struct phase ph[8];
	unsigned n_ph;
	bool nomem;
};

static void on_energy(void *ctx, const struct s2_energy_sample *e)
{
	struct erec *r = ctx;
	if (r->n_smp == r->cap_smp) {
		size_t cap = r->cap_smp ? 2 * r->cap_smp : 1024;
		struct sample *q = realloc(r->smp, cap * sizeof *q);
		if (!q) {
			r->nomem = true;
			return;
		}
		r->smp = q;
		r->cap_smp = cap;
	}
	struct sample *x = &r->smp[r->n_smp++];
	x->board = e->board;
	x->chip = e->chip;
	x->step = e->step;
	x->time_us = e->time_us;
	memcpy(x->c, e->counters, sizeof x->c);
}

static void on_event(void *ctx, const struct s2_run_event *ev)
{
	struct erec *r = ctx;
	if (r->n_ev == r->cap_ev) {
		size_t cap = r->cap_ev ? 2 * r->cap_ev : 64;
		struct s2_run_event *q = realloc(r->ev, cap * sizeof *q);
		if (!q) {
			r->nomem = true;
			return;
		}
		r->ev = q;
		r->cap_ev = cap;
	}
	r->ev[r->n_ev++] = *ev;
}

struct erec *erec_start(struct session *s, const struct plan *p, uint32_t every, char *err,
                        size_t errlen)
{
	struct erec *r = calloc(1, sizeof *r);
	struct s2_op *ops = calloc(s->n ? s->n : 1, sizeof *ops);
	if (!r || !ops) {
		free(r);
		free(ops);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->s = s;
	r->plan = p;
	r->every = every;
	r->id = ((uint32_t)time(NULL) ^ (uint32_t)getpid() << 16) | 1u;
	struct s2_stream_callbacks cb = {NULL, on_energy, on_event, r};
	uint16_t port = 0;
	int rc = S2_E_NOMEM;
	if (!(r->st = s2_stream_new(r->id, &cb)) ||
	    (rc = s2_stream_listen(r->st, s2_client_base(s->client), "127.0.0.1", 0, &port)) < 0) {
		snprintf(err, errlen, "energy stream: %s", s2_strerror(rc));
		goto fail;
	}
	s2_stream_set_key(r->st, s2_client_key(s->client)); /* docs/security.md */
	for (unsigned i = 0; i < p->n_boards; i++) {
		unsigned b = p->boards[i].board;
		static struct s2_msg_stream_start m;
		s2_stream_start_msg(r->st, S2_LIVE_F_ENERGY, every, port, &m);
		s2_op_init(&ops[b], NULL, NULL);
		s2_stream_start_start(s->eth[b], &m, &ops[b]);
	}
	s2_client_wait(s->client);
	for (unsigned i = 0; i < p->n_boards; i++) {
		unsigned b = p->boards[i].board;
		if (ops[b].status) {
			snprintf(err, errlen, "board %u: STREAM_START for the energy samples: %s",
			         b, s2_strerror(ops[b].status));
			goto fail;
		}
	}
	free(ops);
	return r;
fail:
	free(ops);
	erec_free(r);
	return NULL;
}

void erec_phase(struct erec *r, const char *name, double t0, double t1)
{
	if (r->n_ph == sizeof r->ph / sizeof r->ph[0])
		return;
	struct phase *ph = &r->ph[r->n_ph++];
	snprintf(ph->name, sizeof ph->name, "%s", name);
	ph->t0 = (uint64_t)(t0 * 1e6);
	ph->t1 = (uint64_t)(t1 * 1e6);
}

static unsigned boards_ended(const struct erec *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->plan->n_boards; i++) {
		bool ended = false;
		for (size_t k = 0; k < r->n_ev && !ended; k++)
			ended = r->ev[k].board == r->plan->boards[i].board &&
			        r->ev[k].event != S2_LIVE_STARTED;
		n += ended;
	}
	return n;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void erec_finish(struct erec *r, double max_s)
{
	struct event_base *base = s2_client_base(r->s->client);
	double t0 = mono_s();
	while (boards_ended(r) < r->plan->n_boards && mono_s() - t0 < max_s) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	struct s2_op *ops = calloc(r->s->n ? r->s->n : 1, sizeof *ops);
	for (unsigned i = 0; ops && i < r->plan->n_boards; i++) {
		unsigned b = r->plan->boards[i].board;
		s2_op_init(&ops[b], NULL, NULL);
		s2_stream_stop_start(r->s->eth[b], r->id, &ops[b]);
	}
	s2_client_wait(r->s->client);
	free(ops);
}

static const char *event_name(unsigned e)
{
	return e == S2_LIVE_STARTED ? "started" : e == S2_LIVE_DONE ? "done" : "stopped";
}

int erec_write(struct erec *r, const char *path, const char *image, double dt_ms, uint32_t steps,
               char *err, size_t errlen)
{
	if (r->nomem) {
		snprintf(err, errlen, "%.400s: out of memory while recording", path);
		return S2_E_NOMEM;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%.400s: %s", tmp, strerror(errno));
		return S2_E_IO;
	}
	const struct s2_stream_stats *ss = s2_stream_stats(r->st);
	struct json j;
	json_begin(&j, f);
	json_obj(&j, NULL);
	json_str(&j, "format", "s2-energy-record-1");
	json_str(&j, "image", image);
	json_num(&j, "timestep_ms", dt_ms);
	json_uint(&j, "steps", steps);
	json_uint(&j, "energy_every", r->every);
	json_uint(&j, "machine_boards", r->s->n);
	json_arr(&j, "boards");
	for (unsigned i = 0; i < r->plan->n_boards; i++) {
		const struct plan_board *pb = &r->plan->boards[i];
		json_obj(&j, NULL);
		json_uint(&j, "board", pb->board);
		json_uint(&j, "chips_used", pb->n_chips);
		json_uint(&j, "pes", pb->pes);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_arr(&j, "phases");
	for (unsigned i = 0; i < r->n_ph; i++) {
		json_obj(&j, NULL);
		json_str(&j, "name", r->ph[i].name);
		json_uint(&j, "start_us", r->ph[i].t0);
		json_uint(&j, "end_us", r->ph[i].t1);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_arr(&j, "events");
	for (size_t k = 0; k < r->n_ev; k++) {
		json_obj(&j, NULL);
		json_uint(&j, "board", r->ev[k].board);
		json_str(&j, "event", event_name(r->ev[k].event));
		json_uint(&j, "step", r->ev[k].step);
		json_uint(&j, "time_us", r->ev[k].time_us);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_obj(&j, "stream");
	json_uint(&j, "packets", ss->packets);
	json_uint(&j, "lost", ss->lost);
	json_uint(&j, "late", ss->late);
	json_uint(&j, "duplicates", ss->duplicates);
	json_uint(&j, "stale", ss->stale);
	json_uint(&j, "bad", ss->bad);
	json_uint(&j, "board_dropped", ss->board_dropped);
	json_end_obj(&j);
	/* Samples: one array per sample, counters in the order of the names. */
	static const char *const names[S2_LIVE_COUNTERS] = {
	        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
	        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};
	json_arr(&j, "sample_fields");
	json_str(&j, NULL, "board");
	json_str(&j, NULL, "chip");
	json_str(&j, NULL, "step");
	json_str(&j, NULL, "time_us");
	for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
		json_str(&j, NULL, names[k]);
	json_end_arr(&j);
	json_arr(&j, "samples");
	for (size_t i = 0; i < r->n_smp; i++) {
		const struct sample *x = &r->smp[i];
		json_arr(&j, NULL);
		json_uint(&j, NULL, x->board);
		json_uint(&j, NULL, x->chip);
		json_uint(&j, NULL, x->step);
		json_uint(&j, NULL, x->time_us);
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			json_uint(&j, NULL, x->c[k]);
		json_end_arr(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_finish(&j);
	if (ferror(f) | fclose(f) || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		unlink(tmp);
		return S2_E_IO;
	}
	return 0;
}

void erec_free(struct erec *r)
{
	if (!r)
		return;
	s2_stream_free(r->st);
	free(r->smp);
	free(r->ev);
	free(r);
}
