"""Use from several threads: one engine shared, the GIL released in long calls,
close() while other threads are calling."""

import json
import threading
import time

import pytest

import tnt
from tnt import ids

from conftest import journey, report


def run_threads(n, target):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_shared_engine(engine):
    def work(i):
        serials = [f"(01)09506000134352(21)T{i}N{k}" for k in range(20)]
        for s in serials:
            rep = engine.ingest(journey(s))
            assert rep.accepted == 4
        for _ in range(5):
            for s in serials:
                t = engine.track(s)
                assert t.event_count == 4 and t.biz_step == "retail_selling"
                assert len(list(engine.journey(s, limit=2))) == 4

    run_threads(6, work)
    assert engine.stats()["ingest"]["accepted"] == 6 * 20 * 4


def test_identifiers_from_threads():
    want = {f"(01)09506000134352(21)X{i}": f"https://id.gs1.org/01/09506000134352/21/X{i}" for i in range(200)}

    def work(i):
        for _ in range(20):
            for text, canon in want.items():
                assert ids.parse(text).canonical == canon
                assert ids.to_digital_link(text, stem=f"https://t{i}.example") == \
                    canon.replace("https://id.gs1.org", f"https://t{i}.example")

    run_threads(4, work)


def test_documents_from_threads():
    doc = journey() * 50

    def work(i):
        for _ in range(20):
            hashes = tnt.hash(doc)
            assert len(hashes) == 200 and len(set(hashes)) == 4

    run_threads(4, work)


def test_gil_is_released_during_ingest(engine):
    big = [report(f"(01)09506000134352(21)G{i}", "ship", "2024-03-01T00:00:00Z") for i in range(5000)]
    data = json.dumps(big)
    done = threading.Event()
    result = {}

    def ingest():
        result["report"] = engine.ingest(data, counts_only=True)
        done.set()

    t = threading.Thread(target=ingest)
    spins = 0
    t.start()
    time.sleep(0.01)
    start = time.perf_counter()
    while not done.is_set():
        spins += 1
    elapsed = time.perf_counter() - start
    t.join()
    assert result["report"].accepted == 5000
    # with the GIL held for the whole ingest this loop could not run at all
    assert elapsed < 0.05 or spins > 1000, (spins, elapsed)


def test_close_while_threads_call(engine):
    engine.ingest(journey())
    stop = threading.Event()
    outcomes = []

    def caller(i):
        n = 0
        try:
            while not stop.is_set():
                engine.track("(01)09506000134352(21)ABC123")
                n += 1
        except tnt.Misuse:
            outcomes.append(n)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    engine.close()
    for t in threads:
        t.join(30)
    stop.set()
    assert len(outcomes) == 4 and all(n > 0 for n in outcomes)
    with pytest.raises(tnt.Misuse):
        engine.track("(01)09506000134352(21)ABC123")
