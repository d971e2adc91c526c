/*
 * Plastic synapses of a PE (docs/engine.md, "Plasticity"): spike-timing-dependent plasticity
 * (PyNN's SpikePairRule with the additive or multiplicative weight dependence), Vogels et al.
 * 2011 inhibitory plasticity, and Tsodyks-Markram short-term plasticity, for the key-table
 * entries that the PE data's PLASTIC section names (pedata.h). Part of the engine (engine.h):
 * no allocation, the same results on every build (single-precision IEEE arithmetic and
 * fmath.h's exp).
 *
 * At start-up the rows of a plastic entry are rewritten in DRAM in a plastic layout: a row
 * header (the presynaptic state) and, for STDP and Vogels rows, a 32-bit fixed-point weight
 * beside each synaptic word. A pre spike's row is updated when its packet arrives (dendritic
 * delays, Tsodyks-Markram) or, for axonal delays, at the start of the step in which it
 * reaches the synapse (a queue per ring slot); post spikes are kept in a short history per
 * neuron, so that the potentiation they cause is applied to each synapse when its row is next
 * read: at its next pre spike, or at s2_plastic_flush() (the end of every run), so that the
 * weights in DRAM are the learned weights whenever the machine is paused.
 */
#ifndef S2FW_PLASTIC_H
#define S2FW_PLASTIC_H

#include <stdint.h>

#include "s2/pedata.h"

#define S2_PL_HIST 16u /**< post spikes kept per neuron */
#define S2_PL_PEND 32u /**< axonal pre events queued per ring slot */
#define S2_PL_NONE 0xFFFFFFFFu

/** A rule of the PLASTIC section, decoded, with its derived constants. */
struct s2_pl_rule {
	uint8_t kind, flags;
	uint16_t entry;   /**< key-table entry, in creation order */
	uint16_t delay;   /**< timesteps: the delay of every synapse of the entry */
	uint16_t q;       /**< a pre spike sent in step m is applied at the start of step m + q */
	uint16_t h;       /**< a post spike of step p is seen at the synapse in step p + h */
	float p[8];       /**< the section's parameters */
	float wmin;       /**< w_min / w_max */
	float k_units[2]; /**< weight units of the ring per Q2.30 weight unit, per receptor */
	float ndt_plus;   /**< -dt / tau_plus (Vogels: -dt / tau) */
	float ndt_minus;  /**< -dt / tau_minus */
	float c_pot;      /**< potentiation per unit of pre trace (A_plus; Vogels eta / w_max) */
	float c_dep;      /**< depression per unit of post trace (A_minus; Vogels eta / w_max) */
	float c_pre;      /**< Vogels: -eta alpha / w_max at every pre spike; else 0 */
	float reach;      /**< steps beyond which a post trace term is below 2^-20 */
};

/** What plasticity clipped, rounded away or could not do, counted (docs/engine.md). */
struct s2_pl_counters {
	uint64_t updates;    /**< synapse updates (a pre event, or a post spike applied) */
	uint64_t zero;       /**< delivered weights above 0 that rounded to 0 ring units */
	uint64_t clipped;    /**< delivered weights above 65535 units, traces above 65535 */
	uint64_t hist_lost;  /**< synapse updates that needed a post spike no longer kept */
	uint64_t queue_full; /**< axonal pre events applied early: their slot's queue was full */
};

struct s2_plastic {
	unsigned n; /**< rules (0: no plasticity) */
	struct s2_pl_rule r[S2_PE_MAX_PLASTIC];
	uint32_t hist[S2_PE_MAX_NEURONS][S2_PL_HIST]; /**< post spike steps, a ring per neuron */
	uint32_t hn[S2_PE_MAX_NEURONS];               /**< post spikes so far (ring position) */
	uint32_t lost[S2_PE_MAX_NEURONS];             /**< newest spike dropped from the ring */
	uint32_t pend[S2_PE_MAX_DELAY][S2_PL_PEND];   /**< axonal events: table index | row << 8 */
	uint8_t npend[S2_PE_MAX_DELAY];
	uint32_t cnt_addr; /**< DRAM copy of the counters ('S2PC' u32, 0 u32, 5 x u64), by flush */
	struct s2_pl_counters c;
};

struct s2_eng;
struct s2_eng_entry;

/**
 * After the key table is made (before it is sorted): decode the PLASTIC section, check it and
 * rewrite the rows of each plastic entry in the plastic layout, allocating from DRAM at *next
 * (below end; *next advanced).
 * @return 0, or S2_E_RANGE (a bad rule: parameters, entry, mixed delays, a model without
 *         synapses), S2_E_NOSPACE (rows too long, DRAM full), a DMA error.
 */
int s2_plastic_init(struct s2_eng *e, uint32_t *next, uint32_t end);

/** A packet for row r of plastic entry table[k], whose n words are in e->row (read from
 *  DRAM address at), sent in step base. */
void s2_plastic_row(struct s2_eng *e, unsigned k, uint32_t r, uint32_t at, uint32_t n,
                    uint32_t base);

/** Neuron i spiked in step e->t. */
void s2_plastic_post(struct s2_eng *e, unsigned i);

/** Start of step e->t: the axonal pre events that reach their synapses in it. */
void s2_plastic_tick(struct s2_eng *e);

/**
 * Apply to every plastic row the potentiation of the post spikes seen before step e->t, so
 * that DRAM holds the learned weights (the end of a run; neutral for what follows), and copy
 * the counters to DRAM after the rows (cnt_addr), where the host reads them with the rows.
 * @return 0 or a DMA error.
 */
int s2_plastic_flush(struct s2_eng *e);

/**
 * The synapses of a row of plastic entry with rule rule (words w[0..n), as in DRAM): calls
 * out(ctx, word, weight) for each, weight in the receptor's unit (nA, uS, mV) as the rule
 * holds it. @return the number of synapses, or -1 if the row is malformed.
 */
int s2_plastic_row_decode(const struct s2_pl_rule *rule, float w_scale_e, float w_scale_i,
                          const uint32_t *w, uint32_t n,
                          void (*out)(void *ctx, uint32_t word, float weight), void *ctx);

#endif
