/*
 * The board's guard (guard.h): key table, tag and replay checks, sealed replies and the KEY
 * message. Pure state and arithmetic, shared by the monitor firmware and s2emu.
 */
#include "guard.h"

#include <string.h>

#include "s2/error.h"
#include "s2/msg.h"

void s2_guard_init(struct s2_guard *g)
{
	memset(g, 0, sizeof *g);
}

bool s2_guard_active(const struct s2_guard *g)
{
	for (unsigned i = 0; i < S2_GUARD_KEYS; i++)
		if (g->key[i].role)
			return true;
	return false;
}

static int find_key(const struct s2_guard *g, uint32_t id)
{
	for (unsigned i = 0; i < S2_GUARD_KEYS; i++)
		if (g->key[i].role && g->key[i].id == id)
			return (int)i;
	return -1;
}

int s2_guard_add(struct s2_guard *g, uint32_t id, uint8_t role, const uint8_t key[S2_AUTH_KEY_LEN])
{
	if (!id || (role != S2_KEY_MACHINE && role != S2_KEY_JOB))
		return S2_E_RANGE;
	int slot = find_key(g, id);
	for (unsigned i = 0; slot < 0 && i < S2_GUARD_KEYS; i++)
		if (!g->key[i].role)
			slot = (int)i;
	if (slot < 0)
		return S2_E_NOSPACE;
	struct s2_guard_key *k = &g->key[slot];
	memset(k, 0, sizeof *k);
	k->id = id;
	k->role = role;
	memcpy(k->raw, key, S2_AUTH_KEY_LEN);
	s2_auth_key_init(&k->k, key);
	return 0;
}

int s2_guard_revoke(struct s2_guard *g, uint32_t id)
{
	int slot = find_key(g, id);
	if (slot < 0)
		return S2_E_NOTFOUND;
	memset(&g->key[slot], 0, sizeof g->key[slot]);
	return 0;
}

static bool win_get(const struct s2_guard_session *s, uint32_t d)
{
	return (s->win[d / 32] >> (d % 32)) & 1u;
}

static void win_set(struct s2_guard_session *s, uint32_t d)
{
	s->win[d / 32] |= 1u << (d % 32);
}

/* Slide the window up by n counters: bit d moves to d + n. */
static void win_shift(struct s2_guard_session *s, uint32_t n)
{
	const unsigned words = S2_GUARD_WINDOW / 32;
	if (n >= S2_GUARD_WINDOW) {
		memset(s->win, 0, sizeof s->win);
		return;
	}
	unsigned w = n / 32, b = n % 32;
	for (unsigned i = words; i-- > 0;) {
		uint32_t v = 0;
		if (i >= w) {
			v = s->win[i - w] << b;
			if (b && i > w)
				v |= s->win[i - w - 1] >> (32 - b);
		}
		s->win[i] = v;
	}
}

/* The session of the request, found or made; NULL if it is forgotten (at or below the
 * floor). */
static struct s2_guard_session *session(struct s2_guard_key *k, uint64_t id)
{
	struct s2_guard_session *victim = NULL; /* a free slot, else the least recently used */
	for (unsigned i = 0; i < S2_GUARD_SESSIONS; i++) {
		struct s2_guard_session *s = &k->s[i];
		if (s->id == id)
			return s;
		if (!s->id) {
			if (!victim || victim->id)
				victim = s;
		} else if (!victim || (victim->id && s->used < victim->used)) {
			victim = s;
		}
	}
	if (id <= k->floor)
		return NULL;
	if (victim->id && victim->id > k->floor)
		k->floor = victim->id; /* forgotten from now on: refuse it and every older one */
	if (id <= k->floor)
		return NULL;
	memset(victim, 0, sizeof *victim);
	victim->id = id;
	return victim;
}

int s2_guard_check(struct s2_guard *g, const uint8_t *dgram, size_t len, const struct s2_header *h,
                   const uint8_t *p, struct s2_guard_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->slot = -1;
	ctx->body_len = h->payload_len;
	ctx->answer = true;
	bool active = s2_guard_active(g);
	if (!(h->flags & S2_F_AUTH)) {
		if (!active || h->type == S2_MSG_DISCOVER)
			return 0;
		g->st.unauth++;
		return S2_E_AUTH;
	}
	if (s2_auth_trailer_get(p, h->payload_len, &ctx->t) < 0) {
		g->st.bad_tag++;
		ctx->answer = false;
		return S2_E_AUTH;
	}
	int slot = find_key(g, ctx->t.key_id);
	if (slot < 0) {
		g->st.unknown_key++;
		return S2_E_AUTH;
	}
	ctx->answer = false;
	struct s2_guard_key *k = &g->key[slot];
	uint8_t tag[S2_AUTH_TAG_LEN];
	s2_auth_mac(&k->k, dgram, len, tag);
	if (!s2_auth_tag_equal(tag, h->auth_tag) || ctx->t.counter == 0 || ctx->t.session == 0) {
		g->st.bad_tag++;
		return S2_E_AUTH;
	}
	struct s2_guard_session *s = session(k, ctx->t.session);
	uint32_t c = ctx->t.counter;
	if (!s) {
		/* A forgotten session: nothing is acted on, but its holder (or a replayer, who
		 * learns nothing new) is told so, under the key, so that a live sender starts a
		 * new session instead of timing out. */
		g->st.replayed++;
		ctx->slot = slot;
		ctx->answer = true;
		return S2_E_STALE;
	}
	if (c > s->top) {
		win_shift(s, c - s->top);
		s->top = c;
		win_set(s, 0);
	} else {
		uint32_t d = s->top - c;
		if (d >= S2_GUARD_WINDOW || win_get(s, d)) {
			g->st.replayed++;
			return S2_E_AUTH;
		}
		win_set(s, d);
	}
	s->used = ++g->clock;
	g->st.ok++;
	ctx->slot = slot;
	ctx->body_len = (uint16_t)(h->payload_len - S2_AUTH_TRAILER_LEN);
	ctx->answer = true;
	return 0;
}

int s2_guard_allowed(struct s2_guard *g, const struct s2_guard_ctx *ctx, uint8_t type)
{
	if (ctx->slot < 0 || g->key[ctx->slot].role == S2_KEY_MACHINE)
		return 0;
	switch (type) {
	case S2_MSG_FLASH_BEGIN:
	case S2_MSG_FLASH_DATA:
	case S2_MSG_FLASH_COMMIT:
		g->st.forbidden++;
		return S2_E_AUTH;
	default:
		return 0;
	}
}

int s2_guard_seal(const struct s2_guard *g, const struct s2_guard_ctx *ctx, uint8_t *out,
                  size_t cap, const struct s2_header *r, const void *body, size_t len)
{
	if (ctx->slot < 0 || !g->key[ctx->slot].role)
		return s2_packet_encode(out, cap, r, body, len);
	int n = s2_auth_encode(out, cap, r, body, len, &ctx->t);
	if (n < 0)
		return n;
	uint8_t tag[S2_AUTH_TAG_LEN];
	s2_auth_mac(&g->key[ctx->slot].k, out, (size_t)n, tag);
	s2_packet_set_tag(out, (size_t)n, tag);
	return n;
}

int s2_guard_key_request(struct s2_guard *g, const struct s2_guard_ctx *ctx, const uint8_t *body,
                         size_t len, uint8_t *out, size_t cap)
{
	struct s2_msg_key_req q;
	int rc = s2_msg_key_req_decode(body, len, &q);
	if (rc < 0)
		return rc;
	if (ctx->slot < 0) {
		g->st.unauth++;
		return S2_E_AUTH; /* keys are managed only under a machine key */
	}
	const struct s2_guard_key *by = &g->key[ctx->slot];
	if (q.op != S2_KEY_LIST && by->role != S2_KEY_MACHINE) {
		g->st.forbidden++;
		return S2_E_AUTH;
	}
	if (q.op == S2_KEY_ADD) {
		uint8_t key[S2_AUTH_KEY_LEN], machine[S2_AUTH_KEY_LEN];
		memcpy(machine, by->raw, sizeof machine); /* by may be the slot replaced */
		s2_auth_wrap(machine, &ctx->t, q.wrapped, key);
		rc = s2_guard_add(g, q.key_id, q.role, key);
		memset(key, 0, sizeof key);
		memset(machine, 0, sizeof machine);
		if (rc < 0)
			return rc;
	} else if (q.op == S2_KEY_REVOKE) {
		if (q.key_id == by->id)
			return S2_E_STATE; /* a key does not revoke itself: the reply needs it */
		rc = s2_guard_revoke(g, q.key_id);
		if (rc < 0 && rc != S2_E_NOTFOUND)
			return rc; /* revoking a key that is gone succeeds: the epilog may repeat */
	}
	struct s2_msg_key_rep rep;
	memset(&rep, 0, sizeof rep);
	rep.counters[0] = g->st.ok;
	rep.counters[1] = g->st.unauth;
	rep.counters[2] = g->st.unknown_key;
	rep.counters[3] = g->st.bad_tag;
	rep.counters[4] = g->st.replayed;
	rep.counters[5] = g->st.forbidden;
	for (unsigned i = 0; i < S2_GUARD_KEYS && rep.n < S2_KEY_MAX_LIST; i++) {
		if (!g->key[i].role)
			continue;
		rep.key_id[rep.n] = g->key[i].id;
		rep.role[rep.n] = g->key[i].role;
		rep.n++;
	}
	return s2_msg_key_rep_encode(out, cap, &rep);
}
