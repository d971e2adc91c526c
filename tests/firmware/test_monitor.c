/*
 * Host run of the monitor command-handler cases (monitor_cases.c): the same cases the
 * firmware runner executes on Cortex-M4F under QEMU (firmware/test/main_monitor.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "s2test.h"

int main(void)
{
	return s2t_run_cmocka("monitor", s2_monitor_cases, s2_monitor_ncases, NULL, 0) ? 1 : 0;
}
