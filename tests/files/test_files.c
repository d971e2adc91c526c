/*
 * Files s2 writes and reads back (docs/files.md): the checksummed container (s2/sfile.h), the
 * atomic writer (s2/fileio.h), the results file with its per-board run status, and a mutation
 * test over every file type: single-bit flips (every bit of small files, every bit of the
 * header and table and a deterministic sample elsewhere in larger ones) and truncations at
 * every length (or a dense sample), each of which must be refused with a message that names
 * the file and the damaged part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "s2/results.h"
#include "cmocka_runner.h"
#include "s2/error.h"
#include "s2/fileio.h"
#include "s2/image.h"
#include "s2/machine.h"
#include "s2/mapper.h"
#include "s2/network.h"
#include "s2/sfile.h"
#include "s2/wire.h"

/* ---- the container --------------------------------------------------------------------- */

static void t_container(void **state)
{
	(void)state;
	struct s2_file_w *w = s2_file_w_new(S2_SFILE_KIND('T', 'E', 'S', 'T'), 3);
	assert_non_null(w);
	assert_int_equal(s2_file_w_section(w, "alpha"), 0);
	assert_int_equal(s2_file_w_u32(w, 0x01020304), 0);
	assert_int_equal(s2_file_w_section(w, "empty"), 0);
	assert_int_equal(s2_file_w_section(w, "beta"), 0);
	assert_int_equal(s2_file_w_put(w, "hello", 5), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(s2_file_w_finish(w, &buf, &len), 0);
	s2_file_w_free(w);
	/* 32-byte header, table of 3 entries (13 + name), 9 content bytes */
	assert_int_equal(len, 32 + (13 + 5) + (13 + 5) + (13 + 4) + 9);
	struct s2_sfile f;
	assert_int_equal(s2_sfile_verify(buf, len, S2_SFILE_KIND('T', 'E', 'S', 'T'), 3, &f, NULL),
	                 0);
	assert_int_equal(f.version, 3);
	assert_int_equal(f.n_sections, 3);
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec s;
	assert_true(s2_sfile_next(&f, &it, &s));
	assert_true(s2_sfile_sec_is(&s, "alpha"));
	assert_int_equal(s.len, 4);
	assert_true(s2_sfile_next(&f, &it, &s));
	assert_true(s2_sfile_sec_is(&s, "empty"));
	assert_int_equal(s.len, 0);
	assert_true(s2_sfile_next(&f, &it, &s));
	assert_true(s2_sfile_sec_is(&s, "beta"));
	assert_memory_equal(s.data, "hello", 5);
	assert_false(s2_sfile_next(&f, &it, &s));
	/* kind and version checks, each with its message */
	char err[256];
	assert_int_equal(s2_file_check(buf, len, S2_SFILE_KIND('R', 'S', 'L', 'T'), 3, "x", &f, err,
	                               sizeof err),
	                 S2_E_TYPE);
	assert_string_equal(err, "x: not an s2 results file (an s2 'TEST' file, not 'RSLT')");
	assert_int_equal(s2_file_check(buf, len, 0, 2, "x", &f, err, sizeof err), S2_E_VERSION);
	assert_string_equal(err, "x: format version 3 is not supported (this s2 reads 1 to 2)");
	buf[len - 1] ^= 4;
	assert_int_equal(s2_file_check(buf, len, 0, 3, "x", &f, err, sizeof err), S2_E_CRC);
	assert_string_equal(err, "x: section 'beta' fails its checksum");
	assert_int_equal(s2_file_check(buf, len - 3, 0, 3, "x", &f, err, sizeof err), S2_E_SHORT);
	char want[96];
	snprintf(want, sizeof want, "x: truncated: header says %zu bytes, file has %zu", len,
	         len - 3);
	assert_string_equal(err, want);
	free(buf);
	/* a builder without sections cannot finish; names are cut, not refused */
	w = s2_file_w_new(1, 1);
	assert_int_equal(s2_file_w_finish(w, &buf, &len), S2_E_INVAL);
	char longname[400];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(s2_file_w_section(w, longname), 0);
	assert_int_equal(s2_file_w_finish(w, &buf, &len), 0);
	assert_int_equal(s2_sfile_verify(buf, len, 1, 1, &f, NULL), 0);
	it = (struct s2_sfile_it){0};
	assert_true(s2_sfile_next(&f, &it, &s));
	assert_int_equal(s.name_len, S2_SFILE_NAME_MAX);
	assert_memory_equal(s.name + S2_SFILE_NAME_MAX - 3, "...", 3);
	free(buf);
	s2_file_w_free(w);
}

static void t_atomic(void **state)
{
	(void)state;
	char dir[512], path[1024], err[256];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2files"));
	snprintf(path, sizeof path, "%s/a.bin", dir);
	assert_int_equal(s2_file_write_atomic(path, "old", 3, err, sizeof err), 0);
	const void *parts[2] = {"ne", "w!"};
	size_t lens[2] = {2, 2};
	assert_int_equal(s2_file_write_parts(path, parts, lens, 2, err, sizeof err), 0);
	uint8_t *b;
	size_t n;
	assert_int_equal(s2_file_read_all(path, 100, &b, &n, err, sizeof err), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(b, "new!", 4);
	free(b);
	assert_int_equal(s2_file_read_all(path, 3, &b, &n, err, sizeof err), S2_E_RANGE);
	/* a failed write leaves the old file and no temporary file */
	char bad[1024];
	snprintf(bad, sizeof bad, "%s/nodir/x.bin", dir);
	assert_int_equal(s2_file_write_atomic(bad, "x", 1, err, sizeof err), S2_E_IO);
	assert_non_null(strstr(err, bad));
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* empty: no temporary file left behind */
}

static void write_bytes(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* Checksum records of foreign files (pcaps): damage named by byte range, cuts by length. */
static void t_sum(void **state)
{
	(void)state;
	char dir[256], path[300], sum[320], err[1024];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2sum"));
	snprintf(path, sizeof path, "%s/run.pcap", dir);
	snprintf(sum, sizeof sum, "%s.s2sum", path);
	size_t n = 2 * S2_FILE_SUM_CHUNK + 1000;
	uint8_t *b = malloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + (i >> 11));
	write_bytes(path, b, n);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), S2_E_NOTFOUND);
	assert_int_equal(s2_file_sum_write(path, sum, err, sizeof err), 0);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), 0);
	b[S2_FILE_SUM_CHUNK + 5] ^= 0x20;
	write_bytes(path, b, n);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), S2_E_CRC);
	char want[1024];
	snprintf(want, sizeof want, "%s: bytes 1048576-2097151 fail their checksum (%s)", path,
	         sum);
	assert_string_equal(err, want);
	b[S2_FILE_SUM_CHUNK + 5] ^= 0x20;
	write_bytes(path, b, n - 1);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), S2_E_SHORT);
	snprintf(want, sizeof want, "%s: truncated: %s says %zu bytes, file has %zu", path, sum, n,
	         n - 1);
	assert_string_equal(err, want);
	write_bytes(path, b, 2 * S2_FILE_SUM_CHUNK); /* cut at a chunk boundary */
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), S2_E_SHORT);
	b = realloc(b, n + 1);
	b[n] = 7;
	write_bytes(path, b, n + 1);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), S2_E_LENGTH);
	assert_non_null(strstr(err, "trailing bytes"));
	/* an empty file has a record too */
	write_bytes(path, b, 0);
	assert_int_equal(s2_file_sum_write(path, sum, err, sizeof err), 0);
	assert_int_equal(s2_file_sum_check(path, sum, err, sizeof err), 0);
	free(b);
	unlink(path);
	unlink(sum);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- results ---------------------------------------------------------------------------- */

static struct s2_results *sample_results(uint32_t steps, unsigned spikes)
{
	struct s2_results *r = calloc(1, sizeof *r);
	r->dt_ms = 0.1;
	r->steps = steps;
	r->n_pops = 2;
	r->has_budget = true;
	r->pops = calloc(2, sizeof *r->pops);
	const char *labels[2] = {"exc", "inh"};
	for (unsigned p = 0; p < 2; p++) {
		struct s2_results_pop *q = &r->pops[p];
		q->label = strdup(labels[p]);
		q->size = 40;
		q->n_spikes = spikes;
		q->spikes_recorded = true;
		q->spikes = calloc(spikes + 1, sizeof *q->spikes);
		for (unsigned i = 0; i < spikes; i++)
			q->spikes[i] =
			        (struct s2_results_spike){(i * 7 + p) % 40, (i * 13) % steps};
	}
	r->pops[0].n_vrec = 2;
	r->pops[0].vrec = calloc(2, sizeof(uint32_t));
	r->pops[0].vrec[0] = 3;
	r->pops[0].vrec[1] = 17;
	r->pops[0].v = calloc((size_t)steps * 2, sizeof(float));
	for (uint32_t i = 0; i < steps * 2; i++)
		r->pops[0].v[i] = -65.0f + (float)i * 0.01f;
	return r;
}

static uint8_t *write_results(const struct s2_results *r, const char *dir, size_t *len)
{
	char path[1024], err[256];
	snprintf(path, sizeof path, "%s/r.s2res", dir);
	if (s2_results_write(r, path, err, sizeof err) < 0)
		fail_msg("%s", err);
	uint8_t *b;
	assert_int_equal(s2_file_read_all(path, 1u << 30, &b, len, err, sizeof err), 0);
	unlink(path);
	return b;
}

/* A continued run's results joined to the earlier ones: spikes shifted, voltages after, the
 * PEs' cumulative counters taken from the later part, lost bytes summed, boards' ends. */
static void t_results_append(void **state)
{
	(void)state;
	struct s2_results *a = sample_results(100, 30), *b = sample_results(50, 10);
	a->pops[0].clip[S2_RES_CLIP_INPUT] = 3;
	b->pops[0].clip[S2_RES_CLIP_INPUT] = 5; /* since loading: includes a's 3 */
	a->pops[0].clip[S2_RES_CLIP_RECLOST] = 7;
	b->pops[0].clip[S2_RES_CLIP_RECLOST] = 11; /* each run's own */
	a->pops[1].worst_permille = 900;
	b->pops[1].worst_permille = 1200;
	assert_int_equal(s2_results_set_board_status(a, 0, S2_RESULTS_BOARD_COMPLETE, 100, NULL),
	                 0);
	assert_int_equal(s2_results_set_board_status(b, 0, S2_RESULTS_BOARD_NO_ANSWER, 20, "gone"),
	                 0);
	a->complete = true;
	b->complete = false;
	float v_b0 = b->pops[0].v[0];
	assert_int_equal(s2_results_append(a, b), 0);
	assert_int_equal(a->steps, 150);
	assert_int_equal(a->pops[0].n_spikes, 40);
	assert_int_equal(a->pops[0].spikes[30].step, b->pops[0].spikes[0].step + 100);
	assert_int_equal(a->pops[0].spikes[31].neuron, b->pops[0].spikes[1].neuron);
	assert_true(a->pops[0].v[200] == v_b0); /* step 100, channel 0 */
	assert_int_equal(a->pops[0].clip[S2_RES_CLIP_INPUT], 5);
	assert_int_equal(a->pops[0].clip[S2_RES_CLIP_RECLOST], 18);
	assert_int_equal(a->pops[1].worst_permille, 1200);
	assert_false(a->complete);
	assert_int_equal(a->n_boards, 1);
	assert_int_equal(a->boards[0].status, S2_RESULTS_BOARD_NO_ANSWER);
	assert_int_equal(a->boards[0].last_step, 120);
	assert_string_equal(a->boards[0].reason, "gone");
	/* the spikes in order of step, then neuron */
	s2_results_sort(a);
	for (unsigned p = 0; p < 2; p++)
		for (uint64_t i = 1; i < a->pops[p].n_spikes; i++) {
			const struct s2_results_spike *x = &a->pops[p].spikes[i - 1],
			                              *y = &a->pops[p].spikes[i];
			assert_true(x->step < y->step ||
			            (x->step == y->step && x->neuron <= y->neuron));
		}
	/* another network: refused, nothing changed */
	struct s2_results *c = sample_results(10, 2);
	free(c->pops[1].label);
	c->pops[1].label = strdup("other");
	assert_int_equal(s2_results_append(a, c), S2_E_INVAL);
	strcpy(c->pops[1].label, "inh");
	c->pops[0].vrec[1] = 18; /* another neuron's voltage */
	assert_int_equal(s2_results_append(a, c), S2_E_INVAL);
	c->pops[0].vrec[1] = 17;
	c->dt_ms = 1.0;
	assert_int_equal(s2_results_append(a, c), S2_E_INVAL);
	assert_int_equal(a->steps, 150);
	assert_int_equal(a->pops[0].n_spikes, 40);
	s2_results_free(a);
	s2_results_free(b);
	s2_results_free(c);
}

static void t_results_status(void **state)
{
	(void)state;
	char dir[512], err[512];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2res"));
	struct s2_results *r = sample_results(100, 30);
	size_t len;
	uint8_t *b;
	int rc;
	/* no board recorded: never complete */
	assert_false(s2_results_is_complete(r));
	assert_int_equal(s2_results_set_board_status(r, 0, S2_RESULTS_BOARD_COMPLETE, 100, NULL),
	                 0);
	assert_int_equal(s2_results_set_board_status(r, 3, S2_RESULTS_BOARD_COMPLETE, 100, NULL),
	                 0);
	assert_true(s2_results_is_complete(r));
	b = write_results(r, dir, &len);
	struct s2_results *d = s2_results_decode(b, len, "va.s2res", 0, &rc, err, sizeof err);
	if (!d)
		fail_msg("%s", err);
	assert_true(d->complete);
	assert_int_equal(d->n_boards, 2);
	assert_int_equal(d->boards[1].board, 3);
	assert_int_equal(d->pops[0].n_spikes, 30);
	assert_int_equal(d->pops[1].spikes[5].neuron, r->pops[1].spikes[5].neuron);
	assert_memory_equal(d->pops[0].v, r->pops[0].v, 200 * sizeof(float));
	s2_results_free(d);
	free(b);
	/* board 3 stops answering at step 42: partial, refused unless asked */
	assert_int_equal(s2_results_set_board_status(r, 3, S2_RESULTS_BOARD_NO_ANSWER, 42,
	                                             "no answer at run"),
	                 0);
	assert_int_equal(r->n_boards, 2); /* replaced, not added */
	assert_false(s2_results_is_complete(r));
	b = write_results(r, dir, &len);
	assert_null(s2_results_decode(b, len, "va.s2res", 0, &rc, err, sizeof err));
	assert_int_equal(rc, S2_E_STATE);
	assert_string_equal(err, "va.s2res: partial run (board 3 stopped answering at step 42 of "
	                         "100: no answer at run); its data are incomplete (read it "
	                         "anyway with --allow-partial)");
	d = s2_results_decode(b, len, "va.s2res", S2_RESULTS_ALLOW_PARTIAL, &rc, err, sizeof err);
	assert_non_null(d);
	assert_false(d->complete);
	assert_int_equal(d->boards[1].status, S2_RESULTS_BOARD_NO_ANSWER);
	assert_int_equal(d->boards[1].last_step, 42);
	assert_string_equal(d->boards[1].reason, "no answer at run");
	/* export marks it partial: a PARTIAL file and a comment line in each CSV */
	char out[1024], p[1100], line[256];
	snprintf(out, sizeof out, "%s/csv", dir);
	assert_int_equal(s2_results_export(d, out, false, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/PARTIAL", out);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	assert_non_null(strstr(line, "partial run: board 3 stopped answering at step 42"));
	snprintf(p, sizeof p, "%s/exc_spikes.csv", out);
	f = fopen(p, "r");
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	assert_true(strncmp(line, "# partial run: board 3", 22) == 0);
	s2_results_free(d);
	free(b);
	/* a complete export into the same directory removes the stale marker */
	assert_int_equal(s2_results_set_board_status(r, 3, S2_RESULTS_BOARD_COMPLETE, 100, NULL),
	                 0);
	b = write_results(r, dir, &len);
	d = s2_results_decode(b, len, "va.s2res", 0, &rc, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(s2_results_export(d, out, true, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/PARTIAL", out);
	struct stat st;
	assert_int_not_equal(stat(p, &st), 0);
	s2_results_free(d);
	free(b);
	/* complete needs last_step == steps */
	assert_int_equal(s2_results_set_board_status(r, 0, S2_RESULTS_BOARD_COMPLETE, 99, NULL), 0);
	assert_false(s2_results_is_complete(r));
	assert_int_equal(
	        s2_results_set_board_status(r, 0, (enum s2_results_board_status)7, 1, NULL),
	        S2_E_INVAL);
	/* the format-1 file of older versions is refused, saying so */
	uint8_t old[24] = {'S', '2', 'R', 'S', 1};
	assert_null(s2_results_decode(old, sizeof old, "old.s2res", 0, &rc, err, sizeof err));
	assert_non_null(strstr(err, "old.s2res: results format 1"));
	s2_results_free(r);
	char cmd[1100];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The first n sections of results file b as a file of format version `version`. */
static uint8_t *results_as(const uint8_t *b, size_t len, uint16_t version, unsigned n,
                           size_t *out_len)
{
	struct s2_sfile f;
	char err[256];
	assert_int_equal(s2_file_check(b, len, S2_SFILE_KIND('R', 'S', 'L', 'T'), 4, "r", &f, err,
	                               sizeof err),
	                 0);
	struct s2_file_w *w = s2_file_w_new(S2_SFILE_KIND('R', 'S', 'L', 'T'), version);
	struct s2_sfile_it it = {0};
	struct s2_sfile_sec sec;
	for (unsigned i = 0; i < n && s2_sfile_next(&f, &it, &sec); i++) {
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)sec.name_len, sec.name);
		s2_file_w_section(w, name);
		if (version == 2 && s2_sfile_sec_is(&sec, "plastic")) { /* format 2: the sums */
			uint32_t np = s2_ld32(sec.data);
			s2_file_w_u32(w, np);
			for (uint32_t p = 0; p < np; p++) {
				uint64_t sum = 0;
				for (unsigned k = 0; k < S2_RES_PLASTICS; k++)
					sum += s2_ld64(sec.data + 4 +
					               8 * (S2_RES_PLASTICS * p + k));
				s2_file_w_u64(w, sum);
			}
			continue;
		}
		s2_file_w_put(w, sec.data, (size_t)sec.len);
	}
	uint8_t *out = NULL;
	assert_int_equal(s2_file_w_finish(w, &out, out_len), 0);
	s2_file_w_free(w);
	return out;
}

/* Format 4 is written; a reader of format 3 refuses it naming the version; every form of
 * format 2 (without the counters, with clipping, with clipping and plastic) and format 3
 * (without the budget) is still read, and a file without the sections of its format is
 * refused. */
static void t_results_versions(void **state)
{
	(void)state;
	char dir[512], err[512];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2resv"));
	struct s2_results *r = sample_results(50, 10);
	assert_int_equal(s2_results_set_board_status(r, 0, S2_RESULTS_BOARD_COMPLETE, 50, NULL), 0);
	r->pops[1].plastic = 7;
	/* known only as a sum (as read from format 2): format 3 cannot keep it */
	char path[600];
	snprintf(path, sizeof path, "%s/r.s2res", dir);
	assert_int_equal(s2_results_write(r, path, err, sizeof err), S2_E_INVAL);
	assert_non_null(strstr(err, "population 1: plasticity's 7 counted values are not known "
	                            "per cause (results read from format 2 keep only the sum)"));
	r->has_plastic_causes = true;
	assert_int_equal(s2_results_write(r, path, err, sizeof err), S2_E_INVAL);
	assert_non_null(strstr(err, "the causes add up to another sum"));
	r->pops[1].plastic_cause[S2_RES_PL_HIST] = 5;
	r->pops[1].plastic_cause[S2_RES_PL_CLIPPED] = 2;
	r->pops[0].clip[S2_RES_CLIP_WMAX] = 3;
	/* the budget's counters unknown (as read from format 3): format 4 cannot keep them */
	r->has_budget = false;
	assert_int_equal(s2_results_write(r, path, err, sizeof err), S2_E_INVAL);
	assert_non_null(strstr(err, "the real-time budget's counters are not known"));
	r->has_budget = true;
	r->pops[1].steps_over = 12;
	r->pops[1].worst_permille = 15700;
	r->pops[0].worst_permille = 640;
	size_t len, l2;
	uint8_t *b = write_results(r, dir, &len);
	struct s2_sfile f;
	assert_int_equal(s2_file_check(b, len, S2_SFILE_KIND('R', 'S', 'L', 'T'), 4, "r", &f, err,
	                               sizeof err),
	                 0);
	assert_int_equal(f.version, 4);
	assert_int_equal(f.n_sections, 9);
	assert_int_equal(s2_file_check(b, len, S2_SFILE_KIND('R', 'S', 'L', 'T'), 3, "r.s2res", &f,
	                               err, sizeof err),
	                 S2_E_VERSION);
	assert_string_equal(err,
	                    "r.s2res: format version 4 is not supported (this s2 reads 1 to 3)");
	int rc;
	for (unsigned n = 6; n <= 8; n++) {
		uint8_t *v2 = results_as(b, len, 2, n, &l2);
		struct s2_results *d =
		        s2_results_decode(v2, l2, "v2.s2res", 0, &rc, err, sizeof err);
		if (!d)
			fail_msg("format 2 with %u sections: %s", n, err);
		assert_int_equal(d->pops[0].n_spikes, 10);
		assert_int_equal(d->has_clips, n >= 7);
		assert_int_equal(d->pops[0].clip[S2_RES_CLIP_WMAX], n >= 7 ? 3 : 0);
		assert_int_equal(d->pops[1].plastic, n == 8 ? 7 : 0);
		assert_false(d->has_plastic_causes);
		assert_false(d->has_budget);
		assert_int_equal(d->pops[1].plastic_cause[S2_RES_PL_HIST], 0);
		s2_results_free(d);
		free(v2);
	}
	uint8_t *v3 = results_as(b, len, 3, 8, &l2);
	struct s2_results *d = s2_results_decode(v3, l2, "v3.s2res", 0, &rc, err, sizeof err);
	assert_non_null(d);
	assert_true(d->has_plastic_causes);
	assert_false(d->has_budget);
	assert_int_equal(d->pops[1].steps_over, 0);
	assert_false(s2_results_over_budget(d));
	assert_int_equal(d->pops[1].plastic, 7);
	assert_int_equal(d->pops[1].plastic_cause[S2_RES_PL_HIST], 5);
	assert_int_equal(d->pops[1].plastic_cause[S2_RES_PL_CLIPPED], 2);
	assert_int_equal(d->pops[0].plastic, 0);
	s2_results_free(d);
	free(v3);
	d = s2_results_decode(b, len, "v4.s2res", 0, &rc, err, sizeof err);
	assert_non_null(d);
	assert_true(d->has_budget);
	assert_int_equal(d->pops[1].steps_over, 12);
	assert_int_equal(d->pops[1].worst_permille, 15700);
	assert_int_equal(d->pops[0].worst_permille, 640);
	assert_true(s2_results_over_budget(d));
	assert_int_equal(d->pops[1].plastic_cause[S2_RES_PL_HIST], 5);
	s2_results_free(d);
	for (unsigned n = 6; n <= 8; n++) {
		unsigned ver = n == 8 ? 4 : 3;
		uint8_t *vx = results_as(b, len, (uint16_t)ver, n, &l2);
		assert_null(s2_results_decode(vx, l2, "vx.s2res", 0, &rc, err, sizeof err));
		assert_int_equal(rc, S2_E_FORMAT);
		char want[100];
		snprintf(want, sizeof want, "vx.s2res: %u sections for 2 populations (format %u)",
		         n, ver);
		assert_string_equal(err, want);
		free(vx);
	}
	free(b);
	s2_results_free(r);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- mutants of every file type ------------------------------------------------------- */

typedef bool (*decode_fn)(const uint8_t *buf, size_t len, const char *name, char *err,
                          size_t errlen);

static bool dec_results(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct s2_results *r = s2_results_decode(buf, len, name, 0, NULL, err, errlen);
	s2_results_free(r);
	return r != NULL;
}

static bool dec_machine(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct s2_machine *m = s2_machine_decode_file(buf, len, name, err, errlen);
	s2_machine_free(m);
	return m != NULL;
}

static bool dec_net(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct s2_net *n = s2_net_decode_file(buf, len, name, err, errlen);
	s2_net_free(n);
	return n != NULL;
}

static bool dec_image(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
	char why[512];
	struct s2_image_summary sum;
	int rc = s2_image_check(buf, len, &sum, why, sizeof why);
	snprintf(err, errlen, "%s: %s", name, why); /* as s2ctl prints it */
	return rc == 0;
}

/* Checksum records are read from files: the mutant is written over the record. */
static char g_pcap[1024], g_sum[1100];

static bool dec_sum(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen)
{
	(void)name;
	write_bytes(g_sum, buf, len);
	return s2_file_sum_check(g_pcap, g_sum, err, errlen) == 0;
}

/* A message names the file and the part. */
static bool names_part(const char *err, const char *name)
{
	static const char *const parts[] = {
	        "section '",      "header",         "truncated: header says",
	        "trailing bytes", "not an s2",      "blobs[",
	        "manifest",       "image version ", "bytes between the last blob",
	};
	size_t nl = strlen(name);
	if (strncmp(err, name, nl) != 0 || err[nl] != ':')
		return false;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (strstr(err, parts[i]))
			return true;
	return false;
}

struct tally {
	unsigned long flips, cuts;
};

/* Flip bits and cut the file; every mutant must be refused naming the file and part. */
static struct tally mutate(const char *name, const uint8_t *good, size_t len, decode_fn dec,
                           size_t max_flips, size_t max_cuts)
{
	char err[1024];
	struct tally t = {0, 0};
	if (!dec(good, len, name, err, sizeof err))
		fail_msg("%s: the good file is refused: %s", name, err);
	uint8_t *b = malloc(len);
	memcpy(b, good, len);
	size_t bits = len * 8;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t k = 0; k < bits && k < max_flips; k++) {
		size_t bit;
		if (bits <= max_flips)
			bit = k;
		else if (k < 2048 && k < bits)
			bit = k; /* every bit of the first 256 bytes: header and table */
		else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			bit = (size_t)(x % bits);
		}
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		err[0] = 0;
		if (dec(b, len, name, err, sizeof err))
			fail_msg("%s: bit %zu flipped is accepted", name, bit);
		if (!names_part(err, name))
			fail_msg("%s: bit %zu flipped: the message names no part: '%s'", name, bit,
			         err);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		t.flips++;
	}
	size_t step = len <= max_cuts ? 1 : len / max_cuts + 1;
	for (size_t cut = 0; cut < len; cut += step) {
		err[0] = 0;
		if (dec(b, cut, name, err, sizeof err))
			fail_msg("%s: cut to %zu bytes is accepted", name, cut);
		if (!names_part(err, name))
			fail_msg("%s: cut to %zu bytes: the message names no part: '%s'", name, cut,
			         err);
		t.cuts++;
	}
	free(b);
	return t;
}

static void t_mutants(void **state)
{
	(void)state;
	char dir[512], err[512];
	assert_non_null(s2t_mkdtemp(dir, sizeof dir, "s2mut"));
	struct tally t;

	/* results: a small file (every bit) and a larger one (a sample) */
	struct s2_results *r = sample_results(50, 12);
	s2_results_set_board_status(r, 0, S2_RESULTS_BOARD_COMPLETE, 50, NULL);
	size_t len;
	uint8_t *b = write_results(r, dir, &len);
	t = mutate("va.s2res", b, len, dec_results, SIZE_MAX, SIZE_MAX);
	print_message("results (%zu bytes): %lu flips, %lu truncations refused\n", len, t.flips,
	              t.cuts);
	free(b);
	s2_results_free(r);
	r = sample_results(2000, 3000);
	s2_results_set_board_status(r, 0, S2_RESULTS_BOARD_COMPLETE, 2000, NULL);
	b = write_results(r, dir, &len);
	t = mutate("big.s2res", b, len, dec_results, 6000, 6000);
	print_message("results (%zu bytes): %lu flips, %lu truncations refused\n", len, t.flips,
	              t.cuts);
	free(b);
	s2_results_free(r);

	/* machine descriptions: 3 boards with dead parts (every bit) */
	struct s2_machine *m = s2_machine_new_boards(3, "127.0.0.1", 5000);
	s2_machine_mark_chip_dead(m, 1, 5);
	s2_machine_mark_pe_dead(m, 2, 3, 7);
	s2_machine_mark_link_dead(m, 0, 0, 1);
	assert_int_equal(s2_machine_encode_file(m, &b, &len), 0);
	t = mutate("m.pb", b, len, dec_machine, SIZE_MAX, SIZE_MAX);
	print_message("machine (%zu bytes): %lu flips, %lu truncations refused\n", len, t.flips,
	              t.cuts);
	free(b);

	/* networks: the Vogels-Abbott example (every bit) */
	struct s2_net *n = s2_net_example("vogels_abbott", 0.05, err, sizeof err);
	assert_non_null(n);
	assert_int_equal(s2_net_encode_file(n, &b, &len), 0);
	t = mutate("net.pb", b, len, dec_net, SIZE_MAX, SIZE_MAX);
	print_message("network (%zu bytes): %lu flips, %lu truncations refused\n", len, t.flips,
	              t.cuts);
	free(b);

	/* images: the same network mapped on one board (every bit) */
	struct s2_machine *m1 = s2_machine_new_boards(1, "h", 0);
	struct s2_mapping *mp = s2_map_new(n, m1, NULL);
	if (s2_map_run(mp, err, sizeof err) < 0)
		fail_msg("%s", err);
	char path[1024];
	snprintf(path, sizeof path, "%s/va.s2img", dir);
	assert_int_equal(s2_image_write(mp, path, err, sizeof err), 0);
	assert_int_equal(s2_file_read_all(path, 1u << 30, &b, &len, err, sizeof err), 0);
	unlink(path);
	t = mutate("va.s2img", b, len, dec_image, SIZE_MAX, SIZE_MAX);
	print_message("image (%zu bytes): %lu flips, %lu truncations refused\n", len, t.flips,
	              t.cuts);
	free(b);
	s2_map_free(mp);
	s2_machine_free(m1);

	/* the checksum record beside a capture (every bit) */
	snprintf(g_pcap, sizeof g_pcap, "%s/run.pcap", dir);
	snprintf(g_sum, sizeof g_sum, "%s/run.pcap.s2sum", dir);
	uint8_t data[3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	write_bytes(g_pcap, data, sizeof data);
	assert_int_equal(s2_file_sum_write(g_pcap, g_sum, err, sizeof err), 0);
	assert_int_equal(s2_file_read_all(g_sum, 1u << 20, &b, &len, err, sizeof err), 0);
	t = mutate(g_sum, b, len, dec_sum, SIZE_MAX, SIZE_MAX);
	print_message("checksum record (%zu bytes): %lu flips, %lu truncations refused\n", len,
	              t.flips, t.cuts);
	free(b);
	s2_net_free(n);
	s2_machine_free(m);
	char cmd[1100];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(t_container),
	        cmocka_unit_test(t_atomic),
	        cmocka_unit_test(t_sum),
	        cmocka_unit_test(t_results_status),
	        cmocka_unit_test(t_results_append),
	        cmocka_unit_test(t_results_versions),
	        cmocka_unit_test(t_mutants),
	};
	return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
