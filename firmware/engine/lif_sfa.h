/*
 * LIF with conductance-based exponential synapses, spike-frequency adaptation and a relative
 * refractory mechanism (Muller et al. 2007; PyNN's IF_cond_exp_gsfa_grr, NEST's
 * iaf_cond_exp_sfa_rr) for the engine (docs/engine.md, "Models"). Parameters: the LIF
 * conductance layout of docs/pedata.md with tau_sfa in slot 11; e_rev_sfa, q_sfa (nS), tau_rr,
 * e_rev_rr, q_rr (nS) in PARAMS2. State: the LIF one, g_s and g_r (nS, PyNN's unit for them)
 * in the double slots 0 and 1.
 */
#ifndef S2FW_LIF_SFA_H
#define S2FW_LIF_SFA_H

#include <stdbool.h>
#include <stdint.h>

struct s2_eng;
struct s2_pedata;

/** Parameters in range (the LIF ones, tau_sfa and tau_rr > 0, q_sfa, q_rr >= 0)? */
bool s2_sfa_params_ok(const struct s2_pedata *pd, const float (*params)[12], unsigned n);

/** Derive the per-neuron constants; the state is kept (start-up: g_s, g_r start at 0). */
void s2_sfa_params(struct s2_eng *e);

/** One step of every neuron; fired neurons get their bit in fire. */
void s2_sfa_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire);

#endif
