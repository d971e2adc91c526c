/* Current sources (csource.h, docs/engine.md). */
#include "csource.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

static float ldf(const uint8_t *p)
{
	uint32_t u = s2_ld32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

int s2_csrc_init(struct s2_csrc *c, const uint8_t *sect, uint32_t len, unsigned n,
                 const float (*params)[S2_PE_PARAMS], unsigned slot, uint32_t seed)
{
	memset(c, 0, sizeof *c);
	c->seed = s2f_hash2(seed, 0xC5C5C5C5u);
	for (unsigned i = 0; i < n; i++)
		c->base[i] = params[i][slot];
	while (sect && len) {
		if (len < S2_PE_CSRC_HDR)
			return S2_E_LENGTH;
		unsigned kind = sect[0], pts = s2_ld16(sect + 2);
		uint32_t start = s2_ld32(sect + 4), stop = s2_ld32(sect + 8);
		float p[4];
		for (unsigned k = 0; k < 4; k++)
			p[k] = ldf(sect + 28 + 4 * k);
		if (c->n == S2_PE_MAX_CSRC || kind < S2_CSRC_DC || kind > S2_CSRC_NOISY ||
		    sect[1] || s2_ld32(sect + 44) || stop < start ||
		    (kind != S2_CSRC_STEP && pts) || (uint64_t)pts * 8u > len - S2_PE_CSRC_HDR)
			return S2_E_RANGE;
		for (unsigned k = 0; k < 4; k++)
			if (!(p[k] == p[k]) || p[k] > 1e30f || p[k] < -1e30f)
				return S2_E_RANGE;
		if (kind == S2_CSRC_NOISY &&
		    !(p[1] >= 0 && p[2] >= 1 && p[2] <= 1e9f && (float)(uint32_t)p[2] == p[2]))
			return S2_E_RANGE;
		for (unsigned i = n; i < S2_PE_MAX_NEURONS; i++) /* no neuron beyond the PE's */
			if ((sect[12 + i / 8] >> (i % 8)) & 1u)
				return S2_E_RANGE;
		for (unsigned k = 0; k < pts; k++) {
			const uint8_t *q = sect + S2_PE_CSRC_HDR + 8u * k;
			float a = ldf(q + 4);
			if ((k && s2_ld32(q) <= s2_ld32(q - 8)) || !(a == a) || a > 1e30f ||
			    a < -1e30f)
				return S2_E_RANGE;
		}
		c->ent[c->n++] = sect;
		uint32_t sz = S2_PE_CSRC_HDR + 8u * pts;
		sect += sz;
		len -= sz;
	}
	return 0;
}

double s2_csrc_sin_cycles(double x)
{
	int64_t k = (int64_t)x;
	if ((double)k > x)
		k--;
	double y = x - (double)k; /* [0, 1) */
	if (y >= 0.5)
		y -= 1.0; /* [-0.5, 0.5) */
	if (y > 0.25)
		y = 0.5 - y;
	else if (y < -0.25)
		y = -0.5 - y; /* [-0.25, 0.25]: sin(pi - a) = sin(a) */
	double a = 6.283185307179586 * y, a2 = a * a;
	/* Taylor to a^17: |error| < (pi/2)^19 / 19! < 1e-13 */
	double s = 1.0 / 355687428096000.0;
	s = 1.0 / 1307674368000.0 - a2 * s;
	s = 1.0 / 6227020800.0 - a2 * s;
	s = 1.0 / 39916800.0 - a2 * s;
	s = 1.0 / 362880.0 - a2 * s;
	s = 1.0 / 5040.0 - a2 * s;
	s = 1.0 / 120.0 - a2 * s;
	s = 1.0 / 6.0 - a2 * s;
	s = 1.0 - a2 * s;
	return a * s;
}

void s2_csrc_step(struct s2_csrc *c, uint32_t t, float dt_ms, unsigned n,
                  float (*params)[S2_PE_PARAMS], unsigned slot)
{
	float extra[S2_PE_MAX_NEURONS];
	memset(extra, 0, n * sizeof extra[0]);
	for (unsigned s = 0; s < c->n; s++) {
		const uint8_t *x = c->ent[s];
		uint32_t start = s2_ld32(x + 4), stop = s2_ld32(x + 8);
		float p0 = ldf(x + 28), p1 = ldf(x + 32), p2 = ldf(x + 36), p3 = ldf(x + 40), v = 0;
		switch (x[0]) {
		case S2_CSRC_STEP: {
			unsigned pts = s2_ld16(x + 2);
			while (c->next[s] < pts &&
			       s2_ld32(x + S2_PE_CSRC_HDR + 8u * c->next[s]) <= t) {
				c->val[s] = ldf(x + S2_PE_CSRC_HDR + 8u * c->next[s] + 4);
				c->next[s]++;
			}
			v = c->val[s];
			break;
		}
		case S2_CSRC_DC:
			v = t >= start && t < stop ? p0 : 0.0f;
			break;
		case S2_CSRC_AC:
			if (t >= start && t < stop) {
				double cyc =
				        (double)p2 * ((double)(t - start) * (double)dt_ms * 1e-3) +
				        (double)p3 / 360.0;
				v = (float)((double)p1 + (double)p0 * s2_csrc_sin_cycles(cyc));
			}
			break;
		default: /* S2_CSRC_NOISY */
			if (t >= start && t < stop) {
				/* Independent per neuron (as NEST and pyNN.brian2): the draw of
				 * neuron i in interval k comes from a stream seeded by (source, i,
				 * k), so nothing is stored between the steps of an interval. */
				uint32_t k = (t - start) / (uint32_t)p2, sd = s2f_hash2(c->seed, s);
				const uint8_t *mask = x + 12;
				for (unsigned i = 0; i < n; i++)
					if ((mask[i >> 3] >> (i & 7)) & 1u) {
						struct s2f_rng r;
						s2f_rng_seed(&r, s2f_hash2(s2f_hash2(sd, i), k));
						extra[i] += p0 + p1 * s2f_rng_normal(&r);
					}
			}
			continue;
		}
		if (v == 0.0f)
			continue;
		const uint8_t *mask = x + 12;
		for (unsigned i = 0; i < n; i++)
			if ((mask[i >> 3] >> (i & 7)) & 1u)
				extra[i] += v;
	}
	for (unsigned i = 0; i < n; i++)
		params[i][slot] = c->base[i] + extra[i];
}
