#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Eight storescu associations store new studies of one patient at the same
# time on PostgreSQL. Every instance carries Other Patient IDs Sequence, a
# patient-level sequence the index keeps, so each store touches the one
# patient row. Every C-STORE must succeed, promptly, and every instance
# must be in the index: concurrent stores of a patient must neither
# deadlock nor exhaust their retries.
#
# Usage: tests/interop/pg/test_same_patient.sh BUILD_DIR (under ctest, after pg.start)

export CAIRN_TEST_INDEX=postgresql
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../store_lib.sh"

SENDERS=8
PER_SENDER=40
TOTAL=$((SENDERS * PER_SENDER))
MAKE_SMALL="$(cd "$(dirname "$0")/../../.." && pwd)/bench/lib/make_instances.py"

for tool in storescu findscu; do
    command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; exit 1; }
done
/usr/bin/python3 -c 'import pydicom' 2>/dev/null || { fail "pydicom is installed"; finish; exit 1; }
start_watchdog 120

# Each folder contains one new study of the same patient, built from pydicom's CT_small.dcm.
for i in $(seq 1 $SENDERS); do
    /usr/bin/python3 "$MAKE_SMALL" small "$TEST_TMP/in" "sender$i" "$PER_SENDER" \
        || { fail "instances for sender $i are written"; finish; exit 1; }
done
check "the instances carry Other Patient IDs Sequence" \
    sh -c "dcmdump +P 0010,1002 '$TEST_TMP/in/sender1/00000.dcm' | grep -q SQ"

PORT=$(free_port)
write_config
start_cairnd || { fail "cairnd starts on PostgreSQL"; finish; exit 1; }

started=$SECONDS
pids=()
for i in $(seq 1 $SENDERS); do
    TCP_NODELAY=1 timeout 60 storescu -aec CAIRN 127.0.0.1 "$PORT" +sd "$TEST_TMP/in/sender$i" \
        > "$TEST_TMP/storescu-$i.log" 2>&1 &
    pids+=($!)
done
failed_senders=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed_senders=$((failed_senders + 1))
done
elapsed=$((SECONDS - started))

check "every storescu exits 0 ($failed_senders failed)" test "$failed_senders" -eq 0
check "no storescu reports a failed C-STORE" \
    sh -c "! grep -qiE 'failed|error|status: [^0]' '$TEST_TMP'/storescu-*.log"
check "the $TOTAL stores end within 45 s (took $elapsed s)" test "$elapsed" -le 45

timeout 60 "$CAIRN" --config "$TEST_TMP/cairn.conf" instances --json > "$TEST_TMP/instances.json" 2>&1
indexed=$(json_length "$TEST_TMP/instances.json")
check "the index holds $TOTAL instances (holds $indexed)" test "$indexed" = "$TOTAL"
check "cairnd logs no deadlock" sh -c "! grep -qi deadlock '$TEST_TMP/cairnd.log'"

studies=$(findscu -S -k QueryRetrieveLevel=STUDY -k PatientID -k StudyInstanceUID \
    127.0.0.1 "$PORT" -aec CAIRN 2>&1 | grep -c "(0020,000d)")
check "C-FIND finds the $SENDERS studies (found $studies)" test "$studies" -eq "$SENDERS"

check "cairnd still runs" cairnd_alive
check_no_sanitizer_report
finish
