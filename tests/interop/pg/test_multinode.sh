#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Two cairnd nodes on one PostgreSQL database and one storage folder:
#   1. parallel ingest, two storescu associations on each node at once;
#   2. a study stored on node A, then found, fetched with C-GET and moved
#      with C-MOVE from node B, the three at once;
#   3. the duplicate race: the same files sent to both nodes at the same
#      moment end up once in the index and once on disk.
# Afterwards the storage tree holds exactly the indexed files, and
# `cairn check` passes.
#
# Usage: tests/interop/pg/test_multinode.sh BUILD_DIR (under ctest, after pg.start)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"
MOVE_PORT=$(free_port)
. "$(dirname "$0")/multinode_lib.sh"

UID_ROOT="1.2.826.0.1.3680043.9.7433.97.$$"
INGEST=600
CROSS=20
RACE=200

for tool in storescu findscu getscu movescu storescp psql curl; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done
start_watchdog 120

write_node_configs
start_node A || { fail "node A starts"; finish; exit 1; }
start_node B || { fail "node B starts"; finish; exit 1; }
pass "nodes A and B start on one database and one storage folder"
check "each node has its own temporary folder" \
    test -f "$STORAGE/tmp/node-A/.lock" -a -f "$STORAGE/tmp/node-B/.lock"

# --- 1. parallel ingest -----------------------------------------------

ingest="$TEST_TMP/ingest"
python3 "$MAKE_INSTANCES" series "$ingest" --count $INGEST --uid-root "$UID_ROOT.1" \
    --studies 6 --series-per-study 2 > /dev/null
ls "$ingest" | grep '^inst-' | sort | split -n r/4 - "$ingest/list-"
t0=$EPOCHREALTIME
pids=""
i=0
for list in "$ingest"/list-??; do
    node=A
    [ $((i % 2)) -eq 1 ] && node=B
    (cd "$ingest" && timeout 60 storescu -v -aec "CAIRN_$node" 127.0.0.1 "${NODE_PORT[$node]}" \
        $(cat "$list") > "$list.log" 2>&1) &
    pids="$pids $!"
    i=$((i + 1))
done
for pid in $pids; do wait "$pid"; done
t1=$EPOCHREALTIME
echo "    ingest of $INGEST instances over 4 associations (2 per node): $(python3 -c "print(round($t1 - $t0, 2))") s"
check "every C-STORE of the parallel ingest got Success" \
    test "$(success_count "$ingest"/list-??.log)" -eq $INGEST
check "the index holds the $INGEST instances once each" \
    test "$(pg_value "SELECT count(DISTINCT sop_uid) FROM instance WHERE sop_uid LIKE '$UID_ROOT.1.%'")" -eq $INGEST

# --- 2. store on A, find and retrieve from B at once ------------------

cross="$TEST_TMP/cross"
python3 "$MAKE_INSTANCES" series "$cross" --count $CROSS --uid-root "$UID_ROOT.2" \
    --studies 1 > /dev/null
STUDY=$(awk -F'\t' 'NR == 1 { print $3 }' "$cross/manifest.tsv")
mkdir -p "$TEST_TMP/moved" "$TEST_TMP/got" "$TEST_TMP/found"
storescp -od "$TEST_TMP/moved" "$MOVE_PORT" > "$TEST_TMP/storescp.log" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"
check "the study goes to node A" \
    timeout 30 storescu -aec CAIRN_A 127.0.0.1 "${NODE_PORT[A]}" "$cross"/inst-*.dcm

keys=(-k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$STUDY")
(cd "$TEST_TMP/found" && timeout 30 findscu -S -X -aec CAIRN_B 127.0.0.1 "${NODE_PORT[B]}" \
    "${keys[@]}" -k NumberOfStudyRelatedInstances > find.log 2>&1) &
find_pid=$!
timeout 30 getscu -S -aec CAIRN_B -od "$TEST_TMP/got" 127.0.0.1 "${NODE_PORT[B]}" "${keys[@]}" \
    > "$TEST_TMP/get.log" 2>&1 &
get_pid=$!
timeout 30 movescu -S -aec CAIRN_B -aem MOVEDEST 127.0.0.1 "${NODE_PORT[B]}" "${keys[@]}" \
    > "$TEST_TMP/move.log" 2>&1 &
move_pid=$!
wait $find_pid
wait $get_pid
wait $move_pid

related=""
[ -f "$TEST_TMP/found/rsp0001.dcm" ] &&
    related=$(dcmdump +P NumberOfStudyRelatedInstances "$TEST_TMP/found/rsp0001.dcm" |
              sed -n 's/.*\[\(.*\)\].*/\1/p')
check "C-FIND on node B finds the study stored on A ($related instances)" test "$related" = "$CROSS"
check "C-GET from node B returns the $CROSS instances" \
    test "$(ls "$TEST_TMP/got" | wc -l)" -eq $CROSS
moved=0
for _ in $(seq 1 50); do
    moved=$(ls "$TEST_TMP/moved" | wc -l)
    [ "$moved" -ge $CROSS ] && break
    sleep 0.1
done
check "C-MOVE from node B delivers the $CROSS instances ($moved)" test "$moved" -eq $CROSS

# --- 3. the duplicate race --------------------------------------------

race="$TEST_TMP/race"
python3 "$MAKE_INSTANCES" series "$race" --count $RACE --uid-root "$UID_ROOT.3" \
    --studies 2 > /dev/null
ls "$race" | grep '^inst-' | sort > "$race/list"
pids=""
for node in A B; do
    (cd "$race" && timeout 60 storescu -v -aec "CAIRN_$node" 127.0.0.1 "${NODE_PORT[$node]}" \
        $(cat list) > "send-$node.log" 2>&1) &
    pids="$pids $!"
done
for pid in $pids; do wait "$pid"; done
failed=$(cat "$race"/send-?.log | grep '^I: Received Store Response' | grep -vc '(Success)')
check "both nodes answered every C-STORE of the race with Success ($failed other)" \
    test "$(success_count "$race"/send-?.log)" -eq $((2 * RACE))
check "each SOP Instance UID of the race is in the index once" \
    test "$(pg_value "SELECT count(*) FROM instance WHERE sop_uid LIKE '$UID_ROOT.3.%'")" -eq $RACE

# --- the storage tree against the index -------------------------------

indexed=$(pg_value "SELECT count(*) FROM instance")
on_disk=$(instance_files | wc -l)
check "the storage tree holds one file per indexed instance ($on_disk files, $indexed rows)" \
    test "$on_disk" -eq "$indexed" -a "$indexed" -eq $((INGEST + CROSS + RACE))
check "no temporary file is left" test -z "$(temporary_files)"
check "cairn check passes with both nodes running" \
    "$CAIRN" check --config "$TEST_TMP/cairn.conf"

stop_nodes
collect_node_logs
check_no_sanitizer_report
finish
