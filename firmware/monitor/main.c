/*
 * The s2 monitor firmware image, run on PE 0 of each chip. It carries the firmware identity
 * block the board checks at boot (protocol 4.12) and links the monitor's command handler
 * (monitor.c). On silicon the handler is fed by the chip's packet interface, which is not
 * modelled in this image yet: main announces itself on the console and stops. The same
 * handler source runs in s2emu for every emulated chip and under QEMU in the firmware tests.
 */
#include "monitor.h"
#include "port.h"
#include "s2/fwident.h"
#include "s2/packet.h"

#ifndef S2_VERSION_STRING
#error "S2_VERSION_STRING must be defined by the build"
#endif

__attribute__((section(".s2ident"), used)) const struct s2_fw_ident_block s2_fw_ident =
        S2_FW_IDENT_BLOCK(S2_FW_MONITOR, S2_PROTOCOL_VERSION, "s2-monitor " S2_VERSION_STRING);

int main(void)
{
	s2_port_init();
	s2_port_puts("s2 monitor " S2_VERSION_STRING " (port ");
	s2_port_puts(s2_port_name);
	s2_port_puts(")\n");
	return 0;
}
