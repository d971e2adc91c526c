/*
 * Encoders and checking decoders of the message bodies (msg.h, protocol section 4). Each
 * pair is written with the bounded cursors of wire.h; a decoder validates every field it
 * reads and requires the payload to be consumed exactly.
 */
#include "s2/msg.h"

#include <string.h>

#include "s2/error.h"
#include "s2/live.h"
#include "s2/packet.h"
#include "s2/wire.h"

static int wr_done(const struct s2_wr *w)
{
	return w->err ? w->err : (int)w->pos;
}

static void wr_zero(struct s2_wr *w, size_t n)
{
	uint8_t *p = s2_wr_take(w, n);
	if (p)
		memset(p, 0, n);
}

static void rd_reserved(struct s2_rd *r, size_t n)
{
	const uint8_t *p = s2_rd_take(r, n);
	for (size_t i = 0; p && i < n; i++)
		if (p[i])
			s2_rd_fail(r, S2_E_RESERVED);
}

static void wr_str(struct s2_wr *w, const char *s)
{
	uint8_t *p = s2_wr_take(w, S2_VERSION_STR_LEN);
	if (!p)
		return;
	size_t n = 0;
	while (n < S2_VERSION_STR_LEN && s[n]) /* strnlen is POSIX, not C11 */
		n++;
	memcpy(p, s, n);
	memset(p + n, 0, S2_VERSION_STR_LEN - n);
}

/* Printable ASCII, then only NUL padding (section 4.1). */
static void rd_str(struct s2_rd *r, char *out)
{
	const uint8_t *p = s2_rd_take(r, S2_VERSION_STR_LEN);
	out[0] = 0;
	if (!p)
		return;
	size_t n = 0;
	while (n < S2_VERSION_STR_LEN && p[n]) {
		if (p[n] < 0x20 || p[n] > 0x7E) {
			s2_rd_fail(r, S2_E_FORMAT);
			return;
		}
		n++;
	}
	for (size_t i = n; i < S2_VERSION_STR_LEN; i++)
		if (p[i]) {
			s2_rd_fail(r, S2_E_FORMAT);
			return;
		}
	memcpy(out, p, n);
	out[n] = 0;
}

static void rd_check(struct s2_rd *r, bool ok)
{
	if (!ok)
		s2_rd_fail(r, S2_E_RANGE);
}

static int rd_done(const struct s2_rd *r)
{
	return s2_rd_end(r);
}

int s2_msg_board_id_encode(uint8_t *out, size_t cap, const struct s2_msg_board_id *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u16(&w, m->board);
	s2_wr_u8(&w, m->state);
	s2_wr_u8(&w, m->eth_chip);
	s2_wr_u32(&w, m->serial);
	s2_wr_u16(&w, m->chips);
	s2_wr_u16(&w, m->pes_per_chip);
	wr_str(&w, m->version);
	return wr_done(&w);
}

int s2_msg_board_id_decode(const uint8_t *p, size_t len, struct s2_msg_board_id *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->board = s2_rd_u16(&r);
	m->state = s2_rd_u8(&r);
	m->eth_chip = s2_rd_u8(&r);
	m->serial = s2_rd_u32(&r);
	m->chips = s2_rd_u16(&r);
	m->pes_per_chip = s2_rd_u16(&r);
	rd_str(&r, m->version);
	rd_check(&r, m->state <= S2_BOARD_BOOTED);
	rd_check(&r, m->chips >= 1 && m->chips <= S2_BOARD_MAX_CHIPS);
	rd_check(&r, m->eth_chip < m->chips);
	rd_check(&r, m->pes_per_chip >= 1 && m->pes_per_chip <= S2_MAX_CHIP_PES);
	return rd_done(&r);
}

int s2_msg_boot_start_encode(uint8_t *out, size_t cap, const struct s2_msg_boot_start *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->image_len);
	s2_wr_u32(&w, m->image_crc);
	s2_wr_u16(&w, m->block_size);
	wr_zero(&w, 2);
	return wr_done(&w);
}

int s2_msg_boot_start_decode(const uint8_t *p, size_t len, struct s2_msg_boot_start *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->image_len = s2_rd_u32(&r);
	m->image_crc = s2_rd_u32(&r);
	m->block_size = s2_rd_u16(&r);
	rd_reserved(&r, 2);
	rd_check(&r, m->image_len >= 1);
	rd_check(&r, m->block_size >= 1 && m->block_size <= S2_BOOT_BLOCK_MAX);
	return rd_done(&r);
}

int s2_msg_boot_data_encode(uint8_t *out, size_t cap, const struct s2_msg_boot_data *m)
{
	if (m->len < 1 || m->len > S2_BOOT_BLOCK_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->block);
	s2_wr_bytes(&w, m->data, m->len);
	return wr_done(&w);
}

int s2_msg_boot_data_decode(const uint8_t *p, size_t len, struct s2_msg_boot_data *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->block = s2_rd_u32(&r);
	size_t n = s2_rd_left(&r);
	m->len = (uint16_t)n;
	m->data = s2_rd_take(&r, n);
	rd_check(&r, n >= 1 && n <= S2_BOOT_BLOCK_MAX);
	return rd_done(&r);
}

int s2_msg_board_status_encode(uint8_t *out, size_t cap, const struct s2_msg_board_status *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->state);
	s2_wr_u8(&w, m->chips);
	wr_zero(&w, 2);
	s2_wr_u32(&w, m->boot_us);
	s2_wr_u64(&w, m->chips_alive);
	return wr_done(&w);
}

int s2_msg_board_status_decode(const uint8_t *p, size_t len, struct s2_msg_board_status *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->state = s2_rd_u8(&r);
	m->chips = s2_rd_u8(&r);
	rd_reserved(&r, 2);
	m->boot_us = s2_rd_u32(&r);
	m->chips_alive = s2_rd_u64(&r);
	rd_check(&r, m->state <= S2_BOARD_BOOTED);
	rd_check(&r, m->chips >= 1 && m->chips <= S2_BOARD_MAX_CHIPS);
	if (m->chips < 64)
		rd_check(&r, (m->chips_alive >> m->chips) == 0);
	return rd_done(&r);
}

int s2_msg_chip_info_encode(uint8_t *out, size_t cap, const struct s2_msg_chip_info *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u16(&w, m->chip);
	s2_wr_u8(&w, m->pes);
	s2_wr_u8(&w, m->links_alive);
	s2_wr_bytes(&w, m->pe_alive, S2_PE_BITMAP_LEN);
	s2_wr_u32(&w, m->sram_per_pe);
	s2_wr_u32(&w, m->router_entries);
	s2_wr_u64(&w, m->dram_bytes);
	wr_str(&w, m->version);
	return wr_done(&w);
}

/* Bits at or beyond n in a PE bitmap must be zero. */
static bool bitmap_tail_clear(const uint8_t *bm, unsigned n)
{
	for (unsigned i = n; i < 8 * S2_PE_BITMAP_LEN; i++)
		if (s2_bitmap_get(bm, i))
			return false;
	return true;
}

int s2_msg_chip_info_decode(const uint8_t *p, size_t len, struct s2_msg_chip_info *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->chip = s2_rd_u16(&r);
	m->pes = s2_rd_u8(&r);
	m->links_alive = s2_rd_u8(&r);
	s2_rd_bytes(&r, m->pe_alive, S2_PE_BITMAP_LEN);
	m->sram_per_pe = s2_rd_u32(&r);
	m->router_entries = s2_rd_u32(&r);
	m->dram_bytes = s2_rd_u64(&r);
	rd_str(&r, m->version);
	rd_check(&r, m->chip < S2_BOARD_MAX_CHIPS);
	rd_check(&r, m->pes >= 1 && m->pes <= S2_MAX_CHIP_PES);
	rd_check(&r, m->links_alive < 64);
	rd_check(&r, bitmap_tail_clear(m->pe_alive, m->pes));
	return rd_done(&r);
}

int s2_msg_mem_read_encode(uint8_t *out, size_t cap, const struct s2_msg_mem_read *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->space);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->addr);
	s2_wr_u16(&w, m->len);
	wr_zero(&w, 2);
	return wr_done(&w);
}

int s2_msg_mem_read_decode(const uint8_t *p, size_t len, struct s2_msg_mem_read *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->space = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->addr = s2_rd_u32(&r);
	m->len = s2_rd_u16(&r);
	rd_reserved(&r, 2);
	rd_check(&r, m->space <= S2_MEM_SRAM);
	rd_check(&r, m->len >= 1 && m->len <= S2_MEM_XFER_MAX);
	return rd_done(&r);
}

int s2_msg_mem_write_encode(uint8_t *out, size_t cap, const struct s2_msg_mem_write *m)
{
	if (m->len < 1 || m->len > S2_MEM_XFER_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->space);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->addr);
	s2_wr_bytes(&w, m->data, m->len);
	return wr_done(&w);
}

int s2_msg_mem_write_decode(const uint8_t *p, size_t len, struct s2_msg_mem_write *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->space = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->addr = s2_rd_u32(&r);
	size_t n = s2_rd_left(&r);
	m->len = (uint16_t)n;
	m->data = s2_rd_take(&r, n);
	rd_check(&r, m->space <= S2_MEM_SRAM);
	rd_check(&r, n >= 1 && n <= S2_MEM_XFER_MAX);
	return rd_done(&r);
}

int s2_msg_core_states_encode(uint8_t *out, size_t cap, const struct s2_msg_core_states *m)
{
	if (m->n > S2_MAX_CHIP_PES)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->n);
	s2_wr_bytes(&w, m->state, m->n);
	return wr_done(&w);
}

int s2_msg_core_states_decode(const uint8_t *p, size_t len, struct s2_msg_core_states *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->n = s2_rd_u8(&r);
	rd_check(&r, m->n >= 1 && m->n <= S2_MAX_CHIP_PES);
	if (r.err)
		return r.err;
	s2_rd_bytes(&r, m->state, m->n);
	for (unsigned i = 0; !r.err && i < m->n; i++)
		rd_check(&r, m->state[i] <= S2_PE_STATE_MONITOR);
	return rd_done(&r);
}

int s2_msg_iobuf_req_encode(uint8_t *out, size_t cap, const struct s2_msg_iobuf_req *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->offset);
	s2_wr_u16(&w, m->max_len);
	wr_zero(&w, 2);
	return wr_done(&w);
}

int s2_msg_iobuf_req_decode(const uint8_t *p, size_t len, struct s2_msg_iobuf_req *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->offset = s2_rd_u32(&r);
	m->max_len = s2_rd_u16(&r);
	rd_reserved(&r, 2);
	rd_check(&r, m->max_len >= 1 && m->max_len <= S2_IOBUF_XFER_MAX);
	return rd_done(&r);
}

int s2_msg_iobuf_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_iobuf_rep *m)
{
	if (m->len > S2_IOBUF_XFER_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->total);
	s2_wr_u32(&w, m->offset);
	s2_wr_bytes(&w, m->data, m->len);
	return wr_done(&w);
}

int s2_msg_iobuf_rep_decode(const uint8_t *p, size_t len, struct s2_msg_iobuf_rep *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->total = s2_rd_u32(&r);
	m->offset = s2_rd_u32(&r);
	size_t n = s2_rd_left(&r);
	m->len = (uint16_t)n;
	m->data = s2_rd_take(&r, n);
	rd_check(&r, n <= S2_IOBUF_XFER_MAX);
	rd_check(&r, (uint64_t)m->offset + n <= m->total);
	return rd_done(&r);
}

int s2_msg_signal_encode(uint8_t *out, size_t cap, const struct s2_msg_signal *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->signal);
	wr_zero(&w, 3);
	s2_wr_bytes(&w, m->pes, S2_PE_BITMAP_LEN);
	return wr_done(&w);
}

int s2_msg_signal_decode(const uint8_t *p, size_t len, struct s2_msg_signal *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->signal = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	s2_rd_bytes(&r, m->pes, S2_PE_BITMAP_LEN);
	rd_check(&r, m->signal >= S2_SIG_START && m->signal <= S2_SIG_RESET);
	return rd_done(&r);
}

int s2_msg_scrub_req_encode(uint8_t *out, size_t cap, const struct s2_msg_scrub_req *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->op);
	wr_zero(&w, 3);
	return wr_done(&w);
}

int s2_msg_scrub_req_decode(const uint8_t *p, size_t len, struct s2_msg_scrub_req *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->op = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	rd_check(&r, m->op <= S2_SCRUB_START);
	return rd_done(&r);
}

int s2_msg_scrub_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_scrub_rep *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->state);
	s2_wr_u8(&w, m->phase);
	s2_wr_u16(&w, m->pes);
	s2_wr_u32(&w, m->failures);
	s2_wr_u64(&w, m->bytes_total);
	s2_wr_u64(&w, m->bytes_zeroed);
	s2_wr_u64(&w, m->bytes_verified);
	s2_wr_u32(&w, m->fail_addr);
	s2_wr_u8(&w, m->fail_space);
	s2_wr_u8(&w, m->fail_pe);
	wr_zero(&w, 2);
	return wr_done(&w);
}

int s2_msg_scrub_rep_decode(const uint8_t *p, size_t len, struct s2_msg_scrub_rep *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->state = s2_rd_u8(&r);
	m->phase = s2_rd_u8(&r);
	m->pes = s2_rd_u16(&r);
	m->failures = s2_rd_u32(&r);
	m->bytes_total = s2_rd_u64(&r);
	m->bytes_zeroed = s2_rd_u64(&r);
	m->bytes_verified = s2_rd_u64(&r);
	m->fail_addr = s2_rd_u32(&r);
	m->fail_space = s2_rd_u8(&r);
	m->fail_pe = s2_rd_u8(&r);
	rd_reserved(&r, 2);
	rd_check(&r, m->state <= S2_SCRUB_FAILED && m->phase <= 1 &&
	                     m->bytes_zeroed <= m->bytes_total &&
	                     m->bytes_verified <= m->bytes_total && m->pes <= S2_MAX_CHIP_PES &&
	                     m->fail_space <= S2_MEM_SRAM);
	return rd_done(&r);
}

int s2_msg_bmp_info_encode(uint8_t *out, size_t cap, const struct s2_msg_bmp_info *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u16(&w, m->board);
	s2_wr_u8(&w, m->power);
	wr_zero(&w, 1);
	s2_wr_u32(&w, m->serial);
	wr_str(&w, m->version);
	return wr_done(&w);
}

int s2_msg_bmp_info_decode(const uint8_t *p, size_t len, struct s2_msg_bmp_info *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->board = s2_rd_u16(&r);
	m->power = s2_rd_u8(&r);
	rd_reserved(&r, 1);
	m->serial = s2_rd_u32(&r);
	rd_str(&r, m->version);
	rd_check(&r, m->power <= 1);
	return rd_done(&r);
}

int s2_msg_lease_req_encode(uint8_t *out, size_t cap, const struct s2_msg_lease_req *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->op);
	s2_wr_u8(&w, m->flags);
	wr_zero(&w, 2);
	s2_wr_u32(&w, m->ttl_ms);
	s2_wr_u64(&w, m->token);
	wr_str(&w, m->holder);
	return wr_done(&w);
}

int s2_msg_lease_req_decode(const uint8_t *p, size_t len, struct s2_msg_lease_req *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->op = s2_rd_u8(&r);
	m->flags = s2_rd_u8(&r);
	rd_reserved(&r, 2);
	m->ttl_ms = s2_rd_u32(&r);
	m->token = s2_rd_u64(&r);
	rd_str(&r, m->holder);
	rd_check(&r, m->op <= S2_LEASE_RELEASE);
	rd_check(&r, (m->flags & ~(S2_LEASE_F_FORCE | S2_LEASE_F_RENEW)) == 0);
	/* renew only with acquire, and never with force (it must not take anything) */
	rd_check(&r, !(m->flags & S2_LEASE_F_RENEW) ||
	                     (m->op == S2_LEASE_ACQUIRE && !(m->flags & S2_LEASE_F_FORCE)));
	if (m->op == S2_LEASE_ACQUIRE)
		rd_check(&r, m->ttl_ms >= 1 && m->ttl_ms <= S2_LEASE_TTL_MAX);
	else
		rd_check(&r, m->ttl_ms == 0);
	rd_check(&r, m->op == S2_LEASE_STATUS || m->token != 0);
	return rd_done(&r);
}

int s2_msg_lease_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_lease_rep *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->held);
	s2_wr_u8(&w, m->mine);
	wr_zero(&w, 2);
	s2_wr_u32(&w, m->remaining_ms);
	s2_wr_u32(&w, m->refused);
	s2_wr_u32(&w, m->forced);
	wr_str(&w, m->holder);
	return wr_done(&w);
}

int s2_msg_lease_rep_decode(const uint8_t *p, size_t len, struct s2_msg_lease_rep *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->held = s2_rd_u8(&r);
	m->mine = s2_rd_u8(&r);
	rd_reserved(&r, 2);
	m->remaining_ms = s2_rd_u32(&r);
	m->refused = s2_rd_u32(&r);
	m->forced = s2_rd_u32(&r);
	rd_str(&r, m->holder);
	rd_check(&r, m->held <= 1 && m->mine <= m->held);
	return rd_done(&r);
}

int s2_msg_u8_decode(const uint8_t *p, size_t len, uint8_t *v)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	*v = s2_rd_u8(&r);
	return rd_done(&r);
}

int s2_msg_status_encode(uint8_t *out, size_t cap, int status)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, (uint32_t)status);
	return wr_done(&w);
}

int s2_msg_status_decode(const uint8_t *p, size_t len, int *status)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	uint32_t v = s2_rd_u32(&r);
	*status = (int)(int32_t)v;
	rd_check(&r, *status < 0);
	return rd_done(&r);
}

const char *s2_msg_name(unsigned type)
{
	switch (type) {
	case S2_MSG_ANNOUNCE:
		return "ANNOUNCE";
	case S2_MSG_DISCOVER:
		return "DISCOVER";
	case S2_MSG_BOOT_START:
		return "BOOT_START";
	case S2_MSG_BOOT_DATA:
		return "BOOT_DATA";
	case S2_MSG_BOOT_END:
		return "BOOT_END";
	case S2_MSG_BOARD_STATUS:
		return "BOARD_STATUS";
	case S2_MSG_LEASE:
		return "LEASE";
	case S2_MSG_CHIP_INFO:
		return "CHIP_INFO";
	case S2_MSG_MEM_READ:
		return "MEM_READ";
	case S2_MSG_MEM_WRITE:
		return "MEM_WRITE";
	case S2_MSG_CORE_STATES:
		return "CORE_STATES";
	case S2_MSG_IOBUF:
		return "IOBUF";
	case S2_MSG_SIGNAL:
		return "SIGNAL";
	case S2_MSG_SCRUB:
		return "SCRUB";
	case S2_MSG_BMP_INFO:
		return "BMP_INFO";
	case S2_MSG_BMP_POWER:
		return "BMP_POWER";
	case S2_MSG_ROUTER_LOAD:
		return "ROUTER_LOAD";
	case S2_MSG_APP_LOAD:
		return "APP_LOAD";
	case S2_MSG_APP_RUN:
		return "APP_RUN";
	case S2_MSG_APP_STATUS:
		return "APP_STATUS";
	case S2_MSG_APP_STOP:
		return "APP_STOP";
	case S2_MSG_APP_UPDATE:
		return "APP_UPDATE";
	case S2_MSG_FLASH_STATUS:
		return "FLASH_STATUS";
	case S2_MSG_FLASH_BEGIN:
		return "FLASH_BEGIN";
	case S2_MSG_FLASH_DATA:
		return "FLASH_DATA";
	case S2_MSG_FLASH_READ:
		return "FLASH_READ";
	case S2_MSG_FLASH_COMMIT:
		return "FLASH_COMMIT";
	case S2_MSG_BULK_BEGIN:
		return "BULK_BEGIN";
	case S2_MSG_BULK_DATA:
		return "BULK_DATA";
	case S2_MSG_BULK_SACK:
		return "BULK_SACK";
	case S2_MSG_BULK_POLL:
		return "BULK_POLL";
	case S2_MSG_BULK_END:
		return "BULK_END";
	case S2_MSG_BULK_READ:
		return "BULK_READ";
	case S2_MSG_STREAM_START:
		return "STREAM_START";
	case S2_MSG_STREAM_STOP:
		return "STREAM_STOP";
	case S2_MSG_STREAM_DATA:
		return "STREAM_DATA";
	case S2_MSG_INJECT:
		return "INJECT";
	default:
		return "UNKNOWN";
	}
}

/* --- flash (section 4.13) ------------------------------------------------------------------ */

static void wr_slot(struct s2_wr *w, const struct s2_msg_flash_slot *sl)
{
	s2_wr_u8(w, sl->state);
	wr_zero(w, 3);
	s2_wr_u32(w, sl->seq);
	s2_wr_u32(w, sl->length);
	s2_wr_u32(w, sl->crc);
	wr_str(w, sl->version);
}

static void rd_slot(struct s2_rd *r, struct s2_msg_flash_slot *sl)
{
	sl->state = s2_rd_u8(r);
	rd_reserved(r, 3);
	sl->seq = s2_rd_u32(r);
	sl->length = s2_rd_u32(r);
	sl->crc = s2_rd_u32(r);
	rd_str(r, sl->version);
	rd_check(r, sl->state <= S2_FLASH_BAD);
}

int s2_msg_flash_status_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_status *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u16(&w, m->board_type);
	s2_wr_u8(&w, m->booted_slot);
	wr_zero(&w, 1);
	s2_wr_u32(&w, m->slot_size);
	for (unsigned i = 0; i < S2_FLASH_SLOTS; i++)
		wr_slot(&w, &m->slot[i]);
	return wr_done(&w);
}

int s2_msg_flash_status_decode(const uint8_t *p, size_t len, struct s2_msg_flash_status *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->board_type = s2_rd_u16(&r);
	m->booted_slot = s2_rd_u8(&r);
	rd_reserved(&r, 1);
	m->slot_size = s2_rd_u32(&r);
	for (unsigned i = 0; i < S2_FLASH_SLOTS; i++)
		rd_slot(&r, &m->slot[i]);
	rd_check(&r, m->booted_slot < S2_FLASH_SLOTS || m->booted_slot == S2_FLASH_NO_SLOT);
	return rd_done(&r);
}

int s2_msg_flash_begin_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_begin *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->slot);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->length);
	s2_wr_u32(&w, m->crc);
	wr_str(&w, m->version);
	return wr_done(&w);
}

int s2_msg_flash_begin_decode(const uint8_t *p, size_t len, struct s2_msg_flash_begin *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->slot = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->length = s2_rd_u32(&r);
	m->crc = s2_rd_u32(&r);
	rd_str(&r, m->version);
	rd_check(&r, m->slot < S2_FLASH_SLOTS && m->length >= 1);
	return rd_done(&r);
}

int s2_msg_flash_data_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_data *m)
{
	if (m->len < 1 || m->raw_len < 1 || m->raw_len > S2_FLASH_RAW_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->slot);
	s2_wr_u8(&w, m->flags);
	s2_wr_u16(&w, m->raw_len);
	s2_wr_u32(&w, m->offset);
	s2_wr_u32(&w, m->raw_crc);
	s2_wr_bytes(&w, m->data, m->len);
	return wr_done(&w);
}

int s2_msg_flash_data_decode(const uint8_t *p, size_t len, struct s2_msg_flash_data *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->slot = s2_rd_u8(&r);
	m->flags = s2_rd_u8(&r);
	m->raw_len = s2_rd_u16(&r);
	m->offset = s2_rd_u32(&r);
	m->raw_crc = s2_rd_u32(&r);
	size_t n = s2_rd_left(&r);
	m->len = (uint16_t)n;
	m->data = s2_rd_take(&r, n);
	rd_check(&r, m->slot < S2_FLASH_SLOTS);
	rd_check(&r, (m->flags & ~S2_FLASH_F_ZLIB) == 0);
	rd_check(&r, m->raw_len >= 1 && m->raw_len <= S2_FLASH_RAW_MAX);
	rd_check(&r, n >= 1 && n <= S2_MAX_PAYLOAD - 12 &&
	                     (m->flags & S2_FLASH_F_ZLIB || n == m->raw_len));
	return rd_done(&r);
}

int s2_msg_flash_read_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_read *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->slot);
	wr_zero(&w, 1);
	s2_wr_u16(&w, m->len);
	s2_wr_u32(&w, m->offset);
	return wr_done(&w);
}

int s2_msg_flash_read_decode(const uint8_t *p, size_t len, struct s2_msg_flash_read *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->slot = s2_rd_u8(&r);
	rd_reserved(&r, 1);
	m->len = s2_rd_u16(&r);
	m->offset = s2_rd_u32(&r);
	rd_check(&r, m->slot < S2_FLASH_SLOTS);
	rd_check(&r, m->len >= 1 && m->len <= S2_FLASH_READ_MAX);
	return rd_done(&r);
}

int s2_msg_flash_commit_encode(uint8_t *out, size_t cap, const struct s2_msg_flash_commit *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->slot);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->length);
	s2_wr_u32(&w, m->crc);
	return wr_done(&w);
}

int s2_msg_flash_commit_decode(const uint8_t *p, size_t len, struct s2_msg_flash_commit *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->slot = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->length = s2_rd_u32(&r);
	m->crc = s2_rd_u32(&r);
	rd_check(&r, m->slot < S2_FLASH_SLOTS && m->length >= 1);
	return rd_done(&r);
}

/* --- applications (section 4.15) ----------------------------------------------------------- */

int s2_msg_router_load_encode(uint8_t *out, size_t cap, const struct s2_msg_router_load *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->addr);
	s2_wr_u32(&w, m->n_entries);
	return wr_done(&w);
}

int s2_msg_router_load_decode(const uint8_t *p, size_t len, struct s2_msg_router_load *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->addr = s2_rd_u32(&r);
	m->n_entries = s2_rd_u32(&r);
	rd_check(&r, m->n_entries <= 65536);
	return rd_done(&r);
}

int s2_msg_app_load_encode(uint8_t *out, size_t cap, const struct s2_msg_app_load *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->blob_addr);
	s2_wr_u32(&w, m->blob_len);
	for (int i = 0; i < 2; i++) {
		s2_wr_u32(&w, m->rec_addr[i]);
		s2_wr_u32(&w, m->rec_size[i]);
	}
	if (m->rec_hdr && m->rec_hdr != S2_REC_HDR_LEN_V1)
		s2_wr_u32(&w, m->rec_hdr);
	return wr_done(&w);
}

int s2_msg_app_load_decode(const uint8_t *p, size_t len, struct s2_msg_app_load *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->blob_addr = s2_rd_u32(&r);
	m->blob_len = s2_rd_u32(&r);
	for (int i = 0; i < 2; i++) {
		m->rec_addr[i] = s2_rd_u32(&r);
		m->rec_size[i] = s2_rd_u32(&r);
		rd_check(&r, m->rec_size[i] == 0 || m->rec_size[i] >= 8);
	}
	m->rec_hdr = S2_REC_HDR_LEN_V1;
	if (s2_rd_left(&r)) { /* the header length asked for: only this s2's */
		m->rec_hdr = s2_rd_u32(&r);
		rd_check(&r, m->rec_hdr == S2_REC_HDR_LEN || m->rec_hdr == S2_REC_HDR_LEN_V2);
	}
	rd_check(&r, m->blob_len >= 1 && m->blob_len <= (16u << 20));
	return rd_done(&r);
}

int s2_msg_app_update_encode(uint8_t *out, size_t cap, const struct s2_msg_app_update *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->blob_addr);
	s2_wr_u32(&w, m->blob_len);
	return wr_done(&w);
}

int s2_msg_app_update_decode(const uint8_t *p, size_t len, struct s2_msg_app_update *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->blob_addr = s2_rd_u32(&r);
	m->blob_len = s2_rd_u32(&r);
	rd_check(&r, m->blob_len >= 1 && m->blob_len <= (16u << 20));
	return rd_done(&r);
}

int s2_msg_app_run_encode(uint8_t *out, size_t cap, const struct s2_msg_app_run *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->n_steps);
	s2_wr_u32(&w, m->flags);
	return wr_done(&w);
}

int s2_msg_app_run_decode(const uint8_t *p, size_t len, struct s2_msg_app_run *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->n_steps = s2_rd_u32(&r);
	m->flags = s2_rd_u32(&r);
	rd_check(&r, (m->flags & ~(S2_APP_F_REALTIME | S2_APP_F_RESUME)) == 0);
	return rd_done(&r);
}

int s2_msg_app_status_encode(uint8_t *out, size_t cap, const struct s2_msg_app_status *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u8(&w, m->state);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->pes);
	s2_wr_u32(&w, m->steps_done);
	s2_wr_u32(&w, m->n_steps);
	s2_wr_u32(&w, m->pending);
	s2_wr_u32(&w, (uint32_t)m->load_error);
	s2_wr_u16(&w, m->load_chip);
	s2_wr_u16(&w, m->load_pe);
	const uint64_t *c = &m->neuron_updates;
	for (int i = 0; i < 9; i++)
		s2_wr_u64(&w, c[i]);
	return wr_done(&w);
}

int s2_msg_app_status_decode(const uint8_t *p, size_t len, struct s2_msg_app_status *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->state = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->pes = s2_rd_u32(&r);
	m->steps_done = s2_rd_u32(&r);
	m->n_steps = s2_rd_u32(&r);
	m->pending = s2_rd_u32(&r);
	m->load_error = (int32_t)s2_rd_u32(&r);
	m->load_chip = s2_rd_u16(&r);
	m->load_pe = s2_rd_u16(&r);
	uint64_t *c = &m->neuron_updates;
	for (int i = 0; i < 9; i++)
		c[i] = s2_rd_u64(&r);
	rd_check(&r, m->state <= S2_APP_FAILED && m->load_error <= 0);
	return rd_done(&r);
}

/* --- bulk transfers (section 4.16) --------------------------------------------------------- */

static void rd_bulk_geometry(struct s2_rd *r, uint8_t space, uint32_t len, uint16_t block_size)
{
	rd_check(r, space <= S2_MEM_SRAM);
	rd_check(r, len >= 1 && len <= S2_BULK_LEN_MAX);
	rd_check(r, block_size >= S2_BULK_BLOCK_MIN && block_size <= S2_BULK_BLOCK_MAX);
}

int s2_msg_bulk_begin_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_begin *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->region);
	s2_wr_u8(&w, m->space);
	wr_zero(&w, 3);
	s2_wr_u32(&w, m->addr);
	s2_wr_u32(&w, m->len);
	s2_wr_u32(&w, m->crc);
	s2_wr_u16(&w, m->block_size);
	wr_zero(&w, 2);
	return wr_done(&w);
}

int s2_msg_bulk_begin_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_begin *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->region = s2_rd_u32(&r);
	m->space = s2_rd_u8(&r);
	rd_reserved(&r, 3);
	m->addr = s2_rd_u32(&r);
	m->len = s2_rd_u32(&r);
	m->crc = s2_rd_u32(&r);
	m->block_size = s2_rd_u16(&r);
	rd_reserved(&r, 2);
	rd_bulk_geometry(&r, m->space, m->len, m->block_size);
	return rd_done(&r);
}

int s2_msg_bulk_read_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_read *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->region);
	s2_wr_u8(&w, m->space);
	s2_wr_u8(&w, m->flags);
	wr_zero(&w, 2);
	s2_wr_u32(&w, m->addr);
	s2_wr_u32(&w, m->len);
	s2_wr_u16(&w, m->block_size);
	s2_wr_u16(&w, m->window);
	return wr_done(&w);
}

int s2_msg_bulk_read_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_read *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->region = s2_rd_u32(&r);
	m->space = s2_rd_u8(&r);
	m->flags = s2_rd_u8(&r);
	rd_reserved(&r, 2);
	m->addr = s2_rd_u32(&r);
	m->len = s2_rd_u32(&r);
	m->block_size = s2_rd_u16(&r);
	m->window = s2_rd_u16(&r);
	rd_bulk_geometry(&r, m->space, m->len, m->block_size);
	rd_check(&r, (m->flags & ~S2_BULK_F_ZLIB) == 0);
	rd_check(&r, m->window >= 1 && m->window <= S2_BULK_WINDOW_MAX);
	return rd_done(&r);
}

int s2_msg_bulk_read_rep_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_read_rep *m)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->region);
	s2_wr_u32(&w, m->len);
	s2_wr_u32(&w, m->crc);
	s2_wr_u32(&w, m->n_blocks);
	return wr_done(&w);
}

int s2_msg_bulk_read_rep_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_read_rep *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->region = s2_rd_u32(&r);
	m->len = s2_rd_u32(&r);
	m->crc = s2_rd_u32(&r);
	m->n_blocks = s2_rd_u32(&r);
	rd_check(&r, m->len >= 1 && m->len <= S2_BULK_LEN_MAX);
	rd_check(&r, m->n_blocks >= 1 && m->n_blocks <= m->len);
	return rd_done(&r);
}

int s2_msg_bulk_data_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_data *m)
{
	if (m->len < 1 || m->len > S2_BULK_BLOCK_MAX || m->raw_len < 1 ||
	    m->raw_len > S2_BULK_BLOCK_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->region);
	s2_wr_u32(&w, m->block);
	s2_wr_u16(&w, m->raw_len);
	s2_wr_u8(&w, m->flags);
	wr_zero(&w, 1);
	s2_wr_u32(&w, m->raw_crc);
	s2_wr_bytes(&w, m->data, m->len);
	return wr_done(&w);
}

int s2_msg_bulk_data_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_data *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->region = s2_rd_u32(&r);
	m->block = s2_rd_u32(&r);
	m->raw_len = s2_rd_u16(&r);
	m->flags = s2_rd_u8(&r);
	rd_reserved(&r, 1);
	m->raw_crc = s2_rd_u32(&r);
	size_t n = s2_rd_left(&r);
	m->len = (uint16_t)n;
	m->data = s2_rd_take(&r, n);
	rd_check(&r, (m->flags & ~S2_BULK_F_ZLIB) == 0);
	rd_check(&r, m->raw_len >= 1 && m->raw_len <= S2_BULK_BLOCK_MAX);
	rd_check(&r, n >= 1 && n <= S2_BULK_BLOCK_MAX);
	rd_check(&r, (m->flags & S2_BULK_F_ZLIB) || n == m->raw_len);
	return rd_done(&r);
}

int s2_msg_bulk_sack_encode(uint8_t *out, size_t cap, const struct s2_msg_bulk_sack *m)
{
	if (m->bm_len > S2_BULK_SACK_BITMAP_MAX)
		return S2_E_RANGE;
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, m->region);
	s2_wr_u32(&w, m->cum);
	s2_wr_u32(&w, m->bad);
	s2_wr_u16(&w, m->flags);
	s2_wr_u16(&w, m->bm_len);
	s2_wr_bytes(&w, m->bitmap, m->bm_len);
	return wr_done(&w);
}

int s2_msg_bulk_sack_decode(const uint8_t *p, size_t len, struct s2_msg_bulk_sack *m)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	m->region = s2_rd_u32(&r);
	m->cum = s2_rd_u32(&r);
	m->bad = s2_rd_u32(&r);
	m->flags = s2_rd_u16(&r);
	m->bm_len = s2_rd_u16(&r);
	rd_check(&r, (m->flags & ~S2_BULK_SACK_F_TIMEOUT) == 0);
	rd_check(&r, m->bm_len <= S2_BULK_SACK_BITMAP_MAX);
	if (r.err)
		return r.err;
	s2_rd_bytes(&r, m->bitmap, m->bm_len);
	return rd_done(&r);
}

int s2_msg_bulk_region_encode(uint8_t *out, size_t cap, uint32_t region)
{
	struct s2_wr w;
	s2_wr_init(&w, out, cap);
	s2_wr_u32(&w, region);
	return wr_done(&w);
}

int s2_msg_bulk_region_decode(const uint8_t *p, size_t len, uint32_t *region)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	*region = s2_rd_u32(&r);
	return rd_done(&r);
}
