/*
 * Text records in the checksummed container (docs/files.md): small line-oriented files of
 * "name value" lines in one section, written atomically and readable by every user (mode
 * 0644), read back with the container checked and every line handed to a parser. The SLURM
 * allocation (deploy/alloc.c) and the job energy report (energy/jobs.c) are such records.
 */
#ifndef S2_TEXTREC_INTERNAL_H
#define S2_TEXTREC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** What a record is: its container kind and version, its one section, and its name in
 * messages ("allocation", "report": "a NUL byte in the report text"). */
struct s2_textrec_kind {
	uint32_t kind;
	uint16_t version;
	const char *section;
	const char *what;
	size_t max; /**< largest file s2_textrec_load reads, bytes */
};

/**
 * True if s is one word of printable ASCII (no spaces or control characters); an empty s is
 * a word only if allow_empty.
 */
bool s2_textrec_word(const char *s, bool allow_empty);

/**
 * Write text[0..len) as the record's section to path atomically, then make it mode 0644.
 * @return 0, or S2_E_NOMEM / S2_E_IO with err ("path: reason") set; on failure path is
 *         untouched or, if only the chmod failed, holds the new record.
 */
int s2_textrec_save(const struct s2_textrec_kind *k, const char *text, size_t len, const char *path,
                    char *err, size_t errlen);

/**
 * Called for each line of a record's text, in order (without its '\n'; empty lines are
 * skipped; a line never holds '\r' or NUL). May modify line.
 * @return 0, or a negative code: the line is refused.
 */
typedef int (*s2_textrec_line_fn)(void *ctx, char *line);

/**
 * Check buf[0..len) as a record of kind k (container, kind, version, checksums) and hand each
 * line of its text to line(ctx, ...). Trusts nothing in buf. Stops at the first refused line.
 * @param path the file name used in messages
 * @return 0; a container error of s2_file_check; S2_E_FORMAT for a NUL byte in the text, a
 *         '\r', or a refused line ("path: line 3: 'board x' is not a valid allocation line");
 *         or S2_E_NOMEM ("out of memory"). err is set on every error.
 */
int s2_textrec_decode(const struct s2_textrec_kind *k, const uint8_t *buf, size_t len,
                      const char *path, s2_textrec_line_fn line, void *ctx, char *err,
                      size_t errlen);

/** Read path (at most k->max bytes) and s2_textrec_decode it. Returns as s2_textrec_decode, or
 * the S2_E_IO / S2_E_RANGE / S2_E_NOMEM of s2_file_read_all. */
int s2_textrec_load(const struct s2_textrec_kind *k, const char *path, s2_textrec_line_fn line,
                    void *ctx, char *err, size_t errlen);

#endif
