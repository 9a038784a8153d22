"""SBS-1 BaseStation CSV (port 30003 of dump1090/readsb) -> ``position`` Detections.

The receiver has already decoded the Mode S messages; each line is one message::

    MSG,3,1,1,4840D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,38000,,,52.25720,3.91937,,,0,,0,0
    1   2 3 4 5      6 7          8            9          10           11 12  13 14 15   16  17 18 19 20 21 22

    2 transmission type: 1 identification (11 callsign), 2 surface position (12 altitude,
      13 ground speed kt, 14 track deg, 15 lat, 16 lon), 3 airborne position (12, 15, 16),
      4 airborne velocity (13, 14, 17 vertical rate ft/min), 5-8 surveillance, squawk,
      air-to-air, all-call replies (no position)
    5 ICAO address (hex); 7, 8 date and time the message was generated, taken as UTC

Velocity and callsign lines are remembered per aircraft and attached to the next positions
(velocity while younger than 10 s). :meth:`SbsDecoder.line` never raises; every line is
counted once (:mod:`.counts`).
"""

from __future__ import annotations

import calendar
import math

from ..records import Detection
from .counts import FeedCounts
from .modes import FT, VELOCITY_AGE_S, _enu


def sbs_time(date: str, clock: str) -> float:
    """'2024/07/06', '06:43:09.525' -> epoch seconds (UTC). Raises ValueError."""
    y, mo, d = date.split("/")
    h, mi, s = clock.split(":")
    sec = float(s)
    if not (0.0 <= sec < 61.0) or not math.isfinite(sec):
        raise ValueError("seconds")
    whole = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), 0, 0, 0, 0))
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and 0 <= int(h) < 24
            and 0 <= int(mi) < 60):
        raise ValueError("date")
    return whole + sec


def _num(field: str) -> float | None:
    """A numeric field: None when empty (not sent); "nan" or "inf" is no value a
    receiver sends for an absent one, so it is a malformed line (ValueError)."""
    if not field:
        return None
    v = float(field)
    if not math.isfinite(v):
        raise ValueError(f"not a finite number: {field!r}")
    return v


class _Heard:
    """What one aircraft's earlier lines told us."""

    __slots__ = ("callsign", "vel", "vel_time")

    def __init__(self) -> None:
        self.callsign: str | None = None
        self.vel: tuple[float, float, float | None] | None = None
        self.vel_time = -math.inf


class SbsDecoder:
    """SBS lines -> Detections with per-aircraft velocity and callsign memory."""

    def __init__(self, sensor: str, counts: FeedCounts | None = None) -> None:
        self.sensor = sensor
        self.counts = counts if counts is not None else FeedCounts()
        self.aircraft: dict[str, _Heard] = {}

    def line(self, raw: bytes) -> Detection | None:
        """One line (bytes, any line end). Bad lines are counted and give None."""
        counts = self.counts
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            counts.add("rejected: SBS line not ASCII")
            return None
        if not text:
            counts.add("ignored: blank line")
            return None
        f = text.split(",")
        if f[0] != "MSG":
            if f[0] in ("SEL", "ID", "AIR", "STA", "CLK"):
                counts.add(f"ignored: SBS {f[0]} line")
            else:
                counts.add("rejected: SBS line not MSG,...")
            return None
        if len(f) < 17:
            counts.add("rejected: SBS line with too few fields")
            return None
        icao = f[4].strip().upper()
        if len(icao) != 6 or any(c not in "0123456789ABCDEF" for c in icao):
            counts.add("rejected: SBS address not 6 hex digits")
            return None
        try:
            t = sbs_time(f[6], f[7])
            kind = int(f[1])
            alt_ft, gs, trk, lat, lon, vr = (_num(f[11]), _num(f[12]), _num(f[13]),
                                              _num(f[14]), _num(f[15]), _num(f[16]))
        except (ValueError, OverflowError):
            counts.add("rejected: SBS field not a number or date")
            return None
        mem = self.aircraft.get(icao)
        if mem is None:
            mem = self.aircraft[icao] = _Heard()
        if kind == 1:
            mem.callsign = f[10].strip() or None
            counts.add("used: identification")
            return None
        if kind == 4:
            if gs is None or trk is None:
                counts.add("ignored: SBS velocity without ground speed")
                return None
            mem.vel = _enu(gs, trk, vr)
            mem.vel_time = t if mem.vel is not None else -math.inf
            counts.add("used: velocity")
            return None
        if kind not in (2, 3):
            counts.add(f"ignored: SBS MSG,{kind} (no position)" if 5 <= kind <= 8
                       else "rejected: SBS transmission type not 1-8")
            return None
        if lat is None or lon is None:
            counts.add("ignored: SBS position line without position")
            return None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            counts.add("rejected: SBS position out of range")
            return None
        alt = alt_ft * FT if alt_ft is not None and -1000 <= alt_ft <= 60000 else None
        vel = None
        if kind == 2 and gs is not None and trk is not None:
            vel = _enu(gs, trk, 0)
            alt = None
        elif kind == 3 and t - mem.vel_time <= VELOCITY_AGE_S:
            vel = mem.vel
        counts.add("position")
        return Detection(
            time=t, sensor=self.sensor, kind="position", lat=lat, lon=lon, alt=alt,
            vel_e=vel[0] if vel else None, vel_n=vel[1] if vel else None,
            vel_u=vel[2] if vel else None, id=f"icao:{icao}", callsign=mem.callsign,
        )
