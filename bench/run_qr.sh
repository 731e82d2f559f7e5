#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Cairn's Query/Retrieve benchmark, run by hand (never by ctest or CI).
# Loads a synthetic archive into cairnd (10,000 studies and 1,000,000
# instances by default, written straight into its SQLite index by
# lib/make_index.py) and the same studies, as DICOM files from the same
# generator and seed, into Orthanc and DCMTK dcmqrscp. It then measures
# C-FIND round trips (lib/find_rate.c, one open association) and the C-MOVE
# of a 500-instance study to a DCMTK storescp. Prints a Markdown report and
# writes it to bench/results/qr-<date>-<time>.md. README.md in this folder
# describes each case and what the peers hold. Every loop is bounded in
# count and in time.
#
# Usage: bench/run_qr.sh BUILD_DIR
# Settings (environment): QR_STUDIES QR_SERIES QR_INSTANCES PEER_SERIES
# PEER_INSTANCES PEER_FULL=1 DCMQRSCP_STUDIES FIND_COUNT FIND_SECONDS MOVE_RUNS
# SERVERS BENCH_TMP KEEP_WORK=1 SHARED=1.

set -u

BUILD_DIR=${1:?usage: bench/run_qr.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
CAIRND="$BUILD_DIR/core/cairnd"
PY=/usr/bin/python3
LIB="$BENCH_DIR/lib"

QR_STUDIES=${QR_STUDIES:-10000}          # studies in Cairn's index
QR_SERIES=${QR_SERIES:-5}                # series per study
QR_INSTANCES=${QR_INSTANCES:-20}         # instances per series
# The peers hold every study, but only the first PEER_SERIES series (0: all)
# and PEER_INSTANCES instances per series of each, except the study that the
# SERIES and IMAGE queries name, which they hold in full. PEER_FULL=1 gives
# them every instance. Orthanc stores about 500 instances/s by C-STORE, so
# that takes about 35 minutes at 1,000,000 instances.
PEER_SERIES=${PEER_SERIES:-0}
PEER_INSTANCES=${PEER_INSTANCES:-1}
if [ "${PEER_FULL:-0}" = 1 ]; then PEER_SERIES=0 PEER_INSTANCES=0; fi
# dcmqrscp 3.6.7 stores at most 500 studies per storage area
# (DB_UpperMaxStudies, fixed at compile time). It gets the studies the
# queries match plus others up to this count, the moved study included.
DCMQRSCP_STUDIES=${DCMQRSCP_STUDIES:-500}
FIND_COUNT=${FIND_COUNT:-200}            # C-FIND requests per case
FIND_SECONDS=${FIND_SECONDS:-30}         # time bound of one C-FIND case
MOVE_RUNS=${MOVE_RUNS:-2}                # C-MOVE runs per server; the best counts
SERVERS=${SERVERS:-"cairn dcmqrscp orthanc"}
MOVE_SERIES=5                            # the moved study: 5 series of 100 instances
MOVE_INSTANCES=100

for tool in storescu storescp dcmqrscp dcmqridx findscu Orthanc echoscu timeout cc; do
    command -v "$tool" >/dev/null || { echo "run_qr: $tool not found; install dcmtk and orthanc" >&2; exit 1; }
done
[ -x "$CAIRND" ] || { echo "run_qr: $CAIRND not found; build first" >&2; exit 1; }

WORK=$(mktemp -d "${BENCH_TMP:-/var/tmp}/cairn-qrbench.XXXXXX")
RESULTS="$WORK/results.tsv"
SRV_PID=""
DEST_PID=""

cleanup() {
    stop_server
    if [ -n "$DEST_PID" ]; then kill -TERM "$DEST_PID" 2>/dev/null; wait "$DEST_PID" 2>/dev/null; fi
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "run_qr: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# free_port: a random loopback port in 20000-59999 that nothing listens on.
free_port() {
    $PY -c '
import random, socket
for _ in range(100):
    port = random.randrange(20000, 60000)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("run_qr: no free port in 20000-59999 after 100 tries")'
}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
json_field() { $PY -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# record CASE SERVER KEY=VALUE...: one result line.
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "${*:3}" >> "$RESULTS"
    log "  $2 $1: ${*:3}"
}

# The archive's options; every make_index.py call takes the same ones.
ARCHIVE=(--studies "$QR_STUDIES" --series "$QR_SERIES" --instances "$QR_INSTANCES")
PEER_ARCHIVE=("${ARCHIVE[@]}" --peer-series "$PEER_SERIES" --peer-instances "$PEER_INSTANCES")
MOVE_ARCHIVE=(--studies 1 --series "$MOVE_SERIES" --instances "$MOVE_INSTANCES" --seed 500)

# --- servers ---------------------------------------------------------------

wait_for_echo() {
    for _ in $(seq 1 300); do
        echoscu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" >/dev/null 2>&1 && return 0
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            echo "run_qr: $SRV_NAME exited during start-up; its log:" >&2
            cat "$SRV_DIR/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "run_qr: $SRV_NAME did not respond to C-ECHO within 30 s" >&2
    exit 1
}

stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=""
}

start_cairn() {
    cat > "$SRV_DIR/cairn.conf" <<CONF
log = { level = "warn"; };
api = { enabled = false; };
storage = { path = "$SRV_DIR/storage"; };
index = { plugin = "index-sqlite"; };
plugin_directory = "$BUILD_DIR/plugins";
plugins = {
  verification = { };
  storage = { };
  index-sqlite = { path = "$SRV_DIR/index.sqlite"; };
  qr = { max_matches = 100000; };
};
aes = (
  { title = "CAIRN"; port = $SRV_PORT; bind = "127.0.0.1";
    plugins = [ "verification", "storage", "qr" ]; }
);
remotes = (
  { title = "DEST"; host = "127.0.0.1"; port = $DEST_PORT; }
);
CONF
    "$CAIRND" --config "$SRV_DIR/cairn.conf" > "$SRV_DIR/server.log" 2>&1 &
    SRV_PID=$!
    wait_for_echo
}

# Loads Cairn: cairnd creates the schema, make_index.py fills it while
# cairnd is stopped, and the moved study arrives by C-STORE.
load_cairn() {
    SRV_AET=CAIRN
    start_cairn
    stop_server
    LOAD_NOTE=$($PY "$LIB/make_index.py" index "$SRV_DIR/index.sqlite" "${ARCHIVE[@]}")
    log "  cairn index: $LOAD_NOTE"
    start_cairn
    TCP_NODELAY=1 timeout 120 storescu -aec CAIRN 127.0.0.1 "$SRV_PORT" +sd +r "$WORK/move" \
        > "$SRV_DIR/storescu-move.log" 2>&1
}

load_dcmqrscp() {
    SRV_AET=DCMQRSCP
    mkdir -p "$SRV_DIR/db"
    cat > "$SRV_DIR/dcmqrscp.cfg" <<CONF
NetworkTCPPort  = $SRV_PORT
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
dest = (DEST, 127.0.0.1, $DEST_PORT)
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
DCMQRSCP   $SRV_DIR/db   RW   ($DCMQRSCP_STUDIES, 1024mb)   ANY
AETable END
CONF
    # dcmqridx registers the files of $WORK/peer in place, and dcmqrscp
    # serves them from there. It is faster than storescu because it skips
    # the network and the copy. Beyond the maximum number of studies it
    # would delete the oldest study's files, which Orthanc still needs.
    local folders
    folders=$($PY "$LIB/make_index.py" subset "${ARCHIVE[@]}" \
        --max-studies $((DCMQRSCP_STUDIES - 1)) | sed "s|^|$WORK/peer/|") || exit 1
    # shellcheck disable=SC2086 # one folder name per word
    if [ "$(find $folders "$WORK/move" -name '*.dcm' | wc -l)" -gt 4000 ]; then
        # NOTE: the 4,000 comes from earlier runs (bench/README.md), not from DCMTK's source.
        log "  warning: more than 4,000 files for dcmqrscp, whose index.dat (8 KiB per" \
            "instance) stopped near 4,000 instances in earlier runs. Expect missing rows," \
            "or lower PEER_SERIES or PEER_INSTANCES."
    fi
    # shellcheck disable=SC2086
    find $folders "$WORK/move" -name '*.dcm' | sort |
        timeout 600 xargs -n 500 dcmqridx -q "$SRV_DIR/db"
    LOAD_NOTE="$(find $folders "$WORK/move" -name '*.dcm' | wc -l) instances including the moved study, $(( $(wc -w <<< "$folders") + 1 )) studies (dcmqridx)"
    TCP_NODELAY=1 dcmqrscp -c "$SRV_DIR/dcmqrscp.cfg" > "$SRV_DIR/server.log" 2>&1 &
    SRV_PID=$!
    wait_for_echo
}

load_orthanc() {
    SRV_AET=ORTHANC
    local http_port i pids=()
    http_port=$(free_port)
    cat > "$SRV_DIR/orthanc.json" <<CONF
{
  "Name": "cairn-qrbench",
  "StorageDirectory": "$SRV_DIR/storage",
  "IndexDirectory": "$SRV_DIR/index",
  "DicomAet": "ORTHANC",
  "DicomPort": $SRV_PORT,
  "HttpPort": $http_port,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomAlwaysAllowFind": true,
  "DicomAlwaysAllowMove": true,
  "DicomModalities": { "dest": [ "DEST", "127.0.0.1", $DEST_PORT ] },
  "Plugins": []
}
CONF
    TCP_NODELAY=1 Orthanc "$SRV_DIR/orthanc.json" > "$SRV_DIR/server.log" 2>&1 &
    SRV_PID=$!
    wait_for_echo
    # Four storescu runs, each over every fourth study folder.
    for i in 0 1 2 3; do
        find "$WORK/peer" -mindepth 1 -maxdepth 1 -type d | sort | awk -v i="$i" 'NR % 4 == i' |
            TCP_NODELAY=1 timeout 600 xargs storescu -aec ORTHANC 127.0.0.1 "$SRV_PORT" +sd \
            > "$SRV_DIR/storescu-$i.log" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    TCP_NODELAY=1 timeout 120 storescu -aec ORTHANC 127.0.0.1 "$SRV_PORT" +sd +r "$WORK/move" \
        > "$SRV_DIR/storescu-move.log" 2>&1
    LOAD_NOTE="$($PY -c 'import json, sys, urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:%s/statistics" % sys.argv[1], timeout=60))["CountInstances"])' "$http_port") instances including the moved study, $(($(find "$WORK/peer" -mindepth 1 -maxdepth 1 -type d | wc -l) + 1)) studies (storescu)"
}

# --- cases -----------------------------------------------------------------

# findscu_rows LEVEL KEY=VALUE...: the pending responses findscu counts
# for one request, a check of find_rate's row count.
findscu_rows() {
    local level=$1 key args=()
    shift
    for key in "$@"; do args+=(-k "$key"); done
    TCP_NODELAY=1 timeout 120 findscu -v -S -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" \
        -k "QueryRetrieveLevel=$level" "${args[@]}" 2>&1 | grep -c 'Find Response: .*(Pending)'
}

# case_find NAME LEVEL KEY=VALUE...: 3 warm-up requests, then the timed
# ones, on one association.
case_find() {
    local name=$1 level=$2 line
    shift 2
    line=$(timeout $((FIND_SECONDS + 120)) "$FIND_RATE" 127.0.0.1 "$SRV_PORT" "$SRV_AET" \
        "$level" 3 "$FIND_COUNT" "$FIND_SECONDS" "$@")
    record "$name" "$SRV_NAME" "$line findscu_rows=$(findscu_rows "$level" "$@")"
}

case_move() {
    local run line received
    for run in $(seq 1 "$MOVE_RUNS"); do
        rm -rf "$WORK/dest" && mkdir -p "$WORK/dest"
        line=$($PY "$LIB/qr_client.py" 127.0.0.1 "$SRV_PORT" "$SRV_AET" move 300 DEST "$MOVE_STUDY")
        received=$(find "$WORK/dest" -type f | wc -l)
        record "move-$run" "$SRV_NAME" "$line received=$received"
    done
}

# --- main ------------------------------------------------------------------

BENCH_START=$(now)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'case\tserver\tvalues\n' > "$RESULTS"

FIND_RATE="$WORK/find_rate"
cc -O2 -o "$FIND_RATE" "$LIB/find_rate.c" || exit 1

log "work folder $WORK; making the moved study ($((MOVE_SERIES * MOVE_INSTANCES)) instances)"
$PY "$LIB/make_index.py" files "$WORK/move" "${MOVE_ARCHIVE[@]}" > /dev/null
MOVE_STUDY=$($PY "$LIB/make_index.py" keys "${MOVE_ARCHIVE[@]}" | json_field study_uid)

KEYS=$($PY "$LIB/make_index.py" keys "${ARCHIVE[@]}")
NAME=$(json_field name <<< "$KEYS")
DATES=$(json_field date_range <<< "$KEYS")
STUDY_UID=$(json_field study_uid <<< "$KEYS")
SERIES_UID=$(json_field series_uid <<< "$KEYS")
EXPECTED_ROWS="study=$(json_field study_matches <<< "$KEYS") series=$QR_SERIES image=$QR_INSTANCES"

if [ "$SERVERS" != cairn ]; then
    log "writing the peers' files (PEER_SERIES=$PEER_SERIES PEER_INSTANCES=$PEER_INSTANCES)"
    record files peers "$($PY "$LIB/make_index.py" files "$WORK/peer" "${PEER_ARCHIVE[@]}")"
fi

DEST_PORT=$(free_port)
mkdir -p "$WORK/dest"
TCP_NODELAY=1 storescp -aet DEST -od "$WORK/dest" "$DEST_PORT" > "$WORK/storescp.log" 2>&1 &
DEST_PID=$!

for server in $SERVERS; do
    SRV_NAME=$server
    SRV_PORT=$(free_port)
    SRV_DIR="$WORK/$server"
    mkdir -p "$SRV_DIR"
    log "$server: loading"
    start=$(now)
    "load_$server"
    record load "$server" "$LOAD_NOTE seconds=$(elapsed_since "$start")"

    log "$server: C-FIND and C-MOVE"
    case_find find-study-name-dates STUDY "PatientName=$NAME" "StudyDate=$DATES"
    case_find find-series-of-study SERIES "StudyInstanceUID=$STUDY_UID"
    case_find find-image-of-series IMAGE "StudyInstanceUID=$STUDY_UID" \
        "SeriesInstanceUID=$SERIES_UID"
    case_move
    stop_server
    rm -rf "$SRV_DIR"
done

# count_or_all N: "all" for 0, else "the first N".
count_or_all() { if [ "$1" = 0 ]; then echo all; else echo "the first $1"; fi; }

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$BENCH_DIR/results"
REPORT="$BENCH_DIR/results/qr-$(date +%Y-%m-%d-%H%M%S)$([ "${SHARED:-0}" = 1 ] && echo -shared).md"
MACHINE="idle: nothing else ran (SHARED=0)"
[ "${SHARED:-0}" = 1 ] && MACHINE="shared with other jobs during the run (SHARED=1); compare ratios, not absolute times"
$PY "$LIB/qr_report.py" "$RESULTS" \
    "cairn_rev=$(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)" \
    "nproc=$(nproc)" \
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "dcmtk=$(dpkg-query -W -f '${Version}' dcmtk 2>/dev/null)" \
    "orthanc=$(dpkg-query -W -f '${Version}' orthanc 2>/dev/null)" \
    "machine=$MACHINE" \
    "load=$LOAD_START at start, $LOAD_END at end" \
    "seconds=$(elapsed_since "$BENCH_START")" \
    "query=PatientName=$NAME StudyDate=$DATES" \
    "expected rows=$EXPECTED_ROWS" \
    "peers=every study with $(count_or_all "$PEER_SERIES") series and $(count_or_all "$PEER_INSTANCES") instances per series, the queried study in full; dcmqrscp at most $DCMQRSCP_STUDIES studies" \
    "client=lib/find_rate.c (C, one association, TCP_NODELAY), row counts checked with findscu" \
    "settings=QR_STUDIES=$QR_STUDIES QR_SERIES=$QR_SERIES QR_INSTANCES=$QR_INSTANCES PEER_SERIES=$PEER_SERIES PEER_INSTANCES=$PEER_INSTANCES DCMQRSCP_STUDIES=$DCMQRSCP_STUDIES FIND_COUNT=$FIND_COUNT FIND_SECONDS=$FIND_SECONDS MOVE_RUNS=$MOVE_RUNS" \
    > "$REPORT"
cat "$REPORT"
log "report written to $REPORT"
