/*
 * One classical Runge-Kutta (RK4) step in double precision, shared by the models that
 * integrate with it (Izhikevich in engine.c, adex.c, hh.c): one copy of the stages instead
 * of one per model. The operations are those each model wrote out before, in the same order
 * (y = x + (h / 2) k1, ..., x += h / 6 (k1 + 2 k2 + 2 k3 + k4)), so the results are the same
 * bits on every build (docs/engine.md, "Same results on every build").
 */
#ifndef S2FW_RK4_H
#define S2FW_RK4_H

/** The most variables a system may have (HH: v, m, h, n, g_e, g_i). */
#define S2_RK4_MAX 6u

/** The derivatives d of a system at x; ctx: the model's constants. */
typedef void (*s2_rk4_deriv)(const void *ctx, const double *x, double *d);

/**
 * Advance x[0..n) (n <= S2_RK4_MAX) by one RK4 step of length h, in place.
 * @param f    the system's derivatives, called four times
 * @param ctx  passed to f
 */
void s2_rk4_step(s2_rk4_deriv f, const void *ctx, double *x, unsigned n, double h);

#endif
