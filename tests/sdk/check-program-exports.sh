#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Checks that programs (cairnd, cairn) export no symbol of their own, so
# that no plugin can bind to a core function: plugins reach the core only
# through the host API table. Allowed are the markers the linker adds and
# the copy-relocated variables of versioned libraries (NAME@LIB_VERSION,
# such as stderr@GLIBC_2.2.5). Lists each extra symbol as
# "FILE exports SYMBOL".
#
# Usage: check-program-exports.sh PROGRAM...
# Exit status: 0 when every program passes, 1 when one fails, 2 on error.

set -u

[ "$#" -gt 0 ] || { echo "usage: $0 PROGRAM..." >&2; exit 2; }
command -v nm >/dev/null 2>&1 || { echo "$0: nm not found; install binutils" >&2; exit 2; }

allowed='^(_init|_fini|_edata|_end|__bss_start|__data_start|data_start|_IO_stdin_used|__dso_handle)$'
failed=0

for program in "$@"; do
    symbols=$(nm -D --defined-only "$program" 2>&1) || {
        echo "$program: nm failed: $symbols" >&2
        exit 2
    }
    for name in $(printf '%s\n' "$symbols" | awk 'NF >= 2 { print $NF }' | grep -v '@' |
                  grep -Ev "$allowed"); do
        echo "$program exports $name; programs must export nothing of their own"
        failed=1
    done
done

[ "$failed" -eq 0 ] && echo "$# program(s) export no symbol of their own"
exit "$failed"
