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
#include <stdio.h>

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
 * For writers that stream: open a temporary file beside path (name into tmp, tmplen >= 32 +
 * strlen(path)) with fopen mode, to be finished by s2_file_tmp_commit or s2_file_tmp_abort.
 * @return the stream, or NULL with err set.
 */
FILE *s2_file_tmp_open(const char *path, const char *mode, char *tmp, size_t tmplen, char *err,
                       size_t errlen);

/**
 * Finish a stream of s2_file_tmp_open: flush, fsync, close, rename tmp over path, fsync the
 * directory. f is closed in every case; on failure tmp is removed and path untouched.
 * @return 0 or S2_E_IO with err set.
 */
int s2_file_tmp_commit(FILE *f, const char *tmp, const char *path, char *err, size_t errlen);

/** Give up a stream of s2_file_tmp_open: close f (if not NULL) and remove tmp. */
void s2_file_tmp_abort(FILE *f, const char *tmp);

/**
 * Read a whole file of at most max bytes into a new buffer (free() it), which has one byte
 * more than *len (a text can be NUL-terminated in place).
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

/**
 * Checksum record of a file that must keep a foreign format (a pcap that tshark reads): a
 * container of kind "SUMS" at sum_path holding the file's length and the CRC-32 of each
 * S2_FILE_SUM_CHUNK bytes of it, written atomically (docs/files.md).
 * @return 0, or S2_E_IO / S2_E_NOMEM with err set.
 */
int s2_file_sum_write(const char *path, const char *sum_path, char *err, size_t errlen);

#define S2_FILE_SUM_CHUNK (1u << 20)

/**
 * Check path against its checksum record: "run.pcap: bytes 1048576-2097151 fail their
 * checksum (run.pcap.s2sum)", "run.pcap: truncated: run.pcap.s2sum says N bytes, file has M".
 * @return 0, S2_E_NOTFOUND (no record at sum_path; err set), S2_E_CRC or S2_E_SHORT or
 *         S2_E_LENGTH (path damaged), or an error of the record itself, with err set.
 */
int s2_file_sum_check(const char *path, const char *sum_path, char *err, size_t errlen);

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
/**
 * Append a protobuf message as sections split at its top-level fields, so that damage is
 * named by part ("board 3") while the sections back to back are still the message.
 * name(field, nth, buf, n) names the section of a field (nth: its occurrence among fields of
 * that number); consecutive fields with the same name share one section.
 * @return 0, S2_E_FORMAT (not protobuf wire format) or S2_E_NOMEM.
 */
int s2_file_w_protobuf(struct s2_file_w *w, const uint8_t *pb, size_t len,
                       void (*name)(uint32_t field, unsigned nth, char *buf, size_t n));
/** The whole file as one new buffer (free() it). 0, S2_E_NOMEM or S2_E_INVAL. */
int s2_file_w_finish(struct s2_file_w *w, uint8_t **out, size_t *len);
/** Write the file atomically to path. 0 or a negative code with err set. */
int s2_file_w_save(struct s2_file_w *w, const char *path, char *err, size_t errlen);

#endif
