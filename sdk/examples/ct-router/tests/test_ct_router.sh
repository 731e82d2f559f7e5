#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Test of the ct-router sample against a real cairnd. It starts the daemon
# with the plugin and the bundled storage plugin, and a DCMTK storescp as
# the destination. It sends one MR and then one CT image with storescu and
# checks that only the CT reached the destination, that both were archived,
# and that cairnd stops cleanly. It also checks that cairnd --check-config
# rejects a section without destination.
#
# Usage: test_ct_router.sh CAIRND PLUGIN_DIR CT_ROUTER_SO
# Needs: DCMTK (echoscu, storescu, storescp, dcmdump), python3 and the
# sample files of python3-pydicom. Exits 77 (skipped) when one is missing.

set -u

CAIRND=${1:?usage: $0 CAIRND PLUGIN_DIR CT_ROUTER_SO}
PLUGIN_DIR=${2:?usage: $0 CAIRND PLUGIN_DIR CT_ROUTER_SO}
ROUTER_SO=${3:?usage: $0 CAIRND PLUGIN_DIR CT_ROUTER_SO}
DATA=${PYDICOM_DATA:-/usr/lib/python3/dist-packages/pydicom/data}/test_files
CT_FILE=$DATA/CT_small.dcm
MR_FILE=$DATA/MR_small.dcm

for tool in echoscu storescu storescp dcmdump python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "skipped: $tool not found"; exit 77; }
done
for f in "$CT_FILE" "$MR_FILE"; do
    [ -f "$f" ] || { echo "skipped: $f not found (install python3-pydicom)"; exit 77; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ct-router-test.XXXXXX")
CAIRND_PID=""
STORESCP_PID=""
FAILED=0

cleanup() {
    [ -n "$CAIRND_PID" ] && kill -TERM "$CAIRND_PID" 2>/dev/null && wait "$CAIRND_PID" 2>/dev/null
    [ -n "$STORESCP_PID" ] && kill -TERM "$STORESCP_PID" 2>/dev/null && wait "$STORESCP_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAILED: $*"
    FAILED=1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# write_config FILE ROUTER_SETTINGS
write_config() {
    cat > "$1" <<CONF
log = { level = "info"; };
storage = { path = "$WORK/storage"; };
index = { plugin = "index-sqlite"; };
plugin_directory = "$PLUGIN_DIR";
plugins = {
  verification = { };
  storage = { };
  index-sqlite = { };
  ct-router = { file = "$ROUTER_SO"; $2 };
};
aes = (
  { title = "ROUTER"; port = $PORT; bind = "127.0.0.1";
    plugins = [ "verification", "storage" ]; }
);
remotes = (
  { title = "CTVIEWER"; host = "127.0.0.1"; port = $DEST_PORT; }
);
api = { enabled = false; };
CONF
}

PORT=$(free_port)
DEST_PORT=$(free_port)
mkdir -p "$WORK/received"

# A section without destination must fail the configuration check.
write_config "$WORK/bad.conf" ""
if "$CAIRND" --check-config --config "$WORK/bad.conf" > "$WORK/bad.log" 2>&1; then
    fail "check-config accepted ct-router without destination"
elif ! grep -q "plugins.ct-router.destination" "$WORK/bad.log"; then
    fail "check-config did not name plugins.ct-router.destination:"
    cat "$WORK/bad.log"
fi

write_config "$WORK/cairn.conf" 'destination = "CTVIEWER"; calling_ae = "ROUTER";'
"$CAIRND" --check-config --config "$WORK/cairn.conf" > "$WORK/check.log" 2>&1 ||
    { cat "$WORK/check.log"; fail "check-config rejected the test configuration"; }

storescp -aet CTVIEWER -od "$WORK/received" "$DEST_PORT" > "$WORK/storescp.log" 2>&1 &
STORESCP_PID=$!
"$CAIRND" --config "$WORK/cairn.conf" > "$WORK/cairnd.log" 2>&1 &
CAIRND_PID=$!

# Both must answer C-ECHO within 10 s.
ready=0
for _ in $(seq 1 100); do
    if echoscu -aec ROUTER 127.0.0.1 "$PORT" >/dev/null 2>&1 &&
        echoscu -aec CTVIEWER 127.0.0.1 "$DEST_PORT" >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ "$ready" -ne 1 ]; then
    cat "$WORK/cairnd.log"
    echo "FAILED: cairnd or storescp did not answer C-ECHO within 10 s"
    exit 1
fi

# The MR goes first: the router sends in the order images were stored, so
# once the CT has arrived, a wrongly forwarded MR would have arrived too.
storescu -aec ROUTER 127.0.0.1 "$PORT" "$MR_FILE" "$CT_FILE" > "$WORK/storescu.log" 2>&1 ||
    { cat "$WORK/storescu.log"; fail "storescu to ROUTER failed"; }

# The router's worker forwards in the background; wait at most 10 s.
received=""
for _ in $(seq 1 100); do
    received=$(find "$WORK/received" -type f | head -n 1)
    [ -n "$received" ] && break
    sleep 0.1
done
if [ -z "$received" ]; then
    fail "the CT image did not reach CTVIEWER"
else
    modality=$(dcmdump +P 0008,0060 "$received" | sed -n 's/.*\[\(.*\)\].*/\1/p')
    [ "$modality" = "CT" ] || fail "CTVIEWER received modality '$modality', expected CT"
fi
count=$(find "$WORK/received" -type f | wc -l)
[ "$count" -eq 1 ] || fail "CTVIEWER received $count files, expected only the CT"

grep -q "forwarded to CTVIEWER" "$WORK/cairnd.log" || fail "cairnd log lacks 'forwarded to CTVIEWER'"
archived=$(find "$WORK/storage" -type f -name '*.dcm' | wc -l)
[ "$archived" -eq 2 ] || fail "the archive holds $archived files, expected 2 (CT and MR)"

kill -TERM "$CAIRND_PID"
wait "$CAIRND_PID"
status=$?
CAIRND_PID=""
[ "$status" -eq 0 ] || fail "cairnd exited with status $status after SIGTERM"
grep -q "ERROR" "$WORK/cairnd.log" && fail "cairnd logged errors"

if [ "$FAILED" -ne 0 ]; then
    echo "--- cairnd log"
    cat "$WORK/cairnd.log"
    exit 1
fi
echo "ct-router: CT forwarded, MR archived only, clean stop, bad configuration rejected"
