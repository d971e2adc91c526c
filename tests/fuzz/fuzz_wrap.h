/*
 * Shared by the fuzz targets of files in the s2 container (docs/files.md): the container's
 * CRCs would stop almost every mutation at the checksum, so an input that starts with 0x01 is
 * the content alone, sections separated by FUZZ_SEP, which the harness wraps in a valid
 * container (names from the harness, CRCs computed) to reach the content decoders. Any other
 * input is a whole file as is.
 */
#ifndef S2_FUZZ_WRAP_H
#define S2_FUZZ_WRAP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/fileio.h"

#define FUZZ_SEP "|#|"
#define FUZZ_SEP_LEN 3

/* Name of section i (its bytes given) into buf. */
typedef void (*fuzz_namer)(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len);

/* The file for data[0..size): wrapped (0x01 ...) or as is (*owned false). NULL if no memory. */
static inline const uint8_t *fuzz_file(const uint8_t *data, size_t size, uint32_t kind,
                                       uint16_t version, fuzz_namer name, size_t *len,
                                       uint8_t **owned)
{
	*owned = NULL;
	if (size == 0 || data[0] != 0x01) {
		*len = size;
		return data;
	}
	struct s2_file_w *w = s2_file_w_new(kind, version);
	if (!w)
		return NULL;
	const uint8_t *p = data + 1, *end = data + size;
	for (unsigned i = 0;; i++) {
		const uint8_t *q = p;
		while (q + FUZZ_SEP_LEN <= end && memcmp(q, FUZZ_SEP, FUZZ_SEP_LEN) != 0)
			q++;
		if (q + FUZZ_SEP_LEN > end)
			q = end;
		char nm[S2_SFILE_NAME_MAX + 1];
		name(i, p, (size_t)(q - p), nm, sizeof nm);
		if (!nm[0])
			nm[0] = '?', nm[1] = 0;
		s2_file_w_section(w, nm);
		s2_file_w_put(w, p, (size_t)(q - p));
		if (q == end)
			break;
		p = q + FUZZ_SEP_LEN;
	}
	uint8_t *out = NULL;
	if (s2_file_w_finish(w, &out, len) < 0)
		out = NULL;
	s2_file_w_free(w);
	*owned = out;
	return out;
}

#endif
