/*
 * The firmware's test runner: runs a table of shared s2t cases (tests/common/s2test.h) on
 * any port and reports through the port console in a gtest-like format. The same runner is
 * built for Cortex-M4F under QEMU and for the host (emu port), so a case's verdict can be
 * compared across builds.
 */
#ifndef S2_FW_RUNNER_H
#define S2_FW_RUNNER_H

#include <stddef.h>

#include "s2test.h"

/**
 * Run cases[0..n) in order. For each case prints "[ RUN      ] name", then either
 * "[       OK ] name" or the failed checks (file:line: expression, values) and
 * "[  FAILED  ] name". Does not print the summary (see s2fw_summary()).
 * Returns the number of failed cases.
 */
size_t s2fw_run_cases(const struct s2t_case *cases, size_t n);

/**
 * Print the summary line "P passed, F failed" (totals over all s2fw_run_cases() calls so
 * far) and return the program's exit status: 0 if no case failed and at least one ran,
 * 1 otherwise.
 */
int s2fw_summary(void);

#endif
