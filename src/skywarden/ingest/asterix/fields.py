"""Fields shared by the categories: time of day, callsigns, Mode 3/A codes, units.

ASTERIX times are the time of day: seconds since UTC midnight in 1/128 s, 24 bits, with no
date. :func:`anchor` puts one on the calendar as the instant nearest to when we received
it, so a report stamped 23:59:59 received at 00:00:01 lands on the day before, and one
stamped 00:00:01 received at 23:59:59 (a clock running slightly ahead) on the day after.
"""

from __future__ import annotations

FT = 0.3048
NM = 1852.0
DAY = 86400.0
HALF_DAY = 43200.0
FT_PER_MIN = FT / 60.0
# The latest time a Detection may carry (records.Time): later means a wrong clock.
MAX_TIME = 7.3e9

# ICAO 6-bit character set (Annex 10 vol IV, 3.1.2.9): index -> character; "#" is unused.
_ICAO_CHARS = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
# Two characters per 12 bits: four lookups per callsign instead of eight.
_PAIRS = [_ICAO_CHARS[i >> 6] + _ICAO_CHARS[i & 0x3F] for i in range(4096)]


def anchor(tod: float, received: float) -> float:
    """Epoch seconds of time of day ``tod`` (s since UTC midnight) nearest ``received``."""
    t = received - received % DAY + tod
    d = t - received
    if d > HALF_DAY:
        t -= DAY
    elif d < -HALF_DAY:
        t += DAY
    return t


def time_of_day(data: bytes, i: int) -> float:
    """A 3-octet time of day (LSB 1/128 s) at ``i``, in seconds."""
    return ((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]) / 128.0


def callsign(data: bytes, i: int) -> str | None:
    """Eight 6-bit ICAO characters in the six octets at ``i``, trailing spaces stripped;
    None when empty or holding a code outside the character set."""
    v = int.from_bytes(data[i:i + 6], "big")
    p = _PAIRS
    text = (p[v >> 36] + p[(v >> 24) & 0xFFF] + p[(v >> 12) & 0xFFF] + p[v & 0xFFF]).rstrip()
    if not text or "#" in text:
        return None
    return text


def squawk(code: int) -> str:
    """A 12-bit Mode 3/A code as its four octal digits."""
    return f"{code & 0xFFF:04o}"


def signed(value: int, bits: int) -> int:
    """Two's complement of the low ``bits`` bits of ``value``."""
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def icao(address: int) -> str:
    return f"icao:{address:06X}"


def source(data: bytes, o: int, sources: dict[int, str], cat: int) -> tuple[str | None, str]:
    """(the registry sensor named by the I010 at offset ``o``, "") or (None, the outcome
    to count): a record without I010, or from a SAC/SIC the registry does not hold (named,
    so the operator knows which source to add)."""
    if not o:
        return None, f"rejected: CAT{cat:03d} record without data source (I010)"
    sensor = sources.get((data[o] << 8) | data[o + 1])
    if sensor is None:
        return None, (f"rejected: unknown data source SAC/SIC {data[o]}/{data[o + 1]} (not in "
                      "the sensor registry)")
    return sensor, ""


def dated(data: bytes, o: int, received: float) -> float | str:
    """The epoch time of the 3-octet time of day at ``o`` (1/128 s), anchored to the
    day nearest ``received``; or the outcome to count when it is out of range."""
    tod = time_of_day(data, o)
    if tod >= 86400.0:
        return "rejected: time of day out of range"
    t = anchor(tod, received)
    if not 0.0 <= t <= MAX_TIME:
        return "rejected: time out of range"
    return t


def altitude(data: bytes, geometric: int, flight_level: int) -> float | None | str:
    """Metres from a geometric altitude item (6.25 ft) at ``geometric``, else a flight
    level item (1/4 FL) at ``flight_level`` (offsets, 0: absent); None when neither; the
    outcome to count when implausibly low."""
    if geometric:
        alt = int.from_bytes(data[geometric:geometric + 2], "big", signed=True) * 6.25 * FT
    elif flight_level:
        alt = int.from_bytes(data[flight_level:flight_level + 2], "big",
                             signed=True) * 0.25 * 100.0 * FT
    else:
        return None
    return "rejected: alt out of range" if alt < -1000.0 else alt
