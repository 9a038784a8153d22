"""ASTERIX datagrams -> Detections, every record counted once (:mod:`..counts`).

:class:`AsterixDecoder` is the one entry point for live UDP, raw files and pcaps: it takes
one datagram (or any chunk of whole data blocks) and the time it arrived. A unit is one
record of CAT048, CAT062 or CAT021; a data block of any other category counts as one
``ignored`` unit (its records are not cut, so not counted one by one); a data block whose
LEN is impossible counts as one ``rejected`` unit and ends the datagram; a malformed record
counts as one ``rejected`` unit and ends its data block (records have no length, so
nothing after it can be found), the records before it are kept.

CAT021 comes in editions whose records a reader cannot tell apart (0.2x and 2.x lay out
their items differently): each record is read in the edition its ground station sends,
named by the sensor registry (``cat021_edition``; default 2.x). Every edition puts I010
first, so the station is read before the rest of the record is walked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Protocol

from ...records import Detection
from ...sensors import SensorRegistry
from ..counts import FeedCounts
from . import cat021, cat048, cat062
from .blocks import Malformed, split_blocks, walk
from .uap import CAT021_EDITIONS, UAPS, Uap

Decode = Callable[[bytes, list[int], dict[int, str], float], Detection | str]
_DECODERS: dict[int, tuple[Uap, Decode]] = {
    48: (UAPS[48], cat048.decode),
    62: (UAPS[62], cat062.decode),
    21: (UAPS[21], cat021.decode),
}

# What the categories we do not decode carry, for the count key.
_OTHER = {
    1: "monoradar target reports, old edition",
    2: "monoradar service messages, old edition",
    10: "surface movement",
    19: "multilateration status",
    20: "multilateration reports",
    23: "ADS-B ground station status",
    25: "service status",
    34: "monoradar service messages",
    63: "sensor status",
    65: "SDPS service status",
    247: "version number exchange",
}


class _HasId(Protocol):
    id: str


def ignored_category(cat: int) -> str:
    what = _OTHER.get(cat, "category not decoded")
    return f"ignored: CAT{cat:03d} data block ({what})"


class AsterixDecoder:
    """Datagrams in, Detections out; ``sources`` maps (SAC, SIC) to the sensor id (or a
    registry sensor) that a record names in its I010; ``cat021_editions`` maps (SAC, SIC)
    to the CAT021 edition that station sends (a key of ``uap.CAT021_EDITIONS``; stations
    not named: 2.x)."""

    __slots__ = ("sources", "counts", "cat021")

    def __init__(self, sources: Mapping[tuple[int, int], str | _HasId],
                 counts: FeedCounts,
                 cat021_editions: Mapping[tuple[int, int], str] | None = None) -> None:
        self.sources: dict[int, str] = {
            (sac << 8) | sic: (s if isinstance(s, str) else s.id)
            for (sac, sic), s in sources.items()
        }
        self.counts = counts
        self.cat021: dict[int, tuple[Uap, Decode]] = {}
        for (sac, sic), edition in (cat021_editions or {}).items():
            uap = CAT021_EDITIONS.get(edition)
            if uap is None:
                raise ValueError(f"CAT021 edition {edition!r} is not one of "
                                 f"{', '.join(CAT021_EDITIONS)}")
            if uap is not UAPS[21]:
                self.cat021[(sac << 8) | sic] = (
                    uap, functools.partial(cat021.decode, lay=cat021.LAYOUTS[edition]))

    @classmethod
    def from_registry(cls, registry: SensorRegistry, counts: FeedCounts) -> AsterixDecoder:
        """A decoder for the sensors of ``registry`` that have ``sac`` and ``sic``, each
        station's CAT021 read in its ``cat021_edition``."""
        sited = [s for s in registry if s.sac is not None and s.sic is not None]
        return cls({(s.sac, s.sic): s.id for s in sited}, counts,
                   {(s.sac, s.sic): s.cat021_edition for s in sited if s.cat021_edition})

    def datagram(self, data: bytes, received: float) -> list[Detection]:
        """The Detections in one datagram (one or more whole data blocks) received at
        ``received`` (epoch s; it dates the records' time of day)."""
        out: list[Detection] = []
        counts = self.counts
        blocks, bad = split_blocks(data)
        for cat, start, end in blocks:
            got = _DECODERS.get(cat)
            if got is None:
                # there is no category 0: a zero where a block starts is corruption
                counts.add(ignored_category(cat) if cat else "rejected: data block of CAT000")
                continue
            if start == end:
                counts.add(f"rejected: CAT{cat:03d} data block without records")
                continue
            self._records(data, start, end, got[0], got[1], received, out)
        if bad is not None:
            counts.add("rejected: " + bad)
        return out

    def _records(self, data: bytes, i: int, end: int, uap: Uap, decode: Decode,
                 received: float, out: list[Detection]) -> None:
        counts = self.counts
        outcomes = counts.outcomes
        sources = self.sources
        made = 0
        editions = self.cat021 if uap.cat == 21 else None
        while i < end:
            if not data[i] and not any(data[i:end]):
                # zero octets to the end: padding some systems add, not a record
                counts.add(f"ignored: CAT{uap.cat:03d} zero padding after the records")
                break
            ruap, rdecode = uap, decode
            if editions:
                got_edition = editions.get(_station(data, i, end))
                if got_edition is not None:
                    ruap, rdecode = got_edition
            try:
                w, i = walk(data, i, end, ruap)
            except Malformed as exc:
                counts.add(f"rejected: CAT{uap.cat:03d} {exc.reason}")
                break
            got = rdecode(data, w, sources, received)
            if isinstance(got, str):
                counts.add(got)
            else:
                out.append(got)
                made += 1
        if made:
            counts.units += made
            outcomes["position"] += made


def _station(data: bytes, i: int, end: int) -> int:
    """(SAC << 8) | SIC of the record at ``i`` (its I010, FRN 1 in every CAT021 edition),
    or -1 when it has none or it lies past ``end`` (the walk then says what is wrong)."""
    if i >= end or not data[i] & 0x80:
        return -1
    while data[i] & 1:  # the FSPEC's FX bits
        i += 1
        if i >= end:
            return -1
    if i + 2 >= end:
        return -1
    return (data[i + 1] << 8) | data[i + 2]
