/*
 * Router tables compressed to the minimum (docs/mapping.md, section 5, `--router-target min`):
 * ordered covering (Mundy, Heathcote and Garside, "On-chip order-exploiting routing table
 * minimization for a multicast supercomputer network", 2016), written from the paper's
 * description, followed by the removal of entries the router's default route handles.
 *
 * The result is an ordered table: the first entry that matches a key wins (as the router's
 * TCAM does), entries may overlap and masks need not be prefixes. Correctness rests on two
 * facts: every key that can reach the chip is covered by an entry of the original table
 * (so keys outside all original entries are "don't care"), and the original entries are
 * disjoint (so any order of them is equivalent).
 *
 * Ordered covering keeps the table sorted by generality (the number of don't-care bits, X)
 * and repeatedly applies the merge that removes the most entries: for each route, the set
 * of entries with that route, merged into the smallest cube covering them and inserted above
 * the first entry at least as general, reduced until it is safe:
 *  - down-check: the merged entry must not cover any original key ("alias") of an entry
 *    below its insertion point; entries are dropped from the merge (those with an X or the
 *    wrong value in the bit chosen to exclude the covered key) until it does not;
 *  - up-check: an entry of the merge must not be moved below an entry it intersects (that
 *    entry would now catch its keys); such entries leave the merge.
 * Every entry keeps the list of original entries it stands for, which the down-check uses.
 */
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"
#include "s2/error.h"

struct oc {
	struct ent *t; /* current table, sorted by generality */
	uint32_t n;
	uint32_t *ahead, *atail; /* per table entry: alias list (indices into akey/amask) */
	uint32_t *akey, *amask, *anext;
	uint32_t *cls;     /* per table entry: route class */
	uint8_t *gen;      /* per table entry: generality */
	uint32_t *members; /* scratch: a candidate merge (table indices, ascending) */
	uint32_t *best;    /* the best merge found so far */
	uint32_t *first;   /* per class: start of its entries in order[] */
	uint32_t *order;   /* table indices grouped by class, ascending within each */
	uint8_t *merged;   /* per table entry: made by a merge (else an input entry) */
	uint32_t *mlist;   /* indices of the merged entries, ascending */
	uint32_t n_mlist;
	uint8_t *tmp_merged;
	struct ent *tmp;
	uint32_t *tmp_ahead, *tmp_atail, *tmp_cls;
	uint8_t *tmp_gen;
};

#define NO_ALIAS UINT32_MAX

static unsigned popcount32(uint32_t x)
{
	/* without a popcount instruction in the baseline ISA, this beats the library call */
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	x = (x + (x >> 4)) & 0x0f0f0f0fu;
	return (x * 0x01010101u) >> 24;
}

static unsigned generality(uint32_t mask)
{
	return 32u - popcount32(mask);
}

static bool intersect(uint32_t k1, uint32_t m1, uint32_t k2, uint32_t m2)
{
	return ((k1 ^ k2) & m1 & m2) == 0;
}

struct cube {
	uint32_t key, mask;
	unsigned gen;
	uint32_t ins; /* insertion index: the first entry at least as general */
};

static struct cube merged(const struct oc *o, const uint32_t *s, uint32_t ns)
{
	uint32_t any1 = 0, all1 = UINT32_MAX, allm = UINT32_MAX;
	for (uint32_t k = 0; k < ns; k++) {
		const struct ent *e = &o->t[s[k]];
		any1 |= e->key;
		all1 &= e->key;
		allm &= e->mask;
	}
	struct cube c;
	/* a bit stays specified where every entry specifies it with the same value */
	c.mask = allm & ~(any1 ^ all1);
	c.key = all1 & c.mask;
	c.gen = generality(c.mask);
	uint32_t lo = 0, hi = o->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (o->gen[mid] < c.gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	c.ins = lo;
	return c;
}

/* Keep in s (ascending) the entries that do not have to go for the merge to take value val
 * at bit: those that specify bit with that value. Returns the new count. */
static uint32_t keep_if(const struct oc *o, uint32_t *s, uint32_t ns, uint32_t bit, int val)
{
	uint32_t out = 0;
	for (uint32_t k = 0; k < ns; k++) {
		const struct ent *e = &o->t[s[k]];
		bool x = !(e->mask & bit);
		bool one = (e->key & bit) != 0;
		/* removed: an X here, or the value opposite to the one the merge must take */
		if (!(x || one != (bool)val))
			s[out++] = s[k];
	}
	return out;
}

static uint32_t count_removed(const struct oc *o, const uint32_t *s, uint32_t ns, uint32_t bit,
                              int val)
{
	uint32_t r = 0;
	for (uint32_t k = 0; k < ns; k++) {
		const struct ent *e = &o->t[s[k]];
		r += !(e->mask & bit) || ((e->key & bit) != 0) != (bool)val;
	}
	return r;
}

/* Down-check: shrink s until the merged entry covers no alias of an entry below its
 * insertion point. Returns the new count, 0 when the merge is abandoned (or no better than
 * min_good + 1 entries). */
static uint32_t downcheck(const struct oc *o, uint32_t *s, uint32_t ns, uint32_t min_good)
{
	while (ns > min_good + 1) {
		struct cube c = merged(o, s, ns);
		unsigned strict = 33;
		uint32_t want1 = 0, want0 = 0; /* options: bits the merge may be forced to 1 / 0 */
		bool covered = false;
		for (uint32_t i = c.ins; i < o->n; i++)
			for (uint32_t a = o->ahead[i]; a != NO_ALIAS; a = o->anext[a]) {
				if (!intersect(c.key, c.mask, o->akey[a], o->amask[a]))
					continue;
				covered = true;
				uint32_t settable = o->amask[a] & ~c.mask;
				unsigned nset = popcount32(settable);
				if (nset > strict)
					continue;
				if (nset < strict) {
					strict = nset;
					want1 = want0 = 0;
				}
				want1 |= settable & ~o->akey[a]; /* alias has 0: merge must be 1 */
				want0 |= settable & o->akey[a];
			}
		if (!covered)
			return ns;
		if (strict == 0)
			return 0;
		/* the option removing fewest entries; ties: the higher bit, then forcing a 1 */
		uint32_t best_bit = 0, best_n = UINT32_MAX;
		int best_val = 0;
		for (int b = 31; b >= 0; b--) {
			uint32_t bit = 1u << b;
			for (int val = 1; val >= 0; val--) {
				if (!((val ? want1 : want0) & bit))
					continue;
				uint32_t r = count_removed(o, s, ns, bit, val);
				if (r < best_n) {
					best_n = r;
					best_bit = bit;
					best_val = val;
				}
			}
		}
		ns = keep_if(o, s, ns, best_bit, best_val);
	}
	return 0;
}

/* Up-check: entries of s that the move to the insertion point would put below an entry
 * they intersect leave the merge. *changed tells whether any did. */
static uint32_t upcheck(const struct oc *o, uint32_t *s, uint32_t ns, uint32_t min_good,
                        bool *changed)
{
	*changed = false;
	struct cube c = merged(o, s, ns); /* recomputed only when the merge changes */
	for (uint32_t k = ns; k-- > 0;) {
		uint32_t i = s[k];
		const struct ent *e = &o->t[i];
		bool hit = false;
		if (o->merged[i]) {
			for (uint32_t j = i + 1; j < c.ins && !hit; j++)
				hit = intersect(e->key, e->mask, o->t[j].key, o->t[j].mask);
		} else {
			/* input entries are disjoint: only merged entries can intersect this one */
			for (uint32_t m = 0; m < o->n_mlist && o->mlist[m] < c.ins && !hit; m++) {
				uint32_t j = o->mlist[m];
				hit = j > i &&
				      intersect(e->key, e->mask, o->t[j].key, o->t[j].mask);
			}
		}
		if (!hit)
			continue;
		memmove(&s[k], &s[k + 1], (ns - k - 1) * sizeof *s);
		ns--;
		*changed = true;
		if (ns <= min_good + 1)
			return 0;
		c = merged(o, s, ns);
	}
	return ns;
}

static uint32_t refine(const struct oc *o, uint32_t *s, uint32_t ns, uint32_t min_good)
{
	ns = downcheck(o, s, ns, min_good);
	if (ns > min_good + 1) {
		bool changed;
		ns = upcheck(o, s, ns, min_good, &changed);
		if (changed && ns > min_good + 1)
			ns = downcheck(o, s, ns, min_good);
	}
	return ns > min_good + 1 ? ns : 0;
}

/* Replace the entries s[0..ns) by their merge. */
static void apply(struct oc *o, const uint32_t *s, uint32_t ns)
{
	struct cube c = merged(o, s, ns);
	struct ent me = o->t[s[0]];
	me.key = c.key;
	me.mask = c.mask;
	uint32_t head = NO_ALIAS, tail = NO_ALIAS;
	for (uint32_t k = 0; k < ns; k++) {
		const struct ent *e = &o->t[s[k]];
		if (e->in != me.in)
			me.in = IN_MIXED;
		uint32_t h = o->ahead[s[k]], t = o->atail[s[k]];
		if (head == NO_ALIAS)
			head = h;
		else
			o->anext[tail] = h;
		tail = t;
	}
	uint32_t out = 0, k = 0;
	for (uint32_t i = 0; i <= o->n; i++) {
		if (i == c.ins) {
			o->tmp[out] = me;
			o->tmp_ahead[out] = head;
			o->tmp_atail[out] = tail;
			o->tmp_cls[out] = o->cls[s[0]];
			o->tmp_gen[out] = (uint8_t)c.gen;
			o->tmp_merged[out] = 1;
			out++;
		}
		if (i == o->n)
			break;
		if (k < ns && s[k] == i) {
			k++;
			continue;
		}
		o->tmp[out] = o->t[i];
		o->tmp_ahead[out] = o->ahead[i];
		o->tmp_atail[out] = o->atail[i];
		o->tmp_cls[out] = o->cls[i];
		o->tmp_gen[out] = o->gen[i];
		o->tmp_merged[out] = o->merged[i];
		out++;
	}
	o->n = out;
	memcpy(o->t, o->tmp, out * sizeof *o->t);
	memcpy(o->ahead, o->tmp_ahead, out * sizeof *o->ahead);
	memcpy(o->atail, o->tmp_atail, out * sizeof *o->atail);
	memcpy(o->cls, o->tmp_cls, out * sizeof *o->cls);
	memcpy(o->gen, o->tmp_gen, out);
	memcpy(o->merged, o->tmp_merged, out);
	o->n_mlist = 0;
	for (uint32_t i = 0; i < out; i++)
		if (o->merged[i])
			o->mlist[o->n_mlist++] = i;
}

struct gkey {
	uint64_t k; /* generality << 32 | key: unique in a disjoint table */
	uint32_t i;
};

static int cmp_gkey(const void *a, const void *b)
{
	const struct gkey *x = a, *y = b;
	return x->k < y->k ? -1 : x->k > y->k;
}

static int cmp_route(const void *a, const void *b, void *ctx)
{
	const struct ent *t = ctx;
	const uint32_t *x = a, *y = b;
	int c = memcmp(&t[*x].route, &t[*y].route, sizeof t->route);
	return c ? c : (*x > *y) - (*x < *y);
}

/* Route classes: cls[i] = the same number for entries with equal routes. */
static int classify(struct oc *o)
{
	uint32_t *ix = malloc((o->n ? o->n : 1) * sizeof *ix);
	if (!ix)
		return S2_E_NOMEM;
	for (uint32_t i = 0; i < o->n; i++)
		ix[i] = i;
	/* a simple merge sort keeps this portable (qsort_r is not C11) */
	uint32_t *tmp = malloc((o->n ? o->n : 1) * sizeof *tmp);
	if (!tmp) {
		free(ix);
		return S2_E_NOMEM;
	}
	for (uint32_t w = 1; w < o->n; w *= 2) {
		for (uint32_t lo = 0; lo < o->n; lo += 2 * w) {
			uint32_t mid = lo + w < o->n ? lo + w : o->n;
			uint32_t hi = lo + 2 * w < o->n ? lo + 2 * w : o->n;
			uint32_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				tmp[k++] = cmp_route(&ix[a], &ix[b], o->t) <= 0 ? ix[a++] : ix[b++];
			while (a < mid)
				tmp[k++] = ix[a++];
			while (b < hi)
				tmp[k++] = ix[b++];
		}
		memcpy(ix, tmp, o->n * sizeof *ix);
	}
	uint32_t c = 0;
	for (uint32_t i = 0; i < o->n; i++) {
		if (i > 0 && memcmp(&o->t[ix[i]].route, &o->t[ix[i - 1]].route, sizeof o->t->route))
			c++;
		o->cls[ix[i]] = c;
	}
	free(tmp);
	free(ix);
	return 0;
}

static void oc_free(struct oc *o)
{
	free(o->ahead);
	free(o->atail);
	free(o->akey);
	free(o->amask);
	free(o->anext);
	free(o->cls);
	free(o->gen);
	free(o->members);
	free(o->best);
	free(o->first);
	free(o->order);
	free(o->merged);
	free(o->tmp_merged);
	free(o->mlist);
	free(o->tmp);
	free(o->tmp_ahead);
	free(o->tmp_atail);
	free(o->tmp_cls);
	free(o->tmp_gen);
}

int map_rt_ordered_covering(struct ent *t, uint32_t *n)
{
	struct oc o = {.t = t, .n = *n};
	size_t m = o.n ? o.n : 1;
	o.ahead = malloc(m * sizeof *o.ahead);
	o.atail = malloc(m * sizeof *o.atail);
	o.akey = malloc(m * sizeof *o.akey);
	o.amask = malloc(m * sizeof *o.amask);
	o.anext = malloc(m * sizeof *o.anext);
	o.cls = malloc(m * sizeof *o.cls);
	o.gen = malloc(m);
	o.members = malloc(m * sizeof *o.members);
	o.best = malloc(m * sizeof *o.best);
	o.first = malloc((m + 1) * sizeof *o.first);
	o.order = malloc(m * sizeof *o.order);
	o.merged = calloc(m, 1);
	o.tmp_merged = calloc(m, 1);
	o.mlist = malloc(m * sizeof *o.mlist);
	o.tmp = malloc(m * sizeof *o.tmp);
	o.tmp_ahead = malloc(m * sizeof *o.tmp_ahead);
	o.tmp_atail = malloc(m * sizeof *o.tmp_atail);
	o.tmp_cls = malloc(m * sizeof *o.tmp_cls);
	o.tmp_gen = malloc(m);
	if (!o.ahead || !o.atail || !o.akey || !o.amask || !o.anext || !o.cls || !o.gen ||
	    !o.members || !o.best || !o.first || !o.order || !o.merged || !o.tmp_merged ||
	    !o.mlist || !o.tmp || !o.tmp_ahead || !o.tmp_atail || !o.tmp_cls || !o.tmp_gen) {
		oc_free(&o);
		return S2_E_NOMEM;
	}
	/* increasing generality; equal generality by key, for a deterministic start */
	{
		struct gkey *gk = malloc(m * sizeof *gk);
		if (!gk) {
			oc_free(&o);
			return S2_E_NOMEM;
		}
		for (uint32_t i = 0; i < o.n; i++)
			gk[i] = (struct gkey){(uint64_t)generality(o.t[i].mask) << 32 | o.t[i].key,
			                      i};
		qsort(gk, o.n, sizeof *gk, cmp_gkey);
		for (uint32_t i = 0; i < o.n; i++)
			o.tmp[i] = o.t[gk[i].i];
		memcpy(o.t, o.tmp, o.n * sizeof *o.t);
		free(gk);
	}
	for (uint32_t i = 0; i < o.n; i++) {
		o.akey[i] = o.t[i].key;
		o.amask[i] = o.t[i].mask;
		o.anext[i] = NO_ALIAS;
		o.ahead[i] = o.atail[i] = i;
		o.gen[i] = (uint8_t)generality(o.t[i].mask);
	}
	if (classify(&o) < 0) {
		oc_free(&o);
		return S2_E_NOMEM;
	}
	for (;;) {
		/* candidates: per route, all its entries, in order of the route's first entry:
		 * entries bucketed by class (first[c]: the start of class c's run in members) */
		uint32_t nc = 0;
		for (uint32_t i = 0; i < o.n; i++)
			if (o.cls[i] + 1 > nc)
				nc = o.cls[i] + 1;
		memset(o.first, 0, (nc + 1) * sizeof *o.first);
		for (uint32_t i = 0; i < o.n; i++)
			o.first[o.cls[i] + 1]++;
		for (uint32_t c = 0; c < nc; c++)
			o.first[c + 1] += o.first[c];
		for (uint32_t i = 0; i < o.n; i++)
			o.order[o.first[o.cls[i]]++] = i;
		for (uint32_t c = nc; c > 0; c--)
			o.first[c] = o.first[c - 1];
		o.first[0] = 0;
		uint32_t best_n = 0; /* entries in the best merge; goodness = best_n - 1 */
		for (uint32_t i = 0; i < o.n; i++) {
			uint32_t c = o.cls[i];
			if (o.order[o.first[c]] != i)
				continue; /* not the class's first entry */
			uint32_t ns = o.first[c + 1] - o.first[c];
			uint32_t min_good = best_n ? best_n - 1 : 0;
			if (ns < 2 || ns - 1 <= min_good)
				continue;
			memcpy(o.members, o.order + o.first[c], ns * sizeof *o.members);
			ns = refine(&o, o.members, ns, min_good);
			if (ns >= 2 && ns - 1 > min_good) {
				best_n = ns;
				memcpy(o.best, o.members, ns * sizeof *o.best);
			}
		}
		if (best_n < 2)
			break;
		apply(&o, o.best, best_n);
	}
	*n = o.n;
	oc_free(&o);
	return 0;
}

int map_rt_drop_defaults(struct ent *t, uint32_t *n, const unsigned opposite[S2_MACHINE_LINKS])
{
	/* an entry whose packets the router would pass on by default (one link in, the
	 * opposite link out, no PE) can go when no entry below it matches any of its keys */
	uint32_t out = 0;
	for (uint32_t i = 0; i < *n; i++) {
		const struct ent *e = &t[i];
		bool dflt = false;
		if (e->in < S2_MACHINE_LINKS) {
			struct s2_route want = {{0}};
			route_set(&want, opposite[e->in]);
			dflt = !memcmp(&want, &e->route, sizeof want);
		}
		for (uint32_t j = i + 1; j < *n && dflt; j++)
			if (intersect(e->key, e->mask, t[j].key, t[j].mask))
				dflt = false;
		if (!dflt)
			t[out++] = t[i];
	}
	/* later entries were tested against the table before any drop (t[j], j > i, is not
	 * yet overwritten), which holds more entries: every test stays conservative */
	*n = out;
	return 0;
}
