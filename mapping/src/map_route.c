/*
 * Mapper stages 4-6 (docs/mapping.md): multicast trees over the chip mesh, per-chip router
 * tables, their compression to the router's size, and the verifiers: table equivalence per
 * chip and end-to-end delivery of every source's keys through the compressed tables.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "map_internal.h"
#include "s2/error.h"
#include "s2/network.h"

static int stage_check(struct s2_mapping *mp, int want, char *err, size_t errlen)
{
	if (mp->stage != want - 1) {
		net_seterr(err, errlen, "mapping stage %d run after stage %d (needs %d first)",
		           want, mp->stage, want - 1);
		return S2_E_STATE;
	}
	return 0;
}

static uint32_t part_mask(const struct part *pt)
{
	return pt->kbits >= 32 ? 0 : ~((1u << pt->kbits) - 1u);
}

static int table_add(struct table *t, const struct ent *e)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		struct ent *ne = realloc(t->e, cap * sizeof *ne);
		if (!ne)
			return S2_E_NOMEM;
		t->e = ne;
		t->cap = cap;
	}
	t->e[t->n++] = *e;
	return 0;
}

/* ---- stage 4: route ------------------------------------------------------------------------ */

struct tnode {
	uint32_t chip;
	struct s2_route route;
	uint8_t in; /* 0xff: not yet connected */
};

struct router {
	uint32_t *tstamp, *tidx;   /* per chip: on the current tree, its node */
	uint32_t *bstamp, *parent; /* per chip: BFS visit, parent chip */
	uint8_t *plink;            /* per chip: link from parent */
	uint32_t *dist;            /* per chip: hops from the source (BFS) */
	uint32_t depth;            /* the tree's longest source-to-target path */
	uint32_t *queue;
	struct tnode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t stamp;
};

static struct tnode *node(struct router *r, uint32_t g)
{
	if (r->tstamp[g] == r->stamp)
		return &r->nodes[r->tidx[g]];
	if (r->n_nodes == r->cap_nodes) {
		size_t cap = r->cap_nodes ? r->cap_nodes * 2 : 256;
		struct tnode *nn = realloc(r->nodes, cap * sizeof *nn);
		if (!nn)
			return NULL;
		r->nodes = nn;
		r->cap_nodes = cap;
	}
	r->tstamp[g] = r->stamp;
	r->tidx[g] = (uint32_t)r->n_nodes;
	struct tnode *t = &r->nodes[r->n_nodes++];
	memset(t, 0, sizeof *t);
	t->chip = g;
	t->in = 0xff;
	return t;
}

/* Build the tree of part i (its targets in mp->tbuf[0..nt)) into r->nodes. */
static int build_tree(struct s2_mapping *mp, struct router *r, uint64_t i, long nt, char *err,
                      size_t errlen)
{
	const struct part *src = &mp->parts[i];
	r->stamp++;
	r->n_nodes = 0;
	struct tnode *s = node(r, src->chip);
	if (!s)
		return S2_E_NOMEM;
	s->in = IN_LOCAL;
	uint32_t need = 0;
	for (long k = 0; k < nt; k++)
		for (uint64_t q = mp->tbuf[2 * k]; q < mp->tbuf[2 * k + 1]; q++) {
			const struct part *t = &mp->parts[q];
			bool fresh = r->tstamp[t->chip] != r->stamp;
			struct tnode *tn = node(r, t->chip);
			if (!tn)
				return S2_E_NOMEM;
			route_set(&tn->route, S2_MACHINE_LINKS + t->pe);
			need += fresh && t->chip != src->chip;
		}
	/* BFS from the source over live links and chips until every target chip is reached */
	size_t head = 0, tail = 0;
	r->queue[tail++] = src->chip;
	r->bstamp[src->chip] = r->stamp;
	r->dist[src->chip] = 0;
	uint32_t found = 0;
	while (head < tail && found < need) {
		uint32_t u = r->queue[head++];
		for (unsigned l = 0; l < S2_MACHINE_LINKS && found < need; l++) {
			uint32_t v = mp->nb[(size_t)u * S2_MACHINE_LINKS + l];
			if (v == NO_CHIP || r->bstamp[v] == r->stamp)
				continue;
			r->bstamp[v] = r->stamp;
			r->parent[v] = u;
			r->plink[v] = (uint8_t)l;
			r->dist[v] = r->dist[u] + 1;
			r->queue[tail++] = v;
			found += r->tstamp[v] == r->stamp;
		}
	}
	if (found < need) {
		for (size_t k = 0; k < r->n_nodes; k++)
			if (r->bstamp[r->nodes[k].chip] != r->stamp) {
				uint32_t g = r->nodes[k].chip;
				net_seterr(err, errlen,
				           "route: population %s: no live path from chip (%u, %u) "
				           "to chip "
				           "(%u, %u) (dead chips or links in the way)",
				           mp->net->pb->populations[src->pop]->label,
				           src->chip / mp->cpb, src->chip % mp->cpb, g / mp->cpb,
				           g % mp->cpb);
				break;
			}
		return S2_E_DEAD;
	}
	/* connect every target back to the tree along BFS parents: branches are shared */
	size_t targets = r->n_nodes;
	r->depth = 0;
	for (size_t k = 0; k < targets; k++) {
		uint32_t u = r->nodes[k].chip;
		if (r->dist[u] > r->depth)
			r->depth = r->dist[u];
		while (u != src->chip) {
			struct tnode *un = node(r, u);
			if (!un)
				return S2_E_NOMEM;
			if (un->in != 0xff)
				break;
			unsigned l = r->plink[u];
			un->in = (uint8_t)s2_machine_link_opposite(mp->m, l);
			uint32_t p = r->parent[u];
			struct tnode *pn = node(r, p);
			if (!pn)
				return S2_E_NOMEM;
			route_set(&pn->route, l);
			u = p;
		}
	}
	return 0;
}

int s2_map_route(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 4, err, errlen);
	if (rc < 0)
		return rc;
	struct router r = {0};
	size_t nc = mp->n_chips;
	r.tstamp = calloc(nc, sizeof *r.tstamp);
	r.tidx = calloc(nc, sizeof *r.tidx);
	r.bstamp = calloc(nc, sizeof *r.bstamp);
	r.parent = calloc(nc, sizeof *r.parent);
	r.plink = calloc(nc, 1);
	r.dist = calloc(nc, sizeof *r.dist);
	r.queue = malloc(nc * sizeof *r.queue);
	mp->tables = calloc(nc, sizeof *mp->tables);
	mp->link_load = calloc(nc * S2_MACHINE_LINKS, sizeof *mp->link_load);
	uint64_t *prev = NULL;
	size_t prev_cap = 0;
	long prev_n = -1;
	rc = S2_E_NOMEM;
	if (!r.tstamp || !r.tidx || !r.bstamp || !r.parent || !r.plink || !r.dist || !r.queue ||
	    !mp->tables || !mp->link_load)
		goto nomem;
	double dt = mp->net->pb->timestep_ms, events = 0;
	for (size_t j = 0; j < mp->net->pb->n_projections; j++)
		events += s2_net_proj_synapses(mp->net, (unsigned)j) *
		          mp->pops[mp->net->pre[j]].rate_hz * dt / 1000.0;
	mp->rep.synaptic_events_per_step = events;
	mp->rep.routes = 0;
	mp->rep.route_chips = 0;
	mp->rep.hops_max = mp->rep.path_max = 0;
	double hop_sum = 0, spike_sum = 0;
	for (uint64_t i = 0; i < mp->n_parts; i++) {
		const struct part *pt = &mp->parts[i];
		long nt = map_targets(mp, i);
		if (nt < 0)
			goto nomem;
		if (nt == 0)
			continue;
		/* the previous part's tree serves when it came from the same chip and population
		 * and had the same targets (common: parts of a population on one chip) */
		bool same = i > 0 && prev_n == nt && mp->parts[i - 1].chip == pt->chip &&
		            mp->parts[i - 1].pop == pt->pop &&
		            !memcmp(prev, mp->tbuf, 2 * (size_t)nt * sizeof *prev);
		if (!same) {
			rc = build_tree(mp, &r, i, nt, err, errlen);
			if (rc < 0)
				goto out;
			mp->rep.routes++;
			if (2 * (size_t)nt > prev_cap) {
				uint64_t *np = realloc(prev, 2 * (size_t)nt * sizeof *np);
				if (!np)
					goto nomem;
				prev = np;
				prev_cap = 2 * (size_t)nt;
			}
			memcpy(prev, mp->tbuf, 2 * (size_t)nt * sizeof *prev);
			prev_n = nt;
		}
		double pkts = map_part_rate(mp, i);
		/* every chip of the tree but the source receives the spike over one link */
		uint32_t hops = (uint32_t)r.n_nodes - 1;
		hop_sum += pkts * hops;
		spike_sum += pkts;
		if (hops > mp->rep.hops_max)
			mp->rep.hops_max = hops;
		if (r.depth > mp->rep.path_max)
			mp->rep.path_max = r.depth;
		for (size_t k = 0; k < r.n_nodes; k++) {
			const struct tnode *t = &r.nodes[k];
			struct ent e = {.key = pt->key,
			                .mask = part_mask(pt),
			                .route = t->route,
			                .in = t->in};
			if (table_add(&mp->tables[t->chip], &e) < 0)
				goto nomem;
			for (unsigned l = 0; l < S2_MACHINE_LINKS; l++)
				if (route_bit(&t->route, l))
					mp->link_load[(size_t)t->chip * S2_MACHINE_LINKS + l] +=
					        pkts;
		}
		mp->rep.route_chips += r.n_nodes;
	}
	mp->rep.hops_mean = spike_sum > 0 ? hop_sum / spike_sum : 0;
	double best = 0;
	size_t bi = 0;
	for (size_t k = 0; k < nc * S2_MACHINE_LINKS; k++)
		if (mp->link_load[k] > best) {
			best = mp->link_load[k];
			bi = k;
		}
	mp->rep.busiest_link_load = best;
	mp->rep.busiest_board = (uint32_t)(bi / S2_MACHINE_LINKS / mp->cpb);
	mp->rep.busiest_chip = (uint32_t)(bi / S2_MACHINE_LINKS % mp->cpb);
	mp->rep.busiest_link = (uint32_t)(bi % S2_MACHINE_LINKS);
	mp->stage = 4;
	rc = 0;
	goto out;
nomem:
	rc = S2_E_NOMEM;
	net_seterr(err, errlen, "out of memory routing");
out:
	free(prev);
	free(r.tstamp);
	free(r.tidx);
	free(r.bstamp);
	free(r.parent);
	free(r.plink);
	free(r.dist);
	free(r.queue);
	free(r.nodes);
	return rc;
}

/* ---- stage 5: tables and compression --------------------------------------------------------- */

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static bool same_route(const struct ent *a, const struct ent *b)
{
	return !memcmp(&a->route, &b->route, sizeof a->route);
}

/* Entries whose packets a router passes on by default (straight through, no PE): one link
 * bit, the opposite of the one they arrive on. */
static bool default_via(const unsigned opposite[S2_MACHINE_LINKS], const struct ent *e)
{
	if (e->in >= S2_MACHINE_LINKS)
		return false;
	struct s2_route want = {{0}};
	route_set(&want, opposite[e->in]);
	return !memcmp(&want, &e->route, sizeof want);
}

static bool default_routable(const struct s2_mapping *mp, const struct ent *e)
{
	unsigned opp[S2_MACHINE_LINKS];
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++)
		opp[l] = s2_machine_link_opposite(mp->m, l);
	return default_via(opp, e);
}

/* Merge, level by level, all entries inside one aligned block of 2^(s+1) keys that share a
 * route into one entry for the block, until the sorted table t has at most `target` entries.
 * Keys of the block that no entry held are never sent to this chip (every key that reaches
 * a chip has an entry there), so covering them changes nothing. Masks stay prefix masks,
 * entries stay disjoint. */
static void merge_blocks(struct table *t, uint32_t target)
{
	for (unsigned s = 0; s < 32 && t->n > target; s++) {
		uint32_t blk = s == 31 ? 0 : ~((2u << s) - 1u);
		uint32_t out = 0;
		for (uint32_t i = 0; i < t->n;) {
			uint32_t j = i + 1;
			bool ok = true;
			uint8_t in = t->e[i].in;
			while (j < t->n && (t->e[j].key & blk) == (t->e[i].key & blk)) {
				ok &= same_route(&t->e[i], &t->e[j]);
				if (t->e[j].in != in)
					in = IN_MIXED;
				j++;
			}
			/* an entry bigger than the block is alone here: its mask covers more */
			if (j - i >= 2 && ok) {
				struct ent e = t->e[i];
				e.key &= blk;
				e.mask = blk;
				e.in = in;
				t->e[out++] = e;
			} else {
				memmove(&t->e[out], &t->e[i], (j - i) * sizeof *t->e);
				out += j - i;
			}
			i = j;
		}
		t->n = out;
	}
}

/* Compress a sorted table to at most `target` entries: 1. merge_blocks; 2. if still too
 * many, drop entries the router's default route handles. Stops as soon as the table fits;
 * the table stays sorted and disjoint. */
static void compress(const unsigned opp[S2_MACHINE_LINKS], struct table *t, uint32_t target)
{
	merge_blocks(t, target);
	if (t->n > target) {
		uint32_t out = 0;
		for (uint32_t i = 0; i < t->n; i++)
			if (t->n - (i - out) <= target || !default_via(opp, &t->e[i]))
				t->e[out++] = t->e[i];
		t->n = out;
	}
}

/* Compress a sorted table as far as it goes (`--router-target min`): the smallest of
 *  A. ordered covering of the table, then default routes dropped;
 *  B. full block merging, then A (ordered covering starts from fewer, bigger entries);
 *  C. full block merging and every default route dropped (sorted and disjoint).
 * C wins ties (a disjoint table), then B. A runs on tables of up to MIN_OC_RAW entries (its
 * time grows with the square of the table, at least), and alone when oc_only is set or a
 * mask is not a prefix mask. */
#define MIN_OC_RAW 4096u
static int compress_min(const unsigned opp[S2_MACHINE_LINKS], struct table *t, bool oc_only)
{
	uint32_t n0 = t->n;
	struct ent *a = NULL, *b = malloc(n0 * sizeof *b);
	if (!b)
		return S2_E_NOMEM;
	uint32_t na = UINT32_MAX, nb = n0;
	/* B and C need prefix masks (aligned blocks); the mapper makes nothing else */
	bool prefix = true;
	for (uint32_t i = 0; i < n0 && prefix; i++)
		prefix = (~t->e[i].mask & (~t->e[i].mask + 1u)) == 0;
	if (!prefix)
		oc_only = true;
	if (n0 <= MIN_OC_RAW || oc_only) {
		a = malloc(n0 * sizeof *a);
		if (!a) {
			free(b);
			return S2_E_NOMEM;
		}
		memcpy(a, t->e, n0 * sizeof *a);
		na = n0;
		if (map_rt_ordered_covering(a, &na) < 0) {
			free(a);
			free(b);
			return S2_E_NOMEM;
		}
		map_rt_drop_defaults(a, &na, opp);
		if (oc_only) {
			memcpy(t->e, a, na * sizeof *a);
			t->n = na;
			t->ordered = true;
			free(a);
			free(b);
			return 0;
		}
	}
	merge_blocks(t, 0);
	memcpy(b, t->e, t->n * sizeof *b);
	nb = t->n;
	if (map_rt_ordered_covering(b, &nb) < 0) {
		free(a);
		free(b);
		return S2_E_NOMEM;
	}
	map_rt_drop_defaults(b, &nb, opp);
	compress(opp, t, 0); /* C, in place */
	t->ordered = false;
	if (nb < t->n && nb <= na) {
		memcpy(t->e, b, nb * sizeof *b);
		t->n = nb;
		t->ordered = true;
	} else if (na < t->n && na < nb) {
		memcpy(t->e, a, na * sizeof *a);
		t->n = na;
		t->ordered = true;
	}
	free(a);
	free(b);
	return 0;
}

int s2_map_tables(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 5, err, errlen);
	if (rc < 0)
		return rc;
	uint32_t target = mp->cfg.router_target;
	struct s2_map_report *rep = &mp->rep;
	rep->entries_before = rep->entries_after = 0;
	rep->max_entries_before = rep->max_entries_after = 0;
	rep->chips_compressed = 0;
	unsigned opp[S2_MACHINE_LINKS];
	for (unsigned l = 0; l < S2_MACHINE_LINKS; l++)
		opp[l] = s2_machine_link_opposite(mp->m, l);
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		struct table *t = &mp->tables[g];
		if (t->n > 1)
			qsort(t->e, t->n, sizeof *t->e, cmp_ent);
		t->n_before = t->n;
		rep->entries_before += t->n;
		if (t->n > rep->max_entries_before)
			rep->max_entries_before = t->n;
		if (t->n > target || (mp->cfg.router_min && t->n > 1)) {
			t->orig = malloc(t->n * sizeof *t->orig);
			if (!t->orig) {
				net_seterr(err, errlen, "out of memory compressing tables");
				return S2_E_NOMEM;
			}
			memcpy(t->orig, t->e, t->n * sizeof *t->orig);
			t->n_orig = t->n;
			if (mp->cfg.router_min) {
				if (compress_min(opp, t, false) < 0) {
					net_seterr(err, errlen, "out of memory compressing tables");
					return S2_E_NOMEM;
				}
			} else {
				compress(opp, t, target);
			}
			rep->chips_compressed++;
			if (t->n > target) {
				net_seterr(err, errlen,
				           "router table of chip (%u, %u) cannot fit: %u entries "
				           "before "
				           "compression, %u after, the router holds %u",
				           g / mp->cpb, g % mp->cpb, t->n_before, t->n, target);
				return S2_E_NOSPACE;
			}
		}
		rep->entries_after += t->n;
		if (t->n > rep->max_entries_after)
			rep->max_entries_after = t->n;
	}
	mp->stage = 5;
	return 0;
}

/* ---- lookup, delivery, verification -----------------------------------------------------------
 */

/* The entry of a sorted, disjoint table that matches key, or NULL. */
static const struct ent *lookup(const struct ent *e, uint32_t n, uint32_t key)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ent *c = &e[lo - 1];
	return (key & c->mask) == c->key ? c : NULL;
}

/* The entry of table t that routes key: the first match of an ordered table, else the
 * match of a sorted, disjoint one. */
static const struct ent *lookup_table(const struct table *t, uint32_t key)
{
	if (!t->ordered)
		return lookup(t->e, t->n, key);
	for (uint32_t i = 0; i < t->n; i++)
		if ((key & t->e[i].mask) == t->e[i].key)
			return &t->e[i];
	return NULL;
}

/* Every key of the cube (key, mask) routes in ordered table t as original entry o says (its
 * route, or the default route where o is default-routable), searching from entry `from`:
 * a cube is split on a bit where the entry that partly covers it is specified. Exact, for
 * every key, not a sample. @return the first key that routes differently, via *bad. */
static bool cube_routes_as(const struct s2_mapping *mp, const struct table *t, uint32_t from,
                           uint32_t key, uint32_t mask, const struct ent *o, uint32_t *bad)
{
	for (uint32_t i = from; i < t->n; i++) {
		const struct ent *e = &t->e[i];
		if ((key ^ e->key) & mask & e->mask)
			continue; /* disjoint */
		uint32_t split = e->mask & ~mask;
		if (!split) { /* e covers the whole cube */
			if (same_route(e, o))
				return true;
			*bad = key;
			return false;
		}
		uint32_t bit = split & -split;
		return cube_routes_as(mp, t, i, key, mask | bit, o, bad) &&
		       cube_routes_as(mp, t, i, key | bit, mask | bit, o, bad);
	}
	if (default_routable(mp, o))
		return true;
	*bad = key;
	return false;
}

/* Part whose key block holds key, or -1. */
static long part_of_key(const struct s2_mapping *mp, uint32_t key)
{
	uint64_t lo = 0, hi = mp->n_parts;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if (mp->parts[mp->by_key[mid]].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct part *p = &mp->parts[mp->by_key[lo - 1]];
	return (key & part_mask(p)) == p->key ? (long)mp->by_key[lo - 1] : -1;
}

struct reach {
	uint32_t chip;
	struct s2_route pes; /* PE bits only */
};

/* Walk key through the tables from its source chip: the chips where it reaches PEs, with
 * those PEs. @return chips reached (may exceed cap) or a negative S2_E_* code. */
static long walk(const struct s2_mapping *mp, uint32_t key, struct reach *out, size_t cap)
{
	if (mp->stage < 4)
		return S2_E_STATE;
	long src = part_of_key(mp, key);
	if (src < 0)
		return S2_E_NOTFOUND;
	/* walk the tree; a chip reached twice is a loop */
	uint64_t q0[64];
	uint32_t seen0[64];
	size_t qcap = 64, qn = 0, nout = 0;
	uint64_t *q = q0; /* chip << 8 | in */
	uint32_t *seen = seen0;
	size_t nseen = 0, scap = 64;
	long rc = S2_E_NOMEM;
	q[qn++] = (uint64_t)mp->parts[src].chip << 8 | IN_LOCAL;
	while (qn) {
		uint64_t it = q[--qn];
		uint32_t g = (uint32_t)(it >> 8);
		unsigned in = it & 0xff;
		for (size_t k = 0; k < nseen; k++)
			if (seen[k] == g) {
				rc = S2_E_FORMAT; /* loop */
				goto out;
			}
		if (nseen == scap) {
			uint32_t *ns = malloc(2 * scap * sizeof *ns);
			if (!ns)
				goto out;
			memcpy(ns, seen, scap * sizeof *ns);
			if (seen != seen0)
				free(seen);
			seen = ns;
			scap *= 2;
		}
		seen[nseen++] = g;
		const struct table *t = &mp->tables[g];
		const struct ent *e = lookup_table(t, key);
		struct s2_route route = {{0}};
		if (e) {
			route = e->route;
		} else if (in < S2_MACHINE_LINKS) {
			route_set(&route, s2_machine_link_opposite(mp->m, in));
		} else {
			rc = S2_E_NOTFOUND; /* a PE's packet with no entry is dropped */
			goto out;
		}
		struct s2_route pes = route;
		pes.w[0] &= ~((1u << S2_MACHINE_LINKS) - 1u);
		bool any = false;
		for (unsigned w = 0; w < S2_ROUTE_WORDS; w++)
			any |= pes.w[w] != 0;
		if (any) {
			if (nout < cap)
				out[nout] = (struct reach){g, pes};
			nout++;
		}
		for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
			if (!route_bit(&route, l))
				continue;
			uint32_t v = mp->nb[(size_t)g * S2_MACHINE_LINKS + l];
			if (v == NO_CHIP) {
				rc = S2_E_DEAD; /* routed over a dead link or to a dead chip */
				goto out;
			}
			if (qn == qcap) {
				uint64_t *nq = malloc(2 * qcap * sizeof *nq);
				if (!nq)
					goto out;
				memcpy(nq, q, qcap * sizeof *nq);
				if (q != q0)
					free(q);
				q = nq;
				qcap *= 2;
			}
			q[qn++] = (uint64_t)v << 8 | s2_machine_link_opposite(mp->m, l);
		}
	}
	rc = (long)nout;
out:
	if (q != q0)
		free(q);
	if (seen != seen0)
		free(seen);
	return rc;
}

long s2_map_deliver(const struct s2_mapping *mp, uint32_t key, uint32_t *out, size_t cap)
{
	size_t rcap = 256;
	struct reach *r = malloc(rcap * sizeof *r);
	if (!r)
		return S2_E_NOMEM;
	long n = walk(mp, key, r, rcap);
	if (n > (long)rcap) {
		free(r);
		rcap = (size_t)n;
		r = malloc(rcap * sizeof *r);
		if (!r)
			return S2_E_NOMEM;
		n = walk(mp, key, r, rcap);
	}
	long nout = 0;
	for (long k = 0; k < n; k++)
		for (unsigned w = 0; w < S2_ROUTE_WORDS; w++) {
			uint32_t bits = r[k].pes.w[w];
			while (bits) {
				unsigned pe =
				        w * 32 + (unsigned)__builtin_ctz(bits) - S2_MACHINE_LINKS;
				bits &= bits - 1;
				if ((size_t)nout < cap) {
					out[3 * nout] = r[k].chip / mp->cpb;
					out[3 * nout + 1] = r[k].chip % mp->cpb;
					out[3 * nout + 2] = pe;
				}
				nout++;
			}
		}
	free(r);
	return n < 0 ? n : nout;
}

size_t s2_map_targets(struct s2_mapping *mp, uint64_t i, uint32_t *out, size_t cap)
{
	long nr = map_targets(mp, i);
	size_t n = 0;
	for (long k = 0; k < nr; k++)
		for (uint64_t q = mp->tbuf[2 * k]; q < mp->tbuf[2 * k + 1]; q++, n++) {
			if (n >= cap)
				continue;
			const struct part *t = &mp->parts[q];
			out[3 * n] = t->chip / mp->cpb;
			out[3 * n + 1] = t->chip % mp->cpb;
			out[3 * n + 2] = t->pe;
		}
	return n;
}

size_t s2_map_table(const struct s2_mapping *mp, unsigned b, unsigned c, struct s2_rt_entry *out,
                    size_t cap)
{
	if (!mp->tables || b >= s2_machine_boards(mp->m) || c >= mp->cpb)
		return 0;
	const struct table *t = &mp->tables[b * mp->cpb + c];
	for (uint32_t i = 0; i < t->n && i < cap; i++) {
		out[i].key = t->e[i].key;
		out[i].mask = t->e[i].mask;
		out[i].route = t->e[i].route;
		out[i].in = t->e[i].in;
	}
	return t->n;
}

bool s2_map_table_ordered(const struct s2_mapping *mp, unsigned b, unsigned c)
{
	if (!mp->tables || b >= s2_machine_boards(mp->m) || c >= mp->cpb)
		return false;
	return mp->tables[b * mp->cpb + c].ordered;
}

long s2_rt_minimise(struct s2_rt_entry *e, const uint8_t *in, size_t n,
                    const unsigned opposite[S2_MACHINE_LINKS], unsigned flags)
{
	if (n > UINT32_MAX / 2)
		return S2_E_RANGE;
	struct table t = {.n = (uint32_t)n};
	t.e = malloc((n ? n : 1) * sizeof *t.e);
	if (!t.e)
		return S2_E_NOMEM;
	for (size_t i = 0; i < n; i++)
		t.e[i] = (struct ent){.key = e[i].key,
		                      .mask = e[i].mask,
		                      .route = e[i].route,
		                      .in = in[i] <= IN_LOCAL ? in[i] : IN_LOCAL};
	if (n > 1)
		qsort(t.e, n, sizeof *t.e, cmp_ent);
	int rc = compress_min(opposite, &t, flags & S2_RT_MIN_OC_ONLY);
	if (rc < 0) {
		free(t.e);
		return rc;
	}
	for (uint32_t i = 0; i < t.n; i++)
		e[i] = (struct s2_rt_entry){.key = t.e[i].key,
		                            .mask = t.e[i].mask,
		                            .route = t.e[i].route,
		                            .in = t.e[i].in};
	free(t.e);
	return t.n;
}

size_t s2_map_table_before(const struct s2_mapping *mp, unsigned b, unsigned c)
{
	if (!mp->tables || b >= s2_machine_boards(mp->m) || c >= mp->cpb)
		return 0;
	return mp->tables[b * mp->cpb + c].n_before;
}

int s2_map_verify(struct s2_mapping *mp, char *err, size_t errlen)
{
	int rc = stage_check(mp, 6, err, errlen);
	if (rc < 0)
		return rc;
	/* 1. every chip: each entry before compression routes the same after it */
	for (uint32_t g = 0; g < mp->n_chips; g++) {
		const struct table *t = &mp->tables[g];
		for (uint32_t i = 0; i < t->n_orig && t->ordered; i++) {
			const struct ent *o = &t->orig[i];
			uint32_t bad = 0;
			if (!cube_routes_as(mp, t, 0, o->key, o->mask, o, &bad)) {
				net_seterr(err, errlen,
				           "verify: chip (%u, %u): key 0x%08x routes differently "
				           "after compression",
				           g / mp->cpb, g % mp->cpb, bad);
				return S2_E_FORMAT;
			}
		}
		for (uint32_t i = 0; i < t->n_orig && !t->ordered; i++) {
			const struct ent *o = &t->orig[i];
			uint32_t keys[2] = {o->key, o->key | ~o->mask};
			for (int k = 0; k < 2; k++) {
				const struct ent *e = lookup(t->e, t->n, keys[k]);
				bool ok = e ? same_route(e, o) : default_routable(mp, o);
				if (!ok) {
					net_seterr(err, errlen,
					           "verify: chip (%u, %u): key 0x%08x routes "
					           "differently "
					           "after compression",
					           g / mp->cpb, g % mp->cpb, keys[k]);
					return S2_E_FORMAT;
				}
			}
		}
	}
	/* 2. every part: its first and last key reach exactly the PEs of its targets */
	size_t rcap = 256, prev_cap = 0, nchips = 0, nt = 0;
	long prev_nr = -1;
	uint64_t *prev = NULL;
	struct reach *rbuf = malloc(rcap * sizeof *rbuf);
	if (!mp->vstamp) {
		mp->vstamp = calloc(mp->n_chips, sizeof *mp->vstamp);
		mp->vwant = malloc((size_t)mp->n_chips * sizeof *mp->vwant);
	}
	rc = S2_E_NOMEM;
	if (!rbuf || !mp->vstamp || !mp->vwant)
		goto nomem;
	for (uint64_t i = 0; i < mp->n_parts; i++) {
		const struct part *pt = &mp->parts[i];
		long nr = map_targets(mp, i);
		if (nr < 0)
			goto nomem;
		if (nr == 0)
			continue;
		/* the wanted set of the previous part serves when its target ranges were the same
		 */
		bool same = prev_nr == nr && !memcmp(prev, mp->tbuf, 2 * (size_t)nr * sizeof *prev);
		uint32_t cur = same ? mp->vcur : ++mp->vcur;
		if (!same) {
			nchips = nt = 0;
			for (long k = 0; k < nr; k++)
				for (uint64_t q = mp->tbuf[2 * k]; q < mp->tbuf[2 * k + 1];
				     q++, nt++) {
					const struct part *t = &mp->parts[q];
					if (mp->vstamp[t->chip] != cur) {
						mp->vstamp[t->chip] = cur;
						memset(&mp->vwant[t->chip], 0,
						       sizeof mp->vwant[t->chip]);
						nchips++;
					}
					route_set(&mp->vwant[t->chip], S2_MACHINE_LINKS + t->pe);
				}
			if (2 * (size_t)nr > prev_cap) {
				uint64_t *np = realloc(prev, 2 * (size_t)nr * sizeof *np);
				if (!np)
					goto nomem;
				prev = np;
				prev_cap = 2 * (size_t)nr;
			}
			memcpy(prev, mp->tbuf, 2 * (size_t)nr * sizeof *prev);
			prev_nr = nr;
		}
		uint32_t keys[2] = {pt->key, pt->key + pt->n - 1};
		for (int kk = 0; kk < 2; kk++) {
			long n = walk(mp, keys[kk], rbuf, rcap);
			if (n > (long)rcap) {
				free(rbuf);
				rcap = (size_t)n;
				rbuf = malloc(rcap * sizeof *rbuf);
				if (!rbuf)
					goto nomem;
				n = walk(mp, keys[kk], rbuf, rcap);
			}
			const char *why = n == S2_E_FORMAT     ? "the route loops"
			                  : n == S2_E_DEAD     ? "routed over a dead link"
			                  : n == S2_E_NOTFOUND ? "dropped at the source chip"
			                  : n < 0              ? "delivery failed"
			                  : (size_t)n != nchips
			                          ? "reaches the wrong number of chips"
			                          : NULL;
			/* every chip reached wants exactly the PEs reached there; with the chip
			 * count equal (a tree visits a chip once), nothing is missed */
			for (long k = 0; !why && k < n; k++) {
				uint32_t g = rbuf[k].chip;
				if (mp->vstamp[g] != cur ||
				    memcmp(&mp->vwant[g], &rbuf[k].pes, sizeof rbuf[k].pes))
					why = "reaches PEs that are not its targets, or misses "
					      "some";
			}
			if (why) {
				net_seterr(
				        err, errlen,
				        "verify: population %s neurons %u-%u (key 0x%08x): %s (%ld "
				        "chips reached, %zu targets on %zu chips)",
				        mp->net->pb->populations[pt->pop]->label, pt->lo,
				        pt->lo + pt->n - 1, keys[kk], why, n < 0 ? 0 : n, nt,
				        nchips);
				rc = S2_E_FORMAT;
				goto out;
			}
		}
	}
	mp->stage = 6;
	rc = 0;
	goto out;
nomem:
	net_seterr(err, errlen, "out of memory verifying routes");
out:
	free(prev);
	free(rbuf);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Stages from..to, timed (times add up when a stage runs again). */
static int run_stages(struct s2_mapping *mp, int from, int to, char *err, size_t errlen)
{
	int (*const stage[])(struct s2_mapping *, char *, size_t) = {
	        NULL,         s2_map_partition, s2_map_place,  s2_map_keys,
	        s2_map_route, s2_map_tables,    s2_map_verify,
	};
	for (int s = from; s <= to; s++) {
		double t0 = now_s();
		int rc = stage[s](mp, err, errlen);
		mp->rep.seconds[s] += now_s() - t0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int s2_map_run(struct s2_mapping *mp, char *err, size_t errlen)
{
	int last = mp->cfg.no_verify ? 6 - 1 : 6;
	int rc;
	if (mp->stage == 0)
		memset(mp->rep.seconds, 0, sizeof mp->rep.seconds);
	mp->rep.hops_mean_other = -1;
	/* The default placement: the traffic order where it gives fewer router hops per spike
	 * (exactly, as routed) than population order, else population order (ties too, and
	 * most busiest-link ties: the previous releases' placement). */
	if (mp->stage <= 1 && !mp->cfg.fine_place && !mp->cfg.place_order) {
		if ((rc = run_stages(mp, mp->stage + 1, 1, err, errlen)) < 0)
			return rc;
		mp->try_traffic = true;
		rc = run_stages(mp, 2, 4, err, errlen);
		mp->try_traffic = false;
		if (rc < 0)
			return rc;
		if (mp->traffic_moved) {
			double h_t = mp->rep.hops_mean, l_t = mp->rep.busiest_link_load;
			map_unplace(mp);
			if ((rc = run_stages(mp, 2, 4, err, errlen)) < 0)
				return rc;
			double h_o = mp->rep.hops_mean, l_o = mp->rep.busiest_link_load;
			double eps = 1e-9 * (h_o > 0 ? h_o : 1);
			if (h_t < h_o - eps || (h_t <= h_o + eps && l_t < l_o * (1 - 1e-9))) {
				map_unplace(mp);
				mp->try_traffic = true;
				rc = run_stages(mp, 2, 4, err, errlen);
				mp->try_traffic = false;
				if (rc < 0)
					return rc;
				mp->rep.hops_mean_other = h_o;
			} else {
				mp->rep.hops_mean_other = h_t;
			}
		}
	}
	return run_stages(mp, mp->stage + 1, last, err, errlen);
}
