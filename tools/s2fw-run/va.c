/*
 * s2fw-run va: the Vogels-Abbott CUBA benchmark network (Brette et al. 2007, as in PyNN's
 * examples/VAbenchmarks.py) on many PEs of the firmware engine (host build), one process:
 * every PE is a struct s2_eng with its own DRAM; spikes sent in a timestep are routed to the
 * PEs whose key table knows the key before the next timestep. Prints population rates.
 *
 *   s2fw-run va [--n 4000] [--duration 1000] [--seed 1] [--json]
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "pdbuild.h"
#include "s2/error.h"
#include "s2/wire.h"

int va_main(int argc, char **argv);

#define PE_DRAM (1u << 20)
#define DRAM_BASE 0x00100000u

enum { POP_EXC, POP_INH, POP_STIM, N_POPS };

struct pe {
	struct s2_eng *eng;
	uint8_t *blob, *dram;
	unsigned pop, lo, n;
	uint32_t key_base;
};

static struct pe *pes;
static unsigned n_pes;
static uint32_t *sent;
static size_t n_sent, cap_sent;
static uint64_t pop_spikes[N_POPS];

static int va_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct pe *p = ctx;
	if (addr < DRAM_BASE || len > DRAM_BASE + PE_DRAM - addr)
		return S2_E_RANGE;
	memcpy(dst, p->dram + (addr - DRAM_BASE), len);
	return 0;
}

static int va_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct pe *p = ctx;
	if (addr < DRAM_BASE || len > DRAM_BASE + PE_DRAM - addr)
		return S2_E_RANGE;
	memcpy(p->dram + (addr - DRAM_BASE), src, len);
	return 0;
}

static void va_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)payload; /* LIF spikes carry none */
	struct pe *p = ctx;
	pop_spikes[p->pop]++;
	if (n_sent == cap_sent) {
		cap_sent = cap_sent ? 2 * cap_sent : 4096;
		sent = realloc(sent, cap_sent * sizeof *sent);
		if (!sent)
			exit(1);
	}
	sent[n_sent++] = key;
}

static void va_record(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx;
	(void)s;
	(void)d;
	(void)len;
}

static bool routes_to(const struct s2_eng *e, uint32_t key)
{
	for (unsigned k = 0; k < e->n_table; k++)
		if (key - e->table[k].key_lo < e->table[k].n_keys)
			return true;
	return false;
}

int va_main(int argc, char **argv)
{
	static const struct option opts[] = {{"n", required_argument, 0, 'n'},
	                                     {"duration", required_argument, 0, 'd'},
	                                     {"seed", required_argument, 0, 's'},
	                                     {"json", no_argument, 0, 'j'},
	                                     {0, 0, 0, 0}};
	unsigned n = 4000, seed = 1;
	double duration = 1000;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n = (unsigned)atoi(optarg);
		else if (c == 'd')
			duration = atof(optarg);
		else if (c == 's')
			seed = (unsigned)atoi(optarg);
		else if (c == 'j')
			json = true;
		else {
			fprintf(stderr,
			        "usage: s2fw-run va [--n N] [--duration MS] [--seed N] [--json]\n");
			return 2;
		}
	}
	if (n < 10 || n > 100000 || !(duration > 0)) {
		fprintf(stderr, "s2fw-run va: --n 10..100000, --duration > 0\n");
		return 2;
	}
	/* PyNN VAbenchmarks.py, CUBA. */
	const double dt = 0.1, cm = 0.2, tau_m = 20, v_rest = -49, v_thresh = -50, v_reset = -60,
	             t_refrac = 5, tau_exc = 5, tau_inh = 10, v_mean = -60;
	const double w_exc = 1e-3 * 0.27 * (0 - v_mean);   /* nA */
	const double w_inh = -1e-3 * 4.5 * (-80 - v_mean); /* nA, on the inhibitory receptor */
	const double pconn = 0.02, rconn = 0.01, delay_steps = 2; /* 0.2 ms */
	const double units = 1000; /* weight units per synapse weight: headroom in the rings */
	unsigned size[N_POPS] = {(unsigned)lround(n * 4.0 / 5.0), 0, 20};
	size[POP_INH] = n - size[POP_EXC];

	unsigned max_pes = 0;
	for (unsigned p = 0; p < N_POPS; p++)
		max_pes += (size[p] + S2_PE_MAX_NEURONS - 1) / S2_PE_MAX_NEURONS;
	pes = calloc(max_pes, sizeof *pes);
	for (unsigned p = 0; p < N_POPS; p++)
		for (unsigned lo = 0; lo < size[p]; lo += S2_PE_MAX_NEURONS) {
			struct pe *x = &pes[n_pes];
			x->pop = p;
			x->lo = lo;
			x->n = size[p] - lo < S2_PE_MAX_NEURONS ? size[p] - lo : S2_PE_MAX_NEURONS;
			x->key_base = (n_pes + 1u) << 8;
			n_pes++;
		}
	struct s2f_rng rng;
	s2f_rng_seed(&rng, seed);
	double t0 = (double)clock() / CLOCKS_PER_SEC;
	for (unsigned i = 0; i < n_pes; i++) {
		struct pe *x = &pes[i];
		struct pdb b;
		bool stim = x->pop == POP_STIM;
		pdb_init(&b, stim ? S2_MODEL_POISSON : S2_MODEL_LIF_CURR_EXP, x->n, 100,
		         x->key_base, s2f_hash2(seed, i), (float)(w_exc / units),
		         (float)(w_inh / units), DRAM_BASE, PE_DRAM);
		pdb_begin(&b, S2_SECT_PARAMS);
		for (unsigned k = 0; k < x->n; k++) {
			float lif[S2_PE_PARAMS] = {(float)v_rest,  (float)v_reset, (float)v_thresh,
			                           (float)tau_m,   (float)cm,      (float)t_refrac,
			                           (float)tau_exc, (float)tau_inh, 0};
			float poi[S2_PE_PARAMS] = {100, 0, 50}; /* 100 Hz for the first 50 ms */
			for (unsigned j = 0; j < S2_PE_PARAMS; j++)
				pdb_f32(&b, stim ? poi[j] : lif[j]);
		}
		pdb_end(&b);
		if (!stim) {
			pdb_begin(&b, S2_SECT_STATE);
			for (unsigned k = 0; k < x->n; k++) {
				/* v uniform in [v_reset, v_thresh), as RandomDistribution in PyNN.
				 */
				pdb_f32(&b, (float)(v_reset +
				                    (v_thresh - v_reset) * s2f_rng_uniform(&rng)));
				pdb_f32(&b, 0);
				pdb_f32(&b, 0);
				pdb_f32(&b, 0);
			}
			pdb_end(&b);
			pdb_begin(&b, S2_SECT_EXPAND);
			for (unsigned j = 0; j < n_pes; j++) {
				const struct pe *src = &pes[j];
				struct s2_pe_expand e = {
				        .connector = S2_CONN_FIXED_PROB,
				        .receptor = src->pop == POP_INH,
				        .key_lo = src->key_base,
				        .n_keys = 256,
				        .part_bits = 8,
				        .per_part = (uint16_t)src->n,
				        .pre_lo = src->lo,
				        .n_pre = src->n,
				        .pre_total = size[src->pop],
				        .post_lo = x->lo,
				        .post_total = size[x->pop],
				        .p = (float)(src->pop == POP_STIM ? rconn : pconn),
				        .w_a = (float)units,
				        .d_a = (float)delay_steps,
				        .seed = s2f_hash2(seed, src->pop * 16u + x->pop),
				};
				s2_pedata_expand_encode(pdb_grow(&b, S2_PE_EXPAND_LEN), &e);
			}
			pdb_end(&b);
		}
		size_t len;
		x->blob = pdb_finish(&b, &len);
		x->dram = calloc(1, PE_DRAM);
		x->eng = calloc(1, sizeof *x->eng);
		if (!x->dram || !x->eng)
			return 1;
		const struct s2_eng_hal hal = {x, va_read, va_write, va_send, va_record, NULL};
		int rc = s2_eng_init(x->eng, x->blob, len, &hal);
		if (rc < 0) {
			fprintf(stderr, "s2fw-run va: PE %u: %s\n", i, s2_strerror(rc));
			return 1;
		}
	}
	double t1 = (double)clock() / CLOCKS_PER_SEC;
	unsigned steps = (unsigned)lround(duration / dt);
	uint64_t events = 0;
	for (unsigned t = 0; t < steps; t++) {
		n_sent = 0;
		for (unsigned i = 0; i < n_pes; i++)
			s2_eng_tick(pes[i].eng);
		for (size_t s = 0; s < n_sent; s++)
			for (unsigned i = 0; i < n_pes; i++)
				if (routes_to(pes[i].eng, sent[s]))
					s2_eng_receive(pes[i].eng, sent[s], NULL);
	}
	double t2 = (double)clock() / CLOCKS_PER_SEC;
	uint64_t sat = 0;
	for (unsigned i = 0; i < n_pes; i++) {
		events += pes[i].eng->c.synaptic_events;
		sat += pes[i].eng->c.ring_saturated;
	}
	double secs = duration / 1000.0;
	double r_exc = (double)pop_spikes[POP_EXC] / size[POP_EXC] / secs;
	double r_inh = (double)pop_spikes[POP_INH] / size[POP_INH] / secs;
	if (json)
		printf("{\"n\":%u,\"pes\":%u,\"duration_ms\":%g,\"rate_exc\":%.3f,\"rate_inh\":%."
		       "3f,"
		       "\"synaptic_events\":%llu,\"ring_saturated\":%llu,\"build_s\":%.3f,\"run_"
		       "s\":%.3f}\n",
		       n, n_pes, duration, r_exc, r_inh, (unsigned long long)events,
		       (unsigned long long)sat, t1 - t0, t2 - t1);
	else
		printf("Vogels-Abbott CUBA, %u cells on %u PEs, %g ms: exc %.2f Hz, inh %.2f Hz; "
		       "%llu synaptic events (%llu saturated); build %.2f s, run %.2f s\n",
		       n, n_pes, duration, r_exc, r_inh, (unsigned long long)events,
		       (unsigned long long)sat, t1 - t0, t2 - t1);
	for (unsigned i = 0; i < n_pes; i++) {
		free(pes[i].blob);
		free(pes[i].dram);
		free(pes[i].eng);
	}
	free(pes);
	free(sent);
	return 0;
}
