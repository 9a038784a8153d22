"""Geodesy on the WGS84 ellipsoid, vectorized over numpy arrays.

Frames:
- geodetic: latitude, longitude (degrees), altitude (metres above the ellipsoid; we treat
  it as MSL, the geoid separation of tens of metres being below every sensor's error here);
- ECEF: earth-centred, earth-fixed, metres; valid across a continent, so the tracker keeps
  its state there and never suffers flat-earth errors;
- ENU: local east/north/up tangent plane at an origin, metres; sensors measure in it.

Angles: azimuth is clockwise from true north (0..360), elevation above the local horizon.
Every function accepts scalars or arrays that broadcast together, and returns float64.
Geodesic distances and great-circle routes use pyproj's Geod (Karney's algorithm).
"""

from __future__ import annotations

import numpy as np
from pyproj import Geod

A = 6378137.0  # WGS84 semi-major axis, m
F = 1.0 / 298.257223563
B = A * (1.0 - F)
E2 = F * (2.0 - F)  # first eccentricity squared
EP2 = E2 / (1.0 - E2)  # second eccentricity squared
EARTH_RADIUS = 6371008.8  # mean radius, m
EFFECTIVE_RADIUS_FACTOR = 4.0 / 3.0  # standard atmosphere refraction for radar horizons

WGS84 = Geod(ellps="WGS84")


def row_norm(v: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Euclidean length of each row of ``v`` (N, k) float64: the same sum as
    ``np.linalg.norm(v, axis=-1)``, to the bit, without its checks and conversions (the
    tracker asks this of a few dozen rows a dozen times and more a window)."""
    return np.sqrt(np.add.reduce(v * v, axis=-1, keepdims=keepdims))


def cross_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of 3-vectors, row by row (or one against rows): the same products and
    differences as ``np.cross``, to the bit, without its axis handling."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def geodetic_to_ecef(lat, lon, alt=0.0) -> np.ndarray:
    """Latitude, longitude (deg), altitude (m) -> ECEF (..., 3) in metres."""
    lat = np.radians(np.asarray(lat, dtype=np.float64))
    lon = np.radians(np.asarray(lon, dtype=np.float64))
    alt = np.asarray(alt, dtype=np.float64)
    slat, clat = np.sin(lat), np.cos(lat)
    n = A / np.sqrt(1.0 - E2 * slat * slat)
    x = (n + alt) * clat * np.cos(lon)
    y = (n + alt) * clat * np.sin(lon)
    z = (n * (1.0 - E2) + alt) * slat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(xyz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (..., 3) -> latitude, longitude (deg), altitude (m).

    Closed form of Heikkinen (1982) as given by Zhu (1993): exact to well below a
    millimetre for any point outside the earth's core, with no iteration.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r = np.hypot(x, y)
    f_ = 54.0 * B * B * z * z
    g = r * r + (1.0 - E2) * z * z - E2 * (A * A - B * B)
    c = E2 * E2 * f_ * r * r / (g * g * g)
    s = np.cbrt(1.0 + c + np.sqrt(c * c + 2.0 * c))
    p = f_ / (3.0 * (s + 1.0 / s + 1.0) ** 2 * g * g)
    q = np.sqrt(1.0 + 2.0 * E2 * E2 * p)
    # On the polar axis the root's argument is zero but may round below it (NaN, a track
    # over the pole without a latitude): it is held at zero, where the formula is exact.
    r0 = -(p * E2 * r) / (1.0 + q) + np.sqrt(np.maximum(
        0.5 * A * A * (1.0 + 1.0 / q) - p * (1.0 - E2) * z * z / (q * (1.0 + q)) - 0.5 * p * r * r,
        0.0))
    u = np.sqrt((r - E2 * r0) ** 2 + z * z)
    v = np.sqrt((r - E2 * r0) ** 2 + (1.0 - E2) * z * z)
    z0 = B * B * z / (A * v)
    alt = u * (1.0 - B * B / (A * v))
    lat = np.degrees(np.arctan2(z + EP2 * z0, r))
    lon = np.degrees(np.arctan2(y, x))
    return lat, lon, alt


def enu_rotation(lat0, lon0) -> np.ndarray:
    """Rotation (..., 3, 3) whose rows are the east, north and up unit vectors in ECEF."""
    lat = np.radians(np.asarray(lat0, dtype=np.float64))
    lon = np.radians(np.asarray(lon0, dtype=np.float64))
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return np.stack([east, north, up], axis=-2)


def ecef_to_enu(xyz, lat0, lon0, alt0=0.0) -> np.ndarray:
    """ECEF points (..., 3) -> ENU (..., 3) about the origin (lat0, lon0, alt0)."""
    origin = geodetic_to_ecef(lat0, lon0, alt0)
    rot = enu_rotation(lat0, lon0)
    d = np.asarray(xyz, dtype=np.float64) - origin
    return np.einsum("...ij,...j->...i", rot, d)


def enu_to_ecef(enu, lat0, lon0, alt0=0.0) -> np.ndarray:
    """ENU (..., 3) about the origin -> ECEF (..., 3)."""
    origin = geodetic_to_ecef(lat0, lon0, alt0)
    rot = enu_rotation(lat0, lon0)
    return origin + np.einsum("...ji,...j->...i", rot, np.asarray(enu, dtype=np.float64))


def enu_vector_to_ecef(v_enu, lat0, lon0) -> np.ndarray:
    """Rotate a vector (velocity) from ENU at (lat0, lon0) to ECEF axes."""
    return np.einsum("...ji,...j->...i", enu_rotation(lat0, lon0), np.asarray(v_enu, float))


def ecef_vector_to_enu(v_ecef, lat0, lon0) -> np.ndarray:
    """Rotate a vector (velocity) from ECEF axes to ENU at (lat0, lon0)."""
    return np.einsum("...ij,...j->...i", enu_rotation(lat0, lon0), np.asarray(v_ecef, float))


def geodetic_to_enu(lat, lon, alt, lat0, lon0, alt0=0.0) -> np.ndarray:
    return ecef_to_enu(geodetic_to_ecef(lat, lon, alt), lat0, lon0, alt0)


def enu_to_geodetic(enu, lat0, lon0, alt0=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return ecef_to_geodetic(enu_to_ecef(enu, lat0, lon0, alt0))


def enu_to_aer(enu) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ENU (..., 3) -> azimuth (deg, clockwise from north, 0..360), elevation (deg), slant range (m)."""
    enu = np.asarray(enu, dtype=np.float64)
    e, n, u = enu[..., 0], enu[..., 1], enu[..., 2]
    horiz = np.hypot(e, n)
    az = np.degrees(np.arctan2(e, n)) % 360.0
    el = np.degrees(np.arctan2(u, horiz))
    return az, el, np.hypot(horiz, u)


def aer_to_enu(az, el, rng) -> np.ndarray:
    """Azimuth, elevation (deg), slant range (m) -> ENU (..., 3)."""
    az = np.radians(np.asarray(az, dtype=np.float64))
    el = np.radians(np.asarray(el, dtype=np.float64))
    rng = np.asarray(rng, dtype=np.float64)
    horiz = rng * np.cos(el)
    return np.stack(
        np.broadcast_arrays(horiz * np.sin(az), horiz * np.cos(az), rng * np.sin(el)), axis=-1
    )


def distance(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the ellipsoid, metres."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lat1, lon1, lat2, lon2))
    )
    _, _, dist = WGS84.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64)


def bearing(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial geodesic bearing from point 1 to point 2, degrees clockwise from north, 0..360."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lat1, lon1, lat2, lon2))
    )
    az, _, _ = WGS84.inv(lon1, lat1, lon2, lat2)
    return np.asarray(az, dtype=np.float64) % 360.0


def destination(lat, lon, azimuth, dist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point reached from (lat, lon) along a geodesic: (lat, lon, back-azimuth-corrected heading).

    The third value is the forward azimuth at the destination (0..360), which is the heading
    of a vehicle that flew the geodesic.
    """
    lat, lon, azimuth, dist = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lat, lon, azimuth, dist))
    )
    lon2, lat2, back = WGS84.fwd(lon, lat, azimuth, dist)
    return (
        np.asarray(lat2, dtype=np.float64),
        np.asarray(lon2, dtype=np.float64),
        (np.asarray(back, dtype=np.float64) + 180.0) % 360.0,
    )


def great_circle(lat1, lon1, lat2, lon2, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points along the geodesic from point 1 to point 2, both ends included."""
    if n < 2:
        raise ValueError("great_circle needs n >= 2")
    inner = WGS84.npts(lon1, lat1, lon2, lat2, n - 2) if n > 2 else []
    lons = [lon1, *(p[0] for p in inner), lon2]
    lats = [lat1, *(p[1] for p in inner), lat2]
    return np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)


def radar_horizon(sensor_alt, target_alt, k: float = EFFECTIVE_RADIUS_FACTOR) -> np.ndarray:
    """Greatest ground distance (m) at which a target is above a sensor's horizon.

    Smooth earth of effective radius k * R (k = 4/3 for standard refraction):
    d = sqrt(2 k R h_sensor) + sqrt(2 k R h_target), heights in metres above the surface
    (negative heights count as zero).
    """
    re = k * EARTH_RADIUS
    hs = np.maximum(np.asarray(sensor_alt, dtype=np.float64), 0.0)
    ht = np.maximum(np.asarray(target_alt, dtype=np.float64), 0.0)
    return np.sqrt(2.0 * re * hs) + np.sqrt(2.0 * re * ht)


def wrap_degrees(angle) -> np.ndarray:
    """Wrap an angle difference to (-180, 180]."""
    a = (np.asarray(angle, dtype=np.float64) + 180.0) % 360.0 - 180.0
    return np.where(a == -180.0, 180.0, a)
