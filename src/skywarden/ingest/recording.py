"""A recorded feed (SBS, Beast, AVR) -> detections.jsonl, with counts by outcome.

The glue of ``skywarden decode``: reads the file in chunks, frames it, decodes it, writes
Detections atomically (:class:`~skywarden.ingest.jsonl.JsonlWriter`). Bad bytes or lines
never stop it; they are counted (:mod:`.counts`) and the valid messages around them kept.

Beast and AVR frames carry no wall-clock time, only a receiver's 12 MHz counter (or
nothing). Their times are ``start`` plus the counter's advance since the first frame;
AVR lines that begin with epoch seconds use those. A counter that jumps back (receiver
restart) re-anchors at the last time seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..records import Detection
from .avr import parse_line
from .beast import MLAT_HZ, read_beast
from .counts import FeedCounts
from .jsonl import JsonlWriter
from .modes import ModeSDecoder, Site
from .sbs import SbsDecoder

FORMATS = ("sbs", "beast", "avr")
BATCH = 4096


class TickClock:
    """Receiver counter ticks -> epoch seconds, anchored at ``start`` on the first frame."""

    __slots__ = ("start", "first", "last_t")

    def __init__(self, start: float) -> None:
        self.start = start
        self.first: int | None = None
        self.last_t = start

    def time(self, ticks: int | None) -> float:
        if ticks is None:
            return self.last_t
        if self.first is None:
            self.first = ticks
        t = self.start + (ticks - self.first) / MLAT_HZ
        if t < self.last_t - 1.0:  # counter reset: continue from the last time
            self.start, self.first, t = self.last_t, ticks, self.last_t
        self.last_t = max(self.last_t, t)
        return t


def read_lines(path: str | Path) -> Iterator[bytes]:
    """Lines of a text recording as bytes (decoding is the reader's job: bad bytes are
    counted there, not raised here)."""
    with Path(path).open("rb") as fh:
        yield from fh


def decode_beast(path: str | Path, decoder: ModeSDecoder, start: float) -> Iterator[Detection]:
    clock = TickClock(start)
    for frames in read_beast(path, decoder.counts):
        for i in range(0, len(frames), BATCH):
            part = frames[i:i + BATCH]
            yield from decoder.feed([clock.time(f.ticks) for f in part],
                                    [f.payload for f in part])


def decode_avr_lines(lines: Iterable[bytes], decoder: ModeSDecoder,
                     start: float) -> Iterator[Detection]:
    clock = TickClock(start)
    times: list[float] = []
    frames: list[bytes] = []
    for line in lines:
        if not line.strip():
            continue
        got = parse_line(line)
        if isinstance(got, str):
            decoder.counts.add(got)
            continue
        epoch, ticks, frame = got
        times.append(epoch if epoch is not None else clock.time(ticks))
        frames.append(frame)
        if len(frames) >= BATCH:
            yield from decoder.feed(times, frames)
            times, frames = [], []
    if frames:
        yield from decoder.feed(times, frames)


def decode_sbs_lines(lines: Iterable[bytes], decoder: SbsDecoder) -> Iterator[Detection]:
    for line in lines:
        det = decoder.line(line)
        if det is not None:
            yield det


def decode_recording(
    fmt: str, path: str | Path, out: str | Path, sensor: str, *,
    site: Site | None = None, start: float = 0.0,
) -> FeedCounts:
    """Decode ``path`` (format ``fmt``) into ``out`` (detections JSON Lines); the counts."""
    counts = FeedCounts()
    dets: Iterator[Detection]
    if fmt == "sbs":
        dets = decode_sbs_lines(read_lines(path), SbsDecoder(sensor, counts))
    elif fmt == "beast":
        dets = decode_beast(path, ModeSDecoder(sensor, site, counts), start)
    elif fmt == "avr":
        dets = decode_avr_lines(read_lines(path), ModeSDecoder(sensor, site, counts), start)
    else:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    with JsonlWriter(out) as writer:
        for det in dets:
            writer.write(det)
    return counts


def registry_toml(sensor: str, site: Site, owner: str) -> str:
    """A one-receiver sensor registry (formats.md "Sensor registry") for ``skywarden replay``."""
    lines = [
        "[[sensor]]",
        f'id = "{sensor}"',
        'type = "adsb"',
        f'owner = "{owner}"',
        f"lat = {site.lat}",
        f"lon = {site.lon}",
    ]
    if site.alt is not None:
        lines.append(f"alt = {site.alt}")
    lines += ["max_range = 450000.0", "sigma_h = 30.0", "sigma_v = 15.0", ""]
    return "\n".join(lines)
