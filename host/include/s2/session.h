/**
 * @file session.h
 * @brief A session: the boards of a machine opened for one program, with their lease and key
 * (session.c, docs/api.md).
 *
 * Set-up, in order:
 *  1. s2_session_open(): the machine (a description file, a machine already built, or a
 *     job's allocation through a resolver), the boards selected, the key loaded, one UDP
 *     endpoint per selected board opened (Ethernet chip, board controller, or both). Nothing
 *     is sent yet.
 *  2. optionally narrow the selection (s2_session_selection()), then s2_session_lease():
 *     take every selected board's lease (docs/cli.md, "Leases"); a keeper renews it from the
 *     client's event loop while the session waits for anything.
 *  3. use the endpoints (s2_session_eth(), s2_session_bmp(), or the high-level calls of
 *     run.h), then s2_session_close(): the lease is released, everything freed.
 *
 * Errors: every action returns 0 or a negative S2_E_ code (s2/error.h) and writes a message
 * naming the item and the reason into err (err may be NULL). A failed call changes nothing
 * on the boards.
 */
#ifndef S2_SESSION_H
#define S2_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/board.h"
#include "s2/lease.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_machine;
struct s2_session;

/**
 * Turn a job's allocation into a machine description (docs/slurm.md): called by
 * s2_session_open() when opts->allocation is set. On success *m is a machine the session
 * takes over (it frees it), and *boards, if the resolver sets it, a board selection in the
 * syntax of s2_session_opts.boards (a string the resolver keeps alive until it returns, copied).
 * @return 0 or a negative S2_E_ code with err set.
 */
typedef int (*s2_session_resolver)(void *arg, const char *allocation, struct s2_machine **m,
                                   const char **boards, char *err, size_t errlen);

/** What to open. Zero-initialise, then set what you need. */
struct s2_session_opts {
	/** The machine: exactly one of these three. */
	const char *machine_path;   /**< a machine description file (docs/machine.md) */
	struct s2_machine *machine; /**< a machine built in memory: the session takes it
	                                 over, also on failure */
	const char *allocation;     /**< a job's allocation, given to resolve */
	s2_session_resolver resolve;
	void *resolve_arg;
	/**
	 * Inside a SLURM job (SLURM_JOB_ID set and the job's allocation recorded by the s2
	 * prolog, s2/alloc.h) the session sees the job's view of the machine (its boards,
	 * renumbered from 0), uses the job's key when key_path is NULL, and addresses each board
	 * by its site number. ignore_job: do none of that (the site's whole machine; or a caller
	 * that applied the view itself and gives wire_boards).
	 */
	bool ignore_job;
	/** [boards of the machine] the board number for packet headers and live streams
	 * (s2_alloc_wire_board); NULL: each board's own number (or the job's, above). Copied. */
	const uint16_t *wire_boards;
	/** Boards: NULL or "all" for every board, else "0,2-5" (numbers of the machine). */
	const char *boards;
	/** A key file (docs/security.md): authenticate every request. NULL: no key. */
	const char *key_path;
	bool eth, bmp; /**< open the Ethernet endpoints, the board controllers, or both */
	/** The transport's tuning (sends per request, window, timeouts; s2/transport.h), copied.
	 * NULL: s2_transport_defaults(). */
	const struct s2_transport_opts *transport;
	/** The lease holder's purpose ("s2ctl run", "pyNN.s2"): shown to whoever finds the
	 * boards busy. NULL: "libs2". */
	const char *purpose;
	/** Messages for a person (taking over a lease with force, one line per board that
	 * refused): NULL to drop them. Not called after s2_session_close(). */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
};

/**
 * Open a session (step 1 above).
 * @param o   what to open (not kept)
 * @param out the session, owned by the caller until s2_session_close(); NULL on failure
 * @return 0; S2_E_INVAL: no machine given, or a bad board selection; S2_E_IO, S2_E_FORMAT,
 *         S2_E_CRC, S2_E_VERSION: the machine description or key file cannot be read or
 *         does not parse (err names the file); the resolver's code; inside a SLURM job,
 *         s2_alloc_from_env's and s2_alloc_view's (S2_E_AUTH: the machine has a board that is
 *         not the job's); S2_E_IO: an endpoint cannot be opened; S2_E_NOMEM.
 */
int s2_session_open(const struct s2_session_opts *o, struct s2_session **out, char *err,
                    size_t errlen);

/**
 * Take the lease of every selected board on each endpoint opened, and keep it renewed until
 * s2_session_close(). With force a lease held by another session is taken over (the board
 * logs it; so does o->log). A lease the session took before is released first (a new
 * deployment on the same session leases its own boards). On failure nothing is held.
 * @return 0; S2_E_BUSY: a board is held by another session (err names it, the holder and
 *         until when); S2_E_TIMEOUT: a board did not answer; S2_E_AUTH: a board refused the
 *         key; S2_E_INVAL: $S2_LEASE_TTL_MS is not 300..S2_LEASE_TTL_MAX; S2_E_NOMEM.
 */
int s2_session_lease(struct s2_session *s, bool force, char *err, size_t errlen);

/** Release the lease (if any), close every endpoint, free everything. NULL is allowed. */
void s2_session_close(struct s2_session *s);

/** The machine (owned by the session). */
struct s2_machine *s2_session_machine(const struct s2_session *s);
/** The client whose event loop drives every endpoint (owned by the session). */
struct s2_client *s2_session_client(const struct s2_session *s);
/** Boards in the machine. */
unsigned s2_session_boards(const struct s2_session *s);
/**
 * The selection, [s2_session_boards()] flags, writable: clearing a flag before
 * s2_session_lease() leaves that board unleased and unused. Owned by the session.
 */
bool *s2_session_selection(struct s2_session *s);
/** The Ethernet endpoints, [s2_session_boards()], NULL for boards not opened. */
struct s2_conn **s2_session_eth(struct s2_session *s);
/** The board controllers' endpoints, [s2_session_boards()], NULL for boards not opened. */
struct s2_conn **s2_session_bmp(struct s2_session *s);
/** The board numbers packets carry, [s2_session_boards()] (a SLURM job's site numbers), or
 * NULL when every board is addressed by its own number. Owned by the session. */
const uint16_t *s2_session_wire_boards(const struct s2_session *s);
/** The machine description file the session was opened from (NULL: none). */
const char *s2_session_machine_path(const struct s2_session *s);

/**
 * The lease of every selected board, asked on its Ethernet endpoint (else its controller):
 * rep[b] and status[b] (0 or an S2_E_ code) for each board b (both [s2_session_boards()];
 * boards not selected get S2_E_NOMEM and a zeroed rep).
 */
void s2_session_lease_status(struct s2_session *s, struct s2_msg_lease_rep *rep, int *status);

/** "held by H until 12:34:56 UTC (29 s left)" or "free", for messages. */
void s2_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
