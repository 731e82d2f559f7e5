#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The storage path against DCMTK's storescu with pydicom's whole data
# corpus (test_files, charset_files, palettes). The files are grouped by
# transfer syntax, so that storescu proposes each compressed syntax as it
# is and sends the pixel data unchanged. For every file that storescu
# sends, the test checks the response status, the index row and the
# stored data set against the original. Files that storescu cannot read
# or cannot send are listed as skipped with the reason.
#
# Usage: tests/interop/test_store_corpus.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"

CONF="$TEST_TMP/cairn.conf"
STORAGE="$TEST_TMP/storage"
EXPLICIT_LE=1.2.840.10008.1.2.1

# storescu_option TRANSFER_SYNTAX_UID: prints the storescu option that
# proposes this syntax, "-" for none needed, or "unsupported".
storescu_option() {
    case "$1" in
        ""|1.2.840.10008.1.2|1.2.840.10008.1.2.1|1.2.840.10008.1.2.2) echo - ;;
        1.2.840.10008.1.2.4.50) echo -xy ;;
        1.2.840.10008.1.2.4.51) echo -xx ;;
        1.2.840.10008.1.2.4.70) echo -xs ;;
        1.2.840.10008.1.2.4.90) echo -xv ;;
        1.2.840.10008.1.2.4.91) echo -xw ;;
        1.2.840.10008.1.2.4.80) echo -xt ;;
        1.2.840.10008.1.2.4.81) echo -xu ;;
        1.2.840.10008.1.2.5) echo -xr ;;
        1.2.840.10008.1.2.1.99) echo -xd ;;
        *) echo unsupported ;;
    esac
}

# element_value FILE TAG: the value of a top-level element as dcmdump reads it, UIDs as numbers.
element_value() {
    dcmdump -q -Un +P "$2" "$1" 2>/dev/null | grep -E "^\($2\)" | head -n 1 \
        | sed -n -e 's/^[^[]*\[\([^]]*\)\].*$/\1/p'
}

# dump_data_set FILE: prints dcmdump of the data set without what storescu's
# re-encoding may change. Group 0002, header and length comments go, and
# so do group lengths (storescu recomputes them) and Data Set Trailing
# Padding (storescu drops it). Undefined and explicit lengths read alike.
dump_data_set() {
    dcmdump -q +L -Un "$1" 2>&1 \
        | grep -a -v -E '^#|^\(0002,|^$|^ *\(fffe,e0[0d]d\)|^ *\([0-9a-f]{4},0000\)|^\(fffc,fffc\)' \
        | sed -e 's/ *#.*$//' -e 's/with \(undefined\|explicit\) length/with length/'
}

# data_set_bytes FILE OUT: writes the data set bytes of FILE (after the
# preamble and File Meta Information, if any) to OUT.
data_set_bytes() {
    python3 - "$1" "$2" <<'PY'
import struct, sys

data = open(sys.argv[1], "rb").read()
pos = 132 if data[128:132] == b"DICM" else 0
# The File Meta Information is always explicit VR little endian.
while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
    vr = data[pos + 4:pos + 6]
    if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
        length = struct.unpack_from("<I", data, pos + 8)[0]
        pos += 12 + length
    else:
        length = struct.unpack_from("<H", data, pos + 6)[0]
        pos += 8 + length
open(sys.argv[2], "wb").write(data[pos:])
PY
}

# Prints a python3 that imports pydicom, or nothing.
pydicom_python() {
    for candidate in python3 /usr/bin/python3; do
        if "$candidate" -c 'import pydicom' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}

if ! command -v storescu >/dev/null; then
    fail "storescu is installed (package dcmtk)"
    finish
    exit 1
fi

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# 1. Group the corpus by transfer syntax. The files directly under
# $PYDICOM_DATA are pydicom's Python modules and download lists.
: > "$TEST_TMP/files.tsv"
while IFS= read -r file; do
    ts=$(element_value "$file" 0002,0010)
    option=$(storescu_option "$ts")
    if [ "$option" = unsupported ]; then
        echo "skipped: $file (storescu has no option to propose transfer syntax $ts)"
        continue
    fi
    printf '%s\t%s\t%s\n' "$file" "$ts" "$option" >> "$TEST_TMP/files.tsv"
    echo "$file" >> "$TEST_TMP/group$option"
done < <(find "$PYDICOM_DATA" -mindepth 2 -type f ! -path '*/__pycache__/*' | sort)
echo "corpus: $(wc -l < "$TEST_TMP/files.tsv") files"

# 2. One storescu call per group, in a fixed order, so that "first sent"
# is well defined for the duplicates of the corpus.
: > "$TEST_TMP/storescu.log"
for option in - -xy -xx -xs -xv -xw -xt -xu -xr -xd; do
    [ -f "$TEST_TMP/group$option" ] || continue
    mapfile -t group < "$TEST_TMP/group$option"
    extra=()
    [ "$option" = - ] || extra=("$option")
    echo "storescu ${extra[*]:-(no option)}: ${#group[@]} files"
    timeout 600 storescu -R -nh -v -aec CAIRN -to 30 -ta 30 -td 60 "${extra[@]}" \
        127.0.0.1 "$PORT" "${group[@]}" >> "$TEST_TMP/storescu.log" 2>&1
    rc=$?
    check "storescu ${extra[*]:-(no option)} finishes within 600 s" test "$rc" -ne 124
done

# 3. Parse the storescu log into one line per file:
# FILE <TAB> OUTCOME (sent, skipped, unsent) <TAB> DETAIL <TAB> SENT TS NAME.
python3 - "$TEST_TMP/files.tsv" "$TEST_TMP/storescu.log" > "$TEST_TMP/outcomes.tsv" <<'PY'
import re, sys

files = [line.split("\t")[0] for line in open(sys.argv[1], encoding="utf-8").read().splitlines()]
outcome = {}
order = []
current = None
errors = []  # E: lines since the last file event, to give a skip its reason
for line in open(sys.argv[2], encoding="utf-8", errors="replace").read().splitlines():
    m = re.match(r"I: Sending file: (.*)$", line)
    if m:
        current = m.group(1)
        outcome[current] = ["unsent", "no response", ""]
        order.append(current)
        errors = []
        continue
    m = re.match(r"I: Converting transfer syntax: .* -> (.*)$", line)
    if m and current:
        outcome[current][2] = m.group(1)
        continue
    m = re.match(r"I: Received Store Response \((.*)\)$", line)
    if m and current:
        outcome[current][0:2] = ["sent", m.group(1)]
        continue
    m = re.search(r"unable to convert dataset from '(.*)' transfer syntax to '(.*)'", line)
    if m and current:
        outcome[current][0:2] = ["skipped", "storescu has no codec to convert %s to %s" % m.groups()]
        continue
    m = re.match(r"W: (.*) in file: (.*), ignoring file$", line)
    if m:
        reason = "storescu: " + m.group(1)
        if errors:
            reason += " (" + errors[-1] + ")"
        outcome[m.group(2)] = ["skipped", reason, ""]
        order.append(m.group(2))
        errors = []
        continue
    m = re.match(r"E: (.*)$", line)
    if m:
        errors.append(m.group(1))
        if current and outcome[current][0] == "unsent":
            outcome[current][1] = m.group(1)

for f in order + [f for f in files if f not in outcome]:
    state = outcome.get(f, ["unsent", "not in the storescu log", ""])
    print("\t".join([f] + state))
PY

# 4. The expected outcome of each file sent, and the first file of each SOP Instance UID.
: > "$TEST_TMP/sent.tsv"
while IFS=$'\t' read -r file state detail sent_ts_name; do
    case "$state" in
        skipped) echo "skipped: $file ($detail)"; continue ;;
        unsent) fail "storescu sends $file ($detail)"; continue ;;
    esac

    sop_uid=$(element_value "$file" 0008,0018)
    study_uid=$(element_value "$file" 0020,000d)
    series_uid=$(element_value "$file" 0020,000e)
    if [ -z "$study_uid" ] || [ -z "$series_uid" ]; then
        # The conformance statement: no Study or Series Instance UID gives A900.
        if [ "$detail" = "Error: DataSetDoesNotMatchSOPClass" ]; then
            pass "$file without Study/Series Instance UID gets A900"
        else
            fail "$file without Study/Series Instance UID gets A900 (got $detail)"
        fi
        continue
    fi
    if [ "$detail" != Success ]; then
        fail "storescu gets Success for $file (got $detail)"
        continue
    fi
    printf '%s\t%s\t%s\n' "$file" "$sop_uid" "$sent_ts_name" >> "$TEST_TMP/sent.tsv"
done < "$TEST_TMP/outcomes.tsv"
sent_count=$(wc -l < "$TEST_TMP/sent.tsv")
check "storescu got Success for at least 80 corpus files ($sent_count)" test "$sent_count" -ge 80

# The first file sent for each SOP Instance UID is the one the archive keeps.
awk -F'\t' '!seen[$2]++' "$TEST_TMP/sent.tsv" > "$TEST_TMP/first.tsv"
unique_count=$(wc -l < "$TEST_TMP/first.tsv")
echo "sent with Success: $sent_count files, $unique_count distinct SOP Instance UIDs"

# storescu re-encodes what it reads (it drops Data Set Trailing Padding,
# may change sequence lengths), so the original file is no byte-exact
# reference. DCMTK's storescp in bit-preserving mode records exactly what
# storescu sends: the kept files go to it with the same options.
REF_PORT=$(free_port)
mkdir -p "$TEST_TMP/reference"
# NOTE: storescp 3.6.7 has no option to bind to one address, so it listens
# on every interface while this step runs. Only loopback clients send to it.
storescp +B +xa -aet REFERENCE -od "$TEST_TMP/reference" "$REF_PORT" \
    > "$TEST_TMP/storescp.log" 2>&1 &
STORESCP_PID=$!
trap 'kill "$STORESCP_PID" 2>/dev/null; cleanup' EXIT
reference_up=no
for _ in $(seq 1 100); do
    if echoscu -aec REFERENCE 127.0.0.1 "$REF_PORT" >/dev/null 2>&1; then
        reference_up=yes
        break
    fi
    sleep 0.1
done
check "storescp (reference) answers C-ECHO within 10 s" test "$reference_up" = yes
for option in - -xy -xx -xs -xv -xw -xt -xu -xr -xd; do
    mapfile -t group < <(awk -F'\t' -v opt="$option" 'NR == FNR { if ($3 == opt) want[$1] = 1; next }
                                                     want[$1] { print $1 }' \
                             "$TEST_TMP/files.tsv" "$TEST_TMP/first.tsv")
    [ "${#group[@]}" -gt 0 ] || continue
    extra=()
    [ "$option" = - ] || extra=("$option")
    timeout 600 storescu -R -nh -aec REFERENCE -to 30 -ta 30 -td 60 "${extra[@]}" \
        127.0.0.1 "$REF_PORT" "${group[@]}" >> "$TEST_TMP/storescu-reference.log" 2>&1
done
kill "$STORESCP_PID" 2>/dev/null
wait "$STORESCP_PID" 2>/dev/null
# SOP Instance UID <TAB> reference file
for ref in "$TEST_TMP"/reference/*; do
    [ -f "$ref" ] && printf '%s\t%s\n' "$(element_value "$ref" 0002,0003)" "$ref"
done > "$TEST_TMP/reference.tsv"
echo "storescp reference: $(wc -l < "$TEST_TMP/reference.tsv") files"

# 5. The index: one row per distinct SOP Instance UID.
timeout 60 "$CAIRN" --config "$CONF" instances --json > "$TEST_TMP/instances.json"
check "cairn instances --json exits 0" test $? -eq 0
python3 - "$TEST_TMP/instances.json" > "$TEST_TMP/instances.tsv" <<'PY'
import json, sys
for row in json.load(open(sys.argv[1], encoding="utf-8")):
    print("\t".join([row["sop_instance_uid"], row["sop_class_uid"], row["transfer_syntax_uid"], row["path"]]))
PY
index_count=$(wc -l < "$TEST_TMP/instances.tsv")
check "index has one row per distinct SOP Instance UID ($index_count of $unique_count)" \
    test "$index_count" -eq "$unique_count"
duplicate_rows=$(cut -f1 "$TEST_TMP/instances.tsv" | sort | uniq -d | wc -l)
check "no SOP Instance UID has two index rows" test "$duplicate_rows" -eq 0
kept_logged=$(grep -c 'storage: duplicate .*: kept the archived instance' "$TEST_TMP/cairnd.log")
check "cairnd logs each of the $((sent_count - unique_count)) duplicates as kept ($kept_logged)" \
    test "$kept_logged" -eq $((sent_count - unique_count))

# 6. Each kept instance: index row, stored data set against the storescp
# reference (bytes) and against the original file (dcmdump).
while IFS=$'\t' read -r file sop_uid sent_ts_name; do
    row=$(awk -F'\t' -v uid="$sop_uid" '$1 == uid' "$TEST_TMP/instances.tsv")
    if [ -z "$row" ]; then
        fail "$file ($sop_uid) is in the index"
        continue
    fi
    IFS=$'\t' read -r _ row_class row_ts row_path <<< "$row"
    stored="$STORAGE/$row_path"

    expected_class=$(element_value "$file" 0008,0016)
    original_ts=$(grep -F "$file"$'\t' "$TEST_TMP/files.tsv" | head -n 1 | cut -f2)
    case "$sent_ts_name" in
        "Little Endian Explicit") expected_ts=$EXPLICIT_LE ;;
        "Little Endian Implicit") expected_ts=1.2.840.10008.1.2 ;;
        "Big Endian Explicit") expected_ts=1.2.840.10008.1.2.2 ;;
        *) expected_ts=$original_ts ;;
    esac

    errors=""
    [ "$row_class" = "$expected_class" ] || errors+=" SOP Class UID $row_class, expected $expected_class;"
    [ "$row_ts" = "$expected_ts" ] || errors+=" transfer syntax $row_ts, expected $expected_ts;"
    [ -f "$stored" ] || errors+=" stored file $row_path is missing;"
    if [ -f "$stored" ]; then
        stored_ts=$(element_value "$stored" 0002,0010)
        [ "$stored_ts" = "$row_ts" ] || errors+=" stored file meta says $stored_ts;"
        # Byte for byte against what storescp recorded of the same send.
        reference=$(awk -F'\t' -v uid="$sop_uid" '$1 == uid { print $2; exit }' "$TEST_TMP/reference.tsv")
        if [ -z "$reference" ]; then
            errors+=" storescp recorded no reference file (see storescu-reference.log);"
        elif [ "$(element_value "$reference" 0002,0010)" = "$row_ts" ]; then
            data_set_bytes "$reference" "$TEST_TMP/reference.bin"
            data_set_bytes "$stored" "$TEST_TMP/stored.bin"
            cmp -s "$TEST_TMP/reference.bin" "$TEST_TMP/stored.bin" \
                || errors+=" stored data set bytes differ from what storescp received;"
        else
            echo "note: storescp negotiated another transfer syntax for $file; dcmdump comparison only"
        fi

        # Element by element against the original file.
        dump_data_set "$file" > "$TEST_TMP/original.dump"
        dump_data_set "$stored" > "$TEST_TMP/stored.dump"
        if ! diff -q "$TEST_TMP/original.dump" "$TEST_TMP/stored.dump" >/dev/null; then
            errors+=" dcmdump of the stored data set differs from the original:"
            errors+=$(diff "$TEST_TMP/original.dump" "$TEST_TMP/stored.dump" | head -n 6 | tr '\n' ' ')
        fi
    fi
    if [ -z "$errors" ]; then
        pass "$file stored and indexed as sent"
    else
        fail "$file stored and indexed as sent:$errors"
    fi
done < "$TEST_TMP/first.tsv"

# 7. Index values of a few files, the expected values taken with pydicom.
PYDICOM_PY=$(pydicom_python)
timeout 60 "$CAIRN" --config "$CONF" patients --json > "$TEST_TMP/patients.json"
timeout 60 "$CAIRN" --config "$CONF" studies --json > "$TEST_TMP/studies.json"
timeout 60 "$CAIRN" --config "$CONF" series --json > "$TEST_TMP/series.json"
if [ -z "$PYDICOM_PY" ]; then
    fail "a python3 with pydicom is installed (package python3-pydicom)"
else
    "$PYDICOM_PY" - "$TEST_TMP" "$PYDICOM_DATA" > "$TEST_TMP/index_checks.txt" 2>&1 <<'PY'
import collections, json, os, sys
import pydicom
import pydicom.charset

tmp, data = sys.argv[1], sys.argv[2]
patients = json.load(open(os.path.join(tmp, "patients.json"), encoding="utf-8"))
studies = json.load(open(os.path.join(tmp, "studies.json"), encoding="utf-8"))
series = json.load(open(os.path.join(tmp, "series.json"), encoding="utf-8"))
first = [line.split("\t")[0] for line in open(os.path.join(tmp, "first.tsv"), encoding="utf-8").read().splitlines()]

def report(ok, what):
    print(("PASS\t" if ok else "FAIL\t") + what)

# Patient rows: Patient ID and Patient's Name converted to UTF-8.
for name in ("charset_files/chrRuss.dcm", "charset_files/chrJapMulti.dcm",
             "charset_files/chrH31.dcm", "charset_files/chrX2.dcm",
             "charset_files/chrGreek.dcm", "test_files/CT_small.dcm"):
    ds = pydicom.dcmread(os.path.join(data, name))
    rows = [p for p in patients if p["patient_id"] == ds.PatientID]
    # The raw value decoded, so that empty trailing component groups stay
    # as they are in the file (str() of a PersonName drops them).
    raw = ds.PatientName.original_string
    encodings = pydicom.charset.convert_encodings(ds.SpecificCharacterSet)
    expected = pydicom.charset.decode_bytes(raw, encodings, {0x5E, 0x3D}).strip(" ")
    got = rows[0]["name"] if rows else None
    report(len(rows) == 1 and got == expected,
           "%s: patient %s named %r in the index (got %r)" % (name, ds.PatientID, expected, got))

    study = [s for s in studies if s["study_instance_uid"] == ds.StudyInstanceUID]
    report(len(study) == 1, "%s: study %s in the index" % (name, ds.StudyInstanceUID))
    one_series = [s for s in series if s["series_instance_uid"] == ds.SeriesInstanceUID]
    modality = str(ds.get("Modality", ""))
    got_modality = one_series[0]["modality"] if one_series else None
    report(len(one_series) == 1 and got_modality == modality,
           "%s: series modality %r (got %r)" % (name, modality, got_modality))

# Series and instance counts per study, over the kept files.
instances_per_study = collections.Counter()
series_per_study = collections.defaultdict(set)
for path in first:
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    instances_per_study[ds.StudyInstanceUID] += 1
    series_per_study[ds.StudyInstanceUID].add(ds.SeriesInstanceUID)
for s in studies:
    uid = s["study_instance_uid"]
    report(s["instance_count"] == instances_per_study[uid]
           and s["series_count"] == len(series_per_study[uid]),
           "study %s has %d series and %d instances (index: %d, %d)"
           % (uid, len(series_per_study[uid]), instances_per_study[uid],
              s["series_count"], s["instance_count"]))
report(len(studies) == len(instances_per_study),
       "index has %d studies (got %d)" % (len(instances_per_study), len(studies)))
PY
    while IFS=$'\t' read -r verdict what; do
        case "$verdict" in
            PASS) pass "$what" ;;
            FAIL) fail "$what" ;;
            *) fail "index check script: $verdict $what" ;;
        esac
    done < "$TEST_TMP/index_checks.txt"
fi

# 8. The archive is consistent, nothing is left in tmp/, and the daemon lived through it all.
timeout 120 "$CAIRN" --config "$CONF" check > "$TEST_TMP/check.out" 2>&1
rc=$?
check "cairn check exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || head -n 20 "$TEST_TMP/check.out"
leftover=$(find "$STORAGE/tmp" -type f -not -name .lock 2>/dev/null | wc -l)
check "storage tmp/ is empty" test "$leftover" -eq 0
check "cairnd still running" cairnd_alive
check_no_sanitizer_report
stop_cairnd
finish
