/* BLAKE2b after RFC 7693 (blake2b.h): the compression function F of section 3.2 and the
 * parameter block of section 2.5 (digest length, key length; no salt or personalisation). */
#include "s2/blake2b.h"

#include <string.h>

#include "s2/error.h"
#include "s2/wire.h"

static const uint64_t iv[8] = {
        0x6A09E667F3BCC908ull, 0xBB67AE8584CAA73Bull, 0x3C6EF372FE94F82Bull, 0xA54FF53A5F1D36F1ull,
        0x510E527FADE682D1ull, 0x9B05688C2B3E6C1Full, 0x1F83D9ABFB41BD6Bull, 0x5BE0CD19137E2179ull,
};

static const uint8_t sigma[12][16] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
        {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
        {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
        {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
        {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
        {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
        {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
        {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
        {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static uint64_t rotr64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

#define G(a, b, c, d, x, y)                     \
	do {                                    \
		v[a] = v[a] + v[b] + (x);       \
		v[d] = rotr64(v[d] ^ v[a], 32); \
		v[c] = v[c] + v[d];             \
		v[b] = rotr64(v[b] ^ v[c], 24); \
		v[a] = v[a] + v[b] + (y);       \
		v[d] = rotr64(v[d] ^ v[a], 16); \
		v[c] = v[c] + v[d];             \
		v[b] = rotr64(v[b] ^ v[c], 63); \
	} while (0)

static void compress(struct s2_blake2b *s, const uint8_t *block, int last)
{
	uint64_t m[16], v[16];
	for (unsigned i = 0; i < 16; i++)
		m[i] = s2_ld64(block + 8 * i);
	for (unsigned i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (unsigned r = 0; r < 12; r++) {
		const uint8_t *z = sigma[r];
		G(0, 4, 8, 12, m[z[0]], m[z[1]]);
		G(1, 5, 9, 13, m[z[2]], m[z[3]]);
		G(2, 6, 10, 14, m[z[4]], m[z[5]]);
		G(3, 7, 11, 15, m[z[6]], m[z[7]]);
		G(0, 5, 10, 15, m[z[8]], m[z[9]]);
		G(1, 6, 11, 12, m[z[10]], m[z[11]]);
		G(2, 7, 8, 13, m[z[12]], m[z[13]]);
		G(3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (unsigned i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

static void count(struct s2_blake2b *s, size_t n)
{
	s->t[0] += n;
	if (s->t[0] < n)
		s->t[1]++;
}

int s2_blake2b_init(struct s2_blake2b *s, size_t outlen, const void *key, size_t keylen)
{
	if (outlen == 0 || outlen > S2_BLAKE2B_OUT_MAX || keylen > S2_BLAKE2B_KEY_MAX)
		return S2_E_RANGE;
	memset(s, 0, sizeof *s);
	for (unsigned i = 0; i < 8; i++)
		s->h[i] = iv[i];
	/* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000ull ^ (uint64_t)keylen << 8 ^ (uint64_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		memcpy(s->buf, key, keylen); /* the key, zero-padded, is the first block */
		s->buflen = S2_BLAKE2B_BLOCK;
	}
	return 0;
}

void s2_blake2b_update(struct s2_blake2b *s, const void *in, size_t len)
{
	const uint8_t *p = in;
	while (len) {
		/* The last block is compressed only at final (it needs the final flag), so a full
		 * buffer is compressed only when more input follows it. */
		if (s->buflen == S2_BLAKE2B_BLOCK) {
			count(s, S2_BLAKE2B_BLOCK);
			compress(s, s->buf, 0);
			s->buflen = 0;
		}
		if (s->buflen == 0) {
			while (len > S2_BLAKE2B_BLOCK) {
				count(s, S2_BLAKE2B_BLOCK);
				compress(s, p, 0);
				p += S2_BLAKE2B_BLOCK;
				len -= S2_BLAKE2B_BLOCK;
			}
		}
		size_t take = S2_BLAKE2B_BLOCK - s->buflen;
		if (take > len)
			take = len;
		memcpy(s->buf + s->buflen, p, take);
		s->buflen += take;
		p += take;
		len -= take;
	}
}

void s2_blake2b_final(struct s2_blake2b *s, uint8_t *out)
{
	count(s, s->buflen);
	memset(s->buf + s->buflen, 0, S2_BLAKE2B_BLOCK - s->buflen);
	compress(s, s->buf, 1);
	for (size_t i = 0; i < s->outlen; i++)
		out[i] = (uint8_t)(s->h[i / 8] >> (8 * (i % 8)));
}

int s2_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *in,
               size_t len)
{
	struct s2_blake2b s;
	int rc = s2_blake2b_init(&s, outlen, key, keylen);
	if (rc < 0)
		return rc;
	s2_blake2b_update(&s, in, len);
	s2_blake2b_final(&s, out);
	return 0;
}
