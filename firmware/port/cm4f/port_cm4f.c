/*
 * Port for a real SpiNNaker2 PE (Cortex-M4F): console into the in-SRAM iobuf ring
 * (iobuf.h), exit by recording the status there and sleeping, cycle count from the DWT.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cortex_m.h"
#include "iobuf.h"
#include "port.h"

const char s2_port_name[] = "cm4f";

__attribute__((section(".iobuf"), used)) static struct s2_iobuf iobuf;
static bool initialised; /* in .bss: false after every reset, unlike the NOLOAD iobuf */

void s2_port_init(void)
{
	if (initialised)
		return;
	initialised = true;
	iobuf.magic = 0;
	iobuf.size = S2_IOBUF_SIZE;
	iobuf.head = 0;
	iobuf.status = 0;
	iobuf.state = S2_IOBUF_RUNNING;
	__asm__ volatile("dmb" ::: "memory");
	iobuf.magic = S2_IOBUF_MAGIC;

	CORE_DEMCR |= CORE_DEMCR_TRCENA;
	if (!(DWT_CTRL & DWT_CTRL_NOCYCCNT)) {
		DWT_CYCCNT = 0;
		DWT_CTRL |= DWT_CTRL_CYCCNTENA;
	}
}

void s2_port_write(const char *buf, size_t n)
{
	uint32_t head = iobuf.head;
	for (size_t i = 0; i < n; i++)
		iobuf.data[(head + i) % S2_IOBUF_SIZE] = buf[i];
	/* The bytes must be visible before the host sees the new head. */
	__asm__ volatile("dmb" ::: "memory");
	iobuf.head = head + (uint32_t)n;
}

void s2_port_puts(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	s2_port_write(s, n);
}

_Noreturn void s2_port_exit(int status)
{
	iobuf.status = status;
	__asm__ volatile("dmb" ::: "memory");
	iobuf.state = S2_IOBUF_EXITED;
	__asm__ volatile("cpsid i\n dsb" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

uint32_t s2_port_cycles(void)
{
	return DWT_CYCCNT;
}

/* A real PE has no host files and reaches DRAM by DMA, not by address. */
long s2_port_file_read(const char *name, void *buf, size_t cap)
{
	(void)name;
	(void)buf;
	(void)cap;
	return -1;
}

long s2_port_file_write(const char *name, const void *buf, size_t n)
{
	(void)name;
	(void)buf;
	(void)n;
	return -1;
}

uint8_t *s2_port_dram(uint32_t *size)
{
	*size = 0;
	return NULL;
}
