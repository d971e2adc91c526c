/*
 * LIF with alpha and delta synapses (lif_alpha.h, docs/engine.md).
 *
 * Alpha synapses: a spike of weight w adds w to y; y decays with tau_s and drives
 * I' = (e y - I) / tau_s, so I(t) = w (t / tau_s) e^(1 - t / tau_s) peaks at w at t = tau_s
 * (the equations of PyNN's Brian2 and NEST models). Current-based: v, I and y are advanced
 * with the exact propagators of the linear system over a step (Rotter & Diesmann 1999; the
 * constants in double precision at start-up, series where closed forms cancel).
 * Conductance-based: each conductance at its exact mean over the step in the exponential
 * Euler update, as lif_cond_exp. Delta synapses: v jumps by w at the end of the step.
 */
#include "lif_alpha.h"

#include "model_params.h"

/* Derived constants: current-based and delta */
enum { K_DM, K_DE, K_DI, K_REF, K_P21E, K_P21I, K_P31E, K_P31I };
/* conductance-based: the mean over a step per unit of g and of y */
enum { KC_AVG_YE = 0, KC_AVG_YI = 4, KC_AVG_GE = 6, KC_AVG_GI = 7 };

#define E_1 2.718281828459045

bool s2_lif2_model(unsigned model)
{
	return model == S2_MODEL_LIF_CURR_ALPHA || model == S2_MODEL_LIF_COND_ALPHA ||
	       model == S2_MODEL_LIF_CURR_DELTA;
}

/* integral over [0, h] of s e^(c s) ds */
static double int_s_exp(double c, double h)
{
	double x = c * h;
	if (x < 0.1 && x > -0.1) { /* series: sum_k c^k h^(k+2) / (k! (k + 2)) */
		double t = h * h, sum = 0;
		for (unsigned k = 0; k < 12; k++) {
			sum += t / (double)(k + 2);
			t *= x / (double)(k + 1);
		}
		return sum;
	}
	double ech = (double)s2f_exp((float)x);
	return (h / c - 1.0 / (c * c)) * ech + 1.0 / (c * c);
}

/* 1 - e^-x (1 + x), x >= 0 */
static double one_minus_exp_1x(double x)
{
	if (x < 1.0) { /* sum_{k >= 2} (-1)^k x^k (k - 1) / k! */
		double t = x * x / 2.0, sum = 0;
		for (unsigned k = 2; k < 20; k++) {
			sum += t * (double)(k - 1);
			t *= -x / (double)(k + 1);
		}
		return sum;
	}
	return 1.0 - (double)s2f_exp((float)-x) * (1.0 + x);
}

void s2_lif2_derive(struct s2_eng *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		e->izk[i][0] = 0; /* y_e, y_i */
		e->izk[i][1] = 0;
	}
	s2_lif2_params(e);
}

void s2_lif2_params(struct s2_eng *e)
{
	double h = e->dt_ms;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i];
		float *k = e->k[i];
		double tm = p[P_TAU_M], cm = p[P_CM];
		k[K_DM] = s2f_exp((float)(-h / tm));
		k[K_REF] = s2_eng_refrac_steps(e, i);
		if (e->model == S2_MODEL_LIF_CURR_DELTA)
			continue;
		for (unsigned r = 0; r < 2; r++) {
			double ts = r ? p[P_TAU_I] : p[P_TAU_E];
			float ds = s2f_exp((float)(-h / ts));
			k[r ? K_DI : K_DE] = ds;
			if (e->model == S2_MODEL_LIF_COND_ALPHA) {
				k[r ? KC_AVG_GI : KC_AVG_GE] = (float)(ts / h * (1.0 - (double)ds));
				k[r ? KC_AVG_YI : KC_AVG_YE] =
				        (float)(E_1 * one_minus_exp_1x(h / ts) * ts * ts /
				                (h * ts));
				continue;
			}
			/* v gains P21 I0 + P31 y0 over a step from the synaptic current, with
			 * a = 1 / tau_s, b = 1 / tau_m, c = b - a */
			double a = 1.0 / ts, b = 1.0 / tm, c = b - a;
			double em = (double)k[K_DM];
			/* (1/C) int_0^h e^(-b (h - s)) e^(-a s) ds = e^(-bh) int e^(c s) ds */
			double ie = 0, x = c * h;
			if (x < 0.1 && x > -0.1) { /* h sum_k x^k / (k + 1)! */
				double t = h;
				for (unsigned q = 0; q < 12; q++) {
					ie += t;
					t *= x / (double)(q + 2);
				}
			} else {
				ie = ((double)s2f_exp((float)x) - 1.0) / c;
			}
			k[r ? K_P21I : K_P21E] = (float)(em * ie / cm);
			k[r ? K_P31I : K_P31E] = (float)(E_1 * a / cm * em * int_s_exp(c, h));
		}
	}
}

void s2_lif2_tick(struct s2_eng *e, const uint16_t *in_e, const uint16_t *in_i, uint8_t *fire)
{
	float we = e->pd.w_scale_e, wi = e->pd.w_scale_i, dt = e->dt_ms;
	for (unsigned i = 0; i < e->n; i++) {
		const float *p = e->params[i], *k = e->k[i];
		float *s = e->state[i];
		float v = s[S_V];
		float ye = (float)e->izk[i][0], yi = (float)e->izk[i][1];
		float v_inf;
		if (s[S_REFRAC] > 0) {
			s[S_REFRAC] -= 1.0f;
			v = p[P_V_RESET];
		} else if (e->model == S2_MODEL_LIF_COND_ALPHA) {
			float ge = s[S_E] * k[KC_AVG_GE] + ye * k[KC_AVG_YE];
			float gi = s[S_I] * k[KC_AVG_GI] + yi * k[KC_AVG_YI];
			float g_l = p[P_CM] / p[P_TAU_M], g = g_l + ge + gi;
			v_inf = (g_l * p[P_V_REST] + ge * p[P_E_REV_E] + gi * p[P_E_REV_I] +
			         p[P_I_OFFSET]) /
			        g;
			v = v_inf + (v - v_inf) * s2f_exp(-dt * g / p[P_CM]);
		} else {
			v_inf = p[P_V_REST] + p[P_I_OFFSET] * (p[P_TAU_M] / p[P_CM]);
			v = v_inf + (v - v_inf) * k[K_DM];
			if (e->model == S2_MODEL_LIF_CURR_ALPHA)
				v = v + (s[S_E] * k[K_P21E] - s[S_I] * k[K_P21I]) +
				    (ye * k[K_P31E] - yi * k[K_P31I]);
		}
		if (v >= p[P_V_THRESH] && s[S_REFRAC] <= 0) {
			v = p[P_V_RESET];
			s[S_REFRAC] = k[K_REF];
			fire[i >> 3] |= (uint8_t)(1u << (i & 7));
		}
		if (e->model == S2_MODEL_LIF_CURR_DELTA) {
			/* voltage jumps at the end of the step (as Izhikevich's) */
			s[S_V] = v + ((float)in_e[i] * we - (float)in_i[i] * wi);
			continue;
		}
		s[S_V] = v;
		/* I (or g) from y over the step, then y decays and takes this step's input.
		 * e·dt/tau in single precision: in double it was software arithmetic on the M4F,
		 * most of the model's cost per neuron and step (docs/engine.md, per-step cost). */
		s[S_E] = (s[S_E] + ye * ((float)E_1 * dt / p[P_TAU_E])) * k[K_DE];
		s[S_I] = (s[S_I] + yi * ((float)E_1 * dt / p[P_TAU_I])) * k[K_DI];
		e->izk[i][0] = (double)(ye * k[K_DE] + (float)in_e[i] * we);
		e->izk[i][1] = (double)(yi * k[K_DI] + (float)in_i[i] * wi);
	}
	e->c.neuron_updates += e->n;
}
