#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Concurrent C-STORE and memory per association.
#
# Eight storescu associations send 250 distinct instances each at the same
# time, 2000 in all, spread over 4 studies (one patient each) of 3 series.
# Every C-STORE must get Success, the index must list exactly 2000 instances,
# and the instance, series and study counts of `cairn series`, `cairn
# studies` and `cairn patients` must match what was sent.
#
# Then storescu sends one 200 MiB instance while cairnd's VmRSS is sampled
# every 100 ms. Its peak, and the kernel's VmHWM after a reset, must stay
# within 64 MiB of the idle RSS, because cairnd streams a C-STORE data set to
# its temporary file instead of holding it in memory.
#
# Usage: tests/interop/test_store_concurrent.sh BUILD_DIR

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store_lib.sh"

UID_ROOT="1.2.826.0.1.3680043.9.7433.99.$$"
SENDERS=8
PER_SENDER=250
TOTAL=$((SENDERS * PER_SENDER))
STUDIES=4
SERIES_PER_STUDY=3
LARGE_BYTES=$((200 * 1024 * 1024))
RSS_MARGIN_KIB=$((64 * 1024))

start_watchdog 170
started_at=$SECONDS

dir="$TEST_TMP/instances"
python3 "$MAKE_INSTANCES" series "$dir" --count "$TOTAL" --uid-root "$UID_ROOT.1" \
    --studies "$STUDIES" --series-per-study "$SERIES_PER_STUDY"
check "$TOTAL instances are written" test "$(wc -l < "$dir/manifest.tsv")" -eq "$TOTAL"
ls "$dir" | grep '^inst-' | sort | split -l "$PER_SENDER" - "$dir/list-"
lists=("$dir"/list-??)

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts"; finish; exit 1; }

# --- 8 associations at once ------------------------------------------------

send_start=$SECONDS
pids=""
for list in "${lists[@]}"; do
    (cd "$dir" && exec timeout 120 storescu -v -aec CAIRN 127.0.0.1 "$PORT" $(cat "$list")) \
        > "$list.log" 2>&1 &
    pids="$pids $!"
done
PEER_PIDS="$PEER_PIDS $pids"

set -- $pids
for list in "${lists[@]}"; do
    wait_pid "$1" 130
    check "storescu of $(basename "$list") exits 0 (got $WAIT_STATUS)" test "$WAIT_STATUS" -eq 0
    shift
done
echo "    $TOTAL instances sent over $SENDERS associations in $((SECONDS - send_start)) s"

for list in "$dir"/list-*.log; do
    successes=$(success_count "$list")
    check "$(basename "$list" .log): $PER_SENDER Success responses (got $successes)" \
        test "$successes" -eq "$PER_SENDER"
done
for list in "$dir"/list-*.log; do
    acknowledged_files "$list"
done | sort -u | uids_of_files "$dir/manifest.tsv" | sort -u > "$dir/acked.txt"
check "every sent instance got Success ($(wc -l < "$dir/acked.txt") distinct)" \
    test "$(wc -l < "$dir/acked.txt")" -eq "$TOTAL"
grep -hE '^(E|W): ' "$dir"/list-*.log | sort | uniq -c | head -n 5 | sed 's/^/    storescu: /'

# --- listings --------------------------------------------------------------

for level in instances series studies patients; do
    timeout 60 "$CAIRN" --config "$CONF" "$level" --json > "$TEST_TMP/$level.json" \
        2> "$TEST_TMP/$level.err"
    check "cairn $level --json exits 0" test $? -eq 0
done

count=$(json_length "$TEST_TMP/instances.json")
check "instances lists exactly $TOTAL rows (got $count)" test "$count" = "$TOTAL"
json_columns "$TEST_TMP/instances.json" sop_instance_uid | sort -u > "$TEST_TMP/indexed-uids.txt"
cut -f 2 "$dir/manifest.tsv" | sort -u > "$TEST_TMP/sent-uids.txt"
check "instances lists every sent SOP Instance UID once" \
    cmp -s "$TEST_TMP/indexed-uids.txt" "$TEST_TMP/sent-uids.txt"

# compare_counts NAME EXPECTED ACTUAL: passes when the two sorted tab-separated files are equal.
compare_counts() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1 (expected < > listed)"
        diff "$2" "$3" | head -n 10 | sed 's/^/    /'
    fi
}

# Expected counts from the manifest, whose columns are file, SOP, study and series UIDs.
awk -F '\t' '{ n[$4 "\t" $3]++ } END { for (k in n) print k "\t" n[k] }' "$dir/manifest.tsv" \
    | sort > "$TEST_TMP/expected-series.tsv"
awk -F '\t' '{ s[$3]++; if (!(($3, $4) in seen)) { seen[$3, $4] = 1; r[$3]++ } }
     END { for (k in s) print k "\t" r[k] "\t" s[k] }' "$dir/manifest.tsv" \
    | sort > "$TEST_TMP/expected-studies.tsv"
check "sent instances span $((STUDIES * SERIES_PER_STUDY)) series" \
    test "$(wc -l < "$TEST_TMP/expected-series.tsv")" -eq $((STUDIES * SERIES_PER_STUDY))

json_columns "$TEST_TMP/series.json" series_instance_uid study_instance_uid instance_count \
    | sort > "$TEST_TMP/listed-series.tsv"
compare_counts "series lists each series with its study and instance count" \
    "$TEST_TMP/expected-series.tsv" "$TEST_TMP/listed-series.tsv"

json_columns "$TEST_TMP/studies.json" study_instance_uid series_count instance_count \
    | sort > "$TEST_TMP/listed-studies.tsv"
compare_counts "studies lists each study with its series and instance counts" \
    "$TEST_TMP/expected-studies.tsv" "$TEST_TMP/listed-studies.tsv"

# Each study has its own patient, so a patient has 1 study and that study's counts.
awk -F '\t' '{ print "1\t" $2 "\t" $3 }' "$TEST_TMP/expected-studies.tsv" \
    | sort > "$TEST_TMP/expected-patients.tsv"
json_columns "$TEST_TMP/patients.json" study_count series_count instance_count \
    | sort > "$TEST_TMP/listed-patients.tsv"
compare_counts "patients lists each patient with its study, series and instance counts" \
    "$TEST_TMP/expected-patients.tsv" "$TEST_TMP/listed-patients.tsv"

timeout 120 "$CAIRN" --config "$CONF" check > "$TEST_TMP/check.out" 2>&1
rc=$?
check "cairn check passes after the concurrent ingest (exit $rc)" test "$rc" -eq 0
[ "$rc" -ne 0 ] && sed 's/^/    check: /' "$TEST_TMP/check.out" | head -n 20

# --- memory while a large instance arrives ---------------------------------

python3 "$MAKE_INSTANCES" large "$TEST_TMP/large.dcm" --uid-root "$UID_ROOT.2" \
    --pixel-bytes "$LARGE_BYTES"
large_size=$(stat -c %s "$TEST_TMP/large.dcm")

sleep 1
idle_kib=$(rss_kib "$CAIRND_PID")
echo 5 > "/proc/$CAIRND_PID/clear_refs"
peak_kib=$idle_kib
samples=0

timeout 120 storescu -aec CAIRN 127.0.0.1 "$PORT" "$TEST_TMP/large.dcm" \
    > "$TEST_TMP/large-storescu.log" 2>&1 &
sender=$!
PEER_PIDS="$PEER_PIDS $sender"
for _ in $(seq 1 1200); do
    rss=$(rss_kib "$CAIRND_PID")
    samples=$((samples + 1))
    [ -n "$rss" ] && [ "$rss" -gt "$peak_kib" ] && peak_kib=$rss
    kill -0 "$sender" 2>/dev/null || break
    sleep 0.1
done
wait_pid "$sender" 10
check "storescu sends the 200 MiB instance (exit $WAIT_STATUS)" test "$WAIT_STATUS" -eq 0
hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$CAIRND_PID/status")
echo "    idle RSS ${idle_kib} KiB, sampled peak ${peak_kib} KiB over $samples samples, VmHWM ${hwm_kib} KiB"
check "sampled RSS peak stays within 64 MiB of idle (+$((peak_kib - idle_kib)) KiB)" \
    test $((peak_kib - idle_kib)) -lt "$RSS_MARGIN_KIB"
check "VmHWM stays within 64 MiB of idle (+$((hwm_kib - idle_kib)) KiB)" \
    test $((hwm_kib - idle_kib)) -lt "$RSS_MARGIN_KIB"

timeout 60 "$CAIRN" --config "$CONF" instances --json > "$TEST_TMP/after-large.json" 2>&1
large_uid="$UID_ROOT.2.3.1"
stored_size=$(json_columns "$TEST_TMP/after-large.json" sop_instance_uid size \
    | awk -F '\t' -v uid="$large_uid" '$1 == uid { print $2 }')
echo "    sent file ${large_size} bytes, archived file ${stored_size:-none} bytes"
check "large instance is indexed with more than 200 MiB" \
    test "${stored_size:-0}" -gt "$LARGE_BYTES"

stop_cairnd
check_no_sanitizer_report
echo "    total $((SECONDS - started_at)) s"
finish
