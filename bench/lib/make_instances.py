#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Make the DICOM instances the benchmark sends, from pydicom's CT_small.dcm.

small OUTDIR NAME COUNT: writes COUNT copies of CT_small.dcm (about 39 KB)
    to OUTDIR/NAME/, each with a new SOP Instance UID; the set shares one
    new Study and Series Instance UID, as one association of a modality would.
large OUTFILE MIB: writes one CT instance whose Pixel Data is MIB MiB
    (a repeated 1 MiB random block), streamed so memory use stays small.

Needs Debian's python3-pydicom (run with /usr/bin/python3).
"""

import os
import sys
import uuid

import pydicom
from pydicom.uid import ExplicitVRLittleEndian

SOURCE = os.path.join(
    os.environ.get("PYDICOM_DATA", "/usr/lib/python3/dist-packages/pydicom/data"),
    "test_files", "CT_small.dcm")

MIB = 1024 * 1024


def new_uid():
    """Return a UID of the 2.25 form (PS3.5 B.2), derived from a random UUID."""
    return "2.25." + str(uuid.uuid4().int)


def load_source():
    dataset = pydicom.dcmread(SOURCE)
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.is_little_endian = True
    dataset.is_implicit_VR = False
    return dataset


def make_small(out_dir, name, count):
    dataset = load_source()
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    dataset.StudyInstanceUID = new_uid()
    dataset.SeriesInstanceUID = new_uid()

    for number in range(count):
        uid = new_uid()
        dataset.SOPInstanceUID = uid
        dataset.file_meta.MediaStorageSOPInstanceUID = uid
        dataset.InstanceNumber = number + 1
        dataset.save_as(os.path.join(folder, "%05d.dcm" % number),
                        write_like_original=False)


def make_large(out_file, mib):
    """Write the header with pydicom, then append Pixel Data (7FE0,0010) OW by hand."""
    dataset = load_source()
    # Pixel Data must be the last element, so the trailing padding goes too.
    del dataset.PixelData
    if (0xFFFC, 0xFFFC) in dataset:
        del dataset[0xFFFC, 0xFFFC]
    uid = new_uid()
    dataset.SOPInstanceUID = uid
    dataset.file_meta.MediaStorageSOPInstanceUID = uid
    dataset.StudyInstanceUID = new_uid()
    dataset.SeriesInstanceUID = new_uid()

    # One frame of 16-bit pixels: MIB MiB = 16384 columns x (MIB * 32) rows.
    rows = mib * 32
    if rows > 65535:
        raise SystemExit("make_instances: %d MiB is more than one frame can hold" % mib)
    dataset.Rows = rows
    dataset.Columns = 16384
    dataset.save_as(out_file, write_like_original=False)

    length = mib * MIB
    block = os.urandom(MIB)
    with open(out_file, "ab") as out:
        # Explicit VR little endian: tag, "OW", 2 reserved bytes, 32-bit length.
        out.write(b"\xe0\x7f\x10\x00OW\x00\x00" + length.to_bytes(4, "little"))
        for _ in range(mib):
            out.write(block)


def main(argv):
    if len(argv) == 5 and argv[1] == "small":
        make_small(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 4 and argv[1] == "large":
        make_large(argv[2], int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
