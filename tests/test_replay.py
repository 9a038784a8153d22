"""The whole pipeline on a small scenario, through the command line as a user runs it:
sim -> replay (track, assess, warn, CAP, audit) -> warning scores."""

from __future__ import annotations

import json

import pytest

from skywarden.cli import main
from skywarden.records import AlertEvent
from skywarden.score.warnings import score_warnings
from skywarden.warn.audit import verify

SCENARIO = """
[scenario]
name = "test-crossing"
title = "One drone from Belarus into Poland, one airliner"
start = 2025-09-09T22:00:00Z
duration = 2400
seed = 7

[[sensor]]
id = "pl-radar-east"
type = "radar"
owner = "POL"
lat = 52.05
lon = 23.0
alt = 150
max_range = 150000
scan_period = 10
sigma_range = 100
sigma_azimuth = 0.2
sigma_elevation = 0.5
pd = 0.95
clutter_per_scan = 2

[[sensor]]
id = "pl-adsb-1"
type = "adsb"
owner = "POL"
lat = 52.2
lon = 21.0
alt = 150
max_range = 400000

# A silent drone flying west from Belarus across the Bug river into Poland.
[[target]]
id = "drone-1"
class = "drone"
hostile = true
start = 0
speed = 45
alt = 400
route = [[52.05, 24.6, 400], [52.05, 22.4, 400]]

# An airliner with ADS-B along Poland, well inside, not a threat.
[[target]]
id = "civil-1"
class = "aircraft"
coop_id = "icao:48AE01"
start = 0
speed = 220
alt = 10000
route = [[52.5, 20.0, 10000], [50.3, 19.9, 10000]]
"""


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    scenario = folder / "crossing.toml"
    scenario.write_text(SCENARIO)
    out = folder / "out"
    assert main(["sim", str(scenario), "-o", str(out), "--labels"]) == 0
    argv = ["replay", str(out), "--alerts-out", str(out / "alerts.jsonl"),
            "--tracks-out", str(out / "tracks.jsonl"), "--cap-out", str(out / "cap"),
            "--audit", str(out / "audit.jsonl")]  # fmt: skip
    assert main(argv) == 0
    return out


def _alerts(out):
    lines = (out / "alerts.jsonl").read_text().splitlines()
    return [AlertEvent(**json.loads(line)) for line in lines]


def test_poland_is_warned_before_the_drone_crosses(replayed):
    rep = score_warnings(replayed / "truth.jsonl", replayed / "alerts.jsonl",
                         replayed / "detections.jsonl")
    pol = [e for e in rep.entries if e.nation == "POL" and e.target == "drone-1"]
    assert len(pol) == 1
    entry = pol[0]
    assert entry.seen_before and not entry.missed
    # Seen about 70 km before the border at 45 m/s: most of that time is lead time.
    assert entry.lead_s >= 0.8 * entry.possible_lead_s
    assert entry.incursion_delay_s is not None and entry.incursion_delay_s < 60.0
    # The airliner raises nothing: no false alerts.
    assert rep.false_alerts == {}


def test_alerts_escalate_without_a_storm(replayed):
    events = [e for e in _alerts(replayed) if e.kind != "sensor_down"]
    assert events, "no alerts at all"
    about_pol = [e for e in events if e.nation == "POL"]
    kinds = {e.kind for e in about_pol}
    assert {"predicted_entry", "incursion"} <= kinds
    # One alert per (track, nation); it changes level a few times, it is not re-raised.
    raised = [e for e in about_pol if e.event == "raised"]
    assert len({e.track for e in raised}) == len(raised)
    assert len(about_pol) < 20
    predicted = next(e for e in about_pol if e.kind == "predicted_entry")
    assert predicted.eta is not None and predicted.eta > predicted.time
    # No radar was silent: no sensor-down alert.
    assert not [e for e in _alerts(replayed) if e.kind == "sensor_down"]


def test_public_warnings_are_valid_cap_and_the_audit_chain_holds(replayed):
    xmlschema = pytest.importorskip("xmlschema")
    from pathlib import Path

    schema = xmlschema.XMLSchema(Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd")
    files = sorted((replayed / "cap").glob("*.xml"))
    assert files, "an incursion into Poland calls for a public warning"
    for f in files:
        schema.validate(str(f))
        text = f.read_text()
        assert "<status>Exercise</status>" in text
    # warned per region: the voivodeships ahead of the drone, each a warning of its own
    regions = {f.name.split(".")[1] for f in files}
    assert all(f.name.startswith("POL.") for f in files)
    assert "Lublin_Voivodeship" in regions or "Podlasie" in regions, regions
    assert all("<valueName>skywarden:region</valueName>" in f.read_text() for f in files)
    checked = verify(replayed / "audit.jsonl")
    assert checked.entries >= len(_alerts(replayed))


def test_score_command_adds_the_warning_scores(replayed, capsys):
    capsys.readouterr()
    argv = ["score", str(replayed / "truth.jsonl"), str(replayed / "tracks.jsonl"),
            "--alerts", str(replayed / "alerts.jsonl"),
            "--detections", str(replayed / "detections.jsonl"), "--json"]  # fmt: skip
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    warned = doc["warnings"]
    assert warned["missed"] == 0
    assert any(e["nation"] == "POL" and e["lead_s"] > 0 for e in warned["entries"])
