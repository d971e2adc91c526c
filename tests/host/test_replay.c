/*
 * libs2's replay of captured frames into a stream (s2/replay.h): frames built here byte by
 * byte (Ethernet, IPv4, UDP around STREAM_DATA packets from the wire encoder) are fed to the
 * stream when they go to the stream's address and port, and every other record lands in
 * exactly one count: another stream's packets, other UDP, another protocol, an IPv4
 * fragment, a frame cut by the snap length, a malformed one. A stream id picks one stream of
 * two; an unknown link type gives no replayer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmocka_runner.h"
#include "s2/live.h"
#include "s2/msg.h"
#include "s2/packet.h"
#include "s2/replay.h"
#include "s2/stream.h"

static unsigned spikes_seen;

static void on_spikes(void *ctx, const struct s2_spike *s, size_t n)
{
	(void)ctx;
	(void)s;
	spikes_seen += (unsigned)n;
}

/* An Ethernet frame of an IPv4 UDP datagram to 10.0.0.dst:dport carrying payload. */
static size_t frame_udp(uint8_t *f, uint8_t dst, uint16_t dport, const uint8_t *payload, size_t len,
                        uint16_t frag)
{
	memset(f, 0, 14);
	f[12] = 0x08; /* IPv4 */
	uint8_t *ip = f + 14;
	size_t total = 20 + 8 + len;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = 17; /* UDP */
	ip[12] = 10, ip[15] = 1;
	ip[16] = 10, ip[19] = dst;
	uint8_t *udp = ip + 20;
	udp[0] = 0x9c, udp[1] = 0x40; /* source port 40000 */
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + len) >> 8);
	udp[5] = (uint8_t)(8 + len);
	memcpy(udp + 8, payload, len);
	return 14 + total;
}

/* A STREAM_DATA packet of stream id from board 0 with seq and n spikes of chip 1, PE 2. */
static size_t stream_data(uint8_t *out, uint32_t id, uint32_t seq, unsigned n)
{
	uint8_t body[512];
	struct s2_live_wr w;
	s2_live_begin(&w, body, sizeof body, id, 0);
	s2_live_time(&w, 1000);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(s2_live_spike(&w, 7, 1, 2, (uint16_t)i), 0);
	struct s2_header h = {.type = S2_MSG_STREAM_DATA, .seq = seq, .board = 0, .chip = 0};
	int len = s2_packet_encode(out, 1500, &h, body, w.pos);
	assert_true(len > 0);
	return (size_t)len;
}

static void frames_counted_and_fed(void **state)
{
	(void)state;
	spikes_seen = 0;
	struct s2_stream_callbacks cb = {.spikes = on_spikes};
	struct s2_stream *st = s2_stream_new(0, &cb);
	assert_non_null(st);
	assert_int_equal(s2_stream_add_source(st, 0, 1, 2, 0, 0), 0);
	struct s2_replay *r = s2_replay_new(st, 0, S2_REPLAY_LINK_ETHER);
	assert_non_null(r);
	uint8_t pkt[1500], f[1600];
	const char *why;
	/* a request to a board first (not the stream), then the stream's packets */
	uint8_t req[16] = "not an s2 packet";
	size_t fl = frame_udp(f, 2, 7000, req, sizeof req, 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_IGNORED);
	fl = frame_udp(f, 9, 5000, pkt, stream_data(pkt, 0x1234, 0, 3), 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_FED);
	fl = frame_udp(f, 9, 5000, pkt, stream_data(pkt, 0x1234, 1, 2), 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_FED);
	/* another stream's packet to another port: counted apart, not fed */
	fl = frame_udp(f, 9, 5001, pkt, stream_data(pkt, 0x9999, 0, 5), 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_IGNORED);
	/* a fragment, another protocol, a frame cut short, a malformed one */
	fl = frame_udp(f, 9, 5000, pkt, stream_data(pkt, 0x1234, 2, 1), 0x2000);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_IGNORED);
	uint8_t arp[42] = {0};
	arp[12] = 0x08, arp[13] = 0x06;
	assert_int_equal(s2_replay_frame(r, arp, sizeof arp, sizeof arp, &why), S2_REPLAY_IGNORED);
	fl = frame_udp(f, 9, 5000, pkt, stream_data(pkt, 0x1234, 3, 1), 0);
	why = NULL;
	assert_int_equal(s2_replay_frame(r, f, 30, fl, &why), S2_REPLAY_TRUNCATED);
	assert_non_null(why);
	f[14] = 0x44; /* IPv4 header of 16 bytes: impossible */
	why = NULL;
	assert_int_equal(s2_replay_frame(r, f, fl, fl, &why), S2_REPLAY_MALFORMED);
	assert_non_null(why);
	const struct s2_replay_counts *n = s2_replay_counts(r);
	assert_int_equal(n->records, 8);
	assert_int_equal(n->stream, 2);
	assert_int_equal(n->other_udp, 1);
	assert_int_equal(n->other_streams, 1);
	assert_int_equal(n->fragments, 1);
	assert_int_equal(n->other, 1);
	assert_int_equal(n->truncated, 1);
	assert_int_equal(n->malformed, 1);
	assert_int_equal(n->records, n->stream + n->other_streams + n->other_udp + n->other +
	                                     n->fragments + n->truncated + n->malformed);
	assert_int_equal(spikes_seen, 5);
	assert_int_equal(s2_stream_stats(st)->packets, 2);
	assert_int_equal(s2_stream_stats(st)->lost, 0);
	s2_replay_free(r);
	s2_stream_free(st);
}

static void stream_id_picks_one_stream(void **state)
{
	(void)state;
	spikes_seen = 0;
	struct s2_stream_callbacks cb = {.spikes = on_spikes};
	struct s2_stream *st = s2_stream_new(0x9999, &cb);
	assert_int_equal(s2_stream_add_source(st, 0, 1, 2, 0, 0), 0);
	struct s2_replay *r = s2_replay_new(st, 0x9999, S2_REPLAY_LINK_ETHER);
	uint8_t pkt[1500], f[1600];
	size_t fl = frame_udp(f, 9, 5000, pkt, stream_data(pkt, 0x1234, 0, 3), 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, NULL), S2_REPLAY_IGNORED);
	fl = frame_udp(f, 9, 5001, pkt, stream_data(pkt, 0x9999, 0, 4), 0);
	assert_int_equal(s2_replay_frame(r, f, fl, fl, NULL), S2_REPLAY_FED);
	assert_int_equal(s2_replay_counts(r)->other_streams, 1);
	assert_int_equal(spikes_seen, 4);
	s2_replay_free(r);
	s2_stream_free(st);
	assert_null(s2_replay_new(NULL, 0, (enum s2_replay_link)99));
	assert_string_equal(s2_replay_link_name(S2_REPLAY_LINK_ETHER), "Ethernet");
	assert_null(s2_replay_link_name((enum s2_replay_link)99));
	s2_replay_free(NULL);
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(frames_counted_and_fed),
	        cmocka_unit_test(stream_id_picks_one_stream),
	};
	return s2t_run_cmocka("replay", NULL, 0, t, sizeof t / sizeof t[0]) ? 1 : 0;
}
