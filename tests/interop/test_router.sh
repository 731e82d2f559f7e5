#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The data router (plugins/router) against dcmjs-dimse (tests/interop/node/
# mpps.js). A modality's MPPS SCU runs a full IN PROGRESS then COMPLETED
# cycle, a DISCONTINUED one and every failure status of the MPPS SCP. An
# order filler is down at first; after cairnd is killed and restarted, it
# receives every N-CREATE and N-SET in order with the SOP Instance UID
# kept. A RIS that accepts both notification classes gets an IAN once the
# completed MPPS's instances are archived, then an updated one after a
# later instance. One RIS accepts only IAN, another only Basic Study
# Content Notification.

. "$(dirname "$0")/lib.sh"

NODE_DIR="$(dirname "$0")/node"
MPPS_JS="$NODE_DIR/mpps.js"
if ! command -v node >/dev/null || [ ! -d "$NODE_DIR/node_modules/dcmjs-dimse" ]; then
    echo "SKIP: node or dcmjs-dimse is missing (npm ci in tests/interop/node)"
    exit 0
fi

SC_CLASS="1.2.840.10008.5.1.4.1.1.7"
UID_ROOT="1.2.826.0.1.3680043.9.7433.99.30"
STEP_A="$UID_ROOT.100.1"
STEP_B="$UID_ROOT.100.2"

PORT=$(free_port)
ROUTER_PORT=$(free_port)
FILLER_PORT=$(free_port)
RIS_PORT=$(free_port)
API_PORT=$(free_port)

# The router AE is a second AE after CAIRN; AE_EXTRA closes CAIRN's group and opens it.
write_config "" "}, { title = \"ROUTER\"; port = $ROUTER_PORT; bind = \"127.0.0.1\";
    plugins = [ \"verification\", \"router\" ];"
sed -i "s|^  commitment = { };|&\n  router = { order_fillers = [ \"FILLER\" ]; notify = [ \"RIS\" ]; \
notify_calling_ae = \"ROUTER\"; retrieve_ae_title = \"CAIRN\"; study_idle_seconds = 3; \
retry_initial_seconds = 1; retry_max_seconds = 2; };|" "$TEST_TMP/cairn.conf"
cat >> "$TEST_TMP/cairn.conf" <<CONF
remotes = (
  { title = "FILLER"; host = "127.0.0.1"; port = $FILLER_PORT; },
  { title = "RIS"; host = "127.0.0.1"; port = $RIS_PORT; }
);
CONF
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# modality MODE ARGS...: runs mpps.js against the router AE; output in $TEST_TMP/out.
modality() {
    local mode=$1
    shift
    timeout 30 node "$MPPS_JS" "$mode" "$ROUTER_PORT" ROUTER MODALITY "$@" > "$TEST_TMP/out" 2>&1
}

# expect_line PATTERN DESCRIPTION [FILE]: passes when FILE has a line matching PATTERN.
expect_line() {
    local file=${3:-$TEST_TMP/out}
    if grep -qE -- "$1" "$file"; then
        pass "$2"
    else
        fail "$2 (output: $(tr '\n' ' ' < "$file" | cut -c1-600))"
    fi
}

# wait_for PATTERN FILE SECONDS: polls FILE until a line matches PATTERN.
wait_for() {
    for _ in $(seq 1 $(($3 * 10))); do
        grep -qE -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# listen PORT SECONDS ACCEPT OUTFILE: starts a peer SCP in the background; PID in $LISTEN_PID.
listen() {
    timeout $(($2 + 5)) node "$MPPS_JS" listen "$1" $(($2 * 1000)) "$3" > "$4" 2>&1 &
    LISTEN_PID=$!
    wait_for '"listening"' "$4" 10
}

stop_listener() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# The RIS that accepts both classes listens from the start; the order filler is down.
listen "$RIS_PORT" 40 ian,bscn "$TEST_TMP/ris.out"
RIS_PID=$LISTEN_PID

python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/s1" --count 4 \
    --uid-root "$UID_ROOT.1" > /dev/null
STUDY_1=$(cut -f3 "$TEST_TMP/s1/manifest.tsv" | head -1)
SERIES_1=$(cut -f4 "$TEST_TMP/s1/manifest.tsv" | head -1)
mapfile -t UIDS_1 < <(cut -f2 "$TEST_TMP/s1/manifest.tsv")
REFS_1="[[\"$SC_CLASS\",\"${UIDS_1[0]}\"],[\"$SC_CLASS\",\"${UIDS_1[1]}\"],[\"$SC_CLASS\",\"${UIDS_1[2]}\"]]"

# --- IN PROGRESS, then COMPLETED ---
modality create "$STEP_A" "$STUDY_1"
expect_line '^\{"status":"0x0000"\}$' "N-CREATE of a complete step is answered 0000"
modality create "$STEP_A" "$STUDY_1"
expect_line '"status":"0x0111"' "N-CREATE of an existing step is answered 0111"

# --- failure statuses of N-CREATE ---
modality create "$UID_ROOT.101" "$STUDY_1" '{"Modality":null}'
expect_line '"status":"0x0120","comment":"Modality \(0008,0060\) missing","attributes":\["00080060"\]' \
    "missing Modality: 0120 naming it in the Attribute Identifier List"
modality create "$UID_ROOT.102" "$STUDY_1" \
    '{"ScheduledStepAttributesSequence":[{"AccessionNumber":"","ReferencedStudySequence":[],"RequestedProcedureID":"","RequestedProcedureDescription":"","ScheduledProcedureStepID":"","ScheduledProcedureStepDescription":"","ScheduledProtocolCodeSequence":[]}]}'
expect_line '"status":"0x0120","comment":"Study Instance UID \(0020,000D\) missing","attributes":\["0020000D"\]' \
    "missing Study Instance UID in the Scheduled Step Attributes: 0120"
modality create "$UID_ROOT.103" "$STUDY_1" '{"PerformedStationAETitle":""}'
expect_line '"status":"0x0121","comment":"Performed Station AE Title \(0040,0241\) has no value","attributes":\["00400241"\]' \
    "empty type 1 Performed Station AE Title: 0121"
modality create "$UID_ROOT.104" "$STUDY_1" '{"PerformedProcedureStepStatus":"COMPLETED"}'
expect_line '"status":"0x0106","comment":"Performed Procedure Step Status \(0040,0252\) is not IN PROGRESS".*"invalid":\{.*"PerformedProcedureStepStatus":"COMPLETED"' \
    "N-CREATE with status COMPLETED: 0106 with the invalid attribute"
modality create "$UID_ROOT.105" "$STUDY_1" '{"PerformedProcedureStepStartDate":"20261345"}'
expect_line '"status":"0x0106","comment":"Performed Procedure Step Start Date \(0040,0244\) is invalid"' \
    "invalid start date: 0106"
modality create "$UID_ROOT.106" "$STUDY_1" '{"PerformedSeriesSequence":[{"SeriesInstanceUID":"1.2.03","ProtocolName":"x","PerformingPhysicianName":"","OperatorsName":"","SeriesDescription":"","RetrieveAETitle":"","ReferencedImageSequence":[],"ReferencedNonImageCompositeSOPInstanceSequence":[]}]}'
expect_line '"status":"0x0106","comment":"Series Instance UID \(0020,000E\) is invalid"' \
    "invalid Series Instance UID in the Performed Series Sequence: 0106"

# --- failure statuses of N-SET ---
modality set "$UID_ROOT.999" COMPLETED "$SERIES_1" "$REFS_1"
expect_line '"status":"0x0112"' "N-SET of an unknown step: 0112"
modality rawset "$STEP_A" '{"Modality":"MR"}'
expect_line '"status":"0x0106","comment":"Modality \(0008,0060\) may not be changed by N-SET"' \
    "N-SET changing Modality: 0106"
modality rawset "$STEP_A" '{"PerformedProcedureStepStatus":"FINISHED"}'
expect_line '"status":"0x0106","comment":"Performed Procedure Step Status \(0040,0252\) is invalid"' \
    "N-SET with an unknown status: 0106"
modality rawset "$STEP_A" '{"PerformedProcedureStepStatus":"COMPLETED","PerformedProcedureStepEndDate":"20261205","PerformedProcedureStepEndTime":"1030"}'
expect_line '"status":"0x0121","comment":"Performed Series Sequence \(0040,0340\) has no value","attributes":\["00400340"\]' \
    "COMPLETED without a performed series: 0121"
modality rawset "$STEP_A" '{"PerformedProcedureStepDescription":"CT chest, contrast"}'
expect_line '^\{"status":"0x0000"\}$' "N-SET of a settable attribute while IN PROGRESS: 0000"

# Three of the four instances, then COMPLETED listing those three: the IAN follows at once.
check "storescu stores 3 instances of study 1" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP"/s1/inst-0000[012].dcm
modality set "$STEP_A" COMPLETED "$SERIES_1" "$REFS_1"
expect_line '^\{"status":"0x0000"\}$' "N-SET to COMPLETED: 0000"
modality set "$STEP_A" DISCONTINUED "$SERIES_1" "$REFS_1"
expect_line '"status":"0x0110","comment":"Performed Procedure Step Object may no longer be updated","error_id":"0xA710"' \
    "N-SET of a COMPLETED step: 0110 with Error ID A710"

if wait_for "\"op\":\"n-create\",\"class\":\"1.2.840.10008.5.1.4.33\".*$STUDY_1" "$TEST_TMP/ris.out" 10; then
    pass "RIS accepting both classes gets an IAN once the MPPS instances are stored"
else
    fail "RIS accepting both classes gets an IAN (output: $(cut -c1-300 "$TEST_TMP/ris.out"))"
fi
grep "$STUDY_1" "$TEST_TMP/ris.out" | head -1 > "$TEST_TMP/ian1.json"
check "IAN names study 1, the 3 instances ONLINE at CAIRN and step A" python3 - "$TEST_TMP/ian1.json" \
    "$STUDY_1" "$STEP_A" "${UIDS_1[0]}" "${UIDS_1[1]}" "${UIDS_1[2]}" <<'PY'
import json, sys
msg = json.loads(open(sys.argv[1]).read())
ds = msg["dataset"]
refs = [r for s in ds["ReferencedSeriesSequence"] for r in s["ReferencedSOPSequence"]]
ok = (msg["calling_ae"] == "ROUTER" and ds["StudyInstanceUID"] == sys.argv[2]
      and ds["ReferencedPerformedProcedureStepSequence"][0]["ReferencedSOPInstanceUID"] == sys.argv[3]
      and sorted(r["ReferencedSOPInstanceUID"] for r in refs) == sorted(sys.argv[4:7])
      and all(r["InstanceAvailability"] == "ONLINE" and r["RetrieveAETitle"] == "CAIRN" for r in refs))
sys.exit(0 if ok else 1)
PY

# A later instance of the same study: an updated notification after study_idle_seconds.
check "storescu stores the fourth instance of study 1" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP/s1/inst-00003.dcm"
if wait_for "${UIDS_1[3]}" "$TEST_TMP/ris.out" 10; then
    pass "a later instance brings an updated IAN"
else
    fail "a later instance brings an updated IAN"
fi
check "the updated IAN names all 4 instances" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if sys.argv[2] in l and l.startswith("{\"op\"")]
ds = lines[-1]["dataset"]
n = sum(len(s["ReferencedSOPSequence"]) for s in ds["ReferencedSeriesSequence"])
sys.exit(0 if len(lines) == 2 and n == 4 else 1)' "$TEST_TMP/ris.out" "$STUDY_1"
stop_listener "$RIS_PID"

# --- a DISCONTINUED step ---
modality create "$STEP_B" "$UID_ROOT.2.1"
expect_line '^\{"status":"0x0000"\}$' "N-CREATE of step B: 0000"
modality set "$STEP_B" DISCONTINUED "$UID_ROOT.2.2" '[]' \
    '{"PerformedProcedureStepDiscontinuationReasonCodeSequence":null}'
expect_line '^\{"status":"0x0000"\}$' "N-SET to DISCONTINUED: 0000"
modality rawset "$STEP_B" '{"PerformedProcedureStepStatus":"COMPLETED"}'
expect_line '"status":"0x0110".*"error_id":"0xA710"' "N-SET of a DISCONTINUED step: 0110 A710"

# --- the control API and cairn ---
curl -s "http://127.0.0.1:$API_PORT/v1/mpps" > "$TEST_TMP/out"
expect_line "\"sop_instance_uid\":\"$STEP_A\",\"status\":\"COMPLETED\",\"study_instance_uid\":\"$STUDY_1\",\"modality\":\"CT\"" \
    "GET /v1/mpps lists step A COMPLETED"
expect_line "\"sop_instance_uid\":\"$STEP_B\",\"status\":\"DISCONTINUED\"" "GET /v1/mpps lists step B DISCONTINUED"
curl -s "http://127.0.0.1:$API_PORT/v1/mpps?status=DISCONTINUED" > "$TEST_TMP/out"
check "GET /v1/mpps?status=DISCONTINUED lists only step B" \
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["mpps"]; sys.exit(0 if [s["sop_instance_uid"] for s in m]==[sys.argv[2]] else 1)' \
    "$TEST_TMP/out" "$STEP_B"
curl -s "http://127.0.0.1:$API_PORT/v1/mpps/$STEP_A" > "$TEST_TMP/out"
expect_line '"description":"CT chest, contrast"' "GET /v1/mpps/{uid} shows the N-SET description"
expect_line "\"series\":\\[\\{\"uid\":\"$SERIES_1\",\"description\":\"Axial\",\"instances\":3\\}\\]" \
    "GET /v1/mpps/{uid} shows the performed series"
"$CAIRN" --config "$TEST_TMP/cairn.conf" mpps > "$TEST_TMP/out" 2>&1
expect_line "$STEP_A +COMPLETED +CT" "cairn mpps lists step A"
"$CAIRN" --config "$TEST_TMP/cairn.conf" outbox --json > "$TEST_TMP/out" 2>&1
check "cairn outbox shows the 5 MPPS messages for the order filler that is down" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["messages"]
ok = (len(m) == 5 and all(x["destination"] == "FILLER" for x in m)
      and all(x["last_error"].startswith("cannot open an association") for x in m if x["attempts"]))
sys.exit(0 if ok else 1)' "$TEST_TMP/out"

# --- the order filler comes up after a crash and restart of cairnd ---
# Study 5 is stored just before the crash, so its notification is still due after it.
python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/s5" --count 2 \
    --uid-root "$UID_ROOT.5" > /dev/null
STUDY_5=$(cut -f3 "$TEST_TMP/s5/manifest.tsv" | head -1)
check "storescu stores study 5 before the crash" \
    timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP"/s5/inst-*.dcm
kill -KILL "$CAIRND_PID"
wait "$CAIRND_PID" 2>/dev/null
CAIRND_PID=""
listen "$FILLER_PORT" 30 mpps "$TEST_TMP/filler.out"
FILLER_PID=$LISTEN_PID
listen "$RIS_PORT" 20 ian,bscn "$TEST_TMP/ris-restart.out"
RIS_PID=$LISTEN_PID
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
if wait_for "\"op\":\"n-set\".*\"uid\":\"$STEP_B\"" "$TEST_TMP/filler.out" 15 &&
    wait_for "\"op\":\"n-set\".*\"uid\":\"$STEP_A\"" "$TEST_TMP/filler.out" 5; then
    pass "the order filler receives the queued messages after the restart"
else
    fail "the order filler receives the queued messages (output: $(cut -c1-200 "$TEST_TMP/filler.out"))"
fi
check "each step's N-CREATE comes before its N-SETs, SOP Instance UIDs kept" python3 -c '
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"op\"")]
seq = {u: [o["op"] for o in ops if o["uid"] == u] for u in sys.argv[2:4]}
a = seq[sys.argv[2]]
ok = (seq[sys.argv[2]] == ["n-create", "n-set", "n-set"] and seq[sys.argv[3]] == ["n-create", "n-set"]
      and all(o["class"] == "1.2.840.10008.3.1.2.3.3" and o["calling_ae"] == "ROUTER" for o in ops))
sys.exit(0 if ok else 1)' "$TEST_TMP/filler.out" "$STEP_A" "$STEP_B"
check "the forwarded N-SET carries COMPLETED and the performed series" python3 -c '
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"op\":\"n-set\"")]
last = [o for o in ops if o["uid"] == sys.argv[2]][-1]["dataset"]
ok = (last["PerformedProcedureStepStatus"] == "COMPLETED"
      and last["PerformedSeriesSequence"][0]["SeriesInstanceUID"] == sys.argv[3])
sys.exit(0 if ok else 1)' "$TEST_TMP/filler.out" "$STEP_A" "$SERIES_1"
for _ in $(seq 1 50); do
    curl -s "http://127.0.0.1:$API_PORT/v1/outbox" | grep -q '"total":0' && break
    sleep 0.1
done
curl -s "http://127.0.0.1:$API_PORT/v1/outbox" > "$TEST_TMP/out"
expect_line '"total":0' "the outbox is empty once everything is delivered"
stop_listener "$FILLER_PID"
if wait_for "\"op\":\"n-create\",\"class\":\"1.2.840.10008.5.1.4.33\".*$STUDY_5" \
    "$TEST_TMP/ris-restart.out" 10; then
    pass "a study stored before the crash is notified after the restart"
else
    fail "a study stored before the crash is notified (output: $(cut -c1-300 "$TEST_TMP/ris-restart.out"))"
fi
stop_listener "$RIS_PID"

# --- a RIS that accepts only IAN, then one that accepts only BSCN ---
for only in ian bscn; do
    python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/$only" --count 2 \
        --uid-root "$UID_ROOT.$([ "$only" = ian ] && echo 3 || echo 4)" > /dev/null
    study=$(cut -f3 "$TEST_TMP/$only/manifest.tsv" | head -1)
    listen "$RIS_PORT" 15 "$only" "$TEST_TMP/ris-$only.out"
    storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP"/$only/inst-*.dcm
    if wait_for "$study" "$TEST_TMP/ris-$only.out" 12; then
        pass "RIS accepting only $only gets a notification of the idle study"
    else
        fail "RIS accepting only $only gets a notification (output: $(cut -c1-300 "$TEST_TMP/ris-$only.out"))"
    fi
    stop_listener "$LISTEN_PID"
    cp "$TEST_TMP/ris-$only.out" "$TEST_TMP/out"
done
check "the BSCN is a C-STORE of a Basic Study Descriptor with both instances" python3 -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"op\"")][0]
ds = m["dataset"]
refs = [r for s in ds["ReferencedSeriesSequence"] for r in s["ReferencedImageSequence"]]
ok = (m["op"] == "c-store" and m["class"] == "1.2.840.10008.1.9" and ds["SOPClassUID"] == m["class"]
      and ds["SOPInstanceUID"] == m["uid"] and ds["StudyInstanceUID"] == sys.argv[2]
      and ds["ReferencedSeriesSequence"][0]["RetrieveAETitle"] == "CAIRN" and len(refs) == 2)
sys.exit(0 if ok else 1)' "$TEST_TMP/ris-bscn.out" "$(cut -f3 "$TEST_TMP/bscn/manifest.tsv" | head -1)"
expect_line '"op":"n-create","class":"1.2.840.10008.5.1.4.33"' "the IAN-only RIS gets an N-CREATE" \
    "$TEST_TMP/ris-ian.out"

stop_cairnd
check_no_sanitizer_report
finish
