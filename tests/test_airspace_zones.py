"""Zones: vertical limits, containment with altitude, time and applicability, circles,
daily windows and sun events, distance to an outline, the shipped zones."""

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import box

import skywarden.airspace as airspace
from skywarden import geo
from skywarden.airspace import (
    DailyWindow,
    Zone,
    ZoneSet,
    load_borders,
    load_shipped_zones,
    parse_limit,
    parse_time,
    parse_window,
)
from skywarden.airspace import geometry as geom
from skywarden.airspace.schedule import DAY_S, sun_event
from skywarden.errors import ConfigError, ZoneError
from skywarden.records import TARGET_CLASSES

CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}
T0 = parse_time("2025-09-10T20:00Z")
T1 = parse_time("2025-09-11T20:00Z")


def square(zid="sq", **kw):
    """1 x 1 degree at 50-51 N, 20-21 E."""
    return Zone(zid, kw.pop("name", zid), kw.pop("type", "restricted"), box(20, 50, 21, 51), **kw)


# -- public surface ----------------------------------------------------------------------


def test_every_exported_name_resolves():
    for name in airspace.__all__:
        assert getattr(airspace, name) is not None
    assert sorted(airspace.__all__) == sorted(airspace._WHERE)


# -- vertical limits --------------------------------------------------------------------


def test_flight_level_is_hundreds_of_feet_in_the_standard_atmosphere():
    assert parse_limit("FL95").metres == pytest.approx(95 * 100 * 0.3048)  # 2895.6 m
    assert parse_limit("FL 095").metres == pytest.approx(2895.6)
    assert str(parse_limit("FL95")) == "FL095"
    assert parse_limit("FL245").metres == pytest.approx(7467.6)


@pytest.mark.parametrize(("text", "metres", "shown"), [
    ("SFC", -math.inf, "SFC"),
    ("GND", -math.inf, "SFC"),
    ("0 ft AGL", -math.inf, "0 ft AGL"),
    ("UNL", math.inf, "UNL"),
    ("UNLTD", math.inf, "UNL"),
    ("1500 ft AMSL", 457.2, "1500 ft AMSL"),
    ("1500ft MSL", 457.2, "1500 ft AMSL"),
    ("300 m AGL", 300.0, "300 m AGL"),  # AGL taken as AMSL (documented)
    ("1000ft GND", 304.8, "1000 ft AGL"),  # OpenAir's way of writing AGL
    ("6000 m", 6000.0, "6000 m AMSL"),
    (6000, 6000.0, "6000 m AMSL"),
    ("MSL", 0.0, "0 m AMSL"),
])
def test_vertical_limits_keep_what_was_written(text, metres, shown):
    limit = parse_limit(text)
    assert limit.metres == pytest.approx(metres)
    assert str(limit) == shown


def test_a_number_without_unit_uses_the_default_unit():
    assert parse_limit("2000", default_unit="ft").metres == pytest.approx(609.6)
    assert parse_limit("2000").metres == 2000.0


@pytest.mark.parametrize("bad", ["banana", "FL", "12 parsecs", "", None, math.nan, True])
def test_bad_vertical_limits_are_refused(bad):
    with pytest.raises(ValueError, match="vertical limit"):
        parse_limit(bad)


# -- the record -------------------------------------------------------------------------


def test_a_zone_is_checked_when_made():
    with pytest.raises(ZoneError, match="zone 'x': floor FL100 is not below ceiling FL095"):
        square("x", floor=parse_limit("FL100"), ceiling=parse_limit("FL95"))
    with pytest.raises(ZoneError, match="type 'nofly' is not one of"):
        square("x", type="nofly")
    with pytest.raises(ZoneError, match="applies 'cars'"):
        square("x", applies="cars")
    with pytest.raises(ZoneError, match="owner 'pl' is not"):
        square("x", owner="pl")
    with pytest.raises(ZoneError, match="end is before start"):
        square("x", start=T1, end=T0)
    bow_tie = shapely.Polygon([(20, 50), (21, 51), (21, 50), (20, 51)])
    with pytest.raises(ZoneError, match="self-intersection at lat 50.5"):
        Zone("x", "x", "danger", bow_tie)
    assert issubclass(ZoneError, ConfigError)


def test_zone_ids_are_unique_in_a_set():
    with pytest.raises(ZoneError, match="zone 'a': two zones have this id"):
        ZoneSet([square("a"), square("b"), square("a")])


# -- containment ------------------------------------------------------------------------


def test_points_inside_outside_and_on_the_edge():
    zs = ZoneSet([square()])
    lat = [50.5, 49.9, 50.0, 51.0, 50.5, 50.0]
    lon = [20.5, 20.5, 20.5, 21.0, 21.000001, 20.0]
    hits = zs.contains(lat, lon)
    # edges and corners count as inside; a micro-degree outside does not
    assert hits.point.tolist() == [0, 2, 3, 5]
    assert hits.zone.tolist() == [0, 0, 0, 0]


def test_floor_and_ceiling_bound_the_zone_edges_included():
    zs = ZoneSet([square(floor=parse_limit("1000 ft AMSL"), ceiling=parse_limit("FL95"))])
    alt = np.array([304.8, 304.7, 2895.6, 2895.7, 1500.0, np.nan])
    hits = zs.contains(np.full(6, 50.5), np.full(6, 20.5), alt=alt)
    # NaN altitude: a 2-D track may be at any height, so it is inside
    assert hits.point.tolist() == [0, 2, 4, 5]


def test_surface_floor_takes_any_height_below_the_ceiling():
    zs = ZoneSet([square(ceiling=parse_limit("500 m AMSL"))])
    assert zs.contains([50.5] * 3, [20.5] * 3, alt=[-50.0, 0.0, 500.0]).point.tolist() == [0, 1, 2]


def test_validity_start_and_end_are_included():
    zs = ZoneSet([square(start=T0, end=T1)])
    assert zs.active(T0 - 1).tolist() == [False]
    assert zs.active(T0).tolist() == [True]
    assert zs.active(T1).tolist() == [True]
    assert zs.active(T1 + 1).tolist() == [False]
    assert zs.contains([50.5], [20.5], t=T1 + 1).point.size == 0
    # one time per point
    hits = zs.contains([50.5] * 4, [20.5] * 4, t=[T0 - 1, T0, T1, T1 + 1])
    assert hits.point.tolist() == [1, 2]


def test_daily_window_crossing_midnight_belongs_to_the_day_it_starts():
    fri = parse_time("2025-09-12T00:00Z")  # a Friday
    zs = ZoneSet([square(daily=(parse_window("FRI 22:00-06:00"),))])

    def on(hhmm_offset_h):
        return bool(zs.active(fri + hhmm_offset_h * 3600)[0])

    assert not on(5)  # Friday 05:00: the Thursday night has no window
    assert not on(21.99)
    assert on(22)  # Friday 22:00, edge included
    assert on(23.5)
    assert on(24 + 5)  # Saturday 05:00
    assert on(24 + 6)  # Saturday 06:00, edge included
    assert not on(24 + 6 + 1 / 3600)
    assert not on(24 + 22.5)  # Saturday night: not a Friday window
    # per-point times give the same answers
    ts = fri + np.array([5, 22, 29, 30, 46.5]) * 3600
    assert zs.contains([50.5] * 5, [20.5] * 5, t=ts).point.tolist() == [1, 2, 3]


def test_window_texts_round_trip_and_bad_ones_are_named():
    for text in ["SR-SS", "SS-SR", "MON-FRI 06:00-18:00", "SAT,SUN 22:00-06:00",
                 "FRI-MON 00:00-24:00", "BMCT-EECT"]:
        assert str(parse_window(text)) == text
    with pytest.raises(ValueError, match="daily window"):
        parse_window("sometimes")
    with pytest.raises(ValueError, match="day 'FUN'"):
        parse_window("FUN 06:00-07:00")
    with pytest.raises(ValueError, match="not between 00:00 and 24:00"):
        parse_window("25:00-26:00")


def test_a_window_with_equal_clock_bounds_lasts_the_whole_day():
    zs = ZoneSet([square(daily=(DailyWindow(start=3600.0, end=3600.0),))])
    assert all(zs.active(T0 + h * 3600)[0] for h in range(0, 48, 5))


def test_sunrise_and_sunset_in_london_at_midsummer():
    # Published times for London on 21 June: sunrise 04:43 BST, sunset 21:21 BST.
    day = np.array([parse_time("2025-06-21T00:00Z") // DAY_S])
    rise = sun_event("SR", day, np.array([51.5074]), np.array([-0.1278]))[0]
    sett = sun_event("SS", day, np.array([51.5074]), np.array([-0.1278]))[0]
    assert rise == pytest.approx(3 * 3600 + 43 * 60, abs=120)
    assert sett == pytest.approx(20 * 3600 + 21 * 60, abs=120)


def test_day_and_night_windows_follow_the_sun_and_the_poles():
    near_warsaw = box(20.9, 52.1, 21.1, 52.3)
    day = Zone("d", "d", "restricted", near_warsaw, daily=(parse_window("SR-SS"),))
    night = Zone("n", "n", "restricted", near_warsaw, daily=(parse_window("SS-SR"),))
    zs = ZoneSet([day, night])
    assert zs.active(parse_time("2025-09-10T10:00Z")).tolist() == [True, False]
    assert zs.active(parse_time("2025-09-10T22:00Z")).tolist() == [False, True]
    assert zs.active(parse_time("2025-09-11T02:00Z")).tolist() == [False, True]
    tromso = box(18.9, 69.6, 19.0, 69.7)
    polar = ZoneSet([Zone("d", "d", "danger", tromso, daily=(parse_window("SR-SS"),)),
                     Zone("n", "n", "danger", tromso, daily=(parse_window("SS-SR"),))])
    for h in range(0, 24, 3):  # midnight sun, then polar night
        assert polar.active(parse_time("2025-06-21T00:00Z") + h * 3600).tolist() == [True, False]
        assert polar.active(parse_time("2025-12-21T00:00Z") + h * 3600)[1]


def test_applicability_by_class_and_cooperative_flag():
    zs = ZoneSet([square("all", applies="all"), square("drones", applies="drones"),
                  square("noncoop", applies="noncooperative"), square("vfr", applies="vfr")])
    classes = ["aircraft", "drone", "unknown", "helicopter", "missile", "bird", "aircraft"]
    coop = [True, False, False, False, False, False, False]
    n = len(classes)
    hits = zs.contains(np.full(n, 50.5), np.full(n, 20.5),
                       cls=[CODE[c] for c in classes], cooperative=coop)
    got = {i: sorted(zs.ids[z] for z in hits.zone[hits.point == i]) for i in range(n)}
    assert got == {
        0: ["all", "vfr"],  # a cooperative aircraft
        1: ["all", "drones", "noncoop"],
        2: ["all", "drones", "noncoop", "vfr"],  # unknown may be a drone or a light aircraft
        3: ["all", "noncoop", "vfr"],
        4: ["all", "noncoop"],
        5: [],  # birds are not traffic
        6: ["all", "noncoop", "vfr"],
    }
    # without class or cooperative flag every zone binds
    assert zs.contains([50.5], [20.5]).zone.tolist() == [0, 1, 2, 3]


def test_zone_mask_and_hits_sorted_by_point():
    zs = ZoneSet([square("a"), square("b"), Zone("c", "c", "airport", box(20.4, 50.4, 20.6, 50.6))])
    hits = zs.contains([50.5, 49.0, 50.45], [20.5, 20.5, 20.45], zones=zs.of_type("airport"))
    assert hits.point.tolist() == [0, 2] and hits.zone.tolist() == [2, 2]
    hits = zs.contains([50.5, 50.45], [20.5, 20.45])
    assert hits.point.tolist() == [0, 0, 0, 1, 1, 1]


def test_grid_agrees_with_plain_point_in_polygon():
    rng = np.random.default_rng(7)
    zones = []
    for i in range(60):
        lat, lon = rng.uniform(49, 55), rng.uniform(14, 24)
        if i % 2:
            zones.append(Zone(f"c{i}", "c", "danger", geom.circle(lat, lon, rng.uniform(500, 40e3))))
        else:
            ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
            r = rng.uniform(0.05, 0.8, 9)
            ring = np.column_stack([lon + r * np.cos(ang) * 1.6, lat + r * np.sin(ang)])
            zones.append(Zone(f"p{i}", "p", "danger", shapely.Polygon(ring)))
    zs = ZoneSet(zones)
    lat, lon = rng.uniform(48.5, 55.5, 20_000), rng.uniform(13.5, 24.5, 20_000)
    hits = zs.contains(lat, lon)
    got = set(zip(hits.point.tolist(), hits.zone.tolist(), strict=True))
    want = set()
    for z, zone in enumerate(zones):
        for p in np.flatnonzero(shapely.intersects_xy(zone.geometry, lon, lat)):
            want.add((int(p), z))
    assert got == want
    assert len(want) > 1000


# -- circles and distances --------------------------------------------------------------


def test_circle_radius_is_on_the_geodesic():
    lat0, lon0, r = 52.1658, 20.9672, 5000.0
    zs = ZoneSet([Zone("c", "c", "airport", geom.circle(lat0, lon0, r), circle=(lat0, lon0, r))])
    az = np.arange(0.0, 360.0, 7.0)
    la_in, lo_in, _ = geo.destination(lat0, lon0, az, r - 1.0)
    la_out, lo_out, _ = geo.destination(lat0, lon0, az, r + geom.ARC_TOLERANCE_M + 1.0)
    assert zs.contains(la_in, lo_in).point.size == az.size
    assert zs.contains(la_out, lo_out).point.size == 0
    # the polygon holds the circle and exceeds it by at most the tolerance
    d = geo.distance(lat0, lon0, *np.flip(shapely.get_coordinates(zs[0].geometry), 1).T)
    assert d.min() >= r and d.max() <= r + geom.ARC_TOLERANCE_M


def test_distance_to_the_outline_inside_and_outside():
    lat0, lon0 = 52.0, 21.0
    zs = ZoneSet([Zone("c", "c", "airport", geom.circle(lat0, lon0, 10_000.0)),
                  square("sq")])
    got = zs.distance_to_boundary([lat0, 52.0], [lon0, 21.5], 0)
    # centre: the radius; 0.5 deg east at 52 N: the geodesic minus the radius
    far = geo.distance(lat0, lon0, 52.0, 21.5)
    assert got[0] == pytest.approx(10_000.0, abs=geom.ARC_TOLERANCE_M)
    assert got[1] == pytest.approx(far - 10_000.0, abs=15.0)
    # the square: 50.5 N 20.5 E is half a degree of longitude from the east/west edges
    d = zs.distance_to_boundary([50.5, 50.5], [20.5, 20.5], [1, 1])
    assert d[0] == pytest.approx(geo.distance(50.5, 20.5, 50.5, 21.0), rel=1e-3)


# -- shipped zones ----------------------------------------------------------------------


def test_shipped_zones_load_and_are_documented(tmp_path):
    zones = {z.id: z for z in load_shipped_zones()}
    assert {"EP-R129-UAS", "EP-R129-DAY", "EP-R129-NIGHT", "LV-EAST-2025-09", "EPWA-DRONE",
            "EPMO-DRONE", "EPRZ-DRONE", "EPLB-DRONE"} <= set(zones)
    assert all(z.source for z in zones.values())
    assert zones["EP-R129-NIGHT"].ceiling_m == pytest.approx(2895.6)
    assert zones["LV-EAST-2025-09"].ceiling_m == 6000.0
    assert zones["EP-R129-UAS"].start == parse_time("2025-09-10T20:00Z")


def test_ep_r129_is_a_50_km_strip_on_the_polish_side():
    b = load_borders()
    r129 = {z.id: z for z in load_shipped_zones()}["EP-R129-UAS"]
    xy = shapely.get_coordinates(r129.geometry)
    assert (b.nation_at(*shapely.get_coordinates(
        shapely.point_on_surface(r129.geometry))[0][::-1]) == "POL")
    depth = b.distance_to_border(xy[:, 1], xy[:, 0])
    assert depth.max() < 51_000  # outer edge at 50 km (simplified by 50 m)
    zs = ZoneSet(load_shipped_zones())
    places = {"Biala Podlaska": (52.03, 23.12), "Terespol": (52.07, 23.61),
              "Przemysl": (49.78, 22.77), "Lublin": (51.25, 22.57), "Warsaw": (52.23, 21.01),
              "Brest (Belarus)": (52.10, 23.70)}
    lat, lon = np.array(list(places.values())).T
    hits = zs.contains(lat, lon, zones=[zs.index("EP-R129-UAS")])
    inside = {list(places)[p] for p in hits.point}
    assert inside == {"Biala Podlaska", "Terespol", "Przemysl"}


def test_ep_r129_rules_by_day_and_night():
    zs = ZoneSet(load_shipped_zones())
    terespol = ([52.0] * 3, [23.55] * 3)
    cls = [CODE["aircraft"], CODE["aircraft"], CODE["drone"]]
    coop = [True, False, True]

    def zones_at(when, alt=1000.0):
        hits = zs.contains(*terespol, alt=alt, t=parse_time(when), cls=cls, cooperative=coop)
        return [sorted(zs.ids[z] for z in hits.zone[hits.point == i]) for i in range(3)]

    # noon: a cooperative aircraft may fly; a silent one may not; drones never
    assert zones_at("2025-09-11T10:00Z") == [[], ["EP-R129-DAY"], ["EP-R129-UAS"]]
    # night: nothing may fly
    assert zones_at("2025-09-10T22:00Z") == [["EP-R129-NIGHT"], ["EP-R129-NIGHT"],
                                             ["EP-R129-NIGHT", "EP-R129-UAS"]]
    # above FL095 the zone ends
    assert zones_at("2025-09-10T22:00Z", alt=3000.0) == [[], [], []]
    # before it was declared
    assert zones_at("2025-09-09T22:00Z") == [[], [], []]


@pytest.mark.parametrize("lat, lon, radius, reason", [
    (95.0, 22.0, 15000.0, "circle centre 95, 22 is out of range"),
    (math.nan, 22.0, 15000.0, "circle centre nan, 22 is out of range"),
    (50.0, 22.0, math.inf, "circle radius inf m is not a finite positive number"),
    (50.0, 22.0, math.nan, "circle radius nan m is not positive"),
])
def test_a_circle_off_the_earth_is_refused_with_the_reason(lat, lon, radius, reason):
    """These ended in a GEOS exception or a ZeroDivisionError (zones add --circle)."""
    with pytest.raises(ValueError, match=reason):
        geom.circle(lat, lon, radius)


def test_zones_add_names_a_bad_circle_and_zones_list_a_bad_time(tmp_path, capsys):
    from skywarden.cli import main

    argv = ["zones", "add", "--data", str(tmp_path), "--name", "X", "--type", "restricted",
            "--ceiling", "FL95", "--applies", "all", "--owner", "POL", "--end", "+6h"]
    assert main([*argv, "--circle", "nan,22,15000"]) == 1
    assert "option --circle: circle centre nan, 22 is out of range" in capsys.readouterr().err
    assert main(["zones", "list", "--at", "garbage"]) == 1
    err = capsys.readouterr().err
    assert "option --at: time: 'garbage' is neither epoch seconds nor an ISO 8601 time" in err
    assert "Traceback" not in err
