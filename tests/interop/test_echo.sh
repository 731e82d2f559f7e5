#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Verification and association negotiation against real peers: DCMTK's
# echoscu (PDU sizes, many transfer syntaxes, rejection, load, delayed
# associations), GDCM's gdcmscu, and a raw socket sending garbage.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

check "echoscu with default options" echoscu -aec CAIRN 127.0.0.1 "$PORT"
check "echoscu --max-pdu 4096" echoscu -aec CAIRN --max-pdu 4096 127.0.0.1 "$PORT"
check "echoscu --max-pdu 131072" echoscu -aec CAIRN --max-pdu 131072 127.0.0.1 "$PORT"
check "echoscu proposing 38 transfer syntaxes" echoscu -aec CAIRN -pts 38 127.0.0.1 "$PORT"
check "echoscu proposing 128 presentation contexts" echoscu -aec CAIRN -ppc 128 127.0.0.1 "$PORT"
check "echoscu repeating 20 C-ECHOs on one association" echoscu -aec CAIRN --repeat 20 127.0.0.1 "$PORT"

# An unknown called AE title gets A-ASSOCIATE-RJ, and echoscu names the reason.
out=$(echoscu -aec NOSUCHAE 127.0.0.1 "$PORT" 2>&1)
rc=$?
check "unknown called AE title fails" test "$rc" -ne 0
if echo "$out" | grep -qi "Called AE Title Not Recognized"; then
    pass "echoscu reports 'Called AE Title Not Recognized'"
else
    fail "echoscu reports 'Called AE Title Not Recognized' (got: $out)"
fi

# 8 parallel loops of 50 associations each.
for loop in $(seq 1 8); do
    (
        ok=0
        for _ in $(seq 1 50); do
            echoscu -aec CAIRN -to 10 127.0.0.1 "$PORT" >/dev/null 2>&1 && ok=$((ok + 1))
        done
        echo "$ok" > "$TEST_TMP/loop.$loop"
    ) &
    loop_pids="${loop_pids:-} $!"
done
# shellcheck disable=SC2086
wait $loop_pids
total=$(cat "$TEST_TMP"/loop.* | paste -sd+ | bc)
check "8 parallel loops of 50 associations all succeed ($total of 400)" test "$total" -eq 400

# GDCM as a second, independent implementation.
# NOTE: Debian 12's gdcmscu 3.0.21 aborts with "ProtocolStream as nullptr
# is invalid" after it receives the A-RELEASE-RP, against DCMTK's storescp
# as well. Its exit status is therefore not used: its debug output must
# show the C-ECHO-RSP (Command Field 0x8030 = 32816) with Status 0, and
# cairnd must log the released association.
if ! command -v gdcmscu >/dev/null; then
    fail "gdcmscu is installed (package libgdcm-tools)"
else
    (gdcmscu -D --echo --call CAIRN 127.0.0.1 "$PORT" >"$TEST_TMP/gdcmscu.out" 2>&1) 2>/dev/null
    if grep -q "(0000,0100) ?? (US) 32816" "$TEST_TMP/gdcmscu.out" &&
        grep -q "(0000,0900) ?? (US) 0 " "$TEST_TMP/gdcmscu.out"; then
        pass "gdcmscu --echo gets C-ECHO-RSP with status 0"
    else
        fail "gdcmscu --echo gets C-ECHO-RSP with status 0: $(grep -v 'Last system error' "$TEST_TMP/gdcmscu.out" | tail -5)"
    fi
    sleep 0.2
    check "cairnd logs the gdcmscu association as released" \
        grep -q "GDCMSCU->CAIRN\] association released" "$TEST_TMP/cairnd.log"
fi

# Garbage and a truncated PDU on a raw socket: the daemon answers with
# A-ABORT or closes, and keeps serving.
garbage_reply=$(python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
replies = []
for payload in (b"GET / HTTP/1.0\r\n\r\n" + b"x" * 100,
                bytes([0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x01]),
                bytes([0x09, 0x00, 0x00, 0x00, 0x00, 0x04, 1, 2, 3, 4])):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(payload)
    if payload[0] == 0x01:
        s.shutdown(socket.SHUT_WR)
    try:
        data = s.recv(64)
    except socket.timeout:
        data = b"timeout"
    s.close()
    replies.append("abort" if data[:1] == b"\x07" else ("closed" if data == b"" else repr(data[:8])))
print(" ".join(replies))
PY
)
case "$garbage_reply" in
    *timeout*|*"b'"*) fail "raw garbage gets A-ABORT or a closed connection (got: $garbage_reply)" ;;
    *) pass "raw garbage gets A-ABORT or a closed connection ($garbage_reply)" ;;
esac
check "echoscu still succeeds after garbage" echoscu -aec CAIRN 127.0.0.1 "$PORT"
check "cairnd still running" cairnd_alive

stop_cairnd

# With max_associations = 2, six simultaneous clients are delayed, not rejected.
PORT=$(free_port)
write_config "max_associations = 2; max_wait = 60;"
start_cairnd || { fail "cairnd restarts with max_associations = 2"; finish; exit 1; }
for client in $(seq 1 6); do
    ( echoscu -aec CAIRN --repeat 300 -to 60 127.0.0.1 "$PORT" >/dev/null 2>&1; echo $? > "$TEST_TMP/delayed.$client" ) &
    client_pids="${client_pids:-} $!"
done
# shellcheck disable=SC2086
wait $client_pids
failures=$(grep -vc '^0$' "$TEST_TMP"/delayed.* | awk -F: '{s+=$2} END {print s}')
check "6 clients with max_associations = 2 all succeed" test "$failures" -eq 0
if grep -q "rejected: all" "$TEST_TMP/cairnd.log"; then
    fail "no association was rejected for the local limit"
else
    pass "no association was rejected for the local limit"
fi

# With a tiny max_wait a held-up client is rejected transient, local limit exceeded.
stop_cairnd
PORT=$(free_port)
write_config "max_associations = 1; max_wait = 1;"
start_cairnd || { fail "cairnd restarts with max_associations = 1"; finish; exit 1; }
# The holder repeats C-ECHO on one association until it is killed.
echoscu -aec CAIRN --repeat 100000000 127.0.0.1 "$PORT" >/dev/null 2>&1 &
holder=$!
sleep 0.5
out=$(echoscu -aec CAIRN 127.0.0.1 "$PORT" 2>&1)
if echo "$out" | grep -qi "Local Limit Exceeded"; then
    pass "client beyond max_wait gets A-ASSOCIATE-RJ local limit exceeded"
else
    fail "client beyond max_wait gets A-ASSOCIATE-RJ local limit exceeded (got: $out)"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

check_no_sanitizer_report
stop_cairnd
finish
