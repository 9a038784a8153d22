"""Radar model: noise, beam-time stamps, horizon, range, Pd, clutter (skywarden.sim.radar)."""

from __future__ import annotations

import tomllib

import msgspec
import numpy as np
import pytest

from skywarden import geo
from skywarden.records import Detection, Truth
from skywarden.sim import parse_scenario, run_scenario
from skywarden.sim.radar import detection_probability
from skywarden.sim.sensing import phase

START = 1735689600.0
HEAD = """
[scenario]
name = "t"
start = 2025-01-01T00:00:00Z
duration = {duration}
"""


def radar(**kw) -> str:
    keys = {
        "id": "r1",
        "type": "radar",
        "owner": "DEU",
        "lat": 50.0,
        "lon": 10.0,
        "alt": 100.0,
        "max_range": 100000.0,
        "scan_period": 4.0,
        "sigma_range": 50.0,
        "sigma_azimuth": 0.3,
        "pd": 1.0,
        "clutter_per_scan": 0.0,
        **kw,
    }
    return (
        "[[sensor]]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in keys.items()) + "\n"
    )


def still(
    tid: str, lat: float, lon: float, alt: float, cls: str = "aircraft", rcs: float = 100.0
) -> str:
    """A target that barely moves (1 cm/s), so its true position is its first waypoint."""
    return (
        f'[[target]]\nid = "{tid}"\nclass = "{cls}"\nspeed = 0.01\nrcs = {rcs}\n'
        f"route = [[{lat}, {lon}, {alt}], [{lat + 1.0}, {lon}]]\n"
    )


def simulate(tmp_path, text: str, duration: float, seed: int = 1):
    s = parse_scenario(tomllib.loads(HEAD.format(duration=duration) + text), "t.toml")
    run_scenario(s, tmp_path, seed=seed, labels=True)
    dets = msgspec.json.Decoder(list[Detection]).decode(
        b"[" + (tmp_path / "detections.jsonl").read_bytes().replace(b"\n", b",").rstrip(b",") + b"]"
    )
    truth = msgspec.json.Decoder(list[Truth]).decode(
        b"[" + (tmp_path / "truth.jsonl").read_bytes().replace(b"\n", b",").rstrip(b",") + b"]"
    )
    return dets, truth


def true_aer(truth, site=(50.0, 10.0, 100.0)):
    """Azimuth, elevation, range of each target's first truth position, by target id."""
    first = {}
    for t in truth:
        first.setdefault(t.target, t)
    out = {}
    for tid, t in first.items():
        az, el, r = geo.enu_to_aer(geo.geodetic_to_enu(t.lat, t.lon, t.alt, *site))
        out[tid] = (float(az), float(el), float(r))
    return out


@pytest.fixture(scope="module")
def still_field(tmp_path_factory):
    """100 still targets 10-60 km around a 3-D radar, 100 scans."""
    rng = np.random.default_rng(5)
    text = radar(sigma_elevation=0.5)
    for i in range(100):
        lat, lon, _ = geo.destination(50.0, 10.0, rng.uniform(0, 360), rng.uniform(10e3, 60e3))
        text += still(f"s{i:03d}", float(lat), float(lon), float(rng.uniform(1000, 8000)))
    return simulate(tmp_path_factory.mktemp("still"), text, 400.0)


def test_radar_noise_matches_registry_sigmas(still_field):
    dets, truth = still_field
    aer = true_aer(truth)
    assert len(dets) >= 9900  # Pd ~1 for 100 m^2 within 60 km: about 100 x 100 plots
    err = np.array(
        [
            (
                d.range - aer[d.target][2],
                geo.wrap_degrees(d.azimuth - aer[d.target][0]),
                d.elevation - aer[d.target][1],
            )
            for d in dets
        ]
    )
    np.testing.assert_allclose(err.std(axis=0), [50.0, 0.3, 0.5], rtol=0.03)
    assert np.all(np.abs(err.mean(axis=0)) < 3 * np.array([50.0, 0.3, 0.5]) / np.sqrt(len(dets)))
    assert all(d.kind == "polar" and d.sensor == "r1" for d in dets)


def test_plots_are_stamped_when_the_beam_passes(still_field):
    dets, truth = still_field
    aer = true_aer(truth)
    off = phase("r1", 4.0)
    beam = ((np.array([d.time for d in dets]) - START - off) % 4.0) / 4.0 * 360.0
    true_az = np.array([aer[d.target][0] for d in dets])
    # 1 ms of time rounding is 0.09 deg of beam at a 4 s period.
    assert np.abs(geo.wrap_degrees(beam - true_az)).max() < 0.1
    # One plot per target per scan: consecutive plots of a target are one period apart.
    times = np.array([d.time for d in dets if d.target == "s000"])
    np.testing.assert_allclose(np.diff(times), 4.0, atol=0.002)


def test_radar_horizon_hides_low_drones_far_away(tmp_path):
    text = radar(alt=20.0, max_range=300000.0, scan_period=2.0)
    lat, lon, _ = geo.destination(50.0, 10.0, 90.0, 150e3)
    text += still("low-drone", float(lat), float(lon), 100.0, cls="drone")
    lat, lon, _ = geo.destination(50.0, 10.0, 180.0, 150e3)
    text += still("airliner", float(lat), float(lon), 10000.0)
    dets, truth = simulate(tmp_path, text, 200.0)
    seen = {d.target for d in dets}
    assert "low-drone" not in seen and "airliner" in seen
    # Horizon from 20 m to 100 m is about 60 km; 10 km altitude puts it beyond 400 km.
    assert geo.radar_horizon(20.0, 100.0) < 150e3 < geo.radar_horizon(20.0, 10000.0)
    observable = {t.target: t.observable for t in truth}
    assert observable == {"low-drone": False, "airliner": True}


def test_no_detection_outside_max_range(tmp_path):
    text = radar(max_range=100000.0, scan_period=1.0, clutter_per_scan=3.0)
    for i, r in enumerate(np.linspace(90e3, 110e3, 21)):
        lat, lon, _ = geo.destination(50.0, 10.0, 17.0 * i, r)
        text += still(f"r{i:02d}", float(lat), float(lon), 5000.0, rcs=1e4)
    dets, truth = simulate(tmp_path, text, 100.0)
    aer = true_aer(truth)
    plots = [d for d in dets if d.target is not None]
    assert {d.target for d in plots} == {t for t, v in aer.items() if v[2] <= 100000.0}
    assert all(aer[d.target][2] <= 100000.0 for d in plots)
    clutter = [d for d in dets if d.target is None]
    assert len(clutter) > 200 and all(0 < d.range <= 100000.0 for d in clutter)


def test_detection_probability_falls_with_range(tmp_path):
    rmax = 100000.0
    fractions = (0.3, 0.6, 0.8, 0.95, 1.0)
    text = radar(max_range=rmax, scan_period=1.0, pd=0.98)
    for i, f in enumerate(fractions):
        lat, lon, _ = geo.destination(50.0, 10.0, 70.0 * i, f * rmax)
        text += still(f"p{i}", float(lat), float(lon), 8000.0, rcs=1.0)
    dets, truth = simulate(tmp_path, text, 2000.0)
    aer = true_aer(truth)
    looks = 2000
    rate = np.array([sum(d.target == f"p{i}" for d in dets) / looks for i in range(len(fractions))])
    expected = detection_probability(
        1.0, np.array([aer[f"p{i}"][2] for i in range(len(fractions))]), rmax, 0.98
    )
    assert np.all(np.diff(rate) < 0)
    np.testing.assert_allclose(rate, expected, atol=4 * np.sqrt(0.25 / looks))
    # Design points: capped at pd close in, 0.5 for 1 m^2 at max range.
    assert expected[0] == pytest.approx(0.98)
    assert float(detection_probability(1.0, rmax, rmax)) == pytest.approx(0.5)
    assert float(detection_probability(1.0, rmax * 1.01, rmax)) == 0.0


def test_clutter_is_poisson_per_scan(tmp_path):
    period, mean = 1.0, 5.0
    text = radar(scan_period=period, clutter_per_scan=mean)
    dets, _ = simulate(tmp_path, text, 3000.0)
    assert all(d.target is None for d in dets)
    off = phase("r1", period)
    scan = np.floor((np.array([d.time for d in dets]) - START - off) / period).astype(int)
    counts = np.bincount(scan - scan.min())[1:-1]  # drop the scans cut by start and end
    counts = counts[:2990]
    assert counts.size > 2900
    assert abs(counts.mean() - mean) < 4 * np.sqrt(mean / counts.size)
    assert abs(counts.var() / counts.mean() - 1.0) < 0.1  # Poisson: variance = mean
    az = np.array([d.azimuth for d in dets])
    assert abs(az.mean() - 180.0) < 3.0 and az.min() >= 0 and az.max() <= 360
    # Clutter is stamped where the beam is, too.
    beam = ((np.array([d.time for d in dets]) - START - off) % period) / period * 360.0
    assert np.abs(geo.wrap_degrees(beam - az)).max() < 0.37


def test_two_d_radar_has_no_elevation(tmp_path):
    lat, lon, _ = geo.destination(50.0, 10.0, 10.0, 20e3)
    dets, _ = simulate(
        tmp_path, radar(scan_period=2.0) + still("x", float(lat), float(lon), 3000.0), 20.0
    )
    assert dets and all(d.elevation is None for d in dets)


def test_a_classifying_radar_names_the_class_as_often_as_its_accuracy(tmp_path):
    """Micro-Doppler hints: the true class on ``classifier_accuracy`` of the plots, the
    nearest signature's class on the rest (a bird for a drone, a drone for a bird),
    ``unknown`` for clutter; a radar without the key writes none."""
    text = radar(id="cuas", scan_period=1.0, clutter_per_scan=2.0, classifier_accuracy=0.8)
    text += radar(id="asr", scan_period=1.0, lat=50.01)
    for i, cls in enumerate(["drone", "bird", "drone", "bird"]):
        lat, lon, _ = geo.destination(50.0, 10.0, 90.0 * i, 3e3)
        text += still(f"{cls}{i}", float(lat), float(lon), 200.0, cls=cls, rcs=10.0)
    dets, _ = simulate(tmp_path, text, 500.0)
    cuas = [d for d in dets if d.sensor == "cuas"]
    assert all(d.class_hint is None for d in dets if d.sensor == "asr")
    assert {d.class_hint for d in cuas if d.target is None} == {"unknown"}
    for cls, other in (("drone", "bird"), ("bird", "drone")):
        hints = [d.class_hint for d in cuas if d.target and d.target.startswith(cls)]
        assert len(hints) > 900 and set(hints) == {cls, other}
        right = hints.count(cls) / len(hints)
        assert abs(right - 0.8) < 4 * np.sqrt(0.8 * 0.2 / len(hints)), right
