/*
 * fw_test_proto: the shared wire-core and message cases (tests/proto/proto_cases.c,
 * msg_cases.c) on the firmware runner.
 */
#include "port.h"
#include "runner.h"

int main(void)
{
	s2_port_init();
	s2_port_puts("fw_test_proto on port ");
	s2_port_puts(s2_port_name);
	s2_port_puts("\n");
	s2fw_run_cases(s2_proto_cases, s2_proto_ncases);
	s2fw_run_cases(s2_msg_cases, s2_msg_ncases);
	return s2fw_summary();
}
