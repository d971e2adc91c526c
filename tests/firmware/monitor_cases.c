/*
 * Shared cases for the monitor's command handler (firmware/monitor/monitor.h), run under
 * cmocka on the host and by the firmware runner on Cortex-M4F under QEMU: the same handler
 * source must give the same answers on both. The HAL here is a small in-memory chip:
 * 152 PEs with 128 bytes of SRAM each and 4 KiB of DRAM.
 */
#include <string.h>

#include "guard.h"
#include "lease.h"
#include "monitor.h"
#include "s2/error.h"
#include "s2/msg.h"
#include "s2test.h"

#define T_PES 152u
#define T_SRAM 128u
#define T_DRAM 4096u
#define T_LOG 256u

static uint8_t t_sram[T_PES][T_SRAM];
static uint8_t t_dram[T_DRAM];
static char t_log[T_LOG];
static uint32_t t_log_total;

static int t_read(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, uint8_t *dst, uint16_t len)
{
	(void)ctx;
	memcpy(dst, space == S2_MEM_DRAM ? &t_dram[addr] : &t_sram[pe][addr], len);
	return 0;
}

static int t_stuck = -1; /* a DRAM byte that keeps 0xA5 whatever is written (a bad cell) */

static int t_write(void *ctx, uint8_t space, uint8_t pe, uint32_t addr, const uint8_t *src,
                   uint16_t len)
{
	(void)ctx;
	memcpy(space == S2_MEM_DRAM ? &t_dram[addr] : &t_sram[pe][addr], src, len);
	if (t_stuck >= 0)
		t_dram[t_stuck] = 0xA5;
	return 0;
}

/* One log for all PEs is enough here: the cases read only the monitor's. */
static void t_logw(void *ctx, uint8_t pe, const char *text, size_t len)
{
	(void)ctx;
	(void)pe;
	for (size_t i = 0; i < len; i++)
		t_log[(t_log_total + i) % T_LOG] = text[i];
	t_log_total += (uint32_t)len;
}

static int t_logr(void *ctx, uint8_t pe, uint32_t offset, uint8_t *dst, uint16_t max,
                  uint32_t *total, uint32_t *start, uint16_t *n)
{
	(void)ctx;
	(void)pe;
	uint32_t oldest = t_log_total > T_LOG ? t_log_total - T_LOG : 0;
	if (offset < oldest)
		offset = oldest;
	if (offset > t_log_total)
		offset = t_log_total;
	uint32_t k = t_log_total - offset < max ? t_log_total - offset : max;
	for (uint32_t i = 0; i < k; i++)
		dst[i] = (uint8_t)t_log[(offset + i) % T_LOG];
	*total = t_log_total;
	*start = offset;
	*n = (uint16_t)k;
	return 0;
}

static const struct s2_mon_hal t_hal = {t_read, t_write, t_logw, t_logr, NULL, NULL};
static struct s2_monitor mon;
static uint8_t out[S2_MAX_PAYLOAD];
static uint8_t req[S2_MAX_PAYLOAD];

static int setup(void)
{
	struct s2_mon_config cfg;
	memset(&cfg, 0, sizeof cfg);
	memset(t_sram, 0, sizeof t_sram);
	memset(t_dram, 0, sizeof t_dram);
	t_log_total = 0;
	cfg.chip = 7;
	cfg.pes = T_PES;
	cfg.monitor_pe = 0;
	cfg.links_alive = 0x2F;
	for (unsigned p = 0; p < T_PES; p++)
		s2_bitmap_set(cfg.pe_alive, p, p != 5);
	cfg.sram_per_pe = T_SRAM;
	cfg.router_entries = 16384;
	cfg.dram_bytes = T_DRAM;
	return s2_monitor_init(&mon, &t_hal, NULL, &cfg);
}

static void t_mon_chip_info_and_states(void)
{
	S2T_EQ(setup(), 0);
	int n = s2_monitor_handle(&mon, S2_MSG_CHIP_INFO, S2_PE_MONITOR, NULL, 0, out, sizeof out);
	S2T_EQ(n, 72);
	struct s2_msg_chip_info ci;
	S2T_EQ(s2_msg_chip_info_decode(out, (size_t)n, &ci), 0);
	S2T_EQ(ci.chip, 7);
	S2T_EQ(ci.pes, T_PES);
	S2T_EQ(ci.links_alive, 0x2F);
	S2T_CHECK(!s2_bitmap_get(ci.pe_alive, 5) && s2_bitmap_get(ci.pe_alive, 6));
	S2T_CHECK(strcmp(ci.version, s2_monitor_version) == 0);

	n = s2_monitor_handle(&mon, S2_MSG_CORE_STATES, S2_PE_MONITOR, NULL, 0, out, sizeof out);
	struct s2_msg_core_states cs;
	S2T_EQ(s2_msg_core_states_decode(out, (size_t)n, &cs), 0);
	S2T_EQ(cs.n, T_PES);
	S2T_EQ(cs.state[0], S2_PE_STATE_MONITOR);
	S2T_EQ(cs.state[5], S2_PE_STATE_DEAD);
	S2T_EQ(cs.state[151], S2_PE_STATE_IDLE);
	/* A body where none belongs. */
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_CHIP_INFO, 0, req, 1, out, sizeof out), S2_E_LENGTH);
	S2T_EQ(s2_monitor_handle(&mon, 0x7E, 0, NULL, 0, out, sizeof out), S2_E_TYPE);
}

static int scrub_req(uint8_t op, struct s2_msg_scrub_rep *rep)
{
	struct s2_msg_scrub_req q = {.op = op};
	int n = s2_msg_scrub_req_encode(req, sizeof req, &q);
	n = s2_monitor_handle(&mon, S2_MSG_SCRUB, S2_PE_MONITOR, req, (size_t)n, out, sizeof out);
	if (n < 0)
		return n;
	return s2_msg_scrub_rep_decode(out, (size_t)n, rep);
}

/* SCRUB (protocol 4.20): stop the PEs, zero every application PE's SRAM and the DRAM, read
 * them back, count bytes; a bad cell makes the scrub fail, never read as done. */
static void t_mon_scrub(void)
{
	S2T_EQ(setup(), 0);
	t_stuck = -1;
	struct s2_msg_scrub_rep rep;
	S2T_EQ(scrub_req(S2_SCRUB_STATUS, &rep), 0);
	S2T_EQ(rep.state, S2_SCRUB_NONE);
	S2T_EQ(s2_monitor_scrub_step(&mon, 1u << 20), 0);
	/* The previous tenant's data, and a running PE. */
	memset(t_dram, 0x3C, sizeof t_dram);
	for (unsigned p = 0; p < T_PES; p++)
		memset(t_sram[p], (int)(p + 1), T_SRAM);
	struct s2_msg_signal sig = {.signal = S2_SIG_START};
	s2_bitmap_set(sig.pes, 9, true);
	int n = s2_msg_signal_encode(req, sizeof req, &sig);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_SIGNAL, S2_PE_MONITOR, req, (size_t)n, out,
	                         sizeof out),
	       2);
	S2T_EQ(mon.state[9], S2_PE_STATE_RUNNING);

	S2T_EQ(scrub_req(S2_SCRUB_START, &rep), 0);
	S2T_EQ(rep.state, S2_SCRUB_RUNNING);
	S2T_EQ(rep.pes, T_PES - 2); /* not the dead PE 5, not the monitor's PE 0 */
	S2T_EQ(rep.bytes_total, (uint64_t)(T_PES - 2) * T_SRAM + T_DRAM);
	S2T_EQ(rep.bytes_zeroed, 0);
	S2T_EQ(mon.state[9], S2_PE_STATE_IDLE);
	/* Work is done in steps between requests; status reports progress. */
	S2T_EQ(s2_monitor_scrub_step(&mon, 1000), 1);
	S2T_EQ(scrub_req(S2_SCRUB_STATUS, &rep), 0);
	S2T_EQ(rep.state, S2_SCRUB_RUNNING);
	S2T_EQ(rep.phase, 0);
	S2T_EQ(rep.bytes_zeroed, 1000);
	S2T_EQ(rep.bytes_verified, 0);
	/* While it runs, nothing writes memory and no PE starts. */
	struct s2_msg_mem_write mw = {.space = S2_MEM_DRAM, .addr = 0, .data = t_dram, .len = 4};
	n = s2_msg_mem_write_encode(req, sizeof req, &mw);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_WRITE, 0, req, (size_t)n, out, sizeof out),
	       S2_E_STATE);
	n = s2_msg_signal_encode(req, sizeof req, &sig);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_SIGNAL, S2_PE_MONITOR, req, (size_t)n, out,
	                         sizeof out),
	       S2_E_STATE);
	/* A second START while it runs does not restart it. */
	S2T_EQ(scrub_req(S2_SCRUB_START, &rep), 0);
	S2T_EQ(rep.bytes_zeroed, 1000);
	unsigned steps = 0;
	while (s2_monitor_scrub_step(&mon, 4096) && steps < 1000)
		steps++;
	S2T_CHECK(steps > 2 && steps < 1000);
	S2T_EQ(scrub_req(S2_SCRUB_STATUS, &rep), 0);
	S2T_EQ(rep.state, S2_SCRUB_DONE);
	S2T_EQ(rep.failures, 0);
	S2T_EQ(rep.bytes_zeroed, rep.bytes_total);
	S2T_EQ(rep.bytes_verified, rep.bytes_total);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < T_DRAM; i++)
		nonzero += t_dram[i] != 0;
	for (unsigned p = 1; p < T_PES; p++)
		for (unsigned i = 0; i < T_SRAM; i++)
			nonzero += p != 5 && t_sram[p][i] != 0;
	S2T_EQ(nonzero, 0);
	S2T_EQ(t_sram[0][0], 1); /* the monitor's own SRAM is not the tenant's */
	S2T_EQ(t_sram[5][0], 6); /* a dead PE cannot be reached (nor read) */

	/* A bad DRAM cell at 100: the scrub fails, names it, and counts only what it verified. */
	t_stuck = 100;
	t_dram[100] = 0xA5;
	S2T_EQ(scrub_req(S2_SCRUB_START, &rep), 0);
	steps = 0;
	while (s2_monitor_scrub_step(&mon, 1u << 20) && steps < 100)
		steps++;
	S2T_EQ(scrub_req(S2_SCRUB_STATUS, &rep), 0);
	S2T_EQ(rep.state, S2_SCRUB_FAILED);
	S2T_EQ(rep.failures, 1);
	S2T_EQ(rep.fail_space, S2_MEM_DRAM);
	S2T_EQ(rep.fail_addr, 100);
	S2T_EQ(rep.bytes_zeroed, rep.bytes_total);
	S2T_EQ(rep.bytes_verified, rep.bytes_total - (S2_MEM_XFER_MAX - 100));
	t_stuck = -1;

	/* Bad requests. */
	memset(req, 0, 4);
	req[0] = 2;
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_SCRUB, S2_PE_MONITOR, req, 4, out, sizeof out),
	       S2_E_RANGE);
	req[0] = 1;
	req[2] = 1;
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_SCRUB, S2_PE_MONITOR, req, 4, out, sizeof out),
	       S2_E_RESERVED);
	S2T_CHECK(s2_monitor_handle(&mon, S2_MSG_SCRUB, S2_PE_MONITOR, req, 3, out, sizeof out) <
	          0);
	/* It changes the board: refused under another session's lease. */
	S2T_CHECK(s2_lease_guarded(S2_MSG_SCRUB));
}

static void t_mon_memory(void)
{
	S2T_EQ(setup(), 0);
	uint8_t data[100];
	for (unsigned i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ 0x5A);
	struct s2_msg_mem_write w = {
	        .space = S2_MEM_DRAM, .addr = T_DRAM - 100, .data = data, .len = 100};
	int n = s2_msg_mem_write_encode(req, sizeof req, &w);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_WRITE, 0, req, (size_t)n, out, sizeof out), 0);
	struct s2_msg_mem_read r = {.space = S2_MEM_DRAM, .addr = T_DRAM - 100, .len = 100};
	n = s2_msg_mem_read_encode(req, sizeof req, &r);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_READ, 0, req, (size_t)n, out, sizeof out), 100);
	S2T_CHECK(memcmp(out, data, 100) == 0);

	/* One byte past the end of DRAM, and of a PE's SRAM. */
	r.addr = T_DRAM - 99;
	n = s2_msg_mem_read_encode(req, sizeof req, &r);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_READ, 0, req, (size_t)n, out, sizeof out),
	       S2_E_RANGE);
	r.space = S2_MEM_SRAM;
	r.addr = 0;
	r.len = T_SRAM + 1;
	n = s2_msg_mem_read_encode(req, sizeof req, &r);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_READ, 9, req, (size_t)n, out, sizeof out),
	       S2_E_RANGE);
	/* SRAM of a dead PE, and of a PE the chip does not have. */
	r.len = 4;
	n = s2_msg_mem_read_encode(req, sizeof req, &r);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_READ, 5, req, (size_t)n, out, sizeof out),
	       S2_E_DEAD);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_READ, 152, req, (size_t)n, out, sizeof out),
	       S2_E_RANGE);
	/* SRAM writes land in the named PE only. */
	w.space = S2_MEM_SRAM;
	w.addr = T_SRAM - 4;
	w.len = 4;
	n = s2_msg_mem_write_encode(req, sizeof req, &w);
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_WRITE, 151, req, (size_t)n, out, sizeof out), 0);
	S2T_EQ(t_sram[151][T_SRAM - 1], data[3]);
	S2T_EQ(t_sram[150][T_SRAM - 1], 0);
	/* Malformed body. */
	S2T_EQ(s2_monitor_handle(&mon, S2_MSG_MEM_WRITE, 1, req, 8, out, sizeof out), S2_E_RANGE);
	S2T_CHECK(mon.errors >= 4);
}

static uint16_t signal(uint8_t sig, unsigned from, unsigned to)
{
	struct s2_msg_signal s;
	memset(&s, 0, sizeof s);
	s.signal = sig;
	for (unsigned p = from; p <= to; p++)
		s2_bitmap_set(s.pes, p, true);
	int n = s2_msg_signal_encode(req, sizeof req, &s);
	n = s2_monitor_handle(&mon, S2_MSG_SIGNAL, S2_PE_MONITOR, req, (size_t)n, out, sizeof out);
	return n == 2 ? (uint16_t)(out[0] | out[1] << 8) : 0xFFFF;
}

static void t_mon_signals_and_iobuf(void)
{
	S2T_EQ(setup(), 0);
	/* PEs 0..9: the monitor (0) and the dead PE (5) never change. */
	S2T_EQ(signal(S2_SIG_START, 0, 9), 8);
	S2T_EQ(mon.state[3], S2_PE_STATE_RUNNING);
	S2T_EQ(mon.state[0], S2_PE_STATE_MONITOR);
	S2T_EQ(mon.state[5], S2_PE_STATE_DEAD);
	S2T_EQ(signal(S2_SIG_START, 0, 9), 0);
	S2T_EQ(signal(S2_SIG_STOP, 3, 4), 2);
	S2T_EQ(mon.state[3], S2_PE_STATE_STOPPED);
	S2T_EQ(signal(S2_SIG_RESET, 0, 151), 8);
	S2T_EQ(mon.state[9], S2_PE_STATE_IDLE);

	struct s2_msg_iobuf_req q = {.offset = 0, .max_len = 1024};
	int n = s2_msg_iobuf_req_encode(req, sizeof req, &q);
	n = s2_monitor_handle(&mon, S2_MSG_IOBUF, S2_PE_MONITOR, req, (size_t)n, out, sizeof out);
	struct s2_msg_iobuf_rep rep;
	S2T_EQ(s2_msg_iobuf_rep_decode(out, (size_t)n, &rep), 0);
	S2T_EQ(rep.total, t_log_total);
	S2T_CHECK(rep.len > 0 && rep.offset + rep.len == rep.total);
	/* Reading past the end gives nothing, not an error. */
	q.offset = rep.total + 100;
	n = s2_msg_iobuf_req_encode(req, sizeof req, &q);
	n = s2_monitor_handle(&mon, S2_MSG_IOBUF, S2_PE_MONITOR, req, (size_t)n, out, sizeof out);
	S2T_EQ(s2_msg_iobuf_rep_decode(out, (size_t)n, &rep), 0);
	S2T_EQ(rep.len, 0);
}

/* Leases (lease.h, protocol 4.18): one board's lease on a millisecond clock. */
static struct s2_lease lease;
static char lease_logged[200];

static void lease_log(void *ctx, const char *text)
{
	(void)ctx;
	size_t n = strlen(lease_logged);
	for (size_t i = 0; text[i] && n + 1 < sizeof lease_logged; i++)
		lease_logged[n++] = text[i];
	lease_logged[n] = 0;
}

/* A LEASE request from sender at now; the reply decoded into *rep. Returns the status. */
static int lease_req(uint64_t now, uint64_t sender, uint8_t op, uint8_t flags, uint32_t ttl,
                     uint64_t token, const char *holder, struct s2_msg_lease_rep *rep)
{
	struct s2_msg_lease_req q = {.op = op, .flags = flags, .ttl_ms = ttl, .token = token};
	size_t i = 0;
	for (; holder[i] && i < S2_LEASE_HOLDER_LEN; i++)
		q.holder[i] = holder[i];
	q.holder[i] = 0;
	int n = s2_msg_lease_req_encode(req, sizeof req, &q);
	if (n < 0)
		return n;
	n = s2_lease_handle(&lease, now, sender, req, (size_t)n, out, sizeof out, lease_log, 0);
	if (n < 0)
		return n;
	return s2_msg_lease_rep_decode(out, (size_t)n, rep);
}

static void t_lease_take_keep_expire(void)
{
	struct s2_msg_lease_rep rep;
	s2_lease_init(&lease);
	lease_logged[0] = 0;
	/* Free: anyone may change the board. */
	S2T_EQ(s2_lease_check(&lease, 0, 7), 0);
	S2T_EQ(lease_req(1000, 7, S2_LEASE_ACQUIRE, 0, 30000, 0xA1, "alice", &rep), 0);
	S2T_EQ(rep.held, 1);
	S2T_EQ(rep.mine, 1);
	S2T_EQ(rep.remaining_ms, 30000);
	/* The holder's sender may act; another is refused at once, and counted. */
	S2T_EQ(s2_lease_check(&lease, 2000, 7), 0);
	S2T_EQ(s2_lease_check(&lease, 2000, 8), S2_E_BUSY);
	S2T_EQ(lease_req(2000, 8, S2_LEASE_ACQUIRE, 0, 30000, 0xB2, "bob", &rep), S2_E_BUSY);
	S2T_EQ(lease.refused, 2);
	/* STATUS from anyone names the holder and the time left. */
	S2T_EQ(lease_req(11000, 8, S2_LEASE_STATUS, 0, 0, 0, "", &rep), 0);
	S2T_EQ(rep.held, 1);
	S2T_EQ(rep.mine, 0);
	S2T_EQ(rep.remaining_ms, 20000);
	S2T_EQ(strcmp(rep.holder, "alice"), 0);
	/* The same token from a second socket joins the holder and renews. */
	S2T_EQ(lease_req(20000, 9, S2_LEASE_ACQUIRE, 0, 30000, 0xA1, "alice", &rep), 0);
	S2T_EQ(rep.remaining_ms, 30000);
	S2T_EQ(s2_lease_check(&lease, 20001, 9), 0);
	/* Not renewed: it expires, and the board is free again. */
	S2T_EQ(s2_lease_check(&lease, 49999, 8), S2_E_BUSY);
	S2T_EQ(s2_lease_check(&lease, 50000, 8), 0);
	S2T_EQ(lease_req(50000, 8, S2_LEASE_STATUS, 0, 0, 0, "", &rep), 0);
	S2T_EQ(rep.held, 0);
	/* Release by the holder frees it; release by another is refused. */
	S2T_EQ(lease_req(60000, 8, S2_LEASE_ACQUIRE, 0, 1000, 0xB2, "bob", &rep), 0);
	S2T_EQ(lease_req(60001, 7, S2_LEASE_RELEASE, 0, 0, 0xA1, "alice", &rep), S2_E_BUSY);
	S2T_EQ(lease_req(60002, 8, S2_LEASE_RELEASE, 0, 0, 0xB2, "bob", &rep), 0);
	S2T_EQ(rep.held, 0);
	S2T_CHECK(lease_logged[0] == 0); /* nothing forced so far: nothing logged */
	/* Renew only: extends the holder's lease; never takes a free, expired or other's one. */
	S2T_EQ(lease_req(70000, 7, S2_LEASE_ACQUIRE, S2_LEASE_F_RENEW, 1000, 0xA1, "alice", &rep),
	       S2_E_STATE); /* free (bob released it): not taken */
	S2T_EQ(lease_req(70001, 8, S2_LEASE_STATUS, 0, 0, 0, "", &rep), 0);
	S2T_EQ(rep.held, 0);
	S2T_EQ(lease_req(70002, 7, S2_LEASE_ACQUIRE, 0, 1000, 0xA1, "alice", &rep), 0);
	S2T_EQ(lease_req(70500, 7, S2_LEASE_ACQUIRE, S2_LEASE_F_RENEW, 1000, 0xA1, "alice", &rep),
	       0);
	S2T_EQ(rep.remaining_ms, 1000); /* renewed */
	S2T_EQ(lease_req(70600, 8, S2_LEASE_ACQUIRE, S2_LEASE_F_RENEW, 1000, 0xB2, "bob", &rep),
	       S2_E_STATE); /* another's: not taken, and not counted as a busy refusal */
	S2T_EQ(lease_req(70700, 8, S2_LEASE_STATUS, 0, 0, 0, "", &rep), 0);
	S2T_EQ(strcmp(rep.holder, "alice"), 0);
	S2T_EQ(lease_req(72000, 7, S2_LEASE_ACQUIRE, S2_LEASE_F_RENEW, 1000, 0xA1, "alice", &rep),
	       S2_E_STATE); /* expired at 71500: stays free */
	S2T_EQ(lease_req(72001, 8, S2_LEASE_STATUS, 0, 0, 0, "", &rep), 0);
	S2T_EQ(rep.held, 0);
}

static void t_lease_force_and_bad_requests(void)
{
	struct s2_msg_lease_rep rep;
	s2_lease_init(&lease);
	lease_logged[0] = 0;
	S2T_EQ(lease_req(0, 1, S2_LEASE_ACQUIRE, 0, 5000, 0x11, "job 1", &rep), 0);
	S2T_EQ(lease_req(10, 2, S2_LEASE_ACQUIRE, S2_LEASE_F_FORCE, 5000, 0x22, "operator", &rep),
	       0);
	S2T_EQ(rep.mine, 1);
	S2T_EQ(rep.forced, 1);
	S2T_EQ(strcmp(rep.holder, "operator"), 0);
	S2T_EQ(s2_lease_check(&lease, 20, 1), S2_E_BUSY); /* the old holder is out */
	S2T_CHECK(strstr(lease_logged, "taken by force by operator") != NULL);
	S2T_CHECK(strstr(lease_logged, "job 1") != NULL);
	/* Malformed: no token, a TTL of 0 or over an hour, an unknown op or flag. */
	S2T_EQ(lease_req(30, 3, S2_LEASE_ACQUIRE, 0, 5000, 0, "x", &rep), S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, S2_LEASE_ACQUIRE, 0, 0, 5, "x", &rep), S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, S2_LEASE_ACQUIRE, 0, S2_LEASE_TTL_MAX + 1, 5, "x", &rep),
	       S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, 3, 0, 0, 5, "x", &rep), S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, S2_LEASE_STATUS, 0x80, 0, 0, "", &rep), S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, S2_LEASE_RELEASE, S2_LEASE_F_RENEW, 0, 5, "x", &rep), S2_E_RANGE);
	S2T_EQ(lease_req(30, 3, S2_LEASE_ACQUIRE, S2_LEASE_F_RENEW | S2_LEASE_F_FORCE, 5000, 5, "x",
	                 &rep),
	       S2_E_RANGE);
	/* Eight sockets may act for one holder; a ninth is refused, not silently ignored. */
	for (uint64_t k = 10; k < 10 + S2_LEASE_SENDERS - 1; k++)
		S2T_EQ(lease_req(40, k, S2_LEASE_ACQUIRE, 0, 5000, 0x22, "operator", &rep), 0);
	S2T_EQ(lease_req(40, 99, S2_LEASE_ACQUIRE, 0, 5000, 0x22, "operator", &rep), S2_E_NOSPACE);
	/* What needs the lease: changes, never reads. */
	S2T_CHECK(s2_lease_guarded(S2_MSG_APP_LOAD) && s2_lease_guarded(S2_MSG_MEM_WRITE) &&
	          s2_lease_guarded(S2_MSG_FLASH_DATA) && s2_lease_guarded(S2_MSG_BMP_POWER) &&
	          s2_lease_guarded(S2_MSG_BOOT_START) && s2_lease_guarded(S2_MSG_APP_RUN));
	S2T_CHECK(!s2_lease_guarded(S2_MSG_MEM_READ) && !s2_lease_guarded(S2_MSG_APP_STATUS) &&
	          !s2_lease_guarded(S2_MSG_CHIP_INFO) && !s2_lease_guarded(S2_MSG_LEASE));
}

/* The guard (guard.h, protocol 2.3 and 4.19): tags, replay window, sessions, roles, KEY. */
static struct s2_guard guard;
static uint8_t g_dgram[S2_MAX_DATAGRAM];

static void g_key(uint8_t *k, uint8_t seed)
{
	for (unsigned i = 0; i < S2_AUTH_KEY_LEN; i++)
		k[i] = (uint8_t)(seed + 7u * i);
}

/* A request of type with body[0..len), authenticated with key (or plain if !key). */
static int g_req(const uint8_t *key, uint32_t key_id, uint64_t session, uint32_t counter,
                 uint8_t type, const uint8_t *body, size_t len)
{
	struct s2_header h = {.type = type, .seq = counter, .board = 0, .chip = 0xFFFF, .pe = 0xFF};
	if (!key)
		return s2_packet_encode(g_dgram, sizeof g_dgram, &h, body, len);
	struct s2_auth_trailer t = {.key_id = key_id, .counter = counter, .session = session};
	int n = s2_auth_encode(g_dgram, sizeof g_dgram, &h, body, len, &t);
	if (n < 0)
		return n;
	struct s2_auth_key k;
	uint8_t tag[S2_AUTH_TAG_LEN];
	s2_auth_key_init(&k, key);
	s2_auth_mac(&k, g_dgram, (size_t)n, tag);
	s2_packet_set_tag(g_dgram, (size_t)n, tag);
	return n;
}

static int g_check(int n, struct s2_guard_ctx *ctx)
{
	struct s2_header h;
	const uint8_t *p;
	if (n < 0 || s2_packet_decode(g_dgram, (size_t)n, &h, &p) < 0)
		return S2_E_FORMAT;
	return s2_guard_check(&guard, g_dgram, (size_t)n, &h, p, ctx);
}

static void t_guard_tags_and_replay(void)
{
	uint8_t km[S2_AUTH_KEY_LEN], kx[S2_AUTH_KEY_LEN];
	struct s2_guard_ctx ctx;
	const uint64_t S = 0x1000;
	g_key(km, 1);
	g_key(kx, 2);
	s2_guard_init(&guard);
	/* No key: everything passes unauthenticated, as before authentication existed. */
	S2T_CHECK(!s2_guard_active(&guard));
	S2T_EQ(g_check(g_req(NULL, 0, 0, 1, S2_MSG_MEM_WRITE, NULL, 0), &ctx), 0);
	S2T_EQ(ctx.slot, -1);
	S2T_EQ(g_check(g_req(km, 5, S, 1, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	S2T_EQ(guard.st.unknown_key, 1);
	S2T_EQ(s2_guard_add(&guard, 5, S2_KEY_MACHINE, km), 0);
	S2T_EQ(s2_guard_add(&guard, 0, S2_KEY_MACHINE, km), S2_E_RANGE);
	S2T_EQ(s2_guard_add(&guard, 6, 9, km), S2_E_RANGE);
	S2T_CHECK(s2_guard_active(&guard));
	/* No tag: refused and answered; DISCOVER is open. */
	S2T_EQ(g_check(g_req(NULL, 0, 0, 1, S2_MSG_MEM_WRITE, NULL, 0), &ctx), S2_E_AUTH);
	S2T_CHECK(ctx.answer);
	S2T_EQ(guard.st.unauth, 1);
	S2T_EQ(g_check(g_req(NULL, 0, 0, 1, S2_MSG_DISCOVER, NULL, 0), &ctx), 0);
	/* Another key under the same id: a bad tag, dropped silently. */
	S2T_EQ(g_check(g_req(kx, 5, S, 1, S2_MSG_MEM_WRITE, NULL, 0), &ctx), S2_E_AUTH);
	S2T_CHECK(!ctx.answer);
	S2T_EQ(guard.st.bad_tag, 1);
	/* The right key: accepted once; the same counter again is a replay. */
	static const uint8_t body[3] = {1, 2, 3};
	int n = g_req(km, 5, S, 1, S2_MSG_MEM_WRITE, body, sizeof body);
	S2T_EQ(g_check(n, &ctx), 0);
	S2T_EQ(ctx.slot, 0);
	S2T_EQ(ctx.body_len, 3);
	S2T_EQ(g_check(n, &ctx), S2_E_AUTH);
	S2T_CHECK(!ctx.answer);
	S2T_EQ(guard.st.replayed, 1);
	/* Reordering inside the window is accepted, once. */
	S2T_EQ(g_check(g_req(km, 5, S, 4, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 3, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 2, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 3, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	/* Far ahead: the window slides; what fell out of it is refused. */
	S2T_EQ(g_check(g_req(km, 5, S, 4 + S2_GUARD_WINDOW, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 5, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 4, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	S2T_EQ(g_check(g_req(km, 5, S, 1 + 37 + 64, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, S, 1 + 37 + 64, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	S2T_EQ(guard.st.replayed, 4);
	/* Counter 0 and session 0 are never valid. */
	S2T_EQ(g_check(g_req(km, 5, S, 0, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	S2T_EQ(g_check(g_req(km, 5, 0, 9, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_AUTH);
	/* A damaged trailer (payload shorter than a trailer) is a bad tag. */
	S2T_EQ(guard.st.bad_tag, 3);
}

static void t_guard_sessions_and_reply(void)
{
	uint8_t km[S2_AUTH_KEY_LEN];
	struct s2_guard_ctx ctx;
	g_key(km, 1);
	s2_guard_init(&guard);
	S2T_EQ(s2_guard_add(&guard, 5, S2_KEY_MACHINE, km), 0);
	/* Sessions 0x100.. fill the table; one more forgets the least recently used (0x100),
	 * which, and everything older, is refused from then on. */
	for (uint64_t s = 0x100; s < 0x100 + S2_GUARD_SESSIONS; s++)
		S2T_EQ(g_check(g_req(km, 5, s, 1, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, 0x101, 2, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, 0x200, 1, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(g_check(g_req(km, 5, 0x100, 2, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_STALE);
	S2T_CHECK(ctx.answer && ctx.slot == 0); /* told, under the key, to start anew */
	S2T_EQ(g_check(g_req(km, 5, 0x0FF, 1, S2_MSG_MEM_READ, NULL, 0), &ctx), S2_E_STALE);
	S2T_EQ(g_check(g_req(km, 5, 0x101, 3, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	S2T_EQ(guard.st.replayed, 2);
	/* The reply is sealed with the request's key, session and counter. */
	S2T_EQ(g_check(g_req(km, 5, 0x101, 4, S2_MSG_MEM_READ, NULL, 0), &ctx), 0);
	struct s2_header r = {
	        .type = S2_MSG_MEM_READ, .flags = S2_F_REPLY, .seq = 4, .chip = 0xFFFF, .pe = 0xFF};
	static const uint8_t body[5] = {9, 8, 7, 6, 5};
	uint8_t rdg[S2_MAX_DATAGRAM];
	int n = s2_guard_seal(&guard, &ctx, rdg, sizeof rdg, &r, body, sizeof body);
	S2T_EQ(n, 40 + 5 + 16);
	struct s2_header d;
	const uint8_t *p;
	S2T_EQ(s2_packet_decode(rdg, (size_t)n, &d, &p), 0);
	S2T_CHECK(d.flags & S2_F_AUTH);
	struct s2_auth_key k;
	uint8_t tag[S2_AUTH_TAG_LEN];
	s2_auth_key_init(&k, km);
	s2_auth_mac(&k, rdg, (size_t)n, tag);
	S2T_CHECK(s2_auth_tag_equal(tag, d.auth_tag));
	struct s2_auth_trailer t;
	S2T_EQ(s2_auth_trailer_get(p, d.payload_len, &t), 0);
	S2T_EQ(t.counter, 4);
	S2T_EQ(t.session, 0x101);
	S2T_EQ(t.key_id, 5);
	S2T_CHECK(memcmp(p, body, sizeof body) == 0);
}

static int g_key_req(const uint8_t *key, uint32_t key_id, uint32_t counter,
                     const struct s2_msg_key_req *q, struct s2_msg_key_rep *rep)
{
	uint8_t b[S2_KEY_REQ_LEN], kr[128];
	struct s2_guard_ctx ctx;
	int n = s2_msg_key_req_encode(b, sizeof b, q);
	if (n < 0)
		return n;
	int rc = g_check(g_req(key, key_id, 0x500, counter, S2_MSG_KEY, b, (size_t)n), &ctx);
	if (rc < 0)
		return rc;
	n = s2_guard_key_request(&guard, &ctx, b, (size_t)n, kr, sizeof kr);
	if (n < 0)
		return n;
	return rep ? s2_msg_key_rep_decode(kr, (size_t)n, rep) : 0;
}

static void t_guard_job_keys(void)
{
	uint8_t km[S2_AUTH_KEY_LEN], kj[S2_AUTH_KEY_LEN];
	struct s2_guard_ctx ctx;
	struct s2_msg_key_rep rep;
	g_key(km, 1);
	g_key(kj, 77);
	s2_guard_init(&guard);
	S2T_EQ(s2_guard_add(&guard, 5, S2_KEY_MACHINE, km), 0);
	/* The machine key installs job key 9, wrapped for this very datagram (counter 1). */
	struct s2_msg_key_req q = {.op = S2_KEY_ADD, .role = S2_KEY_JOB, .key_id = 9};
	struct s2_auth_trailer t = {.key_id = 5, .counter = 1, .session = 0x500};
	s2_auth_wrap(km, &t, kj, q.wrapped);
	S2T_CHECK(memcmp(q.wrapped, kj, sizeof kj) != 0);
	S2T_EQ(g_key_req(km, 5, 1, &q, &rep), 0);
	S2T_EQ(rep.n, 2);
	S2T_EQ(rep.key_id[1], 9);
	S2T_EQ(rep.role[1], S2_KEY_JOB);
	/* The job key works, but not for flash or key management. */
	S2T_EQ(g_check(g_req(kj, 9, 0x600, 1, S2_MSG_MEM_WRITE, NULL, 0), &ctx), 0);
	S2T_EQ(s2_guard_allowed(&guard, &ctx, S2_MSG_MEM_WRITE), 0);
	S2T_EQ(s2_guard_allowed(&guard, &ctx, S2_MSG_FLASH_BEGIN), S2_E_AUTH);
	S2T_EQ(s2_guard_allowed(&guard, &ctx, S2_MSG_FLASH_DATA), S2_E_AUTH);
	S2T_EQ(s2_guard_allowed(&guard, &ctx, S2_MSG_FLASH_COMMIT), S2_E_AUTH);
	struct s2_msg_key_req rv = {.op = S2_KEY_REVOKE, .key_id = 5};
	S2T_EQ(g_key_req(kj, 9, 1, &rv, NULL), S2_E_AUTH);
	struct s2_msg_key_req ls = {.op = S2_KEY_LIST};
	S2T_EQ(g_key_req(kj, 9, 2, &ls, &rep), 0);
	S2T_EQ(rep.counters[5], 4); /* forbidden: three flash, one revoke */
	/* Revoked by the machine key: the job key is unknown from then on. */
	rv.key_id = 9;
	S2T_EQ(g_key_req(km, 5, 2, &rv, &rep), 0);
	S2T_EQ(rep.n, 1);
	S2T_EQ(g_key_req(km, 5, 3, &rv, &rep), 0); /* again: still succeeds */
	S2T_EQ(g_check(g_req(kj, 9, 0x600, 2, S2_MSG_MEM_WRITE, NULL, 0), &ctx), S2_E_AUTH);
	S2T_CHECK(ctx.answer);
	/* A key does not revoke itself; bad bodies are refused. */
	rv.key_id = 5;
	S2T_EQ(g_key_req(km, 5, 4, &rv, NULL), S2_E_STATE);
	uint8_t bad[S2_KEY_REQ_LEN] = {3};
	struct s2_msg_key_req d;
	S2T_EQ(s2_msg_key_req_decode(bad, sizeof bad, &d), S2_E_RANGE);
	S2T_EQ(s2_msg_key_req_decode(bad, sizeof bad - 1, &d), S2_E_SHORT);
	bad[0] = 0;
	bad[2] = 1;
	S2T_EQ(s2_msg_key_req_decode(bad, sizeof bad, &d), S2_E_RESERVED);
	/* The table holds S2_GUARD_KEYS keys. */
	for (uint32_t id = 100; id < 100 + S2_GUARD_KEYS - 1; id++)
		S2T_EQ(s2_guard_add(&guard, id, S2_KEY_JOB, kj), 0);
	S2T_EQ(s2_guard_add(&guard, 200, S2_KEY_JOB, kj), S2_E_NOSPACE);
	S2T_EQ(s2_guard_revoke(&guard, 4242), S2_E_NOTFOUND);
}

const struct s2t_case s2_monitor_cases[] = {
        S2T_CASE(t_guard_tags_and_replay),
        S2T_CASE(t_guard_sessions_and_reply),
        S2T_CASE(t_guard_job_keys),
        S2T_CASE(t_lease_take_keep_expire),
        S2T_CASE(t_lease_force_and_bad_requests),
        S2T_CASE(t_mon_chip_info_and_states),
        S2T_CASE(t_mon_memory),
        S2T_CASE(t_mon_scrub),
        S2T_CASE(t_mon_signals_and_iobuf),
};
const size_t s2_monitor_ncases = sizeof s2_monitor_cases / sizeof s2_monitor_cases[0];
