"""Fused tracks -> ASTERIX CAT062 (SDPS system track data), written straight to bytes.

For air traffic and air defence systems that take a system-track feed: each
:class:`~skywarden.records.TrackUpdate` becomes one CAT062 record, records are packed into
data blocks of at most ``max_datagram`` octets (one UDP datagram each), in row order.
:class:`~.asterix_out.Cat062Output` sends them: one nation's tracks, once per period,
over UDP (unicast or multicast), as an SDPS does.

A record, edition 1.21 (every item used has the same layout from 1.16 on, so 1.16 to
1.21 receivers read it), items in UAP order (FRN), all big-endian::

    FSPEC   1001 1011 | 000A 1101 | 000H 010P | 0000 0100      A: I380, H: I130, P: I500
            (I015 adds 0x20 to the first octet; without I500 the FSPEC is three octets)
    I010  SAC (8) | SIC (8)                  ours, as the producer of the tracks
    I015  service id (8)                     only when configured
    I070  time of track information (24)     row.time as UTC time of day, LSB 1/128 s
    I105  lat (32, signed) | lon (32, s.)    WGS84, LSB 180/2^25 deg
    I185  Vx (16, s.) | Vy (16, s.)          vel_e, vel_n, LSB 0.25 m/s (clamped to +-8191.75)
    I380  0x80 | ADR (24)                    the first ``icao:`` id of the track, if any
    I040  track number (16)                  1-65535, given by :class:`TrackNumbers`
    I080  MON SPI MRH SRC(3) CNF FX | SIM TSE TSB FPC AFF STP KOS FX | AMA MD4(2) ME MI
          MD5(2) FX | CST PSR SSR MDS ADS SUC AAC FX      MON (one sensor), CNF (tentative),
          TSB (first record of the track), TSE (its last: deleted), CST (coasting)
    I130  geometric altitude (16, s.)        alt, LSB 6.25 ft (clamped to -1,500..150,000 ft;
                                             ours is above sea level, CAT062 means above
                                             the ellipsoid: 30-55 m apart in Europe)
    I220  rate of climb/descent (16, s.)     vel_u, LSB 6.25 ft/min
    I500  0x80 | APC x (16) | APC y (16)     sigma_h as both standard deviations, LSB 0.5 m

Values are rounded to the nearest LSB exactly as libasterix rounds them: the tests encode
thousands of random rows with both this writer and :func:`record_reference` (libasterix,
MIT) and require the same bytes, and read every value back with libasterix.

Not carried: class, identity (friend/hostile has no CAT062 item), next entry, flags, Mode
3/A and callsign (rows carry neither), alerts. docs/OUTPUTS.md ("ASTERIX CAT062") says why.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable
from typing import Any

from ..records import TrackUpdate

__all__ = ["Cat062Encoder", "TrackNumbers", "record", "record_reference"]

EDITION = "1.21"
FT = 0.3048
MAX_DATAGRAM = 1400  # octets: one Ethernet MTU with IP and UDP headers
LATLON_LSB = 180.0 / (1 << 25)
_V_MAX = 32767 * 0.25
_TOD_MAX = 86400 * 128 - 1


class TrackNumbers:
    """Track ids -> CAT062 track numbers (1-65535): stable while a track lives, freed
    when its ``deleted`` row has been sent, reused oldest-freed first."""

    __slots__ = ("_by_id", "_next", "_free")

    def __init__(self) -> None:
        self._by_id: dict[str, int] = {}
        self._next = 1
        self._free: list[int] = []

    def get(self, track: str) -> tuple[int, bool] | None:
        """(number, first time) for ``track``; None when all 65535 numbers are in use."""
        n = self._by_id.get(track)
        if n is not None:
            return n, False
        if self._next <= 65535:
            n, self._next = self._next, self._next + 1
        elif self._free:
            n = self._free.pop(0)
        else:
            return None
        self._by_id[track] = n
        return n, True

    def release(self, track: str) -> None:
        n = self._by_id.pop(track, None)
        if n is not None:
            self._free.append(n)

    def __contains__(self, track: object) -> bool:
        return track in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def _address(ids: list[str]) -> int | None:
    """The 24-bit Mode S address of the first ``icao:`` id; None without one (or when it
    is not hex: sent without an address)."""
    for i in ids:
        if i.startswith("icao:"):
            with contextlib.suppress(ValueError):
                return int(i[5:], 16) & 0xFFFFFF
            return None
    return None


def _structs() -> dict[int, struct.Struct]:
    """One packer per combination of optional items: bit 0 I015, 1 I380, 2 I130, 3 I500."""
    out = {}
    for key in range(16):
        svc, adr, alt, apc = (bool(key & b) for b in (1, 2, 4, 8))
        fmt = ">" + "B" * (4 if apc else 3) + "BB" + ("B" if svc else "") + "BHiihh"
        fmt += ("BBH" if adr else "") + "HBBBB" + ("h" if alt else "") + "h"
        fmt += "BHH" if apc else ""
        out[key] = struct.Struct(fmt)
    return out


_PACK = {k: s.pack for k, s in _structs().items()}


def record(row: TrackUpdate, sac: int, sic: int, number: int, first: bool,
           service_id: int | None = None) -> bytes:
    """One CAT062 record (FSPEC and items, no data block header) for ``row``.

    Raises ValueError or OverflowError for a row holding NaN or infinity, ``struct.error``
    for values no item can hold (a latitude past 90 degrees, say)."""
    adr = _address(row.ids)
    alt = row.alt
    sigma = row.sigma_h
    apc = sigma is not None and sigma > 0.0
    status = row.status
    args: list[Any] = [0x9B | (0x20 if service_id is not None else 0),
                       0x0D | (0x10 if adr is not None else 0),
                       (0x14 if alt is not None else 0x04) | (1 if apc else 0)]
    if apc:
        args.append(0x04)
    args += (sac, sic)
    if service_id is not None:
        args.append(service_id)
    tod = min(int(round((row.time % 86400.0) * 128.0)), _TOD_MAX)
    v = _V_MAX
    ve, vn = row.vel_e, row.vel_n
    args += (tod >> 16, tod & 0xFFFF,
             round(row.lat / LATLON_LSB),
             # TrackUpdate allows longitudes up to 360 degrees; I105 holds -180 to 180
             round(((row.lon + 180.0) % 360.0 - 180.0) / LATLON_LSB),
             round((-v if ve < -v else v if ve > v else ve) / 0.25),
             round((-v if vn < -v else v if vn > v else vn) / 0.25))
    if adr is not None:
        args += (0x80, adr >> 16, adr & 0xFFFF)
    args += (number,
             (0x80 if len(row.sensors) == 1 else 0) | (0x03 if status == "tentative" else 1),
             (0x41 if status == "deleted" else 1) | (0x20 if first else 0),
             1,
             0x80 if status == "coasting" else 0)
    if alt is not None:
        args.append(round(_clamp(alt / FT, -1500.0, 150000.0) / 6.25))
    args.append(round(_clamp(row.vel_u / FT * 60.0, -204793.0, 204787.0) / 6.25))
    if apc:
        assert sigma is not None
        s = min(int(round(sigma * 2.0)), 0xFFFF)
        args += (0x80, s, s)
    key = (service_id is not None) | (adr is not None) << 1 | (alt is not None) << 2 | apc << 3
    return _PACK[key](*args)


def record_reference(row: TrackUpdate, sac: int, sic: int, number: int, first: bool,
                     service_id: int | None = None) -> bytes:
    """The same record built with libasterix: the reference :func:`record` is checked
    against (tests, bench). About 0.4 ms a record; libasterix is imported on first use
    (about 1.4 s)."""
    import asterix.generated as gen

    items: dict[str, Any] = {
        "010": (("SAC", sac), ("SIC", sic)),
        "070": min(int(round((row.time % 86400.0) * 128.0)), _TOD_MAX),
        "105": (("LAT", (row.lat, "°")), ("LON", ((row.lon + 180.0) % 360.0 - 180.0, "°"))),
        "185": (("VX", (_clamp(row.vel_e, -_V_MAX, _V_MAX), "m/s")),
                ("VY", (_clamp(row.vel_n, -_V_MAX, _V_MAX), "m/s"))),
        "220": (_clamp(row.vel_u / FT * 60.0, -204793.0, 204787.0), "ft/min"),
        "040": number,
        # the seven bits of each octet, FX left out (libasterix sets it)
        "080": (
            (0x40 if len(row.sensors) == 1 else 0) | (1 if row.status == "tentative" else 0),
            (0x20 if row.status == "deleted" else 0) | (0x10 if first else 0),
            0,
            0x40 if row.status == "coasting" else 0,
        ),
    }
    if service_id is not None:
        items["015"] = service_id
    if row.alt is not None:
        items["130"] = (_clamp(row.alt / FT, -1500.0, 150000.0), "ft")
    adr = _address(row.ids)
    if adr is not None:
        items["380"] = {"ADR": adr}
    if row.sigma_h is not None and row.sigma_h > 0.0:
        s = min(int(round(row.sigma_h * 2.0)), 0xFFFF)
        items["500"] = {"APC": (("X", s), ("Y", s))}
    made: Any = gen.Cat_062_1_21.cv_record.create(items)  # type: ignore[arg-type]
    return bytes(made.unparse().to_bytes())


class Cat062Encoder:
    """TrackUpdate rows -> CAT062 datagrams, keeping track numbers between calls.

    ``sac``/``sic`` name us as the data source, ``service_id`` (I015) the service when
    given; ``max_datagram`` bounds each datagram (one data block). Rows whose track
    cannot get a number (65535 live tracks) are skipped and counted in ``skipped``; rows
    holding values no item can carry (NaN, infinity) in ``unencodable``. A track's number
    is freed once its ``deleted`` row is written. ``reference=True`` writes with
    libasterix (:func:`record_reference`), for tests and benchmarks.
    """

    def __init__(self, sac: int, sic: int, max_datagram: int = MAX_DATAGRAM, *,
                 service_id: int | None = None, reference: bool = False) -> None:
        if not (0 <= sac <= 255 and 0 <= sic <= 255):
            raise ValueError(f"sac {sac} / sic {sic}: each must be 0-255")
        if service_id is not None and not 0 <= service_id <= 255:
            raise ValueError(f"service_id {service_id}: must be 0-255")
        if not 64 <= max_datagram <= 65507:
            raise ValueError(f"max_datagram {max_datagram}: not in 64..65507 octets")
        self.sac, self.sic, self.service_id = sac, sic, service_id
        self.max_datagram = max_datagram
        self.numbers = TrackNumbers()
        self.skipped = 0
        self.unencodable = 0
        self._record = record_reference if reference else record

    def encode(self, rows: Iterable[TrackUpdate]) -> list[bytes]:
        """Datagrams (each one CAT062 data block) holding a record for every row."""
        return [d for d, _ in self.datagrams(rows)]

    def datagrams(self, rows: Iterable[TrackUpdate]) -> list[tuple[bytes, int]]:
        """(datagram, records in it) for ``rows``, in row order."""
        out: list[tuple[bytes, int]] = []
        body: list[bytes] = []
        size = 0
        limit = self.max_datagram - 3
        numbers, make = self.numbers, self._record
        sac, sic, svc = self.sac, self.sic, self.service_id
        for row in rows:
            got = numbers.get(row.track)
            if got is None:
                self.skipped += 1
                continue
            try:
                rec = make(row, sac, sic, got[0], got[1], svc)
            except (ValueError, OverflowError, struct.error):
                self.unencodable += 1
                if got[1]:
                    numbers.release(row.track)
                continue
            if row.status == "deleted":
                numbers.release(row.track)
            if body and size + len(rec) > limit:
                out.append((_block(body, size), len(body)))
                body, size = [], 0
            body.append(rec)
            size += len(rec)
        if body:
            out.append((_block(body, size), len(body)))
        return out


def _block(records: list[bytes], size: int) -> bytes:
    return b"".join((bytes((62, (size + 3) >> 8, (size + 3) & 0xFF)), *records))
