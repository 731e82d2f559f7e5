#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `cairnd --copy-index-from`: an archive kept with the SQLite index moves
# to PostgreSQL on the same storage folder. The copy must carry every
# instance with the attributes of its file (C-FIND on the new index finds
# the patient names), the rejections and the jobs, print its counts, fail
# on a file it cannot read while it copies the others, and copy nothing
# twice when run again. COPY_COUNT sets the number of instances (60).
#
# Usage: tests/interop/pg/test_copy_index.sh BUILD_DIR (under ctest, after pg.start)

export CAIRN_TEST_INDEX=postgresql
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"

UID_ROOT="1.2.826.0.1.3680043.9.7433.95.$$"
COUNT=${COPY_COUNT:-60}
STUDIES=3
REJECTED_UID="$UID_ROOT.99.1"

for tool in storescu findscu psql sqlite3 curl; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done
start_watchdog 90

PORT=$(free_port)
API_PORT=$(free_port)
DEAD_PORT=$(free_port)

# write_index_config FILE PLUGIN SETTINGS: one AE on $PORT, storage $STORAGE, the API on.
write_index_config() {
    cat > "$1" <<CONF
log = { level = "info"; };
storage = { path = "$STORAGE"; };
index = { plugin = "$2"; };
plugin_directory = "$PLUGIN_DIR";
plugins = { verification = { }; storage = { }; qr = { }; $2 = { $3 }; };
aes = ( { title = "CAIRN"; port = $PORT; bind = "127.0.0.1";
          plugins = [ "verification", "storage", "qr" ]; } );
remotes = ( { title = "GONE"; host = "127.0.0.1"; port = $DEAD_PORT; } );
api = { bind = "127.0.0.1"; port = $API_PORT; };
CONF
}

# --- the archive on SQLite --------------------------------------------

write_index_config "$TEST_TMP/cairn.conf" index-sqlite ""
cp "$TEST_TMP/cairn.conf" "$TEST_TMP/sqlite.conf"
CAIRN_TEST_INDEX=sqlite TEST_PG_DB="" start_cairnd || { fail "cairnd starts on SQLite"; finish; exit 1; }
python3 "$MAKE_INSTANCES" series "$TEST_TMP/in" --count $COUNT --uid-root "$UID_ROOT" \
    --studies $STUDIES > /dev/null
check "$COUNT instances go to the SQLite archive" \
    timeout 30 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP/in"/inst-*.dcm
STATUS=$(curl -s -m 10 -o "$TEST_TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"kind":"query","remote":"GONE","level":"STUDY"}' "http://127.0.0.1:$API_PORT/v1/jobs")
check "a job is kept in the SQLite index (HTTP $STATUS)" test "$STATUS" = 201
stop_cairnd
sqlite3 "$STORAGE/index.sqlite" \
    "INSERT INTO rejection (sop_uid, code) VALUES ('$REJECTED_UID', '113001')"

# --- the copy ---------------------------------------------------------

write_index_config "$TEST_TMP/cairn.conf" index-postgresql "$(test_index_settings)"
cp "$TEST_TMP/cairn.conf" "$TEST_TMP/pg.conf"
prepare_test_pg_db
pg_value() {
    psql -X -At -h "$TEST_PG_SOCKET" -p "$TEST_PG_PORT" -U cairn -d "$TEST_PG_DB" -c "$1"
}

# One file cannot be read during the first copy.
hidden=$(instance_files | head -n 1)
mv "$hidden" "$hidden.hidden"

t0=$EPOCHREALTIME
"$CAIRND" --config "$TEST_TMP/pg.conf" --copy-index-from "$TEST_TMP/sqlite.conf" \
    > "$TEST_TMP/copy1.log" 2>&1
rc=$?
echo "    first copy: $(python3 -c "print(round($EPOCHREALTIME - $t0, 2))") s"
sed 's/^/    /' "$TEST_TMP/copy1.log" | grep -v '^    instances: [0-9]* of' | tail -n 4
check "the copy with an unreadable file fails (exit $rc)" test $rc -eq 1
check "the copy reports $((COUNT - 1)) instances copied and one failed" \
    grep -q "^instances: $COUNT read, $((COUNT - 1)) copied, 0 already present, 1 failed" \
    "$TEST_TMP/copy1.log"
check "the copy names the unreadable file" grep -q "cannot read $hidden" "$TEST_TMP/copy1.log"

mv "$hidden.hidden" "$hidden"
"$CAIRND" --config "$TEST_TMP/pg.conf" --copy-index-from "$TEST_TMP/sqlite.conf" \
    > "$TEST_TMP/copy-rest.log" 2>&1
rc=$?
check "the copy run again succeeds (exit $rc)" test $rc -eq 0
check "the copy run again copies the one instance left" \
    grep -q "^instances: $COUNT read, 1 copied, $((COUNT - 1)) already present, 0 failed" \
    "$TEST_TMP/copy-rest.log"
check "PostgreSQL holds the $COUNT instances" \
    test "$(pg_value 'SELECT count(*) FROM instance')" -eq $COUNT
check "PostgreSQL holds the rejection" \
    test "$(pg_value "SELECT code FROM rejection WHERE sop_uid = '$REJECTED_UID'")" = 113001
check "PostgreSQL holds the job" test "$(pg_value 'SELECT count(*) FROM job')" -ge 1
check "the paths of the files carry over" \
    test "$(pg_value 'SELECT count(*) FROM instance WHERE path LIKE '"'"'__/%.dcm'"'"'')" -eq $COUNT

"$CAIRND" --config "$TEST_TMP/pg.conf" --copy-index-from "$TEST_TMP/sqlite.conf" \
    > "$TEST_TMP/copy2.log" 2>&1
rc=$?
check "a second copy succeeds (exit $rc)" test $rc -eq 0
check "a second copy copies nothing again" \
    grep -q "^instances: $COUNT read, 0 copied, $COUNT already present, 0 failed" "$TEST_TMP/copy2.log"
check "PostgreSQL still holds $COUNT instances and one job" \
    test "$(pg_value 'SELECT count(*) FROM instance')" -eq $COUNT -a \
         "$(pg_value 'SELECT count(*) FROM job')" -eq 1

# --- the archive on PostgreSQL ----------------------------------------

start_cairnd || { fail "cairnd starts on PostgreSQL"; finish; exit 1; }
mkdir -p "$TEST_TMP/found"
(cd "$TEST_TMP/found" && timeout 30 findscu -S -X -aec CAIRN 127.0.0.1 "$PORT" \
    -k QueryRetrieveLevel=STUDY -k 'PatientName=Test^Patient*' -k StudyInstanceUID \
    > find.log 2>&1)
check "C-FIND on the copied index finds the $STUDIES studies by patient name" \
    test "$(ls "$TEST_TMP/found" | grep -c '^rsp')" -eq $STUDIES
check "cairn check passes on the copied index" "$CAIRN" check --config "$TEST_TMP/pg.conf"

stop_cairnd
check_no_sanitizer_report
finish
