/*
 * The adaptive exponential integrate-and-fire neuron with conductance-based exponential
 * synapses (Brette & Gerstner 2005; PyNN's EIF_cond_exp_isfa_ista) for the engine
 * (docs/engine.md, "Models"). Parameters: the LIF conductance layout of docs/pedata.md with
 * v_spike in slot 11, and a (nS), b (nA), delta_T (mV), tau_w (ms) in the PARAMS2 section,
 * kept in the derived-constant slots 4-7; the adaptation current w (nA) in the engine's
 * double slot 0 (which only Izhikevich and the alpha models use otherwise).
 */
#ifndef S2FW_ADEX_H
#define S2FW_ADEX_H

#include <stdbool.h>
#include <stdint.h>

struct s2_eng;
struct s2_pedata;

/** PARAMS2 of pd in range for its n neurons (delta_T, tau_w > 0, a and b numbers)? */
bool s2_adex_params_ok(const struct s2_pedata *pd, unsigned n);

/** Derive the per-neuron constants from the parameters; the state is kept (pause and
 *  resume: new parameters). */
void s2_adex_params(struct s2_eng *e);

/** Read PARAMS2 and derive the per-neuron constants (start-up); w starts at 0. */
void s2_adex_derive(struct s2_eng *e);

/** One step of every neuron (RK4 in double precision); fired neurons get their bit in fire. */
void s2_adex_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire);

#endif
