"""Mode S / ADS-B frames -> ``position`` Detections, decoding fields with rs1090.

rs1090 (MIT, Rust) decodes identification, velocity and anything unusual; position
squitters, most of a feed, are cut in numpy columns (:mod:`.es_positions`, checked against
rs1090 in the tests) because the library's Python binding costs about 7 µs a message.
This module adds what a per-message decoder cannot know: pairing even and odd CPR halves in time (the one stateful
piece, :class:`AircraftMemory`, with expiry), the aircraft's last velocity and callsign
attached to its positions, and a plausibility gate before a position is emitted.

Frame layout (DF17/18 extended squitter, 112 bits)::

    +--------+--------+------------------------+-----------------------------+--------+
    | DF (5) | CA (3) | ICAO address (24)      | ME (56): TC = first 5 bits  | PI (24)|
    +--------+--------+------------------------+-----------------------------+--------+
    TC 1-4 identification, 5-8 surface position, 9-18 airborne position (barometric
    altitude), 19 airborne velocity, 20-22 airborne position (GNSS height), 23-31 status.

Only DF17 and DF18 with CF=0 (ADS-B from a non-transponder device with an ICAO address)
become detections; other downlink formats are counted as ``ignored`` before the library is
called, which is most of the speed on a real feed. rs1090 panics (a ``BaseException``) on
bad hex, so it is only ever handed hex we made from whole 7- or 14-byte frames.

Units in: feet, knots, feet/minute (as broadcast). Units out: metres, m/s (formats.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rs1090

from ..records import Detection
from . import cpr
from .counts import FeedCounts
from .es_positions import decode_positions

FT = 0.3048
KT = 1852.0 / 3600.0
FPM = FT / 60.0

# How long one CPR half waits for its partner (seconds): the rule of 1090-WP-9-14 and
# pyModeS for airborne messages; surface messages come slower when taxiing.
PAIR_WINDOW_AIRBORNE_S = 10.0
PAIR_WINDOW_SURFACE_S = 25.0
# A decoded position stays a valid local reference this long (readsb uses similar ages).
REFERENCE_AGE_S = 60.0
# Velocity and callsign are attached to a position if this fresh.
VELOCITY_AGE_S = 10.0
# Plausibility gate: faster than this between two positions of one aircraft is a decode
# error (a wrong CPR zone), not an aircraft.
MAX_SPEED_MPS = 1000.0
# An ADS-B receiver cannot hear further than the radio horizon of an aircraft at 50,000 ft.
MAX_RANGE_M = 650_000.0
# Aircraft not heard for this long are forgotten (memory stays bounded on long feeds).
FORGET_AFTER_S = 300.0

_CLASS_BY_CATEGORY = {
    "Rotorcraft": "helicopter",
    "UAM": "drone",
    "Glider": "aircraft",
    "Lighter than air": "balloon",
    "Parachutist": "unknown",
    "Ultralight": "aircraft",
    "Space": "unknown",
    "<7000kg": "aircraft",
    "34,000kg": "aircraft",
    "<136,000kg": "aircraft",
    "High vortex": "aircraft",
    "Heavy": "aircraft",
    "High performance": "aircraft",
}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius 6,371 km (a gate, not geodesy)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))


_M_PER_DEG = 111_195.0


def _far(lat1: float, lon1: float, lat2: float, lon2: float, limit_m: float) -> bool:
    """Whether two points are more than ``limit_m`` apart; a flat-earth bound first (cheap,
    and exact enough far from the poles), the great circle only when it is close."""
    dlat = abs(lat2 - lat1) * _M_PER_DEG
    if dlat > limit_m:
        return True
    dlon = abs((lon2 - lon1 + 180.0) % 360.0 - 180.0) * _M_PER_DEG
    if dlat + dlon < limit_m:
        return False
    return distance_m(lat1, lon1, lat2, lon2) > limit_m


class AircraftMemory:
    """What we last heard from one aircraft: the CPR halves, position, velocity, callsign."""

    __slots__ = (
        "even", "odd", "lat", "lon", "pos_time", "vel", "vel_time", "callsign", "cls",
        "heard",
    )

    def __init__(self) -> None:
        # (time, lat_cpr, lon_cpr, surface) of the last even / odd half
        self.even: tuple[float, int, int, bool] | None = None
        self.odd: tuple[float, int, int, bool] | None = None
        self.lat = 0.0
        self.lon = 0.0
        self.pos_time = -math.inf
        self.vel: tuple[float, float, float | None] | None = None
        self.vel_time = -math.inf
        self.callsign: str | None = None
        self.cls: str | None = None
        self.heard = 0.0


@dataclass(frozen=True, slots=True)
class Site:
    """The receiver's site: the reference for surface positions and the range gate."""

    lat: float
    lon: float
    alt: float | None = None


def frame_outcome_precheck(frame: bytes) -> str | None:
    """Why a frame is not worth decoding (``ignored``/``rejected`` outcome), or None."""
    df = frame[0] >> 3
    n = len(frame)
    if n not in (7, 14):
        return "rejected: Mode S frame not 7 or 14 bytes"
    if df >= 16 and n == 7:
        # (a 14-byte DF0-15 frame is tolerated: some recorders pad short frames)
        return "rejected: short frame for a long downlink format"
    if df == 18 and frame[0] & 7 != 0:
        return "ignored: DF18 TIS-B/ADS-R (non-ICAO or rebroadcast)"
    if df not in (17, 18):
        return f"ignored: Mode S DF{min(df, 24)} (no position)"
    tc = frame[4] >> 3
    if tc == 0 or tc >= 23:
        return f"ignored: ADS-B TC {tc} (status, no position)"
    return None


class ModeSDecoder:
    """Frames with their times -> Detections, keeping per-aircraft memory between batches.

    ``feed`` takes frames in time order (a recording's order); each is counted once in
    ``counts`` (see :mod:`.counts`).
    """

    def __init__(self, sensor: str, site: Site | None = None,
                 counts: FeedCounts | None = None) -> None:
        self.sensor = sensor
        self.site = site
        self.counts = counts if counts is not None else FeedCounts()
        self.aircraft: dict[str, AircraftMemory] = {}
        self._last_sweep = -math.inf

    def feed(self, times: Sequence[float], frames: Sequence[bytes]) -> list[Detection]:
        """Decode one batch. Bad frames are counted and skipped; nothing raises."""
        counts = self.counts
        keep_t: list[float] = []
        # Positions (TC 5-18) are cut in numpy columns; the rest goes to rs1090.
        pos_at: list[int] = []
        pos_frames: list[bytes] = []
        lib_at: list[int] = []
        lib_hex: list[str] = []
        for t, frame in zip(times, frames, strict=True):
            if not frame:
                counts.add("rejected: empty frame")
                continue
            why = frame_outcome_precheck(frame)
            if why is not None:
                counts.add(why)
                continue
            if 5 <= frame[4] >> 3 <= 18:
                pos_at.append(len(keep_t))
                pos_frames.append(frame)
            else:
                lib_at.append(len(keep_t))
                lib_hex.append(frame.hex())
            keep_t.append(t)
        if not keep_t:
            return []
        # rs1090's TypedDicts and our plain dicts, read with .get alike
        messages: list[Any] = [None] * len(keep_t)
        if pos_frames:
            for j, msg in enumerate(decode_positions(pos_frames)):
                if msg is not None and "library" in msg:
                    lib_at.append(pos_at[j])
                    lib_hex.append(pos_frames[j].hex())
                else:
                    messages[pos_at[j]] = msg
        if lib_hex:
            decoded = rs1090.decode(lib_hex, batch=len(lib_hex))
            for i, lib_msg in zip(lib_at, decoded, strict=True):
                messages[i] = lib_msg
        out: list[Detection] = []
        for t, msg in zip(keep_t, messages, strict=True):
            if msg is None:
                counts.add("rejected: bad CRC or undecodable")
                continue
            det = self._message(t, msg)
            if det is not None:
                out.append(det)
        if keep_t and keep_t[-1] - self._last_sweep > FORGET_AFTER_S:
            self._forget(keep_t[-1])
        return out

    def _forget(self, now: float) -> None:
        self._last_sweep = now
        old = [k for k, a in self.aircraft.items() if now - a.heard > FORGET_AFTER_S]
        for k in old:
            del self.aircraft[k]

    def _message(self, t: float, msg: dict) -> Detection | None:  # type: ignore[type-arg]
        counts = self.counts
        icao = msg.get("icao24")
        bds = msg.get("bds")
        if not icao:
            counts.add("ignored: ADS-B without address")
            return None
        ac = self.aircraft.get(icao)
        if ac is None:
            ac = self.aircraft[icao] = AircraftMemory()
        ac.heard = t
        if bds == "08":
            callsign = (msg.get("callsign") or "").strip("_ #").strip()
            ac.callsign = callsign or None
            ac.cls = _CLASS_BY_CATEGORY.get(msg.get("wake_vortex") or "")
            counts.add("used: identification")
            return None
        if bds == "09":
            gs, trk = msg.get("groundspeed"), msg.get("track")
            if gs is None or trk is None:
                counts.add("ignored: airspeed/heading velocity (no ground track)")
                return None
            vr = msg.get("vertical_rate")
            ac.vel = _enu(gs, trk, vr)
            ac.vel_time = t if ac.vel is not None else -math.inf
            counts.add("used: velocity")
            return None
        if bds == "05" or bds == "06":
            return self._position(t, icao, ac, msg, surface=bds == "06")
        counts.add(f"ignored: ADS-B BDS {bds}")
        return None

    def _position(self, t: float, icao: str, ac: AircraftMemory, msg: dict,  # type: ignore[type-arg]
                  surface: bool) -> Detection | None:
        counts = self.counts
        lat_cpr, lon_cpr = msg.get("lat_cpr"), msg.get("lon_cpr")
        if lat_cpr is None or lon_cpr is None:
            counts.add("ignored: position message without position")
            return None
        odd = msg.get("parity") == "odd"
        half = (t, lat_cpr, lon_cpr, surface)
        if odd:
            ac.odd = half
            other = ac.even
        else:
            ac.even = half
            other = ac.odd
        window = PAIR_WINDOW_SURFACE_S if surface else PAIR_WINDOW_AIRBORNE_S
        pos: tuple[float, float] | None = None
        paired = other is not None and other[3] == surface and 0.0 <= t - other[0] <= window
        if paired:
            assert ac.even is not None and ac.odd is not None
            e, o = ac.even, ac.odd
            if surface:
                ref = self._reference(ac, t)
                if ref is None:
                    counts.add("rejected: surface position without a receiver site")
                    return None
                pos = cpr.global_surface(e[1], e[2], o[1], o[2], odd, ref[0], ref[1])
            else:
                pos = cpr.global_airborne(e[1], e[2], o[1], o[2], odd)
            if pos is None:
                counts.add("rejected: CPR pair across a latitude zone")
                return None
        elif t - ac.pos_time <= REFERENCE_AGE_S:
            pos = cpr.local(lat_cpr, lon_cpr, odd, ac.lat, ac.lon, surface)
        else:
            counts.add("used: CPR half waiting for its pair")
            return None
        lat, lon = pos
        if not -90.0 <= lat <= 90.0:
            counts.add("rejected: CPR latitude out of range")
            return None
        if t > ac.pos_time and math.isfinite(ac.pos_time):
            dt = max(t - ac.pos_time, 1.0)
            if _far(ac.lat, ac.lon, lat, lon, MAX_SPEED_MPS * dt):
                counts.add("rejected: implausible position jump")
                # Start again from a fresh pair rather than trusting either position.
                ac.pos_time = -math.inf
                return None
        if self.site is not None and _far(self.site.lat, self.site.lon, lat, lon, MAX_RANGE_M):
            counts.add("rejected: position beyond receiver range")
            return None
        ac.lat, ac.lon, ac.pos_time = lat, lon, t
        alt: float | None = None
        vel: tuple[float, float, float | None] | None = None
        if surface:
            gs, trk = msg.get("groundspeed"), msg.get("track")
            if gs is not None and trk is not None:
                vel = _enu(gs, trk, 0)
        else:
            alt_ft = msg.get("altitude")
            if alt_ft is not None and -1000 <= alt_ft <= 60000:
                alt = alt_ft * FT
            if t - ac.vel_time <= VELOCITY_AGE_S:
                vel = ac.vel
        counts.add("position")
        return Detection(
            time=t, sensor=self.sensor, kind="position", lat=lat, lon=lon, alt=alt,
            vel_e=vel[0] if vel else None, vel_n=vel[1] if vel else None,
            vel_u=vel[2] if vel else None, id=f"icao:{icao.upper()}",
            callsign=ac.callsign, class_hint=ac.cls,  # type: ignore[arg-type]
        )

    def _reference(self, ac: AircraftMemory, t: float) -> tuple[float, float] | None:
        if self.site is not None:
            return self.site.lat, self.site.lon
        if t - ac.pos_time <= REFERENCE_AGE_S:
            return ac.lat, ac.lon
        return None


def _enu(gs_kt: float, track_deg: float, vrate_fpm: float | None) -> tuple[
        float, float, float | None] | None:
    """East/north/up m/s from ground speed (kt), track (deg), vertical rate (ft/min);
    None for values no aircraft reports (the record's range check would reject them)."""
    if not (0.0 <= gs_kt <= 4000.0 and math.isfinite(track_deg)):
        return None
    if vrate_fpm is not None and not abs(vrate_fpm) <= 60000:
        vrate_fpm = None
    s = gs_kt * KT
    a = math.radians(track_deg)
    vu = None if vrate_fpm is None else vrate_fpm * FPM
    return s * math.sin(a), s * math.cos(a), vu
