/*
 * Finding the UDP datagram in a captured frame (s2ctl replay, docs/stream.md): the link layers
 * a capture of s2 traffic has (Ethernet with up to two VLAN tags, BSD loopback, Linux cooked
 * v1 and v2, raw IP), then IPv4 and UDP. Pure computation over untrusted bytes, with no
 * libpcap: the caller maps the capture's link type to enum cap_link, and the fuzz harness
 * (tests/fuzz/fuzz_capframe.c) calls it directly.
 */
#ifndef S2_CAP_FRAME_INTERNAL_H
#define S2_CAP_FRAME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/** Link layers understood, with the pcap link types (DLT_) that have them. */
enum cap_link {
	CAP_LINK_NULL,  /**< DLT_NULL: 4-byte address family in the capturer's byte order */
	CAP_LINK_LOOP,  /**< DLT_LOOP: 4-byte address family, big-endian */
	CAP_LINK_ETHER, /**< DLT_EN10MB: Ethernet II, with 802.1Q / 802.1ad tags */
	CAP_LINK_SLL,   /**< DLT_LINUX_SLL: 16-byte Linux cooked header */
	CAP_LINK_SLL2,  /**< DLT_LINUX_SLL2: 20-byte Linux cooked header */
	CAP_LINK_RAW,   /**< DLT_RAW, DLT_IPV4: the frame starts with the IP header */
	CAP_LINK_COUNT
};

/** What a frame holds. */
enum cap_verdict {
	CAP_UDP,       /**< an IPv4 UDP datagram, in struct cap_udp */
	CAP_OTHER,     /**< another protocol (ARP, IPv6, TCP, ICMP...): not ours, ignored */
	CAP_FRAGMENT,  /**< an IPv4 fragment: s2 never sends one (protocol section 2) */
	CAP_TRUNCATED, /**< the capture kept fewer bytes than the frame had (snap length) */
	CAP_MALFORMED, /**< headers disagree with each other or with the frame's length */
};

/** The UDP datagram of a frame: payload points into the frame. */
struct cap_udp {
	uint8_t src[4], dst[4]; /**< IPv4 addresses, network order */
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t len;
};

/** A short name of a link layer, for messages ("Ethernet", "Linux cooked"...). */
const char *cap_link_name(enum cap_link link);

/**
 * Find the UDP datagram in one captured frame. Trusts nothing in frame[0..caplen): every
 * length is checked against what was captured before anything is read: the link header, the
 * IPv4 header length (>= 20), the total length (>= header, within the frame; Ethernet
 * padding after it is ignored), the fragment fields, and the UDP length (>= 8, within the IP
 * packet). Checksums are not verified (s2 packets carry their own CRC-32).
 * @param wirelen the frame's length on the wire (pcap's len; >= caplen): a frame cut short
 *                by the snap length is CAP_TRUNCATED, not CAP_MALFORMED
 * @param why     for CAP_TRUNCATED and CAP_MALFORMED, a static description of the fault
 * @return the verdict; *u is filled only for CAP_UDP.
 */
enum cap_verdict cap_frame_udp(enum cap_link link, const uint8_t *frame, size_t caplen,
                               size_t wirelen, struct cap_udp *u, const char **why);

#endif
