/**
 * @file energy_record.h
 * @brief Recording what a run cost (record.c, docs/energy.md): every chip's counter samples
 * from the boards' energy stream, the run events, the host's phase windows (boot, load, run,
 * readout) with the host's own CPU time and, where the machine exposes RAPL through
 * powercap, its energy in each, and the run's provenance (s2 version and commit, host,
 * SHA-256 of the image, machine file, results and firmware, the boards' identities, the host
 * and board clocks), written as an energy record (JSON, format s2-energy-record-2, sealed
 * with its CRC-32) that s2_energy_report_open() reads. `s2ctl run --energy FILE` makes one.
 *
 * Use, in order:
 *  1. s2_energy_record_start() once the deployment's boards are leased (it asks each board
 *     for its identity);
 *  2. around each phase, s2_energy_host_now() at its start and end, then
 *     s2_energy_record_phase(); from s2_run()'s callbacks, s2_energy_record_sample() for
 *     every energy sample and s2_energy_record_event() for every run event; after the run,
 *     s2_energy_record_stream_stats() with the live stream's counters;
 *  3. s2_energy_record_write(), saying in info whether the run completed;
 *  4. s2_energy_record_free().
 *
 * Errors: a sample or event that cannot be kept (memory) makes s2_energy_record_write() fail
 * with S2_E_NOMEM rather than write a record that misses it. Nothing here sends anything but
 * the identity requests of s2_energy_record_start().
 */
#ifndef S2_ENERGY_RECORD_H
#define S2_ENERGY_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "s2/plan.h"
#include "s2/session.h"
#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_energy_record;

#define S2_ENERGY_RAPL_MAX 8 /**< RAPL package domains read at most */

/**
 * What the host had spent at one moment: CLOCK_MONOTONIC seconds, the process's CPU time
 * (user + system, getrusage) and the RAPL package domains' energy counters where
 * $S2_POWERCAP (default /sys/class/powercap) has readable intel-rapl:N/energy_uj files.
 */
struct s2_energy_host {
	double mono_s, cpu_s;
	unsigned n_rapl;
	uint64_t rapl_uj[S2_ENERGY_RAPL_MAX], rapl_range_uj[S2_ENERGY_RAPL_MAX];
};

/** Take a host snapshot now (never fails: what cannot be read is left out). */
void s2_energy_host_now(struct s2_energy_host *h);

/** What a run used, for the record's provenance. Strings are read during the write only. */
struct s2_energy_record_info {
	const char *image;    /**< the image file (hashed) */
	const char *machine;  /**< the machine description file (NULL: not known) */
	const char *firmware; /**< the monitor image boards are booted with (hashed, identified) */
	unsigned booted;      /**< boards this run booted with it */
	const char *results;  /**< the results file the run wrote (hashed; NULL: none) */
	const char *network;  /**< the network the image names, and its CRC-32 */
	uint32_t network_crc32;
	const char *partial; /**< NULL: the run completed; else why it did not (docs/results.md):
	                          the record is then marked incomplete, and reports refuse it
	                          unless allowed */
};

/**
 * Start a record of the plan's boards, whose energy samples come every `every` steps.
 * The boards' identities (serial, firmware version) are asked now, on the session's
 * Ethernet endpoints; a board that does not answer is recorded with its error.
 * @param s an open session (it and p must outlive the record)
 * @return the record (free with s2_energy_record_free), or NULL with err set (S2_E_NOMEM).
 */
struct s2_energy_record *s2_energy_record_start(struct s2_session *s, const struct s2_plan *p,
                                                uint32_t every, char *err, size_t errlen);
/** One energy sample of the run's stream, as it arrives (the host's arrival time is kept). */
void s2_energy_record_sample(struct s2_energy_record *r, const struct s2_energy_sample *e);
/** One run event of the run's stream, as it arrives. */
void s2_energy_record_event(struct s2_energy_record *r, const struct s2_run_event *ev);
/** The stream's counters at its end (lost, late, ... packets), for the record. */
void s2_energy_record_stream_stats(struct s2_energy_record *r, const struct s2_stream_stats *ss);
/** A phase window between two host snapshots (name copied, at most 15 bytes; 8 phases at
 * most, more are ignored): its CLOCK_MONOTONIC times, CPU time and RAPL energy. */
void s2_energy_record_phase(struct s2_energy_record *r, const char *name,
                            const struct s2_energy_host *h0, const struct s2_energy_host *h1);
/**
 * Write the record to path atomically (a crash leaves the old file or the new one; no file
 * on failure). dt_ms and steps are the run's timestep and steps.
 * @return 0; S2_E_NOMEM: a sample or event was not kept, or memory ran out; S2_E_IO: the file
 *         cannot be written; err names the file.
 */
int s2_energy_record_write(struct s2_energy_record *r, const char *path,
                           const struct s2_energy_record_info *info, double dt_ms, uint32_t steps,
                           char *err, size_t errlen);
/** Free r; NULL is allowed. */
void s2_energy_record_free(struct s2_energy_record *r);

#ifdef __cplusplus
}
#endif
#endif
