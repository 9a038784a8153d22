"""The pipeline worker: one thread that owns the tracker and runs it on a short tick.

Each tick (``tick_s`` of wall time):

1. take every detection message queued on ``det.>`` (drop-oldest queue: under overload
   the oldest detections go, counted by the bus);
2. drop what is too late (see :mod:`.settings`), counted;
3. ``Pipeline.step(batch, clock.now())``: the tracker and the picture; every
   ``assess_period`` the pipeline also starts an assessment cycle, which the
   :mod:`.warning` worker runs on its own thread;
4. keep the newest row per track, mark it (releasability: folded from every row the
   tracker emitted, by :class:`.release.ReleasabilityTap`; next entry) and publish the
   tick's changed rows as one ``list[TrackUpdate]`` per nation on ``tracks.<nation>``;
5. observe ingest-to-publish latency for the batches whose detections were processed.

The warning worker publishes alert events (marked here, :meth:`mark_event`) on
``alerts.<nation>`` and CAP messages on ``cap.<nation>``: queues that never drop, so a
full one makes the publisher wait.

The tracker is not thread-safe; the worker holds :attr:`lock` while it steps it. The
live picture is swapped in whole at the end of a tick (an immutable list), so readers
never take the lock.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from ..bus import Bus, BusFullError, subjects
from ..clock import Clock
from ..pipeline import Pipeline
from ..records import AlertEvent, DetectionBatch, NextEntry, TrackUpdate
from ..track.output import DELETED, TrackBatch
from . import batches
from .entries import EntryWatch
from .marks import NO_NATION, marked_updates, newest_rows
from .metrics import Metrics
from .release import Releasability
from .settings import RuntimeSettings
from .writer import CapPublished

__all__ = ["PipelineWorker"]

log = logging.getLogger("skywarden.live")
_NATION = re.compile(r"[A-Z]{3}")
# Sensor types whose reports are late by nature (a person reports minutes after seeing):
# never dropped as late; the tracker takes them as out-of-sequence updates.
DELAYED_TYPES = ("visual_report",)


class PipelineWorker:
    """Owns the pipeline and its tick (module docstring)."""

    def __init__(
        self, pipeline: Pipeline, borders: Any, bus: Bus, clock: Clock,
        settings: RuntimeSettings, metrics: Metrics, alert_marks: dict[str, str],
    ) -> None:
        self.pipeline = pipeline
        self.bus = bus
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.lock = threading.RLock()
        self.detections = bus.subscribe("det.>", overflow="drop_oldest",
                                        maxsize=settings.detection_queue)
        registry = pipeline.registry
        self.release = Releasability(registry)
        self.prefix = pipeline.tracker.config.id_prefix
        self.delayed = np.array([s.type in DELAYED_TYPES for s in registry], dtype=bool)
        self.borders = borders
        self.alert_marks = alert_marks  # alert id -> releasability of its latest event
        # next predicted entries by track id, from the latest assessment: the warning
        # worker's newest dict (it swaps in a new one each cycle)
        self.entries_of: Callable[[], dict[str, NextEntry]] = dict
        # entries into nations and zones between assessment cycles (None: not watched)
        self.entries: EntryWatch | None = None
        self._live: dict[str, TrackUpdate] = {}
        self.picture: tuple[float, list[TrackUpdate]] = (math.nan, [])
        self.sensor_seen: dict[str, float] = {}
        self._pending: list[tuple[float, float]] = []  # (newest detection time, received)
        self.ticks = 0
        self.lag = pipeline.tracker.config.reorder_lag
        self._released = -math.inf  # time up to which the tracker has taken detections

    # -- the tick ------------------------------------------------------------------------

    def tick(self) -> None:
        """One tick (module docstring). Called by :meth:`run`, or by tests directly."""
        began = time.monotonic()
        got = self.detections.drain()
        parts = []
        for d in got:
            msg = d.message
            batch = msg.batch  # type: ignore[union-attr]
            if len(batch):
                parts.append(batch)
                self._pending.append((float(batch.time.max()), msg.received))  # type: ignore[union-attr]
        batch = batches.concat(parts)
        with self.lock:
            now = self.clock.now()
            batch = self._drop_late(batch)
            if batch is not None:
                self._note_sensors(batch)
            out = self.pipeline.step(batch, now)
            self._released = max(self._released, now - self.lag)
            rows = newest_rows(out.tracks)
            below = self._nation_below(rows)
            entered = (self.entries.entered(rows, below, rows.status == DELETED)
                       if self.entries is not None and len(rows) else [])
            if entered and self.pipeline.assess_now(out.tracks, only=entered) is not None:
                self.metrics.early_cycles.inc()
            updates = marked_updates(rows, self.release.of_serials(rows.serial),
                                     self.entries_of())
            done_until = self._released
            self._update_picture(rows, updates, now)
        self._publish_tracks(updates, below)
        finished = time.monotonic()
        if self._pending:
            keep = []
            for newest, received in self._pending:
                if newest <= done_until:
                    self.metrics.latency.observe(finished - received)
                else:
                    keep.append((newest, received))
            self._pending = keep
        self.metrics.live_tracks.set(len(self._live))
        self.metrics.tick.observe(finished - began)
        self.ticks += 1

    def run(self, stop: threading.Event) -> None:
        """The thread's loop: a tick every ``tick_s`` of wall time until ``stop``. The
        tracker's compiled kernels are made ready first (track/warm.py), so the first
        tick of live data does not pay for compiling them."""
        from ..track.warm import warm_kernels

        log.info("tracker kernels ready in %.1f s", warm_kernels())
        period = self.settings.tick_s
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # keep the picture alive; the error is logged with its trace
                log.exception("pipeline tick failed")
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # overloaded: start the next tick now, do not pile up
                next_at = time.monotonic()
                delay = 0.0
            stop.wait(delay)

    # -- pieces --------------------------------------------------------------------------

    def _drop_late(self, batch: DetectionBatch | None) -> DetectionBatch | None:
        if batch is None:
            return None
        # Everything up to the last tick's horizon has left the tracker's reorder buffer;
        # a detection older than that is late. (The tracker's own processed_until runs
        # to the end of its current window, ahead of this: not the line for lateness.)
        horizon = self._released
        if not math.isfinite(horizon):
            return batch
        late = batch.time < horizon
        if not late.any():
            return batch
        drop = late & (batch.time < horizon - self.settings.max_late_s) & \
            ~self.delayed[batch.sensor]
        n_drop, n_late = int(drop.sum()), int(late.sum())
        if n_drop:
            self.metrics.late.labels("dropped").inc(n_drop)
            self.metrics.rejected.labels("late").inc(n_drop)
        if n_late - n_drop:
            self.metrics.late.labels("out_of_sequence").inc(n_late - n_drop)
        return batches.take(batch, np.flatnonzero(~drop)) if n_drop else batch

    def _note_sensors(self, batch: DetectionBatch) -> None:
        newest = np.full(len(batch.sensor_ids), -np.inf)
        np.maximum.at(newest, batch.sensor, batch.time)
        for i in np.flatnonzero(np.isfinite(newest)).tolist():
            name = batch.sensor_ids[i]
            if newest[i] > self.sensor_seen.get(name, -math.inf):
                self.sensor_seen[name] = float(newest[i])

    def _mark_event(self, e: AlertEvent) -> AlertEvent:
        rel = None
        if e.track and e.track.startswith(self.prefix):
            tail = e.track[len(self.prefix):]
            if tail.isdigit():  # None once the track has ended: the alert's last mark
                rel = self.release.mark_of(int(tail))
        elif e.sensor:
            rel = self.release.of_sensor(e.sensor)
        if rel is None:
            rel = self.alert_marks.get(e.alert, "allies")
        if e.event == "ended":
            self.alert_marks.pop(e.alert, None)
        else:
            self.alert_marks[e.alert] = rel
        return msgspec.structs.replace(e, releasability=rel)

    def mark_event(self, e: AlertEvent) -> AlertEvent:
        """An event with its releasability: its track's (read from the tracking state;
        a mark a tick old at worst), its sensor's, or its alert's last one. Called by
        whoever holds the engine lock (the warning worker, acknowledge)."""
        return self._mark_event(e)

    def publish_warnings(self, events: list[AlertEvent], cap: list[Any]) -> None:
        """Mark and publish one warning cycle's events and CAP messages (never dropped)."""
        for e in events:
            self.publish_alert(self._mark_event(e))
        for m in cap:
            self._publish_blocking(f"cap.{subjects.safe_token(m.nation)}", CapPublished(m))

    def _update_picture(self, rows: TrackBatch, updates: list[TrackUpdate], now: float) -> None:
        if updates:
            ended = rows.status == DELETED
            for u, gone in zip(updates, ended.tolist(), strict=True):
                if gone:
                    self._live.pop(u.track, None)
                else:
                    self._live[u.track] = u
            if ended.any():
                self.release.forget(rows.serial[ended])
        self.picture = (now, list(self._live.values()))

    def _nation_below(self, rows: TrackBatch) -> np.ndarray:
        """The nation below each row ('' at sea or without borders), looked up once a
        tick for both its users: the entry watch and the subjects rows are published on."""
        if self.borders is None:
            return np.full(len(rows), "", dtype="<U3")
        return self.borders.nation_at(rows.lat, rows.lon)

    def _publish_tracks(self, updates: list[TrackUpdate], below: np.ndarray) -> None:
        if not updates:
            return
        groups: dict[str, list[TrackUpdate]] = defaultdict(list)
        for u, nation in zip(updates, below.tolist(), strict=True):
            groups[nation or NO_NATION].append(u)
        for nation, group in groups.items():
            self.bus.publish(subjects.tracks(nation), group)

    def publish_alert(self, e: AlertEvent) -> None:
        """Publish an alert event on ``alerts.<nation>`` (``XXX`` when its nation is not a
        code, as for a zone over the sea with no owner); never dropped (waits for room)."""
        nation = e.nation if _NATION.fullmatch(e.nation or "") else NO_NATION
        self._publish_blocking(subjects.alerts(nation), e)

    def _publish_blocking(self, subject: str, message: object) -> None:
        while True:
            try:
                self.bus.publish(subject, message)  # type: ignore[arg-type]
                return
            except BusFullError as exc:
                # Nothing was delivered (all or nothing): try again; a consumer is behind.
                self.metrics.alert_stalls.inc()
                log.warning("%s; waiting for room (alerts are never dropped)", exc)
