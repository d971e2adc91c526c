/**
 * @file subscribe.h
 * @brief Listening to a network that runs on a session's boards (subscribe.c): subscribe
 * every board of its plan to a stream (STREAM_START with the plan's live PEs), watch that the
 * boards still answer while the stream runs (an APP_STATUS probe a second, two missed in a
 * row end it), and unsubscribe. `s2ctl stream` is these calls around its event loop; a run
 * made by s2_run() subscribes its own stream (s2/run.h).
 *
 * Use, in order: a stream with a socket (s2_stream_new, s2_stream_listen on the session's
 * event loop, s2_client_base); s2_stream_subscribe(); while dispatching the event loop,
 * s2_stream_watch_poll() after each slice (s2_stream_watch_new() first); then
 * s2_stream_watch_free() and s2_stream_unsubscribe() (also after a failed subscription that
 * sent requests).
 */
#ifndef S2_SUBSCRIBE_H
#define S2_SUBSCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/plan.h"
#include "s2/session.h"
#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Subscribe every selected board of plan to st: its application PEs of the populations
 * labelled pops[0..n_pops) (n_pops 0: all) as sources of st (s2_stream_add_plan_sources) and
 * live in its STREAM_START, with flags (S2_LIVE_F_SPIKES, S2_LIVE_F_ENERGY), the energy
 * period in steps and st's port. Boards are asked in parallel.
 * @param boards set to the number of boards asked
 * @param sent   set to true once requests were sent (then s2_stream_unsubscribe is due,
 *               also on failure)
 * @return 0; S2_E_RANGE: a PE's chip is beyond the S2_LIVE_MAX_CHIPS a stream subscribes, or
 *         S2_E_NOMEM, before anything is sent (err names the board and chip); else a board's
 *         refusal or silence (its code, err "board B: STREAM_START: reason (transport
 *         counters)").
 */
int s2_stream_subscribe(struct s2_session *s, struct s2_stream *st, const struct s2_plan *plan,
                        const char *const *pops, unsigned n_pops, uint32_t flags,
                        uint32_t energy_every, uint16_t port, unsigned *boards, bool *sent,
                        char *err, size_t errlen);

/** Unsubscribe stream id on every selected board of plan (best effort: a board that is gone
 * forgets its streams anyway); waits for the replies. */
void s2_stream_unsubscribe(struct s2_session *s, const struct s2_plan *plan, uint32_t id);

struct s2_stream_watch;

/** A watch over the selected boards of plan (both must outlive it); NULL: out of memory. */
struct s2_stream_watch *s2_stream_watch_new(struct s2_session *s, const struct s2_plan *plan);

/**
 * Judge the probes that have come back and, once a second, probe every board again. Call it
 * between slices of the event loop; it does not wait.
 * @return 0; else the code of a board that stopped answering (S2_E_TIMEOUT: two probes in a
 *         row, each after the transport's retries) or refused a probe, with err "board B
 *         stopped answering while streaming (APP_STATUS: reason) (transport counters)".
 */
int s2_stream_watch_poll(struct s2_stream_watch *w, char *err, size_t errlen);

/** Wait for the probes still in flight (they own their reply buffers), then free w; NULL is
 * allowed. */
void s2_stream_watch_free(struct s2_stream_watch *w);

#ifdef __cplusplus
}
#endif
#endif
