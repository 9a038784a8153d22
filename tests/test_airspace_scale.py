"""30,000 points against 1,000 zones in one call: it completes, it is right, its time is shown.

The time is printed (``pytest -s tests/test_airspace_scale.py``), not asserted: machines
differ. The zones are a European-like mix over the eastern flank: 600 airport-sized
circles, 390 polygons up to a few hundred km across, the shipped border strips, several
with daily windows.
"""

import time

import numpy as np
import shapely

from skywarden.airspace import DailyWindow, Zone, ZoneSet, load_shipped_zones, parse_time
from skywarden.airspace import geometry as geom
from skywarden.airspace.zones import Limit, parse_limit
from skywarden.records import TARGET_CLASSES

N_POINTS = 30_000
N_ZONES = 1_000
T = parse_time("2025-09-10T22:00Z")


def make_zones(rng):
    zones = list(load_shipped_zones())
    kinds = ["all", "drones", "noncooperative", "vfr"]
    while len(zones) < N_ZONES:
        i = len(zones)
        lat, lon = rng.uniform(44.0, 60.0), rng.uniform(14.0, 32.0)
        ceiling = Limit(float(rng.choice([500, 1500, 3000, 6000, 20000])), "m", "AMSL")
        daily = (DailyWindow(start=float(rng.integers(0, 24)) * 3600,
                             end=float(rng.integers(0, 24)) * 3600),) if i % 5 == 0 else ()
        if i % 5 < 3:
            outline = geom.circle(lat, lon, float(rng.uniform(1_000, 15_000)))
        else:
            n = int(rng.integers(6, 40))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = rng.uniform(0.05, 1.5) * rng.uniform(0.5, 1.0, n)
            ring = np.column_stack([lon + r * np.cos(ang) / np.cos(np.radians(lat)),
                                    lat + r * np.sin(ang)])
            outline = shapely.Polygon(ring)
            if not outline.is_valid:
                continue
        zones.append(Zone(f"Z{i:04d}", f"zone {i}", "restricted", outline,
                          floor=parse_limit("SFC"), ceiling=ceiling,
                          applies=kinds[i % 4], start=T - 86400, end=T + 86400, daily=daily))
    return zones


def test_30000_points_against_1000_zones():
    rng = np.random.default_rng(2025)
    zones = make_zones(rng)
    t0 = time.perf_counter()
    zs = ZoneSet(zones)
    build = time.perf_counter() - t0
    lat = rng.uniform(43.0, 61.0, N_POINTS)
    lon = rng.uniform(13.0, 33.0, N_POINTS)
    alt = rng.uniform(0.0, 12_000.0, N_POINTS)
    cls = rng.integers(0, len(TARGET_CLASSES), N_POINTS)
    coop = rng.random(N_POINTS) < 0.5
    per_point_t = T + rng.uniform(-3600, 3600, N_POINTS)

    timings = {}
    for label, t in (("one time", T), ("a time per point", per_point_t)):
        best = np.inf
        for _ in range(5):
            t1 = time.perf_counter()
            hits = zs.contains(lat, lon, alt=alt, t=t, cls=cls, cooperative=coop)
            best = min(best, time.perf_counter() - t1)
        timings[label] = (best, hits.point.size)
    plain = min(_timed(lambda: zs.contains(lat, lon)) for _ in range(5))
    print(f"\n{N_POINTS:,} points x {len(zs):,} zones: build {build * 1e3:.0f} ms; contains "
          f"(2-D only) {plain * 1e3:.1f} ms; " + "; ".join(
              f"with altitude, class, cooperative flag and {k} {v[0] * 1e3:.1f} ms "
              f"({v[1]:,} hits)" for k, v in timings.items()))

    # right, not only fast: a plain check of every zone for a sample of points
    hits = zs.contains(lat, lon, alt=alt, t=T, cls=cls, cooperative=coop)
    got = set(zip(hits.point.tolist(), hits.zone.tolist(), strict=True))
    sample = np.arange(0, N_POINTS, 10)
    active = zs.active(T)
    want = set()
    for z, zone in enumerate(zs):
        inside = shapely.intersects_xy(zone.geometry, lon[sample], lat[sample])
        vertical = (zone.floor_m <= alt[sample]) & (alt[sample] <= zone.ceiling_m)
        binds = (zs.class_mask[z] >> cls[sample]) & 1 == 1
        if zs.noncooperative_only[z]:
            binds &= ~coop[sample]
        for p in sample[inside & vertical & binds & active[z]]:
            want.add((int(p), z))
    assert {h for h in got if h[0] % 10 == 0} == want
    assert len(want) > 100


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
