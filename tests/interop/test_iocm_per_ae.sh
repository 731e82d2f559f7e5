#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# IOCM rejection codes set per AE. Two AEs share the storage plugin: CAIRN
# keeps the plugin-wide codes (113001 and 113037 hide), KEEPER sets its own
# in plugins.storage.aes: 113001 deletes and no code hides, so a 113037
# note sent to KEEPER is archived as an ordinary Key Object Selection
# document. The notes are built with dump2dcm; C-FIND through CAIRN, the
# files on disk and the archived notes are checked after each. A code
# listed in both lists of one AE stops cairnd at start.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

for tool in storescu findscu dump2dcm dcmdump; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is missing"
        exit 0
    fi
done

UID_ROOT=1.2.826.0.1.3680043.9.7433.99.32
NOTE_ROOT=$UID_ROOT.900
KOS_CLASS=1.2.840.10008.5.1.4.1.1.88.59

start_watchdog 120

PORT=$(free_port)
write_config "" ""
storage_settings='storage = { aes = ( { title = "KEEPER"; rejection_delete_codes = [ "113001" ]; rejection_hide_codes = [ ]; } ); };'
sed -i "s|^  storage = { };|  $storage_settings|" "$CONF"
sed -i 's|^aes = (|aes = (\n  { title = "KEEPER"; port = '"$PORT"'; bind = "127.0.0.1";\n    plugins = [ "verification", "storage" ]; },|' "$CONF"
start_cairnd || { fail "cairnd starts with per-AE rejection codes"; finish; exit 1; }

synthetic="$TEST_TMP/synthetic"
python3 "$MAKE_INSTANCES" series "$synthetic" --count 4 --uid-root "$UID_ROOT" > /dev/null
mapfile -t SOP < <(cut -f2 "$synthetic/manifest.tsv")
STUDY=$(cut -f3 "$synthetic/manifest.tsv" | head -n 1)
SERIES=$(cut -f4 "$synthetic/manifest.tsv" | head -n 1)
check "storescu stores 4 instances" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$synthetic"/inst-*.dcm

# make_note NUMBER CODE UID: writes $TEST_TMP/note-NUMBER.dcm, a note with CODE naming UID.
make_note() {
    cat > "$TEST_TMP/note-$1.txt" <<DUMP
(0008,0016) UI [$KOS_CLASS]
(0008,0018) UI [$NOTE_ROOT.$1]
(0008,0060) CS [KO]
(0010,0020) LO [IOCM]
(0020,000d) UI [$NOTE_ROOT.0.1]
(0020,000e) UI [$NOTE_ROOT.0.2]
(0040,a043) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0100) SH [$2]
(0008,0102) SH [DCM]
(0008,0104) LO [Rejection]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0040,a375) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,1115) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,1199) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,1150) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,1155) UI [$3]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0020,000e) UI [$SERIES]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0020,000d) UI [$STUDY]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
DUMP
    dump2dcm -q "$TEST_TMP/note-$1.txt" "$TEST_TMP/note-$1.dcm"
}

# send_note AE NUMBER CODE UID: builds the note and sends it to AE.
send_note() {
    make_note "$2" "$3" "$4" &&
        timeout 60 storescu -aec "$1" 127.0.0.1 "$PORT" "$TEST_TMP/note-$2.dcm" \
            > "$TEST_TMP/note-$2.log" 2>&1
}

# image_uids STUDY SERIES: the SOP Instance UIDs an IMAGE-level C-FIND through CAIRN returns.
image_uids() {
    local dir
    dir=$(mktemp -d "$TEST_TMP/find.XXXXXX")
    timeout 60 findscu -S -aec CAIRN 127.0.0.1 "$PORT" -X -od "$dir" -k QueryRetrieveLevel=IMAGE \
        -k "StudyInstanceUID=$1" -k "SeriesInstanceUID=$2" -k SOPInstanceUID \
        > "$dir.log" 2>&1
    for f in "$dir"/rsp*.dcm; do
        [ -e "$f" ] || continue
        dcmdump -q +P SOPInstanceUID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'
    done | sort
}

visible() { image_uids "$STUDY" "$SERIES" | grep -qxF "$1"; }
hidden() { ! visible "$1"; }
note_archived() { image_uids "$NOTE_ROOT.0.1" "$NOTE_ROOT.0.2" | grep -qxF "$NOTE_ROOT.$1"; }
note_not_archived() { ! note_archived "$1"; }

check "113001 to CAIRN: storescu succeeds" send_note CAIRN 1 113001 "${SOP[0]}"
check "113001 to CAIRN hides the instance" hidden "${SOP[0]}"
check "113001 to CAIRN keeps its file" test "$(instance_files | wc -l)" -eq 5
check "113001 to CAIRN: the note is archived" note_archived 1

check "113001 to KEEPER: storescu succeeds" send_note KEEPER 2 113001 "${SOP[1]}"
check "113001 to KEEPER deletes the instance" hidden "${SOP[1]}"
check "113001 to KEEPER removes its file" test "$(instance_files | wc -l)" -eq 4
check "113001 to KEEPER: the note is not archived" note_not_archived 2

check "113037 to KEEPER: storescu succeeds" send_note KEEPER 3 113037 "${SOP[2]}"
check "113037 to KEEPER leaves the instance visible" visible "${SOP[2]}"
check "113037 to KEEPER: the note is archived as a plain document" note_archived 3

check "113037 to CAIRN: storescu succeeds" send_note CAIRN 4 113037 "${SOP[3]}"
check "113037 to CAIRN hides the instance" hidden "${SOP[3]}"
check "only the instance of the plain note stays visible" \
    test "$(image_uids "$STUDY" "$SERIES" | tr '\n' ' ')" = "${SOP[2]} "

stop_cairnd
check_no_sanitizer_report

# A code in both lists of one AE is a configuration error naming the entry.
sed -i 's|rejection_hide_codes = \[ \]|rejection_hide_codes = [ "113001" ]|' "$CONF"
timeout 20 "$CAIRND" --config "$CONF" > "$TEST_TMP/bad.log" 2>&1
check "a code in both lists of one AE stops cairnd" test $? -ne 0
check "the error names plugins.storage.aes[0]" \
    grep -q 'plugins.storage.aes\[0\]: code "113001" is in both' "$TEST_TMP/bad.log"
finish
