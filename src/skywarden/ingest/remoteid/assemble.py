"""Remote ID frames -> ``position`` Detections, remembering each drone between frames.

A drone's messages need not arrive together: over Bluetooth 4 each advertisement carries
one message, so the Basic ID (who) and the System message (where the pilot is) come in
other frames than the Location (where the drone is). :class:`RemoteIdDecoder` keeps, per
transmitter, the last Basic IDs, System, Operator ID and Self-ID (:class:`DroneMemory`),
and turns every valid airborne Location into one Detection with them attached.

The key of a drone is the transmitter address (BLE or Wi-Fi MAC) when the caller knows it,
else the preferred Basic ID in the same frame (a Wi-Fi or BT5 message pack carries one).
With neither, a Location still gives a Detection, only without ``id`` and operator.
``id`` is ``rid:<UAS ID>``, preferring the serial number (ANSI/CTA-2063-A) to the CAA
registration, a UTM UUID or a session ID; before any Basic ID is heard a Detection has no
``id`` (a made-up key-derived id would later split one drone into two identities).

Memory is bounded: at most ``max_drones`` transmitters (least recently heard dropped
first), each forgotten ``forget_after_s`` after it was last heard (by the time of the
frames that tell of a transmitter: a junk frame's stamp moves nothing).

Counting (:mod:`..counts`): the unit is one received frame. Its outcome is its Location's
(``position``, ``ignored: on ground``, ``rejected: location latitude out of range``...) if
it has one, else the most useful of its other messages (``used: basic id``, ``used:
system``, ``used: operator id``, ``used: self id``, ``ignored: authentication``), else why
it was rejected. Each message is also counted, by type and outcome, in
:attr:`RemoteIdDecoder.messages`, for diagnostics.

Units: accuracies in Location messages are 95 % bounds; 1-sigma is the bound / 2.4477
horizontally (a circular Gaussian has 95 % of its mass within 2.4477 sigma) and / 1.96
vertically. Geodetic altitude (WGS84 ellipsoid) is used as metres MSL, as everywhere in
Skywarden (geo.py): the geoid separation, tens of metres, is below the broadcast accuracy.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict

from ...errors import RecordError
from ...records import Detection
from ..counts import FeedCounts
from .messages import (
    CLASS_BY_UA_TYPE,
    ID_CAA,
    ID_SERIAL,
    ID_SESSION,
    ID_UTM_UUID,
    LOCATION,
    MESSAGE_NAMES,
    STATUS_GROUND,
    Authentication,
    BasicId,
    Location,
    Message,
    OperatorId,
    SelfId,
    System,
    decode_message,
)
from .transport import unwrap

# A drone not heard this long is forgotten (F3411 sends every message at least every 3 s).
FORGET_AFTER_S = 60.0
# Transmitters remembered at once; the least recently heard is dropped beyond this.
MAX_DRONES = 10_000
# The same Location bytes from one transmitter within this window are one report heard
# again (BT4 repeats each advertisement on three channels), not a new one.
REPEAT_WINDOW_S = 5.0
# A Location timestamp further than this from the receive time means the drone's clock is
# wrong (the standard wants the message sent within about a second of the fix): the
# receive time is used instead.
MAX_CLOCK_SKEW_S = 30.0
# 95 % bound -> 1-sigma, horizontal (2-D, circular) and vertical (1-D).
SIGMA_PER_95_H = 2.4477
SIGMA_PER_95_V = 1.96

_ID_PREFERENCE = (ID_SERIAL, ID_CAA, ID_UTM_UUID, ID_SESSION)
_USED_ORDER = ("used: basic id", "used: system", "used: operator id", "used: self id")


def anchor_time(seconds_past_hour: float | None, received: float) -> float:
    """Epoch seconds of a Location timestamp (seconds since the full UTC hour), choosing the
    hour that puts it nearest ``received`` (so within +-30 min); ``received`` if unknown."""
    if seconds_past_hour is None:
        return received
    t = math.floor(received / 3600.0) * 3600.0 + seconds_past_hour
    if t - received > 1800.0:
        t -= 3600.0
    elif received - t > 1800.0:
        t += 3600.0
    return t


def preferred_id(ids: dict[int, str]) -> str | None:
    """The UAS ID to publish: serial, else CAA registration, else UTM UUID, else session."""
    for id_type in _ID_PREFERENCE:
        if id_type in ids:
            return ids[id_type]
    return None


class DroneMemory:
    """What one transmitter told us: its IDs, UA type, System, Operator ID and Self-ID."""

    __slots__ = ("ids", "ua_type", "system", "system_heard", "operator_id", "self_id",
                 "heard", "last_location", "last_location_at")

    def __init__(self, heard: float) -> None:
        self.ids: dict[int, str] = {}
        self.ua_type: int | None = None
        self.system: System | None = None
        self.system_heard = -math.inf
        self.operator_id: str | None = None
        self.self_id: str | None = None
        self.heard = heard
        self.last_location: bytes | None = None
        self.last_location_at = -math.inf

    @property
    def uas_id(self) -> str | None:
        return preferred_id(self.ids)


class RemoteIdDecoder:
    """Received Remote ID frames -> Detections, with bounded per-transmitter memory.

    :meth:`frame` never raises on bad bytes; every frame is counted once in ``counts``.
    """

    def __init__(self, sensor: str, counts: FeedCounts | None = None, *,
                 max_drones: int = MAX_DRONES, forget_after_s: float = FORGET_AFTER_S,
                 transport: str = "auto") -> None:
        if max_drones < 1:
            raise ValueError(f"max_drones must be at least 1, not {max_drones}")
        self.sensor = sensor
        self.counts = counts if counts is not None else FeedCounts()
        self.max_drones = max_drones
        self.forget_after_s = forget_after_s
        self.transport = transport
        self.drones: OrderedDict[str, DroneMemory] = OrderedDict()
        self.messages: Counter[str] = Counter()
        self.last_outcome = ""

    def frame(self, data: bytes, received: float, transmitter: str | None = None, *,
              transport: str | None = None) -> list[Detection]:
        """One received frame (BLE advertising data, Wi-Fi element or beacon, NAN service
        info, message pack or single message) heard at ``received`` (epoch seconds) from
        ``transmitter`` (its MAC address, if known) -> 0 or 1 Detection. ``transport``
        (one of :data:`.transport.TRANSPORTS`) overrides the decoder's default, ``auto``."""
        det, outcome = self._frame(data, received, transmitter, transport or self.transport)
        self.last_outcome = outcome
        self.counts.add(outcome)
        return [det] if det is not None else []

    def _frame(self, data: bytes, received: float, transmitter: str | None,
               transport: str) -> tuple[Detection | None, str]:
        if not (math.isfinite(received) and 0.0 <= received <= 7.3e9):
            return None, "rejected: receive time out of range"
        payload = unwrap(data, transport)
        if isinstance(payload, str):
            return None, payload
        decoded: list[tuple[bytes, Message | str]] = []
        for msg in payload.messages:
            rec = decode_message(msg)
            if isinstance(rec, str):
                self.messages[f"{MESSAGE_NAMES.get(msg[0] >> 4, 'unknown')}: {rec}"] += 1
            decoded.append((msg, rec))
        if sum(1 for m, _ in decoded if m[0] >> 4 == LOCATION) > 1:
            return None, "rejected: message pack with more than one location"

        basics = [r for _, r in decoded if isinstance(r, BasicId)]
        key: str | None = None
        if transmitter:
            key = "tx:" + transmitter.strip().upper()
        else:
            frame_id = preferred_id({b.id_type: b.uas_id for b in basics if b.uas_id})
            key = "id:" + frame_id if frame_id else None
        mem = self._memory(key, received) if key is not None else None

        outcomes: list[str] = []
        location: tuple[bytes, Location] | None = None
        location_outcome: str | None = None
        for msg, rec in sorted(decoded, key=lambda mr: _ORDER.get(type(mr[1]), 9)):
            if isinstance(rec, str):
                if msg[0] >> 4 == LOCATION:
                    location_outcome = rec
                outcomes.append(rec)
                continue
            if isinstance(rec, Location):
                location = (msg, rec)
                continue
            out = self._remember(mem, rec, received)
            self.messages[f"{MESSAGE_NAMES[msg[0] >> 4]}: {out}"] += 1
            outcomes.append(out)

        det: Detection | None = None
        if location is not None:
            det, location_outcome = self._location(location[0], location[1], received, mem)
            self.messages[f"location: {location_outcome}"] += 1
        if location_outcome is not None:
            outcome = location_outcome
        else:
            outcome = next((o for o in _USED_ORDER if o in outcomes), None) or next(
                (o for o in outcomes if o.startswith("ignored")), None) or outcomes[0]
        # Only a frame that told something of a transmitter moves the forgetting clock: a
        # junk line stamped a minute ahead must not wipe every drone's Basic ID.
        if mem is not None and (outcome == "position" or outcome.startswith("used")):
            self._sweep(received)
        return det, outcome

    def _remember(self, mem: DroneMemory | None, rec: Message, received: float) -> str:
        if isinstance(rec, Authentication):
            return "ignored: authentication"
        if isinstance(rec, BasicId):
            if mem is None:  # ID type 0 (no UAS ID) and no transmitter address
                return "ignored: basic id without transmitter or UAS ID"
            if rec.uas_id is not None:
                mem.ids[rec.id_type] = rec.uas_id
            if rec.ua_type or mem.ua_type is None:  # a declared type is not undone by 0
                mem.ua_type = rec.ua_type
            return "used: basic id"
        name = ("system" if isinstance(rec, System) else
                "operator id" if isinstance(rec, OperatorId) else "self id")
        if mem is None:
            return f"ignored: {name} without transmitter or Basic ID"
        if isinstance(rec, System):
            mem.system, mem.system_heard = rec, received
        elif isinstance(rec, OperatorId):
            mem.operator_id = rec.operator_id or None
        elif isinstance(rec, SelfId):
            mem.self_id = rec.description or None
        return f"used: {name}"

    def _location(self, msg: bytes, loc: Location, received: float,
                  mem: DroneMemory | None) -> tuple[Detection | None, str]:
        if loc.status == STATUS_GROUND:
            return None, "ignored: on ground"
        if loc.lat is None or loc.lon is None:
            return None, "ignored: location unknown"
        if mem is not None and loc.time_s is not None:
            if msg == mem.last_location and received - mem.last_location_at <= REPEAT_WINDOW_S:
                return None, "ignored: repeated location"
            mem.last_location, mem.last_location_at = msg, received
        t = anchor_time(loc.time_s, received)
        if abs(t - received) > MAX_CLOCK_SKEW_S or not 0.0 <= t <= 7.3e9:
            t = received
        alt: float | None
        v95: float | None
        if loc.alt_geodetic_m is not None:
            alt, v95 = loc.alt_geodetic_m, loc.v_accuracy_m
        else:
            alt, v95 = loc.alt_pressure_m, loc.baro_accuracy_m
        vel_e = vel_n = None
        if loc.speed_mps is not None and (loc.direction_deg is not None or loc.speed_mps == 0):
            a = math.radians(loc.direction_deg or 0.0)
            vel_e, vel_n = loc.speed_mps * math.sin(a), loc.speed_mps * math.cos(a)
        uas_id = cls = None
        op_lat = op_lon = op_alt = None
        if mem is not None:
            uas_id = mem.uas_id
            if mem.ua_type is not None:
                cls = CLASS_BY_UA_TYPE[mem.ua_type]
            sys = mem.system
            if sys is not None and received - mem.system_heard <= self.forget_after_s:
                op_lat, op_lon, op_alt = sys.operator_lat, sys.operator_lon, sys.operator_alt_m
        try:
            det = Detection(
                time=t, sensor=self.sensor, kind="position", lat=loc.lat, lon=loc.lon,
                alt=alt,
                sigma_h=loc.h_accuracy_m / SIGMA_PER_95_H if loc.h_accuracy_m else None,
                sigma_v=v95 / SIGMA_PER_95_V if v95 and alt is not None else None,
                vel_e=vel_e, vel_n=vel_n, vel_u=loc.vspeed_mps,
                id=f"rid:{uas_id}" if uas_id else None,
                class_hint=cls,  # type: ignore[arg-type]
                received=received if t != received else None,
                operator_lat=op_lat, operator_lon=op_lon, operator_alt=op_alt,
            ).check()
        except RecordError as exc:  # not expected: every field is range-checked above
            return None, f"rejected: {exc}"
        return det, "position"

    def _memory(self, key: str, received: float) -> DroneMemory:
        mem = self.drones.get(key)
        if mem is None or received - mem.heard > self.forget_after_s:
            mem = self.drones[key] = DroneMemory(received)
            while len(self.drones) > self.max_drones:
                self.drones.popitem(last=False)
        self.drones.move_to_end(key)
        mem.heard = max(mem.heard, received)
        return mem

    def _sweep(self, now: float) -> None:
        """Forget drones unheard for ``forget_after_s``; the dict is in hearing order, so
        only the expired head is visited."""
        drones = self.drones
        while drones:
            key, mem = next(iter(drones.items()))
            if now - mem.heard <= self.forget_after_s:
                break
            del drones[key]


# Messages of a frame are applied Basic ID first and Location last, so a pack's Location
# gets the id and operator of its own pack whatever their order on the air.
_ORDER: dict[type, int] = {BasicId: 0, System: 1, OperatorId: 2, SelfId: 3,
                           Authentication: 4, str: 5, Location: 6}
