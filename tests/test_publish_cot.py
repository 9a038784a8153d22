"""CoT events from tracks and alerts: well-formed, escaped, typed by identity and class."""

import typing
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from skywarden.errors import ConfigError
from skywarden.publish.cot import (
    DEFAULT_TYPES_FILE,
    IDENTITIES,
    Affiliations,
    Functions,
    alert_event,
    cot_time,
    load_cot_types,
    track_event,
    track_type,
)
from skywarden.records import TARGET_CLASSES, AlertEvent, Identity, NextEntry, TrackUpdate

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z

# Functions of the MIL-STD-2525 air dimension as listed in MITRE's CoTtypes.xml.
KNOWN_AIR_FUNCTIONS = {"A", "A-C-F", "A-C-H", "A-C-L", "A-M-F", "A-M-H", "A-M-L",
                       "A-M-F-Q", "A-M-H-Q", "A-W-M", "A-C-F-q"}


def row(**kw) -> TrackUpdate:
    base = dict(time=T0, track="T12", lat=52.25, lon=21.0, alt=350.0, vel_e=0.0,
                vel_n=40.0, sigma_h=42.0, status="confirmed", cls="drone",
                identity="hostile", sensors=["r1", "r2", "a1"])
    base.update(kw)
    return TrackUpdate(**base)


def parse(data: bytes) -> ET.Element:
    assert data.startswith(b"<?xml")
    return ET.fromstring(data)


def test_a_track_is_a_cot_event_with_stable_uid_times_and_point():
    ev = parse(track_event(row(), stale_s=30.0))
    assert ev.tag == "event"
    assert ev.get("version") == "2.0"
    assert ev.get("uid") == "skywarden.T12"
    assert ev.get("type") == "a-h-A-M-F-Q"
    assert ev.get("how") == "m-f"
    assert ev.get("time") == ev.get("start") == "2027-01-15T08:00:00.000Z"
    assert ev.get("stale") == "2027-01-15T08:00:30.000Z"
    pt = ev.find("point")
    assert float(pt.get("lat")) == 52.25 and float(pt.get("lon")) == 21.0
    assert float(pt.get("hae")) == 350.0  # MSL written as HAE (documented approximation)
    assert float(pt.get("ce")) == 42.0  # 1-sigma, as the CoT schema defines ce
    assert float(pt.get("le")) == 9999999.0
    trk = ev.find("detail/track")
    assert float(trk.get("course")) == 0.0 and float(trk.get("speed")) == 40.0
    assert ev.find("detail/contact").get("callsign") == "T12"


def test_uid_is_the_same_for_every_update_of_a_track():
    a = parse(track_event(row(time=T0)))
    b = parse(track_event(row(time=T0 + 5, lat=52.3)))
    assert a.get("uid") == b.get("uid")
    assert a.get("time") != b.get("time")


def test_course_is_clockwise_from_true_north():
    ev = parse(track_event(row(vel_e=-10.0, vel_n=0.0)))
    assert float(ev.find("detail/track").get("course")) == 270.0


def test_unknown_altitude_and_error_are_cot_unknown():
    pt = parse(track_event(row(alt=None, sigma_h=None))).find("point")
    assert pt.get("hae") == pt.get("ce") == pt.get("le") == "9999999.0"


def test_longitude_beyond_180_is_wrapped():
    assert float(parse(track_event(row(lon=350.0))).find("point").get("lon")) == -10.0


def test_a_deleted_track_is_stale_at_once():
    ev = parse(track_event(row(status="deleted"), stale_s=30.0))
    assert ev.get("stale") == ev.get("time")


@pytest.mark.parametrize("callsign", [
    'T<1>&"x\'', "T\x01\x02\x1b\x7f", "Ärø 🛩", "]]>", "T\ud800",
])
def test_odd_characters_in_ids_give_well_formed_xml(callsign):
    u = row(track=callsign, ids=[f"icao:{callsign}"], flags=[callsign])
    ev = parse(track_event(u))  # parses: escaped, and unencodable characters removed
    assert ev.get("uid").startswith("skywarden.")
    assert ev.find("detail/contact").get("callsign")


@pytest.mark.parametrize(("kw", "expected"), [
    (dict(cls="drone", identity="hostile"), "a-h-A-M-F-Q"),
    (dict(cls="aircraft", identity="friend", ids=["icao:4CA2D1"]), "a-f-A-C-F"),
    (dict(cls="aircraft", identity="suspect"), "a-s-A-M-F"),
    (dict(cls="aircraft", identity="hostile", ids=["icao:4CA2D1"]), "a-h-A-M-F"),
    (dict(cls="helicopter", identity="unknown"), "a-u-A-C-H"),
    (dict(cls="helicopter", identity="hostile"), "a-h-A-M-H"),
    (dict(cls="missile", identity="hostile"), "a-h-A-W-M"),
    (dict(cls="balloon", identity="neutral"), "a-n-A-C-L"),
    (dict(cls="balloon", identity="suspect"), "a-s-A-M-L"),
    (dict(cls="unknown", identity="pending"), "a-p-A"),
    (dict(cls="bird", identity="assumed_friend"), "a-a-A"),
])
def test_type_codes_by_identity_and_class(kw, expected):
    assert track_type(row(**kw)) == expected


def test_every_identity_and_class_has_a_known_air_type():
    letters = {"pending": "p", "unknown": "u", "assumed_friend": "a", "friend": "f",
               "neutral": "n", "suspect": "s", "hostile": "h"}
    for identity in IDENTITIES:
        for cls in TARGET_CLASSES:
            for ids in ([], ["rid:1596F3"]):
                t = track_type(row(identity=identity, cls=cls, ids=ids))
                prefix = f"a-{letters[identity]}-"
                assert t.startswith(prefix)
                assert t[len(prefix):] in KNOWN_AIR_FUNCTIONS, t


def test_remarks_and_detail_carry_class_identity_status_sensors_and_next_entry():
    u = row(ids=["rid:1596F3"], class_confidence=0.87, flags=["spoof_suspect"],
            releasability="POL", next_entry=NextEntry(nation="LTU", eta=T0 + 300,
                                                      probability=0.8, distance_m=1200))
    ev = parse(track_event(u))
    remarks = ev.find("detail/remarks").text
    for text in ("drone (87%)", "hostile", "confirmed", "3 sensors", "rid:1596F3",
                 "next entry LTU at 08:05:00Z", "p=0.80", "spoof_suspect"):
        assert text in remarks
    own = ev.find("detail/__skywarden")
    assert own.get("class") == "drone" and own.get("identity") == "hostile"
    assert own.get("sensors") == "3" and own.get("releasability") == "POL"
    assert ev.find("detail/contact").get("callsign") == "T12 1596F3"
    ne = own.find("next_entry")
    assert ne.get("nation") == "LTU" and ne.get("eta") == "2027-01-15T08:05:00.000Z"


def alert(**kw) -> AlertEvent:
    base = dict(time=T0, alert="A7", event="raised", level=3, kind="incursion",
                nation="POL", track="T12", lat=52.25, lon=21.0, alt=350.0,
                actions=["notify_atc", "close_sector"], level_name="incursion")
    base.update(kw)
    return AlertEvent(**base)


def test_an_alert_is_a_coloured_marker_updated_in_place():
    ev = parse(alert_event(alert(), stale_s=600.0))
    assert ev.get("uid") == "skywarden.alert.A7"
    assert ev.get("type") == "b-m-p-s-m"
    assert ev.get("stale") == "2027-01-15T08:10:00.000Z"
    assert ev.find("detail/color").get("argb") == str(0xFFFF0000 - (1 << 32))  # red
    assert ev.find("detail/contact").get("callsign") == "ALERT L3 POL T12"
    remarks = ev.find("detail/remarks").text
    assert "incursion" in remarks and "notify_atc, close_sector" in remarks
    up = parse(alert_event(alert(event="escalated", level=4, time=T0 + 9)))
    assert up.get("uid") == ev.get("uid")
    assert up.find("detail/color").get("argb") != ev.find("detail/color").get("argb")


def test_an_ended_alert_marker_is_stale_at_once():
    ev = parse(alert_event(alert(event="ended", level=0, time=T0 + 60)))
    assert ev.get("stale") == ev.get("time")


def test_an_alert_without_a_position_has_no_cot_form():
    e = AlertEvent(time=T0, alert="S1", event="raised", level=2, kind="sensor_down",
                   nation="POL", sensor="r1")
    assert alert_event(e) is None


def test_no_alarm_or_tasking_types_are_ever_made():
    types = load_cot_types()
    assert types.alert.type.startswith("b-m-p") and types.alert.type != "b-m-p-t"
    for identity in IDENTITIES:
        for cls in TARGET_CLASSES:
            assert track_type(row(identity=identity, cls=cls)).startswith("a-")


def test_the_type_table_names_every_identity_and_class():
    assert typing.get_args(Identity) == IDENTITIES
    assert Affiliations.__struct_fields__ == IDENTITIES
    assert Functions.__struct_fields__ == TARGET_CLASSES


def test_cot_time_is_utc_with_milliseconds():
    assert cot_time(T0 + 0.25) == "2027-01-15T08:00:00.250Z"
    assert datetime.fromtimestamp(T0, UTC).year == 2027


def test_a_type_table_with_a_typo_or_a_missing_class_is_refused(tmp_path):
    good = DEFAULT_TYPES_FILE.read_text()
    typo = tmp_path / "typo.toml"
    typo.write_text(good.replace("[function.drone]\n", "[function.drone]\ntreat = 'A'\n"))
    with pytest.raises(ConfigError, match="treat"):
        load_cot_types(typo)
    missing = tmp_path / "missing.toml"
    missing.write_text(good.replace("[function.bird]", "[function.birds]"))
    with pytest.raises(ConfigError, match="bird"):
        load_cot_types(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text(good.replace('hostile = "h"', 'hostile = "hostile"'))
    with pytest.raises(ConfigError, match="affiliation.hostile"):
        load_cot_types(bad)
