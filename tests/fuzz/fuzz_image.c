/*
 * Fuzz target for network images (s2_image_check, docs/image.md): any bytes must be accepted
 * or rejected with a message, never read out of bounds.
 *
 * Two kinds of input. An input starting with 0x01 is a raw chip blob: the harness wraps it in
 * a valid image (deflated, CRCs and manifest computed to match its header), so that the
 * fuzzer reaches the chip blob and PE data checks, which the CRCs would otherwise guard.
 * Anything else is an image file as is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "s2/image.h"
#include "s2pb/image.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An image holding one chip blob `raw` (at least 24 bytes). NULL when memory runs out. */
static uint8_t *wrap(const uint8_t *raw, size_t n, size_t *len)
{
	uLongf zl = compressBound(n);
	uint8_t *z = malloc(zl);
	if (!z || compress2(z, &zl, raw, n, 1) != Z_OK) {
		free(z);
		return NULL;
	}
	S2pb__ImageBlob blob = S2PB__IMAGE_BLOB__INIT, *pb = &blob;
	blob.board = get32(raw + 12);
	blob.chip = get32(raw + 16);
	blob.offset = S2_IMAGE_HDR_LEN;
	blob.size = (uint32_t)zl;
	blob.raw_size = (uint32_t)n;
	blob.crc32 = (uint32_t)crc32(0, z, (uInt)zl);
	blob.raw_crc32 = (uint32_t)crc32(0, raw, (uInt)n);
	blob.pes = (uint32_t)raw[6] | (uint32_t)raw[7] << 8;
	blob.router_entries = get32(raw + 8);
	S2pb__Image im = S2PB__IMAGE__INIT;
	im.format = S2_IMAGE_VERSION;
	im.n_blobs = 1;
	im.blobs = &pb;
	size_t ml = s2pb__image__get_packed_size(&im);
	*len = S2_IMAGE_HDR_LEN + zl + ml;
	uint8_t *img = calloc(1, *len);
	if (img) {
		memcpy(img, S2_IMAGE_MAGIC, 8);
		put32(img + 8, S2_IMAGE_VERSION);
		put32(img + 12, (uint32_t)ml);
		put32(img + 16, (uint32_t)(S2_IMAGE_HDR_LEN + zl));
		memcpy(img + S2_IMAGE_HDR_LEN, z, zl);
		s2pb__image__pack(&im, img + S2_IMAGE_HDR_LEN + zl);
		put32(img + 24, (uint32_t)crc32(0, img + S2_IMAGE_HDR_LEN + zl, (uInt)ml));
	}
	free(z);
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	err[0] = 0;
	struct s2_image_summary sum;
	if (size > 25 && data[0] == 0x01 && size < (1u << 20)) {
		size_t len;
		uint8_t *img = wrap(data + 1, size - 1, &len);
		if (!img)
			return 0;
		if (s2_image_check(img, len, &sum, err, sizeof err) < 0 && !err[0])
			abort();
		free(img);
		return 0;
	}
	if (s2_image_check(data, size, &sum, err, sizeof err) < 0 && !err[0])
		abort(); /* every rejection says why */
	return 0;
}
