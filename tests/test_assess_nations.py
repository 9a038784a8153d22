"""Assessment against nations: ETA against hand-computed crossings, probability from the
heading fan, deep-inside and stationary tracks, bad input."""

import functools
import json

import numpy as np
import pytest

from skywarden import geo
from skywarden.airspace import Borders, load_borders
from skywarden.assess import Assessor, TrackColumns
from skywarden.assess.assess import NO_PREDICTION

B = load_borders()
NOW = 1_757_540_000.0  # 2025-09-10 21:33 UTC


@functools.cache
def assessor(fan: int = 3) -> Assessor:
    return Assessor(fan=fan)


def tracks(rows: list[dict]) -> TrackColumns:
    """Track columns from dicts: lat, lon, speed (m/s), heading (deg), and optional
    cls, alt, vel_u, cooperative, time, id."""
    n = len(rows)
    sp = np.array([r.get("speed", 0.0) for r in rows], dtype=float)
    hd = np.radians([r.get("heading", 0.0) for r in rows])
    vel = np.column_stack([sp * np.sin(hd), sp * np.cos(hd), [r.get("vel_u", 0.0) for r in rows]])
    return TrackColumns(
        track_id=np.array([r.get("id", f"T{i}") for i, r in enumerate(rows)]),
        time=np.array([r.get("time", NOW) for r in rows], dtype=float),
        lat=np.array([r["lat"] for r in rows], dtype=float),
        lon=np.array([r["lon"] for r in rows], dtype=float),
        alt=np.array([r.get("alt", 300.0) for r in rows], dtype=float),
        vel=vel,
        sigma_h=np.full(n, 50.0),
        cls=np.array([r.get("cls", "drone") for r in rows]),
        identity=np.array([r.get("identity", "hostile") for r in rows]),
        cooperative=np.array([r.get("cooperative", False) for r in rows], dtype=bool),
    )


def crossing_m(lat: float, lon: float, azimuth: float, target: str, borders: Borders = B,
               reach: float = 200e3) -> float:
    """Hand computation: distance along the WGS84 geodesic from (lat, lon) with this
    azimuth to where Borders.nation_at first says ``target``, bisected to 1 mm."""
    s = np.linspace(0.0, reach, 4001)
    la, lo, _ = geo.destination(lat, lon, azimuth, s)
    i = int(np.flatnonzero(borders.nation_at(la, lo) == target)[0])
    a, b = s[i - 1], s[i]
    while b - a > 1e-3:
        m = 0.5 * (a + b)
        la, lo, _ = geo.destination(lat, lon, azimuth, m)
        if borders.nation_at(la, lo) == target:
            b = m
        else:
            a = m
    return 0.5 * (a + b)


def rows_of(out, track_id: str) -> dict[str, dict]:
    """Rows of one track keyed by target id."""
    sel = np.flatnonzero(out.track_id == track_id)
    return {
        str(out.target_id[i]): {
            "inside": bool(out.inside[i]), "eta": float(out.eta_s[i]),
            "p": float(out.probability[i]), "d": float(out.distance_m[i]),
            "kind": str(out.target_kind[i]),
        }
        for i in sel
    }


@pytest.mark.parametrize(
    ("lat", "lon", "start", "speed", "cls"),
    [(52.0, 23.0, "POL", 60.0, "drone"), (52.0, 23.0, "POL", 180.0, "missile"),
     (54.5, 24.5, "LTU", 90.0, "drone")],
)
def test_eta_due_east_into_belarus_matches_the_hand_computed_crossing(lat, lon, start, speed,
                                                                     cls):
    expected_s = crossing_m(lat, lon, 90.0, "BLR") / speed
    out = assessor().assess(tracks([{"lat": lat, "lon": lon, "speed": speed, "heading": 90.0,
                                     "cls": cls, "id": "east"}]), NOW)
    out.check()
    got = rows_of(out, "east")
    assert got[start]["inside"] and got[start]["p"] == 1.0
    blr = got["BLR"]
    assert not blr["inside"]
    assert blr["eta"] == pytest.approx(expected_s, abs=3.0)
    assert blr["p"] == pytest.approx(1.0)  # every member of the fan crosses
    # distance to Belarus: never more than the distance flown to the crossing
    assert 0.0 < blr["d"] <= expected_s * speed + 300.0


def test_eta_beyond_refine_s_is_good_to_the_raster_cell():
    # 73 km at 45 m/s: 27 minutes ahead, beyond the default refine_s (15 minutes)
    expected_s = crossing_m(54.5, 24.5, 90.0, "BLR") / 45.0
    a = assessor()
    assert expected_s > a.refine_s
    out = a.assess(tracks([{"lat": 54.5, "lon": 24.5, "speed": 45.0, "heading": 90.0,
                            "id": "far"}]), NOW)
    # the raster's border is within a cell diagonal (1.4 km) of the true one
    assert rows_of(out, "far")["BLR"]["eta"] == pytest.approx(expected_s, abs=1414.0 / 45.0)


def test_the_warned_nation_gets_the_row_before_entry_and_the_inside_row_after():
    lat, lon = 52.0, 23.0
    dist = crossing_m(lat, lon, 90.0, "BLR")
    before = geo.destination(lat, lon, 90.0, dist - 2000.0)
    after = geo.destination(lat, lon, 90.0, dist + 2000.0)
    out = assessor().assess(tracks([
        {"lat": before[0], "lon": before[1], "speed": 40.0, "heading": 90.0, "id": "before"},
        {"lat": after[0], "lon": after[1], "speed": 40.0, "heading": 90.0, "id": "after"},
    ]), NOW)
    b, a = rows_of(out, "before"), rows_of(out, "after")
    assert b["BLR"]["eta"] == pytest.approx(50.0, abs=3.0)  # 2 km at 40 m/s
    assert 1000.0 < b["BLR"]["d"] <= 2300.0  # no farther than the crossing ahead
    assert a["BLR"]["inside"] and "POL" not in a  # flying away from Poland


def meridian_borders() -> Borders:
    """Two nations split by the meridian 20 E, AAA west of it and BBB east, 50-56 N."""
    doc = {
        "type": "FeatureCollection",
        "metadata": {"clip_box": {"lat": [49.0, 57.0], "lon": [17.0, 23.0]}},
        "features": [
            {"type": "Feature", "properties": {"iso_a3": code, "name": code},
             "geometry": {"type": "Polygon", "coordinates": [
                 [[w, 50.0], [e, 50.0], [e, 56.0], [w, 56.0], [w, 50.0]]]}}
            for code, w, e in (("AAA", 18.0, 20.0), ("BBB", 20.0, 22.0))
        ],
    }
    return Borders.from_geojson(json.dumps(doc))


def test_parallel_to_a_border_far_is_unlikely_and_near_is_likely():
    # two nations split by the meridian 20 E; tracks fly due north along it
    borders = meridian_borders()
    a = Assessor(borders, fan=5)
    rows = []
    for km in (1.0, 5.0, 20.0):
        la, lo, _ = geo.destination(52.0, 20.0, 270.0, km * 1000.0)
        rows.append({"lat": la, "lon": lo, "speed": 40.0, "heading": 0.0, "id": f"{km:g}km"})
    out = a.assess(tracks(rows), NOW)
    out.check()
    p = {k: rows_of(out, k).get("BBB", {"p": 0.0})["p"] for k in ("1km", "5km", "20km")}
    assert p["20km"] < 0.1
    assert p["1km"] >= 0.3
    assert p["1km"] >= p["5km"] >= p["20km"]
    assert all(rows_of(out, k)["AAA"]["inside"] for k in ("1km", "5km", "20km"))


def test_a_track_deep_inside_with_a_short_reach_has_no_entry_rows():
    # Kyiv is about 87 km from the nearest border; a drone's 30-minute reach is 72 km
    out = assessor().assess(tracks([{"lat": 50.45, "lon": 30.52, "speed": 40.0,
                                     "heading": 180.0, "id": "kyiv"}]), NOW)
    assert rows_of(out, "kyiv") == {
        "UKR": {"inside": True, "eta": pytest.approx(float("nan"), nan_ok=True), "p": 1.0,
                "d": 0.0, "kind": "nation"}}


def test_stationary_and_velocity_less_tracks_are_assessed_where_they_are():
    lat, lon = 52.0, 23.55  # about 6 km from Belarus
    t = tracks([{"lat": lat, "lon": lon, "speed": 0.0, "id": "hover"},
                {"lat": lat, "lon": lon, "speed": 40.0, "heading": 90.0, "id": "nanvel"}])
    t.vel[1] = np.nan
    a = assessor()
    out = a.assess(t, NOW)
    assert set(rows_of(out, "hover")) == {"POL"}
    assert set(rows_of(out, "nanvel")) == {"POL"}
    assert a.stats.predicted == 0
    assert a.stats.skipped[NO_PREDICTION] == 2


def test_a_speed_beyond_the_class_envelope_gets_no_prediction():
    # Due east from Poland toward Belarus (about 35 km): a drone at drone speed is
    # predicted in; the same track at 400 m/s (a coasting drone track that took a far
    # plot) is assessed where it is; an aircraft at 400 m/s is predicted as usual.
    rows = [
        {"lat": 52.0, "lon": 23.0, "speed": 45.0, "heading": 90.0, "id": "drone"},
        {"lat": 52.0, "lon": 23.0, "speed": 400.0, "heading": 90.0, "id": "jumped"},
        {"lat": 52.0, "lon": 23.0, "speed": 110.0, "heading": 90.0, "id": "fast drone"},
        {"lat": 52.0, "lon": 23.0, "speed": 400.0, "heading": 90.0, "cls": "aircraft",
         "id": "jet"},
    ]
    a = assessor()
    out = a.assess(tracks(rows), NOW)
    assert "BLR" in rows_of(out, "drone")
    assert "BLR" in rows_of(out, "fast drone")  # within four spreads of the envelope
    assert set(rows_of(out, "jumped")) == {"POL"}
    assert rows_of(out, "jumped")["POL"]["inside"]
    assert "BLR" in rows_of(out, "jet")
    assert a.stats.skipped[NO_PREDICTION] == 1


def test_velocity_uncertainty_widens_the_heading_fan():
    # A drone due north along a border 1 km off (same layout as the parallel test): with a
    # well-known velocity only the fan's manoeuvre allowance (10 deg) spreads it; with
    # sigma_vel 20 m/s at 40 m/s (27 deg) more of the fan leans over the border, and with
    # 60 m/s (56 deg) the heading is unknown: no prediction at all.
    a = Assessor(meridian_borders(), fan=5, heading_from_sigma_vel=True)
    la, lo, _ = geo.destination(52.0, 20.0, 270.0, 20_000.0)
    t = tracks([{"lat": la, "lon": lo, "speed": 40.0, "heading": 0.0, "id": f"s{k}"}
                for k in range(3)])
    t.sigma_vel = np.array([np.nan, 20.0, 60.0])
    out = a.assess(t, NOW)
    p = [rows_of(out, f"s{k}").get("BBB", {"p": 0.0})["p"] for k in range(3)]
    assert p[0] < 0.1 < p[1]
    assert set(rows_of(out, "s2")) == {"AAA"}


def test_a_velocity_known_to_worse_than_max_sigma_vel_gets_no_prediction():
    # An aircraft at 250 m/s toward Belarus: sigma_vel 100 m/s is only 22 deg of heading,
    # but in 30 minutes the track could be anywhere within 180 km of its predicted path.
    t = tracks([{"lat": 52.0, "lon": 23.0, "speed": 250.0, "heading": 90.0, "cls": "aircraft",
                 "id": f"a{k}"} for k in range(2)])
    t.sigma_vel = np.array([10.0, 100.0])
    out = Assessor(max_sigma_vel=60.0).assess(t, NOW)
    assert "BLR" in rows_of(out, "a0")
    assert set(rows_of(out, "a1")) == {"POL"}


def test_bad_positions_are_skipped_and_counted_never_raised():
    t = tracks([{"lat": 52.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "good"},
                {"lat": 52.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "nanlat"},
                {"lat": 95.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "lat95"},
                {"lat": 52.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "nantime"},
                {"lat": 52.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "old",
                 "time": NOW - 3600.0}])
    t.lat[1] = np.nan
    t.time[3] = np.inf
    t.alt[0] = np.nan  # unknown altitude is fine
    a = assessor()
    out = a.assess(t, NOW)
    out.check()
    assert set(out.track_id.tolist()) == {"good"}
    assert a.stats.skipped["position or time not a number or out of range"] == 3
    assert a.stats.skipped["older than max_age_s"] == 1
    assert a.stats.assessed == 1


def test_no_tracks_and_tracks_outside_the_data_give_no_rows():
    a = assessor()
    assert len(a.assess(tracks([]), NOW)) == 0
    out = a.assess(tracks([{"lat": 48.85, "lon": 2.35, "speed": 200.0, "heading": 90.0}]), NOW)
    out.check()  # Paris is outside the borders' box: no nation known there
    assert len(out) == 0


def test_latest_row_of_a_track_is_used():
    t = tracks([{"lat": 52.0, "lon": 23.0, "speed": 40.0, "heading": 90.0, "id": "x",
                 "time": NOW - 10.0},
                {"lat": 50.45, "lon": 30.52, "speed": 40.0, "heading": 180.0, "id": "x"}])
    a = assessor()
    out = a.assess(t, NOW)
    assert set(rows_of(out, "x")) == {"UKR"}
    assert a.stats.skipped["superseded by a later row of the track"] == 1


def test_a_tracker_batch_is_assessed_with_its_codes_and_ids():
    from skywarden.records import TARGET_CLASSES
    from skywarden.track.classify import IDENTITIES
    from skywarden.track.output import TrackBatch

    n = 3
    batch = TrackBatch(
        time=np.full(n, NOW), serial=np.array([41, 42, 43]),
        lat=np.array([52.0, 52.0, 50.45]), lon=np.array([23.0, 23.0, 30.52]),
        alt=np.array([300.0, np.nan, 500.0]),
        vel=np.array([[50.0, 0.0, 0.0], [50.0, 0.0, 0.0], [0.0, -40.0, 0.0]]),
        sigma_h=np.full(n, 80.0), sigma_v=np.full(n, 30.0),
        status=np.array([2, 4, 3], dtype=np.int8),  # confirmed, deleted, coasting
        cls=np.array([TARGET_CLASSES.index("drone")] * n, dtype=np.int8),
        cls_conf=np.array([0.8, 0.8, 0.35], dtype=np.float32),
        identity=np.array([IDENTITIES.index("hostile")] * n, dtype=np.int8),
        ids=np.array([(), (), ("rid:1596F3",)], dtype=object),
        sensor_ptr=np.zeros(n + 1, np.int64), sensor_flat=np.zeros(0, np.int32),
        spoof=np.zeros(n, bool), prefix="PL-",
    )
    a = assessor()
    out = a.assess(batch, NOW)
    out.check()
    assert sorted(set(out.track_id.tolist())) == ["PL-41", "PL-43"]
    assert a.stats.skipped["deleted"] == 1
    first = np.flatnonzero(out.track_id == "PL-41")
    assert set(out.target_id[first].tolist()) == {"POL", "BLR"}
    assert (out.cls[first] == "drone").all() and (out.identity[first] == "hostile").all()
    assert not out.cooperative[first].any()
    assert out.cooperative[out.track_id == "PL-43"].all()
    assert np.isnan(out.vel_e).sum() == 0
    # the tracker's status reaches the warning stage (a coasting row raises no alert)
    assert set(out.status[first].tolist()) == {"confirmed"}
    assert set(out.status[out.track_id == "PL-43"].tolist()) == {"coasting"}
    # ... and so does its confidence in the class (a response rule may ask for one)
    assert np.allclose(out.class_confidence[first], 0.8)
    assert np.allclose(out.class_confidence[out.track_id == "PL-43"], 0.35)


def test_class_confidence_of_track_columns_is_kept_or_unknown():
    rows = [{"lat": 52.0, "lon": 23.0, "speed": 50.0, "heading": 90.0, "id": "a"},
            {"lat": 50.45, "lon": 30.52, "speed": 40.0, "heading": 180.0, "id": "b"}]
    given = tracks(rows)
    given.class_confidence = np.array([0.9, 0.3])
    out = assessor().assess(given, NOW).check()
    assert set(out.class_confidence[out.track_id == "a"].tolist()) == {0.9}
    assert set(out.class_confidence[out.track_id == "b"].tolist()) == {0.3}
    out = assessor().assess(tracks(rows), NOW).check()  # none given: NaN, never a guess
    assert len(out) and np.isnan(out.class_confidence).all()


def test_coming_into_the_data_from_outside_is_no_entry():
    # over Russia east of the borders' box (45 E), flying west into it
    out = assessor().assess(tracks([{"lat": 55.0, "lon": 45.6, "speed": 250.0,
                                     "heading": 270.0, "id": "east"}]), NOW)
    out.check()
    assert len(out) == 0  # no nation known below it, and Russia is no entry


def test_tracks_far_beyond_the_grid_neither_break_the_cycle_nor_change_the_others():
    """A track hundreds of kilometres off the raster on any side (an airliner over the
    Barents Sea, a missile over the Caspian) used to index past the grid: one such track
    raised IndexError for the whole cycle, or read wrapped cells and warned nations far
    away. Now a path is walked only where it is on the grid."""
    inside = {"lat": 52.2, "lon": 23.2, "speed": 45.0, "heading": 90.0, "id": "in"}
    fast = {"speed": 200.0, "cls": "missile"}
    far = [
        {**fast, "lat": 74.0, "lon": 30.0, "heading": 180.0, "id": "north"},
        {**fast, "lat": 35.0, "lon": 25.0, "heading": 0.0, "id": "south"},
        {**fast, "lat": 55.0, "lon": 50.0, "heading": 270.0, "id": "east"},
        {**fast, "lat": 55.0, "lon": 3.0, "heading": 90.0, "id": "west"},
        {**fast, "lat": 80.0, "lon": 60.0, "heading": 45.0, "id": "away"},
    ]
    a = assessor()
    alone = rows_of(a.assess(tracks([inside]), NOW), "in")
    out = a.assess(tracks([*far, inside]), NOW)
    out.check()
    same = json.dumps(rows_of(out, "in"), sort_keys=True) == json.dumps(alone, sort_keys=True)
    assert same and "BLR" in alone
    # nothing the data holds lies ahead of them (Crete is south of the box; entering the
    # box over a nation is no entry into it)
    for track in ("north", "south", "east", "west", "away"):
        assert rows_of(out, track) == {}, track
    # south of the box over Greece, flying north: into the box over Greece, then North
    # Macedonia ahead, about 100 km on
    north_bound = a.assess(tracks([{**fast, "lat": 39.3, "lon": 21.6, "heading": 0.0,
                                    "id": "gr"}]), NOW)
    mkd = rows_of(north_bound, "gr")["MKD"]
    assert 600 < mkd["eta"] < 1100 and mkd["p"] > 0.5


@pytest.mark.parametrize("stop", [False, True])
def test_the_march_skips_paths_never_on_the_grid_among_others(stop):
    """A member path that never comes onto the grid (a track beyond the borders' box,
    heading away) among paths that do: the walk of the others is unchanged. The region
    walk (no stop value) once sized one column by all the rows instead of the walked
    ones and failed the whole cycle (``skywarden replay`` of the scale scenario)."""
    from skywarden.assess.plane import Paths
    from skywarden.assess.predict import march

    raster = assessor().raster
    lat, lon = np.array([52.0, 80.0, 50.5]), np.array([23.0, 60.0, 24.6])
    paths = Paths.fan(raster.plane, lat, lon, np.array([90.0, 45.0, 270.0]),
                      np.zeros((3, 1)), np.array([60.0, 250.0, 60.0]), 3600.0)
    layer = raster.region
    value = (np.array([B.codes.index("BLR"), 0, B.codes.index("POL")])
             if stop else None)

    def walk(rows: np.ndarray):
        got = march(raster, layer, paths, rows, np.zeros(rows.size), paths.lam_max[rows],
                    4000.0, None if value is None else value[rows])
        i, a, b, v = got
        return rows[i].tolist(), a.tolist(), b.tolist(), v.tolist()

    both = walk(np.array([0, 1, 2]))
    assert both == walk(np.array([0, 2]))
    assert 0 in both[0] and 2 in both[0] and 1 not in both[0]
