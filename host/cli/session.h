/*
 * A verb's connection to the boards of a machine: the command line's view of a libs2 session
 * (s2/session.h): --machine/$S2_MACHINE, --boards, --key/$S2_KEY_FILE and --force turned into
 * a session, its errors into messages and exit codes.
 */
#ifndef S2CTL_SESSION_H
#define S2CTL_SESSION_H

#include <stdbool.h>

#include "cli.h"
#include "s2/board.h"
#include "s2/lease.h"
#include "s2/session.h"

struct session {
	struct cli *c;
	struct s2_session *ls; /**< the library's session (owns everything below) */
	struct s2_machine *m;
	struct s2_client *client;
	unsigned n;           /**< boards in the machine */
	bool *sel;            /**< [n] selected (the session's own array: writable) */
	struct s2_conn **eth; /**< [n] Ethernet endpoints of selected boards */
	struct s2_conn **bmp; /**< [n] board controllers of selected boards */
};

/** Load the machine, select boards, load the key, open the endpoints asked for. 0 or an
 * exit code after a message. On failure s is still safe to session_close. */
int session_open(struct session *s, struct cli *c, bool eth, bool bmp);
/**
 * Take the lease of every selected board on each endpoint opened (docs/cli.md, "Leases")
 * and keep it renewed until session_close releases it. With c->force a lease held by
 * another session is taken over (the board logs it; so does stderr). Returns 0, or an exit
 * code after a message per board: EXIT_BUSY naming the holder and until when, EXIT_TIMEOUT
 * for a board that did not answer. On failure nothing is held.
 */
int session_lease(struct session *s);

/** Release the lease (if any), close every conn, free everything. */
void session_close(struct session *s);

/** s2_session_lease_status, for info and ps. */
void session_lease_status(struct session *s, struct s2_msg_lease_rep *rep, int *status);

/** s2_lease_text. */
void session_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap);

/** Parse a single --board B against the machine (with bounds). */
int session_board(struct session *s, const char *arg, unsigned *board);

/** Exit code for an s2_session_open / s2_session_lease error. */
int session_exit_for(int rc);

#endif
