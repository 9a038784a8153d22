"""Running scenarios end to end: files, ordering, labels, determinism (skywarden.sim.runner)."""

from __future__ import annotations

import json

import pytest

from skywarden.ingest.jsonl import ReadStats, read_detections, read_jsonl
from skywarden.records import Truth
from skywarden.sensors import SensorRegistry
from skywarden.sim import load_scenario, run_scenario

FILES = ("truth.jsonl", "detections.jsonl", "sensors.toml")


@pytest.fixture(scope="module")
def small_scale():
    return load_scenario("scale", targets=150, duration=90)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, small_scale):
    a = run_scenario(small_scale, tmp_path / "a", seed=7)
    run_scenario(small_scale, tmp_path / "b", seed=7)
    run_scenario(small_scale, tmp_path / "c", seed=8)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in FILES[:2]:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert a.truth_lines == 150 * 90 and a.detections > 1000
    assert set(a.detections_by_type) == {"radar", "adsb"}


def test_outputs_are_valid_time_ordered_records(tmp_path, small_scale):
    summary = run_scenario(small_scale, tmp_path, seed=1)
    registry = SensorRegistry.load(tmp_path / "sensors.toml")
    stats = ReadStats()
    dets = list(
        read_detections(tmp_path / "detections.jsonl", strict=True, sensors=registry, stats=stats)
    )
    truth = list(read_jsonl(tmp_path / "truth.jsonl", Truth, strict=True))
    assert len(dets) == summary.detections and len(truth) == summary.truth_lines
    assert [d.time for d in dets] == sorted(d.time for d in dets)
    assert [t.time for t in truth] == sorted(t.time for t in truth)
    assert all(d.target is None for d in dets)  # no labels unless asked
    # Per step: every live target once, in scenario order.
    first_step = [t.target for t in truth if t.time == truth[0].time]
    assert first_step == sorted(first_step) and len(first_step) == 150
    assert sum(t.observable for t in truth) > 0.9 * len(truth)
    # Explicit JSON: observable always written, hostile only when true.
    line = json.loads((tmp_path / "truth.jsonl").read_text().splitlines()[0])
    assert "observable" in line and line.get("hostile", True) is True


def test_sensors_toml_carries_the_defaults_used(tmp_path):
    text = """
[scenario]
name = "d"
start = 2025-01-01T00:00:00Z
duration = 5

[[sensor]]
id = "r"
type = "radar"
owner = "POL"
lat = 52.0
lon = 21.0
"""
    path = tmp_path / "d.toml"
    path.write_text(text)
    run_scenario(load_scenario(path), tmp_path / "out")
    r = SensorRegistry.load(tmp_path / "out" / "sensors.toml")["r"]
    assert r.sigma_range == 100.0 and r.sigma_azimuth == 0.2 and r.scan_period == 10.0
    assert r.max_range == 200000.0 and r.pd == 0.95
    assert (tmp_path / "out" / "truth.jsonl").read_bytes() == b""


def test_labels_name_the_truth_target(tmp_path, small_scale):
    run_scenario(small_scale, tmp_path, seed=1, labels=True)
    ids = {json.loads(x)["target"] for x in (tmp_path / "truth.jsonl").read_text().splitlines()}
    dets = [json.loads(x) for x in (tmp_path / "detections.jsonl").read_text().splitlines()]
    labelled = [d for d in dets if "target" in d]
    assert labelled and {d["target"] for d in labelled} <= ids
    # Clutter carries no label; every ADS-B report does.
    assert all("target" in d for d in dets if d["kind"] == "position")
    assert any("target" not in d for d in dets if d["kind"] == "polar")


def test_progress_reports_simulated_time(tmp_path, small_scale):
    seen = []
    run_scenario(small_scale, tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (90.0, 90.0) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_shipped_scenarios_run_briefly(tmp_path):
    from skywarden.sim import list_scenarios

    for info in list_scenarios():
        if info.name == "scale":
            continue
        s = load_scenario(info.name, duration=120)
        summary = run_scenario(s, tmp_path / info.name, labels=True)
        assert summary.truth_lines >= 0
        list(read_detections(tmp_path / info.name / "detections.jsonl", strict=True))


MIXED = """
[scenario]
name = "mixed"
start = 2025-01-01T00:00:00Z
duration = 300
seed = 3

[sensor_model.visual_report]
reports_per_target_hour = 600

[[sensor]]
id = "radar"
type = "radar"
owner = "POL"
lat = 52.0
lon = 21.0
alt = 100
scan_period = 5
clutter_per_scan = 2

[[sensor]]
id = "app"
type = "visual_report"
owner = "POL"

[[sensor]]
id = "rid"
type = "remote_id"
owner = "POL"
lat = 52.0
lon = 21.0

[[sensor_line]]
prefix = "ac"
from = [51.95, 20.9]
to = [52.05, 21.1]
count = 4
type = "acoustic"
owner = "POL"

[[target_group]]
prefix = "d"
count = 30
class = "drone"
coop_id = "auto-rid"
jitter_m = 4000
route = [[52.0, 20.9, 200], [52.0, 21.1]]
end = "hold"
"""


def test_every_sensor_type_is_deterministic(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED)
    s = load_scenario(path)
    a = run_scenario(s, tmp_path / "a", labels=True)
    run_scenario(s, tmp_path / "b", labels=True)
    assert set(a.detections_by_type) == {"radar", "remote_id", "acoustic", "visual_report"}
    assert all(n > 0 for n in a.detections_by_type.values())
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    times = [d.time for d in read_detections(tmp_path / "a" / "detections.jsonl", strict=True)]
    assert times == sorted(times)


def test_public_surface():
    import skywarden.sim as sim

    assert sorted(sim.__all__) == sorted(
        [
            "Scenario",
            "ScenarioInfo",
            "SimSummary",
            "TargetSpec",
            "list_scenarios",
            "load_scenario",
            "parse_scenario",
            "run_scenario",
        ]
    )
    assert all(hasattr(sim, name) for name in sim.__all__)


def test_the_three_files_are_written_together_or_not_at_all(tmp_path, small_scale):
    """sensors.toml was written after truth and detections were in place: a run stopped
    there (Ctrl-C, or sensors.toml not writable) left new detections without their registry,
    or beside the registry of an earlier run."""
    out = tmp_path / "out"
    run_scenario(small_scale, out, seed=7)
    before = {name: (out / name).read_bytes() for name in FILES}
    (out / "sensors.toml").unlink()
    (out / "sensors.toml").mkdir()  # the registry cannot be written
    with pytest.raises(IsADirectoryError):
        run_scenario(small_scale, out, seed=8)
    for name in FILES[:2]:
        assert (out / name).read_bytes() == before[name]  # the earlier run's, untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no temporary files
