/*
 * SLURM allocation and energy per job (s2/alloc.h, s2/jobs.h, docs/cluster.md): the gres
 * indices as scontrol prints them, the job's view of a machine (its boards only, renumbered,
 * no link off them), the allocation file and job report round trips, the split of a period's
 * energy among jobs and idle (each board-second once, jobs + idle = total, also when reports
 * overlap), and a live stream's board map.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s2test.h"
#include "cmocka_runner.h"
#include "s2/alloc.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/jobs.h"
#include "s2/live.h"
#include "s2/machine.h"
#include "s2/packet.h"
#include "s2/stream.h"

static void gres_indices(void **state)
{
	(void)state;
	unsigned idx[16], n;
	char err[256];
	assert_int_equal(s2_alloc_parse_gres("JOB_GRES=s2board:2\n     Nodes=s2node CPU_IDs=1 "
	                                     "Mem=0 GRES=s2board:2(IDX:2-3)\n",
	                                     "s2board", idx, 16, &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 3);
	/* several gres, a typed one, a list */
	assert_int_equal(s2_alloc_parse_gres("GRES=gpu:1(IDX:0),s2board:v2:3(IDX:0,2-3)", "s2board",
	                                     idx, 16, &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 3);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[2], 3);
	/* a count that disagrees, a list out of order, none, too many for the buffer */
	assert_int_equal(s2_alloc_parse_gres("GRES=s2board:3(IDX:0-1)", "s2board", idx, 16, &n, err,
	                                     sizeof err),
	                 S2_E_FORMAT);
	assert_non_null(strstr(err, "3 boards but 2 indices"));
	assert_int_equal(s2_alloc_parse_gres("GRES=s2board:2(IDX:3,1)", "s2board", idx, 16, &n, err,
	                                     sizeof err),
	                 S2_E_FORMAT);
	assert_int_equal(
	        s2_alloc_parse_gres("GRES=gpu:1(IDX:0)", "s2board", idx, 16, &n, err, sizeof err),
	        S2_E_NOTFOUND);
	assert_non_null(strstr(err, "--gres=s2board:N"));
	assert_int_equal(s2_alloc_parse_gres("GRES=s2board:5(IDX:0-4)", "s2board", idx, 4, &n, err,
	                                     sizeof err),
	                 S2_E_FORMAT);
	assert_int_equal(s2_alloc_parse_list("1,3-4", idx, 16, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s2_alloc_parse_list("1,,3", idx, 16, &n), S2_E_FORMAT);
	assert_int_equal(s2_alloc_parse_list("", idx, 16, &n), S2_E_FORMAT);
}

static struct s2_alloc *alloc_of(const struct s2_machine *m, const unsigned *idx, unsigned n)
{
	static struct s2_alloc a;
	memset(&a, 0, sizeof a);
	char err[256];
	snprintf(a.job, sizeof a.job, "12");
	snprintf(a.user, sizeof a.user, "alice");
	snprintf(a.account, sizeof a.account, "physics");
	snprintf(a.machine, sizeof a.machine, "/etc/s2/machine.pb");
	assert_int_equal(s2_alloc_set_boards(&a, m, idx, n, err, sizeof err), 0);
	return &a;
}

static void job_view(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "127.0.0.1", 17000);
	assert_non_null(m);
	unsigned idx[] = {2, 3};
	struct s2_alloc *a = alloc_of(m, idx, 2);
	char err[512];
	struct s2_machine *v = s2_alloc_view(a, m, "m.pb", err, sizeof err);
	assert_non_null(v);
	assert_int_equal(s2_machine_boards(v), 2);
	for (unsigned b = 0; b < 2; b++) {
		struct s2_board_endpoint e, s;
		s2_machine_board_endpoint(v, b, &e);
		s2_machine_board_endpoint(m, idx[b], &s);
		assert_string_equal(e.host, s.host);
		assert_int_equal(e.eth_port, s.eth_port);
		assert_int_equal(s2_alloc_wire_board(a, &e, b), idx[b]);
		/* no link leads off the job's boards: every neighbour is one of them, and the
		 * links that led to boards 0 and 1 are gone */
		unsigned links_v = 0, links_m = 0;
		for (unsigned c = 0; c < s2_machine_chips_per_board(v); c++)
			for (unsigned l = 0; l < S2_MACHINE_LINKS; l++) {
				unsigned nb, nc;
				if (s2_machine_neighbour(v, b, c, l, &nb, &nc)) {
					assert_true(nb < 2);
					links_v++;
				}
				links_m += s2_machine_neighbour(m, idx[b], c, l, &nb, &nc);
			}
		assert_true(links_v < links_m);
	}
	/* The site's description rewritten with a dead chip marked: still the job's 2 boards. */
	struct s2_machine *dead = s2_machine_clone(m);
	s2_machine_mark_chip_dead(dead, 3, 5);
	struct s2_machine *vd = s2_alloc_view(a, dead, "m.pb", err, sizeof err);
	assert_non_null(vd);
	assert_int_equal(s2_machine_boards(vd), 2);
	assert_true(s2_machine_chip_dead(vd, 1, 5));
	s2_machine_free(vd);
	s2_machine_free(dead);
	/* The job's own description (its boards only) is taken as it is. */
	struct s2_machine *again = s2_alloc_view(a, v, "job.pb", err, sizeof err);
	assert_non_null(again);
	s2_machine_free(again);
	/* A description naming a board outside the allocation is refused, naming it. */
	struct s2_machine *other = s2_machine_new_boards(1, "127.0.0.1", 17000);
	assert_null(s2_alloc_view(a, other, "other.pb", err, sizeof err));
	assert_non_null(strstr(err, "other.pb: board 0 (127.0.0.1:17000) is not one of job 12"));
	/* More boards than the machine has. */
	unsigned bad[] = {1, 4};
	struct s2_alloc b = {0};
	assert_int_equal(s2_alloc_set_boards(&b, m, bad, 2, err, sizeof err), S2_E_RANGE);
	assert_non_null(strstr(err, "gres index 4: the machine has boards 0-3"));
	s2_machine_free(other);
	s2_machine_free(v);
	s2_machine_free(m);
}

static void files_round_trip(void **state)
{
	(void)state;
	struct s2_machine *m = s2_machine_new_boards(4, "127.0.0.1", 17000);
	unsigned idx[] = {1, 3};
	struct s2_alloc *a = alloc_of(m, idx, 2);
	a->start_us = 1796592890364038ull;
	snprintf(a->key, sizeof a->key, "/var/lib/s2/jobs/12/job.key");
	char path[1024], err[512];
	int fd = s2t_mkstemp(path, sizeof path, "s2alloc.");
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(s2_alloc_save(a, path, err, sizeof err), 0);
	static struct s2_alloc b;
	assert_int_equal(s2_alloc_load(path, &b, err, sizeof err), 0);
	assert_string_equal(b.job, "12");
	assert_string_equal(b.account, "physics");
	assert_int_equal(b.n, 2);
	assert_int_equal(b.board[1], 3);
	assert_int_equal(b.ep[1].eth_port, a->ep[1].eth_port);
	assert_int_equal(b.start_us, a->start_us);
	assert_memory_equal(b.machine_hash, a->machine_hash, 32);
	/* a name with a space cannot be written (it would not read back) */
	snprintf(a->user, sizeof a->user, "al ice");
	assert_int_equal(s2_alloc_save(a, path, err, sizeof err), S2_E_INVAL);

	static struct s2_job_energy j, k;
	snprintf(j.job, sizeof j.job, "12");
	snprintf(j.user, sizeof j.user, "alice");
	snprintf(j.account, sizeof j.account, "physics");
	snprintf(j.model, sizeof j.model, "s2-energy-model-1");
	j.start_us = 1000000;
	j.end_us = 3500000;
	j.n = 2;
	j.board[0] = 1, j.board[1] = 3;
	j.static_w[0] = j.static_w[1] = 21.56;
	j.dynamic_j[0] = 0.125;
	assert_int_equal(s2_job_energy_save(&j, path, err, sizeof err), 0);
	assert_int_equal(s2_job_energy_load(path, &k, err, sizeof err), 0);
	assert_int_equal(k.n, 2);
	assert_true(s2_job_total_j(&k) == s2_job_total_j(&j));
	assert_true(fabs(s2_job_total_j(&k) - (2 * 21.56 * 2.5 + 0.125)) < 1e-9);
	/* the wrong kind of file */
	assert_int_equal(s2_alloc_load(path, &b, err, sizeof err) < 0, 1);
	unlink(path);
	s2_machine_free(m);
}

/* A container of kind (k0..k3) whose one section holds text[0..n). */
static uint8_t *text_file(uint32_t kind, const char *section, const char *text, size_t n,
                          size_t *len)
{
	struct s2_file_w *w = s2_file_w_new(kind, 1);
	assert_non_null(w);
	assert_int_equal(s2_file_w_section(w, section), 0);
	assert_int_equal(s2_file_w_put(w, text, n), 0);
	uint8_t *out = NULL;
	assert_int_equal(s2_file_w_finish(w, &out, len), 0);
	s2_file_w_free(w);
	return out;
}

/* Both text records (allocation and job report, one shared reader) refuse a NUL byte, a
 * carriage return and a bad line, naming the file and the line; a good text reads. */
static void text_records_refused(void **state)
{
	(void)state;
	static struct s2_alloc a;
	static struct s2_job_energy j;
	const uint32_t alloc_kind = S2_SFILE_KIND('A', 'L', 'O', 'C');
	const uint32_t job_kind = S2_SFILE_KIND('J', 'O', 'B', 'E');
	static const char good_job[] = "job 7\nuser u\naccount a\nmodel m\nstart_us 1\nend_us "
	                               "2\nboard 0 1.5 0\n";
	static const char good_alloc[] = "job 7\nuser u\naccount a\nboard 0 127.0.0.1 1 2\n";
	char err[512];
	size_t len;
	uint8_t *f = text_file(job_kind, "job", good_job, sizeof good_job - 1, &len);
	assert_int_equal(s2_job_energy_decode(f, len, "r.s2job", &j, err, sizeof err), 0);
	assert_int_equal(j.n, 1);
	free(f);
	f = text_file(alloc_kind, "alloc", good_alloc, sizeof good_alloc - 1, &len);
	assert_int_equal(s2_alloc_decode(f, len, "al", &a, err, sizeof err), 0);
	assert_int_equal(a.ep[0].bmp_port, 2);
	free(f);
	struct {
		const char *text;
		size_t n;
		const char *msg, *tail; /* then the record's name, then tail */
	} bad[] = {
	        {"job 7\nuser u\0x\n", sizeof "job 7\nuser u\0x\n" - 1, "a NUL byte in the ",
	         " text"},
	        {"job 7\nfuture x\r\n", sizeof "job 7\nfuture x\r\n" - 1,
	         "line 2: 'future x\r' is not a valid ", " line"},
	        {"job 7\nboard zero\n", sizeof "job 7\nboard zero\n" - 1,
	         "line 2: 'board zero' is not a valid ", " line"},
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[128];
		f = text_file(job_kind, "job", bad[i].text, bad[i].n, &len);
		assert_int_equal(s2_job_energy_decode(f, len, "r.s2job", &j, err, sizeof err),
		                 S2_E_FORMAT);
		snprintf(want, sizeof want, "%s%s%s", bad[i].msg, "report", bad[i].tail);
		assert_non_null(strstr(err, "r.s2job: "));
		assert_non_null(strstr(err, want));
		free(f);
		f = text_file(alloc_kind, "alloc", bad[i].text, bad[i].n, &len);
		assert_int_equal(s2_alloc_decode(f, len, "al", &a, err, sizeof err), S2_E_FORMAT);
		snprintf(want, sizeof want, "%s%s%s", bad[i].msg, "allocation", bad[i].tail);
		assert_non_null(strstr(err, "al: "));
		assert_non_null(strstr(err, want));
		free(f);
	}
}

static struct s2_job_energy *job(const char *id, const char *acct, uint64_t s, uint64_t e,
                                 unsigned b0, unsigned b1, double dyn)
{
	struct s2_job_energy *j = calloc(1, sizeof *j);
	snprintf(j->job, sizeof j->job, "%s", id);
	snprintf(j->user, sizeof j->user, "u");
	snprintf(j->account, sizeof j->account, "%s", acct);
	snprintf(j->model, sizeof j->model, "m");
	j->start_us = s * 1000000;
	j->end_us = e * 1000000;
	j->n = 2;
	j->board[0] = b0, j->board[1] = b1;
	j->static_w[0] = j->static_w[1] = 10;
	j->dynamic_j[0] = dyn;
	return j;
}

static void period_split(void **state)
{
	(void)state;
	struct s2_job_energy *jobs[4] = {
	        job("a", "x", 10, 20, 0, 1, 1.0), job("b", "y", 12, 25, 2, 3, 0.5),
	        job("c", "x", 21, 30, 0, 1, 0.0), job("d", "y", 15, 22, 0, 2, 2.0)};
	struct s2_jobs_share sh[4];
	struct s2_jobs_period p;
	char err[256];
	/* a, b, c: no overlap; 4 boards of 10 W over [0, 40) s */
	assert_int_equal(s2_jobs_sum((const struct s2_job_energy *const *)jobs, 3, 4, 10, 0,
	                             40000000, sh, &p, err, sizeof err),
	                 0);
	assert_true(fabs(sh[0].energy_j - (2 * 10 * 10 + 1.0)) < 1e-9);
	assert_true(fabs(sh[1].energy_j - (2 * 10 * 13 + 0.5)) < 1e-9);
	assert_true(fabs(sh[2].energy_j - (2 * 10 * 9)) < 1e-9);
	assert_true(fabs(p.total_j - (4 * 10 * 40 + 1.5)) < 1e-9);
	assert_true(fabs(p.jobs_j + p.idle_j - p.total_j) < 1e-9);
	assert_true(fabs(p.idle_j - 10 * (4 * 40 - 2 * 10 - 2 * 13 - 2 * 9)) < 1e-9);
	assert_true(p.overlap_s == 0);
	/* d claims board 0 over [15, 22) (a holds it to 20, c from 21) and board 2 (b): the
	 * claimed-twice seconds are counted once, for the first holder */
	assert_int_equal(s2_jobs_sum((const struct s2_job_energy *const *)jobs, 4, 4, 10, 0,
	                             40000000, sh, &p, err, sizeof err),
	                 0);
	assert_true(fabs(p.overlap_s - ((20 - 15) + (22 - 21) + (22 - 15))) < 1e-9);
	assert_true(fabs(p.jobs_j + p.idle_j - p.total_j) < 1e-9);
	assert_true(fabs(sh[3].energy_j - (10 * 2 + 2.0)) < 1e-9); /* board 0 over [20, 22) */
	/* a period that cuts jobs: [15, 24); a's dynamic prorated by half */
	assert_int_equal(s2_jobs_sum((const struct s2_job_energy *const *)jobs, 3, 4, 10, 15000000,
	                             24000000, sh, &p, err, sizeof err),
	                 0);
	assert_true(fabs(sh[0].energy_j - (2 * 10 * 5 + 0.5)) < 1e-9);
	assert_true(fabs(p.jobs_j + p.idle_j - p.total_j) < 1e-9);
	/* a report naming a board the machine does not have; an empty period */
	assert_int_equal(s2_jobs_sum((const struct s2_job_energy *const *)jobs, 3, 3, 10, 0, 40, sh,
	                             &p, err, sizeof err),
	                 S2_E_RANGE);
	assert_non_null(strstr(err, "job b: board 3 is not on the machine"));
	assert_int_equal(s2_jobs_sum((const struct s2_job_energy *const *)jobs, 3, 4, 10, 5, 5, sh,
	                             &p, err, sizeof err),
	                 S2_E_RANGE);
	for (unsigned i = 0; i < 4; i++)
		free(jobs[i]);
}

struct got {
	unsigned n;
	uint32_t pop;
};

static void got_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	struct got *g = ctx;
	g->n += (unsigned)n;
	g->pop = s[0].pop;
}

static size_t packet(uint8_t *out, uint16_t board)
{
	uint8_t body[64];
	struct s2_live_wr w;
	s2_live_begin(&w, body, sizeof body, 5, 0);
	s2_live_spike(&w, 0, 0, 3, 7);
	struct s2_header h = {
	        .type = S2_MSG_STREAM_DATA, .seq = 0, .board = board, .chip = 0xFFFF, .pe = 0xFF};
	int len = s2_packet_encode(out, S2_MAX_DATAGRAM, &h, body, w.pos);
	assert_true(len > 0);
	return (size_t)len;
}

static void stream_board_map(void **state)
{
	(void)state;
	struct got g = {0};
	struct s2_stream_callbacks cb = {got_spikes, NULL, NULL, &g};
	struct s2_stream *s = s2_stream_new(5, &cb);
	assert_int_equal(s2_stream_add_source(s, 0, 0, 3, 1, 0), 0);
	uint16_t wire[] = {2, 3}; /* the job's boards 0 and 1 are site boards 2 and 3 */
	assert_int_equal(s2_stream_map_boards(s, wire, 2), 0);
	uint8_t d[S2_MAX_DATAGRAM];
	assert_int_equal(s2_stream_feed(s, d, packet(d, 2)), 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.pop, 1); /* the source of the job's board 0 */
	assert_int_equal(s2_stream_feed(s, d, packet(d, 1)), 0); /* another job's board */
	assert_int_equal(s2_stream_stats(s)->foreign, 1);
	s2_stream_free(s);
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(gres_indices),     cmocka_unit_test(job_view),
	        cmocka_unit_test(files_round_trip), cmocka_unit_test(period_split),
	        cmocka_unit_test(stream_board_map), cmocka_unit_test(text_records_refused),
	};
	return s2t_run_cmocka("alloc", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
