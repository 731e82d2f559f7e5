#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# C-STORE sub-operations sent by cairnd: C-MOVE to DCMTK storescp
# destinations configured under `remotes`, and C-GET back to getscu on its
# own association. One storescp accepts every transfer syntax, so the
# stored one is kept. Another accepts implicit VR little endian only, so
# JPEG and RLE instances arrive decompressed. JPEG 2000 cannot be
# decompressed (DCMTK 3.6.7 has no decoder), so that sub-operation fails.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

start_watchdog 300

FILES="$PYDICOM_DATA/test_files"
# One study of three compressed instances (JPEG baseline twice, RLE).
SC_STUDY=1.2.826.0.1.3680043.8.498.12406831542731051035295345080039845114
CT_STUDY=1.3.6.1.4.1.5962.1.2.1.20040119072730.12322
J2K_STUDY=1.3.6.1.4.1.5962.1.2.4.20040826185059.5457

PORT=$(free_port)
ALL_PORT=$(free_port)
IMPLICIT_PORT=$(free_port)
UNUSED_PORT=$(free_port)
write_config
cat >> "$CONF" <<CONF
remotes = (
  { title = "ALLSCP"; host = "127.0.0.1"; port = $ALL_PORT; max_associations = 2; },
  { title = "IMPLSCP"; host = "127.0.0.1"; port = $IMPLICIT_PORT; },
  { title = "GONE"; host = "127.0.0.1"; port = $UNUSED_PORT; }
);
CONF
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# start_storescp NAME PORT OPTION...: a storescp writing to $TEST_TMP/NAME/.
start_storescp() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$TEST_TMP/$name"
    storescp -d -aet "$name" -od "$TEST_TMP/$name" "$@" "$port" \
        > "$TEST_TMP/$name.log" 2>&1 &
    PEER_PIDS="$PEER_PIDS $!"
    for _ in $(seq 1 100); do
        echoscu -aec "$name" 127.0.0.1 "$port" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "storescp $name did not answer C-ECHO within 10 s"
    return 1
}

# received_syntaxes DIR: the transfer syntax name of each file in DIR, sorted.
received_syntaxes() {
    local f
    for f in "$1"/*; do
        [ -f "$f" ] || continue
        dcmdump -q +P 0002,0010 "$f" | awk '{print $3}' | tr -d '='
    done | sort | tr '\n' ' '
}

# expect_syntaxes WHAT DIR EXPECTED: checks the sorted transfer syntax names.
expect_syntaxes() {
    local got
    got=$(received_syntaxes "$2")
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1 (got: '$got', expected: '$3')"; fi
}

# move DESTINATION STUDY: C-MOVE of one study; the output goes to $TEST_TMP/move.out.
move() {
    timeout 60 movescu -v -aet MOVESCU -aec CAIRN -aem "$1" -S \
        -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$2" 127.0.0.1 "$PORT" \
        > "$TEST_TMP/move.out" 2>&1
}

start_storescp ALLSCP "$ALL_PORT" +xa || { fail "storescp ALLSCP starts"; finish; exit 1; }
start_storescp IMPLSCP "$IMPLICIT_PORT" +xi || { fail "storescp IMPLSCP starts"; finish; exit 1; }

# store FILE OPTION: storescu proposes the file's own syntax with OPTION ("-" for none).
store() {
    local option=$2
    [ "$option" = - ] && option=""
    if timeout 30 storescu $option -aec CAIRN 127.0.0.1 "$PORT" "$FILES/$1" \
        > "$TEST_TMP/storescu.out" 2>&1; then
        pass "storescu stores $1"
    else
        fail "storescu stores $1: $(tail -3 "$TEST_TMP/storescu.out")"
    fi
}
store SC_rgb_jpeg_dcmtk.dcm -xy
store SC_rgb_rle.dcm -xr
store SC_rgb_small_odd_jpeg.dcm -xy
store CT_small.dcm -
store MR_small_jp2klossless.dcm -xv

# 1. C-MOVE to a destination accepting every syntax: the stored one is kept.
check "C-MOVE of the SC study to ALLSCP succeeds" move ALLSCP "$SC_STUDY"
expect_syntaxes "ALLSCP received the stored syntaxes" "$TEST_TMP/ALLSCP" \
    "JPEGBaseline JPEGBaseline RLELossless "
check "storescp saw the Move Originator AE Title" \
    grep -q "Move Originator AE Title *: MOVESCU" "$TEST_TMP/ALLSCP.log"
check "dcmdump reads each file ALLSCP received" \
    bash -c 'for f in "$1"/*; do dcmdump -q +E "$f" > /dev/null || exit 1; done' _ "$TEST_TMP/ALLSCP"

# 2. C-MOVE to an implicit-only destination: decompressed through DCMTK.
check "C-MOVE of the SC study to IMPLSCP succeeds" move IMPLSCP "$SC_STUDY"
expect_syntaxes "IMPLSCP received implicit VR little endian" "$TEST_TMP/IMPLSCP" \
    "LittleEndianImplicit LittleEndianImplicit LittleEndianImplicit "
rm -f "$TEST_TMP/IMPLSCP"/*

# Explicit VR little endian re-encoded by core/dcm.
check "C-MOVE of the CT study to IMPLSCP succeeds" move IMPLSCP "$CT_STUDY"
expect_syntaxes "IMPLSCP received the CT in implicit VR" "$TEST_TMP/IMPLSCP" \
    "LittleEndianImplicit "
rm -f "$TEST_TMP/IMPLSCP"/*

# 3. JPEG 2000 to an implicit-only destination: the sub-operation fails.
move IMPLSCP "$J2K_STUDY"
# With its only sub-operation failed, qr returns A702 (Refused: Out of Resources).
check "C-MOVE of the JPEG 2000 study fails" \
    grep -qE "Final Move Response \(Refused: OutOfResourcesSubOperations\)" "$TEST_TMP/move.out"
check "cairnd logs why JPEG 2000 was not converted" \
    grep -q "cannot convert .* JPEG 2000" "$TEST_TMP/cairnd.log"
expect_syntaxes "IMPLSCP received nothing for JPEG 2000" "$TEST_TMP/IMPLSCP" ""

# 4. Unknown and unreachable destinations.
move NOWHERE "$CT_STUDY"
check "C-MOVE to an unconfigured AE reports Move Destination Unknown" \
    grep -q "Final Move Response (Refused: MoveDestinationUnknown)" "$TEST_TMP/move.out"
move GONE "$CT_STUDY"
check "C-MOVE to an unreachable remote fails" \
    grep -q "Final Move Response (Refused: OutOfResourcesSubOperations)" "$TEST_TMP/move.out"
check "cairnd logs the unreachable remote" grep -q "cannot open an association to GONE" \
    "$TEST_TMP/cairnd.log"

# 5. C-GET: getscu takes the SCP role and, in DCMTK 3.6.7, proposes only
# explicit VR little endian for storage, so every instance is decompressed.
mkdir -p "$TEST_TMP/get"
check "C-GET of the SC study succeeds" timeout 60 getscu -aet GETSCU -aec CAIRN -S \
    -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$SC_STUDY" -od "$TEST_TMP/get" \
    127.0.0.1 "$PORT"
expect_syntaxes "getscu received explicit VR little endian" "$TEST_TMP/get" \
    "LittleEndianExplicit LittleEndianExplicit LittleEndianExplicit "
check "dcmdump reads each file getscu received" \
    bash -c 'for f in "$1"/*; do dcmdump -q +E "$f" > /dev/null || exit 1; done' _ "$TEST_TMP/get"

check "cairnd is still running" cairnd_alive
check "no decompressed copy is left in storage/tmp" \
    bash -c '[ -z "$(find "$1/tmp" -type f -not -name .lock)" ]' _ "$STORAGE"
check_no_sanitizer_report
finish
