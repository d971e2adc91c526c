/*
 * The single-compartment Hodgkin-Huxley neuron of Traub & Miles (1991) with conductance-based
 * exponential synapses, PyNN's HH_cond_exp, for the engine (docs/engine.md, "Models").
 * Parameters (docs/pedata.md): e_rev_leak, v_offset, gbar_Na, gbar_K, cm, g_leak, tau_syn_E,
 * tau_syn_I, i_offset, e_rev_E, e_rev_I, e_rev_Na in the 12 PARAMS slots (cm, the synaptic
 * time constants, i_offset and the synaptic reversal potentials where the LIF layout has
 * them), e_rev_K in PARAMS2 slot 0. State: v, g_e, g_i as the LIF models; v also in the
 * engine's double slot 0; m, h, n (floats) in derived-constant slots 1-3.
 */
#ifndef S2FW_HH_H
#define S2FW_HH_H

#include <stdbool.h>
#include <stdint.h>

struct s2_eng;

/** Parameters in range (cm, tau_syn > 0, conductances >= 0)? */
bool s2_hh_params_ok(const float *p);

/** Read PARAMS2, set m, h, n to PyNN's initial 0, 1, 0 and v from the state (start-up). */
void s2_hh_derive(struct s2_eng *e);

/** Derive again after new parameters (pause and resume): the state is kept. */
void s2_hh_params(struct s2_eng *e);

/** One step of every neuron (RK4 in double precision, sub-steps of at most 10 us); a neuron
 *  whose v crosses -40 mV upwards in the step gets its bit in fire. */
void s2_hh_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire);

#endif
