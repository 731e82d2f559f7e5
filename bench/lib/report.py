#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turn the benchmark's results.tsv into a Markdown report on stdout.

Usage: report.py RESULTS_TSV [KEY=VALUE...]

The KEY=VALUE pairs describe the machine and the run; they are listed first.
Tables follow: association rate, small-instance ingest, large instances
(storescu and the C sender store_send) against dd, peak RSS per case, the
1 GiB RSS case, then the targets with their ratios (Cairn / best peer,
/ storescp, / Orthanc, / dd).
"""

import csv
import sys

PEERS = ["storescp", "dcmqrscp", "orthanc"]
SERVERS = ["cairn"] + PEERS
VARIANTS = ["shipped", "nodelay"]
VARIANT_TEXT = {"shipped": "as shipped", "nodelay": "TCP_NODELAY=1"}
# lib/null_scp.c, run in the association cases only: a floor, not a peer.
FLOOR_SERVER = "null"

# RSS growth allowed while the 1 GiB instance arrives, for "flat".
FLAT_LIMIT_MIB = 64


def load(path):
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows[(row["variant"], row["case"], row["server"])] = row
    return rows


def value(rows, variant, case, server):
    row = rows.get((variant, case, server))
    return float(row["value"]) if row else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(number, digits=1):
    return "-" if number is None else "%.*f" % (digits, number)


def fmt_ratio(number):
    return "-" if number is None else "%.2f" % number


def best_peer(rows, variant, case):
    found = [(value(rows, variant, case, peer), peer) for peer in PEERS]
    found = [pair for pair in found if pair[0] is not None]
    return max(found) if found else (None, None)


def table(header, lines):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def rate_table(rows, cases, floor=False):
    """With floor, adds the null responder's rate and Cairn's share of it."""
    header = ["case", "clients"] + SERVERS + ["best peer", "Cairn / best", "Cairn / storescp", "Cairn / Orthanc"]
    if floor:
        header += ["floor (null responder)", "Cairn / floor"]
    lines = []
    for case in cases:
        for variant in VARIANTS:
            if not any((variant, case, s) in rows for s in SERVERS):
                continue
            cairn = value(rows, variant, case, "cairn")
            best, best_name = best_peer(rows, variant, case)
            line = ([case, VARIANT_TEXT[variant]]
                    + [fmt(value(rows, variant, case, s)) for s in SERVERS]
                    + [best_name or "-",
                       fmt_ratio(ratio(cairn, best)),
                       fmt_ratio(ratio(cairn, value(rows, variant, case, "storescp"))),
                       fmt_ratio(ratio(cairn, value(rows, variant, case, "orthanc")))])
            if floor:
                null = value(rows, variant, case, FLOOR_SERVER)
                line += [fmt(null), fmt_ratio(ratio(cairn, null))]
            lines.append(line)
    return table(header, lines)


def large_table(rows, sizes):
    header = ["case", "sender"] + SERVERS + ["dd conv=fsync", "Cairn / dd", "Cairn / best peer"]
    lines = []
    for size in sizes:
        dd = value(rows, "-", "dd-%s" % size, "dd")
        for case, sender in (("large-%s" % size, "storescu"), ("large-c-%s" % size, "store_send")):
            if not any(("nodelay", case, s) in rows for s in SERVERS):
                continue
            cairn = value(rows, "nodelay", case, "cairn")
            best, _ = best_peer(rows, "nodelay", case)
            lines.append(["%s MiB instance" % size, sender]
                         + [fmt(value(rows, "nodelay", case, s)) for s in SERVERS]
                         + [fmt(dd), fmt_ratio(ratio(cairn, dd)), fmt_ratio(ratio(cairn, best))])
    return table(header, lines)


def rss_table(rows):
    cases = []
    for (variant, case, server) in rows:
        if server in SERVERS and not case.startswith("huge") and (variant, case) not in cases:
            cases.append((variant, case))
    lines = []
    for variant, case in cases:
        cells = []
        for server in SERVERS:
            row = rows.get((variant, case, server))
            cells.append("-" if row is None else "%.0f" % (int(row["peak_rss_kb"]) / 1024))
        lines.append([case, VARIANT_TEXT[variant]] + cells)
    return table(["case", "clients"] + SERVERS, lines)


def target_lines(rows, sizes):
    lines = []

    def add(name, measured, goal):
        met = "-" if measured is None else ("yes" if measured >= goal else "NO")
        lines.append([name, fmt_ratio(measured), ">= %.2f" % goal, met])

    for variant in VARIANTS:
        for case in ["assoc-echoscu-1", "assoc-echoscu-8", "assoc-c-1", "assoc-c-8"]:
            best, name = best_peer(rows, variant, case)
            add("%s, %s: Cairn / best peer (%s)" % (case, VARIANT_TEXT[variant], name),
                ratio(value(rows, variant, case, "cairn"), best), 2.0)
        cairn = value(rows, variant, "small-8", "cairn")
        add("small-8, %s: Cairn / storescp" % VARIANT_TEXT[variant],
            ratio(cairn, value(rows, variant, "small-8", "storescp")), 1.0)
        add("small-8, %s: Cairn / Orthanc" % VARIANT_TEXT[variant],
            ratio(cairn, value(rows, variant, "small-8", "orthanc")), 3.0)
    # The large-instance target uses the C sender (large-c-*): storescu's
    # start-up and CPU are inside the wall time of the storescu cases.
    for size in sizes:
        add("large-c-%s: Cairn / dd conv=fsync" % size,
            ratio(value(rows, "nodelay", "large-c-%s" % size, "cairn"),
                  value(rows, "-", "dd-%s" % size, "dd")), 0.8)

    idle = rows.get(("shipped", "huge-rss-idle", "cairn"))
    peak = rows.get(("shipped", "huge-rss-peak", "cairn"))
    if idle and peak:
        growth = (int(peak["peak_rss_kb"]) - int(idle["peak_rss_kb"])) / 1024
        lines.append(["1 GiB instance: Cairn RSS growth (MiB)", "%.0f" % growth,
                      "<= %d" % FLAT_LIMIT_MIB, "yes" if growth <= FLAT_LIMIT_MIB else "NO"])
    return table(["target", "measured", "goal", "met"], lines)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    rows = load(argv[1])
    info = dict(arg.split("=", 1) for arg in argv[2:] if "=" in arg)
    sizes = sorted({case.split("-")[-1] for (_, case, _) in rows if case.startswith("large-")}, key=int)

    out = ["# Cairn benchmark", ""]
    out += ["- %s: %s" % (key, text) for key, text in info.items()]
    out += ["",
            "Clients \"as shipped\" run Debian's DCMTK tools as installed (Nagle's",
            "algorithm on); \"TCP_NODELAY=1\" sets that variable for the DCMTK clients",
            "and for storescp, dcmqrscp and Orthanc. The C client echo_rate (assoc-c)",
            "always sets TCP_NODELAY. Cairn sets TCP_NODELAY and TCP_QUICKACK itself.",
            "",
            "## Association rate (associations/s: associate, C-ECHO, release)", "",
            rate_table(rows, ["assoc-echoscu-1", "assoc-echoscu-8", "assoc-c-1", "assoc-c-8"],
                       floor=True),
            "",
            "## Small instances (instances/s, storescu, %s associations)" % "1, 4 and 8", "",
            rate_table(rows, ["small-1", "small-4", "small-8"]),
            "",
            "## Large instances (MB/s, best of one sender and two at once, TCP_NODELAY=1)", "",
            large_table(rows, sizes),
            "",
            "## Peak RSS of the server during each case (MiB; process tree for dcmqrscp)", "",
            rss_table(rows),
            ""]

    idle = rows.get(("shipped", "huge-rss-idle", "cairn"))
    peak = rows.get(("shipped", "huge-rss-peak", "cairn"))
    if idle and peak:
        out += ["## Cairn RSS while a 1 GiB instance arrives", "",
                "idle %s MiB, peak %s MiB (%s)" % (idle["value"], peak["value"], peak["note"]), ""]

    out += ["## Targets", "", target_lines(rows, sizes), "",
            "## Notes per case", "",
            table(["variant", "case", "server", "value", "note"],
                  [[r["variant"], r["case"], r["server"], r["value"] + " " + r["unit"], r["note"]]
                   for r in rows.values()]),
            ""]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
