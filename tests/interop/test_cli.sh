#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The cairn tool against an archive that a real cairnd filled. DCMTK's
# storescu sends three pydicom test files and cairnd stops. The listings
# must then show them, compared with dcmdump's reading of the same files,
# and `cairn check` must pass. Then check must find a deleted file, a
# damaged file, an orphan and a temporary file, and --repair must remove
# only the last two.
#
# Usage: tests/interop/test_cli.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"

FILES_DIR="$PYDICOM_DATA/test_files"
FILES="CT_small.dcm MR_small.dcm rtplan.dcm"
CONF="$TEST_TMP/cairn.conf"
STORAGE="$TEST_TMP/storage"

# top_level_value FILE TAG: prints the value of a top-level attribute, as dcmdump reads it.
top_level_value() {
    dcmdump "$1" 2>/dev/null | grep -E "^\($2\)" | head -n 1 | sed -e 's/^[^[]*\[//' -e 's/\].*$//'
}

# distinct_count TAG: the number of distinct values of TAG over the sent files.
distinct_count() {
    for f in $FILES; do
        top_level_value "$FILES_DIR/$f" "$1"
    done | sort -u | wc -l
}

# json_length FILE: the number of elements of the JSON array in FILE, or "invalid".
json_length() {
    python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1" 2>/dev/null \
        || echo invalid
}

# json_lookup FILE KEY VALUE FIELD: prints FIELD of the object whose KEY is VALUE.
json_lookup() {
    python3 - "$@" <<'PY' 2>/dev/null
import json, sys
rows = json.load(open(sys.argv[1]))
for row in rows:
    if row.get(sys.argv[2]) == sys.argv[3]:
        print(row.get(sys.argv[4]))
        break
PY
}

# run_cairn NAME ARGS...: runs cairn, stdout and stderr to $TEST_TMP/NAME.out, status to RC.
run_cairn() {
    local name=$1
    shift
    timeout 60 "$CAIRN" --config "$CONF" "$@" > "$TEST_TMP/$name.out" 2>&1
    RC=$?
}

# expect_output NAME TEXT DESCRIPTION: passes when $TEST_TMP/NAME.out contains TEXT.
expect_output() {
    if grep -qF -- "$2" "$TEST_TMP/$1.out"; then
        pass "$3"
    else
        fail "$3 (output of cairn $1:)"
        sed 's/^/    /' "$TEST_TMP/$1.out" | head -n 40
    fi
}

if [ ! -x "$CAIRN" ]; then
    fail "cairn is built at $CAIRN"
    finish
    exit 1
fi

# Usage errors need no archive.
"$CAIRN" --help > "$TEST_TMP/help.out" 2>&1
check "cairn --help exits 0" test $? -eq 0
expect_output help "  instances " "help text describes the instances command"
expect_output help "--min-age SECONDS" "help text describes --min-age"
"$CAIRN" --version > "$TEST_TMP/version.out" 2>&1
check "cairn --version exits 0" test $? -eq 0
"$CAIRN" frobnicate > /dev/null 2>&1
check "unknown command exits 2" test $? -eq 2
"$CAIRN" patients --repair > /dev/null 2>&1
check "option of another command exits 2" test $? -eq 2
"$CAIRN" > /dev/null 2>&1
check "missing command exits 2" test $? -eq 2
"$CAIRN" --config "$TEST_TMP/absent.conf" patients > "$TEST_TMP/absent.out" 2>&1
check "missing configuration file exits 1" test $? -eq 1
expect_output absent "absent.conf" "missing configuration file is named in the error"

# Fill an archive through cairnd.
PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }
(cd "$FILES_DIR" && timeout 120 storescu -to 30 -aec CAIRN 127.0.0.1 "$PORT" $FILES) \
    > "$TEST_TMP/storescu.out" 2>&1
check "storescu sends $FILES" test $? -eq 0
stop_cairnd

ct_uid=$(top_level_value "$FILES_DIR/CT_small.dcm" 0008,0018)
ct_series=$(top_level_value "$FILES_DIR/CT_small.dcm" 0020,000e)
ct_patient=$(top_level_value "$FILES_DIR/CT_small.dcm" 0010,0020)
mr_uid=$(top_level_value "$FILES_DIR/MR_small.dcm" 0008,0018)
rt_uid=$(top_level_value "$FILES_DIR/rtplan.dcm" 0008,0018)

# Listings.
for level in patients studies series instances; do
    case $level in
        patients) expected=$(distinct_count 0010,0020) ;;
        studies) expected=$(distinct_count 0020,000d) ;;
        series) expected=$(distinct_count 0020,000e) ;;
        instances) expected=$(distinct_count 0008,0018) ;;
    esac
    timeout 60 "$CAIRN" --config "$CONF" "$level" --json > "$TEST_TMP/$level.json" \
        2> "$TEST_TMP/$level.err"
    check "cairn $level --json exits 0" test $? -eq 0
    count=$(json_length "$TEST_TMP/$level.json")
    check "cairn $level --json lists $expected rows (got $count)" test "$count" = "$expected"
done

listed=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$ct_uid" sop_instance_uid)
check "instances lists CT_small's SOP Instance UID $ct_uid" test "$listed" = "$ct_uid"
ct_path=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$ct_uid" path)
check "CT_small's indexed file exists ($ct_path)" test -n "$ct_path" -a -f "$STORAGE/$ct_path"
ct_size=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$ct_uid" size)
check "CT_small's indexed size matches the stored file" \
    test "$ct_size" = "$(stat -c %s "$STORAGE/$ct_path" 2>/dev/null)"
ct_class=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$ct_uid" sop_class_name)
check "CT_small's SOP class is named CT Image Storage (got '$ct_class')" \
    test "$ct_class" = "CT Image Storage"
name=$(json_lookup "$TEST_TMP/patients.json" patient_id "$ct_patient" name)
check "patients lists CT_small's patient name (got '$name')" \
    test "$name" = "$(top_level_value "$FILES_DIR/CT_small.dcm" 0010,0010)"
studies=$(json_lookup "$TEST_TMP/patients.json" patient_id "$ct_patient" study_count)
check "CT_small's patient has 1 study (got '$studies')" test "$studies" = 1
mr_path=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$mr_uid" path)
rt_path=$(json_lookup "$TEST_TMP/instances.json" sop_instance_uid "$rt_uid" path)

timeout 60 "$CAIRN" --config "$CONF" instances --json --series "$ct_series" \
    > "$TEST_TMP/filtered.json" 2>&1
count=$(json_length "$TEST_TMP/filtered.json")
check "instances --series lists only CT_small's instance (got $count)" test "$count" = 1
timeout 60 "$CAIRN" --config "$CONF" studies --json --patient "$ct_patient" \
    > "$TEST_TMP/filtered.json" 2>&1
count=$(json_length "$TEST_TMP/filtered.json")
check "studies --patient lists CT_small's study only (got $count)" test "$count" = 1
timeout 60 "$CAIRN" --config "$CONF" studies --json --patient NO-SUCH-PATIENT \
    > "$TEST_TMP/filtered.json" 2>&1
count=$(json_length "$TEST_TMP/filtered.json")
check "studies --patient with an unknown ID lists nothing (got $count)" test "$count" = 0

run_cairn table instances
check "cairn instances (table) exits 0" test "$RC" -eq 0
expect_output table "SOP Instance UID" "instance table has a heading"
expect_output table "$ct_uid" "instance table lists CT_small"

# A consistent archive.
run_cairn check-ok check
check "cairn check exits 0 on the archive cairnd wrote" test "$RC" -eq 0
expect_output check-ok "are consistent" "cairn check says the archive is consistent"

# A deleted file: reported with its path, exit 1, and --repair leaves the index alone.
cp "$STORAGE/$ct_path" "$TEST_TMP/ct-backup.dcm"
rm -f "$STORAGE/$ct_path"
run_cairn check-missing check
check "cairn check exits 1 with a file deleted" test "$RC" -eq 1
expect_output check-missing "missing: $ct_path" "cairn check names the deleted file"
run_cairn repair-missing check --repair
check "cairn check --repair still exits 1 with a file deleted" test "$RC" -eq 1
timeout 60 "$CAIRN" --config "$CONF" instances --json > "$TEST_TMP/after-repair.json" 2>&1
listed=$(json_lookup "$TEST_TMP/after-repair.json" sop_instance_uid "$ct_uid" sop_instance_uid)
check "--repair keeps the instance with a missing file in the index" test "$listed" = "$ct_uid"
cp "$TEST_TMP/ct-backup.dcm" "$STORAGE/$ct_path"

# A damaged file of the right size: "DICM" at byte 128 overwritten.
cp "$STORAGE/$mr_path" "$TEST_TMP/mr-backup.dcm"
printf 'XXXX' | dd of="$STORAGE/$mr_path" bs=1 seek=128 conv=notrunc status=none
run_cairn check-damaged check
check "cairn check exits 1 with a damaged file" test "$RC" -eq 1
expect_output check-damaged "unreadable: $mr_path" "cairn check names the damaged file"
cp "$TEST_TMP/mr-backup.dcm" "$STORAGE/$mr_path"

# A file of the wrong size.
cp "$STORAGE/$rt_path" "$TEST_TMP/rt-backup.dcm"
printf 'extra' >> "$STORAGE/$rt_path"
run_cairn check-size check
check "cairn check exits 1 with a grown file" test "$RC" -eq 1
expect_output check-size "size mismatch: $rt_path" "cairn check names the grown file"
cp "$TEST_TMP/rt-backup.dcm" "$STORAGE/$rt_path"

# An orphan (as a crash between rename and index commit leaves) and a temporary file.
mkdir -p "$STORAGE/ff/ff" "$STORAGE/tmp"
orphan="ff/ff/orphan-from-crash.dcm"
cp "$FILES_DIR/CT_small.dcm" "$STORAGE/$orphan"
echo partial > "$STORAGE/tmp/4242-0.part"
touch -d '2 hours ago' "$STORAGE/$orphan" "$STORAGE/tmp/4242-0.part"
run_cairn check-orphan check
check "cairn check exits 1 with an orphan" test "$RC" -eq 1
expect_output check-orphan "orphan: $orphan" "cairn check names the orphan"
expect_output check-orphan "temporary: tmp/4242-0.part" "cairn check names the temporary file"
check "check without --repair keeps the orphan" test -f "$STORAGE/$orphan"
check "check without --repair keeps the temporary file" test -f "$STORAGE/tmp/4242-0.part"

recent="ff/ff/recent.dcm"
cp "$FILES_DIR/MR_small.dcm" "$STORAGE/$recent"
run_cairn repair check --repair
check "check --repair exits 1 while a recent orphan is kept" test "$RC" -eq 1
check "check --repair removes the orphan" test ! -e "$STORAGE/$orphan"
check "check --repair removes the temporary file" test ! -e "$STORAGE/tmp/4242-0.part"
check "check --repair keeps an orphan younger than --min-age" test -f "$STORAGE/$recent"
check "check --repair keeps the indexed files" \
    test -f "$STORAGE/$ct_path" -a -f "$STORAGE/$mr_path" -a -f "$STORAGE/$rt_path"

run_cairn repair-now check --repair --min-age 0
check "check --repair --min-age 0 exits 0" test "$RC" -eq 0
check "check --repair --min-age 0 removes the recent orphan" test ! -e "$STORAGE/$recent"

run_cairn check-final check
check "cairn check exits 0 after the repair" test "$RC" -eq 0

finish
