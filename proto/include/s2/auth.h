/**
 * @file auth.h
 * @brief The authenticated packet (docs/protocol.md section 2.3): the trailer that ends the
 *        payload of a packet with S2_F_AUTH, the tag, and the board's MAC.
 *
 * An authenticated packet carries, as the last S2_AUTH_TRAILER_LEN bytes of its payload
 * (counted in payload_len), a trailer, little-endian:
 *
 *   off size field
 *     0    4 key_id   which key made the tag (the board's key table)
 *     4    4 counter  per session, from 1 up; a reply echoes its request's
 *     8    8 session  the sender's session: its start time in microseconds since the Unix
 *                     epoch, shifted left 12 bits, with 12 random low bits
 *
 * and in the header's auth_tag (offset 24) the first 16 bytes of keyed BLAKE2b (RFC 7693,
 * digest length 16, the 32-byte key) over the datagram's bytes [0, 20) and [40, end): the
 * header without its crc and auth_tag fields, then the whole payload with the trailer. The
 * CRC (section 3) is computed last, over the datagram with the tag in place.
 *
 * Pure code, the same on every build: the board verifies with s2_auth_mac (proto's
 * BLAKE2b); the host computes the same tag with libsodium (host/lib/auth.c).
 */
#ifndef S2_AUTH_H
#define S2_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/blake2b.h"
#include "s2/packet.h"

#define S2_AUTH_TRAILER_LEN 16u
#define S2_AUTH_KEY_LEN 32u
/** Largest message body of an authenticated packet. */
#define S2_AUTH_MAX_BODY (S2_MAX_PAYLOAD - S2_AUTH_TRAILER_LEN)

/** Key roles (docs/security.md): what a key may do on a board. */
enum s2_key_role {
	S2_KEY_MACHINE = 1, /**< the operator's: everything, flash and key management included */
	S2_KEY_JOB = 2,     /**< a job's: everything but flash and key management */
};

struct s2_auth_trailer {
	uint32_t key_id;
	uint32_t counter;
	uint64_t session;
};

/** Read the trailer from the last S2_AUTH_TRAILER_LEN bytes of payload[0..len).
 * @return 0, or S2_E_SHORT if the payload is shorter than a trailer. */
int s2_auth_trailer_get(const uint8_t *payload, size_t len, struct s2_auth_trailer *t);

/** Write t as S2_AUTH_TRAILER_LEN bytes at p. */
void s2_auth_trailer_put(uint8_t *p, const struct s2_auth_trailer *t);

/**
 * Encode an authenticated packet with its tag still zero: header h with S2_F_AUTH added,
 * payload = body[0..len) then the trailer t. The caller then computes the tag (s2_auth_mac
 * or the host's library) and stores it with s2_packet_set_tag.
 * @return datagram length, or as s2_packet_encode (S2_E_RANGE if len > S2_AUTH_MAX_BODY).
 */
int s2_auth_encode(uint8_t *out, size_t cap, const struct s2_header *h, const void *body,
                   size_t len, const struct s2_auth_trailer *t);

/** A key made ready for s2_auth_mac: BLAKE2b's keyed first block, compressed once. */
struct s2_auth_key {
	struct s2_blake2b keyed;
};

/** Prepare key[0..S2_AUTH_KEY_LEN). */
void s2_auth_key_init(struct s2_auth_key *k, const uint8_t key[S2_AUTH_KEY_LEN]);

/** The tag of dgram[0..len) (len >= S2_HEADER_LEN): see the file comment. */
void s2_auth_mac(const struct s2_auth_key *k, const uint8_t *dgram, size_t len,
                 uint8_t tag[S2_AUTH_TAG_LEN]);

/** Compare two tags in time that does not depend on where they differ. */
bool s2_auth_tag_equal(const uint8_t *a, const uint8_t *b);

/* --- Bulk regions bound to an authenticated session (docs/security.md) ------------------- */

#define S2_AUTH_HASH_LEN 32u /**< BLAKE2b-256 (unkeyed) of a bulk region's raw bytes */

/**
 * BULK_END body: region u32, then (a region opened by an authenticated BULK_BEGIN) the
 * BLAKE2b-256 of the region's raw bytes. *hash is NULL for the 4-byte form.
 * @return 0, S2_E_SHORT, S2_E_LENGTH.
 */
int s2_auth_bulk_end_decode(const uint8_t *p, size_t len, uint32_t *region, const uint8_t **hash);

/* --- KEY (protocol 4.19): install, revoke and list a board's keys ------------------------ */

enum s2_key_op { S2_KEY_LIST = 0, S2_KEY_ADD = 1, S2_KEY_REVOKE = 2 };

#define S2_KEY_REQ_LEN 40u
#define S2_KEY_MAX_LIST 8u

/** KEY request, 40 bytes: op u8, role u8, 2 reserved, key_id u32, wrapped key (32; zero
 * unless ADD). */
struct s2_msg_key_req {
	uint8_t op;
	uint8_t role;
	uint32_t key_id;
	uint8_t wrapped[S2_AUTH_KEY_LEN];
};

/** KEY reply, 28 + 8 n bytes: the guard's six counters (u32 each: ok, unauth, unknown_key,
 * bad_tag, replayed, forbidden), n u32, then n x (key_id u32, role u8, 3 reserved). */
struct s2_msg_key_rep {
	uint32_t counters[6];
	uint32_t n;
	uint32_t key_id[S2_KEY_MAX_LIST];
	uint8_t role[S2_KEY_MAX_LIST];
};

int s2_msg_key_req_encode(uint8_t *out, size_t cap, const struct s2_msg_key_req *m);
int s2_msg_key_req_decode(const uint8_t *p, size_t len, struct s2_msg_key_req *m);
int s2_msg_key_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_key_rep *m);
int s2_msg_key_rep_decode(const uint8_t *p, size_t len, struct s2_msg_key_rep *m);

/**
 * Wrap (or unwrap: the same operation) a key for KEY ADD: out = in XOR BLAKE2b-256 keyed
 * with the machine key over "s2 key wrap 1" and the 16 trailer bytes of the request that
 * carries it (unique per datagram, so no key stream is used twice).
 */
void s2_auth_wrap(const uint8_t machine[S2_AUTH_KEY_LEN], const struct s2_auth_trailer *t,
                  const uint8_t in[S2_AUTH_KEY_LEN], uint8_t out[S2_AUTH_KEY_LEN]);

/** The wrap's input: "s2 key wrap 1" (13 bytes) then the trailer. Host and board share it. */
#define S2_AUTH_WRAP_LABEL "s2 key wrap 1"
#define S2_AUTH_WRAP_MSG_LEN (13u + S2_AUTH_TRAILER_LEN)
void s2_auth_wrap_msg(const struct s2_auth_trailer *t, uint8_t msg[S2_AUTH_WRAP_MSG_LEN]);

#endif
