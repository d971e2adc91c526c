/*
 * Compiling in memory (compile.h): the mapper's image is written to an anonymous memory file
 * (memfd; tmpfile() where there is none), read back and laid out as a plan. Nothing is left
 * in the file system.
 */
#define _GNU_SOURCE
#include "s2/compile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s2/error.h"
#include "s2/image.h"

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int code,
                                                      const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static FILE *anon_file(void)
{
#ifdef MFD_CLOEXEC
	int fd = memfd_create("s2-image", MFD_CLOEXEC);
	if (fd >= 0) {
		FILE *f = fdopen(fd, "w+b");
		if (f)
			return f;
		close(fd);
	}
#endif
	return tmpfile();
}

int s2_compile(const struct s2_net *n, const struct s2_machine *m, const struct s2_map_config *cfg,
               struct s2_plan **out, char *err, size_t errlen)
{
	*out = NULL;
	static const struct s2_map_config defaults;
	char why[512];
	uint8_t *buf = NULL;
	FILE *f = NULL;
	int rc;
	struct s2_mapping *mp = s2_map_new(n, m, cfg ? cfg : &defaults);
	if (!mp)
		return fail(err, errlen, S2_E_NOMEM, "out of memory");
	if ((rc = s2_map_run(mp, why, sizeof why)) < 0) {
		rc = fail(err, errlen, rc, "%s", why);
		goto out;
	}
	if (!(f = anon_file())) {
		rc = fail(err, errlen, S2_E_IO, "image: no memory file: %s", strerror(errno));
		goto out;
	}
	if ((rc = s2_image_write_stream(mp, f, "image", why, sizeof why)) < 0) {
		rc = fail(err, errlen, rc, "%s", why);
		goto out;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || !(buf = malloc((size_t)st.st_size)) ||
	    pread(fileno(f), buf, (size_t)st.st_size, 0) != st.st_size) {
		rc = fail(err, errlen, buf ? S2_E_IO : S2_E_NOMEM, "image: cannot read it back");
		goto out;
	}
	if (!(*out = s2_plan_decode(buf, (size_t)st.st_size, "image", why, sizeof why)))
		rc = fail(err, errlen, S2_E_FORMAT, "%s", why);
out:
	if (f)
		fclose(f);
	free(buf);
	s2_map_free(mp);
	return rc;
}

int s2_compile_json(const char *text, size_t len, const struct s2_machine *m,
                    const struct s2_map_config *cfg, struct s2_plan **out, char *err, size_t errlen)
{
	*out = NULL;
	char why[512];
	struct s2_net *n = s2_net_from_json(text, len, why, sizeof why);
	if (!n)
		return fail(err, errlen, S2_E_FORMAT, "network: %s", why);
	int rc = s2_compile(n, m, cfg, out, err, errlen);
	s2_net_free(n);
	return rc;
}
