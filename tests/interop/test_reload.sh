#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Configuration reload on SIGHUP while an association is open. The cases
# are a valid file that adds an AE on a new port and removes another,
# files with a syntax error or an unknown key, and a change to the
# plugins, which needs a restart. echoscu from DCMTK checks what each AE
# returns afterwards. One more echoscu sends C-ECHO after C-ECHO on one
# association throughout, to check that no reload drops it.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
PORT2=$(free_port)
HOLD_PID=""
RELOADS=0
REJECTS=0

stop_hold() {
    [ -n "$HOLD_PID" ] || return 0
    kill -TERM "$HOLD_PID" 2>/dev/null
    wait "$HOLD_PID" 2>/dev/null
    HOLD_PID=""
}
trap 'stop_hold; cleanup' EXIT

# write_aes AES [EXTRA_PLUGINS]: writes the configuration of lib.sh with
# the `aes` list replaced by AES and EXTRA_PLUGINS added to `plugins`.
write_aes() {
    local aes=$1
    local extra_plugins=${2:-}
    write_config
    python3 - "$TEST_TMP/cairn.conf" "$aes" "$extra_plugins" <<'PY'
import sys

path, aes, extra_plugins = sys.argv[1:4]
text = open(path).read()
text = text[:text.index("aes = (")] + "aes = (\n" + aes + "\n);\n"
text = text.replace("  qr = { };\n", "  qr = { };\n" + extra_plugins)
open(path, "w").write(text)
PY
}

ae() {
    echo "  { title = \"$1\"; port = $2; bind = \"127.0.0.1\"; plugins = [ \"verification\", \"storage\", \"qr\" ]; }"
}

# wait_log PATTERN COUNT: waits at most 10 s until the log has COUNT lines
# matching PATTERN.
wait_log() {
    local n
    for _ in $(seq 1 100); do
        n=$(grep -c -- "$1" "$TEST_TMP/cairnd.log")
        [ "$n" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# hup_and_wait OUTCOME: sends SIGHUP and waits for the next "configuration
# reloaded" (OUTCOME ok) or "reload rejected" (OUTCOME rejected) line.
hup_and_wait() {
    kill -HUP "$CAIRND_PID"
    if [ "$1" = ok ]; then
        RELOADS=$((RELOADS + 1))
        wait_log "configuration reloaded from $TEST_TMP/cairn.conf" "$RELOADS"
    else
        REJECTS=$((REJECTS + 1))
        wait_log "reload rejected: " "$REJECTS"
    fi
}

echo_ok() {
    timeout 20 echoscu -to 5 -aec "$1" 127.0.0.1 "$2" >/dev/null 2>&1
}

# Succeeds when echoscu reports A-ASSOCIATE-RJ "called AE title not recognised".
echo_rejected_ae() {
    local out
    out=$(timeout 20 echoscu -to 5 -aec "$1" 127.0.0.1 "$2" 2>&1)
    [ $? -ne 0 ] && grep -qi "Called AE Title Not Recognized" <<<"$out"
}

# Succeeds when nothing listens on the port of 127.0.0.1.
refused() {
    python3 - "$1" <<'PY'
import socket, sys

s = socket.socket()
s.settimeout(5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
PY
}

hold_alive() {
    [ -n "$HOLD_PID" ] && kill -0 "$HOLD_PID" 2>/dev/null
}

# 1. Start with CAIRN and GONE on one port.
write_aes "$(ae CAIRN "$PORT"),
$(ae GONE "$PORT")"
start_cairnd || { finish; exit 1; }
check "GONE answers C-ECHO before the reload" echo_ok GONE "$PORT"
check "nothing listens on the second port yet" refused "$PORT2"

# An association that stays open through every reload below.
echoscu -aec CAIRN --repeat 100000000 127.0.0.1 "$PORT" >"$TEST_TMP/hold.log" 2>&1 &
HOLD_PID=$!
check "held association is accepted" wait_log "association accepted" 3

# 2. A valid file: NEW on a second port, GONE removed.
write_aes "$(ae CAIRN "$PORT"),
$(ae NEW "$PORT2")"
check "valid reload is logged" hup_and_wait ok
check "NEW answers C-ECHO on the new port" echo_ok NEW "$PORT2"
check "removed GONE is rejected as not recognised" echo_rejected_ae GONE "$PORT"
check "CAIRN still answers C-ECHO" echo_ok CAIRN "$PORT"
check "held association survives the valid reload" hold_alive

# 3. A syntax error: rejected with file and line, old configuration in force.
cp "$TEST_TMP/cairn.conf" "$TEST_TMP/good.conf"
echo "this is not libconfig" >>"$TEST_TMP/cairn.conf"
check "syntax error is rejected" hup_and_wait rejected
check "syntax error names file and line" \
    grep -q "reload rejected: $TEST_TMP/cairn.conf:[0-9]*: .*the previous configuration stays in force" \
    "$TEST_TMP/cairnd.log"
check "NEW still answers after the syntax error" echo_ok NEW "$PORT2"

# 4. An unknown key: rejected with file, line and key.
cp "$TEST_TMP/good.conf" "$TEST_TMP/cairn.conf"
echo 'colour = "blue";' >>"$TEST_TMP/cairn.conf"
check "unknown key is rejected" hup_and_wait rejected
check "unknown key error names file, line and key" \
    grep -q "reload rejected: $TEST_TMP/cairn.conf:[0-9]*: colour: unknown key" \
    "$TEST_TMP/cairnd.log"
check "NEW still answers after the unknown key" echo_ok NEW "$PORT2"

# 5. A new plugin: rejected as needing a restart.
write_aes "$(ae CAIRN "$PORT"),
$(ae NEW "$PORT2")" "  extra = { };
"
check "plugin change is rejected" hup_and_wait rejected
check "plugin change error asks for a restart" \
    grep -q "reload rejected: $TEST_TMP/cairn.conf:[0-9]*: plugins.extra: it was added; a reload cannot change it; restart cairnd" \
    "$TEST_TMP/cairnd.log"
check "NEW still answers after the plugin change" echo_ok NEW "$PORT2"

# 6. Removing the last AE of the second port closes its listener.
write_aes "$(ae CAIRN "$PORT")"
check "reload removing NEW is logged" hup_and_wait ok
check "second port is closed" refused "$PORT2"
check "CAIRN answers after NEW is removed" echo_ok CAIRN "$PORT"

check "held association survives every reload" hold_alive
check "cairnd is still running" cairnd_alive
if grep -qi "abort\|fail\|error" "$TEST_TMP/hold.log"; then
    fail "held echoscu reports an error"
    cat "$TEST_TMP/hold.log"
else
    pass "held echoscu reports no error"
fi
stop_hold
check_no_sanitizer_report
stop_cairnd
finish
