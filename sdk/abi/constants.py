#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Dump or compare the constant macros of the SDK headers.

Macro values such as CAIRN_DIMSE_*, CAIRN_TAG_*, CAIRN_ROLE_* and
CAIRN_QUERY_* are compiled into plugins, so changing one breaks the ABI
although abidw never sees it. This script evaluates every object-like
CAIRN_ macro that expands to an integer or a string literal with the C
compiler, and compares two such lists.

Usage:
  constants.py dump INCLUDE_DIR      print "NAME VALUE" lines, sorted
  constants.py compare BASELINE CURRENT
Exit status of compare: 0 every baseline constant kept its value,
1 a constant changed or disappeared, 2 usage or tool error.
"""
import os
import re
import subprocess
import sys
import tempfile

# The SDK version itself changes with every release by design.
VERSION_MACROS = {"CAIRN_SDK_ABI_MAJOR", "CAIRN_SDK_ABI_MINOR", "CAIRN_SDK_VERSION"}
DEFINE = re.compile(r"^#define (CAIRN_[A-Z0-9_]+) (.+)$")
# Expansions that are integer expressions of literals, CAIRN_TAG and CAIRN_VR_CODE.
INTEGER = re.compile(r"^[0-9A-Fa-fxXuUlL()|&<>+\-~ ,'A-Z_]*$")


def compiler():
    return os.environ.get("CC", "cc")


def macros(include_dir):
    """Return {name: expansion} of the object-like CAIRN_ macros worth keeping."""
    output = subprocess.run(
        [compiler(), "-E", "-dM", "-std=c11", "-I", include_dir, "-include", "cairn/cairn.h",
         "-x", "c", os.devnull],
        check=True, capture_output=True, text=True).stdout
    result = {}
    for line in output.splitlines():
        match = DEFINE.match(line)
        if match is None or match.group(1) in VERSION_MACROS:
            continue
        name, expansion = match.group(1), match.group(2).strip()
        if expansion.startswith('"') or (INTEGER.match(expansion) and
                                         re.search(r"[0-9]", expansion)):
            result[name] = expansion
    return result


def dump(include_dir):
    found = macros(include_dir)
    lines = ['#include <stdio.h>', '#include <cairn/cairn.h>', 'int main(void)', '{']
    for name, expansion in sorted(found.items()):
        if expansion.startswith('"'):
            lines.append('    printf("%%s %%s\\n", "%s", %s);' % (name, name))
        else:
            lines.append('    printf("%%s %%llu\\n", "%s", (unsigned long long)(%s));'
                         % (name, name))
    lines += ['    return 0;', '}']

    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "constants.c")
        program = os.path.join(work, "constants")
        with open(source, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        subprocess.run([compiler(), "-std=c11", "-I", include_dir, "-o", program, source],
                       check=True)
        sys.stdout.write(subprocess.run([program], check=True, capture_output=True,
                                        text=True).stdout)
    return 0


def read_list(path):
    values = {}
    with open(path) as handle:
        for line in handle:
            name, _, value = line.rstrip("\n").partition(" ")
            if name:
                values[name] = value
    return values


def compare(baseline_path, current_path):
    baseline = read_list(baseline_path)
    current = read_list(current_path)
    problems = 0
    for name, value in sorted(baseline.items()):
        if name not in current:
            print("constant %s was removed" % name)
            problems += 1
        elif current[name] != value:
            print("constant %s changed from %s to %s" % (name, value, current[name]))
            problems += 1
    return 1 if problems else 0


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "dump":
            return dump(argv[2])
        if len(argv) == 4 and argv[1] == "compare":
            return compare(argv[2], argv[3])
    except (OSError, subprocess.CalledProcessError) as error:
        print("constants.py: %s" % error, file=sys.stderr)
        return 2
    print("usage: constants.py dump INCLUDE_DIR | compare BASELINE CURRENT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
