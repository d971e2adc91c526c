/* Run results: spikes per population and recorded voltages (results.c, docs/results.md). */
#ifndef S2CTL_RESULTS_H
#define S2CTL_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct results_spike {
	uint32_t neuron, step; /**< neuron index in its population; the spike's timestep */
};

/** Values the machine clipped, dropped or rounded away, per population (docs/results.md). */
enum {
	RES_CLIP_INPUT,   /**< input additions clipped at the 16-bit per-step slot */
	RES_CLIP_WZERO,   /**< synapses whose drawn weight rounded to 0 units */
	RES_CLIP_WMAX,    /**< synapses whose drawn weight exceeded 65535 units */
	RES_CLIP_DELAY,   /**< synapses whose drawn delay was clamped to 1-64 steps */
	RES_CLIP_RECLOST, /**< recording bytes that did not fit (spikes and voltages) */
	RES_CLIPS
};

struct results_pop {
	uint64_t clip[RES_CLIPS];
	bool spikes_recorded; /**< false: n_spikes is 0 because nothing was recorded */
	char *label;
	uint32_t size;
	uint64_t n_spikes;
	struct results_spike *spikes;
	uint32_t n_vrec;
	uint32_t *vrec; /**< recorded neurons */
	float *v;       /**< steps x n_vrec */
};

struct results {
	bool has_clips; /**< the file had the clipping section (files before it: unknown) */
	double dt_ms;
	uint32_t steps, n_pops;
	struct results_pop *pops;
};

void results_free(struct results *r);

/**
 * Add one PE's recordings to its population: spikes (a bitmap of n neurons per step, neuron
 * i of the PE is lo + i of the population) and voltages (n_vrec floats per step for the PE's
 * neurons vrec[]). Missing bytes (a truncated recording) give no spikes and NaN voltages.
 * @return 0 or S2_E_NOMEM.
 */
int results_add_pe(struct results *r, unsigned pop, uint32_t lo, uint32_t n, const uint8_t *spk,
                   size_t spk_len, unsigned n_vrec, const uint8_t *vrec, const uint8_t *v,
                   size_t v_len);
/** Names of the RES_CLIP_ counters, for reports (JSON keys). */
extern const char *const results_clip_names[RES_CLIPS];
/** Write atomically. 0 or S2_E_IO with err set. */
int results_write(const struct results *r, const char *path, char *err, size_t errlen);
/** Read and check (bounds, sizes). NULL with err set. */
struct results *results_read(const char *path, char *err, size_t errlen);
/** One file per population and kind into dir: LABEL_spikes.csv|npy, LABEL_v.csv|npy. */
int results_export(const struct results *r, const char *dir, bool npy, char *err, size_t errlen);

#endif
