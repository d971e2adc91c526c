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
#define S2_FW_IDENT_LEN 32u
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

/** The identity block as the firmware stores it (32 bytes, byte-exact: no padding). */
struct s2_fw_ident_block {
	uint8_t head[8]; /**< magic (LE), kind, protocol, 2 reserved */
	char version[S2_FW_IDENT_VERSION_LEN];
};

_Static_assert(sizeof(struct s2_fw_ident_block) == S2_FW_IDENT_LEN, "identity block is 32 bytes");

/**
 * Initialiser of a struct s2_fw_ident_block, built from constants so it needs no code to
 * run: S2_FW_IDENT_BLOCK(S2_FW_MONITOR, S2_PROTOCOL_VERSION, "s2-monitor 0.1.0").
 */
#define S2_FW_IDENT_BLOCK(kind, protocol, version)                                     \
	{{0x53, 0x32, 0x46, 0x57, (kind), (protocol), 0, 0}, version}

/**
 * Find and check the identity block of a boot image. Trusts nothing in image[0..len).
 * @return 0, S2_E_SHORT if the image ends before the block, S2_E_MAGIC if the magic is
 *         wrong, S2_E_RESERVED if reserved bytes are set, S2_E_FORMAT if the version string
 *         is not printable ASCII followed by NUL padding, S2_E_RANGE for an unknown kind.
 */
int s2_fw_ident_decode(const uint8_t *image, size_t len, struct s2_fw_ident *id);

#endif
