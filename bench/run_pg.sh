#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Cairn on PostgreSQL, run by hand (never by ctest or CI). Starts a
# PostgreSQL server of its own (unix socket only, under the work folder,
# through tests/interop/pg_server.sh), fills Cairn's database with
# PG_INSTANCES generated rows (10 million by default, written by INSERT ...
# SELECT FROM generate_series on the server), then measures:
#   - ingest-8: small instances stored per second over DIMSE with 8
#     storescu associations at once, by cairnd on that full database and by
#     Orthanc with its PostgreSQL index plugin on a database of its own on
#     the same server;
#   - ingest-8-c: the same with new instances sent by lib/store_send.c, a
#     C sender that needs far less CPU per instance than storescu, so that
#     on a machine with few CPUs the rate measures the server more than the
#     sender (README.md gives the numbers);
#   - find-*: the round trip of study-level C-FIND requests on cairnd at
#     that size (lib/qr_client.py, one open association), median and p99.
# The ingest cases run ROUNDS times, the servers taking turns, and the
# report ends with the median of each case per server and their ratio.
# Prints a Markdown report and writes it to bench/results/pg-<date>.md
# (pg-<date>-<time>.md when that file exists).
# README.md in this folder describes the cases. Every loop is bounded in
# count and in time.
#
# Usage: bench/run_pg.sh BUILD_DIR
# Settings (environment): PG_INSTANCES PG_SERIES PG_PER_SERIES SMALL_COUNT
# SMALL_SECONDS CLIENTS ROUNDS FIND_COUNT FIND_SECONDS SERVERS BENCH_TMP
# KEEP_WORK=1.

set -u

BUILD_DIR=${1:?usage: bench/run_pg.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BENCH_DIR/.." && pwd)
CAIRND="$BUILD_DIR/core/cairnd"
PY=/usr/bin/python3
LIB="$BENCH_DIR/lib"
PG_SERVER="$SRC_DIR/tests/interop/pg_server.sh"

PG_INSTANCES=${PG_INSTANCES:-10000000} # generated instance rows in Cairn's database
PG_SERIES=${PG_SERIES:-4}              # series per study
PG_PER_SERIES=${PG_PER_SERIES:-25}     # instances per series
SMALL_COUNT=${SMALL_COUNT:-1000}       # small instances per association
SMALL_SECONDS=${SMALL_SECONDS:-120}    # time bound of one ingest case
CLIENTS=${CLIENTS:-8}                  # concurrent associations of the ingest
ROUNDS=${ROUNDS:-3}                    # runs of each ingest case per server
FIND_COUNT=${FIND_COUNT:-200}          # C-FIND requests per case
FIND_SECONDS=${FIND_SECONDS:-30}       # time bound of one C-FIND case
SERVERS=${SERVERS:-"cairn orthanc"}
ORTHANC_PG_PLUGIN=${ORTHANC_PG_PLUGIN:-/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so}

for tool in storescu echoscu psql Orthanc timeout cc; do
    command -v "$tool" >/dev/null || {
        echo "run_pg: $tool not found; install dcmtk, postgresql, orthanc, orthanc-postgresql and gcc" >&2
        exit 1
    }
done
[ -x "$CAIRND" ] || { echo "run_pg: $CAIRND not found; build first" >&2; exit 1; }
[ -f "$BUILD_DIR/plugins/index-postgresql.so" ] ||
    { echo "run_pg: the index-postgresql plugin is not built in $BUILD_DIR" >&2; exit 1; }

WORK=$(mktemp -d "${BENCH_TMP:-/var/tmp}/cairn-pgbench.XXXXXX")
chmod 755 "$WORK"
SOCKET="$WORK/pg/socket"
PGPORT_NUM=${CAIRN_TEST_PG_PORT:-5432}
RESULTS="$WORK/results.tsv"
SRV_PID=""
: > "$RESULTS"

cleanup() {
    stop_server
    bash "$PG_SERVER" stop "$WORK" >/dev/null 2>&1
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "run_pg: work folder kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

log() { echo "run_pg: $*" >&2; }
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# sql DB STATEMENT: runs one statement, printing its single value when it has one.
sql() {
    psql -X -At -q -h "$SOCKET" -p "$PGPORT_NUM" -U cairn -d "$1" -v ON_ERROR_STOP=1 -c "$2"
}

# record CASE SERVER VALUE UNIT NOTE
record() {
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$RESULTS"
    log "$1 $2: $3 $4 ($5)"
}

# --- the database ------------------------------------------------------

# load_rows: fills cairn_bench with PG_INSTANCES instances, PG_SERIES series
# of PG_PER_SERIES instances per study, two studies per patient, in slices
# of at most one million instances, each its own statement.
load_rows() {
    local per_study=$((PG_SERIES * PG_PER_SERIES))
    local studies=$(((PG_INSTANCES + per_study - 1) / per_study))
    local series=$((studies * PG_SERIES))
    local patients=$(((studies + 1) / 2))
    local slice=1000000 first last start

    start=$(now)
    sql cairn_bench "INSERT INTO patient (id, patient_id, issuer, name, name_folded,
        name_alphabetic, birth_date, sex) OVERRIDING SYSTEM VALUE
        SELECT g, 'BP' || lpad(g::text, 9, '0'), '', 'BENCH^PATIENT' || g,
               'bench^patient' || g, 'bench^patient' || g, '19700101', 'O'
        FROM generate_series(1, $patients) g" || return 1
    sql cairn_bench "INSERT INTO study (id, patient, study_uid, study_date, study_time,
        time_key, accession_number, study_id, description) OVERRIDING SYSTEM VALUE
        SELECT g, (g + 1) / 2, '1.2.826.0.1.3680043.9.7433.200.' || g,
               to_char(date '2000-01-01' + (g % 9000), 'YYYYMMDD'), '120000',
               '120000.000000', 'ACC' || g, (g % 10000)::text, 'BENCH STUDY'
        FROM generate_series(1, $studies) g" || return 1
    sql cairn_bench "INSERT INTO series (id, study, series_uid, modality, series_number)
        OVERRIDING SYSTEM VALUE
        SELECT g, (g - 1) / $PG_SERIES + 1, '1.2.826.0.1.3680043.9.7433.201.' || g,
               CASE g % 3 WHEN 0 THEN 'CT' WHEN 1 THEN 'MR' ELSE 'US' END,
               (g - 1) % $PG_SERIES + 1
        FROM generate_series(1, $series) g" || return 1
    for ((first = 1; first <= PG_INSTANCES; first += slice)); do
        last=$((first + slice - 1))
        [ "$last" -gt "$PG_INSTANCES" ] && last=$PG_INSTANCES
        sql cairn_bench "INSERT INTO instance (id, series, sop_uid, sop_class_uid,
            instance_number, path, size, transfer_syntax, received_at_us, calling_ae)
            OVERRIDING SYSTEM VALUE
            SELECT g, (g - 1) / $PG_PER_SERIES + 1, '1.2.826.0.1.3680043.9.7433.202.' || g,
                   '1.2.840.10008.5.1.4.1.1.2', (g - 1) % $PG_PER_SERIES + 1,
                   'ff/bench-' || g || '.dcm', 40000, '1.2.840.10008.1.2.1',
                   1764892800000000 + g, 'BENCH'
            FROM generate_series($first, $last) g" || return 1
        log "  $last of $PG_INSTANCES instance rows ($(elapsed_since "$start") s)"
    done
    for table in patient study series instance; do
        sql cairn_bench "SELECT setval(pg_get_serial_sequence('$table', 'id'), max(id)) FROM $table" >/dev/null
    done
    sql cairn_bench "VACUUM ANALYZE" || return 1
    LOAD_SECONDS=$(elapsed_since "$start")
    STUDY_COUNT=$studies
    PATIENT_COUNT=$patients
}

# --- servers -----------------------------------------------------------

SRV_NAME=""
SRV_PORT=""
SRV_AET=""
SRV_HTTP_PORT=""

start_server() {
    SRV_NAME=$1
    SRV_PORT=$(free_port)
    SRV_DIR="$WORK/$SRV_NAME"
    mkdir -p "$SRV_DIR"
    case $SRV_NAME in
    cairn)
        SRV_AET=CAIRN
        cat > "$SRV_DIR/cairn.conf" <<CONF
log = { level = "info"; };
storage = { path = "$SRV_DIR/storage"; };
index = { plugin = "index-postgresql"; };
network = { max_associations = 64; };
plugin_directory = "$BUILD_DIR/plugins";
plugins = {
  verification = { };
  storage = { };
  qr = { max_matches = 100000; };
  index-postgresql = {
    conninfo = "host=$SOCKET port=$PGPORT_NUM dbname=cairn_bench user=cairn";
  };
};
aes = ( { title = "CAIRN"; port = $SRV_PORT; bind = "127.0.0.1";
          plugins = [ "verification", "storage", "qr" ]; } );
api = { enabled = false; };
CONF
        "$CAIRND" --config "$SRV_DIR/cairn.conf" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    orthanc)
        SRV_AET=ORTHANC
        SRV_HTTP_PORT=$(free_port)
        cat > "$SRV_DIR/orthanc.json" <<CONF
{
  "Name": "cairn-pgbench",
  "StorageDirectory": "$SRV_DIR/storage",
  "IndexDirectory": "$SRV_DIR/index",
  "DicomAet": "ORTHANC",
  "DicomPort": $SRV_PORT,
  "HttpPort": $SRV_HTTP_PORT,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "Plugins": [ "$ORTHANC_PG_PLUGIN" ],
  "PostgreSQL": {
    "EnableIndex": true,
    "EnableStorage": false,
    "ConnectionUri": "postgresql://cairn@/orthanc_bench?host=$SOCKET&port=$PGPORT_NUM",
    "Lock": false
  }
}
CONF
        TCP_NODELAY=1 Orthanc "$SRV_DIR/orthanc.json" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    esac
    SRV_PID=$!
    for _ in $(seq 1 300); do
        echoscu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" >/dev/null 2>&1 && return 0
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            log "$SRV_NAME exited during start-up; its log:"
            cat "$SRV_DIR/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    log "$SRV_NAME did not answer C-ECHO within 30 s"
    exit 1
}

stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    for _ in $(seq 1 300); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=""
}

count_stored() {
    case $SRV_NAME in
    cairn) sql cairn_bench "SELECT count(*) FROM instance WHERE calling_ae <> 'BENCH'" ;;
    orthanc)
        $PY -c 'import json, sys, urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:%s/statistics" % sys.argv[1], timeout=60))["CountInstances"])' "$SRV_HTTP_PORT"
        ;;
    esac
}

# --- cases -------------------------------------------------------------

# case_ingest SENDER ROUND: CLIENTS associations at once, each sending its
# own folder of SMALL_COUNT new instances made for that round, with storescu
# (case ingest-N) or with lib/store_send.c (SENDER "c", case ingest-N-c).
# Stored instances are counted on the server before and after.
case_ingest() {
    local sender=$1 round=$2 name="ingest-$CLIENTS" before after start seconds stored expected rate
    local i acknowledged=0 line n failed note pids=()
    [ "$sender" = c ] && name="ingest-$CLIENTS-c"
    sync
    before=$(count_stored)
    start=$(now)
    for ((i = 0; i < CLIENTS; i++)); do
        if [ "$sender" = c ]; then
            timeout -k 2 "$SMALL_SECONDS" "$WORK/store_send" 127.0.0.1 "$SRV_PORT" "$SRV_AET" \
                "$WORK/in/${SRV_NAME}_c_r${round}_$i" > "$WORK/store-send-$SRV_NAME-$i.log" 2>&1 &
        else
            TCP_NODELAY=1 timeout -k 2 "$SMALL_SECONDS" storescu -aec "$SRV_AET" 127.0.0.1 \
                "$SRV_PORT" +sd "$WORK/in/${SRV_NAME}_r${round}_$i" > "$WORK/storescu-$SRV_NAME-$i.log" 2>&1 &
        fi
        pids+=($!)
    done
    wait "${pids[@]}"
    seconds=$(elapsed_since "$start")
    after=$(count_stored)
    stored=$((after - before))
    expected=$((CLIENTS * SMALL_COUNT))
    rate=$(awk -v n="$stored" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')
    note="round $round: $stored of $expected in $seconds s"

    if [ "$sender" = c ]; then
        # Each store_send prints a line "instances=N failed=F ...". A sender
        # stopped by the time bound prints none, so none of its instances
        # count as acknowledged.
        for ((i = 0; i < CLIENTS; i++)); do
            line=$(grep '^instances=' "$WORK/store-send-$SRV_NAME-$i.log")
            n=$(sed -n 's/^instances=\([0-9]*\) .*/\1/p' <<< "$line")
            failed=$(sed -n 's/.* failed=\([0-9]*\) .*/\1/p' <<< "$line")
            [ -n "$n" ] && [ -n "$failed" ] && acknowledged=$((acknowledged + n - failed))
        done
        if [ "$stored" -eq "$expected" ] && [ "$acknowledged" -eq "$expected" ]; then
            note="$note; count equals the $expected sent, all acknowledged with status 0000"
        else
            note="$note; MISMATCH: $acknowledged acknowledged with status 0000 (see store-send-$SRV_NAME-*.log)"
        fi
    elif [ "$stored" -eq "$expected" ]; then
        note="$note; count equals the $expected sent"
    else
        note="$note; count differs from the $expected sent (time bound reached or stores failed)"
    fi
    record "$name" "$SRV_NAME" "$rate" "inst/s" "$note"
}

# case_find NAME KEY=VALUE: study-level C-FIND round trips on the open association.
case_find() {
    local line median p99 matches ok
    line=$($PY "$LIB/qr_client.py" 127.0.0.1 "$SRV_PORT" "$SRV_AET" find "$FIND_COUNT" \
        "$FIND_SECONDS" STUDY "$2")
    median=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<< "$line")
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<< "$line")
    matches=$(sed -n 's/.*matches=\([0-9]*\).*/\1/p' <<< "$line")
    ok=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<< "$line")
    record "find-$1" "$SRV_NAME" "${median:-0}" "ms median" "p99 ${p99:-?} ms, $matches matches, $ok requests, key $2"
}

# --- run ---------------------------------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "work folder $WORK"
CAIRN_TEST_PG_PORT=$PGPORT_NUM bash "$PG_SERVER" start "$WORK" >&2 || exit 1
sql postgres "CREATE DATABASE cairn_bench" || exit 1
sql postgres "CREATE DATABASE orthanc_bench" || exit 1

mkdir -p "$WORK/cairn"
cat > "$WORK/migrate.conf" <<CONF
storage = { path = "$WORK/cairn/storage"; };
index = { plugin = "index-postgresql"; };
plugin_directory = "$BUILD_DIR/plugins";
plugins = { verification = { }; index-postgresql = {
  conninfo = "host=$SOCKET port=$PGPORT_NUM dbname=cairn_bench user=cairn"; }; };
aes = ( { title = "CAIRN"; port = 104; plugins = [ "verification" ]; } );
CONF
"$CAIRND" --config "$WORK/migrate.conf" --migrate >&2 || exit 1

log "loading $PG_INSTANCES instance rows"
load_rows || { log "loading the rows failed"; exit 1; }
DB_SIZE=$(sql cairn_bench "SELECT pg_size_pretty(pg_database_size('cairn_bench'))")
log "loaded in $LOAD_SECONDS s; database size $DB_SIZE"

cc -O2 -o "$WORK/store_send" "$LIB/store_send.c" || { log "cannot compile $LIB/store_send.c"; exit 1; }

# Every folder gets new UIDs, so no case sends a duplicate of an earlier
# one. All are made before the first case: deleting or making files while a
# case runs would slow the server down.
log "making $SMALL_COUNT small instances per association, $ROUNDS rounds"
for ((round = 1; round <= ROUNDS; round++)); do
    for server in $SERVERS; do
        for folder in "${server}_r$round" "${server}_c_r$round"; do
            for ((i = 0; i < CLIENTS; i++)); do
                $PY "$LIB/make_instances.py" small "$WORK/in" "${folder}_$i" "$SMALL_COUNT" &
            done
            wait
        done
    done
done

for ((round = 1; round <= ROUNDS; round++)); do
    for server in $SERVERS; do
        start_server "$server"
        case_ingest storescu "$round"
        case_ingest c "$round"
        if [ "$server" = cairn ] && [ "$round" = 1 ]; then
            k=$((PATIENT_COUNT / 2 + 7))
            case_find name-exact "PatientName=BENCH^PATIENT$k"
            case_find name-prefix "PatientName=BENCH^PATIENT$((k / 10))1*"
            case_find date "StudyDate=20100101"
            case_find uid "StudyInstanceUID=1.2.826.0.1.3680043.9.7433.200.$((STUDY_COUNT / 3))"
        fi
        stop_server
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# medians: per ingest case, the median rate of each server over the rounds,
# and cairn's divided by Orthanc's, as Markdown table rows.
medians() {
    awk -F'\t' '$4 == "inst/s" { key = $1 SUBSEP $2; n[key]++; v[key, n[key]] = $3; cases[$1] = 1 }
        function median(key,    i, j, t, m) {
            m = n[key]
            if (m == 0) return 0
            for (i = 1; i <= m; i++) a[i] = v[key, i]
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
        }
        END {
            for (c in cases) {
                cm = median(c SUBSEP "cairn"); om = median(c SUBSEP "orthanc")
                ratio = om > 0 ? sprintf("%.2f", cm / om) : "-"
                printf "| %s | %.1f | %.1f | %s |\n", c, cm, om, ratio
            }
        }' "$RESULTS" | sort
}

# --- report ------------------------------------------------------------

REPORT="$BENCH_DIR/results/pg-$(date +%Y-%m-%d).md"
[ -e "$REPORT" ] && REPORT="$BENCH_DIR/results/pg-$(date +%Y-%m-%d-%H%M%S).md"
{
    echo "# Cairn on PostgreSQL, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- cairn commit $(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown), build type $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)"
    echo "- servers: $SERVERS"
    echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- load average at start: $LOAD_START; at end: $LOAD_END"
    echo "- PostgreSQL $(psql --version | awk '{ print $3 }'), a cluster of its own on a unix socket, default settings"
    echo "- Orthanc $(dpkg-query -W -f '${Version}' orthanc 2>/dev/null), orthanc-postgresql $(dpkg-query -W -f '${Version}' orthanc-postgresql 2>/dev/null)"
    echo "- Cairn's database: $PG_INSTANCES instances, $STUDY_COUNT studies, $PATIENT_COUNT patients, $DB_SIZE, loaded in $LOAD_SECONDS s; Orthanc's database starts empty"
    echo "- ingest-$CLIENTS: $CLIENTS storescu processes at once (TCP_NODELAY=1), one association each, $SMALL_COUNT small CT instances each, at most $SMALL_SECONDS s"
    echo "- each ingest case ran $ROUNDS time(s) per server, the servers taking turns (a server restarted for each round, its database kept); each round sent new instances"
    echo "- ingest-$CLIENTS-c: the same with $CLIENTS lib/store_send.c processes (cc -O2, TCP_NODELAY, data sets by sendfile) and new instances; it uses far less CPU per instance than storescu, which shares the $(nproc) CPUs with the servers"
    echo "- find-*: study-level C-FIND on cairnd only, after its first ingest round, $FIND_COUNT requests on one association (lib/qr_client.py)"
    echo
    echo "| case | server | value | unit | note |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$RESULTS"
    echo
    echo "Median over $ROUNDS round(s), inst/s (0.0: the server did not run):"
    echo
    echo "| case | cairn | orthanc | cairn / orthanc |"
    echo "|---|---|---|---|"
    medians
} | tee "$REPORT"
log "report written to $REPORT"
