"""The store writer: a consumer of the bus that makes the live picture outlive the process.

It subscribes like any other consumer (so a networked store writer on another node
would be the same loop) and persists, oldest first:

- ``alerts.*``: alert events (``store.add_alert_events``, audited in the same
  transaction; overflow ``block``: never dropped). ``acknowledged`` events are skipped
  here: :meth:`Runtime.acknowledge` writes them itself before it answers, so an
  acknowledgement is on disk when the operator is told it is done;
- ``cap.*``: CAP messages, as XML files under ``DATA/cap/`` and an audit entry each
  (``block``);
- ``tracks.*``: track rows (``store.add_tracks``, with their releasability in the
  ``access`` column; ``drop_oldest``: under overload the history loses rows, counted,
  never the live picture). History is thinned: a track's row is kept when
  ``history_every_s`` (clock time) has passed since its last kept row, or when its
  status changes (confirmed, coasting, deleted), so a thousand tracks updated five
  times a second cost a thousand rows a second, not five thousand.

A failed write is counted (``skywarden_store_write_errors``) and reported once per kind,
and the loop goes on: a full disk must not stop the picture.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec

from ..bus import Bus, Delivery
from ..errors import SkywardenError
from ..records import AlertEvent, TrackUpdate
from ..store import SqliteStore
from .metrics import Metrics

__all__ = ["CapPublished", "StoreWriter"]

log = logging.getLogger("skywarden.live")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class CapPublished(msgspec.Struct, frozen=True):
    """A CAP message on ``cap.<nation>``: ``message`` is the warn stage's CapMessage."""

    message: Any


class StoreWriter:
    """Drains the writer's subscriptions into the store (module docstring)."""

    def __init__(
        self, bus: Bus, store: SqliteStore, cap_dir: Path, metrics: Metrics, *,
        track_queue: int, alert_queue: int, poll_s: float, history_every_s: float = 1.0,
    ) -> None:
        self.store = store
        self.cap_dir = Path(cap_dir)
        self.metrics = metrics
        self.poll_s = poll_s
        self.history_every_s = history_every_s
        self._kept: dict[str, tuple[float, str]] = {}  # track -> (time, status) last kept
        self.alerts = bus.subscribe("alerts.*", overflow="block", maxsize=alert_queue)
        self.cap = bus.subscribe("cap.*", overflow="block", maxsize=alert_queue)
        self.tracks = bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=track_queue)
        self.lock = threading.Lock()  # one writing pass at a time (thread or caller)
        self.written = {"alerts": 0, "cap": 0, "tracks": 0}
        self._reported: set[str] = set()

    def write_pending(self) -> int:
        """Write everything queued now; returns the records written. Safe to call from
        any thread (the writer thread, or a caller that needs order, as acknowledge)."""
        with self.lock:
            n = self._alerts(self.alerts.drain())
            n += self._cap(self.cap.drain())
            n += self._tracks(self.tracks.drain())
        return n

    def run(self, stop: threading.Event) -> None:
        """The thread's loop: wait for track rows (the most frequent message), write."""
        while not stop.is_set():
            try:
                first = self.tracks.get_blocking(self.poll_s)
            except TimeoutError:
                first = None
            except SkywardenError:  # the bus closed
                first = None
                stop.wait(self.poll_s)
            with self.lock:
                self._alerts(self.alerts.drain())
                self._cap(self.cap.drain())
                self._tracks(([first] if first is not None else []) + self.tracks.drain())
        self.write_pending()

    # -- kinds ---------------------------------------------------------------------------

    def _failed(self, what: str, exc: Exception) -> None:
        self.metrics.store_errors.labels(what).inc()
        if what not in self._reported:
            self._reported.add(what)
            log.error("store: writing %s failed: %s (counted; further failures of this "
                      "kind are only counted)", what, exc)

    def _alerts(self, got: list[Delivery]) -> int:
        events = [d.message for d in got if isinstance(d.message, AlertEvent)
                  and d.message.event != "acknowledged"]
        if not events:
            return 0
        try:
            self.store.add_alert_events(events)
        except (SkywardenError, OSError) as exc:
            self._failed("alerts", exc)
            return 0
        self.written["alerts"] += len(events)
        return len(events)

    def _cap(self, got: list[Delivery]) -> int:
        n = 0
        for d in got:
            msg = getattr(d.message, "message", None)
            if msg is None:
                continue
            try:
                folder = self.cap_dir / _SAFE.sub("_", msg.nation)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{_SAFE.sub('_', msg.identifier)}.xml"
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(msg.xml)
                tmp.replace(path)
                self.store.audit("system", f"cap.{msg.msg_type.lower()}", msg.alert_id, {
                    "identifier": msg.identifier, "nation": msg.nation, "sent": msg.sent,
                    "status": msg.status, "references": list(msg.references),
                    "file": str(path.relative_to(self.cap_dir)),
                }, at=msg.time)
            except (SkywardenError, OSError) as exc:
                self._failed("cap", exc)
                continue
            n += 1
        self.written["cap"] += n
        return n

    def _tracks(self, got: list[Delivery]) -> int:
        groups: dict[str | None, list[TrackUpdate]] = defaultdict(list)
        kept, every = self._kept, self.history_every_s
        for d in got:
            rows = d.message if isinstance(d.message, list | tuple) else [d.message]
            for u in rows:
                if not isinstance(u, TrackUpdate):
                    continue
                last = kept.get(u.track)
                if last is not None and u.time - last[0] < every and u.status == last[1]:
                    continue
                if u.status == "deleted":
                    kept.pop(u.track, None)
                else:
                    kept[u.track] = (u.time, u.status)
                groups[u.releasability].append(u)
        n = 0
        for rel, rows in groups.items():
            try:
                n += self.store.add_tracks(
                    rows, access={"releasability": rel} if rel is not None else None)
            except (SkywardenError, OSError) as exc:
                self._failed("tracks", exc)
        self.written["tracks"] += n
        return n

    def close(self) -> None:
        for sub in (self.alerts, self.cap, self.tracks):
            sub.close()
