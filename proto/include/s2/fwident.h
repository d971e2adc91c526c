/**
 * @file fwident.h
 * @brief Firmware identity block carried inside every boot image (docs/protocol.md 4.12).
 *
 * The block sits at byte S2_FW_IDENT_OFFSET of the image, after the vector table. The
 * firmware defines it with S2_FW_IDENT_INIT in a section the linker script places there;
 * the board checks it at BOOT_END before it runs or spreads the image.
 */
#ifndef S2_FWIDENT_H
#define S2_FWIDENT_H

#include <stddef.h>
#include <stdint.h>

#define S2_FW_IDENT_OFFSET 0x200u
#define S2_FW_IDENT_LEN 40u
#define S2_FW_IDENT_MAGIC 0x57463253u /* bytes 'S' '2' 'F' 'W' */
#define S2_FW_IDENT_VERSION_LEN 24u
#define S2_FW_IMAGE_MAX (128u * 1024u) /**< a PE's SRAM: the most a boot image can fill */

enum s2_fw_kind { S2_FW_MONITOR = 1, S2_FW_APP = 2 };

/** Decoded identity. */
struct s2_fw_ident {
	uint8_t kind;     /**< enum s2_fw_kind */
	uint8_t protocol; /**< protocol version the firmware speaks */
	char version[S2_FW_IDENT_VERSION_LEN + 1];
};

#define S2_FW_IDENT_SEAL_OFFSET 8u /**< image_len, then image_crc, inside the block */

/**
 * The identity block as the firmware stores it (40 bytes, byte-exact: no padding). The
 * seal (image length and CRC) is zero in the compiled image and filled in by
 * s2_fw_ident_seal() (the build's fwseal step) once the raw image exists.
 */
struct s2_fw_ident_block {
	uint8_t head[8]; /**< magic (LE), kind, protocol, 2 reserved */
	uint8_t seal[8]; /**< image_len (LE), image_crc (LE) */
	char version[S2_FW_IDENT_VERSION_LEN];
};

_Static_assert(sizeof(struct s2_fw_ident_block) == S2_FW_IDENT_LEN, "identity block is 40 bytes");

/**
 * Initialiser of a struct s2_fw_ident_block, built from constants so it needs no code to
 * run: S2_FW_IDENT_BLOCK(S2_FW_MONITOR, S2_PROTOCOL_VERSION, "s2-monitor 0.1.0").
 */
#define S2_FW_IDENT_BLOCK(kind, protocol, version)                               \
	{                                                                        \
		{0x53, 0x32, 0x46, 0x57, (kind), (protocol), 0, 0}, {0}, version \
	}

/**
 * Find and check the identity block of a boot image, and the image against its seal.
 * Trusts nothing in image[0..len).
 * @return 0, S2_E_SHORT if the image ends before the block, S2_E_MAGIC if the magic is
 *         wrong, S2_E_RESERVED if reserved bytes are set, S2_E_FORMAT if the version string
 *         is not printable ASCII followed by NUL padding or the image is not sealed,
 *         S2_E_RANGE for an unknown kind, S2_E_LENGTH if len is not the sealed length
 *         (a truncated or padded image), S2_E_CRC if the bytes are not the sealed ones.
 */
int s2_fw_ident_decode(const uint8_t *image, size_t len, struct s2_fw_ident *id);

/**
 * The image CRC the seal records: CRC-32 (crc32.h) of image[0..len) with the four
 * image_crc bytes counted as zero. len must be at least S2_FW_IDENT_OFFSET + S2_FW_IDENT_LEN.
 */
uint32_t s2_fw_ident_image_crc(const uint8_t *image, size_t len);

/**
 * Seal an image in place: write its length and CRC into its identity block.
 * @return 0, S2_E_SHORT if the image has no room for the block, S2_E_MAGIC if there is no
 *         block, S2_E_RANGE if len exceeds S2_FW_IMAGE_MAX.
 */
int s2_fw_ident_seal(uint8_t *image, size_t len);

#endif
