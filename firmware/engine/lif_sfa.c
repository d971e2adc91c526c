/*
 * IF_cond_exp_gsfa_grr (lif_sfa.h, docs/engine.md):
 *   C v' = g_L (E_L - v) + g_e (E_e - v) + g_i (E_i - v) + g_s (E_s - v) + g_r (E_r - v)
 *          + i_offset
 *   g' = -g / tau for g_e, g_i, g_s (tau_sfa), g_r (tau_rr)
 * v >= v_thresh: v = v_reset for round(tau_refrac / dt) steps, g_s += q_sfa, g_r += q_rr (the
 * conductances decay on while refractory, as NEST's iaf_cond_exp_sfa_rr). Exponential Euler
 * with every conductance at its exact mean over the step, as lif_cond_exp; this step's
 * synaptic input and the spike's increments are added at the end of the step.
 */
#include "lif_sfa.h"

#include "model_params.h"

enum { P_TAU_SFA = 11 };
/* PARAMS2 */
enum { Q_E_SFA, Q_Q_SFA, Q_TAU_RR, Q_E_RR, Q_Q_RR };
/* derived */
enum { K_REF, K_DE, K_DI, K_DS, K_DR, K_ES, K_ER, K_TAU_RR };

bool s2_sfa_params_ok(const struct s2_pedata *pd, const float (*params)[12], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		float q[S2_PE_PARAMS2];
		s2_eng_params2(pd, i, q);
		if (!(params[i][P_TAU_SFA] > 0 && q[Q_TAU_RR] > 0 && q[Q_Q_SFA] >= 0 &&
		      q[Q_Q_RR] >= 0 && q[Q_E_SFA] == q[Q_E_SFA] && q[Q_E_RR] == q[Q_E_RR] &&
		      q[Q_TAU_RR] < 1e9f && q[Q_Q_SFA] < 1e6f && q[Q_Q_RR] < 1e6f))
			return false;
	}
	return true;
}

void s2_sfa_params(struct s2_eng *e)
{
	float dt = e->dt_ms;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i];
		float *k = e->k[i], q[S2_PE_PARAMS2];
		s2_eng_params2(&e->pd, i, q);
		k[K_REF] = s2_eng_refrac_steps(e, i);
		k[K_DE] = s2f_exp(-dt / p[LP_TAU_E]);
		k[K_DI] = s2f_exp(-dt / p[LP_TAU_I]);
		k[K_DS] = s2f_exp(-dt / p[P_TAU_SFA]);
		k[K_DR] = s2f_exp(-dt / q[Q_TAU_RR]);
		k[K_ES] = q[Q_E_SFA];
		k[K_ER] = q[Q_E_RR];
		k[K_TAU_RR] = q[Q_TAU_RR];
	}
}

void s2_sfa_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire)
{
	float we = e->pd.w_scale_e, wi = e->pd.w_scale_i, dt = e->dt_ms;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i], *k = e->k[i];
		float *s = e->state[i];
		float v = s[LS_V], gs = (float)e->izk[i][0], gr = (float)e->izk[i][1];
		bool spiked = false;
		if (s[LS_REFRAC] > 0) {
			s[LS_REFRAC] -= 1.0f;
			v = p[LP_V_RESET];
		} else {
			/* each conductance at its mean over the step: g0 tau / dt (1 - decay) */
			float ge = s[LS_E] * (p[LP_TAU_E] / dt * (1.0f - k[K_DE]));
			float gi = s[LS_I] * (p[LP_TAU_I] / dt * (1.0f - k[K_DI]));
			/* g_s, g_r are held in nS (PyNN's unit for them) */
			float gsm = gs * 1e-3f * (p[P_TAU_SFA] / dt * (1.0f - k[K_DS]));
			float grm = gr * 1e-3f * (k[K_TAU_RR] / dt * (1.0f - k[K_DR]));
			float g_l = p[LP_CM] / p[LP_TAU_M];
			float g = g_l + ge + gi + gsm + grm;
			float v_inf =
			        (g_l * p[LP_V_REST] + ge * p[LP_E_REV_E] + gi * p[LP_E_REV_I] +
			         gsm * k[K_ES] + grm * k[K_ER] + p[LP_I_OFFSET]) /
			        g;
			v = v_inf + (v - v_inf) * s2f_exp(-dt * g / p[LP_CM]);
			if (v >= p[LP_V_THRESH]) {
				v = p[LP_V_RESET];
				s[LS_REFRAC] = k[K_REF];
				fire[i >> 3] |= (uint8_t)(1u << (i & 7));
				spiked = true;
			}
		}
		s[LS_V] = v;
		gs *= k[K_DS];
		gr *= k[K_DR];
		if (spiked) { /* the quanta (nS), read at the spike only */
			float q[S2_PE_PARAMS2];
			s2_eng_params2(&e->pd, i, q);
			gs += q[Q_Q_SFA];
			gr += q[Q_Q_RR];
		}
		e->izk[i][0] = gs;
		e->izk[i][1] = gr;
		s[LS_E] = s[LS_E] * k[K_DE] + (float)in_e[i] * we;
		s[LS_I] = s[LS_I] * k[K_DI] + (float)in_i[i] * wi;
	}
	e->c.neuron_updates += e->n;
}
