"""The ASTERIX output (``[[output]] type = "asterix"``): one nation's fused tracks as
CAT062 system tracks (:mod:`.cat062` writes them) to one UDP address or multicast group,
once per period, as an SDPS sends them. docs/OUTPUTS.md ("ASTERIX CAT062")."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import time
from collections import deque
from typing import Annotated, Any

import msgspec

from ..errors import ConfigError
from ..records import AlertEvent, TrackUpdate
from ..sensors import visible
from ._settings import Name, Nation, Port, QueueSize, Seconds
from .cat062 import Cat062Encoder
from .sender import Sender

__all__ = ["Cat062Output", "Cat062Settings"]

log = logging.getLogger("skywarden.publish")


Byte = Annotated[int, msgspec.Meta(ge=0, le=255)]
Ttl = Annotated[int, msgspec.Meta(ge=1, le=255)]
Datagram = Annotated[int, msgspec.Meta(ge=64, le=65507)]


class Cat062Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One CAT062 output (an ``[[output]]`` table with ``type = "asterix"``). Times in
    seconds; ``period_s`` of wall time, ``end_after_s`` of track time."""

    name: Name
    nation: Nation  # whose output this is: only what this nation may see is sent
    host: str  # the receiver's IPv4 address or name, or a group in 224.0.0.0/4
    port: Port
    sac: Byte  # I010: ours, as the producer of the tracks (agreed with the receiver)
    sic: Byte
    service_id: Byte | None = None  # I015, when the receiver tells our services apart
    period_s: Seconds = 1.0  # the latest row of each updated track, once per period
    end_after_s: Seconds = 10.0  # a track with no row this long is ended (TSE)
    max_datagram: Datagram = 1400  # octets of one datagram (one data block)
    queue: QueueSize = 65535  # tracks waiting for the next period (ended ones apart)
    multicast_ttl: Ttl = 1  # to a multicast group: hops
    interface: str | None = None  # to a multicast group: the local IPv4 address to send from

    def check(self) -> Cat062Settings:
        """Cross-field checks, and the ranges again for structs built in code (msgspec
        checks them only when decoding)."""
        what = f"asterix output {self.name!r}"
        if not self.host.strip() or any(c.isspace() for c in self.host):
            raise ConfigError(f"{what}: field host: empty or with spaces")
        group = _ip(self.host)
        if group is not None and group.version != 4:
            raise ConfigError(f"{what}: field host: {self.host!r}: IPv4 only")
        for field in ("sac", "sic", "service_id"):
            v = getattr(self, field)
            if v is not None and not 0 <= v <= 255:
                raise ConfigError(f"{what}: field {field}: {v} is not in 0..255")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"{what}: field port: {self.port} is not in 1..65535")
        if not self.period_s > 0.0:
            raise ConfigError(f"{what}: field period_s: must be above 0")
        if not self.end_after_s >= self.period_s:
            raise ConfigError(f"{what}: field end_after_s: below period_s (tracks would "
                              "end between two of their updates)")
        if not 64 <= self.max_datagram <= 65507:
            raise ConfigError(f"{what}: field max_datagram: {self.max_datagram} is not in "
                              "64..65507")
        if not 1 <= self.queue <= 1_000_000:
            raise ConfigError(f"{what}: field queue: {self.queue} is not in 1..1000000")
        if not 1 <= self.multicast_ttl <= 255:
            raise ConfigError(f"{what}: field multicast_ttl: {self.multicast_ttl} is not "
                              "in 1..255")
        if self.interface is not None:
            addr = _ip(self.interface)
            if addr is None or addr.version != 4:
                raise ConfigError(f"{what}: field interface: {self.interface!r} is not an "
                                  "IPv4 address")
            if group is not None and not group.is_multicast:
                raise ConfigError(f"{what}: field interface: only for a multicast host, "
                                  f"not {self.host!r}")
        return self


class Cat062Output(Sender):
    """Sends one nation's tracks as CAT062 to one UDP address or multicast group.

    :meth:`send_tracks` only queues, and never blocks: it keeps the newest row of each
    track the output's nation may see (a newer row supersedes a waiting one); a sender
    thread sends them once per ``period_s``, as an SDPS sends its picture. A track's
    ``deleted`` row is sent at once with TSE and frees its number; so is a track whose
    rows this nation may no longer see (its last row sent, with TSE), and one with no row
    for ``end_after_s`` of track time. :meth:`close` ends every live track with TSE (our
    numbers do not survive a restart). Alerts have no CAT062 form: :meth:`send_alert`
    counts them as ``skipped_alerts`` (part of ``filtered``).
    """

    kind = "asterix"

    def __init__(self, settings: Cat062Settings) -> None:
        self.settings = s = settings.check()
        super().__init__(s.name, s.nation, (
            "sent", "datagrams", "dropped", "withheld", "superseded", "skipped_alerts",
            "ended", "ended_unseen", "unsent", "errors", "abandoned"))
        self.encoder = Cat062Encoder(s.sac, s.sic, s.max_datagram, service_id=s.service_id)
        self._latest: dict[str, TrackUpdate] = {}  # waiting for the period
        self._ends: deque[TrackUpdate | str] = deque()  # deleted rows; str: withheld now
        self._known: set[str] = set()  # tracks accepted since their last end
        self._live: dict[str, TrackUpdate] = {}  # sender: the last row sent of each track
        self._newest = 0.0  # sender: the latest track time seen
        self._sock: socket.socket | None = None
        self._addr: tuple[str, int] | None = None
        self._thread.start()

    # -- the pipeline's side: queue only ---------------------------------------------------

    def send_tracks(self, rows: list[TrackUpdate]) -> None:
        """Keep the newest row of each track this output's nation may see (never blocks)."""
        counts, latest, known = self._counts, self._latest, self._known
        with self._cond:
            if self._closing:
                return
            wake = False
            for u in rows:
                track = u.track
                if not visible(u.releasability, self.nation):
                    counts["withheld"] += 1
                    if track in known:  # was visible: the receiver must drop it
                        known.discard(track)
                        if latest.pop(track, None) is not None:
                            counts["superseded"] += 1
                        self._end_locked(track)
                        wake = True
                    continue
                if u.status == "deleted":
                    known.discard(track)
                    if latest.pop(track, None) is not None:
                        counts["superseded"] += 1
                    self._end_locked(u)
                    wake = True
                elif track in latest:
                    latest[track] = u
                    counts["superseded"] += 1
                elif len(latest) >= self.settings.queue:
                    counts["dropped"] += 1
                else:
                    latest[track] = u
                    known.add(track)
            if wake:
                self._cond.notify()

    def _end_locked(self, end: TrackUpdate | str) -> None:
        if len(self._ends) >= self.settings.queue:
            self._ends.popleft()
            self._counts["dropped"] += 1
        self._ends.append(end)

    def send_alert(self, event: AlertEvent) -> None:
        """CAT062 has no alert item: counted as ``skipped_alerts``, never sent."""
        with self._cond:
            self._counts["skipped_alerts"] += 1

    def stats(self) -> dict[str, Any]:
        with self._cond:
            c = self._counts
            enc = self.encoder
            out: dict[str, Any] = dict(c)
            out.update(
                no_number=enc.skipped, unencodable=enc.unencodable,
                failed=c["unsent"] + c["abandoned"] + enc.skipped + enc.unencodable,
                filtered=c["withheld"] + c["superseded"] + c["skipped_alerts"]
                + c["ended_unseen"],
                name=self.name, kind=self.kind, nation=self.nation,
                host=self.settings.host, port=self.settings.port,
                live=len(enc.numbers), queued=len(self._latest) + len(self._ends),
                last_error=self._last_error)
        return out

    def close(self, timeout: float = 5.0) -> None:
        """Send what waits and end every live track (TSE) within ``timeout`` seconds, then
        stop; what is left unsent is counted as ``abandoned``."""
        self._stop_thread(timeout, 2.0)
        with self._cond:
            left = len(self._latest) + len(self._ends)
            self._latest.clear()
            self._ends.clear()
            self._counts["abandoned"] += left
        if left:
            log.warning("asterix %s: closed with %d rows unsent", self.name, left)
        self._close_socket()

    # -- the sender thread ---------------------------------------------------------------------

    def _run(self) -> None:
        period = self.settings.period_s
        due = time.monotonic() + period
        while True:
            with self._cond:
                while (not (self._ends or self._closing)
                       and (left := due - time.monotonic()) > 0):
                    self._cond.wait(left)
                closing = self._closing
                ends = list(self._ends)
                self._ends.clear()
                now = time.monotonic()
                batch: list[TrackUpdate] = []
                if closing or now >= due:
                    batch = list(self._latest.values())
                    self._latest.clear()
                    due += period
                    if due <= now:  # fell behind (a slow send): no burst to catch up
                        due = now + period
            rows = self._ending(ends)
            if closing:
                rows += self._ending_all(batch)
            elif batch:
                rows += batch
                rows += self._silent(batch)
            if rows:
                self._send(rows)
            if closing:
                break
        self._close_socket()

    def _ending(self, ends: list[TrackUpdate | str]) -> list[TrackUpdate]:
        """The rows that end tracks: deleted rows, and the last row sent (with TSE) of
        tracks this nation may no longer see; ends of tracks never sent are dropped."""
        out = []
        numbers = self.encoder.numbers
        unseen = 0
        for e in ends:
            if isinstance(e, str):
                last = self._live.get(e)
                if last is not None and e in numbers:
                    out.append(msgspec.structs.replace(last, status="deleted"))
            elif e.track in numbers:
                out.append(e)
            else:
                unseen += 1
        if unseen:
            with self._cond:
                self._counts["ended_unseen"] += unseen
        return out

    def _ending_all(self, batch: list[TrackUpdate]) -> list[TrackUpdate]:
        """At close: the newest row of every live track, with TSE."""
        rows = dict(self._live)
        numbers = self.encoder.numbers
        unseen = 0
        for r in batch:
            if r.track in numbers:
                rows[r.track] = r
            else:  # never sent: the receiver has nothing to drop
                unseen += 1
        if unseen:
            with self._cond:
                self._counts["ended_unseen"] += unseen
        return [msgspec.structs.replace(r, status="deleted") for r in rows.values()]

    def _silent(self, batch: list[TrackUpdate]) -> list[TrackUpdate]:
        """Live tracks with no row for ``end_after_s`` of track time: their last row with
        TSE (a deleted row lost on the bus, or a track no longer published)."""
        newest = max(self._newest, max(r.time for r in batch))
        horizon = newest - self.settings.end_after_s
        fresh = {r.track for r in batch}
        out = [msgspec.structs.replace(r, status="deleted") for t, r in self._live.items()
               if r.time < horizon and t not in fresh]
        if out:
            with self._cond:
                self._known.difference_update(r.track for r in out)
        return out

    def _send(self, rows: list[TrackUpdate]) -> None:
        numbers, live = self.encoder.numbers, self._live
        # Not under the lock: a big picture takes milliseconds to encode, and
        # send_tracks must not wait for it (stats() reads the encoder's ints unlocked).
        grams = self.encoder.datagrams(rows)
        ended = 0
        for r in rows:
            if r.time > self._newest:
                self._newest = r.time
            if r.status == "deleted":
                if live.pop(r.track, None) is not None:
                    ended += 1
            elif r.track in numbers:
                live[r.track] = r
        sent = n_grams = unsent = abandoned = 0
        sock = self._sock or self._open()
        addr = self._addr
        for data, n in grams:
            if self._abort:
                abandoned += n
                continue
            if sock is None or addr is None:
                unsent += n
                continue
            try:
                sock.sendto(data, addr)
            except OSError as exc:
                unsent += n
                self._failed(f"sending to {self.settings.host}:{self.settings.port}: {exc}")
                continue
            sent += n
            n_grams += 1
        with self._cond:
            c = self._counts
            c["sent"] += sent
            c["datagrams"] += n_grams
            c["unsent"] += unsent
            c["abandoned"] += abandoned
            c["ended"] += ended
            if sent:
                self._outage = False  # under the lock already (Sender._recovered's work)

    def _open(self) -> socket.socket | None:
        s = self.settings
        sock = None
        try:
            info = socket.getaddrinfo(s.host, s.port, socket.AF_INET, socket.SOCK_DGRAM)
            addr = info[0][4]
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(1.0)  # a full send buffer: the datagram fails, counted
            if ipaddress.ip_address(addr[0]).is_multicast:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, s.multicast_ttl)
                if s.interface is not None:
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                                    socket.inet_aton(s.interface))
        except OSError as exc:
            if sock is not None:
                sock.close()
            self._failed(f"opening UDP to {s.host}:{s.port}: {exc}")
            return None
        self._sock, self._addr = sock, (str(addr[0]), int(addr[1]))
        return sock

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _failed(self, text: str, then: str = "counted; retried every period") -> None:
        super()._failed(text, then)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
