"""Documents: read, validate, hash, normalise, from every kind of source; the
same hashes as the tnt tool and as the reference implementation."""

import io
import json
import subprocess

import pytest

import tnt
from tnt import capi

from conftest import FAR_FUTURE, GS1_EXAMPLES, HASH_EXAMPLES, SERIAL, gs1_examples, journey, report

EVENT = {"type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00.000+01:00", "eventTimeZoneOffset": "+01:00",
         "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "bizStep": "shipping",
         "disposition": "in_transit", "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
         "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1152"}],
         "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 41, "uom": "FAH"}]}]}
BAD = dict(EVENT, eventTime="2020-13-01T00:00:00Z", bizStep="dancing")


def doc(*events):
    return json.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                       "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2020-01-01T00:00:00Z",
                       "epcisBody": {"eventList": list(events)}})


def test_event_fields():
    (ev,) = tnt.read(doc(EVENT))
    assert ev.type == "ObjectEvent" and ev.action == "OBSERVE" and ev.valid and ev.errors == []
    assert ev.index == 0
    assert ev.event_time.isoformat() == "2020-01-01T00:00:00+01:00" and ev.event_time_ms == 1577833200000
    assert ev.event_time_zone_offset == "+01:00" and ev.record_time is None
    assert ev.hash_id.startswith("ni:///sha-256;") and ev.hash_id.endswith("?ver=CBV2.0")
    assert ev.epc_list == ["https://id.gs1.org/01/10614141073464/21/2017"] == ev.epcs
    assert ev.biz_step == "shipping" and ev.disposition == "in_transit"
    assert ev.read_point.startswith("https://id.gs1.org/414/")
    assert ev.biz_transactions[0][0] == "po"
    (rep,) = ev.sensor_reports[0]
    assert rep[0] == "Temperature" and rep[2] == "CEL" and rep[1] == pytest.approx(5.0)
    assert ev.get("sensorElementList[0].sensorReport[0].uom") == "CEL"
    assert ev.get("readPoint") == {"id": ev.read_point}
    assert ev.get("epcList") == ev.epc_list and ev.get("nope", 7) == 7
    assert ev.parent_id is None and ev.child_epcs == [] and ev.quantity_list == [] and ev.sources == []
    assert ev.event_id is None and ev.prefixes == {} and ev.certification_info == []
    d = ev.to_dict()
    assert d["type"] == "ObjectEvent" and "@context" not in d
    assert "@context" in ev.to_dict(context=True) and ev.to_dict(hash_as_id=True)["eventID"] == ev.hash_id
    assert "\n" in ev.to_json(pretty=True)
    assert "ObjectEvent" in repr(ev)


def test_protobuf_round_trip():
    (ev,) = tnt.read(doc(EVENT))
    back = tnt.Event.from_proto(ev.to_proto())
    assert back.to_dict() == ev.to_dict()
    with pytest.raises(tnt.MalformedInput):
        tnt.Event.from_proto(b"\xff\xff\xff")


def test_from_json_and_equality():
    a = tnt.Event.from_json(EVENT)
    b = tnt.Event.from_json(json.dumps(EVENT).encode())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(tnt.InvalidInput):
        tnt.Event.from_json(doc())
    with pytest.raises(TypeError):
        tnt.Event("not a handle")


def test_validate():
    res = tnt.validate(doc(EVENT, BAD))
    assert [r.index for r in res] == [0, 1]
    assert res[0].ok and not res[1].ok
    codes = {e.code for e in res[1].errors}
    paths = {e.path for e in res[1].errors}
    assert "$.epcisBody.eventList[1].bizStep" in paths and codes
    assert res[1].to_dict()["errors"][0].keys() == {"code", "path", "message"}


def test_future_events_and_options():
    future = dict(EVENT, eventTime="2090-01-01T00:00:00Z")
    assert not tnt.validate(doc(future))[0].ok
    assert tnt.validate(doc(future), future_skew=None)[0].ok
    assert tnt.validate(doc(future), now=FAR_FUTURE)[0].ok
    with pytest.raises(ValueError):
        tnt.validate(doc(EVENT), format="xml")
    with pytest.raises(ValueError):
        tnt.validate(doc(EVENT), max_depth=-1)
    deep = dict(EVENT, **{"example:x": {"a": {"b": {"c": {"d": 1}}}}},
                **{"@context": [{"example": "https://ns.example.com/"}]})
    assert not tnt.validate(doc(deep), max_depth=4)[0].ok


def test_sources(tmp_path):
    text = doc(EVENT, EVENT)
    p = tmp_path / "d.jsonld"
    p.write_text(text)
    want = tnt.hash(text)
    assert len(want) == 2 and want[0] == want[1]
    assert tnt.hash(text.encode()) == want
    assert tnt.hash(bytearray(text.encode())) == want
    assert tnt.hash(memoryview(text.encode())) == want
    assert tnt.hash(p) == want
    assert tnt.hash(io.BytesIO(text.encode())) == want
    assert tnt.hash(io.StringIO(text)) == want
    with open(p, "rb") as f:
        assert tnt.hash(f) == want
    assert tnt.hash(EVENT) == want[:1]
    assert tnt.hash([EVENT, EVENT]) == want
    assert tnt.hash(iter([EVENT, EVENT])) == want
    with pytest.raises(TypeError, match="is a file name"):
        tnt.hash(str(p))


def test_streaming_in_small_chunks(monkeypatch):
    from tnt import _util
    monkeypatch.setattr(_util, "CHUNK", 7)
    text = doc(*[dict(EVENT, eventTime=f"2020-01-01T00:00:{i:02d}Z") for i in range(20)])
    hashes = tnt.hash(io.BytesIO(text.encode()))
    assert len(hashes) == 20 and len(set(hashes)) == 20
    assert hashes == tnt.hash(text)


def test_simple_reports():
    events = list(tnt.read(journey(), now=FAR_FUTURE))
    assert [e.biz_step for e in events] == ["commissioning", "shipping", "receiving", "retail_selling"]
    assert events[0].get("ilmd.cbvmda:lotNumber") == "L42"
    bad = list(tnt.read([report(event_type="dance")]))
    assert not bad[0].valid and bad[0].errors[0].code == "VOCABULARY"


def test_malformed_document_keeps_the_events_before():
    text = doc(EVENT, EVENT)[:-20]
    seen = []
    with pytest.raises(tnt.MalformedInput):
        for ev in tnt.read(text):
            seen.append(ev)
    assert len(seen) == 1
    with pytest.raises(tnt.InvalidInput):
        tnt.validate("42")


def test_normalize():
    out = tnt.normalize(doc(EVENT))
    assert out["type"] == "EPCISDocument" and "@context" in out
    (ev,) = out["epcisBody"]["eventList"]
    assert ev["epcList"] == ["https://id.gs1.org/01/10614141073464/21/2017"]
    assert ev["sensorElementList"][0]["sensorReport"][0]["uom"] == "CEL"
    urn = tnt.normalize(doc(EVENT), urn=True)
    assert urn["epcisBody"]["eventList"][0]["epcList"] == ["urn:epc:id:sgtin:0614141.107346.2017"]
    again = tnt.validate(json.dumps(out), now=FAR_FUTURE)
    assert all(r.ok for r in again)


# ---- the same hashes as the tnt tool and the reference implementation ----

def test_reference_hashes():
    docs = sorted((HASH_EXAMPLES / "examples").glob("*.jsonld"))
    assert len(docs) >= 20
    checked = 0
    for f in docs:
        want_file = f.with_suffix(".hashes")
        if want_file.exists():
            want = [l.strip() for l in want_file.read_text().splitlines() if l.strip()]
            assert tnt.hash(f) == want, f.name
            checked += 1
    assert checked >= 20


def test_hashes_equal_the_cli(tnt_cli):
    files = gs1_examples() + sorted((HASH_EXAMPLES / "examples").glob("*.jsonld"))
    assert len(files) >= 60
    for f in files:
        cli = subprocess.run([tnt_cli, "hash", str(f)], capture_output=True, text=True, timeout=60).stdout.split()
        mine = [h or "-" for h in tnt.hash(f)]
        assert mine == cli, f.name


def test_validation_equals_the_cli(tnt_cli):
    for f in gs1_examples():
        out = subprocess.run([tnt_cli, "validate", "--now", str(FAR_FUTURE), str(f)], capture_output=True,
                             text=True, timeout=60).stdout
        cli = [json.loads(l) for l in out.splitlines()]
        assert [r.to_dict() for r in tnt.validate(f, now=FAR_FUTURE)] == cli, f.name


PROPERTIES = [n for n, v in vars(tnt.Event).items() if isinstance(v, property)]


def test_every_property_of_every_gs1_example():
    seen_types = set()
    for f in gs1_examples():
        for ev in tnt.read(f, now=FAR_FUTURE):
            values = {name: getattr(ev, name) for name in PROPERTIES}
            d = ev.to_dict()
            seen_types.add(values["type"])
            for key, prop in (("epcList", "epc_list"), ("childEPCs", "child_epcs"), ("inputEPCList", "input_epcs"),
                              ("outputEPCList", "output_epcs")):
                assert values[prop] == d.get(key, []), (f.name, key)
                if key in d:
                    assert ev.get(key) == d[key]
            for key, prop in (("quantityList", "quantity_list"), ("childQuantityList", "child_quantity_list"),
                              ("inputQuantityList", "input_quantity_list"),
                              ("outputQuantityList", "output_quantity_list")):
                assert [q[0] for q in values[prop]] == [q["epcClass"] for q in d.get(key, [])], (f.name, key)
            assert values["parent_id"] == d.get("parentID")
            assert values["transformation_id"] == d.get("transformationID")
            assert len(values["sensor_reports"]) == len(d.get("sensorElementList", []))
            assert len(values["biz_transactions"]) == len(d.get("bizTransactionList", []))
            assert values["error_reason"] == (d.get("errorDeclaration") or {}).get("reason")
            if "recordTime" in d:
                assert values["record_time"] is not None
            assert tnt.Event.from_proto(ev.to_proto()).hash_id == ev.hash_id or not ev.valid
    assert seen_types >= {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                          "AssociationEvent"}


def test_library_information():
    assert tnt.library_version.count(".") == 2 and tnt.__version__
    assert "ids" in tnt.features and "hash" in tnt.features
    assert capi.tnt_version_number() >= capi.COMPILED_VERSION
    assert capi.event_type_name(capi.TNT_EVENT_OBJECT) == "ObjectEvent"
