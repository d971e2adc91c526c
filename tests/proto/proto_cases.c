/*
 * Unit cases for the proto wire core (wire.h, crc32.h, packet.h, error.h). Freestanding:
 * no allocation, no stdio, so the same cases run under cmocka on the host and under the
 * firmware runner on Cortex-M4F (QEMU) and in the emulator build.
 */
#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/packet.h"
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
};
const size_t s2_proto_ncases = sizeof s2_proto_cases / sizeof s2_proto_cases[0];
