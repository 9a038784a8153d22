"""Repair the eastern-flank Natural Earth extract into src/skywarden/data/countries-europe.geojson.

Run: python repair_borders.py SRC DST. Deterministic; prints what it changed.
"""
import json
import sys

import numpy as np
import shapely
from shapely.geometry import box, mapping, shape

src, dst = sys.argv[1], sys.argv[2]
with open(src) as fh:
    d = json.load(fh)
feats = {f["properties"]["iso_a3"]: f for f in d["features"]}
geo = {k: shape(f["geometry"]) for k, f in feats.items()}

def parts(g):
    return list(getattr(g, "geoms", [g]))

rus = parts(geo["RUS"])
def find(bounds):
    hits = [p for p in rus if np.allclose(p.bounds, bounds, atol=0.01)]
    assert len(hits) == 1, (bounds, hits)
    return hits[0]

strip = find((10.0, 70.97, 45.0, 71.33))        # Barents Sea strip: no land, clip artefact
west = find((10.0, 65.06, 30.12, 68.99))        # band 65-69N west of the Finnish border
water = find((31.85, 65.06, 45.0, 68.99))       # the same band's water (White/Barents Sea)
crimea = find((32.48, 44.38, 36.64, 46.22))
band = box(10.0, west.bounds[1], 45.0, west.bounds[3])
karelia_kola = band.difference(west).difference(water)
# The band's edges and the complements' edges differ by ~1e-3 deg: drop those slivers.
karelia_kola = shapely.union_all(
    [q for q in parts(karelia_kola) if q.bounds[3] - q.bounds[1] > 0.005]
)
keep = [p for p in rus if not any(p.equals(q) for q in (strip, west, water, crimea))]
rus_new = shapely.union_all(keep + [karelia_kola])
# The bands the clipper cut meet along 65.06N and 68.99N with gaps of ~1e-3 deg, which
# would read as borders. Close them (buffer out and in by 0.002 deg, ~200 m, below the
# 1:10m generalisation) and give back anything that closing took from the neighbours.
rus_new = rus_new.buffer(0.002, join_style="mitre").buffer(-0.002, join_style="mitre")
rus_new = rus_new.difference(shapely.union_all([geo[k] for k in ("FIN", "NOR", "EST", "LVA", "BLR", "UKR", "LTU", "POL")]))
geo["RUS"] = rus_new
geo["UKR"] = shapely.union_all([geo["UKR"], crimea])
geo["FIN"] = shapely.union_all([geo["FIN"], geo.pop("ALA")])
feats.pop("ALA")
renames = {"MKD": "North Macedonia", "BIH": "Bosnia and Herzegovina"}

out = []
for k, f in feats.items():
    g = shapely.set_precision(geo[k], 1e-5)  # the source is rounded to 5 decimals
    g = shapely.make_valid(g)
    props = dict(f["properties"])
    if k in renames:
        props["name"] = renames[k]
    coords = json.loads(json.dumps(mapping(g)))
    out.append({"type": "Feature", "properties": props, "geometry": coords})
out.sort(key=lambda f: f["properties"]["iso_a3"])
meta = dict(d["metadata"])
meta["repairs"] = [
    "RUS: dropped a clip artefact strip over the Barents Sea (10-45E, 70.97-71.33N) and "
    "rebuilt the inverted 65.06-68.99N band (Karelia and Kola) as band minus the two "
    "complement polygons the clipper emitted (west of the Finnish border; the White Sea), "
    "dropping slivers under 0.005 deg tall along the band edges, then closed the gaps "
    "between the bands (buffer +-0.002 deg) minus the neighbours",
    "Crimea (32.5-36.6E, 44.4-46.2N) moved from RUS to UKR: Ukrainian territory in "
    "international law (UN GA res. 68/262) and in ICAO's Simferopol FIR (UKFV)",
    "ALA (Aland, autonomous region of Finland, Finnish airspace) merged into FIN",
    "names: Macedonia -> North Macedonia (2019), Bosnia and Herz. -> Bosnia and Herzegovina",
    "geometries snapped to 1e-5 deg and made valid (shapely make_valid)",
]
meta["iso_a3"] = ("ISO 3166-1 alpha-3, checked; XKX (Kosovo) is the user-assigned code used "
                  "by the EU and NATO, ISO assigns none")
with open(dst, "w") as fh:
    json.dump({"type": "FeatureCollection", "bbox": d["bbox"], "metadata": meta, "features": out},
              fh, separators=(",", ":"), ensure_ascii=False)
print("wrote", dst, len(out), "features")
