/* Shared plumbing of the s2ctl verbs (cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s2/error.h"
#include "s2/machine.h"

int cli_error(const struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;
	if (c->progress)
		fputc('\n', stderr);
	fprintf(stderr, "s2ctl %s: ", c->verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_exit_for(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case S2_E_TIMEOUT:
		return EXIT_TIMEOUT;
	case S2_E_BUSY:
		return EXIT_BUSY;
	case S2_E_AUTH:
		return EXIT_AUTH;
	case S2_E_FORMAT:
	case S2_E_IO:
		return EXIT_INPUT;
	default:
		return EXIT_FAIL;
	}
}

struct s2_machine *cli_load_machine(const struct cli *c)
{
	const char *path = c->machine_path ? c->machine_path : getenv("S2_MACHINE");
	if (!path) {
		cli_error(c, EXIT_USAGE,
		          "no machine description: give --machine FILE or set S2_MACHINE");
		return NULL;
	}
	char err[512];
	struct s2_machine *m = s2_machine_load_file(path, err, sizeof err);
	if (!m)
		cli_error(c, EXIT_INPUT, "%s", err);
	return m ? cli_job_view(c, m, path) : NULL; /* inside a SLURM job: its boards only */
}

int cli_uint(const struct cli *c, const char *what, const char *s, unsigned long max,
             unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || *s == '-') {
		cli_error(c, EXIT_USAGE, "%s: '%s' is not a number in 0..%lu", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_attempts(const struct cli *c, const char *what, const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v < 1 || v > S2_ATTEMPTS_MAX) {
		cli_error(c, EXIT_USAGE, "%s: '%s' is not a number of sends in 1..%u", what, s,
		          S2_ATTEMPTS_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_select_boards(const struct cli *c, unsigned n, bool *sel)
{
	const char *spec = c->boards_spec;
	bool any = !spec || !strcmp(spec, "all");
	for (unsigned i = 0; i < n; i++)
		sel[i] = any;
	if (any)
		return 0;
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", spec);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long a, b;
		char *dash = strchr(tok, '-');
		if (dash)
			*dash = 0;
		if (cli_uint(c, "--boards", tok, n ? n - 1 : 0, &a) < 0)
			return -1;
		b = a;
		if (dash && cli_uint(c, "--boards", dash + 1, n ? n - 1 : 0, &b) < 0)
			return -1;
		if (b < a) {
			cli_error(c, EXIT_USAGE, "--boards: range %lu-%lu is backwards", a, b);
			return -1;
		}
		for (unsigned long i = a; i <= b; i++)
			sel[i] = true;
	}
	return 0;
}

void cli_progress(const struct cli *c, const char *label, uint64_t done, uint64_t total)
{
	if (!c->progress || total == 0)
		return;
	int width = 30, fill = (int)(done * (uint64_t)width / total);
	fprintf(stderr, "\r%-10s [", label);
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%%", (int)(done * 100 / total));
	fflush(stderr);
}

void cli_progress_end(const struct cli *c)
{
	if (c->progress)
		fputc('\n', stderr);
}

void cli_conn_summary(const struct s2_conn *conn, char *out, size_t cap)
{
	s2_conn_summary(conn, out, cap);
}

void cli_json_conn(struct json *j, const char *key, const struct s2_conn *conn)
{
	const struct s2_conn_stats *s = s2_conn_stats(conn);
	json_obj(j, key);
	json_uint(j, "requests", s->requests);
	json_uint(j, "sent", s->sent);
	json_uint(j, "retransmits", s->retransmits);
	json_uint(j, "timeouts", s->timeouts);
	json_uint(j, "failed", s->failed);
	json_uint(j, "duplicates", s->duplicates);
	json_uint(j, "bad", s->bad);
	json_uint(j, "wrong_source", s->wrong_source);
	json_uint(j, "mismatched", s->mismatched);
	json_uint(j, "srtt_us", s->srtt_us);
	json_end_obj(j);
}

/*
 * The monitor image to boot with when neither --image nor S2_FIRMWARE names one: the build
 * tree's (S2_DEFAULT_FIRMWARE) if it is there, else the installed one, found relative to the
 * running program (PREFIX/bin/s2ctl -> PREFIX/share/s2/s2_monitor.bin), so an installed tree
 * can be moved.
 */
const char *cli_default_firmware(void)
{
	static char buf[4096];
	const char *env = getenv("S2_FIRMWARE");
	if (env && *env)
		return env;
	if (access(S2_DEFAULT_FIRMWARE, R_OK) == 0)
		return S2_DEFAULT_FIRMWARE;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 64);
	if (n > 0) {
		buf[n] = 0;
		char *slash = strrchr(buf, '/');
		if (slash) {
			*slash = 0;
			slash = strrchr(buf, '/');
			if (slash) {
				strcpy(slash, "/share/s2/s2_monitor.bin");
				if (access(buf, R_OK) == 0)
					return buf;
			}
		}
	}
	return S2_DEFAULT_FIRMWARE;
}
