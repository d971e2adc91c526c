/**
 * @file port.h
 * @brief The firmware's hardware port: the few services a PE program needs from below.
 *
 * One firmware source tree is built three ways (brief, principle 2), like pico-sdk's host and
 * silicon builds of one header: each port directory implements this header.
 *   - firmware/port/cm4f: a real SpiNNaker2 PE. Console output goes into an in-SRAM ring
 *     (the "iobuf", cm4f/iobuf.h) that the host reads later; exit records the status there
 *     and idles in WFI.
 *   - firmware/port/qemu: the same Cortex-M4F code under qemu-system-arm -M mps2-an386.
 *     Console and exit use ARM semihosting, so the exit status becomes QEMU's exit status.
 *   - firmware/port/emu: the host build (emulator, host tests): stdio and exit().
 * The Cortex-M start-up code (cm4f/startup.c) is shared by cm4f and qemu; it calls
 * s2_port_init() before main() and s2_port_exit() with main's return value.
 *
 * Nothing here allocates memory. None of the functions is safe to call from an interrupt
 * handler that can pre-empt another console write.
 */
#ifndef S2_FW_PORT_H
#define S2_FW_PORT_H

#include <stddef.h>
#include <stdint.h>

/** Name of the port this image was built for: "cm4f", "qemu" or "emu". */
extern const char s2_port_name[];

/**
 * Bring the port up: console, cycle counter. Called once by the start-up code before
 * main() (emu: call it first thing in main). Safe to call again; later calls do nothing.
 */
void s2_port_init(void);

/** Write the NUL-terminated string @p s to the console as is (no newline is added). */
void s2_port_puts(const char *s);

/** Write @p n bytes from @p buf to the console (the bytes may include NUL). */
void s2_port_write(const char *buf, size_t n);

/**
 * Stop the program with @p status (0 = success; faults use S2_PORT_EXIT_FAULT + exception
 * number). Console output written before the call is not lost. Never returns:
 *   cm4f: records the status in the iobuf and sleeps in WFI forever;
 *   qemu: semihosting SYS_EXIT_EXTENDED, QEMU exits with @p status (low 8 bits on a POSIX
 *         host);
 *   emu:  exit(status).
 */
_Noreturn void s2_port_exit(int status);

/** Exit status base for a CPU fault: the status is S2_PORT_EXIT_FAULT + exception number. */
#define S2_PORT_EXIT_FAULT 0x80

/**
 * A free-running 32-bit counter for measuring short intervals (differences only; it wraps).
 *   cm4f: core clock cycles (DWT CYCCNT);
 *   qemu: always 0 (QEMU models no cycle counter, see qemu/port_qemu.c);
 *   emu:  host monotonic time in nanoseconds (not cycles).
 */
uint32_t s2_port_cycles(void);

/**
 * Host files, for test harnesses (fw_engine_run): read up to cap bytes of file `name` into
 * buf, or write n bytes to it (created or truncated).
 *   qemu: semihosting SYS_OPEN/SYS_READ/SYS_WRITE, relative to QEMU's working directory;
 *   emu:  stdio;
 *   cm4f: no host: -1.
 * @return bytes read or written, or -1.
 */
long s2_port_file_read(const char *name, void *buf, size_t cap);
long s2_port_file_write(const char *name, const void *buf, size_t n);

/**
 * The memory that stands for the chip's DRAM in this port, and its size in bytes.
 *   qemu: the MPS2 board's 16 MiB PSRAM at 0x21000000;
 *   emu:  a 16 MiB host buffer;
 *   cm4f: NULL (a real PE reaches DRAM by DMA, not by address).
 */
uint8_t *s2_port_dram(uint32_t *size);

#endif
