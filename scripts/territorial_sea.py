"""Build the nations' sovereign airspace, land plus territorial sea, into
src/skywarden/data/airspace-europe.geojson from the land borders (countries-europe.geojson).

Run: python scripts/territorial_sea.py [LAND] [OUT]. Deterministic; prints the sea added
per nation.

A nation's airspace covers its land and its territorial sea (Chicago Convention art. 1-2;
UNCLOS art. 2-3: at most 12 nautical miles from the baselines). The land polygons end at
the coastline, so a drone over the Gulf of Finland 10 km off Tallinn was over "no nation".
Method:

1. All nations' outlines (coasts, land borders, lake shores; not the clip box's edges)
   are sampled every ``SITE_SPACING_M`` in one azimuthal equidistant plane centred on the
   box. The Voronoi cells of those points, merged per nation, give every sea point to the
   nation whose land is nearest: the equidistance (median) line where two nations' seas
   meet, as UNCLOS art. 15 sets it where no treaty says otherwise.
2. Each nation's sea is its land buffered by ``BREADTH_NM`` in that plane (its outer limit
   smoothed by ``SMOOTH_M``), within its own cells, less every nation's land; plus the
   pockets of high sea its territory wraps around that are narrower than twice
   ``POCKET_NM`` (a closing: buffered out and back in), within its cells; less, for the
   neighbours of ``CORRIDORS``, the strip along the median line between them.
3. The sea is brought back to longitude and latitude (edges cut to ``SEGMENT_M`` first, so
   straight lines in the plane stay where they were), less all land again there, and
   joined to the nation's land, which is kept exactly as it was.

Accuracy. The plane's scale is exact along lines from its centre and up to 1.4 % long
across them at the box's corners (1,800 km away): the limit is 12 NM within about 0.3 km,
and the 1:10m coastline it is measured from is generalised by 250-400 m. Simplifications,
documented in docs/AIRSPACE.md: the limit is measured from the coastline, not from
straight baselines across bays and between islands (real limits reach further out where
those are drawn); every nation gets 12 NM (Greece and Turkey hold 6 NM in the Aegean);
maritime boundaries set by treaty are taken as the median line.
"""

import json
import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent
LAND = ROOT / "src/skywarden/data/countries-europe.geojson"
OUT = ROOT / "src/skywarden/data/airspace-europe.geojson"

NAUTICAL_MILE_M = 1852.0
BREADTH_NM = 12.0
SITE_SPACING_M = 1000.0  # the median line is as exact as the sites are dense
SMOOTH_M = 50.0  # the buffer's outer limit is simplified to this (Douglas-Peucker)
SEGMENT_M = 1000.0
# Pockets of high sea that a nation's territory wraps around, narrower than twice this,
# are given to that nation (a morphological closing of its land and sea). Measured from
# the coastline, the 12 NM limit leaves tongues of "high sea" reaching into gulfs, a few
# kilometres wide (the Gulf of Odesa); a drone crossing one leaves the nation and comes
# back minutes later. Real limits are measured from straight baselines and bay closing
# lines, which enclose most such waters; this stands in for them where the gap is narrow.
POCKET_NM = 12.0
# Neighbours whose territorial seas stop this many NM short of the median line between
# them, leaving a corridor of high sea: Finland and Estonia in the Gulf of Finland (the
# only place their seas meet), each by its own territorial sea law. Without it, traffic
# in the corridor (flights between St Petersburg and Kaliningrad keep to it) would be
# inside one of them.
CORRIDORS = [("EST", "FIN", 3.0)]
# Pieces of sea smaller than this (km2) are dropped: slivers between neighbours' land
# edges that do not quite meet in the source data, not sea.
MIN_PIECE_KM2 = 0.5


def main(land_path: Path, out_path: Path) -> None:
    doc = json.loads(land_path.read_text())
    box = doc["metadata"]["clip_box"]
    (w, e), (s, n) = box["lon"], box["lat"]
    plane = f"+proj=aeqd +lat_0={(s + n) / 2} +lon_0={(w + e) / 2} +ellps=WGS84 +units=m"
    to_plane = _transform(Transformer.from_crs("+proj=longlat +ellps=WGS84", plane,
                                               always_xy=True))
    to_lonlat = _transform(Transformer.from_crs(plane, "+proj=longlat +ellps=WGS84",
                                                always_xy=True))
    features = doc["features"]
    land = [shape(f["geometry"]) for f in features]
    # cut long edges before projecting: a straight edge in degrees is curved in the plane
    land_p = [shapely.make_valid(shapely.transform(shapely.segmentize(g, 0.01), to_plane))
              for g in land]
    box_p = shapely.transform(shapely.segmentize(shapely.box(w, s, e, n), 0.01), to_plane)
    box_edge = box_p.exterior.buffer(50.0)

    # 1. the nearest nation's cells
    sites, owner = [], []
    for i, g in enumerate(land_p):
        outline = shapely.segmentize(shapely.difference(g.boundary, box_edge), SITE_SPACING_M)
        xy = shapely.get_coordinates(outline)
        sites.append(xy)
        owner.append(np.full(len(xy), i))
    xy, first = np.unique(np.round(np.concatenate(sites), 1), axis=0, return_index=True)
    own = np.concatenate(owner)[first]  # a point shared by two nations: either's
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=box_p.buffer(100e3), ordered=True)))

    # 2. and 3. each nation's sea
    land_p = [g.buffer(0) for g in land_p]  # polygons only, for the unions below
    all_land_p = shapely.union_all(land_p)
    all_land = shapely.union_all([g.buffer(0) for g in land])
    out = []
    print(f"{len(xy):,} sites; sea added per nation (km2):")
    codes = [f["properties"]["iso_a3"] for f in features]
    limits = [gp.buffer(BREADTH_NM * NAUTICAL_MILE_M, quad_segs=8).simplify(SMOOTH_M)
              for gp in land_p]
    regions = []
    for i, limit in enumerate(limits):
        mine = cells[own == i]
        mine = mine[shapely.intersects(mine, limit)]
        regions.append(shapely.coverage_union_all(mine) if mine.size else shapely.Polygon())
    for i, (f, g, gp, limit, region) in enumerate(
            zip(features, land, land_p, limits, regions, strict=True)):
        within = shapely.intersection(region, box_p)
        sea_p = shapely.difference(shapely.intersection(limit, within), all_land_p)
        # pockets: close the territory by POCKET_NM (out, then in) within its own cells
        held = shapely.union(gp, sea_p)
        closed = held.buffer(POCKET_NM * NAUTICAL_MILE_M, quad_segs=8).buffer(
            -POCKET_NM * NAUTICAL_MILE_M, quad_segs=8)
        pocket = shapely.difference(shapely.intersection(closed, within),
                                    shapely.union(held, all_land_p))
        sea_p = shapely.union(sea_p, pocket)
        for a, b, short_nm in CORRIDORS:  # stop short of the median line with b
            if codes[i] in (a, b):
                other = regions[codes.index(b if codes[i] == a else a)]
                median = shapely.intersection(region.boundary, other.buffer(1.0))
                sea_p = shapely.difference(sea_p, median.buffer(short_nm * NAUTICAL_MILE_M))
        sea = shapely.transform(shapely.segmentize(sea_p, SEGMENT_M), to_lonlat)
        sea = shapely.intersection(shapely.difference(sea, all_land), shapely.box(w, s, e, n))
        pieces = [p for p in shapely.get_parts(sea) if p.geom_type == "Polygon"]
        km2 = [shapely.area(shapely.transform(p, to_plane)) / 1e6 for p in pieces]
        pieces = [p for p, a in zip(pieces, km2, strict=True) if a >= MIN_PIECE_KM2]
        added = sum(a for a in km2 if a >= MIN_PIECE_KM2)
        territory = shapely.union_all([g, *pieces])
        territory = shapely.make_valid(shapely.set_precision(territory, 1e-5))
        territory = shapely.union_all([p for p in shapely.get_parts(territory)
                                       if p.geom_type == "Polygon"])
        props = dict(f["properties"])
        props["territorial_sea_km2"] = round(added)
        print(f"  {props['iso_a3']} {added:>9,.0f}")
        out.append({"type": "Feature", "properties": props,
                    "geometry": json.loads(json.dumps(mapping(territory)))})
    _check_disjoint(out)
    meta = dict(doc["metadata"])
    meta["territory"] = (
        f"land plus territorial sea: {BREADTH_NM:g} NM from the coastline, split between "
        "neighbours on the median line (equidistance from the nearest land); pockets of "
        f"high sea under {2 * POCKET_NM:g} NM across that one nation's sea wraps around "
        "are that nation's; "
        + "".join(f"{a} and {b} stop {nm:g} NM short of the median line between them; "
                  for a, b, nm in CORRIDORS)
        + "built by "
        "scripts/territorial_sea.py from countries-europe.geojson, whose land it keeps "
        "unchanged; simplifications in docs/AIRSPACE.md")
    out_path.write_text(json.dumps({"type": "FeatureCollection", "bbox": doc["bbox"],
                                    "metadata": meta, "features": out},
                                   separators=(",", ":"), ensure_ascii=False))
    print("wrote", out_path, len(out), "nations")


def _transform(t: Transformer):
    return lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def _check_disjoint(features: list[dict]) -> None:
    """Nations' airspaces may touch, never overlap (beyond the 1e-5 deg snapping)."""
    geoms = np.array([shape(f["geometry"]) for f in features], dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i < j:
            overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
            if overlap > 1e-6:  # deg2, about 0.01 km2
                code_i = features[i]["properties"]["iso_a3"]
                code_j = features[j]["properties"]["iso_a3"]
                raise SystemExit(f"{code_i} and {code_j} overlap by {overlap:.2e} deg2")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(args[0] if args else LAND, args[1] if len(args) > 1 else OUT)
