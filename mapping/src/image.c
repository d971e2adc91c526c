/*
 * Network images (mapping/include/s2/image.h, docs/image.md): per-chip blobs holding the
 * chip's router table and the data of each of its application PEs (neuron parameters and
 * initial state as descriptors, the key-to-synaptic-row lookup, expansion descriptors for
 * statistical connectors with their seeds, explicit rows for lists, recording and spike
 * times), each a zlib stream with a CRC-32, then the protobuf manifest, then the header
 * written last, all in a temporary file renamed into place. Chips are built and compressed by
 * worker threads (image_pedata.c, image_deflate.c or libdeflate) and written in chip order by
 * the caller's thread, so the bytes do not depend on the threads.
 */
#include "s2/image.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include "map_internal.h"
#include "s2/error.h"
#include "s2/network.h"
#include "s2/pedata.h"
#include "s2/wire.h"
#include "s2pb/image.pb-c.h"

#define CHIP_MAGIC 0x42433253u /* "S2CB" */
#define PE_MAGIC 0x45503253u   /* "S2PE" */
#define BLOB_VERSION 2u
#define CHIP_HDR 24u
#define RT_ENTRY 28u
#define PE_DIR S2_IMAGE_PE_DIR
#define PE_HDR 48u
#define SECT_LEN 12u
#define VALUE_LEN 24u
#define LOOKUP_LEN 28u
#define EXPAND_LEN 96u
#define BLOB_RAW_MAX (256u << 20)
#define MANIFEST_MAX (1u << 30)
#define IMAGE_ZLEVEL 1 /* libdeflate's fastest level that still searches for matches */

enum sect {
	SECT_PARAMS = 1,
	SECT_STATE,
	SECT_LOOKUP,
	SECT_EXPAND,
	SECT_ROWS,
	SECT_RECORD,
	SECT_SPIKES,
	SECT__MAX = SECT_SPIKES
};

enum vkind { V_CONST, V_ARRAY, V_UNIFORM, V_NORMAL, V_NORMAL_CLIPPED, V_EXPONENTIAL };

/* ---- a growable little-endian byte buffer --------------------------------------------- */

uint8_t *map_buf_grow(struct map_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return NULL;
		}
		b->p = q;
		b->cap = cap;
	}
	uint8_t *r = b->p + b->n;
	memset(r, 0, n);
	b->n += n;
	return r;
}

/* CRC-32 (IEEE, as s2_crc32 in proto/ and zlib's crc32, which the proto tests check it
 * against): libdeflate's, several times faster on the gigabytes of a large image. */
static uint32_t crc(const uint8_t *p, size_t n)
{
	return libdeflate_crc32(0, p, n);
}

/* ---- per-PE data ---------------------------------------------------------------------------- */

struct writer {
	struct s2_mapping *mp;
	uint64_t **fixed_total_share; /* per projection: per post part share (fixed_total) */
	uint64_t *src;                /* scratch: source parts of a post part */
	size_t src_cap;
	long src_n;    /* sources of the previous call, reused when its */
	uint64_t *sig; /* signature (population, ranges) is the same */
	size_t sig_n, sig_cap;
	bool src_new; /* the last call computed its sources (else reused them) */
};

/* Source parts (sorted by key) whose spikes reach post part q. Parts of one population whose
 * projections cover them the same way (no one-to-one, no list) share the previous result. */
static long sources_of(struct writer *w, uint64_t q)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	const struct part *pt = &mp->parts[q];
	size_t ns = 0;
	bool cacheable = true;
	uint64_t sig[3 * 64];
	for (uint32_t ij = mp->in_first[pt->pop]; ij < mp->in_first[pt->pop + 1]; ij++) {
		uint32_t j = mp->in_proj[ij];
		uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
		uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n : net->post_hi[j];
		if (lo >= hi)
			continue;
		S2pb__Projection__ConnectorCase cc = net->pb->projections[j]->connector_case;
		if (cc == S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE ||
		    cc == S2PB__PROJECTION__CONNECTOR_FROM_LIST || ns + 1 >= 64)
			cacheable = false;
		else
			sig[1 + ns++] = j;
	}
	sig[0] = pt->pop;
	if (cacheable && w->src_n >= 0 && w->sig_n == ns + 1 &&
	    !memcmp(w->sig, sig, (ns + 1) * sizeof *sig)) {
		w->src_new = false;
		return w->src_n;
	}
	w->src_n = -1;
	w->src_new = true;
	size_t n = 0;
	for (uint32_t ij = mp->in_first[pt->pop]; ij < mp->in_first[pt->pop + 1]; ij++) {
		uint32_t j = mp->in_proj[ij];
		uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
		uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n : net->post_hi[j];
		if (lo >= hi)
			continue;
		uint32_t pre = net->pre[j];
		const S2pb__Projection *pj = net->pb->projections[j];
		uint64_t a, b;
		if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_ONE_TO_ONE) {
			a = map_part_of(mp, pre, net->pre_lo[j] + (lo - net->post_lo[j]));
			b = map_part_of(mp, pre, net->pre_lo[j] + (hi - 1 - net->post_lo[j])) + 1;
		} else {
			a = map_part_of(mp, pre, net->pre_lo[j]);
			b = map_part_of(mp, pre, net->pre_hi[j] - 1) + 1;
		}
		for (uint64_t s = a; s < b; s++) {
			if (pj->connector_case == S2PB__PROJECTION__CONNECTOR_FROM_LIST) {
				/* only sources with an entry to this part */
				const struct list_pairs *lp = &mp->lists[j];
				uint64_t want = s << 32 | (q - mp->pops[pt->pop].first);
				size_t L = 0, H = lp->n;
				while (L < H) {
					size_t mid = (L + H) / 2;
					if (lp->pair[mid] < want)
						L = mid + 1;
					else
						H = mid;
				}
				if (L >= lp->n || lp->pair[L] != want)
					continue;
			}
			if (n == w->src_cap) {
				size_t cap = w->src_cap ? w->src_cap * 2 : 1024;
				uint64_t *nsrc = realloc(w->src, cap * sizeof *nsrc);
				if (!nsrc)
					return S2_E_NOMEM;
				w->src = nsrc;
				w->src_cap = cap;
			}
			w->src[n++] = (uint64_t)mp->parts[s].key << 32 | (uint32_t)s;
		}
	}
	bool sorted = true;
	for (size_t k = 1; k < n && sorted; k++)
		sorted = w->src[k - 1] < w->src[k];
	if (!sorted)
		qsort(w->src, n, sizeof *w->src, s2_map_cmp_u64);
	size_t u = 0;
	for (size_t k = 0; k < n; k++)
		if (u == 0 || w->src[u - 1] != w->src[k])
			w->src[u++] = w->src[k];
	if (cacheable) {
		if (ns + 1 > w->sig_cap) {
			uint64_t *nsig = realloc(w->sig, (ns + 1) * sizeof *nsig);
			if (!nsig)
				return S2_E_NOMEM;
			w->sig = nsig;
			w->sig_cap = ns + 1;
		}
		memcpy(w->sig, sig, (ns + 1) * sizeof *sig);
		w->sig_n = ns + 1;
		w->src_n = (long)u;
	}
	return (long)u;
}

/* Shares of fixed_total projection j among the post parts of its slice: proportional to the
 * neurons each holds, largest remainders first (ties: lower part), summing to n exactly. */
static int fixed_total_shares(struct writer *w, size_t j)
{
	struct s2_mapping *mp = w->mp;
	const struct s2_net *net = mp->net;
	uint32_t post = net->post[j];
	const struct pop_map *pm = &mp->pops[post];
	uint64_t *share = calloc(pm->count + 1, sizeof *share);
	double *frac = calloc(pm->count + 1, sizeof *frac);
	if (!share || !frac) {
		free(share);
		free(frac);
		return S2_E_NOMEM;
	}
	uint64_t total = net->pb->projections[j]->fixed_total->n, given = 0;
	double slice = net->post_hi[j] - net->post_lo[j];
	for (uint32_t k = 0; k < pm->count; k++) {
		const struct part *pt = &mp->parts[pm->first + k];
		uint32_t lo = pt->lo > net->post_lo[j] ? pt->lo : net->post_lo[j];
		uint32_t hi = pt->lo + pt->n < net->post_hi[j] ? pt->lo + pt->n : net->post_hi[j];
		if (lo >= hi)
			continue;
		double exact = (double)total * (hi - lo) / slice;
		share[k] = (uint64_t)floor(exact);
		frac[k] = exact - floor(exact);
		given += share[k];
	}
	while (given < total) {
		uint32_t best = 0;
		for (uint32_t k = 1; k < pm->count; k++)
			if (frac[k] > frac[best])
				best = k;
		share[best]++;
		frac[best] = -1;
		given++;
	}
	free(frac);
	w->fixed_total_share[j] = share;
	return 0;
}

/* ---- chip blobs and the file ---------------------------------------------------------------- */

/* One thread's tools: source lists, PE-data scratch, compressor. */
struct worker {
	struct writer w;
	struct image_scratch *sc;
	struct libdeflate_compressor *z;
	struct map_buf raw;
	struct image_span *span; /* where the blob repeats itself: for image_deflate */
	struct image_deflate_tmp dtmp;
	uint8_t *zb; /* the other encoder's output, swapped with a slot's buffer if smaller */
	size_t zcap;
	size_t n_span, span_cap;
	pthread_t th;
	bool started;
	struct pool *pool;
};

static int chip_blob(struct worker *k, const struct image_prep *ip, struct map_buf *b, uint32_t g,
                     const uint64_t *parts, uint32_t np, char *why, size_t whylen)
{
	struct s2_mapping *mp = k->w.mp;
	const struct table *t = &mp->tables[g];
	b->n = 0;
	b->failed = false;
	size_t fixed = CHIP_HDR + (size_t)t->n * RT_ENTRY + (size_t)np * PE_DIR;
	uint8_t *h = map_buf_grow(b, fixed);
	if (!h)
		return S2_E_NOMEM;
	s2_st32(h, CHIP_MAGIC);
	s2_st16(h + 4, BLOB_VERSION);
	s2_st16(h + 6, (uint16_t)np);
	s2_st32(h + 8, t->n);
	s2_st32(h + 12, g / mp->cpb);
	s2_st32(h + 16, g % mp->cpb);
	uint8_t *e = h + CHIP_HDR;
	for (uint32_t i = 0; i < t->n; i++, e += RT_ENTRY) {
		s2_st32(e, t->e[i].key);
		s2_st32(e + 4, t->e[i].mask);
		for (unsigned w = 0; w < S2_ROUTE_WORDS; w++)
			s2_st32(e + 8 + 4 * w, t->e[i].route.w[w]);
	}
	size_t dir = CHIP_HDR + (size_t)t->n * RT_ENTRY;
	/* Spans for image_deflate: a router entry repeats the previous one but for its key, a
	 * directory entry the previous one, a PE record the previous record of its length. */
	if ((size_t)np + 3 > k->span_cap) {
		size_t cap = (size_t)np + 3 + 64;
		struct image_span *sp = realloc(k->span, cap * sizeof *sp);
		if (!sp)
			return S2_E_NOMEM;
		k->span = sp;
		k->span_cap = cap;
	}
	k->n_span = 0;
	k->span[k->n_span++] = (struct image_span){0, 0};
	k->span[k->n_span++] = (struct image_span){CHIP_HDR, RT_ENTRY};
	k->span[k->n_span++] = (struct image_span){(uint32_t)dir, PE_DIR};
	struct {
		size_t len, start;
	} last[16]; /* the latest record of each recent length */
	unsigned n_last = 0, next_last = 0;
	for (uint32_t x = 0; x < np; x++) {
		const struct part *pt = &mp->parts[parts[x]];
		long nsrc = sources_of(&k->w, parts[x]);
		if (nsrc < 0)
			return S2_E_NOMEM;
		size_t off = b->n;
		int rc =
		        image_put_pedata(mp, ip, k->sc, parts[x], k->w.src, nsrc, k->w.src_new,
		                         k->w.fixed_total_share, mp->net->pb->seed, b, why, whylen);
		if (rc < 0)
			return rc;
		if (b->n > BLOB_RAW_MAX)
			return S2_E_NOSPACE;
		size_t len = b->n - off, dist = 0;
		unsigned y = 0;
		while (y < n_last && last[y].len != len)
			y++;
		if (y < n_last) {
			dist = off - last[y].start;
		} else {
			y = n_last < 16 ? n_last++ : next_last++ % 16;
			last[y].len = len;
		}
		last[y].start = off;
		k->span[k->n_span++] = (struct image_span){(uint32_t)off, (uint32_t)dist};
		uint8_t *d = b->p + dir + (size_t)x * PE_DIR;
		s2_st16(d, pt->pe);
		s2_st16(d + 2, (uint16_t)pt->pop);
		s2_st32(d + 4, pt->lo);
		s2_st32(d + 8, (uint32_t)off);
		s2_st32(d + 12, (uint32_t)(b->n - off));
	}
	return b->failed ? S2_E_NOMEM : 0;
}

#define IMAGE_THREADS 2 /* default: the brief's reference host has 2 cores */
#define IMAGE_THREADS_MAX 64
#define IMAGE_WINDOW 256 /* chips built ahead of the one being written, at most */
#define IMAGE_WAKE 32    /* chips the writer lets the workers finish before it wakes */

/* A chip being built: its blob compressed, with both CRCs (or the error). The buffer stays
 * with the slot and is reused. */
struct slot {
	uint32_t g, np;
	uint8_t *z;
	size_t zl, zcap, raw_n;
	uint32_t crc_z, crc_raw;
	int rc;
	bool ready;
	char why[256];
};

/* Chips are claimed in order by the workers and written in order by the caller's thread: the
 * file's bytes do not depend on the number of threads or on which thread built a chip. */
struct pool {
	struct s2_mapping *mp;
	const struct image_prep *ip;
	const uint32_t *chips; /* the chips with a blob, in (board, chip) order */
	uint32_t n;
	const uint64_t *order, *chip_first;
	struct slot *slot; /* IMAGE_WINDOW */
	pthread_mutex_t mu;
	pthread_cond_t ready, space;
	uint32_t next, written; /* next chip to claim; chips written */
	uint32_t want;          /* the chip the writer waits for (UINT32_MAX: none) */
	unsigned idle;          /* workers waiting for space in the window */
	bool stop;              /* an error was met: claim nothing more */
};

static void build_slot(struct worker *k, struct slot *s)
{
	struct pool *pl = k->pool;
	s->rc = chip_blob(k, pl->ip, &k->raw, s->g, pl->order + pl->chip_first[s->g], s->np, s->why,
	                  sizeof s->why);
	if (s->rc < 0)
		return;
	/* The fast encoder first; where it does not reach a quarter of the raw size (blobs
	 * without repeated records), libdeflate too, and the smaller stream is kept. */
	size_t bound = image_deflate_bound(k->raw.n);
	size_t lbound = libdeflate_zlib_compress_bound(k->z, k->raw.n);
	if (lbound > bound)
		bound = lbound;
	if (bound > s->zcap) {
		free(s->z);
		s->zcap = bound + bound / 4;
		if (!(s->z = malloc(s->zcap))) {
			s->zcap = 0;
			s->rc = S2_E_NOMEM;
			return;
		}
	}
	if (bound > k->zcap) {
		free(k->zb);
		k->zcap = bound + bound / 4;
		if (!(k->zb = malloc(k->zcap))) {
			k->zcap = 0;
			s->rc = S2_E_NOMEM;
			return;
		}
	}
	s->zl = image_deflate(k->raw.p, k->raw.n, k->span, k->n_span, s->z, s->zcap, &k->dtmp);
	if (s->zl == 0 || s->zl > k->raw.n / 4) {
		size_t zl = libdeflate_zlib_compress(k->z, k->raw.p, k->raw.n, k->zb, k->zcap);
		if (zl > 0 && (s->zl == 0 || zl < s->zl)) {
			uint8_t *t = s->z; /* the buffers change hands with their sizes */
			size_t tc = s->zcap;
			s->z = k->zb;
			s->zcap = k->zcap;
			k->zb = t;
			k->zcap = tc;
			s->zl = zl;
		}
	}
	if (s->zl == 0) {
		s->rc = S2_E_NOMEM;
		return;
	}
	s->raw_n = k->raw.n;
	s->crc_z = crc(s->z, s->zl);
	s->crc_raw = crc(k->raw.p, k->raw.n);
}

static void *image_work(void *arg)
{
	struct worker *k = arg;
	struct pool *pl = k->pool;
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (!pl->stop && pl->next < pl->n && pl->next >= pl->written + IMAGE_WINDOW) {
			pl->idle++;
			pthread_cond_wait(&pl->space, &pl->mu);
			pl->idle--;
		}
		if (pl->stop || pl->next >= pl->n)
			break;
		uint32_t i = pl->next++;
		struct slot *s = &pl->slot[i % IMAGE_WINDOW];
		pthread_mutex_unlock(&pl->mu);
		s->g = pl->chips[i];
		s->np = (uint32_t)(pl->chip_first[s->g + 1] - pl->chip_first[s->g]);
		s->rc = 0;
		s->why[0] = 0;
		build_slot(k, s);
		pthread_mutex_lock(&pl->mu);
		s->ready = true;
		if (pl->want == i) /* wake the writer only for the chip it waits for */
			pthread_cond_signal(&pl->ready);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

static bool wr(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

/* Write the image to path (atomically, through a temporary file), or to the seekable stream
 * given (then path only names it in messages, and the stream stays open). */
static int image_write(struct s2_mapping *mp, const char *path, FILE *given, char *err,
                       size_t errlen)
{
	if (mp->stage < 5) {
		net_seterr(err, errlen, "%s: the mapping has not built its tables yet", path);
		return S2_E_STATE;
	}
	const struct s2_net *net = mp->net;
	const S2pb__Network *pb = net->pb;
	struct writer w = {.mp = mp, .src_n = -1};
	unsigned nt = mp->cfg.image_threads ? mp->cfg.image_threads : IMAGE_THREADS;
	if (nt > IMAGE_THREADS_MAX)
		nt = IMAGE_THREADS_MAX;
	struct worker wk[IMAGE_THREADS_MAX];
	struct pool pl = {.mp = mp, .want = UINT32_MAX};
	bool pool_init = false;
	struct image_prep *ip = NULL;
	uint32_t *chips = NULL;
	memset(wk, 0, sizeof wk);
	uint64_t *chip_first = calloc((size_t)mp->n_chips + 2, sizeof *chip_first);
	uint64_t *order = malloc((mp->n_parts + 1) * sizeof *order);
	S2pb__ImageBlob *blobs = NULL, **pblobs = NULL;
	S2pb__ImagePopulation *pops = calloc(pb->n_populations + 1, sizeof *pops);
	S2pb__ImagePopulation **ppops = calloc(pb->n_populations + 1, sizeof *ppops);
	S2pb__ImageRecording *recs = calloc(pb->n_recordings + 1, sizeof *recs);
	S2pb__ImageRecording **precs = calloc(pb->n_recordings + 1, sizeof *precs);
	w.fixed_total_share = calloc(pb->n_projections + 1, sizeof *w.fixed_total_share);
	char *tmp = malloc(strlen(path) + 32);
	FILE *f = NULL;
	int rc = S2_E_NOMEM;
	if (!chip_first || !order || !pops || !ppops || !recs || !precs || !w.fixed_total_share ||
	    !tmp)
		goto nomem;
	for (size_t j = 0; j < pb->n_projections; j++)
		if (pb->projections[j]->connector_case == S2PB__PROJECTION__CONNECTOR_FIXED_TOTAL &&
		    fixed_total_shares(&w, j) < 0)
			goto nomem;
	if (!(ip = image_prep_new(mp, pb->seed)))
		goto nomem;
	/* parts per chip, in PE order */
	for (uint64_t i = 0; i < mp->n_parts; i++)
		chip_first[mp->parts[i].chip + 1]++;
	for (uint32_t g = 0; g < mp->n_chips; g++)
		chip_first[g + 1] += chip_first[g];
	for (uint64_t i = 0; i < mp->n_parts; i++)
		order[chip_first[mp->parts[i].chip]++] = (uint64_t)mp->parts[i].pe << 40 | i;
	for (uint32_t g = mp->n_chips; g > 0; g--)
		chip_first[g] = chip_first[g - 1];
	chip_first[0] = 0;
	uint32_t nblobs = 0;
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		uint64_t n = chip_first[g + 1] - chip_first[g];
		if (n > 1)
			qsort(order + chip_first[g], n, sizeof *order, s2_map_cmp_u64);
		for (uint64_t k = chip_first[g]; k < chip_first[g + 1]; k++)
			order[k] &= (1ull << 40) - 1;
		nblobs += n > 0 || mp->tables[g].n > 0;
	}
	blobs = calloc(nblobs + 1, sizeof *blobs);
	pblobs = calloc(nblobs + 1, sizeof *pblobs);
	chips = malloc((nblobs + 1) * sizeof *chips);
	pl.slot = calloc(IMAGE_WINDOW, sizeof *pl.slot);
	if (!blobs || !pblobs || !chips || !pl.slot)
		goto nomem;
	for (uint32_t g = 0, i = 0; g < mp->n_chips; g++)
		if (chip_first[g + 1] > chip_first[g] || mp->tables[g].n > 0)
			chips[i++] = g;
	snprintf(tmp, strlen(path) + 32, "%s.tmp%ld", path, (long)getpid());
	f = given ? given : fopen(tmp, "wb");
	if (!f) {
		net_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = S2_E_IO;
		goto out;
	}
	uint8_t hdr[S2_IMAGE_HDR_LEN] = {0};
	if (!wr(f, hdr, sizeof hdr))
		goto ioerr;
	uint64_t off = S2_IMAGE_HDR_LEN;
	/* The workers build and compress chips ahead of the writer (this thread), which
	 * writes them in chip order. */
	pl.ip = ip;
	pl.chips = chips;
	pl.n = nblobs;
	pl.order = order;
	pl.chip_first = chip_first;
	if (pthread_mutex_init(&pl.mu, NULL) != 0)
		goto nomem;
	if (pthread_cond_init(&pl.ready, NULL) != 0) {
		pthread_mutex_destroy(&pl.mu);
		goto nomem;
	}
	if (pthread_cond_init(&pl.space, NULL) != 0) {
		pthread_cond_destroy(&pl.ready);
		pthread_mutex_destroy(&pl.mu);
		goto nomem;
	}
	pool_init = true;
	for (unsigned t = 0; t < nt; t++) {
		wk[t].w = (struct writer){
		        .mp = mp, .src_n = -1, .fixed_total_share = w.fixed_total_share};
		wk[t].pool = &pl;
		wk[t].sc = image_scratch_new();
		wk[t].z = libdeflate_alloc_compressor(IMAGE_ZLEVEL);
		if (!wk[t].sc || !wk[t].z)
			goto nomem;
	}
	unsigned running = 0;
	for (unsigned t = 0; t < nt; t++)
		if ((wk[t].started = pthread_create(&wk[t].th, NULL, image_work, &wk[t]) == 0))
			running++;
	rc = 0;
	uint32_t bi = 0;
	for (uint32_t i = 0; i < nblobs && rc == 0; i++) {
		struct slot *s = &pl.slot[i % IMAGE_WINDOW];
		if (running == 0) { /* no thread could start: build the chip here */
			s->g = chips[i];
			s->np = (uint32_t)(chip_first[s->g + 1] - chip_first[s->g]);
			s->rc = 0;
			s->why[0] = 0;
			build_slot(&wk[0], s);
			s->ready = true;
		}
		pthread_mutex_lock(&pl.mu);
		while (!s->ready) {
			/* Wait for a chip IMAGE_WAKE - 1 further on, unless it is built already
			 * (then for this one): one wake-up per IMAGE_WAKE chips rather than per
			 * chip. The window's slot of that chip is its own (far < i + IMAGE_WINDOW).
			 */
			uint32_t far =
			        i + IMAGE_WAKE - 1 < nblobs ? i + IMAGE_WAKE - 1 : nblobs - 1;
			pl.want = pl.slot[far % IMAGE_WINDOW].ready ? i : far;
			pthread_cond_wait(&pl.ready, &pl.mu);
		}
		pl.want = UINT32_MAX;
		pthread_mutex_unlock(&pl.mu);
		if (s->rc < 0) {
			rc = s->rc;
			net_seterr(err, errlen, "chip (%u, %u): %s", s->g / mp->cpb, s->g % mp->cpb,
			           s->why[0]               ? s->why
			           : s->rc == S2_E_NOSPACE ? "its data exceed 256 MiB"
			                                   : "out of memory");
		} else if (!wr(f, s->z, s->zl)) {
			rc = S2_E_IO;
		} else {
			S2pb__ImageBlob *ib = &blobs[bi];
			s2pb__image_blob__init(ib);
			ib->board = s->g / mp->cpb;
			ib->chip = s->g % mp->cpb;
			ib->offset = off;
			ib->size = (uint32_t)s->zl;
			ib->raw_size = (uint32_t)s->raw_n;
			ib->crc32 = s->crc_z;
			ib->raw_crc32 = s->crc_raw;
			ib->pes = s->np;
			ib->router_entries = mp->tables[s->g].n;
			pblobs[bi] = ib;
			bi++;
			off += s->zl;
		}
		pthread_mutex_lock(&pl.mu);
		s->ready = false;
		pl.written++;
		pl.stop |= rc < 0;
		if (pl.idle)
			pthread_cond_broadcast(&pl.space);
		pthread_mutex_unlock(&pl.mu);
	}
	pthread_mutex_lock(&pl.mu);
	pl.stop = true;
	pthread_cond_broadcast(&pl.space);
	pthread_mutex_unlock(&pl.mu);
	for (unsigned t = 0; t < nt; t++)
		if (wk[t].started)
			pthread_join(wk[t].th, NULL);
	if (rc == S2_E_IO)
		goto ioerr;
	if (rc < 0)
		goto out;
	/* manifest */
	S2pb__Image im = S2PB__IMAGE__INIT;
	S2pb__ImageReport rep = S2PB__IMAGE_REPORT__INIT;
	const struct s2_map_report *r = &mp->rep;
	im.format = S2_IMAGE_VERSION;
	im.network = pb->name;
	{
		uint8_t *nb;
		size_t nl;
		if (s2_net_encode(net, &nb, &nl) < 0)
			goto nomem;
		im.network_crc32 = crc(nb, nl);
		free(nb);
	}
	im.machine = (char *)s2_machine_name(mp->m);
	im.machine_width = s2_machine_width(mp->m);
	im.machine_height = s2_machine_height(mp->m);
	im.machine_boards = s2_machine_boards(mp->m);
	im.timestep_ms = pb->timestep_ms;
	im.run_ms = pb->run_ms;
	im.seed = pb->seed;
	for (size_t p = 0; p < pb->n_populations; p++) {
		s2pb__image_population__init(&pops[p]);
		pops[p].label = pb->populations[p]->label;
		pops[p].model = pb->populations[p]->model;
		pops[p].size = pb->populations[p]->size;
		pops[p].parts = mp->pops[p].count;
		pops[p].per_pe = mp->pops[p].per_part;
		ppops[p] = &pops[p];
	}
	im.n_populations = pb->n_populations;
	im.populations = ppops;
	for (size_t k = 0; k < pb->n_recordings; k++) {
		s2pb__image_recording__init(&recs[k]);
		recs[k].population = pb->recordings[k]->population;
		recs[k].variable = pb->recordings[k]->variable;
		recs[k].neurons = (uint32_t)pb->recordings[k]->n_neurons;
		recs[k].interval_ms = pb->recordings[k]->interval_ms;
		precs[k] = &recs[k];
	}
	im.n_recordings = pb->n_recordings;
	im.recordings = precs;
	im.n_blobs = bi;
	im.blobs = pblobs;
	rep.pes = r->parts;
	rep.chips = r->chips;
	rep.boards = r->boards;
	rep.entries_before = r->entries_before;
	rep.entries_after = r->entries_after;
	rep.max_entries_before = r->max_entries_before;
	rep.max_entries_after = r->max_entries_after;
	rep.busiest_link_load = r->busiest_link_load;
	rep.busiest_board = r->busiest_board;
	rep.busiest_chip = r->busiest_chip;
	rep.busiest_link = r->busiest_link;
	rep.synaptic_events_per_step = r->synaptic_events_per_step;
	rep.keys_used = r->keys_used;
	rep.key_mode = r->key_mode;
	im.report = &rep;
	size_t ml = s2pb__image__get_packed_size(&im);
	uint8_t *man = malloc(ml ? ml : 1);
	if (!man)
		goto nomem;
	s2pb__image__pack(&im, man);
	bool ok = wr(f, man, ml);
	memcpy(hdr, S2_IMAGE_MAGIC, 8);
	s2_st32(hdr + 8, S2_IMAGE_VERSION);
	s2_st32(hdr + 12, (uint32_t)ml);
	s2_st64(hdr + 16, off);
	s2_st32(hdr + 24, crc(man, ml));
	free(man);
	if (!ok || fseek(f, 0, SEEK_SET) != 0 || !wr(f, hdr, sizeof hdr))
		goto ioerr;
	ok = fflush(f) == 0;
	if (!given) {
		ok = fsync(fileno(f)) == 0 && ok;
		ok = fclose(f) == 0 && ok;
	}
	f = NULL;
	if (!ok)
		goto ioerr;
	if (!given && rename(tmp, path) != 0) {
		net_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = S2_E_IO;
		goto out;
	}
	rc = 0;
	goto done;
ioerr:
	net_seterr(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
	rc = S2_E_IO;
	goto out;
nomem:
	net_seterr(err, errlen, "%s: out of memory writing the image", path);
	rc = S2_E_NOMEM;
out:
	if (f && !given)
		fclose(f);
	if (tmp && !given)
		unlink(tmp);
done:
	if (w.fixed_total_share)
		for (size_t j = 0; j < pb->n_projections; j++)
			free(w.fixed_total_share[j]);
	free(w.fixed_total_share);
	free(w.src);
	free(w.sig);
	for (unsigned t = 0; t < IMAGE_THREADS_MAX; t++) {
		free(wk[t].w.src);
		free(wk[t].w.sig);
		free(wk[t].raw.p);
		free(wk[t].span);
		free(wk[t].dtmp.p);
		free(wk[t].zb);
		image_scratch_free(wk[t].sc);
		if (wk[t].z)
			libdeflate_free_compressor(wk[t].z);
	}
	if (pool_init) {
		pthread_cond_destroy(&pl.space);
		pthread_cond_destroy(&pl.ready);
		pthread_mutex_destroy(&pl.mu);
	}
	for (size_t i = 0; pl.slot && i < IMAGE_WINDOW; i++)
		free(pl.slot[i].z);
	free(pl.slot);
	free(chips);
	image_prep_free(ip);
	free(chip_first);
	free(order);
	free(blobs);
	free(pblobs);
	free(pops);
	free(ppops);
	free(recs);
	free(precs);
	free(tmp);
	return rc;
}

int s2_image_write(struct s2_mapping *mp, const char *path, char *err, size_t errlen)
{
	return image_write(mp, path, NULL, err, errlen);
}

int s2_image_write_stream(struct s2_mapping *mp, FILE *f, const char *name, char *err,
                          size_t errlen)
{
	return image_write(mp, name, f, err, errlen);
}

/* ---- checking an image ------------------------------------------------------------------------
 */

static int bad(char *err, size_t errlen, int code, const char *what)
{
	net_seterr(err, errlen, "%s", what);
	return code;
}

/* Structure of an inflated chip blob. */
static int check_chip(const uint8_t *p, size_t n, const S2pb__ImageBlob *ib, size_t i, char *err,
                      size_t errlen)
{
	char what[160];
	if (n < CHIP_HDR || s2_ld32(p) != CHIP_MAGIC || s2_ld16(p + 4) != BLOB_VERSION) {
		snprintf(what, sizeof what, "blobs[%zu]: not a version %u chip blob", i,
		         BLOB_VERSION);
		return bad(err, errlen, S2_E_FORMAT, what);
	}
	uint32_t np = s2_ld16(p + 6), ne = s2_ld32(p + 8);
	if (s2_ld32(p + 12) != ib->board || s2_ld32(p + 16) != ib->chip || np != ib->pes ||
	    ne != ib->router_entries) {
		snprintf(what, sizeof what, "blobs[%zu]: header disagrees with the manifest", i);
		return bad(err, errlen, S2_E_FORMAT, what);
	}
	uint64_t need = CHIP_HDR + (uint64_t)ne * RT_ENTRY + (uint64_t)np * PE_DIR;
	if (need > n) {
		snprintf(what, sizeof what,
		         "blobs[%zu]: %u entries and %u PEs do not fit %zu bytes", i, ne, np, n);
		return bad(err, errlen, S2_E_LENGTH, what);
	}
	const uint8_t *dir = p + CHIP_HDR + (size_t)ne * RT_ENTRY;
	for (uint32_t k = 0; k < np; k++) {
		const uint8_t *d = dir + (size_t)k * PE_DIR;
		uint32_t off = s2_ld32(d + 8), len = s2_ld32(d + 12);
		struct s2_pedata pd;
		int rc;
		if (off < need || off > n || len > n - off) {
			snprintf(what, sizeof what, "blobs[%zu]: PE record %u is out of bounds", i,
			         k);
			return bad(err, errlen, S2_E_FORMAT, what);
		}
		if ((rc = s2_pedata_decode(p + off, len, &pd)) < 0) {
			snprintf(what, sizeof what, "blobs[%zu]: PE record %u: bad PE data (%s)", i,
			         k, s2_strerror(rc));
			return bad(err, errlen, S2_E_FORMAT, what);
		}
	}
	return 0;
}

int s2_image_check(const uint8_t *buf, size_t len, struct s2_image_summary *sum, char *err,
                   size_t errlen)
{
	char what[200];
	memset(sum, 0, sizeof *sum);
	if (len < S2_IMAGE_HDR_LEN || memcmp(buf, S2_IMAGE_MAGIC, 8))
		return bad(err, errlen, S2_E_FORMAT, "not an s2 image (no S2IMAGE header)");
	if (s2_ld32(buf + 8) != S2_IMAGE_VERSION) {
		snprintf(what, sizeof what, "image version %u is not supported (this is %u)",
		         s2_ld32(buf + 8), S2_IMAGE_VERSION);
		return bad(err, errlen, S2_E_VERSION, what);
	}
	uint32_t ml = s2_ld32(buf + 12);
	uint64_t mo = s2_ld64(buf + 16);
	if (s2_ld32(buf + 28) != 0)
		return bad(err, errlen, S2_E_FORMAT, "header: reserved bytes 28-31 are not 0");
	/* Every byte is accounted for: header, blobs back to back, the manifest ending the file. */
	if (ml <= MANIFEST_MAX && mo >= S2_IMAGE_HDR_LEN && mo <= UINT64_MAX - ml &&
	    mo + ml != len) {
		snprintf(what, sizeof what, "%s: header says %llu bytes, file has %zu",
		         mo + ml > len ? "truncated" : "trailing bytes",
		         (unsigned long long)(mo + ml), len);
		return bad(err, errlen, mo + ml > len ? S2_E_SHORT : S2_E_LENGTH, what);
	}
	if (ml > MANIFEST_MAX || mo < S2_IMAGE_HDR_LEN || mo > len || ml > len - mo)
		return bad(err, errlen, S2_E_LENGTH, "manifest: outside the file");
	if (crc(buf + mo, ml) != s2_ld32(buf + 24))
		return bad(err, errlen, S2_E_CRC, "manifest: CRC-32 mismatch");
	S2pb__Image *im = s2pb__image__unpack(NULL, ml, buf + mo);
	if (!im)
		return bad(err, errlen, S2_E_FORMAT, "manifest: not a valid protobuf Image");
	int rc = 0;
	uint8_t *raw = NULL;
	if (im->format != S2_IMAGE_VERSION) {
		rc = bad(err, errlen, S2_E_VERSION, "manifest: format version not supported");
		goto out;
	}
	sum->file_bytes = len;
	uint64_t next = S2_IMAGE_HDR_LEN; /* where the next blob must start */
	for (size_t i = 0; i < im->n_blobs; i++) {
		const S2pb__ImageBlob *ib = im->blobs[i];
		if (ib->offset < S2_IMAGE_HDR_LEN || ib->offset > mo ||
		    ib->size > mo - ib->offset || ib->raw_size > BLOB_RAW_MAX) {
			snprintf(what, sizeof what, "blobs[%zu] (board %u chip %u): out of bounds",
			         i, ib->board, ib->chip);
			rc = bad(err, errlen, S2_E_LENGTH, what);
			goto out;
		}
		if (ib->offset != next) {
			snprintf(what, sizeof what,
			         "blobs[%zu] (board %u chip %u): at offset %llu, not where the "
			         "previous blob ends (%llu)",
			         i, ib->board, ib->chip, (unsigned long long)ib->offset,
			         (unsigned long long)next);
			rc = bad(err, errlen, S2_E_FORMAT, what);
			goto out;
		}
		next = ib->offset + ib->size;
		if (crc(buf + ib->offset, ib->size) != ib->crc32) {
			snprintf(what, sizeof what,
			         "blobs[%zu] (board %u chip %u): CRC-32 mismatch", i, ib->board,
			         ib->chip);
			rc = bad(err, errlen, S2_E_CRC, what);
			goto out;
		}
		free(raw);
		raw = malloc(ib->raw_size ? ib->raw_size : 1);
		if (!raw) {
			rc = bad(err, errlen, S2_E_NOMEM, "out of memory");
			goto out;
		}
		uLongf rl = ib->raw_size;
		if (uncompress(raw, &rl, buf + ib->offset, ib->size) != Z_OK ||
		    rl != ib->raw_size || crc(raw, rl) != ib->raw_crc32) {
			snprintf(what, sizeof what,
			         "blobs[%zu] (board %u chip %u): does not inflate to its %u bytes",
			         i, ib->board, ib->chip, ib->raw_size);
			rc = bad(err, errlen, S2_E_FORMAT, what);
			goto out;
		}
		rc = check_chip(raw, rl, ib, i, err, errlen);
		if (rc < 0)
			goto out;
		sum->blobs++;
		sum->chips++;
		sum->pes += ib->pes;
		sum->raw_bytes += rl;
		sum->router_entries += ib->router_entries;
	}
	if (next != mo) {
		snprintf(what, sizeof what, "%llu bytes between the last blob and the manifest",
		         (unsigned long long)(mo - next));
		rc = bad(err, errlen, S2_E_FORMAT, what);
	}
out:
	free(raw);
	s2pb__image__free_unpacked(im, NULL);
	return rc;
}
