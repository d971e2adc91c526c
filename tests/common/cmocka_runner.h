/* Runs a table of shared s2t cases (s2test.h) as one cmocka group. */
#ifndef S2TEST_CMOCKA_RUNNER_H
#define S2TEST_CMOCKA_RUNNER_H

#include <stddef.h>

#include "s2test.h"

/**
 * Run cases[0..n) and then extra[0..nextra) (native cmocka tests, may be NULL) as one
 * group. Returns the number of failed tests (cmocka's convention), or -1 if out of memory.
 */
struct CMUnitTest;
int s2t_run_cmocka(const char *group, const struct s2t_case *cases, size_t n,
                   const struct CMUnitTest *extra, size_t nextra);

#endif
