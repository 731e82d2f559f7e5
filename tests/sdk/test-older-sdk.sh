#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Loads the plugin built against tests/sdk/older-sdk (a shorter host API
# table than the current one) into the current cairnd: the configuration
# check must pass, and a C-ECHO to an AE served only by that plugin must
# succeed and reach its handler.
#
# Usage: test-older-sdk.sh CAIRND PLUGIN.so

set -u

CAIRND=${1:?usage: $0 CAIRND PLUGIN.so}
PLUGIN=${2:?usage: $0 CAIRND PLUGIN.so}
command -v echoscu >/dev/null 2>&1 || { echo "skipped: echoscu not found"; exit 77; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-older-sdk.XXXXXX")
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$WORK/cairn.conf" <<CONF
storage = { path = "$WORK/storage"; };
index = { plugin = "index-sqlite"; };
plugin_directory = "$(dirname "$CAIRND")/../plugins";
plugins = {
  index-sqlite = { };
  older-sdk = { file = "$PLUGIN"; greeting = "from an older SDK"; };
};
aes = ( { title = "OLDER"; port = $PORT; bind = "127.0.0.1"; plugins = [ "older-sdk" ]; } );
api = { enabled = false; };
CONF

if ! "$CAIRND" --check-config --config "$WORK/cairn.conf" > "$WORK/check.log" 2>&1; then
    cat "$WORK/check.log"
    echo "FAILED: cairnd --check-config rejected the older-SDK plugin"
    exit 1
fi

"$CAIRND" --config "$WORK/cairn.conf" > "$WORK/cairnd.log" 2>&1 &
PID=$!
ok=0
for _ in $(seq 1 100); do
    if echoscu -aec OLDER 127.0.0.1 "$PORT" >/dev/null 2>&1; then
        ok=1
        break
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
kill -TERM "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
PID=""

if [ "$ok" -ne 1 ]; then
    cat "$WORK/cairnd.log"
    echo "FAILED: no C-ECHO success from the AE served by the older-SDK plugin"
    exit 1
fi
if ! grep -q "C-ECHO answered: from an older SDK" "$WORK/cairnd.log"; then
    cat "$WORK/cairnd.log"
    echo "FAILED: the older-SDK plugin's handler did not answer the C-ECHO"
    exit 1
fi
grep "built with a host API table" "$WORK/cairnd.log" | sed 's/^.*older-sdk: //'
echo "older-SDK plugin loaded and answered C-ECHO"
