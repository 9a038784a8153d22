"""Distance from tracks to a nation's territory, from the border edges in the plane.

The nation raster's edges (:mod:`.raster`) are densified to vertices at most
``VERTEX_SPACING_M`` apart and indexed per nation in a k-d tree of plane points; a query
takes the four nearest vertices of the nation, projects the point onto the pieces of edge
that start there, and returns the ground distance (haversine on the mean-radius sphere)
to the nearest of those border points. Like ``Borders.distance_to_border`` it is never
shorter than the distance to the border lines and longer by at most half the vertex
spacing in the rare case the true nearest piece starts at none of those vertices; the
plane's scale varies by under 1 % over the few kilometres where two border parts are
nearly equally near. Haversine against the WGS84 geodesic: within 0.5 %.

The trees are built on first use (a fraction of a second). A coarse table of
lower bounds (blocks of ``LB_BLOCK`` cells: the Euclidean distance in blocks to the
nearest block holding the nation's land, less two half-diagonals, over the plane's
largest scale) lets far points skip the trees when only near distances are wanted.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy.ndimage import distance_transform_edt
from scipy.spatial import cKDTree

from ..geo import EARTH_RADIUS
from .raster import NationRaster

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

VERTEX_SPACING_M = 500.0
LB_BLOCK = 16  # cells
MAX_SCALE = 1.15  # the plane's largest scale factor over the borders' box


class BorderDistance:
    """Per-nation nearest-border queries over a :class:`NationRaster`'s edges."""

    def __init__(self, raster: NationRaster) -> None:
        self.raster = raster
        self._trees: dict[int, cKDTree] = {}
        self._start: FloatArray | None = None
        self._end: FloatArray | None = None
        self._offset: NDArray[np.int64] = np.zeros(0, np.int64)
        self._lb: NDArray[np.float32] | None = None

    def build(self) -> None:
        """Build the trees and the lower-bound table now (else on first use)."""
        if self._start is None:
            self._build()
        if self._lb is None:
            r = self.raster
            self._lb = _lower_bounds(r.value, len(r.borders.codes), r.cell)

    def lower_bound(self, x: FloatArray, y: FloatArray, nation: IntArray) -> FloatArray:
        """A lower bound (ground metres) of the distance to ``nation[i]``'s land."""
        r = self.raster
        if self._lb is None:
            self.build()
        lb = self._lb
        assert lb is not None
        bx = np.clip(((x - r.xmin) / r.cell).astype(np.int64) // LB_BLOCK, 0, lb.shape[2] - 1)
        by = np.clip(((y - r.ymin) / r.cell).astype(np.int64) // LB_BLOCK, 0, lb.shape[1] - 1)
        return lb[nation, by, bx].astype(np.float64)

    def _build(self) -> None:
        """Densified edge pieces of all nations (one array) and a tree per nation."""
        r = self.raster
        owner = r.edge_owner.astype(np.int64)
        x0, y0, x1, y1 = r.ex0, r.ey0, r.ex1, r.ey1
        n = np.maximum(np.ceil(np.hypot(x1 - x0, y1 - y0) / VERTEX_SPACING_M), 1)
        n = n.astype(np.int64)
        edge = np.repeat(np.arange(x0.size), n)
        k = np.arange(edge.size) - np.repeat(np.cumsum(n) - n, n)
        f0, f1 = k / n[edge], (k + 1) / n[edge]
        ex, ey = x1[edge] - x0[edge], y1[edge] - y0[edge]
        # piece i runs from start[i] to end[i]; pieces sorted by nation
        start = np.column_stack([x0[edge] + f0 * ex, y0[edge] + f0 * ey])
        end = np.column_stack([x0[edge] + f1 * ex, y0[edge] + f1 * ey])
        order = np.argsort(owner[edge], kind="stable")
        self._start, self._end = start[order], end[order]
        nation = owner[edge][order]
        self._offset = np.searchsorted(nation, np.arange(len(r.borders.codes) + 1))
        self._trees = {}
        for code in range(len(r.borders.codes)):
            a, b = self._offset[code], self._offset[code + 1]
            if b > a:
                self._trees[code] = cKDTree(self._start[a:b], balanced_tree=False,
                                            compact_nodes=False)

    def to_nation(
        self, x: FloatArray, y: FloatArray, lat: FloatArray, lon: FloatArray, nation: IntArray,
        within_m: float = np.inf,
    ) -> FloatArray:
        """Ground metres from each point (plane x, y and its lat, lon) to the edge of the
        territory of ``nation[i]``; NaN for a nation without edges, and NaN where no
        border vertex lies within ``within_m`` plane metres (the point is then at least
        ``within_m / 1.15`` ground metres away: the plane's largest scale over the box)."""
        out = np.full(x.size, np.nan)
        if not x.size:
            return out
        if self._start is None:
            self.build()
        # the k nearest vertices of each point's nation (tree indices; a tree's size where
        # fewer lie within within_m), the points taken nation by nation
        k = 4
        order = np.argsort(nation, kind="stable")
        by_nation = nation[order]
        bounds = np.flatnonzero(np.r_[True, by_nation[1:] != by_nation[:-1], True])
        points = np.column_stack([x[order], y[order]])
        idx = np.zeros((x.size, k), dtype=np.int64)
        size = np.zeros(x.size, dtype=np.int64)  # the tree's size; 0: the nation has none
        first = np.zeros(x.size, dtype=np.int64)  # the tree's first piece
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            code = int(by_nation[a])
            tree = self._trees.get(code)
            if tree is None:
                continue
            kk = min(k, tree.n)
            _, got = tree.query(points[a:b], k=kk, distance_upper_bound=within_m)
            idx[a:b, :kk] = got.reshape(b - a, kk)
            idx[a:b, kk:] = idx[a:b, :1]  # a tree of fewer than k: the nearest again
            size[a:b], first[a:b] = tree.n, self._offset[code]
        bx, by, found = _nearest_on_pieces(order, idx, size, first, x, y, self._start,
                                           self._end)
        rows = np.flatnonzero(found)
        if not rows.size:
            return out
        blat, blon = self.raster.plane.inverse(bx[rows], by[rows])
        out[rows] = haversine(lat[rows], lon[rows], blat, blon)
        return out


@njit(cache=True, nogil=True)
def _nearest_on_pieces(order: np.ndarray, idx: np.ndarray, size: np.ndarray,
                       first: np.ndarray, x: np.ndarray, y: np.ndarray, start: np.ndarray,
                       end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest point to each point ``(x, y)[order[r]]`` on the pieces that start at its
    nearest vertices ``idx[r]`` (tree indices, ``size[r]`` where missing: the nearest
    one instead; none found where even that is missing), the first of equally near
    ones; and whether one was found. The pieces starting at the nearest vertices hold the
    nearest border point (module docstring)."""
    n = x.size
    bx, by = np.zeros(n), np.zeros(n)
    found = np.zeros(n, dtype=np.bool_)
    for r in range(order.size):
        if size[r] == 0 or idx[r, 0] >= size[r]:
            continue
        i = order[r]
        px, py = x[i], y[i]
        least = np.inf
        for j in range(idx.shape[1]):
            v = (idx[r, j] if idx[r, j] < size[r] else idx[r, 0]) + first[r]
            ax, ay = start[v, 0], start[v, 1]
            abx, aby = end[v, 0] - ax, end[v, 1] - ay
            den = abx * abx + aby * aby
            t = ((px - ax) * abx + (py - ay) * aby) / (den if den > 0 else 1.0)
            t = min(max(t, 0.0), 1.0)
            cx, cy = ax + t * abx, ay + t * aby
            d2 = (cx - px) * (cx - px) + (cy - py) * (cy - py)
            if j == 0 or d2 < least:
                bx[i], by[i], least = cx, cy, d2
        found[i] = True
    return bx, by, found


def _lower_bounds(value: NDArray[np.int8], n_nations: int, cell: float) -> NDArray[np.float32]:
    """(nation, block row, block column) lower bounds of the distance to each nation."""
    ny, nx = value.shape
    nby, nbx = -(-ny // LB_BLOCK), -(-nx // LB_BLOCK)
    has = np.zeros((n_nations, nby, nbx), dtype=bool)
    iy, ix = np.nonzero(value >= 0)
    has[value[iy, ix], iy // LB_BLOCK, ix // LB_BLOCK] = True
    out = np.zeros((n_nations, nby, nbx), dtype=np.float32)
    for k in range(n_nations):
        if has[k].any():
            d = distance_transform_edt(~has[k])
            out[k] = np.maximum(d - np.sqrt(2.0), 0.0) * LB_BLOCK * cell / MAX_SCALE
        else:
            out[k] = np.inf
    return out


def haversine(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Great-circle distance (m) on the mean-radius sphere."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
