#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Storage Commitment SCU, the backup archive role: a cairnd (AE CAIRN) sends
# studies to a second cairnd (AE BACKUP, own storage) configured as a backup
# archive, then requests commitment of them. Covered: a backup that first
# rejects the Storage Commitment context and then is down for some
# attempts, with one instance whose file was removed (0110) and one no
# longer in its index (0112); the report on the N-ACTION association and on
# a new association; a report that never arrives (new requests, then
# failed); a report pending when the sending cairnd is killed with SIGKILL,
# applied after the restart; the role negotiation for reports; the state
# through the control API and `cairn commitment`.

. "$(dirname "$0")/lib.sh"

for tool in storescu echoscu curl sqlite3; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is missing"
        exit 0
    fi
done

UID_ROOT="1.2.826.0.1.3680043.9.7433.99.31"
PORT=$(free_port)
API_PORT=$(free_port)
BACKUP_PORT=$(free_port)
BACKUP_DIR="$TEST_TMP/backup"
BACKUP_PID=""
mkdir -p "$BACKUP_DIR"

# The archive: AE CAIRN, and AE CAIRN2 on the same port, which asks BACKUP2.
write_config "" ""
sed -i 's|^aes = (|aes = (\n  { title = "CAIRN2"; port = '"$PORT"'; bind = "127.0.0.1";\n    plugins = [ "verification", "commitment" ]; },|' \
    "$TEST_TMP/cairn.conf"
cat >> "$TEST_TMP/cairn.conf" <<CONF
remotes = (
  { title = "BACKUP"; host = "127.0.0.1"; port = $BACKUP_PORT;
    commitment = { calling_ae = "CAIRN"; report_timeout = 60; max_attempts = 8;
                   retry_delay = 1; retry_delay_max = 2; same_association_wait_ms = 2000; }; },
  { title = "BACKUP2"; host = "127.0.0.1"; port = $BACKUP_PORT;
    commitment = { calling_ae = "CAIRN2"; report_timeout = 2; max_attempts = 2;
                   retry_delay = 1; retry_delay_max = 1; same_association_wait_ms = 0; }; },
  { title = "PLAIN"; host = "127.0.0.1"; port = $BACKUP_PORT; }
);
CONF

# start_backup PLUGINS COMMITMENT: starts the backup cairnd; PLUGINS is the AE's plugin
# list, COMMITMENT the settings of its commitment plugin.
start_backup() {
    cat > "$BACKUP_DIR/cairn.conf" <<CONF
log = { level = "info"; };
storage = { path = "$BACKUP_DIR/storage"; };
network = { artim_timeout = 10; };
plugin_directory = "$PLUGIN_DIR";
plugins = {
  verification = { };
  storage = { };
  index-sqlite = { };
  commitment = { $2 };
};
aes = (
  { title = "BACKUP"; port = $BACKUP_PORT; bind = "127.0.0.1"; plugins = [ $1 ]; },
  { title = "BACKUP2"; port = $BACKUP_PORT; bind = "127.0.0.1"; plugins = [ $1 ]; }
);
remotes = ( { title = "CAIRN"; host = "127.0.0.1"; port = $PORT; } );
api = { enabled = false; };
CONF
    "$CAIRND" --config "$BACKUP_DIR/cairn.conf" >> "$BACKUP_DIR/cairnd.log" 2>&1 &
    BACKUP_PID=$!
    for _ in $(seq 1 100); do
        echoscu -aec BACKUP 127.0.0.1 "$BACKUP_PORT" >/dev/null 2>&1 && return 0
        kill -0 "$BACKUP_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the backup cairnd did not start; its log:"
    tail -n 30 "$BACKUP_DIR/cairnd.log"
    return 1
}

stop_backup() {
    [ -n "$BACKUP_PID" ] || return 0
    kill -TERM "$BACKUP_PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$BACKUP_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$BACKUP_PID" 2>/dev/null
    wait "$BACKUP_PID" 2>/dev/null
    BACKUP_PID=""
}

cleanup_both() {
    stop_backup
    cleanup
}
trap cleanup_both EXIT

# state STUDY [JSON_PATH]: prints the commitment reply of STUDY (with instances).
state() {
    curl -s -m 10 "http://127.0.0.1:$API_PORT/v1/studies/$1/commitment?instances=true"
}

# field STUDY REMOTE EXPRESSION: evaluates a Python expression on the remote's entry `r`.
field() {
    state "$1" | python3 -c '
import json, sys
reply = json.load(sys.stdin)
r = next((e for e in reply["remotes"] if e["remote"] == sys.argv[1]), None)
print(eval(sys.argv[2]) if r is not None else "none")' "$2" "$3" 2>/dev/null
}

# wait_for SECONDS STUDY REMOTE EXPRESSION: waits until the expression prints True.
wait_for() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt "$deadline" ]; do
        [ "$(field "$2" "$3" "$4")" = "True" ] && return 0
        sleep 0.2
    done
    echo "timed out after $1 s waiting for $4 on $3; state: $(state "$2")"
    return 1
}

# send REMOTE STUDY [CALLING_AE]: runs a send job and waits for it.
send() {
    timeout 60 "$CAIRN" --config "$TEST_TMP/cairn.conf" send "$1" --study "$2" --wait \
        ${3:+--calling-ae "$3"} > "$TEST_TMP/send.out" 2>&1
}

start_cairnd || { fail "archive cairnd starts"; finish; exit 1; }

python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/instances" --count 15 \
    --studies 5 --uid-root "$UID_ROOT" > /dev/null
check "storescu stores 15 instances of 5 studies" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP"/instances/inst-*.dcm
mapfile -t STUDIES < <(cut -f3 "$TEST_TMP/instances/manifest.tsv" | awk '!seen[$0]++')
study_instances() { awk -F'\t' -v s="$1" '$3 == s { print $2 }' "$TEST_TMP/instances/manifest.tsv"; }
S_FAIL=${STUDIES[0]} S_SAME=${STUDIES[1]} S_NEW=${STUDIES[2]} S_KILL=${STUDIES[3]} S_LOST=${STUDIES[4]}

# --- The backup rejects the context, is down, then up; two instances went missing.
start_backup '"verification", "storage"' "" || { fail "backup starts"; finish; exit 1; }
check "send job to the backup succeeds" send BACKUP "$S_FAIL"
check "first N-ACTION fails: Storage Commitment not accepted" \
    wait_for 20 "$S_FAIL" BACKUP 'r["pending"] == 3 and "did not accept" in r["instances"][0]["note"]'
stop_backup
mapfile -t FAIL_UIDS < <(study_instances "$S_FAIL")
gone_file=$(sqlite3 "$BACKUP_DIR/storage/index.sqlite" \
    "SELECT path FROM instance WHERE sop_uid = '${FAIL_UIDS[1]}'")
rm -f "$BACKUP_DIR/storage/$gone_file"
sqlite3 "$BACKUP_DIR/storage/index.sqlite" "DELETE FROM instance WHERE sop_uid = '${FAIL_UIDS[2]}'"
check "N-ACTIONs fail while the backup is down" \
    wait_for 20 "$S_FAIL" BACKUP 'r["instances"][0]["attempts"] >= 3 and "cannot open" in r["instances"][0]["note"]'
start_backup '"verification", "storage", "commitment"' 'report = "same-association";' || { fail "backup restarts"; finish; exit 1; }
check "commitment arrives once the backup is up: 1 committed, 2 failed" \
    wait_for 20 "$S_FAIL" BACKUP 'r["committed"] == 1 and r["failed"] == 2 and r["pending"] == 0'
check "the instance without its file failed with 0110" \
    test "$(field "$S_FAIL" BACKUP "[i['failure_reason'] for i in r['instances'] if i['sop_instance_uid'] == '${FAIL_UIDS[1]}']")" = "['0110']"
check "the instance missing from the backup's index failed with 0112" \
    test "$(field "$S_FAIL" BACKUP "[i['failure_reason'] for i in r['instances'] if i['sop_instance_uid'] == '${FAIL_UIDS[2]}']")" = "['0112']"
check "the committed instance is the one the backup holds" \
    test "$(field "$S_FAIL" BACKUP "[i['state'] for i in r['instances'] if i['sop_instance_uid'] == '${FAIL_UIDS[0]}']")" = "['committed']"

# --- The report on the N-ACTION association.
before=$(grep -c "on the N-ACTION association" "$TEST_TMP/cairnd.log")
check "send job of a second study succeeds" send BACKUP "$S_SAME"
check "all three committed" wait_for 20 "$S_SAME" BACKUP 'r["committed"] == 3 and r["total"] == 3'
after=$(grep -c "on the N-ACTION association" "$TEST_TMP/cairnd.log")
check "the report came on the N-ACTION association" test "$after" -gt "$before"
"$CAIRN" --config "$TEST_TMP/cairn.conf" commitment "$S_SAME" > "$TEST_TMP/cli.out" 2>&1
check "cairn commitment prints the counts of BACKUP" \
    grep -qE '^BACKUP +3 +0 +0 +3' "$TEST_TMP/cli.out"
"$CAIRN" --config "$TEST_TMP/cairn.conf" commitment "$S_FAIL" --instances > "$TEST_TMP/cli.out" 2>&1
check "cairn commitment --instances lists the failure reasons" \
    grep -qE "${FAIL_UIDS[2]} +failed +[0-9]+ +0112" "$TEST_TMP/cli.out"

check "?remote= keeps only that remote" \
    test "$(curl -s -m 10 "http://127.0.0.1:$API_PORT/v1/studies/$S_SAME/commitment?remote=BACKUP2" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)["remotes"]))')" = 0
check "an invalid Study Instance UID gets 400" \
    test "$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$API_PORT/v1/studies/1.2.x/commitment")" = 400
"$CAIRN" --config "$TEST_TMP/cairn.conf" commitment "$UID_ROOT.404" > "$TEST_TMP/cli.out" 2>&1
check "cairn commitment says when nothing was requested" \
    grep -q "No storage commitment was requested for study" "$TEST_TMP/cli.out"

# --- The report on a new association that the backup opens.
stop_backup
start_backup '"verification", "storage", "commitment"' \
    'remotes_new_association = [ "CAIRN", "CAIRN2" ];' || { fail "backup restarts"; finish; exit 1; }
before=$(grep -c "on the N-ACTION association" "$TEST_TMP/cairnd.log")
check "send job of a third study succeeds" send BACKUP "$S_NEW"
check "all three committed by a report on a new association" \
    wait_for 20 "$S_NEW" BACKUP 'r["committed"] == 3'
after=$(grep -c "on the N-ACTION association" "$TEST_TMP/cairnd.log")
check "no report came on the N-ACTION association" test "$after" -eq "$before"

# --- A report that never arrives: the backup cannot reach CAIRN2, so new requests, then failed.
check "send job to BACKUP2 succeeds" send BACKUP2 "$S_LOST"
check "unanswered requests end failed after 2 attempts" \
    wait_for 20 "$S_LOST" BACKUP2 'r["failed"] == 3 and r["instances"][0]["attempts"] == 2 and "no N-EVENT-REPORT" in r["instances"][0]["note"]'
check "each request had its own Transaction UID" \
    test "$(grep -c "requesting storage commitment of 3 instance(s) from BACKUP2" "$TEST_TMP/cairnd.log")" -eq 2

# --- Role negotiation: only a configured backup may take the SCP role.
# role_check CALLED CALLING: prints whether the Storage Commitment context with the SCP role is accepted.
role_check() {
    python3 -c '
import sys
sys.path.insert(0, sys.argv[4])
import qr_raw_client as q
a = q.Association(int(sys.argv[1]), [q.Context(1, "1.2.840.10008.1.20.1", role=(0, 1))],
                  called=sys.argv[2], calling=sys.argv[3], timeout=10)
a.connect()
print("accepted" if 1 in a.accepted else "rejected")
a.release()' "$PORT" "$1" "$2" "$(dirname "$0")"
}
check "BACKUP may report to CAIRN on a new association" \
    test "$(role_check CAIRN BACKUP)" = accepted
check "a remote without a commitment group may not take the SCP role" \
    test "$(role_check CAIRN PLAIN)" = rejected
check "an unknown calling AE may not take the SCP role" \
    test "$(role_check CAIRN STRANGER)" = rejected
check "BACKUP may not report to CAIRN2, which does not request commitment of it" \
    test "$(role_check CAIRN2 BACKUP)" = rejected

# --- A report pending when the archive is killed with SIGKILL.
"$CAIRN" --config "$TEST_TMP/cairn.conf" ae disable CAIRN > /dev/null 2>&1
check "send job with CAIRN disabled for inbound associations succeeds" \
    send BACKUP "$S_KILL" CAIRN
check "the request is acknowledged and its report is pending" \
    wait_for 20 "$S_KILL" BACKUP 'r["pending"] == 3 and "waiting" in r["instances"][0]["note"]'
kill -KILL "$CAIRND_PID"
wait "$CAIRND_PID" 2>/dev/null
CAIRND_PID=""
start_cairnd || { fail "archive cairnd restarts"; finish; exit 1; }
check "the report pending at the SIGKILL is applied after the restart" \
    wait_for 40 "$S_KILL" BACKUP 'r["committed"] == 3 and r["instances"][0]["attempts"] == 1'
check "the state of an earlier study survived the restart" \
    test "$(field "$S_SAME" BACKUP 'r["committed"]')" = 3
check "the backup never saw a Transaction UID twice" \
    test "$(grep -c "duplicate Transaction UID" "$BACKUP_DIR/cairnd.log")" -eq 0

stop_backup
stop_cairnd
check_no_sanitizer_report
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BACKUP_DIR/cairnd.log"; then
    fail "backup cairnd log has a sanitizer report"
else
    pass "backup cairnd log has no sanitizer report"
fi
finish
