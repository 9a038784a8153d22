"""The live stream: one fan-out task on the bus, one bounded mailbox per client.

The :class:`Hub` is the only subscriber for clients: ``tracks.*`` (drop-oldest, as the
bus states for positions) and ``alerts.*`` (block: never dropped). For each message it
files into every client's :class:`Mailbox` what that client may see (releasability for
its nation, inside its box) and wakes the client's writer, which sends:

- alert events first, each as it came (``{"type": "alert", "event": ...}``), never
  dropped: a client that falls ``stream_alert_backlog`` events behind is closed (1013)
  so it reloads ``/api/v1/alerts`` rather than miss one silently; an open alert the
  client was sent that stops being releasable to it is withdrawn
  (``{"type": "alert_withdrawn", "alert", "time"}``), without its content;
- then one ``{"type": "tracks", "time", "tracks", "ended"}`` with every row changed
  since its last message. A client slower than the ticks receives the newest row per
  track: the stale rows of the ticks it missed are merged away, counted in
  ``skywarden_stream_dropped_total{type="tracks"}``. Its picture stays whole because a
  mailbox holds at most one row per track.

``ended`` lists tracks the client was shown that it must remove: deleted, moved out of
its box, or no longer releasable to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from ..records import AlertEvent, TrackUpdate
from .auth import may_see
from .metrics import ApiMetrics
from .query import BBox, in_bbox

__all__ = ["Hub", "Mailbox", "split"]

_encoder = msgspec.json.Encoder()
# Most track rows in one "tracks" message; a tick with more is sent as several (see
# Mailbox.take_tracks).
ROWS_PER_MESSAGE = 1000
log = logging.getLogger("skywarden.api")


class Shared:
    """A tick's rows for one group of clients (same nation and box). Each row is encoded
    once per tick, however many clients and groups send it (``cache``, shared by the
    groups of one tick): encoding each client's copy was the stream's largest cost."""

    __slots__ = ("cache", "rows")

    def __init__(self, rows: list[TrackUpdate], cache: dict[int, bytes] | None = None
                 ) -> None:
        self.rows = rows
        self.cache = {} if cache is None else cache

    def encoded(self) -> list[tuple[str, bytes]]:
        """(track id, the row's JSON) for every row."""
        cache = self.cache
        out = []
        for r in self.rows:
            b = cache.get(id(r))
            if b is None:
                b = cache[id(r)] = _encoder.encode(r)
            out.append((r.track, b))
        return out


class Mailbox:
    """What one client has been shown and what waits to be sent to it."""

    def __init__(self, nation: str | None, bbox: BBox | None, alert_backlog: int) -> None:
        self.nation = nation
        self.bbox = bbox
        self.token = ""  # the client's token id (its rate limit)
        self.shown: set[str] = set()
        self.rows: dict[str, bytes] = {}  # track id -> its newest row, as JSON
        self.ended: set[str] = set()
        self.alerts: deque[bytes] = deque()
        self.alerts_shown: set[str] = set()  # open alerts this client was sent
        self.alert_backlog = alert_backlog
        self.overflowed = False
        self.tick: float | None = None  # the time of the tick waiting, if any
        self.dropped = 0
        self.wake = asyncio.Event()

    def file_rows(self, rows: Iterable[TrackUpdate], tick: float,
                  seen: Callable[[str | None], bool]) -> bool:
        """File a tick's rows; True when something changed for this client."""
        keep, drop = split(rows, self.bbox, seen)
        return self.file_split(Shared(keep), drop, tick)

    def file_split(self, shared: Shared, drop: list[str], tick: float) -> bool:
        """File rows already split (:func:`split`) for this client's nation and box."""
        keep = shared.encoded()
        waiting = bool(self.rows or self.ended)
        if self.tick is not None and tick > self.tick and waiting:
            self.dropped += 1  # an unsent earlier tick is merged into this one
        changed = bool(keep)
        if keep:
            self.rows.update(keep)
            ids = [tid for tid, _ in keep]
            self.shown.update(ids)
            self.ended.difference_update(ids)
        for tid in drop:
            if tid in self.shown:
                self.shown.discard(tid)
                self.rows.pop(tid, None)
                self.ended.add(tid)
                changed = True
        if changed:
            self.tick = tick if self.tick is None else max(self.tick, tick)
            self.wake.set()
        return changed

    def refile(self, picture: list[TrackUpdate], now: float) -> None:
        """After a box change: the whole visible picture, and ``ended`` for the rest."""
        keep = {r.track for r in picture if may_see(r.releasability, self.nation)
                and in_bbox(r.lat, r.lon, self.bbox)}
        for tid in self.shown - keep:
            self.ended.add(tid)
            self.rows.pop(tid, None)
        self.shown &= keep
        self.file_rows(picture, now, lambda rel: may_see(rel, self.nation))
        self.wake.set()

    def file_alert(self, message: bytes) -> None:
        self.alerts.append(message)
        if len(self.alerts) > self.alert_backlog:
            self.overflowed = True
        self.wake.set()

    def take_tracks(self, now: float) -> bytes | None:
        """What waits, as "tracks" messages, one JSON document a line (JSON itself never
        holds a raw newline); None when nothing waits."""
        if not self.rows and not self.ended:
            return None
        t = _encoder.encode(self.tick if self.tick is not None else now)
        rows = list(self.rows.values())
        # A large picture goes out as several messages of one tick (same time; the ended
        # ids in the last): a browser parses each message in one go on its main thread,
        # and a megabyte of JSON at once is a frame the map cannot draw.
        parts = [rows[k:k + ROWS_PER_MESSAGE]
                 for k in range(0, len(rows), ROWS_PER_MESSAGE)] or [[]]
        ended = _encoder.encode(sorted(self.ended))
        body = b"".join(
            b'{"type":"tracks","time":%s,"tracks":[%s],"ended":%s}' % (
                t, b",".join(part), ended if k == len(parts) - 1 else b"[]") + b"\n"
            for k, part in enumerate(parts))
        self.rows = {}
        self.ended = set()
        self.tick = None
        return body[:-1]


class Hub:
    """The fan-out task: bus in, mailboxes out (see the module docstring)."""

    def __init__(self, bus: Any, metrics: ApiMetrics, clock: Any, *, queue: int = 256
                 ) -> None:
        self.bus = bus
        self.metrics = metrics
        self.clock = clock
        self.queue = queue
        self.clients: set[Mailbox] = set()
        self._task: asyncio.Task[None] | None = None
        self._subs: list[Any] = []

    def start(self) -> None:
        self._subs = [
            self.bus.subscribe("alerts.*", overflow="block", maxsize=4 * self.queue),
            self.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=self.queue),
        ]
        self._task = asyncio.get_running_loop().create_task(self._run(), name="stream-hub")

    async def stop(self) -> None:
        for sub in self._subs:
            sub.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        alerts, tracks = self._subs
        pending: dict[asyncio.Task[Any], Any] = {}
        try:
            while True:
                for sub in (alerts, tracks):
                    if sub not in pending.values():
                        pending[asyncio.ensure_future(sub.get())] = sub
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                got: dict[Any, list[Any]] = {alerts: [], tracks: []}
                for fut in done:
                    sub = pending.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        return  # the bus or subscription closed
                    got[sub].append(fut.result())
                # Take everything queued now: alerts first, ticks merged per client.
                got[alerts].extend(alerts.drain())
                got[tracks].extend(tracks.drain())
                try:
                    for d in got[alerts]:
                        self.file_alert(d.message)
                    for d in got[tracks]:
                        self.file_tracks(d.message)
                except Exception:  # one bad message must not end every client's stream
                    log.exception("stream fan-out: a message could not be filed")
        finally:
            for fut in pending:
                fut.cancel()

    def file_alert(self, event: Any) -> None:
        if not isinstance(event, AlertEvent):
            return
        message: bytes | None = None
        for box in self.clients:
            if may_see(event.releasability, box.nation):
                if message is None:
                    message = _encoder.encode({"type": "alert", "event": event})
                box.file_alert(message)
                if event.event == "ended":
                    box.alerts_shown.discard(event.alert)
                else:
                    box.alerts_shown.add(event.alert)
            elif event.alert in box.alerts_shown:
                # The alert's releasability has narrowed (its track took in data of a
                # sensor this nation may not see): say it is gone, without its content.
                box.alerts_shown.discard(event.alert)
                box.file_alert(_encoder.encode(
                    {"type": "alert_withdrawn", "alert": event.alert, "time": event.time}))

    def file_tracks(self, rows: Any) -> None:
        if isinstance(rows, TrackUpdate):
            rows = [rows]
        if not rows:
            return
        tick = max(r.time for r in rows)
        # Clients of one nation and box see the same rows: split once per such group;
        # every row is encoded once for all groups.
        cache: dict[int, bytes] = {}
        groups: dict[tuple[str | None, BBox | None], tuple[Shared, list[str]]] = {}
        for box in self.clients:
            key = (box.nation, box.bbox)
            parts = groups.get(key)
            if parts is None:
                keep, drop = split(rows, box.bbox, _cached_may_see(box.nation))
                parts = groups[key] = (Shared(keep, cache), drop)
            before = box.dropped
            box.file_split(parts[0], parts[1], tick)
            if box.dropped != before:
                self.metrics.stream_dropped.labels("tracks").inc(box.dropped - before)


def split(rows: Iterable[TrackUpdate], bbox: BBox | None, seen: Callable[[str | None], bool]
          ) -> tuple[list[TrackUpdate], list[str]]:
    """(rows to show, ids of rows not to show) for one nation (``seen``) and box."""
    keep: list[TrackUpdate] = []
    drop: list[str] = []
    for r in rows:
        if r.status != "deleted" and seen(r.releasability) and in_bbox(r.lat, r.lon, bbox):
            keep.append(r)
        else:
            drop.append(r.track)
    return keep, drop


def _cached_may_see(nation: str | None) -> Callable[[str | None], bool]:
    memo: dict[str | None, bool] = {}

    def seen(rel: str | None) -> bool:
        ok = memo.get(rel)
        if ok is None:
            ok = memo[rel] = may_see(rel, nation)
        return ok

    return seen
