#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The storage path against bad input, sent byte for byte by a raw socket
# client (dicom_raw_client.py): truncated data sets and garbage get C000,
# a SOP Instance UID mismatch or a missing UID gets A900, and none of them
# leaves anything in the archive. Then the duplicate policies reject and
# replace, and a full disk (storage on a 2 MiB tmpfs) that gets A700.
#
# Usage: tests/interop/test_store_bad_input.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"

CONF="$TEST_TMP/cairn.conf"
STORAGE="$TEST_TMP/storage"
RAW_CLIENT="$(cd "$(dirname "$0")" && pwd)/dicom_raw_client.py"
FILES_DIR="$PYDICOM_DATA/test_files"
SMALL_DISK="$TEST_TMP/small-disk"

# The tmpfs must be unmounted before lib.sh's cleanup removes $TEST_TMP.
trap 'stop_cairnd; mountpoint -q "$SMALL_DISK" && umount "$SMALL_DISK"; cleanup' EXIT

# raw_send NAME ARGS...: runs the raw client against cairnd; its output
# goes to $TEST_TMP/NAME.out, and STATUS and COMMENT are set from it.
raw_send() {
    local name=$1
    shift
    timeout 120 python3 "$RAW_CLIENT" --port "$PORT" "$@" > "$TEST_TMP/$name.out" 2>&1
    STATUS=$(sed -n 's/^status=//p' "$TEST_TMP/$name.out")
    COMMENT=$(sed -n 's/^comment=//p' "$TEST_TMP/$name.out")
    echo "$name: status ${STATUS:-none}, comment '${COMMENT}'"
    [ -n "$STATUS" ] || sed 's/^/    /' "$TEST_TMP/$name.out"
}

# expect_status NAME LOW HIGH: passes when STATUS is in [LOW, HIGH].
expect_status() {
    if [ -n "$STATUS" ] && [ $((STATUS)) -ge $(($2)) ] && [ $((STATUS)) -le $(($3)) ]; then
        pass "$1 gets status $STATUS"
    else
        fail "$1 gets status in $2..$3 (got ${STATUS:-no response})"
    fi
}

instance_count() {
    timeout 60 "$CAIRN" --config "$CONF" instances --json 2>/dev/null \
        | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo invalid
}

# instance_path SOP_INSTANCE_UID: the indexed path, relative to storage.path.
instance_path() {
    timeout 60 "$CAIRN" --config "$CONF" instances --json 2>/dev/null | python3 -c '
import json, sys
for row in json.load(sys.stdin):
    if row["sop_instance_uid"] == sys.argv[1]:
        print(row["path"])' "$1"
}

stored_file_count() {
    find "$STORAGE" -name '*.dcm' -type f 2>/dev/null | wc -l
}

tmp_file_count() {
    find "$STORAGE/tmp" -type f -not -name .lock 2>/dev/null | wc -l
}

# expect_nothing_stored WHAT: the index, the storage folder and tmp/ are
# as before, and cairnd still responds to C-ECHO.
expect_nothing_stored() {
    check "$1: index count unchanged" test "$(instance_count)" = "$BASE_COUNT"
    check "$1: no new file under storage" test "$(stored_file_count)" -eq "$BASE_FILES"
    check "$1: storage tmp/ is empty" test "$(tmp_file_count)" -eq 0
    check "$1: cairnd still answers echoscu" echoscu -aec CAIRN -to 10 127.0.0.1 "$PORT"
}

# set_duplicate_policy POLICY: rewrites the storage plugin group of the configuration.
set_duplicate_policy() {
    sed -i -e "s/^  storage = {.*};$/  storage = { duplicates = \"$1\"; };/" "$CONF"
    grep -q "duplicates = \"$1\"" "$CONF"
}

# restart_with_fresh_storage [STORAGE_PATH]: stops cairnd, empties the
# archive, optionally points storage.path elsewhere, and starts again.
restart_with_fresh_storage() {
    stop_cairnd
    rm -rf "$STORAGE"
    if [ -n "${1:-}" ]; then
        STORAGE=$1
        sed -i -e "s|^storage = { path = .*|storage = { path = \"$STORAGE\"; };|" "$CONF"
    fi
    start_cairnd
}

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }
BASE_COUNT=$(instance_count)
BASE_FILES=$(stored_file_count)
check "empty archive lists 0 instances" test "$BASE_COUNT" = 0

# 1. Truncated files, sent as they are: C000 with an Error Comment.
for name in MR_truncated.dcm rtplan_truncated.dcm; do
    raw_send "$name" "$FILES_DIR/$name"
    expect_status "truncated $name" 0xC000 0xCFFF
    check "truncated $name gets an Error Comment" test -n "$COMMENT"
    expect_nothing_stored "truncated $name"
done

# 2. Pseudo-random bytes in place of the data set: C000.
raw_send garbage --garbage 3000 "$FILES_DIR/CT_small.dcm"
expect_status "garbage data set" 0xC000 0xCFFF
check "garbage data set gets an Error Comment" test -n "$COMMENT"
expect_nothing_stored "garbage data set"

# 3. Affected SOP Instance UID differing from the data set: A900.
raw_send mismatch --affected-instance 1.2.826.0.1.3680043.9.7433.99.2 "$FILES_DIR/CT_small.dcm"
expect_status "Affected SOP Instance UID mismatch" 0xA900 0xA900
case "$COMMENT" in
    *"SOP Instance UID"*) pass "mismatch comment names SOP Instance UID" ;;
    *) fail "mismatch comment names SOP Instance UID (got '$COMMENT')" ;;
esac
expect_nothing_stored "SOP Instance UID mismatch"

# 4. No Affected SOP Instance UID in the request: A900.
raw_send no-affected --no-affected-instance "$FILES_DIR/CT_small.dcm"
expect_status "request without Affected SOP Instance UID" 0xA900 0xA900
case "$COMMENT" in
    *"Affected SOP Instance UID"*) pass "comment names Affected SOP Instance UID" ;;
    *) fail "comment names Affected SOP Instance UID (got '$COMMENT')" ;;
esac
expect_nothing_stored "no Affected SOP Instance UID"

# 5. A data set without Study Instance UID: A900 with a comment naming it.
cp "$FILES_DIR/CT_small.dcm" "$TEST_TMP/no_study.dcm"
dcmodify -nb -e "(0020,000d)" "$TEST_TMP/no_study.dcm" >/dev/null 2>&1
check "dcmodify removed Study Instance UID" \
    test -z "$(dcmdump -q +P 0020,000d "$TEST_TMP/no_study.dcm" 2>/dev/null)"
raw_send no-study "$TEST_TMP/no_study.dcm"
expect_status "data set without Study Instance UID" 0xA900 0xA900
case "$COMMENT" in
    *"Study Instance UID"*) pass "comment names Study Instance UID" ;;
    *) fail "comment names Study Instance UID (got '$COMMENT')" ;;
esac
expect_nothing_stored "no Study Instance UID"

# A valid file on the same daemon is stored: the checks above are not vacuous.
raw_send valid "$FILES_DIR/CT_small.dcm"
expect_status "valid CT_small.dcm" 0x0000 0x0000
check "valid CT_small.dcm is indexed" test "$(instance_count)" = 1

# 6. Duplicate policy reject: 0111 on the second send, the first stays.
CT_UID=$(dcmdump -q +P 0008,0018 "$FILES_DIR/CT_small.dcm" | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p')
check "configuration takes duplicates = reject" set_duplicate_policy reject
restart_with_fresh_storage || { fail "cairnd restarts with duplicates = reject"; finish; exit 1; }
raw_send reject-first "$FILES_DIR/CT_small.dcm"
expect_status "first send under reject" 0x0000 0x0000
first_path=$(instance_path "$CT_UID")
raw_send reject-second "$FILES_DIR/CT_small.dcm"
expect_status "duplicate under reject" 0x0111 0x0111
check "duplicate under reject gets an Error Comment" test -n "$COMMENT"
check "reject: index has one instance" test "$(instance_count)" = 1
check "reject: path unchanged" test "$(instance_path "$CT_UID")" = "$first_path"
check "reject: one file under storage" test "$(stored_file_count)" -eq 1
check "reject: storage tmp/ is empty" test "$(tmp_file_count)" -eq 0

# 7. Duplicate policy replace: the new file replaces the old one.
cp "$FILES_DIR/CT_small.dcm" "$TEST_TMP/replacement.dcm"
dcmodify -nb -m "(0010,0010)=Replaced^Patient" "$TEST_TMP/replacement.dcm" >/dev/null 2>&1
check "configuration takes duplicates = replace" set_duplicate_policy replace
restart_with_fresh_storage || { fail "cairnd restarts with duplicates = replace"; finish; exit 1; }
raw_send replace-first "$FILES_DIR/CT_small.dcm"
expect_status "first send under replace" 0x0000 0x0000
old_path=$(instance_path "$CT_UID")
raw_send replace-second "$TEST_TMP/replacement.dcm"
expect_status "duplicate under replace" 0x0000 0x0000
new_path=$(instance_path "$CT_UID")
check "replace: index has one instance" test "$(instance_count)" = 1
check "replace: path changed ($old_path -> $new_path)" \
    test -n "$new_path" -a -n "$old_path" -a "$new_path" != "$old_path"
check "replace: old file is gone" test ! -e "$STORAGE/$old_path"
check "replace: new file holds the new data set" \
    grep -q "Replaced^Patient" <(dcmdump -q +P 0010,0010 "$STORAGE/$new_path" 2>/dev/null)
check "replace: one file under storage" test "$(stored_file_count)" -eq 1
check "replace: storage tmp/ is empty" test "$(tmp_file_count)" -eq 0

# 8. Disk full: storage.path on a 2 MiB tmpfs, a 3 MiB data set: A700.
stop_cairnd
mkdir -p "$SMALL_DISK"
if ! mount -t tmpfs -o size=2m tmpfs "$SMALL_DISK" 2> "$TEST_TMP/mount.out"; then
    fail "mount a 2 MiB tmpfs for the disk-full case: $(cat "$TEST_TMP/mount.out")"
else
    set_duplicate_policy keep
    restart_with_fresh_storage "$SMALL_DISK/storage" \
        || { fail "cairnd starts on the 2 MiB tmpfs"; finish; exit 1; }
    raw_send disk-full-small "$FILES_DIR/CT_small.dcm"
    expect_status "small file on the small disk" 0x0000 0x0000
    BASE_COUNT=$(instance_count)
    BASE_FILES=$(stored_file_count)

    raw_send disk-full --pad $((3 * 1024 * 1024)) "$FILES_DIR/rtplan.dcm"
    expect_status "3 MiB data set on a 2 MiB disk" 0xA700 0xA7FF
    check "disk full gets an Error Comment" test -n "$COMMENT"
    expect_nothing_stored "disk full"
    echo "disk use after the failed send: $(du -sk "$SMALL_DISK" | cut -f1) KiB"
    check "disk full: space is freed (under 1 MiB used)" \
        test "$(du -sk "$SMALL_DISK" | cut -f1)" -lt 1024

    # Once the space is back, the archive takes instances again.
    raw_send after-disk-full "$FILES_DIR/MR_small.dcm"
    expect_status "MR_small.dcm after the disk-full failure" 0x0000 0x0000
    check "index has both small instances" test "$(instance_count)" = $((BASE_COUNT + 1))
    timeout 60 "$CAIRN" --config "$CONF" check > "$TEST_TMP/check.out" 2>&1
    check "cairn check exits 0 on the small disk" test $? -eq 0
fi

check "cairnd still running" cairnd_alive
check_no_sanitizer_report
stop_cairnd
finish
