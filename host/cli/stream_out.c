/* Printing a live stream (stream_out.h). */
#include "stream_out.h"

#include <string.h>
#include <time.h>

#include "s2/error.h"
#include "s2/live.h"
#include "s2/metrics.h"
#include "s2/serve.h"

double sx_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *event_name(unsigned e)
{
	return e == S2_LIVE_STARTED ? "started" : e == S2_LIVE_DONE ? "done" : "stopped";
}

static const char *const counter_names[S2_LIVE_COUNTERS] = {
        "neuron_updates", "synaptic_events", "spikes_sent", "packets_in",
        "packets_routed", "dma_bytes",       "pe_steps",    "energy_uj"};

void sx_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct sx *x = ctx;
	if (x->serve)
		s2_serve_spikes(x->serve, s, n);
	if (x->count_only || x->serve)
		return;
	for (size_t i = 0; i < n; i++) {
		const char *label =
		        s[i].pop < x->plan->n_pops ? x->plan->pops[s[i].pop].label : "?";
		if (x->c->json) {
			fprintf(x->out,
			        "{\"type\":\"spike\",\"step\":%u,\"t_ms\":%.6g,\"population\":",
			        s[i].step, s[i].step * x->plan->dt_ms);
			json_escaped(x->out, label); /* a label may hold quotes or backslashes */
			fprintf(x->out, ",\"neuron\":%u}\n", s[i].neuron);
		} else
			fprintf(x->out, "%u %s %u\n", s[i].step, label, s[i].neuron);
	}
}

void sx_energy(void *ctx, const struct s2_energy_sample *e)
{
	struct sx *x = ctx;
	if (x->metrics)
		s2_metrics_energy(x->metrics, e);
	if (x->serve)
		s2_serve_energy(x->serve, e);
	if (x->count_only || x->serve)
		return;
	if (x->c->json) {
		fprintf(x->out,
		        "{\"type\":\"energy\",\"board\":%u,\"chip\":%u,\"step\":%u,\"time_us\":%"
		        "llu",
		        e->board, e->chip, e->step, (unsigned long long)e->time_us);
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			fprintf(x->out, ",\"%s\":%llu", counter_names[k],
			        (unsigned long long)e->counters[k]);
		fputs("}\n", x->out);
	} else {
		fprintf(x->out, "# energy board %u chip %u step %u time_us %llu", e->board, e->chip,
		        e->step, (unsigned long long)e->time_us);
		for (unsigned k = 0; k < S2_LIVE_COUNTERS; k++)
			fprintf(x->out, " %s %llu", counter_names[k],
			        (unsigned long long)e->counters[k]);
		fputc('\n', x->out);
	}
}

void sx_event(void *ctx, const struct s2_run_event *ev)
{
	struct sx *x = ctx;
	if (x->metrics)
		s2_metrics_event(x->metrics, ev);
	if (x->serve)
		s2_serve_event(x->serve, ev);
	if (!x->count_only && !x->serve) {
		if (x->c->json)
			fprintf(x->out,
			        "{\"type\":\"event\",\"board\":%u,\"event\":\"%s\",\"step\":%u,"
			        "\"time_us\":%llu}\n",
			        ev->board, event_name(ev->event), ev->step,
			        (unsigned long long)ev->time_us);
		else
			fprintf(x->out, "# event board %u %s step %u time_us %llu\n", ev->board,
			        event_name(ev->event), ev->step, (unsigned long long)ev->time_us);
	}
	if (ev->board >= x->boards_total)
		return;
	if (ev->event == S2_LIVE_STARTED && x->state[ev->board] != 1) {
		if (x->state[ev->board] == 2)
			x->boards_finished--;
		x->state[ev->board] = 1;
		x->boards_running++;
	} else if (ev->event != S2_LIVE_STARTED && x->state[ev->board] == 1) {
		/* a board that never started here (a stop before the run: a new deploy) does
		 * not count as finished */
		x->boards_running--;
		x->state[ev->board] = 2;
		x->boards_finished++;
		x->t_last_finish = sx_now();
	}
}

void sx_summary(const struct cli *c, const struct s2_stream_stats *st, double secs, FILE *f)
{
	if (c->json) {
		fprintf(f,
		        "{\"type\":\"summary\",\"seconds\":%.3f,\"packets\":%llu,\"spikes\":%llu,"
		        "\"energy_samples\":%llu,\"events\":%llu,\"lost\":%llu,\"late\":%llu,"
		        "\"duplicates\":%llu,\"stale\":%llu,\"bad\":%llu,\"foreign\":%llu,"
		        "\"unknown_source\":%llu,"
		        "\"board_dropped\":%llu,\"rx_errors\":%llu}\n",
		        secs, (unsigned long long)st->packets, (unsigned long long)st->spikes,
		        (unsigned long long)st->energy_samples, (unsigned long long)st->events,
		        (unsigned long long)st->lost, (unsigned long long)st->late,
		        (unsigned long long)st->duplicates, (unsigned long long)st->stale,
		        (unsigned long long)st->bad, (unsigned long long)st->foreign,
		        (unsigned long long)st->unknown_source,
		        (unsigned long long)st->board_dropped, (unsigned long long)st->rx_errors);
		return;
	}
	fprintf(f,
	        "stream: %llu spikes, %llu energy samples, %llu events in %llu packets (%.3f s); "
	        "lost %llu, late %llu, duplicates %llu, stale %llu, bad %llu, foreign %llu, "
	        "unknown source "
	        "%llu, dropped by boards %llu, receive errors %llu\n",
	        (unsigned long long)st->spikes, (unsigned long long)st->energy_samples,
	        (unsigned long long)st->events, (unsigned long long)st->packets, secs,
	        (unsigned long long)st->lost, (unsigned long long)st->late,
	        (unsigned long long)st->duplicates, (unsigned long long)st->stale,
	        (unsigned long long)st->bad, (unsigned long long)st->foreign,
	        (unsigned long long)st->unknown_source, (unsigned long long)st->board_dropped,
	        (unsigned long long)st->rx_errors);
}

void cli_serve_log(void *who, const char *line)
{
	fprintf(stderr, "%s: %s\n", (const char *)who, line);
}
