/*
 * s2 network images: the compiled form of a mapping (mapper.h) that the loader deploys
 * (docs/image.md). A fixed header, a protobuf manifest (proto/pb/image.proto) and one
 * zlib-compressed blob per chip used (router table and per-PE data, little-endian binary),
 * each with a CRC-32.
 */
#ifndef S2_IMAGE_H
#define S2_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct s2_mapping;

#define S2_IMAGE_MAGIC "S2IMAGE\0" /**< 8 bytes at offset 0 */
#define S2_IMAGE_VERSION 1u
#define S2_IMAGE_HDR_LEN 32u
#define S2_IMAGE_CHIP_HDR 24u /**< chip blob header; router entries follow */
#define S2_IMAGE_PE_DIR 16u   /**< PE directory entry: pe u16, pop u16, lo u32, off u32, len u32 */

/**
 * Write the image of a mapping that has run at least stage 5 (tables) to path: written to a
 * temporary file beside it and renamed over path, so that on any failure no file (and no
 * partial file) is left. Deterministic: the same network, machine and seed give the same
 * bytes. @return 0, or a negative S2_E_* code with err set.
 */
int s2_image_write(struct s2_mapping *mp, const char *path, char *err, size_t errlen);

/**
 * s2_image_write() to a stream the caller opened (an image built in memory: a memfd, a
 * tmpfile()): the same bytes, from the stream's current position, which must be 0 and
 * seekable (the header is written last). The stream stays open; name is used in messages.
 * @return 0, or a negative S2_E_* code with err set (the stream then holds a partial image).
 */
int s2_image_write_stream(struct s2_mapping *mp, FILE *f, const char *name, char *err,
                          size_t errlen);

/** What s2_image_check found. */
struct s2_image_summary {
	uint32_t blobs, chips;
	uint64_t pes, raw_bytes, file_bytes;
	uint64_t router_entries;
};

/**
 * Check an image in memory: header, manifest CRC and contents, every blob's bounds and
 * CRC-32, inflation to the stated size and the inflated CRC, and the structure of every
 * chip blob (docs/image.md). The bytes are untrusted. @return 0, or S2_E_FORMAT / S2_E_CRC /
 * S2_E_VERSION / S2_E_NOMEM with err naming the item.
 */
int s2_image_check(const uint8_t *buf, size_t len, struct s2_image_summary *sum, char *err,
                   size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
