/*
 * The local fan-out server of s2ctl stream --serve (docs/stream.md, serve.c): applications
 * connect on a Unix socket or a loopback TCP port and receive the live stream as
 * length-framed protobuf-c messages (proto/pb/stream.proto). Each client has a bounded
 * queue: a client too slow to keep up loses messages, counted and told to it, and never
 * stalls the run or the other clients.
 */
#ifndef S2CTL_SERVE_H
#define S2CTL_SERVE_H

#include <stddef.h>

#include "s2/plan.h"
#include "s2/stream.h"

struct event_base;
struct serve;

/**
 * Listen on spec, "unix:PATH" or "tcp:127.0.0.1:PORT" (PORT 0: any; the port is printed, its
 * lines on stderr prefixed by who, e.g. "s2ctl replay"),
 * in the event loop of base; each client may have up to queue_bytes waiting. The plan gives
 * the population labels sent to every client first. NULL with err set on failure.
 */
struct serve *serve_open(struct event_base *base, const char *who, const char *spec,
                         const struct s2_plan *plan, size_t queue_bytes, char *err, size_t errlen);
void serve_spikes(struct serve *sv, const struct s2_spike *s, size_t n);
void serve_energy(struct serve *sv, const struct s2_energy_sample *e);
void serve_event(struct serve *sv, const struct s2_run_event *ev);
/** The stream ended: send every client the totals, then flush what is queued (bounded). */
void serve_finish(struct serve *sv, const struct s2_stream_stats *st);
void serve_close(struct serve *sv);

#endif
