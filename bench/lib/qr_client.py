#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Time C-FIND and C-MOVE round trips on one open association (Study Root).

Usage:
  qr_client.py HOST PORT CALLED_AE find COUNT SECONDS LEVEL KEY=VALUE...
  qr_client.py HOST PORT CALLED_AE move SECONDS DESTINATION_AE STUDY_UID

find: opens one association and sends at most COUNT C-FIND requests (fewer
    when SECONDS run out), each with the same identifier, one after the
    other. A round trip is the time from sending the request to receiving
    the final response, every pending response and its identifier read.
    LEVEL is STUDY, SERIES or IMAGE; KEY is PatientName, StudyDate,
    StudyInstanceUID or SeriesInstanceUID. The identifier also carries the
    level's usual return keys, empty.
    Prints "ok=N failed=N matches=N median_ms=M p99_ms=P min_ms=A max_ms=B"
    where matches counts the pending responses of the last request.
move: sends one C-MOVE of a study to DESTINATION_AE and waits at most
    SECONDS for the final response. Prints "status=XXXX completed=N
    failed=N warning=N seconds=S rate=R" (R in completed instances/s).

The PDU layouts follow PS3.8 section 9.3 and the command sets PS3.7
sections 9.3.2 and 9.3.4; identifiers are Implicit VR Little Endian. The
socket sets TCP_NODELAY, so the client adds no Nagle delay of its own.
"""

import socket
import struct
import sys
import time

from echo_client import (APPLICATION_CONTEXT, IMPLEMENTATION_CLASS, RELEASE_RQ, element,
                         item, read_exact, uid_bytes)

FIND_STUDY_ROOT = b"1.2.840.10008.5.1.4.1.2.2.1"
MOVE_STUDY_ROOT = b"1.2.840.10008.5.1.4.1.2.2.2"
IMPLICIT_LE = b"1.2.840.10008.1.2"
MAX_PDU = 1 << 20
PENDING = (0xFF00, 0xFF01)

KEYS = {
    "PatientName": (0x0010, 0x0010),
    "StudyDate": (0x0008, 0x0020),
    "StudyInstanceUID": (0x0020, 0x000D),
    "SeriesInstanceUID": (0x0020, 0x000E),
}
UID_KEYS = {(0x0020, 0x000D), (0x0020, 0x000E)}
RETURN_KEYS = {
    "STUDY": [(0x0008, 0x0020), (0x0008, 0x0030), (0x0008, 0x0050), (0x0008, 0x1030),
              (0x0010, 0x0010), (0x0010, 0x0020), (0x0020, 0x000D), (0x0020, 0x0010)],
    "SERIES": [(0x0008, 0x0060), (0x0020, 0x000D), (0x0020, 0x000E), (0x0020, 0x0011)],
    "IMAGE": [(0x0008, 0x0016), (0x0008, 0x0018), (0x0020, 0x000D), (0x0020, 0x000E),
              (0x0020, 0x0013)],
}


def associate_rq(called, calling, abstract_syntax):
    presentation = (struct.pack(">BBBB", 1, 0, 0, 0)
                    + item(0x30, abstract_syntax) + item(0x40, IMPLICIT_LE))
    user_info = (item(0x51, struct.pack(">I", MAX_PDU))
                 + item(0x52, IMPLEMENTATION_CLASS))
    body = (struct.pack(">HH", 1, 0)
            + called.ljust(16, b" ") + calling.ljust(16, b" ") + bytes(32)
            + item(0x10, APPLICATION_CONTEXT)
            + item(0x20, presentation)
            + item(0x50, user_info))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def read_pdu(sock):
    pdu_type, _, length = struct.unpack(">BBI", read_exact(sock, 6))
    if length > MAX_PDU + 1024:
        raise ValueError("PDU length %d is larger than the %d announced" % (length, MAX_PDU))
    return pdu_type, read_exact(sock, length)


def padded(tag, value):
    data = value.encode("utf-8")
    if len(data) % 2:
        data += b"\x00" if tag in UID_KEYS else b" "
    return data


def identifier(level, keys):
    """Encode the query keys and the empty return keys of level, in tag order."""
    elements = {(0x0008, 0x0052): padded((0x0008, 0x0052), level)}
    for tag in RETURN_KEYS[level]:
        elements[tag] = b""
    for name, value in keys.items():
        elements[KEYS[name]] = padded(KEYS[name], value)
    if any(ord(c) > 127 for c in "".join(keys.values())):
        elements[(0x0008, 0x0005)] = b"ISO_IR 192"
    return b"".join(element(g, e, elements[(g, e)]) for g, e in sorted(elements))


def command_set(fields):
    rest = b"".join(element(0x0000, e, v) for e, v in sorted(fields.items()))
    return element(0x0000, 0x0000, struct.pack("<I", len(rest))) + rest


def p_data(payload, is_command):
    """One P-DATA-TF with one PDV of presentation context 1, the last fragment."""
    pdv = struct.pack(">IBB", len(payload) + 2, 1, 0x03 if is_command else 0x02) + payload
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def parse_command(command):
    fields = {}
    offset = 0
    while offset + 8 <= len(command):
        group, elem, length = struct.unpack_from("<HHI", command, offset)
        value = command[offset + 8:offset + 8 + length]
        if group == 0 and length in (2, 4):
            fields[elem] = struct.unpack("<H" if length == 2 else "<I", value)[0]
        offset += 8 + length
    return fields


def read_messages(sock):
    """Yield the command fields of each response; consumes their identifiers."""
    command = bytearray()
    expect_data = False
    while True:
        pdu_type, body = read_pdu(sock)
        if pdu_type != 0x04:
            raise ConnectionError("unexpected PDU type 0x%02x during a request" % pdu_type)
        offset = 0
        while offset + 6 <= len(body):
            length, _, control = struct.unpack_from(">IBB", body, offset)
            fragment = body[offset + 6:offset + 4 + length]
            offset += 4 + length
            if control & 0x01:
                command += fragment
                if control & 0x02:
                    fields = parse_command(bytes(command))
                    command.clear()
                    expect_data = fields.get(0x0800, 0x0101) != 0x0101
                    yield fields
            elif expect_data and control & 0x02:
                expect_data = False


def open_association(host, port, called, abstract_syntax):
    sock = socket.create_connection((host, port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(associate_rq(called, b"BENCHQR", abstract_syntax))
    pdu_type, body = read_pdu(sock)
    if pdu_type != 0x02:
        raise ConnectionError("association rejected (PDU type 0x%02x)" % pdu_type)
    offset = 68
    while offset + 4 <= len(body):
        item_type, _, length = struct.unpack_from(">BBH", body, offset)
        if item_type == 0x21 and body[offset + 4] == 1 and body[offset + 6] != 0:
            raise ConnectionError("presentation context rejected, result %d" % body[offset + 6])
        offset += 4 + length
    return sock


def release(sock):
    try:
        sock.sendall(RELEASE_RQ)
        read_pdu(sock)
    except (OSError, ValueError):
        pass
    sock.close()


def one_find(sock, message_id, ident):
    """Send one C-FIND-RQ; return (final status, number of pending responses)."""
    command = command_set({
        0x0002: uid_bytes(FIND_STUDY_ROOT),
        0x0100: struct.pack("<H", 0x0020),
        0x0110: struct.pack("<H", message_id),
        0x0700: struct.pack("<H", 0),
        0x0800: struct.pack("<H", 0x0000),
    })
    sock.sendall(p_data(command, True) + p_data(ident, False))
    pending = 0
    for fields in read_messages(sock):
        status = fields.get(0x0900)
        if status in PENDING:
            pending += 1
            continue
        return status, pending
    return None, pending


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run_find(host, port, called, count, seconds, level, keys):
    ident = identifier(level, keys)
    deadline = time.monotonic() + seconds
    times = []
    failed = matches = 0
    sock = open_association(host, port, called, FIND_STUDY_ROOT)
    try:
        for n in range(count):
            if time.monotonic() >= deadline:
                break
            start = time.perf_counter()
            status, matches = one_find(sock, (n % 65535) + 1, ident)
            elapsed = time.perf_counter() - start
            if status == 0:
                times.append(elapsed * 1000)
            else:
                failed += 1
                sys.stderr.write("qr_client: C-FIND final status %s\n"
                                 % ("none" if status is None else "%04X" % status))
    finally:
        release(sock)
    times.sort()
    if not times:
        print("ok=0 failed=%d matches=0 median_ms=0 p99_ms=0 min_ms=0 max_ms=0" % failed)
        return
    print("ok=%d failed=%d matches=%d median_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f"
          % (len(times), failed, matches, percentile(times, 0.5), percentile(times, 0.99),
             times[0], times[-1]))


def run_move(host, port, called, seconds, destination, study_uid):
    ident = identifier("STUDY", {"StudyInstanceUID": study_uid})
    command = command_set({
        0x0002: uid_bytes(MOVE_STUDY_ROOT),
        0x0100: struct.pack("<H", 0x0021),
        0x0110: struct.pack("<H", 1),
        0x0600: destination.ljust(16, b" "),
        0x0700: struct.pack("<H", 0),
        0x0800: struct.pack("<H", 0x0000),
    })
    sock = open_association(host, port, called, MOVE_STUDY_ROOT)
    sock.settimeout(seconds)
    fields = {}
    start = time.perf_counter()
    try:
        sock.sendall(p_data(command, True) + p_data(ident, False))
        for fields in read_messages(sock):
            if fields.get(0x0900) not in PENDING:
                break
    finally:
        elapsed = time.perf_counter() - start
        release(sock)
    completed = fields.get(0x1021, 0)
    print("status=%04X completed=%d failed=%d warning=%d seconds=%.3f rate=%.1f"
          % (fields.get(0x0900, 0xFFFF), completed, fields.get(0x1022, 0),
             fields.get(0x1023, 0), elapsed, completed / elapsed))


def main(argv):
    if len(argv) >= 8 and argv[4] == "find":
        keys = dict(arg.split("=", 1) for arg in argv[8:])
        if argv[7] not in RETURN_KEYS or any(k not in KEYS for k in keys):
            sys.stderr.write(__doc__)
            return 2
        run_find(argv[1], int(argv[2]), argv[3].encode(), int(argv[5]), float(argv[6]),
                 argv[7], keys)
    elif len(argv) == 8 and argv[4] == "move":
        run_move(argv[1], int(argv[2]), argv[3].encode(), float(argv[5]), argv[6].encode(),
                 argv[7])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
