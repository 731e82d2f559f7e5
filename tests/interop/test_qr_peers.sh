#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Query/Retrieve checks that DCMTK's findscu, movescu and getscu cannot
# make (test_qr.sh covers those tools):
#   1. dcmjs-dimse from npm as the C-FIND SCU (Study Root and Patient Root,
#      study and series levels, a Patient's Name wildcard, date ranges) and
#      as the C-MOVE SCU towards a DCMTK storescp listed in `remotes`;
#   2. C-FIND by Patient's Name encoded in the character set of the stored
#      file and in another one (qr_peer_checks.py charset);
#   3. C-CANCEL-RQ during C-MOVE and C-GET of a 300-instance series, with
#      the raw client as storage SCP of the C-GET;
#   4. relational queries and retrievals (C-GET, C-MOVE by SOP Instance
#      UID alone) accepted through SOP Class Extended Negotiation.
#
# Usage: tests/interop/test_qr_peers.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

INTEROP_DIR="$(cd "$(dirname "$0")" && pwd)"
NODE_DIR="$INTEROP_DIR/node"
CHECKS="$INTEROP_DIR/qr_peer_checks.py"
TEST_FILES="$PYDICOM_DATA/test_files"
CHARSET_FILES="$PYDICOM_DATA/charset_files"
UID_ROOT=1.2.826.0.1.3680043.9.7433.99.6
SERIES_COUNT=300

CT_STUDY=1.3.6.1.4.1.5962.1.2.1.20040119072730.12322
MR_STUDY=1.3.6.1.4.1.5962.1.2.4.20040826185059.5457

# Every charset file with its own SOP Instance UID. chrFrenMulti.dcm and
# chrJapMultiExplicitIR6.dcm repeat the UIDs of chrFren.dcm and
# chrJapMulti.dcm, and chrSQEncoding*.dcm have no SOP Instance UID.
CHARSET_NAMES="chrArab chrFren chrGerm chrGreek chrH31 chrH32 chrHbrw chrI2 chrJapMulti
               chrKoreanMulti chrRuss chrX1 chrX2"

start_watchdog 600

PORT=$(free_port)
NODE_DEST_PORT=$(free_port)
CANCEL_DEST_PORT=$(free_port)
write_config
cat >> "$CONF" <<CONF
remotes = (
  { title = "NODEDEST"; host = "127.0.0.1"; port = $NODE_DEST_PORT; },
  { title = "CANCELDEST"; host = "127.0.0.1"; port = $CANCEL_DEST_PORT; }
);
CONF
start_cairnd || { fail "cairnd starts with the qr plugin"; finish; exit 1; }

# start_storescp NAME PORT: a storescp with AE title NAME writing to $TEST_TMP/NAME/.
start_storescp() {
    mkdir -p "$TEST_TMP/$1"
    storescp -aet "$1" -od "$TEST_TMP/$1" "$2" > "$TEST_TMP/$1.log" 2>&1 &
    PEER_PIDS="$PEER_PIDS $!"
    for _ in $(seq 1 100); do
        echoscu -aec "$1" 127.0.0.1 "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "storescp $1 did not answer C-ECHO within 10 s"
    return 1
}

# file_count DIR: the number of files in DIR.
file_count() {
    find "$1" -maxdepth 1 -type f | wc -l
}

# wait_file_count DIR COUNT: waits at most 10 s until DIR contains COUNT files.
wait_file_count() {
    for _ in $(seq 1 100); do
        [ "$(file_count "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# sop_uid FILE: the SOP Instance UID of a DICOM file.
sop_uid() {
    dcmdump -q +P 0008,0018 "$1" 2>/dev/null | head -n 1 | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p'
}

# sop_uids_received DIR: the SOP Instance UIDs of the files in DIR, sorted.
sop_uids_received() {
    local f
    for f in "$1"/*; do
        sop_uid "$f"
    done | sort
}

# run_checks NAME ARGS...: runs qr_peer_checks.py and counts its "ok:" and
# "FAILED:" lines; its output stays in $TEST_TMP/NAME.out.
run_checks() {
    local name=$1 line
    shift
    timeout 180 python3 "$CHECKS" "$@" > "$TEST_TMP/$name.out" 2>&1
    local rc=$?
    while IFS= read -r line; do
        case "$line" in
            "ok: "*) pass "${line#ok: }" ;;
            "FAILED: "*) fail "${line#FAILED: }" ;;
        esac
    done < "$TEST_TMP/$name.out"
    if [ "$rc" -ne 0 ]; then
        fail "qr_peer_checks.py $1 exits 0 (exit status $rc)"
        grep -v -e '^ok: ' -e '^FAILED: ' "$TEST_TMP/$name.out" | tail -n 20
    fi
}

# checks_value NAME KEY: a "value KEY=..." line of a run_checks output.
checks_value() {
    sed -n "s/^value $2=//p" "$TEST_TMP/$1.out" | tail -n 1
}

start_storescp NODEDEST "$NODE_DEST_PORT" || { fail "storescp NODEDEST starts"; finish; exit 1; }
start_storescp CANCELDEST "$CANCEL_DEST_PORT" || { fail "storescp CANCELDEST starts"; finish; exit 1; }

# --- Fill the archive -----------------------------------------------------------

charset_list=""
for name in $CHARSET_NAMES; do
    charset_list="$charset_list $CHARSET_FILES/$name.dcm"
done
# shellcheck disable=SC2086
timeout 120 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_FILES/CT_small.dcm" "$TEST_FILES/MR_small.dcm" \
    $charset_list > "$TEST_TMP/storescu.log" 2>&1
check "storescu stores CT_small, MR_small and the charset files" test $? -eq 0

synthetic="$TEST_TMP/synthetic"
python3 "$MAKE_INSTANCES" series "$synthetic" --count "$SERIES_COUNT" --uid-root "$UID_ROOT" > /dev/null
SYNTHETIC_STUDY=$(cut -f3 "$synthetic/manifest.tsv" | head -n 1)
SYNTHETIC_SERIES=$(cut -f4 "$synthetic/manifest.tsv" | head -n 1)
SYNTHETIC_INSTANCE=$(cut -f2 "$synthetic/manifest.tsv" | head -n 1)
(cd "$synthetic" && timeout 300 storescu -aec CAIRN 127.0.0.1 "$PORT" inst-*.dcm) \
    > "$TEST_TMP/storescu-synthetic.log" 2>&1
check "storescu stores $SERIES_COUNT synthetic instances of one series" test $? -eq 0

# --- 1. dcmjs-dimse as C-FIND and C-MOVE SCU --------------------------------------

# node_qr NAME ARGS...: runs node/qr.js, keeping its output as $TEST_TMP/node/NAME.out.
node_qr() {
    local name=$1
    shift
    mkdir -p "$TEST_TMP/node"
    timeout 150 node "$NODE_DIR/qr.js" "$@" > "$TEST_TMP/node/$name.out" 2>&1
    local rc=$?
    check "dcmjs-dimse $name: association ends normally" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || tail -n 20 "$TEST_TMP/node/$name.out" | sed 's/^/    /'
}

# node_eval NAME EXPRESSION: prints a Python expression over the responses of
# node/qr.js: r is the list of response objects, the final one last, and
# ids(key) the sorted values of key in the pending responses' identifiers.
node_eval() {
    python3 - "$TEST_TMP/node/$1.out" "$2" <<'PY' 2>&1
import json, sys
r = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.startswith("{")]

def value(identifier, key):
    v = identifier.get(key, "<absent>")
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if isinstance(v, dict):
        v = "=".join(v.get(g, "") for g in ("Alphabetic", "Ideographic", "Phonetic")).rstrip("=")
    return v

def ids(key):
    return " ".join(sorted(str(value(x.get("identifier", {}), key)) for x in r[:-1]))

def final():
    return r[-1]["status"] if r else "none"

print(eval(sys.argv[2]))
PY
}

# expect_node NAME WHAT EXPRESSION EXPECTED: checks a node_eval result.
expect_node() {
    local got
    got=$(node_eval "$1" "$3")
    if [ "$got" = "$4" ]; then pass "dcmjs-dimse $1: $2"; else fail "dcmjs-dimse $1: $2 (got '$got', expected '$4')"; fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    fail "node and npm are installed (packages nodejs, npm)"
else
    if [ ! -d "$NODE_DIR/node_modules/dcmjs-dimse" ]; then
        timeout 300 npm ci --prefix "$NODE_DIR" --no-audit --no-fund > "$TEST_TMP/npm.out" 2>&1
        check "npm ci installs dcmjs-dimse" test $? -eq 0
    fi

    node_qr study-wildcard find "$PORT" CAIRN study \
        '{"QueryRetrieveLevel":"STUDY","PatientName":"CompressedSamples*","PatientID":"","StudyInstanceUID":"","StudyDate":""}'
    expect_node study-wildcard "final status 0x0000" 'final()' 0x0000
    expect_node study-wildcard "pending status 0xFF00" 'sorted(set(x["status"] for x in r[:-1]))' "['0xFF00']"
    expect_node study-wildcard "the CT and MR patients" 'ids("PatientID")' "1CT1 4MR1"
    expect_node study-wildcard "the CT and MR studies" 'ids("StudyInstanceUID")' \
        "$(printf '%s\n' "$CT_STUDY" "$MR_STUDY" | sort | tr '\n' ' ' | sed 's/ $//')"
    expect_node study-wildcard "names as stored" 'ids("PatientName")' \
        "CompressedSamples^CT1 CompressedSamples^MR1"
    expect_node study-wildcard "Query/Retrieve Level STUDY" 'ids("QueryRetrieveLevel")' "STUDY STUDY"

    node_qr study-date-range find "$PORT" CAIRN study \
        '{"QueryRetrieveLevel":"STUDY","StudyDate":"20040101-20041231","StudyInstanceUID":"","PatientID":""}'
    expect_node study-date-range "final status 0x0000" 'final()' 0x0000
    expect_node study-date-range "dates within 2004" 'ids("StudyDate")' "20040119 20040826"

    node_qr study-date-2008 find "$PORT" CAIRN study \
        '{"QueryRetrieveLevel":"STUDY","StudyDate":"20080501-20080531","PatientID":""}'
    expect_node study-date-2008 "final status 0x0000" 'final()' 0x0000
    expect_node study-date-2008 "the Japanese and Korean studies" 'ids("PatientID")' "2008-3 2008-4"

    node_qr series-level find "$PORT" CAIRN study \
        "{\"QueryRetrieveLevel\":\"SERIES\",\"StudyInstanceUID\":\"$SYNTHETIC_STUDY\",\"SeriesInstanceUID\":\"\",\"Modality\":\"\",\"NumberOfSeriesRelatedInstances\":\"\"}"
    expect_node series-level "final status 0x0000" 'final()' 0x0000
    expect_node series-level "the synthetic series" 'ids("SeriesInstanceUID")' "$SYNTHETIC_SERIES"
    expect_node series-level "modality OT" 'ids("Modality")' OT
    expect_node series-level "$SERIES_COUNT related instances" 'ids("NumberOfSeriesRelatedInstances")' "$SERIES_COUNT"

    node_qr patient-root-study find "$PORT" CAIRN patient \
        '{"QueryRetrieveLevel":"STUDY","PatientID":"1CT1","StudyInstanceUID":"","StudyDate":"20040101-"}'
    expect_node patient-root-study "final status 0x0000" 'final()' 0x0000
    expect_node patient-root-study "the CT study" 'ids("StudyInstanceUID")' "$CT_STUDY"

    node_qr patient-root-patient find "$PORT" CAIRN patient \
        '{"QueryRetrieveLevel":"PATIENT","PatientName":"compressed*","PatientID":""}'
    expect_node patient-root-patient "final status 0x0000" 'final()' 0x0000
    expect_node patient-root-patient "two patients" 'ids("PatientID")' "1CT1 4MR1"

    node_qr patient-root-series find "$PORT" CAIRN patient \
        "{\"QueryRetrieveLevel\":\"SERIES\",\"PatientID\":\"4MR1\",\"StudyInstanceUID\":\"$MR_STUDY\",\"SeriesInstanceUID\":\"\",\"Modality\":\"\"}"
    expect_node patient-root-series "final status 0x0000" 'final()' 0x0000
    expect_node patient-root-series "modality MR" 'ids("Modality")' MR

    node_qr series-without-study find "$PORT" CAIRN study \
        '{"QueryRetrieveLevel":"SERIES","Modality":"CT"}'
    expect_node series-without-study "final status 0xA900" 'final()' 0xA900

    node_qr move-study move "$PORT" CAIRN study NODEDEST \
        "{\"QueryRetrieveLevel\":\"STUDY\",\"StudyInstanceUID\":\"$CT_STUDY\"}"
    expect_node move-study "final status 0x0000" 'final()' 0x0000
    expect_node move-study "one completed" 'r[-1]["completed"]' 1
    expect_node move-study "none failed" 'r[-1]["failed"]' 0
    check "dcmjs-dimse move-study: storescp received the CT" wait_file_count "$TEST_TMP/NODEDEST" 1

    node_qr move-series move "$PORT" CAIRN study NODEDEST \
        "{\"QueryRetrieveLevel\":\"SERIES\",\"StudyInstanceUID\":\"$SYNTHETIC_STUDY\",\"SeriesInstanceUID\":\"$SYNTHETIC_SERIES\"}"
    expect_node move-series "final status 0x0000" 'final()' 0x0000
    expect_node move-series "$SERIES_COUNT completed" 'r[-1]["completed"]' "$SERIES_COUNT"
    expect_node move-series "pending responses count down" \
        'all(a["remaining"] > b["remaining"] for a, b in zip(r[:-2], r[1:-1]))' True
    check "dcmjs-dimse move-series: storescp contains $((SERIES_COUNT + 1)) files" \
        wait_file_count "$TEST_TMP/NODEDEST" $((SERIES_COUNT + 1))

    node_qr move-patient-root move "$PORT" CAIRN patient NODEDEST \
        '{"QueryRetrieveLevel":"PATIENT","PatientID":"4MR1"}'
    expect_node move-patient-root "final status 0x0000" 'final()' 0x0000
    check "dcmjs-dimse move-patient-root: storescp received the MR" \
        wait_file_count "$TEST_TMP/NODEDEST" $((SERIES_COUNT + 2))
    check "storescp NODEDEST contains exactly $((SERIES_COUNT + 2)) files" \
        test "$(file_count "$TEST_TMP/NODEDEST")" -eq $((SERIES_COUNT + 2))
    check "storescp NODEDEST received each moved SOP Instance UID" \
        cmp -s <(sop_uids_received "$TEST_TMP/NODEDEST") \
        <({ cut -f2 "$synthetic/manifest.tsv"; sop_uid "$TEST_FILES/CT_small.dcm"; \
            sop_uid "$TEST_FILES/MR_small.dcm"; } | sort)

    node_qr move-unknown move "$PORT" CAIRN study NOWHERE \
        "{\"QueryRetrieveLevel\":\"STUDY\",\"StudyInstanceUID\":\"$CT_STUDY\"}"
    expect_node move-unknown "final status 0xA801" 'final()' 0xA801
fi

# --- 2. Character sets -------------------------------------------------------------

run_checks charset charset --port "$PORT"

# --- 3. C-CANCEL during C-MOVE and C-GET --------------------------------------------

run_checks cancel-move cancel --port "$PORT" --operation move --destination CANCELDEST \
    --study "$SYNTHETIC_STUDY" --series "$SYNTHETIC_SERIES" --total "$SERIES_COUNT" \
    --next-study "$CT_STUDY"
# After the cancelled C-MOVE the checks move the CT study as well.
completed=$(checks_value cancel-move completed)
if [ -n "$completed" ] && [ "$completed" != None ]; then
    wait_file_count "$TEST_TMP/CANCELDEST" $((completed + 1))
    check "C-CANCEL during C-MOVE: storescp contains Completed + 1 ($((completed + 1))) files" \
        test "$(file_count "$TEST_TMP/CANCELDEST")" -eq $((completed + 1))
fi
check "cairnd logs the cancelled C-MOVE" grep -q "C-MOVE .*status 0xFE00" "$TEST_TMP/cairnd.log"

run_checks cancel-get cancel --port "$PORT" --operation get \
    --study "$SYNTHETIC_STUDY" --series "$SYNTHETIC_SERIES" --total "$SERIES_COUNT" \
    --next-study "$CT_STUDY"
check "cairnd logs the cancelled C-GET" grep -q "C-GET .*status 0xFE00" "$TEST_TMP/cairnd.log"

# --- 4. Relational queries ------------------------------------------------------------

# The cancelled C-MOVE may have sent the same instance already, and storescp
# names files by SOP Instance UID: look for a file written after this mark.
touch "$TEST_TMP/relational.mark"
sleep 0.01
run_checks relational relational --port "$PORT" --study "$SYNTHETIC_STUDY" --instance "$SYNTHETIC_INSTANCE" \
    --destination CANCELDEST
moved_again() {
    [ -n "$(find "$TEST_TMP/CANCELDEST" -newer "$TEST_TMP/relational.mark" -name "*$SYNTHETIC_INSTANCE*")" ]
}
for _ in $(seq 1 100); do moved_again && break; sleep 0.1; done
check "relational C-MOVE: storescp CANCELDEST received the instance" moved_again

check "cairnd still runs" cairnd_alive
check_no_sanitizer_report
finish
