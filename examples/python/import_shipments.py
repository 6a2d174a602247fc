#!/usr/bin/env python3
"""Import an ERP shipment export (CSV) as EPCIS shipping events.

The CSV has a header line and one shipment a row:

    order,gtin,serials,from,to,shipped_at
    PO-1001,09506000134352,ABC100 ABC101,9506000000015,9506000000022,2024-03-01T08:00:00+01:00

``serials`` are separated by spaces or semicolons; ``from`` and ``to`` are
GLNs; ``shipped_at`` is an ISO 8601 time with its offset. Each row becomes one
ObjectEvent (bizStep shipping, disposition in_transit) naming every unit of
the shipment, the order as a purchase-order business transaction, and the
two sites as source and destination. Rows the library rejects are listed
with their line numbers; the others are stored.

usage: import_shipments.py SHIPMENTS.csv [--data DIR] [--master MASTER.json]
"""

import argparse
import csv
import re
import sys
from datetime import datetime

import tnt


def gln_uri(gln):
    return tnt.ids.normalize(f"(414){gln}")


def row_to_event(row):
    """One CSV row as an EPCIS 2.0 ObjectEvent (a dict)."""
    shipped = datetime.fromisoformat(row["shipped_at"].replace("Z", "+00:00"))
    if shipped.tzinfo is None:
        raise ValueError("shipped_at needs a time-zone offset")
    offset = shipped.strftime("%z")
    serials = [s for s in re.split(r"[\s;]+", row["serials"].strip()) if s]
    if not serials:
        raise ValueError("no serials")
    return {
        "type": "ObjectEvent",
        "eventTime": shipped.isoformat(),
        "eventTimeZoneOffset": f"{offset[:3]}:{offset[3:]}",
        "action": "OBSERVE",
        # the library checks each identifier (check digits, character sets) and canonicalises it
        "epcList": [f"https://id.gs1.org/01/{row['gtin']}/21/{s}" for s in serials],
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": gln_uri(row["from"])},
        "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{row['from']}:{row['order']}"}],
        "sourceList": [{"type": "location", "source": gln_uri(row["from"])}],
        "destinationList": [{"type": "location", "destination": gln_uri(row["to"])}],
    }


def read_rows(path):
    """(line number, event or the reason the row is unusable) per row."""
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            try:
                yield f"line {n}", row_to_event(row)
            except (ValueError, KeyError, tnt.InvalidInput) as e:
                yield f"line {n}", e


def main(argv=None):
    ap = argparse.ArgumentParser(description="Import an ERP shipment CSV as EPCIS shipping events.")
    ap.add_argument("csv")
    ap.add_argument("--data", default=None, help="the engine's data directory (default $TNT_DATA or ./tnt-data)")
    ap.add_argument("--master", help="master data to load first (JSON or CSV)")
    a = ap.parse_args(argv)

    lines, events, problems = [], [], []
    for line, ev in read_rows(a.csv):
        if isinstance(ev, Exception):
            problems.append(f"{line}: {ev}")
        else:
            lines.append(line)
            events.append(ev)

    with tnt.Engine(a.data) as engine:
        if a.master:
            print(f"master data: {engine.load_master(a.master)} records")
        report = engine.ingest(events)
    for r in report.rejections:
        first = r.errors[0]
        problems.append(f"{lines[r.index]}: rejected: {first.code} at {first.path}: {first.message}")
    units = sum(len(e["epcList"]) for e in events)
    print(f"{len(events)} shipments ({units} units): {report.accepted} stored, "
          f"{report.duplicates} already known, {report.rejected} rejected")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
