"""Records to table rows and back, and bad input named by row and field."""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

import msgspec

from ..errors import RecordError
from ..records import AlertEvent, TrackUpdate
from .audit import canonical, clean

TRACK_COLUMNS: tuple[str, ...] = (
    "time", "track", "lat", "lon", "alt", "vel_e", "vel_n", "vel_u", "sigma_h", "status",
    "class", "identity", "class_confidence", "ids", "sensors", "flags", "access",
)
INSERT_TRACK = (
    f"INSERT INTO track_history ({', '.join(TRACK_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(TRACK_COLUMNS))})"
)
SELECT_TRACK = f"SELECT {', '.join(TRACK_COLUMNS)} FROM track_history"

_encoder = msgspec.json.Encoder()
_strings = msgspec.json.Decoder(list[str])


def _text_list(values: list[str]) -> str | None:
    return _encoder.encode(values).decode() if values else None


def _list(text: str | None) -> list[str]:
    return _strings.decode(text) if text else []


def access_json(access: Mapping[str, Any] | None) -> str | None:
    """The access fields (owner, releasability, ...) as compact JSON, or None."""
    if access is None:
        return None
    if not isinstance(access, Mapping):
        raise RecordError(
            f"access: a mapping (owner, releasability), not {type(access).__name__}"
        )
    return canonical(clean(dict(access)))


def as_track(item: object, index: int) -> TrackUpdate:
    """A TrackUpdate as it is, or one converted (and validated) from a mapping."""
    if isinstance(item, TrackUpdate):
        return item
    if isinstance(item, Mapping):
        try:
            return msgspec.convert(item, TrackUpdate)
        except msgspec.ValidationError as exc:
            raise RecordError(f"track update {index}: {exc}") from exc
    raise RecordError(
        f"track update {index}: a TrackUpdate or a mapping, not {type(item).__name__}"
    )


def track_row(u: TrackUpdate, access: str | None) -> tuple[Any, ...]:
    if access is None and u.releasability is not None:
        # A marked row keeps its mark: it is what decides who may read it back.
        access = access_json({"releasability": u.releasability})
    return (
        u.time, u.track, u.lat, u.lon, u.alt, u.vel_e, u.vel_n, u.vel_u, u.sigma_h, u.status,
        u.cls, u.identity, u.class_confidence, _text_list(u.ids), _text_list(u.sensors),
        _text_list(u.flags), access,
    )


def track_from_row(r: tuple[Any, ...]) -> TrackUpdate:
    """A stored row (TRACK_COLUMNS) as a TrackUpdate; the row's releasability, kept in
    its ``access`` column, comes back as the record's ``releasability``."""
    return TrackUpdate(
        time=r[0], track=r[1], lat=r[2], lon=r[3], alt=r[4], vel_e=r[5], vel_n=r[6],
        vel_u=r[7], sigma_h=r[8], status=r[9], cls=r[10], identity=r[11],
        class_confidence=r[12], ids=_list(r[13]), sensors=_list(r[14]), flags=_list(r[15]),
        releasability=_releasability(r[16]),
    )


_access = msgspec.json.Decoder(dict[str, Any])


def _releasability(access: str | None) -> str | None:
    if not access:
        return None
    value = _access.decode(access).get("releasability")
    return value if isinstance(value, str) else None


_COLUMN = re.compile(r"track_history\.(\w+)|CHECK constraint failed: (\w+)")
_PARAMETER = re.compile(r"parameter (\d+)")


def bad_track_row(exc: Exception, index: int, row: tuple[Any, ...] | None) -> RecordError:
    """The error for row ``index`` of a batch that SQLite refused, naming the field."""
    message = str(exc)
    field = None
    m = _COLUMN.search(message)
    if m:
        field = m.group(1) or m.group(2)
    else:
        m = _PARAMETER.search(message)
        if m and 1 <= int(m.group(1)) <= len(TRACK_COLUMNS):
            field = TRACK_COLUMNS[int(m.group(1)) - 1]
    where = f"track update {index}" + (f": field {field}" if field else "")
    detail = message
    if field and row is not None:
        value = row[TRACK_COLUMNS.index(field)]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            detail = "missing (null or NaN)"
        else:
            detail = f"{value!r} refused ({message})"
    return RecordError(f"{where}: {detail}; nothing of the batch was written")


def check_event(item: object, index: int) -> AlertEvent:
    """Validate an AlertEvent (or a mapping) against the record's own rules."""
    try:
        if isinstance(item, AlertEvent):
            event = msgspec.convert(msgspec.to_builtins(item), AlertEvent)
        elif isinstance(item, Mapping):
            event = msgspec.convert(item, AlertEvent)
        else:
            raise RecordError(
                f"alert event {index}: an AlertEvent or a mapping, not {type(item).__name__}"
            )
    except msgspec.ValidationError as exc:
        raise RecordError(f"alert event {index}: {exc}") from exc
    if not event.alert:
        raise RecordError(f"alert event {index}: field alert is empty")
    if event.event == "acknowledged" and not event.by:
        raise RecordError(f"alert event {index}: field by is needed for 'acknowledged'")
    return event


def is_constraint(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError |
                      sqlite3.InterfaceError | OverflowError)
