/*
 * Reading a .nir file (HDF5, NIR 1.x layout written by nir/serialization.py via h5py) into a
 * small tree of groups and datasets (nir_internal.h). Only hard links are followed (soft and
 * external links are refused: an external link would open another file); depth, names,
 * object counts and element counts are bounded; numbers of any integer or float type are
 * converted to double by the library; strings may be variable- or fixed-length. libhdf5's own
 * error printing is switched off and every failure becomes one message naming the object.
 *
 * libhdf5 (1.10) is not robust against crafted files: fuzzing finds segmentation faults
 * (e.g. in H5HG_read on a corrupt global heap) within seconds. So the file is read in a
 * child process, which sends the tree back over a pipe in a small bounded format
 * (nir_tree_encode / nir_tree_decode); a crash of the child becomes an error message.
 */
#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_internal.h"
#include "nir_internal.h"

struct rd {
	char *err;
	size_t errlen;
	size_t objects, elems;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void rd_err(struct rd *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	net_seterr(r->err, r->errlen, "%s", msg);
}

/* The innermost libhdf5 error description, for messages ("" if none). */
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *ctx)
{
	char *out = ctx;
	if (n == 0 && e->desc)
		snprintf(out, 160, "%s", e->desc);
	return 0;
}

static const char *h5_why(char *buf)
{
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, buf);
	H5Eclear2(H5E_DEFAULT);
	return buf;
}

static void obj_free(struct nir_obj *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_kids; i++)
		obj_free(&o->kids[i]);
	free(o->kids);
	if (o->s)
		for (size_t i = 0; i < o->n; i++)
			free(o->s[i]);
	free(o->s);
	free(o->v);
	free(o->name);
}

void nir_tree_free(struct nir_obj *root)
{
	obj_free(root);
	free(root);
}

const struct nir_obj *nir_child(const struct nir_obj *g, const char *name)
{
	if (!g || g->kind != NIR_GROUP)
		return NULL;
	for (size_t i = 0; i < g->n_kids; i++)
		if (!strcmp(g->kids[i].name, name))
			return &g->kids[i];
	return NULL;
}

static bool read_group(struct rd *r, hid_t g, const char *path, unsigned depth, struct nir_obj *o);

/* A string element: printable UTF-8 assumed, bounded, copied. */
static char *str_copy(struct rd *r, const char *path, const char *s, size_t max)
{
	size_t l = s ? strnlen(s, max) : 0;
	if (l > NIR_MAX_STR) {
		rd_err(r, "%s: a string is longer than %d bytes", path, NIR_MAX_STR);
		return NULL;
	}
	char *c = malloc(l + 1);
	if (!c) {
		rd_err(r, "%s: out of memory", path);
		return NULL;
	}
	if (l)
		memcpy(c, s, l);
	c[l] = 0;
	/* fixed-length strings may be space padded (NULLPAD/SPACEPAD) */
	while (l && c[l - 1] == ' ')
		c[--l] = 0;
	return c;
}

static bool read_strings(struct rd *r, hid_t d, hid_t t, const char *path, struct nir_obj *o)
{
	char why[160];
	o->kind = NIR_STR;
	o->s = calloc(o->n ? o->n : 1, sizeof *o->s);
	if (!o->s) {
		rd_err(r, "%s: out of memory", path);
		return false;
	}
	if (!o->n)
		return true;
	int vl = H5Tis_variable_str(t);
	if (vl < 0) {
		rd_err(r, "%s: cannot read the string type: %s", path, h5_why(why));
		return false;
	}
	hid_t mt = H5Tcopy(H5T_C_S1);
	H5T_cset_t cs = H5Tget_cset(t);
	if (mt < 0 || cs < 0 || H5Tset_cset(mt, cs) < 0) {
		if (mt >= 0)
			H5Tclose(mt);
		rd_err(r, "%s: cannot make a string type: %s", path, h5_why(why));
		return false;
	}
	bool ok = false;
	if (vl) {
		char **p = calloc(o->n ? o->n : 1, sizeof *p);
		if (!p) {
			rd_err(r, "%s: out of memory", path);
		} else if (H5Tset_size(mt, H5T_VARIABLE) < 0 ||
		           H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0) {
			rd_err(r, "%s: cannot read the strings: %s", path, h5_why(why));
			/* a failed read may have allocated some: free what is there */
			for (size_t i = 0; i < o->n; i++)
				H5free_memory(p[i]);
		} else {
			ok = true;
			for (size_t i = 0; i < o->n; i++) {
				if (ok && !(o->s[i] = str_copy(r, path, p[i], NIR_MAX_STR + 1)))
					ok = false;
				H5free_memory(p[i]);
			}
		}
		free(p);
	} else {
		size_t sz = H5Tget_size(t);
		if (sz == 0 || sz > NIR_MAX_STR) {
			rd_err(r, "%s: fixed-length strings of %zu bytes", path, sz);
		} else if (o->n > (64u << 20) / sz) {
			rd_err(r, "%s: too many strings (%zu)", path, o->n);
		} else {
			char *buf = calloc(o->n ? o->n : 1, sz + 1);
			if (!buf) {
				rd_err(r, "%s: out of memory", path);
			} else if (H5Tset_size(mt, sz) < 0 ||
			           H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
			           H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
				rd_err(r, "%s: cannot read the strings: %s", path, h5_why(why));
			} else {
				ok = true;
				for (size_t i = 0; i < o->n && ok; i++)
					if (!(o->s[i] = str_copy(r, path, buf + i * sz, sz)))
						ok = false;
			}
			free(buf);
		}
	}
	H5Tclose(mt);
	return ok;
}

static bool read_dataset(struct rd *r, hid_t d, const char *path, struct nir_obj *o)
{
	char why[160];
	hid_t s = H5Dget_space(d);
	if (s < 0) {
		rd_err(r, "%s: cannot read the dataspace: %s", path, h5_why(why));
		return false;
	}
	H5S_class_t sc = H5Sget_simple_extent_type(s);
	int rank = H5Sget_simple_extent_ndims(s);
	hsize_t dims[H5S_MAX_RANK];
	bool ok = true;
	if (sc == H5S_NULL) {
		o->empty = true;
		o->kind = NIR_NUM;
		H5Sclose(s);
		return true;
	}
	if (sc == H5S_NO_CLASS || rank < 0) {
		rd_err(r, "%s: cannot read the dataspace: %s", path, h5_why(why));
		ok = false;
	} else if (rank > NIR_MAX_RANK) {
		rd_err(r, "%s: %d dimensions (at most %d)", path, rank, NIR_MAX_RANK);
		ok = false;
	} else if (H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
		rd_err(r, "%s: cannot read the dimensions: %s", path, h5_why(why));
		ok = false;
	}
	H5Sclose(s);
	if (!ok)
		return false;
	o->rank = (unsigned)rank;
	uint64_t n = 1;
	for (int i = 0; i < rank; i++) {
		o->dims[i] = dims[i];
		if (dims[i] && n > NIR_MAX_ELEMS / dims[i]) {
			rd_err(r, "%s: more than %u elements", path, NIR_MAX_ELEMS);
			return false;
		}
		n *= dims[i];
	}
	if (n > NIR_MAX_ELEMS || r->elems + n > NIR_MAX_TOTAL_ELEMS) {
		rd_err(r, "%s: more than %u elements in the file", path, NIR_MAX_TOTAL_ELEMS);
		return false;
	}
	r->elems += n;
	o->n = (size_t)n;
	hid_t t = H5Dget_type(d);
	if (t < 0) {
		rd_err(r, "%s: cannot read the type: %s", path, h5_why(why));
		return false;
	}
	H5T_class_t tc = H5Tget_class(t);
	if (tc == H5T_STRING) {
		ok = read_strings(r, d, t, path, o);
	} else if (tc == H5T_INTEGER || tc == H5T_FLOAT) {
		o->kind = NIR_NUM;
		o->v = calloc(o->n ? o->n : 1, sizeof *o->v);
		if (!o->v) {
			rd_err(r, "%s: out of memory", path);
			ok = false;
		} else if (o->n &&
		           H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, o->v) < 0) {
			rd_err(r, "%s: cannot read the values: %s", path, h5_why(why));
			ok = false;
		}
	} else {
		o->kind = NIR_OTHER; /* bool (an enum), compound, ...: not read */
		o->n = 0;
	}
	H5Tclose(t);
	return ok;
}

struct iter {
	struct rd *r;
	const char *path;
	unsigned depth;
	struct nir_obj *o;
	size_t cap;
};

static herr_t link_cb(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
	struct iter *it = ctx;
	struct rd *r = it->r;
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", it->path, name);
	if (strlen(name) > NIR_MAX_NAME || !name[0]) {
		rd_err(r, "%s: a name is empty or longer than %d bytes", it->path, NIR_MAX_NAME);
		return -1;
	}
	if (info->type != H5L_TYPE_HARD) {
		rd_err(r, "%s: a %s link (only plain objects are read)", path,
		       info->type == H5L_TYPE_SOFT       ? "soft"
		       : info->type == H5L_TYPE_EXTERNAL ? "external"
		                                         : "user-defined");
		return -1;
	}
	if (!strcmp(name, "metadata"))
		return 0; /* NIR metadata: free-form, ignored */
	if (++r->objects > NIR_MAX_OBJECTS) {
		rd_err(r, "%s: more than %u objects in the file", path, NIR_MAX_OBJECTS);
		return -1;
	}
	if (it->o->n_kids == it->cap) {
		size_t nc = it->cap ? it->cap * 2 : 8;
		struct nir_obj *k = realloc(it->o->kids, nc * sizeof *k);
		if (!k) {
			rd_err(r, "%s: out of memory", path);
			return -1;
		}
		it->o->kids = k;
		it->cap = nc;
	}
	struct nir_obj *k = &it->o->kids[it->o->n_kids];
	memset(k, 0, sizeof *k);
	k->name = strdup(name);
	if (!k->name) {
		rd_err(r, "%s: out of memory", path);
		return -1;
	}
	it->o->n_kids++;
	char why[160];
	hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
	if (obj < 0) {
		rd_err(r, "%s: cannot open: %s", path, h5_why(why));
		return -1;
	}
	bool ok;
	H5I_type_t ty = H5Iget_type(obj);
	if (ty == H5I_GROUP)
		ok = read_group(r, obj, path, it->depth + 1, k);
	else if (ty == H5I_DATASET)
		ok = read_dataset(r, obj, path, k);
	else {
		k->kind = NIR_OTHER; /* a named datatype: not read */
		ok = true;
	}
	H5Oclose(obj);
	return ok ? 0 : -1;
}

static bool read_group(struct rd *r, hid_t g, const char *path, unsigned depth, struct nir_obj *o)
{
	o->kind = NIR_GROUP;
	if (depth > NIR_MAX_DEPTH) {
		rd_err(r, "%s: groups nested deeper than %d", path[0] ? path : "/", NIR_MAX_DEPTH);
		return false;
	}
	/* Links by index rather than H5Literate: no allocation of ours then happens below a
	 * libhdf5 frame (which keeps leak reports about libhdf5's own allocations separable). */
	struct iter it = {r, path, depth, o, 0};
	char why[160];
	H5G_info_t gi;
	if (H5Gget_info(g, &gi) < 0) {
		rd_err(r, "%s: cannot list the group: %s", path[0] ? path : "/", h5_why(why));
		return false;
	}
	if (gi.nlinks > NIR_MAX_OBJECTS) {
		rd_err(r, "%s: more than %u links", path[0] ? path : "/", NIR_MAX_OBJECTS);
		return false;
	}
	for (hsize_t i = 0; i < gi.nlinks; i++) {
		char name[NIR_MAX_NAME + 1];
		ssize_t l = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0,
		                               H5P_DEFAULT);
		if (l < 0) {
			rd_err(r, "%s: cannot list the group: %s", path[0] ? path : "/",
			       h5_why(why));
			return false;
		}
		if (l == 0 || l > NIR_MAX_NAME) {
			rd_err(r, "%s: a name is empty or longer than %d bytes",
			       path[0] ? path : "/", NIR_MAX_NAME);
			return false;
		}
		H5L_info_t li;
		if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
		                       H5P_DEFAULT) != l ||
		    H5Lget_info(g, name, &li, H5P_DEFAULT) < 0) {
			rd_err(r, "%s: cannot read link %llu: %s", path[0] ? path : "/",
			       (unsigned long long)i, h5_why(why));
			return false;
		}
		if (link_cb(g, name, &li, &it) < 0)
			return false;
	}
	return true;
}

static struct nir_obj *read_fid(hid_t f, const char *what, char *err, size_t errlen)
{
	struct rd r = {err, errlen, 0, 0, false};
	struct nir_obj *root = calloc(1, sizeof *root);
	if (!root || !(root->name = strdup(""))) {
		free(root);
		net_seterr(err, errlen, "%s: out of memory", what);
		H5Fclose(f);
		return NULL;
	}
	hid_t g = H5Gopen2(f, "/", H5P_DEFAULT);
	bool ok = false;
	if (g < 0) {
		char why[160];
		rd_err(&r, "cannot open the root group: %s", h5_why(why));
	} else {
		ok = read_group(&r, g, "", 0, root);
		H5Gclose(g);
	}
	H5Fclose(f);
	if (!ok) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", err);
		net_seterr(err, errlen, "%s: %s", what, msg);
		nir_tree_free(root);
		return NULL;
	}
	return root;
}

static void quiet(void)
{
	H5open();
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static struct nir_obj *read_file_here(const char *path, char *err, size_t errlen)
{
	quiet();
	char why[160];
	htri_t is = H5Fis_hdf5(path);
	if (is <= 0) {
		h5_why(why);
		FILE *t = fopen(path, "rb");
		if (!t) {
			net_seterr(err, errlen, "%s: cannot open the file", path);
			return NULL;
		}
		fclose(t);
		net_seterr(err, errlen, "%s: not an HDF5 file (NIR files are HDF5)", path);
		return NULL;
	}
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0) {
		net_seterr(err, errlen, "%s: cannot open as HDF5: %s", path, h5_why(why));
		return NULL;
	}
	return read_fid(f, path, err, errlen);
}

static struct nir_obj *read_image_here(const void *buf, size_t len, char *err, size_t errlen)
{
	quiet();
	char why[160];
	if (!buf || len < 8 || memcmp(buf, "\211HDF\r\n\032\n", 8) != 0) {
		net_seterr(err, errlen, "image: not an HDF5 file image");
		return NULL;
	}
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
	    H5Pset_file_image(fapl, (void *)buf, len) < 0) {
		net_seterr(err, errlen, "image: cannot set up the in-memory driver: %s",
		           h5_why(why));
		if (fapl >= 0)
			H5Pclose(fapl);
		return NULL;
	}
	hid_t f = H5Fopen("s2-nir-image", H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	if (f < 0) {
		net_seterr(err, errlen, "image: cannot open as HDF5: %s", h5_why(why));
		return NULL;
	}
	return read_fid(f, "image", err, errlen);
}

/* ---- the tree as bytes ---------------------------------------------------------------- */

struct wbuf {
	uint8_t *b;
	size_t n, cap;
	bool failed;
};

static void put(struct wbuf *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (w->cap - w->n < n) {
		size_t nc = w->cap ? w->cap : 4096;
		while (nc - w->n < n) {
			if (nc > NIR_TREE_MAX / 2) {
				w->failed = true;
				return;
			}
			nc *= 2;
		}
		uint8_t *q = realloc(w->b, nc);
		if (!q) {
			w->failed = true;
			return;
		}
		w->b = q;
		w->cap = nc;
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, 8);
}

static void put_obj(struct wbuf *w, const struct nir_obj *o)
{
	uint8_t k = (uint8_t)o->kind;
	put(w, &k, 1);
	put_u64(w, strlen(o->name));
	put(w, o->name, strlen(o->name));
	if (o->kind == NIR_GROUP) {
		put_u64(w, o->n_kids);
		for (size_t i = 0; i < o->n_kids; i++)
			put_obj(w, &o->kids[i]);
		return;
	}
	if (o->kind == NIR_OTHER)
		return;
	uint8_t e = o->empty, r = (uint8_t)o->rank;
	put(w, &e, 1);
	put(w, &r, 1);
	for (unsigned i = 0; i < o->rank; i++)
		put_u64(w, o->dims[i]);
	put_u64(w, o->empty ? 0 : o->n);
	if (o->empty)
		return;
	for (size_t i = 0; i < o->n; i++) {
		if (o->kind == NIR_NUM) {
			uint64_t u;
			memcpy(&u, &o->v[i], 8);
			put_u64(w, u);
		} else {
			put_u64(w, strlen(o->s[i]));
			put(w, o->s[i], strlen(o->s[i]));
		}
	}
}

int nir_tree_encode(const struct nir_obj *root, uint8_t **out, size_t *len)
{
	struct wbuf w = {0};
	put(&w, "S2NT", 4);
	put_obj(&w, root);
	if (w.failed) {
		free(w.b);
		return -1;
	}
	*out = w.b;
	*len = w.n;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t left;
	size_t objects, elems;
	const char *why;
};

static bool get(struct rbuf *r, void *p, size_t n)
{
	if (r->left < n) {
		r->why = "truncated";
		return false;
	}
	memcpy(p, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static bool get_u64(struct rbuf *r, uint64_t *v)
{
	uint8_t b[8];
	if (!get(r, b, 8))
		return false;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return true;
}

static char *get_str(struct rbuf *r, size_t max)
{
	uint64_t l;
	if (!get_u64(r, &l))
		return NULL;
	if (l > max || l > r->left) {
		r->why = "a name or string is too long";
		return NULL;
	}
	char *s = malloc(l + 1);
	if (!s) {
		r->why = "out of memory";
		return NULL;
	}
	memcpy(s, r->p, l);
	s[l] = 0;
	if (strlen(s) != l) {
		free(s);
		r->why = "a NUL inside a string";
		return NULL;
	}
	r->p += l;
	r->left -= l;
	return s;
}

static bool get_obj(struct rbuf *r, struct nir_obj *o, unsigned depth)
{
	uint8_t k;
	if (depth > NIR_MAX_DEPTH + 1) {
		r->why = "nested too deep";
		return false;
	}
	if (++r->objects > NIR_MAX_OBJECTS) {
		r->why = "too many objects";
		return false;
	}
	if (!get(r, &k, 1))
		return false;
	if (k > NIR_OTHER) {
		r->why = "bad object kind";
		return false;
	}
	o->kind = (enum nir_kind)k;
	if (!(o->name = get_str(r, NIR_MAX_NAME)))
		return false;
	if (o->kind == NIR_GROUP) {
		uint64_t n;
		if (!get_u64(r, &n))
			return false;
		if (n > NIR_MAX_OBJECTS || n > r->left / 10) {
			r->why = "too many children";
			return false;
		}
		o->kids = calloc(n ? n : 1, sizeof *o->kids);
		if (!o->kids) {
			r->why = "out of memory";
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			o->n_kids++;
			if (!get_obj(r, &o->kids[i], depth + 1))
				return false;
		}
		return true;
	}
	if (o->kind == NIR_OTHER)
		return true;
	uint8_t e, rank;
	uint64_t n, prod = 1;
	if (!get(r, &e, 1) || !get(r, &rank, 1))
		return false;
	if (e > 1 || rank > NIR_MAX_RANK) {
		r->why = "bad dataset header";
		return false;
	}
	o->empty = e;
	o->rank = rank;
	for (unsigned i = 0; i < rank; i++) {
		if (!get_u64(r, &o->dims[i]))
			return false;
		if (o->dims[i] > NIR_MAX_ELEMS ||
		    (o->dims[i] && prod > NIR_MAX_ELEMS / o->dims[i])) {
			r->why = "too many elements";
			return false;
		}
		prod *= o->dims[i];
	}
	if (!get_u64(r, &n))
		return false;
	if ((e ? n != 0 : n != prod) || n > NIR_MAX_ELEMS || r->elems + n > NIR_MAX_TOTAL_ELEMS ||
	    n > r->left / 8) {
		r->why = "element count does not match the dimensions or the data";
		return false;
	}
	r->elems += n;
	o->n = (size_t)n;
	if (o->kind == NIR_NUM) {
		o->v = calloc(n ? n : 1, sizeof *o->v);
		if (!o->v) {
			r->why = "out of memory";
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t u;
			if (!get_u64(r, &u))
				return false;
			memcpy(&o->v[i], &u, 8);
		}
		return true;
	}
	o->s = calloc(n ? n : 1, sizeof *o->s);
	if (!o->s) {
		r->why = "out of memory";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!(o->s[i] = get_str(r, NIR_MAX_STR)))
			return false;
	return true;
}

struct nir_obj *nir_tree_decode(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct rbuf r = {buf, len, 0, 0, NULL};
	char magic[4];
	if (!get(&r, magic, 4) || memcmp(magic, "S2NT", 4) != 0) {
		net_seterr(err, errlen, "tree: no S2NT header");
		return NULL;
	}
	struct nir_obj *root = calloc(1, sizeof *root);
	if (!root) {
		net_seterr(err, errlen, "tree: out of memory");
		return NULL;
	}
	if (!get_obj(&r, root, 0) || (root->kind != NIR_GROUP && (r.why = "root is no group")) ||
	    (r.left && (r.why = "trailing bytes"))) {
		net_seterr(err, errlen, "tree: %s", r.why ? r.why : "bad");
		nir_tree_free(root);
		return NULL;
	}
	return root;
}

/* ---- the reader process --------------------------------------------------------------- */

static bool write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S2_HAS_ASAN 1
#endif
#endif
#ifndef S2_HAS_ASAN
#define S2_HAS_ASAN 0
#endif
#define NIR_CHILD_MEM_MAX ((rlim_t)4 << 30) /* bytes of heap for libhdf5 and the tree */

/* Run one of the readers in a child: its answer is 'T' + an encoded tree or 'E' + a
 * message. */
static struct nir_obj *isolated(const char *what, const char *path, const void *img, size_t len,
                                unsigned seconds, char *err, size_t errlen)
{
	int fd[2];
	if (pipe(fd) < 0) {
		net_seterr(err, errlen, "%s: pipe: %s", what, strerror(errno));
		return NULL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		net_seterr(err, errlen, "%s: fork: %s", what, strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		/* a crash is reported by the parent: the default action, not any handler inherited
		 * from the program (a fuzzer's, a sanitizer's) */
		static const int SIG[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
		for (size_t i = 0; i < sizeof SIG / sizeof *SIG; i++)
			signal(SIG[i], SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(seconds); /* libhdf5 can also loop on a crafted file */
#if !defined(__SANITIZE_ADDRESS__) && !S2_HAS_ASAN
		/* ... or ask for gigabytes: its heap is bounded (a sanitizer's shadow memory would
		 * not fit under such a limit, so not with one) */
		struct rlimit rl = {NIR_CHILD_MEM_MAX, NIR_CHILD_MEM_MAX};
		setrlimit(RLIMIT_DATA, &rl);
#endif
		close(fd[0]);
		char e[768] = "";
		struct nir_obj *t = path ? read_file_here(path, e, sizeof e)
		                         : read_image_here(img, len, e, sizeof e);
		uint8_t *b = NULL;
		size_t n = 0;
		bool ok;
		if (!t)
			ok = write_all(fd[1], "E", 1) && write_all(fd[1], e, strlen(e));
		else if (nir_tree_encode(t, &b, &n) < 0)
			ok = write_all(fd[1], "Eout of memory or more than 1 GiB of tree", 41);
		else
			ok = write_all(fd[1], "T", 1) && write_all(fd[1], b, n);
		_exit(ok ? 0 : 1);
	}
	close(fd[1]);
	struct wbuf w = {0};
	bool big = false;
	for (;;) {
		uint8_t b[65536];
		ssize_t r = read(fd[0], b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		put(&w, b, (size_t)r);
		if (w.failed) {
			big = true;
			kill(pid, SIGKILL); /* it would wait for us to read the rest */
			break;
		}
	}
	close(fd[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	struct nir_obj *t = NULL;
	if (big) {
		net_seterr(err, errlen, "%s: out of memory or more than 1 GiB of tree", what);
	} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		net_seterr(err, errlen,
		           "%s: libhdf5 took longer than %u s reading it: the file is corrupt or "
		           "crafted",
		           what, seconds);
	} else if (WIFSIGNALED(st)) {
		net_seterr(err, errlen,
		           "%s: libhdf5 crashed reading it (signal %d): the file is corrupt or "
		           "crafted",
		           what, WTERMSIG(st));
	} else if (w.n >= 1 && w.b[0] == 'E') {
		net_seterr(err, errlen, "%.*s", (int)(w.n - 1), (const char *)w.b + 1);
	} else if (w.n >= 1 && w.b[0] == 'T' && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		char e[256];
		t = nir_tree_decode(w.b + 1, w.n - 1, e, sizeof e);
		if (!t)
			net_seterr(err, errlen, "%s: %s", what, e);
	} else {
		net_seterr(err, errlen, "%s: the reader process failed (exit %d)", what,
		           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	free(w.b);
	return t;
}

struct nir_obj *nir_read_file(const char *path, char *err, size_t errlen)
{
	return isolated(path, path, NULL, 0, NIR_READ_SECONDS, err, errlen);
}

struct nir_obj *nir_read_image(const void *buf, size_t len, unsigned seconds, char *err,
                               size_t errlen)
{
	return isolated("image", NULL, buf, len, seconds ? seconds : NIR_READ_SECONDS, err, errlen);
}
