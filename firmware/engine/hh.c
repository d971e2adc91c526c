/*
 * HH_cond_exp (hh.h, docs/engine.md), the equations of PyNN's Brian2 and NEURON models:
 *   C v' = g_leak (E_leak - v) - gNa m^3 h (v - E_Na) - gK n^4 (v - E_K)
 *          + g_e (E_e - v) + g_i (E_i - v) + i_offset
 *   x' = alpha_x(u) (1 - x) - beta_x(u) x  for x = m, h, n, u = v - v_offset:
 *   alpha_m = 0.32 (13 - u) / (e^((13 - u) / 4) - 1)   beta_m = 0.28 (u - 40) / (e^((u - 40) / 5) -
 * 1) alpha_h = 0.128 e^((17 - u) / 18)                  beta_h = 4 / (1 + e^((40 - u) / 5)) alpha_n
 * = 0.032 (15 - u) / (e^((15 - u) / 5) - 1)  beta_n = 0.5 e^((10 - u) / 40) g' = -g / tau_syn (mV,
 * ms, nF, uS, nA). The sodium current makes the system stiff during a spike (rates of 100/ms at
 * gbar_Na / C = 100/ms), so a step is split into ceil(dt / 10 us) classical RK4 sub-steps, in
 * double precision (software doubles on Cortex-M4F, IEEE-exact: the same bits on every build;
 * exponentials from fmath's float exp; between steps v is kept as a double, the gates and
 * conductances as floats). A spike is v crossing -40 mV upwards (no refractory
 * period); the step's synaptic input is added at its end, as lif_cond_exp.
 */
#include "hh.h"

#include "model_params.h"
#include "rk4.h"

enum {
	H_E_LEAK,
	H_V_OFFSET,
	H_G_NA,
	H_G_K,
	H_CM = LP_CM,
	H_G_LEAK,
	H_TAU_E = LP_TAU_E,
	H_TAU_I = LP_TAU_I,
	H_I_OFFSET = LP_I_OFFSET,
	H_E_E = LP_E_REV_E,
	H_E_I = LP_E_REV_I,
	H_E_NA
};
/* derived: e_rev_K (PARAMS2 0) in k[0], sub-steps in k[4]; the gates m, h, n between steps
 * in k[1..3] (floats: the engine's SRAM has no room for more doubles per neuron) */
enum { K_E_K = 0, K_M = 1, K_H = 2, K_N = 3, K_NSUB = 4 };

#define HH_THRESHOLD -40.0 /* mV, PyNN's Brian2 model's */
#define HH_SUBSTEP_MS 0.01

bool s2_hh_params_ok(const float *p)
{
	return p[H_CM] > 0 && p[H_TAU_E] > 0 && p[H_TAU_I] > 0 && p[H_G_NA] >= 0 && p[H_G_K] >= 0 &&
	       p[H_G_LEAK] >= 0;
}

void s2_hh_params(struct s2_eng *e)
{
	double dt = e->dt_ms;
	unsigned nsub = 1;
	while (dt / nsub > HH_SUBSTEP_MS * (1 + 1e-9))
		nsub++;
	for (unsigned i = 0; i < e->n; i++) {
		float q[S2_PE_PARAMS2];
		s2_eng_params2(&e->pd, i, q);
		e->k[i][K_E_K] = q[0];
		e->k[i][K_NSUB] = (float)nsub;
	}
}

void s2_hh_derive(struct s2_eng *e)
{
	s2_hh_params(e);
	for (unsigned i = 0; i < e->n; i++) {
		e->izk[i][0] = e->state[i][LS_V]; /* v in double precision */
		e->k[i][K_M] = 0;                 /* PyNN's initial values */
		e->k[i][K_H] = 1;
		e->k[i][K_N] = 0;
	}
}

/* x / (e^(x / s) - 1), its limit s at x = 0 */
__attribute__((noinline)) static double xexp(double x, double s)
{
	if (x < 1e-6 && x > -1e-6)
		return s - 0.5 * x;
	return x / ((double)s2f_exp((float)(x / s)) - 1.0);
}

struct hhp {
	double el, vo, gna, gk, cm, gl, te, ti, ie, ee, ei, ena, ek;
};

/* The derivatives of (v, m, h, n, g_e, g_i). */
static void deriv(const void *ctx, const double *x, double *d)
{
	const struct hhp *p = ctx;
	double v = x[0], m = x[1], h = x[2], n = x[3], ge = x[4], gi = x[5], u = v - p->vo;
	double am = 0.32 * xexp(13.0 - u, 4.0), bm = 0.28 * xexp(u - 40.0, 5.0);
	double ah = 0.128 * (double)s2f_exp((float)((17.0 - u) / 18.0));
	double bh = 4.0 / (1.0 + (double)s2f_exp((float)((40.0 - u) / 5.0)));
	double an = 0.032 * xexp(15.0 - u, 5.0);
	double bn = 0.5 * (double)s2f_exp((float)((10.0 - u) / 40.0));
	double m3h = m * m * m * h, n4 = (n * n) * (n * n);
	d[0] = (p->gl * (p->el - v) - p->gna * m3h * (v - p->ena) - p->gk * n4 * (v - p->ek) +
	        ge * (p->ee - v) + gi * (p->ei - v) + p->ie) /
	       p->cm;
	d[1] = am * (1.0 - m) - bm * m;
	d[2] = ah * (1.0 - h) - bh * h;
	d[3] = an * (1.0 - n) - bn * n;
	d[4] = -ge / p->te;
	d[5] = -gi / p->ti;
}

void s2_hh_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire)
{
	double we = e->pd.w_scale_e, wi = e->pd.w_scale_i;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i];
		float *s = e->state[i], *k = e->k[i];
		struct hhp c = {p[H_E_LEAK], p[H_V_OFFSET], p[H_G_NA],  p[H_G_K],      p[H_CM],
		                p[H_G_LEAK], p[H_TAU_E],    p[H_TAU_I], p[H_I_OFFSET], p[H_E_E],
		                p[H_E_I],    p[H_E_NA],     k[K_E_K]};
		unsigned nsub = (unsigned)k[K_NSUB];
		double h = (double)e->dt_ms / nsub;
		double x[6] = {e->izk[i][0], k[K_M], k[K_H], k[K_N], s[LS_E], s[LS_I]};
		double v0 = x[0];
		for (unsigned q = 0; q < nsub; q++)
			s2_rk4_step(deriv, &c, x, 6, h);
		if (v0 <= HH_THRESHOLD && x[0] > HH_THRESHOLD)
			fire[i >> 3] |= (uint8_t)(1u << (i & 7));
		e->izk[i][0] = x[0];
		k[K_M] = (float)x[1];
		k[K_H] = (float)x[2];
		k[K_N] = (float)x[3];
		s[LS_V] = (float)x[0];
		s[LS_E] = (float)(x[4] + (double)in_e[i] * we);
		s[LS_I] = (float)(x[5] + (double)in_i[i] * wi);
	}
	e->c.neuron_updates += e->n;
}
