#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers of test_qr_sequences.sh, on pydicom.

  make DIR UID_ROOT   writes four CT instances with known sequences
  show FILE...        prints one line per C-FIND response identifier:
                      "<Study, Series or SOP Instance UID> <sequence>"
                      where each sequence is TAG[item|item] and each item
                      lists keyword=value of its attributes in tag order
                      (a nested sequence as keyword[...]).
"""
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def code(value, scheme, meaning=None):
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    if meaning is not None:
        item.CodeMeaning = meaning
    return item


def instance(root, number, patient, procedures, protocol, requesting):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = f"{root}.{number}.1.1"
    ds.StudyInstanceUID = f"{root}.{number}"
    ds.SeriesInstanceUID = f"{root}.{number}.1"
    ds.PatientName = f"SEQ^{patient}"
    ds.PatientID = f"SEQ-{patient}"
    ds.StudyDate = "20240105"
    ds.Modality = "CT"
    ds.SeriesNumber = "1"
    ds.InstanceNumber = "1"
    if procedures:
        ds.ProcedureCodeSequence = Sequence([code(*p) for p in procedures])
    if protocol is not None:
        request = Dataset()
        request.RequestedProcedureID = f"RP{number}"
        request.RequestingPhysician = requesting
        request.ScheduledProtocolCodeSequence = Sequence([code(protocol, "99X")])
        ds.RequestAttributesSequence = Sequence([request])

    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    return ds


def make(folder, root):
    instances = [
        instance(root, 1, "ONE",
                 [("CT-HEAD", "LN", "CT Head"), ("CT-NECK", "LN", "CT Neck with contrast"),
                  ("CT-CHEST", "LN", "CT Chest")],
                 "PROT1", "Müller^Hans"),
        instance(root, 2, "TWO", [("MR-KNEE", "LN", "MR Knee")], "PROT2", "Jones^Ann"),
        instance(root, 3, "THREE", [], None, None),
        instance(root, 4, "FOUR", [("US-ABD", "LN", "US Abdomen")], None, None),
    ]
    for number, ds in enumerate(instances, start=1):
        ds.save_as(f"{folder}/seq-{number}.dcm", write_like_original=False)


def describe(ds):
    parts = []
    for element in ds:
        if element.VR == "SQ":
            items = "|".join(describe(item) for item in element.value)
            parts.append(f"{element.keyword}[{items}]")
        else:
            value = "" if element.value is None else str(element.value)
            parts.append(f"{element.keyword}={value}")
    return ",".join(parts)


def show(paths):
    import pydicom

    lines = []
    for path in paths:
        ds = pydicom.dcmread(path, force=True)
        uid = ds.get("SOPInstanceUID") or ds.get("SeriesInstanceUID") or ds.get(
            "StudyInstanceUID")
        if ds.get("QueryRetrieveLevel") == "STUDY":
            uid = ds.StudyInstanceUID
        elif ds.get("QueryRetrieveLevel") == "SERIES":
            uid = ds.SeriesInstanceUID
        sequences = [f"{e.keyword}[{'|'.join(describe(i) for i in e.value)}]"
                     for e in ds if e.VR == "SQ"]
        lines.append(" ".join([str(uid)] + sequences))
    for line in sorted(lines):
        print(line)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 2 and sys.argv[1] == "show":
        show(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
