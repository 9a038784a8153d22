"""Beast binary framing (port 30005 of dump1090/readsb): buffer in, frames and leftover out.

One frame::

    0x1a | type | MLAT timestamp (6 bytes, big-endian, 12 MHz counter) | signal (1) | payload
    type '1' (0x31): Mode A/C, 2 bytes; '2' (0x32): Mode S short, 7 bytes;
    '3' (0x33): Mode S long, 14 bytes; '4' (0x34): receiver status (counted, ignored)

Every 0x1a inside a frame (timestamp, signal or payload) is sent twice. So in a stream a
frame starts at the last 0x1a of any run of an odd number of 0x1a bytes, and splitting the
stream on 0x1a gives empty pieces exactly where escapes were.

:func:`split_frames` is pure: no sockets, no files. Whatever is not a whole frame is counted
by reason, and framing resynchronises at the next frame start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .counts import FeedCounts

ESC = 0x1A
MLAT_HZ = 12_000_000.0
_PAYLOAD = {0x31: 2, 0x32: 7, 0x33: 14}


@dataclass(frozen=True, slots=True)
class BeastFrame:
    """One Mode S frame: the receiver's 12 MHz counter, signal level 0-255, payload."""

    ticks: int
    signal: int
    payload: bytes


def encode_frame(ticks: int, signal: int, payload: bytes) -> bytes:
    """One Mode S frame (7 or 14 bytes) as Beast sends it, 0x1a escaped: the inverse of
    :func:`split_frames`, for players and tests."""
    body = bytes([0x33 if len(payload) == 14 else 0x32]) + ticks.to_bytes(6, "big")
    body += bytes([signal]) + payload
    return b"\x1a" + body.replace(b"\x1a", b"\x1a\x1a")


def last_frame_start(buf: bytes) -> int:
    """Index of the last 0x1a in ``buf`` that starts a frame, or -1."""
    end = len(buf)
    while True:
        i = buf.rfind(b"\x1a", 0, end)
        if i < 0:
            return -1
        j = i
        while j > 0 and buf[j - 1] == ESC:
            j -= 1
        # A run touching the end may be half an escape: cut before it, parse it next time.
        if (i - j + 1) % 2 == 1 and i + 1 < len(buf):
            return i
        end = j


def split_frames(buf: bytes, counts: FeedCounts, final: bool = False) -> tuple[
        list[BeastFrame], bytes]:
    """Frames in ``buf`` and the unfinished tail to prepend to the next buffer.

    With ``final=True`` there is no next buffer: an unfinished tail is counted as a
    truncated frame. Mode A/C and status frames are counted (ignored), not returned.
    """
    cut = len(buf) if final else last_frame_start(buf)
    if cut < 0:
        cut = 0 if not final else len(buf)
    elif not final and _complete(buf, cut):
        # A live feed's last frame is whole once its type's length has arrived: decode
        # it now rather than when the next frame's 0x1a comes (a quiet sky can be slow).
        cut = len(buf)
    head, tail = buf[:cut], buf[cut:]
    frames: list[BeastFrame] = []
    pieces = head.split(b"\x1a")
    if pieces[0]:
        counts.add("rejected: bytes outside a Beast frame")
    i, n = 1, len(pieces)
    while i < n:
        body = pieces[i]
        i += 1
        if not body:
            # an escaped 0x1a with no frame open: noise between frames
            i += 1
            counts.add("rejected: bytes outside a Beast frame")
            continue
        # Undo escapes: an empty piece means "0x1a 0x1a" -> one 0x1a and continue.
        while i < n and not pieces[i]:
            body += b"\x1a" + (pieces[i + 1] if i + 1 < n else b"")
            i += 2
        _one(body, frames, counts)
    if final and tail:
        counts.add("rejected: truncated Beast frame")
        tail = b""
    return frames, tail


def _complete(buf: bytes, start: int) -> bool:
    """Whether the frame at ``buf[start]`` (a frame start) is whole: its type has a known
    length, the unescaped body holds exactly that much, and the buffer does not end in
    half an escape."""
    size = _PAYLOAD.get(buf[start + 1]) if start + 1 < len(buf) else None
    if size is None:
        return False
    raw = buf[start + 1:]
    run = len(raw) - len(raw.rstrip(b"\x1a"))
    if run % 2:
        return False  # a trailing lone 0x1a: the second byte of its escape is to come
    return len(raw.replace(b"\x1a\x1a", b"\x1a")) == 8 + size


def _one(body: bytes, frames: list[BeastFrame], counts: FeedCounts) -> None:
    kind = body[0]
    if kind == 0x34:
        # Status frames of Beast hardware; their length is not fixed by a public spec.
        counts.add("ignored: Beast receiver status")
        return
    size = _PAYLOAD.get(kind)
    if size is None:
        counts.add("rejected: unknown Beast frame type")
        return
    if len(body) < 8 + size:
        counts.add("rejected: Beast frame too short")
        return
    if len(body) > 8 + size:
        # The type fixes the length: what follows is noise before the next frame start.
        counts.add("rejected: bytes outside a Beast frame")
        body = body[:8 + size]
    if kind == 0x31:
        counts.add("ignored: Mode A/C reply")
        return
    frames.append(BeastFrame(int.from_bytes(body[1:7], "big"), body[7], body[8:]))


def read_beast(path: str | Path, counts: FeedCounts, chunk: int = 1 << 20) -> Iterator[
        list[BeastFrame]]:
    """Batches of frames from a Beast recording, read in chunks of ``chunk`` bytes."""
    leftover = b""
    with Path(path).open("rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                break
            frames, leftover = split_frames(leftover + data, counts)
            if frames:
                yield frames
    frames, _ = split_frames(leftover, counts, final=True)
    if frames:
        yield frames
