#!/usr/bin/env python3
"""Seed corpora for the fuzz targets of files in the s2 container (docs/files.md):
sfile, results, machine_file, netfile. Each gets whole files written by s2 itself and their
"wrapped" form (0x01, then the sections' contents separated by |#|; see fuzz_wrap.h), which the
harness puts back into a valid container so that the fuzzer reaches the content decoders.

    tests/fuzz/gen_files_corpus.py BUILD_DIR   (e.g. build/host-debug)
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = b"|#|"


def sections(b):
    """(kind, version, [(name, bytes)]) of a container (no checks: s2 wrote it)."""
    assert b[:4] == b"S2FC", "not a container"
    _, ver, kind, n, _, tlen, _ = struct.unpack_from("<HH4sIQII", b, 4)
    out, t, o = [], 32, 32 + tlen
    for _ in range(n):
        ln, _, nl = struct.unpack_from("<QIB", b, t)
        out.append((b[t + 13:t + 13 + nl].decode(), b[o:o + ln]))
        t += 13 + nl
        o += ln
    return kind, ver, out


def wrapped(b):
    return b"\x01" + SEP.join(data for _, data in sections(b)[2])


def sum_record(data, chunk=1 << 20):
    """What s2_file_sum_write writes for data (docs/files.md): kind SUMS, sections chunks and file."""
    crcs = b"".join(struct.pack("<I", zlib.crc32(data[i:i + chunk]))
                    for i in range(0, len(data), chunk))
    secs = [(b"chunks", crcs), (b"file", struct.pack("<QI", len(data), chunk))]
    table = b"".join(struct.pack("<QIB", len(d), zlib.crc32(d), len(n)) + n for n, d in secs)
    total = 32 + len(table) + sum(len(d) for _, d in secs)
    head = b"S2FC" + struct.pack("<HH4sIQI", 1, 1, b"SUMS", len(secs), total, len(table))
    return head + struct.pack("<I", zlib.crc32(head + table)) + table + b"".join(d for _, d in secs)


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/host-debug")
    s2ctl = os.path.join(build, "host", "s2ctl")
    s2fw = os.path.join(build, "tools", "s2fw-run")
    w = tempfile.mkdtemp(prefix="s2corpus.")

    def run(*a):
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL)

    def read(name):
        with open(os.path.join(w, name), "rb") as f:
            return f.read()

    run(s2ctl, "machine", "generate", "--boards", "1", "-o", os.path.join(w, "m1.pb"), "--quiet")
    run(s2ctl, "machine", "generate", "--boards", "3", "--base-port", "30000",
        "-o", os.path.join(w, "m3.pb"), "--quiet")
    run(s2ctl, "net", "example", "vogels_abbott", "--scale", "0.01", "-o",
        os.path.join(w, "va.pb"), "--quiet")
    run(s2ctl, "net", "example", "brunel", "--scale", "0.005", "-o",
        os.path.join(w, "brunel.pb"), "--quiet")
    run(s2ctl, "net", "convert", os.path.join(w, "va.pb"), "--to", "json", "-o",
        os.path.join(w, "va.json"), "--quiet")
    run(s2ctl, "compile", os.path.join(w, "va.pb"), "--machine", os.path.join(w, "m1.pb"),
        "-o", os.path.join(w, "va.s2img"), "--quiet")
    run(s2fw, "image", os.path.join(w, "va.s2img"), "--duration", "20", "-o",
        os.path.join(w, "va.s2res"))

    for f in ("m1.pb", "m3.pb"):
        put("machine_file", f, read(f))
        put("machine_file", f + ".wrapped", wrapped(read(f)))
    for f in ("va.pb", "brunel.pb"):
        put("netfile", f, read(f))
        put("netfile", f + ".wrapped", wrapped(read(f)))
    put("netfile", "va.json", read("va.json"))
    res = read("va.s2res")
    put("results", "va.s2res", res)
    put("results", "va.s2res.wrapped", wrapped(res))
    # The same run recorded as partial: board 0 stopped answering at step 120.
    _, _, secs = sections(res)
    run_sec = bytearray(secs[0][1])
    struct.pack_into("<I", run_sec, 20, 0)  # flags: not complete
    reason = b"no answer at run"
    boards = struct.pack("<IIIH", 0, 2, 120, len(reason)) + reason
    parts = [bytes(run_sec), boards] + [d for _, d in secs[2:]]
    put("results", "partial.wrapped", b"\x01" + SEP.join(parts))
    # Format 3 as s2 wrote it before the real-time budget (0x03: wrapped as format 3): up to
    # "plastic"; format 2 as older s2 wrote it (0x02: wrapped as format 2): up to "clipping".
    put("results", "va.f3.wrapped", b"\x03" + SEP.join(d for _, d in secs[:-1]))
    put("results", "va.f2.wrapped", b"\x02" + SEP.join(d for _, d in secs[:-2]))
    for f in ("m3.pb", "va.pb", "va.s2res"):
        put("sfile", f, read(f))
    # A checksum record of the 3000 bytes fuzz_sumrec checks against (byte i = 7i mod 256).
    with open(os.path.join(w, "data"), "wb") as f:
        f.write(bytes((i * 7) % 256 for i in range(3000)))
    with open(os.path.join(w, "data.s2sum"), "wb") as f:
        f.write(sum_record(read("data")))
    put("sumrec", "data.s2sum", read("data.s2sum"))
    put("sumrec", "data.s2sum.wrapped", wrapped(read("data.s2sum")))
    subprocess.run(["rm", "-rf", w], check=True)


if __name__ == "__main__":
    main()
