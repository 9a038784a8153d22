"""Assessment against zones: inside now, predicted entry with ETA, applicability, altitude
band, schedule."""

import numpy as np
import pytest

from skywarden import geo
from skywarden.airspace import geometry
from skywarden.airspace.zones import Limit, Zone
from skywarden.assess import Assessor
from test_assess_nations import NOW, rows_of, tracks

# a drone at the start flies due north toward everything below
START = (53.0, 19.0)  # Poland, about 75 km from any border


def at(km: float, azimuth: float = 0.0) -> tuple[float, float]:
    la, lo, _ = geo.destination(*START, azimuth, km * 1000.0)
    return float(la), float(lo)


def circle_zone(zid: str, km: float, radius_m: float, **kw) -> Zone:
    la, lo = at(km)
    kw.setdefault("type", "critical_site")
    kw.setdefault("applies", "drones")
    return Zone(id=zid, name=zid, geometry=geometry.circle(la, lo, radius_m),
                circle=(la, lo, radius_m), **kw)


ZONES = [
    circle_zone("ahead", 20.0, 3000.0),
    circle_zone("low", 20.0, 3000.0, ceiling=Limit(120.0)),
    circle_zone("expired", 20.0, 3000.0, end=NOW - 60.0),
    circle_zone("later", 20.0, 3000.0, start=NOW + 7200.0),
    circle_zone("listed", 20.0, 3000.0, type="other"),
    circle_zone("here", 0.0, 2000.0, applies="all"),
    Zone(id="square", name="square", type="prohibited", applies="all",
         geometry=geometry.polygon([[at(40.0, 0.0), (at(40.0)[0], at(40.0)[1] + 0.1),
                                     (at(45.0)[0], at(45.0)[1] + 0.1), at(45.0)]])),
]
A = Assessor(zones=ZONES)


def test_a_drone_gets_the_zone_ahead_with_its_eta_and_the_zone_it_is_in():
    out = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0, "heading": 0.0,
                            "alt": 300.0, "id": "d"}]), NOW)
    out.check()
    got = rows_of(out, "d")
    assert got["POL"]["inside"]
    assert got["here"] == {"inside": True, "eta": pytest.approx(np.nan, nan_ok=True),
                           "p": 1.0, "d": 0.0, "kind": "zone"}
    ahead = got["ahead"]
    assert not ahead["inside"]
    # centre 20 km ahead, radius 3 km: the edge is 17 km ahead
    assert ahead["eta"] == pytest.approx(17000.0 / 40.0, abs=3.0)
    assert ahead["d"] == pytest.approx(17000.0, rel=0.02)
    # a 3 km zone 20 km ahead subtends +-8.6 deg; heading sigma 10 deg: P ~ 0.61
    assert ahead["p"] == pytest.approx(0.61, abs=0.03)
    square = got["square"]  # its southern edge is 40 km ahead
    assert square["eta"] == pytest.approx(40000.0 / 40.0, abs=5.0)
    # below the ceiling only; not active at the entry; a listed zone is no restriction
    assert "low" not in got and "expired" not in got and "later" not in got
    assert "listed" not in got
    row = np.flatnonzero((out.track_id == "d") & (out.target_id == "ahead"))[0]
    assert out.target_owner[row] == "POL"  # no owner given: the nation below the zone
    assert out.zone_type[row] == "critical_site"


def test_the_altitude_band_is_tested_at_the_predicted_entry():
    out = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0, "heading": 0.0,
                            "alt": 100.0, "id": "low"}]), NOW)
    assert "low" in rows_of(out, "low")
    climbing = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0,
                                 "heading": 0.0, "alt": 100.0, "vel_u": 1.0, "id": "c"}]), NOW)
    assert "low" not in rows_of(climbing, "c")  # at 525 m when it gets there


def test_zones_for_drones_do_not_bind_a_cooperative_aircraft():
    out = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0, "heading": 0.0,
                            "cls": "aircraft", "cooperative": True, "alt": 100.0,
                            "id": "a"}]), NOW)
    got = rows_of(out, "a")
    assert "ahead" not in got and "low" not in got
    assert "here" in got and "square" in got  # these bind all traffic


def test_heading_away_from_a_zone_gives_no_row():
    out = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0,
                            "heading": 180.0, "id": "s"}]), NOW)
    got = rows_of(out, "s")
    assert "ahead" not in got and "square" not in got
    assert got["here"]["inside"]


def test_probability_falls_with_the_offset_of_the_zone():
    near = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0,
                             "heading": 10.0, "id": "n"}]), NOW)
    far = A.assess(tracks([{"lat": START[0], "lon": START[1], "speed": 40.0,
                            "heading": 25.0, "id": "f"}]), NOW)
    p_near = rows_of(near, "n")["ahead"]["p"]
    p_far = rows_of(far, "f").get("ahead", {"p": 0.0})["p"]
    assert 0.05 < p_far < p_near < 0.61
    # off the nominal heading the ETA is the time to fly to the nearest point
    assert rows_of(near, "n")["ahead"]["eta"] == pytest.approx(17000.0 / 40.0, rel=0.05)


def test_zones_can_be_changed_between_cycles():
    a = Assessor(zones=[ZONES[0]])
    t = tracks([{"lat": START[0], "lon": START[1], "speed": 40.0, "heading": 0.0, "id": "d"}])
    assert "ahead" in rows_of(a.assess(t, NOW), "d")
    a.set_zones([ZONES[5]])  # "here" only
    got = rows_of(a.assess(t, NOW), "d")
    assert "ahead" not in got and got["here"]["inside"]
    a.set_zones(None)
    assert set(rows_of(a.assess(t, NOW), "d")) == {"POL"}


def test_threads_give_the_same_rows_as_one():
    rng = np.random.default_rng(5)
    n = 400
    rows = [{"lat": float(la), "lon": float(lo), "speed": float(sp), "heading": float(hd),
             "cls": c, "id": f"R{i}"}
            for i, (la, lo, sp, hd, c) in enumerate(zip(
                rng.uniform(50.0, 55.0, n), rng.uniform(17.0, 25.0, n), rng.uniform(30, 250, n),
                rng.uniform(0, 360, n), rng.choice(["drone", "aircraft"], n), strict=True))]
    got = []
    for threads in (1, 2, 3):
        out = Assessor(zones=ZONES, threads=threads).assess(tracks(rows), NOW)
        order = np.lexsort((out.target_id, out.track_id))
        got.append({f: getattr(out, f)[order] for f in
                    ("track_id", "target_id", "inside", "eta_s", "probability", "distance_m")})
    for other in got[1:]:
        for f, col in got[0].items():
            if col.dtype.kind == "f":  # vector and scalar loops may differ in the last bit
                assert np.allclose(col, other[f], rtol=1e-9, atol=1e-6, equal_nan=True), f
            else:
                assert (col == other[f]).all(), f
