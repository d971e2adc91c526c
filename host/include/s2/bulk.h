/**
 * @file bulk.h
 * @brief Bulk data in and out of chip memory (docs/protocol.md section 4.16).
 *
 * A region (bytes of one chip's DRAM or one PE's SRAM) travels as numbered blocks of up to
 * 1416 raw bytes, each zlib-compressed when that is shorter, each with its CRC-32, one block
 * per datagram. Blocks are streamed without individual replies; the receiver acknowledges
 * them selectively (BULK_SACK) and the sender keeps a window of blocks in flight,
 * retransmitting a block when a block sent after it has been acknowledged, or when nothing
 * progressed for a timeout derived from the conn's measured round-trip time. A whole-region
 * CRC-32 ends every transfer. No fixed sleeps anywhere.
 *
 * Operations report into a struct s2_op (board.h), so transfers to many chips of many
 * boards run in one event loop at once: start them all, then s2_client_wait().
 */
#ifndef S2_BULK_H
#define S2_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"
#include "s2/transport.h"

/** Tuning; s2_bulk_defaults() fills the documented defaults. */
struct s2_bulk_opts {
	uint16_t block_size; /**< raw bytes per block, 64..1416 (default 1416) */
	unsigned window;     /**< blocks unacknowledged in flight, 1..1024 (default 256) */
	bool compress;       /**< zlib blocks that shrink (default true) */
	unsigned max_stalls; /**< timeouts in a row without progress before S2_E_TIMEOUT (10) */
};

/** Fill o with the defaults above (every field; nothing is allocated). */
void s2_bulk_defaults(struct s2_bulk_opts *o);

/** Counters of transfers; an op adds to the struct it was given (which may be shared). */
struct s2_bulk_stats {
	uint64_t regions;     /**< transfers completed successfully */
	uint64_t blocks;      /**< distinct blocks delivered */
	uint64_t blocks_sent; /**< BULK_DATA datagrams sent or received, duplicates included */
	uint64_t retransmits; /**< writes: blocks sent again (reads: see duplicates) */
	uint64_t duplicates;  /**< blocks received more than once (reads) */
	uint64_t bad_blocks;  /**< blocks rejected: CRC, length, zlib (either end) */
	uint64_t sacks;       /**< BULK_SACK datagrams sent or received */
	uint64_t timeouts;    /**< stalls: BULK_POLL (writes) or timeout SACK (reads) sent */
	uint64_t bytes_raw;   /**< payload: raw region bytes transferred */
	uint64_t bytes_data;  /**< BULK_DATA datagram bytes (headers included), both ways */
	uint64_t bytes_sack;  /**< BULK_SACK datagram bytes */
	uint64_t compressed;  /**< blocks that travelled zlib-compressed */
};

/**
 * Write len bytes of data to addr in a space (S2_MEM_DRAM of chip, or S2_MEM_SRAM of PE pe)
 * with the default options (as the _ex call with NULL options). data must stay valid until the op
 * completes.
 * @return 0 if started (outcome in op->status after s2_client_wait()), S2_E_RANGE for a bad
 *         length or address, S2_E_NOMEM.
 */
int s2_bulk_write_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                        uint32_t addr, const void *data, size_t len, struct s2_op *op);

/** Read len bytes into out (valid until the op completes) with the default options. */
int s2_bulk_read_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                       uint32_t addr, void *out, size_t len, struct s2_op *op);

/** As above, with options (NULL: defaults, but max_stalls the client's max_attempts + 2,
 * s2/transport.h) and counters (NULL: none). */
int s2_bulk_write_start_ex(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                           uint32_t addr, const void *data, size_t len,
                           const struct s2_bulk_opts *o, struct s2_bulk_stats *st,
                           struct s2_op *op);
/** s2_bulk_read_start with options (NULL: as for writes) and counters (NULL: none); out must stay
 * valid until the op completes. 0, or an S2_E_ code if the transfer cannot start (op not
 * started). */
int s2_bulk_read_start_ex(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                          uint32_t addr, void *out, size_t len, const struct s2_bulk_opts *o,
                          struct s2_bulk_stats *st, struct s2_op *op);

#endif
