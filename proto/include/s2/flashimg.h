/**
 * @file flashimg.h
 * @brief Board flash images (docs/protocol.md 4.14): what `s2ctl flash` writes into a flash
 * slot of a board and what the board boots at power-on.
 *
 * A flash image is a 64-byte header followed by a payload: the sealed monitor boot image
 * (fwident.h) and optionally further data. The header names the board type the image is
 * for, its version, the length and CRC-32 of the whole payload, and carries its own CRC.
 * Little-endian:
 *   off  size  field
 *     0     4  magic        0x49463253, the bytes 'S' '2' 'F' 'I'
 *     4     2  format       1
 *     6     2  board_type   S2_BOARD_TYPE_*
 *     8     4  total_len    header + payload, bytes
 *    12     4  payload_crc  CRC-32 of bytes [64, total_len)
 *    16    32  version      NUL-padded printable ASCII
 *    48     4  monitor_off  offset of the monitor image (>= 64)
 *    52     4  monitor_len  its length
 *    56     4  reserved     zero
 *    60     4  header_crc   CRC-32 of bytes [0, 60)
 */
#ifndef S2_FLASHIMG_H
#define S2_FLASHIMG_H

#include <stddef.h>
#include <stdint.h>

#define S2_FLASHIMG_MAGIC 0x49463253u
#define S2_FLASHIMG_FORMAT 1u
#define S2_FLASHIMG_HDR_LEN 64u
#define S2_FLASHIMG_MAX (4u << 20) /**< the largest image a standard board's slot holds */
#define S2_FLASHIMG_VERSION_LEN 32u

/** Board types. */
enum s2_board_type {
	S2_BOARD_TYPE_S2_48 = 1, /**< SpiNNaker2 48-chip board */
};

/** A decoded flash image header. */
struct s2_flashimg {
	uint16_t board_type;
	uint32_t total_len, payload_crc;
	char version[S2_FLASHIMG_VERSION_LEN + 1];
	uint32_t monitor_off, monitor_len;
};

/**
 * Check only the header of a flash image (the first S2_FLASHIMG_HDR_LEN bytes).
 * @return 0, S2_E_SHORT, S2_E_MAGIC, S2_E_VERSION (format), S2_E_CRC (header CRC),
 *         S2_E_RESERVED, S2_E_FORMAT (version string), S2_E_RANGE (lengths/offsets).
 */
int s2_flashimg_decode_header(const uint8_t *buf, size_t len, struct s2_flashimg *fi);

/**
 * Check a whole flash image in buf[0..len): the header, total_len == len, the payload CRC,
 * and that the monitor section is a sealed monitor image (fwident.h) for this protocol.
 * Trusts nothing. @return 0, or the code of the first failed check (S2_E_LENGTH for a
 * truncated or padded image, S2_E_CRC for damage, S2_E_FORMAT for a bad monitor section).
 */
int s2_flashimg_decode(const uint8_t *buf, size_t len, struct s2_flashimg *fi);

/**
 * Build a flash image in out[0..cap): header, then the monitor image, then extra (may be
 * NULL/0). @return the image length, or S2_E_NOSPACE, S2_E_RANGE (too large or empty
 * monitor), S2_E_FORMAT (version not printable or too long).
 */
long s2_flashimg_pack(uint8_t *out, size_t cap, uint16_t board_type, const char *version,
                      const uint8_t *monitor, size_t monitor_len, const uint8_t *extra,
                      size_t extra_len);

#endif
