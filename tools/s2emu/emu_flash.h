/*
 * The board controller's flash: two image slots persisted to a file per board, the
 * power-on choice of image, and the FLASH_* requests (emu_flash.c).
 */
#ifndef S2EMU_FLASH_H
#define S2EMU_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"

struct emu_board;

struct emu_flash_slot {
	uint8_t state; /**< enum s2_flash_state */
	uint32_t seq, length, crc;
	char version[S2_VERSION_STR_LEN + 1];
};

struct emu_flash {
	int fd;       /**< the board's flash file, or -1: flash in memory */
	uint8_t *mem; /**< in-memory flash (fd < 0), allocated at the first FLASH_BEGIN */
	struct emu_flash_slot slot[S2_FLASH_SLOTS];
	uint8_t booted_slot; /**< S2_FLASH_NO_SLOT if the board did not boot from flash */
	uint64_t writes;     /**< program operations */
};

/** Open (creating) DIR/board-B.flash, or in-memory flash when dir is NULL. */
int emu_flash_open(struct emu_flash *f, const char *dir, unsigned board);
void emu_flash_close(struct emu_flash *f);

/**
 * Power-on: boot the newest bootable slot (marking a first attempt TRYING, then GOOD; an
 * image that fails, or a TRYING left by an earlier attempt, becomes BAD and the other slot
 * is tried). @return 0 if the board booted from flash, S2_E_NOTFOUND if nothing bootable.
 */
int emu_flash_power_on(struct emu_flash *f, struct emu_board *b);

/** Handle FLASH_STATUS/BEGIN/DATA/READ/COMMIT. Returns the reply length or an S2_E_ code. */
int emu_flash_request(struct emu_flash *f, uint8_t type, const uint8_t *p, size_t len, uint8_t *out,
                      size_t cap);

/** Fault: after `after` more program operations the power fails (SIGKILL); with torn, the
 * failing write lands half-way. -1: never. */
void emu_flash_set_power_cut(long long after, bool torn);
/** Fault: flash images of this version fail to boot (a firmware that crashes). */
void emu_flash_set_boot_fail(const char *version);

#endif
