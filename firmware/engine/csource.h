/*
 * Current sources of a PE (docs/engine.md, "Current sources"): DC, step, AC and noisy
 * currents, described by the host in the PE data's CSOURCE section (pedata.h) and added to
 * the neurons' i_offset at the start of every step. Part of the engine (engine.h): no
 * allocation, the same results on every build (the AC sine in double precision from
 * polynomials, noise from xoshiro128** streams seeded per source, neuron and interval).
 */
#ifndef S2FW_CSOURCE_H
#define S2FW_CSOURCE_H

#include <stdint.h>

#include "fmath.h"
#include "s2/pedata.h"

struct s2_csrc {
	unsigned n;                         /**< sources (0: none, nothing to do) */
	const uint8_t *ent[S2_PE_MAX_CSRC]; /**< their entries in the PE data */
	float val[S2_PE_MAX_CSRC];          /**< step: the current amplitude */
	uint32_t next[S2_PE_MAX_CSRC];      /**< step: the next point */
	float base[S2_PE_MAX_NEURONS];      /**< each neuron's i_offset without the sources */
	uint32_t seed;                      /**< of the noise */
};

/**
 * Check and index the CSOURCE section (sect, len; NULL: none) for a PE of n neurons whose
 * i_offsets are params[k][slot] (copied: the sources add to them). seed seeds the noise.
 * @return 0 or S2_E_RANGE / S2_E_LENGTH (a malformed entry, more than S2_PE_MAX_CSRC).
 */
int s2_csrc_init(struct s2_csrc *c, const uint8_t *sect, uint32_t len, unsigned n,
                 const float (*params)[S2_PE_PARAMS], unsigned slot, uint32_t seed);

/** Step t of dt_ms: set params[k][slot] (i_offset) of the n neurons to base + the sources. */
void s2_csrc_step(struct s2_csrc *c, uint32_t t, float dt_ms, unsigned n,
                  float (*params)[S2_PE_PARAMS], unsigned slot);

/** sin(2 pi x), x in cycles, in double precision, the same bits on every build. */
double s2_csrc_sin_cycles(double x);

#endif
