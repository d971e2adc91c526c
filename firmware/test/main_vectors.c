/*
 * fw_proto_vectors: print the proto test vectors (tests/proto/proto_vectors.c), one line
 * each and nothing else, for a byte-for-byte comparison with proto_vectors.golden.
 */
#include "port.h"
#include "s2test.h"

static void emit(const char *line, void *ctx)
{
	(void)ctx;
	s2_port_puts(line);
	s2_port_puts("\n");
}

int main(void)
{
	s2_port_init();
	s2_proto_vectors(emit, NULL);
	return 0;
}
