#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Minimal C-STORE SCU on raw sockets, for the interop tests.

It sends the data set of a DICOM file byte for byte as it is in the file
after the File Meta Information, without re-encoding it. So the tests
can send truncated or inconsistent instances that a real toolkit would
refuse to send. Options change the C-STORE request or the data set to
make the bad cases. It prints the
response as "status=0xXXXX" and "comment=TEXT" lines.

Exit status: 0 when a C-STORE response arrived, 2 when the association
was rejected or aborted or the connection closed, 1 on a usage error.
Standard library only.
"""

import argparse
import random
import socket
import struct
import sys

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS_UID = b"1.2.826.0.1.3680043.9.7433.99.1"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
# Explicit VRs with a 2-byte reserved field and a 4-byte length.
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
MAX_PDU_RECEIVE = 16384


class PeerClosed(Exception):
    """The peer rejected, aborted or closed the association."""


def read_file(path):
    """Return (transfer syntax, SOP class, SOP instance, data set bytes) of a DICOM file."""
    data = open(path, "rb").read()
    pos = 132 if data[128:132] == b"DICM" else 0
    meta = {}

    # The File Meta Information is always explicit VR little endian.
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
        group, element = struct.unpack_from("<HH", data, pos)
        vr = data[pos + 4:pos + 6]
        if vr in LONG_VRS:
            length = struct.unpack_from("<I", data, pos + 8)[0]
            value_start = pos + 12
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            value_start = pos + 8
        meta[element] = data[value_start:value_start + length].rstrip(b"\0 ").decode("ascii", "replace")
        pos = value_start + length

    data_set = data[pos:]
    transfer_syntax = meta.get(0x0010) or guess_transfer_syntax(data_set)
    # The data set's own UIDs first: some files' meta header disagrees with them.
    sop_class = top_level_uid(data_set, transfer_syntax, 0x0016) or meta.get(0x0002)
    sop_instance = top_level_uid(data_set, transfer_syntax, 0x0018) or meta.get(0x0003)
    return transfer_syntax, sop_class, sop_instance, data_set


def guess_transfer_syntax(data_set):
    """Tell explicit from implicit VR little endian by the first element."""
    if len(data_set) >= 6 and data_set[4:6].isalpha() and data_set[4:6].isupper():
        return EXPLICIT_VR_LITTLE_ENDIAN
    return IMPLICIT_VR_LITTLE_ENDIAN


def top_level_uid(data_set, transfer_syntax, element_number):
    """Return the value of (0008,element_number) of a little endian data set, or "" if not found."""
    if transfer_syntax == EXPLICIT_VR_BIG_ENDIAN:
        return ""
    explicit = transfer_syntax != IMPLICIT_VR_LITTLE_ENDIAN
    pos = 0
    while pos + 8 <= len(data_set):
        group, element = struct.unpack_from("<HH", data_set, pos)
        if explicit and data_set[pos + 4:pos + 6] in LONG_VRS:
            length = struct.unpack_from("<I", data_set, pos + 8)[0]
            value_start = pos + 12
        elif explicit:
            length = struct.unpack_from("<H", data_set, pos + 6)[0]
            value_start = pos + 8
        else:
            length = struct.unpack_from("<I", data_set, pos + 4)[0]
            value_start = pos + 8
        if (group, element) == (0x0008, element_number):
            return data_set[value_start:value_start + length].rstrip(b"\0 ").decode("ascii", "replace")
        if group > 0x0008 or length == 0xFFFFFFFF:
            return ""
        pos = value_start + length
    return ""


def item(item_type, payload):
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def pdu(pdu_type, payload):
    return struct.pack(">BBI", pdu_type, 0, len(payload)) + payload


def associate_rq(called, calling, sop_class, transfer_syntax):
    """Build an A-ASSOCIATE-RQ with one presentation context (ID 1)."""
    context = (struct.pack(">BBBB", 1, 0, 0, 0)
               + item(0x30, sop_class.encode("ascii"))
               + item(0x40, transfer_syntax.encode("ascii")))
    user_information = (item(0x51, struct.pack(">I", MAX_PDU_RECEIVE))
                        + item(0x52, IMPLEMENTATION_CLASS_UID)
                        + item(0x55, b"RAW_CLIENT"))
    header = (struct.pack(">HH", 1, 0)
              + called.encode("ascii").ljust(16)
              + calling.encode("ascii").ljust(16)
              + bytes(32))
    return pdu(0x01, header
               + item(0x10, APPLICATION_CONTEXT)
               + item(0x20, context)
               + item(0x50, user_information))


def receive_exactly(sock, count):
    chunks = []
    while count > 0:
        chunk = sock.recv(count)
        if not chunk:
            raise PeerClosed("connection closed by the peer")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def receive_pdu(sock):
    pdu_type, _, length = struct.unpack(">BBI", receive_exactly(sock, 6))
    return pdu_type, receive_exactly(sock, length)


def parse_associate_ac(payload):
    """Return (context accepted?, peer maximum PDU length) from an A-ASSOCIATE-AC."""
    accepted = False
    peer_max = 0
    pos = 68
    while pos + 4 <= len(payload):
        item_type, _, length = struct.unpack_from(">BBH", payload, pos)
        body = payload[pos + 4:pos + 4 + length]
        if item_type == 0x21 and len(body) >= 4 and body[0] == 1 and body[2] == 0:
            accepted = True
        if item_type == 0x50:
            sub = 0
            while sub + 4 <= len(body):
                sub_type, _, sub_length = struct.unpack_from(">BBH", body, sub)
                if sub_type == 0x51 and sub_length == 4:
                    peer_max = struct.unpack_from(">I", body, sub + 4)[0]
                sub += 4 + sub_length
        pos += 4 + length
    return accepted, peer_max


def implicit_element(group, element, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, element, len(value)) + value


def c_store_rq(sop_class, sop_instance, message_id):
    """Build a C-STORE-RQ command set in implicit VR little endian."""
    body = implicit_element(0x0000, 0x0002, sop_class.encode("ascii"))
    body += implicit_element(0x0000, 0x0100, struct.pack("<H", 0x0001))
    body += implicit_element(0x0000, 0x0110, struct.pack("<H", message_id))
    body += implicit_element(0x0000, 0x0700, struct.pack("<H", 0))
    body += implicit_element(0x0000, 0x0800, struct.pack("<H", 0x0000))
    if sop_instance is not None:
        body += implicit_element(0x0000, 0x1000, sop_instance.encode("ascii"))
    return implicit_element(0x0000, 0x0000, struct.pack("<I", len(body))) + body


def send_pdvs(sock, payload, is_command, max_fragment):
    """Send payload as P-DATA-TF PDUs on context 1, one PDV each."""
    offset = 0
    while True:
        fragment = payload[offset:offset + max_fragment]
        offset += len(fragment)
        last = offset >= len(payload)
        control = 0x01 if is_command else 0x00
        if last:
            control |= 0x02
        pdv = struct.pack(">IBB", len(fragment) + 2, 1, control) + fragment
        sock.sendall(pdu(0x04, pdv))
        if last:
            return


def receive_command(sock):
    """Collect the command PDVs of one DIMSE response and return its bytes."""
    command = b""
    while True:
        pdu_type, payload = receive_pdu(sock)
        if pdu_type != 0x04:
            raise PeerClosed("received PDU type 0x%02x instead of P-DATA-TF" % pdu_type)
        pos = 0
        while pos + 6 <= len(payload):
            length, _, control = struct.unpack_from(">IBB", payload, pos)
            command += payload[pos + 6:pos + 4 + length]
            pos += 4 + length
            if control & 0x03 == 0x03:
                return command


def parse_response(command):
    """Return (status, error comment) of an implicit VR little endian command set."""
    status, comment = None, ""
    pos = 0
    while pos + 8 <= len(command):
        group, element, length = struct.unpack_from("<HHI", command, pos)
        value = command[pos + 8:pos + 8 + length]
        if (group, element) == (0x0000, 0x0900) and length == 2:
            status = struct.unpack("<H", value)[0]
        if (group, element) == (0x0000, 0x0902):
            comment = value.rstrip(b"\0 ").decode("latin-1")
        pos += 8 + length
    return status, comment


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="DICOM file whose data set is sent")
    parser.add_argument("--port", type=int, required=True, help="port of the SCP on 127.0.0.1")
    parser.add_argument("--called", default="CAIRN", help="called AE title (default CAIRN)")
    parser.add_argument("--calling", default="RAWSCU", help="calling AE title (default RAWSCU)")
    parser.add_argument("--affected-instance", help="Affected SOP Instance UID to put in the request "
                        "instead of the file's SOP Instance UID")
    parser.add_argument("--no-affected-instance", action="store_true",
                        help="leave Affected SOP Instance UID out of the request")
    parser.add_argument("--garbage", type=int, metavar="BYTES",
                        help="send BYTES pseudo-random bytes (seed 1) instead of the data set")
    parser.add_argument("--pad", type=int, metavar="BYTES",
                        help="append Data Set Trailing Padding (FFFC,FFFC) of BYTES zero bytes")
    parser.add_argument("--timeout", type=float, default=60, help="socket timeout in seconds (default 60)")
    return parser.parse_args()


def main():
    args = parse_arguments()
    transfer_syntax, sop_class, sop_instance, data_set = read_file(args.file)
    if not sop_class or not sop_instance:
        print("error: %s: no SOP Class UID or SOP Instance UID found" % args.file, file=sys.stderr)
        return 1

    if args.garbage is not None:
        data_set = random.Random(1).randbytes(args.garbage)
    if args.pad is not None:
        if transfer_syntax == IMPLICIT_VR_LITTLE_ENDIAN:
            data_set += struct.pack("<HHI", 0xFFFC, 0xFFFC, args.pad)
        else:
            data_set += struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, args.pad)
        data_set += bytes(args.pad)
    affected_instance = args.affected_instance or sop_instance
    if args.no_affected_instance:
        affected_instance = None

    try:
        with socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout) as sock:
            sock.sendall(associate_rq(args.called, args.calling, sop_class, transfer_syntax))
            pdu_type, payload = receive_pdu(sock)
            if pdu_type != 0x02:
                raise PeerClosed("association not accepted (PDU type 0x%02x)" % pdu_type)
            accepted, peer_max = parse_associate_ac(payload)
            if not accepted:
                raise PeerClosed("presentation context for %s in %s rejected" % (sop_class, transfer_syntax))

            # A PDV header is 6 bytes: length, context ID and control header.
            max_fragment = min(peer_max or MAX_PDU_RECEIVE, MAX_PDU_RECEIVE) - 6
            send_pdvs(sock, c_store_rq(sop_class, affected_instance, 1), True, max_fragment)
            send_pdvs(sock, data_set, False, max_fragment)
            status, comment = parse_response(receive_command(sock))
            print("status=0x%04X" % status if status is not None else "status=missing")
            print("comment=%s" % comment)

            sock.sendall(pdu(0x05, bytes(4)))
            pdu_type, _ = receive_pdu(sock)
            if pdu_type != 0x06:
                print("warning: expected A-RELEASE-RP, received PDU type 0x%02x" % pdu_type, file=sys.stderr)
    except (PeerClosed, OSError) as error:
        print("error: %s" % error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
