/* The command line's sessions (session.h) on libs2's (s2/session.h). */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"
#include "s2/machine.h"

static void log_cb(void *arg, const char *msg)
{
	const struct cli *c = arg;
	cli_error(c, 0, "%s", msg);
}

int session_exit_for(int rc)
{
	switch (rc) {
	case S2_E_INVAL:
		return EXIT_USAGE;
	case S2_E_NOMEM:
		return EXIT_FAIL;
	case S2_E_BUSY:
	case S2_E_TIMEOUT:
	case S2_E_AUTH:
		return cli_exit_for(rc);
	default:
		return EXIT_INPUT;
	}
}

int session_open(struct session *s, struct cli *c, bool eth, bool bmp)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	/* The machine as the verb sees it: inside a SLURM job its view, with the job's key and
	 * the site's board numbers in the headers (verb_job.c); --site: the whole machine. */
	/* Sends per request before a board counts as silent (docs/cli.md, "Transport"). */
	struct s2_transport_opts topts;
	s2_transport_defaults(&topts);
	const char *env = getenv("S2_ATTEMPTS");
	if (c->attempts)
		topts.max_attempts = c->attempts;
	else if (env && *env && cli_attempts(c, "S2_ATTEMPTS", env, &topts.max_attempts) < 0)
		return EXIT_USAGE;
	struct s2_machine *m = cli_load_machine(c);
	if (!m)
		return c->machine_path || getenv("S2_MACHINE") ? EXIT_INPUT : EXIT_USAGE;
	const char *key = c->key_path ? c->key_path : getenv("S2_KEY_FILE");
	if (!key || !*key)
		key = cli_job_key(c);
	unsigned n = s2_machine_boards(m);
	uint16_t *wire = malloc((n ? n : 1) * sizeof *wire);
	if (!wire) {
		s2_machine_free(m);
		return cli_error(c, EXIT_FAIL, "out of memory");
	}
	for (unsigned b = 0; b < n; b++)
		wire[b] = cli_job_wire_board(c, m, b);
	struct s2_session_opts o = {
	        .machine = m,
	        .ignore_job = true, /* applied above, as for every verb */
	        .wire_boards = wire,
	        .boards = c->boards_spec,
	        .key_path = key,
	        .eth = eth,
	        .bmp = bmp,
	        .transport = &topts,
	        .purpose = c->verb,
	        .log = log_cb,
	        .log_arg = c,
	};
	char err[512];
	int rc = s2_session_open(&o, &s->ls, err, sizeof err);
	free(wire);
	if (rc < 0)
		return cli_error(c, session_exit_for(rc == S2_E_AUTH ? S2_E_FORMAT : rc), "%s",
		                 err);
	s->m = s2_session_machine(s->ls);
	s->client = s2_session_client(s->ls);
	s->n = s2_session_boards(s->ls);
	s->sel = s2_session_selection(s->ls);
	s->eth = s2_session_eth(s->ls);
	s->bmp = s2_session_bmp(s->ls);
	return 0;
}

int session_lease(struct session *s)
{
	char err[512];
	/* Each board's refusal was said through log_cb; the exit code is the worst. */
	int rc = s2_session_lease(s->ls, s->c->force, err, sizeof err);
	if (rc == S2_E_INVAL || rc == S2_E_NOMEM)
		return cli_error(s->c, session_exit_for(rc), "%s", err);
	return rc < 0 ? session_exit_for(rc) : EXIT_OK;
}

void session_close(struct session *s)
{
	s2_session_close(s->ls);
	memset(s, 0, sizeof *s);
}

void session_lease_status(struct session *s, struct s2_msg_lease_rep *rep, int *status)
{
	s2_session_lease_status(s->ls, rep, status);
}

void session_lease_text(const struct s2_msg_lease_rep *rep, char *out, size_t cap)
{
	s2_lease_text(rep, out, cap);
}

int session_board(struct session *s, const char *arg, unsigned *board)
{
	unsigned long v;
	if (cli_uint(s->c, "--board", arg, s->n ? s->n - 1 : 0, &v) < 0)
		return -1;
	*board = (unsigned)v;
	return 0;
}
