"""The example scripts run on their small sample data."""

import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES

DATA = EXAMPLES / "data"


def run(script, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def imported(tmp_path):
    data = tmp_path / "data"
    p = run("import_shipments.py", DATA / "shipments.csv", "--data", data, "--master", DATA / "master.json")
    assert p.returncode == 1, p.stderr  # the sample's last row has a wrong check digit
    assert "6 shipments (11 units): 5 stored, 0 already known, 1 rejected" in p.stdout
    assert "line 7: rejected: IDENTIFIER" in p.stderr
    return data


def test_import_shipments(imported):
    p = run("import_shipments.py", DATA / "shipments.csv", "--data", imported)
    assert "0 stored, 5 already known, 1 rejected" in p.stdout


def test_export_geojson(imported, tmp_path):
    out = tmp_path / "journey.geojson"
    p = run("export_geojson.py", "(01)09506000134352(21)ABC100", "--data", imported, "-o", out)
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    points = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
    assert [f["properties"]["place"] for f in points] == ["Dairy Co plant", "DC North", "Regional hub",
                                                          "Shop Altstadt"]
    assert points[0]["geometry"]["coordinates"] == [10.1228, 54.3233]
    (line,) = [f for f in doc["features"] if f["geometry"]["type"] == "LineString"]
    assert len(line["geometry"]["coordinates"]) == 4
    p = run("export_geojson.py", "(01)09506000134352(21)NEVER", "--data", imported)
    assert p.returncode == 1 and "has no events" in p.stderr


def test_audit_batch(imported):
    p = run("audit_batch.py", "--codes", DATA / "shipments.csv", "--data", imported)
    assert "codes)" in p.stdout, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["code", "verdict", "conf."]
    assert any("(21)ABC100" in l for l in lines)
    p = run("audit_batch.py", "--gtin", "09506000134352", "ABC100", "NOSUCH", "--data", imported, "--json")
    answers = [json.loads(l) for l in p.stdout.splitlines()]
    assert [a["code"] for a in answers] == ["(01)09506000134352(21)ABC100", "(01)09506000134352(21)NOSUCH"]
    assert answers[1]["verdict"] != "GENUINE" and p.returncode == 1
