#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fill Cairn's SQLite index with a large synthetic archive, or write peer files.

Usage:
  make_index.py index DB [options]     rows straight into an index database
  make_index.py files DIR [options]    small DICOM files of the first studies
  make_index.py keys [options]         query keys of the benchmark, as JSON
  make_index.py subset [options]       folders of `files` for a peer that
                                       holds at most --max-studies studies

Options: --studies N (10000) --series N (5 per study) --instances N (20 per
series) --patients N (studies / 2) --seed N (1) --limit-studies N (files
and keys: only the first N studies) --peer-series N --peer-instances N
(files only: write at most N series per study and N instances per series,
except for the query study that `keys` names, which is always written in
full; 0, the default, means all) --max-studies N (subset only, 500).

The archive is a pure function of the options: every mode rebuilds the same
patients, studies, series and UIDs from the seed, so the peers loaded with
`files` hold the first studies of what `index` put into Cairn, and `keys`
names UIDs and names that exist in both.

`index` needs a database that cairnd has created (schema version 2 or
later, see plugins/index-sqlite/schema.c) and that holds no rows. The
versions after 2 only add tables that this script leaves empty (jobs,
rejections, MPPS, commitments and others). It inserts rows in
one transaction with the schema's triggers active, so the counts and the
study-level lists come out as a C-STORE of each instance would leave them,
including the case-folded name columns. Instance paths point at files that
do not exist: C-FIND reads only the index. It runs no ANALYZE, as an
archive filled by C-STORE has none.
"""

import argparse
import json
import os
import random
import sqlite3
import struct
import sys
import time

MIN_SCHEMA_VERSION = 2  # patient name columns and rejected flag

# Common family names, weighted roughly by frequency; a few non-ASCII ones.
FAMILY = [
    ("Smith", 30), ("Johnson", 22), ("Williams", 20), ("Brown", 18), ("Jones", 18),
    ("Garcia", 15), ("Miller", 14), ("Davis", 14), ("Rodriguez", 12), ("Martinez", 12),
    ("Hernandez", 11), ("Lopez", 10), ("Wilson", 10), ("Anderson", 9), ("Thomas", 9),
    ("Taylor", 9), ("Moore", 8), ("Jackson", 8), ("Martin", 8), ("Lee", 8),
    ("Thompson", 7), ("White", 7), ("Harris", 7), ("Clark", 6), ("Lewis", 6),
    ("Robinson", 6), ("Walker", 6), ("Young", 5), ("Allen", 5), ("King", 5),
    ("Smithson", 2), ("Smithers", 1), ("Schmidt", 6), ("Schneider", 5), ("Fischer", 5),
    ("Weber", 4), ("Meyer", 4), ("Wagner", 4), ("Becker", 3), ("Hoffmann", 3),
    ("Müller", 6), ("Schröder", 3), ("Jäger", 2), ("Größer", 1), ("García", 4),
    ("Fernández", 3), ("González", 3), ("Pérez", 3), ("Sánchez", 3), ("Núñez", 2),
    ("Dubois", 3), ("Lefèvre", 2), ("Bérénger", 1), ("Rossi", 4), ("Russo", 3),
    ("Ferrari", 3), ("Sørensen", 2), ("Åberg", 1), ("Nowak", 3), ("Kowalski", 3),
    ("Łukasik", 1), ("Dvořák", 1), ("Novák", 2), ("Nguyen", 6), ("Tran", 3),
    ("Kim", 5), ("Park", 4), ("Chen", 6), ("Wang", 6), ("Li", 6),
    ("Иванов", 2), ("Петрова", 1), ("Παπαδόπουλος", 1), ("O'Brien", 2), ("Van der Berg", 1),
]
GIVEN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Maria", "Anna", "Peter", "Eva", "Lukas",
    "Sofia", "José", "Zoë", "Chloé", "Björn", "Jürgen", "Ingrid", "Søren", "Łucja",
    "Mei", "Wei", "Minh", "Ji-woo", "Olga", "Dmitri", "Ali", "Fatima",
]
# Japanese patients, stored with alphabetic, ideographic and phonetic groups.
JAPANESE = [
    ("Yamada", "Tarou", "山田", "太郎", "やまだ", "たろう"),
    ("Suzuki", "Hanako", "鈴木", "花子", "すずき", "はなこ"),
    ("Sato", "Kenji", "佐藤", "健二", "さとう", "けんじ"),
    ("Tanaka", "Yuki", "田中", "由紀", "たなか", "ゆき"),
]
MODALITIES = [
    # modality, SOP Class UID, study descriptions
    ("CT", "1.2.840.10008.5.1.4.1.1.2", ["CT CHEST", "CT ABDOMEN PELVIS", "CT HEAD"]),
    ("MR", "1.2.840.10008.5.1.4.1.1.4", ["MR BRAIN", "MR KNEE", "MR LUMBAR SPINE"]),
    ("CR", "1.2.840.10008.5.1.4.1.1.1", ["CR CHEST PA", "CR HAND"]),
    ("US", "1.2.840.10008.5.1.4.1.1.6.1", ["US ABDOMEN", "US THYROID"]),
    ("DX", "1.2.840.10008.5.1.4.1.1.1.1", ["DX CHEST", "DX KNEE"]),
    ("MG", "1.2.840.10008.5.1.4.1.1.1.2", ["MG SCREENING BILATERAL"]),
]
REFERRING = ["Adams^Grace", "Baker^Henry", "Carter^Irene", "Duarte^João", "Evans^Kate"]
FIRST_DAY = 732312  # date(2006, 1, 1).toordinal()
DAYS = 7305         # 20 years


def fold(text):
    """Case-fold as plugins/index-sqlite/fold.c does: one code point to one."""
    out = []
    for ch in text:
        c = ord(ch)
        if c < 0x80:
            c = c + 32 if 0x41 <= c <= 0x5A else c
        elif 0xC0 <= c <= 0xDE and c != 0xD7:
            c += 32
        elif 0x100 <= c <= 0x137 or 0x14A <= c <= 0x177:
            c = c + 1 if c % 2 == 0 else c
        elif 0x139 <= c <= 0x148 or 0x179 <= c <= 0x17E:
            c = c + 1 if c % 2 == 1 else c
        elif c == 0x178:
            c = 0xFF
        elif 0x391 <= c <= 0x3A9 and c != 0x3A2:
            c += 32
        elif c == 0x386:
            c = 0x3AC
        elif 0x388 <= c <= 0x38A:
            c += 37
        elif c == 0x38C:
            c = 0x3CC
        elif c in (0x38E, 0x38F):
            c += 63
        elif 0x410 <= c <= 0x42F:
            c += 32
        elif 0x400 <= c <= 0x40F:
            c += 80
        elif 0xFF21 <= c <= 0xFF3A:
            c += 32
        out.append(chr(c))
    return "".join(out)


def ymd(ordinal):
    import datetime
    return datetime.date.fromordinal(ordinal).strftime("%Y%m%d")


class Archive:
    """The synthetic archive, rebuilt from the seed in the same order every time."""

    def __init__(self, args):
        self.args = args
        rng = random.Random(args.seed)
        names, weights = zip(*FAMILY)
        self.patients = []
        for p in range(args.patients):
            if rng.random() < 0.02:
                fam, giv, fam_i, giv_i, fam_p, giv_p = rng.choice(JAPANESE)
                name = "%s^%s=%s^%s=%s^%s" % (fam.upper(), giv.upper(), fam_i, giv_i,
                                              fam_p, giv_p)
                charset = "ISO_IR 192"
            else:
                fam = rng.choices(names, weights)[0]
                name = ("%s^%s" % (fam, rng.choice(GIVEN))).upper()
                charset = "ISO_IR 192" if any(ord(c) > 127 for c in name) else ""
            birth = ymd(FIRST_DAY - rng.randrange(365 * 90))
            self.patients.append(("P%07d" % (p + 1), name, birth, rng.choice("FM"), charset))
        self.seed = args.seed

    def uid(self, rng):
        return "2.25.%d" % rng.getrandbits(126)

    def studies(self, limit=None):
        """Yield (study, [(series, [instance...])...]) tuples in a fixed order."""
        args = self.args
        rng = random.Random(self.seed * 1000003 + 7)
        count = args.studies if limit is None else min(limit, args.studies)
        for s in range(count):
            patient = self.patients[(s * 7919) % len(self.patients)]
            modality, sop_class, descriptions = rng.choice(MODALITIES)
            study = {
                "patient": patient,
                "uid": self.uid(rng),
                "date": ymd(FIRST_DAY + rng.randrange(DAYS)),
                "time": "%02d%02d%02d" % (rng.randrange(7, 20), rng.randrange(60),
                                          rng.randrange(60)),
                "accession": "A%08d" % (s + 1),
                "study_id": str(s % 1000 + 1),
                "referring": rng.choice(REFERRING),
                "description": rng.choice(descriptions),
            }
            series_list = []
            for n in range(args.series):
                series = {"uid": self.uid(rng), "modality": modality, "number": n + 1,
                          "description": "%s SERIES %d" % (modality, n + 1)}
                instances = [(self.uid(rng), sop_class, i + 1) for i in range(args.instances)]
                series_list.append((series, instances))
            yield study, series_list


def check_database(db):
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version < MIN_SCHEMA_VERSION:
        raise SystemExit("make_index: the database has schema version %d, this script needs"
                         " version %d or later; start cairnd once on it first"
                         % (version, MIN_SCHEMA_VERSION))
    if db.execute("SELECT count(*) FROM instance").fetchone()[0] != 0:
        raise SystemExit("make_index: the database already contains instances; use a new one")


def fill_index(path, archive):
    db = sqlite3.connect(path, isolation_level=None)
    check_database(db)
    db.execute("PRAGMA cache_size = -262144")  # 256 MiB, for the UNIQUE UID indexes
    db.execute("BEGIN IMMEDIATE")

    patient_ids = {}
    for pid, name, birth, sex, charset in archive.patients:
        groups = name.split("=") + ["", ""] if "=" in name else ["", "", ""]
        cursor = db.execute(
            "INSERT INTO patient (patient_id, issuer, name, birth_date, sex, charset,"
            " name_folded, name_alphabetic, name_ideographic, name_phonetic)"
            " VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, ?)",
            (pid, name, birth, sex, charset, fold(name), fold(groups[0]), fold(groups[1]),
             fold(groups[2])))
        patient_ids[pid] = cursor.lastrowid

    received = int(time.time() * 1e6)
    count = 0
    for study, series_list in archive.studies():
        patient = study["patient"]
        cursor = db.execute(
            "INSERT INTO study (patient, study_uid, study_date, study_time, time_key,"
            " accession_number, study_id, referring_physician, description, charset)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (patient_ids[patient[0]], study["uid"], study["date"], study["time"],
             study["time"] + ".000000", study["accession"], study["study_id"],
             study["referring"], study["description"], patient[4]))
        study_row = cursor.lastrowid
        for series, instances in series_list:
            cursor = db.execute(
                "INSERT INTO series (study, series_uid, modality, series_number, description,"
                " charset) VALUES (?, ?, ?, ?, ?, ?)",
                (study_row, series["uid"], series["modality"], series["number"],
                 series["description"], patient[4]))
            series_row = cursor.lastrowid
            db.executemany(
                "INSERT INTO instance (series, sop_uid, sop_class_uid, instance_number, charset,"
                " path, size, transfer_syntax, received_at_us, calling_ae)"
                " VALUES (?, ?, ?, ?, ?, ?, 2048, '1.2.840.10008.1.2.1', ?, 'BENCHGEN')",
                [(series_row, uid, sop_class, number, patient[4],
                  "synthetic/%08d.dcm" % (count + k), received)
                 for k, (uid, sop_class, number) in enumerate(instances)])
            count += len(instances)
    db.execute("COMMIT")
    db.close()
    return count


# ---- small DICOM files for the peers (explicit VR little endian, no pixels) ----

def element(group, elem, vr, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
        pad = b"\x00" if vr == "UI" else b" "
        if len(value) % 2:
            value += pad
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def dicom_file(patient, study, series, instance):
    uid, sop_class, number = instance
    pid, name, birth, sex, charset = patient
    meta_rest = (element(0x0002, 0x0001, "OB", b"\x00\x01")
                 + element(0x0002, 0x0002, "UI", sop_class)
                 + element(0x0002, 0x0003, "UI", uid)
                 + element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1")
                 + element(0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.10.999.1"))
    meta = element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta_rest))) + meta_rest
    body = b"".join([
        element(0x0008, 0x0005, "CS", "ISO_IR 192") if charset else b"",
        element(0x0008, 0x0016, "UI", sop_class),
        element(0x0008, 0x0018, "UI", uid),
        element(0x0008, 0x0020, "DA", study["date"]),
        element(0x0008, 0x0030, "TM", study["time"]),
        element(0x0008, 0x0050, "SH", study["accession"]),
        element(0x0008, 0x0060, "CS", series["modality"]),
        element(0x0008, 0x0090, "PN", study["referring"]),
        element(0x0008, 0x1030, "LO", study["description"]),
        element(0x0008, 0x103E, "LO", series["description"]),
        element(0x0010, 0x0010, "PN", name),
        element(0x0010, 0x0020, "LO", pid),
        element(0x0010, 0x0030, "DA", birth),
        element(0x0010, 0x0040, "CS", sex),
        element(0x0020, 0x000D, "UI", study["uid"]),
        element(0x0020, 0x000E, "UI", series["uid"]),
        element(0x0020, 0x0010, "SH", study["study_id"]),
        element(0x0020, 0x0011, "IS", str(series["number"])),
        element(0x0020, 0x0013, "IS", str(number)),
    ])
    return bytes(128) + b"DICM" + meta + body


def query_study_index(archive, limit):
    """Position of the study whose series and instances the benchmark queries."""
    count = archive.args.studies if limit is None else min(limit, archive.args.studies)
    return count // 2


def write_files(out_dir, archive, limit, peer_series, peer_instances):
    """Write one folder per study; returns the number of files.

    Studies other than the query study keep only their first peer_series
    series and peer_instances instances per series (0 keeps all), with the
    same UIDs and attributes as in the full archive.
    """
    count = 0
    full = query_study_index(archive, limit)
    for s, (study, series_list) in enumerate(archive.studies(limit)):
        folder = os.path.join(out_dir, "s%05d" % s)
        os.makedirs(folder, exist_ok=True)
        if s != full and peer_series > 0:
            series_list = series_list[:peer_series]
        for series, instances in series_list:
            if s != full and peer_instances > 0:
                instances = instances[:peer_instances]
            for instance in instances:
                with open(os.path.join(folder, "%07d.dcm" % count), "wb") as out:
                    out.write(dicom_file(study["patient"], study, series, instance))
                count += 1
    return count


def query_keys(archive, limit):
    """Name, date range and UIDs the benchmark queries, from the first `limit` studies.

    The date range is the year of the first SMITH study among them, so the
    study query matches at least one study on every server.
    """
    studies = list(archive.studies(limit))
    study, series_list = studies[query_study_index(archive, limit)]
    year = "2015"
    for candidate, _ in studies:
        if candidate["patient"][1].startswith("SMITH"):
            year = candidate["date"][:4]
            break
    return {
        "name": "SMITH*",
        "date_range": "%s0101-%s1231" % (year, year),
        "study_matches": len(study_query_matches(studies, year)),
        "study_uid": study["uid"],
        "series_uid": series_list[0][0]["uid"],
        "series_count": len(series_list),
        "instance_count": len(series_list[0][1]),
    }


def study_query_matches(studies, year):
    """Positions of the studies that the STUDY query (SMITH*, one year) matches."""
    return [s for s, (study, _) in enumerate(studies)
            if study["patient"][1].startswith("SMITH") and study["date"][:4] == year]


def subset_folders(archive, limit, max_studies):
    """Folder names of `files` for a peer with a maximum number of studies.

    The query study and every study the STUDY query matches come first, so
    each query returns the same rows as from the whole archive. The first
    other studies fill the rest.
    """
    studies = list(archive.studies(limit))
    year = query_keys(archive, limit)["date_range"][:4]
    chosen = [query_study_index(archive, limit)]
    chosen += [s for s in study_query_matches(studies, year) if s not in chosen]
    if len(chosen) > max_studies:
        raise SystemExit("make_index: the queries match %d studies, more than --max-studies %d"
                         % (len(chosen), max_studies))
    taken = set(chosen)
    others = (s for s in range(len(studies)) if s not in taken)
    while len(chosen) < min(max_studies, len(studies)):
        chosen.append(next(others))
    return ["s%05d" % s for s in sorted(chosen)]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["index", "files", "keys", "subset"])
    parser.add_argument("target", nargs="?")
    parser.add_argument("--studies", type=int, default=10000)
    parser.add_argument("--series", type=int, default=5)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--patients", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit-studies", type=int, default=None)
    parser.add_argument("--peer-series", type=int, default=0)
    parser.add_argument("--peer-instances", type=int, default=0)
    parser.add_argument("--max-studies", type=int, default=500)
    args = parser.parse_args(argv[1:])
    if args.patients <= 0:
        args.patients = max(1, args.studies // 2)
    if args.mode in ("index", "files") and not args.target:
        parser.error("%s needs a target" % args.mode)

    archive = Archive(args)
    start = time.monotonic()
    if args.mode == "index":
        count = fill_index(args.target, archive)
        print("instances=%d studies=%d patients=%d seconds=%.1f"
              % (count, args.studies, args.patients, time.monotonic() - start))
    elif args.mode == "files":
        count = write_files(args.target, archive, args.limit_studies, args.peer_series,
                            args.peer_instances)
        print("files=%d seconds=%.1f" % (count, time.monotonic() - start))
    elif args.mode == "subset":
        print("\n".join(subset_folders(archive, args.limit_studies, args.max_studies)))
    else:
        print(json.dumps(query_keys(archive, args.limit_studies)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
