#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Storage Commitment Push Model SCP against dcmjs-dimse (tests/interop/node/
# commit.js) as the SCU: reports of event type 1 and 2 on the requesting
# association, Failure Reasons 0112 and 0119, invalid N-ACTION-RQs, reports
# on a new association to the test's own SCP, a duplicate Transaction UID
# (0131), and a report still pending
# when cairnd is killed with SIGKILL, delivered after the restart.

. "$(dirname "$0")/lib.sh"

NODE_DIR="$(dirname "$0")/node"
COMMIT_JS="$NODE_DIR/commit.js"
if ! command -v node >/dev/null || [ ! -d "$NODE_DIR/node_modules/dcmjs-dimse" ]; then
    echo "SKIP: node or dcmjs-dimse is missing (npm ci in tests/interop/node)"
    exit 0
fi

SC_CLASS="1.2.840.10008.5.1.4.1.1.7"
CT_CLASS="1.2.840.10008.5.1.4.1.1.2"
UID_ROOT="1.2.826.0.1.3680043.9.7433.99.20"

# commit_request TRANSACTION_UID REFS_JSON LINGER_MS [CALLING_AE]: runs the SCU, output in $TEST_TMP/out
commit_request() {
    timeout 90 node "$COMMIT_JS" request "$PORT" CAIRN "${4:-COMMITSCU}" "$1" "$2" "$3" \
        > "$TEST_TMP/out" 2>&1
}

# expect_line PATTERN DESCRIPTION: passes when $TEST_TMP/out has a line matching PATTERN.
expect_line() {
    if grep -qE -- "$1" "$TEST_TMP/out"; then
        pass "$2"
    else
        fail "$2 (output: $(tr '\n' ' ' < "$TEST_TMP/out"))"
    fi
}

PORT=$(free_port)
SCU_PORT=$(free_port)
write_config
cat >> "$TEST_TMP/cairn.conf" <<CONF
remotes = (
  { title = "COMMITNEW"; host = "127.0.0.1"; port = $SCU_PORT; }
);
CONF
sed -i 's|commitment = { };|commitment = { remotes_new_association = "COMMITNEW"; max_attempts = 5; };|' \
    "$TEST_TMP/cairn.conf"
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/instances" --count 3 \
    --uid-root "$UID_ROOT" > /dev/null
check "storescu stores 3 instances" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP"/instances/inst-*.dcm
mapfile -t UIDS < <(cut -f2 "$TEST_TMP/instances/manifest.tsv")

# All present: event type 1 on the requesting association.
refs="[[\"$SC_CLASS\",\"${UIDS[0]}\"],[\"$SC_CLASS\",\"${UIDS[1]}\"],[\"$SC_CLASS\",\"${UIDS[2]}\"]]"
commit_request "$UID_ROOT.1" "$refs" 5000
expect_line '"action":"0x0000"' "N-ACTION-RSP is 0000"
expect_line "\"event\":1,\"transaction\":\"$UID_ROOT.1\",\"retrieve_ae\":\"CAIRN\"" \
    "all present: event type 1 with the Transaction UID and Retrieve AE Title"
expect_line "\"committed\":\\[\"${UIDS[0]}\",\"${UIDS[1]}\",\"${UIDS[2]}\"\\],\"failed\":\\[\\],\"association\":\"same\"" \
    "all present: three committed on the same association"

# One missing, one with another SOP Class: event type 2 with 0112 and 0119.
refs="[[\"$SC_CLASS\",\"${UIDS[0]}\"],[\"$SC_CLASS\",\"$UID_ROOT.404\"],[\"$CT_CLASS\",\"${UIDS[2]}\"]]"
commit_request "$UID_ROOT.2" "$refs" 5000
expect_line "\"event\":2,\"transaction\":\"$UID_ROOT.2\"" "some failed: event type 2"
expect_line "\"committed\":\\[\"${UIDS[0]}\"\\]" "some failed: the present one is committed"
expect_line "\\[\"$UID_ROOT.404\",\"0x0112\"\\]" "missing instance fails with 0112"
expect_line "\\[\"${UIDS[2]}\",\"0x0119\"\\]" "SOP class mismatch fails with 0119"

# Invalid requests are answered at once, with the attribute named.
commit_request omit-transaction "[[\"$SC_CLASS\",\"${UIDS[0]}\"]]" 0
expect_line '"action":"0x0120","comment":"Transaction UID \(0008,1195\) missing"' \
    "missing Transaction UID is answered 0120"
commit_request "1.2.bad" "[[\"$SC_CLASS\",\"${UIDS[0]}\"]]" 0
expect_line '"action":"0x0106","comment":"Transaction UID \(0008,1195\) is not a valid UID"' \
    "invalid Transaction UID is answered 0106"
commit_request "$UID_ROOT.3" "[]" 0
expect_line '"action":"0x0106","comment":"Referenced SOP Sequence \(0008,1199\) empty"' \
    "empty Referenced SOP Sequence is answered 0106"
commit_request "$UID_ROOT.4" "[[\"$SC_CLASS\",\"\"]]" 0
expect_line '"action":"0x0120","comment":"Referenced SOP Instance UID \(0008,1155\) missing"' \
    "item without Referenced SOP Instance UID is answered 0120"
ACTION_TYPE=2 commit_request "$UID_ROOT.5" "[[\"$SC_CLASS\",\"${UIDS[0]}\"]]" 0
expect_line '"action":"0x0123"' "Action Type ID 2 is answered 0123"

# A requestor listed in remotes_new_association gets its report on a new association.
timeout 60 node "$COMMIT_JS" listen "$SCU_PORT" 20000 > "$TEST_TMP/listen.out" 2>&1 &
LISTEN_PID=$!
sleep 1
commit_request "$UID_ROOT.6" "[[\"$SC_CLASS\",\"${UIDS[1]}\"]]" 0 COMMITNEW
expect_line '"action":"0x0000"' "new association: N-ACTION-RSP is 0000"
for _ in $(seq 1 100); do
    grep -q "$UID_ROOT.6" "$TEST_TMP/listen.out" && break
    sleep 0.1
done
cp "$TEST_TMP/listen.out" "$TEST_TMP/out"
expect_line "\"event\":1,\"transaction\":\"$UID_ROOT.6\".*\"association\":\"new\",\"calling_ae\":\"CAIRN\"" \
    "new association: event type 1 from calling AE CAIRN"
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null

# With no SCP listening the report waits; SIGKILL, restart, then it arrives.
commit_request "$UID_ROOT.7" "[[\"$SC_CLASS\",\"${UIDS[2]}\"]]" 0 COMMITNEW
expect_line '"action":"0x0000"' "pending report: N-ACTION-RSP is 0000"
sleep 1
check "pending report: the failed delivery is logged" \
    grep -q "transaction $UID_ROOT.7: the N-EVENT-REPORT to COMMITNEW failed" "$TEST_TMP/cairnd.log"

# The same Transaction UID while that report is pending: every instance fails with 0131.
commit_request "$UID_ROOT.7" "[[\"$SC_CLASS\",\"${UIDS[0]}\"]]" 1000
expect_line "\"event\":2,\"transaction\":\"$UID_ROOT.7\".*\\[\"${UIDS[0]}\",\"0x0131\"\\]" \
    "duplicate Transaction UID fails with 0131"

kill -KILL "$CAIRND_PID"
wait "$CAIRND_PID" 2>/dev/null
CAIRND_PID=""
timeout 90 node "$COMMIT_JS" listen "$SCU_PORT" 60000 > "$TEST_TMP/listen.out" 2>&1 &
LISTEN_PID=$!
sleep 1
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
# The retry due 5 s after the first failure may have been missed: the next is 30 s later.
for _ in $(seq 1 500); do
    grep -q "$UID_ROOT.7" "$TEST_TMP/listen.out" && break
    sleep 0.1
done
cp "$TEST_TMP/listen.out" "$TEST_TMP/out"
expect_line "\"event\":1,\"transaction\":\"$UID_ROOT.7\".*\"association\":\"new\"" \
    "pending report is delivered after a restart"
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null

stop_cairnd
finish
