"""Zone files: OpenAir (with arcs), EUROCAE ED-269, GeoJSON; bad features named."""

import json

import numpy as np
import pytest
import shapely

from skywarden import geo
from skywarden.airspace import ZoneSet, load_shipped_zones, load_text, load_zones, parse_time
from skywarden.airspace.geojson import zones_to_geojson
from skywarden.airspace.openair import parse_coordinate
from skywarden.errors import ZoneError

NM = 1852.0

# Written in the style of openAIP exports: comments, blank lines, inline comments, mixed
# coordinate spellings, every geometry record.
OPENAIR = """\
* Sample airspace file (OpenAir), eastern Poland
* coordinates WGS84

AC R
AN EP R999 TEST STRIP
AI ep-r999
AL GND
AH FL95
DP 52:10:30 N 023:30:00 E
DP 52:10:30 N 023:50:00 E
DP 51:50:00N 023:50:00E
DP 51:50:00 N 023:30:00 E   * closing point omitted on purpose

AC CTR
AN EPLB LUBLIN CTR
AL SFC
AH 2500ft MSL
V X=51:14:25 N 022:42:49 E
DC 5

AC Q
AN EP D998 QUARTER CLOCKWISE
AL 1000ft AGL
AH 5000 ft MSL
V D=+
V X=52:00:00 N 021:00:00 E
DP 52:00:00 N 021:00:00 E
DB 52:10:00 N 021:00:00 E, 52:00:00 N 021:16:14 E

AC P
AN EP P997 QUARTER ANTICLOCKWISE
AL SFC
AH 3000
V X=51:00:00 N 021:00:00 E
V D=-
DA 10,90,0
DP 51:00:00 N 021:00:00 E

AC P
AN EP P996 THREE QUARTERS
AL SFC
AH FL 65
V X=50:00:00 N 021:00:00 E
DA 10,90,0
DP 50:00:00 N 021:00:00 E
"""


def offset(lat, lon, az, dist):
    la, lo, _ = geo.destination(lat, lon, az, dist)
    return float(la), float(lo)


def test_openair_coordinates():
    assert parse_coordinate("52:10:30 N 023:30:00 E") == pytest.approx((52.175, 23.5))
    assert parse_coordinate("52:10.5N 023:30.25E") == pytest.approx((52.175, 23.504166667))
    assert parse_coordinate("33:51:00 S, 151:12:30.5 E") == pytest.approx(
        (-33.85, 151.2084722))
    assert parse_coordinate("40:25:00 N 003:42:00 W") == pytest.approx((40.4166667, -3.7))
    for bad in ["52.17 N 23.5 E", "52:61:00 N 023:00:00 E", "52:10:00 023:00:00"]:
        with pytest.raises(ValueError, match="coordinate"):
            parse_coordinate(bad)


def test_openair_realistic_snippet_with_circles_and_arcs():
    result = load_text(OPENAIR, "eastern.txt")
    zones = {z.name: z for z in result.zones}
    assert result.bad == 0 and len(zones) == 5
    strip = zones["EP R999 TEST STRIP"]
    assert (strip.id, strip.type, str(strip.floor), str(strip.ceiling)) == (
        "ep-r999", "restricted", "SFC", "FL095")
    assert strip.source == "eastern.txt:4"
    ctr = zones["EPLB LUBLIN CTR"]
    assert ctr.type == "airport" and ctr.id == "EPLB-LUBLIN-CTR"
    assert ctr.circle == pytest.approx((51.2402778, 22.7136111, 5 * NM))
    assert ctr.ceiling_m == pytest.approx(2500 * 0.3048)
    d998 = zones["EP D998 QUARTER CLOCKWISE"]
    assert d998.type == "danger" and str(d998.floor) == "1000 ft AGL"
    assert d998.floor_m == pytest.approx(304.8)  # AGL taken as AMSL
    p997 = zones["EP P997 QUARTER ANTICLOCKWISE"]
    assert p997.ceiling_m == pytest.approx(3000 * 0.3048)  # OpenAir default unit: feet

    zs = ZoneSet(result.zones)

    def inside(name, lat, lon):
        hits = zs.contains([lat], [lon], zones=[zs.index(zones[name].id)])
        return hits.point.size == 1

    # DB: the clockwise arc from north to east about 52N 21E: the north-east quarter
    assert inside("EP D998 QUARTER CLOCKWISE", *offset(52, 21, 45, 10 * NM - 300))
    assert not inside("EP D998 QUARTER CLOCKWISE", *offset(52, 21, 45, 10 * NM + 300))
    assert not inside("EP D998 QUARTER CLOCKWISE", *offset(52, 21, 135, 5 * NM))
    # DA with D=-: from 90 back to 0 anticlockwise: the same quarter
    assert inside("EP P997 QUARTER ANTICLOCKWISE", *offset(51, 21, 45, 10 * NM - 300))
    assert not inside("EP P997 QUARTER ANTICLOCKWISE", *offset(51, 21, 225, 5 * NM))
    # the direction resets to clockwise at AC: 90 -> 0 clockwise is three quarters
    assert inside("EP P996 THREE QUARTERS", *offset(50, 21, 225, 5 * NM))
    assert not inside("EP P996 THREE QUARTERS", *offset(50, 21, 45, 5 * NM))
    # the arc follows the geodesic radius
    for az in (10.0, 30.0, 60.0, 80.0):
        assert inside("EP P997 QUARTER ANTICLOCKWISE", *offset(51, 21, az, 10 * NM - 10))
        assert not inside("EP P997 QUARTER ANTICLOCKWISE", *offset(51, 21, az, 10 * NM + 10))
    # circle about the centre
    assert inside("EPLB LUBLIN CTR", *offset(51.2402778, 22.7136111, 200, 5 * NM - 10))
    assert not inside("EPLB LUBLIN CTR", *offset(51.2402778, 22.7136111, 200, 5 * NM + 10))


BAD_OPENAIR = """\
AC R
AN GOOD ONE
AL GND
AH FL95
DP 52:00:00 N 023:00:00 E
DP 52:10:00 N 023:00:00 E
DP 52:10:00 N 023:10:00 E

AC R
AN BAD CEILING
AL GND
AH banana
DP 52:00:00 N 023:00:00 E

AC Q
AN TWO POINTS
DP 52:00:00 N 023:00:00 E
DP 52:10:00 N 023:00:00 E

AC R
AN NO CENTRE
DC 3

AC R
AN UPSIDE DOWN
AL FL100
AH FL50
DP 52:00:00 N 023:00:00 E
DP 52:10:00 N 023:00:00 E
DP 52:10:00 N 023:10:00 E
"""


def test_openair_bad_airspaces_are_named_by_line_and_reason():
    with pytest.raises(ZoneError) as info:
        load_text(BAD_OPENAIR, "bad.txt")
    assert str(info.value) == (
        "bad.txt: line 12 (airspace 1 'BAD CEILING'): AH: vertical limit 'banana' is not "
        "understood (use SFC, UNL, FL95, '1500 ft AMSL', '300 m AGL' or a number)")
    assert (info.value.path, info.value.where) == ("bad.txt", "line 12 (airspace 1 'BAD CEILING')")

    result = load_text(BAD_OPENAIR, "bad.txt", strict=False)
    assert [z.name for z in result.zones] == ["GOOD ONE"]
    assert [str(e) for e in result.errors[1:]] == [
        "bad.txt: line 15 (airspace 2 'TWO POINTS'): 2 points: an outline needs 3 or a "
        "circle (DC)",
        "bad.txt: line 22 (airspace 3 'NO CENTRE'): DC without a centre (V X=) before it",
        "bad.txt: line 24 (airspace 4 'UPSIDE DOWN'): floor FL100 is not below ceiling FL050",
    ]
    assert result.bad == 4
    assert "1 zones, 4 bad features skipped" in result.summary()


ED269 = {
    "title": "Sample UAS geographical zones",
    "description": "ED-269 sample for tests",
    "features": [
        {
            "identifier": "EPTEST1",
            "country": "POL",
            "name": "Test drone zone, working days",
            "type": "COMMON",
            "restriction": "PROHIBITED",
            "reason": ["SENSITIVE", "EMERGENCY"],
            "message": "Drone flights prohibited on working days",
            "zoneAuthority": [{"name": "ULC", "purpose": "INFORMATION"}],
            "applicability": [{
                "permanent": "NO",
                "startDateTime": "2025-09-10T22:00:00+02:00",
                "endDateTime": "2025-12-09T23:59:00+01:00",
                "schedule": [{"day": ["MON", "TUE", "WED", "THU", "FRI"],
                              "startTime": "08:00:00.00+02:00",
                              "endTime": "20:00:00.00+02:00"}],
            }],
            "geometry": [{
                "uomDimensions": "M",
                "lowerLimit": 0,
                "lowerVerticalReference": "AGL",
                "upperLimit": 120,
                "upperVerticalReference": "AGL",
                "horizontalProjection": {
                    "type": "Polygon",
                    "coordinates": [[[23.0, 52.0], [23.2, 52.0], [23.2, 52.2], [23.0, 52.2],
                                     [23.0, 52.0]]],
                },
            }],
        },
        {
            "identifier": "EPTEST2",
            "country": "POL",
            "name": "Test circle",
            "type": "COMMON",
            "restriction": "REQ_AUTHORISATION",
            "applicability": [{"permanent": "YES"}],
            "geometry": [
                {"uomDimensions": "FT", "lowerLimit": 0, "lowerVerticalReference": "AGL",
                 "upperLimit": 400, "upperVerticalReference": "AGL",
                 "horizontalProjection": {"type": "Circle", "center": [21.0, 52.2],
                                          "radius": 3000}},
                {"uomDimensions": "FT", "lowerLimit": 400, "lowerVerticalReference": "AGL",
                 "upperLimit": 2000, "upperVerticalReference": "AMSL",
                 "horizontalProjection": {"type": "Circle", "center": [21.0, 52.2],
                                          "radius": 1000}},
            ],
        },
    ],
}


def test_ed269_sample():
    result = load_text(json.dumps(ED269), "zones.json")
    zones = {z.id: z for z in result.zones}
    assert set(zones) == {"EPTEST1", "EPTEST2/1", "EPTEST2/2"}
    z1 = zones["EPTEST1"]
    assert (z1.type, z1.applies, z1.owner) == ("prohibited", "drones", "POL")
    assert str(z1.floor) == "SFC" and str(z1.ceiling) == "120 m AGL"
    assert z1.start == parse_time("2025-09-10T20:00Z")
    assert str(z1.daily[0]) == "MON-FRI 06:00-18:00"  # converted to UTC
    assert "SENSITIVE, EMERGENCY" in z1.remarks
    z2 = zones["EPTEST2/2"]
    assert z2.type == "restricted" and z2.circle == pytest.approx((52.2, 21.0, 1000.0))
    assert z2.floor_m == pytest.approx(121.92) and z2.ceiling_m == pytest.approx(609.6)

    zs = ZoneSet(result.zones)
    wed_noon = parse_time("2025-10-01T10:00Z")
    sat_noon = parse_time("2025-10-04T10:00Z")
    wed_late = parse_time("2025-10-01T18:30Z")
    hits = zs.contains([52.1] * 3, [23.1] * 3, alt=[100.0] * 3, t=[wed_noon, sat_noon, wed_late])
    assert hits.point.tolist() == [0]
    hits = zs.contains([52.2, 52.2], [21.0, 21.0], alt=[50.0, 300.0])
    assert [zs.ids[z] for z in hits.zone] == ["EPTEST2/1", "EPTEST2/2"]


def test_ed269_bad_features_are_named():
    doc = json.loads(json.dumps(ED269))
    doc["features"][1]["restriction"] = "MAYBE"
    doc["features"].append({"name": "no id", "restriction": "PROHIBITED", "geometry": []})
    with pytest.raises(ZoneError, match=r"^z.json: feature 1 \(identifier 'EPTEST2', name "
                       r"'Test circle'\): restriction 'MAYBE' is not one of PROHIBITED"):
        load_text(json.dumps(doc), "z.json")
    result = load_text(json.dumps(doc), "z.json", strict=False)
    assert [z.id for z in result.zones] == ["EPTEST1"]
    assert str(result.errors[1]) == "z.json: feature 2 (name 'no id'): no 'identifier'"


def test_geojson_round_trip_keeps_every_property():
    shipped = load_shipped_zones()
    text = zones_to_geojson(list(shipped))
    again = load_text(text, "again.geojson").zones
    for a, b in zip(shipped, again, strict=True):
        assert (a.id, a.name, a.type, a.floor, a.ceiling, a.applies, a.owner, a.start, a.end,
                a.daily, a.source, a.remarks) == (b.id, b.name, b.type, b.floor, b.ceiling,
                                                  b.applies, b.owner, b.start, b.end, b.daily,
                                                  b.source, b.remarks)
        assert shapely.hausdorff_distance(a.geometry, b.geometry) < 1e-6
        assert a.circle == pytest.approx(b.circle) if a.circle else b.circle is None


def _feature(props, geometry=None):
    return {"type": "Feature", "properties": props, "geometry": geometry or {
        "type": "Polygon", "coordinates": [[[20, 50], [21, 50], [21, 51], [20, 50]]]}}


def test_geojson_circle_and_openaip_limits():
    doc = {"type": "FeatureCollection", "features": [
        _feature({"id": "c", "type": "critical_site", "radius_m": 2000, "ceiling": "FL10",
                  "daily": ["SS-SR"], "start": "2025-09-10T20:00Z"},
                 {"type": "Point", "coordinates": [21.0, 52.0]}),
        _feature({"name": "ED-R10B", "class": "R",
                  "upperCeiling": {"value": 40000, "unit": "FT", "referenceDatum": "MSL"},
                  "lowerCeiling": {"value": 0, "unit": "FT", "referenceDatum": "GND"}}),
    ]}
    zones = load_text(json.dumps(doc), "x.geojson").zones
    assert zones[0].circle == (52.0, 21.0, 2000.0) and str(zones[0].daily[0]) == "SS-SR"
    assert (zones[1].id, zones[1].type, str(zones[1].floor), zones[1].ceiling_m) == (
        "x#1", "restricted", "SFC", pytest.approx(12192.0))


def test_geojson_bad_features_are_named_with_the_reason(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        _feature({"id": "ok", "type": "danger"}),
        _feature({"id": "hi", "name": "Upside down", "type": "danger", "floor": "FL100",
                  "ceiling": 500}),
        _feature({"id": "bow", "type": "danger"}, {"type": "Polygon", "coordinates": [
            [[20, 50], [21, 51], [21, 50], [20, 51], [20, 50]]]}),
        _feature({"id": "when", "type": "danger", "start": "yesterday"}),
        _feature({"id": "kind", "type": "no-fly"}),
        {"type": "Feature", "properties": {"id": "line", "type": "danger"},
         "geometry": {"type": "LineString", "coordinates": [[20, 50], [21, 51]]}},
    ]}
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(ZoneError) as info:
        load_zones(path)
    assert str(info.value) == (f"{path}: feature 1 (id 'hi', name 'Upside down'): floor FL100 "
                               "is not below ceiling 500 m AMSL")
    result = load_zones(path, strict=False)
    assert [z.id for z in result.zones] == ["ok"]
    reasons = [e.reason for e in result.errors]
    assert reasons[1].startswith("the outline is not a simple polygon (self-intersection at")
    assert reasons[2].startswith("start: 'yesterday' is neither epoch seconds nor")
    assert reasons[3].startswith("type 'no-fly' is not one of prohibited")
    assert reasons[4] == "geometry 'LineString' is not a Polygon, MultiPolygon or Point"
    assert [e.where for e in result.errors][1:3] == ["feature 2 (id 'bow')", "feature 3 (id 'when')"]


def test_summary_groups_values_but_keeps_the_property_named(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        _feature({"id": "a"}), _feature({"id": "b"}),
        _feature({"id": "c", "type": "no-fly"}), _feature({"id": "d", "type": "nofly"}),
    ]}
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(doc))
    summary = load_zones(path, strict=False).summary()
    assert "2 x no 'type' property" in summary  # what is missing stays readable
    assert "2 x type '...' is not one of" in summary  # the wrong values are grouped


def test_files_that_are_no_zone_files_are_refused(tmp_path):
    for text, reason in [("{oops", "not valid JSON"), ("hello\nworld", "not a zone file"),
                         ('{"a": 1}', "neither a GeoJSON FeatureCollection nor ED-269")]:
        path = tmp_path / "f"
        path.write_text(text)
        with pytest.raises(ZoneError, match=reason):
            load_zones(path)
    with pytest.raises(ZoneError, match="cannot read it"):
        load_zones(tmp_path / "missing.geojson")


def test_openair_gives_owner_when_asked(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(OPENAIR, encoding="latin-1")
    zones = load_zones(path, owner="POL").zones
    assert {z.owner for z in zones} == {"POL"}
    assert np.isfinite([z.floor_m for z in zones]).sum() == 1  # only the AGL floor is finite
