/**
 * @file pedata.h
 * @brief PE data: what an application PE is loaded with (docs/pedata.md). Declared once
 * here and shared by the mapper, which writes it, and the firmware engine, which reads it.
 *
 * A PE data blob is a 64-byte header, a section table and sections, all little-endian:
 *
 * Header:
 *   off size field
 *     0    4 magic        0x44503253, the bytes 'S' '2' 'P' 'D'
 *     4    2 version      1
 *     6    2 model        enum s2_pe_model
 *     8    2 n_neurons    1..S2_PE_MAX_NEURONS
 *    10    2 n_record_v   values recorded per step (RECORD_V entries), 0..S2_PE_MAX_RECORD_V
 *    12    4 dt_us        timestep, whole microseconds, S2_PE_DT_US_MIN..S2_PE_DT_US_MAX
 *    16    4 key_base     neuron i sends key key_base + i
 *    20    4 seed         of the PE's random numbers (Poisson sources)
 *    24    4 w_scale_e    f32: an excitatory weight unit, nA (current) or uS (conductance)
 *    28    4 w_scale_i    f32: an inhibitory weight unit
 *    32    4 dram_base    start of the PE's DRAM area (synaptic rows)
 *    36    4 dram_size    its size in bytes
 *    40    2 n_sections
 *    42    2 flags        bit 0: record spikes; bit 1: no targets (spikes not sent)
 *    44    4 bg_rate_hz   f32: background Poisson input per neuron, Hz (LIF models; 0: none)
 *    48    4 bg_weight    f32: its weight, nA (current) or uS (conductance), excitatory
 *    52    4 budget       cycles the PE has per timestep (clock x dt; 0: not checked)
 *    56    4 cyc_update   modelled cycles per neuron per step (the model's measured cost)
 *    60    2 cyc_event    modelled cycles per synaptic event received, in tenths
 *    62    2 cyc_packet   modelled cycles per packet received (key lookup, row DMA)
 * Section table: n_sections entries of 12 bytes: type u16, reserved u16, offset u32 (from the
 * start of the blob), length u32. Each section type appears at most once.
 */
#ifndef S2_PEDATA_H
#define S2_PEDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S2_PEDATA_MAGIC 0x44503253u
#define S2_PEDATA_VERSION 1u
#define S2_PEDATA_HDR_LEN 64u
#define S2_PEDATA_SECT_LEN 12u
#define S2_PE_MAX_NEURONS 128u      /**< neurons per PE (SRAM budget, docs/pedata.md) */
#define S2_PE_MAX_RECORD_V 256u     /**< values recorded per step and PE: 2 per neuron */
#define S2_PE_PARAMS 12u            /**< f32 parameters per neuron */
#define S2_PE_STATE 4u              /**< f32 state variables per neuron */
#define S2_PE_PARAMS2 8u            /**< f32 parameters per neuron in PARAMS2 (AdEx, HH, SFA) */
#define S2_PD_F_RECORD_SPIKES 0x01u /**< header flags: record the spikes */
#define S2_PD_F_NO_TARGETS 0x02u    /**< header flags: no projection leaves: do not send */
#define S2_PE_MAX_DELAY 64u         /**< delays any PE holds (128 neurons), timesteps */
#define S2_PE_MAX_DELAY_WORD 256u   /**< the longest delay a synaptic word holds, timesteps */
#define S2_PE_RING_WORDS 16384u     /**< 16-bit input accumulators: slots x 2 x neuron stride */
#define S2_PE_DT_US_MIN 10u         /**< the shortest timestep, microseconds (0.01 ms) */
#define S2_PE_DT_US_MAX 10000u      /**< the longest timestep, microseconds (10 ms) */
#define S2_PE_MAX_TABLE 256u        /**< key table entries (explicit + expanded sources) */
#define S2_PE_EXPAND_LEN 64u        /**< bytes of one expansion descriptor */
#define S2_PE_ROW_MAX 1024u         /**< synapses in one row */
#define S2_PE_MAX_POP (1u << 24)    /**< neurons of a population; synapses of one descriptor */

/** Neuron models and sources. Parameter and state layouts: docs/pedata.md. */
enum s2_pe_model {
	S2_MODEL_LIF_CURR_EXP = 1,   /**< current-based LIF, exponential synapses */
	S2_MODEL_LIF_COND_EXP = 2,   /**< conductance-based LIF, exponential synapses */
	S2_MODEL_IZHIKEVICH = 3,     /**< Izhikevich, current (delta) synapses */
	S2_MODEL_NIR = 4,            /**< generic discrete neuron for NIR graphs (docs/nir.md) */
	S2_MODEL_EGRU = 5,           /**< event-based GRU unit, graded events (docs/egru.md) */
	S2_MODEL_DENSE = 6,          /**< dense layer: read-out or graded events (docs/egru.md) */
	S2_MODEL_LIF_CURR_ALPHA = 7, /**< current-based LIF, alpha synapses */
	S2_MODEL_LIF_COND_ALPHA = 8, /**< conductance-based LIF, alpha synapses */
	S2_MODEL_LIF_CURR_DELTA = 9, /**< LIF, delta synapses (weights are voltage jumps) */
	S2_MODEL_ADEX_COND_EXP = 12, /**< adaptive exponential LIF, conductance synapses */
	S2_MODEL_HH_COND_EXP = 13,   /**< Hodgkin-Huxley (Traub & Miles), conductance synapses */
	S2_MODEL_LIF_COND_SFA =
	        14, /**< LIF, conductance synapses, adaptation, relative refractoriness */
	S2_MODEL_POISSON = 10,     /**< Poisson spike source, per-neuron rate */
	S2_MODEL_SPIKE_ARRAY = 11, /**< spike-time arrays */
};

/** Section types. */
enum s2_pe_section {
	S2_SECT_PARAMS = 1,   /**< n_neurons (or 1, shared by all) x S2_PE_PARAMS f32 */
	S2_SECT_STATE = 2,    /**< n_neurons (or 1, shared) x S2_PE_STATE f32: initial state */
	S2_SECT_RECORD_V = 3, /**< n_record_v x u16: neuron | variable << 12 (below) */
	S2_SECT_ROWS = 4,     /**< explicit synaptic rows (s2_pe_rows entries) */
	S2_SECT_EXPAND = 5,   /**< expansion descriptors, S2_PE_EXPAND_LEN bytes each */
	S2_SECT_SPIKES = 6,   /**< spike times: (step u32, neuron u16, 0 u16), sorted by step */
	S2_SECT_CURRENT = 7,  /**< DC steps: (step u32, neuron u16, 0 u16, amp f32 nA), sorted */
	S2_SECT_SLICES = 8,   /**< per descriptor of EXPAND: its projection's population slices */
	S2_SECT_CSOURCE = 9,  /**< current sources (s2_pe_csource entries, below) */
	S2_SECT_PARAMS2 =
	        10, /**< n_neurons (or 1) x S2_PE_PARAMS2 f32: more parameters (AdEx, HH, SFA) */
	S2_SECT_PLASTIC = 11, /**< plastic synapse rules (s2_pe_plastic entries, below) */
	S2_SECT__MAX = 11,
};

/*
 * A RECORD_V entry: bits 0-7 the neuron, bits 8-11 zero, bits 12-15 the variable recorded
 * every step (a f32 in recording stream 1, in the entries' order): 0-3 the STATE slot of
 * that index (0 v; 1, 2 the excitatory and inhibitory synaptic current or conductance of the
 * LIF and AdEx models, Izhikevich's u in 1), 4 and 5 the model's further state variables
 * (AdEx w in nA in 4). docs/pedata.md.
 */
#define S2_REC_VAR_SHIFT 12u
#define S2_REC_VARS 6u /**< variables 0..5 */
static inline unsigned s2_rec_neuron(uint16_t x)
{
	return x & 0xFFu;
}
static inline unsigned s2_rec_var(uint16_t x)
{
	return (unsigned)x >> S2_REC_VAR_SHIFT;
}

/**
 * A synaptic word: bits 0-6 target neuron, bit 7 receptor (0 excitatory, 1 inhibitory),
 * bits 8-15 delay - 1 (delay 1..256 timesteps; a PE holds up to s2_pe_max_delay(n_neurons)),
 * bits 16-31 weight (units of w_scale_e / w_scale_i).
 */
static inline uint32_t s2_syn_word(unsigned neuron, unsigned receptor, unsigned delay,
                                   unsigned weight)
{
	return (uint32_t)neuron | (uint32_t)receptor << 7 | (uint32_t)(delay - 1u) << 8 |
	       (uint32_t)weight << 16;
}
static inline unsigned s2_syn_neuron(uint32_t w)
{
	return w & 0x7Fu;
}
static inline unsigned s2_syn_receptor(uint32_t w)
{
	return (w >> 7) & 1u;
}
static inline unsigned s2_syn_delay(uint32_t w)
{
	return ((w >> 8) & 0xFFu) + 1u;
}
static inline unsigned s2_syn_weight(uint32_t w)
{
	return w >> 16;
}

/*
 * The input ring of a PE (docs/engine.md, "Delays"): S2_PE_RING_WORDS accumulators as slots
 * x 2 receptors x a neuron stride, the stride the power of two at or above the PE's neuron
 * count. Fewer neurons leave room for more slots, so longer delays: 64 slots (delays 1-64
 * steps) at 65-128 neurons, 128 at 33-64, 256 (the word's limit) at 32 or fewer.
 */
static inline unsigned s2_pe_ring_stride(unsigned n_neurons)
{
	unsigned s = 1;
	while (s < n_neurons)
		s <<= 1;
	return s;
}
/** Slots of the ring of a PE with n_neurons: its longest delay, in timesteps. */
static inline unsigned s2_pe_max_delay(unsigned n_neurons)
{
	unsigned slots = S2_PE_RING_WORDS / 2u / s2_pe_ring_stride(n_neurons);
	return slots < S2_PE_MAX_DELAY_WORD ? slots : S2_PE_MAX_DELAY_WORD;
}
/** The most neurons a PE may have to hold delays of up to `delay` timesteps (0: none). */
static inline unsigned s2_pe_neurons_for_delay(unsigned delay)
{
	if (delay > S2_PE_MAX_DELAY_WORD)
		return 0;
	unsigned n = S2_PE_RING_WORDS / 2u / s2_pe_ring_stride(delay ? delay : 1u);
	return n < S2_PE_MAX_NEURONS ? n : S2_PE_MAX_NEURONS;
}

/*
 * An event-layer word (models S2_MODEL_EGRU and S2_MODEL_DENSE, docs/egru.md): bits 0-7 target
 * neuron, bits 8-9 gate (EGRU: 0 u, 1 r, 2 cx, 3 ch; dense: 0), bits 10-15 zero, bits 16-31
 * the signed weight w_q (two's complement). Delay: always one timestep.
 */
#define S2_EV_GATES 4u
#define S2_EV_ONE 128 /**< the value of an event without payload (1.0 in units of 2^-7) */
#define S2_EV_MAX 255 /**< the largest event value a unit sends (unsigned 8 bits, Q1.7) */
static inline uint32_t s2_ev_word(unsigned neuron, unsigned gate, int weight)
{
	return (uint32_t)neuron | (uint32_t)gate << 8 | (uint32_t)(uint16_t)(int16_t)weight << 16;
}

/*
 * Sources. A table entry (explicit rows or an expansion descriptor) serves the keys
 * [key_lo, key_lo + n_keys) of a run of consecutive source parts: part i of the run sends
 * keys key_lo + (i << part_bits) + j for its neurons j < per_part (the last part may have
 * fewer). Key k selects row ((k - key_lo) >> part_bits) * per_part + ((k - key_lo) &
 * ((1 << part_bits) - 1)), the row of the run's neuron with that index, which is neuron
 * pre_lo + row of the pre population.
 *
 * Explicit rows section: entries of a 20-byte head, key_lo u32, n_keys u32, part_bits u8,
 * 0 u8, per_part u16, n_rows u32, stride u32 (words per row, >= 1), then n_rows x stride
 * u32 words. Word 0 of a row is its synapse count (<= stride - 1), then synaptic words.
 */

#define S2_PE_ROWS_HDR 20u

/** Does the run (key_lo, n_keys, part_bits, per_part) hold key k? Then *row is its row. */
static inline bool s2_pe_source_row(uint32_t key_lo, uint32_t n_keys, unsigned part_bits,
                                    unsigned per_part, uint32_t k, uint32_t *row)
{
	uint32_t off = k - key_lo;
	if (off >= n_keys)
		return false;
	uint32_t j = part_bits >= 32 ? off : off & ((1u << part_bits) - 1u);
	uint32_t part = part_bits >= 32 ? 0 : off >> part_bits;
	if (j >= per_part)
		return false;
	*row = part * per_part + j;
	return true;
}

/** Connectors of expansion descriptors. */
enum s2_pe_connector {
	S2_CONN_ALL_TO_ALL = 1,
	S2_CONN_ONE_TO_ONE = 2,
	S2_CONN_FIXED_PROB = 3,        /**< p */
	S2_CONN_FIXED_NUMBER_POST = 4, /**< each pre neuron: n targets of the post population */
	S2_CONN_FIXED_NUMBER_PRE = 5,  /**< each post neuron: n sources of the pre population */
	S2_CONN_FIXED_TOTAL = 6,       /**< n synapses between the slice and this PE, uniform */
};

/** Distributions of weights and delays. */
enum s2_pe_dist {
	S2_DIST_CONST = 0,   /**< a */
	S2_DIST_UNIFORM = 1, /**< [a, b) */
	S2_DIST_NORMAL = 2,  /**< mean a, s.d. b; weights clipped at 0, delays to 1..64 */
	/** mean a, s.d. b, redrawn while below the item's least value (weights: at or below 0;
	 *  delays: below one timestep, or half of one with S2_EXP_F_DELAY_HALF), as NEST's
	 *  redraw and PyNN's normal_clipped */
	S2_DIST_NORMAL_POS = 3,
};

#define S2_EXP_F_ALLOW_SELF 0x01u /**< pre == post allowed (same population) */
#define S2_EXP_F_SAME_POP 0x02u   /**< pre and post are the same population */
#define S2_EXP_F_REPLACE 0x04u    /**< fixed number: with replacement (multapses) */
/** normal_clipped delays redrawn below half a timestep, not one (then rounded: draws in
 *  [0.5, 1.5) steps make one step), as NEST's microcircuit model draws them since 2022
 *  (`min=nest.resolution - 0.5 * nest.resolution`) */
#define S2_EXP_F_DELAY_HALF 0x08u

/**
 * An expansion descriptor (64 bytes): the PE generates the rows for one run of source parts
 * itself. Layout: connector u8, receptor u8, flags u8, w_dist u8 | d_dist << 4; key_lo u32,
 * n_keys u32, pre_lo u32 (global index of the run's first neuron), n_pre u32, pre_total u32,
 * post_lo u32 (global index of this PE's first neuron), post_total u32, n u32, p f32, w_a f32,
 * w_b f32, d_a f32, d_b f32 (delays in timesteps), seed u32, part_bits u8, 0 u8, per_part
 * u16.
 */
struct s2_pe_expand {
	uint8_t connector, receptor, flags, w_dist, d_dist, part_bits;
	uint16_t per_part;
	uint32_t key_lo, n_keys, pre_lo, n_pre, pre_total, post_lo, post_total, n;
	float p, w_a, w_b, d_a, d_b; /* weights in weight units (see w_scale) */
	uint32_t seed;
	/* The projection's slices, [lo, lo + n) of each population (SLICES section, 16 bytes
	 * per descriptor: the four u32 in this order; without it, the whole populations).
	 * Connectors are drawn over the slices, in slice-local indices. */
	uint32_t pre_s_lo, pre_s_n, post_s_lo, post_s_n;
};
#define S2_PE_SLICE_LEN 16u

/**
 * Current sources (CSOURCE section, docs/pedata.md): entries of a 48-byte head, kind u8
 * (enum s2_pe_csrc_kind), 0 u8, n_points u16 (step kind; 0 otherwise), start u32 (first step
 * it acts in), stop u32 (first step it no longer acts in; 0xFFFFFFFF: never), mask of the
 * PE's neurons it feeds (16 bytes, neuron i is bit i & 7 of byte i >> 3), p0..p3 f32, 4 zero
 * bytes; then n_points x (step u32, amplitude f32 nA), steps ascending. The engine adds the
 * sum of the sources acting in a step to the neuron's i_offset (firmware/engine/csource.c).
 */
#define S2_PE_CSRC_HDR 48u
#define S2_PE_MAX_CSRC 16u /**< current sources per PE */
enum s2_pe_csrc_kind {
	S2_CSRC_DC = 1,    /**< p0 amplitude nA in [start, stop) */
	S2_CSRC_STEP = 2,  /**< the amplitude of the last point at or before the step (0 before) */
	S2_CSRC_AC = 3,    /**< p1 + p0 sin(2 pi (p2 Hz (t - start) + p3 / 360)) in [start, stop) */
	S2_CSRC_NOISY = 4, /**< p0 + p1 N(0, 1), drawn at start + k p2 steps, in [start, stop) */
};

/**
 * Plastic synapses (PLASTIC section, docs/pedata.md, docs/engine.md "Plasticity"): entries of
 * S2_PE_PLASTIC_LEN bytes: kind u8 (enum s2_pe_plastic_kind), flags u8 (S2_PL_F_*), entry u16
 * (the key-table entry the rule applies to, in the order the engine makes them: the ROWS
 * section's entries first, then one per EXPAND descriptor), 4 zero bytes, p0..p7 f32, 8 zero
 * bytes. Parameters per kind (times in ms, weights in the receptor's unit: nA, uS or mV):
 *   STDP (additive, multiplicative): w_min, w_max, tau_plus, tau_minus, A_plus, A_minus
 *   Tsodyks-Markram: U, tau_rec, tau_facil, tau_psc (0: the two-state limit; -1: each
 *                    post neuron's tau_syn of the receptor, 0 for delta synapses)
 *   Vogels 2011: w_min, w_max, tau, eta (weight unit), rho (Hz)
 * Every synapse of an STDP or Vogels entry has the same delay; rows of a plastic entry hold at most
 * S2_PE_PLASTIC_ROW_MAX synapses.
 */
#define S2_PE_PLASTIC_LEN 48u
#define S2_PE_MAX_PLASTIC 8u       /**< rules per PE */
#define S2_PE_PLASTIC_ROW_MAX 340u /**< synapses in a row of a plastic entry */
#define S2_PL_F_DENDRITIC 0x01u    /**< the delay is dendritic (PyNN's default), else axonal */
/** STDP and Vogels entries: the weight field of their synaptic words is the initial weight in
 *  units of w_max / S2_PL_WORD_ONE (not the receptor's unit). */
#define S2_PL_WORD_ONE 32768.0
enum s2_pe_plastic_kind {
	S2_PL_STDP_ADD = 1,  /**< SpikePairRule, AdditiveWeightDependence */
	S2_PL_STDP_MULT = 2, /**< SpikePairRule, MultiplicativeWeightDependence */
	S2_PL_TM = 3,        /**< TsodyksMarkramSynapse */
	S2_PL_VOGELS = 4,    /**< Vogels2011Rule, AdditiveWeightDependence bounds */
};

/** A decoded PE data header with its sections located (pointers into the blob). */
struct s2_pedata {
	uint16_t model, n_neurons, n_record_v, flags;
	uint32_t dt_us, key_base, seed, dram_base, dram_size;
	float w_scale_e, w_scale_i;
	float bg_rate_hz, bg_weight; /**< per-neuron background Poisson input (0: none) */
	/** The real-time budget (docs/engine.md "Real-time budget"): cycles per step, 0 when
	 *  the data sets none (nothing is counted); the modelled cost of a step is n_neurons x
	 *  cyc_update + events x cyc_event_x10 / 10 + packets x cyc_packet. */
	uint32_t budget, cyc_update;
	uint16_t cyc_event_x10, cyc_packet;
	const uint8_t *sect[S2_SECT__MAX + 1];
	uint32_t sect_len[S2_SECT__MAX + 1];
};

/**
 * Check a PE data blob: header, section table (in bounds, no overlap with the header, each
 * type once), and the sizes of the fixed-size sections against n_neurons/n_record_v. Trusts
 * nothing. Sections' contents are checked by their users (s2_pedata_expand_decode, the
 * engine). @return 0 or S2_E_SHORT, S2_E_MAGIC, S2_E_VERSION, S2_E_RANGE, S2_E_LENGTH,
 * S2_E_RESERVED, S2_E_FORMAT.
 */
int s2_pedata_decode(const uint8_t *buf, size_t len, struct s2_pedata *pd);

/**
 * Write the 64-byte header of a blob with n_sect sections from pd's fields (the layout above;
 * magic and version added; pd's sect pointers are not used): the one writer of the header,
 * for the mapper, the host tools and the tests. s2_pedata_decode reads back what it wrote.
 */
void s2_pedata_header_encode(uint8_t *out, const struct s2_pedata *pd, unsigned n_sect);

/** Decode expansion descriptor i of the EXPAND section (checks its fields). */
int s2_pedata_expand_decode(const struct s2_pedata *pd, unsigned i, struct s2_pe_expand *x);
/** Encode a descriptor's slices into out[0..S2_PE_SLICE_LEN) (the SLICES section). */
void s2_pedata_slice_encode(uint8_t *out, const struct s2_pe_expand *x);
/** Encode one descriptor into out[0..S2_PE_EXPAND_LEN). */
void s2_pedata_expand_encode(uint8_t *out, const struct s2_pe_expand *x);

/** Number of expansion descriptors. */
static inline unsigned s2_pedata_n_expand(const struct s2_pedata *pd)
{
	return pd->sect_len[S2_SECT_EXPAND] / S2_PE_EXPAND_LEN;
}

#endif
