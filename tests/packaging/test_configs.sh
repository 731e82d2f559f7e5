#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs cairnd --check-config on every configuration shipped in etc/, with
# the plugins of this build: the default single-AE configuration, the one
# with every AE of the reference archive, and the PostgreSQL example (only
# when the index-postgresql plugin was built; the check never connects to
# the database).
#
# Usage: test_configs.sh CAIRND PLUGIN_DIR ETC_DIR

set -u

CAIRND=${1:?usage: $0 CAIRND PLUGIN_DIR ETC_DIR}
PLUGIN_DIR=${2:?usage: $0 CAIRND PLUGIN_DIR ETC_DIR}
ETC_DIR=${3:?usage: $0 CAIRND PLUGIN_DIR ETC_DIR}
PLUGIN_DIR=$(cd "$PLUGIN_DIR" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-configs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
CHECKED=0

for config in "$ETC_DIR"/*.conf; do
    name=${config##*/}
    plugin=$(sed -n 's/^ *plugin = "\([^"]*\)";.*/\1/p' "$config" | head -n 1)
    if [ -n "$plugin" ] && [ ! -f "$PLUGIN_DIR/$plugin.so" ]; then
        echo "skipped: $name (index plugin $plugin.so not built)"
        continue
    fi

    # The shipped files use the installed plugin folder; this build's
    # plugins are elsewhere. The files leave plugin_directory unset.
    if grep -q '^ *plugin_directory' "$config"; then
        echo "FAILED: $name sets plugin_directory; shipped files must use the built-in folder"
        FAILED=1
        continue
    fi
    { echo "plugin_directory = \"$PLUGIN_DIR\";"; cat "$config"; } > "$WORK/$name"

    CHECKED=$((CHECKED + 1))
    if "$CAIRND" --check-config --config "$WORK/$name" > "$WORK/$name.log" 2>&1 &&
        ! grep -q "ERROR" "$WORK/$name.log"; then
        echo "ok: $name"
    else
        cat "$WORK/$name.log"
        echo "FAILED: $name does not pass cairnd --check-config without errors"
        FAILED=1
    fi
done

[ "$CHECKED" -gt 0 ] || { echo "FAILED: no configuration checked in $ETC_DIR"; exit 1; }
exit "$FAILED"
