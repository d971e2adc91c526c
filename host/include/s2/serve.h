/**
 * @file serve.h
 * @brief The local fan-out server of a live stream (serve.c, docs/stream.md "Serving
 * applications"): applications connect on a Unix socket or a loopback TCP port and receive
 * the stream as length-framed protobuf-c messages (proto/pb/stream.proto): a Hello with the
 * population labels first, then Spikes, Energy and Event messages, and a Summary at the end.
 * Each client has a bounded queue: a client too slow to keep up loses messages, counted and
 * told to it (Drops), and never stalls the run or the other clients.
 *
 * Use, in order:
 *  1. s2_serve_open() in the event loop the stream runs in (s2_client_base() of the
 *     session's client, or any event_base the caller dispatches);
 *  2. from the stream's callbacks (s2/stream.h, or s2_run_callbacks), s2_serve_spikes(),
 *     s2_serve_energy(), s2_serve_event(); clients are accepted and written to while the
 *     event loop runs;
 *  3. s2_serve_finish() with the stream's counters when it ends (every client gets its
 *     Summary, then the queues are flushed for at most 2 s);
 *  4. s2_serve_close().
 *
 * SIGPIPE is ignored from s2_serve_open() to s2_serve_close() (a client that went away shows
 * as a write error on its socket), then restored. Threads: none of its own; every call on the
 * thread that runs the event loop.
 */
#ifndef S2_SERVE_H
#define S2_SERVE_H

#include <stddef.h>

#include "s2/plan.h"
#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct s2_serve;

/** Lines for a person: where it serves, each client connecting, refused or ending (with what
 * it was sent and what it lost), warnings. Without a newline. */
typedef void (*s2_serve_log)(void *arg, const char *line);

/**
 * Listen on spec, "unix:PATH" (a stale socket file of a server that is gone is replaced;
 * anything else at PATH is an error) or "tcp:ADDR:PORT" (PORT 0: any, said in the log; an
 * address that is not loopback is allowed but warned about: the stream has no
 * authentication), in the event loop base.
 * @param plan        gives the population labels every client gets in its Hello (not kept)
 * @param queue_bytes what may wait for one client, > 0 (its socket buffer is shrunk to it)
 * @param log         NULL: no lines
 * @return the server (s2_serve_close), or NULL with err set: a bad spec, a path or port that
 *         cannot be listened on, queue_bytes 0, or out of memory.
 */
struct s2_serve *s2_serve_open(struct event_base *base, const char *spec,
                               const struct s2_plan *plan, size_t queue_bytes, s2_serve_log log,
                               void *log_arg, char *err, size_t errlen);
/** Spikes of the stream, to every client (a Spikes message per call). */
void s2_serve_spikes(struct s2_serve *sv, const struct s2_spike *s, size_t n);
/** An energy sample, to every client. */
void s2_serve_energy(struct s2_serve *sv, const struct s2_energy_sample *e);
/** A run event, to every client. */
void s2_serve_event(struct s2_serve *sv, const struct s2_run_event *ev);
/** The stream ended: no more clients are accepted; each gets the totals st and its own
 * (Summary, never dropped), then what is queued is flushed, for at most 2 s. Once. */
void s2_serve_finish(struct s2_serve *sv, const struct s2_stream_stats *st);
/** Close every client and the listener (and the socket file it made), free sv; NULL is
 * allowed. */
void s2_serve_close(struct s2_serve *sv);

#ifdef __cplusplus
}
#endif
#endif
