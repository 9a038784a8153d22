"""The gnomonic plane: great circles are straight lines, so predicted paths are segments.

Assessment projects everything (border polygons, zones, tracks) into one gnomonic plane
centred on the borders' box. In a gnomonic projection every great circle is a straight
line, so a track flying a great circle is a segment of the plane and stepping along it is
two multiply-adds per point, with no trigonometry inside the hot loop.

The sphere. Geodetic latitude and longitude are used as spherical coordinates on a sphere
of radius :data:`~skywarden.geo.EARTH_RADIUS`. The ellipsoid is not the sphere, so a
track's heading and ground speed are mapped to the sphere to first order (a north-south
metre is 1/M of a radian of latitude, an east-west metre 1/(N cos lat)): along a 450 km
path the predicted position then stays within about 0.1 % of the distance flown of the
WGS84 geodesic with the same start and azimuth (a few hundred metres at the end of a
30-minute aircraft path, a few metres at the border a drone is about to cross).

Scale. Plane distances are never shorter than ground distances: the scale factor is 1 at
the centre and ``1 / cos(c)`` across, ``1 / cos(c)**2`` along the radius at angular
distance ``c`` from it; over the borders' box (c up to about 21 deg) at most 1.15. So a
plane distance is an upper bound of the ground distance and a ground distance is a lower
bound of the plane distance; the rasters and bounds below are in plane metres.

A path. A track at unit vector ``p0`` moving along the unit tangent ``u`` is at
``p(t) = cos(w t) p0 + sin(w t) u`` (``w`` = ground speed / radius). With
``tau = tan(w t)`` its plane position is ``X(tau) = (A + tau B) / (a + tau b)``, a
straight line through ``X0 = A / a`` with direction ``D``; the plane distance from
``X0`` is ``lam = K tau / (a + b tau)`` and back ``tau = a lam / (K - b lam)``, so time
and plane distance convert exactly both ways (:meth:`Paths.time_at`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from ..geo import E2, EARTH_RADIUS
from ..geo import A as WGS84_A

FloatArray = NDArray[np.float64]


def _unit(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    la, lo = np.radians(lat), np.radians(lon)
    cl = np.cos(la)
    return cl * np.cos(lo), cl * np.sin(lo), np.sin(la)


class Plane:
    """A gnomonic projection of the sphere centred on (``lat0``, ``lon0``), in metres."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = float(lat0), float(lon0)
        la, lo = np.radians(self.lat0), np.radians(self.lon0)
        self.c = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
        self.e = np.array([-np.sin(lo), np.cos(lo), 0.0])
        self.n = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])

    def forward(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Plane x (east), y (north) in metres; NaN for points 90 deg or more away."""
        px, py, pz = _unit(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        c, e, n = self.c, self.e, self.n
        den = px * c[0] + py * c[1] + pz * c[2]
        den = np.where(den > 1e-6, den, np.nan)
        x = EARTH_RADIUS * (px * e[0] + py * e[1]) / den
        y = EARTH_RADIUS * (px * n[0] + py * n[1] + pz * n[2]) / den
        return x, y

    def inverse(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Latitude, longitude (degrees) of plane points."""
        u = np.asarray(x, np.float64) / EARTH_RADIUS
        v = np.asarray(y, np.float64) / EARTH_RADIUS
        c, e, n = self.c, self.e, self.n
        qx = c[0] + u * e[0] + v * n[0]
        qy = c[1] + u * e[1] + v * n[1]
        qz = c[2] + v * n[2]
        lat = np.degrees(np.arctan2(qz, np.hypot(qx, qy)))
        lon = np.degrees(np.arctan2(qy, qx))
        return lat, lon

    def scale(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Largest plane/ground scale factor at plane points (1 / cos(c)**2)."""
        r2 = (np.asarray(x, np.float64) ** 2 + np.asarray(y, np.float64) ** 2) / EARTH_RADIUS**2
        return 1.0 + r2


def sphere_motion(
    lat: FloatArray, heading_deg: FloatArray, speed: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Heading (radians, on the sphere) and angular rate (rad/s) of ground tracks.

    ``heading_deg`` is the WGS84 azimuth, ``speed`` the ground speed in m/s. A metre north
    is 1/M rad of latitude and a metre east 1/N rad of longitude times cos(lat) (M, N the
    meridian and prime-vertical radii), which sets the spherical azimuth and rate.
    """
    s2 = np.sin(np.radians(lat)) ** 2
    w = np.sqrt(1.0 - E2 * s2)
    m = WGS84_A * (1.0 - E2) / w**3
    n = WGS84_A / w
    h = np.radians(heading_deg)
    north = np.cos(h) / m
    east = np.sin(h) / n
    return np.arctan2(east, north), speed * np.hypot(north, east)


@dataclass(slots=True)
class Paths:
    """Great-circle paths as plane segments, one row per path (vectorized).

    ``x0``, ``y0``: start in the plane; ``dx``, ``dy``: unit direction; ``k``, ``a``,
    ``b``: the lam <-> tau map (module docstring); ``rate``: angular rate, rad/s;
    ``lam_max``: plane distance reached at the horizon.
    """

    x0: FloatArray
    y0: FloatArray
    dx: FloatArray
    dy: FloatArray
    k: FloatArray
    a: FloatArray
    b: FloatArray
    rate: FloatArray
    lam_max: FloatArray

    @classmethod
    def build(
        cls,
        plane: Plane,
        lat: FloatArray,
        lon: FloatArray,
        heading: FloatArray,
        rate: FloatArray,
        horizon_s: float | FloatArray,
    ) -> Paths:
        """Paths from start points, spherical headings (rad) and angular rates (rad/s)."""
        px, py, pz = _unit(lat, lon)
        lo, la = np.radians(lon), np.radians(lat)
        sh, ch = np.sin(heading), np.cos(heading)
        # unit tangent: sin(h) east + cos(h) north at the start
        ux = sh * -np.sin(lo) + ch * -np.sin(la) * np.cos(lo)
        uy = sh * np.cos(lo) + ch * -np.sin(la) * np.sin(lo)
        uz = ch * np.cos(la)
        c, e, n = plane.c, plane.e, plane.n
        a = px * c[0] + py * c[1] + pz * c[2]
        b = ux * c[0] + uy * c[1] + uz * c[2]
        ax = EARTH_RADIUS * (px * e[0] + py * e[1])
        ay = EARTH_RADIUS * (px * n[0] + py * n[1] + pz * n[2])
        bx = EARTH_RADIUS * (ux * e[0] + uy * e[1])
        by = EARTH_RADIUS * (ux * n[0] + uy * n[1] + uz * n[2])
        wx, wy = (a * bx - b * ax) / a, (a * by - b * ay) / a
        k = np.hypot(wx, wy)
        safe = np.where(k > 0, k, 1.0)
        x0, y0 = ax / a, ay / a
        arc = np.minimum(rate * horizon_s, 1.0)  # < 57 deg of arc: far from the plane's edge
        tau = np.tan(arc)
        lam_max = k * tau / (a + b * tau)
        return cls(x0, y0, wx / safe, wy / safe, k, a, b, rate, lam_max)

    @classmethod
    def fan(
        cls,
        plane: Plane,
        lat: FloatArray,
        lon: FloatArray,
        heading_deg: FloatArray,
        offsets_deg: FloatArray,
        speed: FloatArray,
        horizon_s: float,
    ) -> Paths:
        """Paths of a fan of headings per track: row ``t * k + m`` flies WGS84 azimuth
        ``heading_deg[t] + offsets_deg[t, m]`` at ``speed[t]`` (m/s). The same as
        :meth:`build` after :func:`sphere_motion`, with the trigonometry of the start done
        once per track, compiled (:func:`_fan`)."""
        out = _fan(np.ascontiguousarray(lat, np.float64), np.ascontiguousarray(lon, np.float64),
                   np.ascontiguousarray(heading_deg, np.float64),
                   np.ascontiguousarray(offsets_deg, np.float64),
                   np.ascontiguousarray(speed, np.float64), float(horizon_s), plane.c, plane.e,
                   plane.n)
        return cls(*out)

    def time_at(self, lam: FloatArray, rows: NDArray[np.intp] | None = None) -> FloatArray:
        """Seconds from the start to plane distance ``lam`` along path ``rows`` (all)."""
        if rows is None:
            k, a, b, rate = self.k, self.a, self.b, self.rate
        else:
            k, a, b, rate = self.k[rows], self.a[rows], self.b[rows], self.rate[rows]
        tau = a * lam / (k - b * lam)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctan(tau) / rate

    def lam_at(self, t: FloatArray, rows: NDArray[np.intp] | None = None) -> FloatArray:
        """Plane distance reached after ``t`` seconds along path ``rows`` (all)."""
        if rows is None:
            k, a, b, rate = self.k, self.a, self.b, self.rate
        else:
            k, a, b, rate = self.k[rows], self.a[rows], self.b[rows], self.rate[rows]
        tau = np.tan(rate * t)
        return k * tau / (a + b * tau)

    def take(self, rows: NDArray[np.intp]) -> Paths:
        """The paths at ``rows``."""
        return Paths(*(getattr(self, f)[rows] for f in self.__slots__))


@njit(cache=True, nogil=True)
def _fan(lat: FloatArray, lon: FloatArray, heading_deg: FloatArray, offsets_deg: FloatArray,
         speed: FloatArray, horizon_s: float, c: FloatArray, e: FloatArray, nn: FloatArray
         ) -> tuple[FloatArray, ...]:
    """The fields of :meth:`Paths.fan`, in the order of :class:`Paths`, row ``t * k + m``.

    One pass, no temporaries, and no GIL: the assessor's threads each build their
    share's fan at once (in numpy it took 14-16 ms of a 125-140 ms one-thread cycle at
    30,000 tracks, holding the GIL between its twenty-odd array operations; this, about
    11). Every value is computed with the operations, in the order, of the numpy
    expressions it replaced (``w**3`` as ``pow``, as numpy does it), calling libm: the
    paths are those of the numpy formulation to the bit where numpy's own loops are
    libm's too (AVX2), and libm's everywhere (docs/ASSESSMENT.md)."""
    n, k = offsets_deg.shape
    m_all = n * k
    x0, y0, dx, dy = np.empty(m_all), np.empty(m_all), np.empty(m_all), np.empty(m_all)
    kk_, a_, b_ = np.empty(m_all), np.empty(m_all), np.empty(m_all)
    rate_, lam_max = np.empty(m_all), np.empty(m_all)
    r_e = EARTH_RADIUS
    d2r = np.pi / 180.0
    for t in range(n):
        la, lo = lat[t] * d2r, lon[t] * d2r
        sla, cla, slo, clo = math.sin(la), math.cos(la), math.sin(lo), math.cos(lo)
        px, py, pz = cla * clo, cla * slo, sla  # the start's unit vector
        # east and north unit vectors at the start, dotted with the plane's axes
        ec = -slo * c[0] + clo * c[1]
        nc = -sla * clo * c[0] - sla * slo * c[1] + cla * c[2]
        ee = r_e * (-slo * e[0] + clo * e[1])
        en = r_e * (-slo * nn[0] + clo * nn[1])
        ne = r_e * (-sla * clo * e[0] - sla * slo * e[1])
        nnn = r_e * (-sla * clo * nn[0] - sla * slo * nn[1] + cla * nn[2])
        a = px * c[0] + py * c[1] + pz * c[2]
        ax = r_e * (px * e[0] + py * e[1])
        ay = r_e * (px * nn[0] + py * nn[1] + pz * nn[2])
        w = math.sqrt(1.0 - E2 * sla * sla)
        m_rad = WGS84_A * (1.0 - E2) / math.pow(w, 3.0)  # meridian radius
        n_rad = WGS84_A / w  # prime-vertical radius
        for m in range(k):
            r = t * k + m
            h = (heading_deg[t] + offsets_deg[t, m]) * d2r
            north = math.cos(h) / m_rad
            east = math.sin(h) / n_rad
            norm = math.hypot(north, east)
            rate = speed[t] * norm
            se, sn = east / norm, north / norm  # sine, cosine of the heading on the sphere
            b = se * ec + sn * nc
            bx = se * ee + sn * ne
            by = se * en + sn * nnn
            wx, wy = (a * bx - b * ax) / a, (a * by - b * ay) / a
            kk = math.hypot(wx, wy)
            safe = kk if kk > 0 else 1.0
            arc = rate * horizon_s
            if arc > 1.0:  # < 57 deg of arc: far from the plane's edge (NaN stays NaN)
                arc = 1.0
            tau = math.tan(arc)
            x0[r], y0[r] = ax / a, ay / a
            dx[r], dy[r] = wx / safe, wy / safe
            kk_[r], a_[r], b_[r], rate_[r] = kk, a, b, rate
            lam_max[r] = kk * tau / (a + b * tau)
    return x0, y0, dx, dy, kk_, a_, b_, rate_, lam_max
