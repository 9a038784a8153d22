"""The gnomonic plane, the nation raster and its bounds, border distances, track ids."""

import numpy as np
import pytest

from skywarden import geo
from skywarden.airspace import load_borders
from skywarden.assess.assess import _track_ids
from skywarden.assess.distance import BorderDistance
from skywarden.assess.plane import Paths, Plane, sphere_motion
from skywarden.assess.predict import fan_offsets
from skywarden.assess.raster import OUTSIDE, SEA, shipped_raster

B = load_borders()
R = shipped_raster()
RNG = np.random.default_rng(7)


def test_plane_round_trip_and_great_circles_are_straight():
    p = Plane(56.0, 27.5)
    lat, lon = RNG.uniform(40, 72, 1000), RNG.uniform(10, 45, 1000)
    back = p.inverse(*p.forward(lat, lon))
    assert np.allclose(back, (lat, lon), atol=1e-9)
    # points along a great circle of the sphere (slerp of unit vectors) lie on one line
    a, b = np.radians([45.0, 12.0]), np.radians([68.0, 40.0])
    u = np.array([np.cos(a[0]) * np.cos(a[1]), np.cos(a[0]) * np.sin(a[1]), np.sin(a[0])])
    v = np.array([np.cos(b[0]) * np.cos(b[1]), np.cos(b[0]) * np.sin(b[1]), np.sin(b[0])])
    w = np.arccos(u @ v)
    f = np.linspace(0.0, 1.0, 50)[:, None]
    q = (np.sin((1 - f) * w) * u + np.sin(f * w) * v) / np.sin(w)
    x, y = p.forward(np.degrees(np.arcsin(q[:, 2])), np.degrees(np.arctan2(q[:, 1], q[:, 0])))
    dx, dy = x[-1] - x[0], y[-1] - y[0]
    off = ((x - x[0]) * dy - (y - y[0]) * dx) / np.hypot(dx, dy)
    assert np.abs(off).max() < 1e-6


def test_predicted_paths_follow_the_wgs84_geodesic():
    lat = np.array([52.0, 45.0, 65.0, 41.0])
    lon = np.array([23.0, 12.0, 40.0, 44.0])
    heading = np.array([90.0, 37.0, 300.0, 181.0])
    speed = np.array([50.0, 250.0, 200.0, 40.0])
    h, rate = sphere_motion(lat, heading, speed)
    paths = Paths.build(R.plane, lat, lon, h, rate, 1800.0)
    for t in (60.0, 600.0, 1800.0):
        lam = paths.lam_at(np.full(4, t))
        la, lo = R.plane.inverse(paths.x0 + lam * paths.dx, paths.y0 + lam * paths.dy)
        gl, go, _ = geo.destination(lat, lon, heading, speed * t)
        assert (geo.distance(la, lo, gl, go) <= 1e-3 * speed * t).all()  # within 0.1 %
        assert np.allclose(paths.time_at(lam), t)


def test_a_fan_is_the_paths_of_its_members_headings():
    # the compiled fan against build() on each member's own heading, member-major rows;
    # a still and a NaN-speed track keep their place (zero and NaN lengths)
    n, k = 300, 3
    lat, lon = RNG.uniform(40, 72, n), RNG.uniform(10, 45, n)
    heading, speed = RNG.uniform(0, 360, n), RNG.uniform(2, 300, n)
    speed[:2] = 0.0, np.nan
    z, _ = fan_offsets(k)
    offsets = z[None, :] * RNG.choice([5.0, 10.0, 30.0], n)[:, None]
    fan = Paths.fan(R.plane, lat, lon, heading, offsets, speed, 1800.0)
    each = np.repeat(np.arange(n), k)
    h, rate = sphere_motion(lat[each], heading[each] + offsets.ravel(), speed[each])
    ref = Paths.build(R.plane, lat[each], lon[each], h, rate, 1800.0)
    for f in Paths.__slots__:
        got, want = getattr(fan, f), getattr(ref, f)
        assert got.shape == (n * k,)
        assert np.allclose(got, want, rtol=1e-9, atol=1e-6, equal_nan=True), f
    assert fan.lam_max[:k].tolist() == [0.0] * k and np.isnan(fan.lam_max[k:2 * k]).all()


def test_raster_agrees_with_borders_except_near_a_border():
    lat, lon = RNG.uniform(40.05, 71.95, 20000), RNG.uniform(10.05, 44.95, 20000)
    x, y = R.plane.forward(lat, lon)
    raster = R.value_at(x, y).astype(int)
    exact = B.index_at(lat, lon)
    raster[raster == OUTSIDE] = SEA  # a cell whose centre is just outside the box
    bad = np.flatnonzero(raster != exact)
    assert bad.size < 0.01 * lat.size
    # half a cell diagonal (0.7 km) plus the plane's scale and the cell's neighbours
    assert (B.distance_to_border(lat[bad], lon[bad]) < 2000.0).all()
    # the exact lookup is exact
    assert (R.nation_index(lat, lon) == exact).all()


def test_bound_is_a_safe_distance():
    # every cell within `bound` cells (chessboard) of a cell has the same value
    v, b = R.value.astype(int), R.land.bound.reshape(R.land.shape)[1:-1, 1:-1].astype(int)
    iy, ix = RNG.integers(300, R.ny - 300, 3000), RNG.integers(300, R.nx - 300, 3000)
    for y0, x0 in zip(iy.tolist(), ix.tolist(), strict=True):
        r = b[y0, x0]
        block = v[y0 - r : y0 + r + 1, x0 - r : x0 + r + 1]
        assert (block == v[y0, x0]).all()
        if r < 255:  # and the bound is tight: one cell further holds another value
            wider = v[y0 - r - 2 : y0 + r + 3, x0 - r - 2 : x0 + r + 3]
            assert (wider != v[y0, x0]).any()


def test_distance_to_a_nation_matches_borders():
    lat, lon = RNG.uniform(49.0, 56.0, 400), RNG.uniform(14.0, 30.0, 400)
    x, y = R.plane.forward(lat, lon)
    nation = np.full(lat.size, B.codes.index("POL"))
    got = BorderDistance(R).to_nation(x, y, lat, lon, nation)
    want = B.distance_to_border(lat, lon, "POL")
    assert got == pytest.approx(want, rel=0.01, abs=300.0)


def test_fan_offsets_are_equal_probability_slices():
    z, w = fan_offsets(5)
    assert z.tolist() == pytest.approx([-1.2816, -0.5244, 0.0, 0.5244, 1.2816], abs=1e-4)
    assert w.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fan_offsets(4)


def test_track_ids_are_formatted_without_a_loop():
    serial = np.array([0, 7, 10, 99, 100, 12345, 10**12, -5])
    assert _track_ids("T", serial).tolist() == [f"T{s}" for s in serial.tolist()]
    assert _track_ids("", np.array([1, 22])).tolist() == ["1", "22"]
    assert _track_ids("T", np.zeros(0, np.int64)).tolist() == []


def test_the_raster_is_cached_on_disk_and_read_back(tmp_path, monkeypatch):
    import json

    from skywarden.airspace import Borders
    from skywarden.assess.raster import NationRaster

    doc = {"type": "FeatureCollection",
           "metadata": {"clip_box": {"lat": [49.0, 53.0], "lon": [17.0, 23.0]}},
           "features": [{"type": "Feature", "properties": {"iso_a3": "AAA", "name": "A"},
                         "geometry": {"type": "Polygon", "coordinates": [
                             [[18, 50], [20, 50], [20, 52], [18, 52], [18, 50]]]}}]}
    borders = Borders.from_geojson(json.dumps(doc))
    monkeypatch.setenv("SKYWARDEN_CACHE_DIR", str(tmp_path))
    built = NationRaster.cached(borders)
    assert len(list(tmp_path.glob("nation-raster-*.npz"))) == 1
    read = NationRaster.cached(borders)
    assert read is not built
    assert (read.land.value == built.land.value).all()
    assert (read.region.clearance.table == built.region.clearance.table).all()
    x, y = read.plane.forward(np.array([51.0, 51.0]), np.array([19.0, 21.5]))
    assert read.nation_index(np.array([51.0, 51.0]), np.array([19.0, 21.5]), x, y).tolist() == [0, -1]
    monkeypatch.setenv("SKYWARDEN_CACHE_DIR", "off")
    assert NationRaster.cached(borders) is not None
