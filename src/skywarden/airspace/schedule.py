"""When a zone is active: absolute validity plus daily windows, vectorized.

A zone is active at time ``t`` (epoch seconds, UTC) when ``start <= t <= end`` (both
ends included; a missing start or end is open) and, if it has daily windows, when at least
one of them holds ``t``. A daily window is a set of week days and a start and an end, each
either a UTC clock time or a sun event at the zone's reference point:

- ``SR`` sunrise and ``SS`` sunset (upper limb on the horizon: sun centre 0.833 deg
  below it, refraction included);
- ``BMCT`` begin of morning civil twilight and ``EECT`` end of evening civil twilight
  (sun centre 6 deg below the horizon).

Both ends of a window are included. A window whose end is before its start crosses
midnight: ``22:00-06:00`` or ``SS-SR``; its week days are those on which it *starts*, so
``FRI 22:00-06:00`` holds on Saturday at 05:00 and not on Friday at 05:00. ``00:00-24:00``
and a window whose clock start and end are equal last the whole day.

Sun events come from the NOAA "sunrise equation" (mean anomaly, equation of centre,
ecliptic longitude, declination, hour angle), good to about a minute between the polar
circles. In polar day a sunrise-to-sunset window lasts the whole day; in polar night it
shrinks to the moment of solar noon.

Text form, used by files and the command line: ``[DAYS ]START-END`` with DAYS ``ANY``,
``MON-FRI``, ``SAT,SUN``...; START and END ``HH:MM`` (UTC) or an event. Examples:
``SR-SS``, ``SS-SR``, ``MON-FRI 06:00-14:30``, ``SAT,SUN 22:00-06:00``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

DAY_S = 86400.0
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
ALL_DAYS = 0x7F
EVENTS = ("SR", "SS", "BMCT", "EECT")
# Kind codes of a window bound: 0 a clock time, 1.. an event (index in EVENTS + 1).
CLOCK = 0
_SUN_ALTITUDE = {"SR": -0.833, "SS": -0.833, "BMCT": -6.0, "EECT": -6.0}
_MORNING = (EVENTS.index("SR") + 1, EVENTS.index("BMCT") + 1)
_EVENING = (EVENTS.index("SS") + 1, EVENTS.index("EECT") + 1)

FloatArray = NDArray[np.float64]


# -- times ------------------------------------------------------------------------------


def parse_time(value: object, what: str = "time") -> float:
    """Epoch seconds (UTC) from a number or an ISO 8601 text.

    ``2025-09-10T20:00:00Z``, ``2025-09-10T22:00+02:00``, ``2025-09-10`` (midnight) are
    accepted; a text without an offset is read as UTC. Raises :class:`ValueError` naming
    ``what`` otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{what}: {value!r} is not a time")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            stamp = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(
                f"{what}: {value!r} is neither epoch seconds nor an ISO 8601 time "
                "(like 2025-09-10T20:00:00Z)"
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    raise ValueError(f"{what}: {value!r} is not a time")


def format_time(t: float | None) -> str:
    """ISO 8601 in UTC with a ``Z``, seconds only when not zero; ``''`` for None."""
    if t is None or not math.isfinite(t):
        return ""
    stamp = datetime.fromtimestamp(t, tz=UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S" if stamp.second or stamp.microsecond else
                          "%Y-%m-%dT%H:%M")
    return text + "Z"


# -- daily windows --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """Hours of the day a zone is active, on some week days.

    ``days``: bit mask, Monday = bit 0 ... Sunday = bit 6. ``start`` and ``end``: seconds
    after 00:00 UTC (``end`` may be 86400 for 24:00) or an event name of :data:`EVENTS`.
    """

    days: int = ALL_DAYS
    start: float | str = 0.0
    end: float | str = DAY_S

    def __post_init__(self) -> None:
        if not 0 < self.days <= ALL_DAYS:
            raise ValueError(f"daily window: day mask {self.days} is empty or too large")
        for name, bound in (("start", self.start), ("end", self.end)):
            if isinstance(bound, str):
                if bound not in EVENTS:
                    raise ValueError(f"daily window {name}: {bound!r} is not one of "
                                     f"{', '.join(EVENTS)}")
            elif not 0.0 <= float(bound) <= DAY_S:
                raise ValueError(f"daily window {name}: {bound} s is not within a day")

    def __str__(self) -> str:
        text = f"{_format_bound(self.start)}-{_format_bound(self.end)}"
        return text if self.days == ALL_DAYS else f"{format_days(self.days)} {text}"

    def shifted(self, seconds: float) -> DailyWindow:
        """The same window with its clock bounds moved by ``seconds`` (local to UTC).

        When the start leaves the day, the week days move with it. Event bounds are
        not moved: sun events do not depend on a clock.
        """
        days, start, end = self.days, self.start, self.end
        if isinstance(start, float | int):
            moved = float(start) + seconds
            shift_days = math.floor(moved / DAY_S)
            days = _rotate_days(days, shift_days)
            start = moved - shift_days * DAY_S
        if isinstance(end, float | int):
            end = (float(end) + seconds) % DAY_S
        return DailyWindow(days, start, end)


_WINDOW_RE = re.compile(
    r"^\s*(?:(?P<days>[A-Za-z,\-]+)\s+)?(?P<start>\d{1,2}:\d{2}|[A-Za-z]+)\s*-\s*"
    r"(?P<end>\d{1,2}:\d{2}|[A-Za-z]+)\s*$"
)


def parse_window(text: str) -> DailyWindow:
    """A :class:`DailyWindow` from its text form (see the module docstring)."""
    m = _WINDOW_RE.match(text)
    if not m:
        raise ValueError(f"daily window {text!r} is not '[DAYS ]START-END' "
                         "(like 'MON-FRI 06:00-18:00' or 'SS-SR')")
    days = parse_days(m["days"]) if m["days"] else ALL_DAYS
    return DailyWindow(days, _parse_bound(m["start"]), _parse_bound(m["end"]))


def parse_days(text: str | list[str]) -> int:
    """Day mask from ``MON-FRI``, ``SAT,SUN``, ``ANY`` or a list of day names."""
    parts = text if isinstance(text, list) else text.replace(" ", "").split(",")
    mask = 0
    for part in parts:
        part = str(part).strip().upper()
        if part in ("ANY", "ALL", "DAILY"):
            mask |= ALL_DAYS
        elif "-" in part:
            a, b = part.split("-", 1)
            if a not in DAYS or b not in DAYS:
                raise ValueError(f"days {part!r}: use MON TUE WED THU FRI SAT SUN")
            i, j = DAYS.index(a), DAYS.index(b)
            for k in range(7):
                if (k - i) % 7 <= (j - i) % 7:
                    mask |= 1 << k
        elif part in DAYS:
            mask |= 1 << DAYS.index(part)
        else:
            raise ValueError(f"day {part!r}: use MON TUE WED THU FRI SAT SUN or ANY")
    if not mask:
        raise ValueError("no week days given")
    return mask


def format_days(mask: int) -> str:
    """``ANY``, ``MON-FRI``, ``SAT,SUN``, ``FRI-MON``: runs of three days or more as ranges."""
    if mask == ALL_DAYS:
        return "ANY"

    def on(i: int) -> bool:
        return bool(mask >> (i % 7) & 1)

    parts = []
    for first in range(7):
        if on(first) and not on(first - 1):
            last = first
            while on(last + 1):
                last += 1
            run = [DAYS[i % 7] for i in range(first, last + 1)]
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(run))
    return ",".join(parts)


def parse_clock(text: str) -> float:
    """Seconds after midnight from ``HH:MM`` or ``HH:MM:SS`` (``24:00`` allowed)."""
    parts = text.strip().split(":")
    try:
        h, m = int(parts[0]), int(parts[1])
        s = float(parts[2]) if len(parts) > 2 else 0.0
    except (ValueError, IndexError):
        raise ValueError(f"time of day {text!r} is not HH:MM") from None
    seconds = h * 3600 + m * 60 + s
    if not (0 <= m < 60 and 0 <= s < 60 and 0 <= seconds <= DAY_S) or len(parts) > 3:
        raise ValueError(f"time of day {text!r} is not between 00:00 and 24:00")
    return float(seconds)


def _parse_bound(text: str) -> float | str:
    upper = text.strip().upper()
    if upper in EVENTS:
        return upper
    if ":" not in upper:
        raise ValueError(f"{text!r} is neither HH:MM nor one of {', '.join(EVENTS)}")
    return parse_clock(upper)


def _format_bound(bound: float | str) -> str:
    if isinstance(bound, str):
        return bound
    minutes = round(float(bound) / 60.0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _rotate_days(mask: int, shift: int) -> int:
    shift %= 7
    return ((mask << shift) | (mask >> (7 - shift))) & ALL_DAYS


# -- vectorized evaluation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowTable:
    """Daily windows of many zones as columns (see :func:`window_table`)."""

    zone: NDArray[np.intp]  # owning zone of each window, ascending
    days: NDArray[np.int64]
    start_kind: NDArray[np.int8]  # CLOCK or 1 + index in EVENTS
    start: FloatArray  # seconds of day for CLOCK bounds
    end_kind: NDArray[np.int8]
    end: FloatArray


def window_table(per_zone: list[tuple[DailyWindow, ...]]) -> WindowTable:
    rows = [(z, w) for z, windows in enumerate(per_zone) for w in windows]

    def kind(b: float | str) -> int:
        return EVENTS.index(b) + 1 if isinstance(b, str) else CLOCK

    def value(b: float | str) -> float:
        return 0.0 if isinstance(b, str) else float(b)

    return WindowTable(
        zone=np.array([z for z, _ in rows], dtype=np.intp),
        days=np.array([w.days for _, w in rows], dtype=np.int64),
        start_kind=np.array([kind(w.start) for _, w in rows], dtype=np.int8),
        start=np.array([value(w.start) for _, w in rows], dtype=np.float64),
        end_kind=np.array([kind(w.end) for _, w in rows], dtype=np.int8),
        end=np.array([value(w.end) for _, w in rows], dtype=np.float64),
    )


def windows_active(
    t: FloatArray, table: WindowTable, w: NDArray[np.intp], lat: FloatArray, lon: FloatArray
) -> NDArray[np.bool_]:
    """Whether window ``w[i]`` holds time ``t[i]``; ``lat``/``lon`` per element for events.

    The window may have started the day before ``t`` (crossing midnight) or on its day.
    """
    t = np.asarray(t, dtype=np.float64)
    day = np.floor(t / DAY_S)
    out = np.zeros(t.shape, dtype=bool)
    days, sk, sv = table.days[w], table.start_kind[w], table.start[w]
    ek, ev = table.end_kind[w], table.end[w]
    for back in (1.0, 0.0):
        d = day - back
        s = d * DAY_S + _bound(sk, sv, d, lat, lon)
        e = d * DAY_S + _bound(ek, ev, d, lat, lon)
        both_clock = (sk == CLOCK) & (ek == CLOCK)
        # Evening to morning events always cross midnight, even in polar night when
        # sunset and sunrise meet at noon; equal clock times make a whole day.
        evening_to_morning = np.isin(sk, _EVENING) & np.isin(ek, _MORNING)
        crosses = (e < s) | (both_clock & (e == s)) | evening_to_morning
        if crosses.any():
            e_next = (d + 1.0) * DAY_S + _bound(ek, ev, d + 1.0, lat, lon)
            e = np.where(crosses, e_next, e)
        weekday = ((d + 3.0) % 7.0).astype(np.int64)  # 1970-01-01 was a Thursday
        on_day = (days >> weekday) & 1 == 1
        out |= on_day & (s <= t) & (t <= e)
    return out


def _bound(
    kind: NDArray[np.int8], clock: FloatArray, day: FloatArray, lat: FloatArray, lon: FloatArray
) -> FloatArray:
    """Seconds after 00:00 UTC of ``day`` for each bound (clock time or sun event)."""
    out = np.array(clock, dtype=np.float64, copy=True)
    for code, event in enumerate(EVENTS, start=1):
        sel = kind == code
        if sel.any():
            out[sel] = sun_event(event, day[sel], lat[sel], lon[sel])
    return out


def sun_event(event: str, day: FloatArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Seconds after 00:00 UTC of ``day`` (days since 1970-01-01) of a sun event.

    NOAA sunrise equation; ``lon`` east positive. Morning events (SR, BMCT) come before
    solar noon, evening ones (SS, EECT) after it. Without the event that day (polar day
    or night) the hour angle is clipped: 12 h from noon in polar day, noon itself in
    polar night.
    """
    day = np.asarray(day, dtype=np.float64)
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    lon = np.asarray(lon, dtype=np.float64)
    # Julian day of the UTC noon of `day` counted from J2000, shifted to local solar noon.
    j_star = (day + 2440587.5 + 0.5 - 2451545.0) - lon / 360.0
    m = np.radians((357.5291 + 0.98560028 * j_star) % 360.0)
    c = 1.9148 * np.sin(m) + 0.0200 * np.sin(2 * m) + 0.0003 * np.sin(3 * m)
    ecl = np.radians((np.degrees(m) + c + 180.0 + 102.9372) % 360.0)
    transit = 2451545.0 + j_star + 0.0053 * np.sin(m) - 0.0069 * np.sin(2 * ecl)
    sin_dec = np.sin(ecl) * np.sin(np.radians(23.4397))
    cos_dec = np.sqrt(1.0 - sin_dec**2)
    h0 = np.radians(_SUN_ALTITUDE[event])
    cos_w = (np.sin(h0) - np.sin(lat_r) * sin_dec) / (np.cos(lat_r) * cos_dec)
    w = np.degrees(np.arccos(np.clip(cos_w, -1.0, 1.0)))
    jd = transit - w / 360.0 if event in ("SR", "BMCT") else transit + w / 360.0
    result: FloatArray = (jd - 2440587.5 - day) * DAY_S
    return result
