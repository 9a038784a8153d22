"""AVR raw hex (port 30002 of dump1090/readsb): one Mode S frame per line.

Accepted line forms (whitespace around them is ignored)::

    *8D4840D6202CC371C32CE0576098;              frame only
    @0000015A887E8D4840D6202CC371C32CE0576098;  12 hex digits of 12 MHz counter, frame
    1720248189.525 *8D4840D6202CC371C32CE0576098;   a logger's epoch seconds, then either

:func:`parse_line` is pure and never raises: it gives ``(epoch or None, ticks or None,
frame)`` or a reason string.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator

from .counts import FeedCounts

_HEX = frozenset(string.hexdigits.encode())


def parse_lines(lines: Iterable[bytes], counts: FeedCounts
                ) -> Iterator[tuple[float | None, int | None, bytes]]:
    """The frames of ``lines``: blank lines skipped, bad ones counted in ``counts``."""
    for line in lines:
        if not line.strip():
            continue
        got = parse_line(line)
        if isinstance(got, str):
            counts.add(got)
        else:
            yield got


def parse_line(line: bytes) -> tuple[float | None, int | None, bytes] | str:
    """One AVR line -> (epoch seconds, MLAT ticks, frame bytes), or why it is rejected."""
    line = line.strip()
    epoch: float | None = None
    if line and line[0] not in b"*@":
        head, _, rest = line.partition(b" ")
        try:
            epoch = float(head)
        except ValueError:
            return "rejected: AVR line not starting with * or @"
        if not (0.0 <= epoch <= 7.3e9):
            return "rejected: AVR time out of range"
        line = rest.strip()
    if len(line) < 3 or line[0] not in b"*@" or not line.endswith(b";"):
        return "rejected: AVR line not *...; or @...;"
    body = line[1:-1]
    if not _HEX.issuperset(body):
        return "rejected: AVR line not hex"
    ticks: int | None = None
    if line[0] == ord("@"):
        if len(body) < 12:
            return "rejected: AVR timestamp too short"
        ticks = int(body[:12], 16)
        body = body[12:]
    if len(body) not in (14, 28):
        return "rejected: AVR frame not 7 or 14 bytes"
    return epoch, ticks, bytes.fromhex(body.decode())
