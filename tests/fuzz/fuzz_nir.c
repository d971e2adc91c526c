/*
 * Fuzz target for the NIR importer (docs/nir.md). Bytes starting with the HDF5 signature are
 * a file image, read as `s2ctl net import-nir` reads files: libhdf5 in a child process, the
 * tree sent back encoded (a crash of libhdf5 must become an error message); anything else is
 * an encoded tree (nir_tree_decode), imported in this process, which is where the coverage
 * guidance works. Every rejection must say why; every accepted network must encode and read
 * back; an ASan report in the reader process (exit 23) is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nir_internal.h"
#include "s2/network.h"
#include "s2/nir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__asan_default_suppressions(void);

/* libhdf5 (1.10, not instrumented) segfaults and trips the memcpy interceptor on crafted
 * files: in the reader process a segfault must stay a signal (not an ASan exit), and
 * interceptor reports from libhdf5 are its own. An ASan report of our code exits 23 (the
 * reader process inherits libFuzzer's malloc limit, whose exit on a libhdf5 allocation of
 * gigabytes is not ours). */
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:exitcode=23";
}

const char *__asan_default_suppressions(void)
{
	return "interceptor_via_lib:libhdf5\n";
}

static void check(struct s2_net *n, struct s2_nir_report *rep, const char *err)
{
	if (!n) {
		if (!err[0] || strstr(err, "the reader process failed (exit 23)"))
			abort();
		return;
	}
	if (rep->n_pops != s2_net_populations(n))
		abort();
	uint8_t *a;
	size_t al;
	char e[512];
	if (s2_net_encode(n, &a, &al) < 0)
		abort();
	struct s2_net *r = s2_net_decode(a, al, e, sizeof e);
	if (!r)
		abort(); /* what we build, we read */
	free(a);
	s2_net_free(r);
	s2_nir_report_free(rep);
	s2_net_free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[768];
	err[0] = 0;
	struct s2_nir_report rep;
	if (size >= 8 && !memcmp(data, "\211HDF\r\n\032\n", 8)) {
		/* as s2_net_import_nir_image, but the reader gets 2 s (libFuzzer's -timeout is 5)
		 */
		struct nir_obj *t = nir_read_image(data, size, 2, err, sizeof err);
		if (!t) {
			if (!err[0] || strstr(err, "the reader process failed (exit 23)"))
				abort();
			return 0;
		}
		check(nir_import_tree(t, "image", NULL, &rep, err, sizeof err), &rep, err);
		nir_tree_free(t);
		return 0;
	}
	struct nir_obj *t = nir_tree_decode(data, size, err, sizeof err);
	if (!t) {
		if (!err[0])
			abort();
		return 0;
	}
	/* what decodes, encodes to the same bytes */
	uint8_t *b;
	size_t bl;
	if (nir_tree_encode(t, &b, &bl) < 0 || bl != size || memcmp(b, data, size) != 0)
		abort();
	free(b);
	struct s2_nir_opts o = {.dt = size % 2 ? 0.001 : 0.0001, .euler = size % 3 == 0};
	check(nir_import_tree(t, "tree", &o, &rep, err, sizeof err), &rep, err);
	nir_tree_free(t);
	return 0;
}
