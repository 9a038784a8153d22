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
once: in the first of them (its own first sector, or the first sector read).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

SECTORS = 32  # a power of two
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
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        part = np.concatenate(parts) if parts else np.zeros(0, np.intp)
        dmin = np.concatenate(dmins) if dmins else np.zeros(0)
        first = np.concatenate(firsts) if firsts else np.zeros(0, np.int64)
        bucket = np.searchsorted(_BUCKETS, dmin)  # first bucket edge >= dmin
        order = np.argsort(key * 1_048_576 + np.minimum(dmin / 1000.0, 1_048_575).astype(np.int64))
        key, part, bucket, first = key[order], part[order], bucket[order], first[order]
        n_keys = n_cells * SECTORS
        self.offsets = np.zeros(n_keys + 1, np.int64)
        np.cumsum(np.bincount(key, minlength=n_keys), out=self.offsets[1:])
        self.part = part.astype(np.int32)
        self.first = first.astype(np.int8)  # first sector of the part's span from the cell
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
        width = 2.0 * np.pi / SECTORS
        ix = np.clip(np.floor((x0 - self.xmin) / self.cell), 0, self.nx - 1).astype(np.int64)
        iy = np.clip(np.floor((y0 - self.ymin) / self.cell), 0, self.ny - 1).astype(np.int64)
        cell = iy * self.nx + ix
        half = np.minimum(half_angle, np.pi)
        s_lo = np.floor((heading - half) / width).astype(np.int64)
        s_hi = np.floor((heading + half) / width).astype(np.int64)
        n_sec = np.minimum(s_hi - s_lo + 1, SECTORS)
        track = np.repeat(np.arange(x0.size), n_sec)
        j = np.arange(track.size) - np.repeat(np.cumsum(n_sec) - n_sec, n_sec)
        sector = s_lo[track] + j  # unwrapped
        key = cell[track] * SECTORS + sector % SECTORS
        b = np.minimum(np.searchsorted(_BUCKETS, np.minimum(reach, self.max_reach)),
                       _BUCKETS.size - 1)
        start = self.offsets[key]
        count = self.counts[key, b[track]].astype(np.int64)
        pair = np.repeat(np.arange(key.size), count)
        pos = np.repeat(start, count) + np.arange(pair.size) - np.repeat(np.cumsum(count) - count,
                                                                         count)
        # each part once per track: in its own first sector, or the first sector read
        keep = (((key[pair] - self.first[pos]) & (SECTORS - 1)) == 0) | (j[pair] == 0)
        return track[pair[keep]], self.part[pos[keep]].astype(np.intp)
