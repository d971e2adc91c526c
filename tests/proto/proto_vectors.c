/*
 * Deterministic test vectors for the wire core: CRC-32 over pseudo-random data of many
 * lengths and alignments, encoded packet headers, and the decoder's verdict on damaged
 * packets. Every build emits the same lines; tests compare them with
 * proto_vectors.golden, so a difference between host, emulator and Cortex-M4F shows as a
 * diff. Freestanding (no stdio): lines are formatted by hand.
 */
#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/packet.h"
#include "s2/wire.h"
#include "s2test.h"

struct line {
	char buf[200];
	size_t n;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->n + 1 < sizeof l->buf)
		l->buf[l->n++] = *s++;
	l->buf[l->n] = 0;
}

static void put_hex(struct line *l, uint32_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[9];
	for (unsigned i = 0; i < digits; i++)
		tmp[i] = hex[(v >> (4 * (digits - 1 - i))) & 0xF];
	tmp[digits] = 0;
	put_str(l, tmp);
}

static void put_dec(struct line *l, uint32_t v)
{
	char tmp[11];
	unsigned i = sizeof tmp - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(l, tmp + i);
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static uint8_t data[1024 + 3];

const uint8_t *s2_proto_vector_data(size_t *len)
{
	*len = sizeof data;
	return data;
}

void s2_proto_vectors(void (*emit)(const char *line, void *ctx), void *ctx)
{
	struct line l;
	uint32_t seed = 0x5EED2026u;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)xorshift32(&seed);

	/* CRC over every length 0..64 at three alignments, then some long ones. */
	static const uint16_t long_lens[] = {100, 255, 256, 511, 1000, 1024};
	for (unsigned i = 0; i < 65 + sizeof long_lens / sizeof long_lens[0]; i++) {
		size_t len = i < 65 ? i : long_lens[i - 65];
		for (unsigned off = 0; off < 3; off++) {
			l.n = 0;
			put_str(&l, "crc off=");
			put_dec(&l, off);
			put_str(&l, " len=");
			put_dec(&l, (uint32_t)len);
			put_str(&l, " 0x");
			put_hex(&l, s2_crc32(0, data + off, len), 8);
			emit(l.buf, ctx);
		}
	}

	/* Encoded headers for a spread of field values. */
	uint8_t pkt[S2_MAX_DATAGRAM];
	for (unsigned i = 0; i < 16; i++) {
		struct s2_header h;
		memset(&h, 0, sizeof h);
		h.type = (uint8_t)xorshift32(&seed);
		h.flags = (uint16_t)(xorshift32(&seed) & S2_F__DEFINED);
		h.seq = xorshift32(&seed);
		h.board = (uint16_t)xorshift32(&seed);
		h.chip = (uint16_t)(xorshift32(&seed) % 48);
		h.pe = (uint8_t)(xorshift32(&seed) % 152);
		if (h.flags & S2_F_AUTH)
			for (unsigned t = 0; t < S2_AUTH_TAG_LEN; t++)
				h.auth_tag[t] = (uint8_t)xorshift32(&seed);
		size_t plen = xorshift32(&seed) % 24;
		int n = s2_packet_encode(pkt, sizeof pkt, &h, data, plen);
		l.n = 0;
		put_str(&l, "pkt ");
		for (int b = 0; b < n && b < 64; b++)
			put_hex(&l, pkt[b], 2);
		emit(l.buf, ctx);

		/* Damage it one way per round and record the verdict. */
		struct s2_header d;
		size_t len = n > 0 ? (size_t)n : 0;
		int verdict[4];
		verdict[0] = s2_packet_decode(pkt, len, &d, NULL);
		verdict[1] = s2_packet_decode(pkt, len - 1 - i % 8, &d, NULL);
		pkt[xorshift32(&seed) % len] ^= (uint8_t)(1u << (i % 8));
		verdict[2] = s2_packet_decode(pkt, len, &d, NULL);
		verdict[3] = s2_packet_decode(pkt, i, &d, NULL);
		l.n = 0;
		put_str(&l, "dec");
		for (unsigned v = 0; v < 4; v++) {
			put_str(&l, " ");
			put_str(&l, s2_errname(verdict[v]));
		}
		emit(l.buf, ctx);
	}
}
