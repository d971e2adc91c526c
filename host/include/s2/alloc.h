/**
 * @file alloc.h
 * @brief A SLURM job's boards (docs/cluster.md): what the prolog records, and the machine a
 *        program inside the job sees.
 *
 * Boards are the generic resource `s2board`, one per board: gres index i is board i of the
 * site's machine description. SLURM 22.05 exports nothing to a job for a gres without a
 * plugin, so the prolog (tools/slurm/s2-prolog, as root) reads the job's indices from
 * `scontrol show job -d` ("GRES=s2board:2(IDX:2-3)") and writes the job's *allocation file*,
 * STATE/jobs/JOBID/alloc (STATE: $S2_STATE_DIR, else /var/lib/s2). A process of the job
 * (SLURM_JOB_ID set) finds it there: libs2's users (s2ctl, pyNN.s2 through s2ctl, programs
 * calling s2_alloc_from_env) then see only those boards, as a machine renumbered from 0 with
 * the real endpoints behind it, and authenticate with the job's key, which the prolog
 * installed on those boards only. A command to any other board is refused before anything
 * is sent: the board is not in the machine the job sees. (The refusal is a convenience; the
 * enforcement is the job key, which no other board holds: docs/security.md.)
 *
 * The allocation file is an s2 file container (docs/files.md) of kind "ALOC" with one
 * section "alloc" of text lines "NAME VALUE" (job, user, uid, account, machine, machine_hash,
 * key, start_us, then one "board INDEX HOST ETH_PORT BMP_PORT" per board, in job order).
 */
#ifndef S2_ALLOC_H
#define S2_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/machine.h"

#define S2_ALLOC_MAX_BOARDS 4096
#define S2_ALLOC_STATE_DEFAULT "/var/lib/s2"

/** A job's allocation. Strings are NUL-terminated, possibly empty. */
struct s2_alloc {
	char job[32];             /**< SLURM job id */
	char user[64];            /**< the job's user name */
	uint32_t uid;             /**< the job's user id */
	char account[64];         /**< the job's account */
	char machine[512];        /**< path of the site's machine description */
	uint8_t machine_hash[32]; /**< BLAKE2b-256 of the site machine's protobuf encoding */
	char key[512];            /**< path of the job key file, "" if none */
	uint64_t start_us;        /**< when the prolog ran, Unix microseconds */
	unsigned n;               /**< boards */
	unsigned board[S2_ALLOC_MAX_BOARDS];              /**< site board index of job board i */
	struct s2_board_endpoint ep[S2_ALLOC_MAX_BOARDS]; /**< its endpoint */
};

/** The state directory: $S2_STATE_DIR, else S2_ALLOC_STATE_DEFAULT. */
const char *s2_alloc_state_dir(void);

/**
 * Parse gres indices as `scontrol show job -d` prints them for this gres: the first
 * "GRES=NAME:N(IDX:LIST)" (or "NAME:TYPE:N(IDX:LIST)") in text, LIST like "0-1,3". Fills
 * idx[0..*n) in increasing order; the count must equal N.
 * @return 0, or S2_E_FORMAT with err naming what is wrong (no such gres: S2_E_NOTFOUND).
 */
int s2_alloc_parse_gres(const char *text, const char *name, unsigned *idx, unsigned cap,
                        unsigned *n, char *err, size_t errlen);

/** Parse a board list "0-1,3" (increasing, no repeats) into idx[0..*n). 0 or S2_E_FORMAT. */
int s2_alloc_parse_list(const char *s, unsigned *idx, unsigned cap, unsigned *n);

/**
 * Fill a's boards from the site machine m: board[i] = idx[i], with their endpoints, and the
 * machine hash. Refuses an index that m does not have ("gres index 5: the machine has boards
 * 0-3": gres.conf lists more boards than the description).
 * @return 0 or S2_E_RANGE / S2_E_NOMEM with err set.
 */
int s2_alloc_set_boards(struct s2_alloc *a, const struct s2_machine *m, const unsigned *idx,
                        unsigned n, char *err, size_t errlen);

/** Write a's allocation file to path atomically (mode 0644: it holds no secret). */
int s2_alloc_save(const struct s2_alloc *a, const char *path, char *err, size_t errlen);

/** Read an allocation file; every line and value checked. 0 or a negative code, err set. */
int s2_alloc_load(const char *path, struct s2_alloc *a, char *err, size_t errlen);
/** The same from the file's bytes buf[0..len) (untrusted: checked before use); name is for
 * messages. 0 or a negative code with err naming the file and the line. */
int s2_alloc_decode(const uint8_t *buf, size_t len, const char *name, struct s2_alloc *a, char *err,
                    size_t errlen);

/** STATE/jobs/JOB/alloc into out. */
void s2_alloc_path(const char *job, char *out, size_t cap);

/**
 * The allocation of the job this process belongs to.
 * @return 1 with *a filled when SLURM_JOB_ID is set and the state directory has a jobs/
 *         directory (s2 is set up under SLURM here); 0 when no allocation applies (not in a
 *         job, or s2 not set up for SLURM on this host); a negative code with err set when
 *         the job has no readable allocation ("job 12 holds no s2 boards: ask for them with
 *         --gres=s2board:N").
 */
int s2_alloc_from_env(struct s2_alloc *a, char *err, size_t errlen);

/**
 * The machine a job sees, from a description m given to it (its owner's file, or the site's):
 * - m is the site's machine (its encoding has a's machine hash): its boards a->board[],
 *   renumbered 0..n-1 (s2_machine_subset);
 * - else every board of m must be one of a's boards (same host and ports): m as it is;
 *   otherwise S2_E_AUTH, err naming the board ("board 2 (127.0.0.1:17004) is not one of
 *   job 12's boards (site boards 0,1)").
 * @param what the description's name, for messages
 * @return a new machine, or NULL with err set.
 */
struct s2_machine *s2_alloc_view(const struct s2_alloc *a, const struct s2_machine *m,
                                 const char *what, char *err, size_t errlen);

/**
 * The board index to put in the header of packets for the board at ep, board b of a job's
 * view: boards check it against their own index in the site machine (protocol 5), so a job's
 * board 0 that is site board 2 is addressed as 2; live streams carry it too
 * (s2_stream_map_boards). Returns b if ep is not one of a's boards.
 */
unsigned s2_alloc_wire_board(const struct s2_alloc *a, const struct s2_board_endpoint *ep,
                             unsigned b);

/** BLAKE2b-256 of m's protobuf encoding. 0 or S2_E_NOMEM. */
int s2_alloc_machine_hash(const struct s2_machine *m, uint8_t out[32]);

#endif
