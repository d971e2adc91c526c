/*
 * The monitor's command handler (monitor.h). Decodes each request with the proto codecs,
 * checks it against what the chip has, acts through the HAL and encodes the reply.
 */
#include "monitor.h"

#include <stdbool.h>
#include <string.h>

#include "s2/error.h"

#ifndef S2_VERSION_STRING
#error "S2_VERSION_STRING must be defined by the build"
#endif

const char s2_monitor_version[] = "s2-monitor " S2_VERSION_STRING;

static void mon_log(struct s2_monitor *m, uint8_t pe, const char *s)
{
	if (m->hal->log)
		m->hal->log(m->ctx, pe, s, strlen(s));
}

int s2_monitor_init(struct s2_monitor *m, const struct s2_mon_hal *hal, void *ctx,
                    const struct s2_mon_config *cfg)
{
	if (cfg->pes < 1 || cfg->pes > S2_MAX_CHIP_PES || cfg->monitor_pe >= cfg->pes ||
	    !s2_bitmap_get(cfg->pe_alive, cfg->monitor_pe))
		return S2_E_RANGE;
	memset(m, 0, sizeof *m);
	m->hal = hal;
	m->ctx = ctx;
	m->cfg = *cfg;
	for (unsigned p = 0; p < cfg->pes; p++)
		m->state[p] = s2_bitmap_get(cfg->pe_alive, p) ? S2_PE_STATE_IDLE : S2_PE_STATE_DEAD;
	m->state[cfg->monitor_pe] = S2_PE_STATE_MONITOR;
	mon_log(m, S2_PE_MONITOR, s2_monitor_version);
	mon_log(m, S2_PE_MONITOR, ": up\n");
	return 0;
}

/* Check a memory access against the chip's spaces. */
static int check_range(const struct s2_monitor *m, uint8_t space, uint8_t pe, uint32_t addr,
                       uint16_t len)
{
	uint64_t end = (uint64_t)addr + len;
	if (space == S2_MEM_DRAM)
		return end <= m->cfg.dram_bytes ? 0 : S2_E_RANGE;
	if (pe >= m->cfg.pes)
		return S2_E_RANGE;
	if (m->state[pe] == S2_PE_STATE_DEAD)
		return S2_E_DEAD;
	return end <= m->cfg.sram_per_pe ? 0 : S2_E_RANGE;
}

static int do_chip_info(struct s2_monitor *m, uint8_t *out, size_t cap)
{
	struct s2_msg_chip_info ci;
	memset(&ci, 0, sizeof ci);
	ci.chip = m->cfg.chip;
	ci.pes = m->cfg.pes;
	ci.links_alive = m->cfg.links_alive;
	memcpy(ci.pe_alive, m->cfg.pe_alive, S2_PE_BITMAP_LEN);
	ci.sram_per_pe = m->cfg.sram_per_pe;
	ci.router_entries = m->cfg.router_entries;
	ci.dram_bytes = m->cfg.dram_bytes;
	size_t n = strlen(s2_monitor_version);
	if (n > S2_VERSION_STR_LEN)
		n = S2_VERSION_STR_LEN;
	memcpy(ci.version, s2_monitor_version, n);
	ci.version[n] = 0;
	return s2_msg_chip_info_encode(out, cap, &ci);
}

static int do_mem_read(struct s2_monitor *m, uint8_t pe, const uint8_t *body, size_t len,
                       uint8_t *out, size_t cap)
{
	struct s2_msg_mem_read r;
	int rc = s2_msg_mem_read_decode(body, len, &r);
	if (rc < 0)
		return rc;
	if (r.len > cap)
		return S2_E_NOSPACE;
	rc = check_range(m, r.space, pe, r.addr, r.len);
	if (rc < 0)
		return rc;
	rc = m->hal->mem_read(m->ctx, r.space, pe, r.addr, out, r.len);
	return rc < 0 ? rc : r.len;
}

static int do_mem_write(struct s2_monitor *m, uint8_t pe, const uint8_t *body, size_t len)
{
	struct s2_msg_mem_write w;
	int rc = s2_msg_mem_write_decode(body, len, &w);
	if (rc < 0)
		return rc;
	if (m->scrub.rep.state == S2_SCRUB_RUNNING)
		return S2_E_STATE; /* the scrub would wipe it, or verify it as not zero */
	rc = check_range(m, w.space, pe, w.addr, w.len);
	if (rc < 0)
		return rc;
	rc = m->hal->mem_write(m->ctx, w.space, pe, w.addr, w.data, w.len);
	return rc < 0 ? rc : 0;
}

static int do_core_states(struct s2_monitor *m, uint8_t *out, size_t cap)
{
	struct s2_msg_core_states cs;
	cs.n = m->cfg.pes;
	memcpy(cs.state, m->state, cs.n);
	return s2_msg_core_states_encode(out, cap, &cs);
}

static int do_iobuf(struct s2_monitor *m, uint8_t pe, const uint8_t *body, size_t len, uint8_t *out,
                    size_t cap)
{
	struct s2_msg_iobuf_req q;
	int rc = s2_msg_iobuf_req_decode(body, len, &q);
	if (rc < 0)
		return rc;
	if (pe != S2_PE_MONITOR && pe >= m->cfg.pes)
		return S2_E_RANGE;
	static uint8_t data[S2_IOBUF_XFER_MAX]; /* one request at a time: no reentrancy */
	struct s2_msg_iobuf_rep rep = {.data = data};
	rc = m->hal->log_read(m->ctx, pe, q.offset, data, q.max_len, &rep.total, &rep.offset,
	                      &rep.len);
	if (rc < 0)
		return rc;
	return s2_msg_iobuf_rep_encode(out, cap, &rep);
}

static const char *const signal_name[] = {"", "start\n", "stop\n", "reset\n"};

static int do_signal(struct s2_monitor *m, const uint8_t *body, size_t len, uint8_t *out,
                     size_t cap)
{
	struct s2_msg_signal s;
	int rc = s2_msg_signal_decode(body, len, &s);
	if (rc < 0)
		return rc;
	if (s.signal == S2_SIG_START && m->scrub.rep.state == S2_SCRUB_RUNNING)
		return S2_E_STATE; /* no PE starts while its memory is being scrubbed */
	unsigned changed = 0;
	for (unsigned p = 0; p < 8u * S2_PE_BITMAP_LEN; p++) {
		if (!s2_bitmap_get(s.pes, p))
			continue;
		if (p >= m->cfg.pes)
			return S2_E_RANGE;
	}
	for (uint8_t p = 0; p < m->cfg.pes; p++) {
		if (!s2_bitmap_get(s.pes, p))
			continue;
		uint8_t st = m->state[p], next = st;
		if (st == S2_PE_STATE_DEAD || st == S2_PE_STATE_MONITOR)
			continue;
		if (s.signal == S2_SIG_START && st != S2_PE_STATE_RUNNING)
			next = S2_PE_STATE_RUNNING;
		else if (s.signal == S2_SIG_STOP && st == S2_PE_STATE_RUNNING)
			next = S2_PE_STATE_STOPPED;
		else if (s.signal == S2_SIG_RESET)
			next = S2_PE_STATE_IDLE;
		if (next != st || s.signal == S2_SIG_RESET) {
			m->state[p] = next;
			mon_log(m, p, "monitor: ");
			mon_log(m, p, signal_name[s.signal]);
			changed += next != st;
		}
	}
	if (cap < 2)
		return S2_E_NOSPACE;
	out[0] = (uint8_t)changed;
	out[1] = (uint8_t)(changed >> 8);
	return 2;
}

/* --- SCRUB (protocol 4.20) ------------------------------------------------------------- */

#define SCRUB_CHUNK (4u << 20) /* bytes per HAL call when the HAL zeroes or checks itself */

static uint8_t scrub_buf[S2_MEM_XFER_MAX]; /* one scrub at a time: no reentrancy */

static uint64_t region_len(const struct s2_monitor *m, unsigned r)
{
	return r == m->cfg.pes ? m->cfg.dram_bytes : m->cfg.sram_per_pe;
}

/* The next region at or after r that the scrub covers (cfg.pes: DRAM). */
static unsigned next_region(const struct s2_monitor *m, unsigned r)
{
	while (r < m->cfg.pes && !s2_bitmap_get(m->scrub.pes, r))
		r++;
	return r;
}

static void scrub_fail(struct s2_monitor *m, unsigned r, uint64_t addr)
{
	struct s2_msg_scrub_rep *s = &m->scrub.rep;
	if (!s->failures++) {
		s->fail_space = r == m->cfg.pes ? S2_MEM_DRAM : S2_MEM_SRAM;
		s->fail_pe = r == m->cfg.pes ? 0 : (uint8_t)r;
		s->fail_addr = (uint32_t)addr;
		mon_log(m, S2_PE_MONITOR, "monitor: scrub: a region failed\n");
	}
}

/* Zero n bytes at addr of region r; 0 or a negative code. */
static int scrub_zero(struct s2_monitor *m, uint8_t space, uint8_t pe, uint64_t addr, uint32_t n)
{
	if (m->hal->mem_zero)
		return m->hal->mem_zero(m->ctx, space, pe, addr, n);
	memset(scrub_buf, 0, n);
	return m->hal->mem_write(m->ctx, space, pe, (uint32_t)addr, scrub_buf, (uint16_t)n);
}

/* 0 if n bytes at addr read as zero, 1 (*at set) if not, or a negative code. */
static int scrub_check(struct s2_monitor *m, uint8_t space, uint8_t pe, uint64_t addr, uint32_t n,
                       uint32_t *at)
{
	if (m->hal->mem_find_nonzero)
		return m->hal->mem_find_nonzero(m->ctx, space, pe, addr, n, at);
	uint8_t *buf = scrub_buf;
	int rc = m->hal->mem_read(m->ctx, space, pe, (uint32_t)addr, buf, (uint16_t)n);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < n; i++)
		if (buf[i]) {
			*at = i;
			return 1;
		}
	return 0;
}

static void scrub_finish(struct s2_monitor *m)
{
	struct s2_msg_scrub_rep *s = &m->scrub.rep;
	bool ok = !s->failures && s->bytes_zeroed == s->bytes_total &&
	          s->bytes_verified == s->bytes_total;
	s->state = ok ? S2_SCRUB_DONE : S2_SCRUB_FAILED;
	mon_log(m, S2_PE_MONITOR,
	        ok ? "monitor: scrub done, verified\n" : "monitor: scrub FAILED\n");
}

int s2_monitor_scrub_step(struct s2_monitor *m, uint64_t budget)
{
	struct s2_mon_scrub *sc = &m->scrub;
	struct s2_msg_scrub_rep *s = &sc->rep;
	uint32_t chunk =
	        m->hal->mem_zero && m->hal->mem_find_nonzero ? SCRUB_CHUNK : S2_MEM_XFER_MAX;
	while (s->state == S2_SCRUB_RUNNING && budget) {
		unsigned r = next_region(m, sc->region);
		if (r > m->cfg.pes) { /* past DRAM: next phase, or done */
			if (s->phase == 0) {
				s->phase = 1;
				sc->region = 0;
				sc->off = 0;
				continue;
			}
			scrub_finish(m);
			break;
		}
		sc->region = (uint16_t)r;
		uint64_t left = region_len(m, r) - sc->off;
		if (!left) {
			sc->region++;
			sc->off = 0;
			continue;
		}
		uint32_t n = left < chunk ? (uint32_t)left : chunk;
		if (n > budget)
			n = (uint32_t)budget;
		uint8_t space = r == m->cfg.pes ? S2_MEM_DRAM : S2_MEM_SRAM;
		uint8_t pe = r == m->cfg.pes ? 0 : (uint8_t)r;
		if (s->phase == 0) {
			int rc = scrub_zero(m, space, pe, sc->off, n);
			if (rc < 0)
				scrub_fail(m, r, sc->off);
			else
				s->bytes_zeroed += n;
		} else {
			uint32_t at = 0;
			int rc = scrub_check(m, space, pe, sc->off, n, &at);
			if (rc < 0)
				scrub_fail(m, r, sc->off);
			else if (rc > 0) {
				scrub_fail(m, r, sc->off + at);
				s->bytes_verified += at;
			} else
				s->bytes_verified += n;
		}
		sc->off += n;
		budget -= n;
	}
	return s->state == S2_SCRUB_RUNNING;
}

/* Start a scrub: application PEs stop (to idle) and every live one's SRAM and the chip's
 * DRAM are then zeroed and read back by s2_monitor_scrub_step. */
static void scrub_start(struct s2_monitor *m)
{
	struct s2_mon_scrub *sc = &m->scrub;
	memset(sc, 0, sizeof *sc);
	uint16_t pes = 0;
	for (uint8_t p = 0; p < m->cfg.pes; p++) {
		uint8_t st = m->state[p];
		if (st == S2_PE_STATE_DEAD || st == S2_PE_STATE_MONITOR)
			continue;
		if (st != S2_PE_STATE_IDLE) {
			m->state[p] = S2_PE_STATE_IDLE;
			mon_log(m, p, "monitor: stopped for scrub\n");
		}
		s2_bitmap_set(sc->pes, p, true);
		pes++;
	}
	sc->rep.state = S2_SCRUB_RUNNING;
	sc->rep.pes = pes;
	sc->rep.bytes_total = (uint64_t)pes * m->cfg.sram_per_pe + m->cfg.dram_bytes;
	mon_log(m, S2_PE_MONITOR, "monitor: scrub started\n");
}

static int do_scrub(struct s2_monitor *m, const uint8_t *body, size_t len, uint8_t *out, size_t cap)
{
	struct s2_msg_scrub_req q;
	int rc = s2_msg_scrub_req_decode(body, len, &q);
	if (rc < 0)
		return rc;
	if (q.op == S2_SCRUB_START && m->scrub.rep.state != S2_SCRUB_RUNNING)
		scrub_start(m);
	return s2_msg_scrub_rep_encode(out, cap, &m->scrub.rep);
}

int s2_monitor_handle(struct s2_monitor *m, uint8_t type, uint8_t pe, const uint8_t *body,
                      size_t len, uint8_t *out, size_t cap)
{
	int rc;
	m->requests++;
	switch (type) {
	case S2_MSG_CHIP_INFO:
		rc = len ? S2_E_LENGTH : do_chip_info(m, out, cap);
		break;
	case S2_MSG_MEM_READ:
		rc = do_mem_read(m, pe, body, len, out, cap);
		break;
	case S2_MSG_MEM_WRITE:
		rc = do_mem_write(m, pe, body, len);
		break;
	case S2_MSG_CORE_STATES:
		rc = len ? S2_E_LENGTH : do_core_states(m, out, cap);
		break;
	case S2_MSG_IOBUF:
		rc = do_iobuf(m, pe, body, len, out, cap);
		break;
	case S2_MSG_SIGNAL:
		rc = do_signal(m, body, len, out, cap);
		break;
	case S2_MSG_SCRUB:
		rc = do_scrub(m, body, len, out, cap);
		break;
	default:
		rc = S2_E_TYPE;
		break;
	}
	if (rc < 0)
		m->errors++;
	return rc;
}
