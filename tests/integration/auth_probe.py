#!/usr/bin/env python3
"""Probe a board's guard (docs/protocol.md 2.3) with datagrams made independently of s2's C
code: Python's hashlib BLAKE2b makes the tag. Prints one JSON object.

  auth_probe.py HOST PORT BOARD KEYFILE replay   a valid MEM_READ; its reply's tag checked;
                                                 then the same bytes from another socket
  auth_probe.py HOST PORT BOARD KEYFILE forge    a MEM_READ tagged with a random key
  auth_probe.py HOST PORT BOARD KEYFILE stale    a valid MEM_READ of a session older than
                                                 every session the board has forgotten
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


def request(key, kid, board, session, counter, seq):
    body = struct.pack("<BxxxIHxx", 0, 0x1000, 8)  # MEM_READ DRAM 0x1000, 8 bytes
    payload = body + struct.pack("<IIQ", kid, counter, session)
    hdr = struct.pack("<IBBHIHHBBHI", MAGIC, 1, MEM_READ, AUTH, seq, board, 0xFFFF, 0xFF, 0,
                      len(payload), 0)
    d = bytearray(hdr + bytes(16) + payload)
    d[24:40] = tag_of(key, bytes(d))
    d[20:24] = struct.pack("<I", zlib.crc32(bytes(d)))
    return bytes(d)


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
        out["stale_answered"] = ask(request(key, kid, board, session - 4096, 1, 99),
                                    addr) is not None
    print(json.dumps(out))


main()
