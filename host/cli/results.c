/*
 * Run results (docs/results.md): spikes per population and recorded voltages, in one
 * little-endian file, written atomically; read back for `s2ctl results` and converted to CSV
 * and NumPy .npy.
 *
 * File: 'S2RS' u32, version u32 (1), dt_ms f64, steps u32, n_pops u32, then per population:
 *   label_len u16, label, size u32, n_spikes u64, n_spikes x (neuron u32, step u32),
 *   n_vrec u32, n_vrec x neuron u32, steps x n_vrec f32 (row per step).
 * Then the clipping section: 'S2CL' u32, n_pops u32, per population flags u32 (bit 0: spikes
 * recorded) and RES_CLIPS x u64 (results.h; absent in files written before it).
 * A spike in step s happened at (s + 1) * dt ms; voltage row s is the value after step s.
 */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s2/error.h"
#include "s2/wire.h"

#define MAGIC 0x53523253u
#define CLIP_MAGIC 0x4C433253u /* 'S2CL' */

const char *const results_clip_names[RES_CLIPS] = {"inputs_clipped", "weights_zero",
                                                   "weights_clipped", "delays_clamped",
                                                   "recording_bytes_lost"};

void results_free(struct results *r)
{
	if (!r)
		return;
	for (unsigned p = 0; p < r->n_pops; p++) {
		free(r->pops[p].label);
		free(r->pops[p].spikes);
		free(r->pops[p].vrec);
		free(r->pops[p].v);
	}
	free(r->pops);
	free(r);
}

int results_add_pe(struct results *r, unsigned pop, uint32_t lo, uint32_t n, const uint8_t *spk,
                   size_t spk_len, unsigned n_vrec, const uint8_t *vrec, const uint8_t *v,
                   size_t v_len)
{
	if (pop >= r->n_pops)
		return S2_E_RANGE;
	struct results_pop *P = &r->pops[pop];
	uint32_t bpr = (n + 7) / 8, steps = r->steps;
	for (uint32_t t = 0; spk && t < steps && (size_t)(t + 1) * bpr <= spk_len; t++)
		for (uint32_t i = 0; i < n; i++)
			if (spk[(size_t)t * bpr + i / 8] >> (i % 8) & 1u) {
				if ((P->n_spikes & (P->n_spikes - 1)) ==
				    0) { /* grow at powers of two */
					size_t cap = P->n_spikes ? 2 * P->n_spikes : 64;
					struct results_spike *sp =
					        realloc(P->spikes, cap * sizeof *sp);
					if (!sp)
						return S2_E_NOMEM;
					P->spikes = sp;
				}
				P->spikes[P->n_spikes++] = (struct results_spike){lo + i, t};
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
	for (unsigned c = 0; c < n_vrec; c++)
		vr[first + c] = lo + s2_ld16(vrec + 2 * c);
	P->n_vrec = w;
	return 0;
}

static bool put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

static bool put32(FILE *f, uint32_t v)
{
	uint8_t b[4];
	s2_st32(b, v);
	return put(f, b, 4);
}

int results_write(const struct results *r, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return S2_E_IO;
	}
	bool ok = put32(f, MAGIC) && put32(f, 1);
	uint8_t b8[8];
	uint64_t u;
	memcpy(&u, &r->dt_ms, 8);
	s2_st64(b8, u);
	ok = ok && put(f, b8, 8) && put32(f, r->steps) && put32(f, r->n_pops);
	for (unsigned p = 0; ok && p < r->n_pops; p++) {
		const struct results_pop *q = &r->pops[p];
		uint8_t b2[2];
		size_t ll = strlen(q->label);
		s2_st16(b2, (uint16_t)ll);
		ok = put(f, b2, 2) && put(f, q->label, ll) && put32(f, q->size);
		s2_st64(b8, q->n_spikes);
		ok = ok && put(f, b8, 8);
		for (uint64_t i = 0; ok && i < q->n_spikes; i++)
			ok = put32(f, q->spikes[i].neuron) && put32(f, q->spikes[i].step);
		ok = ok && put32(f, q->n_vrec);
		for (unsigned i = 0; ok && i < q->n_vrec; i++)
			ok = put32(f, q->vrec[i]);
		for (uint64_t i = 0; ok && i < (uint64_t)r->steps * q->n_vrec; i++) {
			uint32_t v;
			memcpy(&v, &q->v[i], 4);
			ok = put32(f, v);
		}
	}
	ok = ok && put32(f, CLIP_MAGIC) && put32(f, r->n_pops);
	for (unsigned p = 0; ok && p < r->n_pops; p++) {
		ok = put32(f, r->pops[p].spikes_recorded ? 1u : 0u);
		for (unsigned k = 0; ok && k < RES_CLIPS; k++) {
			s2_st64(b8, r->pops[p].clip[k]);
			ok = put(f, b8, 8);
		}
	}
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		return S2_E_IO;
	}
	return 0;
}

/* Bounded reader over a whole file. */
struct rd {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->bad || n > r->n - r->at) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->at;
	r->at += n;
	return p;
}

static uint32_t get32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? s2_ld32(p) : 0;
}

struct results *results_read(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	uint8_t *buf = NULL;
	struct results *res = NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 24 || st.st_size > (1ll << 34) ||
	    !(buf = malloc((size_t)st.st_size)) ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: cannot read (empty, too large or unreadable)", path);
		goto out;
	}
	struct rd r = {buf, (size_t)st.st_size, 0, false};
	if (get32(&r) != MAGIC || get32(&r) != 1) {
		snprintf(err, errlen, "%s: not an s2 results file (version 1)", path);
		goto out;
	}
	res = calloc(1, sizeof *res);
	if (!res)
		goto nomem;
	const uint8_t *d = take(&r, 8);
	uint64_t u = d ? s2_ld64(d) : 0;
	memcpy(&res->dt_ms, &u, 8);
	res->steps = get32(&r);
	res->n_pops = get32(&r);
	if (r.bad || res->n_pops > 65536 || !(res->dt_ms > 0)) {
		snprintf(err, errlen, "%s: damaged header", path);
		goto fail;
	}
	res->pops = calloc(res->n_pops ? res->n_pops : 1, sizeof *res->pops);
	if (!res->pops)
		goto nomem;
	for (unsigned p = 0; p < res->n_pops; p++) {
		struct results_pop *q = &res->pops[p];
		const uint8_t *l2 = take(&r, 2);
		size_t ll = l2 ? s2_ld16(l2) : 0;
		const uint8_t *lab = take(&r, ll);
		q->size = get32(&r);
		const uint8_t *ns = take(&r, 8);
		q->n_spikes = ns ? s2_ld64(ns) : 0;
		if (r.bad || q->n_spikes > (r.n - r.at) / 8) {
			snprintf(err, errlen, "%s: population %u: damaged", path, p);
			goto fail;
		}
		q->label = malloc(ll + 1);
		q->spikes = malloc((q->n_spikes ? q->n_spikes : 1) * sizeof *q->spikes);
		if (!q->label || !q->spikes)
			goto nomem;
		memcpy(q->label, lab, ll);
		q->label[ll] = 0;
		for (uint64_t i = 0; i < q->n_spikes; i++) {
			q->spikes[i].neuron = get32(&r);
			q->spikes[i].step = get32(&r);
		}
		q->n_vrec = get32(&r);
		if (r.bad || q->n_vrec > (r.n - r.at) / 4 ||
		    (q->n_vrec && (uint64_t)res->steps * q->n_vrec > (r.n - r.at) / 4)) {
			snprintf(err, errlen, "%s: population %s: damaged voltages", path,
			         q->label);
			goto fail;
		}
		q->vrec = malloc((q->n_vrec ? q->n_vrec : 1) * sizeof *q->vrec);
		q->v = malloc(((size_t)res->steps * q->n_vrec + 1) * sizeof *q->v);
		if (!q->vrec || !q->v)
			goto nomem;
		for (unsigned i = 0; i < q->n_vrec; i++)
			q->vrec[i] = get32(&r);
		for (uint64_t i = 0; i < (uint64_t)res->steps * q->n_vrec; i++) {
			uint32_t v = get32(&r);
			memcpy(&q->v[i], &v, 4);
		}
	}
	if (!r.bad && r.at != r.n) { /* the clipping section */
		uint32_t tag = get32(&r), np = get32(&r);
		if (r.bad || tag != CLIP_MAGIC || np != res->n_pops) {
			snprintf(err, errlen, "%s: trailing bytes", path);
			goto fail;
		}
		for (unsigned p = 0; p < res->n_pops; p++) {
			uint32_t fl = get32(&r);
			res->pops[p].spikes_recorded = fl & 1u;
			for (unsigned k = 0; k < RES_CLIPS; k++) {
				const uint8_t *c = take(&r, 8);
				res->pops[p].clip[k] = c ? s2_ld64(c) : 0;
			}
			if (fl & ~1u)
				r.bad = true;
		}
		res->has_clips = true;
	} else {
		for (unsigned p = 0; p < res->n_pops; p++) /* older files: as before */
			res->pops[p].spikes_recorded = true;
	}
	if (r.bad || r.at != r.n) {
		snprintf(err, errlen, "%s: %s", path, r.bad ? "truncated" : "trailing bytes");
		goto fail;
	}
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	results_free(res);
	res = NULL;
out:
	free(buf);
	fclose(f);
	return res;
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

int results_export(const struct results *r, const char *dir, bool npy, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return S2_E_IO;
	}
	for (unsigned p = 0; p < r->n_pops; p++) {
		const struct results_pop *q = &r->pops[p];
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
			if (f) {
				fputs("time_ms", f);
				for (unsigned k = 0; k < q->n_vrec; k++)
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
