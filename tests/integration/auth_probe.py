#!/usr/bin/env python3
"""Probe a board's guard (docs/protocol.md 2.3) with datagrams made independently of s2's C
code: Python's hashlib BLAKE2b makes the tag. Prints one JSON object.

  auth_probe.py HOST PORT BOARD KEYFILE replay   a valid MEM_READ; its reply's tag checked;
                                                 then the same bytes from another socket
  auth_probe.py HOST PORT BOARD KEYFILE forge    a MEM_READ tagged with a random key
  auth_probe.py HOST PORT BOARD KEYFILE stale    a valid MEM_READ of a session older than
                                                 every session the board has forgotten (it
                                                 is answered S2_E_STALE, under the key)
  auth_probe.py HOST PORT BOARD KEYFILE bulk     bulk writes to chip 0 opened by an
                                                 authenticated BULK_BEGIN: blocks that match
                                                 the CRC but not the hash; no hash; the truth
"""
import hashlib
import json
import os
import socket
import struct
import sys
import time
import zlib

MAGIC, AUTH, REPLY, ERROR = 0x504E3253, 4, 1, 2
MEM_READ = 0x11


def key_of(path):
    # The key section is the file's last 40 bytes: id u32, role u8, 3 zero, secret (32).
    data = open(path, "rb").read()
    kid, role = struct.unpack_from("<IB", data, len(data) - 40)
    return kid, data[-32:]


def tag_of(key, dgram):
    return hashlib.blake2b(dgram[:20] + dgram[40:], key=key, digest_size=16).digest()


def request(key, kid, board, session, counter, seq, mtype=MEM_READ, chip=0xFFFF, body=None):
    if body is None:
        body = struct.pack("<BxxxIHxx", 0, 0x1000, 8)  # MEM_READ DRAM 0x1000, 8 bytes
    payload = body + struct.pack("<IIQ", kid, counter, session)
    hdr = struct.pack("<IBBHIHHBBHI", MAGIC, 1, mtype, AUTH, seq, board, chip, 0xFF, 0,
                      len(payload), 0)
    d = bytearray(hdr + bytes(16) + payload)
    d[24:40] = tag_of(key, bytes(d))
    d[20:24] = struct.pack("<I", zlib.crc32(bytes(d)))
    return bytes(d)


def plain(mtype, board, chip, body):
    hdr = struct.pack("<IBBHIHHBBHI", MAGIC, 1, mtype, 0, 0, board, chip, 0xFF, 0, len(body), 0)
    d = bytearray(hdr + bytes(16) + body)
    d[20:24] = struct.pack("<I", zlib.crc32(bytes(d)))
    return bytes(d)


def status_of(sock, seq):
    """The status of the reply with this seq (0, a negative code, or None: no reply)."""
    while True:
        try:
            rep = sock.recv(2048)
        except socket.timeout:
            return None
        rtype, flags, rseq = struct.unpack_from("<BHI", rep, 5)
        if not flags & REPLY or rseq != seq:
            continue  # a BULK_SACK
        if flags & ERROR:
            return struct.unpack_from("<i", rep, 40)[0]
        return 0


def bulk(key, kid, board, addr, session):
    """Returns the statuses of three bulk writes of 64 bytes to chip 0's DRAM."""
    genuine = bytes(range(64))
    forged = bytes(255 - i for i in range(64))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    out, counter, seq = {}, 0, 1000
    for name, data, hashed in (("crc_matches_hash_not", forged, genuine),
                               ("no_hash", genuine, None), ("genuine", genuine, genuine)):
        region = seq
        counter += 1
        seq += 1
        begin = struct.pack("<IBxxxIIIHxx", region, 0, 0x200000, 64, zlib.crc32(data), 64)
        s.sendto(request(key, kid, board, session, counter, seq, 0x40, 0, begin), addr)
        if status_of(s, seq) != 0:
            out[name] = "BULK_BEGIN refused"
            continue
        blk = struct.pack("<IIHBxI", region, 0, 64, 0, zlib.crc32(data)) + data
        s.sendto(plain(0x41, board, 0, blk), addr)  # blocks are never tagged
        time.sleep(0.05)
        end = struct.pack("<I", region)
        if hashed is not None:
            end += hashlib.blake2b(hashed, digest_size=32).digest()
        counter += 1
        seq += 1
        s.sendto(request(key, kid, board, session, counter, seq, 0x44, 0, end), addr)
        out[name] = status_of(s, seq)
    s.close()
    return out


def ask(dgram, addr, wait=0.5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.sendto(dgram, addr)
    try:
        return s.recv(2048)
    except socket.timeout:
        return None
    finally:
        s.close()


def reply_ok(key, rep, counter, session):
    if rep is None or len(rep) < 56:
        return False
    flags = struct.unpack_from("<H", rep, 6)[0]
    if not flags & AUTH or flags & ERROR or not flags & REPLY:
        return False
    kid, ctr, sess = struct.unpack_from("<IIQ", rep, len(rep) - 16)
    return ctr == counter and sess == session and rep[24:40] == tag_of(key, rep)


def main():
    host, port, board, keyfile, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        sys.argv[4], sys.argv[5]
    kid, key = key_of(keyfile)
    addr = (host, port)
    session = (int(time.time() * 1e6) << 12) | (os.getpid() & 0xFFF)
    out = {"mode": mode}
    if mode == "replay":
        d = request(key, kid, board, session, 1, 77)
        rep = ask(d, addr)
        out["first_answered_authentic"] = reply_ok(key, rep, 1, session)
        out["replay_answered"] = ask(d, addr) is not None
    elif mode == "forge":
        d = request(os.urandom(32), kid, board, session, 1, 78)
        out["forged_answered"] = ask(d, addr) is not None
    elif mode == "stale":
        # Twice the table of newer sessions: every older one is forgotten, and so is one
        # older than all of them (at or below the floor).
        for i in range(33):
            ask(request(key, kid, board, session + 4096 * (i + 1), 1, 100 + i), addr)
        rep = ask(request(key, kid, board, session - 4096, 1, 99), addr)
        # The answer: S2_E_STALE (-20), authenticated with the request's key and trailer.
        out["stale_status"] = None if rep is None else struct.unpack_from("<i", rep, 40)[0]
        out["stale_reply_authentic"] = rep is not None and rep[24:40] == tag_of(key, rep)
    elif mode == "bulk":
        out.update(bulk(key, kid, board, addr, session))
    print(json.dumps(out))


main()
