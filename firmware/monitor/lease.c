/*
 * Board leases (lease.h): who holds a board, until when, and which senders act for them.
 * Pure state and arithmetic on the board's millisecond clock, shared by the monitor
 * firmware and s2emu.
 */
#include "lease.h"

#include <string.h>

#include "s2/error.h"

void s2_lease_init(struct s2_lease *l)
{
	memset(l, 0, sizeof *l);
}

static void expire(struct s2_lease *l, uint64_t now_ms)
{
	if (l->token && now_ms >= l->expires_ms) {
		uint32_t refused = l->refused, forced = l->forced;
		s2_lease_init(l);
		l->refused = refused;
		l->forced = forced;
	}
}

static bool acts_for(const struct s2_lease *l, uint64_t sender)
{
	for (unsigned i = 0; i < l->n_sender; i++)
		if (l->sender[i] == sender)
			return true;
	return false;
}

void s2_lease_describe(const struct s2_lease *l, uint64_t now_ms, uint64_t token,
                       struct s2_msg_lease_rep *rep)
{
	memset(rep, 0, sizeof *rep);
	rep->refused = l->refused;
	rep->forced = l->forced;
	if (!l->token || now_ms >= l->expires_ms)
		return;
	rep->held = 1;
	rep->mine = token != 0 && token == l->token;
	uint64_t left = l->expires_ms - now_ms;
	rep->remaining_ms = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
	memcpy(rep->holder, l->holder, sizeof rep->holder);
}

static void log2s(s2_lease_log_fn log, void *ctx, const char *a, const char *b, const char *c)
{
	if (!log)
		return;
	char line[160];
	size_t n = 0;
	for (const char *s = a; *s && n < sizeof line - 2; s++)
		line[n++] = *s;
	for (const char *s = b; *s && n < sizeof line - 2; s++)
		line[n++] = *s;
	for (const char *s = c; *s && n < sizeof line - 2; s++)
		line[n++] = *s;
	line[n++] = '\n';
	line[n] = 0;
	log(ctx, line);
}

int s2_lease_handle(struct s2_lease *l, uint64_t now_ms, uint64_t sender, const uint8_t *body,
                    size_t len, uint8_t *out, size_t cap, s2_lease_log_fn log, void *log_ctx)
{
	struct s2_msg_lease_req q;
	int rc = s2_msg_lease_req_decode(body, len, &q);
	if (rc < 0)
		return rc;
	expire(l, now_ms);
	bool force = q.flags & S2_LEASE_F_FORCE;
	if (q.op == S2_LEASE_ACQUIRE) {
		/* A renewal takes nothing: a lease that expired, was released or was taken by
		 * force stays so (a renewal late on the wire must not take the board again). */
		if ((q.flags & S2_LEASE_F_RENEW) && l->token != q.token)
			return S2_E_STATE;
		if (l->token && l->token != q.token) {
			if (!force) {
				l->refused++;
				return S2_E_BUSY;
			}
			l->forced++;
			log2s(log, log_ctx, "lease: taken by force by ", q.holder, "");
			log2s(log, log_ctx, "lease: ... from ", l->holder, "");
			l->token = 0;
		}
		if (l->token != q.token) {
			l->token = q.token;
			l->n_sender = 0;
			memcpy(l->holder, q.holder, sizeof l->holder);
		}
		if (!acts_for(l, sender)) {
			if (l->n_sender == S2_LEASE_SENDERS)
				return S2_E_NOSPACE;
			l->sender[l->n_sender++] = sender;
		}
		l->expires_ms = now_ms + q.ttl_ms;
	} else if (q.op == S2_LEASE_RELEASE) {
		if (l->token && l->token != q.token && !force) {
			l->refused++;
			return S2_E_BUSY;
		}
		if (l->token && l->token != q.token) {
			l->forced++;
			log2s(log, log_ctx, "lease: released by force by ", q.holder, "");
		}
		uint32_t refused = l->refused, forced = l->forced;
		s2_lease_init(l);
		l->refused = refused;
		l->forced = forced;
	}
	struct s2_msg_lease_rep rep;
	s2_lease_describe(l, now_ms, q.token, &rep);
	return s2_msg_lease_rep_encode(out, cap, &rep);
}

int s2_lease_check(struct s2_lease *l, uint64_t now_ms, uint64_t sender)
{
	expire(l, now_ms);
	if (!l->token || acts_for(l, sender))
		return 0;
	l->refused++;
	return S2_E_BUSY;
}

bool s2_lease_guarded(uint8_t type)
{
	switch (type) {
	case S2_MSG_BOOT_START:
	case S2_MSG_BOOT_DATA:
	case S2_MSG_BOOT_END:
	case S2_MSG_MEM_WRITE:
	case S2_MSG_SIGNAL:
	case S2_MSG_SCRUB:
	case S2_MSG_ROUTER_LOAD:
	case S2_MSG_APP_LOAD:
	case S2_MSG_APP_RUN:
	case S2_MSG_APP_UPDATE:
	case S2_MSG_APP_STOP:
	case S2_MSG_BULK_BEGIN:
	case S2_MSG_BMP_POWER:
	case S2_MSG_FLASH_BEGIN:
	case S2_MSG_FLASH_DATA:
	case S2_MSG_FLASH_COMMIT:
		return true;
	default:
		return false;
	}
}
