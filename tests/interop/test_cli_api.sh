#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The control commands of the cairn tool (ae, echo, query, retrieve, send,
# jobs) against a running cairnd whose remotes are DCMTK's dcmqrscp and
# storescp. Checks their text and --json output, and the progress shown by
# --wait on a terminal and in a pipe. Also checks the API's errors passed
# on with their HTTP status, usage errors, the bearer token and TLS read
# from the configuration, and the message when the API is down.
#
# Usage: tests/interop/test_cli_api.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"

SERIES_COUNT=60
for tool in dcmqrscp storescp storescu echoscu script openssl; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done

PORT=$(free_port)
QR_PORT=$(free_port)
SCP_PORT=$(free_port)
API_PORT=$(free_port)
SILENT_PORT=$(free_port)
DOWN_PORT=$(free_port)
TEST_DATA="$PYDICOM_DATA/test_files"
QR_DIR="$TEST_TMP/qr"
SCP_DIR="$TEST_TMP/scp"
CONF="$TEST_TMP/cairn.conf"
PEER_PIDS=()
mkdir -p "$QR_DIR/db" "$SCP_DIR"

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

# run NAME ARGS...: runs cairn with a 120 s bound; output to $TEST_TMP/NAME.out and
# $TEST_TMP/NAME.err, status to RC.
run() {
    local name=$1
    shift
    timeout 120 "$CAIRN" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
    RC=$?
}

# expect_rc NAME CODE DESCRIPTION: checks the status of the last run.
expect_rc() {
    if [ "$RC" = "$2" ]; then
        pass "$3: exit $2"
    else
        fail "$3: expected exit $2, got $RC"
        sed 's/^/    out: /' "$TEST_TMP/$1.out" | head -n 20
        sed 's/^/    err: /' "$TEST_TMP/$1.err" | head -n 20
    fi
}

# expect_text NAME out|err TEXT DESCRIPTION: passes when that stream of NAME contains TEXT.
expect_text() {
    if grep -qF -- "$3" "$TEST_TMP/$1.$2"; then
        pass "$4"
    else
        fail "$4 (no \"$3\" in the std$2 of $1:)"
        sed 's/^/    /' "$TEST_TMP/$1.$2" | head -n 20
    fi
}

# expect_json NAME DESCRIPTION: passes when the stdout of NAME is valid JSON.
expect_json() {
    if python3 -m json.tool "$TEST_TMP/$1.out" > /dev/null 2>&1; then
        pass "$2"
    else
        fail "$2 (not valid JSON:)"
        head -c 500 "$TEST_TMP/$1.out"
    fi
}

# json_of NAME EXPR: evaluates a Python expression on the stdout of NAME, parsed as `j`.
json_of() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" \
        "$TEST_TMP/$1.out" 2>/dev/null
}

# write_test_config [API_EXTRA]: cairnd with AE CAIRN, the API and the remotes: the two
# DCMTK peers, SILENT (accepts connections, never sends a byte) and DOWN (nothing
# listens on its port).
write_test_config() {
    cat > "$CONF" <<CONF
log = { level = "info"; };
storage = { path = "$TEST_TMP/storage"; };
plugin_directory = "$PLUGIN_DIR";
plugins = { verification = { }; storage = { }; index-sqlite = { }; qr = { }; };
aes = ( { title = "CAIRN"; port = $PORT; bind = "127.0.0.1";
          plugins = [ "verification", "storage", "qr" ]; } );
remotes = (
  { title = "QRSCP"; host = "127.0.0.1"; port = $QR_PORT; },
  { title = "STORESCP"; host = "127.0.0.1"; port = $SCP_PORT; },
  { title = "SILENT"; host = "127.0.0.1"; port = $SILENT_PORT; },
  { title = "DOWN"; host = "127.0.0.1"; port = $DOWN_PORT; }
);
api = { bind = "127.0.0.1"; port = $API_PORT; ${1:-} };
CONF
}

if [ ! -x "$CAIRN" ]; then
    fail "cairn is built at $CAIRN"
    finish
    exit 1
fi

# --- help and usage errors, which need no daemon ---
run help --help
expect_rc help 0 "cairn --help"
for text in "query REMOTE" "retrieve REMOTE" "--instance UID" "--destination AE" "--api URL" \
    "--token TOKEN" "--insecure" "--wait" "--timeout SECONDS" "--min-age SECONDS"; do
    expect_text help out "$text" "help describes $text"
done
for command in ae echo query retrieve send jobs; do
    run "help-$command" "$command" --help
    expect_rc "help-$command" 0 "cairn $command --help"
    expect_text "help-$command" out "Usage: cairn $command" "$command help has its usage line"
    expect_text "help-$command" out "--api URL" "$command help describes the API options"
done
expect_text help-query out "--model MODEL" "query help describes --model"
expect_text help-retrieve out "--destination AE" "retrieve help describes --destination"

run usage-study retrieve QRSCP
expect_rc usage-study 2 "retrieve without --study"
expect_text usage-study err "retrieve needs --study UID" "the error names --study"
run usage-remote query
expect_rc usage-remote 2 "query without a remote"
run usage-model query QRSCP --model flat
expect_rc usage-model 2 "query with an unknown model"
expect_text usage-model err "invalid --model 'flat'" "the error names the model"
run usage-action jobs frob
expect_rc usage-action 2 "an unknown jobs action"
run usage-id jobs show
expect_rc usage-id 2 "jobs show without an id"
run usage-api-option --api http://127.0.0.1:1 patients
expect_rc usage-api-option 2 "--api on an archive command"
run usage-bad-url --api ftp://127.0.0.1:1 jobs
expect_rc usage-bad-url 1 "--api with another scheme"
expect_text usage-bad-url err "invalid --api URL" "the error names the URL"

# --- the peers ---
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
# SILENT accepts TCP connections and never sends a byte, so a job to it stays running.
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held=[]
end=time.time()+300
while time.time()<end:
    s.settimeout(1)
    try: held.append(s.accept()[0])
    except OSError: pass' "$SILENT_PORT" &
PEER_PIDS+=($!)
check "dcmqrscp starts" wait_echo QRSCP "$QR_PORT"
check "storescp starts" wait_echo STORESCP "$SCP_PORT"

python3 "$(dirname "$0")/make_instances.py" series "$QR_DIR/series" --count "$SERIES_COUNT" \
    --uid-root 1.2.826.0.1.3680043.9.7433.98.3 --studies 1 > /dev/null
check "dcmqrscp takes CT_small and MR_small" timeout 60 \
    storescu -aec QRSCP 127.0.0.1 "$QR_PORT" "$TEST_DATA/CT_small.dcm" "$TEST_DATA/MR_small.dcm"
check "dcmqrscp takes $SERIES_COUNT synthetic instances" timeout 120 \
    storescu -aec QRSCP 127.0.0.1 "$QR_PORT" "$QR_DIR"/series/inst-*.dcm
CT_STUDY=$(dicom_value "$TEST_DATA/CT_small.dcm" StudyInstanceUID)
CT_SERIES=$(dicom_value "$TEST_DATA/CT_small.dcm" SeriesInstanceUID)
CT_SOP=$(dicom_value "$TEST_DATA/CT_small.dcm" SOPInstanceUID)
MR_STUDY=$(dicom_value "$TEST_DATA/MR_small.dcm" StudyInstanceUID)
SERIES_STUDY=$(awk -F'\t' 'NR == 1 { print $3 }' "$QR_DIR/series/manifest.tsv")
SERIES_UID=$(awk -F'\t' 'NR == 1 { print $4 }' "$QR_DIR/series/manifest.tsv")

# --- the API is down ---
write_test_config
run down-config --config "$CONF" ae list
expect_rc down-config 1 "ae list while cairnd is stopped"
expect_text down-config err \
    "cannot reach the control API at http://127.0.0.1:$API_PORT: is cairnd running?" \
    "the error names the API's URL from the configuration"
run down-url --api "http://127.0.0.1:$API_PORT/" jobs
expect_rc down-url 1 "jobs with --api while cairnd is stopped"
expect_text down-url err "cannot reach the control API at http://127.0.0.1:$API_PORT:" \
    "the error names the --api URL"

start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# --- ae ---
run ae-list --config "$CONF" ae list
expect_rc ae-list 0 "ae list"
check "ae list shows CAIRN enabled" grep -qE "^CAIRN +$PORT +127\.0\.0\.1 +yes +yes +verification,storage,qr" \
    "$TEST_TMP/ae-list.out"
run ae-json --config "$CONF" ae --json
expect_json ae-json "ae --json is valid JSON"
check "ae --json lists CAIRN" test "$(json_of ae-json "j[0]['title']")" = CAIRN

run ae-disable --config "$CONF" ae disable CAIRN
expect_rc ae-disable 0 "ae disable CAIRN"
expect_text ae-disable out "AE CAIRN is disabled" "ae disable says so"
check "a disabled CAIRN rejects C-ECHO" test "$(timeout 20 echoscu -aec CAIRN 127.0.0.1 "$PORT" \
    >/dev/null 2>&1; echo $?)" -ne 0
run ae-list2 --config "$CONF" ae list
check "ae list shows CAIRN disabled" grep -qE "^CAIRN +$PORT +127\.0\.0\.1 +no +yes" \
    "$TEST_TMP/ae-list2.out"
run ae-enable --config "$CONF" ae enable CAIRN --json
expect_rc ae-enable 0 "ae enable CAIRN --json"
check "ae enable --json returns the AE enabled" test "$(json_of ae-enable "j['enabled']")" = True
check "an enabled CAIRN answers C-ECHO" timeout 20 echoscu -aec CAIRN 127.0.0.1 "$PORT"
run ae-unknown --config "$CONF" ae disable NOSUCHAE
expect_rc ae-unknown 1 "ae disable of an unknown AE"
expect_text ae-unknown err 'unknown AE title "NOSUCHAE"' "the API's message is shown"
expect_text ae-unknown err "(HTTP 404)" "the HTTP status is shown"

# --- jobs, while there are none ---
run jobs-empty --config "$CONF" jobs
expect_rc jobs-empty 0 "jobs with no job"
expect_text jobs-empty out "(none)" "jobs says (none)"
run jobs-empty-json --config "$CONF" jobs list --json
expect_json jobs-empty-json "jobs list --json is valid JSON"
check "jobs list --json is an empty array" test "$(json_of jobs-empty-json "len(j)")" = 0
run jobs-unknown --config "$CONF" jobs show no-such-job
expect_rc jobs-unknown 1 "jobs show of an unknown job"
expect_text jobs-unknown err "(HTTP 404)" "jobs show names the HTTP status"

# --- echo ---
run echo-unknown --config "$CONF" echo NOSUCH
expect_rc echo-unknown 1 "echo to an unknown remote"
expect_text echo-unknown err 'unknown remote "NOSUCH"' "echo names the unknown remote"
expect_text echo-unknown err "QRSCP, STORESCP, SILENT, DOWN" "echo lists the configured remotes"
run echo --config "$CONF" echo QRSCP
expect_rc echo 0 "echo QRSCP (dcmqrscp)"
expect_text echo out "C-ECHO to QRSCP (127.0.0.1 port $QR_PORT) from CAIRN succeeded in" \
    "echo QRSCP names the remote, its address and the calling AE"
run echo-scp --config "$CONF" echo STORESCP --calling-ae CAIRN
expect_rc echo-scp 0 "echo STORESCP (storescp) with --calling-ae"
expect_text echo-scp out "C-ECHO to STORESCP" "echo STORESCP says it succeeded"
run echo-json --config "$CONF" echo STORESCP --json
expect_rc echo-json 0 "echo STORESCP --json"
expect_json echo-json "echo --json is valid JSON"
check "echo --json has remote, port and status 0" \
    test "$(json_of echo-json "j['remote'] + ' ' + str(j['port']) + ' ' + str(j['status'])")" \
    = "STORESCP $SCP_PORT 0"
check "echo --json has the time in milliseconds" \
    test "$(json_of echo-json "isinstance(j['milliseconds'], int)")" = True
run echo-bad-calling --config "$CONF" echo STORESCP --calling-ae NOSUCHAE
expect_rc echo-bad-calling 1 "echo with a calling AE that is not ours"
expect_text echo-bad-calling err "(HTTP 400)" "the calling AE error names HTTP 400"
expect_text echo-bad-calling err "NOSUCHAE" "the calling AE error names the AE"
run echo-down --config "$CONF" echo DOWN
expect_rc echo-down 1 "echo to a remote that is down"
expect_text echo-down err "cannot connect to 127.0.0.1 port $DOWN_PORT" \
    "echo DOWN says the connection failed"
expect_text echo-down err "(HTTP 502)" "echo DOWN names HTTP 502"
check "echo DOWN prints nothing on stdout" test ! -s "$TEST_TMP/echo-down.out"

# --- query ---
run query --config "$CONF" query QRSCP
expect_rc query 0 "query QRSCP"
check "query lists the CT study" grep -qF "$CT_STUDY" "$TEST_TMP/query.out"
check "query lists the MR study" grep -qF "$MR_STUDY" "$TEST_TMP/query.out"
check "query lists the synthetic study" grep -qF "$SERIES_STUDY" "$TEST_TMP/query.out"
check "query has a StudyInstanceUID column" grep -qE '^.*StudyInstanceUID' "$TEST_TMP/query.out"
check "query has one line per study and a heading" test "$(wc -l < "$TEST_TMP/query.out")" = 4

run query-json --config "$CONF" query QRSCP -k PatientID="$(dicom_value "$TEST_DATA/CT_small.dcm" \
    PatientID)" --json
expect_rc query-json 0 "query -k PatientID=... --json"
expect_json query-json "query --json is valid JSON"
check "query --json succeeded with one match" \
    test "$(json_of query-json "j['state'] + ' ' + str(len(j['result']))")" = "succeeded 1"
check "the match is the CT study" \
    test "$(json_of query-json "j['result'][0]['StudyInstanceUID']")" = "$CT_STUDY"

run query-tag --config "$CONF" query QRSCP --level series -k 0020,000D="$CT_STUDY" \
    -k 0020000E --no-default-keys
expect_rc query-tag 0 "query at SERIES level with keys by tag"
check "the series query returns the CT series" grep -qF "$CT_SERIES" "$TEST_TMP/query-tag.out"

run query-image --config "$CONF" query QRSCP --level IMAGE -k StudyInstanceUID="$SERIES_STUDY" \
    -k SeriesInstanceUID="$SERIES_UID" --max-results 5 --json
expect_rc query-image 0 "query at IMAGE level with --max-results 5"
check "the image query keeps 5 matches and is truncated" \
    test "$(json_of query-image "str(len(j['result'])) + ' ' + str(j['truncated'])")" = "5 True"

run query-unknown --config "$CONF" query NOSUCH
expect_rc query-unknown 1 "query of an unknown remote"
expect_text query-unknown err "NOSUCH" "the query error names the remote"
expect_text query-unknown err "(HTTP 400)" "the query error names the HTTP status"
run query-badkey --config "$CONF" query QRSCP -k PatientNam=X
expect_rc query-badkey 1 "query with an unknown keyword"
expect_text query-badkey err "PatientNam" "the error names the keyword"

# --- retrieve ---
run retrieve --config "$CONF" retrieve QRSCP --study "$CT_STUDY" --wait
expect_rc retrieve 0 "retrieve --wait of the CT study"
expect_text retrieve out "succeeded" "retrieve says the job succeeded"
run retrieved --config "$CONF" instances --study "$CT_STUDY" --json
check "the CT instance is in the archive" test "$(json_of retrieved "j[0]['sop_instance_uid']")" = "$CT_SOP"

run retrieve-json --config "$CONF" retrieve QRSCP --study "$MR_STUDY" --destination CAIRN \
    --wait --json
expect_rc retrieve-json 0 "retrieve --wait --json of the MR study"
expect_json retrieve-json "retrieve --json is valid JSON"
check "the retrieve record has succeeded" test "$(json_of retrieve-json "j['state']")" = succeeded

# Progress lines in a pipe: one per change, at most one a second, and the end.
# The last C-MOVE response may leave out the remaining count, so "/60" is optional.
run retrieve-lines --config "$CONF" retrieve QRSCP --study "$SERIES_STUDY" --wait
expect_rc retrieve-lines 0 "retrieve --wait of $SERIES_COUNT instances"
check "progress lines end at $SERIES_COUNT instances" \
    grep -qE "^job [0-9a-f-]+: succeeded, ($SERIES_COUNT/)?$SERIES_COUNT instances" \
    "$TEST_TMP/retrieve-lines.out"
check "progress lines have no terminal escapes" test "$(grep -c $'\r' "$TEST_TMP/retrieve-lines.out")" = 0
run instances-count --config "$CONF" instances --study "$SERIES_STUDY" --json
check "the archive holds the $SERIES_COUNT instances" \
    test "$(json_of instances-count "len(j)")" = "$SERIES_COUNT"

run retrieve-bad --config "$CONF" retrieve QRSCP --study "$CT_STUDY" --destination NOSUCH
expect_rc retrieve-bad 1 "retrieve to an unknown destination"
expect_text retrieve-bad err "NOSUCH" "the error names the destination"

# --- send ---
run send --config "$CONF" send STORESCP --study "$CT_STUDY" --wait
expect_rc send "0" "send --wait of the CT study"
expect_text send out "1/1 instance," "send counts one instance"
check "storescp received the CT instance" test "$(find "$SCP_DIR" -type f | wc -l)" -ge 1

# A progress bar on a terminal: script(1) gives cairn a pseudo-terminal.
timeout 120 script -qec "'$CAIRN' --config '$CONF' send STORESCP --study '$SERIES_STUDY' --wait" \
    /dev/null > "$TEST_TMP/send-bar.out" 2>&1
RC=$?
expect_rc send-bar 0 "send --wait on a terminal"
check "the bar is redrawn in place" grep -q $'\r\\[[#-]*\\]' "$TEST_TMP/send-bar.out"
check "the bar reaches 100%" grep -qF "100%  $SERIES_COUNT/$SERIES_COUNT instances" \
    "$TEST_TMP/send-bar.out"
check "the bar shows bytes" grep -qE "(KiB|MiB) of [0-9.]+ (KiB|MiB)" "$TEST_TMP/send-bar.out"

run send-nowait --config "$CONF" send STORESCP --study "$MR_STUDY" --json
expect_rc send-nowait 0 "send without --wait"
expect_json send-nowait "send --json is valid JSON"
SEND_JOB=$(json_of send-nowait "j['id']")
run send-show --config "$CONF" jobs show "$SEND_JOB" --wait --timeout 60
expect_rc send-show 0 "jobs show --wait of the send"
expect_text send-show out "state:     succeeded" "jobs show says succeeded"

run send-unknown --config "$CONF" send NOSUCH --study "$CT_STUDY"
expect_rc send-unknown 1 "send to an unknown remote"
expect_text send-unknown err "(HTTP 400)" "the send error names the HTTP status"

# --timeout stops the wait, and the job goes on until it is cancelled.
run send-timeout --config "$CONF" send SILENT --study "$CT_STUDY" --wait --timeout 1
expect_rc send-timeout 1 "send --wait --timeout 1 to a silent remote"
expect_text send-timeout err "timed out after 1 s waiting for job" "the wait times out"
SILENT_JOB=$(grep -oE 'job [0-9a-f-]{36}' "$TEST_TMP/send-timeout.err" | head -n 1 | cut -c5-)
run silent-cancel --config "$CONF" jobs cancel "$SILENT_JOB"
expect_rc silent-cancel 0 "jobs cancel of the running send"
run silent-show --config "$CONF" jobs show "$SILENT_JOB" --wait --timeout 60 --json
expect_rc silent-show 1 "jobs show --wait of a cancelled job"
check "the silent send ends cancelled" test "$(json_of silent-show "j['state']")" = cancelled

# --- jobs ---
run jobs-list --config "$CONF" jobs
expect_rc jobs-list 0 "jobs list"
check "jobs list has a heading" grep -qE '^ID +KIND +STATE +REMOTE' "$TEST_TMP/jobs-list.out"
check "jobs list shows the send job" grep -qF "$SEND_JOB" "$TEST_TMP/jobs-list.out"
run jobs-json --config "$CONF" jobs --json
expect_json jobs-json "jobs --json is valid JSON"
check "jobs --json has at least 9 jobs" test "$(json_of jobs-json "len(j)")" -ge 9
run jobs-cancel --config "$CONF" jobs cancel "$SEND_JOB"
expect_rc jobs-cancel 1 "cancel of a finished job"
expect_text jobs-cancel err "(HTTP 409)" "cancel names HTTP 409"
run jobs-retry --config "$CONF" jobs retry "$SEND_JOB"
expect_rc jobs-retry 1 "retry of a succeeded job"
expect_text jobs-retry err "(HTTP 409)" "retry names HTTP 409"

stop_cairnd

# --- a bearer token and TLS, from the configuration ---
TOKEN=0123456789abcdef0123456789abcdef
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -keyout "$TEST_TMP/api-key.pem" -out "$TEST_TMP/api-cert.pem" >/dev/null 2>&1
write_test_config "token = \"$TOKEN\"; tls_certificate = \"$TEST_TMP/api-cert.pem\";
                   tls_key = \"$TEST_TMP/api-key.pem\";"
start_cairnd || { fail "cairnd starts with a token and TLS"; finish; exit 1; }
run tls-config --config "$CONF" ae list
expect_rc tls-config 0 "ae list over https with the token of the configuration"
run tls-url --api "https://127.0.0.1:$API_PORT" ae list
expect_rc tls-url 1 "https without the certificate"
expect_text tls-url err "failed verification" "the error says the certificate failed"
CAIRN_API_TOKEN=$TOKEN run tls-env --api "https://127.0.0.1:$API_PORT" ae list \
    --cacert "$TEST_TMP/api-cert.pem"
expect_rc tls-env 0 "https with --cacert and CAIRN_API_TOKEN"
run tls-insecure --api "https://127.0.0.1:$API_PORT" --insecure --token "$TOKEN" jobs
expect_rc tls-insecure 0 "https with --insecure and --token"
run tls-wrong --config "$CONF" ae list --token "wrong$TOKEN"
expect_rc tls-wrong 1 "a wrong --token"
expect_text tls-wrong err "(HTTP 401)" "a wrong token gets HTTP 401"
stop_cairnd

check_no_sanitizer_report
finish
