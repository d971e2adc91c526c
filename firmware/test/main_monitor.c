/*
 * fw_test_monitor: the monitor command-handler cases (tests/firmware/monitor_cases.c) on
 * the firmware runner, so the handler s2emu runs for every chip is shown to answer the
 * same on Cortex-M4F.
 */
#include "port.h"
#include "runner.h"

int main(void)
{
	s2_port_init();
	s2_port_puts("fw_test_monitor on port ");
	s2_port_puts(s2_port_name);
	s2_port_puts("\n");
	s2fw_run_cases(s2_monitor_cases, s2_monitor_ncases);
	return s2fw_summary();
}
