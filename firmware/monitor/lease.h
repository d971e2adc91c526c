/**
 * @file lease.h
 * @brief Board ownership: the lease a session holds on a board (docs/protocol.md 4.18).
 *
 * One source for every build: the monitor of a board's Ethernet chip keeps one struct
 * s2_lease, and s2emu keeps the same structure per emulated board. A session takes the
 * lease with a random 64-bit token and a holder name, renews it while it works, and releases
 * it when done; a holder that dies stops renewing and its lease expires. While a lease is
 * live, requests that change the board (boot, load, run, stop, flash, power, reset, memory
 * writes, signals) are accepted only from the senders that presented the lease's token;
 * everyone else gets S2_E_BUSY at once. Reads are never refused.
 *
 * A sender is an opaque 64-bit id the port derives from the datagram's source address and
 * port. The module keeps no clock: every call passes the board's time in milliseconds.
 * No allocation: a struct s2_lease is everything.
 */
#ifndef S2_FW_LEASE_H
#define S2_FW_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/msg.h"

#define S2_LEASE_SENDERS 8u /**< sockets that may act for one holder */

struct s2_lease {
	uint64_t token;      /**< 0: no lease */
	uint64_t expires_ms; /**< board time at which the lease ends unless renewed */
	char holder[S2_LEASE_HOLDER_LEN + 1];
	uint64_t sender[S2_LEASE_SENDERS]; /**< senders that presented the token */
	unsigned n_sender;
	uint32_t refused; /**< requests refused as busy */
	uint32_t forced;  /**< takeovers by force */
};

/** Log callback for events an operator must be able to find (forced takeovers, expiries). */
typedef void (*s2_lease_log_fn)(void *ctx, const char *text);

/** An empty lease (the board's state at power-on). */
void s2_lease_init(struct s2_lease *l);

/**
 * Handle a LEASE request body from sender at board time now_ms.
 * ACQUIRE takes a free or expired lease, renews one held with the same token (and adds the
 * sender to those that may act for it), and takes one held by another token only with
 * S2_LEASE_F_FORCE (counted, logged). RELEASE frees a lease held with the token (or any,
 * with force). STATUS only reports.
 * @return reply body length written to out (struct s2_msg_lease_rep), or a negative S2_E_
 *         code: a malformed body, S2_E_BUSY (held by another token, no force),
 *         S2_E_NOSPACE (more than S2_LEASE_SENDERS sockets for one holder).
 */
int s2_lease_handle(struct s2_lease *l, uint64_t now_ms, uint64_t sender, const uint8_t *body,
                    size_t len, uint8_t *out, size_t cap, s2_lease_log_fn log, void *log_ctx);

/**
 * May sender change the board now? 0 if no live lease exists or sender acts for the holder;
 * S2_E_BUSY otherwise (counted in l->refused).
 */
int s2_lease_check(struct s2_lease *l, uint64_t now_ms, uint64_t sender);

/** Does a request of this message type change the board (and so need the lease)? */
bool s2_lease_guarded(uint8_t type);

/** The lease as a reply body (for STATUS and for callers that explain a refusal). */
void s2_lease_describe(const struct s2_lease *l, uint64_t now_ms, uint64_t token,
                       struct s2_msg_lease_rep *rep);

#endif
