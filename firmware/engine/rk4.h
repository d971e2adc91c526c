/*
 * One classical Runge-Kutta (RK4) step in double precision, shared by the models that
 * integrate with it (Izhikevich in engine.c, adex.c, hh.c): one copy of the stages instead
 * of one per model. The operations are those each model wrote out before, in the same order
 * (y = x + (h / 2) k1, ..., x += h / 6 (k1 + 2 k2 + 2 k3 + k4)), so the results are the same
 * bits on every build (docs/engine.md, "Same results on every build").
 *
 * Built for size (-Os: the Cortex-M4F images), the step is one out-of-line function (rk4.c);
 * built for speed (the host's emulator), it is inlined into each model, whose derivatives
 * then inline too. Either way the same C code, so the same results.
 */
#ifndef S2FW_RK4_H
#define S2FW_RK4_H

/** The most variables a system may have (HH: v, m, h, n, g_e, g_i). */
#define S2_RK4_MAX 6u

/** The derivatives d of a system at x; ctx: the model's constants. */
typedef void (*s2_rk4_deriv)(const void *ctx, const double *x, double *d);

#ifdef __OPTIMIZE_SIZE__
/**
 * Advance x[0..n) (n <= S2_RK4_MAX) by one RK4 step of length h, in place.
 * @param f    the system's derivatives, called four times
 * @param ctx  passed to f
 */
void s2_rk4_step(s2_rk4_deriv f, const void *ctx, double *x, unsigned n, double h);
#endif

#if !defined(__OPTIMIZE_SIZE__) || defined(S2_RK4_DEFINE)
#ifdef __OPTIMIZE_SIZE__
#define S2_RK4_LINKAGE
#else
#define S2_RK4_LINKAGE static inline
#endif
S2_RK4_LINKAGE void s2_rk4_step(s2_rk4_deriv f, const void *ctx, double *x, unsigned n, double h)
{
	/* Software doubles on Cortex-M4F: the constant factors once, not per variable. */
	double half = 0.5 * h, sixth = h / 6.0;
	double k[4][S2_RK4_MAX], y[S2_RK4_MAX];
	const double *at = x;
	for (unsigned s = 0; s < 4; s++) {
		f(ctx, at, k[s]);
		/* y = x + 0.5 h k1, x + 0.5 h k2, x + h k3: (0.5 * h) * k, as the models wrote */
		double c = s < 2 ? half : h;
		for (unsigned j = 0; s < 3 && j < n; j++)
			y[j] = x[j] + c * k[s][j];
		at = y;
	}
	for (unsigned j = 0; j < n; j++)
		x[j] += sixth * (k[0][j] + 2.0 * k[1][j] + 2.0 * k[2][j] + k[3][j]);
}
#endif

#endif
