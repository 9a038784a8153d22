"""Zones as GeoJSON: one Feature per zone, its rules in ``properties``.

Geometry: a Polygon or MultiPolygon in longitude, latitude (RFC 7946), or a Point with
the property ``radius_m`` for a circle. Properties (all optional but ``type``; defaults
in brackets; docs/AIRSPACE.md has the table):

``id`` [the Feature's ``id``, else ``FILE#INDEX``], ``name`` [the id], ``type`` (see
``zones.ZONE_TYPES``; an OpenAir/openAIP ``class`` such as ``R``, ``P``, ``Q``, ``CTR`` is
mapped when ``type`` is absent), ``floor`` [SFC] and ``ceiling`` [UNL] as a number of
metres AMSL or a text (``FL95``, ``1500 ft AMSL``, ``SFC``, ``UNL``; openAIP's
``lowerCeiling``/``upperCeiling`` objects are read too), ``applies`` [all], ``owner``
[''], ``start`` and ``end`` [open] as ISO 8601 or epoch seconds, ``daily`` [all day] as
a list of window texts (``["SR-SS"]``, ``["MON-FRI 06:00-18:00"]``), ``source``,
``remarks``, ``circle`` (``{"lat", "lon", "radius_m"}``, written for circle zones).

Unknown properties are ignored: third-party files carry many.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon

from . import geometry
from .schedule import DailyWindow, format_time, parse_time, parse_window
from .zoneload import ZoneLoad
from .zones import SFC, UNL, Limit, Zone, parse_limit

OPENAIR_CLASS_TYPE = {
    "P": "prohibited", "R": "restricted", "Q": "danger", "D": "danger",
    "GP": "prohibited", "CTR": "airport", "ATZ": "airport", "TRA": "restricted",
    "TSA": "restricted", "TMA": "other",
}


def class_to_type(cls: str) -> str:
    """Zone type for an OpenAir/openAIP airspace class; ``other`` for the rest."""
    return OPENAIR_CLASS_TYPE.get(cls.strip().upper(), "other")


def read_geojson(text: str, result: ZoneLoad, owner: str = "") -> None:
    """Add the zones of a GeoJSON FeatureCollection to ``result`` (bad ones rejected)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        result.reject(f"line {exc.lineno}", f"not valid JSON ({exc.msg})")
        return
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        result.reject("", "not a GeoJSON FeatureCollection (no 'features' list)")
        return
    stem = Path(result.path).stem
    for i, feature in enumerate(features):
        where = _where(i, feature)
        try:
            result.zones.append(feature_to_zone(feature, f"{stem}#{i}", owner))
        except ValueError as exc:
            result.reject(where, str(getattr(exc, "reason", exc)))


def _where(i: int, feature: object) -> str:
    props = feature.get("properties") if isinstance(feature, dict) else None
    props = props if isinstance(props, dict) else {}
    fid = props.get("id", feature.get("id") if isinstance(feature, dict) else None)
    parts = [f"id {fid!r}" if fid is not None else "", f"name {props['name']!r}"
             if props.get("name") else ""]
    label = ", ".join(p for p in parts if p)
    return f"feature {i}" + (f" ({label})" if label else "")


def feature_to_zone(feature: Any, default_id: str = "", owner: str = "") -> Zone:
    """One Zone from one GeoJSON Feature; ValueError (or ZoneError) with the reason."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError("not a GeoJSON Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties is not an object")
    zid = str(props.get("id", feature.get("id", default_id)) or default_id)
    ztype = props.get("type")
    if ztype is None and "class" in props:
        ztype = class_to_type(str(props["class"]))
    if ztype is None:
        raise ValueError("no 'type' property (prohibited, restricted, danger, "
                         "border_buffer, critical_site, airport, other)")
    geom, circle = _geometry(feature.get("geometry"), props)
    return Zone(
        id=zid,
        name=str(props.get("name") or zid),
        type=str(ztype),
        geometry=geom,
        floor=_limit(props, "floor", "lowerCeiling", SFC),
        ceiling=_limit(props, "ceiling", "upperCeiling", UNL),
        applies=str(props.get("applies", "all")),
        owner=str(props.get("owner") or owner),
        start=None if props.get("start") in (None, "") else parse_time(props["start"], "start"),
        end=None if props.get("end") in (None, "") else parse_time(props["end"], "end"),
        daily=_daily(props.get("daily")),
        source=str(props.get("source", "")),
        remarks=str(props.get("remarks", "")),
        circle=circle,
    )


def _limit(props: dict[str, Any], key: str, openaip_key: str, default: Limit) -> Limit:
    if props.get(key) is not None:
        try:
            return parse_limit(props[key])
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    obj = props.get(openaip_key)
    if isinstance(obj, dict):
        unit = str(obj.get("unit", "FT")).upper()
        ref = str(obj.get("referenceDatum", "MSL")).upper()
        value = obj.get("value")
        if not isinstance(value, int | float):
            raise ValueError(f"{openaip_key}: value {value!r} is not a number")
        if unit == "FL" or ref == "STD":
            return parse_limit(f"FL{value}")
        if ref == "GND" and value == 0:
            return SFC
        return parse_limit(f"{value} {'M' if unit == 'M' else 'FT'} "
                           f"{'AGL' if ref == 'GND' else 'AMSL'}")
    return default


def _daily(value: object) -> tuple[DailyWindow, ...]:
    if value in (None, "", []):
        return ()
    items = value if isinstance(value, list) else [value]
    windows = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"daily: {item!r} is not a window text like 'SR-SS'")
        windows.append(parse_window(item))
    return tuple(windows)


def _geometry(
    raw: Any, props: dict[str, Any]
) -> tuple[shapely.Polygon | MultiPolygon, tuple[float, float, float] | None]:
    if not isinstance(raw, dict):
        raise ValueError("no geometry")
    kind = raw.get("type")
    coords: Any = raw.get("coordinates")
    try:
        if kind == "Point":
            radius = props.get("radius_m")
            if not isinstance(radius, int | float) or isinstance(radius, bool):
                raise ValueError("a Point zone needs a 'radius_m' property (metres)")
            lon, lat = float(coords[0]), float(coords[1])
            return geometry.circle(lat, lon, float(radius)), (lat, lon, float(radius))
        if kind == "Polygon":
            geom: shapely.Polygon | MultiPolygon = _polygon(coords)
        elif kind == "MultiPolygon":
            geom = MultiPolygon([_polygon(p) for p in coords])
            geometry.check(geom)
        else:
            raise ValueError(f"geometry {kind!r} is not a Polygon, MultiPolygon or Point")
    except (TypeError, IndexError, KeyError):
        raise ValueError(f"{kind} coordinates are malformed") from None
    circle = props.get("circle")
    if isinstance(circle, dict):
        c = (float(circle["lat"]), float(circle["lon"]), float(circle["radius_m"]))
        return geom, c
    return geom, None


def _polygon(rings: Any) -> shapely.Polygon:
    if not rings or not all(isinstance(r, list) and len(r) >= 3 for r in rings):
        raise ValueError("a polygon ring has fewer than 3 points")
    return geometry.polygon([[(float(p[1]), float(p[0])) for p in ring] for ring in rings])


# -- writing ----------------------------------------------------------------------------


def zone_to_feature(zone: Zone, digits: int = 6) -> dict[str, Any]:
    """The GeoJSON Feature :func:`feature_to_zone` reads back to an equal zone.

    Coordinates are rounded to ``digits`` decimals (6: about 0.1 m).
    """
    props: dict[str, Any] = {
        "id": zone.id,
        "name": zone.name,
        "type": zone.type,
        "applies": zone.applies,
        "owner": zone.owner,
        "floor": str(zone.floor),
        "ceiling": str(zone.ceiling),
    }
    if zone.start is not None:
        props["start"] = format_time(zone.start)
    if zone.end is not None:
        props["end"] = format_time(zone.end)
    if zone.daily:
        props["daily"] = [str(w) for w in zone.daily]
    if zone.circle is not None:
        lat, lon, r = zone.circle
        props["circle"] = {"lat": lat, "lon": lon, "radius_m": r}
    if zone.source:
        props["source"] = zone.source
    if zone.remarks:
        props["remarks"] = zone.remarks
    geom = shapely.set_precision(zone.geometry, 10.0 ** -digits)
    return {"type": "Feature", "id": zone.id, "properties": props,
            "geometry": json.loads(shapely.to_geojson(geom))}


def zones_to_geojson(zones: list[Zone], metadata: dict[str, Any] | None = None) -> str:
    """A FeatureCollection text, one feature per line (diffs stay readable)."""
    head = {"type": "FeatureCollection"}
    if metadata:
        head["metadata"] = metadata  # type: ignore[assignment]
    lines = [json.dumps(zone_to_feature(z), ensure_ascii=False, separators=(",", ":"))
             for z in zones]
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    return text + ',\n "features": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def slug(text: str) -> str:
    """An id-friendly form of a name: upper case, runs of other characters as '-'."""
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-") or "ZONE"
