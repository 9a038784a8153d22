"""Geodesy: round trips to millimetres, agreement with PROJ, hand-checked geometry."""

import numpy as np
import pytest
from pyproj import Transformer

from skywarden import geo

RNG = np.random.default_rng(7)
LAT = RNG.uniform(-89.9, 89.9, 20000)
LON = RNG.uniform(-180, 180, 20000)
ALT = RNG.uniform(-400, 40000, 20000)


def test_geodetic_to_ecef_matches_proj():
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    expected = np.stack(to_ecef.transform(LON, LAT, ALT), axis=-1)
    assert np.abs(geo.geodetic_to_ecef(LAT, LON, ALT) - expected).max() < 1e-3


def test_ecef_round_trip_to_a_millimetre():
    lat, lon, alt = geo.ecef_to_geodetic(geo.geodetic_to_ecef(LAT, LON, ALT))
    assert np.abs(alt - ALT).max() < 1e-3
    # one degree of latitude is about 111 km: 1e-8 deg is about 1 mm
    assert np.abs(lat - LAT).max() < 1e-8
    assert np.abs(geo.wrap_degrees(lon - LON)).max() < 1e-8


def test_geodetic_on_and_near_the_polar_axis():
    # the closed form's root may round below zero on the axis: held at zero, exact there
    lat = np.array([90.0, -90.0, 90.0, -90.0, 89.9999999, -89.9999999])
    lon = np.array([0.0, -180.0, 45.0, 10.0, 21.0, 21.0])
    alt = np.array([0.0, 300.0, 10000.0, -200.0, 500.0, 500.0])
    got_lat, _, got_alt = geo.ecef_to_geodetic(geo.geodetic_to_ecef(lat, lon, alt))
    assert np.isfinite(got_lat).all() and np.isfinite(got_alt).all()
    assert np.abs(got_lat - lat).max() < 1e-8
    assert np.abs(got_alt - alt).max() < 1e-3
    # the axis itself, exactly
    lat0, _, alt0 = geo.ecef_to_geodetic(np.array([[0.0, 0.0, geo.B + 250.0],
                                                   [0.0, 0.0, -geo.B]]))
    assert lat0.tolist() == [90.0, -90.0]
    assert np.abs(alt0 - [250.0, 0.0]).max() < 1e-6


def test_enu_round_trip_and_known_offsets():
    origin = (52.0, 21.0, 100.0)
    enu = geo.geodetic_to_enu(LAT[:500], LON[:500], ALT[:500], *origin)
    lat, lon, alt = geo.enu_to_geodetic(enu, *origin)
    assert np.abs(lat - LAT[:500]).max() < 1e-8
    assert np.abs(alt - ALT[:500]).max() < 1e-3
    # a point straight above the origin is pure "up"
    up = geo.geodetic_to_enu(52.0, 21.0, 1100.0, *origin)
    np.testing.assert_allclose(up, [0.0, 0.0, 1000.0], atol=1e-6)
    # a point 0.01 deg north lies north by about 1113 m (meridian arc at 52N)
    north = geo.geodetic_to_enu(52.01, 21.0, 100.0, *origin)
    assert north[1] == pytest.approx(1113.0, abs=2.0)
    assert abs(north[0]) < 1e-6


def test_aer_round_trip_and_convention():
    az, el, rng = geo.enu_to_aer([[1000.0, 0.0, 0.0], [0.0, -1000.0, 1000.0]])
    np.testing.assert_allclose(az, [90.0, 180.0])
    np.testing.assert_allclose(el, [0.0, 45.0])
    np.testing.assert_allclose(rng, [1000.0, np.sqrt(2) * 1000.0])
    enu = RNG.normal(0, 50000, (1000, 3))
    np.testing.assert_allclose(geo.aer_to_enu(*geo.enu_to_aer(enu)), enu, atol=1e-6)


def test_velocity_rotation_round_trip():
    v = RNG.normal(0, 200, (100, 3))
    back = geo.ecef_vector_to_enu(geo.enu_vector_to_ecef(v, LAT[:100], LON[:100]), LAT[:100], LON[:100])
    np.testing.assert_allclose(back, v, atol=1e-9)


def test_geodesic_distance_bearing_destination():
    # one degree along the equator is a * pi / 180 on the ellipsoid
    assert geo.distance(0.0, 10.0, 0.0, 11.0) == pytest.approx(geo.A * np.pi / 180, abs=1e-6)
    # one degree of latitude at 45N: the meridian arc, about 111,132 m
    assert geo.distance(44.5, 20.0, 45.5, 20.0) == pytest.approx(111_132, abs=5)
    # due east along the equator
    assert geo.bearing(0.0, 10.0, 0.0, 11.0) == pytest.approx(90.0)
    lat, lon, heading = geo.destination(0.0, 10.0, 90.0, 111_319.49)
    assert lat == pytest.approx(0.0, abs=1e-9)
    assert lon == pytest.approx(11.0, abs=1e-5)
    assert heading == pytest.approx(90.0)


def test_great_circle_points_lie_on_the_geodesic():
    lats, lons = geo.great_circle(52.0, 14.0, 52.0, 24.0, 11)
    assert lats[0] == 52.0 and lons[-1] == 24.0
    # a geodesic between two points on a parallel bulges poleward; on a sphere its vertex
    # is at atan(tan 52 / cos 5) = 52.106 deg, the ellipsoid changes that by < 0.01 deg
    assert lats[5] == pytest.approx(np.degrees(np.arctan(np.tan(np.radians(52)) / np.cos(np.radians(5)))), abs=0.01)
    steps = geo.distance(lats[:-1], lons[:-1], lats[1:], lons[1:])
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-6)


def test_radar_horizon():
    # 4/3 earth: a 20 m mast sees the sea surface out to about 18.4 km,
    # and a target at 100 m out to about 18.4 + 41.2 km.
    assert geo.radar_horizon(20.0, 0.0) == pytest.approx(18_430, rel=0.01)
    assert geo.radar_horizon(20.0, 100.0) == pytest.approx(59_650, rel=0.01)
    assert geo.radar_horizon(-5.0, -5.0) == 0.0


def test_wrap_degrees():
    np.testing.assert_allclose(geo.wrap_degrees([350.0, -190.0, 180.0, -180.0]),
                               [-10.0, 170.0, 180.0, 180.0])


def test_row_norm_and_cross_rows_equal_numpys_to_the_bit():
    """The tracker's track digests rely on these being numpy's own sums, not close ones."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=(500, 3)) * 10.0 ** rng.uniform(-3, 7, (500, 1))
    w = rng.normal(size=(500, 3)) * 1e6
    assert np.array_equal(geo.row_norm(v), np.linalg.norm(v, axis=1))
    assert np.array_equal(geo.row_norm(v, keepdims=True),
                          np.linalg.norm(v, axis=1, keepdims=True))
    assert np.array_equal(geo.cross_rows(v, w), np.cross(v, w))
    z = np.array([0.0, 0.0, 1.0])
    assert np.array_equal(geo.cross_rows(z, w), np.cross(z, w))
    assert geo.row_norm(np.zeros((0, 3))).shape == (0,)
