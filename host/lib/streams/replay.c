/*
 * Replaying a capture into a live stream (s2/replay.h): each frame through the capture frame
 * parser (cap_frame.c), the stream's destination learnt from its first STREAM_DATA packet,
 * its datagrams fed to the stream, every other record counted by kind.
 */
#include "s2/replay.h"

#include <stdlib.h>
#include <string.h>

#include "cap_frame_internal.h"
#include "s2/live.h"
#include "s2/msg.h"
#include "s2/packet.h"
#include "s2/wire.h"

/* The public link enum is the parser's, value for value. */
_Static_assert((int)S2_REPLAY_LINK_NULL == (int)CAP_LINK_NULL &&
                       (int)S2_REPLAY_LINK_LOOP == (int)CAP_LINK_LOOP &&
                       (int)S2_REPLAY_LINK_ETHER == (int)CAP_LINK_ETHER &&
                       (int)S2_REPLAY_LINK_SLL == (int)CAP_LINK_SLL &&
                       (int)S2_REPLAY_LINK_SLL2 == (int)CAP_LINK_SLL2 &&
                       (int)S2_REPLAY_LINK_RAW == (int)CAP_LINK_RAW,
               "enum s2_replay_link follows enum cap_link");

struct s2_replay {
	struct s2_stream *st;
	uint32_t want;
	enum cap_link link;
	struct s2_replay_counts n;
	/* Where the live stream was received: the address and port of the first STREAM_DATA
	 * packet of the stream (the one with id `want`, or any); every later datagram sent
	 * there is the stream's, as the live receiver's socket took them. */
	bool known;
	uint8_t addr[4];
	uint16_t port;
};

const char *s2_replay_link_name(enum s2_replay_link link)
{
	return (unsigned)link < CAP_LINK_COUNT ? cap_link_name((enum cap_link)link) : NULL;
}

/* Is d a STREAM_DATA packet that a receiver would number (not malformed in its header or
 * its body's header), of stream want (0: any)? */
static bool stream_packet(const uint8_t *d, size_t len, uint32_t want)
{
	struct s2_header h;
	const uint8_t *body;
	struct s2_live_rd r;
	uint32_t id, dropped;
	uint64_t first_us;
	return s2_packet_decode(d, len, &h, &body) == 0 && h.type == S2_MSG_STREAM_DATA &&
	       !(h.flags & S2_F_REPLY) && h.board != S2_ADDR_ANY &&
	       s2_live_open(&r, body, h.payload_len, &id, &dropped, &first_us) == 0 &&
	       (!want || id == want);
}

/* Judged by the header's magic and type only, for counting what was not fed. */
static bool looks_stream_data(const uint8_t *p, size_t len)
{
	return len >= 6 && s2_ld32(p) == S2_MAGIC && p[5] == S2_MSG_STREAM_DATA;
}

struct s2_replay *s2_replay_new(struct s2_stream *st, uint32_t stream_id, enum s2_replay_link link)
{
	if ((unsigned)link >= CAP_LINK_COUNT)
		return NULL;
	struct s2_replay *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->st = st;
	r->want = stream_id;
	r->link = (enum cap_link)link;
	return r;
}

enum s2_replay_verdict s2_replay_frame(struct s2_replay *r, const uint8_t *frame, size_t caplen,
                                       size_t wirelen, const char **why)
{
	const char *w = "";
	struct cap_udp u;
	r->n.records++;
	enum cap_verdict v = cap_frame_udp(r->link, frame, caplen, wirelen, &u, &w);
	if (why)
		*why = w;
	switch (v) {
	case CAP_UDP:
		if (!r->known && stream_packet(u.payload, u.len, r->want)) {
			r->known = true;
			memcpy(r->addr, u.dst, 4);
			r->port = u.dport;
		}
		if (!r->known || u.dport != r->port || memcmp(u.dst, r->addr, 4)) {
			if (looks_stream_data(u.payload, u.len))
				r->n.other_streams++;
			else
				r->n.other_udp++;
			return S2_REPLAY_IGNORED;
		}
		r->n.stream++;
		s2_stream_feed(r->st, u.payload, u.len);
		return S2_REPLAY_FED;
	case CAP_OTHER:
		r->n.other++;
		return S2_REPLAY_IGNORED;
	case CAP_FRAGMENT:
		r->n.fragments++;
		return S2_REPLAY_IGNORED;
	case CAP_TRUNCATED:
		r->n.truncated++;
		return S2_REPLAY_TRUNCATED;
	case CAP_MALFORMED:
	default:
		r->n.malformed++;
		return S2_REPLAY_MALFORMED;
	}
}

const struct s2_replay_counts *s2_replay_counts(const struct s2_replay *r)
{
	return &r->n;
}

void s2_replay_free(struct s2_replay *r)
{
	free(r);
}
