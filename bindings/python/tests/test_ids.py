"""Identifiers: every form, every conversion, errors, and the same answers as the tnt tool."""

import json
import subprocess

import pytest

import tnt
from tnt import ids

from conftest import GS1_EXAMPLES, IDS_DATA, gs1_examples

CANON = "https://id.gs1.org/01/09506000134352/21/ABC123"


@pytest.mark.parametrize("text,form", [
    ("(01)09506000134352(21)ABC123", "element_string"),
    ("https://example.com/shop/01/09506000134352/21/ABC123?17=261231", "digital_link"),
    ("9506000134352 ABC123", "plain"),
    ("]d201095060001343522" + "1ABC123", "barcode"),
])
def test_forms_of_one_unit(text, form):
    i = ids.parse(text)
    assert i.type == "sgtin" and i.level == "instance" and i.form == form
    assert i.canonical == CANON and str(i) == CANON
    assert i.ai("01") == "09506000134352" and i.ai("21") == "ABC123"
    assert ids.normalize(text) == CANON


def test_epc_urn_needs_the_company_prefix():
    i = ids.parse("(01)09506000134352(21)ABC123")
    assert i.epc_urn is None and i.epc_urn_error.startswith("ID_GCP_UNKNOWN")
    with pytest.raises(tnt.CompanyPrefixUnknown):
        ids.to_epc_urn("(01)09506000134352(21)ABC123")
    assert ids.to_epc_urn("(01)09506000134352(21)ABC123", gcp_length=7) == "urn:epc:id:sgtin:9506000.013435.ABC123"
    urn = ids.parse("urn:epc:id:sgtin:0614141.107346.2017")
    assert urn.form == "epc_urn" and urn.gcp_length == 7 and urn.epc_urn == "urn:epc:id:sgtin:0614141.107346.2017"


def test_gcp_table():
    t = ids.GcpTable({"9506000": 7})
    assert t.lookup("9506000134352") == 7 and t.lookup("12345") is None
    assert ids.to_epc_urn("(00)095060001343520000", gcp_table=t).startswith("urn:epc:id:sscc:9506000.")
    loaded = ids.GcpTable.load(IDS_DATA / "gcp.csv")
    assert loaded.lookup("0614141000") == 7
    with pytest.raises(tnt.InvalidInput):
        ids.GcpTable.load(IDS_DATA / "gcp_bad.csv")
    with pytest.raises(tnt.InputOutputError):
        ids.GcpTable.load(IDS_DATA / "missing.csv")
    with pytest.raises(tnt.InvalidInput):
        t.add("12ab", 7)
    with pytest.raises(TypeError):
        ids.parse("(01)09506000134352", gcp_table={"9506000": 7})


def test_conversions():
    dl = ids.to_digital_link("(01)09506000134352(21)ABC123(17)261231", stem="https://brand.example/p")
    assert dl == "https://brand.example/p/01/09506000134352/21/ABC123?17=261231"
    assert ids.to_element_string("https://id.gs1.org/01/09506000134352/21/ABC123?17=261231") == \
        "(01)09506000134352(21)ABC123(17)261231"
    assert ids.check_digit("950600013435") == 2
    with pytest.raises(tnt.InvalidInput):
        ids.check_digit("95060001343x")
    assert ids.TYPES[2] == "sgtin"


def test_levels_and_types():
    assert ids.parse("(00)095060001343520000").type == "sscc"
    assert ids.parse("(414)9506000000022").type == "gln"
    lot = ids.parse("urn:epc:class:lgtin:4012345.012345.998877")
    assert lot.type == "lgtin" and lot.level == "class"
    pat = ids.parse("urn:epc:idpat:sgtin:4012345.012345.*")
    assert pat.level == "pattern"
    assert ids.parse("09506000134352").type == "gtin"


def test_invalid_identifiers():
    assert not ids.is_valid("(01)09506000134353")
    assert ids.is_valid(b"(01)09506000134352")
    with pytest.raises(tnt.InvalidInput) as ei:
        ids.parse("(01)09506000134353(21)ABC123")
    assert [d.code for d in ei.value.details] == ["ID_CHECK_DIGIT"]
    assert ei.value.details[0].to_dict()["code"] == "ID_CHECK_DIGIT"
    with pytest.raises(tnt.TooBig):
        ids.parse("1" * 5000)
    with pytest.raises(tnt.InvalidInput):
        ids.parse("")
    assert ids.parse("https://id.gs1.org/01/9506000134352", permit_short_gtin=True).canonical == \
        "https://id.gs1.org/01/09506000134352"
    with pytest.raises(tnt.InvalidInput):
        ids.parse("https://id.gs1.org/01/9506000134352")


def test_to_dict_shape():
    d = ids.parse("(01)09506000134352(21)ABC123(17)261231").to_dict()
    assert d["ok"] is True and d["type"] == "sgtin" and d["ais"] == {"01": "09506000134352", "21": "ABC123",
                                                                       "17": "261231"}
    json.dumps(d)


# ---- the same answers as the tnt tool ----

def _collect_ids(obj, out):
    """Every identifier-looking string of a GS1 example document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("epcList", "childEPCs", "inputEPCList", "outputEPCList") and isinstance(v, list):
                out.update(x for x in v if isinstance(x, str))
            elif k in ("parentID", "epcClass") and isinstance(v, str):
                out.add(v)
            elif k in ("readPoint", "bizLocation") and isinstance(v, dict) and isinstance(v.get("id"), str):
                out.add(v["id"])
            else:
                _collect_ids(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _collect_ids(v, out)


def conformance_ids():
    found = set()
    for f in gs1_examples():
        try:
            _collect_ids(json.loads(f.read_text()), found)
        except ValueError:
            continue
    found.update(["(01)09506000134352(21)ABC123", "(01)09506000134353(21)ABC123", "9506000134352 ABC123",
                  "https://example.com/01/09506000134352/21/A%2FB?17=261231&linkType=all", "not an id",
                  "urn:epc:id:sscc:0614141.1234567890", "(00)095060001343520000", "(414)9506000000022(254)7"])
    return sorted(found)


def test_ids_equal_the_cli(tnt_cli):
    texts = conformance_ids()
    assert len(texts) >= 50
    keys = ("ok", "type", "canonical", "epc_urn", "digital_link", "element_string", "errors", "epc_urn_error")
    for gcp in (None, 7):
        for text in texts:
            args = [tnt_cli, "id", text] + (["--gcp", str(gcp)] if gcp else [])
            cli = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=30).stdout)
            try:
                mine = ids.parse(text, gcp_length=gcp or 0).to_dict()
            except tnt.InvalidInput as e:
                mine = {"ok": False, "type": None, "canonical": None, "epc_urn": None, "digital_link": None,
                        "element_string": None, "errors": [d.to_dict() for d in e.details]}
            assert {k: mine.get(k) for k in keys} == {k: cli.get(k) for k in keys}, text
