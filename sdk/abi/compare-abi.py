#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare two abidw descriptions of the SDK probe under the SDK's ABI rules.

The rules are those of docs/plugin-guide.md:
- a public struct keeps the offset, name and type of every member, and
  grows only by members appended past its old size;
- an enum keeps the value of every enumerator and may gain new ones;
- a typedef keeps its underlying type;
- the probe's functions keep their parameters.
Types are compared by name and shape, so a struct that grew does not count
as a change of every function pointer that takes it.

Usage: compare-abi.py BASELINE.xml CURRENT.xml
Prints one line per incompatible change. Exit status: 0 compatible,
1 incompatible, 2 unreadable input.
"""
import sys
import xml.etree.ElementTree as ET

TYPE_TAGS = {
    "type-decl", "typedef-decl", "pointer-type-def", "qualified-type-def",
    "reference-type-def", "array-type-def", "class-decl", "union-decl",
    "enum-decl", "function-type",
}


class Corpus:
    """The types and functions of one abidw file, indexed by id and name."""

    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.by_id = {}
        self.structs = {}
        self.enums = {}
        self.typedefs = {}
        self.functions = {}
        for element in root.iter():
            if element.tag in TYPE_TAGS and element.get("id"):
                self.by_id[element.get("id")] = element
            name = element.get("name")
            if element.tag in ("class-decl", "union-decl") and name:
                # A complete definition wins over an opaque declaration.
                if name not in self.structs or element.get("is-declaration-only") != "yes":
                    self.structs[name] = element
            elif element.tag == "enum-decl" and name:
                self.enums[name] = element
            elif element.tag == "typedef-decl" and name:
                self.typedefs[name] = element
            elif element.tag == "function-decl" and name:
                self.functions[name] = element

    def spell(self, type_id, depth=0):
        """Return a C-like spelling of a type that names structs, enums and
        typedefs instead of expanding them, since those are compared on
        their own."""
        element = self.by_id.get(type_id)
        if element is None or depth > 32:
            return "..." if type_id in (None, "variadic parameter type") else "?" + type_id
        tag = element.tag
        if tag in ("type-decl", "typedef-decl"):
            return element.get("name")
        if tag in ("class-decl", "union-decl"):
            return ("union " if tag == "union-decl" else "struct ") + (element.get("name") or "?")
        if tag == "enum-decl":
            return "enum " + (element.get("name") or "?")
        if tag == "pointer-type-def":
            return self.spell(element.get("type-id"), depth + 1) + "*"
        if tag == "qualified-type-def":
            qualifiers = [q for q in ("const", "volatile", "restrict") if element.get(q) == "yes"]
            return " ".join(qualifiers + [self.spell(element.get("type-id"), depth + 1)])
        if tag == "array-type-def":
            return "%s[%s bits]" % (self.spell(element.get("type-id"), depth + 1),
                                    element.get("size-in-bits"))
        if tag == "function-type":
            return self.spell_signature(element, depth + 1)
        return tag

    def spell_signature(self, element, depth=0):
        params = []
        returns = "void"
        for child in element:
            if child.tag == "parameter":
                if child.get("is-variadic") == "yes":
                    params.append("...")
                else:
                    params.append(self.spell(child.get("type-id"), depth))
            elif child.tag == "return":
                returns = self.spell(child.get("type-id"), depth)
        return "%s(%s)" % (returns, ", ".join(params))


def compare_structs(old, new, problems):
    for name, before in sorted(old.structs.items()):
        after = new.structs.get(name)
        if after is None:
            problems.append("struct %s was removed" % name)
            continue
        if before.get("is-declaration-only") == "yes":
            continue
        if after.get("is-declaration-only") == "yes":
            problems.append("struct %s lost its definition" % name)
            continue
        old_size = int(before.get("size-in-bits", "0"))
        new_size = int(after.get("size-in-bits", "0"))
        if new_size < old_size:
            problems.append("struct %s shrank from %d to %d bytes" % (name, old_size // 8,
                                                                      new_size // 8))
        old_members = members(old, before)
        new_members = members(new, after)
        for index, (offset, member, spelled) in enumerate(old_members):
            if index >= len(new_members):
                problems.append("struct %s: member %s was removed" % (name, member))
                continue
            new_offset, new_member, new_spelled = new_members[index]
            if (new_offset, new_member) != (offset, member):
                problems.append("struct %s: member %s at byte %d is now %s at byte %d (only "
                                "appending at the end is allowed)" % (
                                    name, member, offset // 8, new_member, new_offset // 8))
            elif new_spelled != spelled:
                problems.append("struct %s: member %s changed type from %s to %s" % (
                    name, member, spelled, new_spelled))
        # A member appended into the old tail padding would pass the
        # struct_size test of CAIRN_HOST_HAS while an older binary left
        # garbage there, so appended members must start past the old size.
        for offset, member, _ in new_members[len(old_members):]:
            if offset < old_size:
                problems.append("struct %s: appended member %s starts at byte %d, inside the "
                                "old size of %d bytes" % (name, member, offset // 8,
                                                          old_size // 8))


def members(corpus, struct):
    result = []
    for child in struct:
        if child.tag != "data-member":
            continue
        var = child.find("var-decl")
        result.append((int(child.get("layout-offset-in-bits", "0")), var.get("name"),
                       corpus.spell(var.get("type-id"))))
    return result


def compare_enums(old, new, problems):
    for name, before in sorted(old.enums.items()):
        after = new.enums.get(name)
        if after is None:
            problems.append("enum %s was removed" % name)
            continue
        values = {e.get("name"): e.get("value") for e in after.findall("enumerator")}
        for enumerator in before.findall("enumerator"):
            key = enumerator.get("name")
            if key not in values:
                problems.append("enum %s: enumerator %s was removed" % (name, key))
            elif values[key] != enumerator.get("value"):
                problems.append("enum %s: %s changed from %s to %s" % (
                    name, key, enumerator.get("value"), values[key]))
        old_base = old.spell(before.find("underlying-type").get("type-id"))
        new_base = new.spell(after.find("underlying-type").get("type-id"))
        if old_base != new_base:
            problems.append("enum %s: underlying type changed from %s to %s" % (
                name, old_base, new_base))


def compare_typedefs(old, new, problems):
    for name, before in sorted(old.typedefs.items()):
        if not name.startswith("cairn_"):
            continue
        after = new.typedefs.get(name)
        if after is None:
            problems.append("typedef %s was removed" % name)
            continue
        spelled = old.spell(before.get("type-id"))
        new_spelled = new.spell(after.get("type-id"))
        if spelled != new_spelled:
            problems.append("typedef %s changed from %s to %s" % (name, spelled, new_spelled))


def compare_functions(old, new, problems):
    for name, before in sorted(old.functions.items()):
        after = new.functions.get(name)
        if after is None:
            problems.append("function %s was removed" % name)
            continue
        spelled = old.spell_signature(before)
        new_spelled = new.spell_signature(after)
        if spelled != new_spelled:
            problems.append("function %s changed from %s to %s" % (name, spelled, new_spelled))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: %s BASELINE.xml CURRENT.xml" % argv[0], file=sys.stderr)
        return 2
    try:
        old = Corpus(argv[1])
        new = Corpus(argv[2])
    except (OSError, ET.ParseError) as error:
        print("compare-abi: %s" % error, file=sys.stderr)
        return 2

    problems = []
    compare_structs(old, new, problems)
    compare_enums(old, new, problems)
    compare_typedefs(old, new, problems)
    compare_functions(old, new, problems)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
