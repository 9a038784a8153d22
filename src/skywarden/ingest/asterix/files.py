"""Recordings -> Detections: raw files of concatenated data blocks, and pcap captures.

A raw file (``.raw``, ``.ast``, ``.asterix``) is data blocks back to back with no framing
or time of arrival. Where a LEN is impossible, or points at something that is not a data
block header, the bytes up to the next plausible header (a known category whose LEN ends
at the end of the file or at another plausible header, or a CAT048/062/021 block whose
records fill its LEN exactly) are counted as one rejected unit.

Times: a pcap stamps every datagram, and that stamp dates the records in it. A raw file
has only the records' time of day: they are put on the UTC day of ``start`` first, then
each block nearest to the time of the block before, so a recording that runs through
midnight continues on the next day.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

from ...records import Detection
from ..counts import FeedCounts
from ..pcap import read_capture
from .blocks import Malformed, walk
from .decoder import AsterixDecoder
from .fields import DAY, HALF_DAY
from .uap import UAPS

# Every category that has a published ASTERIX specification (as in libasterix 0.36).
KNOWN_CATEGORIES = frozenset({
    1, 2, 4, 7, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20, 21, 23, 25, 32, 34, 48, 62, 63, 65,
    150, 205, 240, 247, 252,
})
CHUNK = 1 << 16


def _plausible(buf: bytes | mmap.mmap, p: int, n: int) -> bool:
    """Whether a data block header that fits the file starts at ``p``."""
    if n - p < 3 or buf[p] not in KNOWN_CATEGORIES:
        return False
    length = (buf[p + 1] << 8) | buf[p + 2]
    return 3 <= length <= n - p


def _whole(buf: bytes | mmap.mmap, p: int, end: int) -> bool:
    """Whether the block at ``p`` is of a category we decode and its records end exactly
    at its LEN: a test garbage passes only by rare chance."""
    uap = UAPS.get(buf[p])
    if uap is None:
        return False
    i = p + 3
    try:
        while i < end:
            _, i = walk(buf, i, end, uap)  # type: ignore[arg-type]
    except Malformed:
        return False
    return i == end


def _next_header(buf: bytes | mmap.mmap, p: int, n: int) -> int:
    """The next offset after ``p`` where a plausible block starts that is followed by the
    end of the file or another plausible block, or whose records fill it exactly; ``n``
    when there is none."""
    q = p + 1
    while q < n:
        if _plausible(buf, q, n):
            end = q + ((buf[q + 1] << 8) | buf[q + 2])
            if end == n or _plausible(buf, end, n) or _whole(buf, q, end):
                return q
        q += 1
    return n


def split_raw(buf: bytes | mmap.mmap, counts: FeedCounts, chunk: int = CHUNK) -> Iterator[
        bytes]:
    """Runs of whole data blocks (about ``chunk`` octets each) from a raw recording."""
    pos, n = 0, len(buf)
    run = pos
    while pos < n:
        if _plausible(buf, pos, n):
            pos += (buf[pos + 1] << 8) | buf[pos + 2]
            if pos - run >= chunk:
                yield bytes(buf[run:pos])
                run = pos
            continue
        if pos > run:
            yield bytes(buf[run:pos])
        nxt = _next_header(buf, pos, n)
        counts.add("rejected: bytes outside a data block (bad LEN or category; resynchronised)")
        pos = run = nxt
    if pos > run:
        yield bytes(buf[run:pos])


def read_asterix_file(path: str | Path, counts: FeedCounts | None = None,
                      chunk: int = CHUNK) -> Iterator[bytes]:
    """Runs of whole data blocks from the raw recording at ``path``; resynchronisations
    are counted in ``counts`` when given."""
    with Path(path).open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield from split_raw(buf, counts if counts is not None else FeedCounts(), chunk)


def decode_asterix_file(path: str | Path, decoder: AsterixDecoder,
                        start: float) -> Iterator[Detection]:
    """Detections of a raw recording whose first record is on the UTC day of ``start``
    (epoch s, any instant of that day)."""
    clock = start - start % DAY + HALF_DAY
    for run in read_asterix_file(path, decoder.counts):
        # Each run is dated near the last record before it (midnight roll-over).
        dets = decoder.datagram(run, clock)
        if dets:
            clock = dets[-1].time
        yield from dets


def decode_pcap_file(path: str | Path, decoder: AsterixDecoder,
                     port: int | None = None) -> Iterator[Detection]:
    """Detections of the UDP datagrams of a pcap or pcapng capture (to ``port`` only, when
    given; others count as ignored), dated by their capture time."""
    counts = decoder.counts
    for t, dport, payload in read_capture(path, counts):
        if port is not None and dport != port:
            counts.add("ignored: UDP datagram to another port")
            continue
        yield from decoder.datagram(payload, t)
