"""ADS-B, Remote ID, acoustic and citizen-report models (skywarden.sim.cooperative,
.acoustic, .citizen): who is seen, and noise statistics on large samples."""

from __future__ import annotations

import tomllib
from collections import defaultdict

import msgspec
import numpy as np

from skywarden import geo
from skywarden.records import Detection, Truth
from skywarden.sim import parse_scenario, run_scenario

HEAD = """
[scenario]
name = "t"
start = 2025-01-01T00:00:00Z
duration = {duration}
"""


def sensor(**keys) -> str:
    return "[[sensor]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items())


def target(tid, cls, route, **keys) -> str:
    body = "".join(f"{k} = {_toml(v)}\n" for k, v in keys.items())
    return f'[[target]]\nid = "{tid}"\nclass = "{cls}"\nroute = {route!r}\n{body}'


def _toml(v) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def simulate(tmp_path, text: str, duration: float, seed: int = 1):
    s = parse_scenario(tomllib.loads(HEAD.format(duration=duration) + text), "t.toml")
    run_scenario(s, tmp_path, seed=seed, labels=True)

    def read(name, type_):
        raw = (tmp_path / name).read_bytes().replace(b"\n", b",").rstrip(b",")
        return msgspec.json.Decoder(list[type_]).decode(b"[" + raw + b"]")

    return read("detections.jsonl", Detection), read("truth.jsonl", Truth)


class TruthTracks:
    """Truth positions per target, interpolated linearly in time (exact between steps)."""

    def __init__(self, truth):
        rows = defaultdict(list)
        for t in truth:
            rows[t.target].append((t.time, t.lat, t.lon, t.alt))
        self.rows = {k: np.array(v) for k, v in rows.items()}

    def at(self, tid, time):
        r = self.rows[tid]
        return tuple(np.interp(time, r[:, 0], r[:, k]) for k in (1, 2, 3))


def east_north_error(d, tracks):
    lat, lon, alt = tracks.at(d.target, d.time)
    enu = geo.geodetic_to_enu(d.lat, d.lon, alt, lat, lon, alt)
    return enu[0], enu[1], (d.alt - alt) if d.alt is not None else 0.0


def test_adsb_sees_only_icao_and_remote_id_only_rid(tmp_path):
    text = sensor(id="adsb", type="adsb", owner="POL", lat=52.0, lon=21.0, alt=100.0)
    text += sensor(id="rid", type="remote_id", owner="POL", lat=52.0, lon=21.0, alt=100.0)
    text += target(
        "coop-ac",
        "aircraft",
        [[52.0, 21.0, 3000], [53.0, 22.0]],
        coop_id="icao:4CA2D1",
        callsign="RYR1AB",
    )
    text += target("dark-ac", "aircraft", [[52.0, 21.1, 3000], [53.0, 22.0]])
    text += target(
        "coop-dr", "drone", [[52.005, 21.0, 100], [52.0, 21.02]], speed=5.0, coop_id="rid:1596F3ABC"
    )
    text += target("dark-dr", "drone", [[52.005, 21.0, 100], [52.0, 21.02]], speed=5.0)
    text += target(
        "far-dr", "drone", [[52.1, 21.0, 100], [52.2, 21.02]], speed=5.0, coop_id="rid:1596F3ABD"
    )
    dets, truth = simulate(tmp_path, text, 100.0)
    by_sensor = defaultdict(set)
    for d in dets:
        by_sensor[d.sensor].add((d.target, d.id))
    assert by_sensor["adsb"] == {("coop-ac", "icao:4CA2D1")}
    assert by_sensor["rid"] == {("coop-dr", "rid:1596F3ABC")}  # far-dr is 11 km away
    adsb = [d for d in dets if d.sensor == "adsb"]
    assert all(
        d.callsign == "RYR1AB"
        and d.class_hint == "aircraft"
        and d.kind == "position"
        and d.vel_e is not None
        for d in adsb
    )
    assert 95 <= len(adsb) <= 100  # 1 Hz, pd 0.99
    observable = {t.target: t.observable for t in truth if t.time == truth[0].time}
    assert observable == {
        "coop-ac": True,
        "dark-ac": False,
        "coop-dr": True,
        "dark-dr": False,
        "far-dr": False,
    }


def test_adsb_position_noise_matches_sigma(tmp_path):
    text = sensor(
        id="adsb",
        type="adsb",
        owner="POL",
        lat=52.0,
        lon=21.0,
        alt=100.0,
        sigma_h=40.0,
        sigma_v=20.0,
        pd=1.0,
    )
    for i in range(20):
        text += target(
            f"a{i}",
            "aircraft",
            [[52.0 + 0.05 * i, 21.0, 9000], [52.0 + 0.05 * i, 25.0]],
            coop_id=f"icao:AA00{i:02X}",
        )
    dets, truth = simulate(tmp_path, text, 400.0)
    tracks = TruthTracks(truth)
    err = np.array([east_north_error(d, tracks) for d in dets])
    assert len(dets) == 20 * 400
    np.testing.assert_allclose(err.std(axis=0), [40.0, 40.0, 20.0], rtol=0.03)
    assert np.all(np.abs(err.mean(axis=0)) < 2.0)


def test_adsb_not_heard_below_the_radio_horizon(tmp_path):
    text = sensor(id="adsb", type="adsb", owner="POL", lat=52.0, lon=21.0, alt=10.0)
    far = geo.destination(52.0, 21.0, 90.0, 300e3)
    text += target(
        "low",
        "aircraft",
        [[float(far[0]), float(far[1]), 500], [53.0, 26.0]],
        coop_id="icao:000001",
    )
    text += target(
        "high",
        "aircraft",
        [[float(far[0]), float(far[1]), 11000], [53.0, 26.0]],
        coop_id="icao:000002",
    )
    dets, _ = simulate(tmp_path, text, 30.0)
    assert {d.target for d in dets} == {"high"}


def test_acoustic_bearings_near_low_loud_targets(tmp_path):
    text = sensor(
        id="ac",
        type="acoustic",
        owner="POL",
        lat=52.0,
        lon=21.0,
        alt=150.0,
        max_range=4000.0,
        sigma_azimuth=8.0,
        scan_period=2.0,
        pd=0.9,
    )
    heard = []
    for i, (az, dist) in enumerate([(10, 1500), (80, 2500), (150, 3500), (230, 3000), (300, 2000)]):
        p = geo.destination(52.0, 21.0, az, dist)
        text += target(
            f"d{i}",
            "drone",
            [[float(p[0]), float(p[1]), 300], [float(p[0]) + 1, float(p[1])]],
            speed=0.01,
        )
        heard.append((f"d{i}", az))
    p = geo.destination(52.0, 21.0, 45.0, 6000)
    text += target("far", "drone", [[float(p[0]), float(p[1]), 300], [53.0, 21.0]], speed=0.01)
    text += target("high", "drone", [[52.01, 21.0, 2500], [53.0, 21.0]], speed=0.01)
    text += target("jet", "aircraft", [[52.01, 21.0, 1000], [53.0, 21.0]], speed=0.01)
    dets, truth = simulate(tmp_path, text, 2000.0)
    assert {d.target for d in dets} == {t for t, _ in heard}
    assert all(d.kind == "bearing" and d.lat is None and d.class_hint == "drone" for d in dets)
    truth_az = dict(heard)
    err = np.array([geo.wrap_degrees(d.azimuth - truth_az[d.target]) for d in dets])
    assert abs(err.std() - 8.0) < 0.03 * 8.0 and abs(err.mean()) < 0.5
    assert abs(len(dets) / (5 * 1000) - 0.9) < 0.02  # one look per 2 s, pd 0.9
    observable = {t.target: t.observable for t in truth if t.time == truth[0].time}
    assert [k for k, v in observable.items() if v] == [t for t, _ in heard]


def test_citizen_reports_noise_delay_and_class(tmp_path):
    text = """
[sensor_model.visual_report]
reports_per_target_hour = 360
max_alt = 2000
delay = [30, 300]
sigma_h = [1000, 3000]
area = [[51.0, 20.0], [53.0, 20.0], [53.0, 22.5], [51.0, 22.5]]

[[sensor]]
id = "app"
type = "visual_report"
owner = "POL"

[[target_group]]
prefix = "d"
count = 200
class = "drone"
speed = 40
jitter_m = 50000
route = [[52.0, 21.0, 300], [52.0, 21.0]]
end = "hold"
"""
    text += target("jet", "aircraft", [[52.0, 21.0, 9000], [52.0, 22.0]], speed=200.0)
    text += target("outside", "drone", [[52.0, 23.0, 300], [52.0, 23.1]], speed=20.0)
    dets, truth = simulate(tmp_path, text, 600.0)
    assert {d.target for d in dets} <= {f"d-{i:03d}" for i in range(1, 201)}
    expected = 200 * 600 / 10
    assert abs(len(dets) - expected) < 5 * np.sqrt(expected)
    tracks = TruthTracks(truth)
    err = np.array([east_north_error(d, tracks)[:2] for d in dets])
    sigma = np.array([d.sigma_h for d in dets])
    assert sigma.min() >= 1000 and sigma.max() <= 3000
    np.testing.assert_allclose((err / sigma[:, None]).std(axis=0), 1.0, rtol=0.03)
    delay = np.array([d.received - d.time for d in dets])
    assert delay.min() >= 30 and delay.max() <= 300 and abs(delay.mean() - 165) < 5
    assert all(d.alt is None and d.kind == "position" for d in dets)
    correct = np.mean([d.class_hint == "drone" for d in dets])
    assert abs(correct - 0.8) < 0.02
    assert {d.class_hint for d in dets} == {"drone", "aircraft", "helicopter", "missile"}
    times = [d.time for d in dets]
    assert times == sorted(times)
