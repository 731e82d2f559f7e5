#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sequence matching (PS3.4 C.2.2.2.6) over the network. pydicom writes
# CT instances with a Procedure Code Sequence of three, one and no items
# and a Request Attributes Sequence with a nested Scheduled Protocol
# Code Sequence (qr_sequences.py). storescu stores them. Then DCMTK findscu
# queries with sequence keys: a match, no match, a wildcard inside an
# item, a name inside an item in another character set, a nested key, an
# empty sequence key that returns every stored item, responses that
# carry only the matching items with only the requested item attributes,
# and the qr max_matches limit (3 here) counting sequence matches.
#
# Usage: tests/interop/test_qr_sequences.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

HELPER="$(cd "$(dirname "$0")" && pwd)/qr_sequences.py"
ROOT=1.2.826.0.1.3680043.9.7433.99.8

start_watchdog 300

PORT=$(free_port)
write_config
# Three studies are stored first; the fourth comes before the limit checks.
sed -i 's/  qr = { };/  qr = { max_matches = 3; };/' "$CONF"
if ! start_cairnd; then
    fail "cairnd starts with the qr plugin"
    finish
    exit 1
fi

files="$TEST_TMP/files"
mkdir -p "$files"
/usr/bin/python3 "$HELPER" make "$files" "$ROOT"
check "pydicom writes the instances" test -e "$files/seq-3.dcm"
timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$files"/seq-[123].dcm > "$TEST_TMP/storescu.log" 2>&1
check "storescu stores the instances" test $? -eq 0

# find_responses NAME LEVEL FINDSCU_KEYS...: runs a Study Root C-FIND at LEVEL and
# prints the responses through qr_sequences.py show, one line each.
find_responses() {
    local dir="$TEST_TMP/find/$1"
    local level=$2
    shift 2
    mkdir -p "$dir"
    timeout 60 findscu -d -S -aec CAIRN 127.0.0.1 "$PORT" -X -od "$dir" \
        -k QueryRetrieveLevel="$level" "$@" > "$dir/log" 2>&1
    if ! grep -qE 'DIMSE Status +: 0x0000' "$dir/log"; then
        echo "C-FIND $1 did not end with status 0000"
        return
    fi
    set -- "$dir"/rsp*.dcm
    [ -e "$1" ] || return 0
    /usr/bin/python3 "$HELPER" show "$@"
}

# expect NAME EXPECTED LEVEL FINDSCU_KEYS...: checks the responses of find_responses.
expect() {
    local name=$1
    local expected=$2
    local level=$3
    local got
    shift 3
    got=$(find_responses "$name" "$level" "$@")
    if [ "$got" = "$expected" ]; then
        pass "C-FIND $name"
    else
        fail "C-FIND $name: got"
        echo "$got"
        echo "expected:"
        echo "$expected"
    fi
}

PCS=ProcedureCodeSequence
expect "item key matches one item" \
    "$ROOT.1 $PCS[CodeValue=CT-HEAD]" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=CT-HEAD"

expect "item key matches no item" "" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=XR-FOOT"

expect "wildcard returns only the matching items" \
    "$ROOT.1 $PCS[CodeValue=CT-HEAD,CodeMeaning=CT Head|CodeValue=CT-NECK,CodeMeaning=CT Neck with contrast]" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=CT-?E*" \
    -k "(0008,1032)[0].(0008,0104)"

expect "two item keys must match the same item" "" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=CT-HEAD" \
    -k "(0008,1032)[0].(0008,0104)=MR*"

expect "unknown item attribute comes back zero length" \
    "$ROOT.2 $PCS[CodeValue=MR-KNEE,CodingSchemeVersion=]" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=MR-KNEE" \
    -k "(0008,1032)[0].(0008,0103)"

expect "empty sequence key returns every item" \
    "$ROOT.1 $PCS[CodeValue=CT-HEAD,CodingSchemeDesignator=LN,CodeMeaning=CT Head|CodeValue=CT-NECK,CodingSchemeDesignator=LN,CodeMeaning=CT Neck with contrast|CodeValue=CT-CHEST,CodingSchemeDesignator=LN,CodeMeaning=CT Chest]
$ROOT.2 $PCS[CodeValue=MR-KNEE,CodingSchemeDesignator=LN,CodeMeaning=MR Knee]
$ROOT.3 $PCS[]" \
    STUDY -k StudyInstanceUID -k "(0008,1032)"

expect "empty item matches universally" \
    "$ROOT.1 $PCS[CodeValue=CT-HEAD,CodingSchemeDesignator=LN,CodeMeaning=CT Head|CodeValue=CT-NECK,CodingSchemeDesignator=LN,CodeMeaning=CT Neck with contrast|CodeValue=CT-CHEST,CodingSchemeDesignator=LN,CodeMeaning=CT Chest]
$ROOT.2 $PCS[CodeValue=MR-KNEE,CodingSchemeDesignator=LN,CodeMeaning=MR Knee]
$ROOT.3 $PCS[]" \
    STUDY -k StudyInstanceUID -k "(0008,1032)[0]"

RAS=RequestAttributesSequence
expect "nested sequence key at series level" \
    "$ROOT.2.1 $RAS[ScheduledProtocolCodeSequence[CodeValue=PROT2],RequestedProcedureID=RP2]" \
    SERIES -k StudyInstanceUID="$ROOT.2" -k SeriesInstanceUID \
    -k "(0040,0275)[0].(0040,1001)" -k "(0040,0275)[0].(0040,0008)[0].(0008,0100)=PROT2"

expect "nested sequence key without a match" "" \
    SERIES -k StudyInstanceUID="$ROOT.1" -k SeriesInstanceUID \
    -k "(0040,0275)[0].(0040,0008)[0].(0008,0100)=PROT2"

expect "name in an item across character sets" \
    "$ROOT.1.1 $RAS[RequestingPhysician=Müller^Hans]" \
    SERIES -k StudyInstanceUID="$ROOT.1" -k SeriesInstanceUID -k "SpecificCharacterSet=ISO_IR 192" \
    -k "(0040,0275)[0].(0032,1032)=müller*"

# max_matches counts the studies that match the sequence key.
timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$files/seq-4.dcm" > "$TEST_TMP/storescu-4.log" 2>&1
check "storescu stores a fourth study" test $? -eq 0
find_responses limit-universal STUDY -k StudyInstanceUID -k "(0008,1032)" > /dev/null
check "empty sequence key over max_matches gets A700" \
    grep -qE 'DIMSE Status +: 0xa700' "$TEST_TMP/find/limit-universal/log"
find_responses limit-match STUDY -k StudyInstanceUID -k "(0008,1032)[0].(0008,0100)=MR-KNEE" \
    > /dev/null
check "matching sequence key under max_matches gets 0000" \
    grep -qE 'DIMSE Status +: 0x0000' "$TEST_TMP/find/limit-match/log"

check_no_sanitizer_report
finish
