/**
 * @file packet.h
 * @brief The common s2 packet header (docs/protocol.md section 2).
 *
 * Every UDP datagram between host and board (both endpoints: the Ethernet chip and the
 * board controller) is one packet: a 40-byte header followed by payload_len bytes of
 * payload, nothing after. Layout, little-endian:
 *
 *   off size field
 *     0    4 magic        S2_MAGIC ("S2NP" in byte order)
 *     4    1 version      S2_PROTOCOL_VERSION
 *     5    1 type         message type (section 4); the header codec does not judge it
 *     6    2 flags        S2_F_* bits; undefined bits must be zero
 *     8    4 seq          sequence number chosen by the requester, echoed in the reply
 *    12    2 board        board index in the machine (S2_ADDR_ANY: the receiving board)
 *    14    2 chip         chip index within the board (S2_ADDR_ANY: the endpoint chip)
 *    16    1 pe           PE within the chip (S2_PE_MONITOR: the chip's monitor)
 *    17    1 reserved     zero
 *    18    2 payload_len  bytes of payload, at most S2_MAX_PAYLOAD
 *    20    4 crc          CRC-32 (section 3) over the datagram with this field zeroed
 *    24   16 auth_tag     authentication tag, all zero unless S2_F_AUTH (section 2.3)
 *    40    - payload
 */
#ifndef S2_PACKET_H
#define S2_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define S2_MAGIC 0x504E3253u /* bytes 'S' '2' 'N' 'P' */
#define S2_PROTOCOL_VERSION 1u
#define S2_HEADER_LEN 40u
#define S2_AUTH_TAG_LEN 16u
/* Largest datagram that crosses a 1500-byte-MTU Ethernet link unfragmented (IPv4+UDP). */
#define S2_MAX_DATAGRAM 1472u
#define S2_MAX_PAYLOAD (S2_MAX_DATAGRAM - S2_HEADER_LEN)

#define S2_ADDR_ANY 0xFFFFu
#define S2_PE_MONITOR 0xFFu

/** Header flag bits (section 2.2). */
enum s2_flags {
	S2_F_REPLY = 1u << 0,  /**< this packet answers the request with the same seq */
	S2_F_ERROR = 1u << 1,  /**< reply carries a status error (payload: int32 code) */
	S2_F_AUTH = 1u << 2,   /**< auth_tag is valid (section 2.3) */
	S2_F_ACKREQ = 1u << 3, /**< the sender wants an acknowledgement */
	S2_F__DEFINED = 0x000Fu
};

/** A decoded header. The payload is not copied: see s2_packet_decode(). */
struct s2_header {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t seq;
	uint16_t board;
	uint16_t chip;
	uint8_t pe;
	uint16_t payload_len;
	uint8_t auth_tag[S2_AUTH_TAG_LEN];
};

/**
 * Encode one packet: header h (its version is ignored and S2_PROTOCOL_VERSION written;
 * its payload_len is ignored and len written) followed by payload[0..len), with the CRC
 * filled in.
 * @param out  destination of at least S2_HEADER_LEN + len bytes
 * @param cap  size of out
 * @return the datagram length (> 0), or S2_E_NOSPACE if out is too small, S2_E_RANGE if
 *         len > S2_MAX_PAYLOAD, S2_E_RESERVED if h->flags has undefined bits.
 */
int s2_packet_encode(uint8_t *out, size_t cap, const struct s2_header *h, const void *payload,
                     size_t len);

/** s2_packet_encode with the payload in two parts: p1[0..len1) then p2[0..len2). */
int s2_packet_encode2(uint8_t *out, size_t cap, const struct s2_header *h, const void *p1,
                      size_t len1, const void *p2, size_t len2);

/**
 * Store an authentication tag into an encoded datagram dgram[0..len) (which must have
 * S2_F_AUTH set) and recompute its CRC (docs/protocol.md 2.3: the tag lies inside the CRC).
 */
void s2_packet_set_tag(uint8_t *dgram, size_t len, const uint8_t tag[S2_AUTH_TAG_LEN]);

/**
 * Decode and check one received datagram. Trusts nothing in buf[0..len). Checks, in this
 * order (the first failure is returned): len >= S2_HEADER_LEN (S2_E_SHORT); magic
 * (S2_E_MAGIC); version (S2_E_VERSION); undefined flag bits and the reserved byte
 * (S2_E_RESERVED); payload_len <= S2_MAX_PAYLOAD and S2_HEADER_LEN + payload_len == len
 * (S2_E_LENGTH); CRC (S2_E_CRC). A tag with S2_F_AUTH clear must be all zero
 * (S2_E_RESERVED).
 * @param h        filled on success; untouched contents are unspecified on failure
 * @param payload  set to point into buf at the payload on success (may be NULL)
 * @return 0 or a negative S2_E... code.
 */
int s2_packet_decode(const uint8_t *buf, size_t len, struct s2_header *h, const uint8_t **payload);

#endif
