/**
 * @file replay.h
 * @brief Replaying a capture of a live stream (replay.c, docs/stream.md "Capture and
 * replay"): each captured frame's link, IPv4 and UDP layers are parsed (bounds checked,
 * fuzzed), the stream's packets found (the datagrams sent to the address and port of the
 * stream's first STREAM_DATA packet, as the live receiver's socket took them) and fed to a
 * stream (s2_stream_feed), so a capture decodes exactly as the live stream did; every record
 * is accounted for. Reading the capture file is the caller's (s2ctl replay uses libpcap, which
 * libs2 does not need): it hands over each record's bytes and lengths.
 *
 * Use: a stream with its sources (s2_stream_new, s2_stream_add_plan_sources), then
 * s2_replay_new(), s2_replay_frame() for every record in order, s2_replay_counts(),
 * s2_replay_free().
 */
#ifndef S2_REPLAY_H
#define S2_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s2/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct s2_replay;

/** Link layers a capture of s2 traffic has (pcap link types in the comments). */
enum s2_replay_link {
	S2_REPLAY_LINK_NULL,  /**< DLT_NULL: BSD loopback, host byte order */
	S2_REPLAY_LINK_LOOP,  /**< DLT_LOOP: BSD loopback, big-endian */
	S2_REPLAY_LINK_ETHER, /**< DLT_EN10MB: Ethernet II, with 802.1Q / 802.1ad tags */
	S2_REPLAY_LINK_SLL,   /**< DLT_LINUX_SLL: Linux cooked v1 */
	S2_REPLAY_LINK_SLL2,  /**< DLT_LINUX_SLL2: Linux cooked v2 */
	S2_REPLAY_LINK_RAW,   /**< DLT_RAW, DLT_IPV4: raw IP */
};

/** A short name of a link layer ("Ethernet", "Linux cooked", ...); NULL if unknown. */
const char *s2_replay_link_name(enum s2_replay_link link);

/** What became of the records so far. */
struct s2_replay_counts {
	uint64_t records;       /**< records given */
	uint64_t stream;        /**< UDP datagrams to the stream's address: fed to the stream */
	uint64_t other_streams; /**< STREAM_DATA packets to other addresses */
	uint64_t other_udp;     /**< other UDP datagrams (requests, replies, not s2) */
	uint64_t other;         /**< frames of other protocols (ARP, IPv6, TCP...) */
	uint64_t fragments;     /**< IPv4 fragments (s2 never fragments) */
	uint64_t truncated;     /**< cut short by the capture's snap length */
	uint64_t malformed;     /**< headers inconsistent with the frame */
};

/** What s2_replay_frame() did with a record. */
enum s2_replay_verdict {
	S2_REPLAY_FED,       /**< a packet of the stream: fed to it */
	S2_REPLAY_IGNORED,   /**< another stream's, other UDP, another protocol, a fragment */
	S2_REPLAY_TRUNCATED, /**< skipped: the capture kept fewer bytes than the frame had */
	S2_REPLAY_MALFORMED, /**< skipped: its headers are inconsistent */
};

/**
 * A replayer feeding st (not owned; it must outlive the replayer) with the packets of stream
 * stream_id (0: the first stream found) from frames of link layer link.
 * @return the replayer, or NULL (out of memory, or link unknown).
 */
struct s2_replay *s2_replay_new(struct s2_stream *st, uint32_t stream_id, enum s2_replay_link link);

/**
 * One captured record: frame[0..caplen) as captured, wirelen its length on the wire (>=
 * caplen). Nothing in frame is trusted. A frame of the stream is fed to the stream (its
 * callbacks run from here).
 * @param why for S2_REPLAY_TRUNCATED and S2_REPLAY_MALFORMED, a static description of the
 *            fault (may be NULL)
 */
enum s2_replay_verdict s2_replay_frame(struct s2_replay *r, const uint8_t *frame, size_t caplen,
                                       size_t wirelen, const char **why);

/** The counts so far (owned by r). */
const struct s2_replay_counts *s2_replay_counts(const struct s2_replay *r);

/** Free r (not the stream); NULL is allowed. */
void s2_replay_free(struct s2_replay *r);

#ifdef __cplusplus
}
#endif
#endif
