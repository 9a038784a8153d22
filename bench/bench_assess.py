"""Benchmark: assessment of every track against all nations and zones, per cycle.

    python bench/bench_assess.py [--tracks 30000] [--zones 1000] [--cycles 10] [--json]

Floor (issue): 30,000 tracks against all European borders and 1,000 zones in at most
50 ms per update cycle. The tracks are a tracker batch (``TrackBatch``) spread uniformly
over the borders' box: a third drones (30-60 m/s, 50-500 m, non-cooperative), the rest
aircraft (100-250 m/s, 1-12 km, 90 % cooperative), headings uniform. The zones are made
with the zone module: nine in ten geodesic circles (radius log-uniform 1-30 km), one in ten
irregular octagons (5-40 km across); 60 % for drones only, 25 % for all traffic, 15 % for
non-cooperative traffic; types mixed. Each cycle moves every track 4 s along its velocity.
The one-off build (nation raster, zone parts, compiled kernels) is timed apart; a cycle is the median of
``--cycles`` calls of ``Assessor.assess`` after one warm-up call, with the assessor's
default threads (one per core, at most 4; each assesses a share of the tracks).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

FLOOR_MS = 50.0
CYCLE_S = 4.0


def make_zones(n: int, seed: int = 3) -> list:
    from skywarden.airspace import geometry
    from skywarden.airspace.zones import Limit, Zone
    from skywarden.geo import destination

    rng = np.random.default_rng(seed)
    types = ("prohibited", "restricted", "danger", "critical_site", "airport")
    zones = []
    for i in range(n):
        lat, lon = float(rng.uniform(41.0, 71.0)), float(rng.uniform(11.0, 44.0))
        applies = str(rng.choice(["drones", "all", "noncooperative"], p=[0.6, 0.25, 0.15]))
        ceiling = Limit(float(rng.choice([120.0, 1000.0, 3000.0, 20000.0])))
        if i % 10 == 9:
            size = rng.uniform(5e3, 40e3)
            az = np.arange(8) * 45.0 + rng.uniform(-10, 10, 8)
            la, lo, _ = destination(lat, lon, az, 0.5 * size * rng.uniform(0.5, 1.0, 8))
            geom = geometry.polygon([list(zip(la.tolist(), lo.tolist(), strict=True))])
            circle = None
        else:
            radius = float(np.exp(rng.uniform(np.log(1e3), np.log(30e3))))
            geom, circle = geometry.circle(lat, lon, radius), (lat, lon, radius)
        zones.append(Zone(id=f"BZ{i:04d}", name=f"bench zone {i}", type=str(rng.choice(types)),
                          geometry=geom, circle=circle, applies=applies, ceiling=ceiling))
    return zones


def make_tracks(n: int, now: float, seed: int = 1):
    from skywarden.records import TARGET_CLASSES
    from skywarden.track.classify import IDENTITIES
    from skywarden.track.output import TrackBatch

    rng = np.random.default_rng(seed)
    drone = rng.random(n) < 1.0 / 3.0
    speed = np.where(drone, rng.uniform(30, 60, n), rng.uniform(100, 250, n))
    heading = np.radians(rng.uniform(0, 360, n))
    vel = np.column_stack([speed * np.sin(heading), speed * np.cos(heading),
                           rng.normal(0.0, 1.0, n)])
    coop = ~drone & (rng.random(n) < 0.9)
    ids = np.empty(n, dtype=object)
    ids[:] = [("icao:4CA2D1",) if c else () for c in coop.tolist()]
    cls = np.where(drone, TARGET_CLASSES.index("drone"), TARGET_CLASSES.index("aircraft"))
    ident = rng.choice([IDENTITIES.index(x) for x in ("unknown", "neutral", "hostile")], n)
    return TrackBatch(
        time=np.full(n, now), serial=np.arange(n, dtype=np.int64) + 1,
        lat=rng.uniform(40.2, 71.8, n), lon=rng.uniform(10.2, 44.8, n),
        alt=np.where(drone, rng.uniform(50, 500, n), rng.uniform(1000, 12000, n)),
        vel=vel, sigma_h=rng.uniform(30, 300, n), sigma_v=np.full(n, 50.0),
        status=np.full(n, 2, np.int8), cls=cls.astype(np.int8), cls_conf=np.full(n, 0.9),
        identity=ident.astype(np.int8), ids=ids,
        sensor_ptr=np.zeros(n + 1, np.int64), sensor_flat=np.zeros(0, np.int32),
        spoof=np.zeros(n, bool), prefix="T",
    )


def advance(batch, dt: float) -> None:
    """Move every track dt seconds along its velocity (small-step flat earth)."""
    batch.time += dt
    batch.lat += batch.vel[:, 1] * dt / 111_195.0
    batch.lon += batch.vel[:, 0] * dt / (111_195.0 * np.cos(np.radians(batch.lat)))


def measure(n_tracks: int, n_zones: int, cycles: int) -> dict:
    from skywarden.assess import Assessor

    now = 1_757_540_000.0
    zones = make_zones(n_zones)
    batch = make_tracks(n_tracks, now)
    began = time.perf_counter()
    assessor = Assessor(zones=zones)
    assessor.prepare()
    build_s = time.perf_counter() - began
    assessor.assess(batch, now)  # warm-up
    load = os.getloadavg()[0]  # other work on the machine slows the cycle's threads
    walls, cpus, stages, rows = [], [], [], []
    for _ in range(cycles):
        advance(batch, CYCLE_S)
        now += CYCLE_S
        t0, c0 = time.perf_counter(), time.process_time()
        out = assessor.assess(batch, now)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        stages.append(assessor.stats.seconds)
        rows.append(len(out))
    kinds = {
        "nation inside": int(((out.target_kind == "nation") & out.inside).sum()),
        "nation predicted": int(((out.target_kind == "nation") & ~out.inside).sum()),
        "zone inside": int(((out.target_kind == "zone") & out.inside).sum()),
        "zone predicted": int(((out.target_kind == "zone") & ~out.inside).sum()),
    }
    median = statistics.median(walls)
    return {
        "tracks": n_tracks,
        "zones": n_zones,
        "cycles": cycles,
        "build_s": round(build_s, 2),
        "cycle_ms_median": round(median * 1e3, 1),
        "cycle_ms_min": round(min(walls) * 1e3, 1),
        "cycle_ms_max": round(max(walls) * 1e3, 1),
        "cpu_ms_median": round(statistics.median(cpus) * 1e3, 1),
        "load_average": round(load, 2),
        "stages_ms": {k: round(statistics.median(s[k] for s in stages) * 1e3, 1)
                      for k in stages[0]},
        "rows": int(statistics.median(rows)),
        "rows_by_kind": kinds,
        "predicted_tracks": assessor.stats.predicted,
        "cpus": os.cpu_count(),
        "floor_ms": FLOOR_MS,
        "passes": median * 1e3 <= FLOOR_MS,
    }


def run(quick: bool = False) -> str:
    """Markdown section for docs/PERFORMANCE.md (bench/run_all.py)."""
    cases = [(3000, 100, 3)] if quick else [(30000, 1000, 10), (10000, 1000, 10)]
    lines = []
    for n_tracks, n_zones, cycles in cases:
        r = measure(n_tracks, n_zones, cycles)
        s = r["stages_ms"]
        lines.append(
            f"| {n_tracks:,} | {n_zones:,} | **{r['cycle_ms_median']:.0f}** "
            f"({r['cycle_ms_min']:.0f}-{r['cycle_ms_max']:.0f}, n={cycles}) | "
            f"{r['cpu_ms_median']:.0f} | {r['load_average']:.1f} | "
            f"{s['inside']:.0f} / {s['paths']:.0f} / {s['nations']:.0f} / "
            f"{s['distances']:.0f} / {s['zones']:.0f} / {s['rows']:.0f} | {r['rows']:,} | "
            f"{r['build_s']:.1f} |")
    return (
        "## Assessment\n\n"
        f"Floor: 30,000 tracks against all European borders and 1,000 zones in at most "
        f"{FLOOR_MS:g} ms per update cycle. `Assessor.assess` on a tracker batch: tracks "
        "spread over the borders' box (a third drones at 30-60 m/s, the rest aircraft at "
        "100-250 m/s, random headings, 30-minute horizon, fan of 3 headings), synthetic "
        "zones (circles and polygons, 60 % for drones only), the assessor's default threads "
        f"(one per core, at most 4: {min(os.cpu_count() or 1, 4)} here; each assesses a "
        "share of the tracks, and the paths, nations, distances and zones stages are summed "
        "over them). The cycle is the "
        "median of the runs after a warm-up, the stages are the medians of each; the "
        "one-off build (nation raster from the disk cache or built, zone parts and index, "
        "the compiled kernels loaded from their cache or compiled) "
        "is timed apart. CPU ms is the process's CPU time per cycle (all threads: the work "
        "itself, whatever else runs); load is the machine's 1-minute load average before "
        "the runs (on 2 cores, above 1 other work competes with the assessor's threads). "
        "Rerun: `python bench/run_all.py --only bench_assess` or "
        "`python bench/bench_assess.py`.\n\n"
        "| tracks | zones | cycle ms (min-max, runs) | CPU ms | load | inside / paths / "
        "nations / distances / zones / rows ms | rows | build s |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(lines)
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tracks", type=int, default=30000)
    p.add_argument("--zones", type=int, default=1000)
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    r = measure(args.tracks, args.zones, args.cycles)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"assess {r['tracks']:,} tracks x {r['zones']:,} zones, {r['cycles']} cycles")
        print(f"  build         {r['build_s']:.2f} s (raster, zone parts)")
        print(f"  cycle         {r['cycle_ms_median']:.1f} ms median "
              f"({r['cycle_ms_min']:.1f}-{r['cycle_ms_max']:.1f}); floor {FLOOR_MS:g} ms: "
              f"{'PASS' if r['passes'] else 'FAIL'}")
        print(f"  CPU           {r['cpu_ms_median']:.1f} ms per cycle (all threads); "
              f"load average {r['load_average']:.2f} on {r['cpus']} cores")
        print("  stages ms     " + ", ".join(f"{k} {v}" for k, v in r["stages_ms"].items()))
        print(f"  rows          {r['rows']:,} " + str(r["rows_by_kind"]))
    return 0 if r["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
