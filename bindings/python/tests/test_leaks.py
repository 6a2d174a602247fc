"""No leak over a million calls: the resident memory stays flat.

TNT_LEAK_CALLS scales the number of calls (default 1,000,000)."""

import gc
import os

import pytest

import tnt
from tnt import ids

from conftest import MASTER, SERIAL, journey

CALLS = int(os.environ.get("TNT_LEAK_CALLS", "1000000"))
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def grows(fn, calls, warmup=20000):
    """Bytes the resident set grew by over `calls` calls, after a warm-up."""
    for _ in range(warmup):
        fn()
    before = rss()
    for _ in range(calls):
        fn()
    return rss() - before


MB = 1 << 20


@pytest.fixture
def store(tmp_path):
    with tnt.Engine(tmp_path / "data") as e:
        e.load_master(MASTER)
        e.ingest(journey())
        yield e


def test_track_a_million_times(store):
    track = store.track
    assert grows(lambda: track(SERIAL), CALLS) < 4 * MB


def test_identifiers_a_million_times():
    parse = ids.parse
    assert grows(lambda: parse("(01)09506000134352(21)ABC123(17)261231"), CALLS) < 4 * MB


def test_errors_do_not_leak(store):
    def fail():
        try:
            store.track("(01)09506000134352(21)NEVER")
        except tnt.NotFound:
            pass
        try:
            ids.parse(b"(01)09506000134353")
        except tnt.InvalidInput:
            pass

    assert grows(fail, CALLS // 10) < 4 * MB


def test_events_history_and_documents(store):
    doc = journey()

    def mixed():
        for ev in store.journey(SERIAL, limit=2):
            ev.to_dict()
            ev.epc_list
        store.track(SERIAL).to_dict()
        for ev in tnt.read(doc):
            ev.to_proto()
        store.ingest(doc)

    assert grows(mixed, CALLS // 200, warmup=500) < 8 * MB
