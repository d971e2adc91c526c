/**
 * @file blake2b.h
 * @brief BLAKE2b (RFC 7693), keyed and unkeyed, for the board side of the authenticated
 *        control plane (docs/protocol.md section 2.3, docs/security.md).
 *
 * Freestanding C11 (no allocation, no I/O), the same source on Cortex-M4F, QEMU, the
 * emulator and the host. The host's own side of the protocol uses libsodium's BLAKE2b
 * (crypto_generichash_blake2b); both pass the RFC 7693 known-answer tests
 * (tests/proto/proto_cases.c runs them on the host and under QEMU) and the host tests check
 * that the two give the same tags on random inputs.
 *
 * Use: s2_blake2b_init (outlen 1..64, key of 0..64 bytes), s2_blake2b_update any number of
 * times, s2_blake2b_final. A state may be copied after init to reuse a keyed prefix.
 */
#ifndef S2_BLAKE2B_H
#define S2_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define S2_BLAKE2B_BLOCK 128u
#define S2_BLAKE2B_OUT_MAX 64u
#define S2_BLAKE2B_KEY_MAX 64u

struct s2_blake2b {
	uint64_t h[8];
	uint64_t t[2]; /**< bytes compressed so far */
	uint8_t buf[S2_BLAKE2B_BLOCK];
	size_t buflen;
	size_t outlen;
};

/**
 * Start a hash of outlen bytes (1..64), keyed with key[0..keylen) (0..64; 0: unkeyed).
 * @return 0, or S2_E_RANGE for an outlen or keylen out of range.
 */
int s2_blake2b_init(struct s2_blake2b *s, size_t outlen, const void *key, size_t keylen);

/** Absorb in[0..len). */
void s2_blake2b_update(struct s2_blake2b *s, const void *in, size_t len);

/** Write the outlen-byte digest to out. The state is spent afterwards. */
void s2_blake2b_final(struct s2_blake2b *s, uint8_t *out);

/** One-shot: out[0..outlen) = BLAKE2b(key, in). 0 or S2_E_RANGE. */
int s2_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *in,
               size_t len);

#endif
