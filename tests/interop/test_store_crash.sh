#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Durability of C-STORE across crashes of either side.
#
# First, storescu is killed with SIGKILL while it sends a 200 MiB instance,
# once cairnd's <storage>/tmp/ contains a growing .part file. cairnd must then
# index nothing, keep no file in the storage tree, remove its temporary file
# within 10 s and keep answering C-ECHO.
#
# Then cairnd itself is killed with SIGKILL while four storescu processes
# send 200 small instances each, once early and once halfway through the
# ingest. After each restart on the same storage folder, every instance that
# got a Success response must be indexed with a file that dcmdump reads and
# whose SOP Instance UID matches, every file of the tree must be readable,
# tmp/ must be empty, and `cairn check` must pass.
#
# Usage: tests/interop/test_store_crash.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

UID_ROOT="1.2.826.0.1.3680043.9.7433.99.$$"
LARGE_BYTES=$((200 * 1024 * 1024))
SENDERS=4
PER_SENDER=200

start_watchdog 170
started_at=$SECONDS

# --- storescu killed in the middle of a large C-STORE ---------------------

python3 "$MAKE_INSTANCES" large "$TEST_TMP/large.dcm" --uid-root "$UID_ROOT.0" \
    --pixel-bytes "$LARGE_BYTES"
check "large instance of 200 MiB is written" test -s "$TEST_TMP/large.dcm"

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP/large.dcm" > "$TEST_TMP/large-storescu.log" 2>&1 &
sender=$!
PEER_PIDS="$PEER_PIDS $sender"

# Wait (at most 10 s) for a .part file, then for it to grow, then kill storescu.
part=""
first_size=0
grown=no
for _ in $(seq 1 2000); do
    if [ -z "$part" ]; then
        part=$(find "$STORAGE/tmp" -name '*.part' -size +0 2>/dev/null | head -n 1)
        [ -n "$part" ] && first_size=$(stat -c %s "$part" 2>/dev/null || echo 0)
    else
        size=$(stat -c %s "$part" 2>/dev/null || echo 0)
        if [ "$size" -gt "$first_size" ]; then
            grown=yes
            break
        fi
    fi
    kill -0 "$sender" 2>/dev/null || break
    sleep 0.005
done
kill -KILL "$sender" 2>/dev/null
wait_pid "$sender" 10
check "cairnd wrote a growing .part file during the transfer ($part)" test "$grown" = yes
check "storescu was killed before it finished (exit status $WAIT_STATUS)" test "$WAIT_STATUS" -eq 137

left=""
for _ in $(seq 1 100); do
    left=$(temporary_files)
    [ -z "$left" ] && break
    sleep 0.1
done
check "temporary file is removed within 10 s of the abort" test -z "$left"
[ -n "$left" ] && echo "    still in tmp/: $left"
open_tmp=$(ls -l "/proc/$CAIRND_PID/fd" 2>/dev/null | grep -F "$STORAGE/tmp/" | grep -v '/\.lock$')
check "cairnd keeps no descriptor open in tmp/ after the abort" test -z "$open_tmp"
[ -n "$open_tmp" ] && echo "    open: ${open_tmp#* -> }"

files=$(instance_files)
check "no file is kept in the storage tree" test -z "$files"
[ -n "$files" ] && echo "$files" | head -n 5 | sed 's/^/    /'

timeout 60 "$CAIRN" --config "$CONF" instances --json > "$TEST_TMP/after-abort.json" 2>&1
count=$(json_length "$TEST_TMP/after-abort.json")
check "no instance is indexed after the abort (got $count)" test "$count" = 0

timeout 30 echoscu -aec CAIRN 127.0.0.1 "$PORT" > /dev/null 2>&1
check "cairnd answers C-ECHO after the abort" test $? -eq 0
grep -E 'assoc [0-9]+ STORESCU' "$TEST_TMP/cairnd.log" | tail -n 2 | sed 's/^/    cairnd: /'
echo "    part A took $((SECONDS - started_at)) s"

# --- cairnd killed during concurrent ingest --------------------------------

# crash_round ROUND KILL_AFTER: sends SENDERS x PER_SENDER new instances and
# kills cairnd once KILL_AFTER of them got a Success response, then restarts it
# and checks what the storage folder and the index hold.
crash_round() {
    local round=$1
    local kill_after=$2
    local dir="$TEST_TMP/round$round"
    local round_start=$SECONDS
    local pids=""
    local acked alive

    python3 "$MAKE_INSTANCES" series "$dir" --count $((SENDERS * PER_SENDER)) \
        --uid-root "$UID_ROOT.$round" --studies 2 --series-per-study 2
    ls "$dir" | grep '^inst-' | sort | split -l "$PER_SENDER" - "$dir/list-"

    for list in "$dir"/list-*; do
        (cd "$dir" && exec storescu -v -aec CAIRN 127.0.0.1 "$PORT" $(cat "$list")) \
            > "$list.log" 2>&1 &
        pids="$pids $!"
    done
    PEER_PIDS="$PEER_PIDS $pids"

    # Wait (at most 60 s) for kill_after Success responses, then kill cairnd.
    acked=0
    for _ in $(seq 1 3000); do
        acked=$(success_count "$dir"/list-*.log)
        [ "$acked" -ge "$kill_after" ] && break
        sleep 0.02
    done
    alive=0
    for pid in $pids; do
        kill -0 "$pid" 2>/dev/null && alive=$((alive + 1))
    done
    kill_cairnd
    echo "    round $round: killed cairnd after $acked Success responses, $alive of $SENDERS senders running"
    check "round $round: cairnd is killed during the ingest" \
        test "$acked" -ge "$kill_after" -a "$alive" -gt 0

    for pid in $pids; do
        wait_pid "$pid" 30
    done

    for list in "$dir"/list-*.log; do
        acknowledged_files "$list"
    done | sort -u | uids_of_files "$dir/manifest.tsv" | sort -u > "$dir/acked.txt"
    echo "    round $round: $(wc -l < "$dir/acked.txt") instances got Success in all"

    # Restart on the same storage folder.
    start_cairnd || { fail "round $round: cairnd restarts on the same storage"; return; }
    left=$(temporary_files)
    check "round $round: tmp/ is empty after the restart" test -z "$left"
    [ -n "$left" ] && echo "$left" | head -n 5 | sed 's/^/    /'

    timeout 60 "$CAIRN" --config "$CONF" instances --json > "$dir/instances.json" 2> "$dir/instances.err"
    check "round $round: cairn instances --json exits 0" test $? -eq 0
    json_columns "$dir/instances.json" sop_instance_uid path | sort > "$dir/indexed.tsv"
    cut -f 1 "$dir/indexed.tsv" | sort -u > "$dir/indexed-uids.txt"

    local missing
    missing=$(comm -23 "$dir/acked.txt" "$dir/indexed-uids.txt")
    check "round $round: every acknowledged instance is indexed" test -z "$missing"
    [ -n "$missing" ] && echo "$missing" | head -n 10 | sed 's/^/    not indexed: /'

    # Every acknowledged instance's file is read back with its own SOP Instance UID.
    local paths=()
    local uid path
    while IFS=$'\t' read -r uid path; do
        paths+=("$STORAGE/$path")
    done < <(awk -F '\t' 'NR == FNR { acked[$1] = 1; next } ($1 in acked)' \
                 "$dir/acked.txt" "$dir/indexed.tsv")
    read_sop_uids "$dir/acked-read.tsv" "$dir/acked-bad.txt" "${paths[@]}"
    check "round $round: dcmdump reads every acknowledged file" test ! -s "$dir/acked-bad.txt"
    head -n 5 "$dir/acked-bad.txt" | sed 's/^/    unreadable: /'
    local mismatched
    mismatched=$(awk -F '\t' -v root="$STORAGE/" '
        FILENAME == ARGV[1] { acked[$1] = 1; next }
        FILENAME == ARGV[2] { read_uid[substr($1, length(root) + 1)] = $2; next }
        ($1 in acked) && read_uid[$2] != $1 { print $1 " in " $2 " reads as [" read_uid[$2] "]" }
    ' "$dir/acked.txt" "$dir/acked-read.tsv" "$dir/indexed.tsv")
    check "round $round: each acknowledged file holds its SOP Instance UID" test -z "$mismatched"
    [ -n "$mismatched" ] && echo "$mismatched" | head -n 5 | sed 's/^/    mismatch: /'

    # Nothing half-written is visible anywhere in the tree.
    mapfile -t paths < <(instance_files)
    read_sop_uids "$dir/tree-read.tsv" "$dir/tree-bad.txt" "${paths[@]}"
    check "round $round: dcmdump reads all ${#paths[@]} files of the storage tree" \
        test ! -s "$dir/tree-bad.txt"
    head -n 5 "$dir/tree-bad.txt" | sed 's/^/    unreadable: /'

    timeout 120 "$CAIRN" --config "$CONF" check > "$dir/check.out" 2>&1
    local rc=$?
    check "round $round: cairn check passes after the restart (exit $rc)" test "$rc" -eq 0
    if [ "$rc" -ne 0 ]; then
        sed 's/^/    check: /' "$dir/check.out" | head -n 20
        if grep -q '^Problems: 0 missing, 0 size mismatch(es), 0 unreadable, 0 UID mismatch(es), [1-9][0-9]* orphan(s), 0 temporary' "$dir/check.out"; then
            echo "    round $round: check fails only on orphans: files renamed into the tree whose index commit the kill prevented"
        fi

        # Start the next round from a consistent archive, so its check reports its own kill.
        stop_cairnd
        timeout 120 "$CAIRN" --config "$CONF" check --repair --min-age 0 > "$dir/repair.out" 2>&1
        check "round $round: cairn check --repair --min-age 0 makes the archive consistent" test $? -eq 0
        start_cairnd || fail "round $round: cairnd restarts after the repair"
    fi
    echo "    round $round took $((SECONDS - round_start)) s"
}

crash_round 1 30
crash_round 2 $((SENDERS * PER_SENDER / 2))

stop_cairnd
check_no_sanitizer_report
echo "    total $((SECONDS - started_at)) s"
finish
