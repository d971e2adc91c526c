/*
 * The iobuf: the cm4f port's console, a ring of bytes in the PE's own SRAM that the host
 * reads over the chip fabric after (or while) the program runs. pe.ld puts it first in the
 * DATA region, so it sits at S2_IOBUF_ADDR in every image.
 *
 * Layout (little-endian 32-bit words, as the host reads it):
 *   +0  magic       S2_IOBUF_MAGIC once s2_port_init() has run
 *   +4  size        bytes in data[] (S2_IOBUF_SIZE)
 *   +8  head        bytes ever written; byte i is data[i % size]. If head > size the oldest
 *                   head - size bytes were overwritten.
 *   +12 state       S2_IOBUF_RUNNING, then S2_IOBUF_EXITED after s2_port_exit()
 *   +16 status      the exit status (valid when state == S2_IOBUF_EXITED)
 *   +20 data[size]
 * The writer stores the bytes, then (after a barrier) head, then state; a reader reads head
 * first and then the bytes.
 */
#ifndef S2_FW_IOBUF_H
#define S2_FW_IOBUF_H

#include <stdint.h>

#define S2_IOBUF_ADDR 0x00008000u  /* ORIGIN(DATA) in pe.ld with the default split */
#define S2_IOBUF_MAGIC 0x5332494Fu /* "S2IO" */
#define S2_IOBUF_RUNNING 0x52554E21u
#define S2_IOBUF_EXITED 0x45584954u
#ifndef S2_IOBUF_SIZE
#define S2_IOBUF_SIZE 1024u
#endif

struct s2_iobuf {
	volatile uint32_t magic;
	volatile uint32_t size;
	volatile uint32_t head;
	volatile uint32_t state;
	volatile int32_t status;
	volatile char data[S2_IOBUF_SIZE];
};

_Static_assert(sizeof(struct s2_iobuf) == 20 + S2_IOBUF_SIZE, "iobuf layout is a wire format");

#endif
