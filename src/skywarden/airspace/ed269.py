"""EUROCAE ED-269 UAS geographical zones (JSON), as national authorities publish them.

The file is an object with ``features`` (or ``UASZoneList``): a list of UASZoneVersion
objects. What is read from each:

- ``identifier`` (the zone id), ``name``, ``country`` (alpha-3: the zone's owner);
- ``restriction``: PROHIBITED -> type ``prohibited``; REQ_AUTHORISATION and CONDITIONAL
  -> ``restricted``; NO_RESTRICTION -> ``other``. Every ED-269 zone applies to drones;
- ``geometry``: a list of airspace volumes, each ``uomDimensions`` (M or FT),
  ``lowerLimit``/``upperLimit`` with ``lowerVerticalReference``/``upperVerticalReference``
  (AGL, AMSL; WGS84 ellipsoid heights are taken as AMSL, the geoid being tens of metres
  off at most), and ``horizontalProjection``: a GeoJSON-like Polygon (longitude,
  latitude, as GeoJSON) or ``{"type": "Circle", "center": [lon, lat], "radius": m}``. A
  missing lower limit is the surface, a missing upper limit unlimited;
- ``applicability``: a list of periods, each ``permanent`` (YES/NO), ``startDateTime``,
  ``endDateTime`` and ``schedule`` of daily periods (``day``: MON..SUN or ANY, one or a
  list; ``startTime``/``endTime`` as ``hh:mm[:ss[.ff]]`` with ``Z`` or an offset, or
  ``startEvent``/``endEvent`` SR, SS, BMCT, EECT as ED-318 has them);
- ``reason``, ``otherReasonInfo``, ``message``, ``restrictionConditions`` go to remarks.

A zone with several volumes or periods becomes one Skywarden zone per (volume, period),
with ids ``IDENTIFIER/1``, ``IDENTIFIER/2``...: each has one floor, ceiling and validity.
The GeoJSON form of ED-318 (Features whose ``properties`` hold the fields above, the
outline in the Feature's ``geometry``, limits in the properties) is read too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shapely.geometry import MultiPolygon, Polygon

from . import geometry
from .schedule import ALL_DAYS, DAY_S, DailyWindow, parse_days, parse_time
from .zoneload import ZoneLoad
from .zones import SFC, UNL, Limit, Zone

RESTRICTION_TYPE = {
    "PROHIBITED": "prohibited",
    "REQ_AUTHORISATION": "restricted",
    "CONDITIONAL": "restricted",
    "NO_RESTRICTION": "other",
}
_TIME_RE = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE
)


def read_ed269(text: str, result: ZoneLoad, owner: str = "") -> None:
    """Add the zones of an ED-269 document to ``result`` (bad features rejected)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        result.reject(f"line {exc.lineno}", f"not valid JSON ({exc.msg})")
        return
    items = doc.get("UASZoneList", doc.get("features")) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        result.reject("", "no 'features' (or 'UASZoneList') list of UAS zones")
        return
    for i, item in enumerate(items):
        props = item.get("properties") if isinstance(item, dict) and \
            item.get("type") == "Feature" else item
        where = _where(i, props)
        try:
            if not isinstance(props, dict):
                raise ValueError("not an object")
            result.zones.extend(_zones(props, item, result.path, owner))
        except ValueError as exc:
            result.reject(where, str(getattr(exc, "reason", exc)))


def _where(i: int, props: object) -> str:
    if not isinstance(props, dict):
        return f"feature {i}"
    parts = [f"identifier {props['identifier']!r}" if "identifier" in props else "",
             f"name {props['name']!r}" if props.get("name") else ""]
    label = ", ".join(p for p in parts if p)
    return f"feature {i}" + (f" ({label})" if label else "")


def _zones(props: dict[str, Any], item: Any, path: str, owner: str) -> list[Zone]:
    ident = props.get("identifier")
    if not isinstance(ident, str) or not ident.strip():
        raise ValueError("no 'identifier'")
    restriction = str(props.get("restriction", "")).upper()
    if restriction not in RESTRICTION_TYPE:
        raise ValueError(f"restriction {props.get('restriction')!r} is not one of "
                         f"{', '.join(RESTRICTION_TYPE)}")
    country = str(props.get("country") or owner)
    if props is item:
        volumes = props.get("geometry")
        if not isinstance(volumes, list) or not volumes:
            raise ValueError("'geometry' is not a non-empty list of airspace volumes")
        shapes = [_volume(v, j) for j, v in enumerate(volumes)]
    else:  # ED-318 GeoJSON: the outline is the Feature's, the limits are in properties
        layer = item.get("geometry", {}).get("layer") if isinstance(item.get("geometry"),
                                                                   dict) else None
        limits = dict(props, **(layer or {}))
        shapes = [_volume(dict(limits, horizontalProjection=item.get("geometry")), 0)]
    periods = props.get("applicability", props.get("limitedApplicability"))
    periods = [periods] if isinstance(periods, dict) else (periods or [{"permanent": "YES"}])
    if not isinstance(periods, list):
        raise ValueError("'applicability' is not a list of periods")
    windows = [_period(p, k) for k, p in enumerate(periods)]
    remarks = "; ".join(
        f"{k} {v if isinstance(v, str) else ', '.join(map(str, v))}"
        for k in ("restriction", "reason", "otherReasonInfo", "message", "restrictionConditions")
        if (v := props.get(k)) not in (None, "", [])
    )
    many = len(shapes) * len(windows) > 1
    zones = []
    for j, (geom, circle, floor, ceiling) in enumerate(shapes):
        for k, (start, end, daily) in enumerate(windows):
            n = j * len(windows) + k + 1
            zones.append(Zone(
                id=f"{ident}/{n}" if many else ident,
                name=str(props.get("name") or ident),
                type=RESTRICTION_TYPE[restriction],
                geometry=geom,
                floor=floor,
                ceiling=ceiling,
                applies="drones",
                owner=country,
                start=start,
                end=end,
                daily=daily,
                source=f"{path} (ED-269 {ident})",
                remarks=remarks,
                circle=circle,
            ))
    return zones


def _volume(v: Any, j: int) -> tuple[Polygon | MultiPolygon, tuple[float, float, float] | None,
                                     Limit, Limit]:
    if not isinstance(v, dict):
        raise ValueError(f"geometry {j} is not an object")
    uom = str(v.get("uomDimensions", v.get("uom", "M"))).upper()
    if uom not in ("M", "FT"):
        raise ValueError(f"geometry {j}: uomDimensions {uom!r} is neither M nor FT")
    unit = "m" if uom == "M" else "ft"
    lower = _limit(v, "lower", unit, SFC, j)
    upper = _limit(v, "upper", unit, UNL, j)
    hp = v.get("horizontalProjection")
    if not isinstance(hp, dict):
        raise ValueError(f"geometry {j}: no horizontalProjection")
    kind = hp.get("type")
    try:
        if kind == "Circle" or (kind == "Point" and "radius" in hp):
            centre: Any = hp.get("center", hp.get("coordinates"))
            lon, lat, radius = float(centre[0]), float(centre[1]), float(hp["radius"])
            return geometry.circle(lat, lon, radius), (lat, lon, radius), lower, upper
        if kind == "Polygon":
            rings = [[(float(p[1]), float(p[0])) for p in r] for r in hp["coordinates"]]
            return geometry.polygon(rings), None, lower, upper
        if kind == "MultiPolygon":
            polys = [geometry.polygon([[(float(p[1]), float(p[0])) for p in r] for r in poly])
                     for poly in hp["coordinates"]]
            multi = MultiPolygon(polys)
            geometry.check(multi)
            return multi, None, lower, upper
    except (KeyError, TypeError, IndexError):
        raise ValueError(f"geometry {j}: {kind} is malformed") from None
    except ValueError as exc:
        raise ValueError(f"geometry {j}: {exc}") from None
    raise ValueError(f"geometry {j}: horizontalProjection {kind!r} is neither Polygon nor Circle")


def _limit(v: dict[str, Any], side: str, unit: str, default: Limit, j: int) -> Limit:
    value = v.get(f"{side}Limit", v.get(side))
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"geometry {j}: {side}Limit {value!r} is not a number")
    ref = str(v.get(f"{side}VerticalReference", v.get(f"{side}Reference", "AMSL"))).upper()
    if ref not in ("AGL", "AMSL", "WGS84", "SFC"):
        raise ValueError(f"geometry {j}: {side}VerticalReference {ref!r} is not AGL or AMSL")
    if ref in ("AGL", "SFC") and value == 0 and side == "lower":
        return SFC
    return Limit(float(value), unit, "AGL" if ref in ("AGL", "SFC") else "AMSL")


def _period(p: Any, k: int) -> tuple[float | None, float | None, tuple[DailyWindow, ...]]:
    if not isinstance(p, dict):
        raise ValueError(f"applicability {k} is not an object")
    permanent = str(p.get("permanent", "NO")).upper() == "YES"
    start = end = None
    try:
        if not permanent or p.get("startDateTime"):
            start = parse_time(p["startDateTime"], "startDateTime") \
                if p.get("startDateTime") else None
            end = parse_time(p["endDateTime"], "endDateTime") if p.get("endDateTime") else None
    except ValueError as exc:
        raise ValueError(f"applicability {k}: {exc}") from None
    if start is not None and end is not None and end < start:
        raise ValueError(f"applicability {k}: endDateTime is before startDateTime")
    schedule = p.get("schedule") or []
    if not isinstance(schedule, list):
        raise ValueError(f"applicability {k}: schedule is not a list")
    return start, end, tuple(_daily(s, k) for s in schedule)


def _daily(s: Any, k: int) -> DailyWindow:
    if not isinstance(s, dict):
        raise ValueError(f"applicability {k}: a schedule entry is not an object")
    try:
        day = s.get("day", "ANY")
        days = parse_days(day if isinstance(day, list) else [str(day)]) if day else ALL_DAYS
        start, off_s = _bound(s, "start", 0.0)
        end, off_e = _bound(s, "end", DAY_S)
        if isinstance(start, float) and isinstance(end, float) and off_s != off_e:
            raise ValueError("startTime and endTime are in different time zones")
        offset = off_s if isinstance(start, float) else off_e
        return DailyWindow(days, start, end).shifted(-offset)
    except ValueError as exc:
        raise ValueError(f"applicability {k}: schedule: {exc}") from None


def _bound(s: dict[str, Any], side: str, default: float) -> tuple[float | str, float]:
    event = s.get(f"{side}Event")
    if event:
        return str(event).upper(), 0.0
    text = s.get(f"{side}Time")
    if text in (None, ""):
        return default, 0.0
    m = _TIME_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"{side}Time {text!r} is not hh:mm[:ss] with Z or an offset")
    seconds = int(m[1]) * 3600 + int(m[2]) * 60 + (float(m[3]) if m[3] else 0.0)
    if seconds > DAY_S or int(m[2]) >= 60:
        raise ValueError(f"{side}Time {text!r} is not a time of day")
    tz = (m[4] or "Z").upper()
    offset = 0.0
    if tz != "Z":
        sign = -1.0 if tz[0] == "-" else 1.0
        digits = tz[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2
                                                    else 0))
    return float(seconds), offset
