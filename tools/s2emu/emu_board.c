/*
 * The protocol of an emulated board (docs/protocol.md section 4): discovery, boot with the
 * image checks and the flood fill over the chip mesh, the monitor commands forwarded to
 * every chip over the mesh, the board controller, and duplicate suppression through a
 * reply cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "emu.h"
#include "emu_live.h"
#include "emu_bulk.h"
#include "emu_fault.h"
#include "emu_geo.h"
#include "s2/crc32.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/fwident.h"

#ifndef S2_VERSION_STRING
#error "S2_VERSION_STRING must be defined by the build"
#endif

static const char emu_version[] = "s2emu " S2_VERSION_STRING;

static void announce_cb(evutil_socket_t fd, short what, void *arg);
static void scrub_cb(evutil_socket_t fd, short what, void *arg);

/* Bytes of scrub work per chip per turn of the event loop: the chips of a board scrub side by
 * side, as every chip's monitor does its own memory on silicon, and requests are served
 * between turns. */
#define EMU_SCRUB_BUDGET (64ull << 20)

/* --- chip HAL: what the monitor firmware sees as hardware ------------------------------ */

static int hal_mem_read(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, uint8_t *dst,
                        uint16_t len)
{
	struct emu_chip *c = ctx;
	if (space == S2_MEM_DRAM)
		return emu_mem_read(&c->dram, addr, dst, len);
	return emu_mem_read(&c->sram, (uint64_t)pe * c->mon.cfg.sram_per_pe + addr, dst, len);
}

static int hal_mem_write(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, const uint8_t *src,
                         uint16_t len)
{
	struct emu_chip *c = ctx;
	if (space == S2_MEM_DRAM)
		return emu_mem_write(&c->dram, addr, src, len);
	return emu_mem_write(&c->sram, (uint64_t)pe * c->mon.cfg.sram_per_pe + addr, src, len);
}

static struct emu_log *chip_log(struct emu_chip *c, uint8_t pe)
{
	if (pe == S2_PE_MONITOR)
		return &c->mon_log;
	if (pe >= c->mon.cfg.pes)
		return NULL;
	if (!c->pe_log) {
		c->pe_log = calloc(c->mon.cfg.pes, sizeof *c->pe_log);
		if (!c->pe_log)
			return NULL;
	}
	return &c->pe_log[pe];
}

static void hal_log(void *ctx, uint8_t pe, const char *text, size_t len)
{
	struct emu_chip *c = ctx;
	struct emu_log *l = chip_log(c, pe);
	if (l)
		(void)emu_log_write(l, pe == S2_PE_MONITOR ? EMU_MONITOR_LOG : EMU_PE_LOG, text,
		                    len);
}

static int hal_log_read(void *ctx, uint8_t pe, uint32_t offset, uint8_t *dst, uint16_t max,
                        uint32_t *total, uint32_t *start, uint16_t *n)
{
	struct emu_chip *c = ctx;
	struct emu_log *l = chip_log(c, pe);
	if (!l)
		return S2_E_NOMEM;
	emu_log_read(l, offset, dst, max, total, start, n);
	return 0;
}

static struct emu_mem *hal_space(struct emu_chip *c, uint8_t space, uint8_t pe, uint64_t *addr)
{
	if (space == S2_MEM_DRAM)
		return &c->dram;
	*addr += (uint64_t)pe * c->mon.cfg.sram_per_pe;
	return &c->sram;
}

/* Zeroing clears the pages that exist (absent ones read as zero, as untouched memory does). */
static int hal_mem_zero(void *ctx, uint8_t space, uint8_t pe, uint64_t addr, uint32_t len)
{
	struct emu_chip *c = ctx;
	struct emu_mem *m = hal_space(c, space, pe, &addr);
	int rc = emu_mem_zero(m, addr, len);
	uint64_t bad = (uint64_t)c->stuck_dram - 1; /* --stuck-dram: a cell that will not clear */
	if (rc == 0 && c->stuck_dram && space == S2_MEM_DRAM && bad >= addr && bad - addr < len)
		rc = emu_mem_write(m, bad, &(const uint8_t){0xA5}, 1);
	return rc;
}

static int hal_mem_find_nonzero(void *ctx, uint8_t space, uint8_t pe, uint64_t addr, uint32_t len,
                                uint32_t *at)
{
	struct emu_chip *c = ctx;
	struct emu_mem *m = hal_space(c, space, pe, &addr);
	uint64_t off = 0;
	int rc = emu_mem_find_nonzero(m, addr, len, &off);
	if (rc > 0)
		*at = (uint32_t)off;
	return rc;
}

static const struct s2_mon_hal chip_hal = {
        .mem_read = hal_mem_read,
        .mem_write = hal_mem_write,
        .mem_zero = hal_mem_zero,
        .mem_find_nonzero = hal_mem_find_nonzero,
        .log = hal_log,
        .log_read = hal_log_read,
};

/* --- board state ------------------------------------------------------------------------ */

static void free_chip_state(struct emu_chip *c)
{
	emu_app_free_chip(c);
	emu_mem_clear(&c->dram);
	emu_mem_clear(&c->sram);
	emu_log_free(&c->mon_log);
	if (c->pe_log) {
		for (unsigned p = 0; p < c->mon.cfg.pes; p++)
			emu_log_free(&c->pe_log[p]);
		free(c->pe_log);
		c->pe_log = NULL;
	}
	c->booted = false;
}

static void boot_reset(struct emu_board *b)
{
	free(b->image);
	free(b->have);
	b->image = NULL;
	b->have = NULL;
	b->n_blocks = b->blocks_have = 0;
}

static void unboot(struct emu_board *b)
{
	boot_reset(b);
	emu_bulk_reset(b);
	for (unsigned c = 0; c < b->n_chips; c++)
		free_chip_state(&b->chips[c]);
	b->chips_alive = 0;
	emu_app_stop(b);  /* and a new generation: loads on their way back are dropped */
	emu_live_free(b); /* a rebooted board forgets its streams */
	b->state = S2_BOARD_UNBOOTED;
	memset(b->cache, 0, EMU_REPLY_CACHE * sizeof *b->cache);
}

int emu_board_init(struct emu *e, struct emu_board *b, uint16_t index)
{
	memset(b, 0, sizeof *b);
	b->emu = e;
	b->index = index;
	b->serial = 0x52000000u + index;
	b->eth_fd = b->bmp_fd = -1;
	b->n_chips = emu_geo_chips(e);
	b->eth_chip = emu_geo_eth_chip(e);
	b->chips = calloc(b->n_chips, sizeof *b->chips);
	b->cache = calloc(EMU_REPLY_CACHE, sizeof *b->cache);
	if (!b->chips || !b->cache)
		return S2_E_NOMEM;
	for (unsigned c = 0; c < b->n_chips; c++) {
		struct emu_chip *ch = &b->chips[c];
		ch->board = b;
		ch->index = (uint16_t)c;
		emu_mem_init(&ch->dram, emu_geo_dram_bytes(e));
		emu_mem_init(&ch->sram, (uint64_t)emu_geo_pes(e) * emu_geo_sram_per_pe(e));
	}
	s2_lease_init(&b->lease);
	s2_guard_init(&b->guard);
	b->announce_ev = event_new(e->base, -1, EV_PERSIST, announce_cb, b);
	b->scrub_ev = evtimer_new(e->base, scrub_cb, b);
	if (!b->announce_ev || !b->scrub_ev)
		return S2_E_NOMEM;
	return emu_flash_open(&b->flash, e->flash_dir, index);
}

void emu_board_power(struct emu_board *b, bool on)
{
	unboot(b);
	b->powered = on;
	b->flash.booted_slot = S2_FLASH_NO_SLOT;
	if (on && emu_flash_power_on(&b->flash, b) == 0)
		event_del(b->announce_ev); /* booted from flash: nothing to announce */
	else if (on) {
		struct timeval tv = {1, 0};
		event_add(b->announce_ev, &tv);
		event_active(b->announce_ev, EV_TIMEOUT, 0); /* announce at once */
	} else {
		event_del(b->announce_ev);
	}
}

void emu_board_free(struct emu_board *b)
{
	if (b->chips) {
		unboot(b);
		free(b->chips);
	}
	free(b->cache);
	if (b->announce_ev)
		event_free(b->announce_ev);
	if (b->scrub_ev)
		event_free(b->scrub_ev);
	emu_flash_close(&b->flash);
	if (b->eth_ev)
		event_free(b->eth_ev);
	if (b->bmp_ev)
		event_free(b->bmp_ev);
}

static void board_id(const struct emu_board *b, struct s2_msg_board_id *id)
{
	memset(id, 0, sizeof *id);
	id->board = b->index;
	id->state = b->state;
	id->eth_chip = (uint8_t)b->eth_chip;
	id->serial = b->serial;
	id->chips = b->n_chips;
	id->pes_per_chip = (uint16_t)emu_geo_pes(b->emu);
	snprintf(id->version, sizeof id->version, "%s", emu_version);
}

static void announce_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct emu_board *b = arg;
	struct emu *e = b->emu;
	if (!e->announce_len || !b->powered || b->state == S2_BOARD_BOOTED)
		return;
	uint8_t body[64], dgram[S2_MAX_DATAGRAM];
	struct s2_msg_board_id id;
	board_id(b, &id);
	int n = s2_msg_board_id_encode(body, sizeof body, &id);
	struct s2_header h = {.type = S2_MSG_ANNOUNCE,
	                      .board = b->index,
	                      .chip = b->eth_chip,
	                      .pe = S2_PE_MONITOR};
	int len = s2_packet_encode(dgram, sizeof dgram, &h, body, (size_t)n);
	if (len > 0)
		emu_net_send(b, b->eth_fd, &e->announce_to, e->announce_len, dgram, (size_t)len);
}

/* --- boot: flood fill over the mesh ------------------------------------------------------ */

static uint8_t link_opposite(uint8_t l)
{
	return (uint8_t)((l + 3) % EMU_LINKS);
}

/* Does link l of chip c work, as seen from this board? Links to other boards work unless
 * injected dead; the host checks both ends. */
static bool link_alive(const struct emu_board *b, unsigned c, uint8_t l, int *same_board_nb)
{
	const struct emu_chip *ch = &b->chips[c];
	*same_board_nb = -1;
	if (ch->dead || (ch->links_dead >> l) & 1u)
		return false;
	int nb_board, nb_chip;
	if (!emu_geo_neighbour(b->emu, b->index, c, l, &nb_board, &nb_chip))
		return false; /* machine edge without wrap-around */
	if (nb_board != b->index)
		return true;
	const struct emu_chip *n = &b->chips[nb_chip];
	if (n->dead || (n->links_dead >> link_opposite(l)) & 1u)
		return false;
	*same_board_nb = nb_chip;
	return true;
}

static uint8_t links_alive_mask(const struct emu_board *b, unsigned c)
{
	uint8_t m = 0;
	for (uint8_t l = 0; l < EMU_LINKS; l++) {
		int nb;
		if (link_alive(b, c, l, &nb))
			m = (uint8_t)(m | 1u << l);
	}
	return m;
}

/* Breadth-first flood from the Ethernet chip: hop counts and the reply tree. */
static uint64_t flood(struct emu_board *b)
{
	uint16_t queue[S2_BOARD_MAX_CHIPS];
	unsigned head = 0, tail = 0;
	uint64_t reached = 0;
	if (b->chips[b->eth_chip].dead)
		return 0;
	reached |= 1ull << b->eth_chip;
	b->chips[b->eth_chip].hops = 0;
	b->chips[b->eth_chip].parent = (uint8_t)b->eth_chip;
	queue[tail++] = b->eth_chip;
	while (head < tail) {
		unsigned c = queue[head++];
		for (uint8_t l = 0; l < EMU_LINKS; l++) {
			int nb;
			if (!link_alive(b, c, l, &nb) || nb < 0 || (reached >> nb) & 1u)
				continue;
			reached |= 1ull << nb;
			b->chips[nb].hops = (uint8_t)(b->chips[c].hops + 1);
			b->chips[nb].parent = (uint8_t)c;
			queue[tail++] = (uint16_t)nb;
		}
	}
	return reached;
}

static int boot_chip(struct emu_board *b, unsigned c)
{
	struct emu *e = b->emu;
	struct emu_chip *ch = &b->chips[c];
	struct s2_mon_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.chip = (uint16_t)c;
	cfg.pes = (uint8_t)emu_geo_pes(e);
	cfg.monitor_pe = 0xFF;
	for (unsigned p = 0; p < cfg.pes; p++) {
		bool alive = !s2_bitmap_get(ch->pe_dead, p);
		s2_bitmap_set(cfg.pe_alive, p, alive);
		if (alive && cfg.monitor_pe == 0xFF)
			cfg.monitor_pe = (uint8_t)p; /* PE 0 unless it is dead */
	}
	if (cfg.monitor_pe == 0xFF)
		return S2_E_DEAD;
	cfg.links_alive = links_alive_mask(b, c);
	cfg.sram_per_pe = emu_geo_sram_per_pe(e);
	cfg.router_entries = emu_geo_router_entries(e);
	cfg.dram_bytes = emu_geo_dram_bytes(e);
	int rc = s2_monitor_init(&ch->mon, &chip_hal, ch, &cfg);
	if (rc == 0)
		ch->booted = true;
	return rc;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int boot_finish(struct emu_board *b)
{
	if (!b->image || b->blocks_have != b->n_blocks)
		return S2_E_STATE;
	if (s2_crc32(0, b->image, b->image_len) != b->image_crc)
		return S2_E_CRC;
	struct s2_fw_ident id;
	int rc = s2_fw_ident_decode(b->image, b->image_len, &id);
	if (rc < 0 || id.kind != S2_FW_MONITOR || id.protocol != S2_PROTOCOL_VERSION)
		return S2_E_FORMAT;
	uint64_t t0 = now_us();
	uint64_t reached = flood(b);
	b->chips_alive = 0;
	for (unsigned c = 0; c < b->n_chips; c++)
		if ((reached >> c) & 1u && boot_chip(b, c) == 0)
			b->chips_alive |= 1ull << c;
	b->boot_us = (uint32_t)(now_us() - t0);
	boot_reset(b);
	b->state = b->chips_alive ? S2_BOARD_BOOTED : S2_BOARD_UNBOOTED;
	return b->chips_alive ? 0 : S2_E_DEAD;
}

int emu_board_boot_image(struct emu_board *b, const uint8_t *image, size_t len)
{
	if (len == 0 || len > S2_FW_IMAGE_MAX)
		return S2_E_RANGE;
	unboot(b);
	b->image = malloc(len);
	if (!b->image)
		return S2_E_NOMEM;
	memcpy(b->image, image, len);
	b->image_len = (uint32_t)len;
	b->image_crc = s2_crc32(0, image, len);
	b->n_blocks = b->blocks_have = 1;
	int rc = boot_finish(b);
	if (rc < 0) {
		boot_reset(b);
		b->state = S2_BOARD_UNBOOTED;
	}
	return rc;
}

void emu_board_reroute(struct emu_board *b)
{
	if (b->state != S2_BOARD_BOOTED)
		return;
	uint64_t reached = flood(b);
	b->chips_alive &= reached;
	for (unsigned c = 0; c < b->n_chips; c++) {
		struct emu_chip *ch = &b->chips[c];
		if (ch->dead)
			b->chips_alive &= ~(1ull << c);
		if (ch->booted)
			ch->mon.cfg.links_alive = links_alive_mask(b, c);
	}
}

static int do_boot_start(struct emu_board *b, const uint8_t *p, size_t len)
{
	struct s2_msg_boot_start s;
	int rc = s2_msg_boot_start_decode(p, len, &s);
	if (rc < 0)
		return rc;
	if (s.image_len > S2_FW_IMAGE_MAX)
		return S2_E_RANGE;
	if (b->state == S2_BOARD_BOOTED)
		unboot(b); /* booting again restarts every chip */
	boot_reset(b);
	b->n_blocks = (s.image_len + s.block_size - 1) / s.block_size;
	b->image = malloc(s.image_len);
	b->have = calloc(b->n_blocks, 1);
	if (!b->image || !b->have) {
		boot_reset(b);
		return S2_E_NOMEM;
	}
	b->image_len = s.image_len;
	b->image_crc = s.image_crc;
	b->block_size = s.block_size;
	b->state = S2_BOARD_BOOTING;
	return 0;
}

static int do_boot_data(struct emu_board *b, const uint8_t *p, size_t len)
{
	struct s2_msg_boot_data d;
	int rc = s2_msg_boot_data_decode(p, len, &d);
	if (rc < 0)
		return rc;
	if (!b->image)
		return S2_E_STATE;
	if (d.block >= b->n_blocks)
		return S2_E_RANGE;
	uint32_t off = d.block * b->block_size;
	uint32_t want = b->image_len - off < b->block_size ? b->image_len - off : b->block_size;
	if (d.len != want)
		return S2_E_LENGTH;
	memcpy(b->image + off, d.data, d.len);
	if (!b->have[d.block]) {
		b->have[d.block] = 1;
		b->blocks_have++;
	}
	return 0;
}

static int board_status(const struct emu_board *b, uint8_t *out, size_t cap)
{
	struct s2_msg_board_status st = {.state = b->state,
	                                 .chips = (uint8_t)b->n_chips,
	                                 .chips_alive = b->chips_alive,
	                                 .boot_us = b->boot_us};
	return s2_msg_board_status_encode(out, cap, &st);
}

/* Run every booted chip's scrub a step; again next turn while any still runs. */
static void scrub_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct emu_board *b = arg;
	bool more = false;
	for (unsigned c = 0; c < b->n_chips; c++)
		if (b->chips[c].booted && s2_monitor_scrub_step(&b->chips[c].mon, EMU_SCRUB_BUDGET))
			more = true;
	if (more) {
		struct timeval now = {0, 0};
		evtimer_add(b->scrub_ev, &now);
	}
}

/* --- dispatch ----------------------------------------------------------------------------- */

static int chip_command(struct emu_board *b, const struct s2_header *h, const uint8_t *p,
                        uint8_t *out, size_t cap)
{
	if (b->state != S2_BOARD_BOOTED)
		return S2_E_STATE;
	unsigned c = h->chip == S2_ADDR_ANY ? b->eth_chip : h->chip;
	if (c >= b->n_chips)
		return S2_E_RANGE;
	if (!((b->chips_alive >> c) & 1u))
		return S2_E_DEAD;
	/* The command travels the boot tree to the chip and the reply comes back the same way. */
	b->st.mesh_hops += 2u * b->chips[c].hops;
	if ((h->type == S2_MSG_ROUTER_LOAD || h->type == S2_MSG_APP_LOAD) &&
	    b->chips[c].mon.scrub.rep.state == S2_SCRUB_RUNNING)
		return S2_E_STATE; /* nothing loads into memory being scrubbed */
	if (h->type == S2_MSG_ROUTER_LOAD)
		return emu_app_router_load(b, &b->chips[c], p, h->payload_len);
	if (h->type == S2_MSG_APP_LOAD)
		return emu_app_load(b, &b->chips[c], h->pe, p, h->payload_len);
	if (h->type == S2_MSG_APP_UPDATE)
		return emu_app_update(b, &b->chips[c], h->pe, p, h->payload_len);
	if (h->type == S2_MSG_SCRUB) {
		struct s2_msg_scrub_req q;
		if (s2_msg_scrub_req_decode(p, h->payload_len, &q) == 0 && q.op == S2_SCRUB_START &&
		    b->chips[c].mon.scrub.rep.state != S2_SCRUB_RUNNING) {
			emu_app_stop(b); /* the application's cores stop before their memory goes */
			struct timeval now = {0, 0};
			evtimer_add(b->scrub_ev, &now);
		}
	}
	return s2_monitor_handle(&b->chips[c].mon, h->type, h->pe, p, h->payload_len, out, cap);
}

static int eth_request(struct emu_board *b, const struct s2_header *h, const uint8_t *p,
                       uint8_t *out, size_t cap)
{
	struct s2_msg_board_id id;
	switch (h->type) {
	case S2_MSG_DISCOVER:
		if (h->payload_len)
			return S2_E_LENGTH;
		board_id(b, &id);
		return s2_msg_board_id_encode(out, cap, &id);
	case S2_MSG_BOOT_START:
		return do_boot_start(b, p, h->payload_len);
	case S2_MSG_BOOT_DATA:
		return do_boot_data(b, p, h->payload_len);
	case S2_MSG_BOOT_END: {
		if (h->payload_len)
			return S2_E_LENGTH;
		int rc = boot_finish(b);
		if (rc < 0) {
			if (b->state == S2_BOARD_BOOTING)
				b->state = S2_BOARD_UNBOOTED;
			return rc;
		}
		return board_status(b, out, cap);
	}
	case S2_MSG_BOARD_STATUS:
		if (h->payload_len)
			return S2_E_LENGTH;
		return board_status(b, out, cap);
	case S2_MSG_CHIP_INFO:
	case S2_MSG_MEM_READ:
	case S2_MSG_MEM_WRITE:
	case S2_MSG_CORE_STATES:
	case S2_MSG_IOBUF:
	case S2_MSG_SIGNAL:
	case S2_MSG_SCRUB:
	case S2_MSG_ROUTER_LOAD:
	case S2_MSG_APP_LOAD:
	case S2_MSG_APP_UPDATE:
		return chip_command(b, h, p, out, cap);
	case S2_MSG_BULK_BEGIN:
	case S2_MSG_BULK_POLL:
	case S2_MSG_BULK_END:
	case S2_MSG_BULK_READ:
		return emu_bulk_request(b, h, p, out, cap);
	case S2_MSG_APP_RUN:
		if (b->state != S2_BOARD_BOOTED)
			return S2_E_STATE;
		return emu_app_run(b, p, h->payload_len);
	case S2_MSG_APP_STATUS:
		if (h->payload_len)
			return S2_E_LENGTH;
		return emu_app_status(b, out, cap);
	case S2_MSG_APP_STOP:
		if (h->payload_len)
			return S2_E_LENGTH;
		emu_app_stop(b);
		return 0;
	case S2_MSG_STREAM_START:
		if (b->state != S2_BOARD_BOOTED)
			return S2_E_STATE;
		return emu_live_start(b, b->req_from, b->req_fromlen, p, h->payload_len);
	case S2_MSG_STREAM_STOP:
		return emu_live_stop(b, p, h->payload_len);
	case S2_MSG_INJECT:
		if (b->state != S2_BOARD_BOOTED)
			return S2_E_STATE;
		return emu_live_inject(b, p, h->payload_len, out, cap);
	default:
		return S2_E_TYPE;
	}
}

static int bmp_request(struct emu_board *b, const struct s2_header *h, const uint8_t *p,
                       uint8_t *out, size_t cap)
{
	switch (h->type) {
	case S2_MSG_BMP_INFO: {
		if (h->payload_len)
			return S2_E_LENGTH;
		struct s2_msg_bmp_info bi = {
		        .board = b->index, .power = b->powered, .serial = b->serial};
		snprintf(bi.version, sizeof bi.version, "%s bmp", emu_version);
		return s2_msg_bmp_info_encode(out, cap, &bi);
	}
	case S2_MSG_BMP_POWER: {
		uint8_t action;
		int rc = s2_msg_u8_decode(p, h->payload_len, &action);
		if (rc < 0)
			return rc;
		if (action > S2_POWER_RESET)
			return S2_E_RANGE;
		if (action == S2_POWER_ON && b->powered)
			return 0; /* already on: nothing changes */
		emu_board_power(b, false);
		if (action != S2_POWER_OFF)
			emu_board_power(b, true);
		return 0;
	}
	case S2_MSG_FLASH_STATUS:
	case S2_MSG_FLASH_BEGIN:
	case S2_MSG_FLASH_DATA:
	case S2_MSG_FLASH_READ:
	case S2_MSG_FLASH_COMMIT:
		if (!b->powered)
			return S2_E_STATE; /* the flash is on the board's power */
		return emu_flash_request(&b->flash, h->type, p, h->payload_len, out, cap);
	default:
		return S2_E_TYPE;
	}
}

static struct cached_reply *cache_find(struct emu_board *b, uint32_t seq, uint32_t req_crc,
                                       const struct sockaddr_storage *from, socklen_t fromlen)
{
	for (unsigned i = 0; i < EMU_REPLY_CACHE; i++) {
		struct cached_reply *c = &b->cache[i];
		if (c->used && c->seq == seq && c->req_crc == req_crc && c->fromlen == fromlen &&
		    memcmp(&c->from, from, fromlen) == 0)
			return c;
	}
	return NULL;
}

/* The board's millisecond clock for leases. */
static uint64_t board_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A sender's id for leases: its address and port, folded into 64 bits (FNV-1a). */
static uint64_t sender_id(const struct sockaddr_storage *from, socklen_t fromlen)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)from;
	for (socklen_t i = 0; i < fromlen; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Forced takeovers land in the Ethernet chip's monitor log (s2ctl iobuf) and on stderr. */
static void lease_log(void *ctx, const char *text)
{
	struct emu_board *b = ctx;
	struct emu_chip *c = &b->chips[b->eth_chip];
	(void)emu_log_write(&c->mon_log, EMU_MONITOR_LOG, text, strlen(text));
	fprintf(stderr, "s2emu: board %u: %s", b->index, text);
}

/* LEASE, and the lease check of requests that change the board (docs/protocol.md 4.18). */
static int lease_gate(struct emu_board *b, const struct s2_header *h, const uint8_t *p,
                      const struct sockaddr_storage *from, socklen_t fromlen, uint8_t *out,
                      size_t cap, bool *handled)
{
	*handled = h->type == S2_MSG_LEASE;
	if (!*handled && !s2_lease_guarded(h->type))
		return 0; /* reads: no clock, no sender id */
	uint64_t now = board_ms(), who = sender_id(from, fromlen);
	if (*handled)
		return s2_lease_handle(&b->lease, now, who, p, h->payload_len, out, cap, lease_log,
		                       b);
	if (s2_lease_check(&b->lease, now, who) < 0) {
		b->st.lease_refused++;
		return S2_E_BUSY;
	}
	return 0;
}

/* --fault-at: the process may stop or die here, before it acts. */
static void fault_point_for(uint8_t type)
{
	if (type == S2_MSG_BOOT_DATA)
		emu_fault_point(EMU_PH_BOOT);
	else if (type == S2_MSG_FLASH_DATA)
		emu_fault_point(EMU_PH_FLASH);
	else if (type == S2_MSG_BULK_BEGIN || type == S2_MSG_APP_LOAD)
		emu_fault_point(EMU_PH_LOAD);
	else if (type == S2_MSG_BULK_READ)
		emu_fault_point(EMU_PH_READOUT);
}

void emu_board_handle(struct emu_board *b, int fd, const struct sockaddr_storage *from,
                      socklen_t fromlen, const uint8_t *dgram, size_t len)
{
	bool is_bmp = fd == b->bmp_fd;
	if (!is_bmp && !b->powered) {
		b->st.dropped_off++;
		return;
	}
	struct s2_header h;
	const uint8_t *p;
	if (s2_packet_decode(dgram, len, &h, &p) < 0 || (h.flags & S2_F_REPLY)) {
		b->st.rx_bad++;
		return;
	}
	if (h.board != b->index && h.board != S2_ADDR_ANY) {
		b->st.rx_wrong_board++;
		return;
	}
	if (!is_bmp && emu_bulk_datagram(b, fd, &h, p, from, fromlen))
		return; /* bulk data and SACKs: never answered, never cached */
	/* A repeated request (a retransmission, or a duplicate made by the network) gets the
	 * reply it got the first time, without acting twice. */
	/* The same request: same sender, sequence number and bytes (a new sender that reuses a
	 * port and a sequence number is not a repeat). */
	uint32_t req_crc = s2_crc32(0, dgram, len);
	struct cached_reply *cr = cache_find(b, h.seq, req_crc, from, fromlen);
	if (cr) {
		b->st.dup_requests++;
		emu_net_send(b, fd, from, fromlen, cr->dgram, cr->len);
		return;
	}
	static uint8_t body[S2_MAX_PAYLOAD];
	/* Authentication (protocol 2.3): a forged or replayed request is dropped here, counted,
	 * before anything acts on it; one without a tag or with a key the board does not hold
	 * gets an S2_E_AUTH reply. */
	struct s2_guard_ctx gctx;
	int n = s2_guard_check(&b->guard, dgram, len, &h, p, &gctx);
	if (n < 0 && !gctx.answer)
		return;
	bool handled = n < 0;
	if (n == 0) {
		h.payload_len = gctx.body_len; /* the body, without the trailer */
		n = s2_guard_allowed(&b->guard, &gctx, h.type);
		handled = n < 0;
	}
	if (!handled && h.type == S2_MSG_KEY) {
		n = s2_guard_key_request(&b->guard, &gctx, p, h.payload_len, body,
		                         S2_AUTH_MAX_BODY);
		handled = true;
	}
	b->req_from = from;
	b->req_fromlen = fromlen;
	b->req_auth = gctx.slot >= 0;
	b->req_gctx = &gctx;
	/* An authenticated reply has room for less: its trailer. */
	size_t cap = gctx.slot >= 0 ? S2_AUTH_MAX_BODY : sizeof body;
	if (!handled) {
		fault_point_for(h.type);
		n = lease_gate(b, &h, p, from, fromlen, body, cap, &handled);
	}
	if (n >= 0 && !handled)
		n = is_bmp ? bmp_request(b, &h, p, body, cap) : eth_request(b, &h, p, body, cap);
	b->req_from = NULL;
	b->req_auth = false;
	b->req_gctx = NULL;
	struct s2_header r = h;
	r.flags = S2_F_REPLY;
	r.payload_len = 0;
	if (n < 0) {
		r.flags |= S2_F_ERROR;
		n = s2_msg_status_encode(body, sizeof body, n);
	}
	uint8_t out[S2_MAX_DATAGRAM];
	int olen = s2_guard_seal(&b->guard, &gctx, out, sizeof out, &r, body, (size_t)n);
	if (olen < 0)
		return;
	struct cached_reply *c = &b->cache[b->cache_next];
	b->cache_next = (b->cache_next + 1) % EMU_REPLY_CACHE;
	c->used = true;
	c->seq = h.seq;
	c->req_crc = req_crc;
	memcpy(&c->from, from, fromlen);
	c->fromlen = fromlen;
	c->len = (uint16_t)olen;
	memcpy(c->dgram, out, (size_t)olen);
	emu_net_send(b, fd, from, fromlen, out, (size_t)olen);
}
