"""The shortcuts of the assessment change no row: each is checked, on random tracks and
zones, against the plain computation it stands for (docs/ASSESSMENT.md, "Performance").

Tolerance: the same (track, target) rows with the same ``inside``; ``eta_s`` and
``distance_m`` equal to 1e-9 relative; ``probability`` to 1e-9 absolute (merging the
heading intervals of a cut zone sums in float, and rounds by about 1e-11 differently
when other pairs are in the batch).
"""

import numpy as np
import pytest

from skywarden import geo
from skywarden.airspace import geometry
from skywarden.airspace.zones import Limit, Zone
from skywarden.assess import Assessor, TrackColumns, encounter, zoneparts
from skywarden.assess.assess import _has_repeats, _wrap_lon
from skywarden.assess.cone import _BUCKETS as BUCKETS
from skywarden.assess.cone import SECTORS, ConeIndex
from test_assess_nations import NOW

# Poland, the Baltic states, Belarus and the sea: borders, coasts and zones close together
BOX = (50.0, 57.0, 17.0, 28.0)  # south, north, west, east


def random_zones(rng: np.random.Generator, n: int) -> list[Zone]:
    """Circles (1-30 km), octagons (cut into a few triangles) and strips along a zig-zag
    (cut into dozens: listed triangle by triangle), for drones, all or non-cooperative."""
    s, n_, w, e = BOX
    zones = []
    for i in range(n):
        lat, lon = float(rng.uniform(s, n_)), float(rng.uniform(w, e))
        applies = str(rng.choice(["drones", "all", "noncooperative"]))
        ceiling = Limit(float(rng.choice([120.0, 3000.0, 20000.0])))
        kind = i % 10
        if kind < 7:
            r = float(np.exp(rng.uniform(np.log(1e3), np.log(30e3))))
            geom, circle = geometry.circle(lat, lon, r), (lat, lon, r)
        elif kind < 9:
            az = np.arange(8) * 45.0 + rng.uniform(-10, 10, 8)
            la, lo, _ = geo.destination(lat, lon, az, rng.uniform(3e3, 20e3, 8))
            geom = geometry.polygon([list(zip(la.tolist(), lo.tolist(), strict=True))])
            circle = None
        else:
            k = 24
            lo = lon + np.linspace(0.0, 3.0, k)
            la = lat + 0.05 * (np.arange(k) % 2)
            ring = list(zip(la.tolist(), lo.tolist(), strict=True))
            ring += list(zip((la[::-1] + 0.08).tolist(), lo[::-1].tolist(), strict=True))
            geom, circle = geometry.polygon([ring]), None
        zones.append(Zone(id=f"Z{i:03d}", name=f"zone {i}", type="restricted",
                          geometry=geom, circle=circle, applies=applies, ceiling=ceiling))
    return zones


def random_tracks(rng: np.random.Generator, n: int) -> TrackColumns:
    s, n_, w, e = BOX
    drone = rng.random(n) < 0.5
    speed = np.where(drone, rng.uniform(20, 60, n), rng.uniform(100, 250, n))
    heading = np.radians(rng.uniform(0, 360, n))
    return TrackColumns(
        track_id=np.array([f"R{i}" for i in range(n)]),
        time=np.full(n, NOW),
        lat=rng.uniform(s, n_, n), lon=rng.uniform(w, e, n),
        alt=np.where(drone, rng.uniform(50, 500, n), rng.uniform(1000, 12000, n)),
        vel=np.column_stack([speed * np.sin(heading), speed * np.cos(heading),
                             rng.normal(0.0, 1.0, n)]),
        sigma_h=np.full(n, 100.0),
        cls=np.where(drone, "drone", "aircraft"),
        identity=np.full(n, "unknown"),
        cooperative=~drone & (rng.random(n) < 0.8),
    )


def table(out) -> dict[tuple[str, str], tuple[bool, float, float, float]]:
    rows = zip(out.track_id.tolist(), out.target_id.tolist(), out.inside.tolist(),
               out.eta_s.tolist(), out.probability.tolist(), out.distance_m.tolist(),
               strict=True)
    got = {(t, g): (i, eta, p, d) for t, g, i, eta, p, d in rows}
    assert len(got) == len(out)  # one row per (track, target)
    return got


def assert_same_rows(fast, plain) -> None:
    a, b = table(fast), table(plain)
    assert a.keys() == b.keys()
    for key, (inside, eta, p, d) in a.items():
        inside_b, eta_b, p_b, d_b = b[key]
        assert inside == inside_b, key
        assert eta == pytest.approx(eta_b, rel=1e-9, nan_ok=True), key
        assert d == pytest.approx(d_b, rel=1e-9), key
        assert p == pytest.approx(p_b, abs=1e-9), key


def test_zone_shortcuts_change_no_row(monkeypatch):
    """Zone discs (the cone index lists a small cut zone once; a pair whose disc holds too
    little of the headings is dropped before the exact geometry) against every triangle
    listed by itself and every pair through the exact geometry."""
    rng = np.random.default_rng(5)
    zones = random_zones(rng, 150)
    tracks = random_tracks(rng, 4000)
    fast = Assessor(zones=zones, threads=1).assess(tracks, NOW)
    monkeypatch.setattr(zoneparts, "SMALL_CUT", 0)
    monkeypatch.setattr(encounter, "DISC_TEST", False)
    plain = Assessor(zones=zones, threads=1).assess(tracks, NOW)
    zone_rows = (fast.target_kind == "zone") & ~fast.inside
    assert zone_rows.sum() > 200  # the comparison is not empty
    assert_same_rows(fast, plain)


def test_a_zone_around_a_track_heading_across_north_east_gets_one_row():
    """The cone index lists a zone around the track's cell in every sector; a cone read
    across the sectors' seam (plane angle 0: about east) once met it twice."""
    lat, lon = 52.5, 21.5
    zone = Zone(id="wide", name="wide", type="restricted", applies="all",
                geometry=geometry.circle(lat + 0.3, lon + 0.3, 30e3),
                circle=(lat + 0.3, lon + 0.3, 30e3))
    t = random_tracks(np.random.default_rng(1), 1)
    t.lat[:], t.lon[:] = lat, lon
    t.vel[:] = [50.0, 0.0, 0.0]  # due east
    t.cls[:] = "drone"
    out = Assessor(zones=[zone], threads=1).assess(t, NOW)
    assert (out.target_id == "wide").sum() == 1


def test_threads_change_no_row():
    rng = np.random.default_rng(6)
    zones = random_zones(rng, 60)
    tracks = random_tracks(rng, 3000)
    one = Assessor(zones=zones, threads=1).assess(tracks, NOW)
    two = Assessor(zones=zones, threads=2).assess(tracks, NOW)
    assert_same_rows(one, two)


def plain_query(index: ConeIndex, x0, y0, heading, half_angle, reach):
    """ConeIndex.query written out track by track, sector by sector: every part listed
    within reach, once, where first met."""
    width = 2.0 * np.pi / SECTORS
    pairs = []
    for t in range(x0.size):
        seen = set()
        ix = int(np.clip(np.floor((x0[t] - index.xmin) / index.cell), 0, index.nx - 1))
        iy = int(np.clip(np.floor((y0[t] - index.ymin) / index.cell), 0, index.ny - 1))
        half = min(half_angle[t], np.pi)
        s_lo = int(np.floor((heading[t] - half) / width))
        s_hi = int(np.floor((heading[t] + half) / width))
        b = min(int(np.searchsorted(BUCKETS, min(reach[t], index.max_reach))), BUCKETS.size - 1)
        for j in range(min(s_hi - s_lo + 1, SECTORS)):
            sector = (s_lo + j) % SECTORS
            key = (iy * index.nx + ix) * SECTORS + sector
            for pos in range(index.offsets[key], index.offsets[key] + index.counts[key, b]):
                part = int(index.part[pos])
                if part not in seen:
                    seen.add(part)
                    pairs.append((t, part))
    return pairs


def test_cone_query_reads_what_a_plain_reading_does():
    rng = np.random.default_rng(7)
    extent = (-600e3, -600e3, 600e3, 600e3)
    n = 300
    index = ConeIndex(rng.uniform(-600e3, 600e3, n), rng.uniform(-600e3, 600e3, n),
                      rng.uniform(1e3, 30e3, n), extent)
    m = 400
    x0, y0 = rng.uniform(-650e3, 650e3, m), rng.uniform(-650e3, 650e3, m)
    heading = rng.uniform(-np.pi, np.pi, m)
    half = rng.choice([0.05, 0.3, 1.0, 4.0], m)
    heading[:50] = 0.0  # cones across the sectors' seam (31, then 0)
    reach = rng.uniform(10e3, 600e3, m)
    t, p = index.query(x0, y0, heading, half, reach)
    assert list(zip(t.tolist(), p.tolist(), strict=True)) == plain_query(
        index, x0, y0, heading, half, reach)
    assert t.size > 1000


@pytest.mark.parametrize("key", [[], [5], [1, 2, 3], [3, 2, 1], [1, 1], [4, 9, 4], [2, 7, 9, 7]])
def test_has_repeats_agrees_with_unique(key):
    k = np.array(key, dtype=np.int64)
    assert _has_repeats(k) == (np.unique(k).size < k.size)


@pytest.mark.parametrize("lon", [[-180.0, -0.0, 0.0, 179.99999999999997, 1e-300, 33.3],
                                 [181.0, 359.5, -181.0, 720.0, 12.0]])
def test_wrap_lon_is_the_modulo_to_the_bit(lon):
    x = np.array(lon)
    want = (x + 180.0) % 360.0 - 180.0
    got = _wrap_lon(x)
    assert got.tobytes() == want.tobytes()
