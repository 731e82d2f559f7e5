#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Measure association rate with an in-process client: associate, C-ECHO, release.

Usage: echo_client.py HOST PORT CALLED_AE CLIENTS COUNT SECONDS

CLIENTS processes each run at most COUNT associations, and stop at the
SECONDS deadline. Each association sends A-ASSOCIATE-RQ with one presentation
context (Verification, Implicit VR Little Endian), one C-ECHO-RQ, then
A-RELEASE-RQ, and counts as done only when the C-ECHO-RSP status is 0000 and
A-RELEASE-RP arrived. PDU layouts follow PS3.8 section 9.3, the command set
PS3.7 section 9.3.5. The socket sets TCP_NODELAY.
Prints one line: "ok=N failed=N seconds=S rate=R" (R in associations/s).
"""

import multiprocessing
import socket
import struct
import sys
import time

VERIFICATION = b"1.2.840.10008.1.1"
IMPLICIT_LE = b"1.2.840.10008.1.2"
APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS = b"1.2.826.0.1.3680043.10.999.1"


def uid_bytes(uid):
    """Pad a UID to even length with NUL, as PS3.5 requires for UI values."""
    return uid + b"\x00" if len(uid) % 2 else uid


def item(item_type, payload):
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def associate_rq(called, calling):
    presentation = (struct.pack(">BBBB", 1, 0, 0, 0)
                    + item(0x30, VERIFICATION) + item(0x40, IMPLICIT_LE))
    user_info = (item(0x51, struct.pack(">I", 16384))
                 + item(0x52, IMPLEMENTATION_CLASS))
    body = (struct.pack(">HH", 1, 0)
            + called.ljust(16, b" ") + calling.ljust(16, b" ") + bytes(32)
            + item(0x10, APPLICATION_CONTEXT)
            + item(0x20, presentation)
            + item(0x50, user_info))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def element(group, elem, value):
    """Encode one implicit VR little endian element."""
    return struct.pack("<HHI", group, elem, len(value)) + value


def echo_rq(message_id):
    rest = (element(0x0000, 0x0002, uid_bytes(VERIFICATION))
            + element(0x0000, 0x0100, struct.pack("<H", 0x0030))
            + element(0x0000, 0x0110, struct.pack("<H", message_id))
            + element(0x0000, 0x0800, struct.pack("<H", 0x0101)))
    command = element(0x0000, 0x0000, struct.pack("<I", len(rest))) + rest
    # One PDV: presentation context 1, message control header 0x03 (command, last).
    pdv = struct.pack(">IBB", len(command) + 2, 1, 0x03) + command
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


RELEASE_RQ = struct.pack(">BBII", 0x05, 0, 4, 0)


def read_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        data += chunk
    return bytes(data)


def read_pdu(sock):
    header = read_exact(sock, 6)
    pdu_type, _, length = struct.unpack(">BBI", header)
    if length > 1 << 20:
        raise ValueError("PDU length %d too large" % length)
    return pdu_type, read_exact(sock, length)


def accepted_context(body):
    """Return True when the A-ASSOCIATE-AC accepts presentation context 1."""
    offset = 68
    while offset + 4 <= len(body):
        item_type, _, length = struct.unpack_from(">BBH", body, offset)
        if item_type == 0x21 and offset + 8 <= len(body):
            context_id, _, result = struct.unpack_from(">BBB", body, offset + 4)
            if context_id == 1:
                return result == 0
        offset += 4 + length
    return False


def echo_status(body):
    """Return the Status (0000,0900) of the C-ECHO-RSP in one P-DATA-TF, or None."""
    if len(body) < 6:
        return None
    pdv_length = struct.unpack_from(">I", body, 0)[0]
    command = body[6:4 + pdv_length]
    offset = 0
    while offset + 8 <= len(command):
        group, elem, length = struct.unpack_from("<HHI", command, offset)
        if (group, elem) == (0x0000, 0x0900) and length == 2:
            return struct.unpack_from("<H", command, offset + 8)[0]
        offset += 8 + length
    return None


def one_association(host, port, called):
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(associate_rq(called, b"BENCHRAW"))
        pdu_type, body = read_pdu(sock)
        if pdu_type != 0x02 or not accepted_context(body):
            return False

        sock.sendall(echo_rq(1))
        pdu_type, body = read_pdu(sock)
        if pdu_type != 0x04 or echo_status(body) != 0:
            return False

        sock.sendall(RELEASE_RQ)
        pdu_type, _ = read_pdu(sock)
        return pdu_type == 0x06


def worker(host, port, called, count, deadline, results):
    ok = failed = 0
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        try:
            if one_association(host, port, called):
                ok += 1
            else:
                failed += 1
        except (OSError, ValueError, struct.error):
            failed += 1
    results.put((ok, failed))


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    host, port, called = argv[1], int(argv[2]), argv[3].encode()
    clients, count, seconds = int(argv[4]), int(argv[5]), float(argv[6])

    results = multiprocessing.Queue()
    start = time.monotonic()
    deadline = start + seconds
    workers = [multiprocessing.Process(target=worker,
                                       args=(host, port, called, count, deadline, results))
               for _ in range(clients)]
    for process in workers:
        process.start()
    totals = [results.get(timeout=seconds + 30) for _ in workers]
    for process in workers:
        process.join()
    elapsed = time.monotonic() - start

    ok = sum(t[0] for t in totals)
    failed = sum(t[1] for t in totals)
    print("ok=%d failed=%d seconds=%.3f rate=%.1f" % (ok, failed, elapsed, ok / elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
