/* Text records in the checksummed container: save, check and split into lines
 * (textrec_internal.h). */
#include "textrec_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s2/error.h"
#include "s2/fileio.h"

bool s2_textrec_word(const char *s, bool allow_empty)
{
	if (!*s)
		return allow_empty;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

int s2_textrec_save(const struct s2_textrec_kind *k, const char *text, size_t len, const char *path,
                    char *err, size_t errlen)
{
	int rc = S2_E_NOMEM;
	struct s2_file_w *w = s2_file_w_new(k->kind, k->version);
	if (w && s2_file_w_section(w, k->section) == 0 && s2_file_w_put(w, text, len) == 0)
		rc = s2_file_w_save(w, path, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	s2_file_w_free(w);
	/* Written through a private temporary file: others (the epilog, accounting) read it. */
	if (rc == 0 && chmod(path, 0644) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = S2_E_IO;
	}
	return rc;
}

int s2_textrec_decode(const struct s2_textrec_kind *k, const uint8_t *buf, size_t len,
                      const char *path, s2_textrec_line_fn line, void *ctx, char *err,
                      size_t errlen)
{
	struct s2_sfile f;
	int rc = s2_file_check(buf, len, k->kind, k->version, path, &f, err, errlen);
	if (rc < 0)
		return rc;
	char *t = malloc(f.content_len + 1);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	memcpy(t, f.content, f.content_len);
	t[f.content_len] = 0;
	if (strlen(t) != f.content_len) {
		snprintf(err, errlen, "%s: a NUL byte in the %s text", path, k->what);
		rc = S2_E_FORMAT;
	}
	unsigned lineno = 0;
	char *save = NULL;
	for (char *l = rc ? NULL : strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (strchr(l, '\r') || line(ctx, l) < 0) {
			snprintf(err, errlen, "%s: line %u: '%.60s' is not a valid %s line", path,
			         lineno, l, k->what);
			rc = S2_E_FORMAT;
			break;
		}
	}
	free(t);
	return rc;
}

int s2_textrec_load(const struct s2_textrec_kind *k, const char *path, s2_textrec_line_fn line,
                    void *ctx, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = s2_file_read_all(path, k->max, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	rc = s2_textrec_decode(k, buf, len, path, line, ctx, err, errlen);
	free(buf);
	return rc;
}
