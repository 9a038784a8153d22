"""Restrictions made at run time: a GeoJSON Feature from an operator, checked, as a Zone.

The operator's Feature (docs/API.md, ``POST /api/v1/restrictions``) is read by the same
loader as zone files (:func:`skywarden.airspace.geojson.feature_to_zone`), after two
spellings of the API are put in the loader's words:

- ``units`` (``m``, ``ft`` or ``FL``) with numeric ``floor`` / ``ceiling``: ``FL`` 95 is
  ``FL95``, ``ft`` 1500 is ``1500 ft AMSL``, ``m`` is metres AMSL (the loader's default);
  a text limit (``"FL95"``, ``"SFC"``, ``"1500 ft AMSL"``) is taken as it stands;
- ``applies_to`` is the loader's ``applies``.

A restriction must be a Polygon, MultiPolygon or a circle (Point with ``radius_m``), of
a zone type that restricts (not ``airport`` or ``other``), and must not have ended
already. Any refusal is a :class:`~.errors.RestrictionError` naming the field and why.

:func:`make_restriction` checks a Feature and stores it in the data directory's store,
audited with who made it: the API (through the runtime) and ``skywarden zones add`` both
make restrictions with it, so the two are checked alike and numbered from one sequence.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ..airspace.geojson import feature_to_zone, zone_to_feature
from ..airspace.restrictions import RESTRICTING_TYPES
from ..airspace.zones import Zone
from ..errors import ZoneError
from ..store import StoredRestriction, StoreError
from .errors import RestrictionError, UnknownRestrictionError

if TYPE_CHECKING:
    from ..store import SqliteStore

__all__ = ["RESTRICTING_TYPES", "end_restriction", "make_restriction", "restriction_zone"]

_UNITS = ("m", "ft", "FL")
_FIELDS = ("floor", "ceiling", "start", "end", "type", "applies", "owner", "daily", "geometry",
           "radius_m", "circle", "name", "id")


def _where(reason: str) -> str:
    head = reason.split(":", 1)[0].strip().split(" ", 1)[0]
    if head in _FIELDS:
        return "geometry" if head in ("radius_m", "circle", "geometry") else \
            f"properties.{head}"
    for name in ("floor", "ceiling", "applies", "owner", "type", "end", "start"):
        if name in reason:
            return f"properties.{name}"
    if "coordinates" in reason or "polygon" in reason.lower() or "ring" in reason:
        return "geometry"
    return "feature"


def _limits(props: dict[str, Any]) -> None:
    units = props.pop("units", None)
    if units is None:
        return
    if units not in _UNITS:
        raise RestrictionError("properties.units",
                               f"{units!r} is not one of {', '.join(_UNITS)}")
    for key in ("floor", "ceiling"):
        value = props.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # a text limit, or absent (SFC / UNL)
        if units == "FL":
            props[key] = f"FL{value:g}"
        elif units == "ft":
            props[key] = f"{value:g} ft AMSL"


def restriction_zone(
    feature: object, zone_id: str, *, now: float, owner: str = ""
) -> tuple[Zone, dict[str, Any]]:
    """The zone of an operator's restriction Feature, and its normalised Feature (as
    stored). ``zone_id`` is used unless the Feature names its own id; ``owner`` (the
    operator's nation) unless the Feature names one. :class:`RestrictionError` if the
    Feature is refused."""
    if not isinstance(feature, dict):
        raise RestrictionError("feature", f"a GeoJSON Feature object, not "
                               f"{type(feature).__name__}")
    if feature.get("type") != "Feature":
        raise RestrictionError("type", f"{feature.get('type')!r}: a restriction is one "
                               "GeoJSON Feature (type 'Feature')")
    doc = copy.deepcopy(feature)
    props = doc.get("properties")
    if props is None:
        props = doc["properties"] = {}
    if not isinstance(props, dict):
        raise RestrictionError("properties", "not an object")
    _limits(props)
    if "applies_to" in props:
        props["applies"] = props.pop("applies_to")
    props.setdefault("id", doc.get("id") or zone_id)
    if owner and not props.get("owner"):
        props["owner"] = owner
    if "type" not in props:
        raise RestrictionError("properties.type", "missing: one of " +
                               ", ".join(RESTRICTING_TYPES))
    try:
        zone = feature_to_zone(doc)
    except ZoneError as exc:
        raise RestrictionError(_where(exc.reason), exc.reason) from None
    except ValueError as exc:
        reason = str(getattr(exc, "reason", exc))
        raise RestrictionError(_where(reason), reason) from None
    if zone.type not in RESTRICTING_TYPES:
        raise RestrictionError("properties.type", f"{zone.type!r} restricts nothing; a "
                               f"restriction is one of {', '.join(RESTRICTING_TYPES)}")
    if zone.end is not None and zone.end <= now:
        raise RestrictionError("properties.end", "the restriction would end before it is "
                               "made (end is in the past)")
    return zone, zone_to_feature(zone)


def make_restriction(
    store: SqliteStore, feature: object, by: str, *, now: float, owner: str = "",
    reserved: Collection[str] = (),
) -> StoredRestriction:
    """Check an operator's restriction Feature (:func:`restriction_zone`) and store it,
    audited with ``by``. Without an id of its own it gets the next ``TR-nnnn`` (one more
    than the restrictions ever made; never reused). ``reserved``: ids it may not take
    (the standing zones). :class:`RestrictionError` names the field of a refusal."""
    if not by or not str(by).strip():
        raise RestrictionError("by", "a restriction needs who makes it")
    for _ in range(5):  # another process may take the next id between read and write
        made = store.restrictions(active_only=False)
        taken = {r.zone for r in made}
        n = len(made) + 1
        while f"TR-{n:04d}" in taken:
            n += 1
        zone, body = restriction_zone(feature, f"TR-{n:04d}", now=now, owner=owner)
        if zone.id in taken or zone.id in reserved:
            raise RestrictionError("properties.id", f"{zone.id!r} is taken (end it, or "
                                   "leave the id out to get a new one)")
        try:
            return store.add_restriction(zone.id, body, by=by)
        except StoreError as exc:
            named = isinstance(feature, dict) and (
                feature.get("id") or (feature.get("properties") or {}).get("id"))
            if named or "exists" not in exc.reason:
                raise RestrictionError("properties.id", exc.reason) from exc
    raise RestrictionError("properties.id", "no free id: restrictions are being made "
                           "too fast by several writers; try again")


def end_restriction(store: SqliteStore, zone_id: str, by: str) -> StoredRestriction:
    """End a restriction in force now (the store's clock), audited with ``by``.
    :class:`UnknownRestrictionError` if none is in force with that id."""
    try:
        return store.end_restriction(zone_id, by=by)
    except StoreError as exc:
        raise UnknownRestrictionError(zone_id) from exc
