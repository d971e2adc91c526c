/*
 * NIR graph -> s2 network (mapping/include/s2/nir.h, docs/nir.md). Steps: flatten nested
 * graphs into one list of nodes and edges (names joined with '.'; an edge into a nested graph
 * goes to its Input nodes, one out of it leaves from its Output nodes); infer shapes from the
 * Input shapes through every node, checking parameters; build each linear node as a sparse
 * operator (convolution and pooling expanded into explicit entries); compose, for every
 * source population, the paths through linear nodes into (pre, post, delay) weights; emit
 * populations, from_list projections (positive weights excitatory, negative inhibitory),
 * biases and recordings; validate the result like any other network (net_from_built).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "nir_internal.h"
#include "s2/network.h"
#include "s2/nir.h"

#define MAX_NODES 100000u
#define MAX_ENTRIES (1u << 26) /* composed synapses held at once */
#define NPY_FILE_MAX (1024u << 20)

enum ntype {
	T_INPUT,
	T_OUTPUT,
	T_AFFINE,
	T_LINEAR,
	T_SCALE,
	T_DELAY,
	T_FLATTEN,
	T_CONV1D,
	T_CONV2D,
	T_SUMPOOL,
	T_AVGPOOL,
	T_LIF,
	T_CUBALIF,
	T_IF,
	T_I,
	T_LI,
	T_CUBALI,
	T_THRESHOLD,
	T__COUNT
};

static const char *const TNAME[T__COUNT] = {
        "Input",   "Output", "Affine", "Linear",    "Scale",     "Delay",
        "Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "LIF",
        "CubaLIF", "IF",     "I",      "LI",        "CubaLI",    "Threshold"};

static bool is_neuron(enum ntype t)
{
	return t >= T_LIF;
}

struct node {
	char *name;
	enum ntype t;
	const struct nir_obj *g;
	bool top_input; /* a population (spike source) */
	bool pop;       /* top_input or a neuron */
	bool known;     /* shapes known, node built */
	unsigned in_rank, out_rank;
	uint64_t in_dims[NIR_MAX_RANK], out_dims[NIR_MAX_RANK];
	size_t n_in, n_out;
	/* linear operator, CSR by input element */
	size_t *row;
	uint32_t *col;
	double *w;
	double *dsec;  /* Delay: per input element */
	double *bias;  /* own bias per output element (Affine, Conv) */
	double *obias; /* propagated bias at the output (linear) or input (neuron) */
	unsigned *pred;
	size_t n_pred, cap_pred;
	int pop_index;
	double *spikes; /* top Input: raster (T x n_out) from --input */
	uint64_t spike_t;
};

struct graphref {
	char *name;
	size_t *ins, *outs;
	size_t n_ins, n_outs;
};

struct imp {
	char *err;
	size_t errlen;
	bool failed;
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct graphref *graphs;
	size_t n_graphs, cap_graphs;
	double dt;
	const struct s2_nir_opts *o;
};

__attribute__((format(printf, 2, 3))) static void fail(struct imp *m, const char *fmt, ...)
{
	if (m->failed)
		return;
	m->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, m->errlen, fmt, ap);
	va_end(ap);
}

#define NFAIL(m, nd, fmt, ...) \
	fail(m, "node '%s' (%s): " fmt, (nd)->name, TNAME[(nd)->t], ##__VA_ARGS__)

static char *xstrdup(struct imp *m, const char *s)
{
	char *c = strdup(s);
	if (!c)
		fail(m, "out of memory");
	return c;
}

static void *xcalloc(struct imp *m, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		fail(m, "out of memory");
	return p;
}

static const char *shape_str(const uint64_t *d, unsigned r, char *buf, size_t cap)
{
	size_t l = (size_t)snprintf(buf, cap, "(");
	for (unsigned i = 0; i < r && l < cap; i++)
		l += (size_t)snprintf(buf + l, cap - l, "%s%llu", i ? ", " : "",
		                      (unsigned long long)d[i]);
	if (l < cap)
		snprintf(buf + l, cap - l, r == 1 ? ",)" : ")");
	return buf;
}

/* ---- fields --------------------------------------------------------------------------- */

static const struct nir_obj *field(const struct node *nd, const char *name)
{
	const struct nir_obj *f = nir_child(nd->g, name);
	return f && f->kind != NIR_GROUP && !f->empty ? f : NULL;
}

/* A numeric field; required ones missing or strings are errors. NULL if absent/failed. */
static const struct nir_obj *num_field(struct imp *m, const struct node *nd, const char *name,
                                       bool required)
{
	const struct nir_obj *f = field(nd, name);
	if (!f) {
		if (required)
			NFAIL(m, nd, "field '%s' is missing", name);
		return NULL;
	}
	if (f->kind != NIR_NUM) {
		NFAIL(m, nd, "field '%s' is not numeric", name);
		return NULL;
	}
	for (size_t i = 0; i < f->n; i++)
		if (!isfinite(f->v[i])) {
			NFAIL(m, nd, "%s[%zu] is not finite", name, i);
			return NULL;
		}
	return f;
}

/* An integer tuple field (stride, padding, ...): 1 or k values, each in [lo, hi]. */
static bool int_tuple(struct imp *m, const struct node *nd, const char *name, unsigned k, long lo,
                      long hi, long def, bool required, long *out)
{
	const struct nir_obj *f = field(nd, name);
	if (!f) {
		if (required) {
			NFAIL(m, nd, "field '%s' is missing", name);
			return false;
		}
		for (unsigned i = 0; i < k; i++)
			out[i] = def;
		return true;
	}
	f = num_field(m, nd, name, true);
	if (!f)
		return false;
	if (f->n != 1 && f->n != k) {
		NFAIL(m, nd, "%s has %zu elements, expected 1 or %u", name, f->n, k);
		return false;
	}
	for (unsigned i = 0; i < k; i++) {
		double v = f->v[f->n == 1 ? 0 : i];
		if (v != floor(v) || v < lo || v > hi) {
			NFAIL(m, nd, "%s %g is not an integer in %ld..%ld", name, v, lo, hi);
			return false;
		}
		out[i] = (long)v;
	}
	return true;
}

/* ---- flattening ----------------------------------------------------------------------- */

static const char *node_type_str(const struct nir_obj *g)
{
	const struct nir_obj *t = nir_child(g, "type");
	if (!t || t->kind != NIR_STR || t->n != 1)
		return NULL;
	return t->s[0];
}

static long find_node(const struct imp *m, const char *name)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (!strcmp(m->nodes[i].name, name))
			return (long)i;
	return -1;
}

static long find_graph(const struct imp *m, const char *name)
{
	for (size_t i = 0; i < m->n_graphs; i++)
		if (!strcmp(m->graphs[i].name, name))
			return (long)i;
	return -1;
}

/* The array arr of n elements of cap, with room for one more (cap doubled, from first);
 * NULL (and the import failed) when memory runs out, arr then unchanged. */
static void *grow(struct imp *m, void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return arr;
	size_t nc = *cap ? *cap * 2 : first;
	void *p = realloc(arr, nc * elem);
	if (!p) {
		fail(m, "out of memory");
		return NULL;
	}
	*cap = nc;
	return p;
}

static bool add_pred(struct imp *m, struct node *d, size_t src)
{
	unsigned *p = grow(m, d->pred, d->n_pred, &d->cap_pred, sizeof *p, 4);
	if (!p)
		return false;
	d->pred = p;
	d->pred[d->n_pred++] = (unsigned)src;
	return true;
}

static void join(char *out, size_t cap, const char *prefix, const char *name)
{
	if (prefix[0])
		snprintf(out, cap, "%s.%s", prefix, name);
	else
		snprintf(out, cap, "%s", name);
}

/* Resolve an edge end: a node, or a nested graph's Input (dst) / Output (src) nodes. */
static bool resolve(struct imp *m, const char *gname, const char *prefix, const char *end, bool dst,
                    size_t **list, size_t *n, size_t *one)
{
	char full[1024];
	join(full, sizeof full, prefix, end);
	long i = find_node(m, full);
	if (i >= 0) {
		*one = (size_t)i;
		*list = one;
		*n = 1;
		return true;
	}
	long g = find_graph(m, full);
	if (g >= 0) {
		struct graphref *r = &m->graphs[g];
		*list = dst ? r->ins : r->outs;
		*n = dst ? r->n_ins : r->n_outs;
		if (!*n) {
			fail(m, "node '%s' (NIRGraph): an edge %s it, but it has no %s node", full,
			     dst ? "leads into" : "leaves", dst ? "Input" : "Output");
			return false;
		}
		return true;
	}
	fail(m, "graph '%s': an edge names node '%s', which does not exist",
	     gname[0] ? gname : "(top)", end);
	return false;
}

static bool flatten(struct imp *m, const struct nir_obj *g, const char *prefix, unsigned depth)
{
	const char *gname = prefix[0] ? prefix : "(top)";
	if (depth > 16) {
		fail(m, "graph '%s': NIRGraphs nested deeper than 16", gname);
		return false;
	}
	const struct nir_obj *nodes = nir_child(g, "nodes");
	if (!nodes || nodes->kind != NIR_GROUP) {
		fail(m, "graph '%s': no 'nodes' group", gname);
		return false;
	}
	struct graphref *gs = grow(m, m->graphs, m->n_graphs, &m->cap_graphs, sizeof *gs, 8);
	if (!gs)
		return false;
	m->graphs = gs;
	size_t gi = m->n_graphs++;
	memset(&m->graphs[gi], 0, sizeof m->graphs[gi]);
	if (!(m->graphs[gi].name = xstrdup(m, prefix)))
		return false;
	m->graphs[gi].ins = xcalloc(m, nodes->n_kids, sizeof(size_t));
	m->graphs[gi].outs = xcalloc(m, nodes->n_kids, sizeof(size_t));
	if (m->failed)
		return false;
	for (size_t k = 0; k < nodes->n_kids; k++) {
		const struct nir_obj *c = &nodes->kids[k];
		char full[1024];
		join(full, sizeof full, prefix, c->name);
		if (strlen(full) > 200) {
			fail(m,
			     "node '%.60s...': the name (nested names joined) is longer than 200",
			     full);
			return false;
		}
		if (c->kind != NIR_GROUP) {
			fail(m, "node '%s': not a group", full);
			return false;
		}
		const char *ty = node_type_str(c);
		if (!ty) {
			fail(m, "node '%s': no 'type' string", full);
			return false;
		}
		if (find_node(m, full) >= 0 || find_graph(m, full) >= 0) {
			fail(m, "node '%s': the name is used twice", full);
			return false;
		}
		if (!strcmp(ty, "NIRGraph")) {
			if (!flatten(m, c, full, depth + 1))
				return false;
			continue;
		}
		int t = -1;
		for (int i = 0; i < T__COUNT; i++)
			if (!strcmp(ty, TNAME[i]))
				t = i;
		if (t < 0) {
			fail(m,
			     "node '%s' (%s): unknown node type (known: NIRGraph, Input, Output, "
			     "Affine, Linear, Scale, Delay, Flatten, Conv1d, Conv2d, SumPool2d, "
			     "AvgPool2d, LIF, CubaLIF, IF, I, LI, CubaLI, Threshold)",
			     full, ty);
			return false;
		}
		if (m->n_nodes >= MAX_NODES) {
			fail(m, "more than %u nodes", MAX_NODES);
			return false;
		}
		struct node *ns = grow(m, m->nodes, m->n_nodes, &m->cap_nodes, sizeof *ns, 16);
		if (!ns)
			return false;
		m->nodes = ns;
		struct node *nd = &m->nodes[m->n_nodes];
		memset(nd, 0, sizeof *nd);
		nd->t = (enum ntype)t;
		nd->g = c;
		nd->pop_index = -1;
		if (!(nd->name = xstrdup(m, full)))
			return false;
		nd->top_input = depth == 0 && t == T_INPUT;
		nd->pop = nd->top_input || is_neuron(nd->t);
		size_t idx = m->n_nodes++;
		struct graphref *r = &m->graphs[gi];
		if (t == T_INPUT)
			r->ins[r->n_ins++] = idx;
		if (t == T_OUTPUT)
			r->outs[r->n_outs++] = idx;
	}
	const struct nir_obj *e = nir_child(g, "edges");
	if (!e || e->kind == NIR_GROUP) {
		fail(m, "graph '%s': no 'edges' dataset", gname);
		return false;
	}
	if (e->empty || e->n == 0)
		return true;
	if (e->kind != NIR_STR || e->rank != 2 || e->dims[1] != 2) {
		fail(m, "graph '%s': edges must be an (N, 2) array of node names", gname);
		return false;
	}
	for (size_t k = 0; k < e->dims[0]; k++) {
		size_t *src, *dst, ns, nd, s1, d1;
		if (!resolve(m, prefix, prefix, e->s[2 * k], false, &src, &ns, &s1) ||
		    !resolve(m, prefix, prefix, e->s[2 * k + 1], true, &dst, &nd, &d1))
			return false;
		for (size_t a = 0; a < ns; a++)
			for (size_t b = 0; b < nd; b++) {
				struct node *d = &m->nodes[dst[b]];
				if (d->top_input) {
					NFAIL(m, d,
					      "an edge from '%s' leads into a top-level Input",
					      m->nodes[src[a]].name);
					return false;
				}
				if (!add_pred(m, d, src[a]))
					return false;
			}
	}
	return true;
}

/* ---- building nodes ------------------------------------------------------------------- */

struct coo {
	uint32_t in, out;
	double w;
};

static int coo_cmp(const void *a, const void *b)
{
	const struct coo *x = a, *y = b;
	if (x->in != y->in)
		return x->in < y->in ? -1 : 1;
	return x->out < y->out ? -1 : x->out > y->out;
}

/* CSR by input from a list of entries (sorted here; duplicates summed). */
static bool set_op(struct imp *m, struct node *nd, struct coo *c, size_t n)
{
	qsort(c, n, sizeof *c, coo_cmp);
	nd->row = xcalloc(m, nd->n_in + 1, sizeof *nd->row);
	nd->col = xcalloc(m, n, sizeof *nd->col);
	nd->w = xcalloc(m, n, sizeof *nd->w);
	if (m->failed)
		return false;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && nd->col[k - 1] == c[i].out && i && c[i - 1].in == c[i].in) {
			nd->w[k - 1] += c[i].w;
			continue;
		}
		nd->col[k] = c[i].out;
		nd->w[k] = c[i].w;
		nd->row[c[i].in + 1]++;
		k++;
	}
	for (size_t i = 0; i < nd->n_in; i++)
		nd->row[i + 1] += nd->row[i];
	return true;
}

static bool identity_op(struct imp *m, struct node *nd)
{
	struct coo *c = xcalloc(m, nd->n_in, sizeof *c);
	if (!c)
		return false;
	for (size_t i = 0; i < nd->n_in; i++)
		c[i] = (struct coo){(uint32_t)i, (uint32_t)i, 1.0};
	bool ok = set_op(m, nd, c, nd->n_in);
	free(c);
	return ok;
}

static size_t count(const uint64_t *d, unsigned r)
{
	size_t n = 1;
	for (unsigned i = 0; i < r; i++)
		n *= (size_t)d[i];
	return n;
}

static void set_out(struct node *nd, const uint64_t *d, unsigned r)
{
	nd->out_rank = r;
	memcpy(nd->out_dims, d, r * sizeof *d);
	nd->n_out = count(d, r);
}

/* Per-element values of a field for a node of n elements: 1 value (broadcast) or n. */
static const struct nir_obj *per_elem(struct imp *m, const struct node *nd, const char *name,
                                      size_t n, bool required)
{
	const struct nir_obj *f = num_field(m, nd, name, required);
	if (!f)
		return NULL;
	if (f->n != 1 && f->n != n) {
		NFAIL(m, nd, "%s has %zu elements, the node has %zu", name, f->n, n);
		return NULL;
	}
	return f;
}

static double at(const struct nir_obj *f, size_t i, double def)
{
	return !f ? def : f->v[f->n == 1 ? 0 : i];
}

static bool build_dense(struct imp *m, struct node *nd)
{
	const struct nir_obj *w = num_field(m, nd, "weight", true);
	if (!w)
		return false;
	if (w->rank != 2) {
		NFAIL(m, nd, "weight has %u dimensions, expected 2 (out, in)", w->rank);
		return false;
	}
	size_t no = (size_t)w->dims[0], ni = (size_t)w->dims[1];
	if (ni != nd->n_in) {
		NFAIL(m, nd, "weight takes %zu inputs, the input has %zu elements", ni, nd->n_in);
		return false;
	}
	uint64_t od[1] = {no};
	set_out(nd, od, 1);
	size_t nz = 0;
	for (size_t i = 0; i < w->n; i++)
		nz += w->v[i] != 0;
	struct coo *c = xcalloc(m, nz, sizeof *c);
	if (!c)
		return false;
	size_t k = 0;
	for (size_t o = 0; o < no; o++)
		for (size_t i = 0; i < ni; i++)
			if (w->v[o * ni + i] != 0)
				c[k++] = (struct coo){(uint32_t)i, (uint32_t)o, w->v[o * ni + i]};
	bool ok = set_op(m, nd, c, k);
	free(c);
	if (!ok)
		return false;
	if (nd->t == T_AFFINE) {
		const struct nir_obj *b = field(nd, "bias");
		if (b) {
			if (!(b = per_elem(m, nd, "bias", no, true)))
				return false;
			nd->bias = xcalloc(m, no, sizeof *nd->bias);
			if (!nd->bias)
				return false;
			for (size_t o = 0; o < no; o++)
				nd->bias[o] = at(b, o, 0);
		}
	}
	return true;
}

/* Padding of one dimension: numbers, or the strings 'same' / 'valid'. */
static bool padding(struct imp *m, const struct node *nd, unsigned k, const long *ksz,
                    const long *dil, const long *stride, long *lo, long *hi)
{
	const struct nir_obj *f = field(nd, "padding");
	if (f && f->kind == NIR_STR) {
		if (f->n == 1 && !strcmp(f->s[0], "valid")) {
			for (unsigned i = 0; i < k; i++)
				lo[i] = hi[i] = 0;
			return true;
		}
		if (f->n == 1 && !strcmp(f->s[0], "same")) {
			for (unsigned i = 0; i < k; i++) {
				if (stride[i] != 1) {
					NFAIL(m, nd, "padding 'same' needs stride 1");
					return false;
				}
				long tot = dil[i] * (ksz[i] - 1);
				lo[i] = tot / 2;
				hi[i] = tot - lo[i];
			}
			return true;
		}
		NFAIL(m, nd, "padding '%s' is not 'same', 'valid' or a number",
		      f->n ? f->s[0] : "");
		return false;
	}
	if (!int_tuple(m, nd, "padding", k, 0, 1 << 20, 0, false, lo))
		return false;
	memcpy(hi, lo, k * sizeof *lo);
	return true;
}

/* Input as (C, spatial...) with k spatial dimensions; the node's input_shape (spatial) may
 * reshape a flat input. */
static bool chw(struct imp *m, const struct node *nd, unsigned k, long cin, uint64_t *d)
{
	char b[96];
	if (nd->in_rank == k + 1) {
		memcpy(d, nd->in_dims, (k + 1) * sizeof *d);
	} else {
		const struct nir_obj *is = field(nd, "input_shape");
		if (is && is->kind == NIR_NUM && is->n == k && cin > 0) {
			d[0] = (uint64_t)cin;
			for (unsigned i = 0; i < k; i++)
				d[1 + i] = is->v[i] >= 0 && is->v[i] < 1e9 ? (uint64_t)is->v[i] : 0;
			if (count(d, k + 1) == nd->n_in)
				return true;
		}
		NFAIL(m, nd, "the input has shape %s, expected %u dimensions (C%s)",
		      shape_str(nd->in_dims, nd->in_rank, b, sizeof b), k + 1,
		      k == 1 ? ", L" : ", H, W");
		return false;
	}
	return true;
}

static bool build_conv(struct imp *m, struct node *nd, unsigned k)
{
	const struct nir_obj *w = num_field(m, nd, "weight", true);
	if (!w)
		return false;
	if (w->rank != k + 2) {
		NFAIL(m, nd, "weight has %u dimensions, expected %u", w->rank, k + 2);
		return false;
	}
	long groups;
	if (!int_tuple(m, nd, "groups", 1, 1, 1 << 20, 1, false, &groups))
		return false;
	long cout = (long)w->dims[0], cpg = (long)w->dims[1];
	long cin = cpg * groups;
	uint64_t d[3];
	if (!chw(m, nd, k, cin, d))
		return false;
	if ((long)d[0] != cin || cout % groups) {
		NFAIL(m, nd, "weight %llu x %llu with %ld groups does not fit %llu input channels",
		      (unsigned long long)w->dims[0], (unsigned long long)w->dims[1], groups,
		      (unsigned long long)d[0]);
		return false;
	}
	long ks[2], st[2], dil[2], plo[2], phi[2], od[2];
	for (unsigned i = 0; i < k; i++)
		ks[i] = (long)w->dims[2 + i];
	if (!int_tuple(m, nd, "stride", k, 1, 1 << 20, 1, false, st) ||
	    !int_tuple(m, nd, "dilation", k, 1, 1 << 20, 1, false, dil) ||
	    !padding(m, nd, k, ks, dil, st, plo, phi))
		return false;
	for (unsigned i = 0; i < k; i++) {
		long span = dil[i] * (ks[i] - 1) + 1;
		long len = (long)d[1 + i] + plo[i] + phi[i];
		if (ks[i] < 1 || len < span) {
			NFAIL(m, nd, "the kernel (%ld) is larger than the padded input (%ld)", span,
			      len);
			return false;
		}
		od[i] = (len - span) / st[i] + 1;
	}
	uint64_t out[3] = {(uint64_t)cout, (uint64_t)od[0], k == 2 ? (uint64_t)od[1] : 1};
	set_out(nd, out, k + 1);
	if (nd->n_out > NET_MAX_POP_SIZE) {
		NFAIL(m, nd, "the output has %zu elements", nd->n_out);
		return false;
	}
	long H = (long)d[1], W = k == 2 ? (long)d[2] : 1, OH = od[0], OW = k == 2 ? od[1] : 1;
	long KH = ks[0], KW = k == 2 ? ks[1] : 1;
	long sh = st[0], sw = k == 2 ? st[1] : 1, dh = dil[0], dw = k == 2 ? dil[1] : 1;
	long ph = plo[0], pw = k == 2 ? plo[1] : 0;
	double nent = (double)cout * OH * OW * cpg * KH * KW;
	if (nent > MAX_ENTRIES) {
		NFAIL(m, nd, "the expanded kernel has %.3g entries (at most %u)", nent,
		      MAX_ENTRIES);
		return false;
	}
	struct coo *c = xcalloc(m, (size_t)nent, sizeof *c);
	if (!c)
		return false;
	size_t n = 0;
	long opg = cout / groups;
	for (long co = 0; co < cout; co++) {
		long g = co / opg;
		for (long oy = 0; oy < OH; oy++)
			for (long ox = 0; ox < OW; ox++)
				for (long ci = 0; ci < cpg; ci++)
					for (long ky = 0; ky < KH; ky++)
						for (long kx = 0; kx < KW; kx++) {
							long iy = oy * sh - ph + ky * dh;
							long ix = ox * sw - pw + kx * dw;
							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							double wv = w->v[((co * cpg + ci) * KH +
							                  ky) * KW +
							                 kx];
							if (wv == 0)
								continue;
							long cin_i = g * cpg + ci;
							c[n++] = (struct coo){
							        (uint32_t)((cin_i * H + iy) * W +
							                   ix),
							        (uint32_t)((co * OH + oy) * OW +
							                   ox),
							        wv};
						}
	}
	bool ok = set_op(m, nd, c, n);
	free(c);
	if (!ok)
		return false;
	const struct nir_obj *b = field(nd, "bias");
	if (b) {
		if (!(b = num_field(m, nd, "bias", true)))
			return false;
		if (b->n != 1 && b->n != (size_t)cout) {
			NFAIL(m, nd, "bias has %zu elements, expected %ld (output channels)", b->n,
			      cout);
			return false;
		}
		nd->bias = xcalloc(m, nd->n_out, sizeof *nd->bias);
		if (!nd->bias)
			return false;
		for (size_t o = 0; o < nd->n_out; o++)
			nd->bias[o] = at(b, o / (size_t)(OH * OW), 0);
	}
	return true;
}

static bool build_pool(struct imp *m, struct node *nd)
{
	uint64_t d[3];
	if (!chw(m, nd, 2, -1, d))
		return false;
	long ks[2], st[2], pd[2];
	if (!int_tuple(m, nd, "kernel_size", 2, 1, 1 << 20, 1, true, ks))
		return false;
	const struct nir_obj *sf = field(nd, "stride");
	if (!int_tuple(m, nd, "stride", 2, 1, 1 << 20, 0, false, st))
		return false;
	if (!sf)
		memcpy(st, ks, sizeof st);
	if (!int_tuple(m, nd, "padding", 2, 0, 1 << 20, 0, false, pd))
		return false;
	long od[2];
	for (int i = 0; i < 2; i++) {
		long len = (long)d[1 + i] + 2 * pd[i];
		if (len < ks[i]) {
			NFAIL(m, nd, "the kernel (%ld) is larger than the padded input (%ld)",
			      ks[i], len);
			return false;
		}
		od[i] = (len - ks[i]) / st[i] + 1;
	}
	uint64_t out[3] = {d[0], (uint64_t)od[0], (uint64_t)od[1]};
	set_out(nd, out, 3);
	double nent = (double)nd->n_out * ks[0] * ks[1];
	if (nent > MAX_ENTRIES) {
		NFAIL(m, nd, "the expanded kernel has %.3g entries (at most %u)", nent,
		      MAX_ENTRIES);
		return false;
	}
	struct coo *c = xcalloc(m, (size_t)nent, sizeof *c);
	if (!c)
		return false;
	double wv = nd->t == T_AVGPOOL ? 1.0 / (double)(ks[0] * ks[1]) : 1.0;
	long H = (long)d[1], W = (long)d[2];
	size_t n = 0;
	for (long ch = 0; ch < (long)d[0]; ch++)
		for (long oy = 0; oy < od[0]; oy++)
			for (long ox = 0; ox < od[1]; ox++)
				for (long ky = 0; ky < ks[0]; ky++)
					for (long kx = 0; kx < ks[1]; kx++) {
						long iy = oy * st[0] - pd[0] + ky,
						     ix = ox * st[1] - pd[1] + kx;
						if (iy < 0 || iy >= H || ix < 0 || ix >= W)
							continue;
						c[n++] = (struct coo){
						        (uint32_t)((ch * H + iy) * W + ix),
						        (uint32_t)((ch * od[0] + oy) * od[1] + ox),
						        wv};
					}
	bool ok = set_op(m, nd, c, n);
	free(c);
	return ok;
}

/* Flatten as NIR computes its output shape (nir/ir/utils.py: Python slices on the shape
 * without the batch dimension); the elements pass through unchanged. */
static bool build_flatten(struct imp *m, struct node *nd)
{
	long s, e;
	long r = (long)nd->in_rank;
	if (!int_tuple(m, nd, "start_dim", 1, -64, 64, 1, false, &s) ||
	    !int_tuple(m, nd, "end_dim", 1, -64, 64, -1, false, &e))
		return false;
	bool e_last = e == -1 || e == r - 1;
	if (s < 0)
		s += r;
	if (e < 0)
		e += r;
	s = s < 0 ? 0 : s > r ? r : s;
	e = e < -1 ? -1 : e >= r ? r - 1 : e;
	uint64_t od[NIR_MAX_RANK + 1];
	unsigned k = 0;
	for (long i = 0; i < s; i++)
		od[k++] = nd->in_dims[i];
	uint64_t mid = 1;
	for (long i = s; i <= (e_last ? r - 1 : e); i++)
		mid *= nd->in_dims[i];
	od[k++] = mid;
	if (!e_last)
		for (long i = e + 1; i < r; i++)
			od[k++] = nd->in_dims[i];
	if (k > NIR_MAX_RANK || count(od, k) != nd->n_in) {
		char b[96];
		NFAIL(m, nd, "start_dim..end_dim do not fit the input shape %s",
		      shape_str(nd->in_dims, nd->in_rank, b, sizeof b));
		return false;
	}
	set_out(nd, od, k);
	return identity_op(m, nd);
}

/* Check a declared shape (Input/Output 'shape') against the element count. */
static bool declared_shape(struct imp *m, struct node *nd, uint64_t *d, unsigned *r)
{
	const struct nir_obj *f = num_field(m, nd, "shape", false);
	if (m->failed)
		return false;
	if (!f)
		return true;
	if (f->n > NIR_MAX_RANK) {
		NFAIL(m, nd, "shape has %zu dimensions (at most %d)", f->n, NIR_MAX_RANK);
		return false;
	}
	uint64_t n = 1;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i] < 1 || f->v[i] > NET_MAX_POP_SIZE || f->v[i] != floor(f->v[i])) {
			NFAIL(m, nd, "shape[%zu] %g is not a positive integer", i, f->v[i]);
			return false;
		}
		d[i] = (uint64_t)f->v[i];
		n *= d[i];
		if (n > NET_MAX_POP_SIZE) {
			NFAIL(m, nd, "shape has more than %u elements", NET_MAX_POP_SIZE);
			return false;
		}
	}
	*r = (unsigned)f->n;
	return true;
}

/* Node built once its input shape is known: output shape, operator, parameter checks. */
static bool build(struct imp *m, struct node *nd)
{
	nd->n_in = count(nd->in_dims, nd->in_rank);
	if (nd->n_in == 0 || nd->n_in > NET_MAX_POP_SIZE) {
		NFAIL(m, nd, "the input has %zu elements", nd->n_in);
		return false;
	}
	nd->known = true;
	switch (nd->t) {
	case T_INPUT:
	case T_OUTPUT: {
		uint64_t d[NIR_MAX_RANK];
		unsigned r = 0;
		if (!declared_shape(m, nd, d, &r))
			return false;
		if (r && !nd->top_input && count(d, r) != nd->n_in) {
			char b1[96], b2[96];
			NFAIL(m, nd, "shape %s does not fit the input of shape %s",
			      shape_str(d, r, b1, sizeof b1),
			      shape_str(nd->in_dims, nd->in_rank, b2, sizeof b2));
			return false;
		}
		set_out(nd, nd->in_dims, nd->in_rank);
		return nd->top_input || identity_op(m, nd);
	}
	case T_AFFINE:
	case T_LINEAR:
		return build_dense(m, nd);
	case T_SCALE: {
		set_out(nd, nd->in_dims, nd->in_rank);
		const struct nir_obj *s = per_elem(m, nd, "scale", nd->n_in, true);
		if (!s || !identity_op(m, nd))
			return false;
		for (size_t i = 0; i < nd->n_in; i++)
			nd->w[nd->row[i]] = at(s, i, 1);
		return true;
	}
	case T_DELAY: {
		set_out(nd, nd->in_dims, nd->in_rank);
		const struct nir_obj *s = per_elem(m, nd, "delay", nd->n_in, true);
		if (!s || !identity_op(m, nd))
			return false;
		nd->dsec = xcalloc(m, nd->n_in, sizeof *nd->dsec);
		if (!nd->dsec)
			return false;
		for (size_t i = 0; i < nd->n_in; i++) {
			double v = at(s, i, 0);
			if (v < 0) {
				NFAIL(m, nd, "delay[%zu] %g s is negative", i, v);
				return false;
			}
			nd->dsec[i] = v;
		}
		return true;
	}
	case T_FLATTEN:
		return build_flatten(m, nd);
	case T_CONV1D:
		return build_conv(m, nd, 1);
	case T_CONV2D:
		return build_conv(m, nd, 2);
	case T_SUMPOOL:
	case T_AVGPOOL:
		return build_pool(m, nd);
	default:
		set_out(nd, nd->in_dims, nd->in_rank);
		return true; /* neurons: parameters checked when emitted */
	}
}

/* A neuron node with no known input: its shape from its first array parameter. */
static bool seed_neuron(struct imp *m, struct node *nd)
{
	static const char *const P[] = {"tau", "tau_mem", "r", "threshold", "v_threshold"};
	for (size_t i = 0; i < sizeof P / sizeof *P; i++) {
		const struct nir_obj *f = field(nd, P[i]);
		if (f && f->kind == NIR_NUM) {
			nd->in_rank = f->rank ? f->rank : 1;
			for (unsigned k = 0; k < f->rank; k++)
				nd->in_dims[k] = f->dims[k];
			if (!f->rank)
				nd->in_dims[0] = 1;
			return build(m, nd);
		}
	}
	NFAIL(m, nd, "cannot infer the shape (no input and no parameter array)");
	return false;
}

static bool shapes(struct imp *m)
{
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct node *nd = &m->nodes[i];
		if (!nd->top_input)
			continue;
		const struct nir_obj *f = field(nd, "shape");
		if (!f) {
			NFAIL(m, nd, "field 'shape' is missing");
			return false;
		}
		if (!declared_shape(m, nd, nd->in_dims, &nd->in_rank))
			return false;
		if (!nd->in_rank) {
			NFAIL(m, nd, "shape is empty");
			return false;
		}
		if (!build(m, nd))
			return false;
	}
	for (int pass = 0; pass < 2; pass++) {
		bool changed = true;
		while (changed) {
			changed = false;
			for (size_t i = 0; i < m->n_nodes; i++) {
				struct node *nd = &m->nodes[i];
				if (nd->known)
					continue;
				for (size_t k = 0; k < nd->n_pred; k++) {
					struct node *p = &m->nodes[nd->pred[k]];
					if (!p->known)
						continue;
					nd->in_rank = p->out_rank;
					memcpy(nd->in_dims, p->out_dims, sizeof nd->in_dims);
					if (!build(m, nd))
						return false;
					changed = true;
					break;
				}
			}
		}
		if (pass == 0)
			for (size_t i = 0; i < m->n_nodes; i++) {
				struct node *nd = &m->nodes[i];
				if (!nd->known && is_neuron(nd->t) && !seed_neuron(m, nd))
					return false;
			}
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct node *nd = &m->nodes[i];
		if (!nd->known) {
			NFAIL(m, nd, "cannot infer the input shape (no path from an Input node)");
			return false;
		}
		for (size_t k = 0; k < nd->n_pred; k++) {
			struct node *p = &m->nodes[nd->pred[k]];
			if (p->n_out != nd->n_in) {
				char b1[96], b2[96];
				fail(m,
				     "edge '%s' -> '%s': '%s' (%s) gives %zu elements %s, '%s' "
				     "(%s) "
				     "takes %zu %s",
				     p->name, nd->name, p->name, TNAME[p->t], p->n_out,
				     shape_str(p->out_dims, p->out_rank, b1, sizeof b1), nd->name,
				     TNAME[nd->t], nd->n_in,
				     shape_str(nd->in_dims, nd->in_rank, b2, sizeof b2));
				return false;
			}
		}
	}
	return true;
}

/* Topological order of the linear nodes; a cycle among them is an error. */
static size_t *linear_order(struct imp *m, size_t *n_lin)
{
	size_t n = m->n_nodes, k = 0;
	size_t *order = xcalloc(m, n, sizeof *order);
	unsigned *indeg = xcalloc(m, n, sizeof *indeg);
	size_t *succ_n = xcalloc(m, n + 1, sizeof *succ_n);
	if (m->failed) {
		free(order);
		free(indeg);
		free(succ_n);
		return NULL;
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (!m->nodes[i].pop)
			for (size_t j = 0; j < m->nodes[i].n_pred; j++)
				if (!m->nodes[m->nodes[i].pred[j]].pop) {
					indeg[i]++;
					succ_n[m->nodes[i].pred[j] + 1]++;
					total++;
				}
	for (size_t i = 0; i < n; i++)
		succ_n[i + 1] += succ_n[i];
	size_t *succ = xcalloc(m, total, sizeof *succ);
	size_t *fill = xcalloc(m, n, sizeof *fill);
	if (m->failed) {
		free(order);
		free(indeg);
		free(succ_n);
		free(succ);
		free(fill);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!m->nodes[i].pop)
			for (size_t j = 0; j < m->nodes[i].n_pred; j++) {
				size_t p = m->nodes[i].pred[j];
				if (!m->nodes[p].pop)
					succ[succ_n[p] + fill[p]++] = i;
			}
	size_t lin = 0;
	for (size_t i = 0; i < n; i++)
		if (!m->nodes[i].pop) {
			lin++;
			if (!indeg[i])
				order[k++] = i;
		}
	for (size_t h = 0; h < k; h++) {
		size_t u = order[h];
		for (size_t s = succ_n[u]; s < succ_n[u + 1]; s++)
			if (--indeg[succ[s]] == 0)
				order[k++] = succ[s];
	}
	if (k != lin) {
		for (size_t i = 0; i < n; i++)
			if (!m->nodes[i].pop && indeg[i]) {
				NFAIL(m, &m->nodes[i],
				      "is on a cycle of linear nodes only (a cycle must "
				      "pass through a neuron node)");
				break;
			}
		free(order);
		order = NULL;
	}
	free(indeg);
	free(succ_n);
	free(succ);
	free(fill);
	*n_lin = k;
	return order;
}

/* ---- composition ---------------------------------------------------------------------- */

struct ent {
	uint32_t pre, x;
	double d, w;
};

struct elist {
	struct ent *e;
	size_t n, cap;
};

static bool push(struct imp *m, struct elist *l, struct ent e)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		if (nc > MAX_ENTRIES) {
			fail(m, "more than %u composed synapses between two populations",
			     MAX_ENTRIES);
			return false;
		}
		struct ent *p = realloc(l->e, nc * sizeof *p);
		if (!p) {
			fail(m, "out of memory");
			return false;
		}
		l->e = p;
		l->cap = nc;
	}
	l->e[l->n++] = e;
	return true;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->pre != y->pre)
		return x->pre < y->pre ? -1 : 1;
	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	return x->d < y->d ? -1 : x->d > y->d;
}

static void merge(struct elist *l)
{
	if (!l->n)
		return;
	qsort(l->e, l->n, sizeof *l->e, ent_cmp);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k && l->e[k - 1].pre == l->e[i].pre && l->e[k - 1].x == l->e[i].x &&
		    l->e[k - 1].d == l->e[i].d)
			l->e[k - 1].w += l->e[i].w;
		else
			l->e[k++] = l->e[i];
	}
	size_t j = 0;
	for (size_t i = 0; i < k; i++)
		if (l->e[i].w != 0)
			l->e[j++] = l->e[i];
	l->n = j;
}

/* Entries arriving at node nd's input from source population src. */
static bool gather(struct imp *m, const struct node *nd, size_t src, struct elist *maps,
                   struct elist *out)
{
	out->n = 0;
	for (size_t k = 0; k < nd->n_pred; k++) {
		size_t p = nd->pred[k];
		if (p == src) {
			for (size_t i = 0; i < m->nodes[src].n_out; i++)
				if (!push(m, out, (struct ent){(uint32_t)i, (uint32_t)i, 0, 1}))
					return false;
		} else if (!m->nodes[p].pop) {
			for (size_t i = 0; i < maps[p].n; i++)
				if (!push(m, out, maps[p].e[i]))
					return false;
		}
	}
	return true;
}

static bool apply(struct imp *m, const struct node *nd, const struct elist *in, struct elist *out)
{
	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		struct ent e = in->e[i];
		double d = e.d + (nd->dsec ? nd->dsec[e.x] : 0);
		for (size_t k = nd->row[e.x]; k < nd->row[e.x + 1]; k++)
			if (!push(m, out, (struct ent){e.pre, nd->col[k], d, e.w * nd->w[k]}))
				return false;
	}
	merge(out);
	return true;
}

/* ---- emitting ------------------------------------------------------------------------- */

struct out {
	struct net_arena a;
	S2pb__Network *n;
	size_t pop_cap, proj_cap, rec_cap;
};

static S2pb__Value *value_of(struct imp *m, struct out *o, const double *v, size_t n)
{
	bool same = true;
	for (size_t i = 1; i < n && same; i++)
		same = v[i] == v[0];
	if (same)
		return net_value_const(&o->a, n ? v[0] : 0);
	S2pb__Value *val = net_arena_alloc(&o->a, sizeof *val);
	S2pb__ValueArray *arr = net_arena_alloc(&o->a, sizeof *arr);
	double *c = net_arena_alloc(&o->a, n * sizeof *c);
	if (!val || !arr || !c) {
		fail(m, "out of memory");
		return NULL;
	}
	s2pb__value__init(val);
	s2pb__value_array__init(arr);
	memcpy(c, v, n * sizeof *c);
	arr->values = c;
	arr->n_values = n;
	val->kind_case = S2PB__VALUE__KIND_ARRAY;
	val->array = arr;
	return val;
}

static void add_param(struct imp *m, struct out *o, S2pb__Population *p, const char *name,
                      const double *v, size_t n)
{
	S2pb__Param *q = net_arena_alloc(&o->a, sizeof *q);
	S2pb__Value *val = value_of(m, o, v, n);
	if (!q || !val) {
		fail(m, "out of memory");
		return;
	}
	s2pb__param__init(q);
	q->name = (char *)name;
	q->value = val;
	p->params[p->n_params++] = q;
}

enum { C_AI, C_GI, C_AV, C_BV, C_GV, C_BIAS, C_TH, C_RST, C_SUB, C_SPK, C__N };
static const char *const CNAME[C__N] = {
        "a_i",    "g_i", "a_v", "b_v", "g_v", "bias", "v_thresh", "v_reset", "reset_subtract",
        "spiking"};

/* Coefficients of neuron i of a neuron node (contract table). */
static bool coeffs(struct imp *m, const struct node *nd, size_t N, double **c)
{
	const double dt = m->dt;
	bool euler = m->o->euler;
	const struct nir_obj *tau = NULL, *ts = NULL, *tm = NULL, *r = NULL, *vl = NULL, *vt = NULL,
	                     *vr = NULL, *win = NULL, *th = NULL;
	enum ntype t = nd->t;
	if (t == T_LIF || t == T_LI)
		tau = per_elem(m, nd, "tau", N, true);
	if (t == T_CUBALIF || t == T_CUBALI) {
		ts = per_elem(m, nd, "tau_syn", N, true);
		tm = per_elem(m, nd, "tau_mem", N, true);
		win = per_elem(m, nd, "w_in", N, false);
	}
	if (t != T_THRESHOLD)
		r = per_elem(m, nd, "r", N, true);
	if (t == T_LIF || t == T_LI || t == T_CUBALIF || t == T_CUBALI)
		vl = per_elem(m, nd, "v_leak", N, true);
	if (t == T_LIF || t == T_CUBALIF || t == T_IF) {
		vt = per_elem(m, nd, "v_threshold", N, true);
		vr = per_elem(m, nd, "v_reset", N, false);
	}
	if (t == T_THRESHOLD)
		th = per_elem(m, nd, "threshold", N, true);
	if (m->failed)
		return false;
	bool spiking = t == T_LIF || t == T_CUBALIF || t == T_IF || t == T_THRESHOLD;
	for (size_t i = 0; i < N; i++) {
		double ai = 0, gi = 1, av = 1, bv = 0, gv = 1;
		double R = at(r, i, 1), VL = at(vl, i, 0);
		if (tau || tm) {
			double T = tau ? at(tau, i, 1) : at(tm, i, 1);
			if (!(T > 0)) {
				NFAIL(m, nd, "%s[%zu] %g s is not positive",
				      tau ? "tau" : "tau_mem", i, T);
				return false;
			}
			double e = euler ? 1 - dt / T : exp(-dt / T), k = euler ? dt / T : 1 - e;
			if (e < 0) {
				NFAIL(m, nd,
				      "%s[%zu] %g s is shorter than dt %g s (euler needs dt <= "
				      "tau)",
				      tau ? "tau" : "tau_mem", i, T, dt);
				return false;
			}
			av = e;
			bv = k * VL;
			gv = k * R;
		}
		if (ts) {
			double T = at(ts, i, 1);
			if (!(T > 0)) {
				NFAIL(m, nd, "tau_syn[%zu] %g s is not positive", i, T);
				return false;
			}
			double e = euler ? 1 - dt / T : exp(-dt / T), k = euler ? dt / T : 1 - e;
			if (e < 0) {
				NFAIL(m, nd,
				      "tau_syn[%zu] %g s is shorter than dt %g s (euler needs dt "
				      "<= "
				      "tau)",
				      i, T, dt);
				return false;
			}
			ai = e;
			gi = k * at(win, i, 1);
		}
		if (t == T_IF || t == T_I) {
			av = 1;
			bv = 0;
			gv = R * dt;
		}
		if (t == T_THRESHOLD) {
			av = 0;
			bv = 0;
			gv = 1;
		}
		c[C_AI][i] = ai;
		c[C_GI][i] = gi;
		c[C_AV][i] = av;
		c[C_BV][i] = bv;
		c[C_GV][i] = gv;
		c[C_BIAS][i] = nd->obias ? nd->obias[i] : 0;
		c[C_TH][i] = th ? at(th, i, 0) : vt ? at(vt, i, 1) : 1;
		c[C_RST][i] = t == T_THRESHOLD ? 0 : at(vr, i, 0);
		c[C_SUB][i] = t == T_THRESHOLD || m->o->reset_zero ? 0 : 1;
		c[C_SPK][i] = spiking;
		static const double LIM[C__N] = {1, 1e9, 1, 1e9, 1e9, 1e9, 1e9, 1e9, 1, 1};
		for (int k = 0; k < C__N; k++)
			if (!isfinite(c[k][i]) || fabs(c[k][i]) > LIM[k] ||
			    (LIM[k] == 1 && c[k][i] < 0)) {
				NFAIL(m, nd, "neuron %zu: %s = %g is outside %g..%g", i, CNAME[k],
				      c[k][i], k <= C_AV && k != C_GI ? 0 : -LIM[k], LIM[k]);
				return false;
			}
	}
	return true;
}

static S2pb__Population *add_pop(struct imp *m, struct out *o, struct node *nd)
{
	S2pb__Population *p = net_arena_alloc(&o->a, sizeof *p);
	if (!p) {
		fail(m, "out of memory");
		return NULL;
	}
	s2pb__population__init(p);
	p->label = nd->name;
	p->size = (uint32_t)nd->n_out;
	p->params = net_arena_alloc(&o->a, (C__N + 1) * sizeof(void *));
	if (!p->params) {
		fail(m, "out of memory");
		return NULL;
	}
	nd->pop_index = (int)o->n->n_populations;
	o->n->populations[o->n->n_populations++] = p;
	return p;
}

/* One recording of a population (at most one per node: the array has a slot per node). */
static bool add_recording(struct imp *m, struct out *o, char *name, const char *variable)
{
	S2pb__Recording *r = net_arena_alloc(&o->a, sizeof *r);
	if (!r) {
		fail(m, "out of memory");
		return false;
	}
	s2pb__recording__init(r);
	r->population = name;
	r->variable = (char *)variable;
	o->n->recordings[o->n->n_recordings++] = r;
	return true;
}

static bool emit_input(struct imp *m, struct out *o, struct node *nd, uint64_t steps)
{
	S2pb__Population *p = add_pop(m, o, nd);
	if (!p)
		return false;
	p->model = "spike_source_array";
	size_t N = nd->n_out;
	p->spike_times = net_arena_alloc(&o->a, N * sizeof *p->spike_times);
	S2pb__SpikeTrain *tr = net_arena_alloc(&o->a, N * sizeof *tr);
	if (!p->spike_times || !tr) {
		fail(m, "out of memory");
		return false;
	}
	p->n_spike_times = N;
	double dt_ms = m->dt * 1000;
	uint64_t T = nd->spikes ? (nd->spike_t < steps ? nd->spike_t : steps) : 0;
	for (size_t j = 0; j < N; j++) {
		s2pb__spike_train__init(&tr[j]);
		p->spike_times[j] = &tr[j];
		size_t c = 0;
		for (uint64_t t = 0; t < T; t++)
			c += nd->spikes[t * N + j] != 0;
		if (!c)
			continue;
		tr[j].times_ms = net_arena_alloc(&o->a, c * sizeof(double));
		if (!tr[j].times_ms) {
			fail(m, "out of memory");
			return false;
		}
		for (uint64_t t = 0; t < T; t++)
			if (nd->spikes[t * N + j] != 0)
				tr[j].times_ms[tr[j].n_times_ms++] = (double)t * dt_ms;
	}
	/* recorded too: the results then show what went in beside what came out */
	return add_recording(m, o, nd->name, "spikes");
}

static bool emit_neuron(struct imp *m, struct out *o, struct node *nd)
{
	S2pb__Population *p = add_pop(m, o, nd);
	if (!p)
		return false;
	p->model = "nir_neuron";
	size_t N = nd->n_out;
	double *c[C__N];
	bool ok = true;
	for (int k = 0; k < C__N; k++)
		c[k] = NULL;
	for (int k = 0; k < C__N && ok; k++)
		ok = (c[k] = xcalloc(m, N, sizeof(double))) != NULL;
	ok = ok && coeffs(m, nd, N, c);
	for (int k = 0; k < C__N && ok; k++) {
		/* leave parameters at the model's defaults out */
		static const double DEF[C__N] = {0, 1, 1, 0, 1, 0, 1, 0, 0, 1};
		bool dflt = true;
		for (size_t i = 0; i < N && dflt; i++)
			dflt = c[k][i] == DEF[k];
		if (k == C_SUB || k == C_SPK || !dflt)
			add_param(m, o, p, CNAME[k], c[k], N);
	}
	bool spiking = ok && c[C_SPK][0] != 0;
	for (int k = 0; k < C__N; k++)
		free(c[k]);
	if (!ok || m->failed)
		return false;
	return add_recording(m, o, nd->name, spiking ? "spikes" : "v");
}

static int syn_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->pre != y->pre)
		return x->pre < y->pre ? -1 : 1;
	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	return x->d < y->d ? -1 : x->d > y->d;
}

/* Synapses src -> dst (entries at dst's input): delays to steps, merged, split by sign. */
static bool emit_proj(struct imp *m, struct out *o, const struct node *src, const struct node *dst,
                      struct elist *l, uint64_t *nsyn)
{
	for (size_t i = 0; i < l->n; i++) {
		double st = 1 + nearbyint(l->e[i].d / m->dt);
		if (st > NET_MAX_DELAY_STEPS) {
			NFAIL(m, dst,
			      "a delay of %.0f steps from '%s' (at most %u; delays are 1 + "
			      "round(delay / dt) steps)",
			      st, src->name, NET_MAX_DELAY_STEPS);
			return false;
		}
		l->e[i].d = st;
	}
	qsort(l->e, l->n, sizeof *l->e, syn_cmp);
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (k && l->e[k - 1].pre == l->e[i].pre && l->e[k - 1].x == l->e[i].x &&
		    l->e[k - 1].d == l->e[i].d)
			l->e[k - 1].w += l->e[i].w;
		else
			l->e[k++] = l->e[i];
	}
	l->n = k;
	for (int inh = 0; inh < 2; inh++) {
		size_t c = 0;
		for (size_t i = 0; i < l->n; i++)
			c += inh ? l->e[i].w < 0 : l->e[i].w > 0;
		if (!c)
			continue;
		if (o->n->n_projections == o->proj_cap) {
			size_t nc = o->proj_cap * 2 + 8;
			S2pb__Projection **p = net_arena_alloc(&o->a, (nc + 1) * sizeof *p);
			if (!p) {
				fail(m, "out of memory");
				return false;
			}
			if (o->n->n_projections)
				memcpy(p, o->n->projections, o->n->n_projections * sizeof *p);
			o->n->projections = p;
			o->proj_cap = nc;
		}
		S2pb__Projection *p = net_arena_alloc(&o->a, sizeof *p);
		S2pb__FromList *fl = net_arena_alloc(&o->a, sizeof *fl);
		if (!p || !fl) {
			fail(m, "out of memory");
			return false;
		}
		s2pb__projection__init(p);
		s2pb__from_list__init(fl);
		char label[512];
		snprintf(label, sizeof label, "%s->%s:%s", src->name, dst->name,
		         inh ? "inh" : "exc");
		p->label = net_arena_strdup(&o->a, label);
		p->pre = src->name;
		p->post = dst->name;
		p->receptor = inh ? S2PB__PROJECTION__RECEPTOR__INHIBITORY
		                  : S2PB__PROJECTION__RECEPTOR__EXCITATORY;
		p->connector_case = S2PB__PROJECTION__CONNECTOR_FROM_LIST;
		p->from_list = fl;
		fl->pre = net_arena_alloc(&o->a, c * sizeof *fl->pre);
		fl->post = net_arena_alloc(&o->a, c * sizeof *fl->post);
		fl->weight = net_arena_alloc(&o->a, c * sizeof *fl->weight);
		fl->delay = net_arena_alloc(&o->a, c * sizeof *fl->delay);
		if (!fl->pre || !fl->post || !fl->weight || !fl->delay || !p->label) {
			fail(m, "out of memory");
			return false;
		}
		for (size_t i = 0; i < l->n; i++) {
			double w = l->e[i].w;
			if (inh ? !(w < 0) : !(w > 0))
				continue;
			if (fabs(w) > 1000) {
				NFAIL(m, dst,
				      "a composed weight from '%s' is %g (|weight| at most 1000)",
				      src->name, w);
				return false;
			}
			size_t j = fl->n_pre++;
			fl->pre[j] = l->e[i].pre;
			fl->post[j] = l->e[i].x;
			fl->weight[j] = fabs(w);
			fl->delay[j] = l->e[i].d * m->dt * 1000;
		}
		fl->n_post = fl->n_weight = fl->n_delay = fl->n_pre;
		*nsyn += fl->n_pre;
		o->n->projections[o->n->n_projections++] = p;
	}
	return true;
}

/* Biases: out_bias of every linear node (in order), then each neuron's input bias. */
static bool biases(struct imp *m, const size_t *order, size_t n_lin)
{
	for (size_t h = 0; h < n_lin; h++) {
		struct node *nd = &m->nodes[order[h]];
		double *acc = NULL;
		for (size_t k = 0; k < nd->n_pred; k++) {
			struct node *p = &m->nodes[nd->pred[k]];
			if (p->pop || !p->obias)
				continue;
			if (!acc && !(acc = xcalloc(m, nd->n_in, sizeof *acc)))
				return false;
			for (size_t i = 0; i < nd->n_in; i++)
				acc[i] += p->obias[i];
		}
		if (!acc && !nd->bias)
			continue;
		if (!(nd->obias = xcalloc(m, nd->n_out, sizeof *nd->obias))) {
			free(acc);
			return false;
		}
		if (acc)
			for (size_t i = 0; i < nd->n_in; i++)
				for (size_t k = nd->row[i]; k < nd->row[i + 1]; k++)
					nd->obias[nd->col[k]] += acc[i] * nd->w[k];
		if (nd->bias)
			for (size_t o = 0; o < nd->n_out; o++)
				nd->obias[o] += nd->bias[o];
		free(acc);
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct node *nd = &m->nodes[i];
		if (!is_neuron(nd->t))
			continue;
		for (size_t k = 0; k < nd->n_pred; k++) {
			struct node *p = &m->nodes[nd->pred[k]];
			if (p->pop || !p->obias)
				continue;
			if (!nd->obias && !(nd->obias = xcalloc(m, nd->n_in, sizeof *nd->obias)))
				return false;
			for (size_t j = 0; j < nd->n_in; j++)
				nd->obias[j] += p->obias[j];
		}
	}
	return true;
}

/* ---- inputs --------------------------------------------------------------------------- */

static bool load_inputs(struct imp *m, uint64_t *longest)
{
	*longest = 0;
	for (unsigned k = 0; k < m->o->n_inputs; k++) {
		const struct s2_nir_input *in = &m->o->inputs[k];
		long i = find_node(m, in->node);
		if (i < 0 || !m->nodes[i].top_input) {
			char names[256] = "";
			size_t l = 0;
			for (size_t j = 0; j < m->n_nodes && l < sizeof names; j++)
				if (m->nodes[j].top_input)
					l += (size_t)snprintf(names + l, sizeof names - l, "%s%s",
					                      l ? ", " : "", m->nodes[j].name);
			fail(m, "--input %s: no top-level Input node '%s' (Inputs: %s)", in->node,
			     in->node, names[0] ? names : "none");
			return false;
		}
		struct node *nd = &m->nodes[i];
		if (nd->spikes) {
			fail(m, "--input %s: given twice", in->node);
			return false;
		}
		FILE *f = fopen(in->path, "rb");
		if (!f) {
			fail(m, "--input %s=%s: %s", in->node, in->path, strerror(errno));
			return false;
		}
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0;
		for (;;) {
			if (len == cap) {
				if (cap >= NPY_FILE_MAX) {
					fclose(f);
					free(buf);
					fail(m, "--input %s=%s: larger than %u MiB", in->node,
					     in->path, NPY_FILE_MAX >> 20);
					return false;
				}
				cap = cap ? cap * 2 : 65536;
				uint8_t *p = realloc(buf, cap);
				if (!p) {
					fclose(f);
					free(buf);
					fail(m, "out of memory");
					return false;
				}
				buf = p;
			}
			size_t r = fread(buf + len, 1, cap - len, f);
			len += r;
			if (!r)
				break;
		}
		bool rerr = ferror(f);
		fclose(f);
		if (rerr) {
			free(buf);
			fail(m, "--input %s=%s: read error", in->node, in->path);
			return false;
		}
		struct npy_array a;
		char e[256];
		int rc = npy_parse(buf, len, &a, e, sizeof e);
		free(buf);
		if (rc < 0) {
			fail(m, "--input %s=%s: %s", in->node, in->path, e);
			return false;
		}
		size_t N = nd->n_out;
		bool fits = a.rank >= 2 && count(a.dims + 1, a.rank - 1) == N &&
		            (a.rank == 2 ||
		             (a.rank - 1 == nd->out_rank &&
		              !memcmp(a.dims + 1, nd->out_dims, nd->out_rank * sizeof *a.dims)));
		if (!fits) {
			char b1[96], b2[96];
			fail(m,
			     "--input %s=%s: shape %s does not fit node '%s' (Input) of shape %s: "
			     "expected (T, %s) or (T, %zu)",
			     in->node, in->path, shape_str(a.dims, a.rank, b1, sizeof b1), nd->name,
			     shape_str(nd->out_dims, nd->out_rank, b2, sizeof b2),
			     shape_str(nd->out_dims, nd->out_rank, b2, sizeof b2), N);
			npy_free(&a);
			return false;
		}
		nd->spikes = a.v;
		nd->spike_t = a.dims[0];
		if (a.dims[0] > *longest)
			*longest = a.dims[0];
	}
	return true;
}

/* ---- driver --------------------------------------------------------------------------- */

static void imp_free(struct imp *m)
{
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct node *nd = &m->nodes[i];
		free(nd->name);
		free(nd->row);
		free(nd->col);
		free(nd->w);
		free(nd->dsec);
		free(nd->bias);
		free(nd->obias);
		free(nd->pred);
		free(nd->spikes);
	}
	free(m->nodes);
	for (size_t i = 0; i < m->n_graphs; i++) {
		free(m->graphs[i].name);
		free(m->graphs[i].ins);
		free(m->graphs[i].outs);
	}
	free(m->graphs);
}

void s2_nir_report_free(struct s2_nir_report *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n_pops; i++) {
		free(r->pops[i].label);
		free(r->pops[i].type);
	}
	for (unsigned i = 0; i < r->n_folded; i++) {
		free(r->folded[i].name);
		free(r->folded[i].type);
	}
	for (unsigned i = 0; i < r->n_projs; i++) {
		free(r->projs[i].label);
		free(r->projs[i].pre);
		free(r->projs[i].post);
	}
	free(r->pops);
	free(r->folded);
	free(r->projs);
	memset(r, 0, sizeof *r);
}

static bool report(struct imp *m, const S2pb__Network *n, struct s2_nir_report *r, uint64_t syn,
                   uint64_t steps)
{
	memset(r, 0, sizeof *r);
	r->synapses = syn;
	r->steps = steps;
	r->pops = calloc(m->n_nodes + 1, sizeof *r->pops);
	r->folded = calloc(m->n_nodes + 1, sizeof *r->folded);
	r->projs = calloc(n->n_projections + 1, sizeof *r->projs);
	if (!r->pops || !r->folded || !r->projs) {
		s2_nir_report_free(r);
		return false;
	}
	for (size_t j = 0; j < n->n_projections; j++) {
		const S2pb__Projection *p = n->projections[j];
		struct s2_nir_proj *q = &r->projs[r->n_projs++];
		q->label = strdup(p->label);
		q->pre = strdup(p->pre);
		q->post = strdup(p->post);
		q->inhibitory = p->receptor == S2PB__PROJECTION__RECEPTOR__INHIBITORY;
		q->synapses = p->from_list ? p->from_list->n_pre : 0;
		if (!q->label || !q->pre || !q->post) {
			s2_nir_report_free(r);
			return false;
		}
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct node *nd = &m->nodes[i];
		if (nd->pop) {
			struct s2_nir_pop *p = &r->pops[r->n_pops++];
			p->label = strdup(nd->name);
			p->type = strdup(TNAME[nd->t]);
			p->size = (uint32_t)nd->n_out;
			p->spiking = nd->t == T_LIF || nd->t == T_CUBALIF || nd->t == T_IF ||
			             nd->t == T_THRESHOLD;
			if (!p->label || !p->type) {
				s2_nir_report_free(r);
				return false;
			}
		} else {
			struct s2_nir_folded *f = &r->folded[r->n_folded++];
			f->name = strdup(nd->name);
			f->type = strdup(TNAME[nd->t]);
			if (!f->name || !f->type) {
				s2_nir_report_free(r);
				return false;
			}
		}
	}
	return true;
}

struct s2_net *nir_import_tree(const struct nir_obj *root, const char *name,
                               const struct s2_nir_opts *opts, struct s2_nir_report *rep, char *err,
                               size_t errlen)
{
	static const struct s2_nir_opts DEF = {0};
	struct imp m = {.err = err, .errlen = errlen, .o = opts ? opts : &DEF};
	m.dt = m.o->dt > 0 ? m.o->dt : 0.001;
	if (!(m.dt >= 1e-5 && m.dt <= 1e-2)) {
		net_seterr(err, errlen, "dt %g s is outside 1e-5..0.01", m.dt);
		return NULL;
	}
	const struct nir_obj *top = nir_child(root, "node");
	const char *ty = top ? node_type_str(top) : NULL;
	if (!top || top->kind != NIR_GROUP || !ty) {
		net_seterr(err, errlen, "%s: no group 'node' with a 'type' (not a NIR file?)",
		           name);
		return NULL;
	}
	if (strcmp(ty, "NIRGraph")) {
		net_seterr(err, errlen, "%s: the top node is a %s, not a NIRGraph", name, ty);
		return NULL;
	}
	struct out o = {0};
	struct s2_net *net = NULL;
	size_t *order = NULL, n_lin = 0;
	struct elist *maps = NULL, tmp = {0}, acc = {0};
	uint64_t longest = 0, steps, nsyn = 0;
	if (!flatten(&m, top, "", 0) || !shapes(&m) || !(order = linear_order(&m, &n_lin)) ||
	    !biases(&m, order, n_lin) || !load_inputs(&m, &longest))
		goto done;
	steps = m.o->steps ? m.o->steps : longest ? longest : 100;
	if (steps > 100000000) {
		fail(&m, "--steps %llu is more than 1e8", (unsigned long long)steps);
		goto done;
	}
	o.n = net_arena_alloc(&o.a, sizeof *o.n);
	if (!o.n) {
		fail(&m, "out of memory");
		goto done;
	}
	s2pb__network__init(o.n);
	o.n->format = S2_NET_FORMAT;
	o.n->name = net_arena_strdup(&o.a, name);
	o.n->timestep_ms = m.dt * 1000;
	o.n->run_ms = (double)steps * m.dt * 1000;
	o.n->seed = m.o->seed_set ? m.o->seed : 1;
	o.n->populations = net_arena_alloc(&o.a, (m.n_nodes + 1) * sizeof(void *));
	o.n->recordings = net_arena_alloc(&o.a, (m.n_nodes + 1) * sizeof(void *));
	if (o.a.failed) {
		fail(&m, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < m.n_nodes; i++) {
		struct node *nd = &m.nodes[i];
		if (nd->top_input ? !emit_input(&m, &o, nd, steps)
		                  : is_neuron(nd->t) && !emit_neuron(&m, &o, nd))
			goto done;
	}
	maps = xcalloc(&m, m.n_nodes, sizeof *maps);
	if (!maps)
		goto done;
	for (size_t s = 0; s < m.n_nodes; s++) {
		if (!m.nodes[s].pop)
			continue;
		for (size_t h = 0; h < n_lin; h++) {
			size_t x = order[h];
			if (!gather(&m, &m.nodes[x], s, maps, &tmp) ||
			    !apply(&m, &m.nodes[x], &tmp, &maps[x]))
				goto done;
		}
		for (size_t t = 0; t < m.n_nodes; t++) {
			if (!is_neuron(m.nodes[t].t))
				continue;
			if (!gather(&m, &m.nodes[t], s, maps, &acc))
				goto done;
			merge(&acc);
			if (acc.n && !emit_proj(&m, &o, &m.nodes[s], &m.nodes[t], &acc, &nsyn))
				goto done;
		}
		for (size_t h = 0; h < n_lin; h++)
			maps[order[h]].n = 0;
	}
	if (o.a.failed) {
		fail(&m, "out of memory");
		goto done;
	}
	char verr[512];
	net = net_from_built(o.n, verr, sizeof verr);
	if (!net) {
		fail(&m, "%s: the imported network does not validate: %s", name, verr);
		goto done;
	}
	if (rep && !report(&m, o.n, rep, nsyn, steps)) {
		s2_net_free(net);
		net = NULL;
		fail(&m, "out of memory");
	}
done:
	if (maps)
		for (size_t i = 0; i < m.n_nodes; i++)
			free(maps[i].e);
	free(maps);
	free(tmp.e);
	free(acc.e);
	free(order);
	net_arena_free(&o.a);
	imp_free(&m);
	return net;
}

static void base_name(const char *path, char *out, size_t cap)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	snprintf(out, cap, "%s", b);
	size_t l = strlen(out);
	if (l > 4 && !strcmp(out + l - 4, ".nir"))
		out[l - 4] = 0;
	if (!out[0])
		snprintf(out, cap, "nir");
}

struct s2_net *s2_net_import_nir(const char *path, const struct s2_nir_opts *o,
                                 struct s2_nir_report *report, char *err, size_t errlen)
{
	struct nir_obj *root = nir_read_file(path, err, errlen);
	if (!root)
		return NULL;
	char name[128];
	base_name(path, name, sizeof name);
	struct s2_net *n = nir_import_tree(root, name, o, report, err, errlen);
	nir_tree_free(root);
	return n;
}

struct s2_net *s2_net_import_nir_image(const void *buf, size_t len, const struct s2_nir_opts *o,
                                       struct s2_nir_report *report, char *err, size_t errlen)
{
	struct nir_obj *root = nir_read_image(buf, len, 0, err, errlen);
	if (!root)
		return NULL;
	struct s2_net *n = nir_import_tree(root, "image", o, report, err, errlen);
	nir_tree_free(root);
	return n;
}
