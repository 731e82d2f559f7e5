#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the RPM packages from packaging/rpm/cairn.spec with rpmbuild (not
# installed: this runs on Debian) and checks what each package holds: the
# split, the configuration marked %config(noreplace) and readable by the
# cairn group only, the unit, and the data folder owned by cairn.
#
# Usage: test_rpm.sh SOURCE_DIR WORK_DIR
# Exit status: 0 passed, 1 failed, 77 skipped (rpmbuild missing).

set -u

ROOT=${1:?usage: $0 SOURCE_DIR WORK_DIR}
WORK=${2:?usage: $0 SOURCE_DIR WORK_DIR}
command -v rpmbuild >/dev/null 2>&1 || { echo "skipped: rpmbuild not found (apt-get install rpm)"; exit 77; }
FAILED=0

fail() {
    echo "FAILED: $*"
    FAILED=1
}

rm -rf "$WORK"
if ! bash "$ROOT/packaging/build-packages.sh" --rpm-only "$WORK" > "$WORK.log" 2>&1; then
    cat "$WORK.log"
    echo "FAILED: packaging/build-packages.sh --rpm-only"
    exit 1
fi
rpms=$(find "$WORK/rpmbuild/RPMS" -name '*.rpm' | sort)
echo "built:" $(basename -a $rpms)

main=$(printf '%s\n' "$rpms" | grep '/cairn-[0-9]')
devel=$(printf '%s\n' "$rpms" | grep '/cairn-devel-')
[ -n "$main" ] || { fail "no cairn RPM"; exit 1; }
[ -n "$devel" ] || { fail "no cairn-devel RPM"; exit 1; }

# listing RPM: "path mode owner group" per file.
listing() {
    rpm -qp --queryformat '[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME}\n]' \
        "$1" 2>/dev/null
}

main_files=$(listing "$main")
for path in /usr/sbin/cairnd /usr/bin/cairn /usr/lib/systemd/system/cairn.service \
    /usr/lib/sysusers.d/cairn.conf /usr/lib64/cairn/plugins/index-sqlite.so; do
    printf '%s\n' "$main_files" | grep -q "^$path " || fail "cairn RPM lacks $path"
done
printf '%s\n' "$main_files" | grep -q "^/etc/cairn/cairn.conf 100640 root cairn$" ||
    fail "/etc/cairn/cairn.conf is not 0640 root:cairn in the cairn RPM"
printf '%s\n' "$main_files" | grep -q "^/var/lib/cairn 40750 cairn cairn$" ||
    fail "/var/lib/cairn is not 0750 cairn:cairn in the cairn RPM"
printf '%s\n' "$main_files" | grep -q "include/cairn\|index-postgresql" &&
    fail "the cairn RPM holds SDK headers or the PostgreSQL plugin"
rpm -qp --configfiles "$main" 2>/dev/null | grep -qx /etc/cairn/cairn.conf ||
    fail "/etc/cairn/cairn.conf is not a config file of the cairn RPM"
rpm -qp --scripts "$main" 2>/dev/null | grep -q "useradd -r -g cairn" ||
    fail "the cairn RPM does not create the cairn user"

devel_files=$(listing "$devel")
for path in /usr/include/cairn/plugin.h /usr/lib64/pkgconfig/cairn-sdk.pc \
    /usr/lib64/cmake/Cairn/CairnConfig.cmake /usr/share/cairn/sdk/examples/ct-router/ct_router.c; do
    printf '%s\n' "$devel_files" | grep -q "^$path " || fail "cairn-devel RPM lacks $path"
done
rpm -qp --provides "$devel" 2>/dev/null | grep -q "^cairn-dev = " ||
    fail "cairn-devel does not provide cairn-dev"

pg=$(printf '%s\n' "$rpms" | grep '/cairn-postgresql-' || true)
if [ -n "$pg" ]; then
    listing "$pg" | grep -q "/usr/lib64/cairn/plugins/index-postgresql.so " ||
        fail "cairn-postgresql RPM lacks the plugin"
else
    echo "note: no cairn-postgresql RPM (plugin sources or libpq missing)"
fi

[ "$FAILED" -eq 0 ] && echo "RPM packages built and checked"
exit "$FAILED"
