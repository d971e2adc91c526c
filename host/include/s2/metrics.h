/**
 * @file metrics.h
 * @brief Live export of a stream's energy counters in the Prometheus/OpenMetrics text format
 * (metrics.c, docs/energy.md): an HTTP endpoint /metrics, in the stream's event loop, that a
 * data centre's Prometheus scrapes, with joules per board, chip and phase (load, run, idle)
 * computed by the energy model (s2-energy-model-2) from the latest samples, and the raw
 * activity counters. Inside a SLURM job (s2/alloc.h) every series also carries the job, user
 * and account labels. `s2ctl stream --metrics tcp:ADDR:PORT` serves one.
 *
 * Use: s2_metrics_open() in the event loop of the stream; from the stream's callbacks
 * s2_metrics_energy() and s2_metrics_event(); s2_metrics_close() at the end. Threads: none;
 * every call on the thread that runs the event loop.
 */
#ifndef S2_METRICS_H
#define S2_METRICS_H

#include <stddef.h>

#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct s2_metrics;

/**
 * Serve /metrics on spec "tcp:ADDR:PORT" (PORT 0: any) in the event loop base; run labels
 * every series (copied, at most 255 bytes). log (may be NULL) gets one line saying where it
 * serves ("OpenMetrics on http://127.0.0.1:PORT/metrics").
 * @return the exporter (s2_metrics_close), or NULL with err set: spec not tcp:ADDR:PORT, the
 *         address cannot be listened on, or out of memory.
 */
struct s2_metrics *s2_metrics_open(struct event_base *base, const char *spec, const char *run,
                                   void (*log)(void *arg, const char *line), void *log_arg,
                                   char *err, size_t errlen);
/** An energy sample of the stream: its counters' increase since the chip's last sample,
 * turned into joules in the board's current phase. */
void s2_metrics_energy(struct s2_metrics *m, const struct s2_energy_sample *e);
/** A run event of the stream: the board's phase becomes run (started) or idle. */
void s2_metrics_event(struct s2_metrics *m, const struct s2_run_event *ev);
/** Stop serving and free m; NULL is allowed. */
void s2_metrics_close(struct s2_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
