#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end test of the Debian packages on this machine, which must be a
# throwaway CI root: builds them with packaging/build-packages.sh, installs
# them with dpkg -i, checks the user, the files and the unit, starts the
# installed cairnd as the cairn user with the packaged configuration (on
# free ports), runs echoscu and storescu against it, builds the sample
# plugin out of tree against the installed cairn-dev and runs its test,
# upgrades to a repacked next release whose default configuration changed
# (the site's changed file must stay), and purges the packages. The packages, and the cairn user and /var/lib/cairn when this
# test created them, are removed on every exit.
#
# Usage: test_deb.sh SOURCE_DIR WORK_DIR
# Exit status: 0 passed, 1 failed, 77 skipped (not root, a tool missing,
# or a cairn package already installed, which this test would replace).

set -u

ROOT=${1:?usage: $0 SOURCE_DIR WORK_DIR}
WORK=${2:?usage: $0 SOURCE_DIR WORK_DIR}
ROOT=$(cd "$ROOT" && pwd)
PYDICOM_FILES=${PYDICOM_DATA:-/usr/lib/python3/dist-packages/pydicom/data}/test_files
CT_FILE=$PYDICOM_FILES/CT_small.dcm
MR_FILE=$PYDICOM_FILES/MR_small.dcm
PACKAGES="cairn-dev cairn-postgresql cairn"
RUN_CONFIG=/etc/cairn/test-run.conf

PASSED=0
FAILED=0
CAIRND_PID=""
INSTALLED=0

pass() {
    PASSED=$((PASSED + 1))
    echo "ok: $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAILED: $*"
}

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

skip() {
    echo "skipped: $*"
    exit 77
}

[ "$(id -u)" -eq 0 ] || skip "installing packages needs root"
for tool in dpkg dpkg-deb dpkg-shlibdeps cpack cmake setpriv flock echoscu storescu dcmdump \
    curl python3 pkg-config nm; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (run packaging/setup-debian.sh)"
done
for f in "$CT_FILE" "$MR_FILE"; do
    [ -f "$f" ] || skip "$f not found (install python3-pydicom)"
done
# Two runs at once (two checkouts testing on one machine) would install
# and purge the same packages under each other, so they take turns.
exec 9>/run/lock/cairn-packaging-test.lock
if ! flock -w 300 9; then
    echo "FAILED: another packaging test held /run/lock/cairn-packaging-test.lock for 300 s"
    exit 1
fi
# A run killed before its cleanup (a ctest timeout) leaves this marker and
# its packages; those are removed here rather than mistaken for a site's.
MARKER=/run/lock/cairn-packaging-test.installed
if [ -e "$MARKER" ]; then
    echo "removing the packages of an earlier run that did not finish"
    # shellcheck disable=SC2086
    dpkg --purge $PACKAGES >/dev/null 2>&1
    if [ "$(cat "$MARKER")" = "created-user" ]; then
        userdel cairn 2>/dev/null
        groupdel cairn 2>/dev/null
        rm -rf /var/lib/cairn
    fi
    rm -f "$MARKER"
fi
if dpkg-query -W -f='${Status}' cairn 2>/dev/null | grep -q "ok installed"; then
    skip "a cairn package is already installed; this test would replace and purge it"
fi

USER_EXISTED=0
getent passwd cairn >/dev/null && USER_EXISTED=1
STATE_EXISTED=0
[ -e /var/lib/cairn ] && STATE_EXISTED=1

stop_cairnd() {
    [ -n "$CAIRND_PID" ] || return 0
    kill -TERM "$CAIRND_PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$CAIRND_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$CAIRND_PID" 2>/dev/null
    wait "$CAIRND_PID" 2>/dev/null
    CAIRND_PID=""
}

cleanup() {
    stop_cairnd
    rm -f "$RUN_CONFIG"
    if [ "$INSTALLED" -eq 1 ]; then
        # shellcheck disable=SC2086
        dpkg --purge $PACKAGES >/dev/null 2>&1
    fi
    if [ "$USER_EXISTED" -eq 0 ] && getent passwd cairn >/dev/null; then
        userdel cairn 2>/dev/null
    fi
    if getent group cairn >/dev/null && [ "$USER_EXISTED" -eq 0 ]; then
        groupdel cairn 2>/dev/null
    fi
    [ "$STATE_EXISTED" -eq 1 ] || rm -rf /var/lib/cairn
    rm -f "$MARKER"
}
trap cleanup EXIT

# dpkg_locked COMMAND...: runs a dpkg command, retrying for at most 120 s
# while another dpkg or apt holds the lock.
dpkg_locked() {
    local out
    for _ in $(seq 1 60); do
        if out=$("$@" 2>&1); then
            printf '%s\n' "$out"
            return 0
        fi
        if ! printf '%s' "$out" | grep -q "lock"; then
            printf '%s\n' "$out"
            return 1
        fi
        sleep 2
    done
    printf '%s\n' "$out"
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_cairn() {
    setpriv --reuid=cairn --regid=cairn --init-groups -- "$@"
}

# WORK/build is kept between runs, so that a rerun builds incrementally.
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
rm -rf "$WORK/ct-router" "$WORK/ct-router-pc.so" "$WORK"/*.log "$WORK/files.txt"

# --- Build and install.

if ! bash "$ROOT/packaging/build-packages.sh" --deb-only "$WORK/build" > "$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log"
    fail "packaging/build-packages.sh --deb-only"
    exit 1
fi
mapfile -t DEBS < <(ls "$WORK"/build/packages/*.deb)
echo "built: ${DEBS[*]##*/}"
check "the cairn and cairn-dev packages were built" \
    test -f "$(ls "$WORK"/build/packages/cairn_*.deb 2>/dev/null | head -n 1)" -a \
    -f "$(ls "$WORK"/build/packages/cairn-dev_*.deb 2>/dev/null | head -n 1)"

INSTALLED=1
if [ "$USER_EXISTED" -eq 0 ] && [ "$STATE_EXISTED" -eq 0 ]; then
    echo created-user > "$MARKER"
else
    echo kept-user > "$MARKER"
fi
if ! dpkg_locked dpkg -i "${DEBS[@]}" > "$WORK/install.log"; then
    cat "$WORK/install.log"
    fail "dpkg -i ${DEBS[*]##*/}"
    exit 1
fi
pass "dpkg -i ${DEBS[*]##*/}"

# --- What the packages put in place.

MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
PLUGIN_DIR=/usr/lib/$MULTIARCH/cairn/plugins

check "cairn system user with /var/lib/cairn as home" \
    test "$(getent passwd cairn | cut -d: -f6,7)" = "/var/lib/cairn:/usr/sbin/nologin"
check "/etc/cairn/cairn.conf is root:cairn 0640" \
    test "$(stat -c '%U:%G %a' /etc/cairn/cairn.conf)" = "root:cairn 640"
check "/etc/cairn/cairn.conf is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}' cairn | grep -q '/etc/cairn/cairn.conf'"
check "/var/lib/cairn is cairn:cairn 0750" \
    test "$(stat -c '%U:%G %a' /var/lib/cairn)" = "cairn:cairn 750"
check "plugins in $PLUGIN_DIR" test -f "$PLUGIN_DIR/index-sqlite.so" -a -f "$PLUGIN_DIR/storage.so"
check "pkg-config plugindir is $PLUGIN_DIR" \
    test "$(pkg-config --variable=plugindir cairn-sdk)" = "$PLUGIN_DIR"
check "installed plugins export only cairn_plugin_entry" \
    sh "$ROOT/tests/sdk/check-exports.sh" "$PLUGIN_DIR"
check "installed programs export nothing of their own" \
    sh "$ROOT/tests/sdk/check-program-exports.sh" /usr/sbin/cairnd /usr/bin/cairn

UNIT=/lib/systemd/system/cairn.service
check "systemd unit installed" test -f "$UNIT"
for directive in "Type=exec" "User=cairn" "Group=cairn" "NoNewPrivileges=yes" \
    "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "ReadWritePaths=/var/lib/cairn" \
    'ExecReload=/bin/kill -HUP $MAINPID' "Restart=on-failure" \
    "ExecStart=/usr/sbin/cairnd --config /etc/cairn/cairn.conf"; do
    check "unit sets $directive" grep -qxF "$directive" "$UNIT"
done
if command -v systemd-analyze >/dev/null 2>&1; then
    check "systemd-analyze verify cairn.service" systemd-analyze verify "$UNIT"
    # The exposure level runs from 0.0 (best) to 10.0, and --threshold takes
    # tenths of it. systemd 252 rates this unit 1.8.
    check "cairn.service exposure at most 3.0 (systemd-analyze security)" \
        systemd-analyze security --offline=true --threshold=30 "$UNIT"
fi

check "packaged configuration passes --check-config as cairn" \
    as_cairn /usr/sbin/cairnd --check-config
for example in /usr/share/cairn/examples/*.conf; do
    check "example ${example##*/} passes --check-config as cairn" \
        as_cairn /usr/sbin/cairnd --check-config --config "$example"
done

# --- Run the installed daemon as the cairn user.

PORT=$(free_port)
API_PORT=$(free_port)
# The packaged configuration, moved to free ports so that a cairnd already
# running on this machine does not get in the way.
sed -e "s/^\( *port = \)11112;/\1$PORT;/" -e "s/^\( *port = \)8104;/\1$API_PORT;/" \
    /etc/cairn/cairn.conf > "$RUN_CONFIG"
chgrp cairn "$RUN_CONFIG"
chmod 0640 "$RUN_CONFIG"
check "run configuration uses ports $PORT and $API_PORT" \
    sh -c "grep -q 'port = $PORT;' '$RUN_CONFIG' && grep -q 'port = $API_PORT;' '$RUN_CONFIG'"

setpriv --reuid=cairn --regid=cairn --init-groups -- \
    /usr/sbin/cairnd --config "$RUN_CONFIG" > "$WORK/cairnd.log" 2>&1 &
CAIRND_PID=$!
ready=0
for _ in $(seq 1 100); do
    if echoscu -aec CAIRN 127.0.0.1 "$PORT" >/dev/null 2>&1; then
        ready=1
        break
    fi
    kill -0 "$CAIRND_PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$ready" -ne 1 ]; then
    cat "$WORK/cairnd.log"
    fail "installed cairnd answers C-ECHO within 10 s"
    exit 1
fi
pass "installed cairnd answers C-ECHO"
check "cairnd runs as cairn" test "$(ps -o user= -p "$CAIRND_PID")" = "cairn"

check "storescu of a CT and an MR image" \
    storescu -aec CAIRN 127.0.0.1 "$PORT" "$CT_FILE" "$MR_FILE"
stored=$(find /var/lib/cairn/storage -type f -name '*.dcm' 2>/dev/null | wc -l)
check "two instance files under /var/lib/cairn/storage (found $stored)" test "$stored" -eq 2
check "instance files belong to cairn" \
    test -z "$(find /var/lib/cairn -type f ! -user cairn 2>/dev/null)"
ct_uid=$(dcmdump +P 0008,0018 "$CT_FILE" | sed -n 's/.*\[\(.*\)\].*/\1/p')
check "cairn instances lists the CT instance" \
    sh -c "setpriv --reuid=cairn --regid=cairn --init-groups -- /usr/bin/cairn \
        --config '$RUN_CONFIG' instances --json | grep -q '$ct_uid'"
check "control API answers /v1/status" \
    curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/v1/status"

kill -HUP "$CAIRND_PID"
reloaded=0
for _ in $(seq 1 50); do
    grep -qi "reload" "$WORK/cairnd.log" && { reloaded=1; break; }
    sleep 0.1
done
check "SIGHUP (systemctl reload) reloads the configuration" test "$reloaded" -eq 1
check "C-ECHO after the reload" echoscu -aec CAIRN 127.0.0.1 "$PORT"

kill -TERM "$CAIRND_PID"
wait "$CAIRND_PID"
status=$?
CAIRND_PID=""
check "SIGTERM stops cairnd with status 0 (got $status)" test "$status" -eq 0
if grep -Eq "ERROR" "$WORK/cairnd.log"; then
    grep -E "ERROR" "$WORK/cairnd.log"
    fail "cairnd logged errors"
fi

# --- The SDK as an integrator uses it.

SAMPLE=$WORK/ct-router
cp -r /usr/share/cairn/sdk/examples/ct-router "$SAMPLE"
if cmake -S "$SAMPLE" -B "$SAMPLE/build" > "$WORK/sample.log" 2>&1 &&
    cmake --build "$SAMPLE/build" >> "$WORK/sample.log" 2>&1; then
    pass "sample plugin builds out of tree with find_package(Cairn)"
    if ctest --test-dir "$SAMPLE/build" --output-on-failure >> "$WORK/sample.log" 2>&1; then
        pass "sample plugin passes its test against the installed cairnd"
    else
        cat "$WORK/sample.log"
        fail "sample plugin's own test"
    fi
    check "sample plugin exports only cairn_plugin_entry" \
        sh "$ROOT/tests/sdk/check-exports.sh" "$SAMPLE/build/ct-router.so"
else
    cat "$WORK/sample.log"
    fail "sample plugin builds out of tree with find_package(Cairn)"
fi
# shellcheck disable=SC2046
check "sample plugin builds with pkg-config --cflags --libs cairn-sdk" \
    cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -pthread $(pkg-config --cflags --libs cairn-sdk) \
    -o "$WORK/ct-router-pc.so" "$SAMPLE/ct_router.c"
check "pkg-config build exports only cairn_plugin_entry" \
    sh "$ROOT/tests/sdk/check-exports.sh" "$WORK/ct-router-pc.so"

# --- Upgrade: a site's change to the conffile survives a new default.

# The next release, made by repacking these packages: a new version, and
# a changed default configuration in the cairn package.
UPGRADE=$WORK/upgrade
rm -rf "$UPGRADE"
mkdir -p "$UPGRADE"
old_version=$(dpkg-deb -f "$(ls "$WORK"/build/packages/cairn_*.deb | head -n 1)" Version)
new_version="${old_version%-*}-$((${old_version##*-} + 1))"
for deb in "${DEBS[@]}"; do
    tree=$UPGRADE/tree
    rm -rf "$tree"
    dpkg-deb -R "$deb" "$tree"
    sed -i -e "s/^Version: .*/Version: $new_version/" \
        -e "s/(= $old_version)/(= $new_version)/g" "$tree/DEBIAN/control"
    if [ -f "$tree/etc/cairn/cairn.conf" ]; then
        echo "# added by the next release" >> "$tree/etc/cairn/cairn.conf"
        (cd "$tree" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
            xargs -0 md5sum > DEBIAN/md5sums)
    fi
    dpkg-deb -b "$tree" "$UPGRADE/$(basename "${deb%_*_*}")_upgrade.deb" >/dev/null
done

echo "# changed by the site" >> /etc/cairn/cairn.conf
# --force-confold keeps the site's file without asking, as an unattended
# upgrade does; dpkg writes the new default next to it.
if dpkg_locked dpkg -i --force-confdef --force-confold "$UPGRADE"/*_upgrade.deb \
    > "$WORK/upgrade.log"; then
    pass "upgrade from $old_version to $new_version"
else
    cat "$WORK/upgrade.log"
    fail "upgrade from $old_version to $new_version"
fi
check "cairn $new_version installed" \
    test "$(dpkg-query -W -f='${Version}' cairn)" = "$new_version"
check "site's /etc/cairn/cairn.conf kept on upgrade" \
    grep -q "^# changed by the site" /etc/cairn/cairn.conf
check "new default kept as cairn.conf.dpkg-dist" \
    grep -q "^# added by the next release" /etc/cairn/cairn.conf.dpkg-dist
check "/etc/cairn/cairn.conf still root:cairn 0640" \
    test "$(stat -c '%U:%G %a' /etc/cairn/cairn.conf)" = "root:cairn 640"
rm -f /etc/cairn/cairn.conf.dpkg-dist

# --- Purge.

rm -f "$RUN_CONFIG"
installed=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" &&
        installed="$installed $package"
done
# shellcheck disable=SC2086
dpkg-query -L $installed 2>/dev/null | sort -u > "$WORK/files.txt"
# shellcheck disable=SC2086
if dpkg_locked dpkg --purge $installed > "$WORK/purge.log"; then
    pass "dpkg --purge$installed"
    INSTALLED=0
else
    cat "$WORK/purge.log"
    fail "dpkg --purge$installed"
fi
left=""
while IFS= read -r path; do
    [ -n "$path" ] && [ -f "$path" ] && left="$left $path"
done < "$WORK/files.txt"
check "no packaged file left after purge${left:+:$left}" test -z "$left"
check "/etc/cairn removed by purge" test ! -e /etc/cairn
check "no enable link of cairn.service left" \
    test ! -e /etc/systemd/system/multi-user.target.wants/cairn.service
check "purge keeps the archive in /var/lib/cairn" test -d /var/lib/cairn/storage

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
