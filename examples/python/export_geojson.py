#!/usr/bin/env python3
"""Export a product's journey as GeoJSON.

Every event of the unit (oldest first) becomes a Point at its location — the
coordinates come from the location master data (GLN → latitude, longitude),
or from a ``geo:`` read point — with the time, business step, disposition and
place name as properties; a LineString joins the places in order, ending at
the destination when the unit is in transit. Open the file in any map tool
(geojson.io, QGIS, ...).

usage: export_geojson.py ID [--data DIR] [-o journey.geojson]
"""

import argparse
import json
import sys

import tnt


def place(engine, uri, cache):
    """(name, [lon, lat]) of a location identifier, from master data; None if unknown."""
    if uri in cache:
        return cache[uri]
    found = None
    if uri.startswith("geo:"):
        lat, lon = (float(v) for v in uri[4:].split(";")[0].split(",")[:2])
        found = (uri, [lon, lat])
    else:
        try:
            gln = tnt.ids.parse(uri).ai("414")
            if gln:
                loc = engine.get_master(tnt.LOCATION, gln)
                if "latitude" in loc and "longitude" in loc:
                    found = (loc.get("name", gln), [loc["longitude"], loc["latitude"]])
        except (tnt.InvalidInput, tnt.NotFound):
            pass
    cache[uri] = found
    return found


def journey_geojson(engine, id):
    features, line, cache = [], [], {}
    last = None
    for ev in engine.journey(id):
        where = ev.biz_location or ev.read_point
        p = place(engine, where, cache) if where else None
        if p is None:
            continue
        name, coords = p
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
                         "properties": {"time": ev.event_time.isoformat(), "biz_step": ev.biz_step,
                                        "disposition": ev.disposition, "place": name, "event": ev.hash_id}})
        if not line or line[-1] != coords:
            line.append(coords)
        last = ev
    if last is not None and last.disposition == "in_transit":
        for kind, dest in last.destinations:
            p = place(engine, dest, cache) if kind == "location" else None
            if p:
                features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": p[1]},
                                 "properties": {"place": p[0], "biz_step": "destination"}})
                line.append(p[1])
    if len(line) > 1:
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
                         "properties": {"id": tnt.ids.normalize(id)}})
    return {"type": "FeatureCollection", "features": features}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a product's journey as GeoJSON.")
    ap.add_argument("id", help="the unit, case or pallet, in any identifier form")
    ap.add_argument("--data", default=None, help="the engine's data directory (default $TNT_DATA or ./tnt-data)")
    ap.add_argument("-o", "--output", help="write here instead of standard output")
    a = ap.parse_args(argv)
    try:
        with tnt.Engine(a.data) as engine:
            doc = journey_geojson(engine, a.id)
    except tnt.NotFound as e:
        print(f"export_geojson: {e}", file=sys.stderr)
        return 1
    text = json.dumps(doc, indent=2)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
