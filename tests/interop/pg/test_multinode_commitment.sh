#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A Storage Commitment report pending on a node killed with SIGKILL: two
# cairnd nodes on one PostgreSQL database with 3 s leases. Node A takes an
# N-ACTION (dcmjs-dimse, tests/interop/node/commit.js) whose report goes
# on a new association to an SCU that is not listening yet, so the report
# waits on A. A is killed, the SCU starts listening, and node B must take
# the pending report over once A's lease expires and deliver it once.
#
# Usage: tests/interop/pg/test_multinode_commitment.sh BUILD_DIR (under ctest, after pg.start)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"
NODE_DIR="$(dirname "$0")/../node"
COMMIT_JS="$NODE_DIR/commit.js"
if ! command -v node >/dev/null || [ ! -d "$NODE_DIR/node_modules/dcmjs-dimse" ]; then
    echo "SKIP: node or dcmjs-dimse is missing (npm ci in tests/interop/node)"
    exit 0
fi
SCU_PORT=$(free_port)
NODE_EXTRA="lease_seconds = 3;"
REMOTES_EXTRA=", { title = \"COMMITNEW\"; host = \"127.0.0.1\"; port = $SCU_PORT; }"
PLUGINS_EXTRA='commitment = { remotes_new_association = "COMMITNEW"; max_attempts = 10; };'
AE_PLUGINS_EXTRA=', "commitment"'
. "$(dirname "$0")/multinode_lib.sh"

SC_CLASS="1.2.840.10008.5.1.4.1.1.7"
UID_ROOT="1.2.826.0.1.3680043.9.7433.94.$$"
TXN="$UID_ROOT.100"
start_watchdog 90

write_node_configs
start_node A || { fail "node A starts"; finish; exit 1; }
start_node B || { fail "node B starts"; finish; exit 1; }

python3 "$MAKE_INSTANCES" series "$TEST_TMP/in" --count 1 --uid-root "$UID_ROOT" > /dev/null
check "an instance goes to node A" \
    timeout 30 storescu -aec CAIRN_A 127.0.0.1 "${NODE_PORT[A]}" "$TEST_TMP"/in/inst-*.dcm
SOP=$(cut -f2 "$TEST_TMP/in/manifest.tsv")

timeout 60 node "$COMMIT_JS" request "${NODE_PORT[A]}" CAIRN_A COMMITNEW "$TXN" \
    "[[\"$SC_CLASS\",\"$SOP\"]]" 0 > "$TEST_TMP/out" 2>&1
check "node A answers the N-ACTION with 0000" grep -q '"action":"0x0000"' "$TEST_TMP/out"
failed=no
for _ in $(seq 1 100); do
    grep -q "transaction $TXN: the N-EVENT-REPORT to COMMITNEW failed" "$TEST_TMP/cairnd-A.log" &&
        { failed=yes; break; }
    sleep 0.1
done
check "node A's delivery fails while the SCU does not listen" test "$failed" = yes
check "node A holds the lease of the pending report" \
    test "$(pg_value "SELECT owner FROM lease WHERE lease_key LIKE 'commitment-report:%'")" = node-A

stop_node A KILL
killed=$EPOCHREALTIME
timeout 80 node "$COMMIT_JS" listen "$SCU_PORT" 60000 > "$TEST_TMP/listen.out" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"

delivered=no
for _ in $(seq 1 400); do
    grep -q "\"transaction\":\"$TXN\"" "$TEST_TMP/listen.out" && { delivered=yes; break; }
    sleep 0.1
done
echo "    report delivered $(python3 -c "print(round($EPOCHREALTIME - $killed, 1))") s after node A was killed"
check "node B delivers the report that node A left pending" test "$delivered" = yes
check "the report is of event type 1" grep -q "\"event\":1,\"transaction\":\"$TXN\"" \
    "$TEST_TMP/listen.out"
sleep 1
check "the report arrives once" test "$(grep -c "\"transaction\":\"$TXN\"" "$TEST_TMP/listen.out")" -eq 1
check "no record of the transaction is left" \
    test "$(pg_value "SELECT count(*) FROM job WHERE job_id LIKE 'commitment:%'")" -eq 0

stop_nodes
collect_node_logs
check_no_sanitizer_report
finish
