/*
 * Fuzz target for checksum records of foreign files (s2_file_sum_check, docs/files.md): the
 * input is a record (.s2sum) checked against a fixed 3000-byte data file; any bytes are
 * accepted only if the record describes exactly that file, else refused with a message naming
 * the record or the file. Inputs starting with 0x01 are the "chunks" section's CRCs and then,
 * after FUZZ_SEP, the "file" section, wrapped by the harness (fuzz_wrap.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_wrap.h"
#include "s2/error.h"
#include "s2/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dpath[512], spath[520];

static void name(unsigned i, const uint8_t *sec, size_t n, char *buf, size_t len)
{
	(void)sec;
	(void)n;
	snprintf(buf, len, "%s", i == 0 ? "chunks" : "file");
}

static void remove_files(void)
{
	unlink(spath);
	unlink(dpath);
}

static void setup_files(void)
{
	if (dpath[0])
		return;
	/* TMPDIR if set (the test's own directory), else memory (fast), else /tmp; the process id
	 * keeps parallel runs apart. */
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	int n = snprintf(dpath, sizeof dpath, "%s/s2fuzz_sum.%ld", dir, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof dpath)
		abort();
	snprintf(spath, sizeof spath, "%s.s2sum", dpath);
	atexit(remove_files);
	uint8_t d[3000];
	for (size_t i = 0; i < sizeof d; i++)
		d[i] = (uint8_t)(i * 7);
	FILE *f = fopen(dpath, "wb");
	if (!f || fwrite(d, 1, sizeof d, f) != sizeof d || fclose(f) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_files();
	uint8_t *owned;
	size_t len;
	const uint8_t *rec =
	        fuzz_file(data, size, S2_SFILE_KIND('S', 'U', 'M', 'S'), 1, name, &len, &owned);
	if (!rec)
		return 0;
	FILE *f = fopen(spath, "wb");
	if (!f || fwrite(rec, 1, len, f) != len || fclose(f) != 0)
		abort();
	free(owned);
	char err[1024];
	err[0] = 0;
	int rc = s2_file_sum_check(dpath, spath, err, sizeof err);
	if (rc < 0 && (!err[0] || (strncmp(err, dpath, strlen(dpath)) != 0)))
		abort(); /* every refusal names the record (whose path starts with the file's) */
	return 0;
}
