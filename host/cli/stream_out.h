/*
 * Printing a live stream (s2ctl stream, s2ctl replay): spikes as "STEP POPULATION NEURON",
 * energy samples and run events as '#' lines, or one JSON object per line; or passing it to
 * the fan-out server. Also tracks which boards are running (stream_out.c).
 */
#ifndef S2CTL_STREAM_OUT_H
#define S2CTL_STREAM_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "s2/plan.h"
#include "s2/stream.h"

struct s2_serve;
struct s2_metrics;

struct sx {
	struct cli *c;
	struct s2_plan *plan;
	struct s2_serve *serve;     /**< if set, the stream goes there instead of out */
	struct s2_metrics *metrics; /**< if set, energy samples and events are exported there too */
	bool count_only;            /**< print nothing but the summary */
	unsigned boards_running, boards_finished, boards_total;
	unsigned char *state; /**< [boards_total]: 0 idle, 1 running, 2 finished */
	double t_last_finish; /**< CLOCK_MONOTONIC seconds of the last board finishing */
	FILE *out;
};

/** Callbacks of struct s2_stream_callbacks with ctx a struct sx. */
void sx_spikes(void *ctx, const struct s2_spike *s, size_t n);
void sx_energy(void *ctx, const struct s2_energy_sample *e);
void sx_event(void *ctx, const struct s2_run_event *ev);
/** The closing summary: counters of the stream (JSON line or text). */
void sx_summary(const struct cli *c, const struct s2_stream_stats *st, double secs, FILE *f);
double sx_now(void);
/** The fan-out server's lines (s2_serve_log) on stderr, prefixed by who ("s2ctl stream"). */
void cli_serve_log(void *who, const char *line);

#endif
