"""A recorded feed (SBS, Beast, AVR, ASTERIX, pcap, Remote ID) -> detections, counted.

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
from ..sensors import SensorRegistry
from .avr import parse_lines
from .beast import MLAT_HZ, read_beast
from .counts import FeedCounts
from .jsonl import JsonlWriter
from .modes import ModeSDecoder, Site
from .sbs import SbsDecoder

FORMATS = ("sbs", "beast", "avr", "asterix", "pcap", "remoteid")
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
    for epoch, ticks, frame in parse_lines(lines, decoder.counts):
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


def detections_of(
    fmt: str, path: str | Path, counts: FeedCounts, *, sensor: str | None = None,
    registry: SensorRegistry | None = None, site: Site | None = None, start: float = 0.0,
    port: int | None = None,
) -> Iterator[Detection]:
    """The detections of the recording ``path`` in format ``fmt``, counting every unit in
    ``counts``. ADS-B and Remote ID recordings are one ``sensor``'s; ASTERIX and pcap
    name their sensors by SAC/SIC, looked up in ``registry``. ``start``: epoch seconds of
    the first Beast/AVR frame, or any instant of a raw ASTERIX recording's UTC day.
    ``port``: only a pcap's UDP datagrams to this port."""
    if fmt in ("sbs", "beast", "avr", "remoteid") and not sensor:
        raise ValueError(f"a {fmt} recording is one receiver's: give its sensor id")
    if fmt == "sbs":
        return decode_sbs_lines(read_lines(path), SbsDecoder(sensor or "", counts))
    if fmt == "beast":
        return decode_beast(path, ModeSDecoder(sensor or "", site, counts), start)
    if fmt == "avr":
        return decode_avr_lines(read_lines(path), ModeSDecoder(sensor or "", site, counts),
                                start)
    if fmt == "remoteid":
        from .remoteid import RemoteIdDecoder, decode_remoteid_lines

        return decode_remoteid_lines(read_lines(path), RemoteIdDecoder(sensor or "", counts))
    if fmt in ("asterix", "pcap"):
        from .asterix import AsterixDecoder, decode_asterix_file, decode_pcap_file

        if registry is None or not any(s.sac is not None for s in registry):
            raise ValueError("ASTERIX records name their sensor by SAC/SIC: give a sensor "
                             "registry whose radars have 'sac' and 'sic'")
        decoder = AsterixDecoder.from_registry(registry, counts)
        if fmt == "asterix":
            return decode_asterix_file(path, decoder, start)
        return decode_pcap_file(path, decoder, port)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def decode_recording(
    fmt: str, path: str | Path, out: str | Path, sensor: str | None = None, *,
    site: Site | None = None, start: float = 0.0, registry: SensorRegistry | None = None,
    port: int | None = None,
) -> FeedCounts:
    """Decode ``path`` (format ``fmt``) into ``out`` (detections JSON Lines, written
    atomically: a failed run leaves no half file); the counts."""
    counts = FeedCounts()
    dets = detections_of(fmt, path, counts, sensor=sensor, registry=registry, site=site,
                         start=start, port=port)
    with JsonlWriter(out) as writer:
        for det in dets:
            writer.write(det)
    return counts


UNITS = {"sbs": "lines", "avr": "lines", "remoteid": "lines", "beast": "frames",
         "asterix": "records", "pcap": "records"}


def registry_toml(sensor: str, site: Site, owner: str, kind: str = "adsb") -> str:
    """A one-receiver sensor registry (formats.md "Sensor registry") for ``skywarden replay``."""
    lines = [
        "[[sensor]]",
        f'id = "{sensor}"',
        f'type = "{kind}"',
        f'owner = "{owner}"',
        f"lat = {site.lat}",
        f"lon = {site.lon}",
    ]
    if site.alt is not None:
        lines.append(f"alt = {site.alt}")
    # An ADS-B receiver hears aircraft out to the horizon; a Remote ID receiver hears
    # Bluetooth and Wi-Fi broadcasts a few kilometres away.
    reach = 5000.0 if kind == "remote_id" else 450000.0
    lines += [f"max_range = {reach}", "sigma_h = 30.0", "sigma_v = 15.0", ""]
    return "\n".join(lines)
