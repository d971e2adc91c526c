/*
 * More LIF neurons for the engine (docs/engine.md, "Models"): current-based and
 * conductance-based LIF with alpha-function synapses (PyNN's IF_curr_alpha, IF_cond_alpha),
 * and LIF with delta synapses (IF_curr_delta, weights are voltage jumps). The parameter and
 * state layouts are the LIF ones (docs/pedata.md); the alpha models keep their second
 * synaptic variables (y_e, y_i) in the engine's izk slots, which only Izhikevich uses.
 */
#ifndef S2FW_LIF_ALPHA_H
#define S2FW_LIF_ALPHA_H

#include <stdbool.h>
#include <stdint.h>

struct s2_eng;

/** Is the model one of this file's (S2_MODEL_LIF_CURR_ALPHA, _COND_ALPHA, _CURR_DELTA)? */
bool s2_lif2_model(unsigned model);

/** Derive the per-neuron constants for timestep dt (start-up) and clear y_e, y_i. */
void s2_lif2_derive(struct s2_eng *e);

/** Derive the per-neuron constants again from new parameters; the state is kept. */
void s2_lif2_params(struct s2_eng *e);

/**
 * One step of every neuron: membrane update with this step's inputs in_e/in_i (ring units,
 * acting from the end of the step, as for IF_curr_exp); a neuron that fires gets its bit set
 * in fire (the caller sends the packets).
 */
void s2_lif2_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire);

#endif
