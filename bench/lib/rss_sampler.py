#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Sample the resident memory of a server process and its children.

Usage: rss_sampler.py PID OUTFILE [INTERVAL_MS [MAX_SECONDS]]

At start, writes 5 to /proc/PID/clear_refs of every process in the tree, so
VmHWM restarts from the current VmRSS (Linux 4.0 and later, own processes
only). Then, every INTERVAL_MS (default 20), sums VmRSS over PID and all its
descendants, which covers servers that fork per association (dcmqrscp).
Stops on SIGTERM or after MAX_SECONDS (default 900) and writes to OUTFILE:
"idle_kb=A peak_kb=B hwm_kb=C samples=N", where idle is the first sample,
peak the largest sampled sum, and hwm the largest VmHWM seen for any one
process of the tree (it catches peaks shorter than the interval).
"""

import os
import signal
import sys
import time

stopping = False


def on_term(_signum, _frame):
    global stopping
    stopping = True


def children_of(pid):
    found = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                found.extend(int(x) for x in handle.read().split())
    except OSError:
        pass
    return found


def process_tree(root):
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children_of(pid))
    return tree


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_hwm(pid):
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as handle:
            handle.write("5")
    except OSError:
        pass


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    root, out_file = int(argv[1]), argv[2]
    interval = (int(argv[3]) if len(argv) > 3 else 20) / 1000.0
    max_seconds = float(argv[4]) if len(argv) > 4 else 900.0
    signal.signal(signal.SIGTERM, on_term)

    for pid in process_tree(root):
        reset_hwm(pid)

    idle = None
    peak = hwm = samples = 0
    deadline = time.monotonic() + max_seconds
    while not stopping and time.monotonic() < deadline:
        tree = process_tree(root)
        total = sum(status_kb(pid, "VmRSS") for pid in tree)
        hwm = max([hwm] + [status_kb(pid, "VmHWM") for pid in tree])
        if idle is None:
            idle = total
        peak = max(peak, total)
        samples += 1
        time.sleep(interval)

    with open(out_file, "w") as handle:
        handle.write("idle_kb=%d peak_kb=%d hwm_kb=%d samples=%d\n"
                     % (idle or 0, peak, hwm, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
