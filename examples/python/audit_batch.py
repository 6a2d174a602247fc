#!/usr/bin/env python3
"""Audit a batch: authenticate every serial and print a table of verdicts.

The codes come from a file (one scanned code a line, any identifier form, or
the ``serials`` column of an ERP shipment CSV with its ``gtin``), or as a GTIN
and serials on the command line. Each is checked as a partner's status check
that records nothing (a dry run), so an audit does not look like consumer
scans to the clone detection. Exit status 1 when any code is not genuine.

usage: audit_batch.py (--codes FILE | --gtin GTIN SERIAL...) [--data DIR] [--json]
"""

import argparse
import csv
import json
import re
import sys

import tnt

GOOD = ("GENUINE", "GENUINE_CAUTION")


def codes_from_file(path):
    with open(path, newline="", encoding="utf-8") as f:
        head = f.readline()
        f.seek(0)
        if "serials" in head and "gtin" in head:
            for row in csv.DictReader(f):
                for s in re.split(r"[\s;]+", row["serials"].strip()):
                    if s:
                        yield f"(01){row['gtin']}(21){s}"
        else:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    yield line.strip()


def audit(engine, codes):
    """[(code, verdict)] in input order, each code once."""
    seen, rows = set(), []
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        rows.append((code, engine.authenticate(code, role="partner", intent="status", record=False)))
    return rows


def table(rows):
    w = max([len(c) for c, _ in rows] + [4])
    out = [f"{'code':<{w}}  {'verdict':<16} {'conf.':>5}  reasons", f"{'-' * w}  {'-' * 16} {'-' * 5}  {'-' * 30}"]
    for code, v in rows:
        reasons = ", ".join(r.code for r in v.reasons) or "-"
        out.append(f"{code:<{w}}  {v.verdict:<16} {v.confidence:>5.2f}  {reasons}")
    counts = {}
    for _, v in rows:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    out.append("")
    out.append(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f" ({len(rows)} codes)")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Authenticate every serial of a batch and print the verdicts.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--codes", help="a file of codes, or an ERP shipment CSV")
    src.add_argument("--gtin", help="the GTIN of the serials that follow")
    ap.add_argument("serials", nargs="*")
    ap.add_argument("--data", default=None, help="the engine's data directory (default $TNT_DATA or ./tnt-data)")
    ap.add_argument("--json", action="store_true", help="one JSON answer per line instead of the table")
    a = ap.parse_args(argv)
    if a.gtin and not a.serials:
        ap.error("--gtin needs serials")
    codes = codes_from_file(a.codes) if a.codes else (f"(01){a.gtin}(21){s}" for s in a.serials)
    with tnt.Engine(a.data) as engine:
        rows = audit(engine, codes)
    if a.json:
        for code, v in rows:
            print(json.dumps({"code": code, "verdict": v.verdict, "confidence": v.confidence,
                              "reasons": [r.to_dict() for r in v.reasons]}))
    else:
        print(table(rows))
    return 0 if all(v.verdict in GOOD for _, v in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
