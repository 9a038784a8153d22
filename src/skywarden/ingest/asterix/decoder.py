"""ASTERIX datagrams -> Detections, every record counted once (:mod:`..counts`).

:class:`AsterixDecoder` is the one entry point for live UDP, raw files and pcaps: it takes
one datagram (or any chunk of whole data blocks) and the time it arrived. A unit is one
record of CAT048, CAT062 or CAT021; a data block of any other category counts as one
``ignored`` unit (its records are not cut, so not counted one by one); a data block whose
LEN is impossible counts as one ``rejected`` unit and ends the datagram; a malformed record
counts as one ``rejected`` unit and ends its data block (records have no length, so
nothing after it can be found), the records before it are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from ...records import Detection
from ...sensors import SensorRegistry
from ..counts import FeedCounts
from . import cat021, cat048, cat062
from .blocks import Malformed, split_blocks, walk
from .uap import UAPS, Uap

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
    registry sensor) that a record names in its I010."""

    __slots__ = ("sources", "counts")

    def __init__(self, sources: Mapping[tuple[int, int], str | _HasId],
                 counts: FeedCounts) -> None:
        self.sources: dict[int, str] = {
            (sac << 8) | sic: (s if isinstance(s, str) else s.id)
            for (sac, sic), s in sources.items()
        }
        self.counts = counts

    @classmethod
    def from_registry(cls, registry: SensorRegistry, counts: FeedCounts) -> AsterixDecoder:
        """A decoder for the sensors of ``registry`` that have ``sac`` and ``sic``."""
        return cls({(s.sac, s.sic): s.id for s in registry
                    if s.sac is not None and s.sic is not None}, counts)

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
        while i < end:
            if not data[i] and not any(data[i:end]):
                # zero octets to the end: padding some systems add, not a record
                counts.add(f"ignored: CAT{uap.cat:03d} zero padding after the records")
                break
            try:
                w, i = walk(data, i, end, uap)
            except Malformed as exc:
                counts.add(f"rejected: CAT{uap.cat:03d} {exc.reason}")
                break
            got = decode(data, w, sources, received)
            if isinstance(got, str):
                counts.add(got)
            else:
                out.append(got)
                made += 1
        if made:
            counts.units += made
            outcomes["position"] += made
