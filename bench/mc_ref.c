/*
 * An independent reference for the cortical microcircuit at any scale, full scale included:
 * Potjans & Diesmann 2014 built as the NEST example builds it (and as `s2ctl net example
 * microcircuit` and bench/mc_brian2.py do), simulated here from the published equations with
 * NEST's conventions and nothing of s2's code. It exists because neither NEST (not packaged
 * for Debian) nor Brian2 (about 40 bytes per synapse, 12 GB for the 3·10⁸ synapses of the
 * full-scale model) can run the full-scale model on this machine; at scale 0.1 it is checked
 * against Brian2 (docs/engine.md, "The cortical microcircuit").
 *
 * Model: leaky integrate-and-fire with exponential current synapses (NEST's iaf_psc_exp):
 * C 250 pF, tau_m 10 ms, tau_syn 0.5 ms (excitatory and inhibitory alike, so one current),
 * E_L = V_reset = -65 mV, threshold -50 mV, refractory 2 ms, integrated exactly on a 0.1 ms
 * grid in NEST's order for each step: the membrane (held at reset for 20 steps after a
 * spike) from the current of the step before, the current's decay, the inputs that arrive
 * in this step added to the current, then the threshold. A spike of step n with a delay of d
 * steps arrives in step n + d. External drive: a Poisson count per neuron and step of
 * K_ext·8 Hz·dt, each spike of weight w (87.81 pA). Connections: the fixed total number
 * ln(1 - p) / ln(1 - 1 / (N_pre N_post)) of synapses for each pair of populations, pre and
 * post neurons drawn uniformly (multapses and autapses allowed), weights normal with a
 * relative s.d. of 0.1 redrawn outside (0, 2w] (w = 0.15 mV as a PSC, doubled for
 * L4E -> L2/3E, -4w for inhibitory sources), delays normal 1.5 ms (inhibitory 0.75 ms) with
 * a relative s.d. of 0.5 redrawn outside [0.1, 6.4] ms and rounded to the grid; initial
 * voltages normal with NEST's "optimized" means and deviations per population. Below scale 1
 * the in-degrees scale too, with weights / sqrt(scale) and a DC as in the NEST example.
 *
 * Output: DIR/<pop>_spikes.csv ("neuron,time_ms", time = (step + 1)·dt as NEST stamps it),
 * DIR/sizes.json for bench/mc_stats.py, and one line of progress per 100 ms on stderr.
 *
 * With --intfire-pd the model follows instead two rules of NetPyNE's version (Romaro et al.
 * 2021: its neuron IntFire_PD.mod and its netParams.py) that differ from NEST's beyond the
 * integration scheme: a refractory neuron ignores its inputs and its synaptic current stays
 * as it was at the spike (NEST goes on decaying the current and adding the inputs), and each
 * neuron's external weight is drawn once, normal with a relative s.d. of 0.1 (NEST: one
 * weight for all). --intfire-refractory applies the first rule alone, --netpyne-ext-weights
 * the second alone. Everything else stays as above.
 *
 * With --half-step-delays the delays are redrawn below half a step (0.05 ms) instead of one
 * step, then rounded to the grid, so that draws in [0.05, 0.15) ms all become one step: the
 * rule of the INM-6 PyNEST model since its commit d7330c0d (2022, "correct rounding of
 * synaptic delays"; `min=nest.resolution - 0.5 * nest.resolution`), which NEST 3.10 runs here.
 * Before it, and in NEST 2's example, the bound was one step (the default here).
 *
 *   cc -O2 -o mc_ref bench/mc_ref.c -lm
 *   mc_ref [--half-step-delays] [--intfire-pd | --intfire-refractory |
 *          --netpyne-ext-weights] SCALE DURATION_MS DIR [SEED]
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NPOP 8
#define DT 0.1
#define RING 65 /* delays of 1 to 64 steps */

static const char *POP[NPOP] = {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"};
static const double N_FULL[NPOP] = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948};
static const double P[NPOP][NPOP] = {
        {0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0, 0.0076, 0},
        {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0, 0.0042, 0},
        {0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0},
        {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0, 0.1057, 0},
        {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0},
        {0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0},
        {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
        {0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443},
};
static const double K_EXT[NPOP] = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100};
static const double RATE_FULL[NPOP] = {0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829};
static const double V0_MEAN[NPOP] = {-68.28, -63.16, -63.33, -63.45,
                                     -63.11, -61.66, -66.72, -61.43};
static const double V0_SD[NPOP] = {5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48};

/* xoshiro256** seeded by splitmix64 */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static inline double uniform(struct rng *r) /* [0, 1) */
{
	return (double)(next(r) >> 11) * 0x1.0p-53;
}

static inline uint32_t below(struct rng *r, uint32_t n) /* uniform in [0, n) */
{
	return (uint32_t)(((next(r) >> 32) * (uint64_t)n) >> 32);
}

static double normal(struct rng *r)
{
	double u, v, s;
	do {
		u = 2 * uniform(r) - 1;
		v = 2 * uniform(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	return u * sqrt(-2 * log(s) / s);
}

static inline int poisson(struct rng *r, double emlam) /* Knuth, small means */
{
	int k = 0;
	double p = uniform(r);
	while (p > emlam) {
		k++;
		p *= uniform(r);
	}
	return k;
}

static double psc_per_psp(double cm, double tm, double ts)
{
	double sub = 1.0 / (ts - tm), pre = tm * ts / cm / (ts - tm), frac = pow(tm / ts, sub);
	return 1.0 / (pre * (pow(frac, tm) - pow(frac, ts)));
}

static double synapses(int t, int s)
{
	double pairs = N_FULL[s] * N_FULL[t];
	return P[t][s] > 0 ? log(1 - P[t][s]) / log((pairs - 1) / pairs) : 0;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "mc_ref: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

/* One projection's synapses, drawn in a fixed order from a generator of its own, so that
 * the same draws can be made twice (once to count the out-degrees, once to place them). */
struct proj {
	int t, s;
	uint64_t k;
	double wm, dm;
	uint64_t seed;
};

static double delay_min = DT; /* delays are redrawn below this (ms) */

static inline void draw(struct rng *r, const struct proj *p, const uint32_t *n, uint32_t *pre,
                        uint32_t *post, float *w, uint8_t *d)
{
	*pre = below(r, n[p->s]);
	*post = below(r, n[p->t]);
	double x;
	do
		x = p->wm + 0.1 * p->wm * normal(r);
	while (x <= 0 || x > 2 * p->wm);
	double y;
	do
		y = p->dm + 0.5 * p->dm * normal(r);
	while (y < delay_min || y > 64 * DT);
	*w = (float)(p->s % 2 ? -x : x);
	long st = lround(y / DT);
	*d = (uint8_t)(st < 1 ? 1 : st > 64 ? 64 : st);
}

int main(int argc, char **argv)
{
	/* 1: both of NetPyNE's rules, 2: the refractory rule alone, 3: the weights alone */
	int intfire = 0;
	if (argc > 1 && !strcmp(argv[1], "--half-step-delays")) {
		delay_min = 0.5 * DT;
		argv++;
		argc--;
	}
	if (argc > 1 && !strcmp(argv[1], "--intfire-pd"))
		intfire = 1;
	else if (argc > 1 && !strcmp(argv[1], "--intfire-refractory"))
		intfire = 2;
	else if (argc > 1 && !strcmp(argv[1], "--netpyne-ext-weights"))
		intfire = 3;
	if (intfire) {
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: mc_ref [--half-step-delays] "
		                "[--intfire-pd|--intfire-refractory|--netpyne-ext-weights] "
		                "SCALE DURATION_MS DIR [SEED]\n");
		return 2;
	}
	double scale = atof(argv[1]), dur = atof(argv[2]);
	const char *dir = argv[3];
	uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
	if (!(scale > 0 && scale <= 1) || !(dur > 0)) {
		fprintf(stderr, "mc_ref: SCALE must be in (0, 1] and DURATION_MS > 0\n");
		return 2;
	}
	double ks = scale, wf = 1 / sqrt(ks);
	double psc = 0.15 * psc_per_psp(250.0, 10.0, 0.5); /* pA for a 0.15 mV PSP */
	uint32_t n[NPOP], first[NPOP + 1];
	first[0] = 0;
	for (int t = 0; t < NPOP; t++) {
		double v = round(N_FULL[t] * scale);
		n[t] = v < 1 ? 1 : (uint32_t)v;
		first[t + 1] = first[t] + n[t];
	}
	uint32_t ntot = first[NPOP];

	/* projections */
	struct proj pj[NPOP * NPOP];
	int np = 0;
	uint64_t total = 0;
	for (int t = 0; t < NPOP; t++)
		for (int s = 0; s < NPOP; s++) {
			if (P[t][s] == 0)
				continue;
			struct proj *p = &pj[np++];
			p->t = t;
			p->s = s;
			p->k = (uint64_t)llround(synapses(t, s) * ((double)n[t] / N_FULL[t]) * ks);
			p->wm = (s % 2 ? 4 * psc : (t == 0 && s == 2 ? 2 * psc : psc)) * wf;
			p->dm = s % 2 ? 0.75 : 1.5;
			p->seed = seed * 1000003ULL + (uint64_t)(t * NPOP + s);
			total += p->k;
		}
	fprintf(stderr, "mc_ref: scale %g, %u neurons, %llu synapses, seed %llu%s%s\n", scale, ntot,
	        (unsigned long long)total, (unsigned long long)seed,
	        delay_min < DT ? ", delays redrawn below half a step" : "",
	        intfire == 1   ? ", NetPyNE's two rules"
	        : intfire == 2 ? ", IntFire_PD's refractory rule"
	        : intfire == 3 ? ", NetPyNE's external weights"
	                       : "");

	/* CSR by source: count, then place */
	uint64_t *off = xmalloc((ntot + 1) * sizeof *off);
	memset(off, 0, (ntot + 1) * sizeof *off);
	for (int i = 0; i < np; i++) {
		struct rng r;
		rng_seed(&r, pj[i].seed);
		uint32_t a, b;
		float w;
		uint8_t d;
		for (uint64_t k = 0; k < pj[i].k; k++) {
			draw(&r, &pj[i], n, &a, &b, &w, &d);
			off[first[pj[i].s] + a + 1]++;
		}
	}
	for (uint32_t i = 0; i < ntot; i++)
		off[i + 1] += off[i];
	uint32_t *tgt = xmalloc(total * sizeof *tgt);
	float *wt = xmalloc(total * sizeof *wt);
	uint8_t *dl = xmalloc(total);
	uint64_t *fill = xmalloc(ntot * sizeof *fill);
	memcpy(fill, off, ntot * sizeof *fill);
	for (int i = 0; i < np; i++) {
		struct rng r;
		rng_seed(&r, pj[i].seed);
		uint32_t a, b;
		float w;
		uint8_t d;
		for (uint64_t k = 0; k < pj[i].k; k++) {
			draw(&r, &pj[i], n, &a, &b, &w, &d);
			uint64_t at = fill[first[pj[i].s] + a]++;
			tgt[at] = first[pj[i].t] + b;
			wt[at] = w;
			dl[at] = d;
		}
	}
	free(fill);

	/* neurons: exact propagators of iaf_psc_exp (tau_syn equal for E and I) */
	const double cm = 250, tm = 10, ts = 0.5;
	double p11 = exp(-DT / ts), p22 = exp(-DT / tm);
	double p21 = tm * ts / (cm * (tm - ts)) * (p22 - p11); /* mV per pA */
	double p20 = tm / cm * (1 - p22);
	double *v = xmalloc(ntot * sizeof *v), *cur = xmalloc(ntot * sizeof *cur);
	double *dcp = xmalloc(ntot * sizeof *dcp), *emlam = xmalloc(ntot * sizeof *emlam);
	double *wext = xmalloc(ntot * sizeof *wext);
	int *ref = xmalloc(ntot * sizeof *ref);
	uint8_t *pop = xmalloc(ntot);
	struct rng rs;
	rng_seed(&rs, seed * 7919ULL + 17);
	for (int t = 0; t < NPOP; t++) {
		double mean = psc * K_EXT[t] * 8;
		for (int s = 0; s < NPOP; s++) {
			double w = s % 2 ? -4 * psc : (t == 0 && s == 2 ? 2 * psc : psc);
			mean += w * synapses(t, s) / N_FULL[t] * RATE_FULL[s];
		}
		double dc =
		        0.001 * 0.5 * (1 - sqrt(ks)) * mean; /* pA: tau_syn (s) x rate of charge */
		double lam = 8.0 * round(K_EXT[t] * ks) * DT / 1000;
		for (uint32_t i = first[t]; i < first[t + 1]; i++) {
			v[i] = V0_MEAN[t] + V0_SD[t] * normal(&rs) + 65; /* relative to E_L */
			cur[i] = 0;
			ref[i] = 0;
			dcp[i] = p20 * dc;
			emlam[i] = exp(-lam);
			wext[i] = psc * wf;
			if (intfire == 1 || intfire == 3) {
				double x;
				do
					x = 1 + 0.1 * normal(&rs);
				while (x <= 0);
				wext[i] *= x;
			}
			pop[i] = (uint8_t)t;
		}
	}
	float *ring = xmalloc((size_t)RING * ntot * sizeof *ring);
	memset(ring, 0, (size_t)RING * ntot * sizeof *ring);

	FILE *out[NPOP];
	for (int t = 0; t < NPOP; t++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s_spikes.csv", dir, POP[t]);
		out[t] = fopen(path, "w");
		if (!out[t]) {
			fprintf(stderr, "mc_ref: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		fprintf(out[t], "neuron,time_ms\n");
	}
	long steps = lround(dur / DT);
	uint32_t *fired = xmalloc(ntot * sizeof *fired);
	uint64_t nspk = 0, events = 0;
	time_t t0 = time(NULL);
	const double theta = 15; /* -50 mV relative to E_L */
	for (long st = 0; st < steps; st++) {
		float *slot = ring + (size_t)(st % RING) * ntot;
		uint32_t nf = 0;
		for (uint32_t i = 0; i < ntot; i++) {
			if (ref[i] == 0)
				v[i] = v[i] * p22 + cur[i] * p21 + dcp[i];
			else
				ref[i]--;
			int ext = poisson(&rs, emlam[i]);
			if (intfire == 0 || intfire == 3 || ref[i] == 0)
				cur[i] = cur[i] * p11 + slot[i] + wext[i] * ext;
			slot[i] = 0;
			if (v[i] >= theta) {
				ref[i] = 20;
				v[i] = 0;
				fired[nf++] = i;
			}
		}
		for (uint32_t f = 0; f < nf; f++) {
			uint32_t i = fired[f];
			int t = pop[i];
			fprintf(out[t], "%u,%.1f\n", i - first[t], (st + 1) * DT);
			for (uint64_t k = off[i]; k < off[i + 1]; k++)
				ring[(size_t)((st + dl[k]) % RING) * ntot + tgt[k]] += wt[k];
			events += off[i + 1] - off[i];
		}
		nspk += nf;
		if ((st + 1) % 1000 == 0)
			fprintf(stderr, "mc_ref: %.0f ms, %llu spikes, %ld s\n", (st + 1) * DT,
			        (unsigned long long)nspk, (long)(time(NULL) - t0));
	}
	free(off);
	free(tgt);
	free(wt);
	free(dl);
	free(v);
	free(cur);
	free(dcp);
	free(emlam);
	free(wext);
	free(ref);
	free(pop);
	free(ring);
	free(fired);
	for (int t = 0; t < NPOP; t++)
		if (fclose(out[t])) {
			fprintf(stderr, "mc_ref: writing %s: %s\n", POP[t], strerror(errno));
			return 1;
		}
	char path[4096];
	snprintf(path, sizeof path, "%s/sizes.json", dir);
	FILE *js = fopen(path, "w");
	if (!js) {
		fprintf(stderr, "mc_ref: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(js, "{\"dt_ms\": %.1f, \"steps\": %ld, \"populations\": [", DT, steps);
	for (int t = 0; t < NPOP; t++)
		fprintf(js, "%s{\"label\": \"%s\", \"size\": %u}", t ? ", " : "", POP[t], n[t]);
	fprintf(js, "]}\n");
	if (fclose(js))
		return 1;
	fprintf(stderr, "mc_ref: %llu spikes, %llu synaptic events, %ld s\n",
	        (unsigned long long)nspk, (unsigned long long)events, (long)(time(NULL) - t0));
	return 0;
}
