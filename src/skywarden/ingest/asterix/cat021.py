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

Editions 0.23 to 0.26 (:data:`V023`, :data:`V024`) carry the same quantities in another layout:
I030 time of day (the time of the report, 1/128 s), I130 position (24-bit halves at
180/2^23 deg in 0.23, 32-bit halves at 180/2^25 deg from 0.24 on), I040 in two octets
(DCR GBS SIM TST RAB SAA SPI), I090's PA (position accuracy, read on the NACp scale: a
DO-260 NUCp of the same value bounds the error more tightly, so sigma is conservative),
I160 with a signed ground speed and no RE bit, vertical rates without one; I070 only in 0.26.
"""

from __future__ import annotations

import math
from typing import NamedTuple

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

LAT23 = 180.0 / (1 << 23)
LAT25 = 180.0 / (1 << 25)
LAT30 = 180.0 / (1 << 30)
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


class Layout(NamedTuple):
    """Where an edition puts the items read (FRN; 0: the edition has none, and ``w[0]``
    is always 0) and how it codes the ones that differ between 2.x and 0.2x."""

    i010: int
    i040: int
    time: int  # time of the position (2.x I071, 0.2x I030) ...
    time_else: int  # ... else this one (2.x I073)
    i131: int  # high-resolution position (2.x)
    i130: int
    lat_lsb: float  # of I130
    i080: int
    i140: int
    i145: int
    i160: int
    vrate: int  # geometric vertical rate, else
    vrate_else: int  # barometric
    i070: int
    i170: int
    i090: int
    i020: int
    v02: bool  # 0.2x: two-octet I040, PA in I090, no RE bits, signed ground speed


V2 = Layout(i010=1, i040=2, time=5, time_else=12, i131=7, i130=6, lat_lsb=LAT23, i080=11,
            i140=16, i145=21, i160=26, vrate=25, vrate_else=24, i070=19, i170=29, i090=17,
            i020=30, v02=False)
V023 = Layout(i010=1, i040=2, time=3, time_else=0, i131=0, i130=4, lat_lsb=LAT23, i080=5,
              i140=6, i145=10, i160=16, vrate=15, vrate_else=14, i070=27, i170=18, i090=7,
              i020=22, v02=True)  # FRN 27 is spare before 0.26, so never set
V024 = V023._replace(lat_lsb=LAT25)  # 0.24 to 0.26: I130 in 32-bit halves
# The layout of each edition a sensor may name (uap.CAT021_EDITIONS); 2.x: V2.
LAYOUTS = {"0.23": V023, "0.24": V024, "0.25": V024, "0.26": V024}


def _rate(data: bytes, o: int, re_bit: bool) -> float | None:
    """A vertical rate (6.25 ft/min, signed) in m/s: 15 bits after an RE bit (2.x; None
    with RE set), or 16 bits (0.2x)."""
    v = int.from_bytes(data[o:o + 2], "big", signed=not re_bit)
    if re_bit:
        if v & 0x8000:
            return None
        if v & 0x4000:
            v -= 0x8000
    return v * 6.25 * FT_PER_MIN


def decode(data: bytes, w: list[int], sources: dict[int, str], received: float,
           lay: Layout = V2) -> Detection | str:
    """The Detection of one record whose items are at offsets ``w`` (by FRN), laid out as
    ``lay`` (default edition 2.x), or the outcome to count when it gives none."""
    # the layout's fields as locals: a named tuple's attributes cost a call each
    (i010, i040, i_time, i_time_else, i131, i130, lat_lsb, i080, i140, i145, i160, i_rate,
     i_rate_else, i070, i170, i090, i020, v02) = lay
    sensor, why = source(data, w[i010], sources, 21)
    if sensor is None:
        return why
    o = w[i040]
    if o:
        b = data[o]
        if v02:  # DCR GBS SIM TST RAB SAA SPI spare
            simulated, monitor = b & 0x30, b & 0x08
        else:  # ATP ARC RC RAB FX | DCR GBS SIM TST SAA CL FX
            simulated, monitor = b & 1 and data[o + 1] & 0x30, b & 0x02
        if simulated:
            return "ignored: simulated/test target"
        if monitor:
            return "ignored: field monitor (fixed transponder)"
    o = w[i131]
    if o:
        lat = int.from_bytes(data[o:o + 4], "big", signed=True) * LAT30
        lon = int.from_bytes(data[o + 4:o + 8], "big", signed=True) * LAT30
    else:
        o = w[i130]
        if not o:
            return ("ignored: CAT021 record without position (I130"
                    + (")" if v02 else "/I131)"))
        half = 4 if lat_lsb == LAT25 else 3
        lat = int.from_bytes(data[o:o + half], "big", signed=True) * lat_lsb
        lon = int.from_bytes(data[o + half:o + 2 * half], "big", signed=True) * lat_lsb
    if not -90.0 <= lat <= 90.0:
        return "rejected: lat out of range"
    if not -180.0 <= lon <= 180.0:
        return "rejected: lon out of range"
    o = w[i_time] or w[i_time_else]
    if not o:
        return ("rejected: CAT021 record without time of day (I030)" if v02 else
                "rejected: CAT021 record without time of position (I071/I073)")
    t = dated(data, o, received)
    if isinstance(t, str):
        return t
    alt = altitude(data, w[i140], w[i145])
    if isinstance(alt, str):
        return alt
    ve = vn = vu = sq = ident = cs = sigma = hint = None
    o = w[i160]
    if o:
        # 2.x: RE bit, 15-bit speed; 0.2x: a signed speed (a negative one is no speed)
        gs_raw = (int.from_bytes(data[o:o + 2], "big", signed=True) if v02
                  else -1 if data[o] & 0x80 else ((data[o] & 0x7F) << 8) | data[o + 1])
        if gs_raw >= 0:
            gs = gs_raw * GS_MPS
            ta = ((data[o + 2] << 8) | data[o + 3]) * TA_RAD
            ve = gs * math.sin(ta)
            vn = gs * math.cos(ta)
    o = w[i_rate] or w[i_rate_else]
    if o:
        vu = _rate(data, o, re_bit=not v02)
    o = w[i070]
    if o:
        sq = squawk((data[o] << 8) | data[o + 1])
    o = w[i080]
    if o:
        ident = icao((data[o] << 16) | (data[o + 1] << 8) | data[o + 2])
    o = w[i170]
    if o:
        cs = callsign(data, o)
    o = w[i090]
    if o:
        # 0.2x: PA, the low four bits of the second octet; 2.x: NACp, in its first
        # extension (bits 5-2 of the second octet)
        accuracy = (data[o + 1] & 0x0F if v02 else
                    (data[o + 1] >> 1) & 0x0F if data[o] & 1 else 0)
        if 0 < accuracy < len(EPU_M):
            epu = EPU_M[accuracy]
            sigma = epu * SIGMA_PER_95 if epu else None
    o = w[i020]
    if o:
        hint = CLASS_BY_ECAT.get(data[o])
    return Detection(
        time=t, sensor=sensor, lat=lat, lon=lon, alt=alt, sigma_h=sigma, vel_e=ve, vel_n=vn,
        vel_u=vu, squawk=sq, id=ident, callsign=cs, class_hint=hint,
    )
