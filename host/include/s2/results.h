/**
 * @file results.h
 * @brief Run results: spikes per population, recorded voltages, what was clipped, and how
 * each board's part of the run ended; the .s2res file format (results.c, docs/results.md).
 *
 * A struct s2_results and everything it points to is owned by whoever made it (s2_run,
 * s2_results_read, s2_results_decode) until s2_results_free(). Errors are the S2_E_ codes of
 * s2/error.h, with a message in err naming the file or item and the reason.
 */
#ifndef S2_RESULTS_H
#define S2_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_results_spike {
	uint32_t neuron, step; /**< neuron index in its population; the spike's timestep */
};

/** Values the machine clipped, dropped or rounded away, per population (docs/results.md). */
enum {
	S2_RES_CLIP_INPUT,   /**< input additions clipped at the 16-bit per-step slot */
	S2_RES_CLIP_WZERO,   /**< synapses whose drawn weight rounded to 0 units */
	S2_RES_CLIP_WMAX,    /**< synapses whose drawn weight exceeded 65535 units */
	S2_RES_CLIP_DELAY,   /**< synapses whose drawn delay was clamped to 1-64 steps */
	S2_RES_CLIP_RECLOST, /**< recording bytes that did not fit (spikes and voltages) */
	S2_RES_CLIPS
};

/** Plasticity's counters per cause (docs/engine.md "Plasticity"; the firmware's names). */
enum {
	S2_RES_PL_ZERO,    /**< delivered plastic weights above 0 that rounded to 0 units */
	S2_RES_PL_CLIPPED, /**< delivered plastic weights above 65535 units, traces saturated */
	S2_RES_PL_HIST,    /**< updates that needed a post spike gone from the 16-spike history */
	S2_RES_PL_QUEUE,   /**< axonal pre events applied early: their step's queue was full */
	S2_RES_PLASTICS
};

#define S2_RESULTS_VAR_SHIFT 24u /**< s2_results_pop.vrec: the variable's bits */
#define S2_RESULTS_NEURON_MASK 0xFFFFFFu

struct s2_results_pop {
	uint64_t clip[S2_RES_CLIPS];
	bool spikes_recorded; /**< false: n_spikes is 0 because nothing was recorded */
	char *label;
	uint32_t size;
	uint64_t n_spikes;
	struct s2_results_spike *spikes;
	uint32_t n_vrec;
	/** recorded channels: bits 0-23 the neuron, bits 24-31 the variable (0 v; the engine's
	 *  RECORD_V variables, pedata.h: 1, 2 synaptic current or conductance, Izhikevich u in
	 *  1, AdEx w in 4) */
	uint32_t *vrec;
	float *v; /**< steps x n_vrec */
	/** Plasticity's counters summed over the population's PEs (docs/engine.md
	 *  "Plasticity": delivered weights rounded to 0 units or clipped at 65535, traces
	 *  saturated, updates that missed a post spike no longer kept, axonal events applied
	 *  early); 0 in a file written before it (no "plastic" section). */
	uint64_t plastic;
	/** The same per cause (S2_RES_PL_*), summing to plastic when
	 *  s2_results.has_plastic_causes; all 0 otherwise (a results file of format 2). */
	uint64_t plastic_cause[S2_RES_PLASTICS];
	/** The real-time budget (docs/engine.md "Real-time budget"), when s2_results.has_budget:
	 *  steps of the population's PEs whose cycles exceeded a PE's budget per step (PE-steps,
	 *  summed over its PEs), and its costliest PE-step in thousandths of the budget (1000:
	 *  exactly the budget; the slow-down factor of that PE's worst step x 1000). */
	uint64_t steps_over, worst_permille;
};

/** How a board's part of a run ended (docs/results.md). */
enum s2_results_board_status {
	S2_RESULTS_BOARD_COMPLETE = 0,  /**< ran every step and its recordings were read */
	S2_RESULTS_BOARD_STOPPED = 1,   /**< stopped early or failed: see reason and last_step */
	S2_RESULTS_BOARD_NO_ANSWER = 2, /**< stopped answering; last_step is the last one seen */
};

#define S2_RESULTS_REASON_MAX 200 /**< bytes of a reason, with its NUL */

struct s2_results_board {
	uint32_t board;
	enum s2_results_board_status status;
	uint32_t last_step; /**< steps completed as far as known (== steps if complete) */
	char reason[S2_RESULTS_REASON_MAX]; /**< "" when complete */
};

struct s2_results {
	bool has_clips; /**< the file had the clipping section (files before it: unknown) */
	double dt_ms;
	uint32_t steps, n_pops;
	struct s2_results_pop *pops;
	uint32_t n_boards;
	struct s2_results_board *boards; /**< per board of the run (s2_results_set_board_status) */
	bool complete; /**< set by s2_results_read: every board complete (and at least one) */
	/** plastic_cause is known (a run, a results file of format 3; format 2 kept the sum) */
	bool has_plastic_causes;
	/** steps_over and worst_permille are known (a run, a results file of format 4) */
	bool has_budget;
};

/** True if r knows the budget counters and a PE's step exceeded its real-time budget
 *  (the run did not keep real time: docs/engine.md "Real-time budget"). */
bool s2_results_over_budget(const struct s2_results *r);

/** Free r and everything it owns; NULL is allowed. */
void s2_results_free(struct s2_results *r);

/**
 * Record how board `board` ended: status, the last step reached, and for a board that did
 * not complete the reason (copied, cut to S2_RESULTS_REASON_MAX - 1 bytes; NULL for none).
 * Setting a board again replaces its entry. A run is complete only if it has at least one
 * board and every board is S2_RESULTS_BOARD_COMPLETE with last_step == steps; every writer must
 * record every board it ran on.
 * @return 0, S2_E_INVAL (unknown status) or S2_E_NOMEM.
 */
int s2_results_set_board_status(struct s2_results *r, uint32_t board,
                                enum s2_results_board_status status, uint32_t last_step,
                                const char *reason);

/** Put every population's spikes in order of step, then neuron: the order s2_run() and
 * s2fw-run give them in (so that a run gives the same results whatever the order its PEs
 * were read in, and in parts or in one). */
void s2_results_sort(struct s2_results *r);

/**
 * Append to r the results of the run that continued it (a resumed run of the same
 * deployment, s2_run_opts.resume): next's spikes follow r's with their steps shifted by
 * r->steps, its voltages follow r's, and r->steps grows by next->steps. The counters the
 * PEs keep since loading (clipped inputs, weights and delays, plasticity, the real-time
 * budget's) are taken from next; the recording bytes lost, counted afresh by each run, are
 * summed. A board that did not complete next keeps its status and reason, with its last
 * step counted from r's start; r->complete only if both were.
 * @return 0; S2_E_INVAL: next is not of the same network (timestep, populations, their
 *         sizes or recorded channels differ; r unchanged); S2_E_NOMEM (r unchanged).
 */
int s2_results_append(struct s2_results *r, const struct s2_results *next);

/** True if r records a complete run (as s2_results_set_board_status defines it). */
bool s2_results_is_complete(const struct s2_results *r);

/** One line on why r is partial ("board 0 stopped at step 1234 of 10000: reason"). */
void s2_results_partial_why(const struct s2_results *r, char *buf, size_t len);

/** Name of a status: "complete", "stopped", "no answer". */
const char *s2_results_status_name(enum s2_results_board_status s);

/**
 * Add one PE's recordings to its population: spikes (a bitmap of n neurons per step, neuron
 * i of the PE is lo + i of the population) and voltages (n_vrec floats per step for the PE's
 * neurons vrec[]). Missing bytes (a truncated recording) give no spikes and NaN voltages.
 * @return 0 or S2_E_NOMEM.
 */
int s2_results_add_pe(struct s2_results *r, unsigned pop, uint32_t lo, uint32_t n,
                      const uint8_t *spk, size_t spk_len, unsigned n_vrec, const uint8_t *vrec,
                      const uint8_t *v, size_t v_len);
/** Names of the S2_RES_CLIP_ counters, for reports (JSON keys). */
extern const char *const s2_results_clip_names[S2_RES_CLIPS];
/** Names of the S2_RES_PL_ causes, for reports (JSON keys): zero, clipped, hist_lost,
 *  queue_full (as the firmware, s2fw-run and pyNN.s2 name them). */
extern const char *const s2_results_plastic_names[S2_RES_PLASTICS];
/** What each S2_RES_PL_ cause means, for people. */
extern const char *const s2_results_plastic_whys[S2_RES_PLASTICS];
/**
 * Write r to path in the checksummed container (docs/results.md, docs/files.md), atomically:
 * a crash leaves the old file or the new one, never a half file.
 * @return 0, S2_E_IO or S2_E_NOMEM with err set.
 */
int s2_results_write(const struct s2_results *r, const char *path, char *err, size_t errlen);

enum {
	S2_RESULTS_ALLOW_PARTIAL =
	        1u, /**< s2_results_read: return a partial run (complete == false) */
};

/**
 * Read and verify a results file: container checksums (a damaged file is refused naming the
 * section), then bounds and sizes of every section. A partial run is refused with
 * S2_E_STATE (err says which board stopped where) unless flags has S2_RESULTS_ALLOW_PARTIAL.
 * @param rc if not NULL, the error code on failure (S2_E_IO, S2_E_CRC, S2_E_FORMAT, S2_E_STATE,
 *           ...)
 * @return the results (free with s2_results_free), or NULL with err set.
 */
struct s2_results *s2_results_read(const char *path, unsigned flags, int *rc, char *err,
                                   size_t errlen);

/** s2_results_read from bytes already in memory (fuzzing, tests); name is used in messages. */
struct s2_results *s2_results_decode(const uint8_t *buf, size_t len, const char *name,
                                     unsigned flags, int *rc, char *err, size_t errlen);

/**
 * One file per population and kind into dir: LABEL_spikes.csv|npy, LABEL_v.csv|npy. For a
 * partial run (r->complete false) each CSV starts with a "# partial run: ..." line, and a
 * PARTIAL file in dir says why (so .npy readers see it too).
 * @return 0, or S2_E_IO / S2_E_NOMEM with err naming the file (files written before the
 *         failure are left).
 */
int s2_results_export(const struct s2_results *r, const char *dir, bool npy, char *err,
                      size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
