#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Time qr_client.py's own share of a C-FIND round trip.

Usage:
  qr_floor.py HOST PORT CALLED_AE COUNT LEVEL [--pending N] KEY=VALUE...

Sends one C-FIND (same identifier as qr_client.py find) to the server at
HOST:PORT and records the bytes of its responses. A stand-in server in a
child process, on a free loopback port, then replies to each request
with those bytes in one write, as soon as the request's two PDUs have
arrived. qr_client.py's round trip to it is timed COUNT times. --pending keeps
only the first N pending responses and the final one. The result is the
time the client and the loopback connection need, with a server that
takes none: a floor under every server's round trip.
Prints "responses=N bytes=B median_ms=M p99_ms=P".
"""

import multiprocessing
import socket
import struct
import sys
import time

import qr_client
from echo_client import read_exact


def record(host, port, called, ident):
    """Returns the bytes of every response to one C-FIND."""
    received = bytearray()
    original = qr_client.read_exact

    def recording_read(sock, n):
        data = original(sock, n)
        received.extend(data)
        return data

    sock = qr_client.open_association(host, port, called, qr_client.FIND_STUDY_ROOT)
    qr_client.read_exact = recording_read
    try:
        qr_client.one_find(sock, 1, ident)
    finally:
        qr_client.read_exact = original
        qr_client.release(sock)
    return bytes(received)


def split_pdus(data):
    pdus = []
    offset = 0
    while offset + 6 <= len(data):
        length = struct.unpack_from(">I", data, offset + 2)[0]
        pdus.append(data[offset:offset + 6 + length])
        offset += 6 + length
    return pdus


def keep_pending(responses, pending):
    """Keeps the first pending (command, data set) PDU pairs and the final command PDU."""
    pdus = split_pdus(responses)
    return b"".join(pdus[:2 * pending] + pdus[-1:])


def stand_in(listener, responses):
    """Replies to each request (a command PDU and a data set PDU) with responses."""
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            for _ in range(2):
                length = struct.unpack(">BBI", read_exact(conn, 6))[2]
                read_exact(conn, length)
            conn.sendall(responses)
    except (ConnectionError, OSError):
        pass


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    host, port, called, count, level = argv[1], int(argv[2]), argv[3].encode(), int(argv[4]), argv[5]
    rest = argv[6:]
    pending = None
    if len(rest) >= 2 and rest[0] == "--pending":
        pending = int(rest[1])
        rest = rest[2:]
    keys = dict(arg.split("=", 1) for arg in rest)
    if level not in qr_client.RETURN_KEYS or any(k not in qr_client.KEYS for k in keys):
        sys.stderr.write(__doc__)
        return 2

    ident = qr_client.identifier(level, keys)
    responses = record(host, port, called, ident)
    if pending is not None:
        responses = keep_pending(responses, pending)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    child = multiprocessing.Process(target=stand_in, args=(listener, responses), daemon=True)
    child.start()
    # A timeout, as in qr_client.open_association: each recv then polls first.
    sock = socket.create_connection(listener.getsockname(), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    matches = 0
    try:
        for n in range(count):
            start = time.perf_counter()
            _, matches = qr_client.one_find(sock, (n % 65535) + 1, ident)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        sock.close()
        child.terminate()
        child.join()

    times.sort()
    print("responses=%d bytes=%d median_ms=%.3f p99_ms=%.3f"
          % (matches, len(responses), qr_client.percentile(times, 0.5),
             qr_client.percentile(times, 0.99)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
