"""None, wrong types, non-UTF-8 bytes, NUL characters, huge and deep inputs:
Python exceptions with clear messages, never a crash."""

import json

import pytest

import tnt
from tnt import capi, ids

from conftest import SERIAL, journey


@pytest.mark.parametrize("value", [None, 42, 4.2, ["x"], {"a": 1}, object()])
def test_wrong_types_for_identifiers(engine, value):
    with pytest.raises(TypeError):
        ids.parse(value)
    with pytest.raises(TypeError):
        ids.normalize(value)
    with pytest.raises(TypeError):
        engine.track(value)
    with pytest.raises(TypeError):
        engine.history(value)
    with pytest.raises(TypeError):
        engine.event(value)
    with pytest.raises(TypeError):
        engine.get_master("product", value)


def test_wrong_types_elsewhere(engine, tmp_path):
    for bad in (None, 42, 4.2, object()):
        with pytest.raises(TypeError):
            engine.ingest(bad)
        with pytest.raises(TypeError):
            tnt.validate(bad)
        with pytest.raises(TypeError):
            list(tnt.read(bad))
    with pytest.raises(TypeError):
        engine.ingest([1, 2, 3])
    with pytest.raises(TypeError):
        tnt.hash([{"a": 1}, "b"])
    with pytest.raises(TypeError):
        tnt.Engine(data_dir=42)
    with pytest.raises(TypeError):
        tnt.Engine(tmp_path, archive_after="soon")
    with pytest.raises(ValueError):
        tnt.Engine(tmp_path, partitions=-1)
    with pytest.raises(TypeError):
        engine.replay(since="yesterday")
    with pytest.raises(TypeError):
        engine.archive(now=True)
    with pytest.raises(TypeError):
        engine.put_master("product", "not a dict")
    with pytest.raises(TypeError):
        tnt.Event.from_proto(None)
    with pytest.raises(TypeError):
        ids.GcpTable().add("950", "7")
    with pytest.raises(TypeError):
        ids.parse(SERIAL, gcp_length="7")
    with pytest.raises(TypeError):
        capi.Engine(None, None, None, None, None, 0, 0, 0, ("not", "options"))
    with pytest.raises(TypeError):
        engine._h.track_json(None)


def test_non_utf8_bytes(engine):
    with pytest.raises(tnt.InvalidInput):
        ids.parse(b"(01)0950600013435\xff")
    with pytest.raises(tnt.InvalidInput):
        ids.parse(b"\xff\xfe\xfd")
    with pytest.raises(tnt.InvalidInput):
        engine.track(b"\xc3\x28")
    with pytest.raises(tnt.Error):
        engine.ingest(b'[{"product_id": "\xff\xfe", "event_type": "ship", "timestamp": "2024-03-01T00:00:00Z"}]')
    with pytest.raises(tnt.MalformedInput):
        tnt.validate(b"\xff\xfe\x00\x01garbage")  # not JSON: read as protobuf, and it is not that either
    with pytest.raises(tnt.MalformedInput, match="UTF8"):
        tnt.validate(b'{"type": "ObjectEvent", "bizStep": "\xff"}')


def test_unencodable_str(engine):
    with pytest.raises(UnicodeEncodeError):
        ids.parse("\udcff")
    with pytest.raises(UnicodeEncodeError):
        engine.track("\ud800")
    with pytest.raises(UnicodeEncodeError):
        engine.ingest('{"x": "\ud800"}')


def test_nul_characters(engine):
    with pytest.raises(tnt.InvalidInput, match="NUL"):
        engine.track(SERIAL + "\0tail")
    with pytest.raises(tnt.InvalidInput, match="NUL"):
        ids.normalize("(01)09506000134352\0")
    with pytest.raises(tnt.InvalidInput):
        ids.parse("(01)09506000134352\0")
    with pytest.raises(tnt.InvalidInput, match="NUL"):
        tnt.Engine("dir\0name")


def test_huge_inputs(engine):
    with pytest.raises(tnt.TooBig):
        ids.parse("(01)" + "9" * 10_000_000)
    with pytest.raises(tnt.InvalidInput):
        engine.track("x" * 10_000_000)
    big = json.dumps([{"product_id": SERIAL, "event_type": "ship", "timestamp": "2024-03-01T00:00:00Z",
                       "device_id": "d" * 5_000_000}])
    rep = None
    try:
        rep = engine.ingest(big)
    except tnt.TooBig:
        pass
    if rep is not None:
        assert rep.rejected == 1 and rep.results[0].errors[0].code == "TOO_BIG"
    with pytest.raises(tnt.MalformedInput):
        engine.ingest("[" * 50_000_000)
    (deep,) = tnt.validate("[" * 1_000_000 + "]" * 1_000_000)
    assert not deep.ok and deep.errors[0].code == "TOO_BIG"
    many = tnt.hash(journey() * 5000)
    assert len(many) == 20000


def test_misuse_of_the_low_level_reader():
    r = capi.Reader(None)
    r.feed(b"[")
    with pytest.raises(tnt.Misuse):
        r.feed(b"]")
    assert r.next(0) is None
    r.feed(b"]")
    r.finish()
    assert r.next(0) is None or r.next(0) is False
    with pytest.raises(tnt.Misuse):
        r.feed(b"[]")


def test_bad_paths_and_options(engine):
    (ev,) = tnt.read(journey()[:1])
    with pytest.raises(tnt.InvalidInput):
        ev.get("epcList[")
    with pytest.raises(TypeError):
        ev.get(None)
    with pytest.raises(ValueError):
        engine.authenticate(SERIAL, role="king")
    with pytest.raises(TypeError):
        engine.authenticate(SERIAL, location="Berlin")


def test_random_input_never_crashes(engine):
    """Seeded random bytes and mutated documents through every entry point."""
    import random
    rnd = random.Random(20240301)
    seed_doc = json.dumps(journey()).encode()
    (ev,) = tnt.read(journey()[:1])
    for i in range(1500):
        if i % 2:
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
        else:
            b = bytearray(seed_doc)
            for _ in range(rnd.randrange(1, 8)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            data = bytes(b)
        for call in (lambda: ids.parse(data), lambda: engine.track(data), lambda: tnt.validate(data),
                     lambda: engine.ingest(data), lambda: tnt.Event.from_proto(data), lambda: ev.get(data),
                     lambda: engine.authenticate(data, record=False)):
            try:
                call()
            except (tnt.Error, TypeError, ValueError):
                pass
