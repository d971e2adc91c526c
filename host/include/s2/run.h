/**
 * @file run.h
 * @brief Deploying a network image on a session's boards and running it: boot what is not
 * booted, load, run with callbacks for progress, live spikes and energy samples, and read
 * the recordings back as results (run.c, docs/api.md).
 *
 * Set-up, in order:
 *  1. a session (session.h) with the Ethernet endpoints open, and a plan (plan.h);
 *  2. s2_deployment_new(): checks the plan against the session's machine and selection,
 *     narrows the selection to the plan's boards and takes their lease;
 *  3. s2_deploy() (or s2_deployment_check_loaded() for boards loaded before);
 *  4. s2_run(): run every board together, read every recording, build the results;
 *  5. s2_deployment_free(), then s2_session_close().
 *
 * Errors: actions return 0 or a negative S2_E_ code (s2/error.h) and write a message into err
 * (err may be NULL). What went wrong on each board is kept: s2_deployment_board_error(). A
 * board that fails ends its part only: the other boards go on, or are stopped cleanly, and
 * the results of a run that did not complete on every board are marked partial
 * (s2_results.complete is false, each board's status and reason say why), never complete.
 *
 * Threads: none of its own. Callbacks run on the caller's thread, from inside s2_deploy() and
 * s2_run(); they must not call into the session.
 */
#ifndef S2_RUN_H
#define S2_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/bulk.h"
#include "s2/plan.h"
#include "s2/results.h"
#include "s2/session.h"
#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_deployment;

/** The phases of a deployment and run, for s2_run_callbacks.phase. */
enum s2_phase {
	S2_PHASE_BOOT,    /**< booting boards that were not booted */
	S2_PHASE_LOAD,    /**< loading tables and PE data, and the PEs expanding synapses */
	S2_PHASE_RUN,     /**< the boards run */
	S2_PHASE_READOUT, /**< reading the recordings back */
};

/** What the caller hears while it waits. Any member may be NULL. */
struct s2_run_callbacks {
	/** Progress within a phase: "load" (bytes), "expand" (PEs), "run" (steps, summed over
	 * boards). Called often: keep it cheap. */
	void (*progress)(void *arg, const char *what, uint64_t done, uint64_t total);
	/** A phase begins (end false) or ends (end true). */
	void (*phase)(void *arg, enum s2_phase ph, bool end);
	/** Live spikes of the populations chosen by s2_run_opts.live_pops (stream.h). */
	void (*spikes)(void *arg, const struct s2_spike *s, size_t n);
	/** Every chip's counters every s2_run_opts.energy_every steps (stream.h). */
	void (*energy)(void *arg, const struct s2_energy_sample *e);
	/** A board started, finished or stopped its run (stream.h). */
	void (*event)(void *arg, const struct s2_run_event *ev);
	void *arg;
};

/** How to deploy. Zero-initialise, then set what you need. */
struct s2_deploy_opts {
	/** Biological time the recordings are sized for (ms); 0: the image's run time. */
	double duration_ms;
	/** Seconds a phase may go without progress before a board fails; 0: 60. */
	double stall_s;
	/** A monitor image (s2_monitor.bin) to boot boards that are not booted. NULL: a board
	 * that is not booted fails with S2_E_STATE. */
	const char *firmware;
	const struct s2_run_callbacks *cb; /**< NULL: none */
};

/** How to run. Zero-initialise, then set what you need. */
struct s2_run_opts {
	double duration_ms; /**< biological time (ms); 0: the one s2_deploy() sized for */
	double stall_s;     /**< seconds a board may go without a step; 0: 60 */
	bool realtime;      /**< pace the boards to biological time */
	/** Live spikes: [plan->n_pops] flags, NULL for every population. Only used with
	 * cb->spikes. */
	const bool *live_pops;
	uint32_t energy_every;             /**< steps between energy samples (cb->energy); 0: 100 */
	const struct s2_run_callbacks *cb; /**< NULL: none (no live stream is opened) */
	/**
	 * Continue from where the previous s2_run() of this deployment stopped (it must have
	 * completed on every board): the PEs keep their state (neurons, synaptic rings, random
	 * streams, spike-array positions, the step count), so run(a) then resumed run(b) is
	 * run(a + b). The results hold this run's steps only, numbered from 0 at its start
	 * (s2_run_stats.steps_before: the steps run before it). A resumed run longer than the
	 * recordings were sized for (s2_deploy_opts.duration_ms) goes in parts (part_ms). The
	 * boards' activity
	 * counters (s2_run_stats) are the totals since loading. false: a run from t = 0, which
	 * only a freshly loaded deployment can give: once a run was started, a run that is not
	 * resumed is refused (S2_E_STATE; the PEs would go on from their state and the
	 * recordings hold the last run's), s2_deploy() again first.
	 */
	bool resume;
	/**
	 * Run in parts of at most this much biological time (ms): after each part the boards
	 * pause, their recordings are read back and the next part continues from where it
	 * stopped (as resume), so results, counters and callbacks are those of one run of
	 * duration_ms (the callbacks' steps are the boards' own, counted since loading, as for
	 * any resumed run). 0: in parts only when the recordings would not fit, each as long as
	 * every PE's share of the recording area holds (and at most what s2_deploy() sized
	 * them for); a run that fits is one part. Between parts the network does not keep
	 * real time (o->realtime paces each part).
	 */
	double part_ms;
};

/** What a deployment and its last run did (s2_deployment_stats; each s2_run() starts the
 * run's counters afresh). */
struct s2_run_stats {
	double deploy_s, run_s, collect_s; /**< wall-clock seconds of each part */
	unsigned booted;                   /**< boards s2_deploy() booted */
	uint64_t bytes;                    /**< tables and PE data loaded (raw bytes) */
	struct s2_bulk_stats load, rec;    /**< bulk transfers: loading, recordings */
	uint32_t steps;                    /**< steps of the run */
	/* The boards' own counters at the end of the run (APP_STATUS), summed. */
	uint64_t synaptic_events, spikes_sent;
	uint64_t packets_dropped, packets_unrouted; /**< dropped includes unrouted */
	uint64_t inputs_clipped;                    /**< ring slots saturated */
	uint64_t recording_lost;                    /**< recording bytes that did not fit */
	struct s2_stream_stats stream; /**< the live stream's counters (zero: none opened) */
	/** After a completed run: the steps run before it since loading (resumed runs,
	 *  s2_run_opts.resume); 0 for a run that was not resumed. */
	uint64_t steps_before;
	/** The parts the run was run in (s2_run_opts.part_ms): 1 for a run in one. */
	uint32_t parts;
};

/**
 * Prepare to deploy plan on the session's boards (step 2 above): every board of the plan
 * must be in the machine and selected; the selection is narrowed to those boards, whose
 * lease is then taken (s2_session_lease, with force).
 * @param s    an open session with Ethernet endpoints; it must outlive the deployment
 * @param plan taken over by the deployment (also on failure): freed by s2_deployment_free
 * @param out  the deployment, owned by the caller; NULL on failure
 * @return 0; S2_E_RANGE: the image is for a bigger machine (a board it names is not in the
 *         machine description; err names it); S2_E_INVAL: a board of the plan is not
 *         selected, or the session has no Ethernet endpoints; the lease's errors
 *         (s2_session_lease); S2_E_NOMEM.
 */
int s2_deployment_new(struct s2_session *s, struct s2_plan *plan, bool force,
                      struct s2_deployment **out, char *err, size_t errlen);

/** The plan (owned by the deployment). */
const struct s2_plan *s2_deployment_plan(const struct s2_deployment *d);

/**
 * Deploy: boot the boards that are not booted (o->firmware), stop what runs, write every
 * router table and PE's data, activate, and wait until every PE has expanded its synapses.
 * Boards are worked on in parallel; a board that fails is left out of what follows.
 * @return 0 if every board is deployed; else the first failed board's code (S2_E_TIMEOUT:
 *         it did not answer or made no progress for o->stall_s; S2_E_STATE: not booted and
 *         no firmware, or it refused its PE data; ...) with err naming the board, the step
 *         and the reason (s2_deployment_board_error for each board).
 */
int s2_deploy(struct s2_deployment *d, const struct s2_deploy_opts *o, char *err, size_t errlen);

/**
 * Instead of s2_deploy(): check that every board already holds the plan loaded (s2ctl
 * deploy earlier) and has not run it since, and size the recordings for duration_ms (0: the
 * image's run time).
 * @return 0, or S2_E_STATE (a board holds something else, or already ran what it holds: a
 *         new run would not start at t = 0; deploy it again) / S2_E_TIMEOUT, with err set.
 */
int s2_deployment_check_loaded(struct s2_deployment *d, double duration_ms, char *err,
                               size_t errlen);

/**
 * Run the deployed network on every board together, then read every recording back.
 * While it runs, boards are polled (every 20 ms) and the live stream, if callbacks ask for
 * one, is taken as it arrives. A board that stops answering, makes no step for o->stall_s
 * or leaves the run ends its part; the others are then stopped cleanly and their
 * recordings kept.
 * @param res on return (also on most failures) the results, owned by the caller
 *            (s2_results_free); NULL only if none could be made (no board ran, or memory)
 * @return 0 if the run completed on every board (then (*res)->complete); else the first
 *         failed board's code (S2_E_TIMEOUT: a board stopped answering or advancing;
 *         S2_E_STATE: a board left the run; S2_E_NOMEM) with err saying which board and
 *         why, and *res, if not NULL, marked partial.
 */
int s2_run(struct s2_deployment *d, const struct s2_run_opts *o, struct s2_results **res, char *err,
           size_t errlen);

/**
 * Between runs (pause and resume, s2_run_opts.resume): give the loaded network new PE data,
 * compiled from the same network with other parameters, spike times, Poisson rates or
 * currents, current sources or initial values. Each PE whose data differs gets it (written
 * to chip DRAM, then APP_UPDATE) and keeps its state, except that each state value whose
 * initial value changed is set to the new one (PyNN's initialize() between runs); the next
 * resumed s2_run() continues with it. Spike times and current steps before the step reached
 * are ignored. Nothing else may differ: placement, routing, connections, recordings,
 * timestep (checked on the host before anything is sent).
 * @param np the new plan, taken over (also on failure)
 * @return 0; S2_E_STATE: something that cannot change differs (err names it and the
 *         population; nothing was changed), or a board failed before; S2_E_RANGE: PE data
 *         too large; a board's error while updating (the deployment is then in an unknown
 *         state: deploy again).
 * Only for a deployment loaded by s2_deploy() (not s2_deployment_check_loaded()).
 */
int s2_deployment_update(struct s2_deployment *d, struct s2_plan *np, char *err, size_t errlen);

/**
 * How board b fared: 0 if it has not failed, else its code, and *what (if what is not NULL)
 * a description valid until the deployment is freed ("loading: chip 3 PE 5 refused its PE
 * data").
 */
int s2_deployment_board_error(const struct s2_deployment *d, unsigned board, const char **what);

/**
 * Read len bytes of the DRAM of chip `chip` of board `board` (its number in the machine, as
 * struct s2_plan_board) at addr into out, between runs: for example the rows of plastic
 * synapses, which hold the learned weights when a run has ended (docs/engine.md,
 * "Plasticity"; pyNN.s2's Projection.get). Checked end to end like every bulk read.
 * @return 0, or a negative S2_E_ code with err set (no such board in the plan, a transfer
 *         error).
 */
int s2_deployment_read_dram(struct s2_deployment *d, unsigned board, uint16_t chip, uint32_t addr,
                            void *out, size_t len, char *err, size_t errlen);

/** Boards of the plan that have not failed. */
unsigned s2_deployment_live_boards(const struct s2_deployment *d);

/** Counters of the deployment and its run (owned by the deployment). */
const struct s2_run_stats *s2_deployment_stats(const struct s2_deployment *d);

/** Free the deployment and its plan (not the session; the boards keep what they hold).
 * NULL is allowed. */
void s2_deployment_free(struct s2_deployment *d);

#ifdef __cplusplus
}
#endif
#endif
