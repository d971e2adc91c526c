/* Finding the UDP datagram in a captured frame (cap_frame.h). */
#include "cap_frame_internal.h"

#include <string.h>

#define ETH_IPV4 0x0800u
#define AF_INET_ANY 2u /* AF_INET: 2 on every system that writes DLT_NULL captures */
#define IPV4_MIN_HDR 20u
#define IPV4_UDP 17u
#define UDP_HDR 8u

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

const char *cap_link_name(enum cap_link link)
{
	static const char *const names[CAP_LINK_COUNT] = {"BSD loopback",    "OpenBSD loopback",
	                                                  "Ethernet",        "Linux cooked v1",
	                                                  "Linux cooked v2", "raw IP"};
	return (unsigned)link < CAP_LINK_COUNT ? names[link] : "unknown link type";
}

/* Are the first n bytes of the frame there? CAP_UDP if so; else why not: cut by the snap
 * length (n within the frame as it was on the wire), or a header pointing past the frame. */
static enum cap_verdict need(size_t n, size_t caplen, size_t wirelen, const char *what,
                             const char **why)
{
	if (n <= caplen)
		return CAP_UDP;
	*why = what;
	return n <= wirelen ? CAP_TRUNCATED : CAP_MALFORMED;
}

/* The offset of the network header and whether it is IPv4 (CAP_UDP) or not (CAP_OTHER). */
static enum cap_verdict link_header(enum cap_link link, const uint8_t *f, size_t caplen,
                                    size_t wirelen, size_t *off, const char **why)
{
	enum cap_verdict v;
	uint16_t type;
	switch (link) {
	case CAP_LINK_NULL:
	case CAP_LINK_LOOP:
		if ((v = need(4, caplen, wirelen, "loopback header cut short", why)) != CAP_UDP)
			return v;
		*off = 4;
		if (be32(f) == AF_INET_ANY || (link == CAP_LINK_NULL && le32(f) == AF_INET_ANY))
			return CAP_UDP;
		return CAP_OTHER;
	case CAP_LINK_ETHER:
		if ((v = need(14, caplen, wirelen, "Ethernet header cut short", why)) != CAP_UDP)
			return v;
		type = be16(f + 12);
		*off = 14;
		/* 802.1Q and 802.1ad tags: at most two (QinQ) */
		for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88A8 || type == 0x9100);
		     tags++) {
			if ((v = need(*off + 4, caplen, wirelen, "VLAN tag cut short", why)) !=
			    CAP_UDP)
				return v;
			type = be16(f + *off + 2);
			*off += 4;
		}
		return type == ETH_IPV4 ? CAP_UDP : CAP_OTHER;
	case CAP_LINK_SLL:
		if ((v = need(16, caplen, wirelen, "Linux cooked header cut short", why)) !=
		    CAP_UDP)
			return v;
		*off = 16;
		return be16(f + 14) == ETH_IPV4 ? CAP_UDP : CAP_OTHER;
	case CAP_LINK_SLL2:
		if ((v = need(20, caplen, wirelen, "Linux cooked v2 header cut short", why)) !=
		    CAP_UDP)
			return v;
		*off = 20;
		return be16(f) == ETH_IPV4 ? CAP_UDP : CAP_OTHER;
	case CAP_LINK_RAW:
		if ((v = need(1, caplen, wirelen, "empty raw IP frame", why)) != CAP_UDP)
			return v;
		*off = 0;
		if (f[0] >> 4 == 6)
			return CAP_OTHER;
		if (f[0] >> 4 != 4) {
			*why = "raw IP frame of IP version neither 4 nor 6";
			return CAP_MALFORMED;
		}
		return CAP_UDP;
	default:
		*why = "unknown link type";
		return CAP_MALFORMED;
	}
}

enum cap_verdict cap_frame_udp(enum cap_link link, const uint8_t *frame, size_t caplen,
                               size_t wirelen, struct cap_udp *u, const char **why)
{
	size_t off = 0;
	*why = "";
	if (wirelen < caplen) {
		*why = "captured length above the frame's length";
		return CAP_MALFORMED;
	}
	enum cap_verdict v = link_header(link, frame, caplen, wirelen, &off, why);
	if (v != CAP_UDP)
		return v;
	if ((v = need(off + IPV4_MIN_HDR, caplen, wirelen, "IPv4 header cut short", why)) !=
	    CAP_UDP)
		return v;
	const uint8_t *ip = frame + off;
	if (ip[0] >> 4 != 4) {
		*why = "IPv4 link type but IP version not 4";
		return CAP_MALFORMED;
	}
	size_t ihl = (size_t)(ip[0] & 0xF) * 4;
	if (ihl < IPV4_MIN_HDR) {
		*why = "IPv4 header length below 20 bytes";
		return CAP_MALFORMED;
	}
	if ((v = need(off + ihl, caplen, wirelen, "IPv4 options cut short", why)) != CAP_UDP)
		return v;
	size_t total = be16(ip + 2);
	if (total < ihl) {
		*why = "IPv4 total length below its header length";
		return CAP_MALFORMED;
	}
	/* Ethernet pads short frames: bytes after the total length are not the packet's. */
	if ((v = need(off + total, caplen, wirelen, "IPv4 total length beyond the frame", why)) !=
	    CAP_UDP)
		return v;
	if (be16(ip + 6) & 0x3FFF) { /* more fragments, or an offset */
		*why = "IPv4 fragment";
		return CAP_FRAGMENT;
	}
	if (ip[9] != IPV4_UDP)
		return CAP_OTHER;
	const uint8_t *udp = ip + ihl;
	size_t room = total - ihl;
	if (room < UDP_HDR) {
		*why = "UDP header beyond the IPv4 packet";
		return CAP_MALFORMED;
	}
	size_t ulen = be16(udp + 4);
	if (ulen < UDP_HDR || ulen > room) {
		*why = ulen < UDP_HDR ? "UDP length below 8" : "UDP length beyond the IPv4 packet";
		return CAP_MALFORMED;
	}
	memcpy(u->src, ip + 12, 4);
	memcpy(u->dst, ip + 16, 4);
	u->sport = be16(udp);
	u->dport = be16(udp + 2);
	u->payload = udp + UDP_HDR;
	u->len = ulen - UDP_HDR;
	return CAP_UDP;
}
