"""``skywarden play``: a recording played back on the network at its own pace, as the
sensor sent it, so a site file's feeds can be tried without a receiver or a radar.

- ``sbs``, ``avr``, ``beast`` and ``remoteid`` (lines) are served on a TCP port, as
  readsb and dump1090 serve theirs: every client that connects gets the stream from the
  moment it connects (the first is waited for, so nothing is played to nobody);
- ``pcap`` captures are sent as UDP datagrams (their UDP payloads, ASTERIX say) to one
  address, unicast or multicast.

Pace: each unit goes out when ``speed`` times the time since the first unit has passed,
by the recording's own clock: the message time of SBS lines, the epoch or the 12 MHz
counter of AVR and Beast frames, the first field of Remote ID lines, the capture time of
pcap records. A unit without a time goes out with the one before. Beast frames are
written back as Beast (Mode S frames only; Mode A/C and status frames are not replayed).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from .ingest.avr import parse_line as parse_avr
from .ingest.beast import MLAT_HZ, encode_frame, read_beast
from .ingest.counts import FeedCounts
from .ingest.sbs import sbs_time

__all__ = ["FORMATS", "TCP_FORMATS", "Server", "play", "units"]

TCP_FORMATS = ("sbs", "avr", "beast", "remoteid")
FORMATS = (*TCP_FORMATS, "pcap")
Unit = tuple[float | None, bytes]  # (recording time, bytes to send)


def _sbs(lines: Iterable[bytes]) -> Iterator[Unit]:
    for line in lines:
        f = line.split(b",")
        t = None
        if len(f) > 7:
            try:
                t = sbs_time(f[6].decode(), f[7].decode())
            except (ValueError, UnicodeDecodeError, OverflowError):
                t = None
        yield t, line


def _avr(lines: Iterable[bytes]) -> Iterator[Unit]:
    for line in lines:
        got = parse_avr(line)
        t = None
        if not isinstance(got, str):
            epoch, ticks, _ = got
            t = epoch if epoch is not None else (ticks / MLAT_HZ if ticks is not None else None)
        yield t, line


def _remoteid(lines: Iterable[bytes]) -> Iterator[Unit]:
    for line in lines:
        head = line.split(None, 1)
        t = None
        if head and not line.startswith(b"#"):
            try:
                t = float(head[0])
            except ValueError:
                t = None
        yield t, line


def _beast(path: Path) -> Iterator[Unit]:
    for frames in read_beast(path, FeedCounts()):
        for f in frames:
            yield f.ticks / MLAT_HZ, encode_frame(f.ticks, f.signal, f.payload)


def units(fmt: str, path: str | Path) -> Iterator[Unit]:
    """The recording's units with their times, in file order."""
    path = Path(path)
    if fmt == "beast":
        return _beast(path)
    if fmt == "pcap":
        from .ingest.pcap import read_capture

        return ((t, payload) for t, _port, payload in read_capture(path, FeedCounts()))
    lines = path.read_bytes().splitlines(keepends=True)
    if fmt == "sbs":
        return _sbs(lines)
    if fmt == "avr":
        return _avr(lines)
    if fmt == "remoteid":
        return _remoteid(lines)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


class Server:
    """A receiver's TCP port: every connected client gets what :meth:`send` is given."""

    def __init__(self, host: str, port: int) -> None:
        self.listener = socket.create_server((host, port))
        self.address = self.listener.getsockname()[:2]
        self.clients: list[socket.socket] = []
        self.lock = threading.Lock()
        self.joined = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.clients.append(conn)
            self.joined.set()

    def send(self, data: bytes) -> None:
        with self.lock:
            clients = list(self.clients)
        for conn in clients:
            try:
                conn.sendall(data)
            except OSError:  # that client left; the others go on
                with self.lock:
                    self.clients.remove(conn)
                conn.close()

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for conn in self.clients:
                conn.close()
            self.clients.clear()


def play(stream: Iterable[Unit], send, speed: float = 1.0,  # type: ignore[no-untyped-def]
         stop: threading.Event | None = None) -> tuple[int, float]:
    """Send every unit of ``stream`` with ``send(bytes)`` at ``speed`` times its recorded
    pace; (units sent, recording seconds played)."""
    start_wall = time.monotonic()
    first: float | None = None
    last = None
    n = 0
    for t, data in stream:
        if stop is not None and stop.is_set():
            break
        if t is not None:
            if first is None:
                first = t
            last = t
            wait = start_wall + (t - first) / speed - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        send(data)
        n += 1
    return n, (last - first) if first is not None and last is not None else 0.0
