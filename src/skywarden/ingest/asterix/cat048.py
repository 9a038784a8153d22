"""CAT048 monoradar target reports -> ``polar`` Detections (range and azimuth from the
radar's site, which the registry knows by the report's SAC/SIC).

Items read (edition 1.27-1.32; all others are skipped by their length)::

    I010  SAC (8) | SIC (8)                                 data source
    I140  time of day (24), LSB 1/128 s
    I020  TYP (3) SIM RDP SPI RAB FX | TST ERR XPP ME MI FOE/FRI (2) FX | ...
    I040  RHO (16), LSB 1/256 NM | THETA (16), LSB 360/2^16 deg   measured position
    I070  V G L spare | Mode 3/A code (12 bits, octal digits)
    I090  V G | flight level (14, signed), LSB 1/4 FL
    I220  aircraft address (24)
    I240  callsign: eight 6-bit ICAO characters (48)

I200 (the radar's own track velocity) is not used: the detection is a plot, and the
tracker estimates velocity itself. Flight level becomes ``alt`` as FL x 100 ft in metres,
a pressure altitude that differs from height above sea level by the weather (up to a few
hundred metres); the tracker reads it, on a plot without elevation (a 2-D radar), as the
elevation that altitude implies (track/measure.py).
"""

from __future__ import annotations

from ...records import Detection
from .fields import (
    FT,
    NM,
    callsign,
    dated,
    icao,
    signed,
    source,
    squawk,
)

I010, I140, I020, I040, I070, I090, I130, I220, I240 = 1, 2, 3, 4, 5, 6, 7, 8, 9
RHO_M = NM / 256.0
THETA_DEG = 360.0 / 65536.0
FL_M = 100.0 * FT


def decode(data: bytes, w: list[int], sources: dict[int, str], received: float) -> (
        Detection | str):
    """The Detection of one record whose items are at offsets ``w`` (by FRN), or the
    outcome to count when it gives none."""
    sensor, why = source(data, w[I010], sources, 48)
    if sensor is None:
        return why
    o = w[I020]
    if o:
        b = data[o]
        if b & 0x10 or (b & 1 and data[o + 1] & 0x80):
            return "ignored: simulated/test target"
        if b & 0x02:
            return "ignored: field monitor (fixed transponder)"
    o = w[I040]
    if not o:
        return "ignored: CAT048 record without measured position (I040)"
    rho = (data[o] << 8) | data[o + 1]
    if rho == 0:
        return "rejected: range out of range"
    theta = ((data[o + 2] << 8) | data[o + 3]) * THETA_DEG
    o = w[I140]
    if not o:
        return "rejected: CAT048 record without time of day (I140)"
    t = dated(data, o, received)
    if isinstance(t, str):
        return t
    alt = sq = ident = cs = None
    o = w[I090]
    if o and not data[o] & 0xC0:
        alt = signed(((data[o] & 0x3F) << 8) | data[o + 1], 14) * 0.25 * FL_M
        if alt < -1000.0:
            return "rejected: alt out of range"
    o = w[I070]
    if o and not data[o] & 0xC0:
        sq = squawk((data[o] << 8) | data[o + 1])
    o = w[I220]
    if o:
        ident = icao((data[o] << 16) | (data[o + 1] << 8) | data[o + 2])
    o = w[I240]
    if o:
        cs = callsign(data, o)
    return Detection(
        time=t, sensor=sensor, kind="polar", range=rho * RHO_M,
        azimuth=theta, alt=alt, squawk=sq, id=ident, callsign=cs,
    )
