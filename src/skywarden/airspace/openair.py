"""OpenAir airspace files, as openAIP and the gliding programs write them.

One airspace starts at each ``AC`` record and runs to the next. Records read:

    * text            a comment (also after a record, when '*' follows a blank)
    AC R              class: R restricted, Q danger, P prohibited, CTR, A-G, GP, TMZ...
    AN EP R129        name
    AY RESTRICTED     type (extended format; wins over AC when it names a known type)
    AI 1234abcd       identifier (extended format); else the id is made from the name
    AL GND            floor: SFC, GND, FL65, 1500ft AMSL, 500 m AGL, 2000 (feet)...
    AH FL95           ceiling, as AL; UNL, UNLTD for no upper limit
    DP 52:10:30 N 023:30:00 E           a polygon point
    V D=-             arc direction: + clockwise (the default), - counter-clockwise
    V X=52:10:00 N 023:30:00 E          centre of the following DC, DA, DB
    DC 2.5            a circle of 2.5 NM about X
    DA 10,270,290     an arc of 10 NM about X from 270 to 290 deg (true), in direction D
    DB 52:00:00 N 023:10:00 E, 52:10:00 N 023:20:00 E
                      an arc about X from the first point to the second, in direction D

Ignored: AF, AG, AX, AA, AT (label positions), SP, SB (drawing), ``V Z=``, ``V W=``.
Airways (``DY``) are not read: the airspace is rejected with that reason.

Coordinates are degrees:minutes[:seconds] with N/S, E/W (``52:10:30 N``, ``52:10.5N``,
``023:30:00.5 E``). Heights without a unit are feet (OpenAir's custom). Arc radii are
nautical miles (1,852 m). Arc direction resets to clockwise at each ``AC``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import geo
from . import geometry
from .geojson import class_to_type, slug
from .zoneload import ZoneLoad
from .zones import SFC, UNL, Limit, Zone, parse_limit

_COORD_RE = re.compile(
    r"(?P<lad>\d{1,2}):(?P<lam>\d{1,2}(?:\.\d+)?)(?::(?P<las>\d{1,2}(?:\.\d+)?))?\s*"
    r"(?P<ns>[NS])\s*,?\s*"
    r"(?P<lod>\d{1,3}):(?P<lom>\d{1,2}(?:\.\d+)?)(?::(?P<los>\d{1,2}(?:\.\d+)?))?\s*"
    r"(?P<ew>[EW])",
    re.IGNORECASE,
)
_AY_TYPE = {
    "PROHIBITED": "prohibited", "RESTRICTED": "restricted", "DANGER": "danger",
    "CTR": "airport", "ATZ": "airport", "TRA": "restricted", "TSA": "restricted",
}
_IGNORED = {"AF", "AG", "AX", "AA", "AT", "SP", "SB"}


def parse_coordinate(text: str) -> tuple[float, float]:
    """(lat, lon) from ``52:10:30 N 023:30:00 E`` and its variants; ValueError otherwise."""
    m = _COORD_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"coordinate {text.strip()!r} is not like '52:10:30 N 023:30:00 E'")

    def part(d: str, mi: str, s: str | None, limit: int) -> float:
        minutes, seconds = float(mi), float(s) if s else 0.0
        if minutes >= 60 or seconds >= 60 or int(d) > limit:
            raise ValueError(f"coordinate {text.strip()!r} has minutes or seconds >= 60 "
                             "or degrees out of range")
        return int(d) + minutes / 60.0 + seconds / 3600.0

    lat = part(m["lad"], m["lam"], m["las"], 90)
    lon = part(m["lod"], m["lom"], m["los"], 180)
    lat = -lat if m["ns"].upper() == "S" else lat
    lon = -lon if m["ew"].upper() == "W" else lon
    return lat, lon


@dataclass
class _Airspace:
    line: int
    index: int
    cls: str
    name: str = ""
    ident: str = ""
    ay: str = ""
    floor: Limit = SFC
    ceiling: Limit = UNL
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    circle: tuple[float, float, float] | None = None
    clockwise: bool = True
    centre: tuple[float, float] | None = None
    bad: bool = False

    def where(self, line: int | None = None) -> str:
        label = f"airspace {self.index}" + (f" {self.name!r}" if self.name else "")
        return f"line {line or self.line} ({label})"


def read_openair(text: str, result: ZoneLoad, owner: str = "") -> None:
    """Add the airspaces of an OpenAir text to ``result`` (bad ones rejected)."""
    current: _Airspace | None = None
    count = 0
    used: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"\s+\*.*$", "", raw).strip()
        if not line or line.startswith("*"):
            continue
        head, _, arg = line.partition(" ")
        head, arg = head.upper(), arg.strip()
        if head == "AC":
            _finish(current, result, owner, used)
            current = _Airspace(number, count, arg.upper())
            count += 1
            continue
        if current is None:
            result.reject(f"line {number}", f"record {head} before the first AC")
            continue
        if current.bad:
            continue
        try:
            _record(current, head, arg)
        except ValueError as exc:
            current.bad = True
            result.reject(current.where(number), str(exc))
    _finish(current, result, owner, used)


def _record(a: _Airspace, head: str, arg: str) -> None:
    if head == "AN":
        a.name = arg
    elif head == "AI":
        a.ident = arg
    elif head == "AY":
        a.ay = arg.upper()
    elif head == "AL":
        a.floor = _limit(arg, "AL")
    elif head == "AH":
        a.ceiling = _limit(arg, "AH")
    elif head == "DP":
        lat, lon = parse_coordinate(arg)
        a.lat.append(lat)
        a.lon.append(lon)
    elif head == "V":
        key, _, value = arg.partition("=")
        key = key.strip().upper()
        if key == "D":
            if value.strip() not in ("+", "-"):
                raise ValueError(f"V D={value.strip()} is neither + nor -")
            a.clockwise = value.strip() == "+"
        elif key == "X":
            a.centre = parse_coordinate(value)
        elif key not in ("Z", "W"):
            raise ValueError(f"unknown variable V {key}=")
    elif head == "DC":
        lat, lon = _need_centre(a, "DC")
        radius = _nm(arg, "DC radius") * geometry.NM
        a.circle = (lat, lon, radius)
    elif head == "DA":
        parts = [p.strip() for p in arg.split(",")]
        if len(parts) != 3:
            raise ValueError("DA needs 'radius, start angle, end angle'")
        lat, lon = _need_centre(a, "DA")
        radius = _nm(parts[0], "DA radius") * geometry.NM
        la, lo = geometry.arc(lat, lon, radius, _angle(parts[1]), _angle(parts[2]),
                              a.clockwise)
        a.lat.extend(la.tolist())
        a.lon.extend(lo.tolist())
    elif head == "DB":
        first, sep, second = arg.partition(",")
        if not sep:
            raise ValueError("DB needs two coordinates separated by a comma")
        p1, p2 = parse_coordinate(first), parse_coordinate(second)
        lat, lon = _need_centre(a, "DB")
        az1 = float(geo.bearing(lat, lon, *p1))
        az2 = float(geo.bearing(lat, lon, *p2))
        radius = float(geo.distance(lat, lon, *p1))
        la, lo = geometry.arc(lat, lon, radius, az1, az2, a.clockwise)
        # The arc starts and ends on the given points exactly (the second may lie at a
        # slightly different distance from the centre than the first).
        la[0], lo[0], la[-1], lo[-1] = p1[0], p1[1], p2[0], p2[1]
        a.lat.extend(la.tolist())
        a.lon.extend(lo.tolist())
    elif head == "DY":
        raise ValueError("airways (DY) are not supported")
    elif head not in _IGNORED:
        raise ValueError(f"unknown record {head}")


def _limit(arg: str, record: str) -> Limit:
    try:
        return parse_limit(arg, default_unit="ft")
    except ValueError as exc:
        raise ValueError(f"{record}: {exc}") from None


def _need_centre(a: _Airspace, record: str) -> tuple[float, float]:
    if a.centre is None:
        raise ValueError(f"{record} without a centre (V X=) before it")
    return a.centre


def _nm(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{what} {text.strip()!r} is not a number of NM") from None
    if not value > 0:
        raise ValueError(f"{what} {value} NM is not positive")
    return value


def _angle(text: str) -> float:
    try:
        return float(text) % 360.0
    except ValueError:
        raise ValueError(f"angle {text!r} is not a number of degrees") from None


def _finish(a: _Airspace | None, result: ZoneLoad, owner: str, used: set[str]) -> None:
    if a is None or a.bad:
        return
    try:
        if a.circle is not None and a.lat:
            raise ValueError("both a circle (DC) and polygon points (DP, DA, DB)")
        if a.circle is not None:
            lat, lon, r = a.circle
            geom = geometry.circle(lat, lon, r)
        elif len(a.lat) >= 3:
            geom = geometry.polygon([list(zip(a.lat, a.lon, strict=True))])
        else:
            raise ValueError(f"{len(a.lat)} points: an outline needs 3 or a circle (DC)")
        ident = a.ident or slug(a.name or a.cls)
        if ident in used:
            ident = f"{ident}-L{a.line}"
        zone = Zone(
            id=ident,
            name=a.name or ident,
            type=_AY_TYPE.get(a.ay) or class_to_type(a.cls),
            geometry=geom,
            floor=a.floor,
            ceiling=a.ceiling,
            owner=owner,
            source=f"{result.path}:{a.line}",
            remarks=f"OpenAir class {a.cls}" + (f", type {a.ay}" if a.ay else ""),
            circle=a.circle,
        )
    except ValueError as exc:
        result.reject(a.where(), str(getattr(exc, "reason", exc)))
        return
    used.add(ident)
    result.zones.append(zone)

