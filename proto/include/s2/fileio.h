/**
 * @file fileio.h
 * @brief Host file helpers shared by every s2 writer and reader (docs/files.md): atomic
 *        writes, bounded whole-file reads, and the checksummed container (s2/sfile.h) built
 *        and checked with messages that name the file and the damaged part.
 *
 * Host only (target s2proto_io): the pure container code is s2/sfile.h in s2proto.
 */
#ifndef S2_FILEIO_H
#define S2_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "s2/sfile.h"

/**
 * Write parts[0..n) (lengths lens[]) to path atomically: a temporary file in the same
 * directory (path.tmpPID), fsync, rename over path, fsync of the directory. On failure the
 * temporary file is removed and path is untouched.
 * @return 0 or S2_E_IO with err ("path: reason") set.
 */
int s2_file_write_parts(const char *path, const void *const *parts, const size_t *lens, unsigned n,
                        char *err, size_t errlen);

/** s2_file_write_parts with one part. */
int s2_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/** s2_file_write_atomic for secrets: the file is created with mode 0600 (never wider, whatever
 * the umask), so no other user can read it at any moment (key files, s2/key.h). */
int s2_file_write_private(const char *path, const void *data, size_t len, char *err, size_t errlen);

/**
 * Read a whole file of at most max bytes into a new buffer (free() it).
 * @return 0, S2_E_IO (cannot open or read), S2_E_RANGE (larger than max) or S2_E_NOMEM,
 *         with err ("path: reason") set.
 */
int s2_file_read_all(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
                     size_t errlen);

/**
 * Verify container bytes and, on failure, write a message naming what and the damaged
 * part: "va.s2res: section 'population exc spikes' fails its checksum",
 * "m.pb: truncated: header says 5120 bytes, file has 4000".
 * @param what the file name used in messages
 * @return as s2_sfile_verify.
 */
int s2_file_check(const uint8_t *buf, size_t len, uint32_t kind, uint16_t max_version,
                  const char *what, struct s2_sfile *f, char *err, size_t errlen);

/** A container being built in memory (opaque). */
struct s2_file_w;

/** New builder for a file of this kind and content format version; NULL if out of memory. */
struct s2_file_w *s2_file_w_new(uint32_t kind, uint16_t version);
void s2_file_w_free(struct s2_file_w *w);
/** Start a new section (name 1..255 bytes; longer names are cut with "..."). */
int s2_file_w_section(struct s2_file_w *w, const char *name);
/** Append to the current section. Errors stick and are returned by finish/save. */
int s2_file_w_put(struct s2_file_w *w, const void *p, size_t n);
int s2_file_w_u16(struct s2_file_w *w, uint16_t v);
int s2_file_w_u32(struct s2_file_w *w, uint32_t v);
int s2_file_w_u64(struct s2_file_w *w, uint64_t v);
/** The whole file as one new buffer (free() it). 0, S2_E_NOMEM or S2_E_INVAL. */
int s2_file_w_finish(struct s2_file_w *w, uint8_t **out, size_t *len);
/** Write the file atomically to path. 0 or a negative code with err set. */
int s2_file_w_save(struct s2_file_w *w, const char *path, char *err, size_t errlen);

#endif
