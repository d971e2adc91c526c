/**
 * @file flash.h
 * @brief Writing board flash (docs/protocol.md 4.13-4.14, docs/cli/flash.md).
 *
 * Flashing one board: FLASH_STATUS (board type, slots), FLASH_BEGIN on the slot the board
 * is not running, every block as FLASH_DATA (zlib-compressed where that helps, CRC per
 * block, windowed), FLASH_READ of the whole slot compared with the image (read-back
 * verification), FLASH_COMMIT (the board checks length, CRC and the image and makes the
 * slot the newest valid one: the atomic switch), FLASH_STATUS again. The new image boots at
 * the board's next power-on; the previous one stays as the fallback.
 *
 * A plan (the image cut into compressed blocks) is made once and shared by every board.
 */
#ifndef S2_FLASH_H
#define S2_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"
#include "s2/flashimg.h"
#include "s2/msg.h"

struct s2_flash_plan;

/**
 * Check a flash image (s2_flashimg_decode) and cut it into blocks.
 * @param image  must stay valid while the plan is used
 * @return a plan, or NULL with *err set (S2_E_NOMEM or the image's decode error).
 */
struct s2_flash_plan *s2_flash_plan_new(const uint8_t *image, size_t len, int *err);
/** Free a plan (not the image it points into); NULL is allowed. */
void s2_flash_plan_free(struct s2_flash_plan *p);
/** The decoded image header. */
const struct s2_flashimg *s2_flash_plan_image(const struct s2_flash_plan *p);
/** Blocks, and bytes of FLASH_DATA payload they take on the wire. */
size_t s2_flash_plan_blocks(const struct s2_flash_plan *p);
/** Bytes of FLASH_DATA payload the blocks take on the wire. */
size_t s2_flash_plan_wire_bytes(const struct s2_flash_plan *p);

/** What one board's flash looked like before and after. */
struct s2_flash_result {
	struct s2_msg_flash_status before, after;
	uint8_t slot; /**< the slot written */
};

/**
 * Flash one board. Progress (op->done/total) counts image bytes written then read back.
 * Refused before anything is written, with op->status: S2_E_FORMAT if the image is for
 * another board type, S2_E_RANGE if it does not fit a slot, S2_E_STATE if the board is not
 * powered (its controller says so).
 * @return 0 if started, or S2_E_NOMEM.
 */
int s2_flash_start(struct s2_conn *bmp, const struct s2_flash_plan *plan, struct s2_op *op,
                   struct s2_flash_result *out);

/** FLASH_STATUS of one board into *st. */
int s2_flash_status_start(struct s2_conn *bmp, struct s2_msg_flash_status *st, struct s2_op *op);

/** Text name of a slot state ("valid", "good", ...). */
const char *s2_flash_state_name(unsigned state);

#endif
