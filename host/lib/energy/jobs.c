/* Energy per SLURM job: the epilog's reports and their sum over a period (jobs.h). */
#include "s2/jobs.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s2/error.h"
#include "s2/fileio.h"

#include "../textrec_internal.h"

static const struct s2_textrec_kind job_rec = {
        .kind = S2_SFILE_KIND('J', 'O', 'B', 'E'),
        .version = 1,
        .section = "job",
        .what = "report",
        .max = 4u << 20,
};

double s2_job_board_j(const struct s2_job_energy *j, unsigned i)
{
	double s = j->end_us > j->start_us ? (double)(j->end_us - j->start_us) * 1e-6 : 0;
	return j->static_w[i] * s + j->dynamic_j[i];
}

double s2_job_total_j(const struct s2_job_energy *j)
{
	double t = 0;
	for (unsigned i = 0; i < j->n; i++)
		t += s2_job_board_j(j, i);
	return t;
}

static bool word_ok(const char *s)
{
	return s2_textrec_word(s, false);
}

int s2_job_energy_save(const struct s2_job_energy *j, const char *path, char *err, size_t errlen)
{
	if (!word_ok(j->job) || !word_ok(j->user) || !word_ok(j->account) || !word_ok(j->model) ||
	    !j->n || j->end_us < j->start_us) {
		snprintf(err, errlen,
		         "%s: a report needs a job, user, account and model (one word "
		         "each), a board, and an end not before its start",
		         path);
		return S2_E_INVAL;
	}
	size_t cap = 1024 + (size_t)j->n * 96, n = 0;
	char *t = malloc(cap);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	n += (size_t)snprintf(t + n, cap - n,
	                      "job %s\nuser %s\naccount %s\nmodel %s\nstart_us %" PRIu64
	                      "\nend_us %" PRIu64 "\n",
	                      j->job, j->user, j->account, j->model, j->start_us, j->end_us);
	for (unsigned i = 0; i < j->n && n < cap; i++)
		n += (size_t)snprintf(t + n, cap - n, "board %u %.17g %.17g\n", j->board[i],
		                      j->static_w[i], j->dynamic_j[i]);
	int rc = s2_textrec_save(&job_rec, t, n, path, err, errlen);
	free(t);
	return rc;
}

static int set_word(char *dst, size_t cap, const char *v)
{
	if (!word_ok(v) || strlen(v) >= cap)
		return S2_E_FORMAT;
	snprintf(dst, cap, "%s", v);
	return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long u = strtoull(v, &end, 10);
	if (errno || *end || end == v || *v == '-')
		return S2_E_FORMAT;
	*out = u;
	return 0;
}

static int parse_line(struct s2_job_energy *j, const char *line)
{
	const char *sp = strchr(line, ' ');
	if (!sp)
		return S2_E_FORMAT;
	size_t nl = (size_t)(sp - line);
	const char *v = sp + 1;
#define IS(name) (nl == strlen(name) && !strncmp(line, name, nl))
	if (IS("job"))
		return set_word(j->job, sizeof j->job, v);
	if (IS("user"))
		return set_word(j->user, sizeof j->user, v);
	if (IS("account"))
		return set_word(j->account, sizeof j->account, v);
	if (IS("model"))
		return set_word(j->model, sizeof j->model, v);
	if (IS("start_us"))
		return parse_u64(v, &j->start_us);
	if (IS("end_us"))
		return parse_u64(v, &j->end_us);
	if (IS("board")) {
		unsigned b;
		double w, d;
		int used = 0;
		if (j->n >= S2_JOB_MAX_BOARDS ||
		    sscanf(v, "%u %lf %lf%n", &b, &w, &d, &used) != 3 || v[used] || !isfinite(w) ||
		    !isfinite(d) || w < 0 || d < 0)
			return S2_E_FORMAT;
		for (unsigned i = 0; i < j->n; i++)
			if (j->board[i] == b)
				return S2_E_FORMAT;
		j->board[j->n] = b;
		j->static_w[j->n] = w;
		j->dynamic_j[j->n++] = d;
		return 0;
	}
#undef IS
	return 0; /* names a later version adds */
}

static int job_line(void *ctx, char *line)
{
	return parse_line(ctx, line);
}

static int job_done(int rc, const struct s2_job_energy *j, const char *path, char *err,
                    size_t errlen)
{
	if (rc == 0 &&
	    (!*j->job || !*j->user || !*j->account || !j->n || j->end_us < j->start_us)) {
		snprintf(
		        err, errlen,
		        "%s: a report needs job, user, account, a board, and an end not before its "
		        "start",
		        path);
		rc = S2_E_FORMAT;
	}
	return rc;
}

int s2_job_energy_decode(const uint8_t *buf, size_t len, const char *path, struct s2_job_energy *j,
                         char *err, size_t errlen)
{
	memset(j, 0, sizeof *j);
	int rc = s2_textrec_decode(&job_rec, buf, len, path, job_line, j, err, errlen);
	return job_done(rc, j, path, err, errlen);
}

int s2_job_energy_load(const char *path, struct s2_job_energy *j, char *err, size_t errlen)
{
	memset(j, 0, sizeof *j);
	int rc = s2_textrec_load(&job_rec, path, job_line, j, err, errlen);
	return job_done(rc, j, path, err, errlen);
}

struct span {
	size_t job;
	unsigned i; /* board position in the job */
	uint64_t s, e;
};

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->job < y->job ? -1 : x->job > y->job;
}

int s2_jobs_sum(const struct s2_job_energy *const *jobs, size_t n, unsigned n_boards,
                double board_static_w, uint64_t from_us, uint64_t to_us,
                struct s2_jobs_share *share, struct s2_jobs_period *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (from_us >= to_us) {
		snprintf(err, errlen, "the period is empty: from %" PRIu64 " us to %" PRIu64 " us",
		         from_us, to_us);
		return S2_E_RANGE;
	}
	size_t total_spans = 0;
	for (size_t k = 0; k < n; k++) {
		memset(&share[k], 0, sizeof share[k]);
		for (unsigned i = 0; i < jobs[k]->n; i++)
			if (jobs[k]->board[i] >= n_boards) {
				snprintf(err, errlen,
				         "job %s: board %u is not on the machine (boards 0-%u)",
				         jobs[k]->job, jobs[k]->board[i], n_boards - 1);
				return S2_E_RANGE;
			}
		total_spans += jobs[k]->n;
	}
	struct span *sp = malloc((total_spans ? total_spans : 1) * sizeof *sp);
	if (!sp) {
		snprintf(err, errlen, "out of memory");
		return S2_E_NOMEM;
	}
	double period_s = (double)(to_us - from_us) * 1e-6;
	for (size_t k = 0; k < n; k++) {
		const struct s2_job_energy *j = jobs[k];
		uint64_t s = j->start_us > from_us ? j->start_us : from_us;
		uint64_t e = j->end_us < to_us ? j->end_us : to_us;
		double held = (double)(j->end_us - j->start_us);
		double frac = e > s ? (held > 0 ? (double)(e - s) / held : 1.0)
		                    : (j->start_us == j->end_us && j->start_us >= from_us &&
		                       j->start_us < to_us);
		share[k].seconds = e > s ? (double)(e - s) * 1e-6 : 0;
		for (unsigned i = 0; i < j->n; i++) {
			share[k].energy_j += j->dynamic_j[i] * frac;
			p->total_j += j->dynamic_j[i] * frac;
		}
	}
	p->total_j += (double)n_boards * board_static_w * period_s;
	for (unsigned b = 0; b < n_boards; b++) {
		size_t m = 0;
		for (size_t k = 0; k < n; k++)
			for (unsigned i = 0; i < jobs[k]->n; i++) {
				const struct s2_job_energy *j = jobs[k];
				uint64_t s = j->start_us > from_us ? j->start_us : from_us;
				uint64_t e = j->end_us < to_us ? j->end_us : to_us;
				if (j->board[i] == b && e > s)
					sp[m++] = (struct span){k, i, s, e};
			}
		qsort(sp, m, sizeof *sp, by_start);
		uint64_t cursor = from_us, covered = 0;
		for (size_t q = 0; q < m; q++) {
			uint64_t s = sp[q].s > cursor ? sp[q].s : cursor;
			if (sp[q].s < cursor) {
				uint64_t dup = (sp[q].e < cursor ? sp[q].e : cursor) - sp[q].s;
				share[sp[q].job].overlap_s += (double)dup * 1e-6;
				p->overlap_s += (double)dup * 1e-6;
			}
			if (sp[q].e > s) {
				double j_ = jobs[sp[q].job]->static_w[sp[q].i] *
				            (double)(sp[q].e - s) * 1e-6;
				share[sp[q].job].energy_j += j_;
				covered += sp[q].e - s;
				cursor = sp[q].e;
			}
		}
		p->idle_j += board_static_w * ((double)(to_us - from_us - covered) * 1e-6);
	}
	for (size_t k = 0; k < n; k++)
		p->jobs_j += share[k].energy_j;
	free(sp);
	return 0;
}
