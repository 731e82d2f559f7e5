#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Tests sdk/abi/check-abi.sh on copies of the SDK headers: each
# deliberately broken copy must fail the check and name the change, and
# each compatible change must pass. The copies drop the headers' size
# asserts, which would otherwise stop the compile before the ABI check.
#
# Usage: test-abi-check.sh SOURCE_DIR

set -u

ROOT=${1:?usage: $0 SOURCE_DIR}
CHECK=$ROOT/sdk/abi/check-abi.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-abi-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# copy NAME: fresh copy of the headers in $WORK/NAME/cairn.
copy() {
    mkdir -p "$WORK/$1"
    cp -r "$ROOT/sdk/include/cairn" "$WORK/$1/"
    sed -i '/CAIRN_STATIC_ASSERT(sizeof/d' "$WORK/$1/cairn/"*.h
}

# expect NAME STATUS [TEXT]: runs the check on copy NAME and compares.
expect() {
    sh "$CHECK" --include "$WORK/$1" > "$WORK/$1.log" 2>&1
    status=$?
    if [ "$status" -ne "$2" ]; then
        echo "FAILED: $1: check-abi.sh exited $status, expected $2"
        cat "$WORK/$1.log"
        FAILED=1
    elif [ -n "${3:-}" ] && ! grep -qF "$3" "$WORK/$1.log"; then
        echo "FAILED: $1: the report does not contain: $3"
        cat "$WORK/$1.log"
        FAILED=1
    else
        echo "ok: $1 (exit $status)"
    fi
}

# Swaps two lines of a file, given as fixed strings.
swap_lines() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
path, first, second = sys.argv[1:4]
text = open(path).read()
assert first in text and second in text, "lines to swap not found"
text = text.replace(first, "\0").replace(second, first).replace("\0", second)
open(path, "w").write(text)
PY
}

copy unchanged
expect unchanged 0

# Incompatible: two host API entries swapped.
copy reordered
swap_lines "$WORK/reordered/cairn/plugin.h" "    void *(*alloc)(size_t size);" \
    "    void (*free)(void *ptr);"
expect reordered 1 "struct cairn_host_api: member alloc at byte 8 is now free"

# Incompatible: a released enumerator renumbered.
copy renumbered
sed -i 's/CAIRN_ERR_IO = 5,/CAIRN_ERR_IO = 50,/' "$WORK/renumbered/cairn/status.h"
expect renumbered 1 "enum cairn_status: CAIRN_ERR_IO changed from 5 to 50"

# Incompatible: a member removed from the middle of a struct.
copy removed
sed -i '/^    uint32_t roles;$/d' "$WORK/removed/cairn/service.h"
expect removed 1 "struct cairn_service: member roles"

# Incompatible: a member's type changed, size kept.
copy retyped
sed -i 's/^    uint32_t roles;$/    int32_t roles;/' "$WORK/retyped/cairn/service.h"
expect retyped 1 "member roles changed type from uint32_t to int32_t"

# Incompatible: a constant macro's value changed.
copy constant
sed -i 's/^#define CAIRN_ROLE_SCU 0x2u/#define CAIRN_ROLE_SCU 0x4u/' "$WORK/constant/cairn/service.h"
expect constant 1 "constant CAIRN_ROLE_SCU changed from 2 to 4"

# Compatible: a constant macro added.
copy new_constant
sed -i 's/^#define CAIRN_ROLE_SCU 0x2u/&\n#define CAIRN_ROLE_ADDED_FOR_TEST 0x8u/' \
    "$WORK/new_constant/cairn/service.h"
expect new_constant 0

# Compatible: an entry appended to the host API table.
copy appended
python3 - "$WORK/appended/cairn/plugin.h" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
end = text.index("};", text.index("struct cairn_host_api {"))
text = text[:end] + "    void (*appended_for_test)(void);\n" + text[end:]
open(path, "w").write(text)
PY
expect appended 0

# Compatible: an enumerator added.
copy enumerator
sed -i 's/^    CAIRN_STATUS_SENTINEL_ = 0x7fffffff/    CAIRN_ERR_ADDED_FOR_TEST = 1000,\n&/' \
    "$WORK/enumerator/cairn/status.h"
expect enumerator 0

# Allowed: an incompatible change with the major version raised.
copy major
sed -i 's/CAIRN_ERR_IO = 5,/CAIRN_ERR_IO = 50,/' "$WORK/major/cairn/status.h"
sed -i 's/^#define CAIRN_SDK_ABI_MAJOR \([0-9]*\)/#define CAIRN_SDK_ABI_MAJOR 99/' \
    "$WORK/major/cairn/version.h"
expect major 0 "incompatible changes are allowed"

exit "$FAILED"
