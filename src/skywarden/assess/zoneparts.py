"""Zones as convex parts in the gnomonic plane, and the heading interval each part
subtends from a track: the geometry of :mod:`.encounter` (whose docstring tells how).

Its kernels inline :func:`.walks.nan_max` and :func:`.walks.nan_min`; numba caches them
by this file, so after an edit of those two, clear this file's cache.
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
from .walks import nan_max, nan_min

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
        the whole circle and distance 0."""
        m = part.size
        lo, hi = np.full(m, -np.pi), np.full(m, np.pi)
        near = np.zeros(m)
        enter = np.full(m, np.inf)
        circ = part < self.n_circles
        ic = np.flatnonzero(circ)
        if ic.size:
            c = part[ic]
            ex, ey = self.c_x[c] - x0[ic], self.c_y[c] - y0[ic]
            ux, uy = self.c_ux[c], self.c_uy[c]
            ar, at = self.c_ar[c], self.c_at[c]
            # ellipse frame: e1 along the radius (semi-axis ar), e2 across (at); scale to
            # a unit circle: points p -> ((p.e1) / ar, (p.e2) / at)
            px_, py_ = (-ex * ux - ey * uy) / ar, (ex * uy - ey * ux) / at  # start - centre
            qx, qy = (dx[ic] * ux + dy[ic] * uy) / ar, (-dx[ic] * uy + dy[ic] * ux) / at
            d_unit = np.hypot(px_, py_)
            inside = d_unit <= 1.0
            # tangent directions from the start to the unit circle, mapped back
            base = np.arctan2(-py_, -px_)
            half = np.arcsin(np.minimum(1.0 / np.maximum(d_unit, 1.0), 1.0))
            t1x, t1y = np.cos(base - half), np.sin(base - half)
            t2x, t2y = np.cos(base + half), np.sin(base + half)
            a1 = _angle_from(dx[ic], dy[ic], *_unscale(t1x, t1y, ux, uy, ar, at))
            a2 = _angle_from(dx[ic], dy[ic], *_unscale(t2x, t2y, ux, uy, ar, at))
            lo_c, hi_c = np.minimum(a1, a2), np.maximum(a1, a2)
            wrap = hi_c - lo_c > np.pi  # the interval runs through the back
            lo_c, hi_c = np.where(wrap, hi_c, lo_c), np.where(wrap, lo_c + 2 * np.pi, hi_c)
            lo[ic] = np.where(inside, -np.pi, lo_c)
            hi[ic] = np.where(inside, np.pi, hi_c)
            dist = np.hypot(ex, ey)
            near[ic] = np.where(inside, 0.0, np.maximum(dist - ar, 0.0))
            # ray p + s q meets the unit circle: |p + s q|^2 = 1
            qa = qx * qx + qy * qy
            qb = 2.0 * (px_ * qx + py_ * qy)
            qc = px_ * px_ + py_ * py_ - 1.0
            disc = qb * qb - 4.0 * qa * qc
            s = (-qb - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * qa)
            hit = (disc >= 0.0) & (s >= 0.0)
            enter[ic] = np.where(inside, 0.0, np.where(hit, s, np.inf))
        it = np.flatnonzero(~circ)
        if it.size:
            # The arithmetic compiled (_triangle_rays, _triangle_sides: the operations of
            # the numpy formulation, in its order), the arctan2 and hypot left to numpy:
            # its loops for them may round differently from libm's on some CPUs
            # (AVX-512), and the rows must not depend on which code computed them.
            cross, dot, vx, vy = _triangle_rays(part[it] - self.n_circles, x0[it], y0[it],
                                                dx[it], dy[it], self.t_xv, self.t_yv)
            lo[it], hi[it], inside, qx, qy, enter[it] = _triangle_sides(
                np.arctan2(cross, dot), vx, vy, dx[it], dy[it])
            near[it] = np.where(inside, 0.0, np.hypot(qx, qy).min(axis=0))
        return lo, hi, near, enter


def _angle_from(dx: FloatArray, dy: FloatArray, vx: FloatArray, vy: FloatArray) -> FloatArray:
    """Angle (rad, counter-clockwise) from direction d to direction v."""
    return np.arctan2(dx * vy - dy * vx, dx * vx + dy * vy)


def _unscale(tx: FloatArray, ty: FloatArray, ux: FloatArray, uy: FloatArray, ar: FloatArray,
             at: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Direction in the ellipse's unit-circle frame back to the plane."""
    a, b = tx * ar, ty * at  # along e1 = (ux, uy) and e2 = (-uy, ux)
    return a * ux - b * uy, a * uy + b * ux


@njit(cache=True, nogil=True)
def _triangle_rays(t: np.ndarray, x0: np.ndarray, y0: np.ndarray, dx: np.ndarray,
                   dy: np.ndarray, t_xv: np.ndarray, t_yv: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each pair (triangle ``t[i]``, track start and unit heading), by vertex rows
    (3, pairs): the cross and dot products of the heading with each vertex seen from the
    start (the arguments of the vertex's angle from the heading), and the vertices."""
    m = t.size
    cross, dot = np.empty((3, m)), np.empty((3, m))
    vx, vy = np.empty((3, m)), np.empty((3, m))
    for i in range(m):
        for j in range(3):
            vx[j, i] = t_xv[j, t[i]] - x0[i]
            vy[j, i] = t_yv[j, t[i]] - y0[i]
            cross[j, i] = dx[i] * vy[j, i] - dy[i] * vx[j, i]
            dot[j, i] = dx[i] * vx[j, i] + dy[i] * vy[j, i]
    return cross, dot, vx, vy


@njit(cache=True, nogil=True)
def _triangle_sides(ang: np.ndarray, vx: np.ndarray, vy: np.ndarray, dx: np.ndarray,
                    dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                             np.ndarray, np.ndarray]:
    """From the vertices' angles ``ang`` (from the heading) and the vertices (by rows,
    counter-clockwise) seen from each start: the interval of headings (the whole circle
    from inside), whether the start is inside, the nearest point of each edge (by rows:
    its hypot, least over the edges, is the distance to the triangle), and the distance
    along the heading ray to where it enters (Cyrus-Beck; 0 from inside, inf where it
    does not)."""
    m = ang.shape[1]
    lo, hi, enter = np.empty(m), np.empty(m), np.empty(m)
    inside = np.empty(m, np.bool_)
    qx, qy = np.empty((3, m)), np.empty((3, m))
    for i in range(m):
        a0 = ang[0, i]
        r_lo = r_hi = (a0 - a0 + np.pi) % (2 * np.pi) - np.pi
        for j in range(1, 3):
            r = (ang[j, i] - a0 + np.pi) % (2 * np.pi) - np.pi
            r_lo, r_hi = nan_min(r_lo, r), nan_max(r_hi, r)
        inside[i] = True
        s_in, s_out, parallel_out = -np.inf, np.inf, False
        for j in range(3):
            # edge a -> b, outward normal (ey, -ex); the start's signed side (inside if
            # all <= 0)
            ax, ay = vx[j, i], vy[j, i]
            ex, ey = vx[(j + 1) % 3, i] - ax, vy[(j + 1) % 3, i] - ay
            side = -(ax * ey - ay * ex)  # n . (0 - a) with n = (ey, -ex)
            inside[i] = inside[i] and side <= 0.0
            den = ex * ex + ey * ey
            t = min(max(-(ax * ex + ay * ey) / den if den > 0 else 0.0, 0.0), 1.0)
            qx[j, i], qy[j, i] = ax + t * ex, ay + t * ey
            nd = ey * dx[i] - ex * dy[i]  # n . d
            num = -side  # n . (a - 0)
            if nd < 0:
                s_in = nan_max(s_in, num / nd)
            elif nd > 0:
                s_out = nan_min(s_out, num / nd)
            elif nd == 0 and num < 0:
                parallel_out = True
        s_in = max(s_in, 0.0)
        if inside[i]:
            lo[i], hi[i], enter[i] = -np.pi, np.pi, 0.0
        else:
            lo[i], hi[i] = a0 + r_lo, a0 + r_hi
            enter[i] = s_in if s_in <= s_out and not parallel_out else np.inf
    return lo, hi, inside, qx, qy, enter
