#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Query/Retrieve against DCMTK's findscu, movescu and getscu. storescu
# first sends part of pydicom's corpus and 1500 synthetic instances of one
# study. Then findscu queries each model and level with each matching
# type, and checks return keys, hierarchical violations (A900) and
# C-CANCEL (FE00). movescu sends to a DCMTK storescp listed in `remotes`
# and to an unknown destination (A801), and getscu fetches a study and
# single instances. The C-FIND part runs even when retrieval fails.
#
# Usage: tests/interop/test_qr.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

TEST_FILES="$PYDICOM_DATA/test_files"
CHARSET_FILES="$PYDICOM_DATA/charset_files"
UID_ROOT=1.2.826.0.1.3680043.9.7433.99.5
SYNTHETIC_COUNT=1500

CT_STUDY=1.3.6.1.4.1.5962.1.2.1.20040119072730.12322
MR_STUDY=1.3.6.1.4.1.5962.1.2.4.20040826185059.5457
RTPLAN_STUDY=1.22.333.4.555555.6.7777777777777777777777777777
ECG_STUDY=1.3.76.13.65829.2.20130125082826.1072139.2

start_watchdog 600

PORT=$(free_port)
DEST_PORT=$(free_port)
DOWN_PORT=$(free_port)
write_config
cat >> "$CONF" <<CONF
remotes = (
  { title = "DEST"; host = "127.0.0.1"; port = $DEST_PORT; },
  { title = "DOWN"; host = "127.0.0.1"; port = $DOWN_PORT; }
);
CONF
if ! start_cairnd; then
    fail "cairnd starts with the qr plugin"
    finish
    exit 1
fi

# --- Fill the archive -------------------------------------------------------

corpus="$TEST_TMP/corpus"
mkdir -p "$corpus"
for f in CT_small.dcm MR_small.dcm rtplan.dcm rtdose.dcm rtstruct.dcm waveform_ecg.dcm; do
    cp "$TEST_FILES/$f" "$corpus/"
done
cp "$CHARSET_FILES/chrGerm.dcm" "$CHARSET_FILES/chrRuss.dcm" "$corpus/"
timeout 120 storescu -aec CAIRN 127.0.0.1 "$PORT" "$corpus"/*.dcm > "$TEST_TMP/storescu.log" 2>&1
check "storescu stores the corpus files" test $? -eq 0

synthetic="$TEST_TMP/synthetic"
python3 "$MAKE_INSTANCES" series "$synthetic" --count "$SYNTHETIC_COUNT" --uid-root "$UID_ROOT" \
    --studies 1 --series-per-study 1 > /dev/null
SYNTHETIC_STUDY=$(cut -f3 "$synthetic/manifest.tsv" | head -n 1)
(cd "$synthetic" && timeout 300 storescu -aec CAIRN 127.0.0.1 "$PORT" inst-*.dcm) \
    > "$TEST_TMP/storescu-synthetic.log" 2>&1
check "storescu stores $SYNTHETIC_COUNT synthetic instances" test $? -eq 0

# --- C-FIND helpers ---------------------------------------------------------

# query NAME FINDSCU_ARGS...: runs findscu with debug output, keeping the
# response identifiers as $TEST_TMP/find/NAME/rsp*.dcm and the log as .../log.
query() {
    local dir="$TEST_TMP/find/$1"
    shift
    mkdir -p "$dir"
    timeout 60 findscu -d -aec CAIRN 127.0.0.1 "$PORT" -X -od "$dir" "$@" > "$dir/log" 2>&1
}

# matches NAME: the number of response identifiers findscu received.
matches() {
    ls "$TEST_TMP/find/$1" | grep -c '^rsp.*\.dcm$'
}

# final_status NAME: the status of the final response, as 4 lower-case hex digits.
final_status() {
    grep -E 'DIMSE Status +: 0x' "$TEST_TMP/find/$1/log" | tail -n 1 \
        | sed -E 's/.*: 0x([0-9a-f]{4}).*/\1/'
}

# pending_statuses NAME: the distinct statuses of the pending responses.
pending_statuses() {
    grep -E 'DIMSE Status +: 0xff0' "$TEST_TMP/find/$1/log" \
        | sed -E 's/.*: 0x([0-9a-f]{4}).*/\1/' | sort -u | tr '\n' ' '
}

# error_comment NAME: the Error Comment of the final response.
error_comment() {
    grep -E '^D: \(0000,0902\)' "$TEST_TMP/find/$1/log" | tail -n 1 \
        | sed -n -e 's/^[^[]*\[\(.*\)\].*$/\1/p' | sed 's/ *$//'
}

# values NAME TAG: the values of TAG in every response, sorted, one per line.
values() {
    local f
    for f in "$TEST_TMP/find/$1"/rsp*.dcm; do
        [ -e "$f" ] || continue
        dcmdump -q -Un +P "$2" "$f" 2>/dev/null | head -n 1 \
            | sed -n -e 's/^[^[]*\[\(.*\)\].*$/\1/p' -e 's/^.*(no value available).*$/<empty>/p'
    done | sort
}

# every_response_has NAME TAG: succeeds when every response carries TAG.
every_response_has() {
    local f
    for f in "$TEST_TMP/find/$1"/rsp*.dcm; do
        dcmdump -q +P "$2" "$f" 2>/dev/null | grep -q . || return 1
    done
}

# data_set_dump FILE: dcmdump of the data set without File Meta Information,
# group lengths, delimitation items and length notes, which getscu may
# write differently from the original, and Data Set Trailing Padding,
# which storescu and getscu drop.
data_set_dump() {
    dcmdump -q +L -Un "$1" 2>&1 \
        | grep -v -E '^#|^\(0002,|^$|^ *\(fffe,e0[0d]d\)|^ *\([0-9a-f]{4},0000\)|^\(fffc,fffc\)' \
        | sed -e 's/ *#.*$//' -e 's/with \(undefined\|explicit\) length/with length/'
}

# expect_find NAME STATUS COUNT: checks the final status and the number of matches.
expect_find() {
    local got_status got_count
    got_status=$(final_status "$1")
    got_count=$(matches "$1")
    check "$1: final status $2 (got $got_status)" test "$got_status" = "$2"
    check "$1: $3 matches (got $got_count)" test "$got_count" -eq "$3"
}

# expect_a900 NAME COMMENT_PART: checks an A900 answer whose comment contains COMMENT_PART.
expect_a900() {
    local comment
    comment=$(error_comment "$1")
    check "$1: status a900 (got $(final_status "$1"))" test "$(final_status "$1")" = a900
    check "$1: comment names '$2' (got '$comment')" grep -qF "$2" <<< "$comment"
}

# --- C-FIND: matching types --------------------------------------------------

query pn-wildcard-case -S -k QueryRetrieveLevel=STUDY -k 'PatientName=compressedsamples*' \
    -k StudyInstanceUID -k PatientID
expect_find pn-wildcard-case 0000 2
check "pn-wildcard-case: the CT and MR patients" \
    test "$(values pn-wildcard-case PatientID | tr '\n' ' ')" = "1CT1 4MR1 "

query pn-single-case -S -k QueryRetrieveLevel=STUDY -k 'PatientName=COMPRESSEDSAMPLES^CT1' \
    -k PatientID
expect_find pn-single-case 0000 1
check "pn-single-case: returns the stored spelling" \
    test "$(values pn-single-case PatientName)" = "CompressedSamples^CT1"

query pn-question-mark -S -k QueryRetrieveLevel=STUDY -k 'PatientName=CompressedSamples^?R1'
expect_find pn-question-mark 0000 1

query date-open-end -S -k QueryRetrieveLevel=STUDY -k StudyDate=20040101- -k StudyInstanceUID
expect_find date-open-end 0000 4
check "date-open-end: CT, MR, ECG and synthetic studies" \
    test "$(values date-open-end StudyInstanceUID | tr '\n' ' ')" \
    = "$(printf '%s\n' "$CT_STUDY" "$MR_STUDY" "$ECG_STUDY" "$SYNTHETIC_STUDY" | sort | tr '\n' ' ')"

query date-open-start -S -k QueryRetrieveLevel=STUDY -k StudyDate=-20031231
expect_find date-open-start 0000 2
check "date-open-start: dates before 2004" \
    test "$(values date-open-start StudyDate | tr '\n' ' ')" = "20030716 20030805 "

query date-range -S -k QueryRetrieveLevel=STUDY -k StudyDate=20030801-20040131
expect_find date-range 0000 2

query date-single -S -k QueryRetrieveLevel=STUDY -k StudyDate=20040826
expect_find date-single 0000 1

query uid-list -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$CT_STUDY\\$RTPLAN_STUDY"
expect_find uid-list 0000 2

query universal -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID
expect_find universal 0000 9

query universal-star -S -k QueryRetrieveLevel=STUDY -k 'PatientName=*'
expect_find universal-star 0000 9

query no-match -S -k QueryRetrieveLevel=STUDY -k PatientID=NOSUCHPATIENT
expect_find no-match 0000 0

# --- C-FIND: levels and models -------------------------------------------------

query patient-level -P -k QueryRetrieveLevel=PATIENT -k PatientID=1CT1 -k PatientName \
    -k NumberOfPatientRelatedStudies -k NumberOfPatientRelatedInstances
expect_find patient-level 0000 1
check "patient-level: one related study" \
    test "$(values patient-level NumberOfPatientRelatedStudies)" = "1"

query patient-level-all -P -k QueryRetrieveLevel=PATIENT -k PatientID
expect_find patient-level-all 0000 9

query patient-root-study -P -k QueryRetrieveLevel=STUDY -k PatientID=4MR1 -k StudyInstanceUID
expect_find patient-root-study 0000 1

query study-root-series -S -k QueryRetrieveLevel=SERIES -k "StudyInstanceUID=$CT_STUDY" \
    -k Modality -k SeriesInstanceUID -k NumberOfSeriesRelatedInstances
expect_find study-root-series 0000 1
check "study-root-series: modality CT" test "$(values study-root-series Modality)" = CT

query synthetic-series -S -k QueryRetrieveLevel=SERIES -k "StudyInstanceUID=$SYNTHETIC_STUDY" \
    -k SeriesInstanceUID -k NumberOfSeriesRelatedInstances
expect_find synthetic-series 0000 1
check "synthetic-series: $SYNTHETIC_COUNT related instances" \
    test "$(values synthetic-series NumberOfSeriesRelatedInstances)" = "$SYNTHETIC_COUNT"
SYNTHETIC_SERIES=$(values synthetic-series SeriesInstanceUID)

ct_series=$(values study-root-series SeriesInstanceUID)
query patient-root-image -P -k QueryRetrieveLevel=IMAGE -k PatientID=1CT1 \
    -k "StudyInstanceUID=$CT_STUDY" -k "SeriesInstanceUID=$ct_series" -k SOPInstanceUID \
    -k SOPClassUID -k InstanceNumber
expect_find patient-root-image 0000 1
check "patient-root-image: CT Image Storage" \
    test "$(values patient-root-image SOPClassUID)" = 1.2.840.10008.5.1.4.1.1.2
CT_INSTANCE=$(values patient-root-image SOPInstanceUID)

query ps-only-patient -O -k QueryRetrieveLevel=PATIENT -k PatientID=id00001 -k PatientName
expect_find ps-only-patient 0000 1

query ps-only-study -O -k QueryRetrieveLevel=STUDY -k PatientID=id00001 -k StudyDate
expect_find ps-only-study 0000 1

# --- C-FIND: return keys ----------------------------------------------------------

query return-keys -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$CT_STUDY" \
    -k StudyDate -k StudyTime -k AccessionNumber -k StudyID -k PatientName -k PatientID \
    -k PatientBirthDate -k PatientSex -k ReferringPhysicianName -k StudyDescription \
    -k ModalitiesInStudy -k NumberOfStudyRelatedSeries -k NumberOfStudyRelatedInstances
expect_find return-keys 0000 1
for key in StudyDate StudyTime AccessionNumber StudyID PatientName PatientID PatientBirthDate \
    PatientSex ReferringPhysicianName StudyDescription ModalitiesInStudy \
    NumberOfStudyRelatedSeries NumberOfStudyRelatedInstances QueryRetrieveLevel \
    RetrieveAETitle; do
    check "return-keys: response has $key" every_response_has return-keys "$key"
done
check "return-keys: Retrieve AE Title is CAIRN" test "$(values return-keys RetrieveAETitle)" = CAIRN
check "return-keys: Study Date 20040119" test "$(values return-keys StudyDate)" = 20040119
check "return-keys: Modalities in Study CT" test "$(values return-keys ModalitiesInStudy)" = CT
check "return-keys: pending status ff00 (got $(pending_statuses return-keys))" \
    test "$(pending_statuses return-keys)" = "ff00 "
check "return-keys: no key that was not requested" \
    bash -c "! dcmdump -q '$TEST_TMP/find/return-keys/rsp0001.dcm' | grep -q 'SeriesInstanceUID'"

query unsupported-key -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$CT_STUDY" -k PatientAge
expect_find unsupported-key 0000 1
check "unsupported-key: pending status ff01 (got $(pending_statuses unsupported-key))" \
    test "$(pending_statuses unsupported-key)" = "ff01 "
check "unsupported-key: Patient's Age left out" \
    bash -c "! dcmdump -q '$TEST_TMP/find/unsupported-key/rsp0001.dcm' | grep -q PatientAge"

query charset -S -k QueryRetrieveLevel=STUDY -k PatientID=SCSGERM -k PatientName
expect_find charset 0000 1
check "charset: Specific Character Set ISO_IR 192" \
    test "$(values charset SpecificCharacterSet)" = "ISO_IR 192"
check "charset: name converted to UTF-8" test "$(values charset PatientName)" = "Äneas^Rüdiger"

query charset-query -S -k 'SpecificCharacterSet=ISO_IR 192' -k QueryRetrieveLevel=STUDY \
    -k 'PatientName=Äneas*' -k PatientID
expect_find charset-query 0000 1

# --- C-FIND: identifiers that do not fit the model ------------------------------

query missing-level -S -k PatientName
expect_a900 missing-level "Query/Retrieve Level"

query invalid-level -S -k QueryRetrieveLevel=FOO
expect_a900 invalid-level "FOO"

query patient-in-study-root -S -k QueryRetrieveLevel=PATIENT -k PatientID
expect_a900 patient-in-study-root "PATIENT"

query image-in-ps-only -O -k QueryRetrieveLevel=IMAGE -k PatientID=1CT1 \
    -k "StudyInstanceUID=$CT_STUDY" -k "SeriesInstanceUID=$ct_series" -k SOPInstanceUID
expect_a900 image-in-ps-only "IMAGE"

query series-without-study -S -k QueryRetrieveLevel=SERIES -k Modality=CT
expect_a900 series-without-study "Study Instance UID (0020,000D)"

query study-without-patient -P -k QueryRetrieveLevel=STUDY -k StudyInstanceUID
expect_a900 study-without-patient "Patient ID (0010,0020)"

query study-uid-list-above -S -k QueryRetrieveLevel=SERIES \
    -k "StudyInstanceUID=$CT_STUDY\\$MR_STUDY" -k SeriesInstanceUID
expect_a900 study-uid-list-above "single value"

query key-below-level -S -k QueryRetrieveLevel=STUDY -k Modality=CT
expect_a900 key-below-level "Modality (0008,0060)"

# --- C-FIND: cancel -----------------------------------------------------------------

query cancel -S --cancel 1 -k QueryRetrieveLevel=IMAGE -k "StudyInstanceUID=$SYNTHETIC_STUDY" \
    -k "SeriesInstanceUID=$SYNTHETIC_SERIES" -k SOPInstanceUID
cancel_count=$(matches cancel)
check "cancel: final status fe00 (got $(final_status cancel))" test "$(final_status cancel)" = fe00
check "cancel: fewer than $SYNTHETIC_COUNT matches (got $cancel_count)" \
    test "$cancel_count" -lt "$SYNTHETIC_COUNT"

query image-all -S -k QueryRetrieveLevel=IMAGE -k "StudyInstanceUID=$SYNTHETIC_STUDY" \
    -k "SeriesInstanceUID=$SYNTHETIC_SERIES" -k SOPInstanceUID
expect_find image-all 0000 "$SYNTHETIC_COUNT"

# --- C-MOVE ----------------------------------------------------------------------------

dest_dir="$TEST_TMP/dest"
mkdir -p "$dest_dir"
storescp -aet DEST -od "$dest_dir" "$DEST_PORT" > "$TEST_TMP/storescp.log" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
sleep 0.5

# last_status LOG: the status of the last response in a movescu or getscu debug log.
last_status() {
    grep -E 'DIMSE Status +: 0x' "$1" | tail -n 1 | sed -E 's/.*: 0x([0-9a-f]{4}).*/\1/'
}

timeout 120 movescu -d -S -aec CAIRN -aem DEST 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
    -k "StudyInstanceUID=$MR_STUDY" > "$TEST_TMP/move-study.log" 2>&1
check "move study: final status 0000 (got $(last_status "$TEST_TMP/move-study.log"))" \
    test "$(last_status "$TEST_TMP/move-study.log")" = 0000
check "move study: storescp received the MR instance" \
    test "$(ls "$dest_dir" | wc -l)" -eq 1

timeout 120 movescu -d -S -aec CAIRN -aem DEST 127.0.0.1 "$PORT" -k QueryRetrieveLevel=SERIES \
    -k "StudyInstanceUID=$SYNTHETIC_STUDY" -k "SeriesInstanceUID=$SYNTHETIC_SERIES" \
    > "$TEST_TMP/move-series.log" 2>&1
check "move series: final status 0000 (got $(last_status "$TEST_TMP/move-series.log"))" \
    test "$(last_status "$TEST_TMP/move-series.log")" = 0000
check "move series: storescp holds $((SYNTHETIC_COUNT + 1)) files" \
    test "$(ls "$dest_dir" | wc -l)" -eq $((SYNTHETIC_COUNT + 1))
check "move series: pending responses count remaining sub-operations" \
    grep -qE 'Remaining Suboperations +: [1-9]' "$TEST_TMP/move-series.log"

timeout 120 movescu -d -P -aec CAIRN -aem NOWHERE 127.0.0.1 "$PORT" \
    -k QueryRetrieveLevel=PATIENT -k PatientID=1CT1 > "$TEST_TMP/move-unknown.log" 2>&1
check "move to unknown destination: a801 (got $(last_status "$TEST_TMP/move-unknown.log"))" \
    test "$(last_status "$TEST_TMP/move-unknown.log")" = a801

# The destination is checked before matching, so a C-MOVE that matches
# nothing still gets A801 for an unknown destination.
timeout 120 movescu -d -P -aec CAIRN -aem NOWHERE 127.0.0.1 "$PORT" \
    -k QueryRetrieveLevel=PATIENT -k PatientID=NO-SUCH-PATIENT > "$TEST_TMP/move-unknown-empty.log" 2>&1
check "move matching nothing to unknown destination: a801 (got $(last_status "$TEST_TMP/move-unknown-empty.log"))" \
    test "$(last_status "$TEST_TMP/move-unknown-empty.log")" = a801

timeout 120 movescu -d -P -aec CAIRN -aem DOWN 127.0.0.1 "$PORT" \
    -k QueryRetrieveLevel=PATIENT -k PatientID=1CT1 > "$TEST_TMP/move-down.log" 2>&1
check "move to unreachable destination: a702 (got $(last_status "$TEST_TMP/move-down.log"))" \
    test "$(last_status "$TEST_TMP/move-down.log")" = a702

timeout 120 movescu -d -S -aec CAIRN -aem DEST 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
    -k 'StudyInstanceUID=1.2.3*' > "$TEST_TMP/move-wildcard.log" 2>&1
check "move with a wildcard UID: a900 (got $(last_status "$TEST_TMP/move-wildcard.log"))" \
    test "$(last_status "$TEST_TMP/move-wildcard.log")" = a900

# --- C-GET -------------------------------------------------------------------------------

get_dir="$TEST_TMP/get-study"
mkdir -p "$get_dir"
timeout 120 getscu -d -S -aec CAIRN 127.0.0.1 "$PORT" -od "$get_dir" -k QueryRetrieveLevel=STUDY \
    -k "StudyInstanceUID=$RTPLAN_STUDY" > "$TEST_TMP/get-study.log" 2>&1
check "get study: final status 0000 (got $(last_status "$TEST_TMP/get-study.log"))" \
    test "$(last_status "$TEST_TMP/get-study.log")" = 0000
check "get study: one file received" test "$(ls "$get_dir" | wc -l)" -eq 1

get_dir="$TEST_TMP/get-instance"
mkdir -p "$get_dir"
timeout 120 getscu -d -P -aec CAIRN 127.0.0.1 "$PORT" -od "$get_dir" -k QueryRetrieveLevel=IMAGE \
    -k PatientID=1CT1 -k "StudyInstanceUID=$CT_STUDY" -k "SeriesInstanceUID=$ct_series" \
    -k "SOPInstanceUID=$CT_INSTANCE" > "$TEST_TMP/get-instance.log" 2>&1
check "get instance: final status 0000 (got $(last_status "$TEST_TMP/get-instance.log"))" \
    test "$(last_status "$TEST_TMP/get-instance.log")" = 0000
check "get instance: the CT data set arrives unchanged" \
    cmp -s <(data_set_dump "$TEST_FILES/CT_small.dcm") <(data_set_dump "$get_dir"/*)

check "cairnd still runs" cairnd_alive
check_no_sanitizer_report
finish
