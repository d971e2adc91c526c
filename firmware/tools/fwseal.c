/*
 * fwseal IMAGE.bin: write the image's length and CRC into its identity block (protocol
 * 4.12), in place, so a board can tell a whole image from a truncated or damaged one.
 * A host program, built with the host compiler during the firmware build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2/error.h"
#include "s2/fwident.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fwseal IMAGE.bin\n");
		return 2;
	}
	static uint8_t image[S2_FW_IMAGE_MAX + 1];
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "fwseal: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	size_t len = fread(image, 1, sizeof image, f);
	fclose(f);
	int rc = s2_fw_ident_seal(image, len);
	if (rc < 0) {
		fprintf(stderr, "fwseal: %s: %s\n", argv[1],
		        rc == S2_E_RANGE ? "larger than a PE's SRAM" : s2_strerror(rc));
		return 1;
	}
	f = fopen(argv[1], "wb");
	if (!f || fwrite(image, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "fwseal: %s: cannot write: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct s2_fw_ident id;
	rc = s2_fw_ident_decode(image, len, &id);
	printf("fwseal: %s: %zu bytes, CRC 0x%08x, %s\n", argv[1], len,
	       s2_fw_ident_image_crc(image, len), rc == 0 ? id.version : s2_strerror(rc));
	return rc == 0 ? 0 : 1;
}
