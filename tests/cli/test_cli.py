#!/usr/bin/env python3
"""The `tnt` command line against GS1's published data.

usage: test_cli.py TNT CONFORMANCE_DIR TEST_DATA_DIR

- every GS1 EPCIS 2.0 JSON example validates;
- `tnt hash` equals the reference event hashes of every JSON-LD example of
  the event-hash generator, and the members of each expected_equal group
  hash alike;
- `tnt normalize` output validates again and keeps every event's hash;
- the command-line contract: output shapes and exit codes.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

TNT, CONF, DATA = sys.argv[1], sys.argv[2], sys.argv[3]
EXAMPLES = os.path.join(CONF, "gs1-epcis", "JSON")
HASHES = os.path.join(CONF, "event-hash", "tests")
failures = []


def run(*args, stdin=None):
    p = subprocess.run([TNT, *args], input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def gs1_examples():
    return sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.jsonld"), recursive=True))


def test_gs1_examples_validate():
    files = gs1_examples()
    check(len(files) >= 40, f"expected the GS1 example set, found {len(files)} files")
    for f in files:
        rc, out, err = run("validate", "--now", "4102444800000", f)
        lines = [json.loads(l) for l in out.splitlines()]
        bad = [l for l in lines if not l["ok"]]
        check(rc == 0 and lines and not bad, f"validate {os.path.relpath(f, EXAMPLES)}: rc={rc} {bad[:2]} {err[:300]}")


def test_reference_hashes():
    docs = sorted(glob.glob(os.path.join(HASHES, "examples", "*.jsonld")))
    check(len(docs) >= 20, f"expected the event-hash examples, found {len(docs)}")
    for f in docs:
        want_file = f[: -len(".jsonld")] + ".hashes"
        if not os.path.exists(want_file):
            continue
        want = [l.strip() for l in open(want_file) if l.strip()]
        rc, out, err = run("hash", f)
        got = [l.strip() for l in out.splitlines() if l.strip()]
        check(got == want, f"hash {os.path.basename(f)}: got {got} want {want} ({err[:200]})")


def test_expected_equal_json():
    for f in sorted(glob.glob(os.path.join(HASHES, "expected_equal", "*.json*"))):
        rc, out, err = run("hash", f)
        got = [l.strip() for l in out.splitlines() if l.strip()]
        check(rc == 0 and len(got) >= 2 and len(set(got)) == 1, f"expected_equal {os.path.basename(f)}: {got} {err[:200]}")


# Normalisation converts readings to one unit per measurement type and folds
# CBV CURIEs to bare names; the reference hash of such a document differs
# from the original's (it hashes the values as written). Every other document
# must keep its hashes.
CONVERTED_UNITS = {"FAH", "KEL", "GRM", "MGM", "TNE", "LBR", "ONZ", "MMT", "CMT", "KMT", "INH", "FOT",
                   "MTS", "HM", "KNT", "HPA", "A97", "KPA", "BAR", "MBR", "LTR", "MLT", "C26", "MIN", "HUR"}


def rewritten_by_normalize(text):
    import re
    units = set(re.findall(r'"uom"\s*:\s*"([A-Z0-9]+)"', text))
    return bool(units & CONVERTED_UNITS) or re.search(r'"(cbv|gs1):[A-Za-z]', text)


def test_normalize_keeps_hashes():
    for f in gs1_examples():
        rc, before, _ = run("hash", f)
        rc2, norm, err = run("normalize", f)
        check(rc2 == 0, f"normalize {os.path.basename(f)} rc={rc2} {err[:300]}")
        try:
            doc = json.loads(norm)
        except ValueError as e:
            check(False, f"normalize {os.path.basename(f)}: output is not JSON: {e}")
            continue
        check(doc.get("type") == "EPCISDocument" and "@context" in doc, f"normalize {os.path.basename(f)}: not a document")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as t:
            t.write(norm)
        try:
            rc3, after, _ = run("hash", t.name)
            if not rewritten_by_normalize(open(f).read()):
                check(rc == rc3 and before == after, f"normalize changed the hashes of {os.path.basename(f)}")
            else:
                check(rc3 == 0 and len(after.split()) == len(before.split()), f"normalized {os.path.basename(f)} hashes")
            rc4, out, _ = run("validate", "--now", "4102444800000", t.name)
            check(rc4 == 0, f"normalized {os.path.basename(f)} does not validate: {out[:300]}")
        finally:
            os.unlink(t.name)


def test_validate_contract():
    bad = '{"type":"ObjectEvent","eventTime":"2020-13-01T00:00:00Z","eventTimeZoneOffset":"+01:00","action":"SHOUT","epcList":["urn:epc:id:sgtin:0614141.107346.2017"],"bizStep":"dancing"}'
    good = '{"type":"ObjectEvent","eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.2017"]}'
    doc = '{"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2020-01-01T00:00:00Z","@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"epcisBody":{"eventList":[%s,%s]}}' % (good, bad)
    rc, out, err = run("validate", "-", stdin=doc.encode())
    lines = [json.loads(l) for l in out.splitlines()]
    check(rc == 1, f"validate: an invalid event must exit 1, got {rc}")
    check([l["index"] for l in lines] == [0, 1], f"validate: one line per event: {out}")
    check(lines[0]["ok"] is True and lines[0]["errors"] == [], "validate: a valid event has ok=true and no errors")
    codes = {e["code"] for e in lines[1]["errors"]}
    paths = {e["path"] for e in lines[1]["errors"]}
    check({"FORMAT", "VOCABULARY"} <= codes, f"validate: codes {codes}")
    check("$.epcisBody.eventList[1].bizStep" in paths and "$.epcisBody.eventList[1].eventTime" in paths, f"validate: paths {paths}")
    check(all(e["message"] for e in lines[1]["errors"]), "validate: every error has a message")
    rc, out, err = run("validate", "-", stdin=b'{"type":"EPCISDocument", "epcisBody": {"eventList": [')
    check(rc == 2 and err, f"validate: truncated JSON exits 2 with a message, got {rc}")
    rc, out, err = run("validate", "/nonexistent/file.json")
    check(rc == 2 and "nonexistent" in err, "validate: an unreadable file exits 2")
    rc, out, err = run("validate", "-", stdin=b"\xff\xfe{}")
    check(rc == 2, f"validate: garbage exits 2, got {rc}")


def test_hash_contract():
    ev = '{"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","epcList":["urn:epc:id:sgtin:0614141.107346.2017","urn:epc:id:sgtin:0614141.107346.2018"],"eventTime":"2022-02-16T20:33:31.116000-06:00","eventTimeZoneOffset":"-06:00","readPoint":{"id":"urn:epc:id:sgln:0614141.07346.1234"},"bizTransactionList":[{"type":"po","bizTransaction":"http://transaction.acme.com/po/12345678"}]}'
    rc, out, err = run("hash", "-", stdin=ev.encode())
    # The pair published with the reference implementation (epcisDocWithSingleEvent).
    check(out.strip() == "ni:///sha-256;ffa491b16867e34a7791a8d5389d826afc24e63a121026b6a4004ace38631b4b?ver=CBV2.0", f"hash: {out} {err}")


def test_id_contract():
    rc, out, err = run("id", "(01)09506000134352(21)ABC123")
    j = json.loads(out)
    check(rc == 0 and j["ok"] and j["type"] == "sgtin", f"id: {out}")
    check(j["canonical"] == "https://id.gs1.org/01/09506000134352/21/ABC123", f"id canonical: {j['canonical']}")
    check(j["element_string"] == "(01)09506000134352(21)ABC123", f"id element string: {j['element_string']}")
    check(j["epc_urn"] is None, "id: no EPC URN without a company prefix length")
    rc, out, err = run("id", "--gcp", "7", "(01)09506000134352(21)ABC123")
    j = json.loads(out)
    check(j["epc_urn"] == "urn:epc:id:sgtin:9506000.013435.ABC123", f"id --gcp 7: {j['epc_urn']}")
    rc, out, err = run("id", "urn:epc:id:sgtin:0614141.107346.2017")
    j = json.loads(out)
    check(rc == 0 and j["canonical"] == "https://id.gs1.org/01/10614141073464/21/2017" and j["epc_urn"] == "urn:epc:id:sgtin:0614141.107346.2017", f"id urn: {out}")
    rc, out, err = run("id", "--stem", "notaurl", "(01)09506000134352(21)ABC123")
    j = json.loads(out)
    check(rc == 2 and j["digital_link"] is None and "stem" in j.get("digital_link_error", "")
          and "company prefix" in j.get("epc_urn_error", ""), f"id --stem notaurl: {rc} {out}")
    rc, out, err = run("id", "(01)09506000134353(21)ABC123")
    j = json.loads(out)
    check(rc == 1 and j["ok"] is False and j["errors"] and j["errors"][0]["code"], f"id: bad check digit: {out}")


def test_simple_report():
    rep = {"product_id": "(01)09506000134352(21)ABC123", "event_type": "ship",
           "location": "52.5200,13.4050", "timestamp": "2024-03-01T10:00:00+01:00",
           "condition": {"temperature": 4.5, "humidity": 61}, "device_id": "logger-17"}
    rc, out, err = run("normalize", "-", stdin=json.dumps(rep).encode())
    check(rc == 0, f"report normalize rc={rc} {err}")
    doc = json.loads(out)
    ev = doc["epcisBody"]["eventList"][0]
    check(ev["type"] == "ObjectEvent" and ev["action"] == "OBSERVE" and ev["bizStep"] == "shipping"
          and ev["disposition"] == "in_transit", f"report: {ev}")
    check(ev["epcList"] == ["https://id.gs1.org/01/09506000134352/21/ABC123"], f"report epcList {ev.get('epcList')}")
    check(ev["eventTime"] == "2024-03-01T09:00:00.000Z" and ev["eventTimeZoneOffset"] == "+01:00", f"report time {ev}")
    check(ev["readPoint"]["id"] == "geo:52.52,13.405", f"report readPoint {ev.get('readPoint')}")
    reps = ev["sensorElementList"][0]["sensorReport"]
    check({(r["type"], r["value"], r["uom"]) for r in reps} == {("Temperature", 4.5, "CEL"), ("RelativeHumidity", 61, "P1")}, f"report sensors {reps}")
    rep["event_type"] = "teleport"
    rc, out, err = run("validate", "-", stdin=json.dumps(rep).encode())
    check(rc == 1 and "VOCABULARY" in out, f"report: unknown event_type rejected: {out}")


def test_fahrenheit_normalized():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
          "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
          "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 41, "uom": "FAH"}]}]}
    rc, out, err = run("normalize", "-", stdin=json.dumps(ev).encode())
    r = json.loads(out)["epcisBody"]["eventList"][0]["sensorElementList"][0]["sensorReport"][0]
    check(r["uom"] == "CEL" and abs(r["value"] - 5.0) < 1e-9, f"41 FAH -> 5 CEL: {r}")


def test_issue_each_serial_as_one():
    """A serial or lot may hold any GS1 character, "(" too: each line of the
    serials file is signed as exactly one serial, never read as more AIs."""
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "brand.key")
        rc, out, err = run("keygen", "--out", key)
        check(rc == 0, f"keygen: {err}")
        serials = os.path.join(d, "serials.txt")
        with open(serials, "w") as f:
            f.write("A(10)XYZ\nB1(17)991231\n")
        rc, out, err = run("issue", "--gtin", "09506000134352", "--serials", serials, "--key", key, "--lot", "L(21)9")
        codes = out.split()
        check(rc == 0 and len(codes) == 2, f"issue: {rc} {out} {err}")
        for code, serial in zip(codes, ["A(10)XYZ", "B1(17)991231"]):
            rc, out, err = run("id", code)
            j = json.loads(out)
            es = j.get("element_string") or ""  # a "(" inside a value is written "\\("
            want = "(01)09506000134352(10)L\\(21)9(21)" + serial.replace("(", "\\(") + "(8030)"
            check(rc == 0 and es.startswith(want), f"issue: {code} reads as {es}, not {want}")


def test_data_dirs_as_named():
    """A --data directory is that directory, whatever its name holds; with
    every backend named in config.yml, the service key lives beside it."""
    ev = json.dumps({"product_id": "(01)09506000134352(21)Q1", "event_type": "receive",
                     "location": "9506000000015", "timestamp": "2024-01-01T00:00:00Z"})
    with tempfile.TemporaryDirectory() as d:
        doc = os.path.join(d, "e.json")
        with open(doc, "w") as f:
            f.write(ev)
        for name in ["p%41c", "a#b?c", "with space"]:
            data = os.path.join(d, name)
            rc, out, err = run("ingest", "--data", data, doc)
            check(rc == 0 and sorted(os.listdir(data)) == ["archive", "log", "service.key", "state"],
                  f"--data {name!r}: {rc} {err} {os.listdir(d)}")
        cfg = os.path.join(d, "cfg")
        os.mkdir(cfg)
        with open(os.path.join(cfg, "uris.yml"), "w") as f:
            f.write("database:\n" + "".join(f"  {k}: file://{cfg}/{v}\n" for k, v in
                    [("event_store", "log"), ("real_time_store", "state"), ("cold_storage", "archive")]))
        for where in ["a", "b"]:
            os.mkdir(os.path.join(d, where))
        p = subprocess.run([TNT, "ingest", "--config", os.path.join(cfg, "uris.yml"), doc], cwd=os.path.join(d, "a"),
                           capture_output=True, timeout=60)
        q = subprocess.run([TNT, "track", "--config", os.path.join(cfg, "uris.yml"), "(01)09506000134352(21)Q1"],
                           cwd=os.path.join(d, "b"), capture_output=True, timeout=60)
        check(p.returncode == 0 and q.returncode == 0 and os.path.exists(os.path.join(cfg, "service.key"))
              and not os.listdir(os.path.join(d, "a")), f"config.yml only: {p.stderr} {q.stderr}")


def test_numbers_checked():
    """An option's value is read whole, or refused (exit 2) naming the option."""
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        for args, option in [(["validate", "--future-skew", "1h", "-"], "--future-skew"),
                             (["archive", "--data", data, "--now", "abc"], "--now"),
                             (["id", "--gcp", "abc", "(01)09506000134352(21)A"], "--gcp"),
                             (["history", "--data", data, "--limit", "10x", "(01)09506000134352(21)A"], "--limit"),
                             (["authenticate", "--data", data, "--accuracy", "far", "(01)09506000134352(21)A"], "--accuracy")]:
            rc, out, err = run(*args, stdin=b"[]")
            check(rc == 2 and option in err, f"{args}: {rc} {err}")
        check(not os.path.exists(data), "a refused option created the data directory")
        for cmd in [["track", "(01)09506000134352(21)A"], ["history", "(01)09506000134352(21)A"], ["stats"],
                    ["authenticate", "(01)09506000134352(21)A"]]:
            rc, out, err = run(cmd[0], "--data", data, *cmd[1:])
            check(rc == 2 and "no store" in err and not os.path.exists(data), f"{cmd[0]} on no store: {rc} {err}")


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    for t in tests:
        before = len(failures)
        try:
            t()
        except Exception as e:  # a crash of the tool or a malformed output is a failure
            failures.append(f"{t.__name__}: {e!r}")
            print("FAIL:", t.__name__, repr(e))
        print(("ok   " if len(failures) == before else "FAIL ") + t.__name__)
    print(f"{len(tests)} tests, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
