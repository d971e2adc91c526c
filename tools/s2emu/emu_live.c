/*
 * Live streams of an emulated board (emu_live.h, protocol section 4.17).
 *
 * A board serves up to S2_LIVE_MAX_STREAMS streams. Each has a destination, the PEs whose
 * spikes it wants, and a STREAM_DATA packet being filled: spikes are appended as the live
 * PEs send them (grouped by step, chip and PE), energy samples and run events as they happen;
 * a full packet goes at once, and whatever is buffered goes at the end of every step, so a
 * spike reaches the host within the step that made it. Packets travel through the board's
 * Ethernet socket and its injected faults, numbered by the header's seq, so the host can count
 * every one it lost. On silicon the live PEs' keys would be routed to the Ethernet chip's
 * monitor, which packs them the same way; the emulator taps them as the PEs send.
 */
#include "emu_live.h"
#include "emu_fault.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include "emu.h"
#include "s2/error.h"
#include "s2/live.h"
#include "s2/packet.h"
#include "s2/wire.h"

struct stream {
	bool used;
	uint32_t id, flags, period;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint16_t n_chips;
	uint8_t live[S2_LIVE_MAX_CHIPS][S2_PE_BITMAP_LEN];
	uint32_t seq;     /* next packet's header seq */
	uint32_t dropped; /* records this board could not send */
	uint8_t body[S2_MAX_PAYLOAD];
	/* Set up by an authenticated STREAM_START: every packet tagged with its key (2.3). */
	uint32_t key_id; /* 0: not tagged */
	uint64_t session;
	struct s2_live_wr w;
	bool stamped; /* the packet's time of its oldest record is set */
};

struct pending_inject {
	uint32_t step;
	uint16_t chip, neuron;
	uint8_t pe;
};

struct emu_live {
	struct stream s[S2_LIVE_MAX_STREAMS];
	unsigned spike_streams; /* streams with S2_LIVE_F_SPIKES */
	struct pending_inject *inj;
	size_t n_inj, cap_inj;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void count_spike_streams(struct emu_live *l)
{
	l->spike_streams = 0;
	for (unsigned i = 0; i < S2_LIVE_MAX_STREAMS; i++)
		l->spike_streams += l->s[i].used && (l->s[i].flags & S2_LIVE_F_SPIKES);
}

/* The packet of s under header h: plain, or tagged with the key of its STREAM_START, the
 * trailer's counter being the packet's number plus one (docs/security.md). */
static int seal(struct emu_board *b, const struct stream *s, const struct s2_header *h,
                uint8_t *out, size_t cap)
{
	if (!s->key_id)
		return s2_packet_encode(out, cap, h, s->body, s->w.pos);
	struct s2_guard_ctx ctx = {
	        .slot = -1,
	        .t = {.key_id = s->key_id, .counter = h->seq + 1u, .session = s->session}};
	for (unsigned i = 0; i < S2_GUARD_KEYS; i++)
		if (b->guard.key[i].role && b->guard.key[i].id == s->key_id)
			ctx.slot = (int)i;
	if (ctx.slot < 0)
		return S2_E_AUTH;
	return s2_guard_seal(&b->guard, &ctx, out, cap, h, s->body, s->w.pos);
}

/* Send the stream's packet if it holds records, and start the next. */
static void flush(struct emu_board *b, struct stream *s)
{
	if (!s2_live_any(&s->w))
		return;
	s2_st32(s->body + 4, s->dropped);
	struct s2_header h = {.type = S2_MSG_STREAM_DATA,
	                      .seq = s->seq++,
	                      .board = b->index,
	                      .chip = S2_ADDR_ANY,
	                      .pe = S2_PE_MONITOR};
	uint8_t out[S2_MAX_DATAGRAM];
	int n = seal(b, s, &h, out, sizeof out);
	if (n < 0)
		s->dropped++; /* counted: also when its key was revoked since STREAM_START */
	else
		emu_net_send(b, b->eth_fd, &s->to, s->tolen, out, (size_t)n);
	emu_fault_point(EMU_PH_STREAM);
	s2_live_begin(&s->w, s->body, s->key_id ? S2_AUTH_MAX_BODY : sizeof s->body, s->id,
	              s->dropped);
	s->stamped = false;
}

/* Before a record goes into the packet: the first one gives the packet its time. */
static void stamp(struct stream *s, uint64_t t)
{
	if (!s->stamped) {
		s2_live_time(&s->w, t ? t : now_us());
		s->stamped = true;
	}
}

int emu_live_start(struct emu_board *b, const struct sockaddr_storage *from, socklen_t fromlen,
                   const uint8_t *p, size_t len)
{
	static struct s2_msg_stream_start m;
	int rc = s2_msg_stream_start_decode(p, len, &m);
	if (rc < 0)
		return rc;
	if (m.n_chips > b->n_chips)
		return S2_E_RANGE;
	if (from->ss_family != AF_INET)
		return S2_E_RANGE;
	if (!b->live && !(b->live = calloc(1, sizeof *b->live)))
		return S2_E_NOMEM;
	struct emu_live *l = b->live;
	struct stream *s = NULL;
	for (unsigned i = 0; i < S2_LIVE_MAX_STREAMS && !s; i++)
		if (l->s[i].used && l->s[i].id == m.id)
			s = &l->s[i];
	for (unsigned i = 0; i < S2_LIVE_MAX_STREAMS && !s; i++)
		if (!l->s[i].used)
			s = &l->s[i];
	if (!s)
		return S2_E_NOSPACE;
	if (s->used)
		flush(b, s); /* a restart of the same stream: what it holds goes first */
	bool same = s->used;
	uint32_t seq = s->seq, dropped = s->dropped;
	memset(s, 0, sizeof *s);
	s->used = true;
	s->id = m.id;
	s->flags = m.flags;
	s->period = m.energy_period;
	s->n_chips = m.n_chips;
	memcpy(s->live, m.live, sizeof s->live);
	if (same) { /* the host's view of the numbering continues */
		s->seq = seq;
		s->dropped = dropped;
	}
	struct sockaddr_in to;
	memcpy(&to, from, sizeof to);
	static const uint8_t any[4] = {0, 0, 0, 0};
	if (memcmp(m.addr, any, 4))
		memcpy(&to.sin_addr.s_addr, m.addr, 4);
	if (m.port)
		to.sin_port = htons(m.port);
	memset(&s->to, 0, sizeof s->to);
	memcpy(&s->to, &to, sizeof to);
	s->tolen = sizeof to;
	(void)fromlen;
	size_t cap = sizeof s->body;
	if (b->req_gctx && b->req_gctx->slot >= 0) {
		s->key_id = b->req_gctx->t.key_id;
		s->session = b->req_gctx->t.session;
		cap = S2_AUTH_MAX_BODY; /* room for the trailer */
	}
	s2_live_begin(&s->w, s->body, cap, s->id, 0);
	count_spike_streams(l);
	return 0;
}

int emu_live_stop(struct emu_board *b, const uint8_t *p, size_t len)
{
	struct s2_rd r;
	s2_rd_init(&r, p, len);
	uint32_t id = s2_rd_u32(&r);
	int rc = s2_rd_end(&r);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; b->live && i < S2_LIVE_MAX_STREAMS; i++)
		if (b->live->s[i].used && b->live->s[i].id == id) {
			flush(b, &b->live->s[i]);
			b->live->s[i].used = false;
		}
	if (b->live)
		count_spike_streams(b->live);
	return 0; /* stopping a stream that is not there: already done */
}

int emu_live_wants(const struct emu_board *b, unsigned chip, unsigned pe)
{
	const struct emu_live *l = b->live;
	if (!l || !l->spike_streams)
		return 0;
	for (unsigned i = 0; i < S2_LIVE_MAX_STREAMS; i++) {
		const struct stream *s = &l->s[i];
		if (s->used && (s->flags & S2_LIVE_F_SPIKES) && chip < s->n_chips &&
		    ((s->live[chip][pe / 8] >> (pe % 8)) & 1u))
			return 1;
	}
	return 0;
}

void emu_live_spike(struct emu_board *b, uint32_t step, unsigned chip, unsigned pe, unsigned neuron)
{
	struct emu_live *l = b->live;
	for (unsigned i = 0; l && i < S2_LIVE_MAX_STREAMS; i++) {
		struct stream *s = &l->s[i];
		if (!s->used || !(s->flags & S2_LIVE_F_SPIKES) || chip >= s->n_chips ||
		    !((s->live[chip][pe / 8] >> (pe % 8)) & 1u))
			continue;
		stamp(s, 0);
		if (s2_live_spike(&s->w, step, (uint16_t)chip, (uint8_t)pe, (uint16_t)neuron) < 0) {
			flush(b, s);
			stamp(s, 0);
			if (s2_live_spike(&s->w, step, (uint16_t)chip, (uint8_t)pe,
			                  (uint16_t)neuron) < 0)
				s->dropped++;
		}
	}
}

void emu_live_step_begin(struct emu_board *b, uint32_t step)
{
	struct emu_live *l = b->live;
	if (!l || !l->n_inj)
		return;
	size_t keep = 0;
	for (size_t i = 0; i < l->n_inj; i++) {
		struct pending_inject *q = &l->inj[i];
		if (q->step <= step)
			emu_app_pe_inject(b, q->chip, q->pe, q->neuron, false);
		else
			l->inj[keep++] = *q;
	}
	l->n_inj = keep;
}

/* Every chip's counters into stream s at step, time t. */
static void energy_records(struct emu_board *b, struct stream *s, uint32_t step, uint64_t t)
{
	for (unsigned c = 0; c < b->n_chips; c++) {
		uint64_t k[S2_LIVE_COUNTERS];
		if (!emu_app_chip_counters(&b->chips[c], k))
			continue;
		stamp(s, t);
		if (s2_live_energy(&s->w, step, (uint16_t)c, t, k) < 0) {
			flush(b, s);
			stamp(s, t);
			if (s2_live_energy(&s->w, step, (uint16_t)c, t, k) < 0)
				s->dropped++;
		}
	}
}

void emu_live_step_end(struct emu_board *b, uint32_t step)
{
	struct emu_live *l = b->live;
	if (!l)
		return;
	uint64_t t = 0;
	for (unsigned i = 0; i < S2_LIVE_MAX_STREAMS; i++) {
		struct stream *s = &l->s[i];
		if (!s->used)
			continue;
		if ((s->flags & S2_LIVE_F_ENERGY) && (step + 1) % s->period == 0) {
			if (!t)
				t = now_us();
			energy_records(b, s, step, t);
		}
		flush(b, s);
	}
}

void emu_live_event(struct emu_board *b, uint32_t step, unsigned event)
{
	struct emu_live *l = b->live;
	uint64_t t = now_us();
	for (unsigned i = 0; l && i < S2_LIVE_MAX_STREAMS; i++) {
		struct stream *s = &l->s[i];
		if (!s->used)
			continue;
		/* A sample of every chip at the event: energy windows start and end exactly at
		 * the run's first and last step. */
		if (s->flags & S2_LIVE_F_ENERGY)
			energy_records(b, s, step, t);
		stamp(s, t);
		if (s2_live_run(&s->w, step, (uint16_t)event, t) < 0) {
			flush(b, s);
			stamp(s, t);
			if (s2_live_run(&s->w, step, (uint16_t)event, t) < 0)
				s->dropped++;
		}
		flush(b, s);
	}
}

int emu_live_inject(struct emu_board *b, const uint8_t *p, size_t len, uint8_t *out, size_t cap)
{
	static struct s2_msg_inject m;
	int rc = s2_msg_inject_decode(p, len, &m);
	if (rc < 0)
		return rc;
	/* Every entry is checked before any is queued: all or nothing. */
	for (unsigned i = 0; i < m.n; i++)
		if ((rc = emu_app_pe_inject(b, m.e[i].chip, m.e[i].pe, m.e[i].neuron, true)) < 0)
			return rc;
	if (!b->live && !(b->live = calloc(1, sizeof *b->live)))
		return S2_E_NOMEM;
	struct emu_live *l = b->live;
	if (l->n_inj + m.n > l->cap_inj) {
		size_t cap2 = l->cap_inj ? l->cap_inj : 256;
		while (cap2 < l->n_inj + m.n)
			cap2 *= 2;
		struct pending_inject *q = realloc(l->inj, cap2 * sizeof *q);
		if (!q)
			return S2_E_NOMEM;
		l->inj = q;
		l->cap_inj = cap2;
	}
	uint32_t now = b->app.step;
	struct s2_msg_inject_reply r = {.accepted = m.n};
	for (unsigned i = 0; i < m.n; i++) {
		uint32_t step = m.step;
		if (step == S2_INJECT_NEXT) {
			step = now;
		} else if (step < now) {
			step = now;
			r.late++;
		}
		l->inj[l->n_inj++] =
		        (struct pending_inject){step, m.e[i].chip, m.e[i].neuron, m.e[i].pe};
	}
	return s2_msg_inject_reply_encode(out, cap, &r);
}

void emu_live_app_reset(struct emu_board *b)
{
	if (b->live)
		b->live->n_inj = 0;
}

void emu_live_free(struct emu_board *b)
{
	if (!b->live)
		return;
	free(b->live->inj);
	free(b->live);
	b->live = NULL;
}
