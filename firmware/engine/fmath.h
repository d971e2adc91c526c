/*
 * Deterministic float maths for the firmware: the same bits on Cortex-M4F and on the host.
 * Only IEEE single-precision +, -, *, / and sqrt (correctly rounded everywhere) are used,
 * never a C library's expf/logf (newlib and glibc differ in the last bits).
 */
#ifndef S2FW_FMATH_H
#define S2FW_FMATH_H

#include <stdint.h>

/** e^x, relative error below 2e-7 for |x| < 80; 0 below -87, +inf above 88. */
float s2f_exp(float x);
/** Natural logarithm of x > 0 (relative error below 2e-7); -inf for 0, NaN below. */
float s2f_log(float x);

/** xoshiro128** random numbers, seeded through splitmix32. */
struct s2f_rng {
	uint32_t s[4];
};
void s2f_rng_seed(struct s2f_rng *r, uint32_t seed);
uint32_t s2f_rng_next(struct s2f_rng *r);
/** Uniform in [0, 1) with 24 random bits. */
float s2f_rng_uniform(struct s2f_rng *r);
/** Uniform integer in [0, n), n >= 1 (Lemire's multiply, rejection for exactness). */
uint32_t s2f_rng_below(struct s2f_rng *r, uint32_t n);
/** Standard normal (Marsaglia and Tsang's ziggurat, tables in ziggurat.h). */
float s2f_rng_normal(struct s2f_rng *r);
/** A well-mixed 32-bit hash of (a, b), for per-row seeds. */
uint32_t s2f_hash2(uint32_t a, uint32_t b);

#endif
