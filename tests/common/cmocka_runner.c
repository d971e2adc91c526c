/* cmocka runner for shared s2t cases: each case becomes a cmocka test whose state is the case. */
#include "cmocka_runner.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
