#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Query, Load and Save Managers, driven through the control API of a
# running cairnd against real peers: DCMTK's dcmqrscp holding pydicom's
# CT_small and MR_small plus synthetic instances, DCMTK's storescp, and a
# second cairnd. Query matches must equal what dcmqrscp holds, a retrieve
# must land instances in Cairn's archive and index, a send must arrive with
# its data set byte-equal, and a retrieve interrupted by SIGKILL of cairnd
# must resume after the restart and leave the archive consistent.

. "$(dirname "$0")/lib.sh"

SLOW_COUNT=300
for tool in dcmqrscp storescp storescu curl; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done

PORT=$(free_port)
PORT2=$(free_port)
QR_PORT=$(free_port)
SCP_PORT=$(free_port)
API_PORT=$(free_port)
TEST_DATA="$PYDICOM_DATA/test_files"
QR_DIR="$TEST_TMP/qr"
SCP_DIR="$TEST_TMP/scp"
CAIRN2_DIR="$TEST_TMP/cairn2"
PEER_PIDS=()
mkdir -p "$QR_DIR/db" "$SCP_DIR" "$CAIRN2_DIR"

stop_peers() {
    for pid in "${PEER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PEER_PIDS=()
}
trap 'stop_peers; cleanup' EXIT

# wait_echo TITLE PORT: waits at most 10 s for a C-ECHO to succeed.
wait_echo() {
    for _ in $(seq 1 100); do
        echoscu -aec "$1" 127.0.0.1 "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# dicom_value FILE KEYWORD: prints one value of a file, as dcmdump shows it.
dicom_value() {
    dcmdump +P "$2" "$1" | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -n 1
}

# The remote peers -----------------------------------------------------

cat > "$QR_DIR/dcmqrscp.cfg" <<CONF
NetworkTCPPort  = $QR_PORT
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
cairn = (CAIRN, 127.0.0.1, $PORT)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP   $QR_DIR/db   RW   (2000, 1024mb)   ANY
AETable END
CONF
dcmqrscp -c "$QR_DIR/dcmqrscp.cfg" > "$QR_DIR/log" 2>&1 &
PEER_PIDS+=($!)
storescp -od "$SCP_DIR" "$SCP_PORT" > "$TEST_TMP/storescp.log" 2>&1 &
PEER_PIDS+=($!)
check "dcmqrscp starts" wait_echo QRSCP "$QR_PORT"
check "storescp starts" wait_echo STORESCP "$SCP_PORT"

python3 "$(dirname "$0")/make_instances.py" series "$QR_DIR/slow" --count "$SLOW_COUNT" \
    --uid-root 1.2.826.0.1.3680043.9.7433.99.7 --studies 1 > /dev/null
check "dcmqrscp takes CT_small and MR_small" \
    storescu -aec QRSCP 127.0.0.1 "$QR_PORT" "$TEST_DATA/CT_small.dcm" "$TEST_DATA/MR_small.dcm"
check "dcmqrscp takes $SLOW_COUNT synthetic instances" \
    storescu -aec QRSCP 127.0.0.1 "$QR_PORT" "$QR_DIR"/slow/inst-*.dcm
CT_STUDY=$(dicom_value "$TEST_DATA/CT_small.dcm" StudyInstanceUID)
CT_SOP=$(dicom_value "$TEST_DATA/CT_small.dcm" SOPInstanceUID)
MR_STUDY=$(dicom_value "$TEST_DATA/MR_small.dcm" StudyInstanceUID)
SLOW_STUDY=$(awk -F'\t' 'NR == 1 { print $3 }' "$QR_DIR/slow/manifest.tsv")

# The second cairnd, a plain archive with Query/Retrieve.
cat > "$CAIRN2_DIR/cairn.conf" <<CONF
log = { level = "info"; };
storage = { path = "$CAIRN2_DIR/storage"; };
plugin_directory = "$PLUGIN_DIR";
plugins = { verification = { }; storage = { }; index-sqlite = { }; qr = { }; };
aes = ( { title = "CAIRN2"; port = $PORT2; bind = "127.0.0.1";
          plugins = [ "verification", "storage", "qr" ]; } );
api = { enabled = false; };
CONF
"$CAIRND" --config "$CAIRN2_DIR/cairn.conf" > "$CAIRN2_DIR/log" 2>&1 &
PEER_PIDS+=($!)
check "second cairnd starts" wait_echo CAIRN2 "$PORT2"

# The cairnd under test ------------------------------------------------

cat > "$TEST_TMP/cairn.conf" <<CONF
log = { level = "info"; };
storage = { path = "$TEST_TMP/storage"; };
plugin_directory = "$PLUGIN_DIR";
plugins = { verification = { }; storage = { }; index-sqlite = { }; qr = { }; };
aes = ( { title = "CAIRN"; port = $PORT; bind = "127.0.0.1";
          plugins = [ "verification", "storage", "qr" ]; } );
remotes = (
  { title = "QRSCP"; host = "127.0.0.1"; port = $QR_PORT; limits = { loads = 1; }; },
  { title = "STORESCP"; host = "127.0.0.1"; port = $SCP_PORT; },
  { title = "CAIRN2"; host = "127.0.0.1"; port = $PORT2; }
);
api = { bind = "127.0.0.1"; port = $API_PORT; };
CONF
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# api METHOD PATH [BODY]: stores the HTTP status in STATUS and the body in $TEST_TMP/body.
api() {
    local data=()
    [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
    STATUS=$(curl -s -m 10 -X "$1" -o "$TEST_TMP/body" -w '%{http_code}' "${data[@]}" \
                  "http://127.0.0.1:$API_PORT$2")
}

# field EXPR: evaluates a Python expression on the last body, parsed as `j`.
field() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$TEST_TMP/body"
}

# submit BODY: submits a job and sets JOB to its ID.
submit() {
    JOB=""
    api POST /v1/jobs "$1"
    [ "$STATUS" = 201 ] || { echo "submit returned $STATUS: $(cat "$TEST_TMP/body")"; return 1; }
    JOB=$(field "j['id']")
}

# wait_state ID STATE [SECONDS]: waits for the job to reach STATE (default 60 s).
wait_state() {
    local limit=$(( ${3:-60} * 10 ))
    for _ in $(seq 1 "$limit"); do
        api GET "/v1/jobs/$1"
        [ "$(field "j['state']" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    echo "job $1 is not $2: $(cat "$TEST_TMP/body")"
    return 1
}

# --- validation ---
api POST /v1/jobs '{"kind":"query","remote":"QRSCP","keys":{"PatientNam":"X"}}'
check "unknown keyword rejected with 400" test "$STATUS" = 400
check "error names the keyword" grep -q 'PatientNam' "$TEST_TMP/body"
api POST /v1/jobs '{"kind":"query","remote":"NOWHERE"}'
check "unknown remote rejected with 400" test "$STATUS" = 400
check "error names the remote" grep -q 'NOWHERE' "$TEST_TMP/body"

# --- query ---
submit '{"kind":"query","remote":"QRSCP","level":"STUDY","keys":{"PatientName":"","StudyInstanceUID":""}}'
check "query job succeeds" wait_state "$JOB" succeeded
EXPECTED=$(printf '%s\n' "$CT_STUDY" "$MR_STUDY" "$SLOW_STUDY" | sort | tr '\n' ' ')
GOT=$(field "' '.join(sorted(m['StudyInstanceUID'] for m in j['result'])) + ' '")
check "query matches equal the studies of dcmqrscp" test "$GOT" = "$EXPECTED"
submit "{\"kind\":\"query\",\"remote\":\"QRSCP\",\"level\":\"IMAGE\",\"keys\":{\"StudyInstanceUID\":\"$CT_STUDY\",\"SeriesInstanceUID\":\"\",\"SOPInstanceUID\":\"\"}}"
wait_state "$JOB" succeeded >/dev/null
check "image query returns the CT instance" test "$(field "j['result'][0]['SOPInstanceUID']")" = "$CT_SOP"

# --- retrieve ---
submit "{\"kind\":\"retrieve\",\"remote\":\"QRSCP\",\"destination\":\"CAIRN\",\"study_uid\":\"$CT_STUDY\"}"
check "retrieve job succeeds" wait_state "$JOB" succeeded
check "retrieve counts one instance" test "$(field "j['progress']['instances_done']")" = 1
check "retrieved instance is in the index" \
    sh -c "'$CAIRN' --config '$TEST_TMP/cairn.conf' instances --json | grep -q '$CT_SOP'"

# --- send to storescp ---
submit "{\"kind\":\"send\",\"remote\":\"STORESCP\",\"study_uid\":\"$CT_STUDY\"}"
check "send job succeeds" wait_state "$JOB" succeeded
check "send counts the bytes" test "$(field "j['progress']['bytes_remaining']")" = 0
ARCHIVED=$("$CAIRN" --config "$TEST_TMP/cairn.conf" instances --json |
           python3 -c "import json,sys; print([r['path'] for r in json.load(sys.stdin) if r['sop_instance_uid']=='$CT_SOP'][0])")
cat > "$TEST_TMP/dataset_equal.py" <<'PY'
import struct, sys

def dataset(path):
    data = open(path, 'rb').read()
    # The File Meta Information ends after (0002,0000)'s group length.
    length = struct.unpack('<I', data[140:144])[0]
    return data[144 + length:]

sys.exit(0 if dataset(sys.argv[1]) == dataset(sys.argv[2]) else 1)
PY
check "storescp received the data set byte-equal" \
    python3 "$TEST_TMP/dataset_equal.py" "$TEST_TMP/storage/$ARCHIVED" "$SCP_DIR/CT.$CT_SOP"

# --- the second cairnd ---
submit "{\"kind\":\"send\",\"remote\":\"CAIRN2\",\"study_uid\":\"$CT_STUDY\"}"
check "send to the second cairnd succeeds" wait_state "$JOB" succeeded
check "second cairnd indexed the instance" \
    sh -c "'$CAIRN' --config '$CAIRN2_DIR/cairn.conf' instances --json | grep -q '$CT_SOP'"
submit '{"kind":"query","remote":"CAIRN2","model":"patient","level":"PATIENT","keys":{"PatientName":"Compressed*","PatientID":""}}'
check "query of the second cairnd succeeds" wait_state "$JOB" succeeded
check "second cairnd returns the CT patient" \
    test "$(field "j['result'][0]['PatientName']")" = "CompressedSamples^CT1"

# --- cancel a running retrieve ---
SLOW_REQUEST="{\"kind\":\"retrieve\",\"remote\":\"QRSCP\",\"destination\":\"CAIRN\",\"study_uid\":\"$SLOW_STUDY\"}"
submit "$SLOW_REQUEST"
SLOW_JOB=$JOB
check "slow retrieve starts" wait_state "$SLOW_JOB" running
api POST "/v1/jobs/$SLOW_JOB/cancel"
check "cancel of a running job accepted" test "$STATUS" = 200 -o "$STATUS" = 202
check "cancelled retrieve ends as cancelled" wait_state "$SLOW_JOB" cancelled 30

# --- SIGKILL during a retrieve ---
api POST "/v1/jobs/$SLOW_JOB/retry"
check "retry of a cancelled job accepted" test "$STATUS" = 200 -o "$STATUS" = 202
progress_started() {
    for _ in $(seq 1 300); do
        api GET "/v1/jobs/$SLOW_JOB"
        [ "$(field "j['progress']['instances_done']")" -gt 0 ] 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
check "retried retrieve makes progress" progress_started
kill -KILL "$CAIRND_PID"
wait "$CAIRND_PID" 2>/dev/null
CAIRND_PID=""
start_cairnd || { fail "cairnd restarts after SIGKILL"; finish; exit 1; }
check "interrupted retrieve resumes and succeeds" wait_state "$SLOW_JOB" succeeded 120
check "resumed job counts three attempts" test "$(field "j['attempts']")" = 3
COUNT=$("$CAIRN" --config "$TEST_TMP/cairn.conf" instances --json |
        python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
check "archive holds every retrieved instance" test "$COUNT" = $((SLOW_COUNT + 1))
check "cairn check finds the archive consistent" \
    "$CAIRN" --config "$TEST_TMP/cairn.conf" check

# --- persistence ---
stop_cairnd
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
api GET /v1/jobs
check "jobs are listed after a restart" \
    test "$(field "sum(1 for r in j['jobs'] if r['id'] == '$SLOW_JOB')")" = 1

stop_cairnd
check_no_sanitizer_report
finish
