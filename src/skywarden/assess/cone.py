"""Which zone parts a track's cone of headings may meet: a (cell, sector) index.

The plane is cut into square cells of ``cell_m`` and the directions into ``SECTORS``
sectors. For every cell and sector the index lists the parts (bounding circle: centre,
radius) that some ray from somewhere in the cell, with a direction in the sector, could
meet within ``max_reach_m``, sorted by a lower bound of their distance from the cell.
The cell is treated as its circumscribed disc, so the directions from the cell to a part
lie within ``asin((rho + r_cell) / d)`` of the centre-to-centre direction: every part the
cone can meet is listed (the converse is tested exactly later).

A query for a track looks up its cell and the sectors its cone spans, and reads each
list up to the track's reach (per-list counts by distance bucket), so finding a track's
candidates costs a few gathers. A part listed in several of the track's sectors is kept
once: in the first of them (the first sector read, if the part is listed there; else its
own first sector).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from .prefetch import prefetch

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

SECTORS = 32  # a power of two
# Lists ahead of the one read whose entries are asked for first (:func:`_query`).
AHEAD = 8
_BUCKETS = np.array([25e3, 50e3, 75e3, 100e3, 150e3, 200e3, 300e3, 400e3, 500e3, 700e3])


class ConeIndex:
    """Parts listed per (cell, direction sector) with distance bounds (module docstring)."""

    def __init__(
        self, px: FloatArray, py: FloatArray, rho: FloatArray,
        extent: tuple[float, float, float, float], cell_m: float = 50_000.0,
        max_reach_m: float = 500_000.0,
    ) -> None:
        xmin, ymin, xmax, ymax = extent
        self.cell = float(cell_m)
        self.xmin, self.ymin = xmin, ymin
        self.nx = int(np.ceil((xmax - xmin) / cell_m)) + 1
        self.ny = int(np.ceil((ymax - ymin) / cell_m)) + 1
        self.max_reach = float(max_reach_m)
        self.px, self.py = px, py
        n_cells = self.nx * self.ny
        r_cell = cell_m / np.sqrt(2.0)
        cx = xmin + (np.arange(n_cells) % self.nx + 0.5) * cell_m
        cy = ymin + (np.arange(n_cells) // self.nx + 0.5) * cell_m
        width = 2.0 * np.pi / SECTORS
        keys: list[NDArray[np.int64]] = []
        parts: list[IntArray] = []
        dmins: list[FloatArray] = []
        firsts: list[NDArray[np.int64]] = []
        spans: list[NDArray[np.int64]] = []
        chunk = max(1, 2_000_000 // max(n_cells, 1))
        for p0 in range(0, px.size, chunk):
            p = np.arange(p0, min(p0 + chunk, px.size))
            dx = px[None, p] - cx[:, None]
            dy = py[None, p] - cy[:, None]
            d = np.hypot(dx, dy)
            dmin = np.maximum(d - (rho[None, p] + r_cell), 0.0)
            c, k = np.nonzero(dmin <= max_reach_m)
            d, dmin = d[c, k], dmin[c, k]
            reach = rho[p][k] + r_cell
            ang = np.arctan2(dy[c, k], dx[c, k])
            with np.errstate(divide="ignore", invalid="ignore"):
                half = np.where(d > reach, np.arcsin(np.minimum(reach / d, 1.0)), np.pi)
            s0 = np.floor((ang - half) / width).astype(np.int64)
            s1 = np.floor((ang + half) / width).astype(np.int64)
            n = np.minimum(s1 - s0 + 1, SECTORS)
            rows = np.repeat(np.arange(c.size), n)
            sec = (np.repeat(s0, n) + np.arange(rows.size)
                   - np.repeat(np.cumsum(n) - n, n)) % SECTORS
            keys.append(c[rows].astype(np.int64) * SECTORS + sec)
            parts.append(p[k[rows]])
            dmins.append(dmin[rows])
            firsts.append(np.repeat(np.where(n >= SECTORS, 0, s0 % SECTORS), n))
            spans.append(np.repeat(n, n))
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        part = np.concatenate(parts) if parts else np.zeros(0, np.intp)
        dmin = np.concatenate(dmins) if dmins else np.zeros(0)
        first = np.concatenate(firsts) if firsts else np.zeros(0, np.int64)
        span = np.concatenate(spans) if spans else np.zeros(0, np.int64)
        bucket = np.searchsorted(_BUCKETS, dmin)  # first bucket edge >= dmin
        order = np.argsort(key * 1_048_576 + np.minimum(dmin / 1000.0, 1_048_575).astype(np.int64))
        key, part, bucket = key[order], part[order], bucket[order]
        first, span = first[order], span[order]
        n_keys = n_cells * SECTORS
        self.offsets = np.zeros(n_keys + 1, np.int64)
        np.cumsum(np.bincount(key, minlength=n_keys), out=self.offsets[1:])
        self.part = part.astype(np.int32)
        self.first = first.astype(np.int8)  # first sector of the part's span from the cell
        self.span = span.astype(np.int8)  # how many sectors it spans (up to all)
        # counts[key, b]: entries of the list with a distance bound within bucket edge b
        hist = np.zeros((n_keys, _BUCKETS.size + 1), np.int32)
        np.add.at(hist, (key, np.minimum(bucket, _BUCKETS.size)), 1)
        self.counts = np.cumsum(hist, axis=1)[:, : _BUCKETS.size].astype(np.int32)

    def query(
        self, x0: FloatArray, y0: FloatArray, heading: FloatArray, half_angle: FloatArray,
        reach: FloatArray,
    ) -> tuple[IntArray, IntArray]:
        """(track, part) pairs: parts listed for the track's cell in the sectors its cone
        spans (``heading``: plane angle, rad, counter-clockwise from east), up to its reach;
        each part at most once per track."""
        t, p = _query(x0, y0, heading, half_angle, reach, self.xmin, self.ymin, self.cell,
                      self.nx, self.ny, self.max_reach, _BUCKETS, self.counts, self.offsets,
                      self.part, self.first, self.span)
        return t.astype(np.intp), p.astype(np.intp)


@njit(cache=True, nogil=True)
def _query(x0: np.ndarray, y0: np.ndarray, heading: np.ndarray, half_angle: np.ndarray,
           reach: np.ndarray, xmin: float, ymin: float, cell_m: float, nx: int, ny: int,
           max_reach: float, buckets: np.ndarray, counts: np.ndarray, offsets: np.ndarray,
           part: np.ndarray, first: np.ndarray, span: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """ConeIndex.query, one track at a time: its lists read in sector order, each up to
    the track's reach bucket. The lists lie scattered over megabytes, so each pass asks
    for what it will read ``AHEAD`` lists on (:mod:`.prefetch`) before reading."""
    width = 2.0 * np.pi / SECTORS
    n = x0.size
    cells = np.empty(n, np.int64)
    s_lo = np.empty(n, np.int64)
    bucket = np.empty(n, np.int64)
    list_end = np.empty(n + 1, np.int64)  # track t reads lists list_end[t]:list_end[t + 1]
    list_end[0] = 0
    for t in range(n):
        ix = np.int64(min(max(np.floor((x0[t] - xmin) / cell_m), 0), nx - 1))
        iy = np.int64(min(max(np.floor((y0[t] - ymin) / cell_m), 0), ny - 1))
        cells[t] = iy * nx + ix
        half = min(half_angle[t], np.pi)
        s_lo[t] = np.int64(np.floor((heading[t] - half) / width))
        n_sec = min(np.int64(np.floor((heading[t] + half) / width)) - s_lo[t] + 1, SECTORS)
        bucket[t] = min(np.searchsorted(buckets, min(reach[t], max_reach)), buckets.size - 1)
        list_end[t + 1] = list_end[t] + n_sec
    n_lists = list_end[n]
    keys = np.empty(n_lists, np.int64)  # the lists each track reads, in order
    for t in range(n):
        for q in range(list_end[t], list_end[t + 1]):
            keys[q] = cells[t] * SECTORS + (s_lo[t] + q - list_end[t]) % SECTORS
    # the lists' starts and lengths up to each track's bucket: the room the pairs need
    starts, lengths = np.empty(n_lists, np.int64), np.empty(n_lists, np.int64)
    total = 0
    for t in range(n):
        for q in range(list_end[t], list_end[t + 1]):
            if q + AHEAD < n_lists:
                prefetch(offsets, keys[q + AHEAD])
                prefetch(counts[keys[q + AHEAD]], 0)
            starts[q] = offsets[keys[q]]
            lengths[q] = counts[keys[q], bucket[t]]
            total += lengths[q]
    out_t = np.empty(total, np.int64)
    out_p = np.empty(total, np.int64)
    k = 0
    for t in range(n):
        for q in range(list_end[t], list_end[t + 1]):
            if q + AHEAD < n_lists:
                prefetch(part, starts[q + AHEAD])
                prefetch(first, starts[q + AHEAD])
                prefetch(span, starts[q + AHEAD])
            j = q - list_end[t]
            sector = keys[q] % SECTORS
            for pos in range(starts[q], starts[q] + lengths[q]):
                # each part once per track: in the first sector read, where every entry
                # is kept, else in the part's own first sector, unless its span also
                # covers the first sector read (a part around the track's cell, listed
                # in every sector: reading the sectors across north-east, 31 then 0,
                # met it twice)
                if j > 0 and (first[pos] != sector
                              or ((s_lo[t] - sector) & (SECTORS - 1)) < span[pos]):
                    continue
                out_t[k], out_p[k] = t, part[pos]
                k += 1
    return out_t[:k], out_p[:k]
