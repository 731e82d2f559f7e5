#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write synthetic Secondary Capture instances for the interop tests.

The files are DICOM Part 10 files in Explicit VR Little Endian, built element
by element with the standard library only, so a test needs no template file
and no per-file call to dcmodify.

  make_instances.py series OUTDIR --count N --uid-root ROOT
        [--studies S] [--series-per-study K]
      writes OUTDIR/inst-00000.dcm ... with 16x16 pixels, spread round-robin
      over S studies (one patient each) of K series each, and OUTDIR/manifest.tsv
      with one line per file: file name, SOP Instance UID, Study Instance UID,
      Series Instance UID.

  make_instances.py large FILE --uid-root ROOT --pixel-bytes BYTES
      writes one instance whose Pixel Data (OW) is BYTES long (rounded down to
      a square 16-bit image), streamed to disk in 1 MiB blocks.
"""

import argparse
import os
import struct
import sys

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.9.7433.1.1"

# VRs whose element header has 2 reserved bytes and a 4-byte length.
LONG_VRS = {"OB", "OW", "OF", "OD", "OL", "SQ", "UC", "UN", "UR", "UT"}


def element(group, elem, vr, value):
    """Encode one Explicit VR Little Endian element, padding the value to even length."""
    if isinstance(value, str):
        raw = value.encode("ascii")
        if len(raw) % 2:
            raw += b"\0" if vr == "UI" else b" "
    else:
        raw = value
        if len(raw) % 2:
            raw += b"\0"

    head = struct.pack("<HH2s", group, elem, vr.encode("ascii"))
    if vr in LONG_VRS:
        return head + struct.pack("<HI", 0, len(raw)) + raw
    if len(raw) > 0xFFFF:
        raise ValueError("value of (%04X,%04X) is too long for a 2-byte length" % (group, elem))
    return head + struct.pack("<H", len(raw)) + raw


def uint16_le(value):
    return struct.pack("<H", value)


def file_meta(sop_instance_uid):
    """Return the preamble, the DICM prefix and the File Meta Information group."""
    body = b"".join([
        element(0x0002, 0x0001, "OB", b"\x00\x01"),
        element(0x0002, 0x0002, "UI", SECONDARY_CAPTURE),
        element(0x0002, 0x0003, "UI", sop_instance_uid),
        element(0x0002, 0x0010, "UI", EXPLICIT_VR_LITTLE_ENDIAN),
        element(0x0002, 0x0012, "UI", IMPLEMENTATION_CLASS_UID),
        element(0x0002, 0x0013, "SH", "CAIRN_TEST"),
    ])
    group_length = element(0x0002, 0x0000, "UL", struct.pack("<I", len(body)))
    return b"\0" * 128 + b"DICM" + group_length + body


def data_set_head(uids, numbers, rows, columns):
    """Return every element of the data set before Pixel Data, in tag order."""
    sop_uid, study_uid, series_uid = uids
    study_index, series_number, instance_number = numbers
    return b"".join([
        element(0x0008, 0x0016, "UI", SECONDARY_CAPTURE),
        element(0x0008, 0x0018, "UI", sop_uid),
        element(0x0008, 0x0020, "DA", "20240102"),
        element(0x0008, 0x0030, "TM", "101500"),
        element(0x0008, 0x0050, "SH", "ACC%05d" % study_index),
        element(0x0008, 0x0060, "CS", "OT"),
        element(0x0008, 0x0064, "CS", "WSD"),
        element(0x0008, 0x0090, "PN", ""),
        element(0x0008, 0x1030, "LO", "Synthetic study %d" % study_index),
        element(0x0008, 0x103E, "LO", "Synthetic series %d" % series_number),
        element(0x0010, 0x0010, "PN", "Test^Patient%d" % study_index),
        element(0x0010, 0x0020, "LO", "CAIRN-TEST-%d" % study_index),
        element(0x0010, 0x0030, "DA", ""),
        element(0x0010, 0x0040, "CS", "O"),
        element(0x0020, 0x000D, "UI", study_uid),
        element(0x0020, 0x000E, "UI", series_uid),
        element(0x0020, 0x0010, "SH", "S%d" % study_index),
        element(0x0020, 0x0011, "IS", str(series_number)),
        element(0x0020, 0x0013, "IS", str(instance_number)),
        element(0x0020, 0x0020, "CS", ""),
        element(0x0028, 0x0002, "US", uint16_le(1)),
        element(0x0028, 0x0004, "CS", "MONOCHROME2"),
        element(0x0028, 0x0010, "US", uint16_le(rows)),
        element(0x0028, 0x0011, "US", uint16_le(columns)),
        element(0x0028, 0x0100, "US", uint16_le(16)),
        element(0x0028, 0x0101, "US", uint16_le(12)),
        element(0x0028, 0x0102, "US", uint16_le(11)),
        element(0x0028, 0x0103, "US", uint16_le(0)),
    ])


def write_small(path, uids, numbers):
    rows = columns = 16
    pixels = bytes((i * 7 + numbers[2]) & 0x0F for i in range(rows * columns * 2))
    with open(path, "wb") as out:
        out.write(file_meta(uids[0]))
        out.write(data_set_head(uids, numbers, rows, columns))
        out.write(element(0x7FE0, 0x0010, "OW", pixels))


def write_large(path, uids, pixel_bytes):
    side = int((pixel_bytes // 2) ** 0.5)
    side = min(side, 0xFFFF)
    length = side * side * 2
    block = bytes(range(256)) * 4096

    with open(path, "wb") as out:
        out.write(file_meta(uids[0]))
        out.write(data_set_head(uids, (1, 1, 1), side, side))
        out.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, length))
        remaining = length
        while remaining > 0:
            chunk = block[:min(remaining, len(block))]
            out.write(chunk)
            remaining -= len(chunk)


def make_series(args):
    os.makedirs(args.outdir, exist_ok=True)
    series_total = args.studies * args.series_per_study
    lines = []

    for n in range(args.count):
        series_index = n % series_total
        study_index = series_index // args.series_per_study
        series_number = series_index % args.series_per_study + 1
        instance_number = n // series_total + 1
        uids = (
            "%s.3.%d" % (args.uid_root, n + 1),
            "%s.1.%d" % (args.uid_root, study_index + 1),
            "%s.2.%d" % (args.uid_root, series_index + 1),
        )
        name = "inst-%05d.dcm" % n
        write_small(os.path.join(args.outdir, name), uids,
                    (study_index + 1, series_number, instance_number))
        lines.append("\t".join((name,) + uids))

    with open(os.path.join(args.outdir, "manifest.tsv"), "w") as manifest:
        manifest.write("\n".join(lines) + "\n")


def make_large(args):
    uids = (args.uid_root + ".3.1", args.uid_root + ".1.1", args.uid_root + ".2.1")
    write_large(args.file, uids, args.pixel_bytes)


def main():
    parser = argparse.ArgumentParser(description="Write synthetic DICOM instances.")
    commands = parser.add_subparsers(dest="command", required=True)

    series = commands.add_parser("series", help="many small instances and a manifest")
    series.add_argument("outdir")
    series.add_argument("--count", type=int, required=True)
    series.add_argument("--uid-root", required=True)
    series.add_argument("--studies", type=int, default=1)
    series.add_argument("--series-per-study", type=int, default=1)

    large = commands.add_parser("large", help="one instance with a large Pixel Data")
    large.add_argument("file")
    large.add_argument("--uid-root", required=True)
    large.add_argument("--pixel-bytes", type=int, required=True)

    args = parser.parse_args()
    if args.command == "series":
        make_series(args)
    else:
        make_large(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
