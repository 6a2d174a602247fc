"""Authenticity: verdicts, signed codes, offline checks of signed answers."""

import copy
import json

import pytest

import tnt

from conftest import MASTER, SERIAL, journey, report


@pytest.fixture
def brand():
    return tnt.auth.keygen()


@pytest.fixture
def shop(engine, brand):
    m = copy.deepcopy(MASTER)
    m["parties"][0]["public_key"] = brand.public
    engine.load_master(m)
    fresh = [report(SERIAL, "commission", "2024-03-01T08:00:00Z", location="9506000000015", batch="L42",
                    expiry="2099-12-31"),
             report(SERIAL, "receive", "2024-03-03T08:00:00Z", location="9506000000022",
                    condition={"temperature": 4.0})]
    assert engine.ingest(fresh).accepted == 2
    return engine


def test_keys_and_signed_codes(brand):
    assert len(brand.public) == 43 and len(brand.secret) == 86 and "secret=..." in repr(brand)
    signed = tnt.auth.sign_code("(01)09506000134352(21)ABC123(17)991231", brand.secret, stem="https://b.example")
    assert signed.startswith("https://b.example/01/09506000134352/21/ABC123?") and "8030=" in signed
    assert tnt.ids.parse(signed).ai("8030")
    with pytest.raises(tnt.InvalidInput):
        tnt.auth.sign_code("(01)09506000134352(21)ABC123", "not a key")
    with pytest.raises(tnt.InvalidInput):
        tnt.auth.sign_code("garbage", brand.secret)


def test_genuine_product(shop, brand):
    v = shop.authenticate(tnt.auth.sign_code(SERIAL, brand.secret), location=(53.55, 9.99), device="phone-1")
    assert v.genuine and v.verdict in ("GENUINE", "GENUINE_CAUTION") and 0 < v.confidence <= 1
    assert v.evidence_level == 3
    d = v.to_dict()
    assert d["verdict"] == v.verdict and d["origin"]["batch"] == "L42" and v.origin == d["origin"]
    assert [s["step"] for s in v.journey][:1] == ["commissioning"]
    assert v.signature and "latitude" in json.dumps(d)
    consumer = v.to_dict("consumer")
    assert consumer["verdict"] == v.verdict
    with pytest.raises(ValueError):
        v.to_dict("everyone")


def test_bad_codes(shop):
    v = shop.authenticate("garbage")
    assert v.verdict == "UNVERIFIABLE" and v.reasons[0].code == "CODE_INVALID" and not v.genuine
    assert v.reasons[0].to_dict()["severity"] == "hard"
    assert shop.authenticate("(01)09506000134352(21)NOSUCH").verdict == "COUNTERFEIT"
    assert shop.authenticate(b"\xff\xfe").verdict == "UNVERIFIABLE"


def test_lifecycle(shop):
    shop.ingest([report(SERIAL, "recall", "2024-03-05T08:00:00Z", location="9506000000022")])
    assert shop.authenticate(SERIAL).verdict == "DO_NOT_USE"


def test_scan_context(shop):
    with pytest.raises(tnt.InvalidInput, match="latitude"):
        shop.authenticate(SERIAL, location=(100, 0))
    with pytest.raises(tnt.InvalidInput):
        shop.authenticate(SERIAL, location_id="9506000000022")  # a consumer gives coordinates
    v = shop.authenticate(SERIAL, role="retailer", intent="sell", location_id="9506000000022", record=False)
    assert v.verdict
    with pytest.raises(ValueError):
        shop.authenticate(SERIAL, intent="steal")
    with pytest.raises(tnt.TooBig):
        shop.authenticate(SERIAL, device="d" * 5000)


def test_signed_answers_verify_offline(shop):
    key = shop.service_key
    assert len(key) == 43
    v = shop.authenticate(SERIAL)
    assert tnt.auth.verify(v.json, key) and tnt.auth.verify(v.consumer_json.encode(), key)
    tampered = v.json.replace(f'"verdict":"{v.verdict}"', '"verdict":"COUNTERFEIT"')
    assert tampered != v.json and not tnt.auth.verify(tampered, key)
    other = tnt.auth.keygen().public
    assert not tnt.auth.verify(v.json, other)
    with pytest.raises(TypeError):
        tnt.auth.verify(None, key)
    for bogus in ["bogus", key[:-1], key + "A", "!" * 43]:  # no key at all: the caller's mistake, not a forgery
        with pytest.raises(ValueError):
            tnt.auth.verify(v.json, bogus)


def test_scans_are_recorded(shop):
    for i in range(3):
        shop.authenticate(SERIAL, location=(53.55, 9.99), device=f"phone-{i}")
    far = shop.authenticate(SERIAL, location=(-33.86, 151.2), device="phone-x")
    assert far.verdict in ("SUSPECT", "GENUINE_CAUTION", "GENUINE")  # a scan far away soon after
    assert "scans" in far.to_dict() or far.reasons is not None
