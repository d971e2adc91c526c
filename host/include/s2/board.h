/**
 * @file board.h
 * @brief Board operations on top of the transport: boot, memory, chip survey, signals,
 * power (docs/protocol.md section 4).
 *
 * Every operation is asynchronous and reports into a struct s2_op, so operations on many
 * boards run in one event loop at once: start them all, then s2_client_wait(). Each has a
 * synchronous wrapper (suffix _sync) for one board.
 */
#ifndef S2_BOARD_H
#define S2_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"
#include "s2/transport.h"

/** Progress and outcome of one operation on one board. */
struct s2_op {
	int status;           /**< 0, or the first error (a negative S2_E_ code) */
	char what[96];        /**< with status < 0: the step that failed ("BOOT_DATA block 3") */
	uint64_t done, total; /**< bytes or items done / to do (for progress bars) */
	size_t outstanding;   /**< requests in flight for this op */
	void (*progress)(void *arg); /**< optional: called as done grows */
	void *progress_arg;
	/* operation state, private */
	void *priv;
};

/** Reset op before use; progress may be NULL. */
void s2_op_init(struct s2_op *op, void (*progress)(void *arg), void *arg);

/**
 * Boot a board: BOOT_START, every block (windowed, in parallel), BOOT_END.
 * image must stay valid until the op completes. On success *status_out (if not NULL when
 * the op completes) holds the board status the board reported.
 * @return 0 if started (the outcome is op->status after s2_client_wait), or S2_E_NOMEM.
 */
int s2_boot_start(struct s2_conn *conn, const uint8_t *image, size_t len, uint16_t block_size,
                  struct s2_op *op, struct s2_msg_board_status *status_out);

/** Write len bytes at addr of a space (chip DRAM, or the SRAM of pe), in 1 KiB requests. */
int s2_mem_write_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space,
                       uint32_t addr, const void *data, size_t len, struct s2_op *op);

/** Read len bytes into out (which must stay valid until the op completes). */
int s2_mem_read_start(struct s2_conn *conn, uint16_t chip, uint8_t pe, uint8_t space, uint32_t addr,
                      void *out, size_t len, struct s2_op *op);

/**
 * CHIP_INFO from every chip whose bit is set in chips: info[c] and chip_status[c] (0 or
 * a negative code, e.g. S2_E_DEAD) are filled for each.
 */
int s2_survey_start(struct s2_conn *conn, uint64_t chips, struct s2_msg_chip_info *info,
                    int *chip_status, struct s2_op *op);

/**
 * SCRUB (protocol 4.20) to the monitor of every chip whose bit is set in chips: `scrub_op`
 * S2_SCRUB_START starts a scrub (application PEs stop; their SRAM and the chip's DRAM are
 * zeroed and read back on the chip), S2_SCRUB_STATUS asks how far it is. rep[c] and
 * chip_status[c] (0 or a negative code) are filled for each chip. A chip that does not answer
 * fails the op; the scrub's own outcome is in rep[c].state (S2_SCRUB_DONE only when every
 * byte was zeroed and read back as zero). The host polls STATUS until no chip is
 * S2_SCRUB_RUNNING, within a bound of its choosing.
 */
int s2_scrub_start(struct s2_conn *conn, uint64_t chips, uint8_t scrub_op,
                   struct s2_msg_scrub_rep *rep, int *chip_status, struct s2_op *op);

/**
 * One request with a small reply body copied to reply[0..cap) (*reply_len set). Used for
 * DISCOVER, BOARD_STATUS, CORE_STATES, IOBUF, SIGNAL, BMP_INFO, BMP_POWER.
 */
int s2_simple_start(struct s2_conn *conn, uint8_t type, uint16_t chip, uint8_t pe, const void *body,
                    size_t len, void *reply, size_t cap, size_t *reply_len, struct s2_op *op);

/** Run a started op on conn's client to completion; returns op->status. */
int s2_op_wait(struct s2_client *c, struct s2_op *op);

#endif
