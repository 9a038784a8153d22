"""The generated ``scale`` scenario: many targets on random routes under a radar grid.

A scenario file with a ``[scale]`` table (shipped: ``scenarios/scale.toml``) is built from
parameters instead of listed targets:

- ``sensors`` radars on a grid over ``area`` (rows and columns follow the area's aspect;
  a short last row is spread across the width), each with ``max_range`` =
  ``radar_coverage`` x the grid cell's diagonal, so neighbouring coverages overlap;
  plus ``adsb_receivers`` ADS-B receivers on their own grid;
- ``targets`` targets, all flying from ``start`` (default 0: all airborne together), of
  classes drawn from ``class_mix``, each on ``legs`` great-circle legs of ``leg_length``
  metres with heading changes up to 90 degrees (turned back toward the centre when a leg
  would leave the area), altitude changes at some waypoints, a ``loiter_fraction`` of them
  orbiting their first waypoint; they hold at the last waypoint, so they stay live;
- cooperative ids: ``coop_fraction`` per class (icao for aircraft and helicopters, rid
  for drones), ``hostile_fraction`` marked hostile.

Sensors come from the parameters alone (deterministic); targets from the run's seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import geo
from ..records import TARGET_CLASSES
from .model import ClassParams, Loiter, ScaleParams, TargetSpec
from .schema import Table

PARAM_KEYS = (
    "targets",
    "sensors",
    "adsb_receivers",
    "area",
    "owner",
    "class_mix",
    "coop_fraction",
    "hostile_fraction",
    "loiter_fraction",
    "legs",
    "leg_length",
    "speed",
    "alt",
    "start",
    "radar",
    "radar_coverage",
    "adsb",
)
RADAR_KEYS = (
    "alt",
    "scan_period",
    "sigma_range",
    "sigma_azimuth",
    "sigma_elevation",
    "pd",
    "clutter_per_scan",
)
ADSB_KEYS = ("alt", "max_range", "sigma_h", "sigma_v", "pd")
# Probability that a waypoint changes the cruise altitude.
ALT_CHANGE = 0.3


def _class_table(t: Table, key: str, default: Any, lo: float, hi: float, pair: bool) -> Any:
    if not t.has(key):
        return default
    sub = Table(t.raw(key), f"{t.where}: {key}", TARGET_CLASSES)
    if pair:
        return {c: sub.interval(c, lo=lo, hi=hi) for c in sub.data}
    return {c: sub.num(c, lo=lo, hi=hi) for c in sub.data}


def parse_params(
    data: object, where: str, targets: int | None = None, sensors: int | None = None
) -> ScaleParams:
    """Check a ``[scale]`` table; ``targets``/``sensors`` override its counts."""
    t = Table(data, where, PARAM_KEYS)
    area = t.raw("area", [47.0, 5.0, 55.0, 24.0])
    if not (isinstance(area, list) and len(area) == 4):
        raise t.error("area", "expected [south, west, north, east] in degrees")
    s, w, n, e = (t.check_num("area", v, -180.0, 180.0) for v in area)
    if not (-90 <= s < n <= 90 and w < e):
        raise t.error("area", "expected south < north and west < east")
    mix = _class_table(t, "class_mix", {"aircraft": 1.0}, 0.0, 1e9, pair=False)
    if sum(mix.values()) <= 0:
        raise t.error("class_mix", "weights must not all be 0")
    radar = Table(t.raw("radar", {}), f"{where}: radar", RADAR_KEYS)
    adsb = Table(t.raw("adsb", {}), f"{where}: adsb", ADSB_KEYS)
    legs = t.interval("legs", (2.0, 6.0), 1.0, 100.0)
    params = ScaleParams(
        targets=int(targets) if targets is not None else t.integer("targets", 1000, hi=10**6),
        sensors=int(sensors) if sensors is not None else t.integer("sensors", 12, hi=10**4),
        adsb_receivers=t.integer("adsb_receivers", 4, hi=10**4),
        area=(s, w, n, e),
        owner=t.text("owner", "DEU"),
        class_mix=mix,
        coop_fraction=_class_table(t, "coop_fraction", {}, 0.0, 1.0, pair=False),
        hostile_fraction=t.num("hostile_fraction", 0.0, 0.0, 1.0),
        loiter_fraction=t.num("loiter_fraction", 0.0, 0.0, 1.0),
        legs=(int(legs[0]), int(legs[1])),
        leg_length=t.interval("leg_length", (30000.0, 200000.0), 100.0, 1.0e7),
        speed=_class_table(t, "speed", {}, 0.1, 5000.0, pair=True),
        alt=_class_table(t, "alt", {}, -500.0, 1.0e5, pair=True),
        start=t.interval("start", (0.0, 0.0)),
        radar={k: radar.num(k, positive=k != "clutter_per_scan") for k in radar.data},
        radar_coverage=t.num("radar_coverage", 0.7, positive=True, hi=10.0),
        adsb={k: adsb.num(k, positive=True) for k in adsb.data},
    )
    if params.targets < 0 or params.sensors < 0:
        raise t.error("targets", "counts must be >= 0")
    return params


def _grid(count: int, area: tuple[float, float, float, float]):
    """Grid cell centres (lat, lon) for ``count`` sites, and the cell diagonal (m)."""
    s, w, n, e = area
    mid = 0.5 * (s + n)
    height = float(geo.distance(s, w, n, w))
    width = float(geo.distance(mid, w, mid, e))
    cols = max(1, round(math.sqrt(count * width / height)))
    rows = math.ceil(count / cols)
    sites = []
    for r in range(rows):
        in_row = min(cols, count - r * cols)
        lat = s + (r + 0.5) * (n - s) / rows
        for c in range(in_row):
            sites.append((lat, w + (c + 0.5) * (e - w) / in_row))
    return sites, math.hypot(height / rows, width / cols)


def sensor_tables(p: ScaleParams) -> list[dict[str, Any]]:
    """Registry tables of the generated radars and ADS-B receivers."""
    tables: list[dict[str, Any]] = []
    if p.sensors:
        sites, diagonal = _grid(p.sensors, p.area)
        radar = {
            "alt": 300.0,
            "scan_period": 10.0,
            "sigma_range": 100.0,
            "sigma_azimuth": 0.15,
            "pd": 0.95,
            "clutter_per_scan": 20.0,
            **p.radar,
        }
        for i, (lat, lon) in enumerate(sites):
            tables.append(
                {
                    "id": f"scale-radar-{i + 1:02d}",
                    "type": "radar",
                    "owner": p.owner,
                    "lat": round(lat, 7),
                    "lon": round(lon, 7),
                    "max_range": round(p.radar_coverage * diagonal, 1),
                    **radar,
                }
            )
    if p.adsb_receivers:
        sites, _ = _grid(p.adsb_receivers, p.area)
        adsb = {"alt": 200.0, "max_range": 400000.0, "sigma_h": 30.0, "sigma_v": 15.0, **p.adsb}
        for i, (lat, lon) in enumerate(sites):
            tables.append(
                {
                    "id": f"scale-adsb-{i + 1:02d}",
                    "type": "adsb",
                    "owner": p.owner,
                    "lat": round(lat, 7),
                    "lon": round(lon, 7),
                    **adsb,
                }
            )
    return tables


# Per-class speed and altitude ranges when the parameters do not give them.
_SPEED = {"aircraft": (150.0, 260.0), "helicopter": (40.0, 80.0), "drone": (25.0, 60.0)}
_ALT = {"aircraft": (3000.0, 12000.0), "helicopter": (150.0, 1500.0), "drone": (50.0, 2500.0)}


def generate_targets(
    p: ScaleParams, rng: np.random.Generator, classes: Mapping[str, ClassParams]
) -> list[TargetSpec]:
    """The random targets of one run (vectorized over targets, one loop over legs)."""
    n = p.targets
    if n == 0:
        return []
    names = list(p.class_mix)
    weights = np.array([p.class_mix[c] for c in names], dtype=float)
    cls_idx = rng.choice(len(names), size=n, p=weights / weights.sum())
    s, w, north, e = p.area
    lo_speed = np.empty(n)
    hi_speed = np.empty(n)
    lo_alt = np.empty(n)
    hi_alt = np.empty(n)
    for k, c in enumerate(names):
        sel = cls_idx == k
        base = classes[c].speed
        lo_speed[sel], hi_speed[sel] = p.speed.get(c, _SPEED.get(c, (0.8 * base, 1.2 * base)))
        lo_alt[sel], hi_alt[sel] = p.alt.get(c, _ALT.get(c, (100.0, 3000.0)))
    speed = rng.uniform(lo_speed, hi_speed)
    legs = rng.integers(p.legs[0], p.legs[1] + 1, n)
    most = int(legs.max())
    lat = np.empty((n, most + 1))
    lon = np.empty((n, most + 1))
    alt = np.full((n, most + 1), np.nan)
    lat[:, 0] = rng.uniform(s, north, n)
    lon[:, 0] = rng.uniform(w, e, n)
    alt[:, 0] = rng.uniform(lo_alt, hi_alt)
    heading = rng.uniform(0.0, 360.0, n)
    centre = (0.5 * (s + north), 0.5 * (w + e))
    for j in range(most):
        heading = heading + rng.uniform(-90.0, 90.0, n)
        dist = rng.uniform(p.leg_length[0], p.leg_length[1], n)
        la, lo, _ = geo.destination(lat[:, j], lon[:, j], heading, dist)
        out = (la < s) | (la > north) | (lo < w) | (lo > e)
        if out.any():
            back = geo.bearing(lat[out, j], lon[out, j], centre[0], centre[1])
            heading[out] = back + rng.uniform(-30.0, 30.0, int(out.sum()))
            la[out], lo[out], _ = geo.destination(lat[out, j], lon[out, j], heading[out], dist[out])
        lat[:, j + 1] = np.clip(la, s, north)
        lon[:, j + 1] = np.clip(lo, w, e)
        change = rng.random(n) < ALT_CHANGE
        alt[change, j + 1] = rng.uniform(lo_alt[change], hi_alt[change])
    coop_draw = rng.random(n)
    hostile = rng.random(n) < p.hostile_fraction
    loiter = rng.random(n) < p.loiter_fraction
    loiter_time = rng.uniform(60.0, 300.0, n)
    loiter_radius = rng.uniform(2000.0, 6000.0, n)
    start = rng.uniform(p.start[0], p.start[1], n)
    flight_no = rng.integers(10, 9999, n)
    width = max(3, len(str(n)))
    out_specs = []
    lat_r, lon_r, alt_r = (
        np.round(lat, 7).tolist(),
        np.round(lon, 7).tolist(),
        np.round(alt, 1).tolist(),
    )
    for i in range(n):
        c = names[cls_idx[i]]
        coop = None
        if coop_draw[i] < p.coop_fraction.get(c, 0.0):
            coop = "auto-rid" if c == "drone" else "auto-icao"
        route = tuple(
            (lat_r[i][j], lon_r[i][j], None if math.isnan(alt_r[i][j]) else alt_r[i][j])
            for j in range(int(legs[i]) + 1)
        )
        out_specs.append(
            TargetSpec(
                id=f"scale-{i + 1:0{width}d}",
                cls=c,
                route=route,
                start=round(float(start[i]), 3),
                speed=round(float(speed[i]), 2),
                hostile=bool(hostile[i]),
                coop_id=coop,
                callsign=f"SKY{flight_no[i]}" if coop == "auto-icao" else None,
                loiter=(Loiter(1, float(loiter_time[i]), float(loiter_radius[i])),)
                if loiter[i]
                else (),
                end="hold",
            )
        )
    return out_specs
