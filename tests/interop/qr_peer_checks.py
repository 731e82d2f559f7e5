#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Q/R checks of test_qr_peers.sh that need the raw client of qr_raw_client.py.

  qr_peer_checks.py charset --port P
      C-FIND by Patient's Name encoded in the stored and in other Specific
      Character Sets, against pydicom's charset_files.
  qr_peer_checks.py cancel --port P --operation move|get --study UID
        --series UID --total N --next-study UID [--destination AE]
      C-CANCEL-RQ after the first pending C-MOVE or C-GET response, then
      the retrieval of a one-instance study on the same association.
  qr_peer_checks.py relational --port P --study UID --instance UID
      SERIES and IMAGE level C-FIND without the keys above, with and without
      SOP Class Extended Negotiation of relational queries.

Each check prints one line, "ok: WHAT" or "FAILED: WHAT (details)", which
the shell script counts. Lines "value NAME=VALUE" pass results on to it.
The exit status is 0 when every check ran, 2 on a network error.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dicom_raw_client import PeerClosed  # noqa: E402
from qr_raw_client import (C_GET_RQ, C_MOVE_RQ, PATIENT_ROOT_FIND, SECONDARY_CAPTURE,  # noqa: E402
                           STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE, Association,
                           Context, find, identifier, parse_explicit, retrieve)

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
TAG_CHARSET = (0x0008, 0x0005)
TAG_PATIENT_NAME = (0x0010, 0x0010)
TAG_PATIENT_ID = (0x0010, 0x0020)


def report(ok, what, details=""):
    if ok:
        print("ok: " + what)
    else:
        print("FAILED: " + what + (" (%s)" % details if details else ""))
    return ok


def text(elements, tag):
    """Return the value of tag as bytes without trailing padding, or None when absent."""
    value = elements.get(tag)
    return value[1].rstrip(b"\0 ") if value is not None else None


# --- Character sets ----------------------------------------------------------

# Names as stored, decoded with each file's Specific Character Set.
RUSSIAN = b"\xbb\xee\xdace\xdc\xd1yp\xd3".decode("iso8859_5")
GREEK = b"\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2".decode("iso8859_7")
EXPECTED_NAMES = {
    "H31EXAMPLE": "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "H32EXAMPLE": "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
    "2008-4": "やまだ^たろう",
    "SCSFREN": "Buc^Jérôme",
    "SCSGERM": "Äneas^Rüdiger",
    "SCSRUSS": RUSSIAN,
    "SCSGREEK": GREEK,
    "I2EXAMPLE": "Hong^Gildong=洪^吉洞=홍^길동",
    "X1EXAMPLE": "Wang^XiaoDong=王^小東=",
    "X2EXAMPLE": "Wang^XiaoDong=王^小东=",
}


def encode_2022_ir87(name):
    """Encode a person name in ISO 2022 IR 87 with ASCII as the initial G0.

    Python's iso2022_jp codec switches with ESC $ B and back with ESC ( B
    before each ASCII character, so every '^' and '=' is in ASCII as PS3.5
    6.1.2.5.3 requires for PN values."""
    return name.encode("iso2022_jp")


# (label, Specific Character Set of the query, encoded Patient's Name, expected Patient IDs)
CHARSET_QUERIES = [
    ("ISO 2022 IR 87 whole name as stored", "\\ISO 2022 IR 87",
     encode_2022_ir87("Yamada^Tarou=山田^太郎=やまだ^たろう"), {"H31EXAMPLE"}),
    ("ISO 2022 IR 87 phonetic group", "\\ISO 2022 IR 87",
     encode_2022_ir87("やまだ^たろう"), {"H31EXAMPLE", "H32EXAMPLE", "2008-4"}),
    ("ISO 2022 IR 87 kanji with wildcard", "\\ISO 2022 IR 87",
     encode_2022_ir87("山田*"), {"H31EXAMPLE", "H32EXAMPLE"}),
    ("ISO 2022 IR 87 query for a UTF-8 name", "\\ISO 2022 IR 87",
     encode_2022_ir87("王^小東"), {"X1EXAMPLE"}),
    ("ISO_IR 100 as stored", "ISO_IR 100", "Buc^Jérôme".encode("latin-1"), {"SCSFREN"}),
    ("ISO_IR 144 as stored", "ISO_IR 144", RUSSIAN.encode("iso8859_5"), {"SCSRUSS"}),
    ("UTF-8 as stored", "ISO_IR 192", "王^小東".encode("utf-8"), {"X1EXAMPLE"}),
    ("UTF-8 query for ISO 2022 IR 87 kanji", "ISO_IR 192",
     "山田^太郎".encode("utf-8"), {"H31EXAMPLE", "H32EXAMPLE"}),
    ("UTF-8 query for ISO 2022 IR 87 hiragana", "ISO_IR 192",
     "やまだ^たろう".encode("utf-8"), {"H31EXAMPLE", "H32EXAMPLE", "2008-4"}),
    ("UTF-8 query for ISO 2022 IR 87 whole name", "ISO_IR 192",
     "Yamada^Tarou=山田^太郎=やまだ^たろう".encode("utf-8"), {"H31EXAMPLE"}),
    ("UTF-8 '?' matches one kanji", "ISO_IR 192", "?田^太郎".encode("utf-8"),
     {"H31EXAMPLE", "H32EXAMPLE"}),
    ("UTF-8 query for ISO 2022 IR 13 katakana", "ISO_IR 192",
     "ﾔﾏﾀﾞ^ﾀﾛｳ".encode("utf-8"), {"H32EXAMPLE"}),
    ("UTF-8 query for ISO_IR 100", "ISO_IR 192", "Buc^Jérôme".encode("utf-8"), {"SCSFREN"}),
    ("UTF-8 lower case for ISO_IR 100", "ISO_IR 192", "buc^jérôme".encode("utf-8"), {"SCSFREN"}),
    ("UTF-8 query for ISO_IR 144", "ISO_IR 192", RUSSIAN.encode("utf-8"), {"SCSRUSS"}),
    ("UTF-8 lower case for ISO_IR 144", "ISO_IR 192", RUSSIAN.lower().encode("utf-8"), {"SCSRUSS"}),
    ("UTF-8 query for ISO_IR 126", "ISO_IR 192", GREEK.encode("utf-8"), {"SCSGREEK"}),
    ("UTF-8 query for ISO 2022 IR 149", "ISO_IR 192", "홍^길동".encode("utf-8"), {"I2EXAMPLE"}),
    ("UTF-8 query for GB18030", "ISO_IR 192", "王^小东".encode("utf-8"), {"X2EXAMPLE"}),
    ("ISO_IR 100 wildcard for ISO_IR 100", "ISO_IR 100", "Ä*".encode("latin-1"), {"SCSGERM"}),
]


def check_charset_query(association, model, label, charset, name, level=b"STUDY"):
    """Run one C-FIND by Patient's Name; return {Patient ID: identifiers} or None on failure."""
    keys = [(0x0008, 0x0005, "CS", charset.encode("ascii")),
            (0x0008, 0x0052, "CS", level),
            (0x0010, 0x0010, "PN", name),
            (0x0010, 0x0020, "LO", b"")]
    if level == b"STUDY":
        keys.append((0x0020, 0x000D, "UI", b""))
    responses = find(association, model, identifier(keys))
    final = responses[-1].status()
    if not report(final == 0x0000, "%s: final status 0000" % label, "got %s" % hexstatus(final)):
        return None

    found = {}
    for response in responses[:-1]:
        elements = parse_explicit(response.data_set or b"")
        patient_id = (text(elements, TAG_PATIENT_ID) or b"").decode("latin-1")
        found.setdefault(patient_id, []).append(elements)
    return found


def hexstatus(status):
    return "none" if status is None else "%04x" % status


def run_charset(args):
    contexts = [Context(1, STUDY_ROOT_FIND), Context(3, PATIENT_ROOT_FIND)]
    association = Association(args.port, contexts).connect()
    for label, charset, name, expected in CHARSET_QUERIES:
        found = check_charset_query(association, STUDY_ROOT_FIND, label, charset, name)
        if found is None:
            continue
        report(set(found) == expected, "%s: matches %s" % (label, " ".join(sorted(expected))),
               "got %s" % " ".join(sorted(found)))
        for patient_id, identifiers in sorted(found.items()):
            for elements in identifiers:
                check_charset_identifier(label, patient_id, elements)

    # Patient Root at the PATIENT level, where Patient's Name is a key of its own level.
    label = "Patient Root PATIENT level ISO 2022 IR 87 kanji"
    found = check_charset_query(association, PATIENT_ROOT_FIND, label, "\\ISO 2022 IR 87",
                                encode_2022_ir87("山田^太郎"), level=b"PATIENT")
    if found is not None:
        report(set(found) == {"H31EXAMPLE", "H32EXAMPLE"}, "%s: matches H31EXAMPLE H32EXAMPLE" % label,
               "got %s" % " ".join(sorted(found)))
        for patient_id, identifiers in sorted(found.items()):
            for elements in identifiers:
                check_charset_identifier(label, patient_id, elements)
    association.release()
    return 0


def check_charset_identifier(label, patient_id, elements):
    charset = text(elements, TAG_CHARSET)
    report(charset == b"ISO_IR 192", "%s: %s response has Specific Character Set ISO_IR 192" % (label, patient_id),
           "got %r" % charset)
    raw = text(elements, TAG_PATIENT_NAME)
    try:
        name = raw.decode("utf-8") if raw is not None else None
    except UnicodeDecodeError:
        name = "undecodable %r" % raw
    expected = EXPECTED_NAMES.get(patient_id)
    report(name == expected, "%s: %s name returned as %s" % (label, patient_id, expected),
           "got %r" % name)


# --- C-CANCEL during C-MOVE and C-GET ----------------------------------------------------

def run_cancel(args):
    keys = identifier([(0x0008, 0x0052, "CS", b"SERIES"),
                       (0x0020, 0x000D, "UI", args.study.encode("ascii")),
                       (0x0020, 0x000E, "UI", args.series.encode("ascii"))])
    label = "C-CANCEL during C-%s" % args.operation.upper()
    if args.operation == "move":
        contexts = [Context(1, STUDY_ROOT_MOVE)]
        association = Association(args.port, contexts).connect()
        responses, stores = retrieve(association, C_MOVE_RQ, STUDY_ROOT_MOVE, keys,
                                     destination=args.destination, cancel_after_pending=1)
    else:
        # The storage contexts, for the synthetic series and the CT retrieved after the
        # cancel, offer both little endian syntaxes and take the SCP role only.
        little_endian = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
        contexts = [Context(1, STUDY_ROOT_GET),
                    Context(3, SECONDARY_CAPTURE, little_endian, role=(0, 1)),
                    Context(5, CT_IMAGE_STORAGE, little_endian, role=(0, 1))]
        association = Association(args.port, contexts).connect()
        report(association.roles.get(SECONDARY_CAPTURE) == (0, 1),
               "%s: A-ASSOCIATE-AC accepts SCP role for Secondary Capture" % label,
               "got %r" % (association.roles.get(SECONDARY_CAPTURE),))
        responses, stores = retrieve(association, C_GET_RQ, STUDY_ROOT_GET, keys,
                                     cancel_after_pending=1)
    after = retrieve_one_instance(association, args)
    released = association.release()

    final = responses[-1]
    counts = final.counts()
    pending = len(responses) - 1
    report(pending >= 1, "%s: at least one pending response" % label, "got %d" % pending)
    report(final.status() == 0xFE00, "%s: final status fe00" % label, "got %s" % hexstatus(final.status()))
    completed = counts["completed"]
    remaining = counts["remaining"]
    report(completed is not None and completed >= 1, "%s: Completed count at least 1" % label,
           "got %r" % completed)
    report(remaining is not None and remaining >= 1, "%s: Remaining count at least 1" % label,
           "got %r" % remaining)
    total = sum(value or 0 for value in counts.values())
    report(total == args.total, "%s: counts add up to %d" % (label, args.total), "got %r" % counts)
    report(released, "%s: association released after the cancel" % label)
    if args.operation == "get":
        report(stores == completed, "%s: C-STORE-RQs received equal Completed" % label,
               "%d C-STORE-RQs, Completed %r" % (stores, completed))
    report(after is not None and after[0].status() == 0x0000 and after[0].counts()["completed"] == 1,
           "%s: the next retrieve on the association completes one instance" % label,
           "got %s" % ("nothing" if after is None else "status %s, counts %r" % (
               hexstatus(after[0].status()), after[0].counts())))
    if args.operation == "get" and after is not None:
        report(after[1] == 1, "%s: the next C-GET sends one C-STORE-RQ" % label, "got %d" % after[1])
    print("value completed=%s" % completed)
    return 0


def retrieve_one_instance(association, args):
    """Retrieve the one-instance study args.next_study; return (final response, C-STORE-RQs answered)."""
    keys = identifier([(0x0008, 0x0052, "CS", b"STUDY"),
                       (0x0020, 0x000D, "UI", args.next_study.encode("ascii"))])
    if args.operation == "move":
        responses, stores = retrieve(association, C_MOVE_RQ, STUDY_ROOT_MOVE, keys,
                                     destination=args.destination)
    else:
        responses, stores = retrieve(association, C_GET_RQ, STUDY_ROOT_GET, keys)
    return responses[-1], stores


# --- Relational queries --------------------------------------------------------------------

def series_without_study():
    return identifier([(0x0008, 0x0052, "CS", b"SERIES"),
                       (0x0008, 0x0060, "CS", b"OT"),
                       (0x0020, 0x000D, "UI", b""),
                       (0x0020, 0x000E, "UI", b"")])


def image_without_study(sop_instance):
    return identifier([(0x0008, 0x0018, "UI", sop_instance.encode("ascii")),
                       (0x0008, 0x0052, "CS", b"IMAGE"),
                       (0x0020, 0x000D, "UI", b""),
                       (0x0020, 0x000E, "UI", b"")])


def run_relational(args):
    label = "relational"
    association = Association(args.port, [Context(1, STUDY_ROOT_FIND, extended=b"\x01")]).connect()
    answer = association.extended.get(STUDY_ROOT_FIND)
    report(answer is not None and answer[:1] == b"\x01",
           "%s: A-ASSOCIATE-AC accepts relational queries (byte 1 = 1)" % label, "got %r" % answer)

    responses = find(association, STUDY_ROOT_FIND, series_without_study())
    final = responses[-1].status()
    report(final == 0x0000, "%s: SERIES level without Study Instance UID succeeds" % label,
           "got %s %r" % (hexstatus(final), responses[-1].text((0x0000, 0x0902))))
    series = set()
    studies = set()
    for response in responses[:-1]:
        elements = parse_explicit(response.data_set or b"")
        series.add((text(elements, (0x0020, 0x000E)) or b"").decode("ascii"))
        studies.add((text(elements, (0x0020, 0x000D)) or b"").decode("ascii"))
    report(args.study in studies, "%s: the synthetic OT series is among the matches" % label,
           "got studies %s" % " ".join(sorted(studies)))
    report("" not in studies, "%s: each match names its Study Instance UID" % label)

    responses = find(association, STUDY_ROOT_FIND, image_without_study(args.instance))
    final = responses[-1].status()
    report(final == 0x0000 and len(responses) == 2,
           "%s: IMAGE level by SOP Instance UID alone finds one instance" % label,
           "final %s, %d responses" % (hexstatus(final), len(responses)))
    association.release()

    association = Association(args.port, [Context(1, STUDY_ROOT_FIND, extended=b"\x00")]).connect()
    answer = association.extended.get(STUDY_ROOT_FIND)
    report(answer is None or answer[:1] == b"\x00",
           "%s: byte 1 = 0 is answered 0 or not at all" % label, "got %r" % answer)
    responses = find(association, STUDY_ROOT_FIND, series_without_study())
    report(responses[-1].status() == 0xA900, "%s: byte 1 = 0 gives a900" % label,
           "got %s" % hexstatus(responses[-1].status()))
    association.release()

    association = Association(args.port, [Context(1, STUDY_ROOT_FIND)]).connect()
    report(STUDY_ROOT_FIND not in association.extended,
           "%s: no extended negotiation item in the answer when none was proposed" % label)
    responses = find(association, STUDY_ROOT_FIND, series_without_study())
    final = responses[-1]
    report(final.status() == 0xA900, "%s: without the item SERIES level without Study UID gives a900" % label,
           "got %s" % hexstatus(final.status()))
    comment = final.text((0x0000, 0x0902)) or ""
    report("0020,000D" in comment.upper(), "%s: a900 comment names Study Instance UID" % label,
           "got %r" % comment)
    association.release()
    return run_relational_retrieve(args)


def instance_without_study(sop_instance):
    return identifier([(0x0008, 0x0052, "CS", b"IMAGE"),
                       (0x0008, 0x0018, "UI", sop_instance.encode("ascii"))])


def run_relational_retrieve(args):
    """Retrieve one instance by its SOP Instance UID alone, with C-GET and C-MOVE."""
    label = "relational retrieval"
    little_endian = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
    contexts = [Context(1, STUDY_ROOT_GET, extended=b"\x01"),
                Context(3, SECONDARY_CAPTURE, little_endian, role=(0, 1)),
                Context(5, STUDY_ROOT_MOVE, extended=b"\x01")]
    association = Association(args.port, contexts).connect()
    for sop_class in (STUDY_ROOT_GET, STUDY_ROOT_MOVE):
        answer = association.extended.get(sop_class)
        report(answer is not None and answer[:1] == b"\x01",
               "%s: A-ASSOCIATE-AC accepts relational retrieval for %s" % (label, sop_class),
               "got %r" % answer)

    responses, stores = retrieve(association, C_GET_RQ, STUDY_ROOT_GET, instance_without_study(args.instance))
    final = responses[-1]
    report(final.status() == 0x0000 and final.counts()["completed"] == 1 and stores == 1,
           "%s: C-GET at IMAGE level by SOP Instance UID alone sends one instance" % label,
           "got %s, counts %r, %d C-STORE-RQs" % (hexstatus(final.status()), final.counts(), stores))

    if args.destination:
        responses, stores = retrieve(association, C_MOVE_RQ, STUDY_ROOT_MOVE,
                                     instance_without_study(args.instance), destination=args.destination)
        final = responses[-1]
        report(final.status() == 0x0000 and final.counts()["completed"] == 1,
               "%s: C-MOVE at IMAGE level by SOP Instance UID alone completes one" % label,
               "got %s, counts %r" % (hexstatus(final.status()), final.counts()))
    association.release()

    contexts = [Context(1, STUDY_ROOT_GET),
                Context(3, SECONDARY_CAPTURE, little_endian, role=(0, 1))]
    association = Association(args.port, contexts).connect()
    responses, stores = retrieve(association, C_GET_RQ, STUDY_ROOT_GET, instance_without_study(args.instance))
    final = responses[-1]
    report(final.status() == 0xA900 and stores == 0,
           "%s: without the item, C-GET without the upper Unique Keys gives a900" % label,
           "got %s, %d C-STORE-RQs" % (hexstatus(final.status()), stores))
    comment = final.text((0x0000, 0x0902)) or ""
    report("0020,000D" in comment.upper(), "%s: the a900 comment names Study Instance UID" % label,
           "got %r" % comment)
    association.release()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("charset", "cancel", "relational"):
        command = commands.add_parser(name)
        command.add_argument("--port", type=int, required=True, help="port of cairnd on 127.0.0.1")
        if name in ("cancel", "relational"):
            command.add_argument("--study", required=True, help="Study Instance UID of the series")
        if name == "cancel":
            command.add_argument("--operation", choices=("move", "get"), required=True)
            command.add_argument("--series", required=True, help="Series Instance UID to retrieve")
            command.add_argument("--total", type=int, required=True, help="instances in the series")
            command.add_argument("--destination", default="", help="Move Destination AE title")
            command.add_argument("--next-study", required=True,
                                 help="a study of one instance, retrieved after the cancel")
        if name == "relational":
            command.add_argument("--instance", required=True, help="a SOP Instance UID of the study")
            command.add_argument("--destination", default="",
                                 help="Move Destination AE title for the relational C-MOVE")
    args = parser.parse_args()

    runners = {"charset": run_charset, "cancel": run_cancel, "relational": run_relational}
    try:
        return runners[args.command](args)
    except (PeerClosed, OSError, ValueError) as error:
        print("FAILED: %s ended with an error: %s" % (args.command, error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
