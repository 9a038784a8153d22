"""Sensor registry: the TOML form of formats.md, validated with clear errors."""

import pytest

from skywarden.errors import RegistryError
from skywarden.sensors import SensorRegistry

RADAR = """
[[sensor]]
id = "pl-radar-1"
type = "radar"
owner = "POL"
lat = 52.03
lon = 23.12
alt = 150
max_range = 250000
scan_period = 10
sigma_range = 100
sigma_azimuth = 0.2
pd = 0.9
clutter_per_scan = 4
releasability = "national"

[[sensor]]
id = "pl-app"
type = "visual_report"
owner = "POL"
sigma_h = 2000
releasability = "LTU, LVA"
"""


def _load(tmp_path, text):
    path = tmp_path / "sensors.toml"
    path.write_text(text)
    return SensorRegistry.load(path)


def test_loads_and_round_trips(tmp_path):
    reg = _load(tmp_path, RADAR)
    assert reg.ids == ("pl-radar-1", "pl-app")
    radar = reg["pl-radar-1"]
    assert radar.max_range == 250000.0 and radar.scan_period == 10.0 and radar.sited
    again = _load(tmp_path, reg.to_toml())
    assert list(again) == list(reg)


def test_releasability(tmp_path):
    reg = _load(tmp_path, RADAR)
    assert reg["pl-radar-1"].releasable_to("POL")
    assert not reg["pl-radar-1"].releasable_to("LTU")
    assert reg["pl-app"].releasable_to("LVA") and not reg["pl-app"].releasable_to("DEU")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("sigma_azimuth = 0.2", "sigma_azimut = 0.2"), "unknown key 'sigma_azimut'"),
        (("lat = 52.03\nlon = 23.12\n", ""), "a radar sensor needs its site: lat and lon"),
        (("max_range = 250000", 'max_range = "far"'), "key 'max_range': Expected float"),
        (('type = "radar"', 'type = "sonar"'), "type 'sonar' is not one of"),
        (('owner = "POL"', 'owner = "Poland"'), "is not an ISO 3166-1 alpha-3 code"),
        (("pd = 0.9", "pd = 1.5"), "pd = 1.5 is outside [0, 1]"),
        (('id = "pl-app"', 'id = "pl-radar-1"'), "duplicate id"),
        (('releasability = "national"', 'releasability = "friends"'), "releasability 'friends'"),
        (('id = "pl-app"\n', ""), "missing required key 'id'"),
    ],
)
def test_validation_errors_name_file_sensor_key(tmp_path, edit, message):
    old, new = edit
    assert old in RADAR
    with pytest.raises(RegistryError) as info:
        _load(tmp_path, RADAR.replace(old, new, 1))
    text = str(info.value)
    assert message in text
    assert str(tmp_path / "sensors.toml") in text


def test_not_toml_and_unknown_top_level(tmp_path):
    with pytest.raises(RegistryError, match="not valid TOML"):
        _load(tmp_path, "[[sensor]\nid=")
    with pytest.raises(RegistryError, match="unknown top-level key"):
        _load(tmp_path, RADAR + "\n[radar]\nx = 1\n")


def test_an_empty_registry_is_refused_at_load(tmp_path):
    for text in ("", "# sensors to come\n"):
        with pytest.raises(RegistryError, match=r"no \[\[sensor\]\] tables"):
            _load(tmp_path, text)


def test_mark_is_the_releasability_a_row_of_this_sensor_carries():
    from skywarden.sensors import Sensor

    def s(rel: str) -> Sensor:
        return Sensor(id="x", type="track_feed", owner="POL", releasability=rel)

    assert [s(r).mark for r in ("public", "allies", "national", "LTU, LVA")] == [
        "public", "allies", "POL", "LTU,LVA,POL"]
    # a viewer without a nation sees public data only, whatever the sensor
    assert s("public").releasable_to(None) and not s("allies").releasable_to(None)
    assert s("allies").releasable_to("DEU") and not s("national").releasable_to("DEU")
