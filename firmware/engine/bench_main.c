/*
 * fw_engine_bench: the cost of synaptic events in the engine's inner loop (s2_eng_receive).
 * An engine of 128 LIF neurons with rows of L synapses in DRAM; P packets per run, for
 * several L. Under QEMU (run with -icount shift=0, one instruction = 1 ns of virtual time)
 * the SysTick timer, clocked at the MPS2 board's 25 MHz, counts 40 instructions per tick:
 * instructions per synaptic event = the slope of ticks over L. In the host build the port's
 * clock gives synaptic events per second of one host core. bench/engine.sh runs both.
 * The same for an EGRU layer (docs/egru.md): rows of L event words with a payload ("E" lines),
 * and steps of 128 units whose accumulators hold varied sums ("U" line: unit updates). And the
 * cost of a step of each neuron model ("S" lines: 128 neurons, ticks per run of steps).
 */
#include <stdbool.h>
#include <string.h>

#include "engine.h"
#include "port.h"
#include "s2/wire.h"

#define N 128u
#define ROWS 64u
#define PACKETS 20000u
#define KEY 0x01000000u

static struct s2_eng eng;
#define BLOB_LEN (64 + 12 * 2 + N * S2_PE_PARAMS * 4 + S2_PE_ROWS_HDR + ROWS * 257 * 4)
static uint8_t *blob; /* in the DRAM window, past the rows: too large for SRAM */
static uint8_t *dram;
static uint32_t dram_size;

static int rd(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx;
	if (addr > dram_size || len > dram_size - addr)
		return -8;
	memcpy(dst, dram + addr, len);
	return 0;
}

static int wr(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx;
	if (addr > dram_size || len > dram_size - addr)
		return -8;
	memcpy(dram + addr, src, len);
	return 0;
}

static void snd(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	(void)key;
	(void)payload;
}

static void rec(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx;
	(void)s;
	(void)d;
	(void)len;
}

static void putf32(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	s2_st32(p, u);
}

/* The PE-data header (pedata.h) of every blob here: n neurons of model, dt 0.1 ms, keys from
 * 0x100, weight units 0.001, a 4 MiB DRAM area at 1 MiB, n_sect sections; the rest zero (the
 * caller clears the blob). */
static void put_header(uint8_t *b, uint16_t model, uint16_t n, uint16_t n_sect)
{
	s2_st32(b, S2_PEDATA_MAGIC);
	s2_st16(b + 4, S2_PEDATA_VERSION);
	s2_st16(b + 6, model);
	s2_st16(b + 8, n);
	s2_st32(b + 12, 100);
	s2_st32(b + 16, 0x100);
	putf32(b + 24, 0.001f);
	putf32(b + 28, 0.001f);
	s2_st32(b + 32, 1u << 20);
	s2_st32(b + 36, 4u << 20);
	s2_st16(b + 40, n_sect);
}

/* Entry k of the section table: the section of type at offset off of the blob, len bytes.
 * Inlined: out of line, LTO places it before the engine's code, which moves the timed code and
 * with it QEMU's figures (the last digit of "EGRU units" and of hh_cond_exp when it did). */
__attribute__((always_inline)) static inline void put_sect(uint8_t *b, unsigned k, uint16_t type,
                                                           uint32_t off, uint32_t len)
{
	uint8_t *e = b + S2_PEDATA_HDR_LEN + S2_PEDATA_SECT_LEN * k;
	s2_st16(e, type);
	s2_st32(e + 4, off);
	s2_st32(e + 8, len);
}

/* A blob: 128 LIF neurons (or EGRU units), ROWS rows of L synapses (targets, delays or gates
 * spread). */
static size_t make_blob(unsigned L, bool egru)
{
	memset(blob, 0, BLOB_LEN);
	size_t params = N * S2_PE_PARAMS * 4, rows = S2_PE_ROWS_HDR + ROWS * (L + 1) * 4;
	size_t off = 64 + 2 * 12;
	put_header(blob, egru ? S2_MODEL_EGRU : S2_MODEL_LIF_CURR_EXP, N, 2);
	put_sect(blob, 0, S2_SECT_PARAMS, (uint32_t)off, (uint32_t)params);
	put_sect(blob, 1, S2_SECT_ROWS, (uint32_t)(off + params), (uint32_t)rows);
	static const float lif[S2_PE_PARAMS] = {-65, -65, -50, 20, 1, 1, 5, 5, 0};
	/* thr, b_u, b_r, b_cx, b_ch, shifts 6, 8-bit weights, start 0 */
	static const float eg[S2_PE_PARAMS] = {0.3f, 0.1f, -0.2f, 0.05f, 0.0f, 6, 6, 6, 6, 8, 0};
	for (unsigned i = 0; i < N; i++)
		for (unsigned j = 0; j < S2_PE_PARAMS; j++)
			putf32(blob + off + 4 * (i * S2_PE_PARAMS + j), egru ? eg[j] : lif[j]);
	uint8_t *r = blob + off + params;
	s2_st32(r, KEY);
	s2_st32(r + 4, 256);
	r[8] = 8;             /* part_bits */
	s2_st16(r + 10, 256); /* per_part */
	s2_st32(r + 12, ROWS);
	s2_st32(r + 16, L + 1);
	for (unsigned row = 0; row < ROWS; row++) {
		uint8_t *w = r + S2_PE_ROWS_HDR + row * (L + 1) * 4;
		s2_st32(w, L);
		for (unsigned k = 0; k < L; k++)
			s2_st32(w + 4 + 4 * k,
			        egru ? s2_ev_word((row * 7 + k * 13) % N, k & 3, (int)(k % 9) - 4)
			             : s2_syn_word((row * 7 + k * 13) % N, k & 1,
			                           1 + (row + k) % 64, 1 + k % 5));
	}
	return off + params + rows;
}

/* The per-step cost of the neuron models ("S" lines): 128 neurons of one shared parameter, state
 * (and PARAMS2) row, driven by a DC current (i_offset) so that they fire, no synapses; `steps`
 * steps of 0.1 ms (HH, 10 RK4 sub-steps per step, fewer). */
struct model_case {
	uint16_t model, steps;
	const float *p, *q; /* S2_PE_PARAMS values; S2_PE_PARAMS2 values or NULL (none) */
	float v0, u0;       /* initial state: v, and the second variable (Izhikevich's u) */
};

static const float lif_p[S2_PE_PARAMS] = {-65, -65, -50, 20, 1, 2, 5, 5, 1, 0, -70};
static const float izk_p[S2_PE_PARAMS] = {0.02f, 0.2f, -65, 8, 0.01f};
static const float adex_p[S2_PE_PARAMS] = {-70.6f, -70.6f, -50.4f, 9.3667f, 0.281f, 0.1f,
                                           5,      5,      1,      0,       -80,    -40};
static const float adex_q[S2_PE_PARAMS2] = {4, 0.0805f, 2, 144};
static const float hh_p[S2_PE_PARAMS] = {-65, -63, 20, 6, 0.2f, 0.01f, 0.2f, 2, 0.5f, 0, -80, 50};
static const float hh_q[S2_PE_PARAMS2] = {-90};
static const float sfa_p[S2_PE_PARAMS] = {-70, -70, -57, 20, 0.289f, 2, 1.5f, 10, 1, 0, -75, 110};
static const float sfa_q[S2_PE_PARAMS2] = {-75, 14.48f, 1.97f, -75, 3214};

static const struct model_case models[] = {
        {S2_MODEL_LIF_CURR_EXP, 100, lif_p, NULL, -50.5f, 0},
        {S2_MODEL_LIF_COND_EXP, 100, lif_p, NULL, -50.5f, 0},
        {S2_MODEL_IZHIKEVICH, 100, izk_p, NULL, -65, -13},
        {S2_MODEL_LIF_CURR_ALPHA, 100, lif_p, NULL, -50.5f, 0},
        {S2_MODEL_LIF_COND_ALPHA, 100, lif_p, NULL, -50.5f, 0},
        {S2_MODEL_ADEX_COND_EXP, 100, adex_p, adex_q, -51, 0},
        {S2_MODEL_HH_COND_EXP, 4, hh_p, hh_q, -65, 0},
        {S2_MODEL_LIF_COND_SFA, 100, sfa_p, sfa_q, -70, 0},
};

static size_t make_model_blob(const struct model_case *m)
{
	enum { P = S2_PE_PARAMS * 4, S = S2_PE_STATE * 4, Q = S2_PE_PARAMS2 * 4 };
	size_t off = 64 + 3 * 12;
	memset(blob, 0, off + P + S + Q);
	/* PARAMS2 only for the models that have it (pedata.h) */
	unsigned n_sect = m->q ? 3u : 2u;
	put_header(blob, m->model, N, (uint16_t)n_sect);
	static const uint16_t type[3] = {S2_SECT_PARAMS, S2_SECT_STATE, S2_SECT_PARAMS2};
	static const uint32_t size[3] = {P, S, Q};
	const float st[S2_PE_STATE] = {m->v0, m->u0};
	const float *src[3] = {m->p, st, m->q};
	for (unsigned k = 0, at = (unsigned)off; k < n_sect; at += size[k++]) {
		put_sect(blob, k, type[k], at, size[k]);
		for (unsigned j = 0; j < size[k] / 4; j++)
			putf32(blob + at + 4 * j, src[k][j]);
	}
	return off + P + S + (m->q ? Q : 0);
}

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static uint32_t now(void)
{
#ifdef S2FW_BENCH_SYSTICK
	return 0xFFFFFFu - SYST_CVR; /* counts up, 24 bits */
#else
	return s2_port_cycles();
#endif
}

/* Ticks since t0 (SysTick: 24 bits, so at most one wrap between the two readings). */
static uint32_t since(uint32_t t0)
{
#ifdef S2FW_BENCH_SYSTICK
	return (now() - t0) & 0xFFFFFFu;
#else
	return now() - t0;
#endif
}

static void put_u(uint64_t v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	s2_port_puts(b + i);
}

int main(void)
{
	s2_port_init();
#ifdef S2FW_BENCH_SYSTICK
	SYST_RVR = 0xFFFFFFu;
	SYST_CVR = 0;
	SYST_CSR = 5; /* enable, core clock, no interrupt */
#endif
#ifdef S2FW_BENCH_SYSTICK
	/* Calibration: a loop of exactly 2 instructions x 1,000,000 (subs, bne). */
	uint32_t n = 1000000u, c0 = now();
	__asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
	uint32_t c1 = now();
	s2_port_puts("calibration instructions 2000000 ticks ");
	put_u((c1 - c0) & 0xFFFFFFu);
	s2_port_puts("\n");
#endif
	dram = s2_port_dram(&dram_size);
	if (!dram || dram_size < (12u << 20))
		s2_port_exit(1);
	blob = dram + (8u << 20);
	static const unsigned lens[] = {0, 16, 64, 256};
	const struct s2_eng_hal hal = {NULL, rd, wr, snd, rec};
	for (unsigned li = 0; li < 2 * sizeof lens / sizeof lens[0]; li++) {
		bool egru = li >= sizeof lens / sizeof lens[0];
		unsigned L = lens[li % (sizeof lens / sizeof lens[0])];
		size_t len = make_blob(L, egru);
		if (s2_eng_init(&eng, blob, len, &hal) < 0)
			s2_port_exit(2);
		eng.t = 1;
		uint32_t t0 = now(), pl = 100;
		for (unsigned p = 0; p < PACKETS; p++) {
			s2_eng_receive(&eng, KEY | (p % ROWS), egru ? &pl : NULL);
			if ((p & 63) == 63) /* drain the rings now and then, as ticks would */
				memset(eng.ring, 0, sizeof eng.ring);
		}
		uint32_t t1 = now();
		s2_port_puts(egru ? "E " : "L ");
		put_u(L);
		s2_port_puts(" packets ");
		put_u(PACKETS);
		s2_port_puts(" events ");
		put_u(eng.c.synaptic_events);
		s2_port_puts(" ticks ");
#ifdef S2FW_BENCH_SYSTICK
		put_u((t1 - t0) & 0xFFFFFFu);
#else
		put_u(t1 - t0);
#endif
		s2_port_puts("\n");
	}
	/* EGRU unit updates: STEPS steps of 128 units, accumulators set before each step. */
	size_t len = make_blob(0, true);
	if (s2_eng_init(&eng, blob, len, &hal) < 0)
		s2_port_exit(2);
	enum { STEPS = 100 };
	uint32_t spent = 0;
	for (unsigned t = 0; t < STEPS; t++) {
		for (unsigned g = 0; g < S2_EV_GATES; g++)
			for (unsigned i = 0; i < N; i++)
				eng.acc[t & 1][g][i] =
				        (int32_t)((i * 37u + g * 101u + t * 13u) % 4001u) - 2000;
		uint32_t t0 = now();
		s2_eng_tick(&eng);
		spent += (now() - t0) & 0xFFFFFFu;
	}
	s2_port_puts("U units ");
	put_u(N);
	s2_port_puts(" steps ");
	put_u(STEPS);
	s2_port_puts(" events ");
	put_u(eng.c.spikes_sent);
	s2_port_puts(" ticks ");
	put_u(spent);
	s2_port_puts("\n");
	/* Neuron models: per-step cost ("S" lines). */
	for (unsigned mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
		len = make_model_blob(&models[mi]);
		if (s2_eng_init(&eng, blob, len, &hal) < 0)
			s2_port_exit(3);
		spent = 0;
		for (unsigned t = 0; t < models[mi].steps; t++) {
			uint32_t t0 = now();
			s2_eng_tick(&eng);
			spent += since(t0);
		}
		s2_port_puts("S model ");
		put_u(models[mi].model);
		s2_port_puts(" neurons ");
		put_u(N);
		s2_port_puts(" steps ");
		put_u(models[mi].steps);
		s2_port_puts(" spikes ");
		put_u(eng.c.spikes_sent);
		s2_port_puts(" ticks ");
		put_u(spent);
		s2_port_puts("\n");
	}
	return 0;
}
