"""A nation's first-level regions (voivodeships, oblasts, judete) as polygons.

    RegionMap(places, borders).covered("POL", corridor) -> ["Lublin Voivodeship"]
    RegionMap(places, borders).outline("POL", "Lublin Voivodeship") -> [ring, ...]

Public warnings go out per region, as civil protection issues them (an air-raid alert per
oblast, a cell-broadcast per voivodeship): the warning stage needs to know which regions
a threat's corridor crosses and the outline of each. No administrative boundary data
ships with the package, but the gazetteer does (GeoNames, every place of 1,000 people or
more, each with its admin1 region), so the regions are drawn from it: the nation's
territory (land and territorial sea) is cut into the Voronoi cells of its places and the
cells of one region are merged; a coastal region takes its stretch of the sea.

Accuracy: a drawn boundary runs halfway between the nearest places of the two regions,
so it is off the true one by up to half the spacing of places there (a few kilometres in
Poland or Romania, 10-20 km in the sparse north of Ukraine). The national border and the
limit of the territorial sea are the nation's own (:class:`~skywarden.airspace.Borders`),
not drawn. The cells
are built in a plane where a degree of longitude is ``cos(latitude)`` degrees of
latitude long, so they are not stretched east-west.

A nation is drawn on its first use (about 0.1-1 s) and kept.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..airspace.borders import Borders
from .area import Places, Ring, rings

# Most points of one region's CAP polygon: receivers handle short rings best, and the
# drawn boundary is no better than a few kilometres anyway.
OUTLINE_POINTS = 64
# A corridor must cover this much of a region (km^2, in the plane) to warn it: a corridor
# clipped to the nation touches its neighbours' regions along a drawn boundary.
MIN_OVERLAP_KM2 = 1.0


class RegionMap:
    """Regions of the nations of ``borders``, drawn from the places of ``places``."""

    def __init__(self, places: Places, borders: Borders) -> None:
        self.places = places
        self.borders = borders
        self._drawn: dict[str, tuple[list[str], list[BaseGeometry], float]] = {}

    def regions(self, nation: str) -> dict[str, BaseGeometry]:
        """The nation's regions by name, lon/lat polygons; empty where the gazetteer
        holds no places of the nation (or the nation is unknown)."""
        names, geoms, _ = self._draw(nation)
        return dict(zip(names, geoms, strict=True))

    def covered(self, nation: str, area: list[Ring]) -> list[str]:
        """Names of the nation's regions that ``area`` (closed lat,lon rings) covers,
        sorted by name."""
        names, geoms, scale = self._draw(nation)
        if not names or not area:
            return []
        shape = shapely.union_all([shapely.Polygon([(lon, lat) for lat, lon in r]) for r in area])
        km2_per_deg2 = (111.32 * 111.32) * scale
        hit = shapely.area(shapely.intersection(np.asarray(geoms, dtype=object), shape))
        return sorted(n for n, a in zip(names, hit, strict=True) if a * km2_per_deg2 >= MIN_OVERLAP_KM2)

    def outline(self, nation: str, region: str) -> list[Ring]:
        """The region's polygons as CAP rings (at most :data:`OUTLINE_POINTS` points
        each); empty for a region the map does not know."""
        geom = self.regions(nation).get(region)
        return [] if geom is None else rings(geom, max_points=OUTLINE_POINTS)

    def _draw(self, nation: str) -> tuple[list[str], list[BaseGeometry], float]:
        drawn = self._drawn.get(nation)
        if drawn is None:
            drawn = self._drawn[nation] = self._build(nation)
        return drawn

    def _build(self, nation: str) -> tuple[list[str], list[BaseGeometry], float]:
        a2 = self.borders.alpha2(nation) if nation in self.borders.codes else None
        if a2 is None:
            return [], [], 1.0
        p = self.places
        mine = np.flatnonzero((p.country == a2) & (p.region != ""))
        land = self.borders.geometry(nation)
        if not mine.size:
            return [], [], 1.0
        # One point per location (a town and its district seat can share coordinates).
        lon, lat = p.lon[mine], p.lat[mine]
        _, first = np.unique(np.round(np.c_[lon, lat], 6), axis=0, return_index=True)
        keep = mine[np.sort(first)]
        region = p.region[keep]
        names = sorted(set(region.tolist()))
        if len(names) == 1:
            return names, [land], _scale(land)
        c = math.cos(math.radians(float(np.mean(p.lat[keep]))))
        pts = shapely.points(p.lon[keep] * c, p.lat[keep])
        plane_land = shapely.transform(land, lambda xy: xy * [c, 1.0])
        cells = shapely.get_parts(shapely.voronoi_polygons(
            shapely.multipoints(pts), extend_to=plane_land.envelope.buffer(1.0), ordered=True))
        geoms = []
        for name in names:
            merged = shapely.union_all(cells[region == name])
            part = shapely.intersection(merged, plane_land)
            geoms.append(shapely.transform(part, lambda xy: xy / [c, 1.0]))
        return names, geoms, c


def _scale(geom: BaseGeometry) -> float:
    """cos(latitude) at the geometry's centre: degrees of longitude to degrees of latitude."""
    return math.cos(math.radians(geom.centroid.y))
