/*
 * What the live example programs (closed_loop, egru_live) share: connecting to the boards of
 * an image, finding where the neurons of an input population live, subscribing a stream to
 * the spikes of an output population, and adding up the boards' INJECT replies. Built into
 * each example; not part of libs2.
 */
#ifndef S2_EXAMPLES_LIVE_SETUP_H
#define S2_EXAMPLES_LIVE_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "s2/plan.h"
#include "s2/board.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/stream.h"

/** Where a neuron of a population lives: board, chip, index on its PE, PE. */
struct live_where {
	uint16_t board, chip, idx;
	uint8_t pe;
};

/** One INJECT in flight: its message, op and reply stay put until the reply came. */
struct live_inj {
	struct s2_msg_inject msg;
	struct s2_op op;
	uint8_t reply[4];
	size_t len;
};

/**
 * For every board of @p plan: open eth[board] (machine-indexed, eth has s2_machine_boards
 * entries), note in in_at[i] where neuron i of population @p in_pop lives, and subscribe @p st
 * (listening on @p port) to the spikes of every PE of population @p out_pop; then wait for the
 * boards' answers. @return 0, or -1 with the reason printed after "PROG: ".
 */
int live_subscribe(const char *prog, struct s2_client *client, struct s2_stream *st, uint16_t port,
                   const struct s2_plan *plan, const struct s2_machine *mach, uint32_t in_pop,
                   struct live_where *in_at, uint32_t out_pop, struct s2_conn **eth);

/** Boards running and finished, from the stream's run events. */
struct live_run {
	unsigned running, finished;
};
/** Count one run event (STARTED, or an end) into @p r. */
void live_run_event(struct live_run *r, const struct s2_run_event *ev);

/** Index of the population labelled @p label in @p plan, or -1. */
int live_pop_index(const struct s2_plan *plan, const char *label);

/** The INJECTs sent so far (live_tally frees them). */
struct live_sent {
	struct live_inj **v;
	size_t n, cap;
};

/** A new, zeroed INJECT record appended to @p s (its op initialised), or NULL when memory
 *  runs out. */
struct live_inj *live_inj_new(struct live_sent *s);

/** Add up the replies of @p n INJECTs (and free them): entries accepted, of which late, and
 *  INJECTs refused or unanswered. */
void live_tally(struct live_inj **sent, size_t n, unsigned *accepted, unsigned *late,
                unsigned *refused);

#endif
