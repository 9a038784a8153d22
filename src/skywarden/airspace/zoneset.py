"""Many zones as columns, tested against many points at once.

:class:`ZoneSet` is what assessment uses each cycle: one call tests every track against
every zone, in space (outline, floor, ceiling), in time (validity and daily windows) and
by applicability (class and cooperative flag), and returns the hits as two index arrays.

How the test is fast. A grid of ``cell_deg`` cells (0.05 deg, about 5.5 x 3.4 km at
52 N) covers the zones; each cell lists the zones that touch it and whether the zone
covers the cell whole. A point looks up its cell, so it meets only the zones near it; it
is inside a zone that covers its cell without more work; only in cells an edge crosses
does it need a point-in-polygon test (shapely 2, prepared, one vectorized call for all
such pairs). The cheap column tests (altitude, time, class) run before that exact test.

Edges count as inside: a point on an outline, on the floor or on the ceiling, or at the
start or end time, is in the zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from .. import geo
from ..errors import ZoneError
from ..records import TARGET_CLASSES
from .schedule import WindowTable, window_table, windows_active
from .zones import APPLIES_NONCOOPERATIVE_ONLY, ZONE_TYPES, Zone, class_mask

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
CELL_DEG = 0.05
_UNKNOWN = TARGET_CLASSES.index("unknown")


class Hits(NamedTuple):
    """Which point is in which zone: equal-length index arrays, sorted by point then zone."""

    point: IntArray
    zone: IntArray


class ZoneSet:
    """Zones held as columns for vectorized tests. Read-only once made.

    Invariants: zone ids are unique; index ``i`` means the same zone in every column and
    in :attr:`zones`.
    """

    def __init__(self, zones: Sequence[Zone], cell_deg: float = CELL_DEG) -> None:
        self.zones: tuple[Zone, ...] = tuple(zones)
        self.ids: tuple[str, ...] = tuple(z.id for z in self.zones)
        self._index = {zid: i for i, zid in enumerate(self.ids)}
        if len(self._index) != len(self.ids):
            dup = next(z for i, z in enumerate(self.ids) if self._index[z] != i)
            raise ZoneError("", f"zone {dup!r}", "two zones have this id")
        n = len(self.zones)
        self.type_code = np.array([ZONE_TYPES.index(z.type) for z in self.zones], dtype=np.int8)
        self.owner = np.array([z.owner for z in self.zones], dtype="<U3")
        self.floor_m = np.array([z.floor_m for z in self.zones], dtype=np.float64)
        self.ceiling_m = np.array([z.ceiling_m for z in self.zones], dtype=np.float64)
        self.start = np.array([-np.inf if z.start is None else z.start for z in self.zones],
                              dtype=np.float64)
        self.end = np.array([np.inf if z.end is None else z.end for z in self.zones],
                            dtype=np.float64)
        self.class_mask = np.array([class_mask(z.applies) for z in self.zones], dtype=np.int64)
        self.noncooperative_only = np.array(
            [z.applies in APPLIES_NONCOOPERATIVE_ONLY for z in self.zones], dtype=bool)
        self._geoms = np.array([z.geometry for z in self.zones], dtype=object).reshape(n)
        shapely.prepare(self._geoms)
        # Sun events are computed at one reference point per zone.
        ref = shapely.point_on_surface(self._geoms) if n else np.array([], dtype=object)
        self._ref_lon = shapely.get_x(ref).astype(np.float64) if n else np.zeros(0)
        self._ref_lat = shapely.get_y(ref).astype(np.float64) if n else np.zeros(0)
        self._windows: WindowTable = window_table([z.daily for z in self.zones])
        self.has_windows = np.bincount(self._windows.zone, minlength=n) > 0
        self._win_offsets = np.concatenate(
            [[0], np.cumsum(np.bincount(self._windows.zone, minlength=n))]).astype(np.intp)
        self.timed = np.isfinite(self.start) | np.isfinite(self.end) | self.has_windows
        self._cell_deg = float(cell_deg)
        self._build_grid()
        self._plane: tuple[Transformer, Transformer, NDArray[np.object_]] | None = None

    # -- access ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.zones)

    def __iter__(self) -> Iterator[Zone]:
        return iter(self.zones)

    def __getitem__(self, i: int) -> Zone:
        return self.zones[i]

    def index(self, zone_id: str) -> int:
        """Index of the zone with this id; KeyError if none."""
        return self._index[zone_id]

    def of_type(self, *types: str) -> NDArray[np.bool_]:
        """Mask of the zones of these types (for ``contains(..., zones=mask)``)."""
        codes = [ZONE_TYPES.index(t) for t in types]
        return np.isin(self.type_code, codes)

    # -- time ------------------------------------------------------------------------

    def active(self, t: float) -> NDArray[np.bool_]:
        """Mask of the zones in force at ``t`` (epoch s, UTC): validity and daily windows."""
        out = (self.start <= t) & (t <= self.end)
        w = self._windows
        if len(w.zone):
            idx = np.arange(len(w.zone))
            hold = windows_active(np.full(len(idx), float(t)), w, idx,
                                  self._ref_lat[w.zone], self._ref_lon[w.zone])
            any_hold = np.bincount(w.zone, weights=hold, minlength=len(self)) > 0
            out &= any_hold | ~self.has_windows
        return out

    def _active_pairs(self, t: FloatArray, zone: IntArray) -> NDArray[np.bool_]:
        """Whether zone ``zone[i]`` is in force at ``t[i]`` (per-point times)."""
        out = (self.start[zone] <= t) & (t <= self.end[zone])
        sel = np.flatnonzero(out & self.has_windows[zone])
        if sel.size:
            z = zone[sel]
            first, count = self._win_offsets[z], self._win_offsets[z + 1] - self._win_offsets[z]
            pair = np.repeat(np.arange(sel.size), count)
            w = _ragged(first, count)
            hold = windows_active(t[sel][pair], self._windows, w,
                                  self._ref_lat[z][pair], self._ref_lon[z][pair])
            out[sel] = np.bincount(pair, weights=hold, minlength=sel.size) > 0
        return out

    # -- space -----------------------------------------------------------------------

    def contains(
        self,
        lat: ArrayLike,
        lon: ArrayLike,
        alt: ArrayLike | None = None,
        t: ArrayLike | None = None,
        cls: ArrayLike | None = None,
        cooperative: ArrayLike | None = None,
        zones: ArrayLike | None = None,
    ) -> Hits:
        """Every (point, zone) pair where the point is inside a zone that binds it.

        ``lat``, ``lon``: degrees, 1-D arrays of N points (longitudes may be 0..360).
        ``alt``: metres AMSL per point; None or NaN means unknown, and the point is then
        taken to be inside vertically (a 2-D track may be at any height). ``t``: epoch
        seconds, one for all points or one per point; None skips the time test.
        ``cls``: class code per point (index into ``records.TARGET_CLASSES``, -1 for
        unknown); None skips the class test. ``cooperative``: bool per point (has a
        transponder, ADS-B or Remote ID identity); None means not known, and zones for
        non-cooperative traffic then bind. ``zones``: a boolean mask or index array of
        the zones to test (default all). Edges count as inside (module docstring).
        """
        la = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
        lo = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
        if la.shape != lo.shape:
            raise ValueError("lat and lon differ in length")
        lo = (lo + 180.0) % 360.0 - 180.0
        n = la.size
        pt, zone, full = self._candidates(la, lo)
        keep = np.ones(pt.size, dtype=bool)
        if zones is not None:
            zmask = np.zeros(len(self), dtype=bool)
            zmask[np.asarray(zones)] = True
            keep &= zmask[zone]
        if alt is not None:
            a = np.broadcast_to(np.asarray(alt, dtype=np.float64).ravel(), (n,))[pt]
            keep &= np.isnan(a) | ((self.floor_m[zone] <= a) & (a <= self.ceiling_m[zone]))
        if cls is not None:
            c = np.broadcast_to(np.asarray(cls, dtype=np.int64).ravel(), (n,))[pt]
            c = np.where((c < 0) | (c >= len(TARGET_CLASSES)), _UNKNOWN, c)
            keep &= (self.class_mask[zone] >> c) & 1 == 1
        if cooperative is not None:
            coop = np.broadcast_to(np.asarray(cooperative, dtype=bool).ravel(), (n,))[pt]
            keep &= ~(self.noncooperative_only[zone] & coop)
        if t is not None:
            tt = np.asarray(t, dtype=np.float64)
            if tt.ndim == 0:
                keep &= self.active(float(tt))[zone]
            else:
                tp = np.broadcast_to(tt.ravel(), (n,))
                sel = np.flatnonzero(keep & self.timed[zone])
                keep[sel] = self._active_pairs(tp[pt[sel]], zone[sel])
        pt, zone, full = pt[keep], zone[keep], full[keep]
        edge = np.flatnonzero(~full)
        if edge.size:
            inside = shapely.intersects_xy(self._geoms[zone[edge]], lo[pt[edge]], la[pt[edge]])
            full[edge] = inside
        return Hits(pt[full], zone[full])

    def _candidates(self, lat: FloatArray, lon: FloatArray) -> tuple[IntArray, IntArray,
                                                                         NDArray[np.bool_]]:
        """(point, zone, zone covers the point's whole cell) for the zones near each point."""
        g = self._grid
        if g is None or lat.size == 0:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, np.zeros(0, dtype=bool)
        w, s, nx, ny, cells, offsets, cell_zone, cell_full = g
        ix = np.floor((lon - w) / self._cell_deg)
        iy = np.floor((lat - s) / self._cell_deg)
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        cid = np.where(ok, iy * nx + ix, -1).astype(np.int64)
        k = np.minimum(np.searchsorted(cells, cid), len(cells) - 1)
        found = ok & (cells[k] == cid)
        first = offsets[k]
        count = np.where(found, offsets[k + 1] - first, 0)
        pt = np.repeat(np.arange(lat.size, dtype=np.intp), count)
        pos = _ragged(first, count)
        return pt, cell_zone[pos], cell_full[pos].copy()

    def _build_grid(self) -> None:
        """Cells each zone touches, and whether the zone covers each of them whole.

        Per zone, over the cells of its bounding box: the outline is cut into pieces of at
        most a quarter cell, so a piece's two ends lie in the same cell or in neighbours,
        and the piece crosses only those (and, between diagonal neighbours, possibly one
        of the two corner cells, both taken). These are the edge cells, whose points get
        the exact test; a point computed into the cell beside an edge cell by rounding is
        a point whose coordinates put it there, and the same arithmetic placed the outline.
        No edge crosses any other cell, so each lies wholly inside or wholly outside the
        zone, and its centre says which.
        """
        if not len(self):
            self._grid = None
            return
        res = self._cell_deg
        bounds = shapely.bounds(self._geoms)
        w = np.floor(bounds[:, 0].min() / res) * res - res
        s = np.floor(bounds[:, 1].min() / res) * res - res
        nx = int(np.floor((bounds[:, 2].max() - w) / res)) + 2
        ny = int(np.floor((bounds[:, 3].max() - s) / res)) + 2
        edges = shapely.segmentize(shapely.boundary(self._geoms), res / 4.0)
        ids: list[NDArray[np.int64]] = []
        owners: list[IntArray] = []
        covered: list[NDArray[np.bool_]] = []
        for z, geom in enumerate(self._geoms):
            x0 = int(np.floor((bounds[z, 0] - w) / res)) - 1
            y0 = int(np.floor((bounds[z, 1] - s) / res)) - 1
            x1 = int(np.floor((bounds[z, 2] - w) / res)) + 1
            y1 = int(np.floor((bounds[z, 3] - s) / res)) + 1
            mx, my = x1 - x0 + 1, y1 - y0 + 1
            xy = shapely.get_coordinates(edges[z])
            ex = np.clip(np.floor((xy[:, 0] - w) / res).astype(np.intp) - x0, 0, mx - 1)
            ey = np.clip(np.floor((xy[:, 1] - s) / res).astype(np.intp) - y0, 0, my - 1)
            edge = np.zeros((my, mx), dtype=bool)
            edge[ey, ex] = True
            # A piece whose ends lie in diagonal neighbours may cross either corner cell.
            diag = np.flatnonzero((ex[1:] != ex[:-1]) & (ey[1:] != ey[:-1]))
            edge[ey[diag + 1], ex[diag]] = True
            edge[ey[diag], ex[diag + 1]] = True
            cy, cx = np.nonzero(~edge)
            inside = shapely.contains_xy(geom, w + (x0 + cx + 0.5) * res,
                                         s + (y0 + cy + 0.5) * res)
            ey, ex = np.nonzero(edge)
            gx = np.concatenate([ex, cx[inside]]) + x0
            gy = np.concatenate([ey, cy[inside]]) + y0
            ok = (gx >= 0) & (gx < nx) & (gy >= 0) & (gy < ny)
            ids.append(gy[ok].astype(np.int64) * nx + gx[ok])
            owners.append(np.full(int(ok.sum()), z, dtype=np.intp))
            full = np.concatenate([np.zeros(ex.size, dtype=bool), np.ones(int(inside.sum()),
                                                                          dtype=bool)])
            covered.append(full[ok])
        cid = np.concatenate(ids)
        order = np.argsort(cid, kind="stable")  # zones stay ascending within a cell
        cid = cid[order]
        cells, starts = np.unique(cid, return_index=True)
        offsets = np.append(starts, cid.size).astype(np.intp)
        self._grid = (w, s, nx, ny, cells, offsets, np.concatenate(owners)[order],
                      np.concatenate(covered)[order])

    # -- distance --------------------------------------------------------------------

    def distance_to_boundary(self, lat: ArrayLike, lon: ArrayLike, zone: ArrayLike) -> FloatArray:
        """Metres from each point to the outline of zone ``zone`` (one index, or one per point).

        Horizontal only, the same inside and outside (use :meth:`contains` for which).
        Method: in an azimuthal equidistant plane centred on the zone set, shapely finds
        the nearest point of the outline; the WGS84 geodesic distance to that outline
        point is returned. It is never shorter than the true distance; it is longer only
        when the plane's scale error picks the wrong one of two almost equally near parts
        of the outline, by at most that error: < 1 % within 1,500 km of the set's centre,
        < 3 % within 2,500 km (all of Europe for a set centred on it). Circles and arcs
        are polygons within 5 m of the true curve (:mod:`.geometry`).
        """
        la, lo = np.broadcast_arrays(np.asarray(lat, dtype=np.float64),
                                     np.asarray(lon, dtype=np.float64))
        shape = la.shape
        la, lo = la.ravel(), (lo.ravel() + 180.0) % 360.0 - 180.0
        z = np.broadcast_to(np.asarray(zone, dtype=np.intp).ravel(), la.shape)
        fwd, inv, outlines = self._projected()
        x, y = fwd.transform(lo, la)
        line = shapely.shortest_line(outlines[z], shapely.points(x, y))
        near = shapely.get_coordinates(shapely.get_point(line, 0))
        near_lon, near_lat = inv.transform(near[:, 0], near[:, 1])
        out = geo.distance(la, lo, np.asarray(near_lat), np.asarray(near_lon))
        return out.reshape(shape)

    def _projected(self) -> tuple[Transformer, Transformer, NDArray[np.object_]]:
        if self._plane is None:
            w, s, e, n = shapely.total_bounds(self._geoms)
            plane = (f"+proj=aeqd +lat_0={(s + n) / 2} +lon_0={(w + e) / 2} "
                     "+ellps=WGS84 +units=m")
            fwd = Transformer.from_crs("+proj=longlat +ellps=WGS84", plane, always_xy=True)
            inv = Transformer.from_crs(plane, "+proj=longlat +ellps=WGS84", always_xy=True)

            def project(xy: FloatArray) -> FloatArray:
                px, py = fwd.transform(xy[:, 0], xy[:, 1])
                return np.column_stack([px, py])

            outlines = shapely.transform(shapely.boundary(self._geoms), project)
            shapely.prepare(outlines)
            self._plane = (fwd, inv, outlines)
        return self._plane


def _ragged(first: IntArray, count: IntArray) -> IntArray:
    """Concatenated ranges first[i] .. first[i] + count[i] - 1, vectorized."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.intp)
    ends = np.cumsum(count)
    base = np.repeat(first - (ends - count), count)
    return (np.arange(total, dtype=np.intp) + base).astype(np.intp)
