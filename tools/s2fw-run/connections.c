/*
 * s2fw-run connections IMAGE -o FILE: the synapses a compiled network has on the machine,
 * computed on the host. Every application PE of the image is started with the host build of
 * the firmware engine (s2_eng_init: the same source that runs on the PEs expands the
 * statistical connectors and copies the explicit rows), one PE at a time, and its rows are
 * read back from its DRAM and written out with population indices, so the host knows exactly
 * the connections the PEs draw (docs/engine.md, "Connections known on the host"; pyNN.s2's
 * Projection.get/size/save read the file).
 *
 * The file (little-endian):
 *   header, 32 bytes: magic 'S2CN' (0x4E433253) u32, version 1 u32, n_entries u32, n_pops u32,
 *                     n_conns u64, dt_ms f64
 *   n_entries x 32 bytes, one per key-table entry of each PE in the order the engine made
 *   them (explicit rows first, then one per expansion descriptor in the descriptor order):
 *     pe u32 (image order), post_pop u32, pre_pop u32, key_lo u32,
 *     kind u8 (0 explicit rows, 1 expansion descriptor), connector u8 (enum s2_pe_connector,
 *     0 for explicit), receptor u8 (descriptor's; 255 for explicit), 0 u8,
 *     first u32 (its first connection), count u32, 0 u32
 *   n_conns x 16 bytes: pre u32 (index in pre_pop), post u32 (index in post_pop),
 *     weight f32 (units x w_scale of the receptor: nA, uS or mV; plastic synapses: the
 *     rule's weight, plastic.h), delay u16 (timesteps), receptor u8, 0 u8
 *
 * Learned weights (docs/engine.md "Plasticity"): -a AREAS writes, per PE with plastic
 * synapses, a line "PE BOARD CHIP ADDR LEN": the chip DRAM bytes [ADDR, ADDR + LEN) that hold
 * its plastic rows on the machine; -d DIR then takes DIR/peN.bin (those LEN bytes, read from
 * the machine after a run) in place of the rows the engine made, so the file lists the
 * weights the machine learned.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "s2/app.h"
#include "s2/plan.h"
#include "s2/error.h"
#include "s2/wire.h"

int connections_main(int argc, char **argv);

#define CN_MAGIC 0x4E433253u
#define CN_DRAM (256u << 20) /* one PE's rows; calloc: untouched pages cost nothing */

struct cn_pe {
	uint8_t *dram;
};

static int c_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct cn_pe *p = ctx;
	if (addr > CN_DRAM || len > CN_DRAM - addr)
		return S2_E_RANGE;
	memcpy(dst, p->dram + addr, len);
	return 0;
}

static int c_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct cn_pe *p = ctx;
	if (addr > CN_DRAM || len > CN_DRAM - addr)
		return S2_E_RANGE;
	memcpy(p->dram + addr, src, len);
	return 0;
}

static void c_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	(void)key;
	(void)payload;
}

static void c_record(void *ctx, unsigned s, const void *d, uint32_t len)
{
	(void)ctx;
	(void)s;
	(void)d;
	(void)len;
}

/* A PE of the image: its population part and first key. */
struct cn_src {
	uint32_t key, pop, lo;
};

static int by_index(const void *a, const void *b)
{
	const struct s2_eng_entry *x = *(const struct s2_eng_entry *const *)a,
	                          *y = *(const struct s2_eng_entry *const *)b;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/* A plastic synapse into the output (s2_plastic_row_decode's callback). */
struct cn_out {
	uint8_t **conns;
	size_t *n_conns;
	uint32_t pre, post_lo;
	const struct s2_pl_rule *rule;
};

static void plastic_out(void *ctx, uint32_t w, float wv)
{
	struct cn_out *x = ctx;
	uint32_t wb;
	memcpy(&wb, &wv, 4);
	uint8_t *o = *x->conns + (*x->n_conns)++ * 16u;
	s2_st32(o, x->pre);
	s2_st32(o + 4, x->post_lo + s2_syn_neuron(w));
	s2_st32(o + 8, wb);
	s2_st16(o + 12, (uint16_t)s2_syn_delay(w));
	o[14] = (uint8_t)s2_syn_receptor(w);
	o[15] = 0;
}

/* The DRAM span [*lo, *hi) of the PE's plastic rows (allocated last, together); false if none. */
static bool plastic_span(struct s2_eng *e, struct cn_pe *pe, uint32_t *lo, uint32_t *hi)
{
	bool any = false;
	*lo = UINT32_MAX;
	*hi = 0;
	for (unsigned k = 0; k < e->n_table; k++) {
		const struct s2_eng_entry *t = &e->table[k];
		if (!t->plastic)
			continue;
		any = true;
		*lo = t->index < *lo ? t->index : *lo;
		uint32_t end = t->index + t->n_rows * 4u;
		for (uint32_t r = 0; r < t->n_rows; r++) {
			uint32_t iw;
			if (c_read(pe, t->index + r * 4u, &iw, 4) < 0)
				return false;
			uint32_t x = t->data + ((iw >> 11) + (iw & 0x7FFu)) * 4u;
			end = x > end ? x : end;
		}
		*hi = end > *hi ? end : *hi;
	}
	if (any && e->pl.cnt_addr + 48u > *hi) /* the counters' copy (plastic.h) */
		*hi = e->pl.cnt_addr + 48u;
	return any;
}

int connections_main(int argc, char **argv)
{
	static const char usage[] =
	        "usage: s2fw-run connections IMAGE -o FILE [-a AREAS] [-d DRAM_DIR]\n";
	const char *out = NULL, *areas = NULL, *dram_dir = NULL;
	FILE *af = NULL;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "o:a:d:")) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'a')
			areas = optarg;
		else if (c == 'd')
			dram_dir = optarg;
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		fputs(usage, stderr);
		return 2;
	}
	char err[512];
	struct s2_plan *plan = s2_plan_load(argv[optind], err, sizeof err);
	if (!plan) {
		fprintf(stderr, "s2fw-run connections: %s\n", err);
		return 3;
	}
	int rc = 1;
	FILE *f = NULL;
	struct s2_eng *e = calloc(1, sizeof *e);
	struct cn_src *src = calloc(plan->pes + 1, sizeof *src);
	const struct s2_eng_entry *order[S2_PE_MAX_TABLE];
	uint8_t *conns = NULL, *ents = NULL;
	size_t n_conns = 0, cap_conns = 0, n_ents = 0, cap_ents = 0;
	struct cn_pe pe = {NULL};
	uint64_t pl_cnt[5] = {0};
	if (!e || !src)
		goto out;
	/* Keys of every PE: a run's first key is the first key of a PE. */
	size_t n = 0;
	for (unsigned b = 0; b < plan->n_boards; b++)
		for (unsigned ch = 0; ch < plan->boards[b].n_chips; ch++)
			for (unsigned q = 0; q < plan->boards[b].chips[ch].n_pes; q++) {
				const struct s2_app_pe *ap = &plan->boards[b].chips[ch].pes[q];
				const struct s2_plan_pe_info *in = &plan->boards[b].info[ch][q];
				src[n++] =
				        (struct cn_src){s2_ld32(ap->pedata + 16), in->pop, in->lo};
			}
	size_t pe_no = 0;
	for (unsigned b = 0; b < plan->n_boards; b++)
		for (unsigned ch = 0; ch < plan->boards[b].n_chips; ch++)
			for (unsigned q = 0; q < plan->boards[b].chips[ch].n_pes; q++, pe_no++) {
				struct s2_app_pe *ap = &plan->boards[b].chips[ch].pes[q];
				const struct s2_plan_pe_info *in = &plan->boards[b].info[ch][q];
				/* where the loader puts the PE's rows on the machine */
				uint32_t mbase =
				        s2_app_area(q, plan->boards[b].chips[ch].n_pes).rows;
				s2_st32(ap->pedata + 32, 0);
				s2_st32(ap->pedata + 36, CN_DRAM);
				free(pe.dram);
				if (!(pe.dram = calloc(1, CN_DRAM)))
					goto out;
				const struct s2_eng_hal hal = {&pe,    c_read,   c_write,
				                               c_send, c_record, NULL};
				int r = s2_eng_init(e, ap->pedata, ap->len, &hal);
				if (r < 0) {
					fprintf(stderr,
					        "s2fw-run connections: board %u chip %u PE %u: "
					        "%s\n",
					        plan->boards[b].board,
					        plan->boards[b].chips[ch].chip, ap->pe,
					        s2_strerror(r));
					goto out;
				}
				uint32_t plo, phi;
				if (e->pl.n && plastic_span(e, &pe, &plo, &phi)) {
					if (areas && (af || (af = fopen(areas, "w"))))
						fprintf(af, "%zu %u %u %u %u\n", pe_no,
						        plan->boards[b].board,
						        plan->boards[b].chips[ch].chip, mbase + plo,
						        phi - plo);
					char path[4096];
					snprintf(path, sizeof path, "%s/pe%zu.bin",
					         dram_dir ? dram_dir : "", pe_no);
					FILE *df = dram_dir ? fopen(path, "rb") : NULL;
					if (dram_dir && (!df || fread(pe.dram + plo, 1, phi - plo,
					                              df) != phi - plo)) {
						fprintf(stderr,
						        "s2fw-run connections: %s: cannot read %u "
						        "bytes\n",
						        path, phi - plo);
						if (df)
							fclose(df);
						goto out;
					}
					if (df)
						fclose(df);
					if (dram_dir &&
					    s2_ld32(pe.dram + e->pl.cnt_addr) == 0x43503253u)
						for (unsigned k = 0; k < 5; k++)
							pl_cnt[k] +=
							        s2_ld64(pe.dram + e->pl.cnt_addr +
							                8 + 8 * k);
				}
				/* Creation order (struct s2_eng_entry ord). */
				for (unsigned k = 0; k < e->n_table; k++)
					order[k] = &e->table[k];
				qsort(order, e->n_table, sizeof order[0], by_index);
				unsigned n_exp = s2_pedata_n_expand(&e->pd);
				if (n_exp > e->n_table)
					goto out;
				unsigned n_expl = e->n_table - n_exp;
				for (unsigned k = 0; k < e->n_table; k++) {
					const struct s2_eng_entry *t = order[k];
					struct s2_pe_expand x = {0};
					if (k >= n_expl &&
					    s2_pedata_expand_decode(&e->pd, k - n_expl, &x) < 0)
						goto out;
					const struct cn_src *s = NULL;
					for (size_t i = 0; i < n && !s; i++)
						if (src[i].key == t->key_lo)
							s = &src[i];
					if (!s) {
						fprintf(stderr,
						        "s2fw-run connections: PE %zu: no "
						        "population "
						        "sends key 0x%08x\n",
						        pe_no, t->key_lo);
						goto out;
					}
					size_t first = n_conns;
					for (uint32_t r0 = 0; r0 < t->n_rows; r0++) {
						uint32_t iw, cnt;
						if (c_read(&pe, t->index + r0 * 4u, &iw, 4) < 0)
							goto out;
						cnt = iw & 0x7FFu;
						if (cnt > S2_PE_ROW_MAX ||
						    c_read(&pe, t->data + (iw >> 11) * 4u, e->row,
						           cnt * 4u) < 0)
							goto out;
						if (t->plastic && n_conns + cnt > cap_conns) {
							cap_conns = 2 * (n_conns + cnt) + 4096;
							uint8_t *g =
							        realloc(conns, cap_conns * 16u);
							if (!g)
								goto out;
							conns = g;
						}
						if (t->plastic) {
							struct cn_out co = {
							        &conns, &n_conns, s->lo + r0,
							        in->lo, &e->pl.r[t->plastic - 1u]};
							if (s2_plastic_row_decode(
							            co.rule, e->pd.w_scale_e,
							            e->pd.w_scale_i, e->row, cnt,
							            plastic_out, &co) < 0)
								goto out;
							continue;
						}
						if (n_conns + cnt > cap_conns) {
							cap_conns = 2 * (n_conns + cnt) + 4096;
							uint8_t *g =
							        realloc(conns, cap_conns * 16u);
							if (!g)
								goto out;
							conns = g;
						}
						for (uint32_t i = 0; i < cnt; i++) {
							uint32_t w = e->row[i];
							unsigned rcp = s2_syn_receptor(w);
							float sc = rcp ? e->pd.w_scale_i
							               : e->pd.w_scale_e;
							float wv = (float)s2_syn_weight(w) * sc;
							uint32_t wb;
							memcpy(&wb, &wv, 4);
							uint8_t *o = conns + n_conns++ * 16u;
							s2_st32(o, s->lo + r0);
							s2_st32(o + 4, in->lo + s2_syn_neuron(w));
							s2_st32(o + 8, wb);
							s2_st16(o + 12, (uint16_t)s2_syn_delay(w));
							o[14] = (uint8_t)rcp;
							o[15] = 0;
						}
					}
					if (n_ents == cap_ents) {
						cap_ents = 2 * cap_ents + 256;
						uint8_t *g = realloc(ents, cap_ents * 32u);
						if (!g)
							goto out;
						ents = g;
					}
					uint8_t *o = ents + n_ents++ * 32u;
					memset(o, 0, 32);
					s2_st32(o, (uint32_t)pe_no);
					s2_st32(o + 4, in->pop);
					s2_st32(o + 8, s->pop);
					s2_st32(o + 12, t->key_lo);
					o[16] = k >= n_expl;
					o[17] = k >= n_expl ? x.connector : 0;
					o[18] = k >= n_expl ? x.receptor : 255;
					s2_st32(o + 20, (uint32_t)first);
					s2_st32(o + 24, (uint32_t)(n_conns - first));
				}
			}
	if (dram_dir) /* what the machine's plasticity counted (plastic.h), for pyNN.s2 to warn */
		printf("plastic updates %llu zero %llu clipped %llu hist_lost %llu queue_full "
		       "%llu\n",
		       (unsigned long long)pl_cnt[0], (unsigned long long)pl_cnt[1],
		       (unsigned long long)pl_cnt[2], (unsigned long long)pl_cnt[3],
		       (unsigned long long)pl_cnt[4]);
	uint8_t head[32];
	s2_st32(head, CN_MAGIC);
	s2_st32(head + 4, 1);
	s2_st32(head + 8, (uint32_t)n_ents);
	s2_st32(head + 12, plan->n_pops);
	s2_st64(head + 16, n_conns);
	uint64_t dt_bits;
	memcpy(&dt_bits, &plan->dt_ms, 8);
	s2_st64(head + 24, dt_bits);
	if (!(f = fopen(out, "wb")) || put(f, head, 32) < 0 ||
	    (n_ents && put(f, ents, n_ents * 32u) < 0) ||
	    (n_conns && put(f, conns, n_conns * 16u) < 0)) {
		fprintf(stderr, "s2fw-run connections: %s: %s\n", out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (af && fclose(af) && rc == 0) {
		fprintf(stderr, "s2fw-run connections: %s: %s\n", areas, strerror(errno));
		rc = 1;
	}
	if (areas && !af && rc == 0 && (af = fopen(areas, "w"))) /* no plastic synapses */
		fclose(af);
	if (f && fclose(f) && rc == 0) {
		fprintf(stderr, "s2fw-run connections: %s: %s\n", out, strerror(errno));
		rc = 1;
	}
	if (rc && out)
		remove(out);
	free(pe.dram);
	free(conns);
	free(ents);
	free(src);
	free(e);
	s2_plan_free(plan);
	return rc;
}
