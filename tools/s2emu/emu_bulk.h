/*
 * Bulk transfers on an emulated board (docs/protocol.md section 4.16): the Ethernet chip
 * keeps the state of each open region, checks and forwards BULK_DATA blocks over the mesh
 * to the target chip's memory, acknowledges them with BULK_SACK, and streams regions out
 * for BULK_READ, paced by the host's SACKs. It never waits on a timer: the host drives
 * recovery.
 */
#ifndef S2EMU_BULK_H
#define S2EMU_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "s2/packet.h"

struct emu_board;

/**
 * Datagrams handled outside the request/reply path: BULK_DATA and BULK_SACK (never
 * answered, never cached) return true. BULK_BEGIN and BULK_READ only note the sender (where
 * SACKs and data go) and return false, to be answered by emu_bulk_request().
 */
bool emu_bulk_datagram(struct emu_board *b, int fd, const struct s2_header *h, const uint8_t *p,
                       const struct sockaddr_storage *from, socklen_t fromlen);

/** BULK_BEGIN, BULK_POLL, BULK_END, BULK_READ: reply body length or a negative S2_E_ code. */
int emu_bulk_request(struct emu_board *b, const struct s2_header *h, const uint8_t *p, uint8_t *out,
                     size_t cap);

/** Forget every region (unboot, power off, free). */
void emu_bulk_reset(struct emu_board *b);

#endif
