"""Predicted entries into zones: convex parts, a cone join, headings that lead inside.

Parts. Each zone (of a type that warns: not ``other``) is cut into convex parts in the
gnomonic plane (:mod:`.plane`): a zone given as a circle is one analytic part, an
ellipse in the plane (the circle's image: semi-axes r / cos(c)**2 along the radius from
the plane's centre and r / cos(c) across it); any other outline is cut into triangles
(constrained Delaunay, holes kept). A zone's parts cover exactly its outline.

Join. A track's possible headings form a cone: apex its plane position, axis its heading,
half-angle ``z_max * sigma`` (sigma: the heading uncertainty of :mod:`.predict`;
z_max = Phi^-1(1 - min_probability): a zone wholly beyond it on one side has less than
min_probability), length its reach over the horizon. The (cell, sector) index of
:mod:`.cone` gives every part the cone may meet in a few gathers; drones-only zones are
left out of the index searched for tracks they cannot bind. A cheap bound (the part's
bounding circle) then drops the parts of many-part zones that cannot matter before the
exact geometry.

Probability. As for nations, the track's heading is normal about its current heading
with the track's sigma; the probability of entering a zone is the probability mass of
the headings whose straight path meets one of its parts within reach: each part
subtends an interval of headings from the track (exact for triangles and ellipses, in
the plane's angles, which differ from ground angles by at most about 6 % at the edge of
the borders' box), the intervals of a zone are merged and their normal mass summed (a
circle zone is one interval).
Position uncertainty is not added (it is small against the heading spread beyond a few
kilometres).

Entry time. If the current heading itself leads into the zone, the ETA is when its path
first meets a part (line-triangle clipping, line-ellipse intersection); otherwise it is
when the track, deviating, could first be there: the time to fly to the zone's nearest
point. The zone must bind the track (class, cooperative flag: ``ZoneSet`` columns), be
active at the entry time (to the minute) and hold the track's predicted altitude then.
Zones the track is inside now are reported as inside (``ZoneSet.contains``), not here.

Distance: the plane distance to the zone's nearest part over the plane's largest scale at
the track, never more than the ground distance and at most about 7 % less at the edge of
the borders' box (1 / cos(c) - 1: radial and tangential scales differ).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from ..airspace.zoneset import ZoneSet
from ..geo import EARTH_RADIUS
from ..records import TARGET_CLASSES
from .cone import ConeIndex
from .plane import Paths, Plane

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

NOT_WARNED = ("other",)
_DRONE = TARGET_CLASSES.index("drone")
_UNKNOWN = TARGET_CLASSES.index("unknown")
@dataclass(slots=True)
class ZoneEntries:
    """Predicted zone entries: track row, zone index, probability, ETA (s), distance (m)."""

    track: IntArray
    zone: IntArray
    probability: FloatArray
    eta_s: FloatArray
    distance_m: FloatArray


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
        # Cone indexes: kind 0 all parts, kind 1 the parts of zones that bind more than
        # drones (a zone for drones only cannot bind an aircraft).
        drones_only = np.array([z.applies == "drones" for z in zones.zones], dtype=bool)
        self._kinds = (np.ones(self.zone.size, bool), ~drones_only[self.zone])
        self._index: list[tuple[ConeIndex, IntArray] | None] = [None, None]
        self._active: dict[int, NDArray[np.bool_]] = {}
        self._lock = threading.Lock()

    def index(self, kind: int, extent: tuple[float, float, float, float]
              ) -> tuple[ConeIndex, IntArray]:
        """The cone index of ``kind`` (built on first use) and its parts."""
        got = self._index[kind]
        if got is None:
            sel = np.flatnonzero(self._kinds[kind])
            got = (ConeIndex(self.px[sel], self.py[sel], self.rho[sel], extent), sel)
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
        """(track, part) pairs whose part may lie in the track's cone (module docstring).

        ``manned``: tracks that no drones-only zone binds (their search skips those)."""
        if not len(self) or not x0.size:
            return np.zeros(0, np.intp), np.zeros(0, np.intp)
        heading = np.arctan2(dy, dx)
        tracks, parts = [], []
        for kind in (0, 1):
            rows = np.flatnonzero(manned == bool(kind))
            if not rows.size:
                continue
            index, sel = self.index(kind, extent)
            t, p = index.query(x0[rows], y0[rows], heading[rows], half_angle[rows],
                               reach[rows])
            tracks.append(rows[t])
            parts.append(sel[p])
        return np.concatenate(tracks), np.concatenate(parts)

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
            t = part[it] - self.n_circles
            vx, vy = self.t_x[t] - x0[it, None], self.t_y[t] - y0[it, None]
            ddx, ddy = dx[it, None], dy[it, None]
            ang = np.arctan2(ddx * vy - ddy * vx, ddx * vx + ddy * vy)  # (m, 3)
            rel = (ang - ang[:, :1] + np.pi) % (2 * np.pi) - np.pi
            lo_t = ang[:, 0] + rel.min(axis=1)
            hi_t = ang[:, 0] + rel.max(axis=1)
            # edges: a -> b, outward normal (ey, -ex) for a counter-clockwise triangle
            ax_, ay_ = vx, vy
            bx_, by_ = np.roll(vx, -1, axis=1), np.roll(vy, -1, axis=1)
            ex, ey = bx_ - ax_, by_ - ay_
            # signed side of the start (origin) to each edge: inside if all <= 0
            side = -(ax_ * ey - ay_ * ex)  # n . (0 - a) with n = (ey, -ex)
            inside = (side <= 0.0).all(axis=1)
            lo[it] = np.where(inside, -np.pi, lo_t)
            hi[it] = np.where(inside, np.pi, hi_t)
            near[it] = np.where(inside, 0.0, _origin_to_triangle(ax_, ay_, ex, ey))
            # Cyrus-Beck: the ray s d enters where it crosses the last entering edge
            nd = ey * ddx - ex * ddy  # n . d
            num = -side  # n . (a - 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                s_edge = num / nd
            s_in = np.where(nd < 0, s_edge, -np.inf).max(axis=1)
            s_out = np.where(nd > 0, s_edge, np.inf).min(axis=1)
            parallel_out = ((nd == 0) & (num < 0)).any(axis=1)
            s_in = np.maximum(s_in, 0.0)
            ok = (s_in <= s_out) & ~parallel_out
            enter[it] = np.where(inside, 0.0, np.where(ok, s_in, np.inf))
        return lo, hi, near, enter


def _angle_from(dx: FloatArray, dy: FloatArray, vx: FloatArray, vy: FloatArray) -> FloatArray:
    """Angle (rad, counter-clockwise) from direction d to direction v."""
    return np.arctan2(dx * vy - dy * vx, dx * vx + dy * vy)


def _unscale(tx: FloatArray, ty: FloatArray, ux: FloatArray, uy: FloatArray, ar: FloatArray,
             at: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Direction in the ellipse's unit-circle frame back to the plane."""
    a, b = tx * ar, ty * at  # along e1 = (ux, uy) and e2 = (-uy, ux)
    return a * ux - b * uy, a * uy + b * ux


def _origin_to_triangle(ax: FloatArray, ay: FloatArray, ex: FloatArray,
                        ey: FloatArray) -> FloatArray:
    """Distance from the origin to the edges a + t e (t in 0..1) of each row, minimum."""
    den = ex * ex + ey * ey
    t = np.clip(np.where(den > 0, -(ax * ex + ay * ey) / np.where(den > 0, den, 1.0), 0.0),
                0.0, 1.0)
    return np.hypot(ax + t * ex, ay + t * ey).min(axis=1)


def zone_entries(
    parts: ZoneParts,
    paths: Paths,
    sigma: FloatArray,
    time: FloatArray,
    alt: FloatArray,
    vel_u: FloatArray,
    cls_code: IntArray,
    cooperative: NDArray[np.bool_],
    inside_track: IntArray,
    inside_zone: IntArray,
    min_probability: float,
    extent: tuple[float, float, float, float],
) -> ZoneEntries:
    """Predicted zone entries of the tracks whose nominal paths are ``paths`` (one per
    track; ``sigma``: heading sigma, radians). See the module docstring.

    A zone whose headings all lie more than z_max sigma to one side of the track's heading
    has a probability below 1 - Phi(z_max); z_max = Phi^-1(1 - min_probability) bounds
    the cone searched."""
    zs = parts.zones
    reach = paths.lam_max
    z_max = float(ndtri(1.0 - min(max(min_probability, 1e-6), 0.5)))
    drone_like = (cls_code == _DRONE) | (cls_code == _UNKNOWN)
    track, part = parts.candidates(paths.x0, paths.y0, paths.dx, paths.dy, reach,
                                   z_max * sigma, ~drone_like, extent)
    zone = parts.zone[part]
    # the zone must bind the track: class and cooperative flag
    binds = ((zs.class_mask[zone] >> cls_code[track]) & 1) == 1
    binds &= ~(zs.noncooperative_only[zone] & cooperative[track])
    track, part, zone = track[binds], part[binds], zone[binds]
    n_z = max(len(zs), 1)
    # circles: one part per zone, so the part's heading interval is the zone's
    circ = part < parts.n_circles
    c_track, c_zone, c_prob, c_enter, c_near = _single(
        parts, paths, sigma, track[circ], part[circ], zone[circ], reach, z_max, min_probability)
    # triangles: bound, exact intervals, merged per zone
    t_track, t_zone, t_prob, t_enter, t_near = _merged(
        parts, paths, sigma, track[~circ], part[~circ], zone[~circ], reach, z_max,
        min_probability)
    g_track = np.concatenate([c_track, t_track])
    g_zone = np.concatenate([c_zone, t_zone])
    prob = np.concatenate([c_prob, t_prob])
    g_enter = np.concatenate([c_enter, t_enter])
    g_near = np.concatenate([c_near, t_near])
    if inside_track.size and g_track.size:  # a zone the track is in is reported as inside
        now = np.unique(inside_track.astype(np.int64) * n_z + inside_zone)
        out = ~np.isin(g_track.astype(np.int64) * n_z + g_zone, now)
        g_track, g_zone, prob, g_enter, g_near = (
            g_track[out], g_zone[out], prob[out], g_enter[out], g_near[out])
    lam = np.where(np.isfinite(g_enter), g_enter, g_near)
    eta = paths.time_at(lam, g_track)
    # altitude band and schedule at the entry time
    a = alt[g_track] + vel_u[g_track] * eta
    band = np.isnan(a) | ((zs.floor_m[g_zone] <= a) & (a <= zs.ceiling_m[g_zone]))
    band &= parts.active_at(time[g_track] + eta, g_zone)
    scale = 1.0 + (paths.x0[g_track] ** 2 + paths.y0[g_track] ** 2) / EARTH_RADIUS**2
    return ZoneEntries(g_track[band], g_zone[band], prob[band], eta[band],
                       (g_near / scale)[band])


_Found = tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]


def _empty() -> _Found:
    z = np.zeros(0)
    return np.zeros(0, np.intp), np.zeros(0, np.intp), z, z, z


def _single(parts: ZoneParts, paths: Paths, sigma: FloatArray, track: IntArray,
            part: IntArray, zone: IntArray, reach: FloatArray, z_max: float,
            min_probability: float) -> _Found:
    """Zones of one part: probability, entry distance and nearest distance per pair."""
    if not track.size:
        return _empty()
    lo, hi, near, enter = parts.headings(part, paths.x0[track], paths.y0[track],
                                         paths.dx[track], paths.dy[track])
    s = sigma[track]
    prob = ndtr(hi / s) - ndtr(lo / s)
    keep = (near <= reach[track]) & (prob >= min_probability - 1e-12)
    track, zone, prob, near, enter = track[keep], zone[keep], prob[keep], near[keep], enter[keep]
    enter = np.where(enter <= reach[track], enter, np.inf)
    return track, zone, np.minimum(prob, 1.0), enter, near


def _merged(parts: ZoneParts, paths: Paths, sigma: FloatArray, track: IntArray,
            part: IntArray, zone: IntArray, reach: FloatArray, z_max: float,
            min_probability: float) -> _Found:
    """Zones of several parts: a cheap bound per part, exact intervals for the parts
    that may matter, merged per (track, zone)."""
    if not track.size:
        return _empty()
    # the part's bounding circle subtends at least its headings; a part of a zone of n
    # parts whose bound is below min_probability / n cannot lift the zone to
    # min_probability (the zone's is at most the sum over its parts), unless the track's
    # own heading meets it (its entry time matters)
    rx, ry = parts.px[part] - paths.x0[track], parts.py[part] - paths.y0[track]
    d = np.hypot(rx, ry)
    rho = parts.rho[part]
    hx, hy = paths.dx[track], paths.dy[track]
    theta = np.arctan2(hx * ry - hy * rx, hx * rx + hy * ry)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(d > rho, np.arcsin(np.minimum(rho / d, 1.0)), np.pi)
    s = sigma[track]
    blo, bhi = (theta - half) / s, (theta + half) / s
    bound = ndtr(bhi) - ndtr(blo)
    ahead = (blo <= 0.0) & (bhi >= 0.0)
    worth = (d - rho <= reach[track]) & (
        ahead | (bound * parts.zone_parts[zone] >= min_probability - 1e-12))
    track, part, zone = track[worth], part[worth], zone[worth]
    lo, hi, near, enter = parts.headings(part, paths.x0[track], paths.y0[track],
                                         paths.dx[track], paths.dy[track])
    s = sigma[track]
    zlo, zhi = lo / s, hi / s
    keep = (near <= reach[track]) & (zhi > -z_max) & (zlo < z_max)
    track, zone, zlo, zhi = track[keep], zone[keep], zlo[keep], zhi[keep]
    near, enter = near[keep], enter[keep]
    enter = np.where(enter <= reach[track], enter, np.inf)
    if not track.size:
        return _empty()
    # merge the heading intervals of each (track, zone) and sum their normal mass
    n_z = max(len(parts.zones), 1)
    key = track.astype(np.int64) * n_z + zone
    by_lo = np.argsort(zlo)
    order = by_lo[np.argsort(key[by_lo], kind="stable")]
    key, zlo, zhi = key[order], zlo[order], zhi[order]
    near, enter = near[order], enter[order]
    head = np.r_[True, key[1:] != key[:-1]]
    group = np.cumsum(head) - 1
    # running maximum of hi within a group: offset each group far apart (|z| is small)
    span = 4.0 * (np.abs(zhi).max() + np.abs(zlo).max() + 1.0)
    shifted = np.maximum.accumulate(group * span + zhi)
    prev_hi = np.r_[-np.inf, shifted[:-1]] - group * span
    prev_hi[head] = -np.inf
    start = np.maximum(zlo, prev_hi)
    mass = np.where(zhi > start, ndtr(zhi) - ndtr(start), 0.0)
    prob = np.minimum(np.bincount(group, weights=mass), 1.0)
    g_key = key[head]
    g_enter = np.full(prob.size, np.inf)
    np.minimum.at(g_enter, group, enter)
    g_near = np.full(prob.size, np.inf)
    np.minimum.at(g_near, group, near)
    likely = prob >= min_probability - 1e-12
    return ((g_key // n_z).astype(np.intp)[likely], (g_key % n_z).astype(np.intp)[likely],
            prob[likely], g_enter[likely], g_near[likely])
