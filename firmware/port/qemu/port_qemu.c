/*
 * Port for qemu-system-arm -M mps2-an386 (Cortex-M4): the cm4f start-up and memory map with
 * console and exit through ARM semihosting (a "bkpt 0xAB" trap that QEMU services when run
 * with -semihosting-config enable=on,target=native).
 *
 * Exit status: SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, status} makes
 * QEMU (7.2 checked, also 6.x and later) call exit(status), so the guest's status is QEMU's
 * exit status and ctest sees the test result directly. Plain SYS_EXIT on A32/T32 carries no
 * status (QEMU exits 0 for ApplicationExit, 1 otherwise); it is only the fallback should
 * SYS_EXIT_EXTENDED ever return.
 *
 * Console: SYS_WRITE to the ":tt" handle opened at init (binary-safe, explicit length);
 * SYS_WRITE0 if that open failed. Without a debugger or QEMU the bkpt would fault, which is
 * why real PEs use the cm4f port instead.
 */
#include <stdint.h>

#include "port.h"

const char s2_port_name[] = "qemu";

/* Semihosting operations (ARM "Semihosting for AArch32 and AArch64", version 2.0). */
#define SYS_OPEN 0x01
#define SYS_WRITEC 0x03
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026u
#define ADP_Stopped_RunTimeErrorUnknown 0x20023u
#define SYS_OPEN_MODE_W 4  /* fopen "w" */
#define SYS_OPEN_MODE_RB 1 /* fopen "rb" */
#define SYS_OPEN_MODE_WB 5 /* fopen "wb" */
#define SYS_CLOSE 0x02
#define SYS_READ 0x06

static int tt = -1; /* semihosting handle of the console, from SYS_OPEN(":tt", "w") */

static int semihost(int op, const void *arg)
{
	register int r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void s2_port_init(void)
{
	if (tt >= 0)
		return;
	static const char name[] = ":tt";
	const uint32_t args[3] = {(uint32_t)(uintptr_t)name, SYS_OPEN_MODE_W, sizeof name - 1};
	tt = semihost(SYS_OPEN, args);
}

void s2_port_write(const char *buf, size_t n)
{
	if (tt < 0) {
		for (size_t i = 0; i < n; i++)
			semihost(SYS_WRITEC, &buf[i]);
		return;
	}
	while (n > 0) {
		const uint32_t args[3] = {(uint32_t)tt, (uint32_t)(uintptr_t)buf, (uint32_t)n};
		int left = semihost(SYS_WRITE, args); /* bytes NOT written */
		if (left < 0 || (size_t)left >= n)
			return;
		buf += n - (size_t)left;
		n = (size_t)left;
	}
}

void s2_port_puts(const char *s)
{
	if (tt < 0) {
		semihost(SYS_WRITE0, s);
		return;
	}
	size_t n = 0;
	while (s[n])
		n++;
	s2_port_write(s, n);
}

_Noreturn void s2_port_exit(int status)
{
	const uint32_t ext[2] = {ADP_Stopped_ApplicationExit, (uint32_t)status};
	semihost(SYS_EXIT_EXTENDED, ext);
	semihost(SYS_EXIT,
	         (const void *)(uintptr_t)(status == 0 ? ADP_Stopped_ApplicationExit
	                                               : ADP_Stopped_RunTimeErrorUnknown));
	__asm__ volatile("cpsid i" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}

/* QEMU models no DWT (its registers read as zero) and TCG counts no cycles without -icount. */
uint32_t s2_port_cycles(void)
{
	return 0;
}

static int open_file(const char *name, int mode)
{
	size_t n = 0;
	while (name[n])
		n++;
	const uint32_t args[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, (uint32_t)n};
	return semihost(SYS_OPEN, args);
}

long s2_port_file_read(const char *name, void *buf, size_t cap)
{
	int fd = open_file(name, SYS_OPEN_MODE_RB);
	if (fd < 0)
		return -1;
	const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)cap};
	int left = semihost(SYS_READ, args); /* bytes NOT read */
	semihost(SYS_CLOSE, &fd);
	return left < 0 || (size_t)left > cap ? -1 : (long)(cap - (size_t)left);
}

long s2_port_file_write(const char *name, const void *buf, size_t n)
{
	int fd = open_file(name, SYS_OPEN_MODE_WB);
	if (fd < 0)
		return -1;
	const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)n};
	int left = semihost(SYS_WRITE, args);
	semihost(SYS_CLOSE, &fd);
	return left == 0 ? (long)n : -1;
}

uint8_t *s2_port_dram(uint32_t *size)
{
	*size = 16u << 20;
	return (uint8_t *)(uintptr_t)0x21000000u;
}
