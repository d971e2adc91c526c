/* A SLURM job's boards: the allocation file and the machine a job sees (alloc.h). */
#include "s2/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s2/blake2b.h"
#include "s2/error.h"
#include "s2/fileio.h"

#include "../textrec_internal.h"

static const struct s2_textrec_kind alloc_rec = {
        .kind = S2_SFILE_KIND('A', 'L', 'O', 'C'),
        .version = 1,
        .section = "alloc",
        .what = "allocation",
        .max = 1u << 20,
};

const char *s2_alloc_state_dir(void)
{
	const char *d = getenv("S2_STATE_DIR");
	return d && *d ? d : S2_ALLOC_STATE_DEFAULT;
}

void s2_alloc_path(const char *job, char *out, size_t cap)
{
	snprintf(out, cap, "%s/jobs/%s/alloc", s2_alloc_state_dir(), job);
}

int s2_alloc_machine_hash(const struct s2_machine *m, uint8_t out[32])
{
	uint8_t *pb = NULL;
	size_t len = 0;
	int rc = s2_machine_encode(m, &pb, &len);
	if (rc < 0)
		return rc;
	rc = s2_blake2b(out, 32, NULL, 0, pb, len);
	free(pb);
	return rc;
}

/* "0-1,3" into idx (increasing, no repeats). */
static int parse_list(const char *s, size_t len, unsigned *idx, unsigned cap, unsigned *n)
{
	*n = 0;
	size_t i = 0;
	while (i < len) {
		unsigned long a = 0, b;
		size_t d = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && d < 7)
			a = a * 10 + (unsigned long)(s[i++] - '0'), d++;
		if (!d)
			return S2_E_FORMAT;
		b = a;
		if (i < len && s[i] == '-') {
			i++;
			b = 0;
			d = 0;
			while (i < len && s[i] >= '0' && s[i] <= '9' && d < 7)
				b = b * 10 + (unsigned long)(s[i++] - '0'), d++;
			if (!d || b < a)
				return S2_E_FORMAT;
		}
		for (unsigned long v = a; v <= b; v++) {
			if (*n >= cap || (*n && idx[*n - 1] >= v))
				return S2_E_FORMAT;
			idx[(*n)++] = (unsigned)v;
		}
		if (i < len && s[i] != ',')
			return S2_E_FORMAT;
		i++;
	}
	return *n ? 0 : S2_E_FORMAT;
}

int s2_alloc_parse_list(const char *s, unsigned *idx, unsigned cap, unsigned *n)
{
	return parse_list(s, strlen(s), idx, cap, n);
}

int s2_alloc_parse_gres(const char *text, const char *name, unsigned *idx, unsigned cap,
                        unsigned *n, char *err, size_t errlen)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(text, "GRES="); p; p = strstr(p + 1, "GRES=")) {
		const char *q = p + 5;
		/* GRES= may list several: "gpu:1(IDX:0),s2board:2(IDX:2-3)". */
		for (;;) {
			if (!strncmp(q, name, nl) && q[nl] == ':') {
				const char *open = strchr(q, '(');
				if (!open || strncmp(open, "(IDX:", 5)) {
					snprintf(err, errlen,
					         "'%.*s': no (IDX:...) after the count",
					         (int)strcspn(q, " \n"), q);
					return S2_E_FORMAT;
				}
				/* The count: the digits just before '('. */
				const char *c = open;
				while (c > q && c[-1] >= '0' && c[-1] <= '9')
					c--;
				unsigned long count = strtoul(c, NULL, 10);
				const char *list = open + 5, *close = strchr(list, ')');
				if (c == open || !close ||
				    parse_list(list, (size_t)(close - list), idx, cap, n) < 0) {
					snprintf(err, errlen, "'%.*s' is not NAME:N(IDX:LIST)",
					         (int)strcspn(q, " \n"), q);
					return S2_E_FORMAT;
				}
				if (count != *n) {
					snprintf(err, errlen, "'%.*s': %lu boards but %u indices",
					         (int)strcspn(q, " \n"), q, count, *n);
					return S2_E_FORMAT;
				}
				return 0;
			}
			/* Next entry of the list: after the ')' of this one, a ','. */
			const char *close = strchr(q, ')'), *end = q + strcspn(q, " \n");
			if (!close || close >= end || close[1] != ',')
				break;
			q = close + 2;
		}
	}
	snprintf(err, errlen,
	         "no GRES=%s:N(IDX:...) in the job's details (did the job ask for "
	         "--gres=%s:N?)",
	         name, name);
	return S2_E_NOTFOUND;
}

int s2_alloc_set_boards(struct s2_alloc *a, const struct s2_machine *m, const unsigned *idx,
                        unsigned n, char *err, size_t errlen)
{
	unsigned nb = s2_machine_boards(m);
	if (n == 0 || n > S2_ALLOC_MAX_BOARDS) {
		snprintf(err, errlen, "%u boards: a job holds 1 to %u", n, S2_ALLOC_MAX_BOARDS);
		return S2_E_RANGE;
	}
	for (unsigned i = 0; i < n; i++) {
		if (idx[i] >= nb) {
			snprintf(err, errlen,
			         "gres index %u: the machine has boards 0-%u (gres.conf lists more "
			         "boards than the machine description)",
			         idx[i], nb - 1);
			return S2_E_RANGE;
		}
		a->board[i] = idx[i];
		s2_machine_board_endpoint(m, idx[i], &a->ep[i]);
	}
	a->n = n;
	if (s2_alloc_machine_hash(m, a->machine_hash) < 0) {
		snprintf(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	return 0;
}

/* A value is one word of printable characters (no spaces): user and account names, paths;
 * empty ones are written as "-". */
static bool word_ok(const char *s)
{
	return s2_textrec_word(s, true);
}

int s2_alloc_save(const struct s2_alloc *a, const char *path, char *err, size_t errlen)
{
	if (!*a->job || !word_ok(a->job) || !word_ok(a->user) || !word_ok(a->account) ||
	    !word_ok(a->machine) || !word_ok(a->key) || !a->n) {
		snprintf(err, errlen,
		         "%s: job, user, account and paths must be one word each, and "
		         "the job must hold a board",
		         path);
		return S2_E_INVAL;
	}
	size_t cap = 4096 + (size_t)a->n * (S2_MACHINE_HOST_MAX + 48), n = 0;
	char *t = malloc(cap);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	char hash[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", a->machine_hash[i]);
	n += (size_t)snprintf(t + n, cap - n,
	                      "job %s\nuser %s\nuid %" PRIu32 "\naccount %s\nmachine %s\n"
	                      "machine_hash %s\nkey %s\nstart_us %" PRIu64 "\n",
	                      a->job, *a->user ? a->user : "-", a->uid,
	                      *a->account ? a->account : "-", *a->machine ? a->machine : "-", hash,
	                      *a->key ? a->key : "-", a->start_us);
	for (unsigned i = 0; i < a->n && n < cap; i++)
		n += (size_t)snprintf(t + n, cap - n, "board %u %s %u %u\n", a->board[i],
		                      a->ep[i].host, a->ep[i].eth_port, a->ep[i].bmp_port);
	int rc = s2_textrec_save(&alloc_rec, t, n, path, err, errlen);
	free(t);
	return rc;
}

static int copy_word(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return S2_E_RANGE;
	snprintf(dst, cap, "%s", strcmp(v, "-") ? v : "");
	return 0;
}

static int parse_line(struct s2_alloc *a, char *line)
{
	char name[32], v1[512];
	unsigned long long u;
	char *sp = strchr(line, ' ');
	if (!sp || sp == line || (size_t)(sp - line) >= sizeof name)
		return S2_E_FORMAT;
	memcpy(name, line, (size_t)(sp - line));
	name[sp - line] = 0;
	const char *v = sp + 1;
	if (!strcmp(name, "board")) {
		unsigned idx, eth, bmp;
		char host[S2_MACHINE_HOST_MAX + 1];
		int used = 0;
		if (a->n >= S2_ALLOC_MAX_BOARDS ||
		    sscanf(v, "%u %64s %u %u%n", &idx, host, &eth, &bmp, &used) != 4 || v[used] ||
		    strlen(host) >= S2_MACHINE_HOST_MAX || eth > 65535 || bmp > 65535)
			return S2_E_FORMAT;
		for (unsigned i = 0; i < a->n; i++)
			if (a->board[i] == idx)
				return S2_E_FORMAT;
		a->board[a->n] = idx;
		memcpy(a->ep[a->n].host, host,
		       strlen(host) + 1); /* checked: < S2_MACHINE_HOST_MAX */
		a->ep[a->n].eth_port = (uint16_t)eth;
		a->ep[a->n].bmp_port = (uint16_t)bmp;
		a->n++;
		return 0;
	}
	if (strlen(v) >= sizeof v1 || !*v || !word_ok(v))
		return S2_E_FORMAT;
	snprintf(v1, sizeof v1, "%s", v);
	if (!strcmp(name, "job"))
		return copy_word(a->job, sizeof a->job, v1);
	if (!strcmp(name, "user"))
		return copy_word(a->user, sizeof a->user, v1);
	if (!strcmp(name, "account"))
		return copy_word(a->account, sizeof a->account, v1);
	if (!strcmp(name, "machine"))
		return copy_word(a->machine, sizeof a->machine, v1);
	if (!strcmp(name, "key"))
		return copy_word(a->key, sizeof a->key, v1);
	if (!strcmp(name, "uid") || !strcmp(name, "start_us")) {
		char *end;
		errno = 0;
		u = strtoull(v1, &end, 10);
		if (errno || *end || v1[0] == '-' || (!strcmp(name, "uid") && u > UINT32_MAX))
			return S2_E_FORMAT;
		if (!strcmp(name, "uid"))
			a->uid = (uint32_t)u;
		else
			a->start_us = u;
		return 0;
	}
	if (!strcmp(name, "machine_hash")) {
		if (strlen(v1) != 64)
			return S2_E_FORMAT;
		for (unsigned i = 0; i < 32; i++) {
			unsigned x;
			if (sscanf(v1 + 2 * i, "%2x", &x) != 1)
				return S2_E_FORMAT;
			a->machine_hash[i] = (uint8_t)x;
		}
		return 0;
	}
	return 0; /* names a later version adds are skipped */
}

static int alloc_line(void *ctx, char *line)
{
	return parse_line(ctx, line);
}

static int alloc_done(int rc, const struct s2_alloc *a, const char *path, char *err, size_t errlen)
{
	if (rc == 0 && (!*a->job || !a->n)) {
		snprintf(err, errlen, "%s: no job id or no boards", path);
		rc = S2_E_FORMAT;
	}
	return rc;
}

int s2_alloc_decode(const uint8_t *buf, size_t len, const char *path, struct s2_alloc *a, char *err,
                    size_t errlen)
{
	memset(a, 0, sizeof *a);
	int rc = s2_textrec_decode(&alloc_rec, buf, len, path, alloc_line, a, err, errlen);
	return alloc_done(rc, a, path, err, errlen);
}

int s2_alloc_load(const char *path, struct s2_alloc *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	int rc = s2_textrec_load(&alloc_rec, path, alloc_line, a, err, errlen);
	return alloc_done(rc, a, path, err, errlen);
}

int s2_alloc_from_env(struct s2_alloc *a, char *err, size_t errlen)
{
	const char *job = getenv("SLURM_JOB_ID");
	if (!job || !*job)
		return 0;
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/jobs", s2_alloc_state_dir());
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	char path[1100];
	s2_alloc_path(job, path, sizeof path);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		snprintf(err, errlen,
		         "job %s holds no s2 boards (no %s): ask for them with --gres=s2board:N",
		         job, path);
		return S2_E_NOTFOUND;
	}
	int rc = s2_alloc_load(path, a, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(a->job, job)) {
		snprintf(err, errlen, "%s is the allocation of job %s, not of this job %s", path,
		         a->job, job);
		return S2_E_FORMAT;
	}
	return 1;
}

static bool same_ep(const struct s2_board_endpoint *x, const struct s2_board_endpoint *y)
{
	return !strcmp(x->host, y->host) && x->eth_port == y->eth_port &&
	       x->bmp_port == y->bmp_port;
}

unsigned s2_alloc_wire_board(const struct s2_alloc *a, const struct s2_board_endpoint *ep,
                             unsigned b)
{
	for (unsigned i = 0; i < a->n; i++)
		if (same_ep(ep, &a->ep[i]))
			return a->board[i];
	return b;
}

static void board_list(const struct s2_alloc *a, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (unsigned i = 0; i < a->n && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%u", i ? "," : "", a->board[i]);
}

struct s2_machine *s2_alloc_view(const struct s2_alloc *a, const struct s2_machine *m,
                                 const char *what, char *err, size_t errlen)
{
	char list[256];
	board_list(a, list, sizeof list);
	/* The site's description (or one with the same boards at the same indices, such as the
	 * site's rewritten with dead chips marked): the job's boards of it. */
	unsigned nb = s2_machine_boards(m);
	bool site = true;
	for (unsigned i = 0; i < a->n && site; i++) {
		struct s2_board_endpoint ep;
		if (a->board[i] >= nb) {
			site = false;
			break;
		}
		s2_machine_board_endpoint(m, a->board[i], &ep);
		site = same_ep(&ep, &a->ep[i]);
	}
	if (site) {
		char e2[256];
		struct s2_machine *v = s2_machine_subset(m, a->board, a->n, e2, sizeof e2);
		if (!v)
			snprintf(err, errlen, "%s: job %s's boards %s: %s", what, a->job, list, e2);
		return v;
	}
	for (unsigned b = 0; b < nb; b++) {
		struct s2_board_endpoint ep;
		s2_machine_board_endpoint(m, b, &ep);
		bool mine = false;
		for (unsigned i = 0; i < a->n && !mine; i++)
			mine = same_ep(&ep, &a->ep[i]);
		if (!mine) {
			snprintf(err, errlen,
			         "%s: board %u (%s:%u) is not one of job %s's boards (site boards "
			         "%s "
			         "of %s); nothing was sent",
			         what, b, ep.host, ep.eth_port, a->job, list,
			         *a->machine ? a->machine : "the site machine");
			return NULL;
		}
	}
	struct s2_machine *v = s2_machine_clone(m);
	if (!v)
		snprintf(err, errlen, "out of memory");
	return v;
}
