#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The PostgreSQL server restarted under load. Four loops send instances
# with storescu, one association per instance, while the test server is
# first restarted at once and then stopped for 4 s, longer than the
# plugin's reconnect_window of 2 s. cairnd must reconnect each time and go
# on storing. Afterwards every instance that got Success is in the index
# with its file on disk, the storage tree holds no other file, and every
# C-STORE that failed overlapped a time when the server was down.
#
# Usage: tests/interop/pg/test_db_restart.sh BUILD_DIR (under ctest, after pg.start)

export CAIRN_TEST_INDEX=postgresql
export CAIRN_TEST_PG_SETTINGS="reconnect_window = 2; connect_timeout = 2;"
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"

PG_SERVER="$(dirname "$0")/../pg_server.sh"
UID_ROOT="1.2.826.0.1.3680043.9.7433.98.$$"
LOOPS=4
PER_LOOP=400
STOP_FLAG="$TEST_TMP/stop-sending"

start_watchdog 150

dir="$TEST_TMP/instances"
python3 "$MAKE_INSTANCES" series "$dir" --count $((LOOPS * PER_LOOP)) --uid-root "$UID_ROOT" \
    --studies 8 --series-per-study 2
ls "$dir" | grep '^inst-' | sort | split -n "r/$LOOPS" - "$dir/list-"

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# send_loop LIST: sends the files of LIST one association each until the
# list ends or the stop flag appears, and writes "start end file result"
# per C-STORE to LIST.times (result 1 for Success, 0 otherwise).
send_loop() {
    local list=$1 file t0 t1 ok
    while read -r file; do
        [ -e "$STOP_FLAG" ] && break
        t0=$EPOCHREALTIME
        timeout 30 storescu -v -aec CAIRN 127.0.0.1 "$PORT" "$dir/$file" > "$list.last" 2>&1
        t1=$EPOCHREALTIME
        ok=0
        grep -q '^I: Received Store Response (Success)' "$list.last" && ok=1
        echo "$t0 $t1 $file $ok" >> "$list.times"
    done < "$list"
}

# sent_count: C-STOREs finished so far by every loop.
sent_count() {
    cat "$dir"/list-??.times 2>/dev/null | wc -l
}

# wait_sent N: waits (at most 30 s) until N C-STOREs have finished.
wait_sent() {
    for _ in $(seq 1 300); do
        [ "$(sent_count)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

pids=""
for list in "$dir"/list-??; do
    send_loop "$list" &
    pids="$pids $!"
done
PEER_PIDS="$PEER_PIDS $pids"

# --- 1. a restart at once, then 2. an outage longer than reconnect_window ---

outages="$TEST_TMP/outages"
: > "$outages"
check "stores run before the first restart" wait_sent 40
down=$EPOCHREALTIME
bash "$PG_SERVER" stop "$BUILD_DIR" >/dev/null && bash "$PG_SERVER" start "$BUILD_DIR" >/dev/null
up=$EPOCHREALTIME
echo "$down $up" >> "$outages"
check "the server came back after the restart" bash "$PG_SERVER" status "$BUILD_DIR"

before=$(sent_count)
check "stores go on after the restart" wait_sent $((before + 40))
down=$EPOCHREALTIME
bash "$PG_SERVER" stop "$BUILD_DIR" >/dev/null
sleep 4
bash "$PG_SERVER" start "$BUILD_DIR" >/dev/null
up=$EPOCHREALTIME
echo "$down $up" >> "$outages"

before=$(sent_count)
check "stores go on after the outage" wait_sent $((before + 40))
touch "$STOP_FLAG"
for pid in $pids; do
    wait_pid "$pid" 40
done
PEER_PIDS=""
check "cairnd is still running" cairnd_alive

# --- results ---------------------------------------------------------------

cat "$dir"/list-??.times > "$TEST_TMP/times"
total=$(wc -l < "$TEST_TMP/times")
acked=$(awk '$4 == 1' "$TEST_TMP/times" | wc -l)
failed=$(awk '$4 == 0' "$TEST_TMP/times" | wc -l)
echo "C-STOREs: $total, Success: $acked, failed: $failed"
check "some C-STOREs failed while the server was down for 4 s" test "$failed" -gt 0
check "most C-STOREs succeeded" test "$acked" -gt $((total / 2))

# A failure must overlap an outage (with 0.5 s of slack for the clocks of
# the shell and cairnd).
outside=$(awk 'NR == FNR { down[NR] = $1; up[NR] = $2; n = NR; next }
    $4 == 0 {
        inside = 0
        for (i = 1; i <= n; i++)
            if ($2 >= down[i] - 0.5 && $1 <= up[i] + 0.5) inside = 1
        if (!inside) print
    }' "$outages" "$TEST_TMP/times")
check "every failed C-STORE overlapped an outage" test -z "$outside"
[ -z "$outside" ] || echo "$outside" | head -5

timeout 60 "$CAIRN" --config "$CONF" instances --json > "$TEST_TMP/instances.json"
check "cairn instances --json exits 0" test $? -eq 0
json_columns "$TEST_TMP/instances.json" sop_instance_uid path > "$TEST_TMP/indexed.tsv"
awk '$4 == 1 { print $3 }' "$TEST_TMP/times" | sort > "$TEST_TMP/acked-files"
uids_of_files "$dir/manifest.tsv" < "$TEST_TMP/acked-files" | sort > "$TEST_TMP/acked-uids"
cut -f 1 "$TEST_TMP/indexed.tsv" | sort > "$TEST_TMP/indexed-uids"
missing=$(comm -23 "$TEST_TMP/acked-uids" "$TEST_TMP/indexed-uids" | wc -l)
check "every acknowledged instance is in the index ($missing missing of $acked)" \
    test "$missing" -eq 0

absent=0
while IFS=$'\t' read -r _ path; do
    [ -f "$STORAGE/$path" ] || absent=$((absent + 1))
done < "$TEST_TMP/indexed.tsv"
check "every indexed instance has its file ($absent absent)" test "$absent" -eq 0
check "the storage tree holds exactly the indexed files" \
    test "$(instance_files | wc -l)" -eq "$(wc -l < "$TEST_TMP/indexed.tsv")"
check "cairnd logged the lost connection" grep -q "connection lost" "$TEST_TMP/cairnd.log"

stop_cairnd
check_no_sanitizer_report
finish
