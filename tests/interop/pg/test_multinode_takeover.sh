#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A node killed with SIGKILL while it runs a job: two cairnd nodes on one
# PostgreSQL database with 3 s leases. Node A runs a send job to a peer
# that accepts the TCP connection and never sends an A-ASSOCIATE-AC, so
# the job stays running. Then A is killed and the peer replaced by storescp. Node B must
# take the job over once A's lease expires, and deliver the study. A node
# restarted later must not run the finished job again.
#
# Usage: tests/interop/pg/test_multinode_takeover.sh BUILD_DIR (under ctest, after pg.start)

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"
PEER_PORT=$(free_port)
NODE_EXTRA="lease_seconds = 3;"
REMOTES_EXTRA=", { title = \"PEER\"; host = \"127.0.0.1\"; port = $PEER_PORT; }"
. "$(dirname "$0")/multinode_lib.sh"

UID_ROOT="1.2.826.0.1.3680043.9.7433.96.$$"
COUNT=5

for tool in storescu storescp psql curl; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done
start_watchdog 90

# A peer that accepts connections and never sends a byte, for at most 60 s.
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
end = time.time() + 60
s.settimeout(0.5)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
' "$PEER_PORT" &
SILENT_PID=$!
PEER_PIDS="$PEER_PIDS $SILENT_PID"

write_node_configs
start_node A || { fail "node A starts"; finish; exit 1; }
start_node B || { fail "node B starts"; finish; exit 1; }

study_dir="$TEST_TMP/study"
python3 "$MAKE_INSTANCES" series "$study_dir" --count $COUNT --uid-root "$UID_ROOT" \
    --studies 1 > /dev/null
STUDY=$(awk -F'\t' 'NR == 1 { print $3 }' "$study_dir/manifest.tsv")
check "the study goes to node A" \
    timeout 30 storescu -aec CAIRN_A 127.0.0.1 "${NODE_PORT[A]}" "$study_dir"/inst-*.dcm

node_api A POST /v1/jobs "{\"kind\":\"send\",\"remote\":\"PEER\",\"study_uid\":\"$STUDY\"}"
JOB=""
[ "$STATUS" = 201 ] && JOB=$(body_field "j['id']")
check "node A accepts the send job" test -n "$JOB"

# job_state NODE: prints "state node attempts" of the job as NODE reports it.
job_state() {
    node_api "$1" GET "/v1/jobs/$JOB"
    [ "$STATUS" = 200 ] && body_field "j['state'] + ' ' + str(j.get('node')) + ' ' + str(j['attempts'])"
}

# wait_job NODE STATE SECONDS: waits until NODE reports the job in STATE.
wait_job() {
    local steps=$(($3 * 10))
    for ((i = 0; i < steps; i++)); do
        STATE=$(job_state "$1")
        [ "${STATE%% *}" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

check "node A runs the job" wait_job A running 10
check "node B sees the job running on node A ($STATE)" wait_job B running 5
check "node B reports node-A as the job's node" test "$(echo "$STATE" | cut -d' ' -f2)" = node-A
node_api B POST "/v1/jobs/$JOB/cancel"
check "node B refuses to cancel a job node A runs (HTTP $STATUS)" test "$STATUS" != 200

# Kill A while it owns the job lease, and put a working peer in place of the silent one.
sleep 1
stop_node A KILL
killed=$EPOCHREALTIME
kill -KILL "$SILENT_PID" 2>/dev/null
wait "$SILENT_PID" 2>/dev/null
mkdir -p "$TEST_TMP/peer"
storescp -od "$TEST_TMP/peer" "$PEER_PORT" > "$TEST_TMP/storescp.log" 2>&1 &
PEER_PIDS="$PEER_PIDS $!"

check "node B finishes the job after node A died" wait_job B succeeded 30
took=$(python3 -c "print(round($EPOCHREALTIME - $killed, 1))")
echo "    node B finished the job $took s after node A was killed ($STATE)"
check "node B waited for the lease of node A to expire (${took} s >= 2 s)" \
    python3 -c "import sys; sys.exit(0 if $took >= 2 else 1)"
check "the job record names node-B and a second attempt" \
    test "$(echo "$STATE" | cut -d' ' -f2-)" = "node-B 2"
check "the peer received the $COUNT instances" test "$(ls "$TEST_TMP/peer" | wc -l)" -eq $COUNT
check "node B's log tells of the take-over" grep -q "took over job $JOB" "$TEST_TMP/cairnd-B.log"
check "no lease is left once the job finished" \
    test "$(pg_value "SELECT count(*) FROM lease WHERE lease_key = 'job:$JOB'")" -eq 0

# Node A restarts: it reads the job as finished and does not run it again.
start_node A || fail "node A restarts"
check "restarted node A reports the job succeeded" wait_job A succeeded 5
sleep 2
check "the job ran no third time" test "$(echo "$(job_state A)" | cut -d' ' -f3)" = 2

stop_nodes
collect_node_logs
check_no_sanitizer_report
finish
