/*
 * fw_selftest: checks that the harness cannot pass silently. Selected by argument on the
 * host, by the S2FW_SELFTEST macro on Cortex-M (no command line there):
 *   fail   one passing and one failing case: must print "[  FAILED  ]" and
 *          "1 passed, 1 failed" and exit 1;
 *   fault  a case that executes an undefined instruction: must report the fault and stop
 *          with a non-zero status (Cortex-M: S2_PORT_EXIT_FAULT + 6, UsageFault).
 */
#include <string.h>

#include "port.h"
#include "runner.h"

static void t_passes(void)
{
	S2T_EQ(2 + 2, 4);
}

static volatile int two = 2;

static void t_fails_on_purpose(void)
{
	S2T_EQ(two + 2, 5);
}

static void t_faults_on_purpose(void)
{
	__builtin_trap();
}

static const struct s2t_case fail_cases[] = {
        S2T_CASE(t_passes),
        S2T_CASE(t_fails_on_purpose),
};

static const struct s2t_case fault_cases[] = {
        S2T_CASE(t_passes),
        S2T_CASE(t_faults_on_purpose),
};

static int run(const char *which)
{
	if (strcmp(which, "fault") == 0)
		s2fw_run_cases(fault_cases, sizeof fault_cases / sizeof fault_cases[0]);
	else
		s2fw_run_cases(fail_cases, sizeof fail_cases / sizeof fail_cases[0]);
	return s2fw_summary();
}

#ifdef S2FW_SELFTEST
int main(void)
{
	s2_port_init();
	return run(S2FW_SELFTEST);
}
#else
int main(int argc, char **argv)
{
	s2_port_init();
	return run(argc > 1 ? argv[1] : "fail");
}
#endif
