/* Board flash images (flashimg.h, protocol section 4.14). */
#include "s2/flashimg.h"

#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/fwident.h"
#include "s2/packet.h"
#include "s2/wire.h"

int s2_flashimg_decode_header(const uint8_t *buf, size_t len, struct s2_flashimg *fi)
{
	if (len < S2_FLASHIMG_HDR_LEN)
		return S2_E_SHORT;
	if (s2_ld32(buf) != S2_FLASHIMG_MAGIC)
		return S2_E_MAGIC;
	if (s2_ld16(buf + 4) != S2_FLASHIMG_FORMAT)
		return S2_E_VERSION;
	if (s2_crc32(0, buf, 60) != s2_ld32(buf + 60))
		return S2_E_CRC;
	if (s2_ld32(buf + 56) != 0)
		return S2_E_RESERVED;
	fi->board_type = s2_ld16(buf + 6);
	fi->total_len = s2_ld32(buf + 8);
	fi->payload_crc = s2_ld32(buf + 12);
	const uint8_t *v = buf + 16;
	size_t n = 0;
	while (n < S2_FLASHIMG_VERSION_LEN && v[n]) {
		if (v[n] < 0x20 || v[n] > 0x7E)
			return S2_E_FORMAT;
		n++;
	}
	for (size_t i = n; i < S2_FLASHIMG_VERSION_LEN; i++)
		if (v[i])
			return S2_E_FORMAT;
	memcpy(fi->version, v, n);
	fi->version[n] = 0;
	fi->monitor_off = s2_ld32(buf + 48);
	fi->monitor_len = s2_ld32(buf + 52);
	if (fi->total_len < S2_FLASHIMG_HDR_LEN || fi->total_len > S2_FLASHIMG_MAX ||
	    fi->monitor_off < S2_FLASHIMG_HDR_LEN || fi->monitor_len == 0 ||
	    fi->monitor_len > S2_FW_IMAGE_MAX || fi->monitor_off > fi->total_len ||
	    fi->monitor_len > fi->total_len - fi->monitor_off)
		return S2_E_RANGE;
	return 0;
}

int s2_flashimg_decode(const uint8_t *buf, size_t len, struct s2_flashimg *fi)
{
	int rc = s2_flashimg_decode_header(buf, len, fi);
	if (rc < 0)
		return rc;
	if (fi->total_len != len)
		return S2_E_LENGTH;
	if (s2_crc32(0, buf + S2_FLASHIMG_HDR_LEN, len - S2_FLASHIMG_HDR_LEN) != fi->payload_crc)
		return S2_E_CRC;
	struct s2_fw_ident id;
	rc = s2_fw_ident_decode(buf + fi->monitor_off, fi->monitor_len, &id);
	if (rc < 0 || id.kind != S2_FW_MONITOR || id.protocol != S2_PROTOCOL_VERSION)
		return S2_E_FORMAT;
	return 0;
}

long s2_flashimg_pack(uint8_t *out, size_t cap, uint16_t board_type, const char *version,
                      const uint8_t *monitor, size_t monitor_len, const uint8_t *extra,
                      size_t extra_len)
{
	if (monitor_len == 0 || monitor_len > S2_FW_IMAGE_MAX ||
	    extra_len > S2_FLASHIMG_MAX - S2_FLASHIMG_HDR_LEN - monitor_len)
		return S2_E_RANGE;
	size_t total = S2_FLASHIMG_HDR_LEN + monitor_len + extra_len;
	if (total > cap)
		return S2_E_NOSPACE;
	size_t n = 0;
	while (version[n]) {
		if (n == S2_FLASHIMG_VERSION_LEN || version[n] < 0x20 || version[n] > 0x7E)
			return S2_E_FORMAT;
		n++;
	}
	memset(out, 0, S2_FLASHIMG_HDR_LEN);
	memcpy(out + S2_FLASHIMG_HDR_LEN, monitor, monitor_len);
	if (extra_len)
		memcpy(out + S2_FLASHIMG_HDR_LEN + monitor_len, extra, extra_len);
	s2_st32(out, S2_FLASHIMG_MAGIC);
	s2_st16(out + 4, S2_FLASHIMG_FORMAT);
	s2_st16(out + 6, board_type);
	s2_st32(out + 8, (uint32_t)total);
	s2_st32(out + 12, s2_crc32(0, out + S2_FLASHIMG_HDR_LEN, total - S2_FLASHIMG_HDR_LEN));
	memcpy(out + 16, version, n);
	s2_st32(out + 48, S2_FLASHIMG_HDR_LEN);
	s2_st32(out + 52, (uint32_t)monitor_len);
	s2_st32(out + 60, s2_crc32(0, out, 60));
	return (long)total;
}
