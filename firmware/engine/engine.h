/*
 * The neuron and synapse engine of an application PE (docs/engine.md).
 *
 * Event-driven: the timer calls s2_eng_tick() once per timestep; every multicast packet that
 * reaches the PE is handed to s2_eng_receive(). A packet's key selects a synaptic row (key
 * table, rows in chip DRAM fetched by DMA); the row's weights are added into per-delay ring
 * buffers; at each tick the ring slot of that timestep feeds the neurons, which are updated
 * and send a packet (key_base + index) when they spike.
 *
 * Time: s2_eng_tick() computes timestep e->t and then increments it. A neuron that spikes in
 * step t spikes at the end of the step, time (t + 1) dt. A packet that arrives after that
 * tick with delay d lands in ring slot t + d, which step t + d adds to the synapses at its
 * end, after the membrane update: the input acts from time (t + 1 + d) dt, exactly d
 * timesteps after the spike (as in NEST and Brian2).
 *
 * Memory: everything lives in struct s2_eng (no allocation); the largest part is the ring
 * buffer (32 KiB: 64 slots x 2 receptors x 128 neurons x 16 bits; with fewer neurons, more
 * slots for longer delays, up to 256: pedata.h s2_pe_max_delay). The same source runs on
 * Cortex-M4F (SRAM) and in the emulator; results are bit-identical (fmath.h, no FMA).
 */
#ifndef S2FW_ENGINE_H
#define S2FW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csource.h"
#include "fmath.h"
#include "plastic.h"
#include "s2/pedata.h"

/** What the engine needs from below: DMA to chip DRAM, the router, recording. */
struct s2_eng_hal {
	void *ctx;
	/** Copy len bytes of chip DRAM at addr into dst (a DMA read). 0 or a negative code. */
	int (*dram_read)(void *ctx, uint32_t addr, void *dst, uint32_t len);
	/** Copy len bytes from src into chip DRAM at addr (a DMA write). */
	int (*dram_write)(void *ctx, uint32_t addr, const void *src, uint32_t len);
	/** Send a multicast packet with this key; with a 32-bit payload when payload is not NULL
	 *  (the graded events of event layers, docs/egru.md). */
	void (*send)(void *ctx, uint32_t key, const uint32_t *payload);
	/** Append len bytes to recording stream 0 (spikes) or 1 (voltages and the other
	 *  recorded state variables, pedata.h RECORD_V). */
	void (*record)(void *ctx, unsigned stream, const void *data, uint32_t len);
	/** Optional (NULL: the modelled cost): the core's free-running cycle counter (DWT
	 *  CYCCNT on a Cortex-M4F, s2_port_cycles). With it the engine measures each step's
	 *  busy cycles (its tick and the packets received since the last one) against the
	 *  budget; without it it counts the cost the PE data models (docs/engine.md "Real-time
	 *  budget"), which is what s2emu and the QEMU build do. */
	uint32_t (*cycles)(void *ctx);
};

/** Activity counters (energy accounting, docs/engine.md). */
struct s2_eng_counters {
	uint64_t steps;           /**< timesteps computed */
	uint64_t neuron_updates;  /**< neuron state updates */
	uint64_t synaptic_events; /**< synaptic words processed */
	uint64_t spikes_sent;     /**< packets sent */
	uint64_t packets_in;      /**< packets received */
	uint64_t packets_unknown; /**< of which matched no key table entry (dropped, counted) */
	uint64_t dma_bytes;       /**< bytes moved by DMA (rows, expansion) */
	uint64_t ring_saturated;  /**< values clipped: ring-buffer additions at the 16-bit maximum;
	                               event layers: event values at S2_EV_MAX, accumulator
	                               overflows (docs/egru.md) */
	uint64_t bg_inputs;       /**< background Poisson input spikes (pedata bg_rate_hz) */
	/* Synapses the PE drew (expansion) whose values the engine cannot hold: */
	uint64_t weights_zero;    /**< a drawn weight that became 0 units (rounded, or negative) */
	uint64_t weights_clipped; /**< a weight above 65535 units, stored as 65535 */
	uint64_t delays_clamped;  /**< a delay outside 1 to max_delay steps, stored as 1 or it */
	/* The real-time budget (pedata budget cycles per step; 0: neither is counted): */
	uint64_t steps_over;     /**< steps whose cycles exceeded the budget */
	uint64_t worst_permille; /**< the costliest step's cycles, in thousandths of the budget */
};

/** A key-table entry: a run of source parts (pedata.h) and its rows in DRAM. */
struct s2_eng_entry {
	uint32_t key_lo, n_keys;
	uint32_t index, data; /* DRAM: one index word per row ((offset << 11) | count), rows */
	uint32_t n_rows;
	uint16_t per_part;
	uint8_t part_bits;
	uint8_t plastic;  /* 0, or 1 + its rule in struct s2_plastic (plastic.h) */
	uint16_t ord;     /* the order the engine made it in (explicit rows, then descriptors) */
	uint64_t max_end; /* the largest key_lo + n_keys of this and every earlier entry */
};

/** Entries of the background input's precomputed CDF (struct s2_eng). */
#define S2_ENG_BG_CDF 40u
/** Refractory periods longer than this many steps are refused at load (S2_E_RANGE): the
 *  step count is held in a float (exact to 2^24) and made by a float-to-int conversion. */
#define S2_ENG_REFRAC_MAX 16777216.0f

struct s2_eng {
	struct s2_eng_hal hal;
	/** Optional, set by a host with caches after s2_eng_init (NULL on silicon): a host
	 *  pointer to the len bytes of chip DRAM at addr (called with hal.ctx) when the host
	 *  holds them contiguously, else NULL. Only s2_eng_prefetch() uses it, to warm the
	 *  caches; nothing read through it reaches a result or a counter. */
	const void *(*dram_peek)(void *ctx, uint32_t addr, uint32_t len);
	struct s2_pedata pd;
	uint32_t t; /**< next timestep to compute */
	uint16_t n;
	uint16_t model;
	float params[S2_PE_MAX_NEURONS][S2_PE_PARAMS];
	float state[S2_PE_MAX_NEURONS][S2_PE_STATE];
	/* Per-neuron constants derived at start-up (decay factors). */
	float k[S2_PE_MAX_NEURONS][8];
	/** state in double precision: Izhikevich v, u; alpha y_e, y_i; AdEx w; HH v; SFA g_s, g_r
	 */
	double izk[S2_PE_MAX_NEURONS][2];
	union {
		/* (slot & ring_mask) << ring_shift | receptor << stride_bits | neuron: slots x
		 * 2 receptors x the neuron stride (pedata.h s2_pe_ring_stride) */
		uint16_t ring[S2_PE_RING_WORDS];
		/* Event layers (docs/egru.md): per step parity, gate and unit, the integer sum of
		 * weight x event value of the events that arrived for that step. */
		int32_t acc[2][S2_EV_GATES][S2_PE_MAX_NEURONS];
	};
	uint32_t ring_mask;  /**< ring slots - 1 (s2_pe_max_delay(n) slots) */
	uint8_t ring_shift;  /**< log2(2 x neuron stride) */
	uint8_t stride_bits; /**< log2(neuron stride) */
	uint16_t max_delay;  /**< the longest delay the ring holds, timesteps */
	uint16_t record_v[S2_PE_MAX_RECORD_V];
	float vbuf[S2_PE_MAX_RECORD_V]; /**< one step's recorded values (RECORD_V) */
	struct s2_eng_entry table[S2_PE_MAX_TABLE];
	unsigned n_table;
	uint32_t row[S2_PE_ROW_MAX + 1]; /**< DMA buffer for one row */
	uint32_t spike_next;             /**< next entry of the SPIKES section */
	uint32_t current_next;           /**< next entry of the CURRENT section */
	struct s2f_rng rng;
	uint8_t inject[S2_PE_MAX_NEURONS / 8]; /**< neurons made to spike in the next tick */
	unsigned n_inject;
	float dt_ms;
	int32_t ev_lim; /**< event layers: the accumulator bound (2^23 - 1 or 2^31 - 1) */
	/* Background Poisson input (docs/engine.md): per step and neuron a Poisson count of mean
	 * bg_chunks x bg_lam, drawn as bg_chunks counts of mean bg_lam (exp(-bg_lam) = bg_p0). */
	float bg_lam, bg_p0, bg_w;
	unsigned bg_chunks;
	struct s2_csrc cs;    /**< current sources (csource.h) */
	struct s2_plastic pl; /**< plastic synapses (plastic.h) */
	/* The Poisson CDF of mean bg_lam at 0..bg_top, as bg_count's sequential search sums it
	 * (the same operations, so the same floats), and its term at bg_top. */
	float bg_cdf[S2_ENG_BG_CDF], bg_top_p;
	unsigned bg_top;
	struct s2_eng_counters c;
	/* the budget's count: counters at the end of the previous step; measured busy cycles
	 * since then (hal.cycles) */
	uint64_t bud_ev, bud_pk;
	uint32_t bud_busy;
};

/** The input ring's accumulator of receptor rec, neuron j for step t (pedata.h
 *  s2_pe_max_delay: the ring's shape depends on the PE's neuron count). */
static inline uint16_t *s2_eng_ring_slot(struct s2_eng *e, uint32_t t, unsigned rec, unsigned j)
{
	return &e->ring[(t & e->ring_mask) << e->ring_shift | rec << e->stride_bits | j];
}

/**
 * Start the engine on a PE data blob (pedata.h): check it, derive constants, copy explicit
 * rows to DRAM and expand the statistical connectors into DRAM rows, deterministically.
 * The blob must stay valid while the engine runs (spike times and currents are read from it).
 * @return 0, or a negative S2_E_ code (bad data, rows not fitting the DRAM area or the key
 *         table, a DMA failure).
 */
int s2_eng_init(struct s2_eng *e, const uint8_t *pedata, size_t len, const struct s2_eng_hal *hal);

/** A multicast packet arrived, with its 32-bit payload if payload is not NULL (an event
 *  value of an event layer; a packet without one has the value 1, S2_EV_ONE). */
void s2_eng_receive(struct s2_eng *e, uint32_t key, const uint32_t *payload);

/**
 * Packets with these n keys will be received next, in this order: fetch the key-table rows
 * they select into the host's caches (through e->dram_peek), so that the s2_eng_receive()
 * calls that follow do not wait for memory one row at a time. A hint for hosts with caches
 * (the emulator): it reads only, changes no state and no counter, and does nothing without
 * dram_peek. At most S2_ENG_PREFETCH keys are looked at.
 */
void s2_eng_prefetch(const struct s2_eng *e, const uint32_t *keys, unsigned n);
#define S2_ENG_PREFETCH 32u

/**
 * The same for the input ring-buffer slots that the rows of these keys will add to: best
 * called once the rows have had time to arrive (after s2_eng_prefetch of the next batch).
 */
void s2_eng_prefetch_ring(const struct s2_eng *e, const uint32_t *keys, unsigned n);

/**
 * Make neuron i of a spike source (Poisson or spike array) spike in the next step computed,
 * once, whatever its own schedule (a spike injected by the host; one spike per step at most).
 * @return 0, S2_E_RANGE (no neuron i), or S2_E_STATE (the PE is not a spike source).
 */
int s2_eng_inject(struct s2_eng *e, unsigned i);

/**
 * Between runs (pause and resume, docs/engine.md): take new PE data for the same network and
 * keep the state (neurons, synaptic rings, random stream, step, DRAM rows). What may differ
 * from the data the engine runs on: the parameters (neuron parameters, Poisson rates), the
 * spike times (SPIKES; those before the current step are ignored), the DC steps (CURRENT;
 * likewise), the current sources (CSOURCE: they act from the current step, a step source's
 * points up to it applied), the background input, and the initial state (STATE: each state
 * value whose initial value differs from the previous data's is set to it, PyNN's
 * initialize() between runs; the others go on). Anything else (model, neurons, timestep,
 * keys, seed, recording, rows, connectors) must be byte-identical. On success the engine
 * reads spike times and currents from pedata from then on (it must stay valid).
 * @return 0; S2_E_STATE: something that cannot change differs (nothing is changed); the
 *         errors of s2_pedata_decode; S2_E_RANGE: a parameter out of range (nothing changed).
 */
int s2_eng_update(struct s2_eng *e, const uint8_t *pedata, size_t len);

/** Compute one timestep: inputs, neuron updates, spikes out, recording. */
void s2_eng_tick(struct s2_eng *e);

#endif
