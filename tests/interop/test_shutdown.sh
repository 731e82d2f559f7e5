#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Graceful shutdown of cairnd on SIGTERM: while idle, while an association
# is open and idle, during a large C-STORE that shutdown_timeout leaves time
# to finish, and during a slow C-STORE that it does not. The large C-STORE
# goes from storescu through a throttling TCP proxy on loopback, so that
# the SIGTERM reliably arrives while the data set is still in transit.

. "$(dirname "$0")/lib.sh"

BIG_INSTANCE_UID=1.2.826.0.1.3680043.9.7433.3.1
SLOW_INSTANCE_UID=1.2.826.0.1.3680043.9.7433.3.2

# Set by term_and_wait: milliseconds from SIGTERM to exit, and exit status.
STOP_MS=0
STOP_RC=0

now_ms() {
    date +%s%3N
}

# term_and_wait LIMIT_S: sends SIGTERM to cairnd and waits at most LIMIT_S
# seconds for it to exit (then kills it). Sets STOP_MS and STOP_RC
# (STOP_RC is 137 when it had to be killed).
term_and_wait() {
    local limit_s=$1
    local start
    start=$(now_ms)
    kill -TERM "$CAIRND_PID"
    while kill -0 "$CAIRND_PID" 2>/dev/null; do
        if [ $(($(now_ms) - start)) -gt $((limit_s * 1000)) ]; then
            echo "cairnd still runs $limit_s s after SIGTERM; killing it"
            kill -KILL "$CAIRND_PID" 2>/dev/null
            break
        fi
        sleep 0.05
    done
    STOP_MS=$(($(now_ms) - start))
    wait "$CAIRND_PID"
    STOP_RC=$?
    CAIRND_PID=""
}

# wait_for_file PATH TIMEOUT_S: succeeds once PATH exists.
wait_for_file() {
    local path=$1
    local deadline=$(($(now_ms) + $2 * 1000))
    while [ ! -e "$path" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# wait_for_partial MIN_BYTES TIMEOUT_S: succeeds once a temporary file of an
# unfinished reception under storage/tmp has at least MIN_BYTES.
wait_for_partial() {
    local min_bytes=$1
    local deadline=$(($(now_ms) + $2 * 1000))
    local size
    while :; do
        size=$(find "$TEST_TMP/storage/tmp" -name '*.part' -printf '%s\n' 2>/dev/null |
            sort -n | tail -n 1)
        [ -n "$size" ] && [ "$size" -ge "$min_bytes" ] && return 0
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# Writes a CT Image Storage instance of about 100 MB (5000 x 10000 pixels of
# 16 bits) as a PS3.10 file in Explicit VR Little Endian.
make_big_instance() {
    python3 - "$1" "$2" <<'PY'
import struct, sys

path, sop_uid = sys.argv[1], sys.argv[2]
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
LONG_VRS = {b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL", b"OV"}

def element(group, elem, vr, value):
    if isinstance(value, str):
        value = value.encode("ascii")
        pad = b"\0" if vr == b"UI" else b" "
        if len(value) % 2:
            value += pad
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

meta_body = (element(0x0002, 0x0001, b"OB", b"\0\1")
             + element(0x0002, 0x0002, b"UI", CT)
             + element(0x0002, 0x0003, b"UI", sop_uid)
             + element(0x0002, 0x0010, b"UI", EXPLICIT_LE)
             + element(0x0002, 0x0012, b"UI", "1.2.826.0.1.3680043.9.7433.3"))
meta = element(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta_body))) + meta_body

rows, columns = 5000, 10000
dataset = (element(0x0008, 0x0016, b"UI", CT)
           + element(0x0008, 0x0018, b"UI", sop_uid)
           + element(0x0008, 0x0060, b"CS", "CT")
           + element(0x0010, 0x0010, b"PN", "Shutdown^Test")
           + element(0x0010, 0x0020, b"LO", "SHUTDOWN1")
           + element(0x0020, 0x000D, b"UI", sop_uid + ".1")
           + element(0x0020, 0x000E, b"UI", sop_uid + ".2")
           + element(0x0020, 0x0013, b"IS", "1")
           + element(0x0028, 0x0002, b"US", struct.pack("<H", 1))
           + element(0x0028, 0x0004, b"CS", "MONOCHROME2")
           + element(0x0028, 0x0010, b"US", struct.pack("<H", rows))
           + element(0x0028, 0x0011, b"US", struct.pack("<H", columns))
           + element(0x0028, 0x0100, b"US", struct.pack("<H", 16))
           + element(0x0028, 0x0101, b"US", struct.pack("<H", 12))
           + element(0x0028, 0x0102, b"US", struct.pack("<H", 11))
           + element(0x0028, 0x0103, b"US", struct.pack("<H", 0)))
pixel_bytes = rows * columns * 2
with open(path, "wb") as out:
    out.write(b"\0" * 128 + b"DICM" + meta + dataset)
    out.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, pixel_bytes))
    row = bytes(range(256)) * (columns * 2 // 256) + b"\0" * (columns * 2 % 256)
    for _ in range(rows):
        out.write(row)
PY
}

# Writes the throttling proxy: PROXY LISTEN_PORT_FILE TARGET_PORT BYTES_PER_S
# MAX_SECONDS. It accepts one connection, forwards the client's bytes to
# the target at most BYTES_PER_S, forwards the replies unthrottled, and
# closes both sides when either closes or after MAX_SECONDS.
cat > "$TEST_TMP/proxy.py" <<'PY'
import os, socket, sys, threading, time

port_file, target_port, rate, max_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
listener.settimeout(max_seconds)
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
client, _ = listener.accept()
server = socket.create_connection(("127.0.0.1", target_port), timeout=10)
deadline = time.monotonic() + max_seconds
done = threading.Event()

def pump(src, dst, limit):
    start, sent = time.monotonic(), 0
    src.settimeout(0.5)
    try:
        while not done.is_set() and time.monotonic() < deadline:
            try:
                data = src.recv(16384 if limit else 65536)
            except socket.timeout:
                continue
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
            if limit:
                ahead = sent / limit - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    done.set()
    for s in (client, server):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

threads = [threading.Thread(target=pump, args=(client, server, rate)),
           threading.Thread(target=pump, args=(server, client, 0))]
for t in threads:
    t.start()
for t in threads:
    t.join(max_seconds + 5)
PY

# start_proxy BYTES_PER_S MAX_SECONDS: starts the proxy to $PORT and sets
# PROXY_PORT and PROXY_PID.
start_proxy() {
    rm -f "$TEST_TMP/proxy.port"
    python3 "$TEST_TMP/proxy.py" "$TEST_TMP/proxy.port" "$PORT" "$1" "$2" &
    PROXY_PID=$!
    if ! wait_for_file "$TEST_TMP/proxy.port" 10; then
        echo "the proxy did not start within 10 s"
        return 1
    fi
    PROXY_PORT=$(cat "$TEST_TMP/proxy.port")
}

# True when `cairn instances --json` lists the SOP Instance UID.
instance_indexed() {
    "$CAIRN" --config "$TEST_TMP/cairn.conf" instances --json >"$TEST_TMP/instances.json" 2>&1 &&
        grep -q "\"$1\"" "$TEST_TMP/instances.json"
}

# The idle client: sends an A-ASSOCIATE-RQ for Verification, creates
# MARKER when the A-ASSOCIATE-AC arrives, then waits at most 60 s and
# prints what came next ("abort", "closed", "pdu-N" or "timeout") and the
# wall-clock time in milliseconds when it came.
cat > "$TEST_TMP/idle_client.py" <<'PY'
import socket, struct, sys, time

port, marker = int(sys.argv[1]), sys.argv[2]

def item(kind, body):
    return struct.pack(">BBH", kind, 0, len(body)) + body

def uid(kind, value):
    return item(kind, value.encode("ascii"))

context = item(0x20, bytes([1, 0, 0, 0]) + uid(0x30, "1.2.840.10008.1.1")
               + uid(0x40, "1.2.840.10008.1.2"))
user_info = item(0x50, item(0x51, struct.pack(">I", 16384))
                 + uid(0x52, "1.2.826.0.1.3680043.9.7433.4"))
body = (struct.pack(">HH", 1, 0) + b"CAIRN".ljust(16) + b"IDLECLIENT".ljust(16) + b"\0" * 32
        + uid(0x10, "1.2.840.10008.3.1.1.1") + context + user_info)
pdu = struct.pack(">BBI", 0x01, 0, len(body)) + body

s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(pdu)
header = s.recv(6)
if len(header) < 1 or header[0] != 0x02:
    print("no-accept %r" % header[:1])
    sys.exit(1)
length = struct.unpack(">I", header[2:6])[0] if len(header) == 6 else 0
remaining = length
while remaining > 0:
    chunk = s.recv(remaining)
    if not chunk:
        break
    remaining -= len(chunk)
open(marker, "w").close()

s.settimeout(60)
try:
    data = s.recv(16)
except socket.timeout:
    print("timeout")
    sys.exit(0)
except ConnectionResetError:
    data = b""
when = int(time.time() * 1000)
if not data:
    print("closed %d" % when)
elif data[0] == 0x07:
    print("abort %d" % when)
else:
    print("pdu-%d %d" % (data[0], when))
PY

# ---------------------------------------------------------------------------
# 1. SIGTERM while idle: exit 0 within 2 s, and "cairnd stopped" in the log.
PORT=$(free_port)
write_config "shutdown_timeout = 10;"
start_cairnd || { fail "cairnd starts"; finish; exit 1; }
term_and_wait 20
check "idle cairnd exits 0 after SIGTERM (status $STOP_RC)" test "$STOP_RC" -eq 0
check "idle cairnd exits within 2 s of SIGTERM (${STOP_MS} ms)" test "$STOP_MS" -le 2000
check "the log says cairnd stopped" grep -q "cairnd stopped" "$TEST_TMP/cairnd.log"

# ---------------------------------------------------------------------------
# 2. SIGTERM with an open, idle association: the peer gets A-ABORT or a
# closed connection at once, and cairnd exits within shutdown_timeout + 2 s.
SHUTDOWN_TIMEOUT=5
write_config "shutdown_timeout = $SHUTDOWN_TIMEOUT;"
: > "$TEST_TMP/cairnd.log"
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
rm -f "$TEST_TMP/associated"
timeout 90 python3 "$TEST_TMP/idle_client.py" "$PORT" "$TEST_TMP/associated" \
    > "$TEST_TMP/idle_client.out" 2>&1 &
client_pid=$!
if wait_for_file "$TEST_TMP/associated" 10; then
    pass "idle client's association is accepted"
else
    fail "idle client's association is accepted: $(cat "$TEST_TMP/idle_client.out")"
fi
sleep 0.5
term_ms=$(now_ms)
term_and_wait 30
wait "$client_pid"
client_event="" client_ms=""
read -r client_event client_ms < "$TEST_TMP/idle_client.out"
case "$client_event" in
abort | closed) pass "idle association ends with $client_event after SIGTERM" ;;
*) fail "idle association ends with A-ABORT or close (got: $(cat "$TEST_TMP/idle_client.out"))" ;;
esac
if [ -n "${client_ms:-}" ]; then
    delay=$((client_ms - term_ms))
    check "idle association ends within 2 s of SIGTERM (${delay} ms)" test "$delay" -le 2000
fi
check "cairnd exits 0 with an idle association (status $STOP_RC)" test "$STOP_RC" -eq 0
check "cairnd exits within shutdown_timeout + 2 s (${STOP_MS} ms)" \
    test "$STOP_MS" -le $(((SHUTDOWN_TIMEOUT + 2) * 1000))

# ---------------------------------------------------------------------------
# 3. SIGTERM during a 100 MB C-STORE with shutdown_timeout = 30: the
# C-STORE completes with Success, the instance is indexed, cairnd exits 0.
make_big_instance "$TEST_TMP/big.dcm" "$BIG_INSTANCE_UID"
make_big_instance "$TEST_TMP/slow.dcm" "$SLOW_INSTANCE_UID"
check "the 100 MB test instances are written" \
    test "$(stat -c %s "$TEST_TMP/big.dcm")" -gt 100000000

write_config "shutdown_timeout = 30;"
: > "$TEST_TMP/cairnd.log"
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
# 25 MB/s: the transfer takes about 4 s.
start_proxy 25000000 120 || { fail "proxy starts"; finish; exit 1; }
timeout 120 storescu -v -aec CAIRN -to 30 -ta 30 -td 60 127.0.0.1 "$PROXY_PORT" \
    "$TEST_TMP/big.dcm" > "$TEST_TMP/storescu-big.out" 2>&1 &
store_pid=$!
if wait_for_partial 10000000 30; then
    pass "the large C-STORE is in progress before SIGTERM"
else
    fail "the large C-STORE is in progress before SIGTERM"
fi
term_and_wait 60
wait "$store_pid"
wait "$PROXY_PID" 2>/dev/null
if grep -q "Received Store Response (Success)" "$TEST_TMP/storescu-big.out"; then
    pass "in-flight C-STORE completes with Success"
else
    fail "in-flight C-STORE completes with Success; storescu output:"
    tail -n 15 "$TEST_TMP/storescu-big.out"
fi
check "cairnd exits 0 after finishing the C-STORE (status $STOP_RC)" test "$STOP_RC" -eq 0
check "cairnd waits no longer than shutdown_timeout (${STOP_MS} ms)" test "$STOP_MS" -le 32000
check "the large instance is indexed" instance_indexed "$BIG_INSTANCE_UID"
check "cairn check passes after the large C-STORE" \
    "$CAIRN" --config "$TEST_TMP/cairn.conf" check

# ---------------------------------------------------------------------------
# 4. SIGTERM during a slow C-STORE with shutdown_timeout = 1: the
# association ends without a response, nothing half-written becomes visible, and the
# archive is consistent after a restart.
write_config "shutdown_timeout = 1;"
: > "$TEST_TMP/cairnd.log"
start_cairnd || { fail "cairnd restarts"; finish; exit 1; }
# 2 MB/s: the transfer would take about 50 s.
start_proxy 2000000 120 || { fail "proxy starts"; finish; exit 1; }
timeout 120 storescu -v -aec CAIRN -to 30 -ta 30 -td 60 127.0.0.1 "$PROXY_PORT" \
    "$TEST_TMP/slow.dcm" > "$TEST_TMP/storescu-slow.out" 2>&1 &
store_pid=$!
if wait_for_partial 2000000 30; then
    pass "the slow C-STORE is in progress before SIGTERM"
else
    fail "the slow C-STORE is in progress before SIGTERM"
fi
term_and_wait 30
wait "$store_pid"
store_rc=$?
wait "$PROXY_PID" 2>/dev/null
check "storescu reports the slow C-STORE failed (status $store_rc)" test "$store_rc" -ne 0
if grep -q "Received Store Response (Success)" "$TEST_TMP/storescu-slow.out"; then
    fail "the aborted C-STORE got no Success response"
else
    pass "the aborted C-STORE got no Success response"
fi
check "cairnd exits 0 after aborting the slow C-STORE (status $STOP_RC)" test "$STOP_RC" -eq 0
# A busy association gets the whole shutdown_timeout (1 s) before its reads
# are interrupted, and the daemon then needs little more than that.
check "cairnd waits shutdown_timeout for the busy association (${STOP_MS} ms)" \
    test "$STOP_MS" -ge 900
check "cairnd exits within shutdown_timeout + 2 s (${STOP_MS} ms)" test "$STOP_MS" -le 3000
check "the log shows the busy association was interrupted" \
    grep -q "still busy" "$TEST_TMP/cairnd.log"

start_cairnd || { fail "cairnd restarts after the aborted C-STORE"; finish; exit 1; }
if instance_indexed "$SLOW_INSTANCE_UID"; then
    fail "the aborted instance is not indexed"
else
    pass "the aborted instance is not indexed"
fi
check "the large instance of step 3 is still indexed" instance_indexed "$BIG_INSTANCE_UID"
check "cairn check passes after the restart" "$CAIRN" --config "$TEST_TMP/cairn.conf" check
stop_cairnd

check_no_sanitizer_report
finish
