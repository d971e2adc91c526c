/*
 * Project-internal view of a network (mapping/include/s2/network.h): the validated protobuf
 * message with its cross references resolved, the neuron model table, and a small arena that
 * the JSON reader and the example generators build protobuf messages in before they are
 * packed, unpacked and validated like any other input.
 */
#ifndef S2_NET_INTERNAL_H
#define S2_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2pb/network.pb-c.h"

#define NET_MAX_PARAMS 20
#define NET_MAX_DELAY_STEPS 256u /* longest synaptic delay, in timesteps (S2_PE_MAX_DELAY_WORD) */
#define NET_MAX_POP_SIZE (1u << 30)
/* Cycles per multicast packet received (key lookup, row DMA), measured with the rest of the
 * model table's costs (bench/engine.sh "per packet"). */
#define NET_CYCLES_PACKET 376.0

enum net_model_id {
	MODEL_LIF_CURR_EXP,
	MODEL_POISSON,
	MODEL_SPIKE_ARRAY,
	MODEL_LIF_COND_EXP,
	MODEL_IZHIKEVICH,
	MODEL_NIR_NEURON,
	MODEL_EGRU,
	MODEL_DENSE,
	MODEL_LIF_CURR_ALPHA,
	MODEL_LIF_COND_ALPHA,
	MODEL_LIF_CURR_DELTA,
	MODEL_ADEX_COND_EXP,
	MODEL_HH_COND_EXP,
	MODEL_LIF_COND_SFA,
	MODEL__COUNT
};

struct net_param_def {
	const char *name;
	double def, min, max;
};

/* One neuron model: its parameters and state variables (with defaults and allowed range). */
struct net_model {
	const char *name;
	unsigned id;
	unsigned n_params;
	struct net_param_def params[NET_MAX_PARAMS];
	unsigned n_state;
	struct net_param_def state[4];
	unsigned max_per_pe; /* neurons per PE the firmware handles */
	/* The real-time budget (docs/mapping.md): Cortex-M4F cycles per neuron per step and per
	 * synaptic event received, measured under QEMU (bench/engine.sh, one instruction taken
	 * as one cycle; the step's fixed work spread over 128 neurons) */
	double cycles_update, cycles_event;
	unsigned sram_fixed; /* bytes of SRAM per neuron, before per-neuron parameters */
	bool has_synapses;   /* can be the post side of a projection */
	bool event_layer;    /* graded events, gate receptors, signed weights (docs/egru.md) */
};

const struct net_model *net_model_find(const char *name);
/** The JSON name of a projection receptor (network.proto enum), "?" if none. */
const char *net_receptor_name(int r);
/** The receptor of a JSON name, or -1. */
int net_receptor_find(const char *name);
const struct net_model *net_model_get(unsigned id);
/** Index of a parameter (or, with state = true, state variable) of m; -1 if none. */
int net_model_param(const struct net_model *m, const char *name, bool state);
/**
 * The engine's recorded variable (pedata.h RECORD_V, 0..S2_REC_VARS-1) for a variable of m
 * that can be recorded besides spikes: its state variables (v, the synaptic currents or
 * conductances, Izhikevich's u) and AdEx's w_na; -1 if the engine cannot record it.
 */
int net_model_record_var(const struct net_model *m, const char *var);
/** The list of model names, for error messages. */
const char *net_model_names(void);

struct s2_net {
	S2pb__Network *pb;                             /* owned, from s2pb__network__unpack */
	const struct net_model **model;                /* per population */
	uint32_t *pre, *post;                          /* per projection: population indices */
	uint32_t *pre_lo, *pre_hi, *post_lo, *post_hi; /* per projection: slices */
	uint64_t neurons;
};

/* ---- arena for building messages ------------------------------------------------------ */

struct net_arena {
	struct net_chunk *head;
	bool failed;
};

/** Zeroed memory from the arena; NULL (and a->failed set) when memory runs out. */
void *net_arena_alloc(struct net_arena *a, size_t n);
char *net_arena_strdup(struct net_arena *a, const char *s);
void net_arena_free(struct net_arena *a);

S2pb__Value *net_value_const(struct net_arena *a, double v);
S2pb__Value *net_value_dist(struct net_arena *a, S2pb__Distribution__Kind kind, double p1,
                            double p2, double low, double high);

/**
 * Pack a network built in an arena, unpack it and validate it: the one path by which every
 * input (binary, JSON, generated) becomes a network. @return NULL with err set on failure.
 */
struct s2_net *net_from_built(const S2pb__Network *built, char *err, size_t errlen);

__attribute__((format(printf, 3, 4))) void net_seterr(char *err, size_t errlen, const char *fmt,
                                                      ...);

/* The microcircuit example's published parameters (net_examples.c; checked against the
 * paper in tests/mapping/test_network.c). Index order L23E, L23I, L4E, L4I, L5E, L5I, L6E,
 * L6I; S2_MC_P[target][source]. */
extern const double S2_MC_N[8], S2_MC_P[8][8], S2_MC_K_EXT[8], S2_MC_RATES[8];
/** PSC amplitude (pA) of a 1 mV PSP peak of a current-based LIF neuron (C in pF, ms). */
double s2_mc_psc_per_psp(double cm_pf, double tau_m, double tau_s);
/** The numeric field of a plastic synapse named key (docs/network.md "synapse": w_min,
 *  tau_plus_ms, ...), or NULL: the one table the JSON reader and the builder use. */
double *net_synapse_num(S2pb__Synapse *s, const char *key);
/** Synapses from population s to t at full scale: log(1 - p) / log(1 - 1 / (N_s N_t)). */
double s2_mc_synapses(int t, int s);

#endif
