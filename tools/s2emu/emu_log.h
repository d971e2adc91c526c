/*
 * Emulated iobuf: a ring of text per PE (and one per monitor), allocated on first write.
 * Offsets are positions in the endless stream of bytes ever written, as in protocol 4.8.
 */
#ifndef S2EMU_LOG_H
#define S2EMU_LOG_H

#include <stddef.h>
#include <stdint.h>

struct emu_log {
	uint32_t total; /**< bytes ever written */
	uint32_t cap;   /**< ring size, 0 until the first write */
	char *data;
};

/** Append; allocates cap bytes on the first write. 0 or S2_E_NOMEM. */
int emu_log_write(struct emu_log *l, uint32_t cap, const char *text, size_t len);

/** Read from stream offset `offset` (protocol 4.8 semantics). */
void emu_log_read(const struct emu_log *l, uint32_t offset, uint8_t *dst, uint16_t max,
                  uint32_t *total, uint32_t *start, uint16_t *n);

void emu_log_free(struct emu_log *l);

#endif
