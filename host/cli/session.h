/* A verb's connection to the boards of a machine: one client, one conn per selected board. */
#ifndef S2CTL_SESSION_H
#define S2CTL_SESSION_H

#include <stdbool.h>

#include "cli.h"
#include "s2/board.h"
#include "s2/lease.h"

struct session {
	struct cli *c;
	struct s2_machine *m;
	struct s2_client *client;
	unsigned n;           /**< boards in the machine */
	bool *sel;            /**< [n] selected */
	struct s2_conn **eth; /**< [n] Ethernet endpoints of selected boards */
	struct s2_conn **bmp; /**< [n] board controllers of selected boards */
	/* The session's lease on its boards (session_lease), released by session_close. */
	uint64_t token;                       /**< 0: no lease taken */
	char holder[S2_LEASE_HOLDER_LEN + 1]; /**< "user@host pid N verb" */
	struct s2_lease_keeper *keeper;
};

/** The key of --key or $S2_KEY_FILE (if any) into s->client: 0, or an exit code after a
 * message naming the file and the reason (missing, unreadable, readable by others). */
int session_key(struct session *s);

/** Load the machine, select boards, load the key (session_key), open the endpoints asked
 * for. 0 or an exit code. */
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

/** The lease of every selected board, asked on its Ethernet endpoint (else its controller):
 * rep[b] and status[b] (0 or an S2_E_ code) for each selected b. For info and ps. */
void session_lease_status(struct session *s, struct s2_msg_lease_rep *rep, int *status);

/** "held by H until 12:34:56 UTC (29 s left)" or "free", for messages. */
void session_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap);

/** Parse a single --board B against the machine (with bounds). */
int session_board(struct session *s, const char *arg, unsigned *board);

#endif
