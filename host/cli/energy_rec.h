/*
 * Recording what a run cost, for s2ctl energy report (docs/energy.md): during s2ctl run
 * --energy FILE, every chip's counter samples from the boards' energy stream, the run events,
 * the host's phase windows (boot, load, run, readout) with the host's own CPU time and, where
 * the machine exposes RAPL through powercap, its energy in each, and the run's provenance
 * (s2 version and commit, host, hashes of the image, machine file and firmware, the boards'
 * identities, the host and board clocks), written as an energy record (JSON, format
 * s2-energy-record-2) by energy_rec.c.
 */
#ifndef S2CTL_ENERGY_REC_H
#define S2CTL_ENERGY_REC_H

#include <stddef.h>
#include <stdint.h>

#include "s2/plan.h"
#include "session.h"
#include "s2/stream.h"

struct erec;

#define EREC_RAPL_MAX 8

/**
 * What the host had spent at one moment: CLOCK_MONOTONIC seconds, the process's CPU time
 * (user + system, getrusage) and the RAPL package domains' energy counters where
 * $S2_POWERCAP (default /sys/class/powercap) has readable intel-rapl:N/energy_uj files.
 */
struct erec_host {
	double mono_s, cpu_s;
	unsigned n_rapl;
	uint64_t rapl_uj[EREC_RAPL_MAX], rapl_range_uj[EREC_RAPL_MAX];
};
/** Take a host snapshot now. */
void erec_host_now(struct erec_host *h);

/** What a run used, for the record's provenance. */
struct erec_info {
	const char *image;    /**< the image file */
	const char *machine;  /**< the machine description file (NULL: not known) */
	const char *firmware; /**< the monitor image s2ctl boots with */
	unsigned booted;      /**< boards this run booted with it */
	const char *results;  /**< the results file the run wrote */
	const char *network;  /**< the network the image names, and its CRC-32 */
	uint32_t network_crc32;
	const char *partial; /**< NULL: the run completed; else why it did not (docs/results.md) */
};

/** A record of the plan's boards, whose energy samples come every `every` steps (the run's
 * live stream, s2_run: erec_energy and erec_event take them). NULL with err set. */
struct erec *erec_start(struct session *s, const struct s2_plan *p, uint32_t every, char *err,
                        size_t errlen);
/** One energy sample, and one run event, of the run's stream, as they arrive. */
void erec_energy(struct erec *r, const struct s2_energy_sample *e);
void erec_event(struct erec *r, const struct s2_run_event *ev);
/** The stream's counters at its end (lost, late, ... packets), for the record. */
void erec_stream_stats(struct erec *r, const struct s2_stream_stats *ss);
/** A phase window between two host snapshots (CLOCK_MONOTONIC, the clock s2ctl measures
 * with; the CPU time and RAPL energy the host spent in it). */
void erec_phase(struct erec *r, const char *name, const struct erec_host *h0,
                const struct erec_host *h1);
/** Write the record atomically (no file on failure). 0 or an S2_E_ code with err set. */
int erec_write(struct erec *r, const char *path, const struct erec_info *info, double dt_ms,
               uint32_t steps, char *err, size_t errlen);
void erec_free(struct erec *r);

#endif
