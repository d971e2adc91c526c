/*
 * Fuzz target for the files of SLURM jobs (docs/cluster.md): the allocation file the prolog
 * writes (s2_alloc_decode) and the job energy report the epilog writes
 * (s2_job_energy_decode). The first byte picks the decoder (even: allocation, odd: report);
 * the rest is a whole file, or, after a second byte 0x01, the text of its one section, which
 * the harness wraps in a valid container (fuzz_wrap.h). Any bytes: refused with a message
 * naming the file, or accepted with every value in range.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_wrap.h"
#include "s2/alloc.h"
#include "s2/jobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void name_alloc(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len)
{
	(void)i, (void)sec, (void)n;
	snprintf(buf, len, "alloc");
}

static void name_job(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len)
{
	(void)i, (void)sec, (void)n;
	snprintf(buf, len, "job");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool job = data[0] & 1;
	uint8_t *owned;
	size_t len;
	const uint8_t *f = job ? fuzz_file(data + 1, size - 1, S2_SFILE_KIND('J', 'O', 'B', 'E'), 1,
	                                   name_job, &len, &owned)
	                       : fuzz_file(data + 1, size - 1, S2_SFILE_KIND('A', 'L', 'O', 'C'), 1,
	                                   name_alloc, &len, &owned);
	if (!f)
		return 0;
	char err[1024];
	err[0] = 0;
	int rc;
	if (job) {
		static struct s2_job_energy j;
		rc = s2_job_energy_decode(f, len, "x.s2job", &j, err, sizeof err);
		if (rc == 0 && (!j.n || j.n > S2_JOB_MAX_BOARDS || j.end_us < j.start_us ||
		                s2_job_total_j(&j) < 0))
			abort();
	} else {
		static struct s2_alloc a;
		rc = s2_alloc_decode(f, len, "alloc", &a, err, sizeof err);
		if (rc == 0 && (!a.n || a.n > S2_ALLOC_MAX_BOARDS || !a.job[0]))
			abort();
	}
	if (rc < 0 && strncmp(err, job ? "x.s2job" : "alloc", job ? 7 : 5) != 0 &&
	    strcmp(err, "out of memory"))
		abort(); /* every refusal names the file */
	free(owned);
	return 0;
}
