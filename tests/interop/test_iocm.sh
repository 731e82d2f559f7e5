#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# IOCM rejection notes. storescu fills the archive with 8 synthetic
# instances of one series and pydicom's CT and MR files, then sends Key
# Object Selection notes built with dump2dcm. After each note the test
# checks the C-FIND counts and matches, C-MOVE and C-GET, the files on
# disk and whether the note itself was archived: 113001, 113037 and
# 113038 hide the instances they reference, 113039 deletes them. A note
# that references an instance not yet archived hides it when it arrives,
# and a rejected instance sent again stays hidden.
#
# Usage: tests/interop/test_iocm.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

TEST_FILES="$PYDICOM_DATA/test_files"
UID_ROOT=1.2.826.0.1.3680043.9.7433.99.7
NOTE_ROOT=$UID_ROOT.900
CT_STUDY=1.3.6.1.4.1.5962.1.2.1.20040119072730.12322
CT_INSTANCE=1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322
KOS_CLASS=1.2.840.10008.5.1.4.1.1.88.59

start_watchdog 300

PORT=$(free_port)
DEST_PORT=$(free_port)
write_config
cat >> "$CONF" <<CONF
remotes = ( { title = "DEST"; host = "127.0.0.1"; port = $DEST_PORT; } );
CONF
if ! start_cairnd; then
    fail "cairnd starts"
    finish
    exit 1
fi

# --- Fill the archive -------------------------------------------------------

synthetic="$TEST_TMP/synthetic"
python3 "$MAKE_INSTANCES" series "$synthetic" --count 9 --uid-root "$UID_ROOT" > /dev/null
# The ninth instance is held back: a note names it before it arrives.
mapfile -t SOP < <(cut -f2 "$synthetic/manifest.tsv")
STUDY=$(cut -f3 "$synthetic/manifest.tsv" | head -n 1)
SERIES=$(cut -f4 "$synthetic/manifest.tsv" | head -n 1)
(cd "$synthetic" && timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" inst-0000[0-7].dcm) \
    > "$TEST_TMP/storescu.log" 2>&1
check "storescu stores 8 synthetic instances" test $? -eq 0
timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_FILES/CT_small.dcm" \
    "$TEST_FILES/MR_small.dcm" >> "$TEST_TMP/storescu.log" 2>&1
check "storescu stores CT_small and MR_small" test $? -eq 0
check "10 instance files on disk" test "$(instance_files | wc -l)" -eq 10

# --- Helpers ----------------------------------------------------------------

# make_note NAME CODE STUDY SERIES UID...: writes $TEST_TMP/NAME.dcm, a
# rejection note with CODE whose evidence names the UIDs in STUDY/SERIES.
NOTE_COUNT=0
make_note() {
    local name=$1 code=$2 study=$3 series=$4
    shift 4
    NOTE_COUNT=$((NOTE_COUNT + 1))
    {
        echo "(0008,0016) UI [$KOS_CLASS]"
        echo "(0008,0018) UI [$NOTE_ROOT.$NOTE_COUNT]"
        echo "(0008,0060) CS [KO]"
        echo "(0010,0020) LO [IOCM]"
        echo "(0020,000d) UI [$NOTE_ROOT.0.1]"
        echo "(0020,000e) UI [$NOTE_ROOT.0.2]"
        echo "(0040,a043) SQ (Sequence with undefined length)"
        echo "(fffe,e000) na (Item with undefined length)"
        echo "(0008,0100) SH [$code]"
        echo "(0008,0102) SH [DCM]"
        echo "(0008,0104) LO [Rejection]"
        echo "(fffe,e00d) na (ItemDelimitationItem)"
        echo "(fffe,e0dd) na (SequenceDelimitationItem)"
        echo "(0040,a375) SQ (Sequence with undefined length)"
        echo "(fffe,e000) na (Item with undefined length)"
        echo "(0008,1115) SQ (Sequence with undefined length)"
        echo "(fffe,e000) na (Item with undefined length)"
        echo "(0008,1199) SQ (Sequence with undefined length)"
        local uid
        for uid in "$@"; do
            echo "(fffe,e000) na (Item with undefined length)"
            echo "(0008,1150) UI [1.2.840.10008.5.1.4.1.1.7]"
            echo "(0008,1155) UI [$uid]"
            echo "(fffe,e00d) na (ItemDelimitationItem)"
        done
        echo "(fffe,e0dd) na (SequenceDelimitationItem)"
        echo "(0020,000e) UI [$series]"
        echo "(fffe,e00d) na (ItemDelimitationItem)"
        echo "(fffe,e0dd) na (SequenceDelimitationItem)"
        echo "(0020,000d) UI [$study]"
        echo "(fffe,e00d) na (ItemDelimitationItem)"
        echo "(fffe,e0dd) na (SequenceDelimitationItem)"
    } > "$TEST_TMP/$name.txt"
    dump2dcm -q "$TEST_TMP/$name.txt" "$TEST_TMP/$name.dcm"
}

# send_note NAME: sends $TEST_TMP/NAME.dcm; succeeds when storescu does.
send_note() {
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP/$1.dcm" \
        > "$TEST_TMP/$1.log" 2>&1
}

# find_values LEVEL TAG KEYS...: the values of TAG in each C-FIND response,
# in the Study Root model, or the one $FIND_MODEL names (-P: Patient Root).
find_values() {
    local level=$1 tag=$2 dir key
    local -a keys=()
    shift 2
    for key in "$@"; do
        keys+=(-k "$key")
    done
    dir=$(mktemp -d "$TEST_TMP/find.XXXXXX")
    timeout 60 findscu "${FIND_MODEL:--S}" -aec CAIRN 127.0.0.1 "$PORT" -X -od "$dir" \
        -k "QueryRetrieveLevel=$level" -k "$tag" "${keys[@]}" > "$dir.log" 2>&1
    local f
    for f in "$dir"/rsp*.dcm; do
        [ -e "$f" ] || continue
        dcmdump -q +P "$tag" "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'
    done | sort
}

study_instances() {
    find_values STUDY NumberOfStudyRelatedInstances "StudyInstanceUID=$STUDY"
}

series_instances() {
    find_values SERIES NumberOfSeriesRelatedInstances "StudyInstanceUID=$STUDY" \
        "SeriesInstanceUID=$SERIES"
}

patient_instances() {
    FIND_MODEL=-P find_values PATIENT NumberOfPatientRelatedInstances "PatientID=$1"
}

# image_matches: the SOP Instance UIDs of the series that C-FIND returns.
image_matches() {
    find_values IMAGE SOPInstanceUID "StudyInstanceUID=$STUDY" "SeriesInstanceUID=$SERIES"
}

# note_archived N: succeeds when C-FIND finds note N.
note_archived() {
    test "$(find_values IMAGE SOPInstanceUID "StudyInstanceUID=$NOTE_ROOT.0.1" \
        "SeriesInstanceUID=$NOTE_ROOT.0.2" "SOPInstanceUID=$NOTE_ROOT.$1")" = "$NOTE_ROOT.$1"
}

note_not_archived() {
    ! note_archived "$1"
}

# hidden UID: succeeds when an IMAGE-level C-FIND of the series leaves UID out.
hidden() {
    ! image_matches | grep -qxF "$1"
}

last_status() {
    grep -E 'DIMSE Status +: 0x' "$1" | tail -n 1 | sed -E 's/.*: 0x([0-9a-f]{4}).*/\1/'
}

# --- 113001 hides two instances ---------------------------------------------

check "before any note: study has 8 instances" test "$(study_instances)" = 8
make_note quality 113001 "$STUDY" "$SERIES" "${SOP[0]}" "${SOP[1]}"
send_note quality
check "113001 note: storescu succeeds" test $? -eq 0
check "113001 note: study has 6 instances" test "$(study_instances)" = 6
check "113001 note: series has 6 instances" test "$(series_instances)" = 6
check "113001 note: patient has 6 instances" \
    test "$(patient_instances "$(dcmdump -q +P PatientID "$synthetic/inst-00000.dcm" \
        | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')")" = 6
check "113001 note: C-FIND returns 6 images" test "$(image_matches | wc -l)" -eq 6
check "113001 note: first instance hidden" hidden "${SOP[0]}"
check "113001 note: second instance hidden" hidden "${SOP[1]}"
check "113001 note: the note is archived" note_archived 1
check "113001 note: files of hidden instances stay" test "$(instance_files | wc -l)" -eq 11

# --- 113037 and 113038 ------------------------------------------------------

make_note safety 113037 "$STUDY" "$SERIES" "${SOP[2]}"
send_note safety
check "113037 note: storescu succeeds" test $? -eq 0
check "113037 note: study has 5 instances" test "$(study_instances)" = 5
check "113037 note: instance hidden" hidden "${SOP[2]}"
check "113037 note: the note is archived" note_archived 2

make_note worklist 113038 "$STUDY" "$SERIES" "${SOP[3]}"
send_note worklist
check "113038 note: storescu succeeds" test $? -eq 0
check "113038 note: study has 4 instances" test "$(study_instances)" = 4
check "113038 note: instance hidden" hidden "${SOP[3]}"
check "113038 note: the note is archived" note_archived 3

# --- C-MOVE and C-GET leave rejected instances out ---------------------------

dest_dir="$TEST_TMP/dest"
mkdir -p "$dest_dir"
storescp -aet DEST -od "$dest_dir" "$DEST_PORT" > "$TEST_TMP/storescp.log" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
sleep 0.5
timeout 60 movescu -d -S -aec CAIRN -aem DEST 127.0.0.1 "$PORT" -k QueryRetrieveLevel=SERIES \
    -k "StudyInstanceUID=$STUDY" -k "SeriesInstanceUID=$SERIES" > "$TEST_TMP/move.log" 2>&1
check "move series: final status 0000" test "$(last_status "$TEST_TMP/move.log")" = 0000
check "move series: storescp received 4 instances" test "$(ls "$dest_dir" | wc -l)" -eq 4

get_dir="$TEST_TMP/get"
mkdir -p "$get_dir"
timeout 60 getscu -d -S -aec CAIRN 127.0.0.1 "$PORT" -od "$get_dir" -k QueryRetrieveLevel=STUDY \
    -k "StudyInstanceUID=$STUDY" > "$TEST_TMP/get.log" 2>&1
check "get study: final status 0000" test "$(last_status "$TEST_TMP/get.log")" = 0000
check "get study: 4 instances received" test "$(ls "$get_dir" | wc -l)" -eq 4

get_one="$TEST_TMP/get-one"
mkdir -p "$get_one"
timeout 60 getscu -d -S -aec CAIRN 127.0.0.1 "$PORT" -od "$get_one" -k QueryRetrieveLevel=IMAGE \
    -k "StudyInstanceUID=$STUDY" -k "SeriesInstanceUID=$SERIES" -k "SOPInstanceUID=${SOP[0]}" \
    > "$TEST_TMP/get-one.log" 2>&1
check "get rejected instance: nothing received" test "$(ls "$get_one" | wc -l)" -eq 0

# --- 113039 deletes ---------------------------------------------------------

ct_series=$(dcmdump -q +P SeriesInstanceUID "$TEST_FILES/CT_small.dcm" \
    | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
files_before=$(instance_files | wc -l)
make_note expired 113039 "$CT_STUDY" "$ct_series" "$CT_INSTANCE"
send_note expired
check "113039 note: storescu succeeds" test $? -eq 0
check "113039 note: CT study gone from C-FIND" \
    test -z "$(find_values STUDY StudyInstanceUID "StudyInstanceUID=$CT_STUDY")"
check "113039 note: one file fewer on disk" \
    test "$(instance_files | wc -l)" -eq $((files_before - 1))
check "113039 note: the note is not archived" note_not_archived 4
check "113039 note: MR study still there" \
    test -n "$(find_values STUDY StudyInstanceUID "PatientID=4MR1")"

# --- A note before its instance; a rejected instance sent again ---------------

make_note early 113001 "$STUDY" "$SERIES" "${SOP[8]}"
send_note early
check "note naming an unknown instance: storescu succeeds" test $? -eq 0
(cd "$synthetic" && timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" inst-00008.dcm) \
    > "$TEST_TMP/late.log" 2>&1
check "late instance: storescu succeeds" test $? -eq 0
check "late instance: hidden on arrival" hidden "${SOP[8]}"
check "late instance: study still has 4 instances" test "$(study_instances)" = 4

(cd "$synthetic" && timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" inst-00000.dcm) \
    > "$TEST_TMP/again.log" 2>&1
check "rejected instance sent again: storescu succeeds" test $? -eq 0
check "rejected instance sent again: still hidden" hidden "${SOP[0]}"
check "rejected instance sent again: study still has 4 instances" test "$(study_instances)" = 4

check "cairnd still runs" cairnd_alive
check_no_sanitizer_report
finish
