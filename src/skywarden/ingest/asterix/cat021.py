"""CAT021 ADS-B target reports (editions 2.2-2.7, and 0.23-0.26) -> ``position`` Detections.

Items read (all others are skipped by their length)::

    I010  SAC (8) | SIC (8)                              the ground station
    I040  ATP (3) ARC (2) RC RAB FX | DCR GBS SIM TST SAA CL (2) FX | ...
    I071  time of applicability for position (24), LSB 1/128 s
    I073  time of message reception for position (24)     (when I071 is absent)
    I130  latitude (24, signed) | longitude (24, signed), LSB 180/2^23 deg
    I131  latitude (32, signed) | longitude (32, signed), LSB 180/2^30 deg  (preferred)
    I080  target address (24)
    I140  geometric height (16, signed), LSB 6.25 ft
    I145  flight level (16, signed), LSB 1/4 FL               (when I140 is absent)
    I160  RE | ground speed (15), LSB 2^-14 NM/s | track angle (16), LSB 360/2^16 deg
    I157  RE | geometric vertical rate (15, signed), LSB 6.25 ft/min
    I155  RE | barometric vertical rate (15, signed)          (when I157 is absent)
    I070  spare (4) | Mode 3/A code (12)
    I170  target identification: eight 6-bit ICAO characters (48)
    I090  NUCr/NACv (3) NUCp/NIC (4) FX | NICbaro SIL (2) NACp (4) FX | ...
    I020  emitter category (8)

NACp bounds the 95 % horizontal position error (EPU, DO-260B 2.2.3.2.7.2.7); for a
circular normal error the 95 % radius is about 2.45 sigma, so ``sigma_h = EPU / 2.45``.
Geometric height is above the WGS84 ellipsoid, not sea level (about 30-55 m apart in
Europe, left uncorrected); a flight level is a pressure altitude. Both are carried as ``alt``.
A value with its RE bit set ("exceeds the range") is left out.

Editions 0.23 to 0.26 (:func:`decode_v02`) carry the same quantities in another layout:
I030 time of day (the time of the report, 1/128 s), I130 position (24-bit halves at
180/2^23 deg in 0.23, 32-bit halves at 180/2^25 deg from 0.24 on), I040 in two octets
(DCR GBS SIM TST RAB SAA SPI), I090's PA (position accuracy, read on the NACp scale: a
DO-260 NUCp of the same value bounds the error more tightly, so sigma is conservative),
I160 with a signed ground speed and no RE bit, vertical rates without one; I070 only in 0.26.
"""

from __future__ import annotations

import math

from ...records import Detection, TargetClass
from .fields import (
    FT_PER_MIN,
    NM,
    altitude,
    callsign,
    dated,
    icao,
    source,
    squawk,
)

I010, I040, I071, I130, I131, I080, I073 = 1, 2, 5, 6, 7, 11, 12
I140, I090, I070, I145, I155, I157, I160, I170, I020 = 16, 17, 19, 21, 24, 25, 26, 29, 30
LAT24 = 180.0 / (1 << 23)
LAT32 = 180.0 / (1 << 30)
GS_MPS = NM / (1 << 14)
TA_RAD = 2.0 * math.pi / 65536.0
# NACp -> 95 % bound (EPU) in metres; 0 = unknown.
EPU_M = (None, 18520.0, 7408.0, 3704.0, 1852.0, 926.0, 555.6, 185.2, 92.6, 30.0, 10.0, 3.0)
SIGMA_PER_95 = 1.0 / 2.45
# Emitter category (I020) -> class hint; absent: no hint.
CLASS_BY_ECAT: dict[int, TargetClass] = {
    1: "aircraft", 2: "aircraft", 3: "aircraft", 4: "aircraft", 5: "aircraft",
    6: "aircraft", 10: "helicopter", 11: "aircraft", 12: "balloon", 13: "drone",
    15: "aircraft",
}


def _rate(data: bytes, o: int) -> float | None:
    """A vertical rate (RE, 15-bit signed, 6.25 ft/min) in m/s; None with RE set."""
    v = (data[o] << 8) | data[o + 1]
    if v & 0x8000:
        return None
    if v & 0x4000:
        v -= 0x8000
    return v * 6.25 * FT_PER_MIN


def decode(data: bytes, w: list[int], sources: dict[int, str], received: float) -> (
        Detection | str):
    """The Detection of one record whose items are at offsets ``w`` (by FRN), or the
    outcome to count when it gives none."""
    sensor, why = source(data, w[I010], sources, 21)
    if sensor is None:
        return why
    o = w[I040]
    if o:
        b = data[o]
        if b & 1 and data[o + 1] & 0x30:
            return "ignored: simulated/test target"
        if b & 0x02:
            return "ignored: field monitor (fixed transponder)"
    o = w[I131]
    if o:
        lat = int.from_bytes(data[o:o + 4], "big", signed=True) * LAT32
        lon = int.from_bytes(data[o + 4:o + 8], "big", signed=True) * LAT32
    else:
        o = w[I130]
        if not o:
            return "ignored: CAT021 record without position (I130/I131)"
        lat = int.from_bytes(data[o:o + 3], "big", signed=True) * LAT24
        lon = int.from_bytes(data[o + 3:o + 6], "big", signed=True) * LAT24
    if not -90.0 <= lat <= 90.0:
        return "rejected: lat out of range"
    if not -180.0 <= lon <= 180.0:
        return "rejected: lon out of range"
    o = w[I071] or w[I073]
    if not o:
        return "rejected: CAT021 record without time of position (I071/I073)"
    t = dated(data, o, received)
    if isinstance(t, str):
        return t
    alt = altitude(data, w[I140], w[I145])
    if isinstance(alt, str):
        return alt
    ve = vn = vu = sq = ident = cs = sigma = hint = None
    o = w[I160]
    if o and not data[o] & 0x80:
        gs = (((data[o] & 0x7F) << 8) | data[o + 1]) * GS_MPS
        ta = ((data[o + 2] << 8) | data[o + 3]) * TA_RAD
        ve = gs * math.sin(ta)
        vn = gs * math.cos(ta)
    o = w[I157] or w[I155]
    if o:
        vu = _rate(data, o)
    o = w[I070]
    if o:
        sq = squawk((data[o] << 8) | data[o + 1])
    o = w[I080]
    if o:
        ident = icao((data[o] << 16) | (data[o + 1] << 8) | data[o + 2])
    o = w[I170]
    if o:
        cs = callsign(data, o)
    o = w[I090]
    if o and data[o] & 1:
        nacp = (data[o + 1] >> 1) & 0x0F
        if 0 < nacp < len(EPU_M):
            epu = EPU_M[nacp]
            sigma = epu * SIGMA_PER_95 if epu else None
    o = w[I020]
    if o:
        hint = CLASS_BY_ECAT.get(data[o])
    return Detection(
        time=t, sensor=sensor, lat=lat, lon=lon, alt=alt, sigma_h=sigma, vel_e=ve, vel_n=vn,
        vel_u=vu, squawk=sq, id=ident, callsign=cs, class_hint=hint,
    )


# Edition 0.23-0.26 FRNs (uap.CAT021_V023, _V024, _V026).
V02_I010, V02_I040, V02_I030, V02_I130, V02_I080, V02_I140, V02_I090 = 1, 2, 3, 4, 5, 6, 7
V02_I145, V02_I155, V02_I157, V02_I160, V02_I170, V02_I020, V02_I070 = 10, 14, 15, 16, 18, 22, 27
LAT25 = 180.0 / (1 << 25)


def decode_v023(data: bytes, w: list[int], sources: dict[int, str], received: float) -> (
        Detection | str):
    """:func:`decode_v02` for edition 0.23 (I130 in 24-bit halves)."""
    return decode_v02(data, w, sources, received, wide=False)


def decode_v024(data: bytes, w: list[int], sources: dict[int, str], received: float) -> (
        Detection | str):
    """:func:`decode_v02` for editions 0.24 to 0.26 (I130 in 32-bit halves)."""
    return decode_v02(data, w, sources, received, wide=True)


def decode_v02(data: bytes, w: list[int], sources: dict[int, str], received: float,
               wide: bool) -> Detection | str:
    """The Detection of one edition 0.2x record (module docstring), or the outcome to
    count when it gives none."""
    sensor, why = source(data, w[V02_I010], sources, 21)
    if sensor is None:
        return why
    o = w[V02_I040]
    if o:
        b = data[o]
        if b & 0x30:
            return "ignored: simulated/test target"
        if b & 0x08:
            return "ignored: field monitor (fixed transponder)"
    o = w[V02_I130]
    if not o:
        return "ignored: CAT021 record without position (I130)"
    if wide:
        lat = int.from_bytes(data[o:o + 4], "big", signed=True) * LAT25
        lon = int.from_bytes(data[o + 4:o + 8], "big", signed=True) * LAT25
    else:
        lat = int.from_bytes(data[o:o + 3], "big", signed=True) * LAT24
        lon = int.from_bytes(data[o + 3:o + 6], "big", signed=True) * LAT24
    if not -90.0 <= lat <= 90.0:
        return "rejected: lat out of range"
    if not -180.0 <= lon <= 180.0:
        return "rejected: lon out of range"
    o = w[V02_I030]
    if not o:
        return "rejected: CAT021 record without time of day (I030)"
    t = dated(data, o, received)
    if isinstance(t, str):
        return t
    alt = altitude(data, w[V02_I140], w[V02_I145])
    if isinstance(alt, str):
        return alt
    ve = vn = vu = sq = ident = cs = sigma = hint = None
    o = w[V02_I160]
    if o:
        gs = int.from_bytes(data[o:o + 2], "big", signed=True) * GS_MPS
        if gs >= 0.0:  # a negative ground speed is no speed at all
            ta = ((data[o + 2] << 8) | data[o + 3]) * TA_RAD
            ve = gs * math.sin(ta)
            vn = gs * math.cos(ta)
    o = w[V02_I157] or w[V02_I155]
    if o:
        vu = int.from_bytes(data[o:o + 2], "big", signed=True) * 6.25 * FT_PER_MIN
    o = w[V02_I070]
    if o:
        sq = squawk((data[o] << 8) | data[o + 1])
    o = w[V02_I080]
    if o:
        ident = icao((data[o] << 16) | (data[o + 1] << 8) | data[o + 2])
    o = w[V02_I170]
    if o:
        cs = callsign(data, o)
    o = w[V02_I090]
    if o:
        pa = data[o + 1] & 0x0F
        if 0 < pa < len(EPU_M):
            epu = EPU_M[pa]
            sigma = epu * SIGMA_PER_95 if epu else None
    o = w[V02_I020]
    if o:
        hint = CLASS_BY_ECAT.get(data[o])
    return Detection(
        time=t, sensor=sensor, lat=lat, lon=lon, alt=alt, sigma_h=sigma, vel_e=ve, vel_n=vn,
        vel_u=vu, squawk=sq, id=ident, callsign=cs, class_hint=hint,
    )
