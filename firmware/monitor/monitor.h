/**
 * @file monitor.h
 * @brief The monitor's command handler: what PE 0 of every chip answers (protocol 4.5-4.9).
 *
 * One source for every build. The monitor owns the chip's view of its PEs (alive, state)
 * and answers CHIP_INFO, MEM_READ, MEM_WRITE, CORE_STATES, IOBUF and SIGNAL. It reaches
 * memory and logs only through a s2_mon_hal table, so the same code runs on a Cortex-M4F
 * (HAL over the chip's address map), under QEMU (HAL over test arrays) and in s2emu (HAL
 * over the emulator's sparse chip memory). No allocation: a struct s2_monitor is
 * everything, placed by the caller.
 */
#ifndef S2_FW_MONITOR_H
#define S2_FW_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"
#include "s2/packet.h"

/** Hardware access for the monitor. Every function returns 0 or a negative S2_E_ code. */
struct s2_mon_hal {
	/** Read len bytes at addr of a space (S2_MEM_DRAM, or S2_MEM_SRAM of PE pe).
	 * The monitor has checked the range; the HAL only moves bytes. */
	int (*mem_read)(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, uint8_t *dst,
	                uint16_t len);
	int (*mem_write)(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, const uint8_t *src,
	                 uint16_t len);
	/** Append text to the log of PE pe (S2_PE_MONITOR: the monitor's own log). */
	void (*log)(void *ctx, uint8_t pe, const char *text, size_t len);
	/** Read a log from stream offset `offset` (see struct s2_msg_iobuf_rep). */
	int (*log_read)(void *ctx, uint8_t pe, uint32_t offset, uint8_t *dst, uint16_t max,
	                uint32_t *total, uint32_t *start, uint16_t *n);
	/** Optional (NULL: the monitor uses mem_write): write len zero bytes at addr. */
	int (*mem_zero)(void *ctx, uint8_t space, uint8_t pe, uint64_t addr, uint32_t len);
	/** Optional (NULL: the monitor uses mem_read): 0 if [addr, addr+len) reads all zero,
	 * 1 and *at = offset of the first non-zero byte otherwise, or a negative S2_E_ code. */
	int (*mem_find_nonzero)(void *ctx, uint8_t space, uint8_t pe, uint64_t addr, uint32_t len,
	                        uint32_t *at);
};

/** What the monitor knows of its chip after its boot-time self test. */
struct s2_mon_config {
	uint16_t chip;       /**< index within the board */
	uint8_t pes;         /**< PEs on the chip, <= S2_MAX_CHIP_PES */
	uint8_t monitor_pe;  /**< the PE the monitor runs on */
	uint8_t links_alive; /**< bit l: link l works */
	uint8_t pe_alive[S2_PE_BITMAP_LEN];
	uint32_t sram_per_pe; /**< bytes */
	uint32_t router_entries;
	uint64_t dram_bytes;
};

/** A scrub in progress or its outcome (protocol 4.20). */
struct s2_mon_scrub {
	struct s2_msg_scrub_rep rep;   /**< what SCRUB status answers */
	uint8_t pes[S2_PE_BITMAP_LEN]; /**< PEs whose SRAM is scrubbed */
	uint16_t region;               /**< cursor: PE index, or cfg.pes for DRAM */
	uint64_t off;                  /**< cursor within the region */
};

struct s2_monitor {
	const struct s2_mon_hal *hal;
	void *ctx;
	struct s2_mon_config cfg;
	uint8_t state[S2_MAX_CHIP_PES]; /**< enum s2_pe_state */
	uint32_t requests;              /**< commands handled */
	uint32_t errors;                /**< commands answered with an error */
	struct s2_mon_scrub scrub;
};

/** The monitor's version string as it appears in CHIP_INFO. */
extern const char s2_monitor_version[];

/**
 * Initialise m for a chip: PEs alive per cfg are idle, the rest dead, the monitor PE is
 * the monitor. Logs a start-up line. hal and ctx must outlive m.
 * @return 0, or S2_E_RANGE if cfg is inconsistent (too many PEs, monitor PE dead).
 */
int s2_monitor_init(struct s2_monitor *m, const struct s2_mon_hal *hal, void *ctx,
                    const struct s2_mon_config *cfg);

/**
 * Handle one request for this chip.
 * @param type  message type (packet header)
 * @param pe    header's pe field
 * @param body  request body, trusted for nothing
 * @param out   reply body buffer of cap bytes (S2_MAX_PAYLOAD suffices)
 * @return reply body length (>= 0), or a negative S2_E_ code to send as an error reply.
 */
int s2_monitor_handle(struct s2_monitor *m, uint8_t type, uint8_t pe, const uint8_t *body,
                      size_t len, uint8_t *out, size_t cap);

/**
 * Do up to `budget` bytes of the scrub's work (zeroing, then reading back). The platform
 * calls it whenever it is idle (between packets); SCRUB only starts a scrub and reports.
 * @return 1 while the scrub still runs, 0 when none runs.
 */
int s2_monitor_scrub_step(struct s2_monitor *m, uint64_t budget);

#endif
