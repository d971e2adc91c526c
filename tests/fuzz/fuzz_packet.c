/*
 * Fuzz target for the packet decoder (packet.h) and the read cursor (wire.h).
 * Properties checked beyond "no crash, no out-of-bounds read" (ASan/UBSan do that):
 *  - an accepted datagram re-encodes to exactly the same bytes;
 *  - the payload pointer lies inside the input and its length matches the header.
 * Built as a libFuzzer binary with S2_FUZZ (clang); otherwise as a replay driver that runs
 * the committed corpus, so every host build exercises the harness.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2/packet.h"
#include "s2/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_cursor(const uint8_t *data, size_t size)
{
	struct s2_rd r;
	s2_rd_init(&r, data, size);
	/* Interpret the input as a little TLV stream, as message codecs will. */
	while (s2_rd_left(&r)) {
		uint8_t kind = s2_rd_u8(&r);
		uint16_t n = s2_rd_u16(&r);
		if (kind & 1)
			(void)s2_rd_u64(&r);
		(void)s2_rd_take(&r, n);
	}
	(void)s2_rd_end(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s2_header h;
	const uint8_t *payload = NULL;
	walk_cursor(data, size);
	if (s2_packet_decode(data, size, &h, &payload) != 0)
		return 0;
	if (payload != data + S2_HEADER_LEN || h.payload_len != size - S2_HEADER_LEN)
		abort();
	static uint8_t out[S2_MAX_DATAGRAM];
	int n = s2_packet_encode(out, sizeof out, &h, payload, h.payload_len);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
