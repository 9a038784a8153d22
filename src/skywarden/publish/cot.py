"""Cursor-on-Target events from tracks and alerts: pure functions, records in, bytes out.

A track becomes one CoT 2.0 event (the schema TAK clients and servers speak)::

    <event version="2.0" uid="skywarden.T12" type="a-h-A-M-F-Q" how="m-f"
           time="2026-11-23T19:05:01.000Z" start="..." stale="time + stale_s">
      <point lat="52.1" lon="23.4" hae="350.0" ce="42.0" le="9999999.0"/>
      <detail>
        <track course="271.5" speed="38.2"/>        degrees true, metres per second
        <contact callsign="T12"/>
        <remarks>drone, hostile, confirmed; 3 sensors; ...</remarks>
        <__skywarden track="T12" class="drone" identity="hostile" .../>
      </detail>
    </event>

- ``uid`` is ``<prefix>.<track id>``: stable for the track's life, so each update moves
  the same symbol. ``time`` and ``start`` are the track's time, ``stale`` that plus
  ``stale_s``; a deleted track gets ``stale = time``, so clients drop it at once.
- ``type`` is ``a-<affiliation>-<function>`` from ``cot_types.toml`` (identity -> letter,
  class -> function; see that file). ``how`` is ``m-f``: machine-made, fused.
- ``hae`` (CoT: height above the WGS84 ellipsoid) is the track's altitude above *mean sea
  level*: no geoid grid ships with us, and the geoid separation (about +30 to +50 m over
  Europe) is below a surveillance track's vertical error. ``le`` (vertical 1-sigma) is
  therefore always ``9999999`` (unknown), as are ``hae`` without an altitude and ``ce``
  without ``sigma_h``. ``ce`` is the 1-sigma horizontal error (the CoT schema's meaning).

An alert with a position becomes a marker (``b-m-p-s-m``, a spot-map point coloured by
level), uid ``<prefix>.alert.<alert id>``, updated in place on each change and removed
(``stale = time``) when the alert ends; alerts without a position (``sensor_down``) have
no CoT form (:func:`alert_event` returns None). Types that alarm (``b-a-...``) or task
(``t-...``, ``b-m-p-t``) are never made: the outputs are situational awareness only.

XML is built with :mod:`xml.etree.ElementTree` (escaping) after removing the characters
XML 1.0 cannot carry at all (control characters in a broadcast callsign, say).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import msgspec

from ..errors import ConfigError
from ..records import AlertEvent, TrackUpdate
from ..tomlfile import read_toml

__all__ = [
    "DEFAULT_TYPES_FILE", "UNKNOWN", "CotTypes", "alert_event", "alert_uid",
    "cot_time", "load_cot_types", "track_event", "track_type", "track_uid",
]

DEFAULT_TYPES_FILE = Path(__file__).resolve().parent / "cot_types.toml"
UNKNOWN = 9999999.0  # CoT's "not known" for hae, ce and le
IDENTITIES = ("pending", "unknown", "assumed_friend", "friend", "neutral", "suspect",
              "hostile")
_THREAT = frozenset({"suspect", "hostile"})
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 forbids even escaped: C0 controls but tab/LF/CR, surrogates, FFFE/F.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Function = Annotated[str, msgspec.Meta(pattern=r"^[A-Z](-[A-Za-z0-9]+)*$")]
Letter = Annotated[str, msgspec.Meta(pattern=r"^[a-z]$")]
Argb = Annotated[str, msgspec.Meta(pattern=r"^#[0-9A-Fa-f]{8}$")]


class ClassFunctions(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    threat: Function
    cooperative: Function
    other: Function


class AlertStyle(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Annotated[str, msgspec.Meta(pattern=r"^b-m-p(-[A-Za-z0-9]+)*$")] = "b-m-p-s-m"
    colors: Annotated[list[Argb], msgspec.Meta(min_length=5, max_length=5)] = msgspec.field(
        default_factory=lambda: ["#FFFFFFFF", "#FFFFFF00", "#FFFF8C00", "#FFFF0000",
                                 "#FFFF00FF"])


class Affiliations(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """APP-6 standard identity -> CoT affiliation letter."""

    pending: Letter
    unknown: Letter
    assumed_friend: Letter
    friend: Letter
    neutral: Letter
    suspect: Letter
    hostile: Letter


class Functions(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Track class -> functions (``TargetClass`` values)."""

    aircraft: ClassFunctions
    helicopter: ClassFunctions
    drone: ClassFunctions
    missile: ClassFunctions
    balloon: ClassFunctions
    bird: ClassFunctions
    unknown: ClassFunctions


class CotTypes(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The type table (``cot_types.toml``): identity -> affiliation letter, class ->
    functions, alert marker style. Every identity and class must be listed."""

    affiliation: Affiliations
    function: Functions
    alert: AlertStyle = msgspec.field(default_factory=AlertStyle)


def load_cot_types(path: str | Path | None = None) -> CotTypes:
    """Read and check a type table; None: the shipped one (read once, cached)."""
    if path is None:
        return _default_types()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_types() -> CotTypes:
    return _load(DEFAULT_TYPES_FILE)


def _load(path: Path) -> CotTypes:
    try:
        types = msgspec.convert(read_toml(path), CotTypes)
    except (OSError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return types


def cot_time(t: float) -> str:
    """Epoch seconds as CoT's time: ``2026-11-23T19:05:01.250Z`` (UTC, milliseconds)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def track_uid(track: str, prefix: str = "skywarden") -> str:
    return f"{prefix}.{_clean(track)}"


def alert_uid(alert: str, prefix: str = "skywarden") -> str:
    return f"{prefix}.alert.{_clean(alert)}"


def track_type(u: TrackUpdate, types: CotTypes | None = None) -> str:
    """``a-<affiliation>-<function>`` for a track (module docstring)."""
    types = types or _default_types()
    fn: ClassFunctions = getattr(types.function, u.cls)
    if u.identity in _THREAT:
        function = fn.threat
    elif u.ids:
        function = fn.cooperative
    else:
        function = fn.other
    return f"a-{getattr(types.affiliation, u.identity)}-{function}"


def track_event(
    u: TrackUpdate, *, stale_s: float = 30.0, types: CotTypes | None = None,
    uid_prefix: str = "skywarden",
) -> bytes:
    """One track row as a CoT event (UTF-8 bytes with an XML declaration)."""
    deleted = u.status == "deleted"
    event = _event(track_uid(u.track, uid_prefix), track_type(u, types), u.time,
                   u.time if deleted else u.time + stale_s)
    ET.SubElement(event, "point", {
        "lat": f"{u.lat:.7f}", "lon": f"{_lon(u.lon):.7f}",
        "hae": _num(u.alt), "ce": _num(u.sigma_h), "le": _num(None),
    })
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "track", {"course": f"{_course(u.vel_e, u.vel_n):.1f}",
                                    "speed": f"{_speed(u.vel_e, u.vel_n):.1f}"})
    ET.SubElement(detail, "contact", {"callsign": _callsign(u)})
    ET.SubElement(detail, "remarks").text = _clean(_track_remarks(u))
    own = {"track": u.track, "class": u.cls, "identity": u.identity, "status": u.status,
           "sensors": str(len(u.sensors)), "vel_u": f"{u.vel_u:.1f}"}
    if u.ids:
        own["ids"] = ",".join(u.ids)
    if u.class_confidence is not None:
        own["class_confidence"] = f"{u.class_confidence:.2f}"
    if u.flags:
        own["flags"] = ",".join(u.flags)
    if u.releasability is not None:
        own["releasability"] = u.releasability
    skywarden = ET.SubElement(detail, "__skywarden", _attrs(own))
    if u.next_entry is not None:
        ne = u.next_entry
        ET.SubElement(skywarden, "next_entry", _attrs({
            "nation": ne.nation, "eta": cot_time(ne.eta),
            "probability": f"{ne.probability:.2f}", "distance_m": f"{ne.distance_m:.0f}",
        }))
    return _DECLARATION + _bytes(event)


def alert_event(
    e: AlertEvent, *, stale_s: float = 600.0, types: CotTypes | None = None,
    uid_prefix: str = "skywarden",
) -> bytes | None:
    """An alert change as a marker event, or None when the alert has no position."""
    if e.lat is None or e.lon is None:
        return None
    types = types or _default_types()
    ended = e.event == "ended"
    event = _event(alert_uid(e.alert, uid_prefix), types.alert.type, e.time,
                   e.time if ended else e.time + stale_s)
    ET.SubElement(event, "point", {"lat": f"{e.lat:.7f}", "lon": f"{_lon(e.lon):.7f}",
                                   "hae": _num(e.alt), "ce": _num(None), "le": _num(None)})
    detail = ET.SubElement(event, "detail")
    subject = e.track or e.zone or e.sensor or e.alert
    ET.SubElement(detail, "contact",
                  {"callsign": _clean(f"ALERT L{e.level} {e.nation} {subject}")})
    ET.SubElement(detail, "color", {"argb": str(_argb(types.alert.colors[e.level]))})
    ET.SubElement(detail, "remarks").text = _clean(_alert_remarks(e))
    own = {"alert": e.alert, "event": e.event, "level": str(e.level), "kind": e.kind,
           "nation": e.nation}
    for key in ("track", "zone", "zone_type", "level_name", "releasability"):
        value = getattr(e, key)
        if value is not None:
            own[key] = value
    if e.eta is not None:
        own["eta"] = cot_time(e.eta)
    if e.probability is not None:
        own["probability"] = f"{e.probability:.2f}"
    if e.actions:
        own["actions"] = ",".join(e.actions)
    ET.SubElement(detail, "__skywarden", _attrs(own))
    return _DECLARATION + _bytes(event)


# -- pieces ---------------------------------------------------------------------------


def _event(uid: str, type_: str, time: float, stale: float, how: str = "m-f") -> ET.Element:
    t = cot_time(time)
    return ET.Element("event", {"version": "2.0", "uid": uid, "type": type_, "how": how,
                                "time": t, "start": t, "stale": cot_time(stale)})


def _bytes(event: ET.Element) -> bytes:
    data: bytes = ET.tostring(event, encoding="utf-8", xml_declaration=False)
    return data


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _attrs(values: dict[str, str]) -> dict[str, str]:
    return {k: _clean(v) for k, v in values.items()}


def _num(value: float | None) -> str:
    return f"{UNKNOWN:.1f}" if value is None else f"{value:.1f}"


def _lon(lon: float) -> float:
    """Longitude in [-180, 180): records allow 0-360, CoT does not."""
    return (lon + 180.0) % 360.0 - 180.0


def _speed(ve: float, vn: float) -> float:
    return float((ve * ve + vn * vn) ** 0.5)


def _course(ve: float, vn: float) -> float:
    if ve == 0.0 and vn == 0.0:
        return 0.0
    return math.degrees(math.atan2(ve, vn)) % 360.0


def _callsign(u: TrackUpdate) -> str:
    # The track id is what Skywarden's own map shows; a cooperative id helps the TAK user.
    if u.ids:
        return _clean(f"{u.track} {u.ids[0].partition(':')[2] or u.ids[0]}")
    return _clean(u.track)


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%SZ")


def _track_remarks(u: TrackUpdate) -> str:
    cls = u.cls if u.class_confidence is None else f"{u.cls} ({u.class_confidence:.0%})"
    parts = [f"Skywarden track {u.track}: {cls}, {u.identity}, {u.status}",
             f"{len(u.sensors)} sensor{'s' if len(u.sensors) != 1 else ''}"]
    if u.ids:
        parts.append("ids " + ", ".join(u.ids))
    if u.next_entry is not None:
        ne = u.next_entry
        parts.append(f"next entry {ne.nation} at {_clock(ne.eta)} "
                     f"(in {max(0.0, ne.eta - u.time) / 60:.0f} min, p={ne.probability:.2f})")
    if u.flags:
        parts.append("flags " + ", ".join(u.flags))
    return "; ".join(parts)


def _alert_remarks(e: AlertEvent) -> str:
    level = f"level {e.level}" + (f" {e.level_name}" if e.level_name else "")
    parts = [f"Skywarden alert {e.alert} ({e.nation}): {e.kind}, {level}, {e.event}"]
    if e.track:
        parts.append(f"track {e.track}")
    if e.zone:
        parts.append(f"zone {e.zone}" + (f" ({e.zone_type})" if e.zone_type else ""))
    if e.eta is not None:
        p = "" if e.probability is None else f", p={e.probability:.2f}"
        parts.append(f"entry at {_clock(e.eta)}{p}")
    if e.actions:
        parts.append("playbook: " + ", ".join(e.actions))
    if e.by:
        parts.append(f"acknowledged by {e.by}" + (f": {e.note}" if e.note else ""))
    return "; ".join(parts)


def _argb(color: str) -> int:
    """``#AARRGGBB`` as the signed 32-bit integer TAK's ``<color argb>`` holds."""
    value = int(color[1:], 16)
    return value - (1 << 32) if value >= 1 << 31 else value
