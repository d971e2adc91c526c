/*
 * Replay driver for fuzz targets when libFuzzer is not in use (gcc builds): feeds each file
 * named on the command line to LLVMFuzzerTestOneInput. Exit 0 if all ran.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int ran = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			fprintf(stderr, "replay: cannot open %s\n", argv[i]);
			return 1;
		}
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		ran++;
	}
	printf("replay: %d inputs ran\n", ran);
	return ran > 0 ? 0 : 1;
}
