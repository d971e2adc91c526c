#!/usr/bin/env python3
"""Write the seed corpora of fuzz_live.c (corpus/live) and fuzz_capframe.c (corpus/capframe).

Valid inputs of every kind the harnesses take: STREAM_DATA bodies with each record kind,
STREAM_START, INJECT and INJECT reply bodies, whole datagrams (with their CRC-32: zlib's is
the protocol's, section 3) and wrapped bodies for the receiver, and captured frames of every
link layer replay reads, carrying a STREAM_DATA packet. Layouts: docs/protocol.md 2 and 4.17.
Run from anywhere: python3 tests/fuzz/gen_live_corpus.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM_DATA, STREAM_START, INJECT = 0x52, 0x50, 0x53


def packet(ptype, payload, seq=0, board=0, flags=0, chip=0xFFFF, pe=0xFF):
    hdr = struct.pack("<IBBHIHHBBHI16s", 0x504E3253, 1, ptype, flags, seq, board, chip, pe, 0,
                      len(payload), 0, bytes(16))
    crc = zlib.crc32(hdr + payload) & 0xFFFFFFFF
    return hdr[:20] + struct.pack("<I", crc) + hdr[24:] + payload


def rec(kind, body):
    return struct.pack("<BBH", kind, 0, len(body)) + body


def spikes(step, chip, pe, neurons):
    return rec(1, struct.pack("<IHBB", step, chip, pe, 0) +
               b"".join(struct.pack("<H", n) for n in neurons))


def energy(step, chip, time_us, counters):
    return rec(2, struct.pack("<IHHQ", step, chip, 0, time_us) +
               b"".join(struct.pack("<Q", c) for c in counters))


def run(step, event, time_us):
    return rec(3, struct.pack("<IHHQ", step, event, 0, time_us))


def data_body(records, sid=0x6B50BC24, dropped=0, first_us=2484529070):
    return struct.pack("<IIQ", sid, dropped, first_us) + b"".join(records)


def main():
    live = os.path.join(HERE, "corpus", "live")
    capf = os.path.join(HERE, "corpus", "capframe")
    os.makedirs(live, exist_ok=True)
    os.makedirs(capf, exist_ok=True)

    def put(d, name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    b_spikes = data_body([spikes(7, 0, 1, [0, 5, 99]), spikes(7, 0, 2, [3]),
                          spikes(8, 7, 4, list(range(40)))])
    b_energy = data_body([energy(99, 0, 2484646471,
                                 [400000, 20535, 257, 8224, 257, 1906292, 3200, 0]),
                          energy(99, 1, 2484646480, [1, 2, 3, 4, 5, 6, 7, 8])])
    b_run = data_body([run(0, 3, 2484529070), run(0, 1, 2484628541), run(2000, 2, 2484900000)])
    b_mixed = data_body([run(0, 1, 10), spikes(0, 0, 1, [1, 2]), energy(0, 0, 11, [0] * 8),
                         spikes(1, 0, 3, [7]), run(1, 2, 12)], dropped=3)
    for name, b in [("body_spikes", b_spikes), ("body_energy", b_energy), ("body_run", b_run),
                    ("body_mixed", b_mixed), ("body_empty", data_body([]))]:
        put(live, name + ".bin", b"\x00" + b)

    start = struct.pack("<IIIBBBBHH", 0x6B50BC24, 3, 100, 0, 0, 0, 0, 43491, 2)
    start += bytes([0x1E] + [0] * 19) + bytes([0xFF] * 19 + [0])
    put(live, "stream_start.bin", b"\x01" + start)
    inject = struct.pack("<IHH", 100, 3, 0) + b"".join(
        struct.pack("<HHBB", c, n, p, 0) for c, n, p in [(0, 0, 1), (0, 5, 1), (3, 17, 9)])
    put(live, "inject.bin", b"\x02" + inject)
    put(live, "inject_next.bin", b"\x02" + struct.pack("<IHH", 0xFFFFFFFF, 1, 0) +
        struct.pack("<HHBB", 2, 1, 4, 0))
    put(live, "inject_reply.bin", b"\x03" + struct.pack("<HH", 3, 1))

    # Whole datagrams: in order, a gap, the late one, a duplicate, a second board, a request
    # (foreign), a damaged CRC (bad).
    pk = [packet(STREAM_DATA, b_run, seq=0), packet(STREAM_DATA, b_spikes, seq=1),
          packet(STREAM_DATA, b_energy, seq=3), packet(STREAM_DATA, b_mixed, seq=2),
          packet(STREAM_DATA, b_mixed, seq=2), packet(STREAM_DATA, b_spikes, seq=0, board=1),
          packet(STREAM_START, start, seq=9, flags=8)]
    bad = bytearray(packet(STREAM_DATA, b_run, seq=4))
    bad[-1] ^= 1
    pk.append(bytes(bad))
    put(live, "datagrams.bin", b"\x04" + b"".join(struct.pack("<H", len(p)) + p for p in pk))
    wrapped = b""
    for kind, seq, board, b in [(1, 0, 0, b_run), (1, 1, 0, b_spikes), (1, 5, 0, b_mixed),
                                (1, 2, 0, b_energy), (1, 2, 0, b_energy), (3, 6, 0, b_run),
                                (1, 0, 1, b_spikes), (0x50, 7, 0, start)]:
        wrapped += struct.pack("<BIHH", kind, seq, board, len(b)) + b
    put(live, "wrapped.bin", b"\x05" + wrapped)

    # Frames: link layer byte (enum cap_link: NULL, LOOP, ETHER, SLL, SLL2, RAW), wire-length
    # byte, frame. The UDP payload is a STREAM_DATA packet from port 51647 to 43491.
    dgram = packet(STREAM_DATA, b_spikes, seq=1)

    def ipv4(payload, proto=17, frag=0, options=b""):
        ihl = 5 + len(options) // 4
        hdr = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 1, frag, 64,
                          proto, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + options
        return hdr + payload

    udp = struct.pack(">HHHH", 51647, 43491, 8 + len(dgram), 0) + dgram
    ip = ipv4(udp)
    eth = bytes(12)
    frames = {
        "null_le": (0, 0, struct.pack("<I", 2) + ip),
        "null_be": (0, 0, struct.pack(">I", 2) + ip),
        "loop": (1, 0, struct.pack(">I", 2) + ip),
        "ether": (2, 0, eth + b"\x08\x00" + ip),
        "ether_vlan": (2, 0, eth + b"\x81\x00\x00\x05\x08\x00" + ip),
        "ether_qinq": (2, 0, eth + b"\x88\xa8\x00\x05\x81\x00\x00\x07\x08\x00" + ip),
        "ether_padded": (2, 0, eth + b"\x08\x00" + ipv4(struct.pack(">HHHH", 1, 2, 10, 0) +
                                                        b"ab") + bytes(20)),
        "ether_options": (2, 0, eth + b"\x08\x00" + ipv4(udp, options=b"\x01\x01\x01\x00")),
        "ether_arp": (2, 0, eth + b"\x08\x06" + bytes(28)),
        "ether_ipv6": (2, 0, eth + b"\x86\xdd" + b"\x60" + bytes(47)),
        "ether_tcp": (2, 0, eth + b"\x08\x00" + ipv4(bytes(20), proto=6)),
        "ether_fragment": (2, 0, eth + b"\x08\x00" + ipv4(udp, frag=0x2000)),
        "ether_snapped": (2, 8, (eth + b"\x08\x00" + ip)[:96]),
        "sll": (3, 0, struct.pack(">HHH8sH", 4, 772, 0, bytes(8), 0x0800) + ip),
        "sll2": (4, 0, struct.pack(">HHIHBB8s", 0x0800, 0, 1, 772, 4, 0, bytes(8)) + ip),
        "raw": (5, 0, ip),
        "raw_v6": (5, 0, b"\x60" + bytes(39)),
    }
    for name, (link, wire, frame) in frames.items():
        put(capf, name + ".bin", bytes([link, wire]) + frame)


if __name__ == "__main__":
    main()
