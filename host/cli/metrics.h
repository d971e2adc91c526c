/*
 * Live export of a stream's energy counters in the Prometheus/OpenMetrics text format
 * (s2ctl stream --metrics tcp:127.0.0.1:PORT, docs/energy.md): an HTTP endpoint /metrics that a
 * data centre's Prometheus scrapes, with joules per board, chip and phase computed by the
 * energy model from the latest samples, and the raw activity counters (metrics.c).
 */
#ifndef S2CTL_METRICS_H
#define S2CTL_METRICS_H

#include <stddef.h>

#include "s2/stream.h"

struct event_base;
struct metrics;

/** Serve on spec "tcp:ADDR:PORT" (PORT 0: any, printed); run labels the series. NULL + err. */
struct metrics *metrics_open(struct event_base *base, const char *spec, const char *run, char *err,
                             size_t errlen);
void metrics_energy(struct metrics *m, const struct s2_energy_sample *e);
void metrics_event(struct metrics *m, const struct s2_run_event *ev);
void metrics_close(struct metrics *m);

#endif
