"""The live service in one process: clock, bus, store and pipeline, wired top to bottom.

    runtime = Runtime(registry, RuntimeSettings(data_dir=Path("skywarden-data")))
    runtime.start()                        # worker, store writer, retention threads
    runtime.ingest(batch, source="api")    # from any thread; never blocks
    runtime.picture()                      # live rows, marked (lock-free)
    runtime.acknowledge("T1-4:POL:1", by="POL-ops", note="seen")
    runtime.close()                        # flush, close the store

Data flows through the bus, so a networked bus can replace the in-process one without
touching the stages: ``ingest`` publishes detections on ``det.<cell>``; the pipeline
worker (:mod:`.worker`) consumes them, steps the pipeline on a short tick and publishes
track rows on ``tracks.<nation>`` and alert events on ``alerts.<nation>``; the store
writer (:mod:`.writer`) consumes those into SQLite. The API subscribes to the same
subjects for its WebSockets.

Threads and asyncio (the API runs an event loop in the main thread):

- ``ingest``, ``picture``, ``sensors``, ``metrics`` and ``time_info`` never block and
  may be called from the event loop;
- ``acknowledge``, ``add_restriction``, ``end_restriction`` and ``cap_feed`` write to
  disk and may wait up to one tick for the pipeline: call them with
  ``await asyncio.to_thread(runtime.acknowledge, ...)``;
- restrictions made or ended by another process on the same store (``skywarden zones
  add|end --data DIR``) are taken up by :meth:`Runtime.poll_restrictions`, which the
  retention thread runs every ``RESTRICTION_POLL_S`` (2 s);
- ``runtime.store`` reads are safe from any thread (one reader connection per thread);
  call them through ``asyncio.to_thread`` too, as the store's docstring says.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..airspace.geojson import feature_to_zone, zone_to_feature
from ..airspace.load import load_shipped_zones
from ..airspace.zones import Zone
from ..airspace.zoneset import ZoneSet
from ..bus import LocalBus, subjects
from ..clock import Clock, SimClock, WallClock
from ..errors import RecordError
from ..pipeline import Pipeline, default_engine
from ..records import AlertEvent, Detection, DetectionBatch, TrackUpdate
from ..sensors import SensorRegistry
from ..store import SqliteStore, StoredRestriction, StoreError
from ..track.config import DEFAULT_SCAN_PERIOD, TrackerConfig
from ..warn.alerts import UnknownAlertError
from ..warn.cap import cap_feed
from . import batches
from .entries import EntryWatch
from .errors import AlertEndedError
from .metrics import Metrics
from .release import ReleasabilityTap, visible
from .restore import next_run, restore_alerts, restore_cap_threads
from .restrictions import end_restriction, make_restriction
from .settings import RuntimeSettings
from .warning import DeferredAssessor, DeferredEngine, WarningWorker
from .worker import PipelineWorker
from .writer import StoreWriter

__all__ = ["Runtime"]

log = logging.getLogger("skywarden.live")
# A sensor whose silence is a fault (it reports every scan whether or not anything flies).
WATCHED_TYPES = ("radar",)
SILENCE_FACTOR = 3.0
QUIET_S = 300.0  # other sensors: "up" when heard this recently, else "unknown"
# How often (seconds of real time) the store is asked whether another process (``skywarden
# zones add|end``) made or ended a restriction.
RESTRICTION_POLL_S = 2.0


class Runtime:
    """The live pipeline, its bus, store and threads (module docstring).

    ``clock``: where "now" comes from (default the wall clock; a ``SimClock`` for a
    demo, a ``ManualClock`` in tests, where :meth:`tick` and :meth:`flush` drive the
    threads' work by hand). ``zones``: the standing zones (default the shipped ones); the
    restrictions in force are added to them. ``assessor``: default one on the shipped
    borders; whichever it is, its zones are set here. ``demo``: the demo scenario's
    name, for ``/api/v1/time``.
    """

    def __init__(
        self,
        registry: SensorRegistry,
        settings: RuntimeSettings | None = None,
        *,
        clock: Clock | None = None,
        tracker_config: TrackerConfig | None = None,
        assessor: Any = None,
        zones: Sequence[Zone] | None = None,
        demo: str | None = None,
    ) -> None:
        self.settings = settings = settings or RuntimeSettings()
        self.registry = registry
        self.clock: Clock = clock or WallClock()
        self.demo = demo
        self.feeds: list[Any] = []
        self.outputs: Any = None
        self.data_dir = Path(settings.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = SqliteStore(settings.db_path, clock=self.clock)
        self._zones_lock = threading.Lock()
        self._zones_version: tuple[int, int, float, float] | None = None
        try:
            self._shipped: tuple[Zone, ...] = tuple(
                load_shipped_zones() if zones is None else zones)
            self._build(registry, tracker_config, assessor)
        except BaseException:
            self.store.close()
            raise

    def _build(self, registry: SensorRegistry, tracker_config: TrackerConfig | None,
               assessor: Any) -> None:
        settings = self.settings
        self.run = next_run(self.data_dir)
        base = tracker_config or TrackerConfig()
        # Tentative rows are emitted so that their sensors count for releasability; the
        # tap below hides them from the pipeline again unless they were asked for.
        config = replace(base, reorder_lag=settings.reorder_lag, id_prefix=f"T{self.run}-",
                         emit_tentative=True)
        self._zones_version = self._restrictions_version()  # the zones set next
        if assessor is None:
            from ..assess import Assessor

            assessor = Assessor(zones=self._zoneset())
        elif hasattr(assessor, "set_zones"):
            assessor.set_zones(self._zoneset())
        self.assessor = assessor
        # The pipeline decides when to assess and with what; the warning worker does it
        # on its own thread (see .warning): these two stand in for assessor and engine.
        deferred = DeferredAssessor(assessor)
        self.engine = engine = default_engine(cap_status=settings.cap_status,
                                              sender=settings.sender)
        self.pipeline = Pipeline(
            registry, tracker_config=config, assessor=deferred,
            engine=DeferredEngine(engine, deferred, lambda job: self.warner.submit(job)),  # type: ignore[arg-type]
            assess_period=settings.assess_period)
        self.bus = LocalBus(block_timeout=1.0)
        self.metrics = Metrics(self.bus)
        now = self.clock.now()
        alert_marks: dict[str, str] = {}
        restored, marks, problems = restore_alerts(
            engine.state, self.store.open_alerts(), now, self._periods())
        alert_marks.update(marks)
        for serial in self._sensor_alert_ids():
            engine.state.note_serial(serial)
        cap_threads = 0
        if engine.cap is not None:
            cap_threads, cap_problems = restore_cap_threads(
                engine.cap, self.data_dir / "cap", self.store.open_alerts())
            problems += cap_problems
        for p in problems:
            log.warning("restart: %s (left as stored)", p)
        self.worker = PipelineWorker(self.pipeline, getattr(assessor, "borders", None),
                                     self.bus, self.clock, settings, self.metrics,
                                     alert_marks)
        self.pipeline.tracker = ReleasabilityTap(  # type: ignore[assignment]
            self.pipeline.tracker, self.worker.release, hide_tentative=not base.emit_tentative)
        self.warner = WarningWorker(assessor, engine, self.pipeline.not_warned,
                                    self.worker.publish_warnings, self.metrics)
        self.worker.entries_of = lambda: self.warner.entries
        # An incursion or a restriction violation is warned as soon as it is tracked,
        # not at the next assessment period (see .entries).
        self.worker.entries = EntryWatch(lambda: getattr(assessor, "zones", None))
        self.writer = StoreWriter(
            self.bus, self.store, self.data_dir / "cap", self.metrics,
            track_queue=settings.track_queue, alert_queue=settings.alert_queue,
            poll_s=settings.writer_poll_s, history_every_s=settings.history_every_s)
        self._sectors = batches.Sectors(registry)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._last_prune = -math.inf
        self.restored_alerts = restored
        self.store.audit("system", "service.started", None, {
            "run": self.run, "reorder_lag": settings.reorder_lag, "tick_s": settings.tick_s,
            "restored_alerts": restored, "restored_cap_threads": cap_threads,
            "restrictions": len(self.store.restrictions()),
            "demo": self.demo, "sensors": len(registry),
        })

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the pipeline, warning, store writer and retention threads (the warning
        thread first prepares the assessor, a second or two, while tracking runs)."""
        if self._threads:
            return
        for name, target in (("skywarden-pipeline", self.worker.run),
                             ("skywarden-warning", self.warner.run),
                             ("skywarden-store", self.writer.run),
                             ("skywarden-retention", self._retention_loop)):
            t = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def tick(self) -> None:
        """One pipeline tick now, and (threads not started) the restriction poll and the
        warning cycle it started: what the threads do, by hand, for tests and tools."""
        if not self._threads:
            self.poll_restrictions()
        self.worker.tick()
        if not self._threads:
            self.warner.run_pending()

    @property
    def last_assessment(self) -> Any:
        """The newest assessment (warn/input.py ``Assessment``), None before the first."""
        return self.warner.last

    def flush(self) -> int:
        """Write everything queued for the store now; returns the records written."""
        return self.writer.write_pending()

    def close(self) -> None:
        """Stop the threads, write what is queued, close the store (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10.0)
        self.warner.run_pending()
        self.writer.write_pending()
        self.pipeline.close()
        try:
            self.store.audit("system", "service.stopped", None, {
                "run": self.run, "written": dict(self.writer.written)})
        finally:
            self.writer.close()
            self.bus.close()
            self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data in ---------------------------------------------------------------------------

    def ingest(self, batch: DetectionBatch, source: str) -> None:
        """Take validated detections from ``source`` (a feed name, an organisation): they
        are published on ``det.<cell>`` and tracked at the next tick. A sensor the
        registry does not hold is a :class:`RecordError` (counted, nothing taken)."""
        try:
            batch = batches.to_registry(batch, self.registry)
        except RecordError:
            self.metrics.rejected.labels("unknown sensor").inc(len(batch))
            raise
        if not len(batch):
            return
        now = self.clock.now()
        ahead = np.flatnonzero(batch.time > now + self.settings.max_ahead_s)
        if ahead.size:
            # A sensor clock far ahead would hold its plots in the reorder buffer until
            # the service's clock caught up: refuse them, named, instead.
            self.metrics.rejected.labels("time ahead of the clock").inc(len(batch))
            i = int(ahead[0])
            raise RecordError(
                f"detection {i}: field time: {batch.time[i] - now:,.0f} s ahead of the "
                f"service's clock (more than {self.settings.max_ahead_s:g} s: check the "
                "sensor's clock and that times are seconds, not milliseconds); nothing of "
                "the batch was taken")
        self.metrics.ingested.labels(source).inc(len(batch))
        received = time.monotonic()
        for cell, part in batches.by_sector(batch, self._sectors):
            self.bus.publish(subjects.detections(cell),
                             batches.DetectionsMessage(part, source, received))

    def ingest_records(self, detections: list[Detection], source: str) -> None:
        """:meth:`ingest` for Detection records (each ``check()``-ed by the caller)."""
        if detections:
            self.ingest(DetectionBatch.from_records(detections, self.registry.ids), source)

    def attach_feeds(self, feeds: Sequence[Any]) -> None:
        """Feeds (:mod:`.feeds`) started beside the runtime: served on ``/metrics`` and
        ``/api/v1/feeds``; the caller starts and stops them."""
        self.feeds = list(feeds)
        self.metrics.attached.feeds = self.feeds

    def attach_outputs(self, publisher: Any) -> None:
        """The outputs' publisher (:mod:`skywarden.publish`), for metrics and the API."""
        self.outputs = publisher
        self.metrics.attached.outputs = publisher

    def feed_stats(self) -> list[dict[str, Any]]:
        return [f.stats() for f in self.feeds]

    def output_stats(self) -> dict[str, Any]:
        return self.outputs.stats() if self.outputs is not None else {}

    def count_rejected(self, reason: str, n: int = 1) -> None:
        """Count detections refused before ingest (bad lines, fields), by reason."""
        self.metrics.rejected.labels(reason).inc(n)

    # -- the picture -----------------------------------------------------------------------

    def picture(self) -> list[TrackUpdate]:
        """The live rows (newest per track, marked) as of the last tick. Lock-free."""
        return self.worker.picture[1]

    def picture_time(self) -> float:
        """The clock time of the last tick (NaN before the first)."""
        return self.worker.picture[0]

    def time_info(self) -> dict[str, Any]:
        """``{"now", "speed", "demo"}`` for ``/api/v1/time``."""
        speed = self.clock.speed if isinstance(self.clock, SimClock) else 1.0
        return {"now": self.clock.now(), "speed": speed, "demo": self.demo}

    # -- alerts ----------------------------------------------------------------------------

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> AlertEvent:
        """Acknowledge an open alert at its current level. On disk (audited, with ``by``)
        and published when this returns. :class:`UnknownAlertError` for an id never
        seen, :class:`AlertEndedError` for an alert that has ended."""
        with self.warner.engine_lock:
            try:
                event = self.engine.acknowledge(alert_id, by, self.clock.now(), note)
            except UnknownAlertError:
                stored = self.store.alert(alert_id)
                if stored is not None and stored.ended is not None:
                    raise AlertEndedError(alert_id, stored.ended) from None
                raise
            event = self.worker.mark_event(event)
        self.writer.write_pending()  # the alert's earlier events first: order on disk
        self.store.add_alert_events([event])
        self.worker.publish_alert(event)
        return event

    def open_alert_ids(self) -> list[str]:
        """Ids of the alerts open in the warning engine now."""
        with self.warner.engine_lock:
            return list(self.engine.state.alerts)

    # -- restrictions ----------------------------------------------------------------------

    def add_restriction(self, feature: dict[str, Any], by: str, *,
                        owner: str = "") -> StoredRestriction:
        """Make a restriction from an operator's GeoJSON Feature (docs/API.md): checked,
        stored (audited with ``by``) and in force for assessment from the next cycle.
        :class:`RestrictionError` names the field and the reason of a refusal."""
        stored = make_restriction(self.store, feature, by, now=self.clock.now(), owner=owner,
                                  reserved={z.id for z in self._shipped})
        self._apply_zones()
        return stored

    def end_restriction(self, zone_id: str, by: str) -> StoredRestriction:
        """End a restriction in force (audited with ``by``); out of assessment from the
        next cycle. :class:`UnknownRestrictionError` if none is in force with that id."""
        ended = end_restriction(self.store, zone_id, by)
        self._apply_zones()
        return ended

    def poll_restrictions(self) -> bool:
        """Take up restrictions made or ended by another process (``skywarden zones add``
        and ``end`` on this data directory): when the store's restrictions have changed
        since the zones were last set, set them again, as :meth:`add_restriction` does.
        Cheap when nothing changed (one count query). The retention thread calls it every
        ``RESTRICTION_POLL_S``; :meth:`tick` too while the threads are not started.
        Returns whether the zones were set again."""
        try:
            if self._restrictions_version() == self._zones_version:
                return False
        except (sqlite3.Error, StoreError) as exc:
            log.warning("cannot poll the restrictions: %s", exc)
            return False
        log.info("restrictions changed in the store: setting the zones again")
        self._apply_zones()
        return True

    def zones(self) -> list[Zone]:
        """The zones assessed now: the shipped ones and the restrictions in force."""
        return list(self._shipped) + self._restriction_zones()

    def zones_geojson(self) -> dict[str, Any]:
        """:meth:`zones` as a GeoJSON FeatureCollection (``/api/v1/zones``); a
        restriction's properties carry ``"restriction": true``."""
        features = [zone_to_feature(z) for z in self._shipped]
        for f in (zone_to_feature(z) for z in self._restriction_zones()):
            f["properties"]["restriction"] = True
            features.append(f)
        return {"type": "FeatureCollection", "features": features}

    def _restriction_zones(self) -> list[Zone]:
        zones = []
        for r in self.store.restrictions(active_only=True):
            try:
                zones.append(feature_to_zone(r.body))
            except ValueError as exc:  # stored by an older version, say: keep going
                log.error("restriction %s cannot be read back: %s", r.zone, exc)
        return zones

    def _zoneset(self) -> ZoneSet | None:
        zones = self.zones()
        return ZoneSet(zones) if zones else None

    def _apply_zones(self) -> None:
        # One at a time (the API and the poll may both call it), so the zones set last
        # are never older than the version noted with them.
        with self._zones_lock:
            try:
                version = self._restrictions_version()
            except (sqlite3.Error, StoreError) as exc:
                log.warning("cannot read the restrictions' version: %s", exc)
                version = None  # the next poll sets the zones again
            zones = self._zoneset()  # built outside the assess lock: it can take a while
            # So are the zones' parts for the assessment (a second per 1,000 zones), here
            # on the caller's thread rather than in the next warning cycle, which would
            # hold up every alert meanwhile.
            parts_for = getattr(self.assessor, "parts_for", None)
            parts = parts_for(zones) if parts_for is not None and zones is not None else None
            with self.warner.assess_lock:
                set_zones = getattr(self.assessor, "set_zones", None)
                if set_zones is not None:
                    if parts is not None:
                        set_zones(zones, parts)
                    else:
                        set_zones(zones)
            self._zones_version = version

    def _restrictions_version(self) -> tuple[int, int, float, float]:
        return self.store.restrictions_version()

    # -- sensors, CAP ----------------------------------------------------------------------

    def _periods(self) -> dict[str, float]:
        return {s.id: s.scan_period or DEFAULT_SCAN_PERIOD.get(s.type, 10.0)
                for s in self.registry}

    def sensors(self, nation: str | None = None, *, all_sensors: bool = False
                ) -> list[dict[str, Any]]:
        """Sensor health (docs/API.md ``/api/v1/sensors``): only those releasable to
        ``nation`` unless ``all_sensors``. ``status``: a radar is ``down`` when silent
        for more than 3 periods (or under an open sensor-down alert), ``up`` otherwise
        once heard; other sensors are silent whenever nothing flies near them, so they
        are ``up`` when heard in the last 5 minutes and ``unknown`` otherwise. A sensor
        whose feed (site.toml) has lost its receiver is ``down`` whatever it sent
        before, and names the feed."""
        now = self.clock.now()
        periods = self._periods()
        feed_of = self._feed_of_sensor()
        with self.warner.engine_lock:
            down = {a.sensor for a in self.engine.state.alerts.values()
                    if a.kind == "sensor_down"}
        out = []
        for s in self.registry:
            rel = self.worker.release.of_sensor(s.id)
            if not all_sensors and not visible(rel, nation):
                continue
            last = self.worker.sensor_seen.get(s.id)
            period = periods[s.id]
            if s.type in WATCHED_TYPES:
                if s.id in down:
                    status = "down"
                elif last is None:
                    status = "unknown"
                else:
                    status = "up" if now - last <= SILENCE_FACTOR * period else "down"
            else:
                fresh = last is not None and now - last <= max(QUIET_S, SILENCE_FACTOR * period)
                status = "up" if fresh else "unknown"
            row = {"id": s.id, "type": s.type, "owner": s.owner, "lat": s.lat, "lon": s.lon,
                   "period": period, "last_seen": last, "status": status,
                   "releasability": rel}
            feed = feed_of.get(s.id)
            if feed is not None:
                row["feed"] = feed.name
                if not feed.source.stats.connected:
                    row["status"] = "down"
            out.append(row)
        return out

    def _feed_of_sensor(self) -> dict[str, Any]:
        """Sensor id -> the feed its data comes in on (ASTERIX feeds carry every sensor
        with a SAC/SIC)."""
        out: dict[str, Any] = {}
        for f in self.feeds:
            if f.settings.sensor is not None:
                out[f.settings.sensor] = f
            elif f.settings.type == "asterix":
                for s in self.registry:
                    if s.sac is not None:
                        out.setdefault(s.id, f)
        return out

    def cap_feed(self, nation: str) -> bytes:
        """The Atom feed of ``nation``'s current CAP public warnings (CAP 1.2 entries)."""
        issuer = self.engine.cap
        if issuer is None:
            raise RecordError("this runtime issues no CAP messages")
        with self.warner.engine_lock:
            messages = issuer.active(nation)
        return cap_feed(messages, issuer.settings, feed_id=f"urn:skywarden:cap:{nation}",
                        title=f"Skywarden public warnings: {nation}",
                        updated=self.clock.now())

    # -- housekeeping ----------------------------------------------------------------------

    def prune(self) -> Any:
        """Apply the retention settings once now; returns what was removed."""
        r = self.settings.retention
        pruned = self.store.prune(self.clock.now(), track_history_s=r.track_history_s,
                                  events_s=r.events_s, audit_s=r.audit_s)
        self._last_prune = self.clock.now()
        return pruned

    def _retention_loop(self, stop: threading.Event) -> None:
        """Housekeeping: the restriction poll every few seconds, retention when due."""
        while not stop.wait(min(self.settings.retention.every_s, RESTRICTION_POLL_S)):
            try:
                self.poll_restrictions()
            except Exception:  # keep the thread: the next poll tries again
                log.exception("restriction poll failed")
            if self.clock.now() - self._last_prune < self.settings.retention.every_s:
                continue
            try:
                pruned = self.prune()
                log.info("retention: %s", pruned)
            except StoreError as exc:
                log.error("retention failed: %s", exc)

    def _sensor_alert_ids(self) -> list[str]:
        """Ids of every stored sensor-down alert, ended ones included, so new ones never
        reuse an id (track alert ids carry the run number and cannot collide)."""
        try:
            return self.store.alert_ids("sensor_down")
        except StoreError as exc:
            log.warning("restart: cannot read past sensor alert ids: %s", exc)
            return []
