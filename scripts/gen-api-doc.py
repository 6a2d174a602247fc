#!/usr/bin/env python3
"""Generate docs/api.md, the C API reference, from the public headers.

Every exported function's doc comment, as written in include/tnt/, so the
reference cannot drift from the headers. `--check` compares instead of
writing (run by ctest) and also checks that every symbol of the ABI baseline
is documented, and that docs/symbols-in-versions lists exactly them.

usage: gen-api-doc.py [--check] SOURCE_DIR
"""
import os
import re
import sys

HEADERS = ["common.h", "version.h.in", "ids.h", "event.h", "document.h", "engine.h", "auth.h", "sys/alloc.h", "sys/backend.h"]
TITLES = {
    "common.h": "Common: status codes, errors, memory, lifecycle, versions",
    "version.h.in": "Compile-time version (tnt/version.h)",
    "ids.h": "GS1 identifiers",
    "event.h": "The event model",
    "document.h": "Reading documents",
    "engine.h": "The engine: ingest, track, history, replay, archive, master data",
    "auth.h": "Authenticity: verdicts, signed answers, brand keys and signed codes",
    "sys/alloc.h": "Systems API: the allocator",
    "sys/backend.h": "Systems API: storage backends",
}

DECL = re.compile(r"TNT_EXTERN\s+(.+?);", re.S)


def clean_comment(c):
    lines = []
    for line in c.strip()[3:-2].splitlines():
        line = re.sub(r"^\s*\* ?", "", line)
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def declaration(text, pos):
    """The declaration starting at pos: up to ';' at brace depth 0 (or one #define line)."""
    if text.startswith("#define", pos):
        return text[pos:text.index("\n", pos)]
    depth, i = 0, pos
    while i < len(text):
        c = text[i]
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            return text[pos:i + 1]
        i += 1
    return text[pos:]


def parse(path):
    text = open(path).read()
    items = []
    for m in re.finditer(r"/\*\*(?:(?!\*/).)*\*/\s*", text, re.S):
        start = m.end()
        if not re.match(r"TNT_EXTERN|typedef|#define", text[start:]):
            continue
        decl = declaration(text, start)
        if decl.startswith("TNT_EXTERN"):
            decl = " ".join(decl.split())
        items.append((clean_comment(m.group(0)), decl.strip()))
    return text, items


def name_of(decl):
    m = re.search(r"(\w+)\s*\(", decl)
    if decl.startswith("TNT_EXTERN") and m:
        return m.group(1)
    if decl.startswith("typedef"):
        m = re.search(r"\(\*\s*(\w+)\)", decl) or re.search(r"(\w+)\s*;$", decl)
    else:
        m = re.search(r"#define\s+(\w+)", decl)
    return m.group(1) if m else decl


def generate(src):
    out = ["# libtnt C API reference", "",
           "Generated from the public headers in `include/tnt/` by `scripts/gen-api-doc.py`; "
           "a test keeps it in step with them. Conventions: every fallible call returns a `tnt_status` "
           "(`TNT_OK` = 0, errors negative, see `TNT_STATUS_MAP`); outputs come first; memory the library "
           "hands over is freed with `tnt_free()` unless the function says otherwise; every function states "
           "its thread-safety. See also [abi.md](abi.md) and [threading.md](threading.md).", ""]
    documented = set()
    common = open(os.path.join(src, "include", "tnt", "common.h")).read()
    rows = re.findall(r'XX\((\w+), (-?\d+), "([^"]*)"\)', common)
    out += ["## Status codes", "", "From `TNT_STATUS_MAP` in `tnt/common.h`; `tnt_status_name()` and "
            "`tnt_status_str()` return the name and the text. Codes are never renumbered.", "",
            "| code | value | meaning |", "|---|---|---|"]
    out += ["| `TNT_%s` | %s | %s |" % r for r in rows]
    out.append("")
    for h in HEADERS:
        path = os.path.join(src, "include", "tnt", h)
        _, items = parse(path)
        out += ["## " + TITLES[h], "", "`#include <tnt/%s>`" % h.replace(".in", ""), ""]
        for doc, decl in items:
            name = name_of(decl)
            documented.add(name)
            out += ["### `%s`" % name, "", "```c", decl, "```", "", doc, ""]
    return "\n".join(out).rstrip() + "\n", documented


def main():
    check = "--check" in sys.argv
    src = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    text, documented = generate(src)
    target = os.path.join(src, "docs", "api.md")
    problems = []
    symbols = [l.strip() for l in open(os.path.join(src, "abi", "libtnt-1.symbols")) if l.strip()]
    missing = [s for s in symbols if s not in documented]
    if missing:
        problems.append("exported but undocumented: " + ", ".join(missing))
    siv = os.path.join(src, "docs", "symbols-in-versions")
    listed = [l.split()[0] for l in open(siv) if l.strip() and not l.startswith("#")]
    if sorted(listed) != sorted(symbols):
        problems.append("docs/symbols-in-versions differs from abi/libtnt-1.symbols: %s" %
                        sorted(set(listed) ^ set(symbols)))
    if check:
        if open(target).read() != text:
            problems.append("docs/api.md is out of date: run scripts/gen-api-doc.py .")
    else:
        open(target, "w").write(text)
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print("API reference: %d documented declarations, %d exported symbols, all documented" %
              (len(documented), len(symbols)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
