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
:mod:`.cone` gives every item the cone may meet in a few gathers (a circle zone's ellipse,
a small cut zone's disc, a large cut zone's triangles: :meth:`ZoneParts._items`);
drones-only zones are left out of the index searched for tracks they cannot bind. A
zone's disc then drops the pairs that cannot reach min_probability (:func:`_may_matter`),
and the part's bounding circle the parts of many-part zones that cannot matter, before
the exact geometry.

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

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from ..geo import EARTH_RADIUS
from ..records import TARGET_CLASSES
from .plane import Paths
from .zoneparts import ZoneParts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

__all__ = ["ZoneEntries", "ZoneParts", "zone_entries"]
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
    track, item = parts.candidates(paths.x0, paths.y0, paths.dx, paths.dy, reach,
                                   z_max * sigma, ~drone_like, extent)
    # the zone must bind the track (class, cooperative flag), and its disc must hold
    # enough of the track's headings within reach (:func:`_may_matter`)
    zone = parts.item_zone[item]
    may = _may_matter(parts, paths, sigma, track, zone, cls_code, cooperative, reach,
                      min_probability)
    track, part, zone = track[may], parts.item_part[item[may]], zone[may]
    n_z = max(len(zs), 1)
    # circles: one part per zone, so the part's heading interval is the zone's
    circ = (part >= 0) & (part < parts.n_circles)
    c_track, c_zone, c_prob, c_enter, c_near = _single(
        parts, paths, sigma, track[circ], part[circ], zone[circ], reach, z_max, min_probability)
    # cut zones: triangles (those of small zones from their disc), bound, exact
    # intervals, merged per zone
    tri = np.flatnonzero(part >= parts.n_circles)
    disc = np.flatnonzero(part < 0)
    d_track, d_part, d_zone = parts.cut_parts(track[disc], zone[disc])
    t_track, t_zone, t_prob, t_enter, t_near = _merged(
        parts, paths, sigma, np.concatenate([track[tri], d_track]),
        np.concatenate([part[tri], d_part]), np.concatenate([zone[tri], d_zone]), reach, z_max,
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


# The disc test of :func:`_may_matter` (off: every binding pair gets the exact geometry,
# as the equivalence test compares).
DISC_TEST = True


def _may_matter(parts: ZoneParts, paths: Paths, sigma: FloatArray, track: IntArray,
                zone: IntArray, cls_code: IntArray, cooperative: NDArray[np.bool_],
                reach: FloatArray, min_probability: float) -> IntArray:
    """The pairs (indices) whose zone ``zone[i]`` binds track ``track[i]`` (class,
    cooperative flag) and may be entered by it with at least ``min_probability``: a
    necessary condition, from the zone's disc (a few operations a pair, against the exact
    geometry's dozens; most candidates of the cone index fail it).

    Every heading that meets the zone meets its disc, which subtends headings within
    ``half = asin(rho / d)`` of the direction ``theta`` to its centre, and lies within
    reach only if ``d - rho`` does. The zone's headings form one interval of width at most
    ``2 half``, each at least ``|theta| - half`` from the track's heading (modulo a full
    turn), so their normal mass is at most that of ``[|theta| - half, |theta| + half]``.
    The exact probability can only be lower: a pair that fails here would be dropped
    below ``min_probability`` later (the margins cover rounding), so no row changes.
    The normal's tail alone (``|theta| - half`` beyond z_max sigma) settles most pairs
    first, compiled in one pass with the binding test (:func:`_binding_near`); ``ndtr``,
    the costly part, runs on the others.
    """
    z_max = float(ndtri(1.0 - min(max(min_probability, 1e-6), 0.5)))
    zs = parts.zones
    pick, theta, half = _binding_near(
        track, zone, cls_code, cooperative, zs.class_mask, zs.noncooperative_only,
        parts.disc_x, parts.disc_y, parts.disc_rho, paths.x0, paths.y0, paths.dx, paths.dy,
        sigma, reach, z_max + 1e-6, DISC_TEST)
    if not DISC_TEST:
        return pick
    s = sigma[track[pick]]
    return pick[ndtr((theta + half) / s) - ndtr((theta - half) / s) >= min_probability - 1e-9]


@njit(cache=True, nogil=True)
def _binding_near(track: np.ndarray, zone: np.ndarray, cls_code: np.ndarray,
                  cooperative: np.ndarray, class_mask: np.ndarray, nc_only: np.ndarray,
                  disc_x: np.ndarray, disc_y: np.ndarray, disc_rho: np.ndarray,
                  x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray,
                  sigma: np.ndarray, reach: np.ndarray, z_tail: float, disc: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose zone binds the track and, with ``disc``, whose disc lies within
    reach and within ``z_tail`` sigmas of the track's heading (plus ``|theta|``, ``half``
    of :func:`_may_matter` for them)."""
    n = track.size
    pick = np.empty(n, np.int64)
    theta, half = np.empty(n), np.empty(n)
    k = 0
    for p in range(n):
        t, z = track[p], zone[p]
        if (class_mask[z] >> cls_code[t]) & 1 != 1 or (nc_only[z] and cooperative[t]):
            continue
        if disc:
            rx, ry = disc_x[z] - x0[t], disc_y[z] - y0[t]
            hx, hy = dx[t], dy[t]
            if _surely_aside(rx, ry, hx * rx + hy * ry, disc_rho[z], z_tail * sigma[t]):
                continue
            d, rho = np.hypot(rx, ry), disc_rho[z]
            if d - rho > reach[t]:
                continue
            th = abs(np.arctan2(hx * ry - hy * rx, hx * rx + hy * ry))
            hf = np.arcsin(min(rho / d, 1.0)) if d > rho else np.pi
            if th - hf > z_tail * sigma[t]:
                continue
            theta[k], half[k] = th, hf
        pick[k] = p
        k += 1
    return pick[:k], theta[:k], half[:k]


# Margin of :func:`_surely_aside` on the cosine: far beyond the rounding of either test.
_ASIDE_MARGIN = 1e-9


@njit(cache=True, nogil=True, inline="always")
def _surely_aside(rx: float, ry: float, along: float, rho: float, tail: float) -> bool:
    """Whether a disc (radius ``rho``, centre ``(rx, ry)`` from the track, ``along`` the
    track's unit heading) surely lies more than ``tail`` radians to one side of the
    heading: the test of :func:`_binding_near`, ``theta - half > tail``, decided without
    its arctan2, arcsin and hypot for the pairs far from the edge (most of them); the
    others are left to it, so the pairs kept are the same.

    With ``s = rho / d`` (``half = asin(s)``, up to pi / 2) and ``tail`` below pi / 2,
    ``half + tail`` is below pi, where the cosine decreases, so ``theta > half + tail``
    when ``cos(theta) < cos(half + tail)``; and ``cos(half + tail) >= cos(half) (1 -
    tail**2 / 2) - s tail``, which needs no trigonometry."""
    d = np.sqrt(rx * rx + ry * ry)
    if not (d > rho and 0.0 <= tail < 1.5):
        return False
    s = rho / d
    bound = np.sqrt(1.0 - s * s) * (1.0 - 0.5 * tail * tail) - s * tail
    return along < (bound - _ASIDE_MARGIN) * d


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
    # the groups are runs (sorted by key): a reduction per run, not an unbuffered ufunc.at
    first = np.flatnonzero(head)
    g_enter = np.minimum.reduceat(enter, first)
    g_near = np.minimum.reduceat(near, first)
    likely = prob >= min_probability - 1e-12
    return ((g_key // n_z).astype(np.intp)[likely], (g_key % n_z).astype(np.intp)[likely],
            prob[likely], g_enter[likely], g_near[likely])
