/*
 * Recording what a run cost, for s2ctl energy report (docs/energy.md): during s2ctl run
 * --energy FILE, every chip's counter samples from the boards' energy stream, the run events,
 * and the host's phase windows (boot, load, run, readout), written as an energy record (JSON,
 * format s2-energy-record-1) by energy_rec.c.
 */
#ifndef S2CTL_ENERGY_REC_H
#define S2CTL_ENERGY_REC_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "session.h"

struct erec;

/** Subscribe the plan's boards to energy samples every `every` steps. NULL with err set. */
struct erec *erec_start(struct session *s, const struct plan *p, uint32_t every, char *err,
                        size_t errlen);
/** A phase window in CLOCK_MONOTONIC seconds (the clock s2ctl measures with). */
void erec_phase(struct erec *r, const char *name, double t0, double t1);
/** After the run: take what is still coming (every board's end event, at most max_s). */
void erec_finish(struct erec *r, double max_s);
/** Write the record atomically (no file on failure). 0 or an S2_E_ code with err set. */
int erec_write(struct erec *r, const char *path, const char *image, double dt_ms, uint32_t steps,
               char *err, size_t errlen);
void erec_free(struct erec *r);

#endif
