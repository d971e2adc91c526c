/*
 * Unit cases for the proto wire core (wire.h, crc32.h, packet.h, error.h). Freestanding:
 * no allocation, no stdio, so the same cases run under cmocka on the host and under the
 * firmware runner on Cortex-M4F (QEMU) and in the emulator build.
 */
#include <string.h>

#include "s2/auth.h"
#include "s2/blake2b.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/packet.h"
#include "s2/pedata.h"
#include "s2/wire.h"
#include "s2test.h"

static void t_crc_known_values(void)
{
	S2T_EQ(s2_crc32(0, "", 0), 0u);
	S2T_EQ(s2_crc32(0, "123456789", 9), 0xCBF43926u);
	S2T_EQ(s2_crc32(0, "a", 1), 0xE8B7BE43u);
	S2T_EQ(s2_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
	static const uint8_t zeros[32];
	S2T_EQ(s2_crc32(0, zeros, sizeof zeros), 0x190A55ADu);
}

static void t_crc_incremental(void)
{
	static const char msg[] = "SpiNNaker2 processing element";
	size_t n = sizeof msg - 1;
	uint32_t whole = s2_crc32(0, msg, n);
	for (size_t cut = 0; cut <= n; cut++) {
		uint32_t c = s2_crc32(s2_crc32(0, msg, cut), msg + cut, n - cut);
		S2T_EQ(c, whole);
	}
}

static void t_wire_little_endian(void)
{
	uint8_t b[8];
	s2_st16(b, 0x1234);
	S2T_EQ(b[0], 0x34);
	S2T_EQ(b[1], 0x12);
	s2_st32(b, 0xA1B2C3D4u);
	S2T_EQ(b[0], 0xD4);
	S2T_EQ(b[3], 0xA1);
	S2T_EQ(s2_ld32(b), 0xA1B2C3D4u);
	s2_st64(b, 0x0102030405060708ull);
	S2T_EQ(b[0], 0x08);
	S2T_EQ(b[7], 0x01);
	S2T_EQ(s2_ld64(b), 0x0102030405060708ull);
	S2T_EQ(s2_ld16(b), 0x0708u);
}

static void t_reader_bounds(void)
{
	static const uint8_t buf[5] = {1, 2, 3, 4, 5};
	struct s2_rd r;
	s2_rd_init(&r, buf, sizeof buf);
	S2T_EQ(s2_rd_u32(&r), 0x04030201u);
	S2T_EQ(s2_rd_left(&r), 1u);
	S2T_EQ(s2_rd_end(&r), S2_E_LENGTH);
	S2T_EQ(s2_rd_u16(&r), 0u); /* runs past the end */
	S2T_EQ(r.err, S2_E_SHORT);
	S2T_EQ(s2_rd_u8(&r), 0u); /* the error sticks: even a fitting read fails now */
	S2T_EQ(s2_rd_end(&r), S2_E_SHORT);
	S2T_EQ(s2_rd_left(&r), 0u);

	s2_rd_init(&r, buf, sizeof buf);
	S2T_CHECK(s2_rd_take(&r, (size_t)-1) == NULL); /* huge n must not wrap */
	S2T_EQ(r.err, S2_E_SHORT);

	s2_rd_init(&r, buf, sizeof buf);
	uint8_t out[5];
	s2_rd_bytes(&r, out, 5);
	S2T_EQ(s2_rd_end(&r), 0);
	S2T_EQ(out[4], 5);
}

static void t_writer_bounds(void)
{
	uint8_t buf[6];
	struct s2_wr w;
	s2_wr_init(&w, buf, sizeof buf);
	s2_wr_u32(&w, 0xDEADBEEFu);
	S2T_EQ(w.err, 0);
	s2_wr_u32(&w, 1); /* does not fit */
	S2T_EQ(w.err, S2_E_NOSPACE);
	S2T_EQ(w.pos, 4u);
	s2_wr_u8(&w, 1); /* sticky */
	S2T_EQ(w.pos, 4u);
	S2T_CHECK(s2_wr_take(&w, (size_t)-1) == NULL);
}

static struct s2_header sample_header(void)
{
	struct s2_header h;
	memset(&h, 0, sizeof h);
	h.type = 0x21;
	h.flags = S2_F_ACKREQ;
	h.seq = 0x89ABCDEFu;
	h.board = 719;
	h.chip = 47;
	h.pe = 151;
	return h;
}

static void t_packet_roundtrip(void)
{
	static const uint8_t payload[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
	uint8_t buf[S2_MAX_DATAGRAM];
	struct s2_header h = sample_header(), d;
	int n = s2_packet_encode(buf, sizeof buf, &h, payload, sizeof payload);
	S2T_EQ(n, (int)(S2_HEADER_LEN + sizeof payload));
	const uint8_t *p = NULL;
	S2T_EQ(s2_packet_decode(buf, (size_t)n, &d, &p), 0);
	S2T_EQ(d.version, S2_PROTOCOL_VERSION);
	S2T_EQ(d.type, h.type);
	S2T_EQ(d.flags, h.flags);
	S2T_EQ(d.seq, h.seq);
	S2T_EQ(d.board, h.board);
	S2T_EQ(d.chip, h.chip);
	S2T_EQ(d.pe, h.pe);
	S2T_EQ(d.payload_len, sizeof payload);
	S2T_CHECK(p == buf + S2_HEADER_LEN);
	S2T_CHECK(memcmp(p, payload, sizeof payload) == 0);

	/* Largest payload, empty payload, authenticated packet. */
	static uint8_t big[S2_MAX_PAYLOAD];
	n = s2_packet_encode(buf, sizeof buf, &h, big, sizeof big);
	S2T_EQ(n, (int)S2_MAX_DATAGRAM);
	S2T_EQ(s2_packet_decode(buf, (size_t)n, &d, NULL), 0);
	n = s2_packet_encode(buf, sizeof buf, &h, NULL, 0);
	S2T_EQ(n, (int)S2_HEADER_LEN);
	S2T_EQ(s2_packet_decode(buf, (size_t)n, &d, NULL), 0);
	h.flags |= S2_F_AUTH;
	for (unsigned i = 0; i < S2_AUTH_TAG_LEN; i++)
		h.auth_tag[i] = (uint8_t)(0xA0 + i);
	n = s2_packet_encode(buf, sizeof buf, &h, payload, 1);
	S2T_EQ(s2_packet_decode(buf, (size_t)n, &d, NULL), 0);
	S2T_CHECK(memcmp(d.auth_tag, h.auth_tag, S2_AUTH_TAG_LEN) == 0);
}

static void t_packet_encode_rejects(void)
{
	uint8_t buf[S2_MAX_DATAGRAM + 16];
	static uint8_t payload[S2_MAX_PAYLOAD + 1];
	struct s2_header h = sample_header();
	S2T_EQ(s2_packet_encode(buf, sizeof buf, &h, payload, S2_MAX_PAYLOAD + 1), S2_E_RANGE);
	S2T_EQ(s2_packet_encode(buf, S2_HEADER_LEN + 3, &h, payload, 4), S2_E_NOSPACE);
	S2T_EQ(s2_packet_encode(buf, S2_HEADER_LEN - 1, &h, NULL, 0), S2_E_NOSPACE);
	S2T_EQ(s2_packet_encode(buf, sizeof buf, &h, NULL, 4), S2_E_INVAL);
	h.flags = 0x8000;
	S2T_EQ(s2_packet_encode(buf, sizeof buf, &h, NULL, 0), S2_E_RESERVED);
}

/* Recompute the CRC after a test has edited a field on purpose. */
static void fix_crc(uint8_t *buf, size_t len)
{
	s2_st32(buf + 20, 0);
	s2_st32(buf + 20, s2_crc32(0, buf, len));
}

static void t_packet_decode_rejects(void)
{
	uint8_t buf[S2_MAX_DATAGRAM + 8];
	static const uint8_t payload[16] = {1, 2, 3};
	struct s2_header h = sample_header(), d;
	int n = s2_packet_encode(buf, sizeof buf, &h, payload, sizeof payload);
	size_t len = (size_t)n;

	for (size_t l = 0; l < S2_HEADER_LEN; l++)
		S2T_EQ(s2_packet_decode(buf, l, &d, NULL), S2_E_SHORT);
	/* Truncated payload, trailing byte. */
	S2T_EQ(s2_packet_decode(buf, len - 1, &d, NULL), S2_E_LENGTH);
	buf[len] = 0;
	S2T_EQ(s2_packet_decode(buf, len + 1, &d, NULL), S2_E_LENGTH);

	uint8_t m[S2_MAX_DATAGRAM];
	memcpy(m, buf, len);
	m[0] ^= 1;
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_MAGIC);

	memcpy(m, buf, len);
	m[4] = 2;
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_VERSION);

	memcpy(m, buf, len);
	s2_st16(m + 18, (uint16_t)(sizeof payload + 1)); /* claims more than is there */
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_LENGTH);

	memcpy(m, buf, len);
	s2_st16(m + 18, 0xFFFF);
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_LENGTH);

	memcpy(m, buf, len);
	m[17] = 1; /* reserved byte */
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_RESERVED);

	memcpy(m, buf, len);
	s2_st16(m + 6, 0x0100); /* undefined flag */
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_RESERVED);

	memcpy(m, buf, len);
	m[30] = 0x55; /* tag bytes without S2_F_AUTH */
	fix_crc(m, len);
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_RESERVED);

	memcpy(m, buf, len);
	m[len - 1] ^= 0x80; /* payload corrupted in transit */
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_CRC);

	memcpy(m, buf, len);
	m[21] ^= 0x01; /* CRC field itself corrupted */
	S2T_EQ(s2_packet_decode(m, len, &d, NULL), S2_E_CRC);
}

/* CRC-32 detects every single-bit error: no one-bit flip anywhere may decode. */
static void t_packet_every_bit_flip_detected(void)
{
	uint8_t buf[S2_HEADER_LEN + 24], m[sizeof buf];
	uint8_t payload[24];
	struct s2_header h = sample_header(), d;
	for (unsigned i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 37u);
	int n = s2_packet_encode(buf, sizeof buf, &h, payload, sizeof payload);
	S2T_EQ(n, (int)sizeof buf);
	for (unsigned bit = 0; bit < 8u * sizeof buf; bit++) {
		memcpy(m, buf, sizeof buf);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		S2T_CHECK(s2_packet_decode(m, sizeof m, &d, NULL) < 0);
	}
}

/* RFC 7693 Appendix A: BLAKE2b-512("abc"). */
static void t_blake2b_rfc7693_abc(void)
{
	static const uint8_t want[64] = {
	        0xBA, 0x80, 0xA5, 0x3F, 0x98, 0x1C, 0x4D, 0x0D, 0x6A, 0x27, 0x97, 0xB6, 0x9F,
	        0x12, 0xF6, 0xE9, 0x4C, 0x21, 0x2F, 0x14, 0x68, 0x5A, 0xC4, 0xB7, 0x4B, 0x12,
	        0xBB, 0x6F, 0xDB, 0xFF, 0xA2, 0xD1, 0x7D, 0x87, 0xC5, 0x39, 0x2A, 0xAB, 0x79,
	        0x2D, 0xC2, 0x52, 0xD5, 0xDE, 0x45, 0x33, 0xCC, 0x95, 0x18, 0xD3, 0x8A, 0xA8,
	        0xDB, 0xF1, 0x92, 0x5A, 0xB9, 0x23, 0x86, 0xED, 0xD4, 0x00, 0x99, 0x23};
	uint8_t md[64];
	S2T_EQ(s2_blake2b(md, 64, NULL, 0, "abc", 3), 0);
	S2T_CHECK(memcmp(md, want, 64) == 0);
	/* Keyed, empty input, key 00..3f (the BLAKE2 reference KAT's first keyed vector). */
	static const uint8_t want_k[8] = {0x10, 0xeb, 0xb6, 0x77, 0x00, 0xb1, 0x86, 0x8e};
	uint8_t key[64];
	for (unsigned i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	S2T_EQ(s2_blake2b(md, 64, key, 64, NULL, 0), 0);
	S2T_CHECK(memcmp(md, want_k, sizeof want_k) == 0);
	S2T_EQ(s2_blake2b(md, 0, NULL, 0, NULL, 0), S2_E_RANGE);
	S2T_EQ(s2_blake2b(md, 65, NULL, 0, NULL, 0), S2_E_RANGE);
	S2T_EQ(s2_blake2b(md, 16, key, 65, NULL, 0), S2_E_RANGE);
}

static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BADu * seed, b = 1;
	for (size_t i = 0; i < len; i++) {
		uint32_t t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 Appendix E: the self-test's hash of keyed and unkeyed hashes of every digest
 * length 20, 32, 48, 64 and input length 0, 3, 128, 129, 255, 1024 (block edges). */
static void t_blake2b_rfc7693_selftest(void)
{
	static const uint8_t want[32] = {0xC2, 0x3A, 0x78, 0x00, 0xD9, 0x81, 0x23, 0xBD,
	                                 0x10, 0xF5, 0x06, 0xC6, 0x1E, 0x29, 0xDA, 0x56,
	                                 0x03, 0xD7, 0x63, 0xB8, 0xBB, 0xAD, 0x2E, 0x73,
	                                 0x7F, 0x5E, 0x76, 0x5A, 0x7B, 0xCC, 0xD4, 0x75};
	static const uint8_t md_len[4] = {20, 32, 48, 64};
	static const uint16_t in_len[6] = {0, 3, 128, 129, 255, 1024};
	static uint8_t in[1024];
	uint8_t md[64], key[64];
	struct s2_blake2b ctx;
	S2T_EQ(s2_blake2b_init(&ctx, 32, NULL, 0), 0);
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 6; j++) {
			selftest_seq(in, in_len[j], in_len[j]);
			S2T_EQ(s2_blake2b(md, md_len[i], NULL, 0, in, in_len[j]), 0);
			s2_blake2b_update(&ctx, md, md_len[i]);
			selftest_seq(key, md_len[i], md_len[i]);
			S2T_EQ(s2_blake2b(md, md_len[i], key, md_len[i], in, in_len[j]), 0);
			s2_blake2b_update(&ctx, md, md_len[i]);
		}
	}
	s2_blake2b_final(&ctx, md);
	S2T_CHECK(memcmp(md, want, 32) == 0);
	/* Incremental updates in every split agree with one call. */
	uint8_t one[32], two[32];
	selftest_seq(in, 300, 300);
	S2T_EQ(s2_blake2b(one, 32, key, 32, in, 300), 0);
	for (unsigned cut = 0; cut <= 300; cut += 7) {
		S2T_EQ(s2_blake2b_init(&ctx, 32, key, 32), 0);
		s2_blake2b_update(&ctx, in, cut);
		s2_blake2b_update(&ctx, in + cut, 300 - cut);
		s2_blake2b_final(&ctx, two);
		S2T_CHECK(memcmp(one, two, 32) == 0);
	}
}

/* An authenticated packet (protocol 2.3) with a tag computed independently (Python's
 * hashlib.blake2b over header bytes 0-19 and the payload with its trailer). */
static void t_auth_packet_known_answer(void)
{
	static const uint8_t want_tag[16] = {0x5f, 0x29, 0xde, 0xf1, 0xac, 0xc2, 0x7d, 0x4d,
	                                     0x00, 0x69, 0xc7, 0x99, 0x4a, 0x88, 0xb8, 0x16};
	uint8_t key[S2_AUTH_KEY_LEN], body[10], buf[S2_MAX_DATAGRAM], tag[16];
	for (unsigned i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)i;
	struct s2_header h = {.type = 0x12, .seq = 0x01020304u, .board = 1, .chip = 2, .pe = 0xFF};
	struct s2_auth_trailer t = {.key_id = 7, .counter = 5, .session = 0x0123456789ABCDEFull};
	int n = s2_auth_encode(buf, sizeof buf, &h, body, sizeof body, &t);
	S2T_EQ(n, 40 + 10 + 16);
	struct s2_auth_key k;
	s2_auth_key_init(&k, key);
	s2_auth_mac(&k, buf, (size_t)n, tag);
	S2T_CHECK(memcmp(tag, want_tag, 16) == 0);
	s2_packet_set_tag(buf, (size_t)n, tag);
	S2T_EQ(s2_ld32(buf + 20), 0x0f99c831u);
	struct s2_header d;
	const uint8_t *p;
	S2T_EQ(s2_packet_decode(buf, (size_t)n, &d, &p), 0);
	S2T_CHECK(d.flags & S2_F_AUTH);
	S2T_CHECK(s2_auth_tag_equal(d.auth_tag, want_tag));
	struct s2_auth_trailer g;
	S2T_EQ(s2_auth_trailer_get(p, d.payload_len, &g), 0);
	S2T_EQ(g.key_id, 7u);
	S2T_EQ(g.counter, 5u);
	S2T_EQ(g.session, 0x0123456789ABCDEFull);
	S2T_EQ(s2_auth_trailer_get(p, 15, &g), S2_E_SHORT);
	/* Any change of a covered byte changes the tag. */
	for (size_t i = 0; i < (size_t)n; i++) {
		if (i >= 20 && i < 40)
			continue; /* crc and tag: not covered */
		buf[i] ^= 0x01;
		s2_auth_mac(&k, buf, (size_t)n, tag);
		S2T_CHECK(!s2_auth_tag_equal(tag, want_tag));
		buf[i] ^= 0x01;
	}
	S2T_EQ(s2_auth_encode(buf, sizeof buf, &h, body, S2_AUTH_MAX_BODY + 1, &t), S2_E_RANGE);
}

static void t_error_strings(void)
{
	for (int e = 0; e > S2_E__LAST; e--) {
		S2T_CHECK(strcmp(s2_strerror(e), "unknown error") != 0);
		S2T_CHECK(strncmp(s2_errname(e), "S2_", 3) == 0);
		for (int f = e - 1; f > S2_E__LAST; f--)
			S2T_CHECK(strcmp(s2_strerror(e), s2_strerror(f)) != 0);
	}
	S2T_CHECK(strcmp(s2_strerror(1), "unknown error") == 0);
	S2T_CHECK(strcmp(s2_strerror(S2_E__LAST), "unknown error") == 0);
	S2T_CHECK(strcmp(s2_errname(-1000), "S2_E_UNKNOWN") == 0);
	S2T_CHECK(strcmp(s2_errname(S2_E_CRC), "S2_E_CRC") == 0);
}

/* The PE-data header writer: its bytes sit where pedata.h's layout says (read here by hand,
 * not by the decoder), and the decoder reads back every field it wrote. */
static void t_pedata_header_roundtrip(void)
{
	struct s2_pedata h = {.model = S2_MODEL_LIF_COND_EXP,
	                      .n_neurons = 128,
	                      .n_record_v = 3,
	                      .flags = S2_PD_F_RECORD_SPIKES | S2_PD_F_NO_TARGETS,
	                      .dt_us = 100,
	                      .key_base = 0x12345600u,
	                      .seed = 0xDEADBEEFu,
	                      .dram_base = 0x00100000u,
	                      .dram_size = 0x00400000u,
	                      .w_scale_e = 0.25f,
	                      .w_scale_i = 0.5f,
	                      .bg_rate_hz = 8000.0f,
	                      .bg_weight = 0.0875f,
	                      .budget = 30000,
	                      .cyc_update = 63,
	                      .cyc_event_x10 = 1130,
	                      .cyc_packet = 40};
	uint8_t b[S2_PEDATA_HDR_LEN + 2 * S2_PEDATA_SECT_LEN + S2_PE_PARAMS * 4 + 6];
	memset(b, 0xA5, sizeof b);
	s2_pedata_header_encode(b, &h, 1);
	S2T_EQ(s2_ld32(b), 0x44503253u);
	S2T_EQ(b[0], 'S');
	S2T_EQ(b[3], 'D');
	S2T_EQ(s2_ld16(b + 4), 1u);
	S2T_EQ(s2_ld16(b + 6), (unsigned)S2_MODEL_LIF_COND_EXP);
	S2T_EQ(s2_ld16(b + 8), 128u);
	S2T_EQ(s2_ld16(b + 10), 3u);
	S2T_EQ(s2_ld32(b + 12), 100u);
	S2T_EQ(s2_ld32(b + 16), 0x12345600u);
	S2T_EQ(s2_ld32(b + 20), 0xDEADBEEFu);
	S2T_EQ(s2_ld32(b + 24), 0x3E800000u); /* 0.25f */
	S2T_EQ(s2_ld32(b + 28), 0x3F000000u); /* 0.5f */
	S2T_EQ(s2_ld32(b + 32), 0x00100000u);
	S2T_EQ(s2_ld32(b + 36), 0x00400000u);
	S2T_EQ(s2_ld16(b + 40), 1u);
	S2T_EQ(s2_ld16(b + 42), 3u);
	S2T_EQ(s2_ld32(b + 44), 0x45FA0000u); /* 8000.0f */
	S2T_EQ(s2_ld32(b + 52), 30000u);
	S2T_EQ(s2_ld32(b + 56), 63u);
	S2T_EQ(s2_ld16(b + 60), 1130u);
	S2T_EQ(s2_ld16(b + 62), 40u);
	S2T_EQ(b[S2_PEDATA_HDR_LEN], 0xA5u); /* the header's 64 bytes and no more */
	/* PARAMS (one row for all) and RECORD_V (3 entries) after the table; decode it back */
	uint32_t off = S2_PEDATA_HDR_LEN + 2 * S2_PEDATA_SECT_LEN, plen = S2_PE_PARAMS * 4;
	static const uint16_t type[2] = {S2_SECT_PARAMS, S2_SECT_RECORD_V};
	const uint32_t at[2] = {off, off + plen}, n[2] = {plen, 3 * 2};
	for (unsigned k = 0; k < 2; k++) {
		uint8_t *e = b + S2_PEDATA_HDR_LEN + k * S2_PEDATA_SECT_LEN;
		s2_st16(e, type[k]);
		s2_st16(e + 2, 0);
		s2_st32(e + 4, at[k]);
		s2_st32(e + 8, n[k]);
	}
	memset(b + off, 0, plen);
	for (unsigned k = 0; k < 3; k++) /* v of neurons 0, 1, 2 */
		s2_st16(b + off + plen + 2 * k, (uint16_t)k);
	s2_pedata_header_encode(b, &h, 2);
	const size_t len = off + plen + 6;
	struct s2_pedata d;
	S2T_EQ(s2_pedata_decode(b, len, &d), 0);
	S2T_EQ(d.model, h.model);
	S2T_EQ(d.n_neurons, h.n_neurons);
	S2T_EQ(d.n_record_v, h.n_record_v);
	S2T_EQ(d.flags, h.flags);
	S2T_EQ(d.dt_us, h.dt_us);
	S2T_EQ(d.key_base, h.key_base);
	S2T_EQ(d.seed, h.seed);
	S2T_EQ(d.dram_base, h.dram_base);
	S2T_EQ(d.dram_size, h.dram_size);
	S2T_CHECK(d.w_scale_e == h.w_scale_e && d.w_scale_i == h.w_scale_i);
	S2T_CHECK(d.bg_rate_hz == h.bg_rate_hz && d.bg_weight == h.bg_weight);
	S2T_EQ(d.budget, h.budget);
	S2T_EQ(d.cyc_update, h.cyc_update);
	S2T_EQ(d.cyc_event_x10, h.cyc_event_x10);
	S2T_EQ(d.cyc_packet, h.cyc_packet);
	S2T_EQ(d.sect_len[S2_SECT_RECORD_V], 6u);
	/* what the header does not allow is still refused by the decoder */
	h.model = 99;
	s2_pedata_header_encode(b, &h, 2);
	S2T_EQ(s2_pedata_decode(b, len, &d), S2_E_RANGE);
}

const struct s2t_case s2_proto_cases[] = {
        S2T_CASE(t_crc_known_values),
        S2T_CASE(t_crc_incremental),
        S2T_CASE(t_wire_little_endian),
        S2T_CASE(t_reader_bounds),
        S2T_CASE(t_writer_bounds),
        S2T_CASE(t_packet_roundtrip),
        S2T_CASE(t_packet_encode_rejects),
        S2T_CASE(t_packet_decode_rejects),
        S2T_CASE(t_packet_every_bit_flip_detected),
        S2T_CASE(t_error_strings),
        S2T_CASE(t_blake2b_rfc7693_abc),
        S2T_CASE(t_blake2b_rfc7693_selftest),
        S2T_CASE(t_auth_packet_known_answer),
        S2T_CASE(t_pedata_header_roundtrip),
};
const size_t s2_proto_ncases = sizeof s2_proto_cases / sizeof s2_proto_cases[0];
