"""Build the shipped zones in src/skywarden/data/zones/ from the shipped borders.

Run: .venv/bin/python scripts/make_zones.py [OUT_DIR]   (default src/skywarden/data/zones)

Deterministic: the same borders give the same bytes. Every figure below and its source
is in docs/AIRSPACE.md ("Shipped zones"); change them together.

- Poland, restricted area EP R129 along the borders with Belarus and Ukraine: a strip of
  STRIP_PL_M on the Polish side of the POL-BLR and POL-UKR border lines, SFC to FL095,
  as three zones for its three rules (drones all day; manned traffic without a
  transponder by day; all traffic by night).
- Latvia, the closure along the borders with Russia and Belarus from 11 Sep 2025: a strip
  of STRIP_LV_M on the Latvian side of the LVA-RUS and LVA-BLR lines, SFC to 6,000 m.
- The four airports closed on the night of 9-10 Sep 2025, as warning perimeters for
  drones: circles of AIRPORT_RADIUS_M about the aerodrome reference points.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from skywarden.airspace import geometry, load_borders
from skywarden.airspace.geojson import zones_to_geojson
from skywarden.airspace.schedule import parse_time, parse_window
from skywarden.airspace.zones import SFC, Limit, Zone, parse_limit

STRIP_PL_M = 50_000.0  # "a strip 26 to 50 km deep" (fakt.pl): the outer bound
STRIP_LV_M = 50_000.0  # "50 km deep" (AA, babel.ua)
AIRPORT_RADIUS_M = 5_000.0
AIRPORT_CEILING = Limit(1000.0, "m", "AMSL")
SIMPLIFY_M = 50.0  # tolerance on the inner (non-border) edge of a strip

R129_SOURCES = (
    "https://blogpoligloty.com/air-traffic-restriction-in-the-eastern-part-of-poland ; "
    "https://www.fakt.pl/polityka/niebo-przy-granicy-znow-z-ograniczeniami-wojsko-wymusilo-"
    "decyzje/6gg1e0j ; https://en.interfax.com.ua/news/general/1103790.html ; "
    "https://www.dziennikwschodni.pl/lublin/nowe-ograniczenia-w-ruchu-lotniczym-na-wschodzie-"
    "polski-dotyczy-to-min-dronow,n,1000366749.html"
)
R129_START = "2025-09-10T22:00+02:00"  # PANSA: from 10 Sep 22:00 (local time assumed)
R129_UAS_END = "2025-12-09T23:59+01:00"  # first period: until 9 Dec 23:59
R129_END = "2026-03-09T23:59+01:00"  # extended to 9 Mar 2026 (fakt.pl; 23:59 assumed)
R129_OUTLINE = (
    "Outline built from Natural Earth 1:10m borders: a strip {km:.0f} km deep on the Polish "
    "side of the whole border with Belarus and Ukraine (the published depth is 26-50 km; "
    "the PANSA map is not in our sources, so the outer bound is used)."
)

LV_SOURCES = (
    "https://www.aa.com.tr/en/russia-ukraine-war/latvia-closes-airspace-along-eastern-border-"
    "following-drone-incursions-into-poland/3685005 ; https://babel.ua/en/news/121336-latvia-"
    "closes-airspace-along-its-eastern-border-until-at-least-september-18 ; "
    "https://www.pravda.com.ua/eng/news/2025/09/11/7530368/"
)

AIRPORT_CLOSURE_SOURCES = (
    "https://www.pravda.com.ua/eng/news/2025/09/10/7530103/ ; https://www.gazetaprawna.pl/"
    "wiadomosci/artykuly/9884720,atak-dronow-z-rosji-jak-bezpiecznie-oddzielic-samoloty-"
    "cywilne-od-woj.html"
)
# ICAO, name, ARP latitude, longitude (deg), the page the coordinates come from,
# what the night of 9-10 Sep 2025 did to it.
AIRPORTS = (
    ("EPWA", "Warsaw Chopin", 52 + 9 / 60 + 57 / 3600, 20 + 58 / 60 + 2 / 3600,
     "https://en.wikipedia.org/wiki/Warsaw_Chopin_Airport (ARP 52 09 57 N 020 58 02 E)",
     "Closed overnight 9-10 Sep 2025 for military activity; airspace reopened 07:30 "
     "local (05:30 UTC)."),
    ("EPMO", "Warsaw Modlin", 52 + 27 / 60 + 4 / 3600, 20 + 39 / 60 + 6 / 3600,
     "https://en.wikipedia.org/wiki/Warsaw%E2%80%93Modlin_Mazovia_Airport "
     "(ARP 52 27 04 N 020 39 06 E)",
     "Closed overnight 9-10 Sep 2025; normal from 07:13 local (05:13 UTC)."),
    ("EPRZ", "Rzeszow-Jasionka", 50 + 6 / 60 + 35.85 / 3600, 22 + 1 / 60 + 8.40 / 3600,
     "https://www.rzeszowairport.pl/en/airport/airport/infrastructure "
     "(ARP 50 06 35.85 N 022 01 08.40 E, WGS 84)",
     "Closed overnight 9-10 Sep 2025; reopening time not in our sources."),
    ("EPLB", "Lublin", 51 + 14 / 60 + 25 / 3600, 22 + 42 / 60 + 49 / 3600,
     "https://en.wikipedia.org/wiki/Lublin_Airport (ARP 51 14 25 N 022 42 49 E)",
     "Closed overnight 9-10 Sep 2025, reopened last, about 08:30 local (06:30 UTC); "
     "closed again on 13 Sep from about 16:00 local."),
)


def border_strip(nation: str, neighbours: tuple[str, ...], depth_m: float) -> MultiPolygon:
    """The part of ``nation`` within ``depth_m`` of its border lines with ``neighbours``.

    The lines are buffered with flat ends, so the strip stops square at the tripoints
    instead of rounding into the territory along the next border.
    """
    borders = load_borders()
    home = borders.geometry(nation)
    lines = shapely.line_merge(shapely.union_all([
        shapely.intersection(home.boundary, borders.geometry(n).buffer(1e-5))
        for n in neighbours]))
    w, s, e, n = lines.bounds
    plane = f"+proj=aeqd +lat_0={(s + n) / 2} +lon_0={(w + e) / 2} +ellps=WGS84 +units=m"
    fwd = Transformer.from_crs("+proj=longlat +ellps=WGS84", plane, always_xy=True)
    inv = Transformer.from_crs(plane, "+proj=longlat +ellps=WGS84", always_xy=True)
    flat = shapely.transform(lines, lambda xy: _apply(fwd, xy))
    band = shapely.buffer(flat, depth_m, quad_segs=16, cap_style="flat")
    band = shapely.simplify(band, SIMPLIFY_M)
    band = shapely.transform(band, lambda xy: _apply(inv, xy))
    strip = shapely.intersection(home, band)
    polys = [p for p in getattr(strip, "geoms", [strip])
             if isinstance(p, Polygon) and p.area > 1e-4]  # drop slivers under ~1 km2
    out = MultiPolygon(polys)
    geometry.check(out)
    return out


def _apply(t: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = t.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def poland_r129() -> list[Zone]:
    strip = border_strip("POL", ("BLR", "UKR"), STRIP_PL_M)
    outline = R129_OUTLINE.format(km=STRIP_PL_M / 1000)
    common = dict(type="border_buffer", geometry=strip, floor=SFC,
                  ceiling=parse_limit("FL95"), owner="POL", source=R129_SOURCES)
    start = parse_time(R129_START)
    return [
        Zone(id="EP-R129-UAS", name="EP R129 (drones, 24 h)", applies="drones",
             start=start, end=parse_time(R129_UAS_END),
             remarks="Civil unmanned aircraft banned 24 h a day from 10 Sep to 9 Dec 2025; "
             "from 10 Dec drones may fly by day only (the night rule covers them). "
             + outline, **common),
        Zone(id="EP-R129-DAY", name="EP R129 (sunrise to sunset)", applies="noncooperative",
             start=start, end=parse_time(R129_END), daily=(parse_window("SR-SS"),),
             remarks="Sunrise to sunset: flights prohibited except manned aircraft on a "
             "filed flight plan with a working Mode A/C or S transponder and two-way radio "
             "with ATS, military, GARDA/ALPHA SCRAMBLE, HEAD, STATE, SAR, HOSP, MEDEVAC, "
             "FFR. A track shows only the transponder, so the zone binds tracks without a "
             "cooperative identity. " + outline, **common),
        Zone(id="EP-R129-NIGHT", name="EP R129 (sunset to sunrise)", applies="all",
             start=start, end=parse_time(R129_END), daily=(parse_window("SS-SR"),),
             remarks="Sunset to sunrise: all flights prohibited except military aircraft "
             "(not told apart by a track). " + outline, **common),
    ]


def latvia_east() -> list[Zone]:
    strip = border_strip("LVA", ("RUS", "BLR"), STRIP_LV_M)
    return [Zone(
        id="LV-EAST-2025-09", name="Latvia eastern border closure", type="border_buffer",
        geometry=strip, floor=SFC, ceiling=Limit(6000.0, "m", "AMSL"), applies="all",
        owner="LVA", start=parse_time("2025-09-11T18:00+03:00"),
        end=parse_time("2025-09-18T23:59+03:00"), source=LV_SOURCES,
        remarks="Closed from 11 Sep 2025 18:00 local 'until at least 18 Sep', extendable "
        "(the end here is 18 Sep 23:59 local; later extensions are not in our sources). "
        "50 km deep along the borders with Russia (283 km) and Belarus (172 km), up to "
        "6,000 m (one source says 9,000 m); higher traffic passes over. Outline built from "
        "Natural Earth 1:10m borders.",
    )]


def airports() -> list[Zone]:
    zones = []
    for icao, name, lat, lon, where, closure in AIRPORTS:
        lat, lon = round(lat, 6), round(lon, 6)
        zones.append(Zone(
            id=f"{icao}-DRONE", name=f"{name} ({icao}) drone warning perimeter",
            type="airport", geometry=geometry.circle(lat, lon, AIRPORT_RADIUS_M),
            floor=SFC, ceiling=AIRPORT_CEILING, applies="drones", owner="POL",
            source=f"coordinates: public aerodrome reference point, {where}; closure: "
            f"{AIRPORT_CLOSURE_SOURCES}",
            remarks=f"A warning perimeter of {AIRPORT_RADIUS_M / 1000:.0f} km, SFC to "
            f"{AIRPORT_CEILING}, chosen by this project: not a published zone. {closure}",
            circle=(lat, lon, AIRPORT_RADIUS_M),
        ))
    return zones


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "src/skywarden/data/zones")
    out.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "scripts/make_zones.py", "borders": "Natural Earth 1:10m, "
            "skywarden/data/countries-europe.geojson", "documentation": "docs/AIRSPACE.md"}
    files = {
        "poland-ep-r129.geojson": poland_r129(),
        "latvia-east-2025-09.geojson": latvia_east(),
        "poland-airports-2025-09.geojson": airports(),
    }
    for name, zones in files.items():
        (out / name).write_text(zones_to_geojson(zones, meta), encoding="utf-8")
        vertices = sum(len(shapely.get_coordinates(z.geometry)) for z in zones)
        print(f"{out / name}: {len(zones)} zones, {vertices} vertices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
