"""The area a public warning covers, as CAP wants it: closed lat,lon rings and circles.

- :func:`path_area`: a corridor of half-width ``w`` around the track's straight path for
  the next ``horizon_s`` seconds (a circle of radius ``w`` when the velocity is unknown),
  drawn in the local east-north plane at the track and optionally clipped to a nation's
  or zone's geometry (lon/lat shapely geometry).
- :func:`rings`: the outer rings of a (multi)polygon, simplified to at most ``max_points``
  points each (CAP polygons have no holes; receivers handle short rings best).
- :class:`Places`: named places with their region (GeoNames admin1), from which
  :mod:`.regions` draws the regions a warning goes out for; :func:`shipped_places` is the
  gazetteer shipped with the package (GeoNames cities1000 over the borders' box, 30,931
  places, CC BY 4.0).

A ring is a list of (lat, lon) tuples whose first and last points are the same, with at
least 4 points, as CAP 1.2 requires.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from ..geo import enu_to_geodetic

Ring = list[tuple[float, float]]


def path_area(
    lat: float,
    lon: float,
    vel_e: float,
    vel_n: float,
    horizon_s: float = 1800.0,
    half_width_m: float = 15000.0,
    within: BaseGeometry | None = None,
    max_points: int = 64,
) -> list[Ring]:
    """Rings covering the predicted path (see the module docstring).

    When the clip leaves nothing (the path never enters ``within``), the unclipped
    corridor is returned: the warning still says where the danger is.
    """
    if not (math.isfinite(vel_e) and math.isfinite(vel_n)) or math.hypot(vel_e, vel_n) < 0.5:
        local: BaseGeometry = Point(0.0, 0.0).buffer(half_width_m, quad_segs=8)
    else:
        end = (vel_e * horizon_s, vel_n * horizon_s)
        local = LineString([(0.0, 0.0), end]).buffer(half_width_m, quad_segs=8)
    xy = np.asarray(local.exterior.coords)
    enu = np.column_stack([xy, np.zeros(len(xy))])
    lats, lons, _ = enu_to_geodetic(enu, lat, lon, 0.0)
    area: BaseGeometry = Polygon(np.column_stack([lons, lats]))
    if within is not None:
        clipped = area.intersection(within)
        if not clipped.is_empty and clipped.area > 0:
            area = clipped
    return rings(area, max_points)


def circle_area(lat: float, lon: float, radius_m: float, n: int = 24) -> Ring:
    """A closed ring of ``n`` points around (lat, lon), for receivers without circles."""
    ang = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    enu = np.column_stack([radius_m * np.sin(ang), radius_m * np.cos(ang), np.zeros(n)])
    lats, lons, _ = enu_to_geodetic(enu, lat, lon, 0.0)
    ring = [(float(a), float(o)) for a, o in zip(lats, lons, strict=True)]
    return [*ring, ring[0]]


def rings(geometry: BaseGeometry, max_points: int = 64) -> list[Ring]:
    """Outer rings of the polygons in ``geometry`` (lon/lat), each closed, >= 4 points."""
    if max_points < 4:
        raise ValueError("a CAP polygon needs at least 4 points")
    out: list[Ring] = []
    for poly in shapely.get_parts(geometry):
        if not isinstance(poly, Polygon) or poly.is_empty:
            continue
        shell = Polygon(poly.exterior)
        tolerance = 0.0
        while len(shell.exterior.coords) > max_points:
            tolerance = tolerance * 2 if tolerance else 1e-3
            shell = Polygon(poly.exterior).simplify(tolerance, preserve_topology=True)
        coords = [(float(y), float(x)) for x, y in shell.exterior.coords]
        if len(coords) >= 4 and coords[0] == coords[-1]:
            out.append(coords)
    return out


def ring_text(ring: Ring) -> str:
    """CAP ``polygon`` text: ``lat,lon lat,lon ...``; raises ValueError if not a CAP ring."""
    if len(ring) < 4:
        raise ValueError(f"a CAP polygon needs at least 4 points, got {len(ring)}")
    if ring[0] != ring[-1]:
        raise ValueError("a CAP polygon must be closed: its first and last points differ")
    for lat, lon in ring:
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(f"point {lat},{lon} is not a WGS84 latitude,longitude")
    return " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in ring)


@dataclass(frozen=True, slots=True)
class Places:
    """Named places with the region (admin1) and country (ISO alpha-2) they are in."""

    lat: np.ndarray
    lon: np.ndarray
    region: np.ndarray
    country: np.ndarray

    @classmethod
    def load(cls, path: str | Path) -> Places:
        """A GeoNames-style CSV (``lat,lon,name,admin1,admin2,cc``), optionally gzipped."""
        path = Path(path)
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
        return cls(
            lat=np.array([float(r["lat"]) for r in rows]),
            lon=np.array([float(r["lon"]) for r in rows]),
            region=np.array([r["admin1"] for r in rows], dtype=str),
            country=np.array([r["cc"] for r in rows], dtype=str),
        )


GAZETTEER = "gazetteer-eastern-flank-geonames1000.csv.gz"


@functools.cache
def shipped_places() -> Places:
    """The gazetteer shipped in ``skywarden/data`` (GeoNames, CC BY 4.0), read once."""
    path = resources.files("skywarden") / "data" / GAZETTEER
    with resources.as_file(path) as real:
        return Places.load(real)
