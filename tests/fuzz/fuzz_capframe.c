/*
 * Fuzz target for the frame parser of s2ctl replay (host/lib/streams/cap_frame.c): a captured frame
 * of any bytes, with any captured and wire lengths, must give a verdict without reading
 * outside the frame, and a UDP datagram found must lie inside the frame and inside the IP
 * packet's lengths. Input: byte 0 picks the link layer; byte 1 says how much longer than
 * captured the frame was on the wire (0: not cut; 255: a wire length below the captured one);
 * the rest is the frame. Seeds: corpus/capframe (gen_live_corpus.py writes them).
 */
#include <stdint.h>
#include <stdlib.h>

#include "cap_frame_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum cap_link link = (enum cap_link)(data[0] % CAP_LINK_COUNT);
	const uint8_t *f = data + 2;
	size_t caplen = size - 2;
	size_t wirelen = data[1] == 255 ? caplen / 2 : caplen + (size_t)data[1] * 64;
	struct cap_udp u;
	const char *why = NULL;
	enum cap_verdict v = cap_frame_udp(link, f, caplen, wirelen, &u, &why);
	switch (v) {
	case CAP_UDP:
		if (u.payload < f + 8 || u.payload + u.len > f + caplen)
			abort();
		break;
	case CAP_TRUNCATED:
		if (caplen == wirelen || !why || !*why)
			abort();
		break;
	case CAP_MALFORMED:
	case CAP_FRAGMENT:
		if (!why || !*why)
			abort();
		break;
	case CAP_OTHER:
		break;
	default:
		abort();
	}
	return 0;
}
