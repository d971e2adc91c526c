/*
 * What the engine's LIF-family models share (docs/pedata.md, docs/engine.md "Models"): the
 * parameter and state layout of the LIF models, which lif_alpha.c and adex.c read, and the
 * loading of the PARAMS2 section (AdEx, HH_cond_exp, IF_cond_exp_gsfa_grr) and of the refractory
 * period in steps. Internal to firmware/engine.
 */
#ifndef S2FW_MODEL_PARAMS_H
#define S2FW_MODEL_PARAMS_H

#include <string.h>

#include "engine.h"
#include "s2/wire.h"

/* Parameter slots of the LIF layout (docs/pedata.md); AdEx has v_spike in slot 11. */
enum {
	LP_V_REST,
	LP_V_RESET,
	LP_V_THRESH,
	LP_TAU_M,
	LP_CM,
	LP_TAU_REFRAC,
	LP_TAU_E,
	LP_TAU_I,
	LP_I_OFFSET,
	LP_E_REV_E,
	LP_E_REV_I,
	LP_V_SPIKE
};
/* State slots: v, the excitatory and inhibitory current or conductance, refractory steps. */
enum { LS_V, LS_E, LS_I, LS_REFRAC };
/* The short names lif_alpha.c and adex.c use for the same slots. */
enum {
	P_V_REST = LP_V_REST,
	P_V_RESET = LP_V_RESET,
	P_V_THRESH = LP_V_THRESH,
	P_TAU_M = LP_TAU_M,
	P_CM = LP_CM,
	P_TAU_E = LP_TAU_E,
	P_TAU_I = LP_TAU_I,
	P_I_OFFSET = LP_I_OFFSET,
	P_E_REV_E = LP_E_REV_E,
	P_E_REV_I = LP_E_REV_I,
	P_V_SPIKE = LP_V_SPIKE
};
enum { S_V = LS_V, S_E = LS_E, S_I = LS_I, S_REFRAC = LS_REFRAC };

/** Copy neuron i's PARAMS2 values of pd (a row per neuron, or one shared row) into
 *  out[0..S2_PE_PARAMS2) (engine.c: one copy for every model). */
void s2_eng_params2(const struct s2_pedata *pd, unsigned i, float *out);

/** The refractory period in whole steps, round(tau_refrac / dt), as every LIF model. */
static inline float s2_eng_refrac_steps(const struct s2_eng *e, unsigned i)
{
	return (float)(int)(e->params[i][LP_TAU_REFRAC] / e->dt_ms + 0.5f);
}

#endif
