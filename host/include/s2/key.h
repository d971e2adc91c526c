/**
 * @file key.h
 * @brief Keys of the authenticated control plane (docs/security.md, docs/protocol.md 2.3
 *        and 4.19): key files, a client's key, and the KEY message that installs and revokes
 *        keys on boards.
 *
 * A key is a 32-byte secret with an id (the boards' key table) and a role: the operator's
 * machine key (S2_KEY_MACHINE: everything) or a job's key (S2_KEY_JOB: everything but flash
 * and key management). A client with a key (s2_client_set_key) authenticates every request
 * and accepts only replies authenticated with the same key, session and counter; a client
 * without one behaves as before authentication existed. The MAC is libsodium's BLAKE2b.
 *
 * Key file (docs/security.md "Key files"): the s2 file container (s2/sfile.h) of kind "KEY "
 * with one section "key": id u32, role u8, 3 reserved bytes, the 32-byte secret. It is
 * written atomically with mode 0600 and refused on reading if anyone but its owner may read
 * or write it.
 */
#ifndef S2_KEY_H
#define S2_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "s2/auth.h"
#include "s2/board.h"
#include "s2/transport.h"

struct s2_key {
	uint32_t id;  /**< never 0 */
	uint8_t role; /**< enum s2_key_role */
	uint8_t secret[S2_AUTH_KEY_LEN];
};

/** A new key with a random secret (libsodium randombytes). 0, S2_E_RANGE (id 0, bad role)
 * or S2_E_IO (libsodium could not start). */
int s2_key_generate(struct s2_key *k, uint32_t id, uint8_t role);

/** A random key id (never 0). */
uint32_t s2_key_random_id(void);

/**
 * Read a key file. Refused: a file that does not exist or cannot be read (S2_E_IO), that is
 * not a regular file or whose mode lets its group or others read or write it (S2_E_STATE:
 * "PATH: mode 0644 lets others read the key; chmod 600 PATH"), that fails its checksums or
 * is not a key file (S2_E_FORMAT). err receives a message naming the file and the reason.
 */
int s2_key_load(const char *path, struct s2_key *k, char *err, size_t errlen);

/** Write a key file atomically with mode 0600 (s2/fileio.h). 0 or S2_E_IO with err set. */
int s2_key_save(const char *path, const struct s2_key *k, char *err, size_t errlen);

/**
 * Authenticate everything c sends from now on with k (copied; NULL: no key). Each conn is a
 * session (protocol 2.3): its id is the conn's opening time and random bits, its counter
 * starts at 1. @return 0 or S2_E_IO (libsodium could not start).
 */
int s2_client_set_key(struct s2_client *c, const struct s2_key *k);

/**
 * Programs that take their key from the environment, as s2ctl does: load $S2_KEY_FILE (if set
 * and not empty) into c. @return 0 (also when unset), or as s2_key_load with err set.
 */
int s2_client_key_from_env(struct s2_client *c, char *err, size_t errlen);

/** The client's key, or NULL. */
const struct s2_key *s2_client_key(const struct s2_client *c);

/**
 * KEY ADD on one board endpoint: install k, wrapped for the datagram with the client's key,
 * which must be a machine key the board holds. rep (may be NULL) receives the board's key
 * list and guard counters.
 * @return 0 (op reports), S2_E_STATE if the client has no key.
 */
int s2_key_add_start(struct s2_conn *conn, const struct s2_key *k, struct s2_msg_key_rep *rep,
                     struct s2_op *op);

/** KEY REVOKE of key id on one endpoint (succeeds if the board does not hold it). */
int s2_key_revoke_start(struct s2_conn *conn, uint32_t id, struct s2_msg_key_rep *rep,
                        struct s2_op *op);

/** KEY LIST: the board's key ids and roles and its guard counters. */
int s2_key_list_start(struct s2_conn *conn, struct s2_msg_key_rep *rep, struct s2_op *op);

#endif
