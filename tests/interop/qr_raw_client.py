#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Query/Retrieve SCU on raw sockets, for the interop tests.

It builds the association and the DIMSE messages byte by byte, so a test
controls what DCMTK's findscu, movescu and getscu do not let it set. That
is the encoding of an identifier in any Specific Character Set, the moment
a C-CANCEL-RQ is sent during C-MOVE and C-GET, and the SCP/SCU Role
Selection and SOP Class Extended Negotiation items. During C-GET it is the
storage SCP on the same association and sends a Success C-STORE-RSP for
each C-STORE-RQ.

Commands go in implicit VR little endian. Identifiers go in explicit VR
little endian, the only transfer syntax this client proposes for Q/R.
Standard library only. The protocol helpers come from dicom_raw_client.
"""

import socket
import struct
import time

from dicom_raw_client import (APPLICATION_CONTEXT, EXPLICIT_VR_LITTLE_ENDIAN,
                              IMPLEMENTATION_CLASS_UID, LONG_VRS,
                              PeerClosed, implicit_element, item, pdu, receive_pdu)

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"

C_STORE_RQ = 0x0001
C_STORE_RSP = 0x8001
C_GET_RQ = 0x0010
C_FIND_RQ = 0x0020
C_MOVE_RQ = 0x0021
C_CANCEL_RQ = 0x0FFF
NO_DATA_SET = 0x0101

# Command Set elements read from responses.
TAG_COMMAND_FIELD = (0x0000, 0x0100)
TAG_MESSAGE_ID = (0x0000, 0x0110)
TAG_RESPONDED_ID = (0x0000, 0x0120)
TAG_DATA_SET_TYPE = (0x0000, 0x0800)
TAG_STATUS = (0x0000, 0x0900)
TAG_ERROR_COMMENT = (0x0000, 0x0902)
TAG_AFFECTED_CLASS = (0x0000, 0x0002)
TAG_AFFECTED_INSTANCE = (0x0000, 0x1000)
COUNT_TAGS = {"remaining": (0x0000, 0x1020), "completed": (0x0000, 0x1021),
              "failed": (0x0000, 0x1022), "warning": (0x0000, 0x1023)}

MAX_PDU_RECEIVE = 65536


class Context:
    """One proposed presentation context, with its optional role and extended negotiation items."""

    def __init__(self, context_id, abstract_syntax, transfer_syntaxes=(EXPLICIT_VR_LITTLE_ENDIAN,),
                 role=None, extended=None):
        self.context_id = context_id
        self.abstract_syntax = abstract_syntax
        self.transfer_syntaxes = transfer_syntaxes
        self.role = role              # (scu, scp) for an SCP/SCU Role Selection item
        self.extended = extended      # bytes of a SOP Class Extended Negotiation item


class Message:
    """A received DIMSE message: its context ID, Command Set elements and data set bytes."""

    def __init__(self, context_id, command, data_set):
        self.context_id = context_id
        self.command = command
        self.data_set = data_set

    def uint16(self, tag):
        value = self.command.get(tag)
        return struct.unpack("<H", value)[0] if value is not None and len(value) == 2 else None

    def text(self, tag):
        value = self.command.get(tag)
        return value.rstrip(b"\0 ").decode("latin-1") if value is not None else None

    def status(self):
        return self.uint16(TAG_STATUS)

    def counts(self):
        return {name: self.uint16(tag) for name, tag in COUNT_TAGS.items()}


def explicit_element(group, element, vr, value):
    """Encode one explicit VR little endian element, padded to an even length."""
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    head = struct.pack("<HH2s", group, element, vr.encode("ascii"))
    if vr.encode("ascii") in LONG_VRS:
        return head + struct.pack("<HI", 0, len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def identifier(elements):
    """Encode an identifier from (group, element, VR, bytes) tuples, sorted by tag."""
    return b"".join(explicit_element(*e) for e in sorted(elements, key=lambda e: (e[0], e[1])))


def skip_undefined_length(data, pos):
    """Return the offset after the delimiter of the undefined-length value starting at pos."""
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        if group == 0xFFFE:
            length = struct.unpack_from("<I", data, pos + 4)[0]
            pos += 8
            if element in (0xE0DD, 0xE00D):
                return pos
        else:
            vr = data[pos + 4:pos + 6]
            if vr in LONG_VRS:
                length = struct.unpack_from("<I", data, pos + 8)[0]
                pos += 12
            else:
                length = struct.unpack_from("<H", data, pos + 6)[0]
                pos += 8
        pos = skip_undefined_length(data, pos) if length == 0xFFFFFFFF else pos + length
    raise ValueError("undefined-length value without a delimiter")


def parse_explicit(data):
    """Return {(group, element): (VR, value bytes)} of the top level of an explicit VR LE data set."""
    elements = {}
    pos = 0
    while pos + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, pos)
        vr = data[pos + 4:pos + 6]
        if vr in LONG_VRS:
            length = struct.unpack_from("<I", data, pos + 8)[0]
            start = pos + 12
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            start = pos + 8
        if length == 0xFFFFFFFF:
            end = skip_undefined_length(data, start)
            elements[(group, element)] = (vr.decode("ascii"), data[start:end])
            pos = end
            continue
        if start + length > len(data):
            raise ValueError("element (%04X,%04X) runs past the end of the data set" % (group, element))
        elements[(group, element)] = (vr.decode("ascii"), data[start:start + length])
        pos = start + length
    return elements


def parse_implicit(data):
    """Return {(group, element): value bytes} of an implicit VR little endian Command Set."""
    elements = {}
    pos = 0
    while pos + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, pos)
        elements[(group, element)] = data[pos + 8:pos + 8 + length]
        pos += 8 + length
    return elements


def command_set(fields):
    """Encode a Command Set from (element, bytes) pairs of group 0000, with its group length."""
    body = b"".join(implicit_element(0x0000, element, value) for element, value in sorted(fields))
    return implicit_element(0x0000, 0x0000, struct.pack("<I", len(body))) + body


def uid(text):
    return text.encode("ascii")


def us(value):
    return struct.pack("<H", value)


class Association:
    """An association from this client to an SCP on 127.0.0.1, opened by connect()."""

    def __init__(self, port, contexts, called="CAIRN", calling="RAWQR", timeout=60):
        self.port = port
        self.contexts = contexts
        self.called = called
        self.calling = calling
        self.timeout = timeout
        self.sock = None
        self.accepted = {}    # context ID -> accepted transfer syntax
        self.extended = {}    # SOP class UID -> extended negotiation bytes of the A-ASSOCIATE-AC
        self.roles = {}       # SOP class UID -> (scu, scp) of the A-ASSOCIATE-AC
        self.peer_max = 0
        self.pending_pdvs = []
        self.next_message_id = 1

    def associate_rq(self):
        body = item(0x10, APPLICATION_CONTEXT)
        user_information = item(0x51, struct.pack(">I", MAX_PDU_RECEIVE)) + item(0x52, IMPLEMENTATION_CLASS_UID)
        for context in self.contexts:
            syntaxes = b"".join(item(0x40, uid(ts)) for ts in context.transfer_syntaxes)
            body += item(0x20, struct.pack(">BBBB", context.context_id, 0, 0, 0)
                         + item(0x30, uid(context.abstract_syntax)) + syntaxes)
            if context.role is not None:
                user_information += item(0x54, struct.pack(">H", len(context.abstract_syntax))
                                         + uid(context.abstract_syntax) + bytes(context.role))
            if context.extended is not None:
                user_information += item(0x56, struct.pack(">H", len(context.abstract_syntax))
                                         + uid(context.abstract_syntax) + context.extended)
        user_information += item(0x55, b"RAW_QR")
        header = (struct.pack(">HH", 1, 0) + self.called.encode("ascii").ljust(16)
                  + self.calling.encode("ascii").ljust(16) + bytes(32))
        return pdu(0x01, header + body + item(0x50, user_information))

    def parse_associate_ac(self, payload):
        pos = 68
        while pos + 4 <= len(payload):
            item_type, _, length = struct.unpack_from(">BBH", payload, pos)
            body = payload[pos + 4:pos + 4 + length]
            if item_type == 0x21 and len(body) >= 4 and body[2] == 0:
                syntax = b""
                if len(body) >= 8 and body[4] == 0x40:
                    syntax = body[8:8 + struct.unpack_from(">H", body, 6)[0]]
                self.accepted[body[0]] = syntax.rstrip(b"\0 ").decode("ascii")
            if item_type == 0x50:
                self.parse_user_information(body)
            pos += 4 + length

    def parse_user_information(self, body):
        pos = 0
        while pos + 4 <= len(body):
            sub_type, _, length = struct.unpack_from(">BBH", body, pos)
            value = body[pos + 4:pos + 4 + length]
            if sub_type == 0x51 and length == 4:
                self.peer_max = struct.unpack(">I", value)[0]
            if sub_type in (0x54, 0x56) and length >= 2:
                uid_length = struct.unpack_from(">H", value)[0]
                sop_class = value[2:2 + uid_length].rstrip(b"\0").decode("ascii")
                rest = value[2 + uid_length:]
                if sub_type == 0x54 and len(rest) == 2:
                    self.roles[sop_class] = (rest[0], rest[1])
                if sub_type == 0x56:
                    self.extended[sop_class] = rest
            pos += 4 + length

    def connect(self):
        """Open the association; raise PeerClosed when it is rejected."""
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.sendall(self.associate_rq())
        pdu_type, payload = receive_pdu(self.sock)
        if pdu_type != 0x02:
            raise PeerClosed("association not accepted (PDU type 0x%02x)" % pdu_type)
        self.parse_associate_ac(payload)
        return self

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def release(self):
        """Send A-RELEASE-RQ and return True when A-RELEASE-RP arrives, skipping late P-DATA-TF."""
        self.sock.sendall(pdu(0x05, bytes(4)))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            pdu_type, _ = receive_pdu(self.sock)
            if pdu_type == 0x06:
                self.close()
                return True
            if pdu_type != 0x04:
                break
        self.close()
        return False

    def send_pdvs(self, context_id, payload, is_command):
        """Send payload as P-DATA-TF PDUs, one PDV each, within the peer's maximum PDU length."""
        max_fragment = min(self.peer_max or MAX_PDU_RECEIVE, MAX_PDU_RECEIVE) - 6
        offset = 0
        while True:
            fragment = payload[offset:offset + max_fragment]
            offset += len(fragment)
            last = offset >= len(payload)
            control = 0x01 if is_command else 0x00
            if last:
                control |= 0x02
            self.sock.sendall(pdu(0x04, struct.pack(">IBB", len(fragment) + 2, context_id, control) + fragment))
            if last:
                return

    def send_message(self, context_id, fields, data_set=None):
        """Send a Command Set built from fields, then the data set when there is one."""
        fields = list(fields) + [(0x0800, us(0x0000 if data_set is not None else NO_DATA_SET))]
        self.send_pdvs(context_id, command_set(fields), True)
        if data_set is not None:
            self.send_pdvs(context_id, data_set, False)

    def next_pdv(self):
        """Return (context ID, control header, fragment) of the next received PDV."""
        while not self.pending_pdvs:
            pdu_type, payload = receive_pdu(self.sock)
            if pdu_type == 0x07:
                raise PeerClosed("association aborted by the peer")
            if pdu_type != 0x04:
                raise PeerClosed("received PDU type 0x%02x instead of P-DATA-TF" % pdu_type)
            pos = 0
            while pos + 6 <= len(payload):
                length, context_id, control = struct.unpack_from(">IBB", payload, pos)
                self.pending_pdvs.append((context_id, control, payload[pos + 6:pos + 4 + length]))
                pos += 4 + length
        return self.pending_pdvs.pop(0)

    def receive_message(self):
        """Return the next DIMSE message, with its data set when the command announces one."""
        command = b""
        while True:
            context_id, control, fragment = self.next_pdv()
            if not control & 0x01:
                raise PeerClosed("data set fragment before the end of a Command Set")
            command += fragment
            if control & 0x02:
                break
        fields = parse_implicit(command)
        message = Message(context_id, fields, None)
        if message.uint16(TAG_DATA_SET_TYPE) == NO_DATA_SET:
            return message

        data_set = b""
        while True:
            _, control, fragment = self.next_pdv()
            if control & 0x01:
                raise PeerClosed("Command Set fragment inside a data set")
            data_set += fragment
            if control & 0x02:
                break
        message.data_set = data_set
        return message

    def context_for(self, abstract_syntax):
        for context in self.contexts:
            if context.abstract_syntax == abstract_syntax and context.context_id in self.accepted:
                return context.context_id
        raise PeerClosed("no accepted presentation context for %s" % abstract_syntax)

    def request(self, command_field, sop_class, data_set, extra_fields=()):
        """Send a C-FIND, C-MOVE or C-GET request; return its Message ID."""
        message_id = self.next_message_id
        self.next_message_id += 1
        fields = [(0x0002, uid(sop_class)), (0x0100, us(command_field)), (0x0110, us(message_id)),
                  (0x0700, us(0))] + list(extra_fields)
        self.send_message(self.context_for(sop_class), fields, data_set)
        return message_id

    def cancel(self, sop_class, message_id):
        """Send C-CANCEL-RQ for the request with message_id."""
        self.send_message(self.context_for(sop_class),
                          [(0x0100, us(C_CANCEL_RQ)), (0x0120, us(message_id))])

    def answer_store(self, message, status=0x0000):
        """Send the C-STORE-RSP to a C-STORE-RQ received as the storage SCP of C-GET."""
        fields = [(0x0002, message.command.get(TAG_AFFECTED_CLASS, b"")),
                  (0x0100, us(C_STORE_RSP)),
                  (0x0120, message.command.get(TAG_MESSAGE_ID, us(0))),
                  (0x0900, us(status)),
                  (0x1000, message.command.get(TAG_AFFECTED_INSTANCE, b""))]
        self.send_message(message.context_id, fields)


def find(association, sop_class, data_set, max_responses=100000):
    """Run one C-FIND; return the list of responses, the final one last."""
    association.request(C_FIND_RQ, sop_class, data_set)
    responses = []
    for _ in range(max_responses):
        message = association.receive_message()
        responses.append(message)
        if message.status() not in (0xFF00, 0xFF01):
            return responses
    raise PeerClosed("more than %d C-FIND responses" % max_responses)


def retrieve(association, command_field, sop_class, data_set, destination=None,
             cancel_after_pending=None, max_messages=100000):
    """Run one C-MOVE or C-GET, sending a Success C-STORE-RSP to each C-STORE-RQ of a C-GET.

    With cancel_after_pending=N it sends C-CANCEL-RQ after the Nth pending
    response. Returns (responses, number of C-STORE-RQs answered)."""
    extra = [(0x0600, destination.encode("ascii"))] if destination else []
    message_id = association.request(command_field, sop_class, data_set, extra)
    responses = []
    stores = 0
    pending = 0
    for _ in range(max_messages):
        message = association.receive_message()
        if message.uint16(TAG_COMMAND_FIELD) == C_STORE_RQ:
            association.answer_store(message)
            stores += 1
            continue
        responses.append(message)
        if message.status() != 0xFF00:
            return responses, stores
        pending += 1
        if cancel_after_pending is not None and pending == cancel_after_pending:
            association.cancel(sop_class, message_id)
    raise PeerClosed("more than %d messages during one retrieve" % max_messages)
