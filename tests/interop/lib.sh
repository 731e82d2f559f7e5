# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers of the interop tests: each test script sources this file,
# starts its own cairnd on a free loopback port with a temporary storage
# folder, drives it with real DICOM peers, and ends with the line
# "N passed, N failed". Every wait is bounded.
#
# Usage inside a test: BUILD_DIR is the first argument of the script.

set -u

BUILD_DIR=${1:?usage: $0 BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
CAIRND="$BUILD_DIR/core/cairnd"
CAIRN="$BUILD_DIR/core/cairn"
PLUGIN_DIR="$BUILD_DIR/plugins"
PYDICOM_DATA=${PYDICOM_DATA:-/usr/lib/python3/dist-packages/pydicom/data}

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-interop.XXXXXX")
PASSED=0
FAILED=0
CAIRND_PID=""

cleanup() {
    stop_cairnd
    drop_test_pg_db
    rm -rf "$TEST_TMP"
}
trap cleanup EXIT

pass() {
    PASSED=$((PASSED + 1))
    echo "ok: $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAILED: $*"
}

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# Prints a TCP port that nothing listens on (bound then released by the kernel).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# write_config [EXTRA_NETWORK_SETTINGS] [AE_EXTRA]: writes $TEST_TMP/cairn.conf
# for one AE CAIRN on $PORT, with storage under $TEST_TMP/storage.
write_config() {
    local network_extra=${1:-}
    local ae_extra=${2:-}
    cat > "$TEST_TMP/cairn.conf" <<CONF
log = { level = "${CAIRN_LOG_LEVEL:-info}"; };
storage = { path = "$TEST_TMP/storage"; };
index = { plugin = "$(test_index_plugin)"; };
network = { artim_timeout = 10; ${network_extra:-max_associations = 32;} };
plugin_directory = "$PLUGIN_DIR";
plugins = {
  verification = { };
  storage = { };
  $(test_index_plugin) = { $(test_index_settings) };
  qr = { };
  commitment = { };
};
aes = (
  { title = "CAIRN"; port = $PORT; bind = "127.0.0.1";
    plugins = [ "verification", "storage", "qr", "commitment" ]; $ae_extra }
);
$(api_settings)
CONF
}

# Starts cairnd on $TEST_TMP/cairn.conf and waits (at most 10 s) until it accepts C-ECHO.
start_cairnd() {
    prepare_test_pg_db || return 1
    "$CAIRND" --config "$TEST_TMP/cairn.conf" >> "$TEST_TMP/cairnd.log" 2>&1 &
    CAIRND_PID=$!
    for _ in $(seq 1 100); do
        if echoscu -aec CAIRN 127.0.0.1 "$PORT" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$CAIRND_PID" 2>/dev/null; then
            echo "cairnd exited during start-up; its log:"
            cat "$TEST_TMP/cairnd.log"
            CAIRND_PID=""
            return 1
        fi
        sleep 0.1
    done
    echo "cairnd did not answer C-ECHO within 10 s"
    return 1
}

# Stops cairnd with SIGTERM and waits at most 20 s for it to exit.
stop_cairnd() {
    [ -n "$CAIRND_PID" ] || return 0
    kill -TERM "$CAIRND_PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$CAIRND_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CAIRND_PID" 2>/dev/null; then
        echo "cairnd did not stop within 20 s of SIGTERM; killing it"
        kill -KILL "$CAIRND_PID" 2>/dev/null
    fi
    wait "$CAIRND_PID" 2>/dev/null
    CAIRND_PID=""
}

# Succeeds while cairnd is still running.
cairnd_alive() {
    [ -n "$CAIRND_PID" ] && kill -0 "$CAIRND_PID" 2>/dev/null
}

# Fails the test when cairnd's log shows a sanitizer report.
check_no_sanitizer_report() {
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TEST_TMP/cairnd.log"; then
        fail "cairnd log has a sanitizer report"
        grep -E -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TEST_TMP/cairnd.log" | head -60
    else
        pass "cairnd log has no sanitizer report"
    fi
}

# Prints the summary line and exits non-zero on any failure.
finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "--- cairnd log (last 80 lines) ---"
        tail -n 80 "$TEST_TMP/cairnd.log" 2>/dev/null
    fi
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# Prints the api group for write_config: the control API on 127.0.0.1
# port $API_PORT, plus the settings in $API_EXTRA, when API_PORT is set.
# Otherwise the API is off, so that daemons of tests running side by side
# never compete for its default port.
api_settings() {
    if [ -n "${API_PORT:-}" ]; then
        echo "api = { bind = \"127.0.0.1\"; port = $API_PORT; ${API_EXTRA:-} };"
    else
        echo 'api = { enabled = false; };'
    fi
}

# --- Index back end of the tests ---
#
# CAIRN_TEST_INDEX chooses the index plugin that write_config sets up:
# "sqlite" (the default) or "postgresql". With postgresql each test gets a
# database of its own on the server that tests/interop/pg_server.sh runs
# under BUILD_DIR/pg (a ctest fixture starts it), dropped when the test
# ends. The SQLite index lives in the storage folder, so a test that
# deletes the storage folder starts from an empty index; start_cairnd
# gives the PostgreSQL database the same life by recreating it whenever
# the storage folder is missing.
CAIRN_TEST_INDEX=${CAIRN_TEST_INDEX:-sqlite}
TEST_PG_SOCKET=${CAIRN_TEST_PG_SOCKET:-$BUILD_DIR/pg/socket}
TEST_PG_PORT=${CAIRN_TEST_PG_PORT:-5432}
TEST_PG_DB=""
if [ "$CAIRN_TEST_INDEX" = postgresql ]; then
    TEST_PG_DB="cairn_test_$$_$RANDOM"
fi

# Prints the index plugin of write_config.
test_index_plugin() {
    echo "index-$CAIRN_TEST_INDEX"
}

# Prints the settings of the index plugin in write_config, with the
# PostgreSQL settings in $CAIRN_TEST_PG_SETTINGS added.
test_index_settings() {
    if [ -n "$TEST_PG_DB" ]; then
        echo "conninfo = \"host=$TEST_PG_SOCKET port=$TEST_PG_PORT dbname=$TEST_PG_DB user=cairn\";"
        echo "${CAIRN_TEST_PG_SETTINGS:-}"
    fi
}

# pg_test_sql SQL: runs one statement of the test harness on the test server.
pg_test_sql() {
    psql -X -q -h "$TEST_PG_SOCKET" -p "$TEST_PG_PORT" -U cairn -d postgres -v ON_ERROR_STOP=1 \
        -c "$1" >/dev/null
}

# Creates the test's database when it does not exist yet, or anew when
# the storage folder of $TEST_TMP/cairn.conf is missing. Does nothing
# with SQLite.
prepare_test_pg_db() {
    local storage exists
    [ -n "$TEST_PG_DB" ] || return 0
    storage=$(sed -n 's/^storage = { path = "\([^"]*\)".*/\1/p' "$TEST_TMP/cairn.conf" 2>/dev/null)
    exists=$(psql -X -At -h "$TEST_PG_SOCKET" -p "$TEST_PG_PORT" -U cairn -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '$TEST_PG_DB'" 2>/dev/null)
    if [ "$exists" = 1 ] && { [ -z "$storage" ] || [ -d "$storage" ]; }; then
        return 0
    fi
    if [ "$exists" = 1 ]; then
        pg_test_sql "DROP DATABASE $TEST_PG_DB WITH (FORCE)" || return 1
    fi
    pg_test_sql "CREATE DATABASE $TEST_PG_DB" || {
        echo "cannot create the test database on $TEST_PG_SOCKET (is the PostgreSQL test server running?)"
        return 1
    }
}

# Drops the test's database, if any.
drop_test_pg_db() {
    [ -n "$TEST_PG_DB" ] || return 0
    pg_test_sql "DROP DATABASE IF EXISTS $TEST_PG_DB WITH (FORCE)" 2>/dev/null || true
}
