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

struct serve;
struct metrics;

struct sx {
	struct cli *c;
	struct s2_plan *plan;
	struct serve *serve;     /**< if set, the stream goes there instead of out */
	struct metrics *metrics; /**< if set, energy samples and events are exported there too */
	bool count_only;         /**< print nothing but the summary */
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

/**
 * Register the application PEs of pb (a board of plan) as sources of st, so that their spikes
 * decode to (population, neuron): only PEs of the populations labelled pops[0..n_pops)
 * (n_pops 0: every population). With m (the board's STREAM_START body, from
 * s2_stream_start_msg), also mark each such PE live in m. s2ctl stream and s2ctl replay both
 * use this, so a replay decodes a capture exactly as the live stream did.
 * @return 0; S2_E_RANGE if m is given and a PE's chip is beyond S2_LIVE_MAX_CHIPS (that chip
 *         in *bad_chip); S2_E_NOMEM.
 */
int sx_add_sources(struct s2_stream *st, const struct s2_plan *plan, const struct s2_plan_board *pb,
                   const char *const *pops, unsigned n_pops, struct s2_msg_stream_start *m,
                   unsigned *bad_chip);

#endif
