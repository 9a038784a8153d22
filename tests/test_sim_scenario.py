"""Scenario loading, validation and expansion (skywarden.sim.scenario, .expand, .scale)."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from skywarden import geo
from skywarden.errors import ScenarioError
from skywarden.sim import list_scenarios, load_scenario, parse_scenario
from skywarden.sim.expand import expand_targets

HEAD = """
[scenario]
name = "t"
start = 2025-01-01T00:00:00Z
duration = 100
"""
TARGET = """
[[target]]
id = "a"
class = "drone"
route = [[50.0, 10.0, 100], [50.1, 10.0]]
"""


def parse(text: str, **overrides):
    return parse_scenario(tomllib.loads(HEAD + text), "test.toml", **overrides)


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse(text)
    return str(info.value)


def test_minimal_scenario():
    s = parse(TARGET)
    assert s.start == 1735689600.0 and s.duration == 100 and s.truth_step == 1.0
    (t,) = s.targets
    assert t.id == "a" and t.cls == "drone" and t.route[1] == (50.1, 10.0, None)
    assert t.end == "vanish" and t.coop_id is None


def test_unknown_key_names_file_table_and_key():
    msg = error_of(TARGET + "sped = 40\n")
    assert msg.startswith("test.toml: [[target]] #1 ('a'): unknown key 'sped'")
    assert "speed" in msg  # the allowed keys are listed


def test_missing_route_is_an_error():
    msg = error_of('[[target]]\nid = "a"\nclass = "drone"\n')
    assert msg == "test.toml: [[target]] #1 ('a'): missing key 'route'"


def test_bad_class_is_an_error():
    msg = error_of(TARGET.replace('"drone"', '"plane"'))
    assert "test.toml: [[target]] #1 ('a'): key 'class': 'plane' is not one of" in msg


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[bogus]\n", "unknown key 'bogus'"),
        (TARGET + "end = 'explode'\n", "key 'end'"),
        (TARGET + "loiter = [{ at = 5, duration = 60 }]\n", "loiter #1: key 'at'"),
        (TARGET + "coop_id = 'icao:XYZ'\n", "key 'coop_id'"),
        (TARGET + "speed = -3\n", "key 'speed': must be > 0"),
        (TARGET.replace("[50.1, 10.0]", "[95.0, 10.0]"), "key 'route'"),
        (TARGET + TARGET, "id 'a' is used twice"),
        ("[class.drone]\nrcs = 'big'\n", "[class.drone]: key 'rcs'"),
        ("[sensor_model.acoustic]\nmax_altitude = 3\n", "unknown key 'max_altitude'"),
        (
            '[[sensor]]\nid = "r"\ntype = "radar"\nowner = "POL"\nlat = 50\nlon = 10\nrange = 5\n',
            "unknown key 'range'",
        ),
        ('[[sensor]]\nid = "r"\ntype = "radar"\nowner = "POL"\n', "needs its site"),
    ],
)
def test_validation_errors(text, needle):
    msg = error_of(text)
    assert msg.startswith("test.toml") and needle in msg


def test_start_needs_utc_offset():
    doc = tomllib.loads(HEAD.replace("2025-01-01T00:00:00Z", "2025-01-01T00:00:00"))
    with pytest.raises(ScenarioError, match="start.*UTC offset"):
        parse_scenario(doc, "x.toml")


def test_sensor_line_expands_evenly_along_the_geodesic():
    s = parse("""
[[sensor_line]]
prefix = "ac"
from = [52.0, 23.0]
to = [51.0, 23.5]
count = 5
type = "acoustic"
owner = "POL"
max_range = 4000
""")
    ids = list(s.sensors.ids)
    assert ids == ["ac-01", "ac-02", "ac-03", "ac-04", "ac-05"]
    lat = np.array([s.sensors[i].lat for i in ids])
    lon = np.array([s.sensors[i].lon for i in ids])
    gaps = geo.distance(lat[:-1], lon[:-1], lat[1:], lon[1:])
    np.testing.assert_allclose(gaps, gaps[0], rtol=1e-6)
    assert all(s.sensors[i].max_range == 4000 and s.sensors[i].owner == "POL" for i in ids)


GROUP = """
[[target_group]]
prefix = "sh"
count = 40
class = "drone"
interval = 20
start = 100
speed = 50
speed_jitter = 0.1
jitter_m = 3000
coop_id = "auto-rid"
route = [[50.0, 10.0, 300], [50.5, 10.5], [51.0, 11.0]]
"""


def test_target_group_expansion():
    s = parse(GROUP)
    targets = expand_targets(s, np.random.default_rng(1))
    assert [t.id for t in targets[:2]] == ["sh-001", "sh-002"] and len(targets) == 40
    assert [t.start for t in targets[:3]] == [100.0, 120.0, 140.0]
    speeds = np.array([t.speed for t in targets])
    assert speeds.min() >= 45.0 and speeds.max() <= 55.0 and speeds.std() > 1.0
    first = np.array([t.route[0][:2] for t in targets])
    moved = geo.distance(first[:, 0], first[:, 1], 50.0, 10.0)
    assert moved.max() <= 3000.0 + 1e-6 and moved.mean() > 1000.0
    assert all(t.route[-1][:2] == (51.0, 11.0) for t in targets)  # the last is not jittered
    ids = [t.coop_id for t in targets]
    assert len(set(ids)) == 40 and all(i.startswith("rid:") for i in ids)
    again = expand_targets(s, np.random.default_rng(1))
    assert again == targets
    assert expand_targets(s, np.random.default_rng(2)) != targets


def test_traffic_expansion():
    s = parse("""
[[traffic]]
prefix = "civ"
count = 30
endpoints = [[52.17, 20.97, 110], [50.08, 19.78, 240], [54.38, 18.47, 150]]
cruise_alt = [9000, 12000]
start = [-600, 50]
""")
    targets = expand_targets(s, np.random.default_rng(3))
    assert len(targets) == 30
    for t in targets:
        assert t.route[0][:2] != t.route[-1][:2]
        assert 9000 <= t.route[1][2] <= 12000 and t.route[1][2] == t.route[2][2]
        assert t.coop_id.startswith("icao:") and t.callsign
        assert -600 <= t.start <= 50


def test_shipped_scenarios_are_listed_and_load():
    infos = list_scenarios()
    names = [i.name for i in infos]
    assert "scale" in names and names == sorted(names)
    for info in infos:
        s = load_scenario(info.name)
        assert s.name == info.name and s.duration > 0 and len(s.sensors) > 0


def test_load_by_path_and_unknown_name(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + TARGET)
    assert load_scenario(path).targets[0].id == "a"
    assert load_scenario(str(path), duration=50).duration == 50
    with pytest.raises(ScenarioError, match="no shipped scenario.*scale"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="need a generated scenario"):
        load_scenario(path, targets=5)
    with pytest.raises(ScenarioError, match="unknown override"):
        load_scenario(path, speed=5)


def test_scale_overrides_and_generation():
    s = load_scenario("scale", targets=300, duration=60, sensors=6, seed=None)
    assert s.duration == 60 and s.scale.targets == 300
    radars = [x for x in s.sensors if x.type == "radar"]
    assert len(radars) == 6
    targets = expand_targets(s, np.random.default_rng(0))
    assert len(targets) == 300 and len({t.id for t in targets}) == 300
    south, west, north, east = s.scale.area
    for t in targets:
        assert all(south <= p[0] <= north and west <= p[1] <= east for p in t.route)
    classes = {t.cls for t in targets}
    assert "aircraft" in classes and "drone" in classes
    assert any(t.loiter for t in targets)


@pytest.mark.parametrize("duration", [float("inf"), float("nan"), 0.0, -5.0])
def test_a_duration_override_that_is_not_a_finite_positive_number_is_named(duration):
    with pytest.raises(ScenarioError) as info:
        parse(TARGET, duration=duration)
    assert f"test.toml: duration must be a finite number > 0 s, got {duration:g}" in str(info.value)


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_scenario_duration_that_is_not_finite_is_named(value):
    text = HEAD.replace("duration = 100", f"duration = {value}") + TARGET
    with pytest.raises(ScenarioError) as info:
        parse_scenario(tomllib.loads(text), "test.toml")
    assert "test.toml: [scenario]: key 'duration'" in str(info.value)
