/**
 * @file lease.h
 * @brief Board leases from the host: take, keep, release and show who holds a board
 * (docs/protocol.md section 4.18).
 *
 * A session that changes boards (boot, load, run, flash, power, memory writes) first takes
 * a lease on each with a random token, keeps it renewed while it works (a keeper: a timer
 * on the client's event loop), and releases it at the end. While it holds the lease, the
 * same requests from any other session are refused by the board with S2_E_BUSY; a holder
 * that dies stops renewing and its lease expires after its time to live.
 *
 * Typical use:
 *   uint64_t token = s2_lease_token_new();
 *   char who[S2_LEASE_HOLDER_LEN + 1]; s2_lease_holder_default(who, sizeof who, "run");
 *   s2_lease_acquire_start(conn, token, who, S2_LEASE_TTL_DEFAULT, false, &rep, &op);
 *   s2_client_wait(client);          // op.status: 0, or S2_E_BUSY with rep naming the holder
 *   k = s2_lease_keeper_new(client, conns, n, token, who, S2_LEASE_TTL_DEFAULT);
 *   ... work ...
 *   s2_lease_keeper_free(k);         // stops renewing
 *   s2_lease_release_start(conn, token, &op); s2_client_wait(client);
 */
#ifndef S2_LEASE_H
#define S2_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"
#include "s2/msg.h"
#include "s2/transport.h"

#define S2_LEASE_TTL_DEFAULT 30000u /**< ms; a keeper renews every third of it */

/** A random non-zero 64-bit token (getrandom; a time- and pid-based value if that fails). */
uint64_t s2_lease_token_new(void);

/** "user@host pid N VERB", cut to fit out (at most S2_LEASE_HOLDER_LEN characters). */
void s2_lease_holder_default(char *out, size_t cap, const char *verb);

/**
 * ACQUIRE (or renew) the lease of conn's board. rep (valid until the op completes) gets the
 * lease after the request, or, when the board refuses with S2_E_BUSY, the lease as it stands
 * (the holder and time left, asked with a STATUS request). force takes it from another
 * holder (the board logs it). @return 0 if started, or S2_E_NOMEM / S2_E_RANGE.
 */
int s2_lease_acquire_start(struct s2_conn *conn, uint64_t token, const char *holder,
                           uint32_t ttl_ms, bool force, struct s2_msg_lease_rep *rep,
                           struct s2_op *op);

/** RELEASE a lease held with token (rep may be NULL). */
int s2_lease_release_start(struct s2_conn *conn, uint64_t token, struct s2_msg_lease_rep *rep,
                           struct s2_op *op);

/** STATUS: who holds conn's board and for how long. */
int s2_lease_status_start(struct s2_conn *conn, struct s2_msg_lease_rep *rep, struct s2_op *op);

/** Renews leases on conns[0..n) every ttl_ms/3 on the client's event loop. */
struct s2_lease_keeper;

/**
 * Start renewing. conns is copied; the conns must stay open until the keeper is freed.
 * @return the keeper, or NULL if out of memory.
 */
struct s2_lease_keeper *s2_lease_keeper_new(struct s2_client *c, struct s2_conn *const *conns,
                                            unsigned n, uint64_t token, const char *holder,
                                            uint32_t ttl_ms);

/** Renewals that failed (a board refused or did not answer), for reports. */
uint64_t s2_lease_keeper_failures(const struct s2_lease_keeper *k);

/** Stop renewing and free k (NULL is fine). Renewals in flight complete harmlessly. */
void s2_lease_keeper_free(struct s2_lease_keeper *k);

#endif
