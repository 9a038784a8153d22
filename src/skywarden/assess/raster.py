"""The nation raster: which nation is below any plane point, by one array lookup.

Built once from :class:`~skywarden.airspace.Borders` in the gnomonic plane of
:mod:`.plane` (cells of ``cell_m`` plane metres, 1 km by default: 3,122 x 3,753 cells
over the shipped borders). Two layers, each a value grid and a bound grid (one byte per
cell each, padded with a one-cell frame of ``OFF_GRID``; about 50 MB in all):

- land (``value``): the nation (index into ``Borders.codes``) whose territory holds the
  cell's centre (the shipped borders' land and territorial sea), ``SEA`` (-1) for none,
  ``OUTSIDE`` (-2) outside the data's box. Scanline fill: every polygon edge is cut at
  the rows' centre lines, the crossings are sorted per nation and row, and each pair of crossings (even-odd rule, so holes are holes) paints the cells
  whose centre lies between them, through one cumulative sum. A point's cell can hold a
  neighbour's centre when the border runs through the cell: the raster's answer is wrong
  only within half a cell diagonal of a border (about 0.6 km on the ground), less than the
  250-400 m generalisation of the 1:10m lines plus the cell itself.
  :meth:`NationRaster.nation_index` removes even that error with ``Borders.index_at`` for
  points near a border.
- region: the land layer with every sea cell given to a nearby nation (the nearest on a
  grid four times coarser), so only borders between nations and lines across the sea
  remain: the outer limits of the territorial seas, most of the boundaries there are,
  vanish. Paths walk this layer to find which nations' regions they cross, and the land
  layer only within those.
- bound: for each cell, the chessboard distance in cells to the nearest cell that has a
  neighbour of another value (0 for those), capped at 255. Moving up to
  ``bound * cell_m`` plane metres from anywhere in a cell cannot reach a cell of another
  value (along a chessboard path to the nearest cell of another value, the last cell of
  the same value has a neighbour of another value, so it is a bound-0 cell at most D - 1
  steps away; a straight move of length r changes the cell index by at most r cells per
  axis). The region layer also has a directional clearance table (:mod:`.clearance`).
- edges: every polygon edge in the plane with its nation, listed in the cells its box
  covers, so a crossing found on the raster is refined to the exact border line
  (:meth:`NationRaster.refine`).

Building takes about three seconds on a 2-core machine (most of it the clearance table)
and happens once per process, on first use (:func:`shipped_raster` for the shipped
borders).
"""

from __future__ import annotations

import functools

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.ndimage import distance_transform_cdt, distance_transform_edt

from ..airspace.borders import Borders, load_borders
from . import cache, walks
from .clearance import Clearance
from .plane import Plane

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

SEA = -1
OUTSIDE = -2
OFF_GRID = -3  # the one-cell frame around the padded arrays used by the march
MAX_BOUND = 255
# Long edges (the clip box, straight runs of the data) are cut to this length in degrees
# before projection: a straight edge in lon/lat is curved in the plane.
SEGMENT_DEG = 0.02


class NationRaster:
    """Nation codes, distance bounds and border edges on a regular grid of the plane."""

    def __init__(self, borders: Borders, cell_m: float = 1000.0) -> None:
        self.borders = borders
        self.cell = float(cell_m)
        w, s, e, n = borders.bbox
        self.plane = Plane((s + n) / 2.0, (w + e) / 2.0)
        box = shapely.segmentize(shapely.box(w, s, e, n), SEGMENT_DEG)
        bx, by = self.plane.forward(*_latlon(shapely.get_coordinates(box)))
        pad = 2.0 * self.cell
        self.xmin, self.ymin = float(bx.min() - pad), float(by.min() - pad)
        self.nx = int(np.ceil((bx.max() + pad - self.xmin) / self.cell))
        self.ny = int(np.ceil((by.max() + pad - self.ymin) / self.cell))
        geoms = [borders.geometry(c) for c in borders.codes]
        ex0, ey0, ex1, ey1, owner = self._edges(geoms)
        value = self._fill(ex0, ey0, ex1, ey1, owner, nations=True)
        bx0, by0, bx1, by1, _ = self._edges([shapely.box(w, s, e, n)])
        in_box = self._fill(bx0, by0, bx1, by1, np.zeros(bx0.size, np.intp),
                           nations=False) == 0
        value[~in_box] = OUTSIDE
        self.land = Layer(value)
        self.region = Layer(_regions(value), directional=True)
        self._index_edges(ex0, ey0, ex1, ey1, owner)

    @classmethod
    def cached(cls, borders: Borders, cell_m: float = 1000.0) -> NationRaster:
        """The raster from the on-disk cache (:mod:`.cache`), built and saved if absent."""
        name = cache.borders_key("nation-raster", borders, float(cell_m))
        state = cache.load(name)
        if state is not None:
            try:
                return cls._from_state(borders, state)
            except (KeyError, ValueError):
                pass
        raster = cls(borders, cell_m)
        cache.save(name, raster._state())
        return raster

    _EDGE_ARRAYS = ("ex0", "ey0", "ex1", "ey1", "edge_owner", "_cells", "_offsets", "_cell_edge")

    def _state(self) -> dict[str, np.ndarray]:
        assert self.region.clearance is not None
        return {
            "meta": np.array([self.xmin, self.ymin, self.nx, self.ny, self.cell,
                              self.plane.lat0, self.plane.lon0]),
            "land_value": self.land.value, "land_bound": self.land.bound,
            "region_value": self.region.value, "region_bound": self.region.bound,
            "clearance": self.region.clearance.table,
            **{k.lstrip("_"): getattr(self, k) for k in self._EDGE_ARRAYS},
        }

    @classmethod
    def _from_state(cls, borders: Borders, state: dict[str, np.ndarray]) -> NationRaster:
        self = cls.__new__(cls)
        xmin, ymin, nx, ny, cell, lat0, lon0 = state["meta"].tolist()
        self.borders, self.cell = borders, float(cell)
        self.xmin, self.ymin, self.nx, self.ny = xmin, ymin, int(nx), int(ny)
        self.plane = Plane(lat0, lon0)
        shape = (self.ny + 2, self.nx + 2)
        self.land = Layer.restore(state["land_value"], state["land_bound"], shape)
        self.region = Layer.restore(state["region_value"], state["region_bound"], shape,
                                    state["clearance"])
        for k in self._EDGE_ARRAYS:
            setattr(self, k, state[k.lstrip("_")])
        self._list_edges()
        return self

    @property
    def value(self) -> NDArray[np.int8]:
        """Nation codes (ny, nx): index into ``Borders.codes``, SEA, OUTSIDE."""
        return self.land.grid()

    # -- lookups -------------------------------------------------------------------------

    def cell_of(self, x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
        """Flat index into the padded layers of plane points (the frame where off grid)."""
        # fmax takes 0 over NaN (and -inf): NaN points land in the frame's corner
        fx = np.fmax((np.asarray(x) - self.xmin) / self.cell + 1.0, 0.0)
        fy = np.fmax((np.asarray(y) - self.ymin) / self.cell + 1.0, 0.0)
        ix = np.minimum(fx, self.nx + 1.5).astype(np.int64)
        iy = np.minimum(fy, self.ny + 1.5).astype(np.int64)
        return iy * (self.nx + 2) + ix

    def value_at(self, x: FloatArray, y: FloatArray) -> NDArray[np.int8]:
        """Nation code of plane points (SEA, OUTSIDE, or OFF_GRID beyond the grid)."""
        return self.land.value[self.cell_of(x, y)]

    def bound_at(self, x: FloatArray, y: FloatArray) -> NDArray[np.uint8]:
        """Bound (cells) of plane points; 0 off the grid."""
        return self.land.bound[self.cell_of(x, y)]

    def nation_index(
        self, lat: FloatArray, lon: FloatArray, x: FloatArray | None = None,
        y: FloatArray | None = None,
    ) -> NDArray[np.intp]:
        """Exact nation index (as ``Borders.index_at``) of points, -1 where none.

        The raster answers for points at least two cells from any raster boundary; the
        others (a few per cent of random points) get ``Borders.index_at``.
        """
        if x is None or y is None:
            x, y = self.plane.forward(lat, lon)
        flat = self.cell_of(x, y)
        out = self.land.value[flat].astype(np.intp)
        near = np.flatnonzero((self.land.bound[flat] <= 1) | (out < SEA))
        if near.size:
            out[near] = self.borders.index_at(lat[near], lon[near])
        return out

    # -- exact crossings -----------------------------------------------------------------

    def refine(
        self,
        ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray, nation: IntArray,
    ) -> FloatArray:
        """Where each chord a -> b crosses an edge of ``nation``: the fraction of the chord
        (0-1) of the crossing nearest its middle, NaN where it crosses none.

        Chords should be a few cells long: every edge listed in a cell of the chord's box
        is tested (compiled: :func:`.walks.refine`).
        """
        return walks.refine(ax, ay, bx, by, nation, self.xmin, self.ymin, self.cell, self.nx,
                            self.ny, self._cells, self._row_start, self._offsets,
                            self._listed, self._listed_owner)

    # -- construction --------------------------------------------------------------------

    def _edges(self, geoms: list) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray,
                                           IntArray]:
        """Every ring edge of the (Multi)Polygons in the plane, with its geometry's index."""
        parts, part_owner = shapely.get_parts(np.asarray(geoms, dtype=object),
                                              return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        rings = shapely.segmentize(rings, SEGMENT_DEG)
        xy, ring = shapely.get_coordinates(rings, return_index=True)
        x, y = self.plane.forward(*_latlon(xy))
        same = ring[1:] == ring[:-1]  # consecutive vertices of one closed ring
        owner = part_owner[ring_part[ring[:-1][same]]]
        return x[:-1][same], y[:-1][same], x[1:][same], y[1:][same], owner.astype(np.intp)

    def _fill(self, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
              owner: IntArray, nations: bool) -> NDArray[np.int8]:
        """Scanline fill (module docstring): owner index per cell centre, -1 for none."""
        c, nx, ny = self.cell, self.nx, self.ny
        lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
        # rows whose centre line y_c satisfies lo <= y_c < hi (half-open: parity holds)
        j0 = np.ceil((lo - self.ymin) / c - 0.5).astype(np.int64)
        j1 = np.ceil((hi - self.ymin) / c - 0.5).astype(np.int64)
        j0, j1 = np.clip(j0, 0, ny), np.clip(j1, 0, ny)
        count = j1 - j0
        e = np.repeat(np.arange(x0.size), count)
        row = j0[e] + _ragged_arange(count)
        yc = self.ymin + (row + 0.5) * c
        xc = x0[e] + (yc - y0[e]) * (x1[e] - x0[e]) / (y1[e] - y0[e])
        own = owner[e]
        order = np.lexsort((xc, row, own))
        row, xc, own = row[order], xc[order], own[order]
        # consecutive pairs within (owner, row) groups; every group has an even size
        start_x, end_x, row, own = xc[0::2], xc[1::2], row[0::2], own[0::2]
        i0 = np.clip(np.ceil((start_x - self.xmin) / c - 0.5), 0, nx).astype(np.int64)
        i1 = np.clip(np.ceil((end_x - self.xmin) / c - 0.5), 0, nx).astype(np.int64)
        span = i1 > i0
        row, i0, i1, own = row[span], i0[span], i1[span], own[span]
        size = ny * (nx + 1)
        at0, at1 = row * (nx + 1) + i0, row * (nx + 1) + i1
        code = np.zeros(size, np.int16)
        np.add.at(code, at0, (own + 1).astype(np.int16))
        np.add.at(code, at1, (-(own + 1)).astype(np.int16))
        cover = np.zeros(size, np.int8)
        np.add.at(cover, at0, np.int8(1))
        np.add.at(cover, at1, np.int8(-1))
        code_cells = np.cumsum(code.reshape(ny, nx + 1), axis=1, dtype=np.int16)[:, :nx]
        cover_cells = np.cumsum(cover.reshape(ny, nx + 1), axis=1, dtype=np.int8)[:, :nx]
        out = np.where(cover_cells == 1, code_cells - 1, -1).astype(np.int8)
        both = np.flatnonzero(cover_cells.ravel() > 1)
        if both.size:  # centres on two touching polygons (rounding of shared borders)
            cy, cx = np.divmod(both, nx)
            lat, lon = self.plane.inverse(self.xmin + (cx + 0.5) * c, self.ymin + (cy + 0.5) * c)
            out.ravel()[both] = (
                self.borders.index_at(lat, lon).astype(np.int8) if nations else 0
            )
        return out

    def _index_edges(self, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray,
                     owner: IntArray) -> None:
        """Edges listed in every cell of their bounding box (CSR by cell)."""
        c = self.cell
        ix0 = np.clip(np.floor((np.minimum(x0, x1) - self.xmin) / c), 0, self.nx - 1)
        ix1 = np.clip(np.floor((np.maximum(x0, x1) - self.xmin) / c), 0, self.nx - 1)
        iy0 = np.clip(np.floor((np.minimum(y0, y1) - self.ymin) / c), 0, self.ny - 1)
        iy1 = np.clip(np.floor((np.maximum(y0, y1) - self.ymin) / c), 0, self.ny - 1)
        ix0, ix1 = ix0.astype(np.int64), ix1.astype(np.int64)
        iy0, iy1 = iy0.astype(np.int64), iy1.astype(np.int64)
        wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
        edge = np.repeat(np.arange(x0.size), wx * wy)
        k = _ragged_arange(wx * wy)
        cell = (iy0[edge] + k // wx[edge]) * self.nx + ix0[edge] + k % wx[edge]
        order = np.argsort(cell, kind="stable")
        cell, edge = cell[order], edge[order]
        self._cells, first = np.unique(cell, return_index=True)
        self._offsets = np.append(first, cell.size).astype(np.int64)
        self._cell_edge = edge.astype(np.int32)
        self.ex0, self.ey0, self.ex1, self.ey1 = x0, y0, x1, y1
        self.edge_owner = owner.astype(np.int16)
        self._list_edges()

    def _list_edges(self) -> None:
        """The edge lists as :func:`.walks.refine` reads them: each row's listed cells
        (``_row_start``), and each list's edges (end points, owner) in list order, so a
        cell's candidates are read in one run instead of gathered over all edges."""
        self._row_start = np.searchsorted(self._cells, np.arange(self.ny + 1) * self.nx)
        e = self._cell_edge
        self._listed = np.column_stack([self.ex0[e], self.ey0[e], self.ex1[e], self.ey1[e]])
        self._listed_owner = self.edge_owner[e]


# A cell of a layer as the walks read it: value and bound side by side, so one gather
# (one cache miss: the paths spread over the whole grid) fetches both.
CELL = np.dtype([("value", np.int8), ("bound", np.uint8)])


class Layer:
    """A value grid and its bound grid, padded with a frame of OFF_GRID cells (bound 0)
    and flattened, so any plane point clipped to the frame indexes safely. ``cells``
    holds both per cell (:data:`CELL`); ``value`` and ``bound`` are views of it."""

    def __init__(self, grid: NDArray[np.int8], directional: bool = False) -> None:
        self.shape = (grid.shape[0] + 2, grid.shape[1] + 2)
        self._set_cells(np.pad(grid, 1, constant_values=OFF_GRID).ravel(),
                        np.pad(_bound(grid), 1, constant_values=0).ravel())
        self.clearance = Clearance(self.bound, self.shape) if directional else None

    @classmethod
    def restore(cls, value: NDArray[np.int8], bound: NDArray[np.uint8], shape: tuple[int, int],
                clearance: NDArray[np.uint8] | None = None) -> Layer:
        """A layer from saved arrays."""
        if value.size != shape[0] * shape[1] or bound.size != value.size:
            raise ValueError("saved layer does not match the grid")
        self = cls.__new__(cls)
        self.shape = shape
        self._set_cells(value, bound)
        self.clearance = None if clearance is None else Clearance.restore(clearance, shape)
        return self

    def _set_cells(self, value: NDArray[np.int8], bound: NDArray[np.uint8]) -> None:
        self.cells = np.empty(value.size, dtype=CELL)
        self.cells["value"], self.cells["bound"] = value, bound
        self.value: NDArray[np.int8] = self.cells["value"]
        self.bound: NDArray[np.uint8] = self.cells["bound"]

    def grid(self) -> NDArray[np.int8]:
        return self.value.reshape(self.shape)[1:-1, 1:-1]


def _regions(value: NDArray[np.int8], factor: int = 4) -> NDArray[np.int8]:
    """Nation codes with every SEA cell given to a nearby nation (the nearest on a grid
    ``factor`` times coarser): land keeps its nation, OUTSIDE stays. Coastlines vanish;
    only borders between nations and lines across the sea remain."""
    coarse = value[factor // 2 :: factor, factor // 2 :: factor]
    land = coarse >= 0
    if not land.any():
        return value.copy()
    iy, ix = distance_transform_edt(~land, return_distances=False, return_indices=True)
    nearest = coarse[iy, ix]
    up = np.repeat(np.repeat(nearest, factor, axis=0), factor, axis=1)
    short = (max(value.shape[0] - up.shape[0], 0), max(value.shape[1] - up.shape[1], 0))
    up = np.pad(up, ((0, short[0]), (0, short[1])), mode="edge")[: value.shape[0], : value.shape[1]]
    return np.where(value == SEA, up, value).astype(np.int8)


@functools.cache
def shipped_raster(cell_m: float = 1000.0) -> NationRaster:
    """The raster of the shipped borders: once per process, from the disk cache if there."""
    return NationRaster.cached(load_borders(), cell_m)


def _bound(value: NDArray[np.int8]) -> NDArray[np.uint8]:
    """Chessboard distance (cells, capped) to the nearest cell with a different neighbour."""
    edge = np.zeros(value.shape, dtype=bool)
    for a, b in (
        ((slice(1, None), slice(None)), (slice(None, -1), slice(None))),
        ((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
        ((slice(1, None), slice(1, None)), (slice(None, -1), slice(None, -1))),
        ((slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None))),
    ):
        diff = value[a] != value[b]
        edge[a] |= diff
        edge[b] |= diff
    dist = distance_transform_cdt(~edge, metric="chessboard")
    return np.minimum(dist, MAX_BOUND).astype(np.uint8)


def _latlon(xy: FloatArray) -> tuple[FloatArray, FloatArray]:
    return xy[:, 1], xy[:, 0]


def _ragged_arange(count: NDArray[np.int64]) -> NDArray[np.int64]:
    """0..count[i]-1 for each i, concatenated."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(count)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - count, count)
