/* Deterministic float maths (fmath.h). */
#include "fmath.h"

#include <string.h>

#include "ziggurat.h"

static float from_bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static uint32_t to_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

float s2f_exp(float x)
{
	if (!(x == x))
		return x;
	if (x > 88.0f)
		return from_bits(0x7F800000u);
	if (x < -87.0f)
		return 0.0f;
	/* x = n ln2 + r, |r| <= ln2 / 2; ln2 split so n * ln2_hi is exact. */
	const float ln2_hi = 0.693145751953125f, ln2_lo = 1.42860682030941723212e-6f;
	float t = x * 1.44269504088896341f;
	int n = (int)(t < 0 ? t - 0.5f : t + 0.5f);
	float r = (x - (float)n * ln2_hi) - (float)n * ln2_lo;
	/* Taylor to r^7 (Horner). */
	float p = 1.0f / 5040.0f;
	p = p * r + 1.0f / 720.0f;
	p = p * r + 1.0f / 120.0f;
	p = p * r + 1.0f / 24.0f;
	p = p * r + 1.0f / 6.0f;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	/* Scale by 2^n in two steps so n down to -126 stays normal-safe. */
	int n1 = n / 2, n2 = n - n1;
	return p * from_bits((uint32_t)(127 + n1) << 23) * from_bits((uint32_t)(127 + n2) << 23);
}

float s2f_log(float x)
{
	if (!(x > 0))
		return x == 0 ? -from_bits(0x7F800000u) : from_bits(0x7FC00000u);
	uint32_t u = to_bits(x);
	int e = (int)((u >> 23) & 0xFF);
	if (e == 0) { /* subnormal: scale up */
		x *= 8388608.0f;
		u = to_bits(x);
		e = (int)((u >> 23) & 0xFF) - 23;
	}
	if (e == 255)
		return x;
	e -= 127;
	float m = from_bits((u & 0x007FFFFFu) | 0x3F800000u); /* [1, 2) */
	if (m > 1.41421356f) {
		m *= 0.5f;
		e++;
	}
	float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
	float p = 1.0f / 11.0f;
	p = p * s2 + 1.0f / 9.0f;
	p = p * s2 + 1.0f / 7.0f;
	p = p * s2 + 1.0f / 5.0f;
	p = p * s2 + 1.0f / 3.0f;
	p = p * s2 + 1.0f;
	return (float)e * 0.693147180559945f + 2.0f * s * p;
}

static uint32_t splitmix32(uint32_t *x)
{
	uint32_t z = (*x += 0x9E3779B9u);
	z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
	z = (z ^ (z >> 13)) * 0xC2B2AE35u;
	return z ^ (z >> 16);
}

void s2f_rng_seed(struct s2f_rng *r, uint32_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix32(&seed);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

uint32_t s2f_rng_below(struct s2f_rng *r, uint32_t n)
{
	uint64_t m = (uint64_t)s2f_rng_next(r) * n;
	uint32_t lo = (uint32_t)m;
	if (lo < n) {
		uint32_t threshold = (0u - n) % n;
		while (lo < threshold) {
			m = (uint64_t)s2f_rng_next(r) * n;
			lo = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* Wedges and tail of the ziggurat (fmath.h): u is the draw the fast path rejected. */
float s2f_rng_normal_slow(struct s2f_rng *r, uint32_t u)
{
	for (;;) {
		uint32_t i = u & 127u;
		int32_t j = (int32_t)(u >> 7) - (1 << 24);
		uint32_t a = j < 0 ? (uint32_t)-j : (uint32_t)j;
		float x = (float)j * s2f_zig_w[i];
		if (a < s2f_zig_k[i])
			return x;
		if (i == 0) { /* the tail beyond r */
			float t, y;
			do {
				t = -s2f_log(1.0f - s2f_rng_uniform(r)) * (1.0f / S2F_ZIG_R);
				y = -s2f_log(1.0f - s2f_rng_uniform(r));
			} while (y + y < t * t);
			return j < 0 ? -(S2F_ZIG_R + t) : S2F_ZIG_R + t;
		}
		float f = s2f_zig_f[i] + s2f_rng_uniform(r) * (s2f_zig_f[i - 1] - s2f_zig_f[i]);
		if (f < s2f_exp(-0.5f * x * x))
			return x;
		u = s2f_rng_next(r);
	}
}

uint32_t s2f_hash2(uint32_t a, uint32_t b)
{
	uint32_t x = a ^ s2f_rotl(b, 16) ^ 0x6A09E667u;
	return splitmix32(&x) ^ splitmix32(&b);
}
