/* cmocka runner for shared s2t cases: each case becomes a cmocka test whose state is the case;
 * and each test process's own temporary directory. */
#define _XOPEN_SOURCE 700
#include "cmocka_runner.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void run_case(void **state)
{
	const struct s2t_case *c = *state;
	c->fn();
}

int s2t_run_cmocka(const char *group, const struct s2t_case *cases, size_t n,
                   const struct CMUnitTest *extra, size_t nextra)
{
	struct CMUnitTest *tests = calloc(n + nextra, sizeof *tests);
	if (!tests)
		return -1;
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	if (nextra)
		memcpy(tests + n, extra, nextra * sizeof *extra);
	int failed = _cmocka_run_group_tests(group, tests, n + nextra, NULL, NULL);
	free(tests);
	return failed;
}

static char tmp_dir[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	if (remove(path) != 0)
		perror(path);
	return 0;
}

static void tmp_cleanup(void)
{
	if (tmp_dir[0])
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *s2t_tmpdir(void)
{
	if (tmp_dir[0])
		return tmp_dir;
	const char *t = getenv("TMPDIR");
	int n = snprintf(tmp_dir, sizeof tmp_dir, "%s/s2t.XXXXXX", t && *t ? t : "/tmp");
	if (n < 0 || (size_t)n >= sizeof tmp_dir || !mkdtemp(tmp_dir)) {
		fprintf(stderr, "cannot make a temporary directory in %s\n", t && *t ? t : "/tmp");
		tmp_dir[0] = 0;
		return NULL;
	}
	atexit(tmp_cleanup);
	return tmp_dir;
}

char *s2t_tmppath(char *buf, size_t cap, const char *name)
{
	const char *d = s2t_tmpdir();
	if (!d)
		return NULL;
	int n = snprintf(buf, cap, "%s/%s", d, name);
	return n < 0 || (size_t)n >= cap ? NULL : buf;
}

char *s2t_mkdtemp(char *buf, size_t cap, const char *prefix)
{
	const char *d = s2t_tmpdir();
	if (!d)
		return NULL;
	int n = snprintf(buf, cap, "%s/%sXXXXXX", d, prefix);
	return n < 0 || (size_t)n >= cap ? NULL : mkdtemp(buf);
}

int s2t_mkstemp(char *buf, size_t cap, const char *prefix)
{
	const char *d = s2t_tmpdir();
	if (!d)
		return -1;
	int n = snprintf(buf, cap, "%s/%sXXXXXX", d, prefix);
	return n < 0 || (size_t)n >= cap ? -1 : mkstemp(buf);
}
