#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turn the Q/R benchmark's results.tsv into a Markdown report on stdout.

Usage: qr_report.py RESULTS_TSV [KEY=VALUE...]

Each line of RESULTS_TSV is "case, server, KEY=VALUE ..." as run_qr.sh
records it. The KEY=VALUE arguments describe the machine and the run and
are listed first. Tables follow: the scale each server was loaded at, the
C-FIND round trips with the rows each server returned (from find_rate and
from findscu), the C-MOVE rates, then the targets (Cairn's median under
10 ms, at least 10 times faster than the best peer, and the same rows from
every server, so that the comparison holds).
"""

import csv
import sys

SERVERS = ["cairn", "dcmqrscp", "orthanc"]
PEERS = SERVERS[1:]
FIND_CASES = [
    ("find-study-name-dates", "STUDY, Patient's Name wildcard + one-year Study Date range"),
    ("find-series-of-study", "SERIES, the series of one study"),
    ("find-image-of-series", "IMAGE, the instances of one series"),
]
MEDIAN_TARGET_MS = 10.0
PEER_RATIO_TARGET = 10.0


def load(path):
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            fields = {}
            for pair in row["values"].split():
                key, _, value = pair.partition("=")
                fields[key] = value
            rows[(row["case"], row["server"])] = (row["values"], fields)
    return rows


def number(rows, case, server, key):
    found = rows.get((case, server))
    if found is None or key not in found[1]:
        return None
    try:
        return float(found[1][key])
    except ValueError:
        return None


def fmt(value, digits=2):
    return "-" if value is None else "%.*f" % (digits, value)


def table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def best_move(rows, server):
    rates = [number(rows, case, server, "rate") for (case, s) in rows if s == server
             and case.startswith("move-")]
    rates = [r for r in rates if r is not None]
    return max(rates) if rates else None


def main(argv):
    rows = load(argv[1])
    out = ["# Cairn Query/Retrieve benchmark", ""]
    out += ["- %s: %s" % tuple(arg.split("=", 1)) for arg in argv[2:]]

    out += ["", "## Archives", ""]
    out.append(table(["server", "loaded", "load seconds"],
                     [[s, rows[("load", s)][0].rsplit(" seconds=", 1)[0],
                       fmt(number(rows, "load", s, "seconds"), 1)]
                      for s in SERVERS if ("load", s) in rows]))
    if ("files", "peers") in rows:
        out += ["", "The peers' DICOM files were written in %s s (%s)." % (
            fmt(number(rows, "files", "peers", "seconds"), 1),
            rows[("files", "peers")][0].rsplit(" seconds=", 1)[0])]

    out += ["", "## C-FIND round trips (ms, one association, TCP_NODELAY=1 for the peers)", ""]
    lines = []
    targets = []
    for case, text in FIND_CASES:
        cairn = number(rows, case, "cairn", "median_ms")
        peers = [(number(rows, case, p, "median_ms"), p) for p in PEERS]
        peers = [pair for pair in peers if pair[0] is not None]
        best = min(peers) if peers else (None, None)
        ratio = best[0] / cairn if cairn and best[0] is not None else None
        line = [text]
        counts = set()
        for server in SERVERS:
            matches = number(rows, case, server, "matches")
            checked = number(rows, case, server, "findscu_rows")
            if (case, server) in rows:
                counts.update([matches, checked])
            line.append("%s / %s, min %s (%s rows, findscu %s)" % (
                fmt(number(rows, case, server, "median_ms")),
                fmt(number(rows, case, server, "p99_ms")),
                fmt(number(rows, case, server, "min_ms")),
                fmt(matches, 0), fmt(checked, 0)))
        same = len(counts) == 1 and None not in counts
        line += [best[1] or "-", fmt(ratio), "yes" if same else "NO"]
        lines.append(line)
        targets.append(("%s: same rows from every server" % case, None, "equal", same))
        targets.append(("%s: Cairn median (ms)" % case, cairn, "< %g" % MEDIAN_TARGET_MS,
                        cairn is not None and cairn < MEDIAN_TARGET_MS))
        targets.append(("%s: best peer (%s) median / Cairn median" % (case, best[1]), ratio,
                        ">= %g" % PEER_RATIO_TARGET,
                        ratio is not None and ratio >= PEER_RATIO_TARGET))
    out.append(table(["query", "cairn median / p99, min", "dcmqrscp median / p99, min",
                      "orthanc median / p99, min", "best peer", "best peer / Cairn",
                      "same rows"], lines))

    out += ["", "## C-MOVE of a 500-instance study to DCMTK storescp (instances/s)", ""]
    lines = []
    cairn_move = best_move(rows, "cairn")
    for server in SERVERS:
        runs = [rows[key][0] for key in sorted(rows) if key[1] == server
                and key[0].startswith("move-")]
        if not runs:
            continue
        best = best_move(rows, server)
        lines.append([server, fmt(best, 1),
                      fmt(cairn_move / best if cairn_move and best else None),
                      "<br>".join(runs)])
    out.append(table(["server", "best rate", "Cairn / server", "runs"], lines))

    out += ["", "## Targets", ""]
    out.append(table(["target", "measured", "goal", "met"],
                     [[t[0], fmt(t[1]), t[2], "yes" if t[3] else "NO"] for t in targets]))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
