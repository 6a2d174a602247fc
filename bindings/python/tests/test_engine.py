"""The engine: open/close, ingest from every source, track, history, event,
replay, archive, master data, stats."""

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

import tnt

from conftest import DC, GTIN, MASTER, SERIAL, SHOP, journey, report


def test_open_close(tmp_path):
    e = tnt.Engine(tmp_path / "d")
    assert not e.closed and "open" in repr(e)
    e.close()
    e.close()
    assert e.closed and "closed" in repr(e)
    with pytest.raises(tnt.Misuse, match="closed"):
        e.track(SERIAL)
    with pytest.raises(tnt.Misuse):
        e.ingest(journey())
    with pytest.raises(tnt.InvalidInput, match="partitions"):
        tnt.Engine(tmp_path / "d", partitions=2)  # the log was made with 4
    with tnt.Engine(str(tmp_path / "d"), archive_after=timedelta(days=30), retention=86400 * 365) as e2:
        assert e2.stats()["log"]["partitions"] == 4
    with tnt.Engine(tmp_path / "p2", partitions=2) as e3:
        assert e3.stats()["log"]["partitions"] == 2
    with pytest.raises(ValueError):
        tnt.Engine(tmp_path / "d", retention=-1)


def test_config_file(tmp_path):
    cfg = tmp_path / "config.yml"
    cfg.write_text(f"database:\n  event_store: file://{tmp_path}/log\n  real_time_store: file://{tmp_path}/state\n"
                   f"  cold_storage: file://{tmp_path}/archive\n")
    with tnt.Engine(config=cfg) as e:
        e.ingest(journey())
        assert e.stats()["backends"]["event_store"].endswith("/log")
    bad = tmp_path / "bad.yml"
    bad.write_text("database:\n  event_store: kafka://localhost:1/t\n")
    with pytest.raises(tnt.Error, match="kafka"):
        tnt.Engine(config=bad)
    bad.write_text("database:\n  nonsense: 1\n")
    with pytest.raises(tnt.InvalidInput, match="nonsense"):
        tnt.Engine(config=bad)


def test_ingest_report(engine):
    rep = engine.ingest(journey() + [report(event_type="dance")])
    assert (rep.events, rep.accepted, rep.duplicates, rep.rejected) == (5, 4, 0, 1)
    assert not rep.ok and [r.status for r in rep.results] == ["accepted"] * 4 + ["rejected"]
    assert rep.results[0].hash_id.startswith("ni:///") and rep.results[4].hash_id is None
    (rej,) = rep.rejections
    assert rej.index == 4 and rej.errors[0].code == "VOCABULARY"
    again = engine.ingest(journey())
    assert again.duplicates == 4 and again.accepted == 0 and again.ok
    d = rep.to_dict()
    assert d["rejected"] == 1 and d["results"][4]["status"] == "rejected"
    json.dumps(d)
    counts = engine.ingest(journey(), counts_only=True)
    assert counts.results is None and counts.duplicates == 4


def test_ingest_sources(engine, tmp_path):
    docs = [journey(f"(01)09506000134352(21)S{i}") for i in range(7)]
    p = tmp_path / "j.json"
    p.write_text(json.dumps(docs[0]))
    assert engine.ingest(p).accepted == 4
    assert engine.ingest(json.dumps(docs[1])).accepted == 4
    assert engine.ingest(json.dumps(docs[2]).encode()).accepted == 4
    assert engine.ingest(io.StringIO(json.dumps(docs[3]))).accepted == 4
    assert engine.ingest(io.BytesIO(json.dumps(docs[4]).encode())).accepted == 4
    assert engine.ingest(docs[5][0]).accepted == 1
    assert engine.ingest(x for x in docs[6]).accepted == 4
    with pytest.raises(TypeError, match="file name"):
        engine.ingest(str(p))
    with pytest.raises(tnt.InputOutputError):
        engine.ingest(tmp_path / "missing.json")


def test_ingest_in_batches(engine, monkeypatch):
    from tnt import engine as engine_module
    monkeypatch.setattr(engine_module, "BATCH", 3)
    units = [report(f"(01)09506000134352(21)B{i}") for i in range(10)] + [report(event_type="dance")]
    rep = engine.ingest(units)
    assert rep.events == 11 and rep.accepted == 10 and [r.index for r in rep.results] == list(range(11))
    assert rep.rejections[0].index == 10


def test_malformed_ingest_keeps_the_report(engine):
    text = json.dumps(journey())[:-30]
    with pytest.raises(tnt.MalformedInput) as ei:
        engine.ingest(text)
    rep = ei.value.details
    assert isinstance(rep, tnt.IngestReport) and rep.accepted >= 1
    assert engine.track(SERIAL).event_count == rep.accepted


def test_track(stocked):
    t = stocked.track(SERIAL)
    assert t.id == "https://id.gs1.org/01/09506000134352/21/ABC123"
    assert stocked.track("https://example.com/01/09506000134352/21/ABC123") == t  # any form, same unit
    assert t.biz_step == "retail_selling" and t.disposition == "retail_sold"
    assert t.event_count == 4 and t.last_time == datetime(2024, 3, 4, 8, tzinfo=timezone.utc)
    assert t.last_event.startswith("ni:///")
    (r,) = t.readings
    assert (r.type, r.value, r.uom, r.excursion) == ("Temperature", 9.5, "CEL", True)
    assert r.time == datetime(2024, 3, 3, 8, tzinfo=timezone.utc) and r.to_dict()["excursion"] is True
    assert t.excursion
    assert t.location_name == "Shop Mitte" and t.location["latitude"] == 52.52 and t.via is None
    d = t.to_dict()
    assert d["id"] == t.id and d["event_count"] == 4 and d["location"]["name"] == "Shop Mitte"
    assert "Track(" in repr(t)
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(t)


def test_track_of_a_case(engine):
    case = "(00)095060001343520000"
    unit = SERIAL
    engine.ingest([report(unit, "commission", "2024-03-01T08:00:00Z", location=DC),
                   report(unit, "pack", "2024-03-01T09:00:00Z", location=DC, container=case),
                   report(case, "receive", "2024-03-02T09:00:00Z", location=SHOP)])
    t = engine.track(unit)
    assert t.parent == "https://id.gs1.org/00/095060001343520000"
    assert t.via == t.parent and t.biz_location == "https://id.gs1.org/414/" + SHOP


def test_history_and_journey(stocked):
    pages = list(stocked.history(SERIAL, limit=3))
    assert [len(p) for p in pages] == [3, 1]
    assert pages[0].next_token and pages[1].next_token is None
    steps = [e.biz_step for p in pages for e in p]
    assert steps == ["commissioning", "shipping", "receiving", "retail_selling"]
    assert [e.biz_step for e in stocked.journey(SERIAL, limit=1)] == steps
    second = list(stocked.history(SERIAL, limit=3, page=pages[0].next_token))
    assert [e.hash_id for e in second[0]] == [e.hash_id for e in pages[1]]
    d = pages[0].to_dict()
    assert d["next"] == pages[0].next_token and len(d["events"]) == 3
    with pytest.raises(tnt.NotFound):
        stocked.history("(01)09506000134352(21)NEVER")
    with pytest.raises(tnt.InvalidInput):
        list(stocked.history(SERIAL, page="garbage"))
    with pytest.raises(ValueError):
        stocked.history(SERIAL, limit=-1)


def test_event_by_hash(stocked):
    first = next(stocked.journey(SERIAL))
    ev = stocked.event(first.hash_id)
    assert ev == first and ev.biz_step == "commissioning" and ev.get("ilmd.cbvmda:lotNumber") == "L42"


def test_master_data(engine, tmp_path):
    assert engine.load_master(MASTER) == 4
    assert engine.get_master("location", SHOP)["name"] == "Shop Mitte"
    assert engine.get_master("gtin", "9506000134352")["name"] == "Greek yoghurt 500 g"  # key checked, canonical
    engine.put_master("product", {"gtin": GTIN, "name": "Yoghurt 1 kg", "min_temp": 2, "max_temp": 8})
    assert engine.get_master("product", GTIN)["name"] == "Yoghurt 1 kg"
    csv = tmp_path / "loc.csv"
    csv.write_text("gln,name,latitude,longitude\n9506000000039,Shop Ost,52.5,13.5\n")
    assert engine.load_master(csv) == 1 and engine.get_master("location", "9506000000039")["latitude"] == 52.5
    js = tmp_path / "m.json"
    js.write_text(json.dumps(MASTER))
    assert engine.load_master(str(js)) == 4
    with pytest.raises(tnt.InvalidInput):
        engine.put_master("product", {"gtin": "09506000134353", "name": "bad check digit"})
    with pytest.raises(ValueError):
        engine.put_master("planet", {"name": "Mars"})
    with pytest.raises(tnt.InvalidInput):
        engine.load_master({"planets": []})
    with pytest.raises(TypeError):
        engine.load_master(42)


def test_replay_archive_stats(stocked):
    before = stocked.track(SERIAL).to_dict()
    assert stocked.replay() >= 4
    assert stocked.track(SERIAL).to_dict() == before
    assert stocked.replay(since=datetime(2024, 3, 3, tzinfo=timezone.utc)) >= 0
    with pytest.raises(ValueError, match="naive"):
        stocked.replay(since=datetime(2024, 3, 3))
    res = stocked.archive(now=datetime(2024, 3, 10, tzinfo=timezone.utc))
    assert res.archived == 0  # the events are recent (master-data records move too, but are not events)
    assert res.to_dict() == {"archived": 0, "expired": 0}
    res = stocked.archive()  # now the events are more than 90 days old
    assert res.archived == 4
    assert [e.biz_step for e in stocked.journey(SERIAL)][0] == "commissioning"  # read back from the archive
    s = stocked.stats()
    assert s["ingest"]["accepted"] == 4 and s["archive"]["runs"] == 2


def test_query(stocked):
    other = "(01)09506000134352(21)OTHER"
    stocked.ingest(journey(other))
    everything = [e for p in stocked.query(limit=3) for e in p]
    assert len(everything) == 8
    pages = list(stocked.query(biz_steps="shipping", limit=1))
    assert [len(p) for p in pages] == [1, 1] and pages[0].id is None
    assert {p.events[0].epc_list[0] for p in pages} == {tnt.ids.normalize(SERIAL), tnt.ids.normalize(other)}
    mine = [e.biz_step for p in stocked.query(epcs=SERIAL) for e in p]
    assert mine == ["commissioning", "shipping", "receiving", "retail_selling"]
    at_shop = list(stocked.query(read_points=f"(414){SHOP}", dispositions=["retail_sold", "in_progress"]))
    assert sum(len(p) for p in at_shop) == 4
    window = stocked.query(since=datetime(2024, 3, 2, tzinfo=timezone.utc),
                           until=datetime(2024, 3, 3, tzinfo=timezone.utc), event_types="ObjectEvent")
    assert sum(len(p) for p in window) == 2
    assert sum(len(p) for p in stocked.query(event_types="AggregationEvent")) == 0
    resumed = list(stocked.query(limit=3, page=next(iter(stocked.query(limit=3))).next_token))
    assert sum(len(p) for p in resumed) == 5
    with pytest.raises(tnt.InvalidInput):
        list(stocked.query(page="garbage"))
    with pytest.raises(TypeError):
        stocked.query(biz_steps=[1])
    with pytest.raises(TypeError):
        stocked.query(epcs=b"bytes")


def test_ingest_streams_file_objects(engine, tmp_path):
    """An open file (text, binary, compressed) is read in pieces, never whole."""
    import gzip

    units = [report(f"(01)09506000134352(21)G{i}") for i in range(2000)]
    path = tmp_path / "export.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(units, f)
    sizes = []

    class Watched(io.RawIOBase):
        def __init__(self, inner):
            self.inner = inner

        def readable(self):
            return True

        def read(self, n=-1):
            sizes.append(n)
            return self.inner.read(n)

    with gzip.open(path, "rb") as f:
        rep = engine.ingest(Watched(f))
    assert rep.accepted == 2000
    assert len(sizes) > 2 and all(0 < n <= 1 << 16 for n in sizes)  # many bounded reads, never read()
    with gzip.open(path, "rt", encoding="utf-8") as f:  # text mode: str chunks
        assert engine.ingest(f).duplicates == 2000


def test_ingest_stream_failure_keeps_what_was_read(engine):
    units = [report(f"(01)09506000134352(21)H{i}") for i in range(300)]
    data = json.dumps(units).encode()

    class Broken(io.RawIOBase):
        pos = 0

        def read(self, n=-1):
            if self.pos > len(data) // 2:
                raise ConnectionResetError("the export server went away")
            chunk = data[self.pos:self.pos + min(n, 997)]
            self.pos += len(chunk)
            return chunk

    with pytest.raises(tnt.InputOutputError) as ei:
        engine.ingest(Broken())
    assert isinstance(ei.value.__cause__, ConnectionResetError)
    rep = ei.value.details
    assert 0 < rep.accepted < 300
    for r in rep.results:  # what the report accepted is stored
        assert engine.event(r.hash_id).hash_id == r.hash_id

    class Wrong(io.RawIOBase):
        def read(self, n=-1):
            return 42

    with pytest.raises(tnt.InputOutputError) as ei:
        engine.ingest(Wrong())
    assert isinstance(ei.value.__cause__, TypeError)
