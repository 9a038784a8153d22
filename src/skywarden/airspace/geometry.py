"""Zone outlines on the WGS84 ellipsoid: circles, arcs, geodesic edges, validation.

Outlines are shapely polygons in longitude/latitude degrees (x = lon, y = lat). Shapely
joins vertices with straight lines in that plane, but airspace edges are geodesics, and
over 100 km at 52 N the two differ by about 250 m; :func:`polygon` therefore adds
vertices along each geodesic edge longer than ``MAX_EDGE_M`` (10 km, which leaves < 3 m
between them up to 60 N).

Circles and arcs are polygonised on the geodesic: vertices at the radius in the exact
(Karney) sense, spaced so the chord between two of them sags by at most ``ARC_TOLERANCE_M``.
Circle vertices sit a little outside the radius, so the polygon holds the whole circle
(never smaller, at most ``ARC_TOLERANCE_M`` larger): a zone must not let a target through
its edge.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .. import geo

MAX_EDGE_M = 10_000.0
ARC_TOLERANCE_M = 5.0
NM = 1852.0


def arc_steps(radius_m: float, sweep_deg: float) -> int:
    """Number of chords for an arc so each chord sags by at most ARC_TOLERANCE_M."""
    if radius_m <= ARC_TOLERANCE_M:
        step = 60.0
    else:
        step = math.degrees(2.0 * math.acos(1.0 - ARC_TOLERANCE_M / radius_m))
    return max(int(math.ceil(abs(sweep_deg) / min(step, 10.0))), 2)


def circle(lat: float, lon: float, radius_m: float) -> Polygon:
    """A geodesic circle as a polygon that contains it (see the module docstring)."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # nan too
        raise ValueError(f"circle centre {lat:g}, {lon:g} is out of range "
                         "(lat within +-90, lon within +-180)")
    if not radius_m > 0.0:
        raise ValueError(f"circle radius {radius_m} m is not positive")
    if not math.isfinite(radius_m):  # arc_steps would divide by a zero step
        raise ValueError(f"circle radius {radius_m:g} m is not a finite positive number")
    n = max(arc_steps(radius_m, 360.0), 16)
    # Vertices at r / cos(pi / n): the chords then touch the circle from outside.
    r_out = radius_m / math.cos(math.pi / n)
    az = np.arange(n) * (360.0 / n)
    la, lo, _ = geo.destination(lat, lon, az, r_out)
    return Polygon(np.column_stack([lo, la]))


def arc(
    lat: float, lon: float, radius_m: float, az_from: float, az_to: float, clockwise: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes, longitudes along a geodesic arc, both ends included.

    Azimuths in degrees clockwise from true north; ``clockwise`` is OpenAir's ``D=+``.
    """
    sweep = (az_to - az_from) % 360.0 if clockwise else -((az_from - az_to) % 360.0)
    if sweep == 0.0:
        sweep = 360.0 if clockwise else -360.0
    n = arc_steps(radius_m, sweep)
    az = az_from + np.linspace(0.0, sweep, n + 1)
    la, lo, _ = geo.destination(lat, lon, az, radius_m)
    return la, lo


def polygon(rings: list[list[tuple[float, float]]]) -> Polygon:
    """A polygon from rings of (lat, lon), the first the outline, the rest holes.

    Rings are closed if they are not, and edges longer than MAX_EDGE_M are densified
    along the geodesic. Raises ValueError with the reason when the outline is unusable.
    """
    made = [_geodesic_ring(np.asarray(r, dtype=np.float64)) for r in rings]
    poly = Polygon(made[0], made[1:])
    check(poly)
    return poly


def _geodesic_ring(latlon: np.ndarray) -> np.ndarray:
    """A closed ring as (lon, lat) rows, densified along geodesic edges."""
    if latlon.ndim != 2 or latlon.shape[1] != 2 or len(latlon) < 3:
        raise ValueError("a ring needs at least 3 points of (lat, lon)")
    if not np.isfinite(latlon).all():
        raise ValueError("a ring has a coordinate that is not a number")
    lat, lon = latlon[:, 0], latlon[:, 1]
    if (np.abs(lat) > 90.0).any() or (np.abs(lon) > 180.0).any():
        raise ValueError("a coordinate is out of range (lat within +-90, lon within +-180)")
    if lat[0] != lat[-1] or lon[0] != lon[-1]:
        lat, lon = np.append(lat, lat[0]), np.append(lon, lon[0])
    _, _, dist = geo.WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    long_edges = np.flatnonzero(np.asarray(dist) > MAX_EDGE_M)
    if long_edges.size == 0:
        return np.column_stack([lon, lat])
    out_lon: list[np.ndarray] = []
    out_lat: list[np.ndarray] = []
    prev = 0
    for i in long_edges.tolist():
        out_lon.append(lon[prev : i + 1])
        out_lat.append(lat[prev : i + 1])
        n = int(math.ceil(dist[i] / MAX_EDGE_M)) - 1
        inner = np.asarray(geo.WGS84.npts(lon[i], lat[i], lon[i + 1], lat[i + 1], n))
        out_lon.append(inner[:, 0])
        out_lat.append(inner[:, 1])
        prev = i + 1
    out_lon.append(lon[prev:])
    out_lat.append(lat[prev:])
    return np.column_stack([np.concatenate(out_lon), np.concatenate(out_lat)])


def check(geom: BaseGeometry) -> None:
    """Raise ValueError unless ``geom`` is a valid, non-empty (Multi)Polygon in range."""
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"the outline is a {geom.geom_type}, not a Polygon or MultiPolygon")
    if geom.is_empty:
        raise ValueError("the outline is empty")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise ValueError(f"the outline is not a simple polygon ({_where(reason)})")
    w, s, e, n = geom.bounds
    if w < -180.0 or e > 180.0 or s < -90.0 or n > 90.0:
        raise ValueError("the outline leaves lat +-90 / lon +-180")
    if e - w > 180.0:
        raise ValueError("the outline spans more than 180 deg of longitude "
                         "(zones across the antimeridian are not supported)")


def _where(reason: str) -> str:
    """Shapely's 'Self-intersection[23.5 52.1]' as 'self-intersection at 52.1 N 23.5 E'."""
    text, _, rest = reason.partition("[")
    if not rest:
        return reason.lower()
    try:
        x, y = (float(v) for v in rest.rstrip("]").split()[:2])
    except ValueError:
        return reason.lower()
    return f"{text.lower()} at lat {y:.5f} lon {x:.5f}"
