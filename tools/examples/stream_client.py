#!/usr/bin/env python3
"""stream_client.py: an example application of `s2ctl stream --serve` in Python 3.

It connects to the server, reads the framed StreamMessages of proto/pb/stream.proto (a u32
little-endian length, then the message) and prints them as `s2ctl stream` prints its text:
spikes as "STEP POPULATION NEURON" lines, energy samples and run events as '#' lines, then the
Summary; the same lines as tools/examples/stream_client.c. A frame over 16 MiB, a message that
does not decode or a connection that ends before the Summary is an error (exit 1).

    stream_client.py [--slow-ms N] [--count] unix:PATH | tcp:HOST:PORT

Needs Debian's python3-protobuf and stream_pb2.py, which the build generates next to a copy of
this script (BUILD/tools/examples/) when protoc is installed; by hand:
    protoc --proto_path=proto/pb --python_out=DIR proto/pb/stream.proto   # DIR on PYTHONPATH
"""
import argparse
import os
import socket
import struct
import sys
import time

MAX_FRAME = 16 << 20  # the schema's limit: a longer frame is an error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import stream_pb2
except ImportError as e:
    sys.exit("stream_client.py: cannot import stream_pb2 (%s): generate it with protoc "
             "--python_out (see --help) and install python3-protobuf" % e)


class StreamError(Exception):
    pass


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
        return s
    if addr.startswith("tcp:"):
        host, _, port = addr[4:].rpartition(":")
        if not host or not port.isdigit():
            raise StreamError("%s: expected tcp:HOST:PORT" % addr)
        return socket.create_connection((host.strip("[]"), int(port)))
    raise StreamError("%s: expected unix:PATH or tcp:HOST:PORT" % addr)


def read_exact(f, n):
    """n bytes from f, or b"" at a clean end of the stream before the first byte."""
    data = f.read(n)
    if 0 < len(data) < n:
        raise StreamError("connection closed inside a frame")
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("address", help="unix:PATH or tcp:HOST:PORT")
    ap.add_argument("--slow-ms", type=int, default=0, help="sleep N ms after each message")
    ap.add_argument("--count", action="store_true", help="print only the totals")
    a = ap.parse_args()
    out = sys.stdout
    hello = None
    n_msgs = spikes = energy = events = drop_msgs = drop_spikes = 0
    sock = connect(a.address)
    f = sock.makefile("rb")
    try:
        while True:
            hdr = read_exact(f, 4)
            if not hdr:
                raise StreamError("%s closed the stream before its Summary" % a.address)
            (length,) = struct.unpack("<I", hdr)
            if length > MAX_FRAME:
                raise StreamError("message %d: frame of %d bytes, over the %d-byte limit"
                                  % (n_msgs, length, MAX_FRAME))
            body = read_exact(f, length) if length else b""
            if len(body) < length:
                raise StreamError("connection closed inside a frame")
            m = stream_pb2.StreamMessage()
            try:
                m.ParseFromString(body)
            except Exception as e:  # google.protobuf.message.DecodeError
                raise StreamError("message %d (%d bytes): not a StreamMessage: %s"
                                  % (n_msgs, length, e))
            kind = m.WhichOneof("msg")
            if hello is None and kind != "hello":
                raise StreamError("message %d came before the Hello" % n_msgs)
            n_msgs += 1
            if kind == "hello":
                if hello is not None:
                    raise StreamError("a second Hello (message %d)" % (n_msgs - 1))
                hello = m.hello
                if not a.count:
                    out.write("# hello version %d timestep_ms %g populations %d\n"
                              % (hello.version, hello.timestep_ms, len(hello.populations)))
                out.flush()  # connected: visible at once, even in a file
            elif kind == "spikes":
                s = m.spikes
                if not len(s.pop) == len(s.neuron) == len(s.step):
                    raise StreamError("message %d: Spikes columns of %d, %d and %d entries"
                                      % (n_msgs - 1, len(s.pop), len(s.neuron), len(s.step)))
                spikes += len(s.pop)
                if not a.count:
                    labels = hello.populations
                    out.write("".join("%d %s %d\n" % (st, labels[p] if p < len(labels) else "?",
                                                      n)
                                      for p, n, st in zip(s.pop, s.neuron, s.step)))
            elif kind == "energy":
                e = m.energy
                energy += 1
                if not a.count:
                    names = list(hello.counters)
                    names += ["counter%d" % k for k in range(len(names), len(e.counters))]
                    out.write("# energy board %d chip %d step %d time_us %d%s\n"
                              % (e.board, e.chip, e.step, e.time_us,
                                 "".join(" %s %d" % (names[k], v)
                                         for k, v in enumerate(e.counters))))
            elif kind == "event":
                ev = m.event
                events += 1
                if not a.count:
                    out.write("# event board %d %s step %d time_us %d\n"
                              % (ev.board, ev.event, ev.step, ev.time_us))
            elif kind == "drops":
                drop_msgs, drop_spikes = m.drops.messages, m.drops.spikes
                if not a.count:
                    out.write("# drops messages %d spikes %d\n" % (drop_msgs, drop_spikes))
            elif kind == "summary":
                s = m.summary
                drop_msgs, drop_spikes = s.drops.messages, s.drops.spikes
                fields = ["packets", "bytes", "spikes", "energy_samples", "events", "lost",
                          "late", "duplicates", "stale", "bad", "foreign", "unknown_source",
                          "board_dropped", "rx_errors", "sent_messages", "sent_spikes"]
                out.write("# summary %s dropped_messages %d dropped_spikes %d\n"
                          % (" ".join("%s %d" % (k, getattr(s, k)) for k in fields),
                             drop_msgs, drop_spikes))
                if s.sent_spikes != spikes:
                    raise StreamError("the server says it sent %d spikes, %d arrived"
                                      % (s.sent_spikes, spikes))
                break
            else:
                raise StreamError("message %d: no known field set" % (n_msgs - 1))
            if a.slow_ms:
                time.sleep(a.slow_ms / 1000.0)
    finally:
        if a.count:
            out.write("# totals messages %d spikes %d energy %d events %d dropped_messages %d "
                      "dropped_spikes %d\n"
                      % (n_msgs, spikes, energy, events, drop_msgs, drop_spikes))
        out.flush()
        f.close()
        sock.close()


if __name__ == "__main__":
    try:
        main()
    except (StreamError, OSError) as e:
        sys.exit("stream_client.py: %s" % e)
