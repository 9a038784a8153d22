"""Fused tracks -> ASTERIX CAT062 (SDPS system track data), encoded with libasterix (MIT).

For air traffic and air defence systems that take a system-track feed: each
:class:`~skywarden.records.TrackUpdate` becomes one CAT062 record, records are packed into
data blocks of at most ``max_datagram`` octets (one UDP datagram each), in row order.

Items written (edition 1.21; every item used has the same layout from 1.16 on, so 1.16
to 1.21 receivers read it)::

    I010  SAC | SIC                  ours, as the producer of the tracks
    I070  time of track information  row.time as UTC time of day, LSB 1/128 s
    I105  WGS84 latitude, longitude  LSB 180/2^25 deg
    I185  Vx, Vy                     vel_e, vel_n, LSB 0.25 m/s (clamped to +-8191.75)
    I220  rate of climb/descent      vel_u, LSB 6.25 ft/min
    I130  geometric altitude         alt, LSB 6.25 ft (our alt is above sea level; CAT062
                                     means above the ellipsoid: 30-55 m apart in Europe)
    I040  track number               1-65535, given by :class:`TrackNumbers` per track id
    I080  track status               MON (one sensor), CNF (tentative), TSB (first update),
                                     TSE (deleted: the last update), CST (coasting)
    I380  ADR                        the first ``icao:`` id of the track, if any
    I500  APC                        sigma_h as the x and y standard deviation, LSB 0.5 m

Not carried: class, identity (friend/hostile has no CAT062 item), next entry, flags;
tracks without a position are not sent. Releasability is the caller's duty: hand this
encoder only rows the receiving nation may see (as the other outputs do).

Cost: libasterix builds each record as Python objects, about 0.4 ms a record (2,600
rows/s per core, bench/bench_asterix.py); enough for a feed at 1 Hz of a few hundred
tracks. A faster writer
would be written like the decoder (straight to bytes) and checked against this one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

import asterix.generated as gen

from ..records import TrackUpdate

SPEC = gen.Cat_062_1_21
EDITION = "1.21"
FT = 0.3048
MAX_DATAGRAM = 1400  # octets: one Ethernet MTU with IP and UDP headers
_V_MAX = 32767 * 0.25


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

    def __len__(self) -> int:
        return len(self._by_id)


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def record(row: TrackUpdate, sac: int, sic: int, number: int, first: bool) -> bytes:
    """One CAT062 record (FSPEC and items, no data block header) for ``row``."""
    tod = row.time % 86400.0
    items: dict[str, Any] = {
        "010": (("SAC", sac), ("SIC", sic)),
        "070": min(int(round(tod * 128.0)), 86400 * 128 - 1),
        # TrackUpdate allows longitudes up to 360 degrees; I105 holds -180 to 180
        "105": (("LAT", (row.lat, "°")), ("LON", ((row.lon + 180.0) % 360.0 - 180.0, "°"))),
        "185": (("VX", (_clamp(row.vel_e, -_V_MAX, _V_MAX), "m/s")),
                ("VY", (_clamp(row.vel_n, -_V_MAX, _V_MAX), "m/s"))),
        "220": (_clamp(row.vel_u / FT * 60.0, -204793.0, 204787.0), "ft/min"),
        "040": number,
        # octet 1: MON SPI MRH SRC(3) CNF; 2: SIM TSE TSB FPC AFF STP KOS;
        # 3: AMA MD4(2) ME MI MD5(2); 4: CST PSR SSR MDS ADS SUC AAC (FX bits left out)
        "080": (
            (0x40 if len(row.sensors) == 1 else 0) | (1 if row.status == "tentative" else 0),
            (0x20 if row.status == "deleted" else 0) | (0x10 if first else 0),
            0,
            0x40 if row.status == "coasting" else 0,
        ),
    }
    if row.alt is not None:
        items["130"] = (_clamp(row.alt / FT, -1500.0, 150000.0), "ft")
    adr = next((i for i in row.ids if i.startswith("icao:")), None)
    if adr is not None:
        with contextlib.suppress(ValueError):  # not hex: sent without an address
            items["380"] = {"ADR": int(adr[5:], 16) & 0xFFFFFF}
    if row.sigma_h is not None and row.sigma_h > 0.0:
        s = min(int(round(row.sigma_h * 2.0)), 0xFFFF)
        items["500"] = {"APC": (("X", s), ("Y", s))}
    made: Any = SPEC.cv_record.create(items)  # type: ignore[arg-type]
    return bytes(made.unparse().to_bytes())


class Cat062Encoder:
    """TrackUpdate rows -> CAT062 datagrams, keeping track numbers between calls.

    ``sac``/``sic`` name us as the data source; ``max_datagram`` bounds each datagram
    (one data block). Rows whose track cannot get a number (65535 live tracks) are
    skipped and counted in ``skipped``.
    """

    def __init__(self, sac: int, sic: int, max_datagram: int = MAX_DATAGRAM) -> None:
        if not (0 <= sac <= 255 and 0 <= sic <= 255):
            raise ValueError(f"sac {sac} / sic {sic}: each must be 0-255")
        if max_datagram < 64:
            raise ValueError(f"max_datagram {max_datagram}: too small for one record")
        self.sac, self.sic = sac, sic
        self.max_datagram = max_datagram
        self.numbers = TrackNumbers()
        self.skipped = 0

    def encode(self, rows: Iterable[TrackUpdate]) -> list[bytes]:
        """Datagrams (each one CAT062 data block) holding a record for every row."""
        out: list[bytes] = []
        body = bytearray()
        limit = self.max_datagram - 3
        for row in rows:
            got = self.numbers.get(row.track)
            if got is None:
                self.skipped += 1
                continue
            rec = record(row, self.sac, self.sic, *got)
            if row.status == "deleted":
                self.numbers.release(row.track)
            if body and len(body) + len(rec) > limit:
                out.append(_block(body))
                body = bytearray()
            body += rec
        if body:
            out.append(_block(body))
        return out


def _block(body: bytes | bytearray) -> bytes:
    return bytes([62]) + (len(body) + 3).to_bytes(2, "big") + bytes(body)
