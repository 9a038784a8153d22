"""Live feeds: a socket source, a framer and a decoder per feed, feeding the runtime.

A feed is declared in the site configuration (``[[feed]]`` in site.toml, see
:mod:`.site`) and runs here::

    socket (ingest.sources) -> bytes -> framer -> decoder (ingest.*) -> Detections
                                                          -> runtime.ingest_records

Framing is per format: SBS and AVR are lines (a line cut between two reads is kept for
the next read), Beast is escaped binary frames (the unfinished tail is kept), ASTERIX
and Remote ID arrive one datagram at a time. When a TCP connection is re-made, a half
line or frame of the old connection is dropped (counted), never glued to the new one.

Times: Beast and AVR frames carry only a receiver's counter, and SBS lines the
feeder's local clock (often not UTC), so live detections of those feeds are stamped with
the time the bytes arrived (``time = "received"``, the default; network delay on a
receiver's LAN is milliseconds). ``time = "message"`` keeps the time the message says
(for SBS from a feeder known to write UTC, or AVR lines that start with epoch seconds).
ASTERIX and Remote ID carry a time of day, anchored to the arrival date.

Every unit (line, frame, record) is counted once in the feed's
:class:`~skywarden.ingest.counts.FeedCounts`, and served as
``skywarden_feed_units_total{feed,outcome}`` on ``/metrics`` and on ``/api/v1/feeds``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ..backoff import Backoff
from ..errors import RecordError
from ..ingest.avr import parse_lines
from ..ingest.beast import split_frames
from ..ingest.counts import FeedCounts
from ..ingest.modes import ModeSDecoder, Site
from ..ingest.sbs import SbsDecoder
from ..ingest.sources import TcpClient, UdpListener, parse_address
from ..records import Detection
from ..sensors import SensorRegistry

if TYPE_CHECKING:
    from .site import FeedSettings

__all__ = ["Feed", "make_framer", "start_feeds"]

log = logging.getLogger("skywarden.live")

Ingest = Callable[[list[Detection], str], None]
MAX_LINE = 4096  # a "line" longer than this is not a feed line: drop it


class LineFramer:
    """Bytes -> complete lines (``\\n``-ended); the tail waits for the next read."""

    def __init__(self, counts: FeedCounts, what: str) -> None:
        self.counts = counts
        self.what = what
        self.tail = b""

    def lines(self, data: bytes) -> list[bytes]:
        buf = self.tail + data
        lines = buf.split(b"\n")
        self.tail = lines.pop()
        if len(self.tail) > MAX_LINE:
            self.counts.add(f"rejected: {self.what} line longer than {MAX_LINE} bytes")
            self.tail = b""
        return lines

    def reset(self) -> None:
        if self.tail.strip():
            self.counts.add(f"rejected: {self.what} line cut by a reconnection")
        self.tail = b""


class SbsFramer:
    def __init__(self, sensor: str, counts: FeedCounts, use_message_time: bool) -> None:
        self.decoder = SbsDecoder(sensor, counts)
        self.framer = LineFramer(counts, "SBS")
        self.use_message_time = use_message_time

    def push(self, data: bytes, received: float) -> list[Detection]:
        out = []
        for line in self.framer.lines(data):
            det = self.decoder.line(line)
            if det is not None:
                if not self.use_message_time:
                    det = msgspec.structs.replace(det, time=received)
                out.append(det)
        return out

    def reset(self) -> None:
        self.framer.reset()


class AvrFramer:
    def __init__(self, decoder: ModeSDecoder, use_message_time: bool) -> None:
        self.decoder = decoder
        self.framer = LineFramer(decoder.counts, "AVR")
        self.use_message_time = use_message_time

    def push(self, data: bytes, received: float) -> list[Detection]:
        times: list[float] = []
        frames: list[bytes] = []
        for epoch, _ticks, frame in parse_lines(self.framer.lines(data), self.decoder.counts):
            times.append(epoch if epoch is not None and self.use_message_time else received)
            frames.append(frame)
        return self.decoder.feed(times, frames) if frames else []

    def reset(self) -> None:
        self.framer.reset()


class BeastFramer:
    def __init__(self, decoder: ModeSDecoder) -> None:
        self.decoder = decoder
        self.tail = b""

    def push(self, data: bytes, received: float) -> list[Detection]:
        frames, self.tail = split_frames(self.tail + data, self.decoder.counts)
        if not frames:
            return []
        return self.decoder.feed([received] * len(frames), [f.payload for f in frames])

    def reset(self) -> None:
        if self.tail:
            self.decoder.counts.add("rejected: Beast frame cut by a reconnection")
        self.tail = b""


class DatagramFramer:
    """One datagram (or one TCP read of whole messages) -> a decoder call."""

    def __init__(self, decode: Callable[[bytes, float], list[Detection]]) -> None:
        self.decode = decode

    def push(self, data: bytes, received: float) -> list[Detection]:
        return self.decode(data, received)

    def reset(self) -> None:
        pass


class RemoteIdLineFramer:
    """Remote ID over TCP: lines of the recording format (``EPOCH HEX``)."""

    def __init__(self, decoder: Any, counts: FeedCounts) -> None:
        from ..ingest.remoteid import decode_remoteid_lines

        self.decoder = decoder
        self.decode_lines = decode_remoteid_lines
        self.framer = LineFramer(counts, "Remote ID")

    def push(self, data: bytes, received: float) -> list[Detection]:
        return list(self.decode_lines(self.framer.lines(data), self.decoder))

    def reset(self) -> None:
        self.framer.reset()


def make_framer(settings: FeedSettings, registry: SensorRegistry, counts: FeedCounts) -> Any:
    """The framer and decoder of one feed (its settings already checked by :mod:`.site`)."""
    kind = settings.type
    message_time = settings.time == "message"
    if kind == "sbs":
        return SbsFramer(settings.sensor or "", counts, message_time)
    if kind in ("beast", "avr"):
        sensor = registry[settings.sensor or ""]
        site = Site(sensor.lat, sensor.lon, sensor.alt) if sensor.sited else None  # type: ignore[arg-type]
        decoder = ModeSDecoder(sensor.id, site, counts)
        return BeastFramer(decoder) if kind == "beast" else AvrFramer(decoder, message_time)
    if kind == "asterix":
        from ..ingest.asterix import AsterixDecoder

        return DatagramFramer(AsterixDecoder.from_registry(registry, counts).datagram)
    if kind == "remoteid":
        from ..ingest.remoteid import RemoteIdDecoder

        rid = RemoteIdDecoder(settings.sensor or "", counts)
        if settings.connect is not None:
            return RemoteIdLineFramer(rid, counts)
        return DatagramFramer(rid.frame)
    raise ValueError(f"feed type {kind!r} has no framer")


class Feed:
    """One running feed: its source thread, framer, counts; detections go to ``ingest``.

    The source thread calls :meth:`_data`; the lock keeps ``stats()`` readers from
    seeing a half-updated framer (they only read counters, so contention is nil)."""

    def __init__(self, settings: FeedSettings, registry: SensorRegistry, ingest: Ingest,
                 *, backoff: Backoff | None = None,
                 now: Callable[[], float] | None = None) -> None:
        self.settings = settings
        # "Received" is the service clock's time (scenario time when a recording is played
        # in on a simulated clock), not necessarily the wall clock's.
        self.now = now
        self.name = settings.name
        self.counts = FeedCounts()
        self.framer = make_framer(settings, registry, self.counts)
        self.ingest = ingest
        self.refused = 0  # detections the runtime refused (counted there by reason too)
        self._lock = threading.Lock()
        self.source: TcpClient | UdpListener
        if settings.connect is not None:
            host, port = parse_address(settings.connect, "connect")
            self.source = TcpClient(settings.name, host, port, self._data,
                                    on_reset=self._reset, backoff=backoff,
                                    idle_s=settings.idle_s)
        else:
            host, port = parse_address(settings.listen or "", "listen")
            self.source = UdpListener(settings.name, host, port, self._data,
                                      group=settings.group, interface=settings.interface)

    def start(self) -> None:
        self.source.start()

    def stop(self) -> None:
        self.source.stop()

    def _reset(self) -> None:
        with self._lock:
            self.framer.reset()

    def _data(self, data: bytes, received: float) -> None:
        if self.now is not None:
            received = self.now()
        with self._lock:
            dets = self.framer.push(data, received)
        if not dets:
            return
        try:
            self.ingest(dets, f"feed:{self.name}")
        except RecordError as exc:
            # A detection the runtime will not take (its clock far off, say): the batch
            # is refused whole and counted; the feed goes on with the next read.
            self.refused += len(dets)
            log.warning("feed %s: %d detection(s) refused: %s", self.name, len(dets), exc)

    def stats(self) -> dict[str, Any]:
        """The feed's state for the API and metrics (plain JSON-able values)."""
        s = self.source.stats
        with self._lock:
            outcomes = dict(self.counts.outcomes)
            units = self.counts.units
            detections, rejected = self.counts.positions, self.counts.rejected
        return {
            "name": self.name, "type": self.settings.type, "sensor": self.settings.sensor,
            "address": self.settings.connect or self.settings.listen,
            "mode": "tcp-client" if self.settings.connect else "udp",
            "connected": s.connected, "connects": s.connects, "failures": s.failures,
            "bytes": s.bytes, "last_data": s.last_data, "last_error": s.last_error,
            "units": units, "detections": detections, "rejected": rejected,
            "refused": self.refused, "outcomes": outcomes,
        }


def start_feeds(feeds: list[FeedSettings], registry: SensorRegistry,
                ingest: Ingest, now: Callable[[], float] | None = None) -> list[Feed]:
    """Make and start every feed; a feed that cannot start (a port in use) is logged and
    retried by its own thread (TCP) or reported in its stats (UDP), never fatal."""
    running = [Feed(f, registry, ingest, now=now) for f in feeds]
    for feed in running:
        feed.start()
        log.info("feed %s (%s) started: %s %s", feed.name, feed.settings.type,
                 "connecting to" if feed.settings.connect else "listening on",
                 feed.settings.connect or feed.settings.listen)
    return running
