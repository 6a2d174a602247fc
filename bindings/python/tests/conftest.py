"""Shared fixtures: the repository's data, a fresh engine, the tnt tool."""

import json
import os
import pathlib
import shutil

import pytest

import tnt

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONFORMANCE = ROOT / "tests" / "conformance"
GS1_EXAMPLES = CONFORMANCE / "gs1-epcis" / "JSON"
HASH_EXAMPLES = CONFORMANCE / "event-hash" / "tests"
IDS_DATA = ROOT / "tests" / "data" / "ids"
EXAMPLES = ROOT / "examples" / "python"

SERIAL = "(01)09506000134352(21)ABC123"
GTIN = "09506000134352"
SHOP = "9506000000022"
DC = "9506000000015"
FAR_FUTURE = 4102444800000  # 2100-01-01: every example's eventTime is in the past


def report(product_id=SERIAL, event_type="commission", timestamp="2024-03-01T10:00:00Z", **more):
    return dict(product_id=product_id, event_type=event_type, timestamp=timestamp, **more)


def journey(serial=SERIAL):
    """A unit's journey as simple reports: made, packed, shipped, received, sold."""
    return [
        report(serial, "commission", "2024-03-01T08:00:00Z", location=DC, batch="L42", expiry="2024-04-01"),
        report(serial, "ship", "2024-03-02T08:00:00Z", location=DC, condition={"temperature": 4.5}),
        report(serial, "receive", "2024-03-03T08:00:00Z", location=SHOP, condition={"temperature": 9.5}),
        report(serial, "sell", "2024-03-04T08:00:00Z", location=SHOP),
    ]


MASTER = {
    "products": [{"gtin": GTIN, "name": "Greek yoghurt 500 g", "brand": "Dairy Co", "min_temp": 2, "max_temp": 8,
                  "shelf_life_days": 21}],
    "locations": [
        {"gln": DC, "name": "DC North", "city": "Hamburg", "country": "DE", "latitude": 53.55, "longitude": 9.99},
        {"gln": SHOP, "name": "Shop Mitte", "city": "Berlin", "country": "DE", "latitude": 52.52,
         "longitude": 13.405},
    ],
    "parties": [{"company_prefix": "9506000", "name": "Dairy Co", "role": "brand_owner"}],
}


@pytest.fixture
def engine(tmp_path):
    with tnt.Engine(tmp_path / "data") as e:
        yield e


@pytest.fixture
def stocked(engine):
    """An engine with master data and one unit's journey."""
    engine.load_master(MASTER)
    rep = engine.ingest(journey())
    assert rep.accepted == 4, rep
    return engine


@pytest.fixture(scope="session")
def tnt_cli():
    path = os.environ.get("TNT_CLI") or shutil.which("tnt")
    if not path:
        pytest.fail("the tnt tool is not on PATH (or TNT_CLI): scripts/test.sh puts it there")
    return path


def gs1_examples():
    return sorted(GS1_EXAMPLES.rglob("*.jsonld"))
