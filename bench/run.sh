#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Cairn's benchmark, run by hand (never by ctest or CI): starts cairnd and
# three peers (DCMTK storescp and dcmqrscp, Orthanc) one after the other on
# free loopback ports, measures association rate, small-instance ingest,
# large-instance throughput and server memory, and prints a Markdown report
# that is also written to bench/results/<date>.md. README.md in this folder
# describes each case. Every load loop is bounded in count and in time.
#
# Usage: bench/run.sh BUILD_DIR
# Settings (environment): ECHO_COUNT ECHO_SECONDS RAW_COUNT RAW_SECONDS
# SMALL_COUNT SMALL_SECONDS SERVERS BENCH_TMP KEEP_WORK=1 FLOOR=0.

set -u

BUILD_DIR=${1:?usage: bench/run.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
CAIRND="$BUILD_DIR/core/cairnd"
PY=/usr/bin/python3   # Debian's interpreter, which imports python3-pydicom
LIB="$BENCH_DIR/lib"

ECHO_COUNT=${ECHO_COUNT:-300}      # echoscu runs per client
ECHO_SECONDS=${ECHO_SECONDS:-8}    # time bound of one echoscu case
RAW_COUNT=${RAW_COUNT:-5000}       # echo_rate associations per client
RAW_SECONDS=${RAW_SECONDS:-5}      # time bound of one echo_rate case
SMALL_COUNT=${SMALL_COUNT:-500}    # small instances per association
SMALL_SECONDS=${SMALL_SECONDS:-15} # time bound of one small-ingest case
SERVERS=${SERVERS:-"cairn storescp dcmqrscp orthanc"}
FLOOR=${FLOOR:-1}                  # 1: association cases on lib/null_scp.c too
LARGE_SIZES="64 256"               # MiB of Pixel Data of the large instances
HUGE_SIZE=1024                     # MiB of the instance sent for the RSS case

for tool in echoscu storescu storescp dcmqrscp Orthanc timeout; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found; install dcmtk and orthanc" >&2; exit 1; }
done
[ -x "$CAIRND" ] || { echo "bench: $CAIRND not found; build first" >&2; exit 1; }
$PY -c 'import pydicom' 2>/dev/null || { echo "bench: $PY cannot import pydicom; install python3-pydicom" >&2; exit 1; }

# The work folder contains the servers' storage and the dd file, so all writes
# go to one disk. /var/tmp, unlike /tmp, is not a tmpfs on most systems.
WORK=$(mktemp -d "${BENCH_TMP:-/var/tmp}/cairn-bench.XXXXXX")
RESULTS="$WORK/results.tsv"
SRV_PID=""
SAMPLER_PID=""

cleanup() {
    stop_sampler
    stop_server
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "bench: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# record VARIANT CASE SERVER VALUE UNIT PEAK_RSS_KB NOTE
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"
    log "  $3 $2 ($1): $4 $5, peak RSS $(($6 / 1024)) MiB${7:+, $7}"
}

# --- memory sampling -------------------------------------------------------

start_sampler() {
    rm -f "$WORK/rss.out"
    $PY "$LIB/rss_sampler.py" "$SRV_PID" "$WORK/rss.out" 20 900 &
    SAMPLER_PID=$!
    sleep 0.1
}

# Stops the sampler and sets RSS_IDLE_KB and RSS_PEAK_KB.
stop_sampler() {
    RSS_IDLE_KB=0
    RSS_PEAK_KB=0
    [ -n "$SAMPLER_PID" ] || return 0
    kill -TERM "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null
    SAMPLER_PID=""
    [ -f "$WORK/rss.out" ] || return 0

    local idle peak hwm
    idle=$(sed -n 's/.*idle_kb=\([0-9]*\).*/\1/p' "$WORK/rss.out")
    peak=$(sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p' "$WORK/rss.out")
    hwm=$(sed -n 's/.*hwm_kb=\([0-9]*\).*/\1/p' "$WORK/rss.out")
    RSS_IDLE_KB=${idle:-0}
    RSS_PEAK_KB=$(( ${peak:-0} > ${hwm:-0} ? ${peak:-0} : ${hwm:-0} ))
}

# --- servers ---------------------------------------------------------------
# start_server NAME VARIANT sets SRV_PID, SRV_PORT, SRV_AET and SRV_DIR.
# Variant "shipped" runs every program as installed; variant "nodelay" sets
# TCP_NODELAY=1 in the environment of DCMTK programs (clients, storescp,
# dcmqrscp and Orthanc, which uses DCMTK's network layer): Debian's DCMTK
# 3.6.7 leaves Nagle's algorithm on unless that variable is set.

server_env() {
    if [ "$VARIANT" = nodelay ]; then echo TCP_NODELAY=1; else echo BENCH_VARIANT=shipped; fi
}

start_server() {
    SRV_NAME=$1
    VARIANT=$2
    SRV_PORT=$(free_port)
    SRV_DIR="$WORK/$SRV_NAME-$VARIANT"
    mkdir -p "$SRV_DIR"
    local env_setting
    env_setting=$(server_env)

    case $SRV_NAME in
    cairn)
        SRV_AET=CAIRN
        cat > "$SRV_DIR/cairn.conf" <<CONF
log = { level = "info"; };
api = { enabled = false; };
storage = { path = "$SRV_DIR/storage"; };
index = { plugin = "index-sqlite"; };
plugin_directory = "$BUILD_DIR/plugins";
plugins = {
  verification = { };
  storage = { };
  index-sqlite = { path = "$SRV_DIR/index.sqlite"; };
};
aes = (
  { title = "CAIRN"; port = $SRV_PORT; bind = "127.0.0.1";
    plugins = [ "verification", "storage" ]; }
);
CONF
        "$CAIRND" --config "$SRV_DIR/cairn.conf" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    storescp)
        SRV_AET=STORESCP
        mkdir -p "$SRV_DIR/out"
        env "$env_setting" storescp -od "$SRV_DIR/out" "$SRV_PORT" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    dcmqrscp)
        SRV_AET=DCMQRSCP
        mkdir -p "$SRV_DIR/db"
        cat > "$SRV_DIR/dcmqrscp.cfg" <<CONF
NetworkTCPPort  = $SRV_PORT
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
DCMQRSCP   $SRV_DIR/db   RW   (200, 1024mb)   ANY
AETable END
CONF
        env "$env_setting" dcmqrscp -c "$SRV_DIR/dcmqrscp.cfg" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    orthanc)
        SRV_AET=ORTHANC
        SRV_HTTP_PORT=$(free_port)
        cat > "$SRV_DIR/orthanc.json" <<CONF
{
  "Name": "cairn-bench",
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
  "Plugins": []
}
CONF
        env "$env_setting" Orthanc "$SRV_DIR/orthanc.json" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    null)
        # lib/null_scp.c: a floor for the association cases, not a peer.
        SRV_AET=NULLSCP
        "$WORK/null_scp" "$SRV_PORT" > "$SRV_DIR/server.log" 2>&1 &
        ;;
    *)
        echo "bench: unknown server $SRV_NAME" >&2
        exit 1
        ;;
    esac
    SRV_PID=$!

    for _ in $(seq 1 150); do
        if echoscu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            echo "bench: $SRV_NAME exited during start-up; its log:" >&2
            cat "$SRV_DIR/server.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench: $SRV_NAME did not answer C-ECHO within 15 s" >&2
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
    rm -rf "$SRV_DIR"
}

# Prints how many instances the running server has stored.
count_stored() {
    case $SRV_NAME in
    cairn) find "$SRV_DIR/storage" -path "$SRV_DIR/storage/tmp" -prune -o -type f -name '*.dcm' -print | wc -l ;;
    storescp) find "$SRV_DIR/out" -type f | wc -l ;;
    dcmqrscp) find "$SRV_DIR/db" -type f -name '*.dcm' | wc -l ;;
    orthanc)
        $PY -c 'import json, sys, urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:%s/statistics" % sys.argv[1], timeout=30))["CountInstances"])' "$SRV_HTTP_PORT"
        ;;
    esac
}

# --- cases -----------------------------------------------------------------

client_env() {
    if [ "$VARIANT" = nodelay ]; then echo TCP_NODELAY=1; else echo BENCH_VARIANT=shipped; fi
}

# Parses "ok=N failed=N seconds=S rate=R" into OK, FAILED and RATE.
parse_rate() {
    OK=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<< "$1")
    FAILED=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<< "$1")
    RATE=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<< "$1")
}

case_echoscu() {
    local clients=$1 line
    start_sampler
    line=$($PY "$LIB/loop.py" "$clients" "$ECHO_COUNT" "$ECHO_SECONDS" \
        env "$(client_env)" echoscu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT")
    stop_sampler
    parse_rate "$line"
    record "$VARIANT" "assoc-echoscu-$clients" "$SRV_NAME" "${RATE:-0}" "assoc/s" "$RSS_PEAK_KB" "ok=$OK failed=$FAILED"
}

# lib/echo_rate.c, compiled at start-up: the raw PDU exchange without
# process start-up, in C so the clients use little of the shared CPUs.
case_raw_echo() {
    local clients=$1 line
    start_sampler
    line=$("$WORK/echo_rate" 127.0.0.1 "$SRV_PORT" "$SRV_AET" "$clients" "$RAW_COUNT" "$RAW_SECONDS")
    stop_sampler
    parse_rate "$line"
    record "$VARIANT" "assoc-c-$clients" "$SRV_NAME" "${RATE:-0}" "assoc/s" "$RSS_PEAK_KB" "ok=$OK failed=$FAILED"
}

case_small() {
    local clients=$1 before after start seconds rate i
    local pids=()
    sync
    before=$(count_stored)
    start_sampler
    start=$(now)
    for i in $(seq 0 $((clients - 1))); do
        env "$(client_env)" timeout -k 2 "$SMALL_SECONDS" \
            storescu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" +sd "$WORK/in/s${clients}_$i" \
            > "$WORK/storescu-$i.log" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    seconds=$(elapsed_since "$start")
    stop_sampler
    after=$(count_stored)

    local stored=$((after - before)) expected=$((clients * SMALL_COUNT))
    rate=$(awk -v n="$stored" -v s="$seconds" 'BEGIN { printf "%.1f", n / s }')
    local note="$stored of $expected in ${seconds} s"
    [ "$stored" -lt "$expected" ] && note="$note (time bound reached or stores failed)"
    record "$VARIANT" "small-$clients" "$SRV_NAME" "$rate" "inst/s" "$RSS_PEAK_KB" "$note"
}

# store_large SENDER FILE...: sends each file on its own association, all
# at once, with storescu or with lib/store_send.c (SENDER "c"), and prints
# the MB/s of all file bytes over the wall time (sender start-up included),
# or 0 when not every file was stored.
store_large() {
    local sender=$1 bytes=0 before after start seconds file pids=()
    shift
    for file in "$@"; do
        bytes=$((bytes + $(stat -c %s "$file")))
        cat "$file" > /dev/null
    done
    sync
    before=$(count_stored)
    start=$(now)
    for file in "$@"; do
        if [ "$sender" = c ]; then
            timeout -k 2 120 "$WORK/store_send" 127.0.0.1 "$SRV_PORT" "$SRV_AET" "$file" \
                > "$WORK/store-send-large-${#pids[@]}.log" 2>&1 &
        else
            env "$(client_env)" timeout -k 2 120 \
                storescu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" "$file" > "$WORK/storescu-large-${#pids[@]}.log" 2>&1 &
        fi
        pids+=($!)
    done
    wait "${pids[@]}"
    seconds=$(elapsed_since "$start")
    after=$(count_stored)
    if [ $((after - before)) -eq $# ]; then
        awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.1f", b / 1e6 / s }'
    else
        echo 0
    fi
}

# case_large SENDER MIB: sends two distinct instances of MIB MiB one after
# the other, then two more at once on two associations (one storescu cannot
# keep up with a fast receiver), and records the best MB/s of the three as
# large-MIB (SENDER storescu) or large-c-MIB (SENDER c, lib/store_send.c).
# Each sender has its own four instances, since a server keeps only one
# copy of an instance that arrives twice.
case_large() {
    local sender=$1 mib=$2 best=0 mbs notes="" name="large-$2"
    [ "$sender" = c ] && name="large-c-$mib"
    start_sampler
    for run in a b ab; do
        case $run in
        a | b) mbs=$(store_large "$sender" "$WORK/in/$name-$run.dcm") ;;
        ab) mbs=$(store_large "$sender" "$WORK/in/$name-c.dcm" "$WORK/in/$name-d.dcm") ;;
        esac
        [ "$mbs" = 0 ] && notes="$notes store $run failed;"
        notes="$notes $run=$mbs"
        best=$(awk -v a="$best" -v b="$mbs" 'BEGIN { print (b > a) ? b : a }')
    done
    stop_sampler
    record "$VARIANT" "$name" "$SRV_NAME" "$best" "MB/s" "$RSS_PEAK_KB" "runs:$notes"
}

# dd with fsync on the work folder's disk: the better MB/s of two runs.
case_dd() {
    local mib=$1 best=0 rep start seconds mbs notes=""
    for rep in 1 2; do
        sync
        start=$(now)
        dd if=/dev/zero of="$WORK/dd.bin" bs=1M count="$mib" conv=fsync status=none
        seconds=$(elapsed_since "$start")
        rm -f "$WORK/dd.bin"
        mbs=$(awk -v m="$mib" -v s="$seconds" 'BEGIN { printf "%.1f", m * 1048576 / 1e6 / s }')
        notes="$notes $mbs"
        best=$(awk -v a="$best" -v b="$mbs" 'BEGIN { print (b > a) ? b : a }')
    done
    record "-" "dd-$mib" "dd" "$best" "MB/s" 0 "runs:$notes"
}

# A 1 GiB instance arrives at a freshly started cairnd; its RSS should stay flat.
case_huge_rss() {
    start_server cairn shipped
    local file="$WORK/in/huge.dcm" bytes start seconds mbs before after
    bytes=$(stat -c %s "$file")
    cat "$file" > /dev/null
    sync
    before=$(count_stored)
    start_sampler
    sleep 1
    start=$(now)
    timeout -k 2 300 storescu -aec "$SRV_AET" 127.0.0.1 "$SRV_PORT" "$file" > "$WORK/storescu-huge.log" 2>&1
    seconds=$(elapsed_since "$start")
    stop_sampler
    after=$(count_stored)
    mbs=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.1f", b / 1e6 / s }')
    [ $((after - before)) -eq 1 ] || mbs=0
    record shipped "huge-rss-idle" cairn "$((RSS_IDLE_KB / 1024))" "MiB" "$RSS_IDLE_KB" ""
    record shipped "huge-rss-peak" cairn "$((RSS_PEAK_KB / 1024))" "MiB" "$RSS_PEAK_KB" "$HUGE_SIZE MiB instance at $mbs MB/s"
    stop_server
}

# --- main ------------------------------------------------------------------

BENCH_START=$(now)
log "work folder $WORK ($(stat -f -c %T "$WORK"))"
printf 'variant\tcase\tserver\tvalue\tunit\tpeak_rss_kb\tnote\n' > "$RESULTS"

log "making instances: small sets of $SMALL_COUNT, large $LARGE_SIZES MiB, $HUGE_SIZE MiB"
mkdir -p "$WORK/in"
for clients in 1 4 8; do
    for i in $(seq 0 $((clients - 1))); do
        $PY "$LIB/make_instances.py" small "$WORK/in" "s${clients}_$i" "$SMALL_COUNT" &
    done
    wait
done
for mib in $LARGE_SIZES; do
    for run in a b c d; do
        $PY "$LIB/make_instances.py" large "$WORK/in/large-$mib-$run.dcm" "$mib"
        $PY "$LIB/make_instances.py" large "$WORK/in/large-c-$mib-$run.dcm" "$mib"
    done
done
cc -O2 -o "$WORK/echo_rate" "$LIB/echo_rate.c" || { echo "bench: cannot compile $LIB/echo_rate.c" >&2; exit 1; }
cc -O2 -o "$WORK/null_scp" "$LIB/null_scp.c" || { echo "bench: cannot compile $LIB/null_scp.c" >&2; exit 1; }
cc -O2 -o "$WORK/store_send" "$LIB/store_send.c" || { echo "bench: cannot compile $LIB/store_send.c" >&2; exit 1; }
$PY "$LIB/make_instances.py" large "$WORK/in/huge.dcm" "$HUGE_SIZE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# dd runs right before Cairn's large cases, so the two see the same load on
# a shared disk; without cairn in SERVERS it runs here.
if [[ " $SERVERS " != *" cairn "* ]]; then
    log "dd with fsync"
    for mib in $LARGE_SIZES; do case_dd "$mib"; done
fi

for server in $SERVERS; do
    for VARIANT in shipped nodelay; do
        log "$server, variant $VARIANT"
        start_server "$server" "$VARIANT"
        for clients in 1 8; do case_echoscu "$clients"; done
        for clients in 1 8; do case_raw_echo "$clients"; done
        for clients in 1 4 8; do case_small "$clients"; done
        if [ "$VARIANT" = nodelay ]; then
            if [ "$server" = cairn ]; then
                log "dd with fsync"
                for mib in $LARGE_SIZES; do case_dd "$mib"; done
            fi
            for mib in $LARGE_SIZES; do case_large storescu "$mib"; done
            for mib in $LARGE_SIZES; do case_large c "$mib"; done
        fi
        stop_server
    done
done

# The null responder answers with no work of its own, so its rates are
# what no server can beat here with the same clients.
if [ "$FLOOR" = 1 ]; then
    for VARIANT in shipped nodelay; do
        log "null responder (floor), variant $VARIANT"
        start_server null "$VARIANT"
        for clients in 1 8; do case_echoscu "$clients"; done
        for clients in 1 8; do case_raw_echo "$clients"; done
        stop_server
    done
fi

if [[ " $SERVERS " == *" cairn "* ]]; then
    log "cairn, RSS while a $HUGE_SIZE MiB instance arrives"
    case_huge_rss
fi

TOTAL_SECONDS=$(elapsed_since "$BENCH_START")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$BENCH_DIR/results"
REPORT="$BENCH_DIR/results/$(date +%Y-%m-%d).md"
[ -e "$REPORT" ] && REPORT="$BENCH_DIR/results/$(date +%Y-%m-%d-%H%M%S).md"
$PY "$LIB/report.py" "$RESULTS" \
    "cairn_rev=$(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)" \
    "nproc=$(nproc)" \
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "memory=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
    "disk=$(df -P "$WORK" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$WORK"))" \
    "kernel=$(uname -r)" \
    "dcmtk=$(dpkg-query -W -f '${Version}' dcmtk 2>/dev/null)" \
    "orthanc=$(dpkg-query -W -f '${Version}' orthanc 2>/dev/null)" \
    "load=$LOAD_START at start, $LOAD_END at end" \
    "seconds=$TOTAL_SECONDS" \
    "settings=ECHO_COUNT=$ECHO_COUNT ECHO_SECONDS=$ECHO_SECONDS RAW_COUNT=$RAW_COUNT RAW_SECONDS=$RAW_SECONDS SMALL_COUNT=$SMALL_COUNT SMALL_SECONDS=$SMALL_SECONDS" \
    > "$REPORT"
cat "$REPORT"
log "report written to $REPORT"
