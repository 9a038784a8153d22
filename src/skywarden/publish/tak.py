"""The TAK output: tracks and alert markers as Cursor-on-Target to a TAK server or clients.

Protocols (``TakSettings.protocol``):

- ``tcp``: one connection, a stream of CoT events (TAK Server's plain streaming input,
  usually port 8087; FreeTAKServer 8087);
- ``tls``: the same over TLS (TAK Server 8089): the server is checked against
  ``ca_file`` (the system's CAs without it) and, with ``verify_hostname``, its name;
  ``cert_file``/``key_file`` are our client certificate when the server asks for one;
- ``udp``: one event per datagram, to a host or a multicast group (ATAK's default
  situational-awareness group is 239.2.3.1:6969).

It never blocks the pipeline: :meth:`TakOutput.send_tracks` and :meth:`send_alert` only
queue, and one sender thread per output writes. The queues are bounded: track rows are
kept per track (a newer row replaces a queued one of the same track), and when ``queue``
tracks wait the oldest is dropped, counted; alerts have their own queue, which the
sender empties first, so a flood of tracks never delays or drops an alert.

A row is sent only if the output's nation may see it (:func:`~skywarden.sensors.
visible` on its releasability; withheld rows are counted), and a track at most once per
``min_interval_s`` of track time unless its status changed. A lost connection is retried
with capped exponential backoff and jitter (:class:`skywarden.backoff.Backoff`); the event being
written when the connection failed is sent again after reconnecting. Delivery is at most
once otherwise: TCP gives no receipt, so events written just before a server dies can be
lost. The next update of the track repairs the picture.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import ssl
import time
from collections import OrderedDict, deque
from typing import Any, Literal

import msgspec

from ..backoff import Backoff
from ..errors import ConfigError
from ..records import AlertEvent, TrackUpdate
from ..sensors import visible
from ._settings import (
    Level,
    Name,
    Nation,
    NonNegativeSeconds,
    Port,
    QueueSize,
    Seconds,
    check_env,
    check_file,
)
from .cot import CotTypes, alert_event, load_cot_types, track_event
from .sender import Sender

__all__ = ["TakOutput", "TakSettings"]

log = logging.getLogger("skywarden.publish")


class TakSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One TAK output (a ``[[tak]]`` table of the site file). Times in seconds."""

    name: Name
    host: str
    port: Port
    nation: Nation  # whose output this is: only what this nation may see is sent
    protocol: Literal["tcp", "udp", "tls"] = "tcp"
    ca_file: str | None = None  # tls: CA bundle (PEM) that signed the server's certificate
    cert_file: str | None = None  # tls: our client certificate (PEM), if the server asks
    key_file: str | None = None  # tls: its private key (PEM); None: inside cert_file
    key_password_env: str | None = None  # tls: environment variable holding the key password
    verify_hostname: bool = True  # tls: the certificate must name ``host``
    stale_s: Seconds = 30.0  # a track symbol goes stale this long after its last update
    alert_stale_s: Seconds = 600.0  # an alert marker, after its last change
    min_interval_s: NonNegativeSeconds = 1.0  # per track, unless its status changes
    queue: QueueSize = 2000  # tracks waiting (and, separately, alerts waiting)
    alerts: bool = True  # send alert markers
    alert_min_level: Level = 1  # markers for alerts from this level (followed to the end)
    uid_prefix: str = "skywarden"
    multicast_ttl: int = 1  # udp to a multicast group: hops
    connect_timeout_s: Seconds = 5.0
    write_timeout_s: Seconds = 5.0
    backoff_initial_s: Seconds = 0.5
    backoff_max_s: Seconds = 30.0
    types_file: str | None = None  # another cot_types.toml

    def check(self) -> TakSettings:
        """Cross-field and file checks (types and ranges are checked by msgspec)."""
        what = f"tak output {self.name!r}"
        if not self.host.strip():
            raise ConfigError(f"{what}: field host: empty")
        if self.protocol != "tls":
            for field in ("ca_file", "cert_file", "key_file", "key_password_env"):
                if getattr(self, field) is not None:
                    raise ConfigError(f"{what}: field {field}: only for protocol 'tls', "
                                      f"not {self.protocol!r}")
        if self.key_file is not None and self.cert_file is None:
            raise ConfigError(f"{what}: field key_file: needs cert_file")
        for field in ("ca_file", "cert_file", "key_file", "types_file"):
            check_file(what, field, getattr(self, field))
        check_env(what, "key_password_env", self.key_password_env)
        if not 1 <= self.multicast_ttl <= 255:
            raise ConfigError(f"{what}: field multicast_ttl: {self.multicast_ttl} is not "
                              "in 1..255")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ConfigError(f"{what}: field backoff_max_s: below backoff_initial_s")
        if not self.uid_prefix or any(c.isspace() for c in self.uid_prefix):
            raise ConfigError(f"{what}: field uid_prefix: empty or with spaces")
        return self

    def ssl_context(self) -> ssl.SSLContext:
        """The client TLS context: server verified against ``ca_file`` (or the system's
        CAs), host name checked when ``verify_hostname``, our certificate if given."""
        what = f"tak output {self.name!r}"
        try:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            ctx.check_hostname = self.verify_hostname
            ctx.verify_mode = ssl.CERT_REQUIRED  # never off, even without the name check
            if self.cert_file is not None:
                password = (os.environ.get(self.key_password_env)
                            if self.key_password_env else None)
                ctx.load_cert_chain(self.cert_file, self.key_file, password=password)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{what}: TLS files: {exc}") from exc
        return ctx


class TakOutput(Sender):
    """Sends one nation's tracks and alert markers to one TAK endpoint (module docstring).
    The sender thread starts at once; :meth:`close` flushes and stops it."""

    kind = "tak"

    def __init__(self, settings: TakSettings, *, types: CotTypes | None = None,
                 idle_s: float = 0.5) -> None:
        self.settings = settings.check()
        super().__init__(settings.name, settings.nation, (
            "sent", "sent_alerts", "dropped", "dropped_tracks", "dropped_alerts", "replaced",
            "throttled", "withheld", "skipped_alerts", "connects", "errors", "unencodable",
            "abandoned"))
        self._types = types or load_cot_types(settings.types_file)
        self._ssl = settings.ssl_context() if settings.protocol == "tls" else None
        self._idle_s = idle_s  # how often an idle sender reads what the server sent
        self._alerts: deque[AlertEvent] = deque()
        self._tracks: OrderedDict[str, TrackUpdate] = OrderedDict()
        self._last: dict[str, tuple[float, str]] = {}  # track -> (time, status) accepted
        self._shown: set[str] = set()  # alerts with a marker out there
        self._pending: bytes | None = None  # the event being sent (kept over reconnects)
        self._pending_alert = False
        self._sock: socket.socket | None = None
        self._addr: Any = None
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        self._thread.start()

    # -- the pipeline's side: queue only ---------------------------------------------------

    def send_tracks(self, rows: list[TrackUpdate]) -> None:
        """Queue the rows this output's nation may see (never blocks)."""
        s, counts = self.settings, self._counts
        with self._cond:
            if self._closing:
                return
            for u in rows:
                if not visible(u.releasability, self.nation):
                    counts["withheld"] += 1
                    continue
                last = self._last.get(u.track)
                if (last is not None and u.status == last[1]
                        and u.time - last[0] < s.min_interval_s):
                    counts["throttled"] += 1
                    continue
                if u.status == "deleted":
                    self._last.pop(u.track, None)
                else:
                    self._last[u.track] = (u.time, u.status)
                if u.track in self._tracks:
                    self._tracks[u.track] = u  # the newest row of a track is what counts
                    counts["replaced"] += 1
                else:
                    if len(self._tracks) >= s.queue:
                        self._tracks.popitem(last=False)
                        counts["dropped"] += 1
                        counts["dropped_tracks"] += 1
                    self._tracks[u.track] = u
            if len(self._last) > 4 * s.queue + 10_000:
                self._forget_old()
            self._cond.notify()

    def send_alert(self, event: AlertEvent) -> None:
        """Queue an alert marker change, if this output shows it (never blocks)."""
        s, counts = self.settings, self._counts
        if not s.alerts:
            return
        with self._cond:
            if self._closing:
                return
            if not visible(event.releasability, self.nation):
                counts["withheld"] += 1
                return
            shown = event.alert in self._shown
            if event.lat is None or event.lon is None or (
                    not shown and (event.level < s.alert_min_level or event.event == "ended")):
                counts["skipped_alerts"] += 1
                return
            if event.event == "ended":
                self._shown.discard(event.alert)
            else:
                self._shown.add(event.alert)
            if len(self._alerts) >= s.queue:
                self._alerts.popleft()
                counts["dropped"] += 1
                counts["dropped_alerts"] += 1
                log.error("tak %s: alert queue full (%d): dropped the oldest alert marker",
                          self.name, s.queue)
            self._alerts.append(event)
            self._cond.notify()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            c = self._counts
            out: dict[str, Any] = dict(c)
            out.update(
                failed=c["abandoned"] + c["unencodable"],
                filtered=c["withheld"] + c["throttled"] + c["skipped_alerts"],
                name=self.name, kind=self.kind, protocol=self.settings.protocol,
                nation=self.nation, connected=self._sock is not None,
                reconnects=max(0, self._counts["connects"] - 1),
                queued=len(self._tracks), queued_alerts=len(self._alerts),
                last_error=self._last_error)
        return out

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued within ``timeout`` seconds, then stop; what is left is
        counted as ``abandoned``."""
        self._stop_thread(timeout, max(1.0, self.settings.write_timeout_s))
        with self._cond:
            left = len(self._tracks) + len(self._alerts) + (self._pending is not None)
            self._tracks.clear()
            self._alerts.clear()
            self._pending = None
            self._counts["abandoned"] += left
        if left:
            log.warning("tak %s: closed with %d events unsent", self.name, left)
        self._disconnect()

    # -- the sender thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._abort:
                    break
                if self._pending is None and not (self._alerts or self._tracks):
                    if self._closing:
                        break
                    self._cond.wait(self._idle_s)
                record = None if self._pending is not None else self._next_locked()
            if record is not None:
                self._pending = self._encode(record)
                self._pending_alert = isinstance(record, AlertEvent)
            if self._sock is not None and self.settings.protocol != "udp":
                self._read_incoming()
            if self._pending is None:
                continue
            if self._sock is None and not self._connect():
                self._sleep(self._backoff.next_delay())
                continue
            if self._write(self._pending):
                with self._cond:
                    self._pending = None
                self._recovered()
                self._backoff.reset()
            else:
                self._sleep(self._backoff.next_delay())
        self._disconnect()

    def _next_locked(self) -> AlertEvent | TrackUpdate | None:
        if self._alerts:
            return self._alerts.popleft()
        if self._tracks:
            return self._tracks.popitem(last=False)[1]
        return None

    def _encode(self, record: AlertEvent | TrackUpdate) -> bytes | None:
        s = self.settings
        try:
            if isinstance(record, AlertEvent):
                return alert_event(record, stale_s=s.alert_stale_s, types=self._types,
                                   uid_prefix=s.uid_prefix)
            return track_event(record, stale_s=s.stale_s, types=self._types,
                               uid_prefix=s.uid_prefix)
        except (ValueError, KeyError, OverflowError) as exc:  # a record we cannot draw
            with self._cond:
                self._counts["unencodable"] += 1
            self._failed(f"encoding {type(record).__name__}: {exc}")
            return None

    def _sleep(self, delay: float) -> None:
        end = time.monotonic() + delay
        with self._cond:
            while not self._abort and (left := end - time.monotonic()) > 0:
                self._cond.wait(left)

    def _connect(self) -> bool:
        s = self.settings
        sock: socket.socket | None = None
        try:
            if s.protocol == "udp":
                family, _, _, _, addr = socket.getaddrinfo(
                    s.host, s.port, type=socket.SOCK_DGRAM)[0]
                sock = socket.socket(family, socket.SOCK_DGRAM)
                if _is_multicast(str(addr[0])):
                    level, opt = ((socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS)
                                  if family == socket.AF_INET6
                                  else (socket.IPPROTO_IP, socket.IP_MULTICAST_TTL))
                    sock.setsockopt(level, opt, s.multicast_ttl)
                self._addr = addr
            else:
                sock = socket.create_connection((s.host, s.port), timeout=s.connect_timeout_s)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                if self._ssl is not None:
                    sock = self._ssl.wrap_socket(sock, server_hostname=s.host)
                sock.settimeout(s.write_timeout_s)
        except (OSError, ssl.SSLError) as exc:
            if sock is not None:
                sock.close()
            self._failed(f"connecting to {s.host}:{s.port} ({s.protocol}): {exc}")
            return False
        with self._cond:
            self._sock = sock
            self._counts["connects"] += 1
            again = self._counts["connects"] > 1
        log.info("tak %s: %s to %s:%d (%s)", self.name,
                 "reconnected" if again else "connected", s.host, s.port, s.protocol)
        return True

    def _write(self, data: bytes) -> bool:
        sock = self._sock
        assert sock is not None
        try:
            if self.settings.protocol == "udp":
                sock.sendto(data, self._addr)
            else:
                sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            self._failed(f"sending to {self.settings.host}:{self.settings.port}: {exc}")
            self._disconnect()
            return False
        with self._cond:
            self._counts["sent"] += 1
            if self._pending_alert:
                self._counts["sent_alerts"] += 1
        return True

    def _read_incoming(self) -> None:
        """Read and discard what the server sends (TAK Server relays other clients' CoT
        and pings): a full receive buffer would stall the connection, and an end of
        stream is how a closed server shows before a write fails."""
        sock = self._sock
        assert sock is not None
        try:
            sock.settimeout(0.0)
            while True:
                if not sock.recv(65536):
                    raise ConnectionError("the server closed the connection")
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except (OSError, ssl.SSLError) as exc:
            self._failed(f"{self.settings.host}:{self.settings.port}: {exc}")
            self._disconnect()
            return
        try:
            sock.settimeout(self.settings.write_timeout_s)
        except OSError:
            self._disconnect()

    def _disconnect(self) -> None:
        with self._cond:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _failed(self, text: str, then: str = "retrying with backoff; counted") -> None:
        super()._failed(text, then)

    def _forget_old(self) -> None:
        newest = max(t for t, _ in self._last.values())
        horizon = newest - max(600.0, 10 * self.settings.stale_s)
        self._last = {k: v for k, v in self._last.items() if v[0] >= horizon}


def _is_multicast(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False
