#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Starts and stops the PostgreSQL server that the PostgreSQL variants of
# the tests use: a cluster in BUILD_DIR/pg that listens only on a unix
# socket in BUILD_DIR/pg/socket (no TCP), with trust authentication for
# the superuser "cairn". ctest runs "start" as a fixture set-up before
# the interop-pg.* and unit PostgreSQL tests and "stop" after them.
#
# initdb and postgres refuse to run as root. Run as root, the script runs
# them as the "postgres" account (created by Debian's postgresql package)
# and hands it the cluster's folder. When that account cannot reach the
# build folder (a checkout under /root), the cluster goes to a folder
# under /tmp instead, named in BUILD_DIR/pg/cluster-dir, and
# BUILD_DIR/pg/socket links to its socket folder. The server binaries
# come from CAIRN_PG_BINDIR or the newest /usr/lib/postgresql/*/bin.
#
# Usage: pg_server.sh start|stop|status BUILD_DIR

set -euo pipefail

action=${1:?usage: $0 start|stop|status BUILD_DIR}
build_dir=$(cd "${2:?usage: $0 start|stop|status BUILD_DIR}" && pwd)
pg_root="$build_dir/pg"
cluster="$pg_root"
if [ -f "$pg_root/cluster-dir" ]; then
    cluster=$(cat "$pg_root/cluster-dir")
fi
data="$cluster/data"
port=${CAIRN_TEST_PG_PORT:-5432}

bindir=${CAIRN_PG_BINDIR:-}
if [ -z "$bindir" ]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg_server: no PostgreSQL server binaries (install the Debian package postgresql," \
         "or set CAIRN_PG_BINDIR)" >&2
    exit 1
fi

# Runs a server binary as the account that owns the cluster.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then
        owner=postgres
    else
        echo "pg_server: running as root needs the postgres account of Debian's postgresql package" >&2
        exit 1
    fi
fi

server_running() {
    [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

case "$action" in
start)
    if server_running; then
        echo "pg_server: already running in $data"
        exit 0
    fi
    mkdir -p "$pg_root"
    if [ ! -f "$data/PG_VERSION" ]; then
        cluster="$pg_root"
        rm -rf "$pg_root/data" "$pg_root/socket" "$pg_root/cluster-dir"
        if [ "$(id -u)" -eq 0 ]; then
            chown "$owner" "$pg_root"
            if ! runuser -u "$owner" -- test -x "$pg_root"; then
                cluster=$(mktemp -d "${TMPDIR:-/tmp}/cairn-pg.XXXXXX")
                echo "$cluster" > "$pg_root/cluster-dir"
                ln -s "$cluster/socket" "$pg_root/socket"
            fi
        fi
        data="$cluster/data"
        mkdir -p "$data" "$cluster/socket"
        [ "$(id -u)" -ne 0 ] || chown "$owner" "$cluster" "$data" "$cluster/socket"
        chmod 700 "$data"
        as_owner "$bindir/initdb" -D "$data" -U cairn --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 --no-instructions >"$pg_root/initdb.log" 2>&1 || {
            cat "$pg_root/initdb.log" >&2
            exit 1
        }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$cluster/socket'
port = $port
max_connections = 200
shared_buffers = 64MB
synchronous_commit = on
fsync = on
log_min_messages = warning
log_min_error_statement = panic
CONF
    fi
    log="$cluster/server.log"
    # The socket folder may be left over from a killed server.
    rm -f "$cluster/socket"/.s.PGSQL.*
    as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null || {
        tail -n 40 "$log" >&2
        exit 1
    }
    echo "pg_server: running on $pg_root/socket port $port"
    ;;
stop)
    if server_running; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    fi
    echo "pg_server: stopped"
    ;;
status)
    server_running
    ;;
*)
    echo "usage: $0 start|stop|status BUILD_DIR" >&2
    exit 2
    ;;
esac
