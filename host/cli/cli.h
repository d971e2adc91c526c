/*
 * Shared plumbing of the s2ctl verbs: exit codes, error messages, JSON output, progress
 * bars, board selection and connecting to the boards of a machine description.
 */
#ifndef S2CTL_CLI_H
#define S2CTL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "s2/transport.h"

struct s2_machine;

/** Exit codes (docs/cli.md). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,    /**< the operation failed on the machine */
	EXIT_USAGE = 2,   /**< bad command line */
	EXIT_INPUT = 3,   /**< bad input file (machine description, image, data) */
	EXIT_TIMEOUT = 4, /**< a board did not answer */
	EXIT_PARTIAL = 5, /**< some boards succeeded, some failed */
	EXIT_BUSY = 6,    /**< a board is held by another session's lease */
	EXIT_AUTH = 7,    /**< a board refused the request's authentication (no or wrong key) */
};

/** Options every verb takes. */
struct cli {
	const char *verb;
	const char *machine_path; /**< --machine, or $S2_MACHINE */
	bool json;
	bool quiet;
	bool progress;           /**< stderr is a terminal and not --quiet/--json */
	const char *boards_spec; /**< --boards */
	bool force;              /**< --force: take boards held by another session (logged) */
	const char *key_path;    /**< --key, or $S2_KEY_FILE: authenticate (docs/security.md) */
	unsigned attempts; /**< --attempts: sends per request (0: $S2_ATTEMPTS, else the default) */
	bool site;         /**< the site's whole machine, not a SLURM job's view (prolog, epilog) */
};

/* Print "s2ctl VERB: message" to stderr; returns code, for `return cli_error(...)`. */
__attribute__((format(printf, 3, 4))) int cli_error(const struct cli *c, int code, const char *fmt,
                                                    ...);

/** The monitor image when no --image is given: S2_FIRMWARE, the build tree's, the installed one. */
const char *cli_default_firmware(void);

/** Map an S2_E_ code to an exit code. */
int cli_exit_for(int err);

/** Load the machine description named by --machine / $S2_MACHINE; NULL after an error. */
struct s2_machine *cli_load_machine(const struct cli *c);

/**
 * Parse --boards ("all", "3", "0-3,7") against a machine of n boards into sel[n]
 * (true = selected). No --boards: all. Returns 0 or prints an error and returns -1.
 */
int cli_select_boards(const struct cli *c, unsigned n, bool *sel);

/** Parse an unsigned number with bounds; prints an error naming `what` on failure. */
int cli_uint(const struct cli *c, const char *what, const char *s, unsigned long max,
             unsigned long *out);

/**
 * Parse a number of sends per request (--attempts, $S2_ATTEMPTS: `what` names it in the
 * error): 1..S2_ATTEMPTS_MAX, decimal. 0, or -1 after an error (exit EXIT_USAGE).
 */
int cli_attempts(const struct cli *c, const char *what, const char *s, unsigned *out);

/** Draw a progress bar on stderr (only when c->progress); done <= total. */
void cli_progress(const struct cli *c, const char *label, uint64_t done, uint64_t total);
void cli_progress_end(const struct cli *c);

/** Transport counters of a conn as one line of text (for errors and --verbose). */
void cli_conn_summary(const struct s2_conn *conn, char *out, size_t cap);

/* JSON output: libs2's writer (lib/util/jsonw_internal.h, struct json), by its short names. */
#include "jsonw_internal.h"
#define json_begin s2_json_begin
#define json_obj s2_json_obj
#define json_arr s2_json_arr
#define json_end_obj s2_json_end_obj
#define json_end_arr s2_json_end_arr
#define json_str s2_json_str
#define json_int s2_json_int
#define json_uint s2_json_uint
#define json_num s2_json_num
#define json_flag s2_json_flag
#define json_null s2_json_null
#define json_finish s2_json_finish
#define json_escaped s2_json_escaped

/** A conn's transport counters as a JSON object under key. */
void cli_json_conn(struct json *j, const char *key, const struct s2_conn *conn);

/* Verbs. */
int verb_discover(int argc, char **argv);
int verb_boot(int argc, char **argv);
int verb_info(int argc, char **argv);
int verb_ps(int argc, char **argv);
int verb_iobuf(int argc, char **argv);
int verb_mem(int argc, char **argv);
int verb_signal(int argc, char **argv);
int verb_power(int argc, char **argv);
int verb_reset(int argc, char **argv);
int verb_scrub(int argc, char **argv);
int verb_machine(int argc, char **argv);
int verb_net(int argc, char **argv);
int verb_compile(int argc, char **argv);
int verb_flash(int argc, char **argv);
int verb_deploy(int argc, char **argv);
int verb_run(int argc, char **argv);
int verb_results(int argc, char **argv);
int verb_stream(int argc, char **argv);
int verb_inject(int argc, char **argv);
int verb_energy(int argc, char **argv);
int verb_plot(int argc, char **argv);
int verb_capture(int argc, char **argv);
int verb_replay(int argc, char **argv);
int verb_key(int argc, char **argv);
int verb_job(int argc, char **argv);

/* SLURM (verb_job.c, docs/cluster.md). Inside a job (s2/alloc.h): the job's view of m (m is
 * consumed; NULL after a message), the job key's path (NULL: none), and "JOB\tUSER\tACCOUNT"
 * for metrics labels (returns 1 inside a job). */
struct s2_machine *cli_job_view(const struct cli *c, struct s2_machine *m, const char *what);
const char *cli_job_key(const struct cli *c);
int cli_job_labels(char *out, size_t cap);
/* The header board of board b of m (the site index behind a job's board; b outside a job),
 * and the same translation for a live stream's packets. */
uint16_t cli_job_wire_board(const struct cli *c, const struct s2_machine *m, unsigned b);
struct s2_stream;
int cli_job_stream_map(const struct cli *c, const struct s2_machine *m, struct s2_stream *st);
int cli_machine_slurm(int argc, char **argv);
/* Plot an energy report's power per board over the run (energy report --svg, plot power)
 * into path, atomically (verb_plot.c). 0, or S2_E_IO / S2_E_NOMEM with err set and no file. */
struct s2_energy_report;
int cli_energy_power_svg(const struct s2_energy_report *r, const char *path, char *err,
                         size_t errlen);
int cli_energy_jobs(int argc, char **argv);

#endif

/* Option parsing shared by the verbs. Long options common to all verbs: --machine FILE,
 * --boards LIST, --json, --quiet, --help. `extra` lists the verb's own (ending with a zero
 * entry, `val` >= 256); `on` is called for each. Returns the index of the first
 * positional argument, -1 after a usage error (message printed), or -2 after --help. */
struct option;
int cli_parse(struct cli *c, const char *verb, int argc, char **argv, const struct option *extra,
              int (*on)(struct cli *c, int id, const char *arg, void *ctx), void *ctx);

/** The usage text of a verb (from the verb table in s2ctl.c). */
const char *cli_usage(const char *verb);
