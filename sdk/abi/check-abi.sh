#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Checks the plugin SDK's ABI against the committed baseline, or writes a
# new baseline. It builds abi_probe.c (which names every SDK type) into a
# shared object with debug information, describes it with abidw and
# compares that with sdk/abi/cairn-sdk-abi-MAJOR.xml: compare-abi.py applies
# the SDK's rules (members appended to a struct and enumerators added to an
# enum are compatible, anything else is not), and abidiff's report shows
# the details of a failure. constants.py does the same for the values of
# the constant macros, against sdk/abi/cairn-sdk-constants-MAJOR.txt.
#
# Usage:
#   check-abi.sh                 check sdk/include against the baseline
#   check-abi.sh --include DIR   check the headers in DIR/cairn instead
#   check-abi.sh --update        write the baseline from sdk/include
#
# Exit status: 0 compatible (or CAIRN_SDK_ABI_MAJOR raised above the
# baseline's major, which allows any change), 1 incompatible change, 2
# usage or tool error. Needs a C compiler, python3 and abigail-tools.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
include_dir=$root/sdk/include
update=0

while [ "$#" -gt 0 ]; do
    case "$1" in
    --include)
        [ "$#" -ge 2 ] || { echo "check-abi: --include needs a folder" >&2; exit 2; }
        include_dir=$2
        shift 2
        ;;
    --update)
        update=1
        shift
        ;;
    *)
        echo "usage: $0 [--include DIR | --update]" >&2
        exit 2
        ;;
    esac
done

for tool in abidw abidiff python3 "${CC:-cc}"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "check-abi: $tool not found (install abigail-tools and a C compiler)" >&2
        exit 2
    }
done

major=$(sed -n 's/^#define CAIRN_SDK_ABI_MAJOR \([0-9][0-9]*\).*/\1/p' "$include_dir/cairn/version.h")
if [ -z "$major" ]; then
    echo "check-abi: no CAIRN_SDK_ABI_MAJOR in $include_dir/cairn/version.h" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT

# -fno-eliminate-unused-debug-types keeps types only macros or other types
# mention; -O0 keeps every parameter in the debug information.
if ! "${CC:-cc}" -std=c11 -g -O0 -fno-eliminate-unused-debug-types -fPIC -shared \
    -I"$include_dir" -o "$work/probe.so" "$here/abi_probe.c" 2>"$work/cc.log"; then
    cat "$work/cc.log"
    echo "check-abi: the probe does not compile against $include_dir; a public type" \
        "was removed, renamed or broken, which is an incompatible change" >&2
    exit 1
fi

# No paths or line numbers, so the baseline changes only with the ABI.
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --type-id-style hash \
    --out-file "$work/current.xml" "$work/probe.so" || {
    echo "check-abi: abidw failed" >&2
    exit 2
}

# Constant macros are compiled into plugins too, and abidw does not see them.
python3 "$here/constants.py" dump "$include_dir" > "$work/constants.txt" || {
    echo "check-abi: constants.py failed" >&2
    exit 2
}

if [ "$update" -eq 1 ]; then
    rm -f "$here"/cairn-sdk-abi-*.xml "$here"/cairn-sdk-constants-*.txt
    cp "$work/current.xml" "$here/cairn-sdk-abi-$major.xml"
    cp "$work/constants.txt" "$here/cairn-sdk-constants-$major.txt"
    echo "check-abi: wrote $here/cairn-sdk-abi-$major.xml and cairn-sdk-constants-$major.txt"
    exit 0
fi

baseline=$(ls "$here"/cairn-sdk-abi-*.xml 2>/dev/null | head -n 1)
if [ -z "$baseline" ]; then
    echo "check-abi: no baseline in $here; create it with $0 --update" >&2
    exit 2
fi
baseline_major=$(basename "$baseline" | sed 's/^cairn-sdk-abi-\([0-9]*\)\.xml$/\1/')

if [ "$major" -gt "$baseline_major" ]; then
    echo "check-abi: CAIRN_SDK_ABI_MAJOR is $major, the baseline's is $baseline_major:" \
        "incompatible changes are allowed; run $0 --update to record the new ABI"
    exit 0
fi
if [ "$major" -lt "$baseline_major" ]; then
    echo "check-abi: CAIRN_SDK_ABI_MAJOR is $major, lower than the baseline's" \
        "$baseline_major; a major version never goes back" >&2
    exit 1
fi

python3 "$here/compare-abi.py" "$baseline" "$work/current.xml" > "$work/problems.txt"
status=$?
if [ "$status" -le 1 ]; then
    python3 "$here/constants.py" compare "$here/cairn-sdk-constants-$baseline_major.txt" \
        "$work/constants.txt" >> "$work/problems.txt"
    constants_status=$?
    [ "$constants_status" -gt "$status" ] && status=$constants_status
fi
if [ "$status" -eq 0 ]; then
    echo "check-abi: the SDK ABI is compatible with $(basename "$baseline")"
    exit 0
fi
if [ "$status" -ne 1 ]; then
    echo "check-abi: compare-abi.py failed (status $status)" >&2
    exit 2
fi

# abidiff's report shows where each change sits; the verdict is compare-abi.py's.
if [ -s "$work/problems.txt" ] && ! grep -qv '^constant ' "$work/problems.txt"; then
    : # only constants changed; abidiff has nothing to show
else
    echo "--- abidiff report"
    abidiff "$baseline" "$work/current.xml"
fi
echo "--- incompatible changes"
cat "$work/problems.txt"
echo "check-abi: incompatible change to the SDK ABI. Keep public structs append-only" \
    "and enumerator and constant values fixed, or raise CAIRN_SDK_ABI_MAJOR on purpose" \
    "and run $0 --update." >&2
exit 1
