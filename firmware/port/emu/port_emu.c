/*
 * Port for the host build (emulator, host tests): console on stdout, exit through exit(),
 * host monotonic time for the counter. Process-wide for now: the emulator, which runs many
 * PEs in one process, gives each PE its own console and stop in a later issue.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "port.h"

const char s2_port_name[] = "emu";

void s2_port_init(void)
{
}

void s2_port_write(const char *buf, size_t n)
{
	fwrite(buf, 1, n, stdout);
}

void s2_port_puts(const char *s)
{
	fputs(s, stdout);
}

_Noreturn void s2_port_exit(int status)
{
	fflush(stdout);
	exit(status);
}

uint32_t s2_port_cycles(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

long s2_port_file_read(const char *name, void *buf, size_t cap)
{
	FILE *f = fopen(name, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap, f);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : (long)n;
}

long s2_port_file_write(const char *name, const void *buf, size_t n)
{
	FILE *f = fopen(name, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(buf, 1, n, f);
	return fclose(f) == 0 && w == n ? (long)n : -1;
}

uint8_t *s2_port_dram(uint32_t *size)
{
	static uint8_t *dram;
	*size = 16u << 20;
	if (!dram)
		dram = calloc(1, *size);
	return dram;
}
