/* The shared RK4 step (rk4.h). */
#include "rk4.h"

void s2_rk4_step(s2_rk4_deriv f, const void *ctx, double *x, unsigned n, double h)
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
