/* Checking decoder of the firmware identity block (fwident.h, protocol section 4.12). */
#include "s2/fwident.h"

#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/wire.h"

int s2_fw_ident_decode(const uint8_t *image, size_t len, struct s2_fw_ident *id)
{
	if (len < S2_FW_IDENT_OFFSET + S2_FW_IDENT_LEN)
		return S2_E_SHORT;
	struct s2_rd r;
	s2_rd_init(&r, image + S2_FW_IDENT_OFFSET, S2_FW_IDENT_LEN);
	if (s2_rd_u32(&r) != S2_FW_IDENT_MAGIC)
		return S2_E_MAGIC;
	id->kind = s2_rd_u8(&r);
	id->protocol = s2_rd_u8(&r);
	if (s2_rd_u16(&r) != 0)
		return S2_E_RESERVED;
	uint32_t image_len = s2_rd_u32(&r), image_crc = s2_rd_u32(&r);
	const uint8_t *v = s2_rd_take(&r, S2_FW_IDENT_VERSION_LEN);
	size_t n = 0;
	while (n < S2_FW_IDENT_VERSION_LEN && v[n]) {
		if (v[n] < 0x20 || v[n] > 0x7E)
			return S2_E_FORMAT;
		n++;
	}
	for (size_t i = n; i < S2_FW_IDENT_VERSION_LEN; i++)
		if (v[i])
			return S2_E_FORMAT;
	memcpy(id->version, v, n);
	id->version[n] = 0;
	if (id->kind != S2_FW_MONITOR && id->kind != S2_FW_APP)
		return S2_E_RANGE;
	if (image_len == 0)
		return S2_E_FORMAT; /* never sealed */
	if (image_len != len)
		return S2_E_LENGTH;
	if (s2_fw_ident_image_crc(image, len) != image_crc)
		return S2_E_CRC;
	return 0;
}

uint32_t s2_fw_ident_image_crc(const uint8_t *image, size_t len)
{
	static const uint8_t zero[4];
	size_t at = S2_FW_IDENT_OFFSET + S2_FW_IDENT_SEAL_OFFSET + 4;
	uint32_t crc = s2_crc32(0, image, at);
	crc = s2_crc32(crc, zero, sizeof zero);
	return s2_crc32(crc, image + at + 4, len - at - 4);
}

int s2_fw_ident_seal(uint8_t *image, size_t len)
{
	if (len < S2_FW_IDENT_OFFSET + S2_FW_IDENT_LEN)
		return S2_E_SHORT;
	if (len > S2_FW_IMAGE_MAX)
		return S2_E_RANGE;
	uint8_t *blk = image + S2_FW_IDENT_OFFSET;
	if (s2_ld32(blk) != S2_FW_IDENT_MAGIC)
		return S2_E_MAGIC;
	s2_st32(blk + S2_FW_IDENT_SEAL_OFFSET, (uint32_t)len);
	s2_st32(blk + S2_FW_IDENT_SEAL_OFFSET + 4, s2_fw_ident_image_crc(image, len));
	return 0;
}
