/*
 * Project-internal parts of the NIR importer (mapping/include/s2/nir.h): the in-memory tree a
 * .nir file (HDF5) is read into, and the reader of NumPy .npy files used for --input rasters.
 * Both readers treat their input as untrusted and bound every size.
 */
#ifndef S2_NIR_INTERNAL_H
#define S2_NIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIR_MAX_DEPTH 32               /* nesting of groups */
#define NIR_MAX_NAME 255               /* bytes in one link name */
#define NIR_MAX_STR 4096               /* bytes in one string element */
#define NIR_MAX_OBJECTS 100000u        /* groups and datasets in one file */
#define NIR_MAX_ELEMS (1u << 24)       /* elements in one dataset */
#define NIR_MAX_TOTAL_ELEMS (1u << 26) /* elements in all datasets of a file */
#define NIR_MAX_RANK 8

/* NIR_OTHER: a dataset of another type (bool, compound, ...) or a named datatype: kept by
 * name only, an error only where a node needs it. */
enum nir_kind { NIR_GROUP, NIR_NUM, NIR_STR, NIR_OTHER };

/* A group (named children, in name order) or a dataset (numbers as doubles, or strings). */
struct nir_obj {
	char *name;
	enum nir_kind kind;
	struct nir_obj *kids; /* NIR_GROUP */
	size_t n_kids;
	unsigned rank; /* datasets: 0 for a scalar */
	uint64_t dims[NIR_MAX_RANK];
	size_t n;   /* elements */
	double *v;  /* NIR_NUM: n values, C order */
	char **s;   /* NIR_STR: n NUL-terminated strings */
	bool empty; /* a dataset with a null dataspace (h5py: None / h5py.Empty) */
};

#define NIR_TREE_MAX (1024u << 20) /* bytes of an encoded tree */
#define NIR_READ_SECONDS 300u      /* longest time the reader process may take */

/**
 * Read a whole .nir file. libhdf5 runs in a child process (it crashes or loops on some
 * crafted files; the child is killed after NIR_READ_SECONDS); the tree comes back encoded. @return
 * the root group (free with nir_tree_free), or NULL with err set.
 */
struct nir_obj *nir_read_file(const char *path, char *err, size_t errlen);
/** The same from an HDF5 file image in memory (not modified, not kept), in at most seconds
 * (0: NIR_READ_SECONDS). */
struct nir_obj *nir_read_image(const void *buf, size_t len, unsigned seconds, char *err,
                               size_t errlen);
/** The tree as bytes (malloc'd) and back; decoding checks every bound. */
int nir_tree_encode(const struct nir_obj *root, uint8_t **out, size_t *len);
struct nir_obj *nir_tree_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);

struct s2_nir_opts;
struct s2_nir_report;
/** Import a tree read from a file (name: the network's name). */
struct s2_net *nir_import_tree(const struct nir_obj *root, const char *name,
                               const struct s2_nir_opts *o, struct s2_nir_report *rep, char *err,
                               size_t errlen);
void nir_tree_free(struct nir_obj *root);
/** Child of a group by name, NULL if none (or g is not a group). */
const struct nir_obj *nir_child(const struct nir_obj *g, const char *name);

/* ---- NumPy .npy ----------------------------------------------------------------------- */

#define NPY_MAX_ELEMS (1u << 28)

struct npy_array {
	unsigned rank;
	uint64_t dims[NIR_MAX_RANK];
	size_t n;
	double *v; /* n values, C order (bool/int/float converted) */
};

/**
 * Parse a .npy file held in memory: format versions 1.0, 2.0 and 3.0, C order, dtypes |b1 |u1
 * |i1 <u2 <i2 <u4 <i4 <u8 <i8 <f4 <f8. @return 0, or -1 with err set (out->v is then NULL).
 */
int npy_parse(const uint8_t *buf, size_t len, struct npy_array *out, char *err, size_t errlen);
void npy_free(struct npy_array *a);

#endif
