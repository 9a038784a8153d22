"""Bearing-only handling: triangulated initiation and single-bearing updates."""

from __future__ import annotations

import numpy as np

from skywarden.geo import ecef_to_enu, enu_rotation, geodetic_to_enu
from skywarden.records import Detection, DetectionBatch
from skywarden.track import Tracker, TrackerConfig
from skywarden.track.bearing import BearingBuffer, triangulate_pairs
from skywarden.track.measure import SensorTable, prepare
from skywarden.track.synthetic import Mover, Scene, bearings, registry

LAT0, LON0 = 51.5, 23.6


def acoustic(i: int, east: float, north: float) -> dict:
    # Sites placed by small offsets in degrees (1 deg lat = 111.2 km, lon scaled).
    lat = LAT0 + north / 111200.0
    lon = LON0 + east / (111200.0 * np.cos(np.radians(LAT0)))
    return dict(
        id=f"ac{i}",
        type="acoustic",
        owner="POL",
        lat=lat,
        lon=lon,
        alt=0.0,
        max_range=5000.0,
        scan_period=2.0,
        sigma_azimuth=4.0,
    )


def test_triangulation_error_is_within_the_geometry_bound():
    """Over many noisy pairs, the fix's error is distributed as its covariance says:
    mean horizontal NEES near 2 (two degrees of freedom)."""
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3000.0, 0.0))
    cfg = TrackerConfig()
    st = SensorTable.from_registry(reg, cfg)
    target = np.array([1200.0, 2500.0])  # east, north of sensor 1
    rng = np.random.default_rng(1)
    nees, errs = [], []
    for _ in range(400):
        dets = []
        for i, (e0, n0) in enumerate(((0.0, 0.0), (3000.0, 0.0)), start=1):
            az = np.degrees(np.arctan2(target[0] - e0, target[1] - n0))
            dets.append(
                Detection(
                    time=100.0,
                    sensor=f"ac{i}",
                    kind="bearing",
                    azimuth=float((az + rng.normal(0, 4.0)) % 360.0),
                    sigma_azimuth=4.0,
                )
            )
        m, _ = prepare(DetectionBatch.from_records(dets, reg.ids), st, cfg)
        buf = BearingBuffer()
        buf.add(m, np.arange(len(m)))
        fix = triangulate_pairs(buf, 100.0, cfg)
        assert fix.time.size == 1 and len(buf) == 0  # both bearings used
        enu = ecef_to_enu(fix.point[0], LAT0, LON0)
        err = enu[:2] - target
        R = enu_rotation(LAT0, LON0)
        cov = (R @ fix.cov[0] @ R.T)[:2, :2]
        nees.append(float(err @ np.linalg.solve(cov, err)))
        errs.append(float(np.hypot(*err)))
    mean = float(np.mean(nees))
    # Linearisation makes the bound approximate; 400 trials put the mean within +-20%.
    assert 1.5 < mean < 2.6
    # The bound at this geometry (61 deg crossing, 2.8 and 3.1 km ranges, 4 deg each):
    # sqrt(194^2 + 215^2) / sin 61 deg = 330 m rms; we see that, not more.
    assert float(np.sqrt(np.mean(np.square(errs)))) < 1.2 * 330.0


def test_rays_that_do_not_cross_give_no_fix():
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3000.0, 0.0))
    cfg = TrackerConfig()
    st = SensorTable.from_registry(reg, cfg)
    dets = [  # both looking north-west: the rays diverge behind sensor 2
        Detection(time=1.0, sensor="ac1", kind="bearing", azimuth=300.0),
        Detection(time=1.0, sensor="ac2", kind="bearing", azimuth=100.0),
    ]
    m, _ = prepare(DetectionBatch.from_records(dets, reg.ids), st, cfg)
    buf = BearingBuffer()
    buf.add(m, np.arange(2))
    assert triangulate_pairs(buf, 1.0, cfg).time.size == 0
    assert len(buf) == 2  # they wait for a partner


def test_bearings_alone_start_and_hold_a_track():
    """A drone crossing a picket line of three microphones: a track is triangulated, then
    kept by single bearings, and confirmed."""
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3500.0, 0.0), acoustic(3, 7000.0, 0.0))
    rng = np.random.default_rng(3)
    # Flies north-east across the line at 300 m, 45 m/s.
    mv = Mover("drone", (-1000.0, -3000.0, 300.0), (25.0, 37.0, 0.0))
    scene = Scene(LAT0, LON0, [mv])
    dets = []
    for s in reg:
        dets += bearings(scene, s, 0.0, 150.0, rng, sigma=4.0)
    dets.sort(key=lambda d: d.time)
    tr = Tracker(reg)
    rows = []
    for i in range(0, len(dets), 16):
        part = dets[i : i + 16]
        rows += tr.step(DetectionBatch.from_records(part, reg.ids), part[-1].time).updates()
    rows += tr.flush().updates()
    assert tr.stats.tracks_started >= 1
    confirmed = [r for r in rows if r.status == "confirmed"]
    assert confirmed, "bearing-only track never confirmed"
    ids = {r.track for r in confirmed}
    assert len(ids) == 1
    t = np.array([r.time for r in confirmed])
    lat, lon, _, _ = scene.geodetic(mv, t)
    err = geodetic_to_enu(
        np.array([r.lat for r in confirmed]),
        np.array([r.lon for r in confirmed]),
        0.0,
        lat,
        lon,
        0.0,
    )
    rms = float(np.sqrt(np.mean(np.sum(err[:, :2] ** 2, axis=1))))
    assert rms < 600.0
    # Single-bearing updates were used: most bearings updated a track.
    assert tr.stats.associated > 0.6 * len(dets)


def _exact(sensor: str, site: tuple[float, float], target: tuple[float, float], t: float,
           hint: str | None = None) -> Detection:
    az = np.degrees(np.arctan2(target[0] - site[0], target[1] - site[1])) % 360.0
    return Detection(time=t, sensor=sensor, kind="bearing", azimuth=float(az),
                     sigma_azimuth=4.0, class_hint=hint)


def _buffer(reg, dets):
    cfg = TrackerConfig()
    m, _ = prepare(DetectionBatch.from_records(dets, reg.ids), SensorTable.from_registry(reg, cfg),
                   cfg)
    buf = BearingBuffer()
    buf.add(m, np.arange(len(m)))
    return buf, cfg


def _east_north(point: np.ndarray) -> np.ndarray:
    return ecef_to_enu(point, LAT0, LON0)[:2]


SITES = {"ac1": (0.0, 0.0), "ac2": (3000.0, 0.0)}
X, Y = (500.0, 2000.0), (2500.0, 2000.0)


def test_two_targets_heard_by_two_sensors_start_no_ghost():
    """Two sensors, two targets each heard by both: the ray from ac1 to Y crosses the ray
    from ac2 to X at (1500, 1200), where nothing flies, at a wider angle than either true
    crossing. Pairing widest crossing first started a track there (a ghost, and the true
    pairs were then lost); two sensors alone cannot tell which crossings are real, so the
    bearings wait."""
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3000.0, 0.0))
    dets = [_exact(s, SITES[s], p, 100.0) for s in SITES for p in (X, Y)]
    buf, cfg = _buffer(reg, dets)
    fix = triangulate_pairs(buf, 100.0, cfg)
    assert fix.time.size == 0
    assert len(buf) == 4  # all wait for a track to claim some, or to age out


def test_repeated_looks_at_one_target_give_one_fix_and_are_all_used():
    """One target heard on two scans by each sensor: four bearings, four crossings at the
    same place (within the fix's spread and the flight between the looks): one track,
    and none of the bearings is left to start a second one beside it."""
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3000.0, 0.0))
    dets = [_exact(s, SITES[s], X, t) for t in (100.0, 102.0) for s in SITES]
    buf, cfg = _buffer(reg, dets)
    fix = triangulate_pairs(buf, 102.0, cfg)
    assert fix.time.size == 1 and len(buf) == 0
    assert np.hypot(*(_east_north(fix.point[0]) - np.array(X))) < 50.0


def test_bearings_naming_different_classes_are_different_targets():
    """With the two targets of the ghost test told apart by the sensors' class hints
    (a drone, a helicopter), only same-class bearings are paired: both targets are
    placed, and no ghost."""
    reg = registry(acoustic(1, 0.0, 0.0), acoustic(2, 3000.0, 0.0))
    dets = [_exact(s, SITES[s], p, 100.0, hint)
            for s in SITES for p, hint in ((X, "drone"), (Y, "helicopter"))]
    buf, cfg = _buffer(reg, dets)
    fix = triangulate_pairs(buf, 100.0, cfg)
    assert fix.time.size == 2 and len(buf) == 0
    got = sorted(tuple(np.round(_east_north(p))) for p in fix.point)
    assert np.allclose(got, sorted([X, Y]), atol=50.0)
    assert sorted(fix.hint.tolist()) == ["drone", "helicopter"]


def test_a_bearing_does_not_hold_a_track_beyond_its_sensors_reach():
    """A microphone that hears 3 km reports a bearing due west; a track lies on that ray
    9.5 km away, known to 800 m (a bearing-only track that has been sliding along the
    rays). The azimuth fits exactly, and the coarse pre-gate (reach plus the track's
    spread, summed generously) lets the pair through, but the sensor cannot have heard
    that track: the bearing is not its (it waits to start a track of its own)."""
    from skywarden.geo import enu_to_ecef
    from skywarden.track import lifecycle
    from skywarden.track.table import CONFIRMED

    site = dict(id="ac3", type="acoustic", owner="POL", lat=LAT0, lon=LON0, alt=0.0,
                max_range=3000.0, scan_period=2.0, sigma_azimuth=4.0)
    reg = registry(site)
    tr = Tracker(reg)
    slot = tr.table.allocate(1)
    point = np.asarray(enu_to_ecef(np.array([-9500.0, 0.0, 300.0]), LAT0, LON0)).reshape(1, 3)
    cov = np.diag([800.0**2, 800.0**2, 500.0**2])[None]
    lifecycle.place(tr.table, slot, point, cov, np.array([98.0]), tr.config)
    tr.table.status[slot] = CONFIRMED
    tr.table.hits[slot] = 5
    tr.table.revisit[slot] = 2.0
    det = Detection(time=100.0, sensor="ac3", kind="bearing", azimuth=270.0, sigma_azimuth=4.0)
    tr.step(DetectionBatch.from_records([det], reg.ids), 100.0 + tr.config.reorder_lag + 1.0)
    assert tr.stats.associated == 0
    assert tr.stats.bearings_waiting == 1
