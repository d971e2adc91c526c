/**
 * @file sfile.h
 * @brief The s2 file container: a versioned header and per-section CRC-32 around the content
 *        of every file s2 writes and reads back (docs/files.md).
 *
 * Layout (little-endian, docs/files.md section 1):
 *
 *     offset  size  field
 *          0     4  magic "S2FC"
 *          4     2  container version (S2_SFILE_VERSION)
 *          6     2  content format version (per kind)
 *          8     4  kind: four ASCII characters ("RSLT", "MACH", ...)
 *         12     4  number of sections (1 .. S2_SFILE_MAX_SECTIONS)
 *         16     8  file length in bytes (header + table + sections)
 *         24     4  table length in bytes
 *         28     4  CRC-32 of bytes 0..27 followed by the table
 *         32     -  table: per section u64 length, u32 CRC-32 of its bytes, u8 name length
 *                   (1..255), the name (ASCII, no NUL)
 *          -     -  the sections, in table order, back to back, no padding
 *
 * The sections are contiguous, so a reader that has verified the file can hand the whole
 * content (S2_SFILE content pointer) to a decoder written for the bare format. CRC-32 finds
 * every single-bit flip and every burst of up to 32 bits; it guards against damage, not
 * against an attacker (files that must resist forgery carry a MAC of their own).
 *
 * Pure code: no allocation, no I/O (host I/O and messages: s2/fileio.h).
 */
#ifndef S2_SFILE_H
#define S2_SFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S2_SFILE_MAGIC 0x43463253u /**< "S2FC" as a little-endian u32 */
#define S2_SFILE_VERSION 1u
#define S2_SFILE_HEADER 32u
#define S2_SFILE_MAX_SECTIONS (1u << 20)
#define S2_SFILE_NAME_MAX 255u

/** A kind from four characters: S2_SFILE_KIND('R','S','L','T'). */
#define S2_SFILE_KIND(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/** One section: its name (not NUL-terminated) and bytes. */
struct s2_sfile_sec {
	const char *name;
	unsigned name_len;
	const uint8_t *data;
	uint64_t len;
};

/** A verified file: a view into the caller's buffer. */
struct s2_sfile {
	uint32_t kind;
	uint16_t version; /**< content format version */
	uint32_t n_sections;
	const uint8_t *table;
	size_t table_len;
	const uint8_t *content; /**< all sections, back to back */
	uint64_t content_len;
};

/** Why a file was refused (filled by s2_sfile_verify). */
enum s2_sfile_fault_kind {
	S2_SFILE_OK = 0,
	S2_SFILE_NOT_S2,    /**< no "S2FC" magic (have: the first 4 bytes, if any) */
	S2_SFILE_SHORT_HDR, /**< shorter than the 32-byte header (have: file length) */
	S2_SFILE_CVERSION,  /**< container version not supported (have) */
	S2_SFILE_HDR_CRC,   /**< header or table fails its checksum */
	S2_SFILE_TRUNCATED, /**< file shorter than the header says (want, have) */
	S2_SFILE_TRAILING,  /**< file longer than the header says (want, have) */
	S2_SFILE_KIND,      /**< another kind of s2 file (want, have: kinds) */
	S2_SFILE_FVERSION,  /**< content format version newer than supported (want: max, have) */
	S2_SFILE_TABLE,     /**< table inconsistent with the header (section: index) */
	S2_SFILE_SEC_CRC,   /**< a section fails its checksum (section, name) */
};

struct s2_sfile_fault {
	enum s2_sfile_fault_kind what;
	uint32_t section; /**< index, for S2_SFILE_TABLE and S2_SFILE_SEC_CRC */
	const char *name; /**< section name (into the buffer) for S2_SFILE_SEC_CRC */
	unsigned name_len;
	uint64_t want, have;
};

/**
 * Verify a whole file: magic, container version, header and table checksum, the length the
 * header states against len, kind, format version <= max_version, the table, and every
 * section's checksum. Trusts nothing but buf[0..len).
 * @param kind the expected kind (S2_SFILE_KIND); 0 accepts any
 * @param f    on success, the view of the file
 * @param why  on failure (may be NULL), what is wrong
 * @return 0, or S2_E_MAGIC (not an s2 file), S2_E_VERSION, S2_E_CRC, S2_E_SHORT (truncated),
 *         S2_E_LENGTH (trailing bytes), S2_E_TYPE (other kind), S2_E_FORMAT (bad table).
 */
int s2_sfile_verify(const uint8_t *buf, size_t len, uint32_t kind, uint16_t max_version,
                    struct s2_sfile *f, struct s2_sfile_fault *why);

/** True if buf starts with the container magic (to tell a container from a legacy file). */
bool s2_sfile_is(const uint8_t *buf, size_t len);

/** Iterator over the sections of a verified file: start from {0}. */
struct s2_sfile_it {
	size_t tab;   /**< offset into the table */
	uint64_t off; /**< offset into the content */
	uint32_t i;
};

/** Next section of f into *s; false after the last. */
bool s2_sfile_next(const struct s2_sfile *f, struct s2_sfile_it *it, struct s2_sfile_sec *s);

/** True if s is named name (a NUL-terminated string). */
bool s2_sfile_sec_is(const struct s2_sfile_sec *s, const char *name);

/** Bytes the header and table take for these sections (names 1..255 bytes). */
size_t s2_sfile_head_size(const struct s2_sfile_sec *secs, uint32_t n);

/**
 * Encode header and table for sections secs[0..n) (their CRCs computed here) into out,
 * which must hold s2_sfile_head_size(secs, n) bytes. The file is out[0..head) followed by
 * each section's data in order; *head_len is set to the header size.
 * @return 0, or S2_E_INVAL (bad name or count), S2_E_NOSPACE.
 */
int s2_sfile_encode_head(uint8_t *out, size_t cap, uint32_t kind, uint16_t version,
                         const struct s2_sfile_sec *secs, uint32_t n, size_t *head_len);

#endif
