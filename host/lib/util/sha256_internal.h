/*
 * SHA-256 (FIPS 180-4) of files, for the provenance of the energy report (docs/energy.md):
 * the image, the machine description and the firmware a run used, named by their digests.
 */
#ifndef S2_SHA256_INTERNAL_H
#define S2_SHA256_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t buf[64];
	size_t n;
};

void s2_sha256_init(struct sha256 *s);
void s2_sha256_update(struct sha256 *s, const void *data, size_t len);
/** The digest as 64 lowercase hex digits and a NUL. */
void s2_sha256_hex(struct sha256 *s, char hex[65]);
/** Digest of a file's bytes into hex; 0, or -errno (hex then "") if it cannot be read. */
int s2_sha256_file(const char *path, char hex[65]);

#endif
