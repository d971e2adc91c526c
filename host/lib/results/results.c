/*
 * Run results (docs/results.md): spikes per population, recorded voltages and how each board's
 * part of the run ended, in the checksummed s2 file container (s2/fileio.h, kind "RSLT",
 * format version 2), written atomically; read back and verified for `s2ctl results` and
 * converted to CSV and NumPy .npy.
 *
 * Sections (little-endian):
 *   "run"      dt_ms f64, steps u32, n_pops u32, n_boards u32, flags u32 (bit 0: complete)
 *   "boards"   per board: board u32, status u32, last_step u32, reason_len u16, reason
 *   per population P, in order:
 *   "population P spikes"    label_len u16, label, size u32, n_spikes u64,
 *                            n_spikes x (neuron u32, step u32)
 *   "population P voltages"  n_vrec u32, n_vrec x channel u32 (neuron | variable << 24:
 *                            s2_results_pop.vrec), steps x n_vrec f32 (row per step)
 *   "clipping"  n_pops u32, per population flags u32 (bit 0: spikes recorded) and S2_RES_CLIPS x
 * u64 (results.h: what the machine clipped, dropped or rounded away; optional when reading: files
 * written before it say nothing of clipping)
 *   "plastic"   n_pops u32, per population S2_RES_PLASTICS x u64: plasticity's counters per
 *               cause (results.h; format 2: one u64, their sum)
 *   "budget"    n_pops u32, per population steps_over u64, worst_permille u64 (results.h:
 *               the real-time budget)
 * Format 4 has every section; format 3 (read too) every one but "budget"; format 2 may end
 * after the populations or after "clipping" (no counters known), or have "plastic" as well. A
 * section is never added to a format that exists: an older reader counts the sections and would
 * refuse the file as damaged, while a new format version makes it say which version it cannot read.
 * A spike in step s happened at (s + 1) * dt ms; voltage
 * row s is the value after step s. Format 1 (bare 'S2RS' files, no checksum and no run status) is
 * refused: nothing in it says whether the run completed.
 */
#include "s2/results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/wire.h"
#include "s2/pedata.h"

#define KIND S2_SFILE_KIND('R', 'S', 'L', 'T')
#define VERSION 4u               /* docs/cli/results.md: 2 and 3 are read too */
#define LEGACY_MAGIC 0x53523253u /* format 1 */
#define FILE_MAX (1ull << 34)

const char *const s2_results_clip_names[S2_RES_CLIPS] = {"inputs_clipped", "weights_zero",
                                                         "weights_clipped", "delays_clamped",
                                                         "recording_bytes_lost"};
const char *const s2_results_plastic_names[S2_RES_PLASTICS] = {"zero", "clipped", "hist_lost",
                                                               "queue_full"};
const char *const s2_results_plastic_whys[S2_RES_PLASTICS] = {
        "delivered weights above 0 rounded to 0 units",
        "delivered weights above 65535 units clipped, or traces saturated",
        "synapse updates that needed a post spike gone from the 16-spike history",
        "axonal pre spikes applied early: their step's queue of 32 was full"};

void s2_results_free(struct s2_results *r)
{
	if (!r)
		return;
	for (unsigned p = 0; r->pops && p < r->n_pops; p++) {
		free(r->pops[p].label);
		free(r->pops[p].spikes);
		free(r->pops[p].vrec);
		free(r->pops[p].v);
	}
	free(r->pops);
	free(r->boards);
	free(r);
}

const char *s2_results_status_name(enum s2_results_board_status s)
{
	switch (s) {
	case S2_RESULTS_BOARD_COMPLETE:
		return "complete";
	case S2_RESULTS_BOARD_STOPPED:
		return "stopped";
	case S2_RESULTS_BOARD_NO_ANSWER:
		return "no answer";
	}
	return "unknown";
}

int s2_results_set_board_status(struct s2_results *r, uint32_t board,
                                enum s2_results_board_status status, uint32_t last_step,
                                const char *reason)
{
	if ((unsigned)status > S2_RESULTS_BOARD_NO_ANSWER)
		return S2_E_INVAL;
	uint32_t i = 0;
	while (i < r->n_boards && r->boards[i].board != board)
		i++;
	if (i == r->n_boards) {
		struct s2_results_board *nb = realloc(r->boards, (r->n_boards + 1) * sizeof *nb);
		if (!nb)
			return S2_E_NOMEM;
		r->boards = nb;
		r->n_boards++;
	}
	struct s2_results_board *b = &r->boards[i];
	b->board = board;
	b->status = status;
	b->last_step = last_step;
	snprintf(b->reason, sizeof b->reason, "%s", reason ? reason : "");
	return 0;
}

static int spike_cmp(const void *a, const void *b)
{
	const struct s2_results_spike *x = a, *y = b;
	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return x->neuron < y->neuron ? -1 : x->neuron > y->neuron;
}

void s2_results_sort(struct s2_results *r)
{
	for (unsigned p = 0; p < r->n_pops; p++) {
		struct s2_results_pop *P = &r->pops[p];
		bool sorted = true;
		for (uint64_t i = 1; i < P->n_spikes && sorted; i++)
			sorted = spike_cmp(&P->spikes[i - 1], &P->spikes[i]) <= 0;
		if (!sorted)
			qsort(P->spikes, P->n_spikes, sizeof *P->spikes, spike_cmp);
	}
}

int s2_results_append(struct s2_results *r, const struct s2_results *next)
{
	if (r->dt_ms != next->dt_ms || r->n_pops != next->n_pops)
		return S2_E_INVAL;
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct s2_results_pop *a = &r->pops[p], *b = &next->pops[p];
		if (a->size != b->size || a->n_vrec != b->n_vrec ||
		    a->spikes_recorded != b->spikes_recorded || strcmp(a->label, b->label) ||
		    (a->n_vrec && memcmp(a->vrec, b->vrec, a->n_vrec * sizeof *a->vrec)))
			return S2_E_INVAL;
	}
	if ((uint64_t)r->steps + next->steps > UINT32_MAX)
		return S2_E_INVAL;
	/* Grow every array first, so that a failure leaves r as it was (realloc keeps the
	 * contents; the sizes recorded in r change only below). */
	for (unsigned p = 0; p < r->n_pops; p++) {
		struct s2_results_pop *a = &r->pops[p];
		const struct s2_results_pop *b = &next->pops[p];
		if (b->n_spikes) {
			struct s2_results_spike *ns =
			        realloc(a->spikes, (a->n_spikes + b->n_spikes) * sizeof *ns);
			if (!ns)
				return S2_E_NOMEM;
			a->spikes = ns;
		}
		if (a->n_vrec && next->steps) {
			size_t n = ((size_t)r->steps + next->steps) * a->n_vrec;
			float *nv = realloc(a->v, n * sizeof *nv);
			if (!nv)
				return S2_E_NOMEM;
			a->v = nv;
		}
	}
	for (uint32_t i = 0; i < next->n_boards; i++) {
		uint32_t k = 0;
		while (k < r->n_boards && r->boards[k].board != next->boards[i].board)
			k++;
		if (k == r->n_boards) {
			struct s2_results_board *nb =
			        realloc(r->boards, (r->n_boards + next->n_boards) * sizeof *nb);
			if (!nb)
				return S2_E_NOMEM;
			r->boards = nb;
			break;
		}
	}
	for (unsigned p = 0; p < r->n_pops; p++) {
		struct s2_results_pop *a = &r->pops[p];
		const struct s2_results_pop *b = &next->pops[p];
		for (uint64_t i = 0; i < b->n_spikes; i++)
			a->spikes[a->n_spikes + i] = (struct s2_results_spike){
			        b->spikes[i].neuron, b->spikes[i].step + r->steps};
		a->n_spikes += b->n_spikes;
		if (a->n_vrec && next->steps)
			memcpy(a->v + (size_t)r->steps * a->n_vrec, b->v,
			       (size_t)next->steps * a->n_vrec * sizeof *a->v);
		uint64_t lost = a->clip[S2_RES_CLIP_RECLOST] + b->clip[S2_RES_CLIP_RECLOST];
		memcpy(a->clip, b->clip, sizeof a->clip);
		a->clip[S2_RES_CLIP_RECLOST] = lost;
		a->plastic = b->plastic;
		memcpy(a->plastic_cause, b->plastic_cause, sizeof a->plastic_cause);
		a->steps_over = b->steps_over;
		if (b->worst_permille > a->worst_permille)
			a->worst_permille = b->worst_permille;
	}
	for (uint32_t i = 0; i < next->n_boards; i++) {
		const struct s2_results_board *nb = &next->boards[i];
		uint32_t k = 0;
		while (k < r->n_boards && r->boards[k].board != nb->board)
			k++;
		if (k ==
		    r->n_boards) /* a board only the continuation ran on: it missed r's steps */
			r->boards[r->n_boards++] = (struct s2_results_board){
			        nb->board, S2_RESULTS_BOARD_STOPPED, 0, "not in the earlier part"};
		struct s2_results_board *ob = &r->boards[k];
		if (ob->status == S2_RESULTS_BOARD_COMPLETE && ob->last_step == r->steps) {
			ob->status = nb->status;
			ob->last_step = r->steps + nb->last_step;
			memcpy(ob->reason, nb->reason, sizeof ob->reason);
		}
	}
	r->steps += next->steps;
	r->has_clips &= next->has_clips;
	r->has_plastic_causes &= next->has_plastic_causes;
	r->has_budget &= next->has_budget;
	r->complete = r->complete && next->complete;
	return 0;
}

bool s2_results_is_complete(const struct s2_results *r)
{
	if (!r->n_boards)
		return false;
	for (uint32_t i = 0; i < r->n_boards; i++)
		if (r->boards[i].status != S2_RESULTS_BOARD_COMPLETE ||
		    r->boards[i].last_step != r->steps)
			return false;
	return true;
}

void s2_results_partial_why(const struct s2_results *r, char *buf, size_t len)
{
	if (!r->n_boards) {
		snprintf(buf, len, "no board recorded how its run ended");
		return;
	}
	/* Name the cause first: a board that stopped answering, then one that stopped for a
	 * reason of its own, then one that was stopped because another failed. */
	const struct s2_results_board *pick = NULL;
	unsigned rank = 4, others = 0;
	for (uint32_t i = 0; i < r->n_boards; i++) {
		const struct s2_results_board *b = &r->boards[i];
		if (b->status == S2_RESULTS_BOARD_COMPLETE && b->last_step == r->steps)
			continue;
		unsigned k = b->status == S2_RESULTS_BOARD_NO_ANSWER      ? 0
		             : b->status != S2_RESULTS_BOARD_STOPPED      ? 1
		             : strncmp(b->reason, "stopped by s2ctl", 16) ? 2
		                                                          : 3;
		others++;
		if (k < rank) {
			rank = k;
			pick = b;
		}
	}
	if (!pick) {
		snprintf(buf, len, "complete");
		return;
	}
	char more[48] = "";
	if (others > 1)
		snprintf(more, sizeof more, " (and %u other board%s not complete)", others - 1,
		         others > 2 ? "s" : "");
	snprintf(buf, len, "board %u %s at step %u of %u%s%s%s", pick->board,
	         pick->status == S2_RESULTS_BOARD_NO_ANSWER ? "stopped answering"
	         : pick->status == S2_RESULTS_BOARD_STOPPED ? "stopped"
	                                                    : "complete but",
	         pick->last_step, r->steps, pick->reason[0] ? ": " : "", pick->reason, more);
}

int s2_results_add_pe(struct s2_results *r, unsigned pop, uint32_t lo, uint32_t n,
                      const uint8_t *spk, size_t spk_len, unsigned n_vrec, const uint8_t *vrec,
                      const uint8_t *v, size_t v_len)
{
	if (pop >= r->n_pops)
		return S2_E_RANGE;
	struct s2_results_pop *P = &r->pops[pop];
	uint32_t bpr = (n + 7) / 8, steps = r->steps;
	for (uint32_t t = 0; spk && t < steps && (size_t)(t + 1) * bpr <= spk_len; t++)
		for (uint32_t i = 0; i < n; i++)
			if (spk[(size_t)t * bpr + i / 8] >> (i % 8) & 1u) {
				if ((P->n_spikes & (P->n_spikes - 1)) ==
				    0) { /* grow at powers of two */
					size_t cap = P->n_spikes ? 2 * P->n_spikes : 64;
					struct s2_results_spike *sp =
					        realloc(P->spikes, cap * sizeof *sp);
					if (!sp)
						return S2_E_NOMEM;
					P->spikes = sp;
				}
				P->spikes[P->n_spikes++] = (struct s2_results_spike){lo + i, t};
			}
	if (!n_vrec)
		return 0;
	uint32_t first = P->n_vrec, w = first + n_vrec;
	uint32_t *vr = realloc(P->vrec, w * sizeof *vr);
	if (!vr)
		return S2_E_NOMEM;
	P->vrec = vr;
	float *m = malloc(((size_t)steps * w + 1) * sizeof *m);
	if (!m)
		return S2_E_NOMEM;
	for (uint32_t t = 0; t < steps; t++) {
		for (uint32_t c = 0; c < first; c++)
			m[(size_t)t * w + c] = P->v[(size_t)t * first + c];
		for (unsigned c = 0; c < n_vrec; c++) {
			float val = NAN;
			size_t at = ((size_t)t * n_vrec + c) * 4;
			if (v && at + 4 <= v_len)
				memcpy(&val, v + at, 4);
			m[(size_t)t * w + first + c] = val;
		}
	}
	free(P->v);
	P->v = m;
	for (unsigned c = 0; c < n_vrec; c++) { /* pedata.h RECORD_V: neuron and variable */
		uint16_t x = s2_ld16(vrec + 2 * c);
		vr[first + c] =
		        (uint32_t)s2_rec_var(x) << S2_RESULTS_VAR_SHIFT | (lo + s2_rec_neuron(x));
	}
	P->n_vrec = w;
	return 0;
}

static void pop_section(char *name, size_t n, const char *label, const char *kind)
{
	snprintf(name, n, "population %.*s %s", 200, label, kind);
}

int s2_results_write(const struct s2_results *r, const char *path, char *err, size_t errlen)
{
	struct s2_file_w *w = s2_file_w_new(KIND, VERSION);
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return S2_E_NOMEM;
	}
	uint64_t u;
	memcpy(&u, &r->dt_ms, 8);
	s2_file_w_section(w, "run");
	s2_file_w_u64(w, u);
	s2_file_w_u32(w, r->steps);
	s2_file_w_u32(w, r->n_pops);
	s2_file_w_u32(w, r->n_boards);
	s2_file_w_u32(w, s2_results_is_complete(r) ? 1u : 0u);
	s2_file_w_section(w, "boards");
	for (uint32_t i = 0; i < r->n_boards; i++) {
		const struct s2_results_board *b = &r->boards[i];
		size_t rl = strnlen(b->reason, sizeof b->reason - 1);
		s2_file_w_u32(w, b->board);
		s2_file_w_u32(w, (uint32_t)b->status);
		s2_file_w_u32(w, b->last_step);
		s2_file_w_u16(w, (uint16_t)rl);
		s2_file_w_put(w, b->reason, rl);
	}
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct s2_results_pop *q = &r->pops[p];
		char name[256];
		size_t ll = strlen(q->label);
		if (ll > UINT16_MAX) {
			s2_file_w_free(w);
			snprintf(err, errlen, "%s: population %u: label longer than 65535 bytes",
			         path, p);
			return S2_E_INVAL;
		}
		pop_section(name, sizeof name, q->label, "spikes");
		s2_file_w_section(w, name);
		s2_file_w_u16(w, (uint16_t)ll);
		s2_file_w_put(w, q->label, ll);
		s2_file_w_u32(w, q->size);
		s2_file_w_u64(w, q->n_spikes);
		for (uint64_t i = 0; i < q->n_spikes; i++) {
			s2_file_w_u32(w, q->spikes[i].neuron);
			s2_file_w_u32(w, q->spikes[i].step);
		}
		pop_section(name, sizeof name, q->label, "voltages");
		s2_file_w_section(w, name);
		s2_file_w_u32(w, q->n_vrec);
		for (unsigned i = 0; i < q->n_vrec; i++)
			s2_file_w_u32(w, q->vrec[i]);
		for (uint64_t i = 0; i < (uint64_t)r->steps * q->n_vrec; i++) {
			uint32_t v;
			memcpy(&v, &q->v[i], 4);
			s2_file_w_u32(w, v);
		}
	}
	s2_file_w_section(w, "clipping");
	s2_file_w_u32(w, r->n_pops);
	for (unsigned p = 0; p < r->n_pops; p++) {
		s2_file_w_u32(w, r->pops[p].spikes_recorded ? 1u : 0u);
		for (unsigned k = 0; k < S2_RES_CLIPS; k++)
			s2_file_w_u64(w, r->pops[p].clip[k]);
	}
	for (unsigned p = 0; p < r->n_pops; p++) {
		uint64_t sum = 0;
		for (unsigned k = 0; k < S2_RES_PLASTICS; k++)
			sum += r->pops[p].plastic_cause[k];
		if (r->pops[p].plastic == sum && (sum == 0 || r->has_plastic_causes))
			continue;
		s2_file_w_free(w);
		snprintf(err, errlen,
		         "%s: population %u: plasticity's %llu counted values are not known per "
		         "cause (%s), which results format 3 keeps",
		         path, p, (unsigned long long)r->pops[p].plastic,
		         r->has_plastic_causes ? "the causes add up to another sum"
		                               : "results read from format 2 keep only the sum");
		return S2_E_INVAL;
	}
	s2_file_w_section(w, "plastic");
	s2_file_w_u32(w, r->n_pops);
	for (unsigned p = 0; p < r->n_pops; p++)
		for (unsigned k = 0; k < S2_RES_PLASTICS; k++)
			s2_file_w_u64(w, r->pops[p].plastic_cause[k]);
	if (!r->has_budget) {
		s2_file_w_free(w);
		snprintf(err, errlen,
		         "%s: the real-time budget's counters are not known (results read from "
		         "format 3 or earlier), which results format 4 keeps",
		         path);
		return S2_E_INVAL;
	}
	s2_file_w_section(w, "budget");
	s2_file_w_u32(w, r->n_pops);
	for (unsigned p = 0; p < r->n_pops; p++) {
		s2_file_w_u64(w, r->pops[p].steps_over);
		s2_file_w_u64(w, r->pops[p].worst_permille);
	}
	int rc = s2_file_w_save(w, path, err, errlen);
	s2_file_w_free(w);
	return rc;
}

bool s2_results_over_budget(const struct s2_results *r)
{
	for (unsigned p = 0; r->has_budget && p < r->n_pops; p++)
		if (r->pops[p].steps_over)
			return true;
	return false;
}

static const char *damaged(char *err, size_t errlen, const char *name, const struct s2_sfile_sec *s,
                           const char *why)
{
	snprintf(err, errlen, "%s: section '%.*s': %s", name, (int)s->name_len, s->name, why);
	return NULL;
}

/* Decode the "run" and "boards" sections into res. */
static bool read_run(struct s2_results *res, const struct s2_sfile_sec *run,
                     const struct s2_sfile_sec *bs, const char *name, uint32_t *flags, char *err,
                     size_t errlen)
{
	struct s2_rd r;
	s2_rd_init(&r, run->data, (size_t)run->len);
	uint64_t u = s2_rd_u64(&r);
	memcpy(&res->dt_ms, &u, 8);
	res->steps = s2_rd_u32(&r);
	res->n_pops = s2_rd_u32(&r);
	uint32_t nb = s2_rd_u32(&r);
	*flags = s2_rd_u32(&r);
	if (r.err || s2_rd_left(&r) || !(res->dt_ms > 0) || res->n_pops > 65536 || nb > 65536 ||
	    (*flags & ~1u)) {
		damaged(err, errlen, name, run, "inconsistent run header");
		return false;
	}
	s2_rd_init(&r, bs->data, (size_t)bs->len);
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t board = s2_rd_u32(&r), st = s2_rd_u32(&r), last = s2_rd_u32(&r);
		uint16_t rl = s2_rd_u16(&r);
		const uint8_t *reason = s2_rd_take(&r, rl);
		char rs[S2_RESULTS_REASON_MAX];
		if (r.err || st > S2_RESULTS_BOARD_NO_ANSWER || rl >= sizeof rs ||
		    last > res->steps) {
			damaged(err, errlen, name, bs, "a board entry is out of range");
			return false;
		}
		memcpy(rs, reason, rl);
		rs[rl] = 0;
		if (memchr(rs, 0, rl)) {
			damaged(err, errlen, name, bs, "a reason holds a NUL byte");
			return false;
		}
		for (uint32_t k = 0; k < res->n_boards; k++)
			if (res->boards[k].board == board) {
				damaged(err, errlen, name, bs, "a board is listed twice");
				return false;
			}
		if (s2_results_set_board_status(res, board, st, last, rs) < 0) {
			snprintf(err, errlen, "%s: out of memory", name);
			return false;
		}
	}
	if (s2_rd_left(&r)) {
		damaged(err, errlen, name, bs, "trailing bytes");
		return false;
	}
	return true;
}

/* Decode one population's two sections into q. */
static bool read_pop(struct s2_results_pop *q, uint32_t steps, const struct s2_sfile_sec *sp,
                     const struct s2_sfile_sec *sv, const char *name, char *err, size_t errlen)
{
	struct s2_rd r;
	s2_rd_init(&r, sp->data, (size_t)sp->len);
	uint16_t ll = s2_rd_u16(&r);
	const uint8_t *lab = s2_rd_take(&r, ll);
	q->size = s2_rd_u32(&r);
	q->n_spikes = s2_rd_u64(&r);
	if (r.err || q->n_spikes != s2_rd_left(&r) / 8 || s2_rd_left(&r) % 8) {
		damaged(err, errlen, name, sp, "spike count disagrees with the section length");
		return false;
	}
	q->label = malloc((size_t)ll + 1);
	q->spikes = malloc((q->n_spikes ? q->n_spikes : 1) * sizeof *q->spikes);
	if (!q->label || !q->spikes)
		goto nomem;
	memcpy(q->label, lab, ll);
	q->label[ll] = 0;
	char want[256];
	pop_section(want, sizeof want, q->label, "spikes");
	if (strlen(q->label) != ll || !s2_sfile_sec_is(sp, want)) {
		damaged(err, errlen, name, sp, "label disagrees with the section name");
		return false;
	}
	for (uint64_t i = 0; i < q->n_spikes; i++) {
		q->spikes[i].neuron = s2_rd_u32(&r);
		q->spikes[i].step = s2_rd_u32(&r);
		if (q->spikes[i].neuron >= q->size || q->spikes[i].step >= steps) {
			damaged(err, errlen, name, sp, "a spike is outside the population or run");
			return false;
		}
	}
	pop_section(want, sizeof want, q->label, "voltages");
	if (!s2_sfile_sec_is(sv, want)) {
		damaged(err, errlen, name, sv, "not the voltages of the population before it");
		return false;
	}
	s2_rd_init(&r, sv->data, (size_t)sv->len);
	q->n_vrec = s2_rd_u32(&r);
	size_t left = s2_rd_left(&r);
	if (r.err || (q->n_vrec ? left % (4ull * q->n_vrec) != 0 ||
	                                  left / (4ull * q->n_vrec) != (uint64_t)steps + 1
	                        : left != 0)) {
		damaged(err, errlen, name, sv, "voltage count disagrees with the section length");
		return false;
	}
	q->vrec = malloc((q->n_vrec ? q->n_vrec : 1) * sizeof *q->vrec);
	q->v = malloc(((size_t)steps * q->n_vrec + 1) * sizeof *q->v);
	if (!q->vrec || !q->v)
		goto nomem;
	for (unsigned i = 0; i < q->n_vrec; i++) {
		q->vrec[i] = s2_rd_u32(&r);
		if ((q->vrec[i] & S2_RESULTS_NEURON_MASK) >= q->size ||
		    q->vrec[i] >> S2_RESULTS_VAR_SHIFT >= S2_REC_VARS) {
			damaged(err, errlen, name, sv,
			        "a recorded neuron is outside the population");
			return false;
		}
	}
	for (uint64_t i = 0; i < (uint64_t)steps * q->n_vrec; i++) {
		uint32_t v = s2_rd_u32(&r);
		memcpy(&q->v[i], &v, 4);
	}
	return true;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
	return false;
}

struct s2_results *s2_results_decode(const uint8_t *buf, size_t len, const char *name,
                                     unsigned flags, int *rcp, char *err, size_t errlen)
{
	int rc_local;
	int *rc = rcp ? rcp : &rc_local;
	struct s2_sfile f;
	if (len >= 4 && s2_ld32(buf) == LEGACY_MAGIC) {
		snprintf(err, errlen,
		         "%s: results format 1 (an older s2: no checksum, no run status) is not "
		         "read; run again to get format 4",
		         name);
		*rc = S2_E_VERSION;
		return NULL;
	}
	*rc = s2_file_check(buf, len, KIND, VERSION, name, &f, err, errlen);
	if (*rc < 0)
		return NULL;
	*rc = S2_E_FORMAT;
	struct s2_results *res = calloc(1, sizeof *res);
	if (!res) {
		snprintf(err, errlen, "%s: out of memory", name);
		*rc = S2_E_NOMEM;
		return NULL;
	}
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec run, bs;
	uint32_t fl = 0;
	if (!s2_sfile_next(&f, &it, &run) || !s2_sfile_sec_is(&run, "run") ||
	    !s2_sfile_next(&f, &it, &bs) || !s2_sfile_sec_is(&bs, "boards")) {
		snprintf(err, errlen, "%s: sections 'run' and 'boards' are not first", name);
		goto fail;
	}
	if (!read_run(res, &run, &bs, name, &fl, err, errlen))
		goto fail;
	bool budget = f.version >= 4 && f.n_sections == 5 + 2 * (uint64_t)res->n_pops;
	bool plastic = budget || f.n_sections == 4 + 2 * (uint64_t)res->n_pops;
	bool clips = plastic || f.n_sections == 3 + 2 * (uint64_t)res->n_pops;
	if (f.version >= 4   ? !budget
	    : f.version == 3 ? !plastic
	                     : !clips && f.n_sections != 2 + 2 * (uint64_t)res->n_pops) {
		snprintf(err, errlen, "%s: %u sections for %u populations (format %u)", name,
		         f.n_sections, res->n_pops, f.version);
		goto fail;
	}
	res->pops = calloc(res->n_pops ? res->n_pops : 1, sizeof *res->pops);
	if (!res->pops) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	uint32_t n_read = res->n_pops;
	res->n_pops = 0; /* counts the populations to free */
	for (unsigned p = 0; p < n_read; p++) {
		struct s2_sfile_sec sp, sv;
		s2_sfile_next(&f, &it, &sp);
		s2_sfile_next(&f, &it, &sv);
		res->n_pops++;
		if (!read_pop(&res->pops[p], res->steps, &sp, &sv, name, err, errlen))
			goto fail;
		res->pops[p].spikes_recorded = true; /* unless the clipping section says not */
	}
	if (clips) {
		struct s2_sfile_sec sc;
		s2_sfile_next(&f, &it, &sc);
		struct s2_rd r;
		s2_rd_init(&r, sc.data, (size_t)sc.len);
		bool ok = s2_sfile_sec_is(&sc, "clipping") && s2_rd_u32(&r) == res->n_pops;
		for (unsigned p = 0; ok && p < res->n_pops; p++) {
			uint32_t pf = s2_rd_u32(&r);
			res->pops[p].spikes_recorded = pf & 1u;
			for (unsigned k = 0; k < S2_RES_CLIPS; k++)
				res->pops[p].clip[k] = s2_rd_u64(&r);
			ok = !(pf & ~1u);
		}
		if (!ok || r.err || s2_rd_left(&r)) {
			damaged(err, errlen, name, &sc,
			        "not a clipping section for these populations");
			goto fail;
		}
		res->has_clips = true;
	}
	if (plastic) {
		struct s2_sfile_sec sc;
		s2_sfile_next(&f, &it, &sc);
		struct s2_rd r;
		s2_rd_init(&r, sc.data, (size_t)sc.len);
		bool ok = s2_sfile_sec_is(&sc, "plastic") && s2_rd_u32(&r) == res->n_pops;
		res->has_plastic_causes = f.version >= 3;
		for (unsigned p = 0; ok && p < res->n_pops; p++) {
			struct s2_results_pop *q = &res->pops[p];
			if (!res->has_plastic_causes) {
				q->plastic = s2_rd_u64(&r);
				continue;
			}
			for (unsigned k = 0; k < S2_RES_PLASTICS; k++) {
				q->plastic_cause[k] = s2_rd_u64(&r);
				ok &= q->plastic + q->plastic_cause[k] >= q->plastic; /* no wrap */
				q->plastic += q->plastic_cause[k];
			}
		}
		if (!ok || r.err || s2_rd_left(&r)) {
			damaged(err, errlen, name, &sc,
			        "not a plasticity counter section for these populations");
			goto fail;
		}
	}
	if (budget) {
		struct s2_sfile_sec sc;
		s2_sfile_next(&f, &it, &sc);
		struct s2_rd r;
		s2_rd_init(&r, sc.data, (size_t)sc.len);
		bool ok = s2_sfile_sec_is(&sc, "budget") && s2_rd_u32(&r) == res->n_pops;
		for (unsigned p = 0; ok && p < res->n_pops; p++) {
			res->pops[p].steps_over = s2_rd_u64(&r);
			res->pops[p].worst_permille = s2_rd_u64(&r);
		}
		if (!ok || r.err || s2_rd_left(&r)) {
			damaged(err, errlen, name, &sc,
			        "not a real-time budget section for these populations");
			goto fail;
		}
		res->has_budget = true;
	}
	res->complete = s2_results_is_complete(res);
	if (res->complete != (fl & 1u)) {
		damaged(err, errlen, name, &run, "complete flag disagrees with the boards");
		goto fail;
	}
	if (!res->complete && !(flags & S2_RESULTS_ALLOW_PARTIAL)) {
		char why[300];
		s2_results_partial_why(res, why, sizeof why);
		snprintf(err, errlen,
		         "%s: partial run (%s); its data are incomplete (read it anyway with "
		         "--allow-partial)",
		         name, why);
		*rc = S2_E_STATE;
		goto fail;
	}
	*rc = 0;
	return res;
fail:
	s2_results_free(res);
	return NULL;
}

struct s2_results *s2_results_read(const char *path, unsigned flags, int *rc, char *err,
                                   size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int e = s2_file_read_all(path, FILE_MAX, &buf, &len, err, errlen);
	if (e < 0) {
		if (rc)
			*rc = e;
		return NULL;
	}
	struct s2_results *r = s2_results_decode(buf, len, path, flags, rc, err, errlen);
	free(buf);
	return r;
}

/* .npy (NumPy format 1.0): magic, version, header dict padded to 64 bytes, data. */
static FILE *npy_open(const char *path, const char *descr, const char *shape)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
	                 descr, shape);
	size_t total = 10 + (size_t)n + 1;
	size_t pad = (64 - total % 64) % 64;
	uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
	s2_st16(pre + 8, (uint16_t)(n + pad + 1));
	fwrite(pre, 1, 10, f);
	fwrite(hdr, 1, (size_t)n, f);
	for (size_t i = 0; i < pad; i++)
		fputc(' ', f);
	fputc('\n', f);
	return f;
}

int s2_results_export(const struct s2_results *r, const char *dir, bool npy, char *err,
                      size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return S2_E_IO;
	}
	char why[300] = "";
	if (!r->complete) {
		char path[4096];
		s2_results_partial_why(r, why, sizeof why);
		snprintf(path, sizeof path, "%s/PARTIAL", dir);
		FILE *f = fopen(path, "w");
		if (!f || fprintf(f, "partial run: %s\n", why) < 0 || fclose(f) != 0)
			goto io;
	} else {
		char path[4096];
		snprintf(path, sizeof path, "%s/PARTIAL", dir);
		if (unlink(path) != 0 && errno != ENOENT)
			goto io;
	}
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct s2_results_pop *q = &r->pops[p];
		char path[4096];
		FILE *f;
		/* Spikes: neuron, time in ms (no file for a population whose spikes were not
		 * recorded: an empty one would read as silence). */
		snprintf(path, sizeof path, "%s/%s_spikes.%s", dir, q->label, npy ? "npy" : "csv");
		if (!q->spikes_recorded) {
			f = NULL;
		} else if (npy) {
			char shape[64];
			snprintf(shape, sizeof shape, "(%llu, 2)", (unsigned long long)q->n_spikes);
			f = npy_open(path, "<f8", shape);
		} else {
			f = fopen(path, "w");
			if (f && why[0])
				fprintf(f, "# partial run: %s\n", why);
			if (f)
				fputs("neuron,time_ms\n", f);
		}
		if (!f && q->spikes_recorded)
			goto io;
		for (uint64_t i = 0; f && i < q->n_spikes; i++) {
			double t = (q->spikes[i].step + 1) * r->dt_ms, nn = q->spikes[i].neuron;
			if (npy) {
				fwrite(&nn, 8, 1, f);
				fwrite(&t, 8, 1, f);
			} else {
				fprintf(f, "%u,%.4f\n", q->spikes[i].neuron, t);
			}
		}
		if (f && fclose(f) != 0)
			goto io;
		if (!q->n_vrec)
			continue;
		/* Voltages: one row per step, a column per recorded neuron. */
		snprintf(path, sizeof path, "%s/%s_v.%s", dir, q->label, npy ? "npy" : "csv");
		if (npy) {
			char shape[64];
			snprintf(shape, sizeof shape, "(%u, %u)", r->steps, q->n_vrec);
			f = npy_open(path, "<f4", shape);
		} else {
			f = fopen(path, "w");
			if (f && why[0])
				fprintf(f, "# partial run: %s\n", why);
			if (f) {
				fputs("time_ms", f);
				for (unsigned k = 0; k < q->n_vrec; k++) /* v12, s1_12: var 1 */
					if (q->vrec[k] >> S2_RESULTS_VAR_SHIFT)
						fprintf(f, ",s%u_%u",
						        q->vrec[k] >> S2_RESULTS_VAR_SHIFT,
						        q->vrec[k] & S2_RESULTS_NEURON_MASK);
					else
						fprintf(f, ",v%u", q->vrec[k]);
				fputc('\n', f);
			}
		}
		if (!f)
			goto io;
		for (uint32_t s = 0; s < r->steps; s++) {
			const float *row = q->v + (size_t)s * q->n_vrec;
			if (npy) {
				fwrite(row, 4, q->n_vrec, f);
			} else {
				fprintf(f, "%.4f", (s + 1) * r->dt_ms);
				for (unsigned k = 0; k < q->n_vrec; k++)
					fprintf(f, ",%.6g", row[k]);
				fputc('\n', f);
			}
		}
		if (fclose(f) != 0)
			goto io;
	}
	return 0;
io:
	snprintf(err, errlen, "%s: cannot write: %s", dir, strerror(errno));
	return S2_E_IO;
}
