#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds Cairn twice and runs every test against each build:
#   build-test: RelWithDebInfo, warnings are errors;
#   build-asan: AddressSanitizer and UndefinedBehaviorSanitizer.
# Unit tests (cmocka) and interop tests (real DICOM peers against a real
# cairnd) run through ctest. Exits non-zero on the first failing build.
#
# Usage: tests/run.sh [ctest arguments, e.g. -R interop]

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

run_build() {
    local dir=$1
    shift

    echo "=== $dir: configure and build"
    cmake -S "$root" -B "$root/$dir" -DCAIRN_WERROR=ON "$@" >/dev/null
    cmake --build "$root/$dir" -j"$jobs"

    echo "=== $dir: ctest"
    ctest --test-dir "$root/$dir" --output-on-failure "${ctest_args[@]}"
}

ctest_args=("$@")

run_build build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Interop tests scan cairnd's log for sanitizer reports, leaks included.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCAIRN_SANITIZE=ON
