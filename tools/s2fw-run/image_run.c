/*
 * s2fw-run image IMAGE [--duration MS] [-o RESULTS]: the engine's own expectation of a
 * compiled network. Every PE of the image runs the host build of the firmware engine in one
 * process; each spike goes to exactly the PEs whose key table holds its key (ideal routing,
 * no router tables, no network). `s2ctl run` on s2emu must produce the same results file,
 * byte for byte (tests/integration/test_run.sh).
 *
 * --dump DIR writes, for PE number i (image order), DIR/pe<i>/pedata.bin and input.bin in
 * the format of fw_engine_run (firmware/engine/run_main.c; every packet the PE received, with
 * its payload), so each PE can be re-run alone on another build of the engine: the QEMU
 * build must give the same output (tests/integration/test_egru.sh); and counters.bin, the PE's
 * activity counters of this run (8 x u64, the order of struct s2_eng_counters).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine.h"
#include "s2/plan.h"
#include "s2/results.h"
#include "s2/error.h"
#include "s2/wire.h"

int image_main(int argc, char **argv);

#define DRAM_SIZE (64u << 20) /* rows of one PE; calloc: untouched pages cost nothing */

struct lpe {
	struct s2_eng *eng;
	uint8_t *dram; /* the PE's rows: calloc'd, pages appear when touched */
	uint8_t *rec[2];
	size_t rec_len[2], rec_cap[2];
	const struct s2_plan_pe_info *info;
};

/* Packets sent in the current step: key, payload, whether it has one. */
struct sent {
	uint32_t key, payload;
	bool has;
};
static struct sent *sent;
static size_t n_sent, cap_sent;

static int l_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	struct lpe *p = ctx;
	if (addr > DRAM_SIZE || len > DRAM_SIZE - addr)
		return S2_E_RANGE;
	memcpy(dst, p->dram + addr, len);
	return 0;
}

static int l_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	struct lpe *p = ctx;
	if (addr > DRAM_SIZE || len > DRAM_SIZE - addr)
		return S2_E_RANGE;
	memcpy(p->dram + addr, src, len);
	return 0;
}

static void l_send(void *ctx, uint32_t key, const uint32_t *payload)
{
	(void)ctx;
	if (n_sent == cap_sent) {
		cap_sent = cap_sent ? 2 * cap_sent : 4096;
		sent = realloc(sent, cap_sent * sizeof *sent);
		if (!sent)
			exit(1);
	}
	sent[n_sent++] = (struct sent){key, payload ? *payload : 0, payload != NULL};
}

/* A PE's received packets for --dump: 'S2IP' entries (step | has << 31, key, payload). */
struct inlog {
	uint8_t *p;
	size_t n, cap;
};

static void inlog_add(struct inlog *l, uint32_t step, const struct sent *x)
{
	if (l->n + 12 > l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->p = realloc(l->p, l->cap);
		if (!l->p)
			exit(1);
	}
	s2_st32(l->p + l->n, step | (uint32_t)x->has << 31);
	s2_st32(l->p + l->n + 4, x->key);
	s2_st32(l->p + l->n + 8, x->payload);
	l->n += 12;
}

static int dump_pe(const char *dir, size_t i, const struct s2_app_pe *ap, uint32_t steps,
                   const struct inlog *l, const struct s2_eng_counters *c)
{
	char path[4096];
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof path, "%s/pe%zu", dir, i);
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return -1;
	/* fw_engine_run keeps rows in [1 MiB, 12 MiB) of its DRAM window. */
	uint8_t *pd = malloc(ap->len);
	if (!pd)
		return -1;
	memcpy(pd, ap->pedata, ap->len);
	s2_st32(pd + 32, 1u << 20);
	s2_st32(pd + 36, 11u << 20);
	uint8_t head[12];
	s2_st32(head, 0x50493253u);
	s2_st32(head + 4, steps);
	s2_st32(head + 8, (uint32_t)(l->n / 12));
	int rc = 0;
	snprintf(path, sizeof path, "%s/pe%zu/pedata.bin", dir, i);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(pd, 1, ap->len, f) != ap->len)
		rc = -1;
	if (f && fclose(f))
		rc = -1;
	snprintf(path, sizeof path, "%s/pe%zu/input.bin", dir, i);
	f = fopen(path, "wb");
	if (!f || fwrite(head, 1, 12, f) != 12 || (l->n && fwrite(l->p, 1, l->n, f) != l->n))
		rc = -1;
	if (f && fclose(f))
		rc = -1;
	/* The PE's activity counters of this run, 8 x u64 as in output.bin. */
	uint8_t cnt[8 * 8];
	const uint64_t *cv = &c->steps;
	for (unsigned k = 0; k < 8; k++)
		s2_st64(cnt + 8 * k, cv[k]);
	snprintf(path, sizeof path, "%s/pe%zu/counters.bin", dir, i);
	f = fopen(path, "wb");
	if (!f || fwrite(cnt, 1, sizeof cnt, f) != sizeof cnt)
		rc = -1;
	if (f && fclose(f))
		rc = -1;
	free(pd);
	return rc;
}

static void l_record(void *ctx, unsigned s, const void *d, uint32_t len)
{
	struct lpe *p = ctx;
	if (p->rec_len[s] + len > p->rec_cap[s]) {
		p->rec_cap[s] = (p->rec_len[s] + len) * 2;
		p->rec[s] = realloc(p->rec[s], p->rec_cap[s]);
		if (!p->rec[s])
			exit(1);
	}
	memcpy(p->rec[s] + p->rec_len[s], d, len);
	p->rec_len[s] += len;
}

static bool holds(const struct s2_eng *e, uint32_t key)
{
	for (unsigned k = 0; k < e->n_table; k++) {
		uint32_t row;
		if (s2_pe_source_row(e->table[k].key_lo, e->table[k].n_keys, e->table[k].part_bits,
		                     e->table[k].per_part, key, &row) &&
		    row < e->table[k].n_rows)
			return true;
	}
	return false;
}

int image_main(int argc, char **argv)
{
	static const struct option opts[] = {{"duration", required_argument, 0, 'd'},
	                                     {"output", required_argument, 0, 'o'},
	                                     {"dump", required_argument, 0, 'D'},
	                                     {0, 0, 0, 0}};
	const char *out = "local.s2res", *dump = NULL;
	double dur = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'd')
			dur = atof(optarg);
		else if (c == 'o')
			out = optarg;
		else if (c == 'D')
			dump = optarg;
		else {
			fprintf(stderr, "usage: s2fw-run image IMAGE [--duration MS] [-o RESULTS] "
			                "[--dump DIR]\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: s2fw-run image IMAGE [--duration MS] [-o RESULTS] [--dump "
		                "DIR]\n");
		return 2;
	}
	char err[512];
	struct s2_plan *plan = s2_plan_load(argv[optind], err, sizeof err);
	if (!plan) {
		fprintf(stderr, "s2fw-run image: %s\n", err);
		return 3;
	}
	if (dur < 0)
		dur = plan->run_ms;
	uint32_t steps = (uint32_t)llround(dur / plan->dt_ms);
	struct lpe *pes = calloc(plan->pes + 1, sizeof *pes);
	struct inlog *logs = dump ? calloc(plan->pes + 1, sizeof *logs) : NULL;
	const struct s2_app_pe **aps = calloc(plan->pes + 1, sizeof *aps);
	if (!pes || (dump && !logs) || !aps)
		return 1;
	size_t n = 0;
	double t0 = (double)clock() / CLOCKS_PER_SEC;
	for (unsigned b = 0; b < plan->n_boards; b++) {
		struct s2_plan_board *pb = &plan->boards[b];
		for (unsigned ch = 0; ch < pb->n_chips; ch++)
			for (unsigned q = 0; q < pb->chips[ch].n_pes; q++) {
				struct s2_app_pe *ap = &pb->chips[ch].pes[q];
				aps[n] = ap;
				struct lpe *p = &pes[n++];
				p->info = &pb->info[ch][q];
				p->eng = calloc(1, sizeof *p->eng);
				p->dram = calloc(1, DRAM_SIZE);
				if (!p->eng || !p->dram)
					return 1;
				s2_st32(ap->pedata + 32, 0);
				s2_st32(ap->pedata + 36, DRAM_SIZE);
				const struct s2_eng_hal hal = {p,      l_read,   l_write,
				                               l_send, l_record, NULL};
				int rc = s2_eng_init(p->eng, ap->pedata, ap->len, &hal);
				if (rc < 0) {
					fprintf(stderr,
					        "s2fw-run image: board %u chip %u PE %u: %s\n",
					        pb->board, pb->chips[ch].chip, ap->pe,
					        s2_strerror(rc));
					return 1;
				}
			}
	}
	double t1 = (double)clock() / CLOCKS_PER_SEC;
	for (uint32_t t = 0; t < steps; t++) {
		n_sent = 0;
		for (size_t i = 0; i < n; i++)
			s2_eng_tick(pes[i].eng);
		for (size_t s = 0; s < n_sent; s++)
			for (size_t i = 0; i < n; i++)
				if (holds(pes[i].eng, sent[s].key)) {
					s2_eng_receive(pes[i].eng, sent[s].key,
					               sent[s].has ? &sent[s].payload : NULL);
					if (logs)
						inlog_add(&logs[i], t, &sent[s]);
				}
	}
	for (size_t i = 0; dump && i < n; i++) {
		if (dump_pe(dump, i, aps[i], steps, &logs[i], &pes[i].eng->c) < 0) {
			fprintf(stderr, "s2fw-run image: cannot write %s: %s\n", dump,
			        strerror(errno));
			return 1;
		}
		free(logs[i].p);
	}
	free(logs);
	free(aps);
	double t2 = (double)clock() / CLOCKS_PER_SEC;
	struct s2_results *res = calloc(1, sizeof *res);
	if (!res)
		return 1;
	res->dt_ms = plan->dt_ms;
	res->steps = steps;
	res->has_clips = true;
	res->has_plastic_causes = true;
	res->has_budget = true;
	res->n_pops = plan->n_pops;
	res->pops = calloc(plan->n_pops + 1, sizeof *res->pops);
	for (unsigned p = 0; p < plan->n_pops; p++) {
		res->pops[p].label = strdup(plan->pops[p].label);
		res->pops[p].size = plan->pops[p].size;
	}
	uint64_t events = 0;
	for (size_t i = 0; i < n; i++) {
		const struct s2_plan_pe_info *in = pes[i].info;
		if (s2_results_add_pe(res, in->pop, in->lo, in->n, pes[i].rec[0], pes[i].rec_len[0],
		                      in->n_vrec, in->vrec, pes[i].rec[1], pes[i].rec_len[1]) < 0)
			return 1;
		/* the clipping counters as s2ctl run collects them (nothing is lost here) */
		struct s2_results_pop *P = &res->pops[in->pop];
		const struct s2_eng_counters *ec = &pes[i].eng->c;
		P->spikes_recorded |= in->rec_spikes != 0;
		P->clip[S2_RES_CLIP_INPUT] += ec->ring_saturated;
		P->clip[S2_RES_CLIP_WZERO] += ec->weights_zero;
		P->clip[S2_RES_CLIP_WMAX] += ec->weights_clipped;
		P->clip[S2_RES_CLIP_DELAY] += ec->delays_clamped;
		P->steps_over += ec->steps_over;
		if (ec->worst_permille > P->worst_permille)
			P->worst_permille = ec->worst_permille;
		const struct s2_pl_counters *pc = &pes[i].eng->pl.c;
		const uint64_t cause[S2_RES_PLASTICS] = {[S2_RES_PL_ZERO] = pc->zero,
		                                         [S2_RES_PL_CLIPPED] = pc->clipped,
		                                         [S2_RES_PL_HIST] = pc->hist_lost,
		                                         [S2_RES_PL_QUEUE] = pc->queue_full};
		for (unsigned k = 0; k < S2_RES_PLASTICS; k++) {
			P->plastic_cause[k] += cause[k];
			P->plastic += cause[k];
		}
		events += pes[i].eng->c.synaptic_events;
	}
	s2_results_sort(res); /* as s2_run() gives them */
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i < plan->n_boards; i++) /* every step ran, locally */
		rc = s2_results_set_board_status(res, plan->boards[i].board,
		                                 S2_RESULTS_BOARD_COMPLETE, steps, NULL);
	if (rc == 0)
		rc = s2_results_write(res, out, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "s2fw-run image: %s\n", err);
	else
		printf("local run: %zu PEs, %u steps, %llu synaptic events; build %.2f s, run %.2f "
		       "s; "
		       "results in %s\n",
		       n, steps, (unsigned long long)events, t1 - t0, t2 - t1, out);
	s2_results_free(res);
	for (size_t i = 0; i < n; i++) {
		free(pes[i].eng);
		free(pes[i].dram);
		free(pes[i].rec[0]);
		free(pes[i].rec[1]);
	}
	free(pes);
	free(sent);
	s2_plan_free(plan);
	return rc < 0 ? 1 : 0;
}
