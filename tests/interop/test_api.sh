#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The HTTP control API, driven with curl against a running cairnd: status,
# AEs and their run-time disable while an association is in flight, the
# archive listing with paging and filters, the jobs paths, the metrics, the
# C-ECHO of a remote and its failures, each error status, the bearer token,
# the loopback-only rule without a token, and TLS with a self-signed
# certificate made by openssl.

. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || { fail "curl is installed"; finish; exit 1; }
command -v jq >/dev/null || { fail "jq is installed"; finish; exit 1; }

PORT=$(free_port)
API_PORT=$(free_port)
API="http://127.0.0.1:$API_PORT"
BODY="$TEST_TMP/body"
HEADERS="$TEST_TMP/headers"
ECHO_PID=""

# request METHOD PATH [CURL_ARGS...]: stores the status in STATUS, the body in
# $BODY and the headers in $HEADERS. Every request times out after 10 s.
request() {
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -s -m 10 -X "$method" -D "$HEADERS" -o "$BODY" -w '%{http_code}' "$@" \
        "$API$path")
}

# expect_status DESCRIPTION CODE: checks the status of the last request.
expect_status() {
    if [ "$STATUS" = "$2" ]; then
        pass "$1: HTTP $2"
    else
        fail "$1: expected HTTP $2, got $STATUS: $(head -c 300 "$BODY")"
    fi
}

# expect_json DESCRIPTION JQ_FILTER: passes when the filter yields true on the last body.
expect_json() {
    if [ "$(jq -r "$2" "$BODY" 2>/dev/null)" = "true" ]; then
        pass "$1"
    else
        fail "$1 ($2 on: $(head -c 300 "$BODY"))"
    fi
}

# expect_error DESCRIPTION METHOD PATH CODE TEXT: the request fails with CODE
# and a JSON {"error": ...} that contains TEXT.
expect_error() {
    local what=$1 method=$2 path=$3 code=$4 text=$5
    request "$method" "$path"
    expect_status "$what" "$code"
    if jq -e --arg t "$text" '(.error | type == "string") and (.error | contains($t))' \
        "$BODY" >/dev/null 2>&1; then
        pass "$what: error names \"$text\""
    else
        fail "$what: error should name \"$text\": $(head -c 300 "$BODY")"
    fi
}

# metric NAME_WITH_LABELS: prints the value of one sample of the last metrics body.
metric() {
    awk -v name="$1" '$1 == name { print $2 }' "$BODY"
}

# wait_for_open N: waits at most 10 s until the status reports N open associations.
wait_for_open() {
    for _ in $(seq 1 100); do
        request GET /v1/status
        [ "$(jq -r .associations_open "$BODY" 2>/dev/null)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

stop_echo() {
    [ -n "$ECHO_PID" ] || return 0
    kill -TERM "$ECHO_PID" 2>/dev/null
    wait "$ECHO_PID" 2>/dev/null
    ECHO_PID=""
}
trap 'stop_echo; cleanup' EXIT

write_config
# The daemon itself as a remote, so that a query job has a peer to ask.
echo "remotes = ( { title = \"CAIRN\"; host = \"127.0.0.1\"; port = $PORT; } );" \
    >> "$TEST_TMP/cairn.conf"
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# --- status and AEs ---
request GET /v1/status
expect_status "GET /v1/status" 200
version=$("$CAIRND" --version | awk '{print $2}')
expect_json "status has the version" ".version == \"$version\""
expect_json "status has the storage path" ".storage_path == \"$TEST_TMP/storage\""
expect_json "status names the index back end" '.index_backend == "sqlite"'
expect_json "status has a whole uptime" '(.uptime_seconds | type == "number") and .uptime_seconds >= 0'
expect_json "status has no open association" '.associations_open == 0'
if grep -qi '^Content-Type: application/json' "$HEADERS"; then
    pass "status is application/json"
else
    fail "status is application/json: $(cat "$HEADERS")"
fi

request HEAD /v1/status
expect_status "HEAD /v1/status" 200

request GET /v1/aes
expect_status "GET /v1/aes" 200
expect_json "aes lists one AE CAIRN" '(.aes | length) == 1 and .aes[0].title == "CAIRN"'
expect_json "AE has its port and bind" ".aes[0].port == $PORT and .aes[0].bind == \"127.0.0.1\""
expect_json "AE is enabled" '.aes[0].enabled == true'
expect_json "AE lists its plugins" '[.aes[0].plugins[].name] == ["verification", "storage", "qr", "commitment"]'

request GET /v1/remotes
expect_status "GET /v1/remotes" 200
expect_json "remotes lists CAIRN itself" ".remotes == [{\"title\": \"CAIRN\", \"host\": \"127.0.0.1\", \"port\": $PORT, \"max_associations\": 4}]"

# --- disable an AE while an association on it is in flight ---
echoscu -aec CAIRN --repeat 100000000 127.0.0.1 "$PORT" >"$TEST_TMP/echo-held.log" 2>&1 &
ECHO_PID=$!
check "held association is open" wait_for_open 1

request POST /v1/aes/CAIRN/disable
expect_status "POST /v1/aes/CAIRN/disable" 200
expect_json "disable returns the AE disabled" '.title == "CAIRN" and .enabled == false'
request GET /v1/aes
expect_json "aes shows CAIRN disabled" '.aes[0].enabled == false'

out=$(timeout 20 echoscu -aec CAIRN 127.0.0.1 "$PORT" 2>&1)
rc=$?
check "new association to the disabled AE fails" test "$rc" -ne 0
if echo "$out" | grep -qi "Called AE Title Not Recognized"; then
    pass "disabled AE rejects with 'Called AE Title Not Recognized'"
else
    fail "disabled AE rejects with 'Called AE Title Not Recognized' (got: $out)"
fi

sleep 1
check "held association survives the disable" kill -0 "$ECHO_PID"
request GET /v1/status
expect_json "held association is still open" '.associations_open == 1'

request POST /v1/aes/CAIRN/enable
expect_status "POST /v1/aes/CAIRN/enable" 200
expect_json "enable returns the AE enabled" '.enabled == true'
check "echoscu works again after enable" timeout 20 echoscu -aec CAIRN 127.0.0.1 "$PORT"
check "held association survives the enable" kill -0 "$ECHO_PID"

stop_echo
check "held association closes after echoscu stops" wait_for_open 0

expect_error "enable of an unknown AE" POST /v1/aes/NOSUCHAE/enable 404 "NOSUCHAE"
expect_error "disable of an unknown AE" POST /v1/aes/NOSUCHAE/disable 404 "NOSUCHAE"

# --- archive listing with paging ---
python3 "$(dirname "$0")/make_instances.py" series "$TEST_TMP/series" --count 7 \
    --uid-root 1.2.826.0.1.3680043.9.7433.77 --studies 2 >/dev/null
stored_files=("$TEST_TMP"/series/*.dcm "$PYDICOM_DATA/test_files/CT_small.dcm"
              "$PYDICOM_DATA/test_files/MR_small.dcm")
check "storescu stores 9 instances" timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" \
    "${stored_files[@]}"

request GET /v1/instances
expect_status "GET /v1/instances" 200
expect_json "default page has all 9 instances" '.count == 9 and (.items | length) == 9 and .more == false'
expect_json "default limit is 100" '.offset == 0 and .limit == 100'
expect_json "instances have their file columns" \
    '[.items[] | (.size > 0) and (.calling_ae == "STORESCU") and (.sop_instance_uid | length > 0)] | all'

request GET "/v1/instances?limit=4"
expect_json "page 1 has 4 instances and more" '.count == 4 and .more == true'
jq -r '.items[].sop_instance_uid' "$BODY" > "$TEST_TMP/pages"
request GET "/v1/instances?offset=4&limit=4"
expect_json "page 2 has 4 instances and more" '.count == 4 and .more == true and .offset == 4'
jq -r '.items[].sop_instance_uid' "$BODY" >> "$TEST_TMP/pages"
request GET "/v1/instances?offset=8&limit=4"
expect_json "page 3 has the last instance" '.count == 1 and .more == false'
jq -r '.items[].sop_instance_uid' "$BODY" >> "$TEST_TMP/pages"
check "the pages hold 9 distinct instances" test "$(sort -u "$TEST_TMP/pages" | wc -l)" -eq 9
request GET "/v1/instances?offset=50"
expect_json "offset past the end gives an empty page" '.count == 0 and .items == [] and .more == false'
request GET "/v1/instances?limit=1000"
expect_status "limit 1000 is accepted" 200

request GET /v1/patients
expect_json "patients: 2 synthetic and 2 pydicom" '.count == 4'
request GET /v1/studies
expect_json "studies: 4" '.count == 4'
study_uid=$(jq -r '[.items[] | select(.instance_count == 4)][0].study_instance_uid' "$BODY")
request GET "/v1/series?study_uid=$study_uid"
expect_json "series filtered by study" ".count == 1 and .items[0].study_instance_uid == \"$study_uid\""
series_uid=$(jq -r '.items[0].series_instance_uid' "$BODY")
request GET "/v1/instances?study_uid=$study_uid&series_uid=$series_uid&limit=2"
expect_json "instances filtered by study and series, paged" '.count == 2 and .more == true'
request GET "/v1/instances?patient_id=1CT1"
expect_json "instances filtered by patient" '.count == 1 and .items[0].patient_id == "1CT1"'
request GET "/v1/studies?patient_id=1CT1"
expect_json "study of CT_small has its modality" '.count == 1 and .items[0].modalities == ["CT"]'

# --- jobs paths ---
request GET /v1/jobs
expect_status "GET /v1/jobs" 200
expect_json "jobs is a list" '.jobs | type == "array"'
expect_error "unknown job" GET /v1/jobs/no-such-job 404 "no-such-job"
expect_error "cancel of an unknown job" POST /v1/jobs/no-such-job/cancel 404 "no-such-job"
expect_error "retry of an unknown job" POST /v1/jobs/no-such-job/retry 404 "no-such-job"
request POST /v1/jobs --data-binary '{"type": '
expect_status "job request that is not JSON" 400
request POST /v1/jobs --data-binary '[1, 2]'
expect_status "job request that is not an object" 400
request POST /v1/jobs --data-binary '{"kind": "no-such-kind", "remote": "CAIRN"}'
expect_status "job request of an unknown kind" 400
request POST /v1/jobs --data-binary '{"kind": "query", "remote": "NOSUCHREMOTE"}'
expect_status "job request naming an unknown remote" 400
expect_json "the error names the remote" '.error | contains("NOSUCHREMOTE")'
request POST /v1/jobs -H 'Content-Type: application/json' \
    --data-binary '{"kind": "query", "remote": "CAIRN", "level": "STUDY", "keys": {"PatientID": ""}}'
expect_status "POST /v1/jobs with a query of CAIRN itself" 201
job_id=$(jq -r .id "$BODY")
if grep -qi "^Location: /v1/jobs/$job_id" "$HEADERS"; then
    pass "201 has the job's Location"
else
    fail "201 has the job's Location: $(cat "$HEADERS")"
fi
state=""
for _ in $(seq 1 200); do
    request GET "/v1/jobs/$job_id"
    state=$(jq -r .state "$BODY")
    case $state in succeeded|failed|cancelled) break ;; esac
    sleep 0.1
done
check "query job succeeds within 20 s (state $state)" test "$state" = "succeeded"
expect_json "query job found the 4 studies" '(.result | length) == 4'
request GET /v1/jobs
expect_json "job list has the job" "[.jobs[].id] | index(\"$job_id\") != null"
expect_error "cancel of a finished job" POST "/v1/jobs/$job_id/cancel" 409 ""
expect_error "retry of a succeeded job" POST "/v1/jobs/$job_id/retry" 409 ""

# --- error paths ---
expect_error "unknown path" GET /v1/nope 404 "/v1/nope"
expect_error "path outside /v1" GET /v2/status 404 "/v2/status"
expect_error "trailing slash" GET /v1/status/ 404 "/v1/status/"
expect_error "bad offset" GET "/v1/instances?offset=abc" 400 '"abc"'
expect_error "negative offset" GET "/v1/instances?offset=-1" 400 '"-1"'
expect_error "limit 0" GET "/v1/instances?limit=0" 400 '"0"'
expect_error "limit over 1000" GET "/v1/studies?limit=1001" 400 '"1001"'
expect_error "bad study UID" GET "/v1/series?study_uid=1.2.x" 400 '"1.2.x"'
expect_error "filter that does not apply" GET "/v1/patients?series_uid=1.2" 400 "series_uid"
expect_error "unknown parameter" GET "/v1/instances?colour=red" 400 "colour"
expect_error "POST on a GET path" POST /v1/status 405 "POST"
if grep -qi '^Allow: GET, HEAD' "$HEADERS"; then
    pass "405 names the allowed methods"
else
    fail "405 names the allowed methods: $(cat "$HEADERS")"
fi
expect_error "GET on disable" GET /v1/aes/CAIRN/disable 405 "GET"
expect_error "DELETE on jobs" DELETE /v1/jobs 405 "DELETE"
request POST /v1/jobs --data-binary @<(head -c 1100000 /dev/zero | tr '\0' ' ')
expect_status "body over 1 MiB" 413

# --- metrics ---
check "a C-ECHO on a calling AE the test names" echoscu -aec CAIRN -aet METRICS 127.0.0.1 "$PORT"
request GET /v1/metrics
expect_status "GET /v1/metrics" 200
if grep -qi '^Content-Type: text/plain; version=0.0.4' "$HEADERS"; then
    pass "metrics are text/plain; version=0.0.4"
else
    fail "metrics are text/plain; version=0.0.4: $(grep -i content-type "$HEADERS")"
fi
check "metrics have HELP and TYPE lines" grep -q '^# TYPE cairn_associations_accepted_total counter' "$BODY"
# Accepted: start-up echo, held echo, echo after enable, storescu, metrics echo.
accepted=$(metric cairn_associations_accepted_total)
check "accepted associations >= 5 (got $accepted)" test "${accepted:-0}" -ge 5
rejected=$(metric 'cairn_associations_rejected_total{reason="called_ae"}')
check "called AE rejections == 1 (got $rejected)" test "${rejected:-0}" -eq 1
released=$(metric cairn_associations_released_total)
check "released associations >= 4 (got $released)" test "${released:-0}" -ge 4
aborted=$(metric 'cairn_associations_aborted_total{side="peer"}')
check "peer aborts >= 1 for the stopped echoscu (got $aborted)" test "${aborted:-0}" -ge 1
received=$(metric cairn_instances_received_total)
check "instances received == 9 (got $received)" test "${received:-0}" -eq 9
bytes=$(metric cairn_received_bytes_total)
expected_bytes=$(cat "${stored_files[@]}" | wc -c)
check "received bytes are near the files' size (got $bytes, files $expected_bytes)" \
    test "${bytes:-0}" -gt $((expected_bytes / 2)) -a "${bytes:-0}" -lt $((expected_bytes * 2))
stores=$(metric 'cairn_dimse_responses_total{command="C-STORE-RSP",status="0x0000"}')
check "C-STORE-RSP success == 9 (got $stores)" test "${stores:-0}" -eq 9
echoes=$(metric 'cairn_dimse_responses_total{command="C-ECHO-RSP",status="0x0000"}')
check "C-ECHO-RSP success >= 4 (got $echoes)" test "${echoes:-0}" -ge 4
calls=$(metric cairn_index_call_duration_seconds_count)
check "index calls timed >= 9 (got $calls)" test "${calls:-0}" -ge 9
inf=$(metric 'cairn_index_call_duration_seconds_bucket{le="+Inf"}')
check "+Inf bucket equals the count" test "$inf" = "$calls"
open=$(metric cairn_associations_open)
check "no association open at the end (got $open)" test "$open" = "0"
check "jobs gauges are exported" grep -q '^cairn_jobs_queued ' "$BODY"

stop_cairnd

# --- C-ECHO to a remote ---
# Remotes: the daemon itself (succeeds), the daemon under a title it does
# not serve (rejected), a port nothing listens on (down), and a listener
# that never sends a byte, limited to one association (times out).
DOWN_PORT=$(free_port)
SILENT_PORT=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held=[]
end=time.time()+120
while time.time()<end:
    s.settimeout(1)
    try: held.append(s.accept()[0])
    except OSError: pass' "$SILENT_PORT" &
SILENT_PID=$!
write_config
cat >> "$TEST_TMP/cairn.conf" <<CONF
remotes = (
  { title = "CAIRN"; host = "127.0.0.1"; port = $PORT; },
  { title = "WRONGAE"; host = "127.0.0.1"; port = $PORT; },
  { title = "DOWN"; host = "127.0.0.1"; port = $DOWN_PORT; },
  { title = "SILENT"; host = "127.0.0.1"; port = $SILENT_PORT; max_associations = 1; }
);
CONF
start_cairnd || { fail "cairnd starts with four remotes"; finish; exit 1; }

request POST /v1/remotes/CAIRN/echo
expect_status "echo of CAIRN itself" 200
expect_json "echo names the remote, host and port" \
    ".remote == \"CAIRN\" and .host == \"127.0.0.1\" and .port == $PORT"
expect_json "echo has status 0" '.status == 0'
expect_json "echo has a time in whole milliseconds" \
    '(.milliseconds | type == "number") and .milliseconds >= 0 and (.milliseconds | floor) == .milliseconds'
expect_json "echo defaults to the first enabled AE" '.calling_ae == "CAIRN"'
if grep -q "CAIRN->CAIRN.*scu: C-ECHO from CAIRN to CAIRN" "$TEST_TMP/cairnd.log"; then
    pass "the daemon logs the echo"
else
    fail "the daemon logs the echo: $(grep -c 'C-ECHO' "$TEST_TMP/cairnd.log") C-ECHO lines"
fi
request POST /v1/remotes/CAIRN/echo -H 'Content-Type: application/json' \
    --data-binary '{"calling_ae": "CAIRN"}'
expect_status "echo with calling_ae CAIRN" 200
expect_json "echo used the calling_ae of the body" '.calling_ae == "CAIRN"'
request POST /v1/remotes/CAIRN/echo --data-binary '{}'
expect_status "echo with an empty object" 200

expect_error "echo of an unknown remote" POST /v1/remotes/NOSUCHREMOTE/echo 404 '"NOSUCHREMOTE"'
expect_error "echo of a title over 16 characters" POST \
    /v1/remotes/ABCDEFGHIJKLMNOPQRSTU/echo 404 "unknown remote"
expect_error "GET on echo" GET /v1/remotes/CAIRN/echo 405 "GET"
if grep -qi '^Allow: POST' "$HEADERS"; then
    pass "405 on echo allows POST"
else
    fail "405 on echo allows POST: $(cat "$HEADERS")"
fi
expect_error "echo path with an extra segment" POST /v1/remotes/CAIRN/echo/x 404 "unknown path"
expect_error "echo with a query parameter" POST "/v1/remotes/CAIRN/echo?x=1" 400 '"x"'
request POST /v1/remotes/CAIRN/echo --data-binary '{"calling_ae": '
expect_status "echo body that is not JSON" 400
expect_json "the error gives the parser's position" '.error | contains("line 1")'
request POST /v1/remotes/CAIRN/echo --data-binary '["CAIRN"]'
expect_status "echo body that is not an object" 400
request POST /v1/remotes/CAIRN/echo --data-binary '{"calling_ae": "NOSUCHAE"}'
expect_status "echo from an AE that is not ours" 400
expect_json "the error names the calling AE" '.error | contains("NOSUCHAE")'
request POST /v1/remotes/CAIRN/echo --data-binary '{"calling_ae": 7}'
expect_status "echo with a calling_ae that is not a string" 400
request POST /v1/remotes/CAIRN/echo --data-binary '{"calling_ae": "ABCDEFGHIJKLMNOPQ"}'
expect_status "echo with a calling_ae over 16 characters" 400
request POST /v1/remotes/CAIRN/echo --data-binary '{"timeout": 5}'
expect_status "echo with an unknown member" 400
expect_json "the error names the member" '.error | contains("timeout")'

expect_error "echo of a remote that rejects the called AE" POST /v1/remotes/WRONGAE/echo 502 \
    "association rejected: called AE title not recognized"
expect_error "echo of a remote that is down" POST /v1/remotes/DOWN/echo 502 \
    "cannot connect to 127.0.0.1 port $DOWN_PORT"

request POST /v1/aes/CAIRN/disable
expect_status "disable CAIRN before echoes" 200
expect_error "echo with no enabled AE" POST /v1/remotes/CAIRN/echo 409 "no AE of this archive is enabled"
request POST /v1/remotes/CAIRN/echo --data-binary '{"calling_ae": "CAIRN"}'
expect_status "echo of the disabled AE itself" 502
expect_json "the disabled AE rejects the echo" '.error | contains("called AE title not recognized")'
request POST /v1/aes/CAIRN/enable
expect_status "enable CAIRN after echoes" 200

# SILENT never sends the A-ASSOCIATE-AC. The first echo keeps its only slot
# for twice the ARTIM timeout of 10 s: the wait for the A-ASSOCIATE-AC, then
# the wait for SILENT to close after the A-ABORT. A second echo waits 5 s
# for that slot and gets 503.
curl -s -m 40 -X POST -o "$TEST_TMP/silent-first" -w '%{http_code}' \
    "$API/v1/remotes/SILENT/echo" > "$TEST_TMP/silent-first-status" &
FIRST_ECHO_PID=$!
sleep 1
request POST /v1/remotes/SILENT/echo -m 40
expect_status "second echo while SILENT's only slot is in use" 503
expect_json "the 503 names max_associations" '.error | contains("max_associations")'
wait "$FIRST_ECHO_PID"
check "the echo of SILENT times out with 504" test "$(cat "$TEST_TMP/silent-first-status")" = 504
if jq -e '.error | contains("timed out") and contains("artim_timeout")' \
    "$TEST_TMP/silent-first" >/dev/null 2>&1; then
    pass "the 504 names the ARTIM timeout"
else
    fail "the 504 names the ARTIM timeout: $(head -c 300 "$TEST_TMP/silent-first")"
fi
request POST /v1/remotes/CAIRN/echo
expect_status "echo of CAIRN after the failures" 200

kill -TERM "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null
stop_cairnd

# --- bearer token ---
TOKEN=0123456789abcdef0123456789abcdef
API_EXTRA="token = \"$TOKEN\";" write_config
start_cairnd || { fail "cairnd starts with a token"; finish; exit 1; }
expect_error "request without the token" GET /v1/status 401 "Bearer"
if grep -qi '^WWW-Authenticate: Bearer' "$HEADERS"; then
    pass "401 has WWW-Authenticate: Bearer"
else
    fail "401 has WWW-Authenticate: Bearer: $(cat "$HEADERS")"
fi
request GET /v1/status -H "Authorization: Bearer wrong${TOKEN}"
expect_status "request with a wrong token" 401
request GET /v1/nope
expect_status "unknown path without the token is 401, not 404" 401
request GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status "request with the token" 200
request GET /v1/metrics -H "authorization: bearer $TOKEN"
expect_status "header and scheme match case-insensitively" 200
stop_cairnd

# --- configuration errors ---
write_config
sed -i "s/^api = .*/api = { bind = \"0.0.0.0\"; port = $API_PORT; };/" "$TEST_TMP/cairn.conf"
out=$("$CAIRND" --config "$TEST_TMP/cairn.conf" --check-config 2>&1)
rc=$?
check "bind 0.0.0.0 without a token is a config error" test "$rc" -ne 0
if echo "$out" | grep -qE 'cairn\.conf:[0-9]+: api\.bind: .*0\.0\.0\.0.*api\.token'; then
    pass "the error names file, line, api.bind and api.token"
else
    fail "the error names file, line, api.bind and api.token (got: $out)"
fi
sed -i "s/^api = .*/api = { bind = \"0.0.0.0\"; port = $API_PORT; token = \"$TOKEN\"; };/" \
    "$TEST_TMP/cairn.conf"
check "bind 0.0.0.0 with a token is valid" "$CAIRND" --config "$TEST_TMP/cairn.conf" --check-config
sed -i "s/^api = .*/api = { token = \"short\"; };/" "$TEST_TMP/cairn.conf"
out=$("$CAIRND" --config "$TEST_TMP/cairn.conf" --check-config 2>&1)
check "a short token is a config error" grep -q 'api.token: invalid token' <<<"$out"
sed -i "s|^api = .*|api = { tls_certificate = \"$TEST_TMP/cairn.conf\"; };|" "$TEST_TMP/cairn.conf"
out=$("$CAIRND" --config "$TEST_TMP/cairn.conf" --check-config 2>&1)
check "a certificate without a key is a config error" grep -q 'api.tls_key: missing' <<<"$out"

# A port already in use stops cairnd at start-up with a message naming it.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(15)' \
    "$API_PORT" &
HOLDER_PID=$!
sleep 0.5
write_config
timeout 20 "$CAIRND" --config "$TEST_TMP/cairn.conf" > "$TEST_TMP/busy.log" 2>&1
rc=$?
kill "$HOLDER_PID" 2>/dev/null
wait "$HOLDER_PID" 2>/dev/null
check "cairnd exits when the API port is in use" test "$rc" -ne 0 -a "$rc" -ne 124
check "the log names the API port" grep -q "api: cannot listen on 127.0.0.1 port $API_PORT" \
    "$TEST_TMP/busy.log"

# --- TLS with a self-signed certificate ---
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -keyout "$TEST_TMP/api-key.pem" -out "$TEST_TMP/api-cert.pem" >/dev/null 2>&1; then
    pass "openssl makes a self-signed certificate"
else
    fail "openssl makes a self-signed certificate"
fi
API_EXTRA="tls_certificate = \"$TEST_TMP/api-cert.pem\"; tls_key = \"$TEST_TMP/api-key.pem\";" \
    write_config
start_cairnd || { fail "cairnd starts with TLS"; finish; exit 1; }
API="https://127.0.0.1:$API_PORT"
request GET /v1/status -k
expect_status "GET /v1/status over HTTPS (curl -k)" 200
expect_json "status over HTTPS has the version" ".version == \"$version\""
request GET /v1/status --cacert "$TEST_TMP/api-cert.pem"
expect_status "HTTPS verified against the certificate" 200
API="http://127.0.0.1:$API_PORT"
request GET /v1/status
check "plain HTTP on the TLS port gets no 200 (got $STATUS)" test "$STATUS" != "200"
stop_cairnd

check_no_sanitizer_report
finish
