#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Run a command over and over from several concurrent clients.

Usage: loop.py CLIENTS COUNT SECONDS COMMAND [ARG...]

CLIENTS threads each start COMMAND at most COUNT times, one run after the
other, and start no new run after SECONDS; each run is killed after 30 s.
Prints one line: "ok=N failed=N seconds=S rate=R", where ok counts runs
that exited 0 and R is ok runs per second of wall time.
"""

import subprocess
import sys
import threading
import time


def client(command, count, deadline, totals, lock):
    ok = failed = 0
    for _ in range(count):
        if time.monotonic() >= deadline:
            break
        try:
            result = subprocess.run(command, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, timeout=30)
            if result.returncode == 0:
                ok += 1
            else:
                failed += 1
        except subprocess.TimeoutExpired:
            failed += 1
    with lock:
        totals[0] += ok
        totals[1] += failed


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    clients, count, seconds = int(argv[1]), int(argv[2]), float(argv[3])
    command = argv[4:]

    totals, lock = [0, 0], threading.Lock()
    start = time.monotonic()
    threads = [threading.Thread(target=client,
                                args=(command, count, start + seconds, totals, lock))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start

    print("ok=%d failed=%d seconds=%.3f rate=%.1f"
          % (totals[0], totals[1], elapsed, totals[0] / elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
