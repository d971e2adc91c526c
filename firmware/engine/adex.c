/*
 * AdEx (adex.h, docs/engine.md):
 *   C v' = g_L (E_L - v) + g_L dT exp((v - V_T) / dT) + g_e (E_e - v) + g_i (E_i - v)
 *          + i_offset - w           (held at v_reset while refractory)
 *   tau_w w' = a (v - E_L) - w,  g' = -g / tau_syn
 * v > v_spike: v = v_reset, w += b, refractory for round(tau_refrac / dt) steps. One step of
 * classical RK4 over (v, w, g_e, g_i) in double precision (software doubles on Cortex-M4F,
 * IEEE-exact: the same bits on every build; the exponential from fmath's float exp); this
 * step's synaptic input is added at the end of the step, as for lif_cond_exp.
 */
#include "adex.h"

#include "model_params.h"
#include "rk4.h"

enum { K_REF = 3, K_A = 4, K_B = 5, K_DT = 6, K_TAU_W = 7 };

bool s2_adex_params_ok(const struct s2_pedata *pd, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		float q[S2_PE_PARAMS2]; /* a, b, delta_T, tau_w */
		s2_eng_params2(pd, i, q);
		if (!(q[2] > 0 && q[3] > 0 && q[2] < 1e6f && q[3] < 1e9f && q[0] == q[0] &&
		      q[1] == q[1]))
			return false;
	}
	return true;
}

void s2_adex_params(struct s2_eng *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		float q[S2_PE_PARAMS2];
		s2_eng_params2(&e->pd, i, q);
		for (unsigned j = 0; j < 4; j++) /* a, b, delta_T, tau_w */
			e->k[i][K_A + j] = q[j];
		e->k[i][K_REF] = s2_eng_refrac_steps(e, i);
	}
}

void s2_adex_derive(struct s2_eng *e)
{
	s2_adex_params(e);
	for (unsigned i = 0; i < e->n; i++)
		e->izk[i][0] = 0; /* w */
}

struct adx {
	double gl, el, vt, dt_, ee, ei, ie, cm, a, tw, te, ti;
	bool refr;
};

/* The derivatives at (v, w, ge, gi); v' is 0 while refractory. */
static void deriv(const void *ctx, const double *x, double *d)
{
	const struct adx *p = ctx;
	double v = x[0], w = x[1], ge = x[2], gi = x[3];
	double ex = (double)s2f_exp((float)((v - p->vt) / p->dt_));
	d[0] = p->refr ? 0.0
	               : (p->gl * (p->el - v) + p->gl * p->dt_ * ex + ge * (p->ee - v) +
	                  gi * (p->ei - v) + p->ie - w) /
	                         p->cm;
	d[1] = (p->a * (v - p->el) - w) / p->tw;
	d[2] = -ge / p->te;
	d[3] = -gi / p->ti;
}

void s2_adex_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire)
{
	double h = e->dt_ms, we = e->pd.w_scale_e, wi = e->pd.w_scale_i;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i], *k = e->k[i];
		float *s = e->state[i];
		/* units: mV, ms, nF, uS, nA (a in nS / 1000 = uS) */
		bool refr = s[S_REFRAC] > 0;
		struct adx c = {p[P_CM] / p[P_TAU_M],
		                p[P_V_REST],
		                p[P_V_THRESH],
		                k[K_DT],
		                p[P_E_REV_E],
		                p[P_E_REV_I],
		                p[P_I_OFFSET],
		                p[P_CM],
		                k[K_A] * 1e-3,
		                k[K_TAU_W],
		                p[P_TAU_E],
		                p[P_TAU_I],
		                refr};
		double x[4] = {refr ? p[P_V_RESET] : s[S_V], e->izk[i][0], s[S_E], s[S_I]};
		s2_rk4_step(deriv, &c, x, 4, h);
		if (refr) {
			s[S_REFRAC] -= 1.0f;
			x[0] = p[P_V_RESET];
		} else if (x[0] > p[P_V_SPIKE]) {
			x[0] = p[P_V_RESET];
			x[1] += k[K_B];
			s[S_REFRAC] = k[K_REF];
			fire[i >> 3] |= (uint8_t)(1u << (i & 7));
		}
		s[S_V] = (float)x[0];
		e->izk[i][0] = x[1];
		s[S_E] = (float)(x[2] + (double)in_e[i] * we);
		s[S_I] = (float)(x[3] + (double)in_i[i] * wi);
	}
	e->c.neuron_updates += e->n;
}
