"""One Open Drone ID message (ASTM F3411-22a, ASD-STAN EN 4709-002) -> a small typed record.

Every message is 25 bytes. Byte 0 is the header: message type in the high nibble, protocol
version in the low nibble (0 F3411-19, 1 EN 4709-002 / F3411-20, 2 F3411-22a, 0xF private
use, ignored).
Multi-byte fields are little-endian; bit fields below are drawn most significant bit first::

    type 0x0 Basic ID
    +------+----------------------+---------------------------------+----------+
    | 0 hdr| 1 IDtype(4) UAtype(4)| 2-21 UAS ID (20, NUL padded)    | 22-24 res|
    +------+----------------------+---------------------------------+----------+

    type 0x1 Location/Vector
    +------+---------------------------------------------+-------+-------+--------+
    | 0 hdr| 1 status(4) res(1) heighttype(1) EW(1) mult(1) | 2 dir | 3 spd | 4 vspd |
    +------+---------------------------------------------+-------+-------+--------+
    | 5-8 lat int32 | 9-12 lon int32 | 13-14 baro alt | 15-16 geo alt | 17-18 height |
    +---------------+----------------+----------------+---------------+--------------+
    | 19 vacc(4) hacc(4) | 20 baroacc(4) spdacc(4) | 21-22 timestamp | 23 res(4) tsacc(4) |
    +--------------------+--------------------------+-----------------+-------------------+

    type 0x2 Authentication (pages of a signature; not decoded here)
    type 0x3 Self-ID:     1 description type, 2-24 text (23)
    type 0x4 System:      1 res(3) classification type(3) operator location type(2),
                          2-5 operator lat, 6-9 operator lon, 10-11 area count,
                          12 area radius (x10 m), 13-14 area ceiling, 15-16 area floor,
                          17 category(4) class(4), 18-19 operator geodetic alt,
                          20-23 timestamp (s since 2019-01-01T00:00:00Z), 24 reserved
    type 0x5 Operator ID: 1 operator ID type, 2-21 ID (20), 22-24 reserved
    type 0xF Message Pack: 1 message size (25), 2 count N (1-9), then N messages

Encodings (F3411-22a tables 6-10; checked against opendroneid-core-c and librid):
direction = byte + 180 if EW else byte, 0-359, 361 unknown; speed = byte x 0.25 m/s, or
byte x 0.75 + 63.75 m/s with the multiplier bit, 255 with the bit set = unknown; vertical
speed = int8 x 0.5 m/s, 63 m/s (byte 126) unknown; lat/lon = int32 x 1e-7 deg, both 0 =
unknown; altitudes and height = uint16 x 0.5 - 1000 m, -1000 = unknown; timestamp = tenths
of a second since the full UTC hour, 0xFFFF unknown. Unknown values decode to None, never
to the sentinel number, so nothing downstream mistakes 255 m/s for a speed.

:func:`decode_message` is pure and never raises: it gives a record, or an outcome string
(``ignored: ...`` or ``rejected: ...``) saying why there is none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MESSAGE_SIZE = 25
# Protocol version 0xF is reserved for private use: its layout is not the standard's.
# Versions 3-14 are future ones, decoded as version 2 (the standard only ever adds).
PRIVATE_USE_VERSION = 0xF
PACK_MAX_MESSAGES = 9

BASIC_ID, LOCATION, AUTHENTICATION, SELF_ID, SYSTEM, OPERATOR_ID, PACK = 0, 1, 2, 3, 4, 5, 0xF
MESSAGE_NAMES = {
    BASIC_ID: "basic id", LOCATION: "location", AUTHENTICATION: "authentication",
    SELF_ID: "self id", SYSTEM: "system", OPERATOR_ID: "operator id", PACK: "message pack",
}

# Basic ID, ID type (high nibble of byte 1).
ID_NONE, ID_SERIAL, ID_CAA, ID_UTM_UUID, ID_SESSION = 0, 1, 2, 3, 4
ID_TYPE_NAMES = {ID_NONE: "none", ID_SERIAL: "serial", ID_CAA: "caa registration",
                 ID_UTM_UUID: "utm uuid", ID_SESSION: "specific session id"}

# UA type (low nibble of byte 1) -> our class_hint (formats.md). Unmanned aircraft that fly
# like drones are "drone"; lighter-than-air ones "balloon". A rocket says "unknown", not
# "missile": a model rocket that declares itself is not a threat class. None: not declared.
UA_TYPE_NAMES = (
    "none", "aeroplane", "helicopter or multirotor", "gyroplane", "hybrid lift",
    "ornithopter", "glider", "kite", "free balloon", "captive balloon", "airship",
    "free fall parachute", "rocket", "tethered powered aircraft", "ground obstacle", "other",
)
CLASS_BY_UA_TYPE: tuple[str | None, ...] = (
    None, "drone", "drone", "drone", "drone", "drone", "drone", "unknown", "balloon",
    "balloon", "balloon", "unknown", "unknown", "drone", "unknown", "unknown",
)

STATUS_UNDECLARED, STATUS_GROUND, STATUS_AIRBORNE, STATUS_EMERGENCY, STATUS_RID_FAILURE = (
    0, 1, 2, 3, 4)
STATUS_NAMES = ("undeclared", "ground", "airborne", "emergency", "remote id system failure")

# Accuracy enums (F3411-22a table 7): the 95 % bound they state, metres (m/s for speed).
# 0 and the reserved codes are unknown.
_UNKNOWN: tuple[None, ...] = (None,) * 16
HORIZONTAL_ACCURACY_M: tuple[float | None, ...] = (
    None, 18520.0, 7408.0, 3704.0, 1852.0, 926.0, 555.6, 185.2, 92.6, 30.0, 10.0, 3.0, 1.0,
    *_UNKNOWN)[:16]
VERTICAL_ACCURACY_M: tuple[float | None, ...] = (
    None, 150.0, 45.0, 25.0, 10.0, 3.0, 1.0, *_UNKNOWN)[:16]
SPEED_ACCURACY_MPS: tuple[float | None, ...] = (None, 10.0, 3.0, 1.0, 0.3, *_UNKNOWN)[:16]

# Seconds since the Unix epoch of 2019-01-01T00:00:00Z, the epoch of System timestamps.
EPOCH_2019 = 1_546_300_800

_LOCATION = struct.Struct("<BBBBbiiHHHBBHB")
_SYSTEM = struct.Struct("<BBiiHBHHBHIB")


@dataclass(frozen=True, slots=True)
class BasicId:
    """Who the aircraft is: ``uas_id`` is text for serial and CAA ids, upper-case hex for a
    UTM UUID or session id (binary on the air); None for ID type 0."""

    version: int
    id_type: int
    ua_type: int
    uas_id: str | None

    @property
    def class_hint(self) -> str | None:
        return CLASS_BY_UA_TYPE[self.ua_type]


@dataclass(frozen=True, slots=True)
class Location:
    """Where it is and how it moves. SI units; None where the message says unknown.

    ``alt_pressure_m`` is pressure altitude (1013.25 hPa reference); ``alt_geodetic_m`` is
    height above the WGS84 ellipsoid; ``height_m`` is above take-off (``height_over_ground``
    False) or above ground. ``time_s`` is seconds since the full UTC hour. Accuracies are
    the 95 % bounds of the enums, metres (m/s for speed).
    """

    version: int
    status: int
    direction_deg: float | None
    speed_mps: float | None
    vspeed_mps: float | None
    lat: float | None
    lon: float | None
    alt_pressure_m: float | None
    alt_geodetic_m: float | None
    height_m: float | None
    height_over_ground: bool
    h_accuracy_m: float | None
    v_accuracy_m: float | None
    baro_accuracy_m: float | None
    speed_accuracy_mps: float | None
    time_s: float | None
    time_accuracy_s: float | None


@dataclass(frozen=True, slots=True)
class Authentication:
    """A page of an authentication signature: kept as a type, not decoded or verified."""

    version: int
    auth_type: int
    page: int


@dataclass(frozen=True, slots=True)
class SelfId:
    """The operator's free text (``description_type`` 0 text, 1 emergency, 2 status)."""

    version: int
    description_type: int
    description: str


@dataclass(frozen=True, slots=True)
class System:
    """Where the remote pilot is, the operating area, the EU class, and a timestamp.

    ``operator_location_type`` 0 take-off, 1 live GNSS, 2 fixed. ``time`` is Unix epoch
    seconds (None for 0, "unknown", and in protocol versions before 2, which had no field).
    """

    version: int
    operator_location_type: int
    classification_type: int
    operator_lat: float | None
    operator_lon: float | None
    area_count: int
    area_radius_m: float
    area_ceiling_m: float | None
    area_floor_m: float | None
    category_eu: int
    class_eu: int
    operator_alt_m: float | None
    time: float | None


@dataclass(frozen=True, slots=True)
class OperatorId:
    """The operator's registration (``operator_id_type`` 0: CAA-issued operator ID)."""

    version: int
    operator_id_type: int
    operator_id: str


Message = BasicId | Location | Authentication | SelfId | System | OperatorId


def message_type(msg: bytes) -> int:
    """The message type nibble of a message's header byte."""
    return msg[0] >> 4


def _altitude(raw: int) -> float | None:
    return None if raw == 0 else raw * 0.5 - 1000.0


def _latlon(lat_raw: int, lon_raw: int) -> tuple[float | None, float | None] | str:
    if lat_raw == 0 and lon_raw == 0:
        return None, None
    lat, lon = lat_raw / 1e7, lon_raw / 1e7  # division: 525200000 -> 52.52 exactly
    if not -90.0 <= lat <= 90.0:
        return "latitude out of range"
    if not -180.0 <= lon <= 180.0:
        return "longitude out of range"
    return lat, lon


def _text(raw: bytes) -> str | None:
    """NUL-terminated printable ASCII, stripped; None if it holds anything else."""
    raw = raw.split(b"\0", 1)[0]
    if any(not 0x20 <= c <= 0x7E for c in raw):
        return None
    return raw.decode("ascii").strip()


def decode_basic_id(msg: bytes) -> BasicId | str:
    id_type, ua_type = msg[1] >> 4, msg[1] & 0x0F
    raw = msg[2:22]
    uas_id: str | None
    if id_type in (ID_SERIAL, ID_CAA):
        uas_id = _text(raw)
        if uas_id is None:
            return "rejected: Basic ID not printable ASCII"
        if not uas_id or " " in uas_id:
            return "rejected: Basic ID empty or with spaces"
    elif id_type == ID_UTM_UUID:
        uas_id = raw[:16].hex().upper()
    elif id_type == ID_SESSION:
        uas_id = raw.rstrip(b"\0").hex().upper() or None
        if uas_id is None:
            return "rejected: Basic ID empty"
    elif id_type == ID_NONE:
        uas_id = None
    else:
        return "ignored: Basic ID of a reserved ID type"
    return BasicId(msg[0] & 0x0F, id_type, ua_type, uas_id)


def decode_location(msg: bytes) -> Location | str:
    (_, flags, direction, speed, vspeed, lat_raw, lon_raw, baro, geo, height, vh_acc, bs_acc,
     ts, ts_acc) = _LOCATION.unpack_from(msg)
    latlon = _latlon(lat_raw, lon_raw)
    if isinstance(latlon, str):
        return f"rejected: location {latlon}"
    degrees = direction + (180 if flags & 0x02 else 0)
    # 361 is "unknown"; 360 and above are not directions either
    direction_deg = float(degrees) if degrees < 360 else None
    # with the multiplier bit: 0.75 m/s steps above 255 x 0.25 m/s, and 255 is "unknown"
    speed_mps: float | None = speed * 0.25
    if flags & 0x01:
        speed_mps = None if speed == 255 else speed * 0.75 + 255 * 0.25
    # 63 m/s (126) is "unknown"; beyond +-62 m/s is outside the encoding's range
    vspeed_mps = vspeed * 0.5 if abs(vspeed) <= 124 else None
    return Location(
        version=msg[0] & 0x0F,
        status=flags >> 4,
        direction_deg=direction_deg,
        speed_mps=speed_mps,
        vspeed_mps=vspeed_mps,
        lat=latlon[0],
        lon=latlon[1],
        alt_pressure_m=_altitude(baro),
        alt_geodetic_m=_altitude(geo),
        height_m=_altitude(height),
        height_over_ground=bool(flags & 0x04),
        h_accuracy_m=HORIZONTAL_ACCURACY_M[vh_acc & 0x0F],
        v_accuracy_m=VERTICAL_ACCURACY_M[vh_acc >> 4],
        baro_accuracy_m=VERTICAL_ACCURACY_M[bs_acc >> 4],
        speed_accuracy_mps=SPEED_ACCURACY_MPS[bs_acc & 0x0F],
        time_s=None if ts > 36000 else ts / 10.0,  # 0xFFFF unknown, beyond an hour invalid
        time_accuracy_s=(ts_acc & 0x0F) / 10.0 or None,
    )


def decode_self_id(msg: bytes) -> SelfId:
    text = msg[2:25].split(b"\0", 1)[0]
    # Free text for people: keep what is printable rather than lose the message.
    description = "".join(chr(c) if 0x20 <= c <= 0x7E else "?" for c in text).strip()
    return SelfId(msg[0] & 0x0F, msg[1], description)


def decode_system(msg: bytes) -> System | str:
    (_, flags, lat_raw, lon_raw, area_count, radius, ceiling, floor, eu, op_alt, ts,
     _) = _SYSTEM.unpack_from(msg)
    latlon = _latlon(lat_raw, lon_raw)
    if isinstance(latlon, str):
        return f"rejected: operator {latlon}"
    version = msg[0] & 0x0F
    return System(
        version=version,
        operator_location_type=flags & 0x03,
        classification_type=(flags >> 2) & 0x07,
        operator_lat=latlon[0],
        operator_lon=latlon[1],
        area_count=area_count,
        area_radius_m=radius * 10.0,
        area_ceiling_m=_altitude(ceiling),
        area_floor_m=_altitude(floor),
        category_eu=eu >> 4,
        class_eu=eu & 0x0F,
        operator_alt_m=_altitude(op_alt),
        time=float(EPOCH_2019 + ts) if ts and version >= 2 else None,
    )


def decode_operator_id(msg: bytes) -> OperatorId | str:
    text = _text(msg[2:22])
    if text is None:
        return "rejected: operator ID not printable ASCII"
    return OperatorId(msg[0] & 0x0F, msg[1], text)


def decode_message(msg: bytes) -> Message | str:
    """One 25-byte message -> its record, or the outcome that says why there is none.

    A message pack is not a message here (:func:`split_pack` opens it first); an
    Authentication page is returned as a type only.
    """
    if len(msg) != MESSAGE_SIZE:
        return "rejected: message not 25 bytes"
    kind = msg[0] >> 4
    if msg[0] & 0x0F == PRIVATE_USE_VERSION and kind != PACK:
        return "ignored: private-use protocol version"
    if kind == BASIC_ID:
        return decode_basic_id(msg)
    if kind == LOCATION:
        return decode_location(msg)
    if kind == AUTHENTICATION:
        return Authentication(msg[0] & 0x0F, msg[1] >> 4, msg[1] & 0x0F)
    if kind == SELF_ID:
        return decode_self_id(msg)
    if kind == SYSTEM:
        return decode_system(msg)
    if kind == OPERATOR_ID:
        return decode_operator_id(msg)
    if kind == PACK:
        return "rejected: message pack inside a message pack"
    return f"rejected: unknown message type {kind:X}"


def split_pack(data: bytes) -> list[bytes] | str:
    """A message pack (header 0xF?) -> its 25-byte messages, or why it is rejected.

    Bytes after the N messages are ignored (receivers pad); fewer than N x 25 are not.
    """
    if len(data) < 3 or data[0] >> 4 != PACK:
        return "rejected: not a message pack"
    if data[1] != MESSAGE_SIZE:
        return "rejected: message pack with message size not 25"
    n = data[2]
    if not 1 <= n <= PACK_MAX_MESSAGES:
        return "rejected: message pack count not 1-9"
    if len(data) < 3 + n * MESSAGE_SIZE:
        return "rejected: message pack truncated"
    return [data[3 + i * MESSAGE_SIZE:3 + (i + 1) * MESSAGE_SIZE] for i in range(n)]
