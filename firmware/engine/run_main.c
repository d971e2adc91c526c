/*
 * fw_engine_run: one application PE on its own, for comparing builds. Reads pedata.bin (a
 * PE data blob) and input.bin (the spikes that reach the PE), runs the engine, and writes
 * output.bin (recorded spikes and voltages, and the activity counters) — all in the working
 * directory, through the port's host files (semihosting under QEMU, stdio in the host
 * build). The QEMU and host outputs of the same inputs must be identical byte for byte.
 *
 * input.bin:  'S2IN' u32, n_steps u32, n u32, then n x (step u32, key u32) sorted by step: a
 *             spike with key `key` that a source sent in timestep `step`; or 'S2IP' u32,
 *             n_steps u32, n u32, then n x (step u32, key u32, payload u32): bit 31 of step
 *             set means the packet carries the payload (graded events, docs/egru.md).
 * output.bin: 'S2OU' u32, n_steps u32, spike_bytes u32, v_bytes u32, the spike recording,
 *             the voltage recording (f32), then the counters of engine.h as 12 x u64.
 * weights.bin (with plastic synapses, after s2_plastic_flush): 'S2WT' u32, n u32, the plasticity
 *             counters (plastic.h) as 5 x u64, then n x (entry u32 (sorted table index), row
 *             u32, synaptic word u32, weight f32 in the receptor's unit).
 * update.bin (optional, pause and resume): step u32, then a PE data blob that the engine takes
 *             with s2_eng_update() before computing that step (refused: exit 1).
 * The chip DRAM window (port.h) holds: the blob at 0, synaptic rows from 1 MiB (the blob's
 * dram_base/dram_size must lie in [1 MiB, 12 MiB)), recordings from 12 MiB, input at 15 MiB.
 */
#include <string.h>

#include "engine.h"
#include "port.h"
#include "s2/wire.h"

#define BLOB_MAX (1u << 20)
#define REC_SPIKES (12u << 20)
#define REC_V (14u << 20)
#define INPUT_AT (15u << 20)
#define ROWS_LO (1u << 20)
#define ROWS_HI (12u << 20)

static struct s2_eng eng;
static uint8_t *dram;
static uint32_t dram_size, rec_len[2];
static uint32_t out_head[4];

static int hal_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	(void)ctx;
	if (addr < ROWS_LO || addr > ROWS_HI || len > ROWS_HI - addr)
		return -8;
	memcpy(dst, dram + addr, len);
	return 0;
}

static int hal_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	(void)ctx;
	if (addr < ROWS_LO || addr > ROWS_HI || len > ROWS_HI - addr)
		return -8;
	memcpy(dram + addr, src, len);
	return 0;
}

static void hal_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	(void)key; /* a PE on its own: the spikes are in the recording */
	(void)payload;
}

static void hal_record(void *ctx, unsigned stream, const void *data, uint32_t len)
{
	(void)ctx;
	uint32_t base = stream ? REC_V : REC_SPIKES,
	         cap = stream ? INPUT_AT - REC_V : REC_V - REC_SPIKES;
	if (len > cap - rec_len[stream])
		return;
	memcpy(dram + base + rec_len[stream], data, len);
	rec_len[stream] += len;
}

static void fail(const char *what)
{
	s2_port_puts("fw_engine_run: ");
	s2_port_puts(what);
	s2_port_puts("\n");
	s2_port_exit(1);
}

static uint8_t *wout;
static uint32_t wlen, wk, wr;

static void weight_out(void *ctx, uint32_t word, float w)
{
	(void)ctx;
	if (wlen + 16u > (1u << 20))
		fail("weights too large for weights.bin");
	uint32_t u;
	memcpy(&u, &w, 4);
	s2_st32(wout + wlen, wk);
	s2_st32(wout + wlen + 4, wr);
	s2_st32(wout + wlen + 8, word);
	s2_st32(wout + wlen + 12, u);
	wlen += 16;
}

/* The learned weights (plastic.h), in the area at out (the input area, no longer needed). */
static void write_weights(uint8_t *out)
{
	if (s2_plastic_flush(&eng) < 0)
		fail("plastic rows out of DRAM");
	wout = out;
	wlen = 48;
	for (wk = 0; wk < eng.n_table; wk++) {
		const struct s2_eng_entry *t = &eng.table[wk];
		if (!t->plastic)
			continue;
		for (wr = 0; wr < t->n_rows; wr++) {
			uint32_t iw, n;
			if (hal_read(NULL, t->index + wr * 4u, &iw, 4) < 0)
				fail("plastic rows out of DRAM");
			n = iw & 0x7FFu;
			if (n > S2_PE_ROW_MAX ||
			    hal_read(NULL, t->data + (iw >> 11) * 4u, eng.row, n * 4u) < 0 ||
			    s2_plastic_row_decode(&eng.pl.r[t->plastic - 1u], eng.pd.w_scale_e,
			                          eng.pd.w_scale_i, eng.row, n, weight_out,
			                          NULL) < 0)
				fail("a malformed plastic row");
		}
	}
	s2_st32(out, 0x54573253u);
	s2_st32(out + 4, (wlen - 48u) / 16u);
	const uint64_t *c = &eng.pl.c.updates;
	for (unsigned i = 0; i < 5; i++)
		s2_st64(out + 8 + 8 * i, c[i]);
	if (s2_port_file_write("weights.bin", out, wlen) != (long)wlen)
		fail("cannot write weights.bin");
}

int main(void)
{
	s2_port_init();
	dram = s2_port_dram(&dram_size);
	if (!dram || dram_size < (16u << 20))
		fail("no DRAM window in this port");
	long n = s2_port_file_read("pedata.bin", dram, BLOB_MAX);
	if (n <= 0)
		fail("cannot read pedata.bin");
	const struct s2_eng_hal hal = {NULL, hal_read, hal_write, hal_send, hal_record, NULL};
	int rc = s2_eng_init(&eng, dram, (size_t)n, &hal);
	if (rc < 0)
		fail("pedata.bin refused by the engine");
	long m = s2_port_file_read("input.bin", dram + INPUT_AT, 1u << 20);
	uint32_t magic = m < 12 ? 0 : s2_ld32(dram + INPUT_AT);
	if (magic != 0x4E493253u && magic != 0x50493253u)
		fail("cannot read input.bin");
	uint32_t ent = magic == 0x50493253u ? 12u : 8u; /* 'S2IP': with payloads */
	uint32_t steps = s2_ld32(dram + INPUT_AT + 4), n_in = s2_ld32(dram + INPUT_AT + 8);
	if ((uint64_t)n_in * ent > (uint64_t)m - 12u)
		fail("input.bin is truncated");
	const uint8_t *in = dram + INPUT_AT + 12;
	/* update.bin goes after the blob, in the first MiB */
	uint32_t at = ((uint32_t)n + 7u) & ~7u, upd_step = UINT32_MAX;
	long u = s2_port_file_read("update.bin", dram + at, BLOB_MAX - at);
	if (u > 4)
		upd_step = s2_ld32(dram + at);
	uint32_t next = 0;
	for (uint32_t t = 0; t < steps; t++) {
		if (t == upd_step && s2_eng_update(&eng, dram + at + 4, (size_t)u - 4u) < 0)
			fail("update.bin refused by the engine");
		s2_eng_tick(&eng);
		while (next < n_in && (s2_ld32(in + ent * next) & 0x7FFFFFFFu) <= t) {
			const uint8_t *x = in + ent * next;
			uint32_t st = s2_ld32(x), pl = ent == 12u ? s2_ld32(x + 8) : 0;
			if ((st & 0x7FFFFFFFu) == t)
				s2_eng_receive(&eng, s2_ld32(x + 4), (st >> 31) ? &pl : NULL);
			next++;
		}
	}
	/* Output, assembled after the recordings in the input area (no longer needed). */
	uint8_t *out = dram + INPUT_AT;
	uint32_t len = 16;
	s2_st32(out, 0x554F3253u);
	s2_st32(out + 4, steps);
	s2_st32(out + 8, rec_len[0]);
	s2_st32(out + 12, rec_len[1]);
	if (rec_len[0] + rec_len[1] + 16u + sizeof eng.c > (1u << 20))
		fail("recordings too large for output.bin");
	/* (the recordings lie below INPUT_AT, the output within 1 MiB above it: no overlap) */
	memcpy(out + len, dram + REC_SPIKES, rec_len[0]);
	len += rec_len[0];
	memcpy(out + len, dram + REC_V, rec_len[1]);
	len += rec_len[1];
	const uint64_t *cnt = &eng.c.steps;
	for (unsigned i = 0; i < sizeof eng.c / sizeof(uint64_t); i++, len += 8)
		s2_st64(out + len, cnt[i]);
	(void)out_head;
	if (s2_port_file_write("output.bin", out, len) != (long)len)
		fail("cannot write output.bin");
	if (eng.pl.n)
		write_weights(out);
	return 0;
}
