#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the Cairn packages from this checkout:
#   DEB: cairn, cairn-postgresql (when plugins/index-postgresql exists) and
#        cairn-dev, with CMake and CPack (packaging/install.cmake);
#   RPM: the same split from packaging/rpm/cairn.spec with rpmbuild.
# The packages land in BUILD_DIR/packages/ (DEB) and
# BUILD_DIR/rpmbuild/RPMS/ (RPM).
#
# Usage: packaging/build-packages.sh [--deb-only | --rpm-only] [BUILD_DIR]
#   BUILD_DIR defaults to build-pkg in the checkout.
# Needs: packaging/setup-debian.sh (cmake, dpkg-dev, rpm and the libraries).

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
want_deb=1
want_rpm=1
build_dir=""

for arg in "$@"; do
    case "$arg" in
    --deb-only) want_rpm=0 ;;
    --rpm-only) want_deb=0 ;;
    -h | --help)
        sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "build-packages: unknown option $arg (see --help)" >&2
        exit 2
        ;;
    *) build_dir=$arg ;;
    esac
done
build_dir=${build_dir:-$root/build-pkg}
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)

version=$(sed -n 's/^project(cairn VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
if [ -z "$version" ]; then
    echo "build-packages: no version in the project() line of $root/CMakeLists.txt" >&2
    exit 1
fi
# The PostgreSQL plugin builds when its sources and libpq are there, as in
# plugins/index-postgresql/CMakeLists.txt.
with_postgresql=0
if [ -f "$root/plugins/index-postgresql/CMakeLists.txt" ] && pkg-config --exists libpq; then
    with_postgresql=1
fi

build_deb() {
    echo "=== DEB: configure and build in $build_dir"
    cmake -S "$root" -B "$build_dir" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX=/usr \
        -DCMAKE_INSTALL_SYSCONFDIR=/etc \
        -DCAIRN_SYSTEMD_UNIT_DIR=/lib/systemd/system \
        -DCAIRN_SYSUSERS_DIR=/usr/lib/sysusers.d \
        -DCAIRN_TMPFILES_DIR=/usr/lib/tmpfiles.d \
        -DCAIRN_INSTALL_DEBIAN_COPYRIGHT=ON \
        -DCAIRN_WERROR=ON \
        -DCAIRN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build_dir" -j"$jobs"

    echo "=== DEB: cpack"
    rm -f "$build_dir"/packages/*.deb
    (cd "$build_dir" && cpack -G DEB >/dev/null)
    ls -1 "$build_dir"/packages/*.deb
}

# The source tarball holds the tracked files and the new ones not ignored
# by .gitignore, so that uncommitted work builds too.
make_source_tarball() {
    local sources=$1
    local name="cairn-$version"
    local list

    list=$(mktemp)
    (cd "$root" && git ls-files --cached --others --exclude-standard -z |
        while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done) > "$list"
    tar -C "$root" --null --files-from="$list" --transform "s,^,$name/," \
        -czf "$sources/$name.tar.gz"
    rm -f "$list"
}

build_rpm() {
    local top="$build_dir/rpmbuild"
    local args=()

    echo "=== RPM: rpmbuild in $top"
    rm -rf "$top"
    mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
    make_source_tarball "$top/SOURCES"
    cp "$root/packaging/rpm/cairn.spec" "$top/SPECS/"

    [ "$with_postgresql" -eq 1 ] || args+=(--without postgresql)
    # On a host without an RPM database (Debian) the build requirements
    # cannot be looked up, so they are not checked there.
    if ! rpm -q rpm >/dev/null 2>&1; then
        args+=(--nodeps)
    fi
    rpmbuild -bb "${args[@]}" \
        --define "_topdir $top" \
        --define "_smp_mflags -j$jobs" \
        --define "cairn_version $version" \
        "$top/SPECS/cairn.spec" >"$top/rpmbuild.log" 2>&1 || {
        tail -n 40 "$top/rpmbuild.log"
        echo "build-packages: rpmbuild failed; full log in $top/rpmbuild.log" >&2
        return 1
    }
    find "$top/RPMS" -name '*.rpm' | sort
}

[ "$want_deb" -eq 1 ] && build_deb
[ "$want_rpm" -eq 1 ] && build_rpm
exit 0
