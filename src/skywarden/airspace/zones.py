"""The zone record: an outline extruded between a floor and a ceiling, with a schedule.

A :class:`Zone` is frozen and checked when made. What its fields mean:

- ``type``: one of :data:`ZONE_TYPES`. ``border_buffer`` is a strip along a national
  border (EP R129 in Poland, Latvia's eastern closure); ``critical_site`` a place to
  protect (a power plant, a base); ``airport`` an aerodrome; ``other`` anything that is
  no restriction (airspace classes, TMZ, RMZ), listed and never alerted on by type alone.
- ``applies``: which traffic the zone is for, one of :data:`APPLIES`. How it is tested
  against tracks (:data:`APPLIES_CLASSES`): ``all`` every class but birds;
  ``drones`` class ``drone`` and also ``unknown`` (an unidentified small target may be
  one; a drone ban must not miss the target it is for); ``noncooperative`` every class
  but birds when the track has no cooperative identity (no transponder, ADS-B or Remote
  ID); ``vfr`` (general aviation, VFR) the manned classes ``aircraft``, ``helicopter``,
  ``balloon`` and ``unknown``: a track does not say whether it flies VFR or IFR, so IFR
  traffic of those classes is included.
- ``floor``, ``ceiling``: :class:`Limit` as written (metres, feet or flight level; AMSL,
  AGL or standard pressure) with :attr:`Limit.metres` for tests. Conversions:
  ``FLnnn`` = nnn x 100 ft of pressure altitude in the standard atmosphere, taken as AMSL
  (exact when QNH is 1013.25 hPa; each hPa off moves the level by about 8.5 m, 28 ft).
  ``SFC``/``GND`` (and ``0 AGL``) as a floor is -inf: the zone reaches the ground whatever
  the terrain and whatever a track's altitude noise below it. ``UNL`` is +inf. Other AGL
  values are taken as AMSL, as if the terrain were at sea level: the zone's true limits
  are higher by the terrain height (100-300 m over eastern Poland and the Baltics), so an
  AGL floor or ceiling here sits that much too low. Terrain models come later.
- ``start``, ``end``: epoch seconds UTC, both included, None for open; ``daily``: daily
  windows (see :mod:`.schedule`), empty for all day.
- ``owner``: ISO 3166-1 alpha-3 of the nation that declared the zone ('' unknown).
- ``circle``: (lat, lon, radius_m) when the zone was given as a circle; the geometry is
  then its geodesic polygon (:func:`.geometry.circle`).
- ``source``: where the definition comes from (URL, file, AIP reference); ``remarks``:
  free text (the rules behind ``applies``, exceptions, reasons).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from shapely.geometry import MultiPolygon, Polygon

from ..errors import ZoneError
from ..records import TARGET_CLASSES
from . import geometry
from .kinds import APPLIES, ZONE_TYPES
from .schedule import DailyWindow

FT = 0.3048
_NOT_BIRD = tuple(c for c in TARGET_CLASSES if c != "bird")
APPLIES_CLASSES: dict[str, tuple[str, ...]] = {
    "all": _NOT_BIRD,
    "drones": ("drone", "unknown"),
    "noncooperative": _NOT_BIRD,
    "vfr": ("aircraft", "helicopter", "balloon", "unknown"),
}
APPLIES_NONCOOPERATIVE_ONLY = frozenset({"noncooperative"})


def class_mask(applies: str) -> int:
    """Bit mask over :data:`~skywarden.records.TARGET_CLASSES` of the classes a zone binds."""
    return sum(1 << TARGET_CLASSES.index(c) for c in APPLIES_CLASSES[applies])


# -- vertical limits --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """A floor or ceiling as written: ``value`` in ``unit`` above ``ref``.

    ``unit``: ``m``, ``ft`` or ``FL``. ``ref``: ``AMSL``, ``AGL``, ``STD`` (pressure, with
    FL), ``SFC`` (the surface) or ``UNL`` (no upper limit).
    """

    value: float
    unit: str = "m"
    ref: str = "AMSL"

    @property
    def metres(self) -> float:
        """Metres AMSL for the containment test (assumptions in the module docstring)."""
        if self.ref == "SFC" or (self.ref == "AGL" and self.value == 0.0):
            return -math.inf
        if self.ref == "UNL":
            return math.inf
        if self.unit == "FL":
            return self.value * 100.0 * FT
        return self.value * FT if self.unit == "ft" else float(self.value)

    def __str__(self) -> str:
        if self.ref in ("SFC", "UNL"):
            return self.ref
        if self.unit == "FL":
            return f"FL{self.value:03.0f}"
        return f"{_num(self.value)} {self.unit} {self.ref}"


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:g}"


SFC = Limit(0.0, "m", "SFC")
UNL = Limit(math.inf, "m", "UNL")

_LIMIT_RE = re.compile(
    r"^(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?P<unit>M|FT|F)?\s*(?P<ref>AMSL|MSL|ALT|AGL|AGND|GND|"
    r"SFC|ASFC|STD|WGS84)?$"
)


def parse_limit(value: object, default_unit: str = "m") -> Limit:
    """A :class:`Limit` from a number (``default_unit`` AMSL) or a text.

    Texts: ``SFC``, ``GND``, ``UNL`` (``UNLIM``, ``UNLTD``), ``MSL`` (sea level),
    ``FL95``, ``FL 095``, ``1500 ft``, ``1500ft AMSL``, ``1500 MSL``, ``300 m AGL``,
    ``1000ft GND`` (OpenAir's AGL), ``4500 ALT``. A number without a unit is in
    ``default_unit`` (``m`` for our files, ``ft`` for OpenAir). ValueError otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"vertical limit {value!r} is not a height")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"vertical limit {value!r} is not a height")
        return Limit(float(value), default_unit, "AMSL")
    if not isinstance(value, str):
        raise ValueError(f"vertical limit {value!r} is not a height")
    text = value.strip().upper()
    if text in ("SFC", "GND", "SURFACE", "GROUND", "0 AGL", "0AGL"):
        return SFC
    if text in ("UNL", "UNLIM", "UNLTD", "UNLIMITED"):
        return UNL
    if text == "MSL":
        return Limit(0.0, default_unit, "AMSL")
    m = re.fullmatch(r"FL\s*(\d+(?:\.\d+)?)", text)
    if m:
        return Limit(float(m[1]), "FL", "STD")
    m = _LIMIT_RE.match(text)
    if not m:
        raise ValueError(
            f"vertical limit {value!r} is not understood (use SFC, UNL, FL95, "
            "'1500 ft AMSL', '300 m AGL' or a number)"
        )
    unit = {"M": "m", "FT": "ft", "F": "ft", None: default_unit}[m["unit"]]
    ref = m["ref"] or "AMSL"
    ref = {"MSL": "AMSL", "ALT": "AMSL", "WGS84": "AMSL", "AGND": "AGL", "GND": "AGL",
           "SFC": "AGL", "ASFC": "AGL"}.get(ref, ref)
    number = float(m["num"])
    if ref == "STD":
        # A height in feet "STD" is a pressure altitude: write it as a flight level.
        return Limit(number * (1.0 if unit == "ft" else 1.0 / FT) / 100.0, "FL", "STD")
    return Limit(number, unit, ref)


# -- the zone ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Zone:
    """One airspace zone (see the module docstring for every field's meaning)."""

    id: str
    name: str
    type: str
    geometry: Polygon | MultiPolygon
    floor: Limit = SFC
    ceiling: Limit = UNL
    applies: str = "all"
    owner: str = ""
    start: float | None = None
    end: float | None = None
    daily: tuple[DailyWindow, ...] = ()
    source: str = ""
    remarks: str = ""
    circle: tuple[float, float, float] | None = field(default=None)

    def __post_init__(self) -> None:
        try:
            self._check()
        except ValueError as exc:
            raise ZoneError("", f"zone {self.id!r}", str(exc)) from None

    def _check(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("id is empty")
        if self.type not in ZONE_TYPES:
            raise ValueError(f"type {self.type!r} is not one of {', '.join(ZONE_TYPES)}")
        if self.applies not in APPLIES:
            raise ValueError(f"applies {self.applies!r} is not one of {', '.join(APPLIES)}")
        if self.owner and not (len(self.owner) == 3 and self.owner.isalpha()
                               and self.owner.isupper()):
            raise ValueError(f"owner {self.owner!r} is not an ISO 3166-1 alpha-3 code")
        if self.floor.ref == "UNL":
            raise ValueError("the floor is UNL")
        if self.ceiling.ref == "SFC":
            raise ValueError("the ceiling is SFC")
        if not self.floor.metres < self.ceiling.metres:
            raise ValueError(f"floor {self.floor} is not below ceiling {self.ceiling}")
        for name, t in (("start", self.start), ("end", self.end)):
            if t is not None and not math.isfinite(t):
                raise ValueError(f"{name} {t} is not a time")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        if not all(isinstance(w, DailyWindow) for w in self.daily):
            raise ValueError("daily holds something that is not a DailyWindow")
        geometry.check(self.geometry)

    @property
    def floor_m(self) -> float:
        return self.floor.metres

    @property
    def ceiling_m(self) -> float:
        return self.ceiling.metres
