#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Schema management of the PostgreSQL index. With migrate_at_start off,
# cairnd refuses an empty database and names `cairnd --migrate`. Two
# `cairnd --migrate` run at the same moment: one applies the steps under
# the advisory lock and the other waits and finds the schema current.
# cairnd then starts and stores. A database whose schema is newer than
# this cairnd knows is refused with a clear message. `cairnd --migrate`
# on an SQLite configuration migrates by opening the index.
#
# Usage: tests/interop/pg/test_migrate.sh BUILD_DIR (under ctest, after pg.start)

export CAIRN_TEST_INDEX=postgresql
export CAIRN_TEST_PG_SETTINGS="migrate_at_start = false;"
. "$(dirname "$0")/../lib.sh"

CONF="$TEST_TMP/cairn.conf"
CT_FILE="$PYDICOM_DATA/test_files/CT_small.dcm"

# db_sql SQL: runs SQL in the test's database and prints the result.
db_sql() {
    psql -X -At -h "$TEST_PG_SOCKET" -p "$TEST_PG_PORT" -U cairn -d "$TEST_PG_DB" -c "$1"
}

PORT=$(free_port)
write_config
prepare_test_pg_db || { fail "the test database is created"; finish; exit 1; }

# --- 1. an old schema and migrate_at_start off ------------------------------

timeout 20 "$CAIRND" --config "$CONF" > "$TEST_TMP/refused.log" 2>&1
check "cairnd refuses an unmigrated database" test $? -ne 0
check "the refusal names cairnd --migrate" grep -q "run \`cairnd --migrate\`" "$TEST_TMP/refused.log"

# --- 2. two migrations at once ----------------------------------------------

timeout 60 "$CAIRND" --config "$CONF" --migrate > "$TEST_TMP/migrate-1.log" 2>&1 &
first=$!
timeout 60 "$CAIRND" --config "$CONF" --migrate > "$TEST_TMP/migrate-2.log" 2>&1 &
second=$!
wait "$first"
status_1=$?
wait "$second"
status_2=$?
check "both cairnd --migrate exit 0 ($status_1, $status_2)" test "$status_1" -eq 0 -a "$status_2" -eq 0
applied=$(cat "$TEST_TMP"/migrate-?.log | grep -c "migrated to schema version 1")
check "exactly one of them applied the first step (got $applied)" test "$applied" -eq 1
version=$(db_sql "SELECT version FROM cairn_schema")
check "the schema version is recorded ($version)" test -n "$version" -a "$version" -ge 1
check "the schema version has one row" test "$(db_sql "SELECT count(*) FROM cairn_schema")" = 1

# --- 3. the node starts and stores ------------------------------------------

start_cairnd || { fail "cairnd starts on the migrated database"; finish; exit 1; }
check "storescu stores a CT instance" storescu -aec CAIRN 127.0.0.1 "$PORT" "$CT_FILE"
check "the instance is in the database" test "$(db_sql "SELECT count(*) FROM instance")" = 1
stop_cairnd

# --- 4. a newer schema ------------------------------------------------------

db_sql "UPDATE cairn_schema SET version = version + 1" > /dev/null
timeout 20 "$CAIRND" --config "$CONF" > "$TEST_TMP/newer.log" 2>&1
check "cairnd refuses a newer schema" test $? -ne 0
check "the refusal says the schema is newer" grep -q "newer than the" "$TEST_TMP/newer.log"
timeout 20 "$CAIRND" --config "$CONF" --migrate > "$TEST_TMP/newer-migrate.log" 2>&1
check "cairnd --migrate refuses a newer schema too" test $? -ne 0
db_sql "UPDATE cairn_schema SET version = version - 1" > /dev/null

# --- 5. SQLite ---------------------------------------------------------------

# write_config in a subshell with the SQLite settings, over the same storage path.
(CAIRN_TEST_INDEX=sqlite TEST_PG_DB="" write_config && mv "$CONF" "$TEST_TMP/sqlite.conf")
timeout 20 "$CAIRND" --config "$TEST_TMP/sqlite.conf" --migrate > "$TEST_TMP/sqlite.log" 2>&1
check "cairnd --migrate on SQLite exits 0" test $? -eq 0
check "the SQLite index file exists" test -f "$TEST_TMP/storage/index.sqlite"

finish
