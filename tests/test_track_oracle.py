"""The oracle tracker (skywarden.track.oracle): labelled detections filtered per target."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from skywarden.geo import geodetic_to_ecef
from skywarden.ingest.jsonl import JsonlWriter
from skywarden.records import Detection, DetectionBatch, TrackUpdate
from skywarden.score import score_files
from skywarden.sim import load_scenario, run_scenario
from skywarden.track import track_file
from skywarden.track.oracle import OracleTracker, oracle_file
from skywarden.track.synthetic import Mover, Scene, adsb_reports, bearings, radar_plots, registry

LAT0, LON0 = 52.0, 21.0
RADAR = dict(id="r1", type="radar", owner="POL", lat=LAT0, lon=LON0, alt=100.0,
             max_range=250000, scan_period=5, sigma_range=50, sigma_azimuth=0.2,
             sigma_elevation=0.3, clutter_per_scan=5.0)
ADSB = dict(id="a1", type="adsb", owner="POL", lat=LAT0, lon=LON0, alt=100.0)
MIC = dict(id="m1", type="acoustic", owner="POL", lat=LAT0, lon=LON0 + 0.05, alt=100.0,
           max_range=6000.0, scan_period=2.0)


def _labelled(dets: list[Detection], name: str | None) -> list[Detection]:
    return [msgspec.structs.replace(d, target=name) for d in dets]


def _write(path, dets):
    with JsonlWriter(path) as w:
        for d in sorted(dets, key=lambda d: d.time):
            w.write(d)


def test_each_labelled_target_is_one_track_updated_by_each_of_its_detections(tmp_path):
    rng = np.random.default_rng(3)
    reg = registry(RADAR, ADSB)
    drone = Mover("drone", (15000.0, -5000.0, 300.0), (-20.0, 40.0, 0.0))
    liner = Mover("liner", (-60000.0, 0.0, 10500.0), (230.0, 0.0, 0.0), turn_rate=3.0,
                  turn_from=150.0, icao="icao:4CA2D1")
    dets: list[Detection] = []
    for mv in (drone, liner):
        scene = Scene(LAT0, LON0, [mv])
        own = radar_plots(scene, reg["r1"], 0, 300, rng)
        own += adsb_reports(scene, reg["a1"], 0, 300, rng, period=2.0)
        dets += _labelled(own, mv.name)
    labelled = len(dets)
    clutter = radar_plots(Scene(LAT0, LON0, []), reg["r1"], 0, 300, rng, clutter=5.0)
    assert len(clutter) > 100
    dets += clutter
    reg.dump(tmp_path / "sensors.toml")
    _write(tmp_path / "det.jsonl", dets)

    s = oracle_file(tmp_path / "det.jsonl", tmp_path / "sensors.toml", tmp_path / "out.jsonl")
    assert s.detections == len(dets) and s.clutter == len(clutter)
    assert s.labelled == labelled and s.targets == 2
    # One line per detection of a target (one ADS-B receiver: no broadcast copies).
    assert s.broadcast_copies == 0 and s.updates == s.lines_written == labelled
    rows = [msgspec.json.decode(line, type=TrackUpdate)
            for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert {r.track for r in rows} == {"drone", "liner"}
    assert all(r.status == "confirmed" for r in rows)
    assert np.all(np.diff([r.time for r in rows]) >= 0)
    # Filtered, not just copied: the last estimates sit on the truth.
    for mv in (drone, liner):
        last = [r for r in rows if r.track == mv.name][-1]
        scene = Scene(LAT0, LON0, [mv])
        truth = scene.truth(mv, np.array([last.time]))[0][0]
        est = geodetic_to_ecef(last.lat, last.lon, last.alt if last.alt is not None else 0.0)
        assert np.linalg.norm(est.reshape(3) - truth) < 150.0
        v = scene.truth(mv, np.array([last.time]))[1][0]
        assert np.hypot(last.vel_e - v[0], last.vel_n - v[1]) < 15.0


def test_bearings_wait_for_a_position_and_clutter_is_ignored():
    rng = np.random.default_rng(5)
    reg = registry(RADAR, MIC)
    mv = Mover("heli", (3400.0, 0.0, 200.0), (0.0, 30.0, 0.0))
    scene = Scene(LAT0, LON0, [mv])
    early = _labelled(bearings(scene, reg["m1"], 0, 20, rng), "heli")
    plots = _labelled(radar_plots(scene, reg["r1"], 20, 120, rng), "heli")
    noise = radar_plots(Scene(LAT0, LON0, []), reg["r1"], 0, 120, rng, clutter=5.0)
    late = _labelled(bearings(scene, reg["m1"], 60, 120, rng), "heli")
    dets = sorted(early + plots + noise + late, key=lambda d: d.time)
    oracle = OracleTracker(reg)
    batch = DetectionBatch.from_records(dets, reg.ids)
    rows = oracle.step(batch, [d.target for d in dets], dets[-1].time) + oracle.flush()
    s = oracle.summary
    assert s.bearings_dropped == len(early) > 0 and s.clutter == len(noise)
    assert len(rows) == len(plots) + len(late)
    assert rows[0].time == pytest.approx(min(d.time for d in plots))
    assert {r.track for r in rows} == {"heli"}
    # Bearings after the first plot update the track (their sensor is named).
    assert sum(r.sensors == ["m1"] for r in rows) == len(late)


def test_oracle_scores_better_than_the_tracker_on_a_simulated_run(tmp_path):
    scenario = load_scenario("scale", targets=30, duration=90)
    run_scenario(scenario, tmp_path, seed=2, labels=True)
    det, sensors, truth = (tmp_path / n for n in ("detections.jsonl", "sensors.toml",
                                                  "truth.jsonl"))
    s = oracle_file(det, sensors, tmp_path / "oracle.jsonl")
    track_file(det, sensors, tmp_path / "tracks.jsonl")
    assert s.targets <= 30 and s.clutter > 0 and s.broadcast_copies > 0
    o = score_files(truth, tmp_path / "oracle.jsonl")
    t = score_files(truth, tmp_path / "tracks.jsonl")
    assert o.gospa_mean is not None and t.gospa_mean is not None
    assert o.gospa_mean < t.gospa_mean
    assert o.id_switches == 0 and o.false_tracks == 0
    assert o.missed_target_rate is not None and o.missed_target_rate < 0.1
    assert o.tracks_scored == s.targets
