"""Target motion: routes, turns, climbs, loiters, ends, geodesics (skywarden.sim.motion)."""

from __future__ import annotations

import numpy as np

from skywarden import geo
from skywarden.sim.model import DEFAULT_CLASSES, Loiter, TargetSpec
from skywarden.sim.motion import Fleet, run_motion


def fly(specs, duration, dt=1.0, chunk=50):
    """Truth-like arrays (steps, targets): t, lat, lon, alt, ve, vn, vu, live."""
    fleet = Fleet.from_specs(specs, DEFAULT_CLASSES)
    cols = {k: [] for k in ("lat", "lon", "alt", "ve", "vn", "vu", "live")}
    times = []
    for ch in run_motion(fleet, duration, dt, chunk):
        for k, v in cols.items():
            v.append(getattr(ch, k)[: ch.steps])
        times.append(ch.t0 + dt * np.arange(ch.steps))
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["t"] = np.concatenate(times)
    return out


def spec(route, **kw):
    kw.setdefault("cls", "aircraft")
    return TargetSpec(id=kw.pop("id", "t"), route=tuple(route), **kw)


def test_constant_velocity_covers_speed_times_time():
    end = geo.destination(50.0, 10.0, 45.0, 200e3)
    m = fly([spec([(50.0, 10.0, 1000.0), (float(end[0]), float(end[1]), None)], speed=200.0)], 300)
    d = geo.distance(50.0, 10.0, m["lat"][:, 0], m["lon"][:, 0])
    np.testing.assert_allclose(d, 200.0 * m["t"], atol=0.5)
    np.testing.assert_allclose(np.hypot(m["ve"], m["vn"]), 200.0)
    assert np.all(m["alt"] == 1000.0)


def test_great_circle_over_1000_km_follows_the_geodesic():
    end = geo.destination(50.0, 5.0, 80.0, 1000e3)
    route = [(50.0, 5.0, 10000.0), (float(end[0]), float(end[1]), None)]
    m = fly([spec(route, speed=250.0)], 4100)
    live = m["live"][:, 0]
    lat, lon, t = m["lat"][live, 0], m["lon"][live, 0], m["t"][live]
    along = geo.distance(50.0, 5.0, lat, lon)
    az0 = geo.bearing(50.0, 5.0, end[0], end[1])
    glat, glon, _ = geo.destination(50.0, 5.0, az0, along)
    assert geo.distance(lat, lon, glat, glon).max() < 30.0  # cross-track, m, over 1000 km
    np.testing.assert_allclose(along, 250.0 * t, atol=2.0)
    # Vanishes within one turn radius of the last waypoint.
    turn_radius = 250.0 / np.radians(3.0)
    assert geo.distance(lat[-1], lon[-1], end[0], end[1]) <= turn_radius + 250.0
    assert not m["live"][-1, 0]


def test_coordinated_turn_radius_is_speed_over_turn_rate():
    v, omega = 100.0, 4.0
    a = (50.0, 10.0)
    b = geo.destination(*a, 90.0, 20e3)
    c = geo.destination(float(b[0]), float(b[1]), 270.0, 20e3)  # straight back: a 180 turn
    route = [(*a, 500.0), (float(b[0]), float(b[1]), None), (float(c[0]), float(c[1]), None)]
    m = fly([spec(route, speed=v, turn_rate=omega)], 400)
    heading = np.degrees(np.arctan2(m["ve"][:, 0], m["vn"][:, 0]))
    rate = np.abs(geo.wrap_degrees(np.diff(heading)))
    turning = np.flatnonzero(rate > omega - 1e-6)
    assert turning.size > 30  # a 180-degree turn at 4 deg/s takes 45 s
    assert rate.max() <= omega + 1e-9
    # Fit a circle through points of the turn (in the ENU plane of the turn's middle).
    mid = turning[turning.size // 2]
    idx = turning[5:-5]
    enu = geo.geodetic_to_enu(
        m["lat"][idx, 0], m["lon"][idx, 0], 0.0, m["lat"][mid, 0], m["lon"][mid, 0]
    )
    x, y = enu[:, 0], enu[:, 1]
    design = np.column_stack([x, y, np.ones_like(x)])
    sol, *_ = np.linalg.lstsq(design, x**2 + y**2, rcond=None)
    radius = np.sqrt(sol[2] + (sol[0] / 2) ** 2 + (sol[1] / 2) ** 2)
    assert abs(radius - v / np.radians(omega)) / (v / np.radians(omega)) < 0.005


def test_climb_and_descent_are_limited_by_climb_rate():
    a = (50.0, 10.0)
    b = geo.destination(*a, 0.0, 100e3)
    c = geo.destination(float(b[0]), float(b[1]), 0.0, 100e3)
    route = [(*a, 100.0), (float(b[0]), float(b[1]), 3100.0), (float(c[0]), float(c[1]), 1100.0)]
    m = fly([spec(route, speed=200.0, climb_rate=10.0)], 900)
    alt, vu = m["alt"][:, 0], m["vu"][:, 0]
    assert np.abs(vu).max() <= 10.0 + 1e-9
    assert np.abs(np.diff(alt)).max() <= 10.0 + 1e-9
    # Climbs 3000 m at 10 m/s: at 3100 m after 300 s, then level until the waypoint.
    assert alt[150] == 1600.0
    np.testing.assert_allclose(alt[300:480], 3100.0)
    # Past waypoint b (~500 s) it descends at 10 m/s toward 1100 m.
    assert alt[-1] == 1100.0 and vu.min() == -10.0


def test_route_reaches_its_last_waypoint_and_lands():
    a = (52.0, 21.0)
    pts = [a]
    for az in (0.0, 120.0, 240.0):
        nxt = geo.destination(*pts[-1], az, 30e3)
        pts.append((float(nxt[0]), float(nxt[1])))
    route = [(p[0], p[1], 300.0) for p in pts]
    m = fly([spec(route, cls="drone", speed=50.0, end="land")], 2500)
    live = m["live"][:, 0]
    last = np.flatnonzero(live)[-1]
    assert last < m["t"].size - 1  # it stopped
    turn_radius = 50.0 / np.radians(5.0)
    d = geo.distance(m["lat"][last, 0], m["lon"][last, 0], pts[-1][0], pts[-1][1])
    assert d < turn_radius + 2 * 300.0 / 5.0 * 50.0  # last waypoint, plus the descent glide
    assert m["alt"][last, 0] == 300.0  # the last waypoint's altitude is the ground


def test_land_without_altitude_descends_to_zero():
    a = (52.0, 21.0)
    b = geo.destination(*a, 90.0, 5e3)
    route = [(*a, 200.0), (float(b[0]), float(b[1]), None)]
    m = fly([spec(route, cls="drone", speed=40.0, climb_rate=4.0, end="land")], 300)
    live = m["live"][:, 0]
    assert m["alt"][live, 0][-1] == 0.0
    assert not live[-1]


def test_loiter_stays_within_radius_then_continues():
    a = (50.0, 10.0)
    b = geo.destination(*a, 90.0, 20e3)
    c = geo.destination(float(b[0]), float(b[1]), 90.0, 20e3)
    route = [(*a, 500.0), (float(b[0]), float(b[1]), None), (float(c[0]), float(c[1]), None)]
    radius = 3000.0
    m = fly(
        [spec(route, cls="drone", speed=40.0, turn_rate=5.0, loiter=(Loiter(1, 900.0, radius),))],
        2400,
    )
    d = geo.distance(m["lat"][:, 0], m["lon"][:, 0], float(b[0]), float(b[1]))
    arrive = int(np.argmax(d <= 40.0 / np.radians(5.0)))
    during = d[arrive : arrive + 900]
    assert during.max() <= radius * 1.03
    assert np.mean(np.abs(during[300:] - radius)) < 0.02 * radius  # on the circle
    assert not m["live"][-1, 0]  # then flew on to c and vanished


def test_hold_orbits_last_waypoint_until_the_end():
    a = (50.0, 10.0)
    b = geo.destination(*a, 90.0, 5e3)
    m = fly(
        [
            spec(
                [(*a, 500.0), (float(b[0]), float(b[1]), None)],
                cls="helicopter",
                speed=50.0,
                end="hold",
            )
        ],
        1200,
    )
    assert m["live"][:, 0].all()
    d = geo.distance(m["lat"][600:, 0], m["lon"][600:, 0], float(b[0]), float(b[1]))
    assert d.max() < 2.2 * 50.0 / np.radians(10.0) + 100.0


def test_start_times_and_pre_roll():
    a = (50.0, 10.0)
    b = geo.destination(*a, 0.0, 100e3)
    route = [(*a, 500.0), (float(b[0]), float(b[1]), None)]
    m = fly(
        [
            spec(route, id="late", start=10.5, speed=100.0),
            spec(route, id="early", start=-100.0, speed=100.0),
        ],
        60,
    )
    assert not m["live"][:11, 0].any() and m["live"][11:, 0].all()  # first step at/after 10.5
    # Already 100 s into its route at the scenario start.
    d0 = geo.distance(*a, m["lat"][0, 1], m["lon"][0, 1])
    assert abs(d0 - 100.0 * 100.0) < 1.0


def test_chunking_does_not_change_motion():
    a = (50.0, 10.0)
    b = geo.destination(*a, 30.0, 50e3)
    c = geo.destination(float(b[0]), float(b[1]), 200.0, 50e3)
    route = [(*a, 500.0), (float(b[0]), float(b[1]), 2000.0), (float(c[0]), float(c[1]), None)]
    specs = [spec(route, speed=150.0, end="hold")]
    m1, m2 = fly(specs, 700, chunk=7), fly(specs, 700, chunk=100)
    for k in ("lat", "lon", "alt", "ve", "live"):
        np.testing.assert_array_equal(m1[k], m2[k])
