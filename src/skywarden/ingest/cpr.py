"""Compact Position Reporting (CPR): ADS-B's 17-bit latitude/longitude, decoded.

A position message carries ``lat_cpr``, ``lon_cpr`` in [0, 2**17) and a format bit (even
F=0 / odd F=1). Latitude is split into 60 (even) or 59 (odd) zones of ``dlat`` degrees
(360/60 airborne, 90/60 surface); the message gives the position inside a zone, so

- a **global** decode needs one even and one odd message close in time (10 s) and
  solves for the zone index ``j``; surface positions (quarter-size zones) are then
  ambiguous by 90 degrees and are resolved by a reference (the receiver site);
- a **local** decode needs a reference within half a zone (180 NM airborne, 45 NM surface)
  and one message.

The longitude zone count depends on latitude through NL(lat) (1090-WP-9-14, A.1.7.2):
``NL = floor(2 pi / acos(1 - (1 - cos(pi / 30)) / cos(pi lat / 180) ** 2))``. When the two
halves of a pair fall into different NL zones the pair is unusable.

Everything here is pure: degrees in, degrees out, ``None`` where no answer exists.
"""

from __future__ import annotations

import math
from bisect import bisect_right

NZ = 15
_SCALE = 131072.0  # 2**17
_NL_TERM = 1.0 - math.cos(math.pi / (2 * NZ))


def nl_formula(lat: float) -> int:
    """NL by the formula (kept as the definition; :func:`nl` uses the table)."""
    lat = abs(lat)
    if lat < 1e-9:
        return 59
    if lat >= 87.0:
        return 2 if lat == 87.0 else 1
    c = math.cos(math.radians(lat))
    return int(math.floor(2.0 * math.pi / math.acos(1.0 - _NL_TERM / (c * c))))


# Latitudes where NL drops by one (NL = 59 - number of transitions at or below |lat|):
# the inverse of the formula, so a lookup is one bisect instead of cos and acos.
_TRANSITIONS = [
    math.degrees(math.acos(math.sqrt(_NL_TERM / (1.0 - math.cos(2.0 * math.pi / n)))))
    for n in range(59, 1, -1)
]


def nl(lat: float) -> int:
    """Number of longitude zones at latitude ``lat`` (degrees), 1..59."""
    a = abs(lat)
    if a >= 87.0:
        return 2 if a == 87.0 else 1
    return 59 - bisect_right(_TRANSITIONS, a)


def _mod(a: float, b: float) -> float:
    return a % b  # Python's float modulo takes the divisor's sign: floor semantics


def _wrap_lon(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


def global_airborne(
    lat_even: int, lon_even: int, lat_odd: int, lon_odd: int, newest_odd: bool
) -> tuple[float, float] | None:
    """Position from an even/odd airborne pair; the newer message's position is returned."""
    ye, yo = lat_even / _SCALE, lat_odd / _SCALE
    xe, xo = lon_even / _SCALE, lon_odd / _SCALE
    j = math.floor(59.0 * ye - 60.0 * yo + 0.5)
    lat_e = 360.0 / 60.0 * (_mod(j, 60) + ye)
    lat_o = 360.0 / 59.0 * (_mod(j, 59) + yo)
    if lat_e >= 270.0:
        lat_e -= 360.0
    if lat_o >= 270.0:
        lat_o -= 360.0
    if not (-90.0 <= lat_e <= 90.0 and -90.0 <= lat_o <= 90.0):
        return None
    pair = _pair_lon(lat_e, lat_o, xe, xo, newest_odd, 360.0)
    if pair is None:
        return None
    lat, lon = pair
    return lat, _wrap_lon(lon)


def global_surface(
    lat_even: int, lon_even: int, lat_odd: int, lon_odd: int, newest_odd: bool,
    ref_lat: float, ref_lon: float,
) -> tuple[float, float] | None:
    """Position from an even/odd surface pair, the 90-degree ambiguities resolved by the
    reference (the receiver site: it must be in the right quadrant, which any site within
    a few hundred kilometres is)."""
    ye, yo = lat_even / _SCALE, lat_odd / _SCALE
    xe, xo = lon_even / _SCALE, lon_odd / _SCALE
    j = math.floor(59.0 * ye - 60.0 * yo + 0.5)
    lat_e = 90.0 / 60.0 * (_mod(j, 60) + ye)
    lat_o = 90.0 / 59.0 * (_mod(j, 59) + yo)
    # The northern solution is in [0, 90); the southern one is 90 degrees less.
    if ref_lat < 0.0:
        lat_e -= 90.0
        lat_o -= 90.0
    pair = _pair_lon(lat_e, lat_o, xe, xo, newest_odd, 90.0)
    if pair is None:
        return None
    lat, lon = pair
    # Four candidates 90 degrees apart: take the one nearest the reference.
    lon += 90.0 * round(_wrap_lon(ref_lon - lon) / 90.0)
    return lat, _wrap_lon(lon)


def _pair_lon(
    lat_e: float, lat_o: float, xe: float, xo: float, newest_odd: bool, span: float
) -> tuple[float, float] | None:
    """The latitude of the newest half and its longitude (``span``: 360 airborne, 90 on
    the surface), or None when the two latitudes fall in different NL zones (the pair
    straddles a zone boundary and cannot be solved)."""
    if nl(lat_e) != nl(lat_o):
        return None
    lat = lat_o if newest_odd else lat_e
    n = nl(lat)
    m = math.floor(xe * (n - 1) - xo * n + 0.5)
    ni = max(n - 1, 1) if newest_odd else max(n, 1)
    x = xo if newest_odd else xe
    return lat, span / ni * (_mod(m, ni) + x)


def local(
    lat_cpr: int, lon_cpr: int, odd: bool, ref_lat: float, ref_lon: float, surface: bool
) -> tuple[float, float]:
    """Position of one message near a reference (within 180 NM airborne, 45 NM surface;
    the caller guarantees that, the formula cannot check it)."""
    span = 90.0 if surface else 360.0
    y, x = lat_cpr / _SCALE, lon_cpr / _SCALE
    i = 1 if odd else 0
    dlat = span / (60 - i)
    j = math.floor(ref_lat / dlat) + math.floor(0.5 + _mod(ref_lat, dlat) / dlat - y)
    lat = dlat * (j + y)
    dlon = span / max(nl(lat) - i, 1)
    m = math.floor(ref_lon / dlon) + math.floor(0.5 + _mod(ref_lon, dlon) / dlon - x)
    return lat, _wrap_lon(dlon * (m + x))
