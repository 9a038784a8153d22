"""Zones as convex parts in the gnomonic plane, and the heading interval each part
subtends from a track: the geometry of :mod:`.encounter` (whose docstring tells how).
"""

from __future__ import annotations

import threading

import numpy as np
import shapely
from numba import njit
from numpy.typing import NDArray

from ..airspace.zoneset import ZoneSet
from ..geo import EARTH_RADIUS
from .cone import ConeIndex
from .plane import Plane

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

NOT_WARNED = ("other",)
# Cut zones of at most this many triangles are listed in the cone index by one disc.
SMALL_CUT = 16


class ZoneParts:
    """The zones of a :class:`ZoneSet` as convex parts in a plane (module docstring)."""

    def __init__(self, zones: ZoneSet, plane: Plane) -> None:
        self.zones = zones
        self.plane = plane
        warned = np.array([z.type not in NOT_WARNED for z in zones.zones], dtype=bool)
        self.warned = warned
        circ_zone, circ = [], []
        tri_geoms, tri_zone = [], []
        for i, z in enumerate(zones.zones):
            if not warned[i]:
                continue
            if z.circle is not None:
                circ_zone.append(i)
                circ.append(z.circle)
            else:
                tri_geoms.append(z.geometry)
                tri_zone.append(i)
        # circles: centre, ground radius, the ellipse in the plane
        c = np.asarray(circ, dtype=np.float64).reshape(-1, 3)
        cx, cy = plane.forward(c[:, 0], c[:, 1])
        r = c[:, 2]
        q2 = (cx**2 + cy**2) / EARTH_RADIUS**2  # tan(c)**2 at the centre
        k_t = np.sqrt(1.0 + q2)  # 1 / cos(c)
        k_r = 1.0 + q2  # 1 / cos(c)**2
        norm = np.hypot(cx, cy)
        ux = np.where(norm > 0, cx / np.where(norm > 0, norm, 1.0), 1.0)
        uy = np.where(norm > 0, cy / np.where(norm > 0, norm, 1.0), 0.0)
        self.c_zone = np.asarray(circ_zone, dtype=np.intp)
        self.c_lat, self.c_lon, self.c_r = c[:, 0], c[:, 1], r
        self.c_x, self.c_y = cx, cy
        self.c_ux, self.c_uy = ux, uy
        self.c_ar, self.c_at = r * k_r, r * k_t  # semi-axes along / across the radius
        # triangles
        if tri_geoms:
            tris = shapely.constrained_delaunay_triangles(np.asarray(tri_geoms, dtype=object))
            parts, owner = shapely.get_parts(tris, return_index=True)
            xy = shapely.get_coordinates(parts).reshape(-1, 4, 2)[:, :3]
            tx, ty = plane.forward(xy[:, :, 1], xy[:, :, 0])
            # counter-clockwise in the plane
            area2 = ((tx[:, 1] - tx[:, 0]) * (ty[:, 2] - ty[:, 0])
                     - (tx[:, 2] - tx[:, 0]) * (ty[:, 1] - ty[:, 0]))
            cw = area2 < 0
            tx[cw, 1], tx[cw, 2] = tx[cw, 2].copy(), tx[cw, 1].copy()
            ty[cw, 1], ty[cw, 2] = ty[cw, 2].copy(), ty[cw, 1].copy()
            self.t_zone = np.asarray(tri_zone, dtype=np.intp)[owner]
        else:
            tx = ty = np.zeros((0, 3))
            self.t_zone = np.zeros(0, dtype=np.intp)
        self.t_x, self.t_y = tx, ty
        # the same by vertex rows, (3, triangles), for the exact geometry per pair
        self.t_xv, self.t_yv = np.ascontiguousarray(tx.T), np.ascontiguousarray(ty.T)
        # all parts: circles first, then triangles
        px = np.concatenate([cx, tx.mean(axis=1)])
        py = np.concatenate([cy, ty.mean(axis=1)])
        rho_t = np.sqrt(((tx - tx.mean(axis=1, keepdims=True)) ** 2
                         + (ty - ty.mean(axis=1, keepdims=True)) ** 2).max(axis=1)) if len(tx) else np.zeros(0)
        self.px, self.py = px, py
        self.rho = np.concatenate([self.c_ar, rho_t])
        self.zone = np.concatenate([self.c_zone, self.t_zone])
        self.n_circles = cx.size
        self.zone_parts = np.bincount(self.zone, minlength=len(zones)).astype(np.float64)
        self._zone_discs(len(zones))
        # a cut zone's triangles are contiguous (t_zone ascends)
        self.cut_first = self.n_circles + np.searchsorted(self.t_zone, np.arange(len(zones)))
        self.cut_count = np.bincount(self.t_zone, minlength=len(zones))
        self._items()
        # Cone indexes: kind 0 all items, kind 1 those of zones that bind more than drones
        # (a zone for drones only cannot bind an aircraft).
        drones_only = np.array([z.applies == "drones" for z in zones.zones], dtype=bool)
        self._kinds = (np.ones(self.item_zone.size, bool), ~drones_only[self.item_zone])
        self._index: list[tuple[ConeIndex, IntArray] | None] = [None, None]
        self._active: dict[int, NDArray[np.bool_]] = {}
        self._lock = threading.Lock()

    def _zone_discs(self, n_zones: int) -> None:
        """A disc in the plane around each zone (``disc_x``, ``disc_y``, ``disc_rho``): a
        circle zone's ellipse's bounding circle, a cut zone's box centre and farthest
        vertex. Zones without parts get a disc of radius -inf (never near)."""
        x, y = np.zeros(n_zones), np.zeros(n_zones)
        rho = np.full(n_zones, -np.inf)
        x[self.c_zone], y[self.c_zone], rho[self.c_zone] = self.c_x, self.c_y, self.c_ar
        if self.t_zone.size:
            vz = np.repeat(self.t_zone, 3)
            vx, vy = self.t_x.ravel(), self.t_y.ravel()
            lo_x, hi_x = np.full(n_zones, np.inf), np.full(n_zones, -np.inf)
            lo_y, hi_y = np.full(n_zones, np.inf), np.full(n_zones, -np.inf)
            np.minimum.at(lo_x, vz, vx)
            np.maximum.at(hi_x, vz, vx)
            np.minimum.at(lo_y, vz, vy)
            np.maximum.at(hi_y, vz, vy)
            cut = np.unique(self.t_zone)
            x[cut], y[cut] = 0.5 * (lo_x[cut] + hi_x[cut]), 0.5 * (lo_y[cut] + hi_y[cut])
            far = np.zeros(n_zones)
            np.maximum.at(far, vz, np.hypot(vx - x[vz], vy - y[vz]))
            # a hair wider than the farthest vertex: rounding never leaves a part outside
            rho[cut] = far[cut] * (1.0 + 1e-9) + 1e-6
        self.disc_x, self.disc_y, self.disc_rho = x, y, rho

    def _items(self) -> None:
        """What the cone index lists (``item_zone``, ``item_part``, ``item_x``, ``item_y``,
        ``item_rho``): each circle zone's part; each small cut zone's disc (``item_part``
        -1), which stands for its few triangles, so a track reads one entry where it read
        one per triangle; each triangle of a large cut zone (a border strip of hundreds of
        triangles), of which a track's cone meets only a few."""
        small = (self.cut_count > 0) & (self.cut_count <= SMALL_CUT)
        disc = np.flatnonzero(small)
        tri = np.flatnonzero(~small[self.zone[self.n_circles:]]) + self.n_circles
        circles = np.arange(self.n_circles)
        self.item_zone = np.concatenate([self.c_zone, disc, self.zone[tri]])
        self.item_part = np.concatenate([circles, np.full(disc.size, -1), tri])
        self.item_x = np.concatenate([self.px[circles], self.disc_x[disc], self.px[tri]])
        self.item_y = np.concatenate([self.py[circles], self.disc_y[disc], self.py[tri]])
        self.item_rho = np.concatenate([self.rho[circles], self.disc_rho[disc],
                                        self.rho[tri]])

    def index(self, kind: int, extent: tuple[float, float, float, float]
              ) -> tuple[ConeIndex, IntArray]:
        """The cone index of ``kind`` (built on first use) and its items."""
        got = self._index[kind]
        if got is None:
            sel = np.flatnonzero(self._kinds[kind])
            got = (ConeIndex(self.item_x[sel], self.item_y[sel], self.item_rho[sel], extent),
                   sel)
            self._index[kind] = got
        return got

    def __len__(self) -> int:
        return int(self.zone.size)

    def active_at(self, t: FloatArray, zone: IntArray) -> NDArray[np.bool_]:
        """Whether zone ``zone[i]`` is active at ``t[i]``, to the minute (cached per minute)."""
        minute = np.floor(np.asarray(t) / 60.0).astype(np.int64)
        if not minute.size:
            return np.zeros(0, dtype=bool)
        uniq, inv = np.unique(minute, return_inverse=True)
        with self._lock:  # the threads of a cycle share the cache
            if len(self._active) > 4096:
                self._active.clear()
            for m in uniq.tolist():
                if m not in self._active:
                    self._active[m] = self.zones.active(m * 60.0 + 30.0)
            table = np.stack([self._active[m] for m in uniq.tolist()])
        return table[inv.reshape(-1), zone]

    # -- the join --------------------------------------------------------------------------

    def candidates(
        self, x0: FloatArray, y0: FloatArray, dx: FloatArray, dy: FloatArray,
        reach: FloatArray, half_angle: FloatArray, manned: NDArray[np.bool_],
        extent: tuple[float, float, float, float],
    ) -> tuple[IntArray, IntArray]:
        """(track, item) pairs whose item (``_items``) may lie in the track's cone (module
        docstring).

        ``manned``: tracks that no drones-only zone binds (their search skips those)."""
        if not len(self) or not x0.size:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        heading = np.arctan2(dy, dx)
        tracks, items = [], []
        for kind in (0, 1):
            rows = np.flatnonzero(manned == bool(kind))
            if not rows.size:
                continue
            index, sel = self.index(kind, extent)
            t, p = index.query(x0[rows], y0[rows], heading[rows], half_angle[rows],
                               reach[rows])
            tracks.append(rows[t])
            items.append(sel[p])
        return np.concatenate(tracks), np.concatenate(items)

    def cut_parts(self, track: IntArray, zone: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """(track, part, zone) for every triangle of the cut zone of each pair."""
        count = self.cut_count[zone]
        row = np.repeat(np.arange(zone.size), count)
        k = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
        return track[row], self.cut_first[zone][row] + k, zone[row]

    # -- geometry per pair ---------------------------------------------------------------

    def headings(
        self, part: IntArray, x0: FloatArray, y0: FloatArray, dx: FloatArray, dy: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """For each (track start, part): the interval of headings (rad, from the track's
        heading, counter-clockwise positive) whose rays meet the part, the plane distance
        to the part's nearest point, and the distance along the track's own heading ray to
        where it enters the part (inf where it does not). A start inside the part gives
        the whole circle and distance 0 (compiled, one pair at a time:
        :func:`_ellipse_headings`, :func:`_triangle_headings`)."""
        return _headings(part, x0, y0, dx, dy, self.n_circles, self.c_x, self.c_y, self.c_ux,
                         self.c_uy, self.c_ar, self.c_at, self.t_xv, self.t_yv)


@njit(cache=True, nogil=True)
def _headings(part: np.ndarray, x0: np.ndarray, y0: np.ndarray, dx: np.ndarray,
              dy: np.ndarray, n_circles: int, c_x: np.ndarray, c_y: np.ndarray,
              c_ux: np.ndarray, c_uy: np.ndarray, c_ar: np.ndarray, c_at: np.ndarray,
              t_xv: np.ndarray, t_yv: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`ZoneParts.headings`: ellipses (parts below ``n_circles``) and triangles."""
    m = part.size
    lo, hi, near, enter = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        c = part[i]
        if c < n_circles:
            lo[i], hi[i], near[i], enter[i] = _ellipse_headings(
                c_x[c] - x0[i], c_y[c] - y0[i], dx[i], dy[i], c_ux[c], c_uy[c], c_ar[c],
                c_at[c])
        else:
            t = c - n_circles
            lo[i], hi[i], near[i], enter[i] = _triangle_headings(
                t_xv[0, t] - x0[i], t_xv[1, t] - x0[i], t_xv[2, t] - x0[i],
                t_yv[0, t] - y0[i], t_yv[1, t] - y0[i], t_yv[2, t] - y0[i], dx[i], dy[i])
    return lo, hi, near, enter


@njit(cache=True, nogil=True, inline="always")
def _ellipse_headings(ex: float, ey: float, dx: float, dy: float, ux: float, uy: float,
                      ar: float, at: float) -> tuple[float, float, float, float]:
    """Headings, nearest and entry distance of the ellipse centred ``(ex, ey)`` from the
    start, semi-axis ``ar`` along the unit ``(ux, uy)`` and ``at`` across it."""
    # ellipse frame: e1 along the radius (semi-axis ar), e2 across (at); scale to a unit
    # circle: points p -> ((p.e1) / ar, (p.e2) / at)
    px, py = (-ex * ux - ey * uy) / ar, (ex * uy - ey * ux) / at  # start - centre
    qx, qy = (dx * ux + dy * uy) / ar, (-dx * uy + dy * ux) / at
    d_unit = np.hypot(px, py)
    if d_unit <= 1.0:  # inside
        return -np.pi, np.pi, 0.0, 0.0
    # tangent directions from the start to the unit circle, mapped back
    base = np.arctan2(-py, -px)
    half = np.arcsin(min(1.0 / max(d_unit, 1.0), 1.0))
    a1 = _angle_to_unscaled(dx, dy, np.cos(base - half), np.sin(base - half), ux, uy, ar, at)
    a2 = _angle_to_unscaled(dx, dy, np.cos(base + half), np.sin(base + half), ux, uy, ar, at)
    lo, hi = min(a1, a2), max(a1, a2)
    if hi - lo > np.pi:  # the interval runs through the back
        lo, hi = hi, lo + 2 * np.pi
    near = max(np.hypot(ex, ey) - ar, 0.0)
    # ray p + s q meets the unit circle: |p + s q|^2 = 1
    qa = qx * qx + qy * qy
    qb = 2.0 * (px * qx + py * qy)
    qc = px * px + py * py - 1.0
    disc = qb * qb - 4.0 * qa * qc
    s = (-qb - np.sqrt(max(disc, 0.0))) / (2.0 * qa)
    return lo, hi, near, (s if disc >= 0.0 and s >= 0.0 else np.inf)


@njit(cache=True, nogil=True, inline="always")
def _angle_to_unscaled(dx: float, dy: float, tx: float, ty: float, ux: float, uy: float,
                       ar: float, at: float) -> float:
    """Angle (rad, counter-clockwise) from direction d to the direction (tx, ty) of the
    ellipse's unit-circle frame mapped back to the plane."""
    a, b = tx * ar, ty * at  # along e1 = (ux, uy) and e2 = (-uy, ux)
    vx, vy = a * ux - b * uy, a * uy + b * ux
    return np.arctan2(dx * vy - dy * vx, dx * vx + dy * vy)


@njit(cache=True, nogil=True, inline="always")
def _triangle_headings(x0: float, x1: float, x2: float, y0: float, y1: float, y2: float,
                       dx: float, dy: float) -> tuple[float, float, float, float]:
    """Headings, nearest and entry distance of the counter-clockwise triangle with
    vertices ``(x_j, y_j)`` relative to the start."""
    a0 = np.arctan2(dx * y0 - dy * x0, dx * x0 + dy * y0)
    a1 = np.arctan2(dx * y1 - dy * x1, dx * x1 + dy * y1)
    a2 = np.arctan2(dx * y2 - dy * x2, dx * x2 + dy * y2)
    r1, r2 = _wrapped(a1 - a0), _wrapped(a2 - a0)
    r0 = _wrapped(a0 - a0)
    lo = a0 + _nan_min(_nan_min(r0, r1), r2)
    hi = a0 + _nan_max(_nan_max(r0, r1), r2)
    # edges: a -> b, outward normal (ey, -ex); the signed side of the start (origin) to
    # each: inside if all <= 0
    e0x, e0y = x1 - x0, y1 - y0
    e1x, e1y = x2 - x1, y2 - y1
    e2x, e2y = x0 - x2, y0 - y2
    side0 = -(x0 * e0y - y0 * e0x)
    side1 = -(x1 * e1y - y1 * e1x)
    side2 = -(x2 * e2y - y2 * e2x)
    if side0 <= 0.0 and side1 <= 0.0 and side2 <= 0.0:
        return -np.pi, np.pi, 0.0, 0.0
    near = min(min(_origin_to_edge(x0, y0, e0x, e0y), _origin_to_edge(x1, y1, e1x, e1y)),
               _origin_to_edge(x2, y2, e2x, e2y))
    # Cyrus-Beck: the ray s d enters where it crosses the last entering edge
    s_in, s_out, parallel_out = -np.inf, np.inf, False
    for ex, ey, side in ((e0x, e0y, side0), (e1x, e1y, side1), (e2x, e2y, side2)):
        nd = ey * dx - ex * dy  # n . d
        num = -side  # n . (a - 0)
        if nd < 0:
            s_in = _nan_max(s_in, num / nd)
        elif nd > 0:
            s_out = _nan_min(s_out, num / nd)
        elif nd == 0 and num < 0:
            parallel_out = True
    s_in = max(s_in, 0.0)
    return lo, hi, near, (s_in if s_in <= s_out and not parallel_out else np.inf)


@njit(cache=True, nogil=True, inline="always")
def _wrapped(a: float) -> float:
    """``(a + pi) % (2 pi) - pi``: an angle difference into [-pi, pi) (a float remainder
    takes the divisor's sign in numba as in numpy)."""
    return (a + np.pi) % (2 * np.pi) - np.pi


@njit(cache=True, nogil=True, inline="always")
def _origin_to_edge(ax: float, ay: float, ex: float, ey: float) -> float:
    """Distance from the origin to the edge a + t e, t in 0..1."""
    den = ex * ex + ey * ey
    t = min(max(-(ax * ex + ay * ey) / den if den > 0 else 0.0, 0.0), 1.0)
    return np.hypot(ax + t * ex, ay + t * ey)


@njit(cache=True, nogil=True, inline="always")
def _nan_max(a: float, b: float) -> float:
    """np.maximum of two floats (NaN wins)."""
    return a if a != a or a > b else b


@njit(cache=True, nogil=True, inline="always")
def _nan_min(a: float, b: float) -> float:
    """np.minimum of two floats (NaN wins)."""
    return a if a != a or a < b else b
