/*
 * Fuzz target for the s2 file container (s2_sfile_verify, s2_file_check; docs/files.md): any
 * bytes are accepted or refused with a message, never read out of bounds; a file accepted is
 * canonical: rebuilding it from its sections gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/fileio.h"
#include "s2/sfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	err[0] = 0;
	struct s2_sfile f;
	if (s2_file_check(data, size, 0, UINT16_MAX, "f", &f, err, sizeof err) < 0) {
		if (!err[0] || strncmp(err, "f: ", 3) != 0)
			abort(); /* every refusal names the file and says why */
		return 0;
	}
	if (f.version == 0 || f.n_sections == 0)
		abort();
	struct s2_file_w *w = s2_file_w_new(f.kind, f.version);
	if (!w)
		return 0;
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec s;
	uint64_t total = 0;
	unsigned n = 0;
	while (s2_sfile_next(&f, &it, &s)) {
		char name[S2_SFILE_NAME_MAX + 1];
		if (s.name_len == 0 || s.name_len > S2_SFILE_NAME_MAX)
			abort();
		memcpy(name, s.name, s.name_len);
		name[s.name_len] = 0;
		total += s.len;
		n++;
		if (strlen(name) != s.name_len) { /* a NUL in a name: cannot be rebuilt by name */
			s2_file_w_free(w);
			return 0;
		}
		s2_file_w_section(w, name);
		s2_file_w_put(w, s.data, (size_t)s.len);
	}
	if (n != f.n_sections || total != f.content_len)
		abort();
	uint8_t *out;
	size_t len;
	if (s2_file_w_finish(w, &out, &len) == 0) {
		if (len != size || memcmp(out, data, size) != 0)
			abort(); /* what we read, we write */
		free(out);
	}
	s2_file_w_free(w);
	return 0;
}
