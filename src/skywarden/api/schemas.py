"""Bodies the API reads and writes that are not shared records: one msgspec declaration
gives the decoder (with errors naming the field) and the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from ..records import TargetClass, TrackUpdate

Role = Literal["viewer", "operator", "admin"]
Nation = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]


class Error(msgspec.Struct, omit_defaults=True):
    """Every 4xx answer: what is wrong and why, and where (field, array index from 0,
    JSON Lines line from 1); ``reason`` is a fixed word, as counted in metrics."""

    error: str
    reason: str
    field: str | None = None
    index: int | None = None
    line: int | None = None


class Accepted(msgspec.Struct):
    accepted: int


class Me(msgspec.Struct):
    organisation: str
    nation: str | None
    roles: list[str]
    token: str


class TimeInfo(msgspec.Struct):
    now: float
    speed: float
    demo: str | None


class Tracks(msgspec.Struct):
    time: float
    tracks: list[TrackUpdate]


class AckBody(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class CitizenReport(msgspec.Struct, forbid_unknown_fields=True):
    """A sighting reported by a person: where and when, what it looked like, whether it
    was heard, which way it went (degrees from north), how many, free note."""

    time: Annotated[float, msgspec.Meta(ge=0.0, le=7.3e9)]
    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
    what: TargetClass = "unknown"
    heard: bool = False
    direction_deg: Annotated[float, msgspec.Meta(ge=0.0, lt=360.0)] | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class NewOrganisation(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_.-]{1,64}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    nation: Nation | None = None
    roles: list[Role] = msgspec.field(default_factory=lambda: ["viewer"])


class NewToken(msgspec.Struct, forbid_unknown_fields=True):
    roles: list[Role] | None = None
    expires: Annotated[float, msgspec.Meta(ge=0.0)] | None = None


class Sensor(msgspec.Struct, omit_defaults=True):
    id: str
    type: str
    owner: str
    status: Literal["up", "down", "unknown"]
    releasability: str
    lat: float | None = None
    lon: float | None = None
    period: float | None = None
    last_seen: float | None = None
    feed: str | None = None  # the site file's feed its data comes in on


class FeedState(msgspec.Struct):
    """One configured feed (site.toml ``[[feed]]``): its link and what it decoded."""

    name: str
    type: str
    sensor: str | None
    address: str | None
    mode: Literal["tcp-client", "udp"]
    connected: bool
    connects: int
    failures: int
    bytes: int
    last_data: float | None
    last_error: str | None
    units: int
    detections: int
    rejected: int
    refused: int
    outcomes: dict[str, int]


class BBoxMessage(msgspec.Struct, forbid_unknown_fields=True):
    """What a stream client may send: a new box ``[w, s, e, n]`` or null for all."""

    bbox: list[float] | None


def decode_body(body: bytes, type_: type[Any]) -> Any:
    """``body`` decoded as ``type_``; :class:`~.errors.ApiError` 400 naming the field."""
    from .errors import ApiError, explain_msgspec

    try:
        return msgspec.json.decode(body or b"{}", type=type_)
    except msgspec.DecodeError as exc:
        why, _, field = explain_msgspec(exc)
        reason = "bad_json" if not isinstance(exc, msgspec.ValidationError) else "bad_field"
        text = f"field {field}: {why}" if field else why
        raise ApiError(400, text, reason=reason, field=field) from exc
