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

/**
 * This test process's own temporary directory: made on the first call, unique, under
 * $TMPDIR (or /tmp when TMPDIR is unset or empty), and removed with everything in it when
 * the process exits normally (failed cmocka tests included). Parallel ctest runs and two
 * clones on one machine never share it. Returns NULL (with a message on stderr) if it cannot
 * be made.
 */
const char *s2t_tmpdir(void);

/** s2t_tmpdir()/name into buf[0..cap); returns buf, or NULL if there is no directory or
 * the path does not fit. */
char *s2t_tmppath(char *buf, size_t cap, const char *name);

/** Make a new unique directory s2t_tmpdir()/prefixXXXXXX, its path into buf[0..cap); returns
 * buf, or NULL. It goes with s2t_tmpdir() at exit if the test does not remove it first. */
char *s2t_mkdtemp(char *buf, size_t cap, const char *prefix);

/** mkstemp of s2t_tmpdir()/prefixXXXXXX, its path into buf[0..cap): the open descriptor, or
 * -1. The file goes with s2t_tmpdir() at exit if the test does not remove it first. */
int s2t_mkstemp(char *buf, size_t cap, const char *prefix);

#endif
