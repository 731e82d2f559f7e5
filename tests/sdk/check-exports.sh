#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Checks that each plugin exports cairn_plugin_entry and no other symbol,
# as the SDK requires (plugins build with -fvisibility=hidden). Arguments
# are plugin files or folders; a folder stands for every *.so directly in
# it. Lists each extra symbol as "FILE exports SYMBOL".
#
# Exit status: 0 when every plugin passes, 1 when one fails, 2 on a usage
# or tool error, 77 when the arguments name no plugin at all (ctest reads
# 77 as "skipped").

set -u

if [ "$#" -eq 0 ]; then
    echo "usage: $0 PLUGIN.so|FOLDER..." >&2
    exit 2
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "$0: nm not found; install binutils" >&2
    exit 2
fi

# Symbols the toolchain adds to every shared object.
allowed='^(cairn_plugin_entry|_init|_fini|_edata|_end|__bss_start|__end__|_bss_end__|__bss_end__|__bss_start__)$'

checked=0
failed=0

check_plugin() {
    plugin=$1
    symbols=$(nm -D --defined-only "$plugin" 2>&1) || {
        echo "$plugin: nm failed: $symbols" >&2
        failed=1
        return
    }
    checked=$((checked + 1))

    names=$(printf '%s\n' "$symbols" | awk 'NF >= 2 { print $NF }')
    if ! printf '%s\n' "$names" | grep -qx 'cairn_plugin_entry'; then
        echo "$plugin does not export cairn_plugin_entry"
        failed=1
    fi
    for name in $(printf '%s\n' "$names" | grep -Ev "$allowed"); do
        echo "$plugin exports $name; only cairn_plugin_entry may be exported"
        failed=1
    done
}

for arg in "$@"; do
    if [ -d "$arg" ]; then
        for plugin in "$arg"/*.so; do
            [ -e "$plugin" ] && check_plugin "$plugin"
        done
    elif [ -e "$arg" ]; then
        check_plugin "$arg"
    else
        # A plugin folder not built yet has no plugin to check.
        echo "$arg: no such file or folder" >&2
    fi
done

if [ "$failed" -ne 0 ]; then
    exit 1
fi
if [ "$checked" -eq 0 ]; then
    echo "no plugin found in: $*"
    exit 77
fi
echo "$checked plugin(s) export only cairn_plugin_entry"
