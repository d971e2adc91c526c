/* A verb's connection to the boards of a machine: one client, one conn per selected board. */
#ifndef S2CTL_SESSION_H
#define S2CTL_SESSION_H

#include <stdbool.h>

#include "cli.h"
#include "s2/board.h"

struct session {
	struct cli *c;
	struct s2_machine *m;
	struct s2_client *client;
	unsigned n;           /**< boards in the machine */
	bool *sel;            /**< [n] selected */
	struct s2_conn **eth; /**< [n] Ethernet endpoints of selected boards */
	struct s2_conn **bmp; /**< [n] board controllers of selected boards */
};

/** Load the machine, select boards, open the endpoints asked for. 0 or an exit code. */
int session_open(struct session *s, struct cli *c, bool eth, bool bmp);
void session_close(struct session *s);

/** Parse a single --board B against the machine (with bounds). */
int session_board(struct session *s, const char *arg, unsigned *board);

#endif
