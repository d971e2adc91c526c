/**
 * @file guard.h
 * @brief The board's side of the authenticated control plane (docs/protocol.md 2.3 and 4.19,
 *        docs/security.md): its keys, the check of every request's tag and counter, the
 *        sealing of replies, and the KEY message that installs and revokes keys.
 *
 * One source for every build, like lease.c: the monitor of a board's Ethernet chip (and its
 * controller) keeps one struct s2_guard, and s2emu keeps one per emulated board. A board
 * with no key behaves as before authentication existed. A board with at least one key
 * requires every request (DISCOVER excepted) to carry S2_F_AUTH with a tag made by one of
 * its keys and a counter it has not seen before in that sender's session:
 *
 *  - no tag, or a key the board does not have: refused with S2_E_AUTH (an unauthenticated
 *    error reply, so a user without the key learns it at once), counted;
 *  - a wrong tag, or a counter already seen or older than the replay window: dropped
 *    without an answer, counted (an attacker learns nothing);
 *  - a session the board has forgotten (at or below the key's floor): refused with
 *    S2_E_STALE, a reply authenticated with the request's key and trailer, counted as
 *    replayed; the sender starts a new session and sends again;
 *  - a job key asking for flash or key management: refused with S2_E_AUTH, counted.
 *
 * Replay protection after IPsec (RFC 4303 3.4.3): per key and session the highest counter
 * seen and a window of S2_GUARD_WINDOW counters below it. Sessions carry their start time
 * in their high bits; when the table is full the least recently used session is forgotten
 * and every session id up to it is refused from then on (the key's floor), so a forgotten
 * session cannot be replayed either. A retransmission (the same datagram) is answered from
 * the board's reply cache before it reaches the guard, so it is not an attack.
 *
 * No allocation, no clock, no I/O: a struct s2_guard is everything.
 */
#ifndef S2_FW_GUARD_H
#define S2_FW_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/auth.h"
#include "s2/packet.h"

#define S2_GUARD_KEYS 8u      /**< keys a board holds: the machine key(s) and job keys */
#define S2_GUARD_SESSIONS 16u /**< sender sessions remembered per key */
#define S2_GUARD_WINDOW 256u  /**< replay window, counters (>= the host's request window) */

struct s2_guard_session {
	uint64_t id;   /**< 0: free */
	uint32_t top;  /**< highest counter accepted */
	uint32_t used; /**< guard clock at the last accepted request (for LRU) */
	uint32_t win[S2_GUARD_WINDOW / 32]; /**< bit d: counter top - d accepted */
};

struct s2_guard_key {
	uint32_t id;
	uint8_t role; /**< enum s2_key_role; 0: free slot */
	uint8_t raw[S2_AUTH_KEY_LEN];
	struct s2_auth_key k;
	uint64_t floor; /**< sessions <= floor are refused (forgotten ones) */
	struct s2_guard_session s[S2_GUARD_SESSIONS];
};

/** What the guard refused or accepted, since the board's controller started. */
struct s2_guard_stats {
	uint32_t ok;          /**< authenticated requests accepted */
	uint32_t unauth;      /**< requests without a tag on a board that requires one */
	uint32_t unknown_key; /**< tags by a key the board does not hold */
	uint32_t bad_tag;     /**< tags that do not verify (forged or damaged) */
	uint32_t replayed;    /**< counters seen before, too old, or of a forgotten session */
	uint32_t forbidden;   /**< job keys asking for flash or key management */
};

struct s2_guard {
	struct s2_guard_key key[S2_GUARD_KEYS];
	uint32_t clock; /**< counts accepted requests (LRU order) */
	struct s2_guard_stats st;
};

/** The guard's verdict on one request, used again to seal its reply. */
struct s2_guard_ctx {
	int slot;                 /**< key slot; -1: unauthenticated request on a keyless board */
	struct s2_auth_trailer t; /**< the request's trailer */
	uint16_t body_len;        /**< the message body's length (payload without the trailer) */
	bool answer;              /**< on refusal: answer S2_E_AUTH (else drop silently) */
};

/** No keys: every request passes unauthenticated (the board's state before any key). */
void s2_guard_init(struct s2_guard *g);

/** Does the board hold a key (and so require authentication)? */
bool s2_guard_active(const struct s2_guard *g);

/**
 * Install a key (or replace the key with the same id). role: enum s2_key_role.
 * @return 0, S2_E_RANGE (role unknown or id 0), S2_E_NOSPACE (S2_GUARD_KEYS held).
 */
int s2_guard_add(struct s2_guard *g, uint32_t id, uint8_t role, const uint8_t key[S2_AUTH_KEY_LEN]);

/** Forget a key. 0 or S2_E_NOTFOUND. */
int s2_guard_revoke(struct s2_guard *g, uint32_t id);

/**
 * Check a request that decoded (s2_packet_decode) as h with payload p, from its datagram
 * dgram[0..len). On success ctx says which key made it and the body's length.
 * @return 0, S2_E_STALE (a forgotten session: answer it; ctx->slot says the key to seal the
 *         reply with), or S2_E_AUTH (ctx->answer says whether to reply or drop). Counted.
 */
int s2_guard_check(struct s2_guard *g, const uint8_t *dgram, size_t len, const struct s2_header *h,
                   const uint8_t *p, struct s2_guard_ctx *ctx);

/** May the request's key ask for this message type? 0, or S2_E_AUTH (counted). */
int s2_guard_allowed(struct s2_guard *g, const struct s2_guard_ctx *ctx, uint8_t type);

/**
 * Encode the reply r with body[0..len) for the request of ctx: authenticated with the
 * request's key, session and counter if the request was; plain otherwise.
 * @return datagram length or a negative S2_E_ code (as s2_packet_encode).
 */
int s2_guard_seal(const struct s2_guard *g, const struct s2_guard_ctx *ctx, uint8_t *out,
                  size_t cap, const struct s2_header *r, const void *body, size_t len);

/**
 * Handle a KEY request body (protocol 4.19) authenticated as ctx: only a machine key may
 * add or revoke keys; LIST is open to every key holder.
 * @return reply body length written to out, or a negative S2_E_ code.
 */
int s2_guard_key_request(struct s2_guard *g, const struct s2_guard_ctx *ctx, const uint8_t *body,
                         size_t len, uint8_t *out, size_t cap);

#endif
