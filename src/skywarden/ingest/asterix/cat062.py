"""CAT062 system tracks (another tracker's output) -> ``position`` Detections.

Items read (edition 1.16-1.21; all others are skipped by their length)::

    I010  SAC (8) | SIC (8)                                 the tracker (data source)
    I070  time of track information (24), LSB 1/128 s
    I105  latitude (32, signed) | longitude (32, signed), LSB 180/2^25 deg  (WGS84)
    I130  geometric altitude (16, signed), LSB 6.25 ft
    I136  measured flight level (16, signed), LSB 1/4 FL          (when I130 is absent)
    I185  Vx east (16, signed) | Vy north (16, signed), LSB 0.25 m/s
    I220  rate of climb/descent (16, signed), LSB 6.25 ft/min
    I060  V G CH spare | Mode 3/A code (12 bits); V, G spare before 1.17
    I080  MON SPI MRH SRC (3) CNF FX | SIM TSE TSB FPC AFF STP KOS FX | ...
    I380  compound: ADR target address (24), ID target identification (48), ...
    I500  compound: APC estimated accuracy of position x, y (16 each), LSB 0.5 m, ...

A track of another system is a smoothed estimate, not a plot: it enters our tracker as a
``position`` report of a ``track_feed`` sensor. The system track number (I040) names a
track in the other system, not an aircraft, so it is not carried as ``id``; only a Mode S
address (I380/ADR) is.
"""

from __future__ import annotations

import math
from typing import Any, cast

from ...records import Detection
from .blocks import compound
from .fields import (
    FT_PER_MIN,
    altitude,
    callsign,
    dated,
    icao,
    source,
    squawk,
)
from .uap import CAT062

I010, I070, I105, I185, I060, I380, I080 = 1, 4, 5, 7, 9, 11, 13
I136, I130, I220, I500 = 17, 18, 20, 27
LATLON_DEG = 180.0 / (1 << 25)
_I380 = cast(tuple[Any, ...], CAT062.items[I380])
_I500 = cast(tuple[Any, ...], CAT062.items[I500])
_SQRT_HALF = math.sqrt(0.5)


def _s16(data: bytes, o: int) -> int:
    v = (data[o] << 8) | data[o + 1]
    return v - 0x10000 if v & 0x8000 else v


def _s32(data: bytes, o: int) -> int:
    return int.from_bytes(data[o:o + 4], "big", signed=True)


def decode(data: bytes, w: list[int], sources: dict[int, str], received: float) -> (
        Detection | str):
    """The Detection of one record whose items are at offsets ``w`` (by FRN), or the
    outcome to count when it gives none."""
    sensor, why = source(data, w[I010], sources, 62)
    if sensor is None:
        return why
    o = w[I080]
    if o and data[o] & 1 and data[o + 1] & 0x80:
        return "ignored: simulated/test target"
    o = w[I105]
    if not o:
        return "ignored: CAT062 record without WGS84 position (I105)"
    lat = _s32(data, o) * LATLON_DEG
    lon = _s32(data, o + 4) * LATLON_DEG
    if not -90.0 <= lat <= 90.0:
        return "rejected: lat out of range"
    if not -180.0 <= lon <= 180.0:
        return "rejected: lon out of range"
    o = w[I070]
    if not o:
        return "rejected: CAT062 record without time of track information (I070)"
    t = dated(data, o, received)
    if isinstance(t, str):
        return t
    alt = altitude(data, w[I130], w[I136])
    if isinstance(alt, str):
        return alt
    ve = vn = vu = sq = ident = cs = sigma = None
    o = w[I185]
    if o:
        ve = _s16(data, o) * 0.25
        vn = _s16(data, o + 2) * 0.25
    o = w[I220]
    if o:
        vu = _s16(data, o) * 6.25 * FT_PER_MIN
    o = w[I060]
    if o and not data[o] & 0xC0:  # V (not validated) and G (garbled), 1.17 on
        sq = squawk((data[o] << 8) | data[o + 1])
    o = w[I380]
    if o:
        # already walked once to find the record's end, so it cannot be malformed here
        sub, _ = compound(data, o, len(data), _I380, "I062/380")
        if sub[1]:
            a = sub[1]
            ident = icao((data[a] << 16) | (data[a + 1] << 8) | data[a + 2])
        if sub[2]:
            cs = callsign(data, sub[2])
    o = w[I500]
    if o:
        sub, _ = compound(data, o, len(data), _I500, "I062/500")
        a = sub[1]
        if a:
            sx = ((data[a] << 8) | data[a + 1]) * 0.5
            sy = ((data[a + 2] << 8) | data[a + 3]) * 0.5
            if sx > 0.0 and sy > 0.0:
                sigma = math.hypot(sx, sy) * _SQRT_HALF
    return Detection(
        time=t, sensor=sensor, lat=lat, lon=lon, alt=alt, sigma_h=sigma, vel_e=ve, vel_n=vn,
        vel_u=vu, squawk=sq, id=ident, callsign=cs,
    )

