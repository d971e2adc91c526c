/**
 * @file energy.h
 * @brief The energy model (docs/energy.md): activity counters to joules, exactly over windows.
 *
 * A chip reports raw, monotonic counters (enum s2_live_counter, stream samples). Energy over a
 * window is the model applied to the counters' increase between the samples that bound it —
 * never power samples multiplied by intervals — so a missing sample loses nothing (the next
 * one covers the gap) and counters that wrap (hardware counters of `counter_bits` bits) are
 * unwrapped sample to sample. Static power is a rate times the window's duration. Where a
 * board measures energy (the ENERGY_UJ counter), that is used instead, and said so.
 */
#ifndef S2_ENERGY_H
#define S2_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/live.h"

#define S2_ENERGY_MODEL_VERSION "s2-energy-model-2"

/**
 * The host's power per busy core, for the estimate of what the host spent where it exposes no
 * RAPL counter: CPU time x this figure, labelled estimated. The one definition of it: the EGRU
 * baseline (python/s2_egru/energy.py) reads it from here.
 */
#define S2_ENERGY_HOST_W_PER_CORE 3.9
#define S2_ENERGY_HOST_W_SOURCE                                                           \
	"AMD EPYC 9755 TDP 500 W / 128 cores (AMD product specifications): an upper-end " \
	"average of a fully loaded socket, not a measurement"

/** Performance levels of a PE (brief: 150 MHz at 0.5 V and 300 MHz at 0.8 V among them). */
enum s2_pl { S2_PL_LOW = 0, S2_PL_HIGH = 1, S2_PL_COUNT };

/** Dynamic components, in the order of the report. */
enum s2_energy_part {
	S2_EP_NEURON_UPDATES,
	S2_EP_SYNAPTIC_EVENTS,
	S2_EP_SPIKES_SENT,
	S2_EP_PACKETS_IN,
	S2_EP_PACKETS_ROUTED,
	S2_EP_DMA_BYTES,
	S2_EP_COUNT
};

struct s2_energy_model {
	char version[64];        /**< S2_ENERGY_MODEL_VERSION, "+custom" if anything was set */
	unsigned pl;             /**< the performance level the PEs run at */
	double mhz[S2_PL_COUNT]; /**< clock per level */
	double volts[S2_PL_COUNT];
	double chip_idle_w;   /**< a powered chip, nothing running */
	double chip_busy_w;   /**< a chip with every PE busy at the high level */
	double board_other_w; /**< a board beyond its chips (controller, Ethernet, regulators) */
	double cycles[S2_EP_COUNT]; /**< PE cycles per counted item (routed packets, DMA bytes: 0)
	                             */
	double j_packet_routed;     /**< per router traversal */
	double j_dma_byte;          /**< per byte moved by DMA (DRAM included) */
	unsigned counter_bits;      /**< width of the chips' counters (64 on s2emu) */
	double host_w_per_core;     /**< the host's estimate: W per busy core (CPU time) */
};

/** Model version 1 with its published or derived constants (docs/energy.md). */
void s2_energy_model_default(struct s2_energy_model *m);

/**
 * Override constants from "name = value" lines (names as in docs/energy.md; '#' comments).
 * 0, or S2_E_FORMAT / S2_E_RANGE with err naming the line and the reason (m unchanged then).
 */
int s2_energy_model_parse(struct s2_energy_model *m, const char *text, char *err, size_t errlen);

/**
 * s2_energy_model_parse() of a file of at most 1 MiB.
 * @return 0; S2_E_IO: the file cannot be read, err "PATH: reason" (errno's); S2_E_NOMEM;
 *         S2_E_FORMAT / S2_E_RANGE: a line is wrong, err "PATH: line N: ..."; m unchanged on
 *         failure.
 */
int s2_energy_model_load(struct s2_energy_model *m, const char *path, char *err, size_t errlen);

/** Energy of one PE cycle at a level, joules: (busy - idle chip power) / (152 PEs x clock),
 * scaled by voltage squared from the high level. */
double s2_energy_j_per_cycle(const struct s2_energy_model *m, unsigned pl);

/**
 * Static power an application PE adds at the model's level, watts: the idle chip's power
 * spread over its 152 PEs (idle PEs sit at the low level), scaled by voltage squared to the
 * model's level, minus that idle share. 0 at the low level.
 */
double s2_energy_pe_active_w(const struct s2_energy_model *m);

/** Joules per counted item of each part at the model's level. */
void s2_energy_unit_j(const struct s2_energy_model *m, double out[S2_EP_COUNT]);

/** Increase of a counter of `bits` bits from `from` to `to` (one wrap at most between). */
uint64_t s2_energy_delta(uint64_t from, uint64_t to, unsigned bits);

/** One chip's sample (a stream ENERGY record). */
struct s2_energy_point {
	uint64_t time_us; /**< the board's clock */
	uint32_t step;
	uint64_t c[S2_LIVE_COUNTERS];
};

/**
 * Counters' increase over samples [first, last] of a chip's series (in order of time),
 * unwrapped sample to sample: out[k] for every counter.
 */
void s2_energy_increase(const struct s2_energy_model *m, const struct s2_energy_point *p,
                        size_t first, size_t last, uint64_t out[S2_LIVE_COUNTERS]);

/**
 * Dynamic joules of counter increases, per part (parts may be NULL); returns the total.
 * With a measured energy counter (ENERGY_UJ increase > 0) the caller should prefer it.
 */
double s2_energy_dynamic_j(const struct s2_energy_model *m, const uint64_t inc[S2_LIVE_COUNTERS],
                           double parts[S2_EP_COUNT]);

#endif
