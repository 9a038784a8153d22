"""Typed records: the only things that cross a stage boundary, the bus or the wire.

Each record is a frozen msgspec struct: one declaration gives its type, its validation and
its JSON codec. The JSON Lines forms are the contract of ../shared/formats.md (mirrored in
docs/FORMATS.md): fields are only ever added, with defaults, never renamed or removed.
Unknown fields in input are ignored so newer writers stay readable.

Units are SI throughout: seconds since the Unix epoch (UTC), metres, metres per second,
degrees for WGS84 latitude/longitude and for angles (azimuth clockwise from true north).

Hot paths do not loop over these structs: :class:`DetectionBatch` holds a batch of
detections as numpy columns.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import numpy as np

from .errors import RecordError

Lat = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Lon = Annotated[float, msgspec.Meta(ge=-180.0, le=360.0)]
Alt = Annotated[float, msgspec.Meta(ge=-1000.0, le=1.0e6)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0.0)]
Speed = Annotated[float, msgspec.Meta(ge=-1.0e4, le=1.0e4)]
Azimuth = Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)]
Elevation = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
# Times before 1970 or after 2200 are certainly wrong units (ms instead of s, say).
Time = Annotated[float, msgspec.Meta(ge=0.0, le=7.3e9)]

DetectionKind = Literal["position", "polar", "bearing"]
TargetClass = Literal["aircraft", "helicopter", "drone", "missile", "balloon", "bird", "unknown"]
TrackStatus = Literal["tentative", "confirmed", "coasting", "deleted"]
Identity = Literal[
    "pending", "unknown", "assumed_friend", "friend", "neutral", "suspect", "hostile"
]

DETECTION_KINDS: tuple[str, ...] = ("position", "polar", "bearing")
TARGET_CLASSES: tuple[str, ...] = (
    "aircraft", "helicopter", "drone", "missile", "balloon", "bird", "unknown",
)
KIND_CODE = {k: i for i, k in enumerate(DETECTION_KINDS)}


# The records that files hold by the hundred thousand are not tracked by Python's cycle
# collector (gc=False): they hold numbers, strings and lists of strings, never a cycle.
# Tracked, they set off its collections and are walked by each: a run at 200 targets
# (read, track, write) made 186 young-generation collections, 119 with them untracked.
class Detection(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One sensor report (formats.md, "Detection").

    ``kind`` says which fields carry the measurement: ``position`` needs lat/lon,
    ``polar`` needs range/azimuth (elevation optional) from the sensor site, ``bearing``
    needs azimuth only. :meth:`check` enforces that; the struct enforces types and ranges.
    """

    time: Time
    sensor: str
    kind: DetectionKind = "position"
    lat: Lat | None = None
    lon: Lon | None = None
    alt: Alt | None = None
    sigma_h: Positive | None = None
    sigma_v: Positive | None = None
    range: Positive | None = None
    azimuth: Azimuth | None = None
    elevation: Elevation | None = None
    sigma_range: Positive | None = None
    sigma_azimuth: Positive | None = None
    sigma_elevation: Positive | None = None
    vel_e: Speed | None = None
    vel_n: Speed | None = None
    vel_u: Speed | None = None
    id: str | None = None
    callsign: str | None = None
    class_hint: TargetClass | None = None
    # Extensions (optional, formats.md allows new optional fields):
    # when the report reached us, for reports delayed after the observation (citizens).
    received: Time | None = None
    # simulator label: the truth target this detection came from (absent for clutter);
    # written only with `skywarden sim --labels`, read by oracle trackers in benchmarks.
    target: str | None = None
    # Drone Remote ID (ASTM F3411 System message): where the remote pilot stands, WGS84
    # degrees and metres MSL; carried so operators and police can find the pilot.
    operator_lat: Lat | None = None
    operator_lon: Lon | None = None
    operator_alt: Alt | None = None
    # Mode 3/A code (squawk, four octal digits as a string) where the sensor reports it
    # (ASTERIX CAT048/062, SBS).
    squawk: str | None = None

    def check(self) -> Detection:
        """Raise :class:`RecordError` if the fields its ``kind`` needs are missing."""
        if not self.sensor:
            raise RecordError("field sensor: empty sensor id")
        if self.kind == "position":
            if self.lat is None or self.lon is None:
                raise RecordError("kind position needs fields lat and lon")
        elif self.kind == "polar":
            if self.range is None or self.azimuth is None:
                raise RecordError("kind polar needs fields range and azimuth")
        elif self.azimuth is None:  # bearing
            raise RecordError("kind bearing needs field azimuth")
        if (self.vel_e is None) != (self.vel_n is None):
            raise RecordError("fields vel_e and vel_n come together")
        return self


class TrackUpdate(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One fused estimate of one track (formats.md, "Track"). One line per track per update."""

    time: Time
    track: str
    lat: Lat
    lon: Lon
    alt: Alt | None = None
    vel_e: Speed = 0.0
    vel_n: Speed = 0.0
    vel_u: Speed = 0.0
    sigma_h: NonNegative | None = None
    status: TrackStatus = "tentative"
    cls: TargetClass = msgspec.field(default="unknown", name="class")
    identity: Identity = "pending"
    ids: list[str] = msgspec.field(default_factory=list)
    sensors: list[str] = msgspec.field(default_factory=list)
    # Extensions: confidence of ``class`` (0-1); flags raised by checks, such as
    # "spoof_suspect" (a cooperative position far from where radar holds the track).
    class_confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    flags: list[str] = msgspec.field(default_factory=list)
    # Extensions set by the live service (docs/API.md): who may see the row (``public``,
    # ``allies``, ``none`` or a comma list of nations), and the soonest predicted entry
    # into another nation.
    releasability: str | None = None
    next_entry: NextEntry | None = None


class NextEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """The soonest predicted entry of a track into a nation other than the one below it
    (extension of "Track"): ``eta`` epoch seconds, ``probability`` 0-1, ``distance_m`` to
    that nation's territory."""

    nation: str
    eta: Time
    probability: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
    distance_m: NonNegative


class Truth(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """Simulator ground truth: one line per live target per truth step (formats.md)."""

    time: Time
    target: str
    lat: Lat
    lon: Lon
    alt: Alt
    vel_e: Speed
    vel_n: Speed
    vel_u: Speed
    cls: TargetClass = msgspec.field(default="unknown", name="class")
    observable: bool = False
    id: str | None = None
    hostile: bool = False


class AlertEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One change of an alert's state (formats.md, "Alert event")."""

    time: Time
    alert: str
    event: Literal["raised", "escalated", "deescalated", "acknowledged", "ended"]
    level: Annotated[int, msgspec.Meta(ge=0, le=4)]
    kind: str
    nation: str
    track: str | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    alt: Alt | None = None
    zone: str | None = None
    eta: Time | None = None
    probability: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    actions: list[str] = msgspec.field(default_factory=list)
    # Extensions (optional): the level's name in the nation's rules ("warning"); who
    # acknowledged and their note (event "acknowledged"); the silent sensor (kind
    # "sensor_down"); the zone's type when ``zone`` is set.
    level_name: str | None = None
    by: str | None = None
    note: str | None = None
    sensor: str | None = None
    zone_type: str | None = None
    # Extension set by the live service: who may see the event (as TrackUpdate's).
    releasability: str | None = None


def _floats(values: list[float | None]) -> np.ndarray:
    """A float column with NaN where a value is missing (None)."""
    missing = values.count(None)
    if missing == len(values):
        return np.full(len(values), np.nan)
    if missing == 0:
        return np.array(values, dtype=np.float64)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


# DetectionBatch's float columns after time, sensor and kind, in its order.
_FLOAT_COLUMNS = ("lat", "lon", "alt", "sigma_h", "sigma_v", "range", "azimuth", "elevation",
                  "sigma_range", "sigma_azimuth", "sigma_elevation", "vel_e", "vel_n", "vel_u")
_FIELD = {name: operator.attrgetter(name)
          for name in ("time", "sensor", "kind", *_FLOAT_COLUMNS, "id", "class_hint")}


@dataclass(slots=True)
class DetectionBatch:
    """A batch of detections as numpy columns, for hot paths.

    Missing optional numbers are NaN. ``sensor`` is the index of the sensor id in
    ``sensor_ids`` (the registry order); ``kind`` is the index in :data:`DETECTION_KINDS`.
    ``ids`` holds the cooperative identity or "" per row.
    """

    time: np.ndarray
    sensor: np.ndarray
    kind: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    sigma_h: np.ndarray
    sigma_v: np.ndarray
    range: np.ndarray
    azimuth: np.ndarray
    elevation: np.ndarray
    sigma_range: np.ndarray
    sigma_azimuth: np.ndarray
    sigma_elevation: np.ndarray
    vel_e: np.ndarray
    vel_n: np.ndarray
    vel_u: np.ndarray
    ids: np.ndarray
    class_hint: np.ndarray
    sensor_ids: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @classmethod
    def from_records(
        cls, dets: list[Detection], sensor_ids: tuple[str, ...] | list[str]
    ) -> DetectionBatch:
        """Columns from records. A sensor not in ``sensor_ids`` is a :class:`RecordError`.

        Each field is read by one ``map`` of its attrgetter, and a float column that is
        all numbers or all missing, as most are (a radar's plots have no lat/lon, an ADS-B
        report no range), is converted in one call: 464,674 detections in chunks of 8,192
        took 0.75-0.80 s, against 0.90 s with a list comprehension per field and another
        for the missing values."""
        index = {s: i for i, s in enumerate(sensor_ids)}
        n = len(dets)

        def column(name: str) -> list[Any]:
            return list(map(_FIELD[name], dets))

        try:
            sensor = np.fromiter(map(index.__getitem__, column("sensor")), np.int32, n)
        except KeyError as exc:
            raise RecordError(f"field sensor: {exc.args[0]!r} is not in the registry") from exc
        return cls(
            np.array(column("time"), dtype=np.float64),
            sensor,
            np.fromiter(map(KIND_CODE.__getitem__, column("kind")), np.int8, n),
            *(_floats(column(name)) for name in _FLOAT_COLUMNS),
            ids=np.array([i or "" for i in column("id")], dtype=object),
            class_hint=np.array([c or "" for c in column("class_hint")], dtype=object),
            sensor_ids=tuple(sensor_ids),
        )
