"""The Remote ID recording format: one received frame per text line.

::

    # comment lines and blank lines are skipped (not counted)
    EPOCH_SECONDS HEX [TRANSPORT] [TRANSMITTER]
    1720248189.525 1e16faff0d0712202d3e04...
    1720248189.731 0d0712202d3e04...           ble  60:60:1F:AA:BB:01
    1720248190.002 dd53fa0bbc0d55f21903...     wifi

``EPOCH_SECONDS`` is the receive time (Unix epoch, UTC); ``HEX`` the bytes as the receiver
delivered them (any case, no spaces); ``TRANSPORT`` one of ``auto ble wifi nan raw``
(default ``auto``: recognised from the bytes, see :mod:`.transport`); ``TRANSMITTER`` the
sender's MAC address (six hex pairs with ``:`` or ``-``), which lets single-message BT4
frames of one drone be joined. Either optional field may be given alone.

:func:`parse_line` is pure and never raises. :func:`decode_remoteid_lines` counts every
non-blank, non-comment line once (a bad line as ``rejected: <reason>``) and never stops;
``on_reject(line_number, outcome)`` is told of each rejected line (1-based).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ...records import Detection
from ..counts import FeedCounts
from ..jsonl import JsonlWriter
from .assemble import RemoteIdDecoder
from .transport import TRANSPORTS

_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}")
# A message pack of 9 messages in a beacon frame is under 400 bytes; 4 KiB of hex is generous.
MAX_LINE_BYTES = 8192


def parse_line(line: bytes) -> tuple[float, bytes, str, str | None] | str | None:
    """One line -> (receive time, frame bytes, transport, transmitter MAC or None), a
    ``rejected:`` reason, or None for a blank or comment line."""
    if len(line) > MAX_LINE_BYTES:
        return "rejected: line too long"
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return "rejected: line not ASCII"
    if not text or text.startswith("#"):
        return None
    fields = text.split()
    if len(fields) < 2:
        return "rejected: line without EPOCH_SECONDS and HEX"
    if len(fields) > 4:
        return "rejected: line with more than 4 fields"
    try:
        received = float(fields[0])
    except ValueError:
        return "rejected: time not a number"
    if not (math.isfinite(received) and 0.0 <= received <= 7.3e9):
        return "rejected: time out of range"
    try:
        data = bytes.fromhex(fields[1])
    except ValueError:
        return "rejected: frame not hex"
    transport, transmitter = "auto", None
    for field in fields[2:]:
        if field.lower() in TRANSPORTS and transport == "auto":
            transport = field.lower()
        elif _MAC.fullmatch(field) and transmitter is None:
            transmitter = field.replace("-", ":").upper()
        else:
            return "rejected: field neither a transport nor a MAC address"
    return received, data, transport, transmitter


def decode_remoteid_lines(
    lines: Iterable[bytes], decoder: RemoteIdDecoder,
    on_reject: Callable[[int, str], None] | None = None,
) -> Iterator[Detection]:
    """Detections of a recording's lines, in order; bad lines counted and skipped."""
    for number, line in enumerate(lines, 1):
        got = parse_line(line)
        if got is None:
            continue
        if isinstance(got, str):
            decoder.counts.add(got)
            if on_reject is not None:
                on_reject(number, got)
            continue
        received, data, transport, transmitter = got
        dets = decoder.frame(data, received, transmitter, transport=transport)
        if on_reject is not None and decoder.last_outcome.startswith("rejected"):
            on_reject(number, decoder.last_outcome)
        yield from dets


def decode_remoteid_recording(
    path: str | Path, out: str | Path, sensor: str, *,
    on_reject: Callable[[int, str], None] | None = None,
) -> FeedCounts:
    """Decode the recording ``path`` into ``out`` (detections JSON Lines, written
    atomically); the counts, one unit per line (``skywarden decode --format remoteid``)."""
    counts = FeedCounts()
    decoder = RemoteIdDecoder(sensor, counts)
    with Path(path).open("rb") as fh, JsonlWriter(out) as writer:
        for det in decode_remoteid_lines(fh, decoder, on_reject):
            writer.write(det)
    return counts
