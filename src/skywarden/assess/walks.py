"""Compiled (numba) walks of predicted paths over the nation raster's layers, and the
crossings they find, bisected on the raster and intersected with the border edges.

The walks of :mod:`.predict` (the cone and the march, documented there) step each path
from point to point, reading a raster cell at each. In numpy every step was a dozen
passes over all the paths still walking, plus the compaction of those that stopped; here
a block of ``LANES`` paths is stepped together in one loop, the reads of a step first
(each is a cache miss: a prefetch of every path's cell, :mod:`.prefetch`, then the
reads, so the misses overlap), the decisions after, and a path leaves the block where it
ends. The steps, the points and the floating-point operations are those of the numpy
formulation they replaced, so the crossings found are the same to the bit
(tests/test_assess_walks.py walks them by hand).

The kernels release the GIL (``nogil``): the assessor's threads walk their shares of the
tracks at once. ``cache=True`` keeps the compiled code beside this file (as
:mod:`skywarden.track.kernels` does).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .clearance import SECTORS, SHIFT, UNIT
from .prefetch import prefetch

NOTHING = 99  # a value no layer holds: the first point walked is always a change
# Paths walked side by side. One path alone waits on each step's raster read (a cache
# miss on a 50 MB grid) before it knows where to read next; the steps of different paths
# are independent, so a block of them keeps many reads in flight.
LANES = 256


@njit(cache=True, nogil=True)
def cone(x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray, enter: np.ndarray,
         lend: np.ndarray, slope: np.ndarray, bound: np.ndarray, nx2: int, ms: float,
         max_iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """Per path (cells of the padded grid): whether its cone of half-width lam * slope
    stays in one value to ``lend``, and where not, the lam up to which it does."""
    n = x0.size
    clear = np.zeros(n, dtype=np.bool_)
    stop = np.zeros(n)
    act = np.empty(LANES, np.int64)
    lam = np.empty(LANES)
    got = np.empty(LANES, bound.dtype)
    flat = np.empty(LANES, np.int64)
    for first in range(0, n, LANES):
        cnt = 0
        for i in range(first, min(first + LANES, n)):
            if lend[i] < enter[i]:  # never on the grid within the horizon
                clear[i] = True
            else:
                act[cnt], lam[cnt] = i, enter[i]
                cnt += 1
        for _ in range(max_iterations):
            for q in range(cnt):  # the cells of the step asked for first (module docstring)
                i = act[q]
                flat[q] = (np.int64(y0[i] + lam[q] * dy[i]) * nx2
                           + np.int64(x0[i] + lam[q] * dx[i]))
                prefetch(bound, flat[q])
            for q in range(cnt):  # then read, side by side
                got[q] = bound[flat[q]]
            w = 0
            for q in range(cnt):
                i, at = act[q], lam[q]
                step = (np.float64(got[q]) - at * slope[i]) / (1.0 + slope[i])
                if step < ms:  # blocked: the members take over from here
                    stop[i] = at
                elif at + step >= lend[i]:  # clear to the end
                    clear[i] = True
                else:
                    act[w], lam[w] = i, at + step
                    w += 1
            cnt = w
            if cnt == 0:
                break
        for q in range(cnt):  # still walking: the members take over from here
            stop[act[q]] = lam[q]
    return clear, stop


@njit(cache=True, nogil=True)
def march(x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray,
          lam_from: np.ndarray, enter: np.ndarray, lend: np.ndarray, value: np.ndarray,
          bound: np.ndarray, table: np.ndarray, nbx: int, sector: np.ndarray, nx2: int,
          ms: float, target: np.ndarray, max_iterations: int, begin: int, cap: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Walk each path (cells of the padded grid) from ``lam_from`` to ``lend``, where it
    is on the grid (from ``enter``: a path never on the grid before ``lend`` has nothing
    to walk); the value changes as (path, lam before, lam after, value), in path order
    and lam order within each (:func:`skywarden.assess.predict.march`). ``table`` empty:
    no directional clearance. ``target`` empty: every change; else only the first point
    whose value is ``target[i]``, where that path's walk ends.

    Walks paths ``begin`` onwards until their changes would overflow ``cap``; returns
    the changes and the first path not walked (``x0.size`` when all were). Growing the
    buffers inside the loop would make every step reload them."""
    n = x0.size
    bi = np.empty(cap, np.int64)
    ba, bb = np.empty(cap), np.empty(cap)
    bv = np.empty(cap, np.int8)
    k = 0
    directional = table.size > 0
    stop_at = target.size > 0
    act = np.empty(LANES, np.int64)
    lam, lprev = np.empty(LANES), np.empty(LANES)
    prev = np.empty(LANES, np.int8)
    vals = np.empty(LANES, np.int8)
    reach = np.empty(LANES)
    flat, ray = np.empty(LANES, np.int64), np.empty(LANES, np.int64)
    for first in range(begin, n, LANES):
        last = min(first + LANES, n)
        k0 = k
        cnt = 0
        for i in range(first, last):
            if lend[i] >= enter[i]:
                act[cnt] = i
                lam[cnt] = lprev[cnt] = min(max(lam_from[i], enter[i]), lend[i])
                prev[cnt] = NOTHING
                cnt += 1
        for _ in range(max_iterations):
            for q in range(cnt):  # the cells of the step asked for first (module docstring)
                i, at = act[q], lam[q]
                ix = np.int64(x0[i] + at * dx[i])
                iy = np.int64(y0[i] + at * dy[i])
                flat[q] = iy * nx2 + ix
                prefetch(value, flat[q])
                if directional:
                    ray[q] = ((iy >> SHIFT) * nbx + (ix >> SHIFT)) * SECTORS + sector[i]
                    prefetch(table, ray[q])
            for q in range(cnt):  # then read, side by side
                vals[q] = value[flat[q]]
                r = np.int64(bound[flat[q]])
                if directional:
                    r = max(r, np.int64(table[ray[q]]) * UNIT)
                reach[q] = np.float64(r)
            w = 0
            for q in range(cnt):
                i, at, v, r = act[q], lam[q], vals[q], reach[q]
                hit = (v == target[i]) if stop_at else (v != prev[q])
                if hit:
                    if k == cap:
                        return bi[:k0], ba[:k0], bb[:k0], bv[:k0], first
                    bi[k], ba[k], bb[k], bv[k] = i, lprev[q], at, v
                    k += 1
                # at the end, or the bound reaches it; or found what it was looking for
                if r >= lend[i] - at or (hit and stop_at):
                    continue
                act[w], lprev[w], prev[w] = i, at, v
                lam[w] = min(at + max(r, ms), lend[i])
                w += 1
            cnt = w
            if cnt == 0:
                break
        # still walking after max_iterations (along a border): every ms from lprev
        for q in range(cnt):
            i, start = act[q], lprev[q]
            before, before_lam = prev[q], start
            for s in range(1, np.int64(np.ceil((lend[i] - start) / ms)) + 1):
                lam_s = min(start + s * ms, lend[i])
                v = value[np.int64(y0[i] + lam_s * dy[i]) * nx2
                          + np.int64(x0[i] + lam_s * dx[i])]
                if (v == target[i]) if stop_at else (v != before):
                    if k == cap:
                        return bi[:k0], ba[:k0], bb[:k0], bv[:k0], first
                    bi[k], ba[k], bb[k], bv[k] = i, before_lam, lam_s, v
                    k += 1
                    if stop_at:
                        break
                before, before_lam = v, lam_s
        _by_path(bi, ba, bb, bv, k0, k, first, last)
    return bi[:k], ba[:k], bb[:k], bv[:k], n


@njit(cache=True, nogil=True)
def _by_path(bi: np.ndarray, ba: np.ndarray, bb: np.ndarray, bv: np.ndarray,
             k0: int, k: int, first: int, last: int) -> None:
    """Events k0:k of paths first:last, gathered a step of all of them at a time, put in
    path order (stable: each path's stay in lam order); a counting sort."""
    start = np.zeros(last - first + 1, np.int64)
    for e in range(k0, k):
        start[bi[e] - first + 1] += 1
    for p in range(1, start.size):
        start[p] += start[p - 1]
    m = k - k0
    ti, ta, tb, tv = np.empty(m, np.int64), np.empty(m), np.empty(m), np.empty(m, np.int8)
    for e in range(k0, k):
        p = bi[e] - first
        d = start[p]
        start[p] += 1
        ti[d], ta[d], tb[d], tv[d] = bi[e], ba[e], bb[e], bv[e]
    bi[k0:k], ba[k0:k], bb[k0:k], bv[k0:k] = ti, ta, tb, tv


def march_all(x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray,
              lam_from: np.ndarray, enter: np.ndarray, lend: np.ndarray, value: np.ndarray,
              bound: np.ndarray, table: np.ndarray, nbx: int, sector: np.ndarray, nx2: int,
              ms: float, target: np.ndarray, max_iterations: int, cap: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`march` over every path, with twice the room each time the buffers run out
    (only paths with many changes need more than ``cap``)."""
    parts, begin = [], 0
    while True:
        *found, begin = march(x0, y0, dx, dy, lam_from, enter, lend, value, bound, table,
                              nbx, sector, nx2, ms, target, max_iterations, begin, cap)
        parts.append(found)
        if begin >= x0.size:
            break
        cap *= 2
    if len(parts) == 1:
        return parts[0][0], parts[0][1], parts[0][2], parts[0][3]
    i, a, b, v = (np.concatenate(c) for c in zip(*parts, strict=True))
    return i, a, b, v


@njit(cache=True, nogil=True, inline="always")
def _flat_cell(x: float, y: float, xmin: float, ymin: float, cell: float, nx: int,
               ny: int) -> int:
    """The flat index of the cell :meth:`NationRaster.cell_of` gives for the plane point
    (x, y), on a grid of (ny + 2, nx + 2) cells framing the data."""
    fx = (x - xmin) / cell + 1.0
    fy = (y - ymin) / cell + 1.0
    fx = fx if fx > 0.0 else 0.0  # NaN and below: the frame's corner
    fy = fy if fy > 0.0 else 0.0
    return np.int64(min(fy, ny + 1.5)) * (nx + 2) + np.int64(min(fx, nx + 1.5))


@njit(cache=True, nogil=True)
def stretches(path: np.ndarray, lam_a: np.ndarray, lam_b: np.ndarray, region: np.ndarray,
              start: np.ndarray, lam_max: np.ndarray, x0: np.ndarray, y0: np.ndarray,
              dx: np.ndarray, dy: np.ndarray, value: np.ndarray, xmin: float, ymin: float,
              cell: float, nx: int, ny: int, sea: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                         np.ndarray]:
    """The stretches of the region march (:func:`skywarden.assess.predict.entries`) over
    a foreign region, and the point of each where the land walk starts.

    The changes (``path``, ``lam_a``, ``lam_b``, ``region``: each path's in lam order)
    cut every path into stretches, from each change (its first from the path's start,
    where the cone was clear up to the first) to the next change of the path (or
    ``lam_max``). A stretch is foreign where its region is a nation's other than the
    path's ``start`` nation; one that follows a stretch beyond the edge of the data's box
    (region below ``sea``) is not: nothing is known there, so a path coming into the box
    is not entering the nation it finds (it may have been over it all along).

    Returns, per foreign stretch: the path, its lam from and to, the nation, where the
    land walk starts (the path's start for its first stretch, else the change: across a
    land border the region and the land change at the same point), and whether the land
    layer ``value`` holds that nation there already (read in the cell
    :meth:`NationRaster.cell_of` gives, the reads prefetched first)."""
    n = path.size
    pick = np.empty(n, np.int64)
    m = 0
    for e in range(n):
        first = e == 0 or path[e] != path[e - 1]
        if (region[e] >= 0 and region[e] != start[path[e]]
                and (first or region[e - 1] >= sea)):
            pick[m] = e
            m += 1
    rows, nation = np.empty(m, np.int64), np.empty(m, np.int64)
    lam_from, lam_to, at = np.empty(m), np.empty(m), np.empty(m)
    flat = np.empty(m, np.int64)
    for q in range(m):
        e = pick[q]
        p = path[e]
        first = e == 0 or path[e - 1] != p
        last = e == n - 1 or path[e + 1] != p
        rows[q], nation[q] = p, region[e]
        lam_from[q] = 0.0 if first else lam_a[e]
        lam_to[q] = lam_max[p] if last else lam_b[e + 1]
        at[q] = 0.0 if first else lam_b[e]
        flat[q] = _flat_cell(x0[p] + at[q] * dx[p], y0[p] + at[q] * dy[p], xmin, ymin, cell,
                             nx, ny)
        prefetch(value, flat[q])
    now = np.empty(m, np.bool_)
    for q in range(m):
        now[q] = value[flat[q]] == nation[q]
    return rows, lam_from, lam_to, nation, at, now


@njit(cache=True, nogil=True)
def bisect(x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray, lam_a: np.ndarray,
           lam_b: np.ndarray, nation: np.ndarray, value: np.ndarray, xmin: float, ymin: float,
           cell: float, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Narrow each path's crossing into ``nation`` from (lam_a, lam_b] (plane metres) to a
    quarter cell on the land layer ``value`` (at most eight halvings); the new ends.
    A point is read in the cell :meth:`NationRaster.cell_of` gives. A block of paths
    halves together, each halving's cells asked for before any is read (module
    docstring)."""
    n = x0.size
    a, b = lam_a.copy(), lam_b.copy()
    flat = np.empty(LANES, np.int64)  # the cell of each path's middle; -1: narrow enough
    mid = np.empty(LANES)
    for first in range(0, n, LANES):
        last = min(first + LANES, n)
        for _ in range(8):
            for i in range(first, last):
                q = i - first
                if not b[i] - a[i] > 0.25 * cell:
                    flat[q] = -1
                    continue
                mid[q] = 0.5 * (a[i] + b[i])
                flat[q] = _flat_cell(x0[i] + mid[q] * dx[i], y0[i] + mid[q] * dy[i], xmin,
                                     ymin, cell, nx, ny)
                prefetch(value, flat[q])
            for i in range(first, last):
                q = i - first
                if flat[q] < 0:
                    continue
                if value[flat[q]] == nation[i]:
                    b[i] = mid[q]
                else:
                    a[i] = mid[q]
    return a, b


@njit(cache=True, nogil=True)
def refine(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, nation: np.ndarray,
           xmin: float, ymin: float, cell: float, nx: int, ny: int, cells: np.ndarray,
           row_start: np.ndarray, offsets: np.ndarray, listed: np.ndarray,
           listed_owner: np.ndarray) -> np.ndarray:
    """:meth:`NationRaster.refine`: for each chord a -> b, the fraction (0-1) where it
    crosses an edge of ``nation`` nearest its middle (the first listed on a tie), NaN
    where it crosses none. Every edge listed in a cell of the chord's box is tested:
    the listed cells (``cells``, sorted; ``row_start`` where each row's begin) hold
    their edges at ``offsets[pos]:offsets[pos + 1]`` of ``listed`` (x0, y0, x1, y1).

    The chords are taken in the order of their first cell: chords near one another read
    the same lists, which then come from the cache (in the callers' order, by path, each
    list was a miss). Each chord's answer is its own, so the order changes nothing."""
    m = ax.size
    out = np.full(m, np.nan)
    key = np.empty(m, np.int64)
    for c in range(m):
        key[c] = (np.int64(np.floor((min(ay[c], by[c]) - ymin) / cell)) * (nx + 1)
                  + np.int64(np.floor((min(ax[c], bx[c]) - xmin) / cell)))
    for c in np.argsort(key):
        ix0 = min(max(np.int64(np.floor((min(ax[c], bx[c]) - xmin) / cell)), 0), nx - 1)
        ix1 = min(max(np.int64(np.floor((max(ax[c], bx[c]) - xmin) / cell)), 0), nx - 1)
        iy0 = min(max(np.int64(np.floor((min(ay[c], by[c]) - ymin) / cell)), 0), ny - 1)
        iy1 = min(max(np.int64(np.floor((max(ay[c], by[c]) - ymin) / cell)), 0), ny - 1)
        px, py = ax[c], ay[c]
        rx, ry = bx[c] - px, by[c] - py
        best, least = np.nan, np.inf
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                pos = _find(cells, row_start[iy], row_start[iy + 1], iy * nx + ix)
                if pos < 0:
                    continue
                for e in range(offsets[pos], offsets[pos + 1]):
                    if listed_owner[e] != nation[c]:
                        continue
                    qx, qy = listed[e, 0], listed[e, 1]
                    sx, sy = listed[e, 2] - qx, listed[e, 3] - qy
                    den = rx * sy - ry * sx
                    if den == 0:
                        continue
                    u = ((qx - px) * sy - (qy - py) * sx) / den  # along the chord
                    v = ((qx - px) * ry - (qy - py) * rx) / den  # along the edge
                    if 0 <= u <= 1 and 0 <= v <= 1 and abs(u - 0.5) < least:
                        best, least = u, abs(u - 0.5)
        out[c] = best
    return out


@njit(cache=True, nogil=True, inline="always")
def _find(sorted_keys: np.ndarray, lo: int, hi: int, key: int) -> int:
    """Position of ``key`` in ``sorted_keys[lo:hi]``, -1 where absent (a binary search)."""
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < end and sorted_keys[lo] == key else -1


@njit(cache=True, nogil=True, inline="always")
def nan_max(a: float, b: float) -> float:
    """np.maximum of two floats (NaN wins)."""
    return a if a != a or a > b else b


@njit(cache=True, nogil=True, inline="always")
def nan_min(a: float, b: float) -> float:
    """np.minimum of two floats (NaN wins)."""
    return a if a != a or a < b else b


@njit(cache=True, nogil=True, inline="always")
def _slab(p0: float, d: float, hi: float) -> tuple[float, float]:
    # distances along a ray at which it enters and leaves [0.5, hi] on one axis
    if d > 0:
        return (0.5 - p0) / d, (hi - p0) / d
    if d < 0:
        return (hi - p0) / d, (0.5 - p0) / d
    if p0 < 0.5 or p0 > hi:  # not moving along the axis, and outside
        return np.inf, -np.inf
    return -np.inf, np.inf


@njit(cache=True, nogil=True)
def span(x0: np.ndarray, y0: np.ndarray, dx: np.ndarray, dy: np.ndarray, nx: int, ny: int
         ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`skywarden.assess.predict._span`, one ray at a time."""
    n = x0.size
    enter, leave = np.empty(n), np.empty(n)
    for i in range(n):
        in_x, out_x = _slab(x0[i], dx[i], nx + 1.5)
        in_y, out_y = _slab(y0[i], dy[i], ny + 1.5)
        e = nan_max(nan_max(in_x, in_y), 0.0)
        out = nan_min(out_x, out_y)
        enter[i] = e
        leave[i] = -1.0 if out < e else nan_max(out, 0.0)
    return enter, leave
