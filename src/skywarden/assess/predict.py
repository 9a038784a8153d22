"""Predicted paths and the nations they enter: fan of headings, march, exact crossings.

Motion model. A track keeps its ground speed and flies the great circle through its
position with its heading (:mod:`.plane`); its altitude changes at its vertical speed.
Tracks slower than ``min_speed`` (hovering, stationary) or whose heading is unknown to
more than ``max_heading_sigma_deg`` get no prediction: they are assessed where they are.

Uncertainty. The heading is uncertain by a manoeuvre allowance per class (a drone may
turn 10 deg from its current heading over the horizon, an airliner 5 deg); with
``heading_from_sigma_vel``, by ``max(allowance(class), atan(sigma_vel / speed))``, the
velocity's own error where given (off by default: docs/ASSESSMENT.md says why). The
track's path is replaced by a fan of ``K`` paths at heading offsets ``z_i * sigma`` with
``z_i`` the normal quantiles ``(i + 0.5) / K`` and equal weights ``1 / K`` (K = 3: -0.97,
0, 0.97; K = 5: -1.28, -0.52, 0, 0.52, 1.28; the assessor's default is 3). Each member
is the median of one equal-probability slice of the heading distribution, so the weight
of the members that enter a nation estimates the probability of entering it to within one
slice; a Gauss-Hermite rule, exact for smooth integrands, is a poor fit for this step function (its
middle weight alone is 0.53 for K = 5).

Walks. Every path is a segment of the plane; walking it means stepping along it and
reading a raster layer (:mod:`.raster`) at each point: its value and a bound (no other
value within that many cells), plus, for the region layer, a directional clearance
(:mod:`.clearance`); the next point is ``max(bound, clearance, min_step)`` further on, so
a track far from any border crosses that distance in one step and only the stretch near
borders costs small steps. A change of value between two points is a crossing,
bracketed to the step; features narrower than the step along a path can be stepped over.
After ``max_iterations`` points the paths still walking (along a border) are sampled at
the minimum step to the horizon. Three walks:

1. the cone: each track's nominal path, with steps that keep every member's path in the
   same region; a track whose cone stays clear to the horizon enters no nation (nearly
   half the tracks over Europe), and its members are never walked;
2. the members of the other tracks, from where their cone stopped, over the region layer
   (sea given to the nearest nation, so coastlines vanish), at least
   ``REGION_STEP * min_step`` per step (4 km by default): stretches over foreign regions;
3. each foreign stretch over the land layer, at least ``min_step`` per step (2 km): the
   first point over that nation's land. Coastlines are walked only where they matter.

Entry time. For each (track, nation) reported, the crossing of one member (the nominal,
else the earliest member that enters) is bisected on the raster to a quarter cell; for
entries within ``refine_s`` it is then intersected with the nation's own border edges
near it, so its time is exact to the border data (the plane's 0.1 % path error aside);
later ones keep the raster's (about +-0.7 km along the path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from ..records import TARGET_CLASSES
from ..track.classify import ENVELOPES
from . import walks
from .plane import Paths
from .raster import SEA, Layer, NationRaster

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Manoeuvre allowance: 1-sigma heading change over the horizon, degrees, per class.
MANOEUVRE_DEG: dict[str, float] = {
    "aircraft": 5.0,
    "helicopter": 10.0,
    "drone": 10.0,
    "missile": 5.0,
    "balloon": 20.0,
    "bird": 30.0,
    "unknown": 10.0,
}
_ALLOWANCE = np.array([MANOEUVRE_DEG[c] for c in TARGET_CLASSES])
# Fastest ground speed (m/s) a track of each class is believed at: the class's speed
# envelope in the tracker's classifier, centre + CREDIBLE_SPREADS spreads, and never less
# than CREDIBLE_FLOOR (a balloon in a jet stream, a bird in a gale): drone 117,
# helicopter 155, balloon and bird 100 m/s. The class is evidence gathered over many
# updates; a velocity far beyond it is a velocity that has just jumped (a coasting track
# that took a plot of clutter or of another target: 300-700 m/s on a 45 m/s drone, on
# poland-2025-09), not a drone that became a jet. Such a track's prediction would warn
# nations a thousand kilometres away, so it is assessed where it is until the two agree
# again. Classes without an envelope (unknown) are bounded by the assessor's max_speed.
CREDIBLE_SPREADS = 4.0
CREDIBLE_FLOOR = 100.0
# Aircraft and missiles are bounded by max_speed alone: their envelopes hold the fastest
# targets there are.
_CREDIBLE = np.array([
    max(ENVELOPES[c][0][0] + CREDIBLE_SPREADS * ENVELOPES[c][0][1], CREDIBLE_FLOOR)
    if c in ENVELOPES and c not in ("aircraft", "missile") else np.inf
    for c in TARGET_CLASSES
])


def fan_offsets(k: int) -> tuple[FloatArray, FloatArray]:
    """Heading offsets (in sigmas) and weights of a ``k``-member fan (``k`` odd)."""
    if k < 1 or k % 2 == 0:
        raise ValueError(f"the fan needs an odd number of members, not {k}")
    z = ndtri((np.arange(k) + 0.5) / k)
    z[k // 2] = 0.0
    return z, np.full(k, 1.0 / k)


@dataclass(slots=True)
class Motion:
    """Per-track motion: ground speed (m/s), heading (deg), heading sigma (deg), vertical
    speed (m/s), and whether the track gets a prediction."""

    speed: FloatArray
    heading: FloatArray
    sigma_heading: FloatArray
    vel_u: FloatArray
    predict: NDArray[np.bool_]


def motion(
    vel: FloatArray,
    cls_code: IntArray,
    sigma_vel: FloatArray,
    min_speed: float,
    max_speed: float,
    max_heading_sigma_deg: float,
    max_sigma_vel: float = np.inf,
    heading_from_sigma_vel: bool = False,
) -> Motion:
    """Speed, heading and heading uncertainty from ENU velocities (see the module doc).

    A track gets no prediction when its velocity is known to worse than ``max_sigma_vel``
    (m/s, per axis; NaN: not known, no bound): whatever its heading, where it will be in
    half an hour is then uncertain by that times the horizon (60 m/s: 108 km). On
    poland-2025-09 a confirmed drone track's sigma_vel is 11-40 m/s (5-95 %), a coasting
    one's 57-111 m/s, and that of a track whose velocity jumped on a wrong plot (to 250 m/s
    or more) 71-208 m/s: the predictions from the latter warned nations hundreds of
    kilometres away. With ``heading_from_sigma_vel`` false the heading spread is the class
    allowance alone and ``sigma_vel`` serves only as that bound."""
    ve, vn, vu = vel[:, 0], vel[:, 1], vel[:, 2]
    speed = np.hypot(ve, vn)
    heading = np.degrees(np.arctan2(ve, vn)) % 360.0
    code = np.clip(cls_code, 0, len(TARGET_CLASSES) - 1)
    allowance = _ALLOWANCE[code]
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.degrees(np.arctan2(np.nan_to_num(sigma_vel, nan=0.0), speed))
    if not heading_from_sigma_vel:
        own = np.zeros_like(speed)
    sigma = np.maximum(allowance, own)
    ok = (
        np.isfinite(speed)
        & (speed >= min_speed)
        & (speed <= np.minimum(max_speed, _CREDIBLE[code]))
        & (sigma <= max_heading_sigma_deg)
        & ~(sigma_vel > max_sigma_vel)  # NaN (not known) passes
    )
    return Motion(speed, heading, sigma, np.where(np.isfinite(vu), vu, 0.0), ok)


@dataclass(slots=True)
class Entries:
    """First predicted entry of each (track, nation) with its probability.

    ``track``: row of the predicted tracks; ``nation``: index into ``Borders.codes``;
    ``probability``: weight of the members that enter; ``eta_s``: seconds to entry of the
    reported member; ``lat``, ``lon``: where it enters.
    """

    track: IntArray
    nation: IntArray
    probability: FloatArray
    eta_s: FloatArray
    lat: FloatArray
    lon: FloatArray


def fan_paths(
    raster: NationRaster,
    lat: FloatArray,
    lon: FloatArray,
    mo: Motion,
    horizon_s: float,
    offsets: FloatArray,
) -> Paths:
    """One path per (track, member), member-major within each track (row = t * K + m)."""
    return Paths.fan(raster.plane, lat, lon, mo.heading, offsets[None, :] * mo.sigma_heading[:, None],
                     mo.speed, horizon_s)


def march(
    raster: NationRaster,
    layer: Layer,
    paths: Paths,
    rows: IntArray,
    lam_from: FloatArray,
    lam_to: FloatArray,
    min_step: float,
    stop: IntArray | None = None,
    max_iterations: int = 40,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Walk paths ``rows`` from ``lam_from`` to ``lam_to`` (plane metres) over ``layer``.

    Returns the value changes as (index into ``rows``, lam_before, lam_after, value), in
    increasing lam for each row: the layer's value at ``lam_after`` differs from the one
    at ``lam_before``, the previous point walked (the first point always counts as a
    change, from nothing). With ``stop``, only the first point whose value is ``stop[i]``
    is returned, and the walk of that row ends there. Walks run only where the path is on
    the grid: from where it comes onto it (a track beyond the borders' box) to its edge.

    From a point whose cell has bound r (cells) no other value lies within r cells, so the
    next point is max(r, min_step) further. After ``max_iterations`` points the rows
    still walking (paths along a border) are sampled every min_step to the end. The walk
    itself is compiled (:mod:`.walks`).
    """
    cell = raster.cell
    x0, y0, dx, dy, enter, leave = _on_grid(raster, paths, rows)
    clr = layer.clearance
    if clr is not None:  # directional clearance: (block, sector) table
        table, nbx, sec = clr.table, clr.nbx, clr.sector(dx, dy)
    else:
        table, nbx, sec = _NO_TABLE, 0, _NO_SECTOR
    target = _NO_TARGET if stop is None else stop.astype(np.int8)
    lend = np.minimum(lam_to / cell, leave)
    i, a, b, v = walks.march_all(x0, y0, dx, dy, lam_from / cell, enter, lend, layer.value,
                                 layer.bound, table, nbx, sec, raster.nx + 2, min_step / cell,
                                 target, max_iterations, max(16, 4 * rows.size))
    return i.astype(np.intp), a * cell, b * cell, v.astype(np.intp)


_NO_TABLE = np.zeros(0, np.uint8)
_NO_SECTOR = np.zeros(0, np.int64)
_NO_TARGET = np.zeros(0, np.int8)


def _on_grid(raster: NationRaster, paths: Paths, rows: IntArray
             ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Paths ``rows`` as the walks take them: start in cells of the padded grid (origin at
    its corner; every walk ends inside the frame), direction, and where each is on the
    grid (:func:`_span`)."""
    x0 = (paths.x0[rows] - raster.xmin) / raster.cell + 1.0
    y0 = (paths.y0[rows] - raster.ymin) / raster.cell + 1.0
    dx, dy = paths.dx[rows], paths.dy[rows]
    return (x0, y0, dx, dy, *_span(raster, x0, y0, dx, dy))


def _span(raster: NationRaster, x0: FloatArray, y0: FloatArray, dx: FloatArray,
          dy: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Where each ray (from x0, y0 in cells of the padded grid, along the unit dx, dy)
    is on the grid: from ``enter`` to ``leave`` (cells along it, enter >= 0), the stretch
    inside [0.5, nx + 1.5] x [0.5, ny + 1.5]. A ray that starts on the grid enters at 0;
    one that misses it (a track beyond the borders' box heading away) has leave < enter.
    """
    return walks.span(x0, y0, dx, dy, raster.nx, raster.ny)


# The region walk (borders between nations, lines across the sea) steps at least this
# many times min_step; the land walk (coasts, within a foreign nation's region) min_step.
REGION_STEP = 2.0


def cone_walk(
    raster: NationRaster,
    layer: Layer,
    paths: Paths,
    rows: IntArray,
    slope: FloatArray,
    min_step: float,
    max_iterations: int = 40,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Walk paths ``rows`` keeping a cone of half-width ``lam * slope`` around each in one
    value of ``layer``. Returns whether the cone stayed clear to the end (or the grid's
    edge) and, where not, the last plane distance up to which it was (metres).

    From a point at lam with bound r (cells), every point of the cone between lam and
    lam + s is within s + (lam + s) * slope of it, so the step s = (r - lam * slope) /
    (1 + slope) keeps the cone inside r. The walk stops where that step falls below
    min_step.
    """
    cell = raster.cell
    x0, y0, dx, dy, enter, leave = _on_grid(raster, paths, rows)
    # a path never on the grid within the horizon enters no nation the data holds
    clear, stop = walks.cone(x0, y0, dx, dy, enter,
                             np.minimum(paths.lam_max[rows] / cell, leave), slope,
                             layer.bound, raster.nx + 2, min_step / cell, max_iterations)
    return clear, stop * cell


def entries(
    raster: NationRaster,
    paths: Paths,
    start: IntArray,
    weights: FloatArray,
    min_step: float,
    min_probability: float,
    max_iterations: int = 40,
    refine_s: float = np.inf,
) -> Entries:
    """First entries per (track, nation) within the horizon (module docstring).

    ``start``: exact nation index of each track (-1 none). Paths are member-major per
    track (``fan_paths``). The three walks of the module docstring: the cone, the members
    over the region layer (stretches over foreign regions), each foreign stretch over the
    land layer (the first point over that nation's land). Entries from outside the
    borders' box (where nothing is known) do not count.
    """
    k = weights.size
    n_tracks = paths.x0.size // k
    member_start = np.repeat(start, k)
    # 1. the cone: walk each nominal path with steps that keep every member's path in
    # one region; a track whose cone stays clear to the horizon needs no member walks
    nominal = np.arange(n_tracks) * k + k // 2
    # (the nominal member's own term, 0, never raises the maximum)
    dxm, dym = paths.dx.reshape(n_tracks, k), paths.dy.reshape(n_tracks, k)
    slope = np.zeros(n_tracks)
    for m in range(k):
        if m != k // 2:
            slope = np.maximum(slope, np.hypot(dxm[:, m] - dxm[:, k // 2],
                                               dym[:, m] - dym[:, k // 2]))
    clear, lam_stop = cone_walk(raster, raster.region, paths, nominal, slope, min_step,
                                max_iterations)
    start_region = raster.region.value[raster.cell_of(paths.x0[nominal], paths.y0[nominal])]
    # 2. members of the other tracks walk the region layer from where the cone stopped
    walk = np.flatnonzero(~clear)
    rows = (walk[:, None] * k + np.arange(k)).ravel()
    i, lam_a, lam_b, region = march(raster, raster.region, paths, rows,
                                    np.repeat(lam_stop[walk], k), paths.lam_max[rows],
                                    REGION_STEP * min_step, None, max_iterations)
    i = rows[i]
    # clear tracks stay in their start region: one stretch per member, for those whose
    # region is foreign (a track over the sea, in the region of the nation ahead)
    sea = np.flatnonzero(clear & (start_region >= 0) & (start_region != start))
    srows = (sea[:, None] * k + np.arange(k)).ravel()
    i = np.concatenate([srows, i])
    lam_a = np.concatenate([np.zeros(srows.size), lam_a])
    lam_b = np.concatenate([np.zeros(srows.size), lam_b])
    region = np.concatenate([np.repeat(start_region[sea].astype(np.intp), k), region])
    order = np.argsort(i, kind="stable")
    i, lam_a, lam_b, region = i[order], lam_a[order], lam_b[order], region[order]
    # the stretches over foreign regions (march returns each path's changes in order),
    # and whether each starts over that nation's land already (compiled: walks.stretches)
    rows, lam_from, lam_to, target, at, now = walks.stretches(
        i, lam_a, lam_b, region, member_start, paths.lam_max, paths.x0, paths.y0, paths.dx,
        paths.dy, raster.land.value, raster.xmin, raster.ymin, raster.cell, raster.nx,
        raster.ny, SEA)
    # 3. in each foreign stretch, the first point over that nation's land
    walk = np.flatnonzero(~now)
    j, a2, b2, nation = march(raster, raster.land, paths, rows[walk], at[walk], lam_to[walk],
                              min_step, target[walk], max_iterations)
    hit = np.flatnonzero(now)
    j = np.concatenate([hit, walk[j]])
    lam_a = np.concatenate([lam_from[hit], a2])
    lam_b = np.concatenate([at[hit], b2])
    nation = np.concatenate([target[hit], nation])
    order = np.argsort(j, kind="stable")
    j, lam_a, lam_b, nation = j[order], lam_a[order], lam_b[order], nation[order]
    # rows (hence j) are in path order, stretches in lam order: the first row of each
    # (path, nation) is its first entry
    path = rows[j]
    n_nations = len(raster.borders.codes)
    key = path * n_nations + nation
    _, first = np.unique(key, return_index=True)
    path, lam_a, lam_b, nation = path[first], lam_a[first], lam_b[first], nation[first]
    if not path.size:
        z = np.zeros(0)
        return Entries(np.zeros(0, np.intp), np.zeros(0, np.intp), z, z, z, z)
    track, member = np.divmod(path, k)
    # per (track, nation): probability, and the member reported: the nominal if it
    # enters, else the earliest (the members of a track fly at one speed, so the
    # earliest is the one with the least plane distance: sort key group, then
    # not-nominal, then whole hundreds of metres)
    group_key = track * n_nations + nation
    rank = ((~(member == k // 2)).astype(np.int64) * 65536
            + np.minimum(lam_b / 100.0, 65535).astype(np.int64))
    order = np.argsort(group_key * 131072 + rank, kind="stable")  # ties: member order
    gk = group_key[order]
    head = np.r_[True, gk[1:] != gk[:-1]]
    group = np.cumsum(head) - 1
    prob = np.bincount(group, weights=weights[member[order]])
    chosen = order[head]
    likely = prob >= min_probability - 1e-12
    chosen, prob = chosen[likely], np.minimum(prob[likely], 1.0)
    p, nat = path[chosen], nation[chosen]
    lam = crossing(raster, paths, p, lam_a[chosen], lam_b[chosen], nat, refine_s)
    real = np.isfinite(lam)
    p, nat, prob, chosen, lam = p[real], nat[real], prob[real], chosen[real], lam[real]
    x, y = paths.x0[p] + lam * paths.dx[p], paths.y0[p] + lam * paths.dy[p]
    lat, lon = raster.plane.inverse(x, y)
    eta = paths.time_at(lam, p)
    return Entries(track[chosen], nat, prob, eta, lat, lon)


def crossing(
    raster: NationRaster,
    paths: Paths,
    path: IntArray,
    lam_a: FloatArray,
    lam_b: FloatArray,
    nation: IntArray,
    refine_s: float = np.inf,
) -> FloatArray:
    """Plane distance along ``path`` where it enters ``nation`` between lam_a and lam_b:
    raster bisection to a quarter cell, then, for crossings within ``refine_s`` seconds,
    the exact border edge (module docstring). NaN where the exact crossing lies behind
    the start (the track is leaving)."""
    cell = raster.cell
    x0, y0, dx, dy = paths.x0[path], paths.y0[path], paths.dx[path], paths.dy[path]
    a, b = walks.bisect(x0, y0, dx, dy, lam_a, lam_b, nation, raster.land.value, raster.xmin,
                        raster.ymin, cell, raster.nx, raster.ny)
    est = 0.5 * (a + b)
    out = np.maximum(est, 0.0)
    near = np.flatnonzero(paths.time_at(est, path) <= refine_s)
    if not near.size:
        return out
    half = cell
    e, x0, y0, dx, dy = est[near], x0[near], y0[near], dx[near], dy[near]
    lo = e - half
    u = raster.refine(x0 + lo * dx, y0 + lo * dy, x0 + (e + half) * dx, y0 + (e + half) * dy,
                      nation[near])
    exact = lo + u * 2.0 * half
    # A crossing found behind the start means the track is leaving that nation: no entry.
    out[near] = np.where(np.isfinite(u), np.where(exact >= 0.0, exact, np.nan), out[near])
    return out


__all__ = ["MANOEUVRE_DEG", "Entries", "Motion", "entries", "fan_offsets", "march",
           "motion"]
