#!/usr/bin/env python3
"""Differential test: libtnt's validator against GS1's EPCIS 2.0 JSON schema.

usage: test_schema.py TNT CONFORMANCE_DIR VENV_DIR [--seed N] [--out FILE] [-v]

Every GS1 example event (tests/conformance/gs1-epcis/JSON/**.jsonld) and the
events of the schema's own tests (JSON-Schema/test/*.json) are mutated,
deterministically, into thousands of variants: each field removed, each value
given every other JSON type, CBV values replaced by unknown words, custom URIs,
URN and Web URI forms, broken timestamps and offsets, bad units, hexBinary,
emptied lists, extra members, duplicates, unprefixed keys, fields moved to an
event type that does not have them, and so on. Each variant is judged by the
GS1 JSON schema (Draft 7 with the date-time and uri formats, both the split
JSON-Schema/ files and the single EPCIS-JSON-Schema.json) and by
`tnt validate`. The test fails when

- the schema rejects a variant that libtnt accepts, or
- libtnt rejects a variant the schema accepts for a reason that is not one of
  the documented stricter rules (STRICTER below, docs/validation.md), or
- an unmutated example is not valid for both.

The schema's Python dependencies (jsonschema, rfc3339-validator, rfc3987) are
installed into VENV_DIR when the running Python lacks them.
"""
import copy
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import zlib

DEPS = ["jsonschema==4.26.0", "rfc3339-validator==0.1.4", "rfc3987==1.3.8"]


def ensure_deps(venv):
    try:
        import jsonschema  # noqa: F401
        import rfc3339_validator  # noqa: F401
        import rfc3987  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("TNT_SCHEMA_VENV_ACTIVE"):
        sys.exit("test_schema: the venv at %s lacks %s" % (venv, DEPS))
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *DEPS], check=True)
    os.environ["TNT_SCHEMA_VENV_ACTIVE"] = "1"
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


# ---------------------------------------------------------------------------
# The rules by which libtnt is stricter than the schema. Each is
# (id, code, path regex, message regex); a rejection of a variant the schema
# accepts must match one of them. Every id is described in docs/validation.md.
STRICTER = [
    ("gs1-identifier", "IDENTIFIER", r"", r""),
    ("cbv-namespace", "VOCABULARY", r"", r"is not a CBV [^;]*; use a standard value"),
    ("unit-measure", "UNIT", r"\.uom$", r""),
    ("sensor-uom-syntax", "FORMAT", r"sensorReport\[\d+\]\.uom$", r"UN/CEFACT"),
    ("hexbinary-pairs", "FORMAT", r"\.hexBinaryValue$", r"even number"),
    ("uom-needs-quantity", "REQUIRED", r"Quantity\w*\[\d+\]\.quantity$|quantityList\[\d+\]\.quantity$", r""),
    ("quantity-nonnegative", "RANGE", r"\.quantity$", r""),
    ("sensor-ranges", "RANGE", r"\.(percRank|sDev|minValue|startTime)$", r""),
    ("epc-duplicates", "DUPLICATE", r"\.(childEPCs|epcList)\[\d+\]$", r""),
    ("pd-disjoint", "DUPLICATE", r"\.persistentDisposition\.unset\[\d+\]$", r"both set and unset"),
    ("aggregation-parent", "REQUIRED", r"\.parentID$", r"AggregationEvent"),
    ("location-extension-prefix", "UNKNOWN_FIELD", r"\.(readPoint|bizLocation)\.[^.]+$", r""),
    ("xsd-datetime", "FORMAT", r"[tT]ime$", r"^invalid timestamp"),
    ("context-terms", "CONTEXT", r"\.@context(\[\d+\])?$", r"^unsupported @context"),
    ("extension-event-type", "EVENT_TYPE", r"\.type$", r""),
    ("future-event-time", "FUTURE", r"\.eventTime$", r""),
]

NOW_MS = "4102444800000"  # 2100-01-01: no example lies in the future


def stricter_rules(errors):
    """The stricter rule of each error, None where there is none. An event of
    an extension type is refused as a whole, so its other errors need no rule."""
    rules = [stricter_rule(*e) for e in errors]
    return [r or "extension-event-type" for r in rules] if "extension-event-type" in rules else rules


def stricter_rule(code, path, message):
    for rid, c, p, m in STRICTER:
        if c == code and re.search(p, path) and re.search(m, message):
            return rid
    return None


# ---------------------------------------------------------------------------
# The schema.
class Schema:
    def __init__(self, conf):
        import jsonschema
        from referencing import Registry, Resource

        base = os.path.join(conf, "gs1-epcis")
        split_dir = os.path.join(base, "JSON-Schema")
        resources = []
        for f in glob.glob(os.path.join(split_dir, "*.json")) + glob.glob(os.path.join(split_dir, "schemas", "*.json")):
            doc = json.load(open(f, encoding="utf-8"))
            resources.append((doc["$id"], Resource.from_contents(doc)))
        registry = Registry().with_resources(resources)
        fc = jsonschema.Draft7Validator.FORMAT_CHECKER
        # Without these the schema would silently check less than it says.
        assert "uri" in fc.checkers and "date-time" in fc.checkers, "format checkers for uri/date-time missing"
        root = json.load(open(os.path.join(split_dir, "EPCIS-JSON-Schema-root.json"), encoding="utf-8"))
        single = json.load(open(os.path.join(base, "EPCIS-JSON-Schema.json"), encoding="utf-8"))
        # Both forms of the schema agreed on every variant when checked; the
        # split one doubles the run time, so it is judged with TNT_SCHEMA_BOTH=1.
        self.validators = {"single": jsonschema.Draft7Validator(single, format_checker=fc)}
        if os.environ.get("TNT_SCHEMA_BOTH") == "1":
            self.validators["split"] = jsonschema.Draft7Validator(root, registry=registry, format_checker=fc)

    def judge(self, doc, list_path):
        """Per event index of doc[list_path]: {schema name: first error message}."""
        out = {}
        n = len(list_path)
        for name, v in self.validators.items():
            for e in v.iter_errors(doc):
                p = list(e.absolute_path)
                if p[:n] != list_path or len(p) <= n:
                    raise AssertionError("document-level schema error (%s): %s at %s" % (name, e.message, p))
                out.setdefault(p[n], {}).setdefault(name, "%s at %s" % (e.message[:200], "/".join(map(str, p[n + 1:]))))
        return out


# ---------------------------------------------------------------------------
# Mutations. Each yields (operator, label, event).
CBV = {
    "bizStep": ("BizStep-", "bizstep", "shipping"),
    "disposition": ("Disp-", "disp", "in_transit"),
    "btt": ("BTT-", "btt", "po"),
    "sdt": ("SDT-", "sdt", "owning_party"),
    "reason": ("ER-", "er", "incorrect_data"),
    "component": ("Comp-", "comp", "x"),
}

TIMES = [
    "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000+01:00", "2020-01-01T00:00:00.123456789-05:30",
    "2020-01-01T00:00:00", "2020-01-01T00:00Z", "2020-01-01", "2020-13-01T00:00:00Z", "2020-02-30T00:00:00Z",
    "2021-02-29T00:00:00Z", "2020-02-29T00:00:00Z", "2020-01-32T00:00:00Z", "2020-01-01T24:00:00Z",
    "2020-01-01T23:60:00Z", "2020-01-01T23:59:60Z", "2020-01-01T23:59:61Z", "2020-01-01t00:00:00z",
    "2020-01-01 00:00:00Z", "2020-1-1T0:0:0Z", "20200101T000000Z", "2020-01-01T00:00:00+0100",
    "2020-01-01T00:00:00+01", "2020-01-01T00:00:00+24:00", "2020-01-01T00:00:00+23:59", "2020-01-01T00:00:00-00:00",
    "2020-01-01T00:00:00+01:60", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00,5Z", "0000-01-01T00:00:00Z",
    "+2020-01-01T00:00:00Z", "2020-01-01T00:00:00ZZ", " 2020-01-01T00:00:00Z", "", "yesterday",
    "2200-01-01T00:00:00Z",
]
OFFSETS = [
    "+00:00", "-00:00", "+14:00", "-14:00", "+13:59", "-13:59", "+14:01", "+15:00", "+05:30", "+05:60", "Z",
    "+0100", "01:00", "+1:00", "+01:0", "+01:00:00", " +01:00", "+01:00 ", "", "UTC", "+１１:00",
]
URIS = [
    "urn:example:x", "https://example.com/a/b?c=d#e", "x:", "x:y", "a+b-c.d:e", "1x:y", "-x:y", "x y:z",
    "http://", "http:///a", "http://a:80/", "http://a:b/", "http://[::1]/", "http://[::1/", "http://[v7.x]/",
    "http://[fe80::1%25eth0]/", "http://u@a/", "http://u:p@a/", "http://a@b@c/", "http://a/b c", "http://a/%41",
    "http://a/%4", "http://a/%zz", "http://a/#f#g", "http://a/?q?r", "urn:x:[y]", "http://a/[b]", "http://a/é",
    "http://a/b\\c", "http://a/b|c", "http://a/b^c", "http://a/b`c", "http://a/b{c}", "http://a/b\"c", "http://a/b<c>",
    "mailto:a@b.c", "urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2017x",
    "https://id.gs1.org/01/09506000134352/21/A1", "https://id.gs1.org/01/09506000134353/21/A1",
    "https://example.com/01/09506000134352", "relative/path", "//a/b", "", " ", "urn:x:y ", "HTTP://A/",
    "http://a:99999999999999999999/", "http://1.2.3.4/", "http://a.b/c;d=e", "file:///etc", "ni:///sha-256;abc?ver=CBV2.0",
    "tag:a,2020:b", "x:\u0000",
]
UOMS = ["KGM", "kgm", "KG", "K", "KGMX", "K G", "", "1", "A93", "CEL", "FAH", "LTR", "XYZ", "C62", "P1", "E32"]
HEXES = ["0A", "0a", "ABC", "", "0x0A", "GG", "0A 0B", "deadBEEF", "0"]
# Values of a type other than the field's: one per JSON kind.
KINDS = [("null", None), ("bool", True), ("number", 7), ("string", "urn:example:x"), ("array", []), ("object", {})]


def kind_of(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def walk(v, path=()):
    """Every (path, value) below v, depth first."""
    if isinstance(v, dict):
        for k, c in v.items():
            yield path + (k,), c
            yield from walk(c, path + (k,))
    elif isinstance(v, list):
        for i, c in enumerate(v):
            yield path + (i,), c
            yield from walk(c, path + (i,))


def objects(v, path=()):
    if isinstance(v, dict):
        yield path, v
    for p, c in walk(v, path):
        if isinstance(c, dict):
            yield p, c


def get(ev, path):
    for k in path:
        ev = ev[k]
    return ev


def with_value(ev, path, value):
    e = copy.deepcopy(ev)
    get(e, path[:-1])[path[-1]] = copy.deepcopy(value)
    return e


def without(ev, path):
    e = copy.deepcopy(ev)
    del get(e, path[:-1])[path[-1]]
    return e


def ps(path):
    return "".join("[%d]" % k if isinstance(k, int) else "." + k for k in path)


def cbv_kind(path):
    """The CBV vocabulary of the value at path, or None."""
    last = path[-1]
    s = [k for k in path if isinstance(k, str)]
    if isinstance(last, int) and len(s) >= 2 and s[-2] == "persistentDisposition":
        return "disposition"
    if isinstance(last, int):
        return None
    if last in ("bizStep", "disposition") and len(path) == 1:
        return last
    if last == "type" and len(s) >= 2:
        return {"bizTransactionList": "btt", "sourceList": "sdt", "destinationList": "sdt",
                "sensorReport": "measure"}.get(s[-2])
    if last == "reason" and s[-2:-1] == ["errorDeclaration"]:
        return "reason"
    if last == "exception" and s[-2:-1] == ["sensorReport"]:
        return "alert"
    if last == "component" and s[-2:-1] == ["sensorReport"]:
        return "component"
    return None


def cbv_variants(kind, value):
    if kind in ("measure", "alert"):
        bare = value.split(":")[-1].split("/")[-1] if isinstance(value, str) else "Temperature"
        return [bare, "gs1:" + bare, "https://gs1.org/voc/" + bare, "http://gs1.org/voc/" + bare,
                "https://www.gs1.org/voc/" + bare, "gs1:Bogus", "https://gs1.org/voc/Bogus", "Bogus",
                bare.lower(), "https://example.com/voc/" + bare, "example:" + bare, "not a uri", ""]
    web, urn, dflt = CBV[kind]
    bare = value if isinstance(value, str) and re.fullmatch(r"[a-z_]+", value) else dflt
    return [bare, "cbv:" + web + bare, "https://ref.gs1.org/cbv/" + web + bare,
            "http://ref.gs1.org/cbv/" + web + bare, "urn:epcglobal:cbv:%s:%s" % (urn, bare),
            "https://ns.gs1.org/cbv/" + web + bare, "http://ns.gs1.org/cbv/" + web + bare,
            "https://ref.gs1.org/cbv/" + web + "bogus", "urn:epcglobal:cbv:%s:bogus" % urn, "cbv:" + web + "bogus",
            "bogus_word", bare.upper(), "https://example.com/voc/" + bare, "example:" + bare, "urn:example:" + bare,
            "not a uri", ""]


TIME_KEYS = {"eventTime", "recordTime", "declarationTime", "time", "startTime", "endTime"}
URI_KEYS = {"eventID", "parentID", "transformationID", "id", "bizTransaction", "source", "destination", "epcClass",
            "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism",
            "chemicalSubstance", "coordinateReferenceSystem", "uriValue"}
URI_LISTS = {"epcList", "childEPCs", "inputEPCList", "outputEPCList", "certificationInfo", "correctiveEventIDs"}


def mutants(ev, rng):
    """All variants of one event, in a fixed order."""
    out = []

    def add(op, label, e):
        out.append((op, label, e))

    # Values at the same place in repeated items (every sensorReport, every
    # epcList entry) get the same variants: only the first of each shape is
    # mutated, except by removal and retyping.
    paths = list(walk(ev))
    seen = set()
    firsts = []
    for p, v in paths:
        shape = tuple("[]" if isinstance(k, int) else k for k in p)
        if shape not in seen:
            seen.add(shape)
            firsts.append((p, v))
    # Each member removed; each list emptied; each value of two other JSON kinds.
    for p, v in paths:
        if isinstance(p[-1], str):
            add("remove", "remove " + ps(p), without(ev, p))
        if isinstance(v, list) and v:
            add("empty", "empty " + ps(p), with_value(ev, p, []))
        others = [k for k in KINDS if k[0] != kind_of(v) and not (k[0] == "number" and kind_of(v) == "bool")]
        for kname, kv in rng.sample(others, 2):
            add("retype", "%s as %s" % (ps(p), kname), with_value(ev, p, kv))
    for p, v in firsts:
        key = p[-1] if isinstance(p[-1], str) else (p[-2] if len(p) > 1 else None)
        kind = cbv_kind(p)
        if kind:
            for x in cbv_variants(kind, v):
                add("cbv", "%s = %r" % (ps(p), x), with_value(ev, p, x))
        if isinstance(p[-1], str) and p[-1] in TIME_KEYS and isinstance(v, str):
            for t in TIMES if p == ("eventTime",) else rng.sample(TIMES, 6):
                add("time", "%s = %r" % (ps(p), t), with_value(ev, p, t))
        if p == ("eventTimeZoneOffset",):
            for o in OFFSETS:
                add("offset", "%s = %r" % (ps(p), o), with_value(ev, p, o))
        if p[-1] == "uom":
            for u in UOMS:
                add("uom", "%s = %r" % (ps(p), u), with_value(ev, p, u))
        if isinstance(v, str) and ((isinstance(p[-1], str) and p[-1] in URI_KEYS) or key in URI_LISTS):
            for u in URIS if p == ("eventID",) else rng.sample(URIS, 6):
                add("uri", "%s = %r" % (ps(p), u), with_value(ev, p, u))
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            add("duplicate", "duplicate %s" % ps(p + (0,)), with_value(ev, p, v + [v[0]]))
    # Extra members in every kind of object.
    shapes = set()
    for p, o in objects(ev):
        shape = tuple("[]" if isinstance(k, int) else k for k in p)
        if shape in shapes:
            continue
        shapes.add(shape)
        for k, val in [("foo", 1), ("@id", "urn:x:y"), ("example:foo", 1), ("https://example.com/ns#foo", 1),
                       ("foo bar:x", 1), ("1x:y", 1), ("example:", 1)]:
            if k not in o:
                add("extra", "%s gets %r" % (ps(p) or "event", k), with_value(ev, p + (k,), val))
    # Sensor reports (the first of each sensor element): hexBinary, ranges, units.
    for p, o in objects(ev):
        if len(p) >= 2 and p[-2] == "sensorReport" and p[-1] == 0:
            for h in HEXES:
                add("hex", "%s.hexBinaryValue = %r" % (ps(p), h), with_value(ev, p + ("hexBinaryValue",), h))
            for k, val in [("percRank", 150), ("percRank", -1), ("percRank", 50), ("sDev", -1), ("sDev", 0),
                           ("minValue", 1e9), ("booleanValue", "true"), ("value", "1"), ("value", -1e308)]:
                add("sensor", "%s.%s = %r" % (ps(p), k, val), with_value(ev, p + (k,), val))
            for t, u in [("Temperature", "KGM"), ("Temperature", None), ("Mass", "KGM"), ("Dimensionless", None),
                         ("Count", None), ("gs1:Temperature", "FAH"), ("example:Custom", "XYZ")]:
                e = with_value(ev, p + ("type",), t)
                r = get(e, p)
                r.setdefault("value", 1.5)
                if u is None:
                    r.pop("uom", None)
                else:
                    r["uom"] = u
                add("sensor", "%s type %s uom %s" % (ps(p), t, u), e)
        if len(p) >= 1 and p[-1] == "sensorMetadata":
            for k, val in [("time", "2100-01-01T00:00:00Z"), ("time", "1990-01-01T00:00:00Z"),
                           ("startTime", "2100-01-01T00:00:00Z"), ("endTime", "1990-01-01T00:00:00Z")]:
                add("sensor", "%s.%s = %r" % (ps(p), k, val), with_value(ev, p + (k,), val))
    # Quantity elements.
    for p, o in objects(ev):
        if len(p) >= 2 and isinstance(p[-1], int) and isinstance(p[-2], str) and p[-2].endswith("uantityList"):
            add("quantity", "%s.quantity = -1" % ps(p), with_value(ev, p + ("quantity",), -1))
            add("quantity", "%s.quantity = 0.5" % ps(p), with_value(ev, p + ("quantity",), 0.5))
            add("quantity", "%s only epcClass+uom" % ps(p), with_value(ev, p, {"epcClass": o.get("epcClass", "urn:x:y"), "uom": "KGM"}))
    # Whole-event changes: type, action, fields of other event types.
    et = ev.get("type")
    for t in ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent",
              "example:CustomEvent", "https://example.com/CustomEvent", "FooEvent", "objectEvent", "urn:x:y", ""]:
        if t != et:
            add("type", "type = %r" % t, dict(ev, type=t))
    for a in ["ADD", "OBSERVE", "DELETE", "add", "UPDATE"]:
        if ev.get("action") != a:
            add("action", "action = %r" % a, dict(ev, action=a))
    foreign = {
        "ilmd": {"example:lot": "L1"}, "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"], "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1}],
        "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1}],
        "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.2017"], "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.2018"],
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1}],
        "transformationID": "urn:epc:id:gdti:0614141.12345.400", "persistentDisposition": {"set": ["completeness_verified"]},
        "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 1, "uom": "CEL"}]}],
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"}],
        "certificationInfo": "https://example.com/cert", "errorDeclaration": {"declarationTime": "2020-01-01T00:00:00Z"},
        "action": "ADD",
    }
    for k, val in foreign.items():
        if k not in ev:
            add("field", "add %s" % k, dict(ev, **{k: val}))
    for k in ["ilmd"]:
        for a in ["ADD", "OBSERVE", "DELETE"]:
            add("field", "ilmd with action %s" % a, dict(ev, ilmd={"example:lot": "L1"}, action=a))
    add("field", "ilmd with unprefixed key", dict(ev, ilmd={"lot": "L1"}))
    add("field", "ilmd empty", dict(ev, ilmd={}))
    # persistentDisposition and errorDeclaration shapes.
    for pd in [{}, {"set": []}, {"unset": []}, {"set": ["bogus"]}, {"set": ["active"], "unset": ["active"]},
               {"set": ["active", "active"]}, {"set": ["active"], "unset": ["recalled"]}, {"foo": ["active"]},
               {"set": ["active"], "example:x": 1}, {"set": "active"}]:
        add("pd", "persistentDisposition = %s" % json.dumps(pd), dict(ev, persistentDisposition=pd))
    for ed in [{}, {"declarationTime": "2020-01-01T00:00:00Z", "reason": "incorrect_data"},
               {"declarationTime": "2020-01-01T00:00:00Z", "reason": "bogus"},
               {"declarationTime": "2020-01-01T00:00:00Z", "correctiveEventIDs": ["not a uri"]},
               {"declarationTime": "2020-01-01T00:00:00Z", "correctiveEventIDs": []},
               {"declarationTime": "2020-01-01T00:00:00Z", "foo": 1},
               {"declarationTime": "2020-01-01T00:00:00Z", "example:foo": 1},
               {"declarationTime": "2020-01-01"}, {"reason": "did_not_occur"}]:
        add("errdecl", "errorDeclaration = %s" % json.dumps(ed), dict(ev, errorDeclaration=ed))
    for c in [5, "not a uri", "https://example.com/ctx", ["https://example.com/ctx", "https://example.com/ctx"],
              [5], [{}], {}, [], [{"example2": "https://example.com/ns/"}]]:
        add("context", "@context = %s" % json.dumps(c), dict(ev, **{"@context": c}))
    for c in ["not a uri", ["https://example.com/c", 5], [], ["https://example.com/c", "https://example.com/c"]]:
        add("field", "certificationInfo = %s" % json.dumps(c), dict(ev, certificationInfo=c))
    return out


# ---------------------------------------------------------------------------
# Base events.
def examples(conf):
    d = os.path.join(conf, "gs1-epcis", "JSON")
    for f in sorted(glob.glob(os.path.join(d, "**", "*.jsonld"), recursive=True)):
        doc = json.load(open(f, encoding="utf-8"))
        if doc.get("type") == "EPCISQueryDocument":
            evs = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        elif doc.get("type") == "EPCISDocument":
            evs = doc["epcisBody"]["eventList"]
        else:
            evs = [doc]
        yield os.path.relpath(f, d), doc.get("@context"), evs


def schema_tests(conf):
    d = os.path.join(conf, "gs1-epcis", "JSON-Schema", "test")
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        yield os.path.relpath(f, d), f


def document(context, events):
    ctx = context if isinstance(context, list) else [context] if context else []
    if not any(isinstance(c, dict) and "example" in c for c in ctx):
        ctx = ctx + [{"example": "http://ns.example.com/epcis/"}]
    return {"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2020-01-01T00:00:00Z", "epcisBody": {"eventList": events}}


def tnt_validate(tnt, text):
    """{index: (ok, [(code, path, message)])}, or (None, why) if the document was refused."""
    p = subprocess.run([tnt, "validate", "--now", NOW_MS, "-"], input=text.encode(), capture_output=True, timeout=600)
    if p.returncode not in (0, 1):
        return None, p.stderr.decode(errors="replace")[:300]
    res = {}
    for line in p.stdout.decode().splitlines():
        r = json.loads(line)
        res[r["index"]] = (r["ok"], [(e["code"], e["path"], e["message"]) for e in r["errors"]])
    return res, ""


def classify(op, sv, ok, terrs, example):
    """The outcome of one event: (outcome, stricter rules used). A GS1
    example must be valid for both; the schema's test events may be refused
    by a stricter rule (its extension event type)."""
    if op == "base" and example:
        return ("both accept" if not sv and ok else "BASE INVALID"), []
    if sv and ok:
        return "MISSED", []
    if sv:
        return "both reject", []
    if ok:
        return "both accept", []
    rules = stricter_rules(terrs)
    return ("UNDOCUMENTED" if None in rules else "stricter"), sorted(set(r for r in rules if r))


_schema = None


def judge_base(job):
    """Generate, judge and compare every variant of one example file's events."""
    global _schema
    tnt, conf, seed, name, ctx, evs = job
    if _schema is None:
        _schema = Schema(conf)
    rng = random.Random(seed ^ zlib.crc32(name.encode()))
    batch = [("base", "unmutated", e) for e in evs]
    for e in evs:
        batch += mutants(e, rng)
    events = [b[2] for b in batch]
    verdict = _schema.judge(document(ctx, events), ["epcisBody", "eventList"])
    res, why = tnt_validate(tnt, json.dumps(document(ctx, events), ensure_ascii=False))
    if res is None or len(res) != len(events):
        # One variant broke the whole document: judge them one by one.
        res = {}
        for i, ev in enumerate(events):
            r1, why = tnt_validate(tnt, json.dumps(document(ctx, [ev]), ensure_ascii=False))
            res[i] = r1[0] if r1 and 0 in r1 else (False, [("REFUSED", "$", why)])
    out = []
    for i, (op, label, ev) in enumerate(batch):
        sv = verdict.get(i, {})
        ok, terrs = res.get(i, (False, [("MISSING", "$", "no result line")]))
        outcome, rules = classify(op, sv, ok, terrs, not name.startswith("JSON-Schema/"))
        out.append({"file": name, "index": i, "op": op, "label": label, "outcome": outcome, "rules": rules,
                    "schema": sv, "tnt": terrs,
                    "event": ev if outcome in ("MISSED", "UNDOCUMENTED", "BASE INVALID") else None})
    return out


# ---------------------------------------------------------------------------
def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if len(args) < 3:
        sys.exit(__doc__)
    tnt, conf, venv = args[:3]
    ensure_deps(venv)
    seed, out_file, jobs = 20240501, None, os.cpu_count() or 1
    for i, a in enumerate(sys.argv):
        if a == "--seed":
            seed = int(sys.argv[i + 1])
        if a == "--out":
            out_file = sys.argv[i + 1]
        if a == "--jobs":
            jobs = int(sys.argv[i + 1])
    tnt = os.path.abspath(tnt)
    schema = Schema(conf)
    failures = []

    def fail(msg):
        failures.append(msg)
        if len(failures) <= 60:
            print("FAIL:", msg)

    # The schema's own tests, as published (standalone events).
    for name, path in schema_tests(conf):
        ev = json.load(open(path, encoding="utf-8"))
        errs = [e.message for v in schema.validators.values() for e in v.iter_errors(ev)]
        res, why = tnt_validate(tnt, open(path, encoding="utf-8").read())
        ok, terrs = res[0] if res else (False, [("REFUSED", "$", why)])
        if errs:
            fail("schema test %s: the GS1 schema rejects it: %s" % (name, errs[0]))
        if not ok and None in stricter_rules(terrs):
            fail("schema test %s: tnt rejects it by no documented rule: %s" % (name, terrs))
        print("schema test %-26s schema %-7s tnt %s" % (name, "INVALID" if errs else "valid",
                                                     "valid" if ok else "rejects %s" % sorted({e[0] for e in terrs})))

    # Every variant of every example event and schema test event.
    bases = list(examples(conf))
    bases += [("JSON-Schema/test/" + n, ev.get("@context"), [ev]) for n, p in schema_tests(conf)
              for ev in [json.load(open(p, encoding="utf-8"))]]
    work = [(tnt, conf, seed, n, c, evs) for n, c, evs in bases]
    if jobs > 1:
        import concurrent.futures
        with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
            results = [r for rs in pool.map(judge_base, work) for r in rs]
    else:
        results = [r for w in work for r in judge_base(w)]

    stats, rule_hits, disagree = {}, {}, []
    for r in results:
        row = stats.setdefault(r["op"], {})
        row[r["outcome"]] = row.get(r["outcome"], 0) + 1
        for rule in r["rules"]:
            rule_hits[rule] = rule_hits.get(rule, 0) + 1
        if len(r["schema"]) == 1 and len(schema.validators) == 2:
            disagree.append("%s: %s: only the %s schema rejects it" % (r["file"], r["label"], *r["schema"]))
        where = "%s event %d (%s)" % (r["file"], r["index"], r["label"])
        ev = json.dumps(r["event"], ensure_ascii=False)[:400]
        if r["outcome"] == "BASE INVALID":
            fail("%s: an unmutated example must be valid for both: schema %s, tnt %s" % (where, r["schema"], r["tnt"]))
        elif r["outcome"] == "MISSED":
            fail("%s: the schema rejects it (%s) but tnt accepts: %s" % (where, next(iter(r["schema"].values())), ev))
        elif r["outcome"] == "UNDOCUMENTED":
            bad = [e for e, x in zip(r["tnt"], stricter_rules(r["tnt"])) if x is None]
            fail("%s: tnt rejects what the schema accepts, by no documented rule: %s" % (where, bad))
    if out_file:
        with open(out_file, "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")

    cols = ["both reject", "both accept", "stricter", "MISSED", "UNDOCUMENTED"]
    n_base = sum(stats.get("base", {}).values())
    print("\nseed %d: %d events: %d examples and %d variants" % (seed, len(results), n_base, len(results) - n_base))
    print("%-10s " % "operator" + " ".join("%12s" % c for c in cols))
    for op in sorted(stats):
        print("%-10s " % op + " ".join("%12d" % stats[op].get(c, 0) for c in cols))
    total = {c: sum(stats[op].get(c, 0) for op in stats) for c in cols}
    print("%-10s " % "total" + " ".join("%12d" % total[c] for c in cols))
    print("stricter rules used: " + ", ".join("%s %d" % kv for kv in sorted(rule_hits.items())))
    for d in disagree[:20]:
        print("note: the two schema files disagree:", d)
    if disagree:
        fail("the split and single-file GS1 schemas disagree on %d variants" % len(disagree))
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "validation.md")
    text = open(docs, encoding="utf-8").read() if os.path.exists(docs) else ""
    for rid, *_ in STRICTER:
        if "`%s`" % rid not in text:
            fail("docs/validation.md does not describe the stricter rule `%s`" % rid)
    print("%d passed, %d failed" % (len(results) - len(failures), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
