"""Status codes map 1:1 to exception classes that carry code, name, message, details."""

import pytest

import tnt
from tnt import capi, errors

EXPECTED = {
    "TNT_E_INVALID": tnt.InvalidInput, "TNT_E_NOMEM": tnt.OutOfMemory, "TNT_E_NOTFOUND": tnt.NotFound,
    "TNT_E_EXISTS": tnt.AlreadyExists, "TNT_E_IO": tnt.InputOutputError, "TNT_E_TIMEOUT": tnt.Timeout,
    "TNT_E_BACKEND": tnt.BackendError, "TNT_E_MISUSE": tnt.Misuse, "TNT_E_UNSUPPORTED": tnt.Unsupported,
    "TNT_E_TOOBIG": tnt.TooBig, "TNT_E_SYNTAX": tnt.MalformedInput, "TNT_E_GCP": tnt.CompanyPrefixUnknown,
    "TNT_E_CONFLICT": tnt.Conflict, "TNT_E_CORRUPT": tnt.Corrupt, "TNT_E_VERSION": tnt.VersionMismatch,
}


def test_every_error_code_has_its_class():
    rows = [r for r in capi.status_table() if r[0] < 0]
    assert {name for _, name, _ in rows} == set(EXPECTED)
    for code, name, text in rows:
        cls = errors.error_class(code)
        assert cls is EXPECTED[name]
        assert cls.code == code and cls.name == name
        e = errors._from_status(code, "", None)
        assert isinstance(e, tnt.Error) and e.code == code and str(e) == text


def test_builtin_bases():
    assert issubclass(tnt.InvalidInput, ValueError)
    assert issubclass(tnt.MalformedInput, tnt.InvalidInput)
    assert issubclass(tnt.TooBig, tnt.InvalidInput)
    assert issubclass(tnt.NotFound, LookupError)
    assert issubclass(tnt.Timeout, TimeoutError)
    assert issubclass(tnt.OutOfMemory, MemoryError)
    assert issubclass(tnt.InputOutputError, OSError)


def test_unknown_code_is_a_plain_error():
    e = errors._from_status(-999, "strange", {"x": 1})
    assert type(e) is tnt.Error and e.code == -999 and e.message == "strange" and e.details == {"x": 1}


def test_message_and_details_from_the_library():
    with pytest.raises(tnt.InvalidInput) as ei:
        tnt.ids.parse("(01)09506000134353")
    e = ei.value
    assert e.code == capi.TNT_E_INVALID and e.name == "TNT_E_INVALID"
    assert "ID_CHECK_DIGIT" in str(e)
    assert e.details and e.details[0].code == "ID_CHECK_DIGIT"
    d = e.to_dict()
    assert d["name"] == "TNT_E_INVALID" and d["details"][0]["code"] == "ID_CHECK_DIGIT"


def test_errors_from_the_engine(engine):
    with pytest.raises(tnt.NotFound, match="has no events"):
        engine.track("(01)09506000134352(21)NEVER")
    with pytest.raises(tnt.InvalidInput):
        engine.track("not an identifier")
    with pytest.raises(tnt.NotFound):
        engine.event("ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0")
    with pytest.raises(tnt.NotFound):
        engine.get_master("product", "09506000134352")
    with pytest.raises(tnt.InputOutputError):
        engine.load_master("/nonexistent/master.json")
    with pytest.raises(tnt.MalformedInput) as ei:
        engine.ingest('{"type": "EPCISDocument", "epcisBody": {"eventList": [')
    assert isinstance(ei.value.details, tnt.IngestReport)
