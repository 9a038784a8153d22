"""National borders: which nation's airspace is above a point, and how far its border is.

The shipped borders are each nation's sovereign airspace: its land and its territorial
sea (``data/airspace-europe.geojson``). The land is Natural Earth 1:10m admin-0 countries
(public domain, ``data/countries-europe.geojson``) clipped to 10-45 E, 40-72 N, with the
repairs listed in the file's ``metadata.repairs``: a Russian clipping artefact removed
(it had put Kola and Karelia west of the Finnish border), Crimea with Ukraine, Aland with
Finland. The territorial sea is 12 NM from the coastline, split between neighbours on
the median line (``scripts/territorial_sea.py``, whose docstring and docs/AIRSPACE.md
give the method and what it simplifies). At 1:10m the lines are generalised by about
250-400 m: right for "which nation will it enter and when", not for legal boundaries.
Users with survey-grade borders build a :class:`Borders` from their own GeoJSON with
:meth:`Borders.from_geojson`.

What the polygons are, and are not:

- sovereign airspace: land and territorial sea (the airspace over both is the nation's,
  Chicago Convention art. 1-2). A point over the high seas, or over a neighbour's
  exclusive economic zone beyond 12 NM, is ``''``. :func:`load_land` gives the land
  alone (coastlines, for drawing maps);
- nations are keyed by ISO 3166-1 alpha-3. ``XKX`` (Kosovo) is the user-assigned code the
  EU and NATO use, ISO assigns none;
- outside :attr:`Borders.bbox` the data says nothing: ``''`` there means "unknown", not
  "no nation" (see :meth:`Borders.covers`). The edges of the clip box are not borders and
  :meth:`Borders.distance_to_border` ignores them.

All queries are vectorized over numpy arrays of WGS84 latitude and longitude in degrees;
distances are metres.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from scipy.ndimage import binary_dilation
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .. import geo
from ..errors import ConfigError

# Sovereign airspace (land and territorial sea) and the land alone.
DATA_FILE = "airspace-europe.geojson"
LAND_FILE = "countries-europe.geojson"

# Lookup grid cell, degrees. Finer cells send fewer points to the exact test but cost
# memory and start-up time; at 0.1 deg about a tenth of random points need the exact test.
GRID_RES_DEG = 0.1
# Border lines are densified to this vertex spacing for the nearest-vertex index; it
# bounds the error of the nearest-point search (see Borders.distance_to_border).
VERTEX_SPACING_M = 500.0

FloatArray = NDArray[np.float64]


class Borders:
    """National territories (the shipped ones: land and territorial sea), indexed for
    fast vectorized queries.

    Invariants: ``codes`` are unique, upper-case and in the order of ``names`` and of the
    geometries; the polygons of two nations do not overlap (beyond the 1e-5 deg precision
    of the data), so a point has at most one nation. Instances are read-only after
    construction; the index for border distances is built on the first call that needs it.
    """

    def __init__(
        self,
        codes: list[str],
        names: list[str],
        geometries: list[BaseGeometry],
        clip_box: tuple[float, float, float, float] | None = None,
        alpha2: dict[str, str] | None = None,
    ) -> None:
        if len(set(codes)) != len(codes):
            raise ConfigError("borders: nation codes are not unique")
        self.codes: tuple[str, ...] = tuple(codes)
        self._names = dict(zip(codes, names, strict=True))
        self._alpha2 = dict(alpha2 or {})  # alpha-3 -> ISO 3166-1 alpha-2, where known
        self._index = {c: i for i, c in enumerate(codes)}
        self._geoms = np.array(geometries, dtype=object)
        shapely.prepare(self._geoms)
        self._bounds = shapely.bounds(self._geoms)  # (n, 4) lon_min, lat_min, lon_max, lat_max
        self._clip_box = clip_box
        if clip_box is not None:
            self.bbox: tuple[float, float, float, float] = clip_box
        else:
            b = self._bounds
            self.bbox = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        # The code array has one extra "" at the end so index -1 reads as "no nation".
        self._code_lookup = np.array([*codes, ""], dtype="<U3")
        self._grid = self._build_grid()
        self._lines: _BorderLines | None = None

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_geojson(cls, data: str | bytes | dict[str, Any]) -> Borders:
        """Borders from a GeoJSON FeatureCollection of (Multi)Polygons in WGS84 lon/lat.

        Each feature needs properties ``iso_a3`` (nation code) and ``name``. An optional
        ``metadata.clip_box`` ``{"lat": [s, n], "lon": [w, e]}`` marks edges that are not
        borders.
        """
        doc = json.loads(data) if isinstance(data, str | bytes) else data
        codes: list[str] = []
        names: list[str] = []
        geoms: list[BaseGeometry] = []
        alpha2: dict[str, str] = {}
        try:
            for i, feature in enumerate(doc["features"]):
                props = feature["properties"]
                code = str(props["iso_a3"])
                if len(code) != 3 or not code.isalpha() or not code.isupper():
                    raise ConfigError(f"borders: feature {i}: iso_a3 {code!r} is not alpha-3")
                codes.append(code)
                names.append(str(props.get("name", code)))
                geoms.append(shapely.geometry.shape(feature["geometry"]))
                a2 = props.get("iso_a2")
                if isinstance(a2, str) and len(a2) == 2 and a2.isalpha():
                    alpha2[code] = a2.upper()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"borders: not a GeoJSON FeatureCollection of nations ({exc})") from exc
        box = (doc.get("metadata") or {}).get("clip_box")
        clip = (box["lon"][0], box["lat"][0], box["lon"][1], box["lat"][1]) if box else None
        return cls(codes, names, geoms, clip, alpha2)

    # -- lookups -------------------------------------------------------------------------

    def name(self, code: str) -> str:
        """The nation's short English name; :class:`KeyError` for an unknown code."""
        return self._names[code]

    def alpha2(self, code: str) -> str | None:
        """The nation's ISO 3166-1 alpha-2 code where its feature gave one (``iso_a2``),
        else None."""
        return self._alpha2.get(code)

    def geometry(self, code: str) -> BaseGeometry:
        """The nation's territory (the shipped borders: land and territorial sea), a
        shapely (Multi)Polygon in lon/lat degrees."""
        geom: BaseGeometry = self._geoms[self._index[code]]
        return geom

    def covers(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.bool_]:
        """True where the data has an answer (inside :attr:`bbox`)."""
        lat, lon = _latlon(lat, lon)
        w, s, e, n = self.bbox
        return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)

    def nation_at(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.str_]:
        """ISO alpha-3 code of the nation whose land is below each point, ``''`` where none.

        Same shape as the broadcast inputs; dtype ``<U3``.
        """
        codes: NDArray[np.str_] = self._code_lookup[self.index_at(lat, lon)]
        return codes

    def index_at(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.intp]:
        """Index into :attr:`codes` of the nation below each point, -1 where none.

        The fast path for hot loops: no strings. Method: a 0.1 deg lookup grid says for
        most points which nation (or none) covers the whole cell; only points in cells a
        border line passes through get an exact point-in-polygon test.
        """
        lat, lon = _latlon(lat, lon)
        shape = lat.shape
        lat, lon = lat.ravel(), lon.ravel()
        grid, (w, s) = self._grid, self.bbox[:2]
        ix = np.floor((lon - w) / GRID_RES_DEG)
        iy = np.floor((lat - s) / GRID_RES_DEG)
        inside = (ix >= 0) & (ix < grid.shape[1]) & (iy >= 0) & (iy < grid.shape[0])
        out = np.full(lat.shape, -1, dtype=np.intp)
        out[inside] = grid[iy[inside].astype(np.intp), ix[inside].astype(np.intp)]
        mixed = np.flatnonzero(out == _MIXED)
        out[mixed] = self._exact_index(lat[mixed], lon[mixed])
        return out.reshape(shape)

    def distance_to_border(
        self, lat: ArrayLike, lon: ArrayLike, nation: str | None = None
    ) -> FloatArray:
        """Distance in metres from each point to the nearest border line.

        With ``nation`` (alpha-3), to the edge of that nation's territory (its land
        borders and its coastline), whether the point is inside or outside it; without,
        to the nearest edge of any nation. Edges of the data's clip box are not borders.

        Method: in an azimuthal equidistant plane centred on the data, the border lines are
        densified to vertices at most 500 m apart; a k-d tree gives the nearest vertex and
        the point is projected onto the two segments meeting there. The geodesic distance
        (WGS84) to that border point is returned. It is never shorter than the true
        distance and is longer by at most half the vertex spacing (250 m) in the rare case
        the true nearest segment does not touch the nearest vertex, plus the plane's
        scale error (< 2 % across the data) in choosing between almost equally near parts.
        The 1:10m generalisation (~250-400 m) adds to this near a border.
        """
        lat, lon = _latlon(lat, lon)
        nation_index = self._nation_mask(nation)
        out = np.full(lat.shape, np.nan)  # NaN in, NaN out
        ok = np.isfinite(lat) & np.isfinite(lon)
        near_lat, near_lon = self._border_lines().nearest(lat[ok], lon[ok], nation_index)
        out[ok] = geo.distance(lat[ok], lon[ok], near_lat, near_lon)
        return out

    # -- internals -----------------------------------------------------------------------

    def _nation_mask(self, nation: str | None) -> int | None:
        if nation is None:
            return None
        if nation not in self._index:
            raise KeyError(f"no nation {nation!r} in the borders")
        return self._index[nation]

    def _exact_index(self, lat: FloatArray, lon: FloatArray) -> NDArray[np.intp]:
        """Point-in-polygon for each point against every nation whose box holds it."""
        out = np.full(lat.shape, -1, dtype=np.intp)
        for i, geom in enumerate(self._geoms):
            w, s, e, n = self._bounds[i]
            cand = np.flatnonzero((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n) & (out < 0))
            if cand.size:
                hit = shapely.contains_xy(geom, lon[cand], lat[cand])
                out[cand[hit]] = i
        return out

    def _build_grid(self) -> NDArray[np.int16]:
        """Lookup grid over :attr:`bbox`: nation index, -1 none, or ``_MIXED``.

        A cell is mixed when a polygon edge may pass through it: every edge is cut into
        segments of at most a quarter cell, so any cell an edge touches holds a vertex or
        neighbours a cell that does; marking vertex cells and dilating by one cell
        (3 x 3) therefore finds them all. Every other cell lies wholly inside one nation
        or outside all, and its centre tells which.
        """
        w, s, e, n = self.bbox
        nx = int(np.ceil((e - w) / GRID_RES_DEG))
        ny = int(np.ceil((n - s) / GRID_RES_DEG))
        edges = shapely.segmentize(shapely.boundary(self._geoms), GRID_RES_DEG / 4.0)
        xy = shapely.get_coordinates(edges)
        ix = np.clip(np.floor((xy[:, 0] - w) / GRID_RES_DEG).astype(np.intp), 0, nx - 1)
        iy = np.clip(np.floor((xy[:, 1] - s) / GRID_RES_DEG).astype(np.intp), 0, ny - 1)
        mixed = np.zeros((ny, nx), dtype=bool)
        mixed[iy, ix] = True
        mixed = binary_dilation(mixed, structure=np.ones((3, 3), dtype=bool))
        cy, cx = np.nonzero(~mixed)
        grid = np.full((ny, nx), _MIXED, dtype=np.int16)
        centre_lat = (s + (cy + 0.5) * GRID_RES_DEG).astype(np.float64)
        centre_lon = (w + (cx + 0.5) * GRID_RES_DEG).astype(np.float64)
        grid[cy, cx] = self._exact_index(centre_lat, centre_lon)
        return grid

    def _border_lines(self) -> _BorderLines:
        if self._lines is None:
            self._lines = _BorderLines(self._geoms, self.bbox, self._clip_box is not None)
        return self._lines


_MIXED = -2


class _BorderLines:
    """The nations' edges as dense vertices in an azimuthal equidistant plane.

    Lines are densified to at most ``VERTEX_SPACING_M`` between vertices so a k-d tree of
    vertices finds, for any point, a vertex next to the nearest part of the border; the
    point is then projected onto the two segments that meet at that vertex.
    """

    def __init__(
        self, geoms: NDArray[np.object_], bbox: tuple[float, float, float, float], clipped: bool
    ) -> None:
        w, s, e, n = bbox
        plane = f"+proj=aeqd +lat_0={(s + n) / 2} +lon_0={(w + e) / 2} +ellps=WGS84 +units=m"
        self._fwd = Transformer.from_crs("+proj=longlat +ellps=WGS84", plane, always_xy=True)
        self._inv = Transformer.from_crs(plane, "+proj=longlat +ellps=WGS84", always_xy=True)
        lines = shapely.boundary(geoms)
        if clipped:
            # The box edges came from clipping, not from a border: drop them.
            box_edge = shapely.box(w, s, e, n).exterior.buffer(1e-6)
            lines = shapely.difference(lines, box_edge)
        parts, owner = shapely.get_parts(shapely.line_merge(lines), return_index=True)
        parts = shapely.segmentize(shapely.transform(parts, self._project), VERTEX_SPACING_M)
        xy, line = shapely.get_coordinates(parts, return_index=True)
        self._xy = xy
        self._line = line  # which part each vertex belongs to: segments never cross parts
        self._owner = owner[line]
        self._trees: dict[int | None, tuple[cKDTree, NDArray[np.intp]]] = {}

    def _project(self, lonlat: FloatArray) -> FloatArray:
        x, y = self._fwd.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    def _tree(self, nation: int | None) -> tuple[cKDTree, NDArray[np.intp]]:
        if nation not in self._trees:
            keep = np.arange(len(self._xy)) if nation is None else np.flatnonzero(
                self._owner == nation
            )
            # Unbalanced, uncompacted nodes query ~4x faster here: most query points lie
            # far from the clustered border vertices, where compact boxes prune poorly.
            tree = cKDTree(self._xy[keep], balanced_tree=False, compact_nodes=False)
            self._trees[nation] = (tree, keep)
        return self._trees[nation]

    def nearest(
        self, lat: FloatArray, lon: FloatArray, nation: int | None
    ) -> tuple[FloatArray, FloatArray]:
        """Latitude, longitude of the nearest border point (in the plane) to each point."""
        tree, keep = self._tree(nation)
        if lat.size == 0 or keep.size == 0:
            nan = np.full(lat.shape, np.nan)
            return nan, nan.copy()
        x, y = self._fwd.transform(lon, lat)
        p = np.column_stack([x, y])
        _, k = tree.query(p)
        j = keep[k]
        best = self._xy[j].copy()
        best_d2 = ((best - p) ** 2).sum(axis=1)
        last = len(self._xy) - 1
        for nb in (np.maximum(j - 1, 0), np.minimum(j + 1, last)):
            ok = self._line[nb] == self._line[j]
            cand = _closest_on_segment(p, self._xy[j], self._xy[nb])
            d2 = ((cand - p) ** 2).sum(axis=1)
            better = ok & (d2 < best_d2)
            best[better], best_d2[better] = cand[better], d2[better]
        near_lon, near_lat = self._inv.transform(best[:, 0], best[:, 1])
        return np.asarray(near_lat, dtype=np.float64), np.asarray(near_lon, dtype=np.float64)


def _closest_on_segment(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Closest point to each ``p`` on segment ``a``-``b`` (rows are 2-D plane points)."""
    ab = b - a
    den = (ab * ab).sum(axis=1)
    t = np.divide(((p - a) * ab).sum(axis=1), den, out=np.zeros_like(den), where=den > 0)
    closest: FloatArray = a + np.clip(t, 0.0, 1.0)[:, None] * ab
    return closest


def _latlon(lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Broadcast inputs as float64; longitudes wrapped to [-180, 180)."""
    la, lo = np.broadcast_arrays(
        np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    )
    return la, (lo + 180.0) % 360.0 - 180.0


@functools.cache
def load_borders() -> Borders:
    """The shipped nations' airspace: land and territorial sea (module docstring).

    Read once from the package data and cached; building the lookup grid takes about a
    tenth of a second.
    """
    data = resources.files("skywarden").joinpath("data", DATA_FILE).read_bytes()
    return Borders.from_geojson(data)


@functools.cache
def load_land() -> Borders:
    """The shipped nations' land alone (Natural Earth, repaired): the coastlines, for
    drawing maps. What a track is over, and enters, is :func:`load_borders`."""
    data = resources.files("skywarden").joinpath("data", LAND_FILE).read_bytes()
    return Borders.from_geojson(data)
