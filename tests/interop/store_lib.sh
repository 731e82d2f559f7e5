# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the C-STORE interop tests (test_store_*.sh), sourced after
# lib.sh: synthetic instances, storescu logs, the files of the storage tree
# and bounded waits on background processes.

MAKE_INSTANCES="$(dirname "${BASH_SOURCE[0]}")/make_instances.py"
CONF="$TEST_TMP/cairn.conf"
STORAGE="$TEST_TMP/storage"

# Process ids of background peers, killed when the script exits.
PEER_PIDS=""

kill_peers() {
    local pid
    for pid in $PEER_PIDS; do
        kill -KILL "$pid" 2>/dev/null
    done
    PEER_PIDS=""
}

trap 'kill_peers; cleanup' EXIT

# start_watchdog SECONDS: ends the script with a failure after SECONDS.
# The shell handles the signal once its current foreground command returns,
# and each of those is bounded by a timeout. The watchdog exits by itself
# within a second of the script, however the script ends.
start_watchdog() {
    local script_pid=$$
    (
        for ((i = 0; i < $1; i++)); do
            sleep 1
            kill -0 "$script_pid" 2>/dev/null || exit 0
        done
        kill -TERM "$script_pid"
    ) >/dev/null 2>&1 &
    disown $!
    trap 'fail "test exceeded its time limit of '"$1"' s"; finish; exit 1' TERM
}

# wait_pid PID SECONDS: waits at most SECONDS for a background child, killing
# it after that, and sets WAIT_STATUS to its exit status (137 when killed).
wait_pid() {
    local pid=$1
    local steps=$(($2 * 10))
    local i

    for ((i = 0; i < steps; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "process $pid still runs after $2 s; killing it"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    WAIT_STATUS=$?
}

# kill_cairnd: ends cairnd with SIGKILL, so it cannot clean up. Unlike a power
# cut, this keeps what cairnd wrote to the page cache but did not sync.
kill_cairnd() {
    [ -n "$CAIRND_PID" ] || return 0
    kill -KILL "$CAIRND_PID" 2>/dev/null
    wait "$CAIRND_PID" 2>/dev/null
    CAIRND_PID=""
}

# json_length FILE: the number of elements of the JSON array in FILE, or "invalid".
json_length() {
    python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1" 2>/dev/null \
        || echo invalid
}

# json_columns FILE KEY...: prints the given keys of each row, tab-separated.
json_columns() {
    python3 - "$@" <<'PY'
import json, sys
for row in json.load(open(sys.argv[1])):
    print("\t".join(str(row.get(key)) for key in sys.argv[2:]))
PY
}

# instance_files: every file of the storage tree outside tmp/ and the index
# database, that is every file cairnd renamed into a hash folder.
instance_files() {
    find "$STORAGE" -mindepth 2 -type f -not -path "$STORAGE/tmp/*" 2>/dev/null | sort
}

# temporary_files: the files of <storage>/tmp/ and of its node folders, but
# the nodes' .lock files.
temporary_files() {
    find "$STORAGE/tmp" -mindepth 1 -not -type d -not -name .lock 2>/dev/null
}

# read_sop_uids OUT BAD FILE...: reads every FILE with one dcmdump run. Writes
# "file<TAB>SOP Instance UID" to OUT for each file that dcmdump read, and the
# names of the files it could not read to BAD.
read_sop_uids() {
    local out=$1
    local bad=$2
    shift 2

    : > "$out"
    : > "$bad"
    [ "$#" -gt 0 ] || return 0

    timeout 120 dcmdump -s +F +P 0008,0018 "$@" > "$out.dump" 2> "$out.err"
    sed -n 's/^E: dcmdump: .*: reading file: //p' "$out.err" | sort -u > "$bad"
    awk -v bad="$bad" '
        BEGIN { while ((getline line < bad) > 0) unreadable[line] = 1 }
        /^# dcmdump \([0-9]+\/[0-9]+\): / { file = $0; sub(/^# dcmdump \([0-9]+\/[0-9]+\): /, "", file); next }
        /^\(0008,0018\) UI \[/ {
            uid = $0; sub(/^\(0008,0018\) UI \[/, "", uid); sub(/\].*$/, "", uid)
            if (!(file in unreadable)) print file "\t" uid
        }' "$out.dump" > "$out"

    # A file that printed no SOP Instance UID and no error is unreadable too.
    printf '%s\n' "$@" | sort -u > "$out.all"
    cut -f 1 "$out" | sort -u > "$out.read"
    comm -23 "$out.all" "$out.read" | sort -u - "$bad" > "$bad.all"
    mv "$bad.all" "$bad"
}

# acknowledged_files LOG: the files whose C-STORE got a Success response, from
# the output of `storescu -v`. Each "Sending file:" line names the file of the
# next "Received Store Response" line.
acknowledged_files() {
    awk '
        /^I: Sending file: / { file = $0; sub(/^I: Sending file: /, "", file); next }
        /^I: Received Store Response \(Success\)/ { if (file != "") print file; file = "" }
    ' "$1"
}

# success_count LOG...: the number of Success responses in storescu -v logs.
success_count() {
    cat "$@" 2>/dev/null | grep -c '^I: Received Store Response (Success)'
}

# uids_of_files MANIFEST: reads file names on stdin, prints their SOP Instance UIDs.
uids_of_files() {
    awk -F '\t' 'NR == FNR { uid[$1] = $2; next } ($0 in uid) { print uid[$0] }' "$1" -
}

# rss_kib PID: the resident set size of a process in KiB, from /proc.
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
