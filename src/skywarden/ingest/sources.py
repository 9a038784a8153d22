"""The only socket code of ingest: a TCP client that reconnects, and a UDP listener.

Both hand raw bytes, with the time they arrived, to a callback; framing and decoding are
not done here (they are pure functions elsewhere in :mod:`skywarden.ingest`), so each
can be tested on recordings without a socket, and these on sockets without a decoder.

- :class:`TcpClient` connects to a receiver that serves its feed on a TCP port (readsb
  and dump1090: SBS on 30003, raw AVR on 30002, Beast on 30005). When the connection
  fails, is closed, or stays silent longer than ``idle_s`` (a receiver that hangs
  without closing), it reconnects after a delay that doubles from ``backoff.base`` up to
  ``backoff.cap`` with random jitter, so that many clients do not all retry at once after
  a receiver restarts (:class:`skywarden.backoff.Backoff`); a connection that delivered
  data resets the delay. ``on_reset``
  is called at each new connection so the framer drops a half-received frame.
- :class:`UdpListener` receives datagrams on a port, and joins a multicast group when
  one is given (ASTERIX from radars and trackers is usually multicast).

Neither ever raises out of its thread: errors are counted in :class:`SourceStats`, with
the last one's text, and logged once per state change, not per retry.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..backoff import Backoff

__all__ = ["SourceStats", "TcpClient", "UdpListener", "check_multicast", "parse_address"]

log = logging.getLogger("skywarden.ingest")

OnData = Callable[[bytes, float], None]
RECV_BYTES = 1 << 16
POLL_S = 0.5  # how often a blocked read looks at the stop flag


def parse_address(text: str, what: str = "address") -> tuple[str, int]:
    """``"host:port"`` (or ``"[v6]:port"``) -> (host, port); ValueError naming ``what``."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{what} {text!r}: expected HOST:PORT, e.g. 127.0.0.1:30005")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{what} {text!r}: port {port_text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{what} {text!r}: port {port} is not 1-65535")
    return host, port


@dataclass
class SourceStats:
    """What a source has seen (read by metrics and the feeds API; written by its thread)."""

    connected: bool = False
    connects: int = 0  # successful connections (TCP) or binds (UDP)
    failures: int = 0  # connection attempts that failed, and connections lost
    bytes: int = 0
    messages: int = 0  # reads (TCP) or datagrams (UDP) handed on
    last_data: float | None = None  # epoch s
    last_error: str | None = None
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str, exc: BaseException | str) -> None:
        self.failures += 1
        self.errors[what] = self.errors.get(what, 0) + 1
        self.last_error = f"{what}: {exc}"


class _Source:
    """A named daemon thread with a stop flag, stats, and a callback that must not kill
    it: an exception in ``on_data`` (a decoder bug) is logged and counted, and the
    source goes on with the next bytes."""

    def __init__(self, name: str, on_data: OnData) -> None:
        self.name = name
        self.on_data = on_data
        self.stats = SourceStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"feed-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _hand_on(self, data: bytes) -> None:
        now = time.time()
        st = self.stats
        st.bytes += len(data)
        st.messages += 1
        st.last_data = now
        try:
            self.on_data(data, now)
        except Exception as exc:  # a decoder bug must not stop the feed
            st.errors["handler"] = st.errors.get("handler", 0) + 1
            st.last_error = f"handler: {exc!r}"
            log.exception("feed %s: the handler failed on %d bytes; going on", self.name,
                          len(data))

    def _run(self) -> None:
        raise NotImplementedError


class TcpClient(_Source):
    """Connects to ``host:port`` and reads until stopped, reconnecting with backoff."""

    def __init__(self, name: str, host: str, port: int, on_data: OnData, *,
                 on_reset: Callable[[], None] | None = None, backoff: Backoff | None = None,
                 connect_timeout: float = 5.0, idle_s: float = 60.0) -> None:
        super().__init__(name, on_data)
        self.host, self.port = host, port
        self.on_reset = on_reset
        self.backoff = backoff or Backoff()
        self.connect_timeout = connect_timeout
        self.idle_s = idle_s

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._connect()
            if sock is not None:
                with sock:
                    self._read(sock)
                self.stats.connected = False
            if not self._stop.is_set():
                self._stop.wait(self.backoff.next_delay())

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError as exc:
            if self.stats.last_error is None or not self.stats.last_error.startswith("connect"):
                log.warning("feed %s: cannot connect to %s:%d: %s; retrying with backoff",
                            self.name, self.host, self.port, exc)
            self.stats.error("connect", exc.strerror or exc)
            return None
        sock.settimeout(POLL_S)
        self.stats.connected = True
        self.stats.connects += 1
        log.info("feed %s: connected to %s:%d", self.name, self.host, self.port)
        if self.on_reset is not None:
            self.on_reset()
        return sock

    def _read(self, sock: socket.socket) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                data = sock.recv(RECV_BYTES)
            except TimeoutError:
                if time.monotonic() - last > self.idle_s:
                    self.stats.error("idle", f"no data for {self.idle_s:g} s")
                    log.warning("feed %s: silent for %g s; reconnecting", self.name,
                                self.idle_s)
                    return
                continue
            except OSError as exc:
                self.stats.error("read", exc.strerror or exc)
                log.warning("feed %s: connection lost: %s", self.name, exc)
                return
            if not data:
                self.stats.error("closed", "closed by the receiver")
                log.warning("feed %s: the receiver closed the connection", self.name)
                return
            last = time.monotonic()
            self.backoff.reset()
            self._hand_on(data)


class UdpListener(_Source):
    """Receives datagrams on ``host:port``; with ``group``, joins that multicast group
    (on the interface whose address is ``interface``, default any)."""

    def __init__(self, name: str, host: str, port: int, on_data: OnData, *,
                 group: str | None = None, interface: str | None = None,
                 buffer_bytes: int = 4 << 20) -> None:
        super().__init__(name, on_data)
        self.host, self.port = host, port
        self.group, self.interface = group, interface
        self.buffer_bytes = buffer_bytes
        self._bound = threading.Event()
        self.address: tuple[str, int] | None = None

    def wait_bound(self, timeout: float = 5.0) -> tuple[str, int]:
        """The address actually bound (port 0 picks a free one); raises if it failed."""
        if not self._bound.wait(timeout) or self.address is None:
            raise OSError(f"feed {self.name}: could not bind: {self.stats.last_error}")
        return self.address

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # A burst of radar plots must not overflow the kernel's small default buffer.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.buffer_bytes)
            if self.group is not None:
                # Bind the group's port on any address so the group's datagrams arrive.
                sock.bind(("" if self.host in ("0.0.0.0", "") else self.host, self.port))
                iface = socket.inet_aton(self.interface or "0.0.0.0")
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                struct.pack("4s4s", socket.inet_aton(self.group), iface))
            else:
                sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(POLL_S)
        return sock

    def _run(self) -> None:
        try:
            sock = self._open()
        except OSError as exc:
            self.stats.error("bind", exc.strerror or exc)
            log.error("feed %s: cannot listen on %s:%d%s: %s", self.name, self.host,
                      self.port, f" (group {self.group})" if self.group else "", exc)
            self._bound.set()
            return
        with sock:
            self.address = sock.getsockname()
            self.stats.connected = True
            self.stats.connects += 1
            self._bound.set()
            while not self._stop.is_set():
                try:
                    data = sock.recv(RECV_BYTES)
                except TimeoutError:
                    continue
                except OSError as exc:
                    self.stats.error("read", exc.strerror or exc)
                    continue
                self._hand_on(data)
        self.stats.connected = False


def check_multicast(group: str) -> None:
    """ValueError unless ``group`` is an IPv4 multicast address (224.0.0.0/4)."""
    try:
        ip = ipaddress.IPv4Address(group)
    except ValueError:
        raise ValueError(f"group {group!r} is not an IPv4 address") from None
    if not ip.is_multicast:
        raise ValueError(f"group {group!r} is not a multicast address (224.0.0.0/4)")
