/* Encoder and checking decoder of the common packet header (packet.h, protocol section 2). */
#include "s2/packet.h"

#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/wire.h"

#define OFF_CRC 20u
#define OFF_TAG 24u

static uint32_t packet_crc(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4] = {0, 0, 0, 0};
	uint32_t crc = s2_crc32(0, buf, OFF_CRC);
	crc = s2_crc32(crc, zero, sizeof zero);
	return s2_crc32(crc, buf + OFF_CRC + 4, len - OFF_CRC - 4);
}

int s2_packet_encode(uint8_t *out, size_t cap, const struct s2_header *h, const void *payload,
                     size_t len)
{
	return s2_packet_encode2(out, cap, h, payload, len, NULL, 0);
}

int s2_packet_encode2(uint8_t *out, size_t cap, const struct s2_header *h, const void *p1,
                      size_t len1, const void *p2, size_t len2)
{
	if (len1 > S2_MAX_PAYLOAD || len2 > S2_MAX_PAYLOAD - len1)
		return S2_E_RANGE;
	size_t len = len1 + len2;
	if (h->flags & ~(unsigned)S2_F__DEFINED)
		return S2_E_RESERVED;
	if ((len1 && !p1) || (len2 && !p2))
		return S2_E_INVAL;

	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, S2_MAGIC);
	s2_wr_u8(&w, S2_PROTOCOL_VERSION);
	s2_wr_u8(&w, h->type);
	s2_wr_u16(&w, h->flags);
	s2_wr_u32(&w, h->seq);
	s2_wr_u16(&w, h->board);
	s2_wr_u16(&w, h->chip);
	s2_wr_u8(&w, h->pe);
	s2_wr_u8(&w, 0);
	s2_wr_u16(&w, (uint16_t)len);
	s2_wr_u32(&w, 0);
	if (h->flags & S2_F_AUTH) {
		s2_wr_bytes(&w, h->auth_tag, S2_AUTH_TAG_LEN);
	} else {
		uint8_t *tag = s2_wr_take(&w, S2_AUTH_TAG_LEN);
		if (tag)
			memset(tag, 0, S2_AUTH_TAG_LEN);
	}
	s2_wr_bytes(&w, p1, len1);
	s2_wr_bytes(&w, p2, len2);
	if (w.err)
		return w.err;
	s2_st32(out + OFF_CRC, packet_crc(out, w.pos));
	return (int)w.pos;
}

void s2_packet_set_tag(uint8_t *dgram, size_t len, const uint8_t tag[S2_AUTH_TAG_LEN])
{
	memcpy(dgram + OFF_TAG, tag, S2_AUTH_TAG_LEN);
	s2_st32(dgram + OFF_CRC, packet_crc(dgram, len));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	while (n--)
		acc |= *p++;
	return acc == 0;
}

int s2_packet_decode(const uint8_t *buf, size_t len, struct s2_header *h, const uint8_t **payload)
{
	struct s2_rd r;
	s2_rd_init(&r, buf, len);
	if (len < S2_HEADER_LEN)
		return S2_E_SHORT;
	if (s2_rd_u32(&r) != S2_MAGIC)
		return S2_E_MAGIC;
	h->version = s2_rd_u8(&r);
	if (h->version != S2_PROTOCOL_VERSION)
		return S2_E_VERSION;
	h->type = s2_rd_u8(&r);
	h->flags = s2_rd_u16(&r);
	h->seq = s2_rd_u32(&r);
	h->board = s2_rd_u16(&r);
	h->chip = s2_rd_u16(&r);
	h->pe = s2_rd_u8(&r);
	uint8_t reserved = s2_rd_u8(&r);
	h->payload_len = s2_rd_u16(&r);
	uint32_t crc = s2_rd_u32(&r);
	s2_rd_bytes(&r, h->auth_tag, S2_AUTH_TAG_LEN);
	if (r.err)
		return r.err;
	if ((h->flags & ~(unsigned)S2_F__DEFINED) || reserved)
		return S2_E_RESERVED;
	if (h->payload_len > S2_MAX_PAYLOAD || (size_t)h->payload_len != len - S2_HEADER_LEN)
		return S2_E_LENGTH;
	if (crc != packet_crc(buf, len))
		return S2_E_CRC;
	if (!(h->flags & S2_F_AUTH) && !all_zero(h->auth_tag, S2_AUTH_TAG_LEN))
		return S2_E_RESERVED;
	if (payload)
		*payload = buf + S2_HEADER_LEN;
	return 0;
}
