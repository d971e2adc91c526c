/*
 * Shared cases for the message bodies (msg.h): every message round-trips, and the decoders
 * reject short, long, out-of-range and reserved-bit inputs. Freestanding, like
 * proto_cases.c, so they also run on Cortex-M4F under QEMU.
 */
#include <string.h>

#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/flashimg.h"
#include "s2/fwident.h"
#include "s2/msg.h"
#include "s2/packet.h"
#include "s2/wire.h"
#include "s2test.h"

static uint8_t buf[S2_MAX_PAYLOAD];

static void t_msg_board_id(void)
{
	struct s2_msg_board_id a = {.board = 89,
	                            .state = S2_BOARD_BOOTED,
	                            .eth_chip = 0,
	                            .serial = 0xC0FFEE,
	                            .chips = 48,
	                            .pes_per_chip = 152};
	strcpy(a.version, "s2emu 0.1.0");
	struct s2_msg_board_id b;
	int n = s2_msg_board_id_encode(buf, sizeof buf, &a);
	S2T_EQ(n, 44);
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n, &b), 0);
	S2T_EQ(b.board, 89);
	S2T_EQ(b.serial, 0xC0FFEE);
	S2T_EQ(b.chips, 48);
	S2T_CHECK(strcmp(b.version, "s2emu 0.1.0") == 0);
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n - 1, &b), S2_E_SHORT);
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n + 1, &b), S2_E_LENGTH);
	buf[12] = 0x07; /* control character in the version string */
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n, &b), S2_E_FORMAT);
	n = s2_msg_board_id_encode(buf, sizeof buf, &a);
	buf[40] = 'x'; /* text after the NUL terminator */
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n, &b), S2_E_FORMAT);
	a.chips = 65;
	n = s2_msg_board_id_encode(buf, sizeof buf, &a);
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n, &b), S2_E_RANGE);
	/* A full 32-character version without NUL is allowed. */
	a.chips = 48;
	memset(a.version, 'v', S2_VERSION_STR_LEN);
	a.version[S2_VERSION_STR_LEN] = 0;
	n = s2_msg_board_id_encode(buf, sizeof buf, &a);
	S2T_EQ(s2_msg_board_id_decode(buf, (size_t)n, &b), 0);
	S2T_EQ(strlen(b.version), S2_VERSION_STR_LEN);
}

static void t_msg_boot(void)
{
	struct s2_msg_boot_start s = {
	        .image_len = 5000, .image_crc = 0x12345678, .block_size = 1024};
	struct s2_msg_boot_start s2;
	int n = s2_msg_boot_start_encode(buf, sizeof buf, &s);
	S2T_EQ(n, 12);
	S2T_EQ(s2_msg_boot_start_decode(buf, 12, &s2), 0);
	S2T_EQ(s2.image_len, 5000);
	S2T_EQ(s2.block_size, 1024);
	buf[10] = 1; /* reserved */
	S2T_EQ(s2_msg_boot_start_decode(buf, 12, &s2), S2_E_RESERVED);
	s.block_size = S2_BOOT_BLOCK_MAX + 1;
	n = s2_msg_boot_start_encode(buf, sizeof buf, &s);
	S2T_EQ(s2_msg_boot_start_decode(buf, (size_t)n, &s2), S2_E_RANGE);

	static uint8_t block[S2_BOOT_BLOCK_MAX + 1];
	for (unsigned i = 0; i < sizeof block; i++)
		block[i] = (uint8_t)i;
	struct s2_msg_boot_data d = {.block = 4, .data = block, .len = S2_BOOT_BLOCK_MAX}, d2;
	n = s2_msg_boot_data_encode(buf, sizeof buf, &d);
	S2T_EQ(n, 4 + (int)S2_BOOT_BLOCK_MAX);
	S2T_EQ(s2_msg_boot_data_decode(buf, (size_t)n, &d2), 0);
	S2T_EQ(d2.block, 4);
	S2T_EQ(d2.len, S2_BOOT_BLOCK_MAX);
	S2T_CHECK(d2.data == buf + 4 && memcmp(d2.data, block, d2.len) == 0);
	S2T_EQ(s2_msg_boot_data_decode(buf, 4, &d2), S2_E_RANGE); /* empty block */
	d.len = S2_BOOT_BLOCK_MAX + 1;
	S2T_EQ(s2_msg_boot_data_encode(buf, sizeof buf, &d), S2_E_RANGE);

	struct s2_msg_board_status st = {.state = S2_BOARD_BOOTED,
	                                 .chips = 48,
	                                 .chips_alive = (1ull << 48) - 1 - (1ull << 17),
	                                 .boot_us = 1234},
	                           st2;
	n = s2_msg_board_status_encode(buf, sizeof buf, &st);
	S2T_EQ(s2_msg_board_status_decode(buf, (size_t)n, &st2), 0);
	S2T_EQ(st2.chips_alive, st.chips_alive);
	S2T_EQ(st2.boot_us, 1234);
	st.chips_alive |= 1ull << 50; /* a chip the board does not have */
	n = s2_msg_board_status_encode(buf, sizeof buf, &st);
	S2T_EQ(s2_msg_board_status_decode(buf, (size_t)n, &st2), S2_E_RANGE);
}

static void t_msg_chip_info(void)
{
	struct s2_msg_chip_info a, b;
	memset(&a, 0, sizeof a);
	a.chip = 47;
	a.pes = 152;
	a.links_alive = 0x3B;
	for (unsigned p = 0; p < 152; p++)
		s2_bitmap_set(a.pe_alive, p, p != 3 && p != 151);
	a.sram_per_pe = 131072;
	a.router_entries = 16384;
	a.dram_bytes = 2ull << 30;
	strcpy(a.version, "s2-monitor 0.1.0");
	int n = s2_msg_chip_info_encode(buf, sizeof buf, &a);
	S2T_EQ(n, 72);
	S2T_EQ(s2_msg_chip_info_decode(buf, (size_t)n, &b), 0);
	S2T_CHECK(memcmp(a.pe_alive, b.pe_alive, S2_PE_BITMAP_LEN) == 0);
	S2T_CHECK(!s2_bitmap_get(b.pe_alive, 3) && s2_bitmap_get(b.pe_alive, 4));
	S2T_EQ(b.dram_bytes, 2ull << 30);
	S2T_EQ(b.links_alive, 0x3B);
	s2_bitmap_set(a.pe_alive, 155, true); /* beyond the chip's PEs */
	n = s2_msg_chip_info_encode(buf, sizeof buf, &a);
	S2T_EQ(s2_msg_chip_info_decode(buf, (size_t)n, &b), S2_E_RANGE);
}

static void t_msg_mem(void)
{
	struct s2_msg_mem_read r = {.space = S2_MEM_DRAM, .addr = 0x7FFFFC00u, .len = 1024}, r2;
	int n = s2_msg_mem_read_encode(buf, sizeof buf, &r);
	S2T_EQ(n, 12);
	S2T_EQ(s2_msg_mem_read_decode(buf, 12, &r2), 0);
	S2T_EQ(r2.addr, 0x7FFFFC00u);
	S2T_EQ(r2.len, 1024);
	r.len = 0;
	n = s2_msg_mem_read_encode(buf, sizeof buf, &r);
	S2T_EQ(s2_msg_mem_read_decode(buf, (size_t)n, &r2), S2_E_RANGE);
	r.len = 8;
	r.space = 2;
	n = s2_msg_mem_read_encode(buf, sizeof buf, &r);
	S2T_EQ(s2_msg_mem_read_decode(buf, (size_t)n, &r2), S2_E_RANGE);

	static const uint8_t data[5] = {1, 2, 3, 4, 5};
	struct s2_msg_mem_write w = {.space = S2_MEM_SRAM, .addr = 16, .data = data, .len = 5}, w2;
	n = s2_msg_mem_write_encode(buf, sizeof buf, &w);
	S2T_EQ(n, 13);
	S2T_EQ(s2_msg_mem_write_decode(buf, 13, &w2), 0);
	S2T_EQ(w2.len, 5);
	S2T_EQ(w2.space, S2_MEM_SRAM);
	S2T_CHECK(memcmp(w2.data, data, 5) == 0);
	S2T_EQ(s2_msg_mem_write_decode(buf, 8, &w2), S2_E_RANGE);
	S2T_EQ(s2_msg_mem_write_decode(buf, 7, &w2), S2_E_SHORT);
	buf[1] = 9;
	S2T_EQ(s2_msg_mem_write_decode(buf, 13, &w2), S2_E_RESERVED);
}

static void t_msg_states_iobuf_signal(void)
{
	struct s2_msg_core_states c, c2;
	c.n = 152;
	for (unsigned i = 0; i < c.n; i++)
		c.state[i] = (uint8_t)(i % 5);
	int n = s2_msg_core_states_encode(buf, sizeof buf, &c);
	S2T_EQ(n, 153);
	S2T_EQ(s2_msg_core_states_decode(buf, (size_t)n, &c2), 0);
	S2T_CHECK(memcmp(c.state, c2.state, 152) == 0);
	S2T_EQ(s2_msg_core_states_decode(buf, (size_t)n - 1, &c2), S2_E_SHORT);
	buf[5] = 9;
	S2T_EQ(s2_msg_core_states_decode(buf, (size_t)n, &c2), S2_E_RANGE);
	buf[0] = 200;
	S2T_EQ(s2_msg_core_states_decode(buf, (size_t)n, &c2), S2_E_RANGE);

	struct s2_msg_iobuf_req q = {.offset = 100, .max_len = 512}, q2;
	n = s2_msg_iobuf_req_encode(buf, sizeof buf, &q);
	S2T_EQ(s2_msg_iobuf_req_decode(buf, (size_t)n, &q2), 0);
	S2T_EQ(q2.max_len, 512);
	static const uint8_t text[] = "hello";
	struct s2_msg_iobuf_rep p = {.total = 105, .offset = 100, .data = text, .len = 5}, p2;
	n = s2_msg_iobuf_rep_encode(buf, sizeof buf, &p);
	S2T_EQ(s2_msg_iobuf_rep_decode(buf, (size_t)n, &p2), 0);
	S2T_EQ(p2.len, 5);
	p.total = 104; /* claims data beyond what was ever written */
	n = s2_msg_iobuf_rep_encode(buf, sizeof buf, &p);
	S2T_EQ(s2_msg_iobuf_rep_decode(buf, (size_t)n, &p2), S2_E_RANGE);

	struct s2_msg_signal s, s2;
	memset(&s, 0, sizeof s);
	s.signal = S2_SIG_STOP;
	s2_bitmap_set(s.pes, 151, true);
	n = s2_msg_signal_encode(buf, sizeof buf, &s);
	S2T_EQ(n, 24);
	S2T_EQ(s2_msg_signal_decode(buf, (size_t)n, &s2), 0);
	S2T_CHECK(s2_bitmap_get(s2.pes, 151) && !s2_bitmap_get(s2.pes, 150));
	buf[0] = 0;
	S2T_EQ(s2_msg_signal_decode(buf, (size_t)n, &s2), S2_E_RANGE);
}

static void t_msg_bmp_status(void)
{
	struct s2_msg_bmp_info a = {.board = 3, .power = 1, .serial = 77}, b;
	strcpy(a.version, "s2emu-bmp 0.1.0");
	int n = s2_msg_bmp_info_encode(buf, sizeof buf, &a);
	S2T_EQ(n, 40);
	S2T_EQ(s2_msg_bmp_info_decode(buf, (size_t)n, &b), 0);
	S2T_EQ(b.serial, 77);
	S2T_CHECK(strcmp(b.version, a.version) == 0);

	int st = 0;
	n = s2_msg_status_encode(buf, sizeof buf, S2_E_DEAD);
	S2T_EQ(s2_msg_status_decode(buf, (size_t)n, &st), 0);
	S2T_EQ(st, S2_E_DEAD);
	n = s2_msg_status_encode(buf, sizeof buf, 5);
	S2T_EQ(s2_msg_status_decode(buf, (size_t)n, &st), S2_E_RANGE);
	uint8_t v;
	buf[0] = 2;
	S2T_EQ(s2_msg_u8_decode(buf, 1, &v), 0);
	S2T_EQ(v, 2);
	S2T_EQ(s2_msg_u8_decode(buf, 2, &v), S2_E_LENGTH);
	S2T_CHECK(strcmp(s2_msg_name(S2_MSG_MEM_WRITE), "MEM_WRITE") == 0);
	S2T_CHECK(strcmp(s2_msg_name(0xEE), "UNKNOWN") == 0);
}

static void t_fw_ident(void)
{
	static uint8_t image[S2_FW_IDENT_OFFSET + S2_FW_IDENT_LEN + 8];
	static const struct s2_fw_ident_block ident = S2_FW_IDENT_BLOCK(S2_FW_MONITOR, 1, "s2-mon");
	const size_t n = sizeof image, at = S2_FW_IDENT_OFFSET;
	for (size_t i = 0; i < n; i++)
		image[i] = (uint8_t)(i * 7u);
	memcpy(image + at, &ident, sizeof ident);
	struct s2_fw_ident id;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_FORMAT); /* not sealed yet */
	S2T_EQ(s2_fw_ident_seal(image, n), 0);
	S2T_EQ(s2_ld32(image + at + 8), n);
	S2T_EQ(s2_fw_ident_decode(image, n, &id), 0);
	S2T_EQ(id.kind, S2_FW_MONITOR);
	S2T_EQ(id.protocol, 1);
	S2T_CHECK(strcmp(id.version, "s2-mon") == 0);
	/* Truncated or padded images, and any changed byte, are caught. */
	S2T_EQ(s2_fw_ident_decode(image, n - 1, &id), S2_E_LENGTH);
	S2T_EQ(s2_fw_ident_decode(image, at + S2_FW_IDENT_LEN - 1, &id), S2_E_SHORT);
	image[n - 1] ^= 1;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_CRC);
	image[n - 1] ^= 1;
	image[3] ^= 0x80;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_CRC);
	image[3] ^= 0x80;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), 0);
	image[at + 4] = 9;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_RANGE);
	image[at + 4] = 1;
	image[at + 16 + 20] = 'x'; /* after the version's NUL */
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_FORMAT);
	image[at] = 0;
	S2T_EQ(s2_fw_ident_decode(image, n, &id), S2_E_MAGIC);
	S2T_EQ(s2_fw_ident_seal(image, n), S2_E_MAGIC);
	S2T_EQ(s2_fw_ident_seal(image, 100), S2_E_SHORT);
}

static void t_msg_flash(void)
{
	struct s2_msg_flash_status st = {.board_type = 1, .booted_slot = 1, .slot_size = 4096};
	st.slot[0] = (struct s2_msg_flash_slot){S2_FLASH_VALID, 3, 100, 0xABCDEF01u, "v3"};
	st.slot[1] = (struct s2_msg_flash_slot){S2_FLASH_GOOD, 2, 90, 7, "v2"};
	int n = s2_msg_flash_status_encode(buf, sizeof buf, &st);
	S2T_EQ(n, 8 + 2 * 48);
	struct s2_msg_flash_status st2;
	S2T_EQ(s2_msg_flash_status_decode(buf, (size_t)n, &st2), 0);
	S2T_EQ(st2.slot[0].crc, 0xABCDEF01u);
	S2T_CHECK(strcmp(st2.slot[1].version, "v2") == 0);
	buf[2] = 2; /* booted_slot out of range */
	S2T_EQ(s2_msg_flash_status_decode(buf, (size_t)n, &st2), S2_E_RANGE);

	static const uint8_t raw[5] = {1, 2, 3, 4, 5};
	struct s2_msg_flash_data d = {
	        .slot = 1, .raw_len = 5, .offset = 64, .raw_crc = 9, .data = raw, .len = 5};
	n = s2_msg_flash_data_encode(buf, sizeof buf, &d);
	S2T_EQ(n, 12 + 5);
	struct s2_msg_flash_data d2;
	S2T_EQ(s2_msg_flash_data_decode(buf, (size_t)n, &d2), 0);
	S2T_EQ(d2.offset, 64);
	S2T_EQ(d2.len, 5);
	S2T_EQ(s2_msg_flash_data_decode(buf, (size_t)n - 1, &d2), S2_E_RANGE); /* stored: len */
	buf[1] = 0x80;                                                         /* unknown flag */
	S2T_EQ(s2_msg_flash_data_decode(buf, (size_t)n, &d2), S2_E_RANGE);

	struct s2_msg_flash_read r = {.slot = 0, .offset = 5, .len = S2_FLASH_READ_MAX + 1};
	n = s2_msg_flash_read_encode(buf, sizeof buf, &r);
	struct s2_msg_flash_read r2;
	S2T_EQ(s2_msg_flash_read_decode(buf, (size_t)n, &r2), S2_E_RANGE);
	struct s2_msg_flash_begin b = {.slot = 2, .length = 1, .crc = 0, .version = "x"};
	n = s2_msg_flash_begin_encode(buf, sizeof buf, &b);
	struct s2_msg_flash_begin b2;
	S2T_EQ(s2_msg_flash_begin_decode(buf, (size_t)n, &b2), S2_E_RANGE); /* no slot 2 */
	struct s2_msg_flash_commit c = {.slot = 1, .length = 10, .crc = 3}, c2;
	n = s2_msg_flash_commit_encode(buf, sizeof buf, &c);
	S2T_EQ(s2_msg_flash_commit_decode(buf, (size_t)n, &c2), 0);
	S2T_EQ(c2.crc, 3);
}

/* A flash image around a sealed monitor image: packs, decodes, and every damage is caught. */
static void t_flash_image(void)
{
	static uint8_t mon[S2_FW_IDENT_OFFSET + S2_FW_IDENT_LEN + 16];
	static const struct s2_fw_ident_block ident =
	        S2_FW_IDENT_BLOCK(S2_FW_MONITOR, S2_PROTOCOL_VERSION, "s2-monitor t");
	memcpy(mon + S2_FW_IDENT_OFFSET, &ident, sizeof ident);
	S2T_EQ(s2_fw_ident_seal(mon, sizeof mon), 0);
	static const uint8_t extra[7] = {9, 8, 7, 6, 5, 4, 3};
	static uint8_t img[S2_FLASHIMG_HDR_LEN + sizeof mon + sizeof extra];
	long n = s2_flashimg_pack(img, sizeof img, S2_BOARD_TYPE_S2_48, "board-fw 1.2", mon,
	                          sizeof mon, extra, sizeof extra);
	S2T_EQ(n, (long)sizeof img);
	struct s2_flashimg fi;
	S2T_EQ(s2_flashimg_decode(img, sizeof img, &fi), 0);
	S2T_EQ(fi.board_type, S2_BOARD_TYPE_S2_48);
	S2T_EQ(fi.monitor_off, S2_FLASHIMG_HDR_LEN);
	S2T_EQ(fi.monitor_len, sizeof mon);
	S2T_CHECK(strcmp(fi.version, "board-fw 1.2") == 0);
	S2T_EQ(s2_flashimg_decode(img, sizeof img - 1, &fi), S2_E_LENGTH);
	S2T_EQ(s2_flashimg_decode(img, 40, &fi), S2_E_SHORT);
	img[sizeof img - 1] ^= 1;
	S2T_EQ(s2_flashimg_decode(img, sizeof img, &fi), S2_E_CRC);
	img[sizeof img - 1] ^= 1;
	img[7] ^= 1; /* board type: the header CRC catches it */
	S2T_EQ(s2_flashimg_decode(img, sizeof img, &fi), S2_E_CRC);
	img[7] ^= 1;
	img[0] = 0;
	S2T_EQ(s2_flashimg_decode(img, sizeof img, &fi), S2_E_MAGIC);
	S2T_EQ(s2_flashimg_pack(img, 10, 1, "v", mon, sizeof mon, NULL, 0), S2_E_NOSPACE);
	S2T_EQ(s2_flashimg_pack(img, sizeof img, 1, "bad\x01", mon, sizeof mon, NULL, 0),
	       S2_E_FORMAT);
	/* A monitor section that is not sealed is refused. */
	mon[0] ^= 1;
	n = s2_flashimg_pack(img, sizeof img, 1, "v", mon, sizeof mon, NULL, 0);
	S2T_CHECK(n > 0);
	S2T_EQ(s2_flashimg_decode(img, (size_t)n, &fi), S2_E_FORMAT);
	mon[0] ^= 1;
}

/* Bulk transfers (section 4.16): round trips, the limits of each field, canonical bytes. */
static void t_msg_bulk(void)
{
	struct s2_msg_bulk_begin b = {.region = 7,
	                              .space = S2_MEM_SRAM,
	                              .addr = 0x100,
	                              .len = 5000,
	                              .crc = 0xCAFEF00Du,
	                              .block_size = S2_BULK_BLOCK_MAX},
	                         b2;
	int n = s2_msg_bulk_begin_encode(buf, sizeof buf, &b);
	S2T_EQ(n, 24);
	S2T_EQ(s2_msg_bulk_begin_decode(buf, (size_t)n, &b2), 0);
	S2T_EQ(b2.crc, 0xCAFEF00Du);
	S2T_EQ(b2.block_size, S2_BULK_BLOCK_MAX);
	buf[5] = 1;
	S2T_EQ(s2_msg_bulk_begin_decode(buf, (size_t)n, &b2), S2_E_RESERVED);
	b.block_size = S2_BULK_BLOCK_MAX + 1;
	n = s2_msg_bulk_begin_encode(buf, sizeof buf, &b);
	S2T_EQ(s2_msg_bulk_begin_decode(buf, (size_t)n, &b2), S2_E_RANGE);
	b.block_size = 1024;
	b.len = 0;
	n = s2_msg_bulk_begin_encode(buf, sizeof buf, &b);
	S2T_EQ(s2_msg_bulk_begin_decode(buf, (size_t)n, &b2), S2_E_RANGE);
	S2T_EQ(s2_msg_bulk_begin_decode(buf, 23, &b2), S2_E_SHORT);

	struct s2_msg_bulk_read q = {.region = 1,
	                             .space = S2_MEM_DRAM,
	                             .flags = S2_BULK_F_ZLIB,
	                             .addr = 4,
	                             .len = 1u << 20,
	                             .block_size = 1024,
	                             .window = 64},
	                        q2;
	n = s2_msg_bulk_read_encode(buf, sizeof buf, &q);
	S2T_EQ(n, 20);
	S2T_EQ(s2_msg_bulk_read_decode(buf, (size_t)n, &q2), 0);
	S2T_EQ(q2.window, 64);
	q.window = 0;
	n = s2_msg_bulk_read_encode(buf, sizeof buf, &q);
	S2T_EQ(s2_msg_bulk_read_decode(buf, (size_t)n, &q2), S2_E_RANGE);
	struct s2_msg_bulk_read_rep rr = {.region = 1, .len = 10, .crc = 3, .n_blocks = 1}, rr2;
	n = s2_msg_bulk_read_rep_encode(buf, sizeof buf, &rr);
	S2T_EQ(s2_msg_bulk_read_rep_decode(buf, (size_t)n, &rr2), 0);
	S2T_EQ(rr2.n_blocks, 1);

	static const uint8_t raw[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct s2_msg_bulk_data d = {.region = 2,
	                             .block = 9,
	                             .raw_len = 8,
	                             .raw_crc = s2_crc32(0, raw, 8),
	                             .data = raw,
	                             .len = 8},
	                        d2;
	n = s2_msg_bulk_data_encode(buf, sizeof buf, &d);
	S2T_EQ(n, (int)S2_BULK_DATA_HDR + 8);
	S2T_EQ(s2_msg_bulk_data_decode(buf, (size_t)n, &d2), 0);
	S2T_EQ(d2.block, 9);
	S2T_CHECK(memcmp(d2.data, raw, 8) == 0);
	/* Stored data must be exactly raw_len; a zlib block may be any length. */
	S2T_EQ(s2_msg_bulk_data_decode(buf, (size_t)n - 1, &d2), S2_E_RANGE);
	d.flags = S2_BULK_F_ZLIB;
	d.len = 3;
	n = s2_msg_bulk_data_encode(buf, sizeof buf, &d);
	S2T_EQ(s2_msg_bulk_data_decode(buf, (size_t)n, &d2), 0);
	buf[10] = 0x80; /* undefined flag */
	S2T_EQ(s2_msg_bulk_data_decode(buf, (size_t)n, &d2), S2_E_RANGE);
	d.len = S2_BULK_BLOCK_MAX + 1;
	S2T_EQ(s2_msg_bulk_data_encode(buf, sizeof buf, &d), S2_E_RANGE);
	S2T_EQ(S2_HEADER_LEN + S2_BULK_DATA_HDR + S2_BULK_BLOCK_MAX, S2_MAX_DATAGRAM);

	struct s2_msg_bulk_sack s = {.region = 3, .cum = 100, .bad = 2, .bm_len = 2}, s2;
	s.bitmap[0] = 0x81;
	s.bitmap[1] = 0x01;
	n = s2_msg_bulk_sack_encode(buf, sizeof buf, &s);
	S2T_EQ(n, 18);
	S2T_EQ(s2_msg_bulk_sack_decode(buf, (size_t)n, &s2), 0);
	S2T_EQ(s2.cum, 100);
	S2T_EQ(s2.bitmap[0], 0x81);
	S2T_EQ(s2_msg_bulk_sack_decode(buf, (size_t)n - 1, &s2), S2_E_SHORT);
	S2T_EQ(s2_msg_bulk_sack_decode(buf, (size_t)n + 1, &s2), S2_E_LENGTH);
	buf[14] = S2_BULK_SACK_BITMAP_MAX + 1;
	S2T_EQ(s2_msg_bulk_sack_decode(buf, S2_MAX_PAYLOAD, &s2), S2_E_RANGE);
	s.bm_len = S2_BULK_SACK_BITMAP_MAX + 1;
	S2T_EQ(s2_msg_bulk_sack_encode(buf, sizeof buf, &s), S2_E_RANGE);

	uint32_t region;
	n = s2_msg_bulk_region_encode(buf, sizeof buf, 0x12345678u);
	S2T_EQ(s2_msg_bulk_region_decode(buf, (size_t)n, &region), 0);
	S2T_EQ(region, 0x12345678u);
	S2T_EQ(s2_msg_bulk_region_decode(buf, 5, &region), S2_E_LENGTH);
	S2T_CHECK(strcmp(s2_msg_name(S2_MSG_BULK_SACK), "BULK_SACK") == 0);
}

static void t_msg_app(void)
{
	struct s2_msg_app_status st = {.state = S2_APP_FAILED,
	                               .pes = 7,
	                               .steps_done = 3,
	                               .n_steps = 9,
	                               .pending = 2,
	                               .load_error = S2_E_NOSPACE,
	                               .load_chip = 4,
	                               .load_pe = 5,
	                               .synaptic_events = 123,
	                               .ring_saturated = 8};
	int n = s2_msg_app_status_encode(buf, sizeof buf, &st);
	S2T_EQ(n, 100);
	struct s2_msg_app_status st2;
	S2T_EQ(s2_msg_app_status_decode(buf, (size_t)n, &st2), 0);
	S2T_EQ(st2.load_error, S2_E_NOSPACE);
	S2T_EQ(st2.load_pe, 5);
	S2T_CHECK(st2.synaptic_events == 123 && st2.ring_saturated == 8);
	s2_st32(buf + 20, 1); /* a positive load error is malformed */
	S2T_EQ(s2_msg_app_status_decode(buf, (size_t)n, &st2), S2_E_RANGE);
	struct s2_msg_app_load al = {.blob_addr = 0x100000,
	                             .blob_len = 64,
	                             .rec_addr = {1, 2},
	                             .rec_size = {8, 0}},
	                       al2;
	n = s2_msg_app_load_encode(buf, sizeof buf, &al);
	S2T_EQ(n, 24);
	S2T_EQ(s2_msg_app_load_decode(buf, (size_t)n, &al2), 0);
	S2T_EQ(al2.rec_size[0], 8);
	S2T_EQ(al2.rec_hdr, S2_REC_HDR_LEN_V1); /* an earlier s2's body: the first header */
	al.rec_hdr = S2_REC_HDR_LEN;            /* asking for this s2's header: 4 bytes more */
	n = s2_msg_app_load_encode(buf, sizeof buf, &al);
	S2T_EQ(n, 28);
	S2T_EQ(s2_msg_app_load_decode(buf, (size_t)n, &al2), 0);
	S2T_EQ(al2.rec_hdr, S2_REC_HDR_LEN);
	s2_st32(buf + 24, S2_REC_HDR_LEN_V2); /* the second layout, of the s2 before the budget */
	S2T_EQ(s2_msg_app_load_decode(buf, (size_t)n, &al2), 0);
	S2T_EQ(al2.rec_hdr, S2_REC_HDR_LEN_V2);
	s2_st32(buf + 24, 64); /* a header length no s2 has */
	S2T_EQ(s2_msg_app_load_decode(buf, (size_t)n, &al2), S2_E_RANGE);
	S2T_EQ(s2_msg_app_load_decode(buf, 26, &al2), S2_E_SHORT);
	al.rec_hdr = 0;
	al.rec_size[1] = 4; /* a region too small for its header */
	n = s2_msg_app_load_encode(buf, sizeof buf, &al);
	S2T_EQ(s2_msg_app_load_decode(buf, (size_t)n, &al2), S2_E_RANGE);
	struct s2_msg_app_update up = {0x200000, 96}, up2;
	n = s2_msg_app_update_encode(buf, sizeof buf, &up);
	S2T_EQ(n, 8);
	S2T_EQ(s2_msg_app_update_decode(buf, (size_t)n, &up2), 0);
	S2T_CHECK(up2.blob_addr == 0x200000 && up2.blob_len == 96);
	up.blob_len = 0; /* no blob */
	n = s2_msg_app_update_encode(buf, sizeof buf, &up);
	S2T_EQ(s2_msg_app_update_decode(buf, (size_t)n, &up2), S2_E_RANGE);
	struct s2_msg_app_run r = {10, 4}, r2; /* unknown flag */
	n = s2_msg_app_run_encode(buf, sizeof buf, &r);
	S2T_EQ(s2_msg_app_run_decode(buf, (size_t)n, &r2), S2_E_RANGE);
}

const struct s2t_case s2_msg_cases[] = {
        S2T_CASE(t_fw_ident),       S2T_CASE(t_msg_board_id), S2T_CASE(t_msg_boot),
        S2T_CASE(t_msg_chip_info),  S2T_CASE(t_msg_mem),      S2T_CASE(t_msg_states_iobuf_signal),
        S2T_CASE(t_msg_bmp_status), S2T_CASE(t_msg_flash),    S2T_CASE(t_flash_image),
        S2T_CASE(t_msg_app),        S2T_CASE(t_msg_bulk),
};
const size_t s2_msg_ncases = sizeof s2_msg_cases / sizeof s2_msg_cases[0];
